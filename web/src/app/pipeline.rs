//! Pipeline mode: the pipeline graph left to right (sources, then each dataset one layer after
//! its deepest input: bronze -> silver -> gold), the selected node's table and versions, the
//! update and break-it buttons, and the event log.

use std::rc::Rc;

use web_sys::{HtmlInputElement, HtmlSelectElement};
use yew::prelude::*;

use crate::protocol::{PipelineInfo, PipelineNode, Request, Snapshot};

#[derive(Properties, PartialEq)]
pub struct Props {
    pub snapshot: Rc<Snapshot>,
    pub send: Callback<Request>,
}

const NODE_W: i32 = 180;
const NODE_H: i32 = 84;
const GAP_X: i32 = 70;
const GAP_Y: i32 = 22;

/// Each node's top-left corner: its layer's column, its place in that layer's row.
fn layout(p: &PipelineInfo) -> Vec<(i32, i32)> {
    let mut seen = std::collections::HashMap::<u32, i32>::new();
    p.nodes
        .iter()
        .map(|n| {
            let k = seen.entry(n.layer).or_insert(0);
            let at = (n.layer as i32 * (NODE_W + GAP_X) + 8, *k * (NODE_H + GAP_Y) + 8);
            *k += 1;
            at
        })
        .collect()
}

fn kind_label(kind: &str) -> &'static str {
    match kind {
        "source" => "source",
        "table" => "static table",
        "streaming_table" => "streaming table",
        "materialized_view" => "materialized view",
        "temporary_view" => "temporary view",
        _ => "view",
    }
}

// Everything is SVG with attributes: the page's CSP refuses inline `style` attributes.
fn node_box(n: &PipelineNode, at: (i32, i32), selected: bool, send: &Callback<Request>) -> Html {
    let onclick = send.reform({
        let name = n.name.clone();
        move |_: MouseEvent| Request::PipelineSelect { node: name.clone() }
    });
    let io = match (n.rows_in, n.rows_out) {
        (Some(i), Some(o)) => format!("last update: {i} in, {o} out"),
        _ if n.layer == 0 => String::new(),
        _ => "last update: did not run".into(),
    };
    let failed: u64 = n.expectations.iter().map(|e| e.failed).sum();
    let expectations = n.expectations.iter().map(|e| format!("{}: {}✓ {}✗", e.name, e.passed, e.failed)).collect::<Vec<_>>().join(" · ");
    let checkpoints = n.flows.iter().map(|f| format!("{}: checkpoint {}", f.name, f.checkpoint)).collect::<Vec<_>>().join("\n");
    html! {
        <g id={format!("node-{}", n.name)} class={classes!("pipeline-node", n.kind.clone(), selected.then_some("selected"))} role="button" tabindex="0"
            data-rows={n.rows.to_string()} transform={format!("translate({},{})", at.0, at.1)} {onclick}>
            <title>{ format!("{} ({})\n{checkpoints}", n.name, kind_label(&n.kind)) }</title>
            <rect class="box" width={NODE_W.to_string()} height={NODE_H.to_string()} rx="6" />
            <rect class="stripe" width="5" height={NODE_H.to_string()} rx="2" />
            <text class="name" x="12" y="19">{ &n.name }</text>
            <text class="kind" x="12" y="35">{ kind_label(&n.kind) }</text>
            <text class="rows" x="12" y="51">{ rows_noun(n.rows) }</text>
            <text class="io" x="12" y="66">{ io }</text>
            if !expectations.is_empty() {
                <text class={classes!("expectations", (failed > 0).then_some("failing"))} x="12" y="80">{ expectations }</text>
            }
        </g>
    }
}

fn graph(p: &PipelineInfo, send: &Callback<Request>) -> Html {
    let at = layout(p);
    let width = at.iter().map(|a| a.0 + NODE_W + 16).max().unwrap_or(200);
    let height = at.iter().map(|a| a.1 + NODE_H + 16).max().unwrap_or(100);
    let pos = |name: &str| p.nodes.iter().position(|n| n.name == name).map(|k| at[k]);
    let arrows = p.edges.iter().filter_map(|e| {
        let (from, to) = (pos(&e.from)?, pos(&e.to)?);
        let (x1, y1) = (from.0 + NODE_W, from.1 + NODE_H / 2);
        let (x2, y2) = (to.0 - 4, to.1 + NODE_H / 2);
        let mid = (x1 + x2) / 2;
        Some(html! {
            <path class={classes!("flow-edge", (!e.stream).then_some("batch"))} data-flow={e.flow.clone()}
                d={format!("M{x1},{y1} C{mid},{y1} {mid},{y2} {x2},{y2}")} marker-end="url(#arrow)">
                <title>{ format!("{} {} {} (flow {})", e.from, if e.stream { "streams into" } else { "is read whole by" }, e.to, e.flow) }</title>
            </path>
        })
    });
    html! {
        <div class="pipeline-graph-scroll">
            <svg id="pipeline-graph" class="pipeline-graph" width={width.to_string()} height={height.to_string()}
                viewBox={format!("0 0 {width} {height}")} role="group" aria-label="The pipeline graph">
                <defs><marker id="arrow" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="7" markerHeight="7" orient="auto-start-reverse">
                    <path d="M0,0 L10,5 L0,10 z" /></marker></defs>
                { for arrows }
                { for p.nodes.iter().zip(&at).map(|(n, a)| node_box(n, *a, p.selected.as_deref() == Some(n.name.as_str()), send)) }
            </svg>
        </div>
    }
}

fn cell(v: &serde_json::Value) -> String {
    match v {
        serde_json::Value::String(s) => s.clone(),
        serde_json::Value::Null => "NULL".into(),
        other => other.to_string(),
    }
}

fn rows_table(id: &str, columns: &[String], rows: &[Vec<serde_json::Value>]) -> Html {
    html! {
        <table id={id.to_string()} class="rows">
            <thead><tr>{ for columns.iter().map(|c| html! { <th>{ c }</th> }) }</tr></thead>
            <tbody>{ for rows.iter().map(|r| html! { <tr>{ for r.iter().map(|v| html! { <td>{ cell(v) }</td> }) }</tr> }) }</tbody>
        </table>
    }
}

const POINTS: [&str; 4] = ["before_offsets_write", "after_offsets_write", "after_state_write", "after_sink_write"];

#[function_component(PipelineView)]
pub fn pipeline_view(props: &Props) -> Html {
    let chosen_flow = use_state(String::new);
    let chosen_point = use_state(|| "after_sink_write".to_string());
    let log_sql = use_state(|| "SELECT event_type, count(*) AS n FROM event_log() GROUP BY event_type".to_string());
    let Some(p) = props.snapshot.pipeline.clone() else { return Html::default() };
    let send = props.send.clone();
    let selected = p.selected.clone().and_then(|s| p.nodes.iter().find(|n| n.name == s).cloned());
    let streaming_flows: Vec<String> = p.nodes.iter().flat_map(|n| n.flows.iter().map(|f| f.name.clone())).collect();
    // The flow to break: the one chosen, else the selected node's, else the first.
    let flow = Some((*chosen_flow).clone())
        .filter(|f| streaming_flows.contains(f))
        .or_else(|| selected.as_ref().and_then(|n| n.flows.first().map(|f| f.name.clone())))
        .or_else(|| streaming_flows.first().cloned())
        .unwrap_or_default();
    let refreshable = selected.as_ref().filter(|n| n.layer > 0 && n.kind != "temporary_view").map(|n| n.name.clone());
    let run = send.reform(|_: MouseEvent| Request::PipelineUpdate { full_refresh: vec![] });
    let refresh = {
        let name = refreshable.clone().unwrap_or_default();
        send.reform(move |_: MouseEvent| Request::PipelineUpdate { full_refresh: vec![name.clone()] })
    };
    let break_flow = {
        let (flow, point) = (flow.clone(), (*chosen_point).clone());
        send.reform(move |_: MouseEvent| Request::PipelineFail { flow: flow.clone(), point: point.clone() })
    };
    let lose = {
        let flow = flow.clone();
        send.reform(move |_: MouseEvent| Request::PipelineLoseCheckpoint { flow: flow.clone() })
    };
    let restart = send.reform(|_: MouseEvent| Request::Restart);
    let on_flow = {
        let chosen_flow = chosen_flow.clone();
        Callback::from(move |e: Event| chosen_flow.set(e.target_unchecked_into::<HtmlSelectElement>().value()))
    };
    let on_point = {
        let chosen_point = chosen_point.clone();
        Callback::from(move |e: Event| chosen_point.set(e.target_unchecked_into::<HtmlSelectElement>().value()))
    };
    let on_log_sql = {
        let log_sql = log_sql.clone();
        Callback::from(move |e: InputEvent| log_sql.set(e.target_unchecked_into::<HtmlInputElement>().value()))
    };
    let query_log = {
        let sql = (*log_sql).clone();
        send.reform(move |_: MouseEvent| Request::PipelineQueryLog { sql: sql.clone() })
    };
    let error = props.snapshot.error.clone().or(p.refusal.clone());
    html! {
        <main class="pipeline-mode">
            <section class="panel pipeline-panel">
                <h2>{ format!("Pipeline: {}", p.name) }</h2>
                <p class="scenario-description">{ &p.description }</p>
                <p class="muted">{"Spark Declarative Pipelines: each streaming table's flow is a streaming query with its own checkpoint; a materialized view is recomputed on every update. Several flows into one table keep every row here (Delta's behaviour; Apache Spark 4.3 was seen to lose batches there). Expectations and the event log are Databricks extensions."}</p>
                <div class="row pipeline-actions">
                    <button id="pipeline-run" class="primary" onclick={run}
                        title="spark-pipelines run: every flow once in dependency order, available-now">
                        { if p.queued_updates > 0 { format!("Run update ({} queued in the file)", p.queued_updates) } else { "Run update".to_string() } }
                    </button>
                    <button id="pipeline-refresh" disabled={refreshable.is_none()} onclick={refresh}
                        title="--full-refresh: clear the selected dataset and its checkpoints, recompute it from all of its inputs">
                        { format!("Full refresh {}", refreshable.clone().unwrap_or_else(|| "(select a dataset)".into())) }
                    </button>
                    <label for="pipeline-flow">{"Flow "}</label>
                    <select id="pipeline-flow" onchange={on_flow}>
                        { for streaming_flows.iter().map(|f| html! { <option value={f.clone()} selected={*f == flow}>{ f }</option> }) }
                    </select>
                    <select id="pipeline-point" onchange={on_point} title="Where the flow's next micro-batch crashes">
                        { for POINTS.iter().map(|pt| html! { <option value={*pt} selected={*pt == chosen_point.as_str()}>{ *pt }</option> }) }
                    </select>
                    <button id="pipeline-break" disabled={flow.is_empty()} onclick={break_flow}>{"Break flow"}</button>
                    <button id="pipeline-lose" disabled={flow.is_empty()} onclick={lose}
                        title="Delete this flow's checkpoint: it reads its input from the beginning again and duplicates downstream">{"Lose checkpoint"}</button>
                    <button id="pipeline-restart" onclick={restart}>{"Restart"}</button>
                </div>
                <p id="pipeline-status" class="muted" role="status">
                    { format!("{} {} run", p.updates, if p.updates == 1 { "update" } else { "updates" }) }
                    { p.armed.as_ref().map(|a| format!(" · crash armed: {a}")).unwrap_or_default() }
                </p>
                if let Some(e) = error {
                    <div id="pipeline-error" class="error" role="alert">
                        <div class="kind">{ &e.kind }</div>
                        if let (Some(l), Some(c)) = (e.line, e.column) { <div class="where">{ format!("Line {l}, column {c}") }</div> }
                        <div class="message">{ &e.message }</div>
                    </div>
                }
                { graph(&p, &send) }
            </section>
            <section class="panel pipeline-table-panel">
                if let Some(t) = p.table.clone() {
                    <h2>{ format!("{} ({})", t.name, rows_noun(t.total)) }</h2>
                    if let Some(n) = selected.as_ref() {
                        { for n.flows.iter().map(|f| html! {
                            <p class="flow-info muted">{ format!("flow {}: checkpoint {}; last update's micro-batches {:?}{}", f.name, f.checkpoint, f.batches,
                                if f.recovered.is_empty() { String::new() } else { format!("; recovered from a crash at {}", f.recovered.join(", ")) }) }</p>
                        }) }
                    }
                    { rows_table("pipeline-rows", &t.columns, &t.rows) }
                    if !t.versions.is_empty() {
                        <h3>{"Versions"}</h3>
                        <table id="pipeline-versions" class="rows">
                            <thead><tr><th>{"version"}</th><th>{"operation"}</th><th>{"flow"}</th><th>{"rows added"}</th><th>{"rows after"}</th></tr></thead>
                            <tbody>{ for t.versions.iter().rev().map(|v| html! {
                                <tr><td>{ v.version }</td><td>{ &v.operation }</td><td>{ v.flow.clone().unwrap_or_default() }</td><td>{ v.rows_added }</td><td>{ v.rows_total }</td></tr>
                            }) }</tbody>
                        </table>
                    }
                } else {
                    <p class="muted">{"Click a node to see its table."}</p>
                }
                <h3>{"Pipeline SQL"}</h3>
                <p class="muted">{"Read only in this version: load another example or a version 2 file to change it."}</p>
                <pre id="pipeline-sql" class="pipeline-sql">{ &p.sql }</pre>
            </section>
            <section class="panel pipeline-log-panel">
                <h2>{ format!("Event log ({} events)", p.event_log_total) }</h2>
                <p class="muted">{"Databricks' pipeline event log (open-source Spark prints progress instead); a batch query reads it as event_log()."}</p>
                <div class="row">
                    <input id="log-sql" class="log-sql" value={(*log_sql).clone()} oninput={on_log_sql} />
                    <button id="log-run" onclick={query_log}>{"Query"}</button>
                </div>
                if let Some(q) = p.log_query.clone() {
                    if let Some(e) = q.error.clone() { <div id="log-error" class="error" role="alert">{ e.message }</div> }
                    else { { rows_table("log-result", &q.columns, &q.rows) } }
                }
                { rows_table("event-log", &p.event_log_columns, &p.event_log.iter().rev().cloned().collect::<Vec<_>>()) }
            </section>
        </main>
    }
}

/// "1 row", "2 rows".
fn rows_noun(n: u64) -> String {
    if n == 1 {
        "1 row".into()
    } else {
        format!("{n} rows")
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn one_row_is_singular() {
        assert_eq!(super::rows_noun(1), "1 row");
        assert_eq!(super::rows_noun(0), "0 rows");
        assert_eq!(super::rows_noun(12), "12 rows");
    }
}
