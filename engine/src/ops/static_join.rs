use std::collections::HashMap;

use arrow_array::{ArrayRef, RecordBatch, RecordBatchOptions, UInt32Array};
use arrow_schema::SchemaRef;
use arrow_select::take::take;

use super::keys::encode_row;
use super::{BatchContext, Operator};
use crate::error::Result;
use crate::expr::Expr;
use crate::plan::JoinKind;

/// A stream joined with a static table. The table is hashed on its join keys once, when the
/// query starts; each micro-batch only probes. Stateless, as in Spark.
pub struct StaticJoinOp {
    kind: JoinKind,
    stream_keys: Vec<Expr>,
    table: RecordBatch,
    index: HashMap<Vec<u8>, Vec<u32>>,
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
        let mut index: HashMap<Vec<u8>, Vec<u32>> = HashMap::new();
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

impl Operator for StaticJoinOp {
    fn name(&self) -> &'static str {
        "streamStaticJoin"
    }

    fn on_batch(&mut self, mut inputs: Vec<RecordBatch>, _ctx: &mut BatchContext) -> Result<RecordBatch> {
        let stream = inputs.remove(0);
        let keys = self.stream_keys.iter().map(|k| k.evaluate_to_array(&stream)).collect::<Result<Vec<_>>>()?;
        let mut s_rows: Vec<u32> = Vec::with_capacity(stream.num_rows());
        let mut t_rows: Vec<Option<u32>> = Vec::with_capacity(stream.num_rows());
        let mut buf = Vec::new();
        for i in 0..stream.num_rows() {
            if keys.is_empty() || encode_row(&keys, i, &mut buf) {
                if let Some(matches) = self.index.get(buf.as_slice()) {
                    for &m in matches {
                        s_rows.push(i as u32);
                        t_rows.push(Some(m));
                    }
                }
            }
        }
        let Some(residual) = &self.residual else {
            if self.kind == JoinKind::LeftOuter {
                add_unmatched(stream.num_rows(), &mut s_rows, &mut t_rows);
            }
            return self.assemble(&stream, &s_rows, &t_rows);
        };
        // Candidates must also pass the residual condition; a stream row none passes is
        // NULL-padded in a LEFT join.
        let candidates = self.assemble(&stream, &s_rows, &t_rows)?;
        let pass = residual.evaluate_predicate(&candidates)?;
        let (mut s_keep, mut t_keep) = (Vec::new(), Vec::new());
        for k in 0..s_rows.len() {
            if pass.value(k) {
                s_keep.push(s_rows[k]);
                t_keep.push(t_rows[k]);
            }
        }
        if self.kind == JoinKind::LeftOuter {
            add_unmatched(stream.num_rows(), &mut s_keep, &mut t_keep);
        }
        self.assemble(&stream, &s_keep, &t_keep)
    }
}

fn add_unmatched(n: usize, s_rows: &mut Vec<u32>, t_rows: &mut Vec<Option<u32>>) {
    let mut matched = vec![false; n];
    s_rows.iter().for_each(|&i| matched[i as usize] = true);
    for (i, m) in matched.iter().enumerate() {
        if !m {
            s_rows.push(i as u32);
            t_rows.push(None);
        }
    }
}
