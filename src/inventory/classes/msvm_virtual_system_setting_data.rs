use super::Props;
use crate::inventory::error::BadValue;
use crate::wsman::Instance;

/// `Msvm_VirtualSystemSettingData`: a VM's configuration (realized, planned
/// or a checkpoint; the query filters to the realized one).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct MsvmVirtualSystemSettingData {
    /// `Microsoft:<GUID>`; for the realized configuration the GUID is the VM's.
    pub instance_id: Option<String>,
    /// The VM GUID (v2).
    pub virtual_system_identifier: Option<String>,
    /// The VM GUID on v1 (`root/virtualization`), which may lack the above.
    pub system_name: Option<String>,
    pub element_name: Option<String>,
    pub bios_guid: Option<String>,
    pub bios_serial_number: Option<String>,
    /// `Microsoft:Hyper-V:SubType:1|2`. Absent before 2012 R2 (all VMs are
    /// generation 1 there), which is why absence is kept apart from null.
    pub virtual_system_sub_type: Option<Option<String>>,
    pub virtual_system_type: Option<String>,
    /// v1 only: 3 = current settings, 5 = snapshot.
    pub setting_type: Option<u16>,
    pub version: Option<String>,
}

impl MsvmVirtualSystemSettingData {
    pub const CLASS: &'static str = "Msvm_VirtualSystemSettingData";

    pub fn from_instance(i: &Instance) -> Result<Self, BadValue> {
        let p = Props::new(i, Self::CLASS);
        Ok(Self {
            instance_id: p.trimmed("InstanceID")?,
            virtual_system_identifier: p.trimmed("VirtualSystemIdentifier")?,
            system_name: p.trimmed("SystemName")?,
            element_name: p.text("ElementName")?,
            bios_guid: p.trimmed("BIOSGUID")?,
            bios_serial_number: p.trimmed("BIOSSerialNumber")?,
            virtual_system_sub_type: p.text_presence("VirtualSystemSubType")?,
            virtual_system_type: p.trimmed("VirtualSystemType")?,
            setting_type: p.num("SettingType")?,
            version: p.trimmed("Version")?,
        })
    }
}
