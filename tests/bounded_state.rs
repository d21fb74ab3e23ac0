//! "Watermarking limits state": a long run over advancing event time keeps the state of a
//! watermarked windowed aggregation flat, while the same aggregation without a watermark grows
//! with every new window.

use unbounded_engine::bench::{readings, readings_schema};
use unbounded_engine::runtime::{OutputMode, QueryDefinition, StreamingQuery};
use unbounded_engine::sql::Catalog;

const ROWS: usize = 2_000_000;
const BATCH: usize = 100_000;

/// Runs 2 M readings (50 devices, 1 ms apart: 2,000 s of event time) and returns the state rows
/// after each data batch.
fn state_after_each_batch(sql: &str, mode: OutputMode) -> Vec<u64> {
    let catalog = Catalog { sources: vec![("readings".into(), readings_schema())], tables: vec![] };
    let mut q = StreamingQuery::start(QueryDefinition { sql: sql.into(), output_mode: mode, catalog }).unwrap();
    let mut state = Vec::new();
    for offset in (0..ROWS).step_by(BATCH) {
        q.add_batch("readings", readings(offset, BATCH)).unwrap();
        let run = q.process_all_available().unwrap();
        state.push(run.batches.last().map(|b| b.state_rows).unwrap_or(0));
    }
    state
}

#[test]
fn a_watermark_keeps_state_flat_and_without_one_it_grows() {
    let bounded = state_after_each_batch(
        "SELECT window(ts, '10 seconds') AS w, device, count(*) AS n FROM STREAM readings WATERMARK ts DELAY OF INTERVAL 5 SECONDS GROUP BY window(ts, '10 seconds'), device",
        OutputMode::Append,
    );
    // 50 devices x the few windows the watermark has not passed yet.
    assert!(bounded.iter().all(|&s| s <= 50 * 3), "state stays bounded: {bounded:?}");
    let (first, last) = (bounded[2], bounded[bounded.len() - 1]);
    assert_eq!(first, last, "and flat: {bounded:?}");

    let unbounded = state_after_each_batch(
        "SELECT window(ts, '10 seconds') AS w, device, count(*) AS n FROM STREAM readings GROUP BY window(ts, '10 seconds'), device",
        OutputMode::Update,
    );
    assert!(unbounded.windows(2).all(|w| w[1] > w[0]), "grows every batch: {unbounded:?}");
    assert_eq!(*unbounded.last().unwrap(), 50 * 200, "one group per device per 10 s window of the 2,000 s");
}
