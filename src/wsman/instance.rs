//! The generic CIM instance every WS-Enumeration item is parsed into.
//! Typed views (`inventory::classes`) are built from this; nothing above
//! `wsman` sees XML.

/// One property value as it came over the wire. Absent and null differ:
/// an absent property is simply not in `Instance::props`; a property sent
/// with `xsi:nil="true"` is `Value::Null`.
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    /// `xsi:nil="true"`.
    Null,
    /// Text content with entity references resolved (may be empty).
    Text(String),
    /// A property element repeated, in document order (CIM arrays).
    Array(Vec<Value>),
    /// `<cim:Datetime>` content, kept as sent (RFC 3339-ish, offsets allowed).
    Datetime(String),
    /// `<cim:Interval>` content, kept as sent (xs:duration, e.g. `P0DT0H1M40S`).
    Interval(String),
    /// An embedded instance (e.g. `MSCluster_Resource.PrivateProperties`).
    Embedded(Box<Instance>),
    /// An endpoint reference (CIM REF): resource URI and selectors.
    Reference(Reference),
}

/// A CIM reference (WS-Addressing EPR) as sent in a property.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Reference {
    pub address: Option<String>,
    pub resource_uri: Option<String>,
    pub selectors: Vec<(String, String)>,
}

/// One CIM instance: its class (local element name, e.g. `Win32_Processor`,
/// or `XmlFragment` for explicit property lists) and its properties in order.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Instance {
    pub class: String,
    /// The namespace URI of the instance element, when it had one
    /// (`…/wmi/root/cimv2/Win32_Processor`); `None` for fragments.
    pub resource_uri: Option<String>,
    pub props: Vec<(String, Value)>,
}

impl Instance {
    /// The property's value, `None` when absent. Names compare
    /// case-insensitively, as WMI does.
    pub fn get(&self, name: &str) -> Option<&Value> {
        self.props
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v)
    }

    /// Whether the property was sent at all (null counts as present).
    pub fn has(&self, name: &str) -> bool {
        self.get(name).is_some()
    }

    /// Text of a scalar property; `None` if absent, null or not text-like.
    pub fn text(&self, name: &str) -> Option<&str> {
        match self.get(name)? {
            Value::Text(s) | Value::Datetime(s) | Value::Interval(s) => Some(s.as_str()),
            _ => None,
        }
    }

    /// Integer value of a scalar property; `None` if absent, null or not a number.
    pub fn u64(&self, name: &str) -> Option<u64> {
        self.text(name)?.trim().parse().ok()
    }

    pub fn i64(&self, name: &str) -> Option<i64> {
        self.text(name)?.trim().parse().ok()
    }

    /// Boolean (`true`/`false`, also `1`/`0`).
    pub fn bool(&self, name: &str) -> Option<bool> {
        match self.text(name)?.trim() {
            "true" | "TRUE" | "True" | "1" => Some(true),
            "false" | "FALSE" | "False" | "0" => Some(false),
            _ => None,
        }
    }

    /// Values of an array property; a single element is a one-item array
    /// (WinRM sends arrays as repeated elements, so one element looks scalar).
    pub fn array(&self, name: &str) -> Vec<&Value> {
        match self.get(name) {
            None | Some(Value::Null) => Vec::new(),
            Some(Value::Array(items)) => items.iter().collect(),
            Some(v) => vec![v],
        }
    }

    pub fn embedded(&self, name: &str) -> Option<&Instance> {
        match self.get(name)? {
            Value::Embedded(i) => Some(i),
            _ => None,
        }
    }
}
