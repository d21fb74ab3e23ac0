//! What arrived at the session's Kafka topics and Auto Loader folders (messages, retention
//! cuts, landed files), kept beside the events so that a reload refills each topic at the same
//! offsets and each folder with the same files before the query resumes from its checkpoint;
//! and what the page shows of a topic and of a folder.

use serde_json::Value as Json;
use unbounded_engine::kafka::Message;
use unbounded_engine::runtime::StreamingQuery;
use unbounded_engine::scenario::{kafka_messages, retain_offsets, Scenario, Step};
use unbounded_engine::storage::SharedStorage;
use unbounded_engine::time::format_timestamp;
use unbounded_engine::{Error, ErrorKind};

use crate::event_log::{read_framed, write_framed};
use crate::protocol::{BatchInfo, ColumnInfo, FolderInfo, LandedFileInfo, MessageInfo, PartitionInfo, TopicInfo};

const ARRIVALS: &str = "session/arrivals";
/// The most messages a session's topics take (a scenario is bounded by its size; a producer
/// form by this).
pub const MAX_MESSAGES: u64 = 20_000;
/// The most bytes of files a session's folders take.
pub const MAX_FILE_BYTES: u64 = 4 * 1024 * 1024;
/// Messages of each topic the page is sent.
pub const TOPIC_MESSAGES: usize = 100;

/// The steps that filled the topics and folders (`add` of messages or of a file, `retain`),
/// in the order applied, each message's timestamp written out and each file's modification
/// time beside it, so that a replay gives the same ones.
#[derive(Debug, Default)]
pub struct Arrivals {
    pub steps: Vec<Step>,
    /// Each step's modification time (ms, the scenario's step clock): files only use it.
    pub at: Vec<i64>,
    messages: u64,
    bytes: u64,
}

/// A step's messages and file bytes.
fn weight(step: &Step) -> (u64, u64) {
    match step {
        Step::Produce { messages, .. } => (messages.len() as u64, 0),
        Step::Land { text, .. } => (0, text.len() as u64),
        _ => (0, 0),
    }
}

impl Arrivals {
    /// What `storage` holds, its steps checked by the scenario format's own rules.
    pub fn load(storage: &SharedStorage, scenario: &Scenario) -> Result<Arrivals, Error> {
        let Some(saved) = read_framed(storage, ARRIVALS)? else { return Ok(Arrivals::default()) };
        let mut doc = Scenario { steps: Vec::new(), ..scenario.clone() }.to_json();
        doc["steps"] = saved["steps"].clone();
        let steps = Scenario::from_json(&doc)?.steps;
        let at: Vec<i64> = saved["at"].as_array().map(|a| a.iter().filter_map(Json::as_i64).collect()).unwrap_or_default();
        if at.len() != steps.len() {
            return Err(Error::new(
                ErrorKind::Checkpoint,
                format!("`{ARRIVALS}` is damaged: {} steps but {} times", steps.len(), at.len()),
            ));
        }
        let (messages, bytes) = steps.iter().map(weight).fold((0, 0), |(m, b), (m2, b2)| (m + m2, b + b2));
        Ok(Arrivals { steps, at, messages, bytes })
    }

    fn save(&self, storage: &SharedStorage, scenario: &Scenario) -> Result<(), Error> {
        let steps = Scenario { steps: self.steps.clone(), ..scenario.clone() }.to_json()["steps"].take();
        write_framed(storage, ARRIVALS, &serde_json::json!({"steps": steps, "at": self.at}))
    }

    /// Keeps `step`, arrived at `at_ms` (saved before it is applied: a reload finds it whole or
    /// not at all).
    pub fn push(&mut self, step: Step, at_ms: i64, storage: &SharedStorage, scenario: &Scenario) -> Result<(), Error> {
        let (m, b) = weight(&step);
        if self.messages + m > MAX_MESSAGES {
            return Err(Error::invalid_input(format!(
                "the topics hold {} messages, the most a session keeps is {MAX_MESSAGES}: start a new session to send more",
                self.messages
            )));
        }
        if self.bytes + b > MAX_FILE_BYTES {
            return Err(Error::invalid_input(format!(
                "the folders hold {} bytes of files, the most a session keeps is {MAX_FILE_BYTES}: start a new session to land more",
                self.bytes
            )));
        }
        self.steps.push(step);
        self.at.push(at_ms);
        if let Err(e) = self.save(storage, scenario) {
            self.steps.pop();
            self.at.pop();
            return Err(e);
        }
        self.messages += m;
        self.bytes += b;
        Ok(())
    }

    pub fn clear(&mut self, storage: &SharedStorage, scenario: &Scenario) -> Result<(), Error> {
        *self = Arrivals::default();
        self.save(storage, scenario)
    }

    /// Sends every kept step to `q`'s topics and folders again (a query resumed or started anew).
    pub fn refill(&self, q: &mut StreamingQuery) -> Result<(), Error> {
        self.steps.iter().zip(&self.at).try_for_each(|(step, at)| apply(q, step, *at))
    }
}

/// A step applied to the query's topic or folder, arrived at `at_ms`: nothing is processed.
pub fn apply(q: &mut StreamingQuery, step: &Step, at_ms: i64) -> Result<(), Error> {
    match step {
        Step::Produce { source, messages, partition } => q.produce(source, kafka_messages(messages, 0)?, *partition).map(|_| ()),
        Step::Retain { source, from_offsets } => q.retain(source, &retain_offsets(from_offsets, &format!("retain {source}"))?),
        Step::Land { source, file, text } => q.land(source, file, text, at_ms),
        _ => Ok(()),
    }
}

/// The messages of a producer step with their timestamps written out: a message without one
/// gets the time of step `index` of the session's scenario, as the runner gives it.
pub fn resolved(messages: &[Json], index: usize) -> Result<Vec<Json>, Error> {
    let parsed = kafka_messages(messages, index)?;
    Ok(messages
        .iter()
        .zip(parsed)
        .map(|(m, Message { timestamp, .. })| {
            let mut m = m.clone();
            m["timestamp"] = Json::String(format_timestamp(timestamp));
            m
        })
        .collect())
}

fn text(bytes: &Option<Vec<u8>>) -> Option<String> {
    bytes.as_ref().map(|b| String::from_utf8_lossy(b).into_owned())
}

/// Each Kafka source of the scenario as the query holds it.
pub fn infos(q: &StreamingQuery, scenario: &Scenario) -> Vec<TopicInfo> {
    scenario
        .kafka
        .iter()
        .filter_map(|(name, _)| {
            let source = q.kafka_source(name)?;
            let topic = &source.topic;
            let next = q.kafka_next_offsets(name).unwrap_or_default();
            let (earliest, latest) = (topic.earliest_offsets(), topic.latest_offsets());
            let partitions: Vec<PartitionInfo> = (0..topic.partitions())
                .map(|p| PartitionInfo {
                    partition: p,
                    earliest: earliest.get(p).unwrap_or(0),
                    latest: latest.get(p).unwrap_or(0),
                    next: next.get(p).unwrap_or(earliest.get(p).unwrap_or(0)),
                })
                .collect();
            let messages = topic
                .newest(TOPIC_MESSAGES)
                .into_iter()
                .map(|r| MessageInfo {
                    partition: r.partition,
                    offset: r.offset,
                    key: text(&r.message.key),
                    value: text(&r.message.value),
                    timestamp: format_timestamp(r.message.timestamp),
                    read: r.offset < next.get(r.partition).unwrap_or(0),
                })
                .collect();
            let options = scenario
                .source_options
                .iter()
                .find(|(n, _)| n == name)
                .map(|(_, o)| o.iter().map(|(k, v)| (k.clone(), v.as_str().map_or_else(|| v.to_string(), str::to_string))).collect())
                .unwrap_or_default();
            Some(TopicInfo { name: name.clone(), partitions, messages, total_messages: topic.len(), options })
        })
        .collect()
}

/// Each Auto Loader folder of the scenario as the query holds it, with its schema location.
pub fn folders(q: &StreamingQuery, scenario: &Scenario, storage: &SharedStorage, batches: &[BatchInfo]) -> Vec<FolderInfo> {
    scenario
        .auto_loader
        .iter()
        .filter_map(|(name, format, _)| {
            let folder = q.auto_loader_source(name)?;
            // Unreadable schema files show as no schema; the query's own error says why.
            let latest = unbounded_engine::auto_loader::source::latest_schema(storage, name).ok().flatten();
            let read_by = |i: u64| {
                batches.iter().find(|b| b.offsets.iter().any(|o| o.source == *name && o.start <= i && i < o.end)).map(|b| b.batch_id)
            };
            Some(FolderInfo {
                name: name.clone(),
                format: format.as_str().to_string(),
                evolution_mode: folder.mode().as_str().to_string(),
                rescued_column: folder.rescued_column(),
                schema_version: latest.as_ref().map(|(v, _)| *v),
                schema: latest
                    .map(|(_, s)| {
                        s.columns.iter().map(|c| ColumnInfo { name: c.name.clone(), data_type: c.data_type.to_string() }).collect()
                    })
                    .unwrap_or_default(),
                files: folder
                    .files
                    .iter()
                    .enumerate()
                    .map(|(i, f)| LandedFileInfo {
                        name: f.name.clone(),
                        bytes: f.text.len() as u64,
                        modified: format!("{} s", f.modified_ms / 1000),
                        batch_id: read_by(i as u64),
                        preview: f.text.lines().next().unwrap_or_default().chars().take(120).collect(),
                    })
                    .collect(),
            })
        })
        .collect()
}

/// A generator's events of `source` as the messages a producer sends: each event a JSON object
/// of its columns (the value), keyed by its first text column, stamped with its first
/// timestamp column.
pub fn as_messages(kind: unbounded_engine::generate::GeneratorKind, source: &str, rows: &[Json]) -> Vec<Json> {
    let Some((_, schema)) = kind.sources().into_iter().find(|(n, _)| *n == source) else { return Vec::new() };
    let key_at = schema.columns.iter().position(|c| c.data_type == unbounded_engine::types::DataType::String);
    let ts_at = schema.columns.iter().position(|c| c.data_type == unbounded_engine::types::DataType::Timestamp);
    rows.iter()
        .filter_map(Json::as_array)
        .map(|row| {
            let value: serde_json::Map<String, Json> = schema.columns.iter().zip(row).map(|(c, v)| (c.name.clone(), v.clone())).collect();
            let mut m = serde_json::json!({"key": key_at.and_then(|k| row.get(k)).cloned().unwrap_or(Json::Null), "value": Json::Object(value).to_string()});
            if let Some(ts) = ts_at.and_then(|t| row.get(t)).filter(|t| t.is_string()) {
                m["timestamp"] = ts.clone();
            }
            m
        })
        .collect()
}
