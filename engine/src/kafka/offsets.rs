//! Per-partition offsets, written as Spark's Kafka source writes them in the offsets log
//! (`{"sensor-data":{"0":42,"1":17}}`: each partition's next offset to read, as
//! `KafkaConsumer.position()`), and the `startingOffsets` option.

use std::collections::BTreeMap;

use serde_json::{Map, Value as Json};

use crate::error::{Error, ErrorKind, Result};

/// The next offset to read, per partition.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct PartitionOffsets(pub BTreeMap<u32, i64>);

impl PartitionOffsets {
    pub fn get(&self, partition: u32) -> Option<i64> {
        self.0.get(&partition).copied()
    }

    /// Messages between `self` and `until`, partition by partition (never negative).
    pub fn count_until(&self, until: &PartitionOffsets) -> i64 {
        until.0.iter().map(|(p, end)| (end - self.get(*p).unwrap_or(0)).max(0)).sum()
    }

    /// Spark's JSON for one topic. Spark sorts the partitions and then writes them through a
    /// Scala `HashMap`, so its order is the map's; sorted order is what a reader can rely on.
    pub fn to_spark_json(&self, topic: &str) -> Json {
        let parts: Map<String, Json> = self.0.iter().map(|(p, o)| (p.to_string(), Json::from(*o))).collect();
        let mut top = Map::new();
        top.insert(topic.to_string(), Json::Object(parts));
        Json::Object(top)
    }

    /// Reads Spark's JSON for `topic`; what Spark would refuse is refused with its example.
    pub fn from_spark_json(json: &Json, topic: &str) -> Result<PartitionOffsets> {
        let parts = json.get(topic).and_then(Json::as_object).ok_or_else(|| malformed(json))?;
        let mut out = BTreeMap::new();
        for (p, o) in parts {
            let p: u32 = p.parse().map_err(|_| malformed(json))?;
            let o = o.as_i64().ok_or_else(|| malformed(json))?;
            out.insert(p, o);
        }
        Ok(PartitionOffsets(out))
    }
}

fn malformed(json: &Json) -> Error {
    Error::new(ErrorKind::InvalidInput, format!(r#"Expected e.g. {{"topicA":{{"0":23,"1":-1}},"topicB":{{"0":-2}}}}, got {json}"#))
}

/// Spark's markers inside per-partition `startingOffsets`: -2 the earliest, -1 the latest.
pub const EARLIEST: i64 = -2;
pub const LATEST: i64 = -1;

/// Where a query without a checkpoint starts reading (`startingOffsets`, default `latest` for
/// streaming queries, as Spark's).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum StartingOffsets {
    Earliest,
    #[default]
    Latest,
    /// Per partition, with -2/-1 meaning earliest/latest for that partition.
    Specific(BTreeMap<u32, i64>),
}

impl StartingOffsets {
    pub fn parse(text: &str, topic: &str) -> Result<StartingOffsets> {
        match text.trim().to_ascii_lowercase().as_str() {
            "earliest" => return Ok(StartingOffsets::Earliest),
            "latest" => return Ok(StartingOffsets::Latest),
            _ => {}
        }
        let json: Json = serde_json::from_str(text).map_err(|_| {
            Error::new(
                ErrorKind::InvalidInput,
                format!("startingOffsets must be \"earliest\", \"latest\" or per-partition JSON such as {{\"{topic}\":{{\"0\":23,\"1\":-2}}}}, got {text}"),
            )
        })?;
        let offsets = PartitionOffsets::from_spark_json(&json, topic)?;
        Ok(StartingOffsets::Specific(offsets.0))
    }

    /// The offsets a new query starts from, given the topic's earliest and latest offsets.
    /// A partition the JSON leaves out is an error in Spark ("Assigned partitions ... must
    /// match"): so here too.
    pub fn resolve(&self, earliest: &PartitionOffsets, latest: &PartitionOffsets) -> Result<PartitionOffsets> {
        match self {
            StartingOffsets::Earliest => Ok(earliest.clone()),
            StartingOffsets::Latest => Ok(latest.clone()),
            StartingOffsets::Specific(given) => {
                let mut out = BTreeMap::new();
                for (p, first) in &earliest.0 {
                    let Some(o) = given.get(p) else {
                        return Err(Error::new(
                            ErrorKind::InvalidInput,
                            format!(
                                "startingOffsets gives no offset for partition {p}: every partition of the topic needs one (-2 for earliest, -1 for latest)"
                            ),
                        ));
                    };
                    let o = match *o {
                        EARLIEST => *first,
                        LATEST => latest.get(*p).unwrap_or(*first),
                        o if o < 0 => {
                            return Err(Error::new(
                                ErrorKind::InvalidInput,
                                format!(
                                    "startingOffsets: offset {o} of partition {p} is neither an offset nor -2 (earliest) or -1 (latest)"
                                ),
                            ))
                        }
                        o => o,
                    };
                    out.insert(*p, o);
                }
                if let Some(p) = given.keys().find(|p| !earliest.0.contains_key(p)) {
                    return Err(Error::new(
                        ErrorKind::InvalidInput,
                        format!("startingOffsets names partition {p}, which the topic does not have"),
                    ));
                }
                Ok(PartitionOffsets(out))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn offs(pairs: &[(u32, i64)]) -> PartitionOffsets {
        PartitionOffsets(pairs.iter().copied().collect())
    }

    #[test]
    fn offsets_round_trip_through_sparks_json() {
        let o = offs(&[(0, 42), (1, 17), (2, 0)]);
        let json = o.to_spark_json("sensor-data");
        assert_eq!(json.to_string(), r#"{"sensor-data":{"0":42,"1":17,"2":0}}"#);
        assert_eq!(PartitionOffsets::from_spark_json(&json, "sensor-data").unwrap(), o);
        let bad = serde_json::json!({"other": {"0": 1}});
        let e = PartitionOffsets::from_spark_json(&bad, "sensor-data").unwrap_err();
        assert!(e.message.contains("Expected e.g."), "{}", e.message);
    }

    #[test]
    fn starting_offsets_resolve_as_spark_does() {
        let earliest = offs(&[(0, 5), (1, 0)]);
        let latest = offs(&[(0, 9), (1, 4)]);
        assert_eq!(StartingOffsets::parse("earliest", "t").unwrap().resolve(&earliest, &latest).unwrap(), earliest);
        assert_eq!(StartingOffsets::parse("LATEST", "t").unwrap().resolve(&earliest, &latest).unwrap(), latest);
        let s = StartingOffsets::parse(r#"{"t":{"0":-2,"1":-1}}"#, "t").unwrap();
        assert_eq!(s.resolve(&earliest, &latest).unwrap(), offs(&[(0, 5), (1, 4)]));
        let s = StartingOffsets::parse(r#"{"t":{"0":7,"1":2}}"#, "t").unwrap();
        assert_eq!(s.resolve(&earliest, &latest).unwrap(), offs(&[(0, 7), (1, 2)]));
    }

    #[test]
    fn starting_offsets_refuse_what_does_not_fit_the_topic() {
        let earliest = offs(&[(0, 0), (1, 0)]);
        let latest = offs(&[(0, 3), (1, 3)]);
        let missing = StartingOffsets::parse(r#"{"t":{"0":1}}"#, "t").unwrap().resolve(&earliest, &latest).unwrap_err();
        assert!(missing.message.contains("partition 1"), "{}", missing.message);
        let extra = StartingOffsets::parse(r#"{"t":{"0":1,"1":1,"5":1}}"#, "t").unwrap().resolve(&earliest, &latest).unwrap_err();
        assert!(extra.message.contains("partition 5"), "{}", extra.message);
        let neg = StartingOffsets::parse(r#"{"t":{"0":-7,"1":1}}"#, "t").unwrap().resolve(&earliest, &latest).unwrap_err();
        assert!(neg.message.contains("-7"), "{}", neg.message);
        assert!(StartingOffsets::parse("yesterday", "t").unwrap_err().message.contains("earliest"));
    }
}
