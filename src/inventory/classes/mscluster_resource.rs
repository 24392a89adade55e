use super::Props;
use crate::inventory::error::BadValue;
use crate::wsman::Instance;

/// `MSCluster_Resource` of type `Virtual Machine`: which node owns a VM.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct MsclusterResource {
    pub name: Option<String>,
    pub resource_type: Option<String>,
    pub owner_node: Option<String>,
    pub owner_group: Option<String>,
    /// -1 unknown, 2 online, 3 offline, 4 failed, 129/130 pending.
    pub state: Option<i64>,
    /// `PrivateProperties.VmID`: the VM GUID linking the resource to
    /// `Msvm_ComputerSystem.Name`.
    pub vm_id: Option<String>,
}

impl MsclusterResource {
    pub const CLASS: &'static str = "MSCluster_Resource";

    pub fn from_instance(i: &Instance) -> Result<Self, BadValue> {
        let p = Props::new(i, Self::CLASS);
        let vm_id = match p.embedded("PrivateProperties")? {
            Some(pp) => Props::new(pp, "MSCluster_Resource.PrivateProperties").trimmed("VmID")?,
            None => None,
        };
        Ok(Self {
            name: p.trimmed("Name")?,
            resource_type: p.trimmed("Type")?,
            owner_node: p.trimmed("OwnerNode")?,
            owner_group: p.trimmed("OwnerGroup")?,
            state: p.num("State")?,
            vm_id,
        })
    }

    pub fn state_name(state: Option<i64>) -> String {
        match state {
            Some(0) => "inherited".into(),
            Some(1) => "initializing".into(),
            Some(2) => "online".into(),
            Some(3) => "offline".into(),
            Some(4) => "failed".into(),
            Some(128) => "pending".into(),
            Some(129) => "online_pending".into(),
            Some(130) => "offline_pending".into(),
            Some(n) => format!("unknown({n})"),
            None => "unknown".into(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::inventory::classes::testing::inst;
    use crate::wsman::Value;

    #[test]
    fn vm_id_comes_from_embedded_private_properties() {
        let mut r = inst(
            "MSCluster_Resource",
            &[
                ("Name", Some("Virtual Machine db01")),
                ("OwnerNode", Some("HV02")),
                ("State", Some("2")),
            ],
        );
        let pp = inst(
            "MSCluster_VirtualMachine",
            &[("VmID", Some("0e2d1f04-6bd5-4d5b-a0b6-9d6c2b4c9f10"))],
        );
        r.props
            .push(("PrivateProperties".into(), Value::Embedded(Box::new(pp))));
        let r = MsclusterResource::from_instance(&r).unwrap();
        assert_eq!(
            r.vm_id.as_deref(),
            Some("0e2d1f04-6bd5-4d5b-a0b6-9d6c2b4c9f10")
        );
        assert_eq!(r.owner_node.as_deref(), Some("HV02"));
        assert_eq!(MsclusterResource::state_name(r.state), "online");
    }

    #[test]
    fn missing_private_properties_leaves_no_link() {
        let r = inst("MSCluster_Resource", &[("Name", Some("x"))]);
        assert_eq!(MsclusterResource::from_instance(&r).unwrap().vm_id, None);
    }
}
