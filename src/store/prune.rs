//! `hvinv prune`: deletes the runs that started before a cut and every row
//! only they reference, in one transaction, and records itself in `prunes`.
//!
//! Fact intervals that reach past the cut are kept, their first run moved
//! to the first run kept, so every report over the kept runs reads the same
//! rows as before.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use serde::Serialize;

use crate::store::error::StoreError;
use crate::store::time;
use crate::store::{Store, now_rfc3339};

/// What a prune cut (also what `prunes` records).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PruneSummary {
    pub before: DateTime<Utc>,
    pub under_two_years: bool,
    pub runs_deleted: i64,
    pub first_run_deleted: Option<i64>,
    pub last_run_deleted: Option<i64>,
    pub first_run_kept: Option<i64>,
    /// Rows deleted, per table.
    pub rows_deleted: BTreeMap<&'static str, u64>,
}

impl Store {
    /// Deletes the runs before `before` (the caller holds the collection
    /// lock and has applied the two-year rule) and records the prune.
    ///
    /// The cut is a prefix of run ids: the first run that started at or
    /// after `before` and every later run are kept, even one whose clock
    /// said earlier, so a prune never deletes a run newer than one it keeps.
    pub async fn prune(
        &self,
        before: DateTime<Utc>,
        under_two_years: bool,
    ) -> Result<PruneSummary, StoreError> {
        let mut tx = self.pool.begin().await?;
        let runs: Vec<(i64, String)> =
            sqlx::query_as("SELECT id, started_at FROM runs ORDER BY id")
                .fetch_all(&mut *tx)
                .await?;
        let mut kept: Option<i64> = None;
        for (id, started) in &runs {
            if time::parse(started, "runs", "started_at")? >= before {
                kept = Some(*id);
                break;
            }
        }
        // Every run id below `cut` goes.
        let cut = match kept {
            Some(k) => k,
            None => runs.last().map_or(0, |(id, _)| id + 1),
        };
        let deleted: Vec<i64> = runs
            .iter()
            .map(|(id, _)| *id)
            .filter(|id| *id < cut)
            .collect();
        let mut rows = BTreeMap::new();
        macro_rules! exec {
            ($label:expr, $sql:expr) => {{
                let n = sqlx::query($sql)
                    .bind(cut)
                    .execute(&mut *tx)
                    .await?
                    .rows_affected();
                if let Some(label) = $label {
                    *rows.entry(label).or_insert(0) += n;
                }
            }};
        }
        if !deleted.is_empty() {
            // Children first: foreign keys are enforced.
            exec!(
                Some("vm_facts"),
                "DELETE FROM vm_facts WHERE last_run_id < $1"
            );
            exec!(
                None::<&str>,
                "UPDATE vm_facts SET first_run_id = $1 WHERE first_run_id < $1"
            );
            exec!(
                Some("host_facts"),
                "DELETE FROM host_facts WHERE last_run_id < $1"
            );
            exec!(
                None::<&str>,
                "UPDATE host_facts SET first_run_id = $1 WHERE first_run_id < $1"
            );
            exec!(
                Some("cluster_facts"),
                "DELETE FROM cluster_facts WHERE last_run_id < $1"
            );
            exec!(
                None::<&str>,
                "UPDATE cluster_facts SET first_run_id = $1 WHERE first_run_id < $1"
            );
            exec!(
                Some("cluster_vm_facts"),
                "DELETE FROM cluster_vm_facts WHERE last_run_id < $1"
            );
            exec!(
                None::<&str>,
                "UPDATE cluster_vm_facts SET first_run_id = $1 WHERE first_run_id < $1"
            );
            exec!(
                Some("outcome_spans"),
                "DELETE FROM outcome_spans WHERE last_run_id < $1"
            );
            exec!(
                None::<&str>,
                "UPDATE outcome_spans SET first_run_id = $1 WHERE first_run_id < $1"
            );
            exec!(
                Some("vms"),
                "DELETE FROM vms WHERE first_run_id < $1
                 AND NOT EXISTS (SELECT 1 FROM vm_facts f WHERE f.vm_id = vms.id)"
            );
            exec!(
                None::<&str>,
                "UPDATE vms SET first_run_id = $1 WHERE first_run_id < $1"
            );
            exec!(
                Some("clusters"),
                "DELETE FROM clusters WHERE first_run_id < $1
                 AND NOT EXISTS (SELECT 1 FROM cluster_facts f WHERE f.cluster_id = clusters.id)
                 AND NOT EXISTS (SELECT 1 FROM cluster_vm_facts f WHERE f.cluster_id = clusters.id)"
            );
            exec!(
                None::<&str>,
                "UPDATE clusters SET first_run_id = $1 WHERE first_run_id < $1"
            );
            // A host nothing kept refers to goes, with the addresses that
            // last reached it.
            exec!(
                Some("addresses"),
                "DELETE FROM addresses WHERE host_id IN (SELECT id FROM hosts WHERE hosts.first_run_id < $1
                 AND NOT EXISTS (SELECT 1 FROM host_facts f WHERE f.host_id = hosts.id)
                 AND NOT EXISTS (SELECT 1 FROM vm_facts f WHERE f.host_id = hosts.id)
                 AND NOT EXISTS (SELECT 1 FROM outcome_spans o WHERE o.host_id = hosts.id))"
            );
            exec!(
                Some("hosts"),
                "DELETE FROM hosts WHERE hosts.first_run_id < $1
                 AND NOT EXISTS (SELECT 1 FROM host_facts f WHERE f.host_id = hosts.id)
                 AND NOT EXISTS (SELECT 1 FROM vm_facts f WHERE f.host_id = hosts.id)
                 AND NOT EXISTS (SELECT 1 FROM outcome_spans o WHERE o.host_id = hosts.id)"
            );
            exec!(
                None::<&str>,
                "UPDATE hosts SET first_run_id = $1 WHERE first_run_id < $1"
            );
            // Its last good run is gone, and with it any interval that run
            // could extend: the next good run opens new ones.
            exec!(
                None::<&str>,
                "UPDATE hosts SET last_ok_run_id = NULL WHERE last_ok_run_id < $1"
            );
            exec!(Some("runs"), "DELETE FROM runs WHERE id < $1");
        }
        let summary = PruneSummary {
            before,
            under_two_years,
            runs_deleted: deleted.len() as i64,
            first_run_deleted: deleted.first().copied(),
            last_run_deleted: deleted.last().copied(),
            first_run_kept: kept,
            rows_deleted: rows,
        };
        let rows_json =
            serde_json::to_string(&summary.rows_deleted).map_err(|source| StoreError::Encode {
                what: "prune row counts",
                source,
            })?;
        sqlx::query(
            "INSERT INTO prunes (at, hvinv_version, before, under_two_years, runs_deleted,
                 first_run_deleted, last_run_deleted, first_run_kept, rows_deleted)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
        )
        .bind(now_rfc3339())
        .bind(env!("CARGO_PKG_VERSION"))
        .bind(time::to_stored(before))
        .bind(under_two_years)
        .bind(summary.runs_deleted)
        .bind(summary.first_run_deleted)
        .bind(summary.last_run_deleted)
        .bind(summary.first_run_kept)
        .bind(rows_json)
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(summary)
    }
}
