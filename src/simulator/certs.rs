//! Certificates for the HTTPS listeners: one CA made at start, and one leaf
//! per host made on first use (ECDSA P-256 with one shared leaf key, so
//! thousands of hosts stay cheap).

use super::SimError;
use super::estate::TlsCertMode;
use rcgen::{
    BasicConstraints, CertificateParams, DnType, ExtendedKeyUsagePurpose, IsCa, Issuer, KeyPair,
    KeyUsagePurpose, SanType, SerialNumber, date_time_ymd,
};
use rustls_pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};
use sha2::{Digest, Sha256};
use std::net::IpAddr;

pub struct CertAuthority {
    issuer: Issuer<'static, KeyPair>,
    ca_der: Vec<u8>,
    ca_pem: String,
    leaf_key: KeyPair,
}

/// A host's certificate chain and key, ready for rustls.
pub struct HostCert {
    pub chain: Vec<CertificateDer<'static>>,
    pub key: PrivateKeyDer<'static>,
    /// The leaf's DER (thumbprints, channel binding).
    pub leaf_der: Vec<u8>,
}

impl HostCert {
    /// SHA-256 of the leaf: the `tls-server-end-point` hash (the leaf is
    /// signed with ECDSA-SHA256, so RFC 5929 picks SHA-256).
    pub fn end_point_hash(&self) -> [u8; 32] {
        Sha256::digest(&self.leaf_der).into()
    }

    /// SHA-1 thumbprint, upper-case hex as Windows shows it.
    pub fn thumbprint_sha1(&self) -> String {
        use sha1::Sha1;
        hex::encode_upper(Sha1::digest(&self.leaf_der))
    }
}

fn cert_err(e: rcgen::Error) -> SimError {
    SimError::Certificate(e.to_string())
}

impl CertAuthority {
    pub fn new() -> Result<Self, SimError> {
        let key = KeyPair::generate().map_err(cert_err)?;
        let mut params = CertificateParams::default();
        params
            .distinguished_name
            .push(DnType::CommonName, "hvinv simulator CA");
        params
            .distinguished_name
            .push(DnType::OrganizationName, "hvinv");
        params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        params.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
        params.not_before = date_time_ymd(2024, 1, 1);
        params.not_after = date_time_ymd(2049, 12, 31);
        params.serial_number = Some(SerialNumber::from_slice(&[1]));
        let cert = params.self_signed(&key).map_err(cert_err)?;
        let ca_der = cert.der().to_vec();
        let ca_pem = cert.pem();
        Ok(CertAuthority {
            issuer: Issuer::new(params, key),
            ca_der,
            ca_pem,
            leaf_key: KeyPair::generate().map_err(cert_err)?,
        })
    }

    pub fn ca_der(&self) -> &[u8] {
        &self.ca_der
    }

    pub fn ca_pem(&self) -> &str {
        &self.ca_pem
    }

    /// The leaf for host `index`, named `dns_name` at `ip`, in `mode`.
    pub fn leaf(
        &self,
        index: usize,
        dns_name: &str,
        ip: IpAddr,
        mode: TlsCertMode,
    ) -> Result<HostCert, SimError> {
        let (name, addr) = match mode {
            TlsCertMode::WrongName => (
                "wrong-name.invalid".to_string(),
                IpAddr::from([192, 0, 2, 1]),
            ),
            _ => (dns_name.to_string(), ip),
        };
        let mut params = CertificateParams::default();
        params.distinguished_name = rcgen::DistinguishedName::new();
        params
            .distinguished_name
            .push(DnType::CommonName, name.clone());
        params.subject_alt_names = vec![
            SanType::DnsName(name.try_into().map_err(cert_err)?),
            SanType::IpAddress(addr),
        ];
        params.key_usages = vec![
            KeyUsagePurpose::DigitalSignature,
            KeyUsagePurpose::KeyEncipherment,
        ];
        params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
        params.use_authority_key_identifier_extension = true;
        let serial = (index as u64 + 2).to_be_bytes();
        params.serial_number = Some(SerialNumber::from_slice(&serial));
        if mode == TlsCertMode::Expired {
            params.not_before = date_time_ymd(2020, 1, 1);
            params.not_after = date_time_ymd(2021, 1, 1);
        } else {
            params.not_before = date_time_ymd(2024, 1, 1);
            params.not_after = date_time_ymd(2049, 12, 31);
        }
        let cert = if mode == TlsCertMode::SelfSigned {
            params.self_signed(&self.leaf_key).map_err(cert_err)?
        } else {
            params
                .signed_by(&self.leaf_key, &self.issuer)
                .map_err(cert_err)?
        };
        let leaf_der = cert.der().to_vec();
        let mut chain = vec![cert.der().clone()];
        if mode != TlsCertMode::SelfSigned {
            chain.push(CertificateDer::from(self.ca_der.clone()));
        }
        let key = PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(self.leaf_key.serialize_der()));
        Ok(HostCert {
            chain,
            key,
            leaf_der,
        })
    }
}

/// A rustls server configuration for one host certificate.
pub fn server_config(cert: &HostCert) -> Result<rustls::ServerConfig, SimError> {
    // Deprecated in rustls 0.23.48 (no post-quantum groups); the simulator
    // stands in for Windows, which offers classical groups only.
    #[allow(deprecated)]
    let provider = std::sync::Arc::new(rustls::crypto::ring::default_provider());
    let mut cfg = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| SimError::Tls(e.to_string()))?
        .with_no_client_auth()
        .with_single_cert(cert.chain.clone(), cert.key.clone_key())
        .map_err(|e| SimError::Tls(e.to_string()))?;
    cfg.alpn_protocols = vec![b"http/1.1".to_vec()];
    Ok(cfg)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn leaves_differ_per_host_and_build_a_rustls_config() {
        let ca = CertAuthority::new().unwrap();
        let a = ca
            .leaf(
                0,
                "hv01.contoso.com",
                IpAddr::from([127, 0, 10, 1]),
                TlsCertMode::Good,
            )
            .unwrap();
        let b = ca
            .leaf(
                1,
                "hv02.contoso.com",
                IpAddr::from([127, 0, 10, 2]),
                TlsCertMode::Good,
            )
            .unwrap();
        assert_ne!(a.thumbprint_sha1(), b.thumbprint_sha1());
        assert_eq!(a.thumbprint_sha1().len(), 40);
        assert_eq!(a.chain.len(), 2);
        server_config(&a).unwrap();
        let s = ca
            .leaf(
                2,
                "hv03.contoso.com",
                IpAddr::from([127, 0, 10, 3]),
                TlsCertMode::SelfSigned,
            )
            .unwrap();
        assert_eq!(s.chain.len(), 1);
        assert!(ca.ca_pem().starts_with("-----BEGIN CERTIFICATE-----"));
    }
}
