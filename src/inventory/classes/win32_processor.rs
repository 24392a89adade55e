use super::Props;
use crate::inventory::error::BadValue;
use crate::wsman::Instance;

/// `Win32_Processor`: one row per populated socket.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Win32Processor {
    pub device_id: Option<String>,
    pub name: Option<String>,
    pub manufacturer: Option<String>,
    pub number_of_cores: Option<u32>,
    pub number_of_logical_processors: Option<u32>,
    pub max_clock_speed: Option<u32>,
    pub socket_designation: Option<String>,
}

impl Win32Processor {
    pub const CLASS: &'static str = "Win32_Processor";

    pub fn from_instance(i: &Instance) -> Result<Self, BadValue> {
        let p = Props::new(i, Self::CLASS);
        Ok(Self {
            device_id: p.trimmed("DeviceID")?,
            // Intel pads Name with spaces on some firmware.
            name: p.trimmed("Name")?,
            manufacturer: p.trimmed("Manufacturer")?,
            number_of_cores: p.num("NumberOfCores")?,
            number_of_logical_processors: p.num("NumberOfLogicalProcessors")?,
            max_clock_speed: p.num("MaxClockSpeed")?,
            socket_designation: p.trimmed("SocketDesignation")?,
        })
    }
}
