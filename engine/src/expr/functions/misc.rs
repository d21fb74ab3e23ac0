//! Spark's miscellaneous functions that need no catalog: `assert_true`, the bitmap helpers
//! (`bitmap_bit_position`, `bitmap_bucket_number`, `bitmap_count`), `hmac`, and `conv` between bases.

use arrow_array::ArrayRef;

use super::*;

/// The bits of one bitmap of Spark's bitmap functions: 4 KiB.
const BITMAP_BITS: i64 = 8 * 4 * 1024;

pub(super) fn check(f: Func, a: Vec<Expr>, c: &Checks) -> Result<(Vec<Expr>, DataType)> {
    use DataType as T;
    let (types, optional, result): (Vec<DataType>, usize, DataType) = match f {
        Func::AssertTrue => {
            c.arity(1, 2)?;
            let mut it = a.into_iter();
            let cond = it.next().unwrap_or(Expr::Literal(Value::Null));
            if !matches!(cond.data_type(), T::Boolean | T::Null) {
                return Err(mismatch(f, &cond, "BOOLEAN"));
            }
            let mut out = vec![cond];
            for m in it {
                out.push(c.to(m, &T::String)?);
            }
            return Ok((out, T::Null));
        }
        Func::BitmapBitPosition | Func::BitmapBucketNumber => (vec![T::BigInt], 0, T::BigInt),
        Func::BitmapCount => {
            c.arity(1, 1)?;
            let e = a.into_iter().next().unwrap_or(Expr::Literal(Value::Null));
            if !matches!(e.data_type(), T::Binary | T::Null) {
                return Err(mismatch(f, &e, "BINARY"));
            }
            return Ok((vec![e.cast_to(&T::Binary)], T::BigInt));
        }
        Func::Hmac => {
            c.arity(2, 3)?;
            let mut out = Vec::new();
            for (k, e) in a.into_iter().enumerate() {
                // The key and message are bytes (a string's UTF-8); the algorithm a string.
                out.push(match (k, e.data_type()) {
                    (0 | 1, T::String) => e.cast_to(&T::Binary),
                    (0 | 1, _) => c.to(e, &T::Binary)?,
                    _ => c.to(e, &T::String)?,
                });
            }
            return Ok((out, T::Binary));
        }
        Func::Conv => (vec![T::String, T::Int, T::Int], 0, T::String),
        // Spark's result is a TINYINT; it is 0 or 1, so an INT here holds the same value and
        // cannot overflow where the TINYINT would not (and typeof refuses a call's type).
        Func::BitGet => {
            c.arity(2, 2)?;
            let mut it = a.into_iter();
            let x = it.next().unwrap_or(Expr::Literal(Value::Null));
            if !x.data_type().is_integral() && x.data_type() != T::Null {
                return Err(mismatch(f, &x, "INTEGRAL"));
            }
            let x = if x.data_type() == T::BigInt { x } else { x.cast_to(&T::Int) };
            let pos = c.to(it.next().unwrap_or(Expr::Literal(Value::Null)), &T::Int)?;
            return Ok((vec![x, pos], T::Int));
        }
        other => return Err(Error::internal(format!("{other:?} is not checked here"))),
    };
    c.arity(types.len() - optional, types.len())?;
    let a = a.into_iter().zip(&types).map(|(e, t)| c.to(e, t)).collect::<Result<Vec<_>>>()?;
    Ok((a, result))
}

pub(super) fn kernel(f: Func, a: &[ArrayRef], _raw: &[Columnar], data_type: &DataType, len: usize) -> Result<ArrayRef> {
    if f == Func::AssertTrue {
        // NULL is not true: it fails too.
        return rowwise(a, len, data_type, |row| match &row[0] {
            Value::Boolean(true) => Ok(Value::Null),
            _ => {
                let message = match row.get(1) {
                    Some(Value::String(m)) => m.clone(),
                    _ => "'assert_true' is not true!".into(),
                };
                Err(Error::runtime("USER_RAISED_EXCEPTION", format!("[USER_RAISED_EXCEPTION] {message} SQLSTATE: P0001")))
            }
        });
    }
    strict(a, len, data_type, |row| {
        Ok(match f {
            Func::BitmapBitPosition => {
                let v = int_of(&row[0]);
                Value::BigInt(if v > 0 { (v - 1) % BITMAP_BITS } else { v.wrapping_neg() % BITMAP_BITS })
            }
            Func::BitmapBucketNumber => {
                let v = int_of(&row[0]);
                Value::BigInt(if v > 0 { 1 + (v - 1) / BITMAP_BITS } else { v / BITMAP_BITS })
            }
            Func::BitmapCount => match &row[0] {
                Value::Binary(b) => Value::BigInt(b.iter().map(|x| i64::from(x.count_ones())).sum()),
                _ => Value::Null,
            },
            Func::Hmac => {
                let bytes = |v: &Value| match v {
                    Value::Binary(b) => b.clone(),
                    _ => Vec::new(),
                };
                let algorithm = row.get(2).map_or("SHA-256".to_string(), |v| str_of(v).to_ascii_uppercase());
                Value::Binary(hmac(&algorithm, &bytes(&row[0]), &bytes(&row[1]))?)
            }
            Func::BitGet => {
                let bits = if matches!(row[0], Value::BigInt(_)) { 64 } else { 32 };
                let pos = int_of(&row[1]);
                if !(0..bits).contains(&pos) {
                    return Err(Error::runtime(
                        "INVALID_PARAMETER_VALUE.BIT_POSITION_RANGE",
                        format!("[INVALID_PARAMETER_VALUE.BIT_POSITION_RANGE] The value of parameter(s) `pos` in `bit_get` is invalid: expects an integer value in [0, {bits}), but got {pos}. SQLSTATE: 22023"),
                    ));
                }
                Value::Int(((int_of(&row[0]) >> pos) & 1) as i32)
            }
            Func::Conv => conv(str_of(&row[0]), int_of(&row[1]), int_of(&row[2]))?.map_or(Value::Null, Value::String),
            other => return Err(Error::internal(format!("{other:?} has no kernel here"))),
        })
    })
}

/// Spark's `conv(num, from_base, to_base)` (Hive's NumberConverter): the leading digits of `num`
/// in `from_base` (a `-` first negates), read as an unsigned 64-bit number, written in
/// `to_base`, signed when `to_base` is negative. NULL for a base outside 2..=36 or empty text;
/// ANSI mode reports a number past 64 bits.
fn conv(num: &str, from: i64, to: i64) -> Result<Option<String>> {
    if !(2..=36).contains(&from) || !(2..=36).contains(&to.abs()) || num.is_empty() {
        return Ok(None);
    }
    let (mut negative, digits) = match num.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, num),
    };
    let mut v: u64 = 0;
    for c in digits.chars() {
        let Some(d) = c.to_digit(from as u32) else { break };
        v = v.checked_mul(from as u64).and_then(|v| v.checked_add(u64::from(d))).ok_or_else(|| {
            Error::runtime(
                "ARITHMETIC_OVERFLOW",
                "[ARITHMETIC_OVERFLOW] Overflow in function conv(). If necessary set \"spark.sql.ansi.enabled\" to \"false\" to bypass this error. SQLSTATE: 22003",
            )
        })?;
    }
    if negative && to > 0 {
        v = v.wrapping_neg();
        negative = false;
    }
    if to < 0 && (v as i64) < 0 {
        v = (v as i64).unsigned_abs();
        negative = true;
    }
    let radix = to.unsigned_abs();
    let mut out = Vec::new();
    loop {
        out.push(std::char::from_digit((v % radix) as u32, radix as u32).unwrap_or('0').to_ascii_uppercase());
        v /= radix;
        if v == 0 {
            break;
        }
    }
    if negative && to < 0 && out.iter().any(|c| *c != '0') {
        out.push('-');
    }
    Ok(Some(out.into_iter().rev().collect()))
}

/// A hash function over a whole message.
type Digest = fn(&[u8]) -> Vec<u8>;

/// RFC 2104 HMAC over Spark's algorithms: SHA-224, SHA-256 (the default), SHA-384, SHA-512.
fn hmac(algorithm: &str, key: &[u8], message: &[u8]) -> Result<Vec<u8>> {
    let (hash, block): (Digest, usize) = match algorithm {
        "SHA-224" => (|m| super::hash::sha256(m, true), 64),
        "SHA-256" => (|m| super::hash::sha256(m, false), 64),
        "SHA-384" => (|m| super::hash::sha512(m, true), 128),
        "SHA-512" => (|m| super::hash::sha512(m, false), 128),
        other => {
            return Err(Error::runtime(
                "INVALID_PARAMETER_VALUE.HMAC_ALGORITHM",
                format!("[INVALID_PARAMETER_VALUE] The value of parameter(s) `algorithm` in `hmac` is invalid: expects one of 'SHA-224', 'SHA-256', 'SHA-384', 'SHA-512', but got '{other}'. SQLSTATE: 22023"),
            ))
        }
    };
    let mut k = if key.len() > block { hash(key) } else { key.to_vec() };
    k.resize(block, 0);
    let inner: Vec<u8> = k.iter().map(|b| b ^ 0x36).chain(message.iter().copied()).collect();
    let outer: Vec<u8> = k.iter().map(|b| b ^ 0x5c).chain(hash(&inner)).collect();
    Ok(hash(&outer))
}

#[cfg(test)]
mod tests {
    use super::*;
    #[cfg(target_arch = "wasm32")]
    use wasm_bindgen_test::wasm_bindgen_test as test;

    fn hex(b: &[u8]) -> String {
        b.iter().map(|x| format!("{x:02X}")).collect()
    }

    #[test]
    fn bit_get_reads_one_bit() {
        let run = |x: Value, pos: i32| {
            let arrays: Vec<ArrayRef> = vec![
                crate::value::values_to_array(std::slice::from_ref(&x), &x.data_type()),
                crate::value::values_to_array(&[Value::Int(pos)], &DataType::Int),
            ];
            kernel(Func::BitGet, &arrays, &[], &DataType::Int, 1).map(|a| Value::from_array(a.as_ref(), 0))
        };
        assert_eq!(run(Value::Int(11), 0).unwrap(), Value::Int(1));
        assert_eq!(run(Value::Int(11), 2).unwrap(), Value::Int(0));
        assert_eq!(run(Value::BigInt(1 << 40), 40).unwrap(), Value::Int(1));
        assert!(run(Value::Int(11), 32).is_err());
        assert!(run(Value::Int(11), -1).is_err());
    }

    #[test]
    fn conv_follows_hive_number_converter() {
        let c = |n, f, t| conv(n, f, t).unwrap();
        assert_eq!(c("100", 2, 10).as_deref(), Some("4"));
        assert_eq!(c("-10", 16, -10).as_deref(), Some("-16"));
        assert_eq!(c("-1", 10, 16).as_deref(), Some("FFFFFFFFFFFFFFFF"));
        assert_eq!(c("12abc", 10, 2).as_deref(), Some("1100"));
        assert_eq!(c("ff", 16, 10).as_deref(), Some("255"));
        assert_eq!(c("0", 10, 2).as_deref(), Some("0"));
        assert_eq!(c("1", 1, 10), None);
        assert!(conv("99999999999999999999999", 10, 16).is_err());
    }

    #[test]
    fn hmac_matches_rfc_4231_and_spark() {
        assert_eq!(hex(&hmac("SHA-256", b"key", b"message").unwrap()), "6E9EF29B75FFFC5B7ABAE527D58FDADB2FE42E7219011976917343065F58ED4A");
        // RFC 4231 test case 2.
        assert_eq!(
            hex(&hmac("SHA-256", b"Jefe", b"what do ya want for nothing?").unwrap()),
            "5BDCC146BF60754E6A042426089575C75A003F089D2739839DEC58B964EC3843"
        );
        assert!(hmac("MD5", b"k", b"m").is_err());
    }
}
