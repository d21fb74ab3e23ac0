//! rustc's FxHasher: one multiply per word. State tables hash their encoded keys with it, and
//! the benchmark's hand loops use it too, so the two are measured on the same hash.

use std::collections::{HashMap, HashSet};
use std::hash::{BuildHasherDefault, Hasher};

#[derive(Default, Clone, Copy)]
pub struct FxHasher(u64);

const SEED: u64 = 0x51_7c_c1_b7_27_22_0a_95;

impl Hasher for FxHasher {
    fn write(&mut self, bytes: &[u8]) {
        let mut chunks = bytes.chunks_exact(8);
        for chunk in &mut chunks {
            let mut word = [0u8; 8];
            word.copy_from_slice(chunk);
            self.write_u64(u64::from_le_bytes(word));
        }
        let rest = chunks.remainder();
        if !rest.is_empty() {
            let mut word = [0u8; 8];
            word[..rest.len()].copy_from_slice(rest);
            self.write_u64(u64::from_le_bytes(word));
        }
    }
    fn write_u64(&mut self, i: u64) {
        self.0 = (self.0.rotate_left(5) ^ i).wrapping_mul(SEED);
    }
    fn write_i64(&mut self, i: i64) {
        self.write_u64(i as u64);
    }
    fn finish(&self) -> u64 {
        self.0
    }
}

pub type FxBuildHasher = BuildHasherDefault<FxHasher>;
pub type FxHashMap<K, V> = HashMap<K, V, FxBuildHasher>;
pub type FxHashSet<K> = HashSet<K, FxBuildHasher>;

/// Hashes an encoded key (`[u8]`) with [`hash_bytes`]: for hash maps keyed by encoded keys
/// outside a key index (the sink's upserts, a join's probe), where Fx crowds keys that differ
/// only in their high bytes into a few buckets.
#[derive(Default, Clone, Copy)]
pub struct KeyHasher(u64);

impl Hasher for KeyHasher {
    fn write(&mut self, bytes: &[u8]) {
        self.0 = self.0.rotate_left(23) ^ hash_bytes(bytes);
    }
    // A slice writes its length first (one multiply more a key); a `usize` key is its only write.
    fn write_usize(&mut self, n: usize) {
        self.0 = fold(self.0 ^ n as u64 ^ K[0], K[1]);
    }
    fn finish(&self) -> u64 {
        self.0
    }
}

pub type KeyBuildHasher = BuildHasherDefault<KeyHasher>;
/// A hash map keyed by encoded keys.
pub type KeyHashMap<K, V> = HashMap<K, V, KeyBuildHasher>;
pub type KeyHashSet<K> = HashSet<K, KeyBuildHasher>;

/// Keys of at most this many bytes hash (and compare, in a key index) as words.
pub const SHORT_KEY: usize = 32;

/// A short key as little-endian words, zero-padded (its length is hashed and compared apart).
pub type KeyWords = [u64; SHORT_KEY / 8];

/// `key` (at most [`SHORT_KEY`] bytes) as words. Whole words are loaded as they are and a
/// tail from the last eight bytes, shifted (a copy into a padded buffer would call memcpy
/// once a lookup).
#[inline]
pub fn key_words(key: &[u8]) -> KeyWords {
    let load = |at: usize| {
        let mut b = [0u8; 8];
        b.copy_from_slice(&key[at..at + 8]);
        u64::from_le_bytes(b)
    };
    let mut w = [0u64; SHORT_KEY / 8];
    let (full, rest) = (key.len() / 8, key.len() % 8);
    for (j, word) in w.iter_mut().enumerate().take(full) {
        *word = load(8 * j);
    }
    if rest > 0 {
        w[full] = if key.len() >= 8 {
            load(key.len() - 8) >> (8 * (8 - rest))
        } else {
            key.iter().rev().fold(0u64, |acc, &b| (acc << 8) | u64::from(b))
        };
    }
    w
}

/// The high and low halves of a 128-bit product folded together: every input bit moves many
/// output bits, low ones included (what foldhash does 16 bytes at a time).
#[cfg(any(not(target_arch = "wasm32"), test))]
#[inline]
fn fold_wide(a: u64, b: u64) -> u64 {
    let p = u128::from(a) * u128::from(b);
    (p as u64) ^ ((p >> 64) as u64)
}

/// Two 64-bit multiplies with xor-shifts between: wasm has no 64 x 64 -> 128 multiply, and
/// `__multi3` is a call and four of them (a twentieth of W8 there). Mixes as well for a bucket.
#[cfg(any(target_arch = "wasm32", test))]
#[inline]
fn fold_narrow(a: u64, b: u64) -> u64 {
    let mut h = a.wrapping_mul(0x9e37_79b9_7f4a_7c15) ^ b;
    h ^= h >> 29;
    h = h.wrapping_mul(0xd6e8_feb8_6659_fd93);
    h ^ (h >> 32)
}

// Hashes stay in memory (a key index's buckets), so the two targets need not agree.
#[cfg(target_arch = "wasm32")]
use fold_narrow as fold;
#[cfg(not(target_arch = "wasm32"))]
use fold_wide as fold;

const K: [u64; 6] = [
    0x243f_6a88_85a3_08d3,
    0x1319_8a2e_0370_7344,
    0xa409_3822_299f_31d0,
    0x082e_fa98_ec4e_6c89,
    0x4528_21e6_38d0_1377,
    0xbe54_66cf_34e9_0c6c,
];

/// The hash of a short key from its words and length: three independent multiplies.
#[inline]
pub fn hash_words(w: &KeyWords, len: usize) -> u64 {
    let a = fold(w[0] ^ K[0], w[1] ^ K[1]);
    let b = fold(w[2] ^ K[2], w[3] ^ K[3] ^ len as u64);
    fold(a ^ K[4], b ^ K[5])
}

/// The hash of an encoded key (its length too, so a key and its zero-padded extension differ).
/// A short key hashes as words ([`hash_words`]); a longer one with foldhash (already in the
/// bundle through serde_json). Fx hashes a word per dependent multiply and leaves the low bits,
/// from which a hash table picks its bucket, depending on the last word only: 1,000
/// window-and-key group keys (26 bytes) fell into 327 of 2,048 buckets.
#[inline]
pub fn hash_bytes(bytes: &[u8]) -> u64 {
    if bytes.len() <= SHORT_KEY {
        return hash_words(&key_words(bytes), bytes.len());
    }
    use std::hash::BuildHasher;
    let mut h = foldhash::fast::FixedState::with_seed(0x51_7c_c1_b7_27_22_0a_95).build_hasher();
    h.write(bytes);
    h.write_usize(bytes.len());
    h.finish()
}

#[cfg(test)]
mod tests {
    use super::*;
    #[cfg(target_arch = "wasm32")]
    use wasm_bindgen_test::wasm_bindgen_test as test;

    #[test]
    fn fx_hashes_words_and_bytes_alike() {
        let mut a = FxHasher::default();
        a.write_u64(42);
        let mut b = FxHasher::default();
        b.write(&42u64.to_le_bytes());
        assert_eq!(a.finish(), b.finish());
        assert_ne!(a.finish(), FxHasher::default().finish());
    }

    #[test]
    fn both_folds_spread_keys_over_the_buckets() {
        for (name, f) in [("wide", fold_wide as fn(u64, u64) -> u64), ("narrow", fold_narrow)] {
            let hash = |w: [u64; 4], len: u64| f(f(w[0] ^ K[0], w[1] ^ K[1]) ^ K[4], f(w[2] ^ K[2], w[3] ^ K[3] ^ len) ^ K[5]);
            let windows: HashSet<u64> = (0..1_000u64).map(|k| hash([0x1234_5601, 0x1234_5602, k << 8 | 1, 0], 26) & 2047).collect();
            let small: HashSet<u64> = (0..1_000u64).map(|k| hash([k, 0, 0, 0], 8) & 2047).collect();
            let high: HashSet<u64> = (0..1_000u64).map(|k| hash([k << 40, 0, 0, 0], 8) & 2047).collect();
            for (what, b) in [("window keys", windows), ("small numbers", small), ("high bytes", high)] {
                assert!(b.len() > 750, "{name} fold: {what} used only {} of 2048 buckets", b.len());
            }
        }
    }

    #[test]
    fn key_hasher_hashes_a_slice_by_its_bytes() {
        use std::hash::{BuildHasher, Hash};
        let h = |b: &[u8]| KeyBuildHasher::default().hash_one(b);
        assert_eq!(h(b"abc"), h(&b"abc".to_vec()[..]));
        assert_ne!(h(b"abc"), h(b"abd"));
        assert_ne!(h(b""), h(b"\0"));
        let mut boxed = KeyHasher::default();
        Box::<[u8]>::from(&b"abc"[..]).hash(&mut boxed);
        assert_eq!(boxed.finish(), h(b"abc"));
    }

    #[test]
    fn keys_that_differ_only_above_their_low_bits_spread_over_the_buckets() {
        // Window-and-key group keys as ops::keys encodes them: [1, start, end, 1, k].
        let mut buckets = std::collections::HashSet::new();
        for k in 0..1_000i64 {
            let mut key = vec![1u8];
            key.extend_from_slice(&1_767_225_600_000_000i64.to_le_bytes());
            key.extend_from_slice(&1_767_225_660_000_000i64.to_le_bytes());
            key.push(1);
            key.extend_from_slice(&k.to_le_bytes());
            buckets.insert(hash_bytes(&key) & 2047);
        }
        // 1,000 keys into 2,048 buckets: about 790 distinct when the hash is uniform (Fx: 327).
        assert!(buckets.len() > 750, "only {} buckets used", buckets.len());
        // And keys of one number only, which differ in their low bytes alone.
        let small: std::collections::HashSet<u64> = (0..1_000i64).map(|k| hash_bytes(&k.to_le_bytes()) & 2047).collect();
        assert!(small.len() > 750, "only {} buckets used", small.len());
    }

    #[test]
    fn short_keys_read_as_little_endian_words() {
        let key: Vec<u8> = (1..=27).collect();
        let w = key_words(&key);
        assert_eq!(w[0], u64::from_le_bytes([1, 2, 3, 4, 5, 6, 7, 8]));
        assert_eq!(w[3], u64::from_le_bytes([25, 26, 27, 0, 0, 0, 0, 0]));
        assert_eq!(key_words(&[]), [0; 4]);
        assert_eq!(key_words(&[1, 2, 3]), [0x030201, 0, 0, 0]);
        assert_eq!(key_words(&[1, 2, 3, 4, 5, 6, 7, 8, 9]), [0x0807060504030201, 9, 0, 0]);
        assert_eq!(key_words(&[9; 32])[3], u64::from_le_bytes([9; 8]));
    }

    #[test]
    fn keys_that_differ_only_in_trailing_zeros_hash_apart() {
        assert_ne!(hash_bytes(&[1]), hash_bytes(&[1, 0]));
        assert_ne!(hash_bytes(&[0; 32]), hash_bytes(&[0; 31]));
        assert_ne!(hash_bytes(&[7; 33]), hash_bytes(&[7; 32]));
        assert_eq!(hash_bytes(b"abcdefghij"), hash_bytes(b"abcdefghij"));
    }
}
