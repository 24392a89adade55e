//! `transport::Connection` against the simulator, an independent server
//! (its own NTLM acceptor, sealing framing and TLS certificates). Everything
//! runs on 127.0.0.0/8. The SOAP sent is a hand-written Identify: this file
//! tests the transport, not the WS-Man layer.

use bytes::Bytes;
use hvinv::error::{ErrorKind, HasKind};
use hvinv::simulator::{self, Estate, SimConfig, Simulator, TlsCertMode};
use hvinv::transport::thumbprint::Thumbprint;
use hvinv::transport::{
    Connection, Credentials, Encryption, Scheme, Target, Timeouts, TlsFailure, TransportConfig,
    TransportError,
};
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

const IDENTIFY: &str = r#"<s:Envelope xmlns:s="http://www.w3.org/2003/05/soap-envelope" xmlns:wsmid="http://schemas.dmtf.org/wbem/wsman/identity/1/wsmanidentity.xsd"><s:Header/><s:Body><wsmid:Identify/></s:Body></s:Envelope>"#;

/// One simulated host with `faults` applied, HTTP and HTTPS on free ports.
async fn sim(faults: impl FnOnce(&mut simulator::HostFaults)) -> Simulator {
    let mut estate = Estate::scale(1, 1, 7);
    if let Some(h) = estate.hosts.first_mut() {
        faults(&mut h.faults);
    }
    let mut cfg = SimConfig::new(estate);
    cfg.http_port = 0;
    cfg.https_port = Some(0);
    cfg.threads = 1;
    Simulator::start(cfg).await.unwrap()
}

fn config(sim: &Simulator, scheme: Scheme, password: &str) -> TransportConfig {
    let ep = sim.endpoints().remove(0);
    let addr: SocketAddr = match scheme {
        Scheme::Http => ep.http,
        Scheme::Https => ep.https.unwrap(),
    };
    let mut cfg = TransportConfig::new(
        Target {
            address: hvinv::transport::Address::new(&ep.tls_name, addr.port()).unwrap(),
            scheme,
            connect_to: Some(addr),
        },
        Credentials::parse(simulator::DEFAULT_ACCOUNT, password.to_string().into()),
    );
    cfg.timeouts = Timeouts {
        connect: Duration::from_secs(5),
        request: Duration::from_secs(5),
    };
    cfg
}

fn good(sim: &Simulator, scheme: Scheme) -> TransportConfig {
    config(sim, scheme, simulator::DEFAULT_PASSWORD)
}

fn with_ca(cfg: &mut TransportConfig, sim: &Simulator) -> tempfile::NamedTempFile {
    let mut f = tempfile::NamedTempFile::new().unwrap();
    std::io::Write::write_all(&mut f, sim.ca_pem().as_bytes()).unwrap();
    cfg.tls.ca_file = Some(f.path().to_path_buf());
    f
}

async fn identify(conn: &mut Connection) -> Result<u16, TransportError> {
    let reply = conn.send(Bytes::from_static(IDENTIFY.as_bytes())).await?;
    assert!(
        String::from_utf8_lossy(&reply.body).contains("IdentifyResponse"),
        "{:?}",
        String::from_utf8_lossy(&reply.body)
    );
    Ok(reply.status)
}

#[tokio::test]
async fn sixty_sealed_messages_on_one_connection_and_one_handshake() {
    let sim = sim(|_| {}).await;
    let mut conn = Connection::new(Arc::new(good(&sim, Scheme::Http)));
    for _ in 0..60 {
        assert_eq!(identify(&mut conn).await.unwrap(), 200);
    }
    let s = sim.stats();
    assert_eq!((s.connections, s.handshakes, s.auth_failures), (1, 1, 0));
    // The NEGOTIATE leg, then one exchange per message.
    assert_eq!(s.requests, 61);
    assert_eq!(conn.stats().round_trips, 61);
    assert_eq!(conn.stats().reconnects, 0);
    conn.close().await;
    sim.shutdown().await;
}

#[tokio::test]
async fn wrong_password_is_one_auth_error_and_one_attempt() {
    let sim = sim(|_| {}).await;
    let mut conn = Connection::new(Arc::new(config(&sim, Scheme::Http, "Not-The-Password1")));
    let err = identify(&mut conn).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Auth, "{err}");
    assert!(!format!("{err} {err:?}").contains("Not-The-Password1"));
    let s = sim.stats();
    assert_eq!((s.connections, s.auth_failures, s.requests), (1, 1, 2));
    sim.shutdown().await;
}

#[tokio::test]
async fn upn_account_logs_in() {
    let estate = Estate::scale(1, 1, 7);
    let dns_domain = estate.hosts[0].domain.clone();
    let sim = sim(|_| {}).await;
    let user = simulator::DEFAULT_ACCOUNT.rsplit('\\').next().unwrap();
    let mut cfg = good(&sim, Scheme::Http);
    cfg.credentials = Credentials::parse(
        &format!("{user}@{dns_domain}"),
        simulator::DEFAULT_PASSWORD.to_string().into(),
    );
    assert!(cfg.credentials.upn);
    let mut conn = Connection::new(Arc::new(cfg));
    assert_eq!(identify(&mut conn).await.unwrap(), 200);
    assert_eq!(sim.stats().handshakes, 1);
    sim.shutdown().await;
}

#[tokio::test]
async fn host_rejecting_every_login_is_an_auth_error() {
    let sim = sim(|f| f.reject_auth = true).await;
    let err = identify(&mut Connection::new(Arc::new(good(&sim, Scheme::Http))))
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Auth, "{err}");
    sim.shutdown().await;
}

#[tokio::test]
async fn plain_soap_over_http_works_only_where_allowed() {
    let sim = sim(|f| f.allow_unencrypted = true).await;
    let mut cfg = good(&sim, Scheme::Http);
    cfg.encryption = Encryption::Never;
    let mut conn = Connection::new(Arc::new(cfg));
    assert_eq!(identify(&mut conn).await.unwrap(), 200);
    sim.shutdown().await;
}

#[tokio::test]
async fn stalled_host_is_a_timeout() {
    let sim = sim(|f| f.stall = true).await;
    let mut cfg = good(&sim, Scheme::Http);
    cfg.timeouts.request = Duration::from_millis(400);
    let t0 = Instant::now();
    let err = identify(&mut Connection::new(Arc::new(cfg)))
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Timeout, "{err}");
    assert!(t0.elapsed() < Duration::from_secs(3));
    sim.shutdown().await;
}

#[tokio::test]
async fn host_closing_mid_body_is_an_error() {
    let sim = sim(|f| f.close_mid_body = true).await;
    let err = identify(&mut Connection::new(Arc::new(good(&sim, Scheme::Http))))
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Unreachable, "{err}");
    sim.shutdown().await;
}

#[tokio::test]
async fn huge_body_is_cut_off_as_a_protocol_error() {
    let sim = sim(|f| f.huge_body = true).await;
    let err = identify(&mut Connection::new(Arc::new(good(&sim, Scheme::Http))))
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Protocol, "{err}");
    sim.shutdown().await;
}

#[tokio::test]
async fn bad_reply_signature_is_a_protocol_error() {
    let sim = sim(|f| f.truncated_signature = true).await;
    let err = identify(&mut Connection::new(Arc::new(good(&sim, Scheme::Http))))
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Protocol, "{err}");
    sim.shutdown().await;
}

#[tokio::test]
async fn refused_connection_is_unreachable() {
    let sim = sim(|f| f.refuse_connections = true).await;
    let err = identify(&mut Connection::new(Arc::new(good(&sim, Scheme::Http))))
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Unreachable, "{err}");
    sim.shutdown().await;
}

#[tokio::test]
async fn https_with_the_simulator_ca_and_channel_binding() {
    let sim = sim(|_| {}).await;
    let mut cfg = good(&sim, Scheme::Https);
    let _ca = with_ca(&mut cfg, &sim);
    let mut conn = Connection::new(Arc::new(cfg));
    for _ in 0..5 {
        assert_eq!(identify(&mut conn).await.unwrap(), 200);
    }
    let s = sim.stats();
    assert_eq!((s.connections, s.tls_handshakes, s.handshakes), (1, 1, 1));
    sim.shutdown().await;
}

#[tokio::test]
async fn https_pinned_thumbprint_accepts_a_self_signed_listener() {
    let sim = sim(|f| f.tls = TlsCertMode::SelfSigned).await;
    let err = identify(&mut Connection::new(Arc::new(good(&sim, Scheme::Https))))
        .await
        .unwrap_err();
    assert!(
        matches!(err, TransportError::Tls(TlsFailure::UnknownAuthority)),
        "{err}"
    );

    let mut cfg = good(&sim, Scheme::Https);
    cfg.tls.thumbprint = Some(Thumbprint::parse(&sim.cert_thumbprint_sha1(0)).unwrap());
    assert_eq!(
        identify(&mut Connection::new(Arc::new(cfg))).await.unwrap(),
        200
    );

    let mut cfg = good(&sim, Scheme::Https);
    cfg.tls.thumbprint = Some(Thumbprint::parse(&"ab".repeat(20)).unwrap());
    let err = identify(&mut Connection::new(Arc::new(cfg)))
        .await
        .unwrap_err();
    assert!(
        matches!(err, TransportError::Tls(TlsFailure::ThumbprintMismatch)),
        "{err}"
    );
    sim.shutdown().await;
}

#[tokio::test]
async fn https_wrong_name_is_a_name_mismatch() {
    let sim = sim(|f| f.tls = TlsCertMode::WrongName).await;
    let mut cfg = good(&sim, Scheme::Https);
    let _ca = with_ca(&mut cfg, &sim);
    let err = identify(&mut Connection::new(Arc::new(cfg)))
        .await
        .unwrap_err();
    assert!(
        matches!(err, TransportError::Tls(TlsFailure::NameMismatch)),
        "{err}"
    );
    sim.shutdown().await;
}

#[tokio::test]
async fn https_expired_certificate_is_expired() {
    let sim = sim(|f| f.tls = TlsCertMode::Expired).await;
    let mut cfg = good(&sim, Scheme::Https);
    let _ca = with_ca(&mut cfg, &sim);
    let err = identify(&mut Connection::new(Arc::new(cfg)))
        .await
        .unwrap_err();
    assert!(
        matches!(err, TransportError::Tls(TlsFailure::Expired)),
        "{err}"
    );
    sim.shutdown().await;
}
