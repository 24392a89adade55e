//! What a connection needs to know: where, who, how.

use super::address::{Address, BadAddress};
use super::thumbprint::Thumbprint;
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

/// Where to connect. `address` names the host for the `To` URL, the TLS
/// server name and the SPN (`WSMAN/<host>`), and is what is dialled unless
/// `connect_to` overrides the socket address (tests, or a name that does
/// not resolve locally).
#[derive(Debug, Clone)]
pub struct Target {
    pub address: Address,
    pub scheme: Scheme,
    pub connect_to: Option<SocketAddr>,
}

impl Target {
    pub fn new(address: Address, scheme: Scheme) -> Target {
        Target {
            address,
            scheme,
            connect_to: None,
        }
    }

    /// `host` on the scheme's default port.
    pub fn on_default_port(host: &str, scheme: Scheme) -> Result<Target, BadAddress> {
        Ok(Target::new(
            Address::new(host, scheme.default_port())?,
            scheme,
        ))
    }

    /// The host name or IP literal (IPv6 without brackets).
    pub fn host(&self) -> &str {
        self.address.host()
    }

    pub fn port(&self) -> u16 {
        self.address.port()
    }

    pub fn set_port(&mut self, port: u16) {
        self.address = self.address.with_port(port);
    }

    /// What is dialled, for messages: the `connect_to` address, else
    /// `host:port`.
    pub fn dial_text(&self) -> String {
        match self.connect_to {
            Some(sa) => sa.to_string(),
            None => self.address.to_string(),
        }
    }

    /// `http://host:5985/wsman`
    pub fn url(&self) -> String {
        let scheme = match self.scheme {
            Scheme::Http => "http",
            Scheme::Https => "https",
        };
        format!("{scheme}://{}/wsman", self.address)
    }
}

/// Account to authenticate as. Accepts `DOMAIN\user`, `user@domain` and a
/// local `user`. The password never reaches `Debug` output.
#[derive(Clone)]
pub struct Credentials {
    pub username: String,
    pub domain: Option<String>,
    pub password: SecretString,
    /// Given as `user@domain`: NTLM sends the whole UPN as the user name
    /// with an empty domain, as Windows' own client does.
    pub upn: bool,
}

impl Credentials {
    /// Splits `DOMAIN\user` / `user@domain` / `user`.
    pub fn parse(account: &str, password: SecretString) -> Credentials {
        if let Some((domain, user)) = account.split_once('\\') {
            Credentials {
                username: user.to_string(),
                domain: Some(domain.to_string()).filter(|d| !d.is_empty()),
                password,
                upn: false,
            }
        } else if let Some((user, domain)) = account.rsplit_once('@') {
            let domain = Some(domain.to_string()).filter(|d| !d.is_empty());
            Credentials {
                username: user.to_string(),
                upn: domain.is_some() && !user.is_empty(),
                domain,
                password,
            }
        } else {
            Credentials {
                username: account.to_string(),
                domain: None,
                password,
                upn: false,
            }
        }
    }
}

impl std::fmt::Debug for Credentials {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Credentials")
            .field("username", &self.username)
            .field("domain", &self.domain)
            .field("upn", &self.upn)
            .field("password", &"<redacted>")
            .finish()
    }
}

#[derive(Debug, Clone, Default)]
pub struct TlsOptions {
    /// Extra trust anchors (PEM), on top of the system roots.
    pub ca_file: Option<PathBuf>,
    /// Pin the leaf certificate: SHA-1 (as Windows shows it) or SHA-256.
    pub thumbprint: Option<Thumbprint>,
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

/// Which authentication the client offers (`auth` in the configuration).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum AuthMechanism {
    /// Kerberos when the host is named by a DNS name and a realm and its
    /// KDC are known (`realm`/`user@REALM`, and `kdc` or krb5.conf) and a
    /// ticket can be had; NTLMv2 otherwise, as Windows clients do.
    #[default]
    Negotiate,
    /// Kerberos only: NTLM is never sent.
    Kerberos,
    /// NTLMv2 only.
    Ntlm,
}

/// The mechanism a connection actually authenticated with.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum AuthUsed {
    Ntlm,
    Kerberos,
}

impl AuthUsed {
    pub fn as_str(self) -> &'static str {
        match self {
            AuthUsed::Ntlm => "ntlm",
            AuthUsed::Kerberos => "kerberos",
        }
    }
}

/// Kerberos settings (`realm`, `kdc`, `spn_service`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct KerberosOptions {
    /// The account's realm; default: the domain of a `user@domain` name.
    pub realm: Option<String>,
    /// `host[:port]` of a KDC; default: the realm's `kdc` in krb5.conf.
    pub kdc: Option<String>,
    /// Service class of the host's principal; default `WSMAN`.
    pub spn_service: Option<String>,
}

impl KerberosOptions {
    pub fn spn_service(&self) -> &str {
        self.spn_service
            .as_deref()
            .filter(|s| !s.trim().is_empty())
            .unwrap_or("WSMAN")
    }
}

#[derive(Debug, Clone)]
pub struct TransportConfig {
    pub target: Target,
    pub credentials: Credentials,
    pub encryption: Encryption,
    pub tls: TlsOptions,
    pub timeouts: Timeouts,
    pub auth: AuthMechanism,
    pub kerberos: KerberosOptions,
}

impl TransportConfig {
    /// Defaults: sealing on over HTTP, system trust roots, default
    /// timeouts.
    pub fn new(target: Target, credentials: Credentials) -> TransportConfig {
        TransportConfig {
            target,
            credentials,
            encryption: Encryption::Auto,
            tls: TlsOptions::default(),
            timeouts: Timeouts::default(),
            auth: AuthMechanism::default(),
            kerberos: KerberosOptions::default(),
        }
    }

    /// Whether SOAP bodies are sealed: only over HTTP, unless disabled.
    pub fn seals(&self) -> bool {
        self.target.scheme == Scheme::Http && self.encryption == Encryption::Auto
    }

    /// The service principal name, `WSMAN/<host>`.
    pub fn spn(&self) -> String {
        format!("WSMAN/{}", self.target.host())
    }

    /// Whether the host is named by a DNS name (Kerberos needs one: an IP
    /// address has no principal unless IP SPNs are registered).
    pub fn host_is_dns_name(&self) -> bool {
        let h = self.target.host();
        !h.is_empty() && h.parse::<std::net::IpAddr>().is_err()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use secrecy::ExposeSecret;

    fn target(host: &str, scheme: Scheme) -> Target {
        Target::on_default_port(host, scheme).unwrap()
    }

    fn parse(account: &str) -> Credentials {
        Credentials::parse(account, "pw".to_string().into())
    }

    #[test]
    fn down_level_logon_name_splits_domain_and_user() {
        let c = parse("CONTOSO\\svc-inv");
        assert_eq!(
            (c.username.as_str(), c.domain.as_deref()),
            ("svc-inv", Some("CONTOSO"))
        );
    }

    #[test]
    fn upn_splits_at_the_last_at_sign() {
        let c = parse("svc-inv@contoso.example");
        assert_eq!(
            (c.username.as_str(), c.domain.as_deref()),
            ("svc-inv", Some("contoso.example"))
        );
    }

    #[test]
    fn local_account_has_no_domain() {
        let c = parse("Administrator");
        assert_eq!((c.username.as_str(), c.domain), ("Administrator", None));
        // `\user` means "no domain", not an empty one.
        assert_eq!(parse("\\Administrator").domain, None);
    }

    #[test]
    fn password_never_reaches_debug_output() {
        let c = Credentials::parse("DOM\\u", "S3cret!pw".to_string().into());
        let dbg = format!("{c:?}");
        assert!(!dbg.contains("S3cret"), "{dbg}");
        assert_eq!(c.password.expose_secret(), "S3cret!pw");
        let cfg = TransportConfig::new(target("h", Scheme::Http), c);
        assert!(!format!("{cfg:?}").contains("S3cret"));
    }

    #[test]
    fn sealing_applies_to_http_only_and_can_be_turned_off() {
        let mut cfg = TransportConfig::new(target("h", Scheme::Http), parse("u"));
        assert!(cfg.seals());
        cfg.encryption = Encryption::Never;
        assert!(!cfg.seals());
        let cfg = TransportConfig::new(target("h", Scheme::Https), parse("u"));
        assert!(!cfg.seals());
        assert_eq!(cfg.target.port(), 5986);
        assert_eq!(cfg.spn(), "WSMAN/h");
    }

    #[test]
    fn url_brackets_ipv6_hosts() {
        assert_eq!(
            target("2001:db8::1", Scheme::Http).url(),
            "http://[2001:db8::1]:5985/wsman"
        );
        assert_eq!(
            target("hv01", Scheme::Https).url(),
            "https://hv01:5986/wsman"
        );
    }
}
