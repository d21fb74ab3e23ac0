use arrow_array::{ArrayRef, RecordBatch, RecordBatchOptions, UInt32Array};
use arrow_schema::SchemaRef;
use arrow_select::concat::concat_batches;
use arrow_select::filter::filter_record_batch;
use arrow_select::take::take;

use super::keys::encode_row;
use super::{join_too_large, too_many_rows, BatchContext, Operator, Watermarks, MAX_JOIN_OUTPUT_ROWS_PER_BATCH, MAX_JOIN_PAIRS_PER_BATCH};
use crate::error::{Error, Result};
use crate::expr::Expr;
use crate::hash::KeyHashMap;
use crate::plan::JoinKind;

/// A stream joined with a static table. The table is hashed on its join keys once, when the
/// query starts; each micro-batch only probes. Stateless, as in Spark.
pub struct StaticJoinOp {
    kind: JoinKind,
    stream_keys: Vec<Expr>,
    table: RecordBatch,
    index: KeyHashMap<Vec<u8>, Vec<u32>>,
    residual: Option<Expr>,
    stream_first: bool,
    schema: SchemaRef,
}

impl StaticJoinOp {
    pub fn new(
        kind: JoinKind,
        stream_keys: Vec<Expr>,
        table: RecordBatch,
        table_keys: &[Expr],
        residual: Option<Expr>,
        stream_first: bool,
        schema: SchemaRef,
    ) -> Result<Self> {
        let key_columns = table_keys.iter().map(|k| k.evaluate_to_array(&table)).collect::<Result<Vec<_>>>()?;
        let mut index: KeyHashMap<Vec<u8>, Vec<u32>> = KeyHashMap::default();
        let mut buf = Vec::new();
        for i in 0..table.num_rows() {
            if key_columns.is_empty() || encode_row(&key_columns, i, &mut buf) {
                index.entry(buf.clone()).or_default().push(i as u32);
            }
        }
        Ok(StaticJoinOp { kind, stream_keys, table, index, residual, stream_first, schema })
    }

    fn assemble(&self, stream: &RecordBatch, stream_rows: &[u32], table_rows: &[Option<u32>]) -> Result<RecordBatch> {
        let s_idx = UInt32Array::from(stream_rows.to_vec());
        let t_idx = UInt32Array::from(table_rows.to_vec());
        let s_cols = stream.columns().iter().map(|c| take(c.as_ref(), &s_idx, None)).collect::<std::result::Result<Vec<_>, _>>()?;
        let t_cols = self.table.columns().iter().map(|c| take(c.as_ref(), &t_idx, None)).collect::<std::result::Result<Vec<_>, _>>()?;
        let columns: Vec<ArrayRef> =
            if self.stream_first { s_cols.into_iter().chain(t_cols).collect() } else { t_cols.into_iter().chain(s_cols).collect() };
        let options = RecordBatchOptions::new().with_row_count(Some(stream_rows.len()));
        Ok(RecordBatch::try_new_with_options(self.schema.clone(), columns, &options)?)
    }
}

impl StaticJoinOp {
    /// Assembles one chunk of candidate pairs, keeps those that pass the residual condition, and
    /// notes which stream rows found a match.
    fn emit(&self, stream: &RecordBatch, rows: &mut Chunk, out: &mut Output) -> Result<()> {
        if rows.stream.is_empty() {
            return Ok(());
        }
        let batch = self.assemble(stream, &rows.stream, &rows.table)?;
        let batch = match &self.residual {
            None => {
                rows.stream.iter().for_each(|&i| set(&mut out.matched, i));
                batch
            }
            Some(residual) => {
                let pass = residual.evaluate_predicate(&batch)?;
                rows.stream.iter().enumerate().filter(|(k, _)| pass.value(*k)).for_each(|(_, &i)| set(&mut out.matched, i));
                filter_record_batch(&batch, &pass)?
            }
        };
        out.rows += batch.num_rows() as u64;
        if out.rows > MAX_JOIN_OUTPUT_ROWS_PER_BATCH {
            return Err(too_many_rows("stream-static", out.rows));
        }
        out.batches.push(batch);
        rows.stream.clear();
        rows.table.clear();
        Ok(())
    }
}

/// How many candidate pairs are assembled (and checked against the residual condition) at once.
const CHUNK: usize = 1 << 16;

const ADVICE: &str = "Join on an equality condition between the stream and the table (ON s.k = t.k) on a key with many values, \
    so each stream row meets few table rows; or feed fewer rows per micro-batch.";

/// Candidate pairs waiting to be assembled: stream row and table row indices.
#[derive(Default)]
struct Chunk {
    stream: Vec<u32>,
    table: Vec<Option<u32>>,
}

struct Output {
    batches: Vec<RecordBatch>,
    rows: u64,
    /// Which stream rows matched a table row.
    matched: Vec<bool>,
}

fn set(flags: &mut [bool], i: u32) {
    if let Some(f) = flags.get_mut(i as usize) {
        *f = true;
    }
}

impl Operator for StaticJoinOp {
    fn name(&self) -> &'static str {
        "streamStaticJoin"
    }

    fn on_batch(&mut self, inputs: Vec<RecordBatch>, _watermarks: Watermarks, _ctx: &mut BatchContext) -> Result<RecordBatch> {
        let stream = inputs.into_iter().next().ok_or_else(|| Error::internal("a stream-static join needs its stream input"))?;
        let keys = self.stream_keys.iter().map(|k| k.evaluate_to_array(&stream)).collect::<Result<Vec<_>>>()?;
        // Each stream row's table matches, counted before any pair is built: without an equality
        // key every stream row meets the whole table.
        let mut buf = Vec::new();
        let mut matches: Vec<&[u32]> = Vec::with_capacity(stream.num_rows());
        let mut pairs = 0u64;
        for i in 0..stream.num_rows() {
            let m = if keys.is_empty() || encode_row(&keys, i, &mut buf) { self.index.get(buf.as_slice()) } else { None };
            let m = m.map_or(&[][..], Vec::as_slice);
            pairs = pairs.saturating_add(m.len() as u64);
            matches.push(m);
        }
        if pairs > MAX_JOIN_PAIRS_PER_BATCH {
            let what = if self.stream_keys.is_empty() {
                "stream rows x table rows: the join has no equality key"
            } else {
                "stream rows x table rows with the same key"
            };
            return Err(join_too_large(
                format!("the stream-static join would consider {pairs} candidate pairs ({what}) in this micro-batch, over the limit of {MAX_JOIN_PAIRS_PER_BATCH}"),
                ADVICE,
            ));
        }
        // Without a residual condition every candidate is an output row.
        if self.residual.is_none() && pairs > MAX_JOIN_OUTPUT_ROWS_PER_BATCH {
            return Err(too_many_rows("stream-static", pairs));
        }
        let mut out = Output { batches: Vec::new(), rows: 0, matched: vec![false; stream.num_rows()] };
        let mut chunk = Chunk::default();
        for (i, m) in matches.iter().enumerate() {
            for &t in m.iter() {
                chunk.stream.push(i as u32);
                chunk.table.push(Some(t));
                if chunk.stream.len() == CHUNK {
                    self.emit(&stream, &mut chunk, &mut out)?;
                }
            }
        }
        self.emit(&stream, &mut chunk, &mut out)?;
        // A stream row no pair passed for is NULL-padded in a LEFT join.
        if self.kind == JoinKind::LeftOuter {
            let unmatched: Vec<u32> = out.matched.iter().enumerate().filter(|(_, m)| !**m).map(|(i, _)| i as u32).collect();
            let none = vec![None; unmatched.len()];
            out.batches.push(self.assemble(&stream, &unmatched, &none)?);
        }
        if out.batches.is_empty() {
            return self.assemble(&stream, &[], &[]);
        }
        Ok(concat_batches(&self.schema, &out.batches)?)
    }
}

#[cfg(test)]
mod tests {
    use serde_json::{json, Value as Json};

    use crate::runtime::{OutputMode, QueryDefinition, StreamingQuery};
    use crate::sql::Catalog;
    use crate::types::{Column, DataType, Schema};
    use crate::ErrorKind;
    #[cfg(target_arch = "wasm32")]
    use wasm_bindgen_test::wasm_bindgen_test as test;

    fn schema(v: &str) -> Schema {
        Schema::new(vec![Column { name: "k".into(), data_type: DataType::Int }, Column { name: v.into(), data_type: DataType::Int }])
    }

    fn rows(n: usize, key: impl Fn(usize) -> i64) -> Vec<Json> {
        (0..n).map(|i| json!([key(i), i])).collect()
    }

    fn query(sql: &str, table_rows: &[Json]) -> StreamingQuery {
        let table = Catalog::table_from_json("t", schema("v"), table_rows).unwrap();
        let catalog = Catalog { sources: vec![("s".into(), schema("x"))], tables: vec![table] };
        StreamingQuery::start(QueryDefinition { sql: sql.into(), output_mode: OutputMode::Append, catalog }).unwrap()
    }

    fn output(q: &mut StreamingQuery) -> usize {
        q.process_all_available().unwrap().batches.iter().map(|b| b.rows.num_rows()).sum()
    }

    #[test]
    fn a_cross_product_over_the_budget_is_refused_before_it_is_built() {
        let mut q = query("SELECT s.x, t.v FROM STREAM s JOIN t ON s.x >= t.v", &rows(4_000, |i| i as i64));
        q.add_json("s", &rows(4_000, |i| i as i64)).unwrap();
        let err = q.process_all_available().unwrap_err();
        assert_eq!(err.kind, ErrorKind::Runtime, "{err}");
        assert!(err.message.contains("16000000 candidate pairs") && err.message.contains("no equality key"), "{err}");
        assert!(err.message.contains("limit of 10000000") && err.message.contains("ON s.k = t.k"), "{err}");
    }

    #[test]
    fn an_output_over_the_row_limit_is_refused_before_it_is_built() {
        let mut q = query("SELECT s.x, t.v FROM STREAM s JOIN t ON s.k = t.k", &rows(2_000, |_| 1));
        q.add_json("s", &rows(1_001, |_| 1)).unwrap();
        let err = q.process_all_available().unwrap_err();
        assert!(err.message.contains("at least 2002000 rows"), "{err}");
    }

    #[test]
    fn pairs_past_one_chunk_keep_exactly_the_matches() {
        // 300 x 300 candidates = 90,000: more than one chunk. x >= v keeps 300 * 301 / 2.
        let mut q = query("SELECT s.x, t.v FROM STREAM s JOIN t ON s.x >= t.v", &rows(300, |_| 0));
        q.add_json("s", &rows(300, |_| 0)).unwrap();
        assert_eq!(output(&mut q), 45_150);
        // In a LEFT join a stream row that passes with no table row is NULL-padded once.
        let mut q = query("SELECT s.x, t.v FROM STREAM s LEFT JOIN t ON s.k = t.k AND s.x > t.v", &rows(300, |_| 0));
        q.add_json("s", &rows(300, |_| 0)).unwrap();
        assert_eq!(output(&mut q), 299 * 300 / 2 + 1, "x = 0 matches nothing and is padded");
    }
}
