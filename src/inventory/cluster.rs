//! The cluster as one node sees it: identity, nodes, VM owners.

use crate::inventory::classes::{MsclusterCluster, MsclusterNode, MsclusterResource};
use crate::inventory::error::BadValue;
use crate::inventory::model::*;
use crate::inventory::results::{ClusterResults, first};
use std::collections::BTreeMap;

pub(crate) fn build_cluster(c: &ClusterResults) -> Result<Option<ClusterSnapshot>, BadValue> {
    let ClusterResults::Present {
        cluster,
        nodes,
        vm_resources,
    } = c
    else {
        return Ok(None);
    };
    let Some(cl) = first(cluster, MsclusterCluster::from_instance)? else {
        return Ok(None);
    };
    let Some(name) = cl.name else { return Ok(None) };
    let mut node_list = BTreeMap::new();
    for i in nodes {
        let n = MsclusterNode::from_instance(i)?;
        if let Some(nm) = n.name {
            node_list.insert(nm, MsclusterNode::state_name(n.state));
        }
    }
    let mut owners = vm_resources
        .iter()
        .map(|i| {
            MsclusterResource::from_instance(i).map(|r| VmOwner {
                vm_guid: r.vm_id.as_deref().and_then(Guid::parse),
                resource: r.name,
                owner_node: r.owner_node,
                state: MsclusterResource::state_name(r.state),
            })
        })
        .collect::<Result<Vec<_>, _>>()?;
    owners.sort_by(|a, b| (&a.vm_guid, &a.resource).cmp(&(&b.vm_guid, &b.resource)));
    Ok(Some(ClusterSnapshot {
        name: name.to_ascii_uppercase(),
        fqdn: cl.fqdn.map(|f| f.to_ascii_lowercase()),
        nodes: node_list
            .into_iter()
            .map(|(name, state)| ClusterNode { name, state })
            .collect(),
        vm_owners: owners,
    }))
}

/// `MSCluster_Resource.PrivateProperties` (with `VmID`) has never been seen
/// on the wire from a real host. When a VM resource carries no `VmID`, its
/// resource group, named after the VM by default, is matched to the one VM
/// of this host with that name. Returns the VMs matched this way; the
/// caller warns that it did so.
pub(crate) fn match_by_group(
    cluster: &mut ClusterSnapshot,
    results: &ClusterResults,
    vms: &[VmSnapshot],
) -> Result<Vec<Guid>, BadValue> {
    let ClusterResults::Present { vm_resources, .. } = results else {
        return Ok(Vec::new());
    };
    // Resource name -> group name, for resources without VmID.
    let mut groups = BTreeMap::new();
    for i in vm_resources {
        let r = MsclusterResource::from_instance(i)?;
        if let (None, Some(name), Some(group)) = (&r.vm_id, r.name, r.owner_group) {
            groups.insert(name, group);
        }
    }
    let mut matched = Vec::new();
    for owner in cluster.vm_owners.iter_mut().filter(|o| o.vm_guid.is_none()) {
        let Some(group) = owner.resource.as_ref().and_then(|n| groups.get(n)) else {
            continue;
        };
        let mut same_name = vms.iter().filter(|v| {
            v.name
                .as_deref()
                .is_some_and(|n| n.eq_ignore_ascii_case(group))
        });
        // Only an unambiguous name links a resource to a VM.
        if let (Some(vm), None) = (same_name.next(), same_name.next()) {
            owner.vm_guid = Some(vm.guid.clone());
            matched.push(vm.guid.clone());
        }
    }
    if !matched.is_empty() {
        cluster
            .vm_owners
            .sort_by(|a, b| (&a.vm_guid, &a.resource).cmp(&(&b.vm_guid, &b.resource)));
    }
    Ok(matched)
}
