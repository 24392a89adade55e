//! Clusters' VM owners as intervals (`cluster_vm_facts`): the migration of
//! a database whose owners are JSON blobs in `cluster_facts` (every
//! migration before version 6, as the previous release applied them), and
//! the writes after it.

mod store_support;

use hvinv::inventory::{ClusterNode, ClusterSnapshot, VmOwner};
use hvinv::store::{HostOutcome, OpenMode, RunId, Store};
use sqlx::sqlite::{SqliteConnectOptions, SqlitePoolOptions};
use std::path::Path;
use std::time::Duration;
use store_support::*;

const A: &str = "AAAAAAAA-0000-4000-8000-000000000001";
const B: &str = "BBBBBBBB-0000-4000-8000-000000000002";
const E: &str = "EEEEEEEE-0000-4000-8000-000000000003";
const NODES_X: &str = r#"[{"name":"N1","state":"up"},{"name":"N2","state":"up"}]"#;
const NODES_Y: &str = r#"[{"name":"N1","state":"up"},{"name":"N2","state":"down"}]"#;

fn owner(guid: &str, node: &str) -> String {
    format!(
        r#"{{"vm_guid":"{guid}","resource":"Virtual Machine {}","owner_node":"{node}","state":"online"}}"#,
        &guid[..1]
    )
}

/// A database migrated up to version 5 only: the migrations before this
/// change, applied by sqlx from a copy of their files.
async fn version5(dir: &Path) -> String {
    let old = dir.join("migrations");
    std::fs::create_dir(&old).unwrap();
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("migrations");
    for f in std::fs::read_dir(&src).unwrap() {
        let f = f.unwrap();
        let name = f.file_name().into_string().unwrap();
        if name.as_str() < "20261205000001" {
            std::fs::copy(f.path(), old.join(&name)).unwrap();
        }
    }
    let path = dir.join("v5.db");
    let pool = SqlitePoolOptions::new()
        .max_connections(1)
        .connect_with(
            SqliteConnectOptions::new()
                .filename(&path)
                .create_if_missing(true)
                .foreign_keys(true),
        )
        .await
        .unwrap();
    let migrator = sqlx::migrate::Migrator::new(old.as_path()).await.unwrap();
    migrator.run(&pool).await.unwrap();
    let has_owners: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM pragma_table_info('cluster_facts') WHERE name = 'vm_owners'",
    )
    .fetch_one(&pool)
    .await
    .unwrap();
    assert_eq!(has_owners, 1, "the old schema");

    for run in 1..=7 {
        sqlx::query(
            "INSERT INTO runs (id, started_at, finished_at, status, hvinv_version)
             VALUES (?, ?, ?, 'complete', '0.5.0')",
        )
        .bind(run)
        .bind(format!("2026-11-01T0{run}:00:00Z"))
        .bind(format!("2026-11-01T0{run}:05:00Z"))
        .execute(&pool)
        .await
        .unwrap();
    }
    sqlx::query(
        "INSERT INTO clusters (id, name, first_run_id) VALUES (1, 'CLU', 1), (2, 'DUO', 1)",
    )
    .execute(&pool)
    .await
    .unwrap();
    let no_guid =
        r#"{"vm_guid":null,"resource":"Virtual Machine x","owner_node":"N1","state":"offline"}"#;
    // CLU: VM A migrates to N2 in run 3 and back in run 4; the cluster is
    // not written in run 6 and its nodes change in run 7. DUO lists VM E
    // twice (two resources of one name would do it).
    let rows: [(i64, i64, i64, i64, &str, String); 5] = [
        (
            1,
            1,
            1,
            2,
            NODES_X,
            format!("[{},{}]", owner(A, "N1"), owner(B, "N1")),
        ),
        (
            2,
            1,
            3,
            3,
            NODES_X,
            format!("[{},{}]", owner(A, "N2"), owner(B, "N1")),
        ),
        (
            3,
            1,
            4,
            5,
            NODES_X,
            format!("[{},{}]", owner(A, "N1"), owner(B, "N1")),
        ),
        (
            4,
            1,
            7,
            7,
            NODES_Y,
            format!("[{},{},{no_guid}]", owner(A, "N1"), owner(B, "N1")),
        ),
        (
            5,
            2,
            1,
            7,
            NODES_X,
            format!("[{},{}]", owner(E, "N9"), owner(E, "N9")),
        ),
    ];
    for (id, cluster, first, last, nodes, owners) in rows {
        sqlx::query(
            "INSERT INTO cluster_facts (id, cluster_id, first_run_id, last_run_id, fqdn, nodes,
                 vm_owners, digest) VALUES (?, ?, ?, ?, 'clu.contoso.com', ?, ?, 'old')",
        )
        .bind(id)
        .bind(cluster)
        .bind(first)
        .bind(last)
        .bind(nodes)
        .bind(owners)
        .execute(&pool)
        .await
        .unwrap();
    }
    pool.close().await;
    path.to_str().unwrap().to_string()
}

/// (id, cluster, first, last, vm_guid, owner_node) of every owner row.
type OwnerRow = (i64, i64, i64, i64, String, String);

async fn owner_rows(store: &Store) -> Vec<OwnerRow> {
    sqlx::query_as(
        "SELECT id, cluster_id, first_run_id, last_run_id, vm_guid, owner_node
         FROM cluster_vm_facts ORDER BY id",
    )
    .fetch_all(store.pool())
    .await
    .unwrap()
}

async fn cluster_rows(store: &Store) -> Vec<(i64, i64, i64, i64, String)> {
    sqlx::query_as(
        "SELECT id, cluster_id, first_run_id, last_run_id, nodes FROM cluster_facts ORDER BY id",
    )
    .fetch_all(store.pool())
    .await
    .unwrap()
}

fn row(id: i64, c: i64, first: i64, last: i64, guid: &str, node: &str) -> OwnerRow {
    (id, c, first, last, guid.to_string(), node.to_string())
}

#[tokio::test]
async fn owner_blobs_become_one_interval_per_unchanged_owner() {
    let dir = tempfile::tempdir().unwrap();
    let path = version5(dir.path()).await;
    let store = Store::open(&path, OpenMode::ReadWrite).await.unwrap();

    // Worked out by hand. CLU: A on N1 in rows 1 (runs 1–2), then on N2 in
    // row 2 (run 3), then on N1 again in rows 3–4 (runs 4–7, over the
    // unwritten run 6 as the old row did): three intervals. B on N1 in
    // every row: one, 1–7. The owner without a GUID is dropped. DUO: E's
    // two entries, 1–7 each. Ids follow (cluster, first run, place in the
    // blob).
    assert_eq!(
        owner_rows(&store).await,
        [
            row(1, 1, 1, 2, A, "N1"),
            row(2, 1, 1, 7, B, "N1"),
            row(3, 1, 3, 3, A, "N2"),
            row(4, 1, 4, 7, A, "N1"),
            row(5, 2, 1, 7, E, "N9"),
            row(6, 2, 1, 7, E, "N9"),
        ]
    );
    let rest: Vec<(String, String)> = sqlx::query_as(
        "SELECT DISTINCT resource, state FROM cluster_vm_facts WHERE cluster_id = 1 ORDER BY 1",
    )
    .fetch_all(store.pool())
    .await
    .unwrap();
    assert_eq!(
        rest,
        [
            ("Virtual Machine A".to_string(), "online".to_string()),
            ("Virtual Machine B".to_string(), "online".to_string())
        ]
    );
    // CLU's rows 1–3 differed only by owners: one interval under the first
    // row's id; row 4 has other nodes.
    assert_eq!(
        cluster_rows(&store).await,
        [
            (1, 1, 1, 5, NODES_X.to_string()),
            (4, 1, 7, 7, NODES_Y.to_string()),
            (5, 2, 1, 7, NODES_X.to_string()),
        ]
    );
    let columns: Vec<String> =
        sqlx::query_scalar("SELECT name FROM pragma_table_info('cluster_facts') ORDER BY cid")
            .fetch_all(store.pool())
            .await
            .unwrap();
    assert_eq!(
        columns,
        [
            "id",
            "cluster_id",
            "first_run_id",
            "last_run_id",
            "fqdn",
            "nodes"
        ]
    );

    // The read side gives the owners covering a run.
    let at3: Vec<(i64, String, Option<String>)> = store
        .reader()
        .cluster_vm_facts_overlapping(3, 3)
        .await
        .unwrap()
        .into_iter()
        .filter(|o| o.covers(3))
        .map(|o| {
            (
                o.cluster_id,
                o.owner.vm_guid.into_string(),
                o.owner.owner_node,
            )
        })
        .collect();
    assert_eq!(
        at3,
        [
            (1, B.to_string(), Some("N1".to_string())),
            (1, A.to_string(), Some("N2".to_string())),
            (2, E.to_string(), Some("N9".to_string())),
            (2, E.to_string(), Some("N9".to_string())),
        ]
    );

    // The next write of CLU, unchanged from run 7, extends what was
    // migrated: no new row in either table.
    let run = store.begin_run(1).await.unwrap();
    assert_eq!(run, RunId(8));
    let vm_owner = |g: &str, node: &str| VmOwner {
        vm_guid: Some(g.into()),
        resource: Some(format!("Virtual Machine {}", &g[..1])),
        owner_node: Some(node.into()),
        state: "online".into(),
    };
    let mut h = host(1, 0);
    h.cluster = Some(ClusterSnapshot {
        name: "CLU".into(),
        fqdn: Some("clu.contoso.com".into()),
        nodes: vec![
            ClusterNode {
                name: "N2".into(),
                state: "down".into(),
            },
            ClusterNode {
                name: "N1".into(),
                state: "up".into(),
            },
        ],
        vm_owners: vec![vm_owner(B, "N1"), vm_owner(A, "N1")],
    });
    let ok = |h| HostOutcome::Ok {
        snapshot: h,
        duration: Duration::from_millis(10),
        round_trips: 1,
    };
    store.record_host(run, "n1", &ok(h.clone())).await.unwrap();
    store.finish_run(run).await.unwrap();
    let owners = owner_rows(&store).await;
    assert_eq!(owners.len(), 6);
    assert_eq!((owners[1].3, owners[3].3), (8, 8), "{owners:?}");
    assert_eq!(owners[0].3, 2);
    assert_eq!(cluster_rows(&store).await[1].3, 8);

    // Run 9: A moves to N2. Its row ends at 8 and one opens; B extends.
    let run = store.begin_run(1).await.unwrap();
    if let Some(c) = h.cluster.as_mut() {
        c.vm_owners = vec![vm_owner(A, "N2"), vm_owner(B, "N1")];
    }
    store.record_host(run, "n1", &ok(h.clone())).await.unwrap();
    // A second node of the run does not write the cluster again.
    let mut other = host(2, 0);
    other.cluster = h.cluster.clone().map(|mut c| {
        c.vm_owners.clear();
        c
    });
    store.record_host(run, "n2", &ok(other)).await.unwrap();
    store.finish_run(run).await.unwrap();
    let owners = owner_rows(&store).await;
    assert_eq!(
        owners[1..],
        [
            row(2, 1, 1, 9, B, "N1"),
            row(3, 1, 3, 3, A, "N2"),
            row(4, 1, 4, 8, A, "N1"),
            row(5, 2, 1, 7, E, "N9"),
            row(6, 2, 1, 7, E, "N9"),
            row(7, 1, 9, 9, A, "N2"),
        ]
    );
    assert_eq!(count(&store, "cluster_facts").await, 3);
}

type OwnerAtRun = (
    i64,
    String,
    String,
    Option<String>,
    Option<String>,
    Option<String>,
);
type NodesAtRun = (i64, String, Option<String>, String);

/// A database written by the previous release's own binary (`hvinv
/// generate-history --hosts 16 --cluster-size 8 --vms-per-host 3 --runs 20
/// --migrate 0.1 --state-change 0.05 --fail 0.05 --seed 7`, owners as
/// blobs) migrates without loss: every run's owners and nodes read the
/// same before (from the blobs, in SQL) and after (from the new rows).
#[tokio::test]
async fn a_database_of_the_previous_release_keeps_every_runs_owners_and_nodes() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("v3.db");
    let src = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/fixtures/store/v3-release-clusters.db"
    );
    std::fs::copy(src, &path).unwrap();
    let path = path.to_str().unwrap().to_string();

    let raw = SqlitePoolOptions::new()
        .max_connections(1)
        .connect_with(SqliteConnectOptions::new().filename(&path))
        .await
        .unwrap();
    let owners_before: Vec<OwnerAtRun> = sqlx::query_as(
        "SELECT r.id, c.name, json_extract(j.value, '$.vm_guid'),
                json_extract(j.value, '$.resource'), json_extract(j.value, '$.owner_node'),
                json_extract(j.value, '$.state')
         FROM runs r JOIN cluster_facts f ON f.first_run_id <= r.id AND r.id <= f.last_run_id
         JOIN clusters c ON c.id = f.cluster_id, json_each(f.vm_owners) j
         ORDER BY 1, 2, 3, 4",
    )
    .fetch_all(&raw)
    .await
    .unwrap();
    let nodes_before: Vec<NodesAtRun> = sqlx::query_as(
        "SELECT r.id, c.name, f.fqdn, f.nodes
         FROM runs r JOIN cluster_facts f ON f.first_run_id <= r.id AND r.id <= f.last_run_id
         JOIN clusters c ON c.id = f.cluster_id ORDER BY 1, 2",
    )
    .fetch_all(&raw)
    .await
    .unwrap();
    let blob_rows: i64 = sqlx::query_scalar("SELECT count(*) FROM cluster_facts")
        .fetch_one(&raw)
        .await
        .unwrap();
    raw.close().await;
    // The fixture holds what the test is about: migrations between runs.
    let mut nodes_of: std::collections::BTreeMap<(&str, &str), std::collections::BTreeSet<_>> =
        Default::default();
    for o in &owners_before {
        nodes_of.entry((&o.1, &o.2)).or_default().insert(&o.4);
    }
    let moved = nodes_of.values().filter(|n| n.len() > 1).count();
    assert!(
        owners_before.len() > 500 && blob_rows > 20,
        "{blob_rows} rows"
    );

    let store = Store::open(&path, OpenMode::ReadWrite).await.unwrap();
    let owners_after: Vec<OwnerAtRun> = sqlx::query_as(
        "SELECT r.id, c.name, o.vm_guid, o.resource, o.owner_node, o.state
         FROM runs r JOIN cluster_vm_facts o ON o.first_run_id <= r.id AND r.id <= o.last_run_id
         JOIN clusters c ON c.id = o.cluster_id ORDER BY 1, 2, 3, 4",
    )
    .fetch_all(store.pool())
    .await
    .unwrap();
    let nodes_after: Vec<NodesAtRun> = sqlx::query_as(
        "SELECT r.id, c.name, f.fqdn, f.nodes
         FROM runs r JOIN cluster_facts f ON f.first_run_id <= r.id AND r.id <= f.last_run_id
         JOIN clusters c ON c.id = f.cluster_id ORDER BY 1, 2",
    )
    .fetch_all(store.pool())
    .await
    .unwrap();
    assert_eq!(owners_after, owners_before);
    assert_eq!(nodes_after, nodes_before);
    let owner_rows: i64 = sqlx::query_scalar("SELECT count(*) FROM cluster_vm_facts")
        .fetch_one(store.pool())
        .await
        .unwrap();
    // One row per owner and interval, far fewer than owners × runs.
    assert!(
        moved > 0 && (owner_rows as usize) < owners_before.len() / 3,
        "{moved} moves, {owner_rows} rows"
    );
}
