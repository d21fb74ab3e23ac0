//! Replayable sources: an append-only log per source, addressed by offset (one offset per
//! record, good or bad), read one offset range per micro-batch. Rows are decoded into Arrow once,
//! when they are added; records whose values do not fit the schema are kept aside, with their
//! offsets, for the batch that reads them to route to the dead-letter output.
//!
//! A source is a folder of files, as Spark's file source reads it: each append is one file (a
//! chunk of the log) with a modification time and a size, and [`FileOptions`] limit how many
//! files one micro-batch takes, as Spark's `FileStreamSource` does.

use std::sync::Arc;

use arrow_array::builder::{BooleanBuilder, Float64Builder, Int32Builder, Int64Builder, StringBuilder, TimestampMicrosecondBuilder};
use arrow_array::{ArrayRef, RecordBatch};
use arrow_schema::SchemaRef;
use serde_json::Value as Json;

use crate::error::{Error, Result};
use crate::time::parse_timestamp;
use crate::types::{DataType, Schema};

/// A record that could not be decoded, with why.
#[derive(Debug, Clone, PartialEq)]
pub struct BadRecord {
    pub source: String,
    pub offset: u64,
    pub row: Json,
    pub column: String,
    pub reason: String,
}

/// What one `add` appended (one file of the source's folder): good rows as one Arrow batch, bad
/// ones aside.
#[derive(Debug, Clone)]
struct Chunk {
    start: u64,
    end: u64,
    /// The file's modification time, in milliseconds: Spark orders and ages files by it.
    modified_ms: i64,
    /// The file's size in bytes: its good rows as JSON lines (see [`json_line`]), what
    /// `maxBytesPerTrigger` counts.
    bytes: u64,
    rows: RecordBatch,
    /// Offsets of the good rows when some records of the chunk were bad; None when contiguous.
    good_offsets: Option<Vec<u64>>,
    bad: Vec<BadRecord>,
}

#[derive(Debug, Clone)]
pub struct SourceLog {
    name: String,
    schema: Schema,
    arrow_schema: SchemaRef,
    chunks: Vec<Chunk>,
    /// What a read of no records gives (a no-data batch reads one every time): built once.
    empty: RecordBatch,
    options: FileOptions,
}

/// What the file source knows of one file.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct FileMeta {
    pub start: u64,
    pub end: u64,
    pub bytes: u64,
    pub modified_ms: i64,
}

impl FileMeta {
    pub fn records(&self) -> u64 {
        self.end - self.start
    }
}

/// Spark's `takeFilesUntilMax` and `take(maxFiles)`: how many of `files` (in the order the
/// source takes them) one trigger reads under `options`' limit; every one when `limited` is
/// false or there is no limit. A byte limit takes the first file always, then files while the
/// total fits, and stops at the first that does not.
pub fn files_per_trigger(options: &FileOptions, files: impl Iterator<Item = FileMeta>, limited: bool) -> usize {
    match (limited, options.max_files_per_trigger, options.max_bytes_per_trigger) {
        (true, Some(n), _) => files.take(n as usize).count(),
        (true, None, Some(max)) => {
            let mut total = 0u64;
            let mut count = 0;
            for f in files {
                total = total.saturating_add(f.bytes);
                if count > 0 && total > max {
                    break;
                }
                count += 1;
            }
            count
        }
        _ => files.count(),
    }
}

/// One micro-batch's read of a source.
#[derive(Debug, Clone)]
pub struct SourceRead {
    pub rows: RecordBatch,
    pub bad: Vec<BadRecord>,
}

impl SourceLog {
    pub fn new(name: &str, schema: Schema) -> Self {
        let arrow_schema = schema.to_arrow();
        let empty = RecordBatch::new_empty(arrow_schema.clone());
        SourceLog { name: name.to_string(), schema, arrow_schema, chunks: Vec::new(), empty, options: FileOptions::default() }
    }

    /// The source with Spark's file-source options (how many files a micro-batch takes).
    pub fn with_options(mut self, options: FileOptions) -> Self {
        self.options = options;
        self
    }

    pub fn options(&self) -> &FileOptions {
        &self.options
    }

    /// How many files (appends) the source holds.
    pub fn files(&self) -> usize {
        self.chunks.len()
    }

    /// The modification time the next file gets when none is given: one second after the last.
    fn next_modified_ms(&self) -> i64 {
        self.chunks.last().map_or(0, |c| c.modified_ms.saturating_add(1000))
    }

    /// Where the next micro-batch stops reading when it starts at `from` (a file boundary):
    /// after the files Spark's file source would take in one trigger. `limited` is false for a
    /// trigger that ignores the read limits (Spark's `Trigger.Once`). Files are read oldest
    /// first; `latestFirst` alone changes nothing here, since without a limit one batch takes
    /// every new file (with a limit the runtime's file log plans the batch instead).
    /// `maxFileAge` never skips a file either: Spark measures it from the newest file already
    /// read and takes every file in the first batch, and each new file here is newer than all
    /// before it.
    pub fn plan_end(&self, from: u64, limited: bool) -> u64 {
        if !limited || !self.options.limited() {
            return self.latest_offset();
        }
        // An empty file holds no offset to read: the engine cannot give it a batch of its own.
        let first = self.chunks.partition_point(|c| c.end <= from);
        let files = (first..).map_while(|k| self.file(k)).filter(|f| f.records() > 0);
        let n = files_per_trigger(&self.options, files.clone(), limited);
        files.take(n).last().map_or(from, |f| f.end)
    }

    pub fn name(&self) -> &str {
        &self.name
    }

    pub fn schema(&self) -> &Schema {
        &self.schema
    }

    /// The offset the next record will get: everything below it is available.
    pub fn latest_offset(&self) -> u64 {
        self.chunks.last().map(|c| c.end).unwrap_or(0)
    }

    /// Appends rows given as JSON arrays in schema order. A row of the wrong length is refused
    /// (nothing is appended); a value that does not fit its column makes the row a bad record.
    pub fn append_json(&mut self, rows: &[Json]) -> Result<()> {
        self.append_json_file(rows, None)
    }

    /// Appends rows as one file modified at `modified_ms` (one second after the last file when
    /// None). File times only grow: a file older than the last one is refused.
    pub fn append_json_file(&mut self, rows: &[Json], modified_ms: Option<i64>) -> Result<()> {
        let modified_ms = self.check_modified(modified_ms)?;
        let width = self.schema.len();
        for (i, row) in rows.iter().enumerate() {
            match row {
                Json::Array(values) if values.len() == width => {}
                Json::Array(values) => {
                    return Err(Error::invalid_input(format!(
                        "row {i} of `{}` has {} values, but the source has {width} columns ({})",
                        self.name,
                        values.len(),
                        self.schema.names().join(", ")
                    )))
                }
                _ => return Err(Error::invalid_input(format!("row {i} of `{}` must be a JSON array of {width} values", self.name))),
            }
        }
        let start = self.latest_offset();
        let (batch, good, bad) = decode_rows(&self.name, &self.schema, &self.arrow_schema, rows, start)?;
        let end = start + rows.len() as u64;
        let sized = self.options.max_bytes_per_trigger.is_some();
        let bytes = rows
            .iter()
            .filter(|_| sized)
            .enumerate()
            .filter(|(i, _)| bad.is_empty() || good.binary_search(&(start + *i as u64)).is_ok())
            .map(|(_, r)| json_line(&self.schema, r).len() as u64)
            .sum();
        let good_offsets = (!bad.is_empty()).then_some(good);
        self.chunks.push(Chunk { start, end, modified_ms, bytes, rows: batch, good_offsets, bad });
        Ok(())
    }

    fn check_modified(&self, modified_ms: Option<i64>) -> Result<i64> {
        let next = modified_ms.unwrap_or_else(|| self.next_modified_ms());
        match self.chunks.last() {
            Some(last) if next <= last.modified_ms => Err(Error::invalid_input(format!(
                "a new file of `{}` must be newer than the last one (modified at {} ms, the new one at {next} ms)",
                self.name, last.modified_ms
            ))),
            _ => Ok(next),
        }
    }

    /// Appends an already-typed batch (the fast path for generators and benchmarks).
    pub fn append_batch(&mut self, batch: RecordBatch) -> Result<()> {
        if batch.schema().fields().len() != self.schema.len() {
            return Err(Error::invalid_input(format!("a batch for `{}` must have {} columns", self.name, self.schema.len())));
        }
        let batch = RecordBatch::try_new(self.arrow_schema.clone(), batch.columns().to_vec())
            .map_err(|e| Error::invalid_input(format!("a batch for `{}` does not match its schema: {e}", self.name)))?;
        let modified_ms = self.check_modified(None)?;
        let start = self.latest_offset();
        let end = start + batch.num_rows() as u64;
        // Sized as the JSON lines the rows would be only when a byte limit asks for it.
        let bytes = match self.options.max_bytes_per_trigger {
            Some(_) => crate::scenario::rows_json(&batch).iter().map(|r| json_line(&self.schema, r).len() as u64).sum(),
            None => 0,
        };
        self.chunks.push(Chunk { start, end, modified_ms, bytes, rows: batch, good_offsets: None, bad: Vec::new() });
        Ok(())
    }

    /// File `k`'s offsets `[start, end)`, size in bytes and modification time in milliseconds.
    pub fn file(&self, k: usize) -> Option<FileMeta> {
        self.chunks.get(k).map(|c| FileMeta { start: c.start, end: c.end, bytes: c.bytes, modified_ms: c.modified_ms })
    }

    /// Reads whole files, in the order given, as if they were laid end to end from offset
    /// `at`: the offsets of their bad records are counted that way (the offsets of a source read
    /// newest first count the records in the order its batches read them).
    pub fn read_files(&self, files: &[usize], at: u64) -> Result<SourceRead> {
        let mut parts = Vec::new();
        let mut bad = Vec::new();
        let mut next = at;
        for &k in files {
            let c = self.chunks.get(k).ok_or_else(|| Error::internal(format!("`{}` has no file {k}", self.name)))?;
            let read = self.read(c.start, c.end)?;
            bad.extend(read.bad.into_iter().map(|b| BadRecord { offset: next + (b.offset - c.start), ..b }));
            if read.rows.num_rows() > 0 {
                parts.push(read.rows);
            }
            next += c.end - c.start;
        }
        let rows = match parts.len() {
            0 => self.empty.clone(),
            1 => parts.remove(0),
            _ => arrow_select::concat::concat_batches(&self.arrow_schema, &parts)?,
        };
        Ok(SourceRead { rows, bad })
    }

    /// Reads offsets `[from, to)`: slices of the stored batches (no copy when one chunk covers
    /// the range) and the bad records in the range.
    pub fn read(&self, from: u64, to: u64) -> Result<SourceRead> {
        let mut parts = Vec::new();
        let mut bad = Vec::new();
        let first = self.chunks.partition_point(|c| c.end <= from);
        for c in &self.chunks[first..] {
            if c.start >= to {
                break;
            }
            let (lo, hi) = (from.max(c.start), to.min(c.end));
            let (a, b) = match &c.good_offsets {
                None => ((lo - c.start) as usize, (hi - c.start) as usize),
                Some(offs) => (offs.partition_point(|&o| o < lo), offs.partition_point(|&o| o < hi)),
            };
            if b > a {
                parts.push(c.rows.slice(a, b - a));
            }
            bad.extend(c.bad.iter().filter(|r| r.offset >= lo && r.offset < hi).cloned());
        }
        let rows = match parts.len() {
            0 => self.empty.clone(),
            1 => parts.remove(0),
            _ => arrow_select::concat::concat_batches(&self.arrow_schema, &parts)?,
        };
        Ok(SourceRead { rows, bad })
    }
}

/// Spark's file-source options (`FileStreamOptions`), as a scenario's `options` give them.
#[derive(Debug, Clone, PartialEq)]
pub struct FileOptions {
    /// `maxFilesPerTrigger`: at most this many new files per micro-batch.
    pub max_files_per_trigger: Option<u64>,
    /// `maxBytesPerTrigger`: new files up to this many bytes per micro-batch, at least one.
    pub max_bytes_per_trigger: Option<u64>,
    /// `latestFirst`: newest files first.
    pub latest_first: bool,
    /// `maxFileAge`, in milliseconds (Spark's default is a week).
    pub max_file_age_ms: u64,
}

impl Default for FileOptions {
    fn default() -> Self {
        FileOptions { max_files_per_trigger: None, max_bytes_per_trigger: None, latest_first: false, max_file_age_ms: 7 * 24 * 3600 * 1000 }
    }
}

/// The file-source option names, as Spark spells them (it reads them regardless of case). The
/// last five are checked as Spark checks them but change nothing here: every file has its own
/// name (`fileNameOnly`); Spark's cache of listed files (`maxCachedFiles`,
/// `discardCachedInputRatio`) only decides when `maxFileAge` is checked again, and with files
/// that only get newer it never ignores one; and a file is cleaned up (`cleanSource`,
/// `sourceArchiveDir`) only once its batch has committed, when it is no longer read.
pub const FILE_OPTIONS: [&str; 9] = [
    "maxFilesPerTrigger",
    "maxBytesPerTrigger",
    "latestFirst",
    "maxFileAge",
    "fileNameOnly",
    "maxCachedFiles",
    "discardCachedInputRatio",
    "cleanSource",
    "sourceArchiveDir",
];

impl FileOptions {
    /// Reads `(name, value)` pairs as Spark's `FileStreamOptions` does: names regardless of
    /// case, values as text, with Spark's messages for a bad value. A name Spark's file source
    /// does not read (or that this version does not model) is refused, naming it: a typo must
    /// not pass silently. `at` says where, for the messages.
    pub fn parse(options: &[(String, String)], at: &str) -> Result<FileOptions> {
        let mut o = FileOptions::default();
        let mut seen: Vec<&str> = Vec::new();
        let (mut archive, mut archive_dir) = (false, false);
        for (name, value) in options {
            let Some(known) = FILE_OPTIONS.iter().copied().find(|k| k.eq_ignore_ascii_case(name)) else {
                return Err(Error::invalid_input(format!(
                    "{at}: unknown option `{name}` (the file source reads {})",
                    FILE_OPTIONS.join(", ")
                )));
            };
            if seen.contains(&known) {
                return Err(Error::invalid_input(format!(
                    "{at}: the option `{known}` is given twice (Spark reads option names regardless of case)"
                )));
            }
            seen.push(known);
            let positive = || {
                value.trim().parse::<i64>().ok().filter(|n| *n > 0).map(|n| n as u64).ok_or_else(|| {
                    Error::invalid_input(format!("{at}: Invalid value '{value}' for option '{known}', must be a positive integer"))
                })
            };
            let boolean = || match value.to_ascii_lowercase().as_str() {
                "true" => Ok(true),
                "false" => Ok(false),
                _ => Err(Error::invalid_input(format!("{at}: Invalid value '{value}' for option '{known}', must be 'true' or 'false'"))),
            };
            match known {
                "fileNameOnly" => {
                    boolean()?;
                }
                "maxCachedFiles" => {
                    if value.trim().parse::<i32>().ok().filter(|n| *n >= 0).is_none() {
                        return Err(Error::invalid_input(format!(
                            "{at}: Invalid value '{value}' for option 'maxCachedFiles', must be an integer greater than or equal to 0"
                        )));
                    }
                }
                "discardCachedInputRatio" => {
                    if value.trim().parse::<f32>().ok().filter(|x| (0.0..=1.0).contains(x)).is_none() {
                        return Err(Error::invalid_input(format!(
                            "{at}: Invalid value '{value}' for option 'discardCachedInputRatio', must be a positive float between 0 and 1"
                        )));
                    }
                }
                "cleanSource" => {
                    let mode = value.to_ascii_uppercase();
                    if !["ARCHIVE", "DELETE", "OFF"].contains(&mode.as_str()) {
                        return Err(Error::invalid_input(format!(
                            "{at}: Invalid mode for clean source option '{value}'. Must be one of ARCHIVE,DELETE,OFF"
                        )));
                    }
                    archive = mode == "ARCHIVE";
                }
                "sourceArchiveDir" => archive_dir = true,
                "maxFilesPerTrigger" => {
                    // Spark reads it as a 32-bit int.
                    let n = positive()?;
                    if n > i32::MAX as u64 {
                        return Err(Error::invalid_input(format!("{at}: Invalid value '{value}' for option '{known}', must be a positive integer")));
                    }
                    o.max_files_per_trigger = Some(n);
                }
                "maxBytesPerTrigger" => o.max_bytes_per_trigger = Some(positive()?),
                "latestFirst" => o.latest_first = boolean()?,
                _ => o.max_file_age_ms = time_string_ms(value).ok_or_else(|| {
                    Error::invalid_input(format!(
                        "{at}: Invalid value '{value}' for option 'maxFileAge': a time must be a whole number of microseconds (us), milliseconds (ms), seconds (s), minutes (m or min), hours (h) or days (d), e.g. 50s, 100ms or 7d"
                    ))
                })?,
            }
        }
        if archive && !archive_dir {
            return Err(Error::invalid_input(format!("{at}: Archive mode must be used with 'sourceArchiveDir' option.")));
        }
        if o.max_files_per_trigger.is_some() && o.max_bytes_per_trigger.is_some() {
            return Err(Error::invalid_input(format!(
                "{at}: Options 'maxFilesPerTrigger' and 'maxBytesPerTrigger' can't be both set at the same time"
            )));
        }
        Ok(o)
    }

    /// Whether a trigger may take only some of the new files.
    pub fn limited(&self) -> bool {
        self.max_files_per_trigger.is_some() || self.max_bytes_per_trigger.is_some()
    }
}

/// Spark's `Utils.timeStringAsMs`: a whole number with an optional unit (milliseconds when none).
pub(crate) fn time_string_ms(text: &str) -> Option<u64> {
    let t = text.trim().to_ascii_lowercase();
    let digits = t.find(|c: char| !c.is_ascii_digit()).unwrap_or(t.len());
    let n: u64 = t[..digits].parse().ok()?;
    let per_unit_us: u64 = match &t[digits..] {
        "us" => 1,
        "" | "ms" => 1000,
        "s" => 1_000_000,
        "m" | "min" => 60_000_000,
        "h" => 3_600_000_000,
        "d" => 86_400_000_000,
        _ => return None,
    };
    n.checked_mul(per_unit_us).map(|us| us / 1000)
}

/// One row as the line of the JSON-lines file the Spark harness (tests/spark/run_spark.py)
/// writes for it, byte for byte: Python's `json.dumps({column: value, ...}) + "\n"` (`", "` and
/// `": "` between items, non-ASCII escaped, floats as Python's `repr`). `maxBytesPerTrigger`
/// counts these bytes, so the engine and Spark cut batches at the same files.
pub fn json_line(schema: &Schema, row: &Json) -> String {
    let mut out = String::from("{");
    let values = row.as_array().map(Vec::as_slice).unwrap_or_default();
    for (i, (c, v)) in schema.columns.iter().zip(values).enumerate() {
        if i > 0 {
            out.push_str(", ");
        }
        python_json(&Json::String(c.name.clone()), &mut out);
        out.push_str(": ");
        python_json(v, &mut out);
    }
    out.push_str("}\n");
    out
}

fn python_json(v: &Json, out: &mut String) {
    match v {
        Json::Null => out.push_str("null"),
        Json::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
        Json::Number(n) if n.is_f64() => out.push_str(&python_float(n.as_f64().unwrap_or_default())),
        Json::Number(n) => out.push_str(&n.to_string()),
        Json::String(s) => {
            out.push('"');
            for ch in s.chars() {
                match ch {
                    '"' => out.push_str("\\\""),
                    '\\' => out.push_str("\\\\"),
                    '\n' => out.push_str("\\n"),
                    '\r' => out.push_str("\\r"),
                    '\t' => out.push_str("\\t"),
                    '\u{8}' => out.push_str("\\b"),
                    '\u{c}' => out.push_str("\\f"),
                    c if (c as u32) < 0x20 || (c as u32) > 0x7e => {
                        let mut units = [0u16; 2];
                        for u in c.encode_utf16(&mut units) {
                            out.push_str(&format!("\\u{u:04x}"));
                        }
                    }
                    c => out.push(c),
                }
            }
            out.push('"');
        }
        Json::Array(items) => {
            out.push('[');
            for (i, x) in items.iter().enumerate() {
                if i > 0 {
                    out.push_str(", ");
                }
                python_json(x, out);
            }
            out.push(']');
        }
        Json::Object(m) => {
            out.push('{');
            for (i, (k, x)) in m.iter().enumerate() {
                if i > 0 {
                    out.push_str(", ");
                }
                python_json(&Json::String(k.clone()), out);
                out.push_str(": ");
                python_json(x, out);
            }
            out.push('}');
        }
    }
}

/// Python's `repr` of a float: the shortest digits that read back, positional from 1e-4 up to
/// 1e16 (with `.0` when whole), else `d.ddde+XX`.
fn python_float(x: f64) -> String {
    if x.is_nan() {
        return "NaN".into();
    }
    if x.is_infinite() {
        return if x > 0.0 { "Infinity".into() } else { "-Infinity".into() };
    }
    // Rust's `{:e}` gives the shortest round-trip digits: `1.5e-5`, `2e0`.
    let sci = format!("{x:e}");
    let (mantissa, exp) = sci.split_once('e').unwrap_or((&sci, "0"));
    let exp: i32 = exp.parse().unwrap_or(0);
    let negative = mantissa.starts_with('-');
    let digits: String = mantissa.chars().filter(char::is_ascii_digit).collect();
    let sign = if negative { "-" } else { "" };
    if (-4..16).contains(&exp) {
        let point = exp + 1; // digits before the decimal point
        let s = if point <= 0 {
            format!("0.{}{digits}", "0".repeat((-point) as usize))
        } else if point as usize >= digits.len() {
            format!("{digits}{}.0", "0".repeat(point as usize - digits.len()))
        } else {
            format!("{}.{}", &digits[..point as usize], &digits[point as usize..])
        };
        format!("{sign}{s}")
    } else {
        let rest = if digits.len() > 1 { format!(".{}", &digits[1..]) } else { String::new() };
        let esign = if exp < 0 { '-' } else { '+' };
        format!("{sign}{}{rest}e{esign}{:02}", &digits[..1], exp.abs())
    }
}

/// Decodes JSON rows column by column. Returns the good rows, their offsets and the bad records.
fn decode_rows(
    source: &str,
    schema: &Schema,
    arrow_schema: &SchemaRef,
    rows: &[Json],
    start: u64,
) -> Result<(RecordBatch, Vec<u64>, Vec<BadRecord>)> {
    // First pass: find bad rows, so the builders only see good ones.
    let mut bad = Vec::new();
    let mut good = Vec::with_capacity(rows.len());
    let mut good_rows: Vec<&Vec<Json>> = Vec::with_capacity(rows.len());
    for (i, row) in rows.iter().enumerate() {
        let Json::Array(values) = row else { continue };
        let offset = start + i as u64;
        match values.iter().zip(&schema.columns).find_map(|(v, c)| check_value(v, &c.data_type).err().map(|r| (c, r))) {
            Some((col, reason)) => bad.push(BadRecord {
                source: source.to_string(),
                offset,
                row: row.clone(),
                column: col.name.clone(),
                reason: format!("column `{}` ({}): {reason}", col.name, col.data_type),
            }),
            None => {
                good.push(offset);
                good_rows.push(values);
            }
        }
    }
    let n = good_rows.len();
    let mut columns: Vec<ArrayRef> = Vec::with_capacity(schema.len());
    for (k, col) in schema.columns.iter().enumerate() {
        let cells = good_rows.iter().map(|r| &r[k]);
        let array: ArrayRef = match col.data_type {
            DataType::String => {
                let mut b = StringBuilder::with_capacity(n, n * 8);
                for v in cells {
                    match v {
                        Json::Null => b.append_null(),
                        Json::String(s) => b.append_value(s),
                        other => b.append_value(other.to_string()),
                    }
                }
                Arc::new(b.finish())
            }
            DataType::Int => {
                let mut b = Int32Builder::with_capacity(n);
                cells.for_each(|v| b.append_option(v.as_i64().map(|x| x as i32)));
                Arc::new(b.finish())
            }
            DataType::BigInt => {
                let mut b = Int64Builder::with_capacity(n);
                cells.for_each(|v| b.append_option(v.as_i64()));
                Arc::new(b.finish())
            }
            DataType::Double => {
                let mut b = Float64Builder::with_capacity(n);
                cells.for_each(|v| b.append_option(json_double(v)));
                Arc::new(b.finish())
            }
            DataType::Boolean => {
                let mut b = BooleanBuilder::with_capacity(n);
                cells.for_each(|v| b.append_option(v.as_bool()));
                Arc::new(b.finish())
            }
            DataType::Timestamp => {
                let mut b = TimestampMicrosecondBuilder::with_capacity(n);
                cells.for_each(|v| b.append_option(v.as_str().and_then(parse_timestamp)));
                Arc::new(b.finish())
            }
            DataType::Null | DataType::Window => {
                return Err(Error::invalid_input(format!("a source column cannot have type {}", col.data_type)))
            }
            // Dates, binary and nested types: through their values (checked above).
            ref other => crate::value::values_to_array(
                &cells.map(|v| crate::value::Value::from_json(v, other).unwrap_or(crate::value::Value::Null)).collect::<Vec<_>>(),
                other,
            ),
        };
        columns.push(array);
    }
    let batch =
        RecordBatch::try_new_with_options(arrow_schema.clone(), columns, &arrow_array::RecordBatchOptions::new().with_row_count(Some(n)))?;
    Ok((batch, good, bad))
}

fn json_double(v: &Json) -> Option<f64> {
    match v {
        Json::Number(n) => n.as_f64(),
        Json::String(s) => match s.as_str() {
            "NaN" => Some(f64::NAN),
            "Infinity" => Some(f64::INFINITY),
            "-Infinity" => Some(f64::NEG_INFINITY),
            _ => None,
        },
        _ => None,
    }
}

/// Why `v` does not fit a column of type `t`, if it does not.
fn check_value(v: &Json, t: &DataType) -> Result<(), String> {
    if v.is_null() {
        return Ok(());
    }
    let ok = match t {
        DataType::String => !v.is_array() && !v.is_object(),
        DataType::Int => v.as_i64().is_some_and(|x| i32::try_from(x).is_ok()),
        DataType::BigInt => v.as_i64().is_some(),
        DataType::Double => json_double(v).is_some(),
        DataType::Boolean => v.is_boolean(),
        DataType::Timestamp => v.as_str().and_then(parse_timestamp).is_some(),
        DataType::Null | DataType::Window => false,
        other => return crate::value::Value::from_json(v, other).map(|_| ()),
    };
    if ok {
        return Ok(());
    }
    Err(match t {
        DataType::Int if v.as_i64().is_some() => format!("{v} is out of range for a 32-bit int"),
        DataType::Timestamp if v.is_string() => format!("{v} is not a timestamp (expected \"YYYY-MM-DD HH:MM:SS[.ffffff]\")"),
        _ => format!("{v} is not a valid {t}"),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::types::Column;
    use crate::value::Value;
    use serde_json::json;
    #[cfg(target_arch = "wasm32")]
    use wasm_bindgen_test::wasm_bindgen_test as test;

    fn log() -> SourceLog {
        SourceLog::new(
            "readings",
            Schema::new(vec![
                Column { name: "device".into(), data_type: DataType::String },
                Column { name: "humidity".into(), data_type: DataType::Int },
                Column { name: "ts".into(), data_type: DataType::Timestamp },
            ]),
        )
    }

    #[test]
    fn offsets_count_every_record_and_reads_slice_ranges() {
        let mut s = log();
        s.append_json(&[json!(["a", 1, "2026-01-01 00:00:01"]), json!(["b", null, "2026-01-01 00:00:02"])]).unwrap();
        s.append_json(&[json!(["c", 3, "2026-01-01 00:00:03"])]).unwrap();
        assert_eq!(s.latest_offset(), 3);
        let r = s.read(1, 3).unwrap();
        assert_eq!(r.rows.num_rows(), 2);
        assert_eq!(Value::from_array(r.rows.column(0).as_ref(), 0), Value::String("b".into()));
        assert_eq!(Value::from_array(r.rows.column(1).as_ref(), 0), Value::Null);
        assert_eq!(s.read(3, 3).unwrap().rows.num_rows(), 0);
    }

    #[test]
    fn bad_values_become_bad_records_at_their_offsets() {
        let mut s = log();
        s.append_json(&[
            json!(["a", 1, "2026-01-01 00:00:01"]),
            json!(["b", "many", "2026-01-01 00:00:02"]),
            json!(["c", 3, "yesterday"]),
            json!(["d", 4, "2026-01-01 00:00:04"]),
            json!(["e", 3000000000i64, "2026-01-01 00:00:05"]),
        ])
        .unwrap();
        let all = s.read(0, 5).unwrap();
        assert_eq!(all.rows.num_rows(), 2);
        assert_eq!(all.bad.iter().map(|b| b.offset).collect::<Vec<_>>(), vec![1, 2, 4]);
        assert!(all.bad[0].reason.contains("`humidity`"), "{}", all.bad[0].reason);
        assert!(all.bad[1].reason.contains("not a timestamp"), "{}", all.bad[1].reason);
        assert!(all.bad[2].reason.contains("out of range"), "{}", all.bad[2].reason);
        // A range that starts after the first bad record sees only what is in it.
        let tail = s.read(2, 4).unwrap();
        assert_eq!(tail.rows.num_rows(), 1);
        assert_eq!(tail.bad.len(), 1);
    }

    #[test]
    fn json_lines_are_the_bytes_python_writes() {
        // Expected strings printed by Python 3's json.dumps, as the Spark harness writes files.
        let floats = [1e16, 1.5e-5, 0.0001, 123.0, -0.5, 1e22, 12345678901234567.0, 0.1, 1e-7, 9999999999999998.0, 5e-324];
        let text: Vec<String> = floats.iter().map(|x| python_float(*x)).collect();
        assert_eq!(
            text.join(", "),
            "1e+16, 1.5e-05, 0.0001, 123.0, -0.5, 1e+22, 1.2345678901234568e+16, 0.1, 1e-07, 9999999999999998.0, 5e-324"
        );
        let schema = Schema::new(vec![Column { name: "s".into(), data_type: DataType::String }]);
        assert_eq!(
            json_line(&schema, &json!(["café ☃ 😀 \u{1} \u{7f} \"q\" \\ \t"])),
            "{\"s\": \"caf\\u00e9 \\u2603 \\ud83d\\ude00 \\u0001 \\u007f \\\"q\\\" \\\\ \\t\"}\n"
        );
        assert_eq!(
            json_line(&log().schema, &json!(["d1", 7, "2026-01-01 00:00:01"])),
            "{\"device\": \"d1\", \"humidity\": 7, \"ts\": \"2026-01-01 00:00:01\"}\n"
        );
    }

    fn options(pairs: &[(&str, &str)]) -> Result<FileOptions> {
        FileOptions::parse(&pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect::<Vec<_>>(), "source events")
    }

    #[test]
    fn options_are_read_as_spark_reads_them() {
        let o = options(&[("MAXFILESPERTRIGGER", "3"), ("latestfirst", "TRUE"), ("maxFileAge", "2min")]).unwrap();
        assert_eq!((o.max_files_per_trigger, o.latest_first, o.max_file_age_ms), (Some(3), true, 120_000));
        assert_eq!(options(&[("maxFileAge", "1500us")]).unwrap().max_file_age_ms, 1);
        assert_eq!(options(&[("maxFileAge", "250")]).unwrap().max_file_age_ms, 250);
        let e = options(&[("maxFilesPerTriger", "3")]).unwrap_err();
        assert!(e.message.contains("unknown option `maxFilesPerTriger`") && e.message.contains("maxFilesPerTrigger"), "{e}");
        let e = options(&[("maxFilesPerTrigger", "0")]).unwrap_err();
        assert!(e.message.contains("Invalid value '0' for option 'maxFilesPerTrigger', must be a positive integer"), "{e}");
        assert!(options(&[("maxFilesPerTrigger", "3000000000")]).is_err());
        let e = options(&[("maxFilesPerTrigger", "1"), ("maxBytesPerTrigger", "10")]).unwrap_err();
        assert!(e.message.contains("can't be both set at the same time"), "{e}");
        assert!(options(&[("latestFirst", "yes")]).unwrap_err().message.contains("must be 'true' or 'false'"));
        assert!(options(&[("maxFileAge", "7 weeks")]).is_err());
        assert!(options(&[("maxFileAge", "-1s")]).is_err());
        assert!(options(&[("latestFirst", "true"), ("LatestFirst", "false")]).unwrap_err().message.contains("given twice"));
        // Options Spark checks that change nothing here are checked as Spark does.
        assert_eq!(
            options(&[("fileNameOnly", "true"), ("maxCachedFiles", "0"), ("discardCachedInputRatio", "0.5"), ("cleanSource", "delete")])
                .unwrap(),
            FileOptions::default()
        );
        assert!(options(&[("cleanSource", "archive")]).unwrap_err().message.contains("'sourceArchiveDir'"));
        assert!(options(&[("cleanSource", "Archive"), ("sourceArchiveDir", "/tmp/done")]).is_ok());
        assert!(options(&[("cleanSource", "move")]).unwrap_err().message.contains("Must be one of ARCHIVE,DELETE,OFF"));
        assert!(options(&[("maxCachedFiles", "-1")]).is_err());
        assert!(options(&[("discardCachedInputRatio", "1.5")]).is_err());
        assert!(options(&[("fileNameOnly", "1")]).is_err());
    }

    #[test]
    fn a_trigger_takes_files_within_the_read_limit() {
        let files = |o: FileOptions| {
            let mut s = log().with_options(o);
            for k in 0..4 {
                let rows: Vec<_> = (0..=k % 2).map(|_| json!(["a", 1, "2026-01-01 00:00:01"])).collect();
                s.append_json(&rows).unwrap();
            }
            s
        };
        // Files of 1, 2, 1 and 2 records (offsets 0..1, 1..3, 3..4, 4..6).
        let s = files(FileOptions { max_files_per_trigger: Some(3), ..FileOptions::default() });
        assert_eq!((s.plan_end(0, true), s.plan_end(4, true), s.plan_end(6, true)), (4, 6, 6));
        assert_eq!(s.plan_end(0, false), 6, "Trigger.Once ignores the limit");
        // A line is 60 bytes: the first file always, then files while the total fits.
        let s = files(FileOptions { max_bytes_per_trigger: Some(120), ..FileOptions::default() });
        assert_eq!(s.file(0).unwrap().bytes, 60);
        assert_eq!((s.plan_end(0, true), s.plan_end(1, true), s.plan_end(3, true)), (1, 3, 4));
        let s = files(FileOptions { max_bytes_per_trigger: Some(1), ..FileOptions::default() });
        assert_eq!(s.plan_end(1, true), 3, "a file larger than the limit is read alone");
        // Without a limit one batch takes every new file.
        assert_eq!(files(FileOptions::default()).plan_end(1, true), 6);
    }

    #[test]
    fn file_times_only_grow() {
        let mut s = log();
        s.append_json_file(&[json!(["a", 1, "2026-01-01 00:00:01"])], Some(5000)).unwrap();
        let e = s.append_json_file(&[json!(["a", 1, "2026-01-01 00:00:01"])], Some(5000)).unwrap_err();
        assert!(e.message.contains("must be newer"), "{e}");
        s.append_json(&[]).unwrap();
        assert_eq!(s.file(1).unwrap().modified_ms, 6000);
    }

    #[test]
    fn wrong_arity_is_refused_whole() {
        let mut s = log();
        let e = s.append_json(&[json!(["a", 1, "2026-01-01 00:00:01"]), json!(["b", 2])]).unwrap_err();
        assert!(e.message.contains("row 1"), "{}", e.message);
        assert_eq!(s.latest_offset(), 0);
    }
}
