//! The indexes a stateful operator keeps its entries by: [`KeyIndex`] gives each distinct
//! encoded key a dense slot id (so values live in plain vectors indexed by slot, one per
//! column), and [`TimeIndex`] finds the slots whose event time the watermark has passed without
//! scanning the others.

use std::cmp::Ordering;
use std::collections::BTreeMap;

use hashbrown::HashTable;

use super::EntrySink;
use crate::hash::{hash_bytes, hash_words, key_words, KeyWords as Words, SHORT_KEY as SHORT};

/// Where a slot's key is: a short key ([`SHORT`] bytes or fewer) in the slot's inline
/// bytes, a longer one at `at` in the buffer. 8 bytes a slot.
#[derive(Debug, Clone, Copy)]
struct Span {
    at: u32,
    len: u32,
}

/// The length of a free slot's span.
const FREE: u32 = u32::MAX;

/// A short key's bytes, zero-padded.
type Inline = [u8; SHORT];

/// The words of a slot's inline bytes (fixed offsets: four loads).
#[inline]
/// Byte order, as `<[u8]>::cmp` gives it, eight bytes a compare: wasm's `memcmp` goes a byte at
/// a time, and sorting W8's 100,000 keys for a snapshot was an eighth of its write there.
pub fn compare_keys(a: &[u8], b: &[u8]) -> Ordering {
    fn word(chunk: &[u8]) -> u64 {
        let mut w = [0u8; 8];
        w.copy_from_slice(chunk);
        u64::from_be_bytes(w)
    }
    let n = a.len().min(b.len());
    let (mut wa, mut wb) = (a[..n].chunks_exact(8), b[..n].chunks_exact(8));
    for (x, y) in (&mut wa).zip(&mut wb) {
        let (x, y) = (word(x), word(y));
        if x != y {
            return x.cmp(&y);
        }
    }
    wa.remainder().cmp(wb.remainder()).then(a.len().cmp(&b.len()))
}

fn inline_words(b: &Inline) -> Words {
    let mut w = [0u64; SHORT / 8];
    for (word, bytes) in w.iter_mut().zip(b.chunks_exact(8)) {
        let mut x = [0u8; 8];
        x.copy_from_slice(bytes);
        *word = u64::from_le_bytes(x);
    }
    w
}

/// Slot ids for encoded keys. A removed key's slot is reused by a later key. Short keys (most:
/// numbers, timestamps, a window and a number) are kept in the slot itself and compared as
/// words; longer ones live in one buffer (an allocation per key would cost more than the
/// lookup), compacted when removed keys make up most of it.
#[derive(Debug, Clone, Default)]
pub struct KeyIndex {
    table: HashTable<u32>,
    arena: Vec<u8>,
    /// Slot -> where its key is; `len` is [`FREE`] for a free slot.
    spans: Vec<Span>,
    /// Slot -> its key's bytes when it is short (zeros otherwise).
    inline: Vec<Inline>,
    free: Vec<u32>,
    key_bytes: u64,
    /// Bytes of the long keys, all in `arena`.
    long_bytes: u64,
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
        self.spans.len()
    }

    /// Bytes of the live keys.
    pub fn key_bytes(&self) -> u64 {
        self.key_bytes
    }

    #[inline]
    fn key_of<'a>(arena: &'a [u8], spans: &[Span], inline: &'a [Inline], slot: u32) -> Option<&'a [u8]> {
        let span = spans.get(slot as usize).copied().filter(|s| s.len != FREE)?;
        let len = span.len as usize;
        if len <= SHORT {
            inline.get(slot as usize).map(|b| &b[..len])
        } else {
            arena.get(span.at as usize..span.at as usize + len)
        }
    }

    /// The slot holding `key` and the key's hash. A short key is found by its words (a
    /// 32-byte compare against the slot's), a longer one by its bytes in the buffer.
    #[inline]
    fn find(&self, key: &[u8]) -> (Option<u32>, u64) {
        let (arena, spans, inline) = (&self.arena, &self.spans, &self.inline);
        if key.len() <= SHORT {
            let (w, len) = (key_words(key), key.len() as u32);
            let hash = hash_words(&w, key.len());
            let same = |&s: &u32| {
                let s = s as usize;
                spans.get(s).is_some_and(|span| span.len == len) && inline.get(s).is_some_and(|b| inline_words(b) == w)
            };
            (self.table.find(hash, same).copied(), hash)
        } else {
            let hash = hash_bytes(key);
            (self.table.find(hash, |&s| Self::key_of(arena, spans, inline, s) == Some(key)).copied(), hash)
        }
    }

    pub fn get(&self, key: &[u8]) -> Option<u32> {
        self.find(key).0
    }

    /// The slot of `key`, and whether it was added now. A new key takes a free slot or the
    /// next one (then equal to [`KeyIndex::slots`] before the call).
    #[inline]
    pub fn insert(&mut self, key: &[u8]) -> (u32, bool) {
        match self.find(key) {
            (Some(slot), _) => (slot, false),
            (None, hash) => self.add(hash, key),
        }
    }

    #[inline(never)]
    fn add(&mut self, hash: u64, key: &[u8]) -> (u32, bool) {
        let mut short = [0u8; SHORT];
        let span = if key.len() <= SHORT {
            short[..key.len()].copy_from_slice(key);
            Span { at: 0, len: key.len() as u32 }
        } else {
            let at = self.arena.len() as u32;
            self.arena.extend_from_slice(key);
            self.long_bytes += key.len() as u64;
            Span { at, len: key.len() as u32 }
        };
        let slot = match self.free.pop() {
            Some(s) => {
                self.spans[s as usize] = span;
                self.inline[s as usize] = short;
                s
            }
            None => {
                self.spans.push(span);
                self.inline.push(short);
                (self.spans.len() - 1) as u32
            }
        };
        let (arena, spans, inline) = (&self.arena, &self.spans, &self.inline);
        self.table.insert_unique(hash, slot, |&s| Self::key_of(arena, spans, inline, s).map_or(0, hash_bytes));
        self.key_bytes += key.len() as u64;
        (slot, true)
    }

    /// The key of a live slot.
    #[inline]
    pub fn key(&self, slot: u32) -> Option<&[u8]> {
        Self::key_of(&self.arena, &self.spans, &self.inline, slot)
    }

    /// Frees `slot` and returns its key.
    pub fn remove(&mut self, slot: u32) -> Option<Box<[u8]>> {
        let key: Box<[u8]> = self.key(slot)?.into();
        if let Ok(entry) = self.table.find_entry(hash_bytes(&key), |&s| s == slot) {
            entry.remove();
        }
        self.spans[slot as usize] = Span { at: 0, len: FREE };
        self.inline[slot as usize] = [0; SHORT];
        self.free.push(slot);
        self.key_bytes -= key.len() as u64;
        if key.len() > SHORT {
            self.long_bytes -= key.len() as u64;
            if self.arena.len() > 4096 && self.long_bytes < self.arena.len() as u64 / 4 {
                self.compact();
            }
        }
        Some(key)
    }

    /// Copies the live long keys into a new buffer, dropping the removed ones.
    fn compact(&mut self) {
        let mut arena = Vec::with_capacity(self.long_bytes as usize * 2);
        for span in self.spans.iter_mut().filter(|s| s.len != FREE && s.len as usize > SHORT) {
            let (at, len) = (span.at as usize, span.len as usize);
            span.at = arena.len() as u32;
            arena.extend_from_slice(&self.arena[at..at + len]);
        }
        self.arena = arena;
    }

    /// The live slots, in slot order.
    pub fn live(&self) -> impl Iterator<Item = u32> + '_ {
        self.spans.iter().enumerate().filter(|(_, k)| k.len != FREE).map(|(s, _)| s as u32)
    }

    /// The live slots in key order: what a person reads the state in, and how versions are written.
    pub fn sorted(&self) -> Vec<u32> {
        let mut slots: Vec<u32> = self.live().collect();
        self.sort(&mut slots);
        slots
    }

    /// Puts `slots` in their keys' byte order. Each is sorted with its key's first eight bytes
    /// beside it, so most compares are of two integers in hand rather than two keys looked up
    /// (sorting was a fifth of W8's write natively).
    pub fn sort(&self, slots: &mut [u32]) {
        let head = |slot: u32| {
            let key = self.key(slot).unwrap_or_default();
            let mut w = [0u8; 8];
            let n = key.len().min(8);
            w[..n].copy_from_slice(&key[..n]);
            u64::from_be_bytes(w)
        };
        let mut keyed: Vec<(u64, u32)> = slots.iter().map(|&s| (head(s), s)).collect();
        // Equal heads: keys alike in their first eight bytes (or zero-padded to them) go on.
        keyed.sort_unstable_by(|a, b| a.0.cmp(&b.0).then_with(|| self.compare(a.1, b.1)));
        for (slot, (_, s)) in slots.iter_mut().zip(keyed) {
            *slot = s;
        }
    }

    /// Two slots by their keys' bytes (a free slot, keyless, first).
    pub fn compare(&self, a: u32, b: u32) -> Ordering {
        match (self.key(a), self.key(b)) {
            (Some(x), Some(y)) => compare_keys(x, y),
            (x, y) => x.cmp(&y),
        }
    }

    /// Writes every live key with its value as `encode(slot, buf)` writes it (into a cleared
    /// buffer), in key order: a table's snapshot.
    pub fn write_sorted(&self, mut encode: impl FnMut(u32, &mut Vec<u8>), out: &mut dyn EntrySink) {
        let mut buf = Vec::new();
        for slot in self.sorted() {
            buf.clear();
            encode(slot, &mut buf);
            out.put(self.key(slot).unwrap_or_default(), Some(&buf));
        }
    }

    pub fn clear(&mut self) {
        *self = KeyIndex::default();
    }

    /// Bytes the index holds beyond the keys themselves, for the state's size.
    pub fn overhead_bytes(&self) -> u64 {
        let table = self.table.capacity() * (std::mem::size_of::<u32>() + 1);
        let spans = self.spans.capacity() * std::mem::size_of::<Span>();
        let inline = self.inline.capacity() * std::mem::size_of::<Inline>();
        ((table + spans + inline + self.arena.capacity()) as u64).saturating_sub(self.key_bytes)
    }
}

/// How many removed entries a version keeps for a person to see what the watermark evicted.
pub const EVICTED_SHOWN: usize = 20;

/// What changed in a slot-indexed table since the last version written, and the table's size as
/// written: the bookkeeping every such table needs to write its versions as deltas.
#[derive(Debug, Clone, Default)]
pub struct ChangeLog {
    dirty: Vec<bool>,
    dirty_slots: Vec<u32>,
    /// Keys removed since the last version.
    removed: Vec<Box<[u8]>>,
    /// Each slot's encoded size as of the last version written, and their sum.
    encoded_len: Vec<u32>,
    encoded_bytes: u64,
    evicting: Vec<String>,
    evicted: Vec<String>,
}

impl ChangeLog {
    /// Marks `slot` changed (growing the log to hold it).
    #[inline]
    pub fn mark(&mut self, slot: u32) {
        let s = slot as usize;
        if s >= self.dirty.len() {
            self.dirty.resize(s + 1, false);
            self.encoded_len.resize(s + 1, 0);
        }
        if !self.dirty[s] {
            self.dirty[s] = true;
            self.dirty_slots.push(slot);
        }
    }

    /// Whether a removed entry would still be shown among the evicted ones.
    pub fn shows_more(&self) -> bool {
        self.evicting.len() < EVICTED_SHOWN
    }

    /// Records the removal of `key` from `slot`; `shown` is the entry as JSON, when [`ChangeLog::shows_more`].
    pub fn removed(&mut self, slot: u32, key: Box<[u8]>, shown: Option<String>) {
        if let Some(len) = self.encoded_len.get_mut(slot as usize) {
            self.encoded_bytes -= u64::from(std::mem::take(len));
        }
        self.removed.push(key);
        if let Some(s) = shown.filter(|_| self.shows_more()) {
            self.evicting.push(s);
        }
    }

    /// The changes since the last version, encoded by `encode(slot, buf)`: deletes first, so a
    /// key removed and added again in one version ends up present.
    pub fn write(&mut self, index: &KeyIndex, mut encode: impl FnMut(u32, &mut Vec<u8>), out: &mut dyn EntrySink) {
        self.evicted = std::mem::take(&mut self.evicting);
        for key in self.removed.drain(..) {
            out.put(&key, None);
        }
        let mut buf = Vec::new();
        let mut dirty = std::mem::take(&mut self.dirty_slots);
        for slot in dirty.drain(..) {
            self.dirty[slot as usize] = false;
            let Some(key) = index.key(slot) else { continue };
            buf.clear();
            encode(slot, &mut buf);
            let len = &mut self.encoded_len[slot as usize];
            self.encoded_bytes = self.encoded_bytes - u64::from(*len) + buf.len() as u64;
            *len = buf.len() as u32;
            out.put(key, Some(&buf));
        }
        // Its capacity stays for the next version.
        self.dirty_slots = dirty;
    }

    /// Records `slot` as read back from a checkpoint, `len` bytes encoded: nothing to write for it.
    pub fn loaded(&mut self, slot: u32, len: usize) {
        self.mark(slot);
        self.dirty[slot as usize] = false;
        // `mark` pushed it last, unless it was marked before.
        if self.dirty_slots.last() == Some(&slot) {
            self.dirty_slots.pop();
        } else {
            self.dirty_slots.retain(|&s| s != slot);
        }
        self.encoded_len[slot as usize] = len as u32;
        self.encoded_bytes += len as u64;
    }

    /// Encoded bytes of the values as of the last version written.
    pub fn encoded_bytes(&self) -> u64 {
        self.encoded_bytes
    }

    /// The entries the last version removed, as JSON (the first [`EVICTED_SHOWN`]).
    pub fn evicted(&self) -> &[String] {
        &self.evicted
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
        // Removing most keys compacts the buffer; the rest are still found.
        for i in (1..9_000u32).step_by(2) {
            ix.remove(i);
        }
        assert!(ix.arena.len() < 4 * 1_000 * 4 + 4096, "{}", ix.arena.len());
        assert!((9_001..10_000u32).step_by(2).all(|i| ix.get(&i.to_le_bytes()) == Some(i) && ix.key(i) == Some(&i.to_le_bytes()[..])));
        assert_eq!(ix.len(), 500);
    }

    /// Keys longer than the inline bytes live in the buffer, which is compacted when most of
    /// it is removed keys; short and long keys mix in one index.
    #[test]
    fn long_keys_live_in_the_buffer_and_survive_its_compaction() {
        let mut ix = KeyIndex::new();
        let long = |i: u32| [i.to_le_bytes().as_slice(), &[7u8; 36]].concat();
        for i in 0..2_000u32 {
            assert_eq!(ix.insert(&long(i)), (2 * i, true));
            assert_eq!(ix.insert(&i.to_le_bytes()), (2 * i + 1, true));
        }
        for i in 0..1_900u32 {
            ix.remove(2 * i);
        }
        assert!(ix.arena.len() < 4 * 100 * 40 + 4096, "compacted: {}", ix.arena.len());
        assert!((1_900..2_000u32).all(|i| ix.get(&long(i)) == Some(2 * i) && ix.key(2 * i) == Some(&long(i)[..])));
        assert!((0..2_000u32).all(|i| ix.get(&i.to_le_bytes()) == Some(2 * i + 1)));
        assert_eq!(ix.get(&long(5)), None);
    }

    /// What the index costs beyond the keys themselves: a 26-byte key (a window and a number,
    /// as grouping encodes it) takes its slot's 8-byte span and 32 inline bytes, and the
    /// table's share (issue 11's budget for all of a key's overhead is 64 bytes).
    #[test]
    fn a_short_key_costs_under_48_bytes_beyond_itself() {
        let mut ix = KeyIndex::new();
        for k in 0..100_000i64 {
            let mut key = vec![1u8];
            key.extend_from_slice(&(k / 1000).to_le_bytes());
            key.extend_from_slice(&(k / 1000 + 60).to_le_bytes());
            key.push(1);
            key.extend_from_slice(&k.to_le_bytes());
            ix.insert(&key);
        }
        let per_key = ix.overhead_bytes() as f64 / ix.len() as f64;
        assert!(per_key < 48.0, "{per_key} bytes a key");
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

    /// `per` keys of each length below `lengths`, of three byte values (0, `step`, 2 `step`)
    /// only, so they share long prefixes and differ late.
    fn keys_alike(lengths: usize, per: usize, step: u8) -> Vec<Vec<u8>> {
        let mut x: u64 = 0x9e37_79b9_7f4a_7c15;
        let mut next = move || {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            (x % 3) as u8 * step
        };
        (0..lengths).flat_map(|len| std::iter::repeat_n(len, per)).map(|len| (0..len).map(|_| next()).collect()).collect()
    }

    #[test]
    fn slots_sort_in_their_keys_byte_order() {
        let mut ix = KeyIndex::default();
        let mut keys = vec![vec![], vec![0], vec![0, 0], vec![7; 8], vec![7; 9], vec![7; 40]];
        keys.extend(keys_alike(24, 5, 1));
        keys.sort();
        keys.dedup();
        let slots: Vec<u32> = keys.iter().rev().map(|k| ix.insert(k).0).collect();
        let mut sorted = slots.clone();
        ix.sort(&mut sorted);
        let in_order: Vec<&[u8]> = sorted.iter().map(|&s| ix.key(s).unwrap()).collect();
        assert_eq!(in_order, keys.iter().map(Vec::as_slice).collect::<Vec<_>>());
        assert_eq!(ix.sorted(), sorted);
    }

    #[test]
    fn keys_compare_in_byte_order() {
        let mut keys: Vec<Vec<u8>> = vec![vec![], vec![0], vec![0, 0], vec![255], vec![1; 8], vec![1; 9], vec![1; 16], vec![1; 17]];
        keys.extend(keys_alike(40, 6, 127));
        for a in &keys {
            for b in &keys {
                assert_eq!(compare_keys(a, b), a.cmp(b), "{a:?} against {b:?}");
            }
        }
    }
}
