//! Continuous processing (`trigger(continuous=...)`) and Real-Time Mode (`trigger(realTime=...)`):
//! the queries each accepts, refused up front with Spark's error condition, and the live run
//! that keeps the query going across the steps that follow.
//!
//! What Spark 4.3 does was pinned with `tests/spark/pin_trigger_modes.py`; the findings, and the
//! Spark source behind the rules a broker-less run cannot reach, are in
//! `tests/spark/TRIGGER-MODES.md`.
//!
//! A live query commits an epoch (continuous) or a long-running batch (Real-Time Mode) each
//! time its interval has passed on the query's clock, with every record that arrived before the
//! interval ended. Spark's long-running tasks process a record as it arrives; so does the
//! latency this reports ([`crate::progress::RecordLatency`]): a record that arrived while the
//! query ran is processed at its arrival. The sink sees an epoch's rows when it commits.
//! Delivery is at-least-once, as Spark's continuous processing documents and as the sinks Real-Time
//! Mode allows (console, foreach, Kafka: none transactional) give: after a failure the epoch in
//! flight is processed again and its rows written to the sink again.

use super::*;
use crate::plan::logical::LogicalPlan;
use crate::runtime::trigger::RunTrigger;

/// Real-Time Mode's shortest batch duration: `spark.sql.streaming.realTimeMode.minBatchDuration`
/// (5000 ms by default in Spark 4.3, as its error message says).
pub const REAL_TIME_MIN_BATCH_MS: u64 = 5000;

/// What kind of stream a source is, as the trigger checks need to know.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SourceKind {
    Files,
    Kafka,
    AutoLoader,
    Rate,
}

impl SourceKind {
    /// The class Spark names for the source's stream in a Real-Time Mode refusal (seen in
    /// Spark 4.3's `INPUT_STREAM_NOT_SUPPORTED` for the file and rate sources).
    fn spark_stream_class(self) -> &'static str {
        match self {
            SourceKind::Files => "org.apache.spark.sql.execution.streaming.runtime.FileStreamSource",
            SourceKind::Rate => "org.apache.spark.sql.execution.streaming.sources.RateStreamMicroBatchStream",
            // Databricks' Auto Loader is not in Apache Spark; named by its format.
            SourceKind::AutoLoader => "cloudFiles (Auto Loader)",
            SourceKind::Kafka => "org.apache.spark.sql.kafka010.KafkaMicroBatchStream",
        }
    }
}

/// Why a query cannot run under a continuous or Real-Time Mode trigger: one variant per rule
/// Spark checks, each with Spark's error condition ([`TriggerRefusal::condition`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TriggerRefusal {
    /// A logical operator continuous processing cannot run: Spark's
    /// `UnsupportedOperationChecker.checkForContinuous` allows projections and selections only,
    /// and names the first other operator met from the leaves up.
    ContinuousOperation { operator: &'static str },
    /// The batch duration is under `spark.sql.streaming.realTimeMode.minBatchDuration`.
    RealTimeInterval { interval_ms: u64 },
    /// Real-Time Mode runs in update mode only.
    RealTimeOutputMode { mode: OutputMode },
    /// Real-Time Mode reads Kafka only.
    RealTimeSource { source: String, class_name: &'static str },
    /// One source read twice in a union.
    RealTimeIdenticalSourcesInUnion { sources: Vec<String> },
    /// An aggregation or deduplication below a union.
    RealTimeStatefulBeforeUnion,
    /// Physical operators outside Real-Time Mode's allowlist (`RealTimeModeAllowlist`).
    RealTimeOperators { operators: Vec<&'static str> },
}

impl TriggerRefusal {
    /// Spark's error condition for the refusal.
    pub fn condition(&self) -> &'static str {
        match self {
            TriggerRefusal::ContinuousOperation { .. } => "_LEGACY_ERROR_TEMP_3102",
            TriggerRefusal::RealTimeInterval { .. } => "INVALID_STREAMING_REAL_TIME_MODE_TRIGGER_INTERVAL",
            TriggerRefusal::RealTimeOutputMode { .. } => "STREAMING_REAL_TIME_MODE.OUTPUT_MODE_NOT_SUPPORTED",
            TriggerRefusal::RealTimeSource { .. } => "STREAMING_REAL_TIME_MODE.INPUT_STREAM_NOT_SUPPORTED",
            TriggerRefusal::RealTimeIdenticalSourcesInUnion { .. } => "STREAMING_REAL_TIME_MODE.IDENTICAL_SOURCES_IN_UNION_NOT_SUPPORTED",
            TriggerRefusal::RealTimeStatefulBeforeUnion => "STREAMING_REAL_TIME_MODE.STATEFUL_OPERATORS_BEFORE_UNION_NOT_SUPPORTED",
            TriggerRefusal::RealTimeOperators { .. } => "STREAMING_REAL_TIME_MODE.OPERATOR_OR_SINK_NOT_IN_ALLOWLIST",
        }
    }

    /// The engine's error kind (FORMAT.md's `kind`).
    pub fn kind(&self) -> ErrorKind {
        match self {
            TriggerRefusal::RealTimeOutputMode { .. } => ErrorKind::UnsupportedOutputMode,
            _ => ErrorKind::UnsupportedOperation,
        }
    }

    /// Spark's message, then what to change.
    pub fn message(&self) -> String {
        const RTM: &str = "Streaming real-time mode has the following limitation:";
        match self {
            TriggerRefusal::ContinuousOperation { operator } => format!(
                "Continuous processing does not support {operator} operations.; Continuous processing runs map-like queries only: projections (SELECT) and selections (WHERE) over Kafka or rate sources. Run this query with a micro-batch trigger ({{\"run\": {{}}}}), or, over Kafka in update mode, with Real-Time Mode ({{\"run\": {{\"trigger\": {{\"realTime\": \"5 seconds\"}}}}}})."
            ),
            TriggerRefusal::RealTimeInterval { interval_ms } => format!(
                "[INVALID_STREAMING_REAL_TIME_MODE_TRIGGER_INTERVAL] The real-time trigger interval is set to {interval_ms} ms. This is less than the {REAL_TIME_MIN_BATCH_MS} ms minimum specified by spark.sql.streaming.realTimeMode.minBatchDuration. SQLSTATE: 22023 Give the realTime trigger {REAL_TIME_MIN_BATCH_MS} ms or more (\"5 seconds\"): a record is still processed as it arrives, the interval is how often the batch commits."
            ),
            TriggerRefusal::RealTimeOutputMode { mode } => {
                let m = match mode {
                    OutputMode::Append => "Append",
                    OutputMode::Update => "Update",
                    OutputMode::Complete => "Complete",
                };
                format!(
                    "[STREAMING_REAL_TIME_MODE.OUTPUT_MODE_NOT_SUPPORTED] {RTM} The output mode {m} is not supported. To work around this limitation, set the output mode to Update. In the future, {m} may be supported. SQLSTATE: 0A000"
                )
            }
            TriggerRefusal::RealTimeSource { source, class_name } => format!(
                "[STREAMING_REAL_TIME_MODE.INPUT_STREAM_NOT_SUPPORTED] {RTM} The input stream {class_name} is not supported in Real-time Mode. SQLSTATE: 0A000 (source `{source}`: Real-Time Mode reads Kafka topics only; make it a Kafka source, or run the query with a micro-batch trigger.)"
            ),
            TriggerRefusal::RealTimeIdenticalSourcesInUnion { sources } => format!(
                "[STREAMING_REAL_TIME_MODE.IDENTICAL_SOURCES_IN_UNION_NOT_SUPPORTED] {RTM} Real-time mode does not support union on two or more identical streaming data sources in a single query. This includes scenarios such as referencing the same source DataFrame more than once, or using two data sources with identical configurations for some sources. For Kafka, avoid reusing the same DataFrame and create different ones. Sources provided in the query: {} SQLSTATE: 0A000",
                sources.join(", ")
            ),
            TriggerRefusal::RealTimeStatefulBeforeUnion => format!(
                "[STREAMING_REAL_TIME_MODE.STATEFUL_OPERATORS_BEFORE_UNION_NOT_SUPPORTED] {RTM} Streaming queries in real-time mode cannot include stateful operators (e.g. aggregate, deduplicate, transformWithState) before a union. Please restructure your query to apply the union before any stateful operations. SQLSTATE: 0A000"
            ),
            TriggerRefusal::RealTimeOperators { operators } => format!(
                "[STREAMING_REAL_TIME_MODE.OPERATOR_OR_SINK_NOT_IN_ALLOWLIST] {RTM} The operator(s): {} {} not in the operator allowlist for Real-Time Mode. To bypass this check, set spark.sql.streaming.realTimeMode.allowlistCheck to false. By changing this, you agree to run the query at your own risk. SQLSTATE: 0A000 (Real-Time Mode runs projections, selections, joins with a static table, aggregations and dropDuplicates; not stream-stream joins, session windows, ORDER BY, LIMIT or dropDuplicatesWithinWatermark.)",
                operators.join(", "),
                if operators.len() == 1 { "is" } else { "are" }
            ),
        }
    }
}

impl From<TriggerRefusal> for Error {
    fn from(r: TriggerRefusal) -> Error {
        Error::new(r.kind(), r.message()).with_condition(r.condition())
    }
}

/// The operator continuous processing refuses in `plan`, visiting children before their parent
/// and the left input first, as Spark's `plan.foreachUp` does; None when it runs.
fn continuous_refusal(plan: &LogicalPlan, kind: &dyn Fn(&str) -> SourceKind) -> Option<&'static str> {
    let children: Vec<&LogicalPlan> = match plan {
        // The side written first is the join's left input.
        LogicalPlan::StaticJoin { stream, table, stream_first: false, .. } => vec![table, stream],
        _ => plan.children(),
    };
    if let Some(op) = children.into_iter().find_map(|c| continuous_refusal(c, kind)) {
        return Some(op);
    }
    match plan {
        LogicalPlan::Filter { .. } | LogicalPlan::Project { .. } => None,
        LogicalPlan::Source { name, .. } => match kind(name) {
            SourceKind::Kafka | SourceKind::Rate => None,
            // A file source is a V1 `StreamingRelation`, which the checker does not allow.
            SourceKind::Files | SourceKind::AutoLoader => Some("StreamingRelation"),
        },
        // The Spark harness makes a static table with `createDataFrame`.
        LogicalPlan::Table { .. } => Some("LogicalRDD"),
        LogicalPlan::Watermark { .. } => Some("EventTimeWatermark"),
        LogicalPlan::StaticJoin { .. } | LogicalPlan::StreamJoin { .. } => Some("Join"),
        LogicalPlan::Union { .. } => Some("Union"),
        // Spark's LIMIT is GlobalLimit over LocalLimit: the lower one is met first.
        LogicalPlan::Limit { .. } => Some("LocalLimit"),
        // A tumbling window is a projection and a filter; a sliding one an Expand.
        LogicalPlan::WindowAssign { window, .. } if window.slide == window.size => None,
        LogicalPlan::WindowAssign { .. } => Some("Expand"),
        LogicalPlan::Sort { .. } => Some("Sort"),
        LogicalPlan::Deduplicate { within_watermark: false, .. } => Some("Deduplicate"),
        LogicalPlan::Deduplicate { within_watermark: true, .. } => Some("DeduplicateWithinWatermark"),
        LogicalPlan::Generate { .. } => Some("Generate"),
        LogicalPlan::Aggregate { .. } => Some("Aggregate"),
    }
}

/// The physical operators of `plan` outside Real-Time Mode's allowlist, as Spark's
/// `RealTimeModeAllowlist` names them, in plan order without repeats.
fn real_time_operators(plan: &LogicalPlan, out: &mut Vec<&'static str>) {
    for c in plan.children() {
        real_time_operators(c, out);
    }
    let refused: &[&'static str] = match plan {
        LogicalPlan::StreamJoin { .. } => {
            &["org.apache.spark.sql.execution.streaming.operators.stateful.join.StreamingSymmetricHashJoinExec"]
        }
        LogicalPlan::Sort { .. } => &["org.apache.spark.sql.execution.SortExec"],
        LogicalPlan::Limit { .. } => &[
            "org.apache.spark.sql.execution.streaming.operators.stateful.StreamingLocalLimitExec",
            "org.apache.spark.sql.execution.streaming.operators.stateful.StreamingGlobalLimitExec",
        ],
        LogicalPlan::Deduplicate { within_watermark: true, .. } => {
            &["org.apache.spark.sql.execution.streaming.operators.stateful.StreamingDeduplicateWithinWatermarkExec"]
        }
        LogicalPlan::Aggregate { session: Some(_), .. } => &[
            "org.apache.spark.sql.execution.streaming.operators.stateful.SessionWindowStateStoreRestoreExec",
            "org.apache.spark.sql.execution.streaming.operators.stateful.SessionWindowStateStoreSaveExec",
        ],
        _ => &[],
    };
    for r in refused {
        if !out.contains(r) {
            out.push(r);
        }
    }
}

/// The source names a plan reads, in plan order (a source read twice appears twice).
fn sources_read<'a>(plan: &'a LogicalPlan, out: &mut Vec<&'a str>) {
    if let LogicalPlan::Source { name, .. } = plan {
        out.push(name);
    }
    plan.children().into_iter().for_each(|c| sources_read(c, out));
}

/// The first union Real-Time Mode refuses: one reading a source twice, or with an aggregation
/// or deduplication below it.
fn real_time_union_refusal(plan: &LogicalPlan) -> Option<TriggerRefusal> {
    if let LogicalPlan::Union { inputs, .. } = plan {
        let mut read = Vec::new();
        inputs.iter().for_each(|i| sources_read(i, &mut read));
        let mut twice: Vec<String> = Vec::new();
        for (k, s) in read.iter().enumerate() {
            if read[..k].iter().any(|o| o.eq_ignore_ascii_case(s)) && !twice.iter().any(|t| t.eq_ignore_ascii_case(s)) {
                twice.push(s.to_string());
            }
        }
        if !twice.is_empty() {
            return Some(TriggerRefusal::RealTimeIdenticalSourcesInUnion { sources: twice });
        }
        if inputs.iter().any(|i| i.count_stateful() > 0) {
            return Some(TriggerRefusal::RealTimeStatefulBeforeUnion);
        }
    }
    plan.children().into_iter().find_map(real_time_union_refusal)
}

/// Whether `plan` runs under `trigger`, checked as Spark checks it (the rules every streaming
/// query passes were checked when the query started). `kind` says what each source is.
pub fn check_trigger_plan(
    plan: &LogicalPlan,
    mode: OutputMode,
    trigger: RunTrigger,
    kind: &dyn Fn(&str) -> SourceKind,
) -> Result<(), TriggerRefusal> {
    match trigger {
        RunTrigger::Continuous { .. } => match continuous_refusal(plan, kind) {
            Some(operator) => Err(TriggerRefusal::ContinuousOperation { operator }),
            None => Ok(()),
        },
        RunTrigger::RealTime { batch_duration_ms } => {
            // In Spark's order: the interval and the output mode when the query starts, the
            // sources and operators when its first batch is planned.
            if batch_duration_ms < REAL_TIME_MIN_BATCH_MS {
                return Err(TriggerRefusal::RealTimeInterval { interval_ms: batch_duration_ms });
            }
            if mode != OutputMode::Update {
                return Err(TriggerRefusal::RealTimeOutputMode { mode });
            }
            let mut read = Vec::new();
            sources_read(plan, &mut read);
            if let Some(source) = read.iter().find(|s| kind(s) != SourceKind::Kafka) {
                return Err(TriggerRefusal::RealTimeSource { source: source.to_string(), class_name: kind(source).spark_stream_class() });
            }
            if let Some(r) = real_time_union_refusal(plan) {
                return Err(r);
            }
            let mut operators = Vec::new();
            real_time_operators(plan, &mut operators);
            if !operators.is_empty() {
                return Err(TriggerRefusal::RealTimeOperators { operators });
            }
            Ok(())
        }
        _ => Ok(()),
    }
}

/// A query running under a live trigger.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(super) struct LiveRun {
    pub(super) trigger: RunTrigger,
    /// When the query (re)started running: records that arrived before wait until then.
    pub(super) since_ms: f64,
    /// When the open epoch (or batch) ends.
    pub(super) epoch_end_ms: f64,
}

impl StreamingQuery {
    fn source_kind(&self, name: &str) -> SourceKind {
        if self.kafka_source(name).is_some() {
            SourceKind::Kafka
        } else if self.rate_source(name).is_some() {
            SourceKind::Rate
        } else if self.auto_loader_source(name).is_some() {
            SourceKind::AutoLoader
        } else {
            SourceKind::Files
        }
    }

    /// Whether the query can run under `trigger`: Spark's refusal, as an error with its
    /// condition and what to change. Changes nothing, so the page can ask before it starts.
    pub fn check_trigger(&self, trigger: RunTrigger) -> Result<()> {
        check_trigger_plan(&self.analyzed.plan, self.definition.output_mode, trigger, &|n| self.source_kind(n)).map_err(Error::from)
    }

    /// The live trigger the query runs under, if it runs under one.
    pub fn live_trigger(&self) -> Option<RunTrigger> {
        self.live.map(|l| l.trigger)
    }

    /// Starts the query from its checkpoint under a continuous or Real-Time Mode trigger; it
    /// keeps running: [`Self::tick_live`] commits each epoch (batch) as the clock passes its
    /// end, [`Self::stop_live`] stops it. A query the trigger refuses is left as it was.
    pub fn start_live(&mut self, trigger: RunTrigger) -> Result<RunReport> {
        let Some(interval) = trigger.live_interval_ms() else {
            return Err(Error::invalid_input(format!("`{}` is not a continuous or realTime trigger", trigger.as_str())));
        };
        self.check_trigger(trigger)?;
        self.live = None;
        self.restart()?;
        let now = self.clock.now_ms();
        self.live = Some(LiveRun { trigger, since_ms: now, epoch_end_ms: now + interval as f64 });
        Ok(RunReport::default())
    }

    /// Advances a live query to the present of its clock (the page calls it on every frame,
    /// the runner at every step): when the open epoch (batch) has ended, it commits with every
    /// record that arrived so far, and the next one opens. Nothing happens before the end, or
    /// without a live trigger.
    pub fn tick_live(&mut self) -> Result<RunReport> {
        let mut report = RunReport::default();
        let Some(live) = self.live else { return Ok(report) };
        let now = self.clock.now_ms();
        if now < live.epoch_end_ms {
            return Ok(report);
        }
        self.commit_live_epoch(&mut report)?;
        let interval = live.trigger.live_interval_ms().unwrap_or(0) as f64;
        let next = if interval > 0.0 { live.epoch_end_ms + interval * (((now - live.epoch_end_ms) / interval).floor() + 1.0) } else { now };
        if let Some(l) = self.live.as_mut() {
            l.epoch_end_ms = next;
        }
        Ok(report)
    }

    /// Stops a live query: its open epoch (batch) commits with what has arrived (Spark would
    /// process it again at the next start; the engine ends it here so a stop loses nothing
    /// and repeats nothing).
    pub fn stop_live(&mut self) -> Result<RunReport> {
        let mut report = RunReport::default();
        if self.live.is_some() {
            self.commit_live_epoch(&mut report)?;
        }
        self.live = None;
        Ok(report)
    }

    /// Ends a live run without committing its open epoch, after that epoch failed: what it
    /// had read is read again by the next run, from the checkpoint (as Spark's continuous
    /// query, restarted after a failure, reprocesses the epoch it had not committed).
    pub fn abandon_live(&mut self) {
        self.live = None;
    }

    /// Commits one epoch of a live query: everything available, read limits ignored (a
    /// long-running task reads what arrives). A crash is recovered from the checkpoint and the
    /// epoch processed again: what it had written reaches the sink a second time.
    fn commit_live_epoch(&mut self, report: &mut RunReport) -> Result<()> {
        loop {
            match self.run_one_reading(false)? {
                None => return Ok(()),
                Some(BatchOutcome::Committed(b)) => {
                    report.batches.push(*b);
                    return Ok(());
                }
                Some(BatchOutcome::Crashed(id, point)) => {
                    report.failures.push((id, point));
                    // The query restarts now (`restart` says so to the live run): what it
                    // processes again waited for that.
                    self.recover()?;
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::kafka::{KafkaSource, Topic};
    use crate::sql::Catalog;
    use crate::types::{Column, DataType, Schema};
    #[cfg(target_arch = "wasm32")]
    use wasm_bindgen_test::wasm_bindgen_test as test;

    /// `k` and `other` are Kafka topics, `files` a folder of files, `ticks` a rate source.
    fn plan(sql: &str) -> LogicalPlan {
        let files = Schema::new(vec![
            Column { name: "device".into(), data_type: DataType::String },
            Column { name: "ts".into(), data_type: DataType::Timestamp },
        ]);
        let catalog = Catalog {
            sources: vec![
                ("k".into(), crate::kafka::kafka_schema()),
                ("other".into(), crate::kafka::kafka_schema()),
                ("files".into(), files),
                ("ticks".into(), crate::rate::rate_schema()),
            ],
            tables: vec![Catalog::table_from_json(
                "devices",
                Schema::new(vec![Column { name: "device".into(), data_type: DataType::String }]),
                &[serde_json::json!(["d1"])],
            )
            .unwrap()],
        };
        crate::sql::analyze(sql, &catalog).unwrap().plan
    }

    fn kind(name: &str) -> SourceKind {
        match name {
            "k" | "other" => SourceKind::Kafka,
            "ticks" => SourceKind::Rate,
            _ => SourceKind::Files,
        }
    }

    const CONTINUOUS: RunTrigger = RunTrigger::Continuous { interval_ms: 1000 };
    const REAL_TIME: RunTrigger = RunTrigger::RealTime { batch_duration_ms: 5000 };

    fn check(sql: &str, mode: OutputMode, t: RunTrigger) -> Result<(), TriggerRefusal> {
        check_trigger_plan(&plan(sql), mode, t, &kind)
    }

    #[test]
    fn continuous_runs_projections_and_selections_over_kafka_and_rate_only() {
        for sql in [
            "SELECT CAST(value AS STRING) AS v, partition FROM STREAM k WHERE offset % 2 = 0",
            "SELECT value * 10 AS v FROM STREAM ticks WHERE value > 3",
        ] {
            assert_eq!(check(sql, OutputMode::Append, CONTINUOUS), Ok(()), "{sql}");
            assert_eq!(check(sql, OutputMode::Update, CONTINUOUS), Ok(()), "{sql}");
        }
        // As Spark 4.3 names them (tests/spark/TRIGGER-MODES.md): the first operator from the
        // leaves up that is not a projection or a selection.
        for (sql, operator) in [
            ("SELECT key, count(*) AS n FROM STREAM k GROUP BY key", "Aggregate"),
            ("SELECT window(timestamp, '2 seconds') AS w, count(*) AS n FROM STREAM ticks WATERMARK timestamp DELAY OF INTERVAL 2 SECONDS GROUP BY window(timestamp, '2 seconds')", "EventTimeWatermark"),
            ("SELECT a.value FROM STREAM k a JOIN STREAM other b ON a.key = b.key", "Join"),
            ("SELECT key FROM STREAM k UNION ALL SELECT key FROM STREAM other", "Union"),
            ("SELECT device FROM STREAM files", "StreamingRelation"),
            ("SELECT CAST(f.key AS STRING) AS d FROM STREAM k f JOIN devices d ON CAST(f.key AS STRING) = d.device", "LogicalRDD"),
            ("SELECT * FROM STREAM k DEDUPLICATE BY (key)", "Deduplicate"),
        ] {
            let mode = if operator == "Aggregate" { OutputMode::Update } else { OutputMode::Append };
            let refused = check(sql, mode, CONTINUOUS).unwrap_err();
            assert_eq!(refused, TriggerRefusal::ContinuousOperation { operator }, "{sql}");
            let e = Error::from(refused);
            assert_eq!(e.spark_condition, Some("_LEGACY_ERROR_TEMP_3102"));
            assert!(e.message.starts_with(&format!("Continuous processing does not support {operator} operations.;")), "{e}");
            assert!(e.message.contains("micro-batch trigger"), "says what to do instead: {e}");
        }
    }

    #[test]
    fn real_time_mode_checks_interval_mode_sources_then_operators_in_sparks_order() {
        let projection = "SELECT CAST(value AS STRING) AS v FROM STREAM k";
        assert_eq!(check(projection, OutputMode::Update, REAL_TIME), Ok(()));
        let short = RunTrigger::RealTime { batch_duration_ms: 1000 };
        // The interval comes first, then the output mode, as Spark's start() checks them.
        assert_eq!(check(projection, OutputMode::Append, short), Err(TriggerRefusal::RealTimeInterval { interval_ms: 1000 }));
        let e = Error::from(check(projection, OutputMode::Append, REAL_TIME).unwrap_err());
        assert_eq!(e.spark_condition, Some("STREAMING_REAL_TIME_MODE.OUTPUT_MODE_NOT_SUPPORTED"));
        assert_eq!(e.kind, ErrorKind::UnsupportedOutputMode);
        assert!(e
            .message
            .contains("The output mode Append is not supported. To work around this limitation, set the output mode to Update."));
        let agg = "SELECT key, count(*) AS n FROM STREAM k GROUP BY key";
        assert_eq!(check(agg, OutputMode::Update, REAL_TIME), Ok(()), "aggregations are in the allowlist");
        assert!(matches!(check(agg, OutputMode::Complete, REAL_TIME), Err(TriggerRefusal::RealTimeOutputMode { .. })));
        assert_eq!(check("SELECT * FROM STREAM k DEDUPLICATE BY (key)", OutputMode::Update, REAL_TIME), Ok(()));
        let joined = "SELECT CAST(f.key AS STRING) AS d FROM STREAM k f JOIN devices d ON CAST(f.key AS STRING) = d.device";
        assert_eq!(check(joined, OutputMode::Update, REAL_TIME), Ok(()), "a static table is broadcast");
        // Sources before operators: a file source is refused whatever the query does.
        assert_eq!(
            check("SELECT device FROM STREAM files", OutputMode::Update, REAL_TIME),
            Err(TriggerRefusal::RealTimeSource {
                source: "files".into(),
                class_name: "org.apache.spark.sql.execution.streaming.runtime.FileStreamSource"
            })
        );
        assert!(matches!(
            check("SELECT value FROM STREAM ticks", OutputMode::Update, REAL_TIME),
            Err(TriggerRefusal::RealTimeSource { .. })
        ));
        let join = "SELECT a.value FROM STREAM k a JOIN STREAM other b ON a.key = b.key";
        let Err(TriggerRefusal::RealTimeOperators { operators }) = check(join, OutputMode::Update, REAL_TIME) else {
            panic!("stream-stream join")
        };
        assert!(operators[0].ends_with("StreamingSymmetricHashJoinExec"), "{operators:?}");
        assert_eq!(
            check("SELECT key FROM STREAM k UNION ALL SELECT key FROM STREAM k", OutputMode::Update, REAL_TIME),
            Err(TriggerRefusal::RealTimeIdenticalSourcesInUnion { sources: vec!["k".into()] })
        );
        assert_eq!(check("SELECT key FROM STREAM k UNION ALL SELECT key FROM STREAM other", OutputMode::Update, REAL_TIME), Ok(()));
    }

    #[test]
    fn micro_batch_triggers_are_not_checked_here() {
        assert_eq!(check("SELECT device FROM STREAM files", OutputMode::Append, RunTrigger::AvailableNow), Ok(()));
    }

    /// A clock the test moves.
    #[derive(Clone, Default)]
    struct TestClock(std::rc::Rc<std::cell::Cell<f64>>);

    impl crate::time::Clock for TestClock {
        fn now_ms(&self) -> f64 {
            self.0.get()
        }
    }

    fn kafka_query(sql: &str, mode: OutputMode) -> StreamingQuery {
        kafka_query_on(sql, mode, TestClock::default())
    }

    fn kafka_query_on(sql: &str, mode: OutputMode, clock: TestClock) -> StreamingQuery {
        let definition = QueryDefinition {
            sql: sql.into(),
            output_mode: mode,
            catalog: Catalog { sources: vec![("k".into(), crate::kafka::kafka_schema())], tables: vec![] },
        };
        let kafka = KafkaSource { topic: Topic::new("k", 1).unwrap(), options: Default::default() };
        let options =
            QueryOptions { kafka: [("k".to_string(), kafka)].into_iter().collect(), clock: Box::new(clock), ..QueryOptions::default() };
        StreamingQuery::start_with(definition, options).unwrap()
    }

    fn send(q: &mut StreamingQuery, key: &str) {
        let m = crate::kafka::Message { key: Some(key.as_bytes().to_vec()), value: Some(b"1".to_vec()), timestamp: 0 };
        q.produce("k", vec![m], Some(0)).unwrap();
    }

    #[test]
    fn a_refused_live_trigger_leaves_the_query_as_it_was() {
        let mut q = kafka_query("SELECT key, count(*) AS n FROM STREAM k GROUP BY key", OutputMode::Update);
        send(&mut q, "a");
        let e = q.start_live(CONTINUOUS).unwrap_err();
        assert_eq!(e.spark_condition, Some("_LEGACY_ERROR_TEMP_3102"));
        assert_eq!(q.live_trigger(), None);
        // The same query still runs as a micro-batch query, and under Real-Time Mode.
        assert_eq!(q.process_all_available().unwrap().batches.len(), 1);
        assert!(q.start_live(REAL_TIME).is_ok());
        assert_eq!(q.live_trigger(), Some(REAL_TIME));
    }

    #[test]
    fn a_live_query_commits_an_epoch_when_its_interval_ends_and_processes_records_as_they_arrive() {
        let clock = TestClock::default();
        let mut q = kafka_query_on("SELECT CAST(key AS STRING) AS k FROM STREAM k", OutputMode::Append, clock.clone());
        clock.0.set(1000.0);
        send(&mut q, "early");
        clock.0.set(2000.0);
        q.start_live(RunTrigger::Continuous { interval_ms: 500 }).unwrap();
        clock.0.set(2200.0);
        send(&mut q, "a");
        assert!(q.tick_live().unwrap().batches.is_empty(), "the epoch [2000, 2500) is still open");
        clock.0.set(2600.0);
        let r = q.tick_live().unwrap();
        assert_eq!(r.batches.len(), 1);
        let waits: Vec<(u64, f64)> = r.batches[0].progress.record_latencies.iter().map(|l| (l.first_offset, l.latency_ms)).collect();
        assert_eq!(waits, vec![(0, 1000.0), (1, 0.0)], "`early` waited for the start, `a` was processed as it arrived");
        send(&mut q, "b");
        assert_eq!(q.stop_live().unwrap().batches.len(), 1, "stopping commits the open epoch");
        assert_eq!(q.live_trigger(), None);
        assert_eq!(q.table().num_rows(), 3);
        // A micro-batch's records wait for its trigger.
        clock.0.set(3000.0);
        send(&mut q, "c");
        clock.0.set(4000.0);
        let r = q.process_all_available().unwrap();
        assert_eq!(r.batches[0].progress.record_latencies[0].latency_ms, 1000.0);
    }
}
