//! Auto Loader (Databricks `cloudFiles`): schema inference and its schema location, the schema
//! evolution modes, the rescued data column, the read limits and recovery. No Databricks runtime
//! runs here, so each expectation follows Databricks' documentation, cited at the test:
//! https://docs.databricks.com/en/ingestion/cloud-object-storage/auto-loader/schema.html (schema)
//! https://docs.databricks.com/en/ingestion/cloud-object-storage/auto-loader/options.html (options)

use serde_json::{json, Value as Json};
use unbounded_engine::conformance::compare;
use unbounded_engine::runtime::QueryOptions;
use unbounded_engine::scenario::{run_text, run_with, Scenario};
use unbounded_engine::storage::{SharedStorage, Storage};
use unbounded_tests::{scenario_root, scenarios};

fn scenario(source: Json, query: &str, steps: Json) -> String {
    json!({"version": 1, "name": "al", "sources": {"landing": source}, "query": query, "output_mode": "append", "steps": steps}).to_string()
}

fn land(file: &str, text: &str) -> Json {
    json!({"add": "landing", "file": file, "text": text})
}

fn run(text: &str) -> Json {
    run_text(text).unwrap().document
}

/// Each run step's rows, batch by batch.
fn batches(doc: &Json) -> Vec<Vec<Json>> {
    doc["runs"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|r| r["batches"].as_array().unwrap().iter())
        .map(|b| b["rows"].as_array().unwrap().clone())
        .collect()
}

#[test]
fn the_scenarios_match_their_expected_output() {
    let all = scenarios(&scenario_root().join("sources").join("auto-loader"));
    assert!(all.len() >= 2);
    for (path, expected) in all {
        let expected: Json = serde_json::from_str(&std::fs::read_to_string(&expected).unwrap()).unwrap();
        let out = run_text(&std::fs::read_to_string(&path).unwrap()).unwrap();
        let diffs = compare(&expected, &out.document);
        assert!(diffs.is_empty(), "{}: {}", path.display(), diffs.join("\n"));
    }
}

/// "Auto Loader stores the schema information in a directory _schemas at the configured
/// cloudFiles.schemaLocation"; addNewColumns: "Stream fails. New columns are added to the
/// schema" and "restart the stream to read on"; new columns go to the end of the schema.
#[test]
fn add_new_columns_records_the_schema_and_a_new_process_reads_on_with_it() {
    let text = std::fs::read_to_string(scenario_root().join("sources/auto-loader/add-new-columns.json")).unwrap();
    let s = Scenario::parse(&text).unwrap();
    let storage = SharedStorage::memory();
    let doc = run_with(&s, QueryOptions { storage: storage.clone(), ..QueryOptions::default() }).unwrap().document;
    assert_eq!(doc["runs"][1]["error"]["spark_condition"], "UNKNOWN_FIELD_EXCEPTION.NEW_FIELDS_IN_RECORD_WITH_FILE_PATH", "{doc}");
    let store = storage.scoped("");
    assert_eq!(store.list("schemas/landing/_schemas").unwrap(), vec!["0", "1"]);
    let v1 = String::from_utf8(store.read("schemas/landing/_schemas/1").unwrap().unwrap()).unwrap();
    let (id, city, rescued) = (v1.find("\"id\"").unwrap(), v1.find("\"city\"").unwrap(), v1.find("_rescued_data").unwrap());
    assert!(id < city && city < rescued, "city added before the rescued column: {v1}");
    // The batch's files are in the checkpoint's file log.
    let log = String::from_utf8(store.read("checkpoint/sources/landing/1").unwrap().unwrap()).unwrap();
    assert!(log.contains("landing/b.json"), "{log}");
    // Replayed in a new process over the same storage: the schema location's newest schema is
    // read at the start, nothing is read twice and the sink is unchanged.
    let again = run_with(&s, QueryOptions { storage: storage.clone(), ..QueryOptions::default() }).unwrap().document;
    assert_eq!(again["error"], Json::Null, "{again}");
    assert_eq!(again["sink"], doc["sink"]);
    assert!(batches(&again).iter().all(|b| b.is_empty()));
}

/// failOnNewColumns: "Stream fails. Stream does not restart unless the provided schema is
/// updated, or the offending data file is removed."
#[test]
fn fail_on_new_columns_stops_and_keeps_the_schema() {
    let text = scenario(
        json!({"kind": "auto_loader", "format": "json", "options": {"cloudFiles.schemaEvolutionMode": "failOnNewColumns"}}),
        "SELECT * FROM STREAM landing",
        json!([land("a.json", "{\"id\": \"1\"}"), {"run": {}}, land("b.json", "{\"id\": \"2\", \"x\": 1}"), {"run": {}}, {"run": {}}]),
    );
    let doc = run(&text);
    assert_eq!(doc["error"]["spark_condition"], "UNKNOWN_FIELD_EXCEPTION.NEW_FIELDS_IN_RECORD_WITH_FILE_PATH", "{doc}");
    assert!(doc["error"]["message"].as_str().unwrap().contains("failOnNewColumns"));
    assert_eq!(doc["sink"], json!([["1", null]]));
    assert_eq!(doc["runs"].as_array().unwrap().len(), 2, "the stream does not go on");
}

/// none: "Does not evolve the schema, new columns are ignored, and data is not rescued unless
/// the rescuedDataColumn option is set."
#[test]
fn none_ignores_new_columns_unless_a_rescued_column_is_named() {
    let steps = json!([land("a.json", "{\"id\": \"1\"}"), {"run": {}}, land("b.json", "{\"id\": \"2\", \"x\": 5}"), {"run": {}}]);
    let doc = run(&scenario(
        json!({"kind": "auto_loader", "format": "json", "options": {"cloudFiles.schemaEvolutionMode": "none"}}),
        "SELECT * FROM STREAM landing",
        steps.clone(),
    ));
    assert_eq!(doc["columns"], json!(["id"]), "{doc}");
    assert_eq!(doc["sink"], json!([["1"], ["2"]]));
    let doc = run(&scenario(
        json!({"kind": "auto_loader", "format": "json", "options": {"cloudFiles.schemaEvolutionMode": "none", "rescuedDataColumn": "_extra"}}),
        "SELECT * FROM STREAM landing",
        steps,
    ));
    assert_eq!(doc["sink"], json!([["1", null], ["2", "{\"x\":5,\"_file_path\":\"landing/b.json\"}"]]), "{doc}");
}

/// CSV: header names, strings by default; with cloudFiles.inferColumnTypes the types Spark's CSV
/// inference gives (integer, double, boolean, else string) and values that do not fit rescued.
#[test]
fn csv_files_are_inferred_and_rescued_like_json() {
    let source = json!({"kind": "auto_loader", "format": "csv", "options": {"header": true, "cloudFiles.inferColumnTypes": true}});
    let doc = run(&scenario(
        source,
        "SELECT id, ok, temp, _rescued_data FROM STREAM landing",
        json!([land("a.csv", "id,ok,temp\n1,true,1.5\n2,false,2\n"), {"run": {}}, land("b.csv", "id,ok,temp\nx,true,3\n"), {"run": {}}]),
    ));
    assert_eq!(
        doc["sink"],
        json!([[1, true, 1.5, null], [2, false, 2.0, null], [null, true, 3.0, "{\"id\":\"x\",\"_file_path\":\"landing/b.csv\"}"]]),
        "{doc}"
    );
}

/// cloudFiles.maxFilesPerTrigger / maxBytesPerTrigger ("If used together, Auto Loader consumes
/// up to the lower limit"), availableNow honouring them, and the empty folder's error.
#[test]
fn read_limits_cut_batches_and_an_empty_folder_cannot_be_inferred() {
    let files: Vec<Json> = (0..5).map(|k| land(&format!("{k}.json"), &format!("{{\"n\": \"{k}\"}}\n"))).collect();
    let mut steps = files.clone();
    steps.push(json!({"run": {"trigger": "availableNow"}}));
    let doc = run(&scenario(
        json!({"kind": "auto_loader", "format": "json", "options": {"cloudFiles.maxFilesPerTrigger": 2}}),
        "SELECT n FROM STREAM landing",
        Json::Array(steps.clone()),
    ));
    assert_eq!(batches(&doc).iter().map(Vec::len).collect::<Vec<_>>(), vec![2, 2, 1], "{doc}");
    // Each file is 11 bytes: 25 bytes take two files, and the file limit of 3 is not reached.
    let doc = run(&scenario(
        json!({"kind": "auto_loader", "format": "json", "options": {"cloudFiles.maxFilesPerTrigger": 3, "cloudFiles.maxBytesPerTrigger": 25}}),
        "SELECT n FROM STREAM landing",
        Json::Array(steps),
    ));
    assert_eq!(batches(&doc).iter().map(Vec::len).collect::<Vec<_>>(), vec![2, 2, 1], "{doc}");
    let doc = run(&scenario(json!({"kind": "auto_loader", "format": "json"}), "SELECT * FROM STREAM landing", json!([{"run": {}}])));
    assert_eq!(doc["error"]["spark_condition"], "CF_EMPTY_DIR_FOR_SCHEMA_INFERENCE", "{doc}");
}

/// A crash at any point of a batch and a restart give the output of an uninterrupted run.
#[test]
fn failures_and_restarts_in_the_middle_change_nothing() {
    let source = json!({"kind": "auto_loader", "format": "json", "options": {"cloudFiles.maxFilesPerTrigger": 1, "cloudFiles.inferColumnTypes": true}});
    let query = "SELECT k, count(*) AS n FROM STREAM landing GROUP BY k";
    let files: Vec<Json> = (0..4)
        .map(|i| land(&format!("{i}.json"), &format!("{{\"k\": \"k{}\", \"v\": {i}}}\n{{\"k\": \"k0\", \"v\": 9}}", i % 2)))
        .collect();
    let plain = {
        let mut steps = files.clone();
        steps.push(json!({"run": {}}));
        run(&json!({"version": 1, "name": "al", "sources": {"landing": source}, "query": query, "output_mode": "complete", "steps": steps})
            .to_string())
    };
    for point in ["before_offsets_write", "after_offsets_write", "after_state_write", "after_sink_write"] {
        let mut steps = files[..2].to_vec();
        steps.extend([json!({"run": {"batches": 1}}), json!({"fail": point}), json!({"restart": {}})]);
        steps.extend(files[2..].iter().cloned());
        steps.push(json!({"run": {}}));
        let doc = run(
            &json!({"version": 1, "name": "al", "sources": {"landing": source}, "query": query, "output_mode": "complete", "steps": steps})
                .to_string(),
        );
        assert_eq!(doc["error"], Json::Null, "{doc}");
        assert_eq!(doc["sink"], plain["sink"], "{point}");
    }
}

/// Databricks' SQL forms: `read_files('path', format => 'json')` and `cloud_files('path', 'json')`
/// as streaming table functions read the Auto Loader source of that name.
#[test]
fn read_files_and_cloud_files_read_the_folder() {
    for query in
        ["SELECT id FROM STREAM read_files('landing', format => 'json')", "SELECT l.id FROM STREAM cloud_files('landing', 'json') l"]
    {
        let doc = run(&scenario(
            json!({"kind": "auto_loader", "format": "json"}),
            query,
            json!([land("a.json", "{\"id\": \"1\"}\n{\"id\": \"2\"}"), {"run": {}}]),
        ));
        assert_eq!(doc["sink"], json!([["1"], ["2"]]), "{query}: {doc}");
    }
}

/// SplitMix64, so a failing case is replayed from its seed.
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

fn sorted(v: &Json) -> Vec<String> {
    let mut rows: Vec<String> = v.as_array().unwrap().iter().map(Json::to_string).collect();
    rows.sort();
    rows
}

/// Exactly-once as a property: random folders, read limits, triggers, crashes at every point and
/// restarts give the sink of the same scenario without the crashes and restarts.
#[test]
fn random_crashes_and_restarts_change_no_sink() {
    let queries = [
        ("SELECT k, count(*) AS n, sum(v) AS total FROM STREAM landing GROUP BY k", "complete"),
        ("SELECT k, v FROM STREAM landing", "append"),
        ("SELECT k, v, _rescued_data FROM STREAM landing DEDUPLICATE BY (k, v)", "append"),
    ];
    let points = ["before_offsets_write", "after_offsets_write", "after_state_write", "after_sink_write"];
    let triggers = [json!({"run": {}}), json!({"run": {"trigger": "availableNow"}}), json!({"run": {"batches": 1}})];
    for seed in 0..150u64 {
        let mut rng = Rng(seed);
        let (query, mode) = queries[rng.below(3) as usize];
        let limit = 1 + rng.below(3);
        let source = json!({"kind": "auto_loader", "format": "json", "options": {"cloudFiles.maxFilesPerTrigger": limit, "cloudFiles.inferColumnTypes": true}});
        let (mut plain, mut faulty) = (Vec::new(), Vec::new());
        for f in 0..(2 + rng.below(6)) {
            let records: Vec<String> = (0..1 + rng.below(3))
                .map(|_| {
                    // Now and then a value that does not fit its bigint column (inferred from
                    // the first file, which has none): rescued.
                    let v = if f > 0 && rng.below(8) == 0 { json!("x") } else { json!(rng.below(5)) };
                    json!({"k": format!("k{}", rng.below(3)), "v": v}).to_string()
                })
                .collect();
            let step = land(&format!("{f}.json"), &records.join("\n"));
            plain.push(step.clone());
            faulty.push(step);
            if f == 0 || rng.below(2) == 0 {
                let t = triggers[rng.below(3) as usize].clone();
                if rng.below(2) == 0 {
                    faulty.push(json!({"fail": points[rng.below(4) as usize]}));
                }
                if rng.below(3) == 0 {
                    faulty.push(json!({"restart": {}}));
                }
                plain.push(t.clone());
                faulty.push(t);
            }
        }
        plain.push(json!({"run": {}}));
        faulty.push(json!({"run": {}}));
        let doc = |steps: Vec<Json>| {
            let text =
                json!({"version": 1, "name": "p", "sources": {"landing": source}, "query": query, "output_mode": mode, "steps": steps})
                    .to_string();
            run(&text)
        };
        let (a, b) = (doc(plain), doc(faulty));
        assert_eq!(a["error"], Json::Null, "seed {seed}: {a}");
        assert_eq!(b["error"], Json::Null, "seed {seed}: {b}");
        assert_eq!(sorted(&a["sink"]), sorted(&b["sink"]), "seed {seed}, {query}");
    }
}
