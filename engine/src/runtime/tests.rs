use super::*;
use crate::storage::Storage;
use crate::types::{Column, DataType};
use serde_json::json;
use std::cell::Cell;
use std::rc::Rc;
#[cfg(target_arch = "wasm32")]
use wasm_bindgen_test::wasm_bindgen_test as test;

/// A clock the test moves by hand.
#[derive(Clone, Default)]
struct FakeClock(Rc<Cell<f64>>);

impl Clock for FakeClock {
    fn now_ms(&self) -> f64 {
        self.0.get()
    }
}

fn definition(sql: &str) -> QueryDefinition {
    let schema = Schema::new(vec![
        Column { name: "id".into(), data_type: DataType::Int },
        Column { name: "ts".into(), data_type: DataType::Timestamp },
    ]);
    QueryDefinition {
        sql: sql.into(),
        output_mode: OutputMode::Append,
        catalog: Catalog { sources: vec![("events".into(), schema)], tables: vec![] },
    }
}

fn rows(ids: &[i32]) -> Vec<serde_json::Value> {
    ids.iter().map(|i| json!([i, format!("2026-01-01 00:00:{:02}", i % 60)])).collect()
}

fn sink_ids(q: &StreamingQuery) -> Vec<i64> {
    q.table().rows_json().iter().map(|r| r[0].as_i64().unwrap()).collect()
}

#[test]
fn the_state_view_shows_join_rows_with_their_times_and_each_evicted_row() {
    let schema = |time: &str| {
        Schema::new(vec![
            Column { name: "id".into(), data_type: DataType::Int },
            Column { name: time.into(), data_type: DataType::Timestamp },
        ])
    };
    let sql = "SELECT l.id FROM STREAM a WATERMARK lt DELAY OF INTERVAL 10 SECONDS AS l \
               JOIN STREAM b WATERMARK rt DELAY OF INTERVAL 10 SECONDS AS r ON l.id = r.id AND r.rt BETWEEN l.lt AND l.lt + INTERVAL 5 SECONDS";
    let catalog = Catalog { sources: vec![("a".into(), schema("lt")), ("b".into(), schema("rt"))], tables: vec![] };
    let mut q = StreamingQuery::start(QueryDefinition { sql: sql.into(), output_mode: OutputMode::Append, catalog }).unwrap();
    // Two left rows under one key; no watermark yet, as b has no data.
    q.add_json("a", &[json!([1, "2026-01-01 00:00:01"]), json!([1, "2026-01-01 00:00:30"])]).unwrap();
    q.process_all_available().unwrap();
    let left = &q.state_view()[0].tables[0];
    assert_eq!(left.rows, 1, "one key");
    assert!(left.sample[0].contains(r#""time":{"Timestamp":1767225601000000}"#), "{:?}", left.sample);
    q.add_json("a", &[json!([2, "2026-01-01 00:01:00"])]).unwrap();
    q.add_json("b", &[json!([9, "2026-01-01 00:01:00"])]).unwrap();
    q.process_all_available().unwrap();
    let left = &q.state_view()[0].tables[0];
    // The watermark (00:00:50) passed 00:00:01 + 5 s and 00:00:30 + 5 s: both rows of key 1 go.
    assert_eq!(left.evicted.len(), 2, "each evicted row, not the emptied key: {:?}", left.evicted);
    assert!(left.evicted.iter().all(|e| e.starts_with(r#"{"row":[{"Int":1}"#)), "{:?}", left.evicted);
}

#[test]
fn the_state_view_shows_each_deduplicated_key_and_when_it_expires() {
    let sql = "SELECT * FROM STREAM events WATERMARK ts DELAY OF INTERVAL 10 SECONDS DEDUPLICATE WITHIN WATERMARK BY (id)";
    let mut q = StreamingQuery::start(definition(sql)).unwrap();
    q.add_json("events", &rows(&[1, 2, 1])).unwrap();
    q.process_all_available().unwrap();
    let table = &q.state_view()[0].tables[0];
    assert_eq!(table.rows, 2);
    let first: serde_json::Value = serde_json::from_str(&table.sample[0]).unwrap();
    // 00:00:01 + 10 s, in microseconds.
    assert_eq!(first, json!({"key": [{"Int": 1}], "expires": {"Timestamp": 1_767_225_611_000_000i64}}));
    // The watermark (00:00:02 - 10 s) has not passed it; 00:00:30 moves it to 00:00:20.
    q.add_json("events", &rows(&[30])).unwrap();
    q.process_all_available().unwrap();
    let table = &q.state_view()[0].tables[0];
    assert_eq!(table.rows, 1);
    assert_eq!(table.evicted.len(), 2, "{:?}", table.evicted);
    assert!(table.evicted[0].contains(r#"{"Int":1}"#), "{:?}", table.evicted);
}

#[test]
fn every_failure_point_recovers_exactly_once() {
    for point in FailurePoint::ALL {
        let mut q = StreamingQuery::start(definition("SELECT id FROM STREAM events WHERE id % 2 = 1")).unwrap();
        q.add_json("events", &rows(&[1, 2, 3])).unwrap();
        q.process_all_available().unwrap();
        q.add_json("events", &rows(&[5, 6, 7])).unwrap();
        q.inject_failure(point);
        let report = q.process_all_available().unwrap();
        assert_eq!(report.failures, vec![(1, point)], "{point:?}");
        assert_eq!(report.batches.len(), 1, "{point:?}: the retried batch is reported once");
        assert_eq!(report.batches[0].batch_id, 1);
        assert_eq!(sink_ids(&q), vec![1, 3, 5, 7], "{point:?}: nothing lost, nothing duplicated");
        assert_eq!(q.table().versions().len(), 2, "{point:?}");
        let replayed = point == FailurePoint::AfterSinkWrite;
        assert_eq!(q.table().skipped_replays(), u64::from(replayed), "{point:?}: only a batch the table already has is skipped");
        let file: Vec<i64> = q.file().rows_json().iter().map(|r| r[0].as_i64().unwrap()).collect();
        let expected_file: &[i64] = if replayed { &[1, 3, 5, 7, 5, 7] } else { &[1, 3, 5, 7] };
        assert_eq!(file, expected_file, "{point:?}: the at-least-once file writes a replayed batch again");
    }
}

#[test]
fn restart_resumes_after_the_last_commit() {
    let mut q = StreamingQuery::start(definition("SELECT id FROM STREAM events")).unwrap();
    q.add_json("events", &rows(&[1, 2])).unwrap();
    q.process_all_available().unwrap();
    q.restart().unwrap();
    q.add_json("events", &rows(&[3])).unwrap();
    let r = q.process_all_available().unwrap();
    assert_eq!(r.batches.iter().map(|b| b.batch_id).collect::<Vec<_>>(), vec![1]);
    assert_eq!(sink_ids(&q), vec![1, 2, 3]);
    // Nothing new: a restart runs no batch.
    q.restart().unwrap();
    assert!(q.process_all_available().unwrap().batches.is_empty());
}

#[test]
fn an_uncommitted_batch_is_replayed_with_the_same_offsets() {
    let mut q = StreamingQuery::start(definition("SELECT id FROM STREAM events")).unwrap();
    q.add_json("events", &rows(&[1, 2])).unwrap();
    q.inject_failure(FailurePoint::AfterStateWrite);
    // A crash outside process_all_available: the query is stopped mid-batch.
    assert!(matches!(q.run_one().unwrap(), Some(BatchOutcome::Crashed(0, FailurePoint::AfterStateWrite))));
    // More data arrives before the restart; the replayed batch 0 must not take it.
    q.add_json("events", &rows(&[3])).unwrap();
    q.restart().unwrap();
    let r = q.process_all_available().unwrap();
    let per_batch: Vec<(u64, usize)> = r.batches.iter().map(|b| (b.batch_id, b.rows.num_rows())).collect();
    assert_eq!(per_batch, vec![(0, 2), (1, 1)]);
}

#[test]
fn the_checkpoint_is_laid_out_like_sparks() {
    let mut q = StreamingQuery::start(definition("SELECT id FROM STREAM events LIMIT 5")).unwrap();
    q.add_json("events", &rows(&[1])).unwrap();
    q.process_all_available().unwrap();
    let storage = q.storage().scoped("checkpoint");
    assert!(storage.read("metadata").unwrap().is_some());
    assert_eq!(storage.list("offsets").unwrap(), vec!["0"]);
    assert_eq!(storage.list("commits").unwrap(), vec!["0"]);
    assert_eq!(storage.list("state").unwrap(), vec!["0-globalLimit"]);
    assert_eq!(storage.list("state/0-globalLimit/default").unwrap(), vec!["1.delta"]);
    let offsets = String::from_utf8(storage.read("offsets/0").unwrap().unwrap()).unwrap();
    assert!(offsets.starts_with("v1 crc32:"), "{offsets}");
    assert!(offsets.contains("\"events\":[0,1]"), "{offsets}");
    assert_eq!(q.storage().scoped("").list("").unwrap(), vec!["checkpoint", "files", "tables"]);
}

fn start_on(sql: &str, storage: &SharedStorage) -> Result<StreamingQuery> {
    StreamingQuery::start_with(definition(sql), QueryOptions { storage: storage.clone(), ..QueryOptions::default() })
}

#[test]
fn a_foreign_checkpoint_is_refused_and_left_as_it_was() {
    let storage = SharedStorage::memory();
    let mut first = start_on("SELECT id FROM STREAM events", &storage).unwrap();
    first.add_json("events", &rows(&[1])).unwrap();
    first.process_all_available().unwrap();
    let before = storage.scoped("checkpoint").read("metadata").unwrap();
    let err = start_on("SELECT id\nFROM STREAM events WHERE id > 1", &storage).err().unwrap();
    assert_eq!(err.kind, ErrorKind::Checkpoint);
    assert!(err.message.contains("belongs to another query") && err.message.contains("line 1, column 10"), "{}", err.message);
    assert_eq!(storage.scoped("checkpoint").read("metadata").unwrap(), before);
}

#[test]
fn a_checkpoint_resumes_in_a_new_process() {
    // A second query object over the same storage is what a page reload or a new CLI run is.
    let storage = SharedStorage::memory();
    let mut first = start_on("SELECT id FROM STREAM events", &storage).unwrap();
    first.add_json("events", &rows(&[1, 2])).unwrap();
    first.process_all_available().unwrap();
    let first_id = first.id().to_string();
    drop(first);
    let mut second = start_on("SELECT id FROM STREAM events", &storage).unwrap();
    assert_eq!(second.id(), first_id, "the query id lives in the checkpoint");
    second.add_json("events", &rows(&[1, 2, 3])).unwrap();
    let r = second.process_all_available().unwrap();
    assert_eq!(r.batches.iter().map(|b| b.batch_id).collect::<Vec<_>>(), vec![1]);
    assert_eq!(sink_ids(&second), vec![1, 2, 3]);
}

#[test]
fn losing_the_checkpoint_writes_everything_again() {
    let mut q = StreamingQuery::start(definition("SELECT id FROM STREAM events")).unwrap();
    q.add_json("events", &rows(&[1, 2])).unwrap();
    q.process_all_available().unwrap();
    let old_id = q.id().to_string();
    q.lose_checkpoint().unwrap();
    assert_ne!(q.id(), old_id, "a new checkpoint is a new query");
    q.add_json("events", &rows(&[3])).unwrap();
    q.process_all_available().unwrap();
    assert_eq!(sink_ids(&q), vec![1, 2, 1, 2, 3], "the table takes the new query id's batches: duplicates, as the seeds warn");
    assert_eq!(q.file().rows_json().len(), 5);
}

#[test]
fn state_over_the_limit_stops_the_query_naming_the_operator() {
    let options = QueryOptions { limits: crate::state::StateLimits { max_rows: 3, max_bytes: u64::MAX }, ..QueryOptions::default() };
    let mut q = StreamingQuery::start_with(
        QueryDefinition { output_mode: OutputMode::Update, ..definition("SELECT id, count(*) AS n FROM STREAM events GROUP BY id") },
        options,
    )
    .unwrap();
    q.add_json("events", &rows(&[1, 2, 3])).unwrap();
    q.process_all_available().unwrap();
    q.add_json("events", &rows(&[4])).unwrap();
    let err = q.process_all_available().unwrap_err();
    assert_eq!(err.kind, ErrorKind::StateLimit);
    assert!(err.message.contains("`0-stateStoreSave`") && err.message.contains("add a watermark"), "{}", err.message);
    assert_eq!(q.table().versions().len(), 1, "the batch over the limit reached no sink");
}

#[test]
fn a_refused_query_creates_nothing() {
    let err = StreamingQuery::start(QueryDefinition { output_mode: OutputMode::Complete, ..definition("SELECT id FROM STREAM events") })
        .err()
        .unwrap();
    assert_eq!(err.kind, ErrorKind::UnsupportedOutputMode);
}

#[test]
fn the_watermark_follows_the_max_event_time_from_the_next_batch_on() {
    let mut q = StreamingQuery::start(definition("SELECT id FROM STREAM events WATERMARK ts DELAY OF INTERVAL 10 SECONDS")).unwrap();
    q.add_json("events", &rows(&[30])).unwrap();
    let b0 = q.process_all_available().unwrap();
    assert_eq!(b0.batches[0].watermark, None);
    q.add_json("events", &rows(&[5])).unwrap();
    let b1 = q.process_all_available().unwrap();
    assert_eq!(b1.batches[0].watermark.map(crate::time::format_timestamp).as_deref(), Some("2026-01-01 00:00:20"));
    // An older event does not move it back; the row is not dropped by a stateless query.
    assert_eq!(b1.batches[0].rows.num_rows(), 1);
    q.add_json("events", &rows(&[6])).unwrap();
    let b2 = q.process_all_available().unwrap();
    assert_eq!(b2.batches[0].watermark.map(crate::time::format_timestamp).as_deref(), Some("2026-01-01 00:00:20"));
}

#[test]
fn a_delay_longer_than_the_calendar_leaves_the_watermark_unset_instead_of_wrapping() {
    // 280,000 years of 31-day months is the largest delay the analyzer accepts (300,000 years is
    // refused as too large); subtracted from an event at year 1 it is past 64 bits of microseconds.
    // The proposal used to wrap into the far future and drop every later event as late.
    let sql = "SELECT id FROM STREAM events WATERMARK ts DELAY OF INTERVAL 280000 YEARS";
    let mut q = StreamingQuery::start(definition(sql)).unwrap();
    q.add_json("events", &rows(&[30])).unwrap();
    q.process_all_available().unwrap();
    q.add_json("events", &rows(&[5])).unwrap();
    let b1 = q.process_all_available().unwrap();
    assert_eq!(b1.batches[0].watermark, None);
    assert_eq!(b1.batches[0].rows.num_rows(), 1);
    // At the first instant of the calendar, max - delay is below i64::MIN.
    q.add_json("events", &[json!([7, "0001-01-01 00:00:00"])]).unwrap();
    assert_eq!(q.process_all_available().unwrap().batches[0].watermark, None);
}

#[test]
fn progress_uses_the_callers_clock() {
    let clock = FakeClock::default();
    let mut q = StreamingQuery::start_with(
        definition("SELECT id FROM STREAM events"),
        QueryOptions { clock: Box::new(clock.clone()), ..QueryOptions::default() },
    )
    .unwrap();
    q.add_json("events", &rows(&[1, 2, 3, 4])).unwrap();
    clock.0.set(1000.0);
    q.process_all_available().unwrap();
    q.add_json("events", &rows(&[5, 6])).unwrap();
    clock.0.set(3000.0);
    let p = &q.process_all_available().unwrap().batches[0].progress;
    assert_eq!((p.batch_id, p.num_input_rows, p.timestamp_ms), (1, 2, 3000.0));
    assert_eq!(p.input_rows_per_second, 1.0, "2 rows over the 2 s since the previous trigger");
    assert_eq!(p.sources[0].start_offset, 4);
    assert_eq!(p.sources[0].end_offset, 6);
}

#[test]
fn a_processing_time_trigger_runs_a_batch_per_interval() {
    let mut q = StreamingQuery::start(definition("SELECT id FROM STREAM events")).unwrap();
    let mut trigger = crate::runtime::trigger::ProcessingTimeTrigger::new(1000.0);
    q.add_json("events", &rows(&[1])).unwrap();
    assert_eq!(trigger.tick(&mut q, 0.0).unwrap().batches.len(), 1);
    q.add_json("events", &rows(&[2])).unwrap();
    assert_eq!(trigger.tick(&mut q, 500.0).unwrap().batches.len(), 0, "not due yet: the event waits");
    assert_eq!(trigger.tick(&mut q, 1000.0).unwrap().batches.len(), 1);
    assert_eq!(sink_ids(&q), vec![1, 2]);
}

#[test]
fn the_query_keeps_the_progress_of_its_latest_hundred_batches() {
    let mut q = StreamingQuery::start(definition("SELECT id FROM STREAM events")).unwrap();
    for i in 0..250 {
        q.add_json("events", &rows(&[i])).unwrap();
        q.process_all_available().unwrap();
        let ids: Vec<u64> = q.history().iter().map(|p| p.batch_id).collect();
        let first = (i as u64 + 1).saturating_sub(RECENT_PROGRESS as u64);
        assert_eq!(ids, (first..=i as u64).collect::<Vec<_>>(), "after batch {i}");
    }
    assert!(q.history.capacity() < 4 * RECENT_PROGRESS, "the history grows no further: {}", q.history.capacity());
}

#[test]
fn a_new_version_of_a_static_table_joins_the_next_batches_and_leaves_written_rows() {
    let names = |rows: &[serde_json::Value]| {
        let schema = Schema::new(vec![
            Column { name: "id".into(), data_type: DataType::Int },
            Column { name: "name".into(), data_type: DataType::String },
        ]);
        Catalog::table_from_json("names", schema, rows).unwrap()
    };
    let mut d = definition("SELECT e.id, n.name FROM STREAM events e JOIN names n ON e.id = n.id");
    d.catalog.tables = vec![names(&[json!([1, "old"])])];
    let mut catalog = d.catalog.clone();
    let mut q = StreamingQuery::start(d).unwrap();
    q.add_json("events", &rows(&[1])).unwrap();
    q.process_all_available().unwrap();
    catalog.tables = vec![names(&[json!([1, "new"])])];
    q.replace_tables(catalog.clone()).unwrap();
    q.add_json("events", &rows(&[1])).unwrap();
    q.process_all_available().unwrap();
    let written: Vec<String> = q.table().rows_json().iter().map(|r| r[1].as_str().unwrap().to_string()).collect();
    assert_eq!(written, vec!["old", "new"], "the first row keeps what it was joined with");
    // A changed column is a new query, not a new version.
    let other = Schema::new(vec![Column { name: "id".into(), data_type: DataType::Int }]);
    catalog.tables = vec![Catalog::table_from_json("names", other, &[json!([1])]).unwrap()];
    assert_eq!(q.replace_tables(catalog).unwrap_err().kind, crate::ErrorKind::InvalidInput);
}
