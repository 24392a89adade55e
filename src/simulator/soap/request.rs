//! Parses an incoming SOAP envelope into the few fields the simulator acts
//! on. Matches on namespace URIs, not prefixes, and refuses DTDs.

use super::ns;
use quick_xml::NsReader;
use quick_xml::events::Event;
use quick_xml::name::ResolveResult;

/// What the body asks for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Body {
    Identify,
    Enumerate,
    Pull,
    Release,
    /// Any other first body child (local name), or none.
    Other(String),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Request {
    pub action: Option<String>,
    pub message_id: Option<String>,
    pub resource_uri: Option<String>,
    pub body: Body,
    pub filter: Option<String>,
    pub filter_dialect: Option<String>,
    pub context: Option<String>,
    pub max_elements: Option<u32>,
    /// `wsman:MaxEnvelopeSize` in bytes.
    pub max_envelope: Option<u32>,
    pub optimize: bool,
}

impl Request {
    /// The action name for the request log.
    pub fn log_action(&self) -> String {
        match (&self.action, &self.body) {
            (Some(a), _) => a.clone(),
            (None, Body::Identify) => "Identify".to_string(),
            (None, _) => "unparsed".to_string(),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ParseError {
    #[error("body is not UTF-8")]
    NotUtf8,
    #[error("malformed XML: {0}")]
    Xml(String),
    #[error("DTDs are not allowed in SOAP")]
    Doctype,
    #[error("not a SOAP 1.2 envelope")]
    NotEnvelope,
    #[error("unknown entity reference &{0};")]
    Entity(String),
    #[error("XML nested too deeply")]
    TooDeep,
}

const MAX_DEPTH: usize = 64;

#[derive(Clone, Copy, PartialEq, Eq)]
enum Capture {
    None,
    Action,
    MessageId,
    ResourceUri,
    Filter,
    Context,
    MaxElements,
    MaxEnvelope,
}

pub fn parse(body: &[u8]) -> Result<Request, ParseError> {
    let text = std::str::from_utf8(body).map_err(|_| ParseError::NotUtf8)?;
    let mut reader = NsReader::from_str(text);
    let mut req = Request {
        action: None,
        message_id: None,
        resource_uri: None,
        body: Body::Other(String::new()),
        filter: None,
        filter_dialect: None,
        context: None,
        max_elements: None,
        max_envelope: None,
        optimize: false,
    };
    // Path of (namespace, local name) from the root.
    let mut path: Vec<(String, String)> = Vec::new();
    let mut capture = Capture::None;
    let mut buf = String::new();
    let mut saw_envelope = false;
    let mut saw_body_child = false;
    loop {
        let (res, ev) = reader
            .read_resolved_event()
            .map_err(|e| ParseError::Xml(e.to_string()))?;
        let nsuri = match res {
            ResolveResult::Bound(n) => n.0.to_string(),
            ResolveResult::Unbound => String::new(),
            ResolveResult::Unknown(p) => {
                return Err(ParseError::Xml(format!("undeclared prefix {p}")));
            }
        };
        match ev {
            Event::DocType(_) => return Err(ParseError::Doctype),
            Event::Start(ref e) | Event::Empty(ref e) => {
                let local = e.local_name().as_ref().to_string();
                let empty = matches!(ev, Event::Empty(_));
                if path.is_empty() {
                    if nsuri != ns::SOAP || local != "Envelope" {
                        return Err(ParseError::NotEnvelope);
                    }
                    saw_envelope = true;
                }
                let parent_is_body = path.len() == 2
                    && path
                        .get(1)
                        .is_some_and(|(n, l)| n == ns::SOAP && l == "Body");
                if parent_is_body && !saw_body_child {
                    saw_body_child = true;
                    req.body = match (nsuri.as_str(), local.as_str()) {
                        (ns::WSMID, "Identify") => Body::Identify,
                        (ns::WSEN, "Enumerate") => Body::Enumerate,
                        (ns::WSEN, "Pull") => Body::Pull,
                        (ns::WSEN, "Release") => Body::Release,
                        _ => Body::Other(local.clone()),
                    };
                }
                let next = match (nsuri.as_str(), local.as_str()) {
                    (ns::WSA, "Action") => Capture::Action,
                    (ns::WSA, "MessageID") => Capture::MessageId,
                    (ns::WSMAN, "ResourceURI") => Capture::ResourceUri,
                    (ns::WSMAN, "Filter") => {
                        for a in e.attributes().flatten() {
                            if a.key.local_name().as_ref() == "Dialect" {
                                req.filter_dialect = a
                                    .normalized_value(quick_xml::XmlVersion::Implicit1_0)
                                    .ok()
                                    .map(|v| v.into_owned());
                            }
                        }
                        Capture::Filter
                    }
                    (ns::WSEN, "EnumerationContext") => Capture::Context,
                    (ns::WSEN | ns::WSMAN, "MaxElements") => Capture::MaxElements,
                    (ns::WSMAN, "MaxEnvelopeSize") => Capture::MaxEnvelope,
                    (ns::WSMAN, "OptimizeEnumeration") => {
                        req.optimize = true;
                        Capture::None
                    }
                    _ => Capture::None,
                };
                if empty {
                    if next != Capture::None {
                        store(&mut req, next, String::new());
                    }
                } else {
                    path.push((nsuri, local));
                    if path.len() > MAX_DEPTH {
                        return Err(ParseError::TooDeep);
                    }
                    capture = next;
                    buf.clear();
                }
            }
            Event::Text(t) if capture != Capture::None => buf.push_str(&t.xml10_content()),
            Event::CData(t) if capture != Capture::None => buf.push_str(&t.xml10_content()),
            Event::GeneralRef(r) => {
                let resolved = match r.resolve_char_ref() {
                    Ok(Some(c)) => c.to_string(),
                    _ => {
                        let name = r.xml10_content();
                        quick_xml::escape::resolve_predefined_entity(&name)
                            .ok_or_else(|| ParseError::Entity(name.to_string()))?
                            .to_string()
                    }
                };
                if capture != Capture::None {
                    buf.push_str(&resolved);
                }
            }
            Event::End(_) => {
                if capture != Capture::None {
                    store(&mut req, capture, std::mem::take(&mut buf));
                    capture = Capture::None;
                }
                path.pop();
            }
            Event::Eof => break,
            _ => {}
        }
    }
    if !saw_envelope {
        return Err(ParseError::NotEnvelope);
    }
    Ok(req)
}

fn store(req: &mut Request, what: Capture, value: String) {
    let v = value.trim().to_string();
    match what {
        Capture::Action => req.action = Some(v),
        Capture::MessageId => req.message_id = Some(v),
        Capture::ResourceUri => req.resource_uri = Some(v),
        Capture::Filter => req.filter = Some(v),
        Capture::Context => req.context = Some(v),
        Capture::MaxElements => req.max_elements = v.parse().ok(),
        Capture::MaxEnvelope => req.max_envelope = v.parse().ok(),
        Capture::None => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const ENUMERATE: &str = r#"<?xml version="1.0" encoding="utf-8"?>
<s:Envelope xmlns:s="http://www.w3.org/2003/05/soap-envelope" xmlns:a="http://schemas.xmlsoap.org/ws/2004/08/addressing" xmlns:w="http://schemas.dmtf.org/wbem/wsman/1/wsman.xsd" xmlns:n="http://schemas.xmlsoap.org/ws/2004/09/enumeration">
<s:Header><a:Action s:mustUnderstand="true">http://schemas.xmlsoap.org/ws/2004/09/enumeration/Enumerate</a:Action>
<a:MessageID>uuid:11111111-2222-3333-4444-555555555555</a:MessageID>
<w:ResourceURI s:mustUnderstand="true">http://schemas.microsoft.com/wbem/wsman/1/wmi/root/cimv2/*</w:ResourceURI></s:Header>
<s:Body><n:Enumerate><w:OptimizeEnumeration/><w:MaxElements>32000</w:MaxElements>
<w:Filter Dialect="http://schemas.microsoft.com/wbem/wsman/1/WQL">SELECT * FROM Win32_Service WHERE Name=&apos;vmms&apos; AND State &lt;&gt; 'x'</w:Filter></n:Enumerate></s:Body></s:Envelope>"#;

    #[test]
    fn enumerate_fields_are_read_by_namespace() {
        let r = parse(ENUMERATE.as_bytes()).unwrap();
        assert_eq!(r.action.as_deref(), Some(ns::ACTION_ENUMERATE));
        assert_eq!(
            r.message_id.as_deref(),
            Some("uuid:11111111-2222-3333-4444-555555555555")
        );
        assert_eq!(
            r.resource_uri.as_deref(),
            Some("http://schemas.microsoft.com/wbem/wsman/1/wmi/root/cimv2/*")
        );
        assert_eq!(r.body, Body::Enumerate);
        assert!(r.optimize);
        assert_eq!(r.max_elements, Some(32000));
        assert_eq!(
            r.filter.as_deref(),
            Some("SELECT * FROM Win32_Service WHERE Name='vmms' AND State <> 'x'")
        );
        assert_eq!(r.filter_dialect.as_deref(), Some(ns::WQL_DIALECT));
    }

    #[test]
    fn identify_has_no_action() {
        let x = r#"<s:Envelope xmlns:s="http://www.w3.org/2003/05/soap-envelope" xmlns:wsmid="http://schemas.dmtf.org/wbem/wsman/identity/1/wsmanidentity.xsd"><s:Header/><s:Body><wsmid:Identify/></s:Body></s:Envelope>"#;
        let r = parse(x.as_bytes()).unwrap();
        assert_eq!(r.body, Body::Identify);
        assert_eq!(r.log_action(), "Identify");
    }

    #[test]
    fn pull_reads_context_and_wsen_max_elements() {
        let x = r#"<s:Envelope xmlns:s="http://www.w3.org/2003/05/soap-envelope" xmlns:n="http://schemas.xmlsoap.org/ws/2004/09/enumeration"><s:Body><n:Pull><n:EnumerationContext>uuid:ABC</n:EnumerationContext><n:MaxElements>5</n:MaxElements></n:Pull></s:Body></s:Envelope>"#;
        let r = parse(x.as_bytes()).unwrap();
        assert_eq!(r.body, Body::Pull);
        assert_eq!(r.context.as_deref(), Some("uuid:ABC"));
        assert_eq!(r.max_elements, Some(5));
    }

    #[test]
    fn doctype_garbage_and_wrong_root_are_rejected() {
        let x = r#"<!DOCTYPE s [<!ENTITY x "y">]><s:Envelope xmlns:s="http://www.w3.org/2003/05/soap-envelope"/>"#;
        assert_eq!(parse(x.as_bytes()), Err(ParseError::Doctype));
        assert!(parse(b"<a><b></a>").is_err());
        assert_eq!(parse(b"<Envelope/>"), Err(ParseError::NotEnvelope));
        assert_eq!(parse(&[0xff, 0xfe]), Err(ParseError::NotUtf8));
        assert!(parse(b"").is_err());
    }
}
