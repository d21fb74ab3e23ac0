use std::sync::Arc;

use arrow_array::cast::AsArray;
use arrow_array::types::TimestampMicrosecondType;
use arrow_array::{ArrayRef, RecordBatch, RecordBatchOptions, StructArray, TimestampMicrosecondArray, UInt32Array};
use arrow_schema::SchemaRef;
use arrow_select::take::take;

use super::{BatchContext, Operator, Watermarks};
use crate::error::{Error, Result};
use crate::expr::Expr;
use crate::plan::logical::WindowSpec;
use crate::sql::interval::Interval;
use crate::time::{datetime_overflow, format_timestamp, in_range};
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

/// The starts of the windows that contain `t`, latest first. None when a window of `t` would
/// start or end outside the TIMESTAMP range (or the spec is degenerate): the arithmetic runs in
/// 128 bits, so no bound wraps.
pub fn window_starts(t: i64, w: &WindowSpec, out: &mut Vec<i64>) -> Option<()> {
    out.clear();
    // Within 2^61 of the epoch (every real timestamp and interval) no step below can wrap in 64
    // bits; 128-bit division costs several times more per row.
    const SAFE: i64 = 1 << 61;
    if w.size > 0
        && w.slide > 0
        && t.unsigned_abs() < SAFE as u64
        && w.size < SAFE
        && w.slide < SAFE
        && w.start.unsigned_abs() < SAFE as u64
    {
        let last_start = t - (t - w.start).rem_euclid(w.slide);
        let overlapping = (w.size + w.slide - 1) / w.slide;
        for k in 0..overlapping {
            let s = last_start - k * w.slide;
            if s <= t && t < s + w.size {
                in_range(s)?;
                in_range(s + w.size)?;
                out.push(s);
            }
        }
        return Some(());
    }
    window_starts_wide(t, w, out)
}

/// [`window_starts`] in 128 bits, for times and intervals near the ends of `i64`.
fn window_starts_wide(t: i64, w: &WindowSpec, out: &mut Vec<i64>) -> Option<()> {
    out.clear();
    let (t, size, slide, start) = (t as i128, w.size as i128, w.slide as i128, w.start as i128);
    if size <= 0 || slide <= 0 {
        return None;
    }
    let last_start = t - (t - start).rem_euclid(slide);
    let overlapping = (size + slide - 1) / slide;
    for k in 0..overlapping {
        let s = last_start - k * slide;
        if s <= t && t < s + size {
            let s = i64::try_from(s).ok().and_then(in_range)?;
            i64::try_from(s as i128 + size).ok().and_then(in_range)?;
            out.push(s);
        }
    }
    Some(())
}

impl Operator for WindowAssignOp {
    fn name(&self) -> &'static str {
        "timeWindow"
    }

    fn on_batch(&mut self, mut inputs: Vec<RecordBatch>, _watermarks: Watermarks, _ctx: &mut BatchContext) -> Result<RecordBatch> {
        let batch = inputs.remove(0);
        let times = self.time.evaluate_to_array(&batch)?;
        let times = times.as_primitive_opt::<TimestampMicrosecondType>().ok_or_else(|| Error::internal("window() over a non-timestamp"))?;
        let mut rows = Vec::with_capacity(batch.num_rows());
        let mut starts = Vec::with_capacity(batch.num_rows());
        let mut scratch = Vec::new();
        // A tumbling window holds a run of consecutive event times: the last one found answers
        // for them without a division.
        let tumbling = self.window.size == self.window.slide;
        let mut last: Option<(i64, i64)> = None;
        for (i, t) in times.iter().enumerate() {
            let Some(t) = t else { continue };
            if let Some((start, _)) = last.filter(|&(s, e)| tumbling && s <= t && t < e) {
                rows.push(i as u32);
                starts.push(start);
                continue;
            }
            window_starts(t, &self.window, &mut scratch).ok_or_else(|| {
                datetime_overflow(format!(
                    "a window of the event time {} (window size {}, slide {}) falls outside the calendar",
                    format_timestamp(t),
                    Interval::from_micros(self.window.size),
                    Interval::from_micros(self.window.slide)
                ))
            })?;
            for &s in &scratch {
                rows.push(i as u32);
                starts.push(s);
            }
            last = scratch.first().map(|&s| (s, s.saturating_add(self.window.size)));
        }
        // Every row in exactly one window (a tumbling window, no NULL time): the rows as they are.
        let mut columns = if rows.len() == batch.num_rows() && rows.iter().enumerate().all(|(i, &r)| r as usize == i) {
            batch.columns().to_vec()
        } else {
            let indices = UInt32Array::from(rows);
            batch.columns().iter().map(|c| take(c.as_ref(), &indices, None)).collect::<std::result::Result<Vec<ArrayRef>, _>>()?
        };
        let num_rows = starts.len();
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
        let options = RecordBatchOptions::new().with_row_count(Some(num_rows));
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
        window_starts(t * S, &WindowSpec { size: size * S, slide: slide * S, start: start * S }, &mut out).unwrap();
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

    #[test]
    fn windows_at_the_ends_of_the_calendar_are_refused_not_wrapped() {
        use crate::time::{MAX_TIMESTAMP, MIN_TIMESTAMP};
        let day = 86_400 * S;
        let mut out = Vec::new();
        // The last day's window ends after 9999-12-31 23:59:59.999999: no such timestamp.
        assert_eq!(window_starts(MAX_TIMESTAMP, &WindowSpec { size: day, slide: day, start: 0 }, &mut out), None);
        assert_eq!(window_starts(MAX_TIMESTAMP - day, &WindowSpec { size: day, slide: day, start: 0 }, &mut out), Some(()));
        assert_eq!(window_starts(MIN_TIMESTAMP, &WindowSpec { size: day, slide: day / 2, start: 0 }, &mut out), None);
        // Extreme specs and times must not overflow in the arithmetic itself.
        for t in [i64::MIN, i64::MAX, 0, MIN_TIMESTAMP, MAX_TIMESTAMP] {
            for (size, slide, start) in
                [(i64::MAX, i64::MAX, i64::MIN), (i64::MAX, i64::MAX / 2 + 1, i64::MAX), (1, 1, i64::MIN), (0, 0, 0), (-5, 3, 0)]
            {
                let _ = window_starts(t, &WindowSpec { size, slide, start }, &mut out);
            }
        }
    }

    #[test]
    fn the_64_bit_path_agrees_with_the_128_bit_one() {
        let mut x: u64 = 0x9e37_79b9_7f4a_7c15;
        let mut next = |m: i64| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            (x % (2 * m as u64)) as i64 - m
        };
        let (mut fast, mut wide) = (Vec::new(), Vec::new());
        for _ in 0..20_000 {
            let t = next(crate::time::MAX_TIMESTAMP);
            let slide = next(1 << 40).abs() + 1;
            let size = slide * (next(8).abs() + 1) - next(2).abs().min(slide - 1);
            let w = WindowSpec { size, slide, start: next(slide) };
            let a = window_starts(t, &w, &mut fast);
            let b = window_starts_wide(t, &w, &mut wide);
            assert_eq!((a, &fast), (b, &wide), "t {t}, {w:?}");
        }
    }

    /// The operator over `times` (seconds, NULL for None): each output row's (row time, window start).
    fn assigned(times: Vec<Option<i64>>, size: i64, slide: i64) -> Vec<(i64, i64)> {
        use crate::expr::Expr;
        use arrow_schema::{DataType as A, Field, Schema, TimeUnit};
        let input = Arc::new(Schema::new(vec![Field::new("ts", A::Timestamp(TimeUnit::Microsecond, None), true)]));
        let micros: Vec<Option<i64>> = times.iter().map(|t| t.map(|t| t * S)).collect();
        let batch = RecordBatch::try_new(input.clone(), vec![Arc::new(TimestampMicrosecondArray::from(micros)) as ArrayRef]).unwrap();
        let mut fields: Vec<Field> = input.fields().iter().map(|f| f.as_ref().clone()).collect();
        fields.push(Field::new("window", A::Struct(window_fields()), true));
        let mut op = WindowAssignOp::new(
            Expr::Column { index: 0, data_type: crate::types::DataType::Timestamp },
            WindowSpec { size: size * S, slide: slide * S, start: 0 },
            Arc::new(Schema::new(fields)),
        );
        let mut ctx = BatchContext {
            sources: &[],
            watermarks: Watermarks::default(),
            max_event_time: vec![],
            late_rows: vec![],
            operator_watermarks: vec![],
        };
        let out = op.on_batch(vec![batch], Watermarks::default(), &mut ctx).unwrap();
        let ts = out.column(0).as_primitive::<TimestampMicrosecondType>();
        let w = out.column(1).as_struct();
        let starts = w.column(0).as_primitive::<TimestampMicrosecondType>();
        let ends = w.column(1).as_primitive::<TimestampMicrosecondType>();
        (0..out.num_rows())
            .map(|i| {
                assert_eq!(ends.value(i) - starts.value(i), size * S);
                (ts.value(i) / S, starts.value(i) / S)
            })
            .collect()
    }

    #[test]
    fn rows_out_of_order_get_their_own_windows() {
        let times = vec![Some(5), Some(12), Some(7), None, Some(12), Some(-3), Some(10), Some(9)];
        assert_eq!(assigned(times.clone(), 10, 10), vec![(5, 0), (12, 10), (7, 0), (12, 10), (-3, -10), (10, 10), (9, 0)]);
        let sliding = assigned(times, 10, 5);
        assert_eq!(sliding.len(), 14, "two windows a row, none for NULL: {sliding:?}");
        assert_eq!(&sliding[..4], &[(5, 5), (5, 0), (12, 10), (12, 5)]);
    }

    #[test]
    fn an_overflowing_window_fails_the_batch_naming_the_event_time() {
        use crate::expr::Expr;
        use crate::time::MAX_TIMESTAMP;
        use arrow_schema::{DataType as A, Field, Schema, TimeUnit};
        let input = Arc::new(Schema::new(vec![Field::new("ts", A::Timestamp(TimeUnit::Microsecond, None), true)]));
        let batch =
            RecordBatch::try_new(input.clone(), vec![Arc::new(TimestampMicrosecondArray::from(vec![MAX_TIMESTAMP])) as ArrayRef]).unwrap();
        let mut fields: Vec<Field> = input.fields().iter().map(|f| f.as_ref().clone()).collect();
        fields.push(Field::new("window", A::Struct(window_fields()), true));
        let day = 86_400 * S;
        let mut op = WindowAssignOp::new(
            Expr::Column { index: 0, data_type: crate::types::DataType::Timestamp },
            WindowSpec { size: day, slide: day, start: 0 },
            Arc::new(Schema::new(fields)),
        );
        let mut ctx = BatchContext {
            sources: &[],
            watermarks: Watermarks::default(),
            max_event_time: vec![],
            late_rows: vec![],
            operator_watermarks: vec![],
        };
        let err = op.on_batch(vec![batch], Watermarks::default(), &mut ctx).unwrap_err();
        assert_eq!(err.spark_condition, Some("DATETIME_OVERFLOW"));
        assert!(err.message.contains("9999-12-31 23:59:59.999999"), "{}", err.message);
    }
}
