use super::Props;
use crate::inventory::error::BadValue;
use crate::wsman::Instance;

/// `MSCluster_Node`: one cluster member.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct MsclusterNode {
    pub name: Option<String>,
    /// -1 unknown, 0 up, 1 down, 2 paused, 3 joining.
    pub state: Option<i64>,
}

impl MsclusterNode {
    pub const CLASS: &'static str = "MSCluster_Node";

    pub fn from_instance(i: &Instance) -> Result<Self, BadValue> {
        let p = Props::new(i, Self::CLASS);
        Ok(Self {
            name: p.trimmed("Name")?,
            state: p.num("State")?,
        })
    }

    pub fn state_name(state: Option<i64>) -> String {
        match state {
            Some(0) => "up".into(),
            Some(1) => "down".into(),
            Some(2) => "paused".into(),
            Some(3) => "joining".into(),
            Some(n) => format!("unknown({n})"),
            None => "unknown".into(),
        }
    }
}
