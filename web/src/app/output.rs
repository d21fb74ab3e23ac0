//! The sink's content, each micro-batch's progress, the dead-letter output and the plan.

use serde_json::Value as Json;
use yew::prelude::*;

use web_sys::HtmlInputElement;

use crate::protocol::{FilePartInfo, Request, Snapshot, TableQueryInfo};

#[derive(Properties, PartialEq)]
pub struct Props {
    pub snapshot: std::rc::Rc<Snapshot>,
    pub send: Callback<Request>,
}

pub use crate::protocol::cell;

#[cfg(test)]
mod tests {
    use super::{cell, file_writes};
    use crate::protocol::{FilePartInfo, Snapshot};
    use serde_json::json;

    #[test]
    fn the_file_is_listed_write_by_write_with_replays_marked() {
        let part = |part, batch_id, rows| FilePartInfo { part, batch_id, rows };
        let row = |k: i64| vec![json!(k)];
        // Batch 1 was written twice (a crash after the file write); only the newest 4 rows came.
        let s = Snapshot {
            file_parts: vec![part(0, 0, 2), part(1, 1, 2), part(2, 1, 2)],
            file_rows: vec![row(2), row(3), row(2), row(3)],
            file_total: 6,
            ..Snapshot::default()
        };
        let writes = file_writes(&s);
        let shape: Vec<(u64, bool, usize)> = writes.iter().map(|(p, again, rows)| (p.part, *again, rows.len())).collect();
        assert_eq!(shape, vec![(1, false, 2), (2, true, 2)], "the oldest write's rows are not in the snapshot");
        assert_eq!(writes[1].2, &[row(2), row(3)][..]);
    }

    #[test]
    fn windows_read_as_intervals_and_nulls_as_null() {
        assert_eq!(
            cell(&json!({"start": "2026-01-01 00:00:00", "end": "2026-01-01 00:00:10"})),
            "[2026-01-01 00:00:00, 2026-01-01 00:00:10)"
        );
        assert_eq!(cell(&json!(null)), "NULL");
        assert_eq!(cell(&json!(["a", null])), "[a, NULL]");
    }
}

#[derive(Properties, PartialEq)]
struct TableQueryProps {
    query: Option<TableQueryInfo>,
    send: Callback<Request>,
}

/// A batch query over the table: time travel with `VERSION AS OF`.
#[function_component(TableQuery)]
fn table_query(props: &TableQueryProps) -> Html {
    let text = use_state(|| "SELECT * FROM sink VERSION AS OF 0".to_string());
    {
        // A click in the history fills the box with the query it ran.
        let text = text.clone();
        use_effect_with(props.query.as_ref().map(|q| q.sql.clone()), move |sql| {
            if let Some(sql) = sql {
                text.set(sql.clone());
            }
        });
    }
    let oninput = {
        let text = text.clone();
        Callback::from(move |e: InputEvent| text.set(e.target_unchecked_into::<HtmlInputElement>().value()))
    };
    let run = {
        let (text, send) = (text.clone(), props.send.clone());
        Callback::from(move |e: SubmitEvent| {
            e.prevent_default();
            send.emit(Request::QueryTable { sql: (*text).clone() });
        })
    };
    html! {
        <div id="table-query">
            <form class="row" onsubmit={run}>
                <input id="table-sql" aria-label="A query over the sink table" value={(*text).clone()} {oninput} />
                <button type="submit">{"Query the table"}</button>
            </form>
            if let Some(q) = &props.query {
                if let Some(e) = &q.error {
                    <div class="error" role="alert"><div class="kind">{ &e.kind }</div><div class="message">{ &e.message }</div></div>
                } else {
                    <p class="muted">{ match q.version { Some(v) => format!("The table as of version {v}: {} rows", q.rows.len()), None => format!("{} rows", q.rows.len()) } }</p>
                    <table id="table-query-result">
                        <thead><tr>{ for q.columns.iter().map(|c| html! { <th>{ c }</th> }) }</tr></thead>
                        <tbody>{ for q.rows.iter().map(|row| html! { <tr>{ for row.iter().map(|v| html! { <td>{ cell(v) }</td> }) }</tr> }) }</tbody>
                    </table>
                }
            }
        </div>
    }
}

/// How the file compares with the table: where a replay wrote a batch twice.
fn file_summary(s: &Snapshot) -> String {
    let mut written: Vec<u64> = s.file_parts.iter().map(|p| p.batch_id).collect();
    written.sort_unstable();
    let mut twice: Vec<u64> = written.windows(2).filter(|w| w[0] == w[1]).map(|w| w[0]).collect();
    twice.dedup();
    if twice.is_empty() {
        "Every batch was written once: no duplicates.".into()
    } else {
        let ids: Vec<String> = twice.iter().map(u64::to_string).collect();
        let which = if ids.len() == 1 { format!("Batch {} was", ids[0]) } else { format!("Batches {} were", ids.join(", ")) };
        format!("{which} written more than once: replayed after a crash, which this sink cannot recognise.")
    }
}

/// The file's writes with their rows, newest last, for as many as the snapshot carries rows of
/// (it carries the newest): each with whether it rewrote a batch an earlier write had written.
fn file_writes(s: &Snapshot) -> Vec<(&FilePartInfo, bool, &[Vec<Json>])> {
    let mut seen = std::collections::HashSet::new();
    let replayed: Vec<bool> = s.file_parts.iter().map(|p| !seen.insert(p.batch_id)).collect();
    let mut end = s.file_rows.len();
    let mut out = Vec::new();
    for (p, again) in s.file_parts.iter().zip(replayed).rev() {
        let Some(start) = end.checked_sub(p.rows as usize) else { break };
        out.push((p, again, &s.file_rows[start..end]));
        end = start;
    }
    out.reverse();
    out
}

/// The at-least-once file against the transactional table, row by row: in append mode both
/// should hold the same rows, so what the file has more of is a duplicate a replay wrote.
fn file_diff(s: &Snapshot) -> Html {
    if s.output_mode != "append" {
        return html! { <p class="muted" id="file-diff">{"In update and complete mode the table replaces rows and the file only appends, so they are not compared row by row."}</p> };
    }
    if s.file_total as usize != s.file_rows.len() || s.sink_total as usize != s.sink.len() {
        return html! { <p class="muted" id="file-diff">{"The file or the table holds more rows than the page is sent: not compared."}</p> };
    }
    let diff = crate::compare::change_stream(&s.sink, &s.file_rows);
    if diff.is_empty() {
        return html! { <p class="muted" id="file-diff">{"Row by row against the table: the same rows, none twice."}</p> };
    }
    html! {
        <div id="file-diff">
            <p>{"Row by row against the table (+ the file has it more often than the table, − less):"}</p>
            <div class="scroll-box short">
            <table class="file-diff">
                <thead><tr><th class="change">{"±"}</th>{ for s.columns.iter().map(|c| html! { <th>{ c }</th> }) }</tr></thead>
                <tbody>{ for diff.iter().map(|c| html! {
                    <tr class={if c.weight > 0 { "plus" } else { "minus" }} data-weight={c.weight.to_string()}>
                        <td class="change">{ crate::compare::weight_label(c.weight) }</td>{ for c.row.iter().map(|v| html! { <td>{ cell(v) }</td> }) }
                    </tr>
                }) }</tbody>
            </table>
            </div>
        </div>
    }
}

/// "The newest 500 of 12,345 rows", when the snapshot carries only the newest of a list.
fn shown_of(shown: usize, total: u64, what: &str, id: &'static str) -> Html {
    if shown as u64 >= total {
        return Html::default();
    }
    html! { <p class="muted" {id}>{ format!("Showing the newest {shown} of {total} {what}.") }</p> }
}

#[function_component(OutputPanel)]
pub fn output_panel(props: &Props) -> Html {
    let s = &props.snapshot;
    let change = &s.sink_change;
    let status = |i: usize| {
        if change.added.contains(&i) {
            Some("added")
        } else if change.updated.contains(&i) {
            Some("updated")
        } else {
            None
        }
    };
    html! {
        <div id="results" class="results">
        // Panels, each with its own heading, and long lists scrolled inside them: the sink's rows
        // no longer push the state and the batches far down the page.
        <nav class="results-nav" aria-label="Jump to a panel">
            <a href="#panel-output">{"Output"}</a><a href="#panel-timeline">{"Timeline"}</a><a href="#panel-state">{"State"}</a>
            <a href="#checkpoint">{"Checkpoint"}</a><a href="#panel-batches">{"Batches"}</a>
            if !s.topics.is_empty() { <a href="#panel-topics">{"Kafka"}</a> }
            if !s.folders.is_empty() { <a href="#panel-folders">{"Landing folder"}</a> }
        </nav>
        if !s.folders.is_empty() {
            <section id="panel-folders" class="panel output-panel result-panel">
                <h2>{"Landing folder"}</h2>
                <super::folders::FoldersPanel folders={s.folders.clone()} />
            </section>
        }
        if !s.topics.is_empty() {
            <section id="panel-topics" class="panel output-panel result-panel">
                <h2>{"Kafka"}</h2>
                <super::topics::TopicsPanel topics={s.topics.clone()} />
            </section>
        }
        <section id="panel-timeline" class="panel output-panel result-panel">
            <h2>{"Timeline"}</h2>
            <super::timeline::Timeline snapshot={s.clone()} />
        </section>
        <section id="panel-output" class="panel output-panel result-panel">
            <h2>{ format!("Output ({} mode)", s.output_mode) }</h2>
            if let Some(batch) = change.batch_id {
                <p class="legend" id="output-change">
                    { format!("Batch {batch} ") }
                    <span class="key added"></span>{ format!("added {}", change.added.len()) }
                    <span class="key updated"></span>{ format!("updated {}", change.updated.len()) }
                    <span class="key removed"></span>{ format!("removed {}", change.removed.len()) }
                    if s.output_mode == "complete" { <span class="muted">{" (complete mode rewrites the table; marked: what differs from before)"}</span> }
                </p>
            }
            <div class="scroll-box">
            <table id="output">
                <thead><tr><th class="change" aria-label="change"></th>{ for s.columns.iter().map(|c| html! { <th>{ c }</th> }) }</tr></thead>
                <tbody class="rows">
                    { for s.sink.iter().enumerate().map(|(i, row)| {
                        let st = status(i);
                        let asked = s.lineage.as_ref().is_some_and(|l| &l.row == row);
                        let onclick = { let row = row.clone(); props.send.reform(move |_: MouseEvent| Request::WhyRow { row: row.clone() }) };
                        html! {
                            <tr class={classes!(st, asked.then_some("asked"))} {onclick} title="Why is this row here?"><td class="change" title={st.map(|s| format!("{s} by the last batch"))}>{ match st { Some("added") => "+", Some("updated") => "~", _ => "" } }</td>{ for row.iter().map(|v| html! { <td>{ cell(v) }</td> }) }</tr>
                        }
                    }) }
                </tbody>
                if !change.removed.is_empty() {
                    <tbody class="removed-rows">
                        { for change.removed.iter().map(|row| html! {
                            <tr class="removed"><td class="change" title="removed by the last batch">{"−"}</td>{ for row.iter().map(|v| html! { <td>{ cell(v) }</td> }) }</tr>
                        }) }
                    </tbody>
                }
            </table>
            </div>
            if s.sink.is_empty() { <p class="muted" id="output-empty">{"The sink is empty: add events and run a micro-batch."}</p> }
            <super::lineage::LineagePanel lineage={s.lineage.clone()} />
            { shown_of(s.sink.len(), s.sink_total, "rows", "output-shown") }
            <h3>{"Table history (exactly once)"}</h3>
            <p class="muted">{"Each batch commits one version, tagged with the query id and batch id. Click a version to see the table as it was."}</p>
            <div class="scroll-box short">
            <table id="table-history" class="clickable">
                <thead><tr><th>{"version"}</th><th>{"batch"}</th><th>{"operation"}</th><th>{"added"}</th><th>{"updated"}</th><th>{"removed"}</th><th>{"query id"}</th></tr></thead>
                <tbody>
                    { for s.table_history.iter().rev().map(|v| {
                        let sql = format!("SELECT * FROM sink VERSION AS OF {}", v.version);
                        // The whole row is clickable; the version is a button, for the keyboard.
                        let onclick = props.send.reform(move |_: MouseEvent| Request::QueryTable { sql: sql.clone() });
                        html! {
                        <tr {onclick} title="Show the table as of this version"><td><button class="version" aria-label={format!("Show the table as of version {}", v.version)}>{ v.version }</button></td><td>{ v.batch_id }</td><td>{ &v.operation }</td><td>{ v.rows_added }</td><td>{ v.rows_updated }</td><td>{ v.rows_removed }</td><td>{ v.query_id.chars().take(8).collect::<String>() }</td></tr>
                    }}) }
                </tbody>
            </table>
            </div>
            { shown_of(s.table_history.len(), s.history_total, "versions (VERSION AS OF reads every one)", "history-shown") }
            <TableQuery query={s.table_query.clone()} send={props.send.clone()} />
            <h3>{ format!("At-least-once file ({} rows in {} writes)", s.file_rows.len(), s.file_parts.len()) }</h3>
            <p class="muted" id="file-summary">{ file_summary(s) }</p>
            if !s.file_parts.is_empty() {
                <details id="file-rows">
                    <summary>{"The file's rows, write by write"}</summary>
                    <div class="scroll-box">
                    <table class="file-rows">
                        <thead><tr><th>{"write"}</th><th>{"batch"}</th>{ for s.columns.iter().map(|c| html! { <th>{ c }</th> }) }</tr></thead>
                        { for file_writes(s).into_iter().map(|(p, again, rows)| html! {
                            <tbody class={classes!(again.then_some("replayed"))}
                                title={again.then(|| format!("batch {} again: a replay after a crash, and these rows are duplicates", p.batch_id))}>
                                { for rows.iter().map(|row| html! {
                                    <tr><td>{ p.part }</td><td>{ if again { format!("{} (again)", p.batch_id) } else { p.batch_id.to_string() } }</td>
                                        { for row.iter().map(|v| html! { <td>{ cell(v) }</td> }) }</tr>
                                }) }
                            </tbody>
                        }) }
                    </table>
                    </div>
                    { shown_of(s.file_rows.len(), s.file_total, "rows of the file", "file-shown") }
                </details>
                { file_diff(s) }
            }
        </section>
        <section id="panel-state" class="panel output-panel result-panel">
            <super::state_view::StateView snapshot={s.clone()} />
        </section>
        <section id="panel-batches" class="panel output-panel result-panel">
            <h2>{"Micro-batches"}</h2>
            <super::progress_chart::ProgressChart batches={s.batches.clone()} />
            <div class="scroll-box">
            <table id="progress">
                <thead><tr>
                    <th title="batch id">{"batch"}</th><th title="input rows">{"in"}</th><th title="output rows">{"out"}</th>
                    <th title="event-time watermark in effect">{"watermark"}</th><th title="rows held in state">{"state"}</th>
                    <th title="rows dropped as late">{"late"}</th><th title="bad records sent to the dead-letter output">{"bad"}</th>
                    <th title="trigger execution time">{"ms"}</th>
                </tr></thead>
                <tbody>
                    { for s.batches.iter().rev().map(|b| html! {
                        <tr>
                            <td>{ b.batch_id }</td><td>{ b.input_rows }</td><td>{ b.output_rows }</td>
                            <td>{ b.watermark.clone().unwrap_or_else(|| "none".into()) }</td>
                            <td>{ b.state_rows }</td><td>{ b.dropped_late }</td><td>{ b.bad_records }</td>
                            <td>{ format!("{:.1}", b.duration_ms) }</td>
                        </tr>
                    }) }
                </tbody>
            </table>
            </div>
            <super::lineage::LateList late={s.batches.iter().flat_map(|b| b.late.iter().map(move |l| (b.batch_id, l.clone()))).collect::<Vec<_>>()} />
            <super::lineage::DuplicateList duplicates={s.duplicates.clone()} send={props.send.clone()} />
            if !s.dead_letter.is_empty() {
                <h3>{"Dead-letter output"}</h3>
                { shown_of(s.dead_letter.len(), s.dead_letter_total, "bad records", "dead-letter-shown") }
                <ul id="dead-letter">
                    { for s.dead_letter.iter().map(|d| html! {
                        <li><code>{ format!("{}@{}", d.source, d.offset) }</code>{" "}<code>{ d.row.to_string() }</code><div class="reason">{ &d.reason }</div></li>
                    }) }
                </ul>
            }
            <details>
                <summary>{"EXPLAIN"}</summary>
                <pre id="explain">{ &s.explain }</pre>
            </details>
        </section>
        </div>
    }
}
