//! Versions of a state table in the checkpoint, as Spark's HDFS-backed provider keeps them:
//! every version `v` is a delta (`v.delta`: the puts and deletes since `v - 1`), every
//! `snapshot_interval`-th version also a full snapshot (`v.snapshot`). Loading version `v` reads
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
use super::StateTable;
use crate::checkpoint::{frame, unframe, CheckpointError};
use crate::storage::{join, Storage};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StateStoreConfig {
    /// A full snapshot every this many versions.
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
        join(&self.dir, &format!("{version}.{}", if kind == FileKind::Delta { "delta" } else { "snapshot" }))
    }

    /// Writes version `version` of `table`: its changes since the last version, and a snapshot
    /// when one is due; then removes what no retained version needs.
    pub fn commit(&self, storage: &mut dyn Storage, version: u64, table: &mut dyn StateTable) -> Result<(), CheckpointError> {
        let delta: Delta = table.take_changes();
        let body = postcard::to_allocvec(&(version, &delta)).map_err(|e| CheckpointError::Internal(e.to_string()))?;
        storage.write(&self.path(version, FileKind::Delta), &frame(&body)).map_err(storage_error)?;
        if version % self.config.snapshot_interval == 0 {
            let snapshot: Snapshot = table.encode_all();
            let body = postcard::to_allocvec(&(version, &snapshot)).map_err(|e| CheckpointError::Internal(e.to_string()))?;
            storage.write(&self.path(version, FileKind::Snapshot), &frame(&body)).map_err(storage_error)?;
        }
        self.clean(storage, version.saturating_sub(self.config.versions_to_retain))
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

impl VersionedTable {
    /// Deletes the files that loading `keep_from` and every later version does not read: all
    /// below the newest snapshot at or below `keep_from`.
    fn clean(&self, storage: &mut dyn Storage, keep_from: u64) -> Result<(), CheckpointError> {
        let files = self.files(storage)?;
        let Some(base) = files.iter().filter(|(v, k)| *k == FileKind::Snapshot && *v <= keep_from).map(|(v, _)| *v).next_back() else {
            return Ok(());
        };
        for (v, kind) in files {
            if v < base || (v == base && kind == FileKind::Delta) {
                storage.delete(&self.path(v, kind)).map_err(storage_error)?;
            }
        }
        Ok(())
    }
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
        let mut expected = vec![BTreeMap::new()];
        for v in 1..=25u64 {
            t.insert(vec![(v % 7) as u8], v);
            t.remove(&[((v + 3) % 7) as u8]);
            table(config).commit(storage, v, &mut t).unwrap();
            expected.push(t.encode_all().into_iter().collect());
        }
        expected
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
