use std::collections::BTreeMap;
use std::sync::Arc;

use arrow_array::cast::AsArray;
use arrow_array::types::TimestampMicrosecondType;
use arrow_array::{Array, ArrayRef, RecordBatch, RecordBatchOptions};
use arrow_schema::{Schema, SchemaRef};
use serde::{Deserialize, Serialize};

use super::keys::encode_row;
use super::{
    join_too_large, too_many_rows, BatchContext, Operator, StateOperatorProgress, Watermarks, MAX_JOIN_OUTPUT_ROWS_PER_BATCH,
    MAX_JOIN_PAIRS_PER_BATCH,
};
use crate::error::{Error, Result};
use crate::expr::Expr;
use crate::hash::KeyHashMap;
use crate::plan::logical::{StreamJoinKind, StreamJoinSpec};
use crate::state::{KeyedState, StateTable};
use crate::types::DataType;
use crate::value::{values_to_array, Value};

/// A joined row in the making: the left and right rows, either of which may be missing (NULL-padded).
type Pair<'a> = (Option<&'a Vec<Value>>, Option<&'a Vec<Value>>);

/// How many candidate pairs are assembled (and checked against the residual condition) at once.
const CHUNK: usize = 1 << 16;

const ADVICE: &str = "Add an equality condition between the two sides on a key with many values, \
    tighten the time range condition (BETWEEN ... AND ...) or lower the watermark delay, so fewer rows can meet; \
    or feed fewer rows per micro-batch.";

/// What a new row meets on the other side: a buffered row (the index of its state key in
/// the batch's list of state keys, and its place under that key) or a new right row.
#[derive(Clone, Copy)]
enum Other {
    State(u32, u32),
    NewRight(u32),
}

/// A candidate pair: a new row of one side (its index among the batch's new rows) and a row it
/// meets on the other side.
#[derive(Clone, Copy)]
struct Candidate {
    driver: u32,
    driver_left: bool,
    other: Other,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
struct Buffered {
    row: Vec<Value>,
    #[serde(with = "crate::value::event_time")]
    time: Option<i64>,
    matched: bool,
}

/// A join key as a state key: a NULL key (which matches nothing, but an outer row with it still
/// waits for the watermark) is kept apart from every real key.
fn state_key(key: &Option<Vec<u8>>) -> Vec<u8> {
    match key {
        None => vec![0],
        Some(k) => present_key(k),
    }
}

fn present_key(key: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(key.len() + 1);
    state_key_into(key, &mut out);
    out
}

fn state_key_into(key: &[u8], out: &mut Vec<u8>) {
    out.clear();
    out.push(1);
    out.extend_from_slice(key);
}

/// The state keys of one side's rows by event time: a batch evicts from the keys holding
/// expired rows only, instead of looking at every key.
type ByTime = BTreeMap<i64, Vec<Vec<u8>>>;

/// Takes the keys of the rows whose time `expired` says is past (a prefix of the times: the
/// bound grows with the time), each key once.
fn expired_keys(by_time: &mut ByTime, expired: impl Fn(i64) -> bool) -> Vec<Vec<u8>> {
    let mut keys = Vec::new();
    while let Some(entry) = by_time.first_entry() {
        if !expired(*entry.key()) {
            break;
        }
        keys.extend(entry.remove());
    }
    keys.sort_unstable();
    keys.dedup();
    keys
}

/// Removes the rows `expired` picks from the keys `keys` of `side`, NULL-padding each that never
/// matched into `padded` when `outer`; keys left without rows leave the state. Returns how many
/// rows left.
fn evict(
    side: &mut KeyedState<Vec<Buffered>>,
    keys: Vec<Vec<u8>>,
    expired: impl Fn(&Buffered) -> bool,
    outer: bool,
    mut pad: impl FnMut(Vec<Value>),
) -> usize {
    let mut removed = 0;
    for key in keys {
        let Some(rows) = side.get_mut(&key) else { continue };
        let (gone, kept): (Vec<Buffered>, Vec<Buffered>) = std::mem::take(rows).into_iter().partition(&expired);
        *rows = kept;
        let emptied = rows.is_empty();
        removed += gone.len();
        for b in gone {
            side.note_evicted(&b);
            if outer && !b.matched {
                pad(b.row);
            }
        }
        // Each evicted row is shown once, above; the emptied key goes quietly.
        if emptied {
            side.forget(&key);
        }
    }
    removed
}

/// Spark's StreamingSymmetricHashJoinExec: both sides' rows wait in state for matches from the
/// other side. A new row joins with the other side's state and with the other side's new rows;
/// the watermark and the time range decide when a buffered row can no longer match, and then it
/// leaves the state (NULL-padded into the output first, for the outer side of an outer join).
pub struct StreamJoinOp {
    spec: StreamJoinSpec,
    left_types: Vec<DataType>,
    right_types: Vec<DataType>,
    schema: SchemaRef,
    /// [`state_key`] -> buffered rows.
    left: KeyedState<Vec<Buffered>>,
    right: KeyedState<Vec<Buffered>>,
    left_by_time: ByTime,
    right_by_time: ByTime,
    /// Rows buffered on both sides.
    rows: usize,
    metrics: StateOperatorProgress,
}

impl StreamJoinOp {
    pub fn new(spec: StreamJoinSpec, left_types: Vec<DataType>, right_types: Vec<DataType>, schema: SchemaRef) -> Self {
        StreamJoinOp {
            spec,
            left_types,
            right_types,
            schema,
            left: KeyedState::new(),
            right: KeyedState::new(),
            left_by_time: ByTime::new(),
            right_by_time: ByTime::new(),
            rows: 0,
            metrics: StateOperatorProgress::default(),
        }
    }

    fn rows_of(batch: &RecordBatch, keys: &[Expr], time: Option<usize>) -> Result<Vec<(Option<Vec<u8>>, Buffered)>> {
        let key_cols = keys.iter().map(|k| k.evaluate_to_array(batch)).collect::<Result<Vec<_>>>()?;
        let times = match time {
            Some(t) => Some(
                batch
                    .column(t)
                    .as_primitive_opt::<TimestampMicrosecondType>()
                    .ok_or_else(|| Error::internal("join event time is not a timestamp"))?
                    .clone(),
            ),
            None => None,
        };
        let mut buf = Vec::new();
        Ok((0..batch.num_rows())
            .map(|i| {
                let key = encode_row(&key_cols, i, &mut buf).then(|| buf.clone());
                let row = batch.columns().iter().map(|c| Value::from_array(c.as_ref(), i)).collect();
                let time = times.as_ref().and_then(|t| (!t.is_null(i)).then(|| t.value(i)));
                (key, Buffered { row, time, matched: false })
            })
            .collect())
    }

    /// Builds output rows from (left, right) value pairs; None pads with NULLs.
    fn assemble(&self, pairs: &[Pair]) -> Result<RecordBatch> {
        let mut columns: Vec<Vec<Value>> = vec![Vec::with_capacity(pairs.len()); self.left_types.len() + self.right_types.len()];
        for (l, r) in pairs {
            let (left, right) = columns.split_at_mut(self.left_types.len());
            for (side, row) in [(left, l), (right, r)] {
                for (k, column) in side.iter_mut().enumerate() {
                    column.push(row.and_then(|v| v.get(k)).cloned().unwrap_or(Value::Null));
                }
            }
        }
        let types = self.left_types.iter().chain(&self.right_types);
        let arrays: Vec<ArrayRef> = columns.iter().zip(types).map(|(v, t)| values_to_array(v, t)).collect();
        let options = RecordBatchOptions::new().with_row_count(Some(pairs.len()));
        Ok(RecordBatch::try_new_with_options(self.schema.clone(), arrays, &options)?)
    }

    /// Hands the candidate pairs of this batch to `emit`, CHUNK at a time: each new left row
    /// with the right rows of its key (in state and new), each new right row with the left
    /// state of its key. They are counted first, by key, so a batch over the budget is refused
    /// before a single pair is built. Returns the state keys the pairs refer to (`emit` also
    /// gets them).
    fn for_each_candidate_chunk(
        &self,
        new_left: &[(Option<Vec<u8>>, Buffered)],
        new_right: &[(Option<Vec<u8>>, Buffered)],
        mut emit: impl FnMut(&[Candidate], &[Vec<u8>]) -> Result<()>,
    ) -> Result<Vec<Vec<u8>>> {
        let mut right_by_key: KeyHashMap<&[u8], Vec<u32>> = KeyHashMap::default();
        for (j, (key, _)) in new_right.iter().enumerate() {
            if let Some(k) = key {
                right_by_key.entry(k.as_slice()).or_default().push(j as u32);
            }
        }
        let mut sk = Vec::new();
        let mut count = 0u64;
        for (key, _) in new_left {
            let Some(k) = key else { continue };
            state_key_into(k, &mut sk);
            let in_state = self.right.get(&sk).map_or(0, Vec::len);
            let new = right_by_key.get(k.as_slice()).map_or(0, Vec::len);
            count = count.saturating_add((in_state + new) as u64);
        }
        for (key, _) in new_right {
            let Some(k) = key else { continue };
            state_key_into(k, &mut sk);
            count = count.saturating_add(self.left.get(&sk).map_or(0, Vec::len) as u64);
        }
        if count > MAX_JOIN_PAIRS_PER_BATCH {
            return Err(join_too_large(
                format!(
                    "the stream-stream join would consider {count} candidate pairs (new rows x the other side's rows with the same key) in this micro-batch, over the limit of {MAX_JOIN_PAIRS_PER_BATCH}"
                ),
                ADVICE,
            ));
        }
        // Without a residual condition every candidate is an output row.
        if self.spec.residual.is_none() && count > MAX_JOIN_OUTPUT_ROWS_PER_BATCH {
            return Err(too_many_rows("stream-stream", count));
        }
        let mut keys: Vec<Vec<u8>> = Vec::new();
        let mut chunk: Vec<Candidate> = Vec::with_capacity(CHUNK.min(count as usize));
        let mut push = |c: Candidate, chunk: &mut Vec<Candidate>, keys: &[Vec<u8>]| -> Result<()> {
            chunk.push(c);
            if chunk.len() == CHUNK {
                emit(chunk, keys)?;
                chunk.clear();
            }
            Ok(())
        };
        let sides = [(true, new_left, &self.right), (false, new_right, &self.left)];
        for (driver_left, drivers, other_state) in sides {
            for (i, (key, _)) in drivers.iter().enumerate() {
                let Some(k) = key else { continue };
                state_key_into(k, &mut sk);
                if let Some(rows) = other_state.get(&sk) {
                    let key_id = keys.len() as u32;
                    keys.push(sk.clone());
                    for j in 0..rows.len() {
                        push(Candidate { driver: i as u32, driver_left, other: Other::State(key_id, j as u32) }, &mut chunk, &keys)?;
                    }
                }
                if driver_left {
                    for &j in right_by_key.get(k.as_slice()).into_iter().flatten() {
                        push(Candidate { driver: i as u32, driver_left, other: Other::NewRight(j) }, &mut chunk, &keys)?;
                    }
                }
            }
        }
        if !chunk.is_empty() {
            emit(&chunk, &keys)?;
        }
        Ok(keys)
    }

    /// The (left, right) rows of a candidate.
    fn pair<'a>(
        &'a self,
        c: &Candidate,
        keys: &[Vec<u8>],
        new_left: &'a [(Option<Vec<u8>>, Buffered)],
        new_right: &'a [(Option<Vec<u8>>, Buffered)],
    ) -> Result<Pair<'a>> {
        let missing = || Error::internal("a join candidate refers to a row that is not there");
        let other = match c.other {
            Other::State(key, j) => {
                let side = if c.driver_left { &self.right } else { &self.left };
                let key = keys.get(key as usize).ok_or_else(missing)?;
                &side.get(key).and_then(|rows| rows.get(j as usize)).ok_or_else(missing)?.row
            }
            Other::NewRight(j) => &new_right.get(j as usize).ok_or_else(missing)?.1.row,
        };
        let driver_side = if c.driver_left { new_left } else { new_right };
        let driver = &driver_side.get(c.driver as usize).ok_or_else(missing)?.1.row;
        Ok(if c.driver_left { (Some(driver), Some(other)) } else { (Some(other), Some(driver)) })
    }

    fn outer_left(&self) -> bool {
        matches!(self.spec.kind, StreamJoinKind::LeftOuter | StreamJoinKind::FullOuter)
    }

    fn outer_right(&self) -> bool {
        matches!(self.spec.kind, StreamJoinKind::RightOuter | StreamJoinKind::FullOuter)
    }

    /// The watermark the operators above the join see (see `StreamJoinSpec::output_watermark_lag`).
    fn output_watermark(&self, watermark: i64) -> i64 {
        match self.spec.output_watermark_lag() {
            Some(lag) if watermark > 0 => watermark.saturating_sub(lag),
            _ => watermark,
        }
    }
}

impl Operator for StreamJoinOp {
    fn name(&self) -> &'static str {
        "symmetricHashJoin"
    }

    fn on_batch(&mut self, mut inputs: Vec<RecordBatch>, watermarks: Watermarks, ctx: &mut BatchContext) -> Result<RecordBatch> {
        let (Some(left_batch), Some(right_batch)) = (inputs.first().cloned(), inputs.get(1).cloned()) else {
            return Err(Error::internal("a stream-stream join needs two inputs"));
        };
        inputs.clear();
        let late_wm = watermarks.late;
        let wm = watermarks.eviction;
        let mut dropped = 0u64;
        let mut keep_on_time =
            |rows: Vec<(Option<Vec<u8>>, Buffered)>, has_time: bool, ctx: &mut BatchContext| -> Vec<(Option<Vec<u8>>, Buffered)> {
                rows.into_iter()
                    .filter(|(_, b)| {
                        let late = has_time && late_wm > 0 && b.time.is_some_and(|t| t <= late_wm);
                        if late {
                            dropped += 1;
                            ctx.drop_late("symmetricHashJoin", b.row.clone(), b.time.unwrap_or(0), late_wm, None);
                        }
                        !late
                    })
                    .collect()
            };
        let mut new_left =
            keep_on_time(Self::rows_of(&left_batch, &self.spec.left_keys, self.spec.left_time)?, self.spec.left_time.is_some(), ctx);
        let mut new_right =
            keep_on_time(Self::rows_of(&right_batch, &self.spec.right_keys, self.spec.right_time)?, self.spec.right_time.is_some(), ctx);

        // Output in chunks: the values of at most CHUNK pairs are materialised at a time. The
        // pairs that pass are kept to mark their rows matched afterwards.
        let mut batches = Vec::new();
        let mut matched: Vec<Candidate> = Vec::new();
        let mut output_rows = 0u64;
        let keys = self.for_each_candidate_chunk(&new_left, &new_right, |chunk, keys| {
            let pairs = chunk.iter().map(|p| self.pair(p, keys, &new_left, &new_right)).collect::<Result<Vec<Pair>>>()?;
            let batch = self.assemble(&pairs)?;
            let (batch, passed): (RecordBatch, Vec<usize>) = match &self.spec.residual {
                None => (batch, (0..chunk.len()).collect()),
                Some(residual) => {
                    let mask = residual.evaluate_predicate(&batch)?;
                    (arrow_select::filter::filter_record_batch(&batch, &mask)?, (0..chunk.len()).filter(|&k| mask.value(k)).collect())
                }
            };
            output_rows += batch.num_rows() as u64;
            if output_rows > MAX_JOIN_OUTPUT_ROWS_PER_BATCH {
                return Err(too_many_rows("stream-stream", output_rows));
            }
            matched.extend(passed.into_iter().filter_map(|k| chunk.get(k).copied()));
            batches.push(batch);
            Ok(())
        })?;
        // Mark both rows of every match (an outer row that matched is never NULL-padded).
        for c in matched {
            let driver = if c.driver_left { new_left.get_mut(c.driver as usize) } else { new_right.get_mut(c.driver as usize) };
            if let Some((_, b)) = driver {
                b.matched = true;
            }
            let other = match c.other {
                Other::State(key, j) => {
                    let side = if c.driver_left { &mut self.right } else { &mut self.left };
                    keys.get(key as usize).and_then(|key| side.get_mut(key)).and_then(|rows| rows.get_mut(j as usize))
                }
                Other::NewRight(j) => new_right.get_mut(j as usize).map(|(_, b)| b),
            };
            if let Some(b) = other {
                b.matched = true;
            }
        }
        self.rows += new_left.len() + new_right.len();
        let before = self.rows;
        for (side, by_time, new) in
            [(&mut self.left, &mut self.left_by_time, &mut new_left), (&mut self.right, &mut self.right_by_time, &mut new_right)]
        {
            for (key, b) in new.drain(..) {
                let key = state_key(&key);
                if let Some(t) = b.time {
                    by_time.entry(t).or_default().push(key.clone());
                }
                side.get_or_insert_with(&key, Vec::new).push(b);
            }
        }
        // Eviction: a left row can match no future right row once left.time + hi < watermark; a
        // right row none once right.time - lo < watermark. Saturating: a bound past the end of
        // time is never behind the watermark, one before its start always is.
        // Outer rows that expire unmatched: (left, right), one of them missing.
        let mut padded: Vec<[Option<Vec<Value>>; 2]> = Vec::new();
        if wm > 0 {
            let (lo, hi) = self.spec.bounds;
            let (outer_left, outer_right) = (self.outer_left(), self.outer_right());
            if let (Some(hi), Some(_)) = (hi, self.spec.left_time) {
                let gone = |t: i64| t.saturating_add(hi) < wm;
                let keys = expired_keys(&mut self.left_by_time, gone);
                self.rows -= evict(&mut self.left, keys, |b| b.time.is_some_and(gone), outer_left, |row| padded.push([Some(row), None]));
            }
            if let (Some(lo), Some(_)) = (lo, self.spec.right_time) {
                let gone = |t: i64| t.saturating_sub(lo) < wm;
                let keys = expired_keys(&mut self.right_by_time, gone);
                self.rows -= evict(&mut self.right, keys, |b| b.time.is_some_and(gone), outer_right, |row| padded.push([None, Some(row)]));
            }
        }
        let (before, total) = (before, self.rows);
        let padded: Vec<Pair> = padded.iter().map(|[l, r]| (l.as_ref(), r.as_ref())).collect();
        batches.push(self.assemble(&padded)?);
        self.metrics = StateOperatorProgress {
            operator_name: self.name().to_string(),
            num_rows_total: total as u64,
            num_rows_updated: (left_batch.num_rows() + right_batch.num_rows()) as u64,
            num_rows_removed: (before + left_batch.num_rows() + right_batch.num_rows()).saturating_sub(total + dropped as usize) as u64,
            num_rows_dropped_by_watermark: dropped,
            memory_used_bytes: 0,
        };
        Ok(arrow_select::concat::concat_batches(&self.schema, &batches)?)
    }

    /// What the operators above see: the join's output watermark, not the input's.
    fn output_watermarks(&self, input: Watermarks) -> Watermarks {
        Watermarks { eviction: self.output_watermark(input.eviction), late: self.output_watermark(input.late) }
    }

    fn state_progress(&self) -> Option<StateOperatorProgress> {
        Some(self.metrics.clone())
    }

    fn wants_no_data_batch(&self) -> bool {
        self.spec.left_time.is_some() || self.spec.right_time.is_some()
    }

    fn state_table_names(&self) -> &'static [&'static str] {
        &["left", "right"]
    }

    fn state_tables(&mut self) -> Vec<&mut dyn StateTable> {
        vec![&mut self.left, &mut self.right]
    }

    fn state_tables_ref(&self) -> Vec<&dyn StateTable> {
        vec![&self.left, &self.right]
    }

    fn check_state(&self) -> std::result::Result<(), String> {
        let n = self.left_types.len();
        let fields = self.schema.fields();
        let (left_fields, right_fields) =
            (fields.iter().take(n).cloned().collect::<Vec<_>>(), fields.iter().skip(n).cloned().collect::<Vec<_>>());
        let sides = [
            ("left", &self.left, &self.left_types, &self.spec.left_keys, self.spec.left_time, left_fields),
            ("right", &self.right, &self.right_types, &self.spec.right_keys, self.spec.right_time, right_fields),
        ];
        for (name, side, types, keys, time, fields) in sides {
            check_side(side, types, keys, time, Arc::new(Schema::new(fields))).map_err(|e| format!("the join's {name} side: {e}"))?;
        }
        Ok(())
    }

    fn state_loaded(&mut self) {
        self.rows = self.left.values().chain(self.right.values()).map(Vec::len).sum();
        for (side, by_time) in [(&self.left, &mut self.left_by_time), (&self.right, &mut self.right_by_time)] {
            by_time.clear();
            for (key, rows) in side.iter() {
                for t in rows.iter().filter_map(|b| b.time) {
                    by_time.entry(t).or_default().push(key.clone());
                }
            }
        }
        self.metrics.num_rows_total = self.rows as u64;
    }
}

/// Checks one side's state as read from a checkpoint: rows of the side's types, event times
/// that are the rows' own, and every row under the key its values give.
fn check_side(
    side: &KeyedState<Vec<Buffered>>,
    types: &[DataType],
    keys: &[Expr],
    time: Option<usize>,
    schema: SchemaRef,
) -> std::result::Result<(), String> {
    let mut all: Vec<(&Vec<u8>, &Buffered)> = Vec::new();
    for (key, rows) in side.iter() {
        if !(key.first() == Some(&1) || key.as_slice() == [0]) {
            return Err(format!("a state key {key:?} is not a join key"));
        }
        for b in rows {
            super::row_fits(&b.row, types)?;
            let own = time.and_then(|t| match b.row.get(t) {
                Some(Value::Timestamp(x)) => Some(*x),
                _ => None,
            });
            if b.time != own {
                return Err(format!("a row's event time {:?} is not the time its row holds ({own:?})", b.time));
            }
            all.push((key, b));
        }
    }
    if all.is_empty() {
        return Ok(());
    }
    let columns: Vec<ArrayRef> = types
        .iter()
        .enumerate()
        .map(|(c, t)| values_to_array(&all.iter().map(|(_, b)| b.row.get(c).cloned().unwrap_or(Value::Null)).collect::<Vec<_>>(), t))
        .collect();
    let options = RecordBatchOptions::new().with_row_count(Some(all.len()));
    let batch = RecordBatch::try_new_with_options(schema, columns, &options).map_err(|e| format!("its rows do not make a batch ({e})"))?;
    let key_columns = keys
        .iter()
        .map(|k| k.evaluate_to_array(&batch))
        .collect::<Result<Vec<_>>>()
        .map_err(|e| format!("its rows' keys do not evaluate ({e})"))?;
    let mut buf = Vec::new();
    for (i, (key, _)) in all.iter().enumerate() {
        let own = if encode_row(&key_columns, i, &mut buf) { present_key(&buf) } else { vec![0] };
        if &own != *key {
            return Err("a row is kept under a key other than its own".into());
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use serde_json::{json, Value as Json};

    use crate::runtime::{OutputMode, QueryDefinition, StreamingQuery};
    use crate::sql::Catalog;
    use crate::types::{Column, DataType, Schema};
    use crate::ErrorKind;
    #[cfg(target_arch = "wasm32")]
    use wasm_bindgen_test::wasm_bindgen_test as test;

    fn query(sql: &str) -> StreamingQuery {
        let schema = |v: &str| {
            Schema::new(vec![Column { name: "k".into(), data_type: DataType::Int }, Column { name: v.into(), data_type: DataType::Int }])
        };
        let catalog = Catalog { sources: vec![("a".into(), schema("x")), ("b".into(), schema("y"))], tables: vec![] };
        StreamingQuery::start(QueryDefinition { sql: sql.into(), output_mode: OutputMode::Append, catalog }).unwrap()
    }

    fn rows(n: usize, key: impl Fn(usize) -> i64) -> Vec<Json> {
        (0..n).map(|i| json!([key(i), i])).collect()
    }

    #[test]
    fn damaged_join_state_is_refused_with_what_is_wrong() {
        use std::collections::BTreeMap;
        use std::sync::Arc;

        use super::{present_key, Buffered, StreamJoinOp};
        use crate::expr::Expr;
        use crate::ops::keys::encode_values;
        use crate::ops::Operator;
        use crate::plan::logical::{StreamJoinKind, StreamJoinSpec};
        use crate::value::Value;

        let spec = StreamJoinSpec {
            kind: StreamJoinKind::Inner,
            left_keys: vec![Expr::column(0, DataType::Int)],
            right_keys: vec![Expr::column(0, DataType::Int)],
            residual: None,
            left_time: None,
            right_time: None,
            bounds: (None, None),
        };
        let types = vec![DataType::Int, DataType::Int];
        let int = |n: &str| arrow_schema::Field::new(n, arrow_schema::DataType::Int32, true);
        let schema = Arc::new(arrow_schema::Schema::new(vec![int("k"), int("x"), int("k"), int("y")]));
        let key_of = |k: i32| {
            let mut buf = Vec::new();
            encode_values(&[Value::Int(k)], &mut buf);
            // A join key has no NULL marker: drop the one encode_values writes.
            present_key(&buf[1..])
        };
        let check = |key: Vec<u8>, row: Vec<Value>, time: Option<i64>| {
            let mut op = StreamJoinOp::new(spec.clone(), types.clone(), types.clone(), schema.clone());
            let b = Buffered { row, time, matched: false };
            op.state_tables()[0].load(BTreeMap::from([(key, postcard::to_allocvec(&vec![b]).unwrap())])).unwrap();
            op.check_state()
        };
        assert_eq!(check(key_of(1), vec![Value::Int(1), Value::Int(5)], None), Ok(()));
        assert!(check(key_of(2), vec![Value::Int(1), Value::Int(5)], None).unwrap_err().contains("key other than its own"));
        assert!(check(key_of(1), vec![Value::Int(1)], None).unwrap_err().contains("1 values where"));
        assert!(check(key_of(1), vec![Value::Int(1), Value::String("x".into())], None).unwrap_err().contains("not of type INT"));
        assert!(check(key_of(1), vec![Value::Int(1), Value::Int(5)], Some(3)).unwrap_err().contains("event time"));
        assert!(check(vec![7], vec![Value::Int(1), Value::Int(5)], None).unwrap_err().contains("not a join key"));
    }

    #[test]
    fn a_hot_key_is_refused_before_its_pairs_are_built() {
        // 4,000 x 4,000 rows on one key: 16 M pairs (past 3.8 GB as values before the budget).
        let mut q = query("SELECT a.x, b.y FROM STREAM a JOIN STREAM b ON a.k = b.k");
        q.add_json("a", &rows(4_000, |_| 1)).unwrap();
        q.add_json("b", &rows(4_000, |_| 1)).unwrap();
        let err = q.process_all_available().unwrap_err();
        assert_eq!(err.kind, ErrorKind::Runtime, "{err}");
        assert!(err.message.contains("16000000 candidate pairs") && err.message.contains("limit of 10000000"), "{err}");
        assert!(err.message.contains("equality condition"), "says what to do: {err}");
    }

    #[test]
    fn pairs_with_the_other_sides_state_count_too() {
        let mut q = query("SELECT a.x, b.y FROM STREAM a JOIN STREAM b ON a.k = b.k");
        q.add_json("b", &rows(4_000, |_| 1)).unwrap();
        q.process_all_available().unwrap();
        q.add_json("a", &rows(3_000, |_| 1)).unwrap();
        let err = q.process_all_available().unwrap_err();
        assert!(err.message.contains("12000000 candidate pairs"), "{err}");
    }

    #[test]
    fn an_output_over_the_row_limit_is_refused_before_it_is_built() {
        let mut q = query("SELECT a.x, b.y FROM STREAM a JOIN STREAM b ON a.k = b.k");
        q.add_json("a", &rows(1_500, |_| 1)).unwrap();
        q.add_json("b", &rows(1_500, |_| 1)).unwrap();
        let err = q.process_all_available().unwrap_err();
        assert!(err.message.contains("at least 2250000 rows") && err.message.contains("limit of 2000000 rows"), "{err}");
    }

    #[test]
    fn pairs_past_one_chunk_keep_exactly_the_matches() {
        // 300 x 300 on one key = 90,000 candidates: more than one chunk of 65,536. The residual
        // keeps the pairs with x + y even: half of them.
        let mut q = query("SELECT a.x, b.y FROM STREAM a JOIN STREAM b ON a.k = b.k AND (a.x + b.y) % 2 = 0");
        q.add_json("a", &rows(300, |_| 7)).unwrap();
        q.add_json("b", &rows(300, |_| 7)).unwrap();
        let run = q.process_all_available().unwrap();
        let out: usize = run.batches.iter().map(|b| b.rows.num_rows()).sum();
        assert_eq!(out, 45_000);
        // A later row meets the 300 buffered rows of each side (its own parity only).
        q.add_json("a", &[json!([7, 1])]).unwrap();
        let run = q.process_all_available().unwrap();
        assert_eq!(run.batches.iter().map(|b| b.rows.num_rows()).sum::<usize>(), 150);
    }

    #[test]
    fn new_rows_meet_only_new_rows_of_their_key() {
        let mut q = query("SELECT a.k, a.x, b.y FROM STREAM a JOIN STREAM b ON a.k = b.k");
        q.add_json("a", &[json!([1, 10]), json!([2, 20]), json!([null, 30])]).unwrap();
        q.add_json("b", &[json!([2, 200]), json!([3, 300]), json!([2, 201]), json!([null, 400])]).unwrap();
        let run = q.process_all_available().unwrap();
        let mut got = crate::scenario::rows_json(&run.batches[0].rows);
        got.sort_by_key(|r| r.to_string());
        assert_eq!(got, vec![json!([2, 20, 200]), json!([2, 20, 201])]);
    }

    #[test]
    fn a_range_past_the_calendar_is_an_overflow_error_not_a_wrapped_eviction() {
        // A range of +/- 146,000 years: rt - lo used to wrap past i64 in the eviction bound, evict the
        // 2026 right row at once and lose the second match. Now the bound's own arithmetic leaves the
        // calendar first and the batch fails with Spark's DATETIME_OVERFLOW.
        let mut q = wide_range_join(53_375_900);
        q.add_json("a", &[json!([1, "1970-01-01 00:00:10"])]).unwrap();
        q.add_json("b", &[json!([1, "2026-01-01 00:00:00"])]).unwrap();
        let e = q.process_all_available().unwrap_err();
        assert_eq!(e.spark_condition, Some("DATETIME_OVERFLOW"), "{e}");
    }

    #[test]
    fn a_range_of_seven_hundred_years_keeps_the_buffered_row() {
        let mut q = wide_range_join(255_500);
        q.add_json("a", &[json!([1, "1970-01-01 00:00:10"])]).unwrap();
        q.add_json("b", &[json!([1, "2026-01-01 00:00:00"])]).unwrap();
        let first = q.process_all_available().unwrap();
        assert_eq!(first.batches.iter().map(|b| b.rows.num_rows()).sum::<usize>(), 1);
        q.add_json("a", &[json!([1, "1970-01-01 00:00:20"])]).unwrap();
        let run = q.process_all_available().unwrap();
        assert_eq!(run.batches.iter().map(|b| b.rows.num_rows()).sum::<usize>(), 1, "the buffered right row still matches");
    }

    #[test]
    fn a_joins_output_watermark_does_not_reach_its_union_all_sibling() {
        // The join's output watermark lags its input by the range (an hour); the deduplication in
        // the other branch of the UNION ALL must judge lateness by the query's watermark. When the
        // join wrote its lowered watermark into a context shared by the whole tree, the sibling,
        // run after it, kept the 09:30 row that Spark drops as late.
        let schema = |k: &str, t: &str| {
            Schema::new(vec![
                Column { name: k.into(), data_type: DataType::Int },
                Column { name: t.into(), data_type: DataType::Timestamp },
            ])
        };
        let sql = "SELECT a.k AS id, a.lt AS ts FROM STREAM a WATERMARK lt DELAY OF INTERVAL 0 SECONDS \
                   JOIN STREAM b WATERMARK rt DELAY OF INTERVAL 0 SECONDS \
                   ON a.k = b.k AND b.rt >= a.lt - INTERVAL 1 HOUR AND b.rt <= a.lt + INTERVAL 1 HOUR \
                   UNION ALL SELECT id, ts FROM (SELECT DISTINCT id, ts FROM STREAM c WATERMARK ts DELAY OF INTERVAL 0 SECONDS)";
        let catalog = Catalog {
            sources: vec![("a".into(), schema("k", "lt")), ("b".into(), schema("k", "rt")), ("c".into(), schema("id", "ts"))],
            tables: vec![],
        };
        let mut q = StreamingQuery::start(QueryDefinition { sql: sql.into(), output_mode: OutputMode::Append, catalog }).unwrap();
        for source in ["a", "b", "c"] {
            q.add_json(source, &[json!([1, "2026-01-01 10:00:00"])]).unwrap();
        }
        q.process_all_available().unwrap();
        assert_eq!(q.watermark().map(crate::time::format_timestamp).as_deref(), Some("2026-01-01 10:00:00"));
        q.add_json("c", &[json!([2, "2026-01-01 09:30:00"])]).unwrap();
        let run = q.process_all_available().unwrap();
        let batch = &run.batches[0];
        assert_eq!(batch.rows.num_rows(), 0, "the late row is dropped: {:?}", crate::scenario::rows_json(&batch.rows));
        assert_eq!(batch.dropped_late, 1);
    }

    /// `a JOIN b` on `k` with `rt` within `days` either side of `lt`.
    fn wide_range_join(days: u32) -> StreamingQuery {
        let schema = |t: &str| {
            Schema::new(vec![
                Column { name: "k".into(), data_type: DataType::Int },
                Column { name: t.into(), data_type: DataType::Timestamp },
            ])
        };
        let sql = format!(
            "SELECT a.k FROM STREAM a WATERMARK lt DELAY OF INTERVAL 1 SECOND JOIN STREAM b WATERMARK rt DELAY OF INTERVAL 1 SECOND \
             ON a.k = b.k AND b.rt - INTERVAL {days} DAYS <= a.lt + INTERVAL {days} DAYS AND b.rt + INTERVAL {days} DAYS >= a.lt - INTERVAL {days} DAYS"
        );
        let catalog = Catalog { sources: vec![("a".into(), schema("lt")), ("b".into(), schema("rt"))], tables: vec![] };
        StreamingQuery::start(QueryDefinition { sql, output_mode: OutputMode::Append, catalog }).unwrap()
    }
}
