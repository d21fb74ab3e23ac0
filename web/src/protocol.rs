//! The messages between the page and the engine's session. The page only sends [`Request`]s and
//! renders [`Snapshot`]s, so the session can move into a Web Worker without the UI changing.

use serde::{Deserialize, Serialize};
use serde_json::Value as Json;

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Request {
    /// Replace the session with a scenario (FORMAT.md text); its steps are replayed.
    LoadScenario { text: String },
    /// Start a new query over everything the sources hold; a refused query changes nothing.
    SetQuery { sql: String, output_mode: String },
    /// Append one event (values in schema order, as the scenario format writes them).
    AddEvent { source: String, row: Vec<Json> },
    /// Process all available data: one micro-batch plus any no-data batch.
    RunBatch,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct ColumnInfo {
    pub name: String,
    pub data_type: String,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct RelationInfo {
    pub name: String,
    pub columns: Vec<ColumnInfo>,
    /// Records in a source's log, or rows of a static table.
    pub rows: u64,
    /// Records not yet read by a micro-batch (sources only).
    pub pending: u64,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct ErrorInfo {
    pub kind: String,
    pub message: String,
    pub line: Option<u64>,
    pub column: Option<u64>,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct BatchInfo {
    pub batch_id: u64,
    pub input_rows: u64,
    pub output_rows: u64,
    pub watermark: Option<String>,
    pub state_rows: u64,
    pub dropped_late: u64,
    pub bad_records: u64,
    pub duration_ms: f64,
    pub rows: Vec<Vec<Json>>,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct DeadLetterInfo {
    pub batch_id: u64,
    pub source: String,
    pub offset: u64,
    pub row: Json,
    pub reason: String,
}

/// Everything the page shows, consistent as of one moment.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Default)]
pub struct Snapshot {
    pub scenario_name: String,
    pub description: String,
    pub sql: String,
    pub output_mode: String,
    pub sources: Vec<RelationInfo>,
    pub tables: Vec<RelationInfo>,
    /// Result columns of the running query (empty when none runs).
    pub columns: Vec<String>,
    pub batches: Vec<BatchInfo>,
    /// The sink's content (FORMAT.md's rule per output mode).
    pub sink: Vec<Vec<Json>>,
    pub dead_letter: Vec<DeadLetterInfo>,
    pub explain: String,
    /// The error of the last request, shown in place; the session is unchanged by it.
    pub error: Option<ErrorInfo>,
}
