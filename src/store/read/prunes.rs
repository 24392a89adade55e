//! Reading the `prunes` table: every `hvinv prune`, for audit trails.

use chrono::{DateTime, Utc};

use super::Reader;
use crate::store::StoreError;
use crate::store::time;

/// One recorded prune (`prunes` row).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PruneRecord {
    pub id: i64,
    pub at: DateTime<Utc>,
    pub hvinv_version: String,
    pub before: DateTime<Utc>,
    pub under_two_years: bool,
    pub runs_deleted: i64,
    pub first_run_deleted: Option<i64>,
    pub last_run_deleted: Option<i64>,
    pub first_run_kept: Option<i64>,
    pub rows_deleted: String,
}

#[derive(sqlx::FromRow)]
struct PruneRow {
    id: i64,
    at: String,
    hvinv_version: String,
    before: String,
    under_two_years: bool,
    runs_deleted: i64,
    first_run_deleted: Option<i64>,
    last_run_deleted: Option<i64>,
    first_run_kept: Option<i64>,
    rows_deleted: String,
}

impl Reader<'_> {
    /// Every recorded prune, oldest first.
    pub async fn prunes(&self) -> Result<Vec<PruneRecord>, StoreError> {
        let rows: Vec<PruneRow> = sqlx::query_as(
            "SELECT id, at, hvinv_version, before, under_two_years, runs_deleted,
                 first_run_deleted, last_run_deleted, first_run_kept, rows_deleted
             FROM prunes ORDER BY id",
        )
        .fetch_all(self.pool)
        .await?;
        rows.into_iter()
            .map(|r| {
                Ok(PruneRecord {
                    id: r.id,
                    at: time::parse(&r.at, "prunes", "at")?,
                    hvinv_version: r.hvinv_version,
                    before: time::parse(&r.before, "prunes", "before")?,
                    under_two_years: r.under_two_years,
                    runs_deleted: r.runs_deleted,
                    first_run_deleted: r.first_run_deleted,
                    last_run_deleted: r.last_run_deleted,
                    first_run_kept: r.first_run_kept,
                    rows_deleted: r.rows_deleted,
                })
            })
            .collect()
    }
}
