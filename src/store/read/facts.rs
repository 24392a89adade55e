//! Reading the fact intervals: `host_facts`, `vm_facts`, `cluster_facts`,
//! `cluster_vm_facts`.
//!
//! `*_overlapping(lo, hi)` loads every row whose interval meets `[lo, hi]`;
//! `*_by_first_run(lo, hi)` streams the same rows ordered by first run.
//! Host and VM rows come back as the model's own types (`HostSnapshot`,
//! `VmSnapshot`) with the row's keys beside them: the fields are declared
//! once, in `inventory::model`.

use futures_util::{StreamExt, TryStreamExt};
use serde::Deserialize;

use sqlx::Row;
use sqlx::sqlite::SqliteRow;

use super::{Reader, RowStream};
use crate::inventory::{Guid, HostIdentity, HostSnapshot, Replication, VmSnapshot, VmState};
use crate::store::StoreError;

/// A host's facts over `first_run_id..=last_run_id` (they hold only for the
/// runs in that range where the host's outcome is OK): the model's
/// [`HostSnapshot`] as stored, with the row's keys. Its VMs, cluster and
/// warnings are stored apart (`vm_facts`, `cluster_facts`, outcomes) and
/// come back empty; the cluster's name is `cluster_name`.
#[derive(Debug, Clone, PartialEq)]
pub struct HostFacts {
    pub id: i64,
    pub host_id: i64,
    pub first_run_id: i64,
    pub last_run_id: i64,
    /// The cluster the host belonged to; `None` when standalone.
    pub cluster_name: Option<String>,
    /// Licence region (config `region`, `"default"` when none was given).
    pub region: String,
    pub host: HostSnapshot,
}

impl HostFacts {
    pub fn covers(&self, run_id: i64) -> bool {
        self.first_run_id <= run_id && run_id <= self.last_run_id
    }
}

/// A VM's facts over `first_run_id..=last_run_id` on host `host_id` (a live
/// migration ends one row and starts another): the model's [`VmSnapshot`]
/// as stored, with the row's keys.
#[derive(Debug, Clone, PartialEq)]
pub struct VmFacts {
    pub id: i64,
    pub vm_id: i64,
    pub host_id: i64,
    pub first_run_id: i64,
    pub last_run_id: i64,
    pub vm: VmSnapshot,
}

impl VmFacts {
    pub fn covers(&self, run_id: i64) -> bool {
        self.first_run_id <= run_id && run_id <= self.last_run_id
    }
}

/// Memory is stored clamped to SQLite's signed 64 bits (`store::facts::int`).
fn memory(table: &'static str, v: Option<i64>) -> Result<Option<u64>, StoreError> {
    v.map(|m| u64::try_from(m).map_err(|_| StoreError::bad(table, "memory_mb", m.to_string())))
        .transpose()
}

fn host_facts(r: SqliteRow) -> Result<HostFacts, StoreError> {
    let processors: String = r.try_get("processors")?;
    let processors = serde_json::from_str(&processors)
        .map_err(|e| StoreError::bad("host_facts", "processors", e.to_string()))?;
    let uuid: Option<String> = r.try_get("uuid")?;
    let region: String = r.try_get("region")?;
    Ok(HostFacts {
        id: r.try_get("id")?,
        host_id: r.try_get("host_id")?,
        first_run_id: r.try_get("first_run_id")?,
        last_run_id: r.try_get("last_run_id")?,
        cluster_name: r.try_get("cluster_name")?,
        region: region.clone(),
        host: HostSnapshot {
            identity: HostIdentity {
                uuid: uuid.as_deref().map(|u| Guid::from_stored(u).into_string()),
                serial: r.try_get("identity_serial")?,
            },
            name: r.try_get("name")?,
            fqdn: r.try_get("fqdn")?,
            manufacturer: r.try_get("manufacturer")?,
            model: r.try_get("model")?,
            serial: r.try_get("serial")?,
            os: r.try_get("os")?,
            os_build: r.try_get("os_build")?,
            sockets: r.try_get("sockets")?,
            cores: r.try_get("cores")?,
            logical_processors: r.try_get("logical_processors")?,
            memory_mb: memory("host_facts", r.try_get("memory_mb")?)?,
            processors,
            processor_vendor: r.try_get("processor_vendor")?,
            processor_model: r.try_get("processor_model")?,
            hyperv_namespace: r.try_get("hyperv_namespace")?,
            vms: Vec::new(),
            cluster: None,
            warnings: Vec::new(),
            // As the model has it: `None` is the default region.
            region: (region != crate::store::DEFAULT_REGION).then_some(region),
        },
    })
}

fn vm_facts(r: SqliteRow) -> Result<VmFacts, StoreError> {
    let guid: String = r.try_get("guid")?;
    let bios_guid: Option<String> = r.try_get("bios_guid")?;
    let state: String = r.try_get("state")?;
    let replication: String = r.try_get("replication")?;
    Ok(VmFacts {
        id: r.try_get("id")?,
        vm_id: r.try_get("vm_id")?,
        host_id: r.try_get("host_id")?,
        first_run_id: r.try_get("first_run_id")?,
        last_run_id: r.try_get("last_run_id")?,
        vm: VmSnapshot {
            // Normalised once here so per-run comparisons need no allocation.
            guid: Guid::from_stored(&guid),
            name: r.try_get("name")?,
            bios_guid: bios_guid.as_deref().map(Guid::from_stored),
            bios_serial: r.try_get("bios_serial")?,
            state: VmState::parse(&state)
                .ok_or_else(|| StoreError::bad("vm_facts", "state", format!("{state:?}")))?,
            enabled_state: r.try_get("enabled_state")?,
            health_state: r.try_get("health_state")?,
            vcpus: r.try_get("vcpus")?,
            cpu_limit_pct: r.try_get("cpu_limit_pct")?,
            cpu_reservation_pct: r.try_get("cpu_reservation_pct")?,
            cpu_weight: r.try_get("cpu_weight")?,
            memory_mb: memory("vm_facts", r.try_get("memory_mb")?)?,
            dynamic_memory: r.try_get("dynamic_memory")?,
            replication: Replication::parse(&replication).ok_or_else(|| {
                StoreError::bad("vm_facts", "replication", format!("{replication:?}"))
            })?,
            replication_mode: r.try_get("replication_mode")?,
            generation: r.try_get("generation")?,
            version: r.try_get("version")?,
            clustered: r.try_get("clustered")?,
        },
    })
}

#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct ClusterNode {
    pub name: String,
    #[serde(default)]
    pub state: Option<serde_json::Value>,
}

#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct VmOwner {
    pub vm_guid: Guid,
    #[serde(default)]
    pub resource: Option<String>,
    #[serde(default)]
    pub owner_node: Option<String>,
    #[serde(default)]
    pub state: Option<serde_json::Value>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct ClusterFacts {
    pub cluster_id: i64,
    pub name: String,
    pub first_run_id: i64,
    pub last_run_id: i64,
    pub fqdn: Option<String>,
    pub nodes: Vec<ClusterNode>,
}

impl ClusterFacts {
    pub fn covers(&self, run_id: i64) -> bool {
        self.first_run_id <= run_id && run_id <= self.last_run_id
    }
}

#[derive(sqlx::FromRow)]
struct ClusterRow {
    cluster_id: i64,
    name: String,
    first_run_id: i64,
    last_run_id: i64,
    fqdn: Option<String>,
    nodes: String,
}

impl TryFrom<ClusterRow> for ClusterFacts {
    type Error = StoreError;
    fn try_from(r: ClusterRow) -> Result<Self, StoreError> {
        let nodes = serde_json::from_str(&r.nodes)
            .map_err(|e| StoreError::bad("cluster_facts", "nodes", e.to_string()))?;
        Ok(ClusterFacts {
            cluster_id: r.cluster_id,
            name: r.name,
            first_run_id: r.first_run_id,
            last_run_id: r.last_run_id,
            fqdn: r.fqdn,
            nodes,
        })
    }
}

/// Which node of cluster `cluster_id` owned a VM resource over
/// `first_run_id..=last_run_id` (runs in which the cluster's facts were
/// written, as for [`ClusterFacts`]): a live migration ends one row and
/// starts another.
#[derive(Debug, Clone, PartialEq)]
pub struct ClusterVmFacts {
    pub id: i64,
    pub cluster_id: i64,
    pub first_run_id: i64,
    pub last_run_id: i64,
    pub owner: VmOwner,
}

impl ClusterVmFacts {
    pub fn covers(&self, run_id: i64) -> bool {
        self.first_run_id <= run_id && run_id <= self.last_run_id
    }
}

#[derive(sqlx::FromRow)]
struct ClusterVmRow {
    id: i64,
    cluster_id: i64,
    first_run_id: i64,
    last_run_id: i64,
    vm_guid: String,
    resource: Option<String>,
    owner_node: Option<String>,
    state: Option<String>,
}

impl From<ClusterVmRow> for ClusterVmFacts {
    fn from(r: ClusterVmRow) -> Self {
        ClusterVmFacts {
            id: r.id,
            cluster_id: r.cluster_id,
            first_run_id: r.first_run_id,
            last_run_id: r.last_run_id,
            owner: VmOwner {
                // Normalised once here, as VM rows' GUIDs are.
                vm_guid: Guid::from_stored(&r.vm_guid),
                resource: r.resource,
                owner_node: r.owner_node,
                state: r.state.map(serde_json::Value::String),
            },
        }
    }
}

// Column lists and the interval condition (`$1` = lo, `$2` = hi) as macros
// so every statement is one `&'static str`.
macro_rules! select_host_facts {
    () => {
        "SELECT f.id, f.host_id, f.first_run_id, f.last_run_id, h.uuid, \
         h.serial AS identity_serial, f.name, f.fqdn, f.manufacturer, f.model, f.serial, f.os, \
         f.os_build, f.sockets, f.cores, f.logical_processors, f.memory_mb, f.processor_vendor, \
         f.processor_model, f.processors, f.cluster_name, f.hyperv_namespace, f.region \
         FROM host_facts f JOIN hosts h ON h.id = f.host_id \
         WHERE f.first_run_id <= $2 AND f.last_run_id >= $1"
    };
}

macro_rules! select_vm_facts {
    () => {
        "SELECT f.id, f.vm_id, v.guid, f.host_id, f.first_run_id, f.last_run_id, f.name, \
         f.bios_guid, f.bios_serial, f.state, f.enabled_state, f.health_state, f.vcpus, \
         f.cpu_limit_pct, f.cpu_reservation_pct, f.cpu_weight, f.memory_mb, f.dynamic_memory, \
         f.replication, f.replication_mode, f.generation, f.version, f.clustered \
         FROM vm_facts f JOIN vms v ON v.id = f.vm_id \
         WHERE f.first_run_id <= $2 AND f.last_run_id >= $1"
    };
}

macro_rules! select_cluster_facts {
    () => {
        "SELECT f.cluster_id, c.name, f.first_run_id, f.last_run_id, f.fqdn, f.nodes \
         FROM cluster_facts f JOIN clusters c ON c.id = f.cluster_id \
         WHERE f.first_run_id <= $2 AND f.last_run_id >= $1"
    };
}

impl<'a> Reader<'a> {
    /// Host facts whose interval meets `[lo, hi]`, by host then time.
    pub async fn host_facts_overlapping(
        &self,
        lo: i64,
        hi: i64,
    ) -> Result<Vec<HostFacts>, StoreError> {
        sqlx::query(concat!(
            select_host_facts!(),
            " ORDER BY f.host_id, f.first_run_id"
        ))
        .bind(lo)
        .bind(hi)
        .fetch_all(self.pool)
        .await?
        .into_iter()
        .map(host_facts)
        .collect()
    }

    /// Host facts whose interval meets `[lo, hi]`, by first run.
    pub fn host_facts_by_first_run(&self, lo: i64, hi: i64) -> RowStream<'a, HostFacts> {
        sqlx::query(concat!(
            select_host_facts!(),
            " ORDER BY f.first_run_id, f.id"
        ))
        .bind(lo)
        .bind(hi)
        .fetch(self.pool)
        .map_err(StoreError::from)
        .and_then(|r| std::future::ready(host_facts(r)))
        .boxed()
    }

    /// VM facts whose interval meets `[lo, hi]`, by VM then time.
    pub async fn vm_facts_overlapping(&self, lo: i64, hi: i64) -> Result<Vec<VmFacts>, StoreError> {
        sqlx::query(concat!(
            select_vm_facts!(),
            " ORDER BY v.guid, f.first_run_id"
        ))
        .bind(lo)
        .bind(hi)
        .fetch_all(self.pool)
        .await?
        .into_iter()
        .map(vm_facts)
        .collect()
    }

    /// VM facts (the placements: `host_id` is where the VM ran) whose
    /// interval meets `[lo, hi]`, by first run.
    pub fn vm_facts_by_first_run(&self, lo: i64, hi: i64) -> RowStream<'a, VmFacts> {
        sqlx::query(concat!(
            select_vm_facts!(),
            " ORDER BY f.first_run_id, f.id"
        ))
        .bind(lo)
        .bind(hi)
        .fetch(self.pool)
        .map_err(StoreError::from)
        .and_then(|r| std::future::ready(vm_facts(r)))
        .boxed()
    }

    /// Cluster facts whose interval meets `[lo, hi]`, by cluster then time.
    pub async fn cluster_facts_overlapping(
        &self,
        lo: i64,
        hi: i64,
    ) -> Result<Vec<ClusterFacts>, StoreError> {
        let rows: Vec<ClusterRow> = sqlx::query_as(concat!(
            select_cluster_facts!(),
            " ORDER BY c.name, f.first_run_id"
        ))
        .bind(lo)
        .bind(hi)
        .fetch_all(self.pool)
        .await?;
        rows.into_iter().map(ClusterFacts::try_from).collect()
    }

    /// Cluster facts whose interval meets `[lo, hi]`, by first run.
    pub fn cluster_facts_by_first_run(&self, lo: i64, hi: i64) -> RowStream<'a, ClusterFacts> {
        sqlx::query_as(concat!(
            select_cluster_facts!(),
            " ORDER BY f.first_run_id, f.id"
        ))
        .bind(lo)
        .bind(hi)
        .fetch(self.pool)
        .map_err(StoreError::from)
        .and_then(|r: ClusterRow| std::future::ready(ClusterFacts::try_from(r)))
        .boxed()
    }

    /// Cluster VM owners whose interval meets `[lo, hi]`, by cluster, first
    /// run, then id.
    pub async fn cluster_vm_facts_overlapping(
        &self,
        lo: i64,
        hi: i64,
    ) -> Result<Vec<ClusterVmFacts>, StoreError> {
        let rows: Vec<ClusterVmRow> = sqlx::query_as(
            "SELECT id, cluster_id, first_run_id, last_run_id, vm_guid, resource, owner_node, state
             FROM cluster_vm_facts WHERE first_run_id <= $2 AND last_run_id >= $1
             ORDER BY cluster_id, first_run_id, id",
        )
        .bind(lo)
        .bind(hi)
        .fetch_all(self.pool)
        .await?;
        Ok(rows.into_iter().map(ClusterVmFacts::from).collect())
    }
}
