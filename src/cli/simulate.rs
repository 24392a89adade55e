//! `hvinv simulate`: the simulator on its own, until Ctrl-C (or a duration).

use super::Exit;
use crate::simulator::{self, Estate, SimConfig, Simulator};
use std::fmt::Write as _;
use std::time::Duration;

pub async fn run(args: super::args::SimulateArgs) -> Exit {
    let estate = match args.hosts {
        Some(n) => Estate::scale(n, args.vms_per_host, args.seed),
        None => Estate::demo(args.seed),
    };
    let mut cfg = SimConfig::new(estate);
    cfg.base_address = args.base_address;
    cfg.http_port = args.http_port;
    cfg.https_port = Some(args.https_port);
    cfg.latency = Duration::from_secs_f64(args.latency_ms.max(0.0) / 1000.0);
    let sim = match Simulator::start(cfg).await {
        Ok(s) => s,
        Err(e) => {
            eprintln!("hvinv simulate: {e}");
            return Exit::Usage;
        }
    };
    let endpoints = sim.endpoints();
    if let Some(path) = &args.write_ca
        && let Err(e) = std::fs::write(path, sim.ca_pem())
    {
        eprintln!("hvinv simulate: cannot write {}: {e}", path.display());
        sim.shutdown().await;
        return Exit::Usage;
    }
    if let Some(path) = &args.write_config {
        let mut text = String::new();
        let _ = writeln!(
            text,
            "# Written by `hvinv simulate`: {} simulated hosts.",
            endpoints.len()
        );
        let _ = writeln!(
            text,
            "# The simulator's password is public: export HVINV_SIM_PASSWORD='{}'\n",
            simulator::DEFAULT_PASSWORD
        );
        let _ = writeln!(text, "[defaults]");
        let _ = writeln!(text, "username = '{}'", simulator::DEFAULT_ACCOUNT);
        let _ = writeln!(text, "password_env = \"HVINV_SIM_PASSWORD\"");
        if let Some(ca) = &args.write_ca {
            let _ = writeln!(text, "ca_file = {:?}", ca.display().to_string());
        }
        let _ = writeln!(text, "concurrency = 64\n");
        for ep in &endpoints {
            let _ = writeln!(
                text,
                "[[host]]\naddress = \"{}\"\nport = {}\n",
                ep.ip,
                ep.http.port()
            );
        }
        if let Err(e) = std::fs::write(path, text) {
            eprintln!("hvinv simulate: cannot write {}: {e}", path.display());
            sim.shutdown().await;
            return Exit::Usage;
        }
    }
    let first = endpoints
        .first()
        .map(|e| e.http.to_string())
        .unwrap_or_default();
    let last = endpoints
        .last()
        .map(|e| e.http.to_string())
        .unwrap_or_default();
    println!(
        "hvinv simulate: {} hosts listening ({first} … {last}); account {} / password {}; Ctrl-C to stop",
        endpoints.len(),
        simulator::DEFAULT_ACCOUNT,
        simulator::DEFAULT_PASSWORD
    );
    match args.duration_secs {
        Some(s) => {
            tokio::select! {
                _ = tokio::time::sleep(Duration::from_secs(s)) => {},
                _ = super::collect::shutdown_signal() => {},
            }
        }
        None => super::collect::shutdown_signal().await,
    }
    let stats = sim.stats();
    sim.shutdown().await;
    println!(
        "hvinv simulate: served {} requests on {} connections ({} authentications, {} failed), {} bytes in, {} bytes out{}",
        stats.requests,
        stats.connections,
        stats.handshakes,
        stats.auth_failures,
        stats.bytes_in,
        stats.bytes_out,
        stats
            .cpu_time
            .map(|t| format!(", {:.2} s CPU", t.as_secs_f64()))
            .unwrap_or_default()
    );
    Exit::Ok
}
