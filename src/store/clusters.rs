//! Cluster facts, inside a `record_host` transaction.

use std::collections::HashMap;

use crate::inventory::{ClusterSnapshot, VmOwner};
use crate::store::RunId;
use crate::store::error::StoreError;
use crate::store::facts::ClusterFacts;
use crate::store::interval::{FactTable, Tx, extend};

/// An owner as the columns of a `cluster_vm_facts` row compare it.
type OwnerKey = (String, Option<String>, Option<String>, Option<String>);

/// A live row as read: id, vm_guid, resource, owner_node, state.
type LiveRow = (i64, String, Option<String>, Option<String>, Option<String>);

fn key_of(o: &VmOwner) -> OwnerKey {
    (
        o.vm_guid.as_deref().map(str::to_string).unwrap_or_default(),
        o.resource.clone(),
        o.owner_node.clone(),
        Some(o.state.clone()),
    )
}

fn encode<T: serde::Serialize>(what: &'static str, v: &T) -> Result<String, StoreError> {
    serde_json::to_string(v).map_err(|source| StoreError::Encode { what, source })
}

/// Every node reports its cluster; the first node written in a run speaks
/// for it (nodes' views of the same moment differ only by timing).
pub(crate) async fn write_cluster_facts(
    tx: &mut Tx,
    run: RunId,
    c: &ClusterSnapshot,
) -> Result<(), StoreError> {
    let f = ClusterFacts::from_snapshot(c)?;
    // The no-op update on conflict makes RETURNING yield an existing row.
    let cluster: i64 = sqlx::query_scalar(
        "INSERT INTO clusters (name, first_run_id) VALUES ($1, $2)
         ON CONFLICT (name) DO UPDATE SET name = excluded.name RETURNING id",
    )
    .bind(&c.name)
    .bind(run.0)
    .fetch_one(&mut **tx)
    .await?;
    // The cluster's newest row ends at the run it was last written in.
    let latest: Option<(i64, Option<String>, String, i64)> = sqlx::query_as(
        "SELECT id, fqdn, nodes, last_run_id FROM cluster_facts WHERE cluster_id = $1
         ORDER BY last_run_id DESC, id DESC LIMIT 1",
    )
    .bind(cluster)
    .fetch_optional(&mut **tx)
    .await?;
    match &latest {
        Some((_, _, _, last)) if *last == run.0 => return Ok(()),
        Some((id, fqdn, nodes, _)) if fqdn.as_deref() == f.fqdn && *nodes == f.nodes => {
            extend(tx, FactTable::Cluster, *id, run).await?
        }
        _ => {
            sqlx::query(
                "INSERT INTO cluster_facts (cluster_id, first_run_id, last_run_id, fqdn, nodes)
                 VALUES ($1, $2, $2, $3, $4)",
            )
            .bind(cluster)
            .bind(run.0)
            .bind(f.fqdn)
            .bind(&f.nodes)
            .execute(&mut **tx)
            .await?;
        }
    }
    write_owners(tx, run, cluster, latest.map(|l| l.3), &f.owners).await
}

/// An owner row extends only if it was written in the cluster's previous
/// write (`prev`) and is identical; any other owner opens a new row. As
/// for VMs (`vms.rs`), a fixed number of set-based statements per cluster:
/// one read of the live rows, one UPDATE and one INSERT over JSON arrays.
async fn write_owners(
    tx: &mut Tx,
    run: RunId,
    cluster: i64,
    prev: Option<i64>,
    owners: &[&VmOwner],
) -> Result<(), StoreError> {
    // Live rows by their columns; an owner listed twice takes two rows.
    let mut live: HashMap<OwnerKey, Vec<i64>> = HashMap::new();
    if let Some(prev) = prev {
        let rows: Vec<LiveRow> = sqlx::query_as(
            "SELECT id, vm_guid, resource, owner_node, state FROM cluster_vm_facts
                 WHERE cluster_id = $1 AND last_run_id = $2 ORDER BY id DESC",
        )
        .bind(cluster)
        .bind(prev)
        .fetch_all(&mut **tx)
        .await?;
        for (id, g, r, n, s) in rows {
            live.entry((g, r, n, s)).or_default().push(id);
        }
    }
    let mut extended: Vec<i64> = Vec::new();
    let mut new_rows: Vec<&VmOwner> = Vec::new();
    for &o in owners {
        // Ids were pushed newest first: pop takes the oldest.
        match live.get_mut(&key_of(o)).and_then(Vec::pop) {
            Some(id) => extended.push(id),
            None => new_rows.push(o),
        }
    }
    if !extended.is_empty() {
        sqlx::query(
            "UPDATE cluster_vm_facts SET last_run_id = $1
             WHERE id IN (SELECT value FROM json_each($2))",
        )
        .bind(run.0)
        .bind(encode("ids", &extended)?)
        .execute(&mut **tx)
        .await?;
    }
    if !new_rows.is_empty() {
        sqlx::query(
            "INSERT INTO cluster_vm_facts (cluster_id, first_run_id, last_run_id, vm_guid,
                 resource, owner_node, state)
             SELECT $1, $2, $2, json_extract(value, '$.vm_guid'), json_extract(value, '$.resource'),
                 json_extract(value, '$.owner_node'), json_extract(value, '$.state')
             FROM json_each($3) ORDER BY key",
        )
        .bind(cluster)
        .bind(run.0)
        .bind(encode("cluster VM owners", &new_rows)?)
        .execute(&mut **tx)
        .await?;
    }
    Ok(())
}
