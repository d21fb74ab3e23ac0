//! More math: pow, the logarithms (NULL outside their domain, as Spark), exp, cbrt, sign,
//! pmod, hex/bin, factorial, trigonometry, width_bucket, nanvl, rint, hypot, and the `try_`
//! arithmetic that gives NULL instead of failing.

use arrow_array::ArrayRef;

use super::*;

/// The argument rules and result type of the functions in this file (Spark's implicit casts).
pub(super) fn check(f: Func, mut a: Vec<Expr>, c: &Checks) -> Result<(Vec<Expr>, DataType)> {
    use DataType as T;
    let d = T::Double;
    let doubles = |a: Vec<Expr>, min: usize, max: usize| -> Result<Vec<Expr>> {
        c.arity(min, max)?;
        a.into_iter().map(|e| c.to(e, &T::Double)).collect()
    };
    let ty = match f {
        Func::Pi | Func::E => {
            c.arity(0, 0)?;
            d
        }
        Func::Pow | Func::Atan2 | Func::Hypot | Func::Nanvl => {
            a = doubles(a, 2, 2)?;
            d
        }
        Func::Log => {
            a = doubles(a, 1, 2)?;
            d
        }
        Func::Ln
        | Func::Log10
        | Func::Log2
        | Func::Log1p
        | Func::Exp
        | Func::Expm1
        | Func::Cbrt
        | Func::Sign
        | Func::Sin
        | Func::Cos
        | Func::Tan
        | Func::Asin
        | Func::Acos
        | Func::Atan
        | Func::Sinh
        | Func::Cosh
        | Func::Tanh
        | Func::Asinh
        | Func::Acosh
        | Func::Atanh
        | Func::Cot
        | Func::Sec
        | Func::Csc
        | Func::Degrees
        | Func::Radians
        | Func::Rint => {
            a = doubles(a, 1, 1)?;
            d
        }
        Func::WidthBucket => {
            c.arity(4, 4)?;
            let n = c.to(a.pop().unwrap_or(Expr::Literal(Value::Null)), &T::BigInt)?;
            a = a.into_iter().map(|e| c.to(e, &T::Double)).collect::<Result<_>>()?;
            a.push(n);
            T::BigInt
        }
        Func::Factorial => {
            c.arity(1, 1)?;
            a = vec![c.to(a.remove(0), &T::Int)?];
            T::BigInt
        }
        Func::Hex => {
            c.arity(1, 1)?;
            let v = a.remove(0);
            a = vec![match v.data_type() {
                T::String | T::Binary => v,
                T::Int | T::BigInt | T::Null => v.cast_to(&T::BigInt),
                _ => return Err(mismatch(f, &v, "BIGINT, BINARY or STRING")),
            }];
            T::String
        }
        Func::Bin => {
            c.arity(1, 1)?;
            a = vec![c.to(a.remove(0), &T::BigInt)?];
            T::String
        }
        Func::Pmod | Func::TryAdd | Func::TrySubtract | Func::TryMultiply | Func::TryMod | Func::TryDivide
            if a.len() == 2 && a.iter().any(|e| e.data_type().decimal().is_some()) =>
        {
            // As the operators they stand for: Spark's decimal result types, exact values.
            let r = a.pop().unwrap_or(Expr::Literal(Value::Null));
            let l = a.pop().unwrap_or(Expr::Literal(Value::Null));
            let (l, r) = crate::expr::decimal_operands(l, r).ok_or_else(|| Error::internal("no decimal operand"))?;
            match (l.data_type(), r.data_type()) {
                (T::Decimal(p1, s1), T::Decimal(p2, s2)) => {
                    use crate::types::decimal::result_type;
                    let (p, s) = result_type(decimal_op(f), (p1, s1), (p2, s2));
                    a = vec![l, r];
                    T::Decimal(p, s)
                }
                _ => {
                    a = vec![l.cast_to(&T::Double), r.cast_to(&T::Double)];
                    d
                }
            }
        }
        Func::Pmod | Func::TryAdd | Func::TrySubtract | Func::TryMultiply | Func::TryMod | Func::TryDivide => {
            c.arity(2, 2)?;
            let r = c.numeric(a.pop().unwrap_or(Expr::Literal(Value::Null)))?;
            let l = c.numeric(a.pop().unwrap_or(Expr::Literal(Value::Null)))?;
            let wider = crate::sql::coercion::wider_type(&l.data_type(), &r.data_type()).unwrap_or(T::Double);
            let t = if f == Func::TryDivide || wider == T::Null { T::Double } else { wider };
            a = vec![l.cast_to(&t), r.cast_to(&t)];
            t
        }
        other => return Err(Error::internal(format!("{other:?} is not checked here"))),
    };
    Ok((a, ty))
}

/// NULL when `x` is outside a logarithm's domain, as Spark gives.
fn positive_or_null(x: f64, v: f64) -> Value {
    if x <= 0.0 {
        Value::Null
    } else {
        Value::Double(v)
    }
}

pub(crate) fn remainder_by_zero() -> Error {
    Error::runtime(
        "REMAINDER_BY_ZERO",
        "[REMAINDER_BY_ZERO] Remainder by zero. Use `try_mod` to tolerate divisor being 0 and return NULL instead. If necessary set \"spark.sql.ansi.enabled\" to \"false\" to bypass this error. SQLSTATE: 22012",
    )
}

/// The kernels of the functions in this file, row by row.
pub(super) fn kernel(f: Func, a: &[ArrayRef], _raw: &[Columnar], data_type: &DataType, len: usize) -> Result<ArrayRef> {
    if matches!(f, Func::Pi | Func::E) {
        let v = if f == Func::Pi { std::f64::consts::PI } else { std::f64::consts::E };
        return Ok(crate::value::values_to_array(&vec![Value::Double(v); len], data_type));
    }
    if f == Func::Nanvl {
        return rowwise(a, len, data_type, |row| {
            Ok(match &row[0] {
                Value::Double(x) if x.is_nan() => row[1].clone(),
                other => other.clone(),
            })
        });
    }
    if let Some(out) = data_type.decimal() {
        return decimal_kernel(f, a, len, out);
    }
    let ints = *data_type == DataType::Int || *data_type == DataType::BigInt;
    let int_value = |v: i64| if *data_type == DataType::Int { Value::Int(v as i32) } else { Value::BigInt(v) };
    let fits = |v: i64| *data_type != DataType::Int || i32::try_from(v).is_ok();
    strict(a, len, data_type, |row| {
        let x = double_of(&row[0]);
        let y = row.get(1).map(double_of).unwrap_or(0.0);
        let d = Value::Double;
        Ok(match f {
            Func::Pow => d(x.powf(y)),
            Func::Atan2 => d(x.atan2(y)),
            Func::Hypot => d(x.hypot(y)),
            Func::Ln => positive_or_null(x, x.ln()),
            Func::Log if row.len() == 2 => {
                if x <= 0.0 {
                    Value::Null
                } else {
                    positive_or_null(y, y.ln() / x.ln())
                }
            }
            Func::Log => positive_or_null(x, x.ln()),
            Func::Log10 => positive_or_null(x, x.log10()),
            Func::Log2 => positive_or_null(x, x.log2()),
            Func::Log1p => positive_or_null(x + 1.0, x.ln_1p()),
            Func::Exp => d(x.exp()),
            Func::Expm1 => d(x.exp_m1()),
            Func::Cbrt => d(x.cbrt()),
            Func::Sign => d(if x.is_nan() {
                f64::NAN
            } else if x == 0.0 {
                0.0
            } else {
                x.signum()
            }),
            Func::Sin => d(x.sin()),
            Func::Cos => d(x.cos()),
            Func::Tan => d(x.tan()),
            Func::Asin => d(x.asin()),
            Func::Acos => d(x.acos()),
            Func::Atan => d(x.atan()),
            Func::Sinh => d(x.sinh()),
            Func::Cosh => d(x.cosh()),
            Func::Tanh => d(x.tanh()),
            Func::Asinh => d(x.asinh()),
            Func::Acosh => d(x.acosh()),
            Func::Atanh => d(x.atanh()),
            Func::Cot => d(1.0 / x.tan()),
            Func::Sec => d(1.0 / x.cos()),
            Func::Csc => d(1.0 / x.sin()),
            Func::Degrees => d(x.to_degrees()),
            Func::Radians => d(x.to_radians()),
            Func::Rint => d(x.round_ties_even()),
            Func::WidthBucket => width_bucket(x, y, double_of(&row[2]), int_of(&row[3])).map_or(Value::Null, Value::BigInt),
            Func::Factorial => {
                let n = int_of(&row[0]);
                if (0..=20).contains(&n) {
                    Value::BigInt((1..=n).product())
                } else {
                    Value::Null
                }
            }
            Func::Hex => Value::String(match &row[0] {
                Value::String(s) => s.bytes().map(|b| format!("{b:02X}")).collect(),
                Value::Binary(b) => b.iter().map(|b| format!("{b:02X}")).collect(),
                other => format!("{:X}", int_of(other)),
            }),
            Func::Bin => Value::String(format!("{:b}", int_of(&row[0]))),
            Func::Pmod | Func::TryMod if ints => {
                let (l, r) = (int_of(&row[0]), int_of(&row[1]));
                if r == 0 {
                    return if f == Func::TryMod { Ok(Value::Null) } else { Err(remainder_by_zero()) };
                }
                let m = l.wrapping_rem(r);
                int_value(if f == Func::Pmod && m < 0 { (m + r).wrapping_rem(r) } else { m })
            }
            Func::Pmod | Func::TryMod => {
                if y == 0.0 {
                    return if f == Func::TryMod { Ok(Value::Null) } else { Err(remainder_by_zero()) };
                }
                let m = x % y;
                d(if f == Func::Pmod && m < 0.0 { (m + y) % y } else { m })
            }
            Func::TryDivide => {
                if y == 0.0 {
                    Value::Null
                } else {
                    d(x / y)
                }
            }
            Func::TryAdd | Func::TrySubtract | Func::TryMultiply if ints => {
                let (l, r) = (int_of(&row[0]), int_of(&row[1]));
                let v = match f {
                    Func::TryAdd => l.checked_add(r),
                    Func::TrySubtract => l.checked_sub(r),
                    _ => l.checked_mul(r),
                };
                v.filter(|v| fits(*v)).map_or(Value::Null, int_value)
            }
            Func::TryAdd => d(x + y),
            Func::TrySubtract => d(x - y),
            Func::TryMultiply => d(x * y),
            other => return Err(Error::internal(format!("{other:?} has no kernel here"))),
        })
    })
}

/// The decimal operation a `try_` function (or `pmod`, a remainder first) stands for: one
/// mapping for the result type and the kernel.
fn decimal_op(f: Func) -> crate::types::decimal::Op {
    use crate::types::decimal::Op;
    match f {
        Func::TryAdd => Op::Add,
        Func::TrySubtract => Op::Subtract,
        Func::TryMultiply => Op::Multiply,
        Func::TryDivide => Op::Divide,
        _ => Op::Remainder,
    }
}

/// `try_add`, `try_subtract`, `try_multiply`, `try_divide`, `try_mod` (NULL where the operator
/// fails) and `pmod` (the remainder made positive) of two decimal columns.
fn decimal_kernel(f: Func, a: &[ArrayRef], len: usize, out: (u8, u8)) -> Result<ArrayRef> {
    use crate::types::decimal::{arith, ArithError, Op};
    let scale_of = |v: &Value| if let Value::Decimal { unscaled, scale, .. } = v { Some((*unscaled, *scale)) } else { None };
    let data_type = DataType::Decimal(out.0, out.1);
    let op = decimal_op(f);
    strict(a, len, &data_type, |row| {
        let (Some((x, s1)), Some((y, s2))) = (scale_of(&row[0]), scale_of(&row[1])) else { return Ok(Value::Null) };
        let wide = (crate::types::decimal::MAX_PRECISION, out.1);
        let result = if f == Func::Pmod {
            // Spark's Pmod: `r = a % n`, then `(r + n) % n` when r is negative.
            arith(Op::Remainder, x, s1, y, s2, wide).and_then(|r| {
                if r < 0 {
                    let shifted = arith(Op::Add, r, out.1, y, s2, wide)?;
                    arith(Op::Remainder, shifted, out.1, y, s2, out)
                } else {
                    arith(Op::Add, r, out.1, 0, 0, out)
                }
            })
        } else {
            arith(op, x, s1, y, s2, out)
        };
        match result {
            Ok(v) => Ok(Value::Decimal { unscaled: v, precision: out.0, scale: out.1 }),
            Err(ArithError::DivideByZero) if f == Func::Pmod => Err(remainder_by_zero()),
            Err(ArithError::Overflow(shown)) if f == Func::Pmod => Err(crate::expr::cast::decimal_out_of_range(&shown, out.0, out.1)),
            Err(_) => Ok(Value::Null),
        }
    })
}

/// Spark's `width_bucket(value, min, max, n)`: 0 below the range, n + 1 above it, NULL for a
/// degenerate range or bucket count.
fn width_bucket(value: f64, min: f64, max: f64, n: i64) -> Option<i64> {
    if n <= 0 || n == i64::MAX || value.is_nan() || min == max || !min.is_finite() || !max.is_finite() {
        return None;
    }
    let (lower, upper) = (min.min(max), min.max(max));
    Some(if min < max {
        if value < lower {
            0
        } else if value >= upper {
            n + 1
        } else {
            (n as f64 * (value - lower) / (max - min)) as i64 + 1
        }
    } else if value > upper {
        0
    } else if value <= lower {
        n + 1
    } else {
        (n as f64 * (upper - value) / (min - max)) as i64 + 1
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    #[cfg(target_arch = "wasm32")]
    use wasm_bindgen_test::wasm_bindgen_test as test;

    #[test]
    fn width_bucket_follows_spark() {
        assert_eq!(width_bucket(5.3, 0.2, 10.6, 5), Some(3));
        assert_eq!(width_bucket(-2.1, 1.3, 3.4, 3), Some(0));
        assert_eq!(width_bucket(8.1, 0.0, 5.7, 4), Some(5));
        assert_eq!(width_bucket(-0.9, 5.2, 0.5, 2), Some(3));
        assert_eq!(width_bucket(1.0, 0.0, 10.0, 0), None);
    }
}
