//! Fact rows as stored: the columns of `host_facts`, `vm_facts`,
//! `cluster_facts` and `cluster_vm_facts`, read from a snapshot (the model's
//! own fields, not a copy of them), with the digest of host and VM rows.

use crate::inventory::{ClusterSnapshot, HostSnapshot, VmOwner, VmSnapshot};
use crate::store::digest::digest;
use crate::store::error::StoreError;
use serde::Serialize;
use serde::ser::{SerializeStruct, Serializer};

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

/// The columns of a `host_facts` row, in schema order, read from the model
/// as it is: the form both the digest and the INSERT take. The digest is the
/// hash of exactly this JSON (`tests/store_digest.rs` pins it): reordering or
/// retyping a column here would re-open every host's interval.
pub struct HostRow<'a> {
    s: &'a HostSnapshot,
    /// JSON array, one object per socket.
    processors: String,
}

impl<'a> HostRow<'a> {
    /// The row and its digest.
    pub fn of(s: &'a HostSnapshot) -> Result<(Self, String), StoreError> {
        let row = HostRow {
            s,
            processors: encode("processors", &s.processors)?,
        };
        let d = hash("host facts", &row)?;
        Ok((row, d))
    }
}

impl Serialize for HostRow<'_> {
    fn serialize<S: Serializer>(&self, ser: S) -> Result<S::Ok, S::Error> {
        let s = self.s;
        let mut r = ser.serialize_struct("HostFacts", 16)?;
        r.serialize_field("name", &s.name)?;
        r.serialize_field("fqdn", &s.fqdn)?;
        r.serialize_field("manufacturer", &s.manufacturer)?;
        r.serialize_field("model", &s.model)?;
        r.serialize_field("serial", &s.serial)?;
        r.serialize_field("os", &s.os)?;
        r.serialize_field("os_build", &s.os_build)?;
        r.serialize_field("sockets", &s.sockets)?;
        r.serialize_field("cores", &s.cores)?;
        r.serialize_field("logical_processors", &s.logical_processors)?;
        r.serialize_field("memory_mb", &int(s.memory_mb))?;
        r.serialize_field("processor_vendor", &s.processor_vendor)?;
        r.serialize_field("processor_model", &s.processor_model)?;
        r.serialize_field("processors", &self.processors)?;
        r.serialize_field("cluster_name", &s.cluster.as_ref().map(|c| &c.name))?;
        r.serialize_field("hyperv_namespace", &s.hyperv_namespace)?;
        // Only a region other than the default enters the JSON (and so the
        // digest): every host's digest from before regions stays the same.
        match region_of(s) {
            Some(region) => r.serialize_field("region", region)?,
            None => r.skip_field("region")?,
        }
        r.end()
    }
}

/// The host's region when it is not the default one (`"default"`).
pub fn region_of(s: &HostSnapshot) -> Option<&str> {
    s.region
        .as_deref()
        .filter(|r| *r != crate::store::DEFAULT_REGION)
}

/// The columns of a `vm_facts` row (all but the keys), in schema order, read
/// from the model: the form both the digest and the set-based INSERT take
/// (pinned like `HostRow`).
pub struct VmRow<'a>(&'a VmSnapshot);

impl<'a> VmRow<'a> {
    /// The row and its digest.
    pub fn of(v: &'a VmSnapshot) -> Result<(Self, String), StoreError> {
        let row = VmRow(v);
        let d = hash("vm facts", &row)?;
        Ok((row, d))
    }
}

impl Serialize for VmRow<'_> {
    fn serialize<S: Serializer>(&self, ser: S) -> Result<S::Ok, S::Error> {
        let v = self.0;
        let mut r = ser.serialize_struct("VmFacts", 17)?;
        r.serialize_field("name", &v.name)?;
        r.serialize_field("bios_guid", &v.bios_guid)?;
        r.serialize_field("bios_serial", &v.bios_serial)?;
        r.serialize_field("state", &v.state)?;
        r.serialize_field("enabled_state", &v.enabled_state)?;
        r.serialize_field("health_state", &v.health_state)?;
        r.serialize_field("vcpus", &v.vcpus)?;
        r.serialize_field("cpu_limit_pct", &v.cpu_limit_pct)?;
        r.serialize_field("cpu_reservation_pct", &v.cpu_reservation_pct)?;
        r.serialize_field("cpu_weight", &v.cpu_weight)?;
        r.serialize_field("memory_mb", &int(v.memory_mb))?;
        r.serialize_field("dynamic_memory", &v.dynamic_memory)?;
        r.serialize_field("replication", &v.replication)?;
        r.serialize_field("replication_mode", &v.replication_mode)?;
        r.serialize_field("generation", &v.generation)?;
        r.serialize_field("version", &v.version)?;
        r.serialize_field("clustered", &v.clustered)?;
        r.end()
    }
}

/// A cluster as stored: the columns of its `cluster_facts` row, and its VM
/// owners, one `cluster_vm_facts` row each. Unchanged rows are found by
/// comparing these columns (no digest: see the version 6 migration).
#[derive(Debug, Clone, PartialEq)]
pub struct ClusterFacts<'a> {
    pub fqdn: Option<&'a str>,
    /// JSON `[{"name","state"}]`, sorted by name: one canonical text, so
    /// equal nodes compare equal as stored.
    pub nodes: String,
    /// Every owner that names its VM, sorted by (vm_guid, resource).
    pub owners: Vec<&'a VmOwner>,
}

impl<'a> ClusterFacts<'a> {
    pub fn from_snapshot(c: &'a ClusterSnapshot) -> Result<Self, StoreError> {
        let mut nodes = c.nodes.clone();
        nodes.sort_by(|a, b| a.name.cmp(&b.name));
        // A resource whose VmID the host did not send links to no VM; the
        // table promises a GUID in every row.
        let mut owners: Vec<&VmOwner> =
            c.vm_owners.iter().filter(|o| o.vm_guid.is_some()).collect();
        owners.sort_by(|a, b| (&a.vm_guid, &a.resource).cmp(&(&b.vm_guid, &b.resource)));
        Ok(ClusterFacts {
            fqdn: c.fqdn.as_deref(),
            nodes: encode("cluster nodes", &nodes)?,
            owners,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::inventory::{ClusterNode, Guid};

    #[test]
    fn cluster_json_is_sorted_and_every_owner_names_a_vm() {
        let owner = |g: Option<&str>, r: &str| VmOwner {
            vm_guid: g.map(Guid::from),
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
        let f = ClusterFacts::from_snapshot(&c).unwrap();
        assert_eq!(
            f.nodes,
            r#"[{"name":"N1","state":"down"},{"name":"N2","state":"up"}]"#
        );
        let guids: Vec<&str> = f
            .owners
            .iter()
            .map(|o| o.vm_guid.as_deref().unwrap())
            .collect();
        assert_eq!(guids, ["A", "B"]);
    }
}
