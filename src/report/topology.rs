//! The topology of one run, shaped exactly as `hvinv.topology/1`
//! (`shared/spec/export.md`): field names and order, nulls, sorting.

use super::{ReportError, time};
use crate::store::RunId;
use crate::store::read::{
    ClusterFacts, HostFacts, HostSnapshot, Outcome, Reader, Run, VmFacts, VmSnapshot,
};
use chrono::{DateTime, Utc};
use serde::Serialize;
use serde::ser::{SerializeStruct, Serializer};

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

/// One configured address in the run: its outcome, and its facts as the
/// model holds them (`HostSnapshot`, `VmSnapshot`). `Serialize` prints the
/// export's fields, in its order, from those types: no copy of their fields.
#[derive(Debug, Clone, PartialEq)]
pub struct Host {
    pub address: String,
    pub status: &'static str,
    pub error: Option<HostError>,
    pub warnings: Vec<String>,
    /// `None` when the host failed or no facts cover the run (the export's
    /// host fields are then null). Its `vms` are empty: see `vms`.
    pub facts: Option<HostSnapshot>,
    pub cluster: Option<String>,
    /// Sorted by GUID.
    pub vms: Vec<VmSnapshot>,
}

impl Host {
    /// The host's facts, all empty when there are none.
    pub fn facts_or_empty(&self) -> std::borrow::Cow<'_, HostSnapshot> {
        match &self.facts {
            Some(f) => std::borrow::Cow::Borrowed(f),
            None => std::borrow::Cow::Owned(HostSnapshot::default()),
        }
    }
}

/// The export's `processor` object: present whenever facts are.
#[derive(Serialize)]
struct ExportProcessor<'a> {
    vendor: &'a Option<String>,
    model: &'a Option<String>,
}

impl Serialize for Host {
    fn serialize<S: Serializer>(&self, ser: S) -> Result<S::Ok, S::Error> {
        let f = self.facts_or_empty();
        let mut m = ser.serialize_struct("Host", 18)?;
        m.serialize_field("address", &self.address)?;
        m.serialize_field("status", self.status)?;
        m.serialize_field("error", &self.error)?;
        m.serialize_field("warnings", &self.warnings)?;
        m.serialize_field("name", &f.name)?;
        m.serialize_field("fqdn", &f.fqdn)?;
        m.serialize_field("uuid", &f.identity.uuid)?;
        m.serialize_field("serial", &f.serial)?;
        m.serialize_field("manufacturer", &f.manufacturer)?;
        m.serialize_field("model", &f.model)?;
        m.serialize_field("os", &f.os)?;
        m.serialize_field("sockets", &f.sockets)?;
        m.serialize_field("cores", &f.cores)?;
        m.serialize_field("logical_processors", &f.logical_processors)?;
        m.serialize_field("memory_mb", &f.memory_mb)?;
        let processor = self.facts.as_ref().map(|f| ExportProcessor {
            vendor: &f.processor_vendor,
            model: &f.processor_model,
        });
        m.serialize_field("processor", &processor)?;
        m.serialize_field("cluster", &self.cluster)?;
        let vms: Vec<ExportVm<'_>> = self.vms.iter().map(ExportVm).collect();
        m.serialize_field("vms", &vms)?;
        m.end()
    }
}

/// A VM as the export prints it (`id` is the VM's GUID).
struct ExportVm<'a>(&'a VmSnapshot);

impl Serialize for ExportVm<'_> {
    fn serialize<S: Serializer>(&self, ser: S) -> Result<S::Ok, S::Error> {
        let v = self.0;
        let mut m = ser.serialize_struct("Vm", 11)?;
        m.serialize_field("id", &v.guid)?;
        m.serialize_field("name", &v.name)?;
        m.serialize_field("bios_guid", &v.bios_guid)?;
        m.serialize_field("state", &v.state)?;
        m.serialize_field("vcpus", &v.vcpus)?;
        m.serialize_field("cpu_limit_pct", &v.cpu_limit_pct)?;
        m.serialize_field("memory_mb", &v.memory_mb)?;
        m.serialize_field("dynamic_memory", &v.dynamic_memory)?;
        m.serialize_field("replication", &v.replication)?;
        m.serialize_field("generation", &v.generation)?;
        m.serialize_field("clustered", &v.clustered)?;
        m.end()
    }
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
        facts: None,
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
        host.facts = Some(f.host.clone());
        host.cluster = f.cluster_name.clone();
    }
    host.vms = vm_facts
        .iter()
        .filter(|f| f.host_id == host_id && f.covers(run_id))
        .map(|f| f.vm.clone())
        .collect();
    host.vms.sort_by(|a, b| a.guid.cmp(&b.guid));
    host
}
