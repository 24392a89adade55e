//! Host outcomes as intervals of runs (`outcome_spans`): writing one inside
//! a `record_host` transaction (read in `read::outcomes`).

use crate::store::RunId;
use crate::store::error::StoreError;
use crate::store::interval::Tx;

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
