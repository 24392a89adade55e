use super::Props;
use crate::inventory::error::BadValue;
use crate::wsman::Instance;

/// `Win32_BIOS`: the serial number, the host key when the UUID is unusable.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Win32Bios {
    pub serial_number: Option<String>,
}

impl Win32Bios {
    pub const CLASS: &'static str = "Win32_BIOS";

    pub fn from_instance(i: &Instance) -> Result<Self, BadValue> {
        let p = Props::new(i, Self::CLASS);
        Ok(Self {
            serial_number: p.trimmed("SerialNumber")?,
        })
    }
}
