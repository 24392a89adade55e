//! `hvinv generate-history` (hidden, for benchmarks): writes an N-host,
//! R-run history through the store's own write path (`begin_run_at`,
//! `record_hosts_at`, `finish_run_at`) without any network, with the churn
//! given on the command line. See `bench/README.md` ("Reports and store").

mod estate;

use super::Exit;
use crate::error::ErrorKind;
use crate::store::{HostOutcome, Store};
use chrono::{DateTime, Duration as Span, Utc};
use clap::Args;
pub use estate::{Churn, Estate};
use std::time::{Duration, Instant};

#[derive(Debug, Args)]
pub struct GenerateArgs {
    /// The database to write (created, or extended after its last run).
    #[arg(long)]
    pub db: String,
    #[arg(long, default_value_t = 1000)]
    pub hosts: usize,
    #[arg(long, default_value_t = 20)]
    pub vms_per_host: usize,
    /// Hosts per cluster (VMs migrate inside their cluster); 0: standalone.
    #[arg(long, default_value_t = 8)]
    pub cluster_size: usize,
    #[arg(long, default_value_t = 4320)]
    pub runs: usize,
    /// Start of the first run (RFC 3339).
    #[arg(long, default_value = "2026-08-01T00:00:00Z")]
    pub start: DateTime<Utc>,
    #[arg(long, default_value_t = 30)]
    pub interval_minutes: i64,
    /// Per VM per run: probability of a live migration.
    #[arg(long, default_value_t = 0.0002)]
    pub migrate: f64,
    /// Per VM per run: probability of switching between running and off.
    #[arg(long, default_value_t = 0.0001)]
    pub state_change: f64,
    /// Per VM per run: probability of a new vCPU count.
    #[arg(long, default_value_t = 0.00005)]
    pub vcpu_change: f64,
    /// Per host per run: probability of a timeout.
    #[arg(long, default_value_t = 0.0005)]
    pub fail: f64,
    /// Every Nth run is cut short halfway through its hosts (0: never).
    #[arg(long, default_value_t = 0)]
    pub interrupt_every: usize,
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
}

pub async fn run(a: GenerateArgs) -> Exit {
    let churn = Churn {
        migrate: a.migrate,
        state: a.state_change,
        vcpus: a.vcpu_change,
        fail: a.fail,
    };
    if let Some(bad) = [a.migrate, a.state_change, a.vcpu_change, a.fail]
        .into_iter()
        .find(|p| !(0.0..=1.0).contains(p))
    {
        eprintln!("hvinv generate-history: a probability must lie in [0, 1], not {bad}");
        return Exit::Usage;
    }
    // The lock is held until the end, as a collection would.
    let (store, _lock) = match Store::open_for_collection(&a.db).await {
        Ok(opened) => opened,
        Err(e) => {
            eprintln!("hvinv generate-history: {e}");
            return if e.exit_code() == 4 {
                Exit::Locked
            } else {
                Exit::Database
            };
        }
    };
    match generate(&store, &a, &churn).await {
        Ok(()) => Exit::Ok,
        Err(e) => {
            eprintln!("hvinv generate-history: {e}");
            Exit::Database
        }
    }
}

async fn generate(
    store: &Store,
    a: &GenerateArgs,
    churn: &Churn,
) -> Result<(), crate::store::StoreError> {
    let mut estate = Estate::new(a.hosts, a.vms_per_host, a.cluster_size, a.seed);
    let t0 = Instant::now();
    for r in 0..a.runs {
        let started = a.start + Span::minutes(a.interval_minutes * r as i64);
        let failing = estate.advance(churn);
        let cut_at = (a.interrupt_every > 0 && (r + 1) % a.interrupt_every == 0)
            .then_some(estate.hosts() / 2);
        one_run(store, &estate, &failing, started, cut_at).await?;
        if (r + 1) % 100 == 0 || r + 1 == a.runs {
            eprintln!(
                "generate-history: {} of {} runs, {:.1} s",
                r + 1,
                a.runs,
                t0.elapsed().as_secs_f64()
            );
        }
    }
    store.checkpoint().await
}

/// Hosts written per transaction (`record_hosts_at`).
const BATCH: usize = 250;

/// One run: every host's snapshot (or a timeout) through the store's
/// `record_hosts_at`, `BATCH` hosts per transaction; with `cut_at`, only
/// that many hosts, then the run is marked interrupted.
async fn one_run(
    store: &Store,
    estate: &Estate,
    failing: &[bool],
    started: DateTime<Utc>,
    cut_at: Option<usize>,
) -> Result<(), crate::store::StoreError> {
    let run = store.begin_run_at(estate.hosts() as u32, started).await?;
    let at = started + Span::minutes(1);
    let by_host = estate.placement();
    let clusters = estate.clusters(&by_host);
    let hosts = cut_at.unwrap_or(estate.hosts());
    let mut lo = 0;
    while lo < hosts {
        let hi = (lo + BATCH).min(hosts);
        let batch: Vec<(String, HostOutcome)> = (lo..hi)
            .map(|h| {
                (
                    Estate::address(h),
                    outcome(estate, h, failing[h], &by_host, &clusters),
                )
            })
            .collect();
        let refs: Vec<(&str, &HostOutcome)> = batch.iter().map(|(a, o)| (a.as_str(), o)).collect();
        store.record_hosts_at(run, &refs, at).await?;
        lo = hi;
    }
    if cut_at.is_some() {
        return store.mark_interrupted_at(run, at).await;
    }
    store.finish_run_at(run, started + Span::minutes(2)).await
}

fn outcome(
    estate: &Estate,
    h: usize,
    failing: bool,
    by_host: &[Vec<usize>],
    clusters: &[crate::inventory::ClusterSnapshot],
) -> HostOutcome {
    if failing {
        HostOutcome::Failed {
            kind: ErrorKind::Timeout,
            message: "the host did not answer within 60 s".into(),
            duration: Duration::from_secs(60),
            round_trips: 1,
        }
    } else {
        HostOutcome::Ok {
            snapshot: estate.snapshot(h, &by_host[h], clusters),
            duration: Duration::from_millis(900),
            round_trips: 11,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn writes_the_runs_asked_for_with_migrations_failures_and_cuts() {
        let dir = tempfile::tempdir().unwrap();
        let db = dir.path().join("g.db").to_str().unwrap().to_string();
        let a = GenerateArgs {
            db: db.clone(),
            hosts: 6,
            vms_per_host: 3,
            cluster_size: 3,
            runs: 8,
            start: "2026-08-01T00:00:00Z".parse().unwrap(),
            interval_minutes: 30,
            migrate: 0.3,
            state_change: 0.0,
            vcpu_change: 0.0,
            fail: 0.2,
            interrupt_every: 4,
            seed: 7,
        };
        assert_eq!(run(a).await, Exit::Ok);
        let store = Store::open(&db, crate::store::OpenMode::ReadOnly)
            .await
            .unwrap();
        let runs = store.reader().runs_between(None, None).await.unwrap();
        let statuses: Vec<&str> = runs.iter().map(|r| r.status.as_str()).collect();
        let cut = "interrupted";
        let full = "complete";
        assert_eq!(statuses, [full, full, full, cut, full, full, full, cut]);
        let second: DateTime<Utc> = "2026-08-01T00:30:00Z".parse().unwrap();
        assert_eq!(runs[1].started_at, second);
        let q = |sql| sqlx::query_scalar::<_, i64>(sql).fetch_one(store.pool());
        assert_eq!(q("SELECT count(*) FROM hosts").await.unwrap(), 6);
        assert_eq!(q("SELECT count(*) FROM vms").await.unwrap(), 18);
        assert_eq!(q("SELECT count(*) FROM clusters").await.unwrap(), 2);
        // VMs moved, but only inside their cluster.
        let moved = "SELECT count(DISTINCT vm_id) FROM vm_facts f
                     WHERE EXISTS (SELECT 1 FROM vm_facts g WHERE g.vm_id = f.vm_id AND g.host_id <> f.host_id)";
        assert!(q(moved).await.unwrap() > 0);
        let across = "SELECT count(*) FROM vm_facts f JOIN vm_facts g ON g.vm_id = f.vm_id
                      JOIN host_facts hf ON hf.host_id = f.host_id
                      JOIN host_facts hg ON hg.host_id = g.host_id
                      WHERE hf.cluster_name <> hg.cluster_name";
        assert_eq!(q(across).await.unwrap(), 0);
        let failed = "SELECT count(*) FROM host_outcomes WHERE status = 'failed'";
        assert!(q(failed).await.unwrap() > 0);
        // A cut run recorded half the hosts.
        let in4 = "SELECT count(*) FROM host_outcomes WHERE run_id = 4";
        assert_eq!(q(in4).await.unwrap(), 3);
    }
}
