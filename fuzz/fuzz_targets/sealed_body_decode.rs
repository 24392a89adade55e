//! `transport::sealing::decode` on arbitrary (content type, body) pairs, and
//! the round trip `decode(encode(x)) == x` on bodies built from the input.
#![no_main]

use hvinv::transport::sealing::{self, SIGNATURE_LEN};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    // First line: the Content-Type header; the rest: the body.
    let (head, body) = match data.iter().position(|&b| b == b'\n') {
        Some(i) => (&data[..i], &data[i + 1..]),
        None => (&b""[..], data),
    };
    let content_type = String::from_utf8_lossy(head);
    let _ = sealing::decode(&content_type, body);
    let _ = sealing::decode(sealing::CONTENT_TYPE, body);

    // Whatever we frame, we must read back unchanged.
    if data.len() >= SIGNATURE_LEN {
        let mut signature = [0u8; SIGNATURE_LEN];
        signature.copy_from_slice(&data[..SIGNATURE_LEN]);
        let ciphertext = &data[SIGNATURE_LEN..];
        let framed = sealing::encode(&signature, ciphertext, ciphertext.len());
        let sealed =
            sealing::decode(sealing::CONTENT_TYPE, &framed).expect("our own framing decodes");
        assert_eq!(sealed.signature, signature);
        assert_eq!(sealed.ciphertext, ciphertext);
        assert_eq!(sealed.length, ciphertext.len());
    }
});
