//! Running aggregates as columns: one vector per aggregate, indexed by group slot, updated a
//! batch at a time from the argument's Arrow array. count, sum and avg get typed vectors; every
//! other aggregate keeps the row-at-a-time [`Accumulator`] per group.

use std::sync::Arc;

use arrow_array::cast::AsArray;
use arrow_array::types::{Float64Type, Int32Type, Int64Type};
use arrow_array::{Array, ArrayRef, BooleanArray, Float64Array, Int64Array};
use arrow_buffer::NullBuffer;
use arrow_schema::DataType as ArrowType;

use crate::error::{Error, Result};
use crate::expr::aggregate::{Accumulator, AggFunc};
use crate::expr::AggregateCall;
use crate::value::{values_to_array, Value};

/// A row's group slot that the batch skips (a late row).
pub const SKIP: u32 = u32::MAX;

#[derive(Debug, Clone)]
pub enum AccColumn {
    /// count(*), count(x), count_if(x).
    Count(Vec<i64>),
    SumInt {
        sum: Vec<i64>,
        seen: Vec<bool>,
    },
    SumDouble {
        sum: Vec<f64>,
        seen: Vec<bool>,
    },
    Avg {
        sum: Vec<f64>,
        count: Vec<i64>,
    },
    Other(Vec<Accumulator>),
}

fn count_overflow() -> Error {
    Error::runtime("ARITHMETIC_OVERFLOW", "[ARITHMETIC_OVERFLOW] long overflow in count. SQLSTATE: 22003")
}

fn sum_overflow() -> Error {
    Error::runtime(
        "ARITHMETIC_OVERFLOW",
        "[ARITHMETIC_OVERFLOW] long overflow in sum. Use 'try_sum' or sum a DOUBLE to tolerate overflow. SQLSTATE: 22003",
    )
}

/// The rows of `arg` that hold a value (an array of the NULL type holds none).
fn validity(arg: &dyn Array) -> Option<NullBuffer> {
    arg.logical_nulls()
}

/// A numeric argument's values, widened as its aggregate reads them.
enum Numbers<'a> {
    I32(&'a [i32]),
    I64(&'a [i64]),
    F64(&'a [f64]),
}

impl Numbers<'_> {
    fn of(arg: &dyn Array) -> Option<Numbers<'_>> {
        match arg.data_type() {
            ArrowType::Int32 => Some(Numbers::I32(arg.as_primitive::<Int32Type>().values())),
            ArrowType::Int64 => Some(Numbers::I64(arg.as_primitive::<Int64Type>().values())),
            ArrowType::Float64 => Some(Numbers::F64(arg.as_primitive::<Float64Type>().values())),
            _ => None,
        }
    }

    #[inline]
    fn f64(&self, i: usize) -> f64 {
        match self {
            Numbers::I32(v) => v[i] as f64,
            Numbers::I64(v) => v[i] as f64,
            Numbers::F64(v) => v[i],
        }
    }
}

impl AccColumn {
    pub fn new(call: &AggregateCall) -> AccColumn {
        match call.new_accumulator() {
            Accumulator::Count(_) => AccColumn::Count(Vec::new()),
            Accumulator::SumInt(_) => AccColumn::SumInt { sum: Vec::new(), seen: Vec::new() },
            Accumulator::SumDouble(_) => AccColumn::SumDouble { sum: Vec::new(), seen: Vec::new() },
            Accumulator::Avg { .. } => AccColumn::Avg { sum: Vec::new(), count: Vec::new() },
            _ => AccColumn::Other(Vec::new()),
        }
    }

    /// Gives `slot` a fresh running value (a new group, or a slot a removed group left).
    pub fn reset(&mut self, call: &AggregateCall, slot: u32) {
        let s = slot as usize;
        fn put<T: Clone>(v: &mut Vec<T>, s: usize, x: T) {
            if s < v.len() {
                v[s] = x;
            } else {
                v.resize(s + 1, x);
            }
        }
        match self {
            AccColumn::Count(c) => put(c, s, 0),
            AccColumn::SumInt { sum, seen } => {
                put(sum, s, 0);
                put(seen, s, false);
            }
            AccColumn::SumDouble { sum, seen } => {
                put(sum, s, 0.0);
                put(seen, s, false);
            }
            AccColumn::Avg { sum, count } => {
                put(sum, s, 0.0);
                put(count, s, 0);
            }
            AccColumn::Other(accs) => put(accs, s, call.new_accumulator()),
        }
    }

    /// Folds row `i` of `arg` into group `slots[i]`, for every row not [`SKIP`]ped.
    pub fn update(&mut self, call: &AggregateCall, slots: &[u32], arg: Option<&ArrayRef>) -> Result<()> {
        let rows = || slots.iter().enumerate().filter(|(_, &g)| g != SKIP).map(|(i, &g)| (i, g as usize));
        match (self, call.func, arg) {
            (AccColumn::Count(c), AggFunc::CountRows, _) => {
                for (_, g) in rows() {
                    c[g] = c[g].checked_add(1).ok_or_else(count_overflow)?;
                }
            }
            (AccColumn::Count(c), AggFunc::Count, Some(arg)) => {
                let valid = validity(arg.as_ref());
                for (i, g) in rows() {
                    if valid.as_ref().is_none_or(|n| n.is_valid(i)) {
                        c[g] = c[g].checked_add(1).ok_or_else(count_overflow)?;
                    }
                }
            }
            (AccColumn::Count(c), AggFunc::CountIf, Some(arg)) if arg.data_type() == &ArrowType::Boolean => {
                let b: &BooleanArray = arg.as_boolean();
                for (i, g) in rows() {
                    if b.is_valid(i) && b.value(i) {
                        c[g] = c[g].checked_add(1).ok_or_else(count_overflow)?;
                    }
                }
            }
            (AccColumn::SumInt { sum, seen }, _, Some(arg)) if matches!(arg.data_type(), ArrowType::Int32 | ArrowType::Int64) => {
                let valid = validity(arg.as_ref());
                let numbers = Numbers::of(arg.as_ref());
                for (i, g) in rows() {
                    if valid.as_ref().is_none_or(|n| n.is_valid(i)) {
                        let x = match &numbers {
                            Some(Numbers::I32(v)) => i64::from(v[i]),
                            Some(Numbers::I64(v)) => v[i],
                            _ => continue,
                        };
                        sum[g] = sum[g].checked_add(x).ok_or_else(sum_overflow)?;
                        seen[g] = true;
                    }
                }
            }
            (AccColumn::SumDouble { sum, seen }, _, Some(arg)) if Numbers::of(arg.as_ref()).is_some() => {
                let valid = validity(arg.as_ref());
                let Some(numbers) = Numbers::of(arg.as_ref()) else { return Ok(()) };
                for (i, g) in rows() {
                    if valid.as_ref().is_none_or(|n| n.is_valid(i)) {
                        sum[g] += numbers.f64(i);
                        seen[g] = true;
                    }
                }
            }
            (AccColumn::Avg { sum, count }, _, Some(arg)) if Numbers::of(arg.as_ref()).is_some() => {
                let valid = validity(arg.as_ref());
                let Some(numbers) = Numbers::of(arg.as_ref()) else { return Ok(()) };
                for (i, g) in rows() {
                    if valid.as_ref().is_none_or(|n| n.is_valid(i)) {
                        sum[g] += numbers.f64(i);
                        count[g] = count[g].checked_add(1).ok_or_else(count_overflow)?;
                    }
                }
            }
            (AccColumn::Other(accs), _, arg) => {
                for (i, g) in rows() {
                    let v = arg.map_or(Value::Null, |a| call.arg_value(a.as_ref(), i));
                    call.update(&mut accs[g], &v)?;
                }
                // One call per micro-batch: the batch ends here for the groups it touched.
                if matches!(call.func, AggFunc::ApproxPercentile | AggFunc::TrySum | AggFunc::HistogramNumeric) {
                    for (_, g) in rows() {
                        call.end_batch(&mut accs[g]);
                    }
                }
            }
            // An argument of a type the typed columns do not read (a NULL literal's column):
            // row by row through the accumulator, as every aggregate once went.
            (column, _, arg) => {
                for (i, g) in rows() {
                    let v = arg.map_or(Value::Null, |a| call.arg_value(a.as_ref(), i));
                    let mut acc = column.get(g as u32);
                    call.update(&mut acc, &v)?;
                    column.set(g as u32, acc).map_err(Error::internal)?;
                }
            }
        }
        Ok(())
    }

    /// Group `slot`'s running value as the checkpoint keeps it.
    pub fn get(&self, slot: u32) -> Accumulator {
        let s = slot as usize;
        match self {
            AccColumn::Count(c) => Accumulator::Count(c[s]),
            AccColumn::SumInt { sum, seen } => Accumulator::SumInt(seen[s].then_some(sum[s])),
            AccColumn::SumDouble { sum, seen } => Accumulator::SumDouble(seen[s].then_some(sum[s])),
            AccColumn::Avg { sum, count } => Accumulator::Avg { sum: sum[s], count: count[s] },
            AccColumn::Other(accs) => accs[s].clone(),
        }
    }

    /// The accumulator of `slot`, borrowed: only the row-at-a-time aggregates have one.
    pub fn other(&self, slot: u32) -> Option<&Accumulator> {
        match self {
            AccColumn::Other(accs) => accs.get(slot as usize),
            _ => None,
        }
    }

    /// Sets `slot` (already [`AccColumn::reset`]) from a checkpoint's accumulator.
    pub fn set(&mut self, slot: u32, acc: Accumulator) -> std::result::Result<(), String> {
        let s = slot as usize;
        match (self, acc) {
            (AccColumn::Count(c), Accumulator::Count(n)) => c[s] = n,
            (AccColumn::SumInt { sum, seen }, Accumulator::SumInt(v)) => (sum[s], seen[s]) = (v.unwrap_or(0), v.is_some()),
            (AccColumn::SumDouble { sum, seen }, Accumulator::SumDouble(v)) => (sum[s], seen[s]) = (v.unwrap_or(0.0), v.is_some()),
            (AccColumn::Avg { sum, count }, Accumulator::Avg { sum: x, count: n }) => (sum[s], count[s]) = (x, n),
            (AccColumn::Other(accs), acc) if std::mem::discriminant(&accs[s]) == std::mem::discriminant(&acc) => accs[s] = acc,
            (_, acc) => return Err(format!("a group's running value {acc:?} is not of its aggregate's kind")),
        }
        Ok(())
    }

    /// The aggregate's results for `slots`, in that order.
    pub fn results(&self, call: &AggregateCall, slots: &[u32]) -> ArrayRef {
        let at = |s: &u32| *s as usize;
        match self {
            AccColumn::Count(c) => Arc::new(Int64Array::from_iter_values(slots.iter().map(|s| c[at(s)]))),
            AccColumn::SumInt { sum, seen } => Arc::new(slots.iter().map(|s| seen[at(s)].then_some(sum[at(s)])).collect::<Int64Array>()),
            AccColumn::SumDouble { sum, seen } => {
                Arc::new(slots.iter().map(|s| seen[at(s)].then_some(sum[at(s)])).collect::<Float64Array>())
            }
            AccColumn::Avg { sum, count } => {
                Arc::new(slots.iter().map(|s| (count[at(s)] > 0).then(|| sum[at(s)] / count[at(s)] as f64)).collect::<Float64Array>())
            }
            AccColumn::Other(accs) => {
                let values: Vec<Value> = slots.iter().map(|s| call.result(&accs[at(s)])).collect();
                values_to_array(&values, &call.data_type)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::expr::Expr;
    use crate::types::DataType;
    #[cfg(target_arch = "wasm32")]
    use wasm_bindgen_test::wasm_bindgen_test as test;

    /// Every aggregate, folded column-wise, gives what the row-at-a-time accumulator gives.
    #[test]
    fn columns_agree_with_the_accumulators() {
        let ints: ArrayRef = Arc::new(arrow_array::Int32Array::from(vec![Some(3), None, Some(-2), Some(7), None]));
        let doubles: ArrayRef = Arc::new(arrow_array::Float64Array::from(vec![Some(1.5), Some(f64::NAN), None, Some(-0.5), Some(2.0)]));
        let bools: ArrayRef = Arc::new(arrow_array::BooleanArray::from(vec![Some(true), None, Some(false), Some(true), Some(true)]));
        let nulls: ArrayRef = arrow_array::new_null_array(&ArrowType::Null, 5);
        let slots = [0, 1, SKIP, 0, 1];
        let cases: Vec<(&str, Vec<Expr>, bool, ArrayRef)> = vec![
            ("count", vec![], true, ints.clone()),
            ("count", vec![Expr::column(0, DataType::Int)], false, ints.clone()),
            ("count", vec![Expr::column(0, DataType::Null)], false, nulls.clone()),
            ("count_if", vec![Expr::column(0, DataType::Boolean)], false, bools.clone()),
            ("sum", vec![Expr::column(0, DataType::Int)], false, ints.clone()),
            ("sum", vec![Expr::column(0, DataType::Double)], false, doubles.clone()),
            ("avg", vec![Expr::column(0, DataType::Int)], false, ints.clone()),
            ("avg", vec![Expr::column(0, DataType::Double)], false, doubles.clone()),
            ("min", vec![Expr::column(0, DataType::Double)], false, doubles.clone()),
            ("collect_list", vec![Expr::column(0, DataType::Int)], false, ints.clone()),
            ("try_sum", vec![Expr::column(0, DataType::Int)], false, ints.clone()),
        ];
        for (name, args, star, arg) in cases {
            let call = AggFunc::resolve(name, args, star).unwrap();
            let arg = call.arg.as_ref().map(|_| arg.clone());
            let mut column = AccColumn::new(&call);
            column.reset(&call, 0);
            column.reset(&call, 1);
            column.update(&call, &slots, arg.as_ref()).unwrap();
            let mut expected = [call.new_accumulator(), call.new_accumulator()];
            for (i, &g) in slots.iter().enumerate() {
                if g != SKIP {
                    let v = arg.as_ref().map_or(Value::Null, |a| Value::from_array(a.as_ref(), i));
                    call.update(&mut expected[g as usize], &v).unwrap();
                }
            }
            // The column ends the batch for the groups it touched.
            expected.iter_mut().for_each(|acc| call.end_batch(acc));
            for g in 0..2u32 {
                assert_eq!(format!("{:?}", column.get(g)), format!("{:?}", expected[g as usize]), "{name} group {g}");
            }
            let results = column.results(&call, &[1, 0]);
            let want = values_to_array(&[call.result(&expected[1]), call.result(&expected[0])], &call.data_type);
            assert_eq!(format!("{results:?}"), format!("{want:?}"), "{name}");
            // Back through the checkpoint's form.
            let mut restored = AccColumn::new(&call);
            restored.reset(&call, 0);
            restored.set(0, column.get(1)).unwrap();
            assert_eq!(format!("{:?}", restored.get(0)), format!("{:?}", expected[1]), "{name} restored");
        }
    }

    #[test]
    fn a_sum_past_the_top_of_bigint_is_spark_s_overflow_error() {
        let call = AggFunc::resolve("sum", vec![Expr::column(0, DataType::BigInt)], false).unwrap();
        let mut column = AccColumn::new(&call);
        column.reset(&call, 0);
        let arg: ArrayRef = Arc::new(Int64Array::from(vec![i64::MAX, 1]));
        let err = column.update(&call, &[0, 0], Some(&arg)).unwrap_err();
        assert_eq!(err.spark_condition, Some("ARITHMETIC_OVERFLOW"));
    }

    #[test]
    fn a_running_value_of_another_kind_is_refused() {
        let call = AggFunc::resolve("count", vec![], true).unwrap();
        let mut column = AccColumn::new(&call);
        column.reset(&call, 0);
        assert!(column.set(0, Accumulator::List(vec![])).unwrap_err().contains("not of its aggregate's kind"));
    }
}
