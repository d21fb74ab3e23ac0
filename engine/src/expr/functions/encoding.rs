//! Bytes and their encodings: Spark's BINARY forms of the string functions (`length`,
//! `substring`, `lpad`, `contains`, ... count and cut bytes, not characters), `encode`/`decode`
//! between strings and charsets, `to_binary`, the UTF-8 validators, base32 and `overlay`.

use arrow_array::ArrayRef;

use super::*;

/// Whether a function's first argument (or, for the predicates, every argument) is BINARY, so
/// the call takes Spark's byte form rather than casting the bytes to a string.
pub(super) fn binary_form(f: Func, args: &[Expr]) -> Func {
    let bin = |k: usize| args.get(k).is_some_and(|e| e.data_type() == DataType::Binary);
    let bin_or_null = |k: usize| args.get(k).is_some_and(|e| matches!(e.data_type(), DataType::Binary | DataType::Null));
    match f {
        Func::Length | Func::OctetLength if bin(0) => Func::BinaryLength,
        Func::BitLength if bin(0) => Func::BinaryBitLength,
        Func::Substring if bin(0) => Func::BinarySubstring,
        Func::Left if bin(0) => Func::BinaryLeft,
        // `lpad(bytes, n)` pads with zero bytes; with a pad, both must be bytes (else strings).
        Func::Lpad if bin(0) && (args.len() == 2 || bin_or_null(2)) => Func::BinaryLpad,
        Func::Rpad if bin(0) && (args.len() == 2 || bin_or_null(2)) => Func::BinaryRpad,
        Func::Reverse if bin(0) => Func::BinaryReverse,
        Func::Contains | Func::StartsWith | Func::EndsWith if (bin(0) && bin_or_null(1)) || (bin(1) && bin_or_null(0)) => match f {
            Func::Contains => Func::BinaryContains,
            Func::StartsWith => Func::BinaryStartsWith,
            _ => Func::BinaryEndsWith,
        },
        // Only when every part is BINARY: Spark reads `concat(x'61', NULL)` as strings.
        Func::Concat if !args.is_empty() && (0..args.len()).all(bin) => Func::BinaryConcat,
        Func::Overlay if (bin(0) && bin_or_null(1)) || (bin(1) && bin_or_null(0)) => Func::BinaryOverlay,
        other => other,
    }
}

pub(super) fn check(f: Func, a: Vec<Expr>, c: &Checks) -> Result<(Vec<Expr>, DataType)> {
    use DataType as T;
    let (b, s, i) = (T::Binary, T::String, T::Int);
    // The types of the arguments, the count that may be left out at the end, the result.
    let (types, optional, result): (Vec<&DataType>, usize, DataType) = match f {
        Func::BinaryLength | Func::BinaryBitLength => (vec![&b], 0, T::Int),
        Func::BinarySubstring => (vec![&b, &i, &i], 1, T::Binary),
        Func::BinaryLeft => (vec![&b, &i], 0, T::Binary),
        Func::BinaryLpad | Func::BinaryRpad => (vec![&b, &i, &b], 1, T::Binary),
        Func::BinaryReverse => (vec![&b], 0, T::Binary),
        Func::BinaryContains | Func::BinaryStartsWith | Func::BinaryEndsWith => (vec![&b, &b], 0, T::Boolean),
        Func::BinaryConcat => {
            c.arity(1, usize::MAX)?;
            let a = a.into_iter().map(|e| c.to(e, &b)).collect::<Result<Vec<_>>>()?;
            return Ok((a, T::Binary));
        }
        Func::Overlay => {
            // Bytes with text is Spark's DATA_DIFF_TYPES, not a cast.
            if a.iter().take(2).any(|e| e.data_type() == T::Binary) {
                return Err(Error::type_mismatch(
                    "[DATATYPE_MISMATCH.DATA_DIFF_TYPES] Cannot resolve \"overlay(...)\" due to data type mismatch: Input to `overlay` should all be the same type, but it's (\"BINARY\" or \"STRING\"). SQLSTATE: 42K09",
                )
                .with_condition("DATATYPE_MISMATCH.DATA_DIFF_TYPES"));
            }
            (vec![&s, &s, &i, &i], 1, T::String)
        }
        Func::BinaryOverlay => (vec![&b, &b, &i, &i], 1, T::Binary),
        Func::Encode => (vec![&s, &s], 0, T::Binary),
        Func::Decode => (vec![&b, &s], 0, T::String),
        Func::ToBinary | Func::TryToBinary => (vec![&s, &s], 1, T::Binary),
        Func::ToBase32 => {
            c.arity(1, 1)?;
            // A string's UTF-8 bytes, as Spark casts a string argument to BINARY here.
            let e = a.into_iter().next().unwrap_or(Expr::Literal(Value::Null));
            let e = match e.data_type() {
                T::String => e.cast_to(&b),
                _ => c.to(e, &b)?,
            };
            return Ok((vec![e], T::String));
        }
        Func::FromBase32 => (vec![&s], 0, T::Binary),
        Func::IsValidUtf8 | Func::MakeValidUtf8 | Func::ValidateUtf8 | Func::TryValidateUtf8 => {
            c.arity(1, 1)?;
            // The bytes themselves: a string here is valid UTF-8 by construction, so only a
            // BINARY argument can be invalid.
            let e = a.into_iter().next().unwrap_or(Expr::Literal(Value::Null));
            let e = match e.data_type() {
                T::Binary => e,
                _ => c.to(e, &s)?,
            };
            let result = if f == Func::IsValidUtf8 { T::Boolean } else { T::String };
            return Ok((vec![e], result));
        }
        other => return Err(Error::internal(format!("{other:?} is not checked here"))),
    };
    c.arity(types.len() - optional, types.len())?;
    let a = a.into_iter().zip(types).map(|(e, t)| c.to(e, t)).collect::<Result<Vec<_>>>()?;
    Ok((a, result))
}

/// The bytes of a BINARY or STRING value.
fn bytes_of(v: &Value) -> &[u8] {
    match v {
        Value::Binary(b) => b,
        Value::String(s) => s.as_bytes(),
        _ => &[],
    }
}

pub(super) fn kernel(f: Func, a: &[ArrayRef], _raw: &[Columnar], data_type: &DataType, len: usize) -> Result<ArrayRef> {
    match f {
        Func::TryToBinary => return rowwise(a, len, data_type, |row| Ok(to_binary(row).unwrap_or(Value::Null))),
        Func::TryValidateUtf8 => {
            return strict(a, len, data_type, |row| {
                Ok(std::str::from_utf8(bytes_of(&row[0])).map_or(Value::Null, |s| Value::String(s.to_string())))
            })
        }
        // `concat` of bytes is NULL when any part is.
        _ => {}
    }
    strict(a, len, data_type, |row| {
        let bytes = bytes_of(&row[0]);
        let bin = |b: Vec<u8>| Ok(Value::Binary(b));
        match f {
            Func::BinaryLength => Ok(Value::Int(bytes.len() as i32)),
            Func::BinaryBitLength => Ok(Value::Int(bytes.len() as i32 * 8)),
            Func::BinarySubstring => {
                let (from, to) = substring_range(bytes.len(), int_of(&row[1]), row.get(2).map(int_of));
                bin(bytes[from..to].to_vec())
            }
            Func::BinaryLeft => {
                let n = int_of(&row[1]).clamp(0, bytes.len() as i64) as usize;
                bin(bytes[..n].to_vec())
            }
            Func::BinaryLpad | Func::BinaryRpad => {
                let pad = row.get(2).map_or(&[0u8][..], bytes_of);
                bin(pad_bytes(bytes, int_of(&row[1]), pad, f == Func::BinaryLpad))
            }
            Func::BinaryReverse => bin(bytes.iter().rev().copied().collect()),
            Func::BinaryContains => {
                let needle = bytes_of(&row[1]);
                Ok(Value::Boolean(needle.is_empty() || bytes.windows(needle.len()).any(|w| w == needle)))
            }
            Func::BinaryStartsWith => Ok(Value::Boolean(bytes.starts_with(bytes_of(&row[1])))),
            Func::BinaryEndsWith => Ok(Value::Boolean(bytes.ends_with(bytes_of(&row[1])))),
            Func::BinaryConcat => bin(row.iter().flat_map(|v| bytes_of(v).iter().copied()).collect()),
            Func::Overlay => {
                let chars: Vec<char> = str_of(&row[0]).chars().collect();
                let with: Vec<char> = str_of(&row[1]).chars().collect();
                let out = overlay(&chars, &with, int_of(&row[2]), row.get(3).map(int_of));
                Ok(Value::String(out.into_iter().collect()))
            }
            Func::BinaryOverlay => bin(overlay(bytes, bytes_of(&row[1]), int_of(&row[2]), row.get(3).map(int_of))),
            Func::Encode => bin(encode(str_of(&row[0]), str_of(&row[1]))?),
            Func::Decode => decode(bytes, str_of(&row[1])).map(Value::String),
            Func::ToBinary => to_binary(row),
            Func::ToBase32 => Ok(Value::String(base32_encode(bytes))),
            Func::FromBase32 => match base32_decode(str_of(&row[0])) {
                Some(b) => bin(b),
                None => Err(Error::runtime(
                    "CONVERSION_INVALID_INPUT",
                    format!("[CONVERSION_INVALID_INPUT] The value '{}' (STRING) cannot be converted to BINARY because it is malformed: it is not base32. SQLSTATE: 22018", str_of(&row[0])),
                )),
            },
            Func::IsValidUtf8 => Ok(Value::Boolean(std::str::from_utf8(bytes).is_ok())),
            Func::MakeValidUtf8 => Ok(Value::String(String::from_utf8_lossy(bytes).into_owned())),
            Func::ValidateUtf8 => match std::str::from_utf8(bytes) {
                Ok(s) => Ok(Value::String(s.to_string())),
                Err(_) => Err(Error::runtime(
                    "INVALID_UTF8_STRING",
                    format!("[INVALID_UTF8_STRING] Invalid UTF8 byte sequence found in string: {}. SQLSTATE: 22029", hex_of(bytes)),
                )),
            },
            other => Err(Error::internal(format!("{other:?} has no kernel here"))),
        }
    })
}

/// Spark's `substring` positions over `n` items: 1-based, 0 acts as 1, negative counts from
/// the end; the end is taken from the unclamped start, as Spark does.
pub(super) fn substring_range(n: usize, pos: i64, len: Option<i64>) -> (usize, usize) {
    let n = n as i64;
    let start = match pos {
        p if p > 0 => p - 1,
        p if p < 0 => n + p,
        _ => 0,
    };
    let end = len.map_or(n, |l| start.saturating_add(l)).min(n);
    let start = start.max(0);
    if start >= end {
        (0, 0)
    } else {
        (start as usize, end as usize)
    }
}

/// `lpad`/`rpad` of bytes: cut to `len`, or filled with `pad` repeated (unchanged for an empty pad).
fn pad_bytes(s: &[u8], len: i64, pad: &[u8], left: bool) -> Vec<u8> {
    let len = len.max(0) as usize;
    if len <= s.len() {
        return s[..len].to_vec();
    }
    if pad.is_empty() {
        return s.to_vec();
    }
    let fill = pad.iter().copied().cycle().take(len - s.len());
    if left {
        fill.chain(s.iter().copied()).collect()
    } else {
        s.iter().copied().chain(fill).collect()
    }
}

/// Spark's `overlay(input PLACING replace FROM pos [FOR len])`: the items before `pos`, then
/// `replace`, then the items from `pos + len` (`len` defaults to the length of `replace`).
fn overlay<T: Clone>(input: &[T], replace: &[T], pos: i64, len: Option<i64>) -> Vec<T> {
    let len = len.filter(|l| *l >= 0).unwrap_or(replace.len() as i64);
    let (a, b) = substring_range(input.len(), 1, Some(pos - 1));
    let (c, d) = substring_range(input.len(), pos.saturating_add(len), None);
    let mut out = input[a..b].to_vec();
    out.extend_from_slice(replace);
    out.extend_from_slice(&input[c..d]);
    out
}

fn hex_of(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02X}")).collect()
}

/// The charsets Spark 4's `encode` and `decode` accept (`spark.sql.legacy.javaCharsets` off).
const CHARSETS: &str = "'US-ASCII', 'ISO-8859-1', 'UTF-8', 'UTF-16BE', 'UTF-16LE', 'UTF-16', 'UTF-32'";

fn bad_charset(func: &str, charset: &str) -> Error {
    Error::runtime(
        "INVALID_PARAMETER_VALUE.CHARSET",
        format!("[INVALID_PARAMETER_VALUE.CHARSET] The value of parameter(s) `charset` in `{func}` is invalid: expects one of the {CHARSETS}, but got {charset}. SQLSTATE: 22023"),
    )
}

fn malformed(func: &str, charset: &str) -> Error {
    Error::runtime(
        "MALFORMED_CHARACTER_CODING",
        format!("[MALFORMED_CHARACTER_CODING] Invalid value found when performing `{func}` with `{charset}`. SQLSTATE: 22000"),
    )
}

/// `encode(str, charset)`: ANSI mode reports a character the charset cannot hold.
fn encode(s: &str, charset: &str) -> Result<Vec<u8>> {
    let units = |big: bool| s.encode_utf16().flat_map(move |u| if big { u.to_be_bytes() } else { u.to_le_bytes() }).collect::<Vec<u8>>();
    Ok(match charset.to_ascii_uppercase().as_str() {
        "UTF-8" | "UTF8" => s.as_bytes().to_vec(),
        "US-ASCII" | "ISO-8859-1" => {
            let max = if charset.eq_ignore_ascii_case("US-ASCII") { 0x7F } else { 0xFF };
            s.chars().map(|c| if (c as u32) <= max { Ok(c as u8) } else { Err(malformed("encode", charset)) }).collect::<Result<_>>()?
        }
        "UTF-16BE" => units(true),
        "UTF-16LE" => units(false),
        // Java writes UTF-16 big-endian after a byte-order mark.
        "UTF-16" => [0xFE, 0xFF].into_iter().chain(units(true)).collect(),
        "UTF-32" => s.chars().flat_map(|c| (c as u32).to_be_bytes()).collect(),
        _ => return Err(bad_charset("encode", charset)),
    })
}

/// `decode(bytes, charset)`: ANSI mode reports bytes that are not text in the charset.
fn decode(b: &[u8], charset: &str) -> Result<String> {
    let utf16 = |b: &[u8], big: bool| {
        if b.len() % 2 == 1 {
            return Err(malformed("decode", charset));
        }
        let units = b.chunks_exact(2).map(|p| if big { u16::from_be_bytes([p[0], p[1]]) } else { u16::from_le_bytes([p[0], p[1]]) });
        char::decode_utf16(units).collect::<std::result::Result<String, _>>().map_err(|_| malformed("decode", charset))
    };
    match charset.to_ascii_uppercase().as_str() {
        "UTF-8" | "UTF8" => std::str::from_utf8(b).map(str::to_string).map_err(|_| malformed("decode", charset)),
        "US-ASCII" => b.iter().map(|&c| if c < 0x80 { Ok(c as char) } else { Err(malformed("decode", charset)) }).collect(),
        "ISO-8859-1" => Ok(b.iter().map(|&c| c as char).collect()),
        "UTF-16BE" => utf16(b, true),
        "UTF-16LE" => utf16(b, false),
        // A byte-order mark picks the order; without one Java reads big-endian.
        "UTF-16" => match b {
            [0xFF, 0xFE, rest @ ..] => utf16(rest, false),
            [0xFE, 0xFF, rest @ ..] => utf16(rest, true),
            _ => utf16(b, true),
        },
        "UTF-32" => {
            if b.len() % 4 != 0 {
                return Err(malformed("decode", charset));
            }
            b.chunks_exact(4)
                .map(|q| char::from_u32(u32::from_be_bytes([q[0], q[1], q[2], q[3]])).ok_or_else(|| malformed("decode", charset)))
                .collect()
        }
        _ => Err(bad_charset("decode", charset)),
    }
}

/// `to_binary(str[, fmt])`: `fmt` is 'hex' (the default), 'utf-8'/'utf8' or 'base64'.
fn to_binary(row: &[Value]) -> Result<Value> {
    let fmt = match row.get(1) {
        None => "hex".to_string(),
        Some(Value::Null) => return Ok(Value::Null),
        Some(v) => str_of(v).to_ascii_lowercase(),
    };
    let Value::String(s) = &row[0] else { return Ok(Value::Null) };
    let invalid = || {
        Error::runtime(
            "CONVERSION_INVALID_INPUT",
            format!("[CONVERSION_INVALID_INPUT] The value '{s}' (STRING) cannot be converted to BINARY because it is malformed. Correct the value as per the syntax, or change its format. Use `try_to_binary` to tolerate malformed input and return NULL instead. SQLSTATE: 22018"),
        )
    };
    Ok(Value::Binary(match fmt.as_str() {
        "hex" => super::bytes::unhex(s).ok_or_else(invalid)?,
        "utf-8" | "utf8" => s.as_bytes().to_vec(),
        "base64" => crate::value::base64_decode(s).ok_or_else(invalid)?,
        _ => {
            return Err(Error::runtime(
                "INVALID_PARAMETER_VALUE.BINARY_FORMAT",
                format!("[INVALID_PARAMETER_VALUE.BINARY_FORMAT] The value of parameter(s) `format` in `to_binary` is invalid: expects one of binary formats 'base64', 'hex', 'utf-8', but got '{fmt}'. SQLSTATE: 22023"),
            ))
        }
    }))
}

const BASE32: &[u8; 32] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";

/// RFC 4648 base32 with `=` padding, as Spark's `to_base32`.
fn base32_encode(b: &[u8]) -> String {
    let mut out = String::with_capacity(b.len().div_ceil(5) * 8);
    for chunk in b.chunks(5) {
        let mut block = [0u8; 5];
        block[..chunk.len()].copy_from_slice(chunk);
        let bits = block.iter().fold(0u64, |acc, &x| acc << 8 | u64::from(x));
        let digits = (chunk.len() * 8).div_ceil(5);
        for k in 0..8 {
            out.push(if k < digits { BASE32[((bits >> (35 - 5 * k)) & 31) as usize] as char } else { '=' });
        }
    }
    out
}

/// The bytes of RFC 4648 base32 text as Apache Commons Codec reads it for Spark: letters in
/// either case, padding and any other character skipped (`from_base32('1')` is empty).
fn base32_decode(s: &str) -> Option<Vec<u8>> {
    let digits: Vec<u8> = s.bytes().filter_map(|c| BASE32.iter().position(|&d| d == c.to_ascii_uppercase()).map(|p| p as u8)).collect();
    let mut out = Vec::with_capacity(digits.len() * 5 / 8);
    let (mut acc, mut bits) = (0u32, 0);
    for d in digits {
        acc = acc << 5 | u32::from(d);
        bits += 5;
        if bits >= 8 {
            bits -= 8;
            out.push((acc >> bits) as u8);
            acc &= (1 << bits) - 1;
        }
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    #[cfg(target_arch = "wasm32")]
    use wasm_bindgen_test::wasm_bindgen_test as test;

    #[test]
    fn byte_forms_follow_spark() {
        assert_eq!(substring_range(9, 5, None), (4, 9));
        assert_eq!(substring_range(9, -3, None), (6, 9));
        assert_eq!(substring_range(5, -10, Some(7)), (0, 2));
        assert_eq!(pad_bytes(&[0xAA, 0xBB], 5, &[0], true), vec![0, 0, 0, 0xAA, 0xBB]);
        assert_eq!(pad_bytes(&[0xAA, 0xBB], 5, &[0x11, 0x22], false), vec![0xAA, 0xBB, 0x11, 0x22, 0x11]);
        assert_eq!(pad_bytes(&[0xAA, 0xBB], 1, &[0], true), vec![0xAA]);
    }

    #[test]
    fn the_byte_form_is_taken_only_for_bytes() {
        let b = || Expr::Literal(Value::Binary(vec![0x61]));
        let n = || Expr::Literal(Value::Null);
        let s = || Expr::Literal(Value::String("a".into()));
        assert_eq!(binary_form(Func::Concat, &[b(), b()]), Func::BinaryConcat);
        // As PySpark 4.3: concat(x'61', NULL) is a STRING, contains(x'61', 'a') compares text.
        assert_eq!(binary_form(Func::Concat, &[b(), n()]), Func::Concat);
        assert_eq!(binary_form(Func::Contains, &[b(), s()]), Func::Contains);
        assert_eq!(binary_form(Func::Lpad, &[b(), Expr::Literal(Value::Int(3))]), Func::BinaryLpad);
        assert_eq!(binary_form(Func::Length, &[b()]), Func::BinaryLength);
    }

    #[test]
    fn overlay_replaces_from_a_position() {
        let s = |x: &str| x.chars().collect::<Vec<_>>();
        let o = |a: &str, b: &str, p, l| overlay(&s(a), &s(b), p, l).into_iter().collect::<String>();
        assert_eq!(o("Spark SQL", "_", 6, None), "Spark_SQL");
        assert_eq!(o("Spark SQL", "CORE", 7, None), "Spark CORE");
        assert_eq!(o("Spark SQL", "ANSI ", 7, Some(0)), "Spark ANSI SQL");
        assert_eq!(o("Spark SQL", "tructured", 2, Some(4)), "Structured SQL");
    }

    #[test]
    fn charsets_round_trip_and_refuse() {
        assert_eq!(encode("abc", "utf-8").unwrap(), b"abc");
        assert_eq!(encode("é", "UTF-16").unwrap(), vec![0xFE, 0xFF, 0x00, 0xE9]);
        assert_eq!(decode(&[0xFE, 0xFF, 0x00, 0xE9], "utf-16").unwrap(), "é");
        assert_eq!(decode(&[0xE9], "ISO-8859-1").unwrap(), "é");
        assert!(encode("é", "US-ASCII").is_err());
        assert!(decode(&[0x80], "UTF-8").is_err());
        assert_eq!(encode("a", "utf-9").unwrap_err().spark_condition, Some("INVALID_PARAMETER_VALUE.CHARSET"));
    }

    #[test]
    fn base32_is_rfc_4648() {
        assert_eq!(base32_encode(b"foobar"), "MZXW6YTBOI======");
        assert_eq!(base32_encode(b""), "");
        assert_eq!(base32_encode(b"f"), "MY======");
        assert_eq!(base32_decode("MZXW6YTBOI======").unwrap(), b"foobar");
        assert_eq!(base32_decode("mzxw6ytboi").unwrap(), b"foobar");
        assert_eq!(base32_decode("1").unwrap(), b"");
        assert_eq!(base32_decode("MZXW6===").unwrap(), b"foo");
    }

    #[test]
    fn to_binary_formats() {
        let s = |x: &str| Value::String(x.into());
        assert_eq!(to_binary(&[s("abc"), s("utf-8")]).unwrap(), Value::Binary(b"abc".to_vec()));
        assert_eq!(to_binary(&[s("616263")]).unwrap(), Value::Binary(b"abc".to_vec()));
        assert!(to_binary(&[s("a!"), s("base64")]).is_err());
        assert!(to_binary(&[s("abc"), s("invalidFormat")]).is_err());
    }
}
