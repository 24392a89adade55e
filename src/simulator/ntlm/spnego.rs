//! Minimal SPNEGO (RFC 4178) wrapping of NTLM: what pyspnego's `negotiate`
//! protocol sends. Only NTLM is offered back; Kerberos is never selected.

/// NTLMSSP mechanism OID 1.3.6.1.4.1.311.2.2.10, DER.
const NTLM_OID: &[u8] = &[
    0x06, 0x0a, 0x2b, 0x06, 0x01, 0x04, 0x01, 0x82, 0x37, 0x02, 0x02, 0x0a,
];

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("malformed SPNEGO token")]
pub struct SpnegoError;

/// A DER element: tag, contents, and the whole encoding.
struct Tlv<'a> {
    tag: u8,
    content: &'a [u8],
    whole: &'a [u8],
}

fn read_tlv(b: &[u8]) -> Result<(Tlv<'_>, &[u8]), SpnegoError> {
    let tag = *b.first().ok_or(SpnegoError)?;
    let first = *b.get(1).ok_or(SpnegoError)?;
    let (len, hdr) = if first < 0x80 {
        (first as usize, 2)
    } else {
        let n = (first & 0x7f) as usize;
        if n == 0 || n > 4 {
            return Err(SpnegoError);
        }
        let bytes = b.get(2..2 + n).ok_or(SpnegoError)?;
        (
            bytes.iter().fold(0usize, |acc, x| (acc << 8) | *x as usize),
            2 + n,
        )
    };
    let end = hdr.checked_add(len).ok_or(SpnegoError)?;
    let content = b.get(hdr..end).ok_or(SpnegoError)?;
    let whole = b.get(..end).ok_or(SpnegoError)?;
    Ok((
        Tlv {
            tag,
            content,
            whole,
        },
        b.get(end..).unwrap_or_default(),
    ))
}

/// Walks the context-tagged fields of a SEQUENCE: `[n] value`.
fn fields(seq: &[u8]) -> Result<Vec<(u8, &[u8])>, SpnegoError> {
    let mut out = Vec::new();
    let mut rest = seq;
    while !rest.is_empty() {
        let (t, r) = read_tlv(rest)?;
        out.push((t.tag, t.content));
        rest = r;
    }
    Ok(out)
}

fn octets(inner: &[u8]) -> Result<&[u8], SpnegoError> {
    let (t, _) = read_tlv(inner)?;
    if t.tag != 0x04 {
        return Err(SpnegoError);
    }
    Ok(t.content)
}

/// What a client's SPNEGO token carries.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Incoming {
    /// The NTLM message.
    pub token: Vec<u8>,
    /// DER of the MechTypeList (negTokenInit only), for the mechListMIC.
    pub mech_types: Option<Vec<u8>>,
    pub mech_list_mic: Option<Vec<u8>>,
}

/// Whether a Negotiate token is SPNEGO rather than raw NTLMSSP.
pub fn is_spnego(token: &[u8]) -> bool {
    matches!(token.first(), Some(0x60) | Some(0xa1))
}

pub fn parse(token: &[u8]) -> Result<Incoming, SpnegoError> {
    let (outer, _) = read_tlv(token)?;
    let seq_content = match outer.tag {
        // [APPLICATION 0] { thisMech OID, [0] NegTokenInit }
        0x60 => {
            let (oid, rest) = read_tlv(outer.content)?;
            if oid.tag != 0x06 {
                return Err(SpnegoError);
            }
            let (init, _) = read_tlv(rest)?;
            if init.tag != 0xa0 {
                return Err(SpnegoError);
            }
            read_tlv(init.content)?.0
        }
        // [1] NegTokenResp
        0xa1 => read_tlv(outer.content)?.0,
        _ => return Err(SpnegoError),
    };
    if seq_content.tag != 0x30 {
        return Err(SpnegoError);
    }
    let mut out = Incoming::default();
    for (tag, value) in fields(seq_content.content)? {
        match (outer.tag, tag) {
            (0x60, 0xa0) => out.mech_types = Some(read_tlv(value)?.0.whole.to_vec()),
            (0x60, 0xa2) | (0xa1, 0xa2) => out.token = octets(value)?.to_vec(),
            (0x60, 0xa3) | (0xa1, 0xa3) => out.mech_list_mic = Some(octets(value)?.to_vec()),
            _ => {}
        }
    }
    if out.token.is_empty() {
        return Err(SpnegoError);
    }
    Ok(out)
}

fn der(tag: u8, content: &[u8]) -> Vec<u8> {
    let mut out = vec![tag];
    let n = content.len();
    if n < 0x80 {
        out.push(n as u8);
    } else if n <= 0xff {
        out.extend([0x81, n as u8]);
    } else if n <= 0xffff {
        out.extend([0x82, (n >> 8) as u8, n as u8]);
    } else {
        out.extend([0x83, (n >> 16) as u8, (n >> 8) as u8, n as u8]);
    }
    out.extend_from_slice(content);
    out
}

/// negTokenResp: negState (0 accept-completed, 1 accept-incomplete),
/// supportedMech NTLM on the first reply, the NTLM token, the mechListMIC.
pub fn response(state: u8, first: bool, token: Option<&[u8]>, mic: Option<&[u8]>) -> Vec<u8> {
    let mut seq = der(0xa0, &der(0x0a, &[state]));
    if first {
        seq.extend(der(0xa1, NTLM_OID));
    }
    if let Some(t) = token {
        seq.extend(der(0xa2, &der(0x04, t)));
    }
    if let Some(m) = mic {
        seq.extend(der(0xa3, &der(0x04, m)));
    }
    der(0xa1, &der(0x30, &seq))
}

/// The mechListMIC of a negTokenResp (test helper for the wire tests).
#[cfg(test)]
pub fn parse_mic_for_tests(token: &[u8]) -> Vec<u8> {
    let (outer, _) = read_tlv(token).unwrap();
    let (seq, _) = read_tlv(outer.content).unwrap();
    fields(seq.content)
        .unwrap()
        .into_iter()
        .find(|(t, _)| *t == 0xa3)
        .map(|(_, v)| octets(v).unwrap().to_vec())
        .unwrap()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// negTokenInit as pyspnego sends it for NTLM: mechTypes [NTLM], mechToken.
    fn init_token(ntlm: &[u8]) -> Vec<u8> {
        let mech_types = der(0x30, NTLM_OID);
        let mut seq = der(0xa0, &mech_types);
        seq.extend(der(0xa2, &der(0x04, ntlm)));
        let init = der(0xa0, &der(0x30, &seq));
        let mut content = der(0x06, &[0x2b, 0x06, 0x01, 0x05, 0x05, 0x02]);
        content.extend(init);
        der(0x60, &content)
    }

    #[test]
    fn neg_token_init_yields_the_ntlm_token_and_mech_types() {
        let ntlm = b"NTLMSSP\0\x01\0\0\0rest".to_vec();
        let t = init_token(&ntlm);
        assert!(t.starts_with(&[0x60]));
        assert!(is_spnego(&t));
        let i = parse(&t).unwrap();
        assert_eq!(i.token, ntlm);
        assert_eq!(i.mech_types.unwrap(), der(0x30, NTLM_OID));
    }

    #[test]
    fn response_round_trips_through_the_parser() {
        let big = vec![7u8; 300];
        let r = response(1, true, Some(&big), Some(&[1, 2, 3]));
        let i = parse(&r).unwrap();
        assert_eq!(i.token, big);
        assert_eq!(i.mech_list_mic.unwrap(), vec![1, 2, 3]);
    }

    #[test]
    fn garbage_is_an_error() {
        for t in [
            &[0x60u8][..],
            &[0x60, 0x05, 0x06],
            &[0xa1, 0x84, 0xff, 0xff, 0xff, 0xff],
            &[0x30, 0x00],
        ] {
            assert!(parse(t).is_err());
        }
    }
}
