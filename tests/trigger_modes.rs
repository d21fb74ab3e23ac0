//! Continuous processing (`{"run": {"trigger": {"continuous": "1 second"}}}`) and Real-Time Mode
//! (`{"run": {"trigger": {"realTime": "5 seconds"}}}`), through the scenario runner: the queries
//! each accepts and the errors it gives for the rest, epochs committed on the step clock,
//! at-least-once delivery after an injected failure, and each record's latency.
//!
//! The refusals over rate and file sources were seen in a Spark 4.3.0 run
//! (tests/spark/pin_trigger_modes.py; tests/spark/TRIGGER-MODES.md has every message). Kafka
//! cannot run here (no broker, no spark-sql-kafka jar), so what Spark does with a Kafka source
//! follows its source, cited at each test: `UnsupportedOperationChecker.checkForContinuous`
//! (catalyst) for continuous processing, `RealTimeModeAllowlist` (sql/core,
//! `org.apache.spark.sql.execution.streaming.runtime`) and the `STREAMING_REAL_TIME_MODE`
//! conditions of `error-conditions.json` for Real-Time Mode.

use serde_json::{json, Value as Json};
use unbounded_engine::scenario::run_text;

fn scenario(sources: Json, query: &str, mode: &str, steps: Json) -> String {
    json!({"version": 1, "name": "trigger-modes", "sources": sources, "query": query, "output_mode": mode, "steps": steps}).to_string()
}

fn kafka() -> Json {
    json!({"readings": {"kind": "kafka", "partitions": 1}})
}

fn produce(key: &str, value: &str) -> Json {
    json!({"add": "readings", "messages": [{"key": key, "value": value}], "partition": 0})
}

fn run(text: &str) -> (Json, bool) {
    let out = run_text(text).unwrap();
    (out.document, out.ok)
}

/// The error a refused scenario ends with: (kind, Spark's condition, message).
fn refusal(doc: &Json) -> (String, String, String) {
    let e = &doc["error"];
    (e["kind"].as_str().unwrap().into(), e["spark_condition"].as_str().unwrap_or("").into(), e["message"].as_str().unwrap().into())
}

const PROJECT: &str = "SELECT CAST(key AS STRING) AS device, CAST(value AS STRING) AS v FROM STREAM readings WHERE value IS NOT NULL";

/// Spark's continuous processing accepts a projection and a selection over a source with a
/// continuous reader (Kafka, rate: a rate run of Spark 4.3 wrote rows to the memory sink).
/// Each epoch commits when its interval (one step here) has passed, with what arrived in it;
/// a record that arrives while the query runs is processed as it arrives (latency 0 on the
/// step clock), one that was there before the start waited for it.
#[test]
fn continuous_processing_runs_a_projection_in_epochs_with_each_records_latency() {
    let steps = json!([
        produce("d1", "1"),
        {"run": {"trigger": {"continuous": "1 second"}}},
        produce("d2", "2"),
        produce("d3", "3"),
        {"run": {}}
    ]);
    let (doc, ok) = run(&scenario(kafka(), PROJECT, "append", steps));
    assert!(ok, "{doc}");
    let live = &doc["runs"][0];
    assert_eq!((live["step"].as_u64(), &live["trigger"]), (Some(1), &json!({"continuous": "1 second"})));
    let epochs = live["batches"].as_array().unwrap();
    let rows: Vec<&Json> = epochs.iter().map(|b| &b["rows"]).collect();
    assert_eq!(rows, vec![&json!([["d1", "1"]]), &json!([["d2", "2"]]), &json!([["d3", "3"]])]);
    let latency: Vec<(u64, f64)> = epochs
        .iter()
        .flat_map(|b| b["record_latency"].as_array().unwrap().iter())
        .map(|l| (l["firstOffset"].as_u64().unwrap(), l["latencyMs"].as_f64().unwrap()))
        .collect();
    assert_eq!(latency, vec![(0, 1000.0), (1, 0.0), (2, 0.0)], "d1 waited for the start; d2, d3 arrived while it ran");
    // The `run {}` that stopped it finds nothing new.
    assert_eq!(doc["runs"][1]["batches"], json!([]));
    assert_eq!(doc["sink"], json!([["d1", "1"], ["d2", "2"], ["d3", "3"]]));
}

/// At-least-once (Spark's programming guide: continuous processing gives "at-least-once
/// fault-tolerance guarantees"): a crash after the sink has the epoch's rows, before the epoch
/// commits, makes the recovered query process that epoch again, and its rows reach the sink a
/// second time. The replay waited for the restart, and says so.
#[test]
fn a_failure_in_the_middle_of_a_continuous_run_writes_the_epoch_in_flight_again() {
    let steps = json!([
        {"run": {"trigger": {"continuous": "1 second"}}},
        produce("d1", "1"),
        produce("d2", "2"),
        {"fail": "after_sink_write"},
        produce("d3", "3"),
        produce("d4", "4"),
    ]);
    let (doc, ok) = run(&scenario(kafka(), PROJECT, "append", steps));
    assert!(ok, "{doc}");
    let live = &doc["runs"][0];
    assert_eq!(live["failures"], json!([{"batch_id": 2, "point": "after_sink_write"}]));
    let ids: Vec<u64> = live["batches"].as_array().unwrap().iter().map(|b| b["batch_id"].as_u64().unwrap()).collect();
    assert_eq!(ids, vec![0, 1, 2, 3], "the crashed epoch is reported once, as its retry committed it");
    assert_eq!(doc["sink"], json!([["d1", "1"], ["d2", "2"], ["d3", "3"], ["d3", "3"], ["d4", "4"]]), "d3 twice: at-least-once");
    let retry = &live["batches"][2]["record_latency"][0];
    assert_eq!((retry["firstOffset"].as_u64(), retry["latencyMs"].as_f64()), (Some(2), Some(1000.0)));
}

/// A micro-batch query gives the same rows exactly once after the same failure (the
/// transactional sink skips the replayed batch): the difference is the trigger's.
#[test]
fn the_same_failure_under_a_micro_batch_trigger_writes_each_row_once() {
    let steps = json!([produce("d1", "1"), {"run": {}}, {"fail": "after_sink_write"}, produce("d2", "2"), {"run": {}}]);
    let (doc, ok) = run(&scenario(kafka(), PROJECT, "append", steps));
    assert!(ok, "{doc}");
    assert_eq!(doc["sink"], json!([["d1", "1"], ["d2", "2"]]));
}

/// Spark 4.3 (rate source, memory sink): `Continuous processing does not support <node>
/// operations.;` from `checkForContinuous`, which walks the plan from the leaves up and allows
/// Project and Filter only; a file source is a V1 `StreamingRelation`. Nothing runs.
#[test]
fn continuous_processing_refuses_what_is_not_map_like_with_sparks_message() {
    let files = json!({"readings": {"schema": [["device", "string"], ["ts", "timestamp"]]}});
    for (sources, query, mode, operator) in [
        (kafka(), "SELECT CAST(key AS STRING) AS device, count(*) AS n FROM STREAM readings GROUP BY CAST(key AS STRING)", "update", "Aggregate"),
        (kafka(), "SELECT * FROM STREAM readings DEDUPLICATE BY (key)", "append", "Deduplicate"),
        (kafka(), "SELECT CAST(key AS STRING) AS k FROM STREAM readings UNION ALL SELECT CAST(key AS STRING) AS k FROM STREAM readings", "append", "Union"),
        (files.clone(), "SELECT device FROM STREAM readings", "append", "StreamingRelation"),
        (
            files,
            "SELECT window(ts, '10 seconds') AS w, count(*) AS n FROM STREAM readings WATERMARK ts DELAY OF INTERVAL 5 SECONDS GROUP BY window(ts, '10 seconds')",
            "append",
            "StreamingRelation",
        ),
    ] {
        let steps = json!([{"run": {"trigger": {"continuous": "1 second"}}}]);
        let (doc, ok) = run(&scenario(sources, query, mode, steps));
        assert!(!ok, "{query}");
        let (kind, condition, message) = refusal(&doc);
        assert_eq!((kind.as_str(), condition.as_str()), ("unsupported_operation", "_LEGACY_ERROR_TEMP_3102"), "{query}");
        assert!(message.starts_with(&format!("Continuous processing does not support {operator} operations.;")), "{query}: {message}");
        assert_eq!(doc["runs"], json!([{"step": 0, "batches": []}]), "nothing ran");
    }
    // The rules of every streaming query come first (Spark's checkForContinuous calls
    // checkForStreaming): complete mode without an aggregation is refused when the query starts.
    let (doc, _) = run(&scenario(kafka(), PROJECT, "complete", json!([{"run": {"trigger": {"continuous": "1 second"}}}])));
    assert_eq!(refusal(&doc).1, "STREAMING_OUTPUT_MODE.UNSUPPORTED_OPERATION");
}

const COUNT: &str = "SELECT CAST(key AS STRING) AS device, count(*) AS n FROM STREAM readings GROUP BY CAST(key AS STRING)";

/// Real-Time Mode over Kafka in update mode: aggregations are in `RealTimeModeAllowlist`
/// (StateStoreRestoreExec, StateStoreSaveExec, StatefulStreamlineAggregateExec). A batch lasts
/// the trigger's interval (5 steps here) and commits at its end; each record is processed as it
/// arrives. Kafka cannot run here: this follows Spark's source, not a run.
#[test]
fn real_time_mode_aggregates_kafka_in_update_mode_in_long_running_batches() {
    let steps = json!([
        produce("d1", "1"),
        {"run": {"trigger": {"realTime": "5 seconds"}}},
        produce("d1", "2"),
        produce("d2", "1"),
        produce("d1", "3"),
        produce("d2", "2"),
        produce("d2", "3"),
        produce("d3", "1"),
    ]);
    let (doc, ok) = run(&scenario(kafka(), COUNT, "update", steps));
    assert!(ok, "{doc}");
    let live = &doc["runs"][0];
    assert_eq!(live["trigger"], json!({"realTime": "5 seconds"}));
    let batches = live["batches"].as_array().unwrap();
    assert_eq!(batches.len(), 2, "one batch ended at step 6, the stop at the end closed the second: {live}");
    assert_eq!(batches[0]["rows"], json!([["d1", 3], ["d2", 2]]));
    assert_eq!(batches[1]["rows"], json!([["d2", 3], ["d3", 1]]));
    let waits: Vec<f64> =
        batches.iter().flat_map(|b| b["record_latency"].as_array().unwrap().iter()).map(|l| l["latencyMs"].as_f64().unwrap()).collect();
    assert_eq!(waits, vec![1000.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0]);
    assert_eq!(doc["sink"], json!([["d1", 3], ["d2", 3], ["d3", 1]]));
}

/// Spark 4.3, seen (console sink, so the sink allowlist passes): `[STREAMING_REAL_TIME_MODE.
/// OUTPUT_MODE_NOT_SUPPORTED]` for append and complete, `[INVALID_STREAMING_REAL_TIME_MODE_
/// TRIGGER_INTERVAL]` under 5000 ms, `[STREAMING_REAL_TIME_MODE.INPUT_STREAM_NOT_SUPPORTED]` for
/// the file (`FileStreamSource`) and rate (`RateStreamMicroBatchStream`) sources. Not seen (Kafka
/// is the only source Real-Time Mode reads): stream-stream joins and LIMIT are outside
/// `RealTimeModeAllowlist`'s operators (`OPERATOR_OR_SINK_NOT_IN_ALLOWLIST`), and a session
/// window needs append or complete mode, which the update-only rule refuses first.
#[test]
fn real_time_mode_refuses_with_sparks_conditions() {
    let two = json!({"readings": {"kind": "kafka", "partitions": 1}, "other": {"kind": "kafka", "partitions": 1}});
    let files = json!({"readings": {"schema": [["device", "string"], ["ts", "timestamp"]]}});
    let rate = json!({"readings": {"kind": "rate"}});
    let rtm = |interval: &str| json!([{"run": {"trigger": {"realTime": interval}}}]);
    for (sources, query, mode, interval, kind, condition, says) in [
        (kafka(), PROJECT, "append", "5 seconds", "unsupported_output_mode", "STREAMING_REAL_TIME_MODE.OUTPUT_MODE_NOT_SUPPORTED", "The output mode Append is not supported. To work around this limitation, set the output mode to Update."),
        (kafka(), COUNT, "complete", "5 seconds", "unsupported_output_mode", "STREAMING_REAL_TIME_MODE.OUTPUT_MODE_NOT_SUPPORTED", "The output mode Complete is not supported."),
        (kafka(), PROJECT, "update", "1 second", "unsupported_operation", "INVALID_STREAMING_REAL_TIME_MODE_TRIGGER_INTERVAL", "The real-time trigger interval is set to 1000 ms. This is less than the 5000 ms minimum specified by spark.sql.streaming.realTimeMode.minBatchDuration."),
        (files, "SELECT device FROM STREAM readings", "update", "5 seconds", "unsupported_operation", "STREAMING_REAL_TIME_MODE.INPUT_STREAM_NOT_SUPPORTED", "The input stream org.apache.spark.sql.execution.streaming.runtime.FileStreamSource is not supported in Real-time Mode."),
        (rate, "SELECT value FROM STREAM readings", "update", "5 seconds", "unsupported_operation", "STREAMING_REAL_TIME_MODE.INPUT_STREAM_NOT_SUPPORTED", "RateStreamMicroBatchStream is not supported in Real-time Mode."),
        (two.clone(), "SELECT CAST(a.key AS STRING) AS k FROM STREAM readings a JOIN STREAM other b ON a.key = b.key", "update", "5 seconds", "unsupported_operation", "STREAMING_REAL_TIME_MODE.OPERATOR_OR_SINK_NOT_IN_ALLOWLIST", "StreamingSymmetricHashJoinExec is not in the operator allowlist for Real-Time Mode"),
        (kafka(), "SELECT CAST(key AS STRING) AS k FROM STREAM readings LIMIT 3", "append", "5 seconds", "unsupported_output_mode", "STREAMING_REAL_TIME_MODE.OUTPUT_MODE_NOT_SUPPORTED", "The output mode Append is not supported."),
        (two, "SELECT CAST(key AS STRING) AS k FROM STREAM readings UNION ALL SELECT CAST(key AS STRING) AS k FROM STREAM readings", "update", "5 seconds", "unsupported_operation", "STREAMING_REAL_TIME_MODE.IDENTICAL_SOURCES_IN_UNION_NOT_SUPPORTED", "Sources provided in the query: readings"),
    ] {
        let (doc, ok) = run(&scenario(sources, query, mode, rtm(interval)));
        assert!(!ok, "{query}");
        let (k, c, message) = refusal(&doc);
        assert_eq!((k.as_str(), c.as_str()), (kind, condition), "{query}: {message}");
        assert!(message.contains(says), "{query}: {message}");
        assert_eq!(doc["runs"], json!([{"step": 0, "batches": []}]), "nothing ran");
    }
    // Spark 4.3 refuses a session window in update mode with the rule of every streaming
    // query, as it did here when the query started.
    let session = "SELECT session_window(timestamp, '5 seconds') AS s, count(*) AS n FROM STREAM readings WATERMARK timestamp DELAY OF INTERVAL 5 SECONDS GROUP BY session_window(timestamp, '5 seconds')";
    let (doc, ok) = run(&scenario(kafka(), session, "update", rtm("5 seconds")));
    assert!(!ok);
    assert_eq!(refusal(&doc).1, "STREAMING_OUTPUT_MODE.UNSUPPORTED_OPERATION");
}

/// A restart during a live run stops the query and starts it again under the same trigger: the
/// open epoch commits, and records that arrive while it is down wait for the new start.
#[test]
fn a_restart_keeps_the_live_trigger() {
    let steps = json!([
        {"run": {"trigger": {"continuous": "1 second"}}},
        produce("d1", "1"),
        {"restart": {}},
        produce("d2", "2"),
        produce("d3", "3"),
    ]);
    let (doc, ok) = run(&scenario(kafka(), PROJECT, "append", steps));
    assert!(ok, "{doc}");
    assert_eq!(doc["runs"].as_array().unwrap().len(), 1, "one live run: {doc}");
    assert_eq!(doc["sink"], json!([["d1", "1"], ["d2", "2"], ["d3", "3"]]));
}
