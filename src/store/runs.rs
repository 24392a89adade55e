//! Writing the `runs` table: one row per collection run (read in
//! `read::runs`).

use crate::store::error::StoreError;
use crate::store::{RunId, Store, now_rfc3339};

// Counts are derived from host_outcomes so a cut-short run still says how
// far it got.
macro_rules! close_run {
    () => {
        "UPDATE runs SET status = $1,
        finished_at = COALESCE($2, (SELECT max(finished_at) FROM host_outcomes WHERE run_id = runs.id), started_at),
        hosts_ok = (SELECT count(*) FROM host_outcomes WHERE run_id = runs.id AND status = 'ok'),
        hosts_failed = (SELECT count(*) FROM host_outcomes WHERE run_id = runs.id AND status = 'failed')"
    };
}

impl Store {
    /// Starts a run. The caller holds the `CollectionLock`, so any other run
    /// still `running` has lost its writer and is marked `interrupted` first.
    pub async fn begin_run(&self, hosts_total: u32) -> Result<RunId, StoreError> {
        self.mark_stale_runs_interrupted().await?;
        let id: i64 = sqlx::query_scalar(
            "INSERT INTO runs (started_at, status, hvinv_version, hosts_total) VALUES ($1, 'running', $2, $3) RETURNING id",
        )
        .bind(now_rfc3339())
        .bind(env!("CARGO_PKG_VERSION"))
        .bind(i64::from(hosts_total))
        .fetch_one(&self.pool)
        .await?;
        Ok(RunId(id))
    }

    /// Marks every `running` run `interrupted` (only the lock holder may call
    /// this); returns how many there were. Their finish time is their last
    /// recorded host, else their start.
    pub async fn mark_stale_runs_interrupted(&self) -> Result<u64, StoreError> {
        let r = sqlx::query(concat!(close_run!(), " WHERE status = 'running'"))
            .bind("interrupted")
            .bind(Option::<String>::None)
            .execute(&self.pool)
            .await?;
        Ok(r.rows_affected())
    }

    /// Closes a run as `complete`, with its host counts.
    pub async fn finish_run(&self, run: RunId) -> Result<(), StoreError> {
        self.close_run(run, "complete").await
    }

    /// Closes a run cut short (signal, deadline) as `interrupted`.
    pub async fn mark_interrupted(&self, run: RunId) -> Result<(), StoreError> {
        self.close_run(run, "interrupted").await
    }

    async fn close_run(&self, run: RunId, status: &str) -> Result<(), StoreError> {
        sqlx::query(concat!(
            close_run!(),
            " WHERE id = $3 AND status = 'running'"
        ))
        .bind(status)
        .bind(now_rfc3339())
        .bind(run.0)
        .execute(&self.pool)
        .await?;
        Ok(())
    }
}
