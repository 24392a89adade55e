//! Layer 2: WS-Management over one transport connection: envelopes,
//! Identify, Enumerate/Pull/Release, faults, CIM instance parsing.
//!
//! Read-only by construction: `Action` is the only way to name what goes in
//! `wsa:Action`, and it has exactly four values.
//!
//! OWNER NOTE (skeleton): the public API below is the contract used by
//! `inventory`; implementations live in sibling files.

mod error;
mod instance;

pub use error::{WsmanError, WsmanFault};
pub use instance::{Instance, Reference, Value};

use crate::transport::Connection;
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
    /// The `wsa:Action` URI (Identify has none: it is recognised by its body).
    pub fn uri(self) -> Option<&'static str> {
        match self {
            Action::Identify => None,
            Action::Enumerate => Some("http://schemas.xmlsoap.org/ws/2004/09/enumeration/Enumerate"),
            Action::Pull => Some("http://schemas.xmlsoap.org/ws/2004/09/enumeration/Pull"),
            Action::Release => Some("http://schemas.xmlsoap.org/ws/2004/09/enumeration/Release"),
        }
    }
}

#[derive(Debug, Clone)]
pub struct ClientOptions {
    /// `wsman:MaxEnvelopeSize` in bytes (153600 works on 2008 R2 too).
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
#[derive(Debug, Clone, Default)]
pub struct IdentifyInfo {
    pub protocol_version: Option<String>,
    pub product_vendor: Option<String>,
    pub product_version: Option<String>,
}

/// A WS-Management client over one owned connection.
pub struct Client {
    conn: Connection,
    opts: ClientOptions,
}

impl Client {
    pub fn new(conn: Connection, opts: ClientOptions) -> Self {
        Client { conn, opts }
    }

    /// WS-Man Identify (unauthenticated on Windows; we send it authenticated).
    pub async fn identify(&mut self) -> Result<IdentifyInfo, WsmanError> {
        let _ = &self.opts;
        Err(WsmanError::NotImplemented)
    }

    /// Runs one WQL select in a WMI namespace (`root/cimv2`, `root/virtualization/v2`,
    /// `root/MSCluster`): Enumerate, then Pull until EndOfSequence, always with
    /// the newest context. Releases the context if it stops early.
    pub async fn enumerate_wql(&mut self, namespace: &str, wql: &str) -> Result<Vec<Instance>, WsmanError> {
        let _ = (namespace, wql);
        Err(WsmanError::NotImplemented)
    }

    pub fn connection(&self) -> &Connection {
        &self.conn
    }

    pub async fn close(&mut self) {
        self.conn.close().await
    }
}
