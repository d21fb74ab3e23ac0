//! Plans: the logical plan the analyzer produces, the streaming rules checked when a query
//! starts, and the pipeline of incremental operators built from it.

pub mod checks;
pub mod logical;
pub mod optimize;
pub mod physical;

pub use logical::{JoinKind, LogicalPlan};
