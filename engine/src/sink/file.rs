use serde::{Deserialize, Serialize};
use serde_json::Value as Json;

use super::{BatchWrite, Sink};
use crate::checkpoint::{frame, unframe, CheckpointError};
use crate::error::{Error, Result};
use crate::scenario::rows_json;
use crate::storage::{Scoped, Storage};

/// One write to the file: the batch that made it (for the page to show, never to deduplicate).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FilePart {
    pub part: u64,
    pub batch_id: u64,
    pub rows: Vec<Json>,
}

/// An at-least-once sink, like a plain CSV directory or a webhook: every write adds a part file
/// (`part-<n>`), and nothing remembers which batches were written, so a batch replayed after a
/// crash is written again. It exists to show why exactly-once needs an idempotent sink.
pub struct FileSink {
    name: String,
    storage: Scoped,
    parts: Vec<FilePart>,
}

impl FileSink {
    pub fn open(name: &str, storage: Scoped) -> Result<Self> {
        let mut parts = Vec::new();
        for file in storage.list("").map_err(Error::from)? {
            let path = format!("{}/{file}", storage.prefix());
            let bytes = storage.read(&file).map_err(Error::from)?.unwrap_or_default();
            let part: FilePart = serde_json::from_slice(unframe(&path, &bytes)?)
                .map_err(|e| CheckpointError::Damaged { path, detail: format!("it is not a part of the file sink ({e})") })?;
            parts.push(part);
        }
        parts.sort_by_key(|p| p.part);
        Ok(FileSink { name: name.to_string(), storage, parts })
    }

    /// Every write, oldest first.
    pub fn parts(&self) -> &[FilePart] {
        &self.parts
    }

    /// Everything written, duplicates included.
    pub fn rows(&self) -> Vec<Json> {
        self.parts.iter().flat_map(|p| p.rows.iter().cloned()).collect()
    }
}

impl Sink for FileSink {
    fn name(&self) -> &str {
        &self.name
    }

    fn write(&mut self, batch: &BatchWrite) -> Result<bool> {
        let part = FilePart { part: self.parts.len() as u64, batch_id: batch.batch_id, rows: rows_json(batch.rows) };
        let body = serde_json::to_vec(&part).map_err(|e| Error::internal(e.to_string()))?;
        self.storage.write(&format!("part-{:06}", part.part), &frame(&body)).map_err(Error::from)?;
        self.parts.push(part);
        Ok(true)
    }
}
