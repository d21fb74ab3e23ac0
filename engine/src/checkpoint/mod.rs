//! The checkpoint: a query's durable progress, laid out like Spark's checkpoint directory
//! (`metadata`, `offsets/N`, `commits/N`, `state/<operator>/<table>/<version>.delta|.snapshot`,
//! plus our `dead_letter/N`) over the [`Storage`] trait.
//!
//! Every file is framed: a header line `v1 crc32:<hex> len:<bytes>` and then the body (JSON for
//! the logs, so the page can show them; postcard for state). The frame is what lets a damaged,
//! truncated or foreign file be refused instead of half-read.

mod error;
pub mod suite;

pub use error::CheckpointError;

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::storage::{join, Storage};

/// The checkpoint format version; bumped when a file's meaning changes.
pub const FORMAT_VERSION: u32 = 1;

/// Offsets and commits older than this many batches are removed (Spark's `minBatchesToRetain`).
pub const BATCHES_TO_RETAIN: u64 = 100;

/// Frames `body` for storage: version, checksum and length, then the bytes.
pub fn frame(body: &[u8]) -> Vec<u8> {
    let mut out = format!("v{FORMAT_VERSION} crc32:{:08x} len:{}\n", crc32fast::hash(body), body.len()).into_bytes();
    out.extend_from_slice(body);
    out
}

/// The body of a framed file, once its version, length and checksum are right.
pub fn unframe<'a>(path: &str, bytes: &'a [u8]) -> Result<&'a [u8], CheckpointError> {
    let damaged = |detail: String| CheckpointError::Damaged { path: path.to_string(), detail };
    let newline = bytes.iter().take(64).position(|b| *b == b'\n').ok_or_else(|| damaged("it has no header line".into()))?;
    let header = std::str::from_utf8(&bytes[..newline]).map_err(|_| damaged("its header line is not text".into()))?;
    let body = &bytes[newline + 1..];
    let mut parts = header.split(' ');
    let version = parts.next().unwrap_or_default();
    if version != format!("v{FORMAT_VERSION}") {
        return Err(CheckpointError::FormatVersion { path: path.to_string(), found: version.to_string() });
    }
    let field = |p: Option<&str>, name: &str| p.and_then(|p| p.strip_prefix(name)).map(str::to_string);
    let (Some(crc), Some(len)) = (field(parts.next(), "crc32:"), field(parts.next(), "len:")) else {
        return Err(damaged(format!("its header `{header}` is not `v{FORMAT_VERSION} crc32:<hex> len:<bytes>`")));
    };
    let len: usize = len.parse().map_err(|_| damaged(format!("its header gives the length `{len}`")))?;
    if body.len() != len {
        return Err(damaged(format!("it is cut short or padded: {} bytes where {len} were written", body.len())));
    }
    if format!("{:08x}", crc32fast::hash(body)) != crc {
        return Err(damaged("its checksum does not match: bytes changed after it was written".into()));
    }
    Ok(body)
}

/// `metadata`: who the checkpoint belongs to. A query starts from a checkpoint only when all of
/// this matches.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Metadata {
    /// The query's id: new with every new checkpoint, kept across restarts (Spark's `id`).
    pub id: String,
    pub query: String,
    pub output_mode: String,
    /// The schema of every source the query reads: `[column, type]` in order.
    pub sources: BTreeMap<String, Vec<(String, String)>>,
    /// The stateful operators and their state tables, as `0-stateStoreSave[default]`.
    pub operators: Vec<String>,
}

/// `offsets/N`: what batch N reads and the watermark in effect for it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct OffsetEntry {
    pub batch_id: u64,
    /// Offset range per source: `[start, end)`.
    pub sources: BTreeMap<String, (u64, u64)>,
    /// Event-time watermark in effect for the batch, in microseconds (0 = none yet): stateful
    /// operators emit and evict by it.
    pub watermark_micros: i64,
    /// The previous batch's watermark: stateful operators drop input rows behind it as late
    /// (Spark 3.4+ separates the two so chained operators do not drop each other's output).
    pub late_watermark_micros: i64,
    /// Processing time the batch started at, in milliseconds.
    pub batch_timestamp_ms: f64,
    /// The settings the batch ran with (Spark keeps its SQL confs here), so a replay runs with
    /// the same ones and a person can see them.
    #[serde(default)]
    pub conf: BTreeMap<String, String>,
}

/// `commits/N`: batch N finished; the watermark the next batch will use.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CommitEntry {
    pub batch_id: u64,
    pub next_watermark_micros: i64,
}

/// `dead_letter/N`: the bad records batch N read, with why.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DeadLetterEntry {
    pub source: String,
    pub offset: u64,
    pub row: serde_json::Value,
    pub column: String,
    pub reason: String,
}

/// Where a query resumes, as the checkpoint says.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Recovery {
    /// The last batch that finished.
    pub commit: Option<CommitEntry>,
    /// Its offsets entry.
    pub committed_offsets: Option<OffsetEntry>,
    /// An offsets entry written after it and never committed: re-run exactly.
    pub pending: Option<OffsetEntry>,
}

/// Typed access to a checkpoint over any storage.
pub struct Checkpoint {
    storage: Box<dyn Storage>,
}

impl Checkpoint {
    pub fn new(storage: Box<dyn Storage>) -> Self {
        Checkpoint { storage }
    }

    pub fn storage(&self) -> &dyn Storage {
        self.storage.as_ref()
    }

    pub fn storage_mut(&mut self) -> &mut dyn Storage {
        self.storage.as_mut()
    }

    fn write_json<T: Serialize>(&mut self, path: &str, value: &T) -> Result<(), CheckpointError> {
        let body = serde_json::to_vec(value).map_err(|e| CheckpointError::Internal(e.to_string()))?;
        self.storage.write(path, &frame(&body)).map_err(CheckpointError::Storage)
    }

    fn read_json<T: for<'de> Deserialize<'de>>(&self, path: &str) -> Result<Option<T>, CheckpointError> {
        let Some(bytes) = self.storage.read(path).map_err(CheckpointError::Storage)? else { return Ok(None) };
        let body = unframe(path, &bytes)?;
        serde_json::from_slice(body)
            .map(Some)
            .map_err(|e| CheckpointError::Damaged { path: path.to_string(), detail: format!("it is not the JSON expected there ({e})") })
    }

    /// The numbered files under `dir`, in order. A name that is not a number is damage.
    fn numbered(&self, dir: &str) -> Result<Vec<u64>, CheckpointError> {
        let mut ids = Vec::new();
        for name in self.storage.list(dir).map_err(CheckpointError::Storage)? {
            let id = name.parse().map_err(|_| CheckpointError::Damaged {
                path: join(dir, &name),
                detail: "a file that is not a batch number lies among the batches".into(),
            })?;
            ids.push(id);
        }
        ids.sort_unstable();
        Ok(ids)
    }

    pub fn is_empty(&self) -> Result<bool, CheckpointError> {
        Ok(self.storage.list("").map_err(CheckpointError::Storage)?.is_empty())
    }

    pub fn metadata(&self) -> Result<Option<Metadata>, CheckpointError> {
        self.read_json("metadata")
    }

    pub fn write_metadata(&mut self, m: &Metadata) -> Result<(), CheckpointError> {
        self.write_json("metadata", m)
    }

    /// Opens the checkpoint for `expected`: writes the metadata when the checkpoint is new,
    /// otherwise checks that it belongs to this query and returns the one it holds.
    pub fn open(&mut self, expected: &Metadata) -> Result<Metadata, CheckpointError> {
        match self.metadata()? {
            Some(found) => {
                found.check_matches(expected)?;
                Ok(found)
            }
            None if self.is_empty()? => {
                self.write_metadata(expected)?;
                Ok(expected.clone())
            }
            None => Err(CheckpointError::Damaged {
                path: "metadata".into(),
                detail: "it is missing, yet the checkpoint holds other files".into(),
            }),
        }
    }

    pub fn offsets(&self, batch_id: u64) -> Result<Option<OffsetEntry>, CheckpointError> {
        self.read_json(&format!("offsets/{batch_id}"))
    }

    pub fn commit(&self, batch_id: u64) -> Result<Option<CommitEntry>, CheckpointError> {
        self.read_json(&format!("commits/{batch_id}"))
    }

    pub fn write_offsets(&mut self, e: &OffsetEntry) -> Result<(), CheckpointError> {
        self.write_json(&format!("offsets/{}", e.batch_id), e)
    }

    /// Writes `commits/N` and lets go of the batches older than the retained ones.
    pub fn write_commit(&mut self, c: &CommitEntry) -> Result<(), CheckpointError> {
        self.write_json(&format!("commits/{}", c.batch_id), c)?;
        if let Some(old) = c.batch_id.checked_sub(BATCHES_TO_RETAIN) {
            for dir in ["offsets", "commits"] {
                self.storage.delete(&format!("{dir}/{old}")).map_err(CheckpointError::Storage)?;
            }
        }
        Ok(())
    }

    pub fn write_dead_letters(&mut self, batch_id: u64, records: &[DeadLetterEntry]) -> Result<(), CheckpointError> {
        self.write_json(&format!("dead_letter/{batch_id}"), &records)
    }

    /// Every dead letter kept, by batch id.
    pub fn dead_letters(&self) -> Result<Vec<(u64, Vec<DeadLetterEntry>)>, CheckpointError> {
        let mut out = Vec::new();
        for id in self.numbered("dead_letter")? {
            out.push((id, self.read_json(&format!("dead_letter/{id}"))?.unwrap_or_default()));
        }
        Ok(out)
    }

    /// Checks the frame of every file, so damage anywhere in the checkpoint is reported when
    /// the query starts, not when (or never, if) the file is next read.
    pub fn verify(&self) -> Result<(), CheckpointError> {
        let mut dirs = vec![String::new()];
        while let Some(dir) = dirs.pop() {
            for name in self.storage.list(&dir).map_err(CheckpointError::Storage)? {
                let path = join(&dir, &name);
                match self.storage.read(&path).map_err(CheckpointError::Storage)? {
                    Some(bytes) => {
                        unframe(&path, &bytes)?;
                    }
                    None => dirs.push(path),
                }
            }
        }
        Ok(())
    }

    /// Where to resume: the last commit, and the batch after it when its offsets were written
    /// but it never committed. Only that last batch may lack a commit; any other gap is damage.
    pub fn recover(&self) -> Result<Recovery, CheckpointError> {
        self.verify()?;
        let offsets = self.numbered("offsets")?;
        let commits = self.numbered("commits")?;
        let (Some(&latest), last_commit) = (offsets.last(), commits.last().copied()) else {
            return match commits.last() {
                Some(&c) => Err(CheckpointError::MissingOffsets { batch_id: c }),
                None => Ok(Recovery::default()),
            };
        };
        if let Some(c) = last_commit.filter(|c| *c > latest) {
            return Err(CheckpointError::MissingOffsets { batch_id: c });
        }
        if let Some(&gap) = offsets.iter().find(|o| **o < latest && commits.binary_search(o).is_err()) {
            return Err(CheckpointError::MissingCommit { batch_id: gap, latest });
        }
        let read_offsets =
            |id: u64| -> Result<OffsetEntry, CheckpointError> { self.offsets(id)?.ok_or(CheckpointError::MissingOffsets { batch_id: id }) };
        let commit = match last_commit {
            Some(c) => Some(self.commit(c)?.ok_or(CheckpointError::MissingCommit { batch_id: c, latest })?),
            None => None,
        };
        let committed_offsets = last_commit.map(read_offsets).transpose()?;
        let pending = if last_commit == Some(latest) { None } else { Some(read_offsets(latest)?) };
        Ok(Recovery { commit, committed_offsets, pending })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::storage::MemoryStorage;
    #[cfg(target_arch = "wasm32")]
    use wasm_bindgen_test::wasm_bindgen_test as test;

    fn offsets(batch_id: u64) -> OffsetEntry {
        OffsetEntry {
            batch_id,
            sources: [("events".to_string(), (batch_id * 2, batch_id * 2 + 2))].into_iter().collect(),
            watermark_micros: 0,
            late_watermark_micros: 0,
            batch_timestamp_ms: 0.0,
            conf: BTreeMap::new(),
        }
    }

    fn checkpoint_with(batches: u64, committed: u64) -> Checkpoint {
        let mut c = Checkpoint::new(Box::new(MemoryStorage::new()));
        for b in 0..batches {
            c.write_offsets(&offsets(b)).unwrap();
            if b < committed {
                c.write_commit(&CommitEntry { batch_id: b, next_watermark_micros: 0 }).unwrap();
            }
        }
        c
    }

    #[test]
    fn frames_round_trip_and_refuse_damage() {
        let framed = frame(b"{\"a\":1}");
        assert!(framed.starts_with(b"v1 crc32:"));
        assert_eq!(unframe("f", &framed).unwrap(), b"{\"a\":1}");
        let cut = &framed[..framed.len() - 2];
        assert!(matches!(unframe("f", cut), Err(CheckpointError::Damaged { detail, .. }) if detail.contains("cut short")));
        let mut flipped = framed.clone();
        *flipped.last_mut().unwrap() ^= 0x20;
        assert!(matches!(unframe("f", &flipped), Err(CheckpointError::Damaged { detail, .. }) if detail.contains("checksum")));
        let v2 = String::from_utf8(framed.clone()).unwrap().replacen("v1", "v2", 1);
        assert!(matches!(unframe("f", v2.as_bytes()), Err(CheckpointError::FormatVersion { found, .. }) if found == "v2"));
        assert!(matches!(unframe("f", b"{}"), Err(CheckpointError::Damaged { .. })));
    }

    #[test]
    fn recovery_resumes_after_the_last_commit() {
        let r = checkpoint_with(3, 3).recover().unwrap();
        assert_eq!((r.commit.map(|c| c.batch_id), r.pending), (Some(2), None));
        let r = checkpoint_with(3, 2).recover().unwrap();
        assert_eq!(r.commit.map(|c| c.batch_id), Some(1));
        assert_eq!(r.committed_offsets.map(|o| o.batch_id), Some(1));
        assert_eq!(r.pending.map(|o| o.batch_id), Some(2));
        let r = checkpoint_with(1, 0).recover().unwrap();
        assert_eq!((r.commit, r.pending.map(|o| o.batch_id)), (None, Some(0)));
        assert_eq!(checkpoint_with(0, 0).recover().unwrap(), Recovery::default());
    }

    #[test]
    fn a_missing_commit_in_the_middle_is_damage() {
        let mut c = checkpoint_with(3, 3);
        c.storage_mut().delete("commits/1").unwrap();
        assert_eq!(c.recover().unwrap_err(), CheckpointError::MissingCommit { batch_id: 1, latest: 2 });
    }

    #[test]
    fn a_commit_without_offsets_is_damage() {
        let mut c = checkpoint_with(3, 3);
        c.storage_mut().delete("offsets/2").unwrap();
        assert_eq!(c.recover().unwrap_err(), CheckpointError::MissingOffsets { batch_id: 2 });
    }

    #[test]
    fn old_batches_are_let_go() {
        let c = checkpoint_with(BATCHES_TO_RETAIN + 5, BATCHES_TO_RETAIN + 5);
        assert_eq!(c.numbered("offsets").unwrap().first(), Some(&5));
        assert_eq!(c.numbered("commits").unwrap().len() as u64, BATCHES_TO_RETAIN);
        assert_eq!(c.recover().unwrap().commit.map(|c| c.batch_id), Some(BATCHES_TO_RETAIN + 4));
    }
}
