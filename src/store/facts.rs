//! Fact rows as stored: the columns of `host_facts`, `vm_facts` and
//! `cluster_facts`, built from a snapshot, with their digest.

use crate::inventory::{ClusterSnapshot, HostSnapshot, VmSnapshot};
use crate::store::digest::digest;
use crate::store::error::StoreError;
use serde::Serialize;

fn encode<T: Serialize>(what: &'static str, v: &T) -> Result<String, StoreError> {
    serde_json::to_string(v).map_err(|source| StoreError::Encode { what, source })
}

fn hash<T: Serialize>(what: &'static str, v: &T) -> Result<String, StoreError> {
    digest(v).map_err(|source| StoreError::Encode { what, source })
}

/// SQLite integers are signed 64-bit.
pub fn int(v: Option<u64>) -> Option<i64> {
    v.map(|n| i64::try_from(n).unwrap_or(i64::MAX))
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct HostFacts {
    pub name: Option<String>,
    pub fqdn: Option<String>,
    pub manufacturer: Option<String>,
    pub model: Option<String>,
    pub serial: Option<String>,
    pub os: Option<String>,
    pub os_build: Option<String>,
    pub sockets: Option<u32>,
    pub cores: Option<u32>,
    pub logical_processors: Option<u32>,
    pub memory_mb: Option<i64>,
    pub processor_vendor: Option<String>,
    pub processor_model: Option<String>,
    /// JSON array, one object per socket.
    pub processors: String,
    pub cluster_name: Option<String>,
    pub hyperv_namespace: Option<String>,
}

impl HostFacts {
    pub fn from_snapshot(s: &HostSnapshot) -> Result<(Self, String), StoreError> {
        let f = HostFacts {
            name: s.name.clone(),
            fqdn: s.fqdn.clone(),
            manufacturer: s.manufacturer.clone(),
            model: s.model.clone(),
            serial: s.serial.clone(),
            os: s.os.clone(),
            os_build: s.os_build.clone(),
            sockets: s.sockets,
            cores: s.cores,
            logical_processors: s.logical_processors,
            memory_mb: int(s.memory_mb),
            processor_vendor: s.processor_vendor.clone(),
            processor_model: s.processor_model.clone(),
            processors: encode("processors", &s.processors)?,
            cluster_name: s.cluster.as_ref().map(|c| c.name.clone()),
            hyperv_namespace: s.hyperv_namespace.clone(),
        };
        let d = hash("host facts", &f)?;
        Ok((f, d))
    }
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct VmFacts {
    pub name: Option<String>,
    pub bios_guid: Option<String>,
    pub bios_serial: Option<String>,
    pub state: &'static str,
    pub enabled_state: Option<u16>,
    pub health_state: Option<u16>,
    pub vcpus: Option<u32>,
    pub cpu_limit_pct: Option<f64>,
    pub cpu_reservation_pct: Option<f64>,
    pub cpu_weight: Option<u32>,
    pub memory_mb: Option<i64>,
    pub dynamic_memory: Option<bool>,
    pub replication: &'static str,
    pub replication_mode: Option<u16>,
    pub generation: Option<u8>,
    pub version: Option<String>,
    pub clustered: bool,
}

impl VmFacts {
    pub fn from_snapshot(v: &VmSnapshot) -> Result<(Self, String), StoreError> {
        let f = VmFacts {
            name: v.name.clone(),
            bios_guid: v.bios_guid.clone(),
            bios_serial: v.bios_serial.clone(),
            state: v.state.as_str(),
            enabled_state: v.enabled_state,
            health_state: v.health_state,
            vcpus: v.vcpus,
            cpu_limit_pct: v.cpu_limit_pct,
            cpu_reservation_pct: v.cpu_reservation_pct,
            cpu_weight: v.cpu_weight,
            memory_mb: int(v.memory_mb),
            dynamic_memory: v.dynamic_memory,
            replication: v.replication.as_str(),
            replication_mode: v.replication_mode,
            generation: v.generation,
            version: v.version.clone(),
            clustered: v.clustered,
        };
        let d = hash("vm facts", &f)?;
        Ok((f, d))
    }
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ClusterFacts {
    pub fqdn: Option<String>,
    /// JSON `[{"name","state"}]`, sorted by name.
    pub nodes: String,
    /// JSON `[{"vm_guid","resource","owner_node","state"}]`, sorted.
    pub vm_owners: String,
}

impl ClusterFacts {
    pub fn from_snapshot(c: &ClusterSnapshot) -> Result<(Self, String), StoreError> {
        let mut nodes = c.nodes.clone();
        nodes.sort_by(|a, b| a.name.cmp(&b.name));
        // A resource whose VmID the host did not send links to no VM; the
        // column promises a GUID in every entry.
        let mut owners: Vec<_> = c
            .vm_owners
            .iter()
            .filter(|o| o.vm_guid.is_some())
            .cloned()
            .collect();
        owners.sort_by(|a, b| (&a.vm_guid, &a.resource).cmp(&(&b.vm_guid, &b.resource)));
        let f = ClusterFacts {
            fqdn: c.fqdn.clone(),
            nodes: encode("cluster nodes", &nodes)?,
            vm_owners: encode("cluster VM owners", &owners)?,
        };
        let d = hash("cluster facts", &f)?;
        Ok((f, d))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::inventory::{ClusterNode, VmOwner};

    #[test]
    fn cluster_json_is_sorted_and_every_owner_names_a_vm() {
        let owner = |g: Option<&str>, r: &str| VmOwner {
            vm_guid: g.map(str::to_string),
            resource: Some(r.into()),
            owner_node: Some("N1".into()),
            state: "online".into(),
        };
        let c = ClusterSnapshot {
            name: "C".into(),
            fqdn: None,
            nodes: vec![
                ClusterNode {
                    name: "N2".into(),
                    state: "up".into(),
                },
                ClusterNode {
                    name: "N1".into(),
                    state: "down".into(),
                },
            ],
            vm_owners: vec![
                owner(Some("B"), "vb"),
                owner(None, "orphan"),
                owner(Some("A"), "va"),
            ],
        };
        let (f, _) = ClusterFacts::from_snapshot(&c).unwrap();
        assert_eq!(
            f.nodes,
            r#"[{"name":"N1","state":"down"},{"name":"N2","state":"up"}]"#
        );
        let owners: serde_json::Value = serde_json::from_str(&f.vm_owners).unwrap();
        let guids: Vec<&str> = owners
            .as_array()
            .unwrap()
            .iter()
            .map(|o| o["vm_guid"].as_str().unwrap())
            .collect();
        assert_eq!(guids, ["A", "B"]);
    }
}
