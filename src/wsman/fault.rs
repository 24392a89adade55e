//! SOAP faults as data (pypsrp `_parse_wsman_fault`), and what they mean.
//! Text is localized on Windows: classification uses codes only.

use super::error::WsmanFault;
use super::namespaces::Ns;
use super::parse_error::{ParseError, clip};
use super::xml::{Tok, XmlReader};

/// WinRM: the OperationTimeout expired (0x80338029).
pub const WSMAN_TIMED_OUT: u32 = 2150858793;
/// WinRM: "the data source could not process the filter" (0x8033801A);
/// the WMI provider fault inside says why.
pub const WSMAN_CANNOT_PROCESS_FILTER: u32 = 2150858778;
/// WinRM: WMI access denied (0x80338105 / 0x80338104).
pub const WSMAN_WMI_ACCESS_DENIED: [u32; 2] = [2150859013, 2150859012];
/// Win32 ERROR_ACCESS_DENIED.
pub const ERROR_ACCESS_DENIED: u32 = 5;
/// WMI WBEM_E_ACCESS_DENIED (0x80041003).
pub const WBEM_E_ACCESS_DENIED: u32 = 2147749891;
/// WMI WBEM_E_INVALID_NAMESPACE (0x8004100E).
pub const WBEM_E_INVALID_NAMESPACE: u32 = 2147749902;
/// WMI WBEM_E_INVALID_CLASS (0x80041010).
pub const WBEM_E_INVALID_CLASS: u32 = 2147749904;
/// WMI WBEM_E_INVALID_QUERY (0x80041017).
pub const WBEM_E_INVALID_QUERY: u32 = 2147749911;

impl WsmanFault {
    /// Every code the fault carries, outermost first.
    fn codes(&self) -> impl Iterator<Item = u32> + '_ {
        [self.wsman_code, self.provider_code, self.wmi_error_code]
            .into_iter()
            .flatten()
    }

    fn has_code(&self, code: u32) -> bool {
        self.codes().any(|c| c == code)
    }

    fn subcode_is(&self, name: &str) -> bool {
        self.subcode.as_deref() == Some(name)
    }

    pub fn is_timed_out(&self) -> bool {
        self.subcode_is("TimedOut") || self.has_code(WSMAN_TIMED_OUT)
    }

    pub fn is_access_denied(&self) -> bool {
        self.subcode_is("AccessDenied")
            || self.has_code(ERROR_ACCESS_DENIED)
            || self.has_code(WBEM_E_ACCESS_DENIED)
            || WSMAN_WMI_ACCESS_DENIED.iter().any(|c| self.has_code(*c))
    }

    pub fn is_invalid_query(&self) -> bool {
        self.has_code(WBEM_E_INVALID_QUERY)
    }

    pub fn is_invalid_namespace(&self) -> bool {
        self.has_code(WBEM_E_INVALID_NAMESPACE)
            || self.subcode_is("DestinationUnreachable")
            || self
                .fault_detail
                .as_deref()
                .is_some_and(|d| d.ends_with("/ResourceNotFound"))
    }

    /// The class named in FROM does not exist in the namespace. WinRM says
    /// so with CannotProcessFilter and only provider *text* (WinRb's
    /// `soap_fault_v1.xml`), so that case counts when no other WMI code
    /// explains the fault.
    pub fn is_invalid_class(&self) -> bool {
        if self.has_code(WBEM_E_INVALID_CLASS) {
            return true;
        }
        let other_wmi_code = [self.provider_code, self.wmi_error_code]
            .into_iter()
            .flatten()
            .any(|c| c != WSMAN_CANNOT_PROCESS_FILTER);
        self.wsman_code == Some(WSMAN_CANNOT_PROCESS_FILTER)
            && self.provider_message.is_some()
            && !other_wmi_code
            && !self.is_invalid_namespace()
    }
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
    loop {
        match r.next()? {
            Tok::Start(e, ns) => {
                let local = e.local_name().into_inner().to_string();
                if ns == Ns::Fault && local == "WSManFault" {
                    let code = parse_code(r.attr(&e, Ns::None, "Code")?);
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
                    (Ns::Fault, "ProviderFault", _) => in_provider = in_provider.saturating_sub(1),
                    (_, "error_Code", _) if f.wmi_error_code.is_none() => {
                        f.wmi_error_code = text.parse().ok()
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
            .unwrap_or_default(),
    );
    Ok(f)
}

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
    fn class_not_found_fault_from_winrb_shape_is_invalid_class() {
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
        assert!(f.is_invalid_class());
        assert!(!f.is_invalid_query() && !f.is_access_denied());
        assert_eq!(kind(&f), ErrorKind::Namespace);
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
}
