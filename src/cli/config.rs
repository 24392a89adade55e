//! The TOML configuration (`shared/spec/cli.md`): parsed, validated up front
//! (errors name the offending key), secrets resolved once per source.

use crate::collection::HostPlan;
use crate::transport::thumbprint::Thumbprint;
use crate::transport::{
    Address, AuthMechanism, Credentials, Encryption, KerberosOptions, Scheme, Target, Timeouts,
    TlsOptions, TransportConfig,
};
use secrecy::SecretString;
use serde::Deserialize;
use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

pub const DEFAULT_DB_URL: &str = "sqlite://hvinv.db";
pub const DEFAULT_CONCURRENCY: usize = 64;
pub const DEFAULT_TIMEOUT_SECS: u64 = 60;

/// A configuration error, naming the key it is about (`host[2].password_file`).
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("cannot read {path}: {reason}")]
    Read { path: String, reason: String },
    #[error("{path}: {message}")]
    Syntax { path: String, message: String },
    #[error("{path}: `{key}`: {message}")]
    Invalid {
        path: String,
        key: String,
        message: String,
    },
}

/// Declares the per-host keys once. `[defaults]` (`RawSettings`) and each
/// `[[host]]` (`RawHost`) accept the same keys, plus their own: `concurrency`
/// in `[defaults]`; `address` and `connect_to` (one host's socket, never a
/// default) in `[[host]]`. `RawHost::over` lets a key the host sets win.
macro_rules! host_settings {
    ($( $(#[doc = $doc:literal])* $field:ident : $ty:ty, )*) => {
        /// Per-host settings as written in `[defaults]`, and a host's merged result.
        #[derive(Debug, Default, Clone, Deserialize)]
        #[serde(deny_unknown_fields)]
        struct RawSettings {
            $( $(#[doc = $doc])* $field: Option<$ty>, )*
            /// Only meaningful in `[defaults]`.
            concurrency: Option<usize>,
            /// Set on a merged host only, from its `[[host]]` table.
            #[serde(skip)]
            connect_to: Option<String>,
        }

        /// One `[[host]]` table as written.
        #[derive(Debug, Default, Deserialize)]
        #[serde(deny_unknown_fields)]
        struct RawHost {
            address: String,
            $( $(#[doc = $doc])* $field: Option<$ty>, )*
            /// Socket address to dial instead of resolving `address` (tests, split DNS).
            connect_to: Option<String>,
        }

        impl RawHost {
            /// This host's settings over `[defaults]`, key by key.
            fn over(self, d: &RawSettings) -> RawSettings {
                RawSettings {
                    $( $field: self.$field.or_else(|| d.$field.clone()), )*
                    concurrency: d.concurrency,
                    connect_to: self.connect_to,
                }
            }
        }
    };
}

host_settings! {
    transport: Scheme,
    port: u16,
    auth: String,
    username: String,
    password_env: String,
    password_file: PathBuf,
    encryption: Encryption,
    ca_file: PathBuf,
    cert_thumbprint: String,
    insecure_skip_verify: bool,
    timeout_secs: u64,
    /// Kerberos realm of the account (default: the domain of user@domain).
    realm: String,
    /// `host[:port]` of a KDC (default: krb5.conf).
    kdc: String,
    /// Service class of the host principal (default WSMAN).
    spn_service: String,
    /// Licence region of the host (pvu.md; default "default").
    region: String,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawDatabase {
    url: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawAudit {
    /// The bundle signing key (`hvinv audit snapshot`).
    key_file: Option<PathBuf>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawConfig {
    database: Option<RawDatabase>,
    audit: Option<RawAudit>,
    defaults: Option<RawSettings>,
    #[serde(default)]
    host: Vec<RawHost>,
}

#[derive(Debug, Clone)]
pub struct Config {
    pub database_url: String,
    pub concurrency: usize,
    pub hosts: Vec<HostPlan>,
    /// Things worth a warning (e.g. `insecure_skip_verify`), said once at start.
    pub warnings: Vec<String>,
    /// `[audit] key_file`, relative to the config's folder.
    pub audit_key_file: Option<PathBuf>,
}

/// What `hvinv audit` reads from a configuration: the database and the
/// signing key only (no hosts, so no secrets are resolved).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuditSettings {
    pub database_url: String,
    pub key_file: Option<PathBuf>,
}

impl AuditSettings {
    pub fn load(path: &Path) -> Result<AuditSettings, ConfigError> {
        let shown = path.display().to_string();
        let text = std::fs::read_to_string(path).map_err(|e| ConfigError::Read {
            path: shown.clone(),
            reason: e.to_string(),
        })?;
        let raw: RawConfig = toml::from_str(&text).map_err(|e| ConfigError::Syntax {
            path: shown,
            message: e.to_string().trim_end().to_string(),
        })?;
        let base = path.parent().unwrap_or(Path::new("."));
        Ok(AuditSettings {
            database_url: raw
                .database
                .and_then(|d| d.url)
                .unwrap_or_else(|| DEFAULT_DB_URL.to_string()),
            key_file: raw.audit.and_then(|a| a.key_file).map(|k| base.join(k)),
        })
    }
}

impl Config {
    pub fn load(path: &Path) -> Result<Config, ConfigError> {
        let text = std::fs::read_to_string(path).map_err(|e| ConfigError::Read {
            path: path.display().to_string(),
            reason: e.to_string(),
        })?;
        let base = path.parent().unwrap_or(Path::new("."));
        Config::parse(&text, &path.display().to_string(), base, &|name| {
            std::env::var(name).ok()
        })
    }

    /// Parses and validates; `env` looks up environment variables (injectable for tests);
    /// relative file paths are taken relative to `base` (the config file's folder).
    pub fn parse(
        text: &str,
        path: &str,
        base: &Path,
        env: &dyn Fn(&str) -> Option<String>,
    ) -> Result<Config, ConfigError> {
        let raw: RawConfig = toml::from_str(text).map_err(|e| ConfigError::Syntax {
            path: path.to_string(),
            message: e.to_string().trim_end().to_string(),
        })?;
        let invalid = |key: String, message: String| ConfigError::Invalid {
            path: path.to_string(),
            key,
            message,
        };
        let defaults = raw.defaults.unwrap_or_default();
        let audit_key_file = raw.audit.and_then(|a| a.key_file).map(|k| base.join(k));
        let database_url = raw
            .database
            .and_then(|d| d.url)
            .unwrap_or_else(|| DEFAULT_DB_URL.to_string());
        let concurrency = defaults.concurrency.unwrap_or(DEFAULT_CONCURRENCY);
        if !(1..=100_000).contains(&concurrency) {
            return Err(invalid(
                "defaults.concurrency".into(),
                "must be between 1 and 100000".into(),
            ));
        }
        if raw.host.is_empty() {
            return Err(invalid(
                "host".into(),
                "no [[host]] entries: nothing to collect".into(),
            ));
        }
        let mut secrets = SecretCache::default();
        let mut seen = HashSet::new();
        let mut hosts = Vec::with_capacity(raw.host.len());
        let mut warnings = Vec::new();
        for (i, h) in raw.host.into_iter().enumerate() {
            let key = |k: &str| format!("host[{i}].{k}");
            let address = h.address.trim().to_string();
            if address.is_empty() {
                return Err(invalid(key("address"), "must not be empty".into()));
            }
            if !seen.insert(address.to_ascii_lowercase()) {
                return Err(invalid(
                    key("address"),
                    format!("`{address}` is listed twice"),
                ));
            }
            let s = merge(&defaults, h);
            let scheme = s.transport.unwrap_or(Scheme::Http);
            let port = s.port.unwrap_or(scheme.default_port());
            if port == 0 {
                return Err(invalid(key("port"), "must be between 1 and 65535".into()));
            }
            let target_address =
                Address::new(&address, port).map_err(|e| invalid(key("address"), e.to_string()))?;
            let auth = match s.auth.as_deref().map(str::to_ascii_lowercase).as_deref() {
                None | Some("negotiate") => AuthMechanism::Negotiate,
                Some("kerberos") => AuthMechanism::Kerberos,
                Some("ntlm") => AuthMechanism::Ntlm,
                Some(other) => {
                    return Err(invalid(
                        key("auth"),
                        format!(
                            "`{other}` is not supported; use \"negotiate\", \"kerberos\" or \"ntlm\""
                        ),
                    ));
                }
            };
            let username = s
                .username
                .clone()
                .filter(|u| !u.trim().is_empty())
                .ok_or_else(|| {
                    invalid(
                        key("username"),
                        "is required (here or in [defaults])".into(),
                    )
                })?;
            let password = match (&s.password_env, &s.password_file) {
                (Some(_), Some(_)) => {
                    return Err(invalid(
                        key("password_env"),
                        "set either password_env or password_file, not both".into(),
                    ));
                }
                (None, None) => {
                    return Err(invalid(
                        key("password_env"),
                        "no secret: set password_env (an environment variable name) or password_file".into(),
                    ));
                }
                (Some(var), None) => secrets
                    .read_env(var, env)
                    .map_err(|m| invalid(key("password_env"), m))?,
                (None, Some(file)) => secrets
                    .read_file(&base.join(file))
                    .map_err(|m| invalid(key("password_file"), m))?,
            };
            let encryption = s.encryption.unwrap_or(Encryption::Auto);
            if scheme == Scheme::Http && encryption == Encryption::Never {
                warnings.push(format!(
                    "{address}: encryption = \"never\": SOAP bodies cross the network in clear, and the host must allow it (AllowUnencrypted=true)"
                ));
            }
            let ca_file = s.ca_file.as_ref().map(|p| base.join(p));
            if let Some(ca) = &ca_file
                && !ca.is_file()
            {
                return Err(invalid(
                    key("ca_file"),
                    format!("{} does not exist", ca.display()),
                ));
            }
            let thumbprint = match &s.cert_thumbprint {
                None => None,
                Some(t) => Some(
                    Thumbprint::parse(t)
                        .map_err(|e| invalid(key("cert_thumbprint"), e.to_string()))?,
                ),
            };
            let insecure = s.insecure_skip_verify.unwrap_or(false);
            if insecure && scheme == Scheme::Https {
                warnings.push(format!(
                    "{address}: insecure_skip_verify = true: the host's certificate is NOT verified; anyone on the path can impersonate it"
                ));
            }
            let timeout_secs = s.timeout_secs.unwrap_or(DEFAULT_TIMEOUT_SECS);
            if timeout_secs == 0 || timeout_secs > 86_400 {
                return Err(invalid(
                    key("timeout_secs"),
                    "must be between 1 and 86400".into(),
                ));
            }
            let connect_to = match &s.connect_to {
                None => None,
                Some(c) => Some(c.parse().map_err(|_| {
                    invalid(
                        key("connect_to"),
                        format!("`{c}` is not an IP:port socket address"),
                    )
                })?),
            };
            let timeout = Duration::from_secs(timeout_secs);
            let transport = TransportConfig {
                target: Target {
                    address: target_address,
                    scheme,
                    connect_to,
                },
                credentials: Credentials::parse(&username, password),
                encryption,
                tls: TlsOptions {
                    ca_file,
                    thumbprint,
                    insecure_skip_verify: insecure,
                },
                timeouts: Timeouts {
                    connect: timeout.min(Duration::from_secs(10)),
                    request: timeout.min(Duration::from_secs(60)),
                },
                auth,
                kerberos: KerberosOptions {
                    realm: s.realm.clone(),
                    kdc: s.kdc.clone(),
                    spn_service: s.spn_service.clone(),
                },
            };
            let region = match s.region.as_deref().map(str::trim) {
                None => None,
                Some("") => {
                    return Err(invalid(
                        key("region"),
                        "must not be empty (leave it out for \"default\")".into(),
                    ));
                }
                Some(r) => Some(r.to_string()),
            };
            hosts.push(HostPlan {
                address,
                transport: Arc::new(transport),
                timeout,
                region,
            });
        }
        Ok(Config {
            database_url,
            concurrency,
            hosts,
            warnings,
            audit_key_file,
        })
    }
}

fn merge(d: &RawSettings, h: RawHost) -> RawSettings {
    // A host that names one secret source replaces the default's, whichever kind.
    let host_secret = (h.password_env.clone(), h.password_file.clone());
    let mut merged = h.over(d);
    if host_secret.0.is_some() || host_secret.1.is_some() {
        (merged.password_env, merged.password_file) = host_secret;
    }
    merged
}

/// Reads each secret source once, however many hosts use it.
#[derive(Default)]
struct SecretCache {
    env: HashMap<String, SecretString>,
    files: HashMap<PathBuf, SecretString>,
}

impl SecretCache {
    fn read_env(
        &mut self,
        var: &str,
        env: &dyn Fn(&str) -> Option<String>,
    ) -> Result<SecretString, String> {
        if let Some(s) = self.env.get(var) {
            return Ok(s.clone());
        }
        let value = env(var).ok_or_else(|| format!("environment variable {var} is not set"))?;
        if value.is_empty() {
            return Err(format!("environment variable {var} is empty"));
        }
        let secret = SecretString::from(value);
        self.env.insert(var.to_string(), secret.clone());
        Ok(secret)
    }

    fn read_file(&mut self, path: &Path) -> Result<SecretString, String> {
        if let Some(s) = self.files.get(path) {
            return Ok(s.clone());
        }
        let meta = std::fs::metadata(path).map_err(|e| format!("{}: {e}", path.display()))?;
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = meta.permissions().mode();
            if mode & 0o077 != 0 {
                return Err(format!(
                    "{} is readable by others (mode {:o}); run `chmod 600 {}`",
                    path.display(),
                    mode & 0o777,
                    path.display()
                ));
            }
        }
        let _ = meta;
        let text = std::fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))?;
        // One trailing newline is the editor's, not the password's.
        let value = text
            .strip_suffix('\n')
            .map(|t| t.strip_suffix('\r').unwrap_or(t))
            .unwrap_or(&text);
        if value.is_empty() {
            return Err(format!("{} is empty", path.display()));
        }
        let secret = SecretString::from(value.to_string());
        self.files.insert(path.to_path_buf(), secret.clone());
        Ok(secret)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use secrecy::ExposeSecret;

    fn env(name: &str) -> Option<String> {
        (name == "HVINV_PASSWORD").then(|| "s3cret-Value".to_string())
    }

    fn parse(text: &str) -> Result<Config, ConfigError> {
        Config::parse(text, "test.toml", Path::new("."), &env)
    }

    const MINIMAL: &str = r#"
[defaults]
username = 'CONTOSO\svc-inventory'
password_env = "HVINV_PASSWORD"

[[host]]
address = "hv01.contoso.com"

[[host]]
address = "hv02.contoso.com"
transport = "https"
timeout_secs = 5
"#;

    #[test]
    fn hosts_inherit_defaults_and_override_them() {
        let c = parse(MINIMAL).unwrap();
        assert_eq!(c.database_url, DEFAULT_DB_URL);
        assert_eq!(c.concurrency, DEFAULT_CONCURRENCY);
        let h1 = &c.hosts[0].transport;
        assert_eq!(h1.target.scheme, Scheme::Http);
        assert_eq!(h1.target.port(), 5985);
        assert_eq!(h1.encryption, Encryption::Auto);
        assert_eq!(h1.credentials.username, "svc-inventory");
        assert_eq!(h1.credentials.domain.as_deref(), Some("CONTOSO"));
        assert_eq!(h1.credentials.password.expose_secret(), "s3cret-Value");
        let h2 = &c.hosts[1];
        assert_eq!(h2.transport.target.scheme, Scheme::Https);
        assert_eq!(h2.transport.target.port(), 5986);
        assert_eq!(h2.timeout, Duration::from_secs(5));
    }

    #[test]
    fn region_comes_from_defaults_a_host_overrides_it_and_empty_is_refused() {
        let c = parse(MINIMAL).unwrap();
        assert_eq!(c.hosts[0].region, None, "no key: the default region");
        let text = MINIMAL
            .replace(
                "password_env = \"HVINV_PASSWORD\"",
                "password_env = \"HVINV_PASSWORD\"\nregion = \"EMEA\"",
            )
            .replace("timeout_secs = 5", "region = \"AMER\"");
        let c = parse(&text).unwrap();
        assert_eq!(c.hosts[0].region.as_deref(), Some("EMEA"));
        assert_eq!(c.hosts[1].region.as_deref(), Some("AMER"));
        let err = parse(&MINIMAL.replace("timeout_secs = 5", "region = \" \""))
            .unwrap_err()
            .to_string();
        assert!(err.contains("host[1].region"), "{err}");
    }

    #[test]
    fn unknown_key_is_named_with_its_line() {
        let err = parse("[defaults]\nusername='u'\npasword_env='X'\n[[host]]\naddress='a'\n")
            .unwrap_err();
        let msg = err.to_string();
        assert!(msg.contains("pasword_env"), "{msg}");
        assert!(msg.contains("line 3"), "{msg}");
    }

    #[test]
    fn connect_to_in_defaults_is_refused_not_ignored() {
        // It was accepted and silently dropped: one socket for every host
        // is never meant, so the key belongs to a `[[host]]` only.
        let err =
            parse("[defaults]\nconnect_to='127.0.0.1:5985'\n[[host]]\naddress='a'\n").unwrap_err();
        let msg = err.to_string();
        assert!(msg.contains("connect_to"), "{msg}");
        assert!(msg.contains("line 2"), "{msg}");
    }

    #[test]
    fn missing_secret_names_the_host_key() {
        let err = parse("[[host]]\naddress='a'\nusername='u'\n").unwrap_err();
        assert!(err.to_string().contains("host[0].password_env"), "{err}");
        let err = parse("[[host]]\naddress='a'\nusername='u'\npassword_env='NOPE'\n").unwrap_err();
        assert!(err.to_string().contains("NOPE is not set"), "{err}");
    }

    #[test]
    fn duplicate_address_and_bad_values_are_rejected() {
        let dup = format!("{MINIMAL}\n[[host]]\naddress = \"HV01.contoso.com\"\n");
        assert!(
            parse(&dup)
                .unwrap_err()
                .to_string()
                .contains("host[2].address")
        );
        let bad = MINIMAL.replace("timeout_secs = 5", "timeout_secs = 0");
        assert!(
            parse(&bad)
                .unwrap_err()
                .to_string()
                .contains("host[1].timeout_secs")
        );
        let bad = MINIMAL.replace("transport = \"https\"", "transport = \"ftp\"");
        assert!(parse(&bad).is_err());
        let bad = MINIMAL.replace("timeout_secs = 5", "cert_thumbprint = \"abc\"");
        assert!(
            parse(&bad)
                .unwrap_err()
                .to_string()
                .contains("cert_thumbprint")
        );
        let bad = MINIMAL.replace("timeout_secs = 5", "auth = \"basic\"");
        assert!(
            parse(&bad)
                .unwrap_err()
                .to_string()
                .contains("host[1].auth")
        );
    }

    #[test]
    fn kerberos_keys_come_from_defaults_and_hosts_override_them() {
        let text = MINIMAL
            .replace(
                "password_env = \"HVINV_PASSWORD\"",
                "password_env = \"HVINV_PASSWORD\"\nauth = \"Kerberos\"\nrealm = \"contoso.com\"\nkdc = \"dc1.contoso.com:88\"",
            )
            .replace("timeout_secs = 5", "spn_service = \"HTTP\"\nauth = \"ntlm\"");
        let c = parse(&text).unwrap();
        let (h1, h2) = (&c.hosts[0].transport, &c.hosts[1].transport);
        assert_eq!(h1.auth, AuthMechanism::Kerberos);
        assert_eq!(h1.kerberos.realm.as_deref(), Some("contoso.com"));
        assert_eq!(h1.kerberos.kdc.as_deref(), Some("dc1.contoso.com:88"));
        assert_eq!(h1.kerberos.spn_service(), "WSMAN");
        assert_eq!(h2.auth, AuthMechanism::Ntlm);
        assert_eq!(h2.kerberos.spn_service(), "HTTP");
        assert_eq!(h2.kerberos.kdc.as_deref(), Some("dc1.contoso.com:88"));
        // The default stays negotiate.
        assert_eq!(
            parse(MINIMAL).unwrap().hosts[0].transport.auth,
            AuthMechanism::Negotiate
        );
    }

    #[test]
    fn a_thumbprint_pasted_from_the_windows_dialog_is_accepted_and_parsed_once() {
        // The certificate dialog puts an invisible U+200E before the digits.
        let pasted = "\u{200e}a9 99 3e 36 47 06 81 6a ba 3e 25 71 78 50 c2 6c 9c d0 d8 9d";
        let text = MINIMAL.replace(
            "timeout_secs = 5",
            &format!("cert_thumbprint = \"{pasted}\""),
        );
        let c = parse(&text).unwrap();
        let pin = c.hosts[1].transport.tls.thumbprint.as_ref().unwrap();
        assert!(pin.matches(b"abc"), "{pin:?}");
    }

    #[test]
    fn an_address_carrying_a_port_is_refused_naming_the_key_and_the_fix() {
        let text = MINIMAL.replace("hv01.contoso.com", "hv01:5985");
        let err = parse(&text).unwrap_err().to_string();
        assert!(err.contains("host[0].address"), "{err}");
        assert!(err.contains("port = 5985"), "{err}");
        let text = MINIMAL.replace("hv01.contoso.com", "[2001:db8::1]");
        let c = parse(&text).unwrap();
        assert_eq!(c.hosts[0].transport.target.host(), "2001:db8::1");
        assert_eq!(
            c.hosts[0].transport.target.url(),
            "http://[2001:db8::1]:5985/wsman"
        );
    }

    #[test]
    fn secret_never_appears_in_debug_or_errors() {
        let c = parse(MINIMAL).unwrap();
        let dbg = format!("{c:?}");
        assert!(!dbg.contains("s3cret-Value"), "{dbg}");
    }

    #[cfg(unix)]
    #[test]
    fn password_file_readable_by_others_is_refused() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let f = dir.path().join("secret");
        std::fs::write(&f, "pw-from-file\n").unwrap();
        std::fs::set_permissions(&f, std::fs::Permissions::from_mode(0o644)).unwrap();
        let text = "[[host]]\naddress='a'\nusername='u'\npassword_file='secret'\n";
        let err = Config::parse(text, "t", dir.path(), &env).unwrap_err();
        assert!(err.to_string().contains("chmod 600"), "{err}");
        assert!(!err.to_string().contains("pw-from-file"));
        std::fs::set_permissions(&f, std::fs::Permissions::from_mode(0o600)).unwrap();
        let c = Config::parse(text, "t", dir.path(), &env).unwrap();
        assert_eq!(
            c.hosts[0].transport.credentials.password.expose_secret(),
            "pw-from-file"
        );
    }
}
