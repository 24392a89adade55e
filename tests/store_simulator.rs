//! Simulator → `collect_host` → store, over an unchanged run and an
//! advanced estate (live migrations, an added, a removed and a resized VM).
//! Expected rows are derived from the two `Estate` definitions.

use hvinv::inventory::collect_host;
use hvinv::simulator::{
    DEFAULT_ACCOUNT, DEFAULT_PASSWORD, Estate, HyperVNamespace, SimConfig, SimHost, SimVm,
    Simulator,
};
use hvinv::store::{HostOutcome, OpenMode, Store};
use hvinv::transport::{Connection, Credentials, Scheme, Target, TransportConfig};
use hvinv::wsman::{Client, ClientOptions};
use secrecy::SecretString;
use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;
use std::time::Duration;

const SEED: u64 = 11;

fn collectable(h: &SimHost) -> bool {
    h.namespace != HyperVNamespace::None && h.faults == Default::default()
}

/// One collection run over every collectable host of `estate`.
async fn run_once(store: &Store, estate: &Estate) {
    let mut cfg = SimConfig::new(estate.clone());
    cfg.http_port = 0;
    cfg.https_port = None;
    cfg.threads = 1;
    let sim = Simulator::start(cfg).await.expect("simulator");
    let hosts: Vec<&SimHost> = estate.hosts.iter().filter(|h| collectable(h)).collect();
    let run = store.begin_run(hosts.len() as u32).await.unwrap();
    for ep in sim.endpoints() {
        if !hosts.iter().any(|h| h.name == ep.host_name) {
            continue;
        }
        let mut target = Target::on_default_port(&ep.tls_name, Scheme::Http).unwrap();
        target.set_port(ep.http.port());
        target.connect_to = Some(ep.http);
        let creds = Credentials::parse(
            DEFAULT_ACCOUNT,
            SecretString::from(DEFAULT_PASSWORD.to_string()),
        );
        let mut c = Client::new(
            Connection::new(Arc::new(TransportConfig::new(target, creds))),
            ClientOptions::default(),
        );
        let snapshot = collect_host(&mut c).await.expect("collect");
        c.close().await;
        let outcome = HostOutcome::Ok {
            snapshot,
            duration: Duration::from_millis(1),
            round_trips: 1,
        };
        store
            .record_host(run, &ep.host_name, &outcome)
            .await
            .unwrap();
    }
    store.finish_run(run).await.unwrap();
    sim.shutdown().await;
}

/// Where each realized VM runs, and what of it the store keeps.
fn placements(e: &Estate) -> BTreeMap<String, (String, SimVm)> {
    e.hosts
        .iter()
        .filter(|h| collectable(h))
        .flat_map(|h| {
            h.realized_vms()
                .map(move |v| (v.guid.to_uppercase(), (h.name.clone(), v.clone())))
        })
        .collect()
}

/// The stored facts of a VM, as the estate defines them (checkpoints and
/// uptime are not stored facts).
fn facts(v: &SimVm) -> SimVm {
    SimVm {
        checkpoints: vec![],
        uptime_ms: 0,
        ..v.clone()
    }
}

#[tokio::test]
async fn unchanged_then_advanced_estate_gives_the_expected_intervals() {
    let mut e1 = Estate::demo(SEED);
    // The 300-VM host only adds time here; paging has its own tests.
    e1.hosts.retain(|h| h.name != "HV-BIG");
    let e2 = e1.advance();
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("hvinv.db");
    let store = Store::open(db.to_str().unwrap(), OpenMode::ReadWrite)
        .await
        .unwrap();

    run_once(&store, &e1).await;
    run_once(&store, &e1).await;
    run_once(&store, &e2).await;

    // (guid, host name, first, last), as stored.
    let rows: Vec<(String, Option<String>, i64, i64)> = sqlx::query_as(
        "SELECT v.guid, h.name, f.first_run_id, f.last_run_id FROM vm_facts f
         JOIN vms v ON v.id = f.vm_id
         JOIN host_facts h ON h.host_id = f.host_id AND h.last_run_id = 3
         ORDER BY v.guid, f.first_run_id",
    )
    .fetch_all(store.pool())
    .await
    .unwrap();
    let mut stored: BTreeMap<String, Vec<(String, i64, i64)>> = BTreeMap::new();
    for (g, h, a, b) in rows {
        stored
            .entry(g)
            .or_default()
            .push((h.unwrap_or_default(), a, b));
    }

    let (p1, p2) = (placements(&e1), placements(&e2));
    let mut expected: BTreeMap<String, Vec<(String, i64, i64)>> = BTreeMap::new();
    let (mut moved, mut changed, mut added, mut removed) = (0, 0, 0, 0);
    for (g, (h1, v1)) in &p1 {
        let e = expected.entry(g.clone()).or_default();
        match p2.get(g) {
            None => {
                removed += 1;
                e.push((h1.clone(), 1, 2));
            }
            Some((h2, v2)) if h2 == h1 && facts(v1) == facts(v2) => e.push((h1.clone(), 1, 3)),
            Some((h2, v2)) => {
                if h2 != h1 {
                    moved += 1;
                }
                if facts(v1) != facts(v2) {
                    changed += 1;
                }
                e.push((h1.clone(), 1, 2));
                e.push((h2.clone(), 3, 3));
            }
        }
    }
    for (g, (h2, _)) in &p2 {
        if !p1.contains_key(g) {
            added += 1;
            expected.insert(g.clone(), vec![(h2.clone(), 3, 3)]);
        }
    }
    // The advanced estate must actually exercise each case.
    assert!(moved > 0 && changed > 0 && added > 0 && removed > 0);
    assert_eq!(stored, expected);

    // Hosts did not change: one interval each, over all three runs.
    let spans: Vec<(i64, i64)> = sqlx::query_as("SELECT first_run_id, last_run_id FROM host_facts")
        .fetch_all(store.pool())
        .await
        .unwrap();
    assert_eq!(
        spans.len(),
        e1.hosts.iter().filter(|h| collectable(h)).count()
    );
    assert!(spans.iter().all(|s| *s == (1, 3)), "{spans:?}");

    // A cluster's facts hold over the three runs in one row; its owners are
    // rows of their own, and an owner on the same node in both estates keeps
    // its row unless its resource's state changed.
    for c in &e1.clusters {
        let owned = |e: &Estate| -> BTreeSet<(String, String)> {
            c.vm_owners(e)
                .into_iter()
                .map(|(g, _, node)| (g.to_uppercase(), node))
                .collect()
        };
        let (o1, o2) = (owned(&e1), owned(&e2));
        let spans: Vec<(i64, i64)> = sqlx::query_as(
            "SELECT f.first_run_id, f.last_run_id FROM cluster_facts f
             JOIN clusters c ON c.id = f.cluster_id WHERE c.name = $1",
        )
        .bind(c.name.to_uppercase())
        .fetch_all(store.pool())
        .await
        .unwrap();
        assert_eq!(spans, [(1, 3)], "{}", c.name);
        // (guid, owner node, state, first, last)
        let rows: Vec<(String, String, String, i64, i64)> = sqlx::query_as(
            "SELECT upper(f.vm_guid), f.owner_node, f.state, f.first_run_id, f.last_run_id
             FROM cluster_vm_facts f JOIN clusters c ON c.id = f.cluster_id WHERE c.name = $1",
        )
        .bind(c.name.to_uppercase())
        .fetch_all(store.pool())
        .await
        .unwrap();
        let at = |run: i64| -> BTreeSet<(String, String)> {
            rows.iter()
                .filter(|r| r.3 <= run && run <= r.4)
                .map(|r| (r.0.clone(), r.1.clone()))
                .collect()
        };
        assert_eq!(
            (at(1), at(2), at(3)),
            (o1.clone(), o1.clone(), o2.clone()),
            "{}",
            c.name
        );
        for r in rows.iter().filter(|r| r.3 == 3) {
            if let Some(before) = rows
                .iter()
                .find(|b| b.4 == 2 && (&b.0, &b.1) == (&r.0, &r.1))
            {
                assert_ne!(before.2, r.2, "{}: {r:?} should have extended", c.name);
            }
        }
    }
}
