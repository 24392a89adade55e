//! `hvinv check` walks every failure the simulator can inject and names the
//! failing step with the remedy an administrator types.

use hvinv::cli::demo::config_for;
use hvinv::diagnose::{HostCheck, StepStatus, check_host};
use hvinv::simulator::{Estate, HyperVNamespace, SimConfig, Simulator, TlsCertMode};
use hvinv::wsman::ClientOptions;
use std::net::Ipv4Addr;
use std::time::Duration;

fn status<'a>(c: &'a HostCheck, step: &str) -> (&'a StepStatus, String) {
    let s = c
        .steps
        .iter()
        .find(|s| s.name == step)
        .expect("step exists");
    (&s.status, s.remedy.clone().unwrap_or_default())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn check_names_the_failing_step_and_its_remedy_for_every_injected_fault() {
    let mut estate = Estate::demo(31);
    // Standalone hosts make the cluster step's expectations simple.
    let standalone: Vec<usize> = (0..estate.hosts.len())
        .filter(|&i| estate.hosts[i].cluster.is_none())
        .collect();
    let clustered = (0..estate.hosts.len())
        .find(|&i| estate.hosts[i].cluster.is_some())
        .unwrap();
    let good = standalone[0];
    let refused = standalone[1];
    let bad_auth = standalone[2];
    let no_hyperv = standalone[3];
    let vmms = standalone[4];
    estate.hosts[refused].faults.refuse_connections = true;
    estate.hosts[bad_auth].faults.reject_auth = true;
    estate.hosts[no_hyperv].namespace = HyperVNamespace::None;
    estate.hosts[vmms].faults.vmms_stopped = true;
    estate.hosts[clustered].faults.cluster_access_denied = true;
    // TLS faults on three more hosts, checked over HTTPS.
    let tls_hosts: Vec<usize> = (0..estate.hosts.len())
        .filter(|i| ![good, refused, bad_auth, no_hyperv, vmms, clustered].contains(i))
        .take(3)
        .collect();
    estate.hosts[tls_hosts[0]].faults.tls = TlsCertMode::SelfSigned;
    estate.hosts[tls_hosts[1]].faults.tls = TlsCertMode::WrongName;
    estate.hosts[tls_hosts[2]].faults.tls = TlsCertMode::Expired;

    let mut cfg = SimConfig::new(estate.clone());
    cfg.base_address = Ipv4Addr::new(127, 0, 61, 1);
    cfg.http_port = 0;
    cfg.https_port = Some(0);
    let sim = Simulator::start(cfg).await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let ca = dir.path().join("ca.pem");
    std::fs::write(&ca, sim.ca_pem()).unwrap();
    let http = config_for(&sim, &ca, "unused.db", 0).unwrap();
    let https = config_for(&sim, &ca, "unused.db", 1).unwrap();
    let opts = ClientOptions::default();
    let check = |cfgs: &hvinv::cli::config::Config, i: usize| {
        let mut h = cfgs.hosts[i].clone();
        h.timeout = Duration::from_secs(10);
        let opts = opts.clone();
        async move { check_host(&h.address, &h.transport, &opts).await }
    };

    let c = check(&http, good).await;
    assert!(c.ok, "{c:#?}");
    assert!(
        c.steps.iter().all(|s| s.status == StepStatus::Pass),
        "{c:#?}"
    );

    let c = check(&http, refused).await;
    let (st, remedy) = status(&c, "tcp");
    assert_eq!(*st, StepStatus::Fail);
    assert!(remedy.contains("winrm quickconfig"), "{remedy}");
    assert_eq!(*status(&c, "authentication").0, StepStatus::Skip);

    let c = check(&http, bad_auth).await;
    let (st, remedy) = status(&c, "authentication");
    assert_eq!(*st, StepStatus::Fail, "{c:#?}");
    assert!(remedy.contains("LocalAccountTokenFilterPolicy"), "{remedy}");
    assert_eq!(*status(&c, "listener").0, StepStatus::Pass);

    let c = check(&http, no_hyperv).await;
    let (st, remedy) = status(&c, "hyper-v namespace");
    assert_eq!(*st, StepStatus::Fail, "{c:#?}");
    assert!(
        remedy.contains("Install-WindowsFeature Hyper-V"),
        "{remedy}"
    );

    let c = check(&http, vmms).await;
    let (st, remedy) = status(&c, "vmms service");
    assert_eq!(*st, StepStatus::Fail, "{c:#?}");
    assert!(remedy.contains("Start-Service vmms"), "{remedy}");

    let c = check(&http, clustered).await;
    let (st, remedy) = status(&c, "cluster namespace");
    assert_eq!(*st, StepStatus::Warn, "{c:#?}");
    assert!(remedy.contains("Grant-ClusterAccess"), "{remedy}");
    assert!(
        c.ok,
        "a denied cluster namespace is a warning, not a failure"
    );

    for (i, needle) in [
        (tls_hosts[0], "ca_file"),
        (tls_hosts[1], "does not name"),
        (tls_hosts[2], "expired"),
    ] {
        let c = check(&https, i).await;
        let (st, remedy) = status(&c, "transport security");
        assert_eq!(*st, StepStatus::Fail, "{c:#?}");
        assert!(remedy.contains(needle), "{needle} not in {remedy}");
    }

    sim.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_name_that_does_not_resolve_fails_the_tcp_step_with_the_dns_remedy() {
    let estate = Estate::demo(32);
    let mut cfg = SimConfig::new(estate);
    cfg.base_address = Ipv4Addr::new(127, 0, 62, 1);
    cfg.http_port = 0;
    cfg.https_port = Some(0);
    let sim = Simulator::start(cfg).await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let ca = dir.path().join("ca.pem");
    std::fs::write(&ca, sim.ca_pem()).unwrap();
    let config = config_for(&sim, &ca, "unused.db", 0).unwrap();
    let mut transport = (*config.hosts[0].transport).clone();
    // `.invalid` never resolves (RFC 6761).
    transport.target.address =
        hvinv::transport::Address::new("hv01.hvinv-test.invalid", 5985).unwrap();
    transport.target.connect_to = None;
    let c = check_host(
        "hv01.hvinv-test.invalid",
        &std::sync::Arc::new(transport),
        &ClientOptions::default(),
    )
    .await;
    let (st, remedy) = status(&c, "tcp");
    assert_eq!(*st, StepStatus::Fail, "{c:#?}");
    assert!(remedy.contains("DNS"), "{remedy}");
    assert!(!remedy.contains("winrm quickconfig"), "{remedy}");
    let detail = &c.steps[0].detail;
    assert!(detail.contains("does not resolve"), "{detail}");
    sim.shutdown().await;
}

/// Every healthy host of the demo estate is all green over sealed HTTP and
/// HTTPS: standalone (no MSCluster listed: passes without a cluster
/// select), clustered, 2008 R2 (v2 not listed: the v1 provider), and the
/// French and Japanese hosts, whose refusals are localized text only.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_healthy_demo_host_is_all_green() {
    let estate = Estate::demo(33);
    let mut cfg = SimConfig::new(estate.clone());
    cfg.base_address = Ipv4Addr::new(127, 0, 64, 1);
    cfg.http_port = 0;
    cfg.https_port = Some(0);
    let sim = Simulator::start(cfg).await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let ca = dir.path().join("ca.pem");
    std::fs::write(&ca, sim.ca_pem()).unwrap();
    let http = config_for(&sim, &ca, "unused.db", 0).unwrap();
    let https = config_for(&sim, &ca, "unused.db", 1).unwrap();
    for cfgs in [&http, &https] {
        for (i, host) in estate.hosts.iter().enumerate() {
            let h = &cfgs.hosts[i];
            let c = check_host(&h.address, &h.transport, &ClientOptions::default()).await;
            assert!(c.ok, "{}: {c:#?}", host.name);
            assert!(
                c.steps.iter().all(|s| s.status == StepStatus::Pass),
                "{}: {c:#?}",
                host.name
            );
            let cluster = c
                .steps
                .iter()
                .find(|s| s.name == "cluster namespace")
                .unwrap();
            match &host.cluster {
                Some(name) => assert!(cluster.detail.contains(name.as_str()), "{cluster:?}"),
                None => assert!(cluster.detail.contains("standalone"), "{cluster:?}"),
            }
            if host.name == "HV-LEGACY" {
                let hv = c
                    .steps
                    .iter()
                    .find(|s| s.name == "hyper-v namespace")
                    .unwrap();
                assert!(hv.detail.contains("2008 R2"), "{hv:?}");
            }
        }
    }
    sim.shutdown().await;
}
