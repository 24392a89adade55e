//! `collect_host` over the real client against the simulator. Expected
//! values are computed from the `Estate` definition, never from output.

use hvinv::error::{ErrorKind, HasKind};
use hvinv::inventory::{Guid, HostSnapshot, QUERIES, Replication, VmState, collect_host};
use hvinv::simulator::{
    self, DEFAULT_ACCOUNT, DEFAULT_PASSWORD, Estate, HyperVNamespace, SimConfig, SimEndpoint,
    SimHost, Simulator,
};
use hvinv::transport::{Connection, Credentials, Scheme, Target, TransportConfig};
use hvinv::wsman::{Client, ClientOptions};
use secrecy::SecretString;
use std::sync::Arc;

const SEED: u64 = 7;

async fn start(estate: Estate) -> Simulator {
    let mut cfg = SimConfig::new(estate);
    cfg.http_port = 0;
    cfg.https_port = None;
    cfg.threads = 1;
    cfg.log_requests = true;
    Simulator::start(cfg).await.expect("simulator starts")
}

fn client(ep: &SimEndpoint) -> Client {
    let mut target = Target::on_default_port(&ep.tls_name, Scheme::Http).unwrap();
    target.set_port(ep.http.port());
    target.connect_to = Some(ep.http);
    let cfg = TransportConfig::new(
        target,
        Credentials::parse(
            DEFAULT_ACCOUNT,
            SecretString::from(DEFAULT_PASSWORD.to_string()),
        ),
    );
    Client::new(Connection::new(Arc::new(cfg)), ClientOptions::default())
}

async fn collect(
    sim: &Simulator,
    name: &str,
) -> Result<HostSnapshot, hvinv::inventory::CollectError> {
    let eps = sim.endpoints();
    let ep = eps.iter().find(|e| e.host_name == name).expect("endpoint");
    let mut c = client(ep);
    let r = collect_host(&mut c).await;
    c.close().await;
    r
}

fn expected_state(s: simulator::VmState) -> VmState {
    match s {
        simulator::VmState::Running => VmState::Running,
        simulator::VmState::Off => VmState::Off,
        simulator::VmState::Paused => VmState::Paused,
        simulator::VmState::Saved => VmState::Saved,
        simulator::VmState::Starting => VmState::Starting,
        simulator::VmState::Stopping => VmState::Stopping,
    }
}

fn check_host(estate: &Estate, h: &SimHost, s: &HostSnapshot) {
    let n = &h.name;
    assert_eq!(s.name.as_deref(), Some(n.as_str()), "{n}");
    assert_eq!(s.fqdn, Some(h.fqdn()), "{n}");
    assert_eq!(s.identity.uuid, Some(h.uuid.to_uppercase()), "{n}");
    assert_eq!(s.identity.serial.as_deref(), Some(h.serial.as_str()), "{n}");
    assert_eq!(
        s.manufacturer.as_deref(),
        Some(h.manufacturer.as_str()),
        "{n}"
    );
    assert_eq!(s.model.as_deref(), Some(h.model.as_str()), "{n}");
    assert_eq!(
        s.os,
        Some(format!("{} {}", h.os_caption, h.os_version)),
        "{n}"
    );
    assert_eq!(s.os_build.as_deref(), Some(h.os_build.as_str()), "{n}");
    assert_eq!(s.sockets, Some(h.cpus.len() as u32), "{n}");
    assert_eq!(s.cores, Some(h.total_cores()), "{n}");
    assert_eq!(s.logical_processors, Some(h.total_logical()), "{n}");
    assert_eq!(s.memory_mb, Some(h.memory_bytes / (1024 * 1024)), "{n}");
    assert_eq!(s.processors.len(), h.cpus.len(), "{n}");
    assert_eq!(
        s.processor_model.as_deref(),
        Some(h.cpus[0].name.trim()),
        "{n}"
    );
    assert_eq!(
        s.processor_vendor.as_deref(),
        Some(h.cpus[0].manufacturer.as_str()),
        "{n}"
    );
    let ns = match h.namespace {
        HyperVNamespace::V2 => "root/virtualization/v2",
        HyperVNamespace::V1 => "root/virtualization",
        HyperVNamespace::None => unreachable!("not a Hyper-V host"),
    };
    assert_eq!(s.hyperv_namespace.as_deref(), Some(ns), "{n}");

    let mut want: Vec<_> = h.realized_vms().collect();
    want.sort_by(|a, b| a.guid.cmp(&b.guid));
    let got: Vec<&str> = s.vms.iter().map(|v| v.guid.as_str()).collect();
    let want_guids: Vec<String> = want.iter().map(|v| v.guid.to_uppercase()).collect();
    assert_eq!(got, want_guids, "{n}: VM set");
    for (v, w) in s.vms.iter().zip(&want) {
        let g = &w.guid;
        assert_eq!(v.name.as_deref(), Some(w.name.as_str()), "{g}");
        assert_eq!(v.state, expected_state(w.state), "{g}");
        assert_eq!(v.enabled_state, Some(w.state.enabled_state()), "{g}");
        assert_eq!(v.vcpus, Some(w.vcpus), "{g}: checkpoints must not count");
        assert_eq!(v.memory_mb, Some(w.memory_mb), "{g}");
        assert_eq!(v.dynamic_memory, Some(w.dynamic_memory), "{g}");
        assert_eq!(v.cpu_limit_pct, Some(w.cpu_limit as f64 / 1000.0), "{g}");
        assert_eq!(v.cpu_weight, Some(w.cpu_weight), "{g}");
        assert_eq!(v.generation, Some(w.generation), "{g}");
        assert_eq!(
            v.bios_guid.as_deref().map(str::to_uppercase),
            Some(w.bios_guid.trim_matches(['{', '}']).to_uppercase()),
            "{g}"
        );
        let repl = match w.replication_mode {
            0 => Replication::None,
            1 => Replication::Primary,
            2 => Replication::Replica,
            3 => Replication::TestReplica,
            4 => Replication::ExtendedReplica,
            _ => Replication::Other,
        };
        // 2008 R2 has no Hyper-V Replica: the property is absent there.
        if h.namespace == HyperVNamespace::V2 {
            assert_eq!(v.replication, repl, "{g}");
        }
        assert_eq!(v.clustered, w.clustered && h.cluster.is_some(), "{g}");
    }

    match &h.cluster {
        None => assert!(s.cluster.is_none(), "{n}"),
        Some(name) => {
            let c = s.cluster.as_ref().expect("cluster");
            let def = estate.cluster(name).expect("cluster in estate");
            assert_eq!(c.name, def.name.to_uppercase());
            assert_eq!(c.fqdn.as_deref(), Some(def.fqdn.to_lowercase().as_str()));
            let mut nodes = def.nodes.clone();
            nodes.sort();
            let got: Vec<&str> = c.nodes.iter().map(|x| x.name.as_str()).collect();
            assert_eq!(got, nodes);
            let mut owners: Vec<(String, String)> = def
                .vm_owners(estate)
                .into_iter()
                .map(|(g, _, node)| (g.to_uppercase(), node))
                .collect();
            owners.sort();
            let mut got: Vec<(String, String)> = c
                .vm_owners
                .iter()
                .map(|o| {
                    (
                        o.vm_guid.clone().map(Guid::into_string).unwrap_or_default(),
                        o.owner_node.clone().unwrap_or_default(),
                    )
                })
                .collect();
            got.sort();
            assert_eq!(got, owners, "{n}: cluster VM owners");
        }
    }
    assert!(s.warnings.is_empty(), "{n}: {:?}", s.warnings);
}

#[tokio::test]
async fn every_demo_host_matches_its_estate_definition() {
    let estate = Estate::demo(SEED);
    let sim = start(estate.clone()).await;
    let (mut hosts, mut vms, mut with_checkpoints) = (0, 0, 0);
    for h in &estate.hosts {
        if h.namespace == HyperVNamespace::None || h.faults != Default::default() {
            continue;
        }
        hosts += 1;
        vms += h.realized_vms().count();
        with_checkpoints += h
            .realized_vms()
            .filter(|v| !v.checkpoints.is_empty())
            .count();
        let s = collect(&sim, &h.name)
            .await
            .unwrap_or_else(|e| panic!("{}: {e}", h.name));
        check_host(&estate, h, &s);
    }
    // On the wire: only enumerations, each carrying a select from the list.
    let log = sim.request_log();
    assert!(!log.is_empty());
    for r in &log {
        let verb = r.action.rsplit('/').next().unwrap_or_default();
        assert!(
            ["Enumerate", "Pull", "Release"].contains(&verb),
            "{}",
            r.action
        );
        if verb == "Enumerate" {
            let wql = r.filter.as_deref().expect("a WQL filter");
            let uri = r.resource_uri.as_deref().expect("a resource URI");
            assert!(
                QUERIES
                    .iter()
                    .any(|q| q.wql == wql.trim()
                        && uri.ends_with(&format!("/wmi/{}/*", q.namespace))),
                "{uri} {wql}"
            );
        }
    }
    // The demo estate must keep exercising the pitfalls this test is for.
    assert!(hosts >= 10, "{hosts} hosts checked");
    assert!(vms > 300, "{vms} VMs checked");
    assert!(with_checkpoints > 0);
    assert!(
        estate
            .hosts
            .iter()
            .any(|h| h.locale != simulator::Locale::En)
    );
    assert!(
        estate
            .hosts
            .iter()
            .any(|h| h.namespace == HyperVNamespace::V1)
    );
    sim.shutdown().await;
}

#[tokio::test]
async fn host_faults_become_failures_or_warnings_as_specified() {
    let mut estate = Estate::demo(SEED);
    estate
        .hosts
        .retain(|h| ["HVA-N1", "HV-EDGE01", "HV-SPARE"].contains(&h.name.as_str()));
    for h in &mut estate.hosts {
        match h.name.as_str() {
            "HVA-N1" => h.faults.cluster_access_denied = true,
            "HV-EDGE01" => h.namespace = HyperVNamespace::None,
            _ => {
                h.vmms_running = false;
                h.faults.vmms_stopped = true;
            }
        }
    }
    let sim = start(estate).await;

    let n1 = collect(&sim, "HVA-N1")
        .await
        .expect("cluster denied is not a failure");
    assert!(n1.cluster.is_none());
    assert_eq!(
        n1.warnings,
        vec!["cluster namespace: access denied".to_string()]
    );
    assert!(!n1.vms.is_empty());

    let edge = collect(&sim, "HV-EDGE01").await.unwrap_err();
    assert_eq!(edge.kind(), ErrorKind::Namespace, "{edge}");
    assert!(edge.to_string().contains("Hyper-V"), "{edge}");

    // A stopped vmms makes the Hyper-V provider fail: the host fails as
    // "namespace", naming the service.
    let spare = collect(&sim, "HV-SPARE").await.unwrap_err();
    assert_eq!(spare.kind(), ErrorKind::Namespace, "{spare}");
    assert!(spare.to_string().contains("vmms"), "{spare}");
    sim.shutdown().await;
}
