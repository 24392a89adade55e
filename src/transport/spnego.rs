//! Just enough SPNEGO (RFC 4178) to read a server's reply token: we send
//! raw NTLMSSP under the `Negotiate` scheme, and Windows answers raw too,
//! but a server may wrap its CHALLENGE in a `negTokenResp`. This parser
//! reads DER defensively: every length is checked against the input.

const NTLMSSP: &[u8] = b"NTLMSSP\0";

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SpnegoError {
    #[error("server token is neither NTLMSSP nor SPNEGO")]
    Unrecognised,
    #[error("malformed SPNEGO token: {0}")]
    Malformed(&'static str),
    #[error("server rejected the negotiation (SPNEGO negState reject)")]
    Rejected,
    #[error("SPNEGO reply carries no NTLM token")]
    NoToken,
}

/// Returns the NTLMSSP message inside `token` (raw, or the responseToken
/// of a negTokenResp).
pub fn ntlm_token(token: &[u8]) -> Result<&[u8], SpnegoError> {
    if token.starts_with(NTLMSSP) {
        return Ok(token);
    }
    // negTokenResp ::= [1] SEQUENCE { negState [0], supportedMech [1],
    //                                  responseToken [2], mechListMIC [3] }
    let (tag, body, _) = tlv(token)?;
    if tag != 0xa1 {
        return Err(SpnegoError::Unrecognised);
    }
    let (tag, mut seq, _) = tlv(body)?;
    if tag != 0x30 {
        return Err(SpnegoError::Malformed("negTokenResp is not a SEQUENCE"));
    }
    let mut response = None;
    while !seq.is_empty() {
        let (tag, field, rest) = tlv(seq)?;
        seq = rest;
        match tag {
            0xa0 => {
                // negState ENUMERATED: 0 accept-completed, 1 accept-incomplete,
                // 2 reject, 3 request-mic.
                let (t, v, _) = tlv(field)?;
                if t != 0x0a || v.len() != 1 {
                    return Err(SpnegoError::Malformed("negState"));
                }
                if v.first() == Some(&2) {
                    return Err(SpnegoError::Rejected);
                }
            }
            0xa2 => {
                let (t, v, _) = tlv(field)?;
                if t != 0x04 {
                    return Err(SpnegoError::Malformed(
                        "responseToken is not an OCTET STRING",
                    ));
                }
                response = Some(v);
            }
            // supportedMech, mechListMIC and anything newer: not needed.
            _ => {}
        }
    }
    match response {
        Some(t) if t.starts_with(NTLMSSP) => Ok(t),
        Some(_) => Err(SpnegoError::Unrecognised),
        None => Err(SpnegoError::NoToken),
    }
}

/// One DER tag-length-value: (tag, value, rest). Single-byte tags only
/// (all SPNEGO tags are), definite lengths up to 4 length bytes.
fn tlv(input: &[u8]) -> Result<(u8, &[u8], &[u8]), SpnegoError> {
    let (&tag, rest) = input
        .split_first()
        .ok_or(SpnegoError::Malformed("truncated tag"))?;
    if tag & 0x1f == 0x1f {
        return Err(SpnegoError::Malformed("multi-byte tag"));
    }
    let (&first, mut rest) = rest
        .split_first()
        .ok_or(SpnegoError::Malformed("truncated length"))?;
    let len = if first < 0x80 {
        usize::from(first)
    } else {
        let n = usize::from(first & 0x7f);
        if n == 0 || n > 4 {
            return Err(SpnegoError::Malformed("unsupported length form"));
        }
        let bytes = rest
            .get(..n)
            .ok_or(SpnegoError::Malformed("truncated length"))?;
        rest = rest.get(n..).unwrap_or_default();
        bytes
            .iter()
            .fold(0usize, |acc, b| (acc << 8) | usize::from(*b))
    };
    if len > rest.len() {
        return Err(SpnegoError::Malformed("length beyond the token"));
    }
    let (value, rest) = rest.split_at(len);
    Ok((tag, value, rest))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn der(tag: u8, value: &[u8]) -> Vec<u8> {
        let mut out = vec![tag];
        if value.len() < 0x80 {
            out.push(value.len() as u8);
        } else {
            out.push(0x82);
            out.extend_from_slice(&(value.len() as u16).to_be_bytes());
        }
        out.extend_from_slice(value);
        out
    }

    fn neg_token_resp(state: Option<u8>, token: Option<&[u8]>) -> Vec<u8> {
        let mut seq = Vec::new();
        if let Some(s) = state {
            seq.extend(der(0xa0, &der(0x0a, &[s])));
        }
        // supportedMech: NTLMSSP OID 1.3.6.1.4.1.311.2.2.10
        seq.extend(der(
            0xa1,
            &der(
                0x06,
                &[0x2b, 0x06, 0x01, 0x04, 0x01, 0x82, 0x37, 0x02, 0x02, 0x0a],
            ),
        ));
        if let Some(t) = token {
            seq.extend(der(0xa2, &der(0x04, t)));
        }
        der(0xa1, &der(0x30, &seq))
    }

    fn challenge(len: usize) -> Vec<u8> {
        let mut t = NTLMSSP.to_vec();
        t.extend_from_slice(&[2, 0, 0, 0]);
        t.resize(len, 0x41);
        t
    }

    #[test]
    fn raw_ntlmssp_is_returned_as_is() {
        let c = challenge(56);
        assert_eq!(ntlm_token(&c).unwrap(), c.as_slice());
    }

    #[test]
    fn neg_token_resp_yields_its_response_token() {
        let c = challenge(56);
        assert_eq!(
            ntlm_token(&neg_token_resp(Some(1), Some(&c))).unwrap(),
            c.as_slice()
        );
        // Long-form lengths (token over 127 bytes).
        let c = challenge(300);
        assert_eq!(
            ntlm_token(&neg_token_resp(None, Some(&c))).unwrap(),
            c.as_slice()
        );
    }

    #[test]
    fn reject_and_missing_token_are_errors() {
        assert_eq!(
            ntlm_token(&neg_token_resp(Some(2), None)),
            Err(SpnegoError::Rejected)
        );
        assert_eq!(
            ntlm_token(&neg_token_resp(Some(0), None)),
            Err(SpnegoError::NoToken)
        );
        assert_eq!(
            ntlm_token(&neg_token_resp(Some(1), Some(b"krb5 token"))),
            Err(SpnegoError::Unrecognised)
        );
        assert_eq!(ntlm_token(b"\x60\x03abc"), Err(SpnegoError::Unrecognised));
    }

    #[test]
    fn truncated_or_lying_lengths_never_panic() {
        let full = neg_token_resp(Some(1), Some(&challenge(200)));
        for n in 0..full.len() {
            assert!(ntlm_token(&full[..n]).is_err());
            let mut m = full.clone();
            m[n] = 0xff;
            let _ = ntlm_token(&m);
        }
        assert!(ntlm_token(&[0xa1, 0x84, 0xff, 0xff, 0xff, 0xff]).is_err());
        assert!(ntlm_token(&[0xa1, 0x85, 1, 1, 1, 1, 1]).is_err());
        assert!(ntlm_token(&[]).is_err());
    }
}
