use std::fmt;

use crate::storage::StorageError;

/// Why a checkpoint cannot be used. Each says what is wrong and what the person can do; none is
/// raised after part of the checkpoint was applied.
#[derive(Debug, Clone, PartialEq)]
pub enum CheckpointError {
    Storage(StorageError),
    /// A file that does not read back as written: cut short, bytes changed, not ours.
    Damaged {
        path: String,
        detail: String,
    },
    /// A file written by another version of the checkpoint format.
    FormatVersion {
        path: String,
        found: String,
    },
    /// Batch `batch_id` has an offsets entry but no commit, and is not the last batch.
    MissingCommit {
        batch_id: u64,
        latest: u64,
    },
    /// A commit (or the last batch) without its offsets entry.
    MissingOffsets {
        batch_id: u64,
    },
    /// A state table cannot be rebuilt at `version`: the file `missing` is gone.
    MissingState {
        table: String,
        version: u64,
        missing: String,
    },
    /// The checkpoint was written by a different query text.
    ForeignQuery {
        id: String,
        query: String,
        line: usize,
        column: usize,
    },
    OutputModeChanged {
        was: String,
        now: String,
    },
    /// A source's schema differs from the one the checkpoint was written with.
    SchemaChanged {
        source: String,
        detail: String,
    },
    /// The stateful operators differ from the checkpoint's.
    LayoutChanged {
        was: Vec<String>,
        now: Vec<String>,
    },
    /// The checkpoint was written by a release whose state layout differs from this one's.
    StateLayout {
        found: u32,
    },
    /// The checkpoint's metadata now names another query id than the one this query opened it
    /// with: another page, tab or process started a query on the same checkpoint.
    Replaced {
        ours: String,
        found: String,
    },
    /// The checkpoint says `source` was read up to `offset`, but the source holds records only
    /// up to `end`: the records the checkpoint counts as read are not there.
    OffsetsPastSource {
        source: String,
        offset: u64,
        end: u64,
    },
    /// The checkpoint and the sink table disagree on which batches of query `id` were written.
    SinkMismatch {
        id: String,
        detail: String,
    },
    Internal(String),
}

const START_AGAIN: &str = "to start the query from scratch, use a new checkpoint (\"lose the checkpoint\" in the playground)";

impl fmt::Display for CheckpointError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            CheckpointError::Storage(e) => write!(f, "{e}"),
            CheckpointError::Damaged { path, detail } => {
                write!(f, "the checkpoint file `{path}` is damaged: {detail}. Nothing was loaded; {START_AGAIN}")
            }
            CheckpointError::FormatVersion { path, found } => write!(
                f,
                "the checkpoint file `{path}` has format `{found}`, but this version of Unbounded reads v{}; {START_AGAIN}",
                super::FORMAT_VERSION
            ),
            CheckpointError::MissingCommit { batch_id, latest } => write!(
                f,
                "the checkpoint is inconsistent: batch {batch_id} has an offsets entry but no commit (`commits/{batch_id}` is missing), \
                 yet later batches up to {latest} were planned; only the last batch may be uncommitted. {START_AGAIN}"
            ),
            CheckpointError::MissingOffsets { batch_id } => write!(
                f,
                "the checkpoint is inconsistent: `offsets/{batch_id}` is missing, so batch {batch_id} cannot be replayed with the same input. {START_AGAIN}"
            ),
            CheckpointError::MissingState { table, version, missing } => write!(
                f,
                "the state in `{table}` cannot be rebuilt at version {version}: `{missing}` is missing. {START_AGAIN}"
            ),
            CheckpointError::ForeignQuery { id, query, line, column } => write!(
                f,
                "the checkpoint belongs to another query (id {id}): its text differs from this one at line {line}, column {column}. \
                 The checkpoint's query is:\n{query}\nRun that query again, or {START_AGAIN}"
            ),
            CheckpointError::OutputModeChanged { was, now } => write!(
                f,
                "the checkpoint was written in {was} mode and this query runs in {now} mode; switch back to {was}, or {START_AGAIN}"
            ),
            CheckpointError::SchemaChanged { source, detail } => write!(
                f,
                "the source `{source}` changed since the checkpoint was written: {detail}. Restore the old schema, or {START_AGAIN}"
            ),
            CheckpointError::LayoutChanged { was, now } => write!(
                f,
                "the query's stateful operators changed since the checkpoint was written: it holds state for [{}], this query has [{}]. \
                 State cannot move between different operators; {START_AGAIN}",
                was.join(", "),
                now.join(", ")
            ),
            CheckpointError::StateLayout { found } => write!(
                f,
                "the checkpoint's state was written by another version of Unbounded (state layout {found}; this version reads layout {}), \
                 so it cannot be decoded safely; lose the checkpoint to start over",
                crate::state::STATE_LAYOUT
            ),
            CheckpointError::Replaced { ours, found } => write!(
                f,
                "the checkpoint was taken over: it now belongs to query id {found}, not to this query (id {ours}); another page, tab or \
                 process started a query on it. Nothing was loaded; {START_AGAIN}"
            ),
            CheckpointError::OffsetsPastSource { source, offset, end } => write!(
                f,
                "the checkpoint says source `{source}` was read up to offset {offset}, but the source holds records only up to offset {end}: \
                 the records it counts as read are not there, and new records would be taken as read and never processed. \
                 Add the missing records to `{source}`, or {START_AGAIN}"
            ),
            CheckpointError::SinkMismatch { id, detail } => write!(
                f,
                "the checkpoint and the sink table disagree about query {id}: {detail}. The two must be kept (or lost) together; {START_AGAIN}"
            ),
            CheckpointError::Internal(m) => write!(f, "internal error (a bug in Unbounded) while writing the checkpoint: {m}"),
        }
    }
}

impl std::error::Error for CheckpointError {}

impl From<CheckpointError> for crate::Error {
    fn from(e: CheckpointError) -> Self {
        crate::Error::new(crate::ErrorKind::Checkpoint, e.to_string())
    }
}

/// 1-based line and column of the first character where `a` and `b` differ.
fn first_difference(a: &str, b: &str) -> (usize, usize) {
    let (mut line, mut column) = (1, 1);
    for (x, y) in a.chars().zip(b.chars()) {
        if x != y {
            break;
        }
        if x == '\n' {
            line += 1;
            column = 1;
        } else {
            column += 1;
        }
    }
    (line, column)
}

impl super::Metadata {
    /// Whether a query described by `now` may start from the checkpoint this metadata heads.
    pub fn check_matches(&self, now: &super::Metadata) -> Result<(), CheckpointError> {
        if self.state_layout != now.state_layout {
            return Err(CheckpointError::StateLayout { found: self.state_layout });
        }
        if self.query != now.query {
            let (line, column) = first_difference(&self.query, &now.query);
            return Err(CheckpointError::ForeignQuery { id: self.id.clone(), query: self.query.clone(), line, column });
        }
        if self.output_mode != now.output_mode {
            return Err(CheckpointError::OutputModeChanged { was: self.output_mode.clone(), now: now.output_mode.clone() });
        }
        for (source, was) in &self.sources {
            let Some(is) = now.sources.get(source) else {
                return Err(CheckpointError::SchemaChanged { source: source.clone(), detail: "the query no longer reads it".into() });
            };
            if was != is {
                let show = |cols: &[(String, String)]| cols.iter().map(|(n, t)| format!("{n} {t}")).collect::<Vec<_>>().join(", ");
                return Err(CheckpointError::SchemaChanged {
                    source: source.clone(),
                    detail: format!("it was ({}) and is now ({})", show(was), show(is)),
                });
            }
        }
        if let Some(source) = now.sources.keys().find(|s| !self.sources.contains_key(*s)) {
            return Err(CheckpointError::SchemaChanged { source: source.clone(), detail: "the checkpoint has no offsets for it".into() });
        }
        if self.operators != now.operators {
            return Err(CheckpointError::LayoutChanged { was: self.operators.clone(), now: now.operators.clone() });
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    #[cfg(target_arch = "wasm32")]
    use wasm_bindgen_test::wasm_bindgen_test as test;

    #[test]
    fn the_first_difference_is_placed_like_an_editor_does() {
        assert_eq!(first_difference("SELECT a\nFROM t", "SELECT a\nFROM u"), (2, 6));
        assert_eq!(first_difference("abc", "abd"), (1, 3));
        assert_eq!(first_difference("ab", "abc"), (1, 3));
    }
}
