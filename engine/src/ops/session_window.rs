use std::collections::{BTreeMap, HashMap};

use arrow_array::cast::AsArray;
use arrow_array::types::TimestampMicrosecondType;
use arrow_array::{Array, ArrayRef, RecordBatch};
use arrow_schema::SchemaRef;
use serde::{Deserialize, Serialize};

use super::keys::encode_group;
use super::{row_values, BatchContext, Operator, StateOperatorProgress, Watermarks};
use crate::error::{Error, Result};
use crate::expr::aggregate::Accumulator;
use crate::expr::{AggregateCall, Expr};
use crate::plan::logical::{SessionGap, SessionSpec};
use crate::plan::OutputMode;
use crate::sql::interval::parse_interval_string;
use crate::sql::interval::Interval;
use crate::state::{KeyedState, StateTable};
use crate::time::{checked_shift, datetime_overflow, format_timestamp};
use crate::types::DataType;
use crate::value::{rows_to_batch, Value};

/// How many distinct per-row gap strings stay parsed.
const GAP_CACHE: usize = 1024;

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
    /// The keys by the end of their first session, when the watermark closes sessions: a batch
    /// closes sessions only under the keys whose first session it passed, instead of looking at
    /// every key. Entries go stale as sessions merge and grow; each key's current first end is
    /// always among them.
    by_first_end: BTreeMap<i64, Vec<Vec<u8>>>,
    /// Sessions held under all keys.
    sessions: usize,
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
            by_first_end: BTreeMap::new(),
            sessions: 0,
            gaps: HashMap::new(),
            metrics: StateOperatorProgress::default(),
        }
    }

    fn gap_of(&mut self, text: &str) -> Option<i64> {
        // Gaps are row values: bound the cache so distinct strings cannot grow it without end.
        if self.gaps.len() >= GAP_CACHE && !self.gaps.contains_key(text) {
            self.gaps.clear();
        }
        *self
            .gaps
            .entry(text.to_string())
            .or_insert_with(|| parse_interval_string(text).ok().filter(|iv| iv.months == 0).map(|iv| iv.micros))
    }

    /// Merges a batch's new one-row sessions of a key into the key's sessions: one stable sort by
    /// start (the stored sessions first on a tie, so aggregates see them first), then one pass that
    /// folds every session into the one before it when they touch. The key's sessions stay sorted
    /// by start and disjoint, so their ends are sorted too. O((n + m) log(n + m)) per batch, where
    /// merging row by row was quadratic in the sessions of a key.
    fn merge_batch(aggregates: &[AggregateCall], stored: Vec<Session>, new: Vec<Session>) -> Result<Vec<Session>> {
        let mut all = stored;
        all.extend(new);
        all.sort_by_key(|s| s.start);
        let mut out: Vec<Session> = Vec::with_capacity(all.len());
        for next in all {
            match out.last_mut() {
                // Sorted by start, so `next` touches the last merged session exactly when it starts
                // at or before that session's end (inclusive, as in Spark).
                Some(last) if next.start <= last.end => {
                    last.end = last.end.max(next.end);
                    for ((call, acc), other) in aggregates.iter().zip(last.accumulators.iter_mut()).zip(next.accumulators) {
                        call.merge(acc, other)?;
                    }
                }
                _ => out.push(next),
            }
        }
        Ok(out)
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

    fn on_batch(&mut self, mut inputs: Vec<RecordBatch>, watermarks: Watermarks, ctx: &mut BatchContext) -> Result<RecordBatch> {
        let batch = inputs.remove(0);
        let watermark = watermarks.eviction;
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
        let args = self.aggregates.iter().map(|a| a.evaluate_arg(&batch)).collect::<Result<Vec<_>>>()?;
        let mut buf = Vec::new();
        let (mut dropped, mut updated) = (0u64, 0u64);
        // The batch's new sessions by key, in row order; merged into state once per key below.
        let mut new_sessions: HashMap<Vec<u8>, Vec<Session>> = HashMap::new();
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
            let end = checked_shift(t, gap).ok_or_else(|| {
                datetime_overflow(format!(
                    "the session of the event time {} with gap {} ends after the calendar",
                    format_timestamp(t),
                    Interval::from_micros(gap)
                ))
            })?;
            if self.evicts && watermarks.late > 0 && end <= watermarks.late {
                dropped += 1;
                ctx.drop_late(self.name(), row_values(&batch, i), t, watermarks.late, Some((t, end)));
                continue;
            }
            encode_group(&other_keys, i, &mut buf);
            let mut accumulators: Vec<Accumulator> = self.aggregates.iter().map(AggregateCall::new_accumulator).collect();
            for (a, call) in self.aggregates.iter().enumerate() {
                let v = args[a].as_ref().map(|c| call.arg_value(c.as_ref(), i)).unwrap_or(Value::Null);
                call.update(&mut accumulators[a], &v)?;
            }
            let key = other_keys.iter().map(|c| Value::from_array(c.as_ref(), i)).collect();
            let session = Session { start: t, end, key, accumulators };
            match new_sessions.get_mut(buf.as_slice()) {
                Some(list) => list.push(session),
                None => {
                    new_sessions.insert(buf.clone(), vec![session]);
                }
            }
            updated += 1;
        }
        for (key, new) in new_sessions {
            // In place: `remove` would also show the key's sessions as evicted.
            let first_end = match self.state.get_mut(&key) {
                Some(stored) => {
                    let was = stored.len();
                    let merged = Self::merge_batch(&self.aggregates, std::mem::take(stored), new)?;
                    self.sessions = self.sessions - was + merged.len();
                    *stored = merged;
                    stored.first().map(|s| s.end)
                }
                None => {
                    let merged = Self::merge_batch(&self.aggregates, Vec::new(), new)?;
                    self.sessions += merged.len();
                    let first_end = merged.first().map(|s| s.end);
                    self.state.insert(key.clone(), merged);
                    first_end
                }
            };
            if let (true, Some(end)) = (self.evicts, first_end) {
                self.by_first_end.entry(end).or_default().push(key);
            }
        }
        let before = self.sessions;
        let out = match self.mode {
            OutputMode::Append if self.evicts && watermark > 0 => {
                let mut closed = Vec::new();
                let mut keys = Vec::new();
                while let Some(entry) = self.by_first_end.first_entry() {
                    if *entry.key() > watermark {
                        break;
                    }
                    keys.extend(entry.remove());
                }
                // In key order, as the sessions were emitted when every key was looked at.
                keys.sort_unstable();
                keys.dedup();
                for key in keys {
                    // A key's sessions are sorted by end: the closed ones are a prefix. A stale
                    // entry closes nothing, and must not mark the key changed in the checkpoint.
                    let done = self.state.get(&key).map_or(0, |ss| ss.partition_point(|s| s.end <= watermark));
                    if done == 0 {
                        continue;
                    }
                    let Some(sessions) = self.state.get_mut(&key) else { continue };
                    closed.extend(sessions.drain(..done));
                    match sessions.first().map(|s| s.end) {
                        None => {
                            self.state.remove(&key);
                        }
                        // Its next session waits under its own end.
                        Some(end) => self.by_first_end.entry(end).or_default().push(key),
                    }
                }
                self.sessions -= closed.len();
                self.output(&closed.iter().collect::<Vec<_>>())?
            }
            OutputMode::Append | OutputMode::Update => self.output(&[])?,
            OutputMode::Complete => {
                let all: Vec<&Session> = self.state.values().flatten().collect();
                self.output(&all)?
            }
        };
        let total = self.sessions;
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

    fn state_tables_ref(&self) -> Vec<&dyn StateTable> {
        vec![&self.state]
    }

    fn state_loaded(&mut self) {
        self.sessions = self.state.values().map(Vec::len).sum();
        self.by_first_end.clear();
        if self.evicts {
            for (key, sessions) in self.state.iter() {
                if let Some(first) = sessions.first() {
                    self.by_first_end.entry(first.end).or_default().push(key.clone());
                }
            }
        }
        self.metrics.num_rows_total = self.sessions as u64;
    }
}

#[cfg(test)]
mod tests {
    use crate::runtime::{OutputMode, QueryDefinition, StreamingQuery};
    use crate::sql::Catalog;
    use crate::time::{format_timestamp, parse_timestamp, MAX_TIMESTAMP, MICROS_PER_SECOND};
    use crate::types::{Column, DataType, Schema};
    use serde_json::{json, Value as Json};
    #[cfg(target_arch = "wasm32")]
    use wasm_bindgen_test::wasm_bindgen_test as test;

    fn query(sql: &str, mode: OutputMode) -> StreamingQuery {
        let schema = Schema::new(vec![
            Column { name: "user".into(), data_type: DataType::String },
            Column { name: "ts".into(), data_type: DataType::Timestamp },
        ]);
        let catalog = Catalog { sources: vec![("events".into(), schema)], tables: vec![] };
        StreamingQuery::start(QueryDefinition { sql: sql.into(), output_mode: mode, catalog }).unwrap()
    }

    const COUNT_PER_SESSION: &str = "SELECT session_window(ts, '5 seconds') AS s, count(*) AS n FROM STREAM events \
        GROUP BY session_window(ts, '5 seconds')";

    fn at(seconds: i64) -> Json {
        let base = parse_timestamp("2026-01-01 00:00:00").unwrap();
        json!(["u1", format_timestamp(base + seconds * MICROS_PER_SECOND)])
    }

    /// The table's sessions as (start second, end second, count), sorted.
    fn sessions(q: &StreamingQuery) -> Vec<(i64, i64, i64)> {
        let base = parse_timestamp("2026-01-01 00:00:00").unwrap();
        let secs = |v: &Json| (parse_timestamp(v.as_str().unwrap()).unwrap() - base) / MICROS_PER_SECOND;
        let mut out: Vec<(i64, i64, i64)> =
            q.table().rows_json().iter().map(|r| (secs(&r[0]["start"]), secs(&r[0]["end"]), r[1].as_i64().unwrap())).collect();
        out.sort();
        out
    }

    #[test]
    fn a_rewritten_session_list_is_not_shown_as_evicted() {
        // Complete mode, no watermark: nothing is ever evicted, though each batch rewrites the
        // key's sessions (the second event merges into the first session, the third starts one).
        let mut q = query(COUNT_PER_SESSION, OutputMode::Complete);
        for t in [10, 12, 30] {
            q.add_json("events", &[at(t)]).unwrap();
            q.step().unwrap();
            let evicted: Vec<String> = q.state_view().iter().flat_map(|op| op.tables.iter().flat_map(|t| t.evicted.clone())).collect();
            assert!(evicted.is_empty(), "after the event at {t} s: {evicted:?}");
        }
        assert_eq!(sessions(&q), vec![(10, 17, 2), (30, 35, 1)]);
    }

    #[test]
    fn sessions_merge_the_same_whether_rows_come_in_one_batch_or_many_and_in_any_order() {
        let order = [10, 12, 30, 16, 26, 50, 21];
        let mut one = query(COUNT_PER_SESSION, OutputMode::Complete);
        one.add_json("events", &order.map(at)).unwrap();
        one.process_all_available().unwrap();
        let mut many = query(COUNT_PER_SESSION, OutputMode::Complete);
        for t in order {
            many.add_json("events", &[at(t)]).unwrap();
            many.process_all_available().unwrap();
        }
        // 21 bridges [10, 21) and [26, 35), which touch it at both ends (inclusive, as in Spark).
        assert_eq!(sessions(&one), vec![(10, 35, 6), (50, 55, 1)]);
        assert_eq!(sessions(&many), sessions(&one));
    }

    /// One key's rows at the given seconds, built directly (no JSON to parse, so the test times
    /// the operator).
    fn batch_at(seconds: impl Iterator<Item = i64>) -> arrow_array::RecordBatch {
        use arrow_array::{ArrayRef, StringArray, TimestampMicrosecondArray};
        use std::sync::Arc;
        let base = parse_timestamp("2026-01-01 00:00:00").unwrap();
        let times: Vec<i64> = seconds.map(|s| base + s * MICROS_PER_SECOND).collect();
        let users = StringArray::from(vec!["u1"; times.len()]);
        let schema = Schema::new(vec![
            Column { name: "user".into(), data_type: DataType::String },
            Column { name: "ts".into(), data_type: DataType::Timestamp },
        ]);
        arrow_array::RecordBatch::try_new(
            schema.to_arrow(),
            vec![Arc::new(users) as ArrayRef, Arc::new(TimestampMicrosecondArray::from(times)) as ArrayRef],
        )
        .unwrap()
    }

    // Append with a watermark years behind: nothing closes, so every session stays in state.
    const OPEN_SESSIONS: &str = "SELECT session_window(ts, '5 seconds') AS s, count(*) AS n FROM STREAM events \
        WATERMARK ts DELAY OF INTERVAL 3650 DAYS GROUP BY session_window(ts, '5 seconds')";

    #[test]
    fn a_hundred_thousand_sessions_on_one_key_in_one_batch_merge_in_n_log_n() {
        // Rows 10 s apart never touch; newest first, so each one lands before all the others.
        // Merging row by row scanned every session of the key for every row: 5e9 steps here.
        let n = 100_000;
        let mut q = query(OPEN_SESSIONS, OutputMode::Append);
        q.add_batch("events", batch_at((0..n).rev().map(|i| i * 10))).unwrap();
        let report = q.process_all_available().unwrap();
        assert_eq!(report.batches[0].progress.state_operators[0].num_rows_total, n as u64);
    }

    #[test]
    fn a_hundred_thousand_sessions_on_one_key_across_batches_merge_in_n_log_n() {
        let mut q = query(OPEN_SESSIONS, OutputMode::Append);
        let (batches, per_batch) = (5, 20_000);
        let mut total = 0;
        for b in 0..batches {
            // Interleaved across batches, so every batch inserts among the stored sessions.
            q.add_batch("events", batch_at((0..per_batch).map(|i| (i * batches + b) * 10))).unwrap();
            let report = q.process_all_available().unwrap();
            total = report.batches.last().unwrap().progress.state_operators[0].num_rows_total;
        }
        assert_eq!(total, (batches * per_batch) as u64);
    }

    #[test]
    fn a_session_ending_after_9999_fails_the_batch_naming_the_event_time() {
        let mut q = query(COUNT_PER_SESSION, OutputMode::Complete);
        q.add_json("events", &[json!(["u1", format_timestamp(MAX_TIMESTAMP - MICROS_PER_SECOND)])]).unwrap();
        let err = q.process_all_available().unwrap_err();
        assert_eq!(err.spark_condition, Some("DATETIME_OVERFLOW"));
        assert!(err.message.contains("9999-12-31 23:59:58.999999") && err.message.contains("5 seconds"), "{}", err.message);
    }
}
