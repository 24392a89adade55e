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
