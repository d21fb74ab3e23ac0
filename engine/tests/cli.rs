//! The CLI on input files a stranger could send: every one is refused with a message and exit
//! code 2 (bad input), never a panic, a stack overflow or an unbounded read.
// The wasm build has no processes to spawn.
#![cfg(not(target_arch = "wasm32"))]

use std::path::PathBuf;
use std::process::{Command, Output};

fn dir() -> PathBuf {
    let d = std::env::temp_dir().join(format!("unbounded-cli-test-{}", std::process::id()));
    std::fs::create_dir_all(&d).unwrap();
    d
}

fn file(name: &str, bytes: &[u8]) -> String {
    let p = dir().join(name);
    std::fs::write(&p, bytes).unwrap();
    p.display().to_string()
}

fn cli(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_unbounded")).args(args).output().unwrap()
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

const GOOD: &str = r#"{"version": 1, "name": "g", "sources": {"events": {"schema": [["id", "string"], ["ts", "timestamp"]]}},
  "query": "SELECT id FROM STREAM events", "steps": [{"add": "events", "rows": [["a", "2026-01-01 00:00:01"]]}, {"run": {}}]}"#;

#[test]
fn bad_scenario_files_exit_2_with_a_message() {
    let deep = format!("{}{}", "[".repeat(1_000_000), "]".repeat(1_000_000));
    let cases: Vec<(&str, Vec<u8>, &str)> = vec![
        ("empty", Vec::new(), "not valid JSON"),
        ("truncated", GOOD.as_bytes()[..GOOD.len() / 2].to_vec(), "not valid JSON"),
        ("binary", vec![0xff, 0xfe, b'{', 0, 0x80], "not UTF-8"),
        ("deep", deep.into_bytes(), "deeper than 64 levels"),
        ("deep-object", "{\"a\":".repeat(200_000).into_bytes(), "deeper than 64 levels"),
        ("duplicate", GOOD.replace(r#""name": "g","#, r#""name": "g", "name": "h","#).into_bytes(), "appears twice"),
        (
            "huge-number",
            GOOD.replace(r#"["a", "2026"#, r#"[123456789012345678901234567890, "2026"#).into_bytes(),
            "does not fit in 64 bits",
        ),
        ("infinity", GOOD.replace(r#""version": 1"#, r#""version": 1e400"#).into_bytes(), "infinity"),
        ("quoted-name", GOOD.replace(r#""events": {"#, r#""ev ents": {"#).into_bytes(), "not a plain name"),
        ("too-large", vec![b' '; 17 * 1024 * 1024], "larger than 16777216 bytes"),
        ("not-an-object", b"[1, 2, 3]".to_vec(), "must be a JSON object"),
    ];
    for (name, bytes, needle) in cases {
        let path = file(&format!("{name}.json"), &bytes);
        for command in ["run", "pyspark", "explain"] {
            let out = cli(&[command, &path]);
            assert_eq!(out.status.code(), Some(2), "{command} {name}: {}", stderr(&out));
            assert!(stderr(&out).contains(needle), "{command} {name}: expected {needle:?} in {}", stderr(&out));
        }
    }
    let missing = dir().join("missing.json").display().to_string();
    assert_eq!(cli(&["run", &missing]).status.code(), Some(2));
    assert_eq!(cli(&["run", &dir().display().to_string()]).status.code(), Some(2));
    let good = file("good.json", GOOD.as_bytes());
    assert_eq!(cli(&["run", &good]).status.code(), Some(0));
    assert_eq!(cli(&["pyspark", &good]).status.code(), Some(0));
    // A pipeline gives the script that lays out and runs its Spark Declarative Pipelines project.
    let pipeline = concat!(env!("CARGO_MANIFEST_DIR"), "/../tests/scenarios/pipelines/medallion-trucks.json");
    let out = cli(&["pyspark", pipeline]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let script = String::from_utf8_lossy(&out.stdout);
    assert!(script.contains("spark-pipeline.yml") && script.contains("CREATE STREAMING TABLE bronze"), "{script}");
}

#[test]
fn bad_arguments_exit_2() {
    for args in [&["bench", "1e18"][..], &["bench", "99999999999999999999"], &["bench", "0"], &["bench", "-1"], &["frobnicate"], &[]] {
        let out = cli(args);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {}", stderr(&out));
    }
}

#[test]
fn compare_refuses_bad_documents_and_diffs_large_ones_in_linear_time() {
    let deep = file("deep-doc.json", "[".repeat(100_000).as_bytes());
    let good = file("doc.json", br#"{"columns": [], "runs": [], "sink": []}"#);
    assert_eq!(cli(&["compare", &deep, &good]).status.code(), Some(2));
    assert_eq!(cli(&["compare", &good, &good]).status.code(), Some(0));
    // 100,000 rows against 100,000 others: comparing every pair would take many minutes.
    let rows = |k: usize| (0..100_000).map(|i| format!("[{}, \"r{i}\"]", i * 2 + k)).collect::<Vec<_>>().join(",");
    let a = file("a.json", format!(r#"{{"columns": ["n", "s"], "runs": [], "sink": [{}]}}"#, rows(0)).as_bytes());
    let b = file("b.json", format!(r#"{{"columns": ["n", "s"], "runs": [], "sink": [{}]}}"#, rows(1)).as_bytes());
    let out = cli(&["compare", &a, &b]);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    assert!(String::from_utf8_lossy(&out.stdout).contains("expected 100000 rows, got 100000"));
}

#[test]
fn a_panic_is_reported_with_an_exit_code_not_a_signal() {
    // date_format with a zone letter on a time without zone panicked in chrono: whatever the
    // engine does with it, the CLI says so and exits with one of its codes.
    let text = GOOD.replace("SELECT id FROM", "SELECT date_format(ts, 'yyyy Z X x') AS d FROM");
    let path = file("zone-letters.json", text.as_bytes());
    let out = cli(&["run", &path]);
    let code = out.status.code();
    assert!(matches!(code, Some(0..=3)), "{code:?}: {}", stderr(&out));
    if code == Some(3) {
        assert!(stderr(&out).contains("a bug in Unbounded"), "{}", stderr(&out));
    }
}
