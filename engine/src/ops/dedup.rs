use arrow_array::cast::AsArray;
use arrow_array::types::TimestampMicrosecondType;
use arrow_array::{Array, ArrayRef, BooleanArray, RecordBatch};
use arrow_select::filter::filter_record_batch;

use super::keys::{encode_group, encode_values};
use super::{row_values, BatchContext, Operator, StateOperatorProgress, Watermarks};
use crate::error::{Error, Result};
use crate::state::{KeyedState, StateTable};
use crate::value::Value;

/// Spark's `dropDuplicates(cols)` (StreamingDeduplicateExec) and
/// `dropDuplicatesWithinWatermark(cols)`: the first row of each key passes, later ones are
/// dropped. With a watermark, a key is forgotten once the watermark passes its event time (when
/// the event time is a key) or its first event time plus the delay (within watermark); in those
/// two cases a row at or behind the watermark is dropped as late. With keys that do not include
/// the event time, Spark drops nothing as late and forgets nothing (observed on Spark 4.3).
pub struct DedupOp {
    keys: Vec<usize>,
    /// The input's event-time column, when the query has a watermark.
    event_time: Option<usize>,
    within_watermark: bool,
    delay: i64,
    seen: KeyedState<Seen>,
    metrics: StateOperatorProgress,
}

/// A key seen, kept with its values so the page can show what the state holds.
#[derive(serde::Serialize, serde::Deserialize)]
struct Seen {
    key: Vec<Value>,
    /// When the watermark passing this time forgets the key, or None to keep it forever.
    #[serde(with = "crate::value::event_time")]
    expires: Option<i64>,
}

impl Seen {
    fn expired(&self, watermark: i64) -> bool {
        self.expires.is_some_and(|t| t <= watermark)
    }
}

impl DedupOp {
    pub fn new(keys: Vec<usize>, event_time: Option<usize>, within_watermark: bool, delay: i64) -> Self {
        DedupOp { keys, event_time, within_watermark, delay, seen: KeyedState::new(), metrics: StateOperatorProgress::default() }
    }

    fn drops_late(&self) -> bool {
        self.within_watermark || self.event_time.is_some_and(|et| self.keys.contains(&et))
    }

    fn expiry(&self, event_time: Option<i64>) -> Option<i64> {
        let t = event_time?;
        if self.within_watermark {
            // Past the end of time the key is never forgotten (no watermark gets there).
            Some(t.saturating_add(self.delay))
        } else if self.event_time.is_some_and(|et| self.keys.contains(&et)) {
            Some(t)
        } else {
            None
        }
    }
}

impl Operator for DedupOp {
    fn name(&self) -> &'static str {
        if self.within_watermark {
            "dedupeWithinWatermark"
        } else {
            "dedupe"
        }
    }

    fn on_batch(&mut self, mut inputs: Vec<RecordBatch>, watermarks: Watermarks, ctx: &mut BatchContext) -> Result<RecordBatch> {
        let batch = inputs.remove(0);
        let watermark = watermarks.eviction;
        let key_columns: Vec<ArrayRef> = self.keys.iter().map(|&k| batch.column(k).clone()).collect();
        let times = match self.event_time {
            Some(et) => Some(
                batch
                    .column(et)
                    .as_primitive_opt::<TimestampMicrosecondType>()
                    .ok_or_else(|| Error::internal("event time is not a timestamp"))?,
            ),
            None => None,
        };
        let mut keep = Vec::with_capacity(batch.num_rows());
        let mut buf = Vec::new();
        let (mut added, mut dropped_late) = (0u64, 0u64);
        for i in 0..batch.num_rows() {
            let t = times.and_then(|t| (!t.is_null(i)).then(|| t.value(i)));
            let late_watermark = watermarks.late;
            if let (Some(t), true) = (t, late_watermark > 0 && self.drops_late()) {
                if t <= late_watermark {
                    dropped_late += 1;
                    ctx.drop_late(self.name(), row_values(&batch, i), t, late_watermark, None);
                    keep.push(false);
                    continue;
                }
            }
            encode_group(&key_columns, i, &mut buf);
            if self.seen.contains_key(buf.as_slice()) {
                keep.push(false);
                continue;
            }
            let key = key_columns.iter().map(|c| Value::from_array(c.as_ref(), i)).collect();
            self.seen.insert(buf.clone(), Seen { key, expires: self.expiry(t) });
            added += 1;
            keep.push(true);
        }
        let before = self.seen.len();
        if watermark > 0 {
            self.seen.remove_where(|seen| seen.expired(watermark));
        }
        self.metrics = StateOperatorProgress {
            operator_name: self.name().to_string(),
            num_rows_total: self.seen.len() as u64,
            num_rows_updated: added,
            num_rows_removed: before.saturating_sub(self.seen.len()) as u64,
            num_rows_dropped_by_watermark: dropped_late,
            memory_used_bytes: 0,
        };
        Ok(filter_record_batch(&batch, &BooleanArray::from(keep))?)
    }

    fn state_progress(&self) -> Option<StateOperatorProgress> {
        Some(self.metrics.clone())
    }

    fn wants_no_data_batch(&self) -> bool {
        self.event_time.is_some()
    }

    fn state_table_names(&self) -> &'static [&'static str] {
        &["default"]
    }

    fn state_tables(&mut self) -> Vec<&mut dyn StateTable> {
        vec![&mut self.seen]
    }

    fn state_tables_ref(&self) -> Vec<&dyn StateTable> {
        vec![&self.seen]
    }

    fn check_state(&self) -> std::result::Result<(), String> {
        let forgets = self.within_watermark || self.event_time.is_some_and(|et| self.keys.contains(&et));
        let mut buf = Vec::new();
        for (key, seen) in self.seen.iter() {
            if seen.key.len() != self.keys.len() {
                return Err(format!("a key holds {} values where the query deduplicates by {}", seen.key.len(), self.keys.len()));
            }
            encode_values(&seen.key, &mut buf);
            if &buf != key {
                return Err(format!("the entry stored under one key holds the key values {:?} of another", seen.key));
            }
            if !forgets && seen.expires.is_some() {
                return Err("a key has an expiry time, but this query never forgets its keys".into());
            }
        }
        Ok(())
    }

    fn state_loaded(&mut self) {
        self.metrics.num_rows_total = self.seen.len() as u64;
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use super::*;
    use crate::ops::keys::encode_values;
    #[cfg(target_arch = "wasm32")]
    use wasm_bindgen_test::wasm_bindgen_test as test;

    fn loaded(op: &mut DedupOp, key: &[Value], seen: Seen) {
        let mut k = Vec::new();
        encode_values(key, &mut k);
        let entries = BTreeMap::from([(k, postcard::to_allocvec(&seen).unwrap())]);
        op.state_tables()[0].load(entries).unwrap();
    }

    #[test]
    fn damaged_keys_are_refused_with_what_is_wrong() {
        let a = vec![Value::String("a".into())];
        let mut op = DedupOp::new(vec![0], None, false, 0);
        loaded(&mut op, &a, Seen { key: a.clone(), expires: None });
        assert_eq!(op.check_state(), Ok(()));
        loaded(&mut op, &a, Seen { key: vec![], expires: None });
        assert!(op.check_state().unwrap_err().contains("holds 0 values"));
        loaded(&mut op, &a, Seen { key: vec![Value::String("b".into())], expires: None });
        assert!(op.check_state().unwrap_err().contains("of another"));
        loaded(&mut op, &a, Seen { key: a.clone(), expires: Some(5) });
        assert!(op.check_state().unwrap_err().contains("never forgets"));
    }

    #[test]
    fn an_expiry_past_the_end_of_time_never_comes() {
        let op = DedupOp::new(vec![0], Some(1), true, i64::MAX);
        assert_eq!(op.expiry(Some(1_000)), Some(i64::MAX));
    }
}
