//! `unbounded`: the command-line runner.
//!
//!   unbounded run FILE.json [--checkpoint DIR]
//!                                run a scenario, print the runner output document; with a
//!                                checkpoint directory, resume where an earlier run stopped
//!   unbounded explain FILE.json  print the incremental plan of a scenario's query
//!   unbounded pyspark FILE.json  print the equivalent PySpark Structured Streaming program (for a
//!                                pipeline, a script that writes and runs its SDP project)
//!   unbounded bench [W1 ... W8] [EVENTS]
//!                                run the benchmark workloads (all, or those named; EVENTS
//!                                replaces each one's default size) and print their table
//!   unbounded compare EXPECTED ACTUAL   compare two runner documents by FORMAT.md's rules
//!
//! Exit codes: 0 done (or conforms), 1 the query failed or was refused (or does not conform),
//! 2 bad input (a file that is not a valid scenario, too large, unreadable; bad arguments),
//! 3 a bug in Unbounded (a panic, reported instead of aborting).

use std::process::ExitCode;

use unbounded_engine::runtime::QueryOptions;
use unbounded_engine::scenario::{self, Scenario};
use unbounded_engine::storage::SharedStorage;

const USAGE: &str =
    "usage: unbounded run FILE.json [--checkpoint DIR] | unbounded explain FILE.json | unbounded pyspark FILE.json | unbounded bench [W1 ... W8] [EVENTS] | unbounded compare EXPECTED.json ACTUAL.json";

/// The largest runner document `compare` reads (a document holds every row a run emitted).
const MAX_DOCUMENT_BYTES: u64 = 256 * 1024 * 1024;

/// Reads a text file of at most `limit` bytes, refusing a larger one before reading it.
fn read_limited(path: &str, limit: u64) -> Result<String, String> {
    use std::io::Read;
    let file = std::fs::File::open(path).map_err(|e| format!("cannot read {path}: {e}"))?;
    let mut bytes = Vec::new();
    // One byte past the limit tells a file that is too large without reading all of it.
    file.take(limit + 1).read_to_end(&mut bytes).map_err(|e| format!("cannot read {path}: {e}"))?;
    if bytes.len() as u64 > limit {
        return Err(format!("{path}: the file is larger than {limit} bytes, the limit"));
    }
    String::from_utf8(bytes).map_err(|e| format!("{path}: the file is not UTF-8 text (byte {})", e.utf8_error().valid_up_to()))
}

fn read(path: &str) -> Result<String, String> {
    read_limited(path, scenario::MAX_SCENARIO_BYTES as u64)
}

#[cfg(not(target_arch = "wasm32"))]
fn open_dir(dir: &str) -> Result<SharedStorage, String> {
    unbounded_engine::storage::DirStorage::open(dir).map(SharedStorage::new).map_err(|e| e.to_string())
}

#[cfg(target_arch = "wasm32")]
fn open_dir(dir: &str) -> Result<SharedStorage, String> {
    Err(format!("--checkpoint {dir}: a directory checkpoint needs the native build"))
}

/// The exit code of a panic: a bug, never the input's fault, so neither 1 nor 2.
const EXIT_BUG: i32 = 3;

fn main() -> ExitCode {
    // Release builds abort on a panic: say what happened and exit with a code, not a signal.
    std::panic::set_hook(Box::new(|info| {
        eprintln!("internal error (a bug in Unbounded, please report it with the input file): {info}");
        std::process::exit(EXIT_BUG);
    }));
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
            let pipeline = unbounded_engine::pipeline::scenario::PipelineScenario::parse_if_pipeline(&text);
            let result = match pipeline {
                // A pipeline runs in memory: its checkpoints do not outlive the run yet.
                Ok(Some(_)) if args.len() > 2 => Err(unbounded_engine::Error::invalid_input(
                    "--checkpoint is not supported for a pipeline (version 2) scenario yet: run it without",
                )),
                Ok(Some(p)) => unbounded_engine::pipeline::scenario::run(&p),
                Ok(None) => Scenario::parse(&text).and_then(|s| scenario::run_with(&s, options)),
                Err(e) => Err(e),
            };
            match result {
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
        // A version 1 file gives one PySpark program; a pipeline, the script that lays out and runs its SDP project.
        ["pyspark", path] => match read(path).and_then(|t| pyspark_of(&t).map_err(|e| format!("{path}: {e}"))) {
            Ok(program) => {
                print!("{program}");
                ExitCode::SUCCESS
            }
            Err(e) => {
                eprintln!("{e}");
                ExitCode::from(2)
            }
        },
        ["explain", path] => {
            let s = match read(path).and_then(|t| Scenario::parse(&t).map_err(|e| format!("{path}: {e}"))) {
                Ok(s) => s,
                Err(e) => {
                    eprintln!("{e}");
                    return ExitCode::from(2);
                }
            };
            let result = s.catalog().and_then(|catalog| {
                let def = unbounded_engine::QueryDefinition { sql: s.query.clone(), output_mode: s.output_mode, catalog };
                unbounded_engine::StreamingQuery::start(def).map(|q| q.explain())
            });
            match result {
                Ok(plan) => {
                    print!("{plan}");
                    ExitCode::SUCCESS
                }
                Err(e) => {
                    eprintln!("{path}: {e}");
                    ExitCode::from(1)
                }
            }
        }
        ["compare", expected, actual] => {
            let load = |p: &str| {
                read_limited(p, MAX_DOCUMENT_BYTES)
                    .and_then(|t| serde_json::from_str::<serde_json::Value>(&t).map_err(|e| format!("{p}: {e}")))
            };
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
        ["bench", rest @ ..] => unbounded_engine::bench::run_cli(rest),
        _ => {
            eprintln!("{USAGE}");
            ExitCode::from(2)
        }
    }
}

fn pyspark_of(text: &str) -> Result<String, String> {
    if let Some(p) = unbounded_engine::pipeline::scenario::PipelineScenario::parse_if_pipeline(text).map_err(|e| e.to_string())? {
        return Ok(unbounded_engine::pyspark::pipeline::pipeline_bundle(&p));
    }
    Scenario::parse(text).map(|s| unbounded_engine::pyspark::pyspark(&s)).map_err(|e| e.to_string())
}
