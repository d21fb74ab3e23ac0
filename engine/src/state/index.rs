//! The indexes a stateful operator keeps its entries by: [`KeyIndex`] gives each distinct
//! encoded key a dense slot id (so values live in plain vectors indexed by slot, one per
//! column), and [`TimeIndex`] finds the slots whose event time the watermark has passed without
//! scanning the others.

use std::collections::BTreeMap;

use hashbrown::HashTable;

use crate::hash::hash_bytes;

/// Slot ids for encoded keys. A removed key's slot is reused by a later key.
#[derive(Debug, Clone, Default)]
pub struct KeyIndex {
    table: HashTable<u32>,
    /// Slot -> its key; None for a free slot.
    keys: Vec<Option<Box<[u8]>>>,
    free: Vec<u32>,
    key_bytes: u64,
}

impl KeyIndex {
    pub fn new() -> Self {
        KeyIndex::default()
    }

    /// Live keys.
    pub fn len(&self) -> usize {
        self.table.len()
    }

    pub fn is_empty(&self) -> bool {
        self.table.is_empty()
    }

    /// One past the largest slot id in use: per-slot vectors are this long.
    pub fn slots(&self) -> usize {
        self.keys.len()
    }

    /// Bytes of the live keys.
    pub fn key_bytes(&self) -> u64 {
        self.key_bytes
    }

    pub fn get(&self, key: &[u8]) -> Option<u32> {
        let keys = &self.keys;
        self.table.find(hash_bytes(key), |&s| keys[s as usize].as_deref() == Some(key)).copied()
    }

    /// The slot of `key`, and whether it was added now. A new key takes a free slot or the
    /// next one (then equal to [`KeyIndex::slots`] before the call).
    pub fn insert(&mut self, key: &[u8]) -> (u32, bool) {
        let hash = hash_bytes(key);
        let keys = &self.keys;
        if let Some(&slot) = self.table.find(hash, |&s| keys[s as usize].as_deref() == Some(key)) {
            return (slot, false);
        }
        let slot = match self.free.pop() {
            Some(s) => {
                self.keys[s as usize] = Some(key.into());
                s
            }
            None => {
                self.keys.push(Some(key.into()));
                (self.keys.len() - 1) as u32
            }
        };
        let keys = &self.keys;
        self.table.insert_unique(hash, slot, |&s| keys[s as usize].as_deref().map_or(0, hash_bytes));
        self.key_bytes += key.len() as u64;
        (slot, true)
    }

    /// The key of a live slot.
    pub fn key(&self, slot: u32) -> Option<&[u8]> {
        self.keys.get(slot as usize)?.as_deref()
    }

    /// Frees `slot` and returns its key.
    pub fn remove(&mut self, slot: u32) -> Option<Box<[u8]>> {
        let key = self.keys.get_mut(slot as usize)?.take()?;
        if let Ok(entry) = self.table.find_entry(hash_bytes(&key), |&s| s == slot) {
            entry.remove();
        }
        self.free.push(slot);
        self.key_bytes -= key.len() as u64;
        Some(key)
    }

    /// The live slots, in slot order.
    pub fn live(&self) -> impl Iterator<Item = u32> + '_ {
        self.keys.iter().enumerate().filter(|(_, k)| k.is_some()).map(|(s, _)| s as u32)
    }

    /// The live slots in key order: what a person reads the state in, and how versions are written.
    pub fn sorted(&self) -> Vec<u32> {
        let mut slots: Vec<u32> = self.live().collect();
        slots.sort_unstable_by(|&a, &b| self.keys[a as usize].cmp(&self.keys[b as usize]));
        slots
    }

    pub fn clear(&mut self) {
        *self = KeyIndex::default();
    }
}

/// Slots by event time, to close and evict in time order.
#[derive(Debug, Clone, Default)]
pub struct TimeIndex {
    by_time: BTreeMap<i64, Vec<u32>>,
}

impl TimeIndex {
    pub fn insert(&mut self, time: i64, slot: u32) {
        self.by_time.entry(time).or_default().push(slot);
    }

    /// Removes and returns the (time, slot) pairs with a time at or before `bound`, oldest
    /// first (slots of one time in the order they were inserted).
    pub fn take_through(&mut self, bound: i64) -> Vec<(i64, u32)> {
        let mut out = Vec::new();
        while let Some(entry) = self.by_time.first_entry() {
            if *entry.key() > bound {
                break;
            }
            let time = *entry.key();
            out.extend(entry.remove().into_iter().map(|s| (time, s)));
        }
        out
    }

    pub fn clear(&mut self) {
        self.by_time.clear();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    #[cfg(target_arch = "wasm32")]
    use wasm_bindgen_test::wasm_bindgen_test as test;

    #[test]
    fn keys_get_dense_slots_and_freed_slots_are_reused() {
        let mut ix = KeyIndex::new();
        assert_eq!(ix.insert(b"a"), (0, true));
        assert_eq!(ix.insert(b"bb"), (1, true));
        assert_eq!(ix.insert(b"a"), (0, false));
        assert_eq!((ix.len(), ix.key_bytes()), (2, 3));
        assert_eq!(ix.remove(0).as_deref(), Some(&b"a"[..]));
        assert_eq!(ix.get(b"a"), None);
        assert_eq!(ix.insert(b"c"), (0, true), "the free slot is taken");
        assert_eq!(ix.get(b"bb"), Some(1));
        assert_eq!(ix.sorted(), vec![1, 0], "bb sorts before c");
        assert_eq!(ix.remove(7), None);
    }

    #[test]
    fn many_keys_survive_the_table_growing() {
        let mut ix = KeyIndex::new();
        for i in 0..10_000u32 {
            assert_eq!(ix.insert(&i.to_le_bytes()), (i, true));
        }
        for i in (0..10_000u32).step_by(2) {
            ix.remove(i);
        }
        assert!((1..10_000u32).step_by(2).all(|i| ix.get(&i.to_le_bytes()) == Some(i)));
        assert_eq!(ix.len(), 5_000);
    }

    #[test]
    fn times_come_out_oldest_first_up_to_the_bound() {
        let mut t = TimeIndex::default();
        for (time, slot) in [(30, 1), (10, 2), (20, 3), (10, 4)] {
            t.insert(time, slot);
        }
        assert_eq!(t.take_through(20), vec![(10, 2), (10, 4), (20, 3)]);
        assert_eq!(t.take_through(25), vec![]);
        assert_eq!(t.take_through(30), vec![(30, 1)]);
    }
}
