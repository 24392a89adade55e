//! Report failures. A report only reads: its failures are a database that
//! cannot be read, a missing run or VM, or a bad input file of our own.

use crate::error::{ErrorKind, HasKind};
use crate::store::StoreError;

#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ReportError {
    /// The database could not be opened or read.
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("the database holds no complete run")]
    NoRun,
    #[error("run {0} does not exist")]
    RunNotFound(i64),
    #[error("no complete run between {from} and {to}")]
    NoRunInPeriod { from: String, to: String },
    #[error("no VM matches {0:?}")]
    VmNotFound(String),
    #[error("PVU table {source_name}: {reason}")]
    PvuTable { source_name: String, reason: String },
    #[error("VM list {path}: {reason}")]
    VmsFile { path: String, reason: String },
    #[error("invalid option: {0}")]
    Option(String),
    #[error("the {report} report has no {format} format")]
    UnsupportedFormat {
        report: &'static str,
        format: &'static str,
    },
    #[error("writing the report: {0}")]
    Io(#[from] std::io::Error),
    #[error("writing JSON: {0}")]
    Json(#[from] serde_json::Error),
    #[error("writing CSV: {0}")]
    Csv(#[from] csv::Error),
    #[error("writing XLSX: {0}")]
    Xlsx(#[from] rust_xlsxwriter::XlsxError),
}

impl ReportError {
    /// The database could not be opened or read (the CLI's exit code 3).
    pub fn is_database(&self) -> bool {
        matches!(self, ReportError::Store(_))
    }
}

impl HasKind for ReportError {
    fn kind(&self) -> ErrorKind {
        // Nothing remote is contacted by a report: every failure is local,
        // which the shared kinds call configuration.
        ErrorKind::Config
    }
}
