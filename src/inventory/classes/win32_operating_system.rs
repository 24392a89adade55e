use super::Props;
use crate::inventory::error::BadValue;
use crate::wsman::Instance;

/// `Win32_OperatingSystem`: product name (localized, display only), version, build.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Win32OperatingSystem {
    pub caption: Option<String>,
    pub version: Option<String>,
    pub build_number: Option<String>,
}

impl Win32OperatingSystem {
    pub const CLASS: &'static str = "Win32_OperatingSystem";

    pub fn from_instance(i: &Instance) -> Result<Self, BadValue> {
        let p = Props::new(i, Self::CLASS);
        Ok(Self {
            caption: p.trimmed("Caption")?,
            version: p.trimmed("Version")?,
            build_number: p.trimmed("BuildNumber")?,
        })
    }
}
