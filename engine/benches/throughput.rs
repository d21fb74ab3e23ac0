//! `cargo bench -p unbounded-engine`: rows per second through the engine on synthetic streams.
//! Speed targets live here (and in the CLI's `bench`), never in timed tests.

fn main() {
    // `cargo test --benches` runs this too; keep that quick.
    let rows = if std::env::args().any(|a| a == "--bench") { 2_000_000 } else { 20_000 };
    unbounded_engine::bench::run_cli(rows);
}
