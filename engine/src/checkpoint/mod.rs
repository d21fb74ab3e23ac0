//! The checkpoint: a query's durable progress, laid out like Spark's checkpoint directory
//! (`metadata`, `offsets/N`, `commits/N`, `state/<operator>/<version>`) over a small storage
//! trait, so memory and IndexedDB are two implementations of the same thing.

mod memory;

pub use memory::MemoryStorage;

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};

/// Where checkpoint files live. Paths are `/`-separated and relative to the query's checkpoint.
pub trait CheckpointStorage {
    fn read(&self, path: &str) -> Result<Option<Vec<u8>>>;
    fn write(&mut self, path: &str, bytes: &[u8]) -> Result<()>;
    /// The names directly under `dir`.
    fn list(&self, dir: &str) -> Result<Vec<String>>;
    fn delete(&mut self, path: &str) -> Result<()>;
}

/// The checkpoint format version; bumped when a file's meaning changes.
pub const FORMAT_VERSION: u32 = 1;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Metadata {
    pub id: String,
    pub format_version: u32,
    pub query: String,
    pub output_mode: String,
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
    #[serde(default)]
    pub late_watermark_micros: i64,
    /// Processing time the batch started at, in milliseconds.
    pub batch_timestamp_ms: f64,
}

/// `commits/N`: batch N finished; the watermark the next batch will use.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CommitEntry {
    pub batch_id: u64,
    pub next_watermark_micros: i64,
}

/// Typed access to a checkpoint over any storage.
pub struct Checkpoint {
    storage: Box<dyn CheckpointStorage>,
}

fn corrupt(path: &str, detail: impl std::fmt::Display) -> Error {
    Error::invalid_input(format!(
        "the checkpoint file `{path}` cannot be read ({detail}); the checkpoint is damaged: delete it to start the query from scratch"
    ))
}

impl Checkpoint {
    pub fn new(storage: Box<dyn CheckpointStorage>) -> Self {
        Checkpoint { storage }
    }

    pub fn storage(&self) -> &dyn CheckpointStorage {
        self.storage.as_ref()
    }

    fn write_json<T: Serialize>(&mut self, path: &str, value: &T) -> Result<()> {
        // Spark's files start with a version line; so do ours.
        let body = serde_json::to_string(value).map_err(|e| Error::internal(e.to_string()))?;
        self.storage.write(path, format!("v{FORMAT_VERSION}\n{body}").as_bytes())
    }

    fn read_json<T: for<'de> Deserialize<'de>>(&self, path: &str) -> Result<Option<T>> {
        let Some(bytes) = self.storage.read(path)? else { return Ok(None) };
        let text = std::str::from_utf8(&bytes).map_err(|e| corrupt(path, e))?;
        let (version, body) = text.split_once('\n').ok_or_else(|| corrupt(path, "no version line"))?;
        if version != format!("v{FORMAT_VERSION}") {
            return Err(Error::invalid_input(format!(
                "the checkpoint file `{path}` has format {version}, but this version of Unbounded reads v{FORMAT_VERSION}; start the query with a new checkpoint"
            )));
        }
        serde_json::from_str(body).map(Some).map_err(|e| corrupt(path, e))
    }

    fn numbered(&self, dir: &str) -> Result<Vec<u64>> {
        let mut ids: Vec<u64> = self.storage.list(dir)?.iter().filter_map(|n| n.parse().ok()).collect();
        ids.sort_unstable();
        Ok(ids)
    }

    pub fn metadata(&self) -> Result<Option<Metadata>> {
        self.read_json("metadata")
    }

    pub fn write_metadata(&mut self, m: &Metadata) -> Result<()> {
        self.write_json("metadata", m)
    }

    pub fn write_offsets(&mut self, e: &OffsetEntry) -> Result<()> {
        self.write_json(&format!("offsets/{}", e.batch_id), e)
    }

    pub fn write_commit(&mut self, c: &CommitEntry) -> Result<()> {
        self.write_json(&format!("commits/{}", c.batch_id), c)
    }

    pub fn latest_offsets(&self) -> Result<Option<OffsetEntry>> {
        match self.numbered("offsets")?.last() {
            Some(n) => self.read_json(&format!("offsets/{n}")),
            None => Ok(None),
        }
    }

    pub fn latest_commit(&self) -> Result<Option<CommitEntry>> {
        match self.numbered("commits")?.last() {
            Some(n) => self.read_json(&format!("commits/{n}")),
            None => Ok(None),
        }
    }

    pub fn write_state(&mut self, operator: &str, version: u64, bytes: &[u8]) -> Result<()> {
        self.storage.write(&format!("state/{operator}/{version}"), bytes)
    }

    /// The state of `operator` at `version`.
    pub fn read_state(&self, operator: &str, version: u64) -> Result<Option<Vec<u8>>> {
        self.storage.read(&format!("state/{operator}/{version}"))
    }

    /// Removes state versions of `operator` older than `keep_from`.
    pub fn clean_state(&mut self, operator: &str, keep_from: u64) -> Result<()> {
        for v in self.numbered(&format!("state/{operator}"))? {
            if v < keep_from {
                self.storage.delete(&format!("state/{operator}/{v}"))?;
            }
        }
        Ok(())
    }
}
