//! The WMI classes each simulated host serves, per namespace and Windows
//! release, and the WQL select over them.

pub mod cimv2;
pub mod cluster;
pub mod value;
pub mod virtualization;

pub use value::{CimValue, Embedded, Row};

use crate::simulator::estate::{Estate, HyperVNamespace, SimHost, WindowsRelease};
use crate::simulator::wql::{self, Query, Scalar};

/// A WMI namespace the simulator knows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Namespace {
    /// `root`: only `__NAMESPACE` (which providers exist).
    Root,
    CimV2,
    VirtualizationV2,
    VirtualizationV1,
    Cluster,
}

impl Namespace {
    /// Path as it appears in resource URIs (`root/virtualization/v2`).
    pub fn path(self) -> &'static str {
        match self {
            Namespace::Root => "root",
            Namespace::CimV2 => "root/cimv2",
            Namespace::VirtualizationV2 => "root/virtualization/v2",
            Namespace::VirtualizationV1 => "root/virtualization",
            Namespace::Cluster => "root/MSCluster",
        }
    }

    pub fn from_path(path: &str) -> Option<Namespace> {
        let p = path
            .trim_matches('/')
            .replace('\\', "/")
            .to_ascii_lowercase();
        match p.as_str() {
            "root" => Some(Namespace::Root),
            "root/cimv2" => Some(Namespace::CimV2),
            "root/virtualization/v2" => Some(Namespace::VirtualizationV2),
            "root/virtualization" => Some(Namespace::VirtualizationV1),
            "root/mscluster" => Some(Namespace::Cluster),
            _ => None,
        }
    }
}

pub struct PropDef {
    pub name: &'static str,
    /// First release whose class has the property.
    pub since: WindowsRelease,
}

pub const fn p(name: &'static str, since: WindowsRelease) -> PropDef {
    PropDef { name, since }
}

pub struct ClassDef {
    pub name: &'static str,
    /// In alphabetical order (as WMI lists them).
    pub props: &'static [PropDef],
}

impl ClassDef {
    pub fn visible(&self, release: WindowsRelease) -> impl Iterator<Item = &'static str> + '_ {
        self.props
            .iter()
            .filter(move |d| d.since <= release)
            .map(|d| d.name)
    }

    fn canonical(&self, release: WindowsRelease, name: &str) -> Option<&'static str> {
        self.visible(release).find(|n| n.eq_ignore_ascii_case(name))
    }
}

/// Why a select fails, as the WMI provider would say.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[allow(clippy::enum_variant_names)] // named as WMI names them
pub enum QueryFault {
    /// 0x8004100E.
    InvalidNamespace,
    /// 0x80041010.
    InvalidClass,
    /// 0x80041017 (syntax, or a property the class lacks on this release).
    InvalidQuery,
}

/// `__NAMESPACE`: a WMI system class in every namespace, listing its
/// children; answered by WMI itself, not by a provider.
pub const NAMESPACE_CLASS: ClassDef = ClassDef {
    name: "__NAMESPACE",
    props: &[p("Name", WindowsRelease::W2008R2)],
};

/// Whether the select is of `__NAMESPACE` (no provider involved).
pub fn is_namespace_select(wql_text: &str) -> bool {
    wql::parse(wql_text).is_ok_and(|q| q.class.eq_ignore_ascii_case(NAMESPACE_CLASS.name))
}

/// Whether `host` has the namespace at all. `root/virtualization` exists on
/// every Hyper-V host (the parent of v2), with the v1 classes only on 2008 R2.
pub fn has_namespace(estate: &Estate, host: &SimHost, ns: Namespace) -> bool {
    match ns {
        Namespace::Root | Namespace::CimV2 => true,
        Namespace::VirtualizationV2 => host.namespace == HyperVNamespace::V2,
        Namespace::VirtualizationV1 => host.namespace != HyperVNamespace::None,
        Namespace::Cluster => host
            .cluster
            .as_deref()
            .and_then(|c| estate.cluster(c))
            .is_some(),
    }
}

/// The child namespaces `ns` lists in `__NAMESPACE` on `host`.
fn children(ns: Namespace, host: &SimHost, estate: &Estate) -> Vec<&'static str> {
    match ns {
        Namespace::Root => {
            let mut c = vec!["subscription", "DEFAULT", "CIMV2", "Cli", "SECURITY", "WMI"];
            if host.namespace != HyperVNamespace::None {
                c.push("virtualization");
            }
            if has_namespace(estate, host, Namespace::Cluster) {
                c.push("MSCluster");
            }
            c
        }
        Namespace::VirtualizationV1 if host.namespace == HyperVNamespace::V2 => vec!["v2"],
        _ => Vec::new(),
    }
}

fn class_def(ns: Namespace, name: &str) -> Option<&'static ClassDef> {
    if name.eq_ignore_ascii_case(NAMESPACE_CLASS.name) {
        return Some(&NAMESPACE_CLASS);
    }
    let defs: &[&'static ClassDef] = match ns {
        Namespace::Root => &[],
        Namespace::CimV2 => &[
            &cimv2::COMPUTER_SYSTEM,
            &cimv2::COMPUTER_SYSTEM_PRODUCT,
            &cimv2::BIOS,
            &cimv2::PROCESSOR,
            &cimv2::OPERATING_SYSTEM,
            &cimv2::SERVICE,
        ],
        Namespace::VirtualizationV2 => &[
            &virtualization::COMPUTER_SYSTEM_V2,
            &virtualization::VSSD_V2,
            &virtualization::PROCESSOR_SD,
            &virtualization::MEMORY_SD,
        ],
        Namespace::VirtualizationV1 => &[
            &virtualization::COMPUTER_SYSTEM_V1,
            &virtualization::VSSD_V1,
            &virtualization::PROCESSOR_SD,
            &virtualization::MEMORY_SD,
        ],
        Namespace::Cluster => &[&cluster::CLUSTER, &cluster::NODE, &cluster::RESOURCE],
    };
    defs.iter()
        .copied()
        .find(|d| d.name.eq_ignore_ascii_case(name))
}

fn rows_of(ns: Namespace, def: &ClassDef, host: &SimHost, estate: &Estate) -> Vec<Row> {
    let cluster = || host.cluster.as_deref().and_then(|c| estate.cluster(c));
    match (ns, def.name) {
        (_, "__NAMESPACE") => children(ns, host, estate)
            .into_iter()
            .map(|n| Row::new().set("Name", CimValue::s(n)))
            .collect(),
        (Namespace::CimV2, "Win32_ComputerSystem") => cimv2::computer_system(host),
        (Namespace::CimV2, "Win32_ComputerSystemProduct") => cimv2::computer_system_product(host),
        (Namespace::CimV2, "Win32_BIOS") => cimv2::bios(host),
        (Namespace::CimV2, "Win32_Processor") => cimv2::processor(host),
        (Namespace::CimV2, "Win32_OperatingSystem") => cimv2::operating_system(host),
        (Namespace::CimV2, "Win32_Service") => cimv2::services(host),
        (_, "Msvm_ComputerSystem") => virtualization::computer_systems(host),
        (_, "Msvm_VirtualSystemSettingData") => virtualization::setting_data(host),
        (_, "Msvm_ProcessorSettingData") => virtualization::processor_settings(host),
        (_, "Msvm_MemorySettingData") => virtualization::memory_settings(host),
        (Namespace::Cluster, "MSCluster_Cluster") => {
            cluster().map(cluster::cluster).unwrap_or_default()
        }
        (Namespace::Cluster, "MSCluster_Node") => cluster().map(cluster::nodes).unwrap_or_default(),
        (Namespace::Cluster, "MSCluster_Resource") => cluster()
            .map(|c| cluster::resources(c, estate))
            .unwrap_or_default(),
        _ => Vec::new(),
    }
}

/// The outcome of a select: the class, which properties to write, the rows.
pub struct Selection {
    pub class: &'static str,
    /// `None`: `SELECT *` (every property of the release, class order);
    /// `Some`: canonical names, sorted alphabetically.
    pub fragment: Option<Vec<&'static str>>,
    /// Every property of the class on this release (for `SELECT *`).
    pub all: Vec<&'static str>,
    pub rows: Vec<Row>,
}

/// Runs a WQL select against one host. Namespace presence and access are
/// checked by the caller.
pub fn select(
    ns: Namespace,
    wql_text: &str,
    host: &SimHost,
    estate: &Estate,
) -> Result<Selection, QueryFault> {
    let query: Query = wql::parse(wql_text).map_err(|_| QueryFault::InvalidQuery)?;
    let def = class_def(ns, &query.class).ok_or(QueryFault::InvalidClass)?;
    // On 2012 and later root/virtualization is only v2's parent.
    if ns == Namespace::VirtualizationV1
        && host.namespace != HyperVNamespace::V1
        && def.name != NAMESPACE_CLASS.name
    {
        return Err(QueryFault::InvalidClass);
    }
    let release = host.release;
    let fragment = match &query.properties {
        None => None,
        Some(list) => {
            let mut names = Vec::with_capacity(list.len());
            for n in list {
                names.push(def.canonical(release, n).ok_or(QueryFault::InvalidQuery)?);
            }
            names.sort_by_key(|n| n.to_ascii_lowercase());
            names.dedup();
            Some(names)
        }
    };
    if let Some(cond) = &query.condition {
        let mut used = Vec::new();
        cond.properties(&mut used);
        if used.iter().any(|n| def.canonical(release, n).is_none()) {
            return Err(QueryFault::InvalidQuery);
        }
    }
    let mut rows = rows_of(ns, def, host, estate);
    if let Some(cond) = &query.condition {
        rows.retain(|r| {
            cond.eval(&|name: &str| r.get(name).map_or(Scalar::Null, CimValue::scalar))
        });
    }
    Ok(Selection {
        class: def.name,
        fragment,
        all: def.visible(release).collect(),
        rows,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::simulator::estate::Estate;

    #[test]
    fn unknown_class_and_property_are_faults() {
        let e = Estate::demo(1);
        let h = e.host("HVA-N2").unwrap();
        assert_eq!(
            select(Namespace::CimV2, "SELECT * FROM Win32_Nope", h, &e).err(),
            Some(QueryFault::InvalidClass)
        );
        assert_eq!(
            select(Namespace::CimV2, "SELECT Nope FROM Win32_BIOS", h, &e).err(),
            Some(QueryFault::InvalidQuery)
        );
    }

    #[test]
    fn newer_properties_are_invalid_on_older_releases() {
        let e = Estate::demo(1);
        let q = "SELECT InstanceID, VirtualSystemSubType FROM Msvm_VirtualSystemSettingData";
        let old = e.host("HV-OLD2012").unwrap();
        assert_eq!(
            select(Namespace::VirtualizationV2, q, old, &e).err(),
            Some(QueryFault::InvalidQuery)
        );
        let new = e.host("HV-EDGE01").unwrap();
        assert!(select(Namespace::VirtualizationV2, q, new, &e).is_ok());
        let q = "SELECT HwThreadsPerCore FROM Msvm_ProcessorSettingData";
        assert!(
            select(
                Namespace::VirtualizationV2,
                q,
                e.host("HVA-N3").unwrap(),
                &e
            )
            .is_err()
        );
        assert!(
            select(
                Namespace::VirtualizationV2,
                q,
                e.host("HVA-N1").unwrap(),
                &e
            )
            .is_ok()
        );
    }

    #[test]
    fn where_filters_rows_and_fragments_sort_names() {
        let e = Estate::demo(1);
        let h = e.host("HVA-N1").unwrap();
        let s = select(
            Namespace::CimV2,
            "SELECT State, Name FROM Win32_Service WHERE Name='VMMS'",
            h,
            &e,
        )
        .unwrap();
        assert_eq!(s.rows.len(), 1);
        assert_eq!(s.fragment, Some(vec!["Name", "State"]));
        let realized = select(
            Namespace::VirtualizationV2,
            "SELECT * FROM Msvm_VirtualSystemSettingData WHERE VirtualSystemType='Microsoft:Hyper-V:System:Realized'",
            h,
            &e,
        )
        .unwrap();
        assert_eq!(realized.rows.len(), h.vms.len());
    }

    #[test]
    fn host_row_comes_first_and_vms_are_named_by_guid() {
        let e = Estate::demo(1);
        let h = e.host("HV-PARIS").unwrap();
        let s = select(
            Namespace::VirtualizationV2,
            "SELECT * FROM Msvm_ComputerSystem",
            h,
            &e,
        )
        .unwrap();
        assert_eq!(s.rows.len(), h.vms.len() + 1);
        assert_eq!(s.rows[0].get("Name"), Some(&CimValue::s("HV-PARIS")));
        assert_eq!(
            s.rows[1].get("Name"),
            Some(&CimValue::s(h.vms[0].guid.clone()))
        );
        assert_eq!(
            s.rows[1].get("Description"),
            Some(&CimValue::s("Ordinateur virtuel Microsoft"))
        );
    }

    #[test]
    fn cluster_resources_list_every_clustered_vm_with_its_owner() {
        let e = Estate::demo(1);
        let h = e.host("HVA-N3").unwrap();
        let c = e.cluster("CLU-A").unwrap();
        let s = select(
            Namespace::Cluster,
            "SELECT * FROM MSCluster_Resource WHERE Type='Virtual Machine'",
            h,
            &e,
        )
        .unwrap();
        assert_eq!(s.rows.len(), c.vm_owners(&e).len());
        let nn = select(
            Namespace::Cluster,
            "SELECT PrivateProperties, Type FROM MSCluster_Resource WHERE Type='Network Name' AND Flags=1",
            h,
            &e,
        )
        .unwrap();
        assert_eq!(nn.rows.len(), 1);
    }

    fn listed(ns: Namespace, host: &SimHost, e: &Estate) -> Vec<String> {
        let sel = select(ns, "SELECT Name FROM __NAMESPACE", host, e).unwrap();
        sel.rows
            .iter()
            .filter_map(|r| match r.get("Name") {
                Some(CimValue::Str(s)) => Some(s.clone()),
                _ => None,
            })
            .collect()
    }

    #[test]
    fn namespace_lists_say_which_providers_each_host_has() {
        let e = Estate::demo(7);
        for host in &e.hosts {
            let root = listed(Namespace::Root, host, &e);
            assert!(root.iter().any(|n| n == "CIMV2"), "{}", host.name);
            assert_eq!(
                root.iter().any(|n| n == "virtualization"),
                host.namespace != HyperVNamespace::None,
                "{}",
                host.name
            );
            assert_eq!(
                root.iter().any(|n| n == "MSCluster"),
                has_namespace(&e, host, Namespace::Cluster),
                "{}",
                host.name
            );
            if host.namespace != HyperVNamespace::None {
                let virt = listed(Namespace::VirtualizationV1, host, &e);
                assert_eq!(
                    virt == ["v2"],
                    host.namespace == HyperVNamespace::V2,
                    "{}",
                    host.name
                );
            }
        }
        let legacy = e.hosts.iter().find(|h| h.name == "HV-LEGACY").unwrap();
        assert!(listed(Namespace::VirtualizationV1, legacy, &e).is_empty());
        // On a v2 host, root/virtualization holds no v1 classes.
        let v2 = e
            .hosts
            .iter()
            .find(|h| h.namespace == HyperVNamespace::V2)
            .unwrap();
        assert_eq!(
            select(
                Namespace::VirtualizationV1,
                "SELECT * FROM Msvm_ComputerSystem",
                v2,
                &e
            )
            .err(),
            Some(QueryFault::InvalidClass)
        );
    }
}
