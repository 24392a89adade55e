//! Runs the fixed queries against one host, with the fallbacks older and
//! partial hosts need, then builds the snapshot.

use crate::inventory::error::CollectError;
use crate::inventory::fault::{FaultClass, classify};
use crate::inventory::model::HostSnapshot;
use crate::inventory::queries::{self, Query};
use crate::inventory::snapshot::{
    ClusterResults, HyperVNamespace, HyperVResults, QueryResults, build_snapshot,
};
use crate::wsman::{Client, Instance, WsmanError};
use std::future::Future;

/// Something that runs one WQL select: the WS-Man client, or a fake in tests.
pub trait WqlRunner {
    fn enumerate_wql(
        &mut self,
        namespace: &str,
        wql: &str,
    ) -> impl Future<Output = Result<Vec<Instance>, WsmanError>> + Send;
}

impl WqlRunner for Client {
    fn enumerate_wql(
        &mut self,
        namespace: &str,
        wql: &str,
    ) -> impl Future<Output = Result<Vec<Instance>, WsmanError>> + Send {
        Client::enumerate_wql(self, namespace, wql)
    }
}

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

/// A `Win32_*` select; when the host refuses its property list (an older
/// release lacking one), the same class with `SELECT *`.
async fn win32<R: WqlRunner>(
    r: &mut R,
    list: &Query,
    all: &Query,
) -> Result<Vec<Instance>, CollectError> {
    match run(r, list).await {
        Err(e) if classify(&e) == FaultClass::InvalidQuery => {
            run(r, all).await.map_err(|source| CollectError::Query {
                query: all.id,
                source,
            })
        }
        other => other.map_err(|source| CollectError::Query {
            query: list.id,
            source,
        }),
    }
}

pub async fn run_queries<R: WqlRunner>(r: &mut R) -> Result<QueryResults, CollectError> {
    use queries::*;
    let mut warnings = Vec::new();

    let computer_system = win32(r, &COMPUTER_SYSTEM, &COMPUTER_SYSTEM_ALL).await?;
    let product = win32(r, &PRODUCT, &PRODUCT_ALL).await?;
    let bios = win32(r, &BIOS, &BIOS_ALL).await?;
    let processors = win32(r, &PROCESSOR, &PROCESSOR_ALL).await?;
    let operating_system = win32(r, &OPERATING_SYSTEM, &OPERATING_SYSTEM_ALL).await?;
    let vmms = match win32(r, &VMMS_SERVICE, &VMMS_SERVICE_ALL).await {
        Ok(rows) => Some(rows),
        Err(e) => {
            warnings.push(format!("vmms service: {e}"));
            None
        }
    };

    let hyperv = hyperv(r).await?;
    let cluster = cluster(r, &mut warnings).await;

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

async fn hyperv<R: WqlRunner>(r: &mut R) -> Result<HyperVResults, CollectError> {
    use queries::*;
    let err = |q: &Query| {
        let id = q.id;
        move |source| CollectError::Query { query: id, source }
    };
    let (namespace, systems) = match run(r, &V2_COMPUTER_SYSTEM).await {
        Ok(rows) => (HyperVNamespace::V2, rows),
        Err(e) if classify(&e) == FaultClass::InvalidNamespace => {
            match run(r, &V1_COMPUTER_SYSTEM).await {
                Ok(rows) => (HyperVNamespace::V1, rows),
                Err(e) if classify(&e) == FaultClass::InvalidNamespace => {
                    return Err(CollectError::NotHyperV);
                }
                Err(e) => return Err(err(&V1_COMPUTER_SYSTEM)(e)),
            }
        }
        Err(e) => return Err(err(&V2_COMPUTER_SYSTEM)(e)),
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

/// The cluster never fails the host: a missing namespace means standalone,
/// anything else is a warning.
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
        Err(e) if classify(&e) == FaultClass::InvalidNamespace => {
            return ClusterResults::Standalone;
        }
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
