//! Audit evidence (`shared/spec/audit.md`), above `report`: the signed
//! bundle an auditor takes away (`snapshot`), its check (`bundle::verify`)
//! and the signing key it is made with (`key`).
//!
//! The bundle is a zip of report files, a `checksums.txt` in `sha256sum`
//! format over them, an Ed25519 signature of the bytes of `checksums.txt`
//! and the public key as SubjectPublicKeyInfo PEM, so it can be checked
//! without hvinv (`sha256sum -c`, `openssl pkeyutl -verify`).

pub mod bundle;
pub mod error;
pub mod key;
pub mod snapshot;

pub use bundle::{Problem, Verification};
pub use error::AuditError;
pub use key::SigningKeyFile;
pub use snapshot::{SnapshotOptions, build_files};

/// Schema of the bundle's `manifest.json`.
pub const SCHEMA: &str = "hvinv.audit/1";
