//! Conditional functions: coalesce, greatest, least.

use arrow_array::ArrayRef;

use super::*;

/// The argument rules and result type of the functions in this file (Spark's implicit casts).
pub(super) fn check(f: Func, mut a: Vec<Expr>, c: &Checks) -> Result<(Vec<Expr>, DataType)> {
    use DataType as T;
    let ty = match f {
        Func::Coalesce => {
            c.arity(1, usize::MAX)?;
            let mut common = T::Null;
            for e in &a {
                common = crate::sql::coercion::wider_type(&common, &e.data_type()).ok_or_else(|| {
                    Error::type_mismatch(format!(
                        "[DATATYPE_MISMATCH.DATA_DIFF_TYPES] Cannot resolve \"coalesce(...)\" due to data type mismatch: Input to `coalesce` should all be the same type, but it's ({}). SQLSTATE: 42K09",
                        a.iter().map(|e| format!("\"{}\"", e.data_type().spark_name())).collect::<Vec<_>>().join(", ")
                    ))
                })?;
            }
            a = a.into_iter().map(|e| e.cast_to(&common)).collect();
            common
        }
        Func::Greatest | Func::Least => {
            c.arity(2, usize::MAX)?;
            let mut common = T::Null;
            for e in &a {
                common = crate::sql::coercion::wider_type(&common, &e.data_type())
                    .filter(|t| !matches!(t, T::Array(_) | T::Window))
                    .ok_or_else(|| {
                        Error::type_mismatch(format!(
                            "[DATATYPE_MISMATCH.DATA_DIFF_TYPES] Cannot resolve \"{}(...)\" due to data type mismatch: Input to `{}` should all be the same type, but it's ({}). SQLSTATE: 42K09",
                            f.name(),
                            f.name(),
                            a.iter().map(|e| format!("\"{}\"", e.data_type().spark_name())).collect::<Vec<_>>().join(", ")
                        ))
                        .with_condition("DATATYPE_MISMATCH.DATA_DIFF_TYPES")
                    })?;
            }
            a = a.into_iter().map(|e| e.cast_to(&common)).collect();
            common
        }
        other => return Err(Error::internal(format!("{other:?} is not checked here"))),
    };
    Ok((a, ty))
}

/// The vectorised kernels of the functions in this file.
pub(super) fn kernel(f: Func, a: &[ArrayRef], _raw: &[Columnar], data_type: &DataType, len: usize) -> Result<ArrayRef> {
    Ok(match f {
        // NULLs are skipped; NULL only when every argument is.
        Func::Greatest | Func::Least => rowwise(a, len, data_type, |row| {
            let best = row.iter().filter(|v| !v.is_null()).reduce(|best, v| {
                let ord = v.compare(best);
                let better = if f == Func::Greatest { ord.is_gt() } else { ord.is_lt() };
                if better {
                    v
                } else {
                    best
                }
            });
            Ok(best.cloned().unwrap_or(Value::Null))
        })?,
        Func::Coalesce => {
            let mut acc = a[a.len() - 1].clone();
            for arg in a[..a.len() - 1].iter().rev() {
                let mask = arrow_arith::boolean::is_not_null(arg.as_ref())?;
                acc = arrow_select::zip::zip(&mask, arg, &acc)?;
            }
            acc
        }
        other => return Err(Error::internal(format!("{other:?} has no kernel here"))),
    })
}
