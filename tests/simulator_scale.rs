//! Scale: many hosts in one process, and the cost of serving them.
//! The 5,000-host measurement is `#[ignore]`d (run it with
//! `cargo test --test simulator_scale -- --ignored --nocapture`).

use hvinv::simulator::{
    DEFAULT_ACCOUNT, DEFAULT_PASSWORD, Estate, SimConfig, SimEndpoint, Simulator,
};
use hvinv::transport::{Connection, Credentials, Scheme, Target, TransportConfig};
use hvinv::wsman::{Client, ClientOptions};
use secrecy::SecretString;
use std::sync::Arc;
use std::time::Instant;

fn client(ep: &SimEndpoint) -> Client {
    let mut target = Target::on_default_port(&ep.tls_name, Scheme::Http).unwrap();
    target.set_port(ep.http.port());
    target.connect_to = Some(ep.http);
    let creds = Credentials::parse(
        DEFAULT_ACCOUNT,
        SecretString::from(DEFAULT_PASSWORD.to_string()),
    );
    Client::new(
        Connection::new(Arc::new(TransportConfig::new(target, creds))),
        ClientOptions::default(),
    )
}

async fn start(hosts: usize, vms: usize) -> (Simulator, Estate, std::time::Duration) {
    let estate = Estate::scale(hosts, vms, 5);
    let mut cfg = SimConfig::new(estate.clone());
    cfg.http_port = 0;
    cfg.https_port = Some(0);
    let t = Instant::now();
    let sim = Simulator::start(cfg).await.expect("start");
    (sim, estate, t.elapsed())
}

/// Collects the VM list of every host once, `concurrency` hosts at a time.
async fn sweep(sim: &Simulator, concurrency: usize) -> (usize, std::time::Duration) {
    let eps = sim.endpoints();
    let sem = Arc::new(tokio::sync::Semaphore::new(concurrency));
    let t = Instant::now();
    let mut set = tokio::task::JoinSet::new();
    for ep in eps {
        let permit = Arc::clone(&sem).acquire_owned().await.unwrap();
        set.spawn(async move {
            let _p = permit;
            let mut c = client(&ep);
            let n = c
                .enumerate_wql(
                    "root/virtualization/v2",
                    "SELECT * FROM Msvm_ComputerSystem",
                )
                .await
                .expect("enumerate")
                .len();
            c.close().await;
            n
        });
    }
    let mut rows = 0;
    while let Some(r) = set.join_next().await {
        rows += r.unwrap();
    }
    (rows, t.elapsed())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn five_hundred_hosts_listen_on_distinct_loopback_addresses() {
    let (sim, estate, _) = start(500, 2).await;
    let eps = sim.endpoints();
    assert_eq!(eps.len(), 500);
    let mut ips: Vec<_> = eps.iter().map(|e| e.ip).collect();
    ips.dedup();
    assert_eq!(ips.len(), 500);
    assert_eq!(eps[300].host_name, estate.hosts[300].name);
    // The first, a middle and the last host answer with their own VMs.
    for i in [0, 255, 499] {
        let mut c = client(&eps[i]);
        let rows = c
            .enumerate_wql(
                "root/virtualization/v2",
                "SELECT Name FROM Msvm_ComputerSystem",
            )
            .await
            .unwrap();
        assert_eq!(rows.len(), estate.hosts[i].vms.len() + 1);
        c.close().await;
    }
    sim.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "measurement: 5,000 hosts"]
async fn measure_five_thousand_hosts() {
    // HVINV_SIM_HOSTS shrinks the run on a busy machine.
    let hosts: usize = std::env::var("HVINV_SIM_HOSTS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(5000);
    let (sim, _, started) = start(hosts, 20).await;
    println!("start {hosts} hosts x 2 listeners: {started:?}");
    let before = sim.stats();
    let (rows, took) = sweep(&sim, 64).await;
    let after = sim.stats();
    let reqs = after.requests - before.requests;
    let soap = after.soap_requests - before.soap_requests;
    println!(
        "sweep: {rows} rows from {hosts} hosts in {took:?}; {reqs} HTTP requests ({soap} SOAP), {:.0} req/s",
        reqs as f64 / took.as_secs_f64()
    );
    if let (Some(a), Some(b)) = (after.cpu_time, before.cpu_time) {
        let cpu = a - b;
        println!(
            "simulator CPU {cpu:?} = {:.1} us per HTTP request, {:.1} us per SOAP request",
            cpu.as_secs_f64() * 1e6 / reqs as f64,
            cpu.as_secs_f64() * 1e6 / soap as f64
        );
    }
    // Second sweep: the per-query XML is cached now.
    let before = sim.stats();
    let (_, took2) = sweep(&sim, 64).await;
    let after = sim.stats();
    if let (Some(a), Some(b)) = (after.cpu_time, before.cpu_time) {
        println!("cached sweep in {took2:?}, simulator CPU {:?}", a - b);
    }
    println!("bytes out {} MB", after.bytes_out / 1_000_000);
    sim.shutdown().await;
}
