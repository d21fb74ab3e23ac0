//! Failure points: where a micro-batch can be made to crash, to show what recovery does.

use super::StreamingQuery;

/// Where a micro-batch can be made to crash, in the order a batch passes them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum FailurePoint {
    BeforeOffsetsWrite,
    AfterOffsetsWrite,
    AfterStateWrite,
    AfterSinkWrite,
}

impl FailurePoint {
    pub const ALL: [FailurePoint; 4] =
        [FailurePoint::BeforeOffsetsWrite, FailurePoint::AfterOffsetsWrite, FailurePoint::AfterStateWrite, FailurePoint::AfterSinkWrite];

    pub fn parse(s: &str) -> Option<FailurePoint> {
        FailurePoint::ALL.into_iter().find(|p| p.as_str() == s)
    }

    pub fn as_str(self) -> &'static str {
        match self {
            FailurePoint::BeforeOffsetsWrite => "before_offsets_write",
            FailurePoint::AfterOffsetsWrite => "after_offsets_write",
            FailurePoint::AfterStateWrite => "after_state_write",
            FailurePoint::AfterSinkWrite => "after_sink_write",
        }
    }
}

impl StreamingQuery {
    pub(super) fn crash_here(&mut self, point: FailurePoint) -> bool {
        if self.armed == Some(point) {
            self.armed = None;
            return true;
        }
        false
    }
}
