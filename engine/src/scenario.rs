//! The scenario format (`FORMAT.md`, version 1): a replayable script of sources, tables, one
//! query and steps, and the runner output document it produces. The playground exports and
//! imports it, the CLI runs it, and conformance suites are written in it.

use std::cell::RefCell;
use std::fmt;

use arrow_array::RecordBatch;
use serde::de::{self, DeserializeSeed, MapAccess, SeqAccess, Visitor};
use serde_json::{json, Map, Value as Json};

use crate::error::{Error, Result};
use crate::runtime::trigger::RunTrigger;
use crate::runtime::{BatchReport, FailurePoint, OutputMode, QueryDefinition, QueryOptions, RunReport, StreamingQuery};
use crate::source::FileOptions;
use crate::sql::Catalog;
use crate::time::{format_timestamp, parse_timestamp};
use crate::types::{Column, DataType, Schema};
use crate::value::Value;

pub const FORMAT_VERSION: u64 = 1;

/// The largest scenario text read, in bytes (a share link, an imported file, the CLI's input).
pub const MAX_SCENARIO_BYTES: usize = 16 * 1024 * 1024;
/// The most rows a scenario may hold, over all its `add` steps and tables.
pub const MAX_ROWS: usize = 1_000_000;
/// The most steps a scenario may have.
pub const MAX_STEPS: usize = 100_000;
/// The longest name (of the scenario, a source, a table or a column), in characters.
pub const MAX_NAME_CHARS: usize = 128;
/// The longest string anywhere in a scenario (a value, the query, the description), in bytes.
pub const MAX_STRING_BYTES: usize = 1024 * 1024;
/// The deepest nesting of JSON arrays and objects in a scenario (the document itself is 1).
pub const MAX_DEPTH: usize = 64;

#[derive(Debug, Clone, PartialEq)]
pub enum Step {
    /// One new file in the source's folder, modified at the step's index in seconds (so files
    /// are ordered and aged as the Spark harness, which sets the same times, has them).
    Add {
        source: String,
        rows: Vec<Json>,
    },
    /// `{"run": {}}`: process all available in the running query.
    Run,
    /// `{"run": {"trigger": ...}}` or `{"run": {"batches": N}}`: start the query under a trigger.
    Trigger(RunTrigger),
    Restart,
    Fail(FailurePoint),
    /// `{"add": topic, "messages": [...], "partition": P}`: a producer sends messages to a Kafka
    /// source (each a JSON object with `key`, `value` and `timestamp`, kept as written).
    Produce {
        source: String,
        messages: Vec<Json>,
        partition: Option<u32>,
    },
    /// `{"retain": topic, "from_offsets": {"0": 5}}`: retention deletes older messages.
    Retain {
        source: String,
        from_offsets: Map<String, Json>,
    },
    /// `{"add": folder, "file": "x.json", "text": "..."}`: one file lands in an Auto Loader
    /// source's folder, modified at the step's index in seconds.
    Land {
        source: String,
        file: String,
        text: String,
    },
}

/// The modification time of the file an `add` step at `step` lands, in milliseconds: the step's
/// index in seconds, as tests/spark/run_spark.py sets it (`os.utime`, from a fixed base).
pub fn file_time_ms(step: usize) -> i64 {
    step as i64 * 1000
}

/// The source kinds FORMAT.md names.
const SOURCE_KINDS: [&str; 4] = ["files", "kafka", "auto_loader", "rate"];

#[derive(Debug, Clone, PartialEq)]
pub struct Scenario {
    pub name: String,
    pub description: Option<String>,
    pub sources: Vec<(String, Schema)>,
    pub tables: Vec<(String, Schema, Vec<Json>)>,
    pub query: String,
    pub output_mode: OutputMode,
    pub steps: Vec<Step>,
    /// The `options` of the sources that give them (Spark's file-source options), by source
    /// name as declared, values as written.
    pub source_options: Vec<(String, Map<String, Json>)>,
    /// The sources that are Kafka topics, with their partitions (their schema is Spark's
    /// Kafka schema; their `options` are in `source_options`).
    pub kafka: Vec<(String, u32)>,
    /// The sources that are Auto Loader folders: their `format` and the `schema` they give, if
    /// any (their entry in `sources` holds it, or no column until the stream infers one).
    pub auto_loader: Vec<(String, crate::auto_loader::FileFormat, Option<Schema>)>,
    /// The sources that are Spark's `rate` source (their schema is `timestamp`, `value`).
    pub rate: Vec<String>,
}

fn bad(message: impl Into<String>) -> Error {
    Error::invalid_input(message)
}

/// One step of a path into the JSON document, for messages that say where.
#[derive(Debug, Clone, PartialEq)]
enum Seg {
    Key(String),
    Index(usize),
}

/// Whether `s` is a name Spark reads without quotes: `[A-Za-z_][A-Za-z0-9_]*`.
pub fn is_plain_name(s: &str) -> bool {
    let mut chars = s.chars();
    chars.next().is_some_and(|c| c.is_ascii_alphabetic() || c == '_') && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
}

/// `s` for a message: as it is when it is a plain name, else as a JSON string, so a name with a
/// line break or a control character cannot disguise the message around it.
fn shown(s: &str) -> String {
    if is_plain_name(s) {
        s.to_string()
    } else {
        Json::String(s.to_string()).to_string()
    }
}

fn path_text(path: &[Seg]) -> String {
    let mut out = String::new();
    for seg in path {
        match seg {
            Seg::Key(k) if is_plain_name(k) => {
                if !out.is_empty() {
                    out.push('.');
                }
                out.push_str(k);
            }
            Seg::Key(k) => out.push_str(&format!("[{}]", Json::String(k.clone()))),
            Seg::Index(i) => out.push_str(&format!("[{i}]")),
        }
    }
    if out.is_empty() {
        "the document".into()
    } else {
        format!("`{out}`")
    }
}

fn key(k: &str) -> Seg {
    Seg::Key(k.to_string())
}

/// An integer literal too large for 64 bits: serde_json reads it as the nearest double without a
/// word, so a scenario would run on a number nobody typed.
#[derive(Debug, Clone)]
struct HugeInteger {
    /// Its index among the document's numbers, in text order (the order the parser sees them).
    ordinal: usize,
    literal: String,
    offset: usize,
}

/// Every integer literal of `text` that fits neither i64 nor u64. Strings are skipped; the text
/// is otherwise taken as JSON (the parser refuses it if it is not).
fn huge_integers(text: &str) -> Vec<HugeInteger> {
    let bytes = text.as_bytes();
    let mut out = Vec::new();
    let (mut i, mut ordinal) = (0, 0);
    while i < bytes.len() {
        match bytes[i] {
            b'"' => {
                i += 1;
                while i < bytes.len() && bytes[i] != b'"' {
                    i += if bytes[i] == b'\\' { 2 } else { 1 };
                }
                i += 1;
            }
            b'-' | b'0'..=b'9' => {
                let start = i;
                while i < bytes.len() && matches!(bytes[i], b'-' | b'+' | b'.' | b'e' | b'E' | b'0'..=b'9') {
                    i += 1;
                }
                let literal = &text[start..i];
                let integer = !literal.contains(['.', 'e', 'E']);
                if integer && literal.parse::<i64>().is_err() && literal.parse::<u64>().is_err() {
                    out.push(HugeInteger { ordinal, literal: literal.to_string(), offset: start });
                }
                ordinal += 1;
            }
            _ => i += 1,
        }
    }
    out
}

fn line_column(text: &str, offset: usize) -> (usize, usize) {
    let before = &text[..offset.min(text.len())];
    let line = before.matches('\n').count() + 1;
    let column = before.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
    (line, column)
}

#[derive(Default)]
struct ParseState {
    path: Vec<Seg>,
    numbers: usize,
    huge: Vec<HugeInteger>,
    next_huge: usize,
    found: Vec<(Vec<Seg>, HugeInteger)>,
    rows: usize,
}

/// Reads a JSON document as `serde_json::Value` does, but refuses what `Value` would silently
/// change or what would cost more than the limits: a key twice in one object (`Value` keeps the
/// last), nesting past `MAX_DEPTH`, strings past `MAX_STRING_BYTES`, more than `MAX_STEPS` steps
/// or `MAX_ROWS` rows (counted as they are read, before the rest is), and it notes integers
/// too large for 64 bits where they are.
#[derive(Clone, Copy)]
struct Strict<'a> {
    state: &'a RefCell<ParseState>,
}

impl Strict<'_> {
    fn number<E: de::Error>(&self, value: Json) -> std::result::Result<Json, E> {
        let mut st = self.state.borrow_mut();
        let ordinal = st.numbers;
        st.numbers += 1;
        if let Some(h) = st.huge.get(st.next_huge).filter(|h| h.ordinal == ordinal).cloned() {
            st.next_huge += 1;
            let path = st.path.clone();
            st.found.push((path, h));
        }
        Ok(value)
    }

    fn string<E: de::Error>(&self, v: &str) -> std::result::Result<Json, E> {
        if v.len() > MAX_STRING_BYTES {
            let st = self.state.borrow();
            return Err(E::custom(format!(
                "the string at {} is {} bytes long; the limit is {MAX_STRING_BYTES} bytes (1 MiB)",
                path_text(&st.path),
                v.len()
            )));
        }
        Ok(Json::String(v.to_string()))
    }

    fn enter<E: de::Error>(&self) -> std::result::Result<(), E> {
        let st = self.state.borrow();
        if st.path.len() + 1 > MAX_DEPTH {
            return Err(E::custom(format!("{} nests arrays and objects deeper than {MAX_DEPTH} levels, the limit", path_text(&st.path))));
        }
        Ok(())
    }

    /// Counts element `i` of the array at the current path where the path is `steps` or a
    /// `rows` list, refusing past the limits as soon as they are passed.
    fn count_element<E: de::Error>(&self, i: usize) -> std::result::Result<(), E> {
        let mut st = self.state.borrow_mut();
        let is = |k: &Seg, name: &str| matches!(k, Seg::Key(x) if x == name);
        let rows_list = match st.path.as_slice() {
            [steps] if is(steps, "steps") => {
                if i >= MAX_STEPS {
                    return Err(E::custom(format!("the scenario has more than {MAX_STEPS} steps, the limit")));
                }
                false
            }
            [top, Seg::Index(_), rows] | [top, Seg::Key(_), rows] => (is(top, "steps") || is(top, "tables")) && is(rows, "rows"),
            _ => false,
        };
        if rows_list {
            st.rows += 1;
            if st.rows > MAX_ROWS {
                return Err(E::custom(format!("the scenario has more than {MAX_ROWS} rows (at {}), the limit", path_text(&st.path))));
            }
        }
        Ok(())
    }
}

impl<'de> DeserializeSeed<'de> for Strict<'_> {
    type Value = Json;

    fn deserialize<D: de::Deserializer<'de>>(self, deserializer: D) -> std::result::Result<Json, D::Error> {
        deserializer.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for Strict<'_> {
    type Value = Json;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a JSON value")
    }

    fn visit_bool<E: de::Error>(self, v: bool) -> std::result::Result<Json, E> {
        Ok(Json::Bool(v))
    }

    fn visit_i64<E: de::Error>(self, v: i64) -> std::result::Result<Json, E> {
        self.number(Json::from(v))
    }

    fn visit_u64<E: de::Error>(self, v: u64) -> std::result::Result<Json, E> {
        self.number(Json::from(v))
    }

    fn visit_f64<E: de::Error>(self, v: f64) -> std::result::Result<Json, E> {
        match serde_json::Number::from_f64(v) {
            Some(n) => self.number(Json::Number(n)),
            None => Err(E::custom(format!("{} is not a finite number", path_text(&self.state.borrow().path)))),
        }
    }

    fn visit_str<E: de::Error>(self, v: &str) -> std::result::Result<Json, E> {
        self.string(v)
    }

    fn visit_unit<E: de::Error>(self) -> std::result::Result<Json, E> {
        Ok(Json::Null)
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> std::result::Result<Json, A::Error> {
        self.enter()?;
        let mut out = Vec::new();
        loop {
            self.state.borrow_mut().path.push(Seg::Index(out.len()));
            let next = seq.next_element_seed(self)?;
            self.state.borrow_mut().path.pop();
            let Some(v) = next else { break };
            self.count_element(out.len())?;
            out.push(v);
        }
        Ok(Json::Array(out))
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> std::result::Result<Json, A::Error> {
        self.enter()?;
        let mut out = Map::new();
        while let Some(key) = map.next_key::<String>()? {
            if key.len() > MAX_STRING_BYTES {
                return Err(de::Error::custom(format!(
                    "a key in {} is longer than {MAX_STRING_BYTES} bytes",
                    path_text(&self.state.borrow().path)
                )));
            }
            if out.contains_key(&key) {
                return Err(de::Error::custom(format!(
                    "the key {} appears twice in {}; each key may appear once (JSON readers disagree on which one counts)",
                    shown(&key),
                    path_text(&self.state.borrow().path)
                )));
            }
            self.state.borrow_mut().path.push(Seg::Key(key.clone()));
            let value = map.next_value_seed(self)?;
            self.state.borrow_mut().path.pop();
            out.insert(key, value);
        }
        Ok(Json::Object(out))
    }
}

/// The error for a JSON document the reader refused, with its position.
fn json_error(e: &serde_json::Error) -> Error {
    let text = e.to_string();
    let suffix = format!(" at line {} column {}", e.line(), e.column());
    let what = text.strip_suffix(&suffix).unwrap_or(&text);
    let what = if what == "number out of range" { "a number too large for a double (it would be infinity)" } else { what };
    match e.classify() {
        serde_json::error::Category::Data => bad(format!("the scenario is refused: {what} (line {}, column {})", e.line(), e.column())),
        _ => bad(format!("the scenario is not valid JSON: {what} (line {}, column {})", e.line(), e.column())),
    }
}

/// The declared type of the column a row value at `path` belongs to: `(where, column, type)`.
fn column_at(doc: &Json, path: &[Seg]) -> Option<(String, String, String)> {
    let find = |m: &Map<String, Json>, name: &str| m.iter().find(|(k, _)| k.eq_ignore_ascii_case(name)).map(|(_, v)| v.clone());
    let (context, schema, c) = match path {
        [Seg::Key(steps), Seg::Index(i), Seg::Key(rows), Seg::Index(r), Seg::Index(c)] if steps == "steps" && rows == "rows" => {
            let source = doc["steps"][*i]["add"].as_str()?;
            (format!("step {i}, row {r}"), find(doc["sources"].as_object()?, source)?["schema"].clone(), *c)
        }
        [Seg::Key(tables), Seg::Key(t), Seg::Key(rows), Seg::Index(r), Seg::Index(c)] if tables == "tables" && rows == "rows" => {
            (format!("table {}, row {r}", shown(t)), find(doc["tables"].as_object()?, t)?["schema"].clone(), *c)
        }
        _ => return None,
    };
    let pair = schema.get(c)?;
    Some((context, pair[0].as_str()?.to_string(), pair[1].as_str()?.to_string()))
}

/// Parses scenario text strictly (see `Strict`), then refuses an integer too large for 64 bits
/// anywhere but in a double column, where Spark too reads it as the nearest double.
pub(crate) fn strict_json(text: &str) -> Result<Json> {
    let state = RefCell::new(ParseState { huge: huge_integers(text), ..ParseState::default() });
    let mut de = serde_json::Deserializer::from_str(text);
    let doc = Strict { state: &state }.deserialize(&mut de).and_then(|v| de.end().map(|()| v)).map_err(|e| json_error(&e))?;
    let found = std::mem::take(&mut state.borrow_mut().found);
    for (path, h) in found {
        let (line, column) = line_column(text, h.offset);
        let at = format!("line {line}, column {column}");
        match column_at(&doc, &path) {
            Some((_, _, t)) if DataType::from_schema_name(&t) == Some(DataType::Double) => {}
            Some((context, name, t)) => {
                let name = shown(&name);
                let why = "JSON readers keep only an approximation of it";
                return Err(bad(format!(
                    "{context}: column {name} ({t}): the integer {} does not fit in 64 bits ({at}); {why}",
                    h.literal
                )));
            }
            None => {
                return Err(bad(format!("{}: the integer {} does not fit in 64 bits ({at})", path_text(&path), h.literal)));
            }
        }
    }
    Ok(doc)
}

fn check_keys(obj: &Map<String, Json>, allowed: &[&str], context: &str) -> Result<()> {
    for key in obj.keys() {
        if !allowed.contains(&key.as_str()) {
            return Err(bad(format!("{context}: unknown key {} (expected one of: {})", shown(key), allowed.join(", "))));
        }
    }
    Ok(())
}

/// A source's `options` read as Spark reads them: values as text (`.option(k, v)` takes strings;
/// PySpark writes a boolean as `true`/`false`).
fn file_options(o: &Map<String, Json>, context: &str) -> Result<FileOptions> {
    let mut pairs = Vec::new();
    for (k, v) in o {
        let text = match v {
            Json::String(s) => s.clone(),
            Json::Number(n) => n.to_string(),
            Json::Bool(b) => b.to_string(),
            _ => return Err(bad(format!("{context}: the option `{k}` must be a string, a number or a boolean, not {v}"))),
        };
        pairs.push((k.clone(), text));
    }
    FileOptions::parse(&pairs, context)
}

/// A Kafka source's `options`, read as Spark's Kafka source reads them.
fn kafka_options(o: &Map<String, Json>, topic: &str, context: &str) -> Result<crate::kafka::KafkaOptions> {
    let mut pairs = Vec::new();
    for (k, v) in o {
        let text = match v {
            Json::String(s) => s.clone(),
            Json::Number(n) => n.to_string(),
            Json::Bool(b) => b.to_string(),
            // startingOffsets per partition: Spark takes the JSON as text.
            Json::Object(_) => v.to_string(),
            _ => return Err(bad(format!("{context}: the option `{k}` must be a string, a number or a boolean, not {v}"))),
        };
        pairs.push((k.clone(), text));
    }
    crate::kafka::KafkaOptions::parse(&pairs, topic, context)
}

/// Option values as text, as `.option(k, v)` takes them.
fn option_pairs(o: &Map<String, Json>, context: &str) -> Result<Vec<(String, String)>> {
    let mut pairs = Vec::new();
    for (k, v) in o {
        let text = match v {
            Json::String(s) => s.clone(),
            Json::Number(n) => n.to_string(),
            Json::Bool(b) => b.to_string(),
            _ => return Err(bad(format!("{context}: the option `{k}` must be a string, a number or a boolean, not {v}"))),
        };
        pairs.push((k.clone(), text));
    }
    Ok(pairs)
}

/// An Auto Loader source's `options`, read as Databricks documents them.
fn auto_loader_options(
    format: crate::auto_loader::FileFormat,
    o: &Map<String, Json>,
    context: &str,
) -> Result<crate::auto_loader::AutoLoaderOptions> {
    crate::auto_loader::AutoLoaderOptions::parse(format, &option_pairs(o, context)?, context)
}

/// A rate source's `options`, read as Spark's `RateStreamProvider` reads them.
fn rate_options(o: &Map<String, Json>, context: &str) -> Result<crate::rate::RateOptions> {
    crate::rate::RateOptions::parse(&option_pairs(o, context)?, context)
}

/// When a message without a `timestamp` was produced: the step's time, from the Spark harness's
/// base (2026-01-01 00:00:00 UTC) plus the step's index in seconds, in microseconds.
const MESSAGE_TIME_BASE_MICROS: i64 = 1_767_225_600_000_000;

/// One message of a `messages` list: `key` and `value` are text (null for none), `timestamp`
/// the producer's time.
fn kafka_message(m: &Json, step: usize, context: &str) -> Result<crate::kafka::Message> {
    let o = m.as_object().ok_or_else(|| bad(format!("{context} must be an object with `key`, `value` and `timestamp`")))?;
    check_keys(o, &["key", "value", "timestamp"], context)?;
    let text = |k: &str| -> Result<Option<Vec<u8>>> {
        match o.get(k) {
            None | Some(Json::Null) => Ok(None),
            Some(Json::String(s)) => Ok(Some(s.as_bytes().to_vec())),
            // A value given as JSON is the JSON text a producer would send.
            Some(v) if k == "value" => Ok(Some(v.to_string().into_bytes())),
            Some(v) => Err(bad(format!("{context}: `{k}` must be a string or null, not {v}"))),
        }
    };
    let timestamp = match o.get("timestamp") {
        None | Some(Json::Null) => MESSAGE_TIME_BASE_MICROS + step as i64 * 1_000_000,
        Some(Json::String(t)) => parse_timestamp(t)
            .ok_or_else(|| bad(format!("{context}: `timestamp` {} is not a timestamp (e.g. \"2026-01-01 00:00:05\")", shown(t))))?,
        Some(v) => return Err(bad(format!("{context}: `timestamp` must be a timestamp string, not {v}"))),
    };
    Ok(crate::kafka::Message { key: text("key")?, value: text("value")?, timestamp })
}

/// The messages of the `add` step `step` of a Kafka source; a message without a `timestamp`
/// gets the step's time, as the runner gives it.
pub fn kafka_messages(messages: &[Json], step: usize) -> Result<Vec<crate::kafka::Message>> {
    messages.iter().enumerate().map(|(m, msg)| kafka_message(msg, step, &format!("step {step}, message {m}"))).collect()
}

/// A `retain` step's `from_offsets`: partition -> the first offset kept.
pub fn retain_offsets(from: &Map<String, Json>, context: &str) -> Result<crate::kafka::PartitionOffsets> {
    let mut out = std::collections::BTreeMap::new();
    for (p, o) in from {
        let part: u32 = p.parse().map_err(|_| bad(format!("{context}: `from_offsets` keys are partition numbers, not {}", shown(p))))?;
        let off = o
            .as_i64()
            .filter(|o| *o >= 0)
            .ok_or_else(|| bad(format!("{context}: the offset of partition {p} must be a whole number, not {o}")))?;
        out.insert(part, off);
    }
    Ok(crate::kafka::PartitionOffsets(out))
}

/// A `run` step: `{}` (process all available), `{"trigger": "availableNow" | "once"}`,
/// `{"batches": N}`, or Unbounded's extension for Spark's two low-latency triggers (FORMAT.md has
/// no key for them yet): `{"trigger": {"continuous": "1 second"}}` and
/// `{"trigger": {"realTime": "5 seconds"}}`, named as PySpark's `trigger(...)` arguments.
fn run_step(v: &Json, context: &str) -> Result<Step> {
    let form = "{\"run\": {}}, {\"run\": {\"trigger\": \"availableNow\"}}, {\"run\": {\"trigger\": \"once\"}}, {\"run\": {\"trigger\": {\"continuous\": \"1 second\"}}}, {\"run\": {\"trigger\": {\"realTime\": \"5 seconds\"}}} or {\"run\": {\"batches\": N}}";
    let o = v.as_object().ok_or_else(|| bad(format!("{context}: `run` takes an object: {form}")))?;
    check_keys(o, &["trigger", "batches"], &format!("{context}, `run`"))?;
    match (o.get("trigger"), o.get("batches")) {
        (None, None) => Ok(Step::Run),
        (Some(_), Some(_)) => Err(bad(format!("{context}: `run` takes `trigger` or `batches`, not both: {form}"))),
        (Some(Json::Object(t)), None) => {
            let live = "a continuous or Real-Time Mode trigger is {\"continuous\": \"1 second\"} or {\"realTime\": \"5 seconds\"}";
            let mut entries = t.iter();
            let (Some((kind, interval)), None) = (entries.next(), entries.next()) else {
                return Err(bad(format!("{context}: {live}: one key, not {}", Json::Object(t.clone()))));
            };
            if kind != "continuous" && kind != "realTime" {
                return Err(bad(format!("{context}: unknown trigger {}: {live}", shown(kind))));
            }
            let interval = interval
                .as_str()
                .filter(|i| !i.trim().is_empty())
                .ok_or_else(|| bad(format!("{context}: [VALUE_NOT_NON_EMPTY_STR] Value for `{kind}` must be a non-empty string, got {interval}.")))?;
            RunTrigger::parse_live(kind, interval).map(Step::Trigger).map_err(|why| bad(format!("{context}: {why}")))
        }
        (Some(t), None) => match t.as_str() {
            Some("availableNow") => Ok(Step::Trigger(RunTrigger::AvailableNow)),
            Some("once") => Ok(Step::Trigger(RunTrigger::Once)),
            _ => Err(bad(format!(
                "{context}: the trigger must be \"availableNow\" or \"once\", not {t} (a processing-time trigger is {{\"batches\": N}}; continuous processing {{\"continuous\": \"1 second\"}}; Real-Time Mode {{\"realTime\": \"5 seconds\"}})"
            ))),
        },
        (None, Some(n)) => match n.as_u64().filter(|n| (1..=MAX_STEPS as u64).contains(n)) {
            Some(n) => Ok(Step::Trigger(RunTrigger::Batches(n))),
            None => Err(bad(format!("{context}: `batches` must be a whole number of triggers from 1 to {MAX_STEPS}, not {n}"))),
        },
    }
}

/// Refuses a source, table or column name Spark would need quoted, or one past the length limit.
fn check_name(kind: &str, name: &str, at: &str) -> Result<()> {
    let chars = name.chars().count();
    if chars > MAX_NAME_CHARS {
        return Err(bad(format!("{at}: the {kind} name is {chars} characters long; the limit is {MAX_NAME_CHARS}")));
    }
    if !is_plain_name(name) {
        return Err(bad(format!(
            "{at}: the {kind} name {} is not a plain name: use letters, digits and `_`, not starting with a digit (Spark would need it quoted, and scenarios do not quote names)",
            shown(name)
        )));
    }
    Ok(())
}

/// Refuses a value nested deeper than `MAX_DEPTH` (`depth` is its own depth in the document) or holding
/// a string past `MAX_STRING_BYTES`. Iterative: the value may come from anywhere.
fn check_value(v: &Json, depth: usize, at: &dyn Fn() -> String) -> Result<()> {
    let mut stack = vec![(v, depth)];
    while let Some((v, d)) = stack.pop() {
        match v {
            Json::String(s) if s.len() > MAX_STRING_BYTES => {
                return Err(bad(format!("{}: a string of {} bytes; the limit is {MAX_STRING_BYTES} bytes (1 MiB)", at(), s.len())))
            }
            Json::Array(_) | Json::Object(_) if d > MAX_DEPTH => {
                return Err(bad(format!("{}: a value nested deeper than {MAX_DEPTH} levels, the limit", at())))
            }
            Json::Array(items) => stack.extend(items.iter().map(|x| (x, d + 1))),
            Json::Object(m) => stack.extend(m.values().map(|x| (x, d + 1))),
            _ => {}
        }
    }
    Ok(())
}

/// Refuses a second name that equals an earlier one but for case: Spark resolves names without
/// case, so they would be one name.
fn check_unique<'a>(kind: &str, name: &str, earlier: impl IntoIterator<Item = &'a str>, at: &str) -> Result<()> {
    if let Some(other) = earlier.into_iter().find(|o| o.eq_ignore_ascii_case(name)) {
        return Err(bad(format!(
            "{at}: the {kind} {} is declared twice (as {} too); Spark does not tell names apart by case",
            shown(name),
            shown(other)
        )));
    }
    Ok(())
}

/// The running total of rows after `more`, refused past `MAX_ROWS`.
fn count_rows(total: usize, more: usize, context: &str) -> Result<usize> {
    let total = total.saturating_add(more);
    if total > MAX_ROWS {
        return Err(bad(format!("{context}: the scenario has more than {MAX_ROWS} rows, the limit")));
    }
    Ok(total)
}

fn schema_of(v: &Json, context: &str, at: &[Seg]) -> Result<Schema> {
    let cols = v.as_array().ok_or_else(|| bad(format!("{context}: `schema` must be a list of [name, type] pairs")))?;
    let mut columns = Vec::new();
    for (i, c) in cols.iter().enumerate() {
        let pair = c.as_array().filter(|p| p.len() == 2).ok_or_else(|| bad(format!("{context}: schema entry {i} must be [name, type]")))?;
        let name = pair[0].as_str().ok_or_else(|| bad(format!("{context}: schema entry {i}: the column name must be a string")))?;
        let tname = pair[1].as_str().ok_or_else(|| bad(format!("{context}: schema entry {i}: the type must be a string")))?;
        let mut path = at.to_vec();
        path.extend([key("schema"), Seg::Index(i), Seg::Index(0)]);
        check_name("column", name, &format!("{context}, {}", path_text(&path)))?;
        let data_type = crate::types::ddl::parse_type(tname)
            .map_err(|why| bad(format!("{context}: column `{name}` has unknown type {}: {why}", shown(tname))))?;
        check_unique("column", name, columns.iter().map(|c: &Column| c.name.as_str()), context)?;
        columns.push(Column { name: name.to_string(), data_type });
    }
    if columns.is_empty() {
        return Err(bad(format!("{context}: the schema has no columns")));
    }
    Ok(Schema::new(columns))
}

impl Scenario {
    /// Parses and validates a scenario file. Errors name the JSON position, key or step. The
    /// text is read strictly: a key twice in an object, an integer too large for 64 bits, and
    /// anything past the `MAX_*` limits is refused, naming where and the limit.
    pub fn parse(text: &str) -> Result<Scenario> {
        if text.len() > MAX_SCENARIO_BYTES {
            return Err(bad(format!("the scenario is {} bytes long; the limit is {MAX_SCENARIO_BYTES} bytes (16 MiB)", text.len())));
        }
        Scenario::from_json(&strict_json(text)?)
    }

    /// Validates a scenario document (what `parse` reads, or what the page saved). Every name a
    /// query or an exported program uses must be a plain name, unique regardless of case.
    pub fn from_json(doc: &Json) -> Result<Scenario> {
        let obj = doc.as_object().ok_or_else(|| bad("the scenario must be a JSON object"))?;
        if obj.get("version").and_then(Json::as_u64) == Some(2) {
            // Read by `pipeline::scenario`, where one is expected; here one query is.
            return Err(bad(
                "this is a pipeline (a version 2 scenario): it runs in the CLI (`unbounded run FILE`); the playground's page runs one streaming query (version 1) for now",
            ));
        }
        check_keys(obj, &["version", "name", "description", "sources", "tables", "query", "output_mode", "steps"], "scenario")?;
        match obj.get("version") {
            Some(v) if v.as_u64() == Some(FORMAT_VERSION) => {}
            Some(v) => {
                return Err(bad(format!("scenario version {v} is not supported; this version of Unbounded reads version {FORMAT_VERSION}")))
            }
            None => return Err(bad("scenario: `version` is missing (it must be 1)")),
        }
        let name =
            obj.get("name").and_then(Json::as_str).ok_or_else(|| bad("scenario: `name` is missing (it must be a string)"))?.to_string();
        if name.chars().count() > MAX_NAME_CHARS {
            return Err(bad(format!("scenario: `name` is {} characters long; the limit is {MAX_NAME_CHARS}", name.chars().count())));
        }
        let description = obj
            .get("description")
            .map(|d| d.as_str().map(str::to_string).ok_or_else(|| bad("scenario: `description` must be a string")))
            .transpose()?;
        if let Some(d) = &description {
            check_value(&Json::String(d.clone()), 1, &|| "scenario: `description`".into())?;
        }
        let mut sources: Vec<(String, Schema)> = Vec::new();
        let mut source_options: Vec<(String, Map<String, Json>)> = Vec::new();
        let mut kafka: Vec<(String, u32)> = Vec::new();
        let mut auto_loader = Vec::new();
        let mut rate = Vec::new();
        let src = obj
            .get("sources")
            .and_then(Json::as_object)
            .ok_or_else(|| bad("scenario: `sources` must be an object of source name -> {\"schema\": ...}"))?;
        for (sname, s) in src {
            let at = [key("sources"), key(sname)];
            let context = format!("source {}", shown(sname));
            check_name("source", sname, &path_text(&at))?;
            check_unique("source", sname, sources.iter().map(|(n, _)| n.as_str()), &path_text(&at))?;
            let so = s.as_object().ok_or_else(|| bad(format!("{context} must be an object")))?;
            check_keys(so, &["schema", "kind", "options", "partitions", "format"], &context)?;
            let kind = match so.get("kind") {
                None => "files",
                Some(k) => k
                    .as_str()
                    .filter(|k| SOURCE_KINDS.contains(k))
                    .ok_or_else(|| bad(format!("{context}: `kind` must be one of {}, not {k}", SOURCE_KINDS.join(", "))))?,
            };
            if kind == "kafka" {
                if let Some(k) = ["schema", "format"].iter().find(|k| so.contains_key(**k)) {
                    return Err(bad(format!(
                        "{context}: a Kafka source has Spark's Kafka schema (key, value, topic, partition, offset, timestamp, timestampType): `{k}` does not belong to it"
                    )));
                }
                let partitions = match so.get("partitions") {
                    None => 1,
                    Some(p) => p.as_u64().filter(|p| (1..=crate::kafka::topic::MAX_PARTITIONS as u64).contains(p)).ok_or_else(|| {
                        bad(format!(
                            "{context}: `partitions` must be a whole number from 1 to {}, not {p}",
                            crate::kafka::topic::MAX_PARTITIONS
                        ))
                    })? as u32,
                };
                let o = match so.get("options") {
                    None => Map::new(),
                    Some(o) => o
                        .as_object()
                        .cloned()
                        .ok_or_else(|| bad(format!("{context}: `options` must be an object of option name -> value")))?,
                };
                kafka_options(&o, sname, &context)?;
                source_options.push((sname.clone(), o));
                kafka.push((sname.clone(), partitions));
                sources.push((sname.clone(), crate::kafka::kafka_schema()));
                continue;
            }
            let options_of = |so: &Map<String, Json>| match so.get("options") {
                None => Ok(Map::new()),
                Some(o) => {
                    o.as_object().cloned().ok_or_else(|| bad(format!("{context}: `options` must be an object of option name -> value")))
                }
            };
            if kind == "auto_loader" {
                if so.contains_key("partitions") {
                    return Err(bad(format!("{context}: `partitions` belongs to a Kafka source, not to an Auto Loader folder")));
                }
                let format = so.get("format").and_then(Json::as_str).ok_or_else(|| {
                    bad(format!("{context}: an Auto Loader source needs a `format`, json or csv (Databricks' cloudFiles.format)"))
                })?;
                let format = crate::auto_loader::FileFormat::parse(format, &context)?;
                let o = options_of(so)?;
                let given = so.get("schema").map(|v| schema_of(v, &context, &at)).transpose()?;
                crate::auto_loader::AutoLoaderSource::new(auto_loader_options(format, &o, &context)?, given.clone())
                    .map_err(|e| bad(format!("{context}: {}", e.message)))?;
                source_options.push((sname.clone(), o));
                auto_loader.push((sname.clone(), format, given.clone()));
                sources.push((sname.clone(), given.unwrap_or_default()));
                continue;
            }
            if kind == "rate" {
                if let Some(k) = ["schema", "format", "partitions"].iter().find(|k| so.contains_key(**k)) {
                    return Err(bad(format!(
                        "{context}: a rate source has Spark's rate schema (timestamp, value): `{k}` does not belong to it"
                    )));
                }
                let o = options_of(so)?;
                rate_options(&o, &context)?;
                source_options.push((sname.clone(), o));
                rate.push(sname.clone());
                sources.push((sname.clone(), crate::rate::rate_schema()));
                continue;
            }
            if let Some(k) = ["partitions", "format"].iter().find(|k| so.contains_key(**k)) {
                return Err(bad(format!("{context}: `{k}` belongs to a Kafka or Auto Loader source, not to a folder of files")));
            }
            if let Some(o) = so.get("options") {
                let o = o.as_object().ok_or_else(|| bad(format!("{context}: `options` must be an object of option name -> value")))?;
                file_options(o, &context)?;
                source_options.push((sname.clone(), o.clone()));
            }
            sources.push((sname.clone(), schema_of(so.get("schema").unwrap_or(&Json::Null), &context, &at)?));
        }
        let mut tables: Vec<(String, Schema, Vec<Json>)> = Vec::new();
        let mut total_rows = 0usize;
        if let Some(t) = obj.get("tables") {
            let t = t.as_object().ok_or_else(|| bad("scenario: `tables` must be an object of table name -> {\"schema\", \"rows\"}"))?;
            for (tname, tv) in t {
                let at = [key("tables"), key(tname)];
                let context = format!("table {}", shown(tname));
                check_name("table", tname, &path_text(&at))?;
                check_unique("table", tname, tables.iter().map(|(n, _, _)| n.as_str()), &path_text(&at))?;
                if let Some((s, _)) = sources.iter().find(|(s, _)| s.eq_ignore_ascii_case(tname)) {
                    return Err(bad(format!(
                        "{context}: a source has the same name ({}); Spark does not tell names apart by case",
                        shown(s)
                    )));
                }
                let to = tv.as_object().ok_or_else(|| bad(format!("{context} must be an object")))?;
                check_keys(to, &["schema", "rows"], &context)?;
                let schema = schema_of(to.get("schema").unwrap_or(&Json::Null), &context, &at)?;
                let rows = match to.get("rows") {
                    None => &[][..],
                    Some(r) => r.as_array().ok_or_else(|| bad(format!("{context}: `rows` must be a list of rows")))?.as_slice(),
                };
                total_rows = count_rows(total_rows, rows.len(), &context)?;
                // Checked before the copy: copying (and dropping) a value recurses on its depth.
                for (r, row) in rows.iter().enumerate() {
                    check_value(row, 5, &|| format!("{context}, row {r}"))?;
                }
                tables.push((tname.clone(), schema, rows.to_vec()));
            }
        }
        let query = obj.get("query").and_then(Json::as_str).ok_or_else(|| bad("scenario: `query` (the SQL text) is missing"))?.to_string();
        check_value(&Json::String(query.clone()), 1, &|| "scenario: `query`".into())?;
        let mode_text = match obj.get("output_mode") {
            None => "append",
            Some(m) => {
                m.as_str().ok_or_else(|| bad(format!("scenario: `output_mode` must be a string (append, update or complete), not {m}")))?
            }
        };
        let output_mode = OutputMode::parse(mode_text)
            .ok_or_else(|| bad(format!("scenario: `output_mode` must be append, update or complete, not {}", shown(mode_text))))?;
        let mut steps = Vec::new();
        let step_list = obj.get("steps").and_then(Json::as_array).ok_or_else(|| bad("scenario: `steps` must be a list"))?;
        if step_list.len() > MAX_STEPS {
            return Err(bad(format!("the scenario has {} steps; the limit is {MAX_STEPS}", step_list.len())));
        }
        for (i, s) in step_list.iter().enumerate() {
            let context = format!("step {i}");
            let so = s.as_object().ok_or_else(|| bad(format!("{context} must be an object")))?;
            let step = if let (Some(source), true) = (so.get("add"), so.contains_key("file") || so.contains_key("text")) {
                check_keys(so, &["add", "file", "text"], &context)?;
                let source = source.as_str().ok_or_else(|| bad(format!("{context}: `add` names a source")))?;
                let Some((source, _, _)) = auto_loader.iter().find(|(n, _, _)| n.eq_ignore_ascii_case(source)) else {
                    return Err(bad(format!("{context}: a `file` lands in an Auto Loader source, and {} is not one", shown(source))));
                };
                let (Some(file), Some(text)) = (so.get("file").and_then(Json::as_str), so.get("text").and_then(Json::as_str)) else {
                    return Err(bad(format!("{context}: a landed file has a `file` name and a `text`, both strings")));
                };
                check_value(&Json::String(text.to_string()), 1, &|| format!("{context}, `text`"))?;
                let mut probe = crate::auto_loader::AutoLoaderSource::new(
                    crate::auto_loader::AutoLoaderOptions::new(crate::auto_loader::FileFormat::Json),
                    None,
                )?;
                probe.land(file, "", 0).map_err(|e| bad(format!("{context}: {}", e.message)))?;
                let again = steps.iter().any(|s| matches!(s, Step::Land { source: s, file: f, .. } if s == source && f == file));
                if again {
                    return Err(bad(format!(
                        "{context}: the file {} has already landed in `{source}`: Auto Loader reads each file once",
                        shown(file)
                    )));
                }
                Step::Land { source: source.clone(), file: file.to_string(), text: text.to_string() }
            } else if let (Some(source), true) = (so.get("add"), so.contains_key("messages")) {
                check_keys(so, &["add", "messages", "partition"], &context)?;
                let source = source.as_str().ok_or_else(|| bad(format!("{context}: `add` names a source")))?;
                let Some((source, partitions)) = kafka.iter().find(|(n, _)| n.eq_ignore_ascii_case(source)) else {
                    return Err(bad(format!("{context}: `messages` go to a Kafka source, and {} is not one", shown(source))));
                };
                let messages = so
                    .get("messages")
                    .and_then(Json::as_array)
                    .ok_or_else(|| bad(format!("{context}: `messages` must be a list of messages")))?;
                total_rows = count_rows(total_rows, messages.len(), &context)?;
                for (m, message) in messages.iter().enumerate() {
                    check_value(message, 3, &|| format!("{context}, message {m}"))?;
                    kafka_message(message, 0, &format!("{context}, message {m}"))?;
                }
                let partition = match so.get("partition") {
                    None => None,
                    Some(p) => Some(p.as_u64().filter(|p| *p < *partitions as u64).ok_or_else(|| {
                        bad(format!("{context}: `partition` must be one of the topic's partitions, 0 to {}, not {p}", partitions - 1))
                    })? as u32),
                };
                Step::Produce { source: source.clone(), messages: messages.clone(), partition }
            } else if let Some(source) = so.get("retain") {
                check_keys(so, &["retain", "from_offsets"], &context)?;
                let source = source.as_str().ok_or_else(|| bad(format!("{context}: `retain` names a Kafka source")))?;
                let Some((source, _)) = kafka.iter().find(|(n, _)| n.eq_ignore_ascii_case(source)) else {
                    return Err(bad(format!("{context}: `retain` cuts a Kafka source, and {} is not one", shown(source))));
                };
                let from = so.get("from_offsets").and_then(Json::as_object).ok_or_else(|| {
                    bad(format!("{context}: `from_offsets` must be an object of partition -> first offset kept, e.g. {{\"0\": 5}}"))
                })?;
                retain_offsets(from, &context)?;
                Step::Retain { source: source.clone(), from_offsets: from.clone() }
            } else if let Some(source) = so.get("add") {
                check_keys(so, &["add", "rows"], &context)?;
                let source = source.as_str().ok_or_else(|| bad(format!("{context}: `add` names a source")))?;
                // One name regardless of case, as in the query; kept as the source declares it.
                let Some((source, schema)) = sources.iter().find(|(n, _)| n.eq_ignore_ascii_case(source)) else {
                    return Err(bad(format!(
                        "{context}: unknown source {} (sources: {})",
                        shown(source),
                        sources.iter().map(|(n, _)| n.as_str()).collect::<Vec<_>>().join(", ")
                    )));
                };
                if auto_loader.iter().any(|(k, _, _)| k == source) {
                    return Err(bad(format!(
                        "{context}: {} is an Auto Loader folder: a step lands a file in it ({{\"add\": \"{source}\", \"file\": \"x.json\", \"text\": \"...\"}}), not `rows`",
                        shown(source)
                    )));
                }
                if rate.iter().any(|k| k == source) {
                    return Err(bad(format!(
                        "{context}: {} is a rate source: its rows come from the trigger's clock, not from `add` steps",
                        shown(source)
                    )));
                }
                if kafka.iter().any(|(k, _)| k == source) {
                    return Err(bad(format!(
                        "{context}: {} is a Kafka topic: a producer sends it `messages` ({{\"add\": \"{source}\", \"messages\": [{{\"key\": ..., \"value\": ...}}]}}), not `rows`",
                        shown(source)
                    )));
                }
                let rows =
                    so.get("rows").and_then(Json::as_array).ok_or_else(|| bad(format!("{context}: `rows` must be a list of rows")))?;
                total_rows = count_rows(total_rows, rows.len(), &context)?;
                let width = schema.len();
                for (r, row) in rows.iter().enumerate() {
                    match row.as_array() {
                        Some(values) if values.len() == width => check_value(row, 5, &|| format!("{context}, row {r}"))?,
                        Some(values) => {
                            return Err(bad(format!("{context}: row {r} has {} values, but `{source}` has {width} columns", values.len())))
                        }
                        None => return Err(bad(format!("{context}: row {r} must be a list of values"))),
                    }
                }
                Step::Add { source: source.clone(), rows: rows.clone() }
            } else if let Some(v) = so.get("run") {
                check_keys(so, &["run"], &context)?;
                run_step(v, &context)?
            } else if let Some(v) = so.get("restart") {
                check_keys(so, &["restart"], &context)?;
                if !v.as_object().is_some_and(Map::is_empty) {
                    return Err(bad(format!("{context}: `restart` takes an empty object: {{\"restart\": {{}}}}")));
                }
                Step::Restart
            } else if let Some(v) = so.get("fail") {
                check_keys(so, &["fail"], &context)?;
                let point = v.as_str().and_then(FailurePoint::parse).ok_or_else(|| {
                    bad(format!(
                        "{context}: `fail` must be one of {}",
                        FailurePoint::ALL.iter().map(|p| p.as_str()).collect::<Vec<_>>().join(", ")
                    ))
                })?;
                Step::Fail(point)
            } else {
                return Err(bad(format!(
                    "{context}: expected one of the keys add, run, restart, fail, retain; found {}",
                    so.keys().map(|k| shown(k)).collect::<Vec<_>>().join(", ")
                )));
            };
            steps.push(step);
        }
        Ok(Scenario { name, description, sources, tables, query, output_mode, steps, source_options, kafka, auto_loader, rate })
    }

    /// The file-source options of every source that gives some, for [`QueryOptions`].
    pub fn file_options(&self) -> Result<std::collections::BTreeMap<String, FileOptions>> {
        self.source_options
            .iter()
            .filter(|(name, _)| {
                !self.kafka.iter().any(|(k, _)| k == name)
                    && !self.auto_loader.iter().any(|(k, _, _)| k == name)
                    && !self.rate.contains(name)
            })
            .map(|(name, o)| Ok((name.clone(), file_options(o, &format!("source {}", shown(name)))?)))
            .collect()
    }

    /// The Kafka sources, each an empty topic with its partitions and options, for [`QueryOptions`].
    pub fn kafka_sources(&self) -> Result<std::collections::BTreeMap<String, crate::kafka::KafkaSource>> {
        let mut out = std::collections::BTreeMap::new();
        for (name, partitions) in &self.kafka {
            let context = format!("source {}", shown(name));
            let o = self.source_options.iter().find(|(k, _)| k == name).map(|(_, o)| o.clone()).unwrap_or_default();
            let options = kafka_options(&o, name, &context)?;
            out.insert(name.clone(), crate::kafka::KafkaSource { topic: crate::kafka::Topic::new(name, *partitions)?, options });
        }
        Ok(out)
    }

    /// The Auto Loader sources, each an empty folder with its options, for [`QueryOptions`]. The
    /// files landed before the first run are the ones the stream finds when it first starts,
    /// which schema inference samples (the query starts with the run, as in the Spark harness).
    pub fn auto_loader_sources(&self) -> Result<std::collections::BTreeMap<String, crate::auto_loader::AutoLoaderSource>> {
        let mut out = std::collections::BTreeMap::new();
        let first_run = self.steps.iter().position(|s| matches!(s, Step::Run | Step::Trigger(_))).unwrap_or(self.steps.len());
        for (name, format, given) in &self.auto_loader {
            let context = format!("source {}", shown(name));
            let o = self.source_options.iter().find(|(k, _)| k == name).map(|(_, o)| o.clone()).unwrap_or_default();
            let mut source = crate::auto_loader::AutoLoaderSource::new(auto_loader_options(*format, &o, &context)?, given.clone())?;
            for (i, step) in self.steps.iter().enumerate().take(first_run) {
                if let Step::Land { source: s, file, text } = step {
                    if s == name {
                        source.sample.push(crate::auto_loader::LandedFile {
                            name: file.clone(),
                            text: text.clone(),
                            modified_ms: file_time_ms(i),
                        });
                    }
                }
            }
            out.insert(name.clone(), source);
        }
        Ok(out)
    }

    /// The rate sources and their options, for [`QueryOptions`].
    pub fn rate_sources(&self) -> Result<std::collections::BTreeMap<String, crate::rate::RateOptions>> {
        let mut out = std::collections::BTreeMap::new();
        for name in &self.rate {
            let o = self.source_options.iter().find(|(k, _)| k == name).map(|(_, o)| o.clone()).unwrap_or_default();
            out.insert(name.clone(), rate_options(&o, &format!("source {}", shown(name)))?);
        }
        Ok(out)
    }

    /// The scenario as a FORMAT.md document: what the playground exports, shares and saves.
    pub fn to_json(&self) -> Json {
        let schema = |s: &Schema| Json::Array(s.columns.iter().map(|c| json!([c.name, c.data_type.to_string()])).collect());
        let mut doc = Map::new();
        doc.insert("version".into(), json!(FORMAT_VERSION));
        doc.insert("name".into(), json!(self.name));
        if let Some(d) = &self.description {
            doc.insert("description".into(), json!(d));
        }
        let sources: Map<String, Json> = self
            .sources
            .iter()
            .map(|(n, s)| {
                let mut spec = Map::new();
                match self.kafka.iter().find(|(k, _)| k == n) {
                    Some((_, partitions)) => {
                        spec.insert("kind".into(), json!("kafka"));
                        spec.insert("partitions".into(), json!(partitions));
                    }
                    None => match (self.auto_loader.iter().find(|(k, _, _)| k == n), self.rate.contains(n)) {
                        (Some((_, format, given)), _) => {
                            spec.insert("kind".into(), json!("auto_loader"));
                            spec.insert("format".into(), json!(format.as_str()));
                            if let Some(g) = given {
                                spec.insert("schema".into(), schema(g));
                            }
                        }
                        (None, true) => {
                            spec.insert("kind".into(), json!("rate"));
                        }
                        (None, false) => {
                            spec.insert("schema".into(), schema(s));
                        }
                    },
                }
                if let Some((_, o)) = self.source_options.iter().find(|(k, _)| k == n) {
                    spec.insert("options".into(), Json::Object(o.clone()));
                }
                (n.clone(), Json::Object(spec))
            })
            .collect();
        doc.insert("sources".into(), Json::Object(sources));
        if !self.tables.is_empty() {
            let tables: Map<String, Json> =
                self.tables.iter().map(|(n, s, rows)| (n.clone(), json!({"schema": schema(s), "rows": rows}))).collect();
            doc.insert("tables".into(), Json::Object(tables));
        }
        doc.insert("query".into(), json!(self.query));
        doc.insert("output_mode".into(), json!(self.output_mode.as_str()));
        let steps = self.steps.iter().map(|step| match step {
            Step::Add { source, rows } => json!({"add": source, "rows": rows}),
            Step::Run => json!({"run": {}}),
            Step::Trigger(RunTrigger::Batches(n)) => json!({"run": {"batches": n}}),
            Step::Trigger(t) if t.is_live() => {
                json!({"run": {"trigger": {t.as_str(): t.interval_text().unwrap_or_default()}}})
            }
            Step::Trigger(t) => json!({"run": {"trigger": t.as_str()}}),
            Step::Restart => json!({"restart": {}}),
            Step::Fail(point) => json!({"fail": point.as_str()}),
            Step::Produce { source, messages, partition: Some(p) } => json!({"add": source, "messages": messages, "partition": p}),
            Step::Produce { source, messages, partition: None } => json!({"add": source, "messages": messages}),
            Step::Retain { source, from_offsets } => json!({"retain": source, "from_offsets": from_offsets}),
            Step::Land { source, file, text } => json!({"add": source, "file": file, "text": text}),
        });
        doc.insert("steps".into(), Json::Array(steps.collect()));
        Json::Object(doc)
    }

    /// The catalog the query is analysed against: sources and decoded static tables.
    pub fn catalog(&self) -> Result<Catalog> {
        let mut tables = Vec::new();
        for (name, schema, rows) in &self.tables {
            tables.push(Catalog::table_from_json(name, schema.clone(), rows)?);
        }
        Ok(Catalog { sources: self.sources.clone(), tables })
    }
}

/// The runner's result: the output document, and whether the query ran to the end.
pub struct RunOutput {
    pub document: Json,
    pub ok: bool,
}

pub fn rows_json(batch: &RecordBatch) -> Vec<Json> {
    (0..batch.num_rows())
        .map(|i| Json::Array(batch.columns().iter().map(|c| Value::from_array(c.as_ref(), i).to_json()).collect()))
        .collect()
}

fn error_json(e: &Error) -> Json {
    let mut m = Map::new();
    m.insert("kind".into(), json!(e.kind.code()));
    m.insert("message".into(), json!(e.message));
    if let Some(c) = e.spark_condition {
        m.insert("spark_condition".into(), json!(c));
    }
    m.insert("phase".into(), json!(e.phase.code()));
    if let Some(p) = e.position {
        m.insert("line".into(), json!(p.line));
        m.insert("column".into(), json!(p.column));
    }
    Json::Object(m)
}

fn batch_json(b: &BatchReport) -> Json {
    let mut m = Map::new();
    m.insert("batch_id".into(), json!(b.batch_id));
    m.insert("watermark".into(), b.watermark.map(|w| json!(format_timestamp(w))).unwrap_or(Json::Null));
    m.insert("dropped_late".into(), json!(b.dropped_late));
    m.insert("state_rows".into(), json!(b.state_rows));
    m.insert("rows".into(), Json::Array(rows_json(&b.rows)));
    if !b.bad_records.is_empty() {
        m.insert("bad_records".into(), json!(b.bad_records.len()));
    }
    if !b.late_rows.is_empty() {
        // Every row dropped as late, with why: `dropped_late` above is Spark's count of them.
        let late: Vec<Json> = b
            .late_rows
            .iter()
            .map(|l| {
                let mut o = Map::new();
                o.insert("operator".into(), json!(l.operator));
                o.insert("row".into(), Json::Array(l.row.iter().map(Value::to_json).collect()));
                o.insert("event_time".into(), json!(format_timestamp(l.event_time)));
                o.insert("watermark".into(), json!(format_timestamp(l.watermark)));
                if let Some((start, end)) = l.window {
                    o.insert("window".into(), json!({"start": format_timestamp(start), "end": format_timestamp(end)}));
                }
                Json::Object(o)
            })
            .collect();
        m.insert("late_rows".into(), Json::Array(late));
    }
    Json::Object(m)
}

fn run_json(step: usize, r: &RunReport) -> Json {
    let mut m = Map::new();
    m.insert("step".into(), json!(step));
    m.insert("batches".into(), Json::Array(r.batches.iter().map(batch_json).collect()));
    if !r.failures.is_empty() {
        m.insert("failures".into(), Json::Array(r.failures.iter().map(|(id, p)| json!({"batch_id": id, "point": p.as_str()})).collect()));
    }
    Json::Object(m)
}

/// Adds what a live query did since to its run's report.
fn absorb(report: &mut RunReport, more: RunReport) {
    report.batches.extend(more.batches);
    report.failures.extend(more.failures);
}

/// A continuous or Real-Time Mode run: as any run, plus its `trigger` and, for each epoch
/// (batch), every record's latency (`record_latency`, [`crate::progress::RecordLatency`] in
/// camelCase): the engine's extension, for the page to show latency per record.
fn live_run_json(step: usize, r: &RunReport, trigger: Option<RunTrigger>) -> Json {
    let mut run = run_json(step, r);
    if let (Some(t), Some(m)) = (trigger, run.as_object_mut()) {
        m.insert("trigger".into(), json!({t.as_str(): t.interval_text().unwrap_or_default()}));
    }
    if let Some(batches) = run.get_mut("batches").and_then(Json::as_array_mut) {
        for (b, report) in batches.iter_mut().zip(&r.batches) {
            if let Some(m) = b.as_object_mut() {
                m.insert("record_latency".into(), serde_json::to_value(&report.progress.record_latencies).unwrap_or(Json::Null));
            }
        }
    }
    run
}

/// What the sink holds at the end, as FORMAT.md defines it per output mode: the transactional
/// table's rows (appended, upserted by the update key, or replaced in complete mode).
pub fn sink_rows(q: &StreamingQuery) -> Vec<Json> {
    q.table().rows_json()
}

/// Runs a scenario end to end and builds the runner output document.
pub fn run(s: &Scenario) -> Result<RunOutput> {
    run_with(s, QueryOptions::default())
}

/// Runs a scenario over the given storage: with a checkpoint there from an earlier run, the
/// query resumes after its last commit (the sources are filled again by the `add` steps).
pub fn run_with(s: &Scenario, mut options: QueryOptions) -> Result<RunOutput> {
    let catalog = s.catalog()?;
    options.source_options = s.file_options()?;
    options.kafka = s.kafka_sources()?;
    options.auto_loader = s.auto_loader_sources()?;
    options.rate = s.rate_sources()?;
    // A rate source runs on the scenario's processing time: step i is i seconds after the
    // harness's base (2026-01-01 00:00:00), as file and message times are.
    let step_clock = StepClock::default();
    step_clock.at_step(0);
    // So does a continuous or Real-Time Mode run: its epochs end, and its records' latency
    // is measured, on that clock.
    let live_steps = s.steps.iter().any(|st| matches!(st, Step::Trigger(t) if t.is_live()));
    if !s.rate.is_empty() || live_steps {
        options.clock = Box::new(step_clock.clone());
    }
    let definition = QueryDefinition { sql: s.query.clone(), output_mode: s.output_mode, catalog };
    let mut query = match StreamingQuery::start_with(definition, options) {
        Ok(q) => q,
        Err(e) if matches!(e.kind, crate::ErrorKind::InvalidInput | crate::ErrorKind::Internal | crate::ErrorKind::Checkpoint) => {
            return Err(e)
        }
        Err(e) => return Ok(RunOutput { document: json!({"name": s.name, "error": error_json(&e)}), ok: false }),
    };
    let columns: Vec<Json> = query.schema().columns.iter().map(|c| json!(c.name)).collect();
    let mut runs = Vec::new();
    let mut failure: Option<Error> = None;
    // A trigger's run stops the query; the next `run {}` starts it again, as Spark must.
    let mut stopped = false;
    // A continuous or Real-Time Mode run goes on across the steps after it: (its step, what it did).
    let mut live: Option<(usize, RunReport)> = None;
    for (i, step) in s.steps.iter().enumerate() {
        step_clock.at_step(i);
        if let Some((at, mut report)) = live.take() {
            // Epochs (batches) that ended by now commit before this step happens; a run or
            // another trigger stops the query, a restart stops it and starts it again.
            let trigger = query.live_trigger();
            let ends = matches!(step, Step::Run | Step::Trigger(_) | Step::Restart);
            let mut r = query.tick_live().map(|t| absorb(&mut report, t));
            if r.is_ok() && ends {
                r = query.stop_live().map(|t| absorb(&mut report, t));
            }
            let again = match (step, trigger) {
                (Step::Restart, Some(t)) if r.is_ok() => {
                    r = query.start_live(t).map(|t| absorb(&mut report, t));
                    r.is_ok()
                }
                _ => false,
            };
            if again || (r.is_ok() && !ends) {
                live = Some((at, report));
            } else {
                runs.push(live_run_json(at, &report, trigger));
                stopped = true;
            }
            if let Err(e) = r {
                failure = Some(e);
                break;
            }
            if again {
                continue;
            }
        }
        let result = match step {
            Step::Land { source, file, text } => {
                query.land(source, file, text, file_time_ms(i)).map_err(|e| bad(format!("step {i}: {}", e.message)))
            }
            Step::Add { source, rows } => {
                query.add_json_file(source, rows, file_time_ms(i)).map_err(|e| bad(format!("step {i}: {}", e.message)))
            }
            // Resumed from a checkpoint, the add steps refill what it has read: no batch is due yet.
            Step::Run | Step::Trigger(_) if query.replaying() => {
                runs.push(run_json(i, &RunReport::default()));
                Ok(())
            }
            Step::Run => {
                let started = if std::mem::take(&mut stopped) { query.restart() } else { Ok(()) };
                started.and_then(|()| query.process_all_available()).map(|r| runs.push(run_json(i, &r)))
            }
            Step::Trigger(t) if t.is_live() => {
                stopped = true;
                query.start_live(*t).map(|r| live = Some((i, r)))
            }
            Step::Trigger(t) => {
                stopped = true;
                query.run_trigger(*t).map(|r| runs.push(run_json(i, &r)))
            }
            Step::Restart => {
                stopped = false;
                query.restart()
            }
            Step::Fail(point) => {
                query.inject_failure(*point);
                Ok(())
            }
            Step::Produce { source, messages, partition } => kafka_messages(messages, i)
                .and_then(|ms| query.produce(source, ms, *partition))
                .map(|_| ())
                .map_err(|e| bad(format!("step {i}: {}", e.message))),
            Step::Retain { source, from_offsets } => retain_offsets(from_offsets, &format!("step {i}"))
                .and_then(|o| query.retain(source, &o))
                .map_err(|e| bad(format!("step {i}: {}", e.message))),
        };
        if let Err(e) = result {
            if e.kind == crate::ErrorKind::InvalidInput {
                return Err(e);
            }
            // Auto Loader's addNewColumns stops the stream with the new schema recorded: the run
            // ends with the error and the next run (or restart) goes on with the new schema.
            if matches!(step, Step::Run | Step::Trigger(_)) && is_schema_evolution_stop(&e) {
                runs.push(json!({"step": i, "batches": [], "error": error_json(&e)}));
                stopped = true;
                continue;
            }
            failure = Some(e);
            if matches!(step, Step::Run | Step::Trigger(_)) {
                runs.push(json!({"step": i, "batches": []}));
            }
            break;
        }
    }
    if let Some((at, mut report)) = live.take() {
        // The end of the scenario stops a live query.
        let trigger = query.live_trigger();
        if let Err(e) = query.stop_live().map(|t| absorb(&mut report, t)) {
            failure.get_or_insert(e);
        }
        runs.push(live_run_json(at, &report, trigger));
    }
    if failure.is_none() {
        // Records the checkpoint counts as read that no add step gave back: refused, not skipped.
        failure = query.check_sources().err();
    }
    let mut doc = Map::new();
    doc.insert("name".into(), json!(s.name));
    doc.insert("columns".into(), Json::Array(columns));
    if let (OutputMode::Update, Some(key)) = (query.output_mode(), query.update_key()) {
        doc.insert("update_key".into(), json!(key));
    }
    doc.insert("runs".into(), Json::Array(runs));
    doc.insert("sink".into(), Json::Array(sink_rows(&query)));
    if !query.dead_letter().is_empty() {
        doc.insert(
            "dead_letter".into(),
            Json::Array(
                query.dead_letter().iter().map(|d| json!({"batch_id": d.batch_id, "source": d.record.source, "offset": d.record.offset, "row": d.record.row, "reason": d.record.reason})).collect(),
            ),
        );
    }
    let ok = failure.is_none();
    if let Some(e) = failure {
        doc.insert("error".into(), error_json(&e));
    }
    Ok(RunOutput { document: Json::Object(doc), ok })
}

/// Whether `e` is Auto Loader stopping the stream to evolve its schema (a restart goes on).
pub fn is_schema_evolution_stop(e: &Error) -> bool {
    e.spark_condition == Some(crate::auto_loader::source::UNKNOWN_FIELD) && e.message.contains("automatic retry: true")
}

/// The scenario's processing time, set by the runner at each step (and by the page, which
/// runs a scenario's steps in the same time): clones share one time.
#[derive(Debug, Clone, Default)]
pub struct StepClock(std::rc::Rc<std::cell::Cell<i64>>);

impl StepClock {
    pub fn set(&self, ms: i64) {
        self.0.set(ms);
    }

    /// Sets the time of step `step`: `step` seconds after 2026-01-01 00:00:00 UTC, when the
    /// runner runs it (and the Spark harness lands its file).
    pub fn at_step(&self, step: usize) {
        self.set(MESSAGE_TIME_BASE_MICROS / 1000 + file_time_ms(step));
    }
}

impl crate::time::Clock for StepClock {
    fn now_ms(&self) -> f64 {
        self.0.get() as f64
    }
}

/// Parses and runs scenario text: the entry point the CLI and the wasm build share. A scenario
/// this version cannot run (a source kind not built yet) gives the runner's error document.
pub fn run_text(text: &str) -> Result<RunOutput> {
    if let Some(p) = crate::pipeline::scenario::PipelineScenario::parse_if_pipeline(text)? {
        return crate::pipeline::scenario::run(&p);
    }
    match Scenario::parse(text) {
        Ok(s) => run(&s),
        Err(e) if e.kind == crate::ErrorKind::UnsupportedOperation => {
            let name = serde_json::from_str::<Json>(text).ok().and_then(|d| d.get("name").cloned()).unwrap_or(Json::Null);
            Ok(RunOutput { document: json!({"name": name, "error": error_json(&e)}), ok: false })
        }
        Err(e) => Err(e),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    #[cfg(target_arch = "wasm32")]
    use wasm_bindgen_test::wasm_bindgen_test as test;

    /// A scenario around the given sources, tables and steps (JSON fragments).
    fn doc(sources: &str, tables: &str, steps: &str) -> String {
        format!(
            r#"{{"version": 1, "name": "t", "sources": {{{sources}}}, "tables": {{{tables}}}, "query": "SELECT * FROM STREAM events", "steps": [{steps}]}}"#
        )
    }

    #[test]
    fn a_pipeline_read_as_one_query_says_where_it_runs() {
        let e = refused(
            r#"{"version": 2, "name": "p", "sources": {}, "pipeline": "CREATE MATERIALIZED VIEW m AS SELECT 1 AS x", "steps": []}"#,
        );
        assert!(e.contains("this is a pipeline") && e.contains("unbounded run"), "{e}");
    }

    fn refused(text: &str) -> String {
        match Scenario::parse(text) {
            Ok(_) => panic!("accepted: {text}"),
            Err(e) => {
                assert_eq!(e.kind, crate::ErrorKind::InvalidInput, "{e}");
                e.message
            }
        }
    }

    const EVENTS: &str = r#""events": {"schema": [["id", "string"], ["n", "bigint"], ["x", "double"]]}"#;

    #[test]
    fn a_key_twice_is_refused_with_where() {
        let e = refused(r#"{"version": 1, "name": "a", "name": "b", "sources": {}, "query": "", "steps": []}"#);
        assert!(e.contains("`name` appears twice") || e.contains("name appears twice"), "{e}");
        assert!(e.contains("line 1"), "{e}");
        let e = refused(&doc(&format!(r#"{EVENTS}, "events": {{"schema": [["a", "string"]]}}"#), "", ""));
        assert!(e.contains("events appears twice in `sources`"), "{e}");
        let e = refused(&doc(EVENTS, "", r#"{"add": "events", "rows": [], "rows": []}"#));
        assert!(e.contains("rows appears twice in `steps[0]`"), "{e}");
    }

    #[test]
    fn names_that_differ_only_by_case_are_one_name() {
        let e = refused(&doc(&format!(r#"{EVENTS}, "Events": {{"schema": [["a", "string"]]}}"#), "", ""));
        assert!(e.contains("`sources.Events`") && e.contains("declared twice"), "{e}");
        let e = refused(&doc(EVENTS, r#""t": {"schema": [["a", "string"]]}, "T": {"schema": [["a", "string"]]}"#, ""));
        assert!(e.contains("`tables.T`"), "{e}");
        let e = refused(&doc(EVENTS, r#""EVENTS": {"schema": [["a", "string"]]}"#, ""));
        assert!(e.contains("a source has the same name"), "{e}");
        let e = refused(&doc(r#""events": {"schema": [["id", "string"], ["ID", "int"]]}"#, "", ""));
        assert!(e.contains("column ID is declared twice"), "{e}");
        // A step names its source regardless of case, and keeps the declared spelling.
        let s = Scenario::parse(&doc(EVENTS, "", r#"{"add": "EVENTS", "rows": [["a", 1, 2.0]]}"#)).unwrap();
        assert_eq!(s.steps[0], Step::Add { source: "events".into(), rows: vec![json!(["a", 1, 2.0])] });
    }

    #[test]
    fn names_spark_would_quote_are_refused_with_their_path() {
        for (sources, tables, path) in [
            (r#""my events": {"schema": [["a", "string"]]}"#, "", r#"`sources["my events"]`"#),
            (r#""1st": {"schema": [["a", "string"]]}"#, "", r#"`sources["1st"]`"#),
            (r#""ev\nimport os": {"schema": [["a", "string"]]}"#, "", r#"`sources["ev\nimport os"]`"#),
            (r#""events": {"schema": [["id", "string"], ["a b", "int"]]}"#, "", "`sources.events.schema[1][0]`"),
            (EVENTS, r#""t-1": {"schema": [["a", "string"]]}"#, r#"`tables["t-1"]`"#),
            (EVENTS, r#""t": {"schema": [["caf\u00e9", "string"]]}"#, "`tables.t.schema[0][0]`"),
        ] {
            let e = refused(&doc(sources, tables, ""));
            assert!(e.contains(path) && e.contains("not a plain name"), "{path}: {e}");
        }
        let long = "a".repeat(MAX_NAME_CHARS + 1);
        let e = refused(&doc(&format!(r#""{long}": {{"schema": [["a", "string"]]}}"#), "", ""));
        assert!(e.contains("the limit is 128"), "{e}");
        assert!(Scenario::parse(&doc(&format!(r#""{}": {{"schema": [["_a1", "string"]]}}"#, &long[1..]), "", "")).is_ok());
    }

    #[test]
    fn numbers_json_cannot_hold_exactly_are_refused() {
        let e = refused(&doc(EVENTS, "", r#"{"add": "events", "rows": [["a", 1, 1e400]]}"#));
        assert!(e.contains("infinity") && e.contains("line 1"), "{e}");
        let e = refused(&doc(EVENTS, "", r#"{"add": "events", "rows": [["a", 1, 2], ["b", 123456789012345678901234567890, 2]]}"#));
        assert!(e.contains("step 0, row 1: column n (bigint): the integer 123456789012345678901234567890 does not fit in 64 bits"), "{e}");
        let e = refused(&doc(EVENTS, r#""t": {"schema": [["s", "string"]], "rows": [[-99999999999999999999]]}"#, ""));
        assert!(e.contains("table t, row 0: column s (string)"), "{e}");
        let e = refused(&doc(EVENTS, "", "").replace(r#""version": 1"#, r#""version": 100000000000000000000"#));
        assert!(e.contains("`version`: the integer 100000000000000000000"), "{e}");
        // A double column reads a long integer as the nearest double, as Spark does; strings
        // that look like numbers are not numbers.
        let s = Scenario::parse(&doc(
            EVENTS,
            "",
            r#"{"add": "events", "rows": [["1e400 99999999999999999999", 18446744073709551615, 123456789012345678901234567890]]}"#,
        ))
        .unwrap();
        let Step::Add { rows, .. } = &s.steps[0] else { panic!() };
        assert_eq!(rows[0][2].as_f64(), Some(1.2345678901234568e29));
    }

    #[test]
    fn sizes_past_the_limits_are_refused_naming_the_limit() {
        let big = format!("{}{}", doc(EVENTS, "", ""), " ".repeat(MAX_SCENARIO_BYTES));
        assert!(refused(&big).contains("the limit is 16777216 bytes"));
        let steps = vec![r#"{"run": {}}"#; MAX_STEPS + 1].join(",");
        assert!(refused(&doc(EVENTS, "", &steps)).contains(&format!("more than {MAX_STEPS} steps")));
        let rows = vec![r#"["a",1,2]"#; MAX_ROWS / 2 + 1].join(",");
        let add = format!(r#"{{"add": "events", "rows": [{rows}]}}"#);
        let e = refused(&doc(EVENTS, "", &format!("{add},{add}")));
        assert!(e.contains(&format!("more than {MAX_ROWS} rows")), "{e}");
        let long = "x".repeat(MAX_STRING_BYTES + 1);
        let e = refused(&doc(EVENTS, "", &format!(r#"{{"add": "events", "rows": [["{long}", 1, 2]]}}"#)));
        assert!(e.contains("`steps[0].rows[0][0]` is 1048577 bytes long"), "{e}");
    }

    #[test]
    fn nesting_is_bounded_in_text_and_in_documents() {
        // A row is at depth 5, so its value may nest 59 more levels: a bad record, but readable.
        let nested = |n: usize| format!("{}1{}", "[".repeat(n), "]".repeat(n));
        let at = |n: usize| doc(EVENTS, "", &format!(r#"{{"add": "events", "rows": [["a", 1, {}]]}}"#, nested(n)));
        assert!(Scenario::parse(&at(MAX_DEPTH - 5)).is_ok());
        assert!(refused(&at(MAX_DEPTH - 4)).contains("deeper than 64 levels"));
        assert!(refused(&at(100_000)).contains("deeper than 64 levels"));
        // The same value built as a document, not text, and far deeper: refused, no recursion.
        let mut v = json!(1);
        for _ in 0..100_000 {
            v = Json::Array(vec![v]);
        }
        let mut d: Json = serde_json::from_str(&doc(EVENTS, "", r#"{"add": "events", "rows": [["a", 1, 0]]}"#)).unwrap();
        d["steps"][0]["rows"][0][2] = v;
        let e = Scenario::from_json(&d).unwrap_err();
        assert!(e.message.contains("deeper than 64 levels"), "{e}");
        // Dropping so deep a value is itself recursive in serde_json: take it apart first.
        let mut stack = vec![d];
        while let Some(mut x) = stack.pop() {
            match &mut x {
                Json::Array(items) => stack.append(items),
                Json::Object(m) => stack.extend(std::mem::take(m).into_iter().map(|(_, v)| v)),
                _ => {}
            }
        }
    }

    #[test]
    fn loose_shapes_are_refused_not_defaulted() {
        assert!(
            refused(&doc(EVENTS, "", "").replace(r#""steps""#, r#""output_mode": 5, "steps""#)).contains("`output_mode` must be a string")
        );
        assert!(refused(&doc(EVENTS, r#""t": {"schema": [["a", "string"]], "rows": {}}"#, "")).contains("`rows` must be a list"));
        assert!(refused(&doc(EVENTS, "", "").replace(r#""version": 1"#, r#""version": 1.5"#)).contains("version 1.5 is not supported"));
    }

    #[test]
    fn source_options_and_triggers_are_read_and_kept() {
        let text = doc(
            r#""events": {"schema": [["id", "string"], ["n", "bigint"], ["x", "double"]], "kind": "files", "options": {"MaxFilesPerTrigger": 2, "latestFirst": true}}"#,
            "",
            r#"{"run": {}}, {"run": {"trigger": "availableNow"}}, {"run": {"trigger": "once"}}, {"run": {"batches": 3}}"#,
        );
        let s = Scenario::parse(&text).unwrap();
        assert_eq!(
            s.steps,
            vec![
                Step::Run,
                Step::Trigger(RunTrigger::AvailableNow),
                Step::Trigger(RunTrigger::Once),
                Step::Trigger(RunTrigger::Batches(3))
            ]
        );
        let o = &s.file_options().unwrap()["events"];
        assert_eq!((o.max_files_per_trigger, o.latest_first), (Some(2), true));
        assert_eq!(Scenario::from_json(&s.to_json()).unwrap(), s);
        assert_eq!(s.to_json()["sources"]["events"]["options"]["MaxFilesPerTrigger"], json!(2));
    }

    #[test]
    fn continuous_and_real_time_triggers_are_read_kept_and_refused_as_pyspark_refuses_them() {
        let text = doc(
            EVENTS,
            "",
            r#"{"run": {"trigger": {"continuous": "1 second"}}}, {"run": {"trigger": {"realTime": "5 seconds"}}}, {"run": {"trigger": {"continuous": "250 milliseconds"}}}"#,
        );
        let s = Scenario::parse(&text).unwrap();
        assert_eq!(
            s.steps,
            vec![
                Step::Trigger(RunTrigger::Continuous { interval_ms: 1000 }),
                Step::Trigger(RunTrigger::RealTime { batch_duration_ms: 5000 }),
                Step::Trigger(RunTrigger::Continuous { interval_ms: 250 }),
            ]
        );
        assert_eq!(Scenario::from_json(&s.to_json()).unwrap(), s);
        assert_eq!(s.to_json()["steps"][1], json!({"run": {"trigger": {"realTime": "5 seconds"}}}));
        for (run, what) in [
            (r#"{"trigger": {"continuous": ""}}"#, "[VALUE_NOT_NON_EMPTY_STR] Value for `continuous` must be a non-empty string"),
            (r#"{"trigger": {"realTime": 5}}"#, "[VALUE_NOT_NON_EMPTY_STR] Value for `realTime`"),
            (r#"{"trigger": {"realTime": "0 seconds"}}"#, "the batch duration should not be negative"),
            (r#"{"trigger": {"continuous": "1 second", "realTime": "5 seconds"}}"#, "one key"),
            (r#"{"trigger": {"processingTime": "1 second"}}"#, "unknown trigger processingTime"),
            (r#"{"trigger": {"continuous": "1 month"}}"#, "month or year"),
        ] {
            let e = refused(&doc(EVENTS, "", &format!(r#"{{"run": {run}}}"#)));
            assert!(e.contains(what), "{run}: {e}");
        }
    }

    #[test]
    fn bad_options_and_triggers_are_refused_naming_them() {
        let with =
            |options: &str, steps: &str| doc(&format!(r#""events": {{"schema": [["id", "string"]], "options": {options}}}"#), "", steps);
        let e = refused(&with(r#"{"maxFilesPerTriger": 1}"#, ""));
        assert!(e.contains("source events: unknown option `maxFilesPerTriger`"), "{e}");
        let e = refused(&with(r#"{"maxFilesPerTrigger": -1}"#, ""));
        assert!(e.contains("Invalid value '-1' for option 'maxFilesPerTrigger'"), "{e}");
        assert!(refused(&with(r#"{"maxFileAge": [1]}"#, "")).contains("must be a string, a number or a boolean"));
        assert!(refused(&with("[]", "")).contains("`options` must be an object"));
        for (run, what) in [
            (r#"{"trigger": "continuous"}"#, "must be \"availableNow\" or \"once\""),
            (r#"{"batches": 0}"#, "`batches` must be a whole number"),
            (r#"{"batches": 2, "trigger": "once"}"#, "not both"),
            (r#"{"interval": 2}"#, "unknown key interval"),
            ("[]", "`run` takes an object"),
        ] {
            let e = refused(&with("{}", &format!(r#"{{"run": {run}}}"#)));
            assert!(e.contains(what), "{run}: {e}");
        }
        let e = refused(&doc(r#""events": {"schema": [["id", "string"]], "kind": "socket"}"#, "", ""));
        assert!(e.contains("`kind` must be one of files, kafka, auto_loader, rate"), "{e}");
        let e = refused(&doc(r#""events": {"schema": [["id", "string"]], "partitions": 3}"#, "", ""));
        assert!(e.contains("`partitions` belongs to a Kafka"), "{e}");
    }

    #[test]
    fn a_kafka_source_round_trips_with_its_partitions_options_and_steps() {
        let text = doc(
            r#""events": {"kind": "kafka", "partitions": 3, "options": {"maxOffsetsPerTrigger": 10, "startingOffsets": "earliest"}}"#,
            "",
            r#"{"add": "events", "messages": [{"key": "d1", "value": "{\"t\": 1}", "timestamp": "2026-01-01 00:00:01"}], "partition": 2}, {"retain": "events", "from_offsets": {"2": 1}}, {"run": {}}"#,
        );
        let s = Scenario::parse(&text).unwrap();
        assert_eq!(s.kafka, vec![("events".to_string(), 3)]);
        assert_eq!(s.sources[0].1.names(), vec!["key", "value", "topic", "partition", "offset", "timestamp", "timestampType"]);
        assert_eq!(Scenario::from_json(&s.to_json()).unwrap(), s);
        assert_eq!(s.kafka_sources().unwrap()["events"].options.max_offsets, Some(10));
    }

    #[test]
    fn auto_loader_and_rate_sources_parse_round_trip_and_refuse_what_is_not_theirs() {
        let text = doc(
            r#""events": {"kind": "auto_loader", "format": "csv", "options": {"header": true, "cloudFiles.maxFilesPerTrigger": 2}}, "ticks": {"kind": "rate", "options": {"rowsPerSecond": 5}}"#,
            "",
            r#"{"add": "events", "file": "a.csv", "text": "id\n1\n"}, {"run": {}}"#,
        );
        let s = Scenario::parse(&text).unwrap();
        assert_eq!(s.auto_loader, vec![("events".to_string(), crate::auto_loader::FileFormat::Csv, None)]);
        assert_eq!(s.rate, vec!["ticks".to_string()]);
        assert_eq!(Scenario::from_json(&s.to_json()).unwrap(), s);
        assert_eq!(s.auto_loader_sources().unwrap()["events"].sample.len(), 1, "the file landed before the first run");
        assert_eq!(s.rate_sources().unwrap()["ticks"].rows_per_second, 5);
        for (sources, steps, what) in [
            (r#""events": {"kind": "auto_loader"}"#, "", "needs a `format`"),
            (r#""events": {"kind": "auto_loader", "format": "xml"}"#, "", "json or csv"),
            (
                r#""events": {"kind": "auto_loader", "format": "json", "options": {"cloudFiles.maxFilesPerTriger": 1}}"#,
                "",
                "unknown option",
            ),
            (
                r#""events": {"kind": "auto_loader", "format": "json", "schema": [["a", "string"]], "options": {"cloudFiles.schemaEvolutionMode": "addNewColumns"}}"#,
                "",
                "not allowed when the source gives a `schema`",
            ),
            (r#""events": {"kind": "rate", "schema": [["a", "string"]]}"#, "", "rate schema"),
            (r#""events": {"kind": "rate", "options": {"rowsPerSecond": 0}}"#, "", "must be positive"),
            (r#""events": {"kind": "rate"}"#, r#"{"add": "events", "rows": []}"#, "trigger's clock"),
            (r#""events": {"kind": "auto_loader", "format": "json"}"#, r#"{"add": "events", "rows": []}"#, "lands a file"),
            (r#""events": {"schema": [["a", "string"]]}"#, r#"{"add": "events", "file": "a.json", "text": ""}"#, "not one"),
            (
                r#""events": {"kind": "auto_loader", "format": "json"}"#,
                r#"{"add": "events", "file": "a.json", "text": ""}, {"add": "events", "file": "a.json", "text": ""}"#,
                "already landed",
            ),
            (
                r#""events": {"kind": "auto_loader", "format": "json"}"#,
                r#"{"add": "events", "file": "../a.json", "text": ""}"#,
                "no folders",
            ),
        ] {
            let e = refused(&doc(sources, "", steps));
            assert!(e.contains(what), "{sources} {steps}: {e}");
        }
    }

    #[test]
    fn the_strict_reader_reads_what_serde_json_reads() {
        let text = r#"{"a": [1, -2, 3.5, 1e300, "s\u00e9\n", null, true, {"b": {}}, []], "c": 18446744073709551615}"#;
        let state = RefCell::new(ParseState::default());
        let mut de = serde_json::Deserializer::from_str(text);
        let v = Strict { state: &state }.deserialize(&mut de).unwrap();
        assert_eq!(v, serde_json::from_str::<Json>(text).unwrap());
        assert_eq!(huge_integers(r#"["12345678901234567890123", 1, -99999999999999999999, 2e30]"#).len(), 1);
    }
}
