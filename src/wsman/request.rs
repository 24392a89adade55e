//! A built request and what every message builder needs to build one.

use super::header::{Header, new_message_id};
use super::{Action, ClientOptions};

/// One envelope ready for the wire, with the MessageID its reply must
/// echo in `RelatesTo` (`None` for Identify, whose reply has none).
#[derive(Debug, Clone)]
pub struct Request {
    pub action: Action,
    pub message_id: Option<String>,
    pub xml: String,
}

/// Per-client values shared by every message.
#[derive(Debug, Clone, Copy)]
pub struct MessageContext<'a> {
    /// `wsa:To`: the endpoint URL (`http://host:5985/wsman`).
    pub to: &'a str,
    pub session_id: &'a str,
    pub opts: &'a ClientOptions,
}

impl<'a> MessageContext<'a> {
    /// A header for `action` on `resource_uri`, with a fresh MessageID.
    pub fn header<'h>(
        &'h self,
        action: Action,
        resource_uri: &'h str,
        message_id: &'h str,
    ) -> Header<'h> {
        Header {
            action,
            to: self.to,
            resource_uri,
            message_id,
            session_id: self.session_id,
            max_envelope_size: self.opts.max_envelope_size,
            operation_timeout: self.opts.operation_timeout,
            locale: &self.opts.locale,
            options: &[],
        }
    }

    /// Builds a request whose body is written by `body`.
    pub fn build(
        &self,
        action: Action,
        resource_uri: &str,
        body: impl FnOnce(&mut String),
    ) -> Request {
        let message_id = new_message_id();
        let mut xml = String::with_capacity(super::header::REQUEST_CAPACITY);
        super::header::write_envelope(
            &mut xml,
            &self.header(action, resource_uri, &message_id),
            body,
        );
        Request {
            action,
            message_id: Some(message_id),
            xml,
        }
    }
}
