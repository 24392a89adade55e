//! Layer 4: the SQLite store. Every run is kept; host, VM and cluster facts
//! and each address's outcome are intervals of runs (see `migrations/`), so
//! an unchanged estate adds only a `runs` row.
//!
//! Writers hold a `CollectionLock` and open the file read-write
//! (`Store::open_for_collection`); reports open it read-only
//! (`Store::open(…, OpenMode::ReadOnly)`) and read through `Store::reader`
//! (see `read` for the read API).

mod clusters;
mod digest;
mod error;
mod facts;
mod hosts;
mod ids;
mod interval;
mod lock;
mod outcomes;
mod prune;
pub mod read;
mod record;
mod runs;
pub mod time;
mod unchanged;
mod vms;

pub use error::StoreError;
pub use ids::{HostId, RunId};
pub use lock::CollectionLock;
pub use prune::PruneSummary;
pub use read::Reader;
pub use read::runs::{Run, RunStatus};
pub use record::HostOutcome;
pub use time::now_rfc3339;
pub use unchanged::UnchangedHost;

/// The licence region of a host whose configuration names none (pvu.md).
pub const DEFAULT_REGION: &str = "default";

use sqlx::sqlite::{
    SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions, SqliteSynchronous,
};
use std::path::{Path, PathBuf};
use std::time::Duration;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OpenMode {
    /// Creates the file if needed and migrates it (collection).
    ReadWrite,
    /// Never writes, never migrates (reports).
    ReadOnly,
}

/// An open database.
#[derive(Debug, Clone)]
pub struct Store {
    pool: SqlitePool,
    path: PathBuf,
}

const BUSY_TIMEOUT: Duration = Duration::from_secs(10);

impl Store {
    /// Opens `sqlite://PATH`, `sqlite:PATH` or a bare path.
    pub async fn open(url_or_path: &str, mode: OpenMode) -> Result<Store, StoreError> {
        let path = db_path(url_or_path)?;
        let shown = path.display().to_string();
        let base = SqliteConnectOptions::new()
            .filename(&path)
            .foreign_keys(true)
            .busy_timeout(BUSY_TIMEOUT);
        let (opts, max) = match mode {
            // One connection: SQLite has one writer anyway, and a single
            // connection can never hit SQLITE_BUSY on a read→write upgrade.
            OpenMode::ReadWrite => (
                base.create_if_missing(true)
                    .journal_mode(SqliteJournalMode::Wal)
                    .synchronous(SqliteSynchronous::Normal),
                1,
            ),
            OpenMode::ReadOnly => (base.read_only(true), 4),
        };
        let pool = SqlitePoolOptions::new()
            .max_connections(max)
            .connect_with(opts)
            .await
            .map_err(|source| StoreError::Open {
                path: shown.clone(),
                source,
            })?;
        match mode {
            OpenMode::ReadWrite => {
                sqlx::migrate!("./migrations")
                    .run(&pool)
                    .await
                    .map_err(|source| StoreError::Migrate {
                        path: shown,
                        source,
                    })?
            }
            // Reports cannot migrate; a file without our tables is someone else's.
            OpenMode::ReadOnly => {
                let ours: i64 = sqlx::query_scalar(
                    "SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = 'runs'",
                )
                .fetch_one(&pool)
                .await
                .map_err(|source| StoreError::Open {
                    path: shown.clone(),
                    source,
                })?;
                if ours == 0 {
                    return Err(StoreError::NotOurs(shown));
                }
            }
        }
        Ok(Store { pool, path })
    }

    /// Takes the collection lock for this database (fails at once, exit 4).
    pub fn lock_for_collection(url_or_path: &str) -> Result<CollectionLock, StoreError> {
        CollectionLock::acquire(&db_path(url_or_path)?)
    }

    /// Lock, open read-write, and close out runs a dead writer left `running`.
    pub async fn open_for_collection(
        url_or_path: &str,
    ) -> Result<(Store, CollectionLock), StoreError> {
        let lock = Self::lock_for_collection(url_or_path)?;
        let store = Self::open(url_or_path, OpenMode::ReadWrite).await?;
        store.mark_stale_runs_interrupted().await?;
        Ok((store, lock))
    }

    /// For tests' own SQL.
    pub fn pool(&self) -> &SqlitePool {
        &self.pool
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Folds the WAL back into the file (for size measurements, backups).
    pub async fn checkpoint(&self) -> Result<(), StoreError> {
        sqlx::query("PRAGMA wal_checkpoint(TRUNCATE)")
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    pub async fn close(self) {
        self.pool.close().await
    }
}

/// The file a database URL names.
pub fn db_path(url_or_path: &str) -> Result<PathBuf, StoreError> {
    let s = url_or_path.trim();
    let rest = s
        .strip_prefix("sqlite://")
        .or_else(|| s.strip_prefix("sqlite:"))
        .unwrap_or(s);
    // Connection parameters are ours to set; drop any given in the URL.
    let rest = rest.split('?').next().unwrap_or_default();
    if rest.is_empty() || rest == ":memory:" || s.contains("://") && !s.starts_with("sqlite://") {
        return Err(StoreError::BadUrl(url_or_path.to_string()));
    }
    Ok(PathBuf::from(rest))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn database_urls_and_paths_name_the_same_file() {
        for u in [
            "sqlite://data/hv.db",
            "sqlite:data/hv.db",
            "data/hv.db",
            "sqlite://data/hv.db?mode=rwc",
        ] {
            assert_eq!(db_path(u).unwrap(), PathBuf::from("data/hv.db"), "{u}");
        }
        assert_eq!(
            db_path("sqlite:///var/lib/hv.db").unwrap(),
            PathBuf::from("/var/lib/hv.db")
        );
        assert!(db_path("postgres://x/y").is_err());
        assert!(db_path("sqlite::memory:").is_err());
        assert!(db_path("").is_err());
    }
}
