//! Where a producer puts a message: Kafka's default partitioner.

/// Kafka's `Utils.murmur2` (the Java client's), bit for bit: the hash the default partitioner
/// uses for a keyed message.
pub fn murmur2(data: &[u8]) -> i32 {
    const SEED: u32 = 0x9747_b28c;
    const M: u32 = 0x5bd1_e995;
    const R: u32 = 24;
    let len = data.len();
    let mut h: u32 = SEED ^ (len as u32);
    let mut chunks = data.chunks_exact(4);
    for c in &mut chunks {
        let mut k = u32::from_le_bytes([c[0], c[1], c[2], c[3]]);
        k = k.wrapping_mul(M);
        k ^= k >> R;
        k = k.wrapping_mul(M);
        h = h.wrapping_mul(M);
        h ^= k;
    }
    let rest = chunks.remainder();
    if !rest.is_empty() {
        for (i, b) in rest.iter().enumerate().rev() {
            h ^= (*b as u32) << (8 * i);
        }
        h = h.wrapping_mul(M);
    }
    h ^= h >> 13;
    h = h.wrapping_mul(M);
    h ^= h >> 15;
    h as i32
}

/// The partition of a keyed message among `partitions`: `toPositive(murmur2(key)) % n`, as
/// Kafka's `BuiltInPartitioner.partitionForKey`.
pub fn partition_for_key(key: &[u8], partitions: u32) -> u32 {
    ((murmur2(key) & 0x7fff_ffff) as u32) % partitions.max(1)
}

/// Unkeyed messages go round-robin (FORMAT.md's rule: Kafka's own sticky partitioner depends
/// on batching timings a scenario cannot state).
#[derive(Debug, Default, Clone)]
pub struct RoundRobin {
    next: u32,
}

impl RoundRobin {
    pub fn next(&mut self, partitions: u32) -> u32 {
        let p = self.next % partitions.max(1);
        self.next = self.next.wrapping_add(1);
        p
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Kafka's own test vectors (`UtilsTest.testMurmur2` in apache/kafka).
    #[test]
    fn murmur2_matches_kafkas_test_vectors() {
        let cases: [(&[u8], i32); 6] = [
            (b"21", -973932308),
            (b"foobar", -790332482),
            (b"a-little-bit-long-string", -985981536),
            (b"a-little-bit-longer-string", -1486304829),
            (b"lkjh234lh9fiuh90y23oiuhsafujhadof229phr9h19h89h8", -58897971),
            (b"abc", 479470107),
        ];
        for (data, want) in cases {
            assert_eq!(murmur2(data), want, "{}", String::from_utf8_lossy(data));
        }
    }

    #[test]
    fn a_key_always_lands_in_the_same_partition_and_within_range() {
        for key in ["d1", "d2", "sensor-7", ""] {
            let p = partition_for_key(key.as_bytes(), 3);
            assert!(p < 3);
            assert_eq!(p, partition_for_key(key.as_bytes(), 3));
        }
        // toPositive, not abs: murmur2("foobar") is negative.
        assert_eq!(partition_for_key(b"foobar", 1000), ((-790332482i32) & 0x7fff_ffff) as u32 % 1000);
    }

    #[test]
    fn unkeyed_messages_go_round_robin() {
        let mut rr = RoundRobin::default();
        let got: Vec<u32> = (0..5).map(|_| rr.next(3)).collect();
        assert_eq!(got, vec![0, 1, 2, 0, 1]);
    }
}
