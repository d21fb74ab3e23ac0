//! Grammar-driven fuzzing of everything a stranger can send the engine: thousands of generated
//! scenarios (queries over every function and operator, every datetime pattern letter, extreme
//! timestamps, numbers and intervals, long chains, deep nesting, huge windows, stacked CTEs, joins
//! without keys, restarts and injected failures) run natively and, through `cargo test --target
//! wasm32-unknown-unknown`, under wasm's 1 MB stack. Each must end in a result or a clear error:
//! never a panic, a stack overflow, unbounded work or an `internal` error.
//!
//! `FUZZ_CASES=N` changes how many cases run, `FUZZ_SEED=S` runs one case, `FUZZ_VERBOSE=1`
//! prints each case before it runs (to find the one that aborts the process).

use serde_json::{json, Value as Json};
use unbounded_engine::expr::aggregate::AggFunc;
use unbounded_engine::expr::functions::Func;
use unbounded_engine::scenario::run_text;
use unbounded_engine::ErrorKind;

#[cfg(target_arch = "wasm32")]
use wasm_bindgen_test::wasm_bindgen_test as test;

/// xorshift64*: small, seedable and the same on every target, so a failing seed reproduces.
struct Rng(u64);

impl Rng {
    fn new(seed: u64) -> Rng {
        Rng(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1)
    }

    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }

    fn chance(&mut self, percent: u64) -> bool {
        self.next() % 100 < percent
    }

    fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len())]
    }
}

const COLUMNS: &[(&str, &str)] =
    &[("k", "string"), ("v", "bigint"), ("n", "int"), ("d", "double"), ("b", "boolean"), ("s", "string"), ("ts", "timestamp")];

const TIMESTAMPS: &[&str] = &[
    "2026-01-01 00:00:00",
    "2026-01-01 00:00:07",
    "2026-01-01 00:00:31",
    "2026-01-01 00:01:05.5",
    "2025-12-31 23:59:59.999999",
    "1970-01-01 00:00:00",
    "1969-12-31 23:59:59",
    "0001-01-01 00:00:00",
    "9999-12-31 23:59:59.999999",
    "1582-10-10 12:00:00",
    "2026-02-30 00:00:00",
    "10000-01-01 00:00:00",
    "-0001-01-01 00:00:00",
    "not a time",
    "",
];

const INTERVAL_UNITS: &[&str] =
    &["MICROSECOND", "MILLISECOND", "SECOND", "SECONDS", "MINUTE", "MINUTES", "HOUR", "HOURS", "DAY", "DAYS", "WEEK", "MONTH", "YEAR"];

const INTERVAL_AMOUNTS: &[&str] =
    &["0", "1", "5", "10", "-1", "-5", "9223372036854775807", "-9223372036854775808", "1e9", "99999999999999", "3.5", "0.000001"];

const DURATIONS: &[&str] = &[
    "10 seconds",
    "5 seconds",
    "1 minute",
    "1 day",
    "1 microsecond",
    "1 millisecond",
    "0 seconds",
    "-10 seconds",
    "9223372036854775807 seconds",
    "106751991 days",
    "1 year",
    "1 month",
    "10000 years",
    "banana",
    "",
];

const TRUNC_UNITS: &[&str] = &[
    "year",
    "yyyy",
    "quarter",
    "month",
    "mm",
    "week",
    "day",
    "dd",
    "hour",
    "minute",
    "second",
    "millisecond",
    "microsecond",
    "fortnight",
    "",
];

fn string_literal(rng: &mut Rng) -> String {
    let raw = match rng.below(12) {
        0 => String::new(),
        1 => "it''s".to_string(),
        2 => "a,b,,c".to_string(),
        3 => "%_\\".to_string(),
        4 => "x".repeat(rng.below(2000)),
        5 => "ünïcødé 🚀".to_string(),
        6 => "2026-01-01 00:00:00".to_string(),
        7 => rng.pick(TIMESTAMPS).to_string(),
        8 => "NaN".to_string(),
        9 => "-9223372036854775809".to_string(),
        10 => "\\n\\t".to_string(),
        _ => format!("k{}", rng.below(5)),
    };
    format!("'{raw}'")
}

/// A datetime pattern of random letters (every ASCII letter, repeated 1 to 6 times), quotes and
/// separators: Spark's DateTimeFormatter-style patterns.
fn datetime_pattern(rng: &mut Rng) -> String {
    let mut p = String::new();
    for _ in 0..1 + rng.below(4) {
        match rng.below(10) {
            0 => p.push_str("''"),
            1 => p.push_str("'T'"),
            2 => p.push(*rng.pick(&['-', ':', ' ', '.', '/', '[', ']', '#', '{'])),
            _ => {
                let letter = (if rng.chance(50) { b'a' } else { b'A' } + rng.below(26) as u8) as char;
                for _ in 0..1 + rng.below(6) {
                    p.push(letter);
                }
            }
        }
    }
    format!("'{p}'")
}

fn literal(rng: &mut Rng) -> String {
    match rng.below(14) {
        0 => "NULL".into(),
        1 => rng.pick(&["0", "1", "-1", "2147483647", "-2147483648", "9223372036854775807", "-9223372036854775808", "42"]).to_string(),
        2 => rng.pick(&["0.0", "-0.0", "1.5", "1e308", "-1e308", "1e-320", "3.14159", "1E400"]).to_string(),
        3 => rng.pick(&["TRUE", "FALSE"]).to_string(),
        4 => format!("TIMESTAMP '{}'", rng.pick(TIMESTAMPS)),
        5 => format!("INTERVAL {} {}", rng.pick(INTERVAL_AMOUNTS), rng.pick(INTERVAL_UNITS)),
        6 => format!("INTERVAL '{}'", rng.pick(DURATIONS)),
        7 => datetime_pattern(rng),
        _ => string_literal(rng),
    }
}

fn column(rng: &mut Rng) -> String {
    rng.pick(COLUMNS).0.to_string()
}

/// A random expression of at most `depth` levels: every scalar function by name, with 0 to 4
/// arguments, every operator, casts, CASE, IN, LIKE, BETWEEN.
fn expr(rng: &mut Rng, depth: usize) -> String {
    if depth == 0 || rng.chance(30) {
        return if rng.chance(55) { column(rng) } else { literal(rng) };
    }
    let d = depth - 1;
    match rng.below(16) {
        0..=3 => {
            let name = rng.pick(Func::NAMES);
            let args: Vec<String> = (0..rng.below(5)).map(|_| expr(rng, d)).collect();
            format!("{name}({})", args.join(", "))
        }
        4 => {
            let f = rng.pick(&["date_format", "to_timestamp", "try_to_timestamp"]);
            format!("{f}({}, {})", if rng.chance(50) { "ts".to_string() } else { expr(rng, d) }, datetime_pattern(rng))
        }
        5 => format!("date_trunc('{}', {})", rng.pick(TRUNC_UNITS), if rng.chance(60) { "ts".to_string() } else { expr(rng, d) }),
        6 => {
            let op = rng.pick(&["+", "-", "*", "/", "%", "=", "<>", "<", "<=", ">", ">=", "AND", "OR", "||", "<=>", "DIV", "&"]);
            format!("({} {op} {})", expr(rng, d), expr(rng, d))
        }
        7 => format!("(ts {} {})", rng.pick(&["+", "-"]), literal(rng)),
        8 => format!(
            "CAST({} AS {})",
            expr(rng, d),
            rng.pick(&["STRING", "INT", "BIGINT", "DOUBLE", "BOOLEAN", "TIMESTAMP", "DATE", "DECIMAL(10,2)", "ARRAY<INT>"])
        ),
        9 => format!("CASE WHEN {} THEN {} ELSE {} END", expr(rng, d), expr(rng, d), expr(rng, d)),
        10 => format!("({} IS {}NULL)", expr(rng, d), if rng.chance(50) { "NOT " } else { "" }),
        11 => format!("({} {}LIKE {})", expr(rng, d), if rng.chance(30) { "NOT " } else { "" }, string_literal(rng)),
        12 => format!("({} IN ({}, {}))", expr(rng, d), expr(rng, d), expr(rng, d)),
        13 => format!("({} BETWEEN {} AND {})", expr(rng, d), expr(rng, d), expr(rng, d)),
        14 => format!("(NOT {})", expr(rng, d)),
        _ => format!("(-{})", expr(rng, d)),
    }
}

fn aggregate(rng: &mut Rng) -> String {
    let name = rng.pick(AggFunc::NAMES);
    match rng.below(4) {
        0 => format!("{name}(*)"),
        1 => format!("{name}(DISTINCT {})", column(rng)),
        _ => format!("{name}({})", if rng.chance(70) { column(rng) } else { expr(rng, 2) }),
    }
}

/// A chain of `terms` operands joined by one operator: flat in the text, left-deep in the tree.
fn chain(rng: &mut Rng, terms: usize) -> String {
    match rng.below(5) {
        0 => (0..terms).map(|i| format!("k = 'k{i}'")).collect::<Vec<_>>().join(" OR "),
        1 => (0..terms).map(|_| "v > 0").collect::<Vec<_>>().join(" AND "),
        2 => (0..terms).map(|_| "v").collect::<Vec<_>>().join(" + "),
        3 => (0..terms).map(|_| "s").collect::<Vec<_>>().join(" || "),
        _ => (0..terms).map(|_| "d").collect::<Vec<_>>().join(" - "),
    }
}

/// `levels` of one nesting form around a column.
fn nested(rng: &mut Rng, levels: usize) -> String {
    let (open, close) = match rng.below(5) {
        0 => ("(", ")"),
        1 => ("NOT (", ")"),
        2 => ("abs(", ")"),
        3 => ("CASE WHEN b THEN ", " ELSE 0 END"),
        _ => ("coalesce(", ", 1)"),
    };
    let inner = if open.starts_with("NOT") { "b" } else { "v" };
    format!("{}{inner}{}", open.repeat(levels), close.repeat(levels))
}

fn watermark(rng: &mut Rng) -> String {
    if rng.chance(15) {
        return String::new();
    }
    format!(" WATERMARK ts DELAY OF INTERVAL {} {}", rng.pick(INTERVAL_AMOUNTS), rng.pick(INTERVAL_UNITS))
}

fn query(rng: &mut Rng) -> String {
    let wm = watermark(rng);
    match rng.below(14) {
        0 | 1 => {
            let items: Vec<String> = (0..1 + rng.below(4)).map(|i| format!("{} AS c{i}", expr(rng, 4))).collect();
            let filter = if rng.chance(50) { format!(" WHERE {}", expr(rng, 3)) } else { String::new() };
            format!("SELECT {} FROM STREAM events{wm}{filter}", items.join(", "))
        }
        2 => {
            let size = rng.pick(DURATIONS);
            let w =
                if rng.chance(50) { format!("window(ts, '{size}', '{}')", rng.pick(DURATIONS)) } else { format!("window(ts, '{size}')") };
            format!("SELECT {w} AS w, k, {} AS a, {} AS b FROM STREAM events{wm} GROUP BY {w}, k", aggregate(rng), aggregate(rng))
        }
        3 => {
            let w = format!("session_window(ts, '{}')", rng.pick(DURATIONS));
            format!("SELECT k, {w} AS s, {} AS a FROM STREAM events{wm} GROUP BY k, {w}", aggregate(rng))
        }
        4 => format!("SELECT k, {} AS a, {} AS b FROM STREAM events{wm} GROUP BY k", aggregate(rng), aggregate(rng)),
        5 => {
            let within = if rng.chance(50) { " WITHIN WATERMARK" } else { "" };
            format!("SELECT k, v, ts FROM STREAM events{wm} DEDUPLICATE{within} BY ({})", rng.pick(&["k", "k, ts", "v", "s"]))
        }
        6 => {
            let on = if rng.chance(50) { "e.k = t.k".to_string() } else { expr(rng, 2).replace("ts", "e.ts") };
            format!(
                "SELECT e.k, e.v, t.x FROM STREAM events{wm} AS e {} dims t ON {on}",
                rng.pick(&["JOIN", "LEFT JOIN", "LEFT OUTER JOIN"])
            )
        }
        7 => {
            let range = rng.pick(&[
                "",
                " AND c.ts BETWEEN e.ts AND e.ts + INTERVAL 20 SECONDS",
                " AND c.ts > e.ts - INTERVAL 9223372036854775807 MICROSECONDS",
            ]);
            let cond = if rng.chance(70) { format!("e.k = c.k{range}") } else { "e.v < c.v".to_string() };
            format!(
                "SELECT e.k, c.v, e.ts FROM STREAM events{wm} AS e {} STREAM clicks WATERMARK ts DELAY OF INTERVAL 10 SECONDS AS c ON {cond}",
                rng.pick(&["JOIN", "LEFT OUTER JOIN", "FULL OUTER JOIN", "RIGHT JOIN"])
            )
        }
        8 => {
            // Stacked CTEs, each reading the previous twice: exponential if expanded naively.
            let levels = 1 + rng.below(40);
            let mut ctes = vec!["c0 AS (SELECT k, v FROM STREAM events)".to_string()];
            for i in 1..levels {
                ctes.push(format!("c{i} AS (SELECT * FROM c{} UNION ALL SELECT * FROM c{})", i - 1, i - 1));
            }
            format!("WITH {} SELECT * FROM c{}", ctes.join(", "), levels - 1)
        }
        9 => {
            // A CTE named like its source, and CTEs that reference each other.
            match rng.below(3) {
                0 => "WITH events AS (SELECT k, v, ts FROM STREAM events) SELECT * FROM events".to_string(),
                1 => "WITH a AS (SELECT * FROM b), b AS (SELECT * FROM a) SELECT * FROM a".to_string(),
                _ => "WITH a AS (SELECT * FROM a) SELECT * FROM a".to_string(),
            }
        }
        10 => {
            let terms = *rng.pick(&[10, 700, 3000, 10_000]);
            format!("SELECT {} AS c FROM STREAM events", chain(rng, terms))
        }
        11 => {
            let levels = *rng.pick(&[10, 48, 60, 200, 3000]);
            format!("SELECT {} AS c FROM STREAM events", nested(rng, levels))
        }
        12 => format!(
            "SELECT k, v FROM STREAM events WHERE v > 0 UNION ALL SELECT k, v FROM STREAM clicks{}",
            if rng.chance(50) { " WHERE v < 0" } else { "" }
        ),
        _ => format!(
            "SELECT w.start, w.end, a FROM (SELECT window(ts, '{}') AS w, {} AS a FROM STREAM events{wm} GROUP BY window(ts, '{}'))",
            "10 seconds",
            aggregate(rng),
            "10 seconds"
        ),
    }
}

fn value(rng: &mut Rng, ty: &str) -> Json {
    if rng.chance(8) {
        return Json::Null;
    }
    match ty {
        "string" => json!(rng.pick(&["k0", "k1", "k2", "", "a,b", "ü", "x x"]).to_string()),
        "bigint" => json!(*rng.pick(&[0i64, 1, -1, 7, i64::MAX, i64::MIN, 1_000_000])),
        "int" => json!(*rng.pick(&[0i64, 1, -3, i32::MAX as i64, i32::MIN as i64, 2_147_483_648])),
        "double" => json!(*rng.pick(&[0.0f64, -0.0, 1.5, 1e308, -1e308, 5e-324, 100.25])),
        "boolean" => json!(rng.chance(50)),
        _ => {
            if rng.chance(70) {
                json!(format!("2026-01-01 00:{:02}:{:02}", rng.below(3), rng.below(60)))
            } else if rng.chance(50) {
                json!(rng.pick(TIMESTAMPS).to_string())
            } else {
                json!(rng.pick(&["x", "2026-01-01T00:00:00Z", "2026-01-01 00:00:00+02:00"]).to_string())
            }
        }
    }
}

fn rows(rng: &mut Rng, count: usize) -> Json {
    Json::Array((0..count).map(|_| Json::Array(COLUMNS.iter().map(|(_, ty)| value(rng, ty)).collect())).collect())
}

fn scenario(seed: u64) -> String {
    let mut rng = Rng::new(seed);
    let schema: Vec<Json> = COLUMNS.iter().map(|(n, t)| json!([n, t])).collect();
    let mut steps = Vec::new();
    for _ in 0..1 + rng.below(6) {
        match rng.below(10) {
            0 => steps.push(json!({"restart": {}})),
            1 => steps.push(
                json!({"fail": *rng.pick(&["before_offsets_write", "after_offsets_write", "after_state_write", "after_sink_write"])}),
            ),
            2 => {
                let count = 1 + rng.below(4);
                steps.push(json!({"add": "clicks", "rows": rows(&mut rng, count)}));
            }
            _ => {
                let count = rng.below(8);
                steps.push(json!({"add": "events", "rows": rows(&mut rng, count)}));
            }
        }
        steps.push(json!({"run": {}}));
    }
    let doc = json!({
        "version": 1,
        "name": format!("fuzz-{seed}"),
        "sources": {"events": {"schema": schema.clone()}, "clicks": {"schema": schema}},
        "tables": {"dims": {"schema": [["k", "string"], ["x", "bigint"]], "rows": [["k0", 1], ["k1", 2], [null, 3]]}},
        "query": query(&mut rng),
        "output_mode": *rng.pick(&["append", "update", "complete"]),
        "steps": steps,
    });
    doc.to_string()
}

/// Runs one case: `Err` describes what went wrong.
fn check(seed: u64) -> Result<(), String> {
    let text = scenario(seed);
    if std::env::var_os("FUZZ_VERBOSE").is_some() {
        println!("case {seed}: {text}");
    }
    let outcome = run_text(&text);
    let internal = match &outcome {
        Err(e) => (e.kind == ErrorKind::Internal).then(|| e.message.clone()),
        Ok(out) => out.document.get("error").filter(|e| e["kind"] == "internal").map(|e| e.to_string()),
    };
    match internal {
        Some(message) => Err(format!("case {seed} gave an internal error: {message}\n{text}")),
        None => Ok(()),
    }
}

fn cases() -> std::ops::Range<u64> {
    let env = |name: &str| std::env::var(name).ok().and_then(|v| v.parse::<u64>().ok());
    if let Some(seed) = env("FUZZ_SEED") {
        return seed..seed + 1;
    }
    0..env("FUZZ_CASES").unwrap_or(2000)
}

#[cfg(not(target_arch = "wasm32"))]
#[test]
fn generated_scenarios_never_panic_overflow_or_fail_internally() {
    // Each case on its own thread with a main thread's 8 MiB: a debug build's frames are many times
    // a release build's, so a smaller stack would flag sqlparser's bounded nesting; recursion on
    // chain length overflows it all the same, and the wasm run checks wasm's 1 MiB stack.
    let mut failures = Vec::new();
    for seed in cases() {
        let run = std::thread::Builder::new().stack_size(8 << 20).spawn(move || check(seed)).map_err(|e| e.to_string());
        match run.and_then(|h| h.join().map_err(|_| format!("case {seed} panicked:\n{}", scenario(seed)))) {
            Ok(Ok(())) => {}
            Ok(Err(message)) | Err(message) => failures.push(message),
        }
    }
    assert!(failures.is_empty(), "{} failing cases; the first:\n{}", failures.len(), failures[0]);
}

#[cfg(target_arch = "wasm32")]
#[test]
fn generated_scenarios_never_panic_overflow_or_fail_internally() {
    // A panic aborts the wasm module (the test fails there); an internal error is counted.
    let failures: Vec<String> = cases().filter_map(|seed| check(seed).err()).collect();
    assert!(failures.is_empty(), "{} failing cases; the first:\n{}", failures.len(), failures[0]);
}

#[test]
fn the_generator_reaches_every_function_and_every_query_shape() {
    // Guards the fuzzer itself: a generator that stopped producing some shape would pass vacuously.
    let texts: Vec<String> = (0..2000).map(scenario).collect();
    let all = texts.join("\n");
    for name in Func::NAMES.iter().chain(AggFunc::NAMES) {
        assert!(all.contains(&format!("{name}(")), "no generated case calls {name}");
    }
    for needle in [
        "session_window(",
        "DEDUPLICATE",
        "JOIN dims",
        "JOIN STREAM clicks",
        "WITH c0",
        "UNION ALL",
        "\"restart\"",
        "\"fail\"",
        "date_format(",
        "NOT (NOT (",
    ] {
        assert!(all.contains(needle), "no generated case contains {needle}");
    }
}
