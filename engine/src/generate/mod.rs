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

use crate::error::{Error, Result};
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

/// The knobs' bounds, for the page's inputs and for [`GeneratorConfig::validate`]. Every count
/// the generator allocates for is bounded by them, whatever number a person types.
pub const MAX_EVENTS_PER_SECOND: f64 = 100_000.0;
pub const MAX_KEYS: u32 = 1_000_000;
/// The out-of-order spread and the lateness, each at most a day.
pub const MAX_SPREAD_MS: i64 = 86_400_000;
/// Event-time seconds per second of processing time: at most a day per second.
pub const MAX_SPEED: f64 = 86_400.0;
/// Processing time one [`Generator::advance`] covers at most: a tab that slept for an hour
/// does not owe an hour of events at once (its stream thins out instead).
pub const MAX_ADVANCE_MS: f64 = 10_000.0;
/// Events one [`Generator::advance`] produces at most.
pub const MAX_EVENTS_PER_ADVANCE: u64 = 100_000;

impl GeneratorConfig {
    /// Checks every knob is a finite number within its bounds; the error names the knob, the
    /// value and the bounds.
    pub fn validate(&self) -> Result<()> {
        let range = |name: &str, v: f64, max: f64, unit: &str| -> Result<()> {
            if v.is_finite() && (0.0..=max).contains(&v) {
                Ok(())
            } else {
                // 1e308, not 309 digits.
                let v = if v.abs() >= 1e15 { format!("{v:e}") } else { v.to_string() };
                Err(Error::invalid_input(format!("the generator's {name} must be a number from 0 to {max}{unit}, not {v}")))
            }
        };
        range("events per second", self.events_per_second, MAX_EVENTS_PER_SECOND, "")?;
        if !(1..=MAX_KEYS).contains(&self.keys) {
            return Err(Error::invalid_input(format!("the generator's number of keys must be from 1 to {MAX_KEYS}, not {}", self.keys)));
        }
        range("out-of-order spread", self.out_of_order_ms as f64, MAX_SPREAD_MS as f64, " ms (a day)")?;
        range("lateness", self.late_by_ms as f64, MAX_SPREAD_MS as f64, " ms (a day)")?;
        range("late share", self.late_share, 1.0, "")?;
        range("duplicate share", self.duplicate_share, 1.0, "")?;
        range("bad record share", self.bad_share, 1.0, "")?;
        range("speed", self.speed, MAX_SPEED, " event seconds per second (a day)")?;
        Ok(())
    }

    /// The knobs pulled into their bounds (a non-finite number to the nearest sensible one):
    /// what a generator runs with even if no one validated its knobs.
    fn clamped(mut self) -> Self {
        let clamp = |v: f64, max: f64| if v.is_nan() { 0.0 } else { v.clamp(0.0, max) };
        self.events_per_second = clamp(self.events_per_second, MAX_EVENTS_PER_SECOND);
        self.keys = self.keys.clamp(1, MAX_KEYS);
        self.out_of_order_ms = self.out_of_order_ms.clamp(0, MAX_SPREAD_MS);
        self.late_by_ms = self.late_by_ms.clamp(0, MAX_SPREAD_MS);
        self.late_share = clamp(self.late_share, 1.0);
        self.duplicate_share = clamp(self.duplicate_share, 1.0);
        self.bad_share = clamp(self.bad_share, 1.0);
        self.speed = clamp(self.speed, MAX_SPEED);
        self
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
    /// Knobs out of bounds are pulled into them (see [`GeneratorConfig::validate`] for the error
    /// to show).
    pub fn starting_at(config: GeneratorConfig, clock_micros: i64) -> Self {
        let config = config.clamped();
        let rng = Rng(config.seed ^ 0x5eed);
        Generator { config, rng, clock: clock_micros, owed: 0.0, next_id: 0, recent: Vec::new(), state: kinds::KindState::default() }
    }

    pub fn config(&self) -> &GeneratorConfig {
        &self.config
    }

    /// Changes the knobs without restarting the stream.
    pub fn set_config(&mut self, config: GeneratorConfig) {
        self.config = config.clamped();
    }

    /// The event-time clock now.
    pub fn clock_micros(&self) -> i64 {
        self.clock
    }

    /// The events of `elapsed_ms` of processing time, spread over the event time it covers.
    /// At most [`MAX_ADVANCE_MS`] of processing time counts, and at most
    /// [`MAX_EVENTS_PER_ADVANCE`] events come out.
    pub fn advance(&mut self, elapsed_ms: f64) -> Vec<Event> {
        let c = &self.config;
        let elapsed_ms = if elapsed_ms.is_nan() { 0.0 } else { elapsed_ms.clamp(0.0, MAX_ADVANCE_MS) };
        // Both factors are bounded: at most 10 s x 1000 x 86,400, far inside an i64.
        let span_micros = (elapsed_ms * 1000.0 * c.speed) as i64;
        self.owed += elapsed_ms / 1000.0 * c.events_per_second;
        let n = (self.owed.floor() as u64).min(MAX_EVENTS_PER_ADVANCE);
        self.owed = (self.owed - n as f64).min(1.0);
        let start = self.clock;
        let mut out = Vec::with_capacity(n as usize);
        for k in 0..n {
            let now = start.saturating_add((span_micros as f64 * (k + 1) as f64 / n as f64) as i64);
            self.clock = now;
            out.extend(self.one());
        }
        self.clock = start.saturating_add(span_micros);
        out
    }

    /// Exactly `n` events, with the clock moving `step_ms` of event time between them.
    pub fn take(&mut self, n: usize, step_ms: i64) -> Vec<Event> {
        let mut out = Vec::with_capacity(n.min(MAX_EVENTS_PER_ADVANCE as usize));
        let step = step_ms.saturating_mul(1000);
        for _ in 0..n {
            self.clock = self.clock.saturating_add(step);
            out.extend(self.one());
        }
        out
    }

    /// An event time for a new event: behind the clock by the out-of-order spread, or late.
    pub(crate) fn event_time(&mut self) -> i64 {
        let c = &self.config;
        // Both at most a day (the knobs are clamped).
        let spread = (self.rng.below(c.out_of_order_ms.max(0) as u64 + 1) as i64) * 1000;
        let late = if self.rng.chance(c.late_share) { c.late_by_ms.max(0) * 1000 } else { 0 };
        // Whole milliseconds, like the timestamps people type.
        let t = self.clock.saturating_sub(spread).saturating_sub(late);
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
