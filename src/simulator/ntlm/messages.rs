//! NTLM wire messages (MS-NLMP §2.2): parse NEGOTIATE and AUTHENTICATE,
//! build CHALLENGE. Packing only: no crypto, no state.

pub const SIGNATURE: &[u8; 8] = b"NTLMSSP\0";

pub mod flags {
    pub const UNICODE: u32 = 0x0000_0001;
    pub const REQUEST_TARGET: u32 = 0x0000_0004;
    pub const SIGN: u32 = 0x0000_0010;
    pub const SEAL: u32 = 0x0000_0020;
    pub const NTLM: u32 = 0x0000_0200;
    pub const ALWAYS_SIGN: u32 = 0x0000_8000;
    pub const TARGET_TYPE_DOMAIN: u32 = 0x0001_0000;
    pub const EXTENDED_SESSION_SECURITY: u32 = 0x0008_0000;
    pub const TARGET_INFO: u32 = 0x0080_0000;
    pub const VERSION: u32 = 0x0200_0000;
    pub const NEG_128: u32 = 0x2000_0000;
    pub const KEY_EXCH: u32 = 0x4000_0000;
    pub const NEG_56: u32 = 0x8000_0000;
}

/// AV pair ids (MS-NLMP §2.2.2.1).
pub mod av {
    pub const EOL: u16 = 0;
    pub const NB_COMPUTER_NAME: u16 = 1;
    pub const NB_DOMAIN_NAME: u16 = 2;
    pub const DNS_COMPUTER_NAME: u16 = 3;
    pub const DNS_DOMAIN_NAME: u16 = 4;
    pub const DNS_TREE_NAME: u16 = 5;
    pub const FLAGS: u16 = 6;
    pub const TIMESTAMP: u16 = 7;
    pub const CHANNEL_BINDINGS: u16 = 10;
}

/// MsvAvFlags bit: the AUTHENTICATE message carries a MIC.
pub const AV_FLAG_MIC_PRESENT: u32 = 0x2;

/// Offset of the MIC in AUTHENTICATE (after the 8-byte Version).
pub const MIC_OFFSET: usize = 72;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MessageError {
    #[error("not an NTLMSSP message")]
    BadSignature,
    #[error("expected NTLM message type {expected}, got {got}")]
    WrongType { expected: u32, got: u32 },
    #[error("NTLM message truncated at {0}")]
    Truncated(&'static str),
}

fn u16_at(b: &[u8], at: usize) -> Option<u16> {
    Some(u16::from_le_bytes(b.get(at..at + 2)?.try_into().ok()?))
}

fn u32_at(b: &[u8], at: usize) -> Option<u32> {
    Some(u32::from_le_bytes(b.get(at..at + 4)?.try_into().ok()?))
}

/// The message type of a token, after checking the signature.
pub fn message_type(b: &[u8]) -> Result<u32, MessageError> {
    if b.get(..8) != Some(&SIGNATURE[..]) {
        return Err(MessageError::BadSignature);
    }
    u32_at(b, 8).ok_or(MessageError::Truncated("MessageType"))
}

fn expect_type(b: &[u8], expected: u32) -> Result<(), MessageError> {
    let got = message_type(b)?;
    if got != expected {
        return Err(MessageError::WrongType { expected, got });
    }
    Ok(())
}

/// Reads a `(len, maxlen, offset)` field descriptor and returns its bytes.
fn field<'a>(b: &'a [u8], at: usize, name: &'static str) -> Result<&'a [u8], MessageError> {
    let len = u16_at(b, at).ok_or(MessageError::Truncated(name))? as usize;
    let off = u32_at(b, at + 4).ok_or(MessageError::Truncated(name))? as usize;
    if len == 0 {
        return Ok(&[]);
    }
    b.get(off..off.checked_add(len).ok_or(MessageError::Truncated(name))?)
        .ok_or(MessageError::Truncated(name))
}

pub struct Negotiate {
    pub flags: u32,
}

pub fn parse_negotiate(b: &[u8]) -> Result<Negotiate, MessageError> {
    expect_type(b, 1)?;
    let flags = u32_at(b, 12).ok_or(MessageError::Truncated("NegotiateFlags"))?;
    Ok(Negotiate { flags })
}

/// What the server says about itself in CHALLENGE.
pub struct ChallengeParams<'a> {
    pub flags: u32,
    pub server_challenge: [u8; 8],
    pub nb_domain: &'a str,
    pub nb_computer: &'a str,
    pub dns_domain: &'a str,
    pub dns_computer: &'a str,
    /// FILETIME (100 ns since 1601-01-01).
    pub timestamp: u64,
}

fn utf16(s: &str) -> Vec<u8> {
    s.encode_utf16().flat_map(u16::to_le_bytes).collect()
}

fn push_av(out: &mut Vec<u8>, id: u16, value: &[u8]) {
    out.extend_from_slice(&id.to_le_bytes());
    out.extend_from_slice(&(value.len() as u16).to_le_bytes());
    out.extend_from_slice(value);
}

pub fn target_info(p: &ChallengeParams<'_>) -> Vec<u8> {
    let mut ti = Vec::with_capacity(160);
    push_av(&mut ti, av::NB_DOMAIN_NAME, &utf16(p.nb_domain));
    push_av(&mut ti, av::NB_COMPUTER_NAME, &utf16(p.nb_computer));
    push_av(&mut ti, av::DNS_DOMAIN_NAME, &utf16(p.dns_domain));
    push_av(&mut ti, av::DNS_COMPUTER_NAME, &utf16(p.dns_computer));
    push_av(&mut ti, av::DNS_TREE_NAME, &utf16(p.dns_domain));
    push_av(&mut ti, av::TIMESTAMP, &p.timestamp.to_le_bytes());
    push_av(&mut ti, av::EOL, &[]);
    ti
}

/// Windows Server 2022's version block: 10.0 build 20348, NTLM revision 15.
const VERSION: [u8; 8] = [10, 0, 0x7C, 0x4F, 0, 0, 0, 0x0F];

pub fn build_challenge(p: &ChallengeParams<'_>) -> Vec<u8> {
    const HEADER: usize = 56;
    let name = utf16(p.nb_domain);
    let ti = target_info(p);
    let mut out = Vec::with_capacity(HEADER + name.len() + ti.len());
    out.extend_from_slice(SIGNATURE);
    out.extend_from_slice(&2u32.to_le_bytes());
    out.extend_from_slice(&(name.len() as u16).to_le_bytes());
    out.extend_from_slice(&(name.len() as u16).to_le_bytes());
    out.extend_from_slice(&(HEADER as u32).to_le_bytes());
    out.extend_from_slice(&p.flags.to_le_bytes());
    out.extend_from_slice(&p.server_challenge);
    out.extend_from_slice(&[0u8; 8]);
    out.extend_from_slice(&(ti.len() as u16).to_le_bytes());
    out.extend_from_slice(&(ti.len() as u16).to_le_bytes());
    out.extend_from_slice(&((HEADER + name.len()) as u32).to_le_bytes());
    out.extend_from_slice(&VERSION);
    out.extend_from_slice(&name);
    out.extend_from_slice(&ti);
    out
}

pub struct Authenticate<'a> {
    pub raw: &'a [u8],
    pub flags: u32,
    pub nt_response: &'a [u8],
    pub domain: String,
    pub user: String,
    pub encrypted_session_key: &'a [u8],
}

fn decode_name(b: &[u8], unicode: bool) -> String {
    if unicode {
        let units: Vec<u16> = b
            .chunks_exact(2)
            .map(|c| u16::from_le_bytes([c[0], c[1]]))
            .collect();
        String::from_utf16_lossy(&units)
    } else {
        String::from_utf8_lossy(b).into_owned()
    }
}

pub fn parse_authenticate(b: &[u8]) -> Result<Authenticate<'_>, MessageError> {
    expect_type(b, 3)?;
    let flags = u32_at(b, 60).ok_or(MessageError::Truncated("NegotiateFlags"))?;
    let unicode = flags & flags::UNICODE != 0;
    Ok(Authenticate {
        raw: b,
        flags,
        nt_response: field(b, 20, "NtChallengeResponse")?,
        domain: decode_name(field(b, 28, "DomainName")?, unicode),
        user: decode_name(field(b, 36, "UserName")?, unicode),
        encrypted_session_key: field(b, 52, "EncryptedRandomSessionKey")?,
    })
}

/// The AV pairs inside an NTLMv2 response (after NTProofStr and the 28-byte
/// fixed part of the client challenge structure).
pub fn response_av_pairs(nt_response: &[u8]) -> Vec<(u16, &[u8])> {
    let mut out = Vec::new();
    let mut at = 16 + 28;
    while let (Some(id), Some(len)) = (u16_at(nt_response, at), u16_at(nt_response, at + 2)) {
        if id == av::EOL {
            break;
        }
        let start = at + 4;
        let Some(value) = nt_response.get(start..start + len as usize) else {
            break;
        };
        out.push((id, value));
        at = start + len as usize;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    /// MS-NLMP 4.2.4.3 CHALLENGE (with flags 0xE28A8233, no Timestamp):
    /// our builder lays out the same header when given the same pairs.
    #[test]
    fn challenge_header_layout_matches_ms_nlmp() {
        let p = ChallengeParams {
            flags: 0xE28A_8233,
            server_challenge: [0x01, 0x23, 0x45, 0x67, 0x89, 0xab, 0xcd, 0xef],
            nb_domain: "Domain",
            nb_computer: "Server",
            dns_domain: "d",
            dns_computer: "s",
            timestamp: 0,
        };
        let c = build_challenge(&p);
        let expected_prefix = hex::decode(
            "4e544c4d53535000020000000c000c003800000033828ae20123456789abcdef0000000000000000",
        )
        .unwrap();
        assert_eq!(&c[..40], &expected_prefix[..]);
        assert_eq!(message_type(&c).unwrap(), 2);
        // TargetName then TargetInfo, first AV pair is NbDomainName "Domain".
        assert_eq!(&c[56..68], &utf16("Domain")[..]);
        assert_eq!(&c[68..72], &[2, 0, 12, 0]);
    }

    #[test]
    fn authenticate_vector_fields_parse() {
        let hdr = "4e544c4d5353500003000000180018006c00000054005400840000000c000c00480000000800080054000000100010005c00000010001000d8000000358288e20501280a0000000f44006f006d00610069006e00550073006500720043004f004d0050005500540045005200";
        let mut msg = hex::decode(hdr).unwrap();
        msg.extend(hex::decode("86c35097ac9cec102554764a57cccc19aaaaaaaaaaaaaaaa").unwrap());
        msg.extend(hex::decode("68cd0ab851e51c96aabc927bebef6a1c").unwrap());
        msg.extend(
            hex::decode("01010000000000000000000000000000aaaaaaaaaaaaaaaa00000000").unwrap(),
        );
        msg.extend(
            hex::decode("02000c0044006f006d00610069006e0001000c0053006500720076006500720000000000")
                .unwrap(),
        );
        msg.extend([0u8; 4]);
        msg.extend(hex::decode("c5dad2544fc9799094ce1ce90bc9d03e").unwrap());
        assert_eq!(msg.len(), 232);
        let a = parse_authenticate(&msg).unwrap();
        assert_eq!(a.user, "User");
        assert_eq!(a.domain, "Domain");
        assert_eq!(a.flags, 0xE288_8235);
        assert_eq!(a.nt_response.len(), 0x54);
        assert_eq!(
            hex::encode(a.encrypted_session_key),
            "c5dad2544fc9799094ce1ce90bc9d03e"
        );
        let pairs = response_av_pairs(a.nt_response);
        assert_eq!(pairs.len(), 2);
        assert_eq!(pairs[0].0, av::NB_DOMAIN_NAME);
    }

    #[test]
    fn garbage_tokens_are_errors_not_panics() {
        assert!(parse_negotiate(b"").is_err());
        assert!(parse_authenticate(b"NTLMSSP\0\x03\0\0\0").is_err());
        let mut m = b"NTLMSSP\0\x03\0\0\0".to_vec();
        m.extend([0xff; 60]);
        assert!(parse_authenticate(&m).is_err());
        assert!(response_av_pairs(&[0u8; 10]).is_empty());
    }
}
