//! `Simulator`: starts every host's listeners on the simulator's own tokio
//! runtime (so its CPU time can be measured apart from the client's).

use super::certs::CertAuthority;
use super::estate::Estate;
use super::ntlm::Account;
use super::server::{self, Shared};
use super::{LoggedRequest, SimConfig, SimEndpoint, SimError, SimStats};
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;

pub struct Simulator {
    shared: Arc<Shared>,
    runtime: Option<tokio::runtime::Runtime>,
    endpoints: Vec<SimEndpoint>,
}

impl std::fmt::Debug for Simulator {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Simulator")
            .field("hosts", &self.endpoints.len())
            .finish()
    }
}

/// Raises the soft open-files limit to the hard limit: 5,000 hosts need
/// 10,000 listening sockets before a single client connects.
fn raise_nofile_limit() {
    let mut lim = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: valid out-pointer; RLIMIT_NOFILE is a valid resource.
    unsafe {
        if libc::getrlimit(libc::RLIMIT_NOFILE, &mut lim) == 0 && lim.rlim_cur < lim.rlim_max {
            lim.rlim_cur = lim.rlim_max;
            libc::setrlimit(libc::RLIMIT_NOFILE, &lim);
        }
    }
}

/// Address of host `index`: `base + index`, carrying across octets.
pub fn host_ip(base: Ipv4Addr, index: usize) -> Result<Ipv4Addr, SimError> {
    let n = u32::try_from(index).map_err(|_| SimError::AddressRange { index })?;
    let ip = u32::from(base)
        .checked_add(n)
        .ok_or(SimError::AddressRange { index })?;
    let ip = Ipv4Addr::from(ip);
    // Stay inside loopback when starting in loopback.
    if base.is_loopback() && !ip.is_loopback() {
        return Err(SimError::AddressRange { index });
    }
    Ok(ip)
}

fn bind(addr: SocketAddr) -> Result<std::net::TcpListener, SimError> {
    let l = std::net::TcpListener::bind(addr).map_err(|source| SimError::Bind { addr, source })?;
    l.set_nonblocking(true)
        .map_err(|source| SimError::Bind { addr, source })?;
    Ok(l)
}

/// For a host that refuses connections: an address where nothing listens.
fn dead_address(ip: IpAddr, port: u16) -> Result<SocketAddr, SimError> {
    if port != 0 {
        return Ok(SocketAddr::new(ip, port));
    }
    let l = bind(SocketAddr::new(ip, 0))?;
    l.local_addr().map_err(|source| SimError::Bind {
        addr: SocketAddr::new(ip, 0),
        source,
    })
}

impl Simulator {
    pub async fn start(cfg: SimConfig) -> Result<Simulator, SimError> {
        raise_nofile_limit();
        let estate: Estate = cfg.estate;
        let ips = (0..estate.hosts.len())
            .map(|i| host_ip(cfg.base_address, i).map(IpAddr::V4))
            .collect::<Result<Vec<_>, _>>()?;
        let accounts = cfg
            .users
            .iter()
            .map(|u| Account::parse(&u.account, &u.password))
            .collect();
        let ca = CertAuthority::new()?;
        let shared = Arc::new(Shared::new(
            estate.clone(),
            accounts,
            cfg.latency,
            cfg.page_size,
            cfg.log_requests,
            ips.clone(),
            ca,
        ));
        let (on_start, on_stop) = (Arc::clone(&shared), Arc::clone(&shared));
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(cfg.threads.max(1))
            .thread_name("hvinv-sim")
            .enable_all()
            .on_thread_start(move || on_start.counters.thread_started())
            .on_thread_stop(move || on_stop.counters.thread_stopping())
            .build()
            .map_err(|e| SimError::Config(format!("cannot start the simulator runtime: {e}")))?;
        let mut endpoints = Vec::with_capacity(estate.hosts.len());
        for (index, (host, ip)) in estate.hosts.iter().zip(&ips).enumerate() {
            let ip = *ip;
            let (http, https) = if host.faults.refuse_connections {
                let http = dead_address(ip, cfg.http_port)?;
                let https = cfg.https_port.map(|p| dead_address(ip, p)).transpose()?;
                (http, https)
            } else {
                let l = bind(SocketAddr::new(ip, cfg.http_port))?;
                let http = l.local_addr().map_err(|source| SimError::Bind {
                    addr: SocketAddr::new(ip, cfg.http_port),
                    source,
                })?;
                let mut listeners = vec![(l, false)];
                let https = match cfg.https_port {
                    Some(p) => {
                        let l = bind(SocketAddr::new(ip, p))?;
                        let a = l.local_addr().map_err(|source| SimError::Bind {
                            addr: SocketAddr::new(ip, p),
                            source,
                        })?;
                        listeners.push((l, true));
                        Some(a)
                    }
                    None => None,
                };
                let _guard = runtime.enter();
                for (l, tls) in listeners {
                    let addr = l.local_addr().ok();
                    let l =
                        tokio::net::TcpListener::from_std(l).map_err(|source| SimError::Bind {
                            addr: addr.unwrap_or(SocketAddr::new(ip, 0)),
                            source,
                        })?;
                    runtime.spawn(server::accept_loop(Arc::clone(&shared), index, l, tls));
                }
                (http, https)
            };
            endpoints.push(SimEndpoint {
                host_name: host.name.clone(),
                ip,
                http,
                https,
                tls_name: host.fqdn(),
            });
        }
        Ok(Simulator {
            shared,
            runtime: Some(runtime),
            endpoints,
        })
    }

    /// One per estate host, in estate order.
    pub fn endpoints(&self) -> Vec<SimEndpoint> {
        self.endpoints.clone()
    }

    pub fn ca_pem(&self) -> String {
        self.shared.ca.ca_pem().to_string()
    }

    pub fn ca_der(&self) -> Vec<u8> {
        self.shared.ca.ca_der().to_vec()
    }

    /// SHA-1 thumbprint of host `host_index`'s certificate (upper-case hex,
    /// as `Get-ChildItem Cert:` shows it); empty if it cannot be made.
    pub fn cert_thumbprint_sha1(&self, host_index: usize) -> String {
        self.shared
            .tls_for(host_index)
            .map(|b| b.thumbprint_sha1.clone())
            .unwrap_or_default()
    }

    /// Requests seen so far (only when `SimConfig::log_requests`).
    pub fn request_log(&self) -> Vec<LoggedRequest> {
        self.shared.request_log()
    }

    /// Switches to another estate generation; the next requests see it.
    /// Hosts are matched by position, so keep the same host list; listeners
    /// and certificates stay as they were started.
    pub fn set_estate(&self, estate: Estate) {
        self.shared.set_estate(estate);
    }

    pub fn stats(&self) -> SimStats {
        self.shared.counters.snapshot()
    }

    pub async fn shutdown(mut self) {
        if let Some(rt) = self.runtime.take() {
            if tokio::runtime::Handle::try_current().is_ok() {
                let _ = tokio::task::spawn_blocking(move || {
                    rt.shutdown_timeout(Duration::from_secs(2))
                })
                .await;
            } else {
                rt.shutdown_timeout(Duration::from_secs(2));
            }
        }
    }
}

impl Drop for Simulator {
    fn drop(&mut self) {
        if let Some(rt) = self.runtime.take() {
            // Safe inside an async context, unlike dropping the runtime.
            rt.shutdown_background();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn host_addresses_carry_across_octets_and_stay_in_loopback() {
        let base = Ipv4Addr::new(127, 0, 10, 1);
        assert_eq!(host_ip(base, 0).unwrap(), base);
        assert_eq!(host_ip(base, 255).unwrap(), Ipv4Addr::new(127, 0, 11, 0));
        assert_eq!(host_ip(base, 5000).unwrap(), Ipv4Addr::new(127, 0, 29, 137));
        assert!(host_ip(Ipv4Addr::new(127, 255, 255, 254), 2).is_err());
    }
}
