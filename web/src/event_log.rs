//! The events of a playground session. Every event is kept in the session's storage, one chunk
//! per `add` (`session/events/NNNNNNNNNN`, pairs of source and row), so a new query, an export
//! or a reload reads them all again; memory holds only what a snapshot shows ten times a
//! second: counts, each source's newest event, the newest events' times for the timeline. The
//! rows themselves live once more in the query's source logs, as Arrow, and nowhere else.

use std::collections::{HashMap, VecDeque};

use serde_json::Value as Json;
use unbounded_engine::checkpoint::{frame, unframe};
use unbounded_engine::storage::{join, SharedStorage, Storage};
use unbounded_engine::time::parse_timestamp;
use unbounded_engine::types::{DataType, Schema};
use unbounded_engine::{Error, ErrorKind};

use crate::protocol::EventMark;

const EVENTS: &str = "session/events";

/// How many of the newest events the timeline shows.
pub const TIMELINE_EVENTS: usize = 600;

/// The most events a session holds. Every event stays replayable (losing the checkpoint reads
/// them all again), so a generator left running would fill the tab's memory; past this it stops
/// and says why. About 200 bytes an event: 400 MB.
pub const MAX_EVENTS: u64 = 2_000_000;

fn storage_error(e: unbounded_engine::storage::StorageError) -> Error {
    Error::from(e)
}

pub fn read_framed(storage: &SharedStorage, path: &str) -> Result<Option<Json>, Error> {
    let Some(bytes) = storage.scoped("").read(path).map_err(storage_error)? else { return Ok(None) };
    let body = unframe(path, &bytes)?;
    serde_json::from_slice(body).map(Some).map_err(|e| Error::new(ErrorKind::Checkpoint, format!("`{path}` is damaged: {e}")))
}

pub fn write_framed(storage: &SharedStorage, path: &str, value: &Json) -> Result<(), Error> {
    storage.scoped("").write(path, &frame(value.to_string().as_bytes())).map_err(storage_error)
}

/// The session's events: in storage whole, in memory summarised.
pub struct EventLog {
    storage: SharedStorage,
    next_chunk: u64,
    counts: HashMap<String, u64>,
    total: u64,
    last_rows: HashMap<String, Vec<Json>>,
    /// The newest events, oldest first, at most `TIMELINE_EVENTS`.
    recent: VecDeque<EventMark>,
    /// The newest timestamp of any event, rounded down to the second.
    newest_time: Option<i64>,
}

impl EventLog {
    /// A log with no events on `storage`; whatever events it held are deleted.
    pub fn empty(storage: SharedStorage) -> Result<EventLog, Error> {
        storage.scoped("").delete_all(EVENTS).map_err(storage_error)?;
        Ok(EventLog::fresh(storage))
    }

    fn fresh(storage: SharedStorage) -> EventLog {
        EventLog {
            storage,
            next_chunk: 0,
            counts: HashMap::new(),
            total: 0,
            last_rows: HashMap::new(),
            recent: VecDeque::new(),
            newest_time: None,
        }
    }

    /// The log `storage` holds, summarised against the session's `sources`; `feed` gets every
    /// chunk's rows as they are read (a resuming session's query takes them there).
    pub fn open(
        storage: SharedStorage,
        sources: &[(String, Schema)],
        mut feed: impl FnMut(&str, &[Json]) -> Result<(), Error>,
    ) -> Result<EventLog, Error> {
        let mut log = EventLog::fresh(storage.clone());
        for_each_chunk(&storage, |source, rows| {
            log.remember(source, rows, sources);
            feed(source, rows)
        })?;
        log.next_chunk = chunk_names(&storage)?.last().and_then(|n| n.parse::<u64>().ok()).map_or(0, |n| n + 1);
        Ok(log)
    }

    /// Appends `rows` of `source` (the session's own spelling) and keeps them in storage.
    pub fn append(&mut self, source: &str, rows: &[Json], sources: &[(String, Schema)]) -> Result<(), Error> {
        let chunk = Json::Array(rows.iter().map(|r| Json::Array(vec![Json::String(source.to_string()), r.clone()])).collect());
        write_framed(&self.storage, &join(EVENTS, &format!("{:010}", self.next_chunk)), &chunk)?;
        self.next_chunk += 1;
        self.remember(source, rows, sources);
        Ok(())
    }

    /// Updates what memory keeps of the log for rows just added.
    fn remember(&mut self, source: &str, rows: &[Json], sources: &[(String, Schema)]) {
        let schema = sources.iter().find(|(n, _)| n == source).map(|(_, s)| s);
        let time_columns: Vec<usize> = schema
            .map(|s| s.columns.iter().enumerate().filter(|(_, c)| c.data_type == DataType::Timestamp).map(|(k, _)| k).collect())
            .unwrap_or_default();
        let count = self.counts.entry(source.to_string()).or_insert(0);
        // Only the newest TIMELINE_EVENTS rows can be on the timeline.
        let first_shown = rows.len().saturating_sub(TIMELINE_EVENTS);
        for (i, row) in rows.iter().enumerate() {
            let time_at = |k: usize| row.get(k).and_then(Json::as_str).and_then(parse_timestamp);
            // The timeline plots a source's first timestamp column.
            let mut first_time = None;
            for (n, &k) in time_columns.iter().enumerate() {
                let t = time_at(k);
                if n == 0 {
                    first_time = t;
                }
                if let Some(t) = t {
                    self.newest_time = self.newest_time.max(Some(t - t.rem_euclid(1_000_000)));
                }
            }
            if i >= first_shown {
                if self.recent.len() == TIMELINE_EVENTS {
                    self.recent.pop_front();
                }
                self.recent.push_back(EventMark { source: source.to_string(), offset: *count + i as u64, event_time: first_time });
            }
        }
        *count += rows.len() as u64;
        self.total += rows.len() as u64;
        if let Some(last) = rows.last() {
            self.last_rows.insert(source.to_string(), last.as_array().cloned().unwrap_or_default());
        }
    }

    /// Calls `f` with every chunk's source and rows, oldest first.
    pub fn for_each_chunk(&self, f: impl FnMut(&str, &[Json]) -> Result<(), Error>) -> Result<(), Error> {
        for_each_chunk(&self.storage, f)
    }

    pub fn count(&self, source: &str) -> u64 {
        self.counts.get(source).copied().unwrap_or(0)
    }

    pub fn total(&self) -> u64 {
        self.total
    }

    pub fn last_row(&self, source: &str) -> Option<Vec<Json>> {
        self.last_rows.get(source).cloned()
    }

    pub fn newest_time(&self) -> Option<i64> {
        self.newest_time
    }

    pub fn recent(&self) -> Vec<EventMark> {
        self.recent.iter().cloned().collect()
    }
}

fn chunk_names(storage: &SharedStorage) -> Result<Vec<String>, Error> {
    storage.scoped(EVENTS).list("").map_err(storage_error)
}

/// Calls `f` with every chunk's source and rows in `storage`, oldest first; a chunk holds the
/// rows of one `add`, so of one source.
fn for_each_chunk(storage: &SharedStorage, mut f: impl FnMut(&str, &[Json]) -> Result<(), Error>) -> Result<(), Error> {
    for name in chunk_names(storage)? {
        let chunk = read_framed(storage, &join(EVENTS, &name))?.unwrap_or_default();
        let mut source: Option<&str> = None;
        let mut rows: Vec<Json> = Vec::new();
        for pair in chunk.as_array().into_iter().flatten() {
            let (Some(s), Some(row)) = (pair.get(0).and_then(Json::as_str), pair.get(1)) else { continue };
            if let Some(prev) = source.filter(|prev| *prev != s) {
                f(prev, &rows)?;
                rows.clear();
            }
            source = Some(s);
            rows.push(row.clone());
        }
        if let Some(s) = source {
            f(s, &rows)?;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;
    use unbounded_engine::types::Column;

    fn sources() -> Vec<(String, Schema)> {
        let schema = |time: &str| {
            Schema::new(vec![
                Column { name: "id".into(), data_type: DataType::Int },
                Column { name: time.into(), data_type: DataType::Timestamp },
            ])
        };
        vec![("a".into(), schema("ts")), ("b".into(), schema("at"))]
    }

    fn rows(from: i64, n: i64) -> Vec<Json> {
        (from..from + n).map(|i| json!([i, format!("2026-01-01 00:{:02}:{:02}.5", i / 60 % 60, i % 60)])).collect()
    }

    #[test]
    fn memory_keeps_counts_newest_rows_and_the_newest_events_for_the_timeline() {
        let storage = SharedStorage::memory();
        let mut log = EventLog::empty(storage.clone()).unwrap();
        log.append("a", &rows(0, 500), &sources()).unwrap();
        log.append("b", &rows(500, 300), &sources()).unwrap();
        log.append("a", &rows(800, 10), &sources()).unwrap();
        assert_eq!((log.count("a"), log.count("b"), log.total()), (510, 300, 810));
        assert_eq!(log.last_row("a"), Some(vec![json!(809), json!("2026-01-01 00:13:29.5")]));
        // The newest time of any event, down to the second.
        assert_eq!(log.newest_time(), parse_timestamp("2026-01-01 00:13:29"));
        let recent = log.recent();
        assert_eq!(recent.len(), TIMELINE_EVENTS);
        // 810 events, the newest 600: a's offsets 210..500, b's 0..300, then a's 500..510.
        assert_eq!((recent[0].source.as_str(), recent[0].offset), ("a", 210));
        assert_eq!((recent[290].source.as_str(), recent[290].offset), ("b", 0));
        let last = recent.last().unwrap();
        assert_eq!((last.source.as_str(), last.offset, last.event_time), ("a", 509, parse_timestamp("2026-01-01 00:13:29.5")));

        // Opened again from storage, it knows the same, and appends after the last chunk.
        let mut fed = 0;
        let mut reopened = EventLog::open(storage, &sources(), |_, rows| {
            fed += rows.len();
            Ok(())
        })
        .unwrap();
        assert_eq!(fed, 810, "every row, fed as it is read");
        assert_eq!((reopened.count("a"), reopened.count("b"), reopened.total()), (510, 300, 810));
        assert_eq!(reopened.recent(), recent);
        assert_eq!(reopened.last_row("a"), log.last_row("a"));
        reopened.append("b", &rows(900, 1), &sources()).unwrap();
        let mut chunks = Vec::new();
        reopened
            .for_each_chunk(|s, r| {
                chunks.push((s.to_string(), r.len(), r[0][0].as_i64()));
                Ok(())
            })
            .unwrap();
        let expected = [("a", 500, 0), ("b", 300, 500), ("a", 10, 800), ("b", 1, 900)];
        assert_eq!(chunks, expected.map(|(s, n, first)| (s.to_string(), n, Some(first))));
    }

    #[test]
    fn empty_deletes_what_the_storage_held() {
        let storage = SharedStorage::memory();
        EventLog::empty(storage.clone()).unwrap().append("a", &rows(0, 3), &sources()).unwrap();
        EventLog::empty(storage.clone()).unwrap();
        let log = EventLog::open(storage, &sources(), |_, _| Ok(())).unwrap();
        assert_eq!(log.total(), 0);
        assert!(log.recent().is_empty());
    }
}
