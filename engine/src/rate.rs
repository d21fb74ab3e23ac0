//! Spark's `rate` source: rows `(timestamp, value)` generated from the trigger's clock. Its
//! offsets are whole seconds since the query's first start (Spark's `LongOffset`), and the rows
//! of a range of seconds follow `RateStreamMicroBatchStream` exactly: `value` is the sequence
//! number, spread over `numPartitions` partitions, and `timestamp` spaces the range's rows evenly
//! over its seconds. The start time is written once to the checkpoint (Spark writes it to the
//! source's metadata log), so a restart generates the same rows for the same offsets.

use std::sync::Arc;

use arrow_array::builder::{Int64Builder, TimestampMicrosecondBuilder};
use arrow_array::{ArrayRef, RecordBatch};
use serde_json::json;

use crate::checkpoint::{frame, unframe, Checkpoint, CheckpointError};
use crate::error::{Error, Result};
use crate::types::{Column, DataType, Schema};

/// The most rows one micro-batch of a rate source generates: a larger range is refused, naming
/// `rowsPerSecond`, rather than filling the memory of the page or the CLI.
pub const MAX_ROWS_PER_BATCH: i64 = 1_000_000;

/// The option names the rate source reads (`RateStreamProvider`), as Spark spells them.
pub const RATE_OPTIONS: [&str; 3] = ["rowsPerSecond", "rampUpTime", "numPartitions"];

/// The rate source's schema: what `FROM STREAM ticks` reads.
pub fn rate_schema() -> Schema {
    Schema::new(vec![
        Column { name: "timestamp".into(), data_type: DataType::Timestamp },
        Column { name: "value".into(), data_type: DataType::BigInt },
    ])
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RateOptions {
    pub rows_per_second: i64,
    pub ramp_up_seconds: i64,
    /// Spark's default is the cluster's parallelism; one partition here, so a batch's rows come
    /// in value order unless the scenario asks for more.
    pub num_partitions: i64,
}

impl Default for RateOptions {
    fn default() -> Self {
        RateOptions { rows_per_second: 1, ramp_up_seconds: 0, num_partitions: 1 }
    }
}

impl RateOptions {
    /// Reads `(name, value)` pairs as `RateStreamProvider` does (names regardless of case), with
    /// its messages for a bad value; an option it does not read is refused, naming it.
    pub fn parse(options: &[(String, String)], at: &str) -> Result<RateOptions> {
        let mut o = RateOptions::default();
        let mut seen: Vec<&str> = Vec::new();
        for (name, value) in options {
            let Some(known) = RATE_OPTIONS.iter().copied().find(|k| k.eq_ignore_ascii_case(name)) else {
                return Err(Error::invalid_input(format!(
                    "{at}: unknown option `{name}` (the rate source reads {})",
                    RATE_OPTIONS.join(", ")
                )));
            };
            if seen.contains(&known) {
                return Err(Error::invalid_input(format!(
                    "{at}: the option `{known}` is given twice (Spark reads option names regardless of case)"
                )));
            }
            seen.push(known);
            let number = || {
                value
                    .trim()
                    .parse::<i64>()
                    .map_err(|_| Error::invalid_input(format!("{at}: Invalid value '{value}' for option '{known}': a whole number")))
            };
            match known {
                "rowsPerSecond" => {
                    o.rows_per_second = number()?;
                    if o.rows_per_second <= 0 {
                        return Err(Error::invalid_input(format!(
                            "{at}: Invalid value '{value}'. The option 'rowsPerSecond' must be positive"
                        )));
                    }
                }
                "numPartitions" => {
                    o.num_partitions = number()?;
                    if !(1..=1024).contains(&o.num_partitions) {
                        return Err(Error::invalid_input(format!(
                            "{at}: Invalid value '{value}'. The option 'numPartitions' must be positive (at most 1024 here)"
                        )));
                    }
                }
                _ => {
                    // JavaUtils.timeStringAsSec: a bare number is seconds.
                    let ms = match value.trim().parse::<i64>() {
                        Ok(s) => s.checked_mul(1000),
                        Err(_) => crate::source::time_string_ms(value).map(|ms| ms as i64),
                    };
                    let ms = ms.ok_or_else(|| {
                        Error::invalid_input(format!("{at}: Invalid value '{value}' for option 'rampUpTime': a time such as 5s or 2m"))
                    })?;
                    if ms < 0 {
                        return Err(Error::invalid_input(format!(
                            "{at}: Invalid value '{value}'. The option 'rampUpTime' must not be negative"
                        )));
                    }
                    o.ramp_up_seconds = ms / 1000;
                }
            }
        }
        if o.ramp_up_seconds > o.max_seconds() {
            return Err(Error::invalid_input(format!(
                "{at}: Integer overflow. Max offset with {} rowsPerSecond is {}, but 'rampUpTimeSeconds' is {}.",
                o.rows_per_second,
                o.max_seconds(),
                o.ramp_up_seconds
            )));
        }
        Ok(o)
    }

    /// `maxSeconds`: the last offset whose value fits in a long.
    pub fn max_seconds(&self) -> i64 {
        i64::MAX / self.rows_per_second
    }
}

/// `RateStreamProvider.valueAtSecond`: how many rows the source has generated after `seconds`,
/// ramping the speed up linearly over `rampUpTime` (speed `rowsPerSecond / (rampUp + 1)` more
/// each second), then `rowsPerSecond` a second.
pub fn value_at_second(seconds: i64, rows_per_second: i64, ramp_up_seconds: i64) -> i64 {
    let speed_delta = rows_per_second / (ramp_up_seconds + 1);
    if seconds <= ramp_up_seconds {
        // (0 + speedDelta * seconds) * (seconds + 1) / 2, ordered as Spark orders it to stay
        // within a long.
        if seconds % 2 == 1 {
            (seconds + 1) / 2 * speed_delta * seconds
        } else {
            seconds / 2 * speed_delta * (seconds + 1)
        }
    } else {
        let ramp_up = value_at_second(ramp_up_seconds, rows_per_second, ramp_up_seconds);
        ramp_up + (seconds - ramp_up_seconds) * rows_per_second
    }
}

/// `sources/<source>/initial`: when the query first started, in milliseconds of its clock.
fn initial_path(source: &str) -> String {
    format!("sources/{source}/initial")
}

/// What one query has of a rate source: its start time.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RateReader {
    pub start_ms: i64,
}

impl RateReader {
    /// The start time from the checkpoint, or `now_ms`, written now, for a new query.
    pub fn open(checkpoint: &mut Checkpoint, name: &str, now_ms: i64) -> Result<RateReader> {
        let p = initial_path(name);
        if let Some(bytes) = checkpoint.storage().read(&p).map_err(CheckpointError::Storage)? {
            let damaged = |detail: String| Error::from(CheckpointError::Damaged { path: p.clone(), detail });
            let body: serde_json::Value =
                serde_json::from_slice(unframe(&p, &bytes)?).map_err(|e| damaged(format!("it is not a rate source's start: {e}")))?;
            let start_ms = body["start_ms"].as_i64().ok_or_else(|| damaged("it has no `start_ms`".into()))?;
            return Ok(RateReader { start_ms });
        }
        let body = serde_json::to_vec(&json!({ "start_ms": now_ms })).map_err(|e| Error::internal(e.to_string()))?;
        checkpoint.storage_mut().write_vec(&p, frame(&body)).map_err(CheckpointError::Storage)?;
        Ok(RateReader { start_ms: now_ms })
    }

    /// `latestOffset` at `now_ms`: whole seconds since the start, never before `from` (Spark
    /// moves its clock up to a recovered batch's end) nor past `maxSeconds`.
    pub fn latest_second(&self, options: &RateOptions, now_ms: i64, from: i64) -> i64 {
        let elapsed = now_ms.saturating_sub(self.start_ms).max(0) / 1000;
        elapsed.max(from).min(options.max_seconds())
    }

    /// The rows of the seconds `[start, end)`, as `RateStreamMicroBatchPartitionReader` gives
    /// them: partition by partition, partition `p` holding the values `rangeStart + p + k *
    /// numPartitions`, each at `start + round((value - rangeStart) * msPerValue)`.
    pub fn rows(&self, options: &RateOptions, start: i64, end: i64) -> Result<RecordBatch> {
        let (rps, ramp) = (options.rows_per_second, options.ramp_up_seconds);
        let range_start = value_at_second(start, rps, ramp);
        let range_end = value_at_second(end, rps, ramp);
        let n = range_end - range_start;
        if n > MAX_ROWS_PER_BATCH {
            return Err(Error::invalid_input(format!(
                "the rate source would generate {n} rows in one micro-batch (seconds {start} to {end} at rowsPerSecond {rps}); the limit is {MAX_ROWS_PER_BATCH}: lower `rowsPerSecond` or run triggers more often"
            )));
        }
        let mut ts = TimestampMicrosecondBuilder::with_capacity(n.max(0) as usize);
        let mut values = Int64Builder::with_capacity(n.max(0) as usize);
        if n > 0 {
            let local_start_ms = self.start_ms + start * 1000;
            let ms_per_value = ((end - start) * 1000) as f64 / n as f64;
            for p in 0..options.num_partitions {
                let mut v = range_start + p;
                while v < range_end {
                    // Java's Math.round: half up.
                    let relative = ((v - range_start) as f64 * ms_per_value + 0.5).floor() as i64;
                    ts.append_value((relative + local_start_ms) * 1000);
                    values.append_value(v);
                    v += options.num_partitions;
                }
            }
        }
        let columns: Vec<ArrayRef> = vec![Arc::new(ts.finish()), Arc::new(values.finish())];
        RecordBatch::try_new(rate_schema().to_arrow(), columns).map_err(|e| Error::internal(format!("rate rows: {e}")))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::storage::SharedStorage;
    use arrow_array::cast::AsArray;
    use arrow_array::types::{Int64Type, TimestampMicrosecondType};
    #[cfg(target_arch = "wasm32")]
    use wasm_bindgen_test::wasm_bindgen_test as test;

    fn options(pairs: &[(&str, &str)]) -> Result<RateOptions> {
        RateOptions::parse(&pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect::<Vec<_>>(), "source ticks")
    }

    #[test]
    fn the_ramp_up_follows_sparks_table() {
        // RateStreamProvider.valueAtSecond's own comment: rampUp 4, rowsPerSecond 10.
        let ends: Vec<i64> = (0..=6).map(|s| value_at_second(s, 10, 4)).collect();
        assert_eq!(ends, vec![0, 2, 6, 12, 20, 30, 40]);
        assert_eq!((0..4).map(|s| value_at_second(s, 3, 0)).collect::<Vec<_>>(), vec![0, 3, 6, 9]);
    }

    #[test]
    fn options_are_checked_as_spark_checks_them() {
        let o = options(&[("ROWSPERSECOND", "10"), ("rampUpTime", "4s"), ("numPartitions", "2")]).unwrap();
        assert_eq!(o, RateOptions { rows_per_second: 10, ramp_up_seconds: 4, num_partitions: 2 });
        assert_eq!(options(&[("rampUpTime", "7")]).unwrap().ramp_up_seconds, 7);
        assert_eq!(options(&[("rampUpTime", "1m")]).unwrap().ramp_up_seconds, 60);
        assert!(options(&[("rowsPerSecond", "0")]).unwrap_err().message.contains("The option 'rowsPerSecond' must be positive"));
        assert!(options(&[("numPartitions", "-1")]).unwrap_err().message.contains("'numPartitions' must be positive"));
        assert!(options(&[("rampUpTime", "-1")]).unwrap_err().message.contains("must not be negative"));
        assert!(options(&[("rowsPerSecnd", "1")]).unwrap_err().message.contains("unknown option `rowsPerSecnd`"));
        assert!(options(&[("rowsPerSecond", "ten")]).is_err());
        assert!(options(&[("rowsPerSecond", "4611686018427387904"), ("rampUpTime", "3")])
            .unwrap_err()
            .message
            .contains("Integer overflow"));
    }

    #[test]
    fn rows_are_spread_over_partitions_and_seconds_as_spark_does() {
        let mut checkpoint = Checkpoint::new(Box::new(SharedStorage::memory().scoped("checkpoint")));
        let r = RateReader::open(&mut checkpoint, "ticks", 5_000).unwrap();
        let o = RateOptions { rows_per_second: 4, ramp_up_seconds: 0, num_partitions: 2 };
        assert_eq!(r.latest_second(&o, 7_900, 0), 2);
        assert_eq!(r.latest_second(&o, 1_000, 3), 3, "never behind a recovered offset");
        let b = r.rows(&o, 1, 2).unwrap();
        let values: Vec<i64> = b.column(1).as_primitive::<Int64Type>().values().to_vec();
        assert_eq!(values, vec![4, 6, 5, 7], "partition 0 then partition 1");
        let ts: Vec<i64> = b.column(0).as_primitive::<TimestampMicrosecondType>().values().to_vec();
        // 250 ms a value from 5 000 + 1 000 ms.
        assert_eq!(ts, vec![6_000_000, 6_500_000, 6_250_000, 6_750_000]);
        // A reopened query keeps its start.
        assert_eq!(RateReader::open(&mut checkpoint, "ticks", 99_000).unwrap(), r);
        let huge = RateOptions { rows_per_second: 2_000_000, ..RateOptions::default() };
        assert!(r.rows(&huge, 0, 1).unwrap_err().message.contains("rowsPerSecond"));
    }
}
