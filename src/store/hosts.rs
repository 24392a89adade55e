//! Host identity and host facts, inside a `record_host` transaction.

use crate::inventory::HostSnapshot;
use crate::store::HostId;
use crate::store::RunId;
use crate::store::clusters::write_cluster_facts;
use crate::store::error::StoreError;
use crate::store::facts::HostRow;
use crate::store::interval::{FactTable, Tx, extend};
use crate::store::vms::write_vm_facts;

/// Finds or creates the host and writes its facts once per run.
pub(crate) async fn write_facts(
    tx: &mut Tx,
    run: RunId,
    s: &HostSnapshot,
) -> Result<HostId, StoreError> {
    let identity = s
        .identity
        .key(s.name.as_deref())
        .ok_or(StoreError::NoIdentity)?;
    // One statement finds or creates the host: the no-op update on conflict
    // makes RETURNING yield the existing row.
    let (host, prev_ok): (i64, Option<i64>) = sqlx::query_as(
        "INSERT INTO hosts (identity, uuid, serial, first_run_id) VALUES ($1, $2, $3, $4)
         ON CONFLICT (identity) DO UPDATE SET identity = excluded.identity
         RETURNING id, last_ok_run_id",
    )
    .bind(&identity)
    .bind(&s.identity.uuid)
    .bind(&s.identity.serial)
    .bind(run.0)
    .fetch_one(&mut **tx)
    .await?;
    if prev_ok == Some(run.0) {
        // Same machine under another address in this run: facts are written.
        return Ok(HostId(host));
    }
    write_host_facts(tx, run, host, prev_ok, s).await?;
    write_vm_facts(tx, run, host, prev_ok, s).await?;
    if let Some(c) = &s.cluster {
        write_cluster_facts(tx, run, c).await?;
    }
    sqlx::query(
        "UPDATE hosts SET last_ok_run_id = $1, serial = COALESCE($2, serial) WHERE id = $3",
    )
    .bind(run.0)
    .bind(&s.identity.serial)
    .bind(host)
    .execute(&mut **tx)
    .await?;
    Ok(HostId(host))
}

async fn write_host_facts(
    tx: &mut Tx,
    run: RunId,
    host: i64,
    prev_ok: Option<i64>,
    s: &HostSnapshot,
) -> Result<(), StoreError> {
    let (row, digest) = HostRow::of(s)?;
    // Only a row that ended in the previous OK run can extend, so a host
    // with none (new, or never OK) needs no look-up.
    if let Some(prev) = prev_ok {
        let latest: Option<(i64, String, i64)> = sqlx::query_as(
            "SELECT id, digest, last_run_id FROM host_facts WHERE host_id = $1 ORDER BY last_run_id DESC, id DESC LIMIT 1",
        )
        .bind(host)
        .fetch_optional(&mut **tx)
        .await?;
        if let Some((id, d, last)) = latest
            && d == digest
            && last == prev
        {
            return extend(tx, FactTable::Host, id, run).await;
        }
    }
    // The row travels as the same JSON the digest is taken over, so its
    // columns are listed once (in `HostRow`) and here by name.
    let json = serde_json::to_string(&row).map_err(|source| StoreError::Encode {
        what: "host facts",
        source,
    })?;
    sqlx::query(
        "INSERT INTO host_facts (host_id, first_run_id, last_run_id, name, fqdn, manufacturer, model, serial, os,
             os_build, sockets, cores, logical_processors, memory_mb, processor_vendor, processor_model, processors,
             cluster_name, hyperv_namespace, region, digest)
         SELECT $1, $2, $2, json_extract($3, '$.name'), json_extract($3, '$.fqdn'),
             json_extract($3, '$.manufacturer'), json_extract($3, '$.model'), json_extract($3, '$.serial'),
             json_extract($3, '$.os'), json_extract($3, '$.os_build'), json_extract($3, '$.sockets'),
             json_extract($3, '$.cores'), json_extract($3, '$.logical_processors'),
             json_extract($3, '$.memory_mb'), json_extract($3, '$.processor_vendor'),
             json_extract($3, '$.processor_model'), json_extract($3, '$.processors'),
             json_extract($3, '$.cluster_name'), json_extract($3, '$.hyperv_namespace'),
             COALESCE(json_extract($3, '$.region'), 'default'), $4",
    )
    .bind(host)
    .bind(run.0)
    .bind(json)
    .bind(digest)
    .execute(&mut **tx)
    .await?;
    Ok(())
}
