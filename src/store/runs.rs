//! The `runs` table: one row per collection run.

use crate::store::error::StoreError;
use crate::store::{Store, rfc3339};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct RunId(pub i64);

impl std::fmt::Display for RunId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.0.fmt(f)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RunStatus {
    Running,
    Complete,
    Interrupted,
}

impl RunStatus {
    pub fn parse(s: &str) -> Option<RunStatus> {
        match s {
            "running" => Some(RunStatus::Running),
            "complete" => Some(RunStatus::Complete),
            "interrupted" => Some(RunStatus::Interrupted),
            _ => None,
        }
    }
}

/// A `runs` row.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct Run {
    pub id: i64,
    pub started_at: String,
    pub finished_at: Option<String>,
    /// `running`, `complete` or `interrupted`; see `RunStatus::parse`.
    pub status: String,
    pub hvinv_version: String,
    pub hosts_total: i64,
    pub hosts_ok: i64,
    pub hosts_failed: i64,
}

macro_rules! run_columns {
    () => {
        "id, started_at, finished_at, status, hvinv_version, hosts_total, hosts_ok, hosts_failed"
    };
}

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
        .bind(rfc3339(at))
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
        .bind(rfc3339(at))
        .bind(run.0)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    pub async fn run(&self, run: RunId) -> Result<Option<Run>, StoreError> {
        Ok(sqlx::query_as(concat!(
            "SELECT ",
            run_columns!(),
            " FROM runs WHERE id = $1"
        ))
        .bind(run.0)
        .fetch_optional(&self.pool)
        .await?)
    }

    /// The newest run that finished normally.
    pub async fn latest_complete_run(&self) -> Result<Option<Run>, StoreError> {
        Ok(sqlx::query_as(concat!(
            "SELECT ",
            run_columns!(),
            " FROM runs WHERE status = 'complete' ORDER BY id DESC LIMIT 1"
        ))
        .fetch_optional(&self.pool)
        .await?)
    }

    /// Runs (any status) started within `[from, to]`, oldest first; bounds
    /// are RFC 3339 UTC (`…Z`) and either may be open.
    pub async fn runs_between(
        &self,
        from: Option<chrono::DateTime<chrono::Utc>>,
        to: Option<chrono::DateTime<chrono::Utc>>,
    ) -> Result<Vec<Run>, StoreError> {
        let fmt =
            |t: chrono::DateTime<chrono::Utc>| t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
        Ok(sqlx::query_as(concat!(
            "SELECT ",
            run_columns!(),
            " FROM runs
             WHERE ($1 IS NULL OR started_at >= $1) AND ($2 IS NULL OR started_at <= $2)
             ORDER BY id"
        ))
        .bind(from.map(fmt))
        .bind(to.map(fmt))
        .fetch_all(&self.pool)
        .await?)
    }
}
