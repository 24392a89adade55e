//! `Connection` end to end against an in-process peer on 127.0.0.1: a
//! small hyper server with an sspi NTLM acceptor (standing in for a WinRM
//! listener), plus raw sockets that stall or hang up. The simulator-based
//! tests in `tests/transport_e2e.rs` cover the independent server.

use super::test_ntlm_server::TestNtlmServer;
use super::*;
use crate::error::HasKind;
use http_body_util::BodyExt;
use hyper::body::Incoming;
use hyper_util::rt::TokioIo;
use sspi::{EncryptionFlags, SecurityBufferRef, Sspi};
use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, AtomicUsize};
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;

const USER: &str = "svc-inv";
const DOMAIN: &str = "CONTOSO";
const PASSWORD: &str = "Loopback-Pw1";

#[derive(Clone, Copy, Default, PartialEq)]
enum Behaviour {
    #[default]
    Normal,
    /// `Connection: close` on every authenticated reply.
    CloseAfterReply,
    /// Offer only Basic.
    BasicOnly,
    /// Answer sealed requests with a plaintext 200.
    PlainReply,
    /// Flip a ciphertext byte in sealed replies.
    TamperReply,
    /// A 200 reply of this many bytes.
    Huge(usize),
    /// `Connection: close` on the 401 that carries the challenge.
    CloseOnChallenge,
    /// Wrap the CHALLENGE in a SPNEGO negTokenResp.
    SpnegoChallenge,
    /// Close the socket without a word shortly after each authenticated
    /// reply, as an idle keep-alive timeout does.
    SilentDrop,
    /// Answer 401 once to a request on an authenticated session (a WinRM
    /// service restart), then behave.
    ForgetSessionOnce,
    /// Like `ForgetSessionOnce`, and refuse every later logon (the
    /// password changed meanwhile).
    ForgetSessionThenRefuse,
}

/// DER TLV with a short or two-byte length.
fn der(tag: u8, value: &[u8]) -> Vec<u8> {
    let mut out = vec![tag];
    if value.len() < 0x80 {
        out.push(value.len() as u8);
    } else {
        out.push(0x82);
        out.extend_from_slice(&(value.len() as u16).to_be_bytes());
    }
    out.extend_from_slice(value);
    out
}

/// RFC 4178 negTokenResp: negState accept-incomplete, supportedMech NTLM,
/// responseToken.
fn neg_token_resp(ntlm: &[u8]) -> Vec<u8> {
    let ntlm_oid = [0x2b, 0x06, 0x01, 0x04, 0x01, 0x82, 0x37, 0x02, 0x02, 0x0a];
    let mut seq = der(0xa0, &der(0x0a, &[1]));
    seq.extend(der(0xa1, &der(0x06, &ntlm_oid)));
    seq.extend(der(0xa2, &der(0x04, ntlm)));
    der(0xa1, &der(0x30, &seq))
}

#[derive(Default)]
struct Peer {
    behaviour: Behaviour,
    connections: AtomicUsize,
    handshakes: AtomicUsize,
    sealed_requests: AtomicUsize,
    auth_failures: AtomicUsize,
    /// MsvAvChannelBindings the AUTHENTICATE must carry (HTTPS).
    expected_cbt: Mutex<Option<[u8; 16]>>,
    cbt_seen: AtomicU64,
    /// HTTP requests so far (authentication legs included).
    requests: AtomicUsize,
    /// The request (by number) the peer answers only after 2 s.
    slow_request: Mutex<Option<usize>>,
    /// Authenticated sessions the peer forgot (answered 401).
    sessions_forgotten: AtomicUsize,
}

struct ConnState {
    server: TestNtlmServer,
    authed: bool,
    /// Tells the connection task to hang up (`Behaviour::SilentDrop`).
    hang_up: Arc<tokio::sync::Notify>,
}

impl ConnState {
    fn new() -> ConnState {
        ConnState {
            server: TestNtlmServer::new(USER, DOMAIN, PASSWORD),
            authed: false,
            hang_up: Arc::default(),
        }
    }

    fn step(&mut self, token: &[u8]) -> Result<Vec<u8>, sspi::Error> {
        self.server.step(token)
    }
}

type Resp = hyper::Response<Full<Bytes>>;

fn resp(status: u16, headers: &[(&str, String)], body: Vec<u8>) -> Resp {
    let mut b = hyper::Response::builder().status(status);
    for (k, v) in headers {
        b = b.header(*k, v);
    }
    b.body(Full::new(Bytes::from(body))).unwrap()
}

fn unauthorized(peer: &Peer, token: Option<&[u8]>) -> Resp {
    let offers = match (peer.behaviour, token) {
        (Behaviour::BasicOnly, _) => {
            vec![("WWW-Authenticate", "Basic realm=\"WSMAN\"".to_string())]
        }
        (Behaviour::CloseOnChallenge, Some(t)) => vec![
            ("WWW-Authenticate", format!("Negotiate {}", B64.encode(t))),
            ("Connection", "close".to_string()),
        ],
        (Behaviour::SpnegoChallenge, Some(t)) => vec![(
            "WWW-Authenticate",
            format!("Negotiate {}", B64.encode(neg_token_resp(t))),
        )],
        (_, Some(t)) => vec![("WWW-Authenticate", format!("Negotiate {}", B64.encode(t)))],
        (_, None) => vec![
            ("WWW-Authenticate", "Negotiate".to_string()),
            ("WWW-Authenticate", "Basic realm=\"WSMAN\"".to_string()),
        ],
    };
    resp(401, &offers, Vec::new())
}

async fn handle(
    peer: Arc<Peer>,
    st: Arc<Mutex<ConnState>>,
    req: hyper::Request<Incoming>,
) -> Result<Resp, Infallible> {
    let auth = req
        .headers()
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Negotiate "))
        .and_then(|t| B64.decode(t).ok());
    let content_type = req
        .headers()
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_string();
    let body = req.into_body().collect().await.unwrap().to_bytes();
    let n = peer.requests.fetch_add(1, Ordering::Relaxed);
    let slow = *peer.slow_request.lock().unwrap() == Some(n);
    if slow {
        tokio::time::sleep(Duration::from_secs(2)).await;
    }
    let mut st = st.lock().unwrap();
    let forgets = matches!(
        peer.behaviour,
        Behaviour::ForgetSessionOnce | Behaviour::ForgetSessionThenRefuse
    );
    if st.authed && forgets && peer.sessions_forgotten.load(Ordering::Relaxed) == 0 {
        peer.sessions_forgotten.fetch_add(1, Ordering::Relaxed);
        st.authed = false;
        return Ok(unauthorized(&peer, None));
    }
    if !st.authed {
        let Some(token) = auth else {
            return Ok(unauthorized(&peer, None));
        };
        if peer.behaviour == Behaviour::BasicOnly {
            return Ok(unauthorized(&peer, None));
        }
        match token.get(8) {
            Some(1) => {
                let challenge = st.step(&token).unwrap();
                return Ok(unauthorized(&peer, Some(&challenge)));
            }
            Some(3) => {
                if let Some(cbt) = *peer.expected_cbt.lock().unwrap() {
                    let mut want = vec![0x0a, 0x00, 0x10, 0x00];
                    want.extend_from_slice(&cbt);
                    if token.windows(want.len()).any(|w| w == want.as_slice()) {
                        peer.cbt_seen.fetch_add(1, Ordering::Relaxed);
                    }
                }
                let refused = peer.behaviour == Behaviour::ForgetSessionThenRefuse
                    && peer.sessions_forgotten.load(Ordering::Relaxed) > 0;
                if refused || st.step(&token).is_err() {
                    peer.auth_failures.fetch_add(1, Ordering::Relaxed);
                    return Ok(unauthorized(&peer, None));
                }
                st.authed = true;
                peer.handshakes.fetch_add(1, Ordering::Relaxed);
            }
            _ => return Ok(unauthorized(&peer, None)),
        }
    }
    if peer.behaviour == Behaviour::SilentDrop {
        st.hang_up.notify_one();
    }
    let close = if peer.behaviour == Behaviour::CloseAfterReply {
        vec![("Connection", "close".to_string())]
    } else {
        vec![]
    };
    if let Behaviour::Huge(n) = peer.behaviour {
        return Ok(resp(200, &close, vec![b'x'; n]));
    }
    if sealing::is_encrypted(&content_type) {
        peer.sealed_requests.fetch_add(1, Ordering::Relaxed);
        let sealed = sealing::decode(&content_type, &body).unwrap();
        let mut sig = sealed.signature;
        let mut data = sealed.ciphertext;
        let mut bufs = [
            SecurityBufferRef::token_buf(&mut sig),
            SecurityBufferRef::data_buf(&mut data),
        ];
        st.server.ntlm.decrypt_message(&mut bufs).unwrap();
        let mut answer = b"echo:".to_vec();
        answer.extend_from_slice(&data);
        if peer.behaviour == Behaviour::PlainReply {
            return Ok(resp(200, &close, answer));
        }
        let len = answer.len();
        let mut sig = [0u8; 16];
        let mut bufs = [
            SecurityBufferRef::token_buf(&mut sig),
            SecurityBufferRef::data_buf(&mut answer),
        ];
        st.server
            .ntlm
            .encrypt_message(EncryptionFlags::empty(), &mut bufs)
            .unwrap();
        if peer.behaviour == Behaviour::TamperReply {
            answer[0] ^= 1;
        }
        let mut headers = close;
        headers.push(("Content-Type", sealing::CONTENT_TYPE.to_string()));
        // Faults come back as sealed 500s, like Windows does.
        let status = if data.starts_with(b"fault") { 500 } else { 200 };
        return Ok(resp(status, &headers, sealing::encode(&sig, &answer, len)));
    }
    let mut answer = b"echo:".to_vec();
    answer.extend_from_slice(&body);
    Ok(resp(200, &close, answer))
}

type TlsServerConfig = Arc<rustls::ServerConfig>;

async fn serve(behaviour: Behaviour, tls: Option<TlsServerConfig>) -> (SocketAddr, Arc<Peer>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let peer = Arc::new(Peer {
        behaviour,
        ..Peer::default()
    });
    let p = peer.clone();
    tokio::spawn(async move {
        loop {
            let Ok((sock, _)) = listener.accept().await else {
                return;
            };
            p.connections.fetch_add(1, Ordering::Relaxed);
            let p = p.clone();
            let tls = tls.clone();
            tokio::spawn(async move {
                let st = Arc::new(Mutex::new(ConnState::new()));
                let hang_up = st.lock().unwrap().hang_up.clone();
                let svc = hyper::service::service_fn(move |req| handle(p.clone(), st.clone(), req));
                let builder = hyper::server::conn::http1::Builder::new();
                match tls {
                    None => {
                        let conn = builder.serve_connection(TokioIo::new(sock), svc);
                        // Dropping the connection future closes the socket
                        // with no `Connection: close` beforehand.
                        tokio::select! {
                            _ = conn => {}
                            _ = async {
                                hang_up.notified().await;
                                tokio::time::sleep(Duration::from_millis(100)).await;
                            } => {}
                        }
                    }
                    Some(cfg) => {
                        let Ok(stream) = tokio_rustls::TlsAcceptor::from(cfg).accept(sock).await
                        else {
                            return;
                        };
                        let _ = builder.serve_connection(TokioIo::new(stream), svc).await;
                    }
                }
            });
        }
    });
    (addr, peer)
}

fn config(addr: SocketAddr, scheme: Scheme, account: &str, password: &str) -> TransportConfig {
    let mut cfg = TransportConfig::new(
        Target {
            address: Address::new("localhost", addr.port()).unwrap(),
            scheme,
            connect_to: Some(addr),
        },
        Credentials::parse(account, password.to_string().into()),
    );
    cfg.timeouts = Timeouts {
        connect: Duration::from_secs(5),
        request: Duration::from_secs(5),
    };
    cfg
}

fn good(addr: SocketAddr, scheme: Scheme) -> TransportConfig {
    config(addr, scheme, &format!("{DOMAIN}\\{USER}"), PASSWORD)
}

#[tokio::test]
async fn sixty_sealed_messages_share_one_connection_and_one_handshake() {
    let (addr, peer) = serve(Behaviour::Normal, None).await;
    let mut conn = Connection::new(Arc::new(good(addr, Scheme::Http)));
    for i in 0..60 {
        let soap = format!("<s:Envelope>request {i}</s:Envelope>");
        let reply = conn.send(Bytes::from(soap.clone())).await.unwrap();
        assert_eq!(reply.status, 200);
        assert_eq!(reply.body, format!("echo:{soap}").as_bytes());
    }
    assert_eq!(peer.connections.load(Ordering::Relaxed), 1);
    assert_eq!(peer.handshakes.load(Ordering::Relaxed), 1);
    assert_eq!(peer.sealed_requests.load(Ordering::Relaxed), 60);
    let stats = conn.stats();
    // NEGOTIATE leg + one exchange per message (AUTHENTICATE rides with the first).
    assert_eq!(stats.round_trips, 61);
    assert_eq!(stats.reconnects, 0);
    assert!(
        stats.bytes_out > 60 * 30 && stats.bytes_in > 60 * 30,
        "{stats:?}"
    );
    conn.close().await;
}

#[tokio::test]
async fn a_send_cancelled_by_the_caller_leaves_the_next_send_working() {
    let (addr, peer) = serve(Behaviour::Normal, None).await;
    let mut conn = Connection::new(Arc::new(good(addr, Scheme::Http)));
    conn.send(Bytes::from_static(b"first")).await.unwrap();
    // Requests 0 and 1 were the two legs; the next one stalls.
    *peer.slow_request.lock().unwrap() = Some(2);
    let cancelled = tokio::time::timeout(
        Duration::from_millis(200),
        conn.send(Bytes::from_static(b"slow")),
    )
    .await;
    assert!(cancelled.is_err());
    let reply = conn.send(Bytes::from_static(b"after")).await.unwrap();
    assert_eq!(reply.body, &b"echo:after"[..]);
    assert_eq!(peer.connections.load(Ordering::Relaxed), 2);
    assert_eq!(peer.handshakes.load(Ordering::Relaxed), 2);
}

#[tokio::test]
async fn sealed_fault_comes_back_unsealed_with_its_status() {
    let (addr, _peer) = serve(Behaviour::Normal, None).await;
    let mut conn = Connection::new(Arc::new(good(addr, Scheme::Http)));
    let reply = conn
        .send(Bytes::from_static(b"fault please"))
        .await
        .unwrap();
    assert_eq!(reply.status, 500);
    assert_eq!(reply.body, &b"echo:fault please"[..]);
}

#[tokio::test]
async fn encryption_never_sends_plain_soap_over_http() {
    let (addr, peer) = serve(Behaviour::Normal, None).await;
    let mut cfg = good(addr, Scheme::Http);
    cfg.encryption = Encryption::Never;
    let mut conn = Connection::new(Arc::new(cfg));
    for _ in 0..3 {
        let reply = conn.send(Bytes::from_static(b"<plain/>")).await.unwrap();
        assert_eq!(reply.body, &b"echo:<plain/>"[..]);
    }
    assert_eq!(peer.sealed_requests.load(Ordering::Relaxed), 0);
    assert_eq!(peer.handshakes.load(Ordering::Relaxed), 1);
}

#[tokio::test]
async fn wrong_password_is_one_auth_error_after_one_attempt() {
    let (addr, peer) = serve(Behaviour::Normal, None).await;
    let cfg = config(
        addr,
        Scheme::Http,
        &format!("{DOMAIN}\\{USER}"),
        "Wr0ng-Secret",
    );
    let mut conn = Connection::new(Arc::new(cfg));
    let err = conn.send(Bytes::from_static(b"<x/>")).await.unwrap_err();
    assert!(matches!(err, TransportError::Auth(_)), "{err}");
    assert!(err.to_string().contains("CONTOSO\\svc-inv"), "{err}");
    assert!(
        !err.to_string().contains("Wr0ng-Secret"),
        "password leaked: {err}"
    );
    assert!(
        !format!("{err:?}").contains("Wr0ng-Secret"),
        "password leaked: {err:?}"
    );
    assert_eq!(peer.auth_failures.load(Ordering::Relaxed), 1);
    assert_eq!(peer.connections.load(Ordering::Relaxed), 1);
    assert_eq!(conn.stats().round_trips, 2);
}

#[tokio::test]
async fn host_without_negotiate_names_the_schemes_it_offers() {
    let (addr, _peer) = serve(Behaviour::BasicOnly, None).await;
    let mut conn = Connection::new(Arc::new(good(addr, Scheme::Http)));
    let err = conn.send(Bytes::from_static(b"<x/>")).await.unwrap_err();
    assert!(matches!(err, TransportError::Auth(_)), "{err}");
    assert!(err.to_string().contains("Basic"), "{err}");
}

#[tokio::test]
async fn connection_close_means_reconnect_and_reauthenticate() {
    let (addr, peer) = serve(Behaviour::CloseAfterReply, None).await;
    let mut conn = Connection::new(Arc::new(good(addr, Scheme::Http)));
    for i in 0..3 {
        let reply = conn.send(Bytes::from(format!("m{i}"))).await.unwrap();
        assert_eq!(reply.body, format!("echo:m{i}").as_bytes());
    }
    assert_eq!(peer.connections.load(Ordering::Relaxed), 3);
    assert_eq!(peer.handshakes.load(Ordering::Relaxed), 3);
    assert_eq!(conn.stats().reconnects, 2);
}

#[tokio::test]
async fn a_401_on_an_authenticated_session_means_one_new_logon_and_a_resend() {
    let (addr, peer) = serve(Behaviour::ForgetSessionOnce, None).await;
    let mut conn = Connection::new(Arc::new(good(addr, Scheme::Http)));
    for i in 0..3 {
        let reply = conn.send(Bytes::from(format!("m{i}"))).await.unwrap();
        assert_eq!(reply.body, format!("echo:m{i}").as_bytes());
    }
    assert_eq!(peer.sessions_forgotten.load(Ordering::Relaxed), 1);
    assert_eq!(peer.handshakes.load(Ordering::Relaxed), 2);
    // m0, m1 resent with the new logon, m2 (the refused m1 was never read).
    assert_eq!(peer.sealed_requests.load(Ordering::Relaxed), 3);
    assert_eq!(peer.connections.load(Ordering::Relaxed), 2);
}

#[tokio::test]
async fn a_401_whose_new_logon_is_refused_is_an_auth_error_after_one_attempt() {
    let (addr, peer) = serve(Behaviour::ForgetSessionThenRefuse, None).await;
    let mut conn = Connection::new(Arc::new(good(addr, Scheme::Http)));
    conn.send(Bytes::from_static(b"m0")).await.unwrap();
    let err = conn.send(Bytes::from_static(b"m1")).await.unwrap_err();
    assert!(matches!(err, TransportError::Auth(_)), "{err}");
    assert_eq!(err.kind(), crate::error::ErrorKind::Auth);
    // One new logon, not a loop of them.
    assert_eq!(peer.auth_failures.load(Ordering::Relaxed), 1);
    assert_eq!(peer.handshakes.load(Ordering::Relaxed), 1);
}

#[tokio::test]
async fn host_closing_after_the_challenge_is_a_clear_protocol_error() {
    let (addr, peer) = serve(Behaviour::CloseOnChallenge, None).await;
    let mut conn = Connection::new(Arc::new(good(addr, Scheme::Http)));
    let err = conn.send(Bytes::from_static(b"<x/>")).await.unwrap_err();
    assert!(matches!(err, TransportError::Protocol(_)), "{err}");
    assert!(err.to_string().contains("kept-alive"), "{err}");
    assert_eq!(peer.handshakes.load(Ordering::Relaxed), 0);
}

#[tokio::test]
async fn spnego_wrapped_challenge_is_accepted() {
    let (addr, peer) = serve(Behaviour::SpnegoChallenge, None).await;
    let mut conn = Connection::new(Arc::new(good(addr, Scheme::Http)));
    let reply = conn.send(Bytes::from_static(b"<x/>")).await.unwrap();
    assert_eq!(reply.body, &b"echo:<x/>"[..]);
    assert_eq!(peer.handshakes.load(Ordering::Relaxed), 1);
}

#[tokio::test]
async fn silently_dropped_keep_alive_socket_means_reconnect_and_reauthenticate() {
    let (addr, peer) = serve(Behaviour::SilentDrop, None).await;
    let mut conn = Connection::new(Arc::new(good(addr, Scheme::Http)));
    for i in 0..3 {
        let reply = conn.send(Bytes::from(format!("m{i}"))).await.unwrap();
        assert_eq!(reply.body, format!("echo:m{i}").as_bytes());
        // Let the peer's idle timeout fire before the next request.
        tokio::time::sleep(Duration::from_millis(300)).await;
    }
    assert_eq!(peer.connections.load(Ordering::Relaxed), 3);
    assert_eq!(peer.handshakes.load(Ordering::Relaxed), 3);
    assert_eq!(conn.stats().reconnects, 2);
}

#[tokio::test]
async fn plaintext_reply_to_a_sealed_request_is_a_protocol_error() {
    let (addr, _peer) = serve(Behaviour::PlainReply, None).await;
    let mut conn = Connection::new(Arc::new(good(addr, Scheme::Http)));
    let err = conn.send(Bytes::from_static(b"<x/>")).await.unwrap_err();
    assert!(matches!(err, TransportError::Protocol(_)), "{err}");
}

#[tokio::test]
async fn tampered_sealed_reply_is_a_protocol_error() {
    let (addr, _peer) = serve(Behaviour::TamperReply, None).await;
    let mut conn = Connection::new(Arc::new(good(addr, Scheme::Http)));
    let err = conn.send(Bytes::from_static(b"<x/>")).await.unwrap_err();
    assert!(matches!(err, TransportError::Protocol(_)), "{err}");
    assert!(err.to_string().contains("verification"), "{err}");
}

#[tokio::test]
async fn oversize_reply_is_a_protocol_error() {
    let (addr, _peer) = serve(Behaviour::Huge(70_000), None).await;
    let mut conn = Connection::new(Arc::new(good(addr, Scheme::Http)));
    conn.set_max_body_bytes(64 * 1024);
    let err = conn.send(Bytes::from_static(b"<x/>")).await.unwrap_err();
    assert!(matches!(err, TransportError::Protocol(_)), "{err}");
    assert!(err.to_string().contains("65536"), "{err}");
}

/// A raw peer: accepts, reads one request, then runs `then`.
async fn raw_peer<F, Fut>(then: F) -> SocketAddr
where
    F: Fn(tokio::net::TcpStream) -> Fut + Send + Sync + 'static,
    Fut: std::future::Future<Output = ()> + Send,
{
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let then = Arc::new(then);
    tokio::spawn(async move {
        while let Ok((mut sock, _)) = listener.accept().await {
            let then = then.clone();
            tokio::spawn(async move {
                let mut buf = vec![0u8; 8192];
                let _ = sock.read(&mut buf).await;
                then(sock).await;
            });
        }
    });
    addr
}

#[tokio::test]
async fn stalled_peer_is_a_timeout() {
    let addr = raw_peer(|sock| async move {
        tokio::time::sleep(Duration::from_secs(30)).await;
        drop(sock);
    })
    .await;
    let mut cfg = good(addr, Scheme::Http);
    cfg.timeouts.request = Duration::from_millis(300);
    let mut conn = Connection::new(Arc::new(cfg));
    let t0 = std::time::Instant::now();
    let err = conn.send(Bytes::from_static(b"<x/>")).await.unwrap_err();
    assert!(matches!(err, TransportError::Timeout { .. }), "{err}");
    assert!(t0.elapsed() < Duration::from_secs(3));
}

#[tokio::test]
async fn peer_closing_mid_body_is_an_error() {
    let addr = raw_peer(|mut sock| async move {
        let _ = sock
            .write_all(b"HTTP/1.1 401 Unauthorized\r\nContent-Length: 1000\r\n\r\nonly a little")
            .await;
        drop(sock);
    })
    .await;
    let mut conn = Connection::new(Arc::new(good(addr, Scheme::Http)));
    let err = conn.send(Bytes::from_static(b"<x/>")).await.unwrap_err();
    assert!(matches!(err, TransportError::Unreachable { .. }), "{err}");
    assert!(err.to_string().contains("reading the reply body"), "{err}");
}

#[tokio::test]
async fn peer_hanging_up_before_replying_is_retried_once_then_unreachable() {
    let attempts = Arc::new(AtomicUsize::new(0));
    let a = attempts.clone();
    let addr = raw_peer(move |sock| {
        a.fetch_add(1, Ordering::Relaxed);
        async move { drop(sock) }
    })
    .await;
    let mut conn = Connection::new(Arc::new(good(addr, Scheme::Http)));
    let err = conn.send(Bytes::from_static(b"<x/>")).await.unwrap_err();
    assert!(matches!(err, TransportError::Unreachable { .. }), "{err}");
    assert_eq!(attempts.load(Ordering::Relaxed), 2);
}

#[tokio::test]
async fn drop_right_after_authenticate_is_not_replayed() {
    // Answers the NEGOTIATE leg with a real challenge, then hangs up on
    // the AUTHENTICATE leg: replaying it could count a second logon.
    let authenticates = Arc::new(AtomicUsize::new(0));
    let seen = authenticates.clone();
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        while let Ok((sock, _)) = listener.accept().await {
            let seen = seen.clone();
            tokio::spawn(async move {
                let st = Arc::new(Mutex::new(ConnState::new()));
                let svc = hyper::service::service_fn(move |req: hyper::Request<Incoming>| {
                    let st = st.clone();
                    let seen = seen.clone();
                    async move {
                        let token = req
                            .headers()
                            .get("authorization")
                            .and_then(|v| v.to_str().ok())
                            .and_then(|v| v.strip_prefix("Negotiate "))
                            .and_then(|t| B64.decode(t).ok())
                            .unwrap_or_default();
                        if token.get(8) == Some(&3) {
                            seen.fetch_add(1, Ordering::Relaxed);
                            // An error from the service makes hyper drop the socket.
                            return Err("hang up");
                        }
                        let challenge = st.lock().unwrap().step(&token).unwrap();
                        Ok(unauthorized(&Peer::default(), Some(&challenge)))
                    }
                });
                let _ = hyper::server::conn::http1::Builder::new()
                    .serve_connection(TokioIo::new(sock), svc)
                    .await;
            });
        }
    });
    let mut conn = Connection::new(Arc::new(good(addr, Scheme::Http)));
    let err = conn.send(Bytes::from_static(b"<x/>")).await.unwrap_err();
    assert!(matches!(err, TransportError::Unreachable { .. }), "{err}");
    assert_eq!(authenticates.load(Ordering::Relaxed), 1);
}

#[tokio::test]
async fn refused_connection_is_unreachable() {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    drop(listener);
    let mut conn = Connection::new(Arc::new(good(addr, Scheme::Http)));
    let err = conn.send(Bytes::from_static(b"<x/>")).await.unwrap_err();
    assert!(matches!(err, TransportError::Unreachable { .. }), "{err}");
}

// ---- HTTPS ----

struct Pki {
    ca_pem: String,
    server: TlsServerConfig,
    leaf_der: Vec<u8>,
}

fn server_config(
    chain: Vec<rustls::pki_types::CertificateDer<'static>>,
    key: &rcgen::KeyPair,
) -> TlsServerConfig {
    let key = rustls::pki_types::PrivateKeyDer::try_from(key.serialize_der()).unwrap();
    Arc::new(
        rustls::ServerConfig::builder_with_provider(crate::transport::tls::provider())
            .with_safe_default_protocol_versions()
            .unwrap()
            .with_no_client_auth()
            .with_single_cert(chain, key)
            .unwrap(),
    )
}

/// A CA and a leaf for `names`, optionally expired.
fn pki(names: &[&str], expired: bool) -> Pki {
    let ca_key = rcgen::KeyPair::generate().unwrap();
    let mut ca_params = rcgen::CertificateParams::new(Vec::<String>::new()).unwrap();
    ca_params.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
    ca_params
        .distinguished_name
        .push(rcgen::DnType::CommonName, "hvinv test CA");
    let ca_cert = ca_params.self_signed(&ca_key).unwrap();
    let issuer = rcgen::Issuer::new(ca_params, &ca_key);
    let leaf_key = rcgen::KeyPair::generate().unwrap();
    let mut leaf_params =
        rcgen::CertificateParams::new(names.iter().map(|n| n.to_string()).collect::<Vec<_>>())
            .unwrap();
    if expired {
        leaf_params.not_before = rcgen::date_time_ymd(2001, 1, 1);
        leaf_params.not_after = rcgen::date_time_ymd(2002, 1, 1);
    }
    let leaf = leaf_params.signed_by(&leaf_key, &issuer).unwrap();
    Pki {
        ca_pem: ca_cert.pem(),
        leaf_der: leaf.der().to_vec(),
        server: server_config(vec![leaf.der().clone()], &leaf_key),
    }
}

fn self_signed(names: &[&str]) -> (TlsServerConfig, Vec<u8>) {
    let key = rcgen::KeyPair::generate().unwrap();
    let cert =
        rcgen::CertificateParams::new(names.iter().map(|n| n.to_string()).collect::<Vec<_>>())
            .unwrap()
            .self_signed(&key)
            .unwrap();
    (
        server_config(vec![cert.der().clone()], &key),
        cert.der().to_vec(),
    )
}

fn with_ca(cfg: &mut TransportConfig, pem: &str) -> tempfile::NamedTempFile {
    let mut f = tempfile::NamedTempFile::new().unwrap();
    std::io::Write::write_all(&mut f, pem.as_bytes()).unwrap();
    cfg.tls.ca_file = Some(f.path().to_path_buf());
    f
}

/// MD5 over the gss_channel_bindings_struct with `tls-server-end-point`
/// data (SHA-256 of the DER: rcgen signs with ECDSA P-256/SHA-256).
fn expected_cbt(der: &[u8]) -> [u8; 16] {
    use sha2::Digest;
    let mut app = b"tls-server-end-point:".to_vec();
    app.extend_from_slice(&sha2::Sha256::digest(der));
    let mut gss = vec![0u8; 16];
    gss.extend_from_slice(&(app.len() as u32).to_le_bytes());
    gss.extend_from_slice(&app);
    md5::Md5::digest(&gss).into()
}

#[tokio::test]
async fn https_with_ca_file_authenticates_with_channel_binding_and_plain_soap() {
    let pki = pki(&["localhost"], false);
    let (addr, peer) = serve(Behaviour::Normal, Some(pki.server.clone())).await;
    *peer.expected_cbt.lock().unwrap() = Some(expected_cbt(&pki.leaf_der));
    let mut cfg = good(addr, Scheme::Https);
    let _ca = with_ca(&mut cfg, &pki.ca_pem);
    let mut conn = Connection::new(Arc::new(cfg));
    for i in 0..5 {
        let reply = conn.send(Bytes::from(format!("<tls {i}/>"))).await.unwrap();
        assert_eq!(reply.body, format!("echo:<tls {i}/>").as_bytes());
    }
    assert_eq!(
        peer.sealed_requests.load(Ordering::Relaxed),
        0,
        "HTTPS must not seal"
    );
    assert_eq!(
        peer.cbt_seen.load(Ordering::Relaxed),
        1,
        "MsvAvChannelBindings missing or wrong"
    );
    assert_eq!(peer.connections.load(Ordering::Relaxed), 1);
}

#[tokio::test]
async fn https_self_signed_is_unknown_authority_and_pinning_accepts_it() {
    let (server, der) = self_signed(&["localhost"]);
    let (addr, _peer) = serve(Behaviour::Normal, Some(server)).await;
    let mut conn = Connection::new(Arc::new(good(addr, Scheme::Https)));
    let err = conn.send(Bytes::from_static(b"<x/>")).await.unwrap_err();
    assert!(
        matches!(err, TransportError::Tls(TlsFailure::UnknownAuthority)),
        "{err}"
    );

    let mut cfg = good(addr, Scheme::Https);
    cfg.tls.thumbprint = Some(
        thumbprint::Thumbprint::parse(&thumbprint::Thumbprint::of_sha1(&der).to_lowercase())
            .unwrap(),
    );
    let mut conn = Connection::new(Arc::new(cfg));
    assert_eq!(
        conn.send(Bytes::from_static(b"<x/>")).await.unwrap().status,
        200
    );

    let mut cfg = good(addr, Scheme::Https);
    cfg.tls.thumbprint = Some(thumbprint::Thumbprint::parse(&"00".repeat(32)).unwrap());
    let mut conn = Connection::new(Arc::new(cfg));
    let err = conn.send(Bytes::from_static(b"<x/>")).await.unwrap_err();
    assert!(
        matches!(err, TransportError::Tls(TlsFailure::ThumbprintMismatch)),
        "{err}"
    );
}

#[tokio::test]
async fn https_name_mismatch_and_expired_are_told_apart() {
    let pki_other = pki(&["other.example"], false);
    let (addr, _peer) = serve(Behaviour::Normal, Some(pki_other.server.clone())).await;
    let mut cfg = good(addr, Scheme::Https);
    let _ca = with_ca(&mut cfg, &pki_other.ca_pem);
    let err = Connection::new(Arc::new(cfg))
        .send(Bytes::from_static(b"<x/>"))
        .await
        .unwrap_err();
    assert!(
        matches!(err, TransportError::Tls(TlsFailure::NameMismatch)),
        "{err}"
    );

    let pki_old = pki(&["localhost"], true);
    let (addr, _peer) = serve(Behaviour::Normal, Some(pki_old.server.clone())).await;
    let mut cfg = good(addr, Scheme::Https);
    let _ca = with_ca(&mut cfg, &pki_old.ca_pem);
    let err = Connection::new(Arc::new(cfg))
        .send(Bytes::from_static(b"<x/>"))
        .await
        .unwrap_err();
    assert!(
        matches!(err, TransportError::Tls(TlsFailure::Expired)),
        "{err}"
    );
}

#[tokio::test]
async fn https_to_an_ip_address_checks_the_ip_san() {
    let pki = pki(&["127.0.0.1"], false);
    let (addr, _peer) = serve(Behaviour::Normal, Some(pki.server.clone())).await;
    let mut cfg = good(addr, Scheme::Https);
    cfg.target.address = Address::new("127.0.0.1", cfg.target.port()).unwrap();
    let _ca = with_ca(&mut cfg, &pki.ca_pem);
    assert_eq!(
        Connection::new(Arc::new(cfg))
            .send(Bytes::from_static(b"<x/>"))
            .await
            .unwrap()
            .status,
        200
    );
}

#[tokio::test]
async fn connection_and_its_send_future_can_move_between_tasks() {
    let (addr, _peer) = serve(Behaviour::Normal, None).await;
    let mut conn = Connection::new(Arc::new(good(addr, Scheme::Http)));
    // Compiles only if `Connection` and the `send` future are `Send`.
    let reply = tokio::spawn(async move { conn.send(Bytes::from_static(b"moved")).await })
        .await
        .unwrap()
        .unwrap();
    assert_eq!(reply.body, &b"echo:moved"[..]);
}

#[tokio::test]
async fn peek_certificate_returns_the_leaf_of_an_untrusted_listener() {
    let (server, der) = self_signed(&["localhost"]);
    let (addr, peer) = serve(Behaviour::Normal, Some(server)).await;
    let cfg = good(addr, Scheme::Https);
    let got = tls::peek_certificate(&cfg.target, Duration::from_secs(5))
        .await
        .unwrap();
    assert_eq!(got, der);
    assert_eq!(peer.handshakes.load(Ordering::Relaxed), 0);
}

/// A 2008 R2 or 2012 HTTPS listener meets our ClientHello (TLS 1.2+, AEAD
/// suites only) with none of its CBC suites: Schannel answers with a fatal
/// `handshake_failure` alert. The error must say so and name sealed HTTP.
#[tokio::test]
async fn https_without_a_common_cipher_suite_points_to_sealed_http_on_5985() {
    for alert in [40u8, 70] {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        tokio::spawn(async move {
            let (mut sock, _) = listener.accept().await.unwrap();
            let mut hello = [0u8; 512];
            let _ = sock.read(&mut hello).await;
            // TLS record: alert, version 1.0 (what an old stack writes), fatal.
            let _ = sock
                .write_all(&[0x15, 0x03, 0x01, 0x00, 0x02, 0x02, alert])
                .await;
            let _ = sock.shutdown().await;
        });
        let err = Connection::new(Arc::new(good(addr, Scheme::Https)))
            .send(Bytes::from_static(b"<x/>"))
            .await
            .unwrap_err();
        assert!(
            matches!(err, TransportError::Tls(TlsFailure::NoCommonProtocol(_))),
            "alert {alert}: {err:?}"
        );
        assert_eq!(err.kind(), crate::error::ErrorKind::Tls);
        let text = err.to_string();
        assert!(
            text.contains("5985") && text.contains("sealed HTTP"),
            "{text}"
        );
    }
}
