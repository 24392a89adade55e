use super::Props;
use crate::inventory::error::BadValue;
use crate::wsman::Instance;

/// `Msvm_MemorySettingData`: memory of one configuration, in MB.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct MsvmMemorySettingData {
    pub instance_id: Option<String>,
    /// Startup memory (MB) with dynamic memory, else the fixed size.
    pub virtual_quantity: Option<u64>,
    pub dynamic_memory_enabled: Option<bool>,
    pub reservation: Option<u64>,
    pub limit: Option<u64>,
}

impl MsvmMemorySettingData {
    pub const CLASS: &'static str = "Msvm_MemorySettingData";

    pub fn from_instance(i: &Instance) -> Result<Self, BadValue> {
        let p = Props::new(i, Self::CLASS);
        Ok(Self {
            instance_id: p.trimmed("InstanceID")?,
            virtual_quantity: p.num("VirtualQuantity")?,
            dynamic_memory_enabled: p.boolean("DynamicMemoryEnabled")?,
            reservation: p.num("Reservation")?,
            limit: p.num("Limit")?,
        })
    }
}
