use std::collections::{BTreeMap, HashMap};

use serde::{Deserialize, Serialize};
use serde_json::Value as Json;

use super::{BatchWrite, Sink};
use crate::checkpoint::{frame, unframe, CheckpointError};
use crate::error::{Error, Result};
use crate::plan::OutputMode;
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

/// What the newest version changed, for showing it: the rows now in the table it added or
/// updated (indexes into [`TableSink::rows`]) and the rows it removed. Complete mode rewrites the
/// whole table, so there it is the difference from the table before.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct TableChange {
    pub added: Vec<usize>,
    pub updated: Vec<usize>,
    pub removed: Vec<Json>,
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

    fn apply(&self, content: &mut Content, rows: &[Json]) -> TableChange {
        let mut change = TableChange::default();
        match self.mode {
            OutputMode::Complete => {
                change = self.difference(&content.rows, rows);
                content.rows = rows.to_vec();
            }
            _ if self.upserts() => {
                for row in rows {
                    let k = self.key_of(row).unwrap_or_default();
                    match content.index.get(&k) {
                        Some(&i) => {
                            content.rows[i] = row.clone();
                            if !change.added.contains(&i) && !change.updated.contains(&i) {
                                change.updated.push(i);
                            }
                        }
                        None => {
                            content.index.insert(k, content.rows.len());
                            change.added.push(content.rows.len());
                            content.rows.push(row.clone());
                        }
                    }
                }
            }
            _ => {
                change.added = (content.rows.len()..content.rows.len() + rows.len()).collect();
                content.rows.extend(rows.iter().cloned());
            }
        }
        change
    }

    /// How `new` differs from `old`: rows matched by key (or, without one, by their values)
    /// are updated when their values differ; the unmatched are added or removed.
    fn difference(&self, old: &[Json], new: &[Json]) -> TableChange {
        let identity = |row: &Json| match self.key_of(row) {
            Some(k) => k,
            None => row.to_string(),
        };
        let mut before: HashMap<String, Vec<&Json>> = HashMap::new();
        for row in old {
            before.entry(identity(row)).or_default().push(row);
        }
        let mut change = TableChange::default();
        for (i, row) in new.iter().enumerate() {
            match before.get_mut(&identity(row)).and_then(Vec::pop) {
                Some(was) if was == row => {}
                Some(_) => change.updated.push(i),
                None => change.added.push(i),
            }
        }
        // Left over, in the order the old table had them.
        change.removed = old.iter().filter(|row| before.get_mut(&identity(row)).and_then(Vec::pop).is_some()).cloned().collect();
        change
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
    last_change: TableChange,
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
            last_change: TableChange::default(),
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
            t.last_change = t.layout.apply(&mut t.content, &v.rows);
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

    /// What the newest version changed.
    pub fn last_change(&self) -> &TableChange {
        &self.last_change
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
        self.last_change = self.layout.apply(&mut self.content, &v.rows);
        self.txns.insert(v.query_id.clone(), v.batch_id);
        self.versions.push(v);
        Ok(true)
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn fold(layout: &Layout, batches: &[Vec<Json>]) -> (Content, TableChange) {
        let mut content = Content::default();
        let mut change = TableChange::default();
        for rows in batches {
            change = layout.apply(&mut content, rows);
        }
        (content, change)
    }

    #[test]
    fn append_adds_the_batch_rows_at_the_end() {
        let layout = Layout { mode: OutputMode::Append, key: None };
        let (content, change) = fold(&layout, &[vec![json!(["a", 1])], vec![json!(["b", 2]), json!(["a", 1])]]);
        assert_eq!(content.rows.len(), 3);
        assert_eq!(change, TableChange { added: vec![1, 2], updated: vec![], removed: vec![] });
    }

    #[test]
    fn update_tells_new_keys_from_changed_ones() {
        let layout = Layout { mode: OutputMode::Update, key: Some(vec![0]) };
        let (content, change) = fold(&layout, &[vec![json!(["a", 1]), json!(["b", 1])], vec![json!(["b", 2]), json!(["c", 1])]]);
        assert_eq!(content.rows, vec![json!(["a", 1]), json!(["b", 2]), json!(["c", 1])]);
        assert_eq!(change, TableChange { added: vec![2], updated: vec![1], removed: vec![] });
    }

    #[test]
    fn complete_shows_the_difference_from_the_table_before() {
        let layout = Layout { mode: OutputMode::Complete, key: Some(vec![0]) };
        let first = vec![json!(["a", 1]), json!(["b", 1]), json!(["gone", 5])];
        let second = vec![json!(["a", 1]), json!(["b", 2]), json!(["c", 1])];
        let (content, change) = fold(&layout, &[first, second.clone()]);
        assert_eq!(content.rows, second);
        assert_eq!(change, TableChange { added: vec![2], updated: vec![1], removed: vec![json!(["gone", 5])] });
    }

    #[test]
    fn complete_without_a_key_matches_rows_by_value() {
        let layout = Layout { mode: OutputMode::Complete, key: None };
        let (_, change) = fold(&layout, &[vec![json!([1]), json!([1]), json!([2])], vec![json!([1]), json!([3])]]);
        assert_eq!(change, TableChange { added: vec![1], updated: vec![], removed: vec![json!([1]), json!([2])] });
    }
}
