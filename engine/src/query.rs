//! A running streaming query: plans once, then runs micro-batches over its sources with Spark's
//! batch protocol (offsets log, compute, state, sink, commit log), failure injection at each step
//! and recovery from the checkpoint.

use std::collections::BTreeMap;

use arrow_array::RecordBatch;

use crate::checkpoint::{Checkpoint, CheckpointStorage, CommitEntry, MemoryStorage, Metadata, OffsetEntry, FORMAT_VERSION};
use crate::error::{Error, ErrorKind, Result};
use crate::ops::{BatchContext, LateRow, StateOperatorProgress};
use crate::plan::checks::check_start;
use crate::plan::physical::{self, Pipeline};
use crate::progress::{DurationMs, QueryProgress, SourceProgress};
use crate::sink::{MemorySink, Sink};
use crate::source::{BadRecord, SourceLog};
use crate::sql::{analyze, AnalyzedQuery, Catalog};
use crate::time::format_timestamp;
use crate::types::Schema;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum OutputMode {
    Append,
    Update,
    Complete,
}

impl OutputMode {
    pub fn parse(s: &str) -> Option<OutputMode> {
        match s.to_ascii_lowercase().as_str() {
            "append" => Some(OutputMode::Append),
            "update" => Some(OutputMode::Update),
            "complete" => Some(OutputMode::Complete),
            _ => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            OutputMode::Append => "append",
            OutputMode::Update => "update",
            OutputMode::Complete => "complete",
        }
    }
}

/// Where a micro-batch can be made to crash, in the order a batch passes them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum FailurePoint {
    BeforeOffsetsWrite,
    AfterOffsetsWrite,
    AfterStateWrite,
    AfterSinkWrite,
}

impl FailurePoint {
    pub const ALL: [FailurePoint; 4] =
        [FailurePoint::BeforeOffsetsWrite, FailurePoint::AfterOffsetsWrite, FailurePoint::AfterStateWrite, FailurePoint::AfterSinkWrite];

    pub fn parse(s: &str) -> Option<FailurePoint> {
        FailurePoint::ALL.into_iter().find(|p| p.as_str() == s)
    }

    pub fn as_str(self) -> &'static str {
        match self {
            FailurePoint::BeforeOffsetsWrite => "before_offsets_write",
            FailurePoint::AfterOffsetsWrite => "after_offsets_write",
            FailurePoint::AfterStateWrite => "after_state_write",
            FailurePoint::AfterSinkWrite => "after_sink_write",
        }
    }
}

/// Processing time, supplied by whoever drives the query (the browser's `performance.now()`,
/// the CLI's monotonic clock, a test's fake).
pub trait Clock {
    fn now_ms(&self) -> f64;
}

/// The platform's monotonic clock; on wasm without one, a counter that advances 1 ms per read.
pub struct SystemClock {
    #[cfg(not(target_arch = "wasm32"))]
    start: std::time::Instant,
    #[cfg(target_arch = "wasm32")]
    ticks: std::cell::Cell<f64>,
}

impl Default for SystemClock {
    fn default() -> Self {
        SystemClock {
            #[cfg(not(target_arch = "wasm32"))]
            start: std::time::Instant::now(),
            #[cfg(target_arch = "wasm32")]
            ticks: std::cell::Cell::new(0.0),
        }
    }
}

impl Clock for SystemClock {
    #[cfg(not(target_arch = "wasm32"))]
    fn now_ms(&self) -> f64 {
        self.start.elapsed().as_secs_f64() * 1000.0
    }
    #[cfg(target_arch = "wasm32")]
    fn now_ms(&self) -> f64 {
        let t = self.ticks.get() + 1.0;
        self.ticks.set(t);
        t
    }
}

/// What a query is: its SQL, output mode and the sources and tables it may read.
#[derive(Debug, Clone)]
pub struct QueryDefinition {
    pub sql: String,
    pub output_mode: OutputMode,
    pub catalog: Catalog,
}

/// A bad record routed to the dead-letter output by batch `batch_id`.
#[derive(Debug, Clone, PartialEq)]
pub struct DeadLetter {
    pub batch_id: u64,
    pub record: BadRecord,
}

/// One micro-batch as it committed.
#[derive(Debug, Clone)]
pub struct BatchReport {
    pub batch_id: u64,
    /// Watermark in effect for the batch, in microseconds; None before the first one.
    pub watermark: Option<i64>,
    pub dropped_late: u64,
    pub state_rows: u64,
    pub rows: RecordBatch,
    pub bad_records: Vec<BadRecord>,
    /// Every row a stateful operator dropped as late, with why (`dropped_late` is Spark's count).
    pub late_rows: Vec<LateRow>,
    pub progress: QueryProgress,
}

/// What one `run` (process all available) did.
#[derive(Debug, Clone, Default)]
pub struct RunReport {
    pub batches: Vec<BatchReport>,
    /// Crashes injected and recovered from: (batch id, point).
    pub failures: Vec<(u64, FailurePoint)>,
}

enum BatchOutcome {
    Committed(Box<BatchReport>),
    Crashed(u64, FailurePoint),
}

/// The query's runtime: everything rebuilt from the checkpoint on restart.
struct Runtime {
    pipeline: Pipeline,
    next_batch_id: u64,
    /// End offset of the last committed batch, per source.
    committed: BTreeMap<String, u64>,
    /// An offsets entry written but never committed: re-run exactly, before anything new.
    pending: Option<OffsetEntry>,
    /// The global watermark in microseconds (0: none yet). Never moves backwards.
    watermark: i64,
    /// The watermark the last micro-batch ran with: when the global one has moved past it, a
    /// no-data batch may be due.
    last_batch_watermark: i64,
    /// Each watermark operator's own watermark; None until it has seen data since the start.
    operator_watermarks: Vec<Option<i64>>,
    last_trigger_ms: Option<f64>,
}

pub struct StreamingQuery {
    id: String,
    definition: QueryDefinition,
    analyzed: AnalyzedQuery,
    sources: Vec<SourceLog>,
    sink: MemorySink,
    checkpoint: Checkpoint,
    dead_letter: Vec<DeadLetter>,
    clock: Box<dyn Clock>,
    runtime: Runtime,
    armed: Option<FailurePoint>,
    history: Vec<QueryProgress>,
}

/// Checkpoint names of the operators, in visit order: stateful ones are numbered among
/// themselves as Spark numbers its state directories (`state/0`, `state/1`, ...), plus the
/// operator's name so a person reading the checkpoint knows whose state it is.
fn operator_ids(pipeline: &Pipeline) -> Vec<Option<String>> {
    let mut ids = Vec::new();
    let mut stateful = 0;
    pipeline.root.visit(&mut |op| {
        ids.push(op.checkpoint().map(|_| {
            stateful += 1;
            format!("{}-{}", stateful - 1, op.name())
        }));
    });
    ids
}

impl StreamingQuery {
    /// Analyses and checks the query, and starts it over fresh sources, sink and an in-memory
    /// checkpoint. A refused query returns the error and creates nothing.
    pub fn start(definition: QueryDefinition) -> Result<Self> {
        Self::start_with(definition, Box::new(MemoryStorage::new()), Box::new(SystemClock::default()))
    }

    pub fn start_with(definition: QueryDefinition, storage: Box<dyn CheckpointStorage>, clock: Box<dyn Clock>) -> Result<Self> {
        let analyzed = analyze(&definition.sql, &definition.catalog)?;
        check_start(&analyzed, definition.output_mode)?;
        let sources = definition.catalog.sources.iter().map(|(n, s)| SourceLog::new(n, s.clone())).collect();
        let id = query_id(&definition.sql);
        let mut checkpoint = Checkpoint::new(storage);
        match checkpoint.metadata()? {
            Some(m) if m.query != definition.sql || m.output_mode != definition.output_mode.as_str() => {
                return Err(Error::invalid_input(format!(
                    "the checkpoint belongs to another query (query id {}, output mode {}); start with a new checkpoint, or run that query",
                    m.id, m.output_mode
                )))
            }
            Some(_) => {}
            None => checkpoint.write_metadata(&Metadata {
                id: id.clone(),
                format_version: FORMAT_VERSION,
                query: definition.sql.clone(),
                output_mode: definition.output_mode.as_str().to_string(),
            })?,
        }
        let runtime = Self::runtime_from(&analyzed, definition.output_mode, &checkpoint)?;
        Ok(StreamingQuery {
            id,
            definition,
            analyzed,
            sources,
            sink: MemorySink::new(),
            checkpoint,
            dead_letter: Vec::new(),
            clock,
            runtime,
            armed: None,
            history: Vec::new(),
        })
    }

    /// Builds fresh operators and loads what the checkpoint holds: offsets, watermark, state.
    fn runtime_from(analyzed: &AnalyzedQuery, mode: OutputMode, checkpoint: &Checkpoint) -> Result<Runtime> {
        let pipeline = physical::build(&analyzed.plan, mode)?;
        let operator_watermarks = vec![None; pipeline.watermark_delays.len()];
        let latest = checkpoint.latest_offsets()?;
        let commit = checkpoint.latest_commit()?;
        let mut rt = Runtime {
            pipeline,
            next_batch_id: 0,
            committed: BTreeMap::new(),
            pending: None,
            watermark: 0,
            last_batch_watermark: 0,
            operator_watermarks,
            last_trigger_ms: None,
        };
        let committed_id = commit.as_ref().map(|c| c.batch_id);
        match (&latest, &commit) {
            (Some(o), c) if c.as_ref().is_none_or(|c| c.batch_id < o.batch_id) => {
                if c.as_ref().is_some_and(|c| c.batch_id + 1 != o.batch_id) {
                    return Err(Error::invalid_input(format!(
                        "the checkpoint is inconsistent: offsets/{} has no commit for batch {}; delete the checkpoint to start again",
                        o.batch_id,
                        o.batch_id.saturating_sub(1)
                    )));
                }
                rt.committed = o.sources.iter().map(|(k, (start, _))| (k.clone(), *start)).collect();
                rt.watermark = o.watermark_micros;
                rt.next_batch_id = o.batch_id;
                rt.pending = Some(o.clone());
            }
            (Some(o), Some(c)) => {
                rt.committed = o.sources.iter().map(|(k, (_, end))| (k.clone(), *end)).collect();
                rt.watermark = o.watermark_micros.max(c.next_watermark_micros);
                rt.last_batch_watermark = o.watermark_micros;
                rt.next_batch_id = c.batch_id + 1;
            }
            (None, Some(c)) => {
                return Err(Error::invalid_input(format!(
                    "the checkpoint is inconsistent: commits/{} has no offsets entry; delete the checkpoint to start again",
                    c.batch_id
                )))
            }
            _ => {}
        }
        // State is loaded at the version the last commit produced (batch N writes version N+1).
        if let Some(done) = committed_id {
            let ids = operator_ids(&rt.pipeline);
            let mut k = 0;
            rt.pipeline.root.visit_mut(&mut |op| {
                if let Some(Some(id)) = ids.get(k) {
                    let bytes = checkpoint.read_state(id, done + 1)?.ok_or_else(|| {
                        Error::invalid_input(format!(
                            "the checkpoint has no state for operator `{id}` at version {}; delete the checkpoint to start again",
                            done + 1
                        ))
                    })?;
                    op.restore(&bytes)?;
                }
                k += 1;
                Ok(())
            })?;
        }
        Ok(rt)
    }

    pub fn id(&self) -> &str {
        &self.id
    }

    pub fn output_mode(&self) -> OutputMode {
        self.definition.output_mode
    }

    pub fn schema(&self) -> &Schema {
        self.analyzed.plan.schema()
    }

    /// The output columns that identify a row of an aggregating query (see FORMAT.md's
    /// update-mode sink); None for a query without aggregation.
    pub fn update_key(&self) -> Option<&[String]> {
        self.analyzed.update_key.as_deref()
    }

    /// The incremental plan, as EXPLAIN shows it.
    pub fn explain(&self) -> String {
        self.analyzed.plan.to_string()
    }

    pub fn sink(&self) -> &MemorySink {
        &self.sink
    }

    pub fn dead_letter(&self) -> &[DeadLetter] {
        &self.dead_letter
    }

    pub fn checkpoint(&self) -> &Checkpoint {
        &self.checkpoint
    }

    pub fn history(&self) -> &[QueryProgress] {
        &self.history
    }

    pub fn watermark(&self) -> Option<i64> {
        (self.runtime.watermark > 0).then_some(self.runtime.watermark)
    }

    pub fn source(&self, name: &str) -> Option<&SourceLog> {
        self.sources.iter().find(|s| s.name().eq_ignore_ascii_case(name))
    }

    fn source_mut(&mut self, name: &str) -> Result<&mut SourceLog> {
        let known: Vec<String> = self.sources.iter().map(|s| s.name().to_string()).collect();
        self.sources.iter_mut().find(|s| s.name().eq_ignore_ascii_case(name)).ok_or_else(|| {
            Error::new(ErrorKind::UnknownTable, format!("there is no source `{name}`; the sources are: {}", known.join(", ")))
        })
    }

    /// Appends rows (JSON arrays in schema order) to a source's log. Nothing is processed yet.
    pub fn add_json(&mut self, source: &str, rows: &[serde_json::Value]) -> Result<()> {
        self.source_mut(source)?.append_json(rows)
    }

    pub fn add_batch(&mut self, source: &str, batch: RecordBatch) -> Result<()> {
        self.source_mut(source)?.append_batch(batch)
    }

    /// Arms a crash at `point` for the next micro-batch.
    pub fn inject_failure(&mut self, point: FailurePoint) {
        self.armed = Some(point);
    }

    /// Stops the query and starts it again from its checkpoint. Sources and the sink live
    /// outside the query and keep everything; operators, offsets in flight and per-input
    /// watermarks are rebuilt from what the checkpoint holds.
    pub fn restart(&mut self) -> Result<()> {
        self.runtime = Self::runtime_from(&self.analyzed, self.definition.output_mode, &self.checkpoint)?;
        Ok(())
    }

    /// Runs every available micro-batch, like Spark's `processAllAvailable()`: a batch with all
    /// new data, then any no-data batch the watermark calls for. An armed failure crashes its
    /// batch, the query recovers from the checkpoint and retries it within this call.
    pub fn process_all_available(&mut self) -> Result<RunReport> {
        let mut report = RunReport::default();
        // A retried batch can crash again only if re-armed, so this loop ends.
        loop {
            match self.run_one()? {
                None => break,
                Some(BatchOutcome::Committed(b)) => report.batches.push(*b),
                Some(BatchOutcome::Crashed(id, point)) => {
                    report.failures.push((id, point));
                    self.restart()?;
                }
            }
        }
        Ok(report)
    }

    /// Runs at most one micro-batch (the "step" trigger). Recovers from an injected crash.
    pub fn step(&mut self) -> Result<RunReport> {
        let mut report = RunReport::default();
        loop {
            match self.run_one()? {
                None => break,
                Some(BatchOutcome::Committed(b)) => {
                    report.batches.push(*b);
                    break;
                }
                Some(BatchOutcome::Crashed(id, point)) => {
                    report.failures.push((id, point));
                    self.restart()?;
                }
            }
        }
        Ok(report)
    }

    fn crash_here(&mut self, point: FailurePoint) -> bool {
        if self.armed == Some(point) {
            self.armed = None;
            return true;
        }
        false
    }

    /// Plans and runs the next micro-batch, if there is anything to do.
    fn run_one(&mut self) -> Result<Option<BatchOutcome>> {
        let started = self.clock.now_ms();
        let (entry, replay) = match self.runtime.pending.clone() {
            Some(e) => (e, true),
            None => {
                let mut ranges = BTreeMap::new();
                let mut any_new = false;
                for name in &self.runtime.pipeline.sources {
                    let start = self.runtime.committed.get(name).copied().unwrap_or(0);
                    let end = self.source(name).map(|s| s.latest_offset()).unwrap_or(start);
                    any_new |= end > start;
                    ranges.insert(name.clone(), (start, end));
                }
                // Without new data, a batch still runs when the watermark has moved since the last
                // one and an operator emits or evicts on it (Spark's no-data batch).
                let no_data_due = self.runtime.watermark > self.runtime.last_batch_watermark && self.runtime.pipeline.wants_no_data_batch();
                if !any_new && !no_data_due {
                    return Ok(None);
                }
                let entry = OffsetEntry {
                    batch_id: self.runtime.next_batch_id,
                    sources: ranges,
                    watermark_micros: self.runtime.watermark,
                    late_watermark_micros: self.runtime.last_batch_watermark,
                    batch_timestamp_ms: started,
                };
                (entry, false)
            }
        };
        let batch_id = entry.batch_id;
        if self.crash_here(FailurePoint::BeforeOffsetsWrite) {
            return Ok(Some(BatchOutcome::Crashed(batch_id, FailurePoint::BeforeOffsetsWrite)));
        }
        if !replay {
            self.checkpoint.write_offsets(&entry)?;
            self.runtime.pending = Some(entry.clone());
        }
        let wal_done = self.clock.now_ms();
        if self.crash_here(FailurePoint::AfterOffsetsWrite) {
            return Ok(Some(BatchOutcome::Crashed(batch_id, FailurePoint::AfterOffsetsWrite)));
        }
        // Read this batch's offset ranges.
        let mut inputs = Vec::with_capacity(self.runtime.pipeline.sources.len());
        let mut bad = Vec::new();
        let mut source_progress = Vec::new();
        for name in &self.runtime.pipeline.sources {
            let (start, end) = entry.sources.get(name).copied().unwrap_or((0, 0));
            let log = self.source(name).ok_or_else(|| Error::internal(format!("source {name} vanished")))?;
            let read = log.read(start, end)?;
            source_progress.push(SourceProgress {
                description: format!("MemoryStream[{name}]"),
                start_offset: start,
                end_offset: end,
                latest_offset: log.latest_offset(),
                num_input_rows: read.rows.num_rows() as u64,
            });
            bad.extend(read.bad);
            inputs.push(read.rows);
        }
        let got_batch = self.clock.now_ms();
        let mut ctx = BatchContext {
            late_rows: Vec::new(),
            sources: &inputs,
            watermark_micros: entry.watermark_micros,
            late_watermark_micros: entry.late_watermark_micros,
            max_event_time: vec![None; self.runtime.pipeline.watermark_delays.len()],
        };
        let rows = self.runtime.pipeline.root.execute(&mut ctx).map_err(|e| e.in_phase(crate::error::Phase::Batch))?;
        let max_event_time = ctx.max_event_time;
        let late_rows = ctx.late_rows;
        // State version N+1 for every stateful operator.
        let ids = operator_ids(&self.runtime.pipeline);
        let mut states = Vec::new();
        let mut state_ops: Vec<StateOperatorProgress> = Vec::new();
        let mut k = 0;
        self.runtime.pipeline.root.visit(&mut |op| {
            if let (Some(Some(id)), Some(bytes)) = (ids.get(k), op.checkpoint()) {
                states.push((id.clone(), bytes));
            }
            if let Some(p) = op.state_progress() {
                state_ops.push(p);
            }
            k += 1;
        });
        for (id, bytes) in &states {
            self.checkpoint.write_state(id, batch_id + 1, bytes)?;
            // Keep the version a restart needs and the one before it.
            self.checkpoint.clean_state(id, batch_id.saturating_sub(1))?;
        }
        if self.crash_here(FailurePoint::AfterStateWrite) {
            return Ok(Some(BatchOutcome::Crashed(batch_id, FailurePoint::AfterStateWrite)));
        }
        self.sink.commit(batch_id, &rows)?;
        for record in &bad {
            if !self.dead_letter.iter().any(|d| d.record.source == record.source && d.record.offset == record.offset) {
                self.dead_letter.push(DeadLetter { batch_id, record: record.clone() });
            }
        }
        let added = self.clock.now_ms();
        if self.crash_here(FailurePoint::AfterSinkWrite) {
            return Ok(Some(BatchOutcome::Crashed(batch_id, FailurePoint::AfterSinkWrite)));
        }
        // The watermark computed from this batch takes effect from the next one.
        let next_watermark = self.advance_watermark(&max_event_time);
        self.checkpoint.write_commit(&CommitEntry { batch_id, next_watermark_micros: next_watermark })?;
        let finished = self.clock.now_ms();
        self.runtime.committed = entry.sources.iter().map(|(k, (_, end))| (k.clone(), *end)).collect();
        self.runtime.next_batch_id = batch_id + 1;
        self.runtime.pending = None;
        self.runtime.watermark = next_watermark;
        self.runtime.last_batch_watermark = entry.watermark_micros;

        let num_input_rows: u64 = inputs.iter().map(|b| b.num_rows() as u64).sum();
        let since_last = self.runtime.last_trigger_ms.map(|t| started - t).unwrap_or(0.0);
        self.runtime.last_trigger_ms = Some(started);
        let total = finished - started;
        let per_second = |rows: u64, ms: f64| if ms > 0.0 { rows as f64 * 1000.0 / ms } else { 0.0 };
        let mut event_time = BTreeMap::new();
        if entry.watermark_micros > 0 {
            event_time.insert("watermark".to_string(), format_timestamp(entry.watermark_micros));
        }
        if let Some(max) = max_event_time.iter().flatten().max() {
            event_time.insert("max".to_string(), format_timestamp(*max));
        }
        let progress = QueryProgress {
            id: self.id.clone(),
            batch_id,
            timestamp_ms: entry.batch_timestamp_ms,
            num_input_rows,
            input_rows_per_second: per_second(num_input_rows, since_last),
            processed_rows_per_second: per_second(num_input_rows, total),
            duration_ms: DurationMs {
                latest_offset: 0.0,
                get_batch: got_batch - wal_done,
                query_planning: 0.0,
                add_batch: added - got_batch,
                wal_commit: wal_done - started,
                commit_offsets: finished - added,
                trigger_execution: total,
            },
            event_time,
            state_operators: state_ops.clone(),
            sources: source_progress,
            num_output_rows: rows.num_rows() as u64,
            num_bad_records: bad.len() as u64,
        };
        self.history.push(progress.clone());
        Ok(Some(BatchOutcome::Committed(Box::new(BatchReport {
            batch_id,
            watermark: (entry.watermark_micros > 0).then_some(entry.watermark_micros),
            dropped_late: state_ops.iter().map(|s| s.num_rows_dropped_by_watermark).sum(),
            state_rows: state_ops.iter().map(|s| s.num_rows_total).sum(),
            rows,
            bad_records: bad,
            late_rows,
            progress,
        }))))
    }

    /// Spark's watermark rule: each watermark operator proposes (max event time seen) - delay,
    /// truncated to milliseconds; the global watermark is the minimum over operators, moves only
    /// once every operator has seen data, never goes backwards and never below 0.
    fn advance_watermark(&mut self, max_event_time: &[Option<i64>]) -> i64 {
        let rt = &mut self.runtime;
        for (k, max) in max_event_time.iter().enumerate() {
            if let Some(max) = max {
                let proposal = (max.div_euclid(1000) * 1000) - rt.pipeline.watermark_delays[k];
                let slot = &mut rt.operator_watermarks[k];
                *slot = Some(slot.map_or(proposal, |s| s.max(proposal)));
            }
        }
        if rt.operator_watermarks.is_empty() || rt.operator_watermarks.iter().any(Option::is_none) {
            return rt.watermark;
        }
        let min = rt.operator_watermarks.iter().flatten().copied().min().unwrap_or(0);
        rt.watermark.max(min).max(0)
    }
}

/// A stable id for a query text: the same query gets the same checkpoint identity.
fn query_id(sql: &str) -> String {
    // FNV-1a: tiny, stable across platforms and releases.
    let mut h: u64 = 0xcbf29ce484222325;
    for b in sql.bytes() {
        h ^= b as u64;
        h = h.wrapping_mul(0x100000001b3);
    }
    format!("{h:016x}")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::types::{Column, DataType};
    use serde_json::json;
    use std::cell::Cell;
    use std::rc::Rc;
    #[cfg(target_arch = "wasm32")]
    use wasm_bindgen_test::wasm_bindgen_test as test;

    /// A clock the test moves by hand.
    #[derive(Clone, Default)]
    struct FakeClock(Rc<Cell<f64>>);

    impl Clock for FakeClock {
        fn now_ms(&self) -> f64 {
            self.0.get()
        }
    }

    fn definition(sql: &str) -> QueryDefinition {
        let schema = Schema::new(vec![
            Column { name: "id".into(), data_type: DataType::Int },
            Column { name: "ts".into(), data_type: DataType::Timestamp },
        ]);
        QueryDefinition {
            sql: sql.into(),
            output_mode: OutputMode::Append,
            catalog: Catalog { sources: vec![("events".into(), schema)], tables: vec![] },
        }
    }

    fn rows(ids: &[i32]) -> Vec<serde_json::Value> {
        ids.iter().map(|i| json!([i, format!("2026-01-01 00:00:{:02}", i % 60)])).collect()
    }

    fn sink_ids(q: &StreamingQuery) -> Vec<i64> {
        q.sink().versions().iter().flat_map(|v| crate::scenario::rows_json(&v.rows)).map(|r| r[0].as_i64().unwrap()).collect()
    }

    #[test]
    fn every_failure_point_recovers_exactly_once() {
        for point in FailurePoint::ALL {
            let mut q = StreamingQuery::start(definition("SELECT id FROM STREAM events WHERE id % 2 = 1")).unwrap();
            q.add_json("events", &rows(&[1, 2, 3])).unwrap();
            q.process_all_available().unwrap();
            q.add_json("events", &rows(&[5, 6, 7])).unwrap();
            q.inject_failure(point);
            let report = q.process_all_available().unwrap();
            assert_eq!(report.failures, vec![(1, point)], "{point:?}");
            assert_eq!(report.batches.len(), 1, "{point:?}: the retried batch is reported once");
            assert_eq!(report.batches[0].batch_id, 1);
            assert_eq!(sink_ids(&q), vec![1, 3, 5, 7], "{point:?}: nothing lost, nothing duplicated");
            assert_eq!(q.sink().versions().len(), 2, "{point:?}");
            let expect_skip = u64::from(point == FailurePoint::AfterSinkWrite);
            assert_eq!(q.sink().skipped_replays(), expect_skip, "{point:?}: only a batch the sink already has is skipped");
        }
    }

    #[test]
    fn restart_resumes_after_the_last_commit() {
        let mut q = StreamingQuery::start(definition("SELECT id FROM STREAM events")).unwrap();
        q.add_json("events", &rows(&[1, 2])).unwrap();
        q.process_all_available().unwrap();
        q.restart().unwrap();
        q.add_json("events", &rows(&[3])).unwrap();
        let r = q.process_all_available().unwrap();
        assert_eq!(r.batches.iter().map(|b| b.batch_id).collect::<Vec<_>>(), vec![1]);
        assert_eq!(sink_ids(&q), vec![1, 2, 3]);
        // Nothing new: a restart runs no batch.
        q.restart().unwrap();
        assert!(q.process_all_available().unwrap().batches.is_empty());
    }

    #[test]
    fn an_uncommitted_batch_is_replayed_with_the_same_offsets() {
        let mut q = StreamingQuery::start(definition("SELECT id FROM STREAM events")).unwrap();
        q.add_json("events", &rows(&[1, 2])).unwrap();
        q.inject_failure(FailurePoint::AfterStateWrite);
        // A crash outside process_all_available: the query is stopped mid-batch.
        assert!(matches!(q.run_one().unwrap(), Some(BatchOutcome::Crashed(0, FailurePoint::AfterStateWrite))));
        // More data arrives before the restart; the replayed batch 0 must not take it.
        q.add_json("events", &rows(&[3])).unwrap();
        q.restart().unwrap();
        let r = q.process_all_available().unwrap();
        let per_batch: Vec<(u64, usize)> = r.batches.iter().map(|b| (b.batch_id, b.rows.num_rows())).collect();
        assert_eq!(per_batch, vec![(0, 2), (1, 1)]);
    }

    #[test]
    fn the_checkpoint_is_laid_out_like_sparks() {
        let mut q = StreamingQuery::start(definition("SELECT id FROM STREAM events LIMIT 5")).unwrap();
        q.add_json("events", &rows(&[1])).unwrap();
        q.process_all_available().unwrap();
        let storage = q.checkpoint().storage();
        assert!(storage.read("metadata").unwrap().is_some());
        assert_eq!(storage.list("offsets").unwrap(), vec!["0"]);
        assert_eq!(storage.list("commits").unwrap(), vec!["0"]);
        assert_eq!(storage.list("state").unwrap(), vec!["0-globalLimit"]);
        let offsets = String::from_utf8(storage.read("offsets/0").unwrap().unwrap()).unwrap();
        assert!(offsets.starts_with("v1\n"), "{offsets}");
        assert!(offsets.contains("\"events\":[0,1]"), "{offsets}");
    }

    #[test]
    fn a_foreign_checkpoint_is_refused() {
        let mut first = StreamingQuery::start(definition("SELECT id FROM STREAM events")).unwrap();
        first.add_json("events", &rows(&[1])).unwrap();
        first.process_all_available().unwrap();
        let mut storage = MemoryStorage::new();
        for dir in ["offsets", "commits"] {
            for n in first.checkpoint().storage().list(dir).unwrap() {
                let path = format!("{dir}/{n}");
                storage.write(&path, &first.checkpoint().storage().read(&path).unwrap().unwrap()).unwrap();
            }
        }
        storage.write("metadata", &first.checkpoint().storage().read("metadata").unwrap().unwrap()).unwrap();
        let err =
            StreamingQuery::start_with(definition("SELECT ts FROM STREAM events"), Box::new(storage), Box::new(SystemClock::default()))
                .err()
                .unwrap();
        assert_eq!(err.kind, ErrorKind::InvalidInput);
        assert!(err.message.contains("belongs to another query"), "{}", err.message);
    }

    #[test]
    fn a_refused_query_creates_nothing() {
        let err =
            StreamingQuery::start(QueryDefinition { output_mode: OutputMode::Complete, ..definition("SELECT id FROM STREAM events") })
                .err()
                .unwrap();
        assert_eq!(err.kind, ErrorKind::UnsupportedOutputMode);
    }

    #[test]
    fn the_watermark_follows_the_max_event_time_from_the_next_batch_on() {
        let mut q = StreamingQuery::start(definition("SELECT id FROM STREAM events WATERMARK ts DELAY OF INTERVAL 10 SECONDS")).unwrap();
        q.add_json("events", &rows(&[30])).unwrap();
        let b0 = q.process_all_available().unwrap();
        assert_eq!(b0.batches[0].watermark, None);
        q.add_json("events", &rows(&[5])).unwrap();
        let b1 = q.process_all_available().unwrap();
        assert_eq!(b1.batches[0].watermark.map(crate::time::format_timestamp).as_deref(), Some("2026-01-01 00:00:20"));
        // An older event does not move it back; the row is not dropped by a stateless query.
        assert_eq!(b1.batches[0].rows.num_rows(), 1);
        q.add_json("events", &rows(&[6])).unwrap();
        let b2 = q.process_all_available().unwrap();
        assert_eq!(b2.batches[0].watermark.map(crate::time::format_timestamp).as_deref(), Some("2026-01-01 00:00:20"));
    }

    #[test]
    fn progress_uses_the_callers_clock() {
        let clock = FakeClock::default();
        let mut q =
            StreamingQuery::start_with(definition("SELECT id FROM STREAM events"), Box::new(MemoryStorage::new()), Box::new(clock.clone()))
                .unwrap();
        q.add_json("events", &rows(&[1, 2, 3, 4])).unwrap();
        clock.0.set(1000.0);
        q.process_all_available().unwrap();
        q.add_json("events", &rows(&[5, 6])).unwrap();
        clock.0.set(3000.0);
        let p = &q.process_all_available().unwrap().batches[0].progress;
        assert_eq!((p.batch_id, p.num_input_rows, p.timestamp_ms), (1, 2, 3000.0));
        assert_eq!(p.input_rows_per_second, 1.0, "2 rows over the 2 s since the previous trigger");
        assert_eq!(p.sources[0].start_offset, 4);
        assert_eq!(p.sources[0].end_offset, 6);
    }

    #[test]
    fn a_processing_time_trigger_runs_a_batch_per_interval() {
        let mut q = StreamingQuery::start(definition("SELECT id FROM STREAM events")).unwrap();
        let mut trigger = crate::trigger::ProcessingTimeTrigger::new(1000.0);
        q.add_json("events", &rows(&[1])).unwrap();
        assert_eq!(trigger.tick(&mut q, 0.0).unwrap().batches.len(), 1);
        q.add_json("events", &rows(&[2])).unwrap();
        assert_eq!(trigger.tick(&mut q, 500.0).unwrap().batches.len(), 0, "not due yet: the event waits");
        assert_eq!(trigger.tick(&mut q, 1000.0).unwrap().batches.len(), 1);
        assert_eq!(sink_ids(&q), vec![1, 2]);
    }
}
