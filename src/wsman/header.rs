//! The one envelope/header builder every request goes through (pypsrp
//! `_create_header`, WinRb `header.rb`). Messages only add a body.

use super::Action;
use super::escape::push_escaped;
use super::namespaces::{ANONYMOUS, PREFIXES};
use std::fmt::Write;
use std::time::Duration;

/// What a request header carries. Built by the message files, written here.
#[derive(Debug, Clone)]
pub struct Header<'a> {
    pub action: Action,
    pub to: &'a str,
    pub resource_uri: &'a str,
    /// `uuid:…`, upper case, as Windows sends them.
    pub message_id: &'a str,
    pub session_id: &'a str,
    pub max_envelope_size: u32,
    pub operation_timeout: Duration,
    pub locale: &'a str,
    /// `wsman:OptionSet` entries; none are needed for WQL today.
    pub options: &'a [(&'a str, &'a str)],
}

/// Capacity guess for one request: headers are ~1.3 KiB, bodies small.
pub const REQUEST_CAPACITY: usize = 2048;

/// Appends an `xs:duration` as WinRM clients send it: `PT20.000S`.
pub fn push_xs_duration(out: &mut String, d: Duration) {
    // Infallible: writing to a String.
    let _ = write!(out, "PT{}.{:03}S", d.as_secs(), d.subsec_millis());
}

#[cfg(test)]
fn xs_duration(d: Duration) -> String {
    let mut s = String::new();
    push_xs_duration(&mut s, d);
    s
}

/// `uuid:` + an upper-case random GUID, in one allocation.
pub fn new_message_id() -> String {
    let mut buf = [0u8; uuid::fmt::Hyphenated::LENGTH];
    let guid = uuid::Uuid::new_v4().hyphenated().encode_upper(&mut buf);
    let mut s = String::with_capacity(5 + guid.len());
    s.push_str("uuid:");
    s.push_str(guid);
    s
}

fn open_envelope(out: &mut String) {
    out.push_str("<s:Envelope");
    for (prefix, uri) in PREFIXES {
        // Infallible: writing to a String.
        let _ = write!(out, " xmlns:{prefix}=\"{uri}\"");
    }
    out.push('>');
}

/// Writes a full envelope: the standard header, then `body` inside `s:Body`.
pub fn write_envelope(out: &mut String, h: &Header<'_>, body: impl FnOnce(&mut String)) {
    open_envelope(out);
    out.push_str("<s:Header>");
    if let Some(uri) = h.action.uri() {
        out.push_str("<wsa:Action s:mustUnderstand=\"true\">");
        out.push_str(uri);
        out.push_str("</wsa:Action>");
    }
    out.push_str("<wsmv:DataLocale s:mustUnderstand=\"false\" xml:lang=\"");
    push_escaped(out, h.locale);
    out.push_str("\"/><wsman:Locale s:mustUnderstand=\"false\" xml:lang=\"");
    push_escaped(out, h.locale);
    out.push_str("\"/>");
    let _ = write!(
        out,
        "<wsman:MaxEnvelopeSize s:mustUnderstand=\"true\">{}</wsman:MaxEnvelopeSize>",
        h.max_envelope_size
    );
    out.push_str("<wsa:MessageID>");
    push_escaped(out, h.message_id);
    out.push_str("</wsa:MessageID><wsman:OperationTimeout>");
    push_xs_duration(out, h.operation_timeout);
    out.push_str("</wsman:OperationTimeout>");
    out.push_str("<wsa:ReplyTo><wsa:Address s:mustUnderstand=\"true\">");
    out.push_str(ANONYMOUS);
    out.push_str("</wsa:Address></wsa:ReplyTo>");
    out.push_str("<wsman:ResourceURI s:mustUnderstand=\"true\">");
    push_escaped(out, h.resource_uri);
    out.push_str("</wsman:ResourceURI>");
    out.push_str("<wsmv:SessionId s:mustUnderstand=\"false\">");
    push_escaped(out, h.session_id);
    out.push_str("</wsmv:SessionId>");
    out.push_str("<wsa:To>");
    push_escaped(out, h.to);
    out.push_str("</wsa:To>");
    if !h.options.is_empty() {
        out.push_str("<wsman:OptionSet s:mustUnderstand=\"true\">");
        for (name, value) in h.options {
            out.push_str("<wsman:Option Name=\"");
            push_escaped(out, name);
            out.push_str("\">");
            push_escaped(out, value);
            out.push_str("</wsman:Option>");
        }
        out.push_str("</wsman:OptionSet>");
    }
    out.push_str("</s:Header><s:Body>");
    body(out);
    out.push_str("</s:Body></s:Envelope>");
}

/// Identify carries no addressing headers at all (DSP0226 §11): an empty
/// header and the `wsmid:Identify` body.
pub fn write_bare_envelope(out: &mut String, body: impl FnOnce(&mut String)) {
    open_envelope(out);
    out.push_str("<s:Header/><s:Body>");
    body(out);
    out.push_str("</s:Body></s:Envelope>");
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample(action: Action, options: &[(&str, &str)]) -> String {
        let h = Header {
            action,
            to: "http://hv1:5985/wsman",
            resource_uri: "http://schemas.microsoft.com/wbem/wsman/1/wmi/root/cimv2/*",
            message_id: "uuid:11111111-2222-3333-4444-555555555555",
            session_id: "uuid:aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee",
            max_envelope_size: 153600,
            operation_timeout: Duration::from_millis(20_000),
            locale: "en-US",
            options,
        };
        let mut out = String::new();
        write_envelope(&mut out, &h, |b| b.push_str("<x/>"));
        out
    }

    #[test]
    fn xs_duration_has_millisecond_precision() {
        assert_eq!(xs_duration(Duration::from_secs(20)), "PT20.000S");
        assert_eq!(xs_duration(Duration::from_millis(1500)), "PT1.500S");
    }

    #[test]
    fn message_id_is_upper_case_uuid_urn() {
        let id = new_message_id();
        assert!(id.starts_with("uuid:"));
        assert_eq!(id.len(), 41);
        assert_eq!(id, id.to_ascii_uppercase().replacen("UUID:", "uuid:", 1));
        assert_ne!(id, new_message_id());
    }

    #[test]
    fn header_carries_every_required_element_in_pypsrp_order() {
        let xml = sample(Action::Enumerate, &[]);
        let order = [
            "<wsa:Action s:mustUnderstand=\"true\">http://schemas.xmlsoap.org/ws/2004/09/enumeration/Enumerate</wsa:Action>",
            "<wsmv:DataLocale s:mustUnderstand=\"false\" xml:lang=\"en-US\"/>",
            "<wsman:Locale s:mustUnderstand=\"false\" xml:lang=\"en-US\"/>",
            "<wsman:MaxEnvelopeSize s:mustUnderstand=\"true\">153600</wsman:MaxEnvelopeSize>",
            "<wsa:MessageID>uuid:11111111-2222-3333-4444-555555555555</wsa:MessageID>",
            "<wsman:OperationTimeout>PT20.000S</wsman:OperationTimeout>",
            "<wsa:ReplyTo><wsa:Address s:mustUnderstand=\"true\">http://schemas.xmlsoap.org/ws/2004/08/addressing/role/anonymous</wsa:Address></wsa:ReplyTo>",
            "<wsman:ResourceURI s:mustUnderstand=\"true\">http://schemas.microsoft.com/wbem/wsman/1/wmi/root/cimv2/*</wsman:ResourceURI>",
            "<wsmv:SessionId s:mustUnderstand=\"false\">uuid:aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee</wsmv:SessionId>",
            "<wsa:To>http://hv1:5985/wsman</wsa:To>",
            "<s:Body><x/></s:Body></s:Envelope>",
        ];
        let mut at = 0;
        for part in order {
            let pos = xml[at..]
                .find(part)
                .unwrap_or_else(|| panic!("missing or out of order: {part}"));
            at += pos + part.len();
        }
        assert!(!xml.contains("OptionSet"));
    }

    #[test]
    fn envelope_declares_every_prefix_once() {
        let xml = sample(Action::Pull, &[]);
        for (p, uri) in PREFIXES {
            assert_eq!(xml.matches(&format!("xmlns:{p}=\"{uri}\"")).count(), 1);
        }
    }

    #[test]
    fn option_set_values_are_escaped() {
        let xml = sample(Action::Enumerate, &[("a\"b", "<v&>")]);
        assert!(xml.contains(
            "<wsman:OptionSet s:mustUnderstand=\"true\"><wsman:Option Name=\"a&quot;b\">&lt;v&amp;&gt;</wsman:Option></wsman:OptionSet>"
        ));
    }
}
