//! The scenario format (`FORMAT.md`, version 1): a replayable script of sources, tables, one
//! query and steps, and the runner output document it produces. The playground exports and
//! imports it, the CLI runs it, and conformance suites are written in it.

use arrow_array::RecordBatch;
use serde_json::{json, Map, Value as Json};

use crate::error::{Error, Result};
use crate::query::{BatchReport, FailurePoint, OutputMode, QueryDefinition, QueryOptions, RunReport, StreamingQuery};
use crate::sql::Catalog;
use crate::time::format_timestamp;
use crate::types::{Column, DataType, Schema};
use crate::value::Value;

pub const FORMAT_VERSION: u64 = 1;

#[derive(Debug, Clone, PartialEq)]
pub enum Step {
    Add { source: String, rows: Vec<Json> },
    Run,
    Restart,
    Fail(FailurePoint),
}

#[derive(Debug, Clone, PartialEq)]
pub struct Scenario {
    pub name: String,
    pub description: Option<String>,
    pub sources: Vec<(String, Schema)>,
    pub tables: Vec<(String, Schema, Vec<Json>)>,
    pub query: String,
    pub output_mode: OutputMode,
    pub steps: Vec<Step>,
}

fn bad(message: impl Into<String>) -> Error {
    Error::invalid_input(message)
}

fn check_keys(obj: &Map<String, Json>, allowed: &[&str], context: &str) -> Result<()> {
    for key in obj.keys() {
        if !allowed.contains(&key.as_str()) {
            return Err(bad(format!("{context}: unknown key `{key}` (expected one of: {})", allowed.join(", "))));
        }
    }
    Ok(())
}

fn schema_of(v: &Json, context: &str) -> Result<Schema> {
    let cols = v.as_array().ok_or_else(|| bad(format!("{context}: `schema` must be a list of [name, type] pairs")))?;
    let mut columns = Vec::new();
    for (i, c) in cols.iter().enumerate() {
        let pair = c.as_array().filter(|p| p.len() == 2).ok_or_else(|| bad(format!("{context}: schema entry {i} must be [name, type]")))?;
        let name = pair[0].as_str().ok_or_else(|| bad(format!("{context}: schema entry {i}: the column name must be a string")))?;
        let tname = pair[1].as_str().ok_or_else(|| bad(format!("{context}: schema entry {i}: the type must be a string")))?;
        let data_type = DataType::from_schema_name(tname).ok_or_else(|| {
            bad(format!("{context}: column `{name}` has unknown type `{tname}` (use string, int, bigint, double, boolean or timestamp)"))
        })?;
        if columns.iter().any(|c: &Column| c.name.eq_ignore_ascii_case(name)) {
            return Err(bad(format!("{context}: column `{name}` is declared twice")));
        }
        columns.push(Column { name: name.to_string(), data_type });
    }
    if columns.is_empty() {
        return Err(bad(format!("{context}: the schema has no columns")));
    }
    Ok(Schema::new(columns))
}

impl Scenario {
    /// Parses and validates a scenario file. Errors name the JSON position, key or step.
    pub fn parse(text: &str) -> Result<Scenario> {
        let doc: Json = serde_json::from_str(text)
            .map_err(|e| bad(format!("the scenario is not valid JSON: {e} (line {}, column {})", e.line(), e.column())))?;
        Scenario::from_json(&doc)
    }

    pub fn from_json(doc: &Json) -> Result<Scenario> {
        let obj = doc.as_object().ok_or_else(|| bad("the scenario must be a JSON object"))?;
        check_keys(obj, &["version", "name", "description", "sources", "tables", "query", "output_mode", "steps"], "scenario")?;
        match obj.get("version").and_then(Json::as_u64) {
            Some(FORMAT_VERSION) => {}
            Some(v) => {
                return Err(bad(format!("scenario version {v} is not supported; this version of Unbounded reads version {FORMAT_VERSION}")))
            }
            None => return Err(bad("scenario: `version` is missing (it must be 1)")),
        }
        let name = obj.get("name").and_then(Json::as_str).ok_or_else(|| bad("scenario: `name` is missing"))?.to_string();
        let description = obj
            .get("description")
            .map(|d| d.as_str().map(str::to_string).ok_or_else(|| bad("scenario: `description` must be a string")))
            .transpose()?;
        let mut sources = Vec::new();
        let src = obj
            .get("sources")
            .and_then(Json::as_object)
            .ok_or_else(|| bad("scenario: `sources` must be an object of source name -> {\"schema\": ...}"))?;
        for (sname, s) in src {
            let context = format!("source `{sname}`");
            let so = s.as_object().ok_or_else(|| bad(format!("{context} must be an object")))?;
            check_keys(so, &["schema"], &context)?;
            sources.push((sname.clone(), schema_of(so.get("schema").unwrap_or(&Json::Null), &context)?));
        }
        let mut tables = Vec::new();
        if let Some(t) = obj.get("tables") {
            let t = t.as_object().ok_or_else(|| bad("scenario: `tables` must be an object of table name -> {\"schema\", \"rows\"}"))?;
            for (tname, tv) in t {
                let context = format!("table `{tname}`");
                let to = tv.as_object().ok_or_else(|| bad(format!("{context} must be an object")))?;
                check_keys(to, &["schema", "rows"], &context)?;
                let schema = schema_of(to.get("schema").unwrap_or(&Json::Null), &context)?;
                let rows = to.get("rows").and_then(Json::as_array).cloned().unwrap_or_default();
                if sources.iter().any(|(s, _)| s.eq_ignore_ascii_case(tname)) {
                    return Err(bad(format!("{context}: a source has the same name")));
                }
                tables.push((tname.clone(), schema, rows));
            }
        }
        let query = obj.get("query").and_then(Json::as_str).ok_or_else(|| bad("scenario: `query` (the SQL text) is missing"))?.to_string();
        let mode_text = obj.get("output_mode").and_then(Json::as_str).unwrap_or("append");
        let output_mode = OutputMode::parse(mode_text)
            .ok_or_else(|| bad(format!("scenario: `output_mode` must be append, update or complete, not `{mode_text}`")))?;
        let mut steps = Vec::new();
        for (i, s) in obj.get("steps").and_then(Json::as_array).ok_or_else(|| bad("scenario: `steps` must be a list"))?.iter().enumerate() {
            let context = format!("step {i}");
            let so = s.as_object().ok_or_else(|| bad(format!("{context} must be an object")))?;
            let step = if let Some(source) = so.get("add") {
                check_keys(so, &["add", "rows"], &context)?;
                let source = source.as_str().ok_or_else(|| bad(format!("{context}: `add` names a source")))?;
                if !sources.iter().any(|(n, _)| n == source) {
                    return Err(bad(format!(
                        "{context}: unknown source `{source}` (sources: {})",
                        sources.iter().map(|(n, _)| n.as_str()).collect::<Vec<_>>().join(", ")
                    )));
                }
                let rows = so
                    .get("rows")
                    .and_then(Json::as_array)
                    .ok_or_else(|| bad(format!("{context}: `rows` must be a list of rows")))?
                    .clone();
                let width = sources.iter().find(|(n, _)| n == source).map(|(_, s)| s.len()).unwrap_or(0);
                for (r, row) in rows.iter().enumerate() {
                    match row.as_array() {
                        Some(values) if values.len() == width => {}
                        Some(values) => {
                            return Err(bad(format!("{context}: row {r} has {} values, but `{source}` has {width} columns", values.len())))
                        }
                        None => return Err(bad(format!("{context}: row {r} must be a list of values"))),
                    }
                }
                Step::Add { source: source.to_string(), rows }
            } else if let Some(v) = so.get("run") {
                check_keys(so, &["run"], &context)?;
                if !v.as_object().is_some_and(Map::is_empty) {
                    return Err(bad(format!("{context}: `run` takes an empty object: {{\"run\": {{}}}}")));
                }
                Step::Run
            } else if let Some(v) = so.get("restart") {
                check_keys(so, &["restart"], &context)?;
                if !v.as_object().is_some_and(Map::is_empty) {
                    return Err(bad(format!("{context}: `restart` takes an empty object: {{\"restart\": {{}}}}")));
                }
                Step::Restart
            } else if let Some(v) = so.get("fail") {
                check_keys(so, &["fail"], &context)?;
                let point = v.as_str().and_then(FailurePoint::parse).ok_or_else(|| {
                    bad(format!(
                        "{context}: `fail` must be one of {}",
                        FailurePoint::ALL.iter().map(|p| p.as_str()).collect::<Vec<_>>().join(", ")
                    ))
                })?;
                Step::Fail(point)
            } else {
                return Err(bad(format!(
                    "{context}: expected one of the keys add, run, restart, fail; found {}",
                    so.keys().map(|k| format!("`{k}`")).collect::<Vec<_>>().join(", ")
                )));
            };
            steps.push(step);
        }
        Ok(Scenario { name, description, sources, tables, query, output_mode, steps })
    }

    /// The scenario as a FORMAT.md document: what the playground exports, shares and saves.
    pub fn to_json(&self) -> Json {
        let schema = |s: &Schema| Json::Array(s.columns.iter().map(|c| json!([c.name, c.data_type.to_string()])).collect());
        let mut doc = Map::new();
        doc.insert("version".into(), json!(FORMAT_VERSION));
        doc.insert("name".into(), json!(self.name));
        if let Some(d) = &self.description {
            doc.insert("description".into(), json!(d));
        }
        let sources: Map<String, Json> = self.sources.iter().map(|(n, s)| (n.clone(), json!({"schema": schema(s)}))).collect();
        doc.insert("sources".into(), Json::Object(sources));
        if !self.tables.is_empty() {
            let tables: Map<String, Json> =
                self.tables.iter().map(|(n, s, rows)| (n.clone(), json!({"schema": schema(s), "rows": rows}))).collect();
            doc.insert("tables".into(), Json::Object(tables));
        }
        doc.insert("query".into(), json!(self.query));
        doc.insert("output_mode".into(), json!(self.output_mode.as_str()));
        let steps = self.steps.iter().map(|step| match step {
            Step::Add { source, rows } => json!({"add": source, "rows": rows}),
            Step::Run => json!({"run": {}}),
            Step::Restart => json!({"restart": {}}),
            Step::Fail(point) => json!({"fail": point.as_str()}),
        });
        doc.insert("steps".into(), Json::Array(steps.collect()));
        Json::Object(doc)
    }

    /// The catalog the query is analysed against: sources and decoded static tables.
    pub fn catalog(&self) -> Result<Catalog> {
        let mut tables = Vec::new();
        for (name, schema, rows) in &self.tables {
            tables.push(Catalog::table_from_json(name, schema.clone(), rows)?);
        }
        Ok(Catalog { sources: self.sources.clone(), tables })
    }
}

/// The runner's result: the output document, and whether the query ran to the end.
pub struct RunOutput {
    pub document: Json,
    pub ok: bool,
}

pub fn rows_json(batch: &RecordBatch) -> Vec<Json> {
    (0..batch.num_rows())
        .map(|i| Json::Array(batch.columns().iter().map(|c| Value::from_array(c.as_ref(), i).to_json()).collect()))
        .collect()
}

fn error_json(e: &Error) -> Json {
    let mut m = Map::new();
    m.insert("kind".into(), json!(e.kind.code()));
    m.insert("message".into(), json!(e.message));
    if let Some(c) = e.spark_condition {
        m.insert("spark_condition".into(), json!(c));
    }
    m.insert("phase".into(), json!(e.phase.code()));
    if let Some(p) = e.position {
        m.insert("line".into(), json!(p.line));
        m.insert("column".into(), json!(p.column));
    }
    Json::Object(m)
}

fn batch_json(b: &BatchReport) -> Json {
    let mut m = Map::new();
    m.insert("batch_id".into(), json!(b.batch_id));
    m.insert("watermark".into(), b.watermark.map(|w| json!(format_timestamp(w))).unwrap_or(Json::Null));
    m.insert("dropped_late".into(), json!(b.dropped_late));
    m.insert("state_rows".into(), json!(b.state_rows));
    m.insert("rows".into(), Json::Array(rows_json(&b.rows)));
    if !b.bad_records.is_empty() {
        m.insert("bad_records".into(), json!(b.bad_records.len()));
    }
    if !b.late_rows.is_empty() {
        // Every row dropped as late, with why: `dropped_late` above is Spark's count of them.
        let late: Vec<Json> = b
            .late_rows
            .iter()
            .map(|l| {
                let mut o = Map::new();
                o.insert("operator".into(), json!(l.operator));
                o.insert("row".into(), Json::Array(l.row.iter().map(Value::to_json).collect()));
                o.insert("event_time".into(), json!(format_timestamp(l.event_time)));
                o.insert("watermark".into(), json!(format_timestamp(l.watermark)));
                if let Some((start, end)) = l.window {
                    o.insert("window".into(), json!({"start": format_timestamp(start), "end": format_timestamp(end)}));
                }
                Json::Object(o)
            })
            .collect();
        m.insert("late_rows".into(), Json::Array(late));
    }
    Json::Object(m)
}

fn run_json(step: usize, r: &RunReport) -> Json {
    let mut m = Map::new();
    m.insert("step".into(), json!(step));
    m.insert("batches".into(), Json::Array(r.batches.iter().map(batch_json).collect()));
    if !r.failures.is_empty() {
        m.insert("failures".into(), Json::Array(r.failures.iter().map(|(id, p)| json!({"batch_id": id, "point": p.as_str()})).collect()));
    }
    Json::Object(m)
}

/// What the sink holds at the end, as FORMAT.md defines it per output mode: the transactional
/// table's rows (appended, upserted by the update key, or replaced in complete mode).
pub fn sink_rows(q: &StreamingQuery) -> Vec<Json> {
    q.table().rows().to_vec()
}

/// Runs a scenario end to end and builds the runner output document.
pub fn run(s: &Scenario) -> Result<RunOutput> {
    run_with(s, QueryOptions::default())
}

/// Runs a scenario over the given storage: with a checkpoint there from an earlier run, the
/// query resumes after its last commit (the sources are filled again by the `add` steps).
pub fn run_with(s: &Scenario, options: QueryOptions) -> Result<RunOutput> {
    let catalog = s.catalog()?;
    let definition = QueryDefinition { sql: s.query.clone(), output_mode: s.output_mode, catalog };
    let mut query = match StreamingQuery::start_with(definition, options) {
        Ok(q) => q,
        Err(e) if matches!(e.kind, crate::ErrorKind::InvalidInput | crate::ErrorKind::Internal | crate::ErrorKind::Checkpoint) => {
            return Err(e)
        }
        Err(e) => return Ok(RunOutput { document: json!({"name": s.name, "error": error_json(&e)}), ok: false }),
    };
    let columns: Vec<Json> = query.schema().columns.iter().map(|c| json!(c.name)).collect();
    let mut runs = Vec::new();
    let mut failure: Option<Error> = None;
    for (i, step) in s.steps.iter().enumerate() {
        let result = match step {
            Step::Add { source, rows } => query.add_json(source, rows).map_err(|e| bad(format!("step {i}: {}", e.message))),
            // Resumed from a checkpoint, the add steps refill what it has read: no batch is due yet.
            Step::Run if query.replaying() => {
                runs.push(run_json(i, &RunReport::default()));
                Ok(())
            }
            Step::Run => query.process_all_available().map(|r| runs.push(run_json(i, &r))),
            Step::Restart => query.restart(),
            Step::Fail(point) => {
                query.inject_failure(*point);
                Ok(())
            }
        };
        if let Err(e) = result {
            if e.kind == crate::ErrorKind::InvalidInput {
                return Err(e);
            }
            failure = Some(e);
            if matches!(step, Step::Run) {
                runs.push(json!({"step": i, "batches": []}));
            }
            break;
        }
    }
    if failure.is_none() {
        // Records the checkpoint counts as read that no add step gave back: refused, not skipped.
        failure = query.check_sources().err();
    }
    let mut doc = Map::new();
    doc.insert("name".into(), json!(s.name));
    doc.insert("columns".into(), Json::Array(columns));
    if let (OutputMode::Update, Some(key)) = (query.output_mode(), query.update_key()) {
        doc.insert("update_key".into(), json!(key));
    }
    doc.insert("runs".into(), Json::Array(runs));
    doc.insert("sink".into(), Json::Array(sink_rows(&query)));
    if !query.dead_letter().is_empty() {
        doc.insert(
            "dead_letter".into(),
            Json::Array(
                query.dead_letter().iter().map(|d| json!({"batch_id": d.batch_id, "source": d.record.source, "offset": d.record.offset, "row": d.record.row, "reason": d.record.reason})).collect(),
            ),
        );
    }
    let ok = failure.is_none();
    if let Some(e) = failure {
        doc.insert("error".into(), error_json(&e));
    }
    Ok(RunOutput { document: Json::Object(doc), ok })
}

/// Parses and runs scenario text: the entry point the CLI and the wasm build share.
pub fn run_text(text: &str) -> Result<RunOutput> {
    run(&Scenario::parse(text)?)
}
