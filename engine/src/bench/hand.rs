//! Hand-written loops that compute the same answers as W1, W2 (and W7), W3, W4, W5 and W6 over the same
//! Arrow batches: the limit the engine is measured against. Each keeps the watermark exactly as
//! the engine does (max event time of the earlier batches, truncated to milliseconds, minus the
//! delay; a window is final once its end is at or below it) and writes its output rows to a
//! vector, as a sink would.

use std::collections::{BTreeMap, VecDeque};

use arrow_array::RecordBatch;

use super::workloads::{columns, Rows, JOIN_RANGE, SESSION_GAP, SLIDE, SLIDE_SIZE, TUMBLE, WATERMARK_DELAY};

pub use crate::hash::{FxHashMap, FxHashSet, FxHasher};

/// The engine's watermark after a batch whose largest event time is `max`.
fn advance(watermark: i64, max: Option<i64>) -> i64 {
    max.map_or(watermark, |m| watermark.max((m.div_euclid(1000) * 1000).saturating_sub(WATERMARK_DELAY)))
}

fn window_start(ts: i64, slide: i64) -> i64 {
    ts - ts.rem_euclid(slide)
}

/// W1: `WHERE v >= 250`, `SELECT k, v * 3 + 1, ts`.
pub fn filter_project(batches: &[RecordBatch]) -> Rows {
    let mut out = Vec::new();
    for b in batches {
        let (k, v, ts) = columns(b);
        for i in 0..b.num_rows() {
            if v[i] >= 250 {
                out.push(vec![k[i], v[i] * 3 + 1, ts[i]]);
            }
        }
    }
    out
}

#[derive(Default, Clone, Copy)]
struct Acc {
    n: i64,
    s: i64,
    changed: bool,
}

/// W2 (and W7): tumbling windows, append mode: a (window, key) row once the watermark closes
/// its window.
pub fn tumbling_append(batches: &[RecordBatch]) -> Rows {
    // Windows by start (the time index), each a hash map of keys.
    let mut windows: BTreeMap<i64, FxHashMap<i64, Acc>> = BTreeMap::new();
    let mut out = Vec::new();
    let mut watermark = 0;
    fn emit(windows: &mut BTreeMap<i64, FxHashMap<i64, Acc>>, watermark: i64, out: &mut Rows) {
        while let Some(entry) = windows.first_entry() {
            if *entry.key() + TUMBLE > watermark {
                break;
            }
            let (start, keys) = entry.remove_entry();
            out.extend(keys.into_iter().map(|(k, a)| vec![start, k, a.n, a.s]));
        }
    }
    for b in batches {
        let (k, v, ts) = columns(b);
        let mut max = None;
        for i in 0..b.num_rows() {
            // The watermark sees every row, late or not.
            max = max.max(Some(ts[i]));
            let start = window_start(ts[i], TUMBLE);
            if start + TUMBLE <= watermark {
                continue; // late
            }
            let acc = windows.entry(start).or_default().entry(k[i]).or_default();
            acc.n += 1;
            acc.s += v[i];
        }
        emit(&mut windows, watermark, &mut out);
        watermark = advance(watermark, max);
    }
    // The no-data batch the engine runs once the last batch moved the watermark.
    emit(&mut windows, watermark, &mut out);
    out
}

/// W3: sliding windows, update mode: every (window, key) a batch changed, with its running
/// count and sum, unless the watermark closed the window; closed windows are dropped.
pub fn sliding_update(batches: &[RecordBatch]) -> Rows {
    let mut windows: BTreeMap<i64, FxHashMap<i64, Acc>> = BTreeMap::new();
    let mut changed: Vec<(i64, i64)> = Vec::new();
    let mut out = Vec::new();
    let mut watermark = 0;
    let per_row = SLIDE_SIZE / SLIDE;
    for b in batches {
        let (k, v, ts) = columns(b);
        let mut max = None;
        for i in 0..b.num_rows() {
            max = max.max(Some(ts[i]));
            let last = window_start(ts[i], SLIDE);
            for j in 0..per_row {
                let start = last - j * SLIDE;
                if start + SLIDE_SIZE <= watermark {
                    continue; // late for this window
                }
                let acc = windows.entry(start).or_default().entry(k[i]).or_default();
                acc.n += 1;
                acc.s += v[i];
                if !acc.changed {
                    acc.changed = true;
                    changed.push((start, k[i]));
                }
            }
        }
        for (start, key) in changed.drain(..) {
            if let Some(acc) = windows.get_mut(&start).and_then(|w| w.get_mut(&key)) {
                acc.changed = false;
                out.push(vec![start, key, acc.n, acc.s]);
            }
        }
        while let Some(entry) = windows.first_entry() {
            if *entry.key() + SLIDE_SIZE > watermark {
                break;
            }
            entry.remove();
        }
        watermark = advance(watermark, max);
    }
    out
}

/// W4: session windows, append mode: a user's session grows while its events come within the
/// gap of its end, and is final once the watermark reaches its end (last event + gap). Output
/// columns as the query's: user, session start, count, sum.
pub fn sessions_append(batches: &[RecordBatch]) -> Rows {
    #[derive(Clone, Copy)]
    struct Session {
        start: i64,
        end: i64,
        n: i64,
        s: i64,
    }
    let mut open: FxHashMap<i64, Vec<Session>> = FxHashMap::default();
    let mut out = Vec::new();
    let mut watermark = 0;
    fn emit(open: &mut FxHashMap<i64, Vec<Session>>, watermark: i64, out: &mut Rows) {
        open.retain(|user, sessions| {
            sessions.retain(|x| {
                let closed = x.end <= watermark;
                if closed {
                    out.push(vec![*user, x.start, x.n, x.s]);
                }
                !closed
            });
            !sessions.is_empty()
        });
    }
    for b in batches {
        let (k, v, ts) = columns(b);
        let mut max = None;
        for i in 0..b.num_rows() {
            max = max.max(Some(ts[i]));
            let (start, end) = (ts[i], ts[i] + SESSION_GAP);
            if end <= watermark {
                continue; // late
            }
            let sessions = open.entry(k[i]).or_default();
            // Merge every session this event's [ts, ts + gap) overlaps.
            let mut merged = Session { start, end, n: 1, s: v[i] };
            sessions.retain(|x| {
                let overlaps = x.start < merged.end && merged.start < x.end;
                if overlaps {
                    merged = Session { start: x.start.min(merged.start), end: x.end.max(merged.end), n: x.n + merged.n, s: x.s + merged.s };
                }
                !overlaps
            });
            sessions.push(merged);
        }
        emit(&mut open, watermark, &mut out);
        watermark = advance(watermark, max);
    }
    emit(&mut open, watermark, &mut out);
    out
}

/// W5: `DEDUPLICATE BY (k, ts)` under the watermark: the first row of each (id, event time),
/// and state forgotten once the watermark passes its event time.
pub fn dedup(batches: &[RecordBatch]) -> Rows {
    let mut seen: FxHashSet<(i64, i64)> = FxHashSet::default();
    // (event time, id) in insertion order: originals arrive in event-time order.
    let mut by_time: VecDeque<(i64, i64)> = VecDeque::new();
    let mut out = Vec::new();
    let mut watermark = 0;
    for b in batches {
        let (k, v, ts) = columns(b);
        let mut max = None;
        for i in 0..b.num_rows() {
            max = max.max(Some(ts[i]));
            if ts[i] <= watermark {
                continue; // late
            }
            if seen.insert((k[i], ts[i])) {
                by_time.push_back((ts[i], k[i]));
                out.push(vec![k[i], v[i], ts[i]]);
            }
        }
        while let Some(&(t, id)) = by_time.front() {
            if t > watermark {
                break;
            }
            seen.remove(&(id, t));
            by_time.pop_front();
        }
        watermark = advance(watermark, max);
    }
    out
}

/// One side of W6's join: rows by key, and (event time, key) in arrival order for eviction.
#[derive(Default)]
struct Side {
    by_key: FxHashMap<i64, VecDeque<(i64, i64)>>,
    by_time: VecDeque<(i64, i64)>,
}

impl Side {
    fn insert(&mut self, k: i64, ts: i64, v: i64) {
        self.by_key.entry(k).or_default().push_back((ts, v));
        self.by_time.push_back((ts, k));
    }
    /// Forgets rows whose event time is below `bound`: both sides arrive in event-time order.
    fn evict_below(&mut self, bound: i64) {
        while let Some(&(ts, k)) = self.by_time.front() {
            if ts >= bound {
                break;
            }
            self.by_time.pop_front();
            if let Some(rows) = self.by_key.get_mut(&k) {
                rows.pop_front();
                if rows.is_empty() {
                    self.by_key.remove(&k);
                }
            }
        }
    }
}

/// W6: `l JOIN r ON l.k = r.k AND r.ts BETWEEN l.ts AND l.ts + 5 minutes`, batches in pairs
/// (left, right) as the engine's triggers get them. A left row waits while a right row within
/// its range can still come (right rows are at least the watermark), a right row while a left
/// row at or before it can. Output columns: l.k, l.v, r.v, l.ts, r.ts.
pub fn range_join(left: &[RecordBatch], right: &[RecordBatch]) -> Rows {
    let (mut l_state, mut r_state) = (Side::default(), Side::default());
    let mut out = Vec::new();
    let mut watermark = 0;
    let (mut l_max, mut r_max): (Option<i64>, Option<i64>) = (None, None);
    for (lb, rb) in left.iter().zip(right) {
        let (k, v, ts) = columns(lb);
        for i in 0..lb.num_rows() {
            l_max = l_max.max(Some(ts[i]));
            if let Some(rows) = r_state.by_key.get(&k[i]) {
                for &(rts, rv) in rows {
                    if rts >= ts[i] && rts <= ts[i] + JOIN_RANGE {
                        out.push(vec![k[i], v[i], rv, ts[i], rts]);
                    }
                }
            }
            l_state.insert(k[i], ts[i], v[i]);
        }
        let (k, v, ts) = columns(rb);
        for i in 0..rb.num_rows() {
            r_max = r_max.max(Some(ts[i]));
            if let Some(rows) = l_state.by_key.get(&k[i]) {
                for &(lts, lv) in rows {
                    if ts[i] >= lts && ts[i] <= lts + JOIN_RANGE {
                        out.push(vec![k[i], lv, v[i], lts, ts[i]]);
                    }
                }
            }
            r_state.insert(k[i], ts[i], v[i]);
        }
        // The global watermark is the smaller side's (Spark's min policy), once both have data.
        if let (Some(l), Some(r)) = (l_max, r_max) {
            watermark = advance(watermark, Some(l.min(r)));
        }
        l_state.evict_below(watermark - JOIN_RANGE);
        r_state.evict_below(watermark);
    }
    out
}
