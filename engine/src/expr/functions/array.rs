//! Array functions: size, element_at, sort_array.

use std::sync::Arc;

use arrow_array::cast::AsArray;
use arrow_array::types::Int32Type;
use arrow_array::{Array, ArrayRef};

use super::*;

/// The argument rules and result type of the functions in this file (Spark's implicit casts).
pub(super) fn check(f: Func, mut a: Vec<Expr>, c: &Checks) -> Result<(Vec<Expr>, DataType)> {
    use DataType as T;
    let ty = match f {
        Func::Size => {
            c.arity(1, 1)?;
            if !matches!(a[0].data_type(), T::Array(_) | T::Null) {
                return Err(mismatch(f, &a[0], "ARRAY"));
            }
            T::Int
        }
        Func::ElementAt | Func::TryElementAt => {
            c.arity(2, 2)?;
            let elem = match a[0].data_type() {
                T::Array(inner) => *inner,
                _ => return Err(mismatch(f, &a[0], "ARRAY")),
            };
            let idx = c.to(a.remove(1), &T::Int)?;
            a.push(idx);
            elem
        }
        Func::SortArray => {
            c.arity(1, 2)?;
            let t = a[0].data_type();
            if !matches!(t, T::Array(_)) {
                return Err(mismatch(f, &a[0], "ARRAY"));
            }
            if a.len() == 2 && !matches!(a[1], Expr::Literal(Value::Boolean(_))) {
                return Err(Error::type_mismatch("the second argument of `sort_array` must be TRUE or FALSE"));
            }
            t
        }
        other => return Err(Error::internal(format!("{other:?} is not checked here"))),
    };
    Ok((a, ty))
}

/// The vectorised kernels of the functions in this file.
pub(super) fn kernel(f: Func, a: &[ArrayRef], _raw: &[Columnar], data_type: &DataType, len: usize) -> Result<ArrayRef> {
    Ok(match f {
        Func::Size => {
            let out: arrow_array::Int32Array = match a[0].as_list_opt::<i32>() {
                Some(list) => (0..len).map(|i| (!list.is_null(i)).then(|| list.value_length(i))).collect(),
                None => (0..len).map(|_| None).collect(),
            };
            Arc::new(out)
        }
        Func::ElementAt | Func::TryElementAt => {
            return array_index(&Columnar::Array(a[0].clone()), &Columnar::Array(a[1].clone()), len, true, f == Func::ElementAt)
                .map(|c| c.array().clone())
        }
        Func::SortArray => {
            let ascending = a.get(1).map(|b| b.as_boolean().value(0)).unwrap_or(true);
            let inner = match data_type {
                DataType::Array(inner) => inner.as_ref().clone(),
                _ => DataType::Null,
            };
            let sorted: Vec<Value> = (0..len)
                .map(|i| match Value::from_array(a[0].as_ref(), i) {
                    Value::Array(mut items) => {
                        items.sort_by(|x, y| match (x.is_null(), y.is_null()) {
                            (true, true) => std::cmp::Ordering::Equal,
                            (true, false) => std::cmp::Ordering::Less,
                            (false, true) => std::cmp::Ordering::Greater,
                            _ => x.compare(y),
                        });
                        if !ascending {
                            items.reverse();
                        }
                        Value::Array(items)
                    }
                    other => other,
                })
                .collect();
            crate::value::values_to_array(&sorted, &DataType::Array(Box::new(inner)))
        }
        other => return Err(Error::internal(format!("{other:?} has no kernel here"))),
    })
}

/// `arr[i]` (0-based) and `element_at(arr, i)` (1-based, negative from the end). ANSI mode fails
/// the batch on an index out of range unless `fail` is false (`try_element_at`).
pub fn array_index(list: &Columnar, index: &Columnar, num_rows: usize, one_based: bool, fail: bool) -> Result<Columnar> {
    let scalar = list.is_scalar() && index.is_scalar();
    let len = if scalar { 1 } else { num_rows };
    let lists = list.clone().into_array(len)?;
    let idx = index.clone().into_array(len)?;
    let lists = lists.as_list::<i32>();
    let idx = idx.as_primitive::<Int32Type>();
    let mut take_idx: Vec<Option<u32>> = Vec::with_capacity(len);
    for i in 0..len {
        if lists.is_null(i) || idx.is_null(i) {
            take_idx.push(None);
            continue;
        }
        let n = lists.value_length(i) as i64;
        let k = idx.value(i) as i64;
        let pos = if one_based {
            if k == 0 {
                return Err(Error::runtime("INVALID_INDEX_OF_ZERO", "[INVALID_INDEX_OF_ZERO] The index 0 is invalid. An index shall be either < 0 or > 0 (the first element has index 1). SQLSTATE: 22003"));
            }
            if k > 0 {
                k - 1
            } else {
                n + k
            }
        } else {
            k
        };
        if pos < 0 || pos >= n {
            if fail {
                let (cond, hint) = if one_based {
                    (
                        "INVALID_ARRAY_INDEX_IN_ELEMENT_AT",
                        "Use `try_element_at` to tolerate accessing element at invalid index and return NULL instead.",
                    )
                } else {
                    (
                        "INVALID_ARRAY_INDEX",
                        "Use the SQL function `get()` to tolerate accessing element at invalid index and return NULL instead.",
                    )
                };
                return Err(Error::runtime(
                    cond,
                    format!("[{cond}] The index {k} is out of bounds. The array has {n} elements. {hint} SQLSTATE: 22003"),
                ));
            }
            take_idx.push(None);
            continue;
        }
        take_idx.push(Some((lists.value_offsets()[i] as i64 + pos) as u32));
    }
    let indices = arrow_array::UInt32Array::from(take_idx);
    let out = arrow_select::take::take(lists.values().as_ref(), &indices, None)?;
    Ok(Columnar::wrap(out, scalar))
}
