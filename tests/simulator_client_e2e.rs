//! The real client (`transport` + `wsman`) against the simulator, over
//! sealed HTTP and over HTTPS. Expected values come from the estate
//! definition (`Estate::demo`), never from the client's own output.

use hvinv::error::{ErrorKind, HasKind};
use hvinv::simulator::{
    DEFAULT_ACCOUNT, DEFAULT_PASSWORD, Estate, SimConfig, SimEndpoint, Simulator,
};
use hvinv::transport::{Connection, Credentials, Scheme, Target, TransportConfig};
use hvinv::wsman::{Client, ClientOptions, Value};
use secrecy::SecretString;
use std::sync::Arc;

const SEED: u64 = 20261123;

async fn start(estate: Estate) -> Simulator {
    let mut cfg = SimConfig::new(estate);
    cfg.http_port = 0;
    cfg.https_port = Some(0);
    cfg.log_requests = true;
    cfg.threads = 1;
    Simulator::start(cfg).await.expect("simulator starts")
}

fn client(
    ep: &SimEndpoint,
    scheme: Scheme,
    password: &str,
    ca_file: Option<std::path::PathBuf>,
) -> Client {
    let addr = match scheme {
        Scheme::Http => ep.http,
        Scheme::Https => ep.https.expect("https listener"),
    };
    let mut target = Target::on_default_port(&ep.tls_name, scheme).unwrap();
    target.set_port(addr.port());
    target.connect_to = Some(addr);
    let mut cfg = TransportConfig::new(
        target,
        Credentials::parse(DEFAULT_ACCOUNT, SecretString::from(password.to_string())),
    );
    cfg.tls.ca_file = ca_file;
    Client::new(Connection::new(Arc::new(cfg)), ClientOptions::default())
}

fn endpoint<'a>(sim: &'a [SimEndpoint], name: &str) -> &'a SimEndpoint {
    sim.iter()
        .find(|e| e.host_name == name)
        .expect("host in estate")
}

fn text(v: Option<&Value>) -> Option<String> {
    match v {
        Some(Value::Text(s)) => Some(s.clone()),
        _ => None,
    }
}

#[tokio::test]
async fn sealed_http_enumerates_hosts_and_pages_through_a_big_host() {
    let estate = Estate::demo(SEED);
    let big = estate.host("HV-BIG").unwrap().clone();
    let sim = start(estate).await;
    let eps = sim.endpoints();

    let mut c = client(
        endpoint(&eps, "HV-BIG"),
        Scheme::Http,
        DEFAULT_PASSWORD,
        None,
    );
    let info = c.identify().await.expect("identify");
    assert_eq!(
        info.product_vendor.as_deref(),
        Some("Microsoft Corporation")
    );

    let cs = c
        .enumerate_wql(
            "root/cimv2",
            "SELECT Name, NumberOfLogicalProcessors FROM Win32_ComputerSystem",
        )
        .await
        .expect("Win32_ComputerSystem");
    assert_eq!(cs.len(), 1);
    assert_eq!(text(cs[0].get("Name")), Some(big.name.clone()));
    assert_eq!(
        cs[0].u64("NumberOfLogicalProcessors"),
        Some(u64::from(big.total_logical()))
    );

    // 300 VMs + the host row, 100 per page: Enumerate + 3 Pulls.
    let systems = c
        .enumerate_wql(
            "root/virtualization/v2",
            "SELECT * FROM Msvm_ComputerSystem",
        )
        .await
        .expect("Msvm_ComputerSystem");
    assert_eq!(systems.len(), big.vms.len() + 1);
    let mut names: Vec<String> = systems
        .iter()
        .skip(1)
        .filter_map(|i| text(i.get("Name")))
        .collect();
    let mut expected: Vec<String> = big.vms.iter().map(|v| v.guid.clone()).collect();
    names.sort();
    expected.sort();
    assert_eq!(names, expected);
    c.close().await;

    let log = sim.request_log();
    let pulls = log.iter().filter(|r| r.action.ends_with("/Pull")).count();
    assert_eq!(pulls, 3, "pages of 100 over 301 items");
    assert!(log.iter().all(|r| r.sealed && !r.tls));
    assert!(
        log.iter()
            .all(|r| r.authenticated_user.as_deref() == Some("CONTOSO\\svc-inventory"))
    );
    sim.shutdown().await;
}

#[tokio::test]
async fn awkward_vm_names_round_trip_exactly() {
    let estate = Estate::demo(SEED);
    let paris = estate.host("HV-PARIS").unwrap().clone();
    let tokyo = estate.host("HV-TOKYO").unwrap().clone();
    let sim = start(estate).await;
    let eps = sim.endpoints();
    for host in [&paris, &tokyo] {
        let mut c = client(
            endpoint(&eps, &host.name),
            Scheme::Http,
            DEFAULT_PASSWORD,
            None,
        );
        let rows = c
            .enumerate_wql(
                "root/virtualization/v2",
                "SELECT Name, ElementName FROM Msvm_ComputerSystem",
            )
            .await
            .expect("enumerate");
        for vm in &host.vms {
            let row = rows
                .iter()
                .find(|r| text(r.get("Name")).as_deref() == Some(vm.guid.as_str()))
                .expect("vm row");
            assert_eq!(text(row.get("ElementName")), Some(vm.name.clone()));
        }
        c.close().await;
    }
    sim.shutdown().await;
}

#[tokio::test]
async fn https_with_the_simulator_ca_enumerates_the_cluster() {
    let estate = Estate::demo(SEED);
    let expected_owners = estate.cluster("CLU-A").unwrap().vm_owners(&estate);
    let sim = start(estate).await;
    let dir = tempfile::tempdir().unwrap();
    let ca = dir.path().join("ca.pem");
    std::fs::write(&ca, sim.ca_pem()).unwrap();
    let eps = sim.endpoints();
    let mut c = client(
        endpoint(&eps, "HVA-N2"),
        Scheme::Https,
        DEFAULT_PASSWORD,
        Some(ca),
    );
    let res = c
        .enumerate_wql(
            "root/MSCluster",
            "SELECT Name, OwnerNode, PrivateProperties FROM MSCluster_Resource WHERE Type='Virtual Machine'",
        )
        .await
        .expect("cluster resources");
    assert_eq!(res.len(), expected_owners.len());
    for (guid, _, owner) in &expected_owners {
        let r = res
            .iter()
            .find(|r| {
                r.embedded("PrivateProperties").and_then(|p| p.text("VmID")) == Some(guid.as_str())
            })
            .expect("resource for vm");
        assert_eq!(r.text("OwnerNode"), Some(owner.as_str()));
    }
    c.close().await;
    assert!(sim.request_log().iter().all(|r| r.tls && !r.sealed));
    sim.shutdown().await;
}

#[tokio::test]
async fn wrong_password_is_an_auth_failure() {
    let sim = start(Estate::demo(SEED)).await;
    let eps = sim.endpoints();
    let mut c = client(
        endpoint(&eps, "HV-EDGE01"),
        Scheme::Http,
        "not-the-password",
        None,
    );
    let err = c.identify().await.expect_err("must fail");
    assert_eq!(err.kind(), ErrorKind::Auth);
    assert!(sim.stats().auth_failures >= 1);
    sim.shutdown().await;
}

/// As real hosts do (research note: captures), the simulator refuses a
/// select on a missing namespace or class only with `CannotProcessFilter`
/// (no WMI code on the wire), here on a 2019 host in French: the class is
/// "WMI refused the select", and the host's own text is kept.
#[tokio::test]
async fn missing_namespace_and_unknown_class_are_refusals_in_the_hosts_language() {
    use hvinv::wsman::FaultClass;
    let sim = start(Estate::demo(SEED)).await;
    let eps = sim.endpoints();
    let mut c = client(
        endpoint(&eps, "HV-PARIS"),
        Scheme::Http,
        DEFAULT_PASSWORD,
        None,
    );
    let e = c
        .enumerate_wql("root/MSCluster", "SELECT * FROM MSCluster_Cluster")
        .await
        .expect_err("standalone host");
    let f = e.fault().expect("a SOAP fault");
    assert_eq!(f.class(), FaultClass::FilterRefused, "{f:?}");
    assert_eq!(f.error_class(), Some("MSFT_WmiError"), "{f:?}");
    assert_eq!(f.provider_code, None, "{f:?}");
    assert!(e.to_string().contains("Espace de noms"), "{e}");
    let e = c
        .enumerate_wql("root/cimv2", "SELECT * FROM Win32_NoSuchClass")
        .await
        .expect_err("bad class");
    assert_eq!(
        e.fault().map(|f| f.class()),
        Some(FaultClass::FilterRefused)
    );
    assert!(e.to_string().contains("La classe spécifiée"), "{e}");
    // The connection survives faults.
    assert!(
        c.enumerate_wql("root/cimv2", "SELECT * FROM Win32_BIOS")
            .await
            .is_ok()
    );
    c.close().await;
    sim.shutdown().await;
}
