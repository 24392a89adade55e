//! Reports over a database written by the real collector from the
//! simulator, over two generations of the demo estate (live migrations, an
//! added and a removed VM, a vCPU change) with one host refusing logins in
//! the second run. Expected values come from the `Estate` definitions.

use std::collections::{BTreeMap, BTreeSet};

use hvinv::cli::collect::{self, CollectOptions};
use hvinv::report::{self, PvuOptions};
use hvinv::simulator::{Estate, SimConfig, SimHost, Simulator, VmState};
use hvinv::store::{OpenMode, Store};
use hvinv::wsman::ClientOptions;

const SEED: u64 = 42;

fn counted(s: VmState) -> bool {
    matches!(s, VmState::Running | VmState::Paused)
}

/// pvu.md's pattern for Xeon/EPYC by sockets; anything else 120.
fn rate(h: &SimHost) -> i64 {
    let name = h.cpus.first().map(|c| c.name.as_str()).unwrap_or("");
    let sockets = h.cpus.len();
    if !(name.contains("Xeon") || name.contains("EPYC")) {
        return 120;
    }
    match sockets {
        0..=2 => 70,
        3..=4 => 100,
        _ => 120,
    }
}

/// Sub-capacity PVU of one host from its definition, skipping `exclude`d VMs.
fn host_sub_pvu(h: &SimHost, exclude: &BTreeSet<String>) -> i64 {
    let cores = i64::from(h.total_cores());
    let licensable: i64 = h
        .realized_vms()
        .filter(|v| counted(v.state) && !exclude.contains(&v.guid))
        .map(|v| i64::from(v.vcpus).min(cores))
        .sum();
    licensable.min(cores) * rate(h)
}

fn placement(e: &Estate) -> BTreeMap<String, String> {
    e.hosts
        .iter()
        .flat_map(|h| h.realized_vms().map(|v| (v.guid.clone(), h.name.clone())))
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reports_over_two_collected_generations_match_the_estate() {
    let gen1 = Estate::demo(SEED);
    let mut gen2 = gen1.advance();
    let (p1, p2) = (placement(&gen1), placement(&gen2));
    // The failing host: one that a VM left and none arrived on, so its
    // carried-forward snapshot holds a VM now seen fresh elsewhere.
    let arrivals: BTreeSet<&String> = p2
        .iter()
        .filter(|(g, h)| p1.get(*g).is_some_and(|old| old != *h))
        .map(|(_, h)| h)
        .collect();
    let failing = p1
        .iter()
        .filter(|(g, h)| p2.get(*g).is_some_and(|new| new != *h) && !arrivals.contains(h))
        .map(|(_, h)| h.clone())
        .next()
        .expect("advance migrates a VM off some host");
    gen2.hosts
        .iter_mut()
        .find(|h| h.name == failing)
        .unwrap()
        .faults
        .reject_auth = true;

    let mut cfg = SimConfig::new(gen1.clone());
    cfg.http_port = 0;
    cfg.https_port = None;
    cfg.threads = 1;
    let sim = Simulator::start(cfg).await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let ca = dir.path().join("ca.pem");
    std::fs::write(&ca, sim.ca_pem()).unwrap();
    let db = dir.path().join("hv.db");
    let db_url = db.display().to_string();
    let config = hvinv::cli::demo::config_for(&sim, &ca, &db_url, 0).unwrap();
    let address_of: BTreeMap<String, String> = sim
        .endpoints()
        .into_iter()
        .map(|e| (e.host_name.clone(), e.ip.to_string()))
        .collect();
    for estate in [None, Some(gen2.clone())] {
        if let Some(e) = estate {
            sim.set_estate(e);
        }
        let opts = CollectOptions {
            progress: false,
            client: ClientOptions::default(),
        };
        let s = collect::collect_configured_hosts(&config, &db_url, opts)
            .await
            .unwrap();
        assert_eq!(s.status, "complete");
    }
    sim.shutdown().await;

    let pool = Store::open(&db_url, OpenMode::ReadOnly).await.unwrap();

    // Topology of the latest run = generation 2.
    let topo = report::topology::build(&pool, None).await.unwrap();
    assert_eq!(topo.run.id, 2);
    assert_eq!(topo.hosts.len(), gen2.hosts.len());
    for h in &gen2.hosts {
        let addr = &address_of[&h.name];
        let t = topo.hosts.iter().find(|x| &x.address == addr).unwrap();
        if h.name == failing {
            assert_eq!(t.status, "failed");
            assert_eq!(t.error.as_ref().unwrap().kind, "auth");
            assert!(t.vms.is_empty() && t.facts.is_none());
            continue;
        }
        assert_eq!(t.status, "ok", "{}", h.name);
        let f = t.facts.as_ref().unwrap();
        assert_eq!(f.name.as_deref(), Some(h.name.as_str()));
        assert_eq!(f.cores, Some(h.total_cores()));
        assert_eq!(f.sockets.map(i64::from), Some(h.cpus.len() as i64));
        let want: BTreeMap<&str, i64> = h
            .realized_vms()
            .map(|v| (v.guid.as_str(), i64::from(v.vcpus)))
            .collect();
        let got: BTreeMap<&str, i64> = t
            .vms
            .iter()
            .map(|v| (v.guid.as_str(), i64::from(v.vcpus.unwrap())))
            .collect();
        assert_eq!(got, want, "VMs of {}", h.name);
    }
    let clusters: Vec<(String, Vec<String>)> = topo
        .clusters
        .iter()
        .map(|c| (c.name.clone(), c.nodes.clone()))
        .collect();
    let mut want: Vec<(String, Vec<String>)> = gen2
        .clusters
        .iter()
        .map(|c| {
            let mut n = c.nodes.clone();
            n.sort();
            (c.name.clone(), n)
        })
        .collect();
    want.sort();
    assert_eq!(clusters, want);

    // PVU: run 1 from generation 1; run 2 from generation 2 with the
    // failing host carried forward from generation 1, minus the VMs now
    // seen on other hosts.
    let none = BTreeSet::new();
    let run1: i64 = gen1.hosts.iter().map(|h| host_sub_pvu(h, &none)).sum();
    let fresh2: BTreeSet<String> = gen2
        .hosts
        .iter()
        .filter(|h| h.name != failing)
        .flat_map(|h| h.realized_vms().map(|v| v.guid.clone()))
        .collect();
    let run2: i64 = gen2
        .hosts
        .iter()
        .filter(|h| h.name != failing)
        .map(|h| host_sub_pvu(h, &none))
        .sum::<i64>()
        + gen1
            .hosts
            .iter()
            .filter(|h| h.name == failing)
            .map(|h| host_sub_pvu(h, &fresh2))
            .sum::<i64>();
    let full: i64 = gen1
        .hosts
        .iter()
        .map(|h| i64::from(h.total_cores()) * rate(h))
        .sum();
    let pvu = report::pvu::build(
        &pool,
        PvuOptions {
            from: Some("2000-01-01T00:00:00Z".parse().unwrap()),
            to: Some("2100-01-01T00:00:00Z".parse().unwrap()),
            ..PvuOptions::default()
        },
    )
    .await
    .unwrap();
    let by_run: Vec<(i64, i64)> = pvu
        .runs
        .iter()
        .map(|r| (r.id, r.sub_capacity_pvu))
        .collect();
    assert_eq!(by_run, [(1, run1), (2, run2)]);
    assert_eq!(pvu.runs[1].carried_forward, [address_of[&failing].clone()]);
    assert_eq!(pvu.totals.sub_capacity_peak_pvu, run1.max(run2));
    assert_eq!(pvu.totals.full_capacity_pvu, full);

    // History: every VM whose host changed between the generations and
    // whose new host answered shows a migration in run 2.
    let hist = report::history::build(&pool, report::HistoryOptions::default())
        .await
        .unwrap();
    for (guid, new_host) in &p2 {
        let Some(old_host) = p1.get(guid) else {
            continue;
        };
        if old_host == new_host || new_host == &failing {
            continue;
        }
        let vm = hist.vms.iter().find(|v| &v.id == guid).unwrap();
        assert!(
            vm.events
                .iter()
                .any(|e| e.run.id == 2 && e.kind == report::history::EventKind::Migrated),
            "{guid} moved {old_host} -> {new_host}: {:?}",
            vm.events
        );
    }
    // The VM generation 2 added (on a host that answered) is an addition.
    for (guid, host) in p2.iter().filter(|(g, _)| !p1.contains_key(*g)) {
        if host == &failing {
            continue;
        }
        let vm = hist.vms.iter().find(|v| &v.id == guid).unwrap();
        assert!(
            vm.events
                .iter()
                .any(|e| e.run.id == 2 && e.kind == report::history::EventKind::Added),
            "{:?}",
            vm.events
        );
    }
}
