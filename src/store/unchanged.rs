//! Recording hosts known to have answered exactly as in the run before, as
//! a handful of set-based statements for all of them (the history
//! generator's fast path: it knows which of its synthetic hosts changed).
//!
//! The rows written are those `record_hosts_at` writes for the same
//! snapshots; `generate`'s tests compare both paths table by table.

use crate::store::error::StoreError;
use crate::store::time::to_stored;
use crate::store::{RunId, Store};
use serde::Serialize;
use std::time::Duration;

/// One address whose host returned, in `run`, the snapshot it returned in
/// the run just before (where it was recorded OK).
#[derive(Debug, Clone, Serialize)]
pub struct UnchangedHost<'a> {
    pub address: &'a str,
    pub duration_ms: i64,
    pub round_trips: i64,
}

impl<'a> UnchangedHost<'a> {
    pub fn new(address: &'a str, duration: Duration, round_trips: u64) -> Self {
        UnchangedHost {
            address,
            duration_ms: i64::try_from(duration.as_millis()).unwrap_or(i64::MAX),
            round_trips: i64::try_from(round_trips).unwrap_or(i64::MAX),
        }
    }
}

impl Store {
    /// Extends to `run`, in one transaction, every interval the hosts behind
    /// `hosts` ended in the run just before: their outcome spans, host
    /// facts, VM facts, `last_ok_run_id`, and their clusters' facts and VM
    /// owners unless a node already wrote the cluster in `run` (the first
    /// node written speaks for its cluster, as in `record_host`).
    ///
    /// Fails, writing nothing, when an address was not recorded OK in the
    /// previous run: its outcome would not be an extension.
    pub async fn record_unchanged_at(
        &self,
        run: RunId,
        hosts: &[UnchangedHost<'_>],
        at: chrono::DateTime<chrono::Utc>,
    ) -> Result<(), StoreError> {
        if hosts.is_empty() {
            return Ok(());
        }
        let json = serde_json::to_string(hosts).map_err(|source| StoreError::Encode {
            what: "unchanged hosts",
            source,
        })?;
        let mut tx = self.pool.begin().await?;
        let prev: Option<i64> = sqlx::query_scalar("SELECT max(id) FROM runs WHERE id < $1")
            .bind(run.0)
            .fetch_one(&mut *tx)
            .await?;
        let Some(prev) = prev else {
            return Err(StoreError::bad(
                "runs",
                "id",
                "no run before this one: nothing can be unchanged",
            ));
        };
        // The hosts, through their addresses' spans that ended OK in `prev`.
        // CROSS JOIN keeps json_each outside, so each address is one look-up
        // in outcome_spans_address; the planner otherwise scans every span
        // ending at `prev` once per address (1 s per run at 1,000 hosts).
        sqlx::query("DROP TABLE IF EXISTS temp.unchanged")
            .execute(&mut *tx)
            .await?;
        sqlx::query(
            "CREATE TEMP TABLE unchanged AS
             SELECT s.id AS span_id, s.host_id,
                    json_extract(j.value, '$.duration_ms') AS duration_ms,
                    json_extract(j.value, '$.round_trips') AS round_trips
             FROM json_each($1) j
             CROSS JOIN outcome_spans s ON s.address = json_extract(j.value, '$.address')
                  AND s.last_run_id = $2 AND s.status = 'ok' AND s.host_id IS NOT NULL",
        )
        .bind(&json)
        .bind(prev)
        .execute(&mut *tx)
        .await?;
        let found: i64 = sqlx::query_scalar("SELECT count(*) FROM temp.unchanged")
            .fetch_one(&mut *tx)
            .await?;
        if usize::try_from(found).ok() != Some(hosts.len()) {
            return Err(StoreError::bad(
                "outcome_spans",
                "last_run_id",
                format!(
                    "{} of {} unchanged addresses were not recorded OK in the previous run",
                    hosts.len() as i64 - found,
                    hosts.len()
                ),
            ));
        }
        sqlx::query(
            "UPDATE outcome_spans SET last_run_id = $1, finished_at = $2,
                 duration_ms = u.duration_ms, round_trips = u.round_trips
             FROM temp.unchanged u WHERE outcome_spans.id = u.span_id",
        )
        .bind(run.0)
        .bind(to_stored(at))
        .execute(&mut *tx)
        .await?;
        let extensions = [
            "UPDATE host_facts SET last_run_id = $1
             WHERE last_run_id = $2 AND host_id IN (SELECT host_id FROM temp.unchanged)",
            "UPDATE vm_facts SET last_run_id = $1
             WHERE last_run_id = $2 AND host_id IN (SELECT host_id FROM temp.unchanged)",
            "UPDATE hosts SET last_ok_run_id = $1
             WHERE last_ok_run_id = $2 AND id IN (SELECT host_id FROM temp.unchanged)",
        ];
        for sql in extensions {
            sqlx::query(sql)
                .bind(run.0)
                .bind(prev)
                .execute(&mut *tx)
                .await?;
        }
        // The clusters of unchanged hosts that no node wrote in `run` (the
        // first node written speaks for its cluster), found once, before
        // either cluster table is extended. Their rows alive in the
        // previous write end at `prev`: every unchanged host, and with it
        // its cluster, was written in `prev`.
        sqlx::query(
            "CREATE TEMP TABLE unchanged_clusters AS
             SELECT DISTINCT c.id FROM clusters c
             JOIN host_facts hf ON hf.cluster_name = c.name AND hf.last_run_id = $1
             WHERE hf.host_id IN (SELECT host_id FROM temp.unchanged)
               AND NOT EXISTS (SELECT 1 FROM cluster_facts w
                   WHERE w.cluster_id = c.id AND w.last_run_id = $1)",
        )
        .bind(run.0)
        .execute(&mut *tx)
        .await?;
        for sql in [
            "UPDATE cluster_vm_facts SET last_run_id = $1
             WHERE last_run_id = $2 AND cluster_id IN (SELECT id FROM temp.unchanged_clusters)",
            "UPDATE cluster_facts SET last_run_id = $1
             WHERE last_run_id = $2 AND cluster_id IN (SELECT id FROM temp.unchanged_clusters)",
        ] {
            sqlx::query(sql)
                .bind(run.0)
                .bind(prev)
                .execute(&mut *tx)
                .await?;
        }
        sqlx::query("DROP TABLE temp.unchanged_clusters")
            .execute(&mut *tx)
            .await?;
        sqlx::query("DROP TABLE temp.unchanged")
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(())
    }
}
