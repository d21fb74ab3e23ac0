use arrow_array::cast::AsArray;
use arrow_array::types::TimestampMicrosecondType;
use arrow_array::{Array, ArrayRef, BooleanArray, RecordBatch};
use arrow_select::filter::filter_record_batch;

use super::keys::{decode_key, encode_values, key_as_postcard, BatchKeys, KeyEncoder};
use super::{row_values, BatchContext, Operator, StateOperatorProgress, Watermarks};
use crate::error::{Error, Result};
use crate::state::index::{ChangeLog, KeyIndex, TimeIndex};
use crate::state::{EntrySink, StateTable};
use crate::types::DataType;
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
    seen: SeenTable,
    /// The current batch's keys, their buffers kept from batch to batch.
    batch_keys: BatchKeys,
    metrics: StateOperatorProgress,
}

/// A key seen, as the checkpoint and the state view hold it: with its values, so the page can
/// show what the state holds.
#[derive(Debug, serde::Serialize, serde::Deserialize)]
struct Seen {
    key: Vec<Value>,
    /// When the watermark passing this time forgets the key, or None to keep it forever.
    #[serde(with = "crate::value::event_time")]
    expires: Option<i64>,
}

/// A slot's expiry when it has none.
const NEVER: i64 = i64::MIN;

/// The keys seen, by slot, with their expiry times indexed so the watermark forgets the expired
/// keys without looking at the others.
struct SeenTable {
    index: KeyIndex,
    expires: Vec<i64>,
    by_expiry: TimeIndex,
    /// The key columns' types (to write keys as values).
    key_types: Vec<DataType>,
    changes: ChangeLog,
    /// What a loaded checkpoint must satisfy: how many key values, and whether keys expire.
    key_count: usize,
    forgets: bool,
    load_error: Option<String>,
}

impl SeenTable {
    fn new(key_types: Vec<DataType>, forgets: bool) -> Self {
        SeenTable {
            index: KeyIndex::new(),
            expires: Vec::new(),
            by_expiry: TimeIndex::default(),
            key_count: key_types.len(),
            key_types,
            changes: ChangeLog::default(),
            forgets,
            load_error: None,
        }
    }

    /// Adds `key` unless it was seen; true when it is new.
    #[inline]
    fn insert(&mut self, key: &[u8], expires: Option<i64>) -> bool {
        let (slot, new) = self.index.insert(key);
        if new {
            let s = slot as usize;
            if s >= self.expires.len() {
                self.expires.resize(s + 1, NEVER);
            }
            self.expires[s] = expires.unwrap_or(NEVER);
            if let Some(t) = expires {
                self.by_expiry.insert(t, slot);
            }
            self.changes.mark(slot);
        }
        new
    }

    /// Forgets the keys whose expiry the watermark reached.
    fn expire(&mut self, watermark: i64) {
        for (t, slot) in self.by_expiry.take_through(watermark) {
            if self.expires.get(slot as usize) != Some(&t) || t == NEVER {
                continue;
            }
            self.expires[slot as usize] = NEVER;
            let shown =
                if self.changes.shows_more() { self.value(slot).map(|v| serde_json::to_string(&v).unwrap_or_default()) } else { None };
            if let Some(key) = self.index.remove(slot) {
                self.changes.removed(slot, key, shown);
            }
        }
    }

    fn expiry(&self, slot: u32) -> Option<i64> {
        self.expires.get(slot as usize).copied().filter(|&t| t != NEVER)
    }

    fn value(&self, slot: u32) -> Option<Seen> {
        Some(Seen { key: decode_key(self.index.key(slot)?, &self.key_types).ok()?, expires: self.expiry(slot) })
    }

    fn encode(&self, slot: u32, out: &mut Vec<u8>) {
        key_as_postcard(self.index.key(slot).unwrap_or_default(), &self.key_types, out);
        match self.expiry(slot) {
            None => out.push(0),
            // Some(Value::Timestamp(t)).
            Some(t) => {
                out.extend_from_slice(&[1, 6]);
                super::keys::zigzag(t, out);
            }
        }
    }

    fn check(&self, key: &[u8], seen: &Seen) -> std::result::Result<(), String> {
        if seen.key.len() != self.key_count {
            return Err(format!("a key holds {} values where the query deduplicates by {}", seen.key.len(), self.key_count));
        }
        let mut buf = Vec::new();
        encode_values(&seen.key, &mut buf);
        if buf != key {
            return Err(format!("the entry stored under one key holds the key values {:?} of another", seen.key));
        }
        if !self.forgets && seen.expires.is_some() {
            return Err("a key has an expiry time, but this query never forgets its keys".into());
        }
        Ok(())
    }
}

impl StateTable for SeenTable {
    fn write_changes(&mut self, out: &mut dyn EntrySink) {
        let mut changes = std::mem::take(&mut self.changes);
        changes.write(&self.index, |slot, buf| self.encode(slot, buf), out);
        self.changes = changes;
    }

    fn write_all(&self, out: &mut dyn EntrySink) {
        self.index.write_sorted(|slot, buf| self.encode(slot, buf), out)
    }

    fn load(&mut self, entries: std::collections::BTreeMap<Vec<u8>, Vec<u8>>) -> std::result::Result<(), String> {
        *self = SeenTable::new(std::mem::take(&mut self.key_types), self.forgets);
        let mut decoded = Vec::with_capacity(entries.len());
        for (key, encoded) in entries {
            let seen: Seen = crate::state::bounded::decode(&encoded).map_err(|e| format!("a value does not decode ({e})"))?;
            if let Err(e) = self.check(&key, &seen) {
                self.load_error = Some(e);
                return Ok(());
            }
            decoded.push((key, seen, encoded.len()));
        }
        for (key, seen, len) in decoded {
            self.insert(&key, seen.expires);
            if let Some(slot) = self.index.get(&key) {
                self.changes.loaded(slot, len);
            }
        }
        Ok(())
    }

    fn rows(&self) -> u64 {
        self.index.len() as u64
    }

    fn bytes(&self) -> u64 {
        self.changes.encoded_bytes() + self.index.key_bytes()
    }

    fn sample(&self, limit: usize) -> Vec<String> {
        let mut slots = self.index.sorted();
        slots.truncate(limit);
        slots.into_iter().filter_map(|s| self.value(s)).map(|v| serde_json::to_string(&v).unwrap_or_default()).collect()
    }

    fn evicted(&self) -> &[String] {
        self.changes.evicted()
    }
}

impl DedupOp {
    /// `key_types`: the types of the input columns `keys`.
    pub fn new(keys: Vec<usize>, key_types: Vec<DataType>, event_time: Option<usize>, within_watermark: bool, delay: i64) -> Self {
        let forgets = within_watermark || event_time.is_some_and(|et| keys.contains(&et));
        let seen = SeenTable::new(key_types, forgets);
        DedupOp {
            keys,
            event_time,
            within_watermark,
            delay,
            seen,
            batch_keys: BatchKeys::default(),
            metrics: StateOperatorProgress::default(),
        }
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
        KeyEncoder::new(&key_columns).encode_batch(batch.num_rows(), &mut self.batch_keys);
        let mut keep = Vec::with_capacity(batch.num_rows());
        let (mut added, mut dropped_late) = (0u64, 0u64);
        let late_watermark = watermarks.late;
        let judge_late = late_watermark > 0 && self.drops_late();
        for i in 0..batch.num_rows() {
            let t = times.and_then(|t| t.is_valid(i).then(|| t.value(i)));
            if let (Some(t), true) = (t, judge_late) {
                if t <= late_watermark {
                    dropped_late += 1;
                    ctx.drop_late(self.name(), row_values(&batch, i), t, late_watermark, None);
                    keep.push(false);
                    continue;
                }
            }
            let expires = self.expiry(t);
            let new = self.seen.insert(self.batch_keys.row(i), expires);
            added += u64::from(new);
            keep.push(new);
        }
        let before = self.seen.index.len();
        if watermark > 0 {
            self.seen.expire(watermark);
        }
        let total = self.seen.index.len();
        self.metrics = StateOperatorProgress {
            operator_name: self.name().to_string(),
            num_rows_total: total as u64,
            num_rows_updated: added,
            num_rows_removed: before.saturating_sub(total) as u64,
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
        self.seen.load_error.clone().map_or(Ok(()), Err)
    }

    fn state_loaded(&mut self) {
        self.metrics.num_rows_total = self.seen.index.len() as u64;
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use super::*;
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
        let mut op = DedupOp::new(vec![0], vec![DataType::String], None, false, 0);
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
        let op = DedupOp::new(vec![0], vec![DataType::String], Some(1), true, i64::MAX);
        assert_eq!(op.expiry(Some(1_000)), Some(i64::MAX));
    }

    #[test]
    fn keys_are_written_as_postcard_writes_them_and_read_back() {
        let types = vec![DataType::BigInt, DataType::Timestamp, DataType::String];
        let mut t = SeenTable::new(types.clone(), true);
        let keys = [
            (vec![Value::BigInt(-3), Value::Timestamp(1_767_225_600_000_000), Value::String("é".into())], Some(1_767_225_600_000_000)),
            (vec![Value::Null, Value::Null, Value::Null], None),
        ];
        let mut buf = Vec::new();
        for (key, expires) in &keys {
            encode_values(key, &mut buf);
            assert!(t.insert(&buf, *expires));
            assert!(!t.insert(&buf, *expires), "seen once");
        }
        let changes = t.take_changes();
        for ((_, bytes), (key, expires)) in changes.iter().zip(&keys) {
            let want = postcard::to_allocvec(&Seen { key: key.clone(), expires: *expires }).unwrap();
            assert_eq!(bytes.as_ref(), Some(&want));
        }
        let mut back = SeenTable::new(types, true);
        back.load(t.encode_all().into_iter().collect()).unwrap();
        assert_eq!((back.load_error.as_deref(), back.rows()), (None, 2));
        back.expire(1_767_225_600_000_000);
        assert_eq!(back.rows(), 1, "the key with an expiry is forgotten once the watermark reaches it");
        assert_eq!(back.take_changes().len(), 1);
    }
}
