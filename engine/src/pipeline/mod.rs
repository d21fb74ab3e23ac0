//! Spark Declarative Pipelines (FORMAT.md version 2): several SQL statements define datasets
//! (streaming tables, materialized views, views) and the flows that write them; an update runs
//! every flow once in dependency order, each streaming flow a streaming query with its own
//! checkpoint. [`parse`] reads the text, [`graph`] builds and checks the dataflow graph,
//! [`run`] runs updates, [`event_log`] records what they did, [`scenario`] reads and runs version 2 scenario files.

pub mod event_log;
pub mod graph;
pub mod parse;
pub mod run;
pub mod scenario;
