//! More string functions: replace, translate, initcap, padding, repeat, reverse, left/right,
//! instr/locate, split_part, ascii/chr, soundex, levenshtein, startswith/endswith/contains,
//! space, substring_index, octet_length/bit_length. Positions and lengths count characters.

use arrow_array::ArrayRef;

use super::*;

/// The argument rules and result type of the functions in this file (Spark's implicit casts).
pub(super) fn check(f: Func, a: Vec<Expr>, c: &Checks) -> Result<(Vec<Expr>, DataType)> {
    use DataType as T;
    let s = T::String;
    let i = T::Int;
    // The types of the arguments, the count that may be left out at the end, the result.
    let (args, optional, result): (Vec<&DataType>, usize, DataType) = match f {
        Func::Replace => (vec![&s, &s, &s], 1, T::String),
        Func::Translate => (vec![&s, &s, &s], 0, T::String),
        // Spark's soundex expects a STRING and casts nothing to it (bytes are a type error).
        Func::Soundex if a.first().is_some_and(|e| e.data_type() == T::Binary) => return Err(mismatch(f, &a[0], "STRING")),
        Func::Initcap | Func::Soundex => (vec![&s], 0, T::String),
        Func::Reverse if a.first().is_some_and(|e| matches!(e.data_type(), T::Array(_))) => {
            c.arity(1, 1)?;
            let t = a[0].data_type();
            return Ok((a, t));
        }
        Func::Reverse => (vec![&s], 0, T::String),
        Func::Lpad | Func::Rpad => (vec![&s, &i, &s], 1, T::String),
        Func::Repeat | Func::Left | Func::Right => (vec![&s, &i], 0, T::String),
        Func::Instr => (vec![&s, &s], 0, T::Int),
        Func::Locate => (vec![&s, &s, &i], 1, T::Int),
        Func::SplitPart => (vec![&s, &s, &i], 0, T::String),
        Func::Ascii | Func::OctetLength | Func::BitLength => (vec![&s], 0, T::Int),
        Func::Chr => (vec![&T::BigInt], 0, T::String),
        Func::Levenshtein => (vec![&s, &s, &i], 1, T::Int),
        Func::StartsWith | Func::EndsWith | Func::Contains => (vec![&s, &s], 0, T::Boolean),
        Func::FindInSet => (vec![&s, &s], 0, T::Int),
        Func::LuhnCheck => (vec![&s], 0, T::Boolean),
        Func::Space => (vec![&i], 0, T::String),
        Func::SubstringIndex => (vec![&s, &s, &i], 0, T::String),
        Func::FormatString => {
            c.arity(1, usize::MAX)?;
            let mut a = a.into_iter();
            let mut out = vec![c.to(a.next().unwrap_or(Expr::Literal(Value::Null)), &s)?];
            for e in a {
                if matches!(e.data_type(), T::Array(_) | T::Window) {
                    return Err(mismatch(f, &e, "STRING, NUMERIC, BOOLEAN or TIMESTAMP"));
                }
                out.push(e);
            }
            return Ok((out, T::String));
        }
        other => return Err(Error::internal(format!("{other:?} is not checked here"))),
    };
    c.arity(args.len() - optional, args.len())?;
    let a = a.into_iter().zip(args).map(|(e, t)| c.to(e, t)).collect::<Result<Vec<_>>>()?;
    Ok((a, result))
}

/// The kernels of the functions in this file, row by row.
pub(super) fn kernel(f: Func, a: &[ArrayRef], _raw: &[Columnar], data_type: &DataType, len: usize) -> Result<ArrayRef> {
    if f == Func::FormatString {
        // Only a NULL format gives NULL; NULL arguments print as `null`.
        return rowwise(a, len, data_type, |row| match &row[0] {
            Value::Null => Ok(Value::Null),
            fmt => super::format::format_string(str_of(fmt), &row[1..]).map(Value::String),
        });
    }
    if f == Func::Locate {
        // Spark's `locate` gives 0, not NULL, for a NULL start.
        return rowwise(a, len, data_type, |row| {
            if row[..2].iter().any(Value::is_null) {
                return Ok(Value::Null);
            }
            let start = match row.get(2) {
                None => 1,
                Some(Value::Null) => return Ok(Value::Int(0)),
                Some(v) => int_of(v),
            };
            Ok(Value::Int(locate(str_of(&row[0]), str_of(&row[1]), start)))
        });
    }
    strict(a, len, data_type, |row| {
        let s = str_of(&row[0]);
        let text = |t: String| Ok(Value::String(t));
        match f {
            Func::Replace => {
                let search = str_of(&row[1]);
                let with = row.get(2).map(str_of).unwrap_or("");
                text(if search.is_empty() { s.to_string() } else { s.replace(search, with) })
            }
            Func::Translate => text(translate(s, str_of(&row[1]), str_of(&row[2]))),
            Func::Initcap => text(initcap(s)),
            Func::Soundex => text(soundex(s)),
            Func::Reverse => match &row[0] {
                Value::Array(items) => Ok(Value::Array(items.iter().rev().cloned().collect())),
                _ => text(s.chars().rev().collect()),
            },
            Func::Lpad | Func::Rpad => {
                let pad = row.get(2).map(str_of).unwrap_or(" ");
                text(pad_to(s, int_of(&row[1]), pad, f == Func::Lpad))
            }
            Func::Repeat => text(s.repeat(int_of(&row[1]).clamp(0, i32::MAX as i64) as usize)),
            Func::Left | Func::Right => {
                let n = int_of(&row[1]).max(0) as usize;
                let count = s.chars().count();
                text(if f == Func::Left { s.chars().take(n).collect() } else { s.chars().skip(count.saturating_sub(n)).collect() })
            }
            Func::Instr => Ok(Value::Int(locate(str_of(&row[1]), s, 1))),
            Func::SplitPart => split_part(s, str_of(&row[1]), int_of(&row[2])).map(Value::String),
            Func::Ascii => Ok(Value::Int(s.chars().next().map_or(0, |c| c as i32))),
            Func::OctetLength => Ok(Value::Int(s.len() as i32)),
            Func::BitLength => Ok(Value::Int(s.len() as i32 * 8)),
            Func::Chr => {
                let n = int_of(&row[0]);
                text(if n < 0 { String::new() } else { char::from((n & 0xFF) as u8).to_string() })
            }
            Func::Levenshtein => {
                let d = levenshtein(s, str_of(&row[1]));
                Ok(Value::Int(match row.get(2) {
                    Some(t) if (d as i64) > int_of(t) => -1,
                    _ => d as i32,
                }))
            }
            Func::StartsWith => Ok(Value::Boolean(s.starts_with(str_of(&row[1])))),
            Func::EndsWith => Ok(Value::Boolean(s.ends_with(str_of(&row[1])))),
            Func::Contains => Ok(Value::Boolean(s.contains(str_of(&row[1])))),
            Func::Space => text(" ".repeat(int_of(&row[0]).clamp(0, i32::MAX as i64) as usize)),
            Func::SubstringIndex => text(substring_index(s, str_of(&row[1]), int_of(&row[2]))),
            Func::FindInSet => Ok(Value::Int(find_in_set(s, str_of(&row[1])))),
            Func::LuhnCheck => Ok(Value::Boolean(luhn_check(s))),
            other => Err(Error::internal(format!("{other:?} has no kernel here"))),
        }
    })
}

/// Spark's `find_in_set`: 0 when `s` holds a comma (it can never be one item) or is absent.
fn find_in_set(s: &str, list: &str) -> i32 {
    if s.contains(',') {
        return 0;
    }
    list.split(',').position(|item| item == s).map_or(0, |k| k as i32 + 1)
}

/// The Luhn checksum over a non-empty string of ASCII digits; anything else fails it.
fn luhn_check(s: &str) -> bool {
    if s.is_empty() || !s.bytes().all(|b| b.is_ascii_digit()) {
        return false;
    }
    let sum: u32 = s
        .bytes()
        .rev()
        .enumerate()
        .map(|(k, b)| {
            let d = u32::from(b - b'0');
            if k % 2 == 1 {
                if d * 2 > 9 {
                    d * 2 - 9
                } else {
                    d * 2
                }
            } else {
                d
            }
        })
        .sum();
    sum % 10 == 0
}

/// `locate(sub, s, start)`: the 1-based character position of `sub` in `s` at or after
/// `start`, 0 when absent or when `start` < 1; an empty `sub` is found at 1, as in Spark.
fn locate(sub: &str, s: &str, start: i64) -> i32 {
    if start < 1 {
        return 0;
    }
    if sub.is_empty() {
        return 1;
    }
    let Some((from, _)) = s.char_indices().nth((start - 1) as usize) else { return 0 };
    match s[from..].find(sub) {
        Some(b) => (s[..from + b].chars().count() + 1) as i32,
        None => 0,
    }
}

fn translate(s: &str, from: &str, to: &str) -> String {
    let to: Vec<char> = to.chars().collect();
    let mut map: Vec<(char, Option<char>)> = Vec::new();
    for (k, c) in from.chars().enumerate() {
        if !map.iter().any(|(m, _)| *m == c) {
            map.push((c, to.get(k).copied()));
        }
    }
    s.chars()
        .filter_map(|c| match map.iter().find(|(m, _)| *m == c) {
            Some((_, r)) => *r,
            None => Some(c),
        })
        .collect()
}

/// Spark's initcap: each word (split on spaces) in lower case with its first letter upper.
fn initcap(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut start = true;
    for c in s.chars() {
        if start {
            out.extend(c.to_uppercase());
        } else {
            out.extend(c.to_lowercase());
        }
        start = c == ' ';
    }
    out
}

fn pad_to(s: &str, len: i64, pad: &str, left: bool) -> String {
    let len = len.max(0) as usize;
    let n = s.chars().count();
    if len <= n {
        return s.chars().take(len).collect();
    }
    if pad.is_empty() {
        return s.to_string();
    }
    let fill: String = pad.chars().cycle().take(len - n).collect();
    if left {
        fill + s
    } else {
        s.to_string() + &fill
    }
}

fn split_part(s: &str, delim: &str, part: i64) -> Result<String> {
    if part == 0 {
        return Err(Error::runtime(
            "INVALID_INDEX_OF_ZERO",
            "[INVALID_INDEX_OF_ZERO] The index 0 is invalid. An index shall be either < 0 or > 0 (the first element has index 1). SQLSTATE: 22003",
        ));
    }
    let parts: Vec<&str> = if delim.is_empty() { vec![s] } else { s.split(delim).collect() };
    let k = if part > 0 { part - 1 } else { parts.len() as i64 + part };
    Ok(usize::try_from(k).ok().and_then(|k| parts.get(k)).map_or(String::new(), |p| p.to_string()))
}

fn substring_index(s: &str, delim: &str, count: i64) -> String {
    if delim.is_empty() || count == 0 {
        return String::new();
    }
    if count > 0 {
        match s.match_indices(delim).nth((count - 1) as usize) {
            Some((b, _)) => s[..b].to_string(),
            None => s.to_string(),
        }
    } else {
        match s.rmatch_indices(delim).nth((-count - 1) as usize) {
            Some((b, _)) => s[b + delim.len()..].to_string(),
            None => s.to_string(),
        }
    }
}

/// Spark's soundex (over the bytes, as Spark's UTF8String does): a string not starting with a
/// letter comes back unchanged.
fn soundex(s: &str) -> String {
    const CODES: &[u8; 26] = b"01230127022455012623017202";
    let bytes = s.as_bytes();
    let Some(&first) = bytes.first() else { return String::new() };
    let first = first.to_ascii_uppercase();
    if !first.is_ascii_uppercase() {
        return s.to_string();
    }
    let mut out = vec![first, b'0', b'0', b'0'];
    let mut k = 1;
    let mut last = CODES[(first - b'A') as usize];
    for &b in &bytes[1..] {
        let b = b.to_ascii_uppercase();
        if !b.is_ascii_uppercase() {
            last = b'0';
            continue;
        }
        let code = CODES[(b - b'A') as usize];
        if code == b'7' {
            continue;
        }
        if code != b'0' && code != last {
            out[k] = code;
            k += 1;
            if k > 3 {
                break;
            }
        }
        last = code;
    }
    String::from_utf8_lossy(&out).into_owned()
}

fn levenshtein(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    let mut cur = vec![0; b.len() + 1];
    for (i, ca) in a.chars().enumerate() {
        cur[0] = i + 1;
        for (j, cb) in b.iter().enumerate() {
            let cost = usize::from(ca != *cb);
            cur[j + 1] = (prev[j + 1] + 1).min(cur[j] + 1).min(prev[j] + cost);
        }
        std::mem::swap(&mut prev, &mut cur);
    }
    prev[b.len()]
}

#[cfg(test)]
mod tests {
    use super::*;
    #[cfg(target_arch = "wasm32")]
    use wasm_bindgen_test::wasm_bindgen_test as test;

    #[test]
    fn find_in_set_and_luhn_check_follow_spark() {
        assert_eq!(find_in_set("ab", "abc,b,ab,c,def"), 3);
        assert_eq!(find_in_set("x", "abc,b"), 0);
        assert_eq!(find_in_set("a,b", "a,b"), 0);
        assert_eq!(find_in_set("", "a,,b"), 2);
        assert!(luhn_check("8112189876"));
        assert!(luhn_check("79927398713"));
        assert!(!luhn_check("79927398714"));
        assert!(!luhn_check("8112 189876"));
        assert!(!luhn_check(""));
    }

    #[test]
    fn string_helpers_follow_spark() {
        assert_eq!(locate("bar", "foobarbar", 5), 7);
        assert_eq!(locate("bar", "foobarbar", 0), 0);
        assert_eq!(locate("", "abc", 2), 1);
        assert_eq!(locate("é", "aéé", 3), 3);
        assert_eq!(translate("AaBbCc", "abc", "12"), "A1B2C");
        assert_eq!(initcap("sPark sql  x-y"), "Spark Sql  X-y");
        assert_eq!(pad_to("hi", 5, "??", true), "???hi");
        assert_eq!(pad_to("hi", 1, "?", true), "h");
        assert_eq!(pad_to("hi", 5, "ab", false), "hiaba");
        assert_eq!(pad_to("hi", 5, "", true), "hi");
        assert_eq!(split_part("11.12.13", ".", -1).unwrap(), "13");
        assert_eq!(split_part("11.12.13", ".", 5).unwrap(), "");
        assert_eq!(split_part("11.12.13", "", 1).unwrap(), "11.12.13");
        assert!(split_part("a", ".", 0).is_err());
        assert_eq!(substring_index("www.apache.org", ".", 2), "www.apache");
        assert_eq!(substring_index("www.apache.org", ".", -2), "apache.org");
        assert_eq!(soundex("Miller"), "M460");
        assert_eq!(soundex("1abc"), "1abc");
        assert_eq!(soundex("Ashcraft"), "A261");
        assert_eq!(levenshtein("kitten", "sitting"), 3);
    }
}
