//! Triggers, as in Spark: when the next micro-batch runs. The caller owns the clock (the page's
//! `requestAnimationFrame` time, a test's fake), so the same code runs in the browser and in tests.

use crate::error::Result;
use crate::runtime::{RunReport, StreamingQuery};

/// How a scenario's `run` step drives the query (FORMAT.md, "triggers of a `run` step"). Each
/// starts the query from its checkpoint, as a new `writeStream...trigger(...).start()` does in
/// Spark: only the global watermark is restored, and no no-data batch runs before a batch of
/// this run has (Spark decides on one from the run's previous batch).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RunTrigger {
    /// `trigger(availableNow=True)`: every file there at the start, in as many micro-batches as
    /// the read limits make, then any no-data batch the watermark calls for; then it stops.
    AvailableNow,
    /// `trigger(once=True)`: one micro-batch with everything, read limits ignored; then it stops.
    Once,
    /// `trigger(processingTime=...)` for this many triggers: each runs a micro-batch when there
    /// is new data or a no-data batch is due, else nothing (and so does every later one, as
    /// nothing arrives meanwhile); then it stops.
    Batches(u64),
    /// `trigger(continuous="1 second")`: continuous processing, with an epoch committed every
    /// `interval_ms` of processing time. Map-like queries only (see [`super::low_latency`]);
    /// at-least-once: after a failure, rows of the epoch in flight may be written again.
    /// It keeps running until stopped ([`StreamingQuery::start_live`]).
    Continuous { interval_ms: u64 },
    /// `trigger(realTime="5 seconds")`: Real-Time Mode (Spark 4.1+), long-running micro-batches
    /// of `batch_duration_ms` that process records as they arrive; update mode, Kafka sources
    /// only. It keeps running until stopped ([`StreamingQuery::start_live`]).
    RealTime { batch_duration_ms: u64 },
}

impl RunTrigger {
    /// The name of the trigger's argument in PySpark's `DataStreamWriter.trigger(...)`.
    pub fn as_str(self) -> &'static str {
        match self {
            RunTrigger::AvailableNow => "availableNow",
            RunTrigger::Once => "once",
            RunTrigger::Batches(_) => "processingTime",
            RunTrigger::Continuous { .. } => "continuous",
            RunTrigger::RealTime { .. } => "realTime",
        }
    }

    /// Whether the trigger keeps the query running across the steps that follow (continuous
    /// processing and Real-Time Mode), rather than running some batches and stopping.
    pub fn is_live(self) -> bool {
        matches!(self, RunTrigger::Continuous { .. } | RunTrigger::RealTime { .. })
    }

    /// The epoch (continuous) or batch (Real-Time Mode) length of a live trigger, in ms.
    pub fn live_interval_ms(self) -> Option<u64> {
        match self {
            RunTrigger::Continuous { interval_ms } => Some(interval_ms),
            RunTrigger::RealTime { batch_duration_ms } => Some(batch_duration_ms),
            _ => None,
        }
    }

    /// A live trigger's interval as the text PySpark's `trigger(continuous=...)` and
    /// `trigger(realTime=...)` take: `"1 second"`, `"5 seconds"`, `"250 milliseconds"`.
    pub fn interval_text(self) -> Option<String> {
        let ms = self.live_interval_ms()?;
        Some(match ms {
            1000 => "1 second".to_string(),
            ms if ms % 1000 == 0 => format!("{} seconds", ms / 1000),
            1 => "1 millisecond".to_string(),
            ms => format!("{ms} milliseconds"),
        })
    }

    /// Parses a live trigger from the scenario's `{"continuous": "1 second"}` /
    /// `{"realTime": "5 seconds"}`, as Spark's `Trigger.Continuous(String)` and
    /// `Trigger.RealTime(String)` read their interval: an interval string without months or
    /// years, not negative; Real-Time Mode's batch duration must also be above 0 (Spark:
    /// "requirement failed: the batch duration should not be negative" for `"0 seconds"`).
    pub fn parse_live(kind: &str, interval: &str) -> std::result::Result<RunTrigger, String> {
        let parsed = crate::sql::interval::parse_interval_string(interval.trim())
            .map_err(|why| format!("the {kind} trigger's interval {interval:?} is not an interval such as \"1 second\": {why}"))?;
        if parsed.months != 0 {
            return Err(format!("Doesn't support month or year interval: {interval} (the {kind} trigger's interval)"));
        }
        if parsed.micros < 0 {
            return Err(format!("the interval of the {kind} trigger should not be negative, not {interval:?}"));
        }
        let ms = (parsed.micros / 1000) as u64;
        match kind {
            "continuous" => Ok(RunTrigger::Continuous { interval_ms: ms }),
            "realTime" if ms == 0 => Err(format!(
                "requirement failed: the batch duration should not be negative (the realTime trigger's interval is {interval:?}; Real-Time Mode needs at least 5 seconds)"
            )),
            "realTime" => Ok(RunTrigger::RealTime { batch_duration_ms: ms }),
            other => Err(format!("unknown trigger `{other}`: a live trigger is `continuous` or `realTime`")),
        }
    }
}

impl StreamingQuery {
    /// Starts the query from its checkpoint and runs it under `trigger` until the trigger ends
    /// it (see [`RunTrigger`]). An armed failure crashes its batch; the query recovers and the
    /// batch is retried within this call, as in `process_all_available`.
    pub fn run_trigger(&mut self, trigger: RunTrigger) -> Result<RunReport> {
        let (limited, most) = match trigger {
            RunTrigger::AvailableNow => (true, u64::MAX),
            RunTrigger::Once => (false, 1),
            RunTrigger::Batches(n) => (true, n),
            // A live trigger keeps running: what it does with what is there now, then it stops.
            RunTrigger::Continuous { .. } | RunTrigger::RealTime { .. } => {
                let mut report = self.start_live(trigger)?;
                let stopped = self.stop_live()?;
                report.batches.extend(stopped.batches);
                report.failures.extend(stopped.failures);
                return Ok(report);
            }
        };
        self.restart()?;
        self.run_batches(limited, most)
    }
}

#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Trigger {
    /// Run one micro-batch when asked (the playground's "step" button).
    Step,
    /// Process everything available, then stop (Spark's `availableNow`).
    AvailableNow,
    /// Start a micro-batch every `interval_ms` of processing time (Spark's `processingTime`).
    ProcessingTime { interval_ms: f64 },
}

/// Drives a query with a processing-time trigger: batches start on multiples of the interval;
/// a batch that overruns its slot is followed at once by the next (Spark's ProcessingTimeExecutor).
#[derive(Debug, Clone)]
pub struct ProcessingTimeTrigger {
    interval_ms: f64,
    next_ms: Option<f64>,
}

impl ProcessingTimeTrigger {
    pub fn new(interval_ms: f64) -> Self {
        ProcessingTimeTrigger { interval_ms: interval_ms.max(0.0), next_ms: None }
    }

    /// Whether a batch is due at `now_ms`; if so, schedules the next one.
    pub fn due(&mut self, now_ms: f64) -> bool {
        let next = *self.next_ms.get_or_insert(now_ms);
        if now_ms < next {
            return false;
        }
        self.next_ms = Some(if self.interval_ms == 0.0 { now_ms } else { ((now_ms / self.interval_ms).floor() + 1.0) * self.interval_ms });
        true
    }

    /// Runs the query's next micro-batch if one is due at `now_ms`.
    pub fn tick(&mut self, query: &mut StreamingQuery, now_ms: f64) -> Result<RunReport> {
        if self.due(now_ms) {
            query.step()
        } else {
            Ok(RunReport::default())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::runtime::{FailurePoint, OutputMode, QueryDefinition, QueryOptions};
    use crate::source::FileOptions;
    use crate::sql::Catalog;
    use crate::types::{Column, DataType, Schema};
    use serde_json::json;
    #[cfg(target_arch = "wasm32")]
    use wasm_bindgen_test::wasm_bindgen_test as test;

    /// A windowed count in append mode over `events`, reading at most `max_files` files a batch.
    fn windowed(max_files: Option<u64>) -> StreamingQuery {
        let schema = Schema::new(vec![Column { name: "ts".into(), data_type: DataType::Timestamp }]);
        let definition = QueryDefinition {
            sql: "SELECT window(ts, '10 seconds') AS w, count(*) AS n FROM STREAM events WATERMARK ts DELAY OF INTERVAL 5 SECONDS GROUP BY window(ts, '10 seconds')".into(),
            output_mode: OutputMode::Append,
            catalog: Catalog { sources: vec![("events".into(), schema)], tables: vec![] },
        };
        let options = FileOptions { max_files_per_trigger: max_files, ..FileOptions::default() };
        let options = QueryOptions { source_options: [("events".to_string(), options)].into_iter().collect(), ..QueryOptions::default() };
        StreamingQuery::start_with(definition, options).unwrap()
    }

    fn add(q: &mut StreamingQuery, second: u32) {
        q.add_json("events", &[json!([format!("2026-01-01 00:00:{second:02}")])]).unwrap();
    }

    fn rows_per_batch(r: &RunReport) -> Vec<usize> {
        r.batches.iter().map(|b| b.progress.num_input_rows as usize).collect()
    }

    #[test]
    fn available_now_takes_the_files_within_the_limit_then_the_no_data_batch() {
        let mut q = windowed(Some(2));
        for s in [1, 2, 3, 14, 15] {
            add(&mut q, s);
        }
        let r = q.run_trigger(RunTrigger::AvailableNow).unwrap();
        assert_eq!(rows_per_batch(&r), vec![2, 2, 1, 0]);
        // Nothing new: the query starts, finds nothing and stops.
        assert!(q.run_trigger(RunTrigger::AvailableNow).unwrap().batches.is_empty());
    }

    #[test]
    fn once_reads_everything_in_one_batch_and_a_new_start_runs_no_no_data_batch() {
        let mut q = windowed(Some(1));
        for s in [1, 2, 16] {
            add(&mut q, s);
        }
        let r = q.run_trigger(RunTrigger::Once).unwrap();
        assert_eq!(rows_per_batch(&r), vec![3]);
        // The watermark moved, but a query just started decides no no-data batch.
        assert!(q.run_trigger(RunTrigger::Once).unwrap().batches.is_empty());
        add(&mut q, 20);
        let r = q.run_trigger(RunTrigger::Once).unwrap();
        assert_eq!(r.batches.len(), 1);
        assert_eq!(r.batches[0].rows.num_rows(), 1, "the window [0, 10) closes with the restored watermark");
    }

    #[test]
    fn batches_stop_after_n_triggers_or_at_the_first_idle_one() {
        let mut q = windowed(Some(1));
        for s in [1, 2, 14] {
            add(&mut q, s);
        }
        assert_eq!(rows_per_batch(&q.run_trigger(RunTrigger::Batches(2)).unwrap()), vec![1, 1]);
        assert_eq!(rows_per_batch(&q.run_trigger(RunTrigger::Batches(5)).unwrap()), vec![1, 0]);
    }

    #[test]
    fn a_crash_during_a_trigger_is_retried_and_recovery_keeps_the_no_data_batch_due() {
        // A data batch that moves the watermark past the window [0, 10), then the no-data batch
        // that emits it: a crash before its offsets are written must not make the recovered
        // query forget that it is due.
        let mut q = windowed(None);
        for s in [1, 16] {
            add(&mut q, s);
        }
        q.inject_failure(FailurePoint::AfterSinkWrite);
        let r = q.run_trigger(RunTrigger::Once).unwrap();
        assert_eq!((r.failures.len(), r.batches.len()), (1, 1));
        q.inject_failure(FailurePoint::BeforeOffsetsWrite);
        let r = q.process_all_available().unwrap();
        assert_eq!(r.failures.len(), 1);
        assert_eq!(rows_per_batch(&r), vec![0], "the no-data batch, retried");
        assert_eq!(r.batches[0].rows.num_rows(), 1);
    }

    #[test]
    fn live_triggers_read_their_interval_as_spark_does() {
        assert_eq!(RunTrigger::parse_live("continuous", "1 second"), Ok(RunTrigger::Continuous { interval_ms: 1000 }));
        assert_eq!(RunTrigger::parse_live("continuous", "0 seconds"), Ok(RunTrigger::Continuous { interval_ms: 0 }), "Spark accepts 0");
        assert_eq!(RunTrigger::parse_live("realTime", "interval 1 minute"), Ok(RunTrigger::RealTime { batch_duration_ms: 60_000 }));
        assert_eq!(RunTrigger::parse_live("realTime", "250 milliseconds"), Ok(RunTrigger::RealTime { batch_duration_ms: 250 }));
        // Spark 4.3: `trigger(realTime="0 seconds")` fails with this requirement.
        assert!(RunTrigger::parse_live("realTime", "0 seconds").unwrap_err().contains("the batch duration should not be negative"));
        assert!(RunTrigger::parse_live("continuous", "1 month").unwrap_err().contains("Doesn't support month or year interval"));
        assert!(RunTrigger::parse_live("continuous", "-1 second").unwrap_err().contains("should not be negative"));
        assert!(RunTrigger::parse_live("continuous", "soon").is_err());
        for t in [
            RunTrigger::Continuous { interval_ms: 1000 },
            RunTrigger::RealTime { batch_duration_ms: 5000 },
            RunTrigger::Continuous { interval_ms: 250 },
        ] {
            let text = t.interval_text().unwrap();
            assert_eq!(RunTrigger::parse_live(t.as_str(), &text), Ok(t), "{text}");
            assert!(t.is_live());
        }
        assert_eq!(RunTrigger::RealTime { batch_duration_ms: 5000 }.interval_text().as_deref(), Some("5 seconds"));
        assert!(!RunTrigger::Once.is_live() && RunTrigger::Once.interval_text().is_none());
    }

    #[test]
    fn fires_on_interval_boundaries() {
        let mut t = ProcessingTimeTrigger::new(1000.0);
        assert!(t.due(250.0), "the first tick starts a batch");
        assert!(!t.due(900.0));
        assert!(t.due(1000.0));
        assert!(!t.due(1999.0));
        // A late tick fires once and realigns, no burst of catch-up batches.
        assert!(t.due(3500.0));
        assert!(!t.due(3600.0));
        assert!(t.due(4000.0));
    }

    #[test]
    fn zero_interval_runs_as_fast_as_ticks_come() {
        let mut t = ProcessingTimeTrigger::new(0.0);
        assert!(t.due(1.0) && t.due(1.0) && t.due(2.0));
    }
}
