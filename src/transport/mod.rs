//! Layer 1: one TCP (or TLS) connection to one host, HTTP/1.1 keep-alive,
//! Negotiate/NTLM authentication bound to that connection, and WinRM message
//! sealing. Knows nothing of SOAP beyond "a body goes out, a body comes back".
//!
//! OWNER NOTE (skeleton): the public API below is the contract used by
//! `wsman`; implementations live in sibling files.

mod config;
mod error;

pub use config::{Credentials, Encryption, Scheme, Target, Timeouts, TlsOptions, TransportConfig};
pub use error::{TlsFailure, TransportError};

use bytes::Bytes;
use std::sync::Arc;

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
}

/// One authenticated connection to one host. Owns its socket: NTLM binds
/// the authentication (and the sealing keys) to it.
pub struct Connection {
    cfg: Arc<TransportConfig>,
    stats: Stats,
}

impl Connection {
    /// Prepares a connection; the socket is opened and authenticated lazily
    /// on the first `send` (so authentication can share a round trip with
    /// the first request).
    pub fn new(cfg: Arc<TransportConfig>) -> Self {
        Connection {
            cfg,
            stats: Stats::default(),
        }
    }

    /// Sends one SOAP envelope and returns the reply, authenticating,
    /// sealing and unsealing as configured. Reconnects (and re-authenticates)
    /// at most once when the kept-alive socket turns out to be closed.
    pub async fn send(&mut self, soap: Bytes) -> Result<Reply, TransportError> {
        let _ = (&self.cfg, soap);
        Err(TransportError::NotImplemented)
    }

    pub fn config(&self) -> &TransportConfig {
        &self.cfg
    }

    pub fn stats(&self) -> Stats {
        self.stats
    }

    /// Closes the socket politely (no more requests will be sent).
    pub async fn close(&mut self) {}
}
