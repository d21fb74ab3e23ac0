//! Exactly-once, as a property: 1,000 random scenarios (random data, a random query from a set
//! covering every stateful operator and both kinds of join, random `fail` and `restart` steps)
//! each run twice, with and without the failures and restarts. The transactional table must end
//! with the same rows, and the at-least-once file must hold the same writes plus one duplicate
//! of each batch that was written before its crash (`after_sink_write`), and nothing else.

use serde_json::{json, Value as Json};
use unbounded_engine::runtime::{FailurePoint, OutputMode, QueryDefinition, StreamingQuery};
use unbounded_engine::sql::Catalog;
use unbounded_engine::types::{Column, DataType, Schema};

/// SplitMix64: a seeded generator, so a failing case can be replayed from its seed.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e3779b97f4a7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58476d1ce4e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d049bb133111eb);
        z ^ (z >> 31)
    }

    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }

    fn range(&mut self, lo: i64, hi: i64) -> i64 {
        lo + self.below((hi - lo + 1) as u64) as i64
    }
}

struct QueryCase {
    sql: &'static str,
    mode: OutputMode,
    /// Reads both streams: each `add` feeds both, in event-time order, so that a restart (which
    /// resets each input's own watermark, as Spark does) cannot change when the watermark moves.
    two_streams: bool,
}

const QUERIES: &[QueryCase] = &[
    QueryCase {
        sql: "SELECT window(ts, '10 seconds') AS w, key, count(*) AS n, sum(v) AS total FROM STREAM events WATERMARK ts DELAY OF INTERVAL 5 SECONDS GROUP BY window(ts, '10 seconds'), key",
        mode: OutputMode::Append,
        two_streams: false,
    },
    QueryCase {
        sql: "SELECT window(ts, '10 seconds', '5 seconds') AS w, key, max(v) AS top FROM STREAM events WATERMARK ts DELAY OF INTERVAL 5 SECONDS GROUP BY window(ts, '10 seconds', '5 seconds'), key",
        mode: OutputMode::Update,
        two_streams: false,
    },
    QueryCase {
        sql: "SELECT key, session_window(ts, '5 seconds') AS s, count(*) AS n FROM STREAM events WATERMARK ts DELAY OF INTERVAL 5 SECONDS GROUP BY key, session_window(ts, '5 seconds')",
        mode: OutputMode::Append,
        two_streams: false,
    },
    QueryCase { sql: "SELECT key, count(*) AS n, collect_list(v) AS vs FROM STREAM events GROUP BY key", mode: OutputMode::Complete, two_streams: false },
    QueryCase { sql: "SELECT count(*) AS n, avg(v) AS mean FROM STREAM events", mode: OutputMode::Update, two_streams: false },
    QueryCase {
        sql: "SELECT key, v, ts FROM STREAM events WATERMARK ts DELAY OF INTERVAL 5 SECONDS DEDUPLICATE BY (key, ts)",
        mode: OutputMode::Append,
        two_streams: false,
    },
    QueryCase {
        sql: "SELECT key, ts FROM STREAM events WATERMARK ts DELAY OF INTERVAL 5 SECONDS DEDUPLICATE WITHIN WATERMARK BY (key)",
        mode: OutputMode::Append,
        two_streams: false,
    },
    QueryCase {
        sql: "SELECT window(e.ts, '10 seconds') AS w, s.site, count(*) AS n FROM STREAM events WATERMARK ts DELAY OF INTERVAL 5 SECONDS AS e JOIN sites s ON e.key = s.key GROUP BY window(e.ts, '10 seconds'), s.site",
        mode: OutputMode::Append,
        two_streams: false,
    },
    QueryCase { sql: "SELECT key, v FROM STREAM events WHERE v % 2 = 0 LIMIT 7", mode: OutputMode::Append, two_streams: false },
    QueryCase {
        sql: "SELECT e.key, e.v, c.ts2 FROM STREAM events WATERMARK ts DELAY OF INTERVAL 10 SECONDS AS e JOIN STREAM clicks WATERMARK ts2 DELAY OF INTERVAL 10 SECONDS AS c ON e.key = c.key AND c.ts2 BETWEEN e.ts AND e.ts + INTERVAL 15 SECONDS",
        mode: OutputMode::Append,
        two_streams: true,
    },
    QueryCase {
        sql: "SELECT e.key, e.v, c.ts2 FROM STREAM events WATERMARK ts DELAY OF INTERVAL 10 SECONDS AS e LEFT JOIN STREAM clicks WATERMARK ts2 DELAY OF INTERVAL 10 SECONDS AS c ON e.key = c.key AND c.ts2 BETWEEN e.ts AND e.ts + INTERVAL 15 SECONDS",
        mode: OutputMode::Append,
        two_streams: true,
    },
    QueryCase {
        sql: "SELECT window(e.ts, '10 seconds') AS w, e.key, count(*) AS n FROM STREAM events WATERMARK ts DELAY OF INTERVAL 10 SECONDS AS e JOIN STREAM clicks WATERMARK ts2 DELAY OF INTERVAL 10 SECONDS AS c ON e.key = c.key AND c.ts2 BETWEEN e.ts AND e.ts + INTERVAL 15 SECONDS GROUP BY window(e.ts, '10 seconds'), e.key",
        mode: OutputMode::Append,
        two_streams: true,
    },
];

#[derive(Debug, Clone)]
enum Step {
    Add(&'static str, Vec<Json>),
    Run,
    Fail(FailurePoint),
    Restart,
}

fn schema(cols: &[(&str, DataType)]) -> Schema {
    Schema::new(cols.iter().map(|(n, t)| Column { name: n.to_string(), data_type: t.clone() }).collect())
}

fn catalog() -> Catalog {
    let sites = Catalog::table_from_json(
        "sites",
        schema(&[("key", DataType::String), ("site", DataType::String)]),
        &[json!(["k0", "north"]), json!(["k1", "north"]), json!(["k2", "south"])],
    )
    .expect("the sites table is well formed");
    Catalog {
        sources: vec![
            ("events".into(), schema(&[("key", DataType::String), ("v", DataType::Int), ("ts", DataType::Timestamp)])),
            ("clicks".into(), schema(&[("key", DataType::String), ("ts2", DataType::Timestamp)])),
        ],
        tables: vec![sites],
    }
}

fn timestamp(seconds: i64) -> String {
    format!("2026-01-01 00:{:02}:{:02}", seconds / 60, seconds % 60)
}

fn random_steps(rng: &mut Rng, case: &QueryCase) -> Vec<Step> {
    let mut steps = Vec::new();
    let mut clock = 0i64;
    for _ in 0..rng.range(6, 16) {
        match rng.below(100) {
            0..=44 => {
                let n = rng.range(1, 5);
                let mut events = Vec::new();
                let mut clicks = Vec::new();
                for _ in 0..n {
                    clock += rng.range(0, 4);
                    // Single-stream queries get rows out of order, some late; joins in order.
                    let t = if case.two_streams { clock } else { (clock + rng.range(-15, 3)).max(0) };
                    let key = format!("k{}", rng.below(4));
                    events.push(json!([key, rng.range(0, 99), timestamp(t)]));
                    clicks.push(json!([format!("k{}", rng.below(4)), timestamp(clock + rng.range(0, 3))]));
                }
                steps.push(Step::Add("events", events));
                if case.two_streams {
                    steps.push(Step::Add("clicks", clicks));
                }
            }
            45..=74 => steps.push(Step::Run),
            75..=89 => steps.push(Step::Fail(FailurePoint::ALL[rng.below(4) as usize])),
            _ => steps.push(Step::Restart),
        }
    }
    steps.push(Step::Run);
    steps
}

struct Outcome {
    table: Vec<String>,
    /// Each write of the file: (batch id, its rows).
    file: Vec<(u64, Vec<Json>)>,
    /// Batches written to the sinks before they crashed, and so written again.
    replayed: Vec<u64>,
}

fn drive(case: &QueryCase, steps: &[Step]) -> Outcome {
    let definition = QueryDefinition { sql: case.sql.into(), output_mode: case.mode, catalog: catalog() };
    let mut q = StreamingQuery::start(definition).unwrap_or_else(|e| panic!("{}: {e}", case.sql));
    let mut replayed = Vec::new();
    for step in steps {
        match step {
            Step::Add(source, rows) => q.add_json(source, rows).unwrap(),
            Step::Run => {
                let report = q.process_all_available().unwrap_or_else(|e| panic!("{}: {e}", case.sql));
                replayed.extend(report.failures.iter().filter(|(_, p)| *p == FailurePoint::AfterSinkWrite).map(|(b, _)| *b));
            }
            Step::Fail(point) => q.inject_failure(*point),
            Step::Restart => q.restart().unwrap(),
        }
    }
    let mut table: Vec<String> = q.table().rows_json().iter().map(Json::to_string).collect();
    table.sort();
    let file = q.file().parts().iter().map(|p| (p.batch_id, p.rows_json())).collect();
    Outcome { table, file, replayed }
}

#[test]
fn a_thousand_random_failures_lose_nothing_and_duplicate_nothing() {
    let mut rng = Rng(0x5eed_2026);
    let (mut crashes, mut replays) = (0, 0);
    for case_no in 0..1000 {
        let seed = rng.next();
        let mut case_rng = Rng(seed);
        let case = &QUERIES[case_no % QUERIES.len()];
        let steps = random_steps(&mut case_rng, case);
        let calm: Vec<Step> = steps.iter().filter(|s| !matches!(s, Step::Fail(_) | Step::Restart)).cloned().collect();
        let broken = drive(case, &steps);
        let clean = drive(case, &calm);
        let context = || format!("case {case_no} (seed {seed:#x}), query {}\nsteps: {steps:?}", case.sql);
        assert_eq!(broken.table, clean.table, "the transactional table differs from the run without failures\n{}", context());
        let mut expected_file = Vec::new();
        for part in &clean.file {
            expected_file.push(part.clone());
            if broken.replayed.contains(&part.0) {
                expected_file.push(part.clone());
            }
        }
        assert_eq!(broken.file, expected_file, "the at-least-once file holds other duplicates than the replays\n{}", context());
        crashes += steps.iter().filter(|s| matches!(s, Step::Fail(_))).count();
        replays += broken.replayed.len();
    }
    // The property means something only if the cases really crashed and replayed.
    assert!(crashes > 500 && replays > 50, "only {crashes} crashes and {replays} replays in 1,000 cases");
}
