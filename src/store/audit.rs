//! Reads for audit evidence: which addresses each run tried, and how it went.

use crate::store::Store;
use crate::store::error::StoreError;

/// One `host_outcomes` row, reduced to what the audit trail and the
/// coverage report need.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct RunAddress {
    pub run_id: i64,
    pub address: String,
    /// `ok` or `failed`.
    pub status: String,
    pub error_kind: Option<String>,
}

impl Store {
    /// Every outcome of runs `first..=last`, by run then address.
    pub async fn run_addresses(
        &self,
        first: i64,
        last: i64,
    ) -> Result<Vec<RunAddress>, StoreError> {
        Ok(sqlx::query_as(
            "SELECT run_id, address, status, error_kind FROM host_outcomes
             WHERE run_id BETWEEN $1 AND $2 ORDER BY run_id, address",
        )
        .bind(first)
        .bind(last)
        .fetch_all(&self.pool)
        .await?)
    }
}
