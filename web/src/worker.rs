//! The engine's side of the page: runs in a dedicated Web Worker (`www/worker.js` loads this
//! module and calls [`worker_main`]), owns the [`Session`] and its storage, and answers every
//! [`Request`] with a [`Snapshot`], both as JSON text. The page never waits on the engine.

use std::cell::RefCell;
use std::collections::VecDeque;
use std::rc::Rc;

use unbounded_engine::storage::SharedStorage;
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;
use web_sys::{DedicatedWorkerGlobalScope, MessageEvent};

use crate::idb::{self, IdbStorage};
use crate::protocol::{ErrorInfo, Request, Snapshot, StorageKind};
use crate::session::Session;

/// The IndexedDB database a playground session lives in.
pub const DATABASE: &str = "unbounded-playground";

#[derive(Default)]
struct Worker {
    session: Option<Session>,
    queue: VecDeque<Request>,
    /// Opening storage is asynchronous; requests wait in `queue` meanwhile, in order.
    busy: bool,
    /// When the last snapshot went to the page, in processing time.
    last_post_ms: f64,
}

/// How often a live run moves on, and the least time between two snapshots it sends: the page
/// redraws ten times a second at most, however fast events arrive.
const TICK_MS: i32 = 50;
const SNAPSHOT_EVERY_MS: f64 = 100.0;

fn now_ms() -> f64 {
    use unbounded_engine::query::Clock;
    crate::clock::BrowserClock.now_ms()
}

/// One tick of the live run, if one is playing.
fn tick(state: &Shared) {
    let now = now_ms();
    let snapshot = {
        let mut guard = state.borrow_mut();
        let w = &mut *guard;
        if w.busy || !w.queue.is_empty() {
            return;
        }
        let Some(session) = w.session.as_mut() else { return };
        let was_playing = session.playing();
        let changed = session.tick(now);
        // Always report the run stopping (an error); otherwise at most every SNAPSHOT_EVERY_MS.
        if !(changed && now - w.last_post_ms >= SNAPSHOT_EVERY_MS || was_playing && !session.playing()) {
            return;
        }
        w.last_post_ms = now;
        session.snapshot()
    };
    post(&snapshot);
}

type Shared = Rc<RefCell<Worker>>;

fn post(snapshot: &Snapshot) {
    let scope: DedicatedWorkerGlobalScope = js_sys::global().unchecked_into();
    if let Ok(text) = serde_json::to_string(snapshot) {
        let _ = scope.post_message(&JsValue::from_str(&text));
    }
}

fn post_error(message: String) {
    post(&Snapshot { error: Some(ErrorInfo { kind: "storage".into(), message, line: None, column: None }), ..Snapshot::default() });
}

/// Opens the storage of `kind`. IndexedDB that cannot be opened (a private window, say) falls
/// back to memory, and the notice says so.
async fn open(kind: StorageKind) -> (SharedStorage, StorageKind, Option<String>) {
    match kind {
        StorageKind::Memory => (SharedStorage::memory(), StorageKind::Memory, None),
        StorageKind::IndexedDb => match IdbStorage::open(DATABASE).await {
            Ok(storage) => (idb::shared(storage).1, StorageKind::IndexedDb, None),
            Err(e) => (SharedStorage::memory(), StorageKind::Memory, Some(format!("{e}; the session is kept in memory instead."))),
        },
    }
}

/// Starts or resumes the session on newly opened storage.
async fn init(state: Shared, kind: StorageKind, scenario: Option<String>, carry: Option<String>) {
    let (storage, kind, fallback) = open(kind).await;
    let resumed = match (&scenario, &carry) {
        (None, None) => Session::resume(storage.clone(), kind),
        _ => Ok(None),
    };
    let shared = scenario.is_some();
    let text = carry.or(scenario).unwrap_or_else(|| crate::DEFAULT_SCENARIO.to_string());
    let started = match resumed {
        Ok(Some(s)) => Ok((s, fallback)),
        Ok(None) => match Session::start(&text, storage.clone(), kind) {
            // A shared link that does not open: say why, and resume or start as without it.
            Err(e) if shared => match Session::resume(storage.clone(), kind) {
                Ok(Some(s)) => Ok((s, Some(format!("The shared link could not be opened: {e}")))),
                _ => Session::start(crate::DEFAULT_SCENARIO, storage, kind)
                    .map(|s| (s, Some(format!("The shared link could not be opened: {e}")))),
            },
            other => other.map(|s| (s, fallback)),
        },
        // A saved session that cannot be read: start the default one, and say why.
        Err(e) => Session::start(crate::DEFAULT_SCENARIO, storage, kind)
            .map(|s| (s, Some(format!("The saved session could not be read ({e}); a new one was started.")))),
    };
    match started {
        Ok((s, notice)) => {
            let mut snapshot = s.snapshot();
            if notice.is_some() {
                snapshot.notice = notice;
            }
            state.borrow_mut().session = Some(s);
            post(&snapshot);
        }
        Err(e) => post_error(format!("the session could not start: {e}")),
    }
    state.borrow_mut().busy = false;
    drive(&state);
}

/// Handles queued requests in order until one needs to wait for storage.
fn drive(state: &Shared) {
    loop {
        let request = {
            let mut w = state.borrow_mut();
            if w.busy {
                return;
            }
            match w.queue.pop_front() {
                Some(r) => r,
                None => return,
            }
        };
        match request {
            Request::Init { storage, scenario } => {
                state.borrow_mut().busy = true;
                wasm_bindgen_futures::spawn_local(init(state.clone(), storage, scenario, None));
                return;
            }
            Request::SetStorage { storage } => {
                let carry = state.borrow_mut().session.as_mut().and_then(|s| s.handle(Request::Export).exported);
                state.borrow_mut().busy = true;
                wasm_bindgen_futures::spawn_local(init(state.clone(), storage, None, carry));
                return;
            }
            other => {
                let snapshot = match state.borrow_mut().session.as_mut() {
                    Some(s) => s.handle(other),
                    None => {
                        post_error("the session has not started".into());
                        continue;
                    }
                };
                post(&snapshot);
            }
        }
    }
}

/// The worker's entry point: answers the page's requests.
#[wasm_bindgen(js_name = workerMain)]
pub fn worker_main() {
    let scope: DedicatedWorkerGlobalScope = js_sys::global().unchecked_into();
    let state: Shared = Rc::new(RefCell::new(Worker::default()));
    let ticking = state.clone();
    let handler = Closure::<dyn FnMut(MessageEvent)>::new(move |e: MessageEvent| {
        let parsed = e.data().as_string().ok_or_else(|| "a request must be JSON text".to_string()).and_then(|text| {
            serde_json::from_str::<Request>(&text).map_err(|err| format!("the page sent a request the worker does not know: {err}"))
        });
        match parsed {
            Ok(request) => {
                state.borrow_mut().queue.push_back(request);
                drive(&state);
            }
            Err(message) => post_error(message),
        }
    });
    scope.set_onmessage(Some(handler.as_ref().unchecked_ref()));
    handler.forget();
    let ticker = Closure::<dyn FnMut()>::new(move || tick(&ticking));
    let _ = scope.set_interval_with_callback_and_timeout_and_arguments_0(ticker.as_ref().unchecked_ref(), TICK_MS);
    ticker.forget();
}
