//! The storage, checkpoint and state store suites on IndexedDB, in headless Chromium: what the
//! engine wrote must come back after the database is closed and opened again (a page reload),
//! and damaged checkpoints are refused as on every other storage.
#![cfg(target_arch = "wasm32")]

use unbounded_engine::checkpoint::suite;
use unbounded_engine::storage::suite as storage_suite;
use unbounded_web::idb::{shared, IdbStorage};
use wasm_bindgen_test::*;

wasm_bindgen_test_configure!(run_in_browser);

async fn fresh(name: &str) -> IdbStorage {
    IdbStorage::delete(name).await.unwrap();
    IdbStorage::open(name).await.unwrap()
}

#[wasm_bindgen_test]
async fn indexeddb_passes_the_storage_suite_across_reopening() {
    let mut first = fresh("unbounded-test-storage").await;
    storage_suite::write_phase(&mut first).unwrap();
    first.flushed().await.unwrap();
    first.close();
    let mut second = IdbStorage::open("unbounded-test-storage").await.unwrap();
    storage_suite::check_phase(&mut second).unwrap();
    second.flushed().await.unwrap();
    second.close();
    // The deletes of the check phase reached the database too.
    let third = IdbStorage::open("unbounded-test-storage").await.unwrap();
    use unbounded_engine::storage::Storage;
    assert!(third.list("").unwrap().is_empty());
}

#[wasm_bindgen_test]
async fn a_query_resumes_from_indexeddb_after_a_reload() {
    let (handle, storage) = shared(fresh("unbounded-test-resume").await);
    suite::first_half(&storage).unwrap();
    let flush = handle.borrow().flushed();
    flush.await.unwrap();
    handle.borrow().close();
    drop((handle, storage));
    let (handle, storage) = shared(IdbStorage::open("unbounded-test-resume").await.unwrap());
    suite::second_half(&storage).unwrap();
    let flush = handle.borrow().flushed();
    flush.await.unwrap();
}

#[wasm_bindgen_test]
async fn damaged_checkpoints_in_indexeddb_are_refused() {
    let mut pool = Vec::new();
    for k in 0..12 {
        pool.push(shared(fresh(&format!("unbounded-test-damage-{k}")).await));
    }
    let mut handles = Vec::new();
    let cases = suite::corruption_cases(&mut || {
        let (handle, storage) = pool.pop().expect("enough databases opened for every case");
        handles.push(handle);
        storage
    })
    .unwrap();
    assert_eq!(cases.len(), 9, "{cases:?}");
    for h in handles {
        let flush = h.borrow().flushed();
        flush.await.unwrap();
    }
}
