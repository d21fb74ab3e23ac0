//! The session's Kafka topics: what producers sent, kept beside the events so that a reload
//! refills each topic at the same offsets before the query resumes from its checkpoint; and
//! what the page shows of a topic.

use serde_json::Value as Json;
use unbounded_engine::kafka::Message;
use unbounded_engine::runtime::StreamingQuery;
use unbounded_engine::scenario::{kafka_messages, retain_offsets, Scenario, Step};
use unbounded_engine::storage::SharedStorage;
use unbounded_engine::time::format_timestamp;
use unbounded_engine::Error;

use crate::event_log::{read_framed, write_framed};
use crate::protocol::{MessageInfo, PartitionInfo, TopicInfo};

const PRODUCED: &str = "session/produced";
/// The most messages a session's topics take (a scenario is bounded by its size; a producer
/// form by this).
pub const MAX_MESSAGES: u64 = 20_000;
/// Messages of each topic the page is sent.
pub const TOPIC_MESSAGES: usize = 100;

/// The steps that filled the topics (`add` of messages, `retain`), in the order applied, each
/// message's timestamp written out so that a replay gives the same one.
#[derive(Debug, Default)]
pub struct Produced {
    pub steps: Vec<Step>,
    messages: u64,
}

fn count(step: &Step) -> u64 {
    match step {
        Step::Produce { messages, .. } => messages.len() as u64,
        _ => 0,
    }
}

impl Produced {
    /// What `storage` holds, its steps checked by the scenario format's own rules.
    pub fn load(storage: &SharedStorage, scenario: &Scenario) -> Result<Produced, Error> {
        let Some(saved) = read_framed(storage, PRODUCED)? else { return Ok(Produced::default()) };
        let mut doc = Scenario { steps: Vec::new(), ..scenario.clone() }.to_json();
        doc["steps"] = saved;
        let steps = Scenario::from_json(&doc)?.steps;
        let messages = steps.iter().map(count).sum();
        Ok(Produced { steps, messages })
    }

    fn save(&self, storage: &SharedStorage, scenario: &Scenario) -> Result<(), Error> {
        let steps = Scenario { steps: self.steps.clone(), ..scenario.clone() }.to_json()["steps"].take();
        write_framed(storage, PRODUCED, &steps)
    }

    /// Keeps `step` (saved before it is applied: a reload finds it whole or not at all).
    pub fn push(&mut self, step: Step, storage: &SharedStorage, scenario: &Scenario) -> Result<(), Error> {
        let n = count(&step);
        if self.messages + n > MAX_MESSAGES {
            return Err(Error::invalid_input(format!(
                "the topics hold {} messages, the most a session keeps is {MAX_MESSAGES}: start a new session to send more",
                self.messages
            )));
        }
        self.steps.push(step);
        if let Err(e) = self.save(storage, scenario) {
            self.steps.pop();
            return Err(e);
        }
        self.messages += n;
        Ok(())
    }

    pub fn clear(&mut self, storage: &SharedStorage, scenario: &Scenario) -> Result<(), Error> {
        *self = Produced::default();
        self.save(storage, scenario)
    }

    /// Sends every kept step to `q`'s topics again (a query resumed or started anew).
    pub fn refill(&self, q: &mut StreamingQuery) -> Result<(), Error> {
        self.steps.iter().try_for_each(|step| apply(q, step))
    }
}

/// A Kafka step applied to the query's topic: nothing is processed.
pub fn apply(q: &mut StreamingQuery, step: &Step) -> Result<(), Error> {
    match step {
        Step::Produce { source, messages, partition } => q.produce(source, kafka_messages(messages, 0)?, *partition).map(|_| ()),
        Step::Retain { source, from_offsets } => q.retain(source, &retain_offsets(from_offsets, &format!("retain {source}"))?),
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
