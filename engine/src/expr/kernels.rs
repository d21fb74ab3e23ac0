//! Arithmetic and comparison of flat columns, for the types the analyzer lets reach them (both
//! sides of one type: it casts them to a common one first). Written here rather than taken from
//! arrow-arith's `numeric` and arrow-ord's `cmp`, whose kernels are instantiated for every Arrow
//! type (intervals, durations, views, dictionaries, run ends...) and were a tenth of the engine's
//! wasm code. Overflow and division errors are arrow's own (`ArrowNativeTypeOp`), which
//! `Error::from` turns into Spark's; doubles compare as Spark compares them.

use std::cmp::Ordering;
use std::sync::Arc;

use arrow_array::cast::AsArray;
use arrow_array::types::{ArrowPrimitiveType, Date32Type, Decimal128Type, Float64Type, Int32Type, Int64Type, TimestampMicrosecondType};
use arrow_array::{new_null_array, Array, ArrayRef, ArrowNativeTypeOp, BooleanArray, Datum, PrimitiveArray};
use arrow_buffer::{BooleanBuffer, NullBuffer};
use arrow_schema::{DataType as ArrowType, TimeUnit};

use super::BinaryOp;
use crate::error::{Error, Result};
use crate::value::compare_doubles;

/// The rows a binary kernel produces: one when both sides are scalars.
fn rows(l: &dyn Datum, r: &dyn Datum) -> usize {
    let ((la, ls), (ra, rs)) = (l.get(), r.get());
    match (ls, rs) {
        (true, true) => 1,
        (true, false) => ra.len(),
        _ => la.len(),
    }
}

/// Row `i` of a side: a scalar's only row for every `i`.
#[inline]
fn at(scalar: bool, i: usize) -> usize {
    if scalar {
        0
    } else {
        i
    }
}

/// The nulls of a binary result: a row is NULL when either side's is.
fn result_nulls(la: &dyn Array, ls: bool, ra: &dyn Array, rs: bool, len: usize) -> Option<NullBuffer> {
    let side = |a: &dyn Array, scalar: bool| match (scalar, a.is_null(0)) {
        (true, true) => Some(NullBuffer::new_null(len)),
        (true, false) => None,
        (false, _) => a.logical_nulls(),
    };
    NullBuffer::union(side(la, ls).as_ref(), side(ra, rs).as_ref())
}

/// `op` (`+ - * / %`) of two columns of one numeric type.
pub fn arithmetic(op: BinaryOp, l: &dyn Datum, r: &dyn Datum) -> Result<ArrayRef> {
    let (lt, rt) = (l.get().0.data_type().clone(), r.get().0.data_type().clone());
    if lt != rt {
        return Err(Error::internal(format!("arithmetic between {lt} and {rt}")));
    }
    match lt {
        ArrowType::Int32 => numeric::<Int32Type>(op, l, r),
        ArrowType::Int64 => numeric::<Int64Type>(op, l, r),
        ArrowType::Float64 => numeric::<Float64Type>(op, l, r),
        ArrowType::Decimal128(..) => numeric::<Decimal128Type>(op, l, r),
        ArrowType::Null => Ok(new_null_array(&ArrowType::Null, rows(l, r))),
        other => Err(Error::internal(format!("no arithmetic on {other}"))),
    }
}

/// One of `ArrowNativeTypeOp`'s checked operations.
type CheckedOp<N> = fn(N, N) -> std::result::Result<N, arrow_schema::ArrowError>;

fn numeric<T: ArrowPrimitiveType>(op: BinaryOp, l: &dyn Datum, r: &dyn Datum) -> Result<ArrayRef> {
    let f: CheckedOp<T::Native> = match op {
        BinaryOp::Add => T::Native::add_checked,
        BinaryOp::Subtract => T::Native::sub_checked,
        BinaryOp::Multiply => T::Native::mul_checked,
        BinaryOp::Divide => T::Native::div_checked,
        BinaryOp::Modulo => T::Native::mod_checked,
        other => return Err(Error::internal(format!("{other:?} is not arithmetic"))),
    };
    let ((la, ls), (ra, rs)) = (l.get(), r.get());
    let len = rows(l, r);
    let nulls = result_nulls(la, ls, ra, rs, len);
    let (a, b) = (la.as_primitive::<T>().values(), ra.as_primitive::<T>().values());
    let mut out = Vec::with_capacity(len);
    for i in 0..len {
        // A NULL row's slot holds anything: it must not raise an overflow.
        if nulls.as_ref().is_some_and(|n| n.is_null(i)) {
            out.push(T::Native::default());
        } else {
            out.push(f(a[at(ls, i)], b[at(rs, i)])?);
        }
    }
    // A decimal keeps its precision and scale.
    Ok(Arc::new(PrimitiveArray::<T>::new(out.into(), nulls).with_data_type(la.data_type().clone())))
}

/// `-x` of a numeric column; overflow is an error, as arrow's checked negation gives it.
pub fn negate(v: &dyn Array) -> Result<ArrayRef> {
    fn neg<T: ArrowPrimitiveType>(v: &dyn Array) -> Result<ArrayRef> {
        let a = v.as_primitive::<T>();
        let nulls = a.logical_nulls();
        let mut out = Vec::with_capacity(a.len());
        for (i, &x) in a.values().iter().enumerate() {
            out.push(if nulls.as_ref().is_some_and(|n| n.is_null(i)) { T::Native::default() } else { x.neg_checked()? });
        }
        Ok(Arc::new(PrimitiveArray::<T>::new(out.into(), nulls).with_data_type(v.data_type().clone())))
    }
    match v.data_type() {
        ArrowType::Int32 => neg::<Int32Type>(v),
        ArrowType::Int64 => neg::<Int64Type>(v),
        ArrowType::Float64 => neg::<Float64Type>(v),
        ArrowType::Decimal128(..) => neg::<Decimal128Type>(v),
        ArrowType::Null => Ok(new_null_array(&ArrowType::Null, v.len())),
        other => Err(Error::internal(format!("no negation of {other}"))),
    }
}

/// `op` (`= <> < <= > >= <=>`) of two flat columns of one type.
pub fn compare(op: BinaryOp, l: &dyn Datum, r: &dyn Datum) -> Result<BooleanArray> {
    let (lt, rt) = (l.get().0.data_type(), r.get().0.data_type());
    if lt != rt {
        return Err(Error::internal(format!("comparison between {lt} and {rt}")));
    }
    fn prim<T: ArrowPrimitiveType>(
        op: BinaryOp,
        l: &dyn Datum,
        r: &dyn Datum,
        ord: fn(T::Native, T::Native) -> Ordering,
    ) -> Result<BooleanArray> {
        let ((la, _), (ra, _)) = (l.get(), r.get());
        let (a, b) = (la.as_primitive::<T>().values(), ra.as_primitive::<T>().values());
        Ok(by_row(op, l, r, |i, j| ord(a[i], b[j])))
    }
    match lt {
        ArrowType::Int32 => prim::<Int32Type>(op, l, r, |a, b| a.cmp(&b)),
        ArrowType::Int64 => prim::<Int64Type>(op, l, r, |a, b| a.cmp(&b)),
        ArrowType::Float64 => prim::<Float64Type>(op, l, r, compare_doubles),
        ArrowType::Date32 => prim::<Date32Type>(op, l, r, |a, b| a.cmp(&b)),
        ArrowType::Timestamp(TimeUnit::Microsecond, _) => prim::<TimestampMicrosecondType>(op, l, r, |a, b| a.cmp(&b)),
        ArrowType::Decimal128(..) => prim::<Decimal128Type>(op, l, r, |a, b| a.cmp(&b)),
        ArrowType::Boolean => {
            let (a, b) = (l.get().0.as_boolean().values(), r.get().0.as_boolean().values());
            Ok(by_row(op, l, r, |i, j| a.value(i).cmp(&b.value(j))))
        }
        ArrowType::Utf8 => {
            let (a, b) = (l.get().0.as_string::<i32>(), r.get().0.as_string::<i32>());
            Ok(by_row(op, l, r, |i, j| a.value(i).as_bytes().cmp(b.value(j).as_bytes())))
        }
        ArrowType::Binary => {
            let (a, b) = (l.get().0.as_binary::<i32>(), r.get().0.as_binary::<i32>());
            Ok(by_row(op, l, r, |i, j| a.value(i).cmp(b.value(j))))
        }
        ArrowType::Null => Ok(by_row(op, l, r, |_, _| Ordering::Equal)),
        other => Err(Error::internal(format!("no comparison of {other}"))),
    }
}

/// A comparison's result from the order of each row's two values (`ord(left row, right row)`):
/// NULL where either is NULL, except for `<=>`, which is never NULL.
fn by_row(op: BinaryOp, l: &dyn Datum, r: &dyn Datum, ord: impl Fn(usize, usize) -> Ordering) -> BooleanArray {
    let ((la, ls), (ra, rs)) = (l.get(), r.get());
    let len = rows(l, r);
    let hit = |o: Ordering| match op {
        BinaryOp::Eq | BinaryOp::NullSafeEq => o.is_eq(),
        BinaryOp::NotEq => o.is_ne(),
        BinaryOp::Lt => o.is_lt(),
        BinaryOp::LtEq => o.is_le(),
        BinaryOp::Gt => o.is_gt(),
        _ => o.is_ge(),
    };
    if op == BinaryOp::NullSafeEq {
        let values = BooleanBuffer::collect_bool(len, |i| {
            let (i, j) = (at(ls, i), at(rs, i));
            match (la.is_null(i), ra.is_null(j)) {
                (true, true) => true,
                (false, false) => hit(ord(i, j)),
                _ => false,
            }
        });
        return BooleanArray::new(values, None);
    }
    let nulls = result_nulls(la, ls, ra, rs, len);
    let values = BooleanBuffer::collect_bool(len, |i| nulls.as_ref().is_none_or(|n| n.is_valid(i)) && hit(ord(at(ls, i), at(rs, i))));
    BooleanArray::new(values, nulls)
}

#[cfg(test)]
mod tests {
    use arrow_array::{BinaryArray, Float64Array, Int32Array, Int64Array, Scalar, StringArray};

    use super::*;
    #[cfg(target_arch = "wasm32")]
    use wasm_bindgen_test::wasm_bindgen_test as test;

    fn bools(a: &BooleanArray) -> Vec<Option<bool>> {
        a.iter().collect()
    }

    #[test]
    fn arithmetic_skips_null_rows_and_raises_arrows_overflow() {
        let l = Int32Array::from(vec![Some(1), None, Some(i32::MAX)]);
        let r = Int32Array::from(vec![Some(2), Some(i32::MAX), Some(0)]);
        let sum = arithmetic(BinaryOp::Add, &l, &r).unwrap();
        assert_eq!(sum.as_primitive::<Int32Type>().iter().collect::<Vec<_>>(), vec![Some(3), None, Some(i32::MAX)]);
        let one = Scalar::new(Int32Array::from(vec![1]));
        let err = arithmetic(BinaryOp::Add, &l, &one).unwrap_err();
        assert!(err.to_string().contains("2147483647 + 1"), "{err}");
        let big = Int64Array::from(vec![i64::MIN]);
        assert!(arithmetic(BinaryOp::Divide, &big, &Scalar::new(Int64Array::from(vec![-1]))).is_err());
        assert!(negate(&big).is_err());
        let d = Float64Array::from(vec![1.5, -0.0]);
        let neg = negate(&d).unwrap();
        assert_eq!(neg.as_primitive::<Float64Type>().values().to_vec(), vec![-1.5, 0.0]);
        let m = arithmetic(BinaryOp::Modulo, &Int32Array::from(vec![-7]), &Scalar::new(Int32Array::from(vec![3]))).unwrap();
        assert_eq!(m.as_primitive::<Int32Type>().value(0), -1, "the dividend's sign, as Spark's %");
        // Two scalars give one row.
        assert_eq!(arithmetic(BinaryOp::Multiply, &one, &one).unwrap().len(), 1);
    }

    #[test]
    fn doubles_compare_as_spark_compares_them() {
        let nan = f64::from_bits(0xfff8_0000_0000_0000);
        let l = Float64Array::from(vec![nan, -0.0, 1.0, f64::NAN]);
        let r = Float64Array::from(vec![f64::INFINITY, 0.0, 2.0, nan]);
        assert_eq!(bools(&compare(BinaryOp::Gt, &l, &r).unwrap()), vec![Some(true), Some(false), Some(false), Some(false)]);
        assert_eq!(bools(&compare(BinaryOp::Eq, &l, &r).unwrap()), vec![Some(false), Some(true), Some(false), Some(true)]);
    }

    #[test]
    fn nulls_propagate_except_through_null_safe_equality() {
        let l = StringArray::from(vec![Some("a"), None, None, Some("b")]);
        let r = StringArray::from(vec![Some("a"), Some("a"), None, Some("a")]);
        assert_eq!(bools(&compare(BinaryOp::Eq, &l, &r).unwrap()), vec![Some(true), None, None, Some(false)]);
        assert_eq!(bools(&compare(BinaryOp::NullSafeEq, &l, &r).unwrap()), vec![Some(true), Some(false), Some(true), Some(false)]);
        assert_eq!(
            bools(&compare(BinaryOp::GtEq, &l, &Scalar::new(StringArray::from(vec!["a"]))).unwrap()),
            vec![Some(true), None, None, Some(true)]
        );
        let null = Scalar::new(StringArray::from(vec![None::<&str>]));
        assert_eq!(bools(&compare(BinaryOp::Lt, &l, &null).unwrap()), vec![None; 4]);
        assert_eq!(bools(&compare(BinaryOp::NullSafeEq, &l, &null).unwrap()), vec![Some(false), Some(true), Some(true), Some(false)]);
        let bin = BinaryArray::from(vec![&b"\x00"[..], b"\xff"]);
        assert_eq!(
            bools(&compare(BinaryOp::Lt, &bin, &Scalar::new(BinaryArray::from(vec![&b"\x01"[..]]))).unwrap()),
            vec![Some(true), Some(false)]
        );
    }
}
