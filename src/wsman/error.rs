//! WS-Management errors and faults as data.

use super::parse_error::ParseError;
use crate::error::{ErrorKind, HasKind};
use crate::transport::TransportError;
use std::fmt;

/// A SOAP fault as WinRM sends it (`s:Fault` with `f:WSManFault` detail).
/// Its meaning (`class()`) is read in `fault.rs`, the only place that does.
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
    /// Every `f:WSManFault/@Code`, outermost first, at every nesting level.
    pub wsman_codes: Vec<u32>,
    /// The CIM error instance in `s:Detail` (`MSFT_WmiError`, `OMI_Error`).
    /// Boxed: most faults have none, and errors travel by value.
    pub cim_error: Option<Box<CimError>>,
    /// `wsman:FaultDetail` URI (e.g. `…/faultDetail/ResourceNotFound`).
    pub fault_detail: Option<String>,
}

/// What a fault means, for every caller (collection, `check`, error kinds).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FaultClass {
    /// The operation timeout expired (`w:TimedOut`, 2150858793).
    TimedOut,
    /// Authenticated but not allowed to read.
    AccessDenied,
    /// A code says the namespace does not exist.
    InvalidNamespace,
    /// A code says the class does not exist in the namespace.
    InvalidClass,
    /// A code says the select itself is wrong (a property the host's
    /// release lacks, a query WMI cannot run).
    InvalidQuery,
    /// A code says the WMI provider failed to load or failed.
    ProviderFailure,
    /// `CannotProcessFilter` with no code that says why: WMI refused the
    /// select (missing namespace or class, a property the release lacks, a
    /// provider that failed to load: only the localized text tells).
    FilterRefused,
    Other,
}

/// A CIM error instance sent as fault detail (`MSFT_WmiError` on WinRM
/// 3.0+, `OMI_Error` on OMI). Its `error_Code` is `WsmanFault::wmi_error_code`.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct CimError {
    /// Local name of the instance element (`MSFT_WmiError`, `OMI_Error`).
    pub class: String,
    /// DMTF CIM status (`CIMStatusCode`): 2 access denied, 3 no namespace…
    pub cim_status: Option<u32>,
    /// `Message`, in the host's language.
    pub message: Option<String>,
    /// The code in `MessageID` when it reads `HRESULT 0x…`.
    pub hresult: Option<u32>,
}

impl WsmanFault {
    pub fn cim_status(&self) -> Option<u32> {
        self.cim_error.as_ref().and_then(|e| e.cim_status)
    }

    pub fn hresult(&self) -> Option<u32> {
        self.cim_error.as_ref().and_then(|e| e.hresult)
    }

    /// `MSFT_WmiError` / `OMI_Error`, when the fault carried one.
    pub fn error_class(&self) -> Option<&str> {
        self.cim_error.as_ref().map(|e| e.class.as_str())
    }

    fn error_message(&self) -> Option<&String> {
        self.cim_error.as_ref().and_then(|e| e.message.as_ref())
    }
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
        if let Some(em) = self.error_message()
            && *em != self.message
            && Some(em) != self.provider_message.as_ref()
        {
            write!(f, "; {}: {em}", self.error_class().unwrap_or("error"))?;
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
