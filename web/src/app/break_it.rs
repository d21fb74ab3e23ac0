//! "Break it": crash the next micro-batch at any point of the batch protocol, restart the query,
//! lose its checkpoint or reload the page, and see what recovery did.

use yew::prelude::*;

use crate::protocol::{Request, Snapshot, StorageKind};

#[derive(Properties, PartialEq)]
pub struct Props {
    pub snapshot: Snapshot,
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
                <ul class="checkpoint-files">
                    { for s.checkpoint.iter().map(|f| html! { <li><code>{ &f.path }</code>{" "}<span class="muted">{ format!("{} B", f.bytes) }</span></li> }) }
                </ul>
            </details>
        </div>
    }
}
