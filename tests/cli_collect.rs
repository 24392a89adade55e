//! End-to-end: `collect` over real TCP on loopback against the simulator.
//! Expected values come from the simulated estate's definition.

use hvinv::cli::collect::{self, CollectOptions};
use hvinv::cli::config::Config;
use hvinv::cli::demo::config_for;
use hvinv::error::ErrorKind;
use hvinv::inventory::queries::QUERIES;
use hvinv::simulator::{Estate, SimConfig, Simulator};
use hvinv::store::{OpenMode, RunId, Store};
use hvinv::wsman::{Action, ClientOptions};
use std::net::Ipv4Addr;
use std::path::Path;

fn opts() -> CollectOptions {
    CollectOptions {
        progress: false,
        client: ClientOptions::default(),
    }
}

async fn start(estate: Estate, base: Ipv4Addr) -> Simulator {
    let mut cfg = SimConfig::new(estate);
    cfg.base_address = base;
    cfg.http_port = 0;
    cfg.https_port = Some(0);
    cfg.log_requests = true;
    Simulator::start(cfg).await.expect("simulator starts")
}

fn config(sim: &Simulator, dir: &Path, https_every: usize) -> Config {
    let ca = dir.join("ca.pem");
    std::fs::write(&ca, sim.ca_pem()).unwrap();
    let db = dir.join("hvinv.db");
    config_for(sim, &ca, db.to_str().unwrap(), https_every).unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn demo_estate_is_collected_completely_over_sealed_http_and_https() {
    let estate = Estate::demo(7);
    let sim = start(estate.clone(), Ipv4Addr::new(127, 0, 41, 1)).await;
    let dir = tempfile::tempdir().unwrap();
    let cfg = config(&sim, dir.path(), 3);
    let summary = collect::collect_configured_hosts(&cfg, &cfg.database_url, opts())
        .await
        .unwrap();
    assert_eq!(summary.status, "complete");
    assert_eq!(summary.hosts_total, estate.hosts.len());
    assert_eq!(summary.hosts_failed, 0, "{:?}", summary.failures);
    assert_eq!(summary.hosts_ok, estate.hosts.len());
    let expected_vms: usize = estate.hosts.iter().map(|h| h.realized_vms().count()).sum();
    assert_eq!(summary.vms, expected_vms);
    assert!(
        summary.incomplete_coverage.is_empty(),
        "{:?}",
        summary.incomplete_coverage
    );

    // Read-only, provably: every request that reached any host was one of
    // the four actions, and every WQL filter is one of the fixed selects.
    let allowed: Vec<&str> = [Action::Enumerate, Action::Pull, Action::Release]
        .iter()
        .filter_map(|a| a.uri())
        .chain(["Identify"])
        .collect();
    let wql: Vec<&str> = QUERIES.iter().map(|q| q.wql).collect();
    let log = sim.request_log();
    assert!(
        log.len() > estate.hosts.len() * 5,
        "the log saw the collection"
    );
    for r in &log {
        assert!(
            allowed.contains(&r.action.as_str()),
            "forbidden action on the wire: {r:?}"
        );
        if let Some(f) = &r.filter {
            assert!(wql.contains(&f.as_str()), "WQL outside the fixed set: {f}");
        }
        assert!(r.sealed || r.tls, "a request crossed in clear: {r:?}");
    }
    sim.shutdown().await;
}

/// `--json` printed empty `started_at`/`finished_at` before: the summary
/// must name the run's times, RFC 3339 in UTC, exactly as the run's row.
/// The demo hosts answer refusals in the captured shapes of their release
/// (2008 R2: ProviderFault with the cause as text; 2012+: MSFT_WmiError)
/// and in their language (HV-PARIS French, HV-TOKYO Japanese). Standalone,
/// clustered, 2008 R2 and localized hosts are all collected without a
/// warning, and the run exits 0; a denied cluster namespace still warns.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn real_fault_shapes_cost_no_warning_and_exit_0_and_a_denied_cluster_still_warns() {
    let estate = Estate::demo(12);
    for (name, why) in [
        ("HV-LEGACY", "2008 R2"),
        ("HV-PARIS", "French"),
        ("HV-TOKYO", "Japanese"),
        ("HV-SPARE", "standalone"),
        ("HVA-N1", "clustered"),
    ] {
        assert!(estate.host(name).is_some(), "{why} host {name} in the demo");
    }
    let sim = start(estate.clone(), Ipv4Addr::new(127, 0, 49, 1)).await;
    let dir = tempfile::tempdir().unwrap();
    let cfg = config(&sim, dir.path(), 2);
    let summary = collect::collect_configured_hosts(&cfg, &cfg.database_url, opts())
        .await
        .unwrap();
    sim.shutdown().await;
    assert_eq!(summary.hosts_failed, 0, "{:?}", summary.failures);
    assert!(summary.warnings.is_empty(), "{:?}", summary.warnings);
    assert_eq!(collect::summary_exit(&summary), hvinv::cli::Exit::Ok);

    let mut denied = estate.clone();
    let node = denied
        .hosts
        .iter()
        .position(|h| h.name == "HVB-N1")
        .unwrap();
    denied.hosts[node].faults.cluster_access_denied = true;
    let sim = start(denied, Ipv4Addr::new(127, 0, 50, 1)).await;
    let dir = tempfile::tempdir().unwrap();
    let cfg = config(&sim, dir.path(), 0);
    let summary = collect::collect_configured_hosts(&cfg, &cfg.database_url, opts())
        .await
        .unwrap();
    sim.shutdown().await;
    assert_eq!(summary.hosts_failed, 0, "{:?}", summary.failures);
    assert_eq!(summary.warnings.len(), 1, "{:?}", summary.warnings);
    assert!(
        summary.warnings[0].contains("access denied"),
        "{:?}",
        summary.warnings
    );
    assert_eq!(collect::summary_exit(&summary), hvinv::cli::Exit::Partial);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_run_summary_names_the_stored_start_and_finish_times() {
    let sim = start(Estate::scale(2, 3, 1), Ipv4Addr::new(127, 0, 48, 1)).await;
    let dir = tempfile::tempdir().unwrap();
    let cfg = config(&sim, dir.path(), 0);
    let summary = collect::collect_configured_hosts(&cfg, &cfg.database_url, opts())
        .await
        .unwrap();
    sim.shutdown().await;

    let started = chrono::DateTime::parse_from_rfc3339(&summary.started_at)
        .unwrap_or_else(|e| panic!("started_at {:?}: {e}", summary.started_at));
    let finished = chrono::DateTime::parse_from_rfc3339(&summary.finished_at)
        .unwrap_or_else(|e| panic!("finished_at {:?}: {e}", summary.finished_at));
    assert!(summary.started_at.ends_with('Z') && summary.finished_at.ends_with('Z'));
    assert!(started <= finished);

    let store = Store::open(&cfg.database_url, OpenMode::ReadOnly)
        .await
        .unwrap();
    let run = store
        .reader()
        .run(RunId(summary.run_id))
        .await
        .unwrap()
        .expect("the summary's run is stored");
    assert_eq!(run.started_at, started);
    assert_eq!(run.finished_at, Some(finished.with_timezone(&chrono::Utc)));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_failing_host_never_touches_the_others_and_is_stored_with_its_kind() {
    let mut estate = Estate::demo(8);
    estate.hosts[0].faults.reject_auth = true;
    estate.hosts[1].faults.refuse_connections = true;
    estate.hosts[2].faults.cluster_access_denied = true;
    let sim = start(estate.clone(), Ipv4Addr::new(127, 0, 42, 1)).await;
    let dir = tempfile::tempdir().unwrap();
    let mut cfg = config(&sim, dir.path(), 0);
    for h in &mut cfg.hosts {
        h.timeout = std::time::Duration::from_secs(10);
    }
    let summary = collect::collect_configured_hosts(&cfg, &cfg.database_url, opts())
        .await
        .unwrap();
    assert_eq!(summary.hosts_failed, 2, "{:?}", summary.failures);
    assert_eq!(summary.hosts_ok, estate.hosts.len() - 2);
    let kinds: Vec<ErrorKind> = summary.failures.iter().map(|f| f.kind).collect();
    assert!(kinds.contains(&ErrorKind::Auth), "{kinds:?}");
    assert!(kinds.contains(&ErrorKind::Unreachable), "{kinds:?}");
    assert!(
        summary.warnings.iter().any(|w| w.contains("access denied")),
        "{:?}",
        summary.warnings
    );
    assert_eq!(collect::summary_exit(&summary), hvinv::cli::Exit::Partial);
    sim.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_second_collection_against_the_same_database_is_refused_with_exit_4() {
    let estate = Estate::demo(9);
    let sim = start(estate, Ipv4Addr::new(127, 0, 43, 1)).await;
    let dir = tempfile::tempdir().unwrap();
    let cfg = config(&sim, dir.path(), 0);
    let _held = hvinv::store::Store::lock_for_collection(&cfg.database_url).unwrap();
    let err = collect::collect_configured_hosts(&cfg, &cfg.database_url, opts())
        .await
        .unwrap_err();
    assert_eq!(collect::run_error_exit(&err), hvinv::cli::Exit::Locked);
    sim.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_uncollected_cluster_node_is_reported_as_incomplete_coverage() {
    let estate = Estate::demo(10);
    let sim = start(estate.clone(), Ipv4Addr::new(127, 0, 44, 1)).await;
    let dir = tempfile::tempdir().unwrap();
    let mut cfg = config(&sim, dir.path(), 0);
    // Drop one cluster node that owns clustered VMs from the configuration.
    let (idx, node) = estate
        .hosts
        .iter()
        .enumerate()
        .find(|(_, h)| h.cluster.is_some() && h.realized_vms().any(|v| v.clustered))
        .map(|(i, h)| (i, h.name.clone()))
        .expect("the demo estate has a clustered VM");
    cfg.hosts.remove(idx);
    let summary = collect::collect_configured_hosts(&cfg, &cfg.database_url, opts())
        .await
        .unwrap();
    assert_eq!(summary.hosts_failed, 0, "{:?}", summary.failures);
    assert!(
        summary
            .incomplete_coverage
            .iter()
            .any(|w| w.contains(&node)),
        "{node} missing from {:?}",
        summary.incomplete_coverage
    );
    assert_eq!(collect::summary_exit(&summary), hvinv::cli::Exit::Partial);
    sim.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_name_that_does_not_resolve_is_stored_as_name_not_resolved_not_unreachable() {
    let estate = Estate::demo(11);
    let sim = start(estate, Ipv4Addr::new(127, 0, 45, 1)).await;
    let dir = tempfile::tempdir().unwrap();
    let mut cfg = config(&sim, dir.path(), 0);
    cfg.hosts.truncate(2);
    let mut transport = (*cfg.hosts[0].transport).clone();
    // `.invalid` never resolves (RFC 6761).
    transport.target.address =
        hvinv::transport::Address::new("hv01.hvinv-test.invalid", 5985).unwrap();
    transport.target.connect_to = None;
    cfg.hosts[0].address = "hv01.hvinv-test.invalid".into();
    cfg.hosts[0].transport = std::sync::Arc::new(transport);
    let summary = collect::collect_configured_hosts(&cfg, &cfg.database_url, opts())
        .await
        .unwrap();
    assert_eq!(summary.hosts_failed, 1, "{:?}", summary.failures);
    assert_eq!(summary.failures[0].kind, ErrorKind::NameNotResolved);
    let store = hvinv::store::Store::open(&cfg.database_url, hvinv::store::OpenMode::ReadOnly)
        .await
        .unwrap();
    let stored: Option<String> = sqlx::query_scalar(
        "SELECT error_kind FROM host_outcomes WHERE address = 'hv01.hvinv-test.invalid'",
    )
    .fetch_one(store.pool())
    .await
    .unwrap();
    assert_eq!(stored.as_deref(), Some("name_not_resolved"));
    sim.shutdown().await;
}
