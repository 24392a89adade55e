//! Sorting WS-Management failures into the few cases collection reacts to.
//!
//! Fault text is localized, so codes decide first; English text is only a
//! fallback for hosts (and simulators) that send no usable code.

use crate::error::{ErrorKind, HasKind};
use crate::wsman::{WsmanError, WsmanFault};

/// What a failed select means for collection.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FaultClass {
    /// The WMI namespace does not exist (no Hyper-V role, not a cluster node).
    InvalidNamespace,
    /// The class does not exist in the namespace.
    InvalidClass,
    /// The select was refused, typically for naming a property the host's
    /// release lacks.
    InvalidQuery,
    /// Authenticated but not allowed to read.
    AccessDenied,
    Other,
}

// Property-level refusals WsmanFault::is_invalid_query does not cover.
const WBEM_E_INVALID_PROPERTY: u32 = 0x8004_1011;
const WBEM_E_INVALID_QUERY_TYPE: u32 = 0x8004_1018;

pub fn classify(err: &WsmanError) -> FaultClass {
    match err {
        WsmanError::Fault(f) => classify_fault(f),
        other if other.kind() == ErrorKind::AccessDenied => FaultClass::AccessDenied,
        other if other.kind() == ErrorKind::Namespace => FaultClass::InvalidNamespace,
        _ => FaultClass::Other,
    }
}

/// Codes first (the wsman layer's reading of them), then English text.
pub fn classify_fault(f: &WsmanFault) -> FaultClass {
    if f.is_invalid_namespace() {
        FaultClass::InvalidNamespace
    } else if f.is_access_denied() {
        FaultClass::AccessDenied
    } else if f.is_invalid_class() {
        FaultClass::InvalidClass
    } else if f.is_invalid_query()
        || [f.provider_code, f.wmi_error_code, f.wsman_code]
            .iter()
            .flatten()
            .any(|c| *c == WBEM_E_INVALID_PROPERTY || *c == WBEM_E_INVALID_QUERY_TYPE)
    {
        FaultClass::InvalidQuery
    } else {
        classify_text(f)
    }
}

fn classify_text(f: &WsmanFault) -> FaultClass {
    let text = format!(
        "{} {}",
        f.message,
        f.provider_message.as_deref().unwrap_or_default()
    )
    .to_ascii_lowercase();
    if text.contains("invalid namespace") {
        FaultClass::InvalidNamespace
    } else if text.contains("access is denied") || text.contains("access denied") {
        FaultClass::AccessDenied
    } else if text.contains("invalid class") || text.contains("class does not exist") {
        FaultClass::InvalidClass
    } else if text.contains("invalid query") || text.contains("invalid property") {
        FaultClass::InvalidQuery
    } else {
        FaultClass::Other
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fault(provider_code: Option<u32>, message: &str) -> WsmanError {
        WsmanError::Fault(WsmanFault {
            wsman_code: Some(2_150_858_778),
            provider_code,
            message: message.to_string(),
            ..WsmanFault::default()
        })
    }

    #[test]
    fn wmi_invalid_namespace_code_wins_over_localized_text() {
        let e = fault(Some(0x8004_100E), "Espace de noms non valide");
        assert_eq!(classify(&e), FaultClass::InvalidNamespace);
    }

    #[test]
    fn wmi_invalid_query_code_is_invalid_query() {
        assert_eq!(
            classify(&fault(Some(0x8004_1017), "x")),
            FaultClass::InvalidQuery
        );
    }

    #[test]
    fn access_denied_subcode_and_code_5() {
        let e = WsmanError::Fault(WsmanFault {
            subcode: Some("AccessDenied".into()),
            ..WsmanFault::default()
        });
        assert_eq!(classify(&e), FaultClass::AccessDenied);
        let e = WsmanError::Fault(WsmanFault {
            wsman_code: Some(5),
            ..WsmanFault::default()
        });
        assert_eq!(classify(&e), FaultClass::AccessDenied);
    }

    #[test]
    fn english_text_is_a_fallback_when_no_code_says_more() {
        let e = fault(
            None,
            "The WMI service returned an 'invalid namespace' error.",
        );
        assert_eq!(classify(&e), FaultClass::InvalidNamespace);
        assert_eq!(
            classify(&fault(None, "Invalid query")),
            FaultClass::InvalidQuery
        );
        assert_eq!(classify(&fault(None, "something else")), FaultClass::Other);
    }
}
