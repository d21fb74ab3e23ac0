//! `percentile_approx`'s state: Spark's QuantileSummaries (a Greenwald-Khanna sketch) step for
//! step, so the answers are Spark's and not merely within its error bound. Spark summarises each
//! micro-batch's rows on their own (the partial aggregate, compressed when it is shipped), then
//! merges that summary into the group's state (the restored state first, then the new rows); the
//! values of a batch wait in `pending` until the batch ends and take the same path here.

use serde::{Deserialize, Serialize};

/// Spark's `QuantileSummaries.defaultHeadSize`: values buffered before they enter the samples.
const HEAD_SIZE: usize = 50_000;
/// Spark's `defaultCompressThreshold`: samples kept before an insert compresses them.
const COMPRESS_THRESHOLD: usize = 10_000;

/// One sample: a value, the least rank step from the previous sample (`g`) and the rank
/// uncertainty (`delta`), as in the G-K paper.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
struct Stats {
    value: f64,
    g: i64,
    delta: i64,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
struct Summary {
    sampled: Vec<Stats>,
    count: i64,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Quantiles {
    summary: Summary,
    /// This batch's values, not summarised yet.
    pending: Vec<f64>,
}

impl Quantiles {
    pub fn add(&mut self, v: f64) {
        self.pending.push(v);
    }

    /// Ends a batch: its values become one summary, merged into the state's.
    pub fn seal(&mut self, eps: f64) {
        if self.pending.is_empty() {
            return;
        }
        let partial = summarise(&std::mem::take(&mut self.pending), eps);
        self.summary = merge(std::mem::take(&mut self.summary), partial, eps);
    }

    /// Merges `later` (another group's state, as sessions merge) into this one.
    pub fn merge(&mut self, mut later: Quantiles, eps: f64) {
        self.seal(eps);
        later.seal(eps);
        self.summary = merge(std::mem::take(&mut self.summary), later.summary, eps);
    }

    /// Whether a state read back from a checkpoint is one this sketch can have made: samples in
    /// order, positive weights summing to the count.
    pub fn is_consistent(&self) -> bool {
        let s = &self.summary.sampled;
        s.windows(2).all(|w| w[0].value.total_cmp(&w[1].value).is_le() || w[0].value <= w[1].value)
            && s.iter().all(|x| x.g > 0 && x.delta >= 0)
            && s.iter().try_fold(0i64, |n, x| n.checked_add(x.g)) == Some(self.summary.count)
            && self.pending.len() <= HEAD_SIZE * 1024
    }

    /// The value at each percentile, in their order; None when no value was seen.
    pub fn query(&self, percentiles: &[f64], eps: f64) -> Option<Vec<f64>> {
        let mut done = self.clone();
        done.seal(eps);
        query(&done.summary, percentiles, eps)
    }
}

/// A batch's values as Spark's partial aggregate summarises them: inserted one by one (every
/// HEAD_SIZE values enter the samples), then compressed.
fn summarise(values: &[f64], eps: f64) -> Summary {
    let mut s = Summary::default();
    for chunk in values.chunks(HEAD_SIZE) {
        if chunk.len() < HEAD_SIZE {
            return compress(with_head(s, chunk, eps), eps);
        }
        s = with_head(s, chunk, eps);
        if s.sampled.len() >= COMPRESS_THRESHOLD {
            s = compress(s, eps);
        }
    }
    compress(s, eps)
}

/// Spark's `withHeadBufferInserted`: the buffered values, sorted, join the samples.
fn with_head(s: Summary, head: &[f64], eps: f64) -> Summary {
    if head.is_empty() {
        return s;
    }
    let mut sorted = head.to_vec();
    sorted.sort_by(f64::total_cmp);
    let mut count = s.count;
    let mut out = Vec::with_capacity(s.sampled.len() + sorted.len());
    let mut next = 0;
    for (k, &x) in sorted.iter().enumerate() {
        while next < s.sampled.len() && s.sampled[next].value <= x {
            out.push(s.sampled[next]);
            next += 1;
        }
        count += 1;
        let delta = if out.is_empty() || (next == s.sampled.len() && k == sorted.len() - 1) {
            0
        } else {
            (2.0 * eps * count as f64).floor() as i64
        };
        out.push(Stats { value: x, g: 1, delta });
    }
    out.extend_from_slice(&s.sampled[next..]);
    Summary { sampled: out, count }
}

fn compress(s: Summary, eps: f64) -> Summary {
    let threshold = 2.0 * eps * s.count as f64;
    Summary { sampled: compress_samples(&s.sampled, threshold), count: s.count }
}

/// Spark's `compressImmut`: from the end, folds a sample into the next one while their
/// combined weight stays under `threshold`; the first and last samples stay.
fn compress_samples(samples: &[Stats], threshold: f64) -> Vec<Stats> {
    let Some(&last) = samples.last() else { return Vec::new() };
    if samples.len() == 1 {
        return vec![last];
    }
    let mut reversed = Vec::with_capacity(samples.len());
    let mut head = last;
    for &s in samples[1..samples.len() - 1].iter().rev() {
        if ((s.g + head.g + head.delta) as f64) < threshold {
            head.g += s.g;
        } else {
            reversed.push(head);
            head = s;
        }
    }
    reversed.push(head);
    if samples.len() > 1 && samples[0].value <= head.value {
        reversed.push(samples[0]);
    }
    reversed.reverse();
    reversed
}

/// Spark's `QuantileSummaries.merge` (`a` is the receiving side).
fn merge(a: Summary, b: Summary, eps: f64) -> Summary {
    if b.count == 0 {
        return a;
    }
    if a.count == 0 {
        return b;
    }
    let count = a.count + b.count;
    let extra_a = (2.0 * eps * b.count as f64).floor() as i64;
    let extra_b = (2.0 * eps * a.count as f64).floor() as i64;
    let mut out = Vec::with_capacity(a.sampled.len() + b.sampled.len());
    let (mut i, mut j) = (0, 0);
    while i < a.sampled.len() && j < b.sampled.len() {
        let (x, y) = (a.sampled[i], b.sampled[j]);
        // A sample that interleaves the other side takes on its uncertainty.
        if x.value < y.value {
            i += 1;
            out.push(Stats { delta: x.delta + if j > 0 { extra_a } else { 0 }, ..x });
        } else {
            j += 1;
            out.push(Stats { delta: y.delta + if i > 0 { extra_b } else { 0 }, ..y });
        }
    }
    out.extend_from_slice(&a.sampled[i..]);
    out.extend_from_slice(&b.sampled[j..]);
    Summary { sampled: compress_samples(&out, 2.0 * eps * count as f64), count }
}

/// Spark's `query(percentiles)`: one pass over the samples for the sorted percentiles.
fn query(s: &Summary, percentiles: &[f64], eps: f64) -> Option<Vec<f64>> {
    let first = s.sampled.first()?;
    let last = s.sampled.last()?;
    let target_error = (s.sampled.iter().map(|x| x.delta + x.g).max().unwrap_or(0) / 2) as f64;
    let mut order: Vec<usize> = (0..percentiles.len()).collect();
    order.sort_by(|&x, &y| percentiles[x].total_cmp(&percentiles[y]));
    let mut out = vec![0.0; percentiles.len()];
    let (mut index, mut min_rank) = (0usize, first.g);
    for k in order {
        let p = percentiles[k];
        out[k] = if p <= eps {
            first.value
        } else if p >= 1.0 - eps {
            last.value
        } else {
            let rank = (p * s.count as f64).ceil() as i64 as f64;
            let mut i = index;
            let mut rank_at = min_rank;
            let mut found = None;
            while i < s.sampled.len() - 1 {
                let cur = s.sampled[i];
                if (rank_at + cur.delta) as f64 - target_error <= rank && rank <= rank_at as f64 + target_error {
                    found = Some(cur.value);
                    break;
                }
                i += 1;
                rank_at += s.sampled[i].g;
            }
            match found {
                Some(v) => {
                    (index, min_rank) = (i, rank_at);
                    v
                }
                None => {
                    (index, min_rank) = (s.sampled.len() - 1, 0);
                    last.value
                }
            }
        };
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    #[cfg(target_arch = "wasm32")]
    use wasm_bindgen_test::wasm_bindgen_test as test;

    fn of(values: &[f64]) -> Quantiles {
        let mut q = Quantiles::default();
        values.iter().for_each(|v| q.add(*v));
        q
    }

    #[test]
    fn small_inputs_are_exact_at_the_rank() {
        // Spark: percentile_approx(col, array(0.5, 0.4, 0.1), 100) over 0, 1, 2, 10 is [1, 1, 0].
        assert_eq!(of(&[10.0, 0.0, 2.0, 1.0]).query(&[0.5, 0.4, 0.1], 0.01), Some(vec![1.0, 1.0, 0.0]));
        assert_eq!(of(&[0.0, 6.0, 7.0, 9.0, 10.0]).query(&[0.5], 0.01), Some(vec![7.0]));
        assert_eq!(Quantiles::default().query(&[0.5], 0.01), None);
    }

    #[test]
    fn batches_merge_and_compress_as_spark_does() {
        let eps = 0.01;
        let mut q = Quantiles::default();
        for batch in 0..4 {
            for k in 0..60 {
                q.add(((k * 37 + batch * 11) % 101) as f64);
            }
            q.seal(eps);
        }
        assert_eq!(q.summary.count, 240);
        // Compression kept fewer samples than values, the extremes among them.
        assert!(q.summary.sampled.len() < 240);
        assert_eq!(q.summary.sampled.first().map(|s| s.value), Some(0.0));
        assert_eq!(q.summary.sampled.last().map(|s| s.value), Some(100.0));
        let weight: i64 = q.summary.sampled.iter().map(|s| s.g).sum();
        assert_eq!(weight, 240, "the weights still count every value");
        // A restored state (serialised between batches) answers the same.
        let back: Quantiles = postcard::from_bytes(&postcard::to_allocvec(&q).unwrap()).unwrap();
        assert_eq!(back.query(&[0.25, 0.5, 0.75], eps), q.query(&[0.25, 0.5, 0.75], eps));
        let mid = q.query(&[0.5], eps).unwrap()[0];
        assert!((40.0..=60.0).contains(&mid), "{mid}");
    }

    #[test]
    fn compressing_keeps_the_first_and_last_samples() {
        let s = |value: f64| Stats { value, g: 1, delta: 0 };
        let out = compress_samples(&[s(1.0), s(2.0), s(3.0), s(4.0)], 10.0);
        assert_eq!(out.first().map(|x| x.value), Some(1.0));
        assert_eq!(out.last().map(|x| x.value), Some(4.0));
        assert_eq!(out.iter().map(|x| x.g).sum::<i64>(), 4);
        assert!(compress_samples(&[], 1.0).is_empty());
        assert_eq!(compress_samples(&[s(5.0)], 1.0), vec![s(5.0)]);
    }
}
