//! Session namespaces: each saved session has its own IndexedDB database (see
//! [`crate::protocol::database`]), the page's local storage names the one a reload opens, and a
//! Web Lock per namespace lets one tab at a time write it.

use wasm_bindgen::prelude::*;

use crate::protocol::{valid_session_id, FIRST_SESSION};

#[wasm_bindgen(module = "/js/session.js")]
extern "C" {
    #[wasm_bindgen(js_name = holdLock)]
    async fn hold_lock(name: &str) -> JsValue;
    #[wasm_bindgen(js_name = releaseLock)]
    fn release_lock(name: &str);
    #[wasm_bindgen(js_name = newSessionId)]
    fn new_session_id() -> String;
}

/// Where the page remembers the session namespace a reload opens.
const CURRENT: &str = "unbounded.session";

fn local_storage() -> Option<web_sys::Storage> {
    web_sys::window()?.local_storage().ok().flatten()
}

fn lock_name(id: &str) -> String {
    format!("unbounded.session.{id}")
}

/// The namespace a reload opens: the last one kept, else the first.
pub fn current() -> String {
    local_storage()
        .and_then(|s| s.get_item(CURRENT).ok().flatten())
        .filter(|id| valid_session_id(id))
        .unwrap_or_else(|| FIRST_SESSION.to_string())
}

pub fn set_current(id: &str) {
    if let Some(s) = local_storage() {
        let _ = s.set_item(CURRENT, id);
    }
}

/// Takes the namespace's lock if no other tab holds it, for as long as this page lives (or
/// until [`release`]); says whether this tab holds it now.
pub async fn hold(id: &str) -> bool {
    hold_lock(&lock_name(id)).await.as_bool().unwrap_or(true)
}

pub fn release(id: &str) {
    if !id.is_empty() {
        release_lock(&lock_name(id));
    }
}

pub fn new_id() -> String {
    new_session_id()
}
