//! Transport micro-benchmarks (plain `main`, no harness):
//! - NTLM handshakes per second (client state machine against an
//!   in-process sspi server);
//! - seal + frame + parse + unseal throughput, both directions, for
//!   typical WinRM body sizes.
//!
//! Run: `cargo bench --bench transport`.

use hvinv::transport::negotiate::{Established, Start};
use hvinv::transport::{Credentials, sealing};
use sspi::{
    AuthIdentity, AuthIdentityBuffers, BufferType, CredentialUse, DataRepresentation,
    EncryptionFlags, Ntlm, SecurityBuffer, SecurityBufferRef, ServerRequestFlags, Sspi, SspiImpl,
    Username,
};
use std::time::{Duration, Instant};

struct Server {
    ntlm: Ntlm,
    handle: Option<AuthIdentityBuffers>,
}

impl Server {
    fn new() -> Server {
        let mut ntlm = Ntlm::new();
        let identity = AuthIdentity {
            username: Username::new("bench", Some("DOM")).expect("user name"),
            password: "bench-pw".to_string().into(),
        };
        let handle = ntlm
            .acquire_credentials_handle()
            .with_credential_use(CredentialUse::Inbound)
            .with_auth_data(&identity)
            .execute(&mut ntlm)
            .expect("server credentials")
            .credentials_handle;
        Server { ntlm, handle }
    }

    fn step(&mut self, token: &[u8]) -> Vec<u8> {
        let mut input = vec![SecurityBuffer::new(token.to_vec(), BufferType::Token)];
        let mut output = vec![SecurityBuffer::new(Vec::new(), BufferType::Token)];
        let builder = self
            .ntlm
            .accept_security_context()
            .with_credentials_handle(&mut self.handle)
            .with_context_requirements(ServerRequestFlags::empty())
            .with_target_data_representation(DataRepresentation::Native)
            .with_input(&mut input)
            .with_output(&mut output);
        let status = self
            .ntlm
            .accept_security_context_impl(builder)
            .expect("accept")
            .resolve_to_result()
            .expect("accept result")
            .status;
        if status == sspi::SecurityStatus::CompleteNeeded
            || status == sspi::SecurityStatus::CompleteAndContinue
        {
            self.ntlm.complete_auth_token(&mut []).expect("complete");
        }
        output
            .into_iter()
            .next()
            .map(|b| b.buffer)
            .unwrap_or_default()
    }
}

fn handshake() -> (Established, Server) {
    let creds = Credentials::parse("DOM\\bench", "bench-pw".to_string().into());
    let mut server = Server::new();
    let start = Start::new(&creds, "WSMAN/bench".into()).expect("start");
    let (sent, negotiate) = start.negotiate(None).expect("negotiate");
    let challenge = server.step(&negotiate);
    let (est, auth) = sent.authenticate(&challenge).expect("authenticate");
    server.step(&auth);
    (est, server)
}

fn bench_handshakes() {
    let budget = Duration::from_secs(2);
    let t0 = Instant::now();
    let mut n = 0u64;
    while t0.elapsed() < budget {
        std::hint::black_box(handshake());
        n += 1;
    }
    let secs = t0.elapsed().as_secs_f64();
    println!(
        "ntlm handshake (client+server, in-process): {n} in {secs:.2} s = {:.0} handshakes/s",
        n as f64 / secs
    );
}

fn bench_sealing(size: usize) {
    let (mut client, mut server) = handshake();
    let soap: Vec<u8> = b"<s:Envelope xmlns:s=\"http://www.w3.org/2003/05/soap-envelope\">"
        .iter()
        .copied()
        .cycle()
        .take(size)
        .collect();
    let budget = Duration::from_secs(2);
    let t0 = Instant::now();
    let mut n = 0u64;
    while t0.elapsed() < budget {
        // Client -> server: seal, frame, parse, decrypt (as the host would).
        let (sig, ct) = client.seal(&soap).expect("seal");
        let body = sealing::encode(&sig, &ct, soap.len());
        let parsed = sealing::decode(sealing::CONTENT_TYPE, &body).expect("decode");
        let mut token = parsed.signature;
        let mut data = parsed.ciphertext;
        let mut bufs = [
            SecurityBufferRef::token_buf(&mut token),
            SecurityBufferRef::data_buf(&mut data),
        ];
        server
            .ntlm
            .decrypt_message(&mut bufs)
            .expect("server decrypt");

        // Server -> client: encrypt, frame, parse, unseal (our reply path).
        let mut token = [0u8; 16];
        let mut data = soap.clone();
        let mut bufs = [
            SecurityBufferRef::token_buf(&mut token),
            SecurityBufferRef::data_buf(&mut data),
        ];
        server
            .ntlm
            .encrypt_message(EncryptionFlags::empty(), &mut bufs)
            .expect("server encrypt");
        let body = sealing::encode(&token, &data, soap.len());
        let parsed = sealing::decode(sealing::CONTENT_TYPE, &body).expect("decode");
        let plain = client
            .unseal(&parsed.signature, parsed.ciphertext)
            .expect("unseal");
        assert_eq!(plain.len(), soap.len());
        n += 1;
    }
    let secs = t0.elapsed().as_secs_f64();
    let mb = (n as f64 * size as f64 * 2.0) / (1024.0 * 1024.0);
    println!(
        "seal+frame+parse+unseal, {:>7} B bodies, both directions: {:>8.0} round trips/s, {:>7.1} MiB/s",
        size,
        n as f64 / secs,
        mb / secs
    );
}

fn main() {
    bench_handshakes();
    for size in [1024, 16 * 1024, 150 * 1024, 512 * 1024] {
        bench_sealing(size);
    }
}
