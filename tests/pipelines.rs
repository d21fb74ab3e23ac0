//! Pipelines (FORMAT.md version 2) run through the runner: errors with their place in the whole
//! pipeline text, the graphs Spark refuses, updates, full refreshes, failures and restarts in
//! any flow, several flows into one table, materialized views and the watermark across updates.

use serde_json::{json, Value as Json};
use unbounded_engine::pipeline::scenario::PipelineScenario;
use unbounded_engine::scenario::run_text;

const EVENTS: &str = r#"{"events": {"schema": [["device", "string"], ["temp", "double"], ["ts", "timestamp"]]},
    "more": {"schema": [["device", "string"], ["temp", "double"], ["ts", "timestamp"]]}}"#;
const TABLES: &str = r#"{"sites": {"schema": [["device", "string"], ["site", "string"]], "rows": [["d1", "north"], ["d2", "south"]]}}"#;

fn doc(pipeline: &str, steps: Json) -> String {
    let sources: Json = serde_json::from_str(EVENTS).unwrap();
    let tables: Json = serde_json::from_str(TABLES).unwrap();
    json!({"version": 2, "name": "t", "sources": sources, "tables": tables, "pipeline": pipeline, "steps": steps}).to_string()
}

fn run(pipeline: &str, steps: Json) -> Json {
    run_text(&doc(pipeline, steps)).unwrap_or_else(|e| panic!("refused: {e}")).document
}

fn add(source: &str, rows: Json) -> Json {
    json!({"add": source, "rows": rows})
}

fn update() -> Json {
    json!({"run": {}})
}

/// A dataset's rows after run step `k` (its index among the run steps), sorted as text.
fn rows_after(out: &Json, k: usize, dataset: &str) -> Vec<String> {
    let mut v: Vec<String> = out["runs"][k]["tables"][dataset]
        .as_array()
        .unwrap_or_else(|| panic!("no {dataset} in run {k}: {out}"))
        .iter()
        .map(|r| r.to_string())
        .collect();
    v.sort();
    v
}

fn error_of(pipeline: &str) -> Json {
    let out = run_text(&doc(pipeline, json!([update()]))).unwrap();
    assert!(!out.ok, "accepted: {pipeline}");
    assert!(out.document.get("runs").is_none(), "a refused pipeline runs no flow: {}", out.document);
    out.document["error"].clone()
}

const BRONZE: &str = "CREATE STREAMING TABLE bronze AS SELECT * FROM STREAM events;\n";

#[test]
fn errors_point_into_the_whole_pipeline_text() {
    // A syntax error in the second statement's query, on its first line and on a later one.
    let e = error_of(&format!("{BRONZE}CREATE STREAMING TABLE silver AS SELEC device FROM STREAM bronze;"));
    assert_eq!((e["kind"].as_str(), e["line"].as_u64(), e["column"].as_u64()), (Some("parse"), Some(2), Some(34)), "{e}");
    assert_eq!(e["dataset"], "silver");
    let e = error_of(&format!("{BRONZE}-- silver\nCREATE STREAMING TABLE silver AS\n  SELECT device, pressure\n  FROM STREAM bronze;"));
    assert_eq!((e["kind"].as_str(), e["line"].as_u64(), e["column"].as_u64()), (Some("unknown_column"), Some(4), Some(18)), "{e}");
    // A statement head Spark cannot read.
    let e = error_of(&format!("{BRONZE}\nCREATE STREAMIN TABLE silver AS SELECT 1"));
    assert_eq!((e["kind"].as_str(), e["line"].as_u64(), e["column"].as_u64()), (Some("parse"), Some(3), Some(8)), "{e}");
    // An unknown table, where it is named.
    let e = error_of("CREATE STREAMING TABLE a AS\nSELECT * FROM STREAM nosuch");
    assert_eq!((e["kind"].as_str(), e["line"].as_u64(), e["column"].as_u64()), (Some("unknown_table"), Some(2), Some(22)), "{e}");
    assert!(e["message"].as_str().unwrap().contains("The pipeline's datasets, sources and tables: a, events, more, sites"), "{e}");
    // An error in a flow that reads a view points into the flow as written, not into the
    // text with the view inlined.
    let e = error_of("CREATE TEMPORARY VIEW hot AS SELECT * FROM STREAM events WHERE temp > 10;\nCREATE STREAMING TABLE s AS\n  SELECT device, pressure FROM STREAM hot;");
    assert_eq!((e["kind"].as_str(), e["line"].as_u64(), e["column"].as_u64()), (Some("unknown_column"), Some(3), Some(18)), "{e}");
    let e = error_of("CREATE TEMPORARY VIEW hot AS SELECT * FROM STREAM events;\nCREATE STREAMING TABLE s AS SELECT device, count(*) AS n\nFROM STREAM hot GROUP BY device;");
    assert_eq!((e["kind"].as_str(), e["dataset"].as_str()), (Some("missing_watermark"), Some("s")), "{e}");
    // A watermark the view declares counts in the flow that aggregates over it.
    let ok = run(
        "CREATE TEMPORARY VIEW marked AS SELECT * FROM STREAM events WATERMARK ts DELAY OF INTERVAL 5 SECONDS;\nCREATE STREAMING TABLE per_window AS SELECT window(ts, '10 seconds') AS w, count(*) AS n FROM STREAM marked GROUP BY window(ts, '10 seconds');",
        json!([add("events", json!([["d1", 1.0, "2026-01-01 00:00:01"], ["d1", 1.0, "2026-01-01 00:00:30"]])), update()]),
    );
    assert_eq!(ok.get("error"), None, "{ok}");
    assert_eq!(rows_after(&ok, 0, "per_window").len(), 1, "{ok}");
    // And an error in the view points into the view.
    let e = error_of(
        "CREATE TEMPORARY VIEW hot AS\n SELECT * FROM STREAM events WHERE tmp > 10;\nCREATE STREAMING TABLE s AS SELECT * FROM STREAM hot;",
    );
    assert_eq!((e["kind"].as_str(), e["line"].as_u64(), e["column"].as_u64()), (Some("unknown_column"), Some(2), Some(36)), "{e}");
    // A semicolon inside a string does not end the statement.
    let out = run(
        &format!("{BRONZE}CREATE STREAMING TABLE s AS SELECT device, ';' AS sep FROM STREAM bronze"),
        json!([add("events", json!([["d1", 1.0, "2026-01-01 00:00:01"]])), update()]),
    );
    assert_eq!(rows_after(&out, 0, "s"), vec![r#"["d1",";"]"#]);
}

#[test]
fn every_graph_spark_refuses_is_refused_before_any_flow_runs() {
    let cases: &[(&str, &str, &str, Option<&str>)] = &[
        (
            "CREATE STREAMING TABLE a AS SELECT * FROM STREAM b;\nCREATE STREAMING TABLE b AS SELECT * FROM STREAM a",
            "pipeline",
            "Circular dependencies are not supported in a pipeline",
            Some("b"),
        ),
        (
            "CREATE STREAMING TABLE a AS SELECT * FROM STREAM events; CREATE MATERIALIZED VIEW a AS SELECT * FROM sites",
            "pipeline",
            "[PIPELINE_DUPLICATE_IDENTIFIERS.OUTPUT]",
            Some("a"),
        ),
        (
            "CREATE MATERIALIZED VIEW m AS SELECT * FROM STREAM events",
            "pipeline",
            "[INVALID_FLOW_QUERY_TYPE.STREAMING_RELATION_FOR_MATERIALIZED_VIEW]",
            Some("m"),
        ),
        (
            "CREATE STREAMING TABLE s AS SELECT * FROM events",
            "pipeline",
            "[INVALID_FLOW_QUERY_TYPE.BATCH_RELATION_FOR_STREAMING_TABLE]",
            Some("s"),
        ),
        (
            "CREATE MATERIALIZED VIEW m AS SELECT * FROM sites; CREATE FLOW f AS INSERT INTO m BY NAME SELECT * FROM sites",
            "pipeline",
            "[MATERIALIZED_VIEW_WITH_MULTIPLE_QUERIES]",
            Some("m"),
        ),
        (
            "CREATE MATERIALIZED VIEW m AS SELECT * FROM sites; CREATE FLOW f AS INSERT INTO nowhere BY NAME SELECT * FROM STREAM events",
            "pipeline",
            "Unsupported destination nowhere in flow: f",
            Some("f"),
        ),
        (
            "CREATE STREAMING TABLE s; CREATE MATERIALIZED VIEW m AS SELECT * FROM sites",
            "pipeline",
            "[PIPELINE_DATASET_WITHOUT_FLOW]",
            Some("s"),
        ),
        ("CREATE TEMPORARY VIEW v AS SELECT * FROM sites", "pipeline", "[RUN_EMPTY_PIPELINE]", None),
        (
            "CREATE TEMPORARY VIEW v AS SELECT * FROM sites; CREATE STREAMING TABLE s AS SELECT * FROM STREAM v",
            "pipeline",
            "[INCOMPATIBLE_BATCH_VIEW_READ]",
            Some("s"),
        ),
        (
            "CREATE TEMPORARY VIEW v AS SELECT * FROM STREAM events; CREATE MATERIALIZED VIEW m AS SELECT * FROM v",
            "pipeline",
            "[INCOMPATIBLE_STREAMING_VIEW_READ]",
            Some("m"),
        ),
        (
            "CREATE STREAMING TABLE s (device STRING, temp INT) AS SELECT device, temp FROM STREAM events",
            "pipeline",
            "[USER_SPECIFIED_AND_INFERRED_SCHEMA_NOT_COMPATIBLE]",
            Some("s"),
        ),
        (
            "CREATE STREAMING TABLE s;\nCREATE FLOW f AS INSERT INTO s SELECT * FROM STREAM events",
            "parse",
            "Only INSERT INTO by name flows supported",
            None,
        ),
        (
            "CREATE STREAMING TABLE s AS SELECT device, count(*) AS n FROM STREAM events GROUP BY device",
            "missing_watermark",
            "[STREAMING_OUTPUT_MODE.UNSUPPORTED_OPERATION]",
            Some("s"),
        ),
        (
            "CREATE STREAMING TABLE s AS SELECT * FROM STREAM events ORDER BY ts",
            "unsupported_output_mode",
            "Sorting is not supported",
            Some("s"),
        ),
    ];
    for (pipeline, kind, message, dataset) in cases {
        let e = error_of(pipeline);
        assert_eq!(e["kind"], *kind, "{pipeline}: {e}");
        assert!(e["message"].as_str().unwrap().contains(message), "{pipeline}: {e}");
        assert_eq!(e.get("dataset").and_then(Json::as_str), *dataset, "{pipeline}: {e}");
        assert!(e["line"].as_u64().is_some(), "{pipeline}: {e}");
    }
    // A refusal downstream keeps the flows upstream from running: nothing was ingested.
    let e = error_of(&format!("{BRONZE}CREATE STREAMING TABLE gold AS SELECT device, count(*) AS n FROM STREAM bronze GROUP BY device"));
    assert_eq!((e["kind"].as_str(), e["dataset"].as_str()), (Some("missing_watermark"), Some("gold")));
}

const MEDALLION: &str = "CREATE STREAMING TABLE bronze AS SELECT * FROM STREAM events;
CREATE STREAMING TABLE silver AS SELECT b.device, s.site, b.temp, b.ts FROM STREAM bronze b JOIN sites s ON b.device = s.device WHERE b.temp IS NOT NULL;
CREATE STREAMING TABLE gold AS SELECT window(ts, '10 seconds') AS w, site, count(*) AS n FROM STREAM silver WATERMARK ts DELAY OF INTERVAL 5 SECONDS GROUP BY window(ts, '10 seconds'), site;
CREATE MATERIALIZED VIEW totals AS SELECT site, count(*) AS n FROM silver GROUP BY site;";

fn medallion_steps() -> Vec<Json> {
    vec![
        add("events", json!([["d1", 1.0, "2026-01-01 00:00:01"], ["d2", null, "2026-01-01 00:00:02"], ["d2", 2.0, "2026-01-01 00:00:04"]])),
        update(),
        add("events", json!([["d1", 3.0, "2026-01-01 00:00:21"]])),
        update(),
        add("events", json!([["d2", 4.0, "2026-01-01 00:00:05"], ["d1", 5.0, "2026-01-01 00:00:41"]])),
        update(),
        update(),
    ]
}

#[test]
fn late_rows_are_dropped_downstream_but_kept_upstream_and_the_watermark_survives_updates() {
    let out = run(MEDALLION, Json::Array(medallion_steps()));
    let w = |s: u32| json!({"start": format!("2026-01-01 00:00:{s:02}"), "end": format!("2026-01-01 00:00:{:02}", s + 10)});
    // Update 1 sets gold's watermark (00:00:04 - 5 s is before any window end): nothing closes.
    assert_eq!(rows_after(&out, 0, "gold"), Vec::<String>::new());
    assert_eq!(rows_after(&out, 0, "silver").len(), 2, "the NULL temperature is filtered: {out}");
    // Update 2 starts with that watermark, moves it to 00:00:16: window [0, 10) closes.
    assert_eq!(rows_after(&out, 1, "gold"), vec![json!([w(0), "north", 1]).to_string(), json!([w(0), "south", 1]).to_string()]);
    // Update 3: the row at 00:00:05 is late for gold (its window closed), yet in bronze and silver.
    assert!(rows_after(&out, 2, "bronze").iter().any(|r| r.contains("00:00:05")));
    assert!(rows_after(&out, 2, "silver").iter().any(|r| r.contains("00:00:05")));
    let gold = rows_after(&out, 2, "gold");
    assert_eq!(gold.len(), 3, "{gold:?}");
    assert!(gold.contains(&json!([w(20), "north", 1]).to_string()), "{gold:?}");
    assert!(!gold.iter().any(|r| r.contains(r#""n":2"#) || r.contains("south\",2")), "{gold:?}");
    // The materialized view counts the late row: it reads silver whole.
    assert_eq!(rows_after(&out, 2, "totals"), vec![r#"["north",3]"#, r#"["south",2]"#]);
    // An update without new input changes nothing and runs no batch.
    assert_eq!(out["runs"][3]["tables"], out["runs"][2]["tables"]);
    assert!(
        out["runs"][3].get("flows").is_none_or(|f| f.as_object().unwrap().values().all(|x| x["batches"].as_array().unwrap().is_empty())),
        "{}",
        out["runs"][3]
    );
}

#[test]
fn a_failure_in_any_flow_at_any_point_or_a_restart_changes_no_table() {
    let clean = run(MEDALLION, Json::Array(medallion_steps()));
    for flow in [None, Some("bronze"), Some("silver"), Some("gold")] {
        for point in ["before_offsets_write", "after_offsets_write", "after_state_write", "after_sink_write"] {
            for at in [1, 3, 5] {
                let mut steps = medallion_steps();
                let mut fail = json!({"fail": point});
                if let Some(f) = flow {
                    fail["flow"] = json!(f);
                }
                steps.insert(at, fail);
                steps.insert(at + 3, json!({"restart": {}}));
                let out = run(MEDALLION, Json::Array(steps));
                assert_eq!(out.get("error"), None, "{flow:?} {point} {at}: {out}");
                let failures: usize = out["runs"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .filter_map(|r| r.get("flows"))
                    .flat_map(|f| f.as_object().unwrap().values().map(|x| x.get("failures").and_then(Json::as_array).map_or(0, Vec::len)))
                    .sum();
                assert_eq!(failures, 1, "{flow:?} {point} {at}: the crash happened once: {out}");
                assert_eq!(out["tables"], clean["tables"], "{flow:?} {point} {at}");
            }
        }
    }
}

#[test]
fn a_full_refresh_rebuilds_only_the_named_datasets_and_downstream_reads_them_again() {
    let pipeline = "CREATE STREAMING TABLE bronze AS SELECT * FROM STREAM events;\nCREATE STREAMING TABLE silver AS SELECT device, temp FROM STREAM bronze;\nCREATE MATERIALIZED VIEW m AS SELECT count(*) AS n FROM bronze;";
    let out = run(
        pipeline,
        json!([
            add("events", json!([["d1", 1.0, "2026-01-01 00:00:01"]])),
            update(),
            add("events", json!([["d2", 2.0, "2026-01-01 00:00:02"]])),
            {"run": {"full_refresh": ["bronze"]}},
            update(),
            {"run": {"full_refresh": ["nosuch"]}},
            {"run": {"full_refresh_all": true}},
        ]),
    );
    // Only bronze ran: rebuilt from the whole source; silver and m were excluded.
    assert_eq!(rows_after(&out, 1, "bronze").len(), 2);
    assert_eq!(rows_after(&out, 1, "silver"), vec![r#"["d1",1.0]"#]);
    assert_eq!(rows_after(&out, 1, "m"), vec!["[1]"]);
    // Silver was not reset: it reads the rewritten rows again (duplicates, as in Spark).
    assert_eq!(rows_after(&out, 2, "silver"), vec![r#"["d1",1.0]"#, r#"["d1",1.0]"#, r#"["d2",2.0]"#]);
    assert_eq!(rows_after(&out, 2, "m"), vec!["[2]"]);
    // An unknown name refreshes nothing.
    assert_eq!(out["runs"][3]["tables"], out["runs"][2]["tables"]);
    // Everything rebuilt from the sources.
    assert_eq!(rows_after(&out, 4, "silver"), vec![r#"["d1",1.0]"#, r#"["d2",2.0]"#]);
}

#[test]
fn a_full_refresh_starts_the_watermark_afresh() {
    let pipeline = "CREATE STREAMING TABLE gold AS SELECT window(ts, '10 seconds') AS w, count(*) AS n FROM STREAM events WATERMARK ts DELAY OF INTERVAL 0 SECONDS GROUP BY window(ts, '10 seconds');";
    let out = run(
        pipeline,
        json!([
            add("events", json!([["d1", 1.0, "2026-01-01 00:00:21"]])),
            update(),
            add("events", json!([["d1", 1.0, "2026-01-01 00:00:01"], ["d1", 1.0, "2026-01-01 00:00:35"]])),
            update(),
            {"run": {"full_refresh": ["gold"]}},
        ]),
    );
    // Incrementally, the row at 00:00:01 was late; the rebuild counts it.
    let n = |k: usize| rows_after(&out, k, "gold").iter().filter(|r| r.contains("00:00:00")).count();
    assert_eq!((n(1), n(2)), (0, 1), "{out}");
}

#[test]
fn two_flows_into_one_streaming_table_deliver_every_row() {
    let pipeline = "CREATE STREAMING TABLE all_events;
CREATE FLOW from_events AS INSERT INTO all_events BY NAME SELECT device, ts FROM STREAM events;
CREATE FLOW from_more AS INSERT INTO all_events BY NAME SELECT device, temp, ts FROM STREAM more;
CREATE MATERIALIZED VIEW per_device AS SELECT device, count(*) AS n FROM all_events GROUP BY device;";
    let out = run(
        pipeline,
        json!([
            add("events", json!([["d1", 1.0, "2026-01-01 00:00:01"]])),
            add("more", json!([["d2", 2.0, "2026-01-01 00:00:02"]])),
            update(),
            add("events", json!([["d1", 3.0, "2026-01-01 00:00:03"]])),
            update(),
            add("more", json!([["d2", 4.0, "2026-01-01 00:00:04"]])),
            update(),
        ]),
    );
    assert_eq!(out["datasets"]["all_events"]["columns"], json!(["device", "ts", "temp"]));
    assert_eq!(
        rows_after(&out, 2, "all_events"),
        vec![
            r#"["d1","2026-01-01 00:00:01",null]"#,
            r#"["d1","2026-01-01 00:00:03",null]"#,
            r#"["d2","2026-01-01 00:00:02",2.0]"#,
            r#"["d2","2026-01-01 00:00:04",4.0]"#
        ]
    );
    assert_eq!(rows_after(&out, 2, "per_device"), vec![r#"["d1",2]"#, r#"["d2",2]"#]);
}

#[test]
fn a_materialized_view_is_recomputed_and_its_stream_appends_it_whole_each_update() {
    let pipeline = "CREATE STREAMING TABLE bronze AS SELECT * FROM STREAM events;
CREATE MATERIALIZED VIEW per_site AS SELECT s.site, count(*) AS n FROM bronze b JOIN sites s ON b.device = s.device GROUP BY s.site;
CREATE STREAMING TABLE snapshots AS SELECT site, n FROM STREAM per_site;";
    let out = run(
        pipeline,
        json!([
            add("events", json!([["d1", 1.0, "2026-01-01 00:00:01"]])),
            update(),
            add("events", json!([["d1", 1.0, "2026-01-01 00:00:02"], ["d2", 1.0, "2026-01-01 00:00:03"]])),
            update(),
            update(),
        ]),
    );
    assert_eq!(rows_after(&out, 0, "per_site"), vec![r#"["north",1]"#]);
    assert_eq!(rows_after(&out, 1, "per_site"), vec![r#"["north",2]"#, r#"["south",1]"#]);
    assert_eq!(rows_after(&out, 1, "snapshots"), vec![r#"["north",1]"#, r#"["north",2]"#, r#"["south",1]"#]);
    // Nothing new, yet the view is rewritten, and its stream reads it all again.
    assert_eq!(rows_after(&out, 2, "snapshots").len(), 5);
}

#[test]
fn temporary_views_are_inlined_and_not_published() {
    let pipeline = "CREATE TEMPORARY VIEW hot AS SELECT * FROM STREAM events WHERE temp > 10;
CREATE STREAMING TABLE alerts AS SELECT device, temp FROM STREAM hot;
CREATE TEMPORARY VIEW named AS SELECT device, site FROM sites;
CREATE MATERIALIZED VIEW alert_sites AS SELECT a.device, n.site FROM alerts a JOIN named n ON a.device = n.device;";
    let out =
        run(pipeline, json!([add("events", json!([["d1", 11.0, "2026-01-01 00:00:01"], ["d2", 9.0, "2026-01-01 00:00:02"]])), update()]));
    assert_eq!(out["datasets"].as_object().unwrap().keys().collect::<Vec<_>>(), vec!["alerts", "alert_sites"]);
    assert_eq!(rows_after(&out, 0, "alerts"), vec![r#"["d1",11.0]"#]);
    assert_eq!(rows_after(&out, 0, "alert_sites"), vec![r#"["d1","north"]"#]);
}

#[test]
fn expectations_count_drop_and_fail_as_databricks_documents() {
    // https://docs.databricks.com/aws/en/dlt/expectations: without an action a failing row is
    // kept and counted ("warn"); DROP ROW drops it; FAIL UPDATE stops the update.
    let pipeline = "CREATE OR REFRESH STREAMING TABLE checked (CONSTRAINT has_temp EXPECT (temp IS NOT NULL), CONSTRAINT warm EXPECT (temp > 0) ON VIOLATION DROP ROW) AS SELECT * FROM STREAM events;";
    let out = run(
        pipeline,
        json!([
            add(
                "events",
                json!([["d1", 1.0, "2026-01-01 00:00:01"], ["d2", -1.0, "2026-01-01 00:00:02"], ["d3", null, "2026-01-01 00:00:03"]])
            ),
            update()
        ]),
    );
    assert_eq!(
        out["runs"][0]["expectations"],
        json!({"checked": {"has_temp": {"passed": 2, "failed": 1, "action": "warn"}, "warm": {"passed": 1, "failed": 2, "action": "drop"}}})
    );
    assert_eq!(rows_after(&out, 0, "checked").len(), 1);
    let failing = "CREATE OR REFRESH STREAMING TABLE checked (CONSTRAINT warm EXPECT (temp > 0) ON VIOLATION FAIL UPDATE) AS SELECT * FROM STREAM events;";
    let out = run_text(&doc(failing, json!([add("events", json!([["d2", -1.0, "2026-01-01 00:00:02"]])), update()]))).unwrap();
    assert!(!out.ok);
    assert_eq!(out.document["error"]["dataset"], "checked");
    assert!(out.document["error"]["message"].as_str().unwrap().contains("warm"), "{}", out.document);
    // A condition that is not boolean is refused where it is written.
    let e = error_of("CREATE STREAMING TABLE c (CONSTRAINT x EXPECT (temp + 1)) AS SELECT * FROM STREAM events");
    assert_eq!((e["kind"].as_str(), e["line"].as_u64(), e["column"].as_u64()), (Some("type_mismatch"), Some(1), Some(48)), "{e}");
}

#[test]
fn a_pipeline_scenario_survives_export_and_import() {
    let text = doc(
        MEDALLION,
        json!([add("events", json!([["d1", 1.0, "2026-01-01 00:00:01"]])), {"fail": "after_sink_write", "flow": "gold"}, update(), {"run": {"full_refresh": ["gold"]}}, {"run": {"full_refresh_all": true}}, {"restart": {}}]),
    );
    let parsed = PipelineScenario::parse_if_pipeline(&text).unwrap().unwrap();
    let again = PipelineScenario::from_json(&parsed.to_json()).unwrap();
    assert_eq!(again, parsed);
    assert_eq!(parsed.to_json()["steps"][1], json!({"fail": "after_sink_write", "flow": "gold"}));
    // A crash aimed at a flow that runs no micro-batches is refused, naming those that do.
    let e = run_text(&doc(MEDALLION, json!([{"fail": "after_sink_write", "flow": "totals"}]))).err().unwrap();
    assert!(e.message.contains("step 0: there is no streaming flow `totals`; the streaming flows are: bronze, gold, silver"), "{e}");
    // Unknown keys are refused, naming them.
    let bad = text.replace(r#""full_refresh_all":true"#, r#""full_refresh_everything":true"#);
    let e = PipelineScenario::parse_if_pipeline(&bad).unwrap_err();
    assert!(e.message.contains("full_refresh_everything"), "{e}");
    let e = PipelineScenario::parse_if_pipeline(&text.replace(r#""pipeline""#, r#""query""#)).unwrap_err();
    assert!(e.message.contains("query") || e.message.contains("pipeline"), "{e}");
}

#[test]
fn losing_one_hops_checkpoint_reads_its_source_again_and_duplicates_downstream() {
    let pipeline =
        "CREATE STREAMING TABLE bronze AS SELECT * FROM STREAM events;\nCREATE STREAMING TABLE silver AS SELECT device FROM STREAM bronze;";
    let text = doc(pipeline, json!([]));
    let scenario = PipelineScenario::parse_if_pipeline(&text).unwrap().unwrap();
    let mut p = unbounded_engine::pipeline::scenario::start(&scenario, unbounded_engine::storage::SharedStorage::memory()).unwrap();
    p.add_json("events", &[json!(["d1", 1.0, "2026-01-01 00:00:01"])]).unwrap();
    p.update(&unbounded_engine::pipeline::run::Refresh::None).unwrap();
    p.lose_checkpoint("bronze").unwrap();
    p.update(&unbounded_engine::pipeline::run::Refresh::None).unwrap();
    let tables: std::collections::HashMap<String, Vec<Json>> = p.tables().into_iter().collect();
    assert_eq!(tables["bronze"].len(), 2, "the source was read again: {tables:?}");
    assert_eq!(tables["silver"].len(), 2, "and silver reads the duplicate: {tables:?}");
    let e = p.lose_checkpoint("nosuch").unwrap_err();
    assert!(e.message.contains("no streaming flow `nosuch`") && e.message.contains("bronze") && e.message.contains("silver"), "{e}");
}

/// A small deterministic generator: the test needs no dependency and replays the same cases.
struct Lcg(u64);

impl Lcg {
    fn below(&mut self, n: u64) -> u64 {
        self.0 = self.0.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
        (self.0 >> 33) % n
    }
}

#[test]
fn random_pipelines_with_random_crashes_in_random_flows_end_with_the_tables_of_the_run_without_them() {
    let hops = [
        "SELECT device, temp, ts FROM STREAM {up} WHERE temp IS NOT NULL",
        "SELECT device, temp + 1 AS temp, ts FROM STREAM {up}",
        "SELECT DISTINCT device, temp, ts FROM STREAM {up} WATERMARK ts DELAY OF INTERVAL 3 SECONDS",
        "SELECT u.device, u.temp, u.ts FROM STREAM {up} u JOIN sites s ON u.device = s.device",
    ];
    let points = ["before_offsets_write", "after_offsets_write", "after_state_write", "after_sink_write"];
    let mut rng = Lcg(7);
    let mut crashes = 0;
    for case in 0..40 {
        let depth = 1 + rng.below(4) as usize;
        let mut pipeline = String::from("CREATE STREAMING TABLE h0 AS SELECT * FROM STREAM events;\n");
        for k in 1..depth {
            let hop = hops[rng.below(hops.len() as u64) as usize].replace("{up}", &format!("h{}", k - 1));
            pipeline.push_str(&format!("CREATE STREAMING TABLE h{k} AS {hop};\n"));
        }
        pipeline.push_str(&format!(
            "CREATE STREAMING TABLE agg AS SELECT window(ts, '10 seconds') AS w, count(*) AS n FROM STREAM h{} WATERMARK ts DELAY OF INTERVAL 5 SECONDS GROUP BY window(ts, '10 seconds');\nCREATE MATERIALIZED VIEW total AS SELECT count(*) AS n FROM h{};",
            depth - 1,
            depth - 1
        ));
        let mut clean = Vec::new();
        let mut crashed = Vec::new();
        let mut second = 0;
        for _ in 0..(2 + rng.below(5)) {
            let rows: Vec<Json> = (0..1 + rng.below(4))
                .map(|_| {
                    second += rng.below(9);
                    let temp = if rng.below(5) == 0 { Json::Null } else { json!(rng.below(30) as f64) };
                    let device = ["d1", "d2"][rng.below(2) as usize];
                    json!([device, temp, format!("2026-01-01 00:{:02}:{:02}", second / 60, second % 60)])
                })
                .collect();
            clean.push(add("events", json!(rows)));
            crashed.push(add("events", json!(rows)));
            if rng.below(2) == 0 {
                let mut fail = json!({"fail": points[rng.below(4) as usize]});
                let target = rng.below(depth as u64 + 2);
                if target < depth as u64 {
                    fail["flow"] = json!(format!("h{target}"));
                } else if target == depth as u64 {
                    fail["flow"] = json!("agg");
                }
                crashed.push(fail);
            }
            if rng.below(4) == 0 {
                crashed.push(json!({"restart": {}}));
            }
            clean.push(update());
            crashed.push(update());
        }
        let a = run(&pipeline, Json::Array(clean));
        let b = run(&pipeline, Json::Array(crashed));
        assert_eq!(a.get("error"), None, "case {case}: {pipeline}\n{a}");
        assert_eq!(b.get("error"), None, "case {case}: {pipeline}\n{b}");
        for (ra, rb) in a["runs"].as_array().unwrap().iter().zip(b["runs"].as_array().unwrap()) {
            assert_eq!(ra["tables"], rb["tables"], "case {case}: {pipeline}");
        }
        assert_eq!(a["tables"], b["tables"], "case {case}: {pipeline}");
        crashes += b["runs"]
            .as_array()
            .unwrap()
            .iter()
            .filter_map(|r| r.get("flows").and_then(Json::as_object))
            .flat_map(|f| f.values().map(|x| x.get("failures").and_then(Json::as_array).map_or(0, Vec::len)))
            .sum::<usize>();
    }
    assert!(crashes >= 20, "only {crashes} crashes were injected and recovered from");
}
