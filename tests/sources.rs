//! The file source's read limits and the triggers, batch by batch: FORMAT.md's conformance
//! compares each `run` step's rows as one multiset, but where the micro-batches a rate limit
//! cuts are deterministic (every scenario of tests/scenarios/sources/), the batch ids and each
//! batch's rows must be Spark's too.

use serde_json::{json, Value as Json};
use unbounded_engine::conformance::compare;
use unbounded_engine::runtime::QueryOptions;
use unbounded_engine::scenario::{run_text, run_with, Scenario};
use unbounded_engine::storage::{SharedStorage, Storage};
use unbounded_tests::{scenario_root, scenarios};

/// The document with one run per micro-batch, named by its step and batch id, so `compare`
/// checks the batch boundaries and ids as well as the rows.
fn batch_by_batch(doc: &Json) -> Json {
    let mut d = doc.clone();
    let runs: Vec<Json> = doc["runs"]
        .as_array()
        .into_iter()
        .flatten()
        .flat_map(|r| {
            let step = r["step"].clone();
            let batches = r["batches"].as_array().cloned().unwrap_or_default();
            let empty = batches.is_empty().then(|| json!({"step": format!("{step}: no batch"), "batches": []}));
            batches
                .into_iter()
                .map(move |b| json!({"step": format!("{step}: batch {}", b["batch_id"]), "batches": [b]}))
                .chain(empty)
                .collect::<Vec<_>>()
        })
        .collect();
    d["runs"] = Json::Array(runs);
    d
}

#[test]
fn rate_limited_batches_are_sparks_batch_by_batch() {
    // auto-loader/, kafka/ and rate/ hold Databricks', Kafka's and Spark's rate-source semantics,
    // which this machine's Spark cannot run: tests/auto_loader.rs, tests/kafka.rs and
    // tests/rate.rs check them, and the conformance suite their expected files.
    let own = |p: &std::path::Path| p.components().any(|c| ["auto-loader", "kafka", "rate"].iter().any(|d| c.as_os_str() == *d));
    let all: Vec<_> = scenarios(&scenario_root().join("sources")).into_iter().filter(|(p, _)| !own(p)).collect();
    assert!(all.len() >= 16, "found only {} scenarios under sources/", all.len());
    let mut failures = Vec::new();
    for (path, expected_path) in &all {
        let name = path.file_name().unwrap().to_string_lossy().to_string();
        let expected: Json = serde_json::from_str(&std::fs::read_to_string(expected_path).unwrap()).unwrap();
        let out = run_text(&std::fs::read_to_string(path).unwrap()).unwrap();
        let diffs = compare(&batch_by_batch(&expected), &batch_by_batch(&out.document));
        if !diffs.is_empty() {
            failures.push(format!("{name}:\n  {}", diffs.join("\n  ")));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

fn run_file(name: &str, storage: &SharedStorage) -> Json {
    let text = std::fs::read_to_string(scenario_root().join("sources").join(name)).unwrap();
    let s = Scenario::parse(&text).unwrap();
    run_with(&s, QueryOptions { storage: storage.clone(), ..QueryOptions::default() }).unwrap().document
}

#[test]
fn a_batch_read_newest_first_is_listed_in_the_file_log() {
    let storage = SharedStorage::memory();
    let doc = run_file("latest-first-limit.json", &storage);
    assert!(doc.get("error").is_none(), "{doc}");
    // Four files, one a batch, newest first: batch 0 reads the fourth `add`, batch 3 the first.
    let files: Vec<Vec<u64>> = (0..4)
        .map(|id| {
            let bytes = storage.scoped("checkpoint").read(&format!("sources/readings/{id}")).unwrap().unwrap();
            let body = unbounded_engine::checkpoint::unframe("log", &bytes).unwrap();
            let entry: Json = serde_json::from_slice(body).unwrap();
            entry["files"].as_array().unwrap().iter().map(|f| f["file"].as_u64().unwrap()).collect()
        })
        .collect();
    assert_eq!(files, vec![vec![3], vec![2], vec![1], vec![0]]);
}

#[test]
fn bad_records_of_a_rate_limited_batch_go_to_its_dead_letters() {
    let doc = run_file("rate-limit-bad-records.json", &SharedStorage::memory());
    let batches = doc["runs"][0]["batches"].as_array().unwrap();
    // The second file (batch 1) holds the bad row; the others hold none.
    let bad: Vec<u64> = batches.iter().map(|b| b["bad_records"].as_u64().unwrap_or(0)).collect();
    assert_eq!(bad, vec![0, 1, 0, 0]);
    assert_eq!(doc["dead_letter"].as_array().unwrap().len(), 1);
    assert_eq!(doc["dead_letter"][0]["batch_id"], 1);
    assert!(doc["dead_letter"][0]["reason"].as_str().unwrap().contains("`temp`"), "{doc}");
}
