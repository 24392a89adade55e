//! Writing one host's outcome: one transaction per host, as it finishes.

use crate::error::ErrorKind;
use crate::inventory::{ClusterSnapshot, HostSnapshot};
use crate::store::error::StoreError;
use crate::store::facts::{ClusterFacts, HostFacts, VmFacts, int};
use crate::store::{RunId, Store, now_rfc3339};
use sqlx::{Sqlite, Transaction};
use std::collections::HashMap;
use std::time::Duration;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct HostId(pub i64);

/// How collecting one configured address ended.
// Not boxed: one value per host, moved once from collector to store.
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Clone)]
pub enum HostOutcome {
    Ok {
        snapshot: HostSnapshot,
        duration: Duration,
        round_trips: u64,
    },
    Failed {
        kind: ErrorKind,
        message: String,
        duration: Duration,
        round_trips: u64,
    },
}

type Tx = Transaction<'static, Sqlite>;

fn millis(d: Duration) -> i64 {
    i64::try_from(d.as_millis()).unwrap_or(i64::MAX)
}

impl Store {
    /// Records one address's outcome in `run`, in one transaction. An OK
    /// host's facts extend their intervals or open new ones; a host already
    /// written in this run (reached under a second address) gets only its
    /// outcome row. A failed address is linked to the host it last reached,
    /// whose facts stay as they were.
    pub async fn record_host(
        &self,
        run: RunId,
        address: &str,
        outcome: &HostOutcome,
    ) -> Result<Option<HostId>, StoreError> {
        // A snapshot with nothing to key the host on cannot hold facts; it is
        // recorded as a failure rather than aborting the run.
        let unidentified;
        let outcome = match outcome {
            HostOutcome::Ok {
                snapshot,
                duration,
                round_trips,
            } if snapshot.identity.key(snapshot.name.as_deref()).is_none() => {
                unidentified = HostOutcome::Failed {
                    kind: ErrorKind::Protocol,
                    message: "the host reported no UUID, serial number or computer name".into(),
                    duration: *duration,
                    round_trips: *round_trips,
                };
                &unidentified
            }
            other => other,
        };
        let mut tx = self.pool.begin().await?;
        let (host, status, kind, message, warnings, duration, trips) = match outcome {
            HostOutcome::Ok {
                snapshot,
                duration,
                round_trips,
            } => {
                let host = write_facts(&mut tx, run, snapshot).await?;
                sqlx::query(
                    "INSERT INTO addresses (address, host_id) VALUES ($1, $2)
                     ON CONFLICT (address) DO UPDATE SET host_id = excluded.host_id
                     WHERE addresses.host_id <> excluded.host_id",
                )
                .bind(address)
                .bind(host.0)
                .execute(&mut *tx)
                .await?;
                let warnings = serde_json::to_string(&snapshot.warnings).map_err(|source| {
                    StoreError::Encode {
                        what: "warnings",
                        source,
                    }
                })?;
                (
                    Some(host),
                    "ok",
                    None,
                    None,
                    warnings,
                    *duration,
                    *round_trips,
                )
            }
            HostOutcome::Failed {
                kind,
                message,
                duration,
                round_trips,
            } => {
                let host: Option<i64> =
                    sqlx::query_scalar("SELECT host_id FROM addresses WHERE address = $1")
                        .bind(address)
                        .fetch_optional(&mut *tx)
                        .await?;
                (
                    host.map(HostId),
                    "failed",
                    Some(kind.as_str()),
                    Some(message.as_str()),
                    "[]".to_string(),
                    *duration,
                    *round_trips,
                )
            }
        };
        sqlx::query(
            "INSERT INTO host_outcomes (run_id, address, host_id, status, error_kind, error_message, warnings,
                                        finished_at, duration_ms, round_trips)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
        )
        .bind(run.0)
        .bind(address)
        .bind(host.map(|h| h.0))
        .bind(status)
        .bind(kind)
        .bind(message)
        .bind(warnings)
        .bind(now_rfc3339())
        .bind(millis(duration))
        .bind(int(Some(trips)))
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(host)
    }
}

/// Finds or creates the host and writes its facts once per run.
async fn write_facts(tx: &mut Tx, run: RunId, s: &HostSnapshot) -> Result<HostId, StoreError> {
    let identity = s
        .identity
        .key(s.name.as_deref())
        .ok_or(StoreError::NoIdentity)?;
    let found: Option<(i64, Option<i64>)> =
        sqlx::query_as("SELECT id, last_ok_run_id FROM hosts WHERE identity = $1")
            .bind(&identity)
            .fetch_optional(&mut **tx)
            .await?;
    let (host, prev_ok) = match found {
        Some((id, prev)) => (id, prev),
        None => {
            let id: i64 = sqlx::query_scalar(
                "INSERT INTO hosts (identity, uuid, serial, first_run_id) VALUES ($1, $2, $3, $4) RETURNING id",
            )
            .bind(&identity)
            .bind(&s.identity.uuid)
            .bind(&s.identity.serial)
            .bind(run.0)
            .fetch_one(&mut **tx)
            .await?;
            (id, None)
        }
    };
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
    let (f, digest) = HostFacts::from_snapshot(s)?;
    let latest: Option<(i64, String, i64)> = sqlx::query_as(
        "SELECT id, digest, last_run_id FROM host_facts WHERE host_id = $1 ORDER BY last_run_id DESC, id DESC LIMIT 1",
    )
    .bind(host)
    .fetch_optional(&mut **tx)
    .await?;
    if let Some((id, d, last)) = latest
        && d == digest
        && Some(last) == prev_ok
    {
        return extend(tx, Facts::Host, id, run).await;
    }
    sqlx::query(
        "INSERT INTO host_facts (host_id, first_run_id, last_run_id, name, fqdn, manufacturer, model, serial, os,
             os_build, sockets, cores, logical_processors, memory_mb, processor_vendor, processor_model, processors,
             cluster_name, hyperv_namespace, digest)
         VALUES ($1, $2, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19)",
    )
    .bind(host)
    .bind(run.0)
    .bind(f.name)
    .bind(f.fqdn)
    .bind(f.manufacturer)
    .bind(f.model)
    .bind(f.serial)
    .bind(f.os)
    .bind(f.os_build)
    .bind(f.sockets)
    .bind(f.cores)
    .bind(f.logical_processors)
    .bind(f.memory_mb)
    .bind(f.processor_vendor)
    .bind(f.processor_model)
    .bind(f.processors)
    .bind(f.cluster_name)
    .bind(f.hyperv_namespace)
    .bind(digest)
    .execute(&mut **tx)
    .await?;
    Ok(())
}

#[derive(Clone, Copy)]
enum Facts {
    Host,
    Cluster,
}

async fn extend(tx: &mut Tx, table: Facts, id: i64, run: RunId) -> Result<(), StoreError> {
    let sql = match table {
        Facts::Host => "UPDATE host_facts SET last_run_id = $1 WHERE id = $2",
        Facts::Cluster => "UPDATE cluster_facts SET last_run_id = $1 WHERE id = $2",
    };
    sqlx::query(sql)
        .bind(run.0)
        .bind(id)
        .execute(&mut **tx)
        .await?;
    Ok(())
}

/// A VM row extends only if it was on this host in the host's previous OK
/// run with the same digest; a VM that came from elsewhere (a migration) or
/// changed gets a new row.
async fn write_vm_facts(
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

/// Every node reports its cluster; the first node written in a run speaks
/// for it (nodes' views of the same moment differ only by timing).
async fn write_cluster_facts(
    tx: &mut Tx,
    run: RunId,
    c: &ClusterSnapshot,
) -> Result<(), StoreError> {
    let (f, digest) = ClusterFacts::from_snapshot(c)?;
    let found: Option<i64> = sqlx::query_scalar("SELECT id FROM clusters WHERE name = $1")
        .bind(&c.name)
        .fetch_optional(&mut **tx)
        .await?;
    let cluster = match found {
        Some(id) => id,
        None => {
            sqlx::query_scalar(
                "INSERT INTO clusters (name, first_run_id) VALUES ($1, $2) RETURNING id",
            )
            .bind(&c.name)
            .bind(run.0)
            .fetch_one(&mut **tx)
            .await?
        }
    };
    let latest: Option<(i64, String, i64)> = sqlx::query_as(
        "SELECT id, digest, last_run_id FROM cluster_facts WHERE cluster_id = $1
         ORDER BY last_run_id DESC, id DESC LIMIT 1",
    )
    .bind(cluster)
    .fetch_optional(&mut **tx)
    .await?;
    match latest {
        Some((_, _, last)) if last == run.0 => Ok(()),
        Some((id, d, _)) if d == digest => extend(tx, Facts::Cluster, id, run).await,
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
