//! The pipeline event log (a Databricks extension: Lakeflow Declarative Pipelines' `event_log`;
//! open-source SDP prints its progress instead): every update's start, state changes, each
//! flow's progress with rows in and out, each expectation's counts and every error, kept in
//! the pipeline and readable as rows, or by a batch query over `event_log` / `event_log()`.
//!
//! Databricks nests the origin in a struct (`origin.dataset_name`, `origin.flow_name`); here its
//! fields are flat columns, so a query needs no struct access. Timestamps are the pipeline's
//! processing time, deterministic: each update one second after the previous one unless the
//! caller sets it (see [`EventLog::begin_update`]).

use std::collections::VecDeque;

use serde_json::{json, Value as Json};

use crate::error::{Error, Result};
use crate::source::SourceLog;
use crate::sql::{analyze, Catalog};
use crate::time::format_timestamp;
use crate::types::{Column, DataType, Schema};

/// The most events kept: the oldest are forgotten (sequence numbers keep counting).
pub const MAX_EVENTS: usize = 10_000;

/// The table name a batch query reads the log by.
pub const EVENT_LOG_TABLE: &str = "event_log";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Level {
    Info,
    Warn,
    Error,
}

impl Level {
    pub fn as_str(self) -> &'static str {
        match self {
            Level::Info => "INFO",
            Level::Warn => "WARN",
            Level::Error => "ERROR",
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct Event {
    pub id: String,
    pub sequence: u64,
    pub update_id: String,
    pub dataset: Option<String>,
    pub flow: Option<String>,
    /// Microseconds since the epoch.
    pub timestamp: i64,
    pub event_type: &'static str,
    pub level: Level,
    pub message: String,
    pub details: Json,
}

impl Event {
    /// The event as a row of [`EventLog::schema`].
    pub fn row(&self) -> Json {
        json!([
            self.id,
            self.sequence,
            self.update_id,
            self.dataset,
            self.flow,
            format_timestamp(self.timestamp),
            self.event_type,
            self.level.as_str(),
            self.message,
            self.details.to_string()
        ])
    }
}

/// What one flow did in one update: the event log's `flow_progress` and the page's graph.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct FlowProgress {
    pub flow: String,
    pub dataset: String,
    /// Rows the flow read: its micro-batches' input rows, or a materialized view's inputs.
    pub rows_in: u64,
    /// Rows written to the dataset (after expectations dropped theirs).
    pub rows_out: u64,
    /// Rows an expectation with ON VIOLATION DROP ROW removed.
    pub dropped: u64,
    /// The micro-batches it committed (streaming flows only).
    pub batches: Vec<u64>,
    /// Crashes it recovered from: (batch id, point).
    pub recovered: Vec<(u64, String)>,
}

#[derive(Debug, Clone, Default)]
pub struct EventLog {
    events: VecDeque<Event>,
    next_sequence: u64,
    updates: u64,
    now: i64,
    update_id: String,
}

impl EventLog {
    /// The columns of the log as a table.
    pub fn schema() -> Schema {
        let col = |name: &str, data_type: DataType| Column { name: name.into(), data_type };
        Schema::new(vec![
            col("id", DataType::String),
            col("sequence", DataType::BigInt),
            col("update_id", DataType::String),
            col("dataset_name", DataType::String),
            col("flow_name", DataType::String),
            col("timestamp", DataType::Timestamp),
            col("event_type", DataType::String),
            col("level", DataType::String),
            col("message", DataType::String),
            col("details", DataType::String),
        ])
    }

    pub fn events(&self) -> impl Iterator<Item = &Event> {
        self.events.iter()
    }

    pub fn len(&self) -> usize {
        self.events.len()
    }

    pub fn is_empty(&self) -> bool {
        self.events.is_empty()
    }

    /// Every event ever logged, the forgotten ones included.
    pub fn total(&self) -> u64 {
        self.next_sequence
    }

    pub fn rows(&self) -> Vec<Json> {
        self.events.iter().map(Event::row).collect()
    }

    /// Starts an update at `at` (microseconds), or one second after the previous one: its
    /// `create_update` event.
    pub fn begin_update(&mut self, at: Option<i64>, full_refresh: &[String], all: bool) -> String {
        self.updates += 1;
        self.now = at.unwrap_or(if self.updates == 1 { 0 } else { self.now + 1_000_000 });
        self.update_id = format!("update-{}", self.updates);
        let message = match (all, full_refresh.is_empty()) {
            (true, _) => "Update started with a full refresh of every dataset".to_string(),
            (false, true) => "Update started".to_string(),
            (false, false) => format!("Update started with a full refresh of {}", full_refresh.join(", ")),
        };
        let details = json!({"create_update": {"cause": "USER_ACTION", "full_refresh": all, "full_refresh_selection": full_refresh}});
        self.push(None, None, "create_update", Level::Info, message, details);
        self.update_id.clone()
    }

    /// An `update_progress` event: the update's state (STARTING, RUNNING, COMPLETED, FAILED).
    pub fn update_state(&mut self, state: &str, error: Option<&Error>) {
        let (level, message, details) = match error {
            None => (Level::Info, format!("Update is {state}"), json!({"update_progress": {"state": state}})),
            Some(e) => (
                Level::Error,
                format!("Update is {state}: {}", e.message),
                json!({"update_progress": {"state": state}, "error": {"kind": e.kind.code(), "message": e.message}}),
            ),
        };
        self.push(None, None, "update_progress", level, message, details);
    }

    /// A flow's `flow_progress` COMPLETED event.
    pub fn flow_completed(&mut self, p: &FlowProgress) {
        let mut message = format!("Flow '{}' has COMPLETED: {} rows in, {} rows out", p.flow, p.rows_in, p.rows_out);
        if p.dropped > 0 {
            message.push_str(&format!(", {} dropped by expectations", p.dropped));
        }
        let recovered: Vec<Json> = p.recovered.iter().map(|(b, point)| json!({"batch_id": b, "point": point})).collect();
        let level = if recovered.is_empty() { Level::Info } else { Level::Warn };
        let details = json!({"flow_progress": {
            "status": "COMPLETED",
            "metrics": {"num_input_rows": p.rows_in, "num_output_rows": p.rows_out, "batches": p.batches},
            "data_quality": {"dropped_records": p.dropped},
            "recovered_failures": recovered,
        }});
        self.push(Some(&p.dataset), Some(&p.flow), "flow_progress", level, message, details);
    }

    /// A flow's `flow_progress` FAILED event with the error.
    pub fn flow_failed(&mut self, dataset: &str, flow: &str, e: &Error) {
        let message = format!("Flow '{flow}' has FAILED: {}", e.message);
        let details = json!({"flow_progress": {"status": "FAILED"}, "error": {"kind": e.kind.code(), "message": e.message}});
        self.push(Some(dataset), Some(flow), "flow_progress", Level::Error, message, details);
    }

    /// One expectation's counts in one update (`data_quality`).
    pub fn data_quality(&mut self, dataset: &str, name: &str, action: &str, passed: u64, failed: u64) {
        let dropped = if action == "drop" { failed } else { 0 };
        let level = if failed == 0 { Level::Info } else { Level::Warn };
        let message = format!("Expectation '{name}' on '{dataset}': {passed} passed, {failed} failed ({action})");
        let details = json!({"data_quality": {
            "dataset": dataset, "name": name, "action": action,
            "passed_records": passed, "failed_records": failed, "dropped_records": dropped,
        }});
        self.push(Some(dataset), None, "data_quality", level, message, details);
    }

    /// Something the person did between updates (lose a checkpoint, arm a failure, restart).
    pub fn user_action(&mut self, flow: Option<&str>, message: String, action: &str) {
        let details = json!({"user_action": {"action": action}});
        self.push(None, flow, "user_action", Level::Warn, message, details);
    }

    fn push(&mut self, dataset: Option<&str>, flow: Option<&str>, event_type: &'static str, level: Level, message: String, details: Json) {
        let sequence = self.next_sequence;
        self.next_sequence += 1;
        self.events.push_back(Event {
            id: format!("event-{sequence}"),
            sequence,
            update_id: self.update_id.clone(),
            dataset: dataset.map(str::to_string),
            flow: flow.map(str::to_string),
            timestamp: self.now,
            event_type,
            level,
            message,
            details,
        });
        if self.events.len() > MAX_EVENTS {
            self.events.pop_front();
        }
    }

    /// Runs a batch query over the log, e.g. `SELECT event_type, count(*) FROM event_log()
    /// GROUP BY event_type`: its columns and rows.
    pub fn query(&self, sql: &str) -> Result<(Vec<String>, Vec<Json>)> {
        let sql = table_function_as_table(sql);
        let schema = EventLog::schema();
        let catalog = Catalog { sources: vec![(EVENT_LOG_TABLE.to_string(), schema.clone())], tables: Vec::new() };
        let analyzed = analyze(&sql, &catalog)?;
        let mut log = SourceLog::new(EVENT_LOG_TABLE, schema);
        log.append_json(&self.rows())?;
        let read = log.read(0, log.latest_offset())?;
        if !read.bad.is_empty() {
            return Err(Error::internal("an event log row did not fit its own schema"));
        }
        let out = crate::sink::time_travel::execute_once(&analyzed.plan, |_| Ok(read.rows.clone()))?;
        Ok((analyzed.plan.schema().names(), crate::scenario::rows_json(&out)))
    }
}

/// `event_log()` (Databricks' table-valued function) read as the table `event_log`: the call's
/// parentheses become spaces, so every position in the text stays where it was.
fn table_function_as_table(sql: &str) -> String {
    let lower = sql.to_ascii_lowercase();
    let mut out = sql.to_string();
    let mut from = 0;
    while let Some(k) = lower[from..].find(EVENT_LOG_TABLE).map(|k| k + from) {
        let end = k + EVENT_LOG_TABLE.len();
        let before_ok = k == 0 || !lower.as_bytes()[k - 1].is_ascii_alphanumeric() && lower.as_bytes()[k - 1] != b'_';
        let rest = &lower[end..];
        let spaces = rest.len() - rest.trim_start().len();
        if before_ok && rest.trim_start().starts_with("()") {
            let open = end + spaces;
            out.replace_range(open..open + 2, "  ");
        }
        from = end;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    #[cfg(target_arch = "wasm32")]
    use wasm_bindgen_test::wasm_bindgen_test as test;

    fn progress(flow: &str, rows_in: u64, rows_out: u64) -> FlowProgress {
        FlowProgress { flow: flow.into(), dataset: flow.into(), rows_in, rows_out, batches: vec![0, 1], ..FlowProgress::default() }
    }

    #[test]
    fn an_update_logs_its_start_its_flows_and_its_end_in_sequence() {
        let mut log = EventLog::default();
        log.begin_update(None, &[], false);
        log.update_state("RUNNING", None);
        log.flow_completed(&progress("bronze", 3, 3));
        log.data_quality("bronze", "valid", "drop", 2, 1);
        log.update_state("COMPLETED", None);
        let kinds: Vec<(u64, &str, Option<&str>)> = log.events().map(|e| (e.sequence, e.event_type, e.flow.as_deref())).collect();
        assert_eq!(
            kinds,
            vec![
                (0, "create_update", None),
                (1, "update_progress", None),
                (2, "flow_progress", Some("bronze")),
                (3, "data_quality", None),
                (4, "update_progress", None)
            ]
        );
        let rows = log.rows();
        assert_eq!(rows[2][5], json!("1970-01-01 00:00:00"));
        let details: Json = serde_json::from_str(rows[2][9].as_str().unwrap()).unwrap();
        assert_eq!(details["flow_progress"]["metrics"]["num_output_rows"], json!(3));
        let dq: Json = serde_json::from_str(rows[3][9].as_str().unwrap()).unwrap();
        assert_eq!(dq["data_quality"]["dropped_records"], json!(1));
        assert_eq!(rows[3][7], json!("WARN"));
    }

    #[test]
    fn updates_are_a_second_apart_unless_the_time_is_given() {
        let mut log = EventLog::default();
        assert_eq!(log.begin_update(None, &[], false), "update-1");
        log.begin_update(None, &["gold".into()], false);
        log.begin_update(Some(10_000_000), &[], true);
        let times: Vec<i64> = log.events().map(|e| e.timestamp).collect();
        assert_eq!(times, vec![0, 1_000_000, 10_000_000]);
        assert!(log.events().nth(1).unwrap().message.contains("full refresh of gold"));
    }

    #[test]
    fn a_failure_is_an_error_event_with_its_message() {
        let mut log = EventLog::default();
        log.begin_update(None, &[], false);
        let e = Error::new(crate::error::ErrorKind::Runtime, "[DIVIDE_BY_ZERO] Division by zero.");
        log.flow_failed("silver", "silver", &e);
        log.update_state("FAILED", Some(&e));
        let errors: Vec<&Event> = log.events().filter(|e| e.level == Level::Error).collect();
        assert_eq!(errors.len(), 2);
        assert!(errors.iter().all(|e| e.message.contains("DIVIDE_BY_ZERO")));
        assert_eq!(errors[0].details["error"]["kind"], json!("runtime"));
    }

    #[test]
    fn a_batch_query_reads_the_log_by_table_or_table_function() {
        let mut log = EventLog::default();
        log.begin_update(None, &[], false);
        log.flow_completed(&progress("bronze", 3, 3));
        log.flow_completed(&progress("silver", 3, 2));
        log.update_state("COMPLETED", None);
        let (columns, rows) =
            log.query("SELECT event_type, count(*) AS n FROM event_log() GROUP BY event_type ORDER BY event_type").unwrap();
        assert_eq!(columns, vec!["event_type".to_string(), "n".to_string()]);
        assert_eq!(rows, vec![json!(["create_update", 1]), json!(["flow_progress", 2]), json!(["update_progress", 1])]);
        let (_, rows) =
            log.query("SELECT sequence, flow_name FROM event_log WHERE event_type = 'flow_progress' ORDER BY sequence").unwrap();
        assert_eq!(rows, vec![json!([1, "bronze"]), json!([2, "silver"])]);
        let err = log.query("SELECT nope FROM event_log()").unwrap_err();
        assert_eq!(err.kind, crate::error::ErrorKind::UnknownColumn);
        assert_eq!(err.position.map(|p| p.column), Some(8));
    }

    #[test]
    fn the_log_keeps_the_newest_events_only() {
        let mut log = EventLog::default();
        for _ in 0..MAX_EVENTS + 5 {
            log.update_state("RUNNING", None);
        }
        assert_eq!(log.len(), MAX_EVENTS);
        assert_eq!(log.total(), MAX_EVENTS as u64 + 5);
        assert_eq!(log.events().next().unwrap().sequence, 5);
    }

    #[test]
    fn only_the_call_becomes_the_table() {
        assert_eq!(table_function_as_table("SELECT * FROM event_log ( )"), "SELECT * FROM event_log ( )");
        assert_eq!(table_function_as_table("SELECT * FROM EVENT_LOG()"), "SELECT * FROM EVENT_LOG  ");
        assert_eq!(table_function_as_table("SELECT * FROM my_event_log()"), "SELECT * FROM my_event_log()");
    }
}
