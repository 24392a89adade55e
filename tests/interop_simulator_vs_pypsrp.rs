//! Our simulator against an independent client: pypsrp's `WSMan` (with
//! pyspnego's NTLM/SPNEGO initiator and pypsrp's own sealing) runs WQL
//! selects through `tests/interop/pypsrp_client.py`. pyspnego checks the
//! simulator's CHALLENGE, SPNEGO replies, signatures and sequence numbers;
//! pypsrp checks RelatesTo and the `Length=` of every sealed reply.
//!
//! Expected values come from the estate definition (`Estate::demo`), not
//! from the simulator's XML.

#[path = "interop/support.rs"]
mod support;

use hvinv::simulator::{
    DEFAULT_ACCOUNT, DEFAULT_PASSWORD, Estate, HyperVNamespace, SimConfig, SimEndpoint, SimHost,
    Simulator,
};
use serde_json::Value as Json;
use std::collections::BTreeMap;
use std::net::Ipv4Addr;
use std::path::Path;
use std::time::Duration;
use support::Account;

const SEED: u64 = 7;
/// One pypsrp run (interpreter start, imports, a few round trips).
const RUN_DEADLINE: Duration = Duration::from_secs(60);

fn account(password: &str) -> Account {
    let (domain, user) = DEFAULT_ACCOUNT
        .split_once('\\')
        .unwrap_or(("", DEFAULT_ACCOUNT));
    Account {
        domain: domain.to_string(),
        user: user.to_string(),
        password: password.to_string(),
    }
}

/// A running simulator on its own runtime; `page_size` small enough that
/// every select needs Pulls.
struct Sim {
    sim: Option<Simulator>,
    _rt: tokio::runtime::Runtime,
    estate: Estate,
}

impl Sim {
    fn start(base: Ipv4Addr, page_size: usize) -> Sim {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("runtime");
        let estate = Estate::demo(SEED);
        let mut cfg = SimConfig::new(estate.clone());
        cfg.base_address = base;
        cfg.http_port = 0;
        cfg.https_port = Some(0);
        cfg.page_size = page_size;
        cfg.threads = 1;
        cfg.log_requests = true;
        let sim = rt
            .block_on(Simulator::start(cfg))
            .expect("simulator starts");
        Sim {
            sim: Some(sim),
            _rt: rt,
            estate,
        }
    }

    fn sim(&self) -> &Simulator {
        self.sim.as_ref().expect("running")
    }

    /// The standalone Hyper-V v2 host with the most realized VMs, and its
    /// endpoint (estate order = endpoint order).
    fn busiest_v2_host(&self) -> (SimHost, SimEndpoint) {
        let endpoints = self.sim().endpoints();
        let (i, host) = self
            .estate
            .hosts
            .iter()
            .enumerate()
            .filter(|(_, h)| h.namespace == HyperVNamespace::V2 && h.faults == Default::default())
            .max_by_key(|(_, h)| h.realized_vms().count())
            .expect("a v2 host in the demo estate");
        assert!(
            host.realized_vms().count() >= 3,
            "demo host has too few VMs"
        );
        (host.clone(), endpoints[i].clone())
    }
}

impl Sim {
    /// Every SOAP request the simulator logged came on this channel from an
    /// authenticated user, and one of them carried `wql`.
    fn assert_log(&self, sealed: bool, tls: bool, wql: &str) {
        let log = self.sim().request_log();
        assert!(!log.is_empty(), "no request logged");
        for req in &log {
            assert_eq!((req.sealed, req.tls), (sealed, tls), "{req:?}");
            assert!(req.authenticated_user.is_some(), "{req:?}");
        }
        assert!(
            log.iter().any(|r| r.filter.as_deref() == Some(wql)),
            "no request with filter {wql:?}: {log:?}"
        );
    }
}

impl Drop for Sim {
    fn drop(&mut self) {
        drop(self.sim.take());
    }
}

#[derive(Clone, Copy)]
enum Channel<'a> {
    SealedHttp,
    Https { ca: &'a Path, seal: bool },
}

fn pypsrp(
    acct: &Account,
    ep: &SimEndpoint,
    channel: Channel<'_>,
    auth: &str,
    namespace: &str,
    wql: &str,
    repeat: u32,
) -> Json {
    let ip = ep.ip.to_string();
    let mut args: Vec<String> = vec!["--host".into(), ip, "--auth".into(), auth.into()];
    match channel {
        Channel::SealedHttp => {
            args.extend([
                "--port".into(),
                ep.http.port().to_string(),
                "--encryption".into(),
                "always".into(),
            ]);
        }
        Channel::Https { ca, seal } => {
            let https = ep.https.expect("HTTPS listener");
            args.extend([
                "--port".into(),
                https.port().to_string(),
                "--ssl".into(),
                "--ca".into(),
                ca.to_str().expect("utf-8 path").into(),
                "--encryption".into(),
                if seal { "always" } else { "auto" }.into(),
            ]);
        }
    }
    args.extend([
        "--namespace".into(),
        namespace.into(),
        "--wql".into(),
        wql.into(),
        "--repeat".into(),
        repeat.to_string(),
    ]);
    support::run_pypsrp(acct, &args, RUN_DEADLINE)
}

fn instances(out: &Json) -> &Vec<Json> {
    assert_eq!(out["ok"], Json::Bool(true), "pypsrp failed: {out}");
    out["instances"].as_array().expect("instances")
}

fn text<'a>(inst: &'a Json, prop: &str) -> &'a str {
    inst["props"][prop]
        .as_str()
        .unwrap_or_else(|| panic!("{prop} is not text in {inst}"))
}

/// VM GUID -> VM name of the host's realized VMs, from the definition.
fn defined_vms(host: &SimHost) -> BTreeMap<String, String> {
    host.realized_vms()
        .map(|v| (v.guid.to_uppercase(), v.name.clone()))
        .collect()
}

/// Msvm_ComputerSystem: the host row plus one row per realized VM, named
/// by GUID, with the VM's display name in ElementName.
fn assert_computer_systems(out: &Json, host: &SimHost) {
    let rows = instances(out);
    let mut vms = BTreeMap::new();
    let mut host_rows = 0;
    for row in rows {
        assert_eq!(row["class"], "Msvm_ComputerSystem", "{row}");
        let name = text(row, "Name");
        if name.eq_ignore_ascii_case(&host.name) {
            host_rows += 1;
        } else {
            vms.insert(name.to_uppercase(), text(row, "ElementName").to_string());
        }
    }
    assert_eq!(host_rows, 1, "one host row");
    assert_eq!(vms, defined_vms(host));
}

/// Msvm_ProcessorSettingData: each realized VM's own row (InstanceID
/// `Microsoft:<VM GUID>\…`) carries its vCPU count.
fn assert_vcpus(out: &Json, host: &SimHost) {
    let rows = instances(out);
    for vm in host.realized_vms() {
        let prefix = format!("microsoft:{}\\", vm.guid.to_lowercase());
        let mine: Vec<&Json> = rows
            .iter()
            .filter(|r| text(r, "InstanceID").to_lowercase().starts_with(&prefix))
            .collect();
        assert_eq!(mine.len(), 1, "processor rows of {}", vm.name);
        assert_eq!(
            text(mine[0], "VirtualQuantity"),
            vm.vcpus.to_string(),
            "vCPUs of {}",
            vm.name
        );
    }
}

const SELECT_CS: &str = "SELECT * FROM Msvm_ComputerSystem";
const SELECT_PROC: &str = "SELECT * FROM Msvm_ProcessorSettingData";
const V2: &str = "root/virtualization/v2";

#[test]
fn pypsrp_ntlm_over_sealed_http_reads_the_vms_of_a_host() {
    let sim = Sim::start(Ipv4Addr::new(127, 0, 41, 1), 4);
    let (host, ep) = sim.busiest_v2_host();
    let acct = account(DEFAULT_PASSWORD);
    let out = pypsrp(&acct, &ep, Channel::SealedHttp, "ntlm", V2, SELECT_CS, 1);
    assert_computer_systems(&out, &host);
    // Pages of 4: the enumeration needed Pulls.
    assert!(out["pulls"].as_u64().expect("pulls") >= 1, "{out}");
    let out = pypsrp(&acct, &ep, Channel::SealedHttp, "ntlm", V2, SELECT_PROC, 1);
    assert_vcpus(&out, &host);
    sim.assert_log(true, false, SELECT_PROC);
}

#[test]
fn pypsrp_over_https_with_channel_binding_reads_host_hardware() {
    let sim = Sim::start(Ipv4Addr::new(127, 0, 43, 1), 4);
    let (host, ep) = sim.busiest_v2_host();
    let dir = tempfile::tempdir().expect("tempdir");
    let ca = dir.path().join("sim-ca.pem");
    std::fs::write(&ca, sim.sim().ca_pem()).expect("write CA");
    let acct = account(DEFAULT_PASSWORD);
    // pypsrp binds the TLS channel (CBT) whenever it runs over HTTPS.
    let https = Channel::Https {
        ca: &ca,
        seal: false,
    };
    let out = pypsrp(
        &acct,
        &ep,
        https,
        "ntlm",
        "root/cimv2",
        "SELECT * FROM Win32_Processor",
        1,
    );
    let rows = instances(&out);
    assert_eq!(rows.len(), host.cpus.len(), "one row per socket");
    for (row, cpu) in rows.iter().zip(&host.cpus) {
        assert_eq!(text(row, "Name"), cpu.name);
        assert_eq!(text(row, "NumberOfCores"), cpu.cores.to_string());
    }
    let out = pypsrp(&acct, &ep, https, "ntlm", V2, SELECT_PROC, 1);
    assert_vcpus(&out, &host);
    // TLS protects the bodies: plain SOAP inside HTTPS.
    sim.assert_log(false, true, SELECT_PROC);
}

#[test]
fn pypsrp_keeps_sequence_numbers_in_step_over_many_sealed_messages() {
    let sim = Sim::start(Ipv4Addr::new(127, 0, 42, 1), 4);
    let (host, ep) = sim.busiest_v2_host();
    let acct = account(DEFAULT_PASSWORD);
    // 10 rounds on one session: the sequence numbers pass 20 each way.
    let out = pypsrp(&acct, &ep, Channel::SealedHttp, "ntlm", V2, SELECT_CS, 10);
    assert_computer_systems(&out, &host);
    let stats = sim.sim().stats();
    assert_eq!(stats.handshakes, 1, "{stats:?}");
    assert!(stats.soap_requests >= 20, "{stats:?}");
}

#[test]
fn pypsrp_spnego_over_sealed_http_reads_the_vms_of_a_host() {
    let sim = Sim::start(Ipv4Addr::new(127, 0, 46, 1), 4);
    let (host, ep) = sim.busiest_v2_host();
    let acct = account(DEFAULT_PASSWORD);
    // "negotiate" wraps NTLM in SPNEGO: NegTokenInit/NegTokenResp, the
    // mechListMIC, then sealing from sequence 1 (pyspnego resets the RC4
    // handle after the MIC but keeps the counter).
    let out = pypsrp(
        &acct,
        &ep,
        Channel::SealedHttp,
        "negotiate",
        V2,
        SELECT_CS,
        3,
    );
    assert_computer_systems(&out, &host);
}

#[test]
fn pypsrp_spnego_over_https_with_channel_binding_is_accepted() {
    let sim = Sim::start(Ipv4Addr::new(127, 0, 47, 1), 100);
    let (host, ep) = sim.busiest_v2_host();
    let dir = tempfile::tempdir().expect("tempdir");
    let ca = dir.path().join("sim-ca.pem");
    std::fs::write(&ca, sim.sim().ca_pem()).expect("write CA");
    let acct = account(DEFAULT_PASSWORD);
    let out = pypsrp(
        &acct,
        &ep,
        Channel::Https {
            ca: &ca,
            seal: false,
        },
        "negotiate",
        V2,
        SELECT_PROC,
        1,
    );
    assert_vcpus(&out, &host);
}

#[test]
fn pypsrp_sealing_inside_https_is_accepted() {
    let sim = Sim::start(Ipv4Addr::new(127, 0, 44, 1), 100);
    let (host, ep) = sim.busiest_v2_host();
    let dir = tempfile::tempdir().expect("tempdir");
    let ca = dir.path().join("sim-ca.pem");
    std::fs::write(&ca, sim.sim().ca_pem()).expect("write CA");
    let acct = account(DEFAULT_PASSWORD);
    let out = pypsrp(
        &acct,
        &ep,
        Channel::Https {
            ca: &ca,
            seal: true,
        },
        "ntlm",
        V2,
        SELECT_CS,
        1,
    );
    assert_computer_systems(&out, &host);
    sim.assert_log(true, true, SELECT_CS);
}

#[test]
fn pypsrp_with_a_wrong_password_gets_an_authentication_error() {
    let sim = Sim::start(Ipv4Addr::new(127, 0, 45, 1), 100);
    let (_, ep) = sim.busiest_v2_host();
    let acct = account("not-the-password");
    for auth in ["ntlm", "negotiate"] {
        let out = pypsrp(&acct, &ep, Channel::SealedHttp, auth, V2, SELECT_CS, 1);
        assert_eq!(out["ok"], Json::Bool(false), "{auth}: {out}");
        assert_eq!(out["error"], "auth", "{auth}: {out}");
    }
    let stats = sim.sim().stats();
    assert_eq!(stats.handshakes, 0, "{stats:?}");
    assert!(stats.auth_failures >= 2, "{stats:?}");
    assert!(
        sim.sim().request_log().is_empty(),
        "no SOAP request may pass"
    );
}
