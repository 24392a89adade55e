//! No input panics the simulator's parsers: random and mutated tokens,
//! bodies, envelopes and queries (deterministic, so failures reproduce).

use super::estate::SplitMix64;
use super::framing;
use super::ntlm::acceptor::tests::negotiate_token;
use super::ntlm::{Acceptor, Account, ServerIdentity, spnego};
use super::soap::request;
use super::wql;

fn random_bytes(rng: &mut SplitMix64, max: u64) -> Vec<u8> {
    let n = rng.below(max) as usize;
    (0..n).map(|_| rng.next_u64() as u8).collect()
}

/// `base` with a few bytes flipped, cut, or extended.
fn mutate(rng: &mut SplitMix64, base: &[u8]) -> Vec<u8> {
    let mut v = base.to_vec();
    for _ in 0..rng.range(1, 4) {
        match rng.below(3) {
            0 if !v.is_empty() => {
                let i = rng.below(v.len() as u64) as usize;
                v[i] ^= rng.next_u64() as u8 | 1;
            }
            1 => v.truncate(rng.below(v.len() as u64 + 1) as usize),
            _ => v.extend(random_bytes(rng, 16)),
        }
    }
    v
}

#[test]
fn acceptor_survives_random_and_mutated_tokens() {
    let mut rng = SplitMix64::new(1);
    let id = ServerIdentity {
        nb_domain: "CONTOSO",
        nb_computer: "HV01",
        dns_domain: "contoso.com",
        dns_computer: "hv01.contoso.com",
        tls_cert_hash: Some([1; 32]),
        reject_all: false,
    };
    let accounts = vec![Account::parse("CONTOSO\\u", "p")];
    let neg = negotiate_token();
    for _ in 0..3000 {
        let mut a = Acceptor::new();
        let _ = a.step(&mutate(&mut rng, &neg), &id, &accounts);
        let mut auth = b"NTLMSSP\0\x03\0\0\0".to_vec();
        auth.extend(random_bytes(&mut rng, 200));
        let _ = a.step(&auth, &id, &accounts);
        let _ = a.step(&random_bytes(&mut rng, 64), &id, &accounts);
    }
}

#[test]
fn spnego_framing_and_envelope_parsers_survive_garbage() {
    let mut rng = SplitMix64::new(2);
    let spnego_ok = spnego::response(1, true, Some(b"NTLMSSP\0abc"), Some(&[1; 16]));
    let sealed_ok = framing::wrap(&[7; 16], b"<s:Envelope/>");
    let soap_ok = br#"<s:Envelope xmlns:s="http://www.w3.org/2003/05/soap-envelope" xmlns:a="http://schemas.xmlsoap.org/ws/2004/08/addressing"><s:Header><a:Action>x</a:Action></s:Header><s:Body/></s:Envelope>"#;
    for _ in 0..3000 {
        let _ = spnego::parse(&mutate(&mut rng, &spnego_ok));
        let _ = spnego::parse(&random_bytes(&mut rng, 64));
        let _ = framing::unwrap(&mutate(&mut rng, &sealed_ok));
        let _ = request::parse(&mutate(&mut rng, soap_ok));
    }
}

#[test]
fn wql_parser_survives_mutated_queries() {
    let mut rng = SplitMix64::new(3);
    let q = b"SELECT Name, State FROM Win32_Service WHERE (Name='vmms' OR Name <> \"x\") AND NOT State IS NULL";
    for _ in 0..5000 {
        let m = mutate(&mut rng, q);
        let _ = wql::parse(&String::from_utf8_lossy(&m));
    }
}
