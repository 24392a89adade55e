//! Change detection: a SHA-256 over a canonical JSON form of a fact row.

use serde::Serialize;
use sha2::{Digest, Sha256};

/// Hex SHA-256 of `value` serialised as JSON. Field order is the struct's
/// declaration order, so the form is stable for a given row type.
pub fn digest<T: Serialize>(value: &T) -> Result<String, serde_json::Error> {
    let bytes = serde_json::to_vec(value)?;
    Ok(hex::encode(Sha256::digest(&bytes)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn digest_is_sha256_of_the_json_form() {
        // SHA-256("null") from the FIPS 180-4 algorithm (e.g. `printf null | sha256sum`).
        assert_eq!(
            digest(&Option::<u8>::None).unwrap(),
            "74234e98afe7498fb5daf1f36ac2d78acc339464f950703b8c019892f982b90b"
        );
        assert_ne!(digest(&Some(1)).unwrap(), digest(&Some(2)).unwrap());
    }
}
