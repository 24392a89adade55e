//! The client's handling of the server's 401: `WWW-Authenticate` parsing,
//! then the CHALLENGE token (raw NTLMSSP or SPNEGO) through `spnego` and
//! sspi into an AUTHENTICATE. A hostile host, or anyone on a plain-HTTP
//! path, controls these bytes before any key exists.
#![no_main]

use base64::Engine;
use hvinv::transport::{Credentials, negotiate::Start, www_authenticate};
use libfuzzer_sys::fuzz_target;
use secrecy::SecretString;

fuzz_target!(|data: &[u8]| {
    // First line: a WWW-Authenticate header value; the rest: the raw token.
    let (head, token) = match data.iter().position(|&b| b == b'\n') {
        Some(i) => (&data[..i], &data[i + 1..]),
        None => (&b""[..], data),
    };
    let header = String::from_utf8_lossy(head);
    let offers = www_authenticate::parse([header.as_ref()]);
    let _ = www_authenticate::scheme_list(&offers);
    // A token from the header, when it decodes, gets the same treatment.
    let from_header = www_authenticate::negotiate(&offers)
        .and_then(|o| o.token.as_deref())
        .and_then(|t| base64::engine::general_purpose::STANDARD.decode(t).ok());

    for token in [Some(token.to_vec()), from_header].into_iter().flatten() {
        let creds = Credentials::parse("LAB\\fuzz", SecretString::from("Passw0rd!".to_string()));
        let Ok(start) = Start::new(&creds, "WSMAN/fuzz.example".to_string()) else {
            return;
        };
        let Ok((sent, _negotiate)) = start.negotiate(None) else {
            return;
        };
        if let Ok((mut established, _authenticate)) = sent.authenticate(&token) {
            // Keys exist: sealing must work, unsealing garbage must fail cleanly.
            let _ = established.seal(b"<s:Envelope/>");
            let _ = established.unseal(&[0u8; 16], token.clone());
        }
    }
});
