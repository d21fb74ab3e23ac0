//! The sessions kept in this browser, in a panel under the header: open one (the page reloads
//! into it, and opens a copy if another tab writes it), or delete one after a confirmation. The
//! session this tab writes is marked and cannot be deleted from here until the tab leaves it.

use std::rc::Rc;

use web_sys::HtmlElement;
use yew::prelude::*;

use super::sessions::{self, Deletion, SavedSession};
use crate::protocol::{valid_session_id, Snapshot, StorageKind, FIRST_SESSION};

#[derive(Properties, PartialEq)]
pub struct Props {
    pub snapshot: Rc<Snapshot>,
    /// The namespace whose lock this tab holds (empty: none).
    pub held: String,
}

/// What the panel shows: the registry as last read, and which sessions other tabs write.
#[derive(Clone, PartialEq, Default)]
struct Listing {
    entries: Vec<SavedSession>,
    elsewhere: Vec<String>,
    now_ms: f64,
}

/// The title the registry gives a session: its example's, else its scenario's name.
/// What the session is listed as: its pipeline's, in pipeline mode (saved with it).
fn title_of(snapshot: &Snapshot) -> String {
    let name = snapshot.pipeline.as_ref().map_or(&snapshot.scenario_name, |p| &p.name);
    super::gallery::example_named(name).map(|e| e.title.to_string()).unwrap_or_else(|| name.clone())
}

/// Reloads the page into session `id`: a reload is what opens a namespace, takes its lock or,
/// refused, opens a copy, exactly as when the person comes back to the page.
fn open_session(id: &str) {
    sessions::set_current(id);
    super::remember_storage(StorageKind::IndexedDb);
    let query = super::page_params()
        .map(|params| {
            // The storage is the saved session's now; an example was opened already.
            params.delete("storage");
            params.delete("example");
            String::from(params.to_string())
        })
        .unwrap_or_default();
    let address = if query.is_empty() { super::page_path() } else { format!("{}?{query}", super::page_path()) };
    if let Some(w) = web_sys::window() {
        let _ = w.location().replace(&address);
    }
}

async fn list(held: &str) -> Listing {
    let entries = sessions::listed(held).await;
    let elsewhere = sessions::open_elsewhere().await;
    Listing { entries, elsewhere, now_ms: js_sys::Date::now() }
}

#[function_component(SavedSessions)]
pub fn saved_sessions(props: &Props) -> Html {
    let open = use_state(|| false);
    let listing = use_state(Listing::default);
    let confirming = use_state(|| None::<String>);
    let message = use_state(|| None::<String>);
    let toggle_ref = use_node_ref();
    let panel_ref = use_node_ref();
    let snapshot = &props.snapshot;

    // This tab writes the session shown: the registry notes it under its title.
    let writing = snapshot.storage == StorageKind::IndexedDb && snapshot.detached.is_none() && valid_session_id(&props.held);
    let title = title_of(snapshot);
    let events: u64 = snapshot.sources.iter().map(|s| s.rows).sum();
    use_effect_with(
        (writing.then(|| props.held.clone()), title, events, snapshot.answered, snapshot.batches.last().map(|b| b.batch_id)),
        |(id, title, events, _, _)| {
            if let Some(id) = id {
                sessions::record(id, title, *events);
            }
        },
    );

    let refresh = {
        let (listing, held) = (listing.clone(), props.held.clone());
        Callback::from(move |_: ()| {
            let (listing, held) = (listing.clone(), held.clone());
            wasm_bindgen_futures::spawn_local(async move { listing.set(list(&held).await) });
        })
    };
    {
        // Opened, the panel takes the focus: the keyboard goes on from its first control.
        let (open, panel_ref) = (*open, panel_ref.clone());
        use_effect_with(open, move |open| {
            if *open {
                if let Some(panel) = panel_ref.cast::<HtmlElement>() {
                    let _ = panel.focus();
                }
            }
        });
    }
    {
        // The button pressed goes when the row changes: the focus moves to what replaced it
        // (the confirmation's Cancel, or back to the row's Delete), never to the page's body.
        let (panel_ref, last) = (panel_ref.clone(), use_mut_ref(|| None::<String>));
        use_effect_with((*confirming).clone(), move |asking| {
            let target = match asking {
                Some(id) => Some(format!("[data-session=\"{id}\"] .cancel-delete")),
                None => last.borrow().as_ref().map(|id| format!("[data-session=\"{id}\"] .delete-session")),
            };
            *last.borrow_mut() = asking.clone();
            if let (Some(panel), Some(target)) = (panel_ref.cast::<HtmlElement>(), target) {
                match panel.query_selector(&target).ok().flatten().and_then(|e| wasm_bindgen::JsCast::dyn_into::<HtmlElement>(e).ok()) {
                    Some(button) => drop(button.focus()),
                    None => drop(panel.focus()),
                }
            }
        });
    }
    let on_toggle = {
        let (open, refresh, confirming, message) = (open.clone(), refresh.clone(), confirming.clone(), message.clone());
        Callback::from(move |_: MouseEvent| {
            if !*open {
                refresh.emit(());
                confirming.set(None);
                message.set(None);
            }
            open.set(!*open);
        })
    };
    let close = {
        let (open, toggle_ref) = (open.clone(), toggle_ref.clone());
        Callback::from(move |_: ()| {
            open.set(false);
            if let Some(b) = toggle_ref.cast::<HtmlElement>() {
                let _ = b.focus();
            }
        })
    };
    let on_key = {
        let (close, confirming) = (close.clone(), confirming.clone());
        Callback::from(move |e: KeyboardEvent| {
            if e.key() == "Escape" {
                e.prevent_default();
                // Escape first leaves a confirmation, then the panel.
                if confirming.is_some() {
                    confirming.set(None);
                } else {
                    close.emit(());
                }
            }
        })
    };

    let delete = {
        let (listing, confirming, message, held) = (listing.clone(), confirming.clone(), message.clone(), props.held.clone());
        Callback::from(move |(id, name): (String, String)| {
            let (listing, confirming, message, held) = (listing.clone(), confirming.clone(), message.clone(), held.clone());
            wasm_bindgen_futures::spawn_local(async move {
                let said = match sessions::delete(&id).await {
                    Ok(Deletion::Deleted) => format!("Deleted “{name}”."),
                    Ok(Deletion::Blocked) => {
                        format!("“{name}” is deleted as soon as the page that still has its database open closes it.")
                    }
                    Ok(Deletion::OpenElsewhere) => format!("“{name}” is open in another tab, which saves it: close it there first."),
                    Ok(Deletion::OpenHere) => format!("“{name}” is open in this tab: open another session first."),
                    Err(e) => format!("“{name}” could not be deleted: {e}"),
                };
                // A reload must not open a session that is gone (it would start a new one there).
                if sessions::current() == id {
                    sessions::set_current(if held.is_empty() { FIRST_SESSION } else { &held });
                }
                // All at once, so the focus moves on from a row that is gone.
                listing.set(list(&held).await);
                message.set(Some(said));
                confirming.set(None);
            });
        })
    };

    let held = props.held.as_str();
    let row = |e: &SavedSession| {
        let name = if e.name.is_empty() { "Untitled session".to_string() } else { e.name.clone() };
        let here = e.id == held;
        let elsewhere = listing.elsewhere.contains(&e.id);
        let mark = match (here, writing, elsewhere) {
            (true, true, _) => Some("open in this tab"),
            // A link opened over it: this tab holds it, and a reload goes back to it.
            (true, false, _) => Some("kept by this tab, which shows a copy"),
            (false, _, true) => Some("open in another tab"),
            _ => None,
        };
        let id = e.id.clone();
        let on_open = Callback::from(move |_: MouseEvent| open_session(&id));
        let asking = confirming.as_deref() == Some(e.id.as_str());
        let actions = if here {
            let why = if writing {
                "To delete it, open another session first."
            } else {
                "This tab holds it while it shows a copy: keep the copy, or open another session, to delete it."
            };
            html! { <span class="muted">{ why }</span> }
        } else if asking {
            let (delete, id, named) = (delete.clone(), e.id.clone(), name.clone());
            let confirm = Callback::from(move |_: MouseEvent| delete.emit((id.clone(), named.clone())));
            let cancel = {
                let confirming = confirming.clone();
                Callback::from(move |_: MouseEvent| confirming.set(None))
            };
            html! {
                <span class="confirm" role="group" aria-label={format!("Delete {name}?")}>
                    <span>{"Delete it for good, with its events, query and checkpoint? "}</span>
                    <button class="confirm-delete danger" onclick={confirm}>{"Delete for good"}</button>
                    <button class="cancel-delete" onclick={cancel}>{"Cancel"}</button>
                </span>
            }
        } else {
            let (confirming, id) = (confirming.clone(), e.id.clone());
            let ask = Callback::from(move |_: MouseEvent| confirming.set(Some(id.clone())));
            html! {
                <>
                    <button class="open-session" onclick={on_open} title={if elsewhere { "Another tab saves it: this tab opens a copy" } else { "Reload the page into this session" }}>{"Open"}</button>
                    <button class="delete-session" onclick={ask} aria-label={format!("Delete {name}")}>{"Delete…"}</button>
                </>
            }
        };
        html! {
            <li class={classes!("saved-session", here.then_some("current"))} data-session={e.id.clone()} aria-current={(here && writing).then_some("true")}>
                <div class="about">
                    <strong class="name">{ name.clone() }</strong>
                    if let Some(m) = mark { <span class="mark">{ m }</span> }
                    <div class="muted details">
                        // A session found by its database alone: its events are not known.
                        if e.saved_ms > 0.0 { { format!("{} events · ", e.events) } }
                        { sessions::age(listing.now_ms, e.saved_ms) }
                        {" · "}<code>{ e.id.clone() }</code>
                    </div>
                </div>
                <div class="actions">{ actions }</div>
            </li>
        }
    };

    html! {
        <div class="saved-sessions" onkeydown={on_key}>
            <button id="sessions-button" ref={toggle_ref} aria-expanded={if *open { "true" } else { "false" }} aria-controls="saved-sessions" onclick={on_toggle}>
                {"Saved sessions"}
            </button>
            if *open {
                <div id="saved-sessions" class="sessions-panel" role="dialog" aria-labelledby="saved-sessions-title" tabindex="-1" ref={panel_ref}>
                    <div class="sessions-head">
                        <h2 id="saved-sessions-title">{"Saved sessions"}</h2>
                        <button class="close-sessions" aria-label="Close the list of saved sessions" onclick={close.reform(|_: MouseEvent| ())}>{"Close"}</button>
                    </div>
                    <p class="muted">{"Each is kept in this browser's IndexedDB. Opening one reloads the page into it."}</p>
                    if let Some(m) = (*message).clone() { <p id="sessions-message" role="status">{ m }</p> }
                    if listing.entries.is_empty() {
                        <p class="muted">{"No session is saved in this browser yet: the one shown is kept in memory."}</p>
                    } else {
                        <ul class="sessions-list">{ for listing.entries.iter().map(row) }</ul>
                    }
                </div>
            }
        </div>
    }
}
