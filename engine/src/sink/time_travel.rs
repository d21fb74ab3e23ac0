//! `SELECT ... FROM sink VERSION AS OF n`: a batch query over the transactional table as it was
//! at a version, run by the same operators as a stream, in one micro-batch.

use arrow_array::RecordBatch;
use serde_json::Value as Json;

use super::{batch_json, Sink, TableSink};
use crate::error::{Error, Position, Result};
use crate::ops::{BatchContext, Watermarks};
use crate::plan::logical::LogicalPlan;
use crate::plan::physical;
use crate::plan::OutputMode;
use crate::source::SourceLog;
use crate::sql::{analyze, Catalog};
use crate::types::Schema;

/// The result of a query over the table.
#[derive(Debug, Clone, PartialEq)]
pub struct TableQueryResult {
    pub columns: Vec<String>,
    pub rows: Vec<Json>,
    /// The version read (the latest when the query names none).
    pub version: Option<u64>,
}

/// Finds `VERSION AS OF <n>` (any case), blanks it out so every other token keeps its line and
/// column, and returns the version.
fn take_version(sql: &str) -> Result<(String, Option<u64>)> {
    let lower = sql.to_ascii_lowercase();
    let words: Vec<(usize, &str)> = lower.split_whitespace().map(|w| (w.as_ptr() as usize - lower.as_ptr() as usize, w)).collect();
    let mut out = sql.to_string();
    let mut version = None;
    for (k, w) in words.iter().enumerate() {
        if w.1 != "version" || words.get(k + 1).map(|x| x.1) != Some("as") || words.get(k + 2).map(|x| x.1) != Some("of") {
            continue;
        }
        let position = |offset: usize| {
            let before = &sql[..offset];
            Position {
                line: before.matches('\n').count() as u64 + 1,
                column: before.rsplit('\n').next().map_or(0, |l| l.chars().count()) as u64 + 1,
            }
        };
        let Some(&(at, number)) = words.get(k + 3) else {
            return Err(Error::parse("VERSION AS OF needs a version number, as in `VERSION AS OF 3`", Some(position(w.0))));
        };
        let digits = number.trim_end_matches(';');
        let n: u64 = digits
            .parse()
            .map_err(|_| Error::parse(format!("`{digits}` is not a table version: VERSION AS OF takes a number"), Some(position(at))))?;
        if version.is_some_and(|v| v != n) {
            return Err(Error::parse("a query can read one version of the table", Some(position(w.0))));
        }
        version = Some(n);
        let end = at + digits.len();
        out.replace_range(w.0..end, &" ".repeat(end - w.0));
    }
    Ok((out, version))
}

/// Runs an analysed plan as a batch query: every operator sees all rows of each source (what
/// `read` gives for its name) at once and emits everything (complete mode), in one execute.
pub(crate) fn execute_once(plan: &LogicalPlan, read: impl Fn(&str) -> Result<RecordBatch>) -> Result<RecordBatch> {
    let mut pipeline = physical::build(plan, OutputMode::Complete)?;
    let inputs = pipeline.sources.iter().map(|name| read(name)).collect::<Result<Vec<_>>>()?;
    let mut ctx = BatchContext {
        sources: &inputs,
        watermarks: Watermarks::default(),
        max_event_time: vec![None; pipeline.watermark_delays.len()],
        late_rows: Vec::new(),
        operator_watermarks: Vec::new(),
    };
    Ok(pipeline.root.execute(&mut ctx)?.rows)
}

/// Runs `sql` over `table` (whose rows have `schema`) as of the version the query names.
pub fn query_table(sql: &str, table: &TableSink, schema: &Schema) -> Result<TableQueryResult> {
    let (sql, version) = take_version(sql)?;
    let batches = table.batches_at(version)?;
    let catalog = Catalog { sources: vec![(table.name().to_string(), schema.clone())], tables: vec![] };
    let analyzed = analyze(&sql, &catalog)?;
    let mut log = SourceLog::new(table.name(), schema.clone());
    for batch in batches {
        log.append_batch(batch)?;
    }
    let read = log.read(0, log.latest_offset())?;
    let out = execute_once(&analyzed.plan, |_| Ok(read.rows.clone()))?;
    Ok(TableQueryResult { columns: analyzed.plan.schema().names(), rows: batch_json(&out), version })
}

#[cfg(test)]
mod tests {
    use super::*;
    #[cfg(target_arch = "wasm32")]
    use wasm_bindgen_test::wasm_bindgen_test as test;

    use crate::runtime::{OutputMode, QueryDefinition, StreamingQuery};
    use crate::types::{Column, DataType};
    use serde_json::json;

    #[test]
    fn the_table_keeps_its_versions_and_answers_version_as_of() {
        let schema = Schema::new(vec![
            Column { name: "device".into(), data_type: DataType::String },
            Column { name: "temp".into(), data_type: DataType::Double },
        ]);
        let mut q = StreamingQuery::start(QueryDefinition {
            sql: "SELECT device, count(*) AS n FROM STREAM readings GROUP BY device".into(),
            output_mode: OutputMode::Update,
            catalog: Catalog { sources: vec![("readings".into(), schema)], tables: vec![] },
        })
        .unwrap();
        q.add_json("readings", &[json!(["d1", 20.0]), json!(["d2", 21.0])]).unwrap();
        q.process_all_available().unwrap();
        q.add_json("readings", &[json!(["d1", 22.0]), json!(["d3", 23.0])]).unwrap();
        q.process_all_available().unwrap();
        let history: Vec<(u64, u64, &str, u64, u64)> =
            q.table().versions().iter().map(|v| (v.version, v.batch_id, v.operation.as_str(), v.rows_added, v.rows_updated)).collect();
        assert_eq!(history, vec![(0, 0, "MERGE", 2, 0), (1, 1, "MERGE", 1, 1)]);
        let at = |sql: &str| query_table(sql, q.table(), q.schema()).unwrap();
        let v0 = at("SELECT device, n FROM sink VERSION AS OF 0 ORDER BY device");
        assert_eq!(v0.rows, vec![json!(["d1", 1]), json!(["d2", 1])]);
        let now = at("SELECT device, n FROM sink ORDER BY device");
        assert_eq!(now.rows, vec![json!(["d1", 2]), json!(["d2", 1]), json!(["d3", 1])]);
        let total = at("SELECT sum(n) AS rows_seen FROM sink VERSION AS OF 1");
        assert_eq!((total.columns, total.rows), (vec!["rows_seen".to_string()], vec![json!([4])]));
        let err = query_table("SELECT * FROM sink VERSION AS OF 9", q.table(), q.schema()).unwrap_err();
        assert!(err.message.contains("versions 0 to 1; there is no version 9"), "{}", err.message);
    }

    #[test]
    fn version_as_of_reads_window_columns() {
        let schema = Schema::new(vec![
            Column { name: "device".into(), data_type: DataType::String },
            Column { name: "ts".into(), data_type: DataType::Timestamp },
        ]);
        let mut q = StreamingQuery::start(QueryDefinition {
            sql: "SELECT window(ts, '1 minute') AS w, count(*) AS n FROM STREAM readings GROUP BY window(ts, '1 minute')".into(),
            output_mode: OutputMode::Update,
            catalog: Catalog { sources: vec![("readings".into(), schema)], tables: vec![] },
        })
        .unwrap();
        q.add_json("readings", &[json!(["d1", "2026-01-01 00:00:10"]), json!(["d2", "2026-01-01 00:01:10"])]).unwrap();
        q.process_all_available().unwrap();
        q.add_json("readings", &[json!(["d1", "2026-01-01 00:00:20"])]).unwrap();
        q.process_all_available().unwrap();
        let at = |sql: &str| query_table(sql, q.table(), q.schema()).unwrap().rows;
        let first = json!({"start": "2026-01-01 00:00:00", "end": "2026-01-01 00:01:00"});
        assert_eq!(at("SELECT w, n FROM sink VERSION AS OF 0 WHERE n = 1 ORDER BY w").len(), 2);
        assert_eq!(at("SELECT w, n FROM sink WHERE n > 1"), vec![json!([first, 2])]);
    }

    #[test]
    fn version_as_of_is_taken_out_in_place() {
        let (sql, v) = take_version("SELECT *\nFROM sink VERSION AS OF 3 WHERE n > 1").unwrap();
        assert_eq!(v, Some(3));
        assert_eq!(sql, format!("SELECT *\nFROM sink {} WHERE n > 1", " ".repeat("VERSION AS OF 3".len())));
        let err = take_version("SELECT * FROM sink\nversion as of x").unwrap_err();
        assert_eq!(err.position, Some(Position { line: 2, column: 15 }));
        assert_eq!(take_version("SELECT version FROM sink").unwrap().1, None);
    }
}
