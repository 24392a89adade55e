//! Host outcomes as intervals of runs (`outcome_spans`): writing one inside
//! a `record_host` transaction, and reading "how did address A / host H end
//! in run N".

use crate::store::error::StoreError;
use crate::store::record::{HostId, Tx};
use crate::store::{RunId, Store};

/// One outcome as `record_host` writes it.
pub(crate) struct OutcomeRow<'a> {
    pub host: Option<i64>,
    pub status: &'static str,
    pub kind: Option<&'a str>,
    pub message: Option<&'a str>,
    pub warnings: &'a str,
    pub finished_at: &'a str,
    pub duration_ms: i64,
    pub round_trips: i64,
}

/// Extends the address's newest span when it ended in the run just before
/// `run` with the same outcome; otherwise opens a span of one run. Two
/// statements at most, none that grows the file when nothing changed.
pub(crate) async fn write_outcome(
    tx: &mut Tx,
    run: RunId,
    address: &str,
    o: &OutcomeRow<'_>,
) -> Result<(), StoreError> {
    let extended = sqlx::query(
        "UPDATE outcome_spans SET last_run_id = $1, finished_at = $2, duration_ms = $3, round_trips = $4
         WHERE address = $5
           AND last_run_id = (SELECT max(id) FROM runs WHERE id < $1)
           AND host_id IS $6 AND status = $7 AND error_kind IS $8 AND error_message IS $9
           AND warnings = $10",
    )
    .bind(run.0)
    .bind(o.finished_at)
    .bind(o.duration_ms)
    .bind(o.round_trips)
    .bind(address)
    .bind(o.host)
    .bind(o.status)
    .bind(o.kind)
    .bind(o.message)
    .bind(o.warnings)
    .execute(&mut **tx)
    .await?
    .rows_affected();
    if extended > 0 {
        return Ok(());
    }
    sqlx::query(
        "INSERT INTO outcome_spans (address, first_run_id, last_run_id, host_id, status, error_kind,
             error_message, warnings, finished_at, duration_ms, round_trips)
         VALUES ($1, $2, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
    )
    .bind(address)
    .bind(run.0)
    .bind(o.host)
    .bind(o.status)
    .bind(o.kind)
    .bind(o.message)
    .bind(o.warnings)
    .bind(o.finished_at)
    .bind(o.duration_ms)
    .bind(o.round_trips)
    .execute(&mut **tx)
    .await?;
    Ok(())
}

/// How collecting one address ended in one run, as stored.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct StoredOutcome {
    pub run_id: i64,
    pub address: String,
    /// The host the address reached (a failed address: the one it last reached).
    pub host_id: Option<i64>,
    /// `ok` or `failed`.
    pub status: String,
    /// `ErrorKind::as_str` of a failure.
    pub error_kind: Option<String>,
    pub error_message: Option<String>,
    /// JSON array of strings.
    pub warnings: String,
    /// RFC 3339 UTC. Exact for the span's last run; for an earlier run of an
    /// unchanged span, the run's own finish time.
    pub finished_at: String,
}

impl StoredOutcome {
    pub fn ok(&self) -> bool {
        self.status == "ok"
    }
}

macro_rules! span_outcome {
    () => {
        "SELECT $1 AS run_id, s.address, s.host_id, s.status, s.error_kind, s.error_message, s.warnings,
                CASE WHEN s.last_run_id = $1 THEN s.finished_at
                     ELSE (SELECT COALESCE(finished_at, started_at) FROM runs WHERE id = $1) END AS finished_at
         FROM outcome_spans s"
    };
}

impl Store {
    /// The outcome of `address` in `run`, if that run recorded the address.
    pub async fn outcome_of_address(
        &self,
        run: RunId,
        address: &str,
    ) -> Result<Option<StoredOutcome>, StoreError> {
        Ok(sqlx::query_as(concat!(
            span_outcome!(),
            " WHERE s.address = $2 AND s.last_run_id >= $1 AND s.first_run_id <= $1"
        ))
        .bind(run.0)
        .bind(address)
        .fetch_optional(&self.pool)
        .await?)
    }

    /// The outcomes of `host` in `run`: one per address that reached it (or,
    /// failing, had last reached it), by address; empty when the run did
    /// not record it.
    pub async fn outcomes_of_host(
        &self,
        run: RunId,
        host: HostId,
    ) -> Result<Vec<StoredOutcome>, StoreError> {
        Ok(sqlx::query_as(concat!(
            span_outcome!(),
            " WHERE s.host_id = $2 AND s.last_run_id >= $1 AND s.first_run_id <= $1
              ORDER BY s.address"
        ))
        .bind(run.0)
        .bind(host.0)
        .fetch_all(&self.pool)
        .await?)
    }

    /// Every outcome `run` recorded, by address.
    pub async fn outcomes_in_run(&self, run: RunId) -> Result<Vec<StoredOutcome>, StoreError> {
        Ok(sqlx::query_as(concat!(
            span_outcome!(),
            " WHERE s.last_run_id >= $1 AND s.first_run_id <= $1 ORDER BY s.address"
        ))
        .bind(run.0)
        .fetch_all(&self.pool)
        .await?)
    }
}
