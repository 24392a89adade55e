//! Errors of the simulator itself (start-up), not of the simulated hosts.

use crate::error::{ErrorKind, HasKind};

#[derive(Debug, thiserror::Error)]
pub enum SimError {
    #[error("cannot listen on {addr}: {source}")]
    Bind {
        addr: std::net::SocketAddr,
        #[source]
        source: std::io::Error,
    },
    #[error("address space exhausted: host {index} past 127.255.255.255")]
    AddressRange { index: usize },
    #[error("certificate generation failed: {0}")]
    Certificate(String),
    #[error("TLS configuration failed: {0}")]
    Tls(String),
    #[error("invalid simulator configuration: {0}")]
    Config(String),
}

impl HasKind for SimError {
    fn kind(&self) -> ErrorKind {
        match self {
            SimError::Bind { .. } => ErrorKind::Unreachable,
            SimError::Certificate(_) | SimError::Tls(_) => ErrorKind::Tls,
            SimError::AddressRange { .. } | SimError::Config(_) => ErrorKind::Config,
        }
    }
}
