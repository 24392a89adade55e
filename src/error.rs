//! Failure kinds shared by every layer. Each layer has its own typed error
//! (`thiserror`) and maps it to one of these kinds, which is what the store
//! records, the export prints and `check` uses to pick a remedy.

use std::fmt;

/// Why a host failed, as stored and exported (`shared/spec/export.md`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ErrorKind {
    /// TCP connect failed: connection refused, reset, no route.
    Unreachable,
    /// The host's name does not resolve (DNS, hosts file); nothing was sent.
    NameNotResolved,
    /// Connect, request or whole-host deadline expired; WS-Man TimedOut.
    Timeout,
    /// Authentication refused (wrong password, unsupported scheme, bad token).
    Auth,
    /// TLS handshake or certificate verification failed.
    Tls,
    /// Authenticated, but the account may not read (WS-Man / WMI access denied).
    AccessDenied,
    /// The WMI namespace (or class) does not exist on the host.
    Namespace,
    /// The peer spoke something other than the protocol we expect.
    Protocol,
    /// Our own configuration is wrong; nothing was contacted.
    Config,
}

impl ErrorKind {
    pub const ALL: [ErrorKind; 9] = [
        ErrorKind::Unreachable,
        ErrorKind::NameNotResolved,
        ErrorKind::Timeout,
        ErrorKind::Auth,
        ErrorKind::Tls,
        ErrorKind::AccessDenied,
        ErrorKind::Namespace,
        ErrorKind::Protocol,
        ErrorKind::Config,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            ErrorKind::Unreachable => "unreachable",
            ErrorKind::NameNotResolved => "name_not_resolved",
            ErrorKind::Timeout => "timeout",
            ErrorKind::Auth => "auth",
            ErrorKind::Tls => "tls",
            ErrorKind::AccessDenied => "access_denied",
            ErrorKind::Namespace => "namespace",
            ErrorKind::Protocol => "protocol",
            ErrorKind::Config => "config",
        }
    }

    pub fn parse(s: &str) -> Option<ErrorKind> {
        ErrorKind::ALL.into_iter().find(|k| k.as_str() == s)
    }

    /// Connection-level failures worth one retry with back-off.
    pub fn is_retryable(self) -> bool {
        matches!(self, ErrorKind::Unreachable | ErrorKind::Timeout)
    }
}

impl fmt::Display for ErrorKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Anything that can say which kind of failure it is.
pub trait HasKind {
    fn kind(&self) -> ErrorKind;
}
