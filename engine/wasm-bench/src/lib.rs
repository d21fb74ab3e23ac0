//! The benchmark suite of issue 11 (`unbounded_engine::bench`) in wasm: `scripts/bench.sh` builds
//! this crate for wasm32-unknown-unknown, runs [`run`] for each workload in Node and in headless
//! Chromium (and [`run_w8_indexeddb`] there), and adds their numbers to the native table.
//! Each call returns [`unbounded_engine::bench::Measurement::to_json`]'s line.
//!
//! The engine has no clock on wasm32 (`std::time::Instant` panics there): this crate hands it the
//! host's `performance.now()`. Peak memory is the linear memory's size after the run: it only
//! grows, so it is the high-water mark of the Rust heap, the workload's input included.
#![cfg(target_arch = "wasm32")]

use unbounded_engine::bench::workloads::CheckpointBench;
use unbounded_engine::bench::{self, Measurement, Timer, Workload};
use wasm_bindgen::prelude::*;

// The page's IndexedDB storage, compiled in by path: the web crate would bring the Yew app.
#[allow(dead_code)]
#[path = "../../../web/src/idb.rs"]
mod idb;

#[wasm_bindgen]
extern "C" {
    // `performance` is a global both in Node (>= 16) and in a page.
    #[wasm_bindgen(js_namespace = performance, js_name = now)]
    fn performance_now() -> f64;
}

fn now_ms() -> f64 {
    performance_now()
}

fn linear_memory_bytes() -> u64 {
    core::arch::wasm32::memory_size(0) as u64 * 65_536
}

fn workload(name: &str) -> Result<Workload, JsError> {
    Workload::parse(name).ok_or_else(|| JsError::new(&format!("`{name}` is not a workload (W1 to W8)")))
}

fn events(n: u32) -> Result<Option<usize>, JsError> {
    match n as usize {
        0 => Ok(None),
        n if n <= bench::MAX_EVENTS => Ok(Some(n)),
        n => Err(JsError::new(&format!("{n} events: at most {} a workload", bench::MAX_EVENTS))),
    }
}

/// Runs workload `name` (W1..W8) over `events` events (0: its default, or its quick size when
/// `quick`, as `unbounded bench --quick`) through the engine and its hand loop, in memory;
/// returns the measurement as one line of JSON.
#[wasm_bindgen]
pub fn run(name: &str, events: u32, quick: bool) -> Result<String, JsError> {
    let w = workload(name)?;
    let n = self::events(events)?.or(quick.then(|| w.quick_events()));
    let measure = || bench::measure_with(w, n, Timer::new(&now_ms)).map_err(|e| JsError::new(&e.to_string()));
    // V8 compiles a function when it is first called and optimises it once it is hot, so the
    // first run of a fresh instance times the compiler as much as the engine (W7 five times
    // over); the page's worker lives for a session. The table gives the second run, the note
    // both.
    let cold = measure()?;
    let mut m = measure()?;
    m.peak_rss = Some(linear_memory_bytes());
    m.note = format!("{}; cold, the first run of a fresh instance: {}", m.note, cold_summary(&cold));
    Ok(m.to_json(None))
}

/// What a cold run measured: W7's time a trigger, W8's write and recovery, or events a second.
fn cold_summary(m: &Measurement) -> String {
    match m.workload {
        Workload::W7 | Workload::W8 => m.note.split(" (").next().unwrap_or_default().to_string(),
        _ => m.secs.map_or_else(String::new, |s| format!("{:.2} M events/s", m.events as f64 / s.max(1e-9) / 1e6)),
    }
}

/// W8 over the page's IndexedDB storage (a database of its own, deleted before and after), after
/// a warm-up in memory:
/// the batch that writes the state, the flush until IndexedDB has committed every write, the
/// reload of every file from IndexedDB, and the restart from what was reloaded.
#[wasm_bindgen]
pub async fn run_w8_indexeddb(keys: u32) -> Result<String, JsError> {
    let keys = self::events(keys)?.unwrap_or_else(|| Workload::W8.default_events());
    let err = |e: String| JsError::new(&e);
    // The same workload in memory first, untimed, so the engine's code is compiled and hot (see `run`).
    bench::measure_with(Workload::W8, Some(keys), Timer::new(&now_ms)).map_err(|e| JsError::new(&e.to_string()))?;
    let db = "unbounded-wasm-bench-w8";
    idb::IdbStorage::delete(db).await.map_err(err)?;
    let timer = Timer::new(&now_ms);
    let (handle, storage) = idb::shared(idb::IdbStorage::open(db).await.map_err(err)?);
    let written = CheckpointBench::write(timer, keys, storage).map_err(|e| JsError::new(&e.to_string()))?;
    let flush = handle.borrow().flushed();
    let start = now_ms();
    flush.await.map_err(err)?;
    let flushed = now_ms();
    let reopened = idb::IdbStorage::open(db).await.map_err(err)?;
    let loaded = now_ms();
    // The query's storage is the shared handle: from here on it reads what IndexedDB gave back.
    std::mem::replace(&mut *handle.borrow_mut(), reopened).close();
    let run = written.recover(timer).map_err(|e| JsError::new(&e.to_string()))?;
    handle.borrow().close();
    idb::IdbStorage::delete(db).await.map_err(err)?;

    let mut m = Measurement {
        workload: Workload::W8,
        events: 0,
        secs: None,
        hand_secs: None,
        agrees: None,
        state: None,
        peak_rss: Some(linear_memory_bytes()),
        note: String::new(),
    };
    bench::checkpoint_measurement(&mut m, &run);
    let (flush_ms, load_ms) = (flushed - start, loaded - flushed);
    let restart_ms = run.recover_secs.map_or(0.0, |s| s * 1e3);
    m.note = format!(
        "write {:.1} ms (the batch {} + IndexedDB's commit {flush_ms:.1} ms), recovery {:.1} ms (reading the database back \
         {load_ms:.1} ms + restart {restart_ms:.1} ms); {} bytes of state files",
        run.write_secs.map_or(0.0, |s| s * 1e3) + flush_ms,
        bench::ms(run.write_secs),
        load_ms + restart_ms,
        run.checkpoint_bytes,
    );
    Ok(m.to_json(Some("IndexedDB")))
}
