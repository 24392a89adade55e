//! Cluster coverage: a cluster node that owns clustered VMs but was not
//! collected leaves those VMs uncounted ("incomplete virtualization" in the
//! licence tool's words).

use crate::inventory::HostSnapshot;
use std::collections::{BTreeMap, BTreeSet};

#[derive(Debug, Default)]
pub struct ClusterCoverage {
    /// Upper-case NetBIOS names of the hosts collected.
    collected: BTreeSet<String>,
    /// cluster name -> owner node (upper case) -> clustered VMs it owns.
    owners: BTreeMap<String, BTreeMap<String, usize>>,
}

impl ClusterCoverage {
    /// Notes a collected host and the clustered-VM owners it reported.
    pub fn add(&mut self, snapshot: &HostSnapshot) {
        if let Some(name) = &snapshot.name {
            self.add_collected(name);
        }
        if let Some(c) = &snapshot.cluster {
            for node in c.vm_owners.iter().filter_map(|o| o.owner_node.as_deref()) {
                self.add_owned_vm(&c.name, node);
            }
        }
    }

    /// A host that was collected, by NetBIOS name.
    pub fn add_collected(&mut self, name: &str) {
        self.collected.insert(name.to_ascii_uppercase());
    }

    /// One clustered VM of `cluster`, owned by `node`.
    pub fn add_owned_vm(&mut self, cluster: &str, node: &str) {
        *self
            .owners
            .entry(cluster.to_string())
            .or_default()
            .entry(node.to_ascii_uppercase())
            .or_default() += 1;
    }

    /// One line per node that owns clustered VMs but was not collected,
    /// sorted by cluster then node.
    pub fn uncollected_owners(&self) -> Vec<String> {
        let mut lines = Vec::new();
        for (cluster, nodes) in &self.owners {
            for (node, count) in nodes {
                if !self.collected.contains(node) {
                    lines.push(format!(
                        "cluster {cluster}: node {node} owns {count} clustered VM(s) but was not collected (add it to the configuration)"
                    ));
                }
            }
        }
        lines
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_owner_node_never_collected_is_reported_with_its_vm_count() {
        let mut c = ClusterCoverage::default();
        c.add_collected("n1");
        for owner in ["N1", "n2", "N2"] {
            c.add_owned_vm("CLU", owner);
        }
        assert_eq!(
            c.uncollected_owners(),
            vec![
                "cluster CLU: node N2 owns 2 clustered VM(s) but was not collected (add it to the configuration)"
                    .to_string()
            ]
        );
        c.add_collected("N2");
        assert!(c.uncollected_owners().is_empty());
    }
}
