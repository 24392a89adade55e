//! WS-Management errors and faults as data.

use crate::error::{ErrorKind, HasKind};
use crate::transport::TransportError;

/// A SOAP fault as WinRM sends it (`s:Fault` with `f:WSManFault` detail).
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
}

#[derive(Debug, thiserror::Error)]
pub enum WsmanError {
    #[error("not implemented yet")]
    NotImplemented,
    #[error(transparent)]
    Transport(#[from] TransportError),
    #[error("WS-Management fault: {}", .0.message)]
    Fault(WsmanFault),
    #[error("malformed reply: {0}")]
    Malformed(String),
}

impl HasKind for WsmanError {
    fn kind(&self) -> ErrorKind {
        match self {
            WsmanError::NotImplemented => ErrorKind::Protocol,
            WsmanError::Transport(t) => t.kind(),
            WsmanError::Fault(_) => ErrorKind::Protocol,
            WsmanError::Malformed(_) => ErrorKind::Protocol,
        }
    }
}
