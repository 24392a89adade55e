//! Each injected host fault, seen through the real client: the simulator
//! must make every failure mode reachable, and the client must classify
//! it as `shared/spec` says.

use hvinv::error::{ErrorKind, HasKind};
use hvinv::simulator::{
    DEFAULT_ACCOUNT, DEFAULT_PASSWORD, Estate, HostFaults, SimConfig, SimEndpoint, Simulator,
    TlsCertMode,
};
use hvinv::transport::{Connection, Credentials, Scheme, Target, Timeouts, TransportConfig};
use hvinv::wsman::{Client, ClientOptions, WsmanError};
use secrecy::SecretString;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// A small estate: the demo's first `n` hosts, with faults applied.
fn estate(faults: &[(usize, HostFaults)]) -> Estate {
    let mut e = Estate::demo(99);
    for (i, f) in faults {
        e.hosts[*i].faults = f.clone();
    }
    e
}

async fn start(e: Estate) -> Simulator {
    let mut cfg = SimConfig::new(e);
    cfg.http_port = 0;
    cfg.https_port = Some(0);
    cfg.threads = 1;
    Simulator::start(cfg).await.expect("simulator starts")
}

fn client(ep: &SimEndpoint, scheme: Scheme, ca: Option<std::path::PathBuf>) -> Client {
    let addr = match scheme {
        Scheme::Http => ep.http,
        Scheme::Https => ep.https.expect("https"),
    };
    let mut target = Target::on_default_port(&ep.tls_name, scheme).unwrap();
    target.set_port(addr.port());
    target.connect_to = Some(addr);
    let creds = Credentials::parse(
        DEFAULT_ACCOUNT,
        SecretString::from(DEFAULT_PASSWORD.to_string()),
    );
    let mut cfg = TransportConfig::new(target, creds);
    cfg.tls.ca_file = ca;
    cfg.timeouts = Timeouts {
        connect: Duration::from_secs(2),
        request: Duration::from_secs(1),
    };
    let opts = ClientOptions {
        operation_timeout: Duration::from_secs(1),
        ..ClientOptions::default()
    };
    Client::new(Connection::new(Arc::new(cfg)), opts)
}

async fn bios(c: &mut Client) -> Result<usize, WsmanError> {
    c.enumerate_wql("root/cimv2", "SELECT * FROM Win32_BIOS")
        .await
        .map(|v| v.len())
}

fn faults(f: impl FnOnce(&mut HostFaults)) -> HostFaults {
    let mut h = HostFaults::default();
    f(&mut h);
    h
}

#[tokio::test]
async fn transport_level_faults_map_to_their_kinds() {
    let cases: Vec<(HostFaults, &[ErrorKind])> = vec![
        (
            faults(|f| f.refuse_connections = true),
            &[ErrorKind::Unreachable],
        ),
        (faults(|f| f.stall = true), &[ErrorKind::Timeout]),
        (faults(|f| f.reject_auth = true), &[ErrorKind::Auth]),
        (faults(|f| f.malformed_xml = true), &[ErrorKind::Protocol]),
        (faults(|f| f.doctype_body = true), &[ErrorKind::Protocol]),
        (faults(|f| f.huge_body = true), &[ErrorKind::Protocol]),
        (
            faults(|f| f.truncated_signature = true),
            &[ErrorKind::Protocol, ErrorKind::Auth],
        ),
        (
            faults(|f| f.operation_timeout = true),
            &[ErrorKind::Timeout],
        ),
        (
            faults(|f| f.close_mid_body = true),
            &[ErrorKind::Unreachable, ErrorKind::Protocol],
        ),
    ];
    let e = estate(
        &cases
            .iter()
            .enumerate()
            .map(|(i, (f, _))| (i, f.clone()))
            .collect::<Vec<_>>(),
    );
    let sim = start(e).await;
    let eps = sim.endpoints();
    for (i, (f, kinds)) in cases.iter().enumerate() {
        let started = Instant::now();
        let mut c = client(&eps[i], Scheme::Http, None);
        let err = bios(&mut c).await.expect_err(&format!("{f:?} must fail"));
        assert!(
            kinds.contains(&err.kind()),
            "{f:?}: got {:?} ({err})",
            err.kind()
        );
        assert!(
            started.elapsed() < Duration::from_secs(15),
            "{f:?} took {:?}",
            started.elapsed()
        );
    }
    // A healthy host in the same estate still works.
    let mut c = client(&eps[cases.len()], Scheme::Http, None);
    assert_eq!(bios(&mut c).await.expect("healthy host"), 1);
    sim.shutdown().await;
}

#[tokio::test]
async fn certificate_faults_are_tls_errors() {
    let modes = [
        TlsCertMode::SelfSigned,
        TlsCertMode::WrongName,
        TlsCertMode::Expired,
    ];
    let e = estate(
        &modes
            .iter()
            .enumerate()
            .map(|(i, m)| (i, faults(|f| f.tls = *m)))
            .collect::<Vec<_>>(),
    );
    let sim = start(e).await;
    let dir = tempfile::tempdir().unwrap();
    let ca = dir.path().join("ca.pem");
    std::fs::write(&ca, sim.ca_pem()).unwrap();
    let eps = sim.endpoints();
    for (i, m) in modes.iter().enumerate() {
        let mut c = client(&eps[i], Scheme::Https, Some(ca.clone()));
        let err = bios(&mut c).await.expect_err("bad certificate");
        assert_eq!(err.kind(), ErrorKind::Tls, "{m:?}: {err}");
    }
    let mut c = client(&eps[modes.len()], Scheme::Https, Some(ca.clone()));
    assert_eq!(bios(&mut c).await.expect("good certificate"), 1);
    sim.shutdown().await;
}

#[tokio::test]
async fn wmi_level_faults_are_faults_with_codes() {
    // Host 0 (HVA-N1) is a cluster node; host 1 (HVA-N2) too.
    let e = estate(&[
        (0, faults(|f| f.cluster_access_denied = true)),
        (1, faults(|f| f.vmms_stopped = true)),
    ]);
    let sim = start(e).await;
    let eps = sim.endpoints();
    let mut c = client(&eps[0], Scheme::Http, None);
    let err = c
        .enumerate_wql("root/MSCluster", "SELECT * FROM MSCluster_Node")
        .await
        .expect_err("denied");
    assert_eq!(err.kind(), ErrorKind::AccessDenied);
    assert!(
        c.enumerate_wql(
            "root/virtualization/v2",
            "SELECT * FROM Msvm_ComputerSystem"
        )
        .await
        .is_ok()
    );

    let mut c = client(&eps[1], Scheme::Http, None);
    let err = c
        .enumerate_wql(
            "root/virtualization/v2",
            "SELECT * FROM Msvm_ComputerSystem",
        )
        .await
        .expect_err("vmms stopped");
    // As on a real 2012+ host: only CannotProcessFilter, the cause as text.
    let fault = err.fault().expect("a SOAP fault");
    assert!(fault.is_cannot_process_filter(), "{fault:?}");
    assert_eq!(fault.provider_code, None, "{fault:?}");
    assert!(err.to_string().contains("Provider load failure"), "{err}");
    let svc = c
        .enumerate_wql(
            "root/cimv2",
            "SELECT Name, State FROM Win32_Service WHERE Name='vmms'",
        )
        .await
        .expect("service query");
    assert_eq!(svc[0].text("State"), Some("Stopped"));
    sim.shutdown().await;
}

#[tokio::test]
async fn old_release_refuses_newer_properties_with_invalid_query() {
    let sim = start(Estate::demo(99)).await;
    let eps = sim.endpoints();
    let e = Estate::demo(99);
    let idx = e.hosts.iter().position(|h| h.name == "HV-OLD2012").unwrap();
    let mut c = client(&eps[idx], Scheme::Http, None);
    let err = c
        .enumerate_wql(
            "root/virtualization/v2",
            "SELECT InstanceID, VirtualSystemSubType FROM Msvm_VirtualSystemSettingData",
        )
        .await
        .expect_err("2012 lacks VirtualSystemSubType");
    assert!(
        err.fault().is_some_and(|f| f.is_cannot_process_filter()),
        "{err:?}"
    );
    let all = c
        .enumerate_wql(
            "root/virtualization/v2",
            "SELECT * FROM Msvm_VirtualSystemSettingData",
        )
        .await
        .expect("SELECT * works");
    assert!(all.iter().all(|i| !i.has("VirtualSystemSubType")));
    // 2008 R2: the v2 namespace is missing, v1 answers.
    let legacy = e.hosts.iter().position(|h| h.name == "HV-LEGACY").unwrap();
    let mut c = client(&eps[legacy], Scheme::Http, None);
    let err = c
        .enumerate_wql(
            "root/virtualization/v2",
            "SELECT * FROM Msvm_ComputerSystem",
        )
        .await
        .expect_err("no v2");
    // WinRM 2.0: a ProviderFault whose nested WSManFault has the same code.
    let f = err.fault().expect("a SOAP fault");
    assert!(f.is_cannot_process_filter(), "{f:?}");
    assert!(f.wsman_codes.iter().all(|&c| c == 2_150_858_778), "{f:?}");
    assert!(err.to_string().contains("Invalid namespace"), "{err}");
    let v1 = c
        .enumerate_wql(
            "root/virtualization",
            "SELECT * FROM Msvm_VirtualSystemSettingData WHERE SettingType = 3",
        )
        .await
        .expect("v1");
    assert_eq!(v1.len(), e.hosts[legacy].vms.len());
    sim.shutdown().await;
}
