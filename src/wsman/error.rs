//! WS-Management errors (the faults themselves are data in `fault.rs`).

use super::fault::{FaultClass, WsmanFault};
use super::parse_error::ParseError;
use crate::error::{ErrorKind, HasKind};
use crate::transport::TransportError;

#[derive(Debug, thiserror::Error)]
pub enum WsmanError {
    #[error(transparent)]
    Transport(#[from] TransportError),
    #[error("WS-Management fault: {0}")]
    Fault(WsmanFault),
    #[error("malformed reply: {0}")]
    Parse(#[from] ParseError),
    /// A status other than 200, or a 400/500 without a SOAP fault (413:
    /// request larger than MaxEnvelopeSizekb).
    #[error("unexpected HTTP status {status}: {detail}")]
    HttpStatus { status: u16, detail: String },
    #[error("reply RelatesTo {got:?} does not match our MessageID {expected}")]
    RelatesToMismatch {
        expected: String,
        got: Option<String>,
    },
    #[error("enumeration returned more than {limit} instances")]
    TooManyInstances { limit: usize },
    #[error("enumeration never ended: {pulls} Pull requests without EndOfSequence")]
    EndlessEnumeration { pulls: usize },
    #[error("{what} timed out after {secs:.1} s")]
    Timeout { what: &'static str, secs: f64 },
}

impl HasKind for WsmanError {
    fn kind(&self) -> ErrorKind {
        match self {
            WsmanError::Transport(t) => t.kind(),
            WsmanError::Fault(f) => match f.class() {
                FaultClass::TimedOut => ErrorKind::Timeout,
                FaultClass::AccessDenied => ErrorKind::AccessDenied,
                FaultClass::InvalidNamespace | FaultClass::InvalidClass => ErrorKind::Namespace,
                FaultClass::InvalidQuery
                | FaultClass::ProviderFailure
                | FaultClass::FilterRefused
                | FaultClass::Other => ErrorKind::Protocol,
            },
            WsmanError::Timeout { .. } => ErrorKind::Timeout,
            WsmanError::Parse(p) => p.kind(),
            WsmanError::HttpStatus { .. }
            | WsmanError::RelatesToMismatch { .. }
            | WsmanError::TooManyInstances { .. }
            | WsmanError::EndlessEnumeration { .. } => ErrorKind::Protocol,
        }
    }
}

impl WsmanError {
    /// The fault, when the peer answered with one.
    pub fn fault(&self) -> Option<&WsmanFault> {
        match self {
            WsmanError::Fault(f) => Some(f),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn http_413_is_protocol_and_names_the_status() {
        let e = WsmanError::HttpStatus {
            status: 413,
            detail: "request too large".into(),
        };
        assert_eq!(e.kind(), ErrorKind::Protocol);
        assert!(e.to_string().contains("413"));
    }

    #[test]
    fn fault_display_shows_subcode_code_and_provider_text() {
        let f = WsmanFault {
            subcode: Some("CannotProcessFilter".into()),
            wsman_code: Some(2150858778),
            message: "The data source could not process the filter.".into(),
            provider_code: Some(2147749911),
            provider_message: Some("Invalid query".into()),
            ..WsmanFault::default()
        };
        assert_eq!(
            f.to_string(),
            "CannotProcessFilter (code 2150858778): The data source could not process the filter.; provider: Invalid query (0x80041017)"
        );
    }
}
