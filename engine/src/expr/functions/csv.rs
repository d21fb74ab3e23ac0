//! CSV functions: from_csv (a DDL schema string), to_csv, schema_of_csv, with Spark's CSV
//! defaults (separator `,`, quote `"`, escape `\`, an empty field is NULL). Options are read
//! from a literal `map(...)` as the JSON functions read theirs: `sep` (or `delimiter`),
//! `timestampFormat` and `dateFormat`; any other option is refused, since ignoring it could
//! change the answer.

use arrow_array::ArrayRef;

use super::*;

/// The options a CSV function was given, as the literal arguments its kernel reads after the
/// first: (separator, timestampFormat, dateFormat).
fn options(f: Func, options: Option<&Expr>) -> Result<[Expr; 3]> {
    let name = f.name();
    let mut sep = ",".to_string();
    let (mut ts, mut date) = (None, None);
    if let Some(options) = options {
        let Expr::Call { func: Func::MakeMap, args, .. } = options else {
            return Err(Error::type_mismatch(format!("the options of `{name}` must be a map(...) of string literals")));
        };
        for pair in args.chunks(2) {
            let [Expr::Literal(Value::String(k)), Expr::Literal(Value::String(v))] = pair else {
                return Err(Error::type_mismatch(format!("the options of `{name}` must be a map(...) of string literals")));
            };
            match k.to_ascii_lowercase().as_str() {
                "sep" | "delimiter" => {
                    sep = match v.as_str() {
                        "" => return Err(Error::type_mismatch("[INVALID_DELIMITER_VALUE.EMPTY_STRING] Invalid value for delimiter. Delimiter cannot be empty string. SQLSTATE: 42602")),
                        "\\t" => "\t".into(),
                        other if other.starts_with('\\') => {
                            return Err(Error::unsupported(format!("the `{name}` separator '{other}' is not supported yet")))
                        }
                        other => other.into(),
                    }
                }
                "timestampformat" | "dateformat" => {
                    super::pattern::compile(v, f == Func::FromCsv)?;
                    if k.eq_ignore_ascii_case("timestampFormat") {
                        ts = Some(v.clone());
                    } else {
                        date = Some(v.clone());
                    }
                }
                // The one mode every CSV function has: a field that does not parse is NULL.
                "mode" if v.eq_ignore_ascii_case("PERMISSIVE") => {}
                _ => {
                    return Err(Error::unsupported(format!(
                        "the `{name}` option '{k}' is not supported yet (sep, timestampFormat and dateFormat are)"
                    )))
                }
            }
        }
    }
    let lit = |f: Option<String>| Expr::Literal(f.map_or(Value::Null, Value::String));
    Ok([Expr::Literal(Value::String(sep)), lit(ts), lit(date)])
}

/// The argument rules and result type of the functions in this file.
pub(super) fn check(f: Func, a: Vec<Expr>, c: &Checks) -> Result<(Vec<Expr>, DataType)> {
    use DataType as T;
    let mut a = a;
    Ok(match f {
        Func::FromCsv => {
            c.arity(2, 3)?;
            let opts = options(f, a.get(2))?;
            let Expr::Literal(Value::String(schema)) = &a[1] else {
                return Err(Error::type_mismatch(
                    "[INVALID_SCHEMA.NON_STRING_LITERAL] The input schema of `from_csv` must be a string literal, such as 'a INT, b STRING'. SQLSTATE: 42K07",
                ));
            };
            let fields = match crate::types::ddl::parse_type(schema) {
                Ok(T::Struct(fields)) => fields,
                _ => crate::types::ddl::parse_fields(schema).map_err(|why| {
                    Error::parse(
                        format!("[PARSE_SYNTAX_ERROR] The schema '{schema}' of `from_csv` does not parse: {why}. SQLSTATE: 42601"),
                        None,
                    )
                })?,
            };
            if let Some((_, t)) = fields.iter().find(|(_, t)| !csv_type(t)) {
                return Err(Error::type_mismatch(format!(
                    "[UNSUPPORTED_DATATYPE] Unsupported data type \"{}\". SQLSTATE: 0A000",
                    t.spark_name()
                )));
            }
            if !matches!(a[0].data_type(), T::String | T::Null) {
                return Err(mismatch(f, &a[0], "STRING"));
            }
            let text = a.remove(0).cast_to(&T::String);
            let mut args = vec![text];
            args.extend(opts);
            (args, T::Struct(fields))
        }
        Func::ToCsv => {
            c.arity(1, 2)?;
            let fields = match a[0].data_type() {
                T::Struct(fields) => fields,
                T::Window => vec![("start".into(), T::Timestamp), ("end".into(), T::Timestamp)],
                t => {
                    return Err(Error::type_mismatch(format!(
                        "[DATATYPE_MISMATCH.UNSUPPORTED_INPUT_TYPE] Cannot resolve \"to_csv(...)\" due to data type mismatch: The input of `to_csv` can't be \"{}\" type data. SQLSTATE: 42K09",
                        t.spark_name()
                    ))
                    .with_condition("DATATYPE_MISMATCH.UNSUPPORTED_INPUT_TYPE"))
                }
            };
            // Spark writes a nested value as its Java text (`[1, 2]`, `{1 -> 2}`, `[01 02]`):
            // not written here yet, so refused rather than written some other way.
            if let Some((n, t)) = fields.iter().find(|(_, t)| !csv_type(t) || *t == T::Binary) {
                return Err(Error::unsupported(format!(
                    "`to_csv` of a field of type {} (`{n}`) is not supported yet: the fields must be strings, numbers, booleans, dates or timestamps",
                    t.spark_name()
                )));
            }
            let opts = options(f, a.get(1))?;
            a.truncate(1);
            a.extend(opts);
            (a, T::String)
        }
        Func::SchemaOfCsv => {
            c.arity(1, 2)?;
            if !matches!(&a[0], Expr::Literal(Value::String(_))) {
                return Err(Error::type_mismatch(format!(
                    "[DATATYPE_MISMATCH.NON_FOLDABLE_INPUT] Cannot resolve \"schema_of_csv(...)\" due to data type mismatch: the input `csv` should be a foldable \"STRING\" expression; however, got a {} expression. Write the CSV as a string literal. SQLSTATE: 42K09",
                    a[0].data_type().spark_name()
                ))
                .with_condition("DATATYPE_MISMATCH.NON_FOLDABLE_INPUT"));
            }
            let [sep, ..] = options(f, a.get(1))?;
            a.truncate(1);
            a.push(sep);
            (a, T::String)
        }
        other => return Err(Error::internal(format!("{other:?} is not checked here"))),
    })
}

/// The field types Spark's CSV reader and writer know.
fn csv_type(t: &DataType) -> bool {
    use DataType as T;
    matches!(t, T::String | T::Int | T::BigInt | T::Double | T::Boolean | T::Date | T::Timestamp | T::Binary | T::Null | T::Decimal(..))
}

/// Splits one CSV record into its fields, as Spark's parser (univocity) reads them with the
/// default quote `"` and escape `\`: a field that starts with a quote runs to the closing quote
/// (`\"` is a quote inside it; no closing quote: to the end); any other field runs to the next
/// separator, quotes and all. None for a quoted field followed by text other than a separator,
/// which univocity reads by rules of its own not written here.
fn split(record: &str, sep: &str) -> Option<Vec<String>> {
    let mut fields = Vec::new();
    let mut rest = record;
    loop {
        if let Some(quoted) = rest.strip_prefix('"') {
            let mut value = String::new();
            let mut chars = quoted.char_indices();
            let mut end = None;
            while let Some((i, c)) = chars.next() {
                match c {
                    '\\' if quoted[i + 1..].starts_with('"') => {
                        value.push('"');
                        chars.next();
                    }
                    '"' => {
                        end = Some(i + 1);
                        break;
                    }
                    c => value.push(c),
                }
            }
            fields.push(value);
            match end {
                None => return Some(fields),
                Some(e) if e == quoted.len() => return Some(fields),
                Some(e) => rest = quoted[e..].strip_prefix(sep)?,
            }
        } else {
            match rest.find(sep) {
                Some(k) => {
                    fields.push(rest[..k].to_string());
                    rest = &rest[k + sep.len()..];
                }
                None => {
                    fields.push(rest.to_string());
                    return Some(fields);
                }
            }
        }
    }
}

/// Java's `Double.parseDouble` (blanks around it ignored, `NaN`, `Infinity`, an `f`/`d` suffix),
/// and Spark's CSV `Inf` / `-Inf`: Some(None) for text that is no double, None for a
/// hexadecimal double, which is not read here.
fn java_double(text: &str) -> Option<Option<f64>> {
    match text {
        "Inf" => return Some(Some(f64::INFINITY)),
        "-Inf" => return Some(Some(f64::NEG_INFINITY)),
        _ => {}
    }
    let t = text.trim_matches(|c: char| c <= ' ');
    let (sign, body) = match t.strip_prefix('-') {
        Some(b) => (-1.0, b),
        None => (1.0, t.strip_prefix('+').unwrap_or(t)),
    };
    match body {
        "NaN" => return Some(Some(f64::NAN)),
        "Infinity" => return Some(Some(sign * f64::INFINITY)),
        _ => {}
    }
    if body.starts_with("0x") || body.starts_with("0X") {
        return None;
    }
    let number = body.strip_suffix(['f', 'F', 'd', 'D']).unwrap_or(body);
    let (mantissa, exponent) = match number.find(['e', 'E']) {
        Some(k) => (&number[..k], Some(&number[k + 1..])),
        None => (number, None),
    };
    let (int, frac) = mantissa.split_once('.').unwrap_or((mantissa, ""));
    let digits = |s: &str| s.bytes().all(|b| b.is_ascii_digit());
    let exponent_ok = exponent.is_none_or(|e| {
        let e = e.strip_prefix(['+', '-']).unwrap_or(e);
        !e.is_empty() && digits(e)
    });
    if (int.is_empty() && frac.is_empty()) || !digits(int) || !digits(frac) || !exponent_ok {
        return Some(None);
    }
    Some(number.parse::<f64>().ok().map(|x| sign * x))
}

/// One field's value of type `t`; NULL where it does not parse (Spark's PERMISSIVE mode keeps
/// the record's other fields).
fn field_value(text: &str, t: &DataType, ts: Option<&str>, date: Option<&str>) -> Result<Value> {
    if text.is_empty() {
        return Ok(Value::Null);
    }
    Ok(match t {
        DataType::String => Value::String(text.to_string()),
        DataType::Binary => Value::Binary(text.as_bytes().to_vec()),
        DataType::Int => text.parse::<i32>().map_or(Value::Null, Value::Int),
        DataType::BigInt => text.parse::<i64>().map_or(Value::Null, Value::BigInt),
        DataType::Double => match java_double(text) {
            Some(x) => x.map_or(Value::Null, Value::Double),
            None => return Err(Error::unsupported(format!("`from_csv` of the hexadecimal double '{text}' is not supported yet"))),
        },
        // Java's BigDecimal of the text without its thousands separators (Spark's US-locale
        // decimal parser), HALF_UP to the scale; NULL where it does not parse or fit.
        DataType::Decimal(p, s) => {
            let plain = text.replace(',', "");
            match crate::types::decimal::Parsed::read(&plain).filter(|_| plain.trim() == plain).map(|x| x.to_decimal(*p, *s)) {
                Some(Ok(unscaled)) => Value::Decimal { unscaled, precision: *p, scale: *s },
                _ => Value::Null,
            }
        }
        DataType::Boolean => match text.to_ascii_lowercase().as_str() {
            "true" => Value::Boolean(true),
            "false" => Value::Boolean(false),
            _ => Value::Null,
        },
        DataType::Timestamp => match ts {
            Some(p) => super::datetime::parse_with_pattern(text, p).ok().flatten().map_or(Value::Null, Value::Timestamp),
            None => crate::time::parse_timestamp(text).map_or(Value::Null, Value::Timestamp),
        },
        DataType::Date => match date {
            Some(p) => super::datetime::parse_with_pattern(text, p)
                .ok()
                .flatten()
                .map_or(Value::Null, |micros| Value::Date(micros.div_euclid(86_400_000_000) as i32)),
            None => crate::value::parse_date(text).map_or(Value::Null, Value::Date),
        },
        _ => Value::Null,
    })
}

/// `to_csv`'s text of one field, as Spark's writer (univocity) puts it: NULL as nothing, blanks
/// around a string dropped, an empty string `""`, a string with the separator, a quote or a
/// line break quoted (`\"` for a quote inside it, `\\` for a backslash).
fn field_text(v: &Value, sep: &str, ts: Option<&str>, date: Option<&str>) -> Result<String> {
    let pattern = |p: &str, micros: i64| -> Result<String> {
        let pieces = super::pattern::compile(p, false)?;
        Ok(crate::time::from_micros(micros).map_or_else(String::new, |dt| super::pattern::format(&pieces, &dt)))
    };
    Ok(match v {
        Value::Null => String::new(),
        Value::String(s) => {
            let s = s.trim_matches(|c: char| c <= ' ');
            if s.is_empty() {
                "\"\"".into()
            } else if s.starts_with('#') {
                return Err(Error::unsupported("`to_csv` of a string that starts with `#` is not supported yet"));
            } else if s.contains(sep) || s.contains(['"', '\n', '\r']) {
                format!("\"{}\"", s.replace('\\', "\\\\").replace('"', "\\\""))
            } else {
                s.to_string()
            }
        }
        Value::Timestamp(t) => match ts {
            Some(p) => pattern(p, *t)?,
            None => match crate::time::from_micros(*t) {
                Some(dt) => dt.format("%Y-%m-%dT%H:%M:%S%.3fZ").to_string(),
                None => crate::time::format_timestamp(*t),
            },
        },
        Value::Date(d) => match date {
            Some(p) => pattern(p, i64::from(*d) * 86_400_000_000)?,
            None => v.to_spark_string(),
        },
        other => other.to_spark_string(),
    })
}

/// The type Spark's CSV schema inference gives one field (None: an empty field, NULL), or an
/// error where it would be a type this engine lacks (a DECIMAL) or where this engine cannot be
/// sure of Spark's answer.
fn infer(text: &str) -> Result<Option<DataType>> {
    if text.is_empty() {
        return Ok(None);
    }
    if text.parse::<i32>().is_ok() {
        return Ok(Some(DataType::Int));
    }
    if text.parse::<i64>().is_ok() {
        return Ok(Some(DataType::BigInt));
    }
    // java.math.BigDecimal's form; Spark infers a DECIMAL for one with no fraction (scale 0).
    let plain = text.strip_prefix(['+', '-']).unwrap_or(text);
    let (mantissa, exponent) = match plain.find(['e', 'E']) {
        Some(k) => (&plain[..k], plain[k + 1..].parse::<i64>().ok()),
        None => (plain, Some(0)),
    };
    let (int, frac) = mantissa.split_once('.').unwrap_or((mantissa, ""));
    let decimal_form = !(int.is_empty() && frac.is_empty()) && (int.bytes().chain(frac.bytes())).all(|b| b.is_ascii_digit());
    if let (true, Some(e)) = (decimal_form, exponent) {
        let precision = int.trim_start_matches('0').len() + frac.len();
        if frac.len() as i64 == e && precision <= 38 {
            return Err(Error::unsupported(format!(
                "`schema_of_csv` would infer a DECIMAL for '{text}', a type this version of Unbounded lacks"
            )));
        }
    }
    match java_double(text) {
        Some(Some(_)) => return Ok(Some(DataType::Double)),
        None => return Err(Error::unsupported(format!("`schema_of_csv` of the hexadecimal double '{text}' is not supported yet"))),
        Some(None) => {}
    }
    // A date only in the default pattern yyyy-MM-dd; a timestamp in the forms of a CAST.
    let b = text.as_bytes();
    let date_shape =
        b.len() == 10 && b[4] == b'-' && b[7] == b'-' && b.iter().enumerate().all(|(i, c)| i == 4 || i == 7 || c.is_ascii_digit());
    if date_shape {
        if crate::value::parse_date(text).is_some() {
            return Ok(Some(DataType::Date));
        }
        return Ok(Some(DataType::String));
    }
    if !text.ends_with('T') && crate::time::parse_timestamp(text).is_some() {
        return Ok(Some(DataType::Timestamp));
    }
    if text.contains(':') || (b.len() >= 5 && b[..4].iter().all(u8::is_ascii_digit) && b[4] == b'-') {
        return Err(Error::unsupported(format!("`schema_of_csv` cannot tell yet whether Spark reads '{text}' as a TIMESTAMP or a STRING")));
    }
    if text.eq_ignore_ascii_case("true") || text.eq_ignore_ascii_case("false") {
        return Ok(Some(DataType::Boolean));
    }
    Ok(Some(DataType::String))
}

/// The vectorised kernels of the functions in this file.
pub(super) fn kernel(f: Func, a: &[ArrayRef], _raw: &[Columnar], data_type: &DataType, len: usize) -> Result<ArrayRef> {
    let text = |v: &Value| match v {
        Value::String(p) => Some(p.clone()),
        _ => None,
    };
    match f {
        // Only a NULL text is NULL: an option left unset is a NULL literal.
        Func::FromCsv => rowwise(a, len, data_type, |row| {
            if row[0].is_null() {
                return Ok(Value::Null);
            }
            let DataType::Struct(fields) = data_type else { return Err(Error::internal("from_csv gives a struct")) };
            let (sep, ts, date) = (str_of(&row[1]), text(&row[2]), text(&row[3]));
            let Some(tokens) = split(str_of(&row[0]), sep) else {
                return Err(Error::unsupported(format!(
                    "`from_csv` of '{}', a quoted field followed by more text, is not supported yet",
                    str_of(&row[0])
                )));
            };
            let values = fields
                .iter()
                .enumerate()
                .map(|(k, (n, t))| {
                    let v = tokens.get(k).map_or(Ok(Value::Null), |tok| field_value(tok, t, ts.as_deref(), date.as_deref()))?;
                    Ok((n.clone(), v))
                })
                .collect::<Result<Vec<_>>>()?;
            Ok(Value::Struct(values))
        }),
        Func::ToCsv => rowwise(a, len, data_type, |row| {
            let (sep, ts, date) = (str_of(&row[1]), text(&row[2]), text(&row[3]));
            let fields: Vec<Value> = match &row[0] {
                Value::Null => return Ok(Value::Null),
                Value::Struct(fields) => fields.iter().map(|(_, v)| v.clone()).collect(),
                Value::Window { start, end } => vec![Value::Timestamp(*start), Value::Timestamp(*end)],
                _ => return Err(Error::internal("to_csv takes a struct")),
            };
            // Spark's writer gives no line at all for a record of one NULL field.
            if fields.len() == 1 && fields[0].is_null() {
                return Ok(Value::Null);
            }
            let parts = fields.iter().map(|v| field_text(v, sep, ts.as_deref(), date.as_deref())).collect::<Result<Vec<_>>>()?;
            Ok(Value::String(parts.join(sep)))
        }),
        Func::SchemaOfCsv => strict(a, len, data_type, |row| {
            let Some(tokens) = split(str_of(&row[0]), str_of(&row[1])) else {
                return Err(Error::unsupported("`schema_of_csv` of a quoted field followed by more text is not supported yet"));
            };
            if str_of(&row[0]).is_empty() {
                return Err(Error::runtime(
                    "MALFORMED_RECORD_IN_PARSING",
                    "[MALFORMED_RECORD_IN_PARSING] `schema_of_csv` cannot infer a schema from an empty string. SQLSTATE: 22023",
                ));
            }
            let fields = tokens
                .iter()
                .enumerate()
                .map(|(k, tok)| Ok(format!("_c{k}: {}", infer(tok)?.unwrap_or(DataType::String).spark_name())))
                .collect::<Result<Vec<_>>>()?;
            Ok(Value::String(format!("STRUCT<{}>", fields.join(", "))))
        }),
        other => Err(Error::internal(format!("{other:?} has no kernel here"))),
    }
}

#[cfg(test)]
mod tests {
    use super::super::collection::tests::{err, json};
    #[cfg(target_arch = "wasm32")]
    use wasm_bindgen_test::wasm_bindgen_test as test;

    #[test]
    fn records_parse_field_by_field_as_spark_reads_them() {
        // Spark 4.3's answers.
        let cases = [
            ("from_csv(' 1,0.8 ', 'a INT, b DOUBLE')", r#"{"a":null,"b":0.8}"#),
            ("from_csv('1', 'a INT, b DOUBLE')", r#"{"a":1,"b":null}"#),
            ("from_csv('1,2,3', 'a INT, b DOUBLE')", r#"{"a":1,"b":2.0}"#),
            ("from_csv(',', 'a STRING, b STRING')", r#"{"a":null,"b":null}"#),
            (r#"from_csv('""," a,b "', 'a STRING, b STRING')"#, r#"{"a":null,"b":" a,b "}"#),
            (r#"from_csv('"x\\"y",z', 'a STRING, b STRING')"#, r#"{"a":"x\"y","b":"z"}"#),
            (r#"from_csv('"ab', 'x STRING, y STRING')"#, r#"{"x":"ab","y":null}"#),
            (
                "from_csv('Inf,-Inf,inf,1d, 2.5 ', 'a DOUBLE, b DOUBLE, c DOUBLE, d DOUBLE, e DOUBLE')",
                r#"{"a":"Infinity","b":"-Infinity","c":null,"d":1.0,"e":2.5}"#,
            ),
            ("from_csv('+5,-0, 5,5 ', 'a INT, b INT, c INT, d INT')", r#"{"a":5,"b":0,"c":null,"d":null}"#),
            ("from_csv('1ab2', 'a INT, b INT', map('sep', 'ab'))", r#"{"a":1,"b":2}"#),
            ("from_csv(' true ,TRUE', 'a BOOLEAN, b BOOLEAN')", r#"{"a":null,"b":true}"#),
        ];
        for (sql, want) in cases {
            assert_eq!(json(sql).0, want, "{sql}");
        }
        assert_eq!(err("from_csv('1', 'a INT', map('mode', 'DROPMALFORMED'))").kind, crate::error::ErrorKind::UnsupportedOperation);
        assert_eq!(err("from_csv('1,2', 'a INT, b ARRAY<INT>')").kind, crate::error::ErrorKind::TypeMismatch);
    }

    #[test]
    fn values_write_and_schemas_infer_as_spark() {
        let cases = [
            (r#"to_csv(named_struct('a', ' x ', 'b', 'p,q', 'c', 'say "hi"', 'd', NULL, 'e', ''))"#, r#""x,\"p,q\",\"say \\\"hi\\\"\",,\"\"""#),
            ("to_csv(named_struct('a', 1.5D, 'b', true, 'c', DATE'2015-08-26', 'd', TIMESTAMP'2015-08-26 01:02:03.5', 'e', CAST(1e20 AS DOUBLE)))", r#""1.5,true,2015-08-26,2015-08-26T01:02:03.500Z,1.0E20""#),
            ("to_csv(named_struct('a', 1, 'b', NULL))", r#""1,""#),
            ("to_csv(named_struct('a', CAST(NULL AS INT), 'b', CAST(NULL AS INT)))", r#"",""#),
            (r#"to_csv(named_struct('a', 'a\\b"c', 'b', 'a\\b,c', 'c', 'x\\'))"#, r#""\"a\\\\b\\\"c\",\"a\\\\b,c\",x\\""#),
            ("to_csv(named_struct('a', CAST(NULL AS STRING)))", "null"),
            ("to_csv(named_struct('a', 1, 'b', 2), map('sep', '|'))", r#""1|2""#),
            ("schema_of_csv('1,9999999999,1.5,true,,abc,2015-08-26,2015-08-26 10:00:00,NaN, 7')", r#""STRUCT<_c0: INT, _c1: BIGINT, _c2: DOUBLE, _c3: BOOLEAN, _c4: STRING, _c5: STRING, _c6: DATE, _c7: TIMESTAMP, _c8: DOUBLE, _c9: DOUBLE>""#),
            ("schema_of_csv('1e3,Infinity,inf,1L,2015-02-30,-5,+5')", r#""STRUCT<_c0: DOUBLE, _c1: DOUBLE, _c2: STRING, _c3: STRING, _c4: STRING, _c5: INT, _c6: INT>""#),
            (r#"schema_of_csv('"1","a,b"')"#, r#""STRUCT<_c0: INT, _c1: STRING>""#),
        ];
        for (sql, want) in cases {
            assert_eq!(json(sql).0, want, "{sql}");
        }
        // A DECIMAL Spark would infer is refused, never answered as another type.
        assert_eq!(err("schema_of_csv('99999999999999999999')").kind, crate::error::ErrorKind::UnsupportedOperation);
        assert_eq!(err("to_csv(named_struct('a', array(1)))").kind, crate::error::ErrorKind::UnsupportedOperation);
        assert_eq!(err("to_csv(array(1))").kind, crate::error::ErrorKind::TypeMismatch);
    }
}
