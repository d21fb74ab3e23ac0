//! Why is this row here: lineage from what the session already records (the events, each
//! batch's offsets, watermark and late rows, the batches that emitted each row).

use serde_json::Value as Json;
use unbounded_engine::time::{format_timestamp, parse_timestamp};
use unbounded_engine::types::DataType;

use super::Session;
use crate::protocol::{BatchInfo, DuplicateInfo, LineageEvent, LineageInfo, Snapshot};

/// The most events a lineage or the duplicate list reads: the log is read on demand, and a long
/// live run must not be read whole on every snapshot.
const MOST_EVENTS: u64 = 5_000;

/// An event of the log with its offset in its source.
struct Event {
    source: String,
    offset: u64,
    row: Vec<Json>,
}

/// Every event the batches of `snap` read, in the order they arrived.
fn read_events(s: &Session, snap: &Snapshot) -> Vec<Event> {
    let read_end = |source: &str| {
        snap.batches.iter().flat_map(|b| &b.offsets).filter(|r| r.source.eq_ignore_ascii_case(source)).map(|r| r.end).max().unwrap_or(0)
    };
    let mut counts: std::collections::HashMap<String, u64> = std::collections::HashMap::new();
    let mut out = Vec::new();
    let _ = s.events.for_each_chunk(|source, rows| {
        let end = read_end(source);
        let next = counts.entry(source.to_string()).or_insert(0);
        for row in rows {
            if *next < end {
                out.push(Event { source: source.to_string(), offset: *next, row: row.as_array().cloned().unwrap_or_default() });
            }
            *next += 1;
        }
        Ok(())
    });
    out
}

/// The batch that read `offset` of `source`.
fn reader<'a>(batches: &'a [BatchInfo], source: &str, offset: u64) -> Option<&'a BatchInfo> {
    batches.iter().find(|b| b.offsets.iter().any(|r| r.source.eq_ignore_ascii_case(source) && r.start <= offset && offset < r.end))
}

/// Whether an event's value and an output's are the same value (numbers by value, timestamps
/// by instant, so `22` is `22.0` and a timestamp's spelling does not matter).
fn same(a: &Json, b: &Json) -> bool {
    match (a, b) {
        (Json::Number(x), Json::Number(y)) => x.as_f64() == y.as_f64(),
        (Json::String(x), Json::String(y)) => x == y || parse_timestamp(x).is_some_and(|t| parse_timestamp(y) == Some(t)),
        _ => a == b,
    }
}

fn window_of(v: &Json) -> Option<(i64, i64)> {
    Some((parse_timestamp(v.get("start")?.as_str()?)?, parse_timestamp(v.get("end")?.as_str()?)?))
}

fn lineage_event(e: &Event, batches: &[BatchInfo], note: Option<String>) -> LineageEvent {
    LineageEvent {
        source: e.source.clone(),
        offset: e.offset,
        row: e.row.clone(),
        batch_id: reader(batches, &e.source, e.offset).map(|b| b.batch_id),
        note,
    }
}

/// The timestamps of an event, by its source's timestamp columns.
fn times(s: &Session, e: &Event) -> Vec<i64> {
    let Some((_, schema)) = s.scenario.sources.iter().find(|(n, _)| *n == e.source) else { return Vec::new() };
    schema
        .columns
        .iter()
        .enumerate()
        .filter(|(_, c)| c.data_type == DataType::Timestamp)
        .filter_map(|(k, _)| e.row.get(k).and_then(Json::as_str).and_then(parse_timestamp))
        .collect()
}

/// Why `row` is in the output shown: the events whose columns it carries (and, for a window,
/// whose time falls in it), the batch that wrote it and the output mode's reason for then.
pub fn why_row(s: &Session, row: &[Json]) -> LineageInfo {
    let snap = s.snapshot();
    let shown_last = snap.batches.last().map(|b| b.batch_id);
    let emitted = s.emitted.get(&Json::Array(row.to_vec()).to_string()).copied();
    // Seen from an earlier position, the newest emission may be later than what is shown.
    let batch_id = emitted.and_then(|(first, last)| match shown_last {
        Some(b) if last <= b => Some(last),
        Some(b) if first <= b => Some(first),
        _ => None,
    });
    let windows: Vec<(i64, i64)> = row.iter().filter_map(window_of).collect();
    let mut events = Vec::new();
    if s.events.total() <= MOST_EVENTS {
        for e in read_events(s, &snap) {
            let Some((_, schema)) = s.scenario.sources.iter().find(|(n, _)| *n == e.source) else { continue };
            let shared: Vec<(usize, usize)> = schema
                .columns
                .iter()
                .enumerate()
                .filter_map(|(k, c)| {
                    let j = snap.columns.iter().position(|n| n.eq_ignore_ascii_case(&c.name))?;
                    row.get(j).filter(|v| window_of(v).is_none()).map(|_| (k, j))
                })
                .collect();
            if shared.is_empty() && windows.is_empty() {
                continue;
            }
            let ts = times(s, &e);
            let values = shared.iter().all(|&(k, j)| e.row.get(k).zip(row.get(j)).is_some_and(|(a, b)| same(a, b)));
            let in_window = windows.iter().all(|&(start, end)| ts.iter().any(|&t| start <= t && t < end));
            if !values || !in_window {
                continue;
            }
            let read_by = reader(&snap.batches, &e.source, e.offset);
            let late = read_by.and_then(|b| b.late.iter().find(|l| ts.contains(&l.event_time)).map(|l| (b.batch_id, l)));
            let note = late.map(|(b, l)| {
                format!("dropped as late by {} in batch {b} (watermark {}): not counted", l.operator, format_timestamp(l.watermark))
            });
            events.push(lineage_event(&e, &snap.batches, note));
        }
    }
    let batch = batch_id.and_then(|b| snap.batches.iter().find(|x| x.batch_id == b));
    let why = reason(&snap, batch, emitted.map(|(first, _)| first), windows.first().copied());
    LineageInfo { row: row.to_vec(), batch_id, why, events }
}

/// The output mode's reason a batch wrote a row.
fn reason(snap: &Snapshot, batch: Option<&BatchInfo>, first: Option<u64>, window: Option<(i64, i64)>) -> String {
    let Some(b) = batch else {
        return "No batch shown wrote this row with these values (it came from a batch older than the session keeps).".into();
    };
    let id = b.batch_id;
    let watermark = b.window_watermark_micros.or(b.watermark_micros).map(format_timestamp).unwrap_or_else(|| "none".into());
    match (snap.output_mode.as_str(), window) {
        ("append", Some((_, end))) => format!(
            "Append mode writes a window once, when it is final: batch {id} ran with the watermark at {watermark}, at or past the window's end {}, so no later event can change it.",
            format_timestamp(end)
        ),
        ("append", None) => format!(
            "Append mode writes a row once, in the batch that makes it: batch {id} read the event{} it comes from.",
            if b.input_rows == 1 { "" } else { "s" }
        ),
        ("update", _) => format!(
            "Update mode writes a row in every batch that changes it: batch {id} read events of this group and wrote its new values (watermark then: {watermark})."
        ),
        _ => format!(
            "Complete mode writes the whole result table in every batch: batch {id} rewrote this row with all the others; these values first came out in batch {}.",
            first.unwrap_or(id)
        ),
    }
}

/// The columns of a `DEDUPLICATE [WITHIN WATERMARK] BY (a, b)` query, if it is one.
fn dedup_key(sql: &str) -> Option<Vec<String>> {
    let upper = sql.to_ascii_uppercase();
    let at = upper.find("DEDUPLICATE")?;
    let by = at + upper[at..].find("BY")?;
    let open = by + upper[by..].find('(')?;
    let close = open + upper[open..].find(')')?;
    let cols: Vec<String> =
        sql[open + 1..close].split(',').map(|c| c.trim().trim_matches('`').to_string()).filter(|c| !c.is_empty()).collect();
    (!cols.is_empty()).then_some(cols)
}

/// The events a deduplication dropped, each with the earlier event it duplicated: the first
/// copy of a key passes; a copy of a key still held passes only once the output holds it again
/// (a key forgotten as the watermark passed).
pub fn duplicates(s: &Session, snap: &Snapshot) -> Vec<DuplicateInfo> {
    let Some(key) = dedup_key(&s.scenario.query) else { return Vec::new() };
    if s.events.total() > MOST_EVENTS || snap.batches.is_empty() {
        return Vec::new();
    }
    let Some((source, schema)) =
        s.scenario.sources.iter().find(|(_, sc)| key.iter().all(|k| sc.columns.iter().any(|c| c.name.eq_ignore_ascii_case(k))))
    else {
        return Vec::new();
    };
    if s.scenario.kafka.iter().any(|(n, _)| n == source) {
        return kafka_duplicates(s, snap, source, &key);
    }
    let key_at: Vec<usize> = key.iter().filter_map(|k| schema.columns.iter().position(|c| c.name.eq_ignore_ascii_case(k))).collect();
    let out_at: Vec<Option<usize>> = key.iter().map(|k| snap.columns.iter().position(|n| n.eq_ignore_ascii_case(k))).collect();
    let key_of = |row: &[Json]| key_at.iter().map(|&k| row.get(k).cloned().unwrap_or(Json::Null)).collect::<Vec<_>>();
    // How many output rows each key has: that many copies passed.
    let passes = |k: &[Json]| {
        snap.sink.iter().filter(|r| out_at.iter().zip(k).all(|(j, v)| j.and_then(|j| r.get(j)).is_some_and(|o| same(o, v)))).count()
    };
    let mut held: Vec<(Vec<Json>, Event, usize)> = Vec::new();
    let mut out = Vec::new();
    for e in read_events(s, snap).into_iter().filter(|e| e.source == *source) {
        let k = key_of(&e.row);
        match held.iter_mut().find(|(hk, _, _)| hk.iter().zip(&k).all(|(a, b)| same(a, b))) {
            None => held.push((k, e, 1)),
            Some((_, first, passed)) => {
                if *passed < passes(&k) {
                    *passed += 1;
                    *first = e;
                    continue;
                }
                let first = lineage_event(first, &snap.batches, None);
                let event = lineage_event(&e, &snap.batches, Some("dropped as a duplicate".into()));
                out.push(DuplicateInfo { batch_id: event.batch_id, event, first, key: k });
            }
        }
    }
    out
}

/// The messages of a Kafka topic a deduplication on its own columns (`key`, `value`, ...)
/// dropped, each with the earlier message it duplicated. A message is named `topic-partition`
/// and its offset, as Kafka names them; the batch that read it comes from the batch's record
/// latencies (runs of offsets per partition). Where the output carries `partition` and
/// `offset` (the bronze idiom), a message in it passed; otherwise the first copy of a key
/// passes and the later ones are its duplicates.
fn kafka_duplicates(s: &Session, snap: &Snapshot, topic: &str, key: &[String]) -> Vec<DuplicateInfo> {
    let Some(q) = s.query.as_ref() else { return Vec::new() };
    let (Some(source), Some(read)) = (q.kafka_source(topic), q.kafka_next_offsets(topic)) else { return Vec::new() };
    // Counted before they are read: a snapshot goes out on every live tick.
    let earliest = source.topic.earliest_offsets();
    let consumed: i64 = read.0.iter().map(|(p, end)| (end - earliest.get(*p).unwrap_or(0)).max(0)).sum();
    if consumed as u64 > MOST_EVENTS {
        return Vec::new();
    }
    let Ok((records, _)) = source.topic.read(&earliest, &read, false) else { return Vec::new() };
    let schema = unbounded_engine::kafka::kafka_schema();
    let key_at: Vec<usize> = key.iter().filter_map(|k| schema.columns.iter().position(|c| c.name.eq_ignore_ascii_case(k))).collect();
    let text = |b: &Option<Vec<u8>>| b.as_ref().map_or(Json::Null, |b| Json::String(String::from_utf8_lossy(b).into_owned()));
    // The batches' runs of offsets, by partition and first offset, looked up by binary search.
    let mut runs: Vec<(u32, i64, i64, u64)> = snap
        .batches
        .iter()
        .flat_map(|b| b.record_latencies.iter().map(move |l| (l, b.batch_id)))
        .filter(|(l, _)| l.source.eq_ignore_ascii_case(topic))
        .filter_map(|(l, id)| Some((l.partition?, l.first_offset as i64, (l.first_offset + l.records) as i64, id)))
        .collect();
    runs.sort_unstable();
    let batch_of = |partition: u32, offset: i64| {
        let k = runs.partition_point(|&(p, start, _, _)| (p, start) <= (partition, offset));
        k.checked_sub(1).map(|k| runs[k]).filter(|&(p, _, end, _)| p == partition && offset < end).map(|(_, _, _, id)| id)
    };
    let column = |name: &str| snap.columns.iter().position(|c| c.eq_ignore_ascii_case(name));
    // The (partition, offset) pairs the output holds, when it carries them.
    let output: Option<std::collections::HashSet<(i64, i64)>> = column("partition")
        .zip(column("offset"))
        .map(|(p, o)| snap.sink.iter().filter_map(|r| Some((r.get(p)?.as_i64()?, r.get(o)?.as_i64()?))).collect());
    let in_output = |partition: u32, offset: i64| output.as_ref().map(|o| o.contains(&(i64::from(partition), offset)));
    // In the order the query read them: batch by batch, each batch partition by partition.
    let mut read: Vec<(u64, u32, i64, LineageEvent)> = records
        .iter()
        .map(|r| {
            let batch = batch_of(r.partition, r.offset);
            let row = vec![
                text(&r.message.key),
                text(&r.message.value),
                Json::String(topic.to_string()),
                Json::from(r.partition),
                Json::from(r.offset),
                Json::String(format_timestamp(r.message.timestamp)),
                Json::from(0),
            ];
            let event =
                LineageEvent { source: format!("{topic}-{}", r.partition), offset: r.offset as u64, row, batch_id: batch, note: None };
            (batch.unwrap_or(u64::MAX), r.partition, r.offset, event)
        })
        .collect();
    read.sort_by_key(|(b, p, o, _)| (*b, *p, *o));
    // The first copy of each key, by the key as text (JSON values do not hash).
    let mut held: std::collections::HashMap<String, LineageEvent> = std::collections::HashMap::new();
    let mut out = Vec::new();
    for (_, partition, offset, event) in read {
        let k: Vec<Json> = key_at.iter().map(|&i| event.row.get(i).cloned().unwrap_or(Json::Null)).collect();
        let passed = in_output(partition, offset);
        match held.entry(Json::Array(k.clone()).to_string()) {
            std::collections::hash_map::Entry::Occupied(first) if passed != Some(true) => {
                let dropped = LineageEvent { note: Some("dropped as a duplicate".into()), ..event };
                out.push(DuplicateInfo { batch_id: dropped.batch_id, event: dropped, first: first.get().clone(), key: k });
            }
            // A copy in the output passed: its key had been forgotten (the watermark passed).
            std::collections::hash_map::Entry::Occupied(mut first) => {
                first.insert(event);
            }
            std::collections::hash_map::Entry::Vacant(v) => {
                v.insert(event);
            }
        }
    }
    out
}

/// Why the event at `offset` of `source` was dropped as a duplicate, if it was.
pub fn why_duplicate(s: &Session, source: &str, offset: u64) -> Option<LineageInfo> {
    let snap = s.snapshot();
    let d = snap.duplicates.iter().find(|d| d.event.source.eq_ignore_ascii_case(source) && d.event.offset == offset)?;
    let key: Vec<String> = d.key.iter().map(crate::protocol::cell).collect();
    let within = s.scenario.query.to_ascii_uppercase().contains("WITHIN WATERMARK");
    let why = format!(
        "Deduplication keeps the key of the first copy in state: {}@{} (read in batch {}) had the key ({}) first, so this copy, read in batch {}, was dropped{}.",
        d.first.source,
        d.first.offset,
        d.first.batch_id.map_or("?".into(), |b| b.to_string()),
        key.join(", "),
        d.batch_id.map_or("?".into(), |b| b.to_string()),
        if within { " while the watermark had not yet passed the first copy's time plus the delay" } else { " (without a watermark the key is kept forever)" }
    );
    Some(LineageInfo { row: d.event.row.clone(), batch_id: d.batch_id, why, events: vec![d.first.clone(), d.event.clone()] })
}
