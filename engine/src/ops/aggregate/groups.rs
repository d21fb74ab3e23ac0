//! The aggregation's state: groups by slot ([`KeyIndex`]), their running aggregates as columns
//! ([`AccColumn`]), and the groups with an event time by that time ([`TimeIndex`]), so closing
//! and evicting windows never scans the others. In the checkpoint each group is one entry, its
//! encoded key and a postcard [`Group`], as every release since the first wrote it.

use std::collections::HashSet;

use arrow_array::ArrayRef;
use serde::{Deserialize, Serialize};

use super::columns::AccColumn;
use crate::error::Result;
use crate::expr::aggregate::Accumulator;
use crate::expr::AggregateCall;
use crate::ops::keys::{decode_key, decode_key_into, encode_values, key_as_postcard, varint, zigzag};
use crate::state::index::{ChangeLog, KeyIndex, TimeIndex};
use crate::state::{EntrySink, StateTable};
use crate::types::DataType;
use crate::value::{values_to_array, Value};

/// One group as the checkpoint and the state view hold it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Group {
    pub key: Vec<Value>,
    pub accumulators: Vec<Accumulator>,
}

/// The event time of a group key: a window's end, or the timestamp itself.
pub fn key_time(event_time_key: Option<usize>, key: &[Value]) -> Option<(i64, Option<(i64, i64)>)> {
    match key.get(event_time_key?)? {
        Value::Window { start, end } => Some((*end, Some((*start, *end)))),
        Value::Timestamp(t) => Some((*t, None)),
        _ => None,
    }
}

/// A slot without an event time.
const NO_TIME: i64 = i64::MIN;

#[derive(Debug, Clone)]
pub struct GroupTable {
    index: KeyIndex,
    times: TimeIndex,
    key_types: Vec<DataType>,
    calls: Vec<AggregateCall>,
    columns: Vec<AccColumn>,
    event_time_key: Option<usize>,
    /// Each slot's event time as the time index has it (`NO_TIME` for none, or once closed).
    slot_time: Vec<i64>,
    /// The micro-batch that last changed each slot (update mode emits those).
    touched: Vec<u64>,
    changes: ChangeLog,
    /// What was wrong with the state last loaded, for `Operator::check_state` to say.
    load_error: Option<String>,
}

impl GroupTable {
    pub fn new(key_types: Vec<DataType>, calls: Vec<AggregateCall>, event_time_key: Option<usize>) -> Self {
        let columns = calls.iter().map(AccColumn::new).collect();
        GroupTable {
            index: KeyIndex::new(),
            times: TimeIndex::default(),
            key_types,
            calls,
            columns,
            event_time_key,
            slot_time: Vec::new(),
            touched: Vec::new(),
            changes: ChangeLog::default(),
            load_error: None,
        }
    }

    pub fn len(&self) -> usize {
        self.index.len()
    }

    /// The slot of the group `key`, made (with fresh aggregates) when new; `time` is its event
    /// time, when it has one.
    #[inline]
    pub fn group(&mut self, key: &[u8], time: Option<i64>) -> u32 {
        let (slot, new) = self.index.insert(key);
        if new {
            self.init_slot(slot, time);
        }
        slot
    }

    fn init_slot(&mut self, slot: u32, time: Option<i64>) {
        for (column, call) in self.columns.iter_mut().zip(&self.calls) {
            column.reset(call, slot);
        }
        let s = slot as usize;
        if s >= self.touched.len() {
            self.touched.resize(s + 1, 0);
            self.slot_time.resize(s + 1, NO_TIME);
        }
        self.touched[s] = 0;
        self.slot_time[s] = time.unwrap_or(NO_TIME);
        if let Some(t) = time {
            self.times.insert(t, slot);
        }
        self.changes.mark(slot);
    }

    /// Marks `slot` changed by micro-batch `now`; true the first time in that batch.
    #[inline]
    pub fn touch(&mut self, slot: u32, now: u64) -> bool {
        let t = &mut self.touched[slot as usize];
        if *t == now {
            return false;
        }
        *t = now;
        self.changes.mark(slot);
        true
    }

    /// Folds a batch's arguments into the groups `slots` names, row by row ([`super::columns::SKIP`] skips).
    pub fn update(&mut self, slots: &[u32], args: &[Option<ArrayRef>]) -> Result<()> {
        for ((column, call), arg) in self.columns.iter_mut().zip(&self.calls).zip(args) {
            column.update(call, slots, arg.as_ref())?;
        }
        Ok(())
    }

    /// Every group, in key order.
    pub fn slots(&self) -> Vec<u32> {
        self.index.sorted()
    }

    /// Removes and returns the groups whose event time is at or behind `watermark`, oldest first.
    pub fn take_closed(&mut self, watermark: i64) -> Vec<u32> {
        let mut closed = Vec::new();
        for (time, slot) in self.times.take_through(watermark) {
            // An entry left by a group removed otherwise, whose slot may hold a newer group now.
            let current = self.slot_time.get(slot as usize).copied();
            if current == Some(time) && time != NO_TIME && self.index.key(slot).is_some() {
                self.slot_time[slot as usize] = NO_TIME;
                closed.push(slot);
            }
        }
        closed
    }

    /// Forgets the groups `slots` (after they were emitted).
    pub fn remove(&mut self, slots: &[u32]) {
        for &slot in slots {
            let shown = if self.changes.shows_more() {
                self.group_value(slot).map(|g| serde_json::to_string(&g).unwrap_or_default())
            } else {
                None
            };
            if let Some(key) = self.index.remove(slot) {
                self.changes.removed(slot, key, shown);
            }
        }
    }

    /// Puts `slots` in key order: the order output rows come in, the same before and after a
    /// restart (slots are handed out in arrival order, and again in key order on recovery), so a
    /// replayed batch writes what the first attempt wrote.
    pub fn sort_by_key(&self, slots: &mut [u32]) {
        self.index.sort(slots);
    }

    /// The output columns (keys, then aggregates) of the groups `slots`, in that order.
    pub fn output(&self, slots: &[u32]) -> Vec<ArrayRef> {
        let mut keys: Vec<Vec<Value>> = vec![Vec::with_capacity(slots.len()); self.key_types.len()];
        for &slot in slots {
            // Keys in the index were encoded by this operator: they decode.
            let _ = decode_key_into(self.index.key(slot).unwrap_or_default(), &self.key_types, &mut keys);
        }
        let key_arrays = keys.iter().zip(&self.key_types).map(|(v, t)| values_to_array(v, t));
        let results = self.columns.iter().zip(&self.calls).map(|(c, call)| c.results(call, slots));
        key_arrays.chain(results).collect()
    }

    /// The group in `slot` as values.
    fn group_value(&self, slot: u32) -> Option<Group> {
        let key = decode_key(self.index.key(slot)?, &self.key_types).ok()?;
        Some(Group { key, accumulators: self.columns.iter().map(|c| c.get(slot)).collect() })
    }

    /// Writes group `slot` as postcard writes a [`Group`], straight from the key's bytes and
    /// the columns (a checkpoint is written after every batch: no `Value`s on the way).
    fn encode_slot(&self, slot: u32, out: &mut Vec<u8>) {
        out.clear();
        key_as_postcard(self.index.key(slot).unwrap_or_default(), &self.key_types, out);
        varint(self.columns.len() as u64, out);
        let s = slot as usize;
        for column in &self.columns {
            match column {
                AccColumn::Count(c) => {
                    out.push(0);
                    zigzag(c[s], out);
                }
                AccColumn::SumInt { sum, seen } => {
                    out.push(1);
                    out.push(u8::from(seen[s]));
                    if seen[s] {
                        zigzag(sum[s], out);
                    }
                }
                AccColumn::SumDouble { sum, seen } => {
                    out.push(2);
                    out.push(u8::from(seen[s]));
                    if seen[s] {
                        out.extend_from_slice(&sum[s].to_le_bytes());
                    }
                }
                AccColumn::Avg { sum, count } => {
                    out.push(3);
                    out.extend_from_slice(&sum[s].to_le_bytes());
                    zigzag(count[s], out);
                }
                AccColumn::Other(_) => {
                    if let Some(acc) = column.other(slot) {
                        // Plain data into a Vec: serialising cannot fail.
                        if let Ok(bytes) = postcard::to_allocvec(acc) {
                            out.extend_from_slice(&bytes);
                        }
                    }
                }
            }
        }
    }

    fn clear(&mut self) {
        *self = GroupTable::new(std::mem::take(&mut self.key_types), std::mem::take(&mut self.calls), self.event_time_key);
    }

    /// What is wrong with the state last loaded, if anything.
    pub fn load_error(&self) -> Option<&str> {
        self.load_error.as_deref()
    }

    /// Checks one group read back from a checkpoint against the query.
    fn check(&self, key: &[u8], group: &Group) -> std::result::Result<(), String> {
        crate::ops::row_fits(&group.key, &self.key_types).map_err(|e| format!("a group's key does not fit the query's GROUP BY: {e}"))?;
        let mut buf = Vec::new();
        encode_values(&group.key, &mut buf);
        if buf != key {
            return Err(format!("the group stored under one key holds the key values {:?} of another", group.key));
        }
        if group.accumulators.len() != self.calls.len() {
            return Err(format!(
                "a group holds {} aggregate values where the query has {} aggregates",
                group.accumulators.len(),
                self.calls.len()
            ));
        }
        if let Some((call, acc)) = self.calls.iter().zip(&group.accumulators).find(|(call, acc)| !call.fits(acc)) {
            return Err(format!("a group's running value {acc:?} is not one of {:?}", call.func));
        }
        Ok(())
    }
}

impl StateTable for GroupTable {
    fn write_changes(&mut self, out: &mut dyn EntrySink) {
        let mut changes = std::mem::take(&mut self.changes);
        changes.write(&self.index, |slot, buf| self.encode_slot(slot, buf), out);
        self.changes = changes;
    }

    fn write_all(&self, out: &mut dyn EntrySink) {
        self.index.write_sorted(|slot, buf| self.encode_slot(slot, buf), out)
    }

    fn load(&mut self, entries: std::collections::BTreeMap<Vec<u8>, Vec<u8>>) -> std::result::Result<(), String> {
        self.clear();
        let mut seen_error = None;
        let mut groups = Vec::with_capacity(entries.len());
        for (key, encoded) in entries {
            let group: Group = crate::state::bounded::decode(&encoded).map_err(|e| format!("a value does not decode ({e})"))?;
            if seen_error.is_none() {
                seen_error = self.check(&key, &group).err();
            }
            groups.push((key, group, encoded.len()));
        }
        if let Some(e) = seen_error {
            self.load_error = Some(e);
            return Ok(());
        }
        for (key, group, len) in groups {
            let time = key_time(self.event_time_key, &group.key).map(|(t, _)| t);
            let slot = self.group(&key, time);
            for (column, acc) in self.columns.iter_mut().zip(group.accumulators) {
                column.set(slot, acc)?;
            }
            self.changes.loaded(slot, len);
        }
        Ok(())
    }

    fn sample(&self, limit: usize) -> Vec<String> {
        let mut slots = self.index.sorted();
        slots.truncate(limit);
        slots.into_iter().filter_map(|s| self.group_value(s)).map(|g| serde_json::to_string(&g).unwrap_or_default()).collect()
    }

    fn evicted(&self) -> &[String] {
        self.changes.evicted()
    }

    fn rows(&self) -> u64 {
        self.index.len() as u64
    }

    fn bytes(&self) -> u64 {
        self.changes.encoded_bytes() + self.index.key_bytes()
    }
}

/// The keys of late rows, each counted once (Spark counts drops after partial aggregation).
pub type LateKeys = HashSet<Vec<u8>>;

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use super::*;
    use crate::expr::aggregate::AggFunc;
    use crate::expr::Expr;
    use crate::ops::aggregate::columns::SKIP;
    #[cfg(target_arch = "wasm32")]
    use wasm_bindgen_test::wasm_bindgen_test as test;

    fn table() -> GroupTable {
        let key_types = vec![
            DataType::Window,
            DataType::String,
            DataType::Int,
            DataType::BigInt,
            DataType::Double,
            DataType::Boolean,
            DataType::Timestamp,
            DataType::Array(Box::new(DataType::String)),
            DataType::Null,
        ];
        let calls = vec![
            AggFunc::resolve("count", vec![], true).unwrap(),
            AggFunc::resolve("sum", vec![Expr::column(0, DataType::BigInt)], false).unwrap(),
            AggFunc::resolve("sum", vec![Expr::column(0, DataType::Double)], false).unwrap(),
            AggFunc::resolve("avg", vec![Expr::column(0, DataType::Double)], false).unwrap(),
            AggFunc::resolve("collect_list", vec![Expr::column(0, DataType::BigInt)], false).unwrap(),
        ];
        GroupTable::new(key_types, calls, Some(0))
    }

    fn keys() -> Vec<Vec<Value>> {
        let s = |x: &str| Value::String(x.into());
        vec![
            vec![
                Value::Window { start: -60, end: 0 },
                s("héllo"),
                Value::Int(-7),
                Value::BigInt(i64::MIN),
                Value::Double(-1.5),
                Value::Boolean(true),
                Value::Timestamp(1_767_225_600_000_000),
                Value::Array(vec![s("a"), Value::Null]),
                Value::Null,
            ],
            vec![Value::Null; 9],
        ]
    }

    /// The hand-written encoding is postcard's, byte for byte: checkpoints stay readable both ways.
    #[test]
    fn groups_are_written_as_postcard_writes_them() {
        let mut t = table();
        let bigints: ArrayRef = Arc::new(arrow_array::Int64Array::from(vec![Some(5), None, Some(1 << 40)]));
        let doubles: ArrayRef = Arc::new(arrow_array::Float64Array::from(vec![Some(0.25), None, Some(-3.0)]));
        let mut buf = Vec::new();
        let slots: Vec<u32> = keys()
            .iter()
            .map(|k| {
                encode_values(k, &mut buf);
                t.group(&buf, key_time(Some(0), k).map(|(t, _)| t))
            })
            .collect();
        let args = vec![None, Some(bigints.clone()), Some(doubles.clone()), Some(doubles), Some(bigints)];
        t.update(&[slots[0], slots[1], slots[0]], &args).unwrap();
        t.update(&[SKIP, SKIP, slots[1]], &args).unwrap();
        for (slot, key) in slots.iter().zip(keys()) {
            let group = t.group_value(*slot).unwrap();
            assert_eq!(format!("{:?}", group.key), format!("{key:?}"));
            let mut hand = Vec::new();
            t.encode_slot(*slot, &mut hand);
            assert_eq!(hand, postcard::to_allocvec(&group).unwrap(), "{group:?}");
        }
        // And back.
        let mut restored = table();
        restored.load(t.encode_all().into_iter().collect()).unwrap();
        assert_eq!(restored.load_error(), None);
        assert_eq!(restored.encode_all(), t.encode_all());
        assert_eq!(restored.rows(), 2);
    }

    #[test]
    fn changes_name_what_moved_since_the_last_version() {
        let mut t = table();
        let mut buf = Vec::new();
        let k = keys();
        encode_values(&k[0], &mut buf);
        let a = t.group(&buf, Some(0));
        assert_eq!(t.take_changes().len(), 1);
        assert!(t.take_changes().is_empty(), "nothing changed since");
        t.remove(&[a]);
        let again = t.group(&buf, Some(0));
        let changes = t.take_changes();
        assert_eq!(changes.iter().map(|(_, v)| v.is_some()).collect::<Vec<_>>(), vec![false, true], "the delete, then the new group");
        assert_eq!(t.take_closed(0), vec![again], "the old slot's time is not reported twice");
        assert_eq!(t.evicted().len(), 1);
    }
}
