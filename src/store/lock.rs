//! One collection run per database: an exclusive lock on `<db>.lock`.

use crate::store::error::StoreError;
use std::fs::{File, OpenOptions, TryLockError};
use std::io::{Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};

/// Held for the whole run; dropping it releases the lock (the OS also
/// releases it when the process dies, which is how the next run knows a
/// `running` run was cut short).
#[derive(Debug)]
pub struct CollectionLock {
    _file: File,
    path: PathBuf,
}

impl CollectionLock {
    /// `<db>.lock`, beside the database file.
    pub fn path_for(db: &Path) -> PathBuf {
        let mut s = db.as_os_str().to_owned();
        s.push(".lock");
        PathBuf::from(s)
    }

    /// Takes the lock at once or fails with `Locked` (never waits).
    pub fn acquire(db: &Path) -> Result<CollectionLock, StoreError> {
        let path = Self::path_for(db);
        let io = |source| StoreError::LockFile {
            path: path.clone(),
            source,
        };
        let mut file = OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .open(&path)
            .map_err(io)?;
        match file.try_lock() {
            Ok(()) => {}
            Err(TryLockError::WouldBlock) => {
                let mut text = String::new();
                let pid = file
                    .read_to_string(&mut text)
                    .ok()
                    .and_then(|_| text.trim().parse().ok());
                return Err(StoreError::Locked { path, pid });
            }
            Err(TryLockError::Error(e)) => return Err(io(e)),
        }
        // The pid is for the operator reading the "locked" message.
        file.set_len(0).map_err(io)?;
        file.seek(SeekFrom::Start(0)).map_err(io)?;
        writeln!(file, "{}", std::process::id()).map_err(io)?;
        file.flush().map_err(io)?;
        Ok(CollectionLock { _file: file, path })
    }

    pub fn path(&self) -> &Path {
        &self.path
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn second_lock_on_the_same_db_fails_with_exit_code_4_and_names_the_pid() {
        let dir = tempfile::tempdir().unwrap();
        let db = dir.path().join("x.db");
        let held = CollectionLock::acquire(&db).unwrap();
        let err = CollectionLock::acquire(&db).unwrap_err();
        assert_eq!(err.exit_code(), 4);
        match err {
            StoreError::Locked { pid, .. } => assert_eq!(pid, Some(std::process::id())),
            other => panic!("{other:?}"),
        }
        drop(held);
        assert!(CollectionLock::acquire(&db).is_ok());
    }

    #[test]
    fn lock_file_sits_beside_the_database() {
        assert_eq!(
            CollectionLock::path_for(Path::new("dir/hvinv.db")),
            PathBuf::from("dir/hvinv.db.lock")
        );
    }
}
