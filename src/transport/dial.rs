//! Opening the TCP socket: `connect_to` when set, else the target's name
//! resolved, then each resolved address in turn. A name that does not
//! resolve is its own error (`NameNotResolved`), not "unreachable".

use super::config::Target;
use super::error::TransportError;
use std::net::SocketAddr;
use tokio::net::TcpStream;

/// Connects to `target` (no timeout here: callers bound it).
pub(crate) async fn dial(target: &Target) -> Result<(TcpStream, SocketAddr), TransportError> {
    let candidates: Vec<SocketAddr> = match target.connect_to {
        Some(sa) => vec![sa],
        None => resolve(target).await?,
    };
    let mut last = None;
    for sa in candidates {
        match TcpStream::connect(sa).await {
            Ok(s) => return Ok((s, sa)),
            Err(e) => last = Some(e),
        }
    }
    Err(TransportError::Unreachable {
        addr: target.dial_text(),
        reason: last.map_or_else(|| "no address to connect to".to_string(), |e| e.to_string()),
    })
}

async fn resolve(target: &Target) -> Result<Vec<SocketAddr>, TransportError> {
    let host = target.host();
    let not_resolved = |reason: String| TransportError::NameNotResolved {
        host: host.to_string(),
        reason,
    };
    let addrs: Vec<SocketAddr> = tokio::net::lookup_host((host, target.port()))
        .await
        .map_err(|e| not_resolved(e.to_string()))?
        .collect();
    if addrs.is_empty() {
        return Err(not_resolved("the name has no address".into()));
    }
    Ok(addrs)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::{ErrorKind, HasKind};
    use crate::transport::Scheme;

    #[tokio::test]
    async fn a_name_that_does_not_resolve_is_not_called_unreachable() {
        // `.invalid` never resolves (RFC 6761), with or without a network.
        let target = Target::on_default_port("hv01.hvinv-test.invalid", Scheme::Http).unwrap();
        let err = dial(&target).await.unwrap_err();
        assert_eq!(err.kind(), ErrorKind::NameNotResolved, "{err}");
        assert!(err.to_string().contains("hv01.hvinv-test.invalid"), "{err}");
    }

    #[tokio::test]
    async fn a_closed_port_is_unreachable() {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let sa = listener.local_addr().unwrap();
        drop(listener);
        let mut target = Target::on_default_port("127.0.0.1", Scheme::Http).unwrap();
        target.set_port(sa.port());
        let err = dial(&target).await.unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Unreachable, "{err}");
    }
}
