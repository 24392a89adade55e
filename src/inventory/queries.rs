//! Every select hvinv sends, and nothing else: the README lists this table.
//!
//! `Msvm_*` and `MSCluster_*` use `SELECT *` because WMI refuses a whole
//! select naming a property the host's release lacks, and those classes grew
//! release by release. `Win32_*` selects name their properties; each has a
//! `SELECT *` twin sent only when a host refuses the list. Nothing filters
//! on `Caption` or `Description`: they are localized.

/// One fixed WQL select.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Query {
    /// Stable identifier (`<namespace short name>.<what>`, `.all` for a fallback).
    pub id: &'static str,
    /// WMI namespace, `/`-separated.
    pub namespace: &'static str,
    pub wql: &'static str,
    pub purpose: &'static str,
}

pub const ROOT: &str = "root";
pub const CIMV2: &str = "root/cimv2";
pub const VIRT_V2: &str = "root/virtualization/v2";
pub const VIRT_V1: &str = "root/virtualization";
pub const MSCLUSTER: &str = "root/MSCluster";

macro_rules! q {
    ($id:literal, $ns:expr, $wql:literal, $purpose:literal) => {
        Query {
            id: $id,
            namespace: $ns,
            wql: $wql,
            purpose: $purpose,
        }
    };
}

pub const COMPUTER_SYSTEM: Query = q!(
    "cimv2.computer_system",
    CIMV2,
    "SELECT Name, DNSHostName, Domain, PartOfDomain, Manufacturer, Model, NumberOfProcessors, NumberOfLogicalProcessors, TotalPhysicalMemory FROM Win32_ComputerSystem",
    "host name, domain, sockets, logical CPUs, memory, vendor, model"
);
pub const COMPUTER_SYSTEM_ALL: Query = q!(
    "cimv2.computer_system.all",
    CIMV2,
    "SELECT * FROM Win32_ComputerSystem",
    "fallback when the host refuses the property list"
);
pub const PRODUCT: Query = q!(
    "cimv2.computer_system_product",
    CIMV2,
    "SELECT UUID, IdentifyingNumber, Vendor FROM Win32_ComputerSystemProduct",
    "host UUID and serial"
);
pub const PRODUCT_ALL: Query = q!(
    "cimv2.computer_system_product.all",
    CIMV2,
    "SELECT * FROM Win32_ComputerSystemProduct",
    "fallback when the host refuses the property list"
);
pub const BIOS: Query = q!(
    "cimv2.bios",
    CIMV2,
    "SELECT SerialNumber FROM Win32_BIOS",
    "BIOS serial (fallback host key)"
);
pub const BIOS_ALL: Query = q!(
    "cimv2.bios.all",
    CIMV2,
    "SELECT * FROM Win32_BIOS",
    "fallback when the host refuses the property list"
);
pub const PROCESSOR: Query = q!(
    "cimv2.processor",
    CIMV2,
    "SELECT DeviceID, Name, Manufacturer, NumberOfCores, NumberOfLogicalProcessors, MaxClockSpeed, SocketDesignation FROM Win32_Processor",
    "cores and processor model, one row per socket"
);
pub const PROCESSOR_ALL: Query = q!(
    "cimv2.processor.all",
    CIMV2,
    "SELECT * FROM Win32_Processor",
    "fallback when the host refuses the property list"
);
pub const OPERATING_SYSTEM: Query = q!(
    "cimv2.operating_system",
    CIMV2,
    "SELECT Caption, Version, BuildNumber FROM Win32_OperatingSystem",
    "operating system"
);
pub const OPERATING_SYSTEM_ALL: Query = q!(
    "cimv2.operating_system.all",
    CIMV2,
    "SELECT * FROM Win32_OperatingSystem",
    "fallback when the host refuses the property list"
);
pub const VMMS_SERVICE: Query = q!(
    "cimv2.service_vmms",
    CIMV2,
    "SELECT Name, State, StartMode FROM Win32_Service WHERE Name='vmms'",
    "Hyper-V Virtual Machine Management service running"
);
pub const VMMS_SERVICE_ALL: Query = q!(
    "cimv2.service_vmms.all",
    CIMV2,
    "SELECT * FROM Win32_Service WHERE Name='vmms'",
    "fallback when the host refuses the property list"
);

pub const ROOT_NAMESPACES: Query = q!(
    "root.namespaces",
    ROOT,
    "SELECT Name FROM __NAMESPACE",
    "which providers the host has: `virtualization` (Hyper-V), `MSCluster` (Failover Clustering)"
);
pub const VIRT_NAMESPACES: Query = q!(
    "virtualization.namespaces",
    VIRT_V1,
    "SELECT Name FROM __NAMESPACE",
    "sent only when the v2 select fails: `v2` listed means a real error, else the 2008 R2 provider"
);

pub const V2_COMPUTER_SYSTEM: Query = q!(
    "v2.computer_system",
    VIRT_V2,
    "SELECT * FROM Msvm_ComputerSystem",
    "the host row and the VMs, with their state"
);
pub const V2_SYSTEM_SETTINGS: Query = q!(
    "v2.system_settings",
    VIRT_V2,
    "SELECT * FROM Msvm_VirtualSystemSettingData WHERE VirtualSystemType='Microsoft:Hyper-V:System:Realized'",
    "VM configuration (current, not checkpoints): BIOS GUID, generation, version"
);
pub const V2_PROCESSOR_SETTINGS: Query = q!(
    "v2.processor_settings",
    VIRT_V2,
    "SELECT * FROM Msvm_ProcessorSettingData",
    "vCPUs, limit, reservation, weight"
);
pub const V2_MEMORY_SETTINGS: Query = q!(
    "v2.memory_settings",
    VIRT_V2,
    "SELECT * FROM Msvm_MemorySettingData",
    "memory, dynamic memory"
);

pub const V1_COMPUTER_SYSTEM: Query = q!(
    "v1.computer_system",
    VIRT_V1,
    "SELECT * FROM Msvm_ComputerSystem",
    "Windows Server 2008/2008 R2: the host row and the VMs"
);
pub const V1_SYSTEM_SETTINGS: Query = q!(
    "v1.system_settings",
    VIRT_V1,
    "SELECT * FROM Msvm_VirtualSystemSettingData WHERE SettingType=3",
    "Windows Server 2008/2008 R2: current VM configuration (5 would be a snapshot)"
);
pub const V1_PROCESSOR_SETTINGS: Query = q!(
    "v1.processor_settings",
    VIRT_V1,
    "SELECT * FROM Msvm_ProcessorSettingData",
    "Windows Server 2008/2008 R2: vCPUs and limits"
);
pub const V1_MEMORY_SETTINGS: Query = q!(
    "v1.memory_settings",
    VIRT_V1,
    "SELECT * FROM Msvm_MemorySettingData",
    "Windows Server 2008/2008 R2: memory"
);

pub const CLUSTER: Query = q!(
    "cluster.cluster",
    MSCLUSTER,
    "SELECT * FROM MSCluster_Cluster",
    "cluster identity (name, FQDN)"
);
pub const CLUSTER_NODES: Query = q!(
    "cluster.nodes",
    MSCLUSTER,
    "SELECT * FROM MSCluster_Node",
    "cluster nodes and their state"
);
pub const CLUSTER_VM_RESOURCES: Query = q!(
    "cluster.vm_resources",
    MSCLUSTER,
    "SELECT * FROM MSCluster_Resource WHERE Type='Virtual Machine'",
    "clustered VMs (PrivateProperties.VmID) and their owner node"
);
pub const CLUSTER_NETWORK_NAME: Query = q!(
    "cluster.network_name",
    MSCLUSTER,
    "SELECT * FROM MSCluster_Resource WHERE Type='Network Name' AND Flags=1",
    "cluster network name (used by `check`)"
);

/// The whole set, in the order `collect` sends them. Fallbacks, the v1
/// namespace and the cluster selects are sent only when the host calls for
/// them (the namespace lists say which providers exist).
pub const QUERIES: &[Query] = &[
    COMPUTER_SYSTEM,
    COMPUTER_SYSTEM_ALL,
    PRODUCT,
    PRODUCT_ALL,
    BIOS,
    BIOS_ALL,
    PROCESSOR,
    PROCESSOR_ALL,
    OPERATING_SYSTEM,
    OPERATING_SYSTEM_ALL,
    VMMS_SERVICE,
    VMMS_SERVICE_ALL,
    ROOT_NAMESPACES,
    VIRT_NAMESPACES,
    V2_COMPUTER_SYSTEM,
    V2_SYSTEM_SETTINGS,
    V2_PROCESSOR_SETTINGS,
    V2_MEMORY_SETTINGS,
    V1_COMPUTER_SYSTEM,
    V1_SYSTEM_SETTINGS,
    V1_PROCESSOR_SETTINGS,
    V1_MEMORY_SETTINGS,
    CLUSTER,
    CLUSTER_NODES,
    CLUSTER_VM_RESOURCES,
    CLUSTER_NETWORK_NAME,
];

/// The query with this id.
pub fn by_id(id: &str) -> Option<&'static Query> {
    QUERIES.iter().find(|q| q.id == id)
}

/// The query list as a Markdown table (namespace, select, purpose), for
/// the README's `queries:begin`/`queries:end` block.
pub fn markdown_table() -> String {
    let mut out = String::from("| namespace | select | purpose |\n| --- | --- | --- |\n");
    for q in QUERIES {
        out.push_str(&format!(
            "| `{}` | `{}` | {} |\n",
            q.namespace,
            q.wql,
            q.purpose.replace('|', "\\|")
        ));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn markdown_table_has_one_row_per_query() {
        let t = markdown_table();
        assert_eq!(t.lines().count(), QUERIES.len() + 2);
        assert!(t.contains("| `root/virtualization` | `SELECT * FROM Msvm_VirtualSystemSettingData WHERE SettingType=3` |"));
    }

    #[test]
    fn every_query_is_a_select_and_nothing_else() {
        for q in QUERIES {
            assert!(q.wql.starts_with("SELECT "), "{}", q.id);
            let upper = q.wql.to_ascii_uppercase();
            for verb in [
                "INSERT",
                "UPDATE",
                "DELETE",
                "CREATE",
                "EXEC",
                "ASSOCIATORS",
                "REFERENCES",
            ] {
                assert!(!upper.contains(verb), "{} contains {verb}", q.id);
            }
        }
    }

    #[test]
    fn ids_are_unique() {
        for (i, q) in QUERIES.iter().enumerate() {
            assert!(QUERIES.iter().skip(i + 1).all(|o| o.id != q.id), "{}", q.id);
        }
    }

    #[test]
    fn hyperv_and_cluster_classes_use_select_star() {
        for q in QUERIES
            .iter()
            .filter(|q| q.wql.contains("Msvm_") || q.wql.contains("MSCluster_"))
        {
            assert!(q.wql.starts_with("SELECT * FROM "), "{}", q.id);
        }
    }

    #[test]
    fn nothing_filters_on_localized_text() {
        for q in QUERIES {
            let where_part = q.wql.split(" WHERE ").nth(1).unwrap_or("");
            assert!(!where_part.contains("Caption"), "{}", q.id);
            assert!(!where_part.contains("Description"), "{}", q.id);
        }
    }

    #[test]
    fn realized_and_current_setting_filters_stay() {
        assert!(
            V2_SYSTEM_SETTINGS
                .wql
                .ends_with("WHERE VirtualSystemType='Microsoft:Hyper-V:System:Realized'")
        );
        assert!(V1_SYSTEM_SETTINGS.wql.ends_with("WHERE SettingType=3"));
        assert!(
            CLUSTER_VM_RESOURCES
                .wql
                .ends_with("WHERE Type='Virtual Machine'")
        );
    }

    #[test]
    fn every_win32_list_has_a_select_star_twin_in_the_same_namespace() {
        for q in QUERIES
            .iter()
            .filter(|q| q.namespace == CIMV2 && !q.id.ends_with(".all"))
        {
            let twin = by_id(&format!("{}.all", q.id)).unwrap();
            assert_eq!(twin.namespace, q.namespace);
            assert!(twin.wql.starts_with("SELECT * FROM "));
        }
    }
}
