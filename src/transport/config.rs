//! What a connection needs to know: where, who, how.

use secrecy::SecretString;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Scheme {
    Http,
    Https,
}

impl Scheme {
    pub fn default_port(self) -> u16 {
        match self {
            Scheme::Http => 5985,
            Scheme::Https => 5986,
        }
    }
}

/// HTTP body protection. Over HTTPS the TLS channel protects the body and
/// this setting is ignored.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Encryption {
    /// Seal every SOAP body over HTTP (works with AllowUnencrypted=false).
    Auto,
    /// Plain SOAP over HTTP; only when the operator says so explicitly.
    Never,
}

/// Where to connect. `host` is the name used for the `To` URL, the TLS
/// server name and the SPN (`WSMAN/<host>`); `connect_to` overrides the
/// socket address (tests, or a name that does not resolve locally).
#[derive(Debug, Clone)]
pub struct Target {
    pub host: String,
    pub port: u16,
    pub scheme: Scheme,
    pub connect_to: Option<SocketAddr>,
}

impl Target {
    /// `http://host:5985/wsman`
    pub fn url(&self) -> String {
        let scheme = match self.scheme {
            Scheme::Http => "http",
            Scheme::Https => "https",
        };
        if self.host.contains(':') && !self.host.starts_with('[') {
            format!("{scheme}://[{}]:{}/wsman", self.host, self.port)
        } else {
            format!("{scheme}://{}:{}/wsman", self.host, self.port)
        }
    }
}

/// Account to authenticate as. Accepts `DOMAIN\user`, `user@domain` and a
/// local `user`. The password never reaches `Debug` output.
#[derive(Clone)]
pub struct Credentials {
    pub username: String,
    pub domain: Option<String>,
    pub password: SecretString,
}

impl Credentials {
    /// Splits `DOMAIN\user` / `user@domain` / `user`.
    pub fn parse(account: &str, password: SecretString) -> Credentials {
        if let Some((domain, user)) = account.split_once('\\') {
            Credentials {
                username: user.to_string(),
                domain: Some(domain.to_string()).filter(|d| !d.is_empty()),
                password,
            }
        } else if let Some((user, domain)) = account.rsplit_once('@') {
            Credentials {
                username: user.to_string(),
                domain: Some(domain.to_string()).filter(|d| !d.is_empty()),
                password,
            }
        } else {
            Credentials {
                username: account.to_string(),
                domain: None,
                password,
            }
        }
    }
}

impl std::fmt::Debug for Credentials {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Credentials")
            .field("username", &self.username)
            .field("domain", &self.domain)
            .field("password", &"<redacted>")
            .finish()
    }
}

#[derive(Debug, Clone, Default)]
pub struct TlsOptions {
    /// Extra trust anchors (PEM), on top of the system roots.
    pub ca_file: Option<PathBuf>,
    /// Pin the leaf certificate: SHA-1 (as Windows shows it) or SHA-256 hex.
    pub thumbprint: Option<String>,
    /// Accept any certificate. Loudly warned about.
    pub insecure_skip_verify: bool,
}

#[derive(Debug, Clone, Copy)]
pub struct Timeouts {
    /// TCP connect plus TLS handshake.
    pub connect: Duration,
    /// One HTTP exchange, from the first byte written to the last byte read.
    pub request: Duration,
}

impl Default for Timeouts {
    fn default() -> Self {
        Timeouts {
            connect: Duration::from_secs(10),
            request: Duration::from_secs(30),
        }
    }
}

#[derive(Debug, Clone)]
pub struct TransportConfig {
    pub target: Target,
    pub credentials: Credentials,
    pub encryption: Encryption,
    pub tls: TlsOptions,
    pub timeouts: Timeouts,
}
