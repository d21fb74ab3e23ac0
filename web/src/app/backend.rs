//! The engine's worker as the page sees it: requests go in, snapshots come back. When the worker
//! stops (a panic is a wasm trap that ends it), the page is told why and may start a new worker
//! that picks the session up again: from its checkpoint when IndexedDB saves it, else from the
//! page's own copy, the scenario it started from and the requests that changed it since.

use std::cell::{Cell, RefCell};
use std::rc::Rc;

use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;
use web_sys::{ErrorEvent, MessageEvent};
use yew::Callback;

use crate::protocol::{Request, Snapshot, StorageKind, WorkerPanic};

/// What the page learns from the worker.
pub enum Message {
    Snapshot(Box<Snapshot>),
    /// The worker stopped: what is known of why.
    Stopped(String),
}

#[derive(Clone)]
pub struct Backend(Rc<Inner>);

struct Inner {
    worker: RefCell<web_sys::Worker>,
    /// Requests sent to the current worker, and how many of them it had taken in its last snapshot.
    sent: Cell<u64>,
    answered: Cell<u64>,
    /// The `Init` that starts the session again on a new worker.
    base: RefCell<Request>,
    /// The requests since `base` that changed a session nothing saves, by their number.
    journal: RefCell<Vec<(u64, Request)>>,
    /// The worker stopped: requests are dropped until it is restarted.
    stopped: Cell<bool>,
    /// Why it stopped, as first said (a panic's own message beats the trap that follows it).
    why: RefCell<Option<String>>,
    /// The worker's report of a panic: the request it was handling, None between requests.
    panicked_in: Cell<Option<Option<u64>>>,
    listener: RefCell<Option<Callback<Message>>>,
    closures: RefCell<Vec<Handler>>,
    /// The worker's script, for a restart.
    url: String,
}

/// A handler of the worker's events, kept alive as long as the worker is listened to.
type Handler = Closure<dyn FnMut(JsValue)>;

impl PartialEq for Backend {
    fn eq(&self, other: &Self) -> bool {
        Rc::ptr_eq(&self.0, &other.0)
    }
}

/// The page's worker script; an embed's is beside `www/unbounded-embed.js`, wherever that is.
const PAGE_WORKER: &str = "./www/worker.js";

fn new_worker(url: &str) -> Result<web_sys::Worker, String> {
    let options = web_sys::WorkerOptions::new();
    options.set_type(web_sys::WorkerType::Module);
    web_sys::Worker::new_with_options(url, &options).map_err(|e| format!("the engine's worker could not start: {e:?}"))
}

/// Whether a request changes the session (and so is replayed on a new worker when nothing
/// saves the session). Reads, the live run's controls and the storage moves are not.
fn changes_session(r: &Request) -> bool {
    !matches!(
        r,
        Request::Init { .. }
            | Request::SetStorage { .. }
            | Request::Export
            | Request::Play { .. }
            | Request::Pause
            | Request::SetGenerator { .. }
            | Request::QueryTable { .. }
            | Request::ReadCheckpoint { .. }
            | Request::DebugPanic
    )
}

impl Backend {
    pub fn start() -> Result<Backend, String> {
        Backend::start_at(PAGE_WORKER)
    }

    /// A worker from the script at `url` (an embed's).
    pub fn start_at(url: &str) -> Result<Backend, String> {
        let worker = new_worker(url)?;
        let base = Request::Init { storage: StorageKind::Memory, scenario: None, session: String::new(), read_only: false };
        Ok(Backend(Rc::new(Inner {
            worker: RefCell::new(worker),
            sent: Cell::new(0),
            answered: Cell::new(0),
            base: RefCell::new(base),
            journal: RefCell::new(Vec::new()),
            stopped: Cell::new(false),
            why: RefCell::new(None),
            panicked_in: Cell::new(None),
            listener: RefCell::new(None),
            closures: RefCell::new(Vec::new()),
            url: url.to_string(),
        })))
    }

    /// Ends the worker for good (an embed taken off its page).
    pub fn terminate(&self) {
        self.forget_listener();
        self.0.stopped.set(true);
        self.0.worker.borrow().terminate();
    }

    /// Sends every message of this and later workers to `listener`.
    pub fn listen(&self, listener: Callback<Message>) {
        *self.0.listener.borrow_mut() = Some(listener);
        self.attach();
    }

    pub fn forget_listener(&self) {
        *self.0.listener.borrow_mut() = None;
        let w = self.0.worker.borrow();
        w.set_onmessage(None);
        w.set_onerror(None);
        w.set_onmessageerror(None);
        self.0.closures.borrow_mut().clear();
    }

    fn attach(&self) {
        let weak = Rc::downgrade(&self.0);
        let on_message = Closure::<dyn FnMut(JsValue)>::new(move |e: JsValue| {
            let (Some(inner), Some(text)) = (weak.upgrade(), e.dyn_ref::<MessageEvent>().and_then(|m| m.data().as_string())) else {
                return;
            };
            Backend(inner).received(&text);
        });
        let weak = Rc::downgrade(&self.0);
        let on_error = Closure::<dyn FnMut(JsValue)>::new(move |e: JsValue| {
            let Some(inner) = weak.upgrade() else { return };
            let detail = e.dyn_ref::<ErrorEvent>().map(|e| e.message()).filter(|m| !m.is_empty());
            Backend(inner).stopped(detail.unwrap_or_else(|| "the engine's worker failed to load or stopped with an error".into()));
        });
        let weak = Rc::downgrade(&self.0);
        let on_message_error = Closure::<dyn FnMut(JsValue)>::new(move |_: JsValue| {
            let Some(inner) = weak.upgrade() else { return };
            Backend(inner).stopped("a message from the engine could not be read".into());
        });
        let w = self.0.worker.borrow();
        w.set_onmessage(Some(on_message.as_ref().unchecked_ref()));
        w.set_onerror(Some(on_error.as_ref().unchecked_ref()));
        w.set_onmessageerror(Some(on_message_error.as_ref().unchecked_ref()));
        *self.0.closures.borrow_mut() = vec![on_message, on_error, on_message_error];
    }

    fn emit(&self, m: Message) {
        let listener = self.0.listener.borrow().clone();
        if let Some(l) = listener {
            l.emit(m);
        }
    }

    fn received(&self, text: &str) {
        if let Ok(snapshot) = serde_json::from_str::<Snapshot>(text) {
            if self.0.stopped.get() {
                return;
            }
            self.0.answered.set(snapshot.answered);
            self.rebase(&snapshot);
            self.emit(Message::Snapshot(Box::new(snapshot)));
        } else if let Ok(p) = serde_json::from_str::<WorkerPanic>(text) {
            self.0.panicked_in.set(Some(p.request));
            self.stopped(format!("the engine panicked: {}", p.panic));
        }
    }

    /// Keeps the page's copy of the session short: a session IndexedDB saves needs none, and
    /// an exported one replaces the requests it already holds.
    fn rebase(&self, s: &Snapshot) {
        let mut base = self.0.base.borrow_mut();
        let Request::Init { storage, scenario, session, read_only } = &mut *base else { return };
        if s.storage == StorageKind::IndexedDb && s.detached.is_none() {
            *storage = StorageKind::IndexedDb;
            *scenario = None;
            *read_only = false;
            self.0.journal.borrow_mut().clear();
        } else if let Some(text) = &s.exported {
            if s.detached.is_none() {
                *storage = StorageKind::Memory;
                *read_only = false;
                session.clear();
            }
            *scenario = Some(text.clone());
            self.0.journal.borrow_mut().retain(|(n, _)| *n >= s.answered);
        }
    }

    fn stopped(&self, why: String) {
        self.0.stopped.set(true);
        let first = {
            let mut known = self.0.why.borrow_mut();
            if known.is_none() {
                *known = Some(why);
            }
            known.clone().unwrap_or_default()
        };
        self.emit(Message::Stopped(first));
    }

    pub fn send(&self, r: Request) {
        if self.0.stopped.get() {
            return;
        }
        if let Request::Init { .. } = &r {
            *self.0.base.borrow_mut() = r.clone();
            self.0.journal.borrow_mut().clear();
        }
        if let Request::SetStorage { storage: StorageKind::IndexedDb, session } = &r {
            *self.0.base.borrow_mut() =
                Request::Init { storage: StorageKind::IndexedDb, scenario: None, session: session.clone(), read_only: false };
            self.0.journal.borrow_mut().clear();
        }
        self.post(r);
    }

    fn post(&self, r: Request) {
        let n = self.0.sent.get();
        self.0.sent.set(n + 1);
        if changes_session(&r) {
            self.0.journal.borrow_mut().push((n, r.clone()));
        }
        if let Ok(text) = serde_json::to_string(&r) {
            let _ = self.0.worker.borrow().post_message(&JsValue::from_str(&text));
        }
    }

    /// A new worker in place of the stopped one, given the session again: it resumes from its
    /// checkpoint, or replays the page's copy, without the request it stopped in (which would
    /// stop it again).
    pub fn restart(&self) -> Result<(), String> {
        let worker = new_worker(&self.0.url)?;
        self.0.worker.borrow().terminate();
        *self.0.worker.borrow_mut() = worker;
        // Without the worker's word (a trap that is no panic), the first request it had not
        // answered is taken for the one it stopped in.
        let guess = (self.0.sent.get() > self.0.answered.get()).then(|| self.0.answered.get());
        let stopped_in = self.0.panicked_in.get().unwrap_or(guess);
        let journal: Vec<Request> = self.0.journal.borrow_mut().drain(..).filter(|(n, _)| Some(*n) != stopped_in).map(|(_, r)| r).collect();
        self.0.sent.set(0);
        self.0.answered.set(0);
        self.0.stopped.set(false);
        self.0.panicked_in.set(None);
        *self.0.why.borrow_mut() = None;
        self.attach();
        let base = self.0.base.borrow().clone();
        self.post(base);
        for r in journal {
            self.post(r);
        }
        Ok(())
    }
}
