//! `wsman::Client` behaviour that needs a peer: Release of an abandoned
//! enumeration, the request counter, and a fault that only the WMI
//! provider can raise, over sealed HTTP against the simulator. Expected
//! values come from the simulator's estate definition and page size.

use hvinv::error::{ErrorKind, HasKind};
use hvinv::simulator::{
    DEFAULT_ACCOUNT, DEFAULT_PASSWORD, Estate, SimConfig, SimEndpoint, Simulator,
};
use hvinv::transport::{Connection, Credentials, Scheme, Target, TransportConfig};
use hvinv::wsman::{Client, ClientOptions, WsmanError};
use secrecy::SecretString;
use std::sync::Arc;

const SEED: u64 = 20261123;
const PAGE: usize = 100;

async fn start() -> (Simulator, Estate) {
    let estate = Estate::demo(SEED);
    let mut cfg = SimConfig::new(estate.clone());
    cfg.http_port = 0;
    cfg.https_port = None;
    cfg.log_requests = true;
    cfg.threads = 1;
    cfg.page_size = PAGE;
    (
        Simulator::start(cfg).await.expect("simulator starts"),
        estate,
    )
}

fn client(sim: &Simulator, host: &str) -> Client {
    let eps: Vec<SimEndpoint> = sim.endpoints();
    let ep = eps
        .iter()
        .find(|e| e.host_name == host)
        .expect("host in estate");
    let mut target = Target::on_default_port(&ep.tls_name, Scheme::Http).unwrap();
    target.set_port(ep.http.port());
    target.connect_to = Some(ep.http);
    let creds = Credentials::parse(
        DEFAULT_ACCOUNT,
        SecretString::from(DEFAULT_PASSWORD.to_string()),
    );
    Client::new(
        Connection::new(Arc::new(TransportConfig::new(target, creds))),
        ClientOptions::default(),
    )
}

fn actions(sim: &Simulator) -> Vec<String> {
    sim.request_log()
        .into_iter()
        .map(|r| r.action.rsplit('/').next().unwrap_or_default().to_string())
        .collect()
}

#[tokio::test]
async fn enumeration_abandoned_at_the_item_cap_is_released() {
    let (sim, estate) = start().await;
    let rows = estate.host("HV-BIG").expect("HV-BIG").vms.len() + 1;
    assert!(rows > 2 * PAGE, "the estate must need at least two Pulls");
    // The first page fits under the cap, the second one does not.
    let cap = PAGE + PAGE / 2;
    let mut c = client(&sim, "HV-BIG").with_max_instances(cap);
    let err = c
        .enumerate_wql(
            "root/virtualization/v2",
            "SELECT * FROM Msvm_ComputerSystem",
        )
        .await
        .unwrap_err();
    assert!(
        matches!(err, WsmanError::TooManyInstances { limit } if limit == cap),
        "{err}"
    );
    assert_eq!(err.kind(), ErrorKind::Protocol);
    assert_eq!(actions(&sim), ["Enumerate", "Pull", "Release"]);
    assert_eq!(c.requests(), 3);
    c.close().await;
    sim.shutdown().await;
}

#[tokio::test]
async fn request_counter_matches_the_soap_requests_the_peer_answered() {
    let (sim, estate) = start().await;
    let rows = estate.host("HV-BIG").expect("HV-BIG").vms.len() + 1;
    let mut c = client(&sim, "HV-BIG");
    c.identify().await.expect("identify");
    let all = c
        .enumerate_wql(
            "root/virtualization/v2",
            "SELECT * FROM Msvm_ComputerSystem",
        )
        .await
        .expect("enumerate");
    assert_eq!(all.len(), rows);
    // Identify + Enumerate + one Pull per further page.
    let expected = 2 + (rows - 1) / PAGE;
    assert_eq!(c.requests(), expected as u64);
    assert_eq!(sim.stats().soap_requests, expected as u64);
    let log = actions(&sim);
    assert_eq!(log.first().map(String::as_str), Some("Identify"));
    assert!(
        !log.iter().any(|a| a == "Release"),
        "a completed enumeration needs no Release"
    );
    c.close().await;
    sim.shutdown().await;
}

/// A 2012+ host refuses a select naming a property its release lacks with
/// only `CannotProcessFilter` (no WMI code): "refused", which the collector
/// retries once as `SELECT *`; never "class missing".
#[tokio::test]
async fn unknown_property_is_a_refused_select_not_a_missing_class() {
    let (sim, _) = start().await;
    let mut c = client(&sim, "HV-BIG");
    let err = c
        .enumerate_wql(
            "root/cimv2",
            "SELECT NoSuchProperty FROM Win32_ComputerSystem",
        )
        .await
        .unwrap_err();
    let fault = err.fault().expect("a SOAP fault");
    assert!(fault.is_cannot_process_filter(), "{fault:?}");
    assert_eq!(fault.class(), hvinv::wsman::FaultClass::FilterRefused);
    assert!(hvinv::inventory::fault::retry_as_select_star(&err));
    assert!(!fault.is_invalid_class() && !fault.is_access_denied());
    assert_eq!(err.kind(), ErrorKind::Protocol);
    c.close().await;
    sim.shutdown().await;
}
