//! Store behaviour on a temp-file database: intervals, migrations, failed
//! hosts, run bookkeeping, locking and integrity.

mod store_support;

use hvinv::error::ErrorKind;
use hvinv::inventory::{ClusterNode, ClusterSnapshot, HostSnapshot, VmOwner};
use hvinv::store::{HostOutcome, OpenMode, RunStatus, Store};
use std::time::Duration;
use store_support::*;

fn ok(snapshot: HostSnapshot) -> HostOutcome {
    HostOutcome::Ok {
        snapshot,
        duration: Duration::from_millis(120),
        round_trips: 9,
    }
}

fn failed(kind: ErrorKind, message: &str) -> HostOutcome {
    HostOutcome::Failed {
        kind,
        message: message.into(),
        duration: Duration::from_millis(3000),
        round_trips: 1,
    }
}

/// (host_id, first_run_id, last_run_id) of a VM's rows, oldest first.
async fn vm_rows(store: &Store, guid: &str) -> Vec<(i64, i64, i64)> {
    sqlx::query_as(
        "SELECT f.host_id, f.first_run_id, f.last_run_id FROM vm_facts f JOIN vms v ON v.id = f.vm_id
         WHERE v.guid = $1 ORDER BY f.id",
    )
    .bind(guid)
    .fetch_all(store.pool())
    .await
    .unwrap()
}

async fn host_id(store: &Store, n: u32) -> i64 {
    sqlx::query_scalar("SELECT id FROM hosts WHERE identity = $1")
        .bind(format!("uuid:4C4C4544-0000-4000-8000-{n:012X}"))
        .fetch_one(store.pool())
        .await
        .unwrap()
}

async fn integrity_clean(store: &Store) {
    let fk: Vec<(String, i64, String, i64)> = sqlx::query_as("PRAGMA foreign_key_check")
        .fetch_all(store.pool())
        .await
        .unwrap();
    assert!(fk.is_empty(), "{fk:?}");
    let ic: String = sqlx::query_scalar("PRAGMA integrity_check")
        .fetch_one(store.pool())
        .await
        .unwrap();
    assert_eq!(ic, "ok");
}

#[tokio::test]
async fn unchanged_run_adds_no_fact_rows_and_extends_intervals() {
    let (_d, store) = temp_store().await;
    for _ in 0..3 {
        let run = store.begin_run(2).await.unwrap();
        store
            .record_host(run, "hv0001", &ok(host(1, 3)))
            .await
            .unwrap();
        store
            .record_host(run, "hv0002", &ok(host(2, 2)))
            .await
            .unwrap();
        store.finish_run(run).await.unwrap();
    }
    assert_eq!(count(&store, "host_facts").await, 2);
    assert_eq!(count(&store, "vm_facts").await, 5);
    assert_eq!(count(&store, "host_outcomes").await, 6);
    let spans: Vec<(i64, i64)> = sqlx::query_as("SELECT first_run_id, last_run_id FROM vm_facts")
        .fetch_all(store.pool())
        .await
        .unwrap();
    assert!(spans.iter().all(|s| *s == (1, 3)), "{spans:?}");
    let r = store.reader().latest_complete_run().await.unwrap().unwrap();
    assert_eq!(
        (r.id, r.hosts_total, r.hosts_ok, r.hosts_failed),
        (3, 2, 2, 0)
    );
    assert_eq!(r.status, RunStatus::Complete);
    integrity_clean(&store).await;
}

#[tokio::test]
async fn live_migration_closes_one_row_and_opens_another() {
    let (_d, store) = temp_store().await;
    let moving = vm(1, 0);
    let r1 = store.begin_run(2).await.unwrap();
    store.record_host(r1, "a", &ok(host(1, 2))).await.unwrap();
    store.record_host(r1, "b", &ok(host(2, 0))).await.unwrap();
    store.finish_run(r1).await.unwrap();

    let mut a = host(1, 2);
    a.vms.retain(|v| v.guid != moving.guid);
    let mut b = host(2, 0);
    b.vms.push(moving.clone());
    let r2 = store.begin_run(2).await.unwrap();
    store.record_host(r2, "a", &ok(a)).await.unwrap();
    store.record_host(r2, "b", &ok(b)).await.unwrap();
    store.finish_run(r2).await.unwrap();

    let (ha, hb) = (host_id(&store, 1).await, host_id(&store, 2).await);
    assert_eq!(
        vm_rows(&store, &moving.guid).await,
        vec![(ha, 1, 1), (hb, 2, 2)]
    );
    // The VM that stayed keeps one interval.
    assert_eq!(vm_rows(&store, &vm_guid(1, 1)).await, vec![(ha, 1, 2)]);

    // And back again: a third row, not an extension of the first.
    let r3 = store.begin_run(2).await.unwrap();
    store.record_host(r3, "a", &ok(host(1, 2))).await.unwrap();
    store.record_host(r3, "b", &ok(host(2, 0))).await.unwrap();
    assert_eq!(
        vm_rows(&store, &moving.guid).await,
        vec![(ha, 1, 1), (hb, 2, 2), (ha, 3, 3)]
    );
    integrity_clean(&store).await;
}

#[tokio::test]
async fn changed_vm_opens_a_new_row_and_the_old_one_stays_closed() {
    let (_d, store) = temp_store().await;
    let r1 = store.begin_run(1).await.unwrap();
    store.record_host(r1, "a", &ok(host(1, 1))).await.unwrap();
    let mut h = host(1, 1);
    h.vms[0].vcpus = Some(8);
    let r2 = store.begin_run(1).await.unwrap();
    store.record_host(r2, "a", &ok(h)).await.unwrap();
    let vcpus: Vec<(i64, i64, i64)> =
        sqlx::query_as("SELECT first_run_id, last_run_id, vcpus FROM vm_facts ORDER BY id")
            .fetch_all(store.pool())
            .await
            .unwrap();
    assert_eq!(vcpus, vec![(1, 1, 4), (2, 2, 8)]);
}

#[tokio::test]
async fn failed_host_records_kind_and_message_and_keeps_earlier_facts() {
    let (_d, store) = temp_store().await;
    let r1 = store.begin_run(1).await.unwrap();
    store
        .record_host(r1, "hv0001", &ok(host(1, 2)))
        .await
        .unwrap();
    store.finish_run(r1).await.unwrap();

    let r2 = store.begin_run(1).await.unwrap();
    store
        .record_host(
            r2,
            "hv0001",
            &failed(ErrorKind::Timeout, "no reply within 60 s"),
        )
        .await
        .unwrap();
    store.finish_run(r2).await.unwrap();

    let (status, kind, msg, hid): (String, Option<String>, Option<String>, Option<i64>) =
        sqlx::query_as(
            "SELECT status, error_kind, error_message, host_id FROM host_outcomes WHERE run_id = $1",
        )
        .bind(r2.0)
        .fetch_one(store.pool())
        .await
        .unwrap();
    assert_eq!(status, "failed");
    assert_eq!(kind.as_deref(), Some("timeout"));
    assert_eq!(msg.as_deref(), Some("no reply within 60 s"));
    assert_eq!(hid, Some(host_id(&store, 1).await));
    let spans: Vec<(i64, i64)> = sqlx::query_as("SELECT first_run_id, last_run_id FROM host_facts")
        .fetch_all(store.pool())
        .await
        .unwrap();
    assert_eq!(spans, vec![(1, 1)]);
    let r = store.reader().run(r2).await.unwrap().unwrap();
    assert_eq!((r.hosts_ok, r.hosts_failed), (0, 1));

    // Back and unchanged: the interval spans the failed run.
    let r3 = store.begin_run(1).await.unwrap();
    store
        .record_host(r3, "hv0001", &ok(host(1, 2)))
        .await
        .unwrap();
    let spans: Vec<(i64, i64)> = sqlx::query_as("SELECT first_run_id, last_run_id FROM host_facts")
        .fetch_all(store.pool())
        .await
        .unwrap();
    assert_eq!(spans, vec![(1, 3)]);
    assert_eq!(count(&store, "vm_facts").await, 2);
}

#[tokio::test]
async fn never_reached_address_has_no_host() {
    let (_d, store) = temp_store().await;
    let r = store.begin_run(1).await.unwrap();
    assert_eq!(
        store
            .record_host(r, "nowhere", &failed(ErrorKind::Unreachable, "refused"))
            .await
            .unwrap(),
        None
    );
    assert_eq!(count(&store, "hosts").await, 0);
}

#[tokio::test]
async fn one_host_under_two_addresses_writes_facts_once() {
    let (_d, store) = temp_store().await;
    let r = store.begin_run(2).await.unwrap();
    let a = store
        .record_host(r, "hv0001", &ok(host(1, 3)))
        .await
        .unwrap();
    let b = store
        .record_host(r, "10.0.0.1", &ok(host(1, 3)))
        .await
        .unwrap();
    assert_eq!(a, b);
    assert_eq!(count(&store, "hosts").await, 1);
    assert_eq!(count(&store, "host_facts").await, 1);
    assert_eq!(count(&store, "vm_facts").await, 3);
    assert_eq!(count(&store, "host_outcomes").await, 2);
}

#[tokio::test]
async fn cluster_facts_are_written_once_per_run_and_extend_when_unchanged() {
    let (_d, store) = temp_store().await;
    let cluster = ClusterSnapshot {
        name: "CLU01".into(),
        fqdn: Some("clu01.contoso.com".into()),
        nodes: vec![
            ClusterNode {
                name: "HV0002".into(),
                state: "up".into(),
            },
            ClusterNode {
                name: "HV0001".into(),
                state: "up".into(),
            },
        ],
        vm_owners: vec![VmOwner {
            vm_guid: Some(vm_guid(1, 0).into()),
            resource: Some("Virtual Machine vm-1-0".into()),
            owner_node: Some("HV0001".into()),
            state: "online".into(),
        }],
    };
    for _ in 0..2 {
        let r = store.begin_run(2).await.unwrap();
        for n in 1..=2 {
            let mut h = host(n, 1);
            h.cluster = Some(cluster.clone());
            store
                .record_host(r, &format!("hv{n}"), &ok(h))
                .await
                .unwrap();
        }
    }
    let rows: Vec<(i64, i64, String)> =
        sqlx::query_as("SELECT first_run_id, last_run_id, nodes FROM cluster_facts")
            .fetch_all(store.pool())
            .await
            .unwrap();
    assert_eq!(rows.len(), 1);
    assert_eq!((rows[0].0, rows[0].1), (1, 2));
    // Nodes stored sorted by name.
    let nodes: serde_json::Value = serde_json::from_str(&rows[0].2).unwrap();
    assert_eq!(nodes[0]["name"], "HV0001");
    let cluster_name: Option<String> =
        sqlx::query_scalar("SELECT cluster_name FROM host_facts LIMIT 1")
            .fetch_one(store.pool())
            .await
            .unwrap();
    assert_eq!(cluster_name.as_deref(), Some("CLU01"));
}

#[tokio::test]
async fn run_left_running_by_a_dead_writer_is_marked_interrupted() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("hvinv.db");
    let db = db.to_str().unwrap();
    {
        let (store, _lock) = Store::open_for_collection(db).await.unwrap();
        let r = store.begin_run(3).await.unwrap();
        store
            .record_host(r, "hv0001", &ok(host(1, 1)))
            .await
            .unwrap();
        // The writer dies here: no finish_run, lock released.
        store.close().await;
    }
    let (store, _lock) = Store::open_for_collection(db).await.unwrap();
    let r = store
        .reader()
        .run(hvinv::store::RunId(1))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(r.status, RunStatus::Interrupted);
    assert_eq!((r.hosts_total, r.hosts_ok), (3, 1));
    assert!(r.finished_at.is_some());
    assert!(
        store
            .reader()
            .latest_complete_run()
            .await
            .unwrap()
            .is_none()
    );
}

#[tokio::test]
async fn mark_interrupted_closes_the_run() {
    let (_d, store) = temp_store().await;
    let r = store.begin_run(1).await.unwrap();
    store.mark_interrupted(r).await.unwrap();
    let run = store.reader().run(r).await.unwrap().unwrap();
    assert_eq!(run.status, RunStatus::Interrupted);
    // A later finish does not resurrect it.
    store.finish_run(r).await.unwrap();
    assert_eq!(
        store.reader().run(r).await.unwrap().unwrap().status,
        RunStatus::Interrupted
    );
}

#[tokio::test]
async fn second_collection_lock_fails_with_exit_code_4() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("hvinv.db");
    let url = format!("sqlite://{}", db.display());
    let _held = Store::lock_for_collection(&url).unwrap();
    let err = Store::open_for_collection(&url).await.unwrap_err();
    assert_eq!(err.exit_code(), 4);
    assert!(err.to_string().contains("another collection run"), "{err}");
}

#[tokio::test]
async fn read_only_store_reads_but_cannot_write() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("hvinv.db");
    let db = db.to_str().unwrap();
    {
        let store = Store::open(db, OpenMode::ReadWrite).await.unwrap();
        let r = store.begin_run(0).await.unwrap();
        store.finish_run(r).await.unwrap();
        store.close().await;
    }
    let ro = Store::open(db, OpenMode::ReadOnly).await.unwrap();
    assert_eq!(
        ro.reader().latest_complete_run().await.unwrap().unwrap().id,
        1
    );
    assert!(ro.begin_run(1).await.is_err());
}

#[tokio::test]
async fn opening_a_missing_file_read_only_fails_with_exit_code_3() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("absent.db");
    let err = Store::open(db.to_str().unwrap(), OpenMode::ReadOnly)
        .await
        .unwrap_err();
    assert_eq!(err.exit_code(), 3);
    assert!(!db.exists());
}

#[tokio::test]
async fn runs_between_filters_on_start_time() {
    let (_d, store) = temp_store().await;
    for _ in 0..2 {
        let r = store.begin_run(0).await.unwrap();
        store.finish_run(r).await.unwrap();
    }
    let now = chrono::Utc::now();
    let all = store.reader().runs_between(None, None).await.unwrap();
    assert_eq!(all.len(), 2);
    let since = store
        .reader()
        .runs_between(
            Some(now - chrono::Duration::hours(1)),
            Some(now + chrono::Duration::hours(1)),
        )
        .await
        .unwrap();
    assert_eq!(since.len(), 2);
    let future = store
        .reader()
        .runs_between(Some(now + chrono::Duration::hours(1)), None)
        .await
        .unwrap();
    assert!(future.is_empty());
}

#[tokio::test]
async fn nothing_secret_shaped_is_stored_and_warnings_are_json() {
    let (_d, store) = temp_store().await;
    let mut h = host(1, 0);
    h.warnings = vec!["cluster namespace: access denied".into()];
    let r = store.begin_run(1).await.unwrap();
    store.record_host(r, "hv0001", &ok(h)).await.unwrap();
    let w: String = sqlx::query_scalar("SELECT warnings FROM host_outcomes")
        .fetch_one(store.pool())
        .await
        .unwrap();
    assert_eq!(w, r#"["cluster namespace: access denied"]"#);
    let cols: Vec<String> = sqlx::query_scalar(
        "SELECT p.name FROM sqlite_master m, pragma_table_info(m.name) p WHERE m.type = 'table'",
    )
    .fetch_all(store.pool())
    .await
    .unwrap();
    for c in cols {
        for bad in ["password", "secret", "hash", "key"] {
            assert!(!c.contains(bad), "column {c}");
        }
    }
}

#[tokio::test]
async fn snapshot_without_any_identity_is_recorded_as_a_protocol_failure() {
    let (_d, store) = temp_store().await;
    let mut h = host(1, 2);
    h.identity.uuid = None;
    h.identity.serial = None;
    h.name = None;
    let r = store.begin_run(1).await.unwrap();
    assert_eq!(store.record_host(r, "odd", &ok(h)).await.unwrap(), None);
    let (status, kind): (String, Option<String>) =
        sqlx::query_as("SELECT status, error_kind FROM host_outcomes")
            .fetch_one(store.pool())
            .await
            .unwrap();
    assert_eq!(
        (status.as_str(), kind.as_deref()),
        ("failed", Some("protocol"))
    );
    assert_eq!(count(&store, "vm_facts").await, 0);
}

#[tokio::test]
async fn read_write_store_uses_wal_normal_sync_and_enforces_foreign_keys() {
    let (_d, store) = temp_store().await;
    let mode: String = sqlx::query_scalar("PRAGMA journal_mode")
        .fetch_one(store.pool())
        .await
        .unwrap();
    assert_eq!(mode, "wal");
    // NORMAL is 1 (SQLite's PRAGMA synchronous documentation).
    let sync: i64 = sqlx::query_scalar("PRAGMA synchronous")
        .fetch_one(store.pool())
        .await
        .unwrap();
    assert_eq!(sync, 1);
    let bad = sqlx::query("INSERT INTO host_facts (host_id, first_run_id, last_run_id, digest) VALUES (99, 99, 99, 'x')")
        .execute(store.pool())
        .await;
    assert!(bad.is_err(), "a fact row for no host must be refused");
}

#[tokio::test]
async fn read_only_open_of_a_foreign_sqlite_file_fails_with_exit_code_3() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("other.db");
    let db = db.to_str().unwrap();
    {
        let pool = sqlx::SqlitePool::connect(&format!("sqlite://{db}?mode=rwc"))
            .await
            .unwrap();
        sqlx::query("CREATE TABLE t (x)")
            .execute(&pool)
            .await
            .unwrap();
        pool.close().await;
    }
    let err = Store::open(db, OpenMode::ReadOnly).await.unwrap_err();
    assert_eq!(err.exit_code(), 3);
    assert!(err.to_string().contains("not an hvinv database"), "{err}");
}

#[tokio::test]
async fn streamed_facts_come_by_first_run_and_match_the_loaded_rows() {
    use futures_util::TryStreamExt;
    let (_d, store) = temp_store().await;
    let moving = vm(1, 0);
    let r1 = store.begin_run(2).await.unwrap();
    store.record_host(r1, "a", &ok(host(1, 2))).await.unwrap();
    store.record_host(r1, "b", &ok(host(2, 1))).await.unwrap();
    store.finish_run(r1).await.unwrap();
    let mut a = host(1, 2);
    a.vms.retain(|v| v.guid != moving.guid);
    let mut b = host(2, 1);
    b.vms.push(moving.clone());
    let r2 = store.begin_run(2).await.unwrap();
    store.record_host(r2, "a", &ok(a)).await.unwrap();
    store.record_host(r2, "b", &ok(b)).await.unwrap();
    store.finish_run(r2).await.unwrap();

    let db = store.reader();
    let streamed: Vec<_> = db.vm_facts_by_first_run(1, 2).try_collect().await.unwrap();
    let firsts: Vec<i64> = streamed.iter().map(|f| f.first_run_id).collect();
    assert_eq!(firsts, [1, 1, 1, 2], "{streamed:?}");
    let mut loaded = db.vm_facts_overlapping(1, 2).await.unwrap();
    loaded.sort_by_key(|f| f.id);
    let mut by_id = streamed.clone();
    by_id.sort_by_key(|f| f.id);
    assert_eq!(by_id, loaded);
    // Only run 2: the migrated VM's first row ended in run 1.
    let run2: Vec<_> = db.vm_facts_by_first_run(2, 2).try_collect().await.unwrap();
    assert_eq!(run2.len(), 3);
    assert!(run2.iter().all(|f| f.covers(2)));

    let hosts: Vec<_> = db
        .host_facts_by_first_run(1, 2)
        .try_collect()
        .await
        .unwrap();
    assert_eq!(hosts, db.host_facts_overlapping(1, 2).await.unwrap());
    let keys: Vec<_> = db.outcome_keys(1, 2).try_collect().await.unwrap();
    let order: Vec<(i64, &str, bool)> = keys
        .iter()
        .map(|k| (k.run_id, k.address.as_str(), k.ok))
        .collect();
    assert_eq!(
        order,
        [
            (1, "a", true),
            (1, "b", true),
            (2, "a", true),
            (2, "b", true)
        ]
    );
}

/// The read side hands back the model's own types: what was recorded comes
/// back field for field (VMs, cluster and warnings are stored apart).
#[tokio::test]
async fn facts_read_back_as_the_snapshot_that_was_recorded() {
    use hvinv::inventory::{Replication, VmState};
    let (_d, store) = temp_store().await;
    let mut h = host(7, 2);
    h.vms[1].state = VmState::Saved;
    h.vms[1].replication = Replication::TestReplica;
    h.vms[1].bios_guid = None;
    h.vms[1].cpu_weight = Some(250);
    h.vms[1].dynamic_memory = None;
    h.cluster = Some(ClusterSnapshot {
        name: "CL1".into(),
        fqdn: None,
        nodes: vec![],
        vm_owners: vec![],
    });
    h.region = Some("EMEA".into());
    let r = store.begin_run(1).await.unwrap();
    store.record_host(r, "a", &ok(h.clone())).await.unwrap();
    store.finish_run(r).await.unwrap();

    let db = store.reader();
    let hosts = db.host_facts_overlapping(1, 1).await.unwrap();
    assert_eq!(hosts[0].region, "EMEA");
    assert_eq!(hosts.len(), 1);
    let mut want = h.clone();
    want.vms.clear();
    want.cluster = None;
    assert_eq!(hosts[0].host, want);
    assert_eq!(hosts[0].cluster_name.as_deref(), Some("CL1"));
    let vms: Vec<_> = db
        .vm_facts_overlapping(1, 1)
        .await
        .unwrap()
        .into_iter()
        .map(|f| f.vm)
        .collect();
    assert_eq!(vms, h.vms);
}
