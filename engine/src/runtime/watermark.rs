//! The global watermark, advanced after each batch from what its watermark operators saw.

use super::StreamingQuery;

impl StreamingQuery {
    /// Spark's watermark rule: each watermark operator proposes (max event time seen) - delay,
    /// truncated to milliseconds; the global watermark is the minimum over operators, moves only
    /// once every operator has seen data, never goes backwards and never below 0.
    pub(super) fn advance_watermark(&mut self, max_event_time: &[Option<i64>]) -> i64 {
        let rt = &mut self.runtime;
        for (k, max) in max_event_time.iter().enumerate() {
            if let Some(max) = max {
                // Saturating: a delay longer than the time since year 1 proposes "before 0", which
                // leaves the watermark unset as in Spark, where wrapping would jump it to the far future.
                let proposal = (max.div_euclid(1000) * 1000).saturating_sub(rt.pipeline.watermark_delays[k]);
                let slot = &mut rt.operator_watermarks[k];
                *slot = Some(slot.map_or(proposal, |s| s.max(proposal)));
            }
        }
        if rt.operator_watermarks.is_empty() || rt.operator_watermarks.iter().any(Option::is_none) {
            return rt.watermark;
        }
        let min = rt.operator_watermarks.iter().flatten().copied().min().unwrap_or(0);
        rt.watermark.max(min).max(0)
    }
}
