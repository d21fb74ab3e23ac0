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
use crate::protocol::{database, ErrorInfo, Request, Snapshot, StorageKind, WorkerPanic};
use crate::session::{Opening, Session};

#[derive(Default)]
struct Worker {
    session: Option<Session>,
    queue: VecDeque<Request>,
    /// Opening storage is asynchronous; requests wait in `queue` meanwhile, in order.
    busy: bool,
    /// When the last snapshot went to the page, in processing time.
    last_post_ms: f64,
    /// Requests taken from the page so far, sent with every snapshot.
    answered: u64,
}

/// How often a live run moves on, and the least time between two snapshots it sends: the page
/// redraws ten times a second at most, however fast events arrive.
const TICK_MS: i32 = 50;
const SNAPSHOT_EVERY_MS: f64 = 100.0;

fn now_ms() -> f64 {
    use unbounded_engine::runtime::Clock;
    crate::clock::BrowserClock.now_ms()
}

/// One tick of the live run, if one is playing. The session is taken out of the shared state
/// while it runs, so no borrow is held across the engine's code.
fn tick(state: &Shared) {
    let now = now_ms();
    let Some(mut session) = ({
        let mut w = state.borrow_mut();
        if w.busy || !w.queue.is_empty() {
            return;
        }
        w.session.take()
    }) else {
        return;
    };
    let was_playing = session.playing();
    let changed = session.tick(now);
    let mut w = state.borrow_mut();
    // Always report the run stopping (an error); otherwise at most every SNAPSHOT_EVERY_MS.
    let report = changed && now - w.last_post_ms >= SNAPSHOT_EVERY_MS || was_playing && !session.playing();
    let snapshot = report.then(|| session.snapshot());
    w.session = Some(session);
    if let Some(mut snapshot) = snapshot {
        w.last_post_ms = now;
        snapshot.answered = w.answered;
        drop(w);
        post(&snapshot);
    }
}

type Shared = Rc<RefCell<Worker>>;

thread_local! {
    /// The request being handled, for the panic hook (which cannot borrow the worker's state).
    static HANDLING: std::cell::Cell<Option<u64>> = const { std::cell::Cell::new(None) };
}

fn post(snapshot: &Snapshot) {
    let scope: DedicatedWorkerGlobalScope = js_sys::global().unchecked_into();
    if let Ok(text) = serde_json::to_string(snapshot) {
        let _ = scope.post_message(&JsValue::from_str(&text));
    }
}

fn post_error(state: &Shared, message: String) {
    let answered = state.borrow().answered;
    post(&Snapshot {
        error: Some(ErrorInfo { kind: "storage".into(), message, line: None, column: None }),
        answered,
        ..Snapshot::default()
    });
}

/// Opens the storage of `kind` for the session namespace `session`. IndexedDB that cannot be
/// opened (a private window, say) falls back to memory, and the notice says so. Read-only, the
/// files of IndexedDB are copied into memory and the database closed: this worker writes none.
async fn open(kind: StorageKind, session: &str, read_only: bool) -> (SharedStorage, StorageKind, Option<String>) {
    match kind {
        StorageKind::Memory => (SharedStorage::memory(), StorageKind::Memory, None),
        StorageKind::IndexedDb => match IdbStorage::open(&database(session)).await {
            Ok(storage) if read_only => (SharedStorage::new(storage.into_files()), StorageKind::Memory, None),
            Ok(storage) => (idb::shared(storage).1, StorageKind::IndexedDb, None),
            Err(e) => (SharedStorage::memory(), StorageKind::Memory, Some(format!("{e}; the session is kept in memory instead."))),
        },
    }
}

/// Starts or resumes the session on newly opened storage.
async fn init(state: Shared, kind: StorageKind, session: String, read_only: bool, scenario: Option<String>, carry: Option<String>) {
    let (storage, kind, notice) = open(kind, &session, read_only).await;
    // The page keeps the carried session as its copy: what a restart of the engine resumes
    // when nothing saves it.
    // A pipeline's carry is not a scenario file: nothing restarts from it (the page replays its requests).
    let carried = carry.clone().filter(|c| kind == StorageKind::Memory && !crate::session::pipeline::PipelineMode::is_carry(c));
    match Session::open(Opening { storage, kind, read_only, scenario, carry, notice }) {
        Ok(s) => {
            let mut snapshot = s.snapshot();
            snapshot.exported = carried;
            let mut w = state.borrow_mut();
            snapshot.answered = w.answered;
            w.session = Some(s);
            drop(w);
            post(&snapshot);
        }
        // The session as it was goes on (a move to the other storage that failed).
        Err(e) => post_error(&state, format!("the session could not start: {e}")),
    }
    state.borrow_mut().busy = false;
    drive(&state);
}

/// Handles queued requests in order until one needs to wait for storage. The session is taken
/// out of the shared state while a request runs: a borrow held across the engine's code would
/// make every later message fail too, were it ever to stop half-way.
fn drive(state: &Shared) {
    loop {
        let request = {
            let mut w = state.borrow_mut();
            if w.busy {
                return;
            }
            match w.queue.pop_front() {
                Some(r) => {
                    w.answered += 1;
                    r
                }
                None => return,
            }
        };
        match request {
            Request::Init { storage, scenario, session, read_only } => {
                state.borrow_mut().busy = true;
                wasm_bindgen_futures::spawn_local(init(state.clone(), storage, session, read_only, scenario, None));
                return;
            }
            Request::SetStorage { storage, session } => {
                let current = state.borrow_mut().session.take();
                let carry = current.map(|s| {
                    let carry = s.carry();
                    state.borrow_mut().session = Some(s);
                    carry
                });
                let carry = carry.flatten();
                state.borrow_mut().busy = true;
                wasm_bindgen_futures::spawn_local(init(state.clone(), storage, session, false, None, carry));
                return;
            }
            Request::DebugPanic => {
                HANDLING.with(|h| h.set(Some(state.borrow().answered - 1)));
                panic!("the page asked the engine to panic (a test of its recovery)")
            }
            other => {
                let Some(mut session) = state.borrow_mut().session.take() else {
                    post_error(state, "the session has not started".into());
                    continue;
                };
                HANDLING.with(|h| h.set(Some(state.borrow().answered - 1)));
                let mut snapshot = session.handle(other);
                HANDLING.with(|h| h.set(None));
                let mut w = state.borrow_mut();
                w.session = Some(session);
                snapshot.answered = w.answered;
                drop(w);
                post(&snapshot);
            }
        }
    }
}

/// Tells the page about a panic before the module traps: the page shows it and offers to
/// restart the engine. With `panic = "abort"` nothing runs after the hook, so this is the only
/// word the page gets of what went wrong.
fn install_panic_hook() {
    std::panic::set_hook(Box::new(|info| {
        let message = info
            .payload()
            .downcast_ref::<&str>()
            .map(|m| m.to_string())
            .or_else(|| info.payload().downcast_ref::<String>().cloned())
            .unwrap_or_else(|| "a panic".to_string());
        let place = info.location().map(|l| format!(" at {}:{}:{}", l.file(), l.line(), l.column())).unwrap_or_default();
        let report = WorkerPanic { panic: format!("{message}{place}"), request: HANDLING.with(|h| h.get()) };
        let scope: DedicatedWorkerGlobalScope = js_sys::global().unchecked_into();
        if let Ok(text) = serde_json::to_string(&report) {
            let _ = scope.post_message(&JsValue::from_str(&text));
        }
    }));
}

/// The worker's entry point: answers the page's requests.
#[wasm_bindgen(js_name = workerMain)]
pub fn worker_main() {
    install_panic_hook();
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
            Err(message) => {
                state.borrow_mut().answered += 1;
                post_error(&state, message)
            }
        }
    });
    scope.set_onmessage(Some(handler.as_ref().unchecked_ref()));
    handler.forget();
    let ticker = Closure::<dyn FnMut()>::new(move || tick(&ticking));
    let _ = scope.set_interval_with_callback_and_timeout_and_arguments_0(ticker.as_ref().unchecked_ref(), TICK_MS);
    ticker.forget();
}
