//! A running pipeline: each streaming table's flow is a [`StreamingQuery`] with its own
//! checkpoint under the pipeline's storage (`_checkpoints/<table>/<flow>/<generation>`, as
//! Spark lays it out); each streaming table is an append log, read incrementally by `STREAM t`
//! and whole by `FROM t`; a materialized view is recomputed from its inputs on every update.

use std::collections::HashMap;

use arrow_array::{Array, ArrayRef, BooleanArray, RecordBatch, RecordBatchOptions};
use serde_json::Value as Json;

use super::event_log::{EventLog, FlowProgress};
use super::graph::{pipeline_error, Graph, PipelineError, Target};
use super::parse::{shift_error, shift_position, Action, DatasetKind};
use crate::error::{Error, ErrorKind, Position, Result};
use crate::plan::logical::LogicalPlan;
use crate::runtime::{FailurePoint, OutputMode, QueryDefinition, QueryOptions, StreamingQuery};
use crate::sink::time_travel::execute_once;
use crate::source::SourceLog;
use crate::sql::{analyze, Catalog};
use crate::storage::SharedStorage;
use crate::types::{Column, Schema};

/// Which datasets an update runs, and which of them it rebuilds.
#[derive(Debug, Clone, PartialEq)]
pub enum Refresh {
    /// Every flow, incrementally.
    None,
    /// Only these datasets, each cleared and recomputed (`--full-refresh a,b`).
    Only(Vec<String>),
    /// Every dataset, cleared and recomputed (`--full-refresh-all`).
    All,
}

/// An input a streaming flow reads incrementally.
#[derive(Debug, Clone, Copy, PartialEq)]
enum StreamInput {
    Source(usize),
    Dataset(usize),
    Table(usize),
}

/// One expectation's counts in one update.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct Counts {
    pub passed: u64,
    pub failed: u64,
}

/// A streaming table's content as an append log, or a view's latest result.
#[derive(Debug, Clone)]
struct Content {
    schema: Schema,
    chunks: Vec<RecordBatch>,
    /// Bumped whenever the content is rewritten (a materialized view's every update, a full
    /// refresh): a reader that saw an older generation reads it all again.
    generation: u64,
    /// The table's history, newest last (the newest `MAX_VERSIONS`).
    versions: Vec<TableVersion>,
}

/// The most versions a dataset's history keeps.
pub const MAX_VERSIONS: usize = 200;

/// One version of a dataset, as Delta's `DESCRIBE HISTORY` lists it.
#[derive(Debug, Clone, PartialEq)]
pub struct TableVersion {
    pub version: u64,
    /// `STREAMING UPDATE` (a flow appended), `COMPLETE` (a view recomputed), `TRUNCATE` (a full refresh).
    pub operation: &'static str,
    /// The flow that wrote it, or none for a full refresh.
    pub flow: Option<String>,
    pub rows_added: u64,
    /// The dataset's rows after it.
    pub rows_total: u64,
}

impl Content {
    fn record(&mut self, operation: &'static str, flow: Option<String>, rows_added: u64) {
        let version = self.versions.last().map_or(0, |v| v.version + 1);
        let rows_total = self.chunks.iter().map(|c| c.num_rows() as u64).sum();
        self.versions.push(TableVersion { version, operation, flow, rows_added, rows_total });
        if self.versions.len() > MAX_VERSIONS {
            self.versions.remove(0);
        }
    }

    fn batch(&self) -> Result<RecordBatch> {
        let schema = self.schema.to_arrow();
        Ok(arrow_select::concat::concat_batches(&schema, &self.chunks)?)
    }
}

struct FlowRun {
    flow: usize,
    query: StreamingQuery,
    generation: u64,
    /// Incremental inputs, and the catalog names they have in the query.
    streams: Vec<(StreamInput, String)>,
    /// Inputs read whole, as tables: (target, name in the query).
    batches: Vec<(Target, String)>,
    /// Per stream input: add steps fed (sources) or (generation, chunks) fed (datasets).
    fed: Vec<(u64, usize)>,
    /// Rows of the flow's sink already appended to its table.
    sink_seen: usize,
}

/// An evaluated expectation condition: its plan over the dataset's rows.
struct Expectation {
    name: String,
    action: Action,
    plan: LogicalPlan,
}

pub struct Pipeline {
    graph: Graph,
    storage: SharedStorage,
    sources: Vec<(String, Schema)>,
    /// Every `add` step per source, as given (bad records keep their offsets in every flow).
    added: Vec<Vec<Vec<Json>>>,
    /// The good rows of each source, for batch reads.
    logs: Vec<SourceLog>,
    tables: Vec<(String, Schema, RecordBatch)>,
    contents: Vec<Content>,
    /// Per dataset, its flows' runs (streaming tables only).
    runs: HashMap<usize, Vec<FlowRun>>,
    /// Per dataset (materialized views and published views): its batch plan and the inputs
    /// it reads, by catalog name.
    batch_plans: HashMap<usize, (LogicalPlan, Vec<(Target, String)>)>,
    expectations: HashMap<usize, Vec<Expectation>>,
    armed: Option<(FailurePoint, Option<String>)>,
    /// What every update did (Databricks' event log).
    log: EventLog,
    /// The processing time the next update starts at, when the caller gives one.
    next_time: Option<i64>,
    /// The flow running now, so a failure's event names it.
    running: Option<usize>,
}

/// What [`Pipeline::dataset_content`] returns.
#[derive(Debug, Clone, PartialEq)]
pub struct DatasetContent {
    pub columns: Vec<String>,
    pub rows: Vec<Json>,
    pub total: u64,
    pub versions: Vec<TableVersion>,
}

/// One constraint's name, counts and action.
pub type ExpectationCounts = (String, Counts, Action);

/// What one update did, for the runner output.
#[derive(Debug, Clone, Default)]
pub struct UpdateReport {
    /// Per dataset, per constraint: counts and action, in definition order.
    pub expectations: Vec<(String, Vec<ExpectationCounts>)>,
    /// Per flow: the batches it ran and the crashes it recovered from.
    pub flows: Vec<(String, crate::runtime::RunReport)>,
    /// Per flow that ran: rows in and out, as the event log has them.
    pub progress: Vec<FlowProgress>,
}

/// The SQL a flow runs: its query with the views it reads inlined as common table
/// expressions, and whether anything was inlined.
fn inlined(graph: &Graph, flow: usize) -> (String, bool) {
    let mut views = Vec::new();
    let mut stack = vec![flow];
    while let Some(f) = stack.pop() {
        for (_, t) in &graph.flows[f].refs {
            if let Target::Dataset(d) = *t {
                if graph.datasets[d].is_view() && !views.contains(&d) {
                    views.push(d);
                    stack.extend(graph.datasets[d].flows.iter().copied());
                }
            }
        }
    }
    let sql = &graph.flows[flow].query.sql;
    if views.is_empty() {
        return (sql.clone(), false);
    }
    // A view sees the views before it: in the graph's order.
    let defs: Vec<String> = graph
        .order
        .iter()
        .filter(|d| views.contains(d))
        .map(|&d| format!("{} AS (\n{}\n)", graph.datasets[d].name, graph.flows[graph.datasets[d].flows[0]].query.sql))
        .collect();
    let trimmed = sql.trim_start();
    let has_with = trimmed.len() > 4 && trimmed[..4].eq_ignore_ascii_case("with") && trimmed[4..].starts_with(|c: char| c.is_whitespace());
    let text =
        if has_with { format!("WITH {},\n{}", defs.join(",\n"), &trimmed[4..]) } else { format!("WITH {}\n{}", defs.join(",\n"), sql) };
    (text, true)
}

/// Every input `flow` reads with the views it reads expanded: (target, stream?).
fn inputs(graph: &Graph, flow: usize) -> Vec<(Target, bool, String)> {
    let mut out: Vec<(Target, bool, String)> = Vec::new();
    let mut seen_views = Vec::new();
    let mut stack = vec![flow];
    while let Some(f) = stack.pop() {
        for (r, t) in &graph.flows[f].refs {
            match *t {
                Target::Dataset(d) if graph.datasets[d].is_view() => {
                    if !seen_views.contains(&d) {
                        seen_views.push(d);
                        stack.extend(graph.datasets[d].flows.iter().copied());
                    }
                }
                Target::Unknown => {}
                t => {
                    if !out.iter().any(|(x, s, _)| *x == t && *s == r.stream) {
                        out.push((t, r.stream, r.name.clone()));
                    }
                }
            }
        }
    }
    out
}

fn as_pipeline_error(e: Error, graph: &Graph, flow: usize, was_inlined: bool) -> PipelineError {
    let f = &graph.flows[flow];
    // Positions in inlined text are not positions in the pipeline: point at the flow.
    let e = if was_inlined { Error { position: None, ..e } } else { e };
    let e = if was_inlined { shift_error(e, f.at, f.at) } else { shift_error(e, f.query.at, f.at) };
    PipelineError::new(e, Some(&graph.datasets[f.target].name))
}

/// The rows of `batches` after the first `skip`, copying only those: a table's older rows are
/// never touched again, so each update costs what it appended.
fn rows_after(schema: &arrow_schema::SchemaRef, batches: &[RecordBatch], skip: usize) -> Result<RecordBatch> {
    let mut tail = Vec::new();
    let mut end: usize = batches.iter().map(RecordBatch::num_rows).sum();
    for b in batches.iter().rev() {
        if end <= skip {
            break;
        }
        let start = end - b.num_rows();
        tail.push(if start >= skip { b.clone() } else { b.slice(skip - start, end - skip) });
        end = start;
    }
    tail.reverse();
    Ok(arrow_select::concat::concat_batches(schema, &tail)?)
}

impl Pipeline {
    /// Analyses every flow in dependency order and starts the streaming ones, refusing the
    /// pipeline before any flow runs when one cannot start (SPARK-SEMANTICS 8.9).
    pub fn start(
        graph: Graph,
        sources: Vec<(String, Schema)>,
        tables: Vec<(String, Schema, RecordBatch)>,
        storage: SharedStorage,
    ) -> Result<Pipeline, PipelineError> {
        let logs = sources.iter().map(|(n, s)| SourceLog::new(n, s.clone())).collect();
        let contents = graph
            .datasets
            .iter()
            .map(|_| Content { schema: Schema::new(Vec::new()), chunks: Vec::new(), generation: 0, versions: Vec::new() })
            .collect();
        let mut p = Pipeline {
            added: vec![Vec::new(); sources.len()],
            graph,
            storage,
            sources,
            logs,
            tables,
            contents,
            runs: HashMap::new(),
            batch_plans: HashMap::new(),
            expectations: HashMap::new(),
            armed: None,
            log: EventLog::default(),
            next_time: None,
            running: None,
        };
        for &d in &p.graph.order.clone() {
            let ds = p.graph.datasets[d].clone();
            let mut schemas: Vec<(usize, Schema)> = Vec::new();
            match ds.kind {
                DatasetKind::StreamingTable => {
                    let mut runs = Vec::new();
                    for &f in &ds.flows {
                        let run = p.start_flow(f, 0)?;
                        schemas.push((f, run.query.schema().clone()));
                        runs.push(run);
                    }
                    p.runs.insert(d, runs);
                }
                DatasetKind::MaterializedView | DatasetKind::View { .. } => {
                    let f = ds.flows[0];
                    let (plan, reads) = p.batch_plan(f)?;
                    schemas.push((f, plan.schema().clone()));
                    p.batch_plans.insert(d, (plan, reads));
                }
            }
            let schema = p.dataset_schema(d, &schemas)?;
            p.contents[d].schema = schema;
            p.expectations.insert(d, p.expectation_plans(d)?);
        }
        Ok(p)
    }

    fn schema_of(&self, t: Target) -> Schema {
        match t {
            Target::Dataset(d) => self.contents[d].schema.clone(),
            Target::Source(s) => self.sources[s].1.clone(),
            Target::Table(t) => self.tables[t].1.clone(),
            Target::Unknown => Schema::new(Vec::new()),
        }
    }

    fn declared_name(&self, t: Target) -> String {
        match t {
            Target::Dataset(d) => self.graph.datasets[d].name.clone(),
            Target::Source(s) => self.sources[s].0.clone(),
            Target::Table(t) => self.tables[t].0.clone(),
            Target::Unknown => String::new(),
        }
    }

    /// The whole current content of a relation read as a batch.
    fn content_of(&self, t: Target) -> Result<RecordBatch> {
        match t {
            Target::Dataset(d) => self.contents[d].batch(),
            Target::Source(s) => Ok(self.logs[s].read(0, self.logs[s].latest_offset())?.rows),
            Target::Table(t) => Ok(self.tables[t].2.clone()),
            Target::Unknown => Err(Error::internal("a batch read of an unknown relation")),
        }
    }

    /// Spark's error for the first name `flow` reads that nothing in the pipeline or the
    /// scenario defines, listing what is there to read.
    fn unknown_name(&self, f: usize) -> Result<(), PipelineError> {
        let flow = &self.graph.flows[f];
        let Some((r, _)) = flow.refs.iter().find(|(_, t)| *t == Target::Unknown) else { return Ok(()) };
        let known: Vec<&str> = self
            .graph
            .datasets
            .iter()
            .map(|d| d.name.as_str())
            .chain(self.sources.iter().map(|(n, _)| n.as_str()))
            .chain(self.tables.iter().map(|(n, _, _)| n.as_str()))
            .collect();
        let e = Error::new(
            ErrorKind::UnknownTable,
            format!(
                "[TABLE_OR_VIEW_NOT_FOUND] The table or view `{}` cannot be found. Verify the spelling and correctness of the schema and catalog. The pipeline's datasets, sources and tables: {}. SQLSTATE: 42P01",
                r.name,
                known.join(", ")
            ),
        )
        .with_condition("TABLE_OR_VIEW_NOT_FOUND")
        .at(Some(r.at));
        Err(PipelineError::new(e, Some(&self.graph.datasets[flow.target].name)))
    }

    fn start_flow(&self, f: usize, generation: u64) -> Result<FlowRun, PipelineError> {
        self.unknown_name(f)?;
        let flow = &self.graph.flows[f];
        let (sql, was_inlined) = inlined(&self.graph, f);
        let mut catalog = Catalog { sources: Vec::new(), tables: Vec::new() };
        let mut streams = Vec::new();
        let mut batches = Vec::new();
        let reads = inputs(&self.graph, f);
        for (t, stream, _) in &reads {
            let name = self.declared_name(*t);
            if reads.iter().any(|(u, s, _)| u == t && s != stream) {
                let e = Error::unsupported(format!(
                    "the flow `{}` reads `{name}` both as a stream and as a table: not supported by this version of Unbounded yet",
                    flow.name
                ));
                return Err(as_pipeline_error(e, &self.graph, f, true));
            }
            let schema = self.schema_of(*t);
            if *stream {
                let input = match *t {
                    Target::Source(s) => StreamInput::Source(s),
                    Target::Dataset(d) => StreamInput::Dataset(d),
                    Target::Table(x) => StreamInput::Table(x),
                    Target::Unknown => continue,
                };
                catalog.sources.push((name.clone(), schema));
                streams.push((input, name));
            } else {
                catalog.tables.push((name.clone(), schema.clone(), RecordBatch::new_empty(schema.to_arrow())));
                batches.push((*t, name));
            }
        }
        let table = &self.graph.datasets[flow.target].name;
        let storage = SharedStorage::new(self.storage.scoped(&format!("_checkpoints/{table}/{}/{generation}", flow.name)));
        let options = QueryOptions { storage, ..QueryOptions::default() };
        let definition = QueryDefinition { sql, output_mode: OutputMode::Append, catalog };
        let query = StreamingQuery::start_with(definition, options).map_err(|e| match self.check_as_written(f) {
            // The same error in the query as written says where it is in the pipeline text.
            Err(written) if was_inlined && written.error.kind == e.kind => written,
            _ => as_pipeline_error(e, &self.graph, f, was_inlined),
        })?;
        let fed = vec![(0, 0); streams.len()];
        Ok(FlowRun { flow: f, query, generation, streams, batches, fed, sink_seen: 0 })
    }

    /// Analyses a flow's query as written, each view it reads standing as a relation
    /// of the view's columns: its errors then point into the pipeline text, which they cannot
    /// from the text with the views inlined.
    fn check_as_written(&self, f: usize) -> Result<(), PipelineError> {
        let flow = &self.graph.flows[f];
        let mut catalog = Catalog { sources: Vec::new(), tables: Vec::new() };
        for (r, t) in &flow.refs {
            if *t == Target::Unknown {
                continue;
            }
            let name = self.declared_name(*t);
            let schema = self.schema_of(*t);
            let listed = catalog.sources.iter().any(|(n, _)| *n == name) || catalog.tables.iter().any(|(n, _, _)| *n == name);
            if listed {
                continue;
            }
            if r.stream {
                catalog.sources.push((name, schema));
            } else {
                let empty = RecordBatch::new_empty(schema.to_arrow());
                catalog.tables.push((name, schema, empty));
            }
        }
        analyze(&flow.query.sql, &catalog).map(|_| ()).map_err(|e| as_pipeline_error(e, &self.graph, f, false))
    }

    /// A batch query's plan: every relation it reads is a source of one batch (a static
    /// table stays a table when something else is read, so a join with it is a static join).
    fn batch_plan(&self, f: usize) -> Result<(LogicalPlan, Vec<(Target, String)>), PipelineError> {
        self.unknown_name(f)?;
        let (sql, was_inlined) = inlined(&self.graph, f);
        let reads = inputs(&self.graph, f);
        let only_tables = reads.iter().all(|(t, _, _)| matches!(t, Target::Table(_)));
        let mut catalog = Catalog { sources: Vec::new(), tables: Vec::new() };
        let mut as_sources = Vec::new();
        for (t, _, _) in &reads {
            let name = self.declared_name(*t);
            let schema = self.schema_of(*t);
            if let (Target::Table(x), false) = (t, only_tables) {
                catalog.tables.push((name, schema, self.tables[*x].2.clone()));
            } else {
                catalog.sources.push((name.clone(), schema));
                as_sources.push((*t, name));
            }
        }
        let analyzed = analyze(&sql, &catalog).map_err(|e| as_pipeline_error(e, &self.graph, f, was_inlined))?;
        Ok((analyzed.plan, as_sources))
    }

    /// The dataset's schema: declared, or its flows' columns merged by name, each flow's
    /// columns fitting it.
    fn dataset_schema(&self, d: usize, flows: &[(usize, Schema)]) -> Result<Schema, PipelineError> {
        let ds = &self.graph.datasets[d];
        let incompatible = |why: String| {
            PipelineError::new(
                pipeline_error(
                    "USER_SPECIFIED_AND_INFERRED_SCHEMA_NOT_COMPATIBLE",
                    format!("[USER_SPECIFIED_AND_INFERRED_SCHEMA_NOT_COMPATIBLE] Table '{}' has a user-specified schema that is incompatible with the schema inferred from its query: {why}. SQLSTATE: 42000", ds.name),
                    ds.at,
                ),
                Some(&ds.name),
            )
        };
        if let Some(declared) = &ds.columns {
            for (f, s) in flows {
                for c in &s.columns {
                    match declared.iter().find(|(n, _)| n.eq_ignore_ascii_case(&c.name)) {
                        None => return Err(incompatible(format!("the query's column `{}` is not declared", c.name))),
                        Some((n, t)) if *t != c.data_type => {
                            return Err(incompatible(format!(
                                "`{n}` is declared {} but the query gives {}",
                                t.spark_name(),
                                c.data_type.spark_name()
                            )))
                        }
                        Some(_) => {}
                    }
                }
                if *f == ds.flows[0] && self.graph.flows[*f].name.eq_ignore_ascii_case(&ds.name) {
                    if let Some((n, _)) = declared.iter().find(|(n, _)| !s.columns.iter().any(|c| c.name.eq_ignore_ascii_case(n))) {
                        return Err(incompatible(format!("the declared column `{n}` is not in the query's result")));
                    }
                }
            }
            return Ok(Schema::new(declared.iter().map(|(n, t)| Column { name: n.clone(), data_type: t.clone() }).collect()));
        }
        let mut columns: Vec<Column> = Vec::new();
        for (f, s) in flows {
            for c in &s.columns {
                match columns.iter().find(|x| x.name.eq_ignore_ascii_case(&c.name)) {
                    Some(x) if x.data_type != c.data_type => {
                        return Err(PipelineError::new(
                            pipeline_error(
                                "CANNOT_MERGE_SCHEMAS",
                                format!(
                                    "[CANNOT_MERGE_SCHEMAS] Failed merging schemas of the flows into `{}`: the flow `{}` gives `{}` as {}, another flow as {}. SQLSTATE: 42KD9",
                                    ds.name,
                                    self.graph.flows[*f].name,
                                    c.name,
                                    c.data_type.spark_name(),
                                    x.data_type.spark_name()
                                ),
                                self.graph.flows[*f].at,
                            ),
                            Some(&ds.name),
                        ))
                    }
                    Some(_) => {}
                    None => columns.push(c.clone()),
                }
            }
        }
        Ok(Schema::new(columns))
    }

    fn expectation_plans(&self, d: usize) -> Result<Vec<Expectation>, PipelineError> {
        let ds = &self.graph.datasets[d];
        let schema = self.contents[d].schema.clone();
        let mut out = Vec::new();
        const PREFIX: &str = "SELECT (";
        for c in &ds.constraints {
            let sql = format!("{PREFIX}{}\n) AS ok FROM {}", c.condition.sql, ds.name);
            let catalog = Catalog { sources: vec![(ds.name.clone(), schema.clone())], tables: Vec::new() };
            let moved = |mut e: Error| {
                e.position = e.position.map(|p| {
                    let p = if p.line == 1 { Position { line: 1, column: p.column.saturating_sub(PREFIX.len() as u64).max(1) } } else { p };
                    shift_position(p, c.condition.at)
                });
                PipelineError::new(e.at(Some(c.condition.at)), Some(&ds.name))
            };
            let analyzed = analyze(&sql, &catalog).map_err(moved)?;
            let t = &analyzed.plan.schema().columns[0].data_type;
            if *t != crate::types::DataType::Boolean {
                let e = Error::type_mismatch(format!(
                    "[DATATYPE_MISMATCH] The expectation `{}` must be a boolean condition, not {}. SQLSTATE: 42K09",
                    c.name,
                    t.spark_name()
                ))
                .at(Some(c.condition.at));
                return Err(PipelineError::new(e, Some(&ds.name)));
            }
            out.push(Expectation { name: c.name.clone(), action: c.action, plan: analyzed.plan });
        }
        Ok(out)
    }

    pub fn graph(&self) -> &Graph {
        &self.graph
    }

    /// Every published dataset's columns, in the graph's order.
    pub fn datasets(&self) -> Vec<(String, &'static str, Vec<String>)> {
        self.graph
            .order
            .iter()
            .filter(|&&d| self.graph.datasets[d].published())
            .map(|&d| (self.graph.datasets[d].name.clone(), self.graph.datasets[d].kind.code(), self.contents[d].schema.names()))
            .collect()
    }

    /// Every published dataset's rows now, in the graph's order.
    pub fn tables(&self) -> Vec<(String, Vec<Json>)> {
        self.graph
            .order
            .iter()
            .filter(|&&d| self.graph.datasets[d].published())
            .map(|&d| (self.graph.datasets[d].name.clone(), self.contents[d].chunks.iter().flat_map(crate::scenario::rows_json).collect()))
            .collect()
    }

    /// Appends rows to a source. Nothing runs yet.
    pub fn add_json(&mut self, source: &str, rows: &[Json]) -> Result<()> {
        let Some(s) = self.sources.iter().position(|(n, _)| n.eq_ignore_ascii_case(source)) else {
            let known: Vec<&str> = self.sources.iter().map(|(n, _)| n.as_str()).collect();
            return Err(Error::invalid_input(format!("there is no source `{source}`; the sources are: {}", known.join(", "))));
        };
        self.logs[s].append_json(rows)?;
        self.added[s].push(rows.to_vec());
        Ok(())
    }

    /// Arms a crash at `point` in the next micro-batch of `flow` (of the first flow that runs
    /// one, without a name).
    pub fn inject_failure(&mut self, point: FailurePoint, flow: Option<&str>) -> Result<()> {
        if let Some(name) = flow {
            // Only a streaming flow runs micro-batches that can crash.
            let mut known: Vec<&str> = self.runs.values().flatten().map(|r| self.graph.flows[r.flow].name.as_str()).collect();
            known.sort_unstable();
            if !known.iter().any(|f| f.eq_ignore_ascii_case(name)) {
                return Err(Error::invalid_input(format!(
                    "there is no streaming flow `{name}`; the streaming flows are: {}",
                    known.join(", ")
                )));
            }
        }
        self.armed = Some((point, flow.map(str::to_string)));
        let message =
            format!("A crash is armed at {} in the next micro-batch of {}", point.as_str(), flow.unwrap_or("the first flow that runs one"));
        self.log.user_action(flow, message, "inject_failure");
        Ok(())
    }

    /// Deletes one flow's checkpoint, as losing a hop's checkpoint directory does: the flow
    /// starts over under a new one, reads its inputs from the beginning on the next update and
    /// appends all of it again to a table that keeps what it holds (duplicates downstream).
    pub fn lose_checkpoint(&mut self, flow: &str) -> Result<()> {
        let found = self
            .runs
            .iter()
            .find_map(|(d, runs)| runs.iter().position(|r| self.graph.flows[r.flow].name.eq_ignore_ascii_case(flow)).map(|k| (*d, k)));
        let Some((d, k)) = found else {
            let mut known: Vec<&str> = self.runs.values().flatten().map(|r| self.graph.flows[r.flow].name.as_str()).collect();
            known.sort_unstable();
            return Err(Error::invalid_input(format!(
                "there is no streaming flow `{flow}`; the streaming flows are: {}",
                known.join(", ")
            )));
        };
        let (f, generation) = (self.runs[&d][k].flow, self.runs[&d][k].generation);
        let fresh = self.start_flow(f, generation + 1).map_err(|e| e.error)?;
        if let Some(runs) = self.runs.get_mut(&d) {
            runs[k] = fresh;
        }
        let name = self.graph.flows[f].name.clone();
        let message = format!("The checkpoint of flow '{name}' was deleted: the next update reads its inputs from the beginning again");
        self.log.user_action(Some(&name), message, "lose_checkpoint");
        Ok(())
    }

    /// Stops every flow and starts it again from its checkpoint.
    pub fn restart(&mut self) -> Result<()> {
        for runs in self.runs.values_mut() {
            for r in runs {
                r.query.restart()?;
            }
        }
        self.log.user_action(None, "Every flow was stopped and started again from its checkpoint".into(), "restart");
        Ok(())
    }

    /// A dataset's columns and rows now (the newest `limit`), its total and its history.
    pub fn dataset_content(&self, name: &str, limit: usize) -> Option<DatasetContent> {
        let d = self.graph.datasets.iter().position(|d| d.name.eq_ignore_ascii_case(name))?;
        let c = &self.contents[d];
        let total = c.chunks.iter().map(|b| b.num_rows()).sum::<usize>();
        let mut rows: Vec<Json> = Vec::new();
        // Newest chunks first until `limit` rows, then back in order.
        for chunk in c.chunks.iter().rev() {
            if rows.len() >= limit {
                break;
            }
            let mut part = crate::scenario::rows_json(chunk);
            part.reverse();
            rows.extend(part.into_iter().take(limit - rows.len()));
        }
        rows.reverse();
        Some(DatasetContent { columns: c.schema.names(), rows, total: total as u64, versions: c.versions.clone() })
    }

    /// The number of rows a dataset holds now.
    pub fn row_count(&self, d: usize) -> u64 {
        self.contents[d].chunks.iter().map(|b| b.num_rows() as u64).sum()
    }

    /// The sources (name, schema) and the events each was given.
    pub fn sources(&self) -> Vec<(String, Schema, u64)> {
        self.sources
            .iter()
            .zip(&self.added)
            .map(|(s, added)| (s.0.clone(), s.1.clone(), added.iter().map(|r| r.len() as u64).sum()))
            .collect()
    }

    /// The static tables: name and rows.
    pub fn static_tables(&self) -> Vec<(String, u64)> {
        self.tables.iter().map(|(n, _, b)| (n.clone(), b.num_rows() as u64)).collect()
    }

    /// The checkpoint directory a streaming flow uses now, under the pipeline's storage.
    pub fn checkpoint_of(&self, flow: &str) -> Option<String> {
        self.runs.values().flatten().find(|r| self.graph.flows[r.flow].name.eq_ignore_ascii_case(flow)).map(|r| {
            let f = &self.graph.flows[r.flow];
            format!("_checkpoints/{}/{}/{}", self.graph.datasets[f.target].name, f.name, r.generation)
        })
    }

    /// The crash armed for the next micro-batch: its point and flow.
    pub fn armed(&self) -> Option<(FailurePoint, Option<String>)> {
        self.armed.clone()
    }

    /// The event log: what every update did.
    pub fn event_log(&self) -> &EventLog {
        &self.log
    }

    /// The processing time (microseconds) the next update's events carry; without it each
    /// update is one second after the previous one, so a scenario's log is deterministic.
    pub fn set_processing_time(&mut self, micros: i64) {
        self.next_time = Some(micros);
    }

    /// One pipeline update (`spark-pipelines run`): every selected flow once, in dependency
    /// order. A failure inside a flow stops the update there, as in Spark. The event log gets
    /// the update's start, its states, each flow's progress, each expectation's counts and the
    /// error.
    pub fn update(&mut self, refresh: &Refresh) -> Result<UpdateReport, PipelineError> {
        let (names, all) = match refresh {
            Refresh::None => (Vec::new(), false),
            Refresh::Only(n) => (n.clone(), false),
            Refresh::All => (Vec::new(), true),
        };
        self.log.begin_update(self.next_time.take(), &names, all);
        self.log.update_state("STARTING", None);
        self.log.update_state("RUNNING", None);
        let mut report = UpdateReport::default();
        match self.update_datasets(refresh, &mut report) {
            Ok(()) => {
                self.log.update_state("COMPLETED", None);
                Ok(report)
            }
            Err(e) => {
                let flow = self
                    .running
                    .take()
                    .map(|f| (self.graph.datasets[self.graph.flows[f].target].name.clone(), self.graph.flows[f].name.clone()));
                if let Some((dataset, flow)) = flow {
                    self.log.flow_failed(&dataset, &flow, &e.error);
                }
                self.log.update_state("FAILED", Some(&e.error));
                Err(e)
            }
        }
    }

    fn update_datasets(&mut self, refresh: &Refresh, report: &mut UpdateReport) -> Result<(), PipelineError> {
        let selected: Vec<usize> = match refresh {
            Refresh::None | Refresh::All => self.graph.order.clone(),
            Refresh::Only(names) => self
                .graph
                .order
                .iter()
                .copied()
                .filter(|&d| names.iter().any(|n| n.eq_ignore_ascii_case(&self.graph.datasets[d].name)))
                .collect(),
        };
        for d in selected {
            let name = self.graph.datasets[d].name.clone();
            let at_dataset = |e: Error| PipelineError::new(e, Some(&name));
            if *refresh != Refresh::None {
                self.reset(d).map_err(at_dataset)?;
            }
            let counts = match self.graph.datasets[d].kind {
                DatasetKind::StreamingTable => self.run_streaming_table(d, report).map_err(at_dataset)?,
                // A temporary view is inlined where it is read: nothing of its own to compute.
                DatasetKind::View { temporary: true } => Vec::new(),
                _ => self.recompute(d, report).map_err(at_dataset)?,
            };
            self.running = None;
            if !self.graph.datasets[d].constraints.is_empty() {
                let list: Vec<ExpectationCounts> =
                    self.expectations[&d].iter().zip(counts).map(|(e, c)| (e.name.clone(), c, e.action)).collect();
                for (c, n, a) in &list {
                    self.log.data_quality(&name, c, a.as_str(), n.passed, n.failed);
                }
                report.expectations.push((name.clone(), list));
            }
        }
        Ok(())
    }

    /// Clears a dataset for a full refresh: its flows start over under a new checkpoint.
    fn reset(&mut self, d: usize) -> Result<()> {
        let c = &mut self.contents[d];
        c.chunks.clear();
        c.generation += 1;
        c.record("TRUNCATE", None, 0);
        if let Some(runs) = self.runs.remove(&d) {
            let mut fresh = Vec::new();
            for r in runs {
                fresh.push(self.start_flow(r.flow, r.generation + 1).map_err(|e| e.error)?);
            }
            self.runs.insert(d, fresh);
        }
        Ok(())
    }

    /// Runs a streaming table's flows, appending what each committed: returns the update's
    /// expectation counts.
    fn run_streaming_table(&mut self, d: usize, report: &mut UpdateReport) -> Result<Vec<Counts>> {
        let mut runs = self.runs.remove(&d).unwrap_or_default();
        let mut counts = vec![Counts::default(); self.expectations.get(&d).map_or(0, Vec::len)];
        let mut result = Ok(());
        for r in &mut runs {
            match self.run_flow(d, r, &mut counts, report) {
                Ok(()) => {}
                Err(e) => {
                    result = Err(e);
                    break;
                }
            }
        }
        self.runs.insert(d, runs);
        result.map(|()| counts)
    }

    fn run_flow(&mut self, d: usize, r: &mut FlowRun, counts: &mut [Counts], report: &mut UpdateReport) -> Result<()> {
        // Feed what is new since the flow's last update.
        for (k, (input, name)) in r.streams.clone().into_iter().enumerate() {
            match input {
                StreamInput::Source(s) => {
                    for rows in &self.added[s][r.fed[k].1..] {
                        r.query.add_json(&name, rows)?;
                    }
                    r.fed[k].1 = self.added[s].len();
                }
                StreamInput::Dataset(u) => {
                    let c = &self.contents[u];
                    let from = if r.fed[k].0 == c.generation { r.fed[k].1 } else { 0 };
                    for chunk in &c.chunks[from.min(c.chunks.len())..] {
                        r.query.add_batch(&name, chunk.clone())?;
                    }
                    r.fed[k] = (c.generation, c.chunks.len());
                }
                StreamInput::Table(t) => {
                    // A static table's files stream once.
                    if r.fed[k] == (0, 0) {
                        r.query.add_batch(&name, self.tables[t].2.clone())?;
                        r.fed[k] = (0, 1);
                    }
                }
            }
        }
        // Each update starts the flow from its checkpoint, as a new `spark-pipelines run` does.
        if r.batches.is_empty() {
            r.query.restart()?;
        } else {
            let tables = r
                .batches
                .iter()
                .map(|(t, name)| Ok((name.clone(), self.schema_of(*t), self.content_of(*t)?)))
                .collect::<Result<Vec<_>>>()?;
            r.query.restart_with_tables(tables)?;
        }
        let flow_name = self.graph.flows[r.flow].name.clone();
        self.running = Some(r.flow);
        let has_input = r.query.pending_batch().is_some()
            || r.streams
                .iter()
                .any(|(_, n)| r.query.source(n).map_or(0, SourceLog::latest_offset) > r.query.committed_offset(n).unwrap_or(0));
        if let Some((point, target)) = &self.armed {
            if has_input && target.as_ref().is_none_or(|t| t.eq_ignore_ascii_case(&flow_name)) {
                r.query.inject_failure(*point);
                self.armed = None;
            }
        }
        let run = r.query.process_all_available()?;
        let mut progress = FlowProgress {
            flow: flow_name.clone(),
            dataset: self.graph.datasets[d].name.clone(),
            rows_in: run.batches.iter().map(|b| b.progress.num_input_rows).sum(),
            batches: run.batches.iter().map(|b| b.batch_id).collect(),
            recovered: run.failures.iter().map(|(b, p)| (*b, p.as_str().to_string())).collect(),
            ..FlowProgress::default()
        };
        report.flows.push((flow_name, run));
        // What the flow's sink gained: exactly once, whatever crashed and was retried.
        let sink = r.query.table();
        let total = sink.num_rows();
        if total > r.sink_seen {
            let new = rows_after(&r.query.schema().to_arrow(), &sink.batches_at(None)?, r.sink_seen)?;
            r.sink_seen = total;
            let rows = self.conform(d, &new)?;
            let before = rows.num_rows() as u64;
            let rows = self.expect(d, rows, counts)?;
            progress.rows_out = rows.num_rows() as u64;
            progress.dropped = before - progress.rows_out;
            if rows.num_rows() > 0 {
                self.contents[d].chunks.push(rows);
                self.contents[d].record("STREAMING UPDATE", Some(progress.flow.clone()), progress.rows_out);
            }
        }
        self.log.flow_completed(&progress);
        report.progress.push(progress);
        Ok(())
    }

    /// `batch`'s columns by name onto the dataset's schema (a column no flow gives is NULL).
    fn conform(&self, d: usize, batch: &RecordBatch) -> Result<RecordBatch> {
        let schema = &self.contents[d].schema;
        let names = batch.schema();
        let columns: Vec<ArrayRef> = schema
            .columns
            .iter()
            .map(|c| match names.fields().iter().position(|f| f.name().eq_ignore_ascii_case(&c.name)) {
                Some(k) => batch.column(k).clone(),
                None => arrow_array::new_null_array(&c.data_type.to_arrow(), batch.num_rows()),
            })
            .collect();
        let options = RecordBatchOptions::new().with_row_count(Some(batch.num_rows()));
        Ok(RecordBatch::try_new_with_options(schema.to_arrow(), columns, &options)?)
    }

    /// Counts the dataset's expectations over `rows`, drops the rows a DROP ROW one fails
    /// and fails the update when a FAIL UPDATE one fails. A condition that is not true fails.
    fn expect(&self, d: usize, rows: RecordBatch, counts: &mut [Counts]) -> Result<RecordBatch> {
        let Some(list) = self.expectations.get(&d).filter(|l| !l.is_empty()) else { return Ok(rows) };
        let name = &self.graph.datasets[d].name;
        let mut keep = vec![true; rows.num_rows()];
        for (k, e) in list.iter().enumerate() {
            let out = execute_once(&e.plan, |_| Ok(rows.clone()))?;
            let ok =
                out.column(0).as_any().downcast_ref::<BooleanArray>().ok_or_else(|| Error::internal("an expectation gave no boolean"))?;
            let passed = (0..ok.len()).filter(|&i| ok.is_valid(i) && ok.value(i)).count() as u64;
            counts[k].passed += passed;
            counts[k].failed += ok.len() as u64 - passed;
            match e.action {
                Action::Warn => {}
                Action::Drop => {
                    for (i, kept) in keep.iter_mut().enumerate() {
                        *kept &= ok.is_valid(i) && ok.value(i);
                    }
                }
                Action::Fail if passed < ok.len() as u64 => {
                    return Err(Error::new(
                        ErrorKind::Runtime,
                        format!(
                            "[EXPECTATION_VIOLATION] Flow into `{name}` failed to meet the expectation `{}` (ON VIOLATION FAIL UPDATE): {} of {} rows violate it. The update stops.",
                            e.name,
                            ok.len() as u64 - passed,
                            ok.len()
                        ),
                    )
                    .with_condition("EXPECTATION_VIOLATION"))
                }
                Action::Fail => {}
            }
        }
        if keep.iter().all(|&k| k) {
            return Ok(rows);
        }
        Ok(arrow_select::filter::filter_record_batch(&rows, &BooleanArray::from(keep))?)
    }

    /// Recomputes a materialized view (or a published view) from its inputs' current content.
    fn recompute(&mut self, d: usize, report: &mut UpdateReport) -> Result<Vec<Counts>> {
        let Some((plan, reads)) = self.batch_plans.get(&d) else { return Ok(Vec::new()) };
        let flow = self.graph.datasets[d].flows[0];
        self.running = Some(flow);
        let inputs: Vec<(String, RecordBatch)> = reads.iter().map(|(t, n)| Ok((n.clone(), self.content_of(*t)?))).collect::<Result<_>>()?;
        // Static tables read beside other inputs are tables of the plan: their rows are in it.
        let out = execute_once(plan, |name| {
            inputs
                .iter()
                .find(|(n, _)| n.eq_ignore_ascii_case(name))
                .map(|(_, b)| b.clone())
                .ok_or_else(|| Error::internal(format!("no input `{name}`")))
        })?;
        let rows_in = inputs.iter().map(|(_, b)| b.num_rows() as u64).sum();
        let out = self.conform(d, &out)?;
        let mut counts = vec![Counts::default(); self.expectations.get(&d).map_or(0, Vec::len)];
        let before = out.num_rows() as u64;
        let out = self.expect(d, out, &mut counts)?;
        let progress = FlowProgress {
            flow: self.graph.flows[flow].name.clone(),
            dataset: self.graph.datasets[d].name.clone(),
            rows_in,
            rows_out: out.num_rows() as u64,
            dropped: before - out.num_rows() as u64,
            ..FlowProgress::default()
        };
        self.log.flow_completed(&progress);
        let c = &mut self.contents[d];
        c.chunks = vec![out];
        c.generation += 1;
        c.record("COMPLETE", Some(progress.flow.clone()), progress.rows_out);
        report.progress.push(progress);
        Ok(counts)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::types::DataType;
    use std::sync::Arc;
    #[cfg(target_arch = "wasm32")]
    use wasm_bindgen_test::wasm_bindgen_test as test;

    #[test]
    fn rows_after_slices_only_the_tail() {
        let schema = Schema::new(vec![Column { name: "n".into(), data_type: DataType::BigInt }]);
        let arrow = schema.to_arrow();
        let batch =
            |v: Vec<i64>| RecordBatch::try_new(arrow.clone(), vec![Arc::new(arrow_array::Int64Array::from(v)) as ArrayRef]).unwrap();
        let batches = vec![batch(vec![1, 2]), batch(vec![3, 4, 5]), batch(vec![6])];
        let values = |b: RecordBatch| crate::scenario::rows_json(&b);
        assert_eq!(
            values(rows_after(&arrow, &batches, 3).unwrap()),
            vec![serde_json::json!([4]), serde_json::json!([5]), serde_json::json!([6])]
        );
        assert_eq!(values(rows_after(&arrow, &batches, 0).unwrap()).len(), 6);
        assert!(values(rows_after(&arrow, &batches, 6).unwrap()).is_empty());
    }

    fn pipeline(sql: &str) -> Pipeline {
        let doc = serde_json::json!({
            "version": 2, "name": "t",
            "sources": {"events": {"schema": [["id", "bigint"], ["v", "bigint"]]}},
            "pipeline": sql, "steps": []
        });
        let s = super::super::scenario::PipelineScenario::from_json(&doc).unwrap();
        super::super::scenario::start(&s, SharedStorage::memory()).unwrap()
    }

    const HOPS: &str =
        "CREATE STREAMING TABLE bronze (CONSTRAINT positive EXPECT (v > 0) ON VIOLATION DROP ROW) AS SELECT * FROM STREAM events;\n\
                        CREATE MATERIALIZED VIEW total AS SELECT count(*) AS n FROM bronze;";

    #[test]
    fn an_update_logs_each_flow_s_rows_and_each_expectation() {
        let mut p = pipeline(HOPS);
        p.add_json("events", &[serde_json::json!([1, 5]), serde_json::json!([2, -1]), serde_json::json!([3, 7])]).unwrap();
        let report = p.update(&Refresh::None).unwrap();
        let rows: Vec<(String, u64, u64, u64)> =
            report.progress.iter().map(|f| (f.flow.clone(), f.rows_in, f.rows_out, f.dropped)).collect();
        assert_eq!(rows, vec![("bronze".into(), 3, 2, 1), ("total".into(), 2, 1, 0)]);
        let log = p.event_log();
        let types: Vec<&str> = log.events().map(|e| e.event_type).collect();
        assert_eq!(
            types,
            vec![
                "create_update",
                "update_progress",
                "update_progress",
                "flow_progress",
                "data_quality",
                "flow_progress",
                "update_progress"
            ]
        );
        let dq = log.events().find(|e| e.event_type == "data_quality").unwrap();
        assert_eq!(
            (dq.details["data_quality"]["passed_records"].as_u64(), dq.details["data_quality"]["failed_records"].as_u64()),
            (Some(2), Some(1))
        );
        assert!(log.events().last().unwrap().message.contains("COMPLETED"));
        let content = p.dataset_content("bronze", 10).unwrap();
        assert_eq!((content.total, content.versions.len(), content.versions[0].operation), (2, 1, "STREAMING UPDATE"));
        // An update without new input writes no version; a full refresh truncates and rewrites.
        p.update(&Refresh::None).unwrap();
        p.update(&Refresh::Only(vec!["bronze".into()])).unwrap();
        let ops: Vec<&str> = p.dataset_content("bronze", 10).unwrap().versions.iter().map(|v| v.operation).collect();
        assert_eq!(ops, vec!["STREAMING UPDATE", "TRUNCATE", "STREAMING UPDATE"]);
        let (_, counts) = log_query(
            &p,
            "SELECT update_id, count(*) AS n FROM event_log() WHERE event_type = 'create_update' GROUP BY update_id ORDER BY update_id",
        );
        assert_eq!(counts.len(), 3);
    }

    fn log_query(p: &Pipeline, sql: &str) -> (Vec<String>, Vec<Json>) {
        p.event_log().query(sql).unwrap()
    }

    #[test]
    fn a_failed_update_logs_the_flow_and_the_error() {
        let mut p = pipeline(
            "CREATE STREAMING TABLE bronze (CONSTRAINT positive EXPECT (v > 0) ON VIOLATION FAIL UPDATE) AS SELECT * FROM STREAM events;",
        );
        p.add_json("events", &[serde_json::json!([1, -5])]).unwrap();
        let err = p.update(&Refresh::None).unwrap_err();
        assert_eq!(err.dataset.as_deref(), Some("bronze"));
        let errors: Vec<(&str, Option<&str>)> = p
            .event_log()
            .events()
            .filter(|e| e.level == super::super::event_log::Level::Error)
            .map(|e| (e.event_type, e.flow.as_deref()))
            .collect();
        assert_eq!(errors, vec![("flow_progress", Some("bronze")), ("update_progress", None)]);
        assert!(p.event_log().events().last().unwrap().message.contains("EXPECTATION_VIOLATION"));
    }

    #[test]
    fn losing_a_checkpoint_is_logged_and_moves_the_flow_to_a_new_one() {
        let mut p = pipeline("CREATE STREAMING TABLE bronze AS SELECT * FROM STREAM events;");
        assert_eq!(p.checkpoint_of("bronze").as_deref(), Some("_checkpoints/bronze/bronze/0"));
        p.lose_checkpoint("bronze").unwrap();
        assert_eq!(p.checkpoint_of("bronze").as_deref(), Some("_checkpoints/bronze/bronze/1"));
        let e = p.event_log().events().last().unwrap();
        assert_eq!((e.event_type, e.flow.as_deref()), ("user_action", Some("bronze")));
    }
}
