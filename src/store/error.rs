//! Store failures, with the exit code the CLI gives each.

use std::path::PathBuf;

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("cannot open database {path}: {source}")]
    Open {
        path: String,
        #[source]
        source: sqlx::Error,
    },
    #[error("cannot migrate database {path}: {source}")]
    Migrate {
        path: String,
        #[source]
        source: sqlx::migrate::MigrateError,
    },
    #[error("another collection run holds {}{}", .path.display(), .pid.map(|p| format!(" (pid {p})")).unwrap_or_default())]
    Locked { path: PathBuf, pid: Option<u32> },
    #[error("lock file {}: {source}", .path.display())]
    LockFile {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error(
        "database URL {0:?} is not a SQLite file (expected sqlite://PATH, sqlite:PATH or a path)"
    )]
    BadUrl(String),
    #[error("{0} is not an hvinv database (no runs table); run a collection first")]
    NotOurs(String),
    #[error("database error: {0}")]
    Sql(#[from] sqlx::Error),
    #[error("cannot encode {what}: {source}")]
    Encode {
        what: &'static str,
        #[source]
        source: serde_json::Error,
    },
    #[error("database value {table}.{column} is invalid: {reason}")]
    BadData {
        table: &'static str,
        column: &'static str,
        reason: String,
    },
    #[error("host snapshot has no identity (no UUID, serial or name)")]
    NoIdentity,
}

impl StoreError {
    pub(crate) fn bad(
        table: &'static str,
        column: &'static str,
        reason: impl Into<String>,
    ) -> Self {
        StoreError::BadData {
            table,
            column,
            reason: reason.into(),
        }
    }

    /// The CLI's exit code: 4 when another run holds the database, else 3.
    pub fn exit_code(&self) -> i32 {
        match self {
            StoreError::Locked { .. } => 4,
            _ => 3,
        }
    }
}
