use std::collections::BTreeMap;

use crate::hash::{FxHashSet, KeyHashMap, KeyHashSet};

use arrow_array::{ArrayRef, RecordBatch};
use arrow_schema::SchemaRef;
use serde::Deserialize;
use serde_json::Value as Json;

use super::columnar::{read_batch, write_batch, Reader};
use super::{batch_json, conform, legacy, put_str, row_json, BatchWrite, Sink};
use crate::checkpoint::{frame, unframe, CheckpointError};
use crate::error::{Error, Result};
use crate::ops::keys::encode_group;
use crate::plan::OutputMode;
use crate::storage::{Scoped, Storage};
use crate::types::Schema;

/// How a binary table version starts; the byte after it is the format's version. A version
/// written by an earlier release is JSON text, which starts with `{`.
const MAGIC: &[u8] = b"\0UBTV";
const FORMAT: u8 = 1;

/// One committed table version: batch `batch_id` of query `query_id`, and what it changed.
#[derive(Debug, Clone, PartialEq)]
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
    /// The batch's rows, with the table's columns.
    pub rows: RecordBatch,
}

impl TableVersion {
    /// The batch's rows as the scenario format writes them.
    pub fn rows_json(&self) -> Vec<Json> {
        batch_json(&self.rows)
    }

    fn encode(&self) -> Result<Vec<u8>> {
        let mut out = Vec::new();
        out.extend_from_slice(MAGIC);
        out.push(FORMAT);
        out.extend_from_slice(&self.version.to_le_bytes());
        put_str(&self.query_id, &mut out);
        out.extend_from_slice(&self.batch_id.to_le_bytes());
        put_str(&self.operation, &mut out);
        put_str(&self.output_mode, &mut out);
        for n in [self.rows_added, self.rows_updated, self.rows_removed] {
            out.extend_from_slice(&n.to_le_bytes());
        }
        write_batch(&self.rows, &mut out)?;
        Ok(out)
    }

    /// A version file's body, in this release's binary form or an earlier one's JSON.
    fn decode(path: &str, body: &[u8], schema: &Schema, arrow: &SchemaRef) -> std::result::Result<Self, CheckpointError> {
        let damaged = |detail: String| CheckpointError::Damaged { path: path.to_string(), detail };
        let Some(binary) = body.strip_prefix(MAGIC) else {
            let v: JsonVersion = serde_json::from_slice(body).map_err(|e| damaged(format!("it is not a table version ({e})")))?;
            let rows = legacy::rows_from_json(&v.rows, schema, arrow).map_err(damaged)?;
            return Ok(TableVersion {
                version: v.version,
                query_id: v.query_id,
                batch_id: v.batch_id,
                operation: v.operation,
                output_mode: v.output_mode,
                rows_added: v.rows_added,
                rows_updated: v.rows_updated,
                rows_removed: v.rows_removed,
                rows,
            });
        };
        let mut r = Reader { bytes: binary, at: 0 };
        let read = |r: &mut Reader| -> std::result::Result<TableVersion, String> {
            let format = r.u8()?;
            if format != FORMAT {
                return Err(format!("it is a table version of format {format}; this release reads format {FORMAT}"));
            }
            let (version, query_id, batch_id, operation, output_mode) = (r.u64()?, r.string()?, r.u64()?, r.string()?, r.string()?);
            let (rows_added, rows_updated, rows_removed) = (r.u64()?, r.u64()?, r.u64()?);
            let (rows, rest) = read_batch(&r.bytes[r.at..], schema, arrow)?;
            if !rest.is_empty() {
                return Err(format!("{} bytes follow its rows", rest.len()));
            }
            Ok(TableVersion { version, query_id, batch_id, operation, output_mode, rows_added, rows_updated, rows_removed, rows })
        };
        read(&mut r).map_err(damaged)
    }
}

/// A table version as releases before the binary format wrote it.
#[derive(Deserialize)]
struct JsonVersion {
    version: u64,
    query_id: String,
    batch_id: u64,
    operation: String,
    output_mode: String,
    rows_added: u64,
    rows_updated: u64,
    rows_removed: u64,
    rows: Vec<Json>,
}

/// What the newest version changed, for showing it: the rows now in the table it added or
/// updated (indexes into the table's rows, as [`TableSink::rows_json`] lists them) and the rows
/// it removed. Complete mode rewrites the whole table, so there it is the difference from the
/// table before.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct TableChange {
    pub added: Vec<usize>,
    pub updated: Vec<usize>,
    pub removed: Vec<Json>,
}

/// The keys of a batch's rows (`ops::keys::encode_group` over some columns), one after another.
struct Keys {
    bytes: Vec<u8>,
    ends: Vec<usize>,
}

impl Keys {
    fn of(batch: &RecordBatch, columns: &[usize]) -> Keys {
        let columns: Vec<ArrayRef> = columns.iter().filter_map(|&i| batch.columns().get(i).cloned()).collect();
        let (mut bytes, mut ends, mut buf) = (Vec::new(), Vec::with_capacity(batch.num_rows()), Vec::new());
        for i in 0..batch.num_rows() {
            encode_group(&columns, i, &mut buf);
            bytes.extend_from_slice(&buf);
            ends.push(bytes.len());
        }
        Keys { bytes, ends }
    }

    fn get(&self, i: usize) -> &[u8] {
        let start = if i == 0 { 0 } else { self.ends[i - 1] };
        &self.bytes[start..self.ends[i]]
    }

    fn iter(&self) -> impl Iterator<Item = &[u8]> {
        (0..self.ends.len()).map(|i| self.get(i))
    }
}

/// The table's rows now, as references into the versions' batches (which the table keeps):
/// no row is copied to fold a version in.
#[derive(Debug, Clone)]
enum Content {
    /// Append: every version's rows in order; `ends[v]` is the table's size after version v.
    Appended { ends: Vec<usize> },
    /// Upserts by key: each table row as (version, row of its batch), and each key's table row.
    Keyed { rows: Vec<(usize, usize)>, index: KeyHashMap<Box<[u8]>, usize> },
    /// Complete mode: the newest version's rows are the table.
    Replaced { newest: Option<usize> },
}

impl Content {
    fn len(&self, versions: &[TableVersion]) -> usize {
        match self {
            Content::Appended { ends } => ends.last().copied().unwrap_or(0),
            Content::Keyed { rows, .. } => rows.len(),
            Content::Replaced { newest } => newest.map_or(0, |v| versions[v].rows.num_rows()),
        }
    }

    /// Calls `f` with the batch and row of each table row in `from..to`, in table order.
    fn each(&self, versions: &[TableVersion], from: usize, to: usize, mut f: impl FnMut(&RecordBatch, usize)) {
        match self {
            Content::Appended { ends } => {
                let mut v = ends.partition_point(|&e| e <= from);
                for row in from..to {
                    while ends[v] <= row {
                        v += 1;
                    }
                    let start = if v == 0 { 0 } else { ends[v - 1] };
                    f(&versions[v].rows, row - start);
                }
            }
            Content::Keyed { rows, .. } => rows[from..to].iter().for_each(|&(v, r)| f(&versions[v].rows, r)),
            Content::Replaced { newest } => {
                if let Some(v) = newest {
                    (from..to).for_each(|r| f(&versions[*v].rows, r));
                }
            }
        }
    }

    /// The table's rows as batches.
    fn batches(&self, versions: &[TableVersion]) -> Result<Vec<RecordBatch>> {
        Ok(match self {
            Content::Appended { ends } => versions[..ends.len()].iter().map(|v| v.rows.clone()).collect(),
            Content::Replaced { newest } => newest.iter().map(|&v| versions[v].rows.clone()).collect(),
            Content::Keyed { rows, .. } if rows.is_empty() => Vec::new(),
            Content::Keyed { rows, .. } => {
                let batches: Vec<&RecordBatch> = versions.iter().map(|v| &v.rows).collect();
                vec![arrow_select::interleave::interleave_record_batch(&batches, rows)?]
            }
        })
    }

    /// What folding a batch of `n` rows (with `keys` when it upserts) would change:
    /// (added, updated, removed).
    fn count(&self, versions: &[TableVersion], n: usize, keys: Option<&Keys>) -> (u64, u64, u64) {
        match (self, keys) {
            (Content::Replaced { .. }, _) => (n as u64, 0, self.len(versions) as u64),
            (Content::Keyed { index, .. }, Some(keys)) => {
                let mut seen = KeyHashSet::with_capacity_and_hasher(n, Default::default());
                let updated = keys.iter().filter(|k| seen.insert(*k) && index.contains_key(*k)).count() as u64;
                (seen.len() as u64 - updated, updated, 0)
            }
            _ => (n as u64, 0, 0),
        }
    }

    /// Folds in the newest of `versions` (`keys` are its rows' keys when the table upserts).
    fn apply(&mut self, layout: &Layout, versions: &[TableVersion], keys: Option<Keys>) -> TableChange {
        let Some(newest) = versions.len().checked_sub(1) else { return TableChange::default() };
        let batch = &versions[newest].rows;
        let mut change = TableChange::default();
        match self {
            Content::Appended { ends } => {
                let before = ends.last().copied().unwrap_or(0);
                ends.push(before + batch.num_rows());
                change.added = (before..before + batch.num_rows()).collect();
            }
            Content::Keyed { rows, index } => {
                let keys = keys.unwrap_or_else(|| layout.keys(batch).unwrap_or(Keys { bytes: Vec::new(), ends: Vec::new() }));
                let before = rows.len();
                let mut listed = FxHashSet::default();
                for (i, k) in keys.iter().enumerate() {
                    match index.get(k) {
                        Some(&at) => {
                            rows[at] = (newest, i);
                            // A row this version added is listed as added only.
                            if at < before && listed.insert(at) {
                                change.updated.push(at);
                            }
                        }
                        None => {
                            index.insert(k.into(), rows.len());
                            change.added.push(rows.len());
                            rows.push((newest, i));
                        }
                    }
                }
            }
            Content::Replaced { newest: was } => {
                change = layout.difference(was.map(|v| &versions[v].rows), batch);
                *was = Some(newest);
            }
        }
        change
    }
}

/// How a table folds in a version: what the output mode and key make of it.
#[derive(Debug, Clone)]
struct Layout {
    mode: OutputMode,
    /// Columns that identify a row in update mode (an upsert); None to append.
    key: Option<Vec<usize>>,
}

impl Layout {
    fn upserts(&self) -> bool {
        self.mode == OutputMode::Update && self.key.is_some()
    }

    fn empty(&self) -> Content {
        match self.mode {
            OutputMode::Complete => Content::Replaced { newest: None },
            _ if self.upserts() => Content::Keyed { rows: Vec::new(), index: KeyHashMap::default() },
            _ => Content::Appended { ends: Vec::new() },
        }
    }

    /// The keys an upserting table needs of `batch`.
    fn keys(&self, batch: &RecordBatch) -> Option<Keys> {
        self.upserts().then(|| Keys::of(batch, self.key.as_deref().unwrap_or_default()))
    }

    /// How `new` differs from `old`: rows matched by key (or, without one, by their values)
    /// are updated when their values differ; the unmatched are added or removed.
    fn difference(&self, old: Option<&RecordBatch>, new: &RecordBatch) -> TableChange {
        let all = |b: &RecordBatch| Keys::of(b, &(0..b.num_columns()).collect::<Vec<_>>());
        let identity = |b: &RecordBatch| self.key.as_ref().map(|k| Keys::of(b, k));
        let (new_values, new_ids) = (all(new), identity(new));
        let new_id = |i: usize| new_ids.as_ref().unwrap_or(&new_values).get(i);
        let mut change = TableChange::default();
        let Some(old) = old else {
            change.added = (0..new.num_rows()).collect();
            return change;
        };
        let (old_values, old_ids) = (all(old), identity(old));
        let old_id = |i: usize| old_ids.as_ref().unwrap_or(&old_values).get(i);
        let mut before: KeyHashMap<&[u8], Vec<usize>> = KeyHashMap::default();
        for j in 0..old.num_rows() {
            before.entry(old_id(j)).or_default().push(j);
        }
        for i in 0..new.num_rows() {
            match before.get_mut(new_id(i)).and_then(Vec::pop) {
                Some(j) if old_values.get(j) == new_values.get(i) => {}
                Some(_) => change.updated.push(i),
                None => change.added.push(i),
            }
        }
        // Left over, in the order the old table had them.
        change.removed =
            (0..old.num_rows()).filter(|&j| before.get_mut(old_id(j)).and_then(Vec::pop).is_some()).map(|j| row_json(old, j)).collect();
        change
    }
}

/// A transactional table: every batch commits one version, tagged with (query id, batch id),
/// as one file (`_delta_log/<version>`), so a version is all there or not there. A batch id
/// the same query committed before is skipped; a new query id (a lost checkpoint) is new work.
/// The table keeps every version's batch; its rows now are references into them.
pub struct TableSink {
    name: String,
    storage: Scoped,
    schema: Schema,
    arrow: SchemaRef,
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
    /// Opens the table stored under `storage`, whose rows have `schema`, with every version
    /// committed so far. `key` names the columns an update-mode query upserts by.
    pub fn open(name: &str, storage: Scoped, schema: &Schema, mode: OutputMode, key: Option<Vec<usize>>) -> Result<Self> {
        let key = key.map(|k| k.into_iter().filter(|&i| i < schema.len()).collect());
        let layout = Layout { mode, key };
        let mut t = TableSink {
            name: name.to_string(),
            storage,
            schema: schema.clone(),
            arrow: schema.to_arrow(),
            content: layout.empty(),
            layout,
            versions: Vec::new(),
            last_change: TableChange::default(),
            txns: BTreeMap::new(),
            skipped_replays: 0,
        };
        let names = t.storage.list("_delta_log").map_err(Error::from)?;
        for (expected, file) in names.iter().enumerate() {
            let path = format!("{}/_delta_log/{file}", t.storage.prefix());
            let bytes = t.storage.read(&format!("_delta_log/{file}")).map_err(Error::from)?.unwrap_or_default();
            let v = TableVersion::decode(&path, unframe(&path, &bytes)?, &t.schema, &t.arrow)?;
            if v.version != expected as u64 {
                let detail = format!("version {expected} was expected there, it holds {}", v.version);
                return Err(CheckpointError::Damaged { path, detail }.into());
            }
            let keys = t.layout.keys(&v.rows);
            t.txns.insert(v.query_id.clone(), v.batch_id);
            t.versions.push(v);
            t.last_change = t.content.apply(&t.layout, &t.versions, keys);
        }
        Ok(t)
    }

    /// Every committed version, oldest first: the table's history.
    pub fn versions(&self) -> &[TableVersion] {
        &self.versions
    }

    /// How many rows the table holds now.
    pub fn num_rows(&self) -> usize {
        self.content.len(&self.versions)
    }

    /// The table's rows now, as the scenario format writes them.
    pub fn rows_json(&self) -> Vec<Json> {
        self.rows_json_in(0, self.num_rows())
    }

    /// The table's last `n` rows now (all, when it holds fewer), as JSON.
    pub fn newest_rows_json(&self, n: usize) -> Vec<Json> {
        let len = self.num_rows();
        self.rows_json_in(len.saturating_sub(n), len)
    }

    fn rows_json_in(&self, from: usize, to: usize) -> Vec<Json> {
        let mut out = Vec::with_capacity(to - from);
        self.content.each(&self.versions, from, to, |batch, i| out.push(row_json(batch, i)));
        out
    }

    /// What the newest version changed.
    pub fn last_change(&self) -> &TableChange {
        &self.last_change
    }

    /// The table's rows as of `version` (time travel: `VERSION AS OF`), or now, as batches with
    /// the table's columns.
    pub fn batches_at(&self, version: Option<u64>) -> Result<Vec<RecordBatch>> {
        let Some(version) = version else { return self.content.batches(&self.versions) };
        if version as usize >= self.versions.len() {
            return Err(Error::invalid_input(match self.versions.len() {
                0 => format!("the table `{}` has no versions yet: run a micro-batch first", self.name),
                n => format!("the table `{}` has versions 0 to {}; there is no version {version}", self.name, n - 1),
            }));
        }
        let upto = &self.versions[..=version as usize];
        let mut content = self.layout.empty();
        for n in 1..=upto.len() {
            content.apply(&self.layout, &upto[..n], None);
        }
        content.batches(upto)
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
        self.append_version(batch)?;
        Ok(true)
    }
}

impl TableSink {
    /// Writes a batch without the idempotence check: what an at-least-once writer (Spark's
    /// continuous processing, Real-Time Mode's sinks) does, so a replayed epoch's rows land a
    /// second time.
    pub fn write_at_least_once(&mut self, batch: &BatchWrite) -> Result<()> {
        self.append_version(batch)
    }

    fn append_version(&mut self, batch: &BatchWrite) -> Result<()> {
        let rows = conform(batch.rows, &self.arrow, &self.name)?;
        let keys = self.layout.keys(&rows);
        let (rows_added, rows_updated, rows_removed) = self.content.count(&self.versions, rows.num_rows(), keys.as_ref());
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
        // The version exists once its file does: apply it only after the write.
        self.storage.write(&version_path(v.version), &frame(&v.encode()?)).map_err(Error::from)?;
        self.txns.insert(v.query_id.clone(), v.batch_id);
        self.versions.push(v);
        self.last_change = self.content.apply(&self.layout, &self.versions, keys);
        Ok(())
    }
}

#[cfg(test)]
mod tests;
