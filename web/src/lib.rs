//! Unbounded in the browser: the playground page (Yew), the session it drives through
//! [`protocol`] messages, and the JavaScript API for embedding. Built as two wasm modules: the
//! `ui` feature (the page and the element, in the page's thread) and the `engine` feature (the
//! worker and the in-thread API); the tests build both in one.

#[cfg(feature = "ui")]
pub mod app;
pub mod clock;
pub mod compare;
pub mod event_log;
pub mod exercise;
pub mod gallery;
pub mod idb;
pub mod js_api;
pub mod protocol;
pub mod session;
#[cfg(feature = "engine")]
pub mod worker;

/// The scenario a new session starts with.
pub const DEFAULT_SCENARIO: &str = include_str!("../../tests/scenarios/stateless/trucks-cold-chain.json");

use wasm_bindgen::prelude::*;

/// Renders the playground into `#app` when loaded in its page; does nothing elsewhere (a page
/// that embeds `<unbounded-playground>`, or a test build with both features).
#[cfg(feature = "ui")]
#[wasm_bindgen(start)]
pub fn start() {
    let Some(document) = web_sys::window().and_then(|w| w.document()) else { return };
    if let Some(root) = document.get_element_by_id("app") {
        // A `?compare=` link opens the compare view alone: it starts no session of its own.
        if app::compare::requested().is_some() {
            yew::Renderer::<app::compare::ComparePage>::with_root(root).render();
        } else if app::exercise::requested().is_some() {
            // So does an exercise (`?exercise=`, the list, or `?exercise=id`).
            yew::Renderer::<app::exercise::ExercisePage>::with_root(root).render();
        } else {
            yew::Renderer::<app::App>::with_root(root).render();
        }
    }
}

/// For the test of the page's recovery: makes the engine's worker panic, when the page was
/// opened with `?debug=panic`. Returns whether it did.
#[cfg(feature = "ui")]
#[wasm_bindgen(js_name = debugPanic)]
pub fn debug_panic() -> bool {
    app::debug_panic()
}

/// Runs a scenario (FORMAT.md text) and returns the runner output document, with `ok` false
/// when the query was refused or failed. Throws an Error naming the position or step when the
/// file is malformed.
#[cfg(feature = "engine")]
#[wasm_bindgen(js_name = runScenario)]
pub fn run_scenario(text: &str) -> Result<JsValue, JsError> {
    let out = unbounded_engine::scenario::run_text(text).map_err(|e| JsError::new(&e.to_string()))?;
    let result = serde_json::json!({"ok": out.ok, "document": out.document});
    result.serialize(&serde_wasm_bindgen::Serializer::json_compatible()).map_err(|e| JsError::new(&e.to_string()))
}

/// Like [`run_scenario`] but returns the output document as JSON text, exactly as the CLI prints
/// it (JavaScript numbers would turn `22.0` into `22`).
#[cfg(feature = "engine")]
#[wasm_bindgen(js_name = runScenarioJson)]
pub fn run_scenario_json(text: &str) -> Result<String, JsError> {
    let out = unbounded_engine::scenario::run_text(text).map_err(|e| JsError::new(&e.to_string()))?;
    serde_json::to_string_pretty(&out.document).map_err(|e| JsError::new(&e.to_string()))
}

#[cfg(feature = "engine")]
use serde::Serialize;
