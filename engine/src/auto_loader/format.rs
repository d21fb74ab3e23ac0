//! One landed file's text as records of `(column, raw value)`, and the types Auto Loader infers
//! from them. Databricks: "For formats that don't encode data types (JSON, CSV, and XML), Auto
//! Loader infers all columns as strings" unless `cloudFiles.inferColumnTypes` is true
//! (https://docs.databricks.com/en/ingestion/cloud-object-storage/auto-loader/schema.html).

use serde_json::{Map, Value as Json};

use super::options::{AutoLoaderOptions, FileFormat};
use crate::types::DataType;

/// One record of a file: its fields in the order the file gives them.
pub type Record = Vec<(String, Json)>;

/// A line that is not a record, with why (it becomes a bad record of the batch that reads it).
#[derive(Debug, Clone, PartialEq)]
pub struct Malformed {
    pub line: usize,
    pub text: String,
    pub reason: String,
}

/// The records of one file, and the lines that are not records.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Parsed {
    pub records: Vec<Record>,
    /// The line of the file each record starts on (1-based).
    pub lines: Vec<usize>,
    pub malformed: Vec<Malformed>,
}

pub fn parse(text: &str, o: &AutoLoaderOptions) -> Parsed {
    match o.format {
        FileFormat::Json => parse_json_lines(text),
        FileFormat::Csv => parse_csv(text, o),
    }
}

fn parse_json_lines(text: &str) -> Parsed {
    let mut out = Parsed::default();
    for (i, line) in text.lines().enumerate() {
        if line.trim().is_empty() {
            continue;
        }
        match serde_json::from_str::<Json>(line) {
            Ok(Json::Object(m)) => {
                out.records.push(m.into_iter().collect());
                out.lines.push(i + 1);
            }
            Ok(_) => out.malformed.push(Malformed { line: i + 1, text: line.to_string(), reason: "a JSON line must be an object".into() }),
            Err(e) => out.malformed.push(Malformed { line: i + 1, text: line.to_string(), reason: format!("malformed JSON: {e}") }),
        }
    }
    out
}

/// Splits CSV text into rows of fields: RFC 4180 quotes (`""` inside a quoted field is a quote),
/// an unquoted empty field is null.
fn csv_rows(text: &str, sep: char) -> Vec<Vec<Option<String>>> {
    let mut rows = Vec::new();
    let mut row: Vec<Option<String>> = Vec::new();
    let mut field = String::new();
    let (mut quoted, mut in_quotes, mut any) = (false, false, false);
    let mut chars = text.chars().peekable();
    let end_field = |row: &mut Vec<Option<String>>, field: &mut String, quoted: &mut bool| {
        let f = std::mem::take(field);
        row.push(if f.is_empty() && !*quoted { None } else { Some(f) });
        *quoted = false;
    };
    while let Some(c) = chars.next() {
        any = true;
        if in_quotes {
            if c == '"' {
                if chars.peek() == Some(&'"') {
                    chars.next();
                    field.push('"');
                } else {
                    in_quotes = false;
                }
            } else {
                field.push(c);
            }
        } else if c == '"' && field.is_empty() {
            in_quotes = true;
            quoted = true;
        } else if c == sep {
            end_field(&mut row, &mut field, &mut quoted);
        } else if c == '\n' || c == '\r' {
            if c == '\r' && chars.peek() == Some(&'\n') {
                chars.next();
            }
            end_field(&mut row, &mut field, &mut quoted);
            if !(row.len() == 1 && row[0].is_none()) {
                rows.push(std::mem::take(&mut row));
            }
            row.clear();
            any = false;
        } else {
            field.push(c);
        }
    }
    if any {
        end_field(&mut row, &mut field, &mut quoted);
        if !(row.len() == 1 && row[0].is_none()) {
            rows.push(row);
        }
    }
    rows
}

fn parse_csv(text: &str, o: &AutoLoaderOptions) -> Parsed {
    let mut rows = csv_rows(text, o.sep).into_iter();
    let header: Option<Vec<String>> = if o.header {
        rows.next()
            .map(|h| h.into_iter().enumerate().map(|(i, n)| n.filter(|n| !n.is_empty()).unwrap_or_else(|| format!("_c{i}"))).collect())
    } else {
        None
    };
    // Spark's CSV header: a name given twice gets its column's index appended.
    let header = header.map(|h| {
        h.iter()
            .enumerate()
            .map(|(i, n)| if h.iter().filter(|m| *m == n).count() > 1 { format!("{n}{i}") } else { n.clone() })
            .collect::<Vec<_>>()
    });
    let name = |i: usize| header.as_ref().and_then(|h| h.get(i).cloned()).unwrap_or_else(|| format!("_c{i}"));
    let first = if o.header { 2 } else { 1 };
    let records: Vec<Record> =
        rows.map(|r| r.into_iter().enumerate().map(|(i, v)| (name(i), v.map_or(Json::Null, Json::String))).collect()).collect();
    let lines = (first..first + records.len()).collect();
    Parsed { records, lines, malformed: Vec::new() }
}

/// The type one raw value suggests; None for a null (it says nothing).
pub fn infer_value(v: &Json, o: &AutoLoaderOptions) -> Option<DataType> {
    if !o.infer_column_types {
        return (!v.is_null()).then_some(DataType::String);
    }
    match v {
        Json::Null => None,
        Json::Bool(_) => Some(DataType::Boolean),
        Json::Number(n) if n.is_i64() => Some(DataType::BigInt),
        Json::Number(_) => Some(DataType::Double),
        // CSV fields are text: Spark's CSV inference tries integer, double, boolean, then string.
        Json::String(s) if o.format == FileFormat::Csv => Some(if s.trim().parse::<i64>().is_ok() {
            DataType::BigInt
        } else if s.trim().parse::<f64>().is_ok_and(f64::is_finite) {
            DataType::Double
        } else if s.eq_ignore_ascii_case("true") || s.eq_ignore_ascii_case("false") {
            DataType::Boolean
        } else {
            DataType::String
        }),
        // Nested values are kept as their JSON text (structs are not inferred in this version).
        _ => Some(DataType::String),
    }
}

/// Spark's type widening for inference: a bigint and a double make a double, anything else
/// that differs makes a string.
pub fn merge(a: Option<DataType>, b: Option<DataType>) -> Option<DataType> {
    match (a, b) {
        (None, t) | (t, None) => t,
        (Some(a), Some(b)) if a == b => Some(a),
        (Some(DataType::BigInt), Some(DataType::Double)) | (Some(DataType::Double), Some(DataType::BigInt)) => Some(DataType::Double),
        _ => Some(DataType::String),
    }
}

/// Infers `(column, type)` from records: JSON columns sorted by name (Spark's JSON inference
/// sorts a struct's fields), CSV columns in the file's order; a column only ever null is a string.
pub fn infer(records: &[&Record], o: &AutoLoaderOptions) -> Vec<(String, DataType)> {
    let mut cols: Vec<(String, Option<DataType>)> = Vec::new();
    for r in records {
        for (name, v) in r.iter() {
            let t = infer_value(v, o);
            match cols.iter_mut().find(|(n, _)| n == name) {
                Some((_, have)) => *have = merge(have.clone(), t),
                None => cols.push((name.clone(), t)),
            }
        }
    }
    if o.format == FileFormat::Json {
        cols.sort_by(|a, b| a.0.cmp(&b.0));
    }
    cols.into_iter().map(|(n, t)| (n, t.unwrap_or(DataType::String))).collect()
}

/// A raw value in a column of type `t`: the JSON value for the row, or None when it does not
/// fit (it goes to the rescued data column).
pub fn fit(v: &Json, t: &DataType) -> Option<Json> {
    match (t, v) {
        (_, Json::Null) => Some(Json::Null),
        (DataType::String, Json::String(_)) => Some(v.clone()),
        (DataType::String, other) => Some(Json::String(other.to_string())),
        (DataType::BigInt | DataType::Int, Json::Number(n)) if n.is_i64() => Some(v.clone()),
        (DataType::BigInt | DataType::Int, Json::String(s)) => s.trim().parse::<i64>().ok().map(Json::from),
        (DataType::Double, Json::Number(n)) => n.as_f64().map(Json::from),
        (DataType::Double, Json::String(s)) => s.trim().parse::<f64>().ok().filter(|f| f.is_finite()).map(Json::from),
        (DataType::Boolean, Json::Bool(_)) => Some(v.clone()),
        (DataType::Boolean, Json::String(s)) if s.eq_ignore_ascii_case("true") => Some(Json::Bool(true)),
        (DataType::Boolean, Json::String(s)) if s.eq_ignore_ascii_case("false") => Some(Json::Bool(false)),
        (DataType::Timestamp, Json::String(s)) => crate::time::parse_timestamp(s).map(|_| v.clone()),
        (DataType::Int | DataType::BigInt | DataType::Double | DataType::Boolean | DataType::Timestamp, _) => None,
        // Other types of a given schema: the source's decoder decides (a bad record if not).
        _ => Some(v.clone()),
    }
}

/// The rescued data of a record: the fields that did not fit, and the file they came from.
pub fn rescued_json(fields: Map<String, Json>, file_path: &str) -> Option<Json> {
    if fields.is_empty() {
        return None;
    }
    let mut m = fields;
    m.insert("_file_path".into(), Json::String(file_path.to_string()));
    Some(Json::String(Json::Object(m).to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;
    #[cfg(target_arch = "wasm32")]
    use wasm_bindgen_test::wasm_bindgen_test as test;

    #[test]
    fn json_lines_are_records_and_other_lines_malformed() {
        let o = AutoLoaderOptions::new(FileFormat::Json);
        let p = parse("{\"b\": 1, \"a\": \"x\"}\n\n[1]\n{oops\n", &o);
        assert_eq!(p.records, vec![vec![("b".to_string(), json!(1)), ("a".to_string(), json!("x"))]]);
        assert_eq!(p.malformed.iter().map(|m| m.line).collect::<Vec<_>>(), vec![3, 4]);
    }

    #[test]
    fn csv_fields_follow_rfc_4180_and_the_header() {
        let mut o = AutoLoaderOptions::new(FileFormat::Csv);
        o.header = true;
        let p = parse("id,name\r\n1,\"a, \"\"b\"\"\"\n2,\n", &o);
        assert_eq!(
            p.records,
            vec![
                vec![("id".to_string(), json!("1")), ("name".to_string(), json!("a, \"b\""))],
                vec![("id".to_string(), json!("2")), ("name".to_string(), Json::Null)]
            ]
        );
        o.header = false;
        assert_eq!(parse("1;2", &AutoLoaderOptions { sep: ';', ..o.clone() }).records[0][1].0, "_c1");
    }

    #[test]
    fn types_are_strings_unless_inferred() {
        let mut o = AutoLoaderOptions::new(FileFormat::Json);
        let p = parse("{\"n\": 1, \"d\": 2, \"z\": null, \"o\": {\"k\": 1}}\n{\"n\": 2, \"d\": 2.5, \"b\": true}", &o);
        let refs: Vec<&Record> = p.records.iter().collect();
        let all_strings: Vec<_> = infer(&refs, &o).into_iter().map(|(_, t)| t).collect();
        assert!(all_strings.iter().all(|t| *t == DataType::String));
        o.infer_column_types = true;
        assert_eq!(
            infer(&refs, &o),
            vec![
                ("b".to_string(), DataType::Boolean),
                ("d".to_string(), DataType::Double),
                ("n".to_string(), DataType::BigInt),
                ("o".to_string(), DataType::String),
                ("z".to_string(), DataType::String)
            ]
        );
        assert_eq!(fit(&json!("abc"), &DataType::BigInt), None);
        assert_eq!(fit(&json!(7), &DataType::String), Some(json!("7")));
        assert_eq!(fit(&json!("2.5"), &DataType::Double), Some(json!(2.5)));
        assert_eq!(rescued_json(Map::new(), "f"), None);
    }
}
