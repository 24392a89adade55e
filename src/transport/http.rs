//! One HTTP/1.1 connection (TCP or TLS) via `hyper::client::conn::http1`:
//! connect, one request/response exchange at a time, byte counting. No
//! authentication here; `mod.rs` drives the legs.

use super::config::{Scheme, TransportConfig};
use super::error::{ConfigFailure, ProtocolError, TransportError};
use super::tls;
use bytes::Bytes;
use http::{HeaderMap, Request};
use http_body_util::{BodyExt, Full, Limited};
use hyper::client::conn::http1::SendRequest;
use hyper_util::rt::TokioIo;
use rustls::ClientConfig;
use std::io;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::task::{Context, Poll};
use std::time::Duration;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::task::JoinHandle;

/// Socket byte counters, shared with the IO wrapper.
#[derive(Debug, Default)]
pub struct Counters {
    pub bytes_out: AtomicU64,
    pub bytes_in: AtomicU64,
}

/// A reply as received: status, headers, whole body (size-capped).
#[derive(Debug)]
pub struct HttpReply {
    pub status: u16,
    pub headers: HeaderMap,
    pub body: Bytes,
}

impl HttpReply {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    pub fn header_all<'a>(&'a self, name: &'a str) -> impl Iterator<Item = &'a str> + 'a {
        self.headers
            .get_all(name)
            .iter()
            .filter_map(|v| v.to_str().ok())
    }
}

/// Why an exchange failed: `Dropped` means no response byte arrived and
/// the socket is gone, so the request may be replayed on a new
/// connection; anything else is final.
#[derive(Debug)]
pub enum ExchangeError {
    Dropped(String),
    Fatal(TransportError),
}

pub struct HttpConn {
    sender: SendRequest<Full<Bytes>>,
    /// The task running hyper's connection; `None` once `close` took it.
    driver: Option<JoinHandle<()>>,
    /// `host:port` (or the `connect_to` address), for error messages.
    addr: String,
    /// The server's leaf certificate (DER) over TLS, for channel binding.
    pub peer_cert: Option<Vec<u8>>,
    /// Set when the server said `Connection: close`.
    closing: bool,
}

impl HttpConn {
    /// Opens the socket (and TLS) within the connect timeout.
    pub async fn connect(
        cfg: &TransportConfig,
        tls_config: Option<&Arc<ClientConfig>>,
        counters: Arc<Counters>,
    ) -> Result<HttpConn, TransportError> {
        let limit = cfg.timeouts.connect;
        tokio::time::timeout(limit, Self::connect_inner(cfg, tls_config, counters))
            .await
            .map_err(|_| TransportError::timeout("connect", limit))?
    }

    async fn connect_inner(
        cfg: &TransportConfig,
        tls_config: Option<&Arc<ClientConfig>>,
        counters: Arc<Counters>,
    ) -> Result<HttpConn, TransportError> {
        let target = &cfg.target;
        let addr_text = target.dial_text();
        let unreachable = |e: io::Error| TransportError::Unreachable {
            addr: addr_text.clone(),
            reason: e.to_string(),
        };
        let (tcp, _) = super::dial::dial(target).await?;
        // Small request/response exchanges: don't wait for Nagle.
        let _ = tcp.set_nodelay(true);
        let tcp = Counted {
            inner: tcp,
            counters,
        };

        match (target.scheme, tls_config) {
            (Scheme::Http, _) => Self::handshake(tcp, None, addr_text.clone()).await,
            (Scheme::Https, Some(tls_config)) => {
                let name = tls::server_name(target.host())?;
                let connector = tokio_rustls::TlsConnector::from(tls_config.clone());
                let stream =
                    connector
                        .connect(name, tcp)
                        .await
                        .map_err(|e| match tls::classify_io(&e) {
                            Some(failure) => TransportError::Tls(failure),
                            None => unreachable(e),
                        })?;
                let peer_cert = stream
                    .get_ref()
                    .1
                    .peer_certificates()
                    .and_then(|c| c.first())
                    .map(|c| c.as_ref().to_vec());
                Self::handshake(stream, peer_cert, addr_text.clone()).await
            }
            (Scheme::Https, None) => Err(TransportError::Config(ConfigFailure::HttpsWithoutTls)),
        }
    }

    async fn handshake<S>(
        stream: S,
        peer_cert: Option<Vec<u8>>,
        addr: String,
    ) -> Result<HttpConn, TransportError>
    where
        S: AsyncRead + AsyncWrite + Unpin + Send + 'static,
    {
        // Title-Case header names, as the Windows and Python clients send.
        let (sender, conn) = hyper::client::conn::http1::Builder::new()
            .title_case_headers(true)
            .handshake(TokioIo::new(stream))
            .await
            .map_err(|e| ProtocolError::HttpHandshake(e.to_string()))?;
        let driver = tokio::spawn(async move {
            if let Err(e) = conn.await {
                tracing::debug!("HTTP connection ended: {e}");
            }
        });
        Ok(HttpConn {
            sender,
            driver: Some(driver),
            addr,
            peer_cert,
            closing: false,
        })
    }

    /// Whether another request may be sent on this socket.
    pub fn is_usable(&self) -> bool {
        !self.closing && !self.sender.is_closed()
    }

    /// One request and its whole reply, within `limit`.
    pub async fn exchange(
        &mut self,
        req: Request<Full<Bytes>>,
        max_body: usize,
        limit: Duration,
    ) -> Result<HttpReply, ExchangeError> {
        match tokio::time::timeout(limit, self.exchange_inner(req, max_body)).await {
            Ok(r) => r,
            Err(_) => Err(ExchangeError::Fatal(TransportError::timeout(
                "request", limit,
            ))),
        }
    }

    async fn exchange_inner(
        &mut self,
        req: Request<Full<Bytes>>,
        max_body: usize,
    ) -> Result<HttpReply, ExchangeError> {
        if self.closing {
            return Err(ExchangeError::Dropped(
                "server closed the connection".into(),
            ));
        }
        self.sender
            .ready()
            .await
            .map_err(|e| ExchangeError::Dropped(format!("connection closed: {e}")))?;
        let resp = self.sender.send_request(req).await.map_err(classify_send)?;
        let (parts, body) = resp.into_parts();
        if let Some(len) = parts
            .headers
            .get(http::header::CONTENT_LENGTH)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.trim().parse::<u64>().ok())
            && len > max_body as u64
        {
            self.closing = true;
            return Err(ExchangeError::Fatal(too_big(max_body)));
        }
        let body = Limited::new(body, max_body).collect().await.map_err(|e| {
            self.closing = true;
            if e.downcast_ref::<http_body_util::LengthLimitError>()
                .is_some()
            {
                ExchangeError::Fatal(too_big(max_body))
            } else {
                ExchangeError::Fatal(TransportError::Unreachable {
                    addr: self.addr.clone(),
                    reason: format!("connection lost while reading the reply body: {e}"),
                })
            }
        })?;
        let wants_close = parts
            .headers
            .get_all(http::header::CONNECTION)
            .iter()
            .filter_map(|v| v.to_str().ok())
            .any(|v| v.split(',').any(|t| t.trim().eq_ignore_ascii_case("close")));
        if wants_close {
            self.closing = true;
        }
        Ok(HttpReply {
            status: parts.status.as_u16(),
            headers: parts.headers,
            body: body.to_bytes(),
        })
    }

    /// Lets the connection task finish (it closes the socket once the
    /// sender is gone), giving up after a moment.
    pub async fn close(mut self) {
        let driver = self.driver.take();
        drop(self);
        if let Some(driver) = driver {
            let abort = driver.abort_handle();
            if tokio::time::timeout(Duration::from_secs(1), driver)
                .await
                .is_err()
            {
                abort.abort();
            }
        }
    }
}

impl Drop for HttpConn {
    fn drop(&mut self) {
        // Dropped mid-exchange (timeout, error): the peer may never answer,
        // so stop the connection task rather than leave it waiting.
        if let Some(driver) = self.driver.take() {
            driver.abort();
        }
    }
}

fn too_big(max: usize) -> TransportError {
    ProtocolError::ReplyTooLarge(max).into()
}

fn classify_send(e: hyper::Error) -> ExchangeError {
    if e.is_parse() {
        return ExchangeError::Fatal(ProtocolError::MalformedHttp(e.to_string()).into());
    }
    // The peer closed (or reset) before any response byte: the kept-alive
    // socket went stale, so one replay on a fresh connection is safe (every
    // request we send is a read).
    ExchangeError::Dropped(format!("connection closed before the reply: {e}"))
}

/// Counts the bytes that cross the socket (TLS records and headers
/// included) for `Stats`.
struct Counted<S> {
    inner: S,
    counters: Arc<Counters>,
}

impl<S: AsyncRead + Unpin> AsyncRead for Counted<S> {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let before = buf.filled().len();
        let r = Pin::new(&mut self.inner).poll_read(cx, buf);
        let n = buf.filled().len().saturating_sub(before);
        self.counters
            .bytes_in
            .fetch_add(n as u64, Ordering::Relaxed);
        r
    }
}

impl<S: AsyncWrite + Unpin> AsyncWrite for Counted<S> {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        let r = Pin::new(&mut self.inner).poll_write(cx, buf);
        if let Poll::Ready(Ok(n)) = &r {
            self.counters
                .bytes_out
                .fetch_add(*n as u64, Ordering::Relaxed);
        }
        r
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_shutdown(cx)
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        let r = Pin::new(&mut self.inner).poll_write_vectored(cx, bufs);
        if let Poll::Ready(Ok(n)) = &r {
            self.counters
                .bytes_out
                .fetch_add(*n as u64, Ordering::Relaxed);
        }
        r
    }

    fn is_write_vectored(&self) -> bool {
        self.inner.is_write_vectored()
    }
}
