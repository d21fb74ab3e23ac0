//! Binary encodings and a few small lookups: `base64`/`unbase64`, `unhex`, `isnan`, and the
//! English day and month abbreviations of `dayname`/`monthname`.

use arrow_array::ArrayRef;

use super::*;

pub(super) fn check(f: Func, mut a: Vec<Expr>, c: &Checks) -> Result<(Vec<Expr>, DataType)> {
    c.arity(1, 1)?;
    let e = a.remove(0);
    let t = e.data_type();
    Ok(match f {
        // Spark casts a string to BINARY for base64.
        Func::Base64 => match t {
            DataType::Binary => (vec![e], DataType::String),
            DataType::String | DataType::Null => (vec![e.cast_to(&DataType::Binary)], DataType::String),
            _ => return Err(mismatch(f, &e, "BINARY")),
        },
        Func::Unbase64 | Func::Unhex => (vec![c.to(e, &DataType::String)?], DataType::Binary),
        Func::IsNan => (vec![c.to(e, &DataType::Double)?], DataType::Boolean),
        _ => (vec![c.to(e, &DataType::Date)?], DataType::String),
    })
}

const DAYS: [&str; 7] = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"];
const MONTHS: [&str; 12] = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];

pub(super) fn kernel(f: Func, a: &[ArrayRef], _raw: &[Columnar], data_type: &DataType, len: usize) -> Result<ArrayRef> {
    if f == Func::IsNan {
        // NULL is not NaN: false, not NULL.
        return rowwise(a, len, data_type, |row| Ok(Value::Boolean(matches!(row[0], Value::Double(d) if d.is_nan()))));
    }
    strict(a, len, data_type, |row| {
        Ok(match (f, &row[0]) {
            (Func::Base64, Value::Binary(b)) => Value::String(crate::value::base64_encode(b)),
            (Func::Unbase64, Value::String(s)) => {
                let compact: String = s.chars().filter(|c| !c.is_ascii_whitespace()).collect();
                match crate::value::base64_decode(&compact) {
                    Some(b) => Value::Binary(b),
                    None => {
                        return Err(Error::runtime(
                            "INVALID_PARAMETER_VALUE.BASE64",
                            format!("[INVALID_PARAMETER_VALUE.BASE64] The value of parameter(s) `str` in `unbase64` is invalid: {s:?} is not base64. SQLSTATE: 22023"),
                        ))
                    }
                }
            }
            (Func::Unhex, Value::String(s)) => unhex(s).map_or(Value::Null, Value::Binary),
            (Func::DayName, Value::Date(d)) => Value::String(DAYS[(i64::from(*d) + 3).rem_euclid(7) as usize].into()),
            (Func::MonthName, Value::Date(d)) => match chrono::NaiveDate::from_num_days_from_ce_opt(d.saturating_add(719_163)) {
                Some(date) => Value::String(MONTHS[chrono::Datelike::month0(&date) as usize].into()),
                None => Value::Null,
            },
            (other, v) => return Err(Error::internal(format!("{other:?} has no kernel for {v:?}"))),
        })
    })
}

/// Spark's `unhex`: pairs of hex digits, a leading `0` implied for an odd count; NULL for a
/// character that is not a hex digit.
pub(super) fn unhex(s: &str) -> Option<Vec<u8>> {
    let digits: Vec<u8> = s.bytes().map(|b| (b as char).to_digit(16).map(|d| d as u8)).collect::<Option<_>>()?;
    let mut out = Vec::with_capacity(digits.len().div_ceil(2));
    let mut rest = &digits[..];
    if digits.len() % 2 == 1 {
        out.push(digits[0]);
        rest = &digits[1..];
    }
    out.extend(rest.chunks_exact(2).map(|p| p[0] << 4 | p[1]));
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    #[cfg(target_arch = "wasm32")]
    use wasm_bindgen_test::wasm_bindgen_test as test;

    #[test]
    fn unhex_and_names_follow_spark() {
        assert_eq!(unhex("537061726B2053514C").as_deref(), Some(&b"Spark SQL"[..]));
        assert_eq!(unhex("F").as_deref(), Some(&[0x0F][..]));
        assert_eq!(unhex("1G"), None);
        assert_eq!(unhex("").as_deref(), Some(&[][..]));
        // 1970-01-01 was a Thursday; 2008-02-20 (13929 days later) a Wednesday.
        assert_eq!(DAYS[3], "Thu");
        assert_eq!(DAYS[(13929 + 3) % 7], "Wed");
    }
}
