//! Which WMI providers a host has, asked positively with
//! `SELECT Name FROM __NAMESPACE`. Faults never say so: WMI refuses a select
//! in a missing namespace with the same code as any other refusal, worded in
//! the host's language. `collect` and `diagnose` both decide from here.

use crate::inventory::queries::{self, Query};
use crate::inventory::runner::WqlRunner;
use crate::wsman::WsmanError;

/// What `root` lists (its child namespaces).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RootProviders {
    /// `root/virtualization`: the Hyper-V role (v1 or v2 below it).
    pub virtualization: bool,
    /// `root/MSCluster`: Failover Clustering; without it the host is
    /// standalone.
    pub mscluster: bool,
}

/// The child namespaces `q` lists, lower case.
async fn child_namespaces<R: WqlRunner>(r: &mut R, q: &Query) -> Result<Vec<String>, WsmanError> {
    let rows = r.enumerate_wql(q.namespace, q.wql).await?;
    Ok(rows
        .iter()
        .filter_map(|i| i.text("Name"))
        .map(|n| n.trim().to_ascii_lowercase())
        .collect())
}

/// One round trip: `root`'s children.
pub async fn root_providers<R: WqlRunner>(r: &mut R) -> Result<RootProviders, WsmanError> {
    let names = child_namespaces(r, &queries::ROOT_NAMESPACES).await?;
    Ok(RootProviders {
        virtualization: names.iter().any(|n| n == "virtualization"),
        mscluster: names.iter().any(|n| n == "mscluster"),
    })
}

/// Whether `root/virtualization` lists `v2` (2012 and later). Asked only
/// after a v2 select failed: not listed means the 2008 R2 provider, listed
/// means the failure is a real error of the host.
pub async fn lists_v2<R: WqlRunner>(r: &mut R) -> Result<bool, WsmanError> {
    let names = child_namespaces(r, &queries::VIRT_NAMESPACES).await?;
    Ok(names.iter().any(|n| n == "v2"))
}
