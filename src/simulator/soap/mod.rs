//! SOAP for the simulator: its own request parser and its own writer, so a
//! bug shared with the client's `wsman` layer cannot hide.

pub mod ns;
pub mod render;
pub mod request;
pub mod response;
pub mod wmi_fault;
pub mod xml;
