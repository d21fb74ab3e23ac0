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

use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

use crate::storage::{join, numbered, Storage};

/// The checkpoint format version; bumped when a file's meaning changes.
pub const FORMAT_VERSION: u32 = 1;

/// Offsets and commits older than this many batches are removed (Spark's `minBatchesToRetain`).
pub const BATCHES_TO_RETAIN: u64 = 100;

/// The largest batch id a checkpoint may hold: Spark's batch ids are `Long`s, and the id after
/// it must still be a number.
pub const MAX_BATCH_ID: u64 = i64::MAX as u64;

// No watermark lies past the latest instant Spark's timestamps reach.
use crate::time::MAX_TIMESTAMP as MAX_TIMESTAMP_MICROS;

/// Frames `body` for storage: version, checksum and length, then the bytes.
pub fn frame(body: &[u8]) -> Vec<u8> {
    // Written by hand, not with `format!`: every micro-batch frames a few files.
    const HEX: &[u8; 16] = b"0123456789abcdef";
    let crc = crc32fast::hash(body);
    let mut out = Vec::with_capacity(body.len() + 40);
    out.push(b'v');
    put_decimal(&mut out, u64::from(FORMAT_VERSION));
    out.extend_from_slice(b" crc32:");
    out.extend((0..8).rev().map(|k| HEX[(crc >> (4 * k)) as usize & 0xf]));
    out.extend_from_slice(b" len:");
    put_decimal(&mut out, body.len() as u64);
    out.push(b'\n');
    out.extend_from_slice(body);
    out
}

fn put_decimal(out: &mut Vec<u8>, mut n: u64) {
    let mut digits = [0u8; 20];
    let mut k = digits.len();
    loop {
        k -= 1;
        digits[k] = b'0' + (n % 10) as u8;
        n /= 10;
        if n == 0 {
            break;
        }
    }
    out.extend_from_slice(&digits[k..]);
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
#[serde(deny_unknown_fields)]
pub struct Metadata {
    /// The query's id: new with every new checkpoint, kept across restarts (Spark's `id`).
    pub id: String,
    /// The layout its state files were written in ([`crate::state::STATE_LAYOUT`]); 0 for a
    /// checkpoint written before layouts were recorded.
    #[serde(default)]
    pub state_layout: u32,
    pub query: String,
    pub output_mode: String,
    /// The schema of every source the query reads: `[column, type]` in order.
    pub sources: BTreeMap<String, Vec<(String, String)>>,
    /// The stateful operators and their state tables, as `0-stateStoreSave[default]`.
    pub operators: Vec<String>,
}

/// `offsets/N`: what batch N reads and the watermark in effect for it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
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
#[serde(deny_unknown_fields)]
pub struct CommitEntry {
    pub batch_id: u64,
    pub next_watermark_micros: i64,
}

/// `dead_letter/N`: the bad records batch N read, with why.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
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
    /// The settings of the last offsets entry written, and their JSON: a run records the same
    /// ones in every entry, so they are escaped once, not every micro-batch.
    conf_json: Option<(BTreeMap<String, String>, Vec<u8>)>,
}

/// An offsets entry's fields before `conf`, in [`OffsetEntry`]'s order.
#[derive(Serialize)]
struct OffsetHead<'a> {
    batch_id: u64,
    sources: &'a BTreeMap<String, (u64, u64)>,
    watermark_micros: i64,
    late_watermark_micros: i64,
    batch_timestamp_ms: f64,
}

impl Checkpoint {
    pub fn new(storage: Box<dyn Storage>) -> Self {
        Checkpoint { storage, conf_json: None }
    }

    pub fn storage(&self) -> &dyn Storage {
        self.storage.as_ref()
    }

    pub fn storage_mut(&mut self) -> &mut dyn Storage {
        self.storage.as_mut()
    }

    fn write_json<T: Serialize>(&mut self, path: &str, value: &T) -> Result<(), CheckpointError> {
        let body = serde_json::to_vec(value).map_err(|e| CheckpointError::Internal(e.to_string()))?;
        self.storage.write_vec(path, frame(&body)).map_err(CheckpointError::Storage)
    }

    fn read_json<T: DeserializeOwned>(&self, path: &str) -> Result<Option<T>, CheckpointError> {
        let Some(bytes) = self.storage.read(path).map_err(CheckpointError::Storage)? else { return Ok(None) };
        parse_json(path, unframe(path, &bytes)?).map(Some)
    }

    /// The numbered files under `dir`, in order. A name that is not a batch number is damage.
    fn numbered(&self, dir: &str) -> Result<Vec<u64>, CheckpointError> {
        let mut ids = Vec::new();
        for name in self.storage.list(dir).map_err(CheckpointError::Storage)? {
            ids.push(batch_number(&join(dir, &name), &name)?);
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
        let path = format!("offsets/{batch_id}");
        let entry: Option<OffsetEntry> = self.read_json(&path)?;
        entry.map(|e| same_batch(&path, batch_id, e.batch_id).map(|_| e)).transpose()
    }

    pub fn commit(&self, batch_id: u64) -> Result<Option<CommitEntry>, CheckpointError> {
        let path = format!("commits/{batch_id}");
        let entry: Option<CommitEntry> = self.read_json(&path)?;
        entry.map(|e| same_batch(&path, batch_id, e.batch_id).map(|_| e)).transpose()
    }

    pub fn write_offsets(&mut self, e: &OffsetEntry) -> Result<(), CheckpointError> {
        let body = self.offsets_json(e)?;
        self.storage.write_vec(&numbered("offsets", e.batch_id, ""), frame(&body)).map_err(CheckpointError::Storage)
    }

    /// `serde_json::to_vec(e)`, byte for byte, with the settings' JSON reused while they stay
    /// the same.
    fn offsets_json(&mut self, e: &OffsetEntry) -> Result<Vec<u8>, CheckpointError> {
        let internal = |e: serde_json::Error| CheckpointError::Internal(e.to_string());
        if self.conf_json.as_ref().is_none_or(|(conf, _)| *conf != e.conf) {
            self.conf_json = Some((e.conf.clone(), serde_json::to_vec(&e.conf).map_err(internal)?));
        }
        let conf = self.conf_json.as_ref().map_or(&[][..], |(_, json)| json);
        let head = OffsetHead {
            batch_id: e.batch_id,
            sources: &e.sources,
            watermark_micros: e.watermark_micros,
            late_watermark_micros: e.late_watermark_micros,
            batch_timestamp_ms: e.batch_timestamp_ms,
        };
        let mut body = serde_json::to_vec(&head).map_err(internal)?;
        body.pop(); // the head's closing brace
        body.extend_from_slice(b",\"conf\":");
        body.extend_from_slice(conf);
        body.push(b'}');
        Ok(body)
    }

    /// Writes `commits/N` and lets go of the batches older than the retained ones.
    pub fn write_commit(&mut self, c: &CommitEntry) -> Result<(), CheckpointError> {
        self.write_json(&numbered("commits", c.batch_id, ""), c)?;
        if let Some(old) = c.batch_id.checked_sub(BATCHES_TO_RETAIN) {
            for dir in ["offsets", "commits"] {
                self.storage.delete(&numbered(dir, old, "")).map_err(CheckpointError::Storage)?;
            }
        }
        Ok(())
    }

    pub fn write_dead_letters(&mut self, batch_id: u64, records: &[DeadLetterEntry]) -> Result<(), CheckpointError> {
        self.write_json(&format!("dead_letter/{batch_id}"), &records)
    }

    /// Every dead letter kept, by batch id.
    /// Each record must come from a source of the query and, while the batch's offsets are
    /// kept, from the range that batch read.
    pub fn dead_letters(&self) -> Result<Vec<(u64, Vec<DeadLetterEntry>)>, CheckpointError> {
        let mut out = Vec::new();
        let sources = self.metadata()?.map(|m| m.sources).unwrap_or_default();
        for id in self.numbered("dead_letter")? {
            let path = format!("dead_letter/{id}");
            let entries: Vec<DeadLetterEntry> = self.read_json(&path)?.unwrap_or_default();
            let ranges = self.offsets(id)?.map(|o| o.sources);
            for e in &entries {
                if !sources.contains_key(&e.source) {
                    return Err(damaged(&path, format!("it holds a record of `{}`, a source the query does not read", e.source)));
                }
                if let Some((start, end)) = ranges.as_ref().and_then(|r| r.get(&e.source)) {
                    if !(*start..*end).contains(&e.offset) {
                        return Err(damaged(
                            &path,
                            format!(
                                "it holds a record at offset {} of `{}`, outside the offsets {start} to {end} batch {id} read",
                                e.offset, e.source
                            ),
                        ));
                    }
                }
            }
            out.push((id, entries));
        }
        Ok(out)
    }

    /// Checks the frame of every file, so damage anywhere in the checkpoint is reported when
    /// the query starts, not when (or never, if) the file is next read.
    pub fn verify(&self) -> Result<(), CheckpointError> {
        self.scan().map(|_| ())
    }

    /// Reads every file once: checks its frame, and keeps the metadata and the offsets and
    /// commit logs (small JSON files) parsed for [`Checkpoint::recover`] to check together.
    fn scan(&self) -> Result<Scan, CheckpointError> {
        let mut scan = Scan::default();
        let mut dirs = vec![String::new()];
        while let Some(dir) = dirs.pop() {
            for name in self.storage.list(&dir).map_err(CheckpointError::Storage)? {
                let path = join(&dir, &name);
                scan.any = true;
                let Some(bytes) = self.storage.read(&path).map_err(CheckpointError::Storage)? else {
                    let batch_dir = matches!(dir.as_str(), "offsets" | "commits" | "dead_letter");
                    if batch_dir || (dir.starts_with("state/") && dir.matches('/').count() >= 2) {
                        return Err(damaged(&path, "it is a folder where a file belongs"));
                    }
                    dirs.push(path);
                    continue;
                };
                let body = unframe(&path, &bytes)?;
                match dir.as_str() {
                    "" if name == "metadata" => scan.metadata = Some(parse_json(&path, body)?),
                    "offsets" => {
                        let id = batch_number(&path, &name)?;
                        let entry: OffsetEntry = parse_json(&path, body)?;
                        same_batch(&path, id, entry.batch_id)?;
                        scan.offsets.insert(id, entry);
                    }
                    "commits" => {
                        let id = batch_number(&path, &name)?;
                        let entry: CommitEntry = parse_json(&path, body)?;
                        same_batch(&path, id, entry.batch_id)?;
                        scan.commits.insert(id, entry);
                    }
                    "dead_letter" => scan.dead_letters.push(batch_number(&path, &name)?),
                    _ if dir == "state" || dir.starts_with("state/") => scan.state.push(path),
                    _ => {}
                }
            }
        }
        Ok(scan)
    }

    /// Where to resume: the last commit, and the batch after it when its offsets were written
    /// but it never committed. Only that last batch may lack a commit; any other gap is damage.
    /// Every file is checked against its name, its neighbours and the query (`metadata`, the
    /// one the query opened the checkpoint with): a checkpoint is never trusted just because
    /// its checksums pass.
    pub fn recover(&self, metadata: &Metadata) -> Result<Recovery, CheckpointError> {
        let scan = self.scan()?;
        match &scan.metadata {
            Some(found) if found.id != metadata.id => {
                return Err(CheckpointError::Replaced { ours: metadata.id.clone(), found: found.id.clone() })
            }
            Some(found) => found.check_matches(metadata)?,
            None if scan.any => return Err(damaged("metadata", "it is missing, yet the checkpoint holds other files")),
            None => return Ok(Recovery::default()),
        }
        let offsets: Vec<u64> = scan.offsets.keys().copied().collect();
        let last_commit = scan.commits.keys().next_back().copied();
        let latest = offsets.last().copied();
        if let Some(c) = last_commit.filter(|c| latest.is_none_or(|l| *c > l)) {
            return Err(CheckpointError::MissingOffsets { batch_id: c });
        }
        if let Some(w) = offsets.windows(2).find(|w| w[1] != w[0] + 1) {
            return Err(CheckpointError::MissingOffsets { batch_id: w[0] + 1 });
        }
        if let (Some(&gap), Some(latest)) = (offsets.iter().find(|o| Some(**o) < latest && !scan.commits.contains_key(o)), latest) {
            return Err(CheckpointError::MissingCommit { batch_id: gap, latest });
        }
        let mut previous: Option<&OffsetEntry> = None;
        for (id, entry) in &scan.offsets {
            let before = id.checked_sub(1).and_then(|p| scan.commits.get(&p));
            check_offsets(entry, metadata, previous, before)?;
            previous = Some(entry);
        }
        for (id, commit) in &scan.commits {
            if let Some(entry) = scan.offsets.get(id) {
                check_commit(commit, entry)?;
            }
        }
        if let Some(&id) = scan.dead_letters.iter().find(|d| latest.is_none_or(|l| **d > l)) {
            return Err(damaged(&format!("dead_letter/{id}"), format!("it holds the bad records of batch {id}, which was never planned")));
        }
        // Batch N writes state version N + 1; the last planned batch may have written its own.
        check_state_files(&scan.state, metadata, latest.map_or(0, |l| l + 1))?;
        let commit = last_commit.and_then(|c| scan.commits.get(&c)).cloned();
        let committed_offsets = last_commit.and_then(|c| scan.offsets.get(&c)).cloned();
        let pending = latest.filter(|l| Some(*l) != last_commit).and_then(|l| scan.offsets.get(&l)).cloned();
        Ok(Recovery { commit, committed_offsets, pending })
    }
}

/// What one read of every file of a checkpoint found.
#[derive(Default)]
struct Scan {
    any: bool,
    metadata: Option<Metadata>,
    offsets: BTreeMap<u64, OffsetEntry>,
    commits: BTreeMap<u64, CommitEntry>,
    dead_letters: Vec<u64>,
    /// Paths of the files under `state/`.
    state: Vec<String>,
}

fn damaged(path: &str, detail: impl Into<String>) -> CheckpointError {
    CheckpointError::Damaged { path: path.to_string(), detail: detail.into() }
}

fn parse_json<T: DeserializeOwned>(path: &str, body: &[u8]) -> Result<T, CheckpointError> {
    serde_json::from_slice(body).map_err(|e| damaged(path, format!("it is not the JSON expected there ({e})")))
}

/// The batch id a file's name gives, written as Unbounded writes it (no sign, no leading zero).
fn batch_number(path: &str, name: &str) -> Result<u64, CheckpointError> {
    let id: u64 = name
        .parse()
        .ok()
        .filter(|id: &u64| id.to_string() == name)
        .ok_or_else(|| damaged(path, "a file that is not a batch number lies among the batches"))?;
    if id > MAX_BATCH_ID {
        return Err(damaged(path, format!("batch {id} is past the largest batch id a query can reach ({MAX_BATCH_ID})")));
    }
    Ok(id)
}

fn same_batch(path: &str, named: u64, found: u64) -> Result<(), CheckpointError> {
    if named != found {
        return Err(damaged(path, format!("it is the entry of batch {found}, filed under batch {named}")));
    }
    Ok(())
}

fn check_watermark(path: &str, what: &str, micros: i64) -> Result<(), CheckpointError> {
    if !(0..=MAX_TIMESTAMP_MICROS).contains(&micros) {
        return Err(damaged(
            path,
            format!(
                "its {what} {micros} is not a time a watermark can have (0, or microseconds from 1970 up to 9999-12-31 23:59:59.999999)"
            ),
        ));
    }
    Ok(())
}

/// An offsets entry on its own and against the batch before it: the query's sources, ranges
/// that follow on from the previous batch's, watermarks in range that never move back.
fn check_offsets(
    e: &OffsetEntry,
    m: &Metadata,
    previous: Option<&OffsetEntry>,
    commit_before: Option<&CommitEntry>,
) -> Result<(), CheckpointError> {
    let path = format!("offsets/{}", e.batch_id);
    if !e.sources.keys().eq(m.sources.keys()) {
        let names = |keys: Vec<&String>| keys.iter().map(|k| format!("`{k}`")).collect::<Vec<_>>().join(", ");
        return Err(damaged(
            &path,
            format!(
                "it reads the sources [{}], but the query reads [{}]",
                names(e.sources.keys().collect()),
                names(m.sources.keys().collect())
            ),
        ));
    }
    for (source, &(start, end)) in &e.sources {
        if start > end {
            return Err(damaged(&path, format!("its range of `{source}` starts at offset {start}, after its end {end}")));
        }
        if e.batch_id == 0 && start != 0 {
            return Err(damaged(&path, format!("the first batch reads `{source}` from offset {start}, not 0")));
        }
        if let Some(p) = previous {
            let ended = p.sources.get(source).map_or(0, |r| r.1);
            if start != ended {
                return Err(damaged(
                    &path,
                    format!("it reads `{source}` from offset {start}, but batch {} ended at offset {ended}: records would be skipped or read twice", p.batch_id),
                ));
            }
        }
    }
    check_watermark(&path, "watermark", e.watermark_micros)?;
    check_watermark(&path, "late-row watermark", e.late_watermark_micros)?;
    if e.late_watermark_micros > e.watermark_micros {
        return Err(damaged(
            &path,
            format!("its late-row watermark {} is past its watermark {}", e.late_watermark_micros, e.watermark_micros),
        ));
    }
    // Each batch drops late rows by the watermark the batch before it ran with; the first has none.
    let late = previous.map_or(0, |p| p.watermark_micros);
    if e.batch_id == 0 && e.watermark_micros != 0 {
        return Err(damaged(
            &path,
            format!("the first batch runs with the watermark {}, but a query starts without one", e.watermark_micros),
        ));
    }
    if (e.batch_id == 0 || previous.is_some()) && e.late_watermark_micros != late {
        return Err(damaged(
            &path,
            format!("its late-row watermark {} is not {late}, the watermark the batch before it ran with", e.late_watermark_micros),
        ));
    }
    if let Some(p) = previous.filter(|p| p.watermark_micros > e.watermark_micros) {
        return Err(damaged(
            &path,
            format!(
                "its watermark {} is behind batch {}'s {}: a watermark never moves back",
                e.watermark_micros, p.batch_id, p.watermark_micros
            ),
        ));
    }
    if let Some(c) = commit_before.filter(|c| c.next_watermark_micros != e.watermark_micros) {
        return Err(damaged(
            &path,
            format!("its watermark {} is not the {} batch {} committed for it", e.watermark_micros, c.next_watermark_micros, c.batch_id),
        ));
    }
    if !e.batch_timestamp_ms.is_finite() || e.batch_timestamp_ms < 0.0 {
        return Err(damaged(&path, format!("its batch time {} ms is not a processing time", e.batch_timestamp_ms)));
    }
    Ok(())
}

fn check_commit(c: &CommitEntry, offsets: &OffsetEntry) -> Result<(), CheckpointError> {
    let path = format!("commits/{}", c.batch_id);
    check_watermark(&path, "next watermark", c.next_watermark_micros)?;
    if c.next_watermark_micros < offsets.watermark_micros {
        return Err(damaged(
            &path,
            format!(
                "its next watermark {} is behind the batch's own {}: a watermark never moves back",
                c.next_watermark_micros, offsets.watermark_micros
            ),
        ));
    }
    Ok(())
}

/// Every file under `state/` is `state/<operator>/<table>/<version>.delta|.snapshot` for an
/// operator and table of the query, at a version a planned batch wrote.
fn check_state_files(paths: &[String], m: &Metadata, newest: u64) -> Result<(), CheckpointError> {
    let tables: Vec<(&str, Vec<&str>)> = m
        .operators
        .iter()
        .filter_map(|o| o.strip_suffix(']').and_then(|o| o.split_once('[')))
        .map(|(id, tables)| (id, tables.split(',').collect()))
        .collect();
    for path in paths {
        let parts: Vec<&str> = path.split('/').collect();
        let [_, operator, table, file] = parts[..] else {
            return Err(damaged(path, "it is not where the state store keeps its files (`state/<operator>/<table>/<version>.delta`)"));
        };
        let Some((_, known)) = tables.iter().find(|(id, _)| *id == operator) else {
            return Err(damaged(path, format!("it is state of an operator `{operator}` the query does not have")));
        };
        if !known.contains(&table) {
            return Err(damaged(path, format!("it is state of a table `{table}` operator `{operator}` does not have")));
        }
        let Some((version, _)) = crate::state::store::parse_name(file) else {
            return Err(damaged(path, "a file that is not `<version>.delta` or `<version>.snapshot` lies among the state versions"));
        };
        if version == 0 || version > newest {
            return Err(damaged(path, format!("no batch wrote state version {version}: the last planned batch writes version {newest}")));
        }
    }
    Ok(())
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

    fn meta() -> Metadata {
        Metadata {
            id: "q1".into(),
            state_layout: crate::state::STATE_LAYOUT,
            query: "SELECT * FROM STREAM events".into(),
            output_mode: "append".into(),
            sources: [("events".to_string(), vec![("id".to_string(), "int".to_string())])].into_iter().collect(),
            operators: vec!["0-dedupe[default]".into()],
        }
    }

    fn checkpoint_with(batches: u64, committed: u64) -> Checkpoint {
        let mut c = Checkpoint::new(Box::new(MemoryStorage::new()));
        c.open(&meta()).unwrap();
        for b in 0..batches {
            c.write_offsets(&offsets(b)).unwrap();
            if b < committed {
                c.write_commit(&CommitEntry { batch_id: b, next_watermark_micros: 0 }).unwrap();
            }
        }
        c
    }

    #[test]
    fn the_frame_header_is_version_checksum_and_length() {
        for body in [&b""[..], b"{}", &[0xffu8; 1234][..], &vec![7u8; 1_000_001][..]] {
            let expected = format!("v{FORMAT_VERSION} crc32:{:08x} len:{}\n", crc32fast::hash(body), body.len());
            let framed = frame(body);
            assert_eq!(&framed[..expected.len()], expected.as_bytes());
            assert_eq!(&framed[expected.len()..], body);
        }
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
    fn offsets_entries_are_written_as_serde_writes_them() {
        let mut c = Checkpoint::new(Box::new(MemoryStorage::new()));
        let conf = |v: &str| [("a.b".to_string(), v.to_string()), ("q\"uote".to_string(), "1".to_string())].into_iter().collect();
        for e in [
            offsets(0),
            OffsetEntry { conf: conf("x"), batch_timestamp_ms: 1.5e12, watermark_micros: 7, ..offsets(1) },
            OffsetEntry { conf: conf("x"), sources: BTreeMap::new(), ..offsets(2) },
            OffsetEntry { conf: conf("y"), batch_timestamp_ms: 0.25, ..offsets(3) },
            offsets(4),
        ] {
            assert_eq!(String::from_utf8(c.offsets_json(&e).unwrap()).unwrap(), serde_json::to_string(&e).unwrap());
            c.write_offsets(&e).unwrap();
            assert_eq!(c.offsets(e.batch_id).unwrap(), Some(e));
        }
    }

    #[test]
    fn recovery_resumes_after_the_last_commit() {
        let r = checkpoint_with(3, 3).recover(&meta()).unwrap();
        assert_eq!((r.commit.map(|c| c.batch_id), r.pending), (Some(2), None));
        let r = checkpoint_with(3, 2).recover(&meta()).unwrap();
        assert_eq!(r.commit.map(|c| c.batch_id), Some(1));
        assert_eq!(r.committed_offsets.map(|o| o.batch_id), Some(1));
        assert_eq!(r.pending.map(|o| o.batch_id), Some(2));
        let r = checkpoint_with(1, 0).recover(&meta()).unwrap();
        assert_eq!((r.commit, r.pending.map(|o| o.batch_id)), (None, Some(0)));
        assert_eq!(checkpoint_with(0, 0).recover(&meta()).unwrap(), Recovery::default());
    }

    #[test]
    fn a_missing_commit_in_the_middle_is_damage() {
        let mut c = checkpoint_with(3, 3);
        c.storage_mut().delete("commits/1").unwrap();
        assert_eq!(c.recover(&meta()).unwrap_err(), CheckpointError::MissingCommit { batch_id: 1, latest: 2 });
    }

    #[test]
    fn a_commit_without_offsets_is_damage() {
        let mut c = checkpoint_with(3, 3);
        c.storage_mut().delete("offsets/2").unwrap();
        assert_eq!(c.recover(&meta()).unwrap_err(), CheckpointError::MissingOffsets { batch_id: 2 });
    }

    /// The detail of the `Damaged` error recovering `c` gives, and the file it names.
    fn damage(c: &Checkpoint) -> (String, String) {
        match c.recover(&meta()) {
            Err(CheckpointError::Damaged { path, detail }) => (path, detail),
            other => panic!("expected damage, got {other:?}"),
        }
    }

    fn put(c: &mut Checkpoint, path: &str, json: &str) {
        c.storage_mut().write(path, &frame(json.as_bytes())).unwrap();
    }

    #[test]
    fn a_file_must_hold_the_batch_its_name_says() {
        let mut c = checkpoint_with(3, 3);
        let mut moved = offsets(2);
        moved.batch_id = 5;
        c.storage_mut().write("offsets/2", &frame(&serde_json::to_vec(&moved).unwrap())).unwrap();
        assert_eq!(damage(&c), ("offsets/2".into(), "it is the entry of batch 5, filed under batch 2".into()));
        let mut c = checkpoint_with(3, 3);
        put(&mut c, "commits/2", &format!(r#"{{"batch_id":{},"next_watermark_micros":0}}"#, u64::MAX));
        assert!(damage(&c).1.contains("filed under batch 2"));
    }

    #[test]
    fn a_batch_id_past_the_largest_is_refused_not_wrapped() {
        let mut c = checkpoint_with(3, 3);
        let id = u64::MAX;
        put(&mut c, &format!("offsets/{id}"), &serde_json::to_string(&OffsetEntry { batch_id: id, ..offsets(3) }).unwrap());
        put(&mut c, &format!("commits/{id}"), &format!(r#"{{"batch_id":{id},"next_watermark_micros":0}}"#));
        let (path, detail) = damage(&c);
        assert!(path.ends_with(&id.to_string()) && detail.contains("past the largest batch id"), "{path}: {detail}");
        let mut c = checkpoint_with(3, 3);
        put(&mut c, "offsets/03", &serde_json::to_string(&offsets(3)).unwrap());
        assert!(damage(&c).1.contains("not a batch number"));
    }

    #[test]
    fn offsets_follow_on_from_the_batch_before() {
        let mut c = checkpoint_with(3, 3);
        let mut skip = offsets(2);
        skip.sources.insert("events".into(), (1_000_000, 1_000_002));
        c.write_offsets(&skip).unwrap();
        assert!(damage(&c).1.contains("from offset 1000000, but batch 1 ended at offset 4"));
        let mut c = checkpoint_with(3, 3);
        let mut backwards = offsets(2);
        backwards.sources.insert("events".into(), (4, 3));
        c.write_offsets(&backwards).unwrap();
        assert!(damage(&c).1.contains("starts at offset 4, after its end 3"));
        let mut c = checkpoint_with(3, 3);
        let mut other = offsets(2);
        other.sources = [("payments".to_string(), (4, 6))].into_iter().collect();
        c.write_offsets(&other).unwrap();
        assert!(damage(&c).1.contains("reads the sources [`payments`], but the query reads [`events`]"));
    }

    #[test]
    fn watermarks_stay_in_range_and_never_move_back() {
        for (watermark, late, needle) in [
            (-1, 0, "watermark -1 is not a time"),
            (MAX_TIMESTAMP_MICROS + 1, 0, "is not a time a watermark can have"),
            (5, 7, "late-row watermark 7 is past its watermark 5"),
            (5, 0, "is not the 0 batch 1 committed for it"),
        ] {
            let mut c = checkpoint_with(3, 3);
            c.write_offsets(&OffsetEntry { watermark_micros: watermark, late_watermark_micros: late, ..offsets(2) }).unwrap();
            assert!(damage(&c).1.contains(needle), "{watermark}: {:?}", damage(&c));
        }
        let mut c = checkpoint_with(3, 3);
        c.write_commit(&CommitEntry { batch_id: 2, next_watermark_micros: i64::MAX }).unwrap();
        assert!(damage(&c).1.contains("next watermark"));
    }

    #[test]
    fn wrong_shapes_missing_and_extra_fields_are_refused() {
        for body in [
            r#"{"batch_id":2,"next_watermark_micros":"soon"}"#,
            r#"{"batch_id":2}"#,
            r#"{"batch_id":2,"next_watermark_micros":0,"extra":1}"#,
            r#"[2,"0"]"#,
            "",
        ] {
            let mut c = checkpoint_with(3, 3);
            put(&mut c, "commits/2", body);
            assert!(damage(&c).1.contains("not the JSON expected there"), "{body}");
        }
        let mut c = checkpoint_with(3, 3);
        put(&mut c, "commits/2", &format!("{}0{}", "[".repeat(100_000), "]".repeat(100_000)));
        assert!(damage(&c).1.contains("not the JSON expected there"));
    }

    #[test]
    fn state_files_belong_to_the_plans_operators_and_planned_versions() {
        for (path, needle) in [
            ("state/1-join/left/1.delta", "operator `1-join` the query does not have"),
            ("state/0-dedupe/right/1.delta", "table `right`"),
            ("state/0-dedupe/default/9.delta", "no batch wrote state version 9"),
            ("state/0-dedupe/default/0.delta", "no batch wrote state version 0"),
            ("state/0-dedupe/default/x.delta", "not `<version>.delta`"),
            ("state/0-dedupe/1.delta", "not where the state store keeps its files"),
        ] {
            let mut c = checkpoint_with(3, 3);
            c.storage_mut().write(path, &frame(b"")).unwrap();
            assert_eq!(damage(&c).0, path);
            assert!(damage(&c).1.contains(needle), "{path}: {:?}", damage(&c));
        }
        let mut c = checkpoint_with(3, 3);
        c.storage_mut().write("dead_letter/7", &frame(b"[]")).unwrap();
        assert!(damage(&c).1.contains("batch 7, which was never planned"));
    }

    #[test]
    fn a_checkpoint_taken_over_by_another_query_is_refused() {
        let mut c = checkpoint_with(2, 2);
        c.write_metadata(&Metadata { id: "q2".into(), ..meta() }).unwrap();
        assert_eq!(c.recover(&meta()).unwrap_err(), CheckpointError::Replaced { ours: "q1".into(), found: "q2".into() });
        let mut c = checkpoint_with(2, 2);
        c.write_metadata(&Metadata { state_layout: 0, ..meta() }).unwrap();
        let err = c.recover(&meta()).unwrap_err();
        assert!(err.to_string().contains("written by another version of Unbounded"), "{err}");
        let mut c = checkpoint_with(2, 2);
        c.storage_mut().delete("metadata").unwrap();
        assert!(damage(&c).1.contains("it is missing"));
    }

    #[test]
    fn old_batches_are_let_go() {
        let c = checkpoint_with(BATCHES_TO_RETAIN + 5, BATCHES_TO_RETAIN + 5);
        assert_eq!(c.numbered("offsets").unwrap().first(), Some(&5));
        assert_eq!(c.numbered("commits").unwrap().len() as u64, BATCHES_TO_RETAIN);
        assert_eq!(c.recover(&meta()).unwrap().commit.map(|c| c.batch_id), Some(BATCHES_TO_RETAIN + 4));
    }
}
