use super::Props;
use crate::inventory::error::BadValue;
use crate::wsman::Instance;

/// `Msvm_ProcessorSettingData`: virtual processors of one configuration.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct MsvmProcessorSettingData {
    /// `Microsoft:<configuration GUID>\…`: joins the row to its configuration.
    pub instance_id: Option<String>,
    /// vCPUs.
    pub virtual_quantity: Option<u32>,
    /// Per-mille (100000 = 100 %).
    pub reservation: Option<u64>,
    pub limit: Option<u64>,
    pub weight: Option<u32>,
}

impl MsvmProcessorSettingData {
    pub const CLASS: &'static str = "Msvm_ProcessorSettingData";

    pub fn from_instance(i: &Instance) -> Result<Self, BadValue> {
        let p = Props::new(i, Self::CLASS);
        Ok(Self {
            instance_id: p.trimmed("InstanceID")?,
            virtual_quantity: p.num("VirtualQuantity")?,
            reservation: p.num("Reservation")?,
            limit: p.num("Limit")?,
            weight: p.num("Weight")?,
        })
    }
}
