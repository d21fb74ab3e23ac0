//! A Kafka topic as Spark's Kafka source sees it: partitions of messages with offsets, Kafka's
//! default partitioner, per-partition offsets in Spark's JSON, the rate limits of
//! `KafkaMicroBatchStream` and its lag metrics. Nothing here talks to a broker: the topic is
//! the playground's own log, so every rule here follows Spark's and Kafka's source code (cited
//! per function), not a Spark run.

pub mod limits;
pub mod metrics;
pub mod offsets;
pub mod partitioner;
pub mod source;
pub mod topic;

pub use offsets::{PartitionOffsets, StartingOffsets};
pub use source::{kafka_schema, KafkaOptions, KafkaReader, KafkaSource};
pub use topic::{Message, Topic};
