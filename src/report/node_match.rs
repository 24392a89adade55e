//! The one rule for "is this cluster node a host we collected?", shared by
//! `report pvu` (its `cluster_node` gaps) and `report coverage` (nodes
//! never collected). MSCluster names nodes by NetBIOS short name; a host is
//! known by its computer name, its FQDN and the address it was reached at,
//! so each is compared by its first DNS label, ignoring ASCII case.

use std::collections::BTreeSet;

use crate::inventory::HostSnapshot;

/// The form names are compared in: first DNS label, lower case.
pub fn key(name: &str) -> String {
    name.split('.').next().unwrap_or(name).to_ascii_lowercase()
}

/// The names a host's facts give it: its computer name and FQDN (it is
/// also known by the address it answered on).
pub fn host_names(host: &HostSnapshot) -> impl Iterator<Item = &str> {
    [host.name.as_deref(), host.fqdn.as_deref()]
        .into_iter()
        .flatten()
}

/// The names of the hosts collected, each as its `key`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CollectedNames(BTreeSet<String>);

impl CollectedNames {
    /// One name (computer name, FQDN or address) a collected host goes by.
    pub fn add(&mut self, name: &str) {
        self.0.insert(key(name));
    }

    /// Whether the cluster node `node` is one of the collected hosts.
    pub fn has_node(&self, node: &str) -> bool {
        self.0.contains(&key(node))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_node_matches_name_fqdn_label_or_address_label_in_any_case() {
        let mut names = CollectedNames::default();
        let host = HostSnapshot {
            name: Some("HV01".into()),
            fqdn: Some("hv01-mgmt.contoso.com".into()),
            ..HostSnapshot::default()
        };
        host_names(&host).for_each(|n| names.add(n));
        names.add("hv01-ip.contoso.com");
        for node in ["hv01", "HV01", "HV01-MGMT", "Hv01-Ip"] {
            assert!(names.has_node(node), "{node}");
        }
        // Only the first label counts: "contoso" is no host's name.
        assert!(!names.has_node("CONTOSO"));
        assert!(!names.has_node("HV02"));
    }
}
