//! The in-memory table a stateful operator works on: a sorted map from encoded key to value that
//! remembers which keys changed since the last version, so a version is written as a delta.

use std::collections::{btree_map, BTreeMap, BTreeSet};

use serde::de::DeserializeOwned;
use serde::Serialize;

use super::{EntrySink, StateTable};

#[derive(Debug, Clone)]
struct Slot<V> {
    value: V,
    /// Encoded size as of the last version written (0 until then).
    encoded_len: u32,
}

/// A key-value state table with change tracking. Keys are the operators' order-preserving
/// encodings (`ops::keys`); values are encoded with postcard when a version is written.
#[derive(Debug, Clone)]
pub struct KeyedState<V> {
    map: BTreeMap<Vec<u8>, Slot<V>>,
    changed: BTreeSet<Vec<u8>>,
    encoded_bytes: u64,
    /// The keys' bytes, kept as keys come and go: the size is read after every batch.
    key_bytes: u64,
    /// The first few entries removed since the last version, as JSON, for a person to see what
    /// the watermark evicted; and those of the last version written.
    evicting: Vec<String>,
    evicted: Vec<String>,
}

/// How many evicted entries a version keeps for display.
const EVICTED_SHOWN: usize = 20;

impl<V> Default for KeyedState<V> {
    fn default() -> Self {
        KeyedState {
            map: BTreeMap::new(),
            changed: BTreeSet::new(),
            encoded_bytes: 0,
            key_bytes: 0,
            evicting: Vec::new(),
            evicted: Vec::new(),
        }
    }
}

impl<V: Serialize> KeyedState<V> {
    pub fn new() -> Self {
        KeyedState::default()
    }

    pub fn len(&self) -> usize {
        self.map.len()
    }

    pub fn is_empty(&self) -> bool {
        self.map.is_empty()
    }

    fn touch(&mut self, key: &[u8]) {
        if !self.changed.contains(key) {
            self.changed.insert(key.to_vec());
        }
    }

    pub fn get(&self, key: &[u8]) -> Option<&V> {
        self.map.get(key).map(|s| &s.value)
    }

    pub fn contains_key(&self, key: &[u8]) -> bool {
        self.map.contains_key(key)
    }

    /// The value to change in place; the key counts as changed.
    pub fn get_mut(&mut self, key: &[u8]) -> Option<&mut V> {
        if !self.map.contains_key(key) {
            return None;
        }
        self.touch(key);
        self.map.get_mut(key).map(|s| &mut s.value)
    }

    /// The value under `key`, inserting `make()` first when there is none; the key counts as changed.
    pub fn get_or_insert_with(&mut self, key: &[u8], make: impl FnOnce() -> V) -> &mut V {
        self.touch(key);
        if !self.map.contains_key(key) {
            self.map.insert(key.to_vec(), Slot { value: make(), encoded_len: 0 });
            self.key_bytes += key.len() as u64;
        }
        &mut self.map.get_mut(key).expect("inserted above").value
    }

    pub fn insert(&mut self, key: Vec<u8>, value: V) -> Option<V> {
        self.touch(&key);
        match self.map.entry(key) {
            btree_map::Entry::Occupied(mut e) => Some(std::mem::replace(&mut e.get_mut().value, value)),
            btree_map::Entry::Vacant(e) => {
                self.key_bytes += e.key().len() as u64;
                e.insert(Slot { value, encoded_len: 0 });
                None
            }
        }
    }

    /// Removes `key`, and shows its value among what the last version evicted.
    pub fn remove(&mut self, key: &[u8]) -> Option<V> {
        let value = self.forget(key)?;
        self.note_evicted(&value);
        Some(value)
    }

    /// Removes `key` without showing its value as evicted (the caller showed its parts).
    pub fn forget(&mut self, key: &[u8]) -> Option<V> {
        let slot = self.map.remove(key)?;
        self.touch(key);
        self.encoded_bytes -= u64::from(slot.encoded_len);
        self.key_bytes -= key.len() as u64;
        Some(slot.value)
    }

    /// Shows `item` among what the last version evicted (the first `EVICTED_SHOWN` are kept).
    pub fn note_evicted(&mut self, item: &impl Serialize) {
        if self.evicting.len() < EVICTED_SHOWN {
            self.evicting.push(serde_json::to_string(item).unwrap_or_default());
        }
    }

    /// Removes and returns every entry `remove` picks, in key order.
    pub fn remove_where(&mut self, mut remove: impl FnMut(&V) -> bool) -> Vec<(Vec<u8>, V)> {
        let keys: Vec<Vec<u8>> = self.map.iter().filter(|(_, s)| remove(&s.value)).map(|(k, _)| k.clone()).collect();
        keys.into_iter().filter_map(|k| self.remove(&k).map(|v| (k, v))).collect()
    }

    pub fn iter(&self) -> impl Iterator<Item = (&Vec<u8>, &V)> {
        self.map.iter().map(|(k, s)| (k, &s.value))
    }

    pub fn values(&self) -> impl Iterator<Item = &V> {
        self.map.values().map(|s| &s.value)
    }

    /// Every value, to change in place: all keys count as changed.
    pub fn values_mut(&mut self) -> impl Iterator<Item = &mut V> {
        self.changed.extend(self.map.keys().cloned());
        self.map.values_mut().map(|s| &mut s.value)
    }
}

impl<V> std::ops::Index<&[u8]> for KeyedState<V> {
    type Output = V;

    /// The value under `key`; like a map's index, panics when there is none.
    fn index(&self, key: &[u8]) -> &V {
        &self.map[key].value
    }
}

fn encode<V: Serialize>(value: &V) -> Vec<u8> {
    // Encoding plain data into a Vec cannot fail: every state type derives Serialize.
    postcard::to_allocvec(value).unwrap_or_default()
}

impl<V: Serialize + DeserializeOwned> StateTable for KeyedState<V> {
    fn write_changes(&mut self, out: &mut dyn EntrySink) {
        self.evicted = std::mem::take(&mut self.evicting);
        for key in std::mem::take(&mut self.changed) {
            match self.map.get_mut(&key) {
                Some(slot) => {
                    let bytes = encode(&slot.value);
                    self.encoded_bytes = self.encoded_bytes - u64::from(slot.encoded_len) + bytes.len() as u64;
                    slot.encoded_len = bytes.len() as u32;
                    out.put(&key, Some(&bytes));
                }
                None => out.put(&key, None),
            }
        }
    }

    fn write_all(&self, out: &mut dyn EntrySink) {
        for (k, s) in &self.map {
            out.put(k, Some(&encode(&s.value)));
        }
    }

    fn load(&mut self, entries: BTreeMap<Vec<u8>, Vec<u8>>) -> Result<(), String> {
        let mut map = BTreeMap::new();
        let mut bytes = 0;
        for (key, encoded) in entries {
            let value: V = super::bounded::decode(&encoded).map_err(|e| format!("a value does not decode ({e})"))?;
            bytes += encoded.len() as u64;
            map.insert(key, Slot { value, encoded_len: encoded.len() as u32 });
        }
        let key_bytes = map.keys().map(|k| k.len() as u64).sum();
        *self = KeyedState { map, encoded_bytes: bytes, key_bytes, ..KeyedState::default() };
        Ok(())
    }

    fn sample(&self, limit: usize) -> Vec<String> {
        self.map.values().take(limit).map(|s| serde_json::to_string(&s.value).unwrap_or_default()).collect()
    }

    fn evicted(&self) -> &[String] {
        &self.evicted
    }

    fn rows(&self) -> u64 {
        self.map.len() as u64
    }

    fn bytes(&self) -> u64 {
        self.encoded_bytes + self.key_bytes
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    #[cfg(target_arch = "wasm32")]
    use wasm_bindgen_test::wasm_bindgen_test as test;

    #[test]
    fn changes_are_what_moved_since_the_last_version() {
        let mut t: KeyedState<(String, i64)> = KeyedState::new();
        t.insert(b"a".to_vec(), ("a".into(), 1));
        t.insert(b"b".to_vec(), ("b".into(), 2));
        let first = t.take_changes();
        assert_eq!(first.len(), 2);
        assert!(t.take_changes().is_empty(), "nothing changed since");
        t.get_mut(b"a").unwrap().1 += 10;
        t.remove(b"b");
        let _ = t.get(b"a");
        let changes = t.take_changes();
        assert_eq!(changes, vec![(b"a".to_vec(), Some(postcard::to_allocvec(&("a", 11i64)).unwrap())), (b"b".to_vec(), None)]);
        let mut restored: KeyedState<(String, i64)> = KeyedState::new();
        restored.load(t.encode_all().into_iter().collect()).unwrap();
        assert_eq!(restored.get(b"a"), Some(&("a".to_string(), 11)));
        assert_eq!(restored.rows(), 1);
        assert_eq!(restored.bytes(), t.bytes());
    }

    #[test]
    fn the_size_follows_keys_and_values_as_they_come_and_go() {
        let mut t: KeyedState<i64> = KeyedState::new();
        t.insert(b"abc".to_vec(), 1);
        *t.get_or_insert_with(b"de", || 2) += 1;
        t.insert(b"abc".to_vec(), 5);
        t.take_changes();
        let encoded = |v: i64| postcard::to_allocvec(&v).unwrap().len() as u64;
        assert_eq!(t.bytes(), 3 + 2 + encoded(5) + encoded(3));
        t.remove(b"abc");
        t.take_changes();
        assert_eq!(t.bytes(), 2 + encoded(3));
        t.forget(b"de");
        t.take_changes();
        assert_eq!((t.bytes(), t.rows()), (0, 0));
    }

    #[test]
    fn a_value_that_does_not_decode_is_refused() {
        let mut t: KeyedState<(String, i64)> = KeyedState::new();
        let err = t.load([(b"k".to_vec(), vec![0xff, 0xff, 0xff])].into_iter().collect()).unwrap_err();
        assert!(err.contains("does not decode"), "{err}");
    }
}
