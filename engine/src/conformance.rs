//! Compares a runner output document with an expected one by FORMAT.md's rules: per `run` step,
//! the rows of all its batches as a multiset; then the final sink; numbers with a relative
//! tolerance of 1e-9; timestamps normalised. Batch metrics (watermark, dropped_late,
//! state_rows) are compared batch by batch, since they are what the playground teaches.

use std::collections::HashMap;

use serde_json::Value as Json;

use crate::time::parse_timestamp;

const TOLERANCE: f64 = 1e-9;

fn close(a: f64, b: f64) -> bool {
    a == b || (a - b).abs() <= TOLERANCE * a.abs().max(b.abs())
}

/// Equality of two values with the tolerance and timestamp normalisation.
fn same(a: &Json, b: &Json) -> bool {
    match (a, b) {
        (Json::Number(x), Json::Number(y)) => match (x.as_f64(), y.as_f64()) {
            (Some(x), Some(y)) => close(x, y),
            _ => x == y,
        },
        (Json::String(x), Json::String(y)) => x == y || matches!((parse_timestamp(x), parse_timestamp(y)), (Some(p), Some(q)) if p == q),
        (Json::Array(x), Json::Array(y)) => x.len() == y.len() && x.iter().zip(y).all(|(p, q)| same(p, q)),
        (Json::Object(x), Json::Object(y)) => x.len() == y.len() && x.iter().all(|(k, v)| y.get(k).is_some_and(|w| same(v, w))),
        _ => a == b,
    }
}

/// A sort key that puts equal rows next to each other.
fn sort_key(v: &Json) -> String {
    match v {
        Json::Number(n) => n.as_f64().map(|f| format!("{f:.6e}")).unwrap_or_else(|| n.to_string()),
        Json::String(s) => parse_timestamp(s).map(|t| format!("ts:{t:020}")).unwrap_or_else(|| format!("s:{s}")),
        Json::Array(items) => format!("[{}]", items.iter().map(sort_key).collect::<Vec<_>>().join(",")),
        Json::Object(m) => format!("{{{}}}", m.iter().map(|(k, v)| format!("{k}={}", sort_key(v))).collect::<Vec<_>>().join(",")),
        other => other.to_string(),
    }
}

/// Rows left unmatched on one side past this many are reported without the pairwise search
/// for near-equal numbers across sort keys, which is quadratic in them.
const PAIRWISE_LIMIT: usize = 2_000;

fn multiset_diff(what: &str, expected: &[Json], actual: &[Json], out: &mut Vec<String>) {
    // Rows that are `same` almost always share a sort key (numbers are keyed to 7 digits), so
    // rows are matched within their key's bucket: linear in the rows, not in their pairs.
    let mut buckets: HashMap<String, Vec<&Json>> = HashMap::new();
    for a in actual {
        buckets.entry(sort_key(a)).or_default().push(a);
    }
    let mut missing: Vec<&Json> = Vec::new();
    for e in expected {
        let found = buckets.get_mut(&sort_key(e)).and_then(|b| b.iter().position(|a| same(e, a)).map(|i| b.swap_remove(i)));
        if found.is_none() {
            missing.push(e);
        }
    }
    let mut extra: Vec<&Json> = buckets.into_values().flatten().collect();
    // A near-equal pair whose numbers round to different keys: matched pairwise while few.
    if missing.len() <= PAIRWISE_LIMIT && extra.len() <= PAIRWISE_LIMIT {
        missing.retain(|e| match extra.iter().position(|a| same(e, a)) {
            Some(i) => {
                extra.swap_remove(i);
                false
            }
            None => true,
        });
    }
    if missing.is_empty() && extra.is_empty() {
        return;
    }
    missing.sort_by_cached_key(|r| sort_key(r));
    extra.sort_by_cached_key(|r| sort_key(r));
    let missing: Vec<String> = missing.iter().map(|x| x.to_string()).collect();
    let extra: Vec<String> = extra.iter().map(|y| y.to_string()).collect();
    out.push(format!("{what}: expected {} rows, got {}; missing {:?}; unexpected {:?}", expected.len(), actual.len(), missing, extra));
}

fn rows_of(run: &Json) -> Vec<Json> {
    run["batches"]
        .as_array()
        .map(|bs| bs.iter().flat_map(|b| b["rows"].as_array().cloned().unwrap_or_default()).collect())
        .unwrap_or_default()
}

/// The part of an error message that must match: before a "Did you mean" list (whose order is
/// Spark's own ranking), before the SQLSTATE, before a plan dump.
fn stable_part(message: &str) -> &str {
    let mut end = message.len();
    for marker in [" Did you mean", " SQLSTATE", ";\n", "\n"] {
        if let Some(i) = message.find(marker) {
            end = end.min(i);
        }
    }
    message[..end].trim_end_matches(['.', ' '])
}

/// Every difference between `expected` and `actual`; empty when they conform.
pub fn compare(expected: &Json, actual: &Json) -> Vec<String> {
    let mut out = Vec::new();
    if let Some(err) = expected.get("error") {
        match actual.get("error") {
            None => out.push(format!("expected the error {err}, but the query ran")),
            Some(got) => {
                if got["kind"] != err["kind"] {
                    out.push(format!("error kind: expected {}, got {}", err["kind"], got["kind"]));
                }
                if let Some(c) = err.get("spark_condition") {
                    if got.get("spark_condition") != Some(c) {
                        out.push(format!("spark_condition: expected {c}, got {:?}", got.get("spark_condition")));
                    }
                }
                // A pipeline's error names the dataset it is about (FORMAT.md, version 2).
                if let Some(d) = err.get("dataset") {
                    if got.get("dataset") != Some(d) {
                        out.push(format!("error dataset: expected {d}, got {:?}", got.get("dataset")));
                    }
                }
                let want = stable_part(err["message"].as_str().unwrap_or_default());
                if !got["message"].as_str().unwrap_or_default().contains(want) {
                    out.push(format!("error message: expected it to contain {want:?}, got {}", got["message"]));
                }
            }
        }
        return out;
    }
    if let Some(err) = actual.get("error") {
        out.push(format!("unexpected error: {err}"));
    }
    if expected.get("datasets").is_some() {
        compare_pipeline(expected, actual, &mut out);
        return out;
    }
    if expected["columns"] != actual["columns"] {
        out.push(format!("columns: expected {}, got {}", expected["columns"], actual["columns"]));
    }
    for (e, a) in paired_runs(expected, actual, &mut out) {
        let step = &e["step"];
        multiset_diff(&format!("rows of run step {step}"), &rows_of(e), &rows_of(a), &mut out);
        let (eb, ab) = (e["batches"].as_array().cloned().unwrap_or_default(), a["batches"].as_array().cloned().unwrap_or_default());
        if eb.len() != ab.len() {
            out.push(format!("run step {step}: expected {} micro-batches, got {}", eb.len(), ab.len()));
            continue;
        }
        for (x, y) in eb.iter().zip(&ab) {
            for key in ["watermark", "dropped_late", "state_rows"] {
                if !same(&x[key], &y[key]) {
                    out.push(format!("run step {step}, batch {}: {key} expected {}, got {}", x["batch_id"], x[key], y[key]));
                }
            }
        }
    }
    let empty = Vec::new();
    multiset_diff("sink", expected["sink"].as_array().unwrap_or(&empty), actual["sink"].as_array().unwrap_or(&empty), &mut out);
    out
}

/// The `runs` entries of both documents that are for the same `run` step, in order; a different
/// number of steps or a step index that differs is a difference.
fn paired_runs<'a>(expected: &'a Json, actual: &'a Json, out: &mut Vec<String>) -> Vec<(&'a Json, &'a Json)> {
    let runs = |doc: &'a Json| doc["runs"].as_array().map_or(&[][..], Vec::as_slice);
    let (er, ar) = (runs(expected), runs(actual));
    if er.len() != ar.len() {
        out.push(format!("expected {} run steps, got {}", er.len(), ar.len()));
    }
    let mut pairs = Vec::new();
    for (e, a) in er.iter().zip(ar) {
        if e["step"] == a["step"] {
            pairs.push((e, a));
        } else {
            out.push(format!("run step index: expected {}, got {}", e["step"], a["step"]));
        }
    }
    pairs
}

/// A pipeline's runner documents (FORMAT.md, version 2): each dataset's kind and columns (in
/// no order), then per `run` step and per dataset the whole content as a multiset, then the
/// final tables.
fn compare_pipeline(expected: &Json, actual: &Json, out: &mut Vec<String>) {
    let empty = serde_json::Map::new();
    let (ed, ad) = (expected["datasets"].as_object().unwrap_or(&empty), actual["datasets"].as_object().unwrap_or(&empty));
    for (name, e) in ed {
        match ad.get(name) {
            None => out.push(format!("dataset {name}: expected it, but the pipeline has no such dataset")),
            Some(a) => {
                for key in ["kind", "columns"] {
                    if e[key] != a[key] {
                        out.push(format!("dataset {name}: {key} expected {}, got {}", e[key], a[key]));
                    }
                }
            }
        }
    }
    for name in ad.keys().filter(|n| !ed.contains_key(*n)) {
        out.push(format!("dataset {name}: not expected"));
    }
    let tables = |doc: &Json, what: &str, out: &mut Vec<String>, other: &Json| {
        let none = serde_json::Map::new();
        let (e, a) = (doc.as_object().unwrap_or(&none), other.as_object().unwrap_or(&none));
        for (name, rows) in e {
            let no_rows = Vec::new();
            let got = a.get(name).and_then(Json::as_array).unwrap_or(&no_rows);
            multiset_diff(&format!("{what}, dataset {name}"), rows.as_array().unwrap_or(&no_rows), got, out);
        }
        for name in a.keys().filter(|n| !e.contains_key(*n)) {
            out.push(format!("{what}: dataset {name} not expected"));
        }
    };
    for (e, a) in paired_runs(expected, actual, out) {
        let step = &e["step"];
        tables(&e["tables"], &format!("run step {step}"), out, &a["tables"]);
        if let Some(x) = e.get("expectations") {
            if a.get("expectations") != Some(x) {
                out.push(format!("run step {step}: expectations expected {x}, got {:?}", a.get("expectations")));
            }
        }
    }
    tables(&expected["tables"], "final tables", out, &actual["tables"]);
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;
    #[cfg(target_arch = "wasm32")]
    use wasm_bindgen_test::wasm_bindgen_test as test;

    #[test]
    fn order_inside_a_step_does_not_matter_but_content_does() {
        let e = json!({"columns": ["a"], "runs": [{"step": 1, "batches": [{"batch_id": 0, "watermark": null, "dropped_late": 0, "state_rows": 0, "rows": [[1], [2]]}]}], "sink": [[1], [2]]});
        let mut a = e.clone();
        a["runs"][0]["batches"][0]["rows"] = json!([[2], [1]]);
        assert!(compare(&e, &a).is_empty());
        a["sink"] = json!([[1], [3]]);
        assert_eq!(compare(&e, &a).len(), 1);
    }

    #[test]
    fn numbers_have_a_relative_tolerance_and_timestamps_normalise() {
        assert!(same(&json!(70.7), &json!(70.70000000000001)));
        assert!(!same(&json!(70.7), &json!(70.71)));
        assert!(same(&json!("2026-01-01 00:00:01"), &json!("2026-01-01T00:00:01.000000")));
    }

    #[test]
    fn rows_are_a_multiset_matched_within_the_tolerance() {
        let mut out = Vec::new();
        multiset_diff("sink", &[json!([1]), json!([1]), json!([2.0000005])], &[json!([1]), json!([2.0000004999999])], &mut out);
        assert_eq!(out.len(), 1, "{out:?}");
        assert!(out[0].contains("missing [\"[1]\"]; unexpected []"), "{out:?}");
        out.clear();
        multiset_diff("sink", &[json!([0.30000000000000004]), json!(["x"])], &[json!(["x"]), json!([0.3])], &mut out);
        assert!(out.is_empty(), "{out:?}");
    }

    #[test]
    fn metrics_are_compared_batch_by_batch() {
        let e = json!({"columns": [], "runs": [{"step": 1, "batches": [{"batch_id": 0, "watermark": null, "dropped_late": 0, "state_rows": 2, "rows": []}]}], "sink": []});
        let mut a = e.clone();
        a["runs"][0]["batches"][0]["state_rows"] = json!(3);
        assert!(compare(&e, &a)[0].contains("state_rows"));
    }

    #[test]
    fn errors_compare_by_kind_condition_and_message() {
        let e =
            json!({"error": {"kind": "missing_watermark", "message": "Invalid streaming output mode: append.", "spark_condition": "X"}});
        let a = json!({"error": {"kind": "missing_watermark", "message": "[X] Invalid streaming output mode: append. More.", "spark_condition": "X"}});
        assert!(compare(&e, &a).is_empty());
        assert!(!compare(&e, &json!({"error": {"kind": "parse", "message": "", "spark_condition": "X"}})).is_empty());
    }

    #[test]
    fn pipelines_compare_each_dataset_per_update_then_the_final_tables() {
        let doc = |silver: Json, kind: &str| {
            json!({
                "name": "p",
                "datasets": {"bronze": {"kind": "streaming_table", "columns": ["a"]}, "silver": {"kind": kind, "columns": ["a"]}},
                "runs": [{"step": 1, "tables": {"bronze": [[1], [2]], "silver": silver.clone()}}],
                "tables": {"bronze": [[1], [2]], "silver": silver}
            })
        };
        let expected = doc(json!([[1], [2.0000000000001]]), "streaming_table");
        // Rows in another order, numbers within the tolerance, the datasets listed in another order.
        let mut same_content = doc(json!([[2], [1]]), "streaming_table");
        let datasets = same_content["datasets"].as_object().unwrap().clone().into_iter().rev().collect();
        same_content["datasets"] = Json::Object(datasets);
        assert_eq!(compare(&expected, &same_content), Vec::<String>::new());
        let diffs = compare(&expected, &doc(json!([[1]]), "streaming_table"));
        assert!(diffs.iter().any(|d| d.starts_with("run step 1, dataset silver")), "{diffs:?}");
        assert!(diffs.iter().any(|d| d.starts_with("final tables, dataset silver")), "{diffs:?}");
        let diffs = compare(&expected, &doc(json!([[1], [2]]), "materialized_view"));
        assert_eq!(diffs, vec![r#"dataset silver: kind expected "streaming_table", got "materialized_view""#.to_string()]);
        // A refused pipeline names its dataset.
        let refused = |d: &str| json!({"name": "p", "error": {"kind": "pipeline", "message": "[X] bad", "dataset": d}});
        assert!(compare(&refused("a"), &refused("a")).is_empty());
        assert_eq!(compare(&refused("a"), &refused("b")).len(), 1);
    }
}
