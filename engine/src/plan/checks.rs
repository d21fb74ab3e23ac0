//! The streaming rules Spark checks when a query starts (`UnsupportedOperationChecker`): which
//! output mode fits which query, and which operations a stream refuses.

use crate::error::{Error, ErrorKind, Result};
use crate::query::OutputMode;
use crate::sql::AnalyzedQuery;

pub fn check_start(q: &AnalyzedQuery, mode: OutputMode) -> Result<()> {
    let has_watermark = q.plan.has_watermark();
    if let Some(pos) = q.distinct_aggregate {
        return Err(Error::unsupported(
            "Distinct aggregations are not supported on streaming DataFrames/Datasets. Consider using approx_count_distinct() instead.;",
        )
        .with_condition("_LEGACY_ERROR_TEMP_3102")
        .at(Some(pos)));
    }
    match (q.aggregation, mode) {
        (Some(pos), OutputMode::Append) if !has_watermark => {
            return Err(Error::new(
                ErrorKind::MissingWatermark,
                "[STREAMING_OUTPUT_MODE.UNSUPPORTED_OPERATION] Invalid streaming output mode: append. This output mode is not supported for streaming aggregations without watermark on streaming DataFrames/DataSets. SQLSTATE: 42KDE",
            )
            .with_condition("STREAMING_OUTPUT_MODE.UNSUPPORTED_OPERATION")
            .at(Some(pos)));
        }
        (None, OutputMode::Complete) => {
            return Err(Error::new(
                ErrorKind::UnsupportedOutputMode,
                "[STREAMING_OUTPUT_MODE.UNSUPPORTED_OPERATION] Invalid streaming output mode: complete. This output mode is not supported for no streaming aggregations on streaming DataFrames/DataSets. SQLSTATE: 42KDE",
            )
            .with_condition("STREAMING_OUTPUT_MODE.UNSUPPORTED_OPERATION"));
        }
        _ => {}
    }
    if let Some(pos) = q.order_by {
        if q.aggregation.is_none() || mode != OutputMode::Complete {
            return Err(Error::new(
                ErrorKind::UnsupportedOutputMode,
                "Sorting is not supported on streaming DataFrames/Datasets, unless it is on aggregated DataFrame/Dataset in Complete output mode;",
            )
            .with_condition("_LEGACY_ERROR_TEMP_3102")
            .at(Some(pos)));
        }
    }
    if let Some(pos) = q.aggregation {
        return Err(Error::unsupported(
            "Streaming aggregation (GROUP BY, aggregate functions, DISTINCT, windows) is not supported by this version of Unbounded yet: it arrives with the stateful operators.",
        )
        .at(Some(pos)));
    }
    Ok(())
}
