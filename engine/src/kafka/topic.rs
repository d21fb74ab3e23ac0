//! The topic itself: partitions of messages, produced with Kafka's default partitioner, cut by
//! retention, read by offset range the way Spark's Kafka source reads them.

use std::collections::VecDeque;

use super::offsets::PartitionOffsets;
use super::partitioner::{partition_for_key, RoundRobin};
use crate::error::{Error, ErrorKind, Result};

#[derive(Debug, Clone, PartialEq)]
pub struct Message {
    pub key: Option<Vec<u8>>,
    pub value: Option<Vec<u8>>,
    /// Microseconds since the epoch (Spark's `timestamp` column; `timestampType` 0, CreateTime).
    pub timestamp: i64,
}

impl Message {
    /// What the message weighs in bytes behind the latest offset (key + value).
    pub fn size(&self) -> u64 {
        (self.key.as_ref().map_or(0, Vec::len) + self.value.as_ref().map_or(0, Vec::len)) as u64
    }
}

#[derive(Debug, Clone, Default)]
struct PartitionLog {
    /// The offset of `messages[0]`: retention moves it forward.
    earliest: i64,
    messages: VecDeque<Message>,
    /// Beside each message, the bytes produced to the partition before it (deleted ones
    /// included), so the bytes behind an offset are one subtraction, not a walk every batch.
    bytes_before: VecDeque<u64>,
    bytes_produced: u64,
}

impl PartitionLog {
    fn latest(&self) -> i64 {
        self.earliest + self.messages.len() as i64
    }

    fn push(&mut self, message: Message) {
        self.bytes_before.push_back(self.bytes_produced);
        self.bytes_produced += message.size();
        self.messages.push_back(message);
    }

    /// The bytes of the messages at and after `offset`.
    fn bytes_from(&self, offset: i64) -> u64 {
        let i = (offset.max(self.earliest) - self.earliest) as usize;
        self.bytes_before.get(i).map_or(0, |before| self.bytes_produced - before)
    }
}

/// A message read by a batch, with the coordinates Spark's Kafka schema gives it.
#[derive(Debug, Clone, PartialEq)]
pub struct Record<'a> {
    pub partition: u32,
    pub offset: i64,
    pub message: &'a Message,
}

#[derive(Debug, Clone)]
pub struct Topic {
    name: String,
    partitions: Vec<PartitionLog>,
    round_robin: RoundRobin,
}

/// How many partitions a topic may have: bounded, since a scenario is untrusted.
pub const MAX_PARTITIONS: u32 = 1024;

impl Topic {
    pub fn new(name: &str, partitions: u32) -> Result<Topic> {
        if partitions == 0 || partitions > MAX_PARTITIONS {
            return Err(Error::new(
                ErrorKind::InvalidInput,
                format!("topic {name}: partitions must be between 1 and {MAX_PARTITIONS}, got {partitions}"),
            ));
        }
        Ok(Topic {
            name: name.to_string(),
            partitions: vec![PartitionLog::default(); partitions as usize],
            round_robin: RoundRobin::default(),
        })
    }

    pub fn name(&self) -> &str {
        &self.name
    }

    pub fn partitions(&self) -> u32 {
        self.partitions.len() as u32
    }

    /// Appends a message to `partition`, or where the default partitioner puts it; returns
    /// the partition and offset it got.
    pub fn produce(&mut self, message: Message, partition: Option<u32>) -> Result<(u32, i64)> {
        self.check_partition(partition)?;
        let n = self.partitions();
        let p = match (partition, &message.key) {
            (Some(p), _) => p,
            (None, Some(key)) => partition_for_key(key, n),
            (None, None) => self.round_robin.next(n),
        };
        let log = &mut self.partitions[p as usize];
        let offset = log.latest();
        log.push(message);
        Ok((p, offset))
    }

    /// Whether a producer may send to `partition` (None: the partitioner chooses): the only
    /// way [`Topic::produce`] refuses a message.
    pub fn check_partition(&self, partition: Option<u32>) -> Result<()> {
        let n = self.partitions();
        match partition {
            Some(p) if p >= n => Err(Error::new(
                ErrorKind::InvalidInput,
                format!("topic {}: partition {p} does not exist (it has {n}: 0 to {})", self.name, n - 1),
            )),
            _ => Ok(()),
        }
    }

    pub fn earliest_offsets(&self) -> PartitionOffsets {
        PartitionOffsets(self.partitions.iter().enumerate().map(|(p, l)| (p as u32, l.earliest)).collect())
    }

    pub fn latest_offsets(&self) -> PartitionOffsets {
        PartitionOffsets(self.partitions.iter().enumerate().map(|(p, l)| (p as u32, l.latest())).collect())
    }

    /// Retention: deletes every message below `from` in the partitions named.
    pub fn retain(&mut self, from: &PartitionOffsets) -> Result<()> {
        for (p, cut) in &from.0 {
            let Some(log) = self.partitions.get_mut(*p as usize) else {
                return Err(Error::new(ErrorKind::InvalidInput, format!("topic {}: partition {p} does not exist", self.name)));
            };
            let cut = (*cut).clamp(log.earliest, log.latest());
            let drop = (cut - log.earliest) as usize;
            log.messages.drain(..drop);
            log.bytes_before.drain(..drop);
            log.earliest = cut;
        }
        Ok(())
    }

    /// The messages in `[from, until)` per partition. Offsets retention already deleted are
    /// data loss: an error with Spark's advice when `fail_on_data_loss`, else skipped (Spark
    /// logs a warning and reads from the earliest offset still there). Returns the records and
    /// how many offsets were lost.
    pub fn read(&self, from: &PartitionOffsets, until: &PartitionOffsets, fail_on_data_loss: bool) -> Result<(Vec<Record<'_>>, i64)> {
        let mut out = Vec::new();
        let mut lost = 0;
        for (p, end) in &until.0 {
            let Some(log) = self.partitions.get(*p as usize) else { continue };
            let start = from.get(*p).unwrap_or(log.earliest);
            let end = (*end).min(log.latest());
            if start < log.earliest && start < end {
                if fail_on_data_loss {
                    return Err(data_loss(&self.name, *p, start, log.earliest));
                }
                lost += log.earliest.min(end) - start;
            }
            let first = start.max(log.earliest);
            for offset in first..end {
                let message = &log.messages[(offset - log.earliest) as usize];
                out.push(Record { partition: *p, offset, message });
            }
        }
        Ok((out, lost))
    }

    /// Messages the topic holds, over every partition (retention deleted the others).
    pub fn len(&self) -> u64 {
        self.partitions.iter().map(|l| l.messages.len() as u64).sum()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The newest `n` messages over every partition, oldest first by timestamp (then
    /// partition and offset): what a topic browser shows.
    pub fn newest(&self, n: usize) -> Vec<Record<'_>> {
        let mut out: Vec<Record<'_>> = self
            .partitions
            .iter()
            .enumerate()
            .flat_map(|(p, log)| {
                let skip = log.messages.len().saturating_sub(n);
                log.messages.iter().enumerate().skip(skip).map(move |(i, message)| Record {
                    partition: p as u32,
                    offset: log.earliest + i as i64,
                    message,
                })
            })
            .collect();
        out.sort_by_key(|r| (r.message.timestamp, r.partition, r.offset));
        out.drain(..out.len().saturating_sub(n));
        out
    }

    /// The bytes of every message at or after `consumed` (Databricks' estimate of
    /// `estimatedTotalBytesBehindLatest` is exact here: the log is in memory).
    pub fn bytes_behind(&self, consumed: &PartitionOffsets) -> u64 {
        self.partitions.iter().enumerate().map(|(p, log)| log.bytes_from(consumed.get(p as u32).unwrap_or(log.earliest))).sum()
    }
}

fn data_loss(topic: &str, partition: u32, offset: i64, earliest: i64) -> Error {
    Error::new(
        ErrorKind::Runtime,
        format!(
            "Cannot fetch offset {offset} of {topic}-{partition}: the earliest offset still there is {earliest}. Some data may have been lost because they are not available in Kafka any more; either the data was aged out by Kafka or the topic may have been deleted before all the data in the topic was processed. If you don't want your streaming query to fail on such cases, set the source option \"failOnDataLoss\" to \"false\"."
        ),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn msg(key: Option<&str>, value: &str) -> Message {
        Message { key: key.map(|k| k.as_bytes().to_vec()), value: Some(value.as_bytes().to_vec()), timestamp: 0 }
    }

    fn offs(pairs: &[(u32, i64)]) -> PartitionOffsets {
        PartitionOffsets(pairs.iter().copied().collect())
    }

    #[test]
    fn keyed_messages_follow_the_partitioner_and_offsets_count_per_partition() {
        let mut t = Topic::new("t", 3).unwrap();
        let p = partition_for_key(b"d1", 3);
        assert_eq!(t.produce(msg(Some("d1"), "a"), None).unwrap(), (p, 0));
        assert_eq!(t.produce(msg(Some("d1"), "b"), None).unwrap(), (p, 1));
        assert_eq!(t.produce(msg(None, "c"), Some(2)).unwrap().0, 2);
        assert!(t.produce(msg(None, "d"), Some(3)).unwrap_err().message.contains("partition 3 does not exist"));
        let latest = t.latest_offsets();
        assert_eq!(latest.0.values().sum::<i64>(), 3);
    }

    #[test]
    fn reads_a_range_and_refuses_or_skips_what_retention_deleted() {
        let mut t = Topic::new("t", 1).unwrap();
        for i in 0..6 {
            t.produce(msg(None, &i.to_string()), Some(0)).unwrap();
        }
        let (recs, lost) = t.read(&offs(&[(0, 1)]), &offs(&[(0, 3)]), true).unwrap();
        assert_eq!(recs.iter().map(|r| r.offset).collect::<Vec<_>>(), vec![1, 2]);
        assert_eq!(lost, 0);
        t.retain(&offs(&[(0, 4)])).unwrap();
        assert_eq!(t.earliest_offsets(), offs(&[(0, 4)]));
        let e = t.read(&offs(&[(0, 1)]), &offs(&[(0, 6)]), true).unwrap_err();
        assert!(e.message.contains("failOnDataLoss") && e.message.contains("offset 1 of t-0"), "{}", e.message);
        let (recs, lost) = t.read(&offs(&[(0, 1)]), &offs(&[(0, 6)]), false).unwrap();
        assert_eq!(recs.iter().map(|r| r.offset).collect::<Vec<_>>(), vec![4, 5]);
        assert_eq!(lost, 3);
        assert_eq!(recs[0].message.value.as_deref(), Some(&b"4"[..]));
    }

    #[test]
    fn bytes_behind_counts_what_is_not_yet_read() {
        let mut t = Topic::new("t", 2).unwrap();
        t.produce(msg(Some("k"), "abc"), Some(0)).unwrap();
        t.produce(msg(None, "de"), Some(1)).unwrap();
        assert_eq!(t.bytes_behind(&offs(&[(0, 0), (1, 0)])), 6);
        assert_eq!(t.bytes_behind(&offs(&[(0, 1), (1, 0)])), 2);
        assert_eq!(t.bytes_behind(&t.latest_offsets()), 0);
        // Retention deletes what was behind; an offset before the earliest counts from there.
        t.produce(msg(None, "fghi"), Some(0)).unwrap();
        t.retain(&offs(&[(0, 1)])).unwrap();
        assert_eq!(t.bytes_behind(&offs(&[(0, 0), (1, 0)])), 6);
        assert_eq!(t.bytes_behind(&offs(&[(0, 2), (1, 1)])), 0);
    }

    #[test]
    fn the_newest_messages_come_from_every_partition_oldest_first() {
        let mut t = Topic::new("t", 2).unwrap();
        for (i, p) in [0, 1, 0, 1, 0].into_iter().enumerate() {
            t.produce(Message { timestamp: i as i64, ..msg(None, &i.to_string()) }, Some(p)).unwrap();
        }
        t.retain(&offs(&[(0, 1)])).unwrap();
        assert_eq!(t.len(), 4);
        let coords = |rs: Vec<Record<'_>>| rs.iter().map(|r| (r.partition, r.offset)).collect::<Vec<_>>();
        assert_eq!(coords(t.newest(3)), vec![(0, 1), (1, 1), (0, 2)]);
        assert_eq!(coords(t.newest(10)), vec![(1, 0), (0, 1), (1, 1), (0, 2)]);
    }

    #[test]
    fn partition_counts_are_bounded() {
        assert!(Topic::new("t", 0).is_err());
        assert!(Topic::new("t", MAX_PARTITIONS + 1).is_err());
    }
}
