//! "Break it": crash the next micro-batch at any point of the batch protocol, restart the query,
//! lose its checkpoint or reload the page, and see what recovery did.

use yew::prelude::*;

use crate::protocol::{Request, Snapshot, StorageKind};

#[derive(Properties, PartialEq)]
pub struct Props {
    pub snapshot: std::rc::Rc<Snapshot>,
    pub send: Callback<Request>,
}

/// The failure points in the order a micro-batch passes them, with what a crash there leaves.
const POINTS: [(&str, &str, &str); 4] = [
    ("before_offsets_write", "before offsets", "planned the batch, wrote nothing: the retry plans it again"),
    ("after_offsets_write", "after offsets", "offsets/N written, nothing computed: the retry re-runs N with the same offsets"),
    ("after_state_write", "after state", "state version N+1 written, sinks untouched: the retry recomputes N"),
    (
        "after_sink_write",
        "after sink",
        "the sinks have batch N, commits/N is missing: the table skips the replay, the file writes it again",
    ),
];

/// The checkpoint's files as a tree of directories; a file shows its content when clicked.
fn tree(s: &Snapshot, send: &Callback<Request>) -> Html {
    let mut dirs: std::collections::BTreeMap<String, Vec<(String, u64)>> = std::collections::BTreeMap::new();
    for f in &s.checkpoint {
        let (dir, name) = f.path.rsplit_once('/').unwrap_or(("", f.path.as_str()));
        dirs.entry(dir.to_string()).or_default().push((name.to_string(), f.bytes));
    }
    let file = |dir: &str, name: &str, size: u64| {
        let path = if dir.is_empty() { name.to_string() } else { format!("{dir}/{name}") };
        let onclick = send.reform({
            let path = path.clone();
            move |_: MouseEvent| Request::ReadCheckpoint { path: path.clone() }
        });
        let current = s.checkpoint_file.as_ref().is_some_and(|(p, _)| *p == path);
        html! {
            <li><button class={classes!("file", current.then_some("current"))} data-path={path.clone()} {onclick}>{ name.to_string() }</button>
                <span class="muted">{ format!(" {size} B") }</span></li>
        }
    };
    html! {
        <ul class="checkpoint-tree">
            { for dirs.iter().map(|(dir, files)| if dir.is_empty() {
                html! { <>{ for files.iter().map(|(n, b)| file(dir, n, *b)) }</> }
            } else {
                let mut sorted = files.clone();
                // Batch and version files in number order, not text order.
                sorted.sort_by_key(|(n, _)| (n.split('.').next().and_then(|v| v.parse::<u64>().ok()).unwrap_or(u64::MAX), n.clone()));
                html! {
                    <li><details open={!dir.starts_with("state") || files.len() <= 6}>
                        <summary><code>{ format!("{dir}/") }</code><span class="muted">{ format!(" {} files", files.len()) }</span></summary>
                        <ul>{ for sorted.iter().map(|(n, b)| file(dir, n, *b)) }</ul>
                    </details></li>
                }
            }) }
        </ul>
    }
}

#[function_component(BreakIt)]
pub fn break_it(props: &Props) -> Html {
    let s = &props.snapshot;
    let send = props.send.clone();
    let reload = Callback::from(|_: MouseEvent| {
        if let Some(w) = web_sys::window() {
            let _ = w.location().reload();
        }
    });
    html! {
        <div id="break-it">
            <h3>{"Break it"}</h3>
            <p class="muted">{"Crash the next micro-batch at a point of the batch protocol; the query recovers from its checkpoint and retries the batch."}</p>
            <div class="row failure-points" role="group" aria-label="Crash the next micro-batch">
                { for POINTS.iter().map(|(point, label, what)| {
                    let armed = s.armed.as_deref() == Some(*point);
                    let send = send.clone();
                    html! {
                        <button id={format!("fail-{point}")} class={classes!(armed.then_some("armed"))} title={*what} aria-pressed={armed.to_string()}
                            onclick={Callback::from(move |_| send.emit(Request::InjectFailure { point: point.to_string() }))}>
                            { format!("Crash {label}") }
                        </button>
                    }
                }) }
            </div>
            if let Some(point) = &s.armed { <p id="armed" class="armed-note">{ format!("Armed: the next micro-batch crashes at {point}.") }</p> }
            <div class="row">
                <button id="restart" onclick={send.reform(|_| Request::Restart)} title="Stop the query and start it from its checkpoint">{"Restart"}</button>
                <button id="lose-checkpoint" onclick={send.reform(|_| Request::LoseCheckpoint)}
                    title="Delete the checkpoint: the query starts over from offset 0 under a new id">{"Lose the checkpoint"}</button>
                <button id="reload" onclick={reload} title={ if s.storage == StorageKind::IndexedDb { "Reload the page: the session resumes from IndexedDB" } else { "Reload the page: with memory storage the session starts again" } }>{"Reload the page"}</button>
            </div>
            if !s.failures.is_empty() {
                <ul id="failures">
                    { for s.failures.iter().map(|f| html! { <li>{ format!("Batch {} crashed {} and was retried.", f.batch_id, f.point.replace('_', " ")) }</li> }) }
                </ul>
            }
            <details id="checkpoint">
                <summary>{ format!("Checkpoint ({} files, query id {})", s.checkpoint.len(), s.query_id) }</summary>
                { tree(s, &send) }
                if let Some((path, text)) = &s.checkpoint_file {
                    <div class="checkpoint-file">
                        <code>{ format!("checkpoint/{path}") }</code>
                        <pre id="checkpoint-file">{ text }</pre>
                    </div>
                }
            </details>
        </div>
    }
}
