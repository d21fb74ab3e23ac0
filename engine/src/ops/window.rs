use std::sync::Arc;

use arrow_array::cast::AsArray;
use arrow_array::types::TimestampMicrosecondType;
use arrow_array::{ArrayRef, RecordBatch, RecordBatchOptions, StructArray, TimestampMicrosecondArray, UInt32Array};
use arrow_schema::SchemaRef;
use arrow_select::take::take;

use super::{BatchContext, Operator};
use crate::error::{Error, Result};
use crate::expr::Expr;
use crate::plan::logical::WindowSpec;
use crate::types::window_fields;

/// `window(ts, size, slide, start)`: appends the `{start, end}` of every window that covers
/// a row's time, repeating the row once per window (Spark's TimeWindowing).
pub struct WindowAssignOp {
    time: Expr,
    window: WindowSpec,
    schema: SchemaRef,
}

impl WindowAssignOp {
    pub fn new(time: Expr, window: WindowSpec, schema: SchemaRef) -> Self {
        WindowAssignOp { time, window, schema }
    }
}

/// The starts of the windows that contain `t`, latest first.
pub fn window_starts(t: i64, w: &WindowSpec, out: &mut Vec<i64>) {
    out.clear();
    let last_start = t - (t - w.start).rem_euclid(w.slide);
    let overlapping = (w.size + w.slide - 1) / w.slide;
    for k in 0..overlapping {
        let s = last_start - k * w.slide;
        if s <= t && t < s + w.size {
            out.push(s);
        }
    }
}

impl Operator for WindowAssignOp {
    fn name(&self) -> &'static str {
        "timeWindow"
    }

    fn on_batch(&mut self, mut inputs: Vec<RecordBatch>, _ctx: &mut BatchContext) -> Result<RecordBatch> {
        let batch = inputs.remove(0);
        let times = self.time.evaluate_to_array(&batch)?;
        let times = times.as_primitive_opt::<TimestampMicrosecondType>().ok_or_else(|| Error::internal("window() over a non-timestamp"))?;
        let mut rows = Vec::with_capacity(batch.num_rows());
        let mut starts = Vec::with_capacity(batch.num_rows());
        let mut scratch = Vec::new();
        for (i, t) in times.iter().enumerate() {
            let Some(t) = t else { continue };
            window_starts(t, &self.window, &mut scratch);
            for &s in &scratch {
                rows.push(i as u32);
                starts.push(s);
            }
        }
        let indices = UInt32Array::from(rows);
        let mut columns =
            batch.columns().iter().map(|c| take(c.as_ref(), &indices, None)).collect::<std::result::Result<Vec<ArrayRef>, _>>()?;
        let ends: Vec<i64> = starts.iter().map(|s| s + self.window.size).collect();
        let window = StructArray::new(
            window_fields(),
            vec![
                Arc::new(TimestampMicrosecondArray::from(starts)) as ArrayRef,
                Arc::new(TimestampMicrosecondArray::from(ends)) as ArrayRef,
            ],
            None,
        );
        columns.push(Arc::new(window));
        let options = RecordBatchOptions::new().with_row_count(Some(indices.len()));
        Ok(RecordBatch::try_new_with_options(self.schema.clone(), columns, &options)?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::time::MICROS_PER_SECOND as S;
    #[cfg(target_arch = "wasm32")]
    use wasm_bindgen_test::wasm_bindgen_test as test;

    fn starts(t: i64, size: i64, slide: i64, start: i64) -> Vec<i64> {
        let mut out = Vec::new();
        window_starts(t * S, &WindowSpec { size: size * S, slide: slide * S, start: start * S }, &mut out);
        out.into_iter().map(|s| s / S).collect()
    }

    #[test]
    fn tumbling_windows_include_their_start_and_exclude_their_end() {
        assert_eq!(starts(3, 10, 10, 0), vec![0]);
        assert_eq!(starts(10, 10, 10, 0), vec![10]);
        assert_eq!(starts(9, 10, 10, 0), vec![0]);
        assert_eq!(starts(-1, 10, 10, 0), vec![-10]);
    }

    #[test]
    fn sliding_windows_cover_a_row_several_times() {
        assert_eq!(starts(3, 10, 5, 0), vec![0, -5]);
        assert_eq!(starts(5, 10, 5, 0), vec![5, 0]);
        assert_eq!(starts(7, 10, 3, 0), vec![6, 3, 0]);
    }

    #[test]
    fn a_start_offset_shifts_windows() {
        assert_eq!(starts(3, 10, 5, 2), vec![2, -3]);
        assert_eq!(starts(1, 10, 5, 2), vec![-3, -8]);
    }
}
