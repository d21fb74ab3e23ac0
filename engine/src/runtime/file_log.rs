//! The file log of a source read newest first under a read limit (`latestFirst` with
//! `maxFilesPerTrigger` or `maxBytesPerTrigger`): Spark's `sources/0/N`. Such a batch reads files
//! out of their order in the folder, so its offsets cannot be one range of the folder's records.
//! As in Spark, the offsets count along the file log instead: the files in the order batches read
//! them, laid end to end. The offsets log's range of batch N is then one range of that order, and
//! `sources/<source>/N` says which files it is, so a restart replays exactly the same files.

use std::collections::BTreeSet;

use serde::{Deserialize, Serialize};

use crate::checkpoint::{frame, unframe, Checkpoint, CheckpointError};
use crate::error::{Error, Result};
use crate::source::{files_per_trigger, FileMeta, SourceLog};

/// One file a batch read, as `sources/<source>/N` lists it (Spark's `FileEntry`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct FileEntry {
    /// The file's index in the source's folder (the `add` it came from).
    pub file: usize,
    /// Its modification time, in milliseconds.
    pub timestamp: i64,
    /// How many records it holds, good and bad.
    pub records: u64,
}

/// `sources/<source>/N`: the files batch N read, newest first.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct FileLogEntry {
    batch_id: u64,
    files: Vec<FileEntry>,
}

fn path(source: &str, batch_id: u64) -> String {
    format!("sources/{source}/{batch_id}")
}

/// The files one source's batches have read, in order.
#[derive(Debug, Clone, Default)]
pub(crate) struct FileLog {
    files: Vec<usize>,
    /// Where each file of `files` starts in the read order, in records.
    starts: Vec<u64>,
    end: u64,
    /// Whether file k has been read, by index in the folder.
    seen: Vec<bool>,
    /// The non-empty files not read yet among the first `listed` of the folder: a trigger takes
    /// the newest of them without going over the whole folder again.
    unread: BTreeSet<usize>,
    listed: usize,
}

impl FileLog {
    fn push(&mut self, file: usize, records: u64) {
        self.files.push(file);
        self.starts.push(self.end);
        self.end += records;
        if self.seen.len() <= file {
            self.seen.resize(file + 1, false);
        }
        self.seen[file] = true;
        self.unread.remove(&file);
    }

    /// How many files the folder must hold for the files read to be there.
    pub fn files_needed(&self) -> usize {
        self.seen.len()
    }

    /// The files the next trigger reads: the newest not read yet, as many as the read limit
    /// lets through (all of them when `limited` is false). Empty files are skipped: they hold
    /// no offset to read.
    pub fn select(&mut self, log: &SourceLog, limited: bool) -> Vec<FileEntry> {
        for k in self.listed..log.files() {
            let read = self.seen.get(k).copied().unwrap_or(false);
            if !read && log.file(k).is_some_and(|f| f.records() > 0) {
                self.unread.insert(k);
            }
        }
        self.listed = self.listed.max(log.files());
        let unread = self.unread.iter().rev().filter_map(|&k| log.file(k).map(|f| (k, f)));
        let n = files_per_trigger(log.options(), unread.clone().map(|(_, f): (usize, FileMeta)| f), limited);
        unread.take(n).map(|(k, f)| FileEntry { file: k, timestamp: f.modified_ms, records: f.records() }).collect()
    }

    /// The files of the read order's range `[from, to)`, which starts and ends at file bounds.
    pub fn files_in(&self, source: &str, from: u64, to: u64) -> Result<&[usize]> {
        let a = self.starts.partition_point(|&s| s < from);
        let b = self.starts.partition_point(|&s| s < to);
        let bound = |i: usize| self.starts.get(i).copied().unwrap_or(self.end);
        if bound(a) != from || bound(b) != to {
            return Err(Error::from(CheckpointError::Damaged {
                path: format!("sources/{source}"),
                detail: format!("the offsets {from} to {to} do not fall on the files its file log lists (they end at {})", self.end),
            }));
        }
        Ok(&self.files[a..b])
    }

    /// Records batch `batch_id`'s files in the checkpoint, before its offsets entry.
    pub fn write(&mut self, checkpoint: &mut Checkpoint, source: &str, batch_id: u64, files: &[FileEntry]) -> Result<()> {
        let entry = FileLogEntry { batch_id, files: files.to_vec() };
        let body = serde_json::to_vec(&entry).map_err(|e| Error::internal(e.to_string()))?;
        checkpoint.storage_mut().write_vec(&path(source, batch_id), frame(&body)).map_err(CheckpointError::Storage)?;
        for f in files {
            self.push(f.file, f.records);
        }
        Ok(())
    }

    /// Rebuilds the log from the checkpoint: the files of batches `0..batches`; their records
    /// must end where the last of those batches' offsets do.
    pub fn load(checkpoint: &Checkpoint, source: &str, batches: u64, expected_end: u64) -> Result<FileLog> {
        let mut log = FileLog::default();
        for id in 0..batches {
            let p = path(source, id);
            let Some(bytes) = checkpoint.storage().read(&p).map_err(CheckpointError::Storage)? else { continue };
            let damaged = |detail: String| Error::from(CheckpointError::Damaged { path: p.clone(), detail });
            let entry: FileLogEntry =
                serde_json::from_slice(unframe(&p, &bytes)?).map_err(|e| damaged(format!("it is not a file log entry: {e}")))?;
            if entry.batch_id != id {
                return Err(damaged(format!("it says it is batch {}'s", entry.batch_id)));
            }
            for f in entry.files {
                if log.seen.get(f.file).copied().unwrap_or(false) {
                    return Err(damaged(format!("it lists file {} again: a file is read once", f.file)));
                }
                log.push(f.file, f.records);
            }
        }
        if log.end != expected_end {
            return Err(Error::from(CheckpointError::Damaged {
                path: format!("sources/{source}"),
                detail: format!("its files hold {} records, but the offsets log says {expected_end} were read", log.end),
            }));
        }
        Ok(log)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::source::FileOptions;
    use crate::storage::SharedStorage;
    use crate::types::{Column, DataType, Schema};
    use serde_json::json;
    #[cfg(target_arch = "wasm32")]
    use wasm_bindgen_test::wasm_bindgen_test as test;

    fn folder(options: FileOptions, files: usize) -> SourceLog {
        let mut s =
            SourceLog::new("events", Schema::new(vec![Column { name: "id".into(), data_type: DataType::String }])).with_options(options);
        for k in 0..files {
            let rows: Vec<_> = (0..=k).map(|i| json!([format!("f{k}r{i}")])).collect();
            s.append_json(&rows).unwrap();
        }
        s
    }

    #[test]
    fn newest_unread_files_first_within_the_limit() {
        let o = FileOptions { latest_first: true, max_files_per_trigger: Some(2), ..FileOptions::default() };
        let s = folder(o, 4);
        let mut log = FileLog::default();
        let mut checkpoint = Checkpoint::new(Box::new(SharedStorage::memory().scoped("checkpoint")));
        let first = log.select(&s, true);
        assert_eq!(first.iter().map(|f| f.file).collect::<Vec<_>>(), vec![3, 2]);
        log.write(&mut checkpoint, "events", 0, &first).unwrap();
        // Files 3 and 2 hold 4 and 3 records: the read order's offsets 0..7.
        assert_eq!(log.files_in("events", 0, 7).unwrap(), &[3, 2]);
        assert_eq!(log.select(&s, true).iter().map(|f| f.file).collect::<Vec<_>>(), vec![1, 0]);
        // Without the limit (Trigger.Once) every unread file, still newest first.
        assert_eq!(log.select(&s, false).len(), 2);
        let reloaded = FileLog::load(&checkpoint, "events", 1, 7).unwrap();
        assert_eq!(reloaded.files_in("events", 0, 7).unwrap(), &[3, 2]);
        // A range that does not fall on file bounds, or records the log does not hold: damage.
        assert!(log.files_in("events", 0, 5).is_err());
        assert!(FileLog::load(&checkpoint, "events", 1, 9).is_err());
    }

    #[test]
    fn a_trigger_does_not_go_over_the_files_already_read() {
        // 100 000 files read one a trigger: quadratic planning would take minutes.
        let n = 100_000;
        let o = FileOptions { latest_first: true, max_files_per_trigger: Some(1), ..FileOptions::default() };
        let mut s = folder(o, 0);
        for k in 0..n {
            s.append_json(&[json!([format!("{k}")])]).unwrap();
        }
        let mut log = FileLog::default();
        for k in (0..n).rev() {
            let picked = log.select(&s, true);
            assert_eq!(picked.len(), 1);
            assert_eq!(picked[0].file, k);
            log.push(picked[0].file, picked[0].records);
        }
        assert!(log.select(&s, true).is_empty());
    }

    #[test]
    fn bad_records_count_in_read_order() {
        let mut s = folder(FileOptions { latest_first: true, max_files_per_trigger: Some(1), ..FileOptions::default() }, 2);
        s.append_json(&[json!(["ok"]), json!([[5]])]).unwrap();
        let read = s.read_files(&[2, 0], 10).unwrap();
        assert_eq!(read.rows.num_rows(), 2);
        // File 2's second record is at 11 in the read order (it starts at 10).
        assert_eq!(read.bad.iter().map(|b| b.offset).collect::<Vec<_>>(), vec![11]);
    }
}
