//! Runs in headless Chromium (`cargo test -p unbounded-web --target wasm32-unknown-unknown`, or
//! `wasm-pack test --headless --chrome web`): the engine compiled to wasm gives the same runner
//! output as natively, through the exported JavaScript API.
#![cfg(target_arch = "wasm32")]

use unbounded_engine::conformance::compare;
use wasm_bindgen_test::*;

wasm_bindgen_test_configure!(run_in_browser);

const CASES: &[(&str, &str, &str)] = &[
    (
        "001-sensors-filter-project",
        include_str!("../../tests/scenarios/spark-examples/001-sensors-filter-project.json"),
        include_str!("../../tests/scenarios/spark-examples/001-sensors-filter-project.expected.json"),
    ),
    (
        "010-stream-static-inner-join",
        include_str!("../../tests/scenarios/spark-examples/010-stream-static-inner-join.json"),
        include_str!("../../tests/scenarios/spark-examples/010-stream-static-inner-join.expected.json"),
    ),
    (
        "070-error-append-agg-no-watermark",
        include_str!("../../tests/scenarios/spark-examples/070-error-append-agg-no-watermark.json"),
        include_str!("../../tests/scenarios/spark-examples/070-error-append-agg-no-watermark.expected.json"),
    ),
    (
        "030-tumbling-append-late",
        include_str!("../../tests/scenarios/spark-examples/030-tumbling-append-late.json"),
        include_str!("../../tests/scenarios/spark-examples/030-tumbling-append-late.expected.json"),
    ),
    (
        "session-append",
        include_str!("../../tests/scenarios/stateful/session-append.json"),
        include_str!("../../tests/scenarios/stateful/session-append.expected.json"),
    ),
    (
        "trucks-cold-chain",
        include_str!("../../tests/scenarios/stateless/trucks-cold-chain.json"),
        include_str!("../../tests/scenarios/stateless/trucks-cold-chain.expected.json"),
    ),
];

#[wasm_bindgen_test]
fn scenarios_give_spark_output_in_the_browser() {
    for (name, scenario, expected) in CASES {
        let result = unbounded_web::run_scenario(scenario).unwrap_or_else(|_| panic!("{name}: the runner threw"));
        let result: serde_json::Value = serde_wasm_bindgen::from_value(result).unwrap();
        let expected: serde_json::Value = serde_json::from_str(expected).unwrap();
        let diffs = compare(&expected, &result["document"]);
        assert!(diffs.is_empty(), "{name}: {diffs:?}");
        assert_eq!(result["ok"], expected.get("error").is_none(), "{name}");
    }
}

#[wasm_bindgen_test]
fn browser_output_is_the_native_one() {
    // runScenarioJson gives the text the native CLI prints, byte for byte; the trucks expected
    // file was written by the native CLI. The object form differs only in how JavaScript writes
    // numbers (22.0 is 22), which the conformance rules treat as equal.
    let (_, trucks, trucks_expected) = CASES[5];
    let text = unbounded_web::run_scenario_json(trucks).unwrap();
    assert_eq!(text.trim_end(), trucks_expected.trim_end());
    for (name, scenario, _) in CASES {
        let via_js: serde_json::Value = serde_wasm_bindgen::from_value(unbounded_web::run_scenario(scenario).unwrap()).unwrap();
        let direct = unbounded_engine::scenario::run_text(scenario).unwrap();
        assert!(compare(&direct.document, &via_js["document"]).is_empty(), "{name}");
    }
}

#[wasm_bindgen_test]
fn a_malformed_scenario_throws_an_error_naming_the_step() {
    let text = r#"{"version": 1, "name": "x", "sources": {"s": {"schema": [["a", "int"]]}}, "query": "SELECT a FROM s", "steps": [{"run": {}}, {"ad": "s"}]}"#;
    let Err(err) = unbounded_web::run_scenario(text) else { panic!("a malformed file must throw") };
    let message = js_sys::Error::from(wasm_bindgen::JsValue::from(err)).message();
    assert!(String::from(message).contains("step 1"));
}

#[wasm_bindgen_test]
fn the_page_renders_the_default_scenario() {
    let document = web_sys::window().unwrap().document().unwrap();
    let root = document.create_element("div").unwrap();
    root.set_id("app");
    document.body().unwrap().append_child(&root).unwrap();
    unbounded_web::start();
}

#[wasm_bindgen_test]
fn the_browser_clock_is_real_time() {
    use unbounded_engine::runtime::Clock;
    let clock = unbounded_web::clock::BrowserClock;
    let a = clock.now_ms();
    let start = js_sys::Date::now();
    while js_sys::Date::now() - start < 5.0 {}
    let b = clock.now_ms();
    assert!(b - a >= 4.0, "performance.now() advanced {} ms over a 5 ms busy wait", b - a);
}
