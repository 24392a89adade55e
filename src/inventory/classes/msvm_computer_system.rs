use super::Props;
use crate::inventory::error::BadValue;
use crate::wsman::Instance;

/// `Msvm_ComputerSystem`: the host row and one row per VM.
///
/// `Caption` and `Description` are deliberately not read: they are localized
/// and must never decide what is a VM.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct MsvmComputerSystem {
    /// A VM's GUID, or the host's computer name.
    pub name: Option<String>,
    /// The VM's display name.
    pub element_name: Option<String>,
    pub enabled_state: Option<u16>,
    pub health_state: Option<u16>,
    /// Absent before Windows Server 2012 (no Hyper-V Replica).
    pub replication_mode: Option<u16>,
    pub on_time_ms: Option<u64>,
}

impl MsvmComputerSystem {
    pub const CLASS: &'static str = "Msvm_ComputerSystem";

    pub fn from_instance(i: &Instance) -> Result<Self, BadValue> {
        let p = Props::new(i, Self::CLASS);
        Ok(Self {
            name: p.trimmed("Name")?,
            element_name: p.text("ElementName")?,
            enabled_state: p.num("EnabledState")?,
            health_state: p.num("HealthState")?,
            replication_mode: p.num("ReplicationMode")?,
            on_time_ms: p.num("OnTimeInMilliseconds")?,
        })
    }
}
