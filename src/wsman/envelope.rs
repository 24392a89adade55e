//! Any reply envelope, read in one pass: the addressing headers we
//! check, and the body dispatched on its first element.

use super::IdentifyInfo;
use super::cim::{EnumerationPage, read_page};
use super::error::WsmanFault;
use super::fault::read_fault;
use super::identify::read_identify_response;
use super::instance::Instance;
use super::namespaces::Ns;
use super::parse_error::{ParseError, clip};
use super::xml::{Tok, XmlReader};

/// Parses a whole EnumerateResponse or PullResponse envelope. A fault or
/// any other body is an error here (`parse_envelope` returns faults as data).
pub fn parse_enumeration_response(xml: &str) -> Result<EnumerationPage, ParseError> {
    match parse_envelope(xml)?.body {
        ReplyBody::Page(p) => Ok(p),
        other => Err(ParseError::UnexpectedBody {
            expected: "EnumerateResponse or PullResponse",
            got: other.name(),
        }),
    }
}

/// Same, from bytes (checked to be UTF-8 first).
pub fn parse_enumeration_response_bytes(xml: &[u8]) -> Result<EnumerationPage, ParseError> {
    parse_enumeration_response(std::str::from_utf8(xml).map_err(|_| ParseError::NotUtf8)?)
}

/// Just the instances of an Enumerate/Pull response.
pub fn parse_items(xml: &str) -> Result<Vec<Instance>, ParseError> {
    parse_enumeration_response(xml).map(|p| p.items)
}

#[derive(Debug, Clone, PartialEq)]
pub struct ReplyEnvelope {
    /// `wsa:Action` of the reply (e.g. `…/enumeration/PullResponse`).
    pub action: Option<String>,
    /// `wsa:RelatesTo`: the MessageID of the request this answers.
    pub relates_to: Option<String>,
    pub body: ReplyBody,
}

#[derive(Debug, Clone, PartialEq)]
pub enum ReplyBody {
    Page(EnumerationPage),
    Fault(WsmanFault),
    Identify(IdentifyInfo),
    ReleaseResponse,
    /// `s:Body` with no element.
    Empty,
    /// A body element we do not know: its local name, and its namespace
    /// URI in `{uri}local` form when it has one (an element named like
    /// ours in another namespace must say so).
    Other(String),
}

impl ReplyBody {
    /// A short name for error messages.
    pub fn name(&self) -> String {
        match self {
            ReplyBody::Page(_) => "EnumerateResponse/PullResponse".into(),
            ReplyBody::Fault(_) => "Fault".into(),
            ReplyBody::Identify(_) => "IdentifyResponse".into(),
            ReplyBody::ReleaseResponse => "ReleaseResponse".into(),
            ReplyBody::Empty => "empty body".into(),
            ReplyBody::Other(n) => n.clone(),
        }
    }
}

/// Parses a SOAP 1.2 reply envelope.
pub fn parse_envelope(xml: &str) -> Result<ReplyEnvelope, ParseError> {
    let mut r = XmlReader::new(xml);
    match r.next()? {
        Tok::Start(e, Ns::Soap) if e.local_name().into_inner() == "Envelope" => {}
        Tok::Start(e, _) => return Err(ParseError::NotAnEnvelope(clip(e.name().into_inner()))),
        _ => return Err(ParseError::MissingElement("s:Envelope")),
    }
    let mut action = None;
    let mut relates_to = None;
    let mut body = None;
    loop {
        match r.next()? {
            Tok::Start(e, Ns::Soap) if e.local_name().into_inner() == "Header" => {
                read_header(&mut r, &mut action, &mut relates_to)?;
            }
            Tok::Start(e, Ns::Soap) if e.local_name().into_inner() == "Body" && body.is_none() => {
                body = Some(read_body(&mut r)?);
            }
            Tok::Start(..) => r.skip()?,
            Tok::End => break,
            Tok::Text(_) => {}
            Tok::Eof => return Err(ParseError::Truncated),
        }
    }
    match r.next()? {
        Tok::Eof => {}
        _ => return Err(ParseError::TrailingContent),
    }
    Ok(ReplyEnvelope {
        action,
        relates_to,
        body: body.ok_or(ParseError::MissingElement("s:Body"))?,
    })
}

fn read_header(
    r: &mut XmlReader<'_>,
    action: &mut Option<String>,
    relates_to: &mut Option<String>,
) -> Result<(), ParseError> {
    loop {
        match r.next()? {
            Tok::Start(e, Ns::Addressing) => match e.local_name().into_inner() {
                "Action" => *action = Some(r.trimmed_text()?),
                "RelatesTo" => *relates_to = Some(r.trimmed_text()?),
                _ => r.skip()?,
            },
            Tok::Start(..) => r.skip()?,
            Tok::End => return Ok(()),
            Tok::Text(_) => {}
            Tok::Eof => return Err(ParseError::Truncated),
        }
    }
}

fn read_body(r: &mut XmlReader<'_>) -> Result<ReplyBody, ParseError> {
    let mut body = None;
    loop {
        match r.next()? {
            Tok::Start(e, ns) => {
                if body.is_some() {
                    // Only the first body element means anything.
                    r.skip()?;
                    continue;
                }
                body = Some(match (ns, e.local_name().into_inner()) {
                    (Ns::Soap, "Fault") => ReplyBody::Fault(read_fault(r)?),
                    (Ns::Enumeration, "EnumerateResponse" | "PullResponse") => {
                        ReplyBody::Page(read_page(r)?)
                    }
                    (Ns::Enumeration, "ReleaseResponse") => {
                        r.skip()?;
                        ReplyBody::ReleaseResponse
                    }
                    (Ns::Identity, "IdentifyResponse") => {
                        ReplyBody::Identify(read_identify_response(r)?)
                    }
                    (_, local) => {
                        let name = match r.namespace_uri(&e) {
                            Some(uri) => format!("{{{uri}}}{}", clip(local)),
                            None => clip(local),
                        };
                        r.skip()?;
                        ReplyBody::Other(name)
                    }
                });
            }
            Tok::End => return Ok(body.unwrap_or(ReplyBody::Empty)),
            Tok::Text(_) => {}
            Tok::Eof => return Err(ParseError::Truncated),
        }
    }
}
