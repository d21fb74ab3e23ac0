//! Throughput benchmarks of the engine on synthetic streams, shared by `cargo bench` and the
//! CLI's `bench`. Speed targets live here, never in timed tests.

use std::sync::Arc;

use arrow_array::{Float64Array, Int32Array, RecordBatch, StringArray, TimestampMicrosecondArray};

use crate::runtime::{OutputMode, QueryDefinition, StreamingQuery};
use crate::sql::Catalog;
use crate::types::{Column, DataType, Schema};

pub fn readings_schema() -> Schema {
    Schema::new(vec![
        Column { name: "device".into(), data_type: DataType::String },
        Column { name: "temp".into(), data_type: DataType::Double },
        Column { name: "humidity".into(), data_type: DataType::Int },
        Column { name: "ts".into(), data_type: DataType::Timestamp },
    ])
}

/// `n` synthetic sensor readings starting at row `offset`.
pub fn readings(offset: usize, n: usize) -> RecordBatch {
    let devices: Vec<String> = (offset..offset + n).map(|i| format!("s-{:02}", i % 50)).collect();
    let temps: Vec<f64> = (offset..offset + n).map(|i| 15.0 + (i % 200) as f64 / 10.0).collect();
    let hum: Vec<i32> = (offset..offset + n).map(|i| (i % 100) as i32).collect();
    let ts: Vec<i64> = (offset..offset + n).map(|i| 1_767_225_600_000_000 + i as i64 * 1000).collect();
    RecordBatch::try_new(
        readings_schema().to_arrow(),
        vec![
            Arc::new(StringArray::from(devices)),
            Arc::new(Float64Array::from(temps)),
            Arc::new(Int32Array::from(hum)),
            Arc::new(TimestampMicrosecondArray::from(ts)),
        ],
    )
    .expect("synthetic batch matches its schema")
}

pub const FILTER_PROJECT: &str = "SELECT device, round(temp * 1.8 + 32, 2) AS temp_f, upper(device) AS d FROM STREAM readings WHERE temp >= 20.0 AND humidity IS NOT NULL";

/// Runs `rows` rows through a filter-project query in micro-batches of `batch` rows;
/// returns (rows out, seconds).
pub fn filter_project(rows: usize, batch: usize) -> (u64, f64) {
    let catalog = Catalog { sources: vec![("readings".into(), readings_schema())], tables: vec![] };
    let mut q = StreamingQuery::start(QueryDefinition { sql: FILTER_PROJECT.into(), output_mode: OutputMode::Append, catalog })
        .expect("bench query starts");
    let inputs: Vec<RecordBatch> = (0..rows).step_by(batch).map(|o| readings(o, batch.min(rows - o))).collect();
    #[cfg(not(target_arch = "wasm32"))]
    let start = std::time::Instant::now();
    let mut out = 0;
    for b in inputs {
        q.add_batch("readings", b).expect("bench batch fits");
        for r in q.process_all_available().expect("bench batch runs").batches {
            out += r.rows.num_rows() as u64;
        }
    }
    #[cfg(not(target_arch = "wasm32"))]
    let secs = start.elapsed().as_secs_f64();
    #[cfg(target_arch = "wasm32")]
    let secs = 0.0;
    (out, secs)
}

pub fn run_cli(rows: usize) -> std::process::ExitCode {
    for batch in [1_000, 10_000, 100_000] {
        let (out, secs) = filter_project(rows, batch);
        println!(
            "filter+project  rows={rows:>9}  batch={batch:>6}  out={out:>9}  {secs:>7.3}s  {:>12.0} rows/s",
            rows as f64 / secs.max(1e-9)
        );
    }
    std::process::ExitCode::SUCCESS
}
