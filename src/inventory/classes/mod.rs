//! Typed views of the WMI classes hvinv reads, one class per file. Each is
//! built from a generic `wsman::Instance`; a property the host did not send
//! is `None` (older releases lack newer properties), a value that cannot be
//! read as its CIM type is a `BadValue`.

mod mscluster_cluster;
mod mscluster_node;
mod mscluster_resource;
mod msvm_computer_system;
mod msvm_memory_setting_data;
mod msvm_processor_setting_data;
mod msvm_virtual_system_setting_data;
mod win32_bios;
mod win32_computer_system;
mod win32_computer_system_product;
mod win32_operating_system;
mod win32_processor;
mod win32_service;

pub use mscluster_cluster::MsclusterCluster;
pub use mscluster_node::MsclusterNode;
pub use mscluster_resource::MsclusterResource;
pub use msvm_computer_system::MsvmComputerSystem;
pub use msvm_memory_setting_data::MsvmMemorySettingData;
pub use msvm_processor_setting_data::MsvmProcessorSettingData;
pub use msvm_virtual_system_setting_data::MsvmVirtualSystemSettingData;
pub use win32_bios::Win32Bios;
pub use win32_computer_system::Win32ComputerSystem;
pub use win32_computer_system_product::Win32ComputerSystemProduct;
pub use win32_operating_system::Win32OperatingSystem;
pub use win32_processor::Win32Processor;
pub use win32_service::Win32Service;

use crate::inventory::error::BadValue;
use crate::wsman::{Instance, Value};
use std::str::FromStr;

/// Reads one instance's properties as CIM types, naming the class in errors.
pub(crate) struct Props<'a> {
    inst: &'a Instance,
    class: &'static str,
}

impl<'a> Props<'a> {
    pub(crate) fn new(inst: &'a Instance, class: &'static str) -> Self {
        Props { inst, class }
    }

    fn bad(&self, property: &'static str) -> BadValue {
        BadValue {
            class: self.class,
            property,
        }
    }

    /// Absent → `None`; null → `Some(None)`; text → `Some(Some(..))`.
    pub(crate) fn text_presence(
        &self,
        property: &'static str,
    ) -> Result<Option<Option<String>>, BadValue> {
        match self.inst.get(property) {
            None => Ok(None),
            Some(v) => self
                .scalar_text(property, v)
                .map(|t| Some(t.map(str::to_string))),
        }
    }

    fn scalar_text<'v>(
        &self,
        property: &'static str,
        v: &'v Value,
    ) -> Result<Option<&'v str>, BadValue> {
        match v {
            Value::Null => Ok(None),
            Value::Text(s) | Value::Datetime(s) | Value::Interval(s) => Ok(Some(s.as_str())),
            // WinRM sends arrays as repeated elements; a scalar never repeats.
            Value::Array(items) if items.len() == 1 => match items.first() {
                Some(first) => self.scalar_text(property, first),
                None => Ok(None),
            },
            _ => Err(self.bad(property)),
        }
    }

    /// Text, absent and null both `None`.
    pub(crate) fn text(&self, property: &'static str) -> Result<Option<String>, BadValue> {
        Ok(self.text_presence(property)?.flatten())
    }

    /// Text trimmed, blank treated as missing (WMI pads some strings).
    pub(crate) fn trimmed(&self, property: &'static str) -> Result<Option<String>, BadValue> {
        Ok(self
            .text(property)?
            .map(|s| s.trim().to_string())
            .filter(|s| !s.is_empty()))
    }

    /// A number; absent, null or blank is `None`, anything unparsable is bad.
    pub(crate) fn num<T: FromStr>(&self, property: &'static str) -> Result<Option<T>, BadValue> {
        match self.text(property)? {
            None => Ok(None),
            Some(s) if s.trim().is_empty() => Ok(None),
            Some(s) => s.trim().parse().map(Some).map_err(|_| self.bad(property)),
        }
    }

    pub(crate) fn boolean(&self, property: &'static str) -> Result<Option<bool>, BadValue> {
        match self.text(property)?.as_deref().map(str::trim) {
            None | Some("") => Ok(None),
            Some(s) if s.eq_ignore_ascii_case("true") || s == "1" => Ok(Some(true)),
            Some(s) if s.eq_ignore_ascii_case("false") || s == "0" => Ok(Some(false)),
            Some(_) => Err(self.bad(property)),
        }
    }

    /// An embedded instance; absent or null is `None`, other shapes are bad.
    pub(crate) fn embedded(
        &self,
        property: &'static str,
    ) -> Result<Option<&'a Instance>, BadValue> {
        match self.inst.get(property) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::Embedded(i)) => Ok(Some(i)),
            Some(_) => Err(self.bad(property)),
        }
    }
}

#[cfg(test)]
pub(crate) mod testing {
    use crate::wsman::{Instance, Value};

    /// An instance from (name, text) pairs; `None` text means `xsi:nil`.
    pub fn inst(class: &str, props: &[(&str, Option<&str>)]) -> Instance {
        Instance {
            class: class.to_string(),
            resource_uri: None,
            props: props
                .iter()
                .map(|(n, v)| {
                    let v = match v {
                        Some(t) => Value::Text((*t).to_string()),
                        None => Value::Null,
                    };
                    ((*n).to_string(), v)
                })
                .collect(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::testing::inst;
    use super::*;

    #[test]
    fn absent_and_null_differ_only_where_asked() {
        let i = inst("C", &[("A", None), ("B", Some("x"))]);
        let p = Props::new(&i, "C");
        assert_eq!(p.text_presence("A").unwrap(), Some(None));
        assert_eq!(p.text_presence("Z").unwrap(), None);
        assert_eq!(p.text_presence("B").unwrap(), Some(Some("x".into())));
        assert_eq!(p.text("A").unwrap(), None);
    }

    #[test]
    fn non_numeric_number_is_bad_value_naming_class_and_property() {
        let i = inst("Win32_Processor", &[("NumberOfCores", Some("many"))]);
        let p = Props::new(&i, "Win32_Processor");
        assert_eq!(
            p.num::<u32>("NumberOfCores").unwrap_err(),
            BadValue {
                class: "Win32_Processor",
                property: "NumberOfCores"
            }
        );
    }

    #[test]
    fn array_where_scalar_belongs_is_bad_unless_single() {
        let mut i = inst("C", &[]);
        i.props.push((
            "N".into(),
            Value::Array(vec![Value::Text("1".into()), Value::Text("2".into())]),
        ));
        i.props
            .push(("M".into(), Value::Array(vec![Value::Text("7".into())])));
        let p = Props::new(&i, "C");
        assert!(p.num::<u32>("N").is_err());
        assert_eq!(p.num::<u32>("M").unwrap(), Some(7));
    }

    #[test]
    fn booleans_accept_wmi_spellings() {
        let i = inst(
            "C",
            &[("T", Some("TRUE")), ("F", Some("0")), ("X", Some("maybe"))],
        );
        let p = Props::new(&i, "C");
        assert_eq!(p.boolean("T").unwrap(), Some(true));
        assert_eq!(p.boolean("F").unwrap(), Some(false));
        assert!(p.boolean("X").is_err());
    }
}
