//! Kerberos against a real MIT KDC (`tests/interop/kdc/start.sh`, realm
//! HVINV.TEST on 127.0.0.1) and an independent acceptor: pyspnego over MIT
//! GSSAPI with the hosts' keytab (`winrm_server.py --kerberos FQDN`), which
//! refuses any NTLM token, unwraps our sealed messages with its own keys and
//! over HTTPS compares our channel bindings with its own.
//!
//! The hosts are named `hvNN.hvinv.test` (their principals are
//! `WSMAN/hvNN.hvinv.test`); nothing resolves those names, so `connect_to`
//! dials 127.0.0.1 while the ticket names the DNS name, exactly as an
//! operator does for a name that does not resolve locally.
//!
//! AS requests are counted in the KDC's own log, for accounts that only
//! the counting test uses.

#[path = "interop/support.rs"]
mod support;

use hvinv::error::{ErrorKind, HasKind};
use hvinv::transport::kerberos::KerberosFailure;
use hvinv::transport::{
    Address, AuthMechanism, AuthUsed, Connection, Credentials, Encryption, KerberosOptions, Scheme,
    Target, Timeouts, TlsOptions, TransportConfig, TransportError,
};
use hvinv::wsman::{Client, ClientOptions, Instance, WsmanError};
use secrecy::SecretString;
use serde_json::Value as Json;
use std::collections::HashMap;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::{Arc, OnceLock};
use std::time::Duration;
use support::{Account, PeerServer};

const SELECT_OS: &str = "SELECT * FROM Win32_OperatingSystem";
const TEST_DEADLINE: Duration = Duration::from_secs(60);
/// The test realm's password for `hvinv-user` (a realm that exists only on
/// this machine, created by start.sh).
const PASSWORD: &str = "Kerb-Test-Pw-1";
const USER: &str = "hvinv-user";

/// The KDC's settings, from the `env` file start.sh writes.
struct Kdc {
    env: HashMap<String, String>,
}

impl Kdc {
    fn get(&self, k: &str) -> &str {
        self.env
            .get(k)
            .map(String::as_str)
            .unwrap_or_else(|| panic!("{k} missing from the KDC env file"))
    }

    fn addr(&self) -> String {
        format!("127.0.0.1:{}", self.get("HVINV_KDC_PORT"))
    }

    /// What the acceptor needs: our krb5.conf and the hosts' keytab.
    fn server_env(&self) -> Vec<(String, String)> {
        ["KRB5_CONFIG", "KRB5_KTNAME"]
            .iter()
            .map(|k| (k.to_string(), self.get(k).to_string()))
            .collect()
    }

    fn log(&self) -> String {
        std::fs::read_to_string(self.get("HVINV_KDC_LOG")).unwrap_or_default()
    }

    /// Adds (or re-keys) a principal with a password.
    fn add_user(&self, name: &str, password: &str) {
        for q in [
            format!("addprinc -pw {password} {name}"),
            format!("cpw -pw {password} {name}"),
        ] {
            let out = Command::new("kadmin.local")
                .args(["-r", self.get("HVINV_KDC_REALM"), "-q", &q])
                .env("KRB5_CONFIG", self.get("KRB5_CONFIG"))
                .env("KRB5_KDC_PROFILE", self.get("KRB5_KDC_PROFILE"))
                .env("PATH", path_with_sbin())
                .output()
                .expect("run kadmin.local");
            assert!(out.status.success(), "kadmin.local {q}");
        }
    }

    /// AS requests for `principal` in the KDC log after byte `from`.
    fn as_requests(&self, from: usize, principal: &str) -> usize {
        let log = self.log();
        let needle = format!(" {principal}@{} for krbtgt/", self.get("HVINV_KDC_REALM"));
        log.get(from..)
            .unwrap_or_default()
            .lines()
            .filter(|l| l.contains("AS_REQ") && l.contains(&needle))
            .count()
    }
}

fn path_with_sbin() -> String {
    format!(
        "{}:/usr/sbin:/sbin",
        std::env::var("PATH").unwrap_or_default()
    )
}

/// Starts (or reuses) the KDC once per test binary.
fn kdc() -> &'static Kdc {
    static KDC: OnceLock<Kdc> = OnceLock::new();
    KDC.get_or_init(|| {
        let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/interop/kdc/start.sh");
        let status = Command::new("bash")
            .arg(&script)
            .env("PATH", path_with_sbin())
            .status()
            .expect("run tests/interop/kdc/start.sh");
        assert!(status.success(), "tests/interop/kdc/start.sh failed");
        let dir = std::env::var_os("HVINV_KDC_DIR")
            .map(PathBuf::from)
            .unwrap_or_else(|| std::env::temp_dir().join("hvinv-kdc"));
        let text = std::fs::read_to_string(dir.join("env")).expect("KDC env file");
        let env = text
            .lines()
            .filter_map(|l| l.split_once('='))
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        Kdc { env }
    })
}

/// The acceptor for `WSMAN/<fqdn>`; `extra` are more server arguments.
fn acceptor(fqdn: &str, extra: &[&str]) -> PeerServer {
    let mut args = vec!["--kerberos", fqdn];
    args.extend_from_slice(extra);
    // The acceptor has no NTLM account at all.
    let nobody = Account {
        domain: String::new(),
        user: "unused".into(),
        password: "unused".into(),
    };
    PeerServer::start_with_env(&nobody, &args, &kdc().server_env())
}

fn config(
    fqdn: &str,
    port: u16,
    account: &str,
    password: &str,
    auth: AuthMechanism,
    tls: Option<PathBuf>,
) -> TransportConfig {
    let scheme = if tls.is_some() {
        Scheme::Https
    } else {
        Scheme::Http
    };
    let mut cfg = TransportConfig::new(
        Target {
            address: Address::new(fqdn, port).unwrap(),
            scheme,
            connect_to: Some(SocketAddr::new(IpAddr::V4(Ipv4Addr::LOCALHOST), port)),
        },
        Credentials::parse(account, SecretString::from(password.to_string())),
    );
    cfg.encryption = Encryption::Auto;
    cfg.tls = TlsOptions {
        ca_file: tls,
        thumbprint: None,
        insecure_skip_verify: false,
    };
    cfg.timeouts = Timeouts {
        connect: Duration::from_secs(5),
        request: Duration::from_secs(20),
    };
    cfg.auth = auth;
    cfg.kerberos = KerberosOptions {
        realm: Some("HVINV.TEST".into()),
        kdc: Some(kdc().addr()),
        spn_service: None,
    };
    cfg
}

fn client(cfg: TransportConfig) -> Client {
    Client::new(Connection::new(Arc::new(cfg)), ClientOptions::default())
}

async fn select(client: &mut Client, wql: &str) -> Result<Vec<Instance>, WsmanError> {
    tokio::time::timeout(TEST_DEADLINE, client.enumerate_wql("root/cimv2", wql))
        .await
        .expect("enumeration finished in time")
}

fn count(stats: &Json, key: &str) -> u64 {
    stats[key]
        .as_u64()
        .unwrap_or_else(|| panic!("stat {key} in {stats}"))
}

fn kerberos_failure(e: &WsmanError) -> &KerberosFailure {
    match e {
        WsmanError::Transport(TransportError::Kerberos(f)) => f,
        other => panic!("expected a Kerberos failure, got {other:?}"),
    }
}

#[tokio::test]
async fn sealed_http_collection_with_kerberos_only_and_ntlm_refused() {
    let server = acceptor("hv01.hvinv.test", &[]);
    let cfg = config(
        "hv01.hvinv.test",
        server.port,
        USER,
        PASSWORD,
        AuthMechanism::Kerberos,
        None,
    );
    let mut c = client(cfg);
    let got = select(&mut c, SELECT_OS).await.expect("enumeration");
    assert_eq!(got.len(), 5, "the peer's five instances");
    assert_eq!(c.connection().stats().auth, Some(AuthUsed::Kerberos));
    drop(c);
    let stats = server.finish();
    assert_eq!(count(&stats, "auth_kerberos"), 1, "{stats}");
    assert_eq!(count(&stats, "ntlm_refused"), 0, "{stats}");
    assert!(count(&stats, "sealed_requests") >= 3, "{stats}");
    assert_eq!(count(&stats, "plain_requests"), 0, "{stats}");
    assert_eq!(count(&stats, "rejected"), 0, "{stats}");
}

#[tokio::test]
async fn sixty_sealed_requests_share_one_connection_and_one_ticket() {
    let server = acceptor("hv02.hvinv.test", &[]);
    let cfg = config(
        "hv02.hvinv.test",
        server.port,
        USER,
        PASSWORD,
        AuthMechanism::Kerberos,
        None,
    );
    let mut c = client(cfg);
    for _ in 0..20 {
        // Enumerate + two Pulls each: 60 sealed requests.
        assert_eq!(
            select(&mut c, SELECT_OS).await.expect("enumeration").len(),
            5
        );
    }
    assert_eq!(c.connection().stats().reconnects, 0);
    drop(c);
    let stats = server.finish();
    assert_eq!(count(&stats, "auth_kerberos"), 1, "{stats}");
    assert_eq!(count(&stats, "connections"), 1, "{stats}");
    assert_eq!(count(&stats, "max_sealed_per_connection"), 60, "{stats}");
}

#[tokio::test]
async fn dropped_socket_means_reconnect_and_a_new_kerberos_context() {
    // The acceptor closes every connection after two replies.
    let server = acceptor("hv03.hvinv.test", &["--drop-after", "2"]);
    let cfg = config(
        "hv03.hvinv.test",
        server.port,
        USER,
        PASSWORD,
        AuthMechanism::Kerberos,
        None,
    );
    let mut c = client(cfg);
    for _ in 0..3 {
        assert_eq!(
            select(&mut c, SELECT_OS).await.expect("enumeration").len(),
            5
        );
    }
    assert!(c.connection().stats().reconnects >= 3);
    drop(c);
    let stats = server.finish();
    assert!(count(&stats, "auth_kerberos") >= 4, "{stats}");
    assert_eq!(count(&stats, "rejected"), 0, "{stats}");
}

/// An HTTPS acceptor on `fqdn` with a certificate for it; `extra` are more
/// server arguments. The temporary directory must outlive the server.
fn https_acceptor(fqdn: &str, extra: &[&str]) -> (PeerServer, PathBuf, tempfile::TempDir) {
    let dir = tempfile::tempdir().unwrap();
    let (ca, cert, key) = support::make_tls_files(dir.path(), &[fqdn]);
    let mut args = vec![
        "--tls-cert",
        cert.to_str().unwrap(),
        "--tls-key",
        key.to_str().unwrap(),
    ];
    args.extend_from_slice(extra);
    let server = acceptor(fqdn, &args);
    (server, ca, dir)
}

/// A full enumeration over HTTPS with Kerberos under `auth`: the acceptor
/// checks nothing sealed (TLS protects the bodies), and with `--require-cbt`
/// compares the authenticator's channel bindings with its own certificate's.
/// Before the vendored sspi patch, MIT refused this AP-REQ: sspi 0.23.1 put
/// KERB_AP_OPTIONS_CBT at the top level of the authenticator.
async fn https_collection(fqdn: &str, auth: AuthMechanism, extra: &[&str]) -> Json {
    let (server, ca, _dir) = https_acceptor(fqdn, extra);
    let cfg = config(fqdn, server.port, USER, PASSWORD, auth, Some(ca));
    let mut c = client(cfg);
    for _ in 0..3 {
        assert_eq!(
            select(&mut c, SELECT_OS).await.expect("enumeration").len(),
            5
        );
    }
    assert_eq!(c.connection().stats().auth, Some(AuthUsed::Kerberos));
    assert_eq!(c.connection().stats().reconnects, 0);
    drop(c);
    let stats = server.finish();
    assert_eq!(count(&stats, "auth_kerberos"), 1, "{stats}");
    assert_eq!(count(&stats, "ntlm_refused"), 0, "{stats}");
    assert_eq!(count(&stats, "rejected"), 0, "{stats}");
    stats
}

#[tokio::test]
async fn https_kerberos_collection_with_the_acceptor_requiring_channel_binding() {
    let stats = https_collection(
        "hv01.hvinv.test",
        AuthMechanism::Kerberos,
        &["--require-cbt"],
    )
    .await;
    assert_eq!(count(&stats, "cbt_checked"), 1, "{stats}");
}

#[tokio::test]
async fn https_kerberos_collection_with_an_acceptor_that_ignores_channel_binding() {
    let stats = https_collection("hv02.hvinv.test", AuthMechanism::Kerberos, &[]).await;
    assert_eq!(count(&stats, "cbt_checked"), 0, "{stats}");
}

/// The default `negotiate` over HTTPS, against a host that refuses NTLM.
#[tokio::test]
async fn https_negotiate_collects_with_kerberos_from_a_host_that_refuses_ntlm() {
    let stats = https_collection(
        "hv03.hvinv.test",
        AuthMechanism::Negotiate,
        &["--require-cbt"],
    )
    .await;
    assert_eq!(count(&stats, "cbt_checked"), 1, "{stats}");
}

/// The bindings really are in the authenticator: an acceptor expecting
/// other bindings refuses the AP-REQ, and that is the host refusing our
/// ticket, not a KDC problem.
#[tokio::test]
async fn https_kerberos_with_other_channel_bindings_is_refused() {
    let (server, ca, _dir) = https_acceptor("hv01.hvinv.test", &["--wrong-cbt"]);
    let cfg = config(
        "hv01.hvinv.test",
        server.port,
        USER,
        PASSWORD,
        AuthMechanism::Kerberos,
        Some(ca),
    );
    let err = select(&mut client(cfg), SELECT_OS).await.unwrap_err();
    assert!(
        matches!(
            kerberos_failure(&err),
            KerberosFailure::TicketRefused { .. }
        ),
        "{err}"
    );
    let stats = server.finish();
    assert_eq!(count(&stats, "auth_spnego"), 1, "{stats}");
    assert_eq!(count(&stats, "auth_kerberos"), 0, "{stats}");
}

#[tokio::test]
async fn unknown_host_principal_names_the_spn_and_the_fix() {
    let server = acceptor("hv01.hvinv.test", &[]);
    let cfg = config(
        "nosuchhost.hvinv.test",
        server.port,
        USER,
        PASSWORD,
        AuthMechanism::Kerberos,
        None,
    );
    let err = select(&mut client(cfg), SELECT_OS).await.unwrap_err();
    let f = kerberos_failure(&err);
    assert!(
        matches!(f, KerberosFailure::UnknownServicePrincipal { spn, .. } if spn == "WSMAN/nosuchhost.hvinv.test"),
        "{f:?}"
    );
    assert!(f.to_string().contains("setspn"), "{f}");
    assert_eq!(err.kind(), ErrorKind::Auth);
    let stats = server.finish();
    assert_eq!(
        count(&stats, "auth_spnego"),
        0,
        "nothing reached the host: {stats}"
    );
}

#[tokio::test]
async fn stopped_kdc_is_kdc_unreachable_and_negotiate_falls_back_to_ntlm() {
    // A port where no KDC listens: the KDC is down.
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let dead = closed.local_addr().unwrap().to_string();
    drop(closed);
    let server = acceptor("hv01.hvinv.test", &[]);
    let mut cfg = config(
        "hv01.hvinv.test",
        server.port,
        USER,
        PASSWORD,
        AuthMechanism::Kerberos,
        None,
    );
    cfg.kerberos.kdc = Some(dead.clone());
    let err = select(&mut client(cfg.clone()), SELECT_OS)
        .await
        .unwrap_err();
    let f = kerberos_failure(&err);
    assert!(
        matches!(f, KerberosFailure::KdcUnreachable { kdc, .. } if *kdc == dead),
        "{f:?}"
    );
    assert_eq!(err.kind(), ErrorKind::Unreachable);

    // `negotiate` cannot get a ticket, so it uses NTLM, which this domain
    // refuses: the host sees an NTLM token and says no.
    cfg.auth = AuthMechanism::Negotiate;
    let mut c = client(cfg);
    let err = select(&mut c, SELECT_OS).await.unwrap_err();
    assert!(
        matches!(err, WsmanError::Transport(TransportError::Auth(_))),
        "{err:?}"
    );
    assert!(
        c.connection()
            .kerberos_fallback_reason()
            .is_some_and(|r| r.contains("cannot be reached")),
        "{:?}",
        c.connection().kerberos_fallback_reason()
    );
    drop(c);
    let stats = server.finish();
    assert!(count(&stats, "ntlm_refused") >= 1, "{stats}");
    assert_eq!(count(&stats, "auth_kerberos"), 0, "{stats}");
}

#[tokio::test]
async fn negotiate_uses_kerberos_for_a_dns_name_and_says_so() {
    let server = acceptor("hv02.hvinv.test", &[]);
    let cfg = config(
        "hv02.hvinv.test",
        server.port,
        USER,
        PASSWORD,
        AuthMechanism::Negotiate,
        None,
    );
    let mut c = client(cfg);
    assert_eq!(
        select(&mut c, SELECT_OS).await.expect("enumeration").len(),
        5
    );
    assert_eq!(c.connection().stats().auth, Some(AuthUsed::Kerberos));
    assert_eq!(c.connection().kerberos_fallback_reason(), None);
    drop(c);
    let stats = server.finish();
    assert_eq!(count(&stats, "auth_kerberos"), 1, "{stats}");
    assert_eq!(count(&stats, "ntlm_refused"), 0, "{stats}");
}

#[tokio::test]
async fn kerberos_with_an_ip_address_is_a_configuration_error() {
    let mut cfg = config(
        "127.0.0.1",
        9,
        USER,
        PASSWORD,
        AuthMechanism::Kerberos,
        None,
    );
    cfg.target.connect_to = None;
    let err = select(&mut client(cfg), SELECT_OS).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Config, "{err}");
    assert!(err.to_string().contains("DNS name"), "{err}");
}

#[tokio::test]
async fn wrong_password_costs_one_as_exchange_for_many_hosts() {
    let k = kdc();
    k.add_user("kerb-wrongpw", PASSWORD);
    let mark = k.log().len();
    let servers: Vec<PeerServer> = ["hv01.hvinv.test", "hv02.hvinv.test", "hv03.hvinv.test"]
        .iter()
        .map(|h| acceptor(h, &[]))
        .collect();
    let mut tasks = Vec::new();
    for (host, s) in ["hv01.hvinv.test", "hv02.hvinv.test", "hv03.hvinv.test"]
        .iter()
        .zip(&servers)
    {
        let cfg = config(
            host,
            s.port,
            "kerb-wrongpw",
            "not-the-password",
            AuthMechanism::Kerberos,
            None,
        );
        tasks.push(tokio::spawn(async move {
            select(&mut client(cfg), SELECT_OS).await.unwrap_err()
        }));
    }
    for t in tasks {
        let err = t.await.unwrap();
        let f = kerberos_failure(&err);
        assert!(matches!(f, KerberosFailure::WrongPassword { .. }), "{f:?}");
        assert!(!err.to_string().contains("not-the-password"), "{err}");
    }
    // One exchange: the KDC's PREAUTH_REQUIRED, then one refused attempt.
    assert_eq!(
        k.as_requests(mark, "kerb-wrongpw"),
        2,
        "{}",
        &k.log()[mark..]
    );
    for s in servers {
        let stats = s.finish();
        assert_eq!(count(&stats, "auth_spnego"), 0, "{stats}");
    }
}

#[tokio::test]
async fn a_multi_host_run_asks_the_kdc_for_one_tgt() {
    let k = kdc();
    k.add_user("kerb-count", PASSWORD);
    let mark = k.log().len();
    let hosts = ["hv01.hvinv.test", "hv02.hvinv.test", "hv03.hvinv.test"];
    let servers: Vec<PeerServer> = hosts.iter().map(|h| acceptor(h, &[])).collect();
    // Three hosts, two rounds each (a new connection per round): three
    // logons at once, then three more once those are done.
    for _round in 0..2 {
        let mut tasks = Vec::new();
        for (host, s) in hosts.iter().zip(&servers) {
            let cfg = config(
                host,
                s.port,
                "kerb-count",
                PASSWORD,
                AuthMechanism::Kerberos,
                None,
            );
            tasks.push(tokio::spawn(async move {
                select(&mut client(cfg), SELECT_OS).await.map(|v| v.len())
            }));
        }
        for t in tasks {
            assert_eq!(t.await.unwrap().expect("enumeration"), 5);
        }
    }
    let log = &k.log()[mark..];
    // PREAUTH_REQUIRED + the AS-REP: once for the whole run.
    assert_eq!(k.as_requests(mark, "kerb-count"), 2, "{log}");
    let tgs = log
        .lines()
        .filter(|l| l.contains("TGS_REQ") && l.contains("kerb-count@"))
        .count();
    assert_eq!(tgs, 3, "one service ticket per host, not per logon: {log}");
    for s in servers {
        assert_eq!(count(&s.finish(), "auth_kerberos"), 2);
    }
}

/// libfaketime from Debian's `faketime` package (start.sh installs it).
fn libfaketime() -> PathBuf {
    let out = Command::new("sh")
        .args([
            "-c",
            "dpkg -L libfaketime | grep 'libfaketime.so.1$' | head -n1",
        ])
        .output()
        .expect("dpkg -L libfaketime");
    let path = PathBuf::from(String::from_utf8_lossy(&out.stdout).trim());
    assert!(
        path.exists(),
        "libfaketime is missing: run tests/interop/kdc/start.sh"
    );
    path
}

/// What this proves: an acceptor whose clock runs 10 minutes ahead (MIT's
/// default skew limit is 5) refuses our ticket, and the error tells the
/// operator to check the clocks. It cannot prove we tell skew apart from a
/// key mismatch: the acceptor sends no KRB-ERROR token with its 401.
#[tokio::test]
async fn host_clock_ten_minutes_off_refuses_the_ticket_and_the_error_names_the_clock() {
    let mut env = kdc().server_env();
    env.push(("LD_PRELOAD".into(), libfaketime().display().to_string()));
    env.push(("FAKETIME".into(), "+10m".into()));
    let nobody = Account {
        domain: String::new(),
        user: "unused".into(),
        password: "unused".into(),
    };
    let server = PeerServer::start_with_env(&nobody, &["--kerberos", "hv01.hvinv.test"], &env);
    let cfg = config(
        "hv01.hvinv.test",
        server.port,
        USER,
        PASSWORD,
        AuthMechanism::Kerberos,
        None,
    );
    let err = select(&mut client(cfg), SELECT_OS).await.unwrap_err();
    let f = kerberos_failure(&err);
    assert!(matches!(f, KerberosFailure::TicketRefused { .. }), "{f:?}");
    assert!(f.to_string().contains("clock"), "{f}");
    let stats = server.finish();
    assert_eq!(count(&stats, "auth_failed"), 1, "{stats}");
    assert_eq!(count(&stats, "auth_ok"), 0, "{stats}");
}

/// Waits for the child while draining its pipes; kills it past `limit`.
fn run_hvinv(args: &[&str], password: &str, limit: Duration) -> (i32, String, String) {
    use std::io::Read;
    let mut child = Command::new(env!("CARGO_BIN_EXE_hvinv"))
        .args(args)
        .env("HVINV_TEST_PW", password)
        // The KDC comes from our krb5.conf, as an operator's would.
        .env("KRB5_CONFIG", kdc().get("KRB5_CONFIG"))
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("hvinv starts");
    let mut out = child.stdout.take().unwrap();
    let mut err = child.stderr.take().unwrap();
    let o = std::thread::spawn(move || {
        let mut s = String::new();
        let _ = out.read_to_string(&mut s);
        s
    });
    let e = std::thread::spawn(move || {
        let mut s = String::new();
        let _ = err.read_to_string(&mut s);
        s
    });
    let deadline = std::time::Instant::now() + limit;
    let code = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status.code().unwrap_or(-1);
        }
        if std::time::Instant::now() > deadline {
            let _ = child.kill();
            panic!("hvinv did not finish within {limit:?}");
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    (code, o.join().unwrap(), e.join().unwrap())
}

/// The real binary with `auth = "kerberos"`, the realm from `realm`, the KDC
/// from krb5.conf (`KRB5_CONFIG`): the JSON summary says Kerberos, and the
/// password reaches no output, log (`-vv`) or database, whether the KDC
/// refuses it or accepts it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cli_collect_with_kerberos_reports_it_and_never_leaks_the_password() {
    let pw = "Qx7-Kerb-Canary-Zq9";
    kdc().add_user("kerb-canary", pw);
    let server = acceptor("hv02.hvinv.test", &[]);
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("hvinv.toml");
    std::fs::write(
        &config,
        format!(
            "[defaults]\nauth = \"kerberos\"\nusername = \"kerb-canary\"\nrealm = \"hvinv.test\"\n\
             password_env = \"HVINV_TEST_PW\"\ntimeout_secs = 20\n\n\
             [[host]]\naddress = \"hv02.hvinv.test\"\nport = {0}\nconnect_to = \"127.0.0.1:{0}\"\n",
            server.port
        ),
    )
    .unwrap();
    let db = dir.path().join("hvinv.db");
    let (config, db) = (config.to_str().unwrap(), db.to_str().unwrap());
    let args = [
        "collect",
        "--config",
        config,
        "--db",
        db,
        "--no-progress",
        "-vv",
        "--json",
    ];

    // The KDC refuses the password.
    let (code, out_wrong, err_wrong) = run_hvinv(&args, "wrong-Canary-pw", Duration::from_secs(60));
    assert_eq!(code, 1, "{out_wrong} {err_wrong}");
    assert!(out_wrong.contains("refused the password"), "{out_wrong}");

    // The KDC accepts it: authentication succeeds (the peer is no Hyper-V
    // host, so the inventory itself fails after that).
    let (_, out, err) = run_hvinv(&args, pw, Duration::from_secs(60));
    let summary: Json = serde_json::from_str(&out).expect("--json summary");
    assert_eq!(summary["authentication"]["kerberos"], 1, "{out}");
    assert!(err.contains("authenticated with kerberos"), "{err}");
    let stats = server.finish();
    assert!(count(&stats, "auth_kerberos") >= 1, "{stats}");
    assert_eq!(count(&stats, "ntlm_refused"), 0, "{stats}");

    let utf16: Vec<u8> = pw.encode_utf16().flat_map(|u| u.to_le_bytes()).collect();
    let mut haystacks: Vec<(String, Vec<u8>)> = vec![
        ("stdout".into(), out.into_bytes()),
        ("stderr".into(), err.into_bytes()),
        ("stdout (wrong)".into(), out_wrong.into_bytes()),
        ("stderr (wrong)".into(), err_wrong.into_bytes()),
    ];
    for entry in std::fs::read_dir(dir.path()).unwrap() {
        let p = entry.unwrap().path();
        if p.file_name()
            .unwrap()
            .to_string_lossy()
            .starts_with("hvinv.db")
        {
            haystacks.push((p.display().to_string(), std::fs::read(&p).unwrap()));
        }
    }
    for (name, bytes) in &haystacks {
        for needle in [pw.as_bytes(), &utf16, b"wrong-Canary-pw"] {
            assert!(
                !bytes.windows(needle.len()).any(|w| w == needle),
                "a password in {name}"
            );
        }
    }
}

/// A DNS responder on loopback that answers every SRV question with
/// `localhost:<port>` (built by hand from RFC 1035/2782), and counts them.
fn srv_responder(port: u16) -> (SocketAddr, Arc<std::sync::atomic::AtomicUsize>) {
    let sock = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
    let addr = sock.local_addr().unwrap();
    let asked = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let counter = asked.clone();
    std::thread::spawn(move || {
        let mut buf = [0u8; 512];
        while let Ok((n, from)) = sock.recv_from(&mut buf) {
            if n < 17 || !buf[..n].ends_with(&[0, 33, 0, 1]) {
                continue;
            }
            counter.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
            let mut a = buf[..2].to_vec();
            a.extend_from_slice(&[0x81, 0x80, 0, 1, 0, 1, 0, 0, 0, 0]);
            a.extend_from_slice(&buf[12..n]);
            a.extend_from_slice(&[0xc0, 0x0c, 0, 33, 0, 1, 0, 0, 0, 60]);
            let target = b"\x09localhost\x00";
            a.extend_from_slice(&((6 + target.len()) as u16).to_be_bytes());
            a.extend_from_slice(&[0, 0, 0, 0]);
            a.extend_from_slice(&port.to_be_bytes());
            a.extend_from_slice(target);
            let _ = sock.send_to(&a, from);
        }
    });
    (addr, asked)
}

/// No `kdc` and a krb5.conf without the realm: the KDC comes from the
/// realm's `_kerberos._tcp` SRV record, asked once for a run over two hosts.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cli_finds_the_kdc_by_dns_srv_once_per_run() {
    let port: u16 = kdc().get("HVINV_KDC_PORT").parse().unwrap();
    let (dns, asked) = srv_responder(port);
    let servers = [
        acceptor("hv01.hvinv.test", &[]),
        acceptor("hv02.hvinv.test", &[]),
    ];
    let dir = tempfile::tempdir().unwrap();
    let resolv = dir.path().join("resolv.conf");
    std::fs::write(&resolv, format!("nameserver {dns}\n")).unwrap();
    let krb5 = dir.path().join("krb5.conf");
    std::fs::write(&krb5, "[libdefaults]\n  default_realm = OTHER.TEST\n").unwrap();
    let mut text = "[defaults]\nauth = \"kerberos\"\nusername = \"hvinv-user\"\n\
                    realm = \"hvinv.test\"\npassword_env = \"HVINV_TEST_PW\"\ntimeout_secs = 20\n"
        .to_string();
    for (i, s) in servers.iter().enumerate() {
        text += &format!(
            "\n[[host]]\naddress = \"hv0{}.hvinv.test\"\nport = {1}\nconnect_to = \"127.0.0.1:{1}\"\n",
            i + 1,
            s.port
        );
    }
    let config = dir.path().join("hvinv.toml");
    std::fs::write(&config, text).unwrap();
    let db = dir.path().join("hvinv.db");
    let run = || {
        Command::new(env!("CARGO_BIN_EXE_hvinv"))
            .args(["collect", "--config", config.to_str().unwrap()])
            .args(["--db", db.to_str().unwrap(), "--no-progress", "--json"])
            .env("HVINV_TEST_PW", PASSWORD)
            .env("KRB5_CONFIG", &krb5)
            .env("HVINV_RESOLV_CONF", &resolv)
            .stdin(std::process::Stdio::null())
            .output()
            .expect("hvinv runs")
    };
    let out = run();
    let stdout = String::from_utf8_lossy(&out.stdout);
    let summary: Json = serde_json::from_str(&stdout).expect("--json summary");
    assert_eq!(
        summary["authentication"]["kerberos"],
        2,
        "{stdout} {}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(asked.load(std::sync::atomic::Ordering::SeqCst), 1);

    // krb5.conf forbids finding KDCs in DNS: DNS is not asked.
    std::fs::write(&krb5, "[libdefaults]\n  dns_lookup_kdc = false\n").unwrap();
    let out = run();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        stdout.contains("no KDC known for realm HVINV.TEST"),
        "{stdout}"
    );
    assert_eq!(asked.load(std::sync::atomic::Ordering::SeqCst), 1);
    for s in servers {
        assert_eq!(count(&s.finish(), "auth_kerberos"), 1);
    }
}

/// `check`'s authentication step says Kerberos (and the principal) when it
/// worked, and gives the Kerberos failure's own remedy when the KDC refused
/// the password.
#[tokio::test]
async fn check_names_the_mechanism_and_the_kerberos_remedy() {
    use hvinv::diagnose::{StepStatus, check_host};
    let server = acceptor("hv03.hvinv.test", &[]);
    let good = Arc::new(config(
        "hv03.hvinv.test",
        server.port,
        USER,
        PASSWORD,
        AuthMechanism::Negotiate,
        None,
    ));
    let opts = ClientOptions::default();
    let report = check_host("hv03.hvinv.test", &good, &opts).await;
    let auth = report
        .steps
        .iter()
        .find(|s| s.name == "authentication")
        .expect("authentication step");
    assert_eq!(auth.status, StepStatus::Pass, "{report:?}");
    assert!(
        auth.detail.starts_with("Kerberos (WSMAN/hv03.hvinv.test)"),
        "{}",
        auth.detail
    );

    let bad = config(
        "hv03.hvinv.test",
        server.port,
        USER,
        "not-the-password",
        AuthMechanism::Kerberos,
        None,
    );
    let report = check_host("hv03.hvinv.test", &Arc::new(bad), &opts).await;
    let auth = report
        .steps
        .iter()
        .find(|s| s.name == "authentication")
        .expect("authentication step");
    assert_eq!(auth.status, StepStatus::Fail, "{report:?}");
    let remedy = auth.remedy.as_deref().unwrap_or_default();
    assert!(remedy.contains("refused the password"), "{remedy}");
    assert!(!report.ok);
    drop(server);
}
