//! The WS-Man reply parsers on arbitrary bytes: whatever a host (or a man in
//! the middle of plain HTTP) sends, they return an error or a value, never
//! panic, and stay within their size limits.
#![no_main]

use hvinv::wsman::{cim, envelope};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    // The byte entry point checks UTF-8 itself.
    let _ = envelope::parse_enumeration_response_bytes(data);
    if let Ok(text) = std::str::from_utf8(data) {
        let _ = envelope::parse_envelope(text);
        let _ = cim::parse_instance(text);
    }
});
