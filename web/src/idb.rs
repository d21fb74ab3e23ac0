//! The engine's [`Storage`] on IndexedDB: one object store of files keyed by path, in a database
//! per playground session. IndexedDB is asynchronous and the engine is not, so the files are
//! loaded once when the storage opens and kept in memory; every write and delete then goes to
//! IndexedDB at once, each in its own read-write transaction. IndexedDB runs read-write
//! transactions on one store in the order they were created and each one whole or not at all,
//! so whatever a reload interrupts, the database holds a prefix of the writes: exactly what a
//! crash at that point of the batch protocol leaves, which the checkpoint recovers from.

use std::cell::RefCell;
use std::collections::BTreeMap;
use std::rc::Rc;

use js_sys::{Array, Promise, Uint8Array};
use unbounded_engine::storage::{MemoryStorage, Storage, StorageError, StorageResult};
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;
use wasm_bindgen_futures::JsFuture;
use web_sys::{IdbDatabase, IdbKeyRange, IdbObjectStore, IdbRequest, IdbTransaction, IdbTransactionMode};

const STORE: &str = "files";

fn js_error(context: &str, e: JsValue) -> String {
    let detail = e
        .dyn_ref::<web_sys::DomException>()
        .map(|d| format!("{}: {}", d.name(), d.message()))
        .or_else(|| e.as_string())
        .unwrap_or_else(|| format!("{e:?}"));
    format!("IndexedDB could not {context}: {detail}")
}

/// Resolves when `request` succeeds, with its result.
async fn request_done(request: &IdbRequest) -> Result<JsValue, JsValue> {
    let promise = Promise::new(&mut |resolve, reject| {
        let ok = Closure::once_into_js(move |e: web_sys::Event| {
            let result =
                e.target().and_then(|t| t.dyn_into::<IdbRequest>().ok()).and_then(|r| r.result().ok()).unwrap_or(JsValue::UNDEFINED);
            let _ = resolve.call1(&JsValue::NULL, &result);
        });
        let failed = Closure::once_into_js(move |e: web_sys::Event| {
            let error = e.target().and_then(|t| t.dyn_into::<IdbRequest>().ok()).and_then(|r| r.error().ok().flatten());
            let _ = reject.call1(&JsValue::NULL, &error.map(JsValue::from).unwrap_or(JsValue::NULL));
        });
        request.set_onsuccess(Some(ok.unchecked_ref()));
        request.set_onerror(Some(failed.unchecked_ref()));
    });
    JsFuture::from(promise).await
}

/// Resolves when `tx` has committed.
async fn transaction_done(tx: &IdbTransaction) -> Result<(), JsValue> {
    let promise = Promise::new(&mut |resolve, reject| {
        let ok = Closure::once_into_js(move || {
            let _ = resolve.call0(&JsValue::NULL);
        });
        let reject2 = reject.clone();
        let failed = Closure::once_into_js(move |e: JsValue| {
            let _ = reject.call1(&JsValue::NULL, &e);
        });
        let aborted = Closure::once_into_js(move |e: JsValue| {
            let _ = reject2.call1(&JsValue::NULL, &e);
        });
        tx.set_oncomplete(Some(ok.unchecked_ref()));
        tx.set_onerror(Some(failed.unchecked_ref()));
        tx.set_onabort(Some(aborted.unchecked_ref()));
    });
    JsFuture::from(promise).await.map(|_| ())
}

async fn open_database(name: &str) -> Result<IdbDatabase, String> {
    let factory = web_sys::window()
        .map(|w| w.indexed_db())
        .unwrap_or_else(|| {
            js_sys::global().dyn_into::<web_sys::WorkerGlobalScope>().map_err(|_| JsValue::NULL).and_then(|w| w.indexed_db())
        })
        .map_err(|e| js_error("be reached", e))?
        .ok_or("this browser has no IndexedDB (private mode?): choose the memory storage")?;
    let open = factory.open_with_u32(name, 1).map_err(|e| js_error("open the database", e))?;
    let upgrade = Closure::<dyn FnMut(web_sys::IdbVersionChangeEvent)>::new(move |e: web_sys::IdbVersionChangeEvent| {
        let db = e
            .target()
            .and_then(|t| t.dyn_into::<IdbRequest>().ok())
            .and_then(|r| r.result().ok())
            .and_then(|r| r.dyn_into::<IdbDatabase>().ok());
        if let Some(db) = db {
            if !db.object_store_names().contains(STORE) {
                let _ = db.create_object_store(STORE);
            }
        }
    });
    open.set_onupgradeneeded(Some(upgrade.as_ref().unchecked_ref()));
    let db = request_done(&open).await.map_err(|e| js_error("open the database", e))?;
    drop(upgrade);
    let db = db.dyn_into::<IdbDatabase>().map_err(|_| "IndexedDB opened something that is not a database".to_string())?;
    // A page deleting this session (having found no tab writes it) asks every connection to
    // close: one this worker opened and no longer uses would otherwise block the deletion.
    let close = Closure::once_into_js(|e: web_sys::Event| {
        if let Some(db) = e.target().and_then(|t| t.dyn_into::<IdbDatabase>().ok()) {
            db.close();
        }
    });
    db.set_onversionchange(Some(close.unchecked_ref()));
    Ok(db)
}

/// The first write that failed after the engine had moved on (a full disk, a closed database):
/// the next call to the storage reports it, so the query stops instead of running unsaved.
type Failure = Rc<RefCell<Option<String>>>;

pub struct IdbStorage {
    db: IdbDatabase,
    files: MemoryStorage,
    failure: Failure,
}

impl IdbStorage {
    /// Opens (or creates) the database `name` and loads every file in it.
    pub async fn open(name: &str) -> Result<IdbStorage, String> {
        let db = open_database(name).await?;
        let tx = db.transaction_with_str(STORE).map_err(|e| js_error("read", e))?;
        let store = tx.object_store(STORE).map_err(|e| js_error("read", e))?;
        let keys = request_done(&store.get_all_keys().map_err(|e| js_error("list the files", e))?)
            .await
            .map_err(|e| js_error("list the files", e))?;
        let values =
            request_done(&store.get_all().map_err(|e| js_error("read the files", e))?).await.map_err(|e| js_error("read the files", e))?;
        // Both lists come in key order, so they pair up.
        let mut files = BTreeMap::new();
        for (key, value) in Array::from(&keys).iter().zip(Array::from(&values).iter()) {
            let path = key.as_string().ok_or("IndexedDB holds a key that is not a path")?;
            files.insert(path, Uint8Array::new(&value).to_vec());
        }
        Ok(IdbStorage { db, files: MemoryStorage::from_files(files), failure: Rc::new(RefCell::new(None)) })
    }

    /// Deletes the database `name` and everything in it.
    pub async fn delete(name: &str) -> Result<(), String> {
        let factory = web_sys::window().ok_or("no window")?.indexed_db().map_err(|e| js_error("be reached", e))?.ok_or("no IndexedDB")?;
        let request = factory.delete_database(name).map_err(|e| js_error("delete the database", e))?;
        request_done(&request).await.map(|_| ()).map_err(|e| js_error("delete the database", e))
    }

    /// Resolves once every write made so far is durable: read-write transactions on one store
    /// complete in order, so an empty one completing means all before it have. The future holds
    /// no borrow of the storage, so the engine can go on meanwhile.
    pub fn flushed(&self) -> impl std::future::Future<Output = Result<(), String>> {
        let tx = self.db.transaction_with_str_and_mode(STORE, IdbTransactionMode::Readwrite);
        let failure = self.failure.clone();
        async move {
            let tx = tx.map_err(|e| js_error("flush", e))?;
            transaction_done(&tx).await.map_err(|e| js_error("flush", e))?;
            match failure.borrow().as_ref() {
                Some(f) => Err(f.clone()),
                None => Ok(()),
            }
        }
    }

    /// The files as they were loaded, the database closed: a copy that writes nothing back.
    pub fn into_files(self) -> MemoryStorage {
        self.db.close();
        self.files
    }

    pub fn close(&self) {
        self.db.close();
    }

    fn check(&self) -> StorageResult<()> {
        match self.failure.borrow().as_ref() {
            Some(f) => Err(StorageError { path: String::new(), detail: f.clone() }),
            None => Ok(()),
        }
    }

    /// Starts a read-write transaction and applies `op` to the store; a failure that surfaces
    /// later is kept for the next call.
    fn apply(&self, path: &str, op: impl FnOnce(&IdbObjectStore) -> Result<IdbRequest, JsValue>) -> StorageResult<()> {
        self.check()?;
        let error = |e: JsValue| StorageError { path: path.to_string(), detail: js_error("write", e) };
        let tx = self.db.transaction_with_str_and_mode(STORE, IdbTransactionMode::Readwrite).map_err(error)?;
        let store = tx.object_store(STORE).map_err(error)?;
        op(&store).map_err(error)?;
        let failure = self.failure.clone();
        let path = path.to_string();
        let on_error = Closure::once_into_js(move |e: JsValue| {
            let detail = e
                .dyn_ref::<web_sys::Event>()
                .and_then(|e| e.target())
                .and_then(|t| t.dyn_into::<IdbTransaction>().ok())
                .and_then(|t| t.error());
            let message = detail.map(|d| format!("{}: {}", d.name(), d.message())).unwrap_or_else(|| "the transaction was aborted".into());
            failure.borrow_mut().get_or_insert(format!("writing `{path}` to IndexedDB failed ({message})"));
        });
        tx.set_onabort(Some(on_error.unchecked_ref()));
        Ok(())
    }
}

impl Storage for IdbStorage {
    fn read(&self, path: &str) -> StorageResult<Option<Vec<u8>>> {
        self.check()?;
        self.files.read(path)
    }

    fn size(&self, path: &str) -> StorageResult<Option<u64>> {
        self.check()?;
        self.files.size(path)
    }

    fn write(&mut self, path: &str, bytes: &[u8]) -> StorageResult<()> {
        self.write_vec(path, bytes.to_vec())
    }

    // The bytes are copied once, into the JavaScript array IndexedDB stores; the copy kept
    // here is the engine's own (a state snapshot is megabytes).
    fn write_vec(&mut self, path: &str, bytes: Vec<u8>) -> StorageResult<()> {
        let value = Uint8Array::from(&bytes[..]);
        self.apply(path, |store| store.put_with_key(&value, &JsValue::from_str(path)))?;
        self.files.write_vec(path, bytes)
    }

    fn list(&self, dir: &str) -> StorageResult<Vec<String>> {
        self.check()?;
        self.files.list(dir)
    }

    fn delete(&mut self, path: &str) -> StorageResult<()> {
        self.apply(path, |store| store.delete(&JsValue::from_str(path)))?;
        self.files.delete(path)
    }

    fn delete_all(&mut self, dir: &str) -> StorageResult<()> {
        let prefix = if dir.is_empty() { String::new() } else { format!("{}/", dir.trim_end_matches('/')) };
        // Every path under the directory sorts between `dir/` and `dir/` followed by the
        // highest character.
        let range = IdbKeyRange::bound(&JsValue::from_str(&prefix), &JsValue::from_str(&format!("{prefix}\u{10ffff}")))
            .map_err(|e| StorageError { path: dir.to_string(), detail: js_error("select the directory", e) })?;
        self.apply(dir, |store| store.delete(&range))?;
        self.files.delete_all(dir)
    }
}

/// The IndexedDB storage shared with the engine, and the handle the page keeps to flush it.
pub fn shared(storage: IdbStorage) -> (Rc<RefCell<IdbStorage>>, unbounded_engine::storage::SharedStorage) {
    let rc = Rc::new(RefCell::new(storage));
    let dynamic: Rc<RefCell<dyn Storage>> = rc.clone();
    (rc, unbounded_engine::storage::SharedStorage::from_rc(dynamic))
}
