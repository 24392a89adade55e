//! Layer 3: the fixed WQL query set, typed WMI classes, and the host
//! topology model built from them.

pub mod classes;
mod cluster;
mod collect;
pub mod discover;
mod error;
pub mod fault;
pub mod model;
pub mod queries;
mod results;
mod runner;
mod snapshot;
mod vms;

pub use collect::{WqlRunner, collect_host, collect_with, run_queries};
pub use error::{BadValue, CollectError};
pub use model::{
    ClusterNode, ClusterSnapshot, Guid, HostIdentity, HostSnapshot, Processor, Replication,
    VmOwner, VmSnapshot, VmState,
};
pub use queries::{QUERIES, Query};
pub use results::{ClusterResults, HyperVNamespace, HyperVResults, QueryResults};
pub use snapshot::build_snapshot;
pub use vms::instance_id_guid;
