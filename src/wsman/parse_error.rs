//! Why a reply body could not be read. Every variant is a protocol
//! failure: the peer sent something we will not interpret.

use crate::error::{ErrorKind, HasKind};

/// Limits that bound the work one reply can cause.
pub const MAX_DEPTH: usize = 64;
pub const MAX_INSTANCES: usize = 200_000;
pub const MAX_PROPERTIES: usize = 10_000;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ParseError {
    #[error("reply is not UTF-8")]
    NotUtf8,
    #[error("malformed XML at byte {position}: {reason}")]
    Xml { position: u64, reason: String },
    #[error("reply contains a DOCTYPE, which SOAP forbids")]
    DocType,
    #[error("XML nested deeper than {MAX_DEPTH} elements")]
    TooDeep,
    #[error("more than {limit} instances in one reply")]
    TooManyInstances { limit: usize },
    #[error("more than {MAX_PROPERTIES} properties in one instance")]
    TooManyProperties,
    #[error("undeclared namespace prefix `{0}`")]
    UndeclaredPrefix(String),
    #[error("unknown entity `&{0};`")]
    UnknownEntity(String),
    #[error("reply ends before its elements are closed")]
    Truncated,
    #[error("content outside the document element")]
    TrailingContent,
    #[error("reply is not a SOAP 1.2 envelope (root element `{0}`)")]
    NotAnEnvelope(String),
    #[error("missing element {0}")]
    MissingElement(&'static str),
    #[error("unexpected reply body `{got}` (expected {expected})")]
    UnexpectedBody { expected: &'static str, got: String },
}

impl HasKind for ParseError {
    fn kind(&self) -> ErrorKind {
        ErrorKind::Protocol
    }
}

/// Keeps peer-controlled text short in error messages.
pub(crate) fn clip(s: &str) -> String {
    const MAX: usize = 64;
    match s.char_indices().nth(MAX) {
        Some((i, _)) => format!("{}…", &s[..i]),
        None => s.to_string(),
    }
}
