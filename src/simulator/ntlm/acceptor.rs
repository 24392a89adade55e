//! Server-side NTLMv2 acceptor: one per connection. States: `Start` →
//! `ChallengeSent` → `Established` (or `Failed`).

use super::crypto::{
    Direction, Key16, channel_binding_hash, ct_eq, hmac_md5, nt_proof_str, ntowfv2, rc4_once,
    session_base_key,
};
use super::messages::{
    self, AV_FLAG_MIC_PRESENT, Authenticate, ChallengeParams, MIC_OFFSET, av, flags,
};
use super::seal::SealingKey;

/// One account the acceptor verifies against (user, NetBIOS domain, password).
#[derive(Clone)]
pub struct Account {
    /// Empty for a local account.
    pub domain: String,
    pub user: String,
    pub password: String,
}

impl Account {
    /// Splits `DOMAIN\user`, `user@dns.domain` or a bare local user name.
    pub fn parse(account: &str, password: &str) -> Account {
        let (domain, user) = match account.split_once('\\') {
            Some((d, u)) => (d.to_string(), u.to_string()),
            None => (String::new(), account.to_string()),
        };
        Account {
            domain,
            user,
            password: password.to_string(),
        }
    }
}

/// Who the server is, for CHALLENGE, and what it requires.
pub struct ServerIdentity<'a> {
    pub nb_domain: &'a str,
    pub nb_computer: &'a str,
    pub dns_domain: &'a str,
    pub dns_computer: &'a str,
    /// SHA-256 of the TLS certificate, when the connection is HTTPS.
    pub tls_cert_hash: Option<[u8; 32]>,
    /// Every login fails (fault injection).
    pub reject_all: bool,
}

/// The established security context of a connection.
pub struct Session {
    /// `DOMAIN\user` as the client sent it.
    pub user: String,
    /// Unseals client-to-server messages.
    pub inbound: SealingKey,
    /// Seals server-to-client messages.
    pub outbound: SealingKey,
    pub exported_session_key: Key16,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AuthError {
    #[error("malformed NTLM token: {0}")]
    Message(#[from] messages::MessageError),
    #[error("unexpected NTLM message type {0} in this state")]
    OutOfOrder(u32),
    #[error("logon failure")]
    LogonFailure,
    #[error("MIC does not verify")]
    BadMic,
    #[error("channel binding mismatch")]
    ChannelBinding,
    #[error("NTLMv1 and anonymous logons are refused")]
    Unsupported,
}

enum State {
    Start,
    ChallengeSent {
        negotiate: Vec<u8>,
        challenge: Vec<u8>,
        server_challenge: [u8; 8],
    },
    Done,
}

pub struct Acceptor {
    state: State,
}

impl Default for Acceptor {
    fn default() -> Self {
        Acceptor::new()
    }
}

/// FILETIME now: 100 ns ticks since 1601-01-01.
fn filetime_now() -> u64 {
    const EPOCH_DIFF_SECS: u64 = 11_644_473_600;
    let since_unix = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap_or_default();
    (since_unix.as_secs() + EPOCH_DIFF_SECS) * 10_000_000
        + u64::from(since_unix.subsec_nanos() / 100)
}

fn random_challenge() -> [u8; 8] {
    // A real server draws this at random; so do we (the value only has to
    // be unpredictable, not reproducible).
    rand::random()
}

/// The flags we answer with: what the client asked for, limited to what
/// this acceptor implements, plus the ones a CHALLENGE always carries.
fn answer_flags(client: u32) -> u32 {
    let supported = flags::UNICODE
        | flags::REQUEST_TARGET
        | flags::SIGN
        | flags::SEAL
        | flags::NTLM
        | flags::ALWAYS_SIGN
        | flags::EXTENDED_SESSION_SECURITY
        | flags::VERSION
        | flags::NEG_128
        | flags::KEY_EXCH
        | flags::NEG_56;
    (client & supported) | flags::TARGET_INFO | flags::TARGET_TYPE_DOMAIN | flags::UNICODE
}

pub enum Step {
    /// Send this token back in `WWW-Authenticate` with a 401.
    Challenge(Vec<u8>),
    /// Authentication finished.
    Established(Box<Session>),
}

impl Acceptor {
    pub fn new() -> Self {
        Acceptor {
            state: State::Start,
        }
    }

    /// Feeds one raw NTLM token.
    pub fn step(
        &mut self,
        token: &[u8],
        id: &ServerIdentity<'_>,
        accounts: &[Account],
    ) -> Result<Step, AuthError> {
        let ty = messages::message_type(token)?;
        match (std::mem::replace(&mut self.state, State::Done), ty) {
            (_, 1) => {
                // A NEGOTIATE restarts the exchange whatever the state was.
                let neg = messages::parse_negotiate(token)?;
                let server_challenge = random_challenge();
                let challenge = messages::build_challenge(&ChallengeParams {
                    flags: answer_flags(neg.flags),
                    server_challenge,
                    nb_domain: id.nb_domain,
                    nb_computer: id.nb_computer,
                    dns_domain: id.dns_domain,
                    dns_computer: id.dns_computer,
                    timestamp: filetime_now(),
                });
                self.state = State::ChallengeSent {
                    negotiate: token.to_vec(),
                    challenge: challenge.clone(),
                    server_challenge,
                };
                Ok(Step::Challenge(challenge))
            }
            (
                State::ChallengeSent {
                    negotiate,
                    challenge,
                    server_challenge,
                },
                3,
            ) => {
                let auth = messages::parse_authenticate(token)?;
                if id.reject_all {
                    return Err(AuthError::LogonFailure);
                }
                let session = verify(
                    &auth,
                    &server_challenge,
                    &negotiate,
                    &challenge,
                    id,
                    accounts,
                )?;
                Ok(Step::Established(Box::new(session)))
            }
            (_, other) => Err(AuthError::OutOfOrder(other)),
        }
    }
}

fn names_match(sent_domain: &str, account: &Account, id: &ServerIdentity<'_>) -> bool {
    if account.domain.is_empty() {
        // Local account: the domain is empty, the computer name, or ".".
        sent_domain.is_empty()
            || sent_domain == "."
            || sent_domain.eq_ignore_ascii_case(id.nb_computer)
    } else {
        sent_domain.eq_ignore_ascii_case(&account.domain)
            || sent_domain.eq_ignore_ascii_case(id.dns_domain)
    }
}

/// Finds the account the client claims to be and checks its NTLMv2 proof.
fn verify(
    auth: &Authenticate<'_>,
    server_challenge: &[u8; 8],
    negotiate: &[u8],
    challenge: &[u8],
    id: &ServerIdentity<'_>,
    accounts: &[Account],
) -> Result<Session, AuthError> {
    // A UPN arrives as the user with an empty domain.
    let (user, domain) = match auth.user.split_once('@') {
        Some((u, d)) if auth.domain.is_empty() => (u.to_string(), d.to_string()),
        _ => (auth.user.clone(), auth.domain.clone()),
    };
    if auth.nt_response.len() <= 24 {
        // Empty (anonymous) or 24-byte NTLMv1 responses.
        return Err(AuthError::Unsupported);
    }
    let (proof, temp) = auth.nt_response.split_at(16);
    let account = accounts
        .iter()
        .find(|a| a.user.eq_ignore_ascii_case(&user) && names_match(&domain, a, id))
        .ok_or(AuthError::LogonFailure)?;
    // NTOWFv2 over the names exactly as the client sent them.
    let key = ntowfv2(&account.password, &auth.user, &auth.domain);
    let expected = nt_proof_str(&key, server_challenge, temp);
    if !ct_eq(&expected, proof) {
        return Err(AuthError::LogonFailure);
    }
    let base = session_base_key(&key, &expected);
    let exported: Key16 = if auth.flags & flags::KEY_EXCH != 0 {
        let esk = rc4_once(&base, auth.encrypted_session_key);
        esk.try_into().map_err(|_| AuthError::LogonFailure)?
    } else {
        base
    };
    let pairs = messages::response_av_pairs(auth.nt_response);
    let av_flags = pairs
        .iter()
        .find(|(i, _)| *i == av::FLAGS)
        .and_then(|(_, v)| v.get(..4))
        .map(|v| u32::from_le_bytes([v[0], v[1], v[2], v[3]]))
        .unwrap_or(0);
    if av_flags & AV_FLAG_MIC_PRESENT != 0 {
        check_mic(auth.raw, negotiate, challenge, &exported)?;
    }
    if let Some(cert_hash) = id.tls_cert_hash {
        let sent = pairs
            .iter()
            .find(|(i, _)| *i == av::CHANNEL_BINDINGS)
            .map(|(_, v)| *v);
        // No bindings, or all zeros, is accepted (CbtHardeningLevel=Relaxed).
        if let Some(sent) = sent.filter(|v| v.iter().any(|b| *b != 0))
            && !ct_eq(sent, &channel_binding_hash(&cert_hash))
        {
            return Err(AuthError::ChannelBinding);
        }
    }
    Ok(Session {
        user: if auth.domain.is_empty() {
            auth.user.clone()
        } else {
            format!("{}\\{}", auth.domain, auth.user)
        },
        inbound: SealingKey::new(&exported, Direction::ClientToServer),
        outbound: SealingKey::new(&exported, Direction::ServerToClient),
        exported_session_key: exported,
    })
}

fn check_mic(
    raw: &[u8],
    negotiate: &[u8],
    challenge: &[u8],
    exported: &Key16,
) -> Result<(), AuthError> {
    let sent = raw
        .get(MIC_OFFSET..MIC_OFFSET + 16)
        .ok_or(AuthError::BadMic)?;
    let mut zeroed = raw.to_vec();
    if let Some(slot) = zeroed.get_mut(MIC_OFFSET..MIC_OFFSET + 16) {
        slot.fill(0);
    }
    let mic = hmac_md5(exported, &[negotiate, challenge, &zeroed]);
    if ct_eq(&mic, sent) {
        Ok(())
    } else {
        Err(AuthError::BadMic)
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::simulator::ntlm::crypto::Direction;

    /// A minimal hand-rolled NTLMv2 initiator for tests: builds AUTHENTICATE
    /// for a CHALLENGE, with MIC and optional channel bindings.
    pub(crate) fn client_authenticate(
        negotiate: &[u8],
        challenge: &[u8],
        user: &str,
        domain: &str,
        password: &str,
        cbt: Option<Key16>,
        corrupt_mic: bool,
    ) -> (Vec<u8>, Key16) {
        let ti_len = u16::from_le_bytes([challenge[40], challenge[41]]) as usize;
        let ti_off = u32::from_le_bytes(challenge[44..48].try_into().unwrap()) as usize;
        let server_challenge: [u8; 8] = challenge[24..32].try_into().unwrap();
        let target_info = &challenge[ti_off..ti_off + ti_len];
        // Rebuild target info: original pairs minus EOL, + flags (MIC), + CBT, + EOL.
        let mut ti = target_info[..target_info.len() - 4].to_vec();
        ti.extend([6, 0, 4, 0, 2, 0, 0, 0]);
        if let Some(c) = cbt {
            ti.extend([10, 0, 16, 0]);
            ti.extend(c);
        }
        ti.extend([0, 0, 0, 0]);
        let mut temp = vec![1, 1, 0, 0, 0, 0, 0, 0];
        temp.extend([0u8; 8]);
        temp.extend([0xaa; 8]);
        temp.extend([0; 4]);
        temp.extend(&ti);
        temp.extend([0; 4]);
        let key = ntowfv2(password, user, domain);
        let proof = nt_proof_str(&key, &server_challenge, &temp);
        let base = session_base_key(&key, &proof);
        let exported = [0x77u8; 16];
        let esk = rc4_once(&base, &exported);
        let mut nt = proof.to_vec();
        nt.extend(&temp);
        let u16s = |s: &str| {
            s.encode_utf16()
                .flat_map(u16::to_le_bytes)
                .collect::<Vec<u8>>()
        };
        let (d, u, w) = (u16s(domain), u16s(user), u16s("WS"));
        let lm = vec![0u8; 24];
        let mut payload = Vec::new();
        let mut fields = Vec::new();
        let base_off = 88usize;
        for part in [&lm, &nt, &d, &u, &w, &esk] {
            fields.push((part.len(), base_off + payload.len()));
            payload.extend_from_slice(part);
        }
        let mut m = b"NTLMSSP\0".to_vec();
        m.extend(3u32.to_le_bytes());
        for (len, off) in &fields {
            m.extend((*len as u16).to_le_bytes());
            m.extend((*len as u16).to_le_bytes());
            m.extend((*off as u32).to_le_bytes());
        }
        m.extend(0xE288_8235u32.to_le_bytes());
        m.extend([10, 0, 0x7C, 0x4F, 0, 0, 0, 0x0F]);
        m.extend([0u8; 16]);
        m.extend(&payload);
        let mut mic = hmac_md5(&exported, &[negotiate, challenge, &m]);
        if corrupt_mic {
            mic[0] ^= 0xff;
        }
        m[72..88].copy_from_slice(&mic);
        (m, exported)
    }

    pub(crate) fn negotiate_token() -> Vec<u8> {
        let mut m = b"NTLMSSP\0".to_vec();
        m.extend(1u32.to_le_bytes());
        m.extend(0xE208_8237u32.to_le_bytes());
        m.extend([0u8; 16]);
        m
    }

    fn identity(cert: Option<[u8; 32]>) -> ServerIdentity<'static> {
        ServerIdentity {
            nb_domain: "CONTOSO",
            nb_computer: "HV01",
            dns_domain: "contoso.com",
            dns_computer: "hv01.contoso.com",
            tls_cert_hash: cert,
            reject_all: false,
        }
    }

    fn accounts() -> Vec<Account> {
        vec![
            Account::parse("CONTOSO\\svc-inventory", "Sim-Passw0rd!"),
            Account::parse("localadmin", "L0cal!"),
        ]
    }

    fn run(
        user: &str,
        domain: &str,
        password: &str,
        cbt: Option<Key16>,
        cert: Option<[u8; 32]>,
        corrupt_mic: bool,
    ) -> Result<(Session, Key16), AuthError> {
        let mut acc = Acceptor::new();
        let id = identity(cert);
        let neg = negotiate_token();
        let Step::Challenge(ch) = acc.step(&neg, &id, &accounts())? else {
            panic!("no challenge")
        };
        let (auth, exported) =
            client_authenticate(&neg, &ch, user, domain, password, cbt, corrupt_mic);
        match acc.step(&auth, &id, &accounts())? {
            Step::Established(s) => Ok((*s, exported)),
            Step::Challenge(_) => panic!("unexpected challenge"),
        }
    }

    #[test]
    fn good_password_establishes_and_exports_the_client_key() {
        let (s, exported) = run(
            "svc-inventory",
            "CONTOSO",
            "Sim-Passw0rd!",
            None,
            None,
            false,
        )
        .unwrap();
        assert_eq!(s.exported_session_key, exported);
        assert_eq!(s.user, "CONTOSO\\svc-inventory");
    }

    #[test]
    fn local_account_with_empty_domain_is_accepted() {
        assert!(run("localadmin", "", "L0cal!", None, None, false).is_ok());
    }

    #[test]
    fn wrong_password_and_unknown_user_fail() {
        assert_eq!(
            run("svc-inventory", "CONTOSO", "nope", None, None, false).err(),
            Some(AuthError::LogonFailure)
        );
        assert_eq!(
            run("mallory", "CONTOSO", "Sim-Passw0rd!", None, None, false).err(),
            Some(AuthError::LogonFailure)
        );
    }

    #[test]
    fn corrupted_mic_is_rejected() {
        assert_eq!(
            run(
                "svc-inventory",
                "CONTOSO",
                "Sim-Passw0rd!",
                None,
                None,
                true
            )
            .err(),
            Some(AuthError::BadMic)
        );
    }

    #[test]
    fn channel_binding_must_match_the_certificate_when_sent() {
        let cert = [7u8; 32];
        let good = channel_binding_hash(&cert);
        assert!(
            run(
                "svc-inventory",
                "CONTOSO",
                "Sim-Passw0rd!",
                Some(good),
                Some(cert),
                false
            )
            .is_ok()
        );
        assert_eq!(
            run(
                "svc-inventory",
                "CONTOSO",
                "Sim-Passw0rd!",
                Some([1; 16]),
                Some(cert),
                false
            )
            .err(),
            Some(AuthError::ChannelBinding)
        );
        // Absent bindings are accepted (Relaxed hardening).
        assert!(
            run(
                "svc-inventory",
                "CONTOSO",
                "Sim-Passw0rd!",
                None,
                Some(cert),
                false
            )
            .is_ok()
        );
    }

    #[test]
    fn established_keys_unseal_client_messages() {
        let (mut s, exported) = run(
            "svc-inventory",
            "CONTOSO",
            "Sim-Passw0rd!",
            None,
            None,
            false,
        )
        .unwrap();
        let mut client = SealingKey::new(&exported, Direction::ClientToServer);
        let mut data = b"<s:Envelope/>".to_vec();
        let sig = client.seal(&mut data);
        s.inbound.unseal(&mut data, &sig).unwrap();
        assert_eq!(data, b"<s:Envelope/>");
    }

    #[test]
    fn authenticate_before_negotiate_is_out_of_order() {
        let mut acc = Acceptor::new();
        let mut m = b"NTLMSSP\0".to_vec();
        m.extend(3u32.to_le_bytes());
        m.extend([0u8; 80]);
        assert!(matches!(
            acc.step(&m, &identity(None), &accounts()),
            Err(AuthError::OutOfOrder(3))
        ));
    }
}
