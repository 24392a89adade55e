use super::Props;
use crate::inventory::error::BadValue;
use crate::wsman::Instance;

/// `Win32_Service` (only `vmms` is asked for).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Win32Service {
    pub name: Option<String>,
    /// `Running`, `Stopped`, … (not localized: a CIM value map).
    pub state: Option<String>,
    pub start_mode: Option<String>,
}

impl Win32Service {
    pub const CLASS: &'static str = "Win32_Service";

    pub fn from_instance(i: &Instance) -> Result<Self, BadValue> {
        let p = Props::new(i, Self::CLASS);
        Ok(Self {
            name: p.trimmed("Name")?,
            state: p.trimmed("State")?,
            start_mode: p.trimmed("StartMode")?,
        })
    }

    pub fn is_running(&self) -> bool {
        self.state
            .as_deref()
            .is_some_and(|s| s.eq_ignore_ascii_case("Running"))
    }
}
