//! A playground session: the scenario being built (sources, tables, query), every event added,
//! the running query and what it did. Pure Rust over the engine and a [`SharedStorage`]: it
//! runs in the Web Worker, and natively in tests.
//!
//! The session keeps itself in the storage beside the query's checkpoint and sinks:
//! `session/definition` (the scenario without steps) and `session/events/N` (each `add`), so a
//! session on IndexedDB survives a page reload: the events are added again and the query
//! resumes from its checkpoint.

use std::collections::{HashMap, VecDeque};

use serde_json::Value as Json;
use unbounded_engine::checkpoint::unframe;
use unbounded_engine::generate::{Generator, GeneratorConfig};
use unbounded_engine::runtime::trigger::ProcessingTimeTrigger;
use unbounded_engine::runtime::trigger::RunTrigger;
use unbounded_engine::runtime::{BatchReport, FailurePoint, OutputMode, QueryDefinition, QueryOptions, RunReport, StreamingQuery};
use unbounded_engine::scenario::{Scenario, Step, StepClock};
use unbounded_engine::storage::{join, SharedStorage, Storage};
use unbounded_engine::time::format_timestamp;
use unbounded_engine::{Error, ErrorKind};

use crate::event_log::{read_framed, write_framed, EventLog, MAX_EVENTS};
use crate::protocol::{
    BatchInfo, CheckpointFileInfo, ColumnInfo, DeadLetterInfo, ErrorInfo, FailureInfo, FilePartInfo, InputWatermark, LateInfo, LineageInfo,
    LiveInfo, RelationDef, RelationInfo, Request, ScrubInfo, ScrubMark, SinkChange, Snapshot, SourceRange, StateInfo, StateTableInfo,
    StorageKind, TableQueryInfo, TableVersionInfo, WindowInfo,
};

pub mod arrivals;
pub mod lineage;
pub mod pipeline;

const DEFINITION: &str = "session/definition";

pub struct Session {
    /// Sources, tables, query and mode; `steps` stays empty (events are kept apart).
    scenario: Scenario,
    /// Processing time for a session over a rate source: the time of the step being applied.
    steps: StepClock,
    /// Every event added, in order: a new query reads them from offset 0.
    events: EventLog,
    /// The most events the session takes from a generator (`MAX_EVENTS`; less in tests).
    max_events: u64,
    storage: SharedStorage,
    kind: StorageKind,
    query: Option<StreamingQuery>,
    batches: Vec<BatchInfo>,
    failures: Vec<FailureInfo>,
    armed: Option<FailurePoint>,
    error: Option<ErrorInfo>,
    notice: Option<String>,
    exported: Option<String>,
    exported_pyspark: Option<String>,
    live: Live,
    table_query: Option<TableQueryInfo>,
    checkpoint_file: Option<(String, String)>,
    /// Why this session is a copy in memory that nothing saves, when it is one.
    detached: Option<String>,
    /// Why the scenario's query was refused when the session was opened (an example or a file
    /// showing a refusal): shown with the query until a query starts.
    refusal: Option<ErrorInfo>,
    /// The scenario's steps not applied yet: the scrubber applies them run by run, so its
    /// events arrive in the batches the scenario gives them.
    plan: VecDeque<Step>,
    /// Every step applied since the query started, events as counts: a new query replays them
    /// with the same batching.
    script: Vec<Done>,
    /// Runs applied since the query started: the live position of the scrubber.
    position: u64,
    /// Events added since the last run.
    arrived: u64,
    /// The session after each run, oldest first, the newest `HISTORY` only: moving back shows
    /// the engine as it was, not a recomputation.
    history: VecDeque<Kept>,
    /// The kept position shown, while it is not the live one.
    viewing: Option<u64>,
    /// Runs of a long replay whose positions would be forgotten at once are not kept.
    quiet: bool,
    /// Each output row (as JSON text) with the first and the last batch that emitted it.
    emitted: HashMap<String, (u64, u64)>,
    lineage: Option<LineageInfo>,
    /// Pipeline mode: a version 2 file loaded over the query session, which stays beneath it.
    pipeline: Option<pipeline::PipelineMode>,
    /// What producers sent to the Kafka sources and the files landed in the Auto Loader
    /// folders, kept to refill them after a reload.
    arrivals: arrivals::Arrivals,
    /// The query stopped (an availableNow or once trigger ended, or Auto Loader stopped the
    /// stream with a new schema recorded): the next run starts it again from its checkpoint.
    stopped: bool,
}

/// A step applied: an `add` as its source and number of events (the event log has the rows).
#[derive(Debug, Clone)]
enum Done {
    Add { source: String, count: usize },
    Step(Step),
}

/// A position of the scrubber and the session as it was there.
struct Kept {
    mark: ScrubMark,
    snapshot: Snapshot,
}

/// The most positions the scrubber keeps (a snapshot each, so bounded); older ones are forgotten.
pub const HISTORY: usize = 60;

fn is_run(step: &Step) -> bool {
    matches!(step, Step::Run | Step::Trigger(_))
}

/// Whether `e` refuses the query itself (SQL, streaming rules), as Spark refuses it at start,
/// rather than the file, the storage or the engine.
fn refuses_the_query(e: &Error) -> bool {
    !matches!(e.kind, ErrorKind::InvalidInput | ErrorKind::Internal | ErrorKind::Checkpoint)
}

/// A live run: a processing-time trigger and, optionally, a generator feeding the sources.
#[derive(Default)]
struct Live {
    trigger: Option<ProcessingTimeTrigger>,
    interval_ms: f64,
    generator: Option<Generator>,
    last_tick_ms: Option<f64>,
    /// The simulated cluster's rows per second: a batch takes its rows over this, at least.
    capacity: Option<f64>,
    /// When the batch running on the simulated cluster ends: no trigger starts before.
    busy_until_ms: Option<f64>,
    /// The Kafka topic the generator produces to, in a session over one.
    topic: Option<String>,
    /// The continuous or Real-Time Mode trigger the query runs under while playing: its
    /// epochs commit as the query's clock passes their end, not on the processing-time trigger.
    low_latency: Option<RunTrigger>,
}

/// The slowest and the fastest simulated cluster the capacity knob takes, in rows per second.
pub const CAPACITY_RANGE: (f64, f64) = (1.0, 1_000_000.0);

/// The most rows of the table and the file a snapshot carries (the newest); the page shows
/// counts for the rest, so a long live run does not flood it.
pub const SNAPSHOT_ROWS: usize = 500;
/// The most micro-batches, table versions and dead letters a snapshot lists (the newest).
pub const SNAPSHOT_BATCHES: usize = 200;

fn error_info(e: &Error) -> ErrorInfo {
    ErrorInfo {
        kind: e.kind.code().to_string(),
        message: e.message.clone(),
        line: e.position.map(|p| p.line),
        column: e.position.map(|p| p.column),
    }
}

fn batch_info(b: &BatchReport) -> BatchInfo {
    BatchInfo {
        batch_id: b.batch_id,
        input_rows: b.progress.num_input_rows,
        output_rows: b.rows.num_rows() as u64,
        watermark: b.watermark.map(format_timestamp),
        state_rows: b.state_rows,
        dropped_late: b.dropped_late,
        bad_records: b.bad_records.len() as u64,
        duration_ms: b.progress.duration_ms.trigger_execution,
        skipped_by_table: b.skipped_by_table,
        watermark_micros: b.watermark,
        window_watermark_micros: b.operator_watermarks.iter().find(|w| w.operator == "timeWindow").map(|w| w.eviction).filter(|&w| w > 0),
        input_watermarks: b
            .input_watermarks
            .iter()
            .map(|(source, w)| InputWatermark { source: source.clone(), micros: w.filter(|&w| w > 0) })
            .collect(),
        offsets: b
            .progress
            .sources
            .iter()
            .map(|p| SourceRange {
                // Spark's descriptions end with the source's name: MemoryStream[s],
                // KafkaV2[Subscribe[t]], CloudFilesSource[f].
                source: p.description.rsplit('[').next().unwrap_or_default().trim_end_matches(']').to_string(),
                start: p.start_offset,
                end: p.end_offset,
            })
            .collect(),
        late: b
            .late_rows
            .iter()
            .take(LATE_SHOWN)
            .map(|l| LateInfo {
                operator: l.operator.clone(),
                row: l.row.iter().map(|v| v.to_json()).collect(),
                event_time: l.event_time,
                watermark: l.watermark,
                window: l.window,
            })
            .collect(),
        timestamp_ms: b.progress.timestamp_ms,
        input_rows_per_second: b.progress.input_rows_per_second,
        processed_rows_per_second: b.progress.processed_rows_per_second,
        offsets_behind: {
            let behind: Vec<u64> =
                b.progress.sources.iter().filter_map(|p| p.metrics.get("maxOffsetsBehindLatest")).filter_map(|v| v.parse().ok()).collect();
            (!behind.is_empty()).then(|| behind.iter().sum())
        },
        record_latencies: b
            .progress
            .record_latencies
            .iter()
            .take(crate::protocol::LATENCY_RUNS)
            .map(|l| crate::protocol::RecordLatencyInfo {
                source: l.source.clone(),
                partition: l.partition,
                first_offset: l.first_offset,
                records: l.records,
                arrived_ms: l.arrived_ms,
                processed_ms: l.processed_ms,
                latency_ms: l.latency_ms,
            })
            .collect(),
    }
}

/// The newest table version's changes, as indexes into the snapshot's rows (its newest
/// `SNAPSHOT_ROWS`): changes to rows it leaves out are not shown.
fn sink_change(q: &StreamingQuery) -> SinkChange {
    let table = q.table();
    let first = table.num_rows().saturating_sub(SNAPSHOT_ROWS);
    let shown = |rows: &[usize]| rows.iter().filter(|&&i| i >= first).map(|&i| i - first).collect();
    let change = table.last_change();
    SinkChange {
        batch_id: table.versions().last().map(|v| v.batch_id),
        added: shown(&change.added),
        updated: shown(&change.updated),
        removed: change.removed.iter().take(SNAPSHOT_ROWS).map(|r| r.as_array().cloned().unwrap_or_default()).collect(),
    }
}

/// The newest `SNAPSHOT_ROWS` rows of the file, read from its last parts only.
fn newest_file_rows(file: &unbounded_engine::sink::FileSink) -> Vec<Vec<Json>> {
    file.newest_rows_json(SNAPSHOT_ROWS).into_iter().map(|row| row.as_array().cloned().unwrap_or_default()).collect()
}

/// How the worker opens a session: see [`Session::open`].
pub struct Opening {
    pub storage: SharedStorage,
    pub kind: StorageKind,
    pub read_only: bool,
    /// A shared link's scenario.
    pub scenario: Option<String>,
    /// The session moved from the other storage, as a scenario file.
    pub carry: Option<String>,
    /// What the person should know about the storage (IndexedDB could not open, say).
    pub notice: Option<String>,
}

/// The largest scenario text a session opens (a link, an imported file, a pasted one): about
/// 2,000 trucks' events a minute for an hour. Anything a stranger sends is held whole in the
/// tab, in the saved session and in every export, so it must be bounded.
pub const MAX_SCENARIO_BYTES: usize = 4 * 1024 * 1024;

fn check_scenario_size(text: &str) -> Result<(), Error> {
    if text.len() > MAX_SCENARIO_BYTES {
        return Err(Error::invalid_input(format!(
            "the scenario is {} KiB, more than the {} KiB a session opens: split it, or trim its events",
            text.len() / 1024,
            MAX_SCENARIO_BYTES / 1024
        )));
    }
    Ok(())
}

/// The generator's bounds are the engine's: the page's inputs use them as `min` and `max`.
pub use unbounded_engine::generate::{MAX_EVENTS_PER_SECOND, MAX_KEYS, MAX_SPEED, MAX_SPREAD_MS};

/// The most late rows a batch lists.
const LATE_SHOWN: usize = 100;

/// The last `n` items: what a snapshot sends of a list that grows with every batch.
fn newest<T>(items: &[T], n: usize) -> &[T] {
    &items[items.len().saturating_sub(n)..]
}

fn storage_error(e: unbounded_engine::storage::StorageError) -> Error {
    Error::from(e)
}

/// The scenario's query started on `storage` (from its checkpoint, if there is one), with no
/// events added yet.
fn start_on(storage: &SharedStorage, scenario: &Scenario, arriving: &[Step], steps: &StepClock) -> Result<StreamingQuery, Error> {
    // A rate source's rows come from processing time: a session over one runs on the
    // scenario's step clock (step i is i seconds after the base), as the runner does, so
    // its batches are the CLI's and the export replays them.
    let clock: Box<dyn unbounded_engine::runtime::Clock> =
        if scenario.rate.is_empty() { crate::clock::clock() } else { Box::new(steps.clone()) };
    // A source's read limits (maxFilesPerTrigger, ...) come with the scenario, as in the runner.
    let options = QueryOptions {
        storage: storage.clone(),
        clock,
        rate: scenario.rate_sources()?,
        source_options: scenario.file_options()?,
        // Each topic and folder starts empty: the session's steps fill it. A folder's schema is
        // inferred from the files that land before the first run (the runner's rule).
        kafka: scenario.kafka_sources()?,
        auto_loader: Scenario { steps: arriving.to_vec(), ..scenario.clone() }.auto_loader_sources()?,
        ..QueryOptions::default()
    };
    let definition = QueryDefinition { sql: scenario.query.clone(), output_mode: scenario.output_mode, catalog: scenario.catalog()? };
    StreamingQuery::start_with(definition, options)
}

impl Session {
    /// A session with nothing run yet: no query, no batches, no messages.
    fn new(scenario: Scenario, events: EventLog, storage: SharedStorage, kind: StorageKind) -> Session {
        Session {
            scenario,
            steps: StepClock::default(),
            events,
            max_events: MAX_EVENTS,
            storage,
            kind,
            query: None,
            batches: Vec::new(),
            failures: Vec::new(),
            armed: None,
            error: None,
            notice: None,
            exported: None,
            exported_pyspark: None,
            live: Live::default(),
            table_query: None,
            checkpoint_file: None,
            detached: None,
            refusal: None,
            plan: VecDeque::new(),
            script: Vec::new(),
            position: 0,
            arrived: 0,
            history: VecDeque::new(),
            viewing: None,
            quiet: false,
            emitted: HashMap::new(),
            lineage: None,
            pipeline: None,
            arrivals: arrivals::Arrivals::default(),
            stopped: false,
        }
    }

    /// A new session over `text` (scenario format) on `storage`, which is emptied first; the
    /// scenario's steps are replayed to its end (the scrubber can go back over them).
    pub fn start(text: &str, storage: SharedStorage, kind: StorageKind) -> Result<Session, Error> {
        let mut s = Session::queued(text, storage, kind)?;
        if s.query.is_some() {
            s.run_to_end()?;
        }
        Ok(s)
    }

    /// A new session over `text` on `storage` (emptied first) at batch 0: nothing has arrived,
    /// the scenario's steps wait in the plan for the scrubber to apply them run by run.
    pub fn queued(text: &str, storage: SharedStorage, kind: StorageKind) -> Result<Session, Error> {
        let scenario = Scenario::parse(text)?;
        // Check the query before touching the storage: a file that cannot be used changes nothing.
        // A query Spark refuses is what some files show (the gallery's "refused" example): the
        // session opens with that query, its events and the error, and runs nothing.
        let refusal = match start_on(&SharedStorage::memory(), &scenario, &scenario.steps, &StepClock::default()) {
            Ok(_) => None,
            Err(e) if refuses_the_query(&e) => Some(error_info(&e)),
            Err(e) => return Err(e),
        };
        storage.scoped("").delete_all("").map_err(storage_error)?;
        let events = EventLog::empty(storage.clone())?;
        let mut s = Session::new(Scenario { steps: Vec::new(), ..scenario.clone() }, events, storage, kind);
        s.plan = scenario.steps.into_iter().collect();
        s.refusal = refusal;
        s.save_definition()?;
        if s.refusal.is_none() {
            s.query = Some(s.start_query()?);
        }
        s.record(Vec::new());
        Ok(s)
    }

    /// A session in memory, for tests and for the page when IndexedDB is not wanted.
    pub fn from_scenario(text: &str) -> Result<Session, Error> {
        Session::start(text, SharedStorage::memory(), StorageKind::Memory)
    }

    /// The session saved in `storage`, if there is one: its events are added again and the
    /// query resumes from its checkpoint. A checkpoint that cannot be used leaves the session
    /// without a running query and says why (losing the checkpoint starts it again).
    pub fn resume(storage: SharedStorage, kind: StorageKind) -> Result<Option<Session>, Error> {
        let Some(definition) = read_framed(&storage, DEFINITION)? else { return Ok(None) };
        let mut scenario = Scenario::from_json(&definition)?;
        // The saved definition's steps are what the scrubber had not applied yet.
        let plan: VecDeque<Step> = std::mem::take(&mut scenario.steps).into_iter().collect();
        // The events are read once, summarised and fed to the query as they come.
        let steps = StepClock::default();
        let mut query = start_on(&storage, &scenario, &[], &steps);
        let events = EventLog::open(storage.clone(), &scenario.sources, |source, rows| {
            if let Ok(q) = &mut query {
                if let Err(e) = q.add_json(source, rows) {
                    query = Err(e);
                }
            }
            Ok(())
        })?;
        // The topics are refilled at the offsets they had before the query reads its checkpoint's.
        let arrived = arrivals::Arrivals::load(&storage, &scenario)?;
        if let Ok(q) = &mut query {
            if let Err(e) = arrived.refill(q) {
                query = Err(e);
            }
        }
        let mut s = Session::new(scenario, events, storage, kind);
        s.steps = steps;
        s.plan = plan;
        // The log keeps the events, not the runs between them: a new query reads what had
        // arrived in one batch, then the plan's own batches.
        let _ = s.events.for_each_chunk(|source, rows| {
            s.script.push(Done::Add { source: source.to_string(), count: rows.len() });
            Ok(())
        });
        s.script.extend(arrived.steps.iter().cloned().map(Done::Step));
        s.arrivals = arrived;
        if !s.script.is_empty() {
            s.script.push(Done::Step(Step::Run));
        }
        match query {
            Ok(q) => {
                let pending = q.pending_batch();
                s.notice = Some(match pending {
                    Some(b) => format!(
                        "Resumed after a reload: {} events, and batch {b} was planned but never committed, so the next run re-runs it with the same offsets.",
                        s.events.total()
                    ),
                    None => format!("Resumed after a reload: {} events; the query continues after its last commit.", s.events.total()),
                });
                s.query = Some(q);
            }
            Err(e) if refuses_the_query(&e) => s.refusal = Some(error_info(&e)),
            Err(e) => s.error = Some(error_info(&e)),
        }
        s.record(Vec::new());
        Ok(Some(s))
    }

    /// The session the worker opens on newly opened storage: the one carried over from the
    /// other storage, a shared link's, the one saved there, or the default one. Nothing saved is
    /// ever replaced without the person asking: a link over a saved session, or a saved session
    /// that cannot be read, opens in memory and says so. `read_only` means `storage` is a copy
    /// in memory of a session another tab writes.
    pub fn open(opening: Opening) -> Result<Session, Error> {
        let Opening { storage, kind, read_only, scenario, carry, notice } = opening;
        if let Some(text) = carry {
            if let Some((query, mut p)) = pipeline::PipelineMode::from_carry(&text)? {
                let mut s = Session::start(&query, storage.clone(), kind)?;
                p.save_in(storage)?;
                s.pipeline = Some(p);
                return Ok(s.with_notice(notice));
            }
            return Session::start(&text, storage, kind).map(|s| s.with_notice(notice));
        }
        let kind = if read_only { StorageKind::Memory } else { kind };
        let (scenario, notice) = match scenario.as_deref().map(check_scenario_size) {
            Some(Err(e)) => (None, Some(format!("The shared link could not be opened: {e}"))),
            _ => (scenario, notice),
        };
        // A pipeline link opens in pipeline mode, over the default session.
        let (scenario, pipeline, notice) = match scenario.as_deref().map(pipeline::PipelineMode::load) {
            Some(Ok(Some(p))) => (None, Some(p), notice),
            Some(Err(e)) => (None, None, Some(format!("The shared link could not be opened: {e}"))),
            _ => (scenario, None, notice),
        };
        // Anything in the storage counts as saved, even what no longer reads back.
        let saved = kind == StorageKind::IndexedDb && !storage.scoped("").list("").map_err(storage_error)?.is_empty();
        if let Some(mut p) = pipeline {
            // As a query link: saved where nothing is, in memory beside what is saved.
            if saved || read_only {
                let mut session = Session::start(crate::DEFAULT_SCENARIO, SharedStorage::memory(), StorageKind::Memory)?;
                p.save_in(session.storage.clone())?;
                session.pipeline = Some(p);
                return Ok(session.detached_because(if read_only {
                    "This session is open in another tab, which saves it: this tab works on a copy in memory and saves nothing. Keep it to save it as a session of its own."
                } else {
                    "The pipeline link opened in memory: the session saved in this browser is untouched, and a reload goes back to it. Keep this one to save it as a new session (the saved one stays too)."
                }));
            }
            let mut session = Session::resume_or_default(storage, kind, notice)?;
            p.save_in(session.storage.clone())?;
            session.pipeline = Some(p);
            return Ok(session);
        }
        let mut session = match scenario {
            // A link opens at batch 0, its events queued as its scenario arrives them.
            Some(text) if saved => match Session::queued(&text, SharedStorage::memory(), StorageKind::Memory) {
                Ok(s) => s.detached_because(
                    "The link opened in memory: the session saved in this browser is untouched, and a reload goes back to it. Keep this one to save it as a new session (the saved one stays too).",
                ),
                Err(e) => Session::resume_or_default(storage, kind, Some(format!("The shared link could not be opened: {e}")))?,
            },
            Some(text) => match Session::queued(&text, storage.clone(), kind) {
                Ok(s) => s.with_notice(notice),
                Err(e) => Session::resume_or_default(storage, kind, Some(format!("The shared link could not be opened: {e}")))?,
            },
            None => Session::resume_or_default(storage, kind, notice)?.with_saved_pipeline(),
        };
        if read_only {
            session.detached = Some(
                "This session is open in another tab, which saves it: this tab works on a copy in memory and saves nothing. Keep it to save it as a session of its own.".into(),
            );
        }
        Ok(session)
    }

    /// The saved session, or the default one when nothing is saved. A saved session that cannot
    /// be read stays as it is: the default one opens in memory beside it.
    fn resume_or_default(storage: SharedStorage, kind: StorageKind, notice: Option<String>) -> Result<Session, Error> {
        match Session::resume(storage.clone(), kind) {
            Ok(Some(s)) => Ok(match notice {
                Some(n) => s.with_notice(Some(n)),
                None => s,
            }),
            Ok(None) => Session::start(crate::DEFAULT_SCENARIO, storage, kind).map(|s| s.with_notice(notice)),
            Err(e) => Session::start(crate::DEFAULT_SCENARIO, SharedStorage::memory(), StorageKind::Memory).map(|s| {
                s.detached_because(&format!(
                    "The saved session could not be read ({e}): it is left as it was, and this tab works on a new session in memory. Keep this one to save it as a new session."
                ))
            }),
        }
    }

    /// The session with the pipeline saved beside it, if one is: resumed as it was left.
    fn with_saved_pipeline(mut self) -> Session {
        match pipeline::PipelineMode::resume(&self.storage) {
            Ok(Some((p, message))) => {
                self.pipeline = Some(p);
                self.notice = Some(message);
            }
            Ok(None) => {}
            Err(e) => {
                self.notice =
                    Some(format!("The pipeline saved in this session could not be read ({e}): this is the query session beside it."))
            }
        }
        self
    }

    /// The session as text for a move to other storage: its scenario file, and in pipeline
    /// mode the pipeline with the actions applied to it.
    pub fn carry(&self) -> Option<String> {
        let query = serde_json::to_string_pretty(&self.export().to_json()).ok()?;
        match &self.pipeline {
            Some(p) => p.carry(&query).ok(),
            None => Some(query),
        }
    }

    fn with_notice(mut self, notice: Option<String>) -> Session {
        if notice.is_some() {
            self.notice = notice;
        }
        self
    }

    fn detached_because(mut self, why: &str) -> Session {
        self.detached = Some(why.to_string());
        self
    }

    fn query_mut(&mut self) -> Result<&mut StreamingQuery, Error> {
        self.query.as_mut().ok_or_else(|| Error::invalid_input("no query is running: start one, or lose the checkpoint to start again"))
    }

    /// Saves the scenario with the steps still queued, so a reload keeps what has not arrived.
    fn save_definition(&self) -> Result<(), Error> {
        let saved = Scenario { steps: self.plan.iter().cloned().collect(), ..self.scenario.clone() };
        write_framed(&self.storage, DEFINITION, &saved.to_json())
    }

    /// Starts the session's query on its storage, over every event so far.
    fn start_query(&self) -> Result<StreamingQuery, Error> {
        let arriving: Vec<Step> = self.plan.iter().cloned().collect();
        self.steps.at_step(self.script.len());
        let mut q = start_on(&self.storage, &self.scenario, &arriving, &self.steps)?;
        self.events.for_each_chunk(|source, rows| q.add_json(source, rows))?;
        self.arrivals.refill(&mut q)?;
        Ok(q)
    }

    /// A new query: checked first, then started with a new checkpoint and new sinks at batch
    /// 0, every event so far queued again with the runs between them, so stepping it gives the
    /// batches the first query had (the arrival order is the lesson).
    fn set_query(&mut self, sql: &str, mode: OutputMode) -> Result<(), Error> {
        let mut plan: VecDeque<Step> = self.replayable()?.into();
        plan.extend(self.plan.iter().cloned());
        let arriving: Vec<Step> = plan.iter().cloned().collect();
        start_on(
            &self.trial_storage()?,
            &Scenario { query: sql.to_string(), output_mode: mode, ..self.scenario.clone() },
            &arriving,
            &StepClock::default(),
        )?;
        self.plan.clear();
        let root = &mut self.storage.scoped("");
        for dir in ["checkpoint", "tables", "files"] {
            root.delete_all(dir).map_err(storage_error)?;
        }
        self.events = EventLog::empty(self.storage.clone())?;
        // The plan sends the messages again, to the new query's topics.
        self.arrivals.clear(&self.storage, &self.scenario)?;
        self.plan = plan;
        self.scenario.query = sql.to_string();
        self.scenario.output_mode = mode;
        self.save_definition()?;
        self.query = None;
        self.batches.clear();
        self.failures.clear();
        self.armed = None;
        self.reset_positions();
        self.query = Some(self.start_query()?);
        self.refusal = None;
        self.record(Vec::new());
        Ok(())
    }

    /// A storage in memory holding the session's schema locations only: a new query is tried on
    /// it with the schemas an Auto Loader folder evolved to, and nothing of the session changes.
    fn trial_storage(&self) -> Result<SharedStorage, Error> {
        let trial = SharedStorage::memory();
        let (from, mut to) = (self.storage.scoped(""), trial.scoped(""));
        let mut dirs = vec!["schemas".to_string()];
        while let Some(dir) = dirs.pop() {
            for name in from.list(&dir).map_err(storage_error)? {
                let path = join(&dir, &name);
                match from.read(&path).map_err(storage_error)? {
                    Some(bytes) => to.write(&path, &bytes).map_err(storage_error)?,
                    None => dirs.push(path),
                }
            }
        }
        Ok(trial)
    }

    /// Forgets the scrubber's positions: a new query starts at batch 0.
    fn reset_positions(&mut self) {
        self.script.clear();
        self.position = 0;
        self.arrived = 0;
        self.history.clear();
        self.viewing = None;
        self.emitted.clear();
        self.stopped = false;
    }

    /// The steps applied so far with their events, as a scenario's steps: what a new query
    /// replays, and what an export writes before the queued steps.
    fn replayable(&self) -> Result<Vec<Step>, Error> {
        let mut chunks = Vec::new();
        self.events.for_each_chunk(|source, rows| {
            chunks.push(Step::Add { source: source.to_string(), rows: rows.to_vec() });
            Ok(())
        })?;
        let adds: Vec<(&str, usize)> = self
            .script
            .iter()
            .filter_map(|d| if let Done::Add { source, count } = d { Some((source.as_str(), *count)) } else { None })
            .collect();
        let matches = adds.len() == chunks.len()
            && adds.iter().zip(&chunks).all(|((s, n), c)| matches!(c, Step::Add { source, rows } if source == s && rows.len() == *n));
        if !matches {
            // The log and the script disagree (events a generator left half-written, say):
            // every event, then one run.
            if !chunks.is_empty() {
                chunks.push(Step::Run);
            }
            return Ok(chunks);
        }
        let mut chunks = chunks.into_iter();
        Ok(self
            .script
            .iter()
            .filter_map(|d| match d {
                Done::Add { .. } => chunks.next(),
                Done::Step(step) => Some(step.clone()),
            })
            .collect())
    }

    /// Applies one step of a scenario.
    fn apply(&mut self, step: Step) -> Result<(), Error> {
        match step {
            Step::Add { source, rows } => self.add_events(&source, rows),
            Step::Run => self.run(Step::Run, |q| q.process_all_available()),
            Step::Trigger(t) => self.run(Step::Trigger(t), |q| q.run_trigger(t)),
            Step::Restart => {
                self.query_mut()?.restart()?;
                self.script.push(Done::Step(Step::Restart));
                Ok(())
            }
            Step::Fail(point) => self.arm(point),
            Step::Produce { source, messages, partition } => self.produce(&source, &messages, partition),
            Step::Retain { source, from_offsets } => self.arrival(Step::Retain { source, from_offsets }),
            Step::Land { source, file, text } => self.arrival(Step::Land { source, file, text }),
        }
    }

    /// Applies the queued steps up to and with the next run. Returns whether anything was queued.
    fn forward_one(&mut self) -> Result<bool, Error> {
        if self.plan.is_empty() {
            return Ok(false);
        }
        self.query_mut()?;
        let mut result = Ok(());
        while let Some(step) = self.plan.pop_front() {
            let run = is_run(&step);
            // A step that fails is dropped and its error shown: kept, it would fail again.
            result = match step {
                Step::Trigger(t) if t.is_live() => self.replay_live(t),
                step => self.apply(step),
            };
            if run || result.is_err() {
                break;
            }
        }
        self.save_definition()?;
        result.map(|_| true)
    }

    /// A continuous or Real-Time Mode step of a scenario, as the runner runs it: the query
    /// runs live across the steps after it, up to the next run, trigger or restart (or the
    /// scenario's end), each epoch committing when it has ended, the open one at the stop.
    fn replay_live(&mut self, trigger: RunTrigger) -> Result<(), Error> {
        self.start_low_latency(trigger)?;
        while self.plan.front().is_some_and(|next| !matches!(next, Step::Run | Step::Trigger(_) | Step::Restart)) {
            let Some(step) = self.plan.pop_front() else { break };
            // As in the runner: the epochs that have ended commit before the step happens.
            let ticked = self.query_mut().and_then(|q| q.tick_live());
            let applied = match ticked {
                Ok(report) if report.batches.is_empty() && report.failures.is_empty() => Ok(()),
                Ok(report) => self.run(Step::Trigger(trigger), |_| Ok(report)),
                Err(e) => Err(e),
            };
            match applied.and_then(|()| self.apply(step)) {
                Ok(()) => {}
                Err(e) => {
                    // The live run ends with the step that failed, as the runner's does.
                    self.live.low_latency = None;
                    self.query_mut()?.abandon_live();
                    return Err(e);
                }
            }
        }
        self.stop_low_latency()
    }

    /// Applies every queued step; positions that would be forgotten at once are not kept.
    fn run_to_end(&mut self) -> Result<(), Error> {
        let mut runs = self.plan.iter().filter(|s| is_run(s)).count();
        let mut result = Ok(());
        while !self.plan.is_empty() {
            self.quiet = runs > HISTORY;
            result = self.forward_one().map(|_| ());
            runs = runs.saturating_sub(1);
            if result.is_err() {
                break;
            }
        }
        self.quiet = false;
        result.map(|_| ())
    }

    fn forward(&mut self) -> Result<(), Error> {
        if let Some(p) = self.viewing {
            let next = self.history.iter().map(|k| k.mark.position).find(|&q| q > p);
            self.viewing = next.filter(|&q| q < self.position);
            return Ok(());
        }
        if !self.forward_one()? {
            self.notice = Some("Nothing is queued: every event of the scenario has arrived. Add events, then run a batch.".into());
        }
        Ok(())
    }

    fn back(&mut self) {
        let shown = self.viewing.unwrap_or(self.position);
        match self.history.iter().map(|k| k.mark.position).rfind(|&q| q < shown) {
            Some(p) => self.viewing = Some(p),
            None => {
                self.notice = Some(if self.history.front().is_some_and(|k| k.mark.position > 0) {
                    format!("This is the oldest position kept: the session keeps the last {HISTORY}.")
                } else {
                    "This is where the query started: nothing ran before.".to_string()
                })
            }
        }
    }

    fn scrub_to(&mut self, position: u64) -> Result<(), Error> {
        if position == self.position {
            self.viewing = None;
        } else if self.history.iter().any(|k| k.mark.position == position) {
            self.viewing = Some(position);
        } else {
            return Err(Error::invalid_input(format!(
                "position {position} is not kept: the scrubber keeps positions {}",
                self.history.iter().map(|k| k.mark.position.to_string()).collect::<Vec<_>>().join(", ")
            )));
        }
        Ok(())
    }

    /// Keeps the live session as a position of the scrubber, after a run (or as it opened).
    fn record(&mut self, batch_ids: Vec<u64>) {
        let arrived = std::mem::take(&mut self.arrived);
        if self.quiet {
            return;
        }
        let mark = ScrubMark { position: self.position, batch_ids, arrived };
        let snapshot =
            Snapshot { notice: None, error: None, exported: None, exported_pyspark: None, pipeline: None, ..self.live_snapshot() };
        if self.history.back().is_some_and(|k| k.mark.position == self.position) {
            self.history.pop_back();
        }
        self.history.push_back(Kept { mark, snapshot });
        while self.history.len() > HISTORY {
            self.history.pop_front();
        }
    }

    fn scrub_info(&self) -> ScrubInfo {
        ScrubInfo {
            position: self.viewing.unwrap_or(self.position),
            live: self.position,
            kept: self.history.iter().map(|k| k.mark.clone()).collect(),
            queued_runs: self.plan.iter().filter(|s| is_run(s)).count() as u64,
            queued_events: self.plan.iter().map(|s| if let Step::Add { rows, .. } = s { rows.len() as u64 } else { 0 }).sum(),
        }
    }

    /// Appends events to a source and keeps them with the session. A refused batch of rows (a
    /// wrong number of values) adds nothing.
    fn add_events(&mut self, source: &str, rows: Vec<Json>) -> Result<(), Error> {
        let name = self
            .scenario
            .sources
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(source))
            .map(|(n, _)| n.clone())
            .ok_or_else(|| Error::new(ErrorKind::UnknownTable, format!("there is no source `{source}`")))?;
        if self.scenario.rate.iter().any(|r| r.eq_ignore_ascii_case(&name)) {
            return Err(Error::invalid_input(format!(
                "{name} is a rate source: its rows come from the trigger's clock (rowsPerSecond each second), not from events"
            )));
        }
        if let Some(q) = self.query.as_mut() {
            q.add_json(&name, &rows)?;
        }
        self.events.append(&name, &rows, &self.scenario.sources)?;
        self.script.push(Done::Add { source: name, count: rows.len() });
        self.arrived += rows.len() as u64;
        Ok(())
    }

    /// A producer sends `messages` to a Kafka source. A message without a timestamp gets the
    /// time of this step of the scenario (as the runner gives it), written out so a replay
    /// gives the same one.
    fn produce(&mut self, source: &str, messages: &[Json], partition: Option<u32>) -> Result<(), Error> {
        let messages = arrivals::resolved(messages, self.script.len())?;
        self.arrival(Step::Produce { source: source.to_string(), messages, partition })
    }

    /// A producer's send or a retention cut: checked by the query's topic, kept (so a reload
    /// refills the topic), then applied.
    fn arrival(&mut self, step: Step) -> Result<(), Error> {
        let q = self.query.as_ref().ok_or_else(|| Error::invalid_input("no query is running: start one first"))?;
        let step = match step {
            Step::Produce { source, messages, partition } => {
                // Checked before it is kept: a message the topic refuses keeps nothing.
                let topic = kafka_topic(q, &source)?;
                topic.check_partition(partition)?;
                unbounded_engine::scenario::kafka_messages(&messages, 0)?;
                Step::Produce { source: topic.name().to_string(), messages, partition }
            }
            Step::Retain { source, from_offsets } => Step::Retain { source: kafka_topic(q, &source)?.name().to_string(), from_offsets },
            Step::Land { source, file, text } => {
                let name =
                    self.scenario.auto_loader.iter().map(|(n, _, _)| n).find(|n| n.eq_ignore_ascii_case(&source)).cloned().ok_or_else(
                        || {
                            Error::new(
                                ErrorKind::UnknownTable,
                                format!("there is no Auto Loader folder `{source}`; files land in a source of kind auto_loader"),
                            )
                        },
                    )?;
                q.auto_loader_source(&name)
                    .ok_or_else(|| Error::invalid_input(format!("the query has no folder `{name}`")))?
                    .check_name(&file)?;
                Step::Land { source: name, file, text }
            }
            _ => return Ok(()),
        };
        // A file's modification time, as the runner gives it: its step's index in seconds.
        let at = unbounded_engine::scenario::file_time_ms(self.script.len());
        self.arrivals.push(step.clone(), at, &self.storage, &self.scenario)?;
        arrivals::apply(self.query_mut()?, &step, at)?;
        self.arrived += match &step {
            Step::Produce { messages, .. } => messages.len() as u64,
            Step::Land { .. } => 1,
            _ => 0,
        };
        self.script.push(Done::Step(step));
        Ok(())
    }

    fn arm(&mut self, point: FailurePoint) -> Result<(), Error> {
        self.query_mut()?.inject_failure(point);
        self.armed = Some(point);
        self.script.push(Done::Step(Step::Fail(point)));
        Ok(())
    }

    /// Runs micro-batches as `step` says (`how`), and keeps the position it leads to.
    fn run(&mut self, step: Step, how: impl FnOnce(&mut StreamingQuery) -> unbounded_engine::Result<RunReport>) -> Result<(), Error> {
        if !matches!(step, Step::Trigger(t) if t.is_live()) {
            // A micro-batch run ends a continuous or Real-Time Mode one first.
            self.stop_low_latency()?;
        }
        // The step's processing time, as the runner gives step i: i seconds after the base.
        self.steps.at_step(self.script.len());
        if std::mem::take(&mut self.stopped) {
            // A trigger ran to its end, or Auto Loader stopped the stream to evolve its schema:
            // it starts again from its checkpoint (with the new schema), as Spark's must.
            self.query_mut()?.restart()?;
        }
        let report = match how(self.query_mut()?) {
            Ok(r) => r,
            Err(e) if unbounded_engine::scenario::is_schema_evolution_stop(&e) => {
                // The run is a position of its own (the runner's too): it ran and stopped.
                self.stopped = true;
                self.script.push(Done::Step(step));
                self.position += 1;
                self.record(Vec::new());
                return Err(e);
            }
            Err(e) => return Err(e),
        };
        // availableNow and once stop the query when they are done.
        self.stopped = matches!(step, Step::Trigger(RunTrigger::AvailableNow | RunTrigger::Once));
        self.script.push(Done::Step(step));
        for b in &report.batches {
            for row in unbounded_engine::scenario::rows_json(&b.rows) {
                let seen = self.emitted.entry(row.to_string()).or_insert((b.batch_id, b.batch_id));
                seen.1 = b.batch_id;
            }
        }
        if !report.batches.is_empty() || !report.failures.is_empty() {
            self.armed = None;
        }
        self.failures.extend(report.failures.iter().map(|(b, p)| FailureInfo { batch_id: *b, point: p.as_str().to_string() }));
        self.batches.extend(report.batches.iter().map(batch_info));
        // Only the newest are ever shown; a long live run must not keep every batch.
        let excess = self.batches.len().saturating_sub(SNAPSHOT_BATCHES);
        self.batches.drain(..excess);
        self.position += 1;
        self.record(report.batches.iter().map(|b| b.batch_id).collect());
        Ok(())
    }

    /// The session as a scenario file: its sources, tables and query, the steps applied (every
    /// event with the runs between them) and the steps still queued.
    pub fn export(&self) -> Scenario {
        // Events in storage that no longer read back are left out of the export, not invented.
        let mut steps = self.replayable().unwrap_or_default();
        steps.extend(self.plan.iter().cloned());
        if steps.last().is_some_and(|s| !is_run(s)) {
            steps.push(Step::Run);
        }
        Scenario { steps, ..self.scenario.clone() }
    }

    pub fn storage(&self) -> &SharedStorage {
        &self.storage
    }

    pub fn storage_kind(&self) -> StorageKind {
        self.kind
    }

    /// Applies a request. A request that fails leaves the session as it was and records the
    /// error for the page to show in place. `Init` and `SetStorage` need the worker (they open
    /// storage) and are handled there.
    pub fn handle(&mut self, request: Request) -> Snapshot {
        self.notice = None;
        self.exported = None;
        self.exported_pyspark = None;
        let scrubbing = matches!(request, Request::StepForward | Request::StepBack | Request::ScrubTo { .. });
        let asking = matches!(request, Request::WhyRow { .. } | Request::WhyDuplicate { .. });
        if !scrubbing && !asking {
            // Anything else acts on the session as it is now.
            self.viewing = None;
        }
        if !asking {
            self.lineage = None;
        }
        if let Request::LoadScenario { text } = &request {
            match check_scenario_size(text).and_then(|_| pipeline::PipelineMode::load(text)) {
                // The person opened it: it replaces the pipeline this session saved, if any.
                Ok(Some(mut p)) => {
                    if let Err(e) = p.save_in(self.storage.clone()) {
                        self.error = Some(error_info(&e));
                        return self.snapshot();
                    }
                    self.notice = Some(format!("Pipeline `{}` loaded: Run update applies its next update.", p.name()));
                    self.pipeline = Some(p);
                    self.error = None;
                    return self.snapshot();
                }
                // A query scenario leaves pipeline mode when it opens (below), not before.
                Ok(None) => {}
                Err(e) => {
                    self.error = Some(error_info(&e));
                    return self.snapshot();
                }
            }
        }
        if let Some(answer) = self.pipeline.as_mut().and_then(|p| p.handle(&request)) {
            self.error = answer.as_ref().err().map(error_info);
            self.notice = answer.ok().flatten();
            return self.snapshot();
        }
        let result = match request {
            Request::Init { .. } | Request::SetStorage { .. } | Request::DebugPanic => Ok(()),
            Request::PipelineUpdate { .. }
            | Request::PipelineFail { .. }
            | Request::PipelineLoseCheckpoint { .. }
            | Request::PipelineSelect { .. }
            | Request::PipelineQueryLog { .. } => {
                Err(Error::invalid_input("no pipeline is loaded: open a pipeline example or a version 2 file"))
            }
            Request::LoadScenario { text } => {
                // An example or a file opens at batch 0: the scrubber steps it as it arrives.
                check_scenario_size(&text).and_then(|_| Session::queued(&text, self.storage.clone(), self.kind)).map(|s| {
                    // A copy in memory stays one: loading a scenario saves nothing either.
                    let detached = self.detached.take();
                    *self = s;
                    self.detached = detached;
                })
            }
            Request::SetQuery { sql, output_mode } => match OutputMode::parse(&output_mode) {
                None => Err(Error::invalid_input(format!("unknown output mode `{output_mode}`: use append, update or complete"))),
                Some(mode) => self.set_query(&sql, mode),
            },
            Request::AddEvent { source, row } => self.add_events(&source, vec![Json::Array(row)]),
            Request::AddEvents { source, rows } => self.add_events(&source, rows),
            Request::Produce { source, messages, partition } => self.produce(&source, &messages, partition),
            Request::Land { source, file, text } => self.arrival(Step::Land { source, file, text }),
            Request::Retain { source, from_offsets } => self.arrival(Step::Retain { source, from_offsets }),
            Request::RunBatch => self.run(Step::Run, |q| q.process_all_available()),
            Request::Step => self.run(Step::Trigger(RunTrigger::Batches(1)), |q| q.step()),
            Request::StepForward => self.forward(),
            Request::StepBack => {
                self.back();
                Ok(())
            }
            Request::ScrubTo { position } => self.scrub_to(position),
            Request::RunToEnd => self.run_to_end().map(|_| {
                if self.query.is_some() && self.scrub_info().queued_runs == 0 && self.notice.is_none() {
                    self.notice = Some("Every step of the scenario has run; step back to see any batch again.".into());
                }
            }),
            Request::WhyRow { row } => {
                self.lineage = Some(lineage::why_row(self, &row));
                Ok(())
            }
            Request::WhyDuplicate { source, offset } => {
                self.lineage = lineage::why_duplicate(self, &source, offset);
                Ok(())
            }
            Request::InjectFailure { point } => match FailurePoint::parse(&point) {
                Some(p) => self.arm(p),
                None => Err(Error::invalid_input(format!(
                    "unknown failure point `{point}`: use one of {}",
                    FailurePoint::ALL.iter().map(|p| p.as_str()).collect::<Vec<_>>().join(", ")
                ))),
            },
            Request::Restart => self.query_mut().and_then(|q| q.restart()).map(|_| {
                self.script.push(Done::Step(Step::Restart));
                self.notice = Some("Restarted from the checkpoint: state, offsets and the watermark were loaded from it.".into());
            }),
            Request::LoseCheckpoint => self.lose_checkpoint(),
            Request::Export if self.pipeline.is_some() => {
                // In pipeline mode the pipeline is what is exported, not the query session behind it.
                let (exported, pyspark) = self.pipeline.as_ref().map(pipeline::PipelineMode::export).unzip();
                self.exported = exported.flatten();
                self.exported_pyspark = pyspark;
                Ok(())
            }
            Request::Export => {
                let scenario = self.export();
                self.exported = serde_json::to_string_pretty(&scenario.to_json()).ok();
                self.exported_pyspark = Some(unbounded_engine::pyspark::pyspark(&scenario));
                Ok(())
            }
            Request::Play { interval_ms } => self.stop_low_latency().map(|()| {
                self.live.interval_ms = interval_ms.max(0.0);
                self.live.trigger = Some(ProcessingTimeTrigger::new(self.live.interval_ms));
                self.live.last_tick_ms = None;
            }),
            Request::PlayLive { mode, interval_ms } => self.play_low_latency(&mode, interval_ms),
            Request::Pause => {
                self.live.trigger = None;
                self.stop_low_latency()
            }
            Request::AvailableNow => {
                self.live.trigger = None;
                self.run(Step::Trigger(RunTrigger::AvailableNow), |q| q.run_trigger(RunTrigger::AvailableNow))
            }
            Request::Once => {
                self.live.trigger = None;
                self.run(Step::Trigger(RunTrigger::Once), |q| q.run_trigger(RunTrigger::Once))
            }
            Request::SetGenerator { config } => self.set_generator(config),
            Request::SetCapacity { rows_per_second } => self.set_capacity(rows_per_second),
            Request::SetRelations { sources, tables } => self.set_relations(sources, tables),
            Request::ReadCheckpoint { path } => {
                self.checkpoint_file = Some((path.clone(), self.read_checkpoint(&path)));
                Ok(())
            }
            Request::QueryTable { sql } => {
                self.table_query = Some(self.query_table(&sql));
                Ok(())
            }
        };
        self.error = result.err().map(|e| error_info(&e));
        self.snapshot()
    }

    /// New sources and tables, checked by the scenario format's own rules (so errors name the
    /// relation and column). Events of a source whose width is unchanged are kept.
    fn set_relations(&mut self, sources: Vec<RelationDef>, tables: Vec<RelationDef>) -> Result<(), Error> {
        let mut doc = self.scenario.to_json();
        let schema = |cols: &[(String, String)]| {
            Json::Array(cols.iter().map(|(n, t)| Json::Array(vec![n.clone().into(), t.clone().into()])).collect())
        };
        doc["sources"] = sources
            .iter()
            .map(|s| (s.name.clone(), serde_json::json!({"schema": schema(&s.columns)})))
            .collect::<serde_json::Map<_, _>>()
            .into();
        doc["tables"] = tables
            .iter()
            .map(|t| (t.name.clone(), serde_json::json!({"schema": schema(&t.columns), "rows": t.rows})))
            .collect::<serde_json::Map<_, _>>()
            .into();
        let next = Scenario::from_json(&doc)?;
        let catalog = next.catalog()?;
        // Only rows of static tables changed: a new version of the table, which the running
        // query joins from its next micro-batch on, as Spark does; what was written stays.
        let same_shape = next.sources == self.scenario.sources
            && next.tables.len() == self.scenario.tables.len()
            && next.tables.iter().zip(&self.scenario.tables).all(|(a, b)| a.0 == b.0 && a.1 == b.1);
        if let (true, Some(q)) = (same_shape, self.query.as_mut()) {
            q.replace_tables(catalog)?;
            self.scenario = next;
            self.save_definition()?;
            self.notice = Some(
                "The table changed: the next micro-batch joins against its new rows; rows already written stay as they were (a stream-static join reads the table's latest version in every micro-batch).".into(),
            );
            return Ok(());
        }
        let width = |name: &str, sc: &Scenario| sc.sources.iter().find(|(n, _)| n == name).map(|(_, s)| s.len());
        let mut by_source: Vec<(String, Vec<Json>)> = Vec::new();
        let mut dropped = 0;
        self.events.for_each_chunk(|s, rows| {
            if width(s, &next).is_none() || width(s, &next) != width(s, &self.scenario) {
                dropped += rows.len();
                return Ok(());
            }
            match by_source.last_mut() {
                Some((last, kept)) if last == s => kept.extend_from_slice(rows),
                _ => by_source.push((s.to_string(), rows.to_vec())),
            }
            Ok(())
        })?;
        let root = &mut self.storage.scoped("");
        for dir in ["checkpoint", "tables", "files"] {
            root.delete_all(dir).map_err(storage_error)?;
        }
        self.scenario = next;
        self.events = EventLog::empty(self.storage.clone())?;
        self.query = None;
        self.batches.clear();
        self.failures.clear();
        self.reset_positions();
        self.save_definition()?;
        for (s, rows) in by_source {
            self.add_events(&s, rows)?;
        }
        self.notice = Some(if dropped > 0 {
            format!("The sources and tables changed; {dropped} events of sources whose columns changed were removed, and the query starts over with a new checkpoint.")
        } else {
            "The sources and tables changed; the query starts over with a new checkpoint.".to_string()
        });
        // A query that no longer fits waits for a fix: its error shows in the editor.
        self.query = Some(self.start_query()?);
        self.record(Vec::new());
        Ok(())
    }

    /// A checkpoint file as text: JSON logs pretty-printed, state files summarised.
    fn read_checkpoint(&self, path: &str) -> String {
        let full = join("checkpoint", path);
        let bytes = match self.storage.scoped("").read(&full) {
            Ok(Some(b)) => b,
            Ok(None) => return format!("`{path}` is not in the checkpoint (any more)."),
            Err(e) => return e.to_string(),
        };
        if path.ends_with(".delta") || path.ends_with(".snapshot") {
            return unbounded_engine::state::store::describe_file(path, &bytes).unwrap_or_else(|e| e.to_string());
        }
        let header = bytes.split(|b| *b == b'\n').next().map(|h| String::from_utf8_lossy(h).to_string()).unwrap_or_default();
        match unframe(path, &bytes) {
            Ok(body) => {
                let text = serde_json::from_slice::<Json>(body)
                    .and_then(|v| serde_json::to_string_pretty(&v))
                    .unwrap_or_else(|_| String::from_utf8_lossy(body).to_string());
                format!("{header}\n{text}")
            }
            Err(e) => e.to_string(),
        }
    }

    /// Runs a batch query over the transactional table; its error is shown with the query.
    fn query_table(&self, sql: &str) -> TableQueryInfo {
        let result = self
            .query
            .as_ref()
            .ok_or_else(|| Error::invalid_input("no query is running, so there is no table"))
            .and_then(|q| unbounded_engine::sink::time_travel::query_table(sql, q.table(), q.schema()));
        match result {
            Ok(r) => TableQueryInfo {
                sql: sql.to_string(),
                columns: r.columns,
                rows: r.rows.iter().map(|row| row.as_array().cloned().unwrap_or_default()).collect(),
                version: r.version,
                error: None,
            },
            Err(e) => TableQueryInfo { sql: sql.to_string(), columns: vec![], rows: vec![], version: None, error: Some(error_info(&e)) },
        }
    }

    /// Turns the generator on (its sources must be the session's, with the same columns) or off.
    /// Its event-time clock starts after the newest event the session holds.
    fn set_generator(&mut self, config: Option<GeneratorConfig>) -> Result<(), Error> {
        let Some(config) = config else {
            self.live.generator = None;
            return Ok(());
        };
        config.validate()?;
        // A session over a Kafka topic gets the generator's events as messages, as a producer
        // would send them: the event as a JSON object, keyed by its first text column.
        self.live.topic = self.scenario.kafka.first().map(|(n, _)| n.clone());
        for (name, schema) in config.kind.sources() {
            if self.live.topic.is_some() {
                break;
            }
            let ours = self.scenario.sources.iter().find(|(n, _)| n.eq_ignore_ascii_case(name)).map(|(_, s)| s);
            if ours.is_none_or(|s| s.columns != schema.columns) {
                let columns: Vec<String> = schema.columns.iter().map(|c| format!("{} {}", c.name, c.data_type)).collect();
                return Err(Error::invalid_input(format!(
                    "the {} generator writes to `{name}` ({}), which this session does not have: open its example from the gallery",
                    config.kind.label(),
                    columns.join(", ")
                )));
            }
        }
        match self.live.generator.as_mut() {
            Some(g) if g.config().kind == config.kind => g.set_config(config),
            _ => {
                let start = self.events.newest_time().map_or(unbounded_engine::generate::START_MICROS, |t| t + 1_000_000);
                self.live.generator = Some(Generator::starting_at(config, start));
            }
        }
        Ok(())
    }

    /// Moves the live run to processing time `now_ms`: the generator adds the events of the
    /// time since the last tick, and the trigger runs a micro-batch when one is due. Returns
    /// whether anything happened. A failing batch stops the run and shows the error.
    pub fn tick(&mut self, now_ms: f64) -> bool {
        if self.live.trigger.is_none() {
            self.live.last_tick_ms = None;
            return false;
        }
        let elapsed = now_ms - self.live.last_tick_ms.unwrap_or(now_ms);
        self.live.last_tick_ms = Some(now_ms);
        let mut changed = false;
        if self.live.generator.is_some() && self.events.total() >= self.max_events {
            self.live.generator = None;
            self.live.trigger = None;
            self.notice = Some(format!(
                "The live run stopped at {} events, the most a session holds: every event stays replayable (losing the checkpoint reads them all again), so more would fill the tab's memory. Step or press Play to process what is waiting; load an example to start afresh.",
                self.events.total()
            ));
            return true;
        }
        if let Some(g) = self.live.generator.as_mut() {
            let events = g.advance(elapsed);
            let mut by_source: Vec<(&'static str, Vec<Json>)> = Vec::new();
            for e in events {
                match by_source.iter_mut().find(|(s, _)| *s == e.source) {
                    Some((_, rows)) => rows.push(Json::Array(e.row)),
                    None => by_source.push((e.source, vec![Json::Array(e.row)])),
                }
            }
            for (source, rows) in by_source {
                changed = true;
                let added = match self.live.topic.clone() {
                    Some(topic) => {
                        let kind = self.live.generator.as_ref().map(|g| g.config().kind).unwrap_or_default();
                        let messages = arrivals::as_messages(kind, source, &rows);
                        self.produce(&topic, &messages, None)
                    }
                    None => self.add_events(source, rows),
                };
                if let Err(e) = added {
                    self.stop_with(e);
                    return true;
                }
            }
        }
        // Under a continuous or Real-Time Mode trigger the query runs all along: an epoch commits
        // once its end has passed on the query's clock.
        if let Some(trigger) = self.live.low_latency {
            if self.query.as_ref().and_then(|q| q.live_trigger()).is_none() {
                // A new query (or a lost checkpoint) ended the live run.
                self.live.low_latency = None;
                self.live.trigger = None;
                return true;
            }
            return match self.query_mut().and_then(|q| q.tick_live()) {
                Ok(report) if report.batches.is_empty() && report.failures.is_empty() => changed,
                Ok(report) => {
                    if let Err(e) = self.run(Step::Trigger(trigger), |_| Ok(report)) {
                        self.stop_with(e);
                    }
                    true
                }
                Err(e) => {
                    self.stop_with(e);
                    true
                }
            };
        }
        // A batch still running on the simulated cluster holds back the next trigger: it starts
        // at once when that batch ends (Spark's ProcessingTimeExecutor after an overrun).
        let busy = self.live.busy_until_ms.is_some_and(|end| now_ms < end);
        let due = !busy && self.live.trigger.as_mut().is_some_and(|t| t.due(now_ms));
        if due {
            let ran = self.batches.len();
            self.notice = None;
            // Playing a scenario plays it as it arrives: while runs are queued, each trigger
            // applies the next one (its events and its batch), then it processes what is waiting.
            let result = if self.plan.is_empty() {
                self.run(Step::Trigger(RunTrigger::Batches(1)), |q| q.step())
            } else {
                self.forward_one().map(|_| ())
            };
            if let Err(e) = result {
                self.stop_with(e);
            }
            self.live.busy_until_ms = self.simulate_capacity(ran).map(|ms| now_ms + ms);
            changed = true;
        }
        changed
    }

    /// Stretches the batches from index `from` on to what the simulated cluster takes for their
    /// rows; returns how long they keep it busy (None: no capacity set).
    fn simulate_capacity(&mut self, from: usize) -> Option<f64> {
        let capacity = self.live.capacity?;
        let mut busy = 0.0;
        for b in self.batches.iter_mut().skip(from) {
            b.duration_ms = b.duration_ms.max(b.input_rows as f64 / capacity * 1000.0);
            if b.duration_ms > 0.0 {
                b.processed_rows_per_second = b.input_rows as f64 / (b.duration_ms / 1000.0);
            }
            busy += b.duration_ms;
        }
        Some(busy)
    }

    fn set_capacity(&mut self, rows_per_second: Option<f64>) -> Result<(), Error> {
        let (low, high) = CAPACITY_RANGE;
        if let Some(c) = rows_per_second.filter(|c| !(c.is_finite() && (low..=high).contains(c))) {
            return Err(Error::invalid_input(format!("the cluster's capacity must be between {low} and {high} rows per second, not {c}")));
        }
        self.live.capacity = rows_per_second;
        self.live.busy_until_ms = None;
        Ok(())
    }

    fn stop_with(&mut self, e: Error) {
        self.live.trigger = None;
        if self.live.low_latency.take().is_some() {
            // The failed epoch is not committed: the next run starts from the checkpoint.
            if let Some(q) = self.query.as_mut() {
                q.abandon_live();
            }
            self.stopped = true;
        }
        self.error = Some(error_info(&e));
    }

    /// Starts the query under a continuous or Real-Time Mode trigger. A query the trigger
    /// does not accept (Spark's own checks) is refused before anything changes.
    fn play_low_latency(&mut self, mode: &str, interval_ms: f64) -> Result<(), Error> {
        if !(interval_ms.is_finite() && (0.0..=3_600_000.0).contains(&interval_ms)) {
            return Err(Error::invalid_input(format!("a trigger interval of {interval_ms} ms: give 0 to 3,600,000 ms")));
        }
        let trigger = RunTrigger::parse_live(mode, &format!("{} milliseconds", interval_ms as u64)).map_err(Error::invalid_input)?;
        self.start_low_latency(trigger)?;
        self.live.interval_ms = interval_ms;
        self.live.trigger = Some(ProcessingTimeTrigger::new(interval_ms));
        self.live.last_tick_ms = None;
        self.notice = None;
        Ok(())
    }

    /// Checks `trigger` against the query (Spark's refusals change nothing), ends a live run
    /// already going, and starts the query under it, with no processing-time trigger. Starting
    /// commits nothing: each epoch is a run (a scrubber position) when it commits.
    fn start_low_latency(&mut self, trigger: RunTrigger) -> Result<(), Error> {
        self.query_mut()?.check_trigger(trigger)?;
        self.stop_low_latency()?;
        self.live.trigger = None;
        self.query_mut()?.start_live(trigger)?;
        self.stopped = false;
        self.live.low_latency = Some(trigger);
        Ok(())
    }

    /// Ends a continuous or Real-Time Mode run: its open epoch commits with what has arrived.
    fn stop_low_latency(&mut self) -> Result<(), Error> {
        let Some(trigger) = self.live.low_latency.take() else { return Ok(()) };
        self.live.trigger = None;
        let report = self.query_mut()?.stop_live()?;
        if report.batches.is_empty() && report.failures.is_empty() {
            return Ok(());
        }
        self.run(Step::Trigger(trigger), |_| Ok(report))
    }

    pub fn playing(&self) -> bool {
        self.live.trigger.is_some()
    }

    fn lose_checkpoint(&mut self) -> Result<(), Error> {
        match self.query.as_mut() {
            Some(q) => q.lose_checkpoint()?,
            None => {
                // The checkpoint could not be used: start again without it.
                self.storage.scoped("").delete_all("checkpoint").map_err(storage_error)?;
                self.query = Some(self.start_query()?);
            }
        }
        self.armed = None;
        self.notice = Some(
            "The checkpoint is gone: the query starts again from offset 0 under a new id, and every event is written to the sinks again."
                .into(),
        );
        Ok(())
    }

    /// What the page shows: the kept position the scrubber stands on, or the live session.
    pub fn snapshot(&self) -> Snapshot {
        let Some(kept) = self.viewing.and_then(|p| self.history.iter().find(|k| k.mark.position == p)) else {
            return self.live_snapshot();
        };
        Snapshot {
            error: self.error.clone(),
            notice: self.notice.clone(),
            scrub: self.scrub_info(),
            lineage: self.lineage.clone(),
            detached: self.detached.clone(),
            storage: self.kind,
            pipeline: self.pipeline.as_ref().map(pipeline::PipelineMode::info),
            ..kept.snapshot.clone()
        }
    }

    /// The session as it is now.
    pub fn live_snapshot(&self) -> Snapshot {
        let q = self.query.as_ref();
        let sources = self
            .scenario
            .sources
            .iter()
            .map(|(name, schema)| {
                let rows = self.events.count(name);
                let read_by_query = q.is_some_and(|q| q.reads(name));
                let read = q.and_then(|q| q.committed_offset(name)).unwrap_or(0);
                RelationInfo {
                    name: name.clone(),
                    columns: schema
                        .columns
                        .iter()
                        .map(|c| ColumnInfo { name: c.name.clone(), data_type: c.data_type.to_string() })
                        .collect(),
                    rows,
                    pending: if read_by_query { rows.saturating_sub(read) } else { 0 },
                    read: read_by_query,
                    table_rows: Vec::new(),
                    last_row: self.events.last_row(name),
                    queued: self
                        .plan
                        .iter()
                        .map(|s| match s {
                            Step::Add { source, rows } if source.eq_ignore_ascii_case(name) => rows.len() as u64,
                            Step::Produce { source, messages, .. } if source.eq_ignore_ascii_case(name) => messages.len() as u64,
                            Step::Land { source, .. } if source.eq_ignore_ascii_case(name) => 1,
                            _ => 0,
                        })
                        .sum(),
                    kind: String::new(),
                }
            })
            .collect();
        let tables = self
            .scenario
            .tables
            .iter()
            .map(|(name, schema, rows)| RelationInfo {
                name: name.clone(),
                columns: schema.columns.iter().map(|c| ColumnInfo { name: c.name.clone(), data_type: c.data_type.to_string() }).collect(),
                rows: rows.len() as u64,
                pending: 0,
                read: false,
                table_rows: rows.clone(),
                last_row: None,
                queued: 0,
                kind: String::new(),
            })
            .collect();
        let as_rows = |rows: &[Json]| {
            rows[rows.len().saturating_sub(SNAPSHOT_ROWS)..].iter().map(|r| r.as_array().cloned().unwrap_or_default()).collect::<Vec<_>>()
        };
        let mut snapshot = Snapshot {
            scenario_name: self.scenario.name.clone(),
            description: self.scenario.description.clone().unwrap_or_default(),
            sql: self.scenario.query.clone(),
            output_mode: self.scenario.output_mode.as_str().to_string(),
            storage: self.kind,
            query_id: q.map(|q| q.id().to_string()).unwrap_or_default(),
            sources,
            tables,
            columns: q.map(|q| q.schema().names()).unwrap_or_default(),
            batches: self.batches.clone(),
            watermark: q.and_then(StreamingQuery::watermark).map(format_timestamp),
            sink: q.map(|q| as_rows(&q.table().newest_rows_json(SNAPSHOT_ROWS))).unwrap_or_default(),
            sink_change: q.map(sink_change).unwrap_or_default(),
            table_history: q
                .map(|q| {
                    newest(q.table().versions(), SNAPSHOT_BATCHES)
                        .iter()
                        .map(|v| TableVersionInfo {
                            version: v.version,
                            batch_id: v.batch_id,
                            query_id: v.query_id.clone(),
                            operation: v.operation.clone(),
                            rows_added: v.rows_added,
                            rows_updated: v.rows_updated,
                            rows_removed: v.rows_removed,
                        })
                        .collect()
                })
                .unwrap_or_default(),
            file_rows: q.map(|q| newest_file_rows(q.file())).unwrap_or_default(),
            file_parts: q
                .map(|q| {
                    q.file()
                        .parts()
                        .iter()
                        .map(|p| FilePartInfo { part: p.part, batch_id: p.batch_id, rows: p.rows.num_rows() as u64 })
                        .collect()
                })
                .unwrap_or_default(),
            dead_letter: q
                .map(|q| {
                    newest(q.dead_letter(), SNAPSHOT_BATCHES)
                        .iter()
                        .map(|d| DeadLetterInfo {
                            batch_id: d.batch_id,
                            source: d.record.source.clone(),
                            offset: d.record.offset,
                            row: d.record.row.clone(),
                            reason: d.record.reason.clone(),
                        })
                        .collect()
                })
                .unwrap_or_default(),
            failures: self.failures.clone(),
            armed: self.armed.map(|p| p.as_str().to_string()),
            checkpoint: self.checkpoint_files(),
            explain: q.map(|q| q.explain()).unwrap_or_default(),
            error: self.error.clone().or_else(|| self.refusal.clone()),
            notice: self.notice.clone(),
            exported: self.exported.clone(),
            exported_pyspark: self.exported_pyspark.clone(),
            table_query: self.table_query.clone(),
            checkpoint_file: self.checkpoint_file.clone(),
            timeline: self.events.recent(),
            window: q.and_then(|q| q.window_spec()).map(|w| WindowInfo { size: w.size, slide: w.slide, start: w.start }),
            state: q
                .map(|q| {
                    q.state_view()
                        .iter()
                        .map(|v| StateInfo {
                            operator: v.operator.clone(),
                            tables: v
                                .tables
                                .iter()
                                .map(|t| StateTableInfo {
                                    name: t.name.clone(),
                                    rows: t.rows,
                                    bytes: t.bytes,
                                    sample: t.sample.clone(),
                                    evicted: t.evicted.clone(),
                                })
                                .collect(),
                        })
                        .collect()
                })
                .unwrap_or_default(),
            live: LiveInfo {
                playing: self.live.trigger.is_some(),
                interval_ms: self.live.interval_ms,
                generator: self.live.generator.as_ref().map(|g| g.config().clone()),
                event_clock: match &self.live.generator {
                    Some(g) => Some(format_timestamp(g.clock_micros())),
                    None => self.events.newest_time().map(format_timestamp),
                },
                capacity: self.live.capacity,
                live_mode: self.live.low_latency.map(|t| t.as_str().to_string()),
            },
            sink_total: q.map_or(0, |q| q.table().num_rows() as u64),
            file_total: q.map_or(0, |q| q.file().num_rows() as u64),
            history_total: q.map_or(0, |q| q.table().versions().len() as u64),
            dead_letter_total: q.map_or(0, |q| q.dead_letter().len() as u64),
            answered: 0,
            detached: self.detached.clone(),
            scrub: self.scrub_info(),
            lineage: self.lineage.clone(),
            duplicates: Vec::new(),
            pipeline: self.pipeline.as_ref().map(pipeline::PipelineMode::info),
            topics: q.map(|q| arrivals::infos(q, &self.scenario)).unwrap_or_default(),
            folders: q.map(|q| arrivals::folders(q, &self.scenario, &self.storage, &self.batches)).unwrap_or_default(),
        };
        // A topic's records are its messages; those waiting are its lag.
        for t in &snapshot.topics {
            if let Some(r) = snapshot.sources.iter_mut().find(|r| r.name == t.name) {
                r.rows = t.total_messages;
                r.pending = if r.read { t.lag() } else { 0 };
                r.kind = "kafka".into();
            }
        }
        // A folder's records are its files; those after the last committed batch wait.
        for f in &snapshot.folders {
            if let Some(r) = snapshot.sources.iter_mut().find(|r| r.name == f.name) {
                let read = q.and_then(|q| q.committed_offset(&f.name)).unwrap_or(0);
                r.rows = f.files.len() as u64;
                r.pending = if r.read { r.rows.saturating_sub(read) } else { 0 };
                r.kind = "auto_loader".into();
            }
        }
        for r in snapshot.sources.iter_mut().filter(|r| self.scenario.rate.iter().any(|n| n.eq_ignore_ascii_case(&r.name))) {
            r.kind = "rate".into();
        }
        snapshot.duplicates = lineage::duplicates(self, &snapshot);
        snapshot
    }

    /// Every file under `checkpoint/`, in order.
    fn checkpoint_files(&self) -> Vec<CheckpointFileInfo> {
        let storage = self.storage.scoped("checkpoint");
        let mut out = Vec::new();
        let mut dirs = vec![String::new()];
        while let Some(dir) = dirs.pop() {
            for name in storage.list(&dir).unwrap_or_default() {
                let path = join(&dir, &name);
                match storage.size(&path).ok().flatten() {
                    Some(bytes) => out.push(CheckpointFileInfo { path, bytes }),
                    None => dirs.push(path),
                }
            }
        }
        out.sort_by(|a, b| a.path.cmp(&b.path));
        out
    }
}

/// The query's Kafka topic `source`.
fn kafka_topic<'q>(q: &'q StreamingQuery, source: &str) -> Result<&'q unbounded_engine::kafka::Topic, Error> {
    q.kafka_source(source).map(|s| &s.topic).ok_or_else(|| {
        Error::new(ErrorKind::UnknownTable, format!("there is no Kafka source `{source}`; messages go to a source of kind kafka"))
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;
    use unbounded_engine::time::parse_timestamp;

    const TRUCKS: &str = include_str!("../../tests/scenarios/stateless/trucks-cold-chain.json");
    const SMALL_WATERMARK: &str = include_str!("../../tests/scenarios/gallery/watermark-small.json");

    #[test]
    fn replays_the_scenario_and_runs_new_events() {
        let mut s = Session::from_scenario(TRUCKS).unwrap();
        assert_eq!(s.snapshot().sink.len(), 4);
        let snap = s.handle(Request::AddEvent {
            source: "truck_readings".into(),
            row: vec![json!("t-03"), json!(8.0), json!(10), json!("2026-03-02 08:02:00")],
        });
        assert_eq!(snap.sources[0].pending, 1);
        let snap = s.handle(Request::RunBatch);
        assert_eq!(snap.sink.len(), 5);
        assert_eq!(snap.batches.last().unwrap().output_rows, 1);
        assert_eq!(snap.sink_change.added, vec![4]);
        assert_eq!(snap.sink[4], vec![json!("t-03"), json!("Munich"), json!(8.0), json!(46.4), json!("2026-03-02 08:02:00")]);
        assert!(snap.error.is_none());
    }

    #[test]
    fn a_refused_query_leaves_the_session_as_it_was() {
        let mut s = Session::from_scenario(TRUCKS).unwrap();
        let before = s.snapshot();
        let snap = s.handle(Request::SetQuery {
            sql: "SELECT r.truck_id, pressure FROM STREAM truck_readings r".into(),
            output_mode: "append".into(),
        });
        let err = snap.error.clone().unwrap();
        assert_eq!((err.kind.as_str(), err.line, err.column), ("unknown_column", Some(1), Some(20)));
        assert_eq!(Snapshot { error: None, ..snap }, before);
    }

    #[test]
    fn the_last_batch_marks_rows_added_updated_and_removed() {
        let mut s = Session::from_scenario(TRUCKS).unwrap();
        let sql = "SELECT truck_id, count(*) AS n FROM STREAM truck_readings GROUP BY truck_id HAVING count(*) < 2";
        let snap = s.handle(Request::SetQuery { sql: sql.into(), output_mode: "complete".into() });
        assert!(snap.error.is_none(), "{:?}", snap.error);
        s.handle(Request::RunToEnd);
        // t-02 reaches two readings and leaves the table; t-05 is new; t-03 is unchanged.
        add(&mut s, "t-02", 10, "2026-03-02 08:02:00");
        add(&mut s, "t-05", 10, "2026-03-02 08:02:00");
        let snap = s.handle(Request::RunBatch);
        let change = &snap.sink_change;
        let named = |ids: &[usize]| ids.iter().map(|&i| snap.sink[i][0].clone()).collect::<Vec<_>>();
        assert_eq!(change.batch_id, Some(2), "after the scenario's two batches");
        assert_eq!(named(&change.added), vec![json!("t-05")]);
        assert!(change.updated.is_empty());
        assert_eq!(change.removed, vec![vec![json!("t-02"), json!(1)]]);

        let snap = s.handle(Request::SetQuery {
            sql: "SELECT truck_id, count(*) AS n FROM STREAM truck_readings GROUP BY truck_id".into(),
            output_mode: "update".into(),
        });
        assert!(snap.error.is_none(), "{:?}", snap.error);
        s.handle(Request::RunToEnd);
        add(&mut s, "t-03", 10, "2026-03-02 08:03:00");
        add(&mut s, "t-07", 10, "2026-03-02 08:03:00");
        let snap = s.handle(Request::RunBatch);
        let named = |ids: &[usize]| ids.iter().map(|&i| snap.sink[i][0].clone()).collect::<Vec<_>>();
        assert_eq!(named(&snap.sink_change.updated), vec![json!("t-03")]);
        assert_eq!(named(&snap.sink_change.added), vec![json!("t-07")]);
    }

    #[test]
    fn a_new_query_replays_every_event_from_the_start_in_the_same_batches() {
        let mut s = Session::from_scenario(TRUCKS).unwrap();
        add(&mut s, "t-09", 10, "2026-03-02 08:05:00");
        s.handle(Request::RunBatch);
        let first: Vec<u64> = s.snapshot().batches.iter().map(|b| b.input_rows).collect();
        assert_eq!(first, vec![4, 3, 1]);
        let snap = s.handle(Request::SetQuery { sql: "SELECT truck_id FROM STREAM truck_readings".into(), output_mode: "update".into() });
        assert!(snap.error.is_none(), "{:?}", snap.error);
        // Back at batch 0, every event queued as it arrived: not one batch of everything.
        assert_eq!((snap.sources[0].rows, snap.sources[0].pending, snap.sources[0].queued), (0, 0, 8));
        assert_eq!((snap.scrub.position, snap.scrub.queued_runs), (0, 3));
        let snap = s.handle(Request::RunToEnd);
        assert_eq!(snap.sink.len(), 8);
        assert_eq!(snap.batches.iter().map(|b| b.input_rows).collect::<Vec<_>>(), first, "the first query's batches");
        // The export keeps the batching too.
        let exported = Scenario::parse(&s.handle(Request::Export).exported.unwrap()).unwrap();
        assert_eq!(exported.steps.iter().filter(|s| matches!(s, Step::Run)).count(), 3);
    }

    #[test]
    fn a_bad_event_goes_to_the_dead_letter_output() {
        let mut s = Session::from_scenario(TRUCKS).unwrap();
        s.handle(Request::AddEvent {
            source: "truck_readings".into(),
            row: vec![json!("t-01"), json!("hot"), json!(1), json!("2026-03-02 08:03:00")],
        });
        let snap = s.handle(Request::RunBatch);
        assert_eq!(snap.dead_letter.len(), 1);
        assert!(snap.dead_letter[0].reason.contains("temp_c"));
        assert_eq!(snap.batches.last().unwrap().bad_records, 1);
    }

    #[test]
    fn a_stream_the_query_does_not_read_has_nothing_waiting() {
        let mut s = Session::from_scenario(include_str!("../../tests/scenarios/gallery/nexmark-hot-auctions.json")).unwrap();
        let snap = s.handle(Request::AddEvent {
            source: "person".into(),
            row: vec![json!(1), json!("Ada"), json!("Oslo"), json!("OS"), json!("2026-01-01 00:00:01")],
        });
        let person = snap.sources.iter().find(|r| r.name == "person").unwrap();
        assert_eq!((person.pending, person.read), (0, false), "{} events, none waiting: the query reads only bids", person.rows);
        let bid = snap.sources.iter().find(|r| r.name == "bid").unwrap();
        assert!(bid.read);
        let before = person.rows;
        let snap = s.handle(Request::SetQuery { sql: "SELECT name FROM STREAM person".into(), output_mode: "append".into() });
        let person = snap.sources.iter().find(|r| r.name == "person").unwrap();
        assert_eq!((person.queued, person.read), (before, true), "a new query reads every event from the start");
    }

    #[test]
    fn each_input_of_a_join_shows_its_own_watermark_and_the_query_runs_with_the_smallest() {
        let s = Session::from_scenario(include_str!("../../tests/scenarios/spark-examples/057-ss-left-outer-join.json")).unwrap();
        let snap = s.snapshot();
        let last = snap.batches.last().unwrap();
        let names: Vec<&str> = last.input_watermarks.iter().map(|w| w.source.as_str()).collect();
        assert_eq!(names.len(), 2, "{names:?}");
        assert_ne!(names[0], names[1]);
        let mut differ = false;
        for b in &snap.batches {
            let own: Vec<Option<i64>> = b.input_watermarks.iter().map(|w| w.micros).collect();
            if own.iter().all(Option::is_some) {
                let min = own.iter().flatten().min().copied();
                assert!(
                    b.watermark_micros >= min,
                    "batch {}: the global {:?} is at least the smallest input's {min:?}",
                    b.batch_id,
                    b.watermark_micros
                );
                differ |= own[0] != own[1];
            }
        }
        assert!(
            differ,
            "the inputs' watermarks differ somewhere: {:?}",
            snap.batches.iter().map(|b| &b.input_watermarks).collect::<Vec<_>>()
        );
        // One input: its watermark is the query's.
        let small = Session::from_scenario(SMALL_WATERMARK).unwrap().snapshot();
        for b in &small.batches {
            assert_eq!(b.input_watermarks.len(), 1);
            assert_eq!(b.input_watermarks[0].source, "readings");
        }
    }

    #[test]
    fn windows_above_a_join_close_on_its_output_watermark() {
        let s = Session::from_scenario(include_str!("../../tests/scenarios/stream-joins/ss-join-then-window.json")).unwrap();
        let snap = s.snapshot();
        assert_eq!(snap.window.map(|w| w.size), Some(30_000_000));
        // c.click_ts BETWEEN i.imp_ts AND i.imp_ts + INTERVAL 20 SECONDS: the join's output
        // watermark lags the query's by 20 s and 1 ms, and that is what the window's operator got.
        let lags: Vec<i64> = snap.batches.iter().filter_map(|b| Some(b.watermark_micros? - b.window_watermark_micros?)).collect();
        assert!(!lags.is_empty() && lags.iter().all(|&l| l == 20_001_000), "{lags:?}");
        assert_eq!(Session::from_scenario(TRUCKS).unwrap().snapshot().window, None);
        let tumbling = Session::from_scenario(include_str!("../../tests/scenarios/gallery/watermark-small.json")).unwrap();
        let snap = tumbling.snapshot();
        assert!(snap.batches.iter().any(|b| b.window_watermark_micros.is_some()));
        assert!(snap.batches.iter().all(|b| b.window_watermark_micros == b.watermark_micros), "no join: the query's watermark");
    }

    #[test]
    fn a_long_run_sends_the_newest_history_and_dead_letters_with_their_totals() {
        let mut s = Session::from_scenario(TRUCKS).unwrap();
        let batches = SNAPSHOT_BATCHES + 5;
        for i in 0..batches {
            s.handle(Request::AddEvent {
                source: "truck_readings".into(),
                row: vec![json!("t-01"), json!(format!("hot-{i}")), json!(1), json!("2026-03-02 08:03:00")],
            });
            s.handle(Request::RunBatch);
        }
        let snap = s.snapshot();
        assert_eq!(snap.dead_letter.len(), SNAPSHOT_BATCHES);
        assert_eq!(snap.dead_letter_total, batches as u64);
        assert_eq!(snap.dead_letter.last().unwrap().row.to_string(), format!(r#"["t-01","hot-{}",1,"2026-03-02 08:03:00"]"#, batches - 1));
        assert_eq!(snap.table_history.len(), SNAPSHOT_BATCHES);
        assert!(snap.history_total > SNAPSHOT_BATCHES as u64, "{}", snap.history_total);
        assert_eq!(snap.table_history.last().unwrap().version + 1, snap.history_total);
    }

    fn add(s: &mut Session, truck: &str, speed: i64, time: &str) -> Snapshot {
        s.handle(Request::AddEvent { source: "truck_readings".into(), row: vec![json!(truck), json!(8.0), json!(speed), json!(time)] })
    }

    fn files(storage: &SharedStorage) -> Vec<(String, Vec<u8>)> {
        fn walk(storage: &SharedStorage, dir: &str, out: &mut Vec<(String, Vec<u8>)>) {
            let root = storage.scoped("");
            for name in root.list(dir).unwrap() {
                let path = join(dir, &name);
                match root.read(&path).unwrap() {
                    Some(bytes) => out.push((path, bytes)),
                    None => walk(storage, &path, out),
                }
            }
        }
        let mut out = Vec::new();
        walk(storage, "", &mut out);
        out
    }

    fn opening(storage: &SharedStorage, scenario: Option<&str>) -> Opening {
        Opening {
            storage: storage.clone(),
            kind: StorageKind::IndexedDb,
            read_only: false,
            scenario: scenario.map(str::to_string),
            carry: None,
            notice: None,
        }
    }

    const MEDALLION: &str = include_str!("../../tests/scenarios/gallery/medallion-payments.json");

    #[test]
    fn export_in_pipeline_mode_gives_the_pipeline_and_its_sdp_script() {
        const PIPELINE: &str = include_str!("../../tests/scenarios/pipelines/medallion-trucks.json");
        let mut s = Session::from_scenario(TRUCKS).unwrap();
        s.handle(Request::LoadScenario { text: PIPELINE.into() });
        let snap = s.handle(Request::Export);
        assert_eq!(snap.error, None);
        let py = snap.exported_pyspark.expect("the script");
        assert!(py.contains("\"spark-pipeline.yml\"") && py.contains("CREATE MATERIALIZED VIEW depot_totals"), "{py}");
        assert!(py.contains(r#"("run", ["gold"], False)"#), "{py}");
        let exported: serde_json::Value = serde_json::from_str(&snap.exported.expect("the file")).unwrap();
        assert_eq!((exported["version"].as_u64(), exported["name"].as_str()), (Some(2), Some("medallion-trucks")));
        // Back in a query session, Export is the PySpark program of the query again.
        let snap = s.handle(Request::LoadScenario { text: TRUCKS.into() });
        assert!(snap.pipeline.is_none());
        let py = s.handle(Request::Export).exported_pyspark.unwrap();
        assert!(!py.contains("spark-pipelines") && py.contains("readStream"), "{py}");
    }

    #[test]
    fn a_link_over_a_saved_session_opens_in_memory_and_leaves_it_as_it_was() {
        let storage = SharedStorage::memory();
        let mut saved = Session::start(TRUCKS, storage.clone(), StorageKind::IndexedDb).unwrap();
        add(&mut saved, "t-03", 10, "2026-03-02 08:02:00");
        drop(saved);
        let before = files(&storage);
        let mut linked = Session::open(opening(&storage, Some(MEDALLION))).unwrap();
        let snap = linked.handle(Request::RunBatch);
        assert_eq!(snap.storage, StorageKind::Memory);
        assert!(snap.detached.as_deref().unwrap_or("").contains("untouched"), "{:?}", snap.detached);
        assert_ne!(snap.scenario_name, "trucks-cold-chain");
        assert!(files(&storage) == before, "the saved session's files did not change");
        // Loading another scenario in the copy saves nothing either, and it stays a copy.
        let snap = linked.handle(Request::LoadScenario { text: TRUCKS.into() });
        assert!(snap.detached.is_some());
        assert!(files(&storage) == before);
        let resumed = Session::open(opening(&storage, None)).unwrap().snapshot();
        assert_eq!((resumed.storage, resumed.detached, resumed.sources[0].rows), (StorageKind::IndexedDb, None, 8));
    }

    const PIPELINE: &str = include_str!("../../tests/scenarios/pipelines/medallion-trucks.json");

    fn node_rows(s: &Snapshot, name: &str) -> u64 {
        s.pipeline.as_ref().and_then(|p| p.nodes.iter().find(|n| n.name == name)).map_or(0, |n| n.rows)
    }

    #[test]
    fn a_pipeline_link_with_nothing_saved_is_saved_and_a_reload_resumes_it() {
        let storage = SharedStorage::memory();
        let mut s = Session::open(opening(&storage, Some(PIPELINE))).unwrap();
        s.handle(Request::PipelineUpdate { full_refresh: vec![] });
        let before = s.handle(Request::PipelineUpdate { full_refresh: vec![] });
        assert_eq!((before.detached.as_deref(), node_rows(&before, "bronze")), (None, 2));
        drop(s);
        let after = Session::open(opening(&storage, None)).unwrap().snapshot();
        assert!(after.notice.as_deref().unwrap_or("").contains("resumed after a reload"), "{:?}", after.notice);
        assert_eq!(after.pipeline.as_ref().map(|p| p.updates), Some(2));
        assert_eq!(
            serde_json::to_value(&after.pipeline.unwrap().nodes).unwrap(),
            serde_json::to_value(&before.pipeline.unwrap().nodes).unwrap()
        );
    }

    #[test]
    fn a_pipeline_link_over_a_saved_session_opens_in_memory_and_leaves_it_as_it_was() {
        let storage = SharedStorage::memory();
        let mut saved = Session::open(opening(&storage, Some(PIPELINE))).unwrap();
        saved.handle(Request::PipelineUpdate { full_refresh: vec![] });
        drop(saved);
        let before = files(&storage);
        let mut linked = Session::open(opening(&storage, Some(PIPELINE))).unwrap();
        let snap = linked.handle(Request::PipelineUpdate { full_refresh: vec![] });
        assert!(snap.detached.as_deref().unwrap_or("").contains("untouched"), "{:?}", snap.detached);
        assert!(files(&storage) == before, "the saved session's files did not change");
        // Keeping it carries the pipeline, with its update, to a new session of its own.
        let fresh = SharedStorage::memory();
        let kept = Session::open(Opening { carry: linked.carry(), ..opening(&fresh, None) }).unwrap().snapshot();
        assert_eq!((kept.detached.as_deref(), kept.pipeline.as_ref().map(|p| p.updates)), (None, Some(1)));
        let reloaded = Session::open(opening(&fresh, None)).unwrap().snapshot();
        assert_eq!((node_rows(&reloaded, "silver"), reloaded.pipeline.map(|p| p.updates)), (1, Some(1)));
        assert!(files(&storage) == before);
    }

    #[test]
    fn opening_a_query_example_leaves_pipeline_mode_for_good() {
        let storage = SharedStorage::memory();
        let mut s = Session::open(opening(&storage, None)).unwrap();
        s.handle(Request::LoadScenario { text: PIPELINE.into() });
        s.handle(Request::PipelineUpdate { full_refresh: vec![] });
        // A file that cannot be opened leaves the pipeline as it was.
        let snap = s.handle(Request::LoadScenario { text: "{\"name\": 1}".into() });
        assert!(snap.error.is_some() && snap.pipeline.is_some());
        assert!(Session::open(opening(&storage, None)).unwrap().snapshot().pipeline.is_some());
        let snap = s.handle(Request::LoadScenario { text: TRUCKS.into() });
        assert!(snap.pipeline.is_none());
        let reloaded = Session::open(opening(&storage, None)).unwrap().snapshot();
        assert!(reloaded.pipeline.is_none());
        assert_eq!(reloaded.scenario_name, "trucks-cold-chain");
    }

    #[test]
    fn a_link_with_nothing_saved_is_saved_at_once() {
        let storage = SharedStorage::memory();
        let s = Session::open(opening(&storage, Some(MEDALLION))).unwrap().snapshot();
        assert_eq!((s.storage, s.detached), (StorageKind::IndexedDb, None));
        assert!(!files(&storage).is_empty());
    }

    #[test]
    fn a_session_another_tab_writes_opens_as_a_copy_that_writes_nothing() {
        let storage = SharedStorage::memory();
        drop(Session::start(TRUCKS, storage.clone(), StorageKind::IndexedDb).unwrap());
        let before = files(&storage);
        // The worker hands a copy of the files; the session must say it is one.
        let copy = SharedStorage::new(unbounded_engine::storage::MemoryStorage::from_files(before.iter().cloned().collect()));
        let mut s = Session::open(Opening { storage: copy, read_only: true, ..opening(&storage, None) }).unwrap();
        let snap = add(&mut s, "t-03", 10, "2026-03-02 08:02:00");
        assert_eq!((snap.storage, snap.sources[0].rows), (StorageKind::Memory, 8));
        assert!(snap.detached.as_deref().unwrap_or("").contains("another tab"), "{:?}", snap.detached);
        assert!(files(&storage) == before);
    }

    #[test]
    fn a_saved_session_that_cannot_be_read_is_left_alone() {
        let storage = SharedStorage::memory();
        storage.scoped("").write(DEFINITION, b"not a framed definition").unwrap();
        let before = files(&storage);
        let s = Session::open(opening(&storage, None)).unwrap().snapshot();
        assert_eq!(s.storage, StorageKind::Memory);
        assert!(s.detached.as_deref().unwrap_or("").contains("could not be read"), "{:?}", s.detached);
        assert!(files(&storage) == before);
    }

    #[test]
    fn a_scenario_larger_than_the_limit_is_refused_and_changes_nothing() {
        let mut s = Session::from_scenario(TRUCKS).unwrap();
        let huge = format!("{{\"name\": \"{}\"}}", "x".repeat(MAX_SCENARIO_BYTES));
        let snap = s.handle(Request::LoadScenario { text: huge.clone() });
        let e = snap.error.unwrap();
        assert_eq!(e.kind, "invalid_input");
        assert!(e.message.contains("more than the 4096 KiB a session opens"), "{}", e.message);
        assert_eq!(snap.scenario_name, "trucks-cold-chain");
        // A link as large opens the saved session (or the default one) and says why.
        let opened = Session::open(opening(&SharedStorage::memory(), Some(&huge))).unwrap().snapshot();
        assert!(opened.notice.unwrap_or_default().contains("more than the 4096 KiB"));
    }

    #[test]
    fn generator_knobs_out_of_bounds_or_not_finite_are_refused() {
        let mut s = Session::from_scenario(TRUCKS).unwrap();
        let bad = [
            GeneratorConfig { events_per_second: 1e308, ..GeneratorConfig::default() },
            GeneratorConfig { events_per_second: f64::NAN, ..GeneratorConfig::default() },
            GeneratorConfig { speed: f64::INFINITY, ..GeneratorConfig::default() },
            GeneratorConfig { out_of_order_ms: i64::MAX, ..GeneratorConfig::default() },
            GeneratorConfig { late_by_ms: -1, ..GeneratorConfig::default() },
            GeneratorConfig { late_share: 2.0, ..GeneratorConfig::default() },
        ];
        for config in bad {
            let snap = s.handle(Request::SetGenerator { config: Some(config.clone()) });
            assert_eq!(snap.error.map(|e| e.kind), Some("invalid_input".to_string()), "{config:?}");
            assert!(snap.live.generator.is_none());
        }
        let most = GeneratorConfig { events_per_second: MAX_EVENTS_PER_SECOND, speed: MAX_SPEED, ..GeneratorConfig::default() };
        assert!(s.handle(Request::SetGenerator { config: Some(most) }).error.is_none());
    }

    #[test]
    fn a_saved_session_resumes_where_it_stopped() {
        let storage = SharedStorage::memory();
        let mut s = Session::start(TRUCKS, storage.clone(), StorageKind::IndexedDb).unwrap();
        let before = s.snapshot();
        add(&mut s, "t-03", 10, "2026-03-02 08:02:00");
        // The page goes away mid-batch: the batch's offsets are written, its commit is not.
        s.handle(Request::InjectFailure { point: "after_state_write".into() });
        let q = s.query.as_mut().unwrap();
        assert!(q.step_without_recovery().unwrap(), "the armed crash stops the batch");
        drop(s);
        let mut resumed = Session::resume(storage, StorageKind::IndexedDb).unwrap().expect("a session was saved");
        let snap = resumed.snapshot();
        assert!(snap.notice.as_deref().unwrap_or("").contains("batch 2 was planned but never committed"), "{:?}", snap.notice);
        assert_eq!(snap.sink, before.sink, "the table kept what was committed");
        assert_eq!(snap.sources[0].rows, 8);
        let snap = resumed.handle(Request::RunBatch);
        assert_eq!(snap.batches.iter().map(|b| b.batch_id).collect::<Vec<_>>(), vec![2]);
        assert_eq!(snap.sink.len(), 5);
        let reference = Session::from_scenario(&resumed.handle(Request::Export).exported.unwrap()).unwrap();
        assert_eq!(reference.snapshot().sink, snap.sink, "the same as a run without the interruption");
    }

    #[test]
    fn every_failure_point_is_recovered_and_shown() {
        for point in FailurePoint::ALL {
            let mut s = Session::from_scenario(TRUCKS).unwrap();
            add(&mut s, "t-03", 10, "2026-03-02 08:02:00");
            assert_eq!(s.handle(Request::InjectFailure { point: point.as_str().into() }).armed.as_deref(), Some(point.as_str()));
            let snap = s.handle(Request::RunBatch);
            assert_eq!(snap.failures, vec![FailureInfo { batch_id: 2, point: point.as_str().into() }]);
            assert_eq!(snap.armed, None);
            assert_eq!(snap.sink.len(), 5, "{point:?}: exactly once in the table");
            let expect_file = if point == FailurePoint::AfterSinkWrite { 6 } else { 5 };
            assert_eq!(snap.file_rows.len(), expect_file, "{point:?}: the at-least-once file");
            let replay = point == FailurePoint::AfterSinkWrite;
            assert_eq!(snap.batches.last().unwrap().skipped_by_table, replay, "{point:?}: the table skips only what it has");
        }
    }

    #[test]
    fn losing_the_checkpoint_duplicates_into_both_sinks() {
        let mut s = Session::from_scenario(TRUCKS).unwrap();
        let old_id = s.snapshot().query_id;
        let snap = s.handle(Request::LoseCheckpoint);
        assert_ne!(snap.query_id, old_id);
        assert!(snap.notice.is_some());
        let snap = s.handle(Request::RunBatch);
        assert_eq!(snap.sink.len(), 8, "the whole history again, under the new query id");
        assert_eq!(snap.table_history.last().unwrap().query_id, snap.query_id);
        assert!(snap.checkpoint.iter().any(|f| f.path == "metadata"), "{:?}", snap.checkpoint);
    }

    #[test]
    fn a_new_query_gets_a_new_checkpoint_and_sink() {
        let storage = SharedStorage::memory();
        let mut s = Session::start(TRUCKS, storage.clone(), StorageKind::Memory).unwrap();
        s.handle(Request::SetQuery { sql: "SELECT truck_id FROM STREAM truck_readings".into(), output_mode: "append".into() });
        let snap = s.handle(Request::RunToEnd);
        assert_eq!(snap.sink.len(), 7);
        assert_eq!(snap.table_history.len(), 2, "one version per batch of the scenario");
        let resumed = Session::resume(storage, StorageKind::Memory).unwrap().unwrap();
        assert_eq!(resumed.snapshot().sql, "SELECT truck_id FROM STREAM truck_readings");
        assert_eq!(resumed.snapshot().sink.len(), 7);
    }

    #[test]
    fn a_live_run_generates_events_and_triggers_batches_on_time() {
        let mut s = Session::from_scenario(TRUCKS).unwrap();
        let config = GeneratorConfig { events_per_second: 20.0, ..GeneratorConfig::default() };
        assert!(s.handle(Request::SetGenerator { config: Some(config) }).error.is_none());
        s.handle(Request::Play { interval_ms: 1000.0 });
        let before = s.snapshot().batches.len();
        let mut t = 0.0;
        while t <= 3000.0 {
            s.tick(t);
            t += 100.0;
        }
        let snap = s.snapshot();
        assert!(snap.live.playing);
        assert_eq!(snap.sources[0].rows, 7 + 60, "20 events a second for 3 s");
        assert_eq!(snap.batches.len() - before, 3, "a batch at 1000, 2000 and 3000 ms (at 0 there was nothing new)");
        assert!(snap.live.event_clock.as_deref().unwrap_or("") > "2026-03-02 08:01:07", "the generator continues after the newest event");
        s.handle(Request::Pause);
        assert!(!s.tick(4000.0), "a paused session does nothing");
        let wrong = GeneratorConfig { kind: unbounded_engine::generate::GeneratorKind::Ads, ..GeneratorConfig::default() };
        let err = s.handle(Request::SetGenerator { config: Some(wrong) }).error.unwrap();
        assert!(err.message.contains("`impressions`"), "{}", err.message);
    }

    #[test]
    fn a_cluster_slower_than_the_stream_makes_batches_overrun_and_grow() {
        let mut s = Session::from_scenario(TRUCKS).unwrap();
        let config = GeneratorConfig { events_per_second: 50.0, ..GeneratorConfig::default() };
        assert!(s.handle(Request::SetGenerator { config: Some(config) }).error.is_none());
        assert!(s.handle(Request::SetCapacity { rows_per_second: Some(0.0) }).error.is_some(), "out of range");
        assert!(s.handle(Request::SetCapacity { rows_per_second: Some(f64::NAN) }).error.is_some(), "not a number");
        let snap = s.handle(Request::SetCapacity { rows_per_second: Some(20.0) });
        assert_eq!(snap.live.capacity, Some(20.0));
        s.handle(Request::Play { interval_ms: 1000.0 });
        let before = s.snapshot().batches.len();
        let mut t = 0.0;
        while t <= 12_000.0 {
            s.tick(t);
            t += 100.0;
        }
        let snap = s.snapshot();
        let ran: Vec<_> = snap.batches[before..].iter().filter(|b| b.input_rows > 0).collect();
        // 50 rows a second arrive and 20 are processed: each batch takes longer than the
        // interval, the next starts when it ends with everything that arrived meanwhile, so
        // batches grow and fall further behind (no read limit bounds them).
        let sizes: Vec<u64> = ran.iter().map(|b| b.input_rows).collect();
        assert!(sizes.windows(2).all(|w| w[1] > w[0]), "batches grow: {sizes:?}");
        assert!(ran.iter().skip(1).all(|b| b.duration_ms > 1000.0), "{:?}", ran.iter().map(|b| b.duration_ms).collect::<Vec<_>>());
        assert!(ran.iter().all(|b| (b.processed_rows_per_second - 20.0).abs() < 1e-6), "processed at the cluster's rate");
        assert!(ran.len() < 12, "fewer batches than triggers: {}", ran.len());
        // Without the limit the cluster keeps up again: the next trigger reads the backlog.
        s.handle(Request::SetCapacity { rows_per_second: None });
        s.tick(12_100.0);
        s.tick(13_000.0);
        assert_eq!(s.snapshot().sources[0].pending, 0);
    }

    #[test]
    fn a_generator_over_a_kafka_topic_produces_to_it_and_the_lag_climbs_past_a_slow_cluster() {
        let text = include_str!("../../tests/scenarios/gallery/kafka-backpressure.json");
        let mut s = Session::start(text, SharedStorage::memory(), StorageKind::Memory).unwrap();
        let before = s.snapshot();
        let config = GeneratorConfig { events_per_second: 40.0, ..GeneratorConfig::default() };
        assert_eq!(s.handle(Request::SetGenerator { config: Some(config) }).error, None);
        s.handle(Request::SetCapacity { rows_per_second: Some(10.0) });
        s.handle(Request::Play { interval_ms: 1000.0 });
        let mut t = 0.0;
        while t <= 8000.0 {
            s.tick(t);
            t += 100.0;
        }
        let snap = s.snapshot();
        assert!(snap.topics[0].total_messages > before.topics[0].total_messages + 200, "{}", snap.topics[0].total_messages);
        let m = snap.topics[0].messages.last().unwrap();
        assert!(m.key.as_deref().is_some_and(|k| k.starts_with("t-")) && m.value.as_deref().unwrap_or("").contains("\"temp_c\""), "{m:?}");
        let ran = &snap.batches[before.batches.len()..];
        assert!(
            ran.iter().all(|b| b.input_rows <= 4),
            "maxOffsetsPerTrigger bounds each batch: {:?}",
            ran.iter().map(|b| b.input_rows).collect::<Vec<_>>()
        );
        let behind: Vec<u64> = ran.iter().filter_map(|b| b.offsets_behind).collect();
        assert!(behind.windows(2).all(|w| w[1] >= w[0]) && behind.last() > behind.first(), "the lag climbs: {behind:?}");
    }

    #[test]
    fn a_live_run_stops_when_the_session_holds_the_most_events_it_can() {
        let mut s = Session::from_scenario(TRUCKS).unwrap();
        s.max_events = 50;
        let config = GeneratorConfig { events_per_second: 20.0, ..GeneratorConfig::default() };
        s.handle(Request::SetGenerator { config: Some(config) });
        s.handle(Request::Play { interval_ms: 1000.0 });
        let mut t = 0.0;
        while t <= 10_000.0 {
            s.tick(t);
            t += 100.0;
        }
        let snap = s.snapshot();
        assert!(!snap.live.playing && snap.live.generator.is_none());
        let rows = snap.sources[0].rows;
        assert!((50..52).contains(&rows), "stopped at the first tick past 50 events: {rows}");
        assert!(snap.notice.unwrap_or_default().contains(&format!("stopped at {rows} events")));
    }

    #[test]
    fn the_timeline_and_the_event_form_survive_a_reload() {
        let storage = SharedStorage::memory();
        let mut s = Session::start(TRUCKS, storage.clone(), StorageKind::IndexedDb).unwrap();
        add(&mut s, "t-09", 10, "2026-03-02 08:05:00");
        let before = s.snapshot();
        let resumed = Session::resume(storage, StorageKind::IndexedDb).unwrap().unwrap().snapshot();
        assert_eq!(resumed.timeline, before.timeline);
        assert_eq!(resumed.sources, before.sources);
        assert_eq!(resumed.timeline.last().map(|m| (m.offset, m.event_time)), Some((7, parse_timestamp("2026-03-02 08:05:00"))));
    }

    #[test]
    fn a_source_s_read_limit_batches_the_session_as_the_runner_does() {
        for text in [
            include_str!("../../tests/scenarios/sources/max-files-1-window.json"),
            include_str!("../../tests/scenarios/sources/max-bytes.json"),
        ] {
            let doc = unbounded_engine::scenario::run_text(text).unwrap().document;
            let runner: Vec<u64> = doc["runs"]
                .as_array()
                .unwrap()
                .iter()
                .flat_map(|r| r["batches"].as_array().unwrap().iter().map(|b| b["batch_id"].as_u64().unwrap()))
                .collect();
            let snap = Session::from_scenario(text).unwrap().snapshot();
            let session: Vec<u64> = snap.batches.iter().map(|b| b.batch_id).collect();
            assert_eq!(session, runner, "{}", snap.scenario_name);
            assert!(runner.len() > 2, "the limit splits the events over batches");
        }
    }

    const REFUSED: &str = include_str!("../../tests/scenarios/spark-examples/070-error-append-agg-no-watermark.json");

    #[test]
    fn a_scenario_whose_query_spark_refuses_opens_with_that_query_and_its_error() {
        let storage = SharedStorage::memory();
        let mut s = Session::start(REFUSED, storage.clone(), StorageKind::IndexedDb).unwrap();
        let snap = s.snapshot();
        assert_eq!(snap.sql, "SELECT device, count(*) AS n FROM readings GROUP BY device", "the refused query is the one shown");
        let error = snap.error.clone().expect("the refusal is shown");
        assert_eq!(error.kind, "missing_watermark", "{error:?}");
        assert!(snap.batches.is_empty() && snap.columns.is_empty(), "nothing runs");
        assert_eq!(snap.sources[0].queued, 1, "its events are there to run once the query is fixed");
        // The refusal stays with the query: another request does not make it vanish.
        let snap = s.handle(Request::AddEvent {
            source: "readings".into(),
            row: vec![json!("s-02"), json!(2.0), json!(1), json!("2026-01-01 00:00:02")],
        });
        assert_eq!(snap.error.map(|e| e.kind), Some("missing_watermark".into()));
        // And a reload shows it the same way.
        let resumed = Session::resume(storage, StorageKind::IndexedDb).unwrap().unwrap().snapshot();
        assert_eq!((resumed.sql.as_str(), resumed.error.map(|e| e.kind)), (snap.sql.as_str(), Some("missing_watermark".into())));
        // Fixing the query (update mode is allowed) runs it over those events.
        let snap = s.handle(Request::SetQuery { sql: snap.sql.clone(), output_mode: "update".into() });
        assert_eq!(snap.error, None);
        let snap = s.handle(Request::RunToEnd);
        assert_eq!(snap.sink.len(), 2, "{:?}", snap.sink);
    }

    #[test]
    fn the_restored_watermark_is_shown_after_a_reload() {
        let storage = SharedStorage::memory();
        let mut s = Session::start(MEDALLION, storage.clone(), StorageKind::IndexedDb).unwrap();
        let ran = s.handle(Request::RunBatch);
        let watermark = ran.watermark.clone();
        assert!(watermark.is_some(), "the payments moved the watermark: {:?}", ran.batches.last());
        let resumed = Session::resume(storage, StorageKind::IndexedDb).unwrap().unwrap().snapshot();
        assert!(resumed.batches.is_empty(), "this page has run no batch yet");
        assert_eq!(resumed.watermark, watermark, "the checkpoint's watermark, not `none`");
    }

    #[test]
    fn the_table_answers_version_as_of() {
        let mut s = Session::from_scenario(TRUCKS).unwrap();
        let snap = s.handle(Request::QueryTable { sql: "SELECT truck_id, city FROM sink VERSION AS OF 0 ORDER BY truck_id".into() });
        let q = snap.table_query.unwrap();
        assert_eq!((q.version, q.rows.len(), q.error), (Some(0), 2, None));
        let snap = s.handle(Request::QueryTable { sql: "SELECT count(*) AS n FROM sink".into() });
        assert_eq!(snap.table_query.unwrap().rows, vec![vec![json!(4)]]);
        let snap = s.handle(Request::QueryTable { sql: "SELECT nope FROM sink".into() });
        assert_eq!(snap.table_query.unwrap().error.unwrap().kind, "unknown_column");
    }

    fn def(name: &str, cols: &[(&str, &str)], rows: Vec<Json>) -> RelationDef {
        RelationDef { name: name.into(), columns: cols.iter().map(|(n, t)| (n.to_string(), t.to_string())).collect(), rows }
    }

    #[test]
    fn sources_and_tables_can_be_edited() {
        let mut s = Session::from_scenario(TRUCKS).unwrap();
        let readings = [("truck_id", "string"), ("temp_c", "double"), ("speed_kmh", "int"), ("ts", "timestamp")];
        let locations = [("truck_id", "string"), ("depot", "string"), ("city", "string")];
        // A new depot row for t-09: a new version of the table, which the next batches join
        // against; the rows already written stay as they were (Spark's stream-static join).
        let before = s.snapshot();
        let rows = vec![json!(["t-01", "D1", "Hamburg"]), json!(["t-09", "D9", "Bremen"])];
        let snap = s.handle(Request::SetRelations {
            sources: vec![def("truck_readings", &readings, vec![])],
            tables: vec![def("truck_locations", &locations, rows)],
        });
        assert!(snap.error.is_none(), "{:?}", snap.error);
        assert_eq!((snap.sources[0].rows, snap.sources[0].pending, snap.tables[0].rows), (7, 0, 2), "events kept, not read again");
        assert_eq!((snap.sink.clone(), snap.query_id.clone()), (before.sink.clone(), before.query_id.clone()), "the same query and table");
        assert!(snap.notice.unwrap_or_default().contains("next micro-batch joins against its new rows"));
        add(&mut s, "t-09", 30, "2026-03-02 08:05:00");
        let snap = s.handle(Request::RunBatch);
        assert!(snap.sink.iter().any(|r| r[1] == json!("Bremen")), "{:?}", snap.sink);
        assert_eq!(snap.sink.len(), before.sink.len() + 1, "only the new event was joined");
        // A bad type is refused with the scenario format's message, and nothing changes.
        let bad = s.handle(Request::SetRelations { sources: vec![def("truck_readings", &[("truck_id", "text")], vec![])], tables: vec![] });
        let message = bad.error.unwrap().message;
        assert!(message.contains("has unknown type text"), "{message}");
        assert_eq!(s.snapshot().sources[0].rows, 8);
        // A changed width drops that source's events; a query that no longer fits waits for a fix.
        let narrow = s.handle(Request::SetRelations {
            sources: vec![def("truck_readings", &[("truck_id", "string"), ("ts", "timestamp")], vec![])],
            tables: vec![],
        });
        assert_eq!(narrow.sources[0].rows, 0);
        assert_eq!(narrow.error.map(|e| e.kind), Some("unknown_table".to_string()), "truck_locations is gone");
        let fixed = s.handle(Request::SetQuery { sql: "SELECT truck_id FROM STREAM truck_readings".into(), output_mode: "append".into() });
        assert!(fixed.error.is_none(), "{:?}", fixed.error);
    }

    const RATE: &str = include_str!("../../tests/scenarios/sources/rate/ticks-with-recovery.json");

    /// A rate source in the page runs on the scenario's step clock: its batches, crash and
    /// restart included, are the runner's, a step after the scenario's end generates its
    /// second's rows, and the export replays to the same table. Events cannot be added to it.
    #[test]
    fn a_rate_source_runs_on_the_step_clock_as_the_runner_runs_it() {
        let runner = unbounded_engine::scenario::run_text(RATE).unwrap().document;
        let mut s = Session::from_scenario(RATE).unwrap();
        let snap = s.snapshot();
        assert_eq!(snap.error, None);
        let sink: Vec<Json> = snap.sink.iter().map(|r| Json::Array(r.clone())).collect();
        assert_eq!(Json::Array(sink), runner["sink"], "the page's table is the runner's");
        assert_eq!(snap.sources[0].kind, "rate");
        let added = s.handle(Request::AddEvents { source: "ticks".into(), rows: vec![json!([1, "2026-01-01 00:00:00"])] });
        assert!(added.error.unwrap().message.contains("rate source"));
        let before = s.snapshot().sink_total;
        let next = s.handle(Request::RunBatch);
        assert_eq!(next.error, None);
        assert_eq!(next.sink_total, before + 2, "one more second at 2 rows a second");
        let exported = serde_json::to_string(&s.export().to_json()).unwrap();
        let replayed = unbounded_engine::scenario::run_text(&exported).unwrap().document;
        assert_eq!(replayed["sink"].as_array().map(Vec::len), Some(next.sink_total as usize), "the export replays to the same table");
    }

    const KAFKA: &str = include_str!("../../tests/scenarios/gallery/kafka-bronze-max-offsets.json");

    #[test]
    fn a_producer_fills_a_topic_that_a_reload_refills_at_the_same_offsets() {
        let storage = SharedStorage::memory();
        let mut s = Session::start(KAFKA, storage.clone(), StorageKind::IndexedDb).unwrap();
        let before = s.snapshot();
        assert_eq!(before.topics[0].total_messages, 9);
        assert_eq!(before.topics[0].lag(), 0);
        assert_eq!(before.sources[0].kind, "kafka", "a topic takes messages, not rows");
        // A producer that retries once: the topic keeps both copies, at two offsets of d1's partition.
        let m = json!({"key": "d1", "value": r#"{"device": "d1", "temp": 23.0, "ts": "2026-01-01 00:00:09"}"#});
        let snap = s.handle(Request::Produce { source: "SENSOR_DATA".into(), messages: vec![m.clone(), m], partition: None });
        assert_eq!(snap.error, None);
        let t = &snap.topics[0];
        assert_eq!((t.total_messages, t.lag()), (11, 2));
        let copies: Vec<_> = t.messages.iter().filter(|m| !m.read).collect();
        assert_eq!(copies.len(), 2);
        assert_eq!((copies[0].partition, copies[0].offset + 1), (copies[1].partition, copies[1].offset), "{copies:?}");
        assert_eq!(snap.sources[0].pending, 2, "Run all available counts the lag");
        // A partition that does not exist is refused and keeps nothing.
        let bad = s.handle(Request::Produce { source: "sensor_data".into(), messages: vec![json!({"value": "x"})], partition: Some(7) });
        assert!(bad.error.as_ref().unwrap().message.contains("partition 7 does not exist"), "{:?}", bad.error);
        assert_eq!(bad.topics[0].total_messages, 11);
        drop(s);
        // A reload refills the topic before the query resumes from its checkpoint.
        let mut resumed = Session::resume(storage, StorageKind::IndexedDb).unwrap().expect("saved");
        let again = resumed.snapshot();
        assert_eq!(again.topics, snap.topics, "the same messages at the same offsets, the same read positions");
        let done = resumed.handle(Request::RunBatch);
        assert_eq!(
            done.batches.last().map(|b| b.input_rows),
            Some(2),
            "both copies are read: the engine duplicates nothing, the producer did"
        );
        assert_eq!(done.topics[0].lag(), 0);
        // The export is a scenario that gives the same table.
        let exported = resumed.handle(Request::Export).exported.unwrap();
        let reference = Session::from_scenario(&exported).unwrap();
        // After a reload the runs between the first messages are not known, only their order.
        let sorted = |rows: &[Vec<Json>]| {
            let mut r: Vec<String> = rows.iter().map(|r| Json::Array(r.clone()).to_string()).collect();
            r.sort();
            r
        };
        assert_eq!(sorted(&reference.snapshot().sink), sorted(&done.sink));
        assert_eq!(reference.snapshot().topics[0].partitions, done.topics[0].partitions);
    }

    const NEW_COLUMN: &str = include_str!("../../tests/scenarios/sources/auto-loader/add-new-columns.json");

    #[test]
    fn a_landing_folder_evolves_its_schema_and_a_reload_refills_it() {
        let storage = SharedStorage::memory();
        let mut s = Session::queued(NEW_COLUMN, storage.clone(), StorageKind::IndexedDb).unwrap();
        let first = s.handle(Request::StepForward);
        assert_eq!(first.sink.len(), 2);
        let f = &first.folders[0];
        assert_eq!(
            (f.schema_version, f.evolution_mode.as_str(), f.rescued_column.as_deref()),
            (Some(0), "addNewColumns", Some("_rescued_data"))
        );
        assert_eq!(f.files[0].batch_id, Some(0), "a.json was read by batch 0");
        assert_eq!(first.sources[0].kind, "auto_loader");
        // b.json brings `city`: the stream stops, the new schema is recorded.
        let stopped = s.handle(Request::StepForward);
        assert!(stopped.error.as_ref().unwrap().message.contains("[city]"), "{:?}", stopped.error);
        assert_eq!(stopped.scrub.position, 2, "the stop is a position of its own");
        let f = &stopped.folders[0];
        assert_eq!(f.schema_version, Some(1));
        assert!(f.schema.iter().any(|c| c.name == "city"), "{:?}", f.schema);
        assert_eq!(f.files[1].batch_id, None, "b.json is not read yet");
        // A file with a name already landed is refused and keeps nothing.
        let again = s.handle(Request::Land { source: "landing".into(), file: "a.json".into(), text: "{}".into() });
        assert!(again.error.as_ref().unwrap().message.contains("already landed"), "{:?}", again.error);
        assert_eq!(again.folders[0].files.len(), 2);
        let landed = s.handle(Request::Land {
            source: "LANDING".into(),
            file: "c.json".into(),
            text: "{\"id\": 4, \"name\": \"dee\", \"city\": \"Rome\"}\n".into(),
        });
        assert_eq!(landed.error, None);
        drop(s);
        // A reload refills the folder; the query starts from its checkpoint with the schema recorded.
        let mut resumed = Session::resume(storage, StorageKind::IndexedDb).unwrap().expect("saved");
        let snap = resumed.snapshot();
        assert_eq!(snap.folders[0].files.iter().map(|f| f.name.as_str()).collect::<Vec<_>>(), vec!["a.json", "b.json", "c.json"]);
        let end = resumed.handle(Request::RunBatch);
        assert_eq!(end.error, None);
        let mut names: Vec<String> = end.sink.iter().map(|r| r[1].to_string()).collect();
        names.sort();
        assert_eq!(names, vec!["\"ann\"", "\"bob\"", "\"cy\"", "\"dee\""]);
        assert!(end.sink.iter().all(|r| r[2].is_null()), "nothing rescued: city is a column now");
    }

    #[test]
    fn available_now_keeps_the_read_limit_and_once_ignores_it() {
        let mut s = Session::start(KAFKA, SharedStorage::memory(), StorageKind::Memory).unwrap();
        let msgs =
            |n: usize| (0..n).map(|i| json!({"key": format!("k{i}"), "value": format!("{{\"device\": \"k{i}\"}}")})).collect::<Vec<_>>();
        s.handle(Request::Produce { source: "sensor_data".into(), messages: msgs(8), partition: None });
        let before = s.snapshot().batches.len();
        let now = s.handle(Request::AvailableNow);
        assert_eq!(now.error, None);
        let sizes: Vec<u64> = now.batches[before..].iter().map(|b| b.input_rows).collect();
        assert!(
            sizes.len() >= 2 && sizes.iter().all(|&n| n <= 4) && sizes.iter().sum::<u64>() == 8,
            "availableNow keeps maxOffsetsPerTrigger: {sizes:?}"
        );
        assert_eq!(now.topics[0].lag(), 0);
        s.handle(Request::Produce { source: "sensor_data".into(), messages: msgs(7), partition: None });
        let before = s.snapshot().batches.len();
        let once = s.handle(Request::Once);
        assert_eq!(once.error, None);
        assert_eq!(once.batches[before..].iter().map(|b| b.input_rows).collect::<Vec<_>>(), vec![7], "once: one batch, limits ignored");
        // The query stopped; the next run starts it again from its checkpoint and goes on.
        s.handle(Request::Produce { source: "sensor_data".into(), messages: msgs(2), partition: None });
        let run = s.handle(Request::RunBatch);
        assert_eq!(run.error, None);
        assert_eq!(run.sink_total, 9 + 8 + 7 + 2);
        let exported = s.handle(Request::Export).exported.unwrap();
        assert!(exported.contains("\"availableNow\"") && exported.contains("\"once\""), "the export keeps the triggers");
    }

    /// Continuous processing in the page: the query keeps running, each tick commits an
    /// epoch with what arrived (an interval of 0 commits at every tick), every record's wait is
    /// listed, Pause ends it, and the export keeps the trigger.
    #[test]
    fn continuous_runs_epochs_and_lists_each_record_s_latency() {
        let mut s = Session::start(KAFKA, SharedStorage::memory(), StorageKind::Memory).unwrap();
        let started = s.handle(Request::PlayLive { mode: "continuous".into(), interval_ms: 0.0 });
        assert_eq!(started.error, None);
        assert_eq!(started.live.live_mode.as_deref(), Some("continuous"));
        assert!(started.live.playing);
        let before = started.batches.len();
        let m = |i: usize| json!({"key": format!("k{i}"), "value": format!("{{\"device\": \"k{i}\"}}")});
        s.handle(Request::Produce { source: "sensor_data".into(), messages: (0..6).map(m).collect(), partition: None });
        assert!(s.tick(1.0), "the epoch commits");
        let snap = s.snapshot();
        let epoch = &snap.batches[before..];
        assert_eq!(epoch.iter().map(|b| b.input_rows).sum::<u64>(), 6, "an epoch reads what arrived, read limits aside");
        let listed: u64 = epoch.iter().flat_map(|b| &b.record_latencies).map(|l| l.records).sum();
        assert_eq!(listed, 6, "every record has its latency: {:?}", epoch.last().map(|b| &b.record_latencies));
        assert!(epoch.iter().flat_map(|b| &b.record_latencies).all(|l| l.latency_ms >= 0.0 && l.partition.is_some()));
        let paused = s.handle(Request::Pause);
        assert_eq!((paused.error, paused.live.live_mode, paused.live.playing), (None, None, false));
        let exported = s.handle(Request::Export).exported.unwrap();
        assert!(exported.contains("\"continuous\""), "the export keeps the trigger");
        // A micro-batch run after it goes on from the checkpoint.
        s.handle(Request::Produce { source: "sensor_data".into(), messages: vec![m(9)], partition: None });
        let run = s.handle(Request::RunBatch);
        assert_eq!(run.error, None);
        assert_eq!(run.sink_total, snap.sink_total + 1);
    }

    /// A link's continuous step runs as the runner runs it: live across the steps after it, so
    /// what they produce is processed too, and the page's sink is the runner's.
    #[test]
    fn a_queued_continuous_step_runs_live_across_the_steps_after_it() {
        let scenario = json!({
            "version": 1, "name": "live", "sources": {"readings": {"kind": "kafka", "partitions": 1}},
            "query": "SELECT CAST(key AS STRING) AS device, CAST(value AS STRING) AS v FROM STREAM readings",
            "output_mode": "append",
            "steps": [
                {"add": "readings", "messages": [{"key": "a", "value": "1"}], "partition": 0},
                {"run": {"trigger": {"continuous": "0 seconds"}}},
                {"add": "readings", "messages": [{"key": "b", "value": "2"}], "partition": 0},
                {"add": "readings", "messages": [{"key": "c", "value": "3"}], "partition": 0},
                {"run": {}},
                {"add": "readings", "messages": [{"key": "d", "value": "4"}], "partition": 0},
                {"run": {"trigger": {"continuous": "1 hour"}}},
                {"add": "readings", "messages": [{"key": "e", "value": "5"}], "partition": 0},
            ]
        })
        .to_string();
        let runner = unbounded_engine::scenario::run_text(&scenario).unwrap().document;
        let mut s = Session::queued(&scenario, SharedStorage::memory(), StorageKind::Memory).unwrap();
        let end = s.handle(Request::RunToEnd);
        assert_eq!(end.error, None);
        assert_eq!((end.live.playing, end.live.live_mode.clone()), (false, None), "the scenario's end stops the live run");
        let sink: Vec<Json> = end.sink.iter().map(|r| Json::Array(r.clone())).collect();
        assert_eq!(Json::Array(sink), runner["sink"], "the page's sink is the runner's");
        assert_eq!(end.sink_total, 5);
        let runner_batches: Vec<usize> = runner["runs"]
            .as_array()
            .unwrap()
            .iter()
            .flat_map(|r| r["batches"].as_array().unwrap().iter().map(|b| b["rows"].as_array().map_or(0, Vec::len)))
            .collect();
        let page: Vec<usize> = end.batches.iter().map(|b| b.output_rows as usize).collect();
        assert_eq!(page, runner_batches, "batch by batch, as the runner");
        // Exported and run again, the session gives the same table.
        let exported = serde_json::to_string(&s.export().to_json()).unwrap();
        let replayed = unbounded_engine::scenario::run_text(&exported).unwrap().document;
        assert_eq!(replayed["sink"], runner["sink"], "the export replays to the same table");
    }

    /// An epoch that fails (retention deleted what it was to read) stops the live run with the
    /// error, and the query is no longer live: the next run starts it from its checkpoint.
    #[test]
    fn a_failing_epoch_stops_the_live_run_and_leaves_no_live_query() {
        let mut s = Session::start(KAFKA, SharedStorage::memory(), StorageKind::Memory).unwrap();
        s.handle(Request::PlayLive { mode: "continuous".into(), interval_ms: 0.0 });
        let m = json!({"key": "d1", "value": "{}"});
        let sent = s.handle(Request::Produce { source: "sensor_data".into(), messages: vec![m; 3], partition: Some(0) });
        let latest = sent.topics[0].partitions[0].latest;
        let from = json!({"0": latest});
        s.handle(Request::Retain { source: "sensor_data".into(), from_offsets: from.as_object().unwrap().clone() });
        assert!(s.tick(1.0));
        let snap = s.snapshot();
        assert!(snap.error.as_ref().is_some_and(|e| e.message.contains("failOnDataLoss")), "{:?}", snap.error);
        assert_eq!((snap.live.playing, snap.live.live_mode), (false, None));
        assert_eq!(s.query.as_ref().and_then(|q| q.live_trigger()), None, "the query is not left live");
    }

    /// What a low-latency trigger does not accept is refused with Spark's error before anything
    /// changes: Real-Time Mode wants update mode, continuous processing no aggregation.
    #[test]
    fn a_trigger_spark_refuses_leaves_the_session_as_it_was() {
        let mut s = Session::start(KAFKA, SharedStorage::memory(), StorageKind::Memory).unwrap();
        let before = s.snapshot();
        let refused = s.handle(Request::PlayLive { mode: "realTime".into(), interval_ms: 5000.0 });
        let e = refused.error.clone().expect("Real-Time Mode refuses append mode");
        assert!(e.message.contains("OUTPUT_MODE_NOT_SUPPORTED") || e.message.contains("output mode"), "{e:?}");
        assert_eq!((refused.live.playing, refused.live.live_mode.clone()), (false, None));
        assert_eq!((refused.batches.len(), refused.sink_total), (before.batches.len(), before.sink_total));
        let short = s.handle(Request::PlayLive { mode: "realTime".into(), interval_ms: 1000.0 });
        assert!(short.error.is_some() && !short.live.playing);
        let mut agg = Session::start(SMALL, SharedStorage::memory(), StorageKind::Memory).unwrap();
        let before = agg.snapshot();
        let refused = agg.handle(Request::PlayLive { mode: "continuous".into(), interval_ms: 1000.0 });
        let e = refused.error.clone().expect("continuous refuses an aggregation");
        assert!(e.message.contains("Continuous processing does not support"), "{e:?}");
        assert_eq!((refused.batches.len(), refused.sink_total, refused.live.playing), (before.batches.len(), before.sink_total, false));
        for (mode, interval) in [("rocket", 1000.0), ("continuous", f64::NAN), ("continuous", -1.0)] {
            assert!(agg.handle(Request::PlayLive { mode: mode.into(), interval_ms: interval }).error.is_some(), "{mode} {interval}");
        }
    }

    #[test]
    fn retention_that_deletes_unread_messages_fails_the_next_batch_and_survives_a_reload() {
        let storage = SharedStorage::memory();
        let mut s = Session::start(KAFKA, storage.clone(), StorageKind::IndexedDb).unwrap();
        let m = json!({"key": "d1", "value": "{}"});
        let sent = s.handle(Request::Produce { source: "sensor_data".into(), messages: vec![m; 4], partition: Some(0) });
        let latest = sent.topics[0].partitions[0].latest;
        let cut =
            s.handle(Request::Retain { source: "sensor_data".into(), from_offsets: json!({"0": latest - 1}).as_object().unwrap().clone() });
        assert_eq!(cut.error, None);
        assert_eq!(cut.topics[0].partitions[0].earliest, latest - 1);
        let failed = s.handle(Request::RunBatch);
        assert!(failed.error.as_ref().unwrap().message.contains("failOnDataLoss"), "{:?}", failed.error);
        drop(s);
        let resumed = Session::resume(storage, StorageKind::IndexedDb).unwrap().unwrap();
        assert_eq!(resumed.snapshot().topics[0].partitions[0].earliest, latest - 1, "the cut is refilled too");
    }

    #[test]
    fn a_new_query_over_a_topic_reads_it_again_from_the_start() {
        let mut s = Session::start(KAFKA, SharedStorage::memory(), StorageKind::Memory).unwrap();
        let snap =
            s.handle(Request::SetQuery { sql: "SELECT partition, offset FROM STREAM sensor_data".into(), output_mode: "append".into() });
        assert_eq!(snap.error, None);
        assert_eq!(snap.topics[0].total_messages, 0, "at batch 0 the messages are queued again");
        let end = s.handle(Request::RunToEnd);
        assert_eq!(end.topics[0].total_messages, 9);
        assert_eq!(end.sink.len(), 9);
        assert_eq!(end.batches.iter().map(|b| b.input_rows).collect::<Vec<_>>(), vec![3, 3, 3], "the same batches");
    }

    const SMALL: &str = include_str!("../../tests/scenarios/gallery/watermark-small.json");

    #[test]
    fn a_queued_session_keeps_what_has_not_arrived_over_a_reload() {
        let storage = SharedStorage::memory();
        let mut s = Session::queued(SMALL, storage.clone(), StorageKind::IndexedDb).unwrap();
        let snap = s.handle(Request::StepForward);
        assert_eq!((snap.sources[0].rows, snap.sources[0].queued, snap.scrub.queued_runs), (3, 7, 4));
        let mut resumed = Session::resume(storage, StorageKind::IndexedDb).unwrap().unwrap();
        let snap = resumed.snapshot();
        assert_eq!((snap.sources[0].rows, snap.sources[0].queued, snap.scrub.queued_runs), (3, 7, 4));
        let snap = resumed.handle(Request::RunToEnd);
        assert_eq!(snap.batches.iter().map(|b| b.dropped_late).sum::<u64>(), 2, "the stragglers still come late");
    }

    #[test]
    fn going_back_shows_the_kept_batch_and_anything_else_returns_to_now() {
        let mut s = Session::queued(SMALL, SharedStorage::memory(), StorageKind::Memory).unwrap();
        let after_two = {
            s.handle(Request::StepForward);
            s.handle(Request::StepForward)
        };
        s.handle(Request::RunToEnd);
        let snap = s.handle(Request::ScrubTo { position: 2 });
        assert!(snap.scrub.past());
        assert_eq!((snap.sink.clone(), snap.watermark.clone(), snap.state.clone()), (after_two.sink, after_two.watermark, after_two.state));
        assert!(s.handle(Request::ScrubTo { position: 99 }).error.is_some_and(|e| e.message.contains("not kept")));
        // Adding an event acts on the session as it is now.
        let snap =
            s.handle(Request::AddEvent { source: "readings".into(), row: vec![json!("d9"), json!(1.0), json!("2026-01-01 00:02:00")] });
        assert!(!snap.scrub.past());
        assert_eq!((snap.sources[0].rows, snap.sources[0].pending), (11, 1));
        let snap = s.handle(Request::StepForward);
        assert!(snap.notice.unwrap_or_default().contains("Nothing is queued"));
        // Back from the oldest position says so.
        let snap = s.handle(Request::ScrubTo { position: 0 });
        assert!(snap.batches.is_empty());
        assert!(s.handle(Request::StepBack).notice.unwrap_or_default().contains("where the query started"));
    }

    #[test]
    fn the_scrubber_keeps_a_bounded_number_of_positions() {
        let mut s = Session::from_scenario(TRUCKS).unwrap();
        for i in 0..HISTORY + 10 {
            add(&mut s, "t-01", 1, &format!("2026-03-02 09:{:02}:00", i % 60));
            s.handle(Request::RunBatch);
        }
        let info = s.snapshot().scrub;
        assert_eq!(info.kept.len(), HISTORY);
        assert_eq!(info.kept.last().map(|k| k.position), Some(info.live));
        assert!(s.handle(Request::ScrubTo { position: 1 }).error.is_some(), "forgotten");
        let oldest = info.kept[0].position;
        assert!(s.handle(Request::ScrubTo { position: oldest }).error.is_none());
        assert!(s.handle(Request::StepBack).notice.unwrap_or_default().contains("oldest position kept"));
    }

    #[test]
    fn why_is_a_window_here_its_events_the_batch_and_the_watermark() {
        let mut s = Session::queued(SMALL, SharedStorage::memory(), StorageKind::Memory).unwrap();
        let snap = s.handle(Request::RunToEnd);
        // [00:00:00, 00:00:10): three readings; the straggler at 00:00:06 came after it closed.
        let row = snap.sink.iter().find(|r| r[0]["start"] == json!("2026-01-01 00:00:00")).unwrap().clone();
        let l = s.handle(Request::WhyRow { row: row.clone() }).lineage.unwrap();
        assert_eq!(l.batch_id, Some(3));
        assert!(l.why.contains("Append mode writes a window once") && l.why.contains("2026-01-01 00:00:15"), "{}", l.why);
        let counted: Vec<_> = l.events.iter().filter(|e| e.note.is_none()).map(|e| (e.offset, e.batch_id)).collect();
        assert_eq!(counted, vec![(0, Some(0)), (1, Some(0)), (2, Some(0))]);
        let late: Vec<_> = l.events.iter().filter(|e| e.note.is_some()).collect();
        assert_eq!(late.len(), 1, "{:?}", l.events);
        assert!(late[0].row[2] == json!("2026-01-01 00:00:06") && late[0].note.as_deref().unwrap_or("").contains("batch 4"), "{late:?}");
        // Asked at an earlier position, the batches are those shown there.
        s.handle(Request::ScrubTo { position: 2 });
        let l = s.handle(Request::WhyRow { row }).lineage.unwrap();
        assert_eq!(l.batch_id, Some(3));
        assert!(l.events.iter().all(|e| e.note.is_none()), "the straggler has not arrived yet");
    }

    #[test]
    fn update_and_complete_say_why_then() {
        let mut s = Session::from_scenario(TRUCKS).unwrap();
        let sql = "SELECT truck_id, count(*) AS n FROM STREAM truck_readings GROUP BY truck_id";
        for (mode, says) in [
            ("update", "Update mode writes a row in every batch that changes it"),
            ("complete", "Complete mode writes the whole result table"),
        ] {
            s.handle(Request::SetQuery { sql: sql.into(), output_mode: mode.into() });
            let snap = s.handle(Request::RunToEnd);
            let row = snap.sink[0].clone();
            let l = s.handle(Request::WhyRow { row: row.clone() }).lineage.unwrap();
            assert!(l.why.contains(says), "{mode}: {}", l.why);
            assert_eq!(l.events.len() as i64, row[1].as_i64().unwrap(), "{mode}: every reading of {:?}", row[0]);
        }
    }

    #[test]
    fn dedup_drops_are_listed_with_the_event_they_duplicated() {
        let mut s = Session::from_scenario(include_str!("../../tests/scenarios/stateful/dedup-retried-events.json")).unwrap();
        let snap = s.snapshot();
        assert!(!snap.duplicates.is_empty());
        for d in &snap.duplicates {
            assert_eq!(d.event.row[0], d.first.row[0], "the same event_id");
            assert!(d.first.offset < d.event.offset);
        }
        let d = snap.duplicates[0].clone();
        let l = s.handle(Request::WhyDuplicate { source: d.event.source.clone(), offset: d.event.offset }).lineage.unwrap();
        assert!(l.why.contains(&format!("{}@{}", d.first.source, d.first.offset)), "{}", l.why);
        let total_read: u64 = snap.batches.iter().map(|b| b.input_rows).sum();
        assert_eq!(snap.sink_total + snap.duplicates.len() as u64, total_read, "every event read passed or was a duplicate");
    }

    #[test]
    fn playing_a_queued_scenario_applies_its_runs_one_per_trigger() {
        let mut s = Session::queued(SMALL, SharedStorage::memory(), StorageKind::Memory).unwrap();
        let queued = s.plan.iter().filter(|st| is_run(st)).count();
        assert!(queued > 1);
        s.handle(Request::Play { interval_ms: 1000.0 });
        let mut triggers = 0;
        while s.plan.iter().any(is_run) && triggers < 100 {
            s.tick(triggers as f64 * 1000.0 + 1.0);
            triggers += 1;
        }
        assert_eq!(triggers, queued, "one trigger applies one queued run");
        let played = s.export();
        let ran = Session::start(SMALL, SharedStorage::memory(), StorageKind::Memory).unwrap().export();
        assert_eq!(played.steps.iter().filter(|st| is_run(st)).count(), ran.steps.iter().filter(|st| is_run(st)).count());
    }
}
