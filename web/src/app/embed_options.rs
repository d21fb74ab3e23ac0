//! The playground as an element of someone else's page (`<unbounded-playground>`,
//! `www/unbounded-embed.js`): its options, the requests that start its session, and the link
//! that opens the session in the full playground. An embed reads nothing of the host page
//! (its address, local storage, theme): everything comes in [`EmbedOptions`].

use std::rc::Rc;

use serde::Deserialize;
use wasm_bindgen::prelude::*;
use yew::prelude::*;

use super::Backend;
use crate::protocol::{valid_session_id, Request, Snapshot, StorageKind};

#[wasm_bindgen(module = "/js/share.js")]
extern "C" {
    #[wasm_bindgen(js_name = compressText, catch)]
    async fn compress_text(text: &str) -> Result<JsValue, JsValue>;
}

/// What the element's attributes say, checked by the element and again here.
#[derive(Debug, Clone, PartialEq, Default, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct EmbedOptions {
    /// The scenario file's text (from `example`, `src` or the inline script).
    pub scenario: String,
    /// The query cannot be edited; events still can.
    pub readonly: bool,
    /// Keep the session in IndexedDB under `namespace` (else in memory).
    pub indexeddb: bool,
    pub namespace: String,
    /// The full playground's address, for the "open in the full playground" link.
    pub playground_url: String,
}

/// An embed: its options and its own worker.
pub struct Embed {
    pub options: EmbedOptions,
    pub backend: Backend,
}

impl PartialEq for Embed {
    fn eq(&self, other: &Self) -> bool {
        self.backend == other.backend && self.options == other.options
    }
}

#[derive(Properties, PartialEq, Clone, Default)]
pub struct AppProps {
    /// Set when the playground is an element of another page.
    #[prop_or_default]
    pub embed: Option<Rc<Embed>>,
}

impl EmbedOptions {
    /// The embed's storage and namespace: memory unless IndexedDB is asked for with a namespace
    /// that can name one.
    fn storage(&self) -> (StorageKind, String) {
        match self.indexeddb && valid_session_id(&self.namespace) {
            true => (StorageKind::IndexedDb, self.namespace.clone()),
            false => (StorageKind::Memory, String::new()),
        }
    }
}

impl Embed {
    /// The request that starts the embed's session: its scenario, in its own storage.
    pub fn init(&self) -> Request {
        let (storage, session) = self.options.storage();
        Request::Init { storage, scenario: Some(self.options.scenario.clone()), session, read_only: false }
    }

    /// What to ask after a snapshot: a session saved under the embed's namespace opens its
    /// scenario as a copy in memory (what the page does with a link); an embed resumes it instead.
    pub fn follow_up(&self, s: &Snapshot) -> Option<Request> {
        let (storage, session) = self.options.storage();
        (storage == StorageKind::IndexedDb && s.detached.is_some()).then_some(Request::Init {
            storage,
            scenario: None,
            session,
            read_only: false,
        })
    }
}

/// The full playground's link to a session: `URL#s=1.<payload>`, or the bare address when the
/// session is too large for a link.
fn link(base: &str, payload: &str) -> String {
    let base = base.split('#').next().unwrap_or_default();
    match super::share::link_too_long(payload) {
        Some(_) => base.to_string(),
        None => format!("{base}#s={}.{payload}", super::share::LINK_VERSION),
    }
}

#[derive(Properties, PartialEq)]
pub struct BarProps {
    pub snapshot: Rc<Snapshot>,
    pub send: Callback<Request>,
    pub embed: Rc<Embed>,
}

/// The embed's title bar: the scenario's name and the link to the full playground, kept up to
/// date: pointing at it (or focusing it) exports the session, so a click opens it as it is.
#[function_component(EmbedBar)]
pub fn embed_bar(props: &BarProps) -> Html {
    let base = props.embed.options.playground_url.clone();
    let href = use_state(|| base.clone());
    {
        let (href, base) = (href.clone(), base.clone());
        let text = props.snapshot.exported.clone().or_else(|| Some(props.embed.options.scenario.clone()).filter(|_| href.as_str() == base));
        use_effect_with(text, move |text| {
            if let Some(text) = text.clone() {
                wasm_bindgen_futures::spawn_local(async move {
                    if let Ok(payload) = compress_text(&text).await {
                        href.set(link(&base, &payload.as_string().unwrap_or_default()));
                    }
                });
            }
        });
    }
    let refresh = props.send.reform(|_: FocusEvent| Request::Export);
    let hover = props.send.reform(|_: MouseEvent| Request::Export);
    html! {
        <div class="embed-bar">
            <strong class="embed-title">{ props.snapshot.scenario_name.clone() }</strong>
            <span class="muted">{" · Unbounded"}</span>
            <a id="open-full" href={(*href).clone()} target="_blank" rel="noopener" onmouseenter={hover} onfocus={refresh}>
                {"Open in the full playground ↗"}
            </a>
        </div>
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_link_carries_the_session_unless_it_is_too_long() {
        assert_eq!(link("https://x.test/play/#old", "abc"), "https://x.test/play/#s=1.abc");
        let long = "a".repeat(super::super::share::MAX_LINK_CHARS + 1);
        assert_eq!(link("https://x.test/", &long), "https://x.test/");
    }

    #[test]
    fn a_namespace_that_is_not_one_keeps_the_session_in_memory() {
        let opts = |indexeddb, namespace: &str| EmbedOptions { indexeddb, namespace: namespace.into(), ..EmbedOptions::default() };
        assert_eq!(opts(true, "embed-a").storage(), (StorageKind::IndexedDb, "embed-a".into()));
        assert_eq!(opts(true, "<b>").storage(), (StorageKind::Memory, String::new()));
        assert_eq!(opts(true, "").storage(), (StorageKind::Memory, String::new()));
        assert_eq!(opts(false, "embed-a").storage(), (StorageKind::Memory, String::new()));
    }
}
