//! Fact intervals inside the one transaction a host's outcome is written in:
//! an unchanged row's interval is extended to the run.

use crate::store::RunId;
use crate::store::error::StoreError;
use sqlx::{Sqlite, Transaction};

/// The transaction `record_host` writes one host's outcome in.
pub(crate) type Tx = Transaction<'static, Sqlite>;

/// The fact tables whose rows extend one at a time (VM rows extend as a
/// set, in `vms.rs`).
#[derive(Clone, Copy)]
pub(crate) enum FactTable {
    Host,
    Cluster,
}

/// Extends row `id` of `table` to end at `run`.
pub(crate) async fn extend(
    tx: &mut Tx,
    table: FactTable,
    id: i64,
    run: RunId,
) -> Result<(), StoreError> {
    let sql = match table {
        FactTable::Host => "UPDATE host_facts SET last_run_id = $1 WHERE id = $2",
        FactTable::Cluster => "UPDATE cluster_facts SET last_run_id = $1 WHERE id = $2",
    };
    sqlx::query(sql)
        .bind(run.0)
        .bind(id)
        .execute(&mut **tx)
        .await?;
    Ok(())
}
