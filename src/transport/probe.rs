//! Unauthenticated probes, for `check`: can the address be reached, and
//! what does the WinRM listener offer before any credential is sent.

use super::config::{Scheme, Target, TransportConfig};
use super::error::{ConfigFailure, TransportError};
use super::http::{ExchangeError, HttpConn};
use super::www_authenticate::{self, Offer};
use super::{DEFAULT_MAX_BODY_BYTES, SOAP_CONTENT_TYPE, build_request, dial};
use bytes::Bytes;
use std::net::SocketAddr;
use std::time::Duration;

/// Opens (and closes) a TCP connection to the target within `limit`;
/// returns the address that answered.
pub async fn tcp(target: &Target, limit: Duration) -> Result<SocketAddr, TransportError> {
    match tokio::time::timeout(limit, dial::dial(target)).await {
        Ok(Ok((_stream, addr))) => Ok(addr),
        Ok(Err(e)) => Err(e),
        Err(_) => Err(TransportError::timeout("connect", limit)),
    }
}

/// What a listener answered to an unauthenticated, empty POST.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ListenerReply {
    pub status: u16,
    pub offers: Vec<Offer>,
}

impl ListenerReply {
    /// A WinRM listener refuses with 401 and offers Negotiate.
    pub fn offers_negotiate(&self) -> bool {
        self.status == 401 && www_authenticate::negotiate(&self.offers).is_some()
    }

    /// `Negotiate, Kerberos`, for messages.
    pub fn offer_list(&self) -> String {
        www_authenticate::scheme_list(&self.offers)
    }
}

/// Sends an empty POST to `/wsman` with no credential over plain HTTP and
/// returns the status and the `WWW-Authenticate` offers. HTTPS listeners
/// are not probed: the TLS handshake is the first thing they check.
pub async fn http_listener(cfg: &TransportConfig) -> Result<ListenerReply, TransportError> {
    if cfg.target.scheme != Scheme::Http {
        return Err(TransportError::Config(ConfigFailure::ProbeNeedsHttp));
    }
    let mut conn = HttpConn::connect(cfg, None, Default::default()).await?;
    let req = build_request(&cfg.target, Bytes::new(), Some(SOAP_CONTENT_TYPE), None)?;
    let reply = conn
        .exchange(req, DEFAULT_MAX_BODY_BYTES, cfg.timeouts.request)
        .await
        .map_err(|e| match e {
            ExchangeError::Fatal(e) => e,
            ExchangeError::Dropped(reason) => TransportError::Unreachable {
                addr: cfg.target.dial_text(),
                reason,
            },
        })?;
    conn.close().await;
    Ok(ListenerReply {
        status: reply.status,
        offers: www_authenticate::parse(reply.header_all("www-authenticate")),
    })
}
