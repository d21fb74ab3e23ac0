//! A running streaming query: plans once, then runs micro-batches over its sources with Spark's
//! batch protocol (offsets log, compute, state, sink, commit log), failure injection at each step
//! and recovery from the checkpoint.

use std::collections::BTreeMap;

use arrow_array::RecordBatch;

use crate::checkpoint::{Checkpoint, CheckpointError, CommitEntry, DeadLetterEntry, Metadata, OffsetEntry};
use crate::error::{Error, ErrorKind, Result};
use crate::ops::{BatchContext, LateRow, StateOperatorProgress, Watermarks};
use crate::plan::checks::check_start;
use crate::plan::physical::{self, Pipeline};
use crate::progress::{DurationMs, QueryProgress, SourceProgress};
use crate::sink::{BatchWrite, FileSink, Sink, TableSink};
use crate::source::{BadRecord, SourceLog};
use crate::sql::{analyze, AnalyzedQuery, Catalog};
use crate::state::{StateLimits, StateStoreConfig, VersionedTable};
use crate::storage::SharedStorage;
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

/// Where and how a query keeps what must survive it.
pub struct QueryOptions {
    /// Holds the checkpoint (`checkpoint/`), the transactional table (`tables/sink/`) and the
    /// at-least-once file (`files/sink/`).
    pub storage: SharedStorage,
    pub clock: Box<dyn Clock>,
    pub state_store: StateStoreConfig,
    pub limits: StateLimits,
}

impl Default for QueryOptions {
    fn default() -> Self {
        QueryOptions {
            storage: SharedStorage::memory(),
            clock: Box::new(SystemClock::default()),
            state_store: StateStoreConfig::default(),
            limits: StateLimits::default(),
        }
    }
}

/// The name of the query's sinks, as a table and as a file.
pub const SINK_NAME: &str = "sink";

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
    /// Whether the transactional table skipped the batch as one it had committed before.
    pub skipped_by_table: bool,
}

/// What a person sees of one state table: its size, its first entries and what the last
/// batch evicted.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct TableView {
    pub name: String,
    pub rows: u64,
    pub bytes: u64,
    /// The first entries, in key order, as JSON.
    pub sample: Vec<String>,
    /// Entries the last batch removed (the first few), as JSON.
    pub evicted: Vec<String>,
}

/// One stateful operator's state, for the page.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct StateView {
    /// Its checkpoint name, `0-stateStoreSave`.
    pub operator: String,
    pub tables: Vec<TableView>,
}

/// How many entries of each state table a view shows.
pub const STATE_SAMPLE: usize = 50;

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
    definition: QueryDefinition,
    analyzed: AnalyzedQuery,
    sources: Vec<SourceLog>,
    storage: SharedStorage,
    checkpoint: Checkpoint,
    metadata: Metadata,
    table: TableSink,
    file: FileSink,
    dead_letter: Vec<DeadLetter>,
    clock: Box<dyn Clock>,
    state_store: StateStoreConfig,
    limits: StateLimits,
    runtime: Runtime,
    armed: Option<FailurePoint>,
    history: Vec<QueryProgress>,
}

/// A new id for a new checkpoint: the query text, the time and a counter, hashed (FNV-1a:
/// tiny and stable), so two checkpoints of one query still differ, as in Spark.
fn new_query_id(sql: &str, now_ms: f64) -> String {
    use std::sync::atomic::{AtomicU64, Ordering};
    static STARTED: AtomicU64 = AtomicU64::new(0);
    let salt = STARTED.fetch_add(1, Ordering::Relaxed);
    let mut h: u64 = 0xcbf29ce484222325;
    for b in sql.bytes().chain(now_ms.to_bits().to_le_bytes()).chain(salt.to_le_bytes()) {
        h ^= b as u64;
        h = h.wrapping_mul(0x100000001b3);
    }
    format!("{h:016x}")
}

/// The sink table holds every batch the checkpoint says committed (it is written first) and
/// none past the last one planned: otherwise the two are not one query's.
fn check_sink(table: &TableSink, id: &str, rt: &Runtime) -> Result<()> {
    let planned = rt.pending.as_ref().map_or(rt.next_batch_id.checked_sub(1), |p| Some(p.batch_id));
    let committed = match &rt.pending {
        Some(p) => p.batch_id.checked_sub(1),
        None => planned,
    };
    let written = table.last_batch_id(id);
    let detail = match (committed, written) {
        (Some(c), None) => format!("the checkpoint says batch {c} committed, but the sink table holds no batch of this query"),
        (Some(c), Some(w)) if w < c => {
            format!("the checkpoint says batch {c} committed, but the sink table holds its batches only up to {w}")
        }
        (_, Some(w)) if planned.is_none_or(|p| w > p) => match planned {
            Some(p) => format!("the sink table holds batch {w}, past the checkpoint's last batch {p}"),
            None => format!("the sink table holds batches up to {w}, but the checkpoint has none"),
        },
        _ => return Ok(()),
    };
    Err(CheckpointError::SinkMismatch { id: id.to_string(), detail }.into())
}

impl StreamingQuery {
    /// Analyses and checks the query, and starts it over fresh sources, sinks and an in-memory
    /// checkpoint. A refused query returns the error and creates nothing.
    pub fn start(definition: QueryDefinition) -> Result<Self> {
        Self::start_with(definition, QueryOptions::default())
    }

    /// Starts the query over `options.storage`: from its checkpoint when it holds one for this
    /// query, or a new one. A checkpoint of another query is refused and left untouched.
    pub fn start_with(definition: QueryDefinition, options: QueryOptions) -> Result<Self> {
        let analyzed = analyze(&definition.sql, &definition.catalog)?;
        check_start(&analyzed, definition.output_mode)?;
        let sources: Vec<SourceLog> = definition.catalog.sources.iter().map(|(n, s)| SourceLog::new(n, s.clone())).collect();
        let pipeline = physical::build(&analyzed.plan, definition.output_mode)?;
        let expected = Metadata {
            id: new_query_id(&definition.sql, options.clock.now_ms()),
            state_layout: crate::state::STATE_LAYOUT,
            query: definition.sql.clone(),
            output_mode: definition.output_mode.as_str().to_string(),
            sources: pipeline
                .sources
                .iter()
                .filter_map(|name| sources.iter().find(|s| s.name() == name))
                .map(|s| (s.name().to_string(), s.schema().columns.iter().map(|c| (c.name.clone(), c.data_type.to_string())).collect()))
                .collect(),
            operators: {
                let mut operators = Vec::new();
                pipeline.root.visit_stateful(&mut |id, op| operators.push(format!("{id}[{}]", op.state_table_names().join(","))));
                operators
            },
        };
        let mut checkpoint = Checkpoint::new(Box::new(options.storage.scoped("checkpoint")));
        let metadata = checkpoint.open(&expected)?;
        let names = analyzed.plan.schema().names();
        let key = analyzed.update_key.as_ref().map(|k| k.iter().filter_map(|c| names.iter().position(|n| n == c)).collect());
        let table = TableSink::open(SINK_NAME, options.storage.scoped(&format!("tables/{SINK_NAME}")), definition.output_mode, key)?;
        let file = FileSink::open(SINK_NAME, options.storage.scoped(&format!("files/{SINK_NAME}")))?;
        let runtime = Self::runtime_from(pipeline, &checkpoint, &metadata, options.state_store)?;
        check_sink(&table, &metadata.id, &runtime)?;
        let dead_letter = Self::dead_letters_from(&checkpoint)?;
        Ok(StreamingQuery {
            definition,
            analyzed,
            sources,
            storage: options.storage,
            checkpoint,
            metadata,
            table,
            file,
            dead_letter,
            clock: options.clock,
            state_store: options.state_store,
            limits: options.limits,
            runtime,
            armed: None,
            history: Vec::new(),
        })
    }

    /// Every stateful operator's state as of the last batch or restart, read when asked for
    /// (a sample of values is serialised to JSON, which no micro-batch needs).
    pub fn state_view(&self) -> Vec<StateView> {
        let mut views = Vec::new();
        self.runtime.pipeline.root.visit_stateful(&mut |id, op| {
            let tables = op
                .state_table_names()
                .iter()
                .zip(op.state_tables_ref())
                .map(|(name, t)| TableView {
                    name: name.to_string(),
                    rows: t.rows(),
                    bytes: t.bytes(),
                    sample: t.sample(STATE_SAMPLE),
                    evicted: t.evicted().to_vec(),
                })
                .collect();
            views.push(StateView { operator: id.to_string(), tables });
        });
        views
    }

    fn dead_letters_from(checkpoint: &Checkpoint) -> Result<Vec<DeadLetter>> {
        let mut out = Vec::new();
        for (batch_id, entries) in checkpoint.dead_letters()? {
            out.extend(entries.into_iter().map(|e| DeadLetter {
                batch_id,
                record: BadRecord { source: e.source, offset: e.offset, row: e.row, column: e.column, reason: e.reason },
            }));
        }
        Ok(out)
    }

    /// Loads what the checkpoint holds into freshly built operators: offsets, watermark, state.
    /// Everything is read before anything is applied, so a damaged checkpoint changes nothing.
    fn runtime_from(mut pipeline: Pipeline, checkpoint: &Checkpoint, metadata: &Metadata, config: StateStoreConfig) -> Result<Runtime> {
        let recovery = checkpoint.recover(metadata)?;
        // State is loaded at the version the last commit produced (batch N writes version N+1).
        let version = recovery.commit.as_ref().map_or(0, |c| c.batch_id + 1);
        // Every table is read before any operator is touched.
        let mut loaded = Vec::new();
        pipeline.root.visit_stateful(&mut |id, op| {
            for table in op.state_table_names() {
                loaded.push(VersionedTable { dir: format!("state/{id}/{table}"), config }.load(checkpoint.storage(), version));
            }
        });
        let mut loaded = loaded.into_iter();
        pipeline.root.visit_stateful_mut(&mut |id, op| {
            let damaged = |detail| Error::from(CheckpointError::Damaged { path: format!("state/{id} (version {version})"), detail });
            for table in op.state_tables() {
                let entries = loaded.next().transpose()?.unwrap_or_default();
                table.load(entries).map_err(damaged)?;
            }
            op.check_state().map_err(damaged)?;
            op.state_loaded();
            Ok(())
        })?;
        let mut rt = Runtime {
            operator_watermarks: vec![None; pipeline.watermark_delays.len()],
            pipeline,
            next_batch_id: 0,
            committed: BTreeMap::new(),
            pending: None,
            watermark: 0,
            last_batch_watermark: 0,
            last_trigger_ms: None,
        };
        if let (Some(c), Some(o)) = (&recovery.commit, &recovery.committed_offsets) {
            rt.committed = o.sources.iter().map(|(k, (_, end))| (k.clone(), *end)).collect();
            rt.watermark = o.watermark_micros.max(c.next_watermark_micros);
            rt.last_batch_watermark = o.watermark_micros;
            rt.next_batch_id = c.batch_id + 1;
        }
        if let Some(p) = recovery.pending {
            rt.committed = p.sources.iter().map(|(k, (start, _))| (k.clone(), *start)).collect();
            rt.watermark = p.watermark_micros;
            rt.next_batch_id = p.batch_id;
            rt.pending = Some(p);
        }
        Ok(rt)
    }

    /// The query's id, kept in the checkpoint's metadata: the same across restarts, new with a
    /// new checkpoint.
    pub fn id(&self) -> &str {
        &self.metadata.id
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

    /// The query's time window (`window(ts, size, slide)`), when it groups by one.
    pub fn window_spec(&self) -> Option<crate::plan::logical::WindowSpec> {
        let mut stack = vec![&self.analyzed.plan];
        while let Some(p) = stack.pop() {
            if let crate::plan::logical::LogicalPlan::WindowAssign { window, .. } = p {
                return Some(*window);
            }
            stack.extend(p.children());
        }
        None
    }

    /// How far behind the query's watermark the time window's aggregation closes windows: a
    /// stream-stream join below it hands it its output watermark, which lags the input's.
    pub fn window_watermark_lag(&self) -> i64 {
        use crate::plan::logical::LogicalPlan;
        fn join_lag(p: &LogicalPlan) -> Option<i64> {
            match p {
                LogicalPlan::StreamJoin { spec, .. } => spec.output_watermark_lag(),
                _ => p.children().into_iter().find_map(join_lag),
            }
        }
        fn window_lag(p: &LogicalPlan) -> Option<i64> {
            match p {
                LogicalPlan::WindowAssign { .. } => Some(join_lag(p).unwrap_or(0)),
                _ => p.children().into_iter().find_map(window_lag),
            }
        }
        window_lag(&self.analyzed.plan).unwrap_or(0)
    }

    /// The incremental plan, as EXPLAIN shows it.
    pub fn explain(&self) -> String {
        self.analyzed.plan.to_string()
    }

    /// The transactional, idempotent table the query writes.
    pub fn table(&self) -> &TableSink {
        &self.table
    }

    /// The at-least-once file the query writes beside it.
    pub fn file(&self) -> &FileSink {
        &self.file
    }

    /// Everything the query keeps: `checkpoint/`, `tables/`, `files/`.
    pub fn storage(&self) -> &SharedStorage {
        &self.storage
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

    /// A batch whose offsets were written but that never committed: the next run re-runs it.
    pub fn pending_batch(&self) -> Option<u64> {
        self.runtime.pending.as_ref().map(|p| p.batch_id)
    }

    /// How far the query has read `source`: the end offset of its last committed batch.
    pub fn committed_offset(&self, source: &str) -> Option<u64> {
        self.runtime.committed.iter().find(|(k, _)| k.eq_ignore_ascii_case(source)).map(|(_, v)| *v)
    }

    /// Whether the query reads `source` (a session may declare streams its query does not use).
    pub fn reads(&self, source: &str) -> bool {
        self.runtime.pipeline.sources.iter().any(|s| s.eq_ignore_ascii_case(source))
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
        let pipeline = physical::build(&self.analyzed.plan, self.definition.output_mode)?;
        self.runtime = Self::runtime_from(pipeline, &self.checkpoint, &self.metadata, self.state_store)?;
        self.dead_letter = Self::dead_letters_from(&self.checkpoint)?;
        Ok(())
    }

    /// Deletes the checkpoint and starts the query from scratch under a new id, as Spark does
    /// with a new checkpoint location: every source is read again from offset 0. The sinks keep
    /// what they hold, so the whole history is written to them again.
    pub fn lose_checkpoint(&mut self) -> Result<()> {
        self.checkpoint.storage_mut().delete_all("").map_err(Error::from)?;
        let fresh = Metadata { id: new_query_id(&self.definition.sql, self.clock.now_ms()), ..self.metadata.clone() };
        self.metadata = self.checkpoint.open(&fresh)?;
        self.restart()
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

    /// Runs at most one micro-batch and, when an armed failure crashes it, leaves the query
    /// stopped at that point instead of recovering: what a closed tab or a killed process
    /// leaves behind. Returns whether the batch crashed.
    pub fn step_without_recovery(&mut self) -> Result<bool> {
        Ok(matches!(self.run_one()?, Some(BatchOutcome::Crashed(..))))
    }

    fn crash_here(&mut self, point: FailurePoint) -> bool {
        if self.armed == Some(point) {
            self.armed = None;
            return true;
        }
        false
    }

    /// The first source holding fewer records than the checkpoint says were read (or, for a
    /// planned batch, will be read): `(source, offset, the source's end)`.
    fn source_behind(&self) -> Option<(String, u64, u64)> {
        self.runtime.pipeline.sources.iter().find_map(|name| {
            let read = match &self.runtime.pending {
                Some(p) => p.sources.get(name).map_or(0, |r| r.1),
                None => self.runtime.committed.get(name).copied().unwrap_or(0),
            };
            let end = self.source(name).map_or(0, SourceLog::latest_offset);
            (end < read).then(|| (name.clone(), read, end))
        })
    }

    /// Whether a source still holds fewer records than the checkpoint says were read: true
    /// after resuming in a new process until the sources are filled again (the CLI's `add`
    /// steps refill them as they go). No batch runs meanwhile.
    pub fn replaying(&self) -> bool {
        self.source_behind().is_some()
    }

    /// Refuses to go on while a source holds fewer records than the checkpoint says were read:
    /// the checkpoint is wrong (or the records are gone), and going on would take the records
    /// that come next as read.
    pub fn check_sources(&self) -> Result<()> {
        match self.source_behind() {
            Some((source, offset, end)) => Err(CheckpointError::OffsetsPastSource { source, offset, end }.into()),
            None => Ok(()),
        }
    }

    /// Plans and runs the next micro-batch, if there is anything to do.
    fn run_one(&mut self) -> Result<Option<BatchOutcome>> {
        self.check_sources()?;
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
                    conf: self.conf(),
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
            watermarks: Watermarks { eviction: entry.watermark_micros, late: entry.late_watermark_micros },
            max_event_time: vec![None; self.runtime.pipeline.watermark_delays.len()],
        };
        let rows = self.runtime.pipeline.root.execute(&mut ctx).map_err(|e| e.in_phase(crate::error::Phase::Batch))?.rows;
        let max_event_time = ctx.max_event_time;
        let late_rows = ctx.late_rows;
        // State version N+1 of every stateful operator's tables.
        let mut state_ops = self.write_state(batch_id + 1)?;
        if self.crash_here(FailurePoint::AfterStateWrite) {
            return Ok(Some(BatchOutcome::Crashed(batch_id, FailurePoint::AfterStateWrite)));
        }
        // Dead letters are kept with the checkpoint, by batch, before the sinks see the batch.
        if !bad.is_empty() {
            let entries: Vec<DeadLetterEntry> = bad
                .iter()
                .map(|r| DeadLetterEntry {
                    source: r.source.clone(),
                    offset: r.offset,
                    row: r.row.clone(),
                    column: r.column.clone(),
                    reason: r.reason.clone(),
                })
                .collect();
            self.checkpoint.write_dead_letters(batch_id, &entries)?;
            for record in &bad {
                if !self.dead_letter.iter().any(|d| d.record.source == record.source && d.record.offset == record.offset) {
                    self.dead_letter.push(DeadLetter { batch_id, record: record.clone() });
                }
            }
        }
        let write = BatchWrite { query_id: &self.metadata.id, batch_id, rows: &rows };
        let skipped_by_table = !self.table.write(&write)?;
        self.file.write(&write)?;
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
            id: self.metadata.id.clone(),
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
            state_operators: std::mem::take(&mut state_ops),
            sources: source_progress,
            num_output_rows: rows.num_rows() as u64,
            num_bad_records: bad.len() as u64,
        };
        self.history.push(progress.clone());
        Ok(Some(BatchOutcome::Committed(Box::new(BatchReport {
            batch_id,
            watermark: (entry.watermark_micros > 0).then_some(entry.watermark_micros),
            dropped_late: progress.state_operators.iter().map(|s| s.num_rows_dropped_by_watermark).sum(),
            state_rows: progress.state_operators.iter().map(|s| s.num_rows_total).sum(),
            skipped_by_table,
            rows,
            bad_records: bad,
            late_rows,
            progress,
        }))))
    }

    /// The settings recorded with every batch's offsets.
    fn conf(&self) -> BTreeMap<String, String> {
        [
            ("spark.sql.streaming.multipleWatermarkPolicy", "min".to_string()),
            ("spark.sql.streaming.stateStore.providerClass", "unbounded.VersionedTable (delta + snapshot, postcard)".to_string()),
            ("spark.sql.streaming.stateStore.minDeltasForSnapshot", self.state_store.snapshot_interval.to_string()),
            ("spark.sql.streaming.minBatchesToRetain", self.state_store.versions_to_retain.to_string()),
            ("unbounded.state.maxRows", self.limits.max_rows.to_string()),
            ("unbounded.state.maxBytes", self.limits.max_bytes.to_string()),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_string(), v))
        .collect()
    }

    /// Writes `version` of every stateful operator's tables and returns the operators' progress,
    /// with the state's size as written. State over the query's limits stops the query here,
    /// before the sinks see the batch.
    fn write_state(&mut self, version: u64) -> Result<Vec<StateOperatorProgress>> {
        let config = self.state_store;
        let storage = self.checkpoint.storage_mut();
        let mut progress = Vec::new();
        let mut owners = Vec::new();
        self.runtime.pipeline.root.visit_stateful_mut(&mut |id, op| {
            let mut bytes = 0;
            for (name, table) in op.state_table_names().iter().zip(op.state_tables()) {
                VersionedTable { dir: format!("state/{id}/{name}"), config }.commit(storage, version, table)?;
                bytes += table.bytes();
            }
            if let Some(mut p) = op.state_progress() {
                p.memory_used_bytes = bytes;
                progress.push(p);
                owners.push(id.to_string());
            }
            Ok(())
        })?;
        self.check_limits(&owners, &progress)?;
        Ok(progress)
    }

    /// `owners[k]` names the operator of `progress[k]`.
    fn check_limits(&self, owners: &[String], progress: &[StateOperatorProgress]) -> Result<()> {
        let rows: u64 = progress.iter().map(|p| p.num_rows_total).sum();
        let bytes: u64 = progress.iter().map(|p| p.memory_used_bytes).sum();
        let limits = self.limits;
        if rows <= limits.max_rows && bytes <= limits.max_bytes {
            return Ok(());
        }
        let Some((k, biggest)) = progress.iter().enumerate().max_by_key(|(_, p)| (p.num_rows_total, p.memory_used_bytes)) else {
            return Ok(());
        };
        let id = owners.get(k).cloned().unwrap_or_else(|| biggest.operator_name.clone());
        let (what, limit) = if rows > limits.max_rows {
            (format!("{rows} rows"), format!("{} rows", limits.max_rows))
        } else {
            (format!("{bytes} bytes"), format!("{} bytes", limits.max_bytes))
        };
        let advice = if self.analyzed.plan.has_watermark() {
            "a shorter watermark delay (WATERMARK ts DELAY OF ...) or a smaller window lets it forget sooner"
        } else {
            "add a watermark (FROM STREAM src WATERMARK ts DELAY OF INTERVAL 10 SECONDS) and group by a window of the event time, so old state can be dropped"
        };
        Err(Error::new(
            ErrorKind::StateLimit,
            format!(
                "the query's state grew to {what}, over the limit of {limit}; most of it is held by operator `{id}` ({} rows). \
                 The query stopped before committing this batch. State that only grows needs a way to end: {advice}",
                biggest.num_rows_total
            ),
        ))
    }

    /// Spark's watermark rule: each watermark operator proposes (max event time seen) - delay,
    /// truncated to milliseconds; the global watermark is the minimum over operators, moves only
    /// once every operator has seen data, never goes backwards and never below 0.
    fn advance_watermark(&mut self, max_event_time: &[Option<i64>]) -> i64 {
        let rt = &mut self.runtime;
        for (k, max) in max_event_time.iter().enumerate() {
            if let Some(max) = max {
                // Saturating: a delay longer than the time since year 1 proposes "before 0", which
                // leaves the watermark unset as in Spark, where wrapping would jump it to the far future.
                let proposal = (max.div_euclid(1000) * 1000).saturating_sub(rt.pipeline.watermark_delays[k]);
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::storage::Storage;
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
        q.table().rows().iter().map(|r| r[0].as_i64().unwrap()).collect()
    }

    #[test]
    fn the_state_view_shows_join_rows_with_their_times_and_each_evicted_row() {
        let schema = |time: &str| {
            Schema::new(vec![
                Column { name: "id".into(), data_type: DataType::Int },
                Column { name: time.into(), data_type: DataType::Timestamp },
            ])
        };
        let sql = "SELECT l.id FROM STREAM a WATERMARK lt DELAY OF INTERVAL 10 SECONDS AS l \
                   JOIN STREAM b WATERMARK rt DELAY OF INTERVAL 10 SECONDS AS r ON l.id = r.id AND r.rt BETWEEN l.lt AND l.lt + INTERVAL 5 SECONDS";
        let catalog = Catalog { sources: vec![("a".into(), schema("lt")), ("b".into(), schema("rt"))], tables: vec![] };
        let mut q = StreamingQuery::start(QueryDefinition { sql: sql.into(), output_mode: OutputMode::Append, catalog }).unwrap();
        // Two left rows under one key; no watermark yet, as b has no data.
        q.add_json("a", &[json!([1, "2026-01-01 00:00:01"]), json!([1, "2026-01-01 00:00:30"])]).unwrap();
        q.process_all_available().unwrap();
        let left = &q.state_view()[0].tables[0];
        assert_eq!(left.rows, 1, "one key");
        assert!(left.sample[0].contains(r#""time":{"Timestamp":1767225601000000}"#), "{:?}", left.sample);
        q.add_json("a", &[json!([2, "2026-01-01 00:01:00"])]).unwrap();
        q.add_json("b", &[json!([9, "2026-01-01 00:01:00"])]).unwrap();
        q.process_all_available().unwrap();
        let left = &q.state_view()[0].tables[0];
        // The watermark (00:00:50) passed 00:00:01 + 5 s and 00:00:30 + 5 s: both rows of key 1 go.
        assert_eq!(left.evicted.len(), 2, "each evicted row, not the emptied key: {:?}", left.evicted);
        assert!(left.evicted.iter().all(|e| e.starts_with(r#"{"row":[{"Int":1}"#)), "{:?}", left.evicted);
    }

    #[test]
    fn the_state_view_shows_each_deduplicated_key_and_when_it_expires() {
        let sql = "SELECT * FROM STREAM events WATERMARK ts DELAY OF INTERVAL 10 SECONDS DEDUPLICATE WITHIN WATERMARK BY (id)";
        let mut q = StreamingQuery::start(definition(sql)).unwrap();
        q.add_json("events", &rows(&[1, 2, 1])).unwrap();
        q.process_all_available().unwrap();
        let table = &q.state_view()[0].tables[0];
        assert_eq!(table.rows, 2);
        let first: serde_json::Value = serde_json::from_str(&table.sample[0]).unwrap();
        // 00:00:01 + 10 s, in microseconds.
        assert_eq!(first, json!({"key": [{"Int": 1}], "expires": {"Timestamp": 1_767_225_611_000_000i64}}));
        // The watermark (00:00:02 - 10 s) has not passed it; 00:00:30 moves it to 00:00:20.
        q.add_json("events", &rows(&[30])).unwrap();
        q.process_all_available().unwrap();
        let table = &q.state_view()[0].tables[0];
        assert_eq!(table.rows, 1);
        assert_eq!(table.evicted.len(), 2, "{:?}", table.evicted);
        assert!(table.evicted[0].contains(r#"{"Int":1}"#), "{:?}", table.evicted);
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
            assert_eq!(q.table().versions().len(), 2, "{point:?}");
            let replayed = point == FailurePoint::AfterSinkWrite;
            assert_eq!(q.table().skipped_replays(), u64::from(replayed), "{point:?}: only a batch the table already has is skipped");
            let file: Vec<i64> = q.file().rows().iter().map(|r| r[0].as_i64().unwrap()).collect();
            let expected_file: &[i64] = if replayed { &[1, 3, 5, 7, 5, 7] } else { &[1, 3, 5, 7] };
            assert_eq!(file, expected_file, "{point:?}: the at-least-once file writes a replayed batch again");
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
        let storage = q.storage().scoped("checkpoint");
        assert!(storage.read("metadata").unwrap().is_some());
        assert_eq!(storage.list("offsets").unwrap(), vec!["0"]);
        assert_eq!(storage.list("commits").unwrap(), vec!["0"]);
        assert_eq!(storage.list("state").unwrap(), vec!["0-globalLimit"]);
        assert_eq!(storage.list("state/0-globalLimit/default").unwrap(), vec!["1.delta"]);
        let offsets = String::from_utf8(storage.read("offsets/0").unwrap().unwrap()).unwrap();
        assert!(offsets.starts_with("v1 crc32:"), "{offsets}");
        assert!(offsets.contains("\"events\":[0,1]"), "{offsets}");
        assert_eq!(q.storage().scoped("").list("").unwrap(), vec!["checkpoint", "files", "tables"]);
    }

    fn start_on(sql: &str, storage: &SharedStorage) -> Result<StreamingQuery> {
        StreamingQuery::start_with(definition(sql), QueryOptions { storage: storage.clone(), ..QueryOptions::default() })
    }

    #[test]
    fn a_foreign_checkpoint_is_refused_and_left_as_it_was() {
        let storage = SharedStorage::memory();
        let mut first = start_on("SELECT id FROM STREAM events", &storage).unwrap();
        first.add_json("events", &rows(&[1])).unwrap();
        first.process_all_available().unwrap();
        let before = storage.scoped("checkpoint").read("metadata").unwrap();
        let err = start_on("SELECT id\nFROM STREAM events WHERE id > 1", &storage).err().unwrap();
        assert_eq!(err.kind, ErrorKind::Checkpoint);
        assert!(err.message.contains("belongs to another query") && err.message.contains("line 1, column 10"), "{}", err.message);
        assert_eq!(storage.scoped("checkpoint").read("metadata").unwrap(), before);
    }

    #[test]
    fn a_checkpoint_resumes_in_a_new_process() {
        // A second query object over the same storage is what a page reload or a new CLI run is.
        let storage = SharedStorage::memory();
        let mut first = start_on("SELECT id FROM STREAM events", &storage).unwrap();
        first.add_json("events", &rows(&[1, 2])).unwrap();
        first.process_all_available().unwrap();
        let first_id = first.id().to_string();
        drop(first);
        let mut second = start_on("SELECT id FROM STREAM events", &storage).unwrap();
        assert_eq!(second.id(), first_id, "the query id lives in the checkpoint");
        second.add_json("events", &rows(&[1, 2, 3])).unwrap();
        let r = second.process_all_available().unwrap();
        assert_eq!(r.batches.iter().map(|b| b.batch_id).collect::<Vec<_>>(), vec![1]);
        assert_eq!(sink_ids(&second), vec![1, 2, 3]);
    }

    #[test]
    fn losing_the_checkpoint_writes_everything_again() {
        let mut q = StreamingQuery::start(definition("SELECT id FROM STREAM events")).unwrap();
        q.add_json("events", &rows(&[1, 2])).unwrap();
        q.process_all_available().unwrap();
        let old_id = q.id().to_string();
        q.lose_checkpoint().unwrap();
        assert_ne!(q.id(), old_id, "a new checkpoint is a new query");
        q.add_json("events", &rows(&[3])).unwrap();
        q.process_all_available().unwrap();
        assert_eq!(sink_ids(&q), vec![1, 2, 1, 2, 3], "the table takes the new query id's batches: duplicates, as the seeds warn");
        assert_eq!(q.file().rows().len(), 5);
    }

    #[test]
    fn state_over_the_limit_stops_the_query_naming_the_operator() {
        let options = QueryOptions { limits: crate::state::StateLimits { max_rows: 3, max_bytes: u64::MAX }, ..QueryOptions::default() };
        let mut q = StreamingQuery::start_with(
            QueryDefinition { output_mode: OutputMode::Update, ..definition("SELECT id, count(*) AS n FROM STREAM events GROUP BY id") },
            options,
        )
        .unwrap();
        q.add_json("events", &rows(&[1, 2, 3])).unwrap();
        q.process_all_available().unwrap();
        q.add_json("events", &rows(&[4])).unwrap();
        let err = q.process_all_available().unwrap_err();
        assert_eq!(err.kind, ErrorKind::StateLimit);
        assert!(err.message.contains("`0-stateStoreSave`") && err.message.contains("add a watermark"), "{}", err.message);
        assert_eq!(q.table().versions().len(), 1, "the batch over the limit reached no sink");
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
    fn a_delay_longer_than_the_calendar_leaves_the_watermark_unset_instead_of_wrapping() {
        // 280,000 years of 31-day months is the largest delay the analyzer accepts (300,000 years is
        // refused as too large); subtracted from an event at year 1 it is past 64 bits of microseconds.
        // The proposal used to wrap into the far future and drop every later event as late.
        let sql = "SELECT id FROM STREAM events WATERMARK ts DELAY OF INTERVAL 280000 YEARS";
        let mut q = StreamingQuery::start(definition(sql)).unwrap();
        q.add_json("events", &rows(&[30])).unwrap();
        q.process_all_available().unwrap();
        q.add_json("events", &rows(&[5])).unwrap();
        let b1 = q.process_all_available().unwrap();
        assert_eq!(b1.batches[0].watermark, None);
        assert_eq!(b1.batches[0].rows.num_rows(), 1);
        // At the first instant of the calendar, max - delay is below i64::MIN.
        q.add_json("events", &[json!([7, "0001-01-01 00:00:00"])]).unwrap();
        assert_eq!(q.process_all_available().unwrap().batches[0].watermark, None);
    }

    #[test]
    fn progress_uses_the_callers_clock() {
        let clock = FakeClock::default();
        let mut q = StreamingQuery::start_with(
            definition("SELECT id FROM STREAM events"),
            QueryOptions { clock: Box::new(clock.clone()), ..QueryOptions::default() },
        )
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
