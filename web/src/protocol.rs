//! The messages between the page and the engine's session, which runs in a Web Worker. The page
//! only sends [`Request`]s and renders [`Snapshot`]s; both cross the worker boundary as JSON.

use serde::{Deserialize, Serialize};
use serde_json::Value as Json;

/// Where the session keeps its checkpoint, sink tables and events.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum StorageKind {
    /// Gone with the page: a reload starts the session again.
    Memory,
    /// IndexedDB: a reload resumes the query from its checkpoint.
    #[default]
    IndexedDb,
}

impl StorageKind {
    pub fn label(self) -> &'static str {
        match self {
            StorageKind::Memory => "memory",
            StorageKind::IndexedDb => "IndexedDB",
        }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Request {
    /// The first message: open the storage; resume the session saved there, or start
    /// `scenario` (a shared link's) when one is given or nothing is saved. A link never
    /// replaces a saved session: it opens in memory, and the person may keep it.
    Init {
        storage: StorageKind,
        scenario: Option<String>,
        /// The session's namespace in IndexedDB (see [`database`]); empty for the first one.
        #[serde(default)]
        session: String,
        /// Another tab writes this session: open a copy of it in memory and write nothing.
        #[serde(default)]
        read_only: bool,
    },
    /// Replace the session with a scenario (FORMAT.md text), at batch 0: its steps are queued
    /// for the scrubber (`StepForward`, `RunToEnd`).
    LoadScenario { text: String },
    /// Start a new query (with a new checkpoint and sinks) over everything the sources hold; a
    /// refused query changes nothing.
    SetQuery { sql: String, output_mode: String },
    /// Append one event (values in schema order, as the scenario format writes them).
    AddEvent { source: String, row: Vec<Json> },
    /// Append several events to one source.
    AddEvents { source: String, rows: Vec<Json> },
    /// A producer sends messages to a Kafka source (`key`, `value`, `timestamp` each, as a
    /// scenario's `messages`), to `partition` or where the default partitioner puts them.
    Produce { source: String, messages: Vec<Json>, partition: Option<u32> },
    /// Retention: deletes a Kafka source's messages below `from_offsets` (partition -> the
    /// first offset kept), as a scenario's `retain` step does.
    Retain { source: String, from_offsets: serde_json::Map<String, Json> },
    /// A file lands in an Auto Loader folder (`text` is its content, JSON lines or CSV).
    Land { source: String, file: String, text: String },
    /// Process all available data: one micro-batch plus any no-data batch.
    RunBatch,
    /// Run at most one micro-batch.
    Step,
    /// Arm a crash of the next micro-batch at a point of FORMAT.md's list.
    InjectFailure { point: String },
    /// Stop the query and start it again from its checkpoint.
    Restart,
    /// Delete the checkpoint and start the query from scratch (the sinks keep their rows).
    LoseCheckpoint,
    /// Move the session to the other storage; to IndexedDB, under the namespace `session`
    /// (a new one, so no saved session is overwritten).
    SetStorage {
        storage: StorageKind,
        #[serde(default)]
        session: String,
    },
    /// Put the session, as a scenario file, in the next snapshot's `exported`.
    Export,
    /// Start the processing-time trigger: a micro-batch every `interval_ms`.
    Play { interval_ms: f64 },
    /// Start the query under a low-latency trigger that keeps it running: `mode` is
    /// `continuous` (Spark's `trigger(continuous=...)`, an epoch every `interval_ms`) or
    /// `realTime` (Real-Time Mode, a long-running batch every `interval_ms`). A query the
    /// trigger does not accept is refused with Spark's error, and the session stays as it was.
    PlayLive { mode: String, interval_ms: f64 },
    /// Stop the trigger (and the generator with it).
    Pause,
    /// Process everything available, then stop (Spark's `availableNow`).
    AvailableNow,
    /// Spark's `Trigger.Once`: one micro-batch with everything, read limits ignored, then stop.
    Once,
    /// Turn a synthetic event generator on with these knobs, or off.
    SetGenerator { config: Option<GeneratorConfig> },
    /// A simulated cluster that processes this many rows per second (None: as fast as it can):
    /// a live run faster than it shows backpressure.
    SetCapacity { rows_per_second: Option<f64> },
    /// A batch query over the transactional table, e.g. `SELECT * FROM sink VERSION AS OF 3`.
    QueryTable { sql: String },
    /// Show the content of one checkpoint file (a path under `checkpoint/`).
    ReadCheckpoint { path: String },
    /// Replace the sources and static tables. Events of a source that keeps its number of
    /// columns stay; the query restarts with a new checkpoint, or waits for a fix if it no
    /// longer fits.
    SetRelations { sources: Vec<RelationDef>, tables: Vec<RelationDef> },
    /// The scrubber: apply the queued steps up to the next run (the next batch the scenario
    /// arrives), or show the next kept position when an earlier one is shown.
    StepForward,
    /// Show the position before the one shown, as the engine was then (kept, not recomputed).
    StepBack,
    /// Show a kept position (see [`ScrubInfo::kept`]); the newest one is the live session.
    ScrubTo { position: u64 },
    /// Apply every queued step: the scenario's batches to its end.
    RunToEnd,
    /// Why is this output row here: the events that made it, the batch that wrote it and why
    /// then. The row as the shown snapshot's `sink` has it.
    WhyRow { row: Vec<Json> },
    /// Which earlier event a dropped duplicate duplicated: the event at `offset` of `source`.
    WhyDuplicate { source: String, offset: u64 },
    /// Pipeline mode: one update. Without `full_refresh`, the loaded pipeline's next queued
    /// update (its events, failures and restarts first), or an incremental one when nothing is
    /// queued; with it, a full refresh of those datasets only.
    PipelineUpdate {
        #[serde(default)]
        full_refresh: Vec<String>,
    },
    /// Pipeline mode: arm a crash at `point` in the next micro-batch of the streaming flow `flow`.
    PipelineFail { flow: String, point: String },
    /// Pipeline mode: delete one streaming flow's checkpoint.
    PipelineLoseCheckpoint { flow: String },
    /// Pipeline mode: show this node's table (a dataset, source or table name).
    PipelineSelect { node: String },
    /// Pipeline mode: a batch query over the event log (`SELECT ... FROM event_log()`).
    PipelineQueryLog { sql: String },
    /// Panics in the worker, for the test of the page's recovery: a panic there is a trap that
    /// ends the worker, whatever caused it. Harmless if a stranger sends it: the page offers to
    /// restart the engine, which resumes the session.
    DebugPanic,
}

/// What the worker posts when it panics, just before its wasm module traps.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct WorkerPanic {
    /// The panic's message and where in the source it happened.
    pub panic: String,
    /// The request it happened in (counting from 0, as `Snapshot::answered` counts), or None
    /// when it happened between requests (a tick of the live run).
    pub request: Option<u64>,
}

/// The IndexedDB database of the session namespace `session`: the first session keeps the
/// name it always had, so sessions saved before namespaces still resume.
pub fn database(session: &str) -> String {
    if session.is_empty() || session == FIRST_SESSION {
        DATABASE.to_string()
    } else {
        format!("{DATABASE}.{session}")
    }
}

/// The IndexedDB database of the first session.
pub const DATABASE: &str = "unbounded-playground";
/// The namespace of the first session.
pub const FIRST_SESSION: &str = "main";

/// Whether `id` can name a session namespace: it goes into a database and a lock name, and it
/// comes from the page's local storage, which anything on the origin may have written.
pub fn valid_session_id(id: &str) -> bool {
    !id.is_empty() && id.len() <= 40 && id.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
}

/// A source or a static table as the schema editor writes it.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct RelationDef {
    pub name: String,
    /// `[name, type]` pairs.
    pub columns: Vec<(String, String)>,
    /// A static table's rows (empty for a source).
    #[serde(default)]
    pub rows: Vec<Json>,
}

/// The answer to a [`Request::QueryTable`].
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct TableQueryInfo {
    pub sql: String,
    pub columns: Vec<String>,
    pub rows: Vec<Vec<Json>>,
    /// The version read; None for the table as it is now.
    pub version: Option<u64>,
    pub error: Option<ErrorInfo>,
}

pub use unbounded_engine::generate::{GeneratorConfig, GeneratorKind};

/// The live run: trigger and generator.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Default)]
pub struct LiveInfo {
    pub playing: bool,
    pub interval_ms: f64,
    pub generator: Option<GeneratorConfig>,
    /// Event time: the generator's clock while one runs, else the newest event's time (to the second).
    pub event_clock: Option<String>,
    /// The simulated cluster's rows per second, when one is set.
    #[serde(default)]
    pub capacity: Option<f64>,
    /// The low-latency trigger the query runs under while playing (`continuous` or
    /// `realTime`), or None for the processing-time trigger.
    #[serde(default)]
    pub live_mode: Option<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct ColumnInfo {
    pub name: String,
    pub data_type: String,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct RelationInfo {
    pub name: String,
    pub columns: Vec<ColumnInfo>,
    /// Records in a source's log, or rows of a static table.
    pub rows: u64,
    /// Records not yet read by a micro-batch (sources the query reads only).
    pub pending: u64,
    /// Whether the running query reads this source; false for a table, or a stream it ignores.
    #[serde(default)]
    pub read: bool,
    /// A static table's rows (tables only), for the schema editor.
    #[serde(default)]
    pub table_rows: Vec<Json>,
    /// The newest event (sources only): the event form starts from it.
    #[serde(default)]
    pub last_row: Option<Vec<Json>>,
    /// Events the scenario arrives in later steps (not yet added): the scrubber adds them.
    #[serde(default)]
    pub queued: u64,
    /// What feeds it: "" rows (a folder of files, one per `add`), "kafka" messages a producer
    /// sends (the Kafka panel), "auto_loader" files landed in a folder (the landing panel).
    #[serde(default)]
    pub kind: String,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct ErrorInfo {
    pub kind: String,
    pub message: String,
    pub line: Option<u64>,
    pub column: Option<u64>,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Default)]
pub struct BatchInfo {
    pub batch_id: u64,
    pub input_rows: u64,
    pub output_rows: u64,
    pub watermark: Option<String>,
    pub state_rows: u64,
    pub dropped_late: u64,
    pub bad_records: u64,
    pub duration_ms: f64,
    /// The transactional table had this batch already (a replay after a crash) and skipped it.
    pub skipped_by_table: bool,
    /// The watermark in microseconds, for the timeline.
    pub watermark_micros: Option<i64>,
    /// The watermark the time window's operator ran with: above a stream-stream join, the
    /// join's output watermark, which lags the query's. A window closes when it passes its end.
    #[serde(default)]
    pub window_watermark_micros: Option<i64>,
    /// Each input's own watermark in effect for the batch; the query's is their smallest once
    /// every input has one (Spark's default policy). For joins and unions, on the timeline.
    #[serde(default)]
    pub input_watermarks: Vec<InputWatermark>,
    /// The offsets each source's read covered: `[start, end)`.
    pub offsets: Vec<SourceRange>,
    /// Every row a stateful operator dropped as late, with why.
    pub late: Vec<LateInfo>,
    /// Processing time the batch started at (wall-clock ms since the epoch) and its rates.
    pub timestamp_ms: f64,
    pub input_rows_per_second: f64,
    pub processed_rows_per_second: f64,
    /// Kafka sources only: the most offsets behind latest of any partition after the batch
    /// (Spark's `maxOffsetsBehindLatest`), summed over the topics read.
    #[serde(default)]
    pub offsets_behind: Option<u64>,
    /// How long the batch's records waited, from arriving to being processed: runs of
    /// records that arrived and were processed together (the first [`LATENCY_RUNS`]).
    #[serde(default)]
    pub record_latencies: Vec<RecordLatencyInfo>,
}

/// The most runs of records a batch lists with their latency.
pub const LATENCY_RUNS: usize = 50;

/// Records of one source (and Kafka partition), consecutive offsets that arrived at one time
/// and were processed at one time: Spark's latency per record, without a line per row.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct RecordLatencyInfo {
    pub source: String,
    pub partition: Option<u32>,
    pub first_offset: u64,
    pub records: u64,
    pub arrived_ms: f64,
    pub processed_ms: f64,
    pub latency_ms: f64,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct SourceRange {
    pub source: String,
    pub start: u64,
    pub end: u64,
}

/// A row dropped as late: the row, its event time and the watermark it was behind.
/// One input's watermark: `micros` is None until the input has had data since the query started.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct InputWatermark {
    pub source: String,
    pub micros: Option<i64>,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct LateInfo {
    pub operator: String,
    pub row: Vec<Json>,
    pub event_time: i64,
    pub watermark: i64,
    /// The closed window it fell into, `[start, end)` in microseconds.
    pub window: Option<(i64, i64)>,
}

/// One event on the timeline: which source, its offset there and its event time.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct EventMark {
    pub source: String,
    pub offset: u64,
    pub event_time: Option<i64>,
}

/// A time window of the query, in microseconds: `window(ts, size, slide, start)`.
#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq)]
pub struct WindowInfo {
    pub size: i64,
    pub slide: i64,
    pub start: i64,
}

/// One stateful operator's state.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct StateInfo {
    pub operator: String,
    pub tables: Vec<StateTableInfo>,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct StateTableInfo {
    pub name: String,
    pub rows: u64,
    pub bytes: u64,
    pub sample: Vec<String>,
    pub evicted: Vec<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct DeadLetterInfo {
    pub batch_id: u64,
    pub source: String,
    pub offset: u64,
    pub row: Json,
    pub reason: String,
}

/// A crash the query recovered from.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct FailureInfo {
    pub batch_id: u64,
    pub point: String,
}

/// One version of the transactional table (its history).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct TableVersionInfo {
    pub version: u64,
    pub batch_id: u64,
    pub query_id: String,
    pub operation: String,
    pub rows_added: u64,
    pub rows_updated: u64,
    pub rows_removed: u64,
}

/// One write of the at-least-once file.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct FilePartInfo {
    pub part: u64,
    pub batch_id: u64,
    pub rows: u64,
}

/// A file of the checkpoint, for the page's tree.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct CheckpointFileInfo {
    pub path: String,
    pub bytes: u64,
}

/// What the newest version of the table changed, row by row.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct SinkChange {
    /// The batch that wrote the newest version.
    pub batch_id: Option<u64>,
    pub added: Vec<usize>,
    pub updated: Vec<usize>,
    pub removed: Vec<Vec<Json>>,
}

/// Everything the page shows, consistent as of one moment.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Default)]
pub struct Snapshot {
    pub scenario_name: String,
    pub description: String,
    pub sql: String,
    pub output_mode: String,
    pub storage: StorageKind,
    pub query_id: String,
    pub sources: Vec<RelationInfo>,
    pub tables: Vec<RelationInfo>,
    /// Result columns of the running query (empty when none runs).
    pub columns: Vec<String>,
    pub batches: Vec<BatchInfo>,
    /// The watermark the next micro-batch runs with: restored from the checkpoint after a reload,
    /// when no batch of this page has run yet.
    #[serde(default)]
    pub watermark: Option<String>,
    /// The transactional table's content (FORMAT.md's rule per output mode).
    pub sink: Vec<Vec<Json>>,
    /// What the newest table version changed: indexes into `sink`, and the rows it removed.
    pub sink_change: SinkChange,
    pub table_history: Vec<TableVersionInfo>,
    /// Everything the at-least-once file holds, duplicates included.
    pub file_rows: Vec<Vec<Json>>,
    pub file_parts: Vec<FilePartInfo>,
    pub dead_letter: Vec<DeadLetterInfo>,
    pub failures: Vec<FailureInfo>,
    /// The failure point armed for the next micro-batch, if any.
    pub armed: Option<String>,
    pub checkpoint: Vec<CheckpointFileInfo>,
    pub explain: String,
    /// The error of the last request, shown in place; the session is unchanged by it.
    pub error: Option<ErrorInfo>,
    /// Something the person should know that is not an error (a resumed session, say).
    pub notice: Option<String>,
    /// The session as a scenario file, after an Export request.
    pub exported: Option<String>,
    /// The same session as a PySpark program, after an Export request.
    pub exported_pyspark: Option<String>,
    pub live: LiveInfo,
    /// The last query over the transactional table.
    pub table_query: Option<TableQueryInfo>,
    /// The newest events, for the timeline.
    pub timeline: Vec<EventMark>,
    /// The query's time window, when it has one.
    pub window: Option<WindowInfo>,
    pub state: Vec<StateInfo>,
    /// The checkpoint file asked for last: its path and content as text.
    pub checkpoint_file: Option<(String, String)>,
    /// Rows in the table and in the file; `sink` and `file_rows` hold the last ones only.
    pub sink_total: u64,
    pub file_total: u64,
    /// Versions in the table's history and records in the dead-letter output; `table_history`
    /// and `dead_letter` hold the newest `SNAPSHOT_BATCHES` only.
    pub history_total: u64,
    pub dead_letter_total: u64,
    /// How many requests the worker had taken when it posted this: the page knows which of its
    /// requests were done when the worker stops.
    #[serde(default)]
    pub answered: u64,
    /// Set when the session is a copy in memory that nothing saves (a link opened over a saved
    /// session, or a session another tab writes): why, for the page to offer keeping it.
    #[serde(default)]
    pub detached: Option<String>,
    /// Where the scrubber stands: the position shown, the ones kept, what is queued.
    #[serde(default)]
    pub scrub: ScrubInfo,
    /// The answer to the last "why is this row here?" question.
    #[serde(default)]
    pub lineage: Option<LineageInfo>,
    /// Events that a deduplication dropped, with the earlier event each duplicated.
    #[serde(default)]
    pub duplicates: Vec<DuplicateInfo>,
    /// Set in pipeline mode (a version 2 file is loaded): its graph, tables and event log.
    #[serde(default)]
    pub pipeline: Option<PipelineInfo>,
    /// The Kafka sources: partitions, offsets, how far the query has read, the newest messages.
    #[serde(default)]
    pub topics: Vec<TopicInfo>,
    /// The Auto Loader folders: their files, which batch read each, the schema location.
    #[serde(default)]
    pub folders: Vec<FolderInfo>,
}

/// An Auto Loader landing folder as the page shows it.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Default)]
pub struct FolderInfo {
    pub name: String,
    pub format: String,
    /// `cloudFiles.schemaEvolutionMode` in effect.
    pub evolution_mode: String,
    pub rescued_column: Option<String>,
    /// The newest schema at the schema location and its version (None before the stream starts).
    pub schema: Vec<ColumnInfo>,
    pub schema_version: Option<u64>,
    pub files: Vec<LandedFileInfo>,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct LandedFileInfo {
    pub name: String,
    pub bytes: u64,
    /// When it landed, on the scenario's step clock (its step's index in seconds, as the runner
    /// and the Spark harness give file times).
    pub modified: String,
    /// The micro-batch that read it (among the batches the page is sent), if one has.
    pub batch_id: Option<u64>,
    /// Its first line, to see what it brings.
    pub preview: String,
}

/// A Kafka source as the page shows it.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Default)]
pub struct TopicInfo {
    pub name: String,
    pub partitions: Vec<PartitionInfo>,
    /// The newest messages over every partition, oldest first (at most `TOPIC_MESSAGES`).
    pub messages: Vec<MessageInfo>,
    /// Messages the topic holds (retention deletes the oldest).
    pub total_messages: u64,
    /// The source's options as its scenario gives them (`maxOffsetsPerTrigger`, ...).
    pub options: Vec<(String, String)>,
}

impl TopicInfo {
    /// Offsets not read yet over every partition, above what retention deleted: the next
    /// batch's work (its `maxOffsetsBehindLatest` is the largest partition's).
    pub fn lag(&self) -> u64 {
        self.partitions.iter().map(|p| (p.latest - p.next.max(p.earliest)).max(0) as u64).sum()
    }
}

/// One partition: `[earliest, latest)` are its offsets, `next` where the query's next batch
/// starts reading it (offsets below are read).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct PartitionInfo {
    pub partition: u32,
    pub earliest: i64,
    pub latest: i64,
    pub next: i64,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct MessageInfo {
    pub partition: u32,
    pub offset: i64,
    pub key: Option<String>,
    pub value: Option<String>,
    pub timestamp: String,
    /// Whether a batch of the query has read it.
    pub read: bool,
}

/// A pipeline (FORMAT.md version 2) as the page shows it.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Default)]
pub struct PipelineInfo {
    pub name: String,
    pub description: String,
    /// The pipeline's SQL, as loaded (read only in this version).
    pub sql: String,
    /// Sources and tables (layer 0), then the datasets, each a layer after its inputs.
    pub nodes: Vec<PipelineNode>,
    pub edges: Vec<PipelineEdge>,
    /// Why the pipeline was refused before any flow ran (it has no running flows then).
    pub refusal: Option<ErrorInfo>,
    pub selected: Option<String>,
    pub table: Option<PipelineTable>,
    /// Updates run, and updates of the loaded file still queued.
    pub updates: u64,
    pub queued_updates: u64,
    /// The crash armed: "point in flow".
    pub armed: Option<String>,
    pub event_log_columns: Vec<String>,
    /// The newest `SNAPSHOT_ROWS` events, oldest first.
    pub event_log: Vec<Vec<Json>>,
    pub event_log_total: u64,
    pub log_query: Option<TableQueryInfo>,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Default)]
pub struct PipelineNode {
    pub name: String,
    /// `source`, `table` (static), `streaming_table`, `materialized_view`, `view`, `temporary_view`.
    pub kind: String,
    /// Depth in the graph: 0 for sources and tables, 1 + the deepest input for a dataset.
    pub layer: u32,
    pub rows: u64,
    /// The last update's rows read and written by the node's flows (None: they did not run).
    pub rows_in: Option<u64>,
    pub rows_out: Option<u64>,
    pub expectations: Vec<ExpectationInfo>,
    /// Streaming flows writing it, each with its checkpoint directory.
    pub flows: Vec<FlowInfo>,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Default)]
pub struct FlowInfo {
    pub name: String,
    pub checkpoint: String,
    /// The micro-batches its last update committed, and the crashes it recovered from.
    pub batches: Vec<u64>,
    pub recovered: Vec<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Default)]
pub struct ExpectationInfo {
    pub name: String,
    pub action: String,
    pub passed: u64,
    pub failed: u64,
}

/// A flow reading `from` into `to`: streaming (`STREAM x`) or a batch read.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Default)]
pub struct PipelineEdge {
    pub from: String,
    pub to: String,
    pub flow: String,
    pub stream: bool,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Default)]
pub struct PipelineTable {
    pub name: String,
    pub columns: Vec<String>,
    /// The newest `SNAPSHOT_ROWS` rows.
    pub rows: Vec<Vec<Json>>,
    pub total: u64,
    pub versions: Vec<PipelineVersion>,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Default)]
pub struct PipelineVersion {
    pub version: u64,
    pub operation: String,
    pub flow: Option<String>,
    pub rows_added: u64,
    pub rows_total: u64,
}

/// One position of the scrubber: the session after a run step (or as it opened).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Default)]
pub struct ScrubMark {
    pub position: u64,
    /// The micro-batches that run ran (a data batch and the no-data batch it called for, say).
    pub batch_ids: Vec<u64>,
    /// Events that arrived with it.
    pub arrived: u64,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Default)]
pub struct ScrubInfo {
    /// The position shown; `live` is the newest (the session as it is now).
    pub position: u64,
    pub live: u64,
    /// Positions one can go back to (the oldest are forgotten past a bound), oldest first.
    pub kept: Vec<ScrubMark>,
    /// Run steps still queued: each "forward" applies one.
    pub queued_runs: u64,
    pub queued_events: u64,
}

impl ScrubInfo {
    /// Whether an earlier position than the live one is shown.
    pub fn past(&self) -> bool {
        self.position < self.live
    }
}

/// An event as lineage shows it.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct LineageEvent {
    pub source: String,
    pub offset: u64,
    pub row: Vec<Json>,
    /// The micro-batch that read it.
    pub batch_id: Option<u64>,
    /// What happened to it, when it did not simply count (dropped as late, say).
    pub note: Option<String>,
}

/// Why a row is in the output.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct LineageInfo {
    pub row: Vec<Json>,
    /// The batch that wrote the row as it is now.
    pub batch_id: Option<u64>,
    /// Why then, in a sentence of the output mode's rule.
    pub why: String,
    pub events: Vec<LineageEvent>,
}

/// An event a deduplication dropped, and the earlier one with the same key it duplicated.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct DuplicateInfo {
    pub batch_id: Option<u64>,
    pub event: LineageEvent,
    pub first: LineageEvent,
    /// The deduplication key's values.
    pub key: Vec<Json>,
}

/// A cell as text: event values are always shown as text, never as markup. A window reads as
/// the half-open interval it is.
pub fn cell(v: &Json) -> String {
    match v {
        Json::Null => "NULL".into(),
        Json::String(s) => s.clone(),
        Json::Object(m) if m.contains_key("start") && m.contains_key("end") => {
            format!("[{}, {})", cell(&m["start"]), cell(&m["end"]))
        }
        Json::Array(items) => format!("[{}]", items.iter().map(cell).collect::<Vec<_>>().join(", ")),
        other => other.to_string(),
    }
}
