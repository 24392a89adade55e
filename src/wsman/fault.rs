//! SOAP faults as data, and the one reading of what they mean.
//!
//! Windows words faults in the host's language, so classification uses only
//! structure and codes: the subcode, the `f:WSManFault` code at every nesting
//! level (WinRM 2.0 nests a provider's WSManFault in `f:ProviderFault`), the
//! `MSFT_WmiError` detail of WinRM 3.0+ (`error_Code`, `CIMStatusCode`, the
//! HRESULT in `MessageID`) and OMI's `OMI_Error` (`CIMStatusCode`). The
//! host's own text is kept for the operator, never read.
//!
//! A refused WQL select usually arrives only as `CannotProcessFilter`
//! (2150858778), which says "WMI refused this select" and nothing about why
//! (missing namespace, missing class, a property the release lacks, a
//! provider that failed to load): that is [`FaultClass::FilterRefused`], not
//! "absent". Older shapes that carry the WMI code itself still classify by it.

pub use super::error::FaultClass;
use super::error::{CimError, WsmanFault};
use super::namespaces::Ns;
use super::parse_error::{ParseError, clip};
use super::xml::{Tok, XmlReader};

/// WinRM: the OperationTimeout expired (0x80338029).
pub const WSMAN_TIMED_OUT: u32 = 2150858793;
/// WinRM: "the data source could not process the filter" (0x8033801A):
/// WMI refused the select, for a reason only the (localized) text gives.
pub const WSMAN_CANNOT_PROCESS_FILTER: u32 = 2150858778;
/// WinRM: WMI access denied (0x80338105 / 0x80338104).
pub const WSMAN_WMI_ACCESS_DENIED: [u32; 2] = [2150859013, 2150859012];
/// Win32 ERROR_ACCESS_DENIED.
pub const ERROR_ACCESS_DENIED: u32 = 5;
/// WMI WBEM_E_ACCESS_DENIED (0x80041003).
pub const WBEM_E_ACCESS_DENIED: u32 = 2147749891;
/// WMI WBEM_E_PROVIDER_FAILURE (0x80041004).
pub const WBEM_E_PROVIDER_FAILURE: u32 = 2147749892;
/// WMI WBEM_E_INVALID_NAMESPACE (0x8004100E).
pub const WBEM_E_INVALID_NAMESPACE: u32 = 2147749902;
/// WMI WBEM_E_INVALID_CLASS (0x80041010).
pub const WBEM_E_INVALID_CLASS: u32 = 2147749904;
/// WMI WBEM_E_INVALID_PROPERTY (0x80041011).
pub const WBEM_E_INVALID_PROPERTY: u32 = 2147749905;
/// WMI WBEM_E_PROVIDER_LOAD_FAILURE (0x80041013).
pub const WBEM_E_PROVIDER_LOAD_FAILURE: u32 = 2147749907;
/// WMI WBEM_E_INVALID_QUERY (0x80041017).
pub const WBEM_E_INVALID_QUERY: u32 = 2147749911;
/// WMI WBEM_E_INVALID_QUERY_TYPE (0x80041018).
pub const WBEM_E_INVALID_QUERY_TYPE: u32 = 2147749912;

/// DMTF CIM status codes (DSP0200), in `MSFT_WmiError` and `OMI_Error`.
pub mod cim_status {
    pub const ACCESS_DENIED: u32 = 2;
    pub const INVALID_NAMESPACE: u32 = 3;
    pub const INVALID_CLASS: u32 = 5;
    pub const NO_SUCH_PROPERTY: u32 = 12;
    pub const QUERY_LANGUAGE_NOT_SUPPORTED: u32 = 14;
    pub const INVALID_QUERY: u32 = 15;
}

impl WsmanFault {
    /// Every code the fault carries: WSManFault codes at every level, the
    /// `MSFT_WmiError` code and the HRESULT of its `MessageID`.
    fn codes(&self) -> impl Iterator<Item = u32> + '_ {
        [self.wsman_code, self.provider_code]
            .into_iter()
            .flatten()
            .chain(self.wsman_codes.iter().copied())
            .chain([self.wmi_error_code, self.hresult()].into_iter().flatten())
    }

    fn has_code(&self, code: u32) -> bool {
        self.codes().any(|c| c == code)
    }

    fn has_any(&self, codes: &[u32]) -> bool {
        self.codes().any(|c| codes.contains(&c))
    }

    fn cim_status_in(&self, codes: &[u32]) -> bool {
        self.cim_status().is_some_and(|c| codes.contains(&c))
    }

    fn subcode_is(&self, name: &str) -> bool {
        self.subcode.as_deref() == Some(name)
    }

    /// The one classification. A specific code wins over
    /// `CannotProcessFilter`, which says only that WMI refused the select.
    pub fn class(&self) -> FaultClass {
        if self.subcode_is("TimedOut") || self.has_code(WSMAN_TIMED_OUT) {
            FaultClass::TimedOut
        } else if self.subcode_is("AccessDenied")
            || self.has_any(&[ERROR_ACCESS_DENIED, WBEM_E_ACCESS_DENIED])
            || self.has_any(&WSMAN_WMI_ACCESS_DENIED)
            || self.cim_status_in(&[cim_status::ACCESS_DENIED])
        {
            FaultClass::AccessDenied
        } else if self.has_code(WBEM_E_INVALID_NAMESPACE)
            || self.cim_status_in(&[cim_status::INVALID_NAMESPACE])
        {
            FaultClass::InvalidNamespace
        } else if self.has_code(WBEM_E_INVALID_CLASS)
            || self.cim_status_in(&[cim_status::INVALID_CLASS])
        {
            FaultClass::InvalidClass
        } else if self.has_any(&[
            WBEM_E_INVALID_QUERY,
            WBEM_E_INVALID_PROPERTY,
            WBEM_E_INVALID_QUERY_TYPE,
        ]) || self.cim_status_in(&[
            cim_status::NO_SUCH_PROPERTY,
            cim_status::QUERY_LANGUAGE_NOT_SUPPORTED,
            cim_status::INVALID_QUERY,
        ]) {
            FaultClass::InvalidQuery
        } else if self.has_any(&[WBEM_E_PROVIDER_LOAD_FAILURE, WBEM_E_PROVIDER_FAILURE]) {
            FaultClass::ProviderFailure
        } else if self.subcode_is("DestinationUnreachable")
            || self
                .fault_detail
                .as_deref()
                .is_some_and(|d| d.ends_with("/ResourceNotFound"))
        {
            // No code said more: the resource URI (namespace) is unknown.
            // After the codes, since OMI sends this subcode for a missing
            // class too (with CIM status 5).
            FaultClass::InvalidNamespace
        } else if self.is_cannot_process_filter() {
            FaultClass::FilterRefused
        } else {
            FaultClass::Other
        }
    }

    /// The fault is a `CannotProcessFilter` (subcode or code), whatever
    /// else it says: WMI refused the select.
    pub fn is_cannot_process_filter(&self) -> bool {
        self.subcode_is("CannotProcessFilter") || self.has_code(WSMAN_CANNOT_PROCESS_FILTER)
    }

    pub fn is_timed_out(&self) -> bool {
        self.class() == FaultClass::TimedOut
    }

    pub fn is_access_denied(&self) -> bool {
        self.class() == FaultClass::AccessDenied
    }

    pub fn is_invalid_query(&self) -> bool {
        self.class() == FaultClass::InvalidQuery
    }

    pub fn is_invalid_namespace(&self) -> bool {
        self.class() == FaultClass::InvalidNamespace
    }

    pub fn is_invalid_class(&self) -> bool {
        self.class() == FaultClass::InvalidClass
    }
}

/// `0x8004100e` in `HRESULT 0x8004100e` (an `MSFT_WmiError` `MessageID`).
fn parse_hresult(s: &str) -> Option<u32> {
    let hex = s.trim().strip_prefix("HRESULT")?.trim();
    let hex = hex.strip_prefix("0x").or_else(|| hex.strip_prefix("0X"))?;
    u32::from_str_radix(hex, 16).ok()
}

/// `s:Sender` → `Sender`: QName text values are matched on the local part.
fn local_part(s: &str) -> String {
    let s = s.trim();
    s.rsplit(':').next().unwrap_or(s).to_string()
}

fn parse_code(s: Option<String>) -> Option<u32> {
    s.and_then(|v| v.trim().parse().ok())
}

/// Text kept per element while inside a fault; bounded so a hostile
/// fault cannot grow memory beyond the (already capped) body.
const MAX_FAULT_TEXT: usize = 4096;

struct Frame {
    ns: Ns,
    local: String,
    text: String,
}

/// Reads an `s:Fault` element (start tag already consumed) to its end tag.
pub(crate) fn read_fault(r: &mut XmlReader<'_>) -> Result<WsmanFault, ParseError> {
    let mut f = WsmanFault::default();
    let mut reason: Option<String> = None;
    let mut outer_message: Option<String> = None;
    let mut stack: Vec<Frame> = Vec::new();
    let mut in_provider = 0usize;
    let mut seen_wsman_fault = false;
    // Stack index of a CIM error instance in `s:Detail` (`MSFT_WmiError`,
    // `OMI_Error`): its children are read as its properties.
    let mut error_instance: Option<usize> = None;
    loop {
        match r.next()? {
            Tok::Start(e, ns) => {
                let local = e.local_name().into_inner().to_string();
                if ns == Ns::Fault && local == "WSManFault" {
                    let code = parse_code(r.attr(&e, Ns::None, "Code")?);
                    if let Some(c) = code
                        && f.wsman_codes.len() < MAX_CODES
                    {
                        f.wsman_codes.push(c);
                    }
                    if in_provider == 0 && !seen_wsman_fault {
                        seen_wsman_fault = true;
                        f.wsman_code = code;
                        f.machine = r
                            .attr(&e, Ns::None, "Machine")?
                            .filter(|m| !m.trim().is_empty());
                    } else if in_provider > 0 && f.provider_code.is_none() {
                        f.provider_code = code;
                    }
                } else if ns == Ns::Fault && local == "ProviderFault" {
                    in_provider += 1;
                } else if error_instance.is_none()
                    && !matches!(ns, Ns::Fault | Ns::Soap)
                    && local.ends_with("Error")
                    && stack
                        .last()
                        .is_some_and(|p| p.ns == Ns::Soap && p.local == "Detail")
                {
                    error_instance = Some(stack.len());
                    f.cim_error = Some(Box::new(CimError {
                        class: local.clone(),
                        ..CimError::default()
                    }));
                }
                stack.push(Frame {
                    ns,
                    local,
                    text: String::new(),
                });
            }
            Tok::Text(t) => {
                if let Some(top) = stack.last_mut()
                    && top.text.len() < MAX_FAULT_TEXT
                {
                    top.text.push_str(&t);
                }
            }
            Tok::End => {
                let Some(frame) = stack.pop() else {
                    break;
                };
                let parent = stack.last().map(|p| p.local.as_str());
                let text = frame.text.trim();
                if error_instance == Some(stack.len()) {
                    error_instance = None;
                }
                if error_instance.is_some_and(|i| i + 1 == stack.len())
                    && let Some(ce) = f.cim_error.as_deref_mut()
                {
                    match frame.local.as_str() {
                        "error_Code" => f.wmi_error_code = text.parse().ok(),
                        "CIMStatusCode" => ce.cim_status = text.parse().ok(),
                        "MessageID" => ce.hresult = parse_hresult(text),
                        "Message" if !text.is_empty() => ce.message = Some(text.to_string()),
                        _ => {}
                    }
                    continue;
                }
                match (frame.ns, frame.local.as_str(), parent) {
                    (Ns::Soap, "Value", Some("Code")) => f.code = Some(local_part(text)),
                    (Ns::Soap, "Value", Some("Subcode")) => f.subcode = Some(local_part(text)),
                    (Ns::Soap, "Text", Some("Reason")) => {
                        reason.get_or_insert_with(|| text.to_string());
                    }
                    (Ns::Wsman, "FaultDetail", _) if !text.is_empty() => {
                        f.fault_detail = Some(text.to_string())
                    }
                    (Ns::Fault, "Message", _) if !text.is_empty() => {
                        if in_provider > 0 {
                            f.provider_message.get_or_insert_with(|| text.to_string());
                        } else {
                            outer_message.get_or_insert_with(|| text.to_string());
                        }
                    }
                    (Ns::Fault, "ProviderFault", _) => {
                        // A ProviderFault may hold its text bare, without a
                        // nested WSManFault (WinRM 2.0 shell faults).
                        if !text.is_empty() {
                            f.provider_message.get_or_insert_with(|| text.to_string());
                        }
                        in_provider = in_provider.saturating_sub(1);
                    }
                    _ => {}
                }
            }
            Tok::Eof => return Err(ParseError::Truncated),
        }
    }
    f.message = clip_long(
        outer_message
            .or(reason)
            .or_else(|| f.provider_message.clone())
            .or_else(|| f.cim_error.as_ref().and_then(|e| e.message.clone()))
            .unwrap_or_default(),
    );
    Ok(f)
}

/// WSManFault codes kept per fault (nesting is two or three deep on Windows).
const MAX_CODES: usize = 16;

fn clip_long(s: String) -> String {
    if s.len() > 1024 { clip(&s) } else { s }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::{ErrorKind, HasKind};
    use crate::wsman::WsmanError;
    use crate::wsman::envelope::{ReplyBody, parse_envelope};

    fn fault(xml: &str) -> WsmanFault {
        match parse_envelope(xml).unwrap().body {
            ReplyBody::Fault(f) => f,
            other => panic!("not a fault: {other:?}"),
        }
    }

    fn kind(f: &WsmanFault) -> ErrorKind {
        WsmanError::Fault(f.clone()).kind()
    }

    #[test]
    fn access_denied_fault_is_classified_access_denied() {
        let f = fault(include_str!(
            "../../tests/fixtures/wsman/fault_access_denied.xml"
        ));
        assert_eq!(f.code.as_deref(), Some("Sender"));
        assert_eq!(f.subcode.as_deref(), Some("AccessDenied"));
        assert_eq!(f.wsman_code, Some(5));
        assert_eq!(f.machine.as_deref(), Some("hv01.contoso.test"));
        assert_eq!(f.message, "Access is denied.");
        assert!(f.is_access_denied());
        assert!(!f.is_invalid_namespace() && !f.is_timed_out() && !f.is_invalid_query());
        assert_eq!(kind(&f), ErrorKind::AccessDenied);
    }

    #[test]
    fn winrb_class_not_found_shape_is_filter_refused_not_invalid_class() {
        // The cause is only text ("class does not exist"): never read.
        let f = fault(include_str!(
            "../../tests/fixtures/wsman/fault_invalid_class.xml"
        ));
        assert_eq!(f.subcode.as_deref(), Some("CannotProcessFilter"));
        assert_eq!(f.wsman_code, Some(2150858778));
        assert_eq!(f.provider_code, Some(2150858778));
        assert_eq!(
            f.provider_message.as_deref(),
            Some("The specified class does not exist in the given namespace.")
        );
        assert!(
            f.message
                .starts_with("The data source could not process the filter.")
        );
        assert_eq!(f.class(), FaultClass::FilterRefused);
        assert_eq!(kind(&f), ErrorKind::Protocol);
    }

    #[test]
    fn invalid_namespace_fault_is_classified_namespace() {
        let f = fault(include_str!(
            "../../tests/fixtures/wsman/fault_invalid_namespace.xml"
        ));
        assert_eq!(f.provider_code, Some(WBEM_E_INVALID_NAMESPACE));
        assert_eq!(f.wmi_error_code, Some(WBEM_E_INVALID_NAMESPACE));
        assert!(f.is_invalid_namespace());
        assert!(!f.is_invalid_class());
        assert_eq!(kind(&f), ErrorKind::Namespace);
        // The old shape also carries the MSFT_WmiError detail.
        assert_eq!(f.error_class(), Some("MSFT_WmiError"));
        assert_eq!(f.cim_status(), Some(3));
        assert_eq!(f.hresult(), Some(WBEM_E_INVALID_NAMESPACE));
        assert_eq!(f.wsman_codes, vec![2150858778, WBEM_E_INVALID_NAMESPACE]);
    }

    #[test]
    fn invalid_query_fault_is_not_invalid_class() {
        let f = fault(include_str!(
            "../../tests/fixtures/wsman/fault_invalid_query.xml"
        ));
        assert_eq!(f.wsman_code, Some(WSMAN_CANNOT_PROCESS_FILTER));
        assert_eq!(f.provider_code, Some(WBEM_E_INVALID_QUERY));
        assert!(f.is_invalid_query());
        assert!(!f.is_invalid_class() && !f.is_invalid_namespace());
        assert_eq!(kind(&f), ErrorKind::Protocol);
    }

    #[test]
    fn timed_out_fault_is_classified_timeout() {
        let f = fault(include_str!(
            "../../tests/fixtures/wsman/fault_timed_out.xml"
        ));
        assert_eq!(f.subcode.as_deref(), Some("TimedOut"));
        assert_eq!(f.wsman_code, Some(WSMAN_TIMED_OUT));
        assert!(f.is_timed_out());
        assert_eq!(kind(&f), ErrorKind::Timeout);
    }

    #[test]
    fn resource_not_found_fault_is_classified_namespace() {
        let f = fault(include_str!(
            "../../tests/fixtures/wsman/fault_destination_unreachable.xml"
        ));
        assert_eq!(f.subcode.as_deref(), Some("DestinationUnreachable"));
        assert_eq!(
            f.fault_detail.as_deref(),
            Some("http://schemas.dmtf.org/wbem/wsman/1/wsman/faultDetail/ResourceNotFound")
        );
        assert!(f.is_invalid_namespace());
        assert_eq!(kind(&f), ErrorKind::Namespace);
    }

    #[test]
    fn wmi_access_denied_codes_are_access_denied() {
        for code in [2150859013, 2150859012, WBEM_E_ACCESS_DENIED] {
            let f = WsmanFault {
                wsman_code: Some(code),
                ..WsmanFault::default()
            };
            assert_eq!(kind(&f), ErrorKind::AccessDenied, "{code}");
        }
    }

    #[test]
    fn unknown_fault_is_protocol() {
        let f = WsmanFault {
            code: Some("Receiver".into()),
            subcode: Some("InternalError".into()),
            wsman_code: Some(2150858817),
            ..WsmanFault::default()
        };
        assert_eq!(kind(&f), ErrorKind::Protocol);
    }

    macro_rules! shape {
        ($file:literal) => {
            fault(include_str!(concat!(
                "../../tests/fixtures/wsman/faults/",
                $file
            )))
        };
    }

    #[test]
    fn winrm2_nested_provider_fault_with_text_only_is_filter_refused() {
        let f = shape!("winrm2_provider_fault_nested_text_only_is_filter_refused.xml");
        assert_eq!(f.wsman_codes, vec![WSMAN_CANNOT_PROCESS_FILTER; 2]);
        assert_eq!(f.machine.as_deref(), Some("hv-r2-07.fabrikam.test"));
        // The host's text is kept for the operator…
        assert!(f.to_string().contains("class does not exist"), "{f}");
        // …and decides nothing.
        assert_eq!(f.class(), FaultClass::FilterRefused);
        assert!(f.is_cannot_process_filter());
        assert_eq!(kind(&f), ErrorKind::Protocol);
    }

    #[test]
    fn winrm2_french_provider_fault_is_filter_refused_and_keeps_its_text() {
        let f = shape!("winrm2_provider_fault_french_is_filter_refused.xml");
        assert_eq!(f.class(), FaultClass::FilterRefused);
        assert_eq!(
            f.provider_message.as_deref(),
            Some("L’espace de noms spécifié n’existe pas.")
        );
        assert!(
            f.message.starts_with("La source de données"),
            "{}",
            f.message
        );
    }

    #[test]
    fn winrm3_msft_wmierror_with_the_filter_code_is_filter_refused() {
        let f = shape!("winrm3_msft_wmierror_cannot_process_filter_is_filter_refused.xml");
        assert_eq!(f.error_class(), Some("MSFT_WmiError"));
        assert_eq!(f.wmi_error_code, Some(WSMAN_CANNOT_PROCESS_FILTER));
        assert_eq!(f.hresult(), Some(0x8033_801A));
        assert_eq!(f.cim_status(), Some(1));
        assert!(f.wsman_codes.is_empty());
        assert_eq!(f.class(), FaultClass::FilterRefused);
    }

    #[test]
    fn winrm3_japanese_fault_is_filter_refused_and_keeps_its_text() {
        let f = shape!("winrm3_msft_wmierror_japanese_is_filter_refused.xml");
        assert_eq!(f.class(), FaultClass::FilterRefused);
        assert!(f.message.starts_with("データ ソース"), "{}", f.message);
        assert!(f.to_string().contains("データ ソース"), "{f}");
    }

    #[test]
    fn bare_text_provider_fault_keeps_the_text_and_classifies_by_code() {
        let f = shape!("provider_fault_bare_text_keeps_the_text.xml");
        assert_eq!(
            f.provider_message.as_deref(),
            Some("The provider could not start the requested operation on this host.")
        );
        assert_eq!(f.wsman_codes, vec![2150859113]);
        assert_eq!(f.provider_code, None);
        assert_eq!(f.class(), FaultClass::Other);
    }

    #[test]
    fn wmi_access_denied_code_is_access_denied() {
        let f = shape!("wmi_access_denied_2150859012_is_access_denied.xml");
        assert_eq!(f.class(), FaultClass::AccessDenied);
        assert_eq!(kind(&f), ErrorKind::AccessDenied);
    }

    #[test]
    fn old_shape_provider_load_failure_code_is_provider_failure() {
        let f = shape!("old_shape_provider_load_failure_code_is_provider_failure.xml");
        assert_eq!(f.provider_code, Some(WBEM_E_PROVIDER_LOAD_FAILURE));
        assert_eq!(f.class(), FaultClass::ProviderFailure);
    }

    #[test]
    fn omi_error_cim_status_codes_classify() {
        for (f, want) in [
            (
                shape!("omi_error_cim_status_3_is_invalid_namespace.xml"),
                FaultClass::InvalidNamespace,
            ),
            (
                shape!("omi_error_cim_status_5_is_invalid_class.xml"),
                FaultClass::InvalidClass,
            ),
            (
                shape!("omi_error_cim_status_15_is_invalid_query.xml"),
                FaultClass::InvalidQuery,
            ),
        ] {
            assert_eq!(f.error_class(), Some("OMI_Error"));
            assert_eq!(f.class(), want, "{f:?}");
            assert!(f.wsman_code.is_none() && f.hresult().is_none(), "{f:?}");
            assert!(!f.message.is_empty());
        }
    }

    #[test]
    fn old_shapes_with_the_wmi_code_as_the_wsmanfault_code_still_classify() {
        for (code, want) in [
            (WBEM_E_INVALID_NAMESPACE, FaultClass::InvalidNamespace),
            (WBEM_E_INVALID_CLASS, FaultClass::InvalidClass),
            (WBEM_E_INVALID_QUERY, FaultClass::InvalidQuery),
            (WBEM_E_INVALID_PROPERTY, FaultClass::InvalidQuery),
            (WBEM_E_ACCESS_DENIED, FaultClass::AccessDenied),
            (WBEM_E_PROVIDER_LOAD_FAILURE, FaultClass::ProviderFailure),
        ] {
            let outer = WsmanFault {
                subcode: Some("CannotProcessFilter".into()),
                wsman_code: Some(code),
                ..WsmanFault::default()
            };
            assert_eq!(outer.class(), want, "outer {code:#x}");
            let nested = WsmanFault {
                wsman_code: Some(WSMAN_CANNOT_PROCESS_FILTER),
                provider_code: Some(code),
                ..WsmanFault::default()
            };
            assert_eq!(nested.class(), want, "nested {code:#x}");
            let wmi_error = WsmanFault {
                wmi_error_code: Some(code),
                ..WsmanFault::default()
            };
            assert_eq!(wmi_error.class(), want, "error_Code {code:#x}");
        }
    }

    #[test]
    fn hresult_message_id_parses_only_the_hresult_form() {
        assert_eq!(
            parse_hresult("HRESULT 0x8004100e"),
            Some(WBEM_E_INVALID_NAMESPACE)
        );
        assert_eq!(parse_hresult("OMI:MI_Result:3"), None);
        assert_eq!(parse_hresult("HRESULT 0xZZ"), None);
    }
}
