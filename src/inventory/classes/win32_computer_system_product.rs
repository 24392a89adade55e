use super::Props;
use crate::inventory::error::BadValue;
use crate::wsman::Instance;

/// `Win32_ComputerSystemProduct`: the SMBIOS system UUID and serial.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Win32ComputerSystemProduct {
    pub uuid: Option<String>,
    pub identifying_number: Option<String>,
    pub vendor: Option<String>,
}

impl Win32ComputerSystemProduct {
    pub const CLASS: &'static str = "Win32_ComputerSystemProduct";

    pub fn from_instance(i: &Instance) -> Result<Self, BadValue> {
        let p = Props::new(i, Self::CLASS);
        Ok(Self {
            uuid: p.trimmed("UUID")?,
            identifying_number: p.trimmed("IdentifyingNumber")?,
            vendor: p.trimmed("Vendor")?,
        })
    }
}
