use arrow_array::cast::AsArray;
use arrow_array::types::TimestampMicrosecondType;
use arrow_array::{Array, ArrayRef, RecordBatch, RecordBatchOptions};
use arrow_schema::SchemaRef;
use serde::{Deserialize, Serialize};

use super::keys::encode_row;
use super::{BatchContext, LateRow, Operator, StateOperatorProgress};
use crate::error::{Error, Result};
use crate::expr::Expr;
use crate::plan::logical::{StreamJoinKind, StreamJoinSpec};
use crate::state::{KeyedState, StateTable};
use crate::types::DataType;
use crate::value::{values_to_array, Value};

/// A joined row in the making: the left and right rows, either of which may be missing (NULL-padded).
type Pair<'a> = (Option<&'a Vec<Value>>, Option<&'a Vec<Value>>);

/// The row a match found on the other side of a new row.
enum Matched {
    LeftState(Vec<u8>, usize),
    RightState(Vec<u8>, usize),
    NewRight(usize),
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
    out.push(1);
    out.extend_from_slice(key);
    out
}

/// Removes the rows `expired` picks from every key of `side`, NULL-padding each that never
/// matched into `padded` when `outer`; keys left without rows leave the state.
fn evict(side: &mut KeyedState<Vec<Buffered>>, expired: impl Fn(&Buffered) -> bool, outer: bool, mut pad: impl FnMut(Vec<Value>)) {
    let keys: Vec<Vec<u8>> = side.iter().filter(|(_, rows)| rows.iter().any(&expired)).map(|(k, _)| k.clone()).collect();
    for key in keys {
        let Some(rows) = side.get_mut(&key) else { continue };
        let (gone, kept): (Vec<Buffered>, Vec<Buffered>) = std::mem::take(rows).into_iter().partition(&expired);
        *rows = kept;
        let emptied = rows.is_empty();
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
            for k in 0..self.left_types.len() {
                columns[k].push(l.map(|v| v[k].clone()).unwrap_or(Value::Null));
            }
            for k in 0..self.right_types.len() {
                columns[self.left_types.len() + k].push(r.map(|v| v[k].clone()).unwrap_or(Value::Null));
            }
        }
        let types = self.left_types.iter().chain(&self.right_types);
        let arrays: Vec<ArrayRef> = columns.iter().zip(types).map(|(v, t)| values_to_array(v, t)).collect();
        let options = RecordBatchOptions::new().with_row_count(Some(pairs.len()));
        Ok(RecordBatch::try_new_with_options(self.schema.clone(), arrays, &options)?)
    }

    /// Which candidate pairs pass the residual condition.
    fn passing(&self, pairs: &[Pair]) -> Result<Vec<bool>> {
        let Some(residual) = &self.spec.residual else { return Ok(vec![true; pairs.len()]) };
        if pairs.is_empty() {
            return Ok(vec![]);
        }
        let batch = self.assemble(pairs)?;
        let mask = residual.evaluate_predicate(&batch)?;
        Ok((0..pairs.len()).map(|i| mask.value(i)).collect())
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
            Some(lag) if watermark > 0 => watermark - lag,
            _ => watermark,
        }
    }
}

impl Operator for StreamJoinOp {
    fn name(&self) -> &'static str {
        "symmetricHashJoin"
    }

    fn on_batch(&mut self, mut inputs: Vec<RecordBatch>, ctx: &mut BatchContext) -> Result<RecordBatch> {
        let (left_batch, right_batch) = (inputs.remove(0), inputs.remove(0));
        let late_wm = ctx.late_watermark_micros;
        let wm = ctx.watermark_micros;
        let mut dropped = 0u64;
        let mut keep_on_time =
            |rows: Vec<(Option<Vec<u8>>, Buffered)>, has_time: bool, ctx: &mut BatchContext| -> Vec<(Option<Vec<u8>>, Buffered)> {
                rows.into_iter()
                    .filter(|(_, b)| {
                        let late = has_time && late_wm > 0 && b.time.is_some_and(|t| t <= late_wm);
                        if late {
                            dropped += 1;
                            ctx.late_rows.push(LateRow {
                                operator: "symmetricHashJoin".into(),
                                row: b.row.clone(),
                                event_time: b.time.unwrap_or(0),
                                watermark: late_wm,
                                window: None,
                            });
                        }
                        !late
                    })
                    .collect()
            };
        let mut new_left =
            keep_on_time(Self::rows_of(&left_batch, &self.spec.left_keys, self.spec.left_time)?, self.spec.left_time.is_some(), ctx);
        let mut new_right =
            keep_on_time(Self::rows_of(&right_batch, &self.spec.right_keys, self.spec.right_time)?, self.spec.right_time.is_some(), ctx);

        // Candidate pairs: new left x (right state + new right), then new right x left state.
        enum Side {
            State(Vec<u8>, usize),
            New(usize),
        }
        let mut candidates: Vec<(usize, Side, bool)> = Vec::new(); // (index into the "driver" list, other side, driver is left)
        for (i, (key, _)) in new_left.iter().enumerate() {
            let Some(k) = key else { continue };
            let sk = present_key(k);
            if let Some(rows) = self.right.get(&sk) {
                candidates.extend((0..rows.len()).map(|j| (i, Side::State(sk.clone(), j), true)));
            }
            candidates
                .extend(new_right.iter().enumerate().filter(|(_, (rk, _))| rk.as_ref() == Some(k)).map(|(j, _)| (i, Side::New(j), true)));
        }
        for (j, (key, _)) in new_right.iter().enumerate() {
            let Some(k) = key else { continue };
            let sk = present_key(k);
            if let Some(rows) = self.left.get(&sk) {
                candidates.extend((0..rows.len()).map(|i| (j, Side::State(sk.clone(), i), false)));
            }
        }
        let pairs: Vec<Pair> = candidates
            .iter()
            .map(|(d, other, driver_left)| {
                let other_row = match (other, driver_left) {
                    (Side::State(k, j), true) => &self.right[k.as_slice()][*j].row,
                    (Side::State(k, j), false) => &self.left[k.as_slice()][*j].row,
                    (Side::New(j), _) => &new_right[*j].1.row,
                };
                if *driver_left {
                    (Some(&new_left[*d].1.row), Some(other_row))
                } else {
                    (Some(other_row), Some(&new_right[*d].1.row))
                }
            })
            .collect();
        let pass = self.passing(&pairs)?;
        let mut out_pairs: Vec<(Vec<Value>, Vec<Value>)> = Vec::new();
        // (the new row drove from the left?, its index, what it matched)
        let mut marks: Vec<(bool, usize, Matched)> = Vec::new();
        for (k, (d, other, driver_left)) in candidates.iter().enumerate() {
            if !pass[k] {
                continue;
            }
            out_pairs.push((pairs[k].0.cloned().unwrap_or_default(), pairs[k].1.cloned().unwrap_or_default()));
            let matched = match (other, driver_left) {
                (Side::State(key, j), true) => Matched::RightState(key.clone(), *j),
                (Side::State(key, j), false) => Matched::LeftState(key.clone(), *j),
                (Side::New(j), _) => Matched::NewRight(*j),
            };
            marks.push((*driver_left, *d, matched));
        }
        drop(pairs);
        // Mark both rows of every match (an outer row that matched is never NULL-padded).
        for (driver_left, d, matched) in marks {
            if driver_left {
                new_left[d].1.matched = true;
            } else {
                new_right[d].1.matched = true;
            }
            match matched {
                Matched::RightState(key, j) => {
                    if let Some(rows) = self.right.get_mut(&key) {
                        rows[j].matched = true;
                    }
                }
                Matched::LeftState(key, j) => {
                    if let Some(rows) = self.left.get_mut(&key) {
                        rows[j].matched = true;
                    }
                }
                Matched::NewRight(j) => new_right[j].1.matched = true,
            }
        }
        for (key, b) in new_left.drain(..) {
            self.left.get_or_insert_with(&state_key(&key), Vec::new).push(b);
        }
        for (key, b) in new_right.drain(..) {
            self.right.get_or_insert_with(&state_key(&key), Vec::new).push(b);
        }
        // Eviction: a left row can match no future right row once left.time + hi < watermark; a
        // right row none once right.time - lo < watermark.
        // Outer rows that expire unmatched: (left, right), one of them missing.
        let mut padded: Vec<[Option<Vec<Value>>; 2]> = Vec::new();
        let before = self.left.values().chain(self.right.values()).map(Vec::len).sum::<usize>();
        if wm > 0 {
            let (lo, hi) = self.spec.bounds;
            let (outer_left, outer_right) = (self.outer_left(), self.outer_right());
            if let (Some(hi), Some(_)) = (hi, self.spec.left_time) {
                evict(&mut self.left, |b| b.time.is_some_and(|t| t + hi < wm), outer_left, |row| padded.push([Some(row), None]));
            }
            if let (Some(lo), Some(_)) = (lo, self.spec.right_time) {
                evict(&mut self.right, |b| b.time.is_some_and(|t| t - lo < wm), outer_right, |row| padded.push([None, Some(row)]));
            }
        }
        let total = self.left.values().chain(self.right.values()).map(Vec::len).sum::<usize>();
        let mut rows: Vec<Pair> = out_pairs.iter().map(|(l, r)| (Some(l), Some(r))).collect();
        rows.extend(padded.iter().map(|[l, r]| (l.as_ref(), r.as_ref())));
        self.metrics = StateOperatorProgress {
            operator_name: self.name().to_string(),
            num_rows_total: total as u64,
            num_rows_updated: (left_batch.num_rows() + right_batch.num_rows()) as u64,
            num_rows_removed: (before + left_batch.num_rows() + right_batch.num_rows()).saturating_sub(total + dropped as usize) as u64,
            num_rows_dropped_by_watermark: dropped,
            memory_used_bytes: 0,
        };
        // What the operators above see: the join's output watermark, not the input's.
        ctx.watermark_micros = self.output_watermark(ctx.watermark_micros);
        ctx.late_watermark_micros = self.output_watermark(ctx.late_watermark_micros);
        self.assemble(&rows)
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

    fn state_loaded(&mut self) {
        self.metrics.num_rows_total = self.left.values().chain(self.right.values()).map(|r| r.len() as u64).sum();
    }
}
