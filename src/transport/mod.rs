//! Layer 1: one TCP (or TLS) connection to one host, HTTP/1.1 keep-alive,
//! Negotiate/NTLM authentication bound to that connection, and WinRM message
//! sealing. Knows nothing of SOAP beyond "a body goes out, a body comes back".
//!
//! Round trips per connection: NEGOTIATE goes on the very first POST (no
//! anonymous probe), and AUTHENTICATE rides with the first real request
//! (sealed over HTTP), so the first reply costs two exchanges and every
//! later one costs one.

mod address;
pub mod channel_binding;
mod config;
mod dial;
mod error;
mod http;
mod kdc_srv;
pub mod kerberos;
#[cfg(test)]
mod loopback_tests;
pub mod negotiate;
pub mod probe;
pub mod sealing;
pub mod spnego;
#[cfg(test)]
mod test_ntlm_server;
pub mod thumbprint;
pub mod tls;
pub mod www_authenticate;

pub use address::{Address, BadAddress};
pub use config::{
    AuthMechanism, AuthUsed, Credentials, Encryption, KerberosOptions, Scheme, Target, Timeouts,
    TlsOptions, TransportConfig,
};
pub use error::{
    AuthFailure, ConfigFailure, LocalError, ProtocolError, TlsFailure, TransportError,
};

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as B64;
use bytes::Bytes;
use http_body_util::Full;
use negotiate::{Established, NegotiateError};

/// The keys of an authenticated socket.
enum Session {
    Ntlm(Box<Established>),
    Kerberos(Box<kerberos::Established>),
}
use std::sync::Arc;
use std::sync::atomic::Ordering;

/// Default cap on a reply body. WinRM replies are bounded by
/// `MaxEnvelopeSize` (512 KB by default); 16 MiB leaves room for generous
/// server settings without letting a peer exhaust memory.
pub const DEFAULT_MAX_BODY_BYTES: usize = 16 * 1024 * 1024;

const SOAP_CONTENT_TYPE: &str = "application/soap+xml;charset=UTF-8";
const USER_AGENT: &str = concat!("hvinv/", env!("CARGO_PKG_VERSION"));

/// A reply as the SOAP layer needs it: HTTP status and the plaintext body
/// (already unsealed when the exchange was sealed).
#[derive(Debug, Clone)]
pub struct Reply {
    pub status: u16,
    pub body: Bytes,
}

/// Counters a benchmark and `check` read.
#[derive(Debug, Clone, Copy, Default)]
pub struct Stats {
    /// HTTP request/response exchanges, authentication legs included.
    pub round_trips: u64,
    /// Times the connection was re-established (and re-authenticated).
    pub reconnects: u64,
    /// Bytes written and read on the socket (headers included).
    pub bytes_out: u64,
    pub bytes_in: u64,
    /// The mechanism the last authentication used.
    pub auth: Option<AuthUsed>,
}

/// One authenticated connection to one host. Owns its socket: NTLM binds
/// the authentication (and the sealing keys) to it.
pub struct Connection {
    cfg: Arc<TransportConfig>,
    stats: Stats,
    counters: Arc<http::Counters>,
    /// Built on first use, reused across reconnects.
    tls_config: Option<Arc<rustls::ClientConfig>>,
    conn: Option<http::HttpConn>,
    /// Present once this socket is authenticated.
    auth: Option<Session>,
    /// Why `negotiate` gave up on Kerberos for this host (then NTLM is
    /// used without asking the KDC again).
    kerberos_unavailable: Option<String>,
    connects: u64,
    max_body: usize,
    /// Set while an attempt runs. Still set at the next `send` means the
    /// caller dropped the previous future mid-exchange: the socket may
    /// carry a stray reply and the NTLM sequence numbers are out of step.
    in_flight: bool,
}

/// How one attempt ended when it did not produce a reply.
enum Failure {
    /// The socket dropped before any reply byte: replay once.
    Dropped(String),
    /// 401 on an authenticated session (the host restarted WinRM or timed
    /// the session out): authenticate again and resend, once. Every
    /// request is a read, so resending is safe.
    SessionRefused,
    Fatal(TransportError),
}

impl From<TransportError> for Failure {
    fn from(e: TransportError) -> Self {
        Failure::Fatal(e)
    }
}

impl From<http::ExchangeError> for Failure {
    fn from(e: http::ExchangeError) -> Self {
        match e {
            http::ExchangeError::Dropped(why) => Failure::Dropped(why),
            http::ExchangeError::Fatal(e) => Failure::Fatal(e),
        }
    }
}

impl Connection {
    /// Prepares a connection; the socket is opened and authenticated lazily
    /// on the first `send` (so authentication can share a round trip with
    /// the first request).
    pub fn new(cfg: Arc<TransportConfig>) -> Self {
        Connection {
            cfg,
            stats: Stats::default(),
            counters: Arc::default(),
            tls_config: None,
            conn: None,
            auth: None,
            kerberos_unavailable: None,
            connects: 0,
            max_body: DEFAULT_MAX_BODY_BYTES,
            in_flight: false,
        }
    }

    /// Like `new`, with a given TLS configuration (see `tls::client_config`).
    /// `new` already shares one configuration per distinct `TlsOptions`.
    pub fn with_tls_config(
        cfg: Arc<TransportConfig>,
        tls_config: Arc<rustls::ClientConfig>,
    ) -> Self {
        let mut c = Connection::new(cfg);
        c.tls_config = Some(tls_config);
        c
    }

    /// Replies larger than this fail with a protocol error (default 16 MiB).
    pub fn set_max_body_bytes(&mut self, max: usize) {
        self.max_body = max;
    }

    /// Sends one SOAP envelope and returns the reply, authenticating,
    /// sealing and unsealing as configured. Reconnects (and re-authenticates)
    /// at most once when the kept-alive socket turns out to be closed, and
    /// at most once when the host answers 401 to an authenticated session.
    ///
    /// Cancel-safe: if the returned future is dropped, the next `send`
    /// starts on a fresh connection.
    pub async fn send(&mut self, soap: Bytes) -> Result<Reply, TransportError> {
        if self.in_flight {
            self.discard();
        }
        let mut replayed = false;
        let mut reauthenticated = false;
        loop {
            self.in_flight = true;
            let outcome = self.attempt(&soap).await;
            self.in_flight = false;
            match outcome {
                Ok(reply) => return Ok(reply),
                Err(Failure::Dropped(why)) if !replayed => {
                    tracing::debug!(host = %self.cfg.target.host(), "connection dropped ({why}); reconnecting");
                    self.discard();
                    replayed = true;
                }
                Err(Failure::Dropped(why)) => {
                    self.discard();
                    return Err(TransportError::Unreachable {
                        addr: self.addr(),
                        reason: why,
                    });
                }
                Err(Failure::SessionRefused) if !reauthenticated => {
                    tracing::debug!(host = %self.cfg.target.host(), "HTTP 401 on the authenticated session; authenticating again");
                    self.discard();
                    reauthenticated = true;
                }
                Err(Failure::SessionRefused) => {
                    self.discard();
                    return Err(TransportError::Auth(AuthFailure::SessionDropped));
                }
                Err(Failure::Fatal(e)) => {
                    // Keys, sequence numbers or the socket state are now
                    // unknown: start afresh next time.
                    self.discard();
                    return Err(e);
                }
            }
        }
    }

    pub fn config(&self) -> &TransportConfig {
        &self.cfg
    }

    /// Why Kerberos was not used under `auth = "negotiate"` (`None` when it
    /// was, or was never considered).
    pub fn kerberos_fallback_reason(&self) -> Option<&str> {
        self.kerberos_unavailable.as_deref()
    }

    pub fn stats(&self) -> Stats {
        Stats {
            bytes_out: self.counters.bytes_out.load(Ordering::Relaxed),
            bytes_in: self.counters.bytes_in.load(Ordering::Relaxed),
            reconnects: self.connects.saturating_sub(1),
            ..self.stats
        }
    }

    /// Closes the socket politely (no more requests will be sent).
    pub async fn close(&mut self) {
        self.auth = None;
        if let Some(conn) = self.conn.take() {
            conn.close().await;
        }
    }

    fn addr(&self) -> String {
        self.cfg.target.dial_text()
    }

    fn discard(&mut self) {
        self.auth = None;
        self.conn = None;
    }

    async fn attempt(&mut self, soap: &Bytes) -> Result<Reply, Failure> {
        if self.auth.is_none() {
            // Settings that cannot work fail before anything is contacted.
            self.kerberos_plan().await?;
        }
        if !self.conn.as_ref().is_some_and(http::HttpConn::is_usable) {
            self.discard();
            self.open().await?;
        }
        if self.auth.is_some() {
            self.send_established(soap).await
        } else {
            self.authenticate_with(soap).await
        }
    }

    async fn open(&mut self) -> Result<(), TransportError> {
        if self.cfg.target.scheme == Scheme::Https {
            if self.cfg.tls.insecure_skip_verify && self.connects == 0 {
                tracing::warn!(
                    host = %self.cfg.target.host(),
                    "insecure_skip_verify is set: the host's TLS certificate is NOT verified; anyone \
                     on the network path can impersonate the host"
                );
            }
            if self.tls_config.is_none() {
                self.tls_config = Some(tls::shared_client_config(&self.cfg.tls)?);
            }
        }
        let conn =
            http::HttpConn::connect(&self.cfg, self.tls_config.as_ref(), self.counters.clone())
                .await?;
        self.connects += 1;
        self.conn = Some(conn);
        Ok(())
    }

    /// Authenticates the socket with the configured mechanism and sends the
    /// first request.
    async fn authenticate_with(&mut self, soap: &Bytes) -> Result<Reply, Failure> {
        let Some(plan) = self.kerberos_plan().await? else {
            return self.authenticate_ntlm(soap).await;
        };
        match self.authenticate_kerberos(soap, &plan).await {
            Err(Failure::Fatal(TransportError::Kerberos(f)))
                if self.cfg.auth == AuthMechanism::Negotiate && f.allows_ntlm_fallback() =>
            {
                tracing::info!(host = %self.cfg.target.host(), "no Kerberos ticket ({f}); using NTLM");
                self.kerberos_unavailable = Some(f.to_string());
                if !self.conn.as_ref().is_some_and(http::HttpConn::is_usable) {
                    self.discard();
                    self.open().await?;
                }
                self.authenticate_ntlm(soap).await
            }
            other => other,
        }
    }

    /// Kerberos or not: `kerberos` always (a host named by IP is a
    /// configuration error), `negotiate` when the host has a DNS name and a
    /// realm and KDC are known (and Kerberos has not already failed for it),
    /// `ntlm` never.
    async fn kerberos_plan(&self) -> Result<Option<kerberos::Plan>, TransportError> {
        let cfg = &self.cfg;
        let plan = || kerberos::Plan::discover(&cfg.credentials, &cfg.kerberos, cfg.target.host());
        match cfg.auth {
            AuthMechanism::Ntlm => Ok(None),
            AuthMechanism::Kerberos => {
                if !cfg.host_is_dns_name() {
                    return Err(TransportError::Config(
                        ConfigFailure::KerberosNeedsDnsName {
                            host: cfg.target.host().to_string(),
                        },
                    ));
                }
                plan().await.map(Some).map_err(TransportError::Kerberos)
            }
            AuthMechanism::Negotiate => {
                if !cfg.host_is_dns_name() || self.kerberos_unavailable.is_some() {
                    return Ok(None);
                }
                Ok(plan().await.ok())
            }
        }
    }

    /// Kerberos in one leg: tickets from the KDC, the AP-REQ on an empty
    /// POST, the host's AP-REP checked (mutual authentication), then the
    /// first request sealed with the new keys.
    async fn authenticate_kerberos(
        &mut self,
        soap: &Bytes,
        plan: &kerberos::Plan,
    ) -> Result<Reply, Failure> {
        let cb = self
            .conn
            .as_ref()
            .and_then(|c| c.peer_cert.as_deref())
            .map(channel_binding::application_data);
        let (pending, token) = kerberos::start(
            &self.cfg.credentials,
            plan,
            cb.as_deref(),
            self.cfg.timeouts.connect,
        )
        .await
        .map_err(TransportError::Kerberos)?;
        let req = self.request(Bytes::new(), Some(SOAP_CONTENT_TYPE), Some(&token))?;
        let reply = self.exchange(req).await.map_err(|e| match e {
            // The ticket was presented: not replayed on a new socket.
            Failure::Dropped(why) => Failure::Fatal(TransportError::Unreachable {
                addr: self.addr(),
                reason: format!("{why} (after the Kerberos AP-REQ; not retried)"),
            }),
            fatal => fatal,
        })?;
        let offers = www_authenticate::parse(reply.header_all("www-authenticate"));
        let server_token = match (reply.status, www_authenticate::negotiate(&offers)) {
            (200, Some(www_authenticate::Offer { token: Some(t), .. })) => B64
                .decode(t.as_bytes())
                .map_err(|_| ProtocolError::ReplyTokenNotBase64)
                .map_err(TransportError::from)?,
            (200, _) => {
                return Err(
                    TransportError::Kerberos(kerberos::KerberosFailure::MutualAuth {
                        spn: plan.spn.clone(),
                        why: "the host sent no reply token".into(),
                    })
                    .into(),
                );
            }
            (401, _) => {
                return Err(
                    TransportError::Kerberos(kerberos::KerberosFailure::TicketRefused {
                        spn: plan.spn.clone(),
                    })
                    .into(),
                );
            }
            (status, _) => {
                return Err(TransportError::from(ProtocolError::NoApReply { status }).into());
            }
        };
        let established = pending
            .finish(&server_token)
            .map_err(TransportError::Kerberos)?;
        self.auth = Some(Session::Kerberos(Box::new(established)));
        self.stats.auth = Some(AuthUsed::Kerberos);
        self.send_established(soap).await
    }

    /// Legs 1 and 3 of NTLM; leg 3 carries the first request.
    async fn authenticate_ntlm(&mut self, soap: &Bytes) -> Result<Reply, Failure> {
        let cb = self
            .conn
            .as_ref()
            .and_then(|c| c.peer_cert.as_deref())
            .map(channel_binding::application_data);
        let start = negotiate::Start::new(&self.cfg.credentials, self.cfg.spn())
            .map_err(auth_setup_error)?;
        let (sent, negotiate_token) = start.negotiate(cb).map_err(auth_setup_error)?;

        // Leg 1: NEGOTIATE on an empty POST; expect 401 + CHALLENGE.
        // Same content type as the real requests: that is what pywinrm sends.
        let req = self.request(
            Bytes::new(),
            Some(SOAP_CONTENT_TYPE),
            Some(&negotiate_token),
        )?;
        let reply = self.exchange(req).await?;
        let offers = www_authenticate::parse(reply.header_all("www-authenticate"));
        let challenge = match (reply.status, www_authenticate::negotiate(&offers)) {
            (401, Some(www_authenticate::Offer { token: Some(t), .. })) => B64
                .decode(t.as_bytes())
                .map_err(|_| ProtocolError::ChallengeNotBase64)
                .map_err(TransportError::from)?,
            (401, Some(_)) => {
                return Err(TransportError::Auth(AuthFailure::NoChallenge).into());
            }
            (401, None) => {
                return Err(TransportError::Auth(AuthFailure::NegotiateNotOffered {
                    offered: www_authenticate::scheme_list(&offers),
                })
                .into());
            }
            (status, _) => {
                return Err(TransportError::from(ProtocolError::NoChallenge { status }).into());
            }
        };
        let (established, auth_token) = sent.authenticate(&challenge).map_err(|e| match e {
            NegotiateError::BadChallenge(why) => ProtocolError::BadChallenge(why).into(),
            other => auth_setup_error(other),
        })?;

        if !self.conn.as_ref().is_some_and(http::HttpConn::is_usable) {
            // NTLM authenticates the socket: a new one would need a new challenge.
            return Err(TransportError::from(ProtocolError::ClosedAfterChallenge).into());
        }

        // Leg 3: AUTHENTICATE with the first request, sealed with the new keys.
        let mut established = Session::Ntlm(Box::new(established));
        let body = self.wrap(&mut established, soap)?;
        let req = self.request(body.0, body.1, Some(&auth_token))?;
        // Not replayed if the socket drops now: the host may have counted
        // the logon, and a wrong password must cost one attempt, not two.
        let reply = self.exchange(req).await.map_err(|e| match e {
            Failure::Dropped(why) => Failure::Fatal(TransportError::Unreachable {
                addr: self.addr(),
                reason: format!("{why} (after the AUTHENTICATE message; not retried)"),
            }),
            fatal => fatal,
        })?;
        if reply.status == 401 {
            return Err(TransportError::Auth(AuthFailure::Refused {
                account: account(&self.cfg.credentials),
            })
            .into());
        }
        let reply = self.unwrap(&mut established, reply)?;
        self.auth = Some(established);
        self.stats.auth = Some(AuthUsed::Ntlm);
        Ok(reply)
    }

    async fn send_established(&mut self, soap: &Bytes) -> Result<Reply, Failure> {
        let Some(mut established) = self.auth.take() else {
            return Err(TransportError::from(LocalError::NoSession).into());
        };
        let (body, content_type) = self.wrap(&mut established, soap)?;
        let req = self.request(body, content_type, None)?;
        let reply = self.exchange(req).await?;
        if reply.status == 401 {
            return Err(Failure::SessionRefused);
        }
        let reply = self.unwrap(&mut established, reply)?;
        self.auth = Some(established);
        Ok(reply)
    }

    /// The request body and its content type: sealed over HTTP unless
    /// encryption is off; plain SOAP otherwise.
    fn wrap(
        &self,
        est: &mut Session,
        soap: &Bytes,
    ) -> Result<(Bytes, Option<&'static str>), TransportError> {
        if !self.cfg.seals() {
            return Ok((soap.clone(), Some(SOAP_CONTENT_TYPE)));
        }
        let body = match est {
            Session::Ntlm(est) => {
                let (sig, ct) = est
                    .seal(soap)
                    .map_err(|e| LocalError::Seal(e.to_string()))?;
                sealing::encode(&sig, &ct, soap.len())
            }
            Session::Kerberos(est) => {
                let (header, ct) = est.seal(soap).map_err(TransportError::Kerberos)?;
                sealing::encode_gss(sealing::PROTOCOL, &header, &ct, soap.len())
            }
        };
        Ok((Bytes::from(body), Some(sealing::CONTENT_TYPE)))
    }

    /// Checks the status and unseals the body.
    fn unwrap(&self, est: &mut Session, reply: http::HttpReply) -> Result<Reply, TransportError> {
        let status = reply.status;
        match status {
            200 | 400 | 500 => {}
            413 => {
                return Err(ProtocolError::RequestTooLarge.into());
            }
            other => {
                return Err(ProtocolError::UnexpectedStatus(other).into());
            }
        }
        if reply.body.is_empty() {
            return Err(ProtocolError::EmptyBody(status).into());
        }
        let content_type = reply.header("content-type").unwrap_or("");
        if sealing::is_encrypted(content_type) {
            let (plain, length) = match est {
                Session::Ntlm(est) => {
                    let sealed = sealing::decode(content_type, &reply.body)
                        .map_err(ProtocolError::Framing)?;
                    let plain = est
                        .unseal(&sealed.signature, sealed.ciphertext)
                        .map_err(|e| match e {
                            NegotiateError::MessageAltered(why) => ProtocolError::ReplyAltered(why),
                            other => ProtocolError::Unseal(other.to_string()),
                        })?;
                    (plain, sealed.length)
                }
                Session::Kerberos(est) => {
                    let sealed = sealing::decode_gss(content_type, &reply.body, sealing::PROTOCOL)
                        .map_err(ProtocolError::Framing)?;
                    let plain = est
                        .unseal(&sealed.header, sealed.ciphertext)
                        .map_err(|e| ProtocolError::Unseal(e.to_string()))?;
                    (plain, sealed.length)
                }
            };
            if plain.len() != length {
                return Err(ProtocolError::UnsealedLength {
                    actual: plain.len(),
                    announced: length,
                }
                .into());
            }
            return Ok(Reply {
                status,
                body: Bytes::from(plain),
            });
        }
        if self.cfg.seals() && status == 200 {
            // A plaintext success on a sealed session would let anyone on
            // the path forge inventory data.
            return Err(ProtocolError::PlaintextReply.into());
        }
        Ok(Reply {
            status,
            body: reply.body,
        })
    }

    fn request(
        &self,
        body: Bytes,
        content_type: Option<&'static str>,
        auth_token: Option<&[u8]>,
    ) -> Result<hyper::Request<Full<Bytes>>, TransportError> {
        build_request(&self.cfg.target, body, content_type, auth_token)
    }

    async fn exchange(
        &mut self,
        req: hyper::Request<Full<Bytes>>,
    ) -> Result<http::HttpReply, Failure> {
        let Some(conn) = self.conn.as_mut() else {
            return Err(Failure::Dropped("no connection".into()));
        };
        let reply = conn
            .exchange(req, self.max_body, self.cfg.timeouts.request)
            .await?;
        self.stats.round_trips += 1;
        Ok(reply)
    }
}

/// A POST to `/wsman` with the headers every request carries.
fn build_request(
    t: &Target,
    body: Bytes,
    content_type: Option<&'static str>,
    auth_token: Option<&[u8]>,
) -> Result<hyper::Request<Full<Bytes>>, TransportError> {
    let mut b = hyper::Request::post("/wsman")
        .header(hyper::header::HOST, t.address.to_string())
        .header(hyper::header::USER_AGENT, USER_AGENT)
        .header(hyper::header::CONTENT_LENGTH, body.len());
    if let Some(ct) = content_type {
        b = b.header(hyper::header::CONTENT_TYPE, ct);
    }
    if let Some(token) = auth_token {
        b = b.header(
            hyper::header::AUTHORIZATION,
            format!("Negotiate {}", B64.encode(token)),
        );
    }
    b.body(Full::new(body)).map_err(|e| {
        TransportError::Config(ConfigFailure::HttpRequest {
            host: t.host().to_string(),
            reason: e.to_string(),
        })
    })
}

fn account(c: &Credentials) -> String {
    match &c.domain {
        Some(d) => format!("{d}\\{}", c.username),
        None => c.username.clone(),
    }
}

fn auth_setup_error(e: NegotiateError) -> TransportError {
    match e {
        NegotiateError::BadUserName(why) => TransportError::Config(ConfigFailure::UserName(why)),
        other => TransportError::Auth(AuthFailure::Ntlm(other)),
    }
}
