//! What `www/unbounded.js` needs to run a session in the caller's thread (Node, tests): the same
//! [`Session`] the worker runs, driven by the same [`Request`]/[`Snapshot`] JSON, so the
//! JavaScript API has one protocol whether it runs in a Worker or not. Also the gallery's
//! scenarios by id, for `Session.create({example})` and `<unbounded-playground example>`.

use wasm_bindgen::prelude::*;

use crate::protocol::{ErrorInfo, Request, Snapshot, StorageKind};
use crate::session::{Session, MAX_SCENARIO_BYTES};
use unbounded_engine::storage::SharedStorage;

fn error_info(e: &unbounded_engine::Error) -> ErrorInfo {
    let (line, column) = match e.position {
        Some(p) => (Some(p.line), Some(p.column)),
        None => json_position(&e.message).map_or((None, None), |(l, c)| (Some(l), Some(c))),
    };
    ErrorInfo { kind: e.kind.code().to_string(), message: e.message.clone(), line, column }
}

/// A scenario file's JSON error says where in its text, `(line L, column C)`: the API gives
/// that place as `line` and `column`, as it does for SQL.
fn json_position(message: &str) -> Option<(u64, u64)> {
    let start = message.rfind("(line ")?;
    let rest = message[start + "(line ".len()..].strip_suffix(')')?;
    let (line, column) = rest.split_once(", column ")?;
    Some((line.parse().ok()?, column.parse().ok()?))
}

/// A session in memory over `text` (scenario format), or why there is none: run to the
/// scenario's end, or at batch 0 with its runs queued for stepping (`at_start`).
pub fn open(text: &str, at_start: bool) -> Result<Session, ErrorInfo> {
    if text.len() > MAX_SCENARIO_BYTES {
        return Err(ErrorInfo {
            kind: "invalid_input".into(),
            message: format!("the scenario is {} KiB, more than the {} KiB a session opens", text.len() / 1024, MAX_SCENARIO_BYTES / 1024),
            line: None,
            column: None,
        });
    }
    let opened = if at_start { Session::queued(text, SharedStorage::memory(), StorageKind::Memory) } else { Session::from_scenario(text) };
    opened.map_err(|e| error_info(&e))
}

/// Handles one request (JSON text of a [`Request`]) and answers with a [`Snapshot`]'s JSON. A
/// request the protocol does not know changes nothing and answers with its error. The requests
/// that open storage are the worker's (`Init`, `SetStorage`): here the session stays in memory.
pub fn handle_json(session: &mut Session, request: &str) -> String {
    let snapshot = match serde_json::from_str::<Request>(request) {
        Ok(r @ (Request::Init { .. } | Request::SetStorage { .. } | Request::DebugPanic)) => {
            let mut s = session.snapshot();
            s.error = Some(ErrorInfo {
                kind: "invalid_input".into(),
                message: format!(
                    "`{}` needs the engine's worker: a session in the caller's thread keeps its storage in memory",
                    request_type(&r)
                ),
                line: None,
                column: None,
            });
            s
        }
        Ok(r) => session.handle(r),
        Err(e) => {
            let mut s = session.snapshot();
            s.error = Some(ErrorInfo {
                kind: "invalid_input".into(),
                message: format!("a request the engine does not know: {e}"),
                line: Some(e.line() as u64),
                column: Some(e.column() as u64),
            });
            s
        }
    };
    to_json(&snapshot)
}

fn request_type(r: &Request) -> String {
    serde_json::to_value(r).ok().and_then(|v| v.get("type").and_then(|t| t.as_str()).map(String::from)).unwrap_or_default()
}

fn to_json(s: &Snapshot) -> String {
    serde_json::to_string(s).unwrap_or_else(|e| format!("{{\"error\":{{\"kind\":\"internal\",\"message\":\"{e}\"}}}}"))
}

/// The ids of the gallery's examples, in the gallery's order.
pub fn example_ids() -> Vec<String> {
    crate::gallery::EXAMPLES.iter().map(|e| e.id.to_string()).collect()
}

fn js_error(e: &ErrorInfo) -> JsValue {
    let error = js_sys::Error::new(&e.message);
    let set = |k: &str, v: JsValue| {
        let _ = js_sys::Reflect::set(&error, &k.into(), &v);
    };
    set("kind", e.kind.clone().into());
    set("line", e.line.map_or(JsValue::NULL, |l| (l as f64).into()));
    set("column", e.column.map_or(JsValue::NULL, |c| (c as f64).into()));
    error.into()
}

/// A session run in the caller's thread; `www/unbounded.js` wraps it in `Session`.
#[cfg(feature = "engine")]
#[wasm_bindgen(js_name = LocalEngine)]
pub struct LocalEngine {
    session: Session,
}

#[cfg(feature = "engine")]
#[wasm_bindgen(js_class = LocalEngine)]
impl LocalEngine {
    /// Opens `scenario` (FORMAT.md text) in memory, run to its end unless `at_start`; throws an
    /// `Error` with `kind`, `line` and `column` when it cannot be opened.
    #[wasm_bindgen(constructor)]
    pub fn new(scenario: &str, at_start: Option<bool>) -> Result<LocalEngine, JsValue> {
        open(scenario, at_start.unwrap_or(false)).map(|session| LocalEngine { session }).map_err(|e| js_error(&e))
    }

    /// A request's JSON in, the snapshot's JSON out.
    pub fn handle(&mut self, request: &str) -> String {
        handle_json(&mut self.session, request)
    }

    /// The current snapshot, as JSON.
    pub fn snapshot(&self) -> String {
        to_json(&self.session.snapshot())
    }

    /// Moves a live run (`Play`) to processing time `now_ms`; the snapshot's JSON when anything
    /// happened.
    pub fn tick(&mut self, now_ms: f64) -> Option<String> {
        self.session.tick(now_ms).then(|| to_json(&self.session.snapshot()))
    }

    /// Whether a processing-time trigger is running.
    pub fn playing(&self) -> bool {
        self.session.playing()
    }
}

/// The scenario of the gallery's example `id`; throws an `Error` listing the ids when there is
/// no such example.
#[wasm_bindgen(js_name = exampleScenario)]
pub fn example_scenario(id: &str) -> Result<String, JsValue> {
    crate::gallery::example_by_id(id)
        .map(|e| e.scenario.to_string())
        .map_err(|message| js_error(&ErrorInfo { kind: "invalid_input".into(), message, line: None, column: None }))
}

/// The gallery's example ids.
#[wasm_bindgen(js_name = exampleIds)]
pub fn example_ids_js() -> Vec<String> {
    example_ids()
}

#[cfg(feature = "ui")]
/// The most bytes of options an embed takes: its scenario and a few settings.
const MAX_OPTIONS_BYTES: usize = MAX_SCENARIO_BYTES + 64 * 1024;

#[cfg(feature = "ui")]
/// A playground rendered into an element of another page; see [`mount_playground`].
#[wasm_bindgen(js_name = EmbedHandle)]
pub struct EmbedHandle {
    app: Option<yew::AppHandle<crate::app::App>>,
    backend: crate::app::Backend,
}

#[cfg(feature = "ui")]
#[wasm_bindgen(js_class = EmbedHandle)]
impl EmbedHandle {
    /// Starts the processing-time trigger (the element's `autoplay`, when it scrolls into view).
    pub fn play(&self, interval_ms: f64) {
        let interval_ms = if interval_ms.is_finite() { interval_ms.clamp(100.0, 3_600_000.0) } else { 1000.0 };
        self.backend.send(Request::Play { interval_ms });
    }

    /// Stops the trigger (the element scrolled out of view).
    pub fn pause(&self) {
        self.backend.send(Request::Pause);
    }

    /// Takes the playground off the page and ends its worker.
    pub fn destroy(&mut self) {
        if let Some(app) = self.app.take() {
            app.destroy();
        }
        self.backend.terminate();
    }
}

#[cfg(feature = "ui")]
/// Renders the playground into `root` (a node of the element's shadow root) with its own
/// worker from `worker_url`; `options` is [`EmbedOptions`] as JSON.
///
/// [`EmbedOptions`]: crate::app::embed_options::EmbedOptions
#[wasm_bindgen(js_name = mountPlayground)]
pub fn mount_playground(root: web_sys::Element, options: &str, worker_url: &str) -> Result<EmbedHandle, JsValue> {
    let invalid = |message: String| js_error(&ErrorInfo { kind: "invalid_input".into(), message, line: None, column: None });
    if options.len() > MAX_OPTIONS_BYTES {
        return Err(invalid(format!("the embed's options are more than {} KiB", MAX_OPTIONS_BYTES / 1024)));
    }
    let options: crate::app::embed_options::EmbedOptions =
        serde_json::from_str(options).map_err(|e| invalid(format!("the embed's options: {e}")))?;
    let backend = crate::app::Backend::start_at(worker_url).map_err(invalid)?;
    let embed = std::rc::Rc::new(crate::app::embed_options::Embed { options, backend: backend.clone() });
    // First, so the element's later requests (its trigger) come after the session starts.
    backend.send(embed.init());
    let props = crate::app::AppProps { embed: Some(embed) };
    let app = yew::Renderer::<crate::app::App>::with_root_and_props(root, props).render();
    Ok(EmbedHandle { app: Some(app), backend })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn snapshot(text: &str) -> Snapshot {
        serde_json::from_str(text).expect("a snapshot")
    }

    #[test]
    fn a_session_runs_requests_and_answers_snapshots() {
        let mut s = open(crate::gallery::example_by_id("stateless-filter").unwrap().scenario, false).expect("opens");
        let before = snapshot(&handle_json(&mut s, r#"{"type":"run_batch"}"#)).sink_total;
        let row = r#"{"type":"add_event","source":"readings","row":["s-09",30.0,10,"2026-01-01 00:01:00"]}"#;
        assert!(snapshot(&handle_json(&mut s, row)).error.is_none());
        let after = snapshot(&handle_json(&mut s, r#"{"type":"run_batch"}"#));
        assert_eq!(after.sink_total, before + 1);
        assert!(after.error.is_none());
    }

    #[test]
    fn a_malformed_scenario_is_refused_with_its_position() {
        let e = open("{\n  \"version\": 1,\n  oops", false).err().expect("refused");
        assert_eq!(e.kind, "invalid_input");
        assert_eq!((e.line, e.column), (Some(3), Some(3)), "{e:?}");
        assert_eq!(json_position("no place"), None);
        assert_eq!(json_position("x (line 2, column x)"), None);
    }

    #[test]
    fn an_unknown_request_and_a_worker_request_are_errors_not_panics() {
        let mut s = open(crate::DEFAULT_SCENARIO, false).expect("opens");
        let e = snapshot(&handle_json(&mut s, r#"{"type":"fly"}"#)).error.expect("an error");
        assert_eq!(e.kind, "invalid_input");
        assert!(e.message.contains("fly"), "{}", e.message);
        let e = snapshot(&handle_json(&mut s, r#"{"type":"init","storage":"indexed_db","scenario":null}"#)).error.expect("an error");
        assert!(e.message.contains("`init` needs the engine's worker"), "{}", e.message);
    }

    #[test]
    fn a_bad_query_says_where() {
        let mut s = open(crate::DEFAULT_SCENARIO, false).expect("opens");
        let e = snapshot(&handle_json(&mut s, r#"{"type":"set_query","sql":"SELECT\n  nope FROM STREAM x","output_mode":"append"}"#))
            .error
            .expect("an error");
        assert!(e.line.is_some() || e.kind == "unknown_table", "{e:?}");
    }

    #[test]
    fn a_session_opens_run_to_its_end_or_at_batch_0() {
        let text = crate::gallery::example_by_id("watermark-small").unwrap().scenario;
        let ran = open(text, false).expect("opens").snapshot();
        let queued = open(text, true).expect("opens").snapshot();
        assert!(ran.sink_total > 0 && ran.scrub.queued_runs == 0, "{:?}", ran.scrub);
        assert_eq!(queued.sink_total, 0);
        assert!(queued.scrub.queued_runs > 0);
    }

    #[test]
    fn the_gallery_ids_are_listed() {
        assert!(example_ids().iter().any(|i| i == "watermark-small"));
    }
}
