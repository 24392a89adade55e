//! Reading host outcomes: how each configured address fared in each run.
//! They are stored as intervals (`outcome_spans`); the `host_outcomes` view
//! expands them to one row per address per run.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use futures_util::{StreamExt, TryStreamExt};

use super::{Reader, RowStream};
use crate::store::time;
use crate::store::{HostId, RunId, StoreError};

/// One configured address in one run.
#[derive(Debug, Clone, PartialEq)]
pub struct Outcome {
    pub run_id: i64,
    pub address: String,
    pub host_id: Option<i64>,
    pub ok: bool,
    pub error_kind: Option<String>,
    pub error_message: Option<String>,
    pub warnings: Vec<String>,
    pub finished_at: DateTime<Utc>,
}

#[derive(sqlx::FromRow)]
struct OutcomeRow {
    run_id: i64,
    address: String,
    host_id: Option<i64>,
    status: String,
    error_kind: Option<String>,
    error_message: Option<String>,
    warnings: String,
    finished_at: String,
}

impl TryFrom<OutcomeRow> for Outcome {
    type Error = StoreError;
    fn try_from(r: OutcomeRow) -> Result<Self, StoreError> {
        // Warnings are text for people: an odd value is shown as stored
        // rather than failing the whole report.
        let warnings: Vec<String> =
            serde_json::from_str(&r.warnings).unwrap_or_else(|_| vec![r.warnings.clone()]);
        Ok(Outcome {
            run_id: r.run_id,
            address: r.address,
            host_id: r.host_id,
            ok: r.status == "ok",
            error_kind: r.error_kind,
            error_message: r.error_message,
            warnings,
            finished_at: time::parse(&r.finished_at, "host_outcomes", "finished_at")?,
        })
    }
}

/// The keys of an outcome, without its texts: what the PVU report needs for
/// every host of every run.
#[derive(Debug, Clone, PartialEq, sqlx::FromRow)]
pub struct OutcomeKey {
    pub run_id: i64,
    pub address: String,
    pub host_id: Option<i64>,
    pub ok: bool,
}

/// Runs `first_run_id..=last_run_id` in which some address reached
/// `host_id` OK (every run in between that exists; any run status).
#[derive(Debug, Clone, Copy, PartialEq, Eq, sqlx::FromRow)]
pub struct OkSpan {
    pub host_id: i64,
    pub first_run_id: i64,
    pub last_run_id: i64,
}

/// An address's outcome, the same in every run `first_run_id..=last_run_id`
/// (keys only, as `OutcomeKey`).
#[derive(Debug, Clone, PartialEq, sqlx::FromRow)]
pub struct OutcomeSpan {
    pub address: String,
    pub first_run_id: i64,
    pub last_run_id: i64,
    pub host_id: Option<i64>,
    pub ok: bool,
    /// `None` when OK.
    pub error_kind: Option<String>,
}

/// A host as people know it: its newest name (host facts) and address (the
/// newest outcome naming it).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct HostLabel {
    pub name: Option<String>,
    pub address: Option<String>,
}

// One row per span that covers run $1, shaped as the view's rows: the
// span's own finish time for its last run, else the run's.
macro_rules! select_spans {
    () => {
        "SELECT $1 AS run_id, s.address, s.host_id, s.status, s.error_kind, s.error_message, s.warnings,
                CASE WHEN s.last_run_id = $1 THEN s.finished_at
                     ELSE (SELECT COALESCE(finished_at, started_at) FROM runs WHERE id = $1) END AS finished_at
         FROM outcome_spans s"
    };
}

impl<'a> Reader<'a> {
    /// How collecting `address` ended in `run`; `None` when that run did not
    /// record the address (cut short before it, or not configured then).
    pub async fn outcome_of_address(
        &self,
        run: RunId,
        address: &str,
    ) -> Result<Option<Outcome>, StoreError> {
        let row: Option<OutcomeRow> = sqlx::query_as(concat!(
            select_spans!(),
            " WHERE s.address = $2 AND s.last_run_id >= $1 AND s.first_run_id <= $1"
        ))
        .bind(run.0)
        .bind(address)
        .fetch_optional(self.pool)
        .await?;
        row.map(Outcome::try_from).transpose()
    }

    /// How collecting `host` ended in `run`: one outcome per address that
    /// reached it (or, failing, had last reached it), by address; empty when
    /// the run recorded none.
    pub async fn outcomes_of_host(
        &self,
        run: RunId,
        host: HostId,
    ) -> Result<Vec<Outcome>, StoreError> {
        let rows: Vec<OutcomeRow> = sqlx::query_as(concat!(
            select_spans!(),
            " WHERE s.host_id = $2 AND s.last_run_id >= $1 AND s.first_run_id <= $1
              ORDER BY s.address"
        ))
        .bind(run.0)
        .bind(host.0)
        .fetch_all(self.pool)
        .await?;
        rows.into_iter().map(Outcome::try_from).collect()
    }

    /// Every address's outcome in `run`, by address.
    pub async fn outcomes_for_run(&self, run_id: i64) -> Result<Vec<Outcome>, StoreError> {
        let rows: Vec<OutcomeRow> = sqlx::query_as(concat!(
            select_spans!(),
            " WHERE s.last_run_id >= $1 AND s.first_run_id <= $1 ORDER BY s.address"
        ))
        .bind(run_id)
        .fetch_all(self.pool)
        .await?;
        rows.into_iter().map(Outcome::try_from).collect()
    }

    /// Outcome keys of every run with `lo <= run_id <= hi`, by run then
    /// address.
    pub async fn outcome_keys_between(
        &self,
        lo: i64,
        hi: i64,
    ) -> Result<Vec<OutcomeKey>, StoreError> {
        self.outcome_keys(lo, hi).try_collect().await
    }

    /// As `outcome_keys_between`, one row at a time.
    pub fn outcome_keys(&self, lo: i64, hi: i64) -> RowStream<'a, OutcomeKey> {
        sqlx::query_as(
            "SELECT run_id, address, host_id, status = 'ok' AS ok FROM host_outcomes \
             WHERE run_id BETWEEN $1 AND $2 ORDER BY run_id, address",
        )
        .bind(lo)
        .bind(hi)
        .fetch(self.pool)
        .map_err(StoreError::from)
        .boxed()
    }

    /// The newest OK outcome for `address` in a complete run before `run_id`.
    pub async fn last_ok_before(
        &self,
        address: &str,
        run_id: i64,
    ) -> Result<Option<Outcome>, StoreError> {
        let row: Option<OutcomeRow> = sqlx::query_as(
            "SELECT o.run_id, o.address, o.host_id, o.status, o.error_kind, o.error_message, \
             o.warnings, o.finished_at FROM host_outcomes o JOIN runs r ON r.id = o.run_id \
             WHERE o.address = $1 AND o.run_id < $2 AND o.status = 'ok' \
             AND r.status = 'complete' ORDER BY o.run_id DESC LIMIT 1",
        )
        .bind(address)
        .bind(run_id)
        .fetch_optional(self.pool)
        .await?;
        row.map(Outcome::try_from).transpose()
    }

    /// The first run strictly between `after` and `before` in which host
    /// `seen_on` was collected OK and, when given, `also_ok` too.
    pub async fn first_ok_run_between(
        &self,
        seen_on: i64,
        also_ok: Option<i64>,
        after: i64,
        before: i64,
    ) -> Result<Option<i64>, StoreError> {
        let row: (Option<i64>,) = sqlx::query_as(
            "SELECT MIN(o.run_id) FROM host_outcomes o WHERE o.host_id = $1 AND o.status = 'ok' \
             AND o.run_id > $2 AND o.run_id < $3 AND ($4 IS NULL OR EXISTS (SELECT 1 FROM \
             host_outcomes p WHERE p.run_id = o.run_id AND p.host_id = $4 AND p.status = 'ok'))",
        )
        .bind(seen_on)
        .bind(after)
        .bind(before)
        .bind(also_ok)
        .fetch_one(self.pool)
        .await?;
        Ok(row.0)
    }

    /// Every span of runs in which an address reached a known host OK,
    /// as `(host_id, first_run_id, last_run_id)`, by host then first run:
    /// one row per unchanged stretch, not per run.
    pub async fn ok_spans(&self) -> Result<Vec<OkSpan>, StoreError> {
        Ok(sqlx::query_as(
            "SELECT host_id, first_run_id, last_run_id FROM outcome_spans \
             WHERE status = 'ok' AND host_id IS NOT NULL ORDER BY host_id, first_run_id",
        )
        .fetch_all(self.pool)
        .await?)
    }

    /// Spans of outcomes whose runs meet `[lo, hi]`, by first run then
    /// address: the per-run outcomes without expanding them per run.
    pub async fn outcome_spans_overlapping(
        &self,
        lo: i64,
        hi: i64,
    ) -> Result<Vec<OutcomeSpan>, StoreError> {
        Ok(sqlx::query_as(
            "SELECT address, first_run_id, last_run_id, host_id, status = 'ok' AS ok, error_kind \
             FROM outcome_spans WHERE last_run_id >= $1 AND first_run_id <= $2 \
             ORDER BY first_run_id, address",
        )
        .bind(lo)
        .bind(hi)
        .fetch_all(self.pool)
        .await?)
    }

    /// Each host's newest name (host facts) and address (outcomes), by host id.
    pub async fn host_labels(&self) -> Result<HashMap<i64, HostLabel>, StoreError> {
        let names: Vec<(i64, Option<String>)> = sqlx::query_as(
            "SELECT host_id, name FROM host_facts f WHERE last_run_id = \
             (SELECT MAX(last_run_id) FROM host_facts g WHERE g.host_id = f.host_id)",
        )
        .fetch_all(self.pool)
        .await?;
        // The newest span naming the host ends at its newest outcome.
        let addresses: Vec<(i64, String)> = sqlx::query_as(
            "SELECT host_id, address FROM outcome_spans s WHERE host_id IS NOT NULL AND \
             last_run_id = (SELECT MAX(last_run_id) FROM outcome_spans p \
             WHERE p.host_id = s.host_id) ORDER BY address",
        )
        .fetch_all(self.pool)
        .await?;
        let mut map: HashMap<i64, HostLabel> = HashMap::new();
        for (h, n) in names {
            map.entry(h).or_default().name = n;
        }
        for (h, a) in addresses {
            let e = map.entry(h).or_default();
            if e.address.is_none() {
                e.address = Some(a);
            }
        }
        Ok(map)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(warnings: &str) -> OutcomeRow {
        OutcomeRow {
            run_id: 1,
            address: "hv01".into(),
            host_id: Some(1),
            status: "ok".into(),
            error_kind: None,
            error_message: None,
            warnings: warnings.into(),
            finished_at: "2026-11-23T02:00:00Z".into(),
        }
    }

    #[test]
    fn outcome_warnings_decode_and_odd_values_are_kept_as_text() {
        let o = Outcome::try_from(row(r#"["a","b"]"#)).unwrap();
        assert_eq!(o.warnings, ["a", "b"]);
        let o = Outcome::try_from(row("not json")).unwrap();
        assert_eq!(o.warnings, ["not json"]);
    }

    #[test]
    fn outcome_with_a_bad_time_names_the_column() {
        let mut r = row("[]");
        r.finished_at = "soon".into();
        let e = Outcome::try_from(r).unwrap_err();
        assert!(e.to_string().contains("host_outcomes.finished_at"), "{e}");
    }
}
