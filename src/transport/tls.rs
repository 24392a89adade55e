//! rustls client configuration (ring provider, HTTP/1.1 only) and the
//! certificate verifier: system roots plus `ca_file`, or a pinned
//! thumbprint, or (loudly) nothing. Also maps rustls errors to the
//! `TlsFailure` an operator can act on.

use super::config::TlsOptions;
use super::error::{ConfigFailure, TlsFailure, TransportError};
use super::thumbprint::Thumbprint;
use rustls::client::WebPkiServerVerifier;
use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::crypto::{
    CryptoProvider, WebPkiSupportedAlgorithms, verify_tls12_signature, verify_tls13_signature,
};
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::{
    CertificateError, ClientConfig, DigitallySignedStruct, RootCertStore, SignatureScheme,
};
use std::collections::HashMap;
use std::sync::{Arc, Mutex, OnceLock};

/// The *ring* provider. rustls 0.23.48 deprecates it for lacking
/// post-quantum key exchange; WinRM listeners (HTTP.sys/SChannel) offer
/// classical groups anyway, and aws-lc-rs would need a C/CMake toolchain on
/// every build machine, so ring stays our provider until rustls 0.24.
pub(crate) fn provider() -> Arc<CryptoProvider> {
    static PROVIDER: OnceLock<Arc<CryptoProvider>> = OnceLock::new();
    #[allow(deprecated)]
    let make = || Arc::new(rustls::crypto::ring::default_provider());
    PROVIDER.get_or_init(make).clone()
}

/// The operating system's trust anchors, read once per process (reading
/// the system store costs milliseconds; benchmarks open many connections).
fn native_roots() -> &'static RootCertStore {
    static ROOTS: OnceLock<RootCertStore> = OnceLock::new();
    ROOTS.get_or_init(|| {
        let loaded = rustls_native_certs::load_native_certs();
        for e in &loaded.errors {
            tracing::debug!("skipping unreadable system certificate: {e}");
        }
        let mut roots = RootCertStore::empty();
        let (_, ignored) = roots.add_parsable_certificates(loaded.certs);
        if ignored > 0 {
            tracing::debug!("ignored {ignored} unparsable system certificates");
        }
        roots
    })
}

type CacheKey = (Option<std::path::PathBuf>, Option<Thumbprint>, bool);

/// `client_config`, built once per distinct set of options in this
/// process: thousands of hosts usually share one CA file, and each build
/// copies the system roots and reads the file.
pub fn shared_client_config(opts: &TlsOptions) -> Result<Arc<ClientConfig>, TransportError> {
    static CACHE: OnceLock<Mutex<HashMap<CacheKey, Arc<ClientConfig>>>> = OnceLock::new();
    let key: CacheKey = (
        opts.ca_file.clone(),
        opts.thumbprint.clone(),
        opts.insecure_skip_verify,
    );
    let cache = CACHE.get_or_init(Mutex::default);
    // A poisoned lock only means another thread panicked mid-insert; the
    // map itself is still consistent.
    if let Some(hit) = cache.lock().unwrap_or_else(|p| p.into_inner()).get(&key) {
        return Ok(hit.clone());
    }
    let built = client_config(opts)?;
    cache
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .entry(key)
        .or_insert(built.clone());
    Ok(built)
}

/// Builds the client configuration for these options; the result is cheap
/// to share (see `shared_client_config`).
pub fn client_config(opts: &TlsOptions) -> Result<Arc<ClientConfig>, TransportError> {
    let provider = provider();
    let algs = provider.signature_verification_algorithms;
    let mode = if opts.insecure_skip_verify {
        // `Connection` warns, naming the host, each time it is used.
        Mode::Insecure
    } else if let Some(pin) = &opts.thumbprint {
        Mode::Pinned(pin.clone())
    } else {
        let mut roots = native_roots().clone();
        if let Some(path) = &opts.ca_file {
            let bad = |e: &dyn std::fmt::Display| {
                TransportError::Config(ConfigFailure::CaFile {
                    path: path.clone(),
                    reason: e.to_string(),
                })
            };
            let certs = CertificateDer::pem_file_iter(path).map_err(|e| bad(&e))?;
            let mut added = 0;
            for cert in certs {
                let cert = cert.map_err(|e| bad(&e))?;
                roots.add(cert).map_err(|e| bad(&e))?;
                added += 1;
            }
            if added == 0 {
                return Err(TransportError::Config(ConfigFailure::CaFileEmpty {
                    path: path.clone(),
                }));
            }
        }
        if roots.is_empty() {
            Mode::NoRoots
        } else {
            let verifier =
                WebPkiServerVerifier::builder_with_provider(Arc::new(roots), provider.clone())
                    .build()
                    .map_err(|e| {
                        TransportError::Config(ConfigFailure::TlsVerifier(e.to_string()))
                    })?;
            Mode::WebPki(verifier)
        }
    };
    let verifier = Arc::new(Verifier { mode, algs });
    let config = ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| TransportError::Config(ConfigFailure::TlsVersions(e.to_string())))?
        .dangerous()
        .with_custom_certificate_verifier(verifier)
        .with_no_client_auth();
    Ok(Arc::new(config))
}

#[derive(Debug)]
enum Mode {
    WebPki(Arc<WebPkiServerVerifier>),
    /// No system roots and no `ca_file`: every certificate is unknown.
    NoRoots,
    /// A pinned leaf replaces chain, name and validity checks: pinning is
    /// how operators trust a listener's self-signed certificate.
    Pinned(Thumbprint),
    Insecure,
}

#[derive(Debug)]
struct Verifier {
    mode: Mode,
    algs: WebPkiSupportedAlgorithms,
}

impl ServerCertVerifier for Verifier {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        server_name: &ServerName<'_>,
        ocsp: &[u8],
        now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        let verdict = match &self.mode {
            Mode::WebPki(v) => {
                v.verify_server_cert(end_entity, intermediates, server_name, ocsp, now)
            }
            Mode::NoRoots => Err(rustls::Error::InvalidCertificate(
                CertificateError::UnknownIssuer,
            )),
            Mode::Pinned(pin) if pin.matches(end_entity.as_ref()) => {
                Ok(ServerCertVerified::assertion())
            }
            // Only this verifier produces ApplicationVerificationFailure;
            // `classify` turns it back into ThumbprintMismatch.
            Mode::Pinned(_) => Err(rustls::Error::InvalidCertificate(
                CertificateError::ApplicationVerificationFailure,
            )),
            Mode::Insecure => Ok(ServerCertVerified::assertion()),
        };
        if let Err(e) = &verdict {
            // The thumbprint is what an operator pins, or compares with the
            // host's certificate store.
            tracing::warn!(
                server = ?server_name,
                thumbprint = %Thumbprint::of_sha1(end_entity.as_ref()),
                "certificate rejected: {e}"
            );
        }
        verdict
    }

    // Handshake signatures are always checked, whatever the mode: they
    // prove the peer holds the certificate's key.
    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        verify_tls12_signature(message, cert, dss, &self.algs)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        verify_tls13_signature(message, cert, dss, &self.algs)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.algs.supported_schemes()
    }
}

/// Connects to an HTTPS target with verification off, reads its leaf
/// certificate and hangs up, so `check` can show the thumbprint an operator
/// would pin. Nothing is sent after the handshake.
pub async fn peek_certificate(
    target: &super::config::Target,
    timeout: std::time::Duration,
) -> Result<Vec<u8>, TransportError> {
    let insecure = client_config(&TlsOptions {
        insecure_skip_verify: true,
        ..TlsOptions::default()
    })?;
    let name = server_name(target.host())?;
    let unreachable = |e: std::io::Error| TransportError::Unreachable {
        addr: target.dial_text(),
        reason: e.to_string(),
    };
    let work = async {
        let (tcp, _) = super::dial::dial(target).await?;
        let tls = tokio_rustls::TlsConnector::from(insecure)
            .connect(name, tcp)
            .await
            .map_err(|e| match classify_io(&e) {
                Some(f) => TransportError::Tls(f),
                None => unreachable(e),
            })?;
        tls.get_ref()
            .1
            .peer_certificates()
            .and_then(|c| c.first())
            .map(|c| c.as_ref().to_vec())
            .ok_or_else(|| {
                TransportError::Tls(TlsFailure::Other("no certificate presented".into()))
            })
    };
    tokio::time::timeout(timeout, work)
        .await
        .map_err(|_| TransportError::timeout("TLS certificate fetch", timeout))?
}

/// The server name rustls checks the certificate against (IP addresses
/// are matched against the certificate's IP SANs).
pub fn server_name(host: &str) -> Result<ServerName<'static>, TransportError> {
    let bare = host.trim_start_matches('[').trim_end_matches(']');
    ServerName::try_from(bare.to_string())
        .map_err(|_| TransportError::Config(ConfigFailure::ServerName(host.to_string())))
}

/// Maps a TLS handshake error to what the operator should do about it.
pub fn classify(err: &rustls::Error) -> TlsFailure {
    use CertificateError as C;
    match err {
        rustls::Error::InvalidCertificate(c) => match c {
            C::UnknownIssuer => TlsFailure::UnknownAuthority,
            C::NotValidForName | C::NotValidForNameContext { .. } => TlsFailure::NameMismatch,
            C::Expired
            | C::ExpiredContext { .. }
            | C::NotValidYet
            | C::NotValidYetContext { .. } => TlsFailure::Expired,
            C::ApplicationVerificationFailure => TlsFailure::ThumbprintMismatch,
            other => TlsFailure::Other(format!("invalid certificate: {other:?}")),
        },
        e if no_common_protocol(e) => TlsFailure::NoCommonProtocol(e.to_string()),
        other => TlsFailure::Other(other.to_string()),
    }
}

/// The two sides found no TLS version or cipher suite in common: the host
/// said so with an alert (Schannel answers a ClientHello it cannot meet
/// with `handshake_failure`), or chose one we did not offer.
fn no_common_protocol(err: &rustls::Error) -> bool {
    use rustls::AlertDescription as A;
    use rustls::PeerIncompatible as P;
    use rustls::PeerMisbehaved as M;
    matches!(
        err,
        rustls::Error::AlertReceived(
            A::HandshakeFailure | A::ProtocolVersion | A::InsufficientSecurity,
        ) | rustls::Error::PeerIncompatible(
            P::ServerDoesNotSupportTls12Or13 | P::NoCipherSuitesInCommon,
        ) | rustls::Error::PeerMisbehaved(M::SelectedUnofferedCipherSuite)
    )
}

/// Finds the rustls error inside an I/O error from the TLS stream.
pub fn classify_io(err: &std::io::Error) -> Option<TlsFailure> {
    err.get_ref()
        .and_then(|inner| inner.downcast_ref::<rustls::Error>())
        .map(classify)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn certificate_errors_map_to_operator_failures() {
        let inv = rustls::Error::InvalidCertificate;
        assert_eq!(
            classify(&inv(CertificateError::UnknownIssuer)),
            TlsFailure::UnknownAuthority
        );
        assert_eq!(
            classify(&inv(CertificateError::NotValidForName)),
            TlsFailure::NameMismatch
        );
        assert_eq!(
            classify(&inv(CertificateError::Expired)),
            TlsFailure::Expired
        );
        assert_eq!(
            classify(&inv(CertificateError::NotValidYet)),
            TlsFailure::Expired
        );
        assert_eq!(
            classify(&inv(CertificateError::ApplicationVerificationFailure)),
            TlsFailure::ThumbprintMismatch
        );
        assert!(matches!(
            classify(&inv(CertificateError::BadSignature)),
            TlsFailure::Other(_)
        ));
        assert!(matches!(
            classify(&rustls::Error::HandshakeNotComplete),
            TlsFailure::Other(_)
        ));
    }

    #[test]
    fn version_and_cipher_refusals_point_to_sealed_http() {
        for e in [
            rustls::Error::AlertReceived(rustls::AlertDescription::HandshakeFailure),
            rustls::Error::AlertReceived(rustls::AlertDescription::ProtocolVersion),
            rustls::Error::PeerIncompatible(
                rustls::PeerIncompatible::ServerDoesNotSupportTls12Or13,
            ),
        ] {
            let f = classify(&e);
            assert!(matches!(f, TlsFailure::NoCommonProtocol(_)), "{e}: {f:?}");
            let text = f.to_string();
            assert!(text.contains("5985") && text.contains("2008 R2"), "{text}");
        }
        // A certificate problem is not one of them.
        assert!(matches!(
            classify(&rustls::Error::AlertReceived(
                rustls::AlertDescription::BadCertificate
            )),
            TlsFailure::Other(_)
        ));
    }

    #[test]
    fn io_errors_carrying_rustls_errors_are_classified() {
        let io = std::io::Error::new(
            std::io::ErrorKind::InvalidData,
            rustls::Error::InvalidCertificate(CertificateError::UnknownIssuer),
        );
        assert_eq!(classify_io(&io), Some(TlsFailure::UnknownAuthority));
        assert_eq!(classify_io(&std::io::Error::other("x")), None);
    }

    #[test]
    fn server_name_accepts_dns_names_and_ip_addresses() {
        assert!(matches!(
            server_name("hv01.example.com"),
            Ok(ServerName::DnsName(_))
        ));
        assert!(matches!(
            server_name("192.0.2.7"),
            Ok(ServerName::IpAddress(_))
        ));
        assert!(matches!(
            server_name("[2001:db8::1]"),
            Ok(ServerName::IpAddress(_))
        ));
        assert!(server_name("bad name!").is_err());
    }

    #[test]
    fn missing_ca_file_is_a_config_error() {
        let opts = TlsOptions {
            ca_file: Some("no-such-dir/ca.pem".into()),
            ..TlsOptions::default()
        };
        assert!(matches!(
            client_config(&opts),
            Err(TransportError::Config(_))
        ));
    }

    #[test]
    fn shared_config_is_built_once_per_option_set() {
        let pinned = TlsOptions {
            thumbprint: Some(
                Thumbprint::parse("A9993E364706816ABA3E25717850C26C9CD0D89D").unwrap(),
            ),
            ..TlsOptions::default()
        };
        let a = shared_client_config(&pinned).unwrap();
        let b = shared_client_config(&pinned.clone()).unwrap();
        assert!(Arc::ptr_eq(&a, &b));
        let insecure = TlsOptions {
            insecure_skip_verify: true,
            ..TlsOptions::default()
        };
        assert!(!Arc::ptr_eq(&a, &shared_client_config(&insecure).unwrap()));
    }

    #[test]
    fn pinned_and_insecure_configs_build() {
        let opts = TlsOptions {
            thumbprint: Some(
                Thumbprint::parse("A9993E364706816ABA3E25717850C26C9CD0D89D").unwrap(),
            ),
            ..TlsOptions::default()
        };
        assert!(client_config(&opts).is_ok());
        let opts = TlsOptions {
            insecure_skip_verify: true,
            ..TlsOptions::default()
        };
        assert!(client_config(&opts).is_ok());
    }
}
