//! VM facts, inside a `record_host` transaction.

use crate::inventory::HostSnapshot;
use crate::store::RunId;
use crate::store::error::StoreError;
use crate::store::facts::VmFacts;
use crate::store::record::Tx;
use std::collections::HashMap;

/// A VM row extends only if it was on this host in the host's previous OK
/// run with the same digest; a VM that came from elsewhere (a migration) or
/// changed gets a new row.
pub(crate) async fn write_vm_facts(
    tx: &mut Tx,
    run: RunId,
    host: i64,
    prev_ok: Option<i64>,
    s: &HostSnapshot,
) -> Result<(), StoreError> {
    // One query for all of the host's VM rows that are still open.
    let open: HashMap<String, (i64, String)> = match prev_ok {
        None => HashMap::new(),
        Some(prev) => sqlx::query_as::<_, (String, i64, String)>(
            "SELECT v.guid, f.id, f.digest FROM vm_facts f JOIN vms v ON v.id = f.vm_id
             WHERE f.host_id = $1 AND f.last_run_id = $2",
        )
        .bind(host)
        .bind(prev)
        .fetch_all(&mut **tx)
        .await?
        .into_iter()
        .map(|(g, id, d)| (g, (id, d)))
        .collect(),
    };
    let mut extended: Vec<i64> = Vec::new();
    for vm in &s.vms {
        let (f, digest) = VmFacts::from_snapshot(vm)?;
        if let Some((id, d)) = open.get(&vm.guid)
            && *d == digest
        {
            extended.push(*id);
            continue;
        }
        let vm_id = vm_id(tx, run, &vm.guid).await?;
        sqlx::query(
            "INSERT INTO vm_facts (vm_id, host_id, first_run_id, last_run_id, name, bios_guid, bios_serial, state,
                 enabled_state, health_state, vcpus, cpu_limit_pct, cpu_reservation_pct, cpu_weight, memory_mb,
                 dynamic_memory, replication, replication_mode, generation, version, clustered, digest)
             VALUES ($1, $2, $3, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20, $21)",
        )
        .bind(vm_id)
        .bind(host)
        .bind(run.0)
        .bind(f.name)
        .bind(f.bios_guid)
        .bind(f.bios_serial)
        .bind(f.state)
        .bind(f.enabled_state)
        .bind(f.health_state)
        .bind(f.vcpus)
        .bind(f.cpu_limit_pct)
        .bind(f.cpu_reservation_pct)
        .bind(f.cpu_weight)
        .bind(f.memory_mb)
        .bind(f.dynamic_memory)
        .bind(f.replication)
        .bind(f.replication_mode)
        .bind(f.generation)
        .bind(f.version)
        .bind(f.clustered)
        .bind(digest)
        .execute(&mut **tx)
        .await?;
    }
    if !extended.is_empty() {
        let ids = serde_json::to_string(&extended).map_err(|source| StoreError::Encode {
            what: "ids",
            source,
        })?;
        sqlx::query(
            "UPDATE vm_facts SET last_run_id = $1 WHERE id IN (SELECT value FROM json_each($2))",
        )
        .bind(run.0)
        .bind(ids)
        .execute(&mut **tx)
        .await?;
    }
    Ok(())
}

async fn vm_id(tx: &mut Tx, run: RunId, guid: &str) -> Result<i64, StoreError> {
    let found: Option<i64> = sqlx::query_scalar("SELECT id FROM vms WHERE guid = $1")
        .bind(guid)
        .fetch_optional(&mut **tx)
        .await?;
    match found {
        Some(id) => Ok(id),
        None => Ok(sqlx::query_scalar(
            "INSERT INTO vms (guid, first_run_id) VALUES ($1, $2) RETURNING id",
        )
        .bind(guid)
        .bind(run.0)
        .fetch_one(&mut **tx)
        .await?),
    }
}
