//! JSON functions: from_json (a DDL schema string), to_json, get_json_object.

use arrow_array::ArrayRef;
use serde_json::Value as Json;

use super::*;

/// The argument rules and result type of the functions in this file (Spark's implicit casts).
pub(super) fn check(f: Func, a: Vec<Expr>, c: &Checks) -> Result<(Vec<Expr>, DataType)> {
    use DataType as T;
    let mut a = a;
    Ok(match f {
        Func::FromJson => {
            c.arity(2, 3)?;
            // The options change how values parse: only the datetime formats are read here.
            let formats = match a.get(2) {
                None => None,
                Some(options) => Some(datetime_formats(options)?),
            };
            let Expr::Literal(Value::String(schema)) = &a[1] else {
                return Err(Error::type_mismatch(
                    "[INVALID_SCHEMA.NON_STRING_LITERAL] The input schema of `from_json` must be a string literal, such as 'a INT, b STRING'. SQLSTATE: 42K07",
                ));
            };
            let t = match crate::types::ddl::parse_type(schema) {
                Ok(t @ (T::Struct(_) | T::Array(_) | T::Map(_, _))) => t,
                _ => T::Struct(crate::types::ddl::parse_fields(schema).map_err(|why| {
                    Error::parse(
                        format!("[PARSE_SYNTAX_ERROR] The schema '{schema}' of `from_json` does not parse: {why}. SQLSTATE: 42601"),
                        None,
                    )
                })?),
            };
            let s = c.to(a.remove(0), &T::String)?;
            let mut args = vec![s];
            if let Some((ts, date)) = formats {
                let lit = |f: Option<String>| Expr::Literal(f.map_or(Value::Null, Value::String));
                args.extend([lit(ts), lit(date)]);
            }
            (args, t)
        }
        Func::ToJson => {
            c.arity(1, 2)?;
            if !matches!(a[0].data_type(), T::Struct(_) | T::Array(_) | T::Map(_, _) | T::Window | T::Null) {
                return Err(mismatch(f, &a[0], "STRUCT\" or \"ARRAY\" or \"MAP"));
            }
            let mut a = a;
            // Options as literal arguments: (timestampFormat, dateFormat, sortKeys).
            if let Some(options) = if a.len() == 2 { a.pop() } else { None } {
                let (ts, date, sort) = to_json_options(&options)?;
                let lit = |f: Option<String>| Expr::Literal(f.map_or(Value::Null, Value::String));
                a.extend([lit(ts), lit(date), Expr::Literal(Value::Boolean(sort))]);
            }
            (a, T::String)
        }
        Func::GetJsonObject => {
            c.arity(2, 2)?;
            let a = a.into_iter().map(|e| c.to(e, &T::String)).collect::<Result<Vec<_>>>()?;
            (a, T::String)
        }
        Func::SchemaOfJson => {
            c.arity(1, 2)?;
            if !matches!(&a[0], Expr::Literal(Value::String(_))) {
                return Err(Error::type_mismatch(format!(
                    "[DATATYPE_MISMATCH.NON_FOLDABLE_INPUT] Cannot resolve \"schema_of_json(...)\" due to data type mismatch: the input json should be a foldable \"STRING\" expression; however, got a {} expression. Write the JSON as a string literal. SQLSTATE: 42K09",
                    a[0].data_type().spark_name()
                ))
                .with_condition("DATATYPE_MISMATCH.NON_FOLDABLE_INPUT"));
            }
            // The options change what parses: only allowNumericLeadingZeros is read here; ignoring
            // another would give a wrong schema, so the others are refused.
            let mut a = a;
            if let Some(options) = if a.len() == 2 { a.pop() } else { None } {
                let Expr::Call { func: Func::MakeMap, args, .. } = &options else {
                    return Err(Error::type_mismatch("the options of `schema_of_json` must be a map(...) of string literals"));
                };
                let mut leading_zeros = false;
                for pair in args.chunks(2) {
                    match pair {
                        [Expr::Literal(Value::String(k)), Expr::Literal(Value::String(v))]
                            if k.eq_ignore_ascii_case("allowNumericLeadingZeros") =>
                        {
                            leading_zeros = v.eq_ignore_ascii_case("true");
                        }
                        _ => {
                            return Err(Error::unsupported(
                                "`schema_of_json` options other than allowNumericLeadingZeros are not supported yet",
                            ))
                        }
                    }
                }
                a.push(Expr::Literal(Value::Boolean(leading_zeros)));
            }
            (a, T::String)
        }
        Func::JsonTuple => {
            if a.len() < 2 {
                return Err(Error::type_mismatch(format!(
                    "[WRONG_NUM_ARGS.WITHOUT_SUGGESTION] The `json_tuple` requires > 1 parameters but the actual number is {}. Please, refer to 'https://spark.apache.org/docs/latest/sql-ref-functions.html' for a fix. SQLSTATE: 42605",
                    a.len()
                ))
                .with_condition("WRONG_NUM_ARGS.WITHOUT_SUGGESTION"));
            }
            let a = a.into_iter().map(|e| c.to(e, &T::String)).collect::<Result<Vec<_>>>()?;
            let fields = (1..a.len()).map(|k| (format!("c{}", k - 1), T::String)).collect();
            (a, T::Struct(fields))
        }
        Func::JsonArrayLength | Func::JsonObjectKeys => {
            c.arity(1, 1)?;
            let e = c.to(a.remove(0), &T::String)?;
            (vec![e], if f == Func::JsonArrayLength { T::Int } else { T::Array(Box::new(T::String)) })
        }
        other => return Err(Error::internal(format!("{other:?} is not checked here"))),
    })
}

/// JSON text with the leading zeros of its numbers dropped (`01` is `1`), for Jackson's
/// ALLOW_NUMERIC_LEADING_ZEROS; strings are left as they are.
fn without_leading_zeros(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let (mut in_string, mut escaped) = (false, false);
    let chars: Vec<char> = text.chars().collect();
    for (k, &c) in chars.iter().enumerate() {
        if in_string {
            let was_escaped = escaped;
            escaped = !was_escaped && c == '\\';
            in_string = was_escaped || c != '"';
            out.push(c);
            continue;
        }
        if c == '"' {
            in_string = true;
        }
        // A zero that starts a number (after no digit kept) and is followed by another digit.
        let starts_number = out.chars().last().is_none_or(|p| !(p.is_ascii_digit() || p == '.'));
        let skip = c == '0' && starts_number && chars.get(k + 1).is_some_and(|n| n.is_ascii_digit());
        if !skip {
            out.push(c);
        }
    }
    out
}

/// The top-level shape of a JSON text, read without building its values: an array's length, an
/// object's keys in order with duplicates kept (Spark reads the text as a stream), or neither.
enum Shape {
    Array(usize),
    Object(Vec<String>),
    Other,
}

impl<'de> serde::Deserialize<'de> for Shape {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
        struct V;
        impl<'de> serde::de::Visitor<'de> for V {
            type Value = Shape;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("a JSON value")
            }
            fn visit_seq<A: serde::de::SeqAccess<'de>>(self, mut seq: A) -> std::result::Result<Shape, A::Error> {
                let mut n = 0;
                while seq.next_element::<serde::de::IgnoredAny>()?.is_some() {
                    n += 1;
                }
                Ok(Shape::Array(n))
            }
            fn visit_map<A: serde::de::MapAccess<'de>>(self, mut map: A) -> std::result::Result<Shape, A::Error> {
                let mut keys = Vec::new();
                while let Some(k) = map.next_key::<String>()? {
                    map.next_value::<serde::de::IgnoredAny>()?;
                    keys.push(k);
                }
                Ok(Shape::Object(keys))
            }
            fn visit_bool<E>(self, _: bool) -> std::result::Result<Shape, E> {
                Ok(Shape::Other)
            }
            fn visit_i64<E>(self, _: i64) -> std::result::Result<Shape, E> {
                Ok(Shape::Other)
            }
            fn visit_u64<E>(self, _: u64) -> std::result::Result<Shape, E> {
                Ok(Shape::Other)
            }
            fn visit_f64<E>(self, _: f64) -> std::result::Result<Shape, E> {
                Ok(Shape::Other)
            }
            fn visit_str<E>(self, _: &str) -> std::result::Result<Shape, E> {
                Ok(Shape::Other)
            }
            fn visit_unit<E>(self) -> std::result::Result<Shape, E> {
                Ok(Shape::Other)
            }
        }
        d.deserialize_any(V)
    }
}

/// The type Spark's JSON schema inference gives a value (before NULLs become strings).
fn infer(j: &Json) -> DataType {
    match j {
        Json::Null => DataType::Null,
        Json::Bool(_) => DataType::Boolean,
        Json::Number(n) if n.is_i64() => DataType::BigInt,
        Json::Number(_) => DataType::Double,
        Json::String(_) => DataType::String,
        Json::Array(items) => DataType::Array(Box::new(items.iter().map(infer).reduce(|a, b| merge(&a, &b)).unwrap_or(DataType::Null))),
        Json::Object(fields) => {
            let mut f: Vec<(String, DataType)> = fields.iter().map(|(k, v)| (k.clone(), infer(v))).collect();
            f.sort_by(|a, b| a.0.cmp(&b.0));
            DataType::Struct(f)
        }
    }
}

/// Spark's `compatibleType` for two inferred types: numbers widen, structs merge their fields,
/// anything else that differs becomes a string.
fn merge(a: &DataType, b: &DataType) -> DataType {
    use DataType as T;
    match (a, b) {
        _ if a == b => a.clone(),
        (T::Null, t) | (t, T::Null) => t.clone(),
        (T::BigInt, T::Double) | (T::Double, T::BigInt) => T::Double,
        (T::Array(x), T::Array(y)) => T::Array(Box::new(merge(x, y))),
        (T::Struct(x), T::Struct(y)) => {
            let mut out: Vec<(String, DataType)> = x.clone();
            for (n, t) in y {
                match out.iter_mut().find(|(m, _)| m == n) {
                    Some(slot) => slot.1 = merge(&slot.1, t),
                    None => out.push((n.clone(), t.clone())),
                }
            }
            out.sort_by(|a, b| a.0.cmp(&b.0));
            T::Struct(out)
        }
        _ => T::String,
    }
}

/// NULL-only parts of an inferred type are strings, as Spark's `canonicalizeType` makes them.
fn canonical(t: DataType) -> DataType {
    match t {
        DataType::Null => DataType::String,
        DataType::Array(inner) => DataType::Array(Box::new(canonical(*inner))),
        DataType::Struct(fields) => DataType::Struct(fields.into_iter().map(|(n, t)| (n, canonical(t))).collect()),
        other => other,
    }
}

/// Spark's SQL form of a type, with field names quoted where they need it.
fn schema_sql(t: &DataType) -> String {
    match t {
        DataType::Array(inner) => format!("ARRAY<{}>", schema_sql(inner)),
        DataType::Struct(fields) => {
            let field = |n: &str| {
                if !n.is_empty() && n.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') && !n.starts_with(|c: char| c.is_ascii_digit())
                {
                    n.to_string()
                } else {
                    format!("`{}`", n.replace('`', "``"))
                }
            };
            format!("STRUCT<{}>", fields.iter().map(|(n, t)| format!("{}: {}", field(n), schema_sql(t))).collect::<Vec<_>>().join(", "))
        }
        other => other.spark_name(),
    }
}

/// `json_tuple`'s value of one top-level field: a string as is, anything else as its JSON text.
fn tuple_field(object: &serde_json::Map<String, Json>, key: &Value) -> Value {
    match key {
        Value::String(k) => match object.get(k) {
            None | Some(Json::Null) => Value::Null,
            Some(Json::String(s)) => Value::String(s.clone()),
            Some(other) => Value::String(other.to_string()),
        },
        _ => Value::Null,
    }
}

/// A parsed JSON value as a value of type `t`, as Spark's JSON reader converts it; None when it
/// does not fit (a struct field that does not fit is NULL; text that is not JSON gives a record
/// of NULL fields, Spark's PERMISSIVE mode).
/// `to_json`'s `timestampFormat`, `dateFormat` and `sortKeys` options, from a literal `map(...)`;
/// any other option is refused (it would change the text).
fn to_json_options(options: &Expr) -> Result<(Option<String>, Option<String>, bool)> {
    let Expr::Call { func: Func::MakeMap, args, .. } = options else {
        return Err(Error::type_mismatch("the options of `to_json` must be a map(...) of string literals"));
    };
    let mut out = (None, None, false);
    for pair in args.chunks(2) {
        let [Expr::Literal(Value::String(k)), Expr::Literal(Value::String(v))] = pair else {
            return Err(Error::type_mismatch("the options of `to_json` must be a map(...) of string literals"));
        };
        match k.to_ascii_lowercase().as_str() {
            "timestampformat" | "dateformat" => {
                super::pattern::compile(v, false)?;
                if k.eq_ignore_ascii_case("timestampFormat") {
                    out.0 = Some(v.clone());
                } else {
                    out.1 = Some(v.clone());
                }
            }
            "sortkeys" => out.2 = v.eq_ignore_ascii_case("true"),
            _ => {
                return Err(Error::unsupported(format!(
                    "the `to_json` option '{k}' is not supported yet (timestampFormat, dateFormat and sortKeys are)"
                )))
            }
        }
    }
    Ok(out)
}

/// `to_json` with options: timestamps and dates in the given patterns, object keys sorted
/// (recursively, as Spark's sortKeys does) when asked.
fn to_json_with(v: &Value, ts: Option<&str>, date: Option<&str>, sort: bool) -> Result<JsonOut> {
    let format = |p: &str, micros: i64| -> Result<JsonOut> {
        let pieces = super::pattern::compile(p, false)?;
        Ok(JsonOut::Json(crate::time::from_micros(micros).map_or(Json::Null, |dt| Json::String(super::pattern::format(&pieces, &dt)))))
    };
    let j = match v {
        Value::Timestamp(t) if ts.is_some() => format(ts.unwrap_or_default(), *t)?,
        Value::Date(d) if date.is_some() => format(date.unwrap_or_default(), i64::from(*d) * 86_400_000_000)?,
        Value::Struct(fields) => JsonOut::object(
            fields
                .iter()
                .filter(|(_, x)| !x.is_null())
                .map(|(n, x)| Ok((n.clone(), to_json_with(x, ts, date, sort)?)))
                .collect::<Result<_>>()?,
        ),
        Value::Map(entries) => {
            JsonOut::object(entries.iter().map(|(k, x)| Ok((json_key(k), to_json_with(x, ts, date, sort)?))).collect::<Result<_>>()?)
        }
        Value::Array(items) => JsonOut::Array(items.iter().map(|x| to_json_with(x, ts, date, sort)).collect::<Result<_>>()?),
        other => to_json_value(other),
    };
    Ok(match j {
        JsonOut::Object(mut entries) if sort => {
            entries.sort_by(|a, b| a.0.cmp(&b.0));
            JsonOut::Object(entries)
        }
        other => other,
    })
}

/// `to_json`'s output before it is text: JSON, except that a decimal keeps its digits (Spark
/// writes `1.50`, which a `serde_json::Value` cannot hold).
enum JsonOut {
    Json(Json),
    /// A decimal's digits, written bare.
    Decimal(String),
    Array(Vec<JsonOut>),
    Object(Vec<(String, JsonOut)>),
}

impl JsonOut {
    /// An object from its entries; a key twice keeps its first place and its last value, as a
    /// JSON object map does.
    fn object(entries: Vec<(String, JsonOut)>) -> JsonOut {
        let mut out: Vec<(String, JsonOut)> = Vec::with_capacity(entries.len());
        let mut at: std::collections::HashMap<String, usize> = std::collections::HashMap::with_capacity(entries.len());
        for (k, v) in entries {
            match at.get(&k) {
                Some(&i) => out[i].1 = v,
                None => {
                    at.insert(k.clone(), out.len());
                    out.push((k, v));
                }
            }
        }
        JsonOut::Object(out)
    }

    /// The compact text, as `serde_json` writes it.
    fn text(&self) -> String {
        let mut out = String::new();
        self.write(&mut out);
        out
    }

    fn write(&self, out: &mut String) {
        match self {
            JsonOut::Json(j) => out.push_str(&j.to_string()),
            JsonOut::Decimal(d) => out.push_str(d),
            JsonOut::Array(items) => {
                out.push('[');
                for (k, x) in items.iter().enumerate() {
                    if k > 0 {
                        out.push(',');
                    }
                    x.write(out);
                }
                out.push(']');
            }
            JsonOut::Object(entries) => {
                out.push('{');
                for (k, (n, x)) in entries.iter().enumerate() {
                    if k > 0 {
                        out.push(',');
                    }
                    out.push_str(&Json::String(n.clone()).to_string());
                    out.push(':');
                    x.write(out);
                }
                out.push('}');
            }
        }
    }
}

/// `from_json`'s `timestampFormat` and `dateFormat` options, from a literal `map(...)` of strings;
/// any other option is refused (it would change what parses).
fn datetime_formats(options: &Expr) -> Result<(Option<String>, Option<String>)> {
    let Expr::Call { func: Func::MakeMap, args, .. } = options else {
        return Err(Error::type_mismatch("the options of `from_json` must be a map(...) of string literals"));
    };
    let mut out = (None, None);
    for pair in args.chunks(2) {
        let [Expr::Literal(Value::String(k)), Expr::Literal(Value::String(v))] = pair else {
            return Err(Error::type_mismatch("the options of `from_json` must be a map(...) of string literals"));
        };
        match k.to_ascii_lowercase().as_str() {
            "timestampformat" => out.0 = Some(v.clone()),
            "dateformat" => out.1 = Some(v.clone()),
            _ => {
                return Err(Error::unsupported(format!(
                    "the `from_json` option '{k}' is not supported yet (timestampFormat and dateFormat are)"
                )))
            }
        }
        super::datetime::spark_pattern_to_chrono(v)?;
    }
    Ok(out)
}

/// A JSON value as a value of `t`; timestamps and dates in the given patterns when set.
fn convert_with(j: &Json, t: &DataType, formats: (Option<&str>, Option<&str>)) -> Option<Value> {
    match (t, j, formats) {
        (DataType::Timestamp, Json::String(s), (Some(p), _)) => {
            Some(super::datetime::parse_with_pattern(s, p).ok()?.map_or(Value::Null, Value::Timestamp))
        }
        (DataType::Date, Json::String(s), (_, Some(p))) => {
            let micros = super::datetime::parse_with_pattern(s, p).ok()??;
            Some(Value::Date(micros.div_euclid(86_400_000_000) as i32))
        }
        (DataType::Array(inner), Json::Array(xs), _) => {
            Some(Value::Array(xs.iter().map(|x| convert_with(x, inner, formats)).collect::<Option<_>>()?))
        }
        (DataType::Struct(fields), Json::Object(m), _) => Some(Value::Struct(
            fields
                .iter()
                .map(|(n, ft)| (n.clone(), convert_with(m.get(n).unwrap_or(&Json::Null), ft, formats).unwrap_or(Value::Null)))
                .collect(),
        )),
        _ => convert(j, t),
    }
}

fn convert(j: &Json, t: &DataType) -> Option<Value> {
    if j.is_null() {
        return Some(Value::Null);
    }
    Some(match t {
        DataType::String => match j {
            Json::String(s) => Value::String(s.clone()),
            other => Value::String(other.to_string()),
        },
        DataType::Int => Value::Int(i32::try_from(j.as_i64()?).ok()?),
        DataType::BigInt => Value::BigInt(j.as_i64()?),
        DataType::Double => Value::Double(j.as_f64()?),
        // A number (or a numeric string, as Spark's JSON reader takes) rounded HALF_UP to the scale;
        // one that needs more digits is NULL.
        DataType::Decimal(..) => Value::from_json(j, t).ok()?,
        DataType::Boolean => Value::Boolean(j.as_bool()?),
        DataType::Timestamp => Value::Timestamp(crate::time::parse_timestamp(j.as_str()?)?),
        DataType::Date => Value::Date(crate::value::parse_date(j.as_str()?)?),
        DataType::Array(inner) => Value::Array(j.as_array()?.iter().map(|x| convert(x, inner)).collect::<Option<_>>()?),
        DataType::Struct(fields) => {
            let m = j.as_object()?;
            // A field that does not fit is NULL and the others are kept (Spark's partial results).
            Value::Struct(
                fields.iter().map(|(n, ft)| (n.clone(), convert(m.get(n).unwrap_or(&Json::Null), ft).unwrap_or(Value::Null))).collect(),
            )
        }
        DataType::Map(k, v) if **k == DataType::String => {
            Value::Map(j.as_object()?.iter().map(|(key, x)| Some((Value::String(key.clone()), convert(x, v)?))).collect::<Option<_>>()?)
        }
        _ => return None,
    })
}

/// The first number of a JSON text that a double may not hold exactly (more than 15 significant
/// digits, and not an integer within 64 bits): serde_json reads numbers as doubles, where Spark
/// reads a decimal from the digits.
fn long_fraction(text: &str) -> Option<&str> {
    let b = text.as_bytes();
    let mut i = 0;
    while i < b.len() {
        match b[i] {
            b'"' => {
                i += 1;
                while i < b.len() && b[i] != b'"' {
                    i += if b[i] == b'\\' { 2 } else { 1 };
                }
                i += 1;
            }
            b'-' | b'0'..=b'9' => {
                let start = i;
                while i < b.len() && matches!(b[i], b'-' | b'+' | b'.' | b'e' | b'E' | b'0'..=b'9') {
                    i += 1;
                }
                let n = &text[start..i];
                let mantissa = n.split(['e', 'E']).next().unwrap_or(n);
                let digits = mantissa.bytes().filter(u8::is_ascii_digit).skip_while(|&d| d == b'0').count();
                let exact_integer = !n.contains(['.', 'e', 'E']) && n.parse::<i64>().is_ok();
                if digits > 15 && !exact_integer {
                    return Some(n);
                }
            }
            _ => i += 1,
        }
    }
    None
}

/// Whether a type is or holds a decimal.
fn has_decimal(t: &DataType) -> bool {
    match t {
        DataType::Decimal(..) => true,
        DataType::Array(inner) => has_decimal(inner),
        DataType::Map(k, v) => has_decimal(k) || has_decimal(v),
        DataType::Struct(fields) => fields.iter().any(|(_, t)| has_decimal(t)),
        _ => false,
    }
}

fn null_record(t: &DataType) -> Value {
    match t {
        DataType::Struct(fields) => Value::Struct(fields.iter().map(|(n, _)| (n.clone(), Value::Null)).collect()),
        _ => Value::Null,
    }
}

/// `to_json`'s text of a value: NULL fields left out, timestamps in ISO form with milliseconds.
fn to_json_value(v: &Value) -> JsonOut {
    match v {
        Value::Struct(fields) => {
            JsonOut::object(fields.iter().filter(|(_, x)| !x.is_null()).map(|(n, x)| (n.clone(), to_json_value(x))).collect())
        }
        Value::Window { start, end } => {
            to_json_value(&Value::Struct(vec![("start".into(), Value::Timestamp(*start)), ("end".into(), Value::Timestamp(*end))]))
        }
        Value::Map(entries) => JsonOut::object(entries.iter().map(|(k, x)| (json_key(k), to_json_value(x))).collect()),
        Value::Array(items) => JsonOut::Array(items.iter().map(to_json_value).collect()),
        Value::Timestamp(t) => JsonOut::Json(Json::String(match crate::time::from_micros(*t) {
            Some(dt) => dt.format("%Y-%m-%dT%H:%M:%S%.3fZ").to_string(),
            None => crate::time::format_timestamp(*t),
        })),
        Value::Decimal { unscaled, scale, .. } => JsonOut::Decimal(crate::types::decimal::format(*unscaled, *scale)),
        other => JsonOut::Json(other.to_json()),
    }
}

/// One step of a JSON path: `.name` / `['name']`, `[n]`, `[*]`.
enum Step {
    Key(String),
    Index(usize),
    All,
}

fn parse_path(p: &str) -> Option<Vec<Step>> {
    let mut rest = p.trim().strip_prefix('$')?;
    let mut steps = Vec::new();
    while !rest.is_empty() {
        if let Some(r) = rest.strip_prefix('.') {
            let end = r.find(['.', '[']).unwrap_or(r.len());
            if end == 0 {
                return None;
            }
            steps.push(if &r[..end] == "*" { Step::All } else { Step::Key(r[..end].to_string()) });
            rest = &r[end..];
        } else if let Some(r) = rest.strip_prefix('[') {
            let end = r.find(']')?;
            let inner = r[..end].trim();
            steps.push(if inner == "*" {
                Step::All
            } else if let Some(q) = inner.strip_prefix('\'').and_then(|q| q.strip_suffix('\'')) {
                Step::Key(q.to_string())
            } else {
                Step::Index(inner.parse().ok()?)
            });
            rest = &r[end + 1..];
        } else {
            return None;
        }
    }
    Some(steps)
}

/// Walks `steps` from `j`; `[*]` is only taken last (the array itself), as a wildcard inside a
/// path has Spark's own flattening rules, which are not here.
/// `get_json_object` past a `[*]`: the path after it in each element, NULLs and misses left
/// out; one match is its JSON text (a string keeps its quotes), several a JSON array, none NULL.
/// As PySpark 4.3 answers `$[*].a` over `[{"a":"b"},{"a":"c"}]` (`["b","c"]`) and `[{"a":"b"}]`
/// (`"b"`).
fn gather(items: &[Json], rest: &[Step]) -> Result<Value> {
    let mut found = Vec::new();
    for item in items {
        match walk(item, rest)? {
            None | Some(Json::Null) => {}
            Some(x) => found.push(x.clone()),
        }
    }
    Ok(match found.len() {
        0 => Value::Null,
        1 => Value::String(found[0].to_string()),
        _ => Value::String(Json::Array(found).to_string()),
    })
}

fn walk<'j>(j: &'j Json, steps: &[Step]) -> Result<Option<&'j Json>> {
    let mut at = j;
    for (k, s) in steps.iter().enumerate() {
        at = match s {
            Step::Key(name) => match at.get(name.as_str()) {
                Some(x) => x,
                None => return Ok(None),
            },
            Step::Index(i) => match at.get(*i) {
                Some(x) => x,
                None => return Ok(None),
            },
            Step::All if k + 1 == steps.len() && at.is_array() => at,
            Step::All => return Err(Error::unsupported("a `[*]` wildcard in `get_json_object` is supported only at the end of the path")),
        };
    }
    Ok(Some(at))
}

/// The vectorised kernels of the functions in this file.
pub(super) fn kernel(f: Func, a: &[ArrayRef], _raw: &[Columnar], data_type: &DataType, len: usize) -> Result<ArrayRef> {
    match f {
        // Only a NULL text is NULL: an option left unset is a NULL literal.
        Func::FromJson => rowwise(a, len, data_type, |row| {
            if row[0].is_null() {
                return Ok(Value::Null);
            }
            if has_decimal(data_type) {
                if let Some(n) = long_fraction(str_of(&row[0])) {
                    return Err(Error::unsupported(format!(
                        "`from_json` of the number {n} into a DECIMAL is not supported yet: it has more digits than a double keeps exactly"
                    )));
                }
            }
            Ok(serde_json::from_str::<Json>(str_of(&row[0]))
                .ok()
                .and_then(|j| match (row.get(1), row.get(2)) {
                    (None, None) => convert(&j, data_type),
                    (ts, date) => {
                        let text = |v: Option<&Value>| match v {
                            Some(Value::String(p)) => Some(p.clone()),
                            _ => None,
                        };
                        let (ts, date) = (text(ts), text(date));
                        convert_with(&j, data_type, (ts.as_deref(), date.as_deref()))
                    }
                })
                .unwrap_or_else(|| null_record(data_type)))
        }),
        Func::ToJson if a.len() == 1 => strict(a, len, data_type, |row| Ok(Value::String(to_json_value(&row[0]).text()))),
        // Only a NULL value is NULL: an option left unset is a NULL literal.
        Func::ToJson => rowwise(a, len, data_type, |row| {
            if row[0].is_null() {
                return Ok(Value::Null);
            }
            let text = |v: &Value| match v {
                Value::String(p) => Some(p.clone()),
                _ => None,
            };
            let (ts, date) = (text(&row[1]), text(&row[2]));
            let j = to_json_with(&row[0], ts.as_deref(), date.as_deref(), row[3] == Value::Boolean(true))?;
            Ok(Value::String(j.text()))
        }),
        // NULL for text that is not JSON, or not an array (an object).
        Func::JsonArrayLength | Func::JsonObjectKeys => strict(a, len, data_type, |row| {
            // The first JSON value of the text: Spark's parser stops there, ignoring what follows.
            let mut de = serde_json::Deserializer::from_str(str_of(&row[0]));
            Ok(match (f, <Shape as serde::Deserialize>::deserialize(&mut de)) {
                (Func::JsonArrayLength, Ok(Shape::Array(n))) => Value::Int(n as i32),
                (Func::JsonObjectKeys, Ok(Shape::Object(keys))) => Value::Array(keys.into_iter().map(Value::String).collect()),
                _ => Value::Null,
            })
        }),
        Func::GetJsonObject => strict(a, len, data_type, |row| {
            let (Ok(j), Some(steps)) = (serde_json::from_str::<Json>(str_of(&row[0])), parse_path(str_of(&row[1]))) else {
                return Ok(Value::Null);
            };
            // A `[*]` with more path after it gathers a match from each element (Hive's rule).
            if let Some(k) = steps.iter().position(|s| matches!(s, Step::All)).filter(|k| k + 1 < steps.len()) {
                return Ok(match walk(&j, &steps[..k])? {
                    Some(Json::Array(items)) => gather(items, &steps[k + 1..])?,
                    _ => Value::Null,
                });
            }
            Ok(match walk(&j, &steps)? {
                None | Some(Json::Null) => Value::Null,
                Some(Json::String(s)) => Value::String(s.clone()),
                Some(other) => Value::String(other.to_string()),
            })
        }),
        Func::SchemaOfJson => strict(a, len, data_type, |row| {
            let text = match row.get(1) {
                Some(Value::Boolean(true)) => without_leading_zeros(str_of(&row[0])),
                _ => str_of(&row[0]).to_string(),
            };
            let j = serde_json::from_str::<Json>(&text).map_err(|e| {
                Error::runtime(
                    "MALFORMED_RECORD_IN_PARSING",
                    format!("[MALFORMED_RECORD_IN_PARSING] Malformed records are detected in schema inference: {e}. SQLSTATE: 22023"),
                )
            })?;
            Ok(Value::String(schema_sql(&canonical(infer(&j)))))
        }),
        // One struct per row, never NULL itself: json_tuple gives a row of NULLs for text that
        // is not a JSON object.
        Func::JsonTuple => rowwise(a, len, data_type, |row| {
            let object = match serde_json::from_str::<Json>(str_of(&row[0])) {
                Ok(Json::Object(o)) if !row[0].is_null() => Some(o),
                _ => None,
            };
            Ok(Value::Struct(
                row[1..]
                    .iter()
                    .enumerate()
                    .map(|(k, key)| (format!("c{k}"), object.as_ref().map_or(Value::Null, |o| tuple_field(o, key))))
                    .collect(),
            ))
        }),
        other => Err(Error::internal(format!("{other:?} has no kernel here"))),
    }
}

/// A map key as Spark's JSON writer names it: the key's `toString`, which for a struct is its
/// fields in brackets (`[1]`), not the `{1}` of a cast to STRING.
fn json_key(k: &Value) -> String {
    match k {
        Value::Struct(fields) => format!("[{}]", fields.iter().map(|(_, v)| json_key(v)).collect::<Vec<_>>().join(",")),
        other => other.to_spark_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::super::collection::tests::{err, json};
    #[cfg(target_arch = "wasm32")]
    use wasm_bindgen_test::wasm_bindgen_test as test;

    #[test]
    fn a_wildcard_gathers_one_match_per_element() {
        let cases = [
            (r#"get_json_object('[{"a":"b"}]', '$[*].a')"#, r#""b""#),
            (r#"get_json_object('[{"a":"b"},{"a":"c"}]', '$[*].a')"#, r#"["b","c"]"#),
            (r#"get_json_object('[{"a":[1,2]},{"a":[3]}]', '$[*].a')"#, "[[1,2],[3]]"),
            (r#"get_json_object('{"k":[{"a":1},{"a":2}]}', '$.k[*].a')"#, "[1,2]"),
            (r#"get_json_object('[{"a":null},{"a":2}]', '$[*].a')"#, "2"),
            ("get_json_object('[[1,2],[3]]', '$[*][0]')", "[1,3]"),
        ];
        for (q, want) in cases {
            assert_eq!(json(q).0, serde_json::Value::String(want.into()).to_string(), "{q}");
        }
        assert_eq!(json(r#"get_json_object('[{"x":1}]', '$[*].a')"#).0, "null");
        assert_eq!(json(r#"get_json_object('{"a":1}', '$[*].a')"#).0, "null");
    }

    #[test]
    fn to_json_options_as_pyspark_4_3_answers_them() {
        let cases = [
            ("to_json(named_struct('b', 1, 'a', named_struct('z', 1, 'y', 2)), map('sortKeys', 'true'))", r#"{"a":{"y":2,"z":1},"b":1}"#),
            ("to_json(array(named_struct('b', 1, 'a', 2)), map('sortKeys', 'true'))", r#"[{"a":2,"b":1}]"#),
            ("to_json(named_struct('b', 1, 'a', 2), map('sortKeys', 'false'))", r#"{"b":1,"a":2}"#),
            (
                "to_json(named_struct('t', timestamp'2015-08-26 10:11:12.345'), map('timestampFormat', 'dd/MM/yyyy HH:mm'))",
                r#"{"t":"26/08/2015 10:11"}"#,
            ),
            ("to_json(named_struct('d', date'2015-08-26'), map('dateFormat', 'dd/MM/yyyy'))", r#"{"d":"26/08/2015"}"#),
        ];
        for (q, want) in cases {
            assert_eq!(json(q).0, serde_json::Value::String(want.into()).to_string(), "{q}");
        }
        assert_eq!(err("to_json(named_struct('a', 1), map('pretty', 'true'))").kind, crate::error::ErrorKind::UnsupportedOperation);
    }

    #[test]
    fn leading_zeros_are_dropped_outside_strings() {
        assert_eq!(super::without_leading_zeros(r#"[{"col":01}]"#), r#"[{"col":1}]"#);
        assert_eq!(super::without_leading_zeros(r#"{"a":-007.5,"b":"0\"01","c":0,"d":100}"#), r#"{"a":-7.5,"b":"0\"01","c":0,"d":100}"#);
        assert_eq!(json(r#"schema_of_json('[{"col":01}]', map('allowNumericLeadingZeros', 'true'))"#).0, r#""ARRAY<STRUCT<col: BIGINT>>""#);
        assert_eq!(err(r#"schema_of_json('[1]', map('mode', 'FAILFAST'))"#).kind, crate::error::ErrorKind::UnsupportedOperation);
    }

    #[test]
    fn from_json_reads_dates_and_timestamps_in_the_given_formats() {
        let q = r#"from_json('{"time":"26/08/2015","d":"08/26/2015","t":"2015-08-26 10:00:00"}', 'time TIMESTAMP, d DATE', map('timestampFormat', 'dd/MM/yyyy', 'dateFormat', 'MM/dd/yyyy'))"#;
        assert_eq!(json(q).0, r#"{"time":"2015-08-26 00:00:00","d":"2015-08-26"}"#);
        // A value that does not match the format is NULL; an unknown option is refused.
        assert_eq!(json(r#"from_json('{"time":"x"}', 'time TIMESTAMP', map('timestampFormat', 'dd/MM/yyyy'))"#).0, r#"{"time":null}"#);
        assert_eq!(err(r#"from_json('{}', 'a INT', map('mode', 'FAILFAST'))"#).kind, crate::error::ErrorKind::UnsupportedOperation);
    }

    #[test]
    fn json_functions_give_spark_results() {
        let cases: &[(&str, &str, &str)] = &[
            (r#"from_json('{"a":1,"b":"x"}', 'a INT, b STRING')"#, r#"{"a":1,"b":"x"}"#, "struct<a:int,b:string>"),
            (r#"from_json('{"a":"no"}', 'a INT, b STRING')"#, r#"{"a":null,"b":null}"#, "struct<a:int,b:string>"),
            (r#"from_json('{"b":"x","a":"no"}', 'a INT, b STRING')"#, r#"{"a":null,"b":"x"}"#, "struct<a:int,b:string>"),
            ("from_json('junk', 'a INT')", r#"{"a":null}"#, "struct<a:int>"),
            ("from_json(NULL, 'a INT')", "null", "struct<a:int>"),
            (
                r#"from_json('{"a":[1,2],"m":{"x":1}}', 'a ARRAY<INT>, m MAP<STRING,INT>')"#,
                r#"{"a":[1,2],"m":{"x":1}}"#,
                "struct<a:array<int>,m:map<string,int>>",
            ),
            (r#"from_json('{"A":1.5}', 'a DOUBLE')"#, r#"{"a":null}"#, "struct<a:double>"),
            (r#"from_json('{"a":1}', 'struct<a:int>')"#, r#"{"a":1}"#, "struct<a:int>"),
            ("from_json('[1,2]', 'array<int>')", "[1,2]", "array<int>"),
            (
                "to_json(named_struct('a', 1, 'b', NULL, 'c', array(1, 2), 'd', DATE'2026-01-01', 't', TIMESTAMP'2026-01-01 10:00:00'))",
                r#""{\"a\":1,\"c\":[1,2],\"d\":\"2026-01-01\",\"t\":\"2026-01-01T10:00:00.000Z\"}""#,
                "string",
            ),
            ("to_json(map('x', 1.5D))", r#""{\"x\":1.5}""#, "string"),
            ("to_json(map(named_struct('a', 1), named_struct('b', 2)))", r#""{\"[1]\":{\"b\":2}}""#, "string"),
            ("to_json(array(named_struct('a', 1)))", r#""[{\"a\":1}]""#, "string"),
            (r#"get_json_object('{"a":{"b":[1,2,{"c":"x"}]}}', '$.a.b[2].c')"#, r#""x""#, "string"),
            (r#"get_json_object('{"a":{"b":1}}', '$.a')"#, r#""{\"b\":1}""#, "string"),
            ("get_json_object('junk', '$.a')", "null", "string"),
            (r#"get_json_object('{"a":[1,2]}', '$.a[*]')"#, r#""[1,2]""#, "string"),
            (r#"get_json_object('{"a":null}', '$.a')"#, "null", "string"),
        ];
        for (sql, value, t) in cases {
            assert_eq!(json(sql), (value.to_string(), t.to_string()), "{sql}");
        }
    }

    #[test]
    fn schema_of_json_refuses_options_it_would_ignore() {
        assert_eq!(json(r#"schema_of_json('[{"col":1}]')"#).0, r#""ARRAY<STRUCT<col: BIGINT>>""#);
        // allowNumericLeadingZeros is read now; an option it would ignore is still refused.
        let e = err(r#"schema_of_json('[{"col":1}]', map('prefersDecimal', 'true'))"#);
        assert_eq!(e.kind, crate::error::ErrorKind::UnsupportedOperation, "{e}");
    }
}
