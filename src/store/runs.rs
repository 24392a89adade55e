//! Writing the `runs` table: one row per collection run (read in
//! `read::runs`).

use crate::store::error::StoreError;
use crate::store::time::to_stored;
use crate::store::{RunId, Store};

// Counts are derived from the outcome spans that cover the run, so a
// cut-short run still says how far it got. A run being closed is normally
// the newest, so `last_run_id >= id` reads only the spans ending at it.
macro_rules! close_run {
    () => {
        "UPDATE runs SET status = $1,
        finished_at = COALESCE($2, (SELECT max(finished_at) FROM outcome_spans
            WHERE last_run_id = runs.id), started_at),
        hosts_ok = (SELECT count(*) FROM outcome_spans
            WHERE last_run_id >= runs.id AND first_run_id <= runs.id AND status = 'ok'),
        hosts_failed = (SELECT count(*) FROM outcome_spans
            WHERE last_run_id >= runs.id AND first_run_id <= runs.id AND status = 'failed')"
    };
}

impl Store {
    /// Starts a run. The caller holds the `CollectionLock`, so any other run
    /// still `running` has lost its writer and is marked `interrupted` first.
    pub async fn begin_run(&self, hosts_total: u32) -> Result<RunId, StoreError> {
        self.begin_run_at(hosts_total, chrono::Utc::now()).await
    }

    /// `begin_run` with the start time given (the history generator).
    pub async fn begin_run_at(
        &self,
        hosts_total: u32,
        at: chrono::DateTime<chrono::Utc>,
    ) -> Result<RunId, StoreError> {
        self.mark_stale_runs_interrupted().await?;
        let id: i64 = sqlx::query_scalar(
            "INSERT INTO runs (started_at, status, hvinv_version, hosts_total) VALUES ($1, 'running', $2, $3) RETURNING id",
        )
        .bind(to_stored(at))
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
        self.close_run(run, "complete", chrono::Utc::now()).await
    }

    /// `finish_run` with the finish time given (the history generator).
    pub async fn finish_run_at(
        &self,
        run: RunId,
        at: chrono::DateTime<chrono::Utc>,
    ) -> Result<(), StoreError> {
        self.close_run(run, "complete", at).await
    }

    /// Closes a run cut short (signal, deadline) as `interrupted`.
    pub async fn mark_interrupted(&self, run: RunId) -> Result<(), StoreError> {
        self.close_run(run, "interrupted", chrono::Utc::now()).await
    }

    /// `mark_interrupted` with the time given (the history generator).
    pub async fn mark_interrupted_at(
        &self,
        run: RunId,
        at: chrono::DateTime<chrono::Utc>,
    ) -> Result<(), StoreError> {
        self.close_run(run, "interrupted", at).await
    }

    async fn close_run(
        &self,
        run: RunId,
        status: &str,
        at: chrono::DateTime<chrono::Utc>,
    ) -> Result<(), StoreError> {
        sqlx::query(concat!(
            close_run!(),
            " WHERE id = $3 AND status = 'running'"
        ))
        .bind(status)
        .bind(to_stored(at))
        .bind(run.0)
        .execute(&self.pool)
        .await?;
        Ok(())
    }
}
