//! Listeners and shared server state: one accept task per listener socket,
//! one hyper HTTP/1.1 connection task per accepted socket.

mod body;
pub mod cache;
mod conn;
pub mod stats;
mod wsman;

use crate::simulator::LoggedRequest;
use crate::simulator::certs::{self, CertAuthority};
use crate::simulator::estate::Estate;
use crate::simulator::ntlm::Account;
use cache::Generation;
use conn::{ConnInfo, ConnState};
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper_util::rt::{TokioIo, TokioTimer};
use stats::{Counters, add};
use std::net::IpAddr;
use std::sync::{Arc, Mutex, OnceLock, RwLock};
use std::time::Duration;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite};
use tokio::net::{TcpListener, TcpStream};

/// Bound on the request log (a long `hvinv simulate` run must not grow
/// without end).
const MAX_LOG: usize = 1_000_000;
const TLS_HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(10);
/// How long an idle kept-alive connection may wait for its next request.
const IDLE_TIMEOUT: Duration = Duration::from_secs(120);
/// Longest a stalled connection is held open.
const STALL_HOLD: Duration = Duration::from_secs(600);

/// A host's TLS material, made on first use.
pub struct TlsBundle {
    pub acceptor: tokio_rustls::TlsAcceptor,
    pub cert_hash: [u8; 32],
    pub thumbprint_sha1: String,
}

pub struct HostSlot {
    pub ip: IpAddr,
    pub tls: OnceLock<Result<Arc<TlsBundle>, String>>,
}

pub struct Shared {
    generation: RwLock<Arc<Generation>>,
    pub accounts: Vec<Account>,
    pub latency: Duration,
    pub page_size: usize,
    pub log_requests: bool,
    log: Mutex<Vec<LoggedRequest>>,
    pub counters: Counters,
    pub hosts: Vec<HostSlot>,
    pub ca: CertAuthority,
}

impl Shared {
    pub fn new(
        estate: Estate,
        accounts: Vec<Account>,
        latency: Duration,
        page_size: usize,
        log_requests: bool,
        ips: Vec<IpAddr>,
        ca: CertAuthority,
    ) -> Self {
        Shared {
            generation: RwLock::new(Arc::new(Generation::new(estate))),
            accounts,
            latency,
            page_size: page_size.max(1),
            log_requests,
            log: Mutex::new(Vec::new()),
            counters: Counters::default(),
            hosts: ips
                .into_iter()
                .map(|ip| HostSlot {
                    ip,
                    tls: OnceLock::new(),
                })
                .collect(),
            ca,
        }
    }

    pub fn current(&self) -> Arc<Generation> {
        match self.generation.read() {
            Ok(g) => Arc::clone(&g),
            Err(poisoned) => Arc::clone(&poisoned.into_inner()),
        }
    }

    pub fn set_estate(&self, estate: Estate) {
        let g = Arc::new(Generation::new(estate));
        match self.generation.write() {
            Ok(mut w) => *w = g,
            Err(poisoned) => *poisoned.into_inner() = g,
        }
    }

    pub fn record(&self, entry: LoggedRequest) {
        if self.log_requests
            && let Ok(mut l) = self.log.lock()
            && l.len() < MAX_LOG
        {
            l.push(entry);
        }
    }

    pub fn request_log(&self) -> Vec<LoggedRequest> {
        self.log.lock().map(|l| l.clone()).unwrap_or_default()
    }

    /// The host's TLS bundle, generated on first use from the estate's
    /// certificate mode at that moment.
    pub fn tls_for(&self, index: usize) -> Result<Arc<TlsBundle>, String> {
        let slot = self.hosts.get(index).ok_or("no such host")?;
        slot.tls
            .get_or_init(|| {
                let generation = self.current();
                let host = generation.estate.hosts.get(index).ok_or("no such host")?;
                let cert = self
                    .ca
                    .leaf(index, &host.fqdn(), slot.ip, host.faults.tls)
                    .map_err(|e| e.to_string())?;
                let cfg = certs::server_config(&cert).map_err(|e| e.to_string())?;
                Ok(Arc::new(TlsBundle {
                    acceptor: tokio_rustls::TlsAcceptor::from(Arc::new(cfg)),
                    cert_hash: cert.end_point_hash(),
                    thumbprint_sha1: cert.thumbprint_sha1(),
                }))
            })
            .clone()
    }
}

/// Accepts connections on one listener until the runtime shuts down.
pub async fn accept_loop(shared: Arc<Shared>, index: usize, listener: TcpListener, tls: bool) {
    loop {
        let stream = match listener.accept().await {
            Ok((s, _)) => s,
            Err(_) => {
                // Out of descriptors or a transient error: back off briefly.
                tokio::time::sleep(Duration::from_millis(20)).await;
                continue;
            }
        };
        add(&shared.counters.connections, 1);
        let _ = stream.set_nodelay(true);
        tokio::spawn(connection(Arc::clone(&shared), index, stream, tls));
    }
}

async fn connection(shared: Arc<Shared>, index: usize, stream: TcpStream, tls: bool) {
    let Some(ip) = shared.hosts.get(index).map(|h| h.ip) else {
        return;
    };
    let stall = shared
        .current()
        .estate
        .hosts
        .get(index)
        .is_some_and(|h| h.faults.stall);
    if stall {
        hold(stream).await;
        return;
    }
    if tls {
        let Ok(bundle) = shared.tls_for(index) else {
            return;
        };
        let accepted =
            tokio::time::timeout(TLS_HANDSHAKE_TIMEOUT, bundle.acceptor.accept(stream)).await;
        let Ok(Ok(tls_stream)) = accepted else { return };
        add(&shared.counters.tls_handshakes, 1);
        let info = ConnInfo {
            host_index: index,
            ip,
            tls_cert_hash: Some(bundle.cert_hash),
        };
        serve(shared, info, tls_stream).await;
    } else {
        let info = ConnInfo {
            host_index: index,
            ip,
            tls_cert_hash: None,
        };
        serve(shared, info, stream).await;
    }
}

/// A stalled host: read and discard until the peer gives up.
async fn hold(mut stream: TcpStream) {
    let mut buf = [0u8; 4096];
    let _ = tokio::time::timeout(STALL_HOLD, async {
        while let Ok(n) = stream.read(&mut buf).await {
            if n == 0 {
                break;
            }
        }
    })
    .await;
}

async fn serve<IO>(shared: Arc<Shared>, info: ConnInfo, io: IO)
where
    IO: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    let state = Arc::new(Mutex::new(ConnState::default()));
    let svc =
        service_fn(move |req| conn::handle(Arc::clone(&shared), info, Arc::clone(&state), req));
    let conn = http1::Builder::new()
        .keep_alive(true)
        .timer(TokioTimer::new())
        .header_read_timeout(IDLE_TIMEOUT)
        .serve_connection(TokioIo::new(io), svc);
    let _ = conn.await;
}
