//! VM facts, inside a `record_host` transaction.

use crate::inventory::HostSnapshot;
use crate::store::RunId;
use crate::store::error::StoreError;
use crate::store::facts::VmFacts;
use crate::store::record::Tx;
use serde::Serialize;
use std::collections::HashMap;

/// One new `vm_facts` row, as an element of the JSON array the set-based
/// INSERT reads.
#[derive(Serialize)]
struct NewRow<'a> {
    guid: &'a str,
    digest: String,
    #[serde(flatten)]
    facts: VmFacts,
}

fn encode<T: Serialize>(what: &'static str, v: &T) -> Result<String, StoreError> {
    serde_json::to_string(v).map_err(|source| StoreError::Encode { what, source })
}

/// A VM row extends only if it was on this host in the host's previous OK
/// run with the same digest; a VM that came from elsewhere (a migration) or
/// changed gets a new row.
///
/// Each statement is a round trip to sqlx's SQLite worker thread, so the
/// host's VMs are written with a fixed number of set-based statements over
/// JSON arrays rather than a few statements per VM.
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
    let mut new_rows: Vec<NewRow<'_>> = Vec::new();
    for vm in &s.vms {
        let (facts, digest) = VmFacts::from_snapshot(vm)?;
        if let Some((id, d)) = open.get(&vm.guid)
            && *d == digest
        {
            extended.push(*id);
            continue;
        }
        new_rows.push(NewRow {
            guid: &vm.guid,
            digest,
            facts,
        });
    }
    if !new_rows.is_empty() {
        insert_new(tx, run, host, &new_rows).await?;
    }
    if !extended.is_empty() {
        sqlx::query(
            "UPDATE vm_facts SET last_run_id = $1 WHERE id IN (SELECT value FROM json_each($2))",
        )
        .bind(run.0)
        .bind(encode("ids", &extended)?)
        .execute(&mut **tx)
        .await?;
    }
    Ok(())
}

/// Creates the VMs not seen before, then opens one `vm_facts` row per
/// element, in snapshot order.
async fn insert_new(
    tx: &mut Tx,
    run: RunId,
    host: i64,
    rows: &[NewRow<'_>],
) -> Result<(), StoreError> {
    let guids: Vec<&str> = rows.iter().map(|r| r.guid).collect();
    // `WHERE true` keeps SQLite from reading ON CONFLICT as a join clause.
    sqlx::query(
        "INSERT INTO vms (guid, first_run_id)
         SELECT value, $1 FROM json_each($2) WHERE true ORDER BY key
         ON CONFLICT (guid) DO NOTHING",
    )
    .bind(run.0)
    .bind(encode("VM GUIDs", &guids)?)
    .execute(&mut **tx)
    .await?;
    sqlx::query(
        "INSERT INTO vm_facts (vm_id, host_id, first_run_id, last_run_id, name, bios_guid, bios_serial, state,
             enabled_state, health_state, vcpus, cpu_limit_pct, cpu_reservation_pct, cpu_weight, memory_mb,
             dynamic_memory, replication, replication_mode, generation, version, clustered, digest)
         SELECT v.id, $1, $2, $2,
             json_extract(j.value, '$.name'), json_extract(j.value, '$.bios_guid'),
             json_extract(j.value, '$.bios_serial'), json_extract(j.value, '$.state'),
             json_extract(j.value, '$.enabled_state'), json_extract(j.value, '$.health_state'),
             json_extract(j.value, '$.vcpus'), json_extract(j.value, '$.cpu_limit_pct'),
             json_extract(j.value, '$.cpu_reservation_pct'), json_extract(j.value, '$.cpu_weight'),
             json_extract(j.value, '$.memory_mb'), json_extract(j.value, '$.dynamic_memory'),
             json_extract(j.value, '$.replication'), json_extract(j.value, '$.replication_mode'),
             json_extract(j.value, '$.generation'), json_extract(j.value, '$.version'),
             json_extract(j.value, '$.clustered'), json_extract(j.value, '$.digest')
         FROM json_each($3) j JOIN vms v ON v.guid = json_extract(j.value, '$.guid')
         ORDER BY j.key",
    )
    .bind(host)
    .bind(run.0)
    .bind(encode("VM facts", &rows)?)
    .execute(&mut **tx)
    .await?;
    Ok(())
}
