//! Certificate pins: a SHA-1 thumbprint as Windows shows it
//! (`Get-ChildItem Cert:\LocalMachine\My`), or a SHA-256 fingerprint.

use sha1::Digest;

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Thumbprint {
    Sha1([u8; 20]),
    Sha256([u8; 32]),
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "cert_thumbprint {0:?} is not a SHA-1 (40 hex digits) or SHA-256 (64 hex digits) thumbprint"
)]
pub struct BadThumbprint(pub String);

impl Thumbprint {
    /// Accepts upper or lower case, with spaces or colons between bytes.
    /// Copying from the Windows certificate dialog prepends an invisible
    /// U+200E mark; that is dropped too.
    pub fn parse(text: &str) -> Result<Thumbprint, BadThumbprint> {
        let hex: String = text
            .chars()
            .filter(|c| !c.is_whitespace() && *c != ':' && *c != '\u{200e}' && *c != '\u{feff}')
            .collect();
        let bad = || BadThumbprint(text.chars().take(100).collect());
        let bytes = hex::decode(&hex).map_err(|_| bad())?;
        if let Ok(b) = <[u8; 20]>::try_from(bytes.as_slice()) {
            Ok(Thumbprint::Sha1(b))
        } else if let Ok(b) = <[u8; 32]>::try_from(bytes.as_slice()) {
            Ok(Thumbprint::Sha256(b))
        } else {
            Err(bad())
        }
    }

    /// Whether the certificate (DER) is the pinned one.
    pub fn matches(&self, cert_der: &[u8]) -> bool {
        match self {
            Thumbprint::Sha1(want) => sha1::Sha1::digest(cert_der).as_slice() == want,
            Thumbprint::Sha256(want) => sha2::Sha256::digest(cert_der).as_slice() == want,
        }
    }

    /// Upper-case hex, as Windows prints it.
    pub fn of_sha1(cert_der: &[u8]) -> String {
        hex::encode_upper(sha1::Sha1::digest(cert_der))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    // FIPS 180 "abc" digests, used as a stand-in for a certificate's DER.
    const ABC_SHA1: &str = "A9993E364706816ABA3E25717850C26C9CD0D89D";
    const ABC_SHA256: &str = "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad";

    #[test]
    fn sha1_thumbprint_matches_in_any_spelling() {
        for text in [
            ABC_SHA1.to_string(),
            ABC_SHA1.to_lowercase(),
            "a9 99 3e 36 47 06 81 6a ba 3e 25 71 78 50 c2 6c 9c d0 d8 9d".to_string(),
            "A9:99:3E:36:47:06:81:6A:BA:3E:25:71:78:50:C2:6C:9C:D0:D8:9D".to_string(),
            format!("\u{200e}{ABC_SHA1}\n"),
        ] {
            let t = Thumbprint::parse(&text).unwrap();
            assert!(matches!(t, Thumbprint::Sha1(_)), "{text}");
            assert!(t.matches(b"abc"), "{text}");
            assert!(!t.matches(b"abd"), "{text}");
        }
    }

    #[test]
    fn sha256_thumbprint_matches() {
        let t = Thumbprint::parse(ABC_SHA256).unwrap();
        assert!(matches!(t, Thumbprint::Sha256(_)));
        assert!(t.matches(b"abc"));
        assert!(!t.matches(b"ab"));
    }

    #[test]
    fn malformed_thumbprints_are_rejected() {
        for text in [
            "",
            "zz",
            "A9993E",
            &ABC_SHA1[..39],
            &format!("{ABC_SHA1}00"),
            "g".repeat(40).as_str(),
        ] {
            assert!(Thumbprint::parse(text).is_err(), "{text:?}");
        }
    }

    #[test]
    fn of_sha1_prints_windows_style() {
        assert_eq!(Thumbprint::of_sha1(b"abc"), ABC_SHA1);
    }
}
