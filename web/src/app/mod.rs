//! The playground page, first version: Yew function components over one state (the latest
//! [`Snapshot`]); every change goes through a [`Request`] to the session.

mod backend;
mod break_it;
pub mod compare;
mod editor;
pub mod embed_options;
mod event_form;
pub mod exercise;
mod folders;
mod gallery;
mod help;
mod lineage;
mod live;
pub mod output;
mod paste;
mod pipeline;
mod progress_chart;
mod saved_sessions;
mod schema;
mod scrubber;
mod sessions;
mod share;
mod state_view;
mod theme;
mod timeline;
mod topics;

use std::rc::Rc;

use wasm_bindgen::prelude::*;
use web_sys::HtmlSelectElement;
use yew::prelude::*;

use crate::protocol::{ErrorInfo, Request, Snapshot, StorageKind};

/// Where the page remembers the storage a person chose.
const STORAGE_CHOICE: &str = "unbounded.storage";

pub use backend::Backend;
use backend::Message;

thread_local! {
    /// The page's worker when the address asks for `?debug=panic`: the test of the page's
    /// recovery makes the engine panic through [`debug_panic`] when it wants to.
    static DEBUG_BACKEND: std::cell::RefCell<Option<Backend>> = const { std::cell::RefCell::new(None) };
}

/// Makes the engine panic, if the page was opened with `?debug=panic`; says whether it asked.
/// A link cannot do more with it than a stranger's script on the page could: stop the worker,
/// which the page then offers to restart.
pub fn debug_panic() -> bool {
    DEBUG_BACKEND.with(|d| d.borrow().as_ref().map(|b| b.send(Request::DebugPanic)).is_some())
}

/// The storage to open: `?storage=memory|indexeddb` in the address, else the last choice, else
/// IndexedDB (so a reload resumes the session).
fn storage_choice() -> StorageKind {
    let window = web_sys::window();
    let from_url = query_param("storage");
    let remembered =
        || window.as_ref().and_then(|w| w.local_storage().ok().flatten()).and_then(|s| s.get_item(STORAGE_CHOICE).ok().flatten());
    match from_url.or_else(remembered).as_deref() {
        Some("memory") => StorageKind::Memory,
        _ => StorageKind::IndexedDb,
    }
}

fn page_path() -> String {
    web_sys::window().and_then(|w| w.location().pathname().ok()).unwrap_or_default()
}

fn page_params() -> Option<web_sys::UrlSearchParams> {
    web_sys::UrlSearchParams::new_with_str(&page_query()).ok()
}

fn query_param(name: &str) -> Option<String> {
    page_params()?.get(name)
}

fn page_query() -> String {
    web_sys::window().and_then(|w| w.location().search().ok()).unwrap_or_default()
}

/// The page's query string without `name` (`?storage=memory` stays for the reload).
fn page_query_without(name: &str) -> String {
    let Some(params) = page_params() else { return String::new() };
    params.delete(name);
    let rest = String::from(params.to_string());
    if rest.is_empty() {
        rest
    } else {
        format!("?{rest}")
    }
}

fn remember_storage(kind: StorageKind) {
    let value = if kind == StorageKind::Memory { "memory" } else { "indexeddb" };
    if let Some(s) = web_sys::window().and_then(|w| w.local_storage().ok().flatten()) {
        let _ = s.set_item(STORAGE_CHOICE, value);
    }
}

pub use embed_options::AppProps;

#[function_component(App)]
pub fn app(props: &AppProps) -> Html {
    let embed = props.embed.clone();
    let backend = use_memo((), |_| embed.as_ref().map_or_else(Backend::start, |e| Ok(e.backend.clone())));
    let snapshot = use_state(|| None::<Rc<Snapshot>>);
    let sql = use_state(String::new);
    let mode = use_state(|| "append".to_string());
    // The query text the editor last took from the session: a new one replaces the editor's.
    let shown_sql = use_mut_ref(String::new);
    let link_error = use_state(|| None::<String>);
    // Why the engine's worker stopped, while it is stopped.
    let stopped = use_state(|| None::<String>);
    // The session namespace whose lock this tab holds (empty: none).
    let session_id = use_mut_ref(String::new);
    {
        let embed = embed.clone();
        let (backend, snapshot, sql, mode, shown_sql, link_error, stopped, session_id) = (
            backend.clone(),
            snapshot.clone(),
            sql.clone(),
            mode.clone(),
            shown_sql.clone(),
            link_error.clone(),
            stopped.clone(),
            session_id.clone(),
        );
        use_effect_with((), move |_| {
            let listening = match &*backend {
                Ok(b) => {
                    let (b1, embed1) = (b.clone(), embed.clone());
                    b.listen(Callback::from(move |m: Message| match m {
                        Message::Snapshot(next) => {
                            if let Some(r) = embed1.as_ref().and_then(|e| e.follow_up(&next)) {
                                b1.send(r);
                            }
                            if *shown_sql.borrow() != next.sql && !next.sql.is_empty() {
                                *shown_sql.borrow_mut() = next.sql.clone();
                                sql.set(next.sql.clone());
                                mode.set(next.output_mode.clone());
                            }
                            snapshot.set(Some(Rc::new(*next)));
                        }
                        Message::Stopped(why) => stopped.set(Some(why)),
                    }));
                    let (b2, link_error) = (b.clone(), link_error.clone());
                    // An embed reads nothing of its host page: its options say it all (and
                    // `mountPlayground` sent its first request).
                    if embed.is_none() {
                        wasm_bindgen_futures::spawn_local(async move {
                            let window = web_sys::window();
                            let hash = window.as_ref().and_then(|w| w.location().hash().ok()).unwrap_or_default();
                            let scenario = match share::scenario_from_link(&hash).await {
                                Some(Ok(text)) => Some(text),
                                Some(Err(e)) => {
                                    link_error.set(Some(format!("This shared link cannot be opened: {e}")));
                                    None
                                }
                                // `?example=ID`: a documentation page opens one example of the gallery.
                                None => match query_param("example").map(|id| crate::gallery::example_by_id(&id)) {
                                    Some(Ok(e)) => Some(e.scenario.to_string()),
                                    Some(Err(e)) => {
                                        link_error.set(Some(format!("This link cannot open its example: {e}.")));
                                        None
                                    }
                                    None => None,
                                },
                            };
                            if scenario.is_some() || hash.starts_with("#s=") {
                                // Opened once: a reload resumes the session instead of the link.
                                if let Some(h) = window.and_then(|w| w.history().ok()) {
                                    let _ = h.replace_state_with_url(
                                        &JsValue::NULL,
                                        "",
                                        Some(&format!("{}{}", page_path(), page_query_without("example"))),
                                    );
                                }
                            }
                            let storage = storage_choice();
                            let id = sessions::current();
                            // Another tab writes this session: this one works on a copy.
                            let read_only = storage == StorageKind::IndexedDb && !sessions::hold(&id).await;
                            if storage == StorageKind::IndexedDb && !read_only {
                                *session_id.borrow_mut() = id.clone();
                            }
                            b2.send(Request::Init { storage, scenario, session: id, read_only });
                            if query_param("debug").as_deref() == Some("panic") {
                                DEBUG_BACKEND.with(|d| *d.borrow_mut() = Some(b2.clone()));
                            }
                        });
                    }
                    Some(b.clone())
                }
                Err(_) => None,
            };
            move || {
                if let Some(b) = listening {
                    b.forget_listener();
                }
            }
        });
    }
    let backend = match &*backend {
        Ok(b) => b.clone(),
        Err(e) => return html! { <div class="page"><div class="error" role="alert">{ e.clone() }</div></div> },
    };
    let Some(snapshot) = (*snapshot).clone() else {
        return html! { <div class="page"><header><h1>{"Unbounded"}</h1></header><p class="muted" id="starting">{"Starting the engine…"}</p></div> };
    };
    let send = {
        let backend = backend.clone();
        Callback::from(move |r: Request| backend.send(r))
    };
    let on_mode = {
        let mode = mode.clone();
        Callback::from(move |e: Event| mode.set(e.target_unchecked_into::<HtmlSelectElement>().value()))
    };
    let readonly = props.embed.as_ref().is_some_and(|e| e.options.readonly);
    let start = {
        let (send, sql, mode) = (send.clone(), sql.clone(), mode.clone());
        Callback::from(move |_| {
            if !readonly {
                send.emit(Request::SetQuery { sql: (*sql).clone(), output_mode: (*mode).clone() })
            }
        })
    };
    let run = {
        let send = send.clone();
        Callback::from(move |_| send.emit(Request::RunBatch))
    };
    let step = {
        let send = send.clone();
        Callback::from(move |_| send.emit(Request::Step))
    };
    // Saving a session in memory puts it in a new namespace of its own: no saved session is
    // ever overwritten by another without the person asking.
    let keep = {
        let (send, session_id) = (send.clone(), session_id.clone());
        Callback::from(move |_: ()| {
            let (send, session_id) = (send.clone(), session_id.clone());
            wasm_bindgen_futures::spawn_local(async move {
                let id = sessions::new_id();
                if !sessions::hold(&id).await {
                    return;
                }
                let old = std::mem::replace(&mut *session_id.borrow_mut(), id.clone());
                sessions::release(&old);
                sessions::set_current(&id);
                remember_storage(StorageKind::IndexedDb);
                send.emit(Request::SetStorage { storage: StorageKind::IndexedDb, session: id });
            });
        })
    };
    let on_storage = {
        let (send, keep, session_id) = (send.clone(), keep.clone(), session_id.clone());
        Callback::from(move |e: Event| {
            if e.target_unchecked_into::<HtmlSelectElement>().value() == "memory" {
                remember_storage(StorageKind::Memory);
                // Nothing of this tab writes the saved session any more: another tab may.
                sessions::release(&std::mem::take(&mut *session_id.borrow_mut()));
                send.emit(Request::SetStorage { storage: StorageKind::Memory, session: String::new() });
            } else {
                keep.emit(());
            }
        })
    };
    let restart_engine = {
        let (backend, stopped) = (backend.clone(), stopped.clone());
        Callback::from(move |_: MouseEvent| match backend.restart() {
            Ok(()) => stopped.set(None),
            Err(e) => stopped.set(Some(e)),
        })
    };
    let pending: u64 = snapshot.sources.iter().map(|s| s.pending).sum();
    // A Kafka topic takes messages from the producer form, not rows.
    let row_sources: Vec<_> = snapshot.sources.iter().filter(|s| s.kind.is_empty()).cloned().collect();
    let query_error = snapshot.error.clone().filter(|e| !matches!(e.kind.as_str(), "invalid_input" | "checkpoint" | "storage"));
    let input_error = snapshot.error.clone().filter(|e| e.kind == "invalid_input");
    let storage_error = snapshot.error.clone().filter(|e| matches!(e.kind.as_str(), "checkpoint" | "storage"));
    let sql_text = (*sql).clone();
    // The editor or the mode differs from the running query's.
    let edited = !snapshot.sql.is_empty() && (sql_text != snapshot.sql || *mode != snapshot.output_mode);
    let example = gallery::example_named(snapshot.pipeline.as_ref().map_or(&snapshot.scenario_name, |p| &p.name));
    // The generator whose sources this session has, to offer first.
    let suggested = example.and_then(|e| e.generator).or_else(|| {
        crate::protocol::GeneratorKind::ALL.into_iter().find(|k| {
            k.sources().iter().all(|(name, schema)| {
                snapshot.sources.iter().any(|s| {
                    s.name == *name
                        && s.columns.len() == schema.columns.len()
                        && s.columns.iter().zip(&schema.columns).all(|(a, b)| a.name == b.name && a.data_type == b.data_type.to_string())
                })
            })
        })
    });

    html! {
        <div class={classes!("page", props.embed.is_some().then_some("embedded"))}>
            if let Some(e) = props.embed.clone() {
                <embed_options::EmbedBar snapshot={snapshot.clone()} send={send.clone()} embed={e} />
            } else {
            <header>
                <h1>{"Unbounded"}</h1>
                <p class="tagline">{"A Structured Streaming playground: type streaming SQL, push events, run micro-batches."}</p>
                <div class="settings">
                <saved_sessions::SavedSessions snapshot={snapshot.clone()} held={session_id.borrow().clone()} />
                <theme::ThemeChoice />
                <label class="storage-choice" for="storage">{"Storage "}
                    <select id="storage" onchange={on_storage} title="Where the checkpoint, the sinks and the events are kept">
                        <option value="indexeddb" selected={snapshot.storage == StorageKind::IndexedDb}>{"IndexedDB (survives a reload)"}</option>
                        <option value="memory" selected={snapshot.storage == StorageKind::Memory}>{"memory (gone on reload)"}</option>
                    </select>
                </label>
                </div>
            </header>
            }
            if let Some(why) = (*stopped).clone() {
                <div id="engine-stopped" class="error" role="alert">
                    <div class="kind">{"the engine stopped"}</div>
                    <div class="message">{ why }</div>
                    <p>{ if snapshot.storage == StorageKind::IndexedDb && snapshot.detached.is_none() {
                        "The page shows the session as it last was. Restarting the engine resumes it from its checkpoint in IndexedDB."
                    } else {
                        "The page shows the session as it last was. Restarting the engine replays this page's copy of it, without the request the engine stopped in (events a generator made are not in the copy)."
                    } }</p>
                    <button id="restart-engine" class="primary" onclick={restart_engine}>{"Restart the engine"}</button>
                </div>
            }
            if let Some(n) = snapshot.notice.clone() { <div id="notice" class="notice" role="status">{ n }</div> }
            if let Some(why) = snapshot.detached.clone() {
                <div id="detached" class="notice" role="status">
                    <span>{ why }</span>{" "}
                    <button id="keep-session" onclick={keep.reform(|_: MouseEvent| ())}>{"Keep this session"}</button>
                </div>
            }
            if let Some(e) = (*link_error).clone() { <div id="link-error" class="error" role="alert">{ e }</div> }
            if let Some(e) = storage_error { <div id="storage-error" class="error" role="alert"><div class="kind">{ &e.kind }</div><div class="message">{ &e.message }</div></div> }
            if props.embed.is_none() { <gallery::Gallery send={send.clone()} current={example.map(|e| e.id)} /> }
            if snapshot.pipeline.is_some() {
                <>
                if let Some(e) = example { <p id="watch" class="watch"><strong>{ format!("{}: ", e.title) }</strong>{ e.watch }</p> }
                <pipeline::PipelineView snapshot={snapshot.clone()} send={send.clone()} />
                </>
            } else {
            <>
            <scrubber::Scrubber snapshot={snapshot.clone()} send={send.clone()} />
            <main>
                <section class="panel query-panel">
                    <h2>{"Query"}</h2>
                    if let Some(e) = example {
                        <p id="watch" class="watch"><strong>{ format!("{}: ", e.title) }</strong>{ e.watch }</p>
                    }
                    <p class="scenario-description">{ snapshot.description.clone() }</p>
                    <editor::Editor value={sql_text.clone()} error={query_error.clone()} sources={snapshot.sources.clone()} tables={snapshot.tables.clone()}
                        on_change={let sql = sql.clone(); Callback::from(move |v: String| if !readonly { sql.set(v) })} on_run={start.clone()} />
                    <div class="row">
                        <label for="mode">{"Output mode "}</label>
                        <select id="mode" onchange={on_mode}>
                            { for ["append", "update", "complete"].iter().map(|m| html! { <option value={*m} selected={*m == mode.as_str()}>{*m}</option> }) }
                        </select>
                        <button id="start" onclick={start.reform(|_: MouseEvent| ())} title="Ctrl+Enter">{"Start query"}</button>
                    </div>
                    if edited && query_error.is_none() {
                        // Spark fixes the query and its output mode when the query starts.
                        <p id="not-started" class="muted" role="status">{"Edited: Start query to run it (a new query, with a new checkpoint and sink, back at batch 0 with every event queued as it arrived)."}</p>
                    }
                    { query_error.map(|e| error_view(&e, &sql_text)).unwrap_or_default() }
                    <help::SqlHelp />
                    <h3>{"Schema"}</h3>
                    <schema::SchemaPanel sources={snapshot.sources.clone()} tables={snapshot.tables.clone()} send={send.clone()} />
                </section>
                <section class="panel events-panel">
                    <h2>{"Events"}</h2>
                    if !row_sources.is_empty() || (snapshot.topics.is_empty() && snapshot.folders.is_empty()) {
                        <event_form::EventForm sources={row_sources.clone()} send={send.clone()} />
                        <paste::PasteEvents sources={row_sources.clone()} send={send.clone()} />
                    }
                    if !snapshot.topics.is_empty() {
                        <topics::Producer topics={snapshot.topics.clone()} send={send.clone()} />
                    }
                    if !snapshot.folders.is_empty() {
                        <folders::LandFile folders={snapshot.folders.clone()} send={send.clone()} />
                    }
                    { input_error.map(|e| html! { <div id="event-error" class="error" role="alert">{ e.message }</div> }).unwrap_or_default() }
                    <div class="row">
                        <button id="run" class="primary" onclick={run}
                            title="Spark's processAllAvailable(): one micro-batch with every waiting event, then the no-data batch a moved watermark calls for">
                            { format!("Run all available ({pending} waiting)") }
                        </button>
                        <button id="step" onclick={step} title="One trigger: one micro-batch (a data batch, or the no-data batch that is due)">{"Step one batch"}</button>
                    </div>
                    <live::LivePanel snapshot={snapshot.clone()} send={send.clone()} {suggested} />
                    <break_it::BreakIt snapshot={snapshot.clone()} send={send.clone()} />
                    <share::SharePanel snapshot={snapshot.clone()} send={send.clone()} />
                </section>
                <output::OutputPanel snapshot={snapshot.clone()} send={send.clone()} />
            </main>
            </>
            }
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
