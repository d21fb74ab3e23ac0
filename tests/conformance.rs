//! Every scenario in tests/scenarios/ runs through the engine's runner and must conform to its
//! expected output (produced by Apache Spark 4.3 on the same input, or written by hand where a
//! file says so). A scenario that needs a capability the engine does not have yet must say so in
//! an `unsupported_operation` error, never give a wrong answer.

use unbounded_engine::conformance::compare;
use unbounded_engine::scenario::run_text;
use unbounded_tests::{scenario_root, scenarios};

/// Scenarios that need operators not built yet. Each must be refused with
/// `unsupported_operation` today; remove a name when its capability lands, and the test then
/// demands that it conforms.
const WAITING_FOR_CAPABILITIES: &[&str] = &[];

#[test]
fn scenarios_conform_to_their_expected_output() {
    let all = scenarios(&scenario_root());
    assert!(all.len() >= 30, "found only {} scenarios under {}", all.len(), scenario_root().display());
    let mut failures = Vec::new();
    let mut pending = Vec::new();
    let mut passed = 0;
    for (path, expected_path) in &all {
        let text = std::fs::read_to_string(path).unwrap();
        let name = path.strip_prefix(scenario_root()).unwrap().display().to_string();
        let Ok(expected_text) = std::fs::read_to_string(expected_path) else {
            failures.push(format!("{name}: no expected file {}", expected_path.display()));
            continue;
        };
        let expected: serde_json::Value = serde_json::from_str(&expected_text).unwrap();
        let out = match run_text(&text) {
            Ok(o) => o,
            Err(e) => {
                failures.push(format!("{name}: the runner refused the file: {e}"));
                continue;
            }
        };
        if WAITING_FOR_CAPABILITIES.contains(&name.as_str()) {
            let refused = out.document["error"]["kind"] == "unsupported_operation"
                && out.document["error"]["message"].as_str().unwrap_or("").contains("not supported by this version of Unbounded yet");
            if refused {
                pending.push(name);
            } else {
                failures.push(format!("{name}: listed as waiting for a capability, but it was not refused as such: {}", out.document));
            }
            continue;
        }
        let diffs = compare(&expected, &out.document);
        if diffs.is_empty() {
            passed += 1;
        } else {
            failures.push(format!("{name}:\n  {}", diffs.join("\n  ")));
        }
    }
    println!("conformance: {passed} scenarios conform; {} wait for capabilities not built yet: {pending:?}", pending.len());
    assert!(failures.is_empty(), "{} scenarios do not conform:\n{}", failures.len(), failures.join("\n"));
}

#[test]
fn every_scenario_survives_export_and_import() {
    // The playground shares and saves sessions with Scenario::to_json: nothing may be lost.
    for (path, _) in scenarios(&scenario_root()) {
        let text = std::fs::read_to_string(&path).unwrap();
        if let Some(p) = unbounded_engine::pipeline::scenario::PipelineScenario::parse_if_pipeline(&text).unwrap() {
            let again = unbounded_engine::pipeline::scenario::PipelineScenario::from_json(&p.to_json()).unwrap();
            assert_eq!(again, p, "{}", path.display());
            continue;
        }
        let parsed = unbounded_engine::scenario::Scenario::parse(&text).unwrap();
        let again = unbounded_engine::scenario::Scenario::from_json(&parsed.to_json()).unwrap();
        assert_eq!(again, parsed, "{}", path.display());
    }
}
