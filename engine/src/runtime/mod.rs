//! The runtime: a running streaming query. It plans once, then runs micro-batches over its
//! sources with Spark's batch protocol ([`batch`]: offsets log, compute, state, sink, commit
//! log), the watermark rule ([`watermark`]), failure injection at each step ([`failure`]) and
//! recovery from the checkpoint ([`recovery`]); [`trigger`] decides when a batch runs.

mod batch;
pub mod failure;
mod file_log;
mod latency;
pub mod low_latency;
mod recovery;
pub mod trigger;
mod watermark;

pub use crate::plan::OutputMode;
pub use crate::time::{Clock, SystemClock};
pub use failure::FailurePoint;
use recovery::{check_sink, new_query_id};

use std::collections::BTreeMap;
use std::rc::Rc;

use arrow_array::RecordBatch;

use crate::auto_loader::AutoLoaderSource;
use crate::checkpoint::{Checkpoint, CheckpointError, CommitEntry, DeadLetterEntry, Metadata, OffsetEntry};
use crate::error::{Error, ErrorKind, Result};
use crate::kafka::{KafkaReader, KafkaSource, Message, PartitionOffsets};
use crate::ops::{BatchContext, LateRow, StateOperatorProgress, Watermarks};
use crate::plan::checks::check_start;
use crate::plan::physical::{self, Pipeline};
use crate::progress::{DurationMs, EventTimeStats, QueryProgress, SourceProgress};
use crate::rate::{RateOptions, RateReader};
use crate::sink::{BatchWrite, FileSink, Sink, TableSink};
use crate::source::{BadRecord, FileOptions, SourceLog};
use crate::sql::{analyze, AnalyzedQuery, Catalog};
use crate::state::store::TableStore;
use crate::state::{StateLimits, StateStoreConfig, VersionedTable};
use crate::storage::SharedStorage;
use crate::types::Schema;

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
    /// Spark's file-source options per source name (regardless of case); a source not named
    /// here reads every new file in one micro-batch.
    pub source_options: BTreeMap<String, FileOptions>,
    /// The sources that are Kafka topics (each an empty topic with its partitions, and the
    /// Kafka source's options), by source name; every other source is a folder of files.
    pub kafka: BTreeMap<String, KafkaSource>,
    /// The sources that are Auto Loader landing folders, by source name: their schema is the
    /// one at their schema location (inferred or given when the stream first starts), not the
    /// catalog's.
    pub auto_loader: BTreeMap<String, AutoLoaderSource>,
    /// The sources that are Spark's `rate` source, by source name, driven by `clock`.
    pub rate: BTreeMap<String, RateOptions>,
}

impl Default for QueryOptions {
    fn default() -> Self {
        QueryOptions {
            storage: SharedStorage::memory(),
            clock: Box::new(SystemClock::default()),
            state_store: StateStoreConfig::default(),
            limits: StateLimits::default(),
            source_options: BTreeMap::new(),
            kafka: BTreeMap::new(),
            auto_loader: BTreeMap::new(),
            rate: BTreeMap::new(),
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
    /// The eviction watermark each operator ran with (a join's output lags the query's).
    pub operator_watermarks: Vec<crate::ops::OperatorWatermark>,
    /// Each input's own watermark in effect for the batch (its newest event time before the
    /// batch minus its delay), by source; the global one is their minimum. None: no data yet.
    pub input_watermarks: Vec<(String, Option<i64>)>,
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

/// How many batches' progress a query keeps (Spark's `spark.sql.streaming.numRecentProgressUpdates`).
pub const RECENT_PROGRESS: usize = 100;

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
    /// The store of every state table, in the order the stateful operators are visited and
    /// their tables named.
    stores: Vec<TableStore>,
    next_batch_id: u64,
    /// End offset of the last committed batch, per source.
    committed: BTreeMap<String, u64>,
    /// An offsets entry written but never committed: re-run exactly, before anything new.
    pending: Option<Rc<OffsetEntry>>,
    /// The global watermark in microseconds (0: none yet). Never moves backwards.
    watermark: i64,
    /// The watermark the last micro-batch ran with: when the global one has moved past it, a
    /// no-data batch may be due.
    last_batch_watermark: i64,
    /// Each watermark operator's own watermark; None until it has seen data since the start.
    operator_watermarks: Vec<Option<i64>>,
    last_trigger_ms: Option<f64>,
    /// The file log of each source read newest first under a read limit.
    file_logs: BTreeMap<String, file_log::FileLog>,
    /// What the query has read of each Kafka source, by source name.
    kafka_readers: BTreeMap<String, KafkaReader>,
    /// When each rate source started, by source name.
    rate_readers: BTreeMap<String, RateReader>,
    /// No batch has run since the query started: Spark decides on a no-data batch from the
    /// previous batch of the same run, so a query just started runs none.
    fresh: bool,
}

pub struct StreamingQuery {
    definition: QueryDefinition,
    analyzed: AnalyzedQuery,
    sources: Vec<SourceLog>,
    /// The sources that are Kafka topics, by source name.
    kafka: BTreeMap<String, KafkaSource>,
    auto_loader: BTreeMap<String, AutoLoaderSource>,
    rate: BTreeMap<String, RateOptions>,
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
    /// The settings every offsets entry records, built once.
    conf: BTreeMap<String, String>,
    /// The continuous or Real-Time Mode trigger the query runs under, while it does.
    live: Option<low_latency::LiveRun>,
    /// When each record arrived, for its latency.
    arrivals: latency::Arrivals,
}

impl StreamingQuery {
    /// Analyses and checks the query, and starts it over fresh sources, sinks and an in-memory
    /// checkpoint. A refused query returns the error and creates nothing.
    pub fn start(definition: QueryDefinition) -> Result<Self> {
        Self::start_with(definition, QueryOptions::default())
    }

    /// Starts the query over `options.storage`: from its checkpoint when it holds one for this
    /// query, or a new one. A checkpoint of another query is refused and left untouched.
    pub fn start_with(mut definition: QueryDefinition, options: QueryOptions) -> Result<Self> {
        // An Auto Loader source's schema is the one at its schema location.
        for (name, source) in &options.auto_loader {
            if let Some(entry) = definition.catalog.sources.iter_mut().find(|(n, _)| n.eq_ignore_ascii_case(name)) {
                entry.1 = source.resolve_schema(&options.storage, name)?;
            }
        }
        let analyzed = analyze(&definition.sql, &definition.catalog)?;
        let special =
            |n: &str| options.kafka.keys().chain(options.auto_loader.keys()).chain(options.rate.keys()).any(|k| k.eq_ignore_ascii_case(n));
        check_start(&analyzed, definition.output_mode)?;
        let sources: Vec<SourceLog> = definition
            .catalog
            .sources
            .iter()
            .filter(|(n, _)| !special(n))
            .map(|(n, s)| {
                let options = options.source_options.iter().find(|(k, _)| k.eq_ignore_ascii_case(n)).map(|(_, o)| o.clone());
                SourceLog::new(n, s.clone()).with_options(options.unwrap_or_default())
            })
            .collect();
        let pipeline = physical::build(&analyzed.plan, definition.output_mode)?;
        let expected = Metadata {
            id: new_query_id(&definition.sql, options.clock.now_ms()),
            state_layout: crate::state::STATE_LAYOUT,
            query: definition.sql.clone(),
            output_mode: definition.output_mode.as_str().to_string(),
            sources: pipeline
                .sources
                .iter()
                .filter_map(|name| definition.catalog.sources.iter().find(|(n, _)| n == name))
                // An Auto Loader source's schema may evolve: its schema location keeps it.
                .map(|(n, s)| match options.auto_loader.keys().any(|k| k.eq_ignore_ascii_case(n)) {
                    true => (n.clone(), Vec::new()),
                    false => (n.clone(), s.columns.iter().map(|c| (c.name.clone(), c.data_type.to_string())).collect()),
                })
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
        let schema = analyzed.plan.schema();
        let table =
            TableSink::open(SINK_NAME, options.storage.scoped(&format!("tables/{SINK_NAME}")), schema, definition.output_mode, key)?;
        let file = FileSink::open(SINK_NAME, options.storage.scoped(&format!("files/{SINK_NAME}")), schema)?;
        let mut runtime = Self::runtime_from(pipeline, &checkpoint, &metadata, options.state_store, &sources)?;
        Self::open_kafka_readers(&mut runtime, &mut checkpoint, &options.kafka)?;
        Self::open_rate_readers(&mut runtime, &mut checkpoint, &options.rate, options.clock.now_ms())?;
        check_sink(&table, &metadata.id, &runtime)?;
        let dead_letter = Self::dead_letters_from(&checkpoint)?;
        Ok(StreamingQuery {
            definition,
            analyzed,
            sources,
            kafka: options.kafka,
            auto_loader: options.auto_loader,
            rate: options.rate,
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
            conf: batch::conf(options.state_store, options.limits),
            live: None,
            arrivals: latency::Arrivals::default(),
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

    /// The progress of the latest micro-batches, oldest first: at most [`RECENT_PROGRESS`], as
    /// Spark's `recentProgress`.
    pub fn history(&self) -> &[QueryProgress] {
        &self.history[self.history.len().saturating_sub(RECENT_PROGRESS)..]
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
        match self.sources.iter().position(|s| s.name().eq_ignore_ascii_case(name)) {
            Some(k) => Ok(&mut self.sources[k]),
            None => {
                let known: Vec<&str> = self.sources.iter().map(|s| s.name()).collect();
                Err(Error::new(ErrorKind::UnknownTable, format!("there is no source `{name}`; the sources are: {}", known.join(", "))))
            }
        }
    }

    /// Appends rows (JSON arrays in schema order) to a source's log. Nothing is processed yet.
    pub fn add_json(&mut self, source: &str, rows: &[serde_json::Value]) -> Result<()> {
        self.source_mut(source)?.append_json(rows)?;
        self.stamp_arrival(source);
        Ok(())
    }

    /// The records added to a file source since the last stamp arrived now.
    fn stamp_arrival(&mut self, source: &str) {
        let now = self.clock.now_ms();
        if let Some(log) = self.source(source) {
            let (name, end) = (log.name().to_string(), log.latest_offset());
            self.arrivals.stamp(&name, None, end, now);
        }
    }

    /// Appends rows as one file of the source's folder, modified at `modified_ms` (later than
    /// the source's last file).
    pub fn add_json_file(&mut self, source: &str, rows: &[serde_json::Value], modified_ms: i64) -> Result<()> {
        self.source_mut(source)?.append_json_file(rows, Some(modified_ms))?;
        self.stamp_arrival(source);
        Ok(())
    }

    pub fn add_batch(&mut self, source: &str, batch: RecordBatch) -> Result<()> {
        self.source_mut(source)?.append_batch(batch)?;
        self.stamp_arrival(source);
        Ok(())
    }

    /// Arms a crash at `point` for the next micro-batch.
    pub fn inject_failure(&mut self, point: FailurePoint) {
        self.armed = Some(point);
    }

    /// Stops the query and starts it again from its checkpoint. Sources and the sink live
    /// outside the query and keep everything; operators, offsets in flight and per-input
    /// watermarks are rebuilt from what the checkpoint holds.
    pub fn restart(&mut self) -> Result<()> {
        self.read_evolved_schemas()?;
        let pipeline = physical::build(&self.analyzed.plan, self.definition.output_mode)?;
        let mut runtime = Self::runtime_from(pipeline, &self.checkpoint, &self.metadata, self.state_store, &self.sources)?;
        Self::open_kafka_readers(&mut runtime, &mut self.checkpoint, &self.kafka)?;
        Self::open_rate_readers(&mut runtime, &mut self.checkpoint, &self.rate, self.clock.now_ms())?;
        self.runtime = runtime;
        self.dead_letter = Self::dead_letters_from(&self.checkpoint)?;
        // A live query that restarts processes what arrived meanwhile only now.
        let now = self.clock.now_ms();
        if let Some(l) = self.live.as_mut() {
            l.since_ms = now;
        }
        Ok(())
    }

    /// Opens what the query has read of each Kafka source it reads, from the checkpoint (a new
    /// query resolves `startingOffsets` now and records where it starts).
    fn open_kafka_readers(runtime: &mut Runtime, checkpoint: &mut Checkpoint, kafka: &BTreeMap<String, KafkaSource>) -> Result<()> {
        let planned = runtime.pending.as_ref().map_or(runtime.next_batch_id, |p| p.batch_id + 1);
        for name in runtime.pipeline.sources.clone() {
            if let Some(source) = kafka.iter().find(|(k, _)| k.eq_ignore_ascii_case(&name)).map(|(_, s)| s) {
                runtime.kafka_readers.insert(name.clone(), KafkaReader::open(checkpoint, &name, source, planned)?);
            }
        }
        Ok(())
    }

    /// Opens when each rate source the query reads started (now, for a new query).
    fn open_rate_readers(
        runtime: &mut Runtime,
        checkpoint: &mut Checkpoint,
        rate: &BTreeMap<String, RateOptions>,
        now_ms: f64,
    ) -> Result<()> {
        for name in runtime.pipeline.sources.clone() {
            if rate.keys().any(|k| k.eq_ignore_ascii_case(&name)) {
                runtime.rate_readers.insert(name.clone(), RateReader::open(checkpoint, &name, now_ms as i64)?);
            }
        }
        Ok(())
    }

    /// A restart reads each Auto Loader source with the newest schema at its schema location
    /// (what `addNewColumns` recorded before it stopped the stream). The sinks keep the columns
    /// they were created with, so a query whose output columns would change is refused.
    fn read_evolved_schemas(&mut self) -> Result<()> {
        let mut catalog = self.definition.catalog.clone();
        let mut changed = false;
        for name in self.auto_loader.keys() {
            let Some((_, schema)) = crate::auto_loader::source::latest_schema(&self.storage, name)? else { continue };
            if let Some(entry) = catalog.sources.iter_mut().find(|(n, _)| n.eq_ignore_ascii_case(name)) {
                if entry.1 != schema {
                    entry.1 = schema;
                    changed = true;
                }
            }
        }
        if !changed {
            return Ok(());
        }
        let analyzed = analyze(&self.definition.sql, &catalog)?;
        if analyzed.plan.schema() != self.analyzed.plan.schema() {
            let show = |s: &Schema| s.names().join(", ");
            return Err(Error::new(
                ErrorKind::UnsupportedOperation,
                format!(
                    "the Auto Loader source's schema evolved, and the query's output columns would change from ({}) to ({}): this version's sink cannot add columns to a table it has written (Delta's mergeSchema); select the columns by name, so new ones do not change the output, or start over with a new checkpoint",
                    show(self.analyzed.plan.schema()),
                    show(analyzed.plan.schema())
                ),
            ));
        }
        self.analyzed = analyzed;
        self.definition.catalog = catalog;
        Ok(())
    }

    /// Lands a file in an Auto Loader source's folder, modified at `modified_ms`.
    pub fn land(&mut self, source: &str, file: &str, text: &str, modified_ms: i64) -> Result<()> {
        let known: Vec<String> = self.auto_loader.keys().cloned().collect();
        let s = self.auto_loader.iter_mut().find(|(k, _)| k.eq_ignore_ascii_case(source)).map(|(_, s)| s).ok_or_else(|| {
            Error::new(ErrorKind::UnknownTable, format!("there is no Auto Loader source `{source}`; they are: {}", known.join(", ")))
        })?;
        s.land(file, text, modified_ms)
    }

    /// The Auto Loader source a source is, if it is one.
    pub fn auto_loader_source(&self, name: &str) -> Option<&AutoLoaderSource> {
        self.auto_loader.iter().find(|(k, _)| k.eq_ignore_ascii_case(name)).map(|(_, s)| s)
    }

    /// The rate source a source is, if it is one.
    pub fn rate_source(&self, name: &str) -> Option<&RateOptions> {
        self.rate.iter().find(|(k, _)| k.eq_ignore_ascii_case(name)).map(|(_, s)| s)
    }

    /// The Kafka topic a source is, if it is one.
    pub fn kafka_source(&self, name: &str) -> Option<&KafkaSource> {
        self.kafka.iter().find(|(k, _)| k.eq_ignore_ascii_case(name)).map(|(_, s)| s)
    }

    /// Where the next batch reads a Kafka source from, per partition: the end of the last
    /// batch planned (offsets below it are read, or being read again after a crash).
    pub fn kafka_next_offsets(&self, name: &str) -> Option<PartitionOffsets> {
        self.runtime.kafka_readers.iter().find(|(k, _)| k.eq_ignore_ascii_case(name)).map(|(_, r)| r.next_start())
    }

    fn kafka_mut(&mut self, name: &str) -> Result<&mut KafkaSource> {
        let known: Vec<String> = self.kafka.keys().cloned().collect();
        self.kafka.iter_mut().find(|(k, _)| k.eq_ignore_ascii_case(name)).map(|(_, s)| s).ok_or_else(|| {
            Error::new(ErrorKind::UnknownTable, format!("there is no Kafka topic `{name}`; the topics are: {}", known.join(", ")))
        })
    }

    /// A producer sends `messages` to a Kafka source: to `partition`, or where Kafka's default
    /// partitioner puts each. Returns each message's partition and offset. Nothing is processed.
    pub fn produce(&mut self, source: &str, messages: Vec<Message>, partition: Option<u32>) -> Result<Vec<(u32, i64)>> {
        let now = self.clock.now_ms();
        let name = self.kafka.keys().find(|k| k.eq_ignore_ascii_case(source)).cloned().unwrap_or_else(|| source.to_string());
        let topic = &mut self.kafka_mut(source)?.topic;
        let placed = messages.into_iter().map(|m| topic.produce(m, partition)).collect::<Result<Vec<_>>>()?;
        for (p, offset) in &placed {
            self.arrivals.stamp(&name, Some(*p), (*offset).max(0) as u64 + 1, now);
        }
        Ok(placed)
    }

    /// Retention: deletes a Kafka source's messages below `from` in the partitions named.
    pub fn retain(&mut self, source: &str, from: &PartitionOffsets) -> Result<()> {
        self.kafka_mut(source)?.topic.retain(from)
    }

    /// New content for the static tables (the same names and columns), as a new version of a
    /// Delta table: from the next micro-batch on the stream is joined against it, while rows
    /// already written stay as they were and state, offsets and watermarks carry on (Spark
    /// reads a static Delta table's latest version in every micro-batch).
    pub fn replace_tables(&mut self, catalog: Catalog) -> Result<()> {
        let same = |a: &Catalog, b: &Catalog| {
            a.sources == b.sources
                && a.tables.len() == b.tables.len()
                && a.tables.iter().zip(&b.tables).all(|(x, y)| x.0.eq_ignore_ascii_case(&y.0) && x.1 == y.1)
        };
        if !same(&self.definition.catalog, &catalog) {
            return Err(Error::invalid_input(
                "only the rows of the static tables can change in a running query: a new source, table or column needs a new query",
            ));
        }
        let analyzed = analyze(&self.definition.sql, &catalog)?;
        let pipeline = physical::build(&analyzed.plan, self.definition.output_mode)?;
        let mut runtime = Self::runtime_from(pipeline, &self.checkpoint, &self.metadata, self.state_store, &self.sources)?;
        // Not a restart: each input's watermark and the run's no-data rule go on as they were.
        runtime.operator_watermarks = std::mem::take(&mut self.runtime.operator_watermarks);
        runtime.last_trigger_ms = self.runtime.last_trigger_ms;
        runtime.fresh = self.runtime.fresh;
        runtime.kafka_readers = std::mem::take(&mut self.runtime.kafka_readers);
        runtime.rate_readers = std::mem::take(&mut self.runtime.rate_readers);
        self.runtime = runtime;
        self.analyzed = analyzed;
        self.definition.catalog = catalog;
        Ok(())
    }

    /// Replaces the static tables the query reads and restarts it from its checkpoint: a
    /// pipeline flow reads other datasets as tables whose content changes between updates.
    pub fn restart_with_tables(&mut self, tables: Vec<(String, Schema, RecordBatch)>) -> Result<()> {
        self.definition.catalog.tables = tables;
        self.analyzed = analyze(&self.definition.sql, &self.definition.catalog)?;
        self.restart()
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
        self.run_batches(true, u64::MAX)
    }

    /// Runs micro-batches until none is due or `most` have committed; `limited`: whether the
    /// sources' read limits apply. A crashed batch is recovered and retried within the call (it
    /// can crash again only if re-armed, so the loop ends).
    fn run_batches(&mut self, limited: bool, most: u64) -> Result<RunReport> {
        let mut report = RunReport::default();
        while (report.batches.len() as u64) < most {
            match self.run_one_reading(limited)? {
                None => break,
                Some(BatchOutcome::Committed(b)) => report.batches.push(*b),
                Some(BatchOutcome::Crashed(id, point)) => {
                    report.failures.push((id, point));
                    self.recover()?;
                }
            }
        }
        Ok(report)
    }

    /// Recovers from an injected crash: a restart from the checkpoint that, unlike a stop and
    /// start, must not change what the run does (FORMAT.md: a failure never changes the result).
    fn recover(&mut self) -> Result<()> {
        let fresh = self.runtime.fresh;
        self.restart()?;
        self.runtime.fresh = fresh;
        Ok(())
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
                    self.recover()?;
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

    /// The first source holding fewer records than the checkpoint says were read (or, for a
    /// planned batch, will be read): `(source, offset, the source's end)`.
    fn source_behind(&self) -> Option<(String, u64, u64)> {
        self.runtime.pipeline.sources.iter().find_map(|name| {
            if let (Some(reader), Some(source)) = (self.runtime.kafka_readers.get(name), self.kafka_source(name)) {
                // A topic refilled after a resume: behind while a partition ends before where
                // the query has read (or will read) to.
                let latest = source.topic.latest_offsets();
                let read = match (&self.runtime.pending, reader.planned_range()) {
                    (Some(_), Some((_, end))) => end.clone(),
                    _ => reader.next_start(),
                };
                let behind = read.0.iter().find(|(p, o)| latest.get(**p).unwrap_or(0) < **o);
                return behind.map(|(p, o)| (format!("{name} (partition {p})"), *o as u64, latest.get(*p).unwrap_or(0) as u64));
            }
            if self.rate_source(name).is_some() {
                return None;
            }
            let read = match &self.runtime.pending {
                Some(p) => p.sources.get(name).map_or(0, |r| r.1),
                None => self.runtime.committed.get(name).copied().unwrap_or(0),
            };
            if let Some(al) = self.auto_loader_source(name) {
                // Offsets count the folder's files.
                let end = al.files.len() as u64;
                return (end < read).then(|| (name.clone(), read, end));
            }
            let log = self.source(name);
            let end = log.map_or(0, SourceLog::latest_offset);
            // Read newest first, the files read need not be the first ones: each must be there.
            let files_missing = self.runtime.file_logs.get(name).is_some_and(|f| f.files_needed() > log.map_or(0, SourceLog::files));
            (end < read || files_missing).then(|| (name.clone(), read, end))
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
}

#[cfg(test)]
mod tests;
