//! Layer 2: WS-Management over one transport connection: envelopes,
//! Identify, Enumerate/Pull/Release, faults, CIM instance parsing.
//!
//! Read-only by construction: `Action` is the only way to name what goes in
//! `wsa:Action`, and it has exactly four values; `header.rs` is the only
//! writer of headers and takes an `Action`.
//!
//! Files: `namespaces.rs` (the URI table), `header.rs` (the envelope),
//! one file per message (`identify.rs`, `enumerate.rs`, `pull.rs`,
//! `release.rs`), `enumeration.rs` (the only loop), `reply.rs` (HTTP
//! status, faults, RelatesTo), `envelope.rs`/`cim.rs`/`fault.rs` (reply
//! parsing over the strict reader in `xml.rs`).

// `WsmanError::Fault` carries the fault by value (public API that
// `inventory` builds and matches on); faults are rare, so its size costs
// nothing on the hot path.
#![allow(clippy::result_large_err)]

pub mod cim;
mod enumerate;
mod enumeration;
pub mod envelope;
mod error;
mod escape;
pub mod fault;
mod header;
mod identify;
mod instance;
mod namespaces;
mod parse_error;
mod pull;
mod release;
mod reply;
mod request;
mod xml;

pub use cim::EnumerationPage;
pub use error::{CimError, FaultClass, WsmanError, WsmanFault};
pub use instance::{Instance, Reference, Value};
pub use namespaces::wql_resource_uri;
pub use parse_error::{MAX_DEPTH, MAX_INSTANCES, MAX_PROPERTIES, ParseError};

use crate::transport::Connection;
use bytes::Bytes;
use enumeration::Exchange;
use request::{MessageContext, Request};
use std::time::Duration;

/// Every request this crate can send. There is deliberately no variant for
/// Get, Put, Create, Delete, Invoke or any custom action.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Action {
    Identify,
    Enumerate,
    Pull,
    Release,
}

impl Action {
    pub const ALL: [Action; 4] = [
        Action::Identify,
        Action::Enumerate,
        Action::Pull,
        Action::Release,
    ];

    /// The `wsa:Action` URI (Identify has none: it is recognised by its body).
    pub fn uri(self) -> Option<&'static str> {
        match self {
            Action::Identify => None,
            Action::Enumerate => {
                Some("http://schemas.xmlsoap.org/ws/2004/09/enumeration/Enumerate")
            }
            Action::Pull => Some("http://schemas.xmlsoap.org/ws/2004/09/enumeration/Pull"),
            Action::Release => Some("http://schemas.xmlsoap.org/ws/2004/09/enumeration/Release"),
        }
    }
}

#[derive(Debug, Clone)]
pub struct ClientOptions {
    /// `wsman:MaxEnvelopeSize` in bytes. The default, 512000, is Windows
    /// 2012+'s own `MaxEnvelopeSizekb` (500 KiB); a host caps a larger
    /// request at its own limit rather than refusing it (150 KiB on 2008 R2,
    /// hence the 153600 pypsrp sends), so one value serves every release.
    pub max_envelope_size: u32,
    /// `wsman:OperationTimeout`.
    pub operation_timeout: Duration,
    /// `wsman:MaxElements` for Enumerate and Pull.
    pub max_elements: u32,
    /// `xml:lang` of the locale headers.
    pub locale: String,
}

impl Default for ClientOptions {
    fn default() -> Self {
        ClientOptions {
            max_envelope_size: 512_000,
            operation_timeout: Duration::from_secs(20),
            max_elements: 32_000,
            locale: "en-US".to_string(),
        }
    }
}

/// What `Identify` says about the peer.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct IdentifyInfo {
    pub protocol_version: Option<String>,
    pub product_vendor: Option<String>,
    pub product_version: Option<String>,
}

/// A WS-Management client over one owned connection: builds a message,
/// sends it, checks the reply. The Enumerate/Pull loop is in `enumeration.rs`.
pub struct Client {
    conn: Connection,
    opts: ClientOptions,
    /// `wsa:To`, fixed for the connection's lifetime.
    to: String,
    /// `wsmv:SessionId`, one per client.
    session_id: String,
    requests: u64,
    max_instances: usize,
}

impl Client {
    pub fn new(conn: Connection, opts: ClientOptions) -> Self {
        let to = conn.config().target.url();
        Client {
            conn,
            opts,
            to,
            session_id: header::new_message_id(),
            requests: 0,
            max_instances: MAX_INSTANCES,
        }
    }

    /// Caps the instances one `enumerate_wql` may return (default
    /// `MAX_INSTANCES`); beyond it the enumeration is released and fails.
    pub fn with_max_instances(mut self, max: usize) -> Self {
        self.max_instances = max;
        self
    }

    /// WS-Man Identify (unauthenticated on Windows; we send it authenticated).
    /// A reply in another namespace is an `UnexpectedBody` naming both.
    pub async fn identify(&mut self) -> Result<IdentifyInfo, WsmanError> {
        read_identify_reply(self.exchange(identify::build()).await?.body)
    }

    /// Runs one WQL select in a WMI namespace (`root/cimv2`, `root/virtualization/v2`,
    /// `root/MSCluster`): Enumerate, then Pull until EndOfSequence, always with
    /// the newest context. Releases the context if it stops early.
    pub async fn enumerate_wql(
        &mut self,
        namespace: &str,
        wql: &str,
    ) -> Result<Vec<Instance>, WsmanError> {
        let max = self.max_instances;
        enumeration::enumerate_wql(self, namespace, wql, max).await
    }

    /// WS-Man requests sent so far (Identify, Enumerate, Pull, Release),
    /// failed ones included; authentication legs are not counted here.
    pub fn requests(&self) -> u64 {
        self.requests
    }

    pub fn options(&self) -> &ClientOptions {
        &self.opts
    }

    pub fn connection(&self) -> &Connection {
        &self.conn
    }

    pub async fn close(&mut self) {
        self.conn.close().await
    }

    /// Backstop over the transport's own deadlines: the server may take
    /// OperationTimeout, and the transport may reconnect once.
    fn send_deadline(&self) -> Duration {
        let t = self.conn.config().timeouts;
        self.opts.operation_timeout + t.request * 2 + t.connect + Duration::from_secs(5)
    }
}

impl Exchange for Client {
    fn message_context(&self) -> MessageContext<'_> {
        MessageContext {
            to: &self.to,
            session_id: &self.session_id,
            opts: &self.opts,
        }
    }

    async fn exchange(&mut self, req: Request) -> Result<envelope::ReplyEnvelope, WsmanError> {
        self.requests += 1;
        tracing::debug!(action = ?req.action, bytes = req.xml.len(), "WS-Man request");
        let deadline = self.send_deadline();
        let reply = tokio::time::timeout(deadline, self.conn.send(Bytes::from(req.xml)))
            .await
            .map_err(|_| WsmanError::Timeout {
                what: "WS-Management request",
                secs: deadline.as_secs_f64(),
            })??;
        reply::interpret(reply.status, &reply.body, req.message_id.as_deref())
    }
}

/// What an Identify reply must be, namespace included: OMI answers with an
/// `IdentifyResponse` of another namespace.
const IDENTIFY_RESPONSE: &str =
    "{http://schemas.dmtf.org/wbem/wsman/identity/1/wsmanidentity.xsd}IdentifyResponse";

/// The Identify reply's body as the answer, or an error that names the
/// namespace of what came instead (and of what we expected).
fn read_identify_reply(body: envelope::ReplyBody) -> Result<IdentifyInfo, WsmanError> {
    match body {
        envelope::ReplyBody::Identify(info) => Ok(info),
        envelope::ReplyBody::Fault(f) => Err(WsmanError::Fault(f)),
        other => Err(ParseError::UnexpectedBody {
            expected: IDENTIFY_RESPONSE,
            got: other.name(),
        }
        .into()),
    }
}

#[cfg(test)]
mod tests {
    use super::namespaces::{IDENTITY, Ns};
    use super::xml::{Tok, XmlReader};
    use super::*;

    #[test]
    fn constant_names_the_identity_namespace() {
        assert_eq!(
            IDENTIFY_RESPONSE,
            format!("{{{}}}IdentifyResponse", IDENTITY)
        );
    }

    /// OMI's Identify once failed `check` with "unexpected reply body
    /// `IdentifyResponse` (expected IdentifyResponse)": the two names
    /// differ only by namespace, so the message must show both.
    #[test]
    fn identify_response_in_another_namespace_names_both_namespaces() {
        let xml = "<s:Envelope xmlns:s=\"http://www.w3.org/2003/05/soap-envelope\"><s:Header/><s:Body><i:IdentifyResponse xmlns:i=\"http://example.org/other/identity\"><i:ProductVendor>X</i:ProductVendor></i:IdentifyResponse></s:Body></s:Envelope>";
        let env = envelope::parse_envelope(xml).unwrap();
        let err = read_identify_reply(env.body).unwrap_err();
        let text = err.to_string();
        assert!(
            text.contains("{http://example.org/other/identity}IdentifyResponse"),
            "{text}"
        );
        assert!(
            text.contains(
                "{http://schemas.dmtf.org/wbem/wsman/identity/1/wsmanidentity.xsd}IdentifyResponse"
            ),
            "{text}"
        );
    }

    /// `wsa:Action` of a request, and the namespace/local name of its
    /// first body element, read back with the strict reader (which also
    /// proves the request is well-formed XML).
    fn action_and_body(xml: &str) -> (Option<String>, (Ns, String)) {
        let mut r = XmlReader::new(xml);
        let mut action = None;
        let mut in_header = false;
        let mut in_body = false;
        loop {
            match r.next().unwrap() {
                Tok::Start(e, ns) => {
                    let local = e.local_name().into_inner().to_string();
                    if in_body {
                        return (action, (ns, local));
                    }
                    match (ns, local.as_str()) {
                        (Ns::Soap, "Header") => in_header = true,
                        (Ns::Soap, "Body") => in_body = true,
                        (Ns::Addressing, "Action") if in_header => action = Some(r.text().unwrap()),
                        _ => {}
                    }
                }
                Tok::Eof => panic!("no body element"),
                _ => {}
            }
        }
    }

    /// Every request this module can build, with hostile inputs.
    fn every_buildable_request() -> Vec<Request> {
        let opts = ClientOptions::default();
        let ctx = MessageContext {
            to: "http://hv1:5985/wsman?a=1&b=<2>",
            session_id: "uuid:S",
            opts: &opts,
        };
        let uri = wql_resource_uri("root\\virtualization\\v2");
        let evil = "x</wsen:EnumerationContext><wsa:Action>http://schemas.xmlsoap.org/ws/2004/09/transfer/Delete</wsa:Action>";
        vec![
            identify::build(),
            enumerate::build(&ctx, &uri, "SELECT * FROM Msvm_ComputerSystem"),
            enumerate::build(&ctx, &uri, evil),
            pull::build(&ctx, &uri, "uuid:C"),
            pull::build(&ctx, &uri, evil),
            release::build(&ctx, &uri, "uuid:C"),
            release::build(&ctx, &uri, evil),
        ]
    }

    #[test]
    fn every_request_names_one_of_the_four_read_only_actions() {
        let allowed: Vec<&str> = Action::ALL.iter().filter_map(|a| a.uri()).collect();
        assert_eq!(allowed.len(), 3);
        for req in every_buildable_request() {
            let (action, (body_ns, body_local)) = action_and_body(&req.xml);
            match action {
                Some(a) => {
                    assert!(allowed.contains(&a.as_str()), "action {a} is not read-only");
                    assert_eq!(Some(a.as_str()), req.action.uri());
                    assert_eq!(body_ns, Ns::Enumeration);
                    assert!(["Enumerate", "Pull", "Release"].contains(&body_local.as_str()));
                }
                None => {
                    assert_eq!(req.action, Action::Identify);
                    assert_eq!((body_ns, body_local.as_str()), (Ns::Identity, "Identify"));
                    assert!(req.xml.contains(IDENTITY));
                }
            }
        }
    }

    #[test]
    fn typical_requests_fit_their_initial_buffer() {
        let opts = ClientOptions::default();
        let to = "https://hyperv-node-0042.datacenter.contoso.example:5986/wsman";
        let session_id = header::new_message_id();
        let ctx = MessageContext {
            to,
            session_id: &session_id,
            opts: &opts,
        };
        let uri = wql_resource_uri("root/virtualization/v2");
        let context = header::new_message_id();
        let longest_query = "SELECT InstanceID, VirtualSystemIdentifier, ElementName, BIOSGUID, BIOSSerialNumber, VirtualSystemSubType, Version FROM Msvm_VirtualSystemSettingData WHERE VirtualSystemType='Microsoft:Hyper-V:System:Realized'";
        for req in [
            enumerate::build(&ctx, &uri, longest_query),
            pull::build(&ctx, &uri, &context),
            release::build(&ctx, &uri, &context),
        ] {
            assert!(
                req.xml.len() <= header::REQUEST_CAPACITY,
                "{} bytes",
                req.xml.len()
            );
            assert_eq!(req.xml.capacity(), header::REQUEST_CAPACITY, "buffer grew");
        }
    }

    #[test]
    fn every_request_has_a_fresh_message_id_except_identify() {
        let reqs = every_buildable_request();
        let ids: Vec<_> = reqs.iter().filter_map(|r| r.message_id.clone()).collect();
        assert_eq!(ids.len(), reqs.len() - 1);
        let mut dedup = ids.clone();
        dedup.sort();
        dedup.dedup();
        assert_eq!(dedup.len(), ids.len());
    }
}
