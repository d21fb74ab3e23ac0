use std::sync::Arc;

use arrow_array::{Int64Array, StringArray};
use serde_json::json;

use super::*;
use crate::error::ErrorKind;
use crate::storage::SharedStorage;
use crate::types::{Column, DataType};
use crate::value::{values_to_array, Value};

const PATH: &str = "tables/sink/_delta_log/00000000000000000000";

fn schema(columns: &[(&str, DataType)]) -> Schema {
    Schema::new(columns.iter().map(|(n, t)| Column { name: n.to_string(), data_type: t.clone() }).collect())
}

fn kv_schema() -> Schema {
    schema(&[("device", DataType::String), ("n", DataType::BigInt)])
}

fn kv(rows: &[(&str, i64)]) -> RecordBatch {
    let devices: StringArray = rows.iter().map(|r| Some(r.0)).collect();
    let n: Int64Array = rows.iter().map(|r| Some(r.1)).collect();
    RecordBatch::try_new(kv_schema().to_arrow(), vec![Arc::new(devices), Arc::new(n)]).unwrap()
}

fn open(storage: &SharedStorage, schema: &Schema, mode: OutputMode, key: Option<Vec<usize>>) -> Result<TableSink> {
    TableSink::open("sink", storage.scoped("tables/sink"), schema, mode, key)
}

/// Writes `batches` as batches 0, 1, ... of one query; checks that the table reopened from its
/// files holds the same rows and change, and returns it.
fn fold(schema: &Schema, mode: OutputMode, key: Option<Vec<usize>>, batches: &[RecordBatch]) -> TableSink {
    let storage = SharedStorage::memory();
    let mut t = open(&storage, schema, mode, key.clone()).unwrap();
    for (id, rows) in batches.iter().enumerate() {
        assert!(t.write(&BatchWrite { query_id: "q", batch_id: id as u64, rows }).unwrap());
    }
    let again = open(&storage, schema, mode, key).unwrap();
    assert_eq!((again.rows_json(), again.last_change()), (t.rows_json(), t.last_change()), "the table reads back as written");
    assert_eq!(again.versions(), t.versions());
    t
}

#[test]
fn append_adds_the_batch_rows_at_the_end() {
    let t = fold(&kv_schema(), OutputMode::Append, None, &[kv(&[("a", 1)]), kv(&[("b", 2), ("a", 1)])]);
    assert_eq!(t.num_rows(), 3);
    assert_eq!(t.last_change(), &TableChange { added: vec![1, 2], updated: vec![], removed: vec![] });
}

#[test]
fn update_tells_new_keys_from_changed_ones() {
    let t = fold(&kv_schema(), OutputMode::Update, Some(vec![0]), &[kv(&[("a", 1), ("b", 1)]), kv(&[("b", 2), ("c", 1)])]);
    assert_eq!(t.rows_json(), vec![json!(["a", 1]), json!(["b", 2]), json!(["c", 1])]);
    assert_eq!(t.last_change(), &TableChange { added: vec![2], updated: vec![1], removed: vec![] });
    let counts: Vec<(u64, u64)> = t.versions().iter().map(|v| (v.rows_added, v.rows_updated)).collect();
    assert_eq!(counts, vec![(2, 0), (1, 1)]);
}

#[test]
fn complete_shows_the_difference_from_the_table_before() {
    let first = kv(&[("a", 1), ("b", 1), ("gone", 5)]);
    let second = kv(&[("a", 1), ("b", 2), ("c", 1)]);
    let t = fold(&kv_schema(), OutputMode::Complete, Some(vec![0]), &[first, second.clone()]);
    assert_eq!(t.rows_json(), batch_json(&second));
    assert_eq!(t.last_change(), &TableChange { added: vec![2], updated: vec![1], removed: vec![json!(["gone", 5])] });
}

#[test]
fn complete_without_a_key_matches_rows_by_value() {
    let one = schema(&[("n", DataType::BigInt)]);
    let ints = |v: &[i64]| RecordBatch::try_new(one.to_arrow(), vec![Arc::new(Int64Array::from(v.to_vec())) as ArrayRef]).unwrap();
    let t = fold(&one, OutputMode::Complete, None, &[ints(&[1, 1, 2]), ints(&[1, 3])]);
    assert_eq!(t.last_change(), &TableChange { added: vec![1], updated: vec![], removed: vec![json!([1]), json!([2])] });
}

#[test]
fn a_key_written_twice_in_one_batch_is_added_once() {
    let t = fold(&kv_schema(), OutputMode::Update, Some(vec![0]), &[kv(&[("a", 1)]), kv(&[("b", 1), ("a", 2), ("b", 3), ("a", 4)])]);
    assert_eq!(t.rows_json(), vec![json!(["a", 4]), json!(["b", 3])]);
    assert_eq!(t.last_change(), &TableChange { added: vec![1], updated: vec![0], removed: vec![] });
    assert_eq!((t.versions()[1].rows_added, t.versions()[1].rows_updated), (1, 1));
}

#[test]
fn the_newest_rows_and_every_version_as_of_come_from_the_kept_batches() {
    let batches = [kv(&[("a", 1), ("b", 1)]), kv(&[("b", 2)]), kv(&[("c", 1), ("a", 5)])];
    let as_json = |b: Vec<RecordBatch>| b.iter().flat_map(batch_json).collect::<Vec<_>>();
    let append = fold(&kv_schema(), OutputMode::Append, None, &batches);
    assert_eq!(append.newest_rows_json(3), vec![json!(["b", 2]), json!(["c", 1]), json!(["a", 5])]);
    assert_eq!(as_json(append.batches_at(Some(1)).unwrap()), vec![json!(["a", 1]), json!(["b", 1]), json!(["b", 2])]);
    let update = fold(&kv_schema(), OutputMode::Update, Some(vec![0]), &batches);
    assert_eq!(update.newest_rows_json(2), vec![json!(["b", 2]), json!(["c", 1])]);
    assert_eq!(as_json(update.batches_at(Some(1)).unwrap()), vec![json!(["a", 1]), json!(["b", 2])]);
    assert_eq!(as_json(update.batches_at(None).unwrap()), update.rows_json());
    let complete = fold(&kv_schema(), OutputMode::Complete, Some(vec![0]), &batches);
    assert_eq!(as_json(complete.batches_at(Some(0)).unwrap()), batch_json(&batches[0]));
    assert_eq!(complete.newest_rows_json(9), batch_json(&batches[2]));
    let err = complete.batches_at(Some(3)).unwrap_err();
    assert!(err.message.contains("versions 0 to 2; there is no version 3"), "{}", err.message);
}

/// Every type the engine builds, with NULLs, sliced so no buffer starts at its beginning.
fn every_type() -> (Schema, RecordBatch) {
    let s = schema(&[
        ("s", DataType::String),
        ("i", DataType::Int),
        ("b", DataType::BigInt),
        ("d", DataType::Double),
        ("f", DataType::Boolean),
        ("t", DataType::Timestamp),
        ("a", DataType::Array(Box::new(DataType::String))),
        ("aa", DataType::Array(Box::new(DataType::Array(Box::new(DataType::BigInt))))),
        ("w", DataType::Window),
        ("z", DataType::Null),
        ("dt", DataType::Date),
        ("bn", DataType::Binary),
        ("st", crate::types::ddl::parse_type("struct<a:int,b:array<string>>").unwrap()),
        ("mp", crate::types::ddl::parse_type("map<string,bigint>").unwrap()),
        ("dec", DataType::Decimal(38, 4)),
    ]);
    let n = 11;
    let cell = |col: usize, row: usize| -> Value {
        if (row + col) % 4 == 3 {
            return Value::Null;
        }
        let r = row as i64;
        match col {
            0 => Value::String(format!("s{}é", "x".repeat(row))),
            1 => Value::Int(-(row as i32)),
            2 => Value::BigInt(r << 40),
            3 => Value::Double([0.5, -0.0, f64::INFINITY, 1e300][row % 4]),
            4 => Value::Boolean(row % 3 == 0),
            5 => Value::Timestamp(1_767_225_600_000_000 + r * 1_250_000),
            6 => Value::Array((0..row % 3).map(|k| if k == 1 { Value::Null } else { Value::String(format!("e{k}")) }).collect()),
            7 => Value::Array(vec![Value::Array((0..r % 2 + 1).map(Value::BigInt).collect()), Value::Array(vec![])]),
            8 => Value::Window { start: r * 60_000_000, end: (r + 1) * 60_000_000 },
            10 => Value::Date(20_000 - row as i32),
            11 => Value::Binary((0..row as u8).collect()),
            12 => Value::Struct(vec![
                ("a".into(), if row % 2 == 0 { Value::Null } else { Value::Int(row as i32) }),
                ("b".into(), Value::Array(vec![Value::String(format!("b{row}"))])),
            ]),
            14 => Value::Decimal { unscaled: i128::from(r - 5) * 10i128.pow(30) + i128::from(r), precision: 38, scale: 4 },
            13 => Value::Map(
                (0..row % 3).map(|k| (Value::String(format!("k{k}")), if k == 1 { Value::Null } else { Value::BigInt(r) })).collect(),
            ),
            _ => Value::Null,
        }
    };
    let columns: Vec<ArrayRef> =
        s.columns.iter().enumerate().map(|(k, c)| values_to_array(&(0..n).map(|r| cell(k, r)).collect::<Vec<_>>(), &c.data_type)).collect();
    let batch = RecordBatch::try_new(s.to_arrow(), columns).unwrap();
    (s, batch.slice(3, 7))
}

#[test]
fn every_type_reads_back_as_written() {
    let (s, batch) = every_type();
    let t = fold(&s, OutputMode::Append, None, &[batch.clone(), batch.slice(1, 0), batch.slice(2, 5)]);
    assert_eq!(t.rows_json()[..7], batch_json(&batch)[..]);
    assert_eq!(t.num_rows(), 12);
    let bytes = SharedStorage::memory();
    let mut t = open(&bytes, &s, OutputMode::Append, None).unwrap();
    t.write(&BatchWrite { query_id: "q", batch_id: 0, rows: &batch }).unwrap();
    let body = bytes.scoped("").read(PATH).unwrap().unwrap();
    assert!(!String::from_utf8_lossy(&body).contains("2026-01-01"), "a timestamp was written as text");
    assert_eq!(open(&bytes, &s, OutputMode::Append, None).unwrap().versions()[0].rows, batch);
}

#[test]
fn a_json_version_of_an_earlier_release_still_opens() {
    let s = schema(&[
        ("device", DataType::String),
        ("n", DataType::BigInt),
        ("ts", DataType::Timestamp),
        ("w", DataType::Window),
        ("tags", DataType::Array(Box::new(DataType::String))),
        ("t", DataType::Double),
    ]);
    // Two versions exactly as releases before the binary format wrote them.
    let old = [
        r#"{"version":0,"query_id":"5c1e0a3f9b2d4e61","batch_id":0,"operation":"MERGE","output_mode":"update","rows_added":2,"rows_updated":0,"rows_removed":0,"rows":[["d1",1,"2026-01-01 00:00:05.25",{"end":"2026-01-01 00:01:00","start":"2026-01-01 00:00:00"},["x",null],21.5],["d2",1,"2026-01-01 00:00:07",{"end":"2026-01-01 00:01:00","start":"2026-01-01 00:00:00"},[],"NaN"]]}"#,
        r#"{"version":1,"query_id":"5c1e0a3f9b2d4e61","batch_id":1,"operation":"MERGE","output_mode":"update","rows_added":0,"rows_updated":1,"rows_removed":0,"rows":[["d1",2,null,null,null,-1e-7]]}"#,
    ];
    let storage = SharedStorage::memory();
    for (v, body) in old.iter().enumerate() {
        storage.scoped("tables/sink").write(&version_path(v as u64), &frame(body.as_bytes())).unwrap();
    }
    let mut t = open(&storage, &s, OutputMode::Update, Some(vec![0])).unwrap();
    let expected = vec![
        json!(["d1", 2, null, null, null, -1e-7]),
        json!(["d2", 1, "2026-01-01 00:00:07", {"start": "2026-01-01 00:00:00", "end": "2026-01-01 00:01:00"}, [], "NaN"]),
    ];
    assert_eq!(t.rows_json(), expected);
    let v0: Vec<Json> = old[0].parse::<Json>().unwrap()["rows"].as_array().unwrap().clone();
    assert_eq!(t.versions()[0].rows_json(), v0);
    assert_eq!((t.versions()[1].operation.as_str(), t.versions()[1].rows_updated), ("MERGE", 1));
    assert_eq!(t.last_batch_id("5c1e0a3f9b2d4e61"), Some(1));
    assert_eq!(t.last_change(), &TableChange { added: vec![], updated: vec![0], removed: vec![] });
    // A new version is written in the binary form beside the old ones; all three read back.
    let row = [
        Value::String("d3".into()),
        Value::BigInt(7),
        Value::Timestamp(1_767_225_600_000_000),
        Value::Window { start: 0, end: 60_000_000 },
        Value::Array(vec![Value::String("y".into())]),
        Value::Double(1.5),
    ];
    let columns = row.iter().zip(&s.columns).map(|(v, c)| values_to_array(std::slice::from_ref(v), &c.data_type)).collect();
    let new = RecordBatch::try_new(s.to_arrow(), columns).unwrap();
    t.write(&BatchWrite { query_id: "5c1e0a3f9b2d4e61", batch_id: 2, rows: &new }).unwrap();
    let again = open(&storage, &s, OutputMode::Update, Some(vec![0])).unwrap();
    assert_eq!(again.versions().len(), 3);
    assert!(storage.scoped("tables/sink").read(&version_path(2)).unwrap().unwrap().windows(MAGIC.len()).any(|w| w == MAGIC));
    assert_eq!(again.rows_json(), t.rows_json());
    assert_eq!(
        again.rows_json()[2],
        json!(["d3", 7, "2026-01-01 00:00:00", {"start": "1970-01-01 00:00:00", "end": "1970-01-01 00:01:00"}, ["y"], 1.5])
    );
}

/// The body of the one version a table of `s` holds after writing `batch`.
fn written(s: &Schema, batch: &RecordBatch) -> Vec<u8> {
    let storage = SharedStorage::memory();
    let mut t = open(&storage, s, OutputMode::Append, None).unwrap();
    t.write(&BatchWrite { query_id: "q", batch_id: 0, rows: batch }).unwrap();
    let bytes = storage.scoped("").read(PATH).unwrap().unwrap();
    unframe(PATH, &bytes).unwrap().to_vec()
}

/// Opening a table whose version 0 has `body` (framed with a right checksum, so only the
/// reading of the content can refuse it).
fn open_body(s: &Schema, body: &[u8]) -> Result<TableSink> {
    let storage = SharedStorage::memory();
    storage.scoped("").write(PATH, &frame(body)).unwrap();
    open(&storage, s, OutputMode::Append, None)
}

fn refused(s: &Schema, body: &[u8], why: &str) {
    match open_body(s, body) {
        Ok(_) => panic!("a damaged version ({why}) was read"),
        Err(e) => {
            assert_eq!(e.kind, ErrorKind::Checkpoint, "{why}: {e}");
            assert!(e.message.contains(PATH) && e.message.contains("is damaged"), "{why}: {}", e.message);
        }
    }
}

#[test]
fn a_damaged_binary_version_is_refused_with_its_path() {
    let (s, batch) = every_type();
    let body = written(&s, &batch);
    assert_eq!(open_body(&s, &body).unwrap().versions()[0].rows, batch);
    for len in 0..body.len() {
        refused(&s, &body[..len], &format!("cut to {len} bytes"));
    }
    refused(&s, &[body.as_slice(), &[0]].concat(), "a byte more");
    let mut format = body.clone();
    format[MAGIC.len()] = 2;
    refused(&s, &format, "another format");
    let wrong = schema(&[("s", DataType::String), ("i", DataType::Double)]);
    let kv_body = written(&kv_schema(), &kv(&[("a", 1)]));
    let err = open_body(&schema(&[("device", DataType::String), ("n", DataType::Double)]), &kv_body).err().unwrap();
    assert!(err.message.contains("its column `n` holds bigint where the table has double"), "{}", err.message);
    refused(&wrong, &body, "other columns");
    // Where the batch starts in a version of query `q`: after the magic, the format, the
    // version, the query id, the batch id, the operation, the mode and three counts.
    let batch_at = MAGIC.len() + 1 + 8 + (4 + 1) + 8 + (4 + "STREAMING UPDATE".len()) + (4 + "append".len()) + 24;
    let rows_at = batch_at + 4;
    assert_eq!(kv_body[rows_at..rows_at + 8], 1u64.to_le_bytes());
    let with = |at: usize, bytes: &[u8]| {
        let mut b = kv_body.clone();
        b[at..at + bytes.len()].copy_from_slice(bytes);
        b
    };
    refused(&kv_schema(), &with(rows_at, &(1u64 << 60).to_le_bytes()), "2^60 rows announced");
    refused(&kv_schema(), &with(rows_at, &2u64.to_le_bytes()), "more rows than written");
    refused(&kv_schema(), &with(rows_at, &0u64.to_le_bytes()), "fewer rows than written");
    refused(&kv_schema(), &with(batch_at, &3u32.to_le_bytes()), "more columns than the table's");
    let types_at = rows_at + 8;
    refused(&kv_schema(), &with(types_at, &[99]), "a type tag that is no type");
    // device's validity marker, then its offsets [0, 1]: an end past the bytes.
    let offsets_at = types_at + 2 + 1;
    refused(&kv_schema(), &with(offsets_at + 4, &1_000_000u32.to_le_bytes()), "a string longer than the file");
    refused(&kv_schema(), &with(offsets_at, &1u32.to_le_bytes()), "offsets that do not start at 0");
    refused(&kv_schema(), &with(types_at + 2, &[7]), "a NULL marker that is neither 0 nor 1");
    let strings = schema(&[("device", DataType::String)]);
    let one = RecordBatch::try_new(strings.to_arrow(), vec![Arc::new(StringArray::from(vec!["é"])) as ArrayRef]).unwrap();
    let mut not_utf8 = written(&strings, &one);
    let last = not_utf8.len() - 1;
    not_utf8[last] = 0xff;
    refused(&strings, &not_utf8, "a string that is not UTF-8");
    let deep = schema(&[("a", DataType::Array(Box::new(DataType::String)))]);
    let mut nested = kv_body[..types_at].to_vec();
    nested[batch_at..batch_at + 4].copy_from_slice(&1u32.to_le_bytes());
    nested.extend(vec![7u8; 1_000_000]);
    refused(&deep, &nested, "types nested a million deep");
}

#[test]
fn a_json_version_that_does_not_fit_the_table_is_refused() {
    let body = br#"{"version":0,"query_id":"q","batch_id":0,"operation":"STREAMING UPDATE","output_mode":"append","rows_added":1,"rows_updated":0,"rows_removed":0,"rows":[["a","many"]]}"#;
    let err = open_body(&kv_schema(), body).err().unwrap();
    assert!(err.message.contains(PATH) && err.message.contains("its row 0 holds \"many\" in column `n`"), "{}", err.message);
    refused(&kv_schema(), b"{\"version\":0}", "a version without rows");
}

/// Upserting a batch that updates every row of a large table: linear in the batch (listing
/// each updated row once used to search the list of rows already listed, which is quadratic).
#[test]
fn an_update_of_every_key_folds_in_linear_time() {
    let n = 200_000;
    let names: Vec<String> = (0..n).map(|i| format!("k{i}")).collect();
    let batch = |value: i64| {
        let devices: StringArray = names.iter().map(|s| Some(s.as_str())).collect();
        RecordBatch::try_new(kv_schema().to_arrow(), vec![Arc::new(devices), Arc::new(Int64Array::from(vec![value; n]))]).unwrap()
    };
    let storage = SharedStorage::memory();
    let mut t = open(&storage, &kv_schema(), OutputMode::Update, Some(vec![0])).unwrap();
    t.write(&BatchWrite { query_id: "q", batch_id: 0, rows: &batch(1) }).unwrap();
    t.write(&BatchWrite { query_id: "q", batch_id: 1, rows: &batch(2) }).unwrap();
    assert_eq!((t.versions()[1].rows_added, t.versions()[1].rows_updated), (0, n as u64));
    assert_eq!(t.last_change().updated.len(), n);
    assert_eq!(t.newest_rows_json(1), vec![json!([format!("k{}", n - 1), 2])]);
}
