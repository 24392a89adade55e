//! CIM values as the simulator holds them before writing XML.

use crate::simulator::wql::Scalar;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CimValue {
    Null,
    Str(String),
    UInt(u64),
    Int(i64),
    Bool(bool),
    /// xs:dateTime text, written inside `<cim:Datetime>`.
    DateTime(String),
    /// Repeated elements; empty = one nil element.
    Array(Vec<CimValue>),
    Embedded(Embedded),
}

/// An embedded instance (e.g. `MSCluster_Resource.PrivateProperties`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Embedded {
    /// Class of the embedded instance, e.g. `MSCluster_Property`.
    pub class: &'static str,
    pub props: Vec<(&'static str, CimValue)>,
}

impl CimValue {
    pub fn s(v: impl Into<String>) -> CimValue {
        CimValue::Str(v.into())
    }

    pub fn opt_s(v: Option<impl Into<String>>) -> CimValue {
        v.map_or(CimValue::Null, |s| CimValue::Str(s.into()))
    }

    /// The value as a WQL condition sees it (arrays and embedded: null).
    pub fn scalar(&self) -> Scalar<'_> {
        match self {
            CimValue::Str(s) | CimValue::DateTime(s) => Scalar::Str(s),
            CimValue::UInt(n) => Scalar::Int(i64::try_from(*n).unwrap_or(i64::MAX)),
            CimValue::Int(n) => Scalar::Int(*n),
            CimValue::Bool(b) => Scalar::Bool(*b),
            CimValue::Null | CimValue::Array(_) | CimValue::Embedded(_) => Scalar::Null,
        }
    }
}

/// One instance: property values by canonical name. Properties the class
/// has but the row does not set are written as nil.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Row {
    pub props: Vec<(&'static str, CimValue)>,
}

impl Row {
    pub fn new() -> Self {
        Row {
            props: Vec::with_capacity(24),
        }
    }

    pub fn set(mut self, name: &'static str, v: CimValue) -> Self {
        self.props.push((name, v));
        self
    }

    pub fn get(&self, name: &str) -> Option<&CimValue> {
        self.props
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v)
    }
}

/// Deterministic xs:dateTime from a 64-bit value: a moment between 2015
/// and 2023 (so generated dates look plausible and never negative).
pub fn datetime_from(hash: u64) -> String {
    let secs = 1_420_070_400 + (hash % 260_000_000) as i64;
    chrono::DateTime::from_timestamp(secs, 0)
        .map(|d| d.format("%Y-%m-%dT%H:%M:%SZ").to_string())
        .unwrap_or_else(|| "2020-01-01T00:00:00Z".to_string())
}

/// Stable 64-bit hash of a string (FNV-1a), for derived values.
pub fn hash(s: &str) -> u64 {
    s.bytes().fold(0xcbf2_9ce4_8422_2325u64, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(0x100_0000_01b3)
    })
}
