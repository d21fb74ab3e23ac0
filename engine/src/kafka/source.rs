//! Spark's Kafka source over a [`Topic`]: its options, its fixed schema, and what one query has
//! read of the topic. Each micro-batch reads one range of offsets per partition; the ranges are
//! kept in the checkpoint (`sources/<source>/N`, Spark's per-partition JSON), so a restart
//! re-reads an uncommitted batch exactly and goes on where the last committed one ended.

use std::sync::Arc;

use arrow_array::builder::{BinaryBuilder, Int32Builder, Int64Builder, StringBuilder, TimestampMicrosecondBuilder};
use arrow_array::{ArrayRef, RecordBatch};
use serde_json::{json, Value as Json};

use super::limits::{plan_end, MinOffsets};
use super::offsets::{PartitionOffsets, StartingOffsets};
use super::topic::{Record, Topic};
use crate::checkpoint::{frame, unframe, Checkpoint, CheckpointError};
use crate::error::{Error, Result};
use crate::types::{Column, DataType, Schema};

/// Spark's Kafka schema: what `FROM STREAM topic` reads.
pub fn kafka_schema() -> Schema {
    let col = |name: &str, data_type| Column { name: name.into(), data_type };
    Schema::new(vec![
        col("key", DataType::Binary),
        col("value", DataType::Binary),
        col("topic", DataType::String),
        col("partition", DataType::Int),
        col("offset", DataType::BigInt),
        col("timestamp", DataType::Timestamp),
        col("timestampType", DataType::Int),
    ])
}

/// The Kafka source's options this version reads, as Spark spells them. The connection ones
/// (`kafka.bootstrap.servers`, `subscribe`, ...) name a real cluster: there is none here, so
/// they are accepted and change nothing.
pub const KAFKA_OPTIONS: [&str; 10] = [
    "startingOffsets",
    "maxOffsetsPerTrigger",
    "minOffsetsPerTrigger",
    "maxTriggerDelay",
    "failOnDataLoss",
    "kafka.bootstrap.servers",
    "subscribe",
    "includeHeaders",
    "groupIdPrefix",
    "kafkaConsumer.pollTimeoutMs",
];

#[derive(Debug, Clone, PartialEq)]
pub struct KafkaOptions {
    pub starting: StartingOffsets,
    pub max_offsets: Option<i64>,
    pub min_offsets: Option<i64>,
    pub max_trigger_delay_ms: i64,
    pub fail_on_data_loss: bool,
}

impl Default for KafkaOptions {
    fn default() -> Self {
        KafkaOptions {
            starting: StartingOffsets::Latest,
            max_offsets: None,
            min_offsets: None,
            max_trigger_delay_ms: MinOffsets::DEFAULT_DELAY_MS,
            fail_on_data_loss: true,
        }
    }
}

impl KafkaOptions {
    /// Reads `(name, value)` pairs as Spark's `KafkaSourceProvider` does (names regardless of
    /// case); an option it does not read is refused, naming it.
    pub fn parse(options: &[(String, String)], topic: &str, at: &str) -> Result<KafkaOptions> {
        let mut o = KafkaOptions::default();
        let mut seen: Vec<&str> = Vec::new();
        for (name, value) in options {
            let Some(known) = KAFKA_OPTIONS.iter().copied().find(|k| k.eq_ignore_ascii_case(name)) else {
                return Err(Error::invalid_input(format!(
                    "{at}: unknown option `{name}` (the Kafka source reads {})",
                    KAFKA_OPTIONS.join(", ")
                )));
            };
            if seen.contains(&known) {
                return Err(Error::invalid_input(format!(
                    "{at}: the option `{known}` is given twice (Spark reads option names regardless of case)"
                )));
            }
            seen.push(known);
            let positive = || {
                value.trim().parse::<i64>().ok().filter(|n| *n > 0).ok_or_else(|| {
                    Error::invalid_input(format!("{at}: Invalid value '{value}' for option '{known}', must be a positive integer"))
                })
            };
            match known {
                "startingOffsets" => {
                    o.starting = StartingOffsets::parse(value, topic).map_err(|e| Error::invalid_input(format!("{at}: {}", e.message)))?
                }
                "maxOffsetsPerTrigger" => o.max_offsets = Some(positive()?),
                "minOffsetsPerTrigger" => o.min_offsets = Some(positive()?),
                "maxTriggerDelay" => {
                    o.max_trigger_delay_ms = crate::source::time_string_ms(value).map(|ms| ms as i64).ok_or_else(|| {
                        Error::invalid_input(format!(
                            "{at}: Invalid value '{value}' for option 'maxTriggerDelay': a time such as 15m, 30s or 500ms"
                        ))
                    })?
                }
                "failOnDataLoss" => {
                    o.fail_on_data_loss = match value.to_ascii_lowercase().as_str() {
                        "true" => true,
                        "false" => false,
                        _ => {
                            return Err(Error::invalid_input(format!(
                                "{at}: Invalid value '{value}' for option 'failOnDataLoss', must be 'true' or 'false'"
                            )))
                        }
                    }
                }
                _ => {}
            }
        }
        Ok(o)
    }

    /// Whether a trigger may read less than everything there.
    pub fn limited(&self) -> bool {
        self.max_offsets.is_some() || self.min_offsets.is_some()
    }
}

/// A topic and how the query reads it.
#[derive(Debug, Clone)]
pub struct KafkaSource {
    pub topic: Topic,
    pub options: KafkaOptions,
}

/// `sources/<source>/N`: the offsets batch N read, per partition, as Spark writes them.
fn path(source: &str, batch_id: u64) -> String {
    format!("sources/{source}/{batch_id}")
}

/// Where a query with no batch yet starts: written once, at its first start, as Spark's
/// `KafkaSourceInitialOffsetWriter` does, so `latest` means the latest when the query began.
fn initial_path(source: &str) -> String {
    format!("sources/{source}/initial")
}

/// What one query has read of a topic.
#[derive(Debug, Clone, Default)]
pub struct KafkaReader {
    /// Where batch 0 starts.
    initial: PartitionOffsets,
    /// The last batch planned and where it ended.
    last: Option<(u64, PartitionOffsets)>,
    /// The range of the batch being read (planned, maybe not committed).
    planned: Option<(u64, PartitionOffsets, PartitionOffsets)>,
    min: Option<MinOffsets>,
}

impl KafkaReader {
    /// Opens the reader of `source` from the checkpoint: the initial offsets (resolved and
    /// written now when the query is new) and the range of the last batch planned.
    pub fn open(checkpoint: &mut Checkpoint, name: &str, source: &KafkaSource, planned_batches: u64) -> Result<KafkaReader> {
        let topic_name = source.topic.name().to_string();
        let initial = match read_offsets(checkpoint, &initial_path(name), &topic_name)? {
            Some(o) => o,
            None => {
                let o = source.options.starting.resolve(&source.topic.earliest_offsets(), &source.topic.latest_offsets())?;
                write_offsets(checkpoint, &initial_path(name), &o.to_spark_json(&topic_name))?;
                o
            }
        };
        let mut reader = KafkaReader {
            initial,
            min: source.options.min_offsets.map(|m| MinOffsets::new(m, source.options.max_trigger_delay_ms)),
            ..KafkaReader::default()
        };
        if let Some(last) = planned_batches.checked_sub(1) {
            let p = path(name, last);
            let entry = read_entry(checkpoint, &p)?.ok_or_else(|| {
                Error::from(CheckpointError::Damaged {
                    path: p.clone(),
                    detail: format!("batch {last} of the Kafka source `{name}` has no offsets file"),
                })
            })?;
            let (start, end) = entry_ranges(&entry, &topic_name, &p)?;
            reader.planned = Some((last, start, end.clone()));
            reader.last = Some((last, end));
        }
        Ok(reader)
    }

    /// Where the next batch starts.
    pub fn next_start(&self) -> PartitionOffsets {
        self.last.as_ref().map_or_else(|| self.initial.clone(), |(_, end)| end.clone())
    }

    /// Plans batch `batch_id`: its end offsets under the read limits (`limited` false for
    /// `Trigger.Once`). Returns how many offsets it covers; [`Self::write_planned`] records it
    /// once the batch runs.
    pub fn plan(&mut self, source: &KafkaSource, batch_id: u64, limited: bool, now_ms: i64) -> i64 {
        let start = self.next_start();
        let latest = source.topic.latest_offsets();
        let (max, min) = if limited { (source.options.max_offsets, self.min.as_mut()) } else { (None, None) };
        let end = plan_end(&start, &latest, max, min, now_ms);
        let count = start.count_until(&end);
        self.planned = Some((batch_id, start, end));
        count
    }

    /// Writes the planned batch's ranges (`sources/<source>/N`, before its offsets entry) and
    /// takes its end as the next batch's start.
    pub fn write_planned(&mut self, checkpoint: &mut Checkpoint, name: &str, topic: &str) -> Result<()> {
        let Some((batch_id, start, end)) = self.planned.clone() else { return Ok(()) };
        let body = json!({"batch_id": batch_id, "start": start.to_spark_json(topic), "end": end.to_spark_json(topic)});
        write_offsets(checkpoint, &path(name, batch_id), &body)?;
        self.last = Some((batch_id, end));
        Ok(())
    }

    /// The rows of batch `batch_id`, from the topic, with the number of offsets retention had
    /// already deleted (an error instead when `failOnDataLoss`).
    pub fn read(&self, source: &KafkaSource, batch_id: u64) -> Result<(RecordBatch, i64)> {
        let (start, end) = match &self.planned {
            Some((id, s, e)) if *id == batch_id => (s.clone(), e.clone()),
            _ => return Err(Error::internal(format!("the Kafka source has no range for batch {batch_id}"))),
        };
        let (records, lost) = source.topic.read(&start, &end, source.options.fail_on_data_loss)?;
        Ok((rows(source.topic.name(), &records)?, lost))
    }

    /// The range of the batch being read, per partition.
    pub fn planned_range(&self) -> Option<(&PartitionOffsets, &PartitionOffsets)> {
        self.planned.as_ref().map(|(_, s, e)| (s, e))
    }
}

fn read_entry(checkpoint: &Checkpoint, p: &str) -> Result<Option<Json>> {
    let Some(bytes) = checkpoint.storage().read(p).map_err(CheckpointError::Storage)? else { return Ok(None) };
    let body = unframe(p, &bytes)?;
    serde_json::from_slice(body)
        .map(Some)
        .map_err(|e| Error::from(CheckpointError::Damaged { path: p.to_string(), detail: format!("it is not Kafka offsets: {e}") }))
}

fn read_offsets(checkpoint: &Checkpoint, p: &str, topic: &str) -> Result<Option<PartitionOffsets>> {
    match read_entry(checkpoint, p)? {
        None => Ok(None),
        Some(j) => PartitionOffsets::from_spark_json(&j, topic)
            .map(Some)
            .map_err(|e| Error::from(CheckpointError::Damaged { path: p.to_string(), detail: e.message })),
    }
}

fn entry_ranges(entry: &Json, topic: &str, p: &str) -> Result<(PartitionOffsets, PartitionOffsets)> {
    let damaged = |detail: String| Error::from(CheckpointError::Damaged { path: p.to_string(), detail });
    let start = PartitionOffsets::from_spark_json(&entry["start"], topic).map_err(|e| damaged(e.message))?;
    let end = PartitionOffsets::from_spark_json(&entry["end"], topic).map_err(|e| damaged(e.message))?;
    Ok((start, end))
}

fn write_offsets(checkpoint: &mut Checkpoint, p: &str, body: &Json) -> Result<()> {
    let bytes = serde_json::to_vec(body).map_err(|e| Error::internal(e.to_string()))?;
    checkpoint.storage_mut().write_vec(p, frame(&bytes)).map_err(|e| Error::from(CheckpointError::Storage(e)))
}

/// Records as rows of Spark's Kafka schema (`timestampType` 0: the producer's CreateTime).
pub fn rows(topic: &str, records: &[Record<'_>]) -> Result<RecordBatch> {
    let n = records.len();
    let mut key = BinaryBuilder::with_capacity(n, 0);
    let mut value = BinaryBuilder::with_capacity(n, 0);
    let mut topics = StringBuilder::with_capacity(n, n * topic.len());
    let mut partition = Int32Builder::with_capacity(n);
    let mut offset = Int64Builder::with_capacity(n);
    let mut timestamp = TimestampMicrosecondBuilder::with_capacity(n);
    let mut kind = Int32Builder::with_capacity(n);
    for r in records {
        key.append_option(r.message.key.as_deref());
        value.append_option(r.message.value.as_deref());
        topics.append_value(topic);
        partition.append_value(r.partition as i32);
        offset.append_value(r.offset);
        timestamp.append_value(r.message.timestamp);
        kind.append_value(0);
    }
    let columns: Vec<ArrayRef> = vec![
        Arc::new(key.finish()),
        Arc::new(value.finish()),
        Arc::new(topics.finish()),
        Arc::new(partition.finish()),
        Arc::new(offset.finish()),
        Arc::new(timestamp.finish()),
        Arc::new(kind.finish()),
    ];
    RecordBatch::try_new(kafka_schema().to_arrow(), columns).map_err(|e| Error::internal(format!("Kafka rows: {e}")))
}
