use super::Props;
use crate::inventory::error::BadValue;
use crate::wsman::Instance;

/// `Win32_ComputerSystem`: the host's names, sockets, logical CPUs, memory.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Win32ComputerSystem {
    /// NetBIOS computer name; the Hyper-V host row has this as its `Name`.
    pub name: Option<String>,
    pub dns_host_name: Option<String>,
    pub domain: Option<String>,
    pub part_of_domain: Option<bool>,
    pub manufacturer: Option<String>,
    pub model: Option<String>,
    /// Populated sockets.
    pub number_of_processors: Option<u32>,
    pub number_of_logical_processors: Option<u32>,
    /// Bytes.
    pub total_physical_memory: Option<u64>,
}

impl Win32ComputerSystem {
    pub const CLASS: &'static str = "Win32_ComputerSystem";

    pub fn from_instance(i: &Instance) -> Result<Self, BadValue> {
        let p = Props::new(i, Self::CLASS);
        Ok(Self {
            name: p.trimmed("Name")?,
            dns_host_name: p.trimmed("DNSHostName")?,
            domain: p.trimmed("Domain")?,
            part_of_domain: p.boolean("PartOfDomain")?,
            manufacturer: p.trimmed("Manufacturer")?,
            model: p.trimmed("Model")?,
            number_of_processors: p.num("NumberOfProcessors")?,
            number_of_logical_processors: p.num("NumberOfLogicalProcessors")?,
            total_physical_memory: p.num("TotalPhysicalMemory")?,
        })
    }
}
