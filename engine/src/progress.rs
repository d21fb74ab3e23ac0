//! Per-batch progress in the shape of Spark's `StreamingQueryProgress` (camelCase JSON), plus
//! the playground's dead-letter count.

use serde::ser::SerializeMap;
use serde::{Serialize, Serializer};

use crate::ops::StateOperatorProgress;
use crate::time::format_timestamp;

/// Spark's `eventTime` of a batch, in microseconds: kept as numbers and written as Spark's
/// timestamp text only when the progress is serialised (no micro-batch needs the text).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct EventTimeStats {
    /// The watermark in effect for the batch; None before the first one.
    pub watermark: Option<i64>,
    /// The largest event time the batch read.
    pub max: Option<i64>,
}

impl Serialize for EventTimeStats {
    /// As Spark's map: `{"max": "2026-01-01 00:00:09", "watermark": "..."}`, only the keys it has.
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let entries = [("max", self.max), ("watermark", self.watermark)];
        let mut map = s.serialize_map(Some(entries.iter().filter(|e| e.1.is_some()).count()))?;
        for (key, micros) in entries {
            if let Some(micros) = micros {
                map.serialize_entry(key, &format_timestamp(micros))?;
            }
        }
        map.end()
    }
}

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
    /// The source's own metrics, as Spark reports them in `sources[].metrics` (the Kafka
    /// source's offsets behind latest); strings, as Spark writes them.
    #[serde(skip_serializing_if = "std::collections::BTreeMap::is_empty")]
    pub metrics: std::collections::BTreeMap<String, String>,
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
    /// `watermark` (in effect for this batch) and `max` event time, as Spark reports them.
    pub event_time: EventTimeStats,
    pub state_operators: Vec<StateOperatorProgress>,
    pub sources: Vec<SourceProgress>,
    pub num_output_rows: u64,
    /// Records routed to the dead-letter output by this batch.
    pub num_bad_records: u64,
    /// Unbounded's extension (Spark reports latency per batch only): how long each record the
    /// batch read waited between arriving and being processed, on the query's clock. Records
    /// that arrived together and were processed together share one entry (a run of
    /// consecutive offsets), so every record is covered without one entry per row.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub record_latencies: Vec<RecordLatency>,
}

/// The latency of a run of records of one source (and Kafka partition): consecutive offsets
/// that arrived at the same time and were processed at the same time.
///
/// `processed_ms` is when the query processed them: a micro-batch's start (its trigger time);
/// under continuous processing or Real-Time Mode, where long-running tasks process a record as
/// it arrives, the arrival time itself when the query was running then, else the time it
/// started. `latency_ms = processed_ms - arrived_ms`.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct RecordLatency {
    pub source: String,
    /// The Kafka partition; None for other sources.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub partition: Option<u32>,
    /// The offset of the first record of the run: the Kafka offset in its partition, else the
    /// record's position in the source (the offsets of the batch's `sources[].startOffset`).
    pub first_offset: u64,
    /// How many records the run holds.
    pub records: u64,
    /// When they arrived: added to the source's folder, produced to the topic, or (rate) the
    /// time the rate source generated them.
    pub arrived_ms: f64,
    pub processed_ms: f64,
    pub latency_ms: f64,
}

#[cfg(test)]
mod tests {
    use super::*;
    #[cfg(target_arch = "wasm32")]
    use wasm_bindgen_test::wasm_bindgen_test as test;

    #[test]
    fn event_times_serialise_as_sparks_map_of_timestamps() {
        let both = EventTimeStats { watermark: Some(1_767_225_600_000_000), max: Some(1_767_225_610_500_000) };
        assert_eq!(serde_json::to_string(&both).unwrap(), r#"{"max":"2026-01-01 00:00:10.5","watermark":"2026-01-01 00:00:00"}"#);
        let max = EventTimeStats { watermark: None, max: Some(0) };
        assert_eq!(serde_json::to_string(&max).unwrap(), r#"{"max":"1970-01-01 00:00:00"}"#);
        assert_eq!(serde_json::to_string(&EventTimeStats::default()).unwrap(), "{}");
    }
}
