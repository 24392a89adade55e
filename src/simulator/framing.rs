//! The WinRM `multipart/encrypted` body (MS-WSMV §2.2.9.1.1): pure framing,
//! no HTTP, no crypto. The server writes exactly the layout Windows writes
//! and reads what clients send.

pub const CONTENT_TYPE: &str = "multipart/encrypted;protocol=\"application/HTTP-SPNEGO-session-encrypted\";boundary=\"Encrypted Boundary\"";
pub const PROTOCOL: &str = "application/HTTP-SPNEGO-session-encrypted";

const BOUNDARY: &[u8] = b"--Encrypted Boundary";
const OCTET_HEADER: &[u8] = b"Content-Type: application/octet-stream\r\n";

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FramingError {
    #[error("missing encrypted boundary")]
    NoBoundary,
    #[error("missing or bad OriginalContent Length")]
    NoLength,
    #[error("missing application/octet-stream part")]
    NoOctetPart,
    #[error("sealed part shorter than announced")]
    Truncated,
    #[error("signature length {0} is not 16")]
    BadSignatureLength(u32),
}

/// The pieces of one sealed message.
#[derive(Debug, PartialEq, Eq)]
pub struct Sealed<'a> {
    pub signature: &'a [u8],
    pub ciphertext: &'a [u8],
}

/// Builds the body for `ciphertext` (same length as the plaintext).
pub fn wrap(signature: &[u8; 16], ciphertext: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(ciphertext.len() + 256);
    out.extend_from_slice(BOUNDARY);
    out.extend_from_slice(b"\r\n\tContent-Type: ");
    out.extend_from_slice(PROTOCOL.as_bytes());
    out.extend_from_slice(
        b"\r\n\tOriginalContent: type=application/soap+xml;charset=UTF-8;Length=",
    );
    out.extend_from_slice(ciphertext.len().to_string().as_bytes());
    out.extend_from_slice(b"\r\n");
    out.extend_from_slice(BOUNDARY);
    out.extend_from_slice(b"\r\n\t");
    out.extend_from_slice(OCTET_HEADER);
    out.extend_from_slice(&16u32.to_le_bytes());
    out.extend_from_slice(signature);
    out.extend_from_slice(ciphertext);
    out.extend_from_slice(BOUNDARY);
    out.extend_from_slice(b"--\r\n");
    out
}

fn find(hay: &[u8], needle: &[u8], from: usize) -> Option<usize> {
    hay.get(from..)?
        .windows(needle.len())
        .position(|w| w == needle)
        .map(|p| p + from)
}

/// Splits a sealed body into signature and ciphertext.
pub fn unwrap(body: &[u8]) -> Result<Sealed<'_>, FramingError> {
    let first = find(body, BOUNDARY, 0).ok_or(FramingError::NoBoundary)?;
    let len_at = find(body, b"Length=", first).ok_or(FramingError::NoLength)? + 7;
    let digits = body
        .get(len_at..)
        .ok_or(FramingError::NoLength)?
        .iter()
        .take_while(|b| b.is_ascii_digit())
        .count();
    let length: usize = std::str::from_utf8(
        body.get(len_at..len_at + digits)
            .ok_or(FramingError::NoLength)?,
    )
    .ok()
    .and_then(|s| s.parse().ok())
    .ok_or(FramingError::NoLength)?;
    let second = find(body, BOUNDARY, len_at).ok_or(FramingError::NoOctetPart)?;
    let header = find(body, OCTET_HEADER, second).ok_or(FramingError::NoOctetPart)?;
    let mut at = header + OCTET_HEADER.len();
    let sig_len = body
        .get(at..at + 4)
        .and_then(|b| b.try_into().ok())
        .map(u32::from_le_bytes)
        .ok_or(FramingError::Truncated)?;
    if sig_len != 16 {
        return Err(FramingError::BadSignatureLength(sig_len));
    }
    at += 4;
    let signature = body.get(at..at + 16).ok_or(FramingError::Truncated)?;
    at += 16;
    let end = at.checked_add(length).ok_or(FramingError::Truncated)?;
    let ciphertext = body.get(at..end).ok_or(FramingError::Truncated)?;
    Ok(Sealed {
        signature,
        ciphertext,
    })
}

/// Whether a request Content-Type announces a sealed body.
pub fn is_sealed_content_type(ct: &str) -> bool {
    let lower = ct.to_ascii_lowercase();
    (lower.starts_with("multipart/encrypted") || lower.starts_with("multipart/x-multi-encrypted"))
        && lower.contains("application/http-spnego-session-encrypted")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wrap_writes_the_documented_layout() {
        let body = wrap(&[0xAB; 16], b"xyz");
        let mut expected = b"--Encrypted Boundary\r\n\tContent-Type: application/HTTP-SPNEGO-session-encrypted\r\n\tOriginalContent: type=application/soap+xml;charset=UTF-8;Length=3\r\n--Encrypted Boundary\r\n\tContent-Type: application/octet-stream\r\n".to_vec();
        expected.extend([16, 0, 0, 0]);
        expected.extend([0xAB; 16]);
        expected.extend(b"xyz--Encrypted Boundary--\r\n");
        assert_eq!(body, expected);
    }

    #[test]
    fn unwrap_round_trips_wrap() {
        let body = wrap(&[1; 16], b"hello world");
        let s = unwrap(&body).unwrap();
        assert_eq!(s.signature, &[1; 16]);
        assert_eq!(s.ciphertext, b"hello world");
    }

    #[test]
    fn unwrap_accepts_missing_final_dashes_and_rejects_short_bodies() {
        let mut body = wrap(&[1; 16], b"abc");
        body.truncate(body.len() - 4);
        assert!(unwrap(&body).is_ok());
        let body = wrap(&[1; 16], b"abcdef");
        let cut = body.len() - 30;
        assert_eq!(unwrap(&body[..cut]), Err(FramingError::Truncated));
        assert_eq!(unwrap(b"plain soap"), Err(FramingError::NoBoundary));
    }

    #[test]
    fn sealed_content_type_detection() {
        assert!(is_sealed_content_type(CONTENT_TYPE));
        assert!(!is_sealed_content_type(
            "application/soap+xml;charset=UTF-8"
        ));
    }
}
