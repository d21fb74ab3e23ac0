//! Version 2 of the scenario format (FORMAT.md, "Pipelines"): a pipeline's SQL where version 1
//! has a query, run steps that may fully refresh datasets, failures aimed at one flow, and the
//! runner output document of a pipeline. Sources, tables and `add` steps are version 1's, read
//! by version 1's reader so they mean exactly what they mean there.

use serde_json::{json, Map, Value as Json};

use super::graph::{self, PipelineError};
use super::parse;
use super::run::{Pipeline, Refresh, UpdateReport};
use crate::error::{Error, ErrorKind, Result};
use crate::runtime::FailurePoint;
use crate::scenario::{strict_json, RunOutput, Scenario, Step, MAX_SCENARIO_BYTES};
use crate::storage::SharedStorage;

pub const PIPELINE_VERSION: u64 = 2;

#[derive(Debug, Clone, PartialEq)]
pub enum PipelineStep {
    Add { source: String, rows: Vec<Json> },
    Run(Refresh),
    Restart,
    Fail { point: FailurePoint, flow: Option<String> },
}

#[derive(Debug, Clone, PartialEq)]
pub struct PipelineScenario {
    /// Name, description, sources and tables, read as version 1 reads them.
    pub base: Scenario,
    pub pipeline: String,
    pub steps: Vec<PipelineStep>,
}

fn bad(message: impl Into<String>) -> Error {
    Error::invalid_input(message)
}

fn refresh_of(v: &Json, context: &str) -> Result<Refresh> {
    let o = v.as_object().ok_or_else(|| bad(format!("{context}: `run` takes an object: {{\"run\": {{}}}}")))?;
    for k in o.keys() {
        if k != "full_refresh" && k != "full_refresh_all" {
            return Err(bad(format!(
                "{context}: unknown key {} in `run` (expected full_refresh or full_refresh_all)",
                Json::String(k.clone())
            )));
        }
    }
    match (o.get("full_refresh"), o.get("full_refresh_all")) {
        (Some(_), Some(_)) => Err(bad(format!("{context}: `full_refresh` and `full_refresh_all` cannot both be given"))),
        (Some(list), None) => {
            let names = list
                .as_array()
                .and_then(|l| l.iter().map(|n| n.as_str().map(str::to_string)).collect::<Option<Vec<_>>>())
                .ok_or_else(|| bad(format!("{context}: `full_refresh` must be a list of dataset names")))?;
            Ok(Refresh::Only(names))
        }
        (None, Some(all)) => match all.as_bool() {
            Some(true) => Ok(Refresh::All),
            Some(false) => Ok(Refresh::None),
            None => Err(bad(format!("{context}: `full_refresh_all` must be true or false"))),
        },
        (None, None) => Ok(Refresh::None),
    }
}

impl PipelineScenario {
    /// Reads `text` as a pipeline scenario when its version is 2; `None` for another version,
    /// which the version 1 reader then reads (and explains).
    pub fn parse_if_pipeline(text: &str) -> Result<Option<PipelineScenario>> {
        if text.len() > MAX_SCENARIO_BYTES {
            return Ok(None);
        }
        let doc = strict_json(text)?;
        if doc.get("version").and_then(Json::as_u64) != Some(PIPELINE_VERSION) {
            return Ok(None);
        }
        PipelineScenario::from_json(&doc).map(Some)
    }

    pub fn from_json(doc: &Json) -> Result<PipelineScenario> {
        let obj = doc.as_object().ok_or_else(|| bad("the scenario must be a JSON object"))?;
        let allowed = ["version", "name", "description", "sources", "tables", "pipeline", "steps"];
        if let Some(k) = obj.keys().find(|k| !allowed.contains(&k.as_str())) {
            return Err(bad(format!("scenario: unknown key {} (expected one of: {})", Json::String(k.clone()), allowed.join(", "))));
        }
        if obj.get("version").and_then(Json::as_u64) != Some(PIPELINE_VERSION) {
            return Err(bad("scenario: a pipeline scenario has `\"version\": 2`"));
        }
        let pipeline = obj
            .get("pipeline")
            .and_then(Json::as_str)
            .ok_or_else(|| bad("scenario: `pipeline` (the pipeline's SQL text) is missing"))?
            .to_string();
        let steps_in = obj.get("steps").and_then(Json::as_array).ok_or_else(|| bad("scenario: `steps` must be a list"))?;
        // Version 1 reads everything but what version 2 adds to a step.
        let mut v1 = obj.clone();
        v1.insert("version".into(), json!(1));
        v1.remove("pipeline");
        v1.insert("query".into(), json!(""));
        let mut extras = Vec::with_capacity(steps_in.len());
        let mut v1_steps = Vec::with_capacity(steps_in.len());
        for (i, s) in steps_in.iter().enumerate() {
            let context = format!("step {i}");
            let mut s = s.clone();
            let mut extra = (None, None);
            if let Some(o) = s.as_object_mut() {
                if let Some(run) = o.get("run") {
                    extra.0 = Some(refresh_of(run, &context)?);
                    o.insert("run".into(), json!({}));
                }
                if o.contains_key("fail") {
                    if let Some(flow) = o.remove("flow") {
                        let flow = flow.as_str().ok_or_else(|| bad(format!("{context}: `flow` names a flow")))?;
                        extra.1 = Some(flow.to_string());
                    }
                }
            }
            extras.push(extra);
            v1_steps.push(s);
        }
        v1.insert("steps".into(), Json::Array(v1_steps));
        let mut base = Scenario::from_json(&Json::Object(v1))?;
        if let Some((name, _)) = base.kafka.first() {
            return Err(Error::unsupported(format!(
                "source {name} is a Kafka topic: the pipelines of this version read folders of files only"
            )));
        }
        if let Some(name) = base.auto_loader.iter().map(|(n, _, _)| n).chain(&base.rate).next() {
            return Err(Error::unsupported(format!(
                "source {name} is an Auto Loader folder or a rate source: the pipelines of this version read folders of files only"
            )));
        }
        let steps = std::mem::take(&mut base.steps)
            .into_iter()
            .zip(extras)
            .map(|(step, (refresh, flow))| match step {
                Step::Add { source, rows } => Ok(PipelineStep::Add { source, rows }),
                // Every `run` was rewritten to `{}` above, so no trigger step comes back.
                Step::Run | Step::Trigger(_) => Ok(PipelineStep::Run(refresh.unwrap_or(Refresh::None))),
                Step::Restart => Ok(PipelineStep::Restart),
                Step::Fail(point) => Ok(PipelineStep::Fail { point, flow }),
                // Only a Kafka source takes these, and a pipeline has none (refused above).
                Step::Produce { source, .. } | Step::Retain { source, .. } | Step::Land { source, .. } => {
                    Err(bad(format!("`{source}` is not a Kafka topic of this pipeline")))
                }
            })
            .collect::<Result<Vec<_>>>()?;
        Ok(PipelineScenario { base, pipeline, steps })
    }

    /// The scenario as a FORMAT.md version 2 document.
    pub fn to_json(&self) -> Json {
        let mut base = self.base.clone();
        base.steps = self
            .steps
            .iter()
            .map(|s| match s {
                PipelineStep::Add { source, rows } => Step::Add { source: source.clone(), rows: rows.clone() },
                PipelineStep::Run(_) => Step::Run,
                PipelineStep::Restart => Step::Restart,
                PipelineStep::Fail { point, .. } => Step::Fail(*point),
            })
            .collect();
        let mut doc = base.to_json();
        if let Some(o) = doc.as_object_mut() {
            o.insert("version".into(), json!(PIPELINE_VERSION));
            o.remove("query");
            o.remove("output_mode");
            o.insert("pipeline".into(), json!(self.pipeline));
            if let Some(Json::Array(steps)) = o.get_mut("steps") {
                for (s, step) in steps.iter_mut().zip(&self.steps) {
                    match step {
                        PipelineStep::Run(Refresh::Only(names)) => *s = json!({"run": {"full_refresh": names}}),
                        PipelineStep::Run(Refresh::All) => *s = json!({"run": {"full_refresh_all": true}}),
                        PipelineStep::Fail { point, flow: Some(f) } => *s = json!({"fail": point.as_str(), "flow": f}),
                        _ => {}
                    }
                }
            }
        }
        doc
    }
}

fn error_json(e: &PipelineError) -> Json {
    let mut m = Map::new();
    m.insert("kind".into(), json!(e.error.kind.code()));
    m.insert("message".into(), json!(e.error.message));
    if let Some(c) = e.error.spark_condition {
        m.insert("spark_condition".into(), json!(c));
    }
    m.insert("phase".into(), json!(e.error.phase.code()));
    if let Some(p) = e.error.position {
        m.insert("line".into(), json!(p.line));
        m.insert("column".into(), json!(p.column));
    }
    if let Some(d) = &e.dataset {
        m.insert("dataset".into(), json!(d));
    }
    Json::Object(m)
}

fn tables_json(p: &Pipeline) -> Json {
    Json::Object(p.tables().into_iter().map(|(n, rows)| (n, Json::Array(rows))).collect())
}

fn run_json(step: usize, p: &Pipeline, r: &UpdateReport) -> Json {
    let mut m = Map::new();
    m.insert("step".into(), json!(step));
    m.insert("tables".into(), tables_json(p));
    if !r.expectations.is_empty() {
        let e: Map<String, Json> = r
            .expectations
            .iter()
            .map(|(d, list)| {
                let per: Map<String, Json> = list
                    .iter()
                    .map(|(c, n, a)| (c.clone(), json!({"passed": n.passed, "failed": n.failed, "action": a.as_str()})))
                    .collect();
                (d.clone(), Json::Object(per))
            })
            .collect();
        m.insert("expectations".into(), Json::Object(e));
    }
    // Per-flow detail for the page: not compared.
    let flows: Map<String, Json> = r
        .flows
        .iter()
        .map(|(f, run)| {
            let batches: Vec<Json> = run
                .batches
                .iter()
                .map(|b| {
                    json!({
                        "batch_id": b.batch_id,
                        "watermark": b.watermark.map(crate::time::format_timestamp),
                        "dropped_late": b.dropped_late,
                        "state_rows": b.state_rows,
                        "rows": crate::scenario::rows_json(&b.rows),
                    })
                })
                .collect();
            let mut o = Map::new();
            o.insert("batches".into(), Json::Array(batches));
            if !run.failures.is_empty() {
                o.insert(
                    "failures".into(),
                    Json::Array(run.failures.iter().map(|(id, p)| json!({"batch_id": id, "point": p.as_str()})).collect()),
                );
            }
            (f.clone(), Json::Object(o))
        })
        .collect();
    if !flows.is_empty() {
        m.insert("flows".into(), Json::Object(flows));
    }
    Json::Object(m)
}

fn refused(name: &str, e: &PipelineError) -> RunOutput {
    RunOutput { document: json!({"name": name, "error": error_json(e)}), ok: false }
}

/// Starts the pipeline a scenario describes: its statements parsed, its graph built and every
/// flow analysed and started.
pub fn start(s: &PipelineScenario, storage: SharedStorage) -> Result<Pipeline, PipelineError> {
    let statements = parse::parse(&s.pipeline)?;
    let catalog = s.base.catalog()?;
    let table_schemas: Vec<(String, crate::types::Schema)> = catalog.tables.iter().map(|(n, s, _)| (n.clone(), s.clone())).collect();
    let graph = graph::build(&statements, &catalog.sources, &table_schemas)?;
    Pipeline::start(graph, catalog.sources, catalog.tables, storage)
}

/// Runs a pipeline scenario end to end and builds the runner output document.
pub fn run(s: &PipelineScenario) -> Result<RunOutput> {
    let name = &s.base.name;
    let mut p = match start(s, SharedStorage::memory()) {
        Ok(p) => p,
        Err(e) if e.error.kind == ErrorKind::InvalidInput || e.error.kind == ErrorKind::Internal => return Err(e.error),
        Err(e) => return Ok(refused(name, &e)),
    };
    let mut runs = Vec::new();
    let mut failure = None;
    for (i, step) in s.steps.iter().enumerate() {
        let result = match step {
            PipelineStep::Add { source, rows } => p.add_json(source, rows).map_err(|e| bad(format!("step {i}: {}", e.message)).into()),
            PipelineStep::Run(refresh) => p.update(refresh).map(|r| runs.push(run_json(i, &p, &r))),
            PipelineStep::Restart => p.restart().map_err(PipelineError::from),
            PipelineStep::Fail { point, flow } => {
                p.inject_failure(*point, flow.as_deref()).map_err(|e| bad(format!("step {i}: {}", e.message)).into())
            }
        };
        if let Err(e) = result {
            if e.error.kind == ErrorKind::InvalidInput {
                return Err(e.error);
            }
            if matches!(step, PipelineStep::Run(_)) {
                runs.push(run_json(i, &p, &UpdateReport::default()));
            }
            failure = Some(e);
            break;
        }
    }
    let mut doc = Map::new();
    doc.insert("name".into(), json!(name));
    let datasets: Map<String, Json> = p.datasets().into_iter().map(|(n, kind, cols)| (n, json!({"kind": kind, "columns": cols}))).collect();
    doc.insert("datasets".into(), Json::Object(datasets));
    doc.insert("runs".into(), Json::Array(runs));
    doc.insert("tables".into(), tables_json(&p));
    let ok = failure.is_none();
    if let Some(e) = failure {
        doc.insert("error".into(), error_json(&e));
    }
    Ok(RunOutput { document: Json::Object(doc), ok })
}
