//! Unbounded's streaming engine: Spark-style streaming SQL run incrementally, micro-batch by
//! micro-batch. The pipeline, in the order a query passes through it:
//! [`sql`] (parse and analyse) -> [`plan`] (logical plan, then operators) -> [`ops`] (incremental
//! operators) -> [`sink`]; [`source`] holds the replayable inputs, [`checkpoint`] the offset and
//! commit logs, and [`runtime`] drives micro-batches. [`scenario`] replays the scenario format.

pub mod error;
pub mod expr;
pub mod plan;
pub mod sql;
pub mod time;
pub mod types;
pub mod value;

pub use error::{Error, ErrorKind, Result};
pub mod auto_loader;
pub mod bench;
pub mod checkpoint;
pub mod conformance;
pub mod generate;
pub mod hash;
pub mod kafka;
pub mod ops;
pub mod pipeline;
pub mod progress;
pub mod pyspark;
pub mod rate;
pub mod runtime;
pub mod scenario;
pub mod sink;
pub mod source;
pub mod state;
pub mod storage;

pub use runtime::{FailurePoint, OutputMode, QueryDefinition, StreamingQuery};
