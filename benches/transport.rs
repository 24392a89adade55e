//! Transport micro-benchmarks (plain `main`, no harness):
//! - NTLM handshakes per second (client state machine against an
//!   in-process sspi server);
//! - seal + frame + parse + unseal throughput, both directions, for
//!   typical WinRM body sizes;
//! - against the simulator on loopback: connect + authenticate + first
//!   request, and requests per second on one kept-alive connection, over
//!   sealed HTTP and over HTTPS.
//!
//! Run: `cargo bench --bench transport`.

use bytes::Bytes;
use hvinv::simulator::{self, Estate, SimConfig, Simulator};
use hvinv::transport::negotiate::{Established, Start};
use hvinv::transport::{Connection, Credentials, Scheme, Target, TransportConfig, sealing, tls};
use sspi::{
    AuthIdentity, AuthIdentityBuffers, BufferType, CredentialUse, DataRepresentation,
    EncryptionFlags, Ntlm, SecurityBuffer, SecurityBufferRef, ServerRequestFlags, Sspi, SspiImpl,
    Username,
};
use std::sync::Arc;
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

const IDENTIFY: &str = r#"<s:Envelope xmlns:s="http://www.w3.org/2003/05/soap-envelope" xmlns:wsmid="http://schemas.dmtf.org/wbem/wsman/identity/1/wsmanidentity.xsd"><s:Header/><s:Body><wsmid:Identify/></s:Body></s:Envelope>"#;

fn sim_config(
    sim: &Simulator,
    scheme: Scheme,
) -> (Arc<TransportConfig>, Option<tempfile::NamedTempFile>) {
    let ep = sim.endpoints().remove(0);
    let addr = match scheme {
        Scheme::Http => ep.http,
        Scheme::Https => ep.https.expect("https listener"),
    };
    let mut cfg = TransportConfig::new(
        Target {
            address: hvinv::transport::Address::new(&ep.tls_name, addr.port()).unwrap(),
            scheme,
            connect_to: Some(addr),
        },
        Credentials::parse(
            simulator::DEFAULT_ACCOUNT,
            simulator::DEFAULT_PASSWORD.to_string().into(),
        ),
    );
    let ca = (scheme == Scheme::Https).then(|| {
        let mut f = tempfile::NamedTempFile::new().expect("temp file");
        std::io::Write::write_all(&mut f, sim.ca_pem().as_bytes()).expect("write CA");
        cfg.tls.ca_file = Some(f.path().to_path_buf());
        f
    });
    (Arc::new(cfg), ca)
}

async fn bench_loopback(sim: &Simulator, scheme: Scheme) {
    let (cfg, _ca) = sim_config(sim, scheme);
    let tls_config = tls::client_config(&cfg.tls).expect("TLS config");
    let new_conn = || match scheme {
        Scheme::Http => Connection::new(cfg.clone()),
        Scheme::Https => Connection::with_tls_config(cfg.clone(), tls_config.clone()),
    };
    let label = match scheme {
        Scheme::Http => "sealed HTTP",
        Scheme::Https => "HTTPS",
    };
    let budget = Duration::from_secs(2);

    // Fresh connection each time: TCP (+TLS) + NEGOTIATE leg + AUTHENTICATE with the request.
    let t0 = Instant::now();
    let mut n = 0u64;
    while t0.elapsed() < budget {
        let mut conn = new_conn();
        conn.send(Bytes::from_static(IDENTIFY.as_bytes()))
            .await
            .expect("identify");
        conn.close().await;
        n += 1;
    }
    let secs = t0.elapsed().as_secs_f64();
    println!(
        "loopback {label}: connect+authenticate+first request: {:>6.0} /s ({:.2} ms each)",
        n as f64 / secs,
        secs * 1000.0 / n as f64
    );

    // One kept-alive, authenticated connection.
    let mut conn = new_conn();
    conn.send(Bytes::from_static(IDENTIFY.as_bytes()))
        .await
        .expect("identify");
    let before = conn.stats();
    let t0 = Instant::now();
    let mut n = 0u64;
    while t0.elapsed() < budget {
        conn.send(Bytes::from_static(IDENTIFY.as_bytes()))
            .await
            .expect("identify");
        n += 1;
    }
    let secs = t0.elapsed().as_secs_f64();
    let after = conn.stats();
    println!(
        "loopback {label}: requests on one connection: {:>6.0} /s ({:.0} µs each, {} B out + {} B in per exchange, {} reconnects)",
        n as f64 / secs,
        secs * 1e6 / n as f64,
        (after.bytes_out - before.bytes_out) / n,
        (after.bytes_in - before.bytes_in) / n,
        after.reconnects
    );
    conn.close().await;
}

fn main() {
    bench_handshakes();
    for size in [1024, 16 * 1024, 150 * 1024, 512 * 1024] {
        bench_sealing(size);
    }
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .expect("runtime");
    rt.block_on(async {
        let mut cfg = SimConfig::new(Estate::scale(1, 1, 7));
        cfg.http_port = 0;
        cfg.https_port = Some(0);
        cfg.threads = 1;
        let sim = Simulator::start(cfg).await.expect("simulator");
        bench_loopback(&sim, Scheme::Http).await;
        bench_loopback(&sim, Scheme::Https).await;
        sim.shutdown().await;
    });
}
