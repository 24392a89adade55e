//! VM facts, inside a `record_host` transaction.

use crate::inventory::HostSnapshot;
use crate::store::RunId;
use crate::store::error::StoreError;
use crate::store::facts::VmRow;
use crate::store::interval::Tx;
use serde::Serialize;
use std::collections::HashMap;

/// One new `vm_facts` row, as an element of the JSON array the set-based
/// INSERT reads.
#[derive(Serialize)]
struct NewRow<'a> {
    guid: &'a str,
    digest: String,
    #[serde(flatten)]
    facts: VmRow<'a>,
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
        let (facts, digest) = VmRow::of(vm)?;
        if let Some((id, d)) = open.get(vm.guid.as_str())
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

#[cfg(test)]
mod tests {
    use crate::inventory::{HostIdentity, HostSnapshot, Replication, VmSnapshot, VmState};
    use crate::store::{HostOutcome, OpenMode, Store};
    use std::time::Duration;

    fn vm(guid: &str, limit: Option<f64>, name: Option<&str>) -> VmSnapshot {
        VmSnapshot {
            guid: guid.into(),
            name: name.map(str::to_string),
            bios_guid: None,
            bios_serial: Some("1234-5678".into()),
            state: VmState::Saved,
            enabled_state: Some(32769),
            health_state: None,
            vcpus: Some(3),
            cpu_limit_pct: limit,
            cpu_reservation_pct: Some(0.1),
            cpu_weight: Some(250),
            memory_mb: Some(12_345),
            dynamic_memory: Some(true),
            replication: Replication::Replica,
            replication_mode: Some(2),
            generation: Some(1),
            version: None,
            clustered: true,
        }
    }

    fn host(vms: Vec<VmSnapshot>) -> HostSnapshot {
        HostSnapshot {
            identity: HostIdentity {
                uuid: Some("4C4C4544-0000-4000-8000-000000000001".into()),
                serial: None,
            },
            name: Some("HV1".into()),
            fqdn: None,
            manufacturer: None,
            model: None,
            serial: None,
            os: None,
            os_build: None,
            sockets: None,
            cores: None,
            logical_processors: None,
            memory_mb: None,
            processors: vec![],
            processor_vendor: None,
            processor_model: None,
            hyperv_namespace: None,
            vms,
            cluster: None,
            warnings: vec![],
            region: None,
        }
    }

    type Row = (
        String,
        Option<String>,
        Option<String>,
        Option<String>,
        String,
        Option<i64>,
        Option<i64>,
        Option<i64>,
        Option<f64>,
        Option<f64>,
        Option<i64>,
        Option<i64>,
    );

    // The set-based INSERT passes every column through JSON; each must come
    // back as the value and SQLite type the snapshot holds.
    #[tokio::test]
    async fn new_vms_columns_survive_the_json_batch_in_snapshot_order() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("hvinv.db");
        let store = Store::open(path.to_str().unwrap(), OpenMode::ReadWrite)
            .await
            .unwrap();
        let run = store.begin_run(1).await.unwrap();
        let snapshot = host(vec![
            vm("B-2", Some(12.345), Some("quote \" back\\slash é")),
            vm("A-1", None, None),
            vm("C-3", Some(0.1 + 0.2), Some("x")),
        ]);
        let outcome = HostOutcome::Ok {
            snapshot,
            duration: Duration::from_millis(1),
            round_trips: 1,
        };
        store.record_host(run, "hv1", &outcome).await.unwrap();
        let rows: Vec<Row> = sqlx::query_as(
            "SELECT v.guid, f.name, f.bios_guid, f.bios_serial, f.state, f.enabled_state,
                    f.health_state, f.vcpus, f.cpu_limit_pct, f.cpu_reservation_pct,
                    f.memory_mb, f.dynamic_memory
             FROM vm_facts f JOIN vms v ON v.id = f.vm_id ORDER BY f.id",
        )
        .fetch_all(store.pool())
        .await
        .unwrap();
        let guids: Vec<&str> = rows.iter().map(|r| r.0.as_str()).collect();
        assert_eq!(guids, ["B-2", "A-1", "C-3"]);
        let r = &rows[0];
        assert_eq!(r.1.as_deref(), Some("quote \" back\\slash é"));
        assert_eq!((r.2.as_deref(), r.3.as_deref()), (None, Some("1234-5678")));
        assert_eq!(r.4, "saved");
        assert_eq!((r.5, r.6, r.7), (Some(32769), None, Some(3)));
        assert_eq!((r.8, r.9), (Some(12.345), Some(0.1)));
        assert_eq!((r.10, r.11), (Some(12_345), Some(1)));
        assert_eq!((rows[1].1.as_deref(), rows[1].8), (None, None));
        assert_eq!(rows[2].8, Some(0.1 + 0.2));
        let typed: (String, String, String, String, i64, String) = sqlx::query_as(
            "SELECT typeof(cpu_limit_pct), typeof(dynamic_memory), typeof(clustered),
                    replication, replication_mode, typeof(version)
             FROM vm_facts ORDER BY id LIMIT 1",
        )
        .fetch_one(store.pool())
        .await
        .unwrap();
        assert_eq!(
            typed,
            (
                "real".into(),
                "integer".into(),
                "integer".into(),
                "replica".into(),
                2,
                "null".into()
            )
        );
    }
}
