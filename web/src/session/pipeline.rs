//! Pipeline mode: the session holds a pipeline (FORMAT.md version 2) beside its query. The
//! loaded file's steps wait in a queue and "Run update" applies them up to the next update, so
//! the graph shows what the file's runner output shows after each `run`.
//!
//! The pipeline's tables live in memory, so a session keeps the pipeline as its file and the
//! actions applied to it (`pipeline/definition`, `pipeline/journal/N`, beside the query session
//! beneath), each action written before it runs: a reload replays them, and every update runs
//! on the same input in the same order, so it gives the same tables. A reload in the middle of
//! an update finds that update saved whole or not at all, never half of it.

use std::collections::VecDeque;

use serde_json::Value as Json;
use unbounded_engine::pipeline::event_log::{EventLog, FlowProgress};
use unbounded_engine::pipeline::graph::{PipelineError, Target};
use unbounded_engine::pipeline::parse::DatasetKind;
use unbounded_engine::pipeline::run::{Pipeline, Refresh, UpdateReport};
use unbounded_engine::pipeline::scenario::{self, PipelineScenario, PipelineStep};
use unbounded_engine::runtime::FailurePoint;
use unbounded_engine::storage::{SharedStorage, Storage};
use unbounded_engine::Error;

use super::{error_info, SNAPSHOT_ROWS};
use crate::event_log::{read_framed, write_framed, MAX_EVENTS};
use crate::protocol::{
    ErrorInfo, ExpectationInfo, FlowInfo, PipelineEdge, PipelineInfo, PipelineNode, PipelineTable, PipelineVersion, Request, TableQueryInfo,
};

const DEFINITION: &str = "pipeline/definition";
const JOURNAL: &str = "pipeline/journal";
/// The node shown and the event-log query: the view, saved apart from the actions.
const VIEW: &str = "pipeline/view";

/// The most actions a pipeline session saves; a reload replays every one, so it is bounded.
pub const MAX_JOURNAL: u64 = 2_000;

/// What a session moving to other storage carries of its pipeline (see [`PipelineMode::carry`]).
const CARRY: &str = "unbounded_pipeline_carry";

pub struct PipelineMode {
    scenario: PipelineScenario,
    /// None when the pipeline was refused before any flow ran.
    pipeline: Option<Pipeline>,
    refusal: Option<ErrorInfo>,
    plan: VecDeque<PipelineStep>,
    selected: Option<String>,
    last: UpdateReport,
    updates: u64,
    /// Events added so far, bounded as a query session's are.
    events: u64,
    log_query: Option<TableQueryInfo>,
    /// Where the actions are saved: the session's storage, or memory until a session saves it.
    store: SharedStorage,
    /// Actions saved so far.
    saved: u64,
}

/// Whether `request` changes the pipeline, and so is saved before it runs.
fn is_action(request: &Request) -> bool {
    matches!(
        request,
        Request::PipelineUpdate { .. }
            | Request::PipelineFail { .. }
            | Request::PipelineLoseCheckpoint { .. }
            | Request::Restart
            | Request::AddEvent { .. }
            | Request::AddEvents { .. }
    )
}

fn entry_path(n: u64) -> String {
    format!("{JOURNAL}/{n:010}")
}

/// The action a saved entry holds; None for an entry that is no action (never written so).
fn action_of(entry: Json) -> Option<Request> {
    serde_json::from_value::<Request>(entry).ok().filter(is_action)
}

fn pipeline_error(e: PipelineError) -> Error {
    match e.dataset {
        Some(d) if !e.error.message.contains(&format!("`{d}`")) => {
            Error { message: format!("{} (dataset `{d}`)", e.error.message), ..e.error }
        }
        _ => e.error,
    }
}

impl PipelineMode {
    /// The pipeline of `text` when it is a version 2 file; None for any other version.
    pub fn load(text: &str) -> Result<Option<PipelineMode>, Error> {
        let Some(scenario) = PipelineScenario::parse_if_pipeline(text)? else { return Ok(None) };
        let (pipeline, refusal) = match scenario::start(&scenario, SharedStorage::memory()) {
            Ok(p) => (Some(p), None),
            // A file or engine error is the file's fault: nothing opens.
            Err(e) if matches!(e.error.kind, unbounded_engine::ErrorKind::InvalidInput | unbounded_engine::ErrorKind::Internal) => {
                return Err(e.error)
            }
            Err(e) => (None, Some(error_info(&pipeline_error(e)))),
        };
        let plan = scenario.steps.iter().cloned().collect();
        let selected = pipeline.as_ref().and_then(|p| p.graph().order.last().map(|&d| p.graph().datasets[d].name.clone()));
        Ok(Some(PipelineMode {
            scenario,
            pipeline,
            refusal,
            plan,
            selected,
            last: UpdateReport::default(),
            updates: 0,
            events: 0,
            log_query: None,
            store: SharedStorage::memory(),
            saved: 0,
        }))
    }

    /// The pipeline saved in `storage`, with every saved action applied again, and what the
    /// person should be told; None when no pipeline is saved there. An action that no longer
    /// reads back ends the replay there, and the message says so.
    pub fn resume(storage: &SharedStorage) -> Result<Option<(PipelineMode, String)>, Error> {
        let Some(definition) = read_framed(storage, DEFINITION)? else { return Ok(None) };
        let Some(mut m) = PipelineMode::load(&definition.to_string())? else {
            return Err(Error::invalid_input("the saved pipeline is not a version 2 file"));
        };
        let names = storage.scoped(JOURNAL).list("").map_err(Error::from)?;
        let mut damaged = None;
        for name in names.iter().take(MAX_JOURNAL as usize) {
            let path = format!("{JOURNAL}/{name}");
            match read_framed(storage, &path).ok().flatten().and_then(action_of) {
                Some(request) => {
                    // An action that failed when it was first applied fails the same way again.
                    let _ = m.apply(&request);
                    m.saved += 1;
                }
                None => {
                    damaged = Some(m.saved + 1);
                    break;
                }
            }
        }
        if let Some(view) = read_framed(storage, VIEW).ok().flatten() {
            m.show(&view);
        }
        m.store = storage.clone();
        let message = match damaged {
            Some(n) => format!(
                "Pipeline `{}` resumed after a reload up to its action {n}, which could not be read: {} actions applied again.",
                m.name(),
                m.saved
            ),
            None if m.saved == 0 => format!("Pipeline `{}` resumed after a reload: nothing had run yet.", m.name()),
            None => format!(
                "Pipeline `{}` resumed after a reload: its file and the {} actions applied to it were replayed, so every table is as it was after the last action that was saved.",
                m.name(),
                m.saved
            ),
        };
        Ok(Some((m, message)))
    }

    /// Saves the pipeline in `storage` from now on, replacing a pipeline saved there before
    /// (the query session beside it stays); the actions applied so far come along.
    pub fn save_in(&mut self, storage: SharedStorage) -> Result<(), Error> {
        let mut target = storage.scoped("");
        target.delete_all("pipeline").map_err(Error::from)?;
        write_framed(&storage, DEFINITION, &self.scenario.to_json())?;
        for n in 0..self.saved {
            if let Some(entry) = read_framed(&self.store, &entry_path(n))? {
                write_framed(&storage, &entry_path(n), &entry)?;
            }
        }
        self.store = storage;
        self.save_view();
        Ok(())
    }

    /// The pipeline as text for a session moving to other storage: its file, the actions
    /// applied to it and the query session beneath (`query`, a scenario file).
    pub fn carry(&self, query: &str) -> Result<String, Error> {
        let mut journal = Vec::new();
        for n in 0..self.saved {
            journal.extend(read_framed(&self.store, &entry_path(n))?);
        }
        let view = read_framed(&self.store, VIEW).ok().flatten().unwrap_or(Json::Null);
        // Written by hand so that its mark comes first (a JSON object's keys would be sorted).
        Ok(format!(
            "{{\"{CARRY}\":1,\"query\":{},\"pipeline\":{},\"journal\":{},\"view\":{}}}",
            Json::from(query),
            self.scenario.to_json(),
            Json::Array(journal),
            view
        ))
    }

    /// Whether `text` is what [`PipelineMode::carry`] writes (never a file a person exports).
    pub fn is_carry(text: &str) -> bool {
        text.starts_with(&format!("{{\"{CARRY}\""))
    }

    /// What [`PipelineMode::carry`] wrote: the query session's file and the pipeline with its
    /// actions applied again, in memory until [`PipelineMode::save_in`]. None for any other text.
    pub fn from_carry(text: &str) -> Result<Option<(String, PipelineMode)>, Error> {
        if !PipelineMode::is_carry(text) {
            return Ok(None);
        }
        let bad = || Error::invalid_input("the pipeline moved from the other storage could not be read");
        let doc: Json = serde_json::from_str(text).map_err(|_| bad())?;
        let query = doc["query"].as_str().ok_or_else(bad)?.to_string();
        let mut m = PipelineMode::load(&doc["pipeline"].to_string())?.ok_or_else(bad)?;
        for entry in doc["journal"].as_array().into_iter().flatten().take(MAX_JOURNAL as usize) {
            let request = action_of(entry.clone()).ok_or_else(bad)?;
            m.record(&request)?;
            let _ = m.apply(&request);
        }
        m.show(&doc["view"]);
        Ok(Some((query, m)))
    }

    /// Writes `request` as the next action, before it runs.
    fn record(&mut self, request: &Request) -> Result<(), Error> {
        if self.saved >= MAX_JOURNAL {
            return Err(Error::invalid_input(format!(
                "this pipeline session has applied {MAX_JOURNAL} actions, the most a session keeps (a reload replays them all): load the pipeline again to start over"
            )));
        }
        let entry = serde_json::to_value(request).map_err(|e| Error::invalid_input(e.to_string()))?;
        write_framed(&self.store, &entry_path(self.saved), &entry)?;
        self.saved += 1;
        Ok(())
    }

    /// Shows what a saved view names: its node and its event-log query.
    fn show(&mut self, view: &Json) {
        if let Some(node) = view["selected"].as_str() {
            self.selected = Some(node.to_string());
        }
        if let Some(sql) = view["log_sql"].as_str() {
            self.log_query = Some(self.query_log(sql));
        }
    }

    /// Saves the node shown and the event-log query; the view is not worth an error.
    fn save_view(&self) {
        let view = serde_json::json!({ "selected": self.selected, "log_sql": self.log_query.as_ref().map(|q| q.sql.clone()) });
        let _ = write_framed(&self.store, VIEW, &view);
    }

    pub fn name(&self) -> &str {
        &self.scenario.base.name
    }

    /// Export: the loaded file as a version 2 document and, for "Copy as PySpark", the script
    /// that writes it as a Spark Declarative Pipelines project and runs each update.
    pub fn export(&self) -> (Option<String>, String) {
        (serde_json::to_string_pretty(&self.scenario.to_json()).ok(), unbounded_engine::pyspark::pipeline::pipeline_bundle(&self.scenario))
    }

    fn running(&mut self) -> Result<&mut Pipeline, Error> {
        self.pipeline.as_mut().ok_or_else(|| Error::invalid_input("the pipeline was refused, so nothing runs: see its error"))
    }

    /// The requests pipeline mode answers; None for one it leaves to the query session. An
    /// action is saved before it runs: one that cannot be saved does not run.
    pub fn handle(&mut self, request: &Request) -> Option<Result<Option<String>, Error>> {
        if is_action(request) {
            if let Err(e) = self.record(request) {
                return Some(Err(e));
            }
        }
        let answer = self.apply(request);
        if matches!(request, Request::PipelineSelect { .. } | Request::PipelineQueryLog { .. }) {
            self.save_view();
        }
        answer
    }

    fn apply(&mut self, request: &Request) -> Option<Result<Option<String>, Error>> {
        let result = match request {
            Request::PipelineUpdate { full_refresh } if full_refresh.is_empty() => self.next_update(),
            Request::PipelineUpdate { full_refresh } => self.update(&Refresh::Only(full_refresh.clone())).map(|()| {
                Some(format!(
                    "Full refresh of {}: cleared, its checkpoints replaced, recomputed from all of its inputs. Downstream streaming tables are left as they are.",
                    full_refresh.join(", ")
                ))
            }),
            Request::PipelineFail { flow, point } => match FailurePoint::parse(point) {
                Some(p) => self.running().and_then(|pl| pl.inject_failure(p, Some(flow))).map(|()| {
                    Some(format!("A crash is armed at {point} in the next micro-batch of `{flow}`: run an update to see it recover."))
                }),
                None => Err(Error::invalid_input(format!(
                    "unknown failure point `{point}`: use one of {}",
                    FailurePoint::ALL.iter().map(|p| p.as_str()).collect::<Vec<_>>().join(", ")
                ))),
            },
            Request::PipelineLoseCheckpoint { flow } => self.running().and_then(|p| p.lose_checkpoint(flow)).map(|()| {
                Some(format!("The checkpoint of `{flow}` is gone: the next update reads its input from the beginning and appends it again (duplicates downstream)."))
            }),
            Request::PipelineSelect { node } => {
                self.selected = Some(node.clone());
                Ok(None)
            }
            Request::PipelineQueryLog { sql } => {
                self.log_query = Some(self.query_log(sql));
                Ok(None)
            }
            Request::Restart => self.running().and_then(|p| p.restart()).map(|()| Some("Every flow restarted from its checkpoint.".into())),
            Request::AddEvent { source, row } => self.add(source, &[Json::Array(row.clone())]).map(|()| None),
            Request::AddEvents { source, rows } => self.add(source, rows).map(|()| None),
            _ => return None,
        };
        Some(result)
    }

    fn add(&mut self, source: &str, rows: &[Json]) -> Result<(), Error> {
        if self.events + rows.len() as u64 > MAX_EVENTS {
            return Err(Error::invalid_input(format!("a pipeline session holds at most {MAX_EVENTS} events")));
        }
        self.running()?.add_json(source, rows)?;
        self.events += rows.len() as u64;
        Ok(())
    }

    /// The queued steps up to and including the next update, or an incremental update when
    /// nothing is queued.
    fn next_update(&mut self) -> Result<Option<String>, Error> {
        while let Some(step) = self.plan.pop_front() {
            match step {
                PipelineStep::Add { source, rows } => self.add(&source, &rows)?,
                PipelineStep::Fail { point, flow } => self.running()?.inject_failure(point, flow.as_deref())?,
                PipelineStep::Restart => self.running()?.restart()?,
                PipelineStep::Run(refresh) => return self.update(&refresh).map(|()| None),
            }
        }
        self.update(&Refresh::None).map(|()| None)
    }

    fn update(&mut self, refresh: &Refresh) -> Result<(), Error> {
        self.updates += 1;
        let result = self.running()?.update(refresh);
        match result {
            Ok(report) => {
                self.last = report;
                Ok(())
            }
            Err(e) => {
                self.last = UpdateReport::default();
                Err(pipeline_error(e))
            }
        }
    }

    fn query_log(&self, sql: &str) -> TableQueryInfo {
        let empty = EventLog::default();
        let log = self.pipeline.as_ref().map_or(&empty, Pipeline::event_log);
        match log.query(sql) {
            Ok((columns, rows)) => TableQueryInfo {
                sql: sql.to_string(),
                columns,
                rows: rows.into_iter().take(SNAPSHOT_ROWS).map(|r| r.as_array().cloned().unwrap_or_default()).collect(),
                version: None,
                error: None,
            },
            Err(e) => TableQueryInfo { sql: sql.to_string(), columns: vec![], rows: vec![], version: None, error: Some(error_info(&e)) },
        }
    }

    fn queued_updates(&self) -> u64 {
        self.plan.iter().filter(|s| matches!(s, PipelineStep::Run(_))).count() as u64
    }

    pub fn info(&self) -> PipelineInfo {
        let mut info = PipelineInfo {
            name: self.scenario.base.name.clone(),
            description: self.scenario.base.description.clone().unwrap_or_default(),
            sql: self.scenario.pipeline.clone(),
            refusal: self.refusal.clone(),
            selected: self.selected.clone(),
            updates: self.updates,
            queued_updates: self.queued_updates(),
            event_log_columns: EventLog::schema().names(),
            log_query: self.log_query.clone(),
            ..PipelineInfo::default()
        };
        let Some(p) = &self.pipeline else { return info };
        let graph = p.graph();
        let mut nodes: Vec<PipelineNode> = p
            .sources()
            .into_iter()
            .map(|(name, _, rows)| PipelineNode { name, kind: "source".into(), rows, ..PipelineNode::default() })
            .chain(p.static_tables().into_iter().map(|(name, rows)| PipelineNode {
                name,
                kind: "table".into(),
                rows,
                ..PipelineNode::default()
            }))
            .collect();
        let name_of = |t: Target| match t {
            Target::Source(s) => p.sources().get(s).map(|x| x.0.clone()),
            Target::Table(t) => p.static_tables().get(t).map(|x| x.0.clone()),
            Target::Dataset(d) => Some(graph.datasets[d].name.clone()),
            Target::Unknown => None,
        };
        let mut layers = vec![0u32; graph.datasets.len()];
        // `order` is a topological order: every input's layer is known before its readers'.
        for &d in &graph.order {
            let ds = &graph.datasets[d];
            let mut layer = 1;
            for &f in &ds.flows {
                for (r, t) in &graph.flows[f].refs {
                    if let Target::Dataset(u) = *t {
                        layer = layer.max(layers[u] + 1);
                    }
                    if let Some(from) = name_of(*t) {
                        info.edges.push(PipelineEdge { from, to: ds.name.clone(), flow: graph.flows[f].name.clone(), stream: r.stream });
                    }
                }
            }
            layers[d] = layer;
            let progress: Vec<&FlowProgress> = self.last.progress.iter().filter(|f| f.dataset.eq_ignore_ascii_case(&ds.name)).collect();
            let kind = match ds.kind {
                DatasetKind::View { temporary: true } => "temporary_view".to_string(),
                k => k.code().to_string(),
            };
            let expectations = self
                .last
                .expectations
                .iter()
                .find(|(n, _)| n.eq_ignore_ascii_case(&ds.name))
                .map(|(_, list)| {
                    list.iter()
                        .map(|(name, c, a)| ExpectationInfo {
                            name: name.clone(),
                            action: a.as_str().into(),
                            passed: c.passed,
                            failed: c.failed,
                        })
                        .collect()
                })
                .unwrap_or_else(|| {
                    ds.constraints
                        .iter()
                        .map(|c| ExpectationInfo { name: c.name.clone(), action: c.action.as_str().into(), passed: 0, failed: 0 })
                        .collect()
                });
            let flows = ds
                .flows
                .iter()
                .filter_map(|&f| {
                    let name = &graph.flows[f].name;
                    let checkpoint = p.checkpoint_of(name)?;
                    let last = progress.iter().find(|g| g.flow.eq_ignore_ascii_case(name));
                    Some(FlowInfo {
                        name: name.clone(),
                        checkpoint,
                        batches: last.map(|g| g.batches.clone()).unwrap_or_default(),
                        recovered: last
                            .map(|g| g.recovered.iter().map(|(b, pt)| format!("batch {b} at {pt}")).collect())
                            .unwrap_or_default(),
                    })
                })
                .collect();
            nodes.push(PipelineNode {
                name: ds.name.clone(),
                kind,
                layer,
                rows: p.row_count(d),
                rows_in: (!progress.is_empty()).then(|| progress.iter().map(|g| g.rows_in).sum()),
                rows_out: (!progress.is_empty()).then(|| progress.iter().map(|g| g.rows_out).sum()),
                expectations,
                flows,
            });
        }
        info.nodes = nodes;
        info.table = self.selected.as_deref().and_then(|name| self.table_of(p, name));
        let log = p.event_log();
        let skip = log.len().saturating_sub(SNAPSHOT_ROWS);
        info.event_log = log.events().skip(skip).map(|e| e.row().as_array().cloned().unwrap_or_default()).collect();
        info.event_log_total = log.total();
        info.armed = p.armed().map(|(point, flow)| format!("{} in {}", point.as_str(), flow.unwrap_or_else(|| "the first flow".into())));
        info
    }

    fn table_of(&self, p: &Pipeline, name: &str) -> Option<PipelineTable> {
        if let Some(c) = p.dataset_content(name, SNAPSHOT_ROWS) {
            return Some(PipelineTable {
                name: name.to_string(),
                columns: c.columns,
                rows: c.rows.into_iter().map(|r| r.as_array().cloned().unwrap_or_default()).collect(),
                total: c.total,
                versions: c
                    .versions
                    .into_iter()
                    .map(|v| PipelineVersion {
                        version: v.version,
                        operation: v.operation.into(),
                        flow: v.flow,
                        rows_added: v.rows_added,
                        rows_total: v.rows_total,
                    })
                    .collect(),
            });
        }
        // A source: the events it was given (the scenario's rows as added).
        let base = &self.scenario.base;
        if let Some((n, schema)) = base.sources.iter().find(|(n, _)| n.eq_ignore_ascii_case(name)) {
            let total = p.sources().iter().find(|s| s.0 == *n).map_or(0, |s| s.2);
            return Some(PipelineTable { name: n.clone(), columns: schema.names(), rows: Vec::new(), total, versions: Vec::new() });
        }
        base.tables.iter().find(|(n, _, _)| n.eq_ignore_ascii_case(name)).map(|(n, schema, rows)| PipelineTable {
            name: n.clone(),
            columns: schema.names(),
            rows: rows.iter().take(SNAPSHOT_ROWS).map(|r| r.as_array().cloned().unwrap_or_default()).collect(),
            total: rows.len() as u64,
            versions: Vec::new(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    const MEDALLION: &str = include_str!("../../../tests/scenarios/pipelines/medallion-trucks.json");
    const MEDALLION_EXPECTED: &str = include_str!("../../../tests/scenarios/pipelines/medallion-trucks.expected.json");

    fn rows(info: &PipelineInfo, name: &str) -> u64 {
        info.nodes.iter().find(|n| n.name == name).map(|n| n.rows).unwrap()
    }

    #[test]
    fn each_update_shows_what_the_expected_file_has_after_that_run() {
        let mut m = PipelineMode::load(MEDALLION).unwrap().unwrap();
        let expected: Json = serde_json::from_str(MEDALLION_EXPECTED).unwrap();
        let runs = expected["runs"].as_array().unwrap();
        assert_eq!(m.info().queued_updates, runs.len() as u64);
        for run in runs {
            m.handle(&Request::PipelineUpdate { full_refresh: vec![] }).unwrap().unwrap();
            let info = m.info();
            for (table, want) in run["tables"].as_object().unwrap() {
                assert_eq!(rows(&info, table), want.as_array().unwrap().len() as u64, "{table} after step {}", run["step"]);
            }
        }
        let info = m.info();
        assert_eq!(info.queued_updates, 0);
        // Layers left to right: source and table, bronze, silver, then gold and the view.
        let layer = |n: &str| info.nodes.iter().find(|x| x.name == n).unwrap().layer;
        assert_eq!((layer("truck_events"), layer("trucks"), layer("bronze"), layer("silver"), layer("gold")), (0, 0, 1, 2, 3));
        assert!(info.edges.iter().any(|e| e.from == "silver" && e.to == "depot_totals" && !e.stream));
        assert!(info.edges.iter().any(|e| e.from == "bronze" && e.to == "silver" && e.stream));
        let bronze = info.nodes.iter().find(|n| n.name == "bronze").unwrap();
        assert_eq!(bronze.flows[0].checkpoint, "_checkpoints/bronze/bronze/0");
        assert!(info.event_log.iter().any(|r| r[6] == json!("create_update")));
    }

    #[test]
    fn losing_a_hop_s_checkpoint_duplicates_downstream_and_a_full_refresh_rebuilds() {
        let mut m = PipelineMode::load(MEDALLION).unwrap().unwrap();
        m.handle(&Request::PipelineUpdate { full_refresh: vec![] }).unwrap().unwrap();
        assert_eq!(rows(&m.info(), "silver"), 1);
        m.handle(&Request::PipelineLoseCheckpoint { flow: "silver".into() }).unwrap().unwrap();
        m.handle(&Request::PipelineUpdate { full_refresh: vec![] }).unwrap().unwrap();
        // The second add (1 event) and bronze's whole content again (2) into silver.
        let info = m.info();
        assert_eq!((rows(&info, "bronze"), rows(&info, "silver")), (2, 3));
        m.handle(&Request::PipelineUpdate { full_refresh: vec!["silver".into()] }).unwrap().unwrap();
        assert_eq!(rows(&m.info(), "silver"), 2);
        m.handle(&Request::PipelineSelect { node: "silver".into() });
        let table = m.info().table.unwrap();
        let ops: Vec<&str> = table.versions.iter().map(|v| v.operation.as_str()).collect();
        assert_eq!(ops, vec!["STREAMING UPDATE", "STREAMING UPDATE", "TRUNCATE", "STREAMING UPDATE"]);
        assert_eq!(table.rows.len(), 2);
    }

    #[test]
    fn a_broken_flow_recovers_exactly_once_and_says_so() {
        let mut m = PipelineMode::load(MEDALLION).unwrap().unwrap();
        m.handle(&Request::PipelineFail { flow: "silver".into(), point: "after_sink_write".into() }).unwrap().unwrap();
        assert_eq!(m.info().armed.as_deref(), Some("after_sink_write in silver"));
        m.handle(&Request::PipelineUpdate { full_refresh: vec![] }).unwrap().unwrap();
        let info = m.info();
        assert_eq!(rows(&info, "silver"), 1);
        let silver = info.nodes.iter().find(|n| n.name == "silver").unwrap();
        assert_eq!(silver.flows[0].recovered.len(), 1);
        assert!(m.handle(&Request::PipelineFail { flow: "nope".into(), point: "after_sink_write".into() }).unwrap().is_err());
        assert!(m.handle(&Request::PipelineFail { flow: "silver".into(), point: "nowhere".into() }).unwrap().is_err());
    }

    #[test]
    fn a_refused_pipeline_opens_with_its_error_and_runs_nothing() {
        let text = include_str!("../../../tests/scenarios/pipelines/refuse-cycle.json");
        let mut m = PipelineMode::load(text).unwrap().unwrap();
        let info = m.info();
        assert_eq!(info.refusal.as_ref().map(|e| e.kind.as_str()), Some("pipeline"));
        assert!(m.handle(&Request::PipelineUpdate { full_refresh: vec![] }).unwrap().is_err());
    }

    #[test]
    fn only_version_2_files_open_a_pipeline_and_events_are_bounded() {
        assert!(PipelineMode::load(crate::DEFAULT_SCENARIO).unwrap().is_none());
        assert!(PipelineMode::load("{\"version\": 2}").is_err());
        let mut m = PipelineMode::load(MEDALLION).unwrap().unwrap();
        m.events = MAX_EVENTS;
        let row = vec![json!("t1"), json!(1.0), json!("2026-01-01 00:00:00")];
        assert!(m.handle(&Request::AddEvent { source: "truck_events".into(), row }).unwrap().is_err());
    }

    /// The medallion pipeline, saved in a storage of its own from the start.
    fn saved_medallion() -> (SharedStorage, PipelineMode) {
        let storage = SharedStorage::memory();
        let mut m = PipelineMode::load(MEDALLION).unwrap().unwrap();
        m.save_in(storage.clone()).unwrap();
        (storage, m)
    }

    fn update() -> Request {
        Request::PipelineUpdate { full_refresh: vec![] }
    }

    /// What the page shows of every node: rows, rows in and out, checkpoints, expectations.
    fn nodes(m: &PipelineMode) -> Json {
        serde_json::to_value(&m.info().nodes).unwrap()
    }

    #[test]
    fn a_saved_pipeline_resumes_with_every_action_applied_again() {
        let (storage, mut m) = saved_medallion();
        m.handle(&update()).unwrap().unwrap();
        m.handle(&Request::PipelineLoseCheckpoint { flow: "silver".into() }).unwrap().unwrap();
        m.handle(&Request::PipelineFail { flow: "gold".into(), point: "after_sink_write".into() }).unwrap().unwrap();
        m.handle(&update()).unwrap().unwrap();
        m.handle(&Request::PipelineSelect { node: "silver".into() });
        let (r, message) = PipelineMode::resume(&storage).unwrap().expect("a pipeline is saved");
        assert!(message.contains("4 actions"), "{message}");
        assert_eq!(nodes(&r), nodes(&m));
        assert_eq!((r.updates, r.queued_updates(), r.selected.as_deref()), (m.updates, m.queued_updates(), Some("silver")));
        assert_eq!(r.info().table, m.info().table);
        // The duplicates of the lost checkpoint are there again: the replay is the same run.
        assert_eq!(rows(&r.info(), "silver"), 3);
        // And it goes on saving where it was.
        let mut r = r;
        r.handle(&update()).unwrap().unwrap();
        m.handle(&update()).unwrap().unwrap();
        assert_eq!(nodes(&PipelineMode::resume(&storage).unwrap().unwrap().0), nodes(&m));
    }

    #[test]
    fn a_reload_during_an_update_finds_it_saved_whole_and_runs_it_again() {
        let (storage, mut m) = saved_medallion();
        // The update is written before it runs; a reload after that point runs it on resume.
        m.record(&update()).unwrap();
        let (r, _) = PipelineMode::resume(&storage).unwrap().unwrap();
        let mut whole = PipelineMode::load(MEDALLION).unwrap().unwrap();
        whole.handle(&update()).unwrap().unwrap();
        assert_eq!(nodes(&r), nodes(&whole));
        assert_eq!(rows(&r.info(), "silver"), 1);
    }

    #[test]
    fn an_action_that_cannot_be_saved_does_not_run() {
        let (_, mut m) = saved_medallion();
        m.saved = MAX_JOURNAL;
        let e = m.handle(&update()).unwrap().unwrap_err();
        assert!(e.message.contains("the most a session keeps"), "{}", e.message);
        assert_eq!((m.updates, rows(&m.info(), "bronze")), (0, 0));
    }

    #[test]
    fn a_damaged_action_ends_the_replay_there_and_says_so() {
        let (storage, mut m) = saved_medallion();
        m.handle(&update()).unwrap().unwrap();
        m.handle(&update()).unwrap().unwrap();
        storage.scoped("").write(&entry_path(1), b"not framed").unwrap();
        let (r, message) = PipelineMode::resume(&storage).unwrap().unwrap();
        assert!(message.contains("up to its action 2, which could not be read"), "{message}");
        assert_eq!(r.updates, 1);
        // A definition that is not a pipeline is an error, not a pipeline.
        write_framed(&storage, DEFINITION, &json!({"version": 1})).unwrap();
        assert!(PipelineMode::resume(&storage).is_err());
        assert!(PipelineMode::resume(&SharedStorage::memory()).unwrap().is_none());
    }

    #[test]
    fn a_carried_pipeline_comes_back_with_its_actions_and_its_view() {
        let mut m = PipelineMode::load(MEDALLION).unwrap().unwrap();
        m.handle(&update()).unwrap().unwrap();
        m.handle(&Request::PipelineSelect { node: "gold".into() });
        let text = m.carry("{\"name\": \"q\"}").unwrap();
        assert!(PipelineMode::is_carry(&text) && !PipelineMode::is_carry(MEDALLION));
        let (query, mut c) = PipelineMode::from_carry(&text).unwrap().unwrap();
        assert_eq!(query, "{\"name\": \"q\"}");
        let storage = SharedStorage::memory();
        c.save_in(storage.clone()).unwrap();
        let (r, _) = PipelineMode::resume(&storage).unwrap().unwrap();
        assert_eq!((nodes(&r), r.selected.as_deref()), (nodes(&m), Some("gold")));
        assert!(PipelineMode::from_carry(MEDALLION).unwrap().is_none());
        assert!(PipelineMode::from_carry(&format!("{{\"{CARRY}\":1}}")).is_err());
    }

    #[test]
    fn the_event_log_answers_a_batch_query() {
        let mut m = PipelineMode::load(MEDALLION).unwrap().unwrap();
        m.handle(&Request::PipelineUpdate { full_refresh: vec![] }).unwrap().unwrap();
        m.handle(&Request::PipelineQueryLog { sql: "SELECT count(*) AS n FROM event_log() WHERE event_type = 'flow_progress'".into() });
        assert_eq!(m.info().log_query.unwrap().rows, vec![vec![json!(4)]]);
    }
}
