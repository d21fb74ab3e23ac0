//! An Auto Loader source: the landing folder's files, the schema kept at its schema location,
//! and what one micro-batch reads. Batches take files in the order they landed, so a batch's
//! offsets are a range of file indices; `sources/<source>/N` in the checkpoint lists its files
//! (as Spark's file source log does).
//!
//! The schema location is `schemas/<source>/_schemas/<N>` beside the checkpoint: version 0 is
//! the schema inferred (or given) when the stream first started, each later one what
//! `addNewColumns` recorded before stopping the stream. Databricks keeps it the same way
//! (https://docs.databricks.com/en/ingestion/cloud-object-storage/auto-loader/schema.html:
//! "Auto Loader stores the schema information in a directory _schemas at the configured
//! cloudFiles.schemaLocation").

use serde_json::{json, Map, Value as Json};

use super::format::{self, Record};
use super::options::{AutoLoaderOptions, EvolutionMode, RESCUED_DATA};
use crate::checkpoint::{frame, unframe, Checkpoint, CheckpointError};
use crate::error::{Error, Result};
use crate::source::{BadRecord, FileMeta, FileOptions, SourceLog, SourceRead};
use crate::storage::{SharedStorage, Storage};
use crate::types::{Column, DataType, Schema};

/// Databricks' error condition when a file brings columns the schema lacks.
pub const UNKNOWN_FIELD: &str = "UNKNOWN_FIELD_EXCEPTION.NEW_FIELDS_IN_RECORD_WITH_FILE_PATH";
/// Databricks' error condition when the folder is empty and there is no schema to start with.
pub const EMPTY_DIR: &str = "CF_EMPTY_DIR_FOR_SCHEMA_INFERENCE";
/// The most columns a schema may grow to.
pub const MAX_COLUMNS: usize = 1000;

/// One file in the landing folder.
#[derive(Debug, Clone, PartialEq)]
pub struct LandedFile {
    pub name: String,
    pub text: String,
    pub modified_ms: i64,
}

/// A landing folder and how the stream reads it.
#[derive(Debug, Clone)]
pub struct AutoLoaderSource {
    pub options: AutoLoaderOptions,
    /// The schema the source declares, if any (then nothing is inferred).
    pub given: Option<Schema>,
    /// The files in the folder when the stream first starts, which schema inference samples
    /// (a scenario's files landed before its first run); the folder's own first files when empty.
    pub sample: Vec<LandedFile>,
    pub files: Vec<LandedFile>,
}

fn schema_path(source: &str, version: u64) -> String {
    format!("schemas/{source}/_schemas/{version}")
}

fn file_log_path(source: &str, batch_id: u64) -> String {
    format!("sources/{source}/{batch_id}")
}

impl AutoLoaderSource {
    pub fn new(options: AutoLoaderOptions, given: Option<Schema>) -> Result<Self> {
        if given.is_some() && options.evolution == Some(EvolutionMode::AddNewColumns) {
            // Databricks: "addNewColumns is not allowed when the schema of the stream is provided".
            return Err(Error::invalid_input(
                "`cloudFiles.schemaEvolutionMode` addNewColumns is not allowed when the source gives a `schema` (Databricks refuses it too): drop the schema to let Auto Loader infer it, or choose rescue, failOnNewColumns or none",
            ));
        }
        Ok(AutoLoaderSource { options, given, sample: Vec::new(), files: Vec::new() })
    }

    /// `cloudFiles.schemaEvolutionMode`, with Databricks' defaults.
    pub fn mode(&self) -> EvolutionMode {
        self.options.evolution.unwrap_or(if self.given.is_some() { EvolutionMode::None } else { EvolutionMode::AddNewColumns })
    }

    /// The rescued data column: `rescuedDataColumn`, else `_rescued_data` when the schema is
    /// inferred (Databricks adds it then) or the mode rescues, none in mode `none`.
    pub fn rescued_column(&self) -> Option<String> {
        match (&self.options.rescued_data_column, self.mode()) {
            (Some(c), _) => Some(c.clone()),
            (None, EvolutionMode::None) => None,
            (None, EvolutionMode::Rescue) => Some(RESCUED_DATA.into()),
            (None, _) => self.given.is_none().then(|| RESCUED_DATA.into()),
        }
    }

    /// Lands a file in the folder. Names are unique: a file landed twice under one name is
    /// refused (Auto Loader reads a path once).
    pub fn land(&mut self, name: &str, text: &str, modified_ms: i64) -> Result<()> {
        self.check_name(name)?;
        self.files.push(LandedFile { name: name.to_string(), text: text.to_string(), modified_ms });
        Ok(())
    }

    /// Whether a file may land under `name`: the only way [`AutoLoaderSource::land`] refuses one.
    pub fn check_name(&self, name: &str) -> Result<()> {
        if name.is_empty() || name.len() > 1024 || name.contains(['/', '\\']) || name.chars().any(char::is_control) {
            return Err(Error::invalid_input(format!("the file name {name:?} must be one plain name of at most 1024 bytes (no folders)")));
        }
        if self.files.iter().any(|f| f.name == name) {
            return Err(Error::invalid_input(format!("a file named {name:?} has already landed: Auto Loader reads each file once")));
        }
        Ok(())
    }

    /// The schema the stream starts with: the newest at the schema location; else the given
    /// one, or one inferred from the first files, recorded there as version 0.
    pub fn resolve_schema(&self, storage: &SharedStorage, name: &str) -> Result<Schema> {
        if let Some((_, schema)) = latest_schema(storage, name)? {
            return Ok(schema);
        }
        let schema = match &self.given {
            Some(given) => {
                let mut cols = given.columns.clone();
                if let Some(r) = self.rescued_column().filter(|r| !cols.iter().any(|c| c.name.eq_ignore_ascii_case(r))) {
                    cols.push(Column { name: r, data_type: DataType::String });
                }
                Schema::new(cols)
            }
            None => {
                let files = if self.sample.is_empty() { &self.files } else { &self.sample };
                let parsed: Vec<_> = files.iter().take(self.options.sample_files).map(|f| format::parse(&f.text, &self.options)).collect();
                let records: Vec<&Record> = parsed.iter().flat_map(|p| p.records.iter()).collect();
                if records.is_empty() {
                    return Err(Error::runtime(
                        EMPTY_DIR,
                        format!(
                            "Cannot infer schema when the input path `{name}` is empty. Please try to start the stream when there are files in the input path, or specify the schema (the source's `schema`)"
                        ),
                    ));
                }
                let mut cols: Vec<Column> =
                    format::infer(&records, &self.options).into_iter().map(|(n, t)| Column { name: n, data_type: t }).collect();
                if let Some(r) = self.rescued_column() {
                    cols.retain(|c| !c.name.eq_ignore_ascii_case(&r));
                    cols.push(Column { name: r, data_type: DataType::String });
                }
                Schema::new(cols)
            }
        };
        check_width(&schema, name)?;
        write_schema(storage, name, 0, &schema)?;
        Ok(schema)
    }

    /// Where the next batch from file `from` stops under the read limits (`limited` false for
    /// `Trigger.Once`): `cloudFiles.maxFilesPerTrigger` and `maxBytesPerTrigger`, the lower
    /// limit winning when both are set, at least one file.
    pub fn plan_end(&self, from: u64, limited: bool) -> u64 {
        let rest = self.files.iter().skip(from as usize);
        if !limited {
            return self.files.len().max(from as usize) as u64;
        }
        let by_files = FileOptions { max_files_per_trigger: Some(self.options.max_files_per_trigger), ..FileOptions::default() };
        let meta = |f: &LandedFile| FileMeta { start: 0, end: 1, bytes: f.text.len() as u64, modified_ms: f.modified_ms };
        let mut n = crate::source::files_per_trigger(&by_files, rest.clone().map(meta), true);
        if let Some(max) = self.options.max_bytes_per_trigger {
            let by_bytes = FileOptions { max_bytes_per_trigger: Some(max), ..FileOptions::default() };
            n = n.min(crate::source::files_per_trigger(&by_bytes, rest.map(meta), true));
        }
        from + n as u64
    }

    /// Records the files of batch `batch_id` (`sources/<source>/N`), before its offsets entry.
    pub fn write_file_log(&self, checkpoint: &mut Checkpoint, name: &str, batch_id: u64, start: u64, end: u64) -> Result<()> {
        let files: Vec<Json> = self
            .files
            .get(start as usize..end as usize)
            .unwrap_or_default()
            .iter()
            .map(|f| json!({"path": format!("{name}/{}", f.name), "timestamp": f.modified_ms, "size": f.text.len()}))
            .collect();
        let body = serde_json::to_vec(&json!({"batch_id": batch_id, "files": files})).map_err(|e| Error::internal(e.to_string()))?;
        checkpoint
            .storage_mut()
            .write_vec(&file_log_path(name, batch_id), frame(&body))
            .map_err(|e| Error::from(CheckpointError::Storage(e)))
    }

    /// Reads files `[start, end)` with `schema`. A file with a column the schema lacks stops
    /// the stream in modes addNewColumns (recording the schema with it first) and
    /// failOnNewColumns, before any row is read.
    pub fn read(&self, storage: &SharedStorage, name: &str, schema: &Schema, start: u64, end: u64) -> Result<SourceRead> {
        let files = self.files.get(start as usize..end as usize).ok_or_else(|| {
            Error::from(CheckpointError::OffsetsPastSource { source: name.to_string(), offset: end, end: self.files.len() as u64 })
        })?;
        let parsed: Vec<_> = files.iter().map(|f| format::parse(&f.text, &self.options)).collect();
        let rescued = schema.columns.iter().position(|c| self.rescued_column().is_some_and(|r| r == c.name));
        let known = |field: &str| schema.columns.iter().any(|c| c.name.eq_ignore_ascii_case(field));
        let mode = self.mode();
        if matches!(mode, EvolutionMode::AddNewColumns | EvolutionMode::FailOnNewColumns) {
            for (f, p) in files.iter().zip(&parsed) {
                let mut new: Vec<String> = Vec::new();
                for (field, _) in p.records.iter().flatten() {
                    if !known(field) && !new.contains(field) {
                        new.push(field.clone());
                    }
                }
                if !new.is_empty() {
                    return Err(self.new_columns(storage, name, schema, files, &parsed, &f.name, &new));
                }
            }
        }
        let mut rows: Vec<Json> = Vec::new();
        let mut at: Vec<u64> = Vec::new();
        let mut bad: Vec<BadRecord> = Vec::new();
        for (k, (f, p)) in files.iter().zip(&parsed).enumerate() {
            let file_index = start + k as u64;
            let path = format!("{name}/{}", f.name);
            for m in &p.malformed {
                bad.push(BadRecord {
                    source: name.to_string(),
                    offset: record_offset(file_index, m.line),
                    row: Json::String(m.text.clone()),
                    column: String::new(),
                    reason: format!("{path}, line {}: {}", m.line, m.reason),
                });
            }
            for (record, line) in p.records.iter().zip(&p.lines) {
                let mut row = vec![Json::Null; schema.len()];
                let mut rescue = Map::new();
                for (field, v) in record {
                    match schema.columns.iter().position(|c| c.name == *field) {
                        Some(i) if Some(i) != rescued => match format::fit(v, &schema.columns[i].data_type) {
                            Some(value) => row[i] = value,
                            None => {
                                rescue.insert(field.clone(), v.clone());
                            }
                        },
                        // A field spelled with other case, or new in mode rescue (or none with a
                        // rescued column): rescued; new in mode none without one: dropped.
                        _ => {
                            if rescued.is_some() {
                                rescue.insert(field.clone(), v.clone());
                            }
                        }
                    }
                }
                if let (Some(i), Some(r)) = (rescued, format::rescued_json(rescue, &path)) {
                    row[i] = r;
                }
                rows.push(Json::Array(row));
                at.push(record_offset(file_index, *line));
            }
        }
        // The engine's own decoder types the rows (and makes a bad record of a value a given
        // schema's type cannot hold).
        let mut log = SourceLog::new(name, schema.clone());
        log.append_json(&rows)?;
        let mut read = log.read(0, rows.len() as u64)?;
        for b in &mut read.bad {
            b.offset = at.get(b.offset as usize).copied().unwrap_or(b.offset);
        }
        bad.extend(read.bad);
        Ok(SourceRead { rows: read.rows, bad })
    }

    /// The error that stops the stream on new columns; in mode addNewColumns the schema with
    /// them (typed from the batch's records, added before the rescued column) is recorded first.
    #[allow(clippy::too_many_arguments)]
    fn new_columns(
        &self,
        storage: &SharedStorage,
        name: &str,
        schema: &Schema,
        files: &[LandedFile],
        parsed: &[format::Parsed],
        file: &str,
        new: &[String],
    ) -> Error {
        let path = format!("{name}/{file}");
        let fields = new.join(", ");
        if self.mode() == EvolutionMode::FailOnNewColumns {
            return Error::runtime(
                UNKNOWN_FIELD,
                format!(
                    "Encountered unknown fields during parsing: [{fields}], which can be fixed by an automatic retry: false. File: {path}. The schema evolution mode is failOnNewColumns: the schema stays as it is; change the mode, give the columns in a schema, or remove the file"
                ),
            );
        }
        let records: Vec<&Record> = parsed.iter().flat_map(|p| p.records.iter()).collect();
        let _ = files;
        let typed = format::infer(&records, &self.options);
        let rescued = self.rescued_column();
        let mut cols: Vec<Column> = schema.columns.iter().filter(|c| Some(&c.name) != rescued.as_ref()).cloned().collect();
        for n in new {
            let t = typed.iter().find(|(c, _)| c == n).map_or(DataType::String, |(_, t)| t.clone());
            cols.push(Column { name: n.clone(), data_type: t });
        }
        cols.extend(schema.columns.iter().filter(|c| Some(&c.name) == rescued.as_ref()).cloned());
        let evolved = Schema::new(cols);
        let recorded = check_width(&evolved, name).and_then(|()| {
            let version = latest_schema(storage, name)?.map_or(0, |(v, _)| v + 1);
            write_schema(storage, name, version, &evolved)?;
            Ok(version)
        });
        match recorded {
            Ok(version) => Error::runtime(
                UNKNOWN_FIELD,
                format!(
                    "Encountered unknown fields during parsing: [{fields}], which can be fixed by an automatic retry: true. File: {path}. The new schema is recorded at {}: restart the stream to read on with it",
                    schema_path(name, version)
                ),
            ),
            Err(e) => e,
        }
    }
}

/// A bad record's offset: the file's index in the folder in the high 32 bits, the line in the
/// low ones (Auto Loader's offsets count files, not records).
fn record_offset(file_index: u64, line: usize) -> u64 {
    (file_index << 32) | (line as u64 & 0xffff_ffff)
}

fn check_width(schema: &Schema, name: &str) -> Result<()> {
    if schema.len() > MAX_COLUMNS {
        return Err(Error::invalid_input(format!("the files of `{name}` have {} columns; the limit is {MAX_COLUMNS}", schema.len())));
    }
    Ok(())
}

/// The newest schema at `source`'s schema location, with its version.
pub fn latest_schema(storage: &SharedStorage, source: &str) -> Result<Option<(u64, Schema)>> {
    let dir = format!("schemas/{source}/_schemas");
    let store = storage.scoped("");
    let listed = store.list(&dir).map_err(|e| Error::from(CheckpointError::Storage(e)))?;
    let Some(version) = listed.iter().filter_map(|p| p.rsplit('/').next().and_then(|n| n.parse::<u64>().ok())).max() else {
        return Ok(None);
    };
    let p = schema_path(source, version);
    let damaged = |detail: String| Error::from(CheckpointError::Damaged { path: p.clone(), detail });
    let bytes = store.read(&p).map_err(|e| Error::from(CheckpointError::Storage(e)))?.ok_or_else(|| damaged("it vanished".into()))?;
    let body: Json = serde_json::from_slice(unframe(&p, &bytes)?).map_err(|e| damaged(format!("it is not a schema: {e}")))?;
    let mut cols = Vec::new();
    for f in body["fields"].as_array().ok_or_else(|| damaged("it has no `fields`".into()))? {
        let (Some(n), Some(t)) = (f["name"].as_str(), f["type"].as_str()) else {
            return Err(damaged("a field without a name or a type".into()));
        };
        let t = crate::types::ddl::parse_type(t).map_err(|e| damaged(format!("field {n}: {e}")))?;
        cols.push(Column { name: n.to_string(), data_type: t });
    }
    Ok(Some((version, Schema::new(cols))))
}

/// Writes version `version` of the schema: Spark's StructType JSON, types in DDL form.
fn write_schema(storage: &SharedStorage, source: &str, version: u64, schema: &Schema) -> Result<()> {
    let fields: Vec<Json> =
        schema.columns.iter().map(|c| json!({"name": c.name, "type": c.data_type.ddl_name(), "nullable": true, "metadata": {}})).collect();
    let body = serde_json::to_vec(&json!({"type": "struct", "fields": fields})).map_err(|e| Error::internal(e.to_string()))?;
    storage.scoped("").write_vec(&schema_path(source, version), frame(&body)).map_err(|e| Error::from(CheckpointError::Storage(e)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::auto_loader::options::FileFormat;
    #[cfg(target_arch = "wasm32")]
    use wasm_bindgen_test::wasm_bindgen_test as test;

    fn source(options: AutoLoaderOptions) -> AutoLoaderSource {
        AutoLoaderSource::new(options, None).unwrap()
    }

    #[test]
    fn the_schema_is_inferred_once_and_kept_at_the_schema_location() {
        let storage = SharedStorage::memory();
        let mut s = source(AutoLoaderOptions::new(FileFormat::Json));
        let e = s.resolve_schema(&storage, "landing").unwrap_err();
        assert_eq!(e.spark_condition, Some(EMPTY_DIR));
        s.land("a.json", "{\"id\": 1, \"name\": \"x\"}", 0).unwrap();
        let schema = s.resolve_schema(&storage, "landing").unwrap();
        assert_eq!(schema.names(), vec!["id", "name", "_rescued_data"]);
        assert!(schema.columns.iter().all(|c| c.data_type == DataType::String));
        // A later file changes nothing: the recorded schema wins.
        s.land("b.json", "{\"zzz\": 1}", 1000).unwrap();
        assert_eq!(s.resolve_schema(&storage, "landing").unwrap(), schema);
        assert!(s.land("a.json", "", 2000).is_err());
    }

    #[test]
    fn a_new_column_records_the_new_schema_and_stops() {
        let storage = SharedStorage::memory();
        let mut s = source(AutoLoaderOptions::new(FileFormat::Json));
        s.land("a.json", "{\"id\": \"1\"}", 0).unwrap();
        let schema = s.resolve_schema(&storage, "landing").unwrap();
        s.land("b.json", "{\"id\": \"2\", \"extra\": true}", 1000).unwrap();
        assert_eq!(s.read(&storage, "landing", &schema, 0, 1).unwrap().rows.num_rows(), 1);
        let e = s.read(&storage, "landing", &schema, 1, 2).unwrap_err();
        assert_eq!(e.spark_condition, Some(UNKNOWN_FIELD));
        assert!(e.message.contains("[extra]") && e.message.contains("landing/b.json"), "{e}");
        let (version, evolved) = latest_schema(&storage, "landing").unwrap().unwrap();
        assert_eq!((version, evolved.names()), (1, vec!["id".to_string(), "extra".into(), "_rescued_data".into()]));
        assert_eq!(s.read(&storage, "landing", &evolved, 1, 2).unwrap().rows.num_rows(), 1);
    }

    #[test]
    fn limits_take_the_lower_of_files_and_bytes() {
        let mut o = AutoLoaderOptions::new(FileFormat::Json);
        o.max_files_per_trigger = 2;
        o.max_bytes_per_trigger = Some(25);
        let mut s = source(o);
        for k in 0..4 {
            s.land(&format!("{k}.json"), "{\"id\": \"1234567890\"}", k * 1000).unwrap();
        }
        assert_eq!((s.plan_end(0, true), s.plan_end(3, true), s.plan_end(4, true)), (1, 4, 4));
        assert_eq!(s.plan_end(0, false), 4, "Trigger.Once ignores the limits");
        s.options.max_bytes_per_trigger = None;
        assert_eq!(s.plan_end(0, true), 2);
    }
}
