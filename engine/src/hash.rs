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

/// The hash of an encoded key (its length too, so a key and its zero-padded extension differ):
/// foldhash, which folds 128-bit products of 16 bytes at a time (already in the bundle through
/// serde_json). Fx hashes a word per dependent multiply and leaves the low bits, from which a
/// hash table picks its bucket, depending on the last word only: 1,000 window-and-key group keys
/// (26 bytes) fell into 327 of 2,048 buckets.
pub fn hash_bytes(bytes: &[u8]) -> u64 {
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
    }

    #[test]
    fn keys_that_differ_only_in_trailing_zeros_hash_apart() {
        assert_ne!(hash_bytes(&[1]), hash_bytes(&[1, 0]));
        assert_eq!(hash_bytes(b"abcdefghij"), hash_bytes(b"abcdefghij"));
    }
}
