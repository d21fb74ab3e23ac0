//! The workloads W1..W8 of issue 11: deterministic inputs sized by arguments, run through the
//! whole engine (offsets, operators, state store, sinks, commit log) one micro-batch at a time.

use std::sync::Arc;

use arrow_array::{Array, Float64Array, Int32Array, Int64Array, RecordBatch, StringArray, TimestampMicrosecondArray};

use super::{Secs, Timer};
use crate::runtime::{OutputMode, QueryDefinition, QueryOptions, StreamingQuery};
use crate::sql::Catalog;
use crate::state::{StateLimits, StateStoreConfig};
use crate::storage::SharedStorage;
use crate::types::{Column, DataType, Schema};
use crate::value::Value;
use crate::{Error, Result};

/// 2026-01-01T00:00:00Z, in microseconds: where every workload's event time starts.
pub const BASE_MICROS: i64 = 1_767_225_600_000_000;
const MS: i64 = 1_000;
const SECOND: i64 = 1_000 * MS;
const MINUTE: i64 = 60 * SECOND;

pub fn readings_schema() -> Schema {
    Schema::new(vec![
        Column { name: "device".into(), data_type: DataType::String },
        Column { name: "temp".into(), data_type: DataType::Double },
        Column { name: "humidity".into(), data_type: DataType::Int },
        Column { name: "ts".into(), data_type: DataType::Timestamp },
    ])
}

/// `n` synthetic sensor readings starting at row `offset` (50 devices, 1 ms apart).
pub fn readings(offset: usize, n: usize) -> RecordBatch {
    let devices: Vec<String> = (offset..offset + n).map(|i| format!("s-{:02}", i % 50)).collect();
    let temps: Vec<f64> = (offset..offset + n).map(|i| 15.0 + (i % 200) as f64 / 10.0).collect();
    let hum: Vec<i32> = (offset..offset + n).map(|i| (i % 100) as i32).collect();
    let ts: Vec<i64> = (offset..offset + n).map(|i| BASE_MICROS + i as i64 * MS).collect();
    RecordBatch::try_new(
        readings_schema().to_arrow(),
        vec![
            Arc::new(StringArray::from(devices)),
            Arc::new(Float64Array::from(temps)),
            Arc::new(Int32Array::from(hum)),
            Arc::new(TimestampMicrosecondArray::from(ts)),
        ],
    )
    .expect("synthetic batch matches its schema")
}

/// The schema of every workload's stream: a key, a value and an event time.
pub fn events_schema() -> Schema {
    Schema::new(vec![
        Column { name: "k".into(), data_type: DataType::BigInt },
        Column { name: "v".into(), data_type: DataType::BigInt },
        Column { name: "ts".into(), data_type: DataType::Timestamp },
    ])
}

fn events_batch(k: Vec<i64>, v: Vec<i64>, ts: Vec<i64>) -> RecordBatch {
    RecordBatch::try_new(
        events_schema().to_arrow(),
        vec![Arc::new(Int64Array::from(k)), Arc::new(Int64Array::from(v)), Arc::new(TimestampMicrosecondArray::from(ts))],
    )
    .expect("synthetic batch matches its schema")
}

/// Spreads consecutive events over `keys` keys without a visible stride (Knuth's multiplier).
fn spread(i: usize, keys: usize) -> i64 {
    ((i as u64).wrapping_mul(2_654_435_761) >> 7) as i64 % keys.max(1) as i64
}

/// Cuts `n` events into batches of `batch`, each made by `row(i) -> (k, v, ts)`.
fn batches(n: usize, batch: usize, row: impl Fn(usize) -> (i64, i64, i64)) -> Vec<RecordBatch> {
    let batch = batch.max(1);
    (0..n)
        .step_by(batch)
        .map(|start| {
            let end = (start + batch).min(n);
            let (mut k, mut v, mut ts) =
                (Vec::with_capacity(end - start), Vec::with_capacity(end - start), Vec::with_capacity(end - start));
            for i in start..end {
                let (a, b, c) = row(i);
                k.push(a);
                v.push(b);
                ts.push(c);
            }
            events_batch(k, v, ts)
        })
        .collect()
}

/// The event-time step between consecutive events of the benchmark's streams.
pub const EVENT_STEP: i64 = MS;

/// Events `step` apart over `keys` keys, values 0..999: W1, W2, W3, W7.
pub fn keyed_events(n: usize, batch: usize, keys: usize, step: i64) -> Vec<RecordBatch> {
    batches(n, batch, |i| (spread(i, keys), ((i * 31 + 7) % 1000) as i64, BASE_MICROS + i as i64 * step))
}

/// W4: users active in bursts of 10 events `step` apart, each user back only after every other
/// user has had its burst, so a session gap shorter than the cycle closes every session.
pub fn session_events(n: usize, batch: usize, users: usize, step: i64) -> Vec<RecordBatch> {
    batches(n, batch, |i| (((i / 10) % users.max(1)) as i64, (i % 100) as i64, BASE_MICROS + i as i64 * step))
}

/// How many originals come before their retries in W5's stream.
pub const DEDUP_BLOCK: usize = 1_000;

/// W5: every id twice, the retry `DEDUP_BLOCK` events after the original with the same event
/// time (a client's retry of one record), so `n` events hold `n / 2` distinct ids. With a `step`
/// under 10 ms a retry is never later than the watermark's 10 s.
pub fn dedup_events(n: usize, batch: usize, step: i64) -> Vec<RecordBatch> {
    batches(n, batch, |p| {
        let (block, j) = (p / (2 * DEDUP_BLOCK), p % (2 * DEDUP_BLOCK));
        let id = (block * DEDUP_BLOCK + j % DEDUP_BLOCK) as i64;
        let ts = BASE_MICROS + (block * 2 * DEDUP_BLOCK + j % DEDUP_BLOCK) as i64 * step;
        (id, id % 1000, ts)
    })
}

/// W6's step between events of one side, and how far the right side's event time runs behind
/// the left's: within the join's 5-minute range, so each left row meets the right rows of its
/// key that follow it within 5 minutes.
pub const JOIN_STEP: i64 = 10 * MS;
pub const JOIN_RIGHT_LAG: i64 = MINUTE;

/// W6: (left, right) batches over `keys` keys.
pub fn join_events(n: usize, batch: usize, keys: usize) -> (Vec<RecordBatch>, Vec<RecordBatch>) {
    let left = batches(n, batch, |i| (spread(i, keys), (i % 1000) as i64, BASE_MICROS + i as i64 * JOIN_STEP));
    let right = batches(n, batch, |i| (spread(i + 7, keys), (i % 997) as i64, BASE_MICROS + JOIN_RIGHT_LAG + i as i64 * JOIN_STEP));
    (left, right)
}

pub const W1_SQL: &str = "SELECT k, v * 3 + 1 AS w, ts FROM STREAM events WHERE v >= 250";
pub const W2_SQL: &str = "SELECT window(ts, '1 minute') AS w, k, count(*) AS n, sum(v) AS s FROM STREAM events WATERMARK ts DELAY OF INTERVAL 10 SECONDS GROUP BY window(ts, '1 minute'), k";
pub const W3_SQL: &str = "SELECT window(ts, '10 minutes', '1 minute') AS w, k, count(*) AS n, sum(v) AS s FROM STREAM events WATERMARK ts DELAY OF INTERVAL 10 SECONDS GROUP BY window(ts, '10 minutes', '1 minute'), k";
pub const W4_SQL: &str = "SELECT k, session_window(ts, '5 minutes') AS sw, count(*) AS n, sum(v) AS s FROM STREAM events WATERMARK ts DELAY OF INTERVAL 10 SECONDS GROUP BY k, session_window(ts, '5 minutes')";
pub const W5_SQL: &str = "SELECT k, v, ts FROM STREAM events WATERMARK ts DELAY OF INTERVAL 10 SECONDS DEDUPLICATE BY (k, ts)";
pub const W6_SQL: &str = "SELECT l.k, l.v, r.v AS rv, l.ts, r.ts AS rts FROM STREAM lefts WATERMARK ts DELAY OF INTERVAL 10 SECONDS AS l JOIN STREAM rights WATERMARK ts DELAY OF INTERVAL 10 SECONDS AS r ON l.k = r.k AND r.ts BETWEEN l.ts AND l.ts + INTERVAL 5 MINUTES";
pub const W8_SQL: &str = "SELECT k, count(*) AS n, sum(v) AS s FROM STREAM events GROUP BY k";

/// The windows' and the watermark's parameters the hand loops share with the SQL above.
pub const WATERMARK_DELAY: i64 = 10 * SECOND;
pub const TUMBLE: i64 = MINUTE;
pub const SLIDE_SIZE: i64 = 10 * MINUTE;
pub const SLIDE: i64 = MINUTE;
pub const SESSION_GAP: i64 = 5 * MINUTE;
pub const JOIN_RANGE: i64 = 5 * MINUTE;

/// Output rows as integers (a window as its start, a timestamp as microseconds), sorted: the
/// form in which the engine's and a hand loop's answers are compared.
pub type Rows = Vec<Vec<i64>>;

/// The largest state the engine reported after a batch.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct StateSize {
    pub rows: u64,
    pub bytes: u64,
}

/// One run of a workload through the engine.
#[derive(Debug, Clone, Default)]
pub struct EngineRun {
    pub events: u64,
    pub secs: Secs,
    /// Micro-batches run (data and no-data ones).
    pub batches: u64,
    pub output: Rows,
    pub state: Option<StateSize>,
}

/// The engine's output batches as [`Rows`].
pub fn to_rows(batches: &[RecordBatch]) -> Result<Rows> {
    let mut rows = Vec::new();
    for b in batches {
        for i in 0..b.num_rows() {
            let row = b.columns().iter().map(|c| as_int(Value::from_array(c.as_ref(), i))).collect::<Result<Vec<i64>>>()?;
            rows.push(row);
        }
    }
    rows.sort_unstable();
    Ok(rows)
}

fn as_int(v: Value) -> Result<i64> {
    match v {
        Value::Int(x) => Ok(x as i64),
        Value::BigInt(x) | Value::Timestamp(x) => Ok(x),
        Value::Window { start, .. } => Ok(start),
        other => Err(Error::internal(format!("a benchmark output cell is {other:?}, not a whole number"))),
    }
}

fn options(storage: SharedStorage, snapshot_interval: u64) -> QueryOptions {
    QueryOptions {
        storage,
        // The benchmark measures state growth; the page's limits would stop W4 and W5.
        limits: StateLimits { max_rows: u64::MAX, max_bytes: u64::MAX },
        state_store: StateStoreConfig { snapshot_interval, ..StateStoreConfig::default() },
        ..QueryOptions::default()
    }
}

fn start(sql: &str, mode: OutputMode, sources: &[&str], opts: QueryOptions) -> Result<StreamingQuery> {
    let catalog = Catalog { sources: sources.iter().map(|s| (s.to_string(), events_schema())).collect(), tables: vec![] };
    StreamingQuery::start_with(QueryDefinition { sql: sql.into(), output_mode: mode, catalog }, opts)
}

/// Runs `triggers` through a query: each trigger appends its batches (source index, batch) and
/// processes all available data, as a streaming source that delivers one batch per trigger.
pub fn run_engine(sql: &str, mode: OutputMode, sources: &[&str], triggers: Vec<Vec<(usize, RecordBatch)>>) -> Result<EngineRun> {
    run_engine_with(Timer::native(), sql, mode, sources, triggers)
}

/// [`run_engine`], timed by `timer`.
pub fn run_engine_with(
    timer: Timer,
    sql: &str,
    mode: OutputMode,
    sources: &[&str],
    triggers: Vec<Vec<(usize, RecordBatch)>>,
) -> Result<EngineRun> {
    let mut q = start(sql, mode, sources, options(SharedStorage::memory(), StateStoreConfig::default().snapshot_interval))?;
    let events = triggers.iter().flatten().map(|(_, b)| b.num_rows() as u64).sum();
    let mut out = Vec::new();
    let mut batches = 0;
    let mut state: Option<StateSize> = None;
    let ((), secs) = timer
        .time(|| -> Result<()> {
            for trigger in triggers {
                for (s, b) in trigger {
                    let name = sources.get(s).ok_or_else(|| Error::internal(format!("no source {s} in the benchmark")))?;
                    q.add_batch(name, b)?;
                }
                for r in q.process_all_available()?.batches {
                    batches += 1;
                    let size = StateSize {
                        rows: r.progress.state_operators.iter().map(|s| s.num_rows_total).sum(),
                        bytes: r.progress.state_operators.iter().map(|s| s.memory_used_bytes).sum(),
                    };
                    if !r.progress.state_operators.is_empty() && state.is_none_or(|s| size.rows > s.rows) {
                        state = Some(size);
                    }
                    out.push(r.rows);
                }
            }
            Ok(())
        })
        .transpose_secs()?;
    Ok(EngineRun { events, secs, batches, output: to_rows(&out)?, state })
}

/// One source, one batch per trigger.
pub fn single(batches: Vec<RecordBatch>) -> Vec<Vec<(usize, RecordBatch)>> {
    batches.into_iter().map(|b| vec![(0, b)]).collect()
}

/// W6's triggers: a left and a right batch in each.
pub fn paired(left: Vec<RecordBatch>, right: Vec<RecordBatch>) -> Vec<Vec<(usize, RecordBatch)>> {
    left.into_iter().zip(right).map(|(l, r)| vec![(0, l), (1, r)]).collect()
}

/// W8's measurements: the batch that builds and checkpoints the state, the recovery from that
/// checkpoint, and the answer of a second batch over the recovered state.
#[derive(Debug, Clone, Default)]
pub struct CheckpointRun {
    pub keys: u64,
    /// The batch that aggregates `keys` new keys and writes their state (delta and snapshot).
    pub write_secs: Secs,
    /// `restart()`: reading the checkpoint and rebuilding the operators with their state.
    pub recover_secs: Secs,
    pub state: Option<StateSize>,
    /// Bytes the checkpoint's state files hold.
    pub checkpoint_bytes: u64,
    /// The second batch's output, over the recovered state.
    pub after_recovery: Rows,
}

/// W8 over `storage`: the benchmark passes memory; the wasm bench (engine/wasm-bench) runs the
/// two halves, [`CheckpointBench::write`] and [`CheckpointBench::recover`], around IndexedDB's
/// asynchronous flush and reload.
pub fn checkpoint_with_storage(keys: usize, storage: SharedStorage) -> Result<CheckpointRun> {
    CheckpointBench::write(Timer::native(), keys, storage)?.recover(Timer::native())
}

/// W8 between its checkpoint's write and its recovery.
pub struct CheckpointBench {
    q: StreamingQuery,
    run: CheckpointRun,
}

fn checkpoint_batch(keys: usize) -> Vec<RecordBatch> {
    batches(keys, keys.max(1), |i| (i as i64, (i % 1000) as i64, BASE_MICROS + i as i64 * MS))
}

impl CheckpointBench {
    /// Builds a `keys`-key state in one batch and checkpoints it into `storage`.
    pub fn write(timer: Timer, keys: usize, storage: SharedStorage) -> Result<CheckpointBench> {
        // A snapshot every version: recovery reads one file of every key, as after a long run.
        let mut q = start(W8_SQL, OutputMode::Update, &["events"], options(storage.clone(), 1))?;
        for b in checkpoint_batch(keys) {
            q.add_batch("events", b)?;
        }
        let (first, write_secs) = timer.time(|| q.process_all_available()).transpose_secs()?;
        let state = first.batches.iter().rev().find_map(|r| {
            let p = &r.progress.state_operators;
            (!p.is_empty())
                .then(|| StateSize { rows: p.iter().map(|s| s.num_rows_total).sum(), bytes: p.iter().map(|s| s.memory_used_bytes).sum() })
        });
        let checkpoint_bytes = state_file_bytes(&storage, "checkpoint/state")?;
        Ok(CheckpointBench { q, run: CheckpointRun { keys: keys as u64, write_secs, state, checkpoint_bytes, ..CheckpointRun::default() } })
    }

    /// Restarts the query from what its storage holds now (`restart()`: reading the checkpoint
    /// and rebuilding the operators with their state), then runs a second batch over it.
    pub fn recover(mut self, timer: Timer) -> Result<CheckpointRun> {
        let q = &mut self.q;
        let ((), recover_secs) = timer.time(|| q.restart()).transpose_secs()?;
        for b in checkpoint_batch(self.run.keys as usize) {
            q.add_batch("events", b)?;
        }
        let second: Vec<RecordBatch> = q.process_all_available()?.batches.into_iter().map(|r| r.rows).collect();
        Ok(CheckpointRun { recover_secs, after_recovery: to_rows(&second)?, ..self.run })
    }
}

fn state_file_bytes(storage: &SharedStorage, dir: &str) -> Result<u64> {
    use crate::storage::{join, Storage};
    let scoped = storage.scoped("");
    let mut total = 0;
    let mut stack = vec![dir.to_string()];
    while let Some(d) = stack.pop() {
        let names = scoped.list(&d).map_err(Error::from)?;
        for name in names {
            let path = join(&d, &name);
            match scoped.size(&path).map_err(Error::from)? {
                Some(n) => total += n,
                None => stack.push(path),
            }
        }
    }
    Ok(total)
}

/// What W8's second batch must give over correctly recovered state: every key counted twice.
pub fn checkpoint_expected(keys: usize) -> Rows {
    (0..keys).map(|i| vec![i as i64, 2, 2 * (i % 1000) as i64]).collect()
}

/// The columns of one event batch, for the hand loops.
pub fn columns(b: &RecordBatch) -> (&[i64], &[i64], &[i64]) {
    use arrow_array::cast::AsArray;
    use arrow_array::types::{Int64Type, TimestampMicrosecondType};
    let c = b.columns();
    // The generators above make every batch, so the three columns are always there and typed.
    let k = c[0].as_primitive::<Int64Type>().values();
    let v = c[1].as_primitive::<Int64Type>().values();
    let ts = c[2].as_primitive::<TimestampMicrosecondType>().values();
    debug_assert!(c.iter().all(|a| a.null_count() == 0));
    (k, v, ts)
}

trait TransposeSecs<T> {
    fn transpose_secs(self) -> Result<(T, Secs)>;
}

impl<T> TransposeSecs<T> for (Result<T>, Secs) {
    fn transpose_secs(self) -> Result<(T, Secs)> {
        self.0.map(|t| (t, self.1))
    }
}
