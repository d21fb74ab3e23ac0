//! `unbounded`: the command-line runner.
//!
//!   unbounded run FILE.json [--checkpoint DIR]
//!                                run a scenario, print the runner output document; with a
//!                                checkpoint directory, resume where an earlier run stopped
//!   unbounded explain FILE.json  print the incremental plan of a scenario's query
//!   unbounded pyspark FILE.json  print the equivalent PySpark Structured Streaming program
//!   unbounded bench [ROWS]       time the engine on a synthetic stream
//!   unbounded compare EXPECTED ACTUAL   compare two runner documents by FORMAT.md's rules

use std::process::ExitCode;

use unbounded_engine::query::QueryOptions;
use unbounded_engine::scenario::{self, Scenario};
use unbounded_engine::storage::SharedStorage;

const USAGE: &str =
    "usage: unbounded run FILE.json [--checkpoint DIR] | unbounded explain FILE.json | unbounded pyspark FILE.json | unbounded bench [ROWS] | unbounded compare EXPECTED.json ACTUAL.json";

fn read(path: &str) -> Result<String, String> {
    std::fs::read_to_string(path).map_err(|e| format!("cannot read {path}: {e}"))
}

#[cfg(not(target_arch = "wasm32"))]
fn open_dir(dir: &str) -> Result<SharedStorage, String> {
    unbounded_engine::storage::DirStorage::open(dir).map(SharedStorage::new).map_err(|e| e.to_string())
}

#[cfg(target_arch = "wasm32")]
fn open_dir(dir: &str) -> Result<SharedStorage, String> {
    Err(format!("--checkpoint {dir}: a directory checkpoint needs the native build"))
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match args.iter().map(String::as_str).collect::<Vec<_>>().as_slice() {
        ["run", path] | ["run", path, "--checkpoint", _] => {
            let options = match args.get(3).map(|dir| open_dir(dir)).transpose() {
                Ok(storage) => QueryOptions { storage: storage.unwrap_or_else(SharedStorage::memory), ..QueryOptions::default() },
                Err(e) => {
                    eprintln!("{e}");
                    return ExitCode::from(2);
                }
            };
            let text = match read(path) {
                Ok(t) => t,
                Err(e) => {
                    eprintln!("{e}");
                    return ExitCode::from(2);
                }
            };
            match Scenario::parse(&text).and_then(|s| scenario::run_with(&s, options)) {
                Ok(out) => {
                    println!("{}", serde_json::to_string_pretty(&out.document).unwrap_or_default());
                    if out.ok {
                        ExitCode::SUCCESS
                    } else {
                        ExitCode::from(1)
                    }
                }
                Err(e) => {
                    eprintln!("{path}: {e}");
                    ExitCode::from(2)
                }
            }
        }
        ["pyspark", path] => match read(path).and_then(|t| Scenario::parse(&t).map_err(|e| format!("{path}: {e}"))) {
            Ok(s) => {
                print!("{}", unbounded_engine::pyspark::pyspark(&s));
                ExitCode::SUCCESS
            }
            Err(e) => {
                eprintln!("{e}");
                ExitCode::from(2)
            }
        },
        ["explain", path] => {
            let result = read(path).and_then(|t| Scenario::parse(&t).map_err(|e| e.to_string())).and_then(|s| {
                let catalog = s.catalog().map_err(|e| e.to_string())?;
                let def = unbounded_engine::QueryDefinition { sql: s.query.clone(), output_mode: s.output_mode, catalog };
                unbounded_engine::StreamingQuery::start(def).map(|q| q.explain()).map_err(|e| e.to_string())
            });
            match result {
                Ok(plan) => {
                    print!("{plan}");
                    ExitCode::SUCCESS
                }
                Err(e) => {
                    eprintln!("{e}");
                    ExitCode::from(1)
                }
            }
        }
        ["compare", expected, actual] => {
            let load = |p: &str| read(p).and_then(|t| serde_json::from_str::<serde_json::Value>(&t).map_err(|e| format!("{p}: {e}")));
            match (load(expected), load(actual)) {
                (Ok(e), Ok(a)) => {
                    let diffs = unbounded_engine::conformance::compare(&e, &a);
                    diffs.iter().for_each(|d| println!("{d}"));
                    if diffs.is_empty() {
                        ExitCode::SUCCESS
                    } else {
                        ExitCode::from(1)
                    }
                }
                (Err(e), _) | (_, Err(e)) => {
                    eprintln!("{e}");
                    ExitCode::from(2)
                }
            }
        }
        ["bench"] => unbounded_engine::bench::run_cli(1_000_000),
        ["bench", rows] => match rows.parse() {
            Ok(n) => unbounded_engine::bench::run_cli(n),
            Err(_) => {
                eprintln!("{USAGE}");
                ExitCode::from(2)
            }
        },
        _ => {
            eprintln!("{USAGE}");
            ExitCode::from(2)
        }
    }
}
