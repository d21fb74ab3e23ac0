//! Triggers, as in Spark: when the next micro-batch runs. The caller owns the clock (the page's
//! `requestAnimationFrame` time, a test's fake), so the same code runs in the browser and in tests.

use crate::error::Result;
use crate::runtime::{RunReport, StreamingQuery};

#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Trigger {
    /// Run one micro-batch when asked (the playground's "step" button).
    Step,
    /// Process everything available, then stop (Spark's `availableNow`).
    AvailableNow,
    /// Start a micro-batch every `interval_ms` of processing time (Spark's `processingTime`).
    ProcessingTime { interval_ms: f64 },
}

/// Drives a query with a processing-time trigger: batches start on multiples of the interval;
/// a batch that overruns its slot is followed at once by the next (Spark's ProcessingTimeExecutor).
#[derive(Debug, Clone)]
pub struct ProcessingTimeTrigger {
    interval_ms: f64,
    next_ms: Option<f64>,
}

impl ProcessingTimeTrigger {
    pub fn new(interval_ms: f64) -> Self {
        ProcessingTimeTrigger { interval_ms: interval_ms.max(0.0), next_ms: None }
    }

    /// Whether a batch is due at `now_ms`; if so, schedules the next one.
    pub fn due(&mut self, now_ms: f64) -> bool {
        let next = *self.next_ms.get_or_insert(now_ms);
        if now_ms < next {
            return false;
        }
        self.next_ms = Some(if self.interval_ms == 0.0 { now_ms } else { ((now_ms / self.interval_ms).floor() + 1.0) * self.interval_ms });
        true
    }

    /// Runs the query's next micro-batch if one is due at `now_ms`.
    pub fn tick(&mut self, query: &mut StreamingQuery, now_ms: f64) -> Result<RunReport> {
        if self.due(now_ms) {
            query.step()
        } else {
            Ok(RunReport::default())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    #[cfg(target_arch = "wasm32")]
    use wasm_bindgen_test::wasm_bindgen_test as test;

    #[test]
    fn fires_on_interval_boundaries() {
        let mut t = ProcessingTimeTrigger::new(1000.0);
        assert!(t.due(250.0), "the first tick starts a batch");
        assert!(!t.due(900.0));
        assert!(t.due(1000.0));
        assert!(!t.due(1999.0));
        // A late tick fires once and realigns, no burst of catch-up batches.
        assert!(t.due(3500.0));
        assert!(!t.due(3600.0));
        assert!(t.due(4000.0));
    }

    #[test]
    fn zero_interval_runs_as_fast_as_ticks_come() {
        let mut t = ProcessingTimeTrigger::new(0.0);
        assert!(t.due(1.0) && t.due(1.0) && t.due(2.0));
    }
}
