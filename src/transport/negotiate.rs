//! NTLMv2 under the `Negotiate` HTTP scheme, as three typed states:
//! `Start` -> `ChallengeSent` -> `Established`. This is the only file that
//! touches `sspi`; sealing is only reachable once `Established`, so sspi's
//! "keys must be set" assertions can never fire.

use super::config::Credentials;
use super::spnego;
use secrecy::ExposeSecret;
use sspi::ntlm::NtlmConfig;
use sspi::{
    AuthIdentity, AuthIdentityBuffers, BufferType, ClientRequestFlags, CredentialUse,
    DataRepresentation, EncryptionFlags, Ntlm, SecurityBuffer, SecurityBufferRef, Sspi, SspiImpl,
    Username,
};

#[derive(Debug, thiserror::Error)]
pub enum NegotiateError {
    #[error("user name cannot be used: {0}")]
    BadUserName(String),
    #[error("cannot read the server's challenge: {0}")]
    BadChallenge(String),
    #[error("NTLM failed: {0}")]
    Ntlm(String),
    /// The server's signature did not verify (tampering, or a sequence
    /// number out of step).
    #[error("sealed message failed verification: {0}")]
    MessageAltered(String),
}

impl From<sspi::Error> for NegotiateError {
    fn from(e: sspi::Error) -> Self {
        // sspi descriptions never contain key material.
        match e.error_type {
            sspi::ErrorKind::MessageAltered => NegotiateError::MessageAltered(e.description),
            _ => NegotiateError::Ntlm(format!("{:?}: {}", e.error_type, e.description)),
        }
    }
}

fn flags() -> ClientRequestFlags {
    ClientRequestFlags::CONFIDENTIALITY | ClientRequestFlags::INTEGRITY
}

/// Nothing sent yet.
pub struct Start {
    ntlm: Ntlm,
    creds: Option<AuthIdentityBuffers>,
    spn: String,
}

/// NEGOTIATE sent; waiting for the CHALLENGE.
pub struct ChallengeSent {
    ntlm: Ntlm,
    creds: Option<AuthIdentityBuffers>,
    spn: String,
    channel_binding: Option<Vec<u8>>,
}

/// AUTHENTICATE built: session keys exist and messages can be sealed
/// (the server confirms only with its reply to leg 3).
pub struct Established {
    ntlm: Ntlm,
}

impl Start {
    /// `spn` is `WSMAN/<host>`; `channel_binding` is the
    /// `tls-server-end-point:` application data over HTTPS.
    pub fn new(creds: &Credentials, spn: String) -> Result<Start, NegotiateError> {
        let username = match (&creds.domain, creds.upn) {
            (Some(domain), true) => Username::new_upn(&creds.username, domain),
            (domain, _) => Username::new(&creds.username, domain.as_deref()),
        }
        .map_err(|e| NegotiateError::BadUserName(e.to_string()))?;
        let identity = AuthIdentity {
            username,
            password: creds.password.expose_secret().to_string().into(),
        };
        // No workstation name: sspi never sends one, and hosts don't need it.
        let mut ntlm = Ntlm::with_config(NtlmConfig::default());
        let handle = ntlm
            .acquire_credentials_handle()
            .with_credential_use(CredentialUse::Outbound)
            .with_auth_data(&identity)
            .execute(&mut ntlm)?;
        Ok(Start {
            ntlm,
            creds: handle.credentials_handle,
            spn,
        })
    }

    /// Leg 1: the NEGOTIATE message.
    pub fn negotiate(
        mut self,
        channel_binding: Option<Vec<u8>>,
    ) -> Result<(ChallengeSent, Vec<u8>), NegotiateError> {
        let mut output = vec![SecurityBuffer::new(Vec::new(), BufferType::Token)];
        let mut builder = self
            .ntlm
            .initialize_security_context()
            .with_credentials_handle(&mut self.creds)
            .with_context_requirements(flags())
            .with_target_data_representation(DataRepresentation::Native)
            .with_target_name(&self.spn)
            .with_output(&mut output);
        self.ntlm
            .initialize_security_context_impl(&mut builder)?
            .resolve_to_result()?;
        let token = take_token(output)?;
        Ok((
            ChallengeSent {
                ntlm: self.ntlm,
                creds: self.creds,
                spn: self.spn,
                channel_binding,
            },
            token,
        ))
    }
}

impl ChallengeSent {
    /// Leg 3: reads the server's CHALLENGE (raw NTLMSSP or SPNEGO) and
    /// builds the AUTHENTICATE message; keys are ready afterwards.
    pub fn authenticate(
        mut self,
        server_token: &[u8],
    ) -> Result<(Established, Vec<u8>), NegotiateError> {
        let challenge = spnego::ntlm_token(server_token)
            .map_err(|e| NegotiateError::BadChallenge(e.to_string()))?;
        if let Some(cb) = &self.channel_binding {
            self.ntlm.set_channel_bindings(cb);
        }
        let mut input = vec![SecurityBuffer::new(challenge.to_vec(), BufferType::Token)];
        let mut output = vec![SecurityBuffer::new(Vec::new(), BufferType::Token)];
        let mut builder = self
            .ntlm
            .initialize_security_context()
            .with_credentials_handle(&mut self.creds)
            .with_context_requirements(flags())
            .with_target_data_representation(DataRepresentation::Native)
            .with_target_name(&self.spn)
            .with_input(&mut input)
            .with_output(&mut output);
        self.ntlm
            .initialize_security_context_impl(&mut builder)?
            .resolve_to_result()
            .map_err(|e| {
                NegotiateError::BadChallenge(format!("{:?}: {}", e.error_type, e.description))
            })?;
        let token = take_token(output)?;
        Ok((Established { ntlm: self.ntlm }, token))
    }
}

impl Established {
    /// Seals one message: returns (16-byte signature, ciphertext).
    pub fn seal(&mut self, plaintext: &[u8]) -> Result<([u8; 16], Vec<u8>), NegotiateError> {
        let mut token = [0u8; 16];
        let mut data = plaintext.to_vec();
        let mut buffers = [
            SecurityBufferRef::token_buf(token.as_mut_slice()),
            SecurityBufferRef::data_buf(data.as_mut_slice()),
        ];
        self.ntlm
            .encrypt_message(EncryptionFlags::empty(), &mut buffers)?;
        Ok((token, data))
    }

    /// Verifies and decrypts one message from the server.
    pub fn unseal(
        &mut self,
        signature: &[u8; 16],
        ciphertext: Vec<u8>,
    ) -> Result<Vec<u8>, NegotiateError> {
        let mut token = *signature;
        let mut data = ciphertext;
        let mut buffers = [
            SecurityBufferRef::token_buf(token.as_mut_slice()),
            SecurityBufferRef::data_buf(data.as_mut_slice()),
        ];
        self.ntlm.decrypt_message(&mut buffers)?;
        Ok(data)
    }
}

fn take_token(output: Vec<SecurityBuffer>) -> Result<Vec<u8>, NegotiateError> {
    let token = output
        .into_iter()
        .find(|b| b.buffer_type.buffer_type == BufferType::Token)
        .map(|b| b.buffer)
        .unwrap_or_default();
    if token.is_empty() {
        return Err(NegotiateError::Ntlm("sspi produced an empty token".into()));
    }
    Ok(token)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn creds(user: &str, password: &str) -> Credentials {
        Credentials::parse(user, password.to_string().into())
    }

    type Server = super::super::test_ntlm_server::TestNtlmServer;

    fn handshake(client: &Credentials, server: &mut Server) -> Result<Established, String> {
        let start = Start::new(client, "WSMAN/host".into()).map_err(|e| e.to_string())?;
        let (sent, negotiate) = start.negotiate(None).map_err(|e| e.to_string())?;
        assert!(negotiate.starts_with(b"NTLMSSP\0\x01\0\0\0"));
        let challenge = server.step(&negotiate).map_err(|e| e.to_string())?;
        let (est, auth) = sent.authenticate(&challenge).map_err(|e| e.to_string())?;
        assert!(auth.starts_with(b"NTLMSSP\0\x03\0\0\0"));
        server.step(&auth).map_err(|e| e.to_string())?;
        Ok(est)
    }

    #[test]
    fn negotiate_token_asks_for_sign_seal_and_ntlmv2_session_security() {
        let (_, token) = Start::new(&creds("DOM\\u", "p"), "WSMAN/h".into())
            .unwrap()
            .negotiate(None)
            .unwrap();
        let flags = u32::from_le_bytes(token[12..16].try_into().unwrap());
        // MS-NLMP 2.2.2.5: SIGN 0x10, SEAL 0x20, ESS 0x80000, 128 0x20000000, KEY_EXCH 0x40000000.
        for bit in [0x10, 0x20, 0x8_0000, 0x2000_0000, 0x4000_0000] {
            assert_eq!(flags & bit, bit, "flag {bit:#x} in {flags:#x}");
        }
    }

    #[test]
    fn handshake_then_seal_both_ways_across_many_messages() {
        let mut server = Server::new("user", "DOM", "secret");
        let mut client = handshake(&creds("DOM\\user", "secret"), &mut server).unwrap();
        for i in 0..60 {
            let msg = format!("<s:Envelope>request {i}</s:Envelope>");
            let (sig, ct) = client.seal(msg.as_bytes()).unwrap();
            assert_eq!(
                u32::from_le_bytes(sig[12..16].try_into().unwrap()),
                i,
                "client seq"
            );
            assert_ne!(ct, msg.as_bytes());
            // The server decrypts with its own sspi context.
            let mut t = sig;
            let mut d = ct;
            let mut bufs = [
                SecurityBufferRef::token_buf(&mut t),
                SecurityBufferRef::data_buf(&mut d),
            ];
            server.ntlm.decrypt_message(&mut bufs).unwrap();
            assert_eq!(d, msg.as_bytes());
            // And answers sealed.
            let reply = format!("reply {i}");
            let mut t = [0u8; 16];
            let mut d = reply.clone().into_bytes();
            let mut bufs = [
                SecurityBufferRef::token_buf(&mut t),
                SecurityBufferRef::data_buf(&mut d),
            ];
            server
                .ntlm
                .encrypt_message(EncryptionFlags::empty(), &mut bufs)
                .unwrap();
            assert_eq!(client.unseal(&t, d).unwrap(), reply.as_bytes());
        }
    }

    #[test]
    fn wrong_password_is_refused_by_the_server() {
        let mut server = Server::new("user", "DOM", "secret");
        assert!(handshake(&creds("DOM\\user", "wrong"), &mut server).is_err());
    }

    #[test]
    fn tampered_reply_is_message_altered() {
        let mut server = Server::new("user", "", "secret");
        let mut client = handshake(&creds("user", "secret"), &mut server).unwrap();
        let mut t = [0u8; 16];
        let mut d = b"reply".to_vec();
        let mut bufs = [
            SecurityBufferRef::token_buf(&mut t),
            SecurityBufferRef::data_buf(&mut d),
        ];
        server
            .ntlm
            .encrypt_message(EncryptionFlags::empty(), &mut bufs)
            .unwrap();
        d[0] ^= 1;
        assert!(matches!(
            client.unseal(&t, d),
            Err(NegotiateError::MessageAltered(_))
        ));
    }

    #[test]
    fn channel_binding_hash_lands_in_authenticate_as_the_ms_nlmp_epa_vector() {
        // Research §5 EPA: app data "tls-server-end-point:" ‖ this SHA-256
        // gives MsvAvChannelBindings 6586e99d81c2fc984e47172fd4dd0310.
        let mut app = b"tls-server-end-point:".to_vec();
        app.extend_from_slice(
            &hex::decode("ea05fefecc6b0bd571dbbc5baa3ed45386d0446835f7b74c85621b9983475f95")
                .unwrap(),
        );
        let mut server = Server::new("user", "DOM", "secret");
        let start = Start::new(&creds("DOM\\user", "secret"), "WSMAN/h".into()).unwrap();
        let (sent, negotiate) = start.negotiate(Some(app)).unwrap();
        let challenge = server.step(&negotiate).unwrap();
        let (_, auth) = sent.authenticate(&challenge).unwrap();
        // AvId 0x000A, AvLen 16, then the hash.
        let want = hex::decode("0a0010006586e99d81c2fc984e47172fd4dd0310").unwrap();
        assert!(
            auth.windows(want.len()).any(|w| w == want.as_slice()),
            "no MsvAvChannelBindings"
        );
    }

    #[test]
    fn garbage_challenge_is_an_error_not_a_panic() {
        let start = Start::new(&creds("u", "p"), "WSMAN/h".into()).unwrap();
        let (sent, _) = start.negotiate(None).unwrap();
        assert!(matches!(
            sent.authenticate(b"NTLMSSP\0\x02\0\0\0"),
            Err(NegotiateError::BadChallenge(_))
        ));
        let start = Start::new(&creds("u", "p"), "WSMAN/h".into()).unwrap();
        let (sent, _) = start.negotiate(None).unwrap();
        assert!(sent.authenticate(b"hello").is_err());
    }

    /// (user, domain) as written in an AUTHENTICATE message (MS-NLMP 2.2.1.3).
    fn names_in(auth: &[u8]) -> (String, String) {
        let field = |at: usize| {
            let len = u16::from_le_bytes([auth[at], auth[at + 1]]) as usize;
            let off = u32::from_le_bytes(auth[at + 4..at + 8].try_into().unwrap()) as usize;
            let units: Vec<u16> = auth[off..off + len]
                .chunks(2)
                .map(|c| u16::from_le_bytes([c[0], c[1]]))
                .collect();
            String::from_utf16(&units).unwrap()
        };
        (field(36), field(28))
    }

    fn authenticate_for(account: &str) -> Vec<u8> {
        let mut server = Server::new("user", "DOM", "secret");
        let (sent, negotiate) = Start::new(&creds(account, "secret"), "WSMAN/h".into())
            .unwrap()
            .negotiate(None)
            .unwrap();
        let challenge = server.step(&negotiate).unwrap();
        sent.authenticate(&challenge).unwrap().1
    }

    #[test]
    fn account_formats_reach_the_wire_as_windows_sends_them() {
        let cases = [
            ("DOM\\user", ("user", "DOM")),
            ("user@dom.example", ("user@dom.example", "")),
            ("user", ("user", "")),
        ];
        for (account, (user, domain)) in cases {
            let (u, d) = names_in(&authenticate_for(account));
            assert_eq!((u.as_str(), d.as_str()), (user, domain), "{account}");
        }
    }

    #[test]
    fn mutated_challenges_are_errors_or_tokens_never_panics() {
        let mut server = Server::new("user", "DOM", "secret");
        let (_, negotiate) = Start::new(&creds("DOM\\user", "secret"), "WSMAN/h".into())
            .unwrap()
            .negotiate(None)
            .unwrap();
        let challenge = server.step(&negotiate).unwrap();
        // A fixed LCG: the same 2000 mutations every run.
        let mut seed = 0x5eed_u64;
        let mut next = move || {
            seed = seed
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            (seed >> 33) as usize
        };
        for i in 0..2000 {
            let mut c = challenge.clone();
            for _ in 0..=(i % 4) {
                let pos = next() % c.len();
                c[pos] = next() as u8;
            }
            if i % 7 == 0 {
                c.truncate(next() % c.len());
            }
            let outcome = std::panic::catch_unwind(|| {
                let (sent, _) = Start::new(&creds("DOM\\user", "secret"), "WSMAN/h".into())
                    .unwrap()
                    .negotiate(None)
                    .unwrap();
                let _ = sent.authenticate(&c);
            });
            assert!(outcome.is_ok(), "panicked on challenge {}", hex::encode(&c));
        }
    }
}
