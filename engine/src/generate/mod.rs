//! Synthetic event generators with knobs, for the playground's live runs and the CLI's
//! benchmarks: IoT readings from delivery trucks, clickstream sessions, payments with retries,
//! ad impressions and clicks (for stream-stream joins) and Nexmark's persons, auctions and bids.
//!
//! Event time follows a generator clock that advances with the processing time it is given, so
//! a live run looks like a real stream; knobs put events out of order, late, duplicated or bad.

mod kinds;

pub use kinds::GeneratorKind;

use serde::{Deserialize, Serialize};
use serde_json::Value as Json;

use crate::time::format_timestamp;

/// What a person can turn.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct GeneratorConfig {
    pub kind: GeneratorKind,
    pub events_per_second: f64,
    /// Distinct keys (trucks, users, accounts, ads, bidders).
    pub keys: u32,
    /// Events arrive up to this much behind the generator clock, at random.
    pub out_of_order_ms: i64,
    /// Share of events (0..1) that arrive far behind: `late_by_ms` more than the spread.
    pub late_share: f64,
    pub late_by_ms: i64,
    /// Share of events (0..1) sent again, as a retry would (same id, same event time).
    pub duplicate_share: f64,
    /// Share of events (0..1) with a value that does not fit its column.
    pub bad_share: f64,
    /// Event-time seconds per second of processing time.
    pub speed: f64,
    pub seed: u64,
}

impl Default for GeneratorConfig {
    fn default() -> Self {
        GeneratorConfig {
            kind: GeneratorKind::Trucks,
            events_per_second: 5.0,
            keys: 5,
            out_of_order_ms: 2_000,
            late_share: 0.0,
            late_by_ms: 30_000,
            duplicate_share: 0.0,
            bad_share: 0.0,
            speed: 1.0,
            seed: 7,
        }
    }
}

/// A seeded SplitMix64: the same knobs and seed give the same stream.
#[derive(Debug, Clone)]
pub(crate) struct Rng(u64);

impl Rng {
    pub(crate) fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e3779b97f4a7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58476d1ce4e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d049bb133111eb);
        z ^ (z >> 31)
    }

    pub(crate) fn below(&mut self, n: u64) -> u64 {
        if n == 0 {
            0
        } else {
            self.next() % n
        }
    }

    /// Uniform in [0, 1).
    pub(crate) fn unit(&mut self) -> f64 {
        (self.next() >> 11) as f64 / (1u64 << 53) as f64
    }

    pub(crate) fn chance(&mut self, p: f64) -> bool {
        self.unit() < p
    }
}

/// One event of a generator: the source it goes to and its row in schema order.
#[derive(Debug, Clone, PartialEq)]
pub struct Event {
    pub source: &'static str,
    pub row: Vec<Json>,
}

/// The generator's running state.
#[derive(Debug, Clone)]
pub struct Generator {
    config: GeneratorConfig,
    rng: Rng,
    /// Event-time clock, in microseconds.
    clock: i64,
    /// Events owed but not yet produced (fractions carry over between calls).
    owed: f64,
    /// Sequence number of the next entity (ids).
    next_id: u64,
    /// Recently produced events, for retries and for joins (a click refers to an impression).
    recent: Vec<Event>,
    state: kinds::KindState,
}

/// Where every generator's event time starts: 2026-01-01 00:00:00.
pub const START_MICROS: i64 = 1_767_225_600_000_000;

impl Generator {
    pub fn new(config: GeneratorConfig) -> Self {
        Generator::starting_at(config, START_MICROS)
    }

    /// A generator whose event-time clock starts at `clock_micros`.
    pub fn starting_at(config: GeneratorConfig, clock_micros: i64) -> Self {
        let rng = Rng(config.seed ^ 0x5eed);
        Generator { config, rng, clock: clock_micros, owed: 0.0, next_id: 0, recent: Vec::new(), state: kinds::KindState::default() }
    }

    pub fn config(&self) -> &GeneratorConfig {
        &self.config
    }

    /// Changes the knobs without restarting the stream.
    pub fn set_config(&mut self, config: GeneratorConfig) {
        self.config = config;
    }

    /// The event-time clock now.
    pub fn clock_micros(&self) -> i64 {
        self.clock
    }

    /// The events of `elapsed_ms` of processing time, spread over the event time it covers.
    pub fn advance(&mut self, elapsed_ms: f64) -> Vec<Event> {
        let c = &self.config;
        let span_micros = (elapsed_ms.max(0.0) * 1000.0 * c.speed.max(0.0)) as i64;
        self.owed += elapsed_ms.max(0.0) / 1000.0 * c.events_per_second.max(0.0);
        let n = self.owed.floor() as u64;
        self.owed -= n as f64;
        let start = self.clock;
        let mut out = Vec::with_capacity(n as usize);
        for k in 0..n {
            let now = start + (span_micros as f64 * (k + 1) as f64 / n as f64) as i64;
            self.clock = now;
            out.extend(self.one());
        }
        self.clock = start + span_micros;
        out
    }

    /// Exactly `n` events, with the clock moving `step_ms` of event time between them.
    pub fn take(&mut self, n: usize, step_ms: i64) -> Vec<Event> {
        let mut out = Vec::with_capacity(n);
        for _ in 0..n {
            self.clock += step_ms * 1000;
            out.extend(self.one());
        }
        out
    }

    /// An event time for a new event: behind the clock by the out-of-order spread, or late.
    pub(crate) fn event_time(&mut self) -> i64 {
        let c = &self.config;
        let spread = (self.rng.below(c.out_of_order_ms.max(0) as u64 + 1) as i64) * 1000;
        let late = if self.rng.chance(c.late_share) { c.late_by_ms.max(0) * 1000 } else { 0 };
        // Whole milliseconds, like the timestamps people type.
        let t = self.clock - spread - late;
        t - t.rem_euclid(1000)
    }

    pub(crate) fn timestamp(&mut self) -> Json {
        Json::String(format_timestamp(self.event_time()))
    }

    /// One step of the stream: a new event, or a retry of a recent one; sometimes a bad one.
    fn one(&mut self) -> Vec<Event> {
        if !self.recent.is_empty() && self.rng.chance(self.config.duplicate_share) {
            let k = self.rng.below(self.recent.len() as u64) as usize;
            return vec![self.recent[k].clone()];
        }
        let mut events = kinds::next(self);
        if self.rng.chance(self.config.bad_share) {
            if let Some(e) = events.first_mut() {
                kinds::spoil(self.config.kind, e);
            }
        }
        for e in &events {
            if self.recent.len() >= 64 {
                self.recent.remove(0);
            }
            self.recent.push(e.clone());
        }
        events
    }

    pub(crate) fn key(&mut self, prefix: &str) -> Json {
        Json::String(format!("{prefix}{:02}", self.rng.below(self.config.keys.max(1) as u64) + 1))
    }

    pub(crate) fn id(&mut self) -> u64 {
        self.next_id += 1;
        self.next_id
    }
}

#[cfg(test)]
mod tests;
