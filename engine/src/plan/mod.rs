//! Plans: the logical plan the analyzer produces, the streaming rules checked when a query
//! starts, and the pipeline of incremental operators built from it.

pub mod checks;
pub mod logical;
pub mod optimize;
pub mod physical;

pub use logical::{JoinKind, LogicalPlan};

/// Spark's output modes: which rows each micro-batch writes to the sink.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum OutputMode {
    Append,
    Update,
    Complete,
}

impl OutputMode {
    pub fn parse(s: &str) -> Option<OutputMode> {
        match s.to_ascii_lowercase().as_str() {
            "append" => Some(OutputMode::Append),
            "update" => Some(OutputMode::Update),
            "complete" => Some(OutputMode::Complete),
            _ => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            OutputMode::Append => "append",
            OutputMode::Update => "update",
            OutputMode::Complete => "complete",
        }
    }
}
