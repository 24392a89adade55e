//! RFC 5929 `tls-server-end-point` channel binding data, which NTLM puts
//! (hashed) in MsvAvChannelBindings so a WinRM listener with Extended
//! Protection can tie our authentication to its TLS channel.

use sha2::Digest;
use x509_cert::der::Decode;
use x509_cert::der::asn1::ObjectIdentifier;

const PREFIX: &[u8] = b"tls-server-end-point:";

// Signature algorithms whose hash is SHA-384 or SHA-512 (RFC 5929 §4.1:
// use the certificate's own hash, except MD5/SHA-1 become SHA-256).
const SHA384_SIGS: [&str; 2] = [
    "1.2.840.113549.1.1.12", // sha384WithRSAEncryption
    "1.2.840.10045.4.3.3",   // ecdsa-with-SHA384
];
const SHA512_SIGS: [&str; 2] = [
    "1.2.840.113549.1.1.13", // sha512WithRSAEncryption
    "1.2.840.10045.4.3.4",   // ecdsa-with-SHA512
];

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EndPointHash {
    Sha256,
    Sha384,
    Sha512,
}

/// The hash RFC 5929 prescribes for this certificate. Anything we cannot
/// parse or classify (PSS, EdDSA) gets SHA-256, which is what Windows uses
/// for all common certificates.
pub fn hash_for(cert_der: &[u8]) -> EndPointHash {
    let Ok(cert) = x509_cert::Certificate::from_der(cert_der) else {
        return EndPointHash::Sha256;
    };
    let oid: ObjectIdentifier = cert.signature_algorithm.oid;
    let oid = oid.to_string();
    if SHA384_SIGS.contains(&oid.as_str()) {
        EndPointHash::Sha384
    } else if SHA512_SIGS.contains(&oid.as_str()) {
        EndPointHash::Sha512
    } else {
        EndPointHash::Sha256
    }
}

/// `"tls-server-end-point:" ‖ H(cert DER)`: the application data of the
/// channel bindings (sspi adds the zeroed address fields and the MD5).
pub fn application_data(cert_der: &[u8]) -> Vec<u8> {
    let mut out = PREFIX.to_vec();
    match hash_for(cert_der) {
        EndPointHash::Sha256 => out.extend_from_slice(&sha2::Sha256::digest(cert_der)),
        EndPointHash::Sha384 => out.extend_from_slice(&sha2::Sha384::digest(cert_der)),
        EndPointHash::Sha512 => out.extend_from_slice(&sha2::Sha512::digest(cert_der)),
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cert_with(alg: &'static rcgen::SignatureAlgorithm) -> Vec<u8> {
        let key = rcgen::KeyPair::generate_for(alg).unwrap();
        let params = rcgen::CertificateParams::new(vec!["host.example".to_string()]).unwrap();
        params.self_signed(&key).unwrap().der().to_vec()
    }

    #[test]
    fn ecdsa_sha256_certificate_binds_with_sha256() {
        let der = cert_with(&rcgen::PKCS_ECDSA_P256_SHA256);
        assert_eq!(hash_for(&der), EndPointHash::Sha256);
        let data = application_data(&der);
        assert_eq!(&data[..PREFIX.len()], PREFIX);
        assert_eq!(&data[PREFIX.len()..], sha2::Sha256::digest(&der).as_slice());
    }

    #[test]
    fn ecdsa_sha384_certificate_binds_with_sha384() {
        let der = cert_with(&rcgen::PKCS_ECDSA_P384_SHA384);
        assert_eq!(hash_for(&der), EndPointHash::Sha384);
        assert_eq!(application_data(&der).len(), PREFIX.len() + 48);
    }

    #[test]
    fn unparsable_certificate_falls_back_to_sha256() {
        assert_eq!(hash_for(b"not a certificate"), EndPointHash::Sha256);
        assert_eq!(application_data(b"x").len(), PREFIX.len() + 32);
    }
}
