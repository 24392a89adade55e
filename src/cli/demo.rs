//! `hvinv demo`: the simulator, one collection, the topology and PVU summary.
//! Needs no Windows host and no configuration.

use super::Exit;
use super::collect::{self, CollectOptions};
use super::config::Config;
use crate::collection::{HostPlan, RunSummary};
use crate::simulator::{self, Estate, SimConfig, Simulator};
use crate::transport::{
    Address, BadAddress, Credentials, Encryption, Scheme, Target, Timeouts, TlsOptions,
    TransportConfig,
};
use crate::wsman::ClientOptions;
use secrecy::SecretString;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

/// Builds an hvinv configuration for every simulated host: sealed HTTP for
/// most, verified HTTPS (with the simulator's CA) for every third host, so the
/// demo exercises both transports. Fails only if the simulator names a host
/// in a way `Address` refuses (it names them by IP or DNS name).
pub fn config_for(
    sim: &Simulator,
    ca_file: &Path,
    db_url: &str,
    https_every: usize,
) -> Result<Config, BadAddress> {
    let hosts = sim
        .endpoints()
        .into_iter()
        .enumerate()
        .map(|(i, ep)| {
            let https = https_every > 0 && ep.https.is_some() && i % https_every == https_every - 1;
            let (scheme, port, host) = match (https, ep.https) {
                (true, Some(addr)) => (Scheme::Https, addr.port(), ep.tls_name.clone()),
                _ => (Scheme::Http, ep.http.port(), ep.ip.to_string()),
            };
            let connect_to = if https { ep.https } else { Some(ep.http) };
            let transport = TransportConfig {
                target: Target {
                    address: Address::new(&host, port)?,
                    scheme,
                    connect_to,
                },
                credentials: Credentials::parse(
                    simulator::DEFAULT_ACCOUNT,
                    SecretString::from(simulator::DEFAULT_PASSWORD.to_string()),
                ),
                encryption: Encryption::Auto,
                tls: TlsOptions {
                    ca_file: Some(ca_file.to_path_buf()),
                    thumbprint: None,
                    insecure_skip_verify: false,
                },
                timeouts: Timeouts::default(),
                auth: Default::default(),
                kerberos: Default::default(),
            };
            Ok(HostPlan {
                address: host,
                transport: Arc::new(transport),
                timeout: Duration::from_secs(60),
                region: None,
            })
        })
        .collect::<Result<_, BadAddress>>()?;
    Ok(Config {
        database_url: db_url.to_string(),
        concurrency: 64,
        hosts,
        warnings: Vec::new(),
        audit_key_file: None,
    })
}

pub async fn run(args: super::args::DemoArgs) -> Exit {
    let estate = Estate::demo(args.seed);
    let mut cfg = SimConfig::new(estate.clone());
    cfg.base_address = args.base_address;
    // Free ports: the demo must not collide with a real WinRM or another demo.
    cfg.http_port = 0;
    cfg.https_port = Some(0);
    let sim = match Simulator::start(cfg).await {
        Ok(s) => s,
        Err(e) => {
            eprintln!("hvinv demo: cannot start the simulator: {e}");
            return Exit::Usage;
        }
    };
    let dir = match tempfile_dir() {
        Ok(d) => d,
        Err(e) => {
            eprintln!("hvinv demo: cannot create a temporary folder: {e}");
            return Exit::Usage;
        }
    };
    let ca_file = dir.join("simulator-ca.pem");
    if let Err(e) = std::fs::write(&ca_file, sim.ca_pem()) {
        eprintln!("hvinv demo: cannot write the simulator CA: {e}");
        return Exit::Usage;
    }
    let db_url = args.db.clone();
    let config = match config_for(&sim, &ca_file, &db_url, 3) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("hvinv demo: a simulated host has an unusable address: {e}");
            return Exit::Usage;
        }
    };
    println!(
        "hvinv demo: simulating {} Hyper-V hosts ({} clusters) on loopback from {}",
        config.hosts.len(),
        estate.clusters.len(),
        args.base_address
    );
    let generations = args.generations.unwrap_or(1).max(1);
    let mut last: Option<RunSummary> = None;
    let mut current = estate;
    for generation in 0..generations {
        if generation > 0 {
            current = current.advance();
            sim.set_estate(current.clone());
        }
        let opts = CollectOptions {
            progress: true,
            client: ClientOptions::default(),
        };
        match collect::collect_configured_hosts(&config, &db_url, opts).await {
            Ok(summary) => {
                println!("{}", summary.line());
                last = Some(summary);
            }
            Err(e) => {
                eprintln!("hvinv demo: {e}");
                sim.shutdown().await;
                let _ = std::fs::remove_dir_all(&dir);
                return collect::run_error_exit(&e);
            }
        }
    }
    sim.shutdown().await;
    let _ = std::fs::remove_dir_all(&dir);
    let Some(summary) = last else {
        return Exit::Usage;
    };
    for f in &summary.failures {
        println!("  failed {}: {} {}", f.address, f.kind, f.message);
    }
    for w in &summary.warnings {
        println!("  warning {w}");
    }
    for w in &summary.incomplete_coverage {
        println!("  incomplete coverage: {w}");
    }
    println!();
    let code = super::report::print_demo_reports(&db_url).await;
    println!();
    println!("Database: {db_url}. Next:");
    println!("  hvinv report topology --db {db_url} --format json");
    println!("  hvinv report pvu --db {db_url} --format xlsx --output pvu.xlsx");
    println!("  hvinv report history --db {db_url}");
    println!("Evidence for an auditor (a signed bundle, then its check):");
    println!("  hvinv audit snapshot --db {db_url} --output audit.zip");
    println!("  hvinv audit verify audit.zip");
    if code != Exit::Ok {
        return code;
    }
    collect::summary_exit(&summary)
}

fn tempfile_dir() -> std::io::Result<std::path::PathBuf> {
    let dir = std::env::temp_dir().join(format!("hvinv-demo-{}", std::process::id()));
    std::fs::create_dir_all(&dir)?;
    Ok(dir)
}
