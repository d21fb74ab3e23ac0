//! Math functions: abs, round/bround, floor/ceil, sqrt.

use std::sync::Arc;

use arrow_array::builder::Int64Builder;
use arrow_array::cast::AsArray;
use arrow_array::types::{Float64Type, Int32Type, Int64Type};
use arrow_array::{Array, ArrayRef};

use super::*;
use crate::types::decimal;

/// The argument rules and result type of the functions in this file (Spark's implicit casts).
pub(super) fn check(f: Func, mut a: Vec<Expr>, c: &Checks) -> Result<(Vec<Expr>, DataType)> {
    use DataType as T;
    let ty = match f {
        Func::Abs => {
            c.arity(1, 1)?;
            a = vec![decimal_or_numeric(a.remove(0), c)?];
            a[0].data_type()
        }
        Func::Round | Func::Bround => {
            c.arity(1, 2)?;
            let v = decimal_or_numeric(a.remove(0), c)?;
            let scale = match a.pop() {
                None => Expr::Literal(Value::Int(0)),
                Some(Expr::Literal(Value::Int(s))) => Expr::Literal(Value::Int(s)),
                Some(_) => {
                    return Err(Error::type_mismatch(format!(
                        "[DATATYPE_MISMATCH.NON_FOLDABLE_INPUT] Cannot resolve \"{}(...)\" due to data type mismatch: the input `scale` should be a foldable \"INT\" expression. SQLSTATE: 42K09",
                        f.name()
                    )))
                }
            };
            let t = match (v.data_type().decimal(), &scale) {
                (Some(ps), Expr::Literal(Value::Int(d))) => {
                    let (p, s) = decimal::round_type(ps, *d);
                    T::Decimal(p, s)
                }
                _ => v.data_type(),
            };
            a = vec![v, scale];
            t
        }
        Func::Floor | Func::Ceil if a.len() == 2 => {
            // `ceil(x, scale)` is a DECIMAL in Spark; a DOUBLE here (the engine has no DECIMAL).
            let scale = match a.pop() {
                Some(Expr::Literal(Value::Int(s))) => s,
                _ => {
                    return Err(Error::type_mismatch(format!(
                        "[DATATYPE_MISMATCH.NON_FOLDABLE_INPUT] Cannot resolve \"{}(...)\" due to data type mismatch: the input `scale` should be a foldable \"INT\" expression. SQLSTATE: 42K09",
                        f.name()
                    )))
                }
            };
            if let Some(ps) = a[0].data_type().decimal() {
                let (p, s) = decimal::round_type(ps, scale);
                a.push(Expr::Literal(Value::Int(scale)));
                return Ok((a, T::Decimal(p, s)));
            }
            a = vec![c.to(a.remove(0), &T::Double)?, Expr::Literal(Value::Int(scale))];
            T::Double
        }
        Func::Floor | Func::Ceil => {
            c.arity(1, 2)?;
            // A decimal keeps its integral digits and one more for the carry (`ceil(9.5)` is 10).
            if let Some((p, s)) = a[0].data_type().decimal() {
                let t = if s == 0 { (p, 0) } else { decimal::round_type((p, s), 0) };
                return Ok((a, T::Decimal(t.0, t.1)));
            }
            a = vec![c.numeric(a.remove(0))?];
            T::BigInt
        }
        Func::Sqrt => {
            c.arity(1, 1)?;
            a = vec![c.to(a.remove(0), &T::Double)?];
            T::Double
        }
        other => return Err(Error::internal(format!("{other:?} is not checked here"))),
    };
    Ok((a, ty))
}

/// The vectorised kernels of the functions in this file.
/// A decimal argument as it is; any other as `Checks::numeric` makes it.
fn decimal_or_numeric(e: Expr, c: &Checks) -> Result<Expr> {
    if e.data_type().decimal().is_some() {
        Ok(e)
    } else {
        c.numeric(e)
    }
}

/// `abs`, `round`, `bround`, `ceil` and `floor` of a decimal column, into a `DECIMAL(p,s)`.
fn decimal_kernel(f: Func, a: &[ArrayRef], out: (u8, u8)) -> Result<ArrayRef> {
    use arrow_array::types::Decimal128Type;
    use decimal::Rounding;
    let arrow_schema::DataType::Decimal128(_, scale) = a[0].data_type() else {
        return Err(Error::internal("a decimal kernel over another type"));
    };
    let scale = (*scale).max(0) as u8;
    let digits = match a.get(1) {
        Some(d) => d.as_primitive::<Int32Type>().value(0),
        None => 0,
    };
    let mode = match f {
        Func::Round => Rounding::HalfUp,
        Func::Bround => Rounding::HalfEven,
        Func::Ceil => Rounding::Ceiling,
        _ => Rounding::Floor,
    };
    let values = a[0].as_primitive::<Decimal128Type>();
    let mut b = arrow_array::builder::Decimal128Builder::with_capacity(values.len()).with_precision_and_scale(out.0, out.1 as i8)?;
    for v in values.iter() {
        match v {
            None => b.append_null(),
            Some(v) if f == Func::Abs => b.append_value(v.abs()),
            Some(v) => match decimal::round(v, scale, digits, mode, out) {
                Ok(r) => b.append_value(r),
                Err(decimal::ArithError::Overflow(shown)) => return Err(crate::expr::cast::decimal_out_of_range(&shown, out.0, out.1)),
                Err(decimal::ArithError::DivideByZero) => return Err(Error::internal("rounding divided by zero")),
            },
        }
    }
    Ok(Arc::new(b.finish()))
}

pub(super) fn kernel(f: Func, a: &[ArrayRef], _raw: &[Columnar], data_type: &DataType, len: usize) -> Result<ArrayRef> {
    if let (Some(out), arrow_schema::DataType::Decimal128(..)) = (data_type.decimal(), a[0].data_type()) {
        return decimal_kernel(f, a, out);
    }
    Ok(match f {
        Func::Abs => match a[0].data_type() {
            arrow_schema::DataType::Int32 => Arc::new(
                a[0].as_primitive::<Int32Type>().try_unary::<_, Int32Type, _>(|v| v.checked_abs().ok_or_else(|| arith_overflow("abs")))?,
            ) as ArrayRef,
            arrow_schema::DataType::Int64 => Arc::new(
                a[0].as_primitive::<Int64Type>().try_unary::<_, Int64Type, _>(|v| v.checked_abs().ok_or_else(|| arith_overflow("abs")))?,
            ),
            _ => Arc::new(a[0].as_primitive::<Float64Type>().unary::<_, Float64Type>(f64::abs)),
        },
        Func::Round | Func::Bround => {
            let scale = a[1].as_primitive::<Int32Type>().value(0);
            let half_even = f == Func::Bround;
            match a[0].data_type() {
                arrow_schema::DataType::Float64 => {
                    Arc::new(a[0].as_primitive::<Float64Type>().unary::<_, Float64Type>(|v| round_double(v, scale, half_even))) as ArrayRef
                }
                arrow_schema::DataType::Int32 => Arc::new(a[0].as_primitive::<Int32Type>().try_unary::<_, Int32Type, _>(|v| {
                    round_integer(v as i64, scale, half_even).and_then(|r| i32::try_from(r).map_err(|_| arith_overflow("round")))
                })?),
                _ => Arc::new(a[0].as_primitive::<Int64Type>().try_unary::<_, Int64Type, _>(|v| round_integer(v, scale, half_even))?),
            }
        }
        Func::Floor | Func::Ceil if a.len() == 2 => {
            let scale = a[1].as_primitive::<Int32Type>().value(0);
            let ceil = f == Func::Ceil;
            Arc::new(a[0].as_primitive::<Float64Type>().unary::<_, Float64Type>(|v| ceil_floor_scaled(v, scale, ceil)))
        }
        Func::Floor | Func::Ceil => {
            let ceil = f == Func::Ceil;
            let mut b = Int64Builder::with_capacity(len);
            for i in 0..len {
                match Value::from_array(a[0].as_ref(), i) {
                    Value::Null => b.append_null(),
                    Value::Int(v) => b.append_value(v as i64),
                    Value::BigInt(v) => b.append_value(v),
                    Value::Double(d) => {
                        let r = if ceil { d.ceil() } else { d.floor() };
                        if !r.is_finite() || r.abs() >= 9.2e18 {
                            return Err(arith_overflow(f.name()));
                        }
                        b.append_value(r as i64)
                    }
                    _ => b.append_null(),
                }
            }
            Arc::new(b.finish())
        }
        Func::Sqrt => Arc::new(a[0].as_primitive::<Float64Type>().unary::<_, Float64Type>(f64::sqrt)),
        other => return Err(Error::internal(format!("{other:?} has no kernel here"))),
    })
}

/// Rounds a double the way Spark does: on its shortest decimal form (`round(2.675, 2)` = 2.68),
/// HALF_UP for `round`, HALF_EVEN for `bround`.
pub fn round_double(v: f64, scale: i32, half_even: bool) -> f64 {
    if !v.is_finite() {
        return v;
    }
    let text = format!("{}", v.abs());
    let (int_part, frac_part) = text.split_once('.').unwrap_or((&text, ""));
    let digits: Vec<u8> = int_part.bytes().chain(frac_part.bytes()).map(|b| b - b'0').collect();
    let point = int_part.len() as i64; // digits before the decimal point
    let keep = point + scale as i64; // how many leading digits survive
    if keep >= digits.len() as i64 {
        return v;
    }
    if keep < 0 {
        return 0.0_f64.copysign(v);
    }
    let keep = keep as usize;
    let first_dropped = digits[keep];
    let rest_nonzero = digits[keep + 1..].iter().any(|&d| d != 0);
    let last_kept_odd = keep > 0 && digits[keep - 1] % 2 == 1;
    let round_up = match first_dropped.cmp(&5) {
        std::cmp::Ordering::Greater => true,
        std::cmp::Ordering::Less => false,
        std::cmp::Ordering::Equal => !half_even || rest_nonzero || last_kept_odd,
    };
    let mut kept: Vec<u8> = digits[..keep].to_vec();
    if round_up {
        let mut i = kept.len();
        loop {
            if i == 0 {
                kept.insert(0, 1);
                break;
            }
            i -= 1;
            if kept[i] == 9 {
                kept[i] = 0;
            } else {
                kept[i] += 1;
                break;
            }
        }
    }
    // Rebuild `kept` as a number with `scale` fractional digits.
    let mut s: String = kept.iter().map(|d| (d + b'0') as char).collect();
    let frac_digits = scale.max(0) as usize;
    if scale < 0 {
        s.extend(std::iter::repeat_n('0', (-scale) as usize));
    }
    let s = if frac_digits > 0 {
        let pad = frac_digits + 1;
        let s = if s.len() < pad { format!("{}{}", "0".repeat(pad - s.len()), s) } else { s };
        let (i, f) = s.split_at(s.len() - frac_digits);
        format!("{i}.{f}")
    } else {
        s
    };
    let r: f64 = s.parse().unwrap_or(v.abs());
    r.copysign(v)
}

/// `ceil(v, scale)` / `floor(v, scale)` on the decimal form of `v`, as Spark's DECIMAL
/// arithmetic gives them (`ceil(1.1, 1)` is 1.1, not the 1.2 that `ceil(1.1 * 10) / 10` gives).
pub(super) fn ceil_floor_scaled(v: f64, scale: i32, ceil: bool) -> f64 {
    if !v.is_finite() {
        return v;
    }
    let nearest = round_double(v, scale, false);
    if nearest == v || (ceil && nearest > v) || (!ceil && nearest < v) {
        return nearest;
    }
    let step = 10f64.powi(-scale);
    round_double(if ceil { nearest + step } else { nearest - step }, scale, false)
}

pub(super) fn round_integer(v: i64, scale: i32, half_even: bool) -> Result<i64> {
    if scale >= 0 {
        return Ok(v);
    }
    let p = 10i64.checked_pow((-scale) as u32).ok_or_else(|| arith_overflow("round"))?;
    let (q, r) = (v / p, v % p);
    let twice = r.abs() * 2;
    let up = twice > p || (twice == p && (!half_even || q % 2 != 0));
    let q = if up { q + v.signum() } else { q };
    q.checked_mul(p).ok_or_else(|| arith_overflow("round"))
}
