//! NTLM message sealing with extended session security, KEY_EXCH and 128-bit
//! keys (MS-NLMP §3.4.4.2): one RC4 handle and one sequence number per
//! direction, never reset for the life of the context.

use super::crypto::{Direction, Key16, ct_eq, hmac_md5, seal_key, sign_key};
use super::rc4::Rc4;

/// Length of an NTLM signature (`01000000 ‖ checksum[8] ‖ seq[4]`).
pub const SIGNATURE_LEN: usize = 16;

/// One direction of a sealed session.
pub struct SealingKey {
    sign: Key16,
    rc4: Rc4,
    seq: u32,
}

impl SealingKey {
    pub fn new(exported_session_key: &Key16, dir: Direction) -> Self {
        let seal = seal_key(exported_session_key, dir);
        SealingKey {
            sign: sign_key(exported_session_key, dir),
            rc4: Rc4::new(&seal),
            seq: 0,
        }
    }

    /// Encrypts `data` in place and returns its signature.
    pub fn seal(&mut self, data: &mut [u8]) -> [u8; SIGNATURE_LEN] {
        let seq = self.seq.to_le_bytes();
        let mac = hmac_md5(&self.sign, &[&seq, data]);
        self.rc4.apply(data);
        let mut sig = [0u8; SIGNATURE_LEN];
        sig[0] = 1;
        sig[4..12].copy_from_slice(&mac[..8]);
        // The checksum is encrypted with the same handle, right after the data.
        self.rc4.apply(&mut sig[4..12]);
        sig[12..16].copy_from_slice(&seq);
        self.seq = self.seq.wrapping_add(1);
        sig
    }

    /// Signs `data` without encrypting it (NTLM GetMIC, used for the SPNEGO
    /// mechListMIC).
    pub fn sign(&mut self, data: &[u8]) -> [u8; SIGNATURE_LEN] {
        let seq = self.seq.to_le_bytes();
        let mac = hmac_md5(&self.sign, &[&seq, data]);
        let mut sig = [0u8; SIGNATURE_LEN];
        sig[0] = 1;
        sig[4..12].copy_from_slice(&mac[..8]);
        self.rc4.apply(&mut sig[4..12]);
        sig[12..16].copy_from_slice(&seq);
        self.seq = self.seq.wrapping_add(1);
        sig
    }

    /// Checks a signature made by the peer's `sign` (NTLM VerifyMIC).
    pub fn verify(&mut self, data: &[u8], signature: &[u8]) -> Result<(), SealError> {
        let expected = self.sign(data);
        if ct_eq(&expected, signature) {
            Ok(())
        } else {
            Err(SealError::BadSignature)
        }
    }

    /// Restarts the RC4 keystream, keeping the sequence number (what
    /// SPNEGO implementations do after the mechListMIC exchange).
    pub fn reset_keystream(&mut self, exported_session_key: &Key16, dir: Direction) {
        let seal = seal_key(exported_session_key, dir);
        self.rc4 = Rc4::new(&seal);
    }

    /// Decrypts `data` in place and verifies `signature`. The handle and the
    /// sequence advance even on failure, as the peer's did.
    pub fn unseal(&mut self, data: &mut [u8], signature: &[u8]) -> Result<(), SealError> {
        let seq_bytes = self.seq.to_le_bytes();
        self.seq = self.seq.wrapping_add(1);
        self.rc4.apply(data);
        let mut checksum = [0u8; 8];
        if let Some(c) = signature.get(4..12) {
            checksum.copy_from_slice(c);
        }
        self.rc4.apply(&mut checksum);
        let (Some(version), Some(seq)) = (signature.get(0..4), signature.get(12..16)) else {
            return Err(SealError::BadSignature);
        };
        if signature.len() != SIGNATURE_LEN || version != [1, 0, 0, 0] {
            return Err(SealError::BadSignature);
        }
        if seq != seq_bytes {
            return Err(SealError::BadSequence);
        }
        let mac = hmac_md5(&self.sign, &[&seq_bytes, data]);
        if !ct_eq(&mac[..8], &checksum) {
            return Err(SealError::BadSignature);
        }
        Ok(())
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum SealError {
    #[error("message signature does not verify")]
    BadSignature,
    #[error("message sequence number out of order")]
    BadSequence,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn plaintext() -> Vec<u8> {
        "Plaintext"
            .encode_utf16()
            .flat_map(u16::to_le_bytes)
            .collect()
    }

    #[test]
    fn seal_matches_ms_nlmp_vector_with_seq_zero() {
        let mut key = SealingKey::new(&[0x55; 16], Direction::ClientToServer);
        let mut data = plaintext();
        assert_eq!(hex::encode(&data), "50006c00610069006e007400650078007400");
        let sig = key.seal(&mut data);
        assert_eq!(hex::encode(&data), "54e50165bf1936dc996020c1811b0f06fb5f");
        assert_eq!(hex::encode(sig), "010000007fb38ec5c55d497600000000");
    }

    #[test]
    fn unseal_reverses_the_peer_seal_and_tracks_sequence() {
        let esk = [0x42u8; 16];
        let mut client = SealingKey::new(&esk, Direction::ClientToServer);
        let mut server = SealingKey::new(&esk, Direction::ClientToServer);
        for msg in [&b"first"[..], b"second message", b""] {
            let mut data = msg.to_vec();
            let sig = client.seal(&mut data);
            server.unseal(&mut data, &sig).unwrap();
            assert_eq!(data, msg);
        }
    }

    #[test]
    fn unseal_rejects_tampered_data_and_bad_signature() {
        let esk = [0x42u8; 16];
        let mut client = SealingKey::new(&esk, Direction::ClientToServer);
        let mut server = SealingKey::new(&esk, Direction::ClientToServer);
        let mut data = b"hello".to_vec();
        let sig = client.seal(&mut data);
        data[0] ^= 1;
        assert_eq!(server.unseal(&mut data, &sig), Err(SealError::BadSignature));
        let mut server2 = SealingKey::new(&esk, Direction::ClientToServer);
        let mut d = b"x".to_vec();
        assert_eq!(
            server2.unseal(&mut d, &[1, 0, 0]),
            Err(SealError::BadSignature)
        );
    }
}

#[cfg(test)]
mod cost {
    use super::*;

    #[test]
    #[ignore = "measurement"]
    fn measure_seal_cost_of_an_84k_reply() {
        let mut key = SealingKey::new(&[1; 16], Direction::ServerToClient);
        let mut data = vec![b'x'; 84_000];
        let t = std::time::Instant::now();
        for _ in 0..50 {
            key.seal(&mut data);
        }
        println!("seal 84 KB: {:?} each", t.elapsed() / 50);
        let t = std::time::Instant::now();
        for _ in 0..50 {
            crate::simulator::ntlm::crypto::hmac_md5(&[1; 16], &[&data]);
        }
        println!("hmac-md5 84 KB: {:?} each", t.elapsed() / 50);
    }
}
