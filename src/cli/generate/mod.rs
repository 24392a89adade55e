//! `hvinv generate-history` (hidden, for benchmarks): writes an N-host,
//! R-run history through the store's own write path (`begin_run_at`,
//! `record_hosts_at`, `finish_run_at`) without any network, with the churn
//! given on the command line. See `bench/README.md` ("Reports and store").

mod estate;

use super::Exit;
use crate::error::ErrorKind;
use crate::inventory::ClusterSnapshot;
use crate::store::{HostOutcome, Store, UnchangedHost};
use chrono::{DateTime, Duration as Span, Utc};
use clap::Args;
pub use estate::{Change, Churn, Estate};
use std::collections::HashMap;
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
    /// Write every host through the collector's record path, even those
    /// known unchanged (slow; the fast path is checked against it).
    #[arg(long)]
    pub record_every_host: bool,
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
        Ok(_) => Exit::Ok,
        Err(e) => {
            eprintln!("hvinv generate-history: {e}");
            Exit::Database
        }
    }
}

/// How many host outcomes went through each path.
#[derive(Debug, Default, Clone, Copy)]
struct Written {
    recorded: usize,
    unchanged: usize,
}

async fn generate(
    store: &Store,
    a: &GenerateArgs,
    churn: &Churn,
) -> Result<Written, crate::store::StoreError> {
    let mut estate = Estate::new(a.hosts, a.vms_per_host, a.cluster_size, a.seed);
    // Per host: recorded OK in the previous run of this invocation (an
    // appended history starts with none, whatever the file holds).
    let mut ok_before = vec![false; a.hosts];
    let mut written = Written::default();
    let t0 = Instant::now();
    for r in 0..a.runs {
        let started = a.start + Span::minutes(a.interval_minutes * r as i64);
        let change = estate.advance(churn);
        let cut_at = (a.interrupt_every > 0 && (r + 1) % a.interrupt_every == 0)
            .then_some(estate.hosts() / 2);
        let plan = Plan::new(&estate, &change, &ok_before, cut_at, a.record_every_host);
        one_run(store, &estate, &change, &plan, started, cut_at.is_some()).await?;
        written.recorded += plan.recorded.len();
        written.unchanged += plan.unchanged.len();
        for (h, ok) in ok_before.iter_mut().enumerate() {
            *ok = h < plan.written && !change.failing[h];
        }
        if (r + 1) % 100 == 0 || r + 1 == a.runs {
            eprintln!(
                "generate-history: {} of {} runs, {:.1} s ({} host outcomes recorded, {} unchanged)",
                r + 1,
                a.runs,
                t0.elapsed().as_secs_f64(),
                written.recorded,
                written.unchanged
            );
        }
    }
    store.checkpoint().await?;
    Ok(written)
}

/// Which hosts of a run go through `record_hosts_at` (in host order) and
/// which are recorded as unchanged.
struct Plan {
    /// Hosts `0..written` are recorded (a cut run stops halfway).
    written: usize,
    recorded: Vec<usize>,
    unchanged: Vec<usize>,
}

impl Plan {
    /// A host is unchanged when it was recorded OK in the run before, is OK
    /// now and none of its VMs moved or changed. A cluster whose nodes'
    /// VMs changed is written by its first OK node through the record path
    /// (the first node written speaks for its cluster), before the rest.
    fn new(
        estate: &Estate,
        change: &Change,
        ok_before: &[bool],
        cut_at: Option<usize>,
        record_every_host: bool,
    ) -> Plan {
        let written = cut_at.unwrap_or(estate.hosts());
        let mut cluster_written = vec![false; change.cluster_touched.len()];
        let (mut recorded, mut unchanged) = (Vec::new(), Vec::new());
        for (h, &was_ok) in ok_before.iter().enumerate().take(written) {
            let failing = change.failing[h];
            let cluster = estate.cluster_index(h);
            let speaks_for_cluster = !failing
                && cluster.is_some_and(|c| change.cluster_touched[c] && !cluster_written[c]);
            if speaks_for_cluster && let Some(c) = cluster {
                cluster_written[c] = true;
            }
            if record_every_host || failing || !was_ok || change.touched[h] || speaks_for_cluster {
                recorded.push(h);
            } else {
                unchanged.push(h);
            }
        }
        Plan {
            written,
            recorded,
            unchanged,
        }
    }
}

/// Hosts written per transaction (`record_hosts_at`).
const BATCH: usize = 250;

/// One run: the plan's recorded hosts' snapshots (or timeouts) through the
/// store's `record_hosts_at`, `BATCH` hosts per transaction, then the
/// unchanged ones through `record_unchanged_at`; a cut run is then marked
/// interrupted.
async fn one_run(
    store: &Store,
    estate: &Estate,
    change: &Change,
    plan: &Plan,
    started: DateTime<Utc>,
    cut: bool,
) -> Result<(), crate::store::StoreError> {
    let run = store.begin_run_at(estate.hosts() as u32, started).await?;
    let at = started + Span::minutes(1);
    let by_host = estate.placement();
    // Each cluster rendered once per run, for all of its recorded nodes.
    let mut clusters: HashMap<usize, ClusterSnapshot> = HashMap::new();
    for chunk in plan.recorded.chunks(BATCH) {
        let batch: Vec<(String, HostOutcome)> = chunk
            .iter()
            .map(|&h| {
                let cluster = estate
                    .cluster_index(h)
                    .filter(|_| !change.failing[h])
                    .map(|c| {
                        clusters
                            .entry(c)
                            .or_insert_with(|| estate.cluster(c, &by_host))
                            .clone()
                    });
                (
                    Estate::address(h),
                    outcome(estate, h, change.failing[h], &by_host[h], cluster),
                )
            })
            .collect();
        let refs: Vec<(&str, &HostOutcome)> = batch.iter().map(|(a, o)| (a.as_str(), o)).collect();
        store.record_hosts_at(run, &refs, at).await?;
    }
    let addresses: Vec<String> = plan.unchanged.iter().map(|&h| Estate::address(h)).collect();
    let unchanged: Vec<UnchangedHost<'_>> = addresses
        .iter()
        .map(|a| UnchangedHost::new(a, OK_DURATION, OK_ROUND_TRIPS))
        .collect();
    store.record_unchanged_at(run, &unchanged, at).await?;
    if cut {
        return store.mark_interrupted_at(run, at).await;
    }
    store.finish_run_at(run, started + Span::minutes(2)).await
}

const OK_DURATION: Duration = Duration::from_millis(900);
const OK_ROUND_TRIPS: u64 = 11;

fn outcome(
    estate: &Estate,
    h: usize,
    failing: bool,
    vms: &[usize],
    cluster: Option<ClusterSnapshot>,
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
            snapshot: estate.snapshot(h, vms, cluster),
            duration: OK_DURATION,
            round_trips: OK_ROUND_TRIPS,
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
            record_every_host: false,
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

    fn args(db: &str, churn: f64, record_every_host: bool) -> GenerateArgs {
        GenerateArgs {
            db: db.to_string(),
            hosts: 13,
            vms_per_host: 3,
            cluster_size: 4,
            runs: 24,
            start: "2026-08-01T00:00:00Z".parse().unwrap(),
            interval_minutes: 30,
            migrate: churn,
            state_change: churn,
            vcpu_change: churn,
            fail: churn,
            interrupt_every: 5,
            seed: 11,
            record_every_host,
        }
    }

    /// Every row of every table, columns quoted (rows sorted as text: some
    /// tables have no rowid).
    async fn dump(db: &str) -> Vec<(String, Vec<String>)> {
        let store = Store::open(db, crate::store::OpenMode::ReadOnly)
            .await
            .unwrap();
        let tables: Vec<String> = sqlx::query_scalar(
            "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'
             AND name <> '_sqlx_migrations' ORDER BY name",
        )
        .fetch_all(store.pool())
        .await
        .unwrap();
        let mut out = Vec::new();
        for t in tables {
            let cols: Vec<String> = sqlx::query_scalar(sqlx::AssertSqlSafe(format!(
                "SELECT name FROM pragma_table_info('{t}')"
            )))
            .fetch_all(store.pool())
            .await
            .unwrap();
            let row = cols
                .iter()
                .map(|c| format!("quote(\"{c}\")"))
                .collect::<Vec<_>>()
                .join(" || '|' || ");
            let rows: Vec<String> = sqlx::query_scalar(sqlx::AssertSqlSafe(format!(
                "SELECT {row} FROM \"{t}\" ORDER BY 1"
            )))
            .fetch_all(store.pool())
            .await
            .unwrap();
            out.push((t, rows));
        }
        out
    }

    // The fast path for unchanged hosts must leave exactly the database the
    // collector's record path leaves, row for row, under low churn (most
    // hosts unchanged) and high churn (failures, cut runs, migrations).
    #[tokio::test]
    async fn unchanged_hosts_fast_path_writes_what_the_record_path_writes() {
        for churn in [0.01, 0.15] {
            let dir = tempfile::tempdir().unwrap();
            let fast = dir.path().join("fast.db").to_str().unwrap().to_string();
            let slow = dir.path().join("slow.db").to_str().unwrap().to_string();
            let a = args(&fast, churn, false);
            let (store, _lock) = Store::open_for_collection(&fast).await.unwrap();
            let c = Churn {
                migrate: churn,
                state: churn,
                vcpus: churn,
                fail: churn,
            };
            let w = generate(&store, &a, &c).await.unwrap();
            store.close().await;
            assert!(w.unchanged > 0, "churn {churn}: {w:?}");
            if churn < 0.05 {
                assert!(w.unchanged > w.recorded, "churn {churn}: {w:?}");
            }
            assert_eq!(run(args(&slow, churn, true)).await, Exit::Ok);
            let (f, s) = (dump(&fast).await, dump(&slow).await);
            assert!(f.iter().any(|(t, rows)| t == "vm_facts" && rows.len() > 39));
            // Clusters' owners are compared too (their rows extend on both paths).
            assert!(
                f.iter()
                    .any(|(t, rows)| t == "cluster_vm_facts" && rows.len() > 36)
            );
            for ((table, fr), (_, sr)) in f.iter().zip(&s) {
                assert_eq!(fr.len(), sr.len(), "churn {churn}: rows of {table}");
                for (a, b) in fr.iter().zip(sr) {
                    assert_eq!(a, b, "churn {churn}: a row of {table}");
                }
            }
            assert_eq!(f.len(), s.len());
        }
    }
}
