//! Transport failures, each mapped to a stored `ErrorKind`.

use super::negotiate::NegotiateError;
use super::sealing::SealingError;
use crate::error::{ErrorKind, HasKind};
use std::fmt;
use std::path::PathBuf;

/// A TLS failure in the words an administrator recognises.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TlsFailure {
    /// Self-signed or issued by a CA we do not trust.
    UnknownAuthority,
    /// The certificate does not name the host we connected to.
    NameMismatch,
    /// Outside its validity period.
    Expired,
    /// Certificate pinning by thumbprint failed.
    ThumbprintMismatch,
    /// No TLS version or cipher suite in common (the host's words, or
    /// ours). Old hosts offer only CBC suites, which rustls has not.
    NoCommonProtocol(String),
    /// Anything else (handshake failure, no shared cipher suite...).
    Other(String),
}

impl fmt::Display for TlsFailure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Each message names the fix, since the operator reads it in a report.
        match self {
            TlsFailure::UnknownAuthority => f.write_str(
                "the host's certificate is self-signed or issued by an unknown CA; \
                 add the issuing CA with `ca_file`, or pin the certificate with `cert_thumbprint`",
            ),
            TlsFailure::NameMismatch => f.write_str(
                "the host's certificate does not name this host; use the name the certificate \
                 was issued for, or fix the WinRM HTTPS listener's certificate",
            ),
            TlsFailure::Expired => f.write_str(
                "the host's certificate is expired or not yet valid; renew the WinRM HTTPS \
                 listener's certificate (or check this machine's clock)",
            ),
            TlsFailure::ThumbprintMismatch => f.write_str(
                "the host's certificate does not match `cert_thumbprint`; the certificate \
                 changed (or someone is in the path): check it on the host and update the pin",
            ),
            TlsFailure::NoCommonProtocol(why) => write!(
                f,
                "the host offers no TLS version or cipher suite in common with hvinv ({why}); \
                 hvinv needs TLS 1.2 or 1.3 with AES-GCM or ChaCha20. Windows Server 2008 R2, and \
                 2012 or 2012 R2 before KB2919355, offer only CBC suites, and 2008 R2 has TLS 1.2 off: use \
                 sealed HTTP on port 5985 (transport = \"http\") for such a host"
            ),
            TlsFailure::Other(why) => write!(f, "handshake failed: {why}"),
        }
    }
}

/// The host broke the protocol: what it sent (or did) is not what a WinRM
/// listener does. Strings carry only a library's own description (hyper's,
/// sspi's), never our words.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ProtocolError {
    #[error("expected 401 with an NTLM challenge, got HTTP {status}")]
    NoChallenge { status: u16 },
    #[error("Negotiate challenge is not base64")]
    ChallengeNotBase64,
    #[error("expected 200 to the Kerberos AP-REQ, got HTTP {status}")]
    NoApReply { status: u16 },
    #[error("Negotiate reply token is not base64")]
    ReplyTokenNotBase64,
    #[error("bad NTLM challenge: {0}")]
    BadChallenge(String),
    #[error(
        "the host closed the connection after the NTLM challenge; NTLM needs a kept-alive \
         connection (is a proxy in the way?)"
    )]
    ClosedAfterChallenge,
    #[error("the host refused the request as too large (HTTP 413): lower MaxEnvelopeSize")]
    RequestTooLarge,
    #[error("unexpected HTTP status {0}")]
    UnexpectedStatus(u16),
    #[error("HTTP {0} with an empty body")]
    EmptyBody(u16),
    #[error("reply body larger than {0} bytes")]
    ReplyTooLarge(usize),
    #[error("HTTP handshake: {0}")]
    HttpHandshake(String),
    #[error("malformed HTTP reply: {0}")]
    MalformedHttp(String),
    /// The `multipart/encrypted` framing of a sealed reply is wrong.
    #[error(transparent)]
    Framing(#[from] SealingError),
    #[error("sealed reply failed verification: {0}")]
    ReplyAltered(String),
    #[error("cannot unseal the reply: {0}")]
    Unseal(String),
    #[error("unsealed reply is {actual} bytes, Length= said {announced}")]
    UnsealedLength { actual: usize, announced: usize },
    #[error("the host answered a sealed request in plaintext")]
    PlaintextReply,
}

/// Our side failed to build or protect a message (never the host's doing).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum LocalError {
    #[error("cannot seal the request: {0}")]
    Seal(String),
    #[error("no authenticated session")]
    NoSession,
}

/// What went wrong while authenticating (not Kerberos: `KerberosFailure`).
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum AuthFailure {
    #[error("the host answered our NTLM NEGOTIATE without a challenge; NTLM may be disabled on it")]
    NoChallenge,
    /// The host's 401 offered no Negotiate; `offered` lists what it did offer.
    #[error(
        "the host does not offer Negotiate authentication (it offers: {offered}); enable it with \
         `winrm set winrm/config/service/auth @{{Negotiate=\"true\"}}`"
    )]
    NegotiateNotOffered { offered: String },
    /// 401 to the AUTHENTICATE message; `account` is `DOMAIN\user`.
    #[error(
        "the host refused {account}: wrong user name or password, or the account may not use \
         WinRM (it must be in Administrators or Remote Management Users)"
    )]
    Refused { account: String },
    /// 401 on an authenticated session, again after one new logon.
    #[error("the host dropped the authenticated session (HTTP 401), again after a new logon")]
    SessionDropped,
    /// Our NTLM side could not go on (the library's reason).
    #[error(transparent)]
    Ntlm(NegotiateError),
}

/// Which of our own settings is unusable; nothing was sent.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ConfigFailure {
    #[error(
        "auth = \"kerberos\" needs the host's DNS name in `address` (it is {host}); \
         use `connect_to` to dial an IP address"
    )]
    KerberosNeedsDnsName { host: String },
    #[error("user name: {0}")]
    UserName(String),
    #[error("cannot build the HTTP request (host {host:?}): {reason}")]
    HttpRequest { host: String, reason: String },
    #[error("HTTPS without a TLS configuration")]
    HttpsWithoutTls,
    #[error("ca_file {}: {reason}", path.display())]
    CaFile { path: PathBuf, reason: String },
    #[error("ca_file {}: no PEM certificate in it", path.display())]
    CaFileEmpty { path: PathBuf },
    #[error("TLS verifier: {0}")]
    TlsVerifier(String),
    #[error("TLS versions: {0}")]
    TlsVersions(String),
    #[error("{0:?} is not a valid TLS server name")]
    ServerName(String),
    #[error("the unauthenticated listener probe is for plain HTTP listeners")]
    ProbeNeedsHttp,
}

#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum TransportError {
    #[error("cannot connect to {addr}: {reason}")]
    Unreachable { addr: String, reason: String },
    /// The host's name has no address here (DNS, hosts file).
    #[error("the name {host} does not resolve: {reason}")]
    NameNotResolved { host: String, reason: String },
    #[error("{what} timed out after {secs:.1} s")]
    Timeout { what: &'static str, secs: f64 },
    #[error("TLS: {0}")]
    Tls(TlsFailure),
    #[error("authentication failed: {0}")]
    Auth(AuthFailure),
    /// Kerberos failed (KDC unreachable, unknown principal, wrong password,
    /// clock skew...), with the remedy in its message.
    #[error("Kerberos authentication failed: {0}")]
    Kerberos(super::kerberos::KerberosFailure),
    #[error("protocol error: {0}")]
    Protocol(#[from] ProtocolError),
    #[error("protocol error: {0}")]
    Local(#[from] LocalError),
    /// Our own settings are unusable (unreadable CA file, malformed
    /// thumbprint, unusable user name); nothing was sent.
    #[error("configuration: {0}")]
    Config(ConfigFailure),
}

impl TransportError {
    pub(crate) fn timeout(what: &'static str, limit: std::time::Duration) -> TransportError {
        TransportError::Timeout {
            what,
            secs: limit.as_secs_f64(),
        }
    }

    pub fn is_auth(&self) -> bool {
        match self {
            TransportError::Auth(_) => true,
            TransportError::Kerberos(f) => !f.is_unreachable(),
            _ => false,
        }
    }
}

impl HasKind for TransportError {
    fn kind(&self) -> ErrorKind {
        match self {
            TransportError::Unreachable { .. } => ErrorKind::Unreachable,
            TransportError::NameNotResolved { .. } => ErrorKind::NameNotResolved,
            TransportError::Timeout { .. } => ErrorKind::Timeout,
            TransportError::Tls(_) => ErrorKind::Tls,
            TransportError::Auth(_) => ErrorKind::Auth,
            TransportError::Kerberos(f) if f.is_unreachable() => ErrorKind::Unreachable,
            TransportError::Kerberos(_) => ErrorKind::Auth,
            TransportError::Protocol(_) | TransportError::Local(_) => ErrorKind::Protocol,
            TransportError::Config(_) => ErrorKind::Config,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tls_failures_tell_the_operator_what_to_do() {
        assert!(TlsFailure::UnknownAuthority.to_string().contains("ca_file"));
        assert!(
            TlsFailure::UnknownAuthority
                .to_string()
                .contains("cert_thumbprint")
        );
        assert!(
            TlsFailure::ThumbprintMismatch
                .to_string()
                .contains("cert_thumbprint")
        );
        assert!(TlsFailure::NameMismatch.to_string().contains("listener"));
        assert!(TlsFailure::Expired.to_string().contains("renew"));
    }

    #[test]
    fn protocol_kinds_keep_the_words_operators_saw() {
        for (err, text) in [
            (
                ProtocolError::NoChallenge { status: 200 },
                "protocol error: expected 401 with an NTLM challenge, got HTTP 200",
            ),
            (
                ProtocolError::UnsealedLength {
                    actual: 3,
                    announced: 4,
                },
                "protocol error: unsealed reply is 3 bytes, Length= said 4",
            ),
            (
                ProtocolError::Framing(SealingError::BadLength),
                "protocol error: encrypted body: bad Length= value",
            ),
        ] {
            let e = TransportError::from(err);
            assert_eq!(e.to_string(), text);
            assert_eq!(e.kind(), ErrorKind::Protocol);
        }
    }

    /// The typed kinds print what the strings they replaced printed.
    #[test]
    fn auth_and_config_kinds_keep_the_words_operators_saw() {
        let cases = [
            (
                TransportError::Auth(AuthFailure::NoChallenge),
                "authentication failed: the host answered our NTLM NEGOTIATE without a \
                 challenge; NTLM may be disabled on it",
            ),
            (
                TransportError::Auth(AuthFailure::NegotiateNotOffered {
                    offered: "Basic".into(),
                }),
                "authentication failed: the host does not offer Negotiate authentication (it \
                 offers: Basic); enable it with `winrm set winrm/config/service/auth \
                 @{Negotiate=\"true\"}`",
            ),
            (
                TransportError::Auth(AuthFailure::Refused {
                    account: "CONTOSO\\svc".into(),
                }),
                "authentication failed: the host refused CONTOSO\\svc: wrong user name or \
                 password, or the account may not use WinRM (it must be in Administrators or \
                 Remote Management Users)",
            ),
            (
                TransportError::Config(ConfigFailure::KerberosNeedsDnsName {
                    host: "10.0.0.5".into(),
                }),
                "configuration: auth = \"kerberos\" needs the host's DNS name in `address` (it \
                 is 10.0.0.5); use `connect_to` to dial an IP address",
            ),
            (
                TransportError::Config(ConfigFailure::CaFileEmpty {
                    path: "ca.pem".into(),
                }),
                "configuration: ca_file ca.pem: no PEM certificate in it",
            ),
            (
                TransportError::Config(ConfigFailure::ServerName("a b".into())),
                "configuration: \"a b\" is not a valid TLS server name",
            ),
            (
                TransportError::Config(ConfigFailure::UserName("empty".into())),
                "configuration: user name: empty",
            ),
        ];
        for (err, want) in cases {
            assert_eq!(err.to_string(), want);
        }
    }

    #[test]
    fn every_variant_maps_to_its_kind() {
        let cases = [
            (
                TransportError::Unreachable {
                    addr: "a".into(),
                    reason: "r".into(),
                },
                ErrorKind::Unreachable,
            ),
            (
                TransportError::NameNotResolved {
                    host: "h".into(),
                    reason: "r".into(),
                },
                ErrorKind::NameNotResolved,
            ),
            (
                TransportError::timeout("connect", std::time::Duration::from_secs(1)),
                ErrorKind::Timeout,
            ),
            (TransportError::Tls(TlsFailure::Expired), ErrorKind::Tls),
            (
                TransportError::Auth(AuthFailure::SessionDropped),
                ErrorKind::Auth,
            ),
            (
                TransportError::Protocol(ProtocolError::PlaintextReply),
                ErrorKind::Protocol,
            ),
            (
                TransportError::Local(LocalError::NoSession),
                ErrorKind::Protocol,
            ),
            (
                TransportError::Config(ConfigFailure::HttpsWithoutTls),
                ErrorKind::Config,
            ),
        ];
        for (err, kind) in cases {
            assert_eq!(err.kind(), kind, "{err}");
        }
    }
}
