//! Our client (`wsman::Client` over `transport::Connection`) against an
//! independent server: pyspnego's NTLM/SPNEGO acceptor and WinRM sealing in
//! `tests/interop/winrm_server.py`. pyspnego checks our NTLMv2 response, MIC,
//! signatures, sequence numbers and (over HTTPS) channel bindings; the
//! server's strict framing reader checks our `multipart/encrypted` bytes.
//!
//! Expected instances come from the server's own definition
//! (`winrm_server.py --print-estate`), not from our parser.

#[path = "interop/support.rs"]
mod support;

use hvinv::error::{ErrorKind, HasKind};
use hvinv::transport::{
    Connection, Credentials, Encryption, Scheme, Target, Timeouts, TlsOptions, TransportConfig,
};
use hvinv::wsman::{Client, ClientOptions, Instance, Value, WsmanError};
use secrecy::SecretString;
use serde_json::Value as Json;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;
use support::{Account, PeerServer};

const SELECT_OS: &str = "SELECT * FROM Win32_OperatingSystem";
/// A whole test (several round trips) must end well within this.
const TEST_DEADLINE: Duration = Duration::from_secs(60);

fn account() -> Account {
    Account {
        domain: "LAB".to_string(),
        user: "alice".to_string(),
        password: "Interop-Passw0rd!".to_string(),
    }
}

fn config(
    port: u16,
    account: &Account,
    password: &str,
    tls: Option<PathBuf>,
) -> Arc<TransportConfig> {
    let scheme = if tls.is_some() {
        Scheme::Https
    } else {
        Scheme::Http
    };
    Arc::new(TransportConfig {
        target: Target {
            // The certificate names `localhost`; the socket goes to 127.0.0.1.
            address: hvinv::transport::Address::new("localhost", port).unwrap(),
            scheme,
            connect_to: Some(SocketAddr::new(IpAddr::V4(Ipv4Addr::LOCALHOST), port)),
        },
        credentials: Credentials::parse(
            &account.qualified(),
            SecretString::from(password.to_string()),
        ),
        encryption: Encryption::Auto,
        tls: TlsOptions {
            ca_file: tls,
            thumbprint: None,
            insecure_skip_verify: false,
        },
        timeouts: Timeouts {
            connect: Duration::from_secs(10),
            request: Duration::from_secs(20),
        },
        auth: Default::default(),
        kerberos: Default::default(),
    })
}

fn with_request_timeout(cfg: Arc<TransportConfig>, request: Duration) -> Arc<TransportConfig> {
    let mut cfg = (*cfg).clone();
    cfg.timeouts.request = request;
    Arc::new(cfg)
}

fn client(cfg: Arc<TransportConfig>) -> Client {
    Client::new(Connection::new(cfg), ClientOptions::default())
}

async fn select(client: &mut Client, wql: &str) -> Result<Vec<Instance>, WsmanError> {
    tokio::time::timeout(TEST_DEADLINE, client.enumerate_wql("root/cimv2", wql))
        .await
        .expect("enumeration finished in time")
}

/// Compares one parsed property with the server's JSON definition:
/// null = xsi:nil, array = repeated elements, {"datetime"} = cim:Datetime.
fn assert_value(class: &str, name: &str, got: Option<&Value>, want: &Json) {
    let ctx = format!("{class}.{name}");
    match want {
        Json::Null => assert_eq!(got, Some(&Value::Null), "{ctx}"),
        Json::String(s) => assert_eq!(got, Some(&Value::Text(s.clone())), "{ctx}"),
        Json::Array(items) if items.len() == 1 => {
            // One element on the wire looks like a scalar (WinRM arrays are
            // repeated elements); either reading is acceptable here.
            let s = items[0].as_str().expect("array of text");
            let ok = got == Some(&Value::Text(s.to_string()))
                || got == Some(&Value::Array(vec![Value::Text(s.to_string())]));
            assert!(ok, "{ctx}: got {got:?}, want [{s:?}]");
        }
        Json::Array(items) => {
            let want: Vec<Value> = items
                .iter()
                .map(|v| Value::Text(v.as_str().expect("array of text").to_string()))
                .collect();
            assert_eq!(got, Some(&Value::Array(want)), "{ctx}");
        }
        Json::Object(o) => {
            let s = o["datetime"].as_str().expect("datetime text");
            assert_eq!(got, Some(&Value::Datetime(s.to_string())), "{ctx}");
        }
        other => panic!("{ctx}: unexpected definition {other:?}"),
    }
}

/// Every defined instance, in order, with every defined property (or only
/// `props` when the select named them).
fn assert_matches_estate(got: &[Instance], props: Option<&[&str]>) {
    let estate = support::peer_estate();
    let class = estate["class"].as_str().expect("class");
    let want = estate["instances"].as_array().expect("instances");
    assert_eq!(got.len(), want.len(), "instance count");
    for (inst, def) in got.iter().zip(want) {
        let def = def.as_object().expect("instance object");
        match props {
            None => {
                assert_eq!(inst.class, class);
                let uri =
                    format!("http://schemas.microsoft.com/wbem/wsman/1/wmi/root/cimv2/{class}");
                assert_eq!(inst.resource_uri.as_deref(), Some(uri.as_str()));
                assert_eq!(
                    inst.props.len(),
                    def.len(),
                    "property count of {:?}",
                    inst.props
                );
                for (name, value) in def {
                    assert_value(class, name, inst.get(name), value);
                }
            }
            Some(names) => {
                assert_eq!(inst.class, "XmlFragment");
                assert_eq!(
                    inst.props.len(),
                    names.len(),
                    "fragment properties {:?}",
                    inst.props
                );
                for name in names {
                    assert_value(class, name, inst.get(name), &def[*name]);
                }
            }
        }
    }
}

fn count(stats: &Json, key: &str) -> u64 {
    stats[key]
        .as_u64()
        .unwrap_or_else(|| panic!("stats has no {key}: {stats}"))
}

#[tokio::test]
async fn sealed_http_enumeration_follows_pulls_and_matches_the_peer_estate() {
    let acct = account();
    let server = PeerServer::start(&acct, &[]);
    let mut c = client(config(server.port, &acct, &acct.password, None));
    let got = select(&mut c, SELECT_OS)
        .await
        .expect("enumerate against pyspnego");
    assert_matches_estate(&got, None);
    c.close().await;

    let stats = server.finish();
    assert_eq!(count(&stats, "rejected"), 0, "{stats}");
    assert_eq!(count(&stats, "auth_ok"), 1, "{stats}");
    // 5 instances in pages of 2: Enumerate + 2 Pulls, all sealed.
    assert_eq!(count(&stats, "enumerates"), 1, "{stats}");
    assert_eq!(count(&stats, "pulls"), 2, "{stats}");
    assert_eq!(count(&stats, "sealed_requests"), 3, "{stats}");
    assert_eq!(count(&stats, "plain_requests"), 0, "{stats}");
}

#[tokio::test]
async fn explicit_property_list_comes_back_as_fragments() {
    let acct = account();
    let server = PeerServer::start(&acct, &[]);
    let mut c = client(config(server.port, &acct, &acct.password, None));
    let got = select(&mut c, "SELECT Caption, InstallDate, MUILanguages, OtherTypeDescription FROM Win32_OperatingSystem")
        .await
        .expect("enumerate fragments");
    assert_matches_estate(
        &got,
        Some(&[
            "Caption",
            "InstallDate",
            "MUILanguages",
            "OtherTypeDescription",
        ]),
    );
    drop(server);
}

#[tokio::test]
async fn sixty_sealed_messages_share_one_connection_and_one_authentication() {
    let acct = account();
    let server = PeerServer::start(&acct, &[]);
    let mut c = client(config(server.port, &acct, &acct.password, None));
    // 20 selects x (Enumerate + 2 Pulls): the sequence numbers run to 60 on
    // both sides; pyspnego rejects any gap, reuse or reset.
    for round in 0..20 {
        let got = select(&mut c, SELECT_OS)
            .await
            .unwrap_or_else(|e| panic!("round {round}: {e}"));
        assert_eq!(got.len(), 5, "round {round}");
    }
    let ts = c.connection().stats();
    assert_eq!(ts.reconnects, 0, "{ts:?}");
    c.close().await;

    let stats = server.finish();
    assert_eq!(count(&stats, "rejected"), 0, "{stats}");
    assert_eq!(count(&stats, "connections"), 1, "{stats}");
    assert_eq!(count(&stats, "auth_ok"), 1, "{stats}");
    assert_eq!(count(&stats, "sealed_requests"), 60, "{stats}");
    assert_eq!(count(&stats, "max_sealed_per_connection"), 60, "{stats}");
}

#[tokio::test]
async fn sealed_access_denied_fault_is_parsed_as_data() {
    let acct = account();
    let server = PeerServer::start(&acct, &[]);
    let mut c = client(config(server.port, &acct, &acct.password, None));
    let err = select(&mut c, "SELECT * FROM Hvinv_AccessDenied")
        .await
        .expect_err("the peer answers AccessDenied");
    let WsmanError::Fault(fault) = &err else {
        panic!("expected a WS-Man fault, got {err:?}");
    };
    assert_eq!(fault.wsman_code, Some(5), "{fault:?}");
    assert_eq!(fault.subcode.as_deref(), Some("AccessDenied"), "{fault:?}");
    assert_eq!(fault.code.as_deref(), Some("Sender"), "{fault:?}");
    assert_eq!(
        fault.machine.as_deref(),
        Some("interop-peer.example.test"),
        "{fault:?}"
    );
    assert_eq!(fault.message, "Access is denied.");
    assert_eq!(err.kind(), ErrorKind::AccessDenied);

    // The connection stays usable after a fault (HTTP 500 is not fatal).
    let got = select(&mut c, SELECT_OS)
        .await
        .expect("select after a fault");
    assert_eq!(got.len(), 5);
    let stats = server.finish();
    assert_eq!(count(&stats, "rejected"), 0, "{stats}");
    assert_eq!(count(&stats, "auth_ok"), 1, "{stats}");
}

#[tokio::test]
async fn sealed_provider_fault_keeps_the_wmi_message() {
    let acct = account();
    let server = PeerServer::start(&acct, &[]);
    let mut c = client(config(server.port, &acct, &acct.password, None));
    let err = select(&mut c, "SELECT * FROM Win32_NoSuchClass")
        .await
        .expect_err("unknown class");
    let WsmanError::Fault(fault) = &err else {
        panic!("expected a WS-Man fault, got {err:?}");
    };
    assert_eq!(fault.wsman_code, Some(2_150_858_778), "{fault:?}");
    assert_eq!(
        fault.subcode.as_deref(),
        Some("CannotProcessFilter"),
        "{fault:?}"
    );
    assert_eq!(
        fault.provider_message.as_deref(),
        Some("The specified class does not exist in the given namespace."),
        "{fault:?}"
    );
    drop(server);
}

#[tokio::test]
async fn local_account_without_a_domain_authenticates() {
    let acct = Account {
        domain: String::new(),
        user: "localadmin".to_string(),
        password: "L0cal-Passw0rd".to_string(),
    };
    let server = PeerServer::start(&acct, &[]);
    let mut c = client(config(server.port, &acct, &acct.password, None));
    let got = select(&mut c, SELECT_OS).await.expect("local account");
    assert_eq!(got.len(), 5);
    let stats = server.finish();
    assert_eq!(count(&stats, "auth_ok"), 1, "{stats}");
}

#[tokio::test]
async fn wrong_password_fails_once_with_an_auth_error() {
    let acct = account();
    let server = PeerServer::start(&acct, &[]);
    let mut c = client(config(server.port, &acct, "not-the-password", None));
    let err = select(&mut c, SELECT_OS).await.expect_err("wrong password");
    assert_eq!(err.kind(), ErrorKind::Auth, "{err:?}");
    // The message names the failure, never the password.
    let text = format!("{err} {err:?}");
    assert!(!text.contains("not-the-password"), "{text}");
    let stats = server.finish();
    assert_eq!(count(&stats, "auth_failed"), 1, "no retry loop: {stats}");
    assert_eq!(count(&stats, "auth_ok"), 0, "{stats}");
    assert_eq!(count(&stats, "sealed_requests"), 0, "{stats}");
}

#[tokio::test]
async fn https_with_channel_binding_is_accepted_by_pyspnego() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (ca, cert, key) = support::make_tls_files(dir.path(), &["localhost"]);
    let acct = account();
    let server = PeerServer::start(
        &acct,
        &[
            "--tls-cert",
            cert.to_str().expect("utf-8 path"),
            "--tls-key",
            key.to_str().expect("utf-8 path"),
            "--require-cbt",
        ],
    );
    let mut c = client(config(server.port, &acct, &acct.password, Some(ca)));
    let got = select(&mut c, SELECT_OS)
        .await
        .expect("enumerate over HTTPS");
    assert_matches_estate(&got, None);
    c.close().await;

    let stats = server.finish();
    assert_eq!(count(&stats, "rejected"), 0, "{stats}");
    assert_eq!(count(&stats, "auth_ok"), 1, "{stats}");
    // pyspnego compared our MsvAvChannelBindings with the certificate's hash,
    // and the server saw non-zero bindings in the AUTHENTICATE.
    assert_eq!(count(&stats, "cbt_checked"), 1, "{stats}");
    // TLS protects the body: no message sealing over HTTPS.
    assert_eq!(count(&stats, "plain_requests"), 3, "{stats}");
    assert_eq!(count(&stats, "sealed_requests"), 0, "{stats}");
}

#[tokio::test]
async fn channel_binding_uses_sha384_for_a_sha384_signed_certificate() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (ca, cert, key) = support::make_tls_files_signed_with(
        dir.path(),
        &["localhost"],
        &rcgen::PKCS_ECDSA_P384_SHA384,
    );
    let acct = account();
    let server = PeerServer::start(
        &acct,
        &[
            "--tls-cert",
            cert.to_str().expect("utf-8 path"),
            "--tls-key",
            key.to_str().expect("utf-8 path"),
            "--require-cbt",
        ],
    );
    let mut c = client(config(server.port, &acct, &acct.password, Some(ca)));
    let got = select(&mut c, SELECT_OS)
        .await
        .expect("enumerate over HTTPS (P-384 CA)");
    assert_eq!(got.len(), 5);
    let stats = server.finish();
    assert_eq!(count(&stats, "auth_ok"), 1, "{stats}");
    assert_eq!(count(&stats, "cbt_checked"), 1, "{stats}");
}

#[tokio::test]
async fn https_peer_signed_by_an_unknown_ca_is_a_tls_error() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (_, cert, key) = support::make_tls_files(dir.path(), &["localhost"]);
    let other = tempfile::tempdir().expect("tempdir");
    let (other_ca, _, _) = support::make_tls_files(other.path(), &["localhost"]);
    let acct = account();
    let server = PeerServer::start(
        &acct,
        &[
            "--tls-cert",
            cert.to_str().expect("utf-8"),
            "--tls-key",
            key.to_str().expect("utf-8"),
        ],
    );
    let mut c = client(config(server.port, &acct, &acct.password, Some(other_ca)));
    let err = select(&mut c, SELECT_OS)
        .await
        .expect_err("untrusted certificate");
    assert_eq!(err.kind(), ErrorKind::Tls, "{err:?}");
    let stats = server.finish();
    assert_eq!(count(&stats, "auth_ok"), 0, "{stats}");
}

#[tokio::test]
async fn four_sealed_pages_of_100_kb_come_back_intact() {
    let acct = account();
    let server = PeerServer::start(&acct, &[]);
    let mut c = client(config(server.port, &acct, &acct.password, None));
    let got = select(&mut c, "SELECT * FROM Hvinv_Bulk")
        .await
        .expect("bulk select");
    let estate = support::peer_estate();
    let want = estate["bulk"]["instances"]
        .as_array()
        .expect("bulk instances");
    assert_eq!(got.len(), want.len());
    for (inst, def) in got.iter().zip(want) {
        assert_eq!(inst.class, "Hvinv_Bulk");
        for (name, value) in def.as_object().expect("object") {
            assert_value("Hvinv_Bulk", name, inst.get(name), value);
        }
    }
    let stats = server.finish();
    assert_eq!(count(&stats, "rejected"), 0, "{stats}");
    // 400 items in pages of 100: Enumerate + 3 Pulls.
    assert_eq!(count(&stats, "sealed_requests"), 4, "{stats}");
}

#[tokio::test]
async fn dropped_keep_alive_socket_means_reconnect_and_new_authentication() {
    let acct = account();
    // The server silently closes every connection after 2 replies.
    let server = PeerServer::start(&acct, &["--drop-after", "2"]);
    let mut c = client(config(server.port, &acct, &acct.password, None));
    for round in 0..3 {
        let got = select(&mut c, SELECT_OS)
            .await
            .unwrap_or_else(|e| panic!("round {round}: {e}"));
        assert_matches_estate(&got, None);
    }
    let ts = c.connection().stats();
    c.close().await;
    let stats = server.finish();
    assert_eq!(count(&stats, "rejected"), 0, "{stats}");
    // 9 SOAP requests, 2 per connection: 5 connections, each authenticated
    // afresh (pyspnego would reject sealing keys or sequence numbers carried
    // over from the previous socket).
    assert_eq!(count(&stats, "sealed_requests"), 9, "{stats}");
    assert_eq!(count(&stats, "auth_ok"), 5, "{stats}");
    assert_eq!(ts.reconnects, 4, "{ts:?}");
}

#[tokio::test]
async fn stalled_reply_ends_in_a_timeout_error() {
    let acct = account();
    let server = PeerServer::start(&acct, &[]);
    let cfg = with_request_timeout(
        config(server.port, &acct, &acct.password, None),
        Duration::from_secs(1),
    );
    let mut c = client(cfg);
    let started = std::time::Instant::now();
    let err = select(&mut c, "SELECT * FROM Hvinv_Stall")
        .await
        .expect_err("stall");
    assert_eq!(err.kind(), ErrorKind::Timeout, "{err:?}");
    // The server answers after 8 s; the 1 s request timeout must win.
    assert!(
        started.elapsed() < Duration::from_secs(6),
        "{:?}",
        started.elapsed()
    );
    drop(server);
}

#[tokio::test]
async fn sealed_identify_reports_the_peer_product() {
    let acct = account();
    let server = PeerServer::start(&acct, &[]);
    let mut c = client(config(server.port, &acct, &acct.password, None));
    let info = tokio::time::timeout(TEST_DEADLINE, c.identify())
        .await
        .expect("identify in time")
        .expect("identify");
    // Values from winrm_server.py's IdentifyResponse.
    assert_eq!(
        info.product_vendor.as_deref(),
        Some("Microsoft Corporation")
    );
    assert_eq!(
        info.product_version.as_deref(),
        Some("OS: 10.0.20348 SP: 0.0 Stack: 3.0")
    );
    assert_eq!(
        info.protocol_version.as_deref(),
        Some("http://schemas.dmtf.org/wbem/wsman/1/wsman.xsd")
    );
    let stats = server.finish();
    assert_eq!(count(&stats, "rejected"), 0, "{stats}");
    assert_eq!(count(&stats, "sealed_requests"), 1, "{stats}");
}

/// The two Python peers agree with each other: a check of the harness
/// itself, independent of any Rust code.
#[test]
fn python_peers_agree_pypsrp_client_against_pyspnego_server() {
    let acct = account();
    let server = PeerServer::start(&acct, &[]);
    for auth in ["ntlm", "negotiate"] {
        let out = support::run_pypsrp(
            &acct,
            &[
                "--port".into(),
                server.port.to_string(),
                "--auth".into(),
                auth.into(),
                "--wql".into(),
                SELECT_OS.into(),
            ],
            TEST_DEADLINE,
        );
        assert_eq!(out["ok"], Json::Bool(true), "{auth}: {out}");
        let estate = support::peer_estate();
        let want = estate["instances"].as_array().expect("instances");
        let got = out["instances"].as_array().expect("instances");
        assert_eq!(got.len(), want.len(), "{auth}");
        for (g, w) in got.iter().zip(want) {
            assert_eq!(g["props"], one_item_arrays_as_scalars(w), "{auth}");
        }
    }
    let stats = server.finish();
    assert_eq!(count(&stats, "rejected"), 0, "{stats}");
    assert_eq!(count(&stats, "auth_raw_ntlm"), 1, "{stats}");
    assert_eq!(count(&stats, "auth_spnego"), 1, "{stats}");
}

/// On the wire a one-element array is one element, which a schema-less
/// reader (pypsrp_client.py) sees as a scalar.
fn one_item_arrays_as_scalars(instance: &Json) -> Json {
    let mut out = instance.clone();
    if let Some(map) = out.as_object_mut() {
        for value in map.values_mut() {
            if let Json::Array(items) = value
                && items.len() == 1
            {
                *value = items[0].clone();
            }
        }
    }
    out
}
