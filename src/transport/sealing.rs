//! WinRM's `multipart/encrypted` framing of a sealed SOAP body (MS-WSMV
//! 2.2.9.1.1). Pure framing: no socket, no crypto. The signature and the
//! ciphertext come from (and go to) `negotiate.rs`.
//!
//! Decoding is tolerant where real servers differ (`-- Encrypted Boundary`,
//! a missing final `--`, `multipart/x-multi-encrypted`) and strict where a
//! mistake would hide tampering or a framing bug (the `Length=` must equal
//! the ciphertext length, the signature length field must be 16).

/// The boundary every WinRM implementation uses.
pub const BOUNDARY: &str = "Encrypted Boundary";
/// The protocol parameter for NTLM (and Kerberos) under SPNEGO.
pub const PROTOCOL: &str = "application/HTTP-SPNEGO-session-encrypted";
/// `Content-Type` of a sealed request.
pub const CONTENT_TYPE: &str = "multipart/encrypted;protocol=\"application/HTTP-SPNEGO-session-encrypted\";boundary=\"Encrypted Boundary\"";
/// The protocol parameter for Kerberos under the `Kerberos` HTTP scheme.
pub const KERBEROS_PROTOCOL: &str = "application/HTTP-Kerberos-session-encrypted";
/// NTLM signatures are always 16 bytes (version, checksum, sequence number).
pub const SIGNATURE_LEN: usize = 16;

const OCTET_STREAM_LINE: &[u8] = b"\tContent-Type: application/octet-stream\r\n";

/// The sealed payload of one encrypted body, still encrypted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Sealed {
    pub signature: [u8; SIGNATURE_LEN],
    pub ciphertext: Vec<u8>,
    /// The plaintext length announced in `OriginalContent: ...;Length=`.
    pub length: usize,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SealingError {
    #[error("content type {0:?} is not multipart/encrypted")]
    NotEncrypted(String),
    #[error("content type protocol {0:?} is not the one this session seals with")]
    WrongProtocol(String),
    #[error("encrypted body: missing {0}")]
    Missing(&'static str),
    #[error("encrypted body: bad Length= value")]
    BadLength,
    #[error("encrypted body: signature length field is {0}, expected 16")]
    BadSignatureLength(u32),
    #[error("encrypted body: header length field is {0}, expected 1 to 1024")]
    BadHeaderLength(u32),
    #[error("encrypted body: truncated (Length={expected}, {available} bytes of ciphertext)")]
    Truncated { expected: usize, available: usize },
    #[error("encrypted body: Length={expected} does not match the ciphertext")]
    LengthMismatch { expected: usize },
    #[error("encrypted body: more than one encrypted part (only CredSSP chunks its bodies)")]
    MultipleParts,
}

/// Frames one sealed message: `signature` and `ciphertext` as produced by
/// NTLM `encrypt_message`, `plaintext_len` the SOAP body length.
pub fn encode(signature: &[u8; SIGNATURE_LEN], ciphertext: &[u8], plaintext_len: usize) -> Vec<u8> {
    encode_gss(PROTOCOL, signature, ciphertext, plaintext_len)
}

/// Frames one sealed message under `protocol` (SPNEGO or Kerberos): a GSS
/// wrap token split as WinRM does, `header` (NTLM signature, or the Kerberos
/// wrap token header) then the encrypted data.
pub fn encode_gss(
    protocol: &str,
    header: &[u8],
    ciphertext: &[u8],
    plaintext_len: usize,
) -> Vec<u8> {
    let head = format!(
        "--{BOUNDARY}\r\n\tContent-Type: {protocol}\r\n\
         \tOriginalContent: type=application/soap+xml;charset=UTF-8;Length={plaintext_len}\r\n\
         --{BOUNDARY}\r\n"
    );
    let trailer = format!("--{BOUNDARY}--\r\n");
    let mut out = Vec::with_capacity(
        head.len() + OCTET_STREAM_LINE.len() + 4 + header.len() + ciphertext.len() + trailer.len(),
    );
    out.extend_from_slice(head.as_bytes());
    out.extend_from_slice(OCTET_STREAM_LINE);
    // Headers are at most MAX_HEADER_LEN bytes; the cast cannot truncate.
    out.extend_from_slice(&(header.len() as u32).to_le_bytes());
    out.extend_from_slice(header);
    out.extend_from_slice(ciphertext);
    out.extend_from_slice(trailer.as_bytes());
    out
}

/// `Content-Type` of a sealed request under `protocol`.
pub fn content_type_for(protocol: &str) -> String {
    format!("multipart/encrypted;protocol=\"{protocol}\";boundary=\"{BOUNDARY}\"")
}

/// True when `content_type` announces a sealed body (either multipart
/// flavour). Used to decide whether a reply needs unsealing at all.
pub fn is_encrypted(content_type: &str) -> bool {
    let media = content_type.split(';').next().unwrap_or("").trim();
    media.eq_ignore_ascii_case("multipart/encrypted")
        || media.eq_ignore_ascii_case("multipart/x-multi-encrypted")
}

/// Parses an encrypted body. Never panics, never allocates more than the
/// body size.
pub fn decode(content_type: &str, body: &[u8]) -> Result<Sealed, SealingError> {
    let g = decode_parts(content_type, body, PROTOCOL, |n| {
        if n as usize == SIGNATURE_LEN {
            Ok(())
        } else {
            Err(SealingError::BadSignatureLength(n))
        }
    })?;
    let mut signature = [0u8; SIGNATURE_LEN];
    signature.copy_from_slice(&g.header);
    Ok(Sealed {
        signature,
        ciphertext: g.ciphertext,
        length: g.length,
    })
}

/// A sealed body whose header length varies (Kerberos wrap tokens).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SealedGss {
    pub header: Vec<u8>,
    pub ciphertext: Vec<u8>,
    pub length: usize,
}

/// Parses an encrypted body under `protocol` with a header of 1 to
/// `MAX_HEADER_LEN` bytes (a Kerberos wrap token header is 60 bytes with
/// AES, more with filler).
pub fn decode_gss(
    content_type: &str,
    body: &[u8],
    protocol: &str,
) -> Result<SealedGss, SealingError> {
    decode_parts(content_type, body, protocol, |n| {
        if n >= 1 && n as usize <= MAX_HEADER_LEN {
            Ok(())
        } else {
            Err(SealingError::BadHeaderLength(n))
        }
    })
}

/// Largest GSS header accepted in a sealed body.
pub const MAX_HEADER_LEN: usize = 1024;

fn decode_parts(
    content_type: &str,
    body: &[u8],
    protocol: &str,
    header_len_ok: impl Fn(u32) -> Result<(), SealingError>,
) -> Result<SealedGss, SealingError> {
    if !is_encrypted(content_type) {
        return Err(SealingError::NotEncrypted(
            content_type.chars().take(120).collect(),
        ));
    }
    if let Some(p) = param(content_type, "protocol")
        && !p.eq_ignore_ascii_case(protocol)
    {
        return Err(SealingError::WrongProtocol(p.chars().take(120).collect()));
    }
    let boundary = param(content_type, "boundary").unwrap_or(BOUNDARY);
    let boundary = boundary.as_bytes();

    // Part 1: the headers, between the first two delimiters.
    let (_, after_first) =
        find_delimiter(body, boundary).ok_or(SealingError::Missing("opening boundary"))?;
    let rest = body.get(after_first..).unwrap_or_default();
    let (header_end, after_second) =
        find_delimiter(rest, boundary).ok_or(SealingError::Missing("second boundary"))?;
    let header = rest.get(..header_end).unwrap_or_default();
    let length = original_length(header)?;
    let payload = rest.get(after_second..).unwrap_or_default();

    // Part 2: optional Content-Type line, u32 header length, header,
    // ciphertext.
    let payload = skip_line_eol(payload);
    let payload = skip_content_type_line(payload);
    let (len_field, payload) =
        split(payload, 4).ok_or(SealingError::Missing("signature length"))?;
    let mut len_bytes = [0u8; 4];
    len_bytes.copy_from_slice(len_field);
    let sig_len = u32::from_le_bytes(len_bytes);
    header_len_ok(sig_len)?;
    let (sig, payload) =
        split(payload, sig_len as usize).ok_or(SealingError::Missing("signature"))?;

    // NTLM sealing is a stream cipher and WinRM's Kerberos split leaves the
    // data part exactly as long as the plaintext: the ciphertext is exactly
    // `length` bytes. Taking it by length (not by searching for the closing
    // boundary) means ciphertext that happens to contain the boundary bytes
    // cannot confuse us.
    let (ciphertext, trailer) = split(payload, length).ok_or(SealingError::Truncated {
        expected: length,
        available: payload.len(),
    })?;
    check_trailer(trailer, boundary, length)?;
    Ok(SealedGss {
        header: sig.to_vec(),
        ciphertext: ciphertext.to_vec(),
        length,
    })
}

/// A `name=value` or `name="value"` parameter of a media type.
fn param<'a>(content_type: &'a str, name: &str) -> Option<&'a str> {
    content_type.split(';').skip(1).find_map(|p| {
        let (k, v) = p.split_once('=')?;
        if k.trim().eq_ignore_ascii_case(name) {
            Some(v.trim().trim_matches(|c| c == '"' || c == '\'')).filter(|v| !v.is_empty())
        } else {
            None
        }
    })
}

/// Finds a delimiter line `--<boundary>` (Exchange writes `-- <boundary>`)
/// that is not the closing one. Returns (start of delimiter, index just
/// after its line end).
fn find_delimiter(hay: &[u8], boundary: &[u8]) -> Option<(usize, usize)> {
    let mut from = 0;
    while let Some(pos) = find(hay.get(from..)?, b"--") {
        let start = from + pos;
        let after_dashes = start + 2;
        let mut i = after_dashes;
        while hay.get(i).is_some_and(|b| *b == b' ' || *b == b'\t') {
            i += 1;
        }
        if hay.get(i..).is_some_and(|h| h.starts_with(boundary)) {
            let mut end = i + boundary.len();
            let is_closing = hay.get(end..).is_some_and(|h| h.starts_with(b"--"));
            if !is_closing {
                while hay.get(end).is_some_and(|b| *b == b' ' || *b == b'\t') {
                    end += 1;
                }
                return Some((start, end + eol_len(hay.get(end..).unwrap_or_default())));
            }
        }
        from = after_dashes;
    }
    None
}

/// `Length=<digits>` from the `OriginalContent` header line.
fn original_length(header: &[u8]) -> Result<usize, SealingError> {
    let text = std::str::from_utf8(header).map_err(|_| SealingError::BadLength)?;
    let lower = text.to_ascii_lowercase();
    let at = lower
        .find("length=")
        .ok_or(SealingError::Missing("OriginalContent Length="))?;
    let digits: &str = text
        .get(at + "length=".len()..)
        .unwrap_or_default()
        .split(|c: char| !c.is_ascii_digit())
        .next()
        .unwrap_or_default();
    if digits.is_empty() {
        return Err(SealingError::BadLength);
    }
    digits.parse::<usize>().map_err(|_| SealingError::BadLength)
}

/// After the ciphertext: nothing, or the closing delimiter (with or without
/// its final `--`, with or without a line end). Anything else means the
/// announced length is wrong, or a second part follows.
fn check_trailer(trailer: &[u8], boundary: &[u8], length: usize) -> Result<(), SealingError> {
    let t = skip_line_eol(trailer);
    if t.iter().all(|b| b.is_ascii_whitespace()) {
        return Ok(());
    }
    let Some(after_dashes) = t.strip_prefix(b"--") else {
        return Err(SealingError::LengthMismatch { expected: length });
    };
    let after_ws = trim_start_blanks(after_dashes);
    let Some(after_boundary) = after_ws.strip_prefix(boundary) else {
        return Err(SealingError::LengthMismatch { expected: length });
    };
    let tail = after_boundary.strip_prefix(b"--").unwrap_or(after_boundary);
    if tail.iter().all(|b| b.is_ascii_whitespace()) {
        Ok(())
    } else if after_boundary.starts_with(b"--") {
        Err(SealingError::LengthMismatch { expected: length })
    } else {
        Err(SealingError::MultipleParts)
    }
}

fn skip_content_type_line(p: &[u8]) -> &[u8] {
    if p.starts_with(OCTET_STREAM_LINE) {
        return p.get(OCTET_STREAM_LINE.len()..).unwrap_or_default();
    }
    // Tolerate other whitespace or capitalisation on that line.
    let trimmed = trim_start_blanks(p);
    let is_ct = trimmed
        .get(..13)
        .is_some_and(|h| h.eq_ignore_ascii_case(b"content-type:"));
    if is_ct && let Some(nl) = trimmed.iter().position(|b| *b == b'\n') {
        return trimmed.get(nl + 1..).unwrap_or_default();
    }
    p
}

fn skip_line_eol(p: &[u8]) -> &[u8] {
    p.get(eol_len(p)..).unwrap_or_default()
}

fn eol_len(p: &[u8]) -> usize {
    if p.starts_with(b"\r\n") {
        2
    } else if p.starts_with(b"\n") {
        1
    } else {
        0
    }
}

fn trim_start_blanks(p: &[u8]) -> &[u8] {
    let n = p.iter().take_while(|b| **b == b' ' || **b == b'\t').count();
    p.get(n..).unwrap_or_default()
}

fn split(p: &[u8], at: usize) -> Option<(&[u8], &[u8])> {
    (at <= p.len()).then(|| p.split_at(at))
}

fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    hay.windows(needle.len()).position(|w| w == needle)
}

#[cfg(test)]
mod tests {
    use super::*;

    const SIG: [u8; 16] = [
        1, 0, 0, 0, 0x7f, 0xb3, 0x8e, 0xc5, 0xc5, 0x5d, 0x49, 0x76, 0, 0, 0, 0,
    ];

    /// Builds a body by hand, exactly as research §4 shows it.
    fn hand_body(delim: &str, length: &str, sig_len: u32, ct: &[u8], closing: &str) -> Vec<u8> {
        let mut b = Vec::new();
        b.extend_from_slice(format!("{delim}\r\n").as_bytes());
        b.extend_from_slice(b"\tContent-Type: application/HTTP-SPNEGO-session-encrypted\r\n");
        b.extend_from_slice(
            format!(
                "\tOriginalContent: type=application/soap+xml;charset=UTF-8;Length={length}\r\n"
            )
            .as_bytes(),
        );
        b.extend_from_slice(format!("{delim}\r\n").as_bytes());
        b.extend_from_slice(b"\tContent-Type: application/octet-stream\r\n");
        b.extend_from_slice(&sig_len.to_le_bytes());
        b.extend_from_slice(&SIG);
        b.extend_from_slice(ct);
        b.extend_from_slice(closing.as_bytes());
        b
    }

    #[test]
    fn encode_writes_the_exact_bytes_of_research_section_4() {
        let ct = b"\x54\xe5\x01\x65\xbf\x19";
        let got = encode(&SIG, ct, 6);
        let mut want = Vec::new();
        want.extend_from_slice(b"--Encrypted Boundary\r\n");
        want.extend_from_slice(b"\tContent-Type: application/HTTP-SPNEGO-session-encrypted\r\n");
        want.extend_from_slice(
            b"\tOriginalContent: type=application/soap+xml;charset=UTF-8;Length=6\r\n",
        );
        want.extend_from_slice(b"--Encrypted Boundary\r\n");
        want.extend_from_slice(b"\tContent-Type: application/octet-stream\r\n");
        want.extend_from_slice(&[16, 0, 0, 0]);
        want.extend_from_slice(&SIG);
        want.extend_from_slice(ct);
        want.extend_from_slice(b"--Encrypted Boundary--\r\n");
        assert_eq!(got, want);
    }

    #[test]
    fn content_type_constant_matches_research() {
        assert_eq!(
            CONTENT_TYPE,
            "multipart/encrypted;protocol=\"application/HTTP-SPNEGO-session-encrypted\";boundary=\"Encrypted Boundary\""
        );
    }

    #[test]
    fn decode_reads_a_hand_written_body() {
        let ct = b"sealed-bytes";
        let body = hand_body(
            "--Encrypted Boundary",
            "12",
            16,
            ct,
            "--Encrypted Boundary--\r\n",
        );
        let s = decode(CONTENT_TYPE, &body).unwrap();
        assert_eq!(s.signature, SIG);
        assert_eq!(s.ciphertext, ct);
        assert_eq!(s.length, 12);
    }

    #[test]
    fn decode_accepts_exchange_style_spaced_boundary() {
        let body = hand_body(
            "-- Encrypted Boundary",
            "3",
            16,
            b"abc",
            "-- Encrypted Boundary--\r\n",
        );
        assert_eq!(decode(CONTENT_TYPE, &body).unwrap().ciphertext, b"abc");
    }

    #[test]
    fn decode_accepts_missing_final_dashes_and_missing_crlf() {
        for closing in [
            "--Encrypted Boundary\r\n",
            "--Encrypted Boundary",
            "--Encrypted Boundary--",
            "",
        ] {
            let body = hand_body("--Encrypted Boundary", "3", 16, b"abc", closing);
            assert_eq!(
                decode(CONTENT_TYPE, &body).unwrap().ciphertext,
                b"abc",
                "closing {closing:?}"
            );
        }
    }

    #[test]
    fn decode_accepts_x_multi_encrypted_and_unquoted_parameters() {
        let body = hand_body(
            "--Encrypted Boundary",
            "3",
            16,
            b"abc",
            "--Encrypted Boundary--\r\n",
        );
        let ct = "multipart/x-multi-encrypted; protocol=application/HTTP-SPNEGO-session-encrypted; boundary=Encrypted Boundary";
        assert_eq!(decode(ct, &body).unwrap().ciphertext, b"abc");
        assert_eq!(decode("MULTIPART/ENCRYPTED", &body).unwrap().length, 3);
    }

    #[test]
    fn decode_uses_the_boundary_from_the_content_type() {
        let body = hand_body("--Other", "3", 16, b"abc", "--Other--\r\n");
        let ct = "multipart/encrypted;protocol=\"application/HTTP-SPNEGO-session-encrypted\";boundary=\"Other\"";
        assert_eq!(decode(ct, &body).unwrap().ciphertext, b"abc");
    }

    #[test]
    fn decode_takes_ciphertext_by_length_even_if_it_contains_the_boundary() {
        let ct = b"x--Encrypted Boundary--\r\ny";
        let body = hand_body(
            "--Encrypted Boundary",
            &ct.len().to_string(),
            16,
            ct,
            "--Encrypted Boundary--\r\n",
        );
        assert_eq!(decode(CONTENT_TYPE, &body).unwrap().ciphertext, ct);
    }

    #[test]
    fn decode_round_trips_encode() {
        let ct: Vec<u8> = (0..=255u8).cycle().take(5000).collect();
        let body = encode(&SIG, &ct, ct.len());
        let s = decode(CONTENT_TYPE, &body).unwrap();
        assert_eq!(
            (s.signature, s.ciphertext, s.length),
            (SIG, ct.clone(), ct.len())
        );
    }

    #[test]
    fn decode_rejects_plain_soap_content_type() {
        let body = hand_body(
            "--Encrypted Boundary",
            "3",
            16,
            b"abc",
            "--Encrypted Boundary--\r\n",
        );
        assert!(matches!(
            decode("application/soap+xml;charset=UTF-8", &body),
            Err(SealingError::NotEncrypted(_))
        ));
    }

    #[test]
    fn decode_rejects_another_protocol() {
        let body = hand_body(
            "--Encrypted Boundary",
            "3",
            16,
            b"abc",
            "--Encrypted Boundary--\r\n",
        );
        let ct = "multipart/encrypted;protocol=\"application/HTTP-CredSSP-session-encrypted\";boundary=\"Encrypted Boundary\"";
        assert!(matches!(
            decode(ct, &body),
            Err(SealingError::WrongProtocol(_))
        ));
    }

    #[test]
    fn decode_rejects_wrong_signature_length_field() {
        let body = hand_body(
            "--Encrypted Boundary",
            "3",
            17,
            b"abc",
            "--Encrypted Boundary--\r\n",
        );
        assert_eq!(
            decode(CONTENT_TYPE, &body),
            Err(SealingError::BadSignatureLength(17))
        );
    }

    #[test]
    fn decode_rejects_length_shorter_than_ciphertext() {
        let body = hand_body(
            "--Encrypted Boundary",
            "2",
            16,
            b"abc",
            "--Encrypted Boundary--\r\n",
        );
        assert_eq!(
            decode(CONTENT_TYPE, &body),
            Err(SealingError::LengthMismatch { expected: 2 })
        );
    }

    #[test]
    fn decode_rejects_length_longer_than_ciphertext() {
        let body = hand_body("--Encrypted Boundary", "4", 16, b"abc", "");
        assert_eq!(
            decode(CONTENT_TYPE, &body),
            Err(SealingError::Truncated {
                expected: 4,
                available: 3
            })
        );
    }

    #[test]
    fn decode_rejects_huge_length_without_allocating() {
        let body = hand_body(
            "--Encrypted Boundary",
            "18446744073709551615",
            16,
            b"abc",
            "",
        );
        assert!(matches!(
            decode(CONTENT_TYPE, &body),
            Err(SealingError::Truncated { .. })
        ));
        let body = hand_body(
            "--Encrypted Boundary",
            "99999999999999999999999",
            16,
            b"abc",
            "",
        );
        assert_eq!(decode(CONTENT_TYPE, &body), Err(SealingError::BadLength));
    }

    #[test]
    fn decode_rejects_missing_or_empty_length() {
        let body = hand_body("--Encrypted Boundary", "", 16, b"abc", "");
        assert_eq!(decode(CONTENT_TYPE, &body), Err(SealingError::BadLength));
        let body =
            b"--Encrypted Boundary\r\n\tContent-Type: x\r\n--Encrypted Boundary\r\n".to_vec();
        assert_eq!(
            decode(CONTENT_TYPE, &body),
            Err(SealingError::Missing("OriginalContent Length="))
        );
    }

    #[test]
    fn decode_rejects_truncated_signature() {
        let full = hand_body("--Encrypted Boundary", "0", 16, b"", "");
        // Cut inside the 16-byte signature.
        let cut = &full[..full.len() - 5];
        assert_eq!(
            decode(CONTENT_TYPE, cut),
            Err(SealingError::Missing("signature"))
        );
        let cut = &full[..full.len() - 18];
        assert_eq!(
            decode(CONTENT_TYPE, cut),
            Err(SealingError::Missing("signature length"))
        );
    }

    #[test]
    fn decode_rejects_a_second_encrypted_part() {
        let mut body = hand_body("--Encrypted Boundary", "3", 16, b"abc", "");
        body.extend_from_slice(&hand_body(
            "--Encrypted Boundary",
            "3",
            16,
            b"abc",
            "--Encrypted Boundary--\r\n",
        ));
        assert_eq!(
            decode(CONTENT_TYPE, &body),
            Err(SealingError::MultipleParts)
        );
    }

    #[test]
    fn decode_rejects_bodies_without_boundaries() {
        assert_eq!(
            decode(CONTENT_TYPE, b""),
            Err(SealingError::Missing("opening boundary"))
        );
        assert_eq!(
            decode(CONTENT_TYPE, b"--Encrypted Boundary\r\nLength=3\r\n"),
            Err(SealingError::Missing("second boundary"))
        );
        assert_eq!(
            decode(CONTENT_TYPE, b"--Encrypted Boundary--\r\n"),
            Err(SealingError::Missing("opening boundary"))
        );
    }

    #[test]
    fn decode_never_panics_on_any_prefix_or_mutation() {
        let body = hand_body(
            "--Encrypted Boundary",
            "3",
            16,
            b"abc",
            "--Encrypted Boundary--\r\n",
        );
        for n in 0..body.len() {
            let _ = decode(CONTENT_TYPE, &body[..n]);
            let mut m = body.clone();
            m[n] ^= 0xff;
            let _ = decode(CONTENT_TYPE, &m);
            let mut m = body.clone();
            m.remove(n);
            let _ = decode(CONTENT_TYPE, &m);
        }
    }
}
