use std::collections::{BTreeMap, HashMap};

use serde::{Deserialize, Serialize};
use serde_json::Value as Json;

use super::{BatchWrite, Sink};
use crate::checkpoint::{frame, unframe, CheckpointError};
use crate::error::{Error, Result};
use crate::query::OutputMode;
use crate::scenario::rows_json;
use crate::storage::{Scoped, Storage};

/// One committed table version: batch `batch_id` of query `query_id`, and what it changed.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TableVersion {
    pub version: u64,
    pub query_id: String,
    pub batch_id: u64,
    /// Delta's name for it: `STREAMING UPDATE` (append, complete) or `MERGE` (update).
    pub operation: String,
    pub output_mode: String,
    pub rows_added: u64,
    pub rows_updated: u64,
    pub rows_removed: u64,
    /// The batch's rows, as the scenario format writes them.
    pub rows: Vec<Json>,
}

/// The rows of a table, with the row index of each key for upserts.
#[derive(Debug, Clone, Default)]
struct Content {
    rows: Vec<Json>,
    index: HashMap<String, usize>,
}

/// How a table folds in a version: what the output mode and key make of it.
#[derive(Debug, Clone)]
struct Layout {
    mode: OutputMode,
    /// Columns that identify a row in update mode (an upsert); None to append.
    key: Option<Vec<usize>>,
}

impl Layout {
    fn key_of(&self, row: &Json) -> Option<String> {
        let key = self.key.as_ref()?;
        let values: Vec<&Json> = key.iter().map(|&i| &row[i]).collect();
        serde_json::to_string(&values).ok()
    }

    fn upserts(&self) -> bool {
        self.mode == OutputMode::Update && self.key.is_some()
    }

    /// What folding `rows` into `content` would change: (added, updated, removed).
    fn count(&self, content: &Content, rows: &[Json]) -> (u64, u64, u64) {
        match self.mode {
            OutputMode::Complete => (rows.len() as u64, 0, content.rows.len() as u64),
            _ if self.upserts() => {
                let mut seen = std::collections::HashSet::new();
                let updated =
                    rows.iter().filter_map(|r| self.key_of(r)).filter(|k| seen.insert(k.clone()) && content.index.contains_key(k)).count()
                        as u64;
                (seen.len() as u64 - updated, updated, 0)
            }
            _ => (rows.len() as u64, 0, 0),
        }
    }

    fn apply(&self, content: &mut Content, rows: &[Json]) {
        match self.mode {
            OutputMode::Complete => content.rows = rows.to_vec(),
            _ if self.upserts() => {
                for row in rows {
                    let k = self.key_of(row).unwrap_or_default();
                    match content.index.get(&k) {
                        Some(&i) => content.rows[i] = row.clone(),
                        None => {
                            content.index.insert(k, content.rows.len());
                            content.rows.push(row.clone());
                        }
                    }
                }
            }
            _ => content.rows.extend(rows.iter().cloned()),
        }
    }
}

/// A transactional table: every batch commits one version, tagged with (query id, batch id),
/// as one file (`_delta_log/<version>`), so a version is all there or not there. A batch id
/// the same query committed before is skipped; a new query id (a lost checkpoint) is new work.
pub struct TableSink {
    name: String,
    storage: Scoped,
    layout: Layout,
    versions: Vec<TableVersion>,
    content: Content,
    /// The last batch id committed per query id (Delta's SetTransaction).
    txns: BTreeMap<String, u64>,
    skipped_replays: u64,
}

fn version_path(v: u64) -> String {
    format!("_delta_log/{v:020}")
}

impl TableSink {
    /// Opens the table stored under `storage`, with every version committed so far. `key` names
    /// the columns an update-mode query upserts by.
    pub fn open(name: &str, storage: Scoped, mode: OutputMode, key: Option<Vec<usize>>) -> Result<Self> {
        let mut t = TableSink {
            name: name.to_string(),
            storage,
            layout: Layout { mode, key },
            versions: Vec::new(),
            content: Content::default(),
            txns: BTreeMap::new(),
            skipped_replays: 0,
        };
        let names = t.storage.list("_delta_log").map_err(Error::from)?;
        for (expected, file) in names.iter().enumerate() {
            let path = format!("{}/_delta_log/{file}", t.storage.prefix());
            let bytes = t.storage.read(&format!("_delta_log/{file}")).map_err(Error::from)?.unwrap_or_default();
            let body = unframe(&path, &bytes)?;
            let v: TableVersion = serde_json::from_slice(body)
                .map_err(|e| CheckpointError::Damaged { path: path.clone(), detail: format!("it is not a table version ({e})") })?;
            if v.version != expected as u64 {
                let detail = format!("version {expected} was expected there, it holds {}", v.version);
                return Err(CheckpointError::Damaged { path, detail }.into());
            }
            t.layout.apply(&mut t.content, &v.rows);
            t.txns.insert(v.query_id.clone(), v.batch_id);
            t.versions.push(v);
        }
        Ok(t)
    }

    /// Every committed version, oldest first: the table's history.
    pub fn versions(&self) -> &[TableVersion] {
        &self.versions
    }

    /// The table's rows now.
    pub fn rows(&self) -> &[Json] {
        &self.content.rows
    }

    /// The table's rows as of `version` (time travel: `VERSION AS OF`).
    pub fn rows_at(&self, version: u64) -> Result<Vec<Json>> {
        if version as usize >= self.versions.len() {
            return Err(Error::invalid_input(match self.versions.len() {
                0 => format!("the table `{}` has no versions yet: run a micro-batch first", self.name),
                n => format!("the table `{}` has versions 0 to {}; there is no version {version}", self.name, n - 1),
            }));
        }
        let mut content = Content::default();
        for v in &self.versions[..=version as usize] {
            self.layout.apply(&mut content, &v.rows);
        }
        Ok(content.rows)
    }

    pub fn last_batch_id(&self, query_id: &str) -> Option<u64> {
        self.txns.get(query_id).copied()
    }

    /// How many replayed batches were recognised and skipped since the table was opened.
    pub fn skipped_replays(&self) -> u64 {
        self.skipped_replays
    }
}

impl Sink for TableSink {
    fn name(&self) -> &str {
        &self.name
    }

    fn write(&mut self, batch: &BatchWrite) -> Result<bool> {
        if self.last_batch_id(batch.query_id).is_some_and(|last| batch.batch_id <= last) {
            self.skipped_replays += 1;
            return Ok(false);
        }
        let rows = rows_json(batch.rows);
        let (rows_added, rows_updated, rows_removed) = self.layout.count(&self.content, &rows);
        let v = TableVersion {
            version: self.versions.len() as u64,
            query_id: batch.query_id.to_string(),
            batch_id: batch.batch_id,
            operation: if self.layout.upserts() { "MERGE" } else { "STREAMING UPDATE" }.to_string(),
            output_mode: self.layout.mode.as_str().to_string(),
            rows_added,
            rows_updated,
            rows_removed,
            rows,
        };
        let body = serde_json::to_vec(&v).map_err(|e| Error::internal(e.to_string()))?;
        // The version exists once its file does: apply it only after the write.
        self.storage.write(&version_path(v.version), &frame(&body)).map_err(Error::from)?;
        self.layout.apply(&mut self.content, &v.rows);
        self.txns.insert(v.query_id.clone(), v.batch_id);
        self.versions.push(v);
        Ok(true)
    }
}
