//! Reading the fact intervals: `host_facts`, `vm_facts`, `cluster_facts`.
//!
//! `*_overlapping(lo, hi)` loads every row whose interval meets `[lo, hi]`;
//! `*_by_first_run(lo, hi)` streams the same rows ordered by first run.

use futures_util::{StreamExt, TryStreamExt};
use serde::Deserialize;

use super::{Reader, RowStream};
use crate::inventory::{Guid, VmState};
use crate::store::StoreError;

/// Host facts valid over `first_run_id..=last_run_id` (only for the runs in
/// that range where the host's outcome is OK). Counts keep the model's types
/// (`HostSnapshot`); memory is stored clamped to SQLite's signed 64 bits.
#[derive(Debug, Clone, PartialEq, sqlx::FromRow)]
pub struct HostFacts {
    pub id: i64,
    pub host_id: i64,
    pub first_run_id: i64,
    pub last_run_id: i64,
    pub uuid: Option<String>,
    pub name: Option<String>,
    pub fqdn: Option<String>,
    pub manufacturer: Option<String>,
    pub model: Option<String>,
    pub serial: Option<String>,
    pub os: Option<String>,
    pub sockets: Option<u32>,
    pub cores: Option<u32>,
    pub logical_processors: Option<u32>,
    pub memory_mb: Option<i64>,
    pub processor_vendor: Option<String>,
    pub processor_model: Option<String>,
    pub cluster_name: Option<String>,
    /// Licence region (config `region`, `"default"` when none was given).
    pub region: String,
}

impl HostFacts {
    pub fn covers(&self, run_id: i64) -> bool {
        self.first_run_id <= run_id && run_id <= self.last_run_id
    }
}

/// A VM's facts (and host) over `first_run_id..=last_run_id`, in the
/// model's types (`VmSnapshot`).
#[derive(Debug, Clone, PartialEq)]
pub struct VmFacts {
    pub id: i64,
    pub vm_id: i64,
    pub guid: Guid,
    pub host_id: i64,
    pub first_run_id: i64,
    pub last_run_id: i64,
    pub name: Option<String>,
    pub bios_guid: Option<Guid>,
    pub state: VmState,
    pub vcpus: Option<u32>,
    pub cpu_limit_pct: Option<f64>,
    pub memory_mb: Option<i64>,
    pub dynamic_memory: Option<bool>,
    /// As stored (`Replication::as_str`).
    pub replication: String,
    pub generation: Option<u8>,
    pub clustered: bool,
}

#[derive(sqlx::FromRow)]
struct VmRow {
    id: i64,
    vm_id: i64,
    guid: String,
    host_id: i64,
    first_run_id: i64,
    last_run_id: i64,
    name: Option<String>,
    bios_guid: Option<String>,
    state: String,
    vcpus: Option<u32>,
    cpu_limit_pct: Option<f64>,
    memory_mb: Option<i64>,
    dynamic_memory: Option<bool>,
    replication: String,
    generation: Option<u8>,
    clustered: bool,
}

impl TryFrom<VmRow> for VmFacts {
    type Error = StoreError;
    fn try_from(r: VmRow) -> Result<Self, StoreError> {
        Ok(VmFacts {
            id: r.id,
            vm_id: r.vm_id,
            // Normalised once here so per-run comparisons need no allocation.
            guid: Guid::from_stored(&r.guid),
            host_id: r.host_id,
            first_run_id: r.first_run_id,
            last_run_id: r.last_run_id,
            name: r.name,
            bios_guid: r.bios_guid.as_deref().map(Guid::from_stored),
            state: VmState::parse(&r.state)
                .ok_or_else(|| StoreError::bad("vm_facts", "state", format!("{:?}", r.state)))?,
            vcpus: r.vcpus,
            cpu_limit_pct: r.cpu_limit_pct,
            memory_mb: r.memory_mb,
            dynamic_memory: r.dynamic_memory,
            replication: r.replication,
            generation: r.generation,
            clustered: r.clustered,
        })
    }
}

impl VmFacts {
    pub fn covers(&self, run_id: i64) -> bool {
        self.first_run_id <= run_id && run_id <= self.last_run_id
    }
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
    pub vm_owners: Vec<VmOwner>,
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
    vm_owners: String,
}

impl TryFrom<ClusterRow> for ClusterFacts {
    type Error = StoreError;
    fn try_from(r: ClusterRow) -> Result<Self, StoreError> {
        let nodes = serde_json::from_str(&r.nodes)
            .map_err(|e| StoreError::bad("cluster_facts", "nodes", e.to_string()))?;
        let vm_owners = serde_json::from_str(&r.vm_owners)
            .map_err(|e| StoreError::bad("cluster_facts", "vm_owners", e.to_string()))?;
        Ok(ClusterFacts {
            cluster_id: r.cluster_id,
            name: r.name,
            first_run_id: r.first_run_id,
            last_run_id: r.last_run_id,
            fqdn: r.fqdn,
            nodes,
            vm_owners,
        })
    }
}

// Column lists and the interval condition (`$1` = lo, `$2` = hi) as macros
// so every statement is one `&'static str`.
macro_rules! select_host_facts {
    () => {
        "SELECT f.id, f.host_id, f.first_run_id, f.last_run_id, h.uuid, f.name, f.fqdn, \
         f.manufacturer, f.model, f.serial, f.os, f.sockets, f.cores, f.logical_processors, \
         f.memory_mb, f.processor_vendor, f.processor_model, f.cluster_name, f.region \
         FROM host_facts f JOIN hosts h ON h.id = f.host_id \
         WHERE f.first_run_id <= $2 AND f.last_run_id >= $1"
    };
}

macro_rules! select_vm_facts {
    () => {
        "SELECT f.id, f.vm_id, v.guid, f.host_id, f.first_run_id, f.last_run_id, f.name, \
         f.bios_guid, f.state, f.vcpus, f.cpu_limit_pct, f.memory_mb, f.dynamic_memory, \
         f.replication, f.generation, f.clustered \
         FROM vm_facts f JOIN vms v ON v.id = f.vm_id \
         WHERE f.first_run_id <= $2 AND f.last_run_id >= $1"
    };
}

macro_rules! select_cluster_facts {
    () => {
        "SELECT f.cluster_id, c.name, f.first_run_id, f.last_run_id, f.fqdn, f.nodes, \
         f.vm_owners FROM cluster_facts f JOIN clusters c ON c.id = f.cluster_id \
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
        Ok(sqlx::query_as(concat!(
            select_host_facts!(),
            " ORDER BY f.host_id, f.first_run_id"
        ))
        .bind(lo)
        .bind(hi)
        .fetch_all(self.pool)
        .await?)
    }

    /// Host facts whose interval meets `[lo, hi]`, by first run.
    pub fn host_facts_by_first_run(&self, lo: i64, hi: i64) -> RowStream<'a, HostFacts> {
        sqlx::query_as(concat!(
            select_host_facts!(),
            " ORDER BY f.first_run_id, f.id"
        ))
        .bind(lo)
        .bind(hi)
        .fetch(self.pool)
        .map_err(StoreError::from)
        .boxed()
    }

    /// VM facts whose interval meets `[lo, hi]`, by VM then time.
    pub async fn vm_facts_overlapping(&self, lo: i64, hi: i64) -> Result<Vec<VmFacts>, StoreError> {
        let rows: Vec<VmRow> = sqlx::query_as(concat!(
            select_vm_facts!(),
            " ORDER BY v.guid, f.first_run_id"
        ))
        .bind(lo)
        .bind(hi)
        .fetch_all(self.pool)
        .await?;
        rows.into_iter().map(VmFacts::try_from).collect()
    }

    /// VM facts (the placements: `host_id` is where the VM ran) whose
    /// interval meets `[lo, hi]`, by first run.
    pub fn vm_facts_by_first_run(&self, lo: i64, hi: i64) -> RowStream<'a, VmFacts> {
        sqlx::query_as(concat!(
            select_vm_facts!(),
            " ORDER BY f.first_run_id, f.id"
        ))
        .bind(lo)
        .bind(hi)
        .fetch(self.pool)
        .map_err(StoreError::from)
        .and_then(|r: VmRow| std::future::ready(VmFacts::try_from(r)))
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
}
