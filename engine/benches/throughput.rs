//! `cargo bench -p unbounded-engine [-- W1 ... W8] [EVENTS]`: the benchmark suite's table (see
//! `unbounded_engine::bench`). Speed targets live here (and in the CLI's `bench`), never in
//! timed tests.

fn main() -> std::process::ExitCode {
    // cargo adds `--bench`; the suite's own flags (`--wasm LABEL=FILE`) go through.
    let mut args: Vec<String> = std::env::args().skip(1).filter(|a| a != "--bench").collect();
    // `cargo test --benches` runs this too, without `--bench`: keep that quick.
    if !std::env::args().any(|a| a == "--bench") && !args.iter().any(|a| a.parse::<usize>().is_ok()) {
        args.push("2000".into());
    }
    unbounded_engine::bench::run_cli(&args)
}
