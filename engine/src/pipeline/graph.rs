//! The pipeline's dataflow graph: its datasets, the flows that write them, what each reads,
//! an order to run them in, and the refusals Spark makes of a graph before any flow runs
//! (SPARK-SEMANTICS section 8.9), with Spark's error classes and FORMAT.md's kinds.

use sqlparser::ast;

use super::parse::{shift_error, shift_position, Constraint, DatasetKind, SqlText, Statement, StatementKind};
use crate::error::{Error, ErrorKind, Position, Result};
use crate::types::{DataType, Schema};

/// A name a query reads, `STREAM` or not, and where (in the whole text).
#[derive(Debug, Clone, PartialEq)]
pub struct Reference {
    pub name: String,
    pub stream: bool,
    pub at: Position,
}

/// What a name read by a query is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Target {
    Dataset(usize),
    Source(usize),
    Table(usize),
    /// Not known: the analyser reports it, with Spark's message and the position.
    Unknown,
}

#[derive(Debug, Clone)]
pub struct Dataset {
    pub name: String,
    pub kind: DatasetKind,
    pub at: Position,
    pub columns: Option<Vec<(String, DataType)>>,
    pub constraints: Vec<Constraint>,
    /// The flows that write it, in definition order (a view's is its query).
    pub flows: Vec<usize>,
    /// A view's query reads streams.
    pub streaming: bool,
}

impl Dataset {
    pub fn is_view(&self) -> bool {
        matches!(self.kind, DatasetKind::View { .. })
    }

    pub fn published(&self) -> bool {
        !matches!(self.kind, DatasetKind::View { temporary: true })
    }
}

#[derive(Debug, Clone)]
pub struct Flow {
    pub name: String,
    pub target: usize,
    pub query: SqlText,
    pub at: Position,
    pub refs: Vec<(Reference, Target)>,
}

#[derive(Debug, Clone)]
pub struct Graph {
    pub datasets: Vec<Dataset>,
    pub flows: Vec<Flow>,
    /// Every dataset (views too), each after what it reads; ties in definition order.
    pub order: Vec<usize>,
    /// `SET key = value` statements, in order.
    pub settings: Vec<(String, String)>,
}

/// An error about dataset `name`: the runner's error document names it.
#[derive(Debug, Clone, PartialEq)]
pub struct PipelineError {
    pub error: Error,
    pub dataset: Option<String>,
}

impl PipelineError {
    pub fn new(error: Error, dataset: Option<&str>) -> Self {
        PipelineError { error, dataset: dataset.map(str::to_string) }
    }
}

impl From<Error> for PipelineError {
    fn from(error: Error) -> Self {
        PipelineError { error, dataset: None }
    }
}

/// How Spark names a dataset's kind in its duplicate-identifier message.
fn element(kind: DatasetKind) -> &'static str {
    match kind {
        DatasetKind::View { .. } => "VIEW",
        _ => "TABLE",
    }
}

pub(crate) fn pipeline_error(condition: &'static str, message: String, at: Position) -> Error {
    Error::new(ErrorKind::Pipeline, message).with_condition(condition).at(Some(at))
}

/// A graph Spark refuses, with its condition, where, and the dataset it names.
fn refused(condition: &'static str, message: String, at: Position, dataset: Option<&str>) -> PipelineError {
    PipelineError::new(pipeline_error(condition, message, at), dataset)
}

/// Every table name `query` reads outside its own CTEs, in text order.
pub fn references(query: &SqlText) -> Result<Vec<Reference>> {
    let (q, prepared) = crate::sql::parse(&query.sql).map_err(|e| shift_error(e, query.at, query.at))?;
    let mut out = Vec::new();
    walk_query(&q, &mut Vec::new(), &prepared.stream_refs, &mut out);
    crate::sql::limits::dismantle_query(q);
    Ok(out
        .into_iter()
        .map(|(name, stream, at)| Reference { name, stream, at: at.map_or(query.at, |p| shift_position(p, query.at)) })
        .collect())
}

type Found = Vec<(String, bool, Option<Position>)>;

fn walk_query(q: &ast::Query, ctes: &mut Vec<String>, streams: &[Position], out: &mut Found) {
    let depth = ctes.len();
    if let Some(with) = &q.with {
        for cte in &with.cte_tables {
            walk_query(&cte.query, ctes, streams, out);
            ctes.push(cte.alias.name.value.to_ascii_lowercase());
        }
    }
    walk_set(&q.body, ctes, streams, out);
    ctes.truncate(depth);
}

fn walk_set(s: &ast::SetExpr, ctes: &mut Vec<String>, streams: &[Position], out: &mut Found) {
    match s {
        ast::SetExpr::Select(sel) => {
            for twj in &sel.from {
                walk_joins(twj, ctes, streams, out);
            }
        }
        ast::SetExpr::Query(q) => walk_query(q, ctes, streams, out),
        ast::SetExpr::SetOperation { left, right, .. } => {
            walk_set(left, ctes, streams, out);
            walk_set(right, ctes, streams, out);
        }
        _ => {}
    }
}

fn walk_joins(t: &ast::TableWithJoins, ctes: &mut Vec<String>, streams: &[Position], out: &mut Found) {
    walk_factor(&t.relation, ctes, streams, out);
    for j in &t.joins {
        walk_factor(&j.relation, ctes, streams, out);
    }
}

fn walk_factor(f: &ast::TableFactor, ctes: &mut Vec<String>, streams: &[Position], out: &mut Found) {
    match f {
        ast::TableFactor::Table { name, .. } => {
            if let Some(ast::ObjectNamePart::Identifier(i)) = name.0.last() {
                if !ctes.contains(&i.value.to_ascii_lowercase()) {
                    let at = (i.span.start.line > 0).then_some(Position { line: i.span.start.line, column: i.span.start.column });
                    out.push((i.value.clone(), at.is_some_and(|p| streams.contains(&p)), at));
                }
            }
        }
        ast::TableFactor::Derived { subquery, .. } => walk_query(subquery, ctes, streams, out),
        ast::TableFactor::NestedJoin { table_with_joins, .. } => walk_joins(table_with_joins, ctes, streams, out),
        _ => {}
    }
}

/// Builds the graph of `statements` over the scenario's sources and static tables, refusing
/// what Spark refuses of a graph.
pub fn build(statements: &[Statement], sources: &[(String, Schema)], tables: &[(String, Schema)]) -> Result<Graph, PipelineError> {
    let mut datasets: Vec<Dataset> = Vec::new();
    let mut flows: Vec<Flow> = Vec::new();
    let mut settings = Vec::new();
    let mut pending_flows = Vec::new();
    for s in statements {
        match &s.kind {
            StatementKind::Set { key, value } => settings.push((key.clone(), value.clone())),
            StatementKind::Flow { target, target_at } => pending_flows.push((s, target.clone(), *target_at)),
            StatementKind::Dataset(kind) => {
                if let Some(d) = datasets.iter().find(|d| d.name.eq_ignore_ascii_case(&s.name)) {
                    return Err(refused(
                        "PIPELINE_DUPLICATE_IDENTIFIERS.OUTPUT",
                        format!(
                            "[PIPELINE_DUPLICATE_IDENTIFIERS.OUTPUT] A duplicate identifier was found for elements registered in the pipeline's dataflow graph. Attempted to register a {} with identifier `{}`, but a {} has already been registered with that identifier. Please ensure all outputs created within this pipeline have unique identifiers. SQLSTATE: 42710 (defined at line {} and again at line {})",
                            element(*kind), s.name, element(d.kind), d.at.line, s.name_at.line
                        ),
                        s.name_at,
                        Some(&s.name),
                    ));
                }
                let external =
                    sources.iter().map(|(n, _)| n).chain(tables.iter().map(|(n, _)| n)).find(|n| n.eq_ignore_ascii_case(&s.name));
                if let Some(n) = external {
                    return Err(refused(
                        "PIPELINE_DUPLICATE_IDENTIFIERS.OUTPUT",
                        format!("[PIPELINE_DUPLICATE_IDENTIFIERS.OUTPUT] `{}` is the name of the scenario's source or table `{n}`: a dataset needs a name of its own. SQLSTATE: 42710", s.name),
                        s.name_at,
                        Some(&s.name),
                    ));
                }
                let index = datasets.len();
                let mut d = Dataset {
                    name: s.name.clone(),
                    kind: *kind,
                    at: s.name_at,
                    columns: s.columns.clone(),
                    constraints: s.constraints.clone(),
                    flows: Vec::new(),
                    streaming: false,
                };
                if let Some(q) = &s.query {
                    d.flows.push(flows.len());
                    flows.push(Flow { name: s.name.clone(), target: index, query: q.clone(), at: s.name_at, refs: Vec::new() });
                }
                datasets.push(d);
            }
        }
    }
    for (s, target, target_at) in pending_flows {
        let Some(query) = &s.query else { continue };
        if flows.iter().any(|f| f.name.eq_ignore_ascii_case(&s.name)) {
            return Err(refused(
                "PIPELINE_DUPLICATE_IDENTIFIERS.FLOW",
                format!("[PIPELINE_DUPLICATE_IDENTIFIERS.FLOW] A duplicate identifier was found for elements registered in the pipeline's dataflow graph. Identifier: `{}`. Element type: flow. SQLSTATE: 42710", s.name),
                s.name_at,
                Some(&target),
            ));
        }
        let index = match datasets.iter().position(|d| d.name.eq_ignore_ascii_case(&target)) {
            // A materialized view with a second flow is refused below, naming all of them.
            Some(i) if !datasets[i].is_view() => i,
            _ => {
                return Err(PipelineError::new(
                    Error::new(
                        ErrorKind::Pipeline,
                        format!("Unsupported destination {target} in flow: {} at transformDownNodes (a flow writes into a streaming table the pipeline declares: CREATE STREAMING TABLE {target})", s.name),
                    )
                    .at(Some(target_at)),
                    Some(&s.name),
                ))
            }
        };
        datasets[index].flows.push(flows.len());
        flows.push(Flow { name: s.name.clone(), target: index, query: query.clone(), at: s.name_at, refs: Vec::new() });
    }
    if !datasets.iter().any(Dataset::published) {
        let at = statements.first().map_or(Position { line: 1, column: 1 }, |s| s.at);
        return Err(refused(
            "RUN_EMPTY_PIPELINE",
            "[RUN_EMPTY_PIPELINE] Pipelines are expected to have at least one non-temporary dataset defined (tables, persisted views) but no non-temporary datasets were found in your pipeline. SQLSTATE: 42617".into(),
            at,
            None,
        ));
    }
    for d in &datasets {
        if d.kind == DatasetKind::MaterializedView && d.flows.len() > 1 {
            let mut names: Vec<&str> = d.flows.iter().map(|&f| flows[f].name.as_str()).collect();
            names.sort_unstable();
            let second = flows[d.flows[1]].at;
            return Err(refused(
                "MATERIALIZED_VIEW_WITH_MULTIPLE_QUERIES",
                format!("[MATERIALIZED_VIEW_WITH_MULTIPLE_QUERIES] Invalid destination {} with multiple flows: {}. SQLSTATE: 42000 (only a streaming table takes flows)", d.name, names.join(", ")),
                second,
                Some(&d.name),
            ));
        }
        if d.flows.is_empty() {
            return Err(refused(
                "PIPELINE_DATASET_WITHOUT_FLOW",
                format!("[PIPELINE_DATASET_WITHOUT_FLOW] Pipeline dataset `{}` does not have any defined flows. Please attach a query with the dataset's definition, or explicitly define at least one flow that writes to the dataset. SQLSTATE: 0A000", d.name),
                d.at,
                Some(&d.name),
            ));
        }
    }
    // What each flow reads.
    for f in &mut flows {
        let dataset = &datasets[f.target].name;
        let refs = references(&f.query).map_err(|e| PipelineError::new(e, Some(dataset)))?;
        f.refs = refs
            .into_iter()
            .map(|r| {
                let target = if let Some(i) = datasets.iter().position(|d| d.name.eq_ignore_ascii_case(&r.name)) {
                    Target::Dataset(i)
                } else if let Some(i) = sources.iter().position(|(n, _)| n.eq_ignore_ascii_case(&r.name)) {
                    Target::Source(i)
                } else if let Some(i) = tables.iter().position(|(n, _)| n.eq_ignore_ascii_case(&r.name)) {
                    Target::Table(i)
                } else {
                    Target::Unknown
                };
                (r, target)
            })
            .collect();
    }
    let order = order(&datasets, &flows)?;
    let mut g = Graph { datasets, flows, order, settings };
    check_relation_types(&mut g)?;
    Ok(g)
}

/// The datasets each after those it reads (ties in definition order), or the cycle.
fn order(datasets: &[Dataset], flows: &[Flow]) -> Result<Vec<usize>, PipelineError> {
    let n = datasets.len();
    let deps: Vec<Vec<usize>> = (0..n)
        .map(|d| {
            let mut v: Vec<usize> = datasets[d]
                .flows
                .iter()
                .flat_map(|&f| flows[f].refs.iter().filter_map(|(_, t)| if let Target::Dataset(u) = t { Some(*u) } else { None }))
                .collect();
            v.sort_unstable();
            v.dedup();
            v
        })
        .collect();
    let mut done = vec![false; n];
    let mut out = Vec::with_capacity(n);
    while out.len() < n {
        let next = (0..n).find(|&d| !done[d] && deps[d].iter().all(|&u| done[u]));
        match next {
            Some(d) => {
                done[d] = true;
                out.push(d);
            }
            None => {
                // Walk back along unfinished dependencies until a dataset repeats: that is a cycle.
                let mut path = vec![(0..n).find(|&d| !done[d]).unwrap_or(0)];
                loop {
                    let last = path[path.len() - 1];
                    let Some(&u) = deps[last].iter().find(|&&u| !done[u]) else { break };
                    if let Some(k) = path.iter().position(|&p| p == u) {
                        path.drain(..k);
                        path.push(u);
                        break;
                    }
                    path.push(u);
                }
                // As Spark reports it: the first dataset of the cycle, and the one it reads there.
                path.pop();
                let k = (0..path.len()).min_by_key(|&k| path[k]).unwrap_or(0);
                let (up, down) = (path[k], path[(k + 1) % path.len()]);
                let (u, w) = (&datasets[up].name, &datasets[down].name);
                return Err(PipelineError::new(
                    Error::new(
                        ErrorKind::Pipeline,
                        format!("The downstream table '{w}' is referenced when creating the upstream table or view '{u}'. Circular dependencies are not supported in a pipeline. Please remove the dependency between '{u}' and '{w}'."),
                    )
                    .at(Some(datasets[up].at)),
                    Some(w),
                ));
            }
        }
    }
    Ok(out)
}

/// Streaming tables read streams, materialized views batches, and views are read as what
/// they are: SPARK-SEMANTICS 8.5 and 8.9.
fn check_relation_types(g: &mut Graph) -> Result<(), PipelineError> {
    for &d in &g.order.clone() {
        let mut streaming = false;
        for &f in &g.datasets[d].flows {
            for (r, t) in &g.flows[f].refs {
                if let Target::Dataset(v) = *t {
                    let view = &g.datasets[v];
                    if view.is_view() && r.stream && !view.streaming {
                        return Err(refused(
                            "INCOMPATIBLE_BATCH_VIEW_READ",
                            format!("[INCOMPATIBLE_BATCH_VIEW_READ] View `{}` is a batch view and must be referenced using SparkSession#read. This check can be disabled by setting Spark conf pipelines.incompatibleViewCheck.enabled = false. SQLSTATE: 42000 (read it without STREAM)", view.name),
                            r.at,
                            Some(&g.datasets[d].name),
                        ));
                    }
                    if view.is_view() && !r.stream && view.streaming {
                        return Err(refused(
                            "INCOMPATIBLE_STREAMING_VIEW_READ",
                            format!("[INCOMPATIBLE_STREAMING_VIEW_READ] View `{}` is a streaming view and must be referenced using SparkSession#readStream. This check can be disabled by setting Spark conf pipelines.incompatibleViewCheck.enabled = false. SQLSTATE: 42000 (read it as STREAM {})", view.name, view.name),
                            r.at,
                            Some(&g.datasets[d].name),
                        ));
                    }
                }
                streaming |= r.stream;
            }
            let ds = &g.datasets[d];
            let flow = &g.flows[f];
            match ds.kind {
                DatasetKind::StreamingTable if !flow.refs.iter().any(|(r, _)| r.stream) => {
                    return Err(refused(
                        "INVALID_FLOW_QUERY_TYPE.BATCH_RELATION_FOR_STREAMING_TABLE",
                        format!("[INVALID_FLOW_QUERY_TYPE.BATCH_RELATION_FOR_STREAMING_TABLE] Flow `{}` returns an invalid relation type. Streaming tables may only be defined by streaming relations, but the flow `{}` attempts to write a batch relation to the streaming table `{}`. Consider using the STREAM operator in Spark-SQL to convert the batch relation into a streaming relation, or populating the streaming table with an append once-flow instead. SQLSTATE: 42000", flow.name, flow.name, ds.name),
                        flow.at,
                        Some(&ds.name),
                    ));
                }
                DatasetKind::MaterializedView if flow.refs.iter().any(|(r, _)| r.stream) => {
                    return Err(refused(
                        "INVALID_FLOW_QUERY_TYPE.STREAMING_RELATION_FOR_MATERIALIZED_VIEW",
                        format!("[INVALID_FLOW_QUERY_TYPE.STREAMING_RELATION_FOR_MATERIALIZED_VIEW] Flow `{}` returns an invalid relation type. Materialized views may only be defined by a batch relation, but the flow `{}` attempts to write a streaming relation to the materialized view `{}`. SQLSTATE: 42000 (read its inputs without STREAM)", flow.name, flow.name, ds.name),
                        flow.at,
                        Some(&ds.name),
                    ));
                }
                _ => {}
            }
        }
        g.datasets[d].streaming = streaming;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::super::parse::parse;
    use super::*;
    use crate::types::Column;
    #[cfg(target_arch = "wasm32")]
    use wasm_bindgen_test::wasm_bindgen_test as test;

    fn events() -> Vec<(String, Schema)> {
        vec![("events".into(), Schema::new(vec![Column { name: "id".into(), data_type: DataType::String }]))]
    }

    fn graph(text: &str) -> Result<Graph, PipelineError> {
        build(&parse(text).map_err(PipelineError::from)?, &events(), &[])
    }

    #[test]
    fn references_know_stream_reads_and_skip_ctes() {
        let q = SqlText {
            sql: "WITH c AS (SELECT * FROM STREAM(events)) SELECT * FROM c JOIN t ON c.id = t.id".into(),
            at: Position { line: 2, column: 5 },
        };
        let r = references(&q).unwrap();
        assert_eq!(r.iter().map(|r| (r.name.as_str(), r.stream)).collect::<Vec<_>>(), vec![("events", true), ("t", false)]);
        assert_eq!(r[1].at, Position { line: 2, column: 5 + 62 });
    }

    #[test]
    fn the_order_puts_readers_after_what_they_read_ties_in_definition_order() {
        let g = graph("CREATE MATERIALIZED VIEW m AS SELECT count(*) AS n FROM s; CREATE STREAMING TABLE s AS SELECT * FROM STREAM events; CREATE STREAMING TABLE b AS SELECT * FROM STREAM events").unwrap();
        let names: Vec<&str> = g.order.iter().map(|&d| g.datasets[d].name.as_str()).collect();
        assert_eq!(names, vec!["s", "m", "b"]);
    }

    #[test]
    fn a_cycle_is_refused_naming_it() {
        let e =
            graph("CREATE STREAMING TABLE a AS SELECT * FROM STREAM b; CREATE STREAMING TABLE b AS SELECT * FROM STREAM a").unwrap_err();
        assert_eq!(e.error.kind, ErrorKind::Pipeline);
        assert!(e.error.message.contains("Circular dependencies are not supported in a pipeline"), "{}", e.error.message);
        assert!(
            e.error.message.contains("The downstream table 'b' is referenced when creating the upstream table or view 'a'"),
            "{}",
            e.error.message
        );
        assert_eq!(e.dataset.as_deref(), Some("b"));
    }
}
