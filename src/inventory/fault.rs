//! What a failed select means for collection: the wsman layer's one
//! classification (`WsmanFault::class`), extended to errors that are not
//! SOAP faults. Never English text: Windows localizes it.

use crate::error::{ErrorKind, HasKind};
pub use crate::wsman::FaultClass;
use crate::wsman::WsmanError;

pub fn classify(err: &WsmanError) -> FaultClass {
    match err {
        WsmanError::Fault(f) => f.class(),
        other => match other.kind() {
            ErrorKind::AccessDenied => FaultClass::AccessDenied,
            ErrorKind::Timeout => FaultClass::TimedOut,
            _ => FaultClass::Other,
        },
    }
}

/// A select that names properties may be retried once as `SELECT *` on
/// this: the host refused the select (a property its release lacks).
pub fn retry_as_select_star(err: &WsmanError) -> bool {
    err.fault().is_some_and(|f| {
        f.is_cannot_process_filter()
            || matches!(
                f.class(),
                FaultClass::InvalidQuery | FaultClass::FilterRefused
            )
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::wsman::WsmanFault;

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
        assert!(retry_as_select_star(&fault(Some(0x8004_1017), "x")));
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
        assert!(!retry_as_select_star(&e));
    }

    #[test]
    fn english_text_decides_nothing() {
        for text in [
            "The WMI service returned an 'invalid namespace' error.",
            "Invalid query",
            "Access is denied.",
            "The specified class does not exist in the given namespace.",
        ] {
            // CannotProcessFilter with only text: WMI refused the select.
            assert_eq!(classify(&fault(None, text)), FaultClass::FilterRefused);
            let bare = WsmanError::Fault(WsmanFault {
                message: text.to_string(),
                ..WsmanFault::default()
            });
            assert_eq!(classify(&bare), FaultClass::Other, "{text}");
        }
    }
}
