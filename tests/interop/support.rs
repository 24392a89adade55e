//! Shared plumbing of the interop tests: find the virtualenv's Python, run
//! the Python peers, make throw-away TLS certificates.
//!
//! Included with `#[path = "interop/support.rs"] mod support;` by each
//! `tests/interop_*.rs`, so every item may be unused in one of them.
#![allow(dead_code)]

use std::io::{BufRead, BufReader, Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::mpsc::{Receiver, RecvTimeoutError, channel};
use std::time::{Duration, Instant};

/// How long a peer may take to start listening (cold imports of
/// `cryptography` on a busy 2-core machine).
const START_TIMEOUT: Duration = Duration::from_secs(30);

/// The interpreter with pyspnego and pypsrp: `HVINV_PYTHON` (set by
/// `scripts/test`), else the repository's `.venv`. Interop is required, so a
/// missing interpreter fails the test with the command that fixes it.
pub fn python() -> PathBuf {
    let path = std::env::var_os("HVINV_PYTHON")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join(".venv/bin/python"));
    assert!(
        path.exists(),
        "interop peers need Python with pyspnego and pypsrp: {} does not exist; \
         run `scripts/test` (it builds .venv) or set HVINV_PYTHON",
        path.display()
    );
    path
}

pub fn script(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/interop")
        .join(name)
}

/// An account both sides agree on. The password reaches the peers through
/// their environment only, never their command line.
#[derive(Clone)]
pub struct Account {
    pub domain: String,
    pub user: String,
    pub password: String,
}

impl Account {
    pub fn qualified(&self) -> String {
        if self.domain.is_empty() {
            self.user.clone()
        } else {
            format!("{}\\{}", self.domain, self.user)
        }
    }
}

/// `tests/interop/winrm_server.py`: pyspnego's acceptor behind WinRM framing.
pub struct PeerServer {
    child: Child,
    stdin: Option<ChildStdin>,
    lines: Receiver<String>,
    pub port: u16,
}

impl PeerServer {
    /// Starts the server for `account` with extra (non-secret) arguments.
    pub fn start(account: &Account, args: &[&str]) -> PeerServer {
        Self::start_with_env(account, args, &[])
    }

    /// Like `start`, with extra environment (Kerberos: KRB5_CONFIG, KRB5_KTNAME).
    pub fn start_with_env(
        account: &Account,
        args: &[&str],
        env: &[(String, String)],
    ) -> PeerServer {
        let mut child = Command::new(python())
            .arg(script("winrm_server.py"))
            .args(args)
            .envs(env.iter().map(|(k, v)| (k.as_str(), v.as_str())))
            .env("HVINV_INTEROP_USER", &account.user)
            .env("HVINV_INTEROP_PASSWORD", &account.password)
            .env("HVINV_INTEROP_DOMAIN", &account.domain)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("start winrm_server.py");
        let stdin = child.stdin.take();
        let stdout = child.stdout.take().expect("server stdout");
        let (tx, lines) = channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines() {
                let Ok(line) = line else { break };
                if tx.send(line).is_err() {
                    break;
                }
            }
        });
        let mut server = PeerServer {
            child,
            stdin,
            lines,
            port: 0,
        };
        let line = server
            .next_line_starting("PORT ", START_TIMEOUT)
            .expect("winrm_server.py did not print its port");
        server.port = line.trim().parse().expect("port number");
        server
    }

    fn next_line_starting(&self, prefix: &str, within: Duration) -> Option<String> {
        let deadline = Instant::now() + within;
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match self.lines.recv_timeout(left) {
                Ok(line) => {
                    if let Some(rest) = line.strip_prefix(prefix) {
                        return Some(rest.to_string());
                    }
                }
                Err(RecvTimeoutError::Timeout | RecvTimeoutError::Disconnected) => return None,
            }
        }
    }

    /// Stops the server and returns its counters (`GET /stats` shape).
    pub fn finish(mut self) -> serde_json::Value {
        drop(self.stdin.take());
        let line = self
            .next_line_starting("STATS ", Duration::from_secs(15))
            .expect("winrm_server.py did not report its counters");
        serde_json::from_str(&line).expect("stats JSON")
    }
}

impl Drop for PeerServer {
    fn drop(&mut self) {
        drop(self.stdin.take());
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The server's canned instances (`winrm_server.py --print-estate`).
pub fn peer_estate() -> serde_json::Value {
    let out = Command::new(python())
        .arg(script("winrm_server.py"))
        .arg("--print-estate")
        .stdin(Stdio::null())
        .output()
        .expect("run winrm_server.py --print-estate");
    assert!(out.status.success(), "--print-estate failed");
    serde_json::from_slice(&out.stdout).expect("estate JSON")
}

/// Runs `tests/interop/pypsrp_client.py` with `args`; returns its JSON
/// verdict. Bounded in time: the script has its own socket timeouts and is
/// killed after `within`.
pub fn run_pypsrp(account: &Account, args: &[String], within: Duration) -> serde_json::Value {
    let mut child = Command::new(python())
        .arg(script("pypsrp_client.py"))
        .args(args)
        .env("HVINV_INTEROP_USER", account.qualified())
        .env("HVINV_INTEROP_PASSWORD", &account.password)
        // A developer's proxy settings must not divert loopback traffic.
        .env_remove("HTTP_PROXY")
        .env_remove("HTTPS_PROXY")
        .env_remove("http_proxy")
        .env_remove("https_proxy")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start pypsrp_client.py");
    // Drain both pipes on their own threads so a large reply cannot block
    // the child while we wait for it.
    let stdout = drain(child.stdout.take().expect("client stdout"));
    let stderr = drain(child.stderr.take().expect("client stderr"));
    let deadline = Instant::now() + within;
    loop {
        match child.try_wait().expect("wait pypsrp_client.py") {
            Some(_) => break,
            None if Instant::now() >= deadline => {
                let _ = child.kill();
                let _ = child.wait();
                panic!("pypsrp_client.py did not finish within {within:?}");
            }
            None => std::thread::sleep(Duration::from_millis(20)),
        }
    }
    let stdout = stdout.join().expect("stdout reader");
    let stderr = stderr.join().expect("stderr reader");
    serde_json::from_str(stdout.trim()).unwrap_or_else(|e| {
        panic!("pypsrp_client.py printed no JSON ({e}); stdout: {stdout}; stderr: {stderr}")
    })
}

fn drain(mut pipe: impl Read + Send + 'static) -> std::thread::JoinHandle<String> {
    std::thread::spawn(move || {
        let mut bytes = Vec::new();
        let _ = pipe.read_to_end(&mut bytes);
        String::from_utf8_lossy(&bytes).into_owned()
    })
}

/// A CA and a leaf certificate for `names` (DNS names or IP literals),
/// written as PEM files in `dir`: `(ca.pem, leaf.pem, leaf.key)`.
pub fn make_tls_files(dir: &Path, names: &[&str]) -> (PathBuf, PathBuf, PathBuf) {
    make_tls_files_signed_with(dir, names, &rcgen::PKCS_ECDSA_P256_SHA256)
}

/// Same, with the CA key (and so the leaf's signature) of `alg`: the
/// channel-binding hash follows the signature's hash (RFC 5929 4.1).
pub fn make_tls_files_signed_with(
    dir: &Path,
    names: &[&str],
    alg: &'static rcgen::SignatureAlgorithm,
) -> (PathBuf, PathBuf, PathBuf) {
    use rcgen::{
        BasicConstraints, CertificateParams, DnType, IsCa, Issuer, KeyPair, KeyUsagePurpose,
    };

    let ca_key = KeyPair::generate_for(alg).expect("CA key");
    let mut ca_params = CertificateParams::new(Vec::<String>::new()).expect("CA params");
    ca_params
        .distinguished_name
        .push(DnType::CommonName, "hvinv interop test CA");
    ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    ca_params.key_usages = vec![
        KeyUsagePurpose::KeyCertSign,
        KeyUsagePurpose::DigitalSignature,
    ];
    let ca_cert = ca_params.self_signed(&ca_key).expect("CA cert");
    let issuer = Issuer::new(ca_params, ca_key);

    let leaf_key = KeyPair::generate().expect("leaf key");
    let names: Vec<String> = names.iter().map(|s| s.to_string()).collect();
    let mut leaf_params = CertificateParams::new(names).expect("leaf params");
    leaf_params
        .distinguished_name
        .push(DnType::CommonName, "hvinv interop peer");
    let leaf = leaf_params
        .signed_by(&leaf_key, &issuer)
        .expect("leaf cert");

    let ca_path = dir.join("ca.pem");
    let leaf_path = dir.join("leaf.pem");
    let key_path = dir.join("leaf.key");
    write(&ca_path, ca_cert.pem().as_bytes());
    write(&leaf_path, leaf.pem().as_bytes());
    write(&key_path, leaf_key.serialize_pem().as_bytes());
    (ca_path, leaf_path, key_path)
}

fn write(path: &Path, bytes: &[u8]) {
    let mut f = std::fs::File::create(path).expect("create PEM file");
    f.write_all(bytes).expect("write PEM file");
}
