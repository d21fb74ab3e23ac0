//! String functions: upper/lower, trim, length, concat, substring, split.

use std::sync::Arc;

use arrow_array::builder::{ListBuilder, StringBuilder};
use arrow_array::cast::AsArray;
use arrow_array::types::Int32Type;
use arrow_array::{Array, ArrayRef};

use super::*;

/// The argument rules and result type of the functions in this file (Spark's implicit casts).
pub(super) fn check(f: Func, mut a: Vec<Expr>, c: &Checks) -> Result<(Vec<Expr>, DataType)> {
    use DataType as T;
    let ty = match f {
        Func::Trim | Func::Ltrim | Func::Rtrim => {
            // (string [, characters to trim]); the analyzer puts Spark's forms in this order.
            c.arity(1, 2)?;
            a = a.into_iter().map(|e| c.to(e, &T::String)).collect::<Result<_>>()?;
            T::String
        }
        Func::Upper | Func::Lower => {
            c.arity(1, 1)?;
            a = vec![c.to(a.remove(0), &T::String)?];
            T::String
        }
        Func::Length => {
            c.arity(1, 1)?;
            a = vec![c.to(a.remove(0), &T::String)?];
            T::Int
        }
        Func::Concat => {
            c.arity(1, usize::MAX)?;
            a = a.into_iter().map(|e| c.to(e, &T::String)).collect::<Result<_>>()?;
            T::String
        }
        Func::ConcatWs => {
            c.arity(1, usize::MAX)?;
            a = a
                .into_iter()
                .map(|e| if matches!(e.data_type(), T::Array(_)) { Ok(e) } else { c.to(e, &T::String) })
                .collect::<Result<_>>()?;
            T::String
        }
        Func::Substring => {
            c.arity(2, 3)?;
            let mut it = a.into_iter();
            let mut out = vec![c.to(it.next().unwrap_or(Expr::Literal(Value::Null)), &T::String)?];
            for e in it {
                out.push(c.to(e, &T::Int)?);
            }
            a = out;
            T::String
        }
        Func::Split => {
            c.arity(2, 3)?;
            let limit = if a.len() == 3 { a.pop() } else { None };
            a = a.into_iter().map(|e| c.to(e, &T::String)).collect::<Result<_>>()?;
            if let Some(l) = limit {
                a.push(c.to(l, &T::Int)?);
            }
            T::Array(Box::new(T::String))
        }
        other => return Err(Error::internal(format!("{other:?} is not checked here"))),
    };
    Ok((a, ty))
}

/// The vectorised kernels of the functions in this file.
pub(super) fn kernel(f: Func, a: &[ArrayRef], raw: &[Columnar], data_type: &DataType, len: usize) -> Result<ArrayRef> {
    Ok(match f {
        Func::Upper => map_str(&a[0], |s, out| out.push_str(&s.to_uppercase())),
        Func::Lower => map_str(&a[0], |s, out| out.push_str(&s.to_lowercase())),
        Func::Trim | Func::Ltrim | Func::Rtrim if a.len() == 2 => strict(a, len, data_type, |row| {
            let chars: Vec<char> = str_of(&row[1]).chars().collect();
            let hit = |c: char| chars.contains(&c);
            let s = str_of(&row[0]);
            Ok(Value::String(
                match f {
                    Func::Trim => s.trim_matches(hit),
                    Func::Ltrim => s.trim_start_matches(hit),
                    _ => s.trim_end_matches(hit),
                }
                .to_string(),
            ))
        })?,
        Func::Trim => map_str(&a[0], |s, out| out.push_str(s.trim_matches(' '))),
        Func::Ltrim => map_str(&a[0], |s, out| out.push_str(s.trim_start_matches(' '))),
        Func::Rtrim => map_str(&a[0], |s, out| out.push_str(s.trim_end_matches(' '))),
        Func::Length => {
            let s = a[0].as_string::<i32>();
            Arc::new(s.iter().map(|v| v.map(|v| v.chars().count() as i32)).collect::<arrow_array::Int32Array>())
        }
        Func::Concat => {
            let cols: Vec<_> = a.iter().map(|c| c.as_string::<i32>()).collect();
            let mut b = StringBuilder::with_capacity(len, len * 16);
            let mut buf = String::new();
            for i in 0..len {
                if cols.iter().any(|c| c.is_null(i)) {
                    b.append_null();
                    continue;
                }
                buf.clear();
                cols.iter().for_each(|c| buf.push_str(c.value(i)));
                b.append_value(&buf);
            }
            Arc::new(b.finish())
        }
        Func::ConcatWs => {
            let sep = a[0].as_string::<i32>();
            let mut b = StringBuilder::with_capacity(len, len * 16);
            let mut buf = String::new();
            for i in 0..len {
                if sep.is_null(i) {
                    b.append_null();
                    continue;
                }
                buf.clear();
                let mut first = true;
                let mut push = |s: &str, buf: &mut String| {
                    if !first {
                        buf.push_str(sep.value(i));
                    }
                    first = false;
                    buf.push_str(s);
                };
                for col in &a[1..] {
                    if col.is_null(i) {
                        continue;
                    }
                    if let Some(list) = col.as_list_opt::<i32>() {
                        let items = list.value(i);
                        let items = items.as_string::<i32>();
                        items.iter().flatten().for_each(|s| push(s, &mut buf));
                    } else {
                        push(col.as_string::<i32>().value(i), &mut buf);
                    }
                }
                b.append_value(&buf);
            }
            Arc::new(b.finish())
        }
        Func::Substring => {
            let s = a[0].as_string::<i32>();
            let pos = a[1].as_primitive::<Int32Type>();
            let count = a.get(2).map(|c| c.as_primitive::<Int32Type>());
            let mut b = StringBuilder::with_capacity(len, len * 8);
            for i in 0..len {
                if s.is_null(i) || pos.is_null(i) || count.is_some_and(|c| c.is_null(i)) {
                    b.append_null();
                    continue;
                }
                b.append_value(substring_sql(s.value(i), pos.value(i), count.map(|c| c.value(i))));
            }
            Arc::new(b.finish())
        }
        Func::Split => split_limited(&a[0], &a[1], &raw[1], a.get(2))?,
        other => return Err(Error::internal(format!("{other:?} has no kernel here"))),
    })
}

/// Applies `f` to every non-null string, reusing one buffer.
pub(super) fn map_str(input: &ArrayRef, f: impl Fn(&str, &mut String)) -> ArrayRef {
    let s = input.as_string::<i32>();
    let mut b = StringBuilder::with_capacity(s.len(), s.value_data().len());
    let mut buf = String::new();
    for v in s.iter() {
        match v {
            Some(v) => {
                buf.clear();
                f(v, &mut buf);
                b.append_value(&buf);
            }
            None => b.append_null(),
        }
    }
    Arc::new(b.finish())
}

/// Spark's `substring(str, pos[, len])`: 1-based, 0 acts as 1, negative counts from the end.
pub(super) fn substring_sql(s: &str, pos: i32, len: Option<i32>) -> &str {
    let n = s.chars().count() as i64;
    let start = if pos > 0 {
        pos as i64 - 1
    } else if pos < 0 {
        n + pos as i64
    } else {
        0
    };
    let end = match len {
        Some(l) => start + l as i64,
        None => i64::MAX,
    };
    let start = start.max(0);
    let end = end.min(n);
    if start >= end {
        return "";
    }
    let byte = |k: i64| s.char_indices().nth(k as usize).map(|(b, _)| b).unwrap_or(s.len());
    &s[byte(start)..byte(end)]
}

#[cfg(test)]
pub(super) fn split(strings: &ArrayRef, patterns: &ArrayRef, raw_pattern: &Columnar) -> Result<ArrayRef> {
    split_limited(strings, patterns, raw_pattern, None)
}

/// `split(s, regex [, limit])`: with a limit > 0, at most `limit` parts, the last holding the
/// rest; a limit <= 0 splits on every match (Spark keeps trailing empty strings either way).
pub(super) fn split_limited(
    strings: &ArrayRef,
    patterns: &ArrayRef,
    raw_pattern: &Columnar,
    limits: Option<&ArrayRef>,
) -> Result<ArrayRef> {
    let limits = limits.map(|l| l.as_primitive::<Int32Type>());
    let s = strings.as_string::<i32>();
    let p = patterns.as_string::<i32>();
    let compile = |pat: &str| {
        regex_lite::Regex::new(pat).map_err(|e| {
            Error::runtime(
                "INVALID_PARAMETER_VALUE.PATTERN",
                format!(
                    "[INVALID_PARAMETER_VALUE.PATTERN] The value of parameter `regex` in `split` is invalid: '{pat}': {e}. SQLSTATE: 22023"
                ),
            )
        })
    };
    let fixed = match raw_pattern {
        Columnar::Scalar(a) if !a.is_null(0) => Some(compile(a.as_string::<i32>().value(0))?),
        _ => None,
    };
    let mut b = ListBuilder::new(StringBuilder::new());
    for i in 0..s.len() {
        if s.is_null(i) || p.is_null(i) || limits.is_some_and(|l| l.is_null(i)) {
            b.append(false);
            continue;
        }
        let limit = limits.map_or(-1, |l| l.value(i));
        let owned;
        let re = match &fixed {
            Some(r) => r,
            None => {
                owned = compile(p.value(i))?;
                &owned
            }
        };
        let text = s.value(i);
        if re.as_str().is_empty() {
            let chars: Vec<char> = text.chars().collect();
            let keep = if limit > 0 { (limit as usize).min(chars.len()) } else { chars.len() };
            for (k, c) in chars.iter().enumerate().take(keep) {
                if k + 1 == keep && keep < chars.len() {
                    b.values().append_value(chars[k..].iter().collect::<String>());
                } else {
                    b.values().append_value(c.to_string());
                }
            }
        } else if limit > 0 {
            re.splitn(text, limit as usize).for_each(|part| b.values().append_value(part));
        } else {
            re.split(text).for_each(|part| b.values().append_value(part));
        }
        b.append(true);
    }
    let out = b.finish();
    let field = Arc::new(arrow_schema::Field::new("element", arrow_schema::DataType::Utf8, true));
    Ok(Arc::new(arrow_array::ListArray::new(field, out.offsets().clone(), out.values().clone(), out.nulls().cloned())))
}
