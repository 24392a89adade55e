//! `hvinv collect`: one run over every configured host.
//!
//! Hosts are collected concurrently (bounded by `concurrency`), each within
//! its own deadline, with one retry for connection-level failures; results
//! go to a single writer task, so each host is committed as it finishes and
//! SQLite sees one writer. A signal marks the run `interrupted`.

use super::config::{Config, HostConfig};
use super::progress::Progress;
use crate::error::{ErrorKind, HasKind};
use crate::inventory::{self, HostSnapshot};
use crate::store::{HostOutcome, RunId, Store};
use crate::transport::Connection;
use crate::wsman::{Client, ClientOptions};
use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::sync::{Semaphore, mpsc};

/// What one host's collection came to.
pub enum HostResult {
    Ok {
        snapshot: Box<HostSnapshot>,
        round_trips: u64,
        duration: Duration,
    },
    Failed {
        kind: ErrorKind,
        message: String,
        round_trips: u64,
        duration: Duration,
    },
}

/// One failure line of the summary.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Failure {
    pub address: String,
    pub kind: ErrorKind,
    pub message: String,
}

/// The run's summary (`--json` prints it).
#[derive(Debug, Clone, Default, serde::Serialize)]
pub struct RunSummary {
    pub run_id: i64,
    pub status: String,
    pub started_at: String,
    pub finished_at: String,
    pub hosts_total: usize,
    pub hosts_ok: usize,
    pub hosts_failed: usize,
    pub hosts_with_warnings: usize,
    pub vms: usize,
    pub round_trips: u64,
    pub duration_secs: f64,
    pub failures: Vec<Failure>,
    pub warnings: Vec<String>,
    /// Cluster nodes that own clustered VMs but are not in the configuration
    /// ("incomplete virtualization" in the licence tool's words).
    pub incomplete_coverage: Vec<String>,
}

impl RunSummary {
    pub fn line(&self) -> String {
        let mut kinds: BTreeMap<&str, usize> = BTreeMap::new();
        for f in &self.failures {
            *kinds.entry(f.kind.as_str()).or_default() += 1;
        }
        let kinds: Vec<String> = kinds.iter().map(|(k, n)| format!("{k} {n}")).collect();
        let mut line = format!(
            "run {} {}: {} hosts, {} ok, {} failed",
            self.run_id, self.status, self.hosts_total, self.hosts_ok, self.hosts_failed
        );
        if !kinds.is_empty() {
            line.push_str(&format!(" ({})", kinds.join(", ")));
        }
        line.push_str(&format!(
            ", {} with warnings, {} VMs, {:.1} s",
            self.hosts_with_warnings, self.vms, self.duration_secs
        ));
        if !self.incomplete_coverage.is_empty() {
            line.push_str(&format!(
                ", incomplete coverage: {} uncollected cluster node(s)",
                self.incomplete_coverage.len()
            ));
        }
        line
    }

    pub fn exit(&self) -> super::Exit {
        if self.hosts_failed == 0
            && self.hosts_with_warnings == 0
            && self.incomplete_coverage.is_empty()
        {
            super::Exit::Ok
        } else {
            super::Exit::Partial
        }
    }
}

/// Collects one host: connect, authenticate, run the fixed queries. Retries
/// once, after a short back-off, when the failure is connection-level and the
/// host's deadline leaves room.
pub async fn collect_one(host: &HostConfig, opts: &ClientOptions) -> HostResult {
    let start = Instant::now();
    let deadline = start + host.timeout;
    let mut round_trips = 0;
    let mut attempt = 0;
    loop {
        attempt += 1;
        let remaining = deadline.saturating_duration_since(Instant::now());
        let mut client = Client::new(Connection::new(host.transport.clone()), opts.clone());
        let outcome = tokio::time::timeout(remaining, inventory::collect_host(&mut client)).await;
        round_trips += client.connection().stats().round_trips;
        client.close().await;
        let (kind, message) = match outcome {
            Ok(Ok(snapshot)) => {
                return HostResult::Ok {
                    snapshot: Box::new(snapshot),
                    round_trips,
                    duration: start.elapsed(),
                };
            }
            Ok(Err(e)) => (e.kind(), e.to_string()),
            Err(_) => (
                ErrorKind::Timeout,
                format!(
                    "host did not finish within its {} s deadline",
                    host.timeout.as_secs()
                ),
            ),
        };
        let backoff = Duration::from_millis(500 * attempt);
        let room = deadline.saturating_duration_since(Instant::now());
        if attempt >= 2 || !kind.is_retryable() || room <= backoff * 2 {
            return HostResult::Failed {
                kind,
                message,
                round_trips,
                duration: start.elapsed(),
            };
        }
        tracing::info!(host = %host.address, %kind, "retrying after {message}");
        tokio::time::sleep(backoff).await;
    }
}

/// Errors that stop a run before or outside host collection.
#[derive(Debug, thiserror::Error)]
pub enum RunError {
    #[error(transparent)]
    Store(#[from] crate::store::StoreError),
}

impl RunError {
    pub fn exit(&self) -> super::Exit {
        match self {
            RunError::Store(e) if e.exit_code() == 4 => super::Exit::Locked,
            RunError::Store(_) => super::Exit::Database,
        }
    }
}

/// Options of one run.
pub struct RunOptions {
    pub progress: bool,
    pub client: ClientOptions,
}

/// Runs one collection into `db_url`. Holds the database lock for the run.
pub async fn run(config: &Config, db_url: &str, opts: RunOptions) -> Result<RunSummary, RunError> {
    let _lock = Store::lock_for_collection(db_url)?;
    let store = Store::open(db_url, crate::store::OpenMode::ReadWrite).await?;
    let started = Instant::now();
    let run_id = store
        .begin_run(u32::try_from(config.hosts.len()).unwrap_or(u32::MAX))
        .await?;

    let interrupted = tokio::select! {
        res = collect_all(config, &store, run_id, &opts) => Some(res),
        _ = shutdown_signal() => None,
    };
    match interrupted {
        None => {
            // Hosts in flight are dropped with their uncommitted transactions;
            // everything committed before stays.
            store.mark_interrupted(run_id).await?;
            let mut summary = RunSummary {
                run_id: run_id.0,
                status: "interrupted".into(),
                hosts_total: config.hosts.len(),
                duration_secs: started.elapsed().as_secs_f64(),
                ..Default::default()
            };
            summary.warnings.push("run interrupted by a signal".into());
            Ok(summary)
        }
        Some(res) => {
            let mut summary = res?;
            store.finish_run(run_id).await?;
            summary.status = "complete".into();
            summary.duration_secs = started.elapsed().as_secs_f64();
            Ok(summary)
        }
    }
}

async fn collect_all(
    config: &Config,
    store: &Store,
    run_id: RunId,
    opts: &RunOptions,
) -> Result<RunSummary, RunError> {
    let total = config.hosts.len();
    let progress = Progress::new(total as u64, opts.progress);
    let limit = Arc::new(Semaphore::new(config.concurrency));
    let (tx, mut rx) = mpsc::channel::<(String, HostResult)>(config.concurrency.max(1) * 2);
    let client_opts = opts.client.clone();
    let hosts = config.hosts.clone();
    let producer = tokio::spawn(async move {
        let mut tasks = tokio::task::JoinSet::new();
        for host in hosts {
            let Ok(permit) = limit.clone().acquire_owned().await else {
                break;
            };
            let tx = tx.clone();
            let client_opts = client_opts.clone();
            tasks.spawn(async move {
                let result = collect_one(&host, &client_opts).await;
                drop(permit);
                let _ = tx.send((host.address.clone(), result)).await;
            });
            // Reap finished tasks as we go so memory follows the window, not the estate.
            while tasks.try_join_next().is_some() {}
        }
        while tasks.join_next().await.is_some() {}
    });

    let mut summary = RunSummary {
        run_id: run_id.0,
        hosts_total: total,
        ..Default::default()
    };
    let mut collected_names: BTreeSet<String> = BTreeSet::new();
    // cluster name -> owner node -> clustered VMs it owns
    let mut owners: BTreeMap<String, BTreeMap<String, usize>> = BTreeMap::new();
    while let Some((address, result)) = rx.recv().await {
        match &result {
            HostResult::Ok {
                snapshot,
                round_trips,
                ..
            } => {
                summary.hosts_ok += 1;
                summary.round_trips += round_trips;
                summary.vms += snapshot.vms.len();
                if !snapshot.warnings.is_empty() {
                    summary.hosts_with_warnings += 1;
                    for w in &snapshot.warnings {
                        summary.warnings.push(format!("{address}: {w}"));
                    }
                }
                if let Some(name) = &snapshot.name {
                    collected_names.insert(name.to_ascii_uppercase());
                }
                if let Some(c) = &snapshot.cluster {
                    let entry = owners.entry(c.name.clone()).or_default();
                    for o in &c.vm_owners {
                        if let Some(node) = &o.owner_node {
                            *entry.entry(node.to_ascii_uppercase()).or_default() += 1;
                        }
                    }
                }
            }
            HostResult::Failed {
                kind,
                message,
                round_trips,
                ..
            } => {
                summary.hosts_failed += 1;
                summary.round_trips += round_trips;
                summary.failures.push(Failure {
                    address: address.clone(),
                    kind: *kind,
                    message: message.clone(),
                });
                progress.fail();
            }
        }
        store
            .record_host(run_id, &address, &to_outcome(result))
            .await?;
        progress.inc();
    }
    let _ = producer.await;
    progress.finish();

    for (cluster, nodes) in &owners {
        for (node, count) in nodes {
            if !collected_names.contains(node) {
                summary.incomplete_coverage.push(format!(
                    "cluster {cluster}: node {node} owns {count} clustered VM(s) but was not collected (add it to the configuration)"
                ));
            }
        }
    }
    summary.failures.sort_by(|a, b| a.address.cmp(&b.address));
    Ok(summary)
}

fn to_outcome(result: HostResult) -> HostOutcome {
    match result {
        HostResult::Ok {
            snapshot,
            round_trips,
            duration,
        } => HostOutcome::Ok {
            snapshot: *snapshot,
            round_trips,
            duration,
        },
        HostResult::Failed {
            kind,
            message,
            round_trips,
            duration,
        } => HostOutcome::Failed {
            kind,
            message,
            round_trips,
            duration,
        },
    }
}

/// Ctrl-C or SIGTERM (cron's and systemd's way to stop a job).
pub async fn shutdown_signal() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        let term = signal(SignalKind::terminate());
        let int = signal(SignalKind::interrupt());
        match (term, int) {
            (Ok(mut term), Ok(mut int)) => {
                tokio::select! {
                    _ = term.recv() => {},
                    _ = int.recv() => {},
                }
            }
            _ => std::future::pending::<()>().await,
        }
    }
    #[cfg(not(unix))]
    {
        let _ = tokio::signal::ctrl_c().await;
    }
}
