//! Integral operators: `a DIV b`, `&`, `|`, `^`, `~`, the shifts and bit_count, with Java's
//! semantics (a shift distance is taken modulo the width, as `1 << 33` is 2 for an INT).

use arrow_array::ArrayRef;

use super::*;

/// Coerces an operand of an integral operator: INT and BIGINT stay, a string or NULL is read
/// as `to`; anything else (a DOUBLE among them) is refused, as Spark's ANSI mode does.
fn integral(f: Func, c: &Checks, e: Expr, to: &DataType) -> Result<Expr> {
    match e.data_type() {
        DataType::Int | DataType::BigInt => Ok(e),
        DataType::String | DataType::Null => c.to(e, to),
        _ => Err(mismatch(f, &e, "INTEGRAL")),
    }
}

/// The argument rules and result type of the functions in this file (Spark's implicit casts).
pub(super) fn check(f: Func, mut a: Vec<Expr>, c: &Checks) -> Result<(Vec<Expr>, DataType)> {
    use DataType as T;
    let ty = match f {
        Func::IntDiv => {
            c.arity(2, 2)?;
            let r = a.pop().unwrap_or(Expr::Literal(Value::Null));
            let l = a.pop().unwrap_or(Expr::Literal(Value::Null));
            if let Some((l, r)) = crate::expr::decimal_operands(l.clone(), r.clone()) {
                // Decimals divide exactly, the quotient truncated (Spark's IntegralDivide).
                if l.data_type().decimal().is_none() || r.data_type().decimal().is_none() {
                    return Err(mismatch(f, if l.data_type().decimal().is_none() { &l } else { &r }, "INTEGRAL\" or \"DECIMAL"));
                }
                return Ok((vec![l, r], T::BigInt));
            }
            let (l, r) = (integral(f, c, l, &T::BigInt)?, integral(f, c, r, &T::BigInt)?);
            a = vec![l.cast_to(&T::BigInt), r.cast_to(&T::BigInt)];
            T::BigInt
        }
        Func::BitAnd | Func::BitOr | Func::BitXor => {
            c.arity(2, 2)?;
            let r = integral(f, c, a.pop().unwrap_or(Expr::Literal(Value::Null)), &T::BigInt)?;
            let l = integral(f, c, a.pop().unwrap_or(Expr::Literal(Value::Null)), &T::BigInt)?;
            let t = if l.data_type() == T::Int && r.data_type() == T::Int { T::Int } else { T::BigInt };
            a = vec![l.cast_to(&t), r.cast_to(&t)];
            t
        }
        Func::BitNot => {
            c.arity(1, 1)?;
            let v = integral(f, c, a.remove(0), &T::BigInt)?;
            let t = v.data_type();
            a = vec![v];
            t
        }
        Func::BitCount => {
            c.arity(1, 1)?;
            let v = a.remove(0);
            let v = if v.data_type() == T::Boolean { v } else { integral(f, c, v, &T::BigInt)? };
            a = vec![v];
            T::Int
        }
        Func::ShiftLeft | Func::ShiftRight | Func::ShiftRightUnsigned => {
            c.arity(2, 2)?;
            let by = integral(f, c, a.pop().unwrap_or(Expr::Literal(Value::Null)), &T::Int)?;
            let v = integral(f, c, a.pop().unwrap_or(Expr::Literal(Value::Null)), &T::Int)?;
            let t = v.data_type();
            a = vec![v, by.cast_to(&T::Int)];
            t
        }
        other => return Err(Error::internal(format!("{other:?} is not checked here"))),
    };
    Ok((a, ty))
}

/// The vectorised kernels of the functions in this file.
pub(super) fn kernel(f: Func, a: &[ArrayRef], _raw: &[Columnar], data_type: &DataType, len: usize) -> Result<ArrayRef> {
    let wide = *data_type == DataType::BigInt;
    let out = |v: i64| if wide { Value::BigInt(v) } else { Value::Int(v as i32) };
    match f {
        Func::IntDiv if matches!(a[0].data_type(), arrow_schema::DataType::Decimal128(..)) => rowwise(a, len, data_type, |row| {
            let (Value::Decimal { unscaled: x, scale: s1, .. }, Value::Decimal { unscaled: y, scale: s2, .. }) = (&row[0], &row[1]) else {
                return Ok(Value::Null);
            };
            match crate::types::decimal::quot(*x, *s1, *y, *s2) {
                Ok(Some(q)) => Ok(Value::BigInt(q)),
                Ok(None) => Err(Error::runtime(
                    "ARITHMETIC_OVERFLOW",
                    "[ARITHMETIC_OVERFLOW] Overflow in integral divide. Use 'try_divide' to tolerate overflow and return NULL instead. If necessary set \"spark.sql.ansi.enabled\" to \"false\" to bypass this error. SQLSTATE: 22003",
                )),
                Err(_) => Err(Error::from(arrow_schema::ArrowError::DivideByZero)),
            }
        }),
        Func::IntDiv => rowwise(a, len, data_type, |row| {
            // The divisor first, as Spark: NULL / 0 is NULL, x / 0 fails.
            let (Some(d), Some(n)) = (row[1].as_i64(), row[0].as_i64()) else { return Ok(Value::Null) };
            if d == 0 {
                return Err(Error::from(arrow_schema::ArrowError::DivideByZero));
            }
            n.checked_div(d).map(Value::BigInt).ok_or_else(|| {
                Error::runtime(
                    "ARITHMETIC_OVERFLOW",
                    "[ARITHMETIC_OVERFLOW] Overflow in integral divide. Use 'try_divide' to tolerate overflow and return NULL instead. If necessary set \"spark.sql.ansi.enabled\" to \"false\" to bypass this error. SQLSTATE: 22003",
                )
            })
        }),
        Func::BitAnd | Func::BitOr | Func::BitXor => strict(a, len, data_type, |row| {
            let (l, r) = (int_of(&row[0]), int_of(&row[1]));
            Ok(out(match f {
                Func::BitAnd => l & r,
                Func::BitOr => l | r,
                _ => l ^ r,
            }))
        }),
        Func::BitNot => strict(a, len, data_type, |row| Ok(out(!int_of(&row[0])))),
        Func::BitCount => strict(a, len, data_type, |row| {
            Ok(Value::Int(match &row[0] {
                Value::Boolean(b) => *b as i32,
                // An INT is widened to a BIGINT first, as Spark does: bit_count(-1) is 64.
                other => int_of(other).count_ones() as i32,
            }))
        }),
        Func::ShiftLeft | Func::ShiftRight | Func::ShiftRightUnsigned => strict(a, len, data_type, |row| {
            let by = int_of(&row[1]) as u32;
            Ok(match &row[0] {
                Value::Int(v) => Value::Int(match f {
                    Func::ShiftLeft => v.wrapping_shl(by),
                    Func::ShiftRight => v.wrapping_shr(by),
                    _ => (*v as u32).wrapping_shr(by) as i32,
                }),
                other => {
                    let v = int_of(other);
                    Value::BigInt(match f {
                        Func::ShiftLeft => v.wrapping_shl(by),
                        Func::ShiftRight => v.wrapping_shr(by),
                        _ => (v as u64).wrapping_shr(by) as i64,
                    })
                }
            })
        }),
        other => Err(Error::internal(format!("{other:?} has no kernel here"))),
    }
}
