//! The topology of one run, shaped exactly as `hvinv.topology/1`
//! (`shared/spec/export.md`): field names and order, nulls, sorting.

use super::{ReportError, time};
use crate::store::RunId;
use crate::store::read::{ClusterFacts, Guid, HostFacts, Outcome, Reader, Run, VmFacts, VmState};
use chrono::{DateTime, Utc};
use serde::Serialize;

pub const SCHEMA: &str = "hvinv.topology/1";

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TopologyReport {
    pub schema: &'static str,
    pub run: RunRef,
    pub hosts: Vec<Host>,
    pub clusters: Vec<Cluster>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RunRef {
    pub id: i64,
    #[serde(with = "time::serde_z")]
    pub started_at: DateTime<Utc>,
    #[serde(with = "time::serde_z::option")]
    pub finished_at: Option<DateTime<Utc>>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct HostError {
    pub kind: String,
    pub message: String,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Processor {
    pub vendor: Option<String>,
    pub model: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Host {
    pub address: String,
    pub status: &'static str,
    pub error: Option<HostError>,
    pub warnings: Vec<String>,
    pub name: Option<String>,
    pub fqdn: Option<String>,
    pub uuid: Option<String>,
    pub serial: Option<String>,
    pub manufacturer: Option<String>,
    pub model: Option<String>,
    pub os: Option<String>,
    pub sockets: Option<i64>,
    pub cores: Option<i64>,
    pub logical_processors: Option<i64>,
    pub memory_mb: Option<i64>,
    pub processor: Option<Processor>,
    pub cluster: Option<String>,
    pub vms: Vec<Vm>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Vm {
    pub id: Guid,
    pub name: Option<String>,
    pub bios_guid: Option<Guid>,
    pub state: VmState,
    pub vcpus: Option<u32>,
    pub cpu_limit_pct: Option<f64>,
    pub memory_mb: Option<i64>,
    pub dynamic_memory: Option<bool>,
    pub replication: String,
    pub generation: Option<u8>,
    pub clustered: bool,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Cluster {
    pub name: String,
    pub fqdn: Option<String>,
    pub nodes: Vec<String>,
}

/// The topology of `run`, or of the latest complete run.
pub async fn build<'a>(
    db: impl Into<Reader<'a>>,
    run: Option<i64>,
) -> Result<TopologyReport, ReportError> {
    let db = db.into();
    let run = match run {
        Some(id) => db
            .run(RunId(id))
            .await?
            .ok_or(ReportError::RunNotFound(id))?,
        None => db.latest_complete_run().await?.ok_or(ReportError::NoRun)?,
    };
    let outcomes = db.outcomes_for_run(run.id).await?;
    let host_facts = db.host_facts_overlapping(run.id, run.id).await?;
    let vm_facts = db.vm_facts_overlapping(run.id, run.id).await?;
    let cluster_facts = db.cluster_facts_overlapping(run.id, run.id).await?;
    Ok(assemble(
        &run,
        outcomes,
        &host_facts,
        &vm_facts,
        &cluster_facts,
    ))
}

/// Pure assembly from rows already restricted to the run.
fn assemble(
    run: &Run,
    outcomes: Vec<Outcome>,
    host_facts: &[HostFacts],
    vm_facts: &[VmFacts],
    cluster_facts: &[ClusterFacts],
) -> TopologyReport {
    let mut hosts: Vec<Host> = outcomes
        .into_iter()
        .map(|o| host_of(run.id, o, host_facts, vm_facts))
        .collect();
    hosts.sort_by(|a, b| a.address.cmp(&b.address));

    let mut clusters: Vec<Cluster> = cluster_facts
        .iter()
        .filter(|c| c.covers(run.id))
        .map(|c| {
            let mut nodes: Vec<String> = c.nodes.iter().map(|n| n.name.clone()).collect();
            nodes.sort();
            Cluster {
                name: c.name.clone(),
                fqdn: c.fqdn.clone(),
                nodes,
            }
        })
        .collect();
    clusters.sort_by(|a, b| a.name.cmp(&b.name));

    TopologyReport {
        schema: SCHEMA,
        run: RunRef {
            id: run.id,
            started_at: run.started_at,
            finished_at: run.finished_at,
        },
        hosts,
        clusters,
    }
}

fn host_of(run_id: i64, o: Outcome, host_facts: &[HostFacts], vm_facts: &[VmFacts]) -> Host {
    let mut host = Host {
        address: o.address,
        status: if o.ok { "ok" } else { "failed" },
        error: None,
        warnings: o.warnings,
        name: None,
        fqdn: None,
        uuid: None,
        serial: None,
        manufacturer: None,
        model: None,
        os: None,
        sockets: None,
        cores: None,
        logical_processors: None,
        memory_mb: None,
        processor: None,
        cluster: None,
        vms: Vec::new(),
    };
    if !o.ok {
        host.error = Some(HostError {
            // A failed row without a kind is the store's bug, but the export
            // still needs a kind from the documented list.
            kind: o.error_kind.unwrap_or_else(|| "protocol".to_string()),
            message: o.error_message.unwrap_or_default(),
        });
        return host;
    }
    let Some(host_id) = o.host_id else {
        return host;
    };
    if let Some(f) = host_facts
        .iter()
        .find(|f| f.host_id == host_id && f.covers(run_id))
    {
        let h = &f.host;
        host.name = h.name.clone();
        host.fqdn = h.fqdn.clone();
        host.uuid = h.identity.uuid.clone();
        host.serial = h.serial.clone();
        host.manufacturer = h.manufacturer.clone();
        host.model = h.model.clone();
        host.os = h.os.clone();
        host.sockets = h.sockets.map(i64::from);
        host.cores = h.cores.map(i64::from);
        host.logical_processors = h.logical_processors.map(i64::from);
        host.memory_mb = h.memory_mb.map(|m| i64::try_from(m).unwrap_or(i64::MAX));
        host.processor = Some(Processor {
            vendor: h.processor_vendor.clone(),
            model: h.processor_model.clone(),
        });
        host.cluster = f.cluster_name.clone();
    }
    host.vms = vm_facts
        .iter()
        .filter(|f| f.host_id == host_id && f.covers(run_id))
        .map(|f| {
            let v = &f.vm;
            Vm {
                id: v.guid.clone(),
                name: v.name.clone(),
                bios_guid: v.bios_guid.clone(),
                state: v.state,
                vcpus: v.vcpus,
                cpu_limit_pct: v.cpu_limit_pct,
                memory_mb: v.memory_mb.map(|m| i64::try_from(m).unwrap_or(i64::MAX)),
                dynamic_memory: v.dynamic_memory,
                replication: v.replication.as_str().to_string(),
                generation: v.generation,
                clustered: v.clustered,
            }
        })
        .collect();
    host.vms.sort_by(|a, b| a.id.cmp(&b.id));
    host
}
