//! Spark's `rate` source driven by the scenario's processing time (step i is i seconds after
//! 2026-01-01 00:00:00). The rows follow RateStreamMicroBatchStream and RateStreamProvider's
//! arithmetic (valueAtSecond with its ramp-up, values spread over partitions, timestamps spaced
//! evenly over a batch's seconds), cited at each test: a Spark run's rows depend on its wall clock,
//! so none is compared here.

use serde_json::{json, Value as Json};
use unbounded_engine::conformance::compare;
use unbounded_engine::scenario::run_text;
use unbounded_tests::{scenario_root, scenarios};

fn run(options: Json, steps: Json) -> Json {
    let text = json!({"version": 1, "name": "rate", "sources": {"ticks": {"kind": "rate", "options": options}}, "query": "SELECT value, timestamp FROM STREAM ticks", "output_mode": "append", "steps": steps}).to_string();
    run_text(&text).unwrap().document
}

fn values(doc: &Json) -> Vec<Vec<i64>> {
    doc["runs"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|r| r["batches"].as_array().unwrap().iter())
        .map(|b| b["rows"].as_array().unwrap().iter().map(|r| r[0].as_i64().unwrap()).collect())
        .collect()
}

#[test]
fn the_scenarios_match_their_expected_output() {
    let all = scenarios(&scenario_root().join("sources").join("rate"));
    assert!(!all.is_empty());
    for (path, expected) in all {
        let expected: Json = serde_json::from_str(&std::fs::read_to_string(&expected).unwrap()).unwrap();
        let out = run_text(&std::fs::read_to_string(&path).unwrap()).unwrap();
        let diffs = compare(&expected, &out.document);
        assert!(diffs.is_empty(), "{}: {}", path.display(), diffs.join("\n"));
    }
}

/// valueAtSecond's own table (rampUpTime 4, rowsPerSecond 10: 0 2 6 12 20 30 40 rows after
/// seconds 0..6), and timestamps `start + round((value - rangeStart) * msPerValue)`.
#[test]
fn the_ramp_up_speeds_up_as_spark_computes_it() {
    let doc = run(
        json!({"rowsPerSecond": 10, "rampUpTime": "4s"}),
        json!([{"restart": {}}, {"run": {}}, {"restart": {}}, {"restart": {}}, {"run": {}}, {"restart": {}}, {"run": {}}]),
    );
    let v = values(&doc);
    assert_eq!(v.iter().map(Vec::len).collect::<Vec<_>>(), vec![2, 18, 20], "{doc}");
    assert_eq!(v.concat(), (0..40).collect::<Vec<_>>());
    // Batch 1 covers seconds 1..4: 18 values over 3000 ms, 166.67 ms apart, from 00:00:01.
    let b1 = &doc["runs"][1]["batches"][0]["rows"];
    assert_eq!(b1[0][1], "2026-01-01 00:00:01");
    assert_eq!(b1[1][1], "2026-01-01 00:00:01.167");
    assert_eq!(b1[17][1], "2026-01-01 00:00:03.833");
}

/// numPartitions: partition p reads rangeStart + p, + 2p, ...; the batch lists partition 0's rows
/// first. A processing-time run of several triggers reads one batch (nothing arrives meanwhile).
#[test]
fn partitions_interleave_values_and_triggers_read_the_clock() {
    let doc = run(json!({"rowsPerSecond": 3, "numPartitions": 2}), json!([{"restart": {}}, {"restart": {}}, {"run": {"batches": 3}}]));
    assert_eq!(values(&doc), vec![vec![0, 2, 4, 1, 3, 5]], "{doc}");
    let text = json!({"version": 1, "name": "rate", "sources": {"ticks": {"kind": "rate", "options": {"rowsPerSecnd": 3}}}, "query": "SELECT * FROM STREAM ticks", "steps": []}).to_string();
    let e = run_text(&text).err().expect("an unknown option is refused");
    assert!(e.message.contains("unknown option `rowsPerSecnd`"), "{e}");
}

/// Exactly-once as a property: whatever the crashes and restarts between runs, the sink holds
/// each value the clock has made available by the last run (valueAtSecond of its step) once.
#[test]
fn random_crashes_and_restarts_read_every_value_once() {
    let points = ["before_offsets_write", "after_offsets_write", "after_state_write", "after_sink_write"];
    let mut state = 7u64;
    let mut below = |n: u64| {
        state = state.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
        (state >> 33) % n
    };
    for seed in 0..100 {
        let rps = 1 + below(4) as i64;
        let ramp = below(3) as i64;
        let rps = rps.max(ramp + 1);
        let mut steps = Vec::new();
        let mut last_run = 0;
        for _ in 0..(2 + below(8)) {
            match below(4) {
                0 => steps.push(json!({"fail": points[below(4) as usize]})),
                1 => steps.push(json!({"restart": {}})),
                _ => {
                    last_run = steps.len();
                    steps.push(if below(2) == 0 { json!({"run": {}}) } else { json!({"run": {"trigger": "availableNow"}}) });
                }
            }
        }
        let doc = run(json!({"rowsPerSecond": rps, "rampUpTime": ramp, "numPartitions": 1 + below(3)}), Json::Array(steps.clone()));
        assert_eq!(doc["error"], Json::Null, "seed {seed}: {doc}");
        let mut got: Vec<i64> = doc["sink"].as_array().unwrap().iter().map(|r| r[0].as_i64().unwrap()).collect();
        got.sort();
        let s = last_run as i64;
        // valueAtSecond (RateStreamProvider), for the seconds the last run could read.
        let delta = rps / (ramp + 1);
        let at = |t: i64| if t <= ramp { delta * t * (t + 1) / 2 } else { delta * ramp * (ramp + 1) / 2 + (t - ramp) * rps };
        let expected: Vec<i64> = if steps.iter().any(|st| st.get("run").is_some()) { (0..at(s)).collect() } else { vec![] };
        assert_eq!(got, expected, "seed {seed}: {steps:?}");
    }
}
