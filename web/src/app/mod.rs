//! The playground page, first version: Yew function components over one state (the latest
//! [`Snapshot`]); every change goes through a [`Request`] to the session.

mod event_form;
mod help;
mod output;

use std::cell::RefCell;
use std::rc::Rc;

use web_sys::{HtmlSelectElement, HtmlTextAreaElement};
use yew::prelude::*;

use crate::protocol::{ErrorInfo, Request, Snapshot};
use crate::session::Session;

pub const DEFAULT_SCENARIO: &str = include_str!("../../../tests/scenarios/stateless/trucks-cold-chain.json");

/// Sends requests to the session and hands back its snapshot. Today the session lives in this
/// thread; the page never touches it except through here.
#[derive(Clone)]
pub struct Backend(Rc<RefCell<Session>>);

impl PartialEq for Backend {
    fn eq(&self, other: &Self) -> bool {
        Rc::ptr_eq(&self.0, &other.0)
    }
}

impl Backend {
    pub fn send(&self, r: Request) -> Snapshot {
        self.0.borrow_mut().handle(r)
    }
}

#[function_component(App)]
pub fn app() -> Html {
    let backend = use_memo((), |_| {
        let session = Session::from_scenario(DEFAULT_SCENARIO).expect("the bundled default scenario is valid (tested)");
        Backend(Rc::new(RefCell::new(session)))
    });
    let snapshot = use_state(|| backend.0.borrow().snapshot());
    let sql = use_state(|| snapshot.sql.clone());
    let mode = use_state(|| snapshot.output_mode.clone());

    let send = {
        let backend = (*backend).clone();
        let snapshot = snapshot.clone();
        Callback::from(move |r: Request| snapshot.set(backend.send(r)))
    };
    let on_sql = {
        let sql = sql.clone();
        Callback::from(move |e: InputEvent| sql.set(e.target_unchecked_into::<HtmlTextAreaElement>().value()))
    };
    let on_mode = {
        let mode = mode.clone();
        Callback::from(move |e: Event| mode.set(e.target_unchecked_into::<HtmlSelectElement>().value()))
    };
    let start = {
        let (send, sql, mode) = (send.clone(), sql.clone(), mode.clone());
        Callback::from(move |_| send.emit(Request::SetQuery { sql: (*sql).clone(), output_mode: (*mode).clone() }))
    };
    let on_key = {
        let start = start.clone();
        Callback::from(move |e: KeyboardEvent| {
            if e.key() == "Enter" && (e.ctrl_key() || e.meta_key()) {
                e.prevent_default();
                start.emit(());
            }
        })
    };
    let run = {
        let send = send.clone();
        Callback::from(move |_| send.emit(Request::RunBatch))
    };
    let pending: u64 = snapshot.sources.iter().map(|s| s.pending).sum();
    let query_error = snapshot.error.clone().filter(|e| e.kind != "invalid_input");
    let input_error = snapshot.error.clone().filter(|e| e.kind == "invalid_input");

    html! {
        <div class="page">
            <header>
                <h1>{"Unbounded"}</h1>
                <p class="tagline">{"A Structured Streaming playground: type streaming SQL, push events, run micro-batches."}</p>
            </header>
            <main>
                <section class="panel query-panel">
                    <h2>{"Query"}</h2>
                    <p class="scenario-description">{ snapshot.description.clone() }</p>
                    <textarea id="sql" spellcheck="false" rows="7" value={(*sql).clone()} oninput={on_sql} onkeydown={on_key}
                        aria-label="Streaming SQL query" aria-invalid={query_error.is_some().to_string()} />
                    <div class="row">
                        <label for="mode">{"Output mode "}</label>
                        <select id="mode" onchange={on_mode}>
                            { for ["append", "update", "complete"].iter().map(|m| html! { <option value={*m} selected={*m == mode.as_str()}>{*m}</option> }) }
                        </select>
                        <button id="start" onclick={start.reform(|_: MouseEvent| ())} title="Ctrl+Enter">{"Start query"}</button>
                    </div>
                    { query_error.map(|e| error_view(&e, &sql)).unwrap_or_default() }
                    <help::SqlHelp />
                    <h3>{"Schema"}</h3>
                    <div id="schema">
                        { for snapshot.sources.iter().map(|s| html! {
                            <div class="relation source">
                                <strong>{ &s.name }</strong>{" (stream) "}
                                <span class="muted">{ format!("{} events, {} waiting", s.rows, s.pending) }</span>
                                <ul>{ for s.columns.iter().map(|c| html! { <li><code>{ &c.name }</code>{" "}<span class="type">{ &c.data_type }</span></li> }) }</ul>
                            </div>
                        }) }
                        { for snapshot.tables.iter().map(|t| html! {
                            <div class="relation table">
                                <strong>{ &t.name }</strong>{" (static table) "}
                                <span class="muted">{ format!("{} rows", t.rows) }</span>
                                <ul>{ for t.columns.iter().map(|c| html! { <li><code>{ &c.name }</code>{" "}<span class="type">{ &c.data_type }</span></li> }) }</ul>
                            </div>
                        }) }
                    </div>
                </section>
                <section class="panel events-panel">
                    <h2>{"Events"}</h2>
                    <event_form::EventForm sources={snapshot.sources.clone()} send={send.clone()} />
                    { input_error.map(|e| html! { <div id="event-error" class="error" role="alert">{ e.message }</div> }).unwrap_or_default() }
                    <div class="row">
                        <button id="run" class="primary" onclick={run}>{ format!("Run micro-batch ({pending} waiting)") }</button>
                    </div>
                </section>
                <output::OutputPanel snapshot={(*snapshot).clone()} />
            </main>
        </div>
    }
}

/// An error with where it is: the line of the query and a caret under the column.
fn error_view(e: &ErrorInfo, sql: &str) -> Html {
    let place = match (e.line, e.column) {
        (Some(l), Some(c)) => {
            let text = sql.lines().nth(l.saturating_sub(1) as usize).unwrap_or("");
            let caret = format!("{}^", " ".repeat(c.saturating_sub(1) as usize));
            html! {
                <>
                    <div class="where">{ format!("Line {l}, column {c}") }</div>
                    <pre class="caret">{ format!("{text}\n{caret}") }</pre>
                </>
            }
        }
        _ => Html::default(),
    };
    html! {
        <div id="query-error" class="error" role="alert">
            <div class="kind">{ &e.kind }</div>
            { place }
            <div class="message">{ &e.message }</div>
        </div>
    }
}
