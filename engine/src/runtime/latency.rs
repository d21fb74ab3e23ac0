//! Per-record latency: when each record arrived (stamped on the query's clock as it is added
//! or produced) and when the query processed it, for [`crate::progress::RecordLatency`].

use std::collections::BTreeMap;

use arrow_array::{Array, Int32Array, Int64Array, RecordBatch, TimestampMicrosecondArray};

use crate::progress::RecordLatency;

/// When records arrived, per source and Kafka partition: each entry `(end, at_ms)` covers the
/// offsets below `end` from the previous entry's `end` on, so a lookup is a binary search. Kept
/// for the query's lifetime (an entry per add step, or per run of messages produced at one
/// time), in memory only: after a resume in a new process the steps that refill the sources
/// stamp them again.
#[derive(Debug, Clone, Default)]
pub(super) struct Arrivals {
    by_source: BTreeMap<Stream, Vec<(u64, f64)>>,
}

/// A source (lower case) and, for Kafka, a partition: one sequence of offsets.
type Stream = (String, Option<u32>);

impl Arrivals {
    /// Records of `source` (and `partition`) below offset `end` not stamped yet arrived at `at_ms`.
    pub(super) fn stamp(&mut self, source: &str, partition: Option<u32>, end: u64, at_ms: f64) {
        let list = self.by_source.entry((source.to_ascii_lowercase(), partition)).or_default();
        match list.last_mut() {
            Some(last) if last.0 >= end => {}
            // Consecutive messages produced at one time make one entry.
            Some(last) if last.1 == at_ms => last.0 = end,
            _ => list.push((end, at_ms)),
        }
    }

    /// When the record at `offset` of `source` (and `partition`) arrived, and the end of the
    /// run of offsets that arrived with it.
    fn arrival(&self, source: &str, partition: Option<u32>, offset: u64) -> Option<(f64, u64)> {
        let list = self.by_source.get(&(source.to_ascii_lowercase(), partition))?;
        let k = list.partition_point(|(end, _)| *end <= offset);
        list.get(k).map(|(end, at)| (*at, *end))
    }

    /// The latencies of the records at offsets `start..end` of a file (or memory) source.
    pub(super) fn for_range(&self, source: &str, start: u64, end: u64, processed: &dyn Fn(f64) -> f64) -> Vec<RecordLatency> {
        let mut out = Vec::new();
        let mut at = start;
        while at < end {
            let Some((arrived, run_end)) = self.arrival(source, None, at) else { break };
            let stop = run_end.min(end);
            out.push(entry(source, None, at, stop - at, arrived, processed(arrived)));
            at = stop;
        }
        out
    }

    /// The latencies of the Kafka records a batch read (Spark's Kafka schema: `partition`,
    /// `offset`), in the order read.
    pub(super) fn for_kafka(&self, source: &str, rows: &RecordBatch, processed: &dyn Fn(f64) -> f64) -> Vec<RecordLatency> {
        let column = |name: &str| rows.schema().index_of(name).ok().map(|k| rows.column(k).clone());
        let (Some(p), Some(o)) = (column("partition"), column("offset")) else { return Vec::new() };
        let (Some(p), Some(o)) = (p.as_any().downcast_ref::<Int32Array>(), o.as_any().downcast_ref::<Int64Array>()) else {
            return Vec::new();
        };
        let mut out: Vec<RecordLatency> = Vec::new();
        for i in 0..rows.num_rows() {
            let (partition, offset) = (p.value(i) as u32, o.value(i).max(0) as u64);
            let Some((arrived, _)) = self.arrival(source, Some(partition), offset) else { continue };
            match out.last_mut() {
                Some(l) if l.partition == Some(partition) && l.first_offset + l.records == offset && l.arrived_ms == arrived => {
                    l.records += 1
                }
                _ => out.push(entry(source, Some(partition), offset, 1, arrived, processed(arrived))),
            }
        }
        out
    }
}

/// The latencies of the rows a rate source generated (offsets `start..`): each arrived at its
/// `timestamp`, the time the source generated it.
pub(super) fn for_rate(source: &str, start: u64, rows: &RecordBatch, processed: &dyn Fn(f64) -> f64) -> Vec<RecordLatency> {
    let Some(ts) = rows.schema().index_of("timestamp").ok().map(|k| rows.column(k).clone()) else { return Vec::new() };
    let Some(ts) = ts.as_any().downcast_ref::<TimestampMicrosecondArray>() else { return Vec::new() };
    let mut out: Vec<RecordLatency> = Vec::new();
    for i in 0..rows.num_rows() {
        let arrived = (ts.value(i) / 1000) as f64;
        match out.last_mut() {
            Some(l) if l.arrived_ms == arrived => l.records += 1,
            _ => out.push(entry(source, None, start + i as u64, 1, arrived, processed(arrived))),
        }
    }
    out
}

fn entry(source: &str, partition: Option<u32>, first_offset: u64, records: u64, arrived_ms: f64, processed_ms: f64) -> RecordLatency {
    RecordLatency {
        source: source.to_string(),
        partition,
        first_offset,
        records,
        arrived_ms,
        processed_ms,
        latency_ms: (processed_ms - arrived_ms).max(0.0),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    #[cfg(target_arch = "wasm32")]
    use wasm_bindgen_test::wasm_bindgen_test as test;

    #[test]
    fn a_range_splits_where_arrivals_change_and_covers_every_record() {
        let mut a = Arrivals::default();
        a.stamp("Events", None, 3, 1000.0);
        a.stamp("events", None, 5, 2000.0);
        let batch_at = |_: f64| 4000.0;
        let l = a.for_range("events", 1, 5, &batch_at);
        assert_eq!(l.iter().map(|l| (l.first_offset, l.records, l.latency_ms)).collect::<Vec<_>>(), vec![(1, 2, 3000.0), (3, 2, 2000.0)]);
        // Processed on arrival (a live query): no wait.
        let l = a.for_range("events", 0, 5, &|arrived| arrived);
        assert!(l.iter().all(|l| l.latency_ms == 0.0));
        assert_eq!(l.iter().map(|l| l.records).sum::<u64>(), 5);
    }

    #[test]
    fn messages_of_one_partition_and_time_merge_into_one_entry() {
        let mut a = Arrivals::default();
        for off in 0..3 {
            a.stamp("t", Some(0), off + 1, 500.0);
        }
        a.stamp("t", Some(1), 1, 700.0);
        assert_eq!(a.by_source.len(), 2);
        assert_eq!(a.by_source[&("t".to_string(), Some(0))], vec![(3, 500.0)]);
        assert_eq!(a.arrival("t", Some(0), 2), Some((500.0, 3)));
        assert_eq!(a.arrival("t", Some(1), 0), Some((700.0, 1)));
        assert_eq!(a.arrival("t", Some(1), 1), None);
    }
}
