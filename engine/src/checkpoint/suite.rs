//! The checkpoint and state store suite every storage must pass, public so the browser tests run
//! it on IndexedDB: a query stopped half-way resumes from what the storage kept with the results
//! of an uninterrupted run, and every kind of damage is refused with its own error.

use std::collections::BTreeMap;

use serde_json::{json, Value as Json};

use crate::checkpoint::frame;
use crate::error::ErrorKind;
use crate::runtime::{FailurePoint, OutputMode, QueryDefinition, QueryOptions, StreamingQuery};
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
    if sorted(&q.table().rows_json()) != sorted(&reference.table().rows_json()) {
        return Err(format!(
            "the resumed table holds {:?}, an uninterrupted run {:?}",
            q.table().rows_json(),
            reference.table().rows_json()
        ));
    }
    if q.table().num_rows() == 0 {
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

/// A stateful query of the damage suite, over two sources so a join fits among them.
struct Stateful {
    name: &'static str,
    sql: &'static str,
}

const STATEFUL: [Stateful; 4] = [
    Stateful { name: "windowed aggregation", sql: SQL },
    Stateful {
        name: "deduplication",
        sql:
            "SELECT device, temp, ts FROM STREAM readings WATERMARK ts DELAY OF INTERVAL 5 SECONDS DEDUPLICATE WITHIN WATERMARK BY (device)",
    },
    Stateful {
        name: "stream-stream join",
        sql: "SELECT r.device, r.temp, a.level FROM STREAM readings WATERMARK ts DELAY OF INTERVAL 5 SECONDS AS r \
              JOIN STREAM alerts WATERMARK ats DELAY OF INTERVAL 5 SECONDS AS a \
              ON r.device = a.device AND a.ats BETWEEN r.ts AND r.ts + INTERVAL 10 SECONDS",
    },
    Stateful {
        name: "session window",
        sql: "SELECT device, session_window(ts, '10 seconds') AS s, count(*) AS n FROM STREAM readings \
              WATERMARK ts DELAY OF INTERVAL 5 SECONDS GROUP BY device, session_window(ts, '10 seconds')",
    },
];

fn two_sources(sql: &str) -> QueryDefinition {
    let mut d = definition(sql);
    let alerts = Schema::new(vec![
        Column { name: "device".into(), data_type: DataType::String },
        Column { name: "level".into(), data_type: DataType::Int },
        Column { name: "ats".into(), data_type: DataType::Timestamp },
    ]);
    d.catalog.sources.push(("alerts".into(), alerts));
    d
}

fn alerts(k: usize) -> Vec<Json> {
    let t = |s: usize| format!("2026-01-01 00:{:02}:{:02}", s / 60, s % 60);
    vec![json!([format!("d{}", k % 3), k, t(k * 7 + 2)]), json!(["d1", 9, t(k * 7 + 5)])]
}

/// Batches written before the stop; the last of them is planned and its state written, but it
/// never commits. Then the resumed query runs up to `DAMAGE_BATCHES`.
const WRITTEN: usize = 6;
const DAMAGE_BATCHES: usize = 12;

fn add(q: &mut StreamingQuery, k: usize) -> Result<(), String> {
    q.add_json("readings", &batch(k)).map_err(|e| e.to_string())?;
    if k == 2 {
        // A bad record in a committed batch, so its dead letter file is one the resume reads.
        q.add_json("readings", &[json!(["d8", "warm", "2026-01-01 00:00:15"])]).map_err(|e| e.to_string())?;
    }
    q.add_json("alerts", &alerts(k)).map_err(|e| e.to_string())
}

fn damage_options(storage: &SharedStorage) -> QueryOptions {
    QueryOptions {
        storage: storage.clone(),
        state_store: StateStoreConfig { snapshot_interval: 2, versions_to_retain: 3 },
        ..QueryOptions::default()
    }
}

/// Every file under the storage's root, by path.
fn all_files(storage: &SharedStorage) -> Result<BTreeMap<String, Vec<u8>>, String> {
    let root = storage.scoped("");
    let mut files = BTreeMap::new();
    let mut dirs = vec![String::new()];
    while let Some(dir) = dirs.pop() {
        for name in root.list(&dir).map_err(|e| e.to_string())? {
            let path = crate::storage::join(&dir, &name);
            match root.read(&path).map_err(|e| e.to_string())? {
                Some(bytes) => {
                    files.insert(path, bytes);
                }
                None => dirs.push(path),
            }
        }
    }
    Ok(files)
}

/// A checkpoint of `sql` stopped mid-batch, as a crash or a closed tab leaves it.
fn stopped(sql: &str) -> Result<BTreeMap<String, Vec<u8>>, String> {
    let storage = SharedStorage::memory();
    let mut q = StreamingQuery::start_with(two_sources(sql), damage_options(&storage)).map_err(|e| e.to_string())?;
    for k in 0..WRITTEN - 1 {
        add(&mut q, k)?;
        q.process_all_available().map_err(|e| e.to_string())?;
    }
    add(&mut q, WRITTEN - 1)?;
    q.inject_failure(FailurePoint::AfterStateWrite);
    if !q.step_without_recovery().map_err(|e| e.to_string())? {
        return Err("the armed failure did not fire".into());
    }
    all_files(&storage)
}

/// What a resumed query does: the offset ranges of every batch it ran, the sink table's rows
/// (sorted), the dead letters.
type Outcome = (Vec<(u64, Vec<(u64, u64)>)>, Vec<String>, Vec<(u64, String, u64)>);

/// Resumes `sql` over `files`: the sources filled again, the rest of the batches run.
fn resume(sql: &str, files: &BTreeMap<String, Vec<u8>>, fresh: &mut dyn FnMut() -> SharedStorage) -> crate::Result<Outcome> {
    let storage = fresh();
    let mut root = storage.scoped("");
    for (path, bytes) in files {
        root.write(path, bytes)?;
    }
    let mut q = StreamingQuery::start_with(two_sources(sql), damage_options(&storage))?;
    let bad = |e: String| crate::Error::invalid_input(e);
    for k in 0..WRITTEN {
        add(&mut q, k).map_err(bad)?;
    }
    q.process_all_available()?;
    let replayed = q.table().num_rows();
    for k in WRITTEN..DAMAGE_BATCHES {
        add(&mut q, k).map_err(bad)?;
        q.process_all_available()?;
    }
    let mut rows: Vec<String> = q.table().rows_json().iter().map(Json::to_string).collect();
    rows.sort();
    if rows.len() == replayed {
        return Err(crate::Error::invalid_input("the batches after the resume emitted nothing, so records skipped there would go unseen"));
    }
    let letters = q.dead_letter().iter().map(|d| (d.batch_id, d.record.source.clone(), d.record.offset)).collect();
    let ranges = q.history().iter().map(|p| (p.batch_id, p.sources.iter().map(|s| (s.start_offset, s.end_offset)).collect())).collect();
    Ok((ranges, rows, letters))
}

/// The body of a framed file (the suite's own files are well framed).
/// A state file's body with its entries in key order: the fingerprint pins how each entry is
/// encoded, not the order an operator writes a version's changes in (a key's put and delete in
/// one delta keep their order).
type DeltaFile = (u64, Vec<(Vec<u8>, Option<Vec<u8>>)>);
type SnapshotFile = (u64, Vec<(Vec<u8>, Vec<u8>)>);

fn entries_in_key_order(path: &str, body: &[u8]) -> Result<Vec<u8>, String> {
    let bad = |e: postcard::Error| format!("{path}: {e}");
    if path.ends_with(".delta") {
        let (version, mut entries): DeltaFile = postcard::from_bytes(body).map_err(bad)?;
        entries.sort_by(|a, b| a.0.cmp(&b.0));
        postcard::to_allocvec(&(version, entries)).map_err(bad)
    } else {
        let (version, mut entries): SnapshotFile = postcard::from_bytes(body).map_err(bad)?;
        entries.sort_by(|a, b| a.0.cmp(&b.0));
        postcard::to_allocvec(&(version, entries)).map_err(bad)
    }
}

fn body(bytes: &[u8]) -> &[u8] {
    bytes.iter().position(|b| *b == b'\n').map_or(bytes, |i| &bytes[i + 1..])
}

/// Every JSON value `json` can be turned into by changing one leaf (to a negative, a huge, a
/// far-off number or a value of another type), removing one field, adding one, or nesting a
/// part deeply.
fn json_damages(json: &Json) -> Vec<(String, Json)> {
    fn walk(at: &Json, path: &mut Vec<Json>, out: &mut Vec<(String, Vec<Json>, Option<Json>)>) {
        fn shown(path: &[Json]) -> String {
            path.iter().map(|p| p.to_string()).collect::<Vec<_>>().join("/")
        }
        let here = || shown(path);
        match at {
            Json::Number(_) => {
                for v in [json!(-1), json!(u64::MAX), json!(i64::MAX), json!(1_000_000_000_000u64), json!("1")] {
                    out.push((format!("{} = {v}", here()), path.clone(), Some(v)));
                }
            }
            Json::String(_) => out.push((format!("{} = 5", here()), path.clone(), Some(json!(5)))),
            Json::Bool(_) | Json::Null => out.push((format!("{} = \"x\"", here()), path.clone(), Some(json!("x")))),
            Json::Array(items) => {
                for (i, item) in items.iter().enumerate() {
                    path.push(json!(i));
                    walk(item, path, out);
                    path.pop();
                }
            }
            Json::Object(fields) => {
                for (k, v) in fields {
                    path.push(json!(k));
                    out.push((format!("{} removed", shown(path)), path.clone(), None));
                    walk(v, path, out);
                    path.pop();
                }
                let mut extra = path.clone();
                extra.push(json!("unexpected"));
                out.push((format!("{} gains a field", shown(path)), extra, Some(json!(1))));
            }
        }
    }
    fn apply(json: &Json, path: &[Json], value: Option<Json>) -> Json {
        let mut out = json.clone();
        let mut at = &mut out;
        for (i, step) in path.iter().enumerate() {
            let last = i + 1 == path.len();
            match (at, step) {
                (Json::Object(m), Json::String(k)) if last => {
                    match &value {
                        Some(v) => m.insert(k.clone(), v.clone()),
                        None => m.shift_remove(k),
                    };
                    return out;
                }
                (Json::Array(a), Json::Number(n)) if last => {
                    if let (Some(slot), Some(v)) = (n.as_u64().and_then(|n| a.get_mut(n as usize)), &value) {
                        *slot = v.clone();
                    }
                    return out;
                }
                (Json::Object(m), Json::String(k)) => match m.get_mut(k) {
                    Some(next) => at = next,
                    None => return out,
                },
                (Json::Array(a), Json::Number(n)) => match n.as_u64().and_then(|n| a.get_mut(n as usize)) {
                    Some(next) => at = next,
                    None => return out,
                },
                _ => return out,
            }
        }
        value.unwrap_or(Json::Null)
    }
    let mut found = Vec::new();
    walk(json, &mut Vec::new(), &mut found);
    found.into_iter().map(|(what, path, value)| (what, apply(json, &path, value))).collect()
}

/// `Value::Array` nested `depth` deep, postcard-encoded by hand.
fn deep_value(depth: usize) -> Vec<u8> {
    let mut bytes = [7u8, 1].repeat(depth);
    bytes.extend([2, 6]);
    bytes
}

fn varint(mut n: u64) -> Vec<u8> {
    let mut out = Vec::new();
    loop {
        let byte = (n & 0x7f) as u8;
        n >>= 7;
        if n == 0 {
            out.push(byte);
            return out;
        }
        out.push(byte | 0x80);
    }
}

/// Every damage the suite applies to the file at `path`: cut short, emptied, moved to another
/// name, and bodies changed then framed again with a right checksum (so only a check of the
/// content can catch them).
fn damages(path: &str, bytes: &[u8], files: &BTreeMap<String, Vec<u8>>) -> Vec<(String, Option<Vec<u8>>, Option<String>)> {
    let mut out: Vec<(String, Option<Vec<u8>>, Option<String>)> = Vec::new();
    let header = bytes.len() - body(bytes).len();
    for len in [0, 1, header.saturating_sub(1), header, (header + bytes.len()) / 2, bytes.len() - 1] {
        if len < bytes.len() {
            out.push((format!("cut to {len} bytes"), Some(bytes[..len].to_vec()), None));
        }
    }
    out.push(("an empty body".into(), Some(frame(b"")), None));
    out.push(("a byte more".into(), Some(frame(&[body(bytes), b"\0"].concat())), None));
    let name = path.rsplit('/').next().unwrap_or(path);
    let dir = &path[..path.len() - name.len()];
    let number = name.split('.').next().and_then(|n| n.parse::<u64>().ok());
    if let Some(n) = number {
        let ext = name.strip_prefix(&n.to_string()).unwrap_or("");
        for other in [n + 1, n + 10, u64::MAX] {
            let to = format!("{dir}{other}{ext}");
            if !files.contains_key(&to) {
                out.push((format!("copied to {to}"), Some(bytes.to_vec()), Some(to)));
            }
        }
    }
    let body = body(bytes);
    if path.contains("/state/") {
        let (version, rest) = postcard::take_from_bytes::<u64>(body).unwrap_or((0, body));
        let reframe = |b: Vec<u8>| Some(frame(&b));
        out.push(("the version of another file".into(), reframe([varint(version + 1), rest.to_vec()].concat()), None));
        out.push(("a huge version".into(), reframe([varint(u64::MAX), rest.to_vec()].concat()), None));
        out.push(("2^60 entries announced".into(), reframe([varint(version), varint(1 << 60), vec![0; 32]].concat()), None));
        let key = b"k".to_vec();
        let snapshot = path.ends_with(".snapshot");
        for (what, value) in [("a value nested a million deep", deep_value(1_000_000)), ("a value that is not one", vec![0xff; 3])] {
            let entries = if snapshot {
                postcard::to_allocvec(&(version, vec![(key.clone(), value)]))
            } else {
                postcard::to_allocvec(&(version, vec![(key.clone(), Some(value))]))
            };
            out.push((what.into(), entries.ok().and_then(reframe), None));
        }
        out.push(("a body of 2^60 zero bytes announced".into(), reframe([varint(version), varint(1), varint(1 << 60)].concat()), None));
    } else if let Ok(json) = serde_json::from_slice::<Json>(body) {
        for (what, damaged) in json_damages(&json) {
            out.push((what, Some(frame(damaged.to_string().as_bytes())), None));
        }
        let deep = format!("{}1{}", "[".repeat(200_000), "]".repeat(200_000));
        out.push(("nested 200,000 deep".into(), Some(frame(deep.as_bytes())), None));
    }
    out
}

/// The checkpoint-corruption suite: for each stateful query, a real checkpoint stopped
/// mid-batch, and for every file of it every damage of [`damages`]; each damaged checkpoint is
/// resumed on a fresh storage from `fresh`. A damage must be refused with a checkpoint error,
/// or (where it is harmless by design: a processing time, a setting shown to people) end
/// exactly as the undamaged checkpoint does. Never a panic, never another error, never a
/// different result. Returns how many damaged checkpoints were refused and how many were
/// harmless.
pub fn every_damage(fresh: &mut dyn FnMut() -> SharedStorage) -> Result<(usize, usize), String> {
    let (mut refused, mut harmless) = (0, 0);
    let mut failures = Vec::new();
    for query in &STATEFUL {
        let files = stopped(query.sql)?;
        let expected = resume(query.sql, &files, fresh).map_err(|e| format!("{}: the undamaged checkpoint: {e}", query.name))?;
        for (path, bytes) in files.iter().filter(|(p, _)| p.starts_with("checkpoint/")) {
            for (what, content, moved_to) in damages(path, bytes, &files) {
                let mut damaged = files.clone();
                match (content, &moved_to) {
                    (Some(c), Some(to)) => damaged.insert(to.clone(), c),
                    (Some(c), None) => damaged.insert(path.clone(), c),
                    (None, _) => damaged.remove(path),
                };
                let case = format!("{}: `{path}` {what}", query.name);
                match resume(query.sql, &damaged, fresh) {
                    Err(e) if e.kind == ErrorKind::Checkpoint => refused += 1,
                    Err(e) => failures.push(format!("{case}: a {:?} error instead of a checkpoint error: {e}", e.kind)),
                    Ok(outcome) if outcome == expected => harmless += 1,
                    Ok(outcome) => failures.push(format!("{case}: resumed silently with other results: {outcome:?}, not {expected:?}")),
                }
            }
        }
    }
    if !failures.is_empty() {
        return Err(format!("{} damaged checkpoints were not refused:\n{}", failures.len(), failures.join("\n")));
    }
    Ok((refused, harmless))
}

/// A checksum of the state deltas a fixed run of every stateful operator writes (with every
/// aggregate function): it changes when a state value's type, its postcard encoding or the
/// keys' encoding changes, which is when [`crate::state::STATE_LAYOUT`] must be bumped, so old
/// checkpoints are refused instead of decoded into wrong values. Every version's delta is kept
/// and hashed; snapshots are not, so when the store writes them does not change the checksum
/// (their encoding is pinned in `state::store`).
pub fn state_layout_fingerprint() -> Result<u32, String> {
    let every_aggregate = "SELECT window(ts, '10 seconds') AS w, device, count(*) AS n, sum(temp) AS s, avg(temp) AS a, \
                           mean(temp) AS m, min(temp) AS lo, max(ts) AS hi, first(temp) AS f, first_value(device) AS fv, \
                           last(temp) AS l, last_value(ts) AS lv, count_if(temp > 20) AS c, approx_count_distinct(temp) AS d, \
                           collect_list(temp) AS cl, collect_set(device) AS cs, array_agg(ts) AS ag \
                           FROM STREAM readings WATERMARK ts DELAY OF INTERVAL 5 SECONDS GROUP BY window(ts, '10 seconds'), device";
    let limit = "SELECT device FROM STREAM readings LIMIT 5";
    let mut hasher = crc32fast::Hasher::new();
    for sql in STATEFUL.iter().map(|q| q.sql).chain([every_aggregate, limit]) {
        let storage = SharedStorage::memory();
        let options = QueryOptions {
            state_store: StateStoreConfig { snapshot_interval: 2, versions_to_retain: u64::MAX },
            ..damage_options(&storage)
        };
        let mut q = StreamingQuery::start_with(two_sources(sql), options).map_err(|e| format!("{sql}: {e}"))?;
        for k in 0..WRITTEN {
            add(&mut q, k)?;
            q.process_all_available().map_err(|e| format!("{sql}: {e}"))?;
        }
        let deltas = all_files(&storage)?;
        for (path, bytes) in deltas.iter().filter(|(p, _)| p.starts_with("checkpoint/state/") && p.ends_with(".delta")) {
            hasher.update(path.as_bytes());
            hasher.update(&entries_in_key_order(path, body(bytes))?);
        }
    }
    Ok(hasher.finalize())
}
