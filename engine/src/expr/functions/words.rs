//! String functions that pick, hide, quote, split or compare words: `elt`, `mask`, `quote`,
//! `sentences`, `jaro_winkler_similarity`, `format_number`, `collation`, and `instr` with a
//! start and an occurrence.

use arrow_array::ArrayRef;

use super::*;

pub(super) fn check(f: Func, a: Vec<Expr>, c: &Checks) -> Result<(Vec<Expr>, DataType)> {
    use DataType as T;
    let (s, i) = (T::String, T::Int);
    let (types, optional, result): (Vec<&DataType>, usize, DataType) = match f {
        Func::Elt => {
            c.arity(2, usize::MAX)?;
            let mut it = a.into_iter();
            let n = c.to(it.next().unwrap_or(Expr::Literal(Value::Null)), &i)?;
            let rest: Vec<Expr> = it.collect();
            // All BINARY gives BINARY; anything else (a NULL too, as PySpark 4.3 shows) is read as strings.
            let t = if rest.iter().all(|e| e.data_type() == T::Binary) { T::Binary } else { T::String };
            let mut out = vec![n];
            for e in rest {
                out.push(c.to(e, &t)?);
            }
            return Ok((out, t));
        }
        Func::Mask => {
            c.arity(1, 5)?;
            // The replacement characters must be constants of one character (or NULL: keep).
            for (k, e) in a.iter().enumerate().skip(1) {
                match e {
                    Expr::Literal(Value::Null) => {}
                    Expr::Literal(Value::String(r)) if r.chars().count() == 1 => {}
                    _ => {
                        let name = ["upperChar", "lowerChar", "digitChar", "otherChar"][k - 1];
                        return Err(Error::type_mismatch(format!(
                            "[DATATYPE_MISMATCH.INPUT_SIZE_NOT_ONE] Cannot resolve \"mask(...)\" due to data type mismatch: Length of `{name}` should be 1. SQLSTATE: 42K09"
                        ))
                        .with_condition("DATATYPE_MISMATCH.INPUT_SIZE_NOT_ONE"));
                    }
                }
            }
            (vec![&s, &s, &s, &s, &s], 4, T::String)
        }
        Func::Quote => (vec![&s], 0, T::String),
        Func::Sentences => (vec![&s, &s, &s], 2, T::Array(Box::new(T::Array(Box::new(T::String))))),
        Func::JaroWinklerSimilarity => (vec![&s, &s], 0, T::Double),
        Func::Collation => (vec![&s], 0, T::String),
        Func::FormatNumber => {
            c.arity(2, 2)?;
            let mut it = a.into_iter();
            let x = it.next().unwrap_or(Expr::Literal(Value::Null));
            if !matches!(x.data_type(), T::Int | T::BigInt | T::Double | T::Decimal(..) | T::Null) {
                return Err(mismatch(f, &x, "NUMERIC"));
            }
            let d = it.next().unwrap_or(Expr::Literal(Value::Null));
            let d = match d.data_type() {
                T::String => d,
                _ => c.to(d, &i)?,
            };
            return Ok((vec![x, d], T::String));
        }
        Func::InstrFrom => (vec![&s, &s, &i, &i], 1, T::Int),
        other => return Err(Error::internal(format!("{other:?} is not checked here"))),
    };
    c.arity(types.len() - optional, types.len())?;
    let a = a.into_iter().zip(types).map(|(e, t)| c.to(e, t)).collect::<Result<Vec<_>>>()?;
    Ok((a, result))
}

pub(super) fn kernel(f: Func, a: &[ArrayRef], _raw: &[Columnar], data_type: &DataType, len: usize) -> Result<ArrayRef> {
    match f {
        // NULL inputs are skipped, not propagated, except the index.
        Func::Elt => rowwise(a, len, data_type, |row| {
            if row[0].is_null() {
                return Ok(Value::Null);
            }
            let n = int_of(&row[0]);
            let inputs = &row[1..];
            if n < 1 || n as usize > inputs.len() {
                return Err(Error::runtime(
                    "INVALID_ARRAY_INDEX",
                    format!("[INVALID_ARRAY_INDEX] The index {n} is out of bounds. The array has {} elements. Use the SQL function `get()` to tolerate accessing element at invalid index and return NULL instead. SQLSTATE: 22003", inputs.len()),
                ));
            }
            Ok(inputs[n as usize - 1].clone())
        }),
        // A NULL replacement keeps that class of characters as it is.
        Func::Mask => rowwise(a, len, data_type, |row| {
            let Value::String(s) = &row[0] else { return Ok(Value::Null) };
            let at = |k: usize, default: Option<char>| match row.get(k) {
                None => default,
                Some(Value::String(r)) => r.chars().next(),
                Some(_) => None,
            };
            let (upper, lower, digit, other) = (at(1, Some('X')), at(2, Some('x')), at(3, Some('n')), at(4, None));
            Ok(Value::String(s.chars().map(|ch| mask_char(ch, upper, lower, digit, other)).collect()))
        }),
        Func::InstrFrom => rowwise(a, len, data_type, |row| {
            if row.iter().any(Value::is_null) {
                return Ok(Value::Null);
            }
            instr_from(str_of(&row[0]), str_of(&row[1]), int_of(&row[2]), row.get(3).map_or(1, int_of)).map(Value::Int)
        }),
        _ => strict(a, len, data_type, |row| {
            let s = str_of(&row[0]);
            Ok(match f {
                Func::Quote => Value::String(format!("'{}'", s.replace('\'', "\\'"))),
                Func::Sentences => Value::Array(
                    sentences(s).into_iter().map(|words| Value::Array(words.into_iter().map(Value::String).collect())).collect(),
                ),
                Func::JaroWinklerSimilarity => Value::Double(jaro_winkler(s, str_of(&row[1]))),
                // Every string here is compared byte by byte: Spark's default collation.
                Func::Collation => Value::String("SYSTEM.BUILTIN.UTF8_BINARY".into()),
                Func::FormatNumber => match &row[1] {
                    Value::String(p) => format_number_pattern(&row[0], p)?,
                    d => match int_of(d) {
                        d if d < 0 => Value::Null,
                        d => Value::String(format_number(&row[0], &NumberPattern::with_scale(d as usize))),
                    },
                },
                other => return Err(Error::internal(format!("{other:?} has no kernel here"))),
            })
        }),
    }
}

fn mask_char(ch: char, upper: Option<char>, lower: Option<char>, digit: Option<char>, other: Option<char>) -> char {
    let with = if ch.is_uppercase() {
        upper
    } else if ch.is_lowercase() {
        lower
    } else if is_decimal_digit(ch) {
        digit
    } else {
        other
    };
    with.unwrap_or(ch)
}

/// Java's `Character.isDigit` (Unicode category Nd) for the scripts whose digits this table
/// holds: each entry is the code point of a script's zero, its nine digits following it.
fn is_decimal_digit(c: char) -> bool {
    const ZEROS: &[u32] = &[
        0x30, 0x660, 0x6F0, 0x7C0, 0x966, 0x9E6, 0xA66, 0xAE6, 0xB66, 0xBE6, 0xC66, 0xCE6, 0xD66, 0xDE6, 0xE50, 0xED0, 0xF20, 0x1040,
        0x1090, 0x17E0, 0x1810, 0x1946, 0x19D0, 0x1A80, 0x1A90, 0x1B50, 0x1BB0, 0x1C40, 0x1C50, 0xA620, 0xA8D0, 0xA900, 0xA9D0, 0xA9F0,
        0xAA50, 0xABF0, 0xFF10,
    ];
    let c = c as u32;
    ZEROS.iter().any(|z| (*z..*z + 10).contains(&c))
}

/// `instr(str, substr, start, occurrence)` (Spark 4.3): forward from a positive `start`,
/// backward from a negative one (counted from the end), 0 for `start` = 0 or no match.
fn instr_from(s: &str, sub: &str, start: i64, occurrence: i64) -> Result<i32> {
    if occurrence <= 0 {
        return Err(Error::runtime(
            "INVALID_PARAMETER_VALUE.OCCURRENCE",
            format!("[INVALID_PARAMETER_VALUE.OCCURRENCE] The value of parameter(s) `occurrence` in `instr` is invalid: expects a positive integer, but got {occurrence}. SQLSTATE: 22023"),
        ));
    }
    // Spark finds an empty substring at 1, whatever the start.
    if sub.is_empty() {
        return Ok(i32::from(start != 0));
    }
    let chars: Vec<char> = s.chars().collect();
    let sub: Vec<char> = sub.chars().collect();
    let n = chars.len() as i64;
    let at = |p: i64| -> bool { chars.get(p as usize..).is_some_and(|rest| rest.starts_with(&sub)) };
    let mut found = 0;
    let positions: Box<dyn Iterator<Item = i64>> = match start {
        0 => return Ok(0),
        s if s > 0 => Box::new(s - 1..=n),
        s => Box::new((0..=(n + s).min(n)).rev()),
    };
    for p in positions {
        if at(p) {
            found += 1;
            if found == occurrence {
                return Ok(p as i32 + 1);
            }
        }
    }
    Ok(0)
}

/// Spark's `sentences` (Java's BreakIterator for sentences, then words): a sentence ends after
/// `.`, `!` or `?` followed by a blank or the end, except a `.` whose next word starts in lower
/// case (`e.g. this`, `U.S.A. is`); a sentence with no words is an empty list. A word is a run of
/// letters and digits, with `.` or `'` kept between two letters or two digits and `,` between
/// two digits (`It's`, `3.14`, `1,000`), as Unicode's word rules join them.
fn sentences(s: &str) -> Vec<Vec<String>> {
    let chars: Vec<char> = s.chars().collect();
    let mut out = Vec::new();
    let mut start = 0;
    let mut k = 0;
    while k < chars.len() {
        if !matches!(chars[k], '.' | '!' | '?') {
            k += 1;
            continue;
        }
        let run = k;
        while k < chars.len() && matches!(chars[k], '.' | '!' | '?') {
            k += 1;
        }
        let blank_or_end = k == chars.len() || chars[k].is_whitespace();
        let mut next = k;
        while next < chars.len() && chars[next].is_whitespace() {
            next += 1;
        }
        let only_periods = chars[run..k].iter().all(|c| *c == '.');
        let lower_follows = next < chars.len() && chars[next].is_lowercase();
        if blank_or_end && !(only_periods && lower_follows) {
            out.push(words(&chars[start..next]));
            start = next;
        }
        k = next.max(k);
    }
    if start < chars.len() {
        out.push(words(&chars[start..]));
    }
    out
}

/// The words of one sentence (see [`sentences`]).
fn words(chars: &[char]) -> Vec<String> {
    let mut out = Vec::new();
    let mut word = String::new();
    for (k, &c) in chars.iter().enumerate() {
        let (prev, next) = (if k > 0 { chars.get(k - 1) } else { None }, chars.get(k + 1));
        let between = |f: fn(&char) -> bool| prev.is_some_and(f) && next.is_some_and(f);
        let joins = !word.is_empty()
            && match c {
                '.' | '\'' | '’' => between(|c| c.is_alphabetic()) || between(|c| c.is_numeric()),
                ',' | ';' => between(|c| c.is_numeric()),
                _ => false,
            };
        if c.is_alphanumeric() || joins {
            word.push(c);
        } else if !word.is_empty() {
            out.push(std::mem::take(&mut word));
        }
    }
    if !word.is_empty() {
        out.push(word);
    }
    out
}

/// The Jaro-Winkler similarity (scaling 0.1 over a common prefix of up to 4, applied when the
/// Jaro similarity is at least 0.7), as Apache Commons Text computes it.
fn jaro_winkler(a: &str, b: &str) -> f64 {
    if a == b {
        return 1.0;
    }
    let (a, b): (Vec<char>, Vec<char>) = (a.chars().collect(), b.chars().collect());
    let (max, min) = if a.len() > b.len() { (&a, &b) } else { (&b, &a) };
    let range = (max.len() / 2).saturating_sub(1);
    let mut taken = vec![false; max.len()];
    let mut matched_min = Vec::new();
    for (mi, c) in min.iter().enumerate() {
        let lo = mi.saturating_sub(range);
        let hi = (mi + range + 1).min(max.len());
        if let Some(xi) = (lo..hi).find(|&xi| !taken[xi] && max[xi] == *c) {
            taken[xi] = true;
            matched_min.push(*c);
        }
    }
    let m = matched_min.len() as f64;
    if m == 0.0 {
        return 0.0;
    }
    let matched_max = max.iter().zip(&taken).filter(|(_, t)| **t).map(|(c, _)| *c);
    let half_transpositions = matched_min.iter().zip(matched_max).filter(|(x, y)| **x != *y).count() as f64;
    let prefix = a.iter().zip(&b).take(4.min(min.len())).take_while(|(x, y)| x == y).count() as f64;
    let j = (m / a.len() as f64 + m / b.len() as f64 + (m - (half_transpositions / 2.0).floor()) / m) / 3.0;
    if j < 0.7 {
        j
    } else {
        j + 0.1 * prefix * (1.0 - j)
    }
}

/// The parts of a `java.text.DecimalFormat` pattern that `format_number` uses: digits at least
/// before the point, between `min_frac` and `max_frac` after it, a separator every `group`.
struct NumberPattern {
    min_int: usize,
    min_frac: usize,
    max_frac: usize,
    group: Option<usize>,
}

impl NumberPattern {
    /// `format_number(x, d)`: `#,###,###,###,###,###,##0.000` with `d` zeros.
    fn with_scale(d: usize) -> Self {
        NumberPattern { min_int: 1, min_frac: d, max_frac: d, group: Some(3) }
    }

    /// A pattern of `#`, `0`, `,` and one `.`; None for any other DecimalFormat feature.
    fn parse(p: &str) -> Option<Self> {
        let (int, frac) = p.split_once('.').unwrap_or((p, ""));
        if int.is_empty() && frac.is_empty() || !int.chars().all(|c| matches!(c, '#' | '0' | ',')) {
            return None;
        }
        // Zeros after the point come before any `#`.
        let zeros = frac.chars().take_while(|c| *c == '0').count();
        if !frac[zeros..].chars().all(|c| c == '#') {
            return None;
        }
        let group = int.rfind(',').map(|k| int[k + 1..].len()).filter(|g| *g > 0);
        Some(NumberPattern { min_int: int.chars().filter(|c| *c == '0').count(), min_frac: zeros, max_frac: frac.len(), group })
    }
}

fn format_number_pattern(x: &Value, p: &str) -> Result<Value> {
    // An empty pattern is the default `#,###,###,###,###,###,##0`.
    let pattern = if p.is_empty() { Some(NumberPattern::with_scale(0)) } else { NumberPattern::parse(p) };
    match pattern {
        Some(pattern) => Ok(Value::String(format_number(x, &pattern))),
        None => Err(Error::unsupported(format!(
            "the format_number pattern '{p}' is not supported: use digits `#` and `0`, grouping `,` and one `.`"
        ))),
    }
}

/// `x` in the pattern, rounded half-even on its decimal digits (the shortest form of a double,
/// which is the DECIMAL a literal such as 12332.123456 is in Spark).
fn format_number(x: &Value, p: &NumberPattern) -> String {
    let text = match x {
        Value::Int(v) => v.to_string(),
        Value::BigInt(v) => v.to_string(),
        Value::Double(d) if d.is_nan() => return "NaN".into(),
        Value::Double(d) if d.is_infinite() => return if *d > 0.0 { "∞".into() } else { "-∞".into() },
        Value::Double(d) => format!("{d}"),
        // Its own digits, as Spark formats a BigDecimal (no double between).
        Value::Decimal { unscaled, scale, .. } => crate::types::decimal::format(*unscaled, *scale),
        _ => return String::new(),
    };
    let negative = text.starts_with('-');
    let digits = text.trim_start_matches('-');
    let (int, frac) = digits.split_once('.').unwrap_or((digits, ""));
    // Round to max_frac digits, half to even.
    let mut all: Vec<u8> = int.bytes().chain(frac.bytes()).map(|b| b - b'0').collect();
    let keep = int.len() + p.max_frac;
    if frac.len() > p.max_frac {
        let rest = &all[keep..];
        let up = match rest[0].cmp(&5) {
            std::cmp::Ordering::Greater => true,
            std::cmp::Ordering::Less => false,
            std::cmp::Ordering::Equal => rest[1..].iter().any(|d| *d > 0) || keep > 0 && all[keep - 1] % 2 == 1,
        };
        all.truncate(keep);
        if up {
            let mut k = all.len();
            loop {
                if k == 0 {
                    all.insert(0, 1);
                    break;
                }
                k -= 1;
                if all[k] == 9 {
                    all[k] = 0;
                } else {
                    all[k] += 1;
                    break;
                }
            }
        }
    } else {
        all.resize(keep, 0);
    }
    let int_len = all.len() - p.max_frac;
    let mut int_digits: Vec<u8> = all[..int_len].to_vec();
    let mut frac_digits: Vec<u8> = all[int_len..].to_vec();
    while frac_digits.len() > p.min_frac && frac_digits.last() == Some(&0) {
        frac_digits.pop();
    }
    while int_digits.len() > p.min_int && int_digits.first() == Some(&0) {
        int_digits.remove(0);
    }
    while int_digits.len() < p.min_int {
        int_digits.insert(0, 0);
    }
    let mut out = String::new();
    // java.text.DecimalFormat keeps the sign of a negative number that rounds to zero.
    if negative {
        out.push('-');
    }
    for (k, d) in int_digits.iter().enumerate() {
        if k > 0 && p.group.is_some_and(|g| (int_digits.len() - k) % g == 0) {
            out.push(',');
        }
        out.push((b'0' + d) as char);
    }
    if !frac_digits.is_empty() {
        out.push('.');
        out.extend(frac_digits.iter().map(|d| (b'0' + d) as char));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    #[cfg(target_arch = "wasm32")]
    use wasm_bindgen_test::wasm_bindgen_test as test;

    #[test]
    fn instr_searches_from_a_start_either_way() {
        assert_eq!(instr_from("abcabc", "b", 1, 1).unwrap(), 2);
        assert_eq!(instr_from("abcabc", "b", 1, 2).unwrap(), 5);
        assert_eq!(instr_from("abcabc", "b", -1, 1).unwrap(), 5);
        assert_eq!(instr_from("abcabc", "b", -1, 2).unwrap(), 2);
        assert_eq!(instr_from("abcabc", "b", 0, 1).unwrap(), 0);
        assert_eq!(instr_from("abcabc", "b", 3, 2).unwrap(), 0);
        assert!(instr_from("abcabc", "b", 1, 0).is_err());
        assert_eq!(instr_from("abc", "", -1, 1).unwrap(), 1);
        assert_eq!(instr_from("abc", "", 5, 1).unwrap(), 1);
        assert_eq!(instr_from("abcabc", "bc", -2, 1).unwrap(), 5);
    }

    #[test]
    fn jaro_winkler_matches_spark_examples() {
        assert_eq!(jaro_winkler("MARTHA", "MARHTA"), 0.9611111111111111);
        assert_eq!(jaro_winkler("kitten", "sitting"), 0.746031746031746);
        assert_eq!(jaro_winkler("ABC", "XYZ"), 0.0);
        assert_eq!(jaro_winkler("", ""), 1.0);
    }

    #[test]
    fn sentences_split_on_punctuation() {
        assert_eq!(sentences("Hi there! Good morning."), vec![vec!["Hi", "there"], vec!["Good", "morning"]]);
        assert_eq!(sentences("It's 3.5 now"), vec![vec!["It's", "3.5", "now"]]);
        assert!(sentences("").is_empty());
        // As PySpark 4.3 answers them.
        assert_eq!(
            sentences("Hello, world. It's 3.14 now! Really?"),
            vec![vec!["Hello", "world"], vec!["It's", "3.14", "now"], vec!["Really"]]
        );
        assert_eq!(sentences("a.b c"), vec![vec!["a.b", "c"]]);
        assert_eq!(sentences("e.g. this, and 1,000 that"), vec![vec!["e.g", "this", "and", "1,000", "that"]]);
        assert_eq!(sentences("U.S.A. is big"), vec![vec!["U.S.A", "is", "big"]]);
        assert_eq!(sentences("  ...  "), vec![Vec::<String>::new()]);
    }

    #[test]
    fn mask_and_format_number() {
        let m = |s: &str| s.chars().map(|c| mask_char(c, Some('X'), Some('x'), Some('n'), None)).collect::<String>();
        assert_eq!(m("abcd-EFGH-8765-4321"), "xxxx-XXXX-nnnn-nnnn");
        assert_eq!(m("١٢٣aBÀ½"), "nnnxXX½");
        assert_eq!(format_number(&Value::Double(12332.123456), &NumberPattern::with_scale(4)), "12,332.1235");
        assert_eq!(format_number(&Value::Double(12332.123456), &NumberPattern::parse("##################.###").unwrap()), "12332.123");
        assert_eq!(format_number(&Value::Int(1234567), &NumberPattern::with_scale(0)), "1,234,567");
        assert_eq!(format_number(&Value::Double(0.125), &NumberPattern::with_scale(2)), "0.12");
        assert_eq!(format_number(&Value::Double(-0.001), &NumberPattern::with_scale(2)), "-0.00");
        assert_eq!(format_number(&Value::Double(999.996), &NumberPattern::with_scale(2)), "1,000.00");
        assert!(NumberPattern::parse("0.00E0").is_none());
    }
}
