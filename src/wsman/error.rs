//! WS-Management errors and faults as data.

use super::parse_error::ParseError;
use crate::error::{ErrorKind, HasKind};
use crate::transport::TransportError;
use std::fmt;

/// A SOAP fault as WinRM sends it (`s:Fault` with `f:WSManFault` detail).
/// Classification helpers (`is_access_denied()`…) live in `fault.rs`.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct WsmanFault {
    /// `s:Code/s:Value` (e.g. `s:Sender`), local part.
    pub code: Option<String>,
    /// `s:Subcode/s:Value` local part (e.g. `AccessDenied`, `TimedOut`, `CannotProcessFilter`).
    pub subcode: Option<String>,
    /// `f:WSManFault/@Code` (e.g. 5, 2150858778).
    pub wsman_code: Option<u32>,
    /// `f:WSManFault/@Machine`.
    pub machine: Option<String>,
    /// Human text: `f:Message`, else `s:Reason/s:Text`.
    pub message: String,
    /// `f:ProviderFault` inner code and text, when the WMI provider spoke.
    pub provider_code: Option<u32>,
    pub provider_message: Option<String>,
    /// `MSFT_WmiError/error_Code`, when present.
    pub wmi_error_code: Option<u32>,
    /// `wsman:FaultDetail` URI (e.g. `…/faultDetail/ResourceNotFound`).
    pub fault_detail: Option<String>,
}

impl fmt::Display for WsmanFault {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if let Some(sub) = &self.subcode {
            write!(f, "{sub}")?;
        } else if let Some(code) = &self.code {
            write!(f, "{code}")?;
        }
        if let Some(c) = self.wsman_code {
            write!(f, " (code {c})")?;
        }
        if !self.message.is_empty() {
            write!(f, ": {}", self.message)?;
        }
        if let Some(pm) = &self.provider_message
            && *pm != self.message
        {
            write!(f, "; provider: {pm}")?;
        }
        if let Some(pc) = self.provider_code.filter(|c| Some(*c) != self.wsman_code) {
            write!(f, " (0x{pc:08X})")?;
        }
        Ok(())
    }
}

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
            WsmanError::Fault(f) => {
                if f.is_timed_out() {
                    ErrorKind::Timeout
                } else if f.is_access_denied() {
                    ErrorKind::AccessDenied
                } else if f.is_invalid_namespace() || f.is_invalid_class() {
                    ErrorKind::Namespace
                } else {
                    ErrorKind::Protocol
                }
            }
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
