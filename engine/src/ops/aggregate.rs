use std::collections::{BTreeMap, HashSet};

use arrow_array::{ArrayRef, RecordBatch, RecordBatchOptions};
use arrow_schema::SchemaRef;
use serde::{Deserialize, Serialize};

use super::keys::encode_group;
use super::{BatchContext, LateRow, Operator, StateOperatorProgress};
use crate::error::{Error, Result};
use crate::expr::aggregate::Accumulator;
use crate::expr::{AggregateCall, Expr};
use crate::query::OutputMode;
use crate::types::DataType;
use crate::value::{values_to_array, Value};

#[derive(Debug, Clone, Serialize, Deserialize)]
struct Group {
    key: Vec<Value>,
    accumulators: Vec<Accumulator>,
    /// The micro-batch that last changed this group (update mode emits those).
    touched: u64,
}

/// Stateful aggregation, Spark's StateStoreRestore/Save pair in one operator: each micro-batch
/// folds its rows into the groups it touches; what is emitted and what is evicted follows the
/// output mode and the watermark.
pub struct AggregateOp {
    keys: Vec<Expr>,
    key_types: Vec<DataType>,
    aggregates: Vec<AggregateCall>,
    schema: SchemaRef,
    mode: OutputMode,
    /// The key carrying event time; with a watermark it decides lateness, emission and eviction.
    event_time_key: Option<usize>,
    /// Whether the query has a watermark at all (then no-data batches run when it moves).
    query_has_watermark: bool,
    groups: BTreeMap<Vec<u8>, Group>,
    batches: u64,
    metrics: StateOperatorProgress,
}

impl AggregateOp {
    pub fn new(
        keys: Vec<Expr>,
        aggregates: Vec<AggregateCall>,
        schema: SchemaRef,
        mode: OutputMode,
        event_time_key: Option<usize>,
        query_has_watermark: bool,
    ) -> Self {
        let key_types = keys.iter().map(Expr::data_type).collect();
        AggregateOp {
            keys,
            key_types,
            aggregates,
            schema,
            mode,
            event_time_key,
            query_has_watermark,
            groups: BTreeMap::new(),
            batches: 0,
            metrics: StateOperatorProgress { operator_name: "stateStoreSave".into(), ..Default::default() },
        }
    }

    /// The watermark governs this operator only outside complete mode and with an event-time key.
    fn evicts(&self) -> bool {
        self.mode != OutputMode::Complete && self.event_time_key.is_some()
    }

    /// The event time of a group key: a window's end, or the timestamp itself.
    fn key_time(&self, key: &[Value]) -> Option<(i64, Option<(i64, i64)>)> {
        match &key[self.event_time_key?] {
            Value::Window { start, end } => Some((*end, Some((*start, *end)))),
            Value::Timestamp(t) => Some((*t, None)),
            _ => None,
        }
    }

    fn output(&self, groups: &[&Group]) -> Result<RecordBatch> {
        let width = self.keys.len() + self.aggregates.len();
        let mut columns: Vec<Vec<Value>> = vec![Vec::with_capacity(groups.len()); width];
        for g in groups {
            for (k, v) in g.key.iter().enumerate() {
                columns[k].push(v.clone());
            }
            for (a, (call, acc)) in self.aggregates.iter().zip(&g.accumulators).enumerate() {
                columns[self.keys.len() + a].push(call.result(acc));
            }
        }
        let types = self.key_types.iter().chain(self.aggregates.iter().map(|a| &a.data_type));
        let arrays: Vec<ArrayRef> = columns.iter().zip(types).map(|(vals, t)| values_to_array(vals, t)).collect();
        let options = RecordBatchOptions::new().with_row_count(Some(groups.len()));
        Ok(RecordBatch::try_new_with_options(self.schema.clone(), arrays, &options)?)
    }
}

impl Operator for AggregateOp {
    fn name(&self) -> &'static str {
        "stateStoreSave"
    }

    fn on_batch(&mut self, mut inputs: Vec<RecordBatch>, ctx: &mut BatchContext) -> Result<RecordBatch> {
        let batch = inputs.remove(0);
        self.batches += 1;
        let now = self.batches;
        let watermark = ctx.watermark_micros;
        let key_columns = self.keys.iter().map(|k| k.evaluate_to_array(&batch)).collect::<Result<Vec<_>>>()?;
        let arg_columns =
            self.aggregates.iter().map(|a| a.arg.as_ref().map(|e| e.evaluate_to_array(&batch)).transpose()).collect::<Result<Vec<_>>>()?;
        let mut buf = Vec::new();
        let mut late_keys: HashSet<Vec<u8>> = HashSet::new();
        let mut updated = 0u64;
        for i in 0..batch.num_rows() {
            encode_group(&key_columns, i, &mut buf);
            if self.evicts() && watermark > 0 {
                let key: Vec<Value> = key_columns.iter().map(|c| Value::from_array(c.as_ref(), i)).collect();
                if let Some((time, window)) = self.key_time(&key) {
                    // Late: the row's window has closed (end <= watermark), or its time is at
                    // or behind the watermark for a raw timestamp key.
                    if time <= watermark {
                        // Spark counts drops after partial aggregation: once per key.
                        late_keys.insert(buf.clone());
                        ctx.late_rows.push(LateRow {
                            operator: self.name().to_string(),
                            row: batch.columns().iter().map(|c| Value::from_array(c.as_ref(), i)).collect(),
                            event_time: time,
                            watermark,
                            window,
                        });
                        continue;
                    }
                }
            }
            let group = match self.groups.get_mut(buf.as_slice()) {
                Some(g) => g,
                None => {
                    let key = key_columns.iter().map(|c| Value::from_array(c.as_ref(), i)).collect();
                    let accumulators = self.aggregates.iter().map(AggregateCall::new_accumulator).collect();
                    self.groups.entry(buf.clone()).or_insert(Group { key, accumulators, touched: 0 })
                }
            };
            if group.touched != now {
                group.touched = now;
                updated += 1;
            }
            for (a, call) in self.aggregates.iter().enumerate() {
                let v = match &arg_columns[a] {
                    Some(col) => Value::from_array(col.as_ref(), i),
                    None => Value::Null,
                };
                call.update(&mut group.accumulators[a], &v)?;
            }
        }
        let before = self.groups.len();
        let out = match self.mode {
            OutputMode::Complete => {
                let all: Vec<&Group> = self.groups.values().collect();
                self.output(&all)?
            }
            OutputMode::Update => {
                let changed: Vec<&Group> = self.groups.values().filter(|g| g.touched == now).collect();
                let out = self.output(&changed)?;
                if self.evicts() && watermark > 0 {
                    let expired: Vec<Vec<u8>> = self
                        .groups
                        .iter()
                        .filter(|(_, g)| self.key_time(&g.key).is_some_and(|(t, _)| t <= watermark))
                        .map(|(k, _)| k.clone())
                        .collect();
                    expired.iter().for_each(|k| {
                        self.groups.remove(k);
                    });
                }
                out
            }
            OutputMode::Append => {
                if watermark == 0 || !self.evicts() {
                    self.output(&[])?
                } else {
                    let closed: Vec<Vec<u8>> = self
                        .groups
                        .iter()
                        .filter(|(_, g)| self.key_time(&g.key).is_some_and(|(t, _)| t <= watermark))
                        .map(|(k, _)| k.clone())
                        .collect();
                    let emitted: Vec<Group> = closed.iter().filter_map(|k| self.groups.remove(k)).collect();
                    self.output(&emitted.iter().collect::<Vec<_>>())?
                }
            }
        };
        self.metrics = StateOperatorProgress {
            operator_name: self.name().to_string(),
            num_rows_total: self.groups.len() as u64,
            num_rows_updated: updated,
            num_rows_removed: (before - self.groups.len()) as u64,
            num_rows_dropped_by_watermark: late_keys.len() as u64,
            memory_used_bytes: self.groups.iter().map(|(k, g)| k.len() as u64 + 48 * (g.key.len() + g.accumulators.len()) as u64).sum(),
        };
        Ok(out)
    }

    fn state_progress(&self) -> Option<StateOperatorProgress> {
        Some(self.metrics.clone())
    }

    fn wants_no_data_batch(&self) -> bool {
        self.mode != OutputMode::Complete && self.query_has_watermark
    }

    fn checkpoint(&self) -> Option<Vec<u8>> {
        let groups: Vec<(&Vec<u8>, &Group)> = self.groups.iter().collect();
        serde_json::to_vec(&(self.batches, groups)).ok()
    }

    fn restore(&mut self, bytes: &[u8]) -> Result<()> {
        let (batches, groups): (u64, Vec<(Vec<u8>, Group)>) = serde_json::from_slice(bytes)
            .map_err(|e| Error::invalid_input(format!("the aggregation state in the checkpoint is damaged: {e}")))?;
        self.batches = batches;
        self.groups = groups.into_iter().collect();
        self.metrics.num_rows_total = self.groups.len() as u64;
        Ok(())
    }
}
