//! A playground session: the scenario being built (sources, tables, events), the running query
//! and its history. Pure Rust over the engine: it runs in the page today and in a worker later.

use serde_json::Value as Json;
use unbounded_engine::query::{BatchReport, OutputMode, QueryDefinition, QueryOptions, StreamingQuery};
use unbounded_engine::scenario::{self, Scenario, Step};
use unbounded_engine::time::format_timestamp;
use unbounded_engine::Error;

use crate::protocol::{BatchInfo, ColumnInfo, DeadLetterInfo, ErrorInfo, RelationInfo, Request, Snapshot};

pub struct Session {
    scenario: Scenario,
    /// Every event added, in order: a new query replays them from offset 0.
    events: Vec<(String, Json)>,
    query: Option<StreamingQuery>,
    batches: Vec<BatchInfo>,
    error: Option<ErrorInfo>,
}

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
        rows: scenario::rows_json(&b.rows).into_iter().map(|r| r.as_array().cloned().unwrap_or_default()).collect(),
    }
}

impl Session {
    /// A session over `text` (scenario format), with its steps replayed.
    pub fn from_scenario(text: &str) -> Result<Session, Error> {
        let scenario = Scenario::parse(text)?;
        let mut s = Session { scenario: scenario.clone(), events: Vec::new(), query: None, batches: Vec::new(), error: None };
        s.query = Some(s.start_query(&scenario.query, scenario.output_mode)?);
        for step in &scenario.steps {
            match step {
                Step::Add { source, rows } => {
                    for row in rows {
                        s.add_event(source, row.clone())?;
                    }
                }
                Step::Run => s.run()?,
                Step::Restart => s.query_mut()?.restart()?,
                Step::Fail(point) => s.query_mut()?.inject_failure(*point),
            }
        }
        Ok(s)
    }

    fn query_mut(&mut self) -> Result<&mut StreamingQuery, Error> {
        self.query.as_mut().ok_or_else(|| Error::invalid_input("no query is running"))
    }

    fn start_query(&self, sql: &str, mode: OutputMode) -> Result<StreamingQuery, Error> {
        let catalog = self.scenario.catalog()?;
        let definition = QueryDefinition { sql: sql.to_string(), output_mode: mode, catalog };
        let options = QueryOptions { clock: crate::clock::clock(), ..QueryOptions::default() };
        let mut q = StreamingQuery::start_with(definition, options)?;
        for (source, row) in &self.events {
            q.add_json(source, std::slice::from_ref(row))?;
        }
        Ok(q)
    }

    fn add_event(&mut self, source: &str, row: Json) -> Result<(), Error> {
        self.query_mut()?.add_json(source, std::slice::from_ref(&row))?;
        self.events.push((source.to_string(), row));
        Ok(())
    }

    fn run(&mut self) -> Result<(), Error> {
        let report = self.query_mut()?.process_all_available()?;
        self.batches.extend(report.batches.iter().map(batch_info));
        Ok(())
    }

    /// Applies a request. A request that fails leaves the session as it was and records the
    /// error for the page to show in place.
    pub fn handle(&mut self, request: Request) -> Snapshot {
        let result = match request {
            Request::LoadScenario { text } => Session::from_scenario(&text).map(|s| *self = s),
            Request::SetQuery { sql, output_mode } => match OutputMode::parse(&output_mode) {
                None => Err(Error::invalid_input(format!("unknown output mode `{output_mode}`: use append, update or complete"))),
                Some(mode) => self.start_query(&sql, mode).map(|q| {
                    self.scenario.query = sql;
                    self.scenario.output_mode = mode;
                    self.query = Some(q);
                    self.batches.clear();
                }),
            },
            Request::AddEvent { source, row } => self.add_event(&source, Json::Array(row)),
            Request::RunBatch => self.run(),
        };
        self.error = result.err().map(|e| error_info(&e));
        self.snapshot()
    }

    pub fn snapshot(&self) -> Snapshot {
        let q = self.query.as_ref();
        let sources = self
            .scenario
            .sources
            .iter()
            .map(|(name, schema)| {
                let rows = q.and_then(|q| q.source(name)).map(|s| s.latest_offset()).unwrap_or(0);
                let read: u64 = q
                    .and_then(|q| q.history().last())
                    .and_then(|p| p.sources.iter().find(|s| s.description == format!("MemoryStream[{name}]")))
                    .map(|s| s.end_offset)
                    .unwrap_or(0);
                RelationInfo {
                    name: name.clone(),
                    columns: schema
                        .columns
                        .iter()
                        .map(|c| ColumnInfo { name: c.name.clone(), data_type: c.data_type.to_string() })
                        .collect(),
                    rows,
                    pending: rows.saturating_sub(read),
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
            })
            .collect();
        Snapshot {
            scenario_name: self.scenario.name.clone(),
            description: self.scenario.description.clone().unwrap_or_default(),
            sql: self.scenario.query.clone(),
            output_mode: self.scenario.output_mode.as_str().to_string(),
            sources,
            tables,
            columns: q.map(|q| q.schema().names()).unwrap_or_default(),
            batches: self.batches.clone(),
            sink: q
                .map(|q| scenario::sink_rows(q).into_iter().map(|r| r.as_array().cloned().unwrap_or_default()).collect())
                .unwrap_or_default(),
            dead_letter: q
                .map(|q| {
                    q.dead_letter()
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
            explain: q.map(|q| q.explain()).unwrap_or_default(),
            error: self.error.clone(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    const TRUCKS: &str = include_str!("../../tests/scenarios/stateless/trucks-cold-chain.json");

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
        assert_eq!(
            snap.batches.last().unwrap().rows,
            vec![vec![json!("t-03"), json!("Munich"), json!(8.0), json!(46.4), json!("2026-03-02 08:02:00")]]
        );
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
    fn a_new_query_replays_every_event_from_the_start() {
        let mut s = Session::from_scenario(TRUCKS).unwrap();
        let snap = s.handle(Request::SetQuery { sql: "SELECT truck_id FROM STREAM truck_readings".into(), output_mode: "update".into() });
        assert!(snap.error.is_none(), "{:?}", snap.error);
        assert_eq!(snap.sources[0].pending, 7);
        let snap = s.handle(Request::RunBatch);
        assert_eq!(snap.sink.len(), 7);
        assert_eq!(snap.batches.len(), 1);
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
}
