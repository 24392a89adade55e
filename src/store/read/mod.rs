//! The read side of the store: typed rows out of the schema in
//! `migrations/`, for reports. Nothing here writes.
//!
//! A [`Reader`] borrows an open [`Store`] (a report opens it with
//! `OpenMode::ReadOnly`). Its methods, by table:
//!
//! - runs ([`runs`]): one run by id, the latest complete run, and runs whose
//!   start lies in a period, oldest first ([`Run`], with times parsed and a
//!   [`RunStatus`]).
//! - host outcomes ([`outcomes`]): one row per configured address per run
//!   ([`Outcome`]), or only its keys ([`OutcomeKey`]) for every host of every
//!   run of a period, ordered by run then address; the last good run of an
//!   address before a run; host labels (newest name and address).
//! - facts ([`facts`]): host, VM and cluster facts and clusters' VM owners
//!   are intervals of runs
//!   (`first_run_id..=last_run_id`). `*_overlapping(lo, hi)` loads the rows
//!   whose interval meets `[lo, hi]` into a `Vec`; `*_by_first_run(lo, hi)`
//!   streams the same rows ordered by `first_run_id` (then row id), so a
//!   reader can sweep the runs once, opening each interval as its first run
//!   comes and dropping it after its last, with memory proportional to the
//!   estate rather than to hosts × runs.
//!
//! Rows carry run ids as `i64` (the `runs.id` column); a fact row `covers(run)`
//! when the run lies in its interval. A fact row holds for a run only if its
//! host's outcome in that run is OK: pair facts with outcomes.

pub mod facts;
pub mod outcomes;
pub mod prunes;
pub mod runs;

use futures_util::stream::BoxStream;
use sqlx::SqlitePool;

use crate::store::{Store, StoreError};

/// The model's types the rows carry, for readers above the store.
pub use crate::inventory::{
    Guid, HostIdentity, HostSnapshot, Processor, Replication, VmSnapshot, VmState,
};
pub use facts::{ClusterFacts, ClusterNode, ClusterVmFacts, HostFacts, VmFacts, VmOwner};
pub use outcomes::{HostLabel, OkSpan, Outcome, OutcomeKey, OutcomeSpan};
pub use prunes::PruneRecord;
pub use runs::Run;

/// Rows as they come from the database, one at a time.
pub type RowStream<'a, T> = BoxStream<'a, Result<T, StoreError>>;

/// Read access to an open store. Cheap to copy.
#[derive(Debug, Clone, Copy)]
pub struct Reader<'a> {
    pool: &'a SqlitePool,
}

impl Store {
    /// The read side of this store.
    pub fn reader(&self) -> Reader<'_> {
        Reader { pool: &self.pool }
    }
}

impl<'a> From<&'a Store> for Reader<'a> {
    fn from(store: &'a Store) -> Self {
        store.reader()
    }
}

/// For tests that write rows by hand into a migrated pool of their own.
impl<'a> From<&'a SqlitePool> for Reader<'a> {
    fn from(pool: &'a SqlitePool) -> Self {
        Reader { pool }
    }
}
