//! What the queries returned for one host, grouped by query, before
//! interpretation (`snapshot` builds the model from it).

use crate::inventory::error::BadValue;
use crate::inventory::queries::{VIRT_V1, VIRT_V2};
use crate::wsman::Instance;

/// Which Hyper-V namespace answered.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HyperVNamespace {
    /// `root/virtualization/v2` (Windows Server 2012 and later).
    V2,
    /// `root/virtualization` (Windows Server 2008 / 2008 R2).
    V1,
}

impl HyperVNamespace {
    pub fn as_str(self) -> &'static str {
        match self {
            HyperVNamespace::V2 => VIRT_V2,
            HyperVNamespace::V1 => VIRT_V1,
        }
    }
}

#[derive(Debug, Clone)]
pub struct HyperVResults {
    pub namespace: HyperVNamespace,
    pub systems: Vec<Instance>,
    /// Realized (v2) / current (v1) `Msvm_VirtualSystemSettingData` only.
    pub settings: Vec<Instance>,
    /// Every `Msvm_ProcessorSettingData`, checkpoints included.
    pub processor_settings: Vec<Instance>,
    pub memory_settings: Vec<Instance>,
}

#[derive(Debug, Clone, Default)]
pub enum ClusterResults {
    /// `root/MSCluster` does not exist: not a cluster node.
    #[default]
    Standalone,
    /// The namespace exists but could not be read (already in warnings).
    Unavailable,
    Present {
        cluster: Vec<Instance>,
        nodes: Vec<Instance>,
        vm_resources: Vec<Instance>,
    },
}

/// What the queries returned for one host, before interpretation.
#[derive(Debug, Clone)]
pub struct QueryResults {
    pub computer_system: Vec<Instance>,
    pub product: Vec<Instance>,
    pub bios: Vec<Instance>,
    pub processors: Vec<Instance>,
    pub operating_system: Vec<Instance>,
    /// `None` when the service query itself failed (already in warnings).
    pub vmms: Option<Vec<Instance>>,
    pub hyperv: HyperVResults,
    pub cluster: ClusterResults,
    /// Warnings raised while querying.
    pub warnings: Vec<String>,
}

pub(crate) fn first<T>(
    rows: &[Instance],
    f: fn(&Instance) -> Result<T, BadValue>,
) -> Result<Option<T>, BadValue> {
    rows.first().map(f).transpose()
}
