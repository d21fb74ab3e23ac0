//! How much one micro-batch reads from a topic: Spark's `KafkaMicroBatchStream.latestOffset`
//! with its read limits (`maxOffsetsPerTrigger`, `minOffsetsPerTrigger` + `maxTriggerDelay`).

use super::offsets::PartitionOffsets;

/// Spark's `rateLimit`: `limit` offsets split across the partitions in proportion to what
/// each has waiting; a partition whose share is below one still gets one ("don't completely
/// starve small topicpartitions"), so a batch may read a little more than `limit`; no
/// partition reads past its end.
pub fn rate_limit(limit: i64, from: &PartitionOffsets, until: &PartitionOffsets) -> PartitionOffsets {
    let sizes: Vec<(u32, i64, i64)> = until
        .0
        .iter()
        .filter_map(|(p, end)| {
            let begin = from.get(*p)?;
            let size = end - begin;
            (size > 0).then_some((*p, begin, size))
        })
        .collect();
    let total: f64 = sizes.iter().map(|(_, _, s)| *s as f64).sum();
    if total < 1.0 {
        return until.clone();
    }
    let mut out = until.clone();
    for (p, begin, size) in sizes {
        let prorate = limit as f64 * (size as f64 / total);
        let share = if prorate < 1.0 { prorate.ceil() } else { prorate.floor() } as i64;
        let end = until.get(p).unwrap_or(begin);
        out.0.insert(p, begin.saturating_add(share).min(end));
    }
    out
}

/// `minOffsetsPerTrigger` with `maxTriggerDelay`: a trigger with fewer new offsets than the
/// minimum is skipped, unless the delay has passed since the last batch that ran.
#[derive(Debug, Clone, PartialEq)]
pub struct MinOffsets {
    pub min: i64,
    pub max_delay_ms: i64,
    /// When the last batch was let through; `None` before the first. Spark starts this at 0
    /// and compares with the wall clock, so its first trigger always runs: `None` does too.
    pub last_trigger_ms: Option<i64>,
}

impl MinOffsets {
    /// Spark's default `maxTriggerDelay` is 15 minutes.
    pub const DEFAULT_DELAY_MS: i64 = 15 * 60 * 1000;

    pub fn new(min: i64, max_delay_ms: i64) -> Self {
        MinOffsets { min, max_delay_ms, last_trigger_ms: None }
    }

    /// Spark's `delayBatch`: whether this trigger reads nothing.
    pub fn delay(&mut self, now_ms: i64, from: &PartitionOffsets, latest: &PartitionOffsets) -> bool {
        let waited_enough = self.last_trigger_ms.is_none_or(|last| now_ms - last >= self.max_delay_ms);
        if waited_enough || from.count_until(latest) >= self.min {
            self.last_trigger_ms = Some(now_ms);
            return false;
        }
        true
    }
}

/// The end offsets of the next batch: everything for `once`-like reads, or what the limits allow.
pub fn plan_end(
    from: &PartitionOffsets,
    latest: &PartitionOffsets,
    max_offsets: Option<i64>,
    min_offsets: Option<&mut MinOffsets>,
    now_ms: i64,
) -> PartitionOffsets {
    if let Some(min) = min_offsets {
        if min.delay(now_ms, from, latest) {
            return from.clone();
        }
    }
    match max_offsets {
        Some(limit) => rate_limit(limit, from, latest),
        None => latest.clone(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn offs(pairs: &[(u32, i64)]) -> PartitionOffsets {
        PartitionOffsets(pairs.iter().copied().collect())
    }

    #[test]
    fn the_limit_is_split_in_proportion_to_what_waits() {
        // 60, 30 and 10 waiting, limit 10: 6, 3 and 1.
        let got = rate_limit(10, &offs(&[(0, 0), (1, 0), (2, 0)]), &offs(&[(0, 60), (1, 30), (2, 10)]));
        assert_eq!(got, offs(&[(0, 6), (1, 3), (2, 1)]));
    }

    #[test]
    fn a_small_partition_is_never_starved_so_a_batch_may_exceed_the_limit() {
        // Shares 9.9 and 0.099...: floor 9 and ceil 1.
        let got = rate_limit(10, &offs(&[(0, 0), (1, 0)]), &offs(&[(0, 1000), (1, 10)]));
        assert_eq!(got, offs(&[(0, 9), (1, 1)]));
        // Limit 1 over three equal partitions: each share 1/3 rounds up to 1: three offsets.
        let got = rate_limit(1, &offs(&[(0, 0), (1, 0), (2, 0)]), &offs(&[(0, 5), (1, 5), (2, 5)]));
        assert_eq!(got, offs(&[(0, 1), (1, 1), (2, 1)]));
    }

    #[test]
    fn nothing_waiting_or_a_limit_above_what_waits_reads_to_the_end() {
        let from = offs(&[(0, 4), (1, 2)]);
        assert_eq!(rate_limit(10, &from, &from), from);
        let until = offs(&[(0, 6), (1, 3)]);
        assert_eq!(rate_limit(100, &from, &until), until);
    }

    #[test]
    fn min_offsets_delay_until_enough_or_the_delay_passed() {
        let mut min = MinOffsets::new(5, 1000);
        let from = offs(&[(0, 0)]);
        // The first trigger always runs, as in Spark.
        assert!(!min.delay(0, &from, &offs(&[(0, 1)])));
        assert!(min.delay(500, &from, &offs(&[(0, 4)])));
        assert!(!min.delay(600, &from, &offs(&[(0, 5)])));
        assert!(min.delay(1000, &from, &offs(&[(0, 1)])));
        assert!(!min.delay(1600, &from, &offs(&[(0, 1)])), "the delay since the last batch passed");
    }

    #[test]
    fn plan_end_combines_min_and_max() {
        let from = offs(&[(0, 0), (1, 0)]);
        let latest = offs(&[(0, 50), (1, 50)]);
        let mut min = MinOffsets::new(10, 60_000);
        assert_eq!(plan_end(&from, &latest, Some(10), Some(&mut min), 0), offs(&[(0, 5), (1, 5)]));
        let mut min = MinOffsets { last_trigger_ms: Some(0), ..MinOffsets::new(1000, 60_000) };
        assert_eq!(plan_end(&from, &latest, Some(10), Some(&mut min), 10), from);
        assert_eq!(plan_end(&from, &latest, None, None, 0), latest);
    }
}
