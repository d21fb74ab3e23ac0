//! Versions of a state table in the checkpoint, as Spark's HDFS-backed provider keeps them:
//! every version `v` is a delta (`v.delta`: the puts and deletes since `v - 1`), some versions
//! also a full snapshot (`v.snapshot`; when, [`TableStore`] says). Loading version `v` reads
//! the newest snapshot at or below `v` and applies the deltas after it; versions no longer
//! needed to load the retained ones are deleted.
//!
//! Encoding: keys are the operators' order-preserving byte encodings, values postcard (serde's
//! compact binary form: varints, no field names). State values are small nested structures
//! (aggregation buffers, lists of buffered rows, sessions) read and written one key at a time;
//! Arrow IPC would need a columnar schema per operator and a flatbuffers dependency in the wasm
//! bundle, for values that are never scanned as columns.

use std::collections::BTreeMap;

use super::bounded::decode;
use super::{EntrySink, StateTable};
use crate::checkpoint::{frame, unframe, CheckpointError};
use crate::storage::{join, numbered, Storage};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StateStoreConfig {
    /// At least this many versions between two full snapshots (Spark's `minDeltasForSnapshot`);
    /// [`TableStore`] says when one is written.
    pub snapshot_interval: u64,
    /// Versions below the latest that must stay loadable (Spark's `minBatchesToRetain`, smaller:
    /// a page has less room than a cluster).
    pub versions_to_retain: u64,
}

impl Default for StateStoreConfig {
    fn default() -> Self {
        StateStoreConfig { snapshot_interval: 10, versions_to_retain: 10 }
    }
}

type Delta = Vec<(Vec<u8>, Option<Vec<u8>>)>;
type Snapshot = Vec<(Vec<u8>, Vec<u8>)>;

/// One table's directory in the checkpoint: `state/<operator>/<table>`.
pub struct VersionedTable {
    pub dir: String,
    pub config: StateStoreConfig,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum FileKind {
    Delta,
    Snapshot,
}

/// The version and kind a state file's name gives: `12.delta`, `20.snapshot` (the number
/// written as Unbounded writes it: no sign, no leading zero).
pub fn parse_name(name: &str) -> Option<(u64, FileKind)> {
    let (v, ext) = name.split_once('.')?;
    let kind = match ext {
        "delta" => FileKind::Delta,
        "snapshot" => FileKind::Snapshot,
        _ => return None,
    };
    let version: u64 = v.parse().ok()?;
    (version.to_string() == v).then_some((version, kind))
}

fn storage_error(e: crate::storage::StorageError) -> CheckpointError {
    CheckpointError::Storage(e)
}

impl VersionedTable {
    fn files(&self, storage: &dyn Storage) -> Result<Vec<(u64, FileKind)>, CheckpointError> {
        let mut files = Vec::new();
        for name in storage.list(&self.dir).map_err(storage_error)? {
            files.push(parse_name(&name).ok_or_else(|| CheckpointError::Damaged {
                path: join(&self.dir, &name),
                detail: "a file that is not `<version>.delta` or `<version>.snapshot` lies among the state versions".into(),
            })?);
        }
        files.sort_unstable();
        Ok(files)
    }

    fn path(&self, version: u64, kind: FileKind) -> String {
        numbered(&self.dir, version, if kind == FileKind::Delta { ".delta" } else { ".snapshot" })
    }

    /// Versions of this table that could be loaded: `(lowest, highest)`.
    pub fn versions(&self, storage: &dyn Storage) -> Result<Option<(u64, u64)>, CheckpointError> {
        let files = self.files(storage)?;
        Ok(files.first().zip(files.last()).map(|(a, b)| (a.0, b.0)))
    }

    /// The table's entries at `version` (0 is the empty table before the first batch).
    pub fn load(&self, storage: &dyn Storage, version: u64) -> Result<BTreeMap<Vec<u8>, Vec<u8>>, CheckpointError> {
        let mut entries = BTreeMap::new();
        if version == 0 {
            return Ok(entries);
        }
        let files = self.files(storage)?;
        let base = files.iter().filter(|(v, k)| *k == FileKind::Snapshot && *v <= version).map(|(v, _)| *v).next_back();
        if let Some(base) = base {
            let path = self.path(base, FileKind::Snapshot);
            let snapshot: Snapshot = read(storage, &path, base)?;
            entries.extend(snapshot);
        }
        for v in base.map_or(1, |b| b + 1)..=version {
            let path = self.path(v, FileKind::Delta);
            if !files.contains(&(v, FileKind::Delta)) {
                return Err(CheckpointError::MissingState { table: self.dir.clone(), version, missing: path });
            }
            let delta: Delta = read(storage, &path, v)?;
            for (key, value) in delta {
                match value {
                    Some(value) => entries.insert(key, value),
                    None => entries.remove(&key),
                };
            }
        }
        Ok(entries)
    }
}

/// How many deltas at most lie between two snapshots, in multiples of `snapshot_interval`: a
/// table that changes little between versions still gets a snapshot now and then, so loading it
/// never reads an unbounded number of files.
pub const MAX_DELTAS_PER_INTERVAL: u64 = 100;

/// A state table's store while a query runs: its files are listed once, when the query starts,
/// and followed from then on, so writing a version costs its delta and not a listing of the
/// directory.
///
/// Snapshots are amortised. Spark's provider consolidates deltas into a snapshot in a background
/// maintenance task; here the micro-batch does it, so one is written (at least
/// `snapshot_interval` versions after the last, as Spark's `minDeltasForSnapshot`) once the
/// deltas since the last snapshot hold as many bytes as the table. Writing snapshots then costs
/// no more than writing the deltas, however large the table is against what a batch changes, and
/// loading a version reads about twice the table at most.
pub struct TableStore {
    table: VersionedTable,
    /// The versions of the table's delta files and snapshots, ascending.
    deltas: Vec<u64>,
    snapshots: Vec<u64>,
    /// Deltas written after the newest snapshot, and their framed bytes.
    deltas_since_snapshot: u64,
    delta_bytes_since_snapshot: u64,
}

/// Adds `version` to an ascending list of versions, once.
fn insert_version(versions: &mut Vec<u64>, version: u64) {
    match versions.last() {
        Some(&last) if last >= version => {
            if let Err(at) = versions.binary_search(&version) {
                versions.insert(at, version);
            }
        }
        _ => versions.push(version),
    }
}

impl TableStore {
    /// The store of `table` over what `storage` holds of it now.
    pub fn open(storage: &dyn Storage, table: VersionedTable) -> Result<Self, CheckpointError> {
        let mut store =
            TableStore { table, deltas: Vec::new(), snapshots: Vec::new(), deltas_since_snapshot: 0, delta_bytes_since_snapshot: 0 };
        for (version, kind) in store.table.files(storage)? {
            match kind {
                FileKind::Delta => store.deltas.push(version),
                FileKind::Snapshot => store.snapshots.push(version),
            }
        }
        let newest = store.snapshots.last().copied();
        for &v in store.deltas.iter().filter(|&&v| newest.is_none_or(|s| v > s)) {
            let size = storage.size(&store.table.path(v, FileKind::Delta)).map_err(storage_error)?;
            store.deltas_since_snapshot += 1;
            store.delta_bytes_since_snapshot += size.unwrap_or(0);
        }
        Ok(store)
    }

    /// Writes version `version` of `table`: its changes since the last version, and a snapshot
    /// when one is due; then removes what no retained version needs.
    pub fn commit(&mut self, storage: &mut dyn Storage, version: u64, table: &mut dyn StateTable) -> Result<(), CheckpointError> {
        let mut delta = VersionBody::new(version, true);
        table.write_changes(&mut delta);
        let framed = frame(&delta.finish());
        self.delta_bytes_since_snapshot += framed.len() as u64;
        self.deltas_since_snapshot += 1;
        storage.write_vec(&self.table.path(version, FileKind::Delta), framed).map_err(storage_error)?;
        insert_version(&mut self.deltas, version);
        if self.snapshot_due(table.bytes()) {
            let mut snapshot = VersionBody::new(version, false);
            table.write_all(&mut snapshot);
            let framed = frame(&snapshot.finish());
            storage.write_vec(&self.table.path(version, FileKind::Snapshot), framed).map_err(storage_error)?;
            insert_version(&mut self.snapshots, version);
            self.deltas_since_snapshot = 0;
            self.delta_bytes_since_snapshot = 0;
        }
        self.clean(storage, version.saturating_sub(self.table.config.versions_to_retain))
    }

    /// Whether the version just written, of a table holding `table_bytes`, gets a snapshot.
    fn snapshot_due(&self, table_bytes: u64) -> bool {
        let interval = self.table.config.snapshot_interval.max(1);
        self.deltas_since_snapshot >= interval
            && (self.delta_bytes_since_snapshot >= table_bytes
                || self.deltas_since_snapshot >= interval.saturating_mul(MAX_DELTAS_PER_INTERVAL))
    }

    /// Deletes the files that loading `keep_from` and every later version does not read: all
    /// below the newest snapshot at or below `keep_from`.
    fn clean(&mut self, storage: &mut dyn Storage, keep_from: u64) -> Result<(), CheckpointError> {
        let below = self.snapshots.partition_point(|&s| s <= keep_from);
        let Some(base) = below.checked_sub(1).map(|i| self.snapshots[i]) else { return Ok(()) };
        let old_snapshots = self.snapshots.partition_point(|&s| s < base);
        for v in self.snapshots.drain(..old_snapshots) {
            storage.delete(&self.table.path(v, FileKind::Snapshot)).map_err(storage_error)?;
        }
        let old_deltas = self.deltas.partition_point(|&d| d <= base);
        for v in self.deltas.drain(..old_deltas) {
            storage.delete(&self.table.path(v, FileKind::Delta)).map_err(storage_error)?;
        }
        Ok(())
    }
}

/// Appends `v` as postcard writes an unsigned integer or a length: LEB128, 7 bits a byte.
fn put_varint(out: &mut Vec<u8>, mut v: u64) {
    while v >= 0x80 {
        out.push(v as u8 | 0x80);
        v >>= 7;
    }
    out.push(v as u8);
}

fn put_bytes(out: &mut Vec<u8>, bytes: &[u8]) {
    put_varint(out, bytes.len() as u64);
    out.extend_from_slice(bytes);
}

/// A version file's body as a table writes its entries: byte for byte what
/// `postcard::to_allocvec(&(version, entries))` gives for a delta's `Vec<(Vec<u8>,
/// Option<Vec<u8>>)>` or a snapshot's `Vec<(Vec<u8>, Vec<u8>)>`, without going through serde one
/// byte at a time (a `Vec<u8>` is a sequence to serde) or a list of copies first.
struct VersionBody {
    version: u64,
    /// A delta's values are options; a snapshot's are not.
    delta: bool,
    count: u64,
    entries: Vec<u8>,
}

impl VersionBody {
    fn new(version: u64, delta: bool) -> Self {
        VersionBody { version, delta, count: 0, entries: Vec::new() }
    }

    /// The version and the number of entries (known only now), then the entries.
    fn finish(self) -> Vec<u8> {
        let mut out = Vec::with_capacity(self.entries.len() + 20);
        put_varint(&mut out, self.version);
        put_varint(&mut out, self.count);
        out.extend_from_slice(&self.entries);
        out
    }
}

impl EntrySink for VersionBody {
    fn put(&mut self, key: &[u8], value: Option<&[u8]>) {
        self.count += 1;
        put_bytes(&mut self.entries, key);
        match (self.delta, value) {
            (true, None) => self.entries.push(0),
            (true, Some(value)) => {
                self.entries.push(1);
                put_bytes(&mut self.entries, value);
            }
            // A snapshot holds puts only.
            (false, value) => put_bytes(&mut self.entries, value.unwrap_or_default()),
        }
    }
}

fn read<T: serde::de::DeserializeOwned>(storage: &dyn Storage, path: &str, version: u64) -> Result<T, CheckpointError> {
    let bytes = storage
        .read(path)
        .map_err(storage_error)?
        .ok_or_else(|| CheckpointError::Damaged { path: path.to_string(), detail: "the file vanished while it was read".into() })?;
    decode_file(path, unframe(path, &bytes)?, version)
}

/// A state file's body: the version it was written as (so a file copied under another name is
/// caught), then its entries.
fn decode_file<T: serde::de::DeserializeOwned>(path: &str, body: &[u8], version: u64) -> Result<T, CheckpointError> {
    let damaged = |detail: String| CheckpointError::Damaged { path: path.to_string(), detail };
    let (found, entries): (u64, T) = decode(body).map_err(|e| damaged(format!("it does not decode ({e})")))?;
    if found != version {
        return Err(damaged(format!("it holds version {found} of the table, not the version {version} its name says")));
    }
    Ok(entries)
}

/// A person's summary of a state file (`N.delta` or `N.snapshot`) of the checkpoint.
pub fn describe_file(path: &str, bytes: &[u8]) -> Result<String, CheckpointError> {
    let body = unframe(path, bytes)?;
    let name = path.rsplit('/').next().unwrap_or(path);
    let (version, kind) = parse_name(name).ok_or_else(|| CheckpointError::Damaged {
        path: path.to_string(),
        detail: "its name is not `<version>.delta` or `<version>.snapshot`".into(),
    })?;
    if kind == FileKind::Snapshot {
        let snapshot: Snapshot = decode_file(path, body, version)?;
        let size: usize = snapshot.iter().map(|(k, v)| k.len() + v.len()).sum();
        Ok(format!("a snapshot: the whole table, {} entries ({size} bytes of keys and values, postcard-encoded)", snapshot.len()))
    } else {
        let delta: Delta = decode_file(path, body, version)?;
        let puts = delta.iter().filter(|(_, v)| v.is_some()).count();
        Ok(format!(
            "a delta: {puts} entries written and {} removed since the version before ({} bytes, postcard-encoded)",
            delta.len() - puts,
            body.len()
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::state::KeyedState;
    use crate::storage::MemoryStorage;
    #[cfg(target_arch = "wasm32")]
    use wasm_bindgen_test::wasm_bindgen_test as test;

    fn table(config: StateStoreConfig) -> VersionedTable {
        VersionedTable { dir: "state/0-agg/default".into(), config }
    }

    /// Runs 25 versions where version v sets key v % 7 to v and deletes key (v + 3) % 7.
    fn write_versions(storage: &mut MemoryStorage, config: StateStoreConfig) -> Vec<BTreeMap<Vec<u8>, Vec<u8>>> {
        let mut t: KeyedState<u64> = KeyedState::new();
        let mut store = TableStore::open(storage, table(config)).unwrap();
        let mut expected = vec![BTreeMap::new()];
        for v in 1..=25u64 {
            t.insert(vec![(v % 7) as u8], v);
            t.remove(&[((v + 3) % 7) as u8]);
            store.commit(storage, v, &mut t).unwrap();
            expected.push(t.encode_all().into_iter().collect());
        }
        expected
    }

    /// A table of `keys` keys written at version 1, then `versions` more versions that each change
    /// one key, reopening the store (as a restart does) halfway. Returns the versions that got a
    /// snapshot with its size, every version's entries and the size of its delta.
    fn one_change_a_version(storage: &mut MemoryStorage, config: StateStoreConfig, keys: u16, versions: u64) -> Versions {
        let mut t: KeyedState<u64> = KeyedState::new();
        let mut store = TableStore::open(storage, table(config)).unwrap();
        let (mut snapshots, mut expected, mut deltas) = (Vec::new(), vec![BTreeMap::new()], vec![0]);
        for k in 0..keys {
            t.insert(k.to_be_bytes().to_vec(), u64::from(k));
        }
        for v in 1..=versions {
            if v > 1 {
                *t.get_mut(&((v as u16) % keys).to_be_bytes()).unwrap() += 1;
            }
            if v == versions / 2 {
                store = TableStore::open(storage, table(config)).unwrap();
            }
            store.commit(storage, v, &mut t).unwrap();
            if let Some(size) = storage.size(&format!("state/0-agg/default/{v}.snapshot")).unwrap() {
                snapshots.push((v, size));
            }
            deltas.push(storage.size(&format!("state/0-agg/default/{v}.delta")).unwrap().unwrap_or(0));
            expected.push(t.encode_all().into_iter().collect());
        }
        Versions { snapshots, expected, deltas }
    }

    struct Versions {
        snapshots: Vec<(u64, u64)>,
        expected: Vec<BTreeMap<Vec<u8>, Vec<u8>>>,
        deltas: Vec<u64>,
    }

    #[test]
    fn a_big_table_that_changes_little_gets_a_snapshot_once_its_deltas_weigh_as_much() {
        let config = StateStoreConfig { snapshot_interval: 5, versions_to_retain: 4 };
        let mut storage = MemoryStorage::new();
        let Versions { snapshots, expected, deltas } = one_change_a_version(&mut storage, config, 2000, 400);
        // Snapshot every fifth version (the interval), the table's 2000 entries each time,
        // would write 80 of them for 400 one-entry deltas.
        assert!(snapshots.first().map(|s| s.0) == Some(5) && snapshots.len() <= 4, "snapshots at {snapshots:?}");
        for pair in snapshots.windows(2) {
            let written: u64 = deltas[pair[0].0 as usize + 1..=pair[1].0 as usize].iter().sum();
            // The table's keys and values weigh about half its snapshot (lengths, framing).
            assert!(written >= pair[1].1 / 2, "between {pair:?} the deltas hold {written} bytes");
        }
        for v in 400 - config.versions_to_retain..=400 {
            assert_eq!(table(config).load(&storage, v).unwrap(), expected[v as usize], "version {v}");
        }
    }

    #[test]
    fn a_snapshot_comes_at_the_latest_after_a_hundred_intervals() {
        let config = StateStoreConfig { snapshot_interval: 1, versions_to_retain: 2 };
        let mut storage = MemoryStorage::new();
        let Versions { snapshots, expected, .. } = one_change_a_version(&mut storage, config, 5000, 300);
        let versions: Vec<u64> = snapshots.iter().map(|s| s.0).collect();
        assert_eq!(versions, [1, 101, 201], "the deltas alone would wait for hundreds of versions");
        assert_eq!(table(config).load(&storage, 300).unwrap(), expected[300]);
        assert_eq!(table(config).versions(&storage).unwrap(), Some((201, 300)));
    }

    #[test]
    fn a_store_written_with_a_snapshot_every_interval_is_read_and_continued() {
        // As releases before amortised snapshots wrote it: a snapshot every fifth version.
        let config = StateStoreConfig { snapshot_interval: 5, versions_to_retain: 4 };
        let mut storage = MemoryStorage::new();
        let mut t: KeyedState<u64> = KeyedState::new();
        let mut expected = vec![BTreeMap::new()];
        for v in 1..=12u64 {
            t.insert(vec![v as u8], v);
            let delta = t.take_changes();
            storage.write(&format!("state/0-agg/default/{v}.delta"), &frame(&postcard::to_allocvec(&(v, &delta)).unwrap())).unwrap();
            if v % 5 == 0 {
                let snapshot = t.encode_all();
                storage
                    .write(&format!("state/0-agg/default/{v}.snapshot"), &frame(&postcard::to_allocvec(&(v, &snapshot)).unwrap()))
                    .unwrap();
            }
            expected.push(t.encode_all().into_iter().collect());
        }
        assert_eq!(table(config).load(&storage, 12).unwrap(), expected[12]);
        let mut store = TableStore::open(&storage, table(config)).unwrap();
        for v in 13..=30u64 {
            t.insert(vec![v as u8], v);
            store.commit(&mut storage, v, &mut t).unwrap();
            expected.push(t.encode_all().into_iter().collect());
        }
        for v in 26..=30 {
            assert_eq!(table(config).load(&storage, v).unwrap(), expected[v as usize], "version {v}");
        }
        let names = storage.list("state/0-agg/default").unwrap();
        assert!(!names.iter().any(|n| n.starts_with("5.") || n.starts_with("10.")), "files no version needs are gone: {names:?}");
    }

    #[test]
    fn files_are_encoded_as_postcard_encodes_them() {
        let long = vec![0xabu8; 20_000];
        let delta: Delta = vec![(vec![], None), (vec![1; 127], Some(vec![2; 128])), (long.clone(), Some(vec![])), (vec![3], None)];
        let snapshot: Snapshot = vec![(vec![], vec![]), (vec![1; 128], long.clone()), (long, vec![9; 300])];
        let body = |version: u64, is_delta: bool, entries: &[(&[u8], Option<&[u8]>)]| {
            let mut b = VersionBody::new(version, is_delta);
            for (k, v) in entries {
                b.put(k, *v);
            }
            b.finish()
        };
        let delta_entries: Vec<(&[u8], Option<&[u8]>)> = delta.iter().map(|(k, v)| (&k[..], v.as_deref())).collect();
        let snapshot_entries: Vec<(&[u8], Option<&[u8]>)> = snapshot.iter().map(|(k, v)| (&k[..], Some(&v[..]))).collect();
        for version in [0, 1, 127, 128, 300, 1 << 35, u64::MAX] {
            assert_eq!(body(version, true, &delta_entries), postcard::to_allocvec(&(version, &delta)).unwrap(), "delta {version}");
            assert_eq!(
                body(version, false, &snapshot_entries),
                postcard::to_allocvec(&(version, &snapshot)).unwrap(),
                "snapshot {version}"
            );
            assert_eq!(body(version, true, &[]), postcard::to_allocvec(&(version, Delta::new())).unwrap());
        }
    }

    #[test]
    fn every_retained_version_loads_as_it_was_written() {
        let config = StateStoreConfig { snapshot_interval: 5, versions_to_retain: 4 };
        let mut storage = MemoryStorage::new();
        let expected = write_versions(&mut storage, config);
        let t = table(config);
        assert_eq!(t.versions(&storage).unwrap(), Some((20, 25)), "snapshot 20 covers 21..=25; older files are gone");
        for v in 20..=25 {
            assert_eq!(t.load(&storage, v).unwrap(), expected[v as usize], "version {v}");
        }
        let names = storage.list("state/0-agg/default").unwrap();
        assert_eq!(names, ["20.snapshot", "21.delta", "22.delta", "23.delta", "24.delta", "25.delta", "25.snapshot"]);
    }

    #[test]
    fn without_snapshots_deltas_replay_from_the_start() {
        let config = StateStoreConfig { snapshot_interval: 1000, versions_to_retain: 2 };
        let mut storage = MemoryStorage::new();
        let expected = write_versions(&mut storage, config);
        assert_eq!(table(config).load(&storage, 25).unwrap(), expected[25]);
        assert_eq!(table(config).load(&storage, 3).unwrap(), expected[3]);
    }

    #[test]
    fn a_missing_delta_is_named() {
        let config = StateStoreConfig { snapshot_interval: 5, versions_to_retain: 4 };
        let mut storage = MemoryStorage::new();
        write_versions(&mut storage, config);
        storage.delete("state/0-agg/default/23.delta").unwrap();
        let err = table(config).load(&storage, 24).unwrap_err();
        assert!(matches!(&err, CheckpointError::MissingState { version: 24, missing, .. } if missing.ends_with("23.delta")), "{err:?}");
    }

    #[test]
    fn a_flipped_byte_is_caught_by_the_checksum() {
        let config = StateStoreConfig::default();
        let mut storage = MemoryStorage::new();
        write_versions(&mut storage, config);
        let path = "state/0-agg/default/25.delta";
        let mut bytes = storage.read(path).unwrap().unwrap();
        let last = bytes.len() - 1;
        bytes[last] ^= 0x01;
        storage.write(path, &bytes).unwrap();
        let err = table(config).load(&storage, 25).unwrap_err();
        assert!(matches!(&err, CheckpointError::Damaged { detail, .. } if detail.contains("checksum")), "{err:?}");
    }
}
