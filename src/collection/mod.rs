//! One collection run: every planned host collected concurrently (bounded),
//! each within its own deadline and with one retry for connection-level
//! failures; each outcome committed to the store as it arrives (one writer);
//! then the cluster-coverage check. Sits above `store` (it writes the run)
//! and below `cli` (which parses the configuration, draws progress and maps
//! the summary to an exit code).

mod coverage;
mod host;
mod summary;

pub use coverage::ClusterCoverage;
pub use host::{HostPlan, collect_host_with_auth, collect_host_within_deadline};
pub use summary::{HostFailure, RunSummary};

use crate::store::{HostOutcome, OpenMode, RunId, Store, StoreError};
use crate::wsman::ClientOptions;
use std::future::Future;
use std::sync::Arc;
use std::time::Instant;
use tokio::sync::{Semaphore, mpsc};

/// What a run needs besides the hosts.
#[derive(Debug, Clone)]
pub struct RunOptions {
    /// Hosts collected at once.
    pub concurrency: usize,
    pub client: ClientOptions,
}

/// Told about each host as it is committed (the CLI draws its progress bar
/// from this).
pub trait RunObserver: Send + Sync {
    fn host_recorded(&self, _address: &str, _outcome: &HostOutcome) {}
    fn all_recorded(&self) {}
}

/// Observes nothing.
pub struct Quiet;
impl RunObserver for Quiet {}

/// Errors that stop a run before or outside host collection.
#[derive(Debug, thiserror::Error)]
pub enum RunError {
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// Collects `hosts` into the database at `db_url` as one run, holding the
/// collection lock throughout. When `stop` completes first (a signal), the
/// run is marked `interrupted`: hosts in flight are dropped with their
/// uncommitted transactions, everything committed before stays.
pub async fn collect_run_into_store(
    hosts: &[HostPlan],
    db_url: &str,
    opts: &RunOptions,
    observer: &dyn RunObserver,
    stop: impl Future<Output = ()>,
) -> Result<RunSummary, RunError> {
    let _lock = Store::lock_for_collection(db_url)?;
    let store = Store::open(db_url, OpenMode::ReadWrite).await?;
    let started = Instant::now();
    // One clock reading each for start and finish, stored and printed alike,
    // so `--json` names the same times as the run's row.
    let started_at = chrono::Utc::now();
    let run_id = store
        .begin_run_at(u32::try_from(hosts.len()).unwrap_or(u32::MAX), started_at)
        .await?;

    let collected = tokio::select! {
        res = collect_and_record(hosts, &store, run_id, opts, observer) => Some(res),
        _ = stop => None,
    };
    match collected {
        None => {
            let finished_at = chrono::Utc::now();
            store.mark_interrupted_at(run_id, finished_at).await?;
            let mut summary = RunSummary::interrupted(run_id, hosts.len(), started.elapsed());
            summary.set_times(started_at, finished_at);
            Ok(summary)
        }
        Some(res) => {
            let mut summary = res?;
            let finished_at = chrono::Utc::now();
            store.finish_run_at(run_id, finished_at).await?;
            summary.status = "complete".into();
            summary.duration_secs = started.elapsed().as_secs_f64();
            summary.set_times(started_at, finished_at);
            Ok(summary)
        }
    }
}

/// Collects every host (at most `concurrency` at once) and records each
/// outcome as it arrives; the store sees one writer.
async fn collect_and_record(
    hosts: &[HostPlan],
    store: &Store,
    run_id: RunId,
    opts: &RunOptions,
    observer: &dyn RunObserver,
) -> Result<RunSummary, RunError> {
    let limit = Arc::new(Semaphore::new(opts.concurrency.max(1)));
    let (tx, mut rx) = mpsc::channel::<(String, HostOutcome, Option<crate::transport::AuthUsed>)>(
        opts.concurrency.max(1) * 2,
    );
    let client_opts = opts.client.clone();
    let plans = hosts.to_vec();
    let producer = tokio::spawn(async move {
        let mut tasks = tokio::task::JoinSet::new();
        for host in plans {
            let Ok(permit) = limit.clone().acquire_owned().await else {
                break;
            };
            let tx = tx.clone();
            let client_opts = client_opts.clone();
            tasks.spawn(async move {
                let (outcome, auth) = collect_host_with_auth(&host, &client_opts).await;
                drop(permit);
                let _ = tx.send((host.address.clone(), outcome, auth)).await;
            });
            // Reap finished tasks as we go so memory follows the window, not the estate.
            while tasks.try_join_next().is_some() {}
        }
        while tasks.join_next().await.is_some() {}
    });

    let mut summary = RunSummary::new(run_id, hosts.len());
    let mut coverage = ClusterCoverage::default();
    while let Some((address, outcome, auth)) = rx.recv().await {
        summary.add(&address, &outcome);
        summary.add_auth(auth);
        if let HostOutcome::Ok { snapshot, .. } = &outcome {
            coverage.add(snapshot);
        }
        store.record_host(run_id, &address, &outcome).await?;
        observer.host_recorded(&address, &outcome);
    }
    let _ = producer.await;
    observer.all_recorded();
    summary.incomplete_coverage = coverage.uncollected_owners();
    summary.failures.sort_by(|a, b| a.address.cmp(&b.address));
    Ok(summary)
}
