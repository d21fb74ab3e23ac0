//! Complexity tests for the operators: sizes where the quadratic code they replace takes minutes
//! (10^10 steps), so a regression shows as a test that does not finish, while the linear code
//! takes a second or two even in a debug build. No timing is asserted.

use serde_json::{json, Value as Json};
use unbounded_engine::runtime::{OutputMode, QueryDefinition, StreamingQuery};
use unbounded_engine::sql::Catalog;
use unbounded_engine::types::{Column, DataType, Schema};

const N: usize = 100_000;

fn schema(columns: &[(&str, DataType)]) -> Schema {
    Schema::new(columns.iter().map(|(n, t)| Column { name: n.to_string(), data_type: t.clone() }).collect())
}

fn start(sql: &str, mode: OutputMode, sources: Vec<(&str, Schema)>) -> StreamingQuery {
    let catalog = Catalog { sources: sources.into_iter().map(|(n, s)| (n.to_string(), s)).collect(), tables: vec![] };
    StreamingQuery::start(QueryDefinition { sql: sql.into(), output_mode: mode, catalog }).unwrap()
}

fn output_rows(q: &mut StreamingQuery) -> usize {
    q.process_all_available().unwrap().batches.iter().map(|b| b.rows.num_rows()).sum()
}

#[test]
fn a_stream_stream_join_of_1e5_by_1e5_rows_that_never_match_is_linear() {
    // Every new left row was compared with every new right row: 10^10 key comparisons.
    let side = schema(&[("k", DataType::BigInt), ("v", DataType::Int)]);
    let mut q =
        start("SELECT a.v, b.v FROM STREAM a JOIN STREAM b ON a.k = b.k", OutputMode::Append, vec![("a", side.clone()), ("b", side)]);
    let rows = |offset: usize| -> Vec<Json> { (0..N).map(|i| json!([(offset + i) as i64, 1])).collect() };
    q.add_json("a", &rows(0)).unwrap();
    q.add_json("b", &rows(N)).unwrap();
    assert_eq!(output_rows(&mut q), 0);
    // And a later batch probes the 2 x 10^5 buffered rows by key: one match.
    q.add_json("a", &[json!([(N + 7) as i64, 2])]).unwrap();
    assert_eq!(output_rows(&mut q), 1);
}

#[test]
fn collect_set_and_approx_count_distinct_of_1e5_distinct_values_are_linear() {
    // Each new value was looked for in a list of all values before it: 5 x 10^9 comparisons.
    let mut q = start(
        "SELECT k, approx_count_distinct(v) AS n, size(collect_set(v)) AS s, size(collect_list(v)) AS l FROM s GROUP BY k",
        OutputMode::Complete,
        vec![("s", schema(&[("k", DataType::String), ("v", DataType::BigInt)]))],
    );
    let rows: Vec<Json> = (0..N).map(|i| json!(["a", i as i64])).collect();
    q.add_json("s", &rows).unwrap();
    q.process_all_available().unwrap();
    // A second batch of the same values adds none, and the sets read back from state (the
    // index rebuilt once) stay linear.
    q.restart().unwrap();
    q.add_json("s", &rows).unwrap();
    let run = q.process_all_available().unwrap();
    let result = unbounded_engine::scenario::rows_json(&run.batches[0].rows);
    // approx_count_distinct is Spark's estimate: 95546 for the BIGINTs 0..10^5, as Spark 4.3 says.
    assert_eq!(result, vec![json!(["a", 95546, N, 2 * N])]);
}
