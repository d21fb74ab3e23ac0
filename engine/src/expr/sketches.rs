//! The deterministic summaries some aggregates keep, bit for bit as Spark builds them:
//! `count_min_sketch`'s table (Spark's `CountMinSketchImpl` and its serialized form),
//! `histogram_numeric`'s bins (Hive's `NumericHistogram`, which Spark copies) and the 4096-byte
//! bitmaps of `bitmap_construct_agg` / `bitmap_or_agg` / `bitmap_and_agg`. Both sketches draw
//! from `java.util.Random`, so that is here too.

use serde::{Deserialize, Serialize};

/// `java.util.Random`: the 48-bit linear congruential generator Spark's sketches seed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct JavaRandom(u64);

const MULTIPLIER: u64 = 0x5DEECE66D;
const MASK: u64 = (1 << 48) - 1;

impl JavaRandom {
    pub fn new(seed: i64) -> JavaRandom {
        JavaRandom((seed as u64 ^ MULTIPLIER) & MASK)
    }

    fn next(&mut self, bits: u32) -> i32 {
        self.0 = (self.0.wrapping_mul(MULTIPLIER).wrapping_add(0xB)) & MASK;
        (self.0 >> (48 - bits)) as i32
    }

    /// `nextInt(bound)` for a positive bound.
    pub fn next_int(&mut self, bound: i32) -> i32 {
        let m = bound - 1;
        let mut r = self.next(31);
        if bound & m == 0 {
            return ((i64::from(bound) * i64::from(r)) >> 31) as i32;
        }
        let mut u = r;
        loop {
            r = u % bound;
            if u.wrapping_sub(r).wrapping_add(m) >= 0 {
                return r;
            }
            u = self.next(31);
        }
    }

    pub fn next_double(&mut self) -> f64 {
        let high = i64::from(self.next(26)) << 27;
        (high + i64::from(self.next(27))) as f64 * (1.0 / (1u64 << 53) as f64)
    }
}

/// The largest count-min table this engine keeps per group (8 MiB of counts): Spark would build
/// any size; a bigger one is refused when the query is analyzed, never half built.
pub const COUNT_MIN_MAX_CELLS: i64 = 1 << 20;

/// A count-min sketch's table, as Spark's `CountMinSketchImpl` keeps it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CountMin {
    pub total: i64,
    pub depth: i32,
    pub width: i32,
    pub hash_a: Vec<i64>,
    /// `depth` rows of `width` counts, row after row.
    pub table: Vec<i64>,
}

/// Spark's table size for a relative error and a confidence: `ceil(2 / eps)` columns and
/// `ceil(-ln(1 - confidence) / ln 2)` rows.
pub fn count_min_shape(eps: f64, confidence: f64) -> (i64, i64) {
    let width = (2.0 / eps).ceil();
    let depth = (-(1.0 - confidence).ln() / 2f64.ln()).ceil();
    let clamp = |x: f64| if x.is_finite() && x < i32::MAX as f64 { x as i64 } else { i64::MAX };
    (clamp(width), clamp(depth))
}

impl CountMin {
    pub fn new(depth: i32, width: i32, seed: i32) -> CountMin {
        let mut r = JavaRandom::new(i64::from(seed));
        let hash_a = (0..depth).map(|_| i64::from(r.next_int(i32::MAX))).collect();
        CountMin { total: 0, depth, width, hash_a, table: vec![0; depth.max(0) as usize * width.max(0) as usize] }
    }

    /// Whether the table's sizes agree with each other (read back from a checkpoint).
    pub fn is_consistent(&self) -> bool {
        self.depth > 0
            && self.width > 0
            && self.hash_a.len() == self.depth as usize
            && self.table.len() == self.depth as usize * self.width as usize
    }

    /// `addLong`: an integral item.
    pub fn add_long(&mut self, item: i64) {
        for i in 0..self.depth as usize {
            let mut hash = self.hash_a[i].wrapping_mul(item);
            hash = hash.wrapping_add(hash >> 32);
            hash &= (1 << 31) - 1;
            let bucket = (hash as i32) % self.width;
            self.table[i * self.width as usize + bucket as usize] += 1;
        }
        self.total += 1;
    }

    /// `addBinary`: a string's UTF-8 bytes or a binary value.
    pub fn add_bytes(&mut self, item: &[u8]) {
        use super::functions::murmur::hash_bytes;
        let hash1 = hash_bytes(item, 0);
        let hash2 = hash_bytes(item, hash1);
        for i in 0..self.depth {
            let bucket = (hash1.wrapping_add(i.wrapping_mul(hash2)) % self.width).unsigned_abs() as usize;
            self.table[i as usize * self.width as usize + bucket] += 1;
        }
        self.total += 1;
    }

    /// Adds another sketch of the same shape and seed, cell by cell.
    pub fn merge(&mut self, other: &CountMin) -> Result<(), String> {
        if (other.depth, other.width, &other.hash_a) != (self.depth, self.width, &self.hash_a) {
            return Err("count-min sketches of different shapes cannot be merged".into());
        }
        for (a, b) in self.table.iter_mut().zip(&other.table) {
            *a = a.wrapping_add(*b);
        }
        self.total = self.total.wrapping_add(other.total);
        Ok(())
    }

    /// Spark's serialized sketch (`CountMinSketch.toByteArray`): version 1, the total, the
    /// sizes, the hash coefficients and the table, all big-endian.
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(20 + 8 * (self.hash_a.len() + self.table.len()));
        out.extend_from_slice(&1i32.to_be_bytes());
        out.extend_from_slice(&self.total.to_be_bytes());
        out.extend_from_slice(&self.depth.to_be_bytes());
        out.extend_from_slice(&self.width.to_be_bytes());
        for x in self.hash_a.iter().chain(&self.table) {
            out.extend_from_slice(&x.to_be_bytes());
        }
        out
    }
}

/// The seed of every `NumericHistogram`'s tie-breaking generator.
const HISTOGRAM_SEED: i64 = 31183;

/// Hive's `NumericHistogram` (Ben-Haim and Tom-Tov's streaming histogram): at most `bins`
/// (x, y) bins in ascending x; a new value joins its equal bin or becomes one, and the two
/// closest bins merge while there are too many (a tie broken by the seeded generator, as Hive).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Histogram {
    pub bins: Vec<(f64, f64)>,
    random: JavaRandom,
}

impl Default for Histogram {
    fn default() -> Self {
        Histogram { bins: Vec::new(), random: JavaRandom::new(HISTOGRAM_SEED) }
    }
}

impl Histogram {
    pub fn add(&mut self, v: f64, max_bins: usize) {
        // The bin to insert before (Hive's binary search; an equal bin stops it).
        let (mut l, mut r, mut bin) = (0, self.bins.len(), 0);
        while l < r {
            bin = (l + r) / 2;
            if self.bins[bin].0 > v {
                r = bin;
            } else if self.bins[bin].0 < v {
                bin += 1;
                l = bin;
            } else {
                break;
            }
        }
        if bin < self.bins.len() && self.bins[bin].0 == v {
            self.bins[bin].1 += 1.0;
        } else {
            self.bins.insert(bin, (v, 1.0));
            self.trim(max_bins);
        }
    }

    /// Hive's `merge`: into an empty histogram a copy; else both sets of bins sorted by x
    /// together (a stable sort, this one's first) and trimmed.
    pub fn merge(&mut self, other: &Histogram, max_bins: usize) {
        if other.bins.is_empty() {
            return;
        }
        if self.bins.is_empty() {
            self.bins = other.bins.clone();
            return;
        }
        self.bins.extend_from_slice(&other.bins);
        self.bins.sort_by(|a, b| a.0.total_cmp(&b.0));
        self.trim(max_bins);
    }

    fn trim(&mut self, max_bins: usize) {
        while self.bins.len() > max_bins.max(1) {
            let mut smallest = self.bins[1].0 - self.bins[0].0;
            let (mut at, mut count) = (0, 1u32);
            for i in 1..self.bins.len() - 1 {
                let diff = self.bins[i + 1].0 - self.bins[i].0;
                if diff < smallest {
                    (smallest, at, count) = (diff, i, 1);
                } else if diff == smallest {
                    // Java's `diff == smallest && prng.nextDouble() <= 1.0 / ++count`.
                    let draw = self.random.next_double();
                    count += 1;
                    if draw <= 1.0 / f64::from(count) {
                        at = i;
                    }
                }
            }
            let (x2, y2) = self.bins.remove(at + 1);
            let (x, y) = &mut self.bins[at];
            let d = *y + y2;
            *x *= *y / d;
            *x += x2 / d * y2;
            *y = d;
        }
    }

    /// A histogram whose tie-breaking generator starts afresh, as Spark's deserialized buffer.
    pub fn reseeded(&self) -> Histogram {
        Histogram { bins: self.bins.clone(), random: JavaRandom::new(HISTOGRAM_SEED) }
    }
}

/// The bytes of Spark's bitmaps: 32768 bits.
pub const BITMAP_BYTES: usize = 4096;

#[cfg(test)]
mod tests {
    use super::*;
    #[cfg(target_arch = "wasm32")]
    use wasm_bindgen_test::wasm_bindgen_test as test;

    fn hex(b: &[u8]) -> String {
        b.iter().map(|x| format!("{x:02X}")).collect()
    }

    #[test]
    fn java_random_draws_what_java_draws() {
        // new Random(1).nextInt(Integer.MAX_VALUE) is 0x5D8D6AB9 (Spark's count-min coefficient).
        assert_eq!(JavaRandom::new(1).next_int(i32::MAX), 0x5D8D6AB9);
        // new Random(42): nextInt(10) = 0, nextDouble() = 0.05466526274716077; new Random(31183).nextDouble() = 0.10748527202486546.
        let mut r = JavaRandom::new(42);
        assert_eq!(r.next_int(10), 0);
        assert_eq!(r.next_double(), 0.05466526274716077);
        assert_eq!(JavaRandom::new(31183).next_double(), 0.10748527202486546);
    }

    #[test]
    fn count_min_sketches_serialize_as_spark() {
        // Spark 4.3: hex(count_min_sketch(col, 0.5d, 0.5d, 1)) over 1, 2, 1 and over 'a', 'bc', 'a'.
        let (w, d) = count_min_shape(0.5, 0.5);
        let mut s = CountMin::new(d as i32, w as i32, 1);
        for x in [1, 2, 1] {
            s.add_long(x);
        }
        assert_eq!(
            hex(&s.to_bytes()),
            "0000000100000000000000030000000100000004000000005D8D6AB90000000000000000000000000000000200000000000000010000000000000000"
        );
        let mut s = CountMin::new(d as i32, w as i32, 1);
        for x in ["a", "bc", "a"] {
            s.add_bytes(x.as_bytes());
        }
        assert_eq!(
            hex(&s.to_bytes()),
            "0000000100000000000000030000000100000004000000005D8D6AB90000000000000001000000000000000200000000000000000000000000000000"
        );
        // count_min_sketch(col, 0.3d, 0.7d, -3) over X'0102', X''.
        let (w, d) = count_min_shape(0.3, 0.7);
        let mut s = CountMin::new(d as i32, w as i32, -3);
        s.add_bytes(&[1, 2]);
        s.add_bytes(&[]);
        assert_eq!(hex(&s.to_bytes()), "0000000100000000000000020000000200000007000000002266D76C000000007D22DD0100000000000000010000000000000000000000000000000000000000000000000000000000000001000000000000000000000000000000000000000000000001000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000001");
    }

    #[test]
    fn histograms_bin_as_spark() {
        let bins = |values: &[f64], n: usize| {
            let mut h = Histogram::default();
            for v in values {
                h.add(*v, n);
            }
            h.bins
        };
        // Spark 4.3's histogram_numeric(col, 3) over 0, 1, 2, 10, 11, 3, 3, 20, 4 (x shown as INT).
        let b = bins(&[0.0, 1.0, 2.0, 10.0, 11.0, 3.0, 3.0, 20.0, 4.0], 3);
        assert_eq!(b.iter().map(|(x, y)| (*x as i64, *y)).collect::<Vec<_>>(), vec![(2, 6.0), (10, 2.0), (20, 1.0)]);
        assert_eq!(bins(&[0.5, 1.0, 2.0, 2.5, 2.0], 2), vec![(0.75, 2.0), (2.1666666666666665, 3.0)]);
        let b = bins(&[0.0, 1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0], 2);
        assert_eq!(b.iter().map(|(x, y)| (*x as i64, *y)).collect::<Vec<_>>(), vec![(1, 3.0), (5, 5.0)]);
        let b = bins(&(1..=10).map(f64::from).collect::<Vec<_>>(), 3);
        assert_eq!(b.iter().map(|(x, y)| (*x as i64, *y)).collect::<Vec<_>>(), vec![(2, 3.0), (4, 2.0), (8, 5.0)]);
    }
}
