//! `set_estate` switches generations live: the next requests see VMs
//! migrated, added, removed and resized exactly as `Estate::advance` says.

use hvinv::simulator::{
    DEFAULT_ACCOUNT, DEFAULT_PASSWORD, Estate, SimConfig, SimEndpoint, Simulator,
};
use hvinv::transport::{Connection, Credentials, Scheme, Target, TransportConfig};
use hvinv::wsman::{Client, ClientOptions};
use secrecy::SecretString;
use std::collections::BTreeMap;
use std::sync::Arc;

fn client(ep: &SimEndpoint) -> Client {
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

/// VM GUID -> (host, vCPUs of the realized configuration), as the hosts report it.
async fn observed(sim: &Simulator) -> BTreeMap<String, (String, u64)> {
    let mut out = BTreeMap::new();
    for ep in sim.endpoints() {
        let mut c = client(&ep);
        let ns = if ep.host_name == "HV-LEGACY" {
            "root/virtualization"
        } else {
            "root/virtualization/v2"
        };
        let procs = c
            .enumerate_wql(
                ns,
                "SELECT InstanceID, VirtualQuantity FROM Msvm_ProcessorSettingData",
            )
            .await
            .unwrap();
        let systems = c
            .enumerate_wql(ns, "SELECT Name FROM Msvm_ComputerSystem")
            .await
            .unwrap();
        for s in systems.iter().skip(1) {
            let guid = s.text("Name").unwrap().to_string();
            let prefix = format!("Microsoft:{guid}\\");
            let vcpus = procs
                .iter()
                .find(|p| p.text("InstanceID").is_some_and(|i| i.starts_with(&prefix)))
                .and_then(|p| p.u64("VirtualQuantity"))
                .unwrap();
            out.insert(guid, (ep.host_name.clone(), vcpus));
        }
        c.close().await;
    }
    out
}

fn expected(e: &Estate) -> BTreeMap<String, (String, u64)> {
    e.all_vms()
        .filter(|(_, v)| !v.planned)
        .map(|(h, v)| (v.guid.clone(), (h.name.clone(), u64::from(v.vcpus))))
        .collect()
}

#[tokio::test]
async fn advancing_the_estate_is_visible_to_the_next_requests() {
    let g1 = Estate::demo(4242);
    let g2 = g1.advance();
    let mut cfg = SimConfig::new(g1.clone());
    cfg.http_port = 0;
    cfg.https_port = None;
    cfg.threads = 1;
    let sim = Simulator::start(cfg).await.unwrap();
    assert_eq!(observed(&sim).await, expected(&g1));
    sim.set_estate(g2.clone());
    let seen = observed(&sim).await;
    assert_eq!(seen, expected(&g2));
    assert_ne!(seen, expected(&g1));
    sim.shutdown().await;
}
