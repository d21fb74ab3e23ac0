//! The checkpoint and state store suite every storage must pass, public so the browser tests run
//! it on IndexedDB: a query stopped half-way resumes from what the storage kept with the results
//! of an uninterrupted run, and every kind of damage is refused with its own error.

use serde_json::{json, Value as Json};

use crate::error::ErrorKind;
use crate::query::{FailurePoint, OutputMode, QueryDefinition, QueryOptions, StreamingQuery};
use crate::sql::Catalog;
use crate::state::StateStoreConfig;
use crate::storage::{SharedStorage, Storage};
use crate::types::{Column, DataType, Schema};

const SQL: &str = "SELECT window(ts, '10 seconds') AS w, device, count(*) AS n, max(temp) AS hottest \
                   FROM STREAM readings WATERMARK ts DELAY OF INTERVAL 5 SECONDS GROUP BY window(ts, '10 seconds'), device";

fn definition(sql: &str) -> QueryDefinition {
    let schema = Schema::new(vec![
        Column { name: "device".into(), data_type: DataType::String },
        Column { name: "temp".into(), data_type: DataType::Double },
        Column { name: "ts".into(), data_type: DataType::Timestamp },
    ]);
    QueryDefinition {
        sql: sql.into(),
        output_mode: OutputMode::Append,
        catalog: Catalog { sources: vec![("readings".into(), schema)], tables: vec![] },
    }
}

/// Twelve batches of readings: enough versions for snapshots, deltas and cleanup (a snapshot
/// every 4 versions here), with late rows and a bad record.
fn batch(k: usize) -> Vec<Json> {
    let t = |s: usize| format!("2026-01-01 00:{:02}:{:02}", s / 60, s % 60);
    let mut rows = vec![json!(["d1", 20.0 + k as f64, t(k * 7)]), json!([format!("d{}", k % 3), 18.5, t(k * 7 + 3)])];
    if k % 4 == 3 {
        rows.push(json!(["d2", 30.0, t((k * 7).saturating_sub(20))]));
    }
    if k == 5 {
        rows.push(json!(["d9", "hot", t(k * 7)]));
    }
    rows
}

const BATCHES: usize = 12;
const HALF: usize = 7;

fn options(storage: &SharedStorage) -> QueryOptions {
    QueryOptions {
        storage: storage.clone(),
        state_store: StateStoreConfig { snapshot_interval: 4, versions_to_retain: 3 },
        ..QueryOptions::default()
    }
}

fn start(storage: &SharedStorage) -> Result<StreamingQuery, String> {
    StreamingQuery::start_with(definition(SQL), options(storage)).map_err(|e| e.to_string())
}

fn feed(q: &mut StreamingQuery, upto: usize) -> Result<(), String> {
    for k in 0..upto {
        q.add_json("readings", &batch(k)).map_err(|e| e.to_string())?;
    }
    Ok(())
}

/// Runs batches one at a time from `from` to `to`, crashing some on the way.
fn run(q: &mut StreamingQuery, from: usize, to: usize) -> Result<(), String> {
    for k in from..to {
        if k % 3 == 1 {
            q.inject_failure(FailurePoint::ALL[k % 4]);
        }
        q.add_json("readings", &batch(k)).map_err(|e| e.to_string())?;
        q.process_all_available().map_err(|e| e.to_string())?;
    }
    Ok(())
}

/// The first half: runs batches and stops mid-way, leaving the last batch planned but not
/// committed (as a crash or a page reload would).
pub fn first_half(storage: &SharedStorage) -> Result<(), String> {
    let mut q = start(storage)?;
    run(&mut q, 0, HALF)?;
    q.add_json("readings", &batch(HALF)).map_err(|e| e.to_string())?;
    q.inject_failure(FailurePoint::AfterStateWrite);
    let report = q.step().map_err(|e| e.to_string())?;
    // step() recovers within the call; leave a planned batch behind with a crash outside it.
    if report.failures.is_empty() {
        return Err("the armed failure did not fire".into());
    }
    Ok(())
}

/// The second half, in a new query over the reopened storage: the sources are filled again
/// (as the page does from its saved events), the query resumes, and the table, the file and the
/// dead letters equal an uninterrupted run's (the file with the replays the crashes caused).
pub fn second_half(storage: &SharedStorage) -> Result<(), String> {
    let mut q = start(storage)?;
    feed(&mut q, HALF + 1)?;
    run(&mut q, HALF + 1, BATCHES)?;
    let mut reference = start(&SharedStorage::memory())?;
    for k in 0..BATCHES {
        reference.add_json("readings", &batch(k)).map_err(|e| e.to_string())?;
        reference.process_all_available().map_err(|e| e.to_string())?;
    }
    let sorted = |rows: &[Json]| {
        let mut v: Vec<String> = rows.iter().map(Json::to_string).collect();
        v.sort();
        v
    };
    if sorted(q.table().rows()) != sorted(reference.table().rows()) {
        return Err(format!("the resumed table holds {:?}, an uninterrupted run {:?}", q.table().rows(), reference.table().rows()));
    }
    if q.table().rows().is_empty() {
        return Err("the suite's query emitted nothing: it proves nothing".into());
    }
    let letters = |q: &StreamingQuery| q.dead_letter().iter().map(|d| (d.batch_id, d.record.offset)).collect::<Vec<_>>();
    if letters(&q) != letters(&reference) {
        return Err(format!("dead letters after resuming: {:?}, uninterrupted: {:?}", letters(&q), letters(&reference)));
    }
    let versions = storage.scoped("checkpoint/state/0-stateStoreSave/default").list("").map_err(|e| e.to_string())?;
    if !versions.iter().any(|v| v.ends_with(".snapshot")) || versions.len() > 8 {
        return Err(format!("the state store should keep a snapshot and a few deltas, it keeps {versions:?}"));
    }
    Ok(())
}

/// A checkpoint written by the suite's query, on a fresh storage from `fresh`.
fn written(fresh: &mut dyn FnMut() -> SharedStorage) -> Result<SharedStorage, String> {
    let storage = fresh();
    let mut q = start(&storage)?;
    run(&mut q, 0, 6)?;
    Ok(storage)
}

fn expect_refusal(storage: &SharedStorage, sql: &str, case: &str, needle: &str) -> Result<(), String> {
    let before = storage.scoped("").list("checkpoint").map_err(|e| e.to_string())?;
    match StreamingQuery::start_with(definition(sql), options(storage)) {
        Ok(_) => Err(format!("{case}: the damaged checkpoint was accepted")),
        Err(e) if e.kind != ErrorKind::Checkpoint => Err(format!("{case}: a {:?} error instead of a checkpoint error: {e}", e.kind)),
        Err(e) if !e.message.contains(needle) => Err(format!("{case}: the error does not say `{needle}`: {e}")),
        Err(_) if storage.scoped("").list("checkpoint").map_err(|e| e.to_string())? != before => {
            Err(format!("{case}: refusing the checkpoint changed it"))
        }
        Err(_) => Ok(()),
    }
}

fn edit(storage: &SharedStorage, path: &str, change: impl FnOnce(&mut Vec<u8>)) -> Result<(), String> {
    let mut s = storage.scoped("checkpoint");
    let mut bytes = s.read(path).map_err(|e| e.to_string())?.ok_or_else(|| format!("the suite expected `{path}` to exist"))?;
    change(&mut bytes);
    s.write(path, &bytes).map_err(|e| e.to_string())
}

/// Changes `metadata`'s body and frames it again, as another query or version would have
/// written it: the checksum is right, the content is not this query's.
fn rewrite_metadata(storage: &SharedStorage, from: &str, to: &str) -> Result<(), String> {
    edit(storage, "metadata", |b| {
        let text = String::from_utf8_lossy(b).replace(from, to);
        let body = text.split_once('\n').map(|(_, body)| body.to_string()).unwrap_or_default();
        *b = crate::checkpoint::frame(body.as_bytes());
    })
}

/// Every kind of damage, each on a fresh checkpoint: the start is refused with the specific
/// error and the checkpoint is left as it was. Returns the cases checked.
pub fn corruption_cases(fresh: &mut dyn FnMut() -> SharedStorage) -> Result<Vec<&'static str>, String> {
    let mut done = Vec::new();

    let s = written(fresh)?;
    edit(&s, "offsets/3", |b| {
        let i = b.len() - 5;
        b[i] ^= 0x04;
    })?;
    expect_refusal(&s, SQL, "flipped byte in offsets/3", "`offsets/3` is damaged: its checksum does not match")?;
    done.push("flipped byte in an offsets entry");

    let s = written(fresh)?;
    let version = s.scoped("checkpoint/state/0-stateStoreSave/default").list("").map_err(|e| e.to_string())?;
    let last = version.last().cloned().ok_or("no state was written")?;
    edit(&s, &format!("state/0-stateStoreSave/default/{last}"), |b| {
        let i = (b.len() / 2 + 20).min(b.len() - 1);
        b[i] ^= 0x80;
    })?;
    expect_refusal(&s, SQL, "flipped byte in the state", "is damaged")?;
    done.push("flipped byte in a state file");

    let s = written(fresh)?;
    edit(&s, "commits/4", |b| b.truncate(b.len() - 3))?;
    expect_refusal(&s, SQL, "truncated commit", "cut short")?;
    done.push("truncated commit");

    let s = written(fresh)?;
    s.scoped("checkpoint").delete("commits/2").map_err(|e| e.to_string())?;
    expect_refusal(&s, SQL, "missing commit", "`commits/2` is missing")?;
    done.push("a missing commit");

    let s = written(fresh)?;
    let mut state = s.scoped("checkpoint/state/0-stateStoreSave/default");
    let newest = state
        .list("")
        .map_err(|e| e.to_string())?
        .iter()
        .filter_map(|n| n.split('.').next().and_then(|v| v.parse::<u64>().ok()))
        .max()
        .ok_or("no state was written")?;
    for kind in ["delta", "snapshot"] {
        state.delete(&format!("{newest}.{kind}")).map_err(|e| e.to_string())?;
    }
    expect_refusal(&s, SQL, "missing state version", &format!("`state/0-stateStoreSave/default/{newest}.delta` is missing"))?;
    done.push("a missing state version");

    let s = written(fresh)?;
    let foreign = SQL.replace("max(temp)", "min(temp)");
    expect_refusal(&s, &foreign, "foreign query", "belongs to another query")?;
    done.push("a foreign query's checkpoint");

    let s = written(fresh)?;
    rewrite_metadata(&s, "\"double\"", "\"string\"")?;
    expect_refusal(&s, SQL, "changed schema", "the source `readings` changed since the checkpoint was written")?;
    done.push("a changed source schema");

    let s = written(fresh)?;
    rewrite_metadata(&s, "0-stateStoreSave[default]", "0-dedupe[default]")?;
    expect_refusal(&s, SQL, "changed layout", "stateful operators changed")?;
    done.push("a changed operator layout");

    let s = written(fresh)?;
    edit(&s, "offsets/1", |b| {
        let text = String::from_utf8_lossy(b).replacen("v1 ", "v7 ", 1);
        *b = text.into_bytes();
    })?;
    expect_refusal(&s, SQL, "format version", "has format `v7`")?;
    done.push("another format version");
    Ok(done)
}
