//! The simulator's own NTLM acceptor (server side), independent of the
//! client's `sspi`: wire messages, hand-written crypto, sealing, SPNEGO.

pub mod acceptor;
pub mod crypto;
pub mod messages;
pub mod rc4;
pub mod seal;
pub mod spnego;

pub use acceptor::{Acceptor, Account, ServerIdentity, Session, Step};
