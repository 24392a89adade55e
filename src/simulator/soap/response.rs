//! Response envelopes and SOAP faults, written as Windows writes them.

use super::ns;
use super::wmi_fault::{self};
pub use super::wmi_fault::{Cause, Speaker};
use super::xml::{escape, escape_into};

fn new_message_id() -> String {
    format!("uuid:{}", uuid::Uuid::new_v4().to_string().to_uppercase())
}

fn envelope(action: &str, relates_to: Option<&str>, body: &str) -> String {
    envelope_lang(action, relates_to, body, "en-US")
}

/// `lang`: the host's language (`xml:lang` of the envelope).
fn envelope_lang(action: &str, relates_to: Option<&str>, body: &str, lang: &str) -> String {
    let mut out = String::with_capacity(body.len() + 1024);
    out.push_str("<s:Envelope xml:lang=\"");
    out.push_str(lang);
    out.push_str("\" xmlns:s=\"");
    out.push_str(ns::SOAP);
    out.push_str("\" xmlns:a=\"");
    out.push_str(ns::WSA);
    out.push_str("\" xmlns:n=\"");
    out.push_str(ns::WSEN);
    out.push_str("\" xmlns:w=\"");
    out.push_str(ns::WSMAN);
    out.push_str("\" xmlns:xsi=\"");
    out.push_str(ns::XSI);
    out.push_str("\" xmlns:cim=\"");
    out.push_str(ns::CIM);
    out.push_str("\"><s:Header><a:Action>");
    escape_into(&mut out, action);
    out.push_str("</a:Action><a:MessageID>");
    out.push_str(&new_message_id());
    out.push_str("</a:MessageID><a:To>");
    out.push_str(ns::ANONYMOUS);
    out.push_str("</a:To>");
    if let Some(r) = relates_to {
        out.push_str("<a:RelatesTo>");
        escape_into(&mut out, r);
        out.push_str("</a:RelatesTo>");
    }
    out.push_str("</s:Header><s:Body>");
    out.push_str(body);
    out.push_str("</s:Body></s:Envelope>");
    out
}

/// Identify has no addressing headers at all.
pub fn identify() -> String {
    format!(
        "<s:Envelope xmlns:s=\"{}\" xml:lang=\"en-US\"><s:Header/><s:Body><wsmid:IdentifyResponse xmlns:wsmid=\"{}\"><wsmid:ProtocolVersion>http://schemas.dmtf.org/wbem/wsman/1/wsman.xsd</wsmid:ProtocolVersion><wsmid:ProductVendor>Microsoft Corporation</wsmid:ProductVendor><wsmid:ProductVersion>OS: 10.0.20348 SP: 0.0 Stack: 3.0</wsmid:ProductVersion><wsmid:SecurityProfiles><wsmid:SecurityProfileName>http://schemas.dmtf.org/wbem/wsman/1/wsman/secprofile/http/spnego-kerberos</wsmid:SecurityProfileName></wsmid:SecurityProfiles></wsmid:IdentifyResponse></s:Body></s:Envelope>",
        ns::SOAP,
        ns::WSMID
    )
}

fn items(out: &mut String, prefix: &str, items: &[std::sync::Arc<str>]) {
    out.push('<');
    out.push_str(prefix);
    out.push_str(":Items>");
    for i in items {
        out.push_str(i);
    }
    out.push_str("</");
    out.push_str(prefix);
    out.push_str(":Items>");
}

/// `context` = `None` when this page ends the sequence.
/// `context` = `None` when this page ends the sequence; `page` = `None`
/// without OptimizeEnumeration (the items then come only by Pull).
pub fn enumerate(
    relates_to: Option<&str>,
    page: Option<&[std::sync::Arc<str>]>,
    context: Option<&str>,
) -> String {
    let size: usize = page.unwrap_or_default().iter().map(|s| s.len()).sum();
    let mut body = String::with_capacity(size + 256);
    body.push_str("<n:EnumerateResponse><n:EnumerationContext>");
    if let Some(c) = context {
        body.push_str(c);
    }
    body.push_str("</n:EnumerationContext>");
    if let Some(page) = page {
        items(&mut body, "w", page);
        if context.is_none() {
            body.push_str("<w:EndOfSequence/>");
        }
    }
    body.push_str("</n:EnumerateResponse>");
    envelope(
        &format!("{}Response", ns::ACTION_ENUMERATE),
        relates_to,
        &body,
    )
}

pub fn pull(
    relates_to: Option<&str>,
    page: &[std::sync::Arc<str>],
    context: Option<&str>,
) -> String {
    let mut body = String::with_capacity(page.iter().map(|s| s.len()).sum::<usize>() + 256);
    body.push_str("<n:PullResponse>");
    if let Some(c) = context {
        body.push_str("<n:EnumerationContext>");
        body.push_str(c);
        body.push_str("</n:EnumerationContext>");
    }
    items(&mut body, "n", page);
    if context.is_none() {
        body.push_str("<n:EndOfSequence/>");
    }
    body.push_str("</n:PullResponse>");
    envelope(&format!("{}Response", ns::ACTION_PULL), relates_to, &body)
}

pub fn release(relates_to: Option<&str>) -> String {
    envelope(&format!("{}Response", ns::ACTION_RELEASE), relates_to, "")
}

/// A fault the simulator can send.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fault {
    /// WMI refused the select (`CannotProcessFilter`, cause only as text).
    Refused(Cause),
    /// Access denied on a WMI namespace (2150859012).
    WmiAccessDenied,
    /// Refused by the WinRM service itself (a plaintext body with
    /// AllowUnencrypted=false).
    AccessDenied,
    ActionNotSupported,
    InvalidEnumerationContext,
    /// Filter dialect not WQL, or a resource URI that is not a WMI
    /// namespace wildcard.
    DestinationUnreachable,
    /// Envelope could not be parsed.
    SchemaValidation,
    /// OperationTimeout expired (0x80338029).
    TimedOut,
}

/// Decimal WSManFault codes.
pub const CODE_SCHEMA_VALIDATION: u32 = 2_150_858_817;
pub const CODE_ACCESS_DENIED: u32 = 5;

struct FaultText {
    code: &'static str,
    subcode: &'static str,
    action: &'static str,
    reason: &'static str,
    wsman_code: Option<u32>,
}

const WSMAN_FAULT_ACTION: &str = "http://schemas.dmtf.org/wbem/wsman/1/wsman/fault";
const ADDRESSING_FAULT_ACTION: &str = "http://schemas.xmlsoap.org/ws/2004/08/addressing/fault";
const ENUMERATION_FAULT_ACTION: &str = "http://schemas.xmlsoap.org/ws/2004/09/enumeration/fault";

/// The fixed English faults (`None`: worded per host, `wmi_fault`).
fn text(f: Fault) -> Option<FaultText> {
    Some(match f {
        Fault::Refused(_) | Fault::WmiAccessDenied => return None,
        Fault::AccessDenied => FaultText {
            code: "s:Sender",
            subcode: "w:AccessDenied",
            action: WSMAN_FAULT_ACTION,
            reason: "Access is denied. ",
            wsman_code: Some(CODE_ACCESS_DENIED),
        },
        Fault::ActionNotSupported => FaultText {
            code: "s:Sender",
            subcode: "a:ActionNotSupported",
            action: ADDRESSING_FAULT_ACTION,
            reason: "The action is not supported by the service. ",
            wsman_code: Some(2_150_858_757),
        },
        Fault::InvalidEnumerationContext => FaultText {
            code: "s:Receiver",
            subcode: "n:InvalidEnumerationContext",
            action: ENUMERATION_FAULT_ACTION,
            reason: "The enumeration context supplied in the message is not valid. ",
            wsman_code: Some(2_150_858_843),
        },
        Fault::DestinationUnreachable => FaultText {
            code: "s:Sender",
            subcode: "a:DestinationUnreachable",
            action: ADDRESSING_FAULT_ACTION,
            reason: "The WS-Management service cannot process the request. The resource URI does not support the Enumerate operation with this filter. ",
            wsman_code: Some(2_150_858_752),
        },
        Fault::TimedOut => FaultText {
            code: "s:Receiver",
            subcode: "w:TimedOut",
            action: WSMAN_FAULT_ACTION,
            reason: "The WS-Management service cannot complete the operation within the time specified in OperationTimeout.  ",
            wsman_code: Some(2_150_858_793),
        },
        Fault::SchemaValidation => FaultText {
            code: "s:Sender",
            subcode: "w:SchemaValidationError",
            action: WSMAN_FAULT_ACTION,
            reason: "The SOAP XML in the message does not match the corresponding XML schema definition. ",
            wsman_code: Some(CODE_SCHEMA_VALIDATION),
        },
    })
}

/// A complete fault envelope, as the host `who` words it.
pub fn fault(
    f: Fault,
    relates_to: Option<&str>,
    who: &Speaker<'_>,
    filter: Option<&str>,
) -> String {
    let t = match f {
        Fault::Refused(cause) => {
            let body = wmi_fault::refusal(who, cause, filter);
            return envelope_lang(ENUMERATION_FAULT_ACTION, relates_to, &body, who.lang());
        }
        Fault::WmiAccessDenied => {
            let body = wmi_fault::wmi_access_denied(who);
            return envelope_lang(WSMAN_FAULT_ACTION, relates_to, &body, who.lang());
        }
        other => match text(other) {
            Some(t) => t,
            None => return String::new(),
        },
    };
    let mut body = String::with_capacity(1500);
    body.push_str("<s:Fault><s:Code><s:Value>");
    body.push_str(t.code);
    body.push_str("</s:Value><s:Subcode><s:Value>");
    body.push_str(t.subcode);
    body.push_str("</s:Value></s:Subcode></s:Code><s:Reason><s:Text xml:lang=\"en-US\">");
    body.push_str(t.reason);
    body.push_str("</s:Text></s:Reason><s:Detail>");
    if let Some(code) = t.wsman_code {
        body.push_str(&format!(
            "<f:WSManFault xmlns:f=\"{}\" Code=\"{code}\" Machine=\"{}\"><f:Message>",
            ns::FAULT,
            escape(who.machine)
        ));
        body.push_str(t.reason);
        body.push_str("</f:Message></f:WSManFault>");
    }
    body.push_str("</s:Detail></s:Fault>");
    envelope(t.action, relates_to, &body)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::simulator::estate::{Locale, WindowsRelease};
    use crate::simulator::soap::request;

    #[test]
    fn enumerate_response_has_empty_context_and_end_of_sequence_when_done() {
        let page: Vec<std::sync::Arc<str>> = vec!["<w:XmlFragment/>".into()];
        let x = enumerate(Some("uuid:REQ"), Some(&page), None);
        assert!(x.contains("<a:RelatesTo>uuid:REQ</a:RelatesTo>"));
        assert!(x.contains("<n:EnumerationContext></n:EnumerationContext><w:Items><w:XmlFragment/></w:Items><w:EndOfSequence/>"));
        let x = pull(None, &page, Some("uuid:C"));
        assert!(x.contains("<n:EnumerationContext>uuid:C</n:EnumerationContext><n:Items>"));
        assert!(!x.contains("EndOfSequence"));
    }

    #[test]
    fn faults_are_well_formed_soap() {
        for f in [
            Fault::Refused(Cause::InvalidClass),
            Fault::Refused(Cause::InvalidQuery),
            Fault::Refused(Cause::InvalidNamespace),
            Fault::Refused(Cause::ProviderLoadFailure),
            Fault::WmiAccessDenied,
            Fault::AccessDenied,
            Fault::ActionNotSupported,
            Fault::InvalidEnumerationContext,
            Fault::DestinationUnreachable,
            Fault::SchemaValidation,
            Fault::TimedOut,
        ] {
            for (release, locale) in [
                (WindowsRelease::W2008R2, Locale::Fr),
                (WindowsRelease::W2016, Locale::Ja),
                (WindowsRelease::W2022, Locale::En),
            ] {
                let who = Speaker {
                    machine: "hv01.contoso.com",
                    release,
                    locale,
                };
                let x = fault(f, Some("uuid:1"), &who, Some("SELECT * FROM X WHERE a<'&'"));
                // Our own request parser accepts it as a SOAP envelope.
                request::parse(x.as_bytes()).unwrap_or_else(|e| panic!("{f:?}: {e}"));
            }
        }
        assert!(identify().contains("Microsoft Corporation"));
    }
}
