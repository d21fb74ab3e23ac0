//! Per-batch progress in the shape of Spark's `StreamingQueryProgress` (camelCase JSON), plus
//! the playground's dead-letter count.

use std::collections::BTreeMap;

use serde::Serialize;

use crate::ops::StateOperatorProgress;

#[derive(Debug, Clone, PartialEq, Serialize, Default)]
#[serde(rename_all = "camelCase")]
pub struct DurationMs {
    pub latest_offset: f64,
    pub get_batch: f64,
    pub query_planning: f64,
    pub add_batch: f64,
    pub wal_commit: f64,
    pub commit_offsets: f64,
    pub trigger_execution: f64,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct SourceProgress {
    pub description: String,
    pub start_offset: u64,
    pub end_offset: u64,
    pub latest_offset: u64,
    pub num_input_rows: u64,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct QueryProgress {
    pub id: String,
    pub batch_id: u64,
    /// Processing time the batch started, in milliseconds of the caller's clock.
    pub timestamp_ms: f64,
    pub num_input_rows: u64,
    pub input_rows_per_second: f64,
    pub processed_rows_per_second: f64,
    pub duration_ms: DurationMs,
    /// `watermark` (in effect for this batch), `max`, `min` event time, as Spark reports them.
    pub event_time: BTreeMap<String, String>,
    pub state_operators: Vec<StateOperatorProgress>,
    pub sources: Vec<SourceProgress>,
    pub num_output_rows: u64,
    /// Records routed to the dead-letter output by this batch.
    pub num_bad_records: u64,
}
