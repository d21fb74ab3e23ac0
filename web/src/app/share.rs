//! Sharing a session: export it as a scenario file (FORMAT.md), to download or copy.

use yew::prelude::*;

use crate::protocol::{Request, Snapshot};

#[derive(Properties, PartialEq)]
pub struct Props {
    pub snapshot: Snapshot,
    pub send: Callback<Request>,
}

#[function_component(SharePanel)]
pub fn share_panel(props: &Props) -> Html {
    let s = &props.snapshot;
    html! {
        <div id="share">
            <h3>{"Share"}</h3>
            <div class="row">
                <button id="export" onclick={props.send.reform(|_| Request::Export)} title="The session as a scenario file: sources, tables, query and every event">
                    {"Export scenario"}
                </button>
            </div>
            if let Some(text) = &s.exported {
                <textarea id="exported" readonly=true rows="6" aria-label="The session as a scenario file" value={text.clone()} />
            }
        </div>
    }
}
