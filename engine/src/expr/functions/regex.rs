//! Regular expressions: rlike/regexp_like, regexp_replace, regexp_extract(_all), regexp_count,
//! regexp_substr, regexp_instr. Patterns are Java's syntax as far as regex-lite shares it (no
//! look-around, back-references or Unicode classes: those are refused as invalid patterns,
//! never matched differently). A pattern is compiled once per distinct text in a batch.

use arrow_array::ArrayRef;
use regex_lite::Regex;

use super::*;

/// The argument rules and result type of the functions in this file (Spark's implicit casts).
pub(super) fn check(f: Func, a: Vec<Expr>, c: &Checks) -> Result<(Vec<Expr>, DataType)> {
    use DataType as T;
    let (s, i) = (T::String, T::Int);
    let (args, optional, result): (Vec<&DataType>, usize, DataType) = match f {
        Func::RegexpLike => (vec![&s, &s], 0, T::Boolean),
        Func::RegexpReplace => (vec![&s, &s, &s, &i], 1, T::String),
        Func::RegexpExtract => (vec![&s, &s, &i], 1, T::String),
        Func::RegexpExtractAll => (vec![&s, &s, &i], 1, T::Array(Box::new(T::String))),
        Func::RegexpCount => (vec![&s, &s], 0, T::Int),
        Func::RegexpSubstr => (vec![&s, &s], 0, T::String),
        Func::RegexpInstr => (vec![&s, &s, &i], 1, T::Int),
        other => return Err(Error::internal(format!("{other:?} is not checked here"))),
    };
    c.arity(args.len() - optional, args.len())?;
    let a = a.into_iter().zip(args).map(|(e, t)| c.to(e, t)).collect::<Result<Vec<_>>>()?;
    Ok((a, result))
}

/// The last pattern compiled, kept while the rows repeat it.
struct Cache(Option<(String, Regex)>);

impl Cache {
    fn get(&mut self, f: Func, pattern: &str) -> Result<&Regex> {
        if self.0.as_ref().is_none_or(|(p, _)| p != pattern) {
            let re = Regex::new(pattern).map_err(|e| {
                Error::runtime(
                    "INVALID_PARAMETER_VALUE.PATTERN",
                    format!(
                        "[INVALID_PARAMETER_VALUE.PATTERN] The value of parameter(s) `regexp` in `{}` is invalid: '{pattern}': {e}. SQLSTATE: 22023",
                        f.name()
                    ),
                )
            })?;
            self.0 = Some((pattern.to_string(), re));
        }
        self.0.as_ref().map(|(_, r)| r).ok_or_else(|| Error::internal("the pattern cache is empty"))
    }
}

fn group_index_error(f: Func, groups: usize, idx: i64) -> Error {
    Error::runtime(
        "INVALID_PARAMETER_VALUE.REGEX_GROUP_INDEX",
        format!(
            "[INVALID_PARAMETER_VALUE.REGEX_GROUP_INDEX] The value of parameter(s) `idx` in `{}` is invalid: Expects group index between 0 and {groups}, but got {idx}. SQLSTATE: 22023",
            f.name()
        ),
    )
}

/// The kernels of the functions in this file, row by row.
pub(super) fn kernel(f: Func, a: &[ArrayRef], _raw: &[Columnar], data_type: &DataType, len: usize) -> Result<ArrayRef> {
    let mut cache = Cache(None);
    strict(a, len, data_type, |row| {
        let s = str_of(&row[0]);
        let re = cache.get(f, str_of(&row[1]))?;
        Ok(match f {
            Func::RegexpLike => Value::Boolean(re.is_match(s)),
            Func::RegexpCount => Value::Int(re.find_iter(s).count() as i32),
            Func::RegexpSubstr => re.find(s).map_or(Value::Null, |m| Value::String(m.as_str().to_string())),
            Func::RegexpInstr => Value::Int(re.find(s).map_or(0, |m| s[..m.start()].chars().count() as i32 + 1)),
            Func::RegexpExtract | Func::RegexpExtractAll => {
                let idx = row.get(2).map_or(1, int_of);
                let groups = re.captures_len() - 1;
                if idx < 0 || idx as usize > groups {
                    return Err(group_index_error(f, groups, idx));
                }
                let group = |c: regex_lite::Captures| c.get(idx as usize).map_or(String::new(), |m| m.as_str().to_string());
                if f == Func::RegexpExtract {
                    Value::String(re.captures(s).map_or(String::new(), group))
                } else {
                    Value::Array(re.captures_iter(s).map(|c| Value::String(group(c))).collect())
                }
            }
            Func::RegexpReplace => {
                let position = row.get(3).map_or(1, int_of);
                if position < 1 {
                    return Err(Error::runtime(
                        "INVALID_PARAMETER_VALUE.REGEX_POSITION",
                        format!("[INVALID_PARAMETER_VALUE] The value of parameter(s) `position` in `regexp_replace` is invalid: Expects a positive literal, but got {position}. SQLSTATE: 22023"),
                    ));
                }
                let from = s.char_indices().nth((position - 1) as usize).map_or(s.len(), |(b, _)| b);
                let replacement = str_of(&row[2]);
                let mut out = s[..from].to_string();
                let mut last = from;
                for c in re.captures_iter(&s[from..]) {
                    let Some(m) = c.get(0) else { continue };
                    out.push_str(&s[last..from + m.start()]);
                    java_replacement(replacement, &c, &mut out)?;
                    last = from + m.end();
                }
                out.push_str(&s[last..]);
                Value::String(out)
            }
            other => return Err(Error::internal(format!("{other:?} has no kernel here"))),
        })
    })
}

/// Expands a replacement as Java's `Matcher.appendReplacement` does: `$n` and `${name}` are
/// groups (as many digits as still name a group), `\x` is `x`.
fn java_replacement(rep: &str, caps: &regex_lite::Captures, out: &mut String) -> Result<()> {
    let bad = |m: &str| {
        Error::runtime(
            "INVALID_PARAMETER_VALUE.PATTERN",
            format!("[INVALID_PARAMETER_VALUE.PATTERN] The replacement '{rep}' of `regexp_replace` is invalid: {m}. SQLSTATE: 22023"),
        )
    };
    let mut chars = rep.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\\' => out.push(chars.next().ok_or_else(|| bad("character to be escaped is missing"))?),
            '$' => {
                if chars.peek() == Some(&'{') {
                    chars.next();
                    let name: String = chars.by_ref().take_while(|c| *c != '}').collect();
                    let m = caps.name(&name).ok_or_else(|| bad(&format!("no group with name {{{name}}}")))?;
                    out.push_str(m.as_str());
                    continue;
                }
                let first = chars.next().and_then(|d| d.to_digit(10)).ok_or_else(|| bad("illegal group reference"))? as usize;
                if first >= caps.len() {
                    return Err(bad(&format!("no group {first}")));
                }
                let mut group = first;
                while let Some(d) = chars.peek().and_then(|d| d.to_digit(10)) {
                    let next = group * 10 + d as usize;
                    if next >= caps.len() {
                        break;
                    }
                    group = next;
                    chars.next();
                }
                out.push_str(caps.get(group).map_or("", |m| m.as_str()));
            }
            c => out.push(c),
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    #[cfg(target_arch = "wasm32")]
    use wasm_bindgen_test::wasm_bindgen_test as test;

    #[test]
    fn java_replacements_expand_groups_and_escapes() {
        let re = Regex::new(r"(\d+)-(\d+)").unwrap();
        let caps = re.captures("100-200").unwrap();
        let mut out = String::new();
        java_replacement("$2-$1 \\$ $10", &caps, &mut out).unwrap();
        // `$10` is group 1 then a literal 0: there is no group 10.
        assert_eq!(out, "200-100 $ 1000");
        assert!(java_replacement("$3", &caps, &mut String::new()).is_err());
        assert!(java_replacement("$x", &caps, &mut String::new()).is_err());
    }
}
