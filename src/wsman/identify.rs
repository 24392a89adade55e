//! WS-Man Identify (DSP0226 §11): no Action header, body
//! `<wsmid:Identify/>`, and a reply without addressing headers.

use super::header::write_bare_envelope;
use super::namespaces::Ns;
use super::parse_error::ParseError;
use super::request::Request;
use super::xml::{Tok, XmlReader};
use super::{Action, IdentifyInfo};

pub fn build() -> Request {
    let mut xml = String::with_capacity(512);
    write_bare_envelope(&mut xml, |out| out.push_str("<wsmid:Identify/>"));
    Request {
        action: Action::Identify,
        message_id: None,
        xml,
    }
}

/// Reads `wsmid:IdentifyResponse` (start tag already consumed).
pub(crate) fn read_identify_response(r: &mut XmlReader<'_>) -> Result<IdentifyInfo, ParseError> {
    let mut info = IdentifyInfo::default();
    loop {
        match r.next()? {
            Tok::Start(e, Ns::Identity) => {
                let slot = match e.local_name().into_inner() {
                    "ProtocolVersion" => &mut info.protocol_version,
                    "ProductVendor" => &mut info.product_vendor,
                    "ProductVersion" => &mut info.product_version,
                    _ => {
                        r.skip()?;
                        continue;
                    }
                };
                *slot = Some(r.trimmed_text()?);
            }
            Tok::Start(..) => r.skip()?,
            Tok::End => return Ok(info),
            Tok::Text(_) => {}
            Tok::Eof => return Err(ParseError::Truncated),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::wsman::envelope::{ReplyBody, parse_envelope};

    #[test]
    fn identify_request_has_identify_body_and_no_action() {
        let req = build();
        assert!(req.message_id.is_none());
        assert!(!req.xml.contains("Action"));
        assert!(req.xml.contains(
            "xmlns:wsmid=\"http://schemas.dmtf.org/wbem/wsman/identity/1/wsmanidentity.xsd\""
        ));
        assert!(
            req.xml
                .contains("<s:Header/><s:Body><wsmid:Identify/></s:Body>")
        );
    }

    #[test]
    fn identify_response_yields_vendor_and_versions() {
        let env = parse_envelope(include_str!(
            "../../tests/fixtures/wsman/identify_response.xml"
        ))
        .unwrap();
        assert!(env.relates_to.is_none());
        let ReplyBody::Identify(info) = env.body else {
            panic!("not an IdentifyResponse")
        };
        assert_eq!(
            info.protocol_version.as_deref(),
            Some("http://schemas.dmtf.org/wbem/wsman/1/wsman.xsd")
        );
        assert_eq!(
            info.product_vendor.as_deref(),
            Some("Microsoft Corporation")
        );
        assert_eq!(
            info.product_version.as_deref(),
            Some("OS: 0.0.0 SP: 0.0 Stack: 3.0")
        );
    }
}
