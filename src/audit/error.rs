//! Audit failures: a key that cannot be used, a bundle that cannot be
//! written or read, or a report underneath that failed.

use crate::report::ReportError;
use crate::store::StoreError;

#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum AuditError {
    #[error(transparent)]
    Report(#[from] ReportError),
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(
        "signing key {path} can be read or written by others (mode {mode:03o}); \
         `chmod 600 {path}` if it is yours, or make a new one"
    )]
    KeyNotPrivate { path: String, mode: u32 },
    #[error("signing key {path} is not a PKCS#8 Ed25519 private key in PEM: {source}")]
    KeyFormat {
        path: String,
        #[source]
        source: ed25519_dalek::pkcs8::Error,
    },
    #[error("encoding the public key: {0}")]
    PublicKeyEncoding(#[from] ed25519_dalek::pkcs8::spki::Error),
    #[error("encoding the signing key: {0}")]
    KeyEncoding(#[from] ed25519_dalek::pkcs8::Error),
    #[error("no operating-system randomness for a new signing key: {0}")]
    Randomness(String),
    #[error("{path}: {source}")]
    Io {
        path: String,
        #[source]
        source: std::io::Error,
    },
    #[error("zip: {0}")]
    Zip(#[from] zip::result::ZipError),
    #[error("writing {file}: {source}")]
    Render {
        file: &'static str,
        #[source]
        source: ReportError,
    },
    #[error("writing {file}: {source}")]
    Csv {
        file: &'static str,
        #[source]
        source: csv::Error,
    },
    #[error("writing manifest.json: {0}")]
    Json(#[from] serde_json::Error),
    #[error("the database holds no run to make a bundle of")]
    NoRun,
}

impl AuditError {
    pub(crate) fn io(path: &std::path::Path, source: std::io::Error) -> Self {
        AuditError::Io {
            path: path.display().to_string(),
            source,
        }
    }

    /// The database could not be opened or read (the CLI's exit code 3).
    pub fn is_database(&self) -> bool {
        match self {
            AuditError::Report(e) => e.is_database(),
            AuditError::Store(_) => true,
            _ => false,
        }
    }
}
