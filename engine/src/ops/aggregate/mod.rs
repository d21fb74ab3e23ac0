//! Stateful aggregation, Spark's StateStoreRestore/Save pair in one operator. A batch is folded
//! column-wise: each row's key becomes a group slot once ([`KeyEncoder`] then the key index),
//! lateness is one comparison per row, and every aggregate updates its column over the slots.

mod columns;
mod groups;

use arrow_array::cast::AsArray;
use arrow_array::types::TimestampMicrosecondType;
use arrow_array::{Array, ArrayRef, RecordBatch, RecordBatchOptions};
use arrow_schema::{DataType as ArrowType, SchemaRef};

use self::columns::SKIP;
use self::groups::{GroupTable, LateKeys};
use super::keys::{BatchKeys, KeyEncoder};
use super::{row_values, BatchContext, Operator, StateOperatorProgress, Watermarks};
use crate::error::Result;
use crate::expr::{AggregateCall, Expr};
use crate::plan::OutputMode;
use crate::state::StateTable;
use crate::types::DataType;

/// Each row's event time (a window's end, or the timestamp), and the windows' starts.
type RowTimes<'a> = (Vec<Option<i64>>, Option<&'a [i64]>);

/// Each row's event time from the event-time key column: a window's end, or the timestamp.
fn row_times(column: &ArrayRef) -> Option<RowTimes<'_>> {
    match column.data_type() {
        ArrowType::Timestamp(_, _) => {
            let ts = column.as_primitive::<TimestampMicrosecondType>();
            Some(((0..ts.len()).map(|i| ts.is_valid(i).then(|| ts.value(i))).collect(), None))
        }
        ArrowType::Struct(_) => {
            let s = column.as_struct();
            let start = s.column(0).as_primitive::<TimestampMicrosecondType>();
            let end = s.column(1).as_primitive::<TimestampMicrosecondType>();
            Some(((0..s.len()).map(|i| s.is_valid(i).then(|| end.value(i))).collect(), Some(start.values())))
        }
        _ => None,
    }
}

/// Stateful aggregation: each micro-batch folds its rows into the groups it touches; what is
/// emitted and what is evicted follows the output mode and the watermark.
pub struct AggregateOp {
    keys: Vec<Expr>,
    aggregates: Vec<AggregateCall>,
    schema: SchemaRef,
    mode: OutputMode,
    /// The key carrying event time; with a watermark it decides lateness, emission and eviction.
    event_time_key: Option<usize>,
    /// The event time a window was assigned from, evaluated on the input: a dropped row is shown
    /// at its own time, not at its window's end.
    row_time: Option<Expr>,
    /// Whether the query has a watermark at all (then no-data batches run when it moves).
    query_has_watermark: bool,
    groups: GroupTable,
    /// The current batch's keys, their buffers kept from batch to batch.
    batch_keys: BatchKeys,
    /// Micro-batches run since the operator started.
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
        let key_types: Vec<DataType> = keys.iter().map(Expr::data_type).collect();
        // The time index orders groups by event time only where the watermark evicts them.
        let indexed_time = if mode != OutputMode::Complete { event_time_key } else { None };
        let groups = GroupTable::new(key_types, aggregates.clone(), indexed_time);
        AggregateOp {
            keys,
            aggregates,
            schema,
            mode,
            event_time_key,
            row_time: None,
            query_has_watermark,
            groups,
            batch_keys: BatchKeys::default(),
            batches: 0,
            metrics: StateOperatorProgress { operator_name: "stateStoreSave".into(), ..Default::default() },
        }
    }

    /// Names the expression the window key was assigned from (the `ts` of `window(ts, ...)`).
    pub fn with_row_time(mut self, time: Option<Expr>) -> Self {
        self.row_time = time;
        self
    }

    /// The watermark governs this operator only outside complete mode and with an event-time key.
    fn evicts(&self) -> bool {
        self.mode != OutputMode::Complete && self.event_time_key.is_some()
    }

    fn output(&self, slots: &mut [u32]) -> Result<RecordBatch> {
        self.groups.sort_by_key(slots);
        let columns = self.groups.output(slots);
        let options = RecordBatchOptions::new().with_row_count(Some(slots.len()));
        Ok(RecordBatch::try_new_with_options(self.schema.clone(), columns, &options)?)
    }
}

impl Operator for AggregateOp {
    fn name(&self) -> &'static str {
        "stateStoreSave"
    }

    fn on_batch(&mut self, mut inputs: Vec<RecordBatch>, watermarks: Watermarks, ctx: &mut BatchContext) -> Result<RecordBatch> {
        let batch = inputs.remove(0);
        self.batches += 1;
        let now = self.batches;
        let watermark = watermarks.eviction;
        let late_watermark = watermarks.late;
        let key_columns = self.keys.iter().map(|k| k.evaluate_to_array(&batch)).collect::<Result<Vec<_>>>()?;
        let arg_columns = self.aggregates.iter().map(|a| a.evaluate_arg(&batch)).collect::<Result<Vec<_>>>()?;
        let times = self.event_time_key.and_then(|k| key_columns.get(k)).and_then(row_times);
        let judge_late = self.evicts() && late_watermark > 0;
        KeyEncoder::new(&key_columns).encode_batch(batch.num_rows(), &mut self.batch_keys);
        let mut late_keys = LateKeys::new();
        // Evaluated on the first late row only: most batches have none.
        let mut row_times_of_late: Option<Option<Vec<Option<i64>>>> = None;
        let mut slots = Vec::with_capacity(batch.num_rows());
        let mut updated = 0u64;
        let mut changed = Vec::new();
        for i in 0..batch.num_rows() {
            let key = self.batch_keys.row(i);
            let time = times.as_ref().and_then(|(t, _)| t[i]);
            if judge_late {
                // Late: the row's window has closed (end <= watermark), or its time is at or
                // behind the watermark for a raw timestamp key.
                if let Some(t) = time.filter(|&t| t <= late_watermark) {
                    late_keys.insert(key.to_vec());
                    let window = times.as_ref().and_then(|(_, starts)| starts.map(|s| (s[i], t)));
                    if row_times_of_late.is_none() {
                        let column = self.row_time.as_ref().map(|e| e.evaluate_to_array(&batch)).transpose()?;
                        row_times_of_late = Some(column.as_ref().and_then(row_times).map(|(ts, _)| ts));
                    }
                    let own = row_times_of_late.as_ref().and_then(|ts| ts.as_ref()).and_then(|ts| ts[i]);
                    ctx.drop_late(self.name(), row_values(&batch, i), own.unwrap_or(t), late_watermark, window);
                    slots.push(SKIP);
                    continue;
                }
            }
            let slot = self.groups.group(key, time);
            if self.groups.touch(slot, now) {
                updated += 1;
                changed.push(slot);
            }
            slots.push(slot);
        }
        self.groups.update(&slots, &arg_columns)?;
        let before = self.groups.len();
        let out = match self.mode {
            OutputMode::Complete => self.output(&mut self.groups.slots())?,
            OutputMode::Update => {
                let out = self.output(&mut changed)?;
                if self.evicts() && watermark > 0 {
                    let closed = self.groups.take_closed(watermark);
                    self.groups.remove(&closed);
                }
                out
            }
            OutputMode::Append => {
                if watermark == 0 || !self.evicts() {
                    self.output(&mut [])?
                } else {
                    let mut closed = self.groups.take_closed(watermark);
                    let out = self.output(&mut closed)?;
                    self.groups.remove(&closed);
                    out
                }
            }
        };
        self.metrics = StateOperatorProgress {
            operator_name: self.name().to_string(),
            num_rows_total: self.groups.len() as u64,
            num_rows_updated: updated,
            num_rows_removed: before.saturating_sub(self.groups.len()) as u64,
            num_rows_dropped_by_watermark: late_keys.len() as u64,
            memory_used_bytes: 0,
        };
        Ok(out)
    }

    fn state_progress(&self) -> Option<StateOperatorProgress> {
        Some(self.metrics.clone())
    }

    fn wants_no_data_batch(&self) -> bool {
        self.mode != OutputMode::Complete && self.query_has_watermark
    }

    fn state_table_names(&self) -> &'static [&'static str] {
        &["default"]
    }

    fn state_tables(&mut self) -> Vec<&mut dyn StateTable> {
        vec![&mut self.groups]
    }

    fn state_tables_ref(&self) -> Vec<&dyn StateTable> {
        vec![&self.groups]
    }

    fn check_state(&self) -> std::result::Result<(), String> {
        self.groups.load_error().map_or(Ok(()), |e| Err(e.to_string()))
    }

    fn state_loaded(&mut self) {
        self.metrics.num_rows_total = self.groups.len() as u64;
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use crate::runtime::{OutputMode, QueryDefinition, StreamingQuery};
    use crate::sql::Catalog;
    use crate::types::{Column, DataType, Schema};
    #[cfg(target_arch = "wasm32")]
    use wasm_bindgen_test::wasm_bindgen_test as test;

    fn query(sql: &str, mode: OutputMode) -> StreamingQuery {
        let schema = Schema::new(vec![
            Column { name: "k".into(), data_type: DataType::String },
            Column { name: "v".into(), data_type: DataType::Int },
            Column { name: "ts".into(), data_type: DataType::Timestamp },
        ]);
        StreamingQuery::start(QueryDefinition {
            sql: sql.into(),
            output_mode: mode,
            catalog: Catalog { sources: vec![("s".into(), schema)], tables: vec![] },
        })
        .unwrap()
    }

    fn add(q: &mut StreamingQuery, rows: serde_json::Value) {
        q.add_json("s", rows.as_array().unwrap()).unwrap();
    }

    #[test]
    fn an_empty_batch_emits_nothing_and_keeps_state() {
        let mut q = query("SELECT k, count(*) AS n FROM s GROUP BY k", OutputMode::Update);
        add(&mut q, json!([["a", 1, "2026-01-01 00:00:01"]]));
        q.process_all_available().unwrap();
        // Only bad records: the batch runs with no rows.
        add(&mut q, json!([["a", "x", "2026-01-01 00:00:02"]]));
        let r = q.process_all_available().unwrap();
        assert_eq!((r.batches.len(), r.batches[0].rows.num_rows(), r.batches[0].state_rows), (1, 0, 1));
    }

    #[test]
    fn null_values_and_keys() {
        let mut q = query("SELECT k, count(*) AS n, count(v) AS nv, sum(v) AS s, min(v) AS lo FROM s GROUP BY k", OutputMode::Complete);
        add(&mut q, json!([[null, null, null], [null, 2, null], ["a", null, null]]));
        let r = q.process_all_available().unwrap();
        let rows = crate::scenario::rows_json(&r.batches[0].rows);
        assert!(rows.contains(&json!([null, 2, 1, 2, 2])), "{rows:?}");
        assert!(rows.contains(&json!(["a", 1, 0, null, null])), "{rows:?}");
    }

    #[test]
    fn a_watermark_that_does_not_move_runs_no_extra_batch() {
        let mut q = query("SELECT window(ts, '10 seconds') AS w, count(*) AS n FROM STREAM s WATERMARK ts DELAY OF INTERVAL 5 SECONDS GROUP BY window(ts, '10 seconds')", OutputMode::Append);
        add(&mut q, json!([["a", 1, "2026-01-01 00:00:20"]]));
        assert_eq!(q.process_all_available().unwrap().batches.len(), 2, "data batch, then the no-data batch for the new watermark");
        add(&mut q, json!([["a", 1, "2026-01-01 00:00:12"]]));
        assert_eq!(q.process_all_available().unwrap().batches.len(), 1, "an older event does not move the watermark: no no-data batch");
    }

    #[test]
    fn equal_arrays_are_one_group() {
        // The key encoding once wrote the row number for arrays: every row its own group.
        let mut q = query("SELECT split(k, ',') AS parts, count(*) AS n FROM s GROUP BY split(k, ',')", OutputMode::Complete);
        add(&mut q, json!([["a,b", 1, null], ["a,b", 2, null], ["a", 3, null], ["a,b", 4, null], [null, 5, null]]));
        let mut rows = crate::scenario::rows_json(&q.process_all_available().unwrap().batches[0].rows);
        rows.sort_by_key(|r| r.to_string());
        assert_eq!(rows, vec![json!([["a", "b"], 3]), json!([["a"], 1]), json!([null, 1])]);
    }

    #[test]
    fn collect_set_and_approx_count_distinct_keep_each_value_once() {
        let mut q = query(
            "SELECT k, approx_count_distinct(d) AS n, collect_set(d) AS s FROM \
             (SELECT k, CASE WHEN v = 0 THEN CAST('NaN' AS DOUBLE) WHEN v = 1 THEN 0.0 WHEN v = 2 THEN -0.0 ELSE 1.5 END AS d FROM s) GROUP BY k",
            OutputMode::Complete,
        );
        // NaN = NaN and -0.0 = 0.0, as Spark groups them.
        add(&mut q, json!([["a", 1, null], ["a", 0, null], ["a", 0, null], ["a", 2, null], ["a", 3, null], ["a", 3, null]]));
        let rows = crate::scenario::rows_json(&q.process_all_available().unwrap().batches[0].rows);
        assert_eq!(rows, vec![json!(["a", 3, [0.0, "NaN", 1.5]])]);
    }

    #[test]
    fn tiny_and_huge_windows() {
        let mut q =
            query("SELECT window(ts, '1 millisecond') AS w, count(*) AS n FROM s GROUP BY window(ts, '1 millisecond')", OutputMode::Update);
        add(&mut q, json!([["a", 1, "2026-01-01 00:00:00.0005"], ["a", 1, "2026-01-01 00:00:00.0015"]]));
        let rows = crate::scenario::rows_json(&q.process_all_available().unwrap().batches[0].rows);
        assert_eq!(rows.len(), 2, "{rows:?}");
        assert!(rows.contains(&json!([{"start": "2026-01-01 00:00:00", "end": "2026-01-01 00:00:00.001"}, 1])), "{rows:?}");
        let mut q = query("SELECT window(ts, '7 days') AS w, count(*) AS n FROM s GROUP BY window(ts, '7 days')", OutputMode::Update);
        add(&mut q, json!([["a", 1, "2026-01-01 00:00:00"], ["a", 1, "2026-01-07 23:00:00"]]));
        let rows = crate::scenario::rows_json(&q.process_all_available().unwrap().batches[0].rows);
        // Epoch-aligned: week windows start on Thursdays (1970-01-01 was one).
        assert_eq!(rows, vec![json!([{"start": "2026-01-01 00:00:00", "end": "2026-01-08 00:00:00"}, 2])]);
    }

    #[test]
    fn a_late_row_is_recorded_at_its_own_event_time_with_each_closed_window() {
        let mut q = query(
            "SELECT window(ts, '10 seconds', '5 seconds') AS w, count(*) AS n FROM STREAM s WATERMARK ts DELAY OF INTERVAL 0 SECONDS \
             GROUP BY window(ts, '10 seconds', '5 seconds')",
            OutputMode::Append,
        );
        add(&mut q, json!([["a", 1, "2026-01-01 00:01:00"]]));
        q.process_all_available().unwrap();
        add(&mut q, json!([["b", 1, "2026-01-01 00:00:12"]]));
        let b = &q.process_all_available().unwrap().batches[0];
        let at = |s: &str| crate::time::parse_timestamp(s).unwrap();
        // Both of its windows, [00:05, 00:15) and [00:10, 00:20), had closed.
        let windows: Vec<_> = b.late_rows.iter().map(|l| l.window).collect();
        assert_eq!(windows.len(), 2, "{windows:?}");
        assert!(windows.contains(&Some((at("2026-01-01 00:00:05"), at("2026-01-01 00:00:15")))), "{windows:?}");
        assert!(b.late_rows.iter().all(|l| l.event_time == at("2026-01-01 00:00:12")), "{:?}", b.late_rows);
    }

    #[test]
    fn a_row_exactly_at_the_watermark_is_late_for_a_timestamp_key() {
        let mut q = query("SELECT DISTINCT k, ts FROM STREAM s WATERMARK ts DELAY OF INTERVAL 10 SECONDS", OutputMode::Append);
        add(&mut q, json!([["a", 1, "2026-01-01 00:00:30"]]));
        q.process_all_available().unwrap();
        add(&mut q, json!([["b", 1, "2026-01-01 00:00:20"], ["c", 1, "2026-01-01 00:00:20.000001"]]));
        let b = &q.process_all_available().unwrap().batches[0];
        assert_eq!(b.dropped_late, 1);
        assert_eq!(b.late_rows[0].row[0], crate::value::Value::String("b".into()));
    }
}

#[cfg(test)]
mod state_tests {
    use std::collections::BTreeMap;
    use std::sync::Arc;

    use arrow_schema::{Field, Schema as ArrowSchema};

    use super::groups::{key_time, Group};
    use super::*;
    use crate::expr::aggregate::{Accumulator, AggFunc};
    use crate::ops::keys::encode_values;
    use crate::ops::Operator;
    use crate::value::Value;
    #[cfg(target_arch = "wasm32")]
    use wasm_bindgen_test::wasm_bindgen_test as test;

    /// `SELECT k, count(*) FROM s GROUP BY k` over a string k, as the planner builds it.
    fn op() -> AggregateOp {
        let schema = Arc::new(ArrowSchema::new(vec![
            Field::new("k", arrow_schema::DataType::Utf8, true),
            Field::new("n", arrow_schema::DataType::Int64, false),
        ]));
        let count = AggFunc::resolve("count", vec![], true).unwrap();
        AggregateOp::new(vec![Expr::column(0, DataType::String)], vec![count], schema, OutputMode::Update, None, false)
    }

    fn loaded(groups: Vec<(Vec<u8>, Group)>) -> AggregateOp {
        let mut op = op();
        let entries: BTreeMap<Vec<u8>, Vec<u8>> = groups.into_iter().map(|(k, g)| (k, postcard::to_allocvec(&g).unwrap())).collect();
        op.state_tables()[0].load(entries).unwrap();
        op
    }

    fn group(key: Vec<Value>, accumulators: Vec<Accumulator>) -> Group {
        Group { key, accumulators }
    }

    fn key_of(values: &[Value]) -> Vec<u8> {
        let mut buf = Vec::new();
        encode_values(values, &mut buf);
        buf
    }

    #[test]
    fn state_this_operator_wrote_passes_the_check() {
        let key = vec![Value::String("a".into())];
        let op = loaded(vec![(key_of(&key), group(key, vec![Accumulator::Count(2)]))]);
        assert_eq!(op.check_state(), Ok(()));
    }

    #[test]
    fn damaged_groups_are_refused_with_what_is_wrong() {
        let a = vec![Value::String("a".into())];
        let cases: Vec<(Vec<u8>, Group, &str)> = vec![
            // An empty group key used to panic when the key was read.
            (key_of(&[]), group(vec![], vec![Accumulator::Count(1)]), "has 0 values"),
            (key_of(&a), group(vec![Value::Int(1)], vec![Accumulator::Count(1)]), "not of type STRING"),
            (key_of(&[Value::String("b".into())]), group(a.clone(), vec![Accumulator::Count(1)]), "of another"),
            (key_of(&a), group(a.clone(), vec![]), "0 aggregate values"),
            (key_of(&a), group(a.clone(), vec![Accumulator::List(vec![])]), "not one of CountRows"),
            (key_of(&a), group(a.clone(), vec![Accumulator::Count(-3)]), "not one of CountRows"),
        ];
        for (key, g, says) in cases {
            let err = loaded(vec![(key, g.clone())]).check_state().unwrap_err();
            assert!(err.contains(says), "{g:?}: {err}");
        }
    }

    #[test]
    fn an_event_time_key_that_is_not_there_is_no_time() {
        assert_eq!(key_time(Some(3), &[]), None);
        assert_eq!(key_time(Some(0), &[Value::Timestamp(5)]), Some((5, None)));
    }
}

#[cfg(test)]
mod metrics_tests {
    use serde_json::json;

    use crate::runtime::{OutputMode, QueryDefinition, StreamingQuery};
    use crate::sql::Catalog;
    use crate::types::{Column, DataType, Schema};
    #[cfg(target_arch = "wasm32")]
    use wasm_bindgen_test::wasm_bindgen_test as test;

    #[test]
    fn state_operator_progress_counts_updates_removals_and_drops() {
        let schema = Schema::new(vec![
            Column { name: "k".into(), data_type: DataType::String },
            Column { name: "ts".into(), data_type: DataType::Timestamp },
        ]);
        let sql = "SELECT window(ts, '10 seconds') AS w, k, count(*) AS n FROM STREAM s WATERMARK ts DELAY OF INTERVAL 0 SECONDS GROUP BY window(ts, '10 seconds'), k";
        let def = QueryDefinition {
            sql: sql.into(),
            output_mode: OutputMode::Update,
            catalog: Catalog { sources: vec![("s".into(), schema)], tables: vec![] },
        };
        let mut q = StreamingQuery::start(def).unwrap();
        q.add_json(
            "s",
            json!([["a", "2026-01-01 00:00:01"], ["b", "2026-01-01 00:00:02"], ["a", "2026-01-01 00:00:12"]]).as_array().unwrap(),
        )
        .unwrap();
        let run = q.process_all_available().unwrap();
        let data = &run.batches[0].progress.state_operators[0];
        assert_eq!((data.num_rows_total, data.num_rows_updated, data.num_rows_removed), (3, 3, 0));
        assert!(data.memory_used_bytes > 0);
        // The no-data batch at watermark 00:00:12 evicts the two groups of [0, 10).
        let evict = &run.batches[1].progress.state_operators[0];
        assert_eq!((evict.num_rows_total, evict.num_rows_updated, evict.num_rows_removed), (1, 0, 2));
        q.add_json("s", json!([["a", "2026-01-01 00:00:03"], ["a", "2026-01-01 00:00:04"]]).as_array().unwrap()).unwrap();
        let late = &q.process_all_available().unwrap().batches[0].progress.state_operators[0];
        assert_eq!(late.num_rows_dropped_by_watermark, 1, "two late rows of one window and key count once");
    }
}
