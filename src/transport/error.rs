//! Transport failures, each mapped to a stored `ErrorKind`.

use crate::error::{ErrorKind, HasKind};

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
    /// Anything else (handshake failure, no shared cipher suite...).
    Other(String),
}

#[derive(Debug, thiserror::Error)]
pub enum TransportError {
    #[error("not implemented yet")]
    NotImplemented,
    #[error("cannot connect to {addr}: {reason}")]
    Unreachable { addr: String, reason: String },
    #[error("{what} timed out after {secs:.1} s")]
    Timeout { what: &'static str, secs: f64 },
    #[error("TLS: {0:?}")]
    Tls(TlsFailure),
    #[error("authentication failed: {0}")]
    Auth(String),
    #[error("protocol error: {0}")]
    Protocol(String),
}

impl HasKind for TransportError {
    fn kind(&self) -> ErrorKind {
        match self {
            TransportError::NotImplemented => ErrorKind::Protocol,
            TransportError::Unreachable { .. } => ErrorKind::Unreachable,
            TransportError::Timeout { .. } => ErrorKind::Timeout,
            TransportError::Tls(_) => ErrorKind::Tls,
            TransportError::Auth(_) => ErrorKind::Auth,
            TransportError::Protocol(_) => ErrorKind::Protocol,
        }
    }
}
