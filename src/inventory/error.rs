//! Why collecting one host failed, and which `ErrorKind` that is.

use crate::error::{ErrorKind, HasKind};
use crate::wsman::WsmanError;

/// A property whose value could not be read as its CIM type (a number that
/// is not a number, an array where a scalar belongs…). Names the place, not
/// the value: values come from the network and are not echoed back.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unexpected value in {class}.{property}")]
pub struct BadValue {
    pub class: &'static str,
    pub property: &'static str,
}

#[derive(Debug, thiserror::Error)]
pub enum CollectError {
    /// A query failed in a way that fails the host (not a tolerated fallback).
    #[error("query {query} failed: {source}")]
    Query {
        query: &'static str,
        // Boxed: a fault carries several strings and this error travels by value.
        #[source]
        source: Box<WsmanError>,
    },
    /// Neither `root/virtualization/v2` nor `root/virtualization` exists.
    #[error(
        "not a Hyper-V host: neither root/virtualization/v2 nor root/virtualization exists (is the Hyper-V role installed?)"
    )]
    NotHyperV,
    /// The Hyper-V provider failed while the service behind it is stopped.
    #[error(
        "the Hyper-V Virtual Machine Management service (vmms) is {state}, so Hyper-V data cannot be read"
    )]
    VmmsNotRunning {
        state: String,
        #[source]
        source: Box<WsmanError>,
    },
    #[error(transparent)]
    BadValue(#[from] BadValue),
    /// The host answered, but not with what every Windows host has.
    #[error("incomplete reply: {0}")]
    Missing(&'static str),
}

impl HasKind for CollectError {
    fn kind(&self) -> ErrorKind {
        match self {
            // The wsman layer's one classification decides.
            CollectError::Query { source, .. } => source.kind(),
            CollectError::NotHyperV | CollectError::VmmsNotRunning { .. } => ErrorKind::Namespace,
            CollectError::BadValue(_) | CollectError::Missing(_) => ErrorKind::Protocol,
        }
    }
}
