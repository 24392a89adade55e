//! The WinRM / Hyper-V simulator: the server side used by `hvinv demo`,
//! `hvinv simulate`, the integration tests and the benchmarks.
//!
//! It is deliberately independent of the client layers (transport, wsman,
//! inventory): its own NTLM acceptor and crypto, its own sealing framing, its
//! own XML writer and request parser, so a bug shared with the client cannot
//! hide.
//!
//! What the hosts do on the wire (decisions a client may rely on):
//! - HTTP: `401 WWW-Authenticate: Negotiate`, then raw NTLMSSP or SPNEGO
//!   (mechListMIC checked and answered); a failed logon gets a bare
//!   `Negotiate` 401 and `Connection: close`. Sealed requests get sealed
//!   replies (faults too, with 500); a plain body over HTTP gets a plain 500
//!   `w:AccessDenied` fault unless `HostFaults::allow_unencrypted`.
//! - WMI faults: `s:Sender`/`w:CannotProcessFilter`, `WSManFault Code`
//!   2150858778, and the WMI HRESULT (decimal) as the `Code` of the
//!   `ProviderFault`'s inner `WSManFault`: 0x80041010 invalid class,
//!   0x80041017 invalid query (also: a property the host's release lacks),
//!   0x8004100E invalid namespace; `vmms` stopped is `s:Receiver`/
//!   `w:InternalError` with 0x80041013. Access denied is `w:AccessDenied`,
//!   Code 5. Other actions: `a:ActionNotSupported`.
//! - Embedded instances (`MSCluster_Resource.PrivateProperties`) follow
//!   DSP0230: the property element carries `xsi:type="q:MSCluster_Property_Type"`
//!   and the embedded properties as `q:` children.
//! - `root/virtualization` (2008 R2) has no `VirtualSystemIdentifier`: its
//!   `Msvm_VirtualSystemSettingData` names the VM in `SystemName`, with
//!   `SettingType` 3 (current) / 5 (snapshot), as Microsoft documents.
//! - Pages hold at most `page_size` items, the client's `MaxElements`, and
//!   what fits its `MaxEnvelopeSize`; every Pull gets a new context.

mod certs;
mod classes;
mod error;
pub mod estate;
mod framing;
mod ntlm;
#[cfg(test)]
mod robustness_tests;
mod runner;
mod server;
mod soap;
#[cfg(test)]
mod wire_tests;
mod wql;

pub use error::SimError;
pub use estate::{
    Estate, HostFaults, HyperVNamespace, Locale, SimCheckpoint, SimCluster, SimCpu, SimHost, SimVm,
    TlsCertMode, VmState, WindowsRelease,
};
pub use runner::Simulator;

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::time::Duration;

/// An account the simulated hosts accept.
#[derive(Clone)]
pub struct SimUser {
    /// `DOMAIN\user` or a bare local user name.
    pub account: String,
    pub password: String,
}

impl std::fmt::Debug for SimUser {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SimUser")
            .field("account", &self.account)
            .field("password", &"<redacted>")
            .finish()
    }
}

/// Default account of `SimConfig::new`.
pub const DEFAULT_ACCOUNT: &str = "CONTOSO\\svc-inventory";
/// Default password of `SimConfig::new` (a simulator, not a secret).
pub const DEFAULT_PASSWORD: &str = "Sim-Passw0rd!";

#[derive(Debug, Clone)]
pub struct SimConfig {
    pub estate: Estate,
    /// Host i listens on `base_address + i` (carrying across octets).
    pub base_address: Ipv4Addr,
    /// 0 = a free port per host (tests).
    pub http_port: u16,
    /// `None` = no HTTPS listener; `Some(0)` = a free port per host.
    pub https_port: Option<u16>,
    /// Added before each HTTP response (simulated round trip).
    pub latency: Duration,
    pub users: Vec<SimUser>,
    /// Items per Enumerate/Pull response.
    pub page_size: usize,
    pub log_requests: bool,
    /// Worker threads of the simulator's own runtime.
    pub threads: usize,
}

impl SimConfig {
    pub fn new(estate: Estate) -> Self {
        SimConfig {
            estate,
            base_address: Ipv4Addr::new(127, 0, 10, 1),
            http_port: 5985,
            https_port: Some(5986),
            latency: Duration::ZERO,
            users: vec![SimUser {
                account: DEFAULT_ACCOUNT.to_string(),
                password: DEFAULT_PASSWORD.to_string(),
            }],
            page_size: 100,
            log_requests: false,
            threads: 2,
        }
    }
}

/// Where one simulated host listens.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SimEndpoint {
    pub host_name: String,
    pub ip: IpAddr,
    pub http: SocketAddr,
    pub https: Option<SocketAddr>,
    /// The DNS name in the host's certificate (its FQDN).
    pub tls_name: String,
}

/// One request as the simulator understood it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LoggedRequest {
    pub host_ip: IpAddr,
    /// The `wsa:Action` URI, `Identify`, or `unparsed`.
    pub action: String,
    pub resource_uri: Option<String>,
    pub filter: Option<String>,
    pub sealed: bool,
    pub tls: bool,
    pub authenticated_user: Option<String>,
}

/// Counters since start.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct SimStats {
    /// HTTP requests received (authentication legs included).
    pub requests: u64,
    /// SOAP requests answered (after authentication).
    pub soap_requests: u64,
    pub connections: u64,
    pub tls_handshakes: u64,
    /// Successful NTLM authentications.
    pub handshakes: u64,
    pub auth_failures: u64,
    /// HTTP body bytes received and sent (headers not counted).
    pub bytes_in: u64,
    pub bytes_out: u64,
    /// CPU time of the simulator's worker threads, when measurable.
    pub cpu_time: Option<Duration>,
}
