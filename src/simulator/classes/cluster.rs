//! `root/MSCluster`: the cluster, its nodes, and its resources (one
//! `Virtual Machine` resource per clustered VM, owned by the node running it).

use super::value::{CimValue as V, Embedded, Row, hash};
use super::{ClassDef, p};
use crate::simulator::estate::{Estate, SimCluster, VmState, WindowsRelease::*};

pub static CLUSTER: ClassDef = ClassDef {
    name: "MSCluster_Cluster",
    props: &[
        p("Caption", W2008R2),
        p("Description", W2008R2),
        p("Domain", W2012),
        p("Fqdn", W2012),
        p("Id", W2012),
        p("Name", W2008R2),
        p("QuorumType", W2008R2),
        p("Status", W2008R2),
    ],
};

pub fn cluster(c: &SimCluster) -> Vec<Row> {
    let domain = c.fqdn.split_once('.').map(|(_, d)| d.to_string());
    vec![
        Row::new()
            .set("Caption", V::s(&c.name))
            .set("Domain", V::opt_s(domain))
            .set("Fqdn", V::s(&c.fqdn))
            .set("Id", V::s(guid_from(&c.name)))
            .set("Name", V::s(&c.name))
            .set("QuorumType", V::s("Node and File Share Majority"))
            .set("Status", V::s("OK")),
    ]
}

pub static NODE: ClassDef = ClassDef {
    name: "MSCluster_Node",
    props: &[
        p("Caption", W2008R2),
        p("Id", W2008R2),
        p("Name", W2008R2),
        p("NodeHighestVersion", W2008R2),
        p("NodeWeight", W2012),
        p("State", W2008R2),
        p("Status", W2008R2),
    ],
};

pub fn nodes(c: &SimCluster) -> Vec<Row> {
    c.nodes
        .iter()
        .enumerate()
        .map(|(i, n)| {
            Row::new()
                .set("Caption", V::s(n))
                .set("Id", V::s((i + 1).to_string()))
                .set("Name", V::s(n))
                .set("NodeHighestVersion", V::UInt(720_904))
                .set("NodeWeight", V::UInt(1))
                .set("State", V::UInt(0))
                .set("Status", V::s("OK"))
        })
        .collect()
}

pub static RESOURCE: ClassDef = ClassDef {
    name: "MSCluster_Resource",
    props: &[
        p("Caption", W2008R2),
        p("Characteristics", W2008R2),
        p("Description", W2008R2),
        p("Flags", W2008R2),
        p("Id", W2008R2),
        p("IsAlivePollInterval", W2008R2),
        p("Name", W2008R2),
        p("OwnerGroup", W2008R2),
        p("OwnerNode", W2008R2),
        p("PrivateProperties", W2008R2),
        p("ResourceClass", W2008R2),
        p("State", W2008R2),
        p("Status", W2008R2),
        p("Type", W2008R2),
    ],
};

fn guid_from(s: &str) -> String {
    let a = hash(s);
    let b = hash(&format!("{s}#"));
    format!(
        "{:08x}-{:04x}-{:04x}-{:04x}-{:012x}",
        a >> 32,
        (a >> 16) & 0xffff,
        a & 0xffff,
        b >> 48,
        b & 0xffff_ffff_ffff
    )
}

fn resource(
    name: String,
    ty: &str,
    owner_node: &str,
    group: &str,
    state: u64,
    flags: u64,
    private: Embedded,
) -> Row {
    Row::new()
        .set("Caption", V::s(&name))
        .set("Characteristics", V::UInt(0))
        .set("Flags", V::UInt(flags))
        .set("Id", V::s(guid_from(&name)))
        .set("IsAlivePollInterval", V::UInt(4_294_967_295))
        .set("Name", V::s(name))
        .set("OwnerGroup", V::s(group))
        .set("OwnerNode", V::s(owner_node))
        .set("PrivateProperties", V::Embedded(private))
        .set("ResourceClass", V::UInt(1))
        .set("State", V::UInt(state))
        .set("Status", V::s("OK"))
        .set("Type", V::s(ty))
}

pub fn resources(c: &SimCluster, estate: &Estate) -> Vec<Row> {
    let core_owner = c.nodes.first().cloned().unwrap_or_default();
    let short = c.fqdn.split('.').next().unwrap_or(&c.name).to_string();
    let mut rows = vec![
        resource(
            "Cluster Name".to_string(),
            "Network Name",
            &core_owner,
            "Cluster Group",
            2,
            1,
            Embedded {
                class: "MSCluster_Property",
                props: vec![
                    ("DnsName", V::s(&short)),
                    ("Name", V::s(c.name.to_uppercase())),
                    ("RegisterAllProvidersIP", V::UInt(0)),
                ],
            },
        ),
        resource(
            "Cluster IP Address".to_string(),
            "IP Address",
            &core_owner,
            "Cluster Group",
            2,
            1,
            Embedded {
                class: "MSCluster_Property",
                props: vec![
                    ("Address", V::s("10.0.0.10")),
                    ("SubnetMask", V::s("255.255.255.0")),
                ],
            },
        ),
    ];
    for (guid, vm_name, owner) in c.vm_owners(estate) {
        let running = estate
            .host(&owner)
            .and_then(|h| h.vms.iter().find(|v| v.guid == guid))
            .is_some_and(|v| v.state == VmState::Running);
        let vm_private = Embedded {
            class: "MSCluster_Property",
            props: vec![
                ("OfflineAction", V::UInt(1)),
                ("ShutdownAction", V::UInt(0)),
                ("VmID", V::s(guid.clone())),
            ],
        };
        rows.push(resource(
            format!("Virtual Machine {vm_name}"),
            "Virtual Machine",
            &owner,
            &vm_name,
            if running { 2 } else { 3 },
            0,
            vm_private,
        ));
        // The configuration resource carries the same VmID: a collector
        // that does not filter on Type counts the VM twice.
        rows.push(resource(
            format!("Virtual Machine Configuration {vm_name}"),
            "Virtual Machine Configuration",
            &owner,
            &vm_name,
            2,
            0,
            Embedded {
                class: "MSCluster_Property",
                props: vec![
                    ("ConfigStoreRootPath", V::s("C:\\ClusterStorage\\Volume1")),
                    ("VmID", V::s(guid)),
                ],
            },
        ));
    }
    rows
}
