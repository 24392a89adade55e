//! NTLMv2 primitives (MS-NLMP §3.3.2, §3.4), written by hand on top of the
//! MD4/MD5/HMAC/RC4 block crates: the client uses `sspi`, so the two sides
//! are independent implementations that must agree on the wire.
//!
//! Pure functions only; the acceptor state lives in `acceptor.rs`.

use hmac::{Hmac, Mac};
use md4::{Digest as _, Md4};
use md5::Md5;

pub type Key16 = [u8; 16];

fn utf16le(s: &str) -> Vec<u8> {
    s.encode_utf16().flat_map(u16::to_le_bytes).collect()
}

/// HMAC-MD5 over the concatenation of `parts`.
pub fn hmac_md5(key: &[u8], parts: &[&[u8]]) -> Key16 {
    // HMAC accepts keys of any length, so this cannot fail.
    let mut mac = match <Hmac<Md5> as Mac>::new_from_slice(key) {
        Ok(m) => m,
        Err(_) => return [0u8; 16],
    };
    for p in parts {
        mac.update(p);
    }
    mac.finalize().into_bytes().into()
}

pub fn md5(parts: &[&[u8]]) -> Key16 {
    let mut h = Md5::new();
    for p in parts {
        h.update(p);
    }
    h.finalize().into()
}

/// NTOWFv1 = MD4(UTF-16LE(password)).
pub fn ntowfv1(password: &str) -> Key16 {
    let mut h = Md4::new();
    h.update(utf16le(password));
    h.finalize().into()
}

/// NTOWFv2 = HMAC_MD5(NTOWFv1, UTF-16LE(Uppercase(user) ‖ domain)).
pub fn ntowfv2(password: &str, user: &str, domain: &str) -> Key16 {
    let id = utf16le(&(user.to_uppercase() + domain));
    hmac_md5(&ntowfv1(password), &[&id])
}

/// NTProofStr = HMAC_MD5(NTOWFv2, ServerChallenge ‖ temp), where `temp` is
/// the NTLMv2 response after its first 16 bytes.
pub fn nt_proof_str(ntowfv2: &Key16, server_challenge: &[u8; 8], temp: &[u8]) -> Key16 {
    hmac_md5(ntowfv2, &[server_challenge, temp])
}

/// SessionBaseKey = HMAC_MD5(NTOWFv2, NTProofStr); for NTLMv2 it is also
/// the KeyExchangeKey.
pub fn session_base_key(ntowfv2: &Key16, nt_proof: &Key16) -> Key16 {
    hmac_md5(ntowfv2, &[nt_proof])
}

/// One-shot RC4 (used for the key exchange).
pub fn rc4_once(key: &Key16, data: &[u8]) -> Vec<u8> {
    let mut out = data.to_vec();
    super::rc4::Rc4::new(key).apply(&mut out);
    out
}

/// Direction of a signing/sealing key.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Direction {
    ClientToServer,
    ServerToClient,
}

impl Direction {
    fn label(self) -> &'static str {
        match self {
            Direction::ClientToServer => "client-to-server",
            Direction::ServerToClient => "server-to-client",
        }
    }
}

/// SIGNKEY (ESS): MD5(ExportedSessionKey ‖ "session key to <dir> signing key magic constant\0").
pub fn sign_key(exported: &Key16, dir: Direction) -> Key16 {
    let magic = format!(
        "session key to {} signing key magic constant\0",
        dir.label()
    );
    md5(&[exported, magic.as_bytes()])
}

/// SEALKEY (ESS, 128-bit): MD5(ExportedSessionKey ‖ "session key to <dir> sealing key magic constant\0").
pub fn seal_key(exported: &Key16, dir: Direction) -> Key16 {
    let magic = format!(
        "session key to {} sealing key magic constant\0",
        dir.label()
    );
    md5(&[exported, magic.as_bytes()])
}

/// MsvAvChannelBindings value for TLS: MD5 of a `gss_channel_bindings_struct`
/// with empty initiator/acceptor and `application_data` =
/// `"tls-server-end-point:" ‖ SHA-256(certificate DER)` (RFC 5929).
pub fn channel_binding_hash(cert_hash: &[u8]) -> Key16 {
    let mut app = b"tls-server-end-point:".to_vec();
    app.extend_from_slice(cert_hash);
    let len = u32::try_from(app.len()).unwrap_or(u32::MAX).to_le_bytes();
    md5(&[&[0u8; 16], &len, &app])
}

/// Constant-time equality for MACs (avoid timing oracles even in a simulator).
pub fn ct_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

#[cfg(test)]
mod tests {
    //! MS-NLMP 4.2.4 known-answer vectors (research §5).
    use super::*;

    fn h(s: &str) -> Vec<u8> {
        hex::decode(s.replace(' ', "")).unwrap()
    }
    fn k(s: &str) -> Key16 {
        h(s).try_into().unwrap()
    }

    const SERVER_CHALLENGE: [u8; 8] = [0x01, 0x23, 0x45, 0x67, 0x89, 0xab, 0xcd, 0xef];
    const TARGET_INFO: &str =
        "02000c0044006f006d00610069006e0001000c0053006500720076006500720000000000";

    fn temp() -> Vec<u8> {
        let mut t = h("0101000000000000 0000000000000000 aaaaaaaaaaaaaaaa 00000000");
        t.extend(h(TARGET_INFO));
        t.extend([0u8; 4]);
        t
    }

    #[test]
    fn ntowfv1_matches_ms_nlmp_vector() {
        assert_eq!(ntowfv1("Password"), k("a4f49c406510bdcab6824ee7c30fd852"));
    }

    #[test]
    fn ntowfv2_matches_ms_nlmp_vector() {
        assert_eq!(
            ntowfv2("Password", "User", "Domain"),
            k("0c868a403bfd7a93a3001ef22ef02e3f")
        );
    }

    #[test]
    fn nt_proof_str_matches_ms_nlmp_vector() {
        let key = ntowfv2("Password", "User", "Domain");
        assert_eq!(
            nt_proof_str(&key, &SERVER_CHALLENGE, &temp()),
            k("68cd0ab851e51c96aabc927bebef6a1c")
        );
    }

    #[test]
    fn lmv2_matches_ms_nlmp_vector() {
        let key = ntowfv2("Password", "User", "Domain");
        let lm = hmac_md5(&key, &[&SERVER_CHALLENGE, &[0xaa; 8]]);
        assert_eq!(lm.to_vec(), h("86c35097ac9cec102554764a57cccc19"));
    }

    #[test]
    fn session_base_key_matches_ms_nlmp_vector() {
        let key = ntowfv2("Password", "User", "Domain");
        let proof = nt_proof_str(&key, &SERVER_CHALLENGE, &temp());
        assert_eq!(
            session_base_key(&key, &proof),
            k("8de40ccadbc14a82f15cb0ad0de95ca3")
        );
    }

    #[test]
    fn encrypted_random_session_key_decrypts_to_the_random_key() {
        let kxkey = k("8de40ccadbc14a82f15cb0ad0de95ca3");
        let esk = h("c5dad2544fc9799094ce1ce90bc9d03e");
        assert_eq!(rc4_once(&kxkey, &esk), vec![0x55; 16]);
    }

    #[test]
    fn sign_and_seal_keys_match_ms_nlmp_vectors() {
        let esk = [0x55u8; 16];
        assert_eq!(
            sign_key(&esk, Direction::ClientToServer),
            k("4788dc861b4782f35d43fd98fe1a2d39")
        );
        assert_eq!(
            seal_key(&esk, Direction::ClientToServer),
            k("59f600973cc4960a25480a7c196e4c58")
        );
        assert_eq!(
            sign_key(&esk, Direction::ServerToClient),
            k("d04d6f10741041d1d246d64188d7a8ad")
        );
        assert_eq!(
            seal_key(&esk, Direction::ServerToClient),
            k("9355f3a957c1583d25c4c2f11e40390e")
        );
    }

    #[test]
    fn channel_binding_hash_matches_published_epa_vector() {
        let cert_hash = h("ea05fefecc6b0bd571dbbc5baa3ed45386d0446835f7b74c85621b9983475f95");
        assert_eq!(
            channel_binding_hash(&cert_hash),
            k("6586e99d81c2fc984e47172fd4dd0310")
        );
    }

    #[test]
    fn hmac_md5_mic_sanity_vector() {
        let sbk = k("8de40ccadbc14a82f15cb0ad0de95ca3");
        let mic = hmac_md5(
            &sbk,
            &[&h("44444444"), &h("666666666666"), &h("8888888888888888")],
        );
        assert_eq!(mic, k("71feefd776d442a85f6e180a6b024720"));
    }

    #[test]
    fn ct_eq_compares_content_and_length() {
        assert!(ct_eq(b"abc", b"abc"));
        assert!(!ct_eq(b"abc", b"abd"));
        assert!(!ct_eq(b"abc", b"ab"));
    }
}
