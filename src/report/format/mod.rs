//! One file per output format; each holds the writers of every report that
//! has that format.

pub mod coverage;
pub mod csv;
pub mod json;
pub mod table;
pub mod xlsx;
