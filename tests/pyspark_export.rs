//! "Copy as PySpark" writes a program people run on real clusters, from a scenario a stranger
//! may have sent them. Every exported program is parsed by Python's own `ast` (as bytes, so a
//! `coding:` cookie counts as it would when the file runs): it may only call what the template
//! calls and name what the template names, and everything the scenario supplied must come back
//! as a string constant, unchanged.

use std::collections::BTreeSet;
use std::io::Write;
use std::process::{Command, Stdio};

use serde_json::{json, Value as Json};
use unbounded_engine::pyspark::pyspark;
use unbounded_engine::scenario::{Scenario, Step};
use unbounded_engine::types::{Column, DataType, Schema};
use unbounded_engine::OutputMode;
use unbounded_tests::{scenario_root, scenarios};

/// Reads a program on stdin and prints what its syntax tree does, as JSON.
const CHECKER: &str = r#"
import ast, json, sys
tree = ast.parse(sys.stdin.buffer.read())
def dotted(f):
    parts = []
    while isinstance(f, ast.Attribute):
        parts.append(f.attr)
        f = f.value
    if isinstance(f, ast.Name):
        parts.append(f.id)
    elif isinstance(f, ast.Call):
        parts.append(dotted(f.func) + "()")
    else:
        parts.append("<" + type(f).__name__ + ">")
    return ".".join(reversed(parts))
calls, names, nodes, strings = set(), set(), set(), []
for n in ast.walk(tree):
    nodes.add(type(n).__name__)
    if isinstance(n, ast.Call):
        calls.add(dotted(n.func))
    if isinstance(n, ast.Name):
        names.add(n.id)
    if isinstance(n, ast.Attribute):
        names.add(n.attr)
    if isinstance(n, ast.keyword) and n.arg:
        names.add(n.arg)
    if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
        names.add(n.name)
    if isinstance(n, ast.arg):
        names.add(n.arg)
    if isinstance(n, ast.alias):
        names.add(n.name)
        if n.asname:
            names.add(n.asname)
    if isinstance(n, ast.Constant) and isinstance(n.value, str):
        strings.append(n.value)
print(json.dumps({"calls": sorted(calls), "names": sorted(names), "nodes": sorted(nodes), "strings": strings}))
"#;

struct Tree {
    calls: BTreeSet<String>,
    names: BTreeSet<String>,
    nodes: BTreeSet<String>,
    strings: Vec<String>,
}

fn parse_python(program: &str) -> Result<Tree, String> {
    let mut child = Command::new("python3")
        .args(["-c", CHECKER])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("python3 runs (CI has it)");
    child.stdin.take().expect("stdin is piped").write_all(program.as_bytes()).expect("python3 reads the program");
    let out = child.wait_with_output().expect("python3 finishes");
    if !out.status.success() {
        return Err(String::from_utf8_lossy(&out.stderr).into_owned());
    }
    let doc: Json = serde_json::from_slice(&out.stdout).expect("the checker prints JSON");
    let set = |k: &str| doc[k].as_array().into_iter().flatten().filter_map(Json::as_str).map(str::to_string).collect();
    Ok(Tree {
        calls: set("calls"),
        names: set("names"),
        nodes: set("nodes"),
        strings: doc["strings"].as_array().into_iter().flatten().filter_map(Json::as_str).map(str::to_string).collect(),
    })
}

/// A scenario that uses every part of the template: two sources, a table, deduplication with
/// and without a watermark, a multi-line query.
const BENIGN: &str = r#"{"version": 1, "name": "benign", "description": "two lines\nof text",
  "sources": {"events": {"schema": [["id", "string"], ["n", "int"], ["ts", "timestamp"]], "options": {"maxFilesPerTrigger": 1, "latestFirst": true}},
              "clicks": {"schema": [["id", "string"]]}},
  "tables": {"names": {"schema": [["id", "string"], ["x", "double"]], "rows": [["a", 1.5], [null, null]]}},
  "query": "SELECT e.id, count(*) AS n\nFROM STREAM events WATERMARK ts DELAY OF INTERVAL 5 SECONDS DEDUPLICATE WITHIN WATERMARK BY (id) AS e\nJOIN names m ON e.id = m.id GROUP BY e.id",
  "output_mode": "update",
  "steps": [{"add": "events", "rows": [["a", 1, "2026-01-01 00:00:01"], ["b", null, null], ["c", -3, null]]},
            {"add": "clicks", "rows": [["a"]]}, {"run": {}}]}"#;

fn allowed() -> Tree {
    let benign = Scenario::parse(BENIGN).unwrap();
    let mut t = parse_python(&pyspark(&benign)).unwrap();
    // The other dedup form and a one-column row come from a second benign export.
    let mut second = benign.clone();
    second.query = "SELECT * FROM STREAM clicks DEDUPLICATE BY (id)".into();
    // Every mode writes through foreachBatch: a MERGE in update mode, an idempotent append
    // without an aggregation or in append mode, an overwrite in complete mode.
    let mut third = second.clone();
    third.output_mode = OutputMode::Append;
    let mut fourth = benign.clone();
    fourth.query = "SELECT id, count(*) AS n FROM STREAM clicks GROUP BY id".into();
    fourth.output_mode = OutputMode::Complete;
    // A Kafka topic is read with readStream.format("kafka") and fed by Spark's Kafka writer.
    let fifth = Scenario::parse(
        r#"{"version": 1, "name": "k", "sources": {"t": {"kind": "kafka", "partitions": 2, "options": {"maxOffsetsPerTrigger": 5}}},
            "query": "SELECT CAST(value AS STRING) AS v FROM STREAM t",
            "steps": [{"add": "t", "messages": [{"key": "a", "value": "x"}], "partition": 1}, {"retain": "t", "from_offsets": {"0": 1}}, {"run": {}}]}"#,
    )
    .unwrap();
    // An Auto Loader folder is read with format("cloudFiles") and fed file by file; a rate
    // source with format("rate").
    let sixth = Scenario::parse(
        r#"{"version": 1, "name": "a", "sources": {"l": {"kind": "auto_loader", "format": "json", "options": {"cloudFiles.maxFilesPerTrigger": 1}}, "m": {"kind": "auto_loader", "format": "csv"}, "r": {"kind": "rate", "options": {"rowsPerSecond": 2}}, "s": {"kind": "rate"}},
            "query": "SELECT * FROM STREAM l",
            "steps": [{"add": "l", "file": "a.json", "text": "{}"}, {"run": {}}]}"#,
    )
    .unwrap();
    for other in [second, third, fourth, fifth, sixth] {
        let t2 = parse_python(&pyspark(&other)).unwrap();
        t.calls.extend(t2.calls);
        t.names.extend(t2.names);
        t.nodes.extend(t2.nodes);
    }
    t
}

/// Strings an attacker would try: quote and comment breakers, escapes Python would interpret,
/// line ends Python or an editor honours, f-string fields, a coding cookie.
const HOSTILE: &[&str] = &[
    "a\"b",
    "a'b",
    "\"\"\"",
    "'''",
    "\"\"\"); __import__('os').system('echo pwned') #",
    "\\",
    "abc\\",
    "\\\"",
    "x\ny = __import__('os').system('echo pwned')",
    "x\r__import__('os').system('echo pwned')",
    "x\r\n__import__('os').system('echo pwned')",
    "nul\0byte",
    "line\u{2028}sep\u{2029}para\u{85}next",
    "form\x0cfeed\x0bvtab\x1bESC\x7fDEL",
    "{__import__('os').system('echo pwned')}",
    "{DATA}",
    "x -*- coding: unicode_escape -*- \\u000a__import__('os').system('echo pwned')",
    "\\N{LATIN SMALL LETTER A}\\u0041\\x41\\101",
    "bidi \u{202e}desrever\u{202c} \u{2066}iso\u{2069} \u{200b}zw \u{feff}bom",
    "non-BMP \u{1F600} \u{10FFFF} and caf\u{e9}",
    "__import__('os').system('echo pwned')",
];

fn schema(cols: &[(&str, DataType)]) -> Schema {
    Schema::new(cols.iter().map(|(n, t)| Column { name: n.to_string(), data_type: t.clone() }).collect())
}

/// A scenario whose every name and value is `h` (names are built directly: the parser refuses
/// them, but the exporter must be safe on its own).
fn hostile_scenario(h: &str) -> Scenario {
    let source = h.to_string();
    let table = format!("{h} table");
    Scenario {
        name: h.to_string(),
        description: Some(format!("{h}\n{h}")),
        sources: vec![(source.clone(), schema(&[(h, DataType::String), ("ts", DataType::Timestamp)]))],
        tables: vec![(table.clone(), schema(&[(h, DataType::String)]), vec![json!([h]), json!([{ table.clone(): [h] }])])],
        query: format!("SELECT '{h}' AS x, \"{h}\" FROM STREAM {h} DEDUPLICATE BY ({h}, ts) -- {h}\n/* {h} */"),
        output_mode: OutputMode::Append,
        steps: vec![Step::Add { source, rows: vec![json!([h, "2026-01-01 00:00:01"]), json!([h, h])] }, Step::Run],
        source_options: Vec::new(),
        kafka: Vec::new(),
        auto_loader: Vec::new(),
        rate: Vec::new(),
    }
}

fn subset(what: &str, got: &BTreeSet<String>, allowed: &BTreeSet<String>) -> Vec<String> {
    got.difference(allowed).map(|x| format!("{what} `{x}`")).collect()
}

/// Characters that end a line somewhere (Python, an editor, a terminal) or hide text.
fn sneaky(c: char) -> bool {
    (c.is_control() && c != '\n')
        || matches!(c, '\u{2028}' | '\u{2029}' | '\u{200b}'..='\u{200f}' | '\u{202a}'..='\u{202e}' | '\u{2060}'..='\u{206f}' | '\u{feff}')
}

#[test]
fn hostile_names_and_values_stay_string_constants() {
    let allowed = allowed();
    let mut failures = Vec::new();
    for h in HOSTILE {
        let s = hostile_scenario(h);
        let program = pyspark(&s);
        let tree = match parse_python(&program) {
            Ok(t) => t,
            Err(e) => {
                failures.push(format!("{h:?}: the program is not Python: {e}\n{program}"));
                continue;
            }
        };
        let mut wrong = subset("call", &tree.calls, &allowed.calls);
        wrong.extend(subset("name", &tree.names, &allowed.names));
        wrong.extend(subset("syntax", &tree.nodes, &allowed.nodes));
        for needed in [h.to_string(), format!("{h} table")] {
            if !tree.strings.contains(&needed) {
                wrong.push(format!("the string {needed:?} is not a string constant of the program"));
            }
        }
        if let Some(c) = program.chars().find(|&c| sneaky(c)) {
            wrong.push(format!("the program contains the character U+{:04X}", c as u32));
        }
        if !wrong.is_empty() {
            failures.push(format!("{h:?}: {}\n{program}", wrong.join("; ")));
        }
    }
    assert!(failures.is_empty(), "{} hostile exports are unsafe:\n{}", failures.len(), failures.join("\n\n"));
}

#[test]
fn the_query_is_passed_to_spark_unchanged() {
    for h in HOSTILE {
        let mut s = hostile_scenario(h);
        s.query = format!("SELECT '{h}' AS x -- {h}\nFROM STREAM events");
        let tree = parse_python(&pyspark(&s)).unwrap_or_else(|e| panic!("{h:?}: {e}"));
        assert!(tree.strings.contains(&s.query), "{h:?}: the SQL text does not reach spark.sql unchanged: {:?}", tree.strings);
    }
}

#[test]
fn every_example_exports_a_program_of_the_template() {
    let allowed = allowed();
    let all = scenarios(&scenario_root());
    assert!(all.len() >= 30, "found only {} scenarios", all.len());
    for (path, _) in all {
        let text = std::fs::read_to_string(&path).unwrap();
        // Pipelines (version 2) have no PySpark export yet: `spark-pipelines` runs their SQL as is.
        if serde_json::from_str::<Json>(&text).unwrap()["version"] == 2 {
            continue;
        }
        let s = Scenario::parse(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        let program = pyspark(&s);
        let tree = parse_python(&program).unwrap_or_else(|e| panic!("{}: {e}\n{program}", path.display()));
        let mut wrong = subset("call", &tree.calls, &allowed.calls);
        wrong.extend(subset("name", &tree.names, &allowed.names));
        wrong.extend(subset("syntax", &tree.nodes, &allowed.nodes));
        assert!(wrong.is_empty(), "{}: {}\n{program}", path.display(), wrong.join("; "));
        for (source, _) in &s.sources {
            assert!(tree.strings.contains(source), "{}: source {source} is not a string constant", path.display());
        }
    }
}
