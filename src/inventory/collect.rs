//! Runs the fixed queries against one host, with the fallbacks older and
//! partial hosts need, then builds the snapshot.

use crate::inventory::classes::Win32Service;
use crate::inventory::discover;
use crate::inventory::error::CollectError;
use crate::inventory::fault::{FaultClass, classify, retry_as_select_star};
use crate::inventory::model::HostSnapshot;
use crate::inventory::queries::{self, Query};
use crate::inventory::results::{ClusterResults, HyperVNamespace, HyperVResults, QueryResults};
pub use crate::inventory::runner::WqlRunner;
use crate::inventory::snapshot::build_snapshot;
use crate::wsman::{Client, Instance, WsmanError};

/// Collects one host. Timeouts are the client's (per request) and the
/// caller's (per host).
pub async fn collect_host(client: &mut Client) -> Result<HostSnapshot, CollectError> {
    collect_with(client).await
}

/// `collect_host` over any runner.
pub async fn collect_with<R: WqlRunner>(r: &mut R) -> Result<HostSnapshot, CollectError> {
    let results = run_queries(r).await?;
    build_snapshot(&results)
}

async fn run<R: WqlRunner>(r: &mut R, q: &Query) -> Result<Vec<Instance>, WsmanError> {
    r.enumerate_wql(q.namespace, q.wql).await
}

/// A `Win32_*` select; when the host refuses it (`CannotProcessFilter`,
/// typically a property an older release lacks), the same class once with
/// `SELECT *`; a refusal of that is an error, not "class missing".
async fn win32<R: WqlRunner>(
    r: &mut R,
    list: &Query,
    all: &Query,
) -> Result<Vec<Instance>, CollectError> {
    match run(r, list).await {
        Err(e) if retry_as_select_star(&e) => {
            run(r, all).await.map_err(|source| CollectError::Query {
                query: all.id,
                source: Box::new(source),
            })
        }
        other => other.map_err(|source| CollectError::Query {
            query: list.id,
            source: Box::new(source),
        }),
    }
}

pub async fn run_queries<R: WqlRunner>(r: &mut R) -> Result<QueryResults, CollectError> {
    use queries::*;
    let mut warnings = Vec::new();

    let computer_system = win32(r, &COMPUTER_SYSTEM, &COMPUTER_SYSTEM_ALL).await?;
    let product = win32(r, &PRODUCT, &PRODUCT_ALL).await?;
    // Every select is a round trip: Win32_BIOS only when the product row
    // has no usable serial (it is the same SMBIOS field on servers).
    let bios = if product_serial_usable(&product) {
        Vec::new()
    } else {
        win32(r, &BIOS, &BIOS_ALL).await?
    };
    let processors = win32(r, &PROCESSOR, &PROCESSOR_ALL).await?;
    let operating_system = win32(r, &OPERATING_SYSTEM, &OPERATING_SYSTEM_ALL).await?;

    // Which providers exist, asked positively (`discover`).
    let root = discover::root_providers(r)
        .await
        .map_err(|source| CollectError::Query {
            query: ROOT_NAMESPACES.id,
            source: Box::new(source),
        })?;
    if !root.virtualization {
        return Err(CollectError::NotHyperV);
    }

    // The vmms service is read only when Hyper-V does not answer: a stopped
    // service is then the likely reason, and worth naming.
    let (hyperv, vmms) = match hyperv(r).await {
        Ok(h) => (h, None),
        Err(CollectError::Query { query, source })
            if classify(&source) != FaultClass::AccessDenied =>
        {
            let vmms = vmms_rows(r, &mut warnings).await;
            if let Some(state) = vmms_stopped(vmms.as_deref()) {
                return Err(CollectError::VmmsNotRunning { state, source });
            }
            return Err(CollectError::Query { query, source });
        }
        Err(e) => return Err(e),
    };
    let cluster = if root.mscluster {
        cluster(r, &mut warnings).await
    } else {
        ClusterResults::Standalone
    };

    Ok(QueryResults {
        computer_system,
        product,
        bios,
        processors,
        operating_system,
        vmms,
        hyperv,
        cluster,
        warnings,
    })
}

async fn vmms_rows<R: WqlRunner>(r: &mut R, warnings: &mut Vec<String>) -> Option<Vec<Instance>> {
    use queries::*;
    match win32(r, &VMMS_SERVICE, &VMMS_SERVICE_ALL).await {
        Ok(rows) => Some(rows),
        Err(e) => {
            warnings.push(format!("vmms service: {e}"));
            None
        }
    }
}

/// Whether `Win32_ComputerSystemProduct.IdentifyingNumber` is a real serial.
fn product_serial_usable(rows: &[Instance]) -> bool {
    rows.first()
        .and_then(|p| p.text("IdentifyingNumber"))
        .is_some_and(|s| !crate::inventory::model::is_placeholder_serial(s))
}

/// The vmms service's state when it was found and is not running.
fn vmms_stopped(rows: Option<&[Instance]>) -> Option<String> {
    let svc = Win32Service::from_instance(rows?.first()?).ok()?;
    (!svc.is_running()).then(|| svc.state.unwrap_or_else(|| "unknown".into()))
}

async fn hyperv<R: WqlRunner>(r: &mut R) -> Result<HyperVResults, CollectError> {
    use queries::*;
    let err = |q: &Query| {
        let id = q.id;
        move |source| CollectError::Query {
            query: id,
            source: Box::new(source),
        }
    };
    // root/virtualization exists (asked before). v2 first; when it fails,
    // its parent's list says whether that is a real error (v2 is there) or
    // a 2008 R2 host (only the v1 provider).
    let (namespace, systems) = match run(r, &V2_COMPUTER_SYSTEM).await {
        Ok(rows) => (HyperVNamespace::V2, rows),
        Err(e) if classify(&e) == FaultClass::AccessDenied => {
            return Err(err(&V2_COMPUTER_SYSTEM)(e));
        }
        Err(v2_error) => match discover::lists_v2(r).await {
            Ok(false) => {
                let rows = run(r, &V1_COMPUTER_SYSTEM)
                    .await
                    .map_err(err(&V1_COMPUTER_SYSTEM))?;
                (HyperVNamespace::V1, rows)
            }
            _ => return Err(err(&V2_COMPUTER_SYSTEM)(v2_error)),
        },
    };
    let [settings_q, cpu_q, mem_q] = match namespace {
        HyperVNamespace::V2 => [
            V2_SYSTEM_SETTINGS,
            V2_PROCESSOR_SETTINGS,
            V2_MEMORY_SETTINGS,
        ],
        HyperVNamespace::V1 => [
            V1_SYSTEM_SETTINGS,
            V1_PROCESSOR_SETTINGS,
            V1_MEMORY_SETTINGS,
        ],
    };
    let settings = run(r, &settings_q).await.map_err(err(&settings_q))?;
    let processor_settings = run(r, &cpu_q).await.map_err(err(&cpu_q))?;
    let memory_settings = run(r, &mem_q).await.map_err(err(&mem_q))?;
    Ok(HyperVResults {
        namespace,
        systems,
        settings,
        processor_settings,
        memory_settings,
    })
}

/// Called only when root/MSCluster exists. The cluster never fails the
/// host: a node not (yet) in a cluster is standalone, any fault a warning
/// with the host's text.
async fn cluster<R: WqlRunner>(r: &mut R, warnings: &mut Vec<String>) -> ClusterResults {
    use queries::*;
    let mut warn = |e: &WsmanError| {
        warnings.push(match classify(e) {
            FaultClass::AccessDenied => "cluster namespace: access denied".to_string(),
            _ => format!("cluster namespace: {e}"),
        })
    };
    let cluster = match run(r, &CLUSTER).await {
        Ok(rows) if rows.is_empty() => return ClusterResults::Standalone,
        Ok(rows) => rows,
        Err(e) => {
            warn(&e);
            return ClusterResults::Unavailable;
        }
    };
    let nodes = match run(r, &CLUSTER_NODES).await {
        Ok(rows) => rows,
        Err(e) => {
            warn(&e);
            return ClusterResults::Unavailable;
        }
    };
    let vm_resources = match run(r, &CLUSTER_VM_RESOURCES).await {
        Ok(rows) => rows,
        Err(e) => {
            warn(&e);
            return ClusterResults::Unavailable;
        }
    };
    ClusterResults::Present {
        cluster,
        nodes,
        vm_resources,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::{ErrorKind, HasKind};
    use crate::inventory::classes::testing::inst;
    use crate::inventory::queries::QUERIES;
    use crate::wsman::WsmanFault;
    use std::collections::HashMap;

    const WBEM_E_INVALID_QUERY: u32 = 0x8004_1017;

    /// Answers by namespace and WQL text; anything unlisted returns no rows.
    #[derive(Default)]
    struct Fake {
        replies: HashMap<(&'static str, &'static str), Result<Vec<Instance>, WsmanFault>>,
        sent: Vec<(String, String)>,
    }

    impl Fake {
        fn with(mut self, q: &Query, reply: Result<Vec<Instance>, WsmanFault>) -> Self {
            self.replies.insert((q.namespace, q.wql), reply);
            self
        }
    }

    impl WqlRunner for Fake {
        fn enumerate_wql(
            &mut self,
            namespace: &str,
            wql: &str,
        ) -> impl Future<Output = Result<Vec<Instance>, WsmanError>> + Send {
            self.sent.push((namespace.to_string(), wql.to_string()));
            let reply = match self.replies.get(&(namespace, wql)) {
                Some(Ok(rows)) => Ok(rows.clone()),
                Some(Err(f)) => Err(WsmanError::Fault(f.clone())),
                None => Ok(Vec::new()),
            };
            std::future::ready(reply)
        }
    }

    fn wmi_fault(code: u32) -> WsmanFault {
        WsmanFault {
            wsman_code: Some(2_150_858_778),
            provider_code: Some(code),
            message: "localized text".into(),
            ..WsmanFault::default()
        }
    }

    fn denied() -> WsmanFault {
        WsmanFault {
            subcode: Some("AccessDenied".into()),
            wsman_code: Some(5),
            message: "Access is denied.".into(),
            ..WsmanFault::default()
        }
    }

    fn base() -> Fake {
        Fake::default()
            .with(
                &queries::COMPUTER_SYSTEM,
                Ok(vec![inst(
                    "Win32_ComputerSystem",
                    &[("Name", Some("HV01"))],
                )]),
            )
            .with(
                &queries::PRODUCT,
                Ok(vec![inst(
                    "Win32_ComputerSystemProduct",
                    &[("UUID", Some("4C4C4544-0042-3510-8058-B4C04F4A4E32"))],
                )]),
            )
            .with(
                &queries::VMMS_SERVICE,
                Ok(vec![inst(
                    "Win32_Service",
                    &[("Name", Some("vmms")), ("State", Some("Running"))],
                )]),
            )
            .with(
                &queries::ROOT_NAMESPACES,
                Ok(names(&["subscription", "virtualization", "CIMV2"])),
            )
            .with(&queries::VIRT_NAMESPACES, Ok(names(&["v2"])))
    }

    fn names(list: &[&str]) -> Vec<Instance> {
        list.iter()
            .map(|n| inst("__NAMESPACE", &[("Name", Some(n))]))
            .collect()
    }

    /// A cluster node: root lists MSCluster.
    fn clustered() -> Fake {
        base().with(
            &queries::ROOT_NAMESPACES,
            Ok(names(&["virtualization", "cimv2", "MSCluster"])),
        )
    }

    /// CannotProcessFilter with nothing but (localized) text.
    fn refused() -> WsmanFault {
        WsmanFault {
            subcode: Some("CannotProcessFilter".into()),
            wsman_code: Some(2_150_858_778),
            message: "La source de données n’a pas pu traiter le filtre.".into(),
            ..WsmanFault::default()
        }
    }

    #[tokio::test]
    async fn only_queries_from_the_fixed_set_are_sent() {
        let mut f = base();
        collect_with(&mut f).await.unwrap();
        for (ns, wql) in &f.sent {
            assert!(
                QUERIES.iter().any(|q| q.namespace == ns && q.wql == wql),
                "{ns} {wql}"
            );
        }
    }

    #[tokio::test]
    async fn v2_refused_and_not_listed_falls_back_to_v1_and_records_it() {
        let mut f = base()
            .with(&queries::V2_COMPUTER_SYSTEM, Err(refused()))
            .with(&queries::VIRT_NAMESPACES, Ok(Vec::new()));
        let s = collect_with(&mut f).await.unwrap();
        assert_eq!(s.hyperv_namespace.as_deref(), Some("root/virtualization"));
        assert!(
            f.sent
                .iter()
                .any(|(_, w)| w == queries::V1_SYSTEM_SETTINGS.wql)
        );
        assert!(
            !f.sent
                .iter()
                .any(|(_, w)| w == queries::V2_SYSTEM_SETTINGS.wql)
        );
    }

    #[tokio::test]
    async fn no_hyperv_namespace_fails_the_host_with_kind_namespace() {
        let mut f = base().with(&queries::ROOT_NAMESPACES, Ok(names(&["cimv2"])));
        let e = collect_with(&mut f).await.unwrap_err();
        assert_eq!(e.kind(), ErrorKind::Namespace);
        assert!(e.to_string().contains("Hyper-V role"), "{e}");
        assert!(!sent(&f, &queries::V2_COMPUTER_SYSTEM), "{:?}", f.sent);
    }

    #[tokio::test]
    async fn a_refused_v2_select_when_v2_is_listed_is_a_real_error_with_its_text() {
        let mut f = base()
            .with(&queries::V2_COMPUTER_SYSTEM, Err(refused()))
            .with(&queries::VIRT_NAMESPACES, Ok(names(&["v2"])));
        let e = collect_with(&mut f).await.unwrap_err();
        let text = e.to_string();
        assert!(text.contains("v2.computer_system"), "{text}");
        assert!(text.contains("La source de données"), "{text}");
        assert!(!text.contains("Hyper-V role"), "{text}");
        let v1 = &queries::V1_COMPUTER_SYSTEM;
        assert!(
            !f.sent
                .iter()
                .any(|(ns, w)| ns == v1.namespace && w == v1.wql),
            "{:?}",
            f.sent
        );
        // The vmms state is read to name the likely cause.
        assert!(sent(&f, &queries::VMMS_SERVICE));
    }

    #[tokio::test]
    async fn a_refused_v2_select_on_a_host_with_vmms_stopped_names_vmms() {
        let mut f = base()
            .with(&queries::V2_COMPUTER_SYSTEM, Err(refused()))
            .with(&queries::VIRT_NAMESPACES, Ok(names(&["v2"])))
            .with(
                &queries::VMMS_SERVICE,
                Ok(vec![inst(
                    "Win32_Service",
                    &[("Name", Some("vmms")), ("State", Some("Stopped"))],
                )]),
            );
        let e = collect_with(&mut f).await.unwrap_err();
        assert!(matches!(e, CollectError::VmmsNotRunning { .. }), "{e}");
    }

    #[tokio::test]
    async fn a_host_without_mscluster_is_standalone_silently_and_sends_no_cluster_select() {
        let mut f = base();
        let s = collect_with(&mut f).await.unwrap();
        assert!(s.cluster.is_none());
        assert!(s.warnings.is_empty(), "{:?}", s.warnings);
        assert!(!sent(&f, &queries::CLUSTER), "{:?}", f.sent);
    }

    #[tokio::test]
    async fn a_refused_cluster_select_on_a_listed_mscluster_warns_with_its_text() {
        let mut f = clustered().with(&queries::CLUSTER, Err(refused()));
        let s = collect_with(&mut f).await.unwrap();
        assert!(s.cluster.is_none());
        assert_eq!(s.warnings.len(), 1, "{:?}", s.warnings);
        assert!(
            s.warnings[0].contains("La source de données"),
            "{:?}",
            s.warnings
        );
    }

    #[tokio::test]
    async fn refused_property_list_falls_back_to_select_star() {
        let mut f = base()
            .with(&queries::PROCESSOR, Err(wmi_fault(WBEM_E_INVALID_QUERY)))
            .with(
                &queries::PROCESSOR_ALL,
                Ok(vec![inst(
                    "Win32_Processor",
                    &[("DeviceID", Some("CPU0")), ("NumberOfCores", Some("8"))],
                )]),
            );
        let s = collect_with(&mut f).await.unwrap();
        assert_eq!(s.cores, Some(8));
    }

    #[tokio::test]
    async fn hyperv_access_denied_fails_the_host_as_access_denied() {
        let mut f = base().with(&queries::V2_COMPUTER_SYSTEM, Err(denied()));
        let e = collect_with(&mut f).await.unwrap_err();
        assert_eq!(e.kind(), ErrorKind::AccessDenied);
    }

    #[tokio::test]
    async fn cluster_access_denied_is_a_warning_not_a_failure() {
        let mut f = clustered().with(&queries::CLUSTER, Err(denied()));
        let s = collect_with(&mut f).await.unwrap();
        assert!(s.cluster.is_none());
        assert!(
            s.warnings
                .contains(&"cluster namespace: access denied".to_string()),
            "{:?}",
            s.warnings
        );
    }

    #[tokio::test]
    async fn other_cluster_errors_are_warnings() {
        let mut f = clustered().with(&queries::CLUSTER_NODES, Err(wmi_fault(0x8004_1001)));
        f = f.with(
            &queries::CLUSTER,
            Ok(vec![inst("MSCluster_Cluster", &[("Name", Some("CLU01"))])]),
        );
        let s = collect_with(&mut f).await.unwrap();
        assert!(s.cluster.is_none());
        assert_eq!(s.warnings.len(), 1);
        assert!(s.warnings[0].starts_with("cluster namespace: "));
    }

    #[tokio::test]
    async fn stopped_vmms_with_failing_provider_fails_as_namespace_naming_vmms() {
        let mut f = base()
            .with(
                &queries::VMMS_SERVICE,
                Ok(vec![inst(
                    "Win32_Service",
                    &[("Name", Some("vmms")), ("State", Some("Stopped"))],
                )]),
            )
            .with(&queries::V2_COMPUTER_SYSTEM, Err(wmi_fault(0x8004_1013)));
        let e = collect_with(&mut f).await.unwrap_err();
        assert_eq!(e.kind(), ErrorKind::Namespace);
        assert!(
            e.to_string().contains("vmms") && e.to_string().contains("Stopped"),
            "{e}"
        );
    }

    fn sent(f: &Fake, q: &Query) -> bool {
        f.sent.iter().any(|(_, w)| w == q.wql)
    }

    #[tokio::test]
    async fn a_healthy_host_costs_no_bios_or_vmms_round_trip() {
        let mut f = base().with(
            &queries::PRODUCT,
            Ok(vec![inst(
                "Win32_ComputerSystemProduct",
                &[
                    ("UUID", Some("4C4C4544-0042-3510-8058-B4C04F4A4E32")),
                    ("IdentifyingNumber", Some("B5XJNJ2")),
                ],
            )]),
        );
        let s = collect_with(&mut f).await.unwrap();
        assert_eq!(s.identity.serial.as_deref(), Some("B5XJNJ2"));
        assert!(
            !sent(&f, &queries::BIOS),
            "BIOS read although the product has a serial"
        );
        assert!(
            !sent(&f, &queries::VMMS_SERVICE),
            "vmms read although Hyper-V answered"
        );
        // cimv2: system, product, processor, OS; root's namespaces; v2:
        // four; no cluster select on a host without MSCluster.
        assert_eq!(f.sent.len(), 9, "{:?}", f.sent);
    }

    #[tokio::test]
    async fn a_placeholder_product_serial_falls_back_to_the_bios_serial() {
        let mut f = base()
            .with(
                &queries::PRODUCT,
                Ok(vec![inst(
                    "Win32_ComputerSystemProduct",
                    &[
                        ("UUID", Some("4C4C4544-0042-3510-8058-B4C04F4A4E32")),
                        ("IdentifyingNumber", Some("To be filled by O.E.M.")),
                    ],
                )]),
            )
            .with(
                &queries::BIOS,
                Ok(vec![inst(
                    "Win32_BIOS",
                    &[("SerialNumber", Some("CZJ1234XYZ"))],
                )]),
            );
        let s = collect_with(&mut f).await.unwrap();
        assert!(sent(&f, &queries::BIOS));
        assert_eq!(s.identity.serial.as_deref(), Some("CZJ1234XYZ"));
    }

    #[tokio::test]
    async fn a_failing_vmms_query_after_a_hyperv_failure_keeps_the_hyperv_error() {
        let mut f = base()
            .with(&queries::VMMS_SERVICE, Err(denied()))
            .with(&queries::V2_COMPUTER_SYSTEM, Err(wmi_fault(0x8004_1013)));
        let e = collect_with(&mut f).await.unwrap_err();
        assert!(sent(&f, &queries::VMMS_SERVICE));
        assert!(e.to_string().contains("v2.computer_system"), "{e}");
    }
}
