//! Cluster facts, inside a `record_host` transaction.

use crate::inventory::ClusterSnapshot;
use crate::store::RunId;
use crate::store::error::StoreError;
use crate::store::facts::ClusterFacts;
use crate::store::interval::{FactTable, Tx, extend};

/// Every node reports its cluster; the first node written in a run speaks
/// for it (nodes' views of the same moment differ only by timing).
pub(crate) async fn write_cluster_facts(
    tx: &mut Tx,
    run: RunId,
    c: &ClusterSnapshot,
) -> Result<(), StoreError> {
    let (f, digest) = ClusterFacts::from_snapshot(c)?;
    // The no-op update on conflict makes RETURNING yield an existing row.
    let cluster: i64 = sqlx::query_scalar(
        "INSERT INTO clusters (name, first_run_id) VALUES ($1, $2)
         ON CONFLICT (name) DO UPDATE SET name = excluded.name RETURNING id",
    )
    .bind(&c.name)
    .bind(run.0)
    .fetch_one(&mut **tx)
    .await?;
    let latest: Option<(i64, String, i64)> = sqlx::query_as(
        "SELECT id, digest, last_run_id FROM cluster_facts WHERE cluster_id = $1
         ORDER BY last_run_id DESC, id DESC LIMIT 1",
    )
    .bind(cluster)
    .fetch_optional(&mut **tx)
    .await?;
    match latest {
        Some((_, _, last)) if last == run.0 => Ok(()),
        Some((id, d, _)) if d == digest => extend(tx, FactTable::Cluster, id, run).await,
        _ => {
            sqlx::query(
                "INSERT INTO cluster_facts (cluster_id, first_run_id, last_run_id, fqdn, nodes, vm_owners, digest)
                 VALUES ($1, $2, $2, $3, $4, $5, $6)",
            )
            .bind(cluster)
            .bind(run.0)
            .bind(f.fqdn)
            .bind(f.nodes)
            .bind(f.vm_owners)
            .bind(digest)
            .execute(&mut **tx)
            .await?;
            Ok(())
        }
    }
}
