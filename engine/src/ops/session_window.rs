use std::collections::HashMap;

use arrow_array::cast::AsArray;
use arrow_array::types::TimestampMicrosecondType;
use arrow_array::{Array, ArrayRef, RecordBatch};
use arrow_schema::SchemaRef;
use serde::{Deserialize, Serialize};

use super::keys::encode_group;
use super::{BatchContext, LateRow, Operator, StateOperatorProgress};
use crate::error::{Error, Result};
use crate::expr::aggregate::Accumulator;
use crate::expr::{AggregateCall, Expr};
use crate::plan::logical::{SessionGap, SessionSpec};
use crate::query::OutputMode;
use crate::sql::interval::parse_interval_string;
use crate::state::{KeyedState, StateTable};
use crate::types::DataType;
use crate::value::{rows_to_batch, Value};

#[derive(Debug, Clone, Serialize, Deserialize)]
struct Session {
    #[serde(with = "crate::value::timestamp")]
    start: i64,
    #[serde(with = "crate::value::timestamp")]
    end: i64,
    /// Values of the other grouping keys.
    key: Vec<Value>,
    accumulators: Vec<Accumulator>,
}

/// `GROUP BY session_window(ts, gap), keys...`: per key, each row opens the session
/// `[ts, ts + gap)`; sessions that touch or overlap merge (inclusive, as in Spark), with their
/// aggregates. Append emits a session once the watermark passes its end; complete emits all.
pub struct SessionWindowOp {
    keys: Vec<Expr>,
    session: SessionSpec,
    aggregates: Vec<AggregateCall>,
    schema: SchemaRef,
    mode: OutputMode,
    /// Whether the watermark closes sessions and drops late rows (append with an event-time session).
    evicts: bool,
    key_types: Vec<DataType>,
    state: KeyedState<Vec<Session>>,
    gaps: HashMap<String, Option<i64>>,
    metrics: StateOperatorProgress,
}

impl SessionWindowOp {
    pub fn new(
        keys: Vec<Expr>,
        session: SessionSpec,
        aggregates: Vec<AggregateCall>,
        schema: SchemaRef,
        mode: OutputMode,
        event_time_with_watermark: bool,
    ) -> Self {
        let key_types = keys.iter().map(Expr::data_type).collect();
        SessionWindowOp {
            keys,
            session,
            aggregates,
            schema,
            evicts: event_time_with_watermark && mode != OutputMode::Complete,
            mode,
            key_types,
            state: KeyedState::new(),
            gaps: HashMap::new(),
            metrics: StateOperatorProgress::default(),
        }
    }

    fn gap_of(&mut self, text: &str) -> Option<i64> {
        *self
            .gaps
            .entry(text.to_string())
            .or_insert_with(|| parse_interval_string(text).ok().filter(|iv| iv.months == 0).map(|iv| iv.micros))
    }

    /// Adds `new` to the key's sessions, merging every session it touches.
    fn merge_in(&self, sessions: &mut Vec<Session>, new: Session) -> Result<()> {
        let (mut touching, rest): (Vec<Session>, Vec<Session>) = sessions.drain(..).partition(|s| s.start <= new.end && new.start <= s.end);
        touching.push(new);
        touching.sort_by_key(|s| s.start);
        let mut merged = touching.remove(0);
        for later in touching {
            merged.end = merged.end.max(later.end);
            for ((call, acc), other) in self.aggregates.iter().zip(merged.accumulators.iter_mut()).zip(later.accumulators) {
                call.merge(acc, other)?;
            }
        }
        *sessions = rest;
        let at = sessions.partition_point(|s| s.start < merged.start);
        sessions.insert(at, merged);
        Ok(())
    }

    fn output(&self, sessions: &[&Session]) -> Result<RecordBatch> {
        let rows = sessions.iter().map(|s| {
            let mut others = s.key.iter();
            let keys: Vec<Value> = (0..self.keys.len())
                .map(|k| {
                    if k == self.session.key {
                        Value::Window { start: s.start, end: s.end }
                    } else {
                        others.next().cloned().unwrap_or(Value::Null)
                    }
                })
                .collect();
            let results = self.aggregates.iter().zip(&s.accumulators).map(|(call, acc)| call.result(acc));
            keys.into_iter().chain(results).collect()
        });
        let types: Vec<DataType> = self.key_types.iter().chain(self.aggregates.iter().map(|a| &a.data_type)).cloned().collect();
        rows_to_batch(rows, &types, &self.schema)
    }
}

impl Operator for SessionWindowOp {
    fn name(&self) -> &'static str {
        "sessionWindowStateStoreSave"
    }

    fn on_batch(&mut self, mut inputs: Vec<RecordBatch>, ctx: &mut BatchContext) -> Result<RecordBatch> {
        let batch = inputs.remove(0);
        let watermark = ctx.watermark_micros;
        let other_keys: Vec<ArrayRef> = self
            .keys
            .iter()
            .enumerate()
            .filter(|(k, _)| *k != self.session.key)
            .map(|(_, e)| e.evaluate_to_array(&batch))
            .collect::<Result<_>>()?;
        let times = self.session.time.evaluate_to_array(&batch)?;
        let times = times
            .as_primitive_opt::<TimestampMicrosecondType>()
            .ok_or_else(|| Error::internal("session_window over a non-timestamp"))?
            .clone();
        let gaps = match &self.session.gap {
            SessionGap::Fixed(_) => None,
            SessionGap::PerRow(e) => Some(e.evaluate_to_array(&batch)?),
        };
        let args =
            self.aggregates.iter().map(|a| a.arg.as_ref().map(|e| e.evaluate_to_array(&batch)).transpose()).collect::<Result<Vec<_>>>()?;
        let mut buf = Vec::new();
        let (mut dropped, mut updated) = (0u64, 0u64);
        for i in 0..batch.num_rows() {
            if times.is_null(i) {
                continue;
            }
            let t = times.value(i);
            let gap = match (&self.session.gap, &gaps) {
                (SessionGap::Fixed(g), _) => Some(*g),
                (_, Some(g)) if !g.is_null(i) => {
                    let text = g.as_string::<i32>().value(i).to_string();
                    self.gap_of(&text)
                }
                _ => None,
            };
            // Spark drops rows whose gap is missing, zero or negative.
            let Some(gap) = gap.filter(|g| *g > 0) else { continue };
            if self.evicts && ctx.late_watermark_micros > 0 && t + gap <= ctx.late_watermark_micros {
                dropped += 1;
                ctx.late_rows.push(LateRow {
                    operator: self.name().to_string(),
                    row: batch.columns().iter().map(|c| Value::from_array(c.as_ref(), i)).collect(),
                    event_time: t,
                    watermark: ctx.late_watermark_micros,
                    window: Some((t, t + gap)),
                });
                continue;
            }
            encode_group(&other_keys, i, &mut buf);
            let mut accumulators: Vec<Accumulator> = self.aggregates.iter().map(AggregateCall::new_accumulator).collect();
            for (a, call) in self.aggregates.iter().enumerate() {
                let v = args[a].as_ref().map(|c| Value::from_array(c.as_ref(), i)).unwrap_or(Value::Null);
                call.update(&mut accumulators[a], &v)?;
            }
            let key = other_keys.iter().map(|c| Value::from_array(c.as_ref(), i)).collect();
            let mut sessions = self.state.remove(buf.as_slice()).unwrap_or_default();
            self.merge_in(&mut sessions, Session { start: t, end: t + gap, key, accumulators })?;
            self.state.insert(buf.clone(), sessions);
            updated += 1;
        }
        let before: usize = self.state.values().map(Vec::len).sum();
        let out = match self.mode {
            OutputMode::Append if self.evicts && watermark > 0 => {
                let mut closed = Vec::new();
                let keys: Vec<Vec<u8>> =
                    self.state.iter().filter(|(_, ss)| ss.iter().any(|s| s.end <= watermark)).map(|(k, _)| k.clone()).collect();
                for key in keys {
                    let Some(sessions) = self.state.get_mut(&key) else { continue };
                    let (done, open): (Vec<Session>, Vec<Session>) = sessions.drain(..).partition(|s| s.end <= watermark);
                    *sessions = open;
                    closed.extend(done);
                    if sessions.is_empty() {
                        self.state.remove(&key);
                    }
                }
                self.output(&closed.iter().collect::<Vec<_>>())?
            }
            OutputMode::Append | OutputMode::Update => self.output(&[])?,
            OutputMode::Complete => {
                let all: Vec<&Session> = self.state.values().flatten().collect();
                self.output(&all)?
            }
        };
        let total: usize = self.state.values().map(Vec::len).sum();
        self.metrics = StateOperatorProgress {
            operator_name: self.name().to_string(),
            num_rows_total: total as u64,
            num_rows_updated: updated,
            num_rows_removed: (before - total) as u64,
            num_rows_dropped_by_watermark: dropped,
            memory_used_bytes: 0,
        };
        Ok(out)
    }

    fn state_progress(&self) -> Option<StateOperatorProgress> {
        Some(self.metrics.clone())
    }

    fn wants_no_data_batch(&self) -> bool {
        self.evicts
    }

    fn state_table_names(&self) -> &'static [&'static str] {
        &["default"]
    }

    fn state_tables(&mut self) -> Vec<&mut dyn StateTable> {
        vec![&mut self.state]
    }

    fn state_loaded(&mut self) {
        self.metrics.num_rows_total = self.state.values().map(|s| s.len() as u64).sum();
    }
}
