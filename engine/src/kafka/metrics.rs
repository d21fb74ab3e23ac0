//! The Kafka source's metrics in a batch's progress (`sources[].metrics`), as Spark's
//! `KafkaMicroBatchStream.metrics` computes them: per partition, the latest available offset
//! minus the offset consumed; Spark writes every value as a string.

use std::collections::BTreeMap;

use super::offsets::PartitionOffsets;

pub fn offsets_behind_latest(consumed: &PartitionOffsets, latest: &PartitionOffsets) -> BTreeMap<String, String> {
    let behind: Vec<i64> = latest.0.iter().map(|(p, end)| end - consumed.get(*p).unwrap_or(0)).collect();
    let mut out = BTreeMap::new();
    if let (Some(min), Some(max)) = (behind.iter().min(), behind.iter().max()) {
        let avg = behind.iter().sum::<i64>() as f64 / behind.len() as f64;
        out.insert("minOffsetsBehindLatest".into(), min.to_string());
        out.insert("maxOffsetsBehindLatest".into(), max.to_string());
        out.insert("avgOffsetsBehindLatest".into(), java_double(avg));
    }
    out
}

/// A double as Java's `Double.toString` writes the values these metrics take (`0.0`, `842.5`).
fn java_double(v: f64) -> String {
    if v.fract() == 0.0 && v.abs() < 1e7 {
        format!("{v:.1}")
    } else {
        format!("{v}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn min_max_and_average_behind_as_spark_writes_them() {
        let consumed = PartitionOffsets([(0, 10), (1, 5), (2, 7)].into_iter().collect());
        let latest = PartitionOffsets([(0, 12), (1, 5), (2, 10)].into_iter().collect());
        let m = offsets_behind_latest(&consumed, &latest);
        assert_eq!(m["minOffsetsBehindLatest"], "0");
        assert_eq!(m["maxOffsetsBehindLatest"], "3");
        assert_eq!(m["avgOffsetsBehindLatest"], "1.6666666666666667");
        let m = offsets_behind_latest(&latest, &latest);
        assert_eq!(m["avgOffsetsBehindLatest"], "0.0");
        assert!(offsets_behind_latest(&latest, &PartitionOffsets::default()).is_empty());
    }
}
