//! hvinv: a read-only Hyper-V inventory collector speaking WS-Management.
//!
//! Layers, each depending only on the ones above it in this list:
//! `error` (shared kinds), `transport`, `wsman`, `inventory`, `store`,
//! `diagnose` (the `check` ladder, above `inventory`), `collection` (one
//! run into the store), `report`, `audit` (signed evidence bundles, retention),
//! `cli`. The `simulator` is the server side used by `demo`,
//! tests and benchmarks; client code never imports it.

pub mod audit;
pub mod cli;
pub mod collection;
pub mod diagnose;
pub mod error;
pub mod inventory;
pub mod report;
pub mod simulator;
pub mod store;
pub mod transport;
pub mod wsman;
