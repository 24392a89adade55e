//! Kerberos inside SPNEGO (`Authorization: Negotiate`) with a password,
//! through `sspi`'s Negotiate package restricted to Kerberos: NTLM is
//! disabled in its package list, so no NTLM token can reach the wire.
//!
//! sspi runs the AS and TGS exchanges itself but hands every KDC message to
//! us (its generator suspends on each one): we send it over TCP with our own
//! timeouts, classify the KDC's errors, and keep one AS exchange per account
//! per process (see [`AsReplies`]).
//!
//! The exchange with the host is one leg: the AP-REQ goes on an empty POST,
//! the host's 200 carries the AP-REP (mutual authentication), which must
//! verify before a single request is sealed.

use super::config::{Credentials, KerberosOptions};
use secrecy::ExposeSecret;
use sha2::Digest;
use sspi::generator::GeneratorState;
use sspi::{
    AuthIdentity, BufferType, ClientRequestFlags, CredentialUse, CredentialsBuffers,
    DataRepresentation, EncryptionFlags, KerberosConfig, Negotiate, NegotiateConfig,
    NetworkRequest, SecurityBuffer, SecurityBufferRef, SecurityStatus, Sspi, SspiImpl, Username,
};
use std::collections::HashMap;
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, Instant};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::sync::OwnedMutexGuard;

/// The default KDC port (RFC 4120).
pub const KDC_PORT: u16 = 88;
/// A cached AS reply (the TGT) is reused for at most this long; realms
/// issue 10-hour tickets by default, so a refetch comes well before expiry.
const TGT_REUSE: Duration = Duration::from_secs(3600);
/// Largest KDC reply we read (a TGS-REP with a big PAC is tens of KB).
const MAX_KDC_REPLY: usize = 1 << 20;

// KRB-ERROR codes (RFC 4120 §7.5.9) we tell apart.
const KDC_ERR_C_PRINCIPAL_UNKNOWN: i64 = 6;
const KDC_ERR_S_PRINCIPAL_UNKNOWN: i64 = 7;
const KDC_ERR_CLIENT_REVOKED: i64 = 18;
const KDC_ERR_KEY_EXPIRED: i64 = 23;
const KDC_ERR_PREAUTH_FAILED: i64 = 24;
const KDC_ERR_PREAUTH_REQUIRED: i64 = 25;
const KRB_AP_ERR_SKEW: i64 = 37;

/// Why Kerberos failed, in the words an administrator acts on. Each message
/// names the remedy; none contains key material or the password.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum KerberosFailure {
    #[error("no Kerberos realm for {account}: set `realm`, or write the user name as user@REALM")]
    NoRealm { account: String },
    #[error(
        "no KDC known for realm {realm}: set `kdc = \"host[:port]\"`, name the realm's KDC in \
         krb5.conf (KRB5_CONFIG), or let this machine's DNS answer _kerberos._tcp.{realm} (SRV)"
    )]
    NoKdc { realm: String },
    #[error(
        "the KDC {kdc} cannot be reached ({reason}); check `kdc` (or krb5.conf), that the KDC is \
         running and that TCP port 88 is open from this machine"
    )]
    KdcUnreachable { kdc: String, reason: String },
    #[error("the KDC does not know the account {principal}; check the user name and `realm`")]
    ClientUnknown { principal: String },
    #[error(
        "the KDC refused the password of {principal} (wrong password); fix the password - it \
         was tried once, not once per host"
    )]
    WrongPassword { principal: String },
    #[error(
        "the account {principal} is disabled, locked out or its password expired (KDC error \
         {code}); ask the domain administrator"
    )]
    AccountUnusable { principal: String, code: i64 },
    #[error(
        "the realm {realm} has no principal {spn}: use the host's DNS name as registered in the \
         domain in `address` (with `connect_to` if it does not resolve here), register the SPN \
         (`setspn -S {spn} <computer>`), or set `spn_service = \"HTTP\"` if only HTTP/ is \
         registered"
    )]
    UnknownServicePrincipal { spn: String, realm: String },
    #[error(
        "clock skew: this machine's clock and the {peer}'s differ by more than the realm allows \
         (5 minutes by default); synchronise both with NTP"
    )]
    ClockSkew { peer: &'static str },
    #[error("the KDC refused the request (KDC error {code}{text})")]
    Kdc { code: i64, text: String },
    #[error(
        "the host refused our Kerberos ticket for {spn}: its clock may be off by more than 5 \
         minutes, its keytab may not match the principal (re-key the host or fix the SPN), or \
         it accepts only NTLM"
    )]
    TicketRefused { spn: String },
    #[error(
        "the host's mutual-authentication token did not verify ({why}): the reply may not come \
         from {spn}"
    )]
    MutualAuth { spn: String, why: String },
    #[error("Kerberos: {0}")]
    Other(String),
}

impl KerberosFailure {
    /// Whether `negotiate` may fall back to NTLM after this failure, as
    /// Windows does when it cannot get a ticket at all. Never after the KDC
    /// refused the password (NTLM would just cost the account a second bad
    /// attempt), nor after the host refused a ticket.
    pub fn allows_ntlm_fallback(&self) -> bool {
        matches!(
            self,
            KerberosFailure::NoRealm { .. }
                | KerberosFailure::NoKdc { .. }
                | KerberosFailure::KdcUnreachable { .. }
                | KerberosFailure::UnknownServicePrincipal { .. }
                | KerberosFailure::Kdc { .. }
        )
    }

    /// The KDC could not be reached: a connection-level failure.
    pub fn is_unreachable(&self) -> bool {
        matches!(self, KerberosFailure::KdcUnreachable { .. })
    }
}

/// Realm, KDC and principals of one logon, resolved before anything is sent.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Plan {
    pub realm: String,
    /// `tcp://host:port`
    pub kdc: String,
    /// The account's principal name without the realm.
    pub user: String,
    /// `<spn_service>/<host>`
    pub spn: String,
}

impl Plan {
    /// [`Plan::resolve`], then, when no KDC is configured for the realm,
    /// the realm's `_kerberos._tcp` SRV record (as Windows finds its domain
    /// controllers). A DNS answer never overrides `kdc` or krb5.conf, and
    /// DNS is not asked when krb5.conf says `dns_lookup_kdc = false`.
    pub async fn discover(
        creds: &Credentials,
        opts: &KerberosOptions,
        host: &str,
    ) -> Result<Plan, KerberosFailure> {
        match Plan::resolve(creds, opts, host) {
            Err(KerberosFailure::NoKdc { realm }) if krb5_conf_allows_dns_kdc() => {
                match super::kdc_srv::lookup(&realm).await {
                    Some(kdc) => {
                        let opts = KerberosOptions {
                            kdc: Some(kdc),
                            ..opts.clone()
                        };
                        Plan::resolve(creds, &opts, host)
                    }
                    None => Err(KerberosFailure::NoKdc { realm }),
                }
            }
            other => other,
        }
    }

    /// Realm from `realm`, else the `@domain` of a `user@domain` name
    /// (upper-cased); KDC from `kdc`, else krb5.conf (`KRB5_CONFIG`
    /// honoured). No DNS: see [`Plan::discover`].
    pub fn resolve(
        creds: &Credentials,
        opts: &KerberosOptions,
        host: &str,
    ) -> Result<Plan, KerberosFailure> {
        let realm = match (&opts.realm, creds.upn, &creds.domain) {
            (Some(r), _, _) if !r.trim().is_empty() => r.trim().to_ascii_uppercase(),
            (_, true, Some(domain)) => domain.to_ascii_uppercase(),
            _ => {
                return Err(KerberosFailure::NoRealm {
                    account: account(creds),
                });
            }
        };
        let kdc = match &opts.kdc {
            Some(k) if !k.trim().is_empty() => kdc_url(k.trim()),
            _ => krb5_conf_kdc(&realm).map(|k| kdc_url(&k)).ok_or_else(|| {
                KerberosFailure::NoKdc {
                    realm: realm.clone(),
                }
            })?,
        };
        Ok(Plan {
            realm,
            kdc,
            user: creds.username.clone(),
            spn: format!("{}/{}", opts.spn_service(), host.to_ascii_lowercase()),
        })
    }

    fn principal(&self) -> String {
        format!("{}@{}", self.user, self.realm)
    }
}

fn account(c: &Credentials) -> String {
    match (&c.domain, c.upn) {
        (Some(d), true) => format!("{}@{d}", c.username),
        (Some(d), false) => format!("{d}\\{}", c.username),
        (None, _) => c.username.clone(),
    }
}

/// `host[:port]` -> `tcp://host:port` (UDP and KDC proxies are not used:
/// TCP carries tickets of any size).
fn kdc_url(kdc: &str) -> String {
    let bare = kdc
        .strip_prefix("tcp://")
        .or_else(|| kdc.strip_prefix("udp://"))
        .or_else(|| kdc.strip_prefix("kerberos://"))
        .unwrap_or(kdc)
        .trim_end_matches('/');
    let has_port = match bare.rsplit_once(':') {
        Some((h, p)) => {
            !h.is_empty()
                && !p.is_empty()
                && p.chars().all(|c| c.is_ascii_digit())
                && (!h.contains(':') || h.ends_with(']'))
        }
        None => false,
    };
    if has_port {
        format!("tcp://{bare}")
    } else {
        format!("tcp://{bare}:{KDC_PORT}")
    }
}

/// The first `kdc` of `[realms] REALM = { ... }` in the krb5.conf files
/// named by `KRB5_CONFIG` (colon-separated), else /etc/krb5.conf.
pub fn krb5_conf_kdc(realm: &str) -> Option<String> {
    krb5_conf_texts().find_map(|t| kdc_in(&t, realm))
}

/// The krb5.conf files named by `KRB5_CONFIG` (colon-separated), else
/// /etc/krb5.conf, those that can be read.
fn krb5_conf_texts() -> impl Iterator<Item = String> {
    let paths = std::env::var("KRB5_CONFIG").unwrap_or_else(|_| "/etc/krb5.conf".into());
    paths
        .split(':')
        .filter(|p| !p.is_empty())
        .filter_map(|p| std::fs::read_to_string(p).ok())
        .collect::<Vec<_>>()
        .into_iter()
}

/// Whether krb5.conf lets the KDC be found in DNS: `[libdefaults]
/// dns_lookup_kdc` (MIT's default, and Windows', is yes).
fn krb5_conf_allows_dns_kdc() -> bool {
    krb5_conf_texts()
        .find_map(|t| dns_lookup_kdc_in(&t))
        .unwrap_or(true)
}

fn dns_lookup_kdc_in(text: &str) -> Option<bool> {
    let mut in_libdefaults = false;
    for line in text.lines() {
        let line = line.split(['#', ';']).next().unwrap_or("").trim();
        if line.starts_with('[') {
            in_libdefaults = line.eq_ignore_ascii_case("[libdefaults]");
            continue;
        }
        let Some((k, v)) = line.split_once('=') else {
            continue;
        };
        if in_libdefaults && k.trim().eq_ignore_ascii_case("dns_lookup_kdc") {
            let v = v.trim().to_ascii_lowercase();
            return Some(matches!(v.as_str(), "true" | "yes" | "on" | "1"));
        }
    }
    None
}

/// A small reader of the krb5.conf `[realms]` section: enough for
/// `REALM = { kdc = host:port }`.
fn kdc_in(text: &str, realm: &str) -> Option<String> {
    let mut in_realms = false;
    let mut in_ours = false;
    for line in text.lines() {
        let line = line.split(['#', ';']).next().unwrap_or("").trim();
        if line.starts_with('[') {
            in_realms = line.eq_ignore_ascii_case("[realms]");
            in_ours = false;
            continue;
        }
        if !in_realms {
            continue;
        }
        if let Some((k, v)) = line.split_once('=') {
            let (k, v) = (k.trim(), v.trim());
            if v.starts_with('{') {
                in_ours = k.eq_ignore_ascii_case(realm);
                continue;
            }
            if in_ours && k.eq_ignore_ascii_case("kdc") && !v.is_empty() {
                return Some(v.to_string());
            }
        } else if line.starts_with('}') {
            in_ours = false;
        }
    }
    None
}

// ------------------------------------------------------------ AS reuse

/// The KDC's replies to one account's AS exchange (`PREAUTH_REQUIRED`,
/// then the AS-REP or the final error), kept for the whole process.
///
/// sspi cannot hand a TGT from one security context to the next, so each
/// host's context asks for one. The first context for an account talks to
/// the KDC; the others get the same replies replayed: the AS-REP is
/// encrypted with the account's own key, so only the right password opens
/// it, and the TGT and session key inside are exactly the ones the KDC
/// issued. A refused password is replayed too: an account is tried once
/// per run, not once per host (no lockout storm).
#[derive(Default)]
struct AsReplies {
    replies: Vec<Vec<u8>>,
    complete: bool,
    fetched: Option<Instant>,
    /// The KDC's TGS-REP per service principal, obtained with this TGT:
    /// one service ticket per host, whatever the number of connections.
    /// The reply is encrypted with the TGT's session key, which is why it
    /// is kept beside the AS replies and dropped with them.
    service_tickets: HashMap<String, Vec<u8>>,
}

type Entry = Arc<tokio::sync::Mutex<AsReplies>>;

/// Process-wide, keyed by KDC, principal and a digest of the password
/// (a changed password never meets a stale reply).
fn as_cache() -> &'static Mutex<HashMap<[u8; 32], Entry>> {
    static CACHE: OnceLock<Mutex<HashMap<[u8; 32], Entry>>> = OnceLock::new();
    CACHE.get_or_init(Mutex::default)
}

fn cache_entry(plan: &Plan, creds: &Credentials) -> Entry {
    let mut h = sha2::Sha256::new();
    for part in [
        plan.kdc.as_bytes(),
        plan.principal().as_bytes(),
        creds.password.expose_secret().as_bytes(),
    ] {
        h.update((part.len() as u64).to_le_bytes());
        h.update(part);
    }
    let key: [u8; 32] = h.finalize().into();
    let mut map = as_cache().lock().unwrap_or_else(|p| p.into_inner());
    map.entry(key).or_default().clone()
}

/// AS requests this process sent to a KDC (not the replayed ones).
pub fn as_requests_sent() -> u64 {
    AS_SENT.load(std::sync::atomic::Ordering::Relaxed)
}
static AS_SENT: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);

/// First TGS requests (service tickets) this process sent to a KDC.
pub fn tgs_requests_sent() -> u64 {
    TGS_SENT.load(std::sync::atomic::Ordering::Relaxed)
}
static TGS_SENT: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);

/// One logon's conversation with the KDC.
struct KdcSession {
    plan: Plan,
    timeout: Duration,
    entry: Entry,
    guard: Option<OwnedMutexGuard<AsReplies>>,
    as_index: usize,
    /// When the AS replies this logon used were fetched (their identity).
    as_fetched: Option<Instant>,
    tgs_index: usize,
    /// The last KRB-ERROR code seen, and whether it answered a TGS-REQ.
    last_error: Option<(i64, bool, String)>,
    network: Option<KerberosFailure>,
}

impl KdcSession {
    async fn send(&mut self, req: &NetworkRequest) -> sspi::Result<Vec<u8>> {
        let is_as = req.data.get(4) == Some(&0x6a);
        let reply = if is_as {
            self.send_as(req).await
        } else {
            // The AS exchange is over: let other logons replay it.
            if let Some(g) = self.guard.take() {
                self.as_fetched = if g.complete { g.fetched } else { None };
            }
            self.send_tgs(req).await
        }?;
        if let Some((code, text)) = krb_error(&reply) {
            self.last_error = Some((code, !is_as, text));
        }
        Ok(reply)
    }

    async fn send_as(&mut self, req: &NetworkRequest) -> sspi::Result<Vec<u8>> {
        if self.guard.is_none() {
            let mut g = self.entry.clone().lock_owned().await;
            let stale = g.fetched.is_none_or(|t| t.elapsed() > TGT_REUSE);
            if !g.complete || stale {
                *g = AsReplies::default();
            }
            self.guard = Some(g);
            self.as_index = 0;
        }
        let index = self.as_index;
        self.as_index += 1;
        if let Some(g) = self.guard.as_ref()
            && g.complete
            && let Some(reply) = g.replies.get(index)
        {
            return Ok(reply.clone());
        }
        let reply = self.exchange(req).await?;
        AS_SENT.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        if let Some(g) = self.guard.as_mut() {
            if g.complete {
                // More AS requests than last time (a skew retry): start over.
                **g = AsReplies::default();
            }
            g.replies.push(reply.clone());
            let done = match krb_error(&reply) {
                None => reply.get(4) == Some(&0x6b),
                Some((code, _)) => index >= 1 && code != KRB_AP_ERR_SKEW,
            };
            if done {
                g.complete = true;
                g.fetched = Some(Instant::now());
            }
        }
        Ok(reply)
    }

    /// The first TGS exchange of a logon is the host's service ticket:
    /// replayed when this TGT already got one for the same principal.
    async fn send_tgs(&mut self, req: &NetworkRequest) -> sspi::Result<Vec<u8>> {
        let first = self.tgs_index == 0;
        self.tgs_index += 1;
        let Some(fetched) = self.as_fetched.filter(|_| first) else {
            return self.exchange(req).await;
        };
        {
            let g = self.entry.lock().await;
            if g.fetched == Some(fetched)
                && let Some(reply) = g.service_tickets.get(&self.plan.spn)
            {
                return Ok(reply.clone());
            }
        }
        let reply = self.exchange(req).await?;
        TGS_SENT.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        if reply.get(4) == Some(&0x6d) {
            let mut g = self.entry.lock().await;
            if g.fetched == Some(fetched) {
                g.service_tickets
                    .insert(self.plan.spn.clone(), reply.clone());
            }
        }
        Ok(reply)
    }

    async fn exchange(&mut self, req: &NetworkRequest) -> sspi::Result<Vec<u8>> {
        match tokio::time::timeout(self.timeout, tcp_exchange(req)).await {
            Ok(Ok(reply)) => Ok(reply),
            Ok(Err(reason)) => Err(self.unreachable(reason)),
            Err(_) => Err(self.unreachable(format!(
                "no answer within {:.0} s",
                self.timeout.as_secs_f64()
            ))),
        }
    }

    fn unreachable(&mut self, reason: String) -> sspi::Error {
        let failure = KerberosFailure::KdcUnreachable {
            kdc: self.plan.kdc.trim_start_matches("tcp://").to_string(),
            reason: reason.clone(),
        };
        self.network = Some(failure);
        sspi::Error::new(sspi::ErrorKind::NoAuthenticatingAuthority, reason)
    }

    /// The failure behind an sspi error, from what we saw on the wire.
    fn classify(&self, e: &sspi::Error) -> KerberosFailure {
        if let Some(f) = &self.network {
            return f.clone();
        }
        let principal = self.plan.principal();
        match &self.last_error {
            Some((KDC_ERR_C_PRINCIPAL_UNKNOWN, false, _)) => {
                KerberosFailure::ClientUnknown { principal }
            }
            Some((KDC_ERR_PREAUTH_FAILED, _, _)) => KerberosFailure::WrongPassword { principal },
            Some((KDC_ERR_CLIENT_REVOKED | KDC_ERR_KEY_EXPIRED, false, _)) => {
                let code = self.last_error.as_ref().map(|e| e.0).unwrap_or_default();
                KerberosFailure::AccountUnusable { principal, code }
            }
            Some((KDC_ERR_S_PRINCIPAL_UNKNOWN, true, _)) => {
                KerberosFailure::UnknownServicePrincipal {
                    spn: self.plan.spn.clone(),
                    realm: self.plan.realm.clone(),
                }
            }
            Some((KRB_AP_ERR_SKEW, _, _)) => KerberosFailure::ClockSkew { peer: "KDC" },
            Some((KDC_ERR_PREAUTH_REQUIRED, _, _)) | None => {
                KerberosFailure::Other(format!("{:?}: {}", e.error_type, e.description))
            }
            Some((code, _, text)) => KerberosFailure::Kdc {
                code: *code,
                text: if text.is_empty() {
                    String::new()
                } else {
                    format!(": {text}")
                },
            },
        }
    }
}

/// One KDC message over TCP: the request already carries its 4-byte
/// length; the reply is returned with its own.
async fn tcp_exchange(req: &NetworkRequest) -> Result<Vec<u8>, String> {
    let host = req
        .url
        .host_str()
        .unwrap_or_default()
        .trim_start_matches('[')
        .trim_end_matches(']')
        .to_string();
    let port = req.url.port().unwrap_or(KDC_PORT);
    let data = &req.data;
    let mut stream = tokio::net::TcpStream::connect((host.as_str(), port))
        .await
        .map_err(|e| e.to_string())?;
    stream.write_all(data).await.map_err(|e| e.to_string())?;
    let mut len = [0u8; 4];
    stream
        .read_exact(&mut len)
        .await
        .map_err(|e| format!("reading the reply: {e}"))?;
    let n = u32::from_be_bytes(len) as usize;
    if n > MAX_KDC_REPLY {
        return Err(format!("reply of {n} bytes is too large"));
    }
    let mut out = vec![0u8; 4 + n];
    out[..4].copy_from_slice(&len);
    stream
        .read_exact(&mut out[4..])
        .await
        .map_err(|e| format!("reading the reply: {e}"))?;
    Ok(out)
}

/// (error-code, e-text) of a KRB-ERROR reply (after the TCP length), or
/// `None` for anything else. Reads DER defensively.
fn krb_error(reply: &[u8]) -> Option<(i64, String)> {
    let msg = reply.get(4..)?;
    let (tag, body, _) = der(msg)?;
    if tag != 0x7e {
        return None;
    }
    let (tag, mut seq, _) = der(body)?;
    if tag != 0x30 {
        return None;
    }
    let (mut code, mut text) = (None, String::new());
    while !seq.is_empty() {
        let (tag, field, rest) = der(seq)?;
        seq = rest;
        match tag {
            0xa6 => {
                let (t, v, _) = der(field)?;
                if t != 0x02 || v.is_empty() || v.len() > 8 {
                    return None;
                }
                let mut n: i64 = if v[0] & 0x80 != 0 { -1 } else { 0 };
                for b in v {
                    n = (n << 8) | i64::from(*b);
                }
                code = Some(n);
            }
            0xab => {
                if let Some((_, v, _)) = der(field) {
                    text = String::from_utf8_lossy(v).chars().take(200).collect();
                }
            }
            _ => {}
        }
    }
    code.map(|c| (c, text))
}

/// One DER TLV: (tag, value, rest); single-byte tags, lengths up to 4 bytes.
fn der(input: &[u8]) -> Option<(u8, &[u8], &[u8])> {
    let (&tag, rest) = input.split_first()?;
    let (&first, rest) = rest.split_first()?;
    let (len, rest) = if first < 0x80 {
        (first as usize, rest)
    } else {
        let n = (first & 0x7f) as usize;
        if n == 0 || n > 4 {
            return None;
        }
        let bytes = rest.get(..n)?;
        let len = bytes.iter().fold(0usize, |acc, b| (acc << 8) | *b as usize);
        (len, rest.get(n..)?)
    };
    let value = rest.get(..len)?;
    Some((tag, value, rest.get(len..)?))
}

// ------------------------------------------------------------ the context

fn flags() -> ClientRequestFlags {
    ClientRequestFlags::MUTUAL_AUTH
        | ClientRequestFlags::CONFIDENTIALITY
        | ClientRequestFlags::INTEGRITY
        | ClientRequestFlags::SEQUENCE_DETECT
        | ClientRequestFlags::REPLAY_DETECT
}

/// AP-REQ built (tickets obtained); waiting for the host's AP-REP.
pub struct Pending {
    negotiate: Negotiate,
    creds: Option<CredentialsBuffers>,
    spn: String,
}

/// Mutually authenticated: messages can be sealed.
pub struct Established {
    negotiate: Negotiate,
    trailer: usize,
}

/// Gets the tickets and builds the SPNEGO token for the first leg.
/// `channel_binding` is the `tls-server-end-point:` application data over
/// HTTPS; it goes into the authenticator's checksum.
pub async fn start(
    creds: &Credentials,
    plan: &Plan,
    channel_binding: Option<&[u8]>,
    kdc_timeout: Duration,
) -> Result<(Pending, Vec<u8>), KerberosFailure> {
    let kerberos = KerberosConfig::new_with_kdc_url(&plan.kdc, String::new());
    let config = NegotiateConfig::new(
        Box::new(kerberos),
        Some("kerberos,!ntlm,!pku2u".into()),
        String::new(),
    );
    let mut negotiate =
        Negotiate::new_client(config).map_err(|e| KerberosFailure::Other(e.description))?;
    let username = Username::new(&plan.user, Some(&plan.realm))
        .map_err(|e| KerberosFailure::Other(format!("user name: {e}")))?;
    let identity = AuthIdentity {
        username,
        password: creds.password.expose_secret().to_string().into(),
    };
    let handle = negotiate
        .acquire_credentials_handle()
        .with_credential_use(CredentialUse::Outbound)
        .with_auth_data(&sspi::Credentials::AuthIdentity(identity))
        .execute(&mut negotiate)
        .map_err(|e| KerberosFailure::Other(e.description))?;
    let mut creds_handle = handle.credentials_handle;

    let mut session = KdcSession {
        plan: plan.clone(),
        timeout: kdc_timeout,
        entry: cache_entry(plan, creds),
        guard: None,
        as_index: 0,
        as_fetched: None,
        tgs_index: 0,
        last_error: None,
        network: None,
    };
    let mut input = Vec::new();
    if let Some(cb) = channel_binding {
        input.push(SecurityBuffer::new(
            sspi_channel_bindings(cb),
            BufferType::ChannelBindings,
        ));
    }
    let mut output = vec![SecurityBuffer::new(Vec::new(), BufferType::Token)];
    let result = {
        let mut builder = negotiate
            .initialize_security_context()
            .with_credentials_handle(&mut creds_handle)
            .with_context_requirements(flags())
            .with_target_data_representation(DataRepresentation::Native)
            .with_target_name(&plan.spn)
            .with_input(&mut input)
            .with_output(&mut output);
        let mut generator = negotiate
            .initialize_security_context_impl(&mut builder)
            .map_err(|e| KerberosFailure::Other(e.description))?;
        let mut state = generator.start();
        loop {
            match state {
                GeneratorState::Suspended(request) => {
                    let reply = session.send(&request).await;
                    state = generator.resume(reply);
                }
                GeneratorState::Completed(result) => break result,
            }
        }
    };
    session.guard = None;
    match result {
        Ok(r) if r.status == SecurityStatus::ContinueNeeded || r.status == SecurityStatus::Ok => {}
        Ok(r) => {
            return Err(KerberosFailure::Other(format!(
                "unexpected status {:?}",
                r.status
            )));
        }
        Err(e) => return Err(session.classify(&e)),
    }
    let token = output
        .into_iter()
        .find(|b| b.buffer_type.buffer_type == BufferType::Token)
        .map(|b| b.buffer)
        .unwrap_or_default();
    if token.is_empty() {
        return Err(KerberosFailure::Other(
            "sspi produced an empty token".into(),
        ));
    }
    Ok((
        Pending {
            negotiate,
            creds: creds_handle,
            spn: plan.spn.clone(),
        },
        token,
    ))
}

/// SEC_CHANNEL_BINDINGS with only application data (RFC 5929 over TLS),
/// the layout sspi reads from a `ChannelBindings` buffer.
fn sspi_channel_bindings(app_data: &[u8]) -> Vec<u8> {
    const HEADER: u32 = 32;
    let mut out = Vec::with_capacity(HEADER as usize + app_data.len());
    // initiator type, length, offset; acceptor type, length, offset
    for _ in 0..6 {
        out.extend_from_slice(&0u32.to_le_bytes());
    }
    out.extend_from_slice(&(app_data.len() as u32).to_le_bytes());
    out.extend_from_slice(&HEADER.to_le_bytes());
    out.extend_from_slice(app_data);
    out
}

impl Pending {
    /// Verifies the host's reply token (AP-REP inside a negTokenResp).
    pub fn finish(mut self, server_token: &[u8]) -> Result<Established, KerberosFailure> {
        let spn = self.spn.clone();
        let mutual = |why: String| KerberosFailure::MutualAuth {
            spn: spn.clone(),
            why,
        };
        let mut input = vec![SecurityBuffer::new(
            server_token.to_vec(),
            BufferType::Token,
        )];
        let mut output = vec![SecurityBuffer::new(Vec::new(), BufferType::Token)];
        let status = {
            let mut builder = self
                .negotiate
                .initialize_security_context()
                .with_credentials_handle(&mut self.creds)
                .with_context_requirements(flags())
                .with_target_data_representation(DataRepresentation::Native)
                .with_target_name(&self.spn)
                .with_input(&mut input)
                .with_output(&mut output);
            // No KDC traffic in this step: a suspension is an error.
            self.negotiate
                .initialize_security_context_impl(&mut builder)
                .and_then(|mut g| g.resolve_to_result())
                .map_err(|e| mutual(format!("{:?}: {}", e.error_type, e.description)))?
                .status
        };
        if status != SecurityStatus::Ok {
            return Err(mutual(format!("context not complete ({status:?})")));
        }
        let trailer = self
            .negotiate
            .query_context_sizes()
            .map_err(|e| mutual(e.description))?
            .security_trailer as usize;
        Ok(Established {
            negotiate: self.negotiate,
            trailer,
        })
    }
}

impl Established {
    /// Seals one message: (GSS wrap token header, encrypted data), the two
    /// parts WinRM frames separately.
    pub fn seal(&mut self, plaintext: &[u8]) -> Result<(Vec<u8>, Vec<u8>), KerberosFailure> {
        let mut token = vec![0u8; self.trailer];
        let mut data = plaintext.to_vec();
        let (token_len, data_len) = {
            let mut buffers = [
                SecurityBufferRef::token_buf(token.as_mut_slice()),
                SecurityBufferRef::data_buf(data.as_mut_slice()),
            ];
            self.negotiate
                .encrypt_message(EncryptionFlags::empty(), &mut buffers)
                .map_err(|e| KerberosFailure::Other(format!("cannot seal: {}", e.description)))?;
            (buffers[0].data().len(), buffers[1].data().len())
        };
        token.truncate(token_len);
        data.truncate(data_len);
        Ok((token, data))
    }

    /// Verifies and decrypts one message from the host.
    pub fn unseal(
        &mut self,
        header: &[u8],
        ciphertext: Vec<u8>,
    ) -> Result<Vec<u8>, KerberosFailure> {
        let mut token = header.to_vec();
        let mut data = ciphertext;
        let n = {
            let mut buffers = [
                SecurityBufferRef::token_buf(token.as_mut_slice()),
                SecurityBufferRef::data_buf(data.as_mut_slice()),
            ];
            self.negotiate.decrypt_message(&mut buffers).map_err(|e| {
                KerberosFailure::Other(format!(
                    "sealed reply failed verification: {}",
                    e.description
                ))
            })?;
            buffers[1].data().len()
        };
        data.truncate(n);
        Ok(data)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn krb5_conf_realm_kdc_is_found() {
        let conf = "[libdefaults]\n default_realm = A.TEST\n[realms]\n  OTHER.TEST = {\n kdc = other:88\n }\n A.TEST = {\n   kdc = 127.0.0.1:17088 # local\n admin_server = x\n }\n[domain_realm]\n kdc = wrong\n";
        assert_eq!(kdc_in(conf, "A.TEST").as_deref(), Some("127.0.0.1:17088"));
        assert_eq!(kdc_in(conf, "a.test").as_deref(), Some("127.0.0.1:17088"));
        assert_eq!(kdc_in(conf, "OTHER.TEST").as_deref(), Some("other:88"));
        assert_eq!(kdc_in(conf, "NONE.TEST"), None);
    }

    #[test]
    fn dns_lookup_kdc_is_read_from_libdefaults_only() {
        let conf = "[libdefaults]\n  dns_lookup_realm = false\n  dns_lookup_kdc = false # no\n";
        assert_eq!(dns_lookup_kdc_in(conf), Some(false));
        assert_eq!(
            dns_lookup_kdc_in("[libdefaults]\ndns_lookup_kdc = TRUE\n"),
            Some(true)
        );
        assert_eq!(
            dns_lookup_kdc_in("[realms]\n X = {\n dns_lookup_kdc = false\n }\n"),
            None
        );
        assert_eq!(dns_lookup_kdc_in(""), None);
    }

    #[test]
    fn kdc_urls_get_tcp_and_the_default_port() {
        assert_eq!(kdc_url("dc1.contoso.com"), "tcp://dc1.contoso.com:88");
        assert_eq!(kdc_url("dc1:1088"), "tcp://dc1:1088");
        assert_eq!(kdc_url("udp://dc1:88"), "tcp://dc1:88");
        assert_eq!(kdc_url("[2001:db8::1]:88"), "tcp://[2001:db8::1]:88");
        assert_eq!(kdc_url("[2001:db8::1]"), "tcp://[2001:db8::1]:88");
    }

    fn creds(account: &str) -> Credentials {
        Credentials::parse(account, "pw".to_string().into())
    }

    #[test]
    fn realm_comes_from_the_option_or_the_upn() {
        let opts = KerberosOptions {
            kdc: Some("kdc.example:88".into()),
            ..KerberosOptions::default()
        };
        let p =
            Plan::resolve(&creds("svc@contoso.example"), &opts, "HV01.contoso.example").unwrap();
        assert_eq!(p.realm, "CONTOSO.EXAMPLE");
        assert_eq!(p.user, "svc");
        assert_eq!(p.spn, "WSMAN/hv01.contoso.example");
        assert_eq!(p.kdc, "tcp://kdc.example:88");
        assert!(matches!(
            Plan::resolve(&creds("CONTOSO\\svc"), &opts, "hv01"),
            Err(KerberosFailure::NoRealm { .. })
        ));
        let opts = KerberosOptions {
            realm: Some("corp.example".into()),
            spn_service: Some("HTTP".into()),
            ..opts
        };
        let p = Plan::resolve(&creds("CONTOSO\\svc"), &opts, "hv01.corp.example").unwrap();
        assert_eq!(
            (p.realm.as_str(), p.spn.as_str()),
            ("CORP.EXAMPLE", "HTTP/hv01.corp.example")
        );
    }

    #[test]
    fn krb_error_codes_are_read_and_garbage_is_not() {
        // KRB-ERROR { pvno 5, msg-type 30, stime, susec, error-code 24, realm, sname, e-text }
        let inner: Vec<u8> = [
            &[0xa0, 0x03, 0x02, 0x01, 0x05][..],
            &[0xa1, 0x03, 0x02, 0x01, 0x1e],
            &[0xa6, 0x03, 0x02, 0x01, 0x18],
            &[0xab, 0x04, 0x1b, 0x02, b'h', b'i'],
        ]
        .concat();
        let mut seq = vec![0x30, inner.len() as u8];
        seq.extend_from_slice(&inner);
        let mut msg = vec![0x7e, seq.len() as u8];
        msg.extend_from_slice(&seq);
        let mut framed = (msg.len() as u32).to_be_bytes().to_vec();
        framed.extend_from_slice(&msg);
        assert_eq!(krb_error(&framed), Some((24, "hi".into())));
        for cut in 0..framed.len() {
            let _ = krb_error(&framed[..cut]);
        }
        assert_eq!(krb_error(b"\0\0\0\x02\x6b\x00"), None);
    }
}
