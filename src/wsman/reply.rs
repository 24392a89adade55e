//! From an HTTP reply to a parsed envelope or a typed error: status,
//! faults and the RelatesTo check (pypsrp rejects a reply whose RelatesTo
//! differs from the MessageID it sent; so do we).

use super::envelope::{ReplyBody, ReplyEnvelope, parse_envelope};
use super::error::WsmanError;
use super::parse_error::{ParseError, clip};

/// `expected_relates_to` is the request's MessageID (`None` for Identify,
/// whose reply carries no addressing headers).
pub fn interpret(
    status: u16,
    body: &[u8],
    expected_relates_to: Option<&str>,
) -> Result<ReplyEnvelope, WsmanError> {
    let text = std::str::from_utf8(body).map_err(|_| ParseError::NotUtf8);
    if !matches!(status, 200 | 400 | 500) {
        let detail = text
            .map(|t| clip(t.trim()))
            .unwrap_or_else(|_| format!("{} bytes", body.len()));
        return Err(WsmanError::HttpStatus { status, detail });
    }
    // Windows may prefix a BOM; XML allows it, quick-xml does not skip it in &str mode.
    let text = text?.trim_start_matches('\u{feff}');
    let env = match parse_envelope(text) {
        Ok(env) => env,
        Err(e) if status != 200 => {
            return Err(WsmanError::HttpStatus {
                status,
                detail: format!("no SOAP fault in body ({e})"),
            });
        }
        Err(e) => return Err(e.into()),
    };
    // A fault may omit RelatesTo (e.g. a 400 for an unparsable request);
    // when it has one, it must be ours.
    if let (Some(expected), Some(got)) = (expected_relates_to, env.relates_to.as_deref())
        && !got.eq_ignore_ascii_case(expected)
    {
        return Err(WsmanError::RelatesToMismatch {
            expected: expected.to_string(),
            got: Some(clip(got)),
        });
    }
    if let ReplyBody::Fault(f) = env.body {
        return Err(WsmanError::Fault(f));
    }
    if status != 200 {
        return Err(WsmanError::HttpStatus {
            status,
            detail: format!("{} instead of a SOAP fault", env.body.name()),
        });
    }
    if let Some(expected) = expected_relates_to
        && env.relates_to.is_none()
    {
        return Err(WsmanError::RelatesToMismatch {
            expected: expected.to_string(),
            got: None,
        });
    }
    Ok(env)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::{ErrorKind, HasKind};

    const EOS: &str =
        include_str!("../../tests/fixtures/wsman/enumerate_response_end_of_sequence.xml");
    const EOS_RELATES_TO: &str = "uuid:55F28C75-F63E-4F68-8360-A8C478003959";

    #[test]
    fn matching_relates_to_is_accepted() {
        let env = interpret(200, EOS.as_bytes(), Some(EOS_RELATES_TO)).unwrap();
        assert!(matches!(env.body, ReplyBody::Page(_)));
    }

    #[test]
    fn relates_to_compares_case_insensitively() {
        assert!(interpret(200, EOS.as_bytes(), Some(&EOS_RELATES_TO.to_lowercase())).is_ok());
    }

    #[test]
    fn reply_to_another_message_is_rejected() {
        let err = interpret(
            200,
            EOS.as_bytes(),
            Some("uuid:00000000-0000-0000-0000-000000000000"),
        )
        .unwrap_err();
        assert!(matches!(
            err,
            WsmanError::RelatesToMismatch { got: Some(_), .. }
        ));
        assert_eq!(err.kind(), ErrorKind::Protocol);
    }

    #[test]
    fn reply_without_relates_to_is_rejected_unless_identify() {
        let identify = include_str!("../../tests/fixtures/wsman/identify_response.xml");
        assert!(interpret(200, identify.as_bytes(), None).is_ok());
        let err = interpret(200, identify.as_bytes(), Some("uuid:X")).unwrap_err();
        assert!(matches!(
            err,
            WsmanError::RelatesToMismatch { got: None, .. }
        ));
    }

    #[test]
    fn http_500_fault_becomes_a_fault_error() {
        let body = include_str!("../../tests/fixtures/wsman/fault_access_denied.xml");
        let err = interpret(500, body.as_bytes(), Some(EOS_RELATES_TO)).unwrap_err();
        assert_eq!(err.kind(), ErrorKind::AccessDenied);
        assert!(err.fault().is_some());
    }

    #[test]
    fn fault_inside_http_200_is_still_a_fault() {
        let body = include_str!("../../tests/fixtures/wsman/fault_timed_out.xml");
        let err = interpret(200, body.as_bytes(), None).unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Timeout);
    }

    #[test]
    fn http_413_is_a_protocol_error_with_the_status() {
        let err = interpret(413, b"", Some("uuid:X")).unwrap_err();
        assert!(matches!(err, WsmanError::HttpStatus { status: 413, .. }));
        assert_eq!(err.kind(), ErrorKind::Protocol);
        assert!(err.to_string().contains("413"));
    }

    #[test]
    fn http_500_without_fault_reports_the_status() {
        let err = interpret(500, b"<html>oops</html>", None).unwrap_err();
        assert!(matches!(err, WsmanError::HttpStatus { status: 500, .. }));
    }

    #[test]
    fn non_utf8_body_is_a_parse_error() {
        let err = interpret(200, &[0x3c, 0xff, 0xfe], None).unwrap_err();
        assert!(matches!(err, WsmanError::Parse(ParseError::NotUtf8)));
    }

    #[test]
    fn byte_order_mark_is_skipped() {
        let mut body = "\u{feff}".as_bytes().to_vec();
        body.extend_from_slice(EOS.as_bytes());
        assert!(interpret(200, &body, Some(EOS_RELATES_TO)).is_ok());
    }
}
