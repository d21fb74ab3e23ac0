//! Kafka sources: topics with partitions, per-partition offsets, `maxOffsetsPerTrigger` as
//! Spark's `KafkaMicroBatchStream` splits it, retention with `failOnDataLoss`, recovery across
//! crashes and restarts. This machine's Spark has no broker, so the expected values follow
//! Spark's source (KafkaMicroBatchStream.scala, KafkaSourceProvider.scala) and Kafka's
//! (Utils.murmur2, BuiltInPartitioner), cited at each test, not a Spark run.

use serde_json::{json, Value as Json};
use unbounded_engine::kafka::partitioner::partition_for_key;
use unbounded_engine::runtime::QueryOptions;
use unbounded_engine::scenario::{run_text, run_with, Scenario};
use unbounded_engine::storage::{SharedStorage, Storage};

fn scenario(options: Json, partitions: u32, query: &str, steps: Json) -> String {
    json!({
        "version": 1,
        "name": "kafka",
        "sources": {"t": {"kind": "kafka", "partitions": partitions, "options": options}},
        "query": query,
        "output_mode": "append",
        "steps": steps,
    })
    .to_string()
}

fn messages(n: usize, partition: u32) -> Json {
    let ms: Vec<Json> =
        (0..n).map(|i| json!({"key": format!("k{i}"), "value": format!("v{i}"), "timestamp": "2026-01-01 00:00:00"})).collect();
    json!({"add": "t", "messages": ms, "partition": partition})
}

fn run(text: &str) -> Json {
    run_text(text).unwrap().document
}

/// Rows per batch of every run step, and the batch's `(partition, offset)` pairs.
fn batches(doc: &Json) -> Vec<Vec<(i64, i64)>> {
    doc["runs"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|r| r["batches"].as_array().unwrap().iter())
        .map(|b| b["rows"].as_array().unwrap().iter().map(|r| (r[0].as_i64().unwrap(), r[1].as_i64().unwrap())).collect())
        .collect()
}

fn per_partition(rows: &[(i64, i64)]) -> Vec<usize> {
    (0..3).map(|p| rows.iter().filter(|(q, _)| *q == p).count()).collect()
}

/// KafkaMicroBatchStream.rateLimit: the limit split by what each partition has waiting,
/// `floor` of each share (`ceil` below one, so no partition starves).
#[test]
fn max_offsets_per_trigger_splits_the_limit_across_partitions_as_spark_does() {
    let text = scenario(
        json!({"maxOffsetsPerTrigger": 6, "startingOffsets": "earliest"}),
        3,
        "SELECT partition, offset FROM STREAM t",
        json!([messages(10, 0), messages(5, 1), messages(1, 2), {"run": {"trigger": "availableNow"}}]),
    );
    let doc = run(&text);
    assert_eq!(doc.get("error"), None, "{doc}");
    let b = batches(&doc);
    // 10/5/1 waiting: shares 3.75, 1.875, 0.375 -> 3, 1, 1. Then 7/4/0: 3.82, 2.18 -> 3, 2.
    // Then 4/2: 4, 2.
    let split: Vec<Vec<usize>> = b.iter().filter(|rows| !rows.is_empty()).map(|rows| per_partition(rows)).collect();
    assert_eq!(split, vec![vec![3, 1, 1], vec![3, 2, 0], vec![4, 2, 0]], "{doc}");
    // Every message read once, in offset order within its partition.
    let all: Vec<(i64, i64)> = b.concat();
    assert_eq!(all.len(), 16);
    for p in 0..3 {
        let offsets: Vec<i64> = all.iter().filter(|(q, _)| *q == p).map(|(_, o)| *o).collect();
        assert_eq!(offsets, (0..offsets.len() as i64).collect::<Vec<_>>(), "partition {p}");
    }
}

/// Kafka's default partitioner: a keyed message goes to toPositive(murmur2(key)) % partitions.
#[test]
fn keyed_messages_land_where_kafkas_default_partitioner_puts_them() {
    let keys = ["d1", "d2", "d3", "sensor-7", "foobar"];
    let ms: Vec<Json> = keys.iter().map(|k| json!({"key": k, "value": "x"})).collect();
    let text = scenario(
        json!({"startingOffsets": "earliest"}),
        3,
        "SELECT partition, offset FROM STREAM t",
        json!([{"add": "t", "messages": ms}, {"run": {}}]),
    );
    let doc = run(&text);
    let rows = batches(&doc).concat();
    let mut got: Vec<i64> = rows.iter().map(|(p, _)| *p).collect();
    got.sort_unstable();
    let mut want: Vec<i64> = keys.iter().map(|k| partition_for_key(k.as_bytes(), 3) as i64).collect();
    want.sort_unstable();
    assert_eq!(got, want, "{doc}");
}

/// The offsets the checkpoint keeps per batch are Spark's JSON, per partition.
#[test]
fn each_batch_s_offsets_are_kept_per_partition_in_spark_s_json() {
    let text = scenario(
        json!({"maxOffsetsPerTrigger": 4, "startingOffsets": "earliest"}),
        2,
        "SELECT partition, offset FROM STREAM t",
        json!([messages(4, 0), messages(4, 1), {"run": {}}]),
    );
    let s = Scenario::parse(&text).unwrap();
    let storage = SharedStorage::memory();
    let out = run_with(&s, QueryOptions { storage: storage.clone(), ..QueryOptions::default() }).unwrap();
    assert!(out.ok, "{}", out.document);
    let cp = storage.scoped("checkpoint");
    let initial = String::from_utf8(cp.read("sources/t/initial").unwrap().unwrap()).unwrap();
    assert!(initial.contains(r#"{"t":{"0":0,"1":0}}"#), "{initial}");
    let first = String::from_utf8(cp.read("sources/t/0").unwrap().unwrap()).unwrap();
    assert!(first.contains(r#""end":{"t":{"0":2,"1":2}}"#) && first.contains(r#""start":{"t":{"0":0,"1":0}}"#), "{first}");
    let second = String::from_utf8(cp.read("sources/t/1").unwrap().unwrap()).unwrap();
    assert!(second.contains(r#""end":{"t":{"0":4,"1":4}}"#), "{second}");
}

/// `startingOffsets` latest (Spark's default for a stream): what the topic held when the
/// query started is not read; a restart keeps the offsets it started from.
#[test]
fn starting_offsets_latest_skips_what_was_there_before_the_query() {
    let text = json!({
        "version": 1, "name": "latest",
        "sources": {"t": {"kind": "kafka", "partitions": 1}},
        "query": "SELECT partition, offset FROM STREAM t", "output_mode": "append",
        "steps": [{"add": "t", "messages": [{"key": null, "value": "a"}]}, {"run": {}}],
    })
    .to_string();
    // The runner starts the query before the first step: the topic was empty, so latest is 0.
    let doc = run(&text);
    assert_eq!(batches(&doc).concat(), vec![(0, 0)], "{doc}");
    let earliest = StartingCase::new(json!({"t": {"0": 1}}));
    assert_eq!(earliest.offsets_read(), vec![1, 2], "a per-partition start skips offset 0");
}

struct StartingCase(String);

impl StartingCase {
    fn new(start: Json) -> Self {
        StartingCase(scenario(
            json!({"startingOffsets": start}),
            1,
            "SELECT partition, offset FROM STREAM t",
            json!([messages(3, 0), {"run": {}}]),
        ))
    }

    fn offsets_read(&self) -> Vec<i64> {
        batches(&run(&self.0)).concat().into_iter().map(|(_, o)| o).collect()
    }
}

/// Retention deleted offsets a batch would read: with `failOnDataLoss` (the default) the
/// query fails with Spark's advice; without it the batch reads what is left
/// (KafkaSourceProvider's INSTRUCTION_FOR_FAIL_ON_DATA_LOSS_TRUE; KafkaMicroBatchStream.reportDataLoss).
#[test]
fn retention_cut_fails_the_query_or_is_skipped_with_fail_on_data_loss_false() {
    let steps = json!([messages(3, 0), {"run": {}}, messages(5, 0), {"retain": "t", "from_offsets": {"0": 6}}, {"run": {}}]);
    let strict = run(&scenario(json!({"startingOffsets": "earliest"}), 1, "SELECT partition, offset FROM STREAM t", steps.clone()));
    let message = strict["error"]["message"].as_str().unwrap_or_default();
    assert!(message.contains("failOnDataLoss") && message.contains("offset 3 of t-0"), "{strict}");
    let lenient =
        run(&scenario(json!({"startingOffsets": "earliest", "failOnDataLoss": false}), 1, "SELECT partition, offset FROM STREAM t", steps));
    assert_eq!(lenient.get("error"), None, "{lenient}");
    let offsets: Vec<i64> = batches(&lenient).concat().into_iter().map(|(_, o)| o).collect();
    assert_eq!(offsets, vec![0, 1, 2, 6, 7], "{lenient}");
}

/// Crashes at every point and restarts between batches change nothing in the transactional
/// table: the uncommitted batch is re-read from its recorded per-partition range.
#[test]
fn crashes_and_restarts_read_every_message_exactly_once_under_a_rate_limit() {
    let points = ["before_offsets_write", "after_offsets_write", "after_state_write", "after_sink_write"];
    let clean_steps =
        json!([messages(7, 0), messages(3, 1), messages(5, 2), {"run": {}}, {"run": {}}, messages(4, 1), {"run": {}}, {"run": {}}]);
    let query = "SELECT partition, offset FROM STREAM t";
    let options = json!({"maxOffsetsPerTrigger": 4, "startingOffsets": "earliest"});
    let clean = run(&scenario(options.clone(), 3, query, clean_steps.clone()));
    for point in points {
        for at in [3, 4, 6, 7] {
            let mut steps = clean_steps.as_array().unwrap().clone();
            steps.insert(at, json!({"fail": point}));
            steps.insert(at + 2, json!({"restart": {}}));
            let crashed = run(&scenario(options.clone(), 3, query, Json::Array(steps)));
            assert_eq!(crashed.get("error"), None, "{point} at {at}: {crashed}");
            let mut a = clean["sink"].as_array().unwrap().clone();
            let mut b = crashed["sink"].as_array().unwrap().clone();
            a.sort_by_key(|r| r.to_string());
            b.sort_by_key(|r| r.to_string());
            assert_eq!(a, b, "{point} at {at}");
        }
    }
}

/// Progress reports Spark's Kafka metrics: offsets behind the latest, per partition.
#[test]
fn progress_reports_offsets_behind_latest() {
    let text = scenario(
        json!({"maxOffsetsPerTrigger": 2, "startingOffsets": "earliest"}),
        2,
        "SELECT partition, offset FROM STREAM t",
        json!([messages(4, 0), messages(2, 1)]),
    );
    let s = Scenario::parse(&text).unwrap();
    let catalog = s.catalog().unwrap();
    let definition = unbounded_engine::runtime::QueryDefinition { sql: s.query.clone(), output_mode: s.output_mode, catalog };
    let options = QueryOptions { kafka: s.kafka_sources().unwrap(), ..QueryOptions::default() };
    let mut q = unbounded_engine::runtime::StreamingQuery::start_with(definition, options).unwrap();
    let m = |n: usize| {
        (0..n).map(|_| unbounded_engine::kafka::Message { key: None, value: Some(b"x".to_vec()), timestamp: 0 }).collect::<Vec<_>>()
    };
    q.produce("t", m(4), Some(0)).unwrap();
    q.produce("t", m(2), Some(1)).unwrap();
    let report = q.run_trigger(unbounded_engine::runtime::trigger::RunTrigger::Once).unwrap();
    assert!(!report.batches.is_empty());
    let p = q.history().last().unwrap().clone();
    let metrics = serde_json::to_value(&p.sources[0]).unwrap();
    // Once ignores the limit: everything read, nothing behind.
    assert_eq!(metrics["metrics"]["maxOffsetsBehindLatest"], "0", "{metrics}");
    assert_eq!(metrics["description"], "KafkaV2[Subscribe[t]]");
    q.produce("t", m(3), Some(0)).unwrap();
    q.run_trigger(unbounded_engine::runtime::trigger::RunTrigger::Batches(1)).unwrap();
    let p = q.history().last().unwrap().clone();
    let metrics = serde_json::to_value(&p.sources[0]).unwrap();
    // One trigger under maxOffsetsPerTrigger 2 reads 2 of the 3 new messages of partition 0.
    assert_eq!(p.sources[0].num_input_rows, 2, "{metrics}");
    assert_eq!(metrics["metrics"]["maxOffsetsBehindLatest"], "1", "{metrics}");
    assert_eq!(metrics["metrics"]["minOffsetsBehindLatest"], "0", "{metrics}");
    assert_eq!(metrics["metrics"]["avgOffsetsBehindLatest"], "0.5", "{metrics}");
}

/// What a scenario cannot say is refused with the place: a Kafka source has no schema, a
/// message has only key, value and timestamp, a partition must exist.
#[test]
fn malformed_kafka_scenarios_are_refused_with_the_place() {
    let bad = |sources: Json, steps: Json| {
        let text = json!({"version": 1, "name": "x", "sources": sources, "query": "SELECT * FROM STREAM t", "steps": steps}).to_string();
        Scenario::parse(&text).unwrap_err().message
    };
    let e = bad(json!({"t": {"kind": "kafka", "schema": [["a", "string"]]}}), json!([]));
    assert!(e.contains("Kafka schema"), "{e}");
    let e = bad(json!({"t": {"kind": "kafka", "partitions": 0}}), json!([]));
    assert!(e.contains("`partitions` must be"), "{e}");
    let e = bad(json!({"t": {"kind": "kafka", "options": {"maxOffsetPerTrigger": 3}}}), json!([]));
    assert!(e.contains("unknown option `maxOffsetPerTrigger`"), "{e}");
    let e = bad(json!({"t": {"kind": "kafka", "partitions": 2}}), json!([{"add": "t", "messages": [{"value": "x"}], "partition": 2}]));
    assert!(e.contains("step 0") && e.contains("0 to 1"), "{e}");
    let e = bad(json!({"t": {"kind": "kafka"}}), json!([{"add": "t", "messages": [{"value": "x", "headers": []}]}]));
    assert!(e.contains("step 0, message 0") && e.contains("headers"), "{e}");
    let e = bad(json!({"t": {"kind": "kafka"}}), json!([{"add": "t", "rows": [["x"]]}]));
    assert!(e.contains("step 0"), "{e}");
}

/// SplitMix64: a seeded generator, so a failing case can be replayed from its seed.
struct Rng(u64);

impl Rng {
    fn below(&mut self, n: u64) -> u64 {
        self.0 = self.0.wrapping_add(0x9e3779b97f4a7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58476d1ce4e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d049bb133111eb);
        (z ^ (z >> 31)) % n
    }
}

/// Exactly-once as a property over Kafka sources: random topics, keyed and partitioned
/// messages, random rate limits, retention cuts of what was already read, crashes at random
/// points and restarts, under stateless, windowed and deduplicating queries. The transactional
/// table ends as in the same run without failures and restarts.
#[test]
fn random_kafka_runs_with_rate_limits_retention_and_crashes_end_with_the_table_of_the_clean_run() {
    let queries = [
        ("SELECT partition, offset, CAST(timestamp AS STRING) AS ts FROM STREAM t", "append"),
        ("SELECT window(timestamp, '10 seconds') AS w, count(*) AS n FROM STREAM t WATERMARK timestamp DELAY OF INTERVAL 5 SECONDS GROUP BY window(timestamp, '10 seconds')", "append"),
        ("SELECT partition, count(*) AS n, max(offset) AS top FROM STREAM t GROUP BY partition", "update"),
        ("SELECT partition, timestamp FROM STREAM t WATERMARK timestamp DELAY OF INTERVAL 5 SECONDS DEDUPLICATE BY (partition, timestamp)", "append"),
    ];
    let points = ["before_offsets_write", "after_offsets_write", "after_state_write", "after_sink_write"];
    let mut rng = Rng(11);
    let mut crashes = 0;
    let mut rows = 0;
    for case in 0..200 {
        let (query, mode) = queries[rng.below(queries.len() as u64) as usize];
        let partitions = 1 + rng.below(4) as u32;
        let mut options = json!({"startingOffsets": "earliest"});
        if rng.below(3) > 0 {
            options["maxOffsetsPerTrigger"] = json!(1 + rng.below(6));
        }
        let (mut clean, mut crashed) = (Vec::new(), Vec::new());
        let mut second = 0;
        let mut produced = vec![0i64; partitions as usize];
        for _ in 0..(2 + rng.below(6)) {
            let ms: Vec<Json> = (0..1 + rng.below(5))
                .map(|_| {
                    second += rng.below(7);
                    json!({"key": format!("k{}", rng.below(5)), "value": "x", "timestamp": format!("2026-01-01 00:{:02}:{:02}", second / 60, second % 60)})
                })
                .collect();
            let step = if rng.below(2) == 0 {
                let p = rng.below(partitions as u64) as u32;
                produced[p as usize] += ms.len() as i64;
                json!({"add": "t", "messages": ms, "partition": p})
            } else {
                json!({"add": "t", "messages": ms})
            };
            clean.push(step.clone());
            crashed.push(step);
            if rng.below(2) == 0 {
                crashed.push(json!({"fail": points[rng.below(4) as usize]}));
                crashes += 1;
            }
            if rng.below(4) == 0 {
                crashed.push(json!({"restart": {}}));
            }
            let run = if rng.below(3) == 0 { json!({"run": {"trigger": "availableNow"}}) } else { json!({"run": {}}) };
            clean.push(run.clone());
            crashed.push(run);
        }
        // Drain what the rate limit left, then cut what was read and run once more.
        for steps in [&mut clean, &mut crashed] {
            steps.push(json!({"run": {"trigger": "availableNow"}}));
            let cut: serde_json::Map<String, Json> = (0..partitions).map(|p| (p.to_string(), json!(produced[p as usize] / 2))).collect();
            steps.push(json!({"retain": "t", "from_offsets": cut}));
            steps.push(json!({"run": {}}));
        }
        let doc = |steps: Vec<Json>| {
            let mut d: Json = serde_json::from_str(&scenario(options.clone(), partitions, query, Json::Array(steps))).unwrap();
            d["output_mode"] = json!(mode);
            run(&d.to_string())
        };
        let (a, b) = (doc(clean), doc(crashed));
        assert_eq!(a.get("error"), None, "case {case}: {a}");
        assert_eq!(b.get("error"), None, "case {case}: {b}");
        let sorted = |d: &Json| {
            let mut rows = d["sink"].as_array().unwrap().clone();
            rows.sort_by_key(|r| r.to_string());
            rows
        };
        assert_eq!(sorted(&a), sorted(&b), "case {case}: {query}");
        rows += a["sink"].as_array().unwrap().len();
    }
    assert!(crashes >= 100, "only {crashes} crashes");
    assert!(rows >= 1000, "the sinks held only {rows} rows: the cases test little");
}

/// The seeds' idiom: parse `value` with `CAST(value AS STRING)` and `from_json`, then `data.*`.
#[test]
fn values_are_parsed_with_cast_and_from_json_as_on_databricks() {
    let text = json!({
        "version": 1, "name": "parse",
        "sources": {"t": {"kind": "kafka", "partitions": 2, "options": {"startingOffsets": "earliest"}}},
        "query": "SELECT CAST(key AS STRING) AS k, data.* FROM (SELECT key, from_json(CAST(value AS STRING), 'device STRING, temp DOUBLE') AS data FROM STREAM t)",
        "output_mode": "append",
        "steps": [{"add": "t", "messages": [{"key": "a", "value": {"device": "d1", "temp": 21.5}}, {"key": null, "value": "{\"device\":\"d2\",\"temp\":null}"}], "partition": 0}, {"run": {}}],
    })
    .to_string();
    let doc = run(&text);
    assert_eq!(doc["columns"], json!(["k", "device", "temp"]), "{doc}");
    assert_eq!(doc["sink"], json!([["a", "d1", 21.5], [null, "d2", null]]), "{doc}");
}
