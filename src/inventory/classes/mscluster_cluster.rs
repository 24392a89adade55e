use super::Props;
use crate::inventory::error::BadValue;
use crate::wsman::Instance;

/// `MSCluster_Cluster`: the cluster's name and FQDN.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct MsclusterCluster {
    pub name: Option<String>,
    /// Absent on Windows Server 2008 R2.
    pub fqdn: Option<String>,
}

impl MsclusterCluster {
    pub const CLASS: &'static str = "MSCluster_Cluster";

    pub fn from_instance(i: &Instance) -> Result<Self, BadValue> {
        let p = Props::new(i, Self::CLASS);
        Ok(Self {
            name: p.trimmed("Name")?,
            fqdn: p.trimmed("Fqdn")?,
        })
    }
}
