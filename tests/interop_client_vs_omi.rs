//! Our client against Microsoft's OMI: a WS-Management server neither we
//! nor the Python peers wrote (NTLM through GSSAPI's gss-ntlmssp, WinRM
//! sealing from OMI's own `httpauth.c`, its own WS-Enumeration and WQL).
//!
//! `scripts/test` builds and starts it (`scripts/omi-peer`) with the rows in
//! `tests/interop/omi/standalone-host.rows` and exports where it listens.
//! Expected values come from that rows file, read here by a parser of its
//! own, never from our client's output.

use hvinv::error::{ErrorKind, HasKind};
use hvinv::inventory::{self, HostSnapshot};
use hvinv::transport::{
    Connection, Credentials, Encryption, Scheme, Target, Timeouts, TlsOptions, TransportConfig,
};
use hvinv::wsman::{Client, ClientOptions, Instance, Value, WsmanError};
use secrecy::SecretString;
use std::collections::BTreeMap;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

/// A whole test (several round trips) must end well within this.
const TEST_DEADLINE: Duration = Duration::from_secs(90);
/// `users.txt` of the OMI tool.
const USER: &str = "CONTOSO\\svc-inv";
const PASSWORD: &str = "S3cret!";

fn env(name: &str) -> String {
    std::env::var(name).unwrap_or_else(|_| {
        panic!(
            "{name} is not set: the OMI interop peer is started by `scripts/test` \
             (scripts/omi-peer); run the tests through it"
        )
    })
}

fn env_port(name: &str) -> u16 {
    env(name)
        .parse()
        .unwrap_or_else(|_| panic!("{name} is not a port"))
}

fn config(https: bool, password: &str) -> Arc<TransportConfig> {
    let port = if https {
        env_port("HVINV_OMI_HTTPS_PORT")
    } else {
        env_port("HVINV_OMI_HTTP_PORT")
    };
    config_at(port, https, password)
}

fn config_at(port: u16, https: bool, password: &str) -> Arc<TransportConfig> {
    Arc::new(TransportConfig {
        target: Target {
            // The certificate names `localhost`; the socket goes to 127.0.0.1.
            address: hvinv::transport::Address::new("localhost", port).unwrap(),
            scheme: if https { Scheme::Https } else { Scheme::Http },
            connect_to: Some(SocketAddr::new(IpAddr::V4(Ipv4Addr::LOCALHOST), port)),
        },
        credentials: Credentials::parse(USER, SecretString::from(password.to_string())),
        encryption: Encryption::Auto,
        tls: TlsOptions {
            ca_file: https.then(|| PathBuf::from(env("HVINV_OMI_CA"))),
            thumbprint: None,
            insecure_skip_verify: false,
        },
        timeouts: Timeouts {
            connect: Duration::from_secs(10),
            request: Duration::from_secs(30),
        },
        auth: Default::default(),
        kerberos: Default::default(),
    })
}

fn client(cfg: Arc<TransportConfig>, max_elements: u32) -> Client {
    let opts = ClientOptions {
        max_elements,
        ..ClientOptions::default()
    };
    Client::new(Connection::new(cfg), opts)
}

async fn select(c: &mut Client, ns: &str, wql: &str) -> Result<Vec<Instance>, WsmanError> {
    tokio::time::timeout(TEST_DEADLINE, c.enumerate_wql(ns, wql))
        .await
        .expect("enumeration finished in time")
}

// ---- the rows file, read independently --------------------------------------

#[derive(Debug, Clone, PartialEq)]
enum RowValue {
    Scalar(String),
    Array(Vec<String>),
}

#[derive(Debug, Clone)]
struct Row {
    namespace: String,
    class: String,
    props: Vec<(String, RowValue)>,
}

impl Row {
    fn get(&self, name: &str) -> Option<&str> {
        self.props.iter().find_map(|(n, v)| match v {
            RowValue::Scalar(s) if n == name => Some(s.as_str()),
            _ => None,
        })
    }
}

fn unescape(s: &str) -> String {
    let mut out = String::new();
    let mut chars = s.chars();
    while let Some(c) = chars.next() {
        if c != '\\' {
            out.push(c);
            continue;
        }
        match chars.next() {
            Some('n') => out.push('\n'),
            Some('r') => out.push('\r'),
            Some('t') => out.push('\t'),
            Some('\\') => out.push('\\'),
            Some(other) => {
                out.push('\\');
                out.push(other);
            }
            None => out.push('\\'),
        }
    }
    out
}

fn rows() -> Vec<Row> {
    let path =
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/interop/omi/standalone-host.rows");
    let text = std::fs::read_to_string(&path).expect("rows file");
    let mut rows: Vec<Row> = Vec::new();
    for line in text.lines() {
        let line = line.trim_end_matches('\r');
        if line.trim().is_empty() || line.starts_with('#') {
            continue;
        }
        if let Some(head) = line.strip_prefix('[') {
            let head = head.strip_suffix(']').expect("[namespace Class]");
            let (ns, class) = head.split_once(' ').expect("[namespace Class]");
            rows.push(Row {
                namespace: ns.to_string(),
                class: class.to_string(),
                props: Vec::new(),
            });
            continue;
        }
        let (name, value) = line.split_once('=').expect("Prop=value");
        let row = rows
            .last_mut()
            .expect("a property after a [namespace Class] line");
        let value = unescape(value);
        if let Some(name) = name.strip_suffix("[]") {
            match row.props.iter_mut().find(|(n, _)| n == name) {
                Some((_, RowValue::Array(items))) => items.push(value),
                _ => row
                    .props
                    .push((name.to_string(), RowValue::Array(vec![value]))),
            }
        } else {
            row.props.push((name.to_string(), RowValue::Scalar(value)));
        }
    }
    rows
}

/// Rows grouped by (namespace, class), in file order.
fn classes(rows: &[Row]) -> BTreeMap<(String, String), Vec<Row>> {
    let mut m: BTreeMap<(String, String), Vec<Row>> = BTreeMap::new();
    for r in rows {
        m.entry((r.namespace.clone(), r.class.clone()))
            .or_default()
            .push(r.clone());
    }
    m
}

/// CIM datetime `yyyymmddHHMMSS.ffffff±UUU` (offset in minutes) as the
/// instant it names, in seconds and microseconds since an arbitrary origin;
/// the wire form (xs:dateTime) is brought to the same.
fn cim_instant(s: &str) -> (i64, u32) {
    let n = |a: usize, b: usize| -> i64 { s[a..b].parse().expect("digits") };
    let (y, mo, d, h, mi, se) = (n(0, 4), n(4, 6), n(6, 8), n(8, 10), n(10, 12), n(12, 14));
    let micros = n(15, 21) as u32;
    let sign = if &s[21..22] == "-" { -1 } else { 1 };
    let offset_min = sign * n(22, 25);
    (
        days(y, mo, d) * 86400 + h * 3600 + mi * 60 + se - offset_min * 60,
        micros,
    )
}

fn days(y: i64, m: i64, d: i64) -> i64 {
    // Days from civil (H. Hinnant's algorithm).
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let doy = (153 * (if m > 2 { m - 3 } else { m + 9 }) + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146097 + doe - 719468
}

fn xs_instant(s: &str) -> (i64, u32) {
    let n = |a: usize, b: usize| -> i64 { s[a..b].parse().expect("digits") };
    let (y, mo, d, h, mi, se) = (n(0, 4), n(5, 7), n(8, 10), n(11, 13), n(14, 16), n(17, 19));
    let mut rest = &s[19..];
    let mut micros = 0u32;
    if let Some(frac) = rest.strip_prefix('.') {
        let digits: String = frac.chars().take_while(|c| c.is_ascii_digit()).collect();
        rest = &frac[digits.len()..];
        let padded = format!("{digits:0<6}");
        micros = padded[..6].parse().expect("fraction");
    }
    let offset = match rest {
        "" | "Z" => 0,
        o => {
            let sign = if o.starts_with('-') { -1 } else { 1 };
            sign * (o[1..3].parse::<i64>().expect("hh") * 60 + o[4..6].parse::<i64>().expect("mm"))
        }
    };
    (
        days(y, mo, d) * 86400 + h * 3600 + mi * 60 + se - offset * 60,
        micros,
    )
}

fn assert_prop(ctx: &str, got: Option<&Value>, want: &RowValue) {
    match want {
        RowValue::Scalar(w)
            if w.len() == 25
                && w.as_bytes()[14] == b'.'
                && w[..14].bytes().all(|b| b.is_ascii_digit()) =>
        {
            match got {
                // Windows wraps it in `cim:Datetime`; OMI sends bare text.
                Some(Value::Datetime(g) | Value::Text(g)) => {
                    assert_eq!(xs_instant(g), cim_instant(w), "{ctx}: {g}")
                }
                other => panic!("{ctx}: want datetime {w}, got {other:?}"),
            }
        }
        // OMI writes booleans upper case (`TRUE`); Windows lower case.
        RowValue::Scalar(w) if w == "true" || w == "false" => match got {
            Some(Value::Text(g)) => assert!(g.eq_ignore_ascii_case(w), "{ctx}: {g}"),
            other => panic!("{ctx}: want {w}, got {other:?}"),
        },
        RowValue::Scalar(w) => assert_eq!(got, Some(&Value::Text(w.clone())), "{ctx}"),
        RowValue::Array(items) if items.len() == 1 => {
            let ok = got == Some(&Value::Text(items[0].clone()))
                || got == Some(&Value::Array(vec![Value::Text(items[0].clone())]));
            assert!(ok, "{ctx}: got {got:?}, want [{:?}]", items[0]);
        }
        RowValue::Array(items) => {
            let want = items.iter().cloned().map(Value::Text).collect();
            assert_eq!(got, Some(&Value::Array(want)), "{ctx}");
        }
    }
}

/// Every row of every class, property by property, in the rows' order.
async fn assert_every_class_matches(c: &mut Client) {
    for ((ns, class), want) in classes(&rows()) {
        let got = select(c, &ns, &format!("SELECT * FROM {class}"))
            .await
            .unwrap_or_else(|e| panic!("{ns} {class}: {e}"));
        assert_eq!(got.len(), want.len(), "{ns} {class}: instance count");
        for (i, (inst, row)) in got.iter().zip(&want).enumerate() {
            assert_eq!(inst.class, class, "{ns} {class}[{i}]");
            for (name, value) in &row.props {
                assert_prop(&format!("{ns} {class}[{i}].{name}"), inst.get(name), value);
            }
            // Every other property of the class came as xsi:nil.
            for (name, v) in &inst.props {
                if !row.props.iter().any(|(n, _)| n == name) {
                    assert_eq!(v, &Value::Null, "{ns} {class}[{i}].{name} not in the rows");
                }
            }
        }
    }
}

#[tokio::test]
async fn sealed_http_returns_every_row_field_by_field() {
    let mut c = client(config(false, PASSWORD), 32_000);
    assert_every_class_matches(&mut c).await;
    c.close().await;
}

#[tokio::test]
async fn https_returns_every_row_field_by_field() {
    let mut c = client(config(true, PASSWORD), 32_000);
    assert_every_class_matches(&mut c).await;
    c.close().await;
}

#[tokio::test]
async fn small_max_elements_pages_and_keeps_every_vm_in_order() {
    let want: Vec<Row> = rows()
        .into_iter()
        .filter(|r| r.class == "Msvm_ComputerSystem")
        .collect();
    assert!(want.len() >= 6, "the rows must page with MaxElements 2");
    let mut c = client(config(false, PASSWORD), 2);
    let got = select(
        &mut c,
        "root/virtualization/v2",
        "SELECT * FROM Msvm_ComputerSystem",
    )
    .await
    .expect("paged enumeration");
    let names: Vec<Option<&str>> = got.iter().map(|i| i.text("ElementName")).collect();
    let want_names: Vec<Option<&str>> = want.iter().map(|r| r.get("ElementName")).collect();
    assert_eq!(names, want_names);
    // One Enumerate and at least ceil(n/2) - 1 Pulls, over one connection.
    let stats = c.connection().stats();
    let min_pages = want.len().div_ceil(2) as u64;
    assert!(stats.round_trips > min_pages, "{stats:?}");
    assert_eq!(stats.reconnects, 0, "{stats:?}");
    c.close().await;
}

fn vm_rows<'a>(rows: &'a [Row], class: &str, guid: &str) -> Option<&'a Row> {
    rows.iter().find(|r| {
        r.class == class
            && match class {
                "Msvm_ComputerSystem" => r.get("Name") == Some(guid),
                "Msvm_VirtualSystemSettingData" => {
                    r.get("VirtualSystemIdentifier") == Some(guid)
                        && r.get("VirtualSystemType") == Some("Microsoft:Hyper-V:System:Realized")
                }
                _ => r
                    .get("InstanceID")
                    .is_some_and(|id| id.starts_with(&format!("Microsoft:{guid}\\"))),
            }
    })
}

fn assert_snapshot_matches_rows(s: &HostSnapshot, rows: &[Row]) {
    let cs = rows
        .iter()
        .find(|r| r.class == "Win32_ComputerSystem")
        .expect("Win32_ComputerSystem row");
    assert_eq!(s.name.as_deref(), cs.get("Name"));
    assert_eq!(s.fqdn.as_deref(), Some("hv-omi01.contoso.test"));
    assert_eq!(s.manufacturer.as_deref(), cs.get("Manufacturer"));
    assert_eq!(s.model.as_deref(), cs.get("Model"));
    assert_eq!(s.sockets, Some(2));
    assert_eq!(s.logical_processors, Some(32));
    assert_eq!(s.memory_mb, Some(137_438_953_472 / (1024 * 1024)));
    let product = rows
        .iter()
        .find(|r| r.class == "Win32_ComputerSystemProduct")
        .expect("product row");
    assert_eq!(s.identity.uuid.as_deref(), product.get("UUID"));
    assert_eq!(
        s.identity.serial.as_deref(),
        product.get("IdentifyingNumber")
    );
    assert_eq!(s.cores, Some(16));
    assert_eq!(s.processors.len(), 2);
    assert_eq!(s.os_build.as_deref(), Some("20348"));
    assert_eq!(
        s.hyperv_namespace.as_deref(),
        Some("root/virtualization/v2")
    );
    assert!(s.cluster.is_none(), "a standalone host: {:?}", s.cluster);
    assert!(s.warnings.is_empty(), "{:?}", s.warnings);

    let host_name = cs.get("Name").expect("host name");
    let want_guids: Vec<&str> = rows
        .iter()
        .filter(|r| r.class == "Msvm_ComputerSystem" && r.get("Name") != Some(host_name))
        .filter_map(|r| r.get("Name"))
        .collect();
    assert_eq!(s.vms.len(), want_guids.len(), "{:?}", s.vms);
    for guid in want_guids {
        let vm = s
            .vms
            .iter()
            .find(|v| v.guid == guid)
            .unwrap_or_else(|| panic!("VM {guid} missing"));
        let sys = vm_rows(rows, "Msvm_ComputerSystem", guid).expect("system row");
        let set = vm_rows(rows, "Msvm_VirtualSystemSettingData", guid).expect("settings row");
        let cpu = vm_rows(rows, "Msvm_ProcessorSettingData", guid).expect("cpu row");
        let mem = vm_rows(rows, "Msvm_MemorySettingData", guid).expect("memory row");
        let num = |r: &Row, p: &str| r.get(p).and_then(|v| v.parse::<u64>().ok());
        assert_eq!(vm.name.as_deref(), sys.get("ElementName"), "{guid}");
        assert_eq!(
            vm.enabled_state.map(u64::from),
            num(sys, "EnabledState"),
            "{guid}"
        );
        assert_eq!(
            vm.replication_mode.map(u64::from),
            num(sys, "ReplicationMode"),
            "{guid}"
        );
        assert_eq!(
            vm.vcpus.map(u64::from),
            num(cpu, "VirtualQuantity"),
            "{guid}"
        );
        assert_eq!(vm.cpu_weight.map(u64::from), num(cpu, "Weight"), "{guid}");
        let pct = |v: Option<u64>| v.map(|x| x as f64 / 1000.0);
        assert_eq!(vm.cpu_limit_pct, pct(num(cpu, "Limit")), "{guid}");
        assert_eq!(
            vm.cpu_reservation_pct,
            pct(num(cpu, "Reservation")),
            "{guid}"
        );
        assert_eq!(vm.memory_mb, num(mem, "VirtualQuantity"), "{guid}");
        assert_eq!(
            vm.dynamic_memory,
            mem.get("DynamicMemoryEnabled").map(|b| b == "true"),
            "{guid}"
        );
        let want_bios = set
            .get("BIOSGUID")
            .map(|b| b.trim_matches(|c| c == '{' || c == '}').to_string());
        assert_eq!(vm.bios_guid.as_deref(), want_bios.as_deref(), "{guid}");
        assert_eq!(
            vm.bios_serial.as_deref(),
            set.get("BIOSSerialNumber"),
            "{guid}"
        );
        assert_eq!(vm.version.as_deref(), set.get("Version"), "{guid}");
        let gen_ = set
            .get("VirtualSystemSubType")
            .and_then(|s| s.rsplit(':').next())
            .and_then(|g| g.parse::<u8>().ok());
        assert_eq!(vm.generation, gen_, "{guid}");
        assert!(!vm.clustered, "{guid}");
    }
}

async fn collect(https: bool) -> HostSnapshot {
    let mut c = client(config(https, PASSWORD), 3);
    let s = tokio::time::timeout(TEST_DEADLINE, inventory::collect_host(&mut c))
        .await
        .expect("collection finished in time")
        .expect("collection against OMI");
    c.close().await;
    s
}

#[tokio::test]
async fn full_collection_over_sealed_http_matches_the_rows() {
    let s = collect(false).await;
    assert_snapshot_matches_rows(&s, &rows());
    // The names that need escaping came through intact.
    for name in [
        "仮想マシン-東京-01",
        "db&<prod>\"'01",
        "web]]>&amp;01",
        "ファイルサーバー<FS>",
    ] {
        assert!(
            s.vms.iter().any(|v| v.name.as_deref() == Some(name)),
            "{name} missing: {:?}",
            s.vms.iter().map(|v| &v.name).collect::<Vec<_>>()
        );
    }
}

#[tokio::test]
async fn full_collection_over_https_matches_the_rows() {
    let s = collect(true).await;
    assert_snapshot_matches_rows(&s, &rows());
}

/// Forwards one port to OMI's HTTP port and counts the NTLM AUTHENTICATE
/// messages the client sends (in `Authorization` headers, raw or inside
/// SPNEGO).
async fn counting_proxy(upstream: u16) -> (u16, Arc<AtomicUsize>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind proxy");
    let port = listener.local_addr().expect("proxy addr").port();
    let authenticates = Arc::new(AtomicUsize::new(0));
    let counter = authenticates.clone();
    tokio::spawn(async move {
        while let Ok((mut down, _)) = listener.accept().await {
            let counter = counter.clone();
            tokio::spawn(async move {
                let Ok(mut up) = TcpStream::connect(("127.0.0.1", upstream)).await else {
                    return;
                };
                let (mut dr, mut dw) = down.split();
                let (mut ur, mut uw) = up.split();
                let client_to_server = async {
                    let mut buf = vec![0u8; 65536];
                    let mut seen = Vec::new();
                    loop {
                        let n = match dr.read(&mut buf).await {
                            Ok(0) | Err(_) => break,
                            Ok(n) => n,
                        };
                        seen.extend_from_slice(&buf[..n]);
                        count_authenticates(&mut seen, &counter);
                        if uw.write_all(&buf[..n]).await.is_err() {
                            break;
                        }
                    }
                    let _ = uw.shutdown().await;
                };
                let server_to_client = async {
                    let _ = tokio::io::copy(&mut ur, &mut dw).await;
                    let _ = dw.shutdown().await;
                };
                tokio::join!(client_to_server, server_to_client);
            });
        }
    });
    (port, authenticates)
}

/// Counts complete `Authorization:` header lines in `seen` whose token holds
/// an NTLM type 3 message, and drops what was read up to the last line end.
fn count_authenticates(seen: &mut Vec<u8>, counter: &AtomicUsize) {
    use base64::Engine;
    let Some(last_nl) = seen.iter().rposition(|b| *b == b'\n') else {
        return;
    };
    for line in seen[..last_nl].split(|b| *b == b'\n') {
        let line = String::from_utf8_lossy(line);
        let Some((name, value)) = line.split_once(':') else {
            continue;
        };
        if !name.trim().eq_ignore_ascii_case("authorization") {
            continue;
        }
        let token = value.split_whitespace().nth(1).unwrap_or("");
        let Ok(bytes) = base64::engine::general_purpose::STANDARD.decode(token) else {
            continue;
        };
        if bytes.windows(12).any(|w| w == b"NTLMSSP\0\x03\0\0\0") {
            counter.fetch_add(1, Ordering::SeqCst);
        }
    }
    seen.drain(..=last_nl);
}

#[tokio::test]
async fn wrong_password_is_one_logon_attempt_and_an_auth_error() {
    let (port, authenticates) = counting_proxy(env_port("HVINV_OMI_HTTP_PORT")).await;
    let mut c = client(config_at(port, false, "not-the-password"), 32_000);
    let err = select(&mut c, "root/cimv2", "SELECT * FROM Win32_OperatingSystem")
        .await
        .expect_err("wrong password");
    assert_eq!(err.kind(), ErrorKind::Auth, "{err:?}");
    let text = format!("{err} {err:?}");
    assert!(!text.contains("not-the-password"), "{text}");
    c.close().await;
    assert_eq!(authenticates.load(Ordering::SeqCst), 1, "no retry loop");

    // The proxy itself passes a good logon (so the count above is real).
    let (port, authenticates) = counting_proxy(env_port("HVINV_OMI_HTTP_PORT")).await;
    let mut c = client(config_at(port, false, PASSWORD), 32_000);
    select(&mut c, "root/cimv2", "SELECT * FROM Win32_OperatingSystem")
        .await
        .expect("good password through the proxy");
    c.close().await;
    assert_eq!(authenticates.load(Ordering::SeqCst), 1);
}

/// OMI's faults carry an `OMI_Error` with a CIM status and no WSManFault
/// code: the one classifier reads them by that status.
#[tokio::test]
async fn omi_faults_classify_by_their_cim_status() {
    use hvinv::wsman::FaultClass;
    let mut c = client(config(false, PASSWORD), 32_000);
    let err = select(&mut c, "root/cimv2", "SELECT * FROM Win32_NoSuchClass")
        .await
        .expect_err("no such class");
    let f = err.fault().expect("a SOAP fault");
    assert_eq!(f.error_class(), Some("OMI_Error"), "{f:?}");
    // OMI says DestinationUnreachable here too: the CIM status decides.
    assert_eq!(
        f.subcode.as_deref(),
        Some("DestinationUnreachable"),
        "{f:?}"
    );
    assert_eq!(f.class(), FaultClass::InvalidClass, "{f:?}");
    assert!(!f.message.is_empty(), "{f:?}");
    let err = select(
        &mut c,
        "root/nosuchnamespace",
        "SELECT * FROM Win32_OperatingSystem",
    )
    .await
    .expect_err("no such namespace");
    let f = err.fault().expect("a SOAP fault");
    assert_eq!(f.class(), FaultClass::InvalidNamespace, "{f:?}");
    let err = select(&mut c, "root/cimv2", "SELECT FROM WHERE")
        .await
        .expect_err("bad query");
    let f = err.fault().expect("a SOAP fault");
    assert_eq!(f.class(), FaultClass::InvalidQuery, "{f:?}");
    c.close().await;
}

/// `hvinv check` walks every step green against OMI, over sealed HTTP and
/// HTTPS: OMI's Identify is not Windows' (another namespace), so a
/// root/cimv2 select proves the logon and the channel; the namespaces come
/// from the rows' `__NAMESPACE` entries (no MSCluster: standalone).
#[tokio::test]
async fn check_is_all_green_over_sealed_http_and_https() {
    use hvinv::diagnose::{StepStatus, check_host};
    for https in [false, true] {
        let cfg = config(https, PASSWORD);
        let c = tokio::time::timeout(
            TEST_DEADLINE,
            check_host("localhost", &cfg, &ClientOptions::default()),
        )
        .await
        .expect("check finished in time");
        assert!(c.ok, "https={https}: {c:#?}");
        assert!(
            c.steps.iter().all(|s| s.status == StepStatus::Pass),
            "https={https}: {c:#?}"
        );
    }
}
