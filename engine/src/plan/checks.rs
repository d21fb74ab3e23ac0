//! The streaming rules Spark checks when a query starts (`UnsupportedOperationChecker`): which
//! output mode fits which query, and which operations a stream refuses.

use crate::error::{Error, ErrorKind, Result};
use crate::plan::LogicalPlan;
use crate::query::OutputMode;
use crate::sql::AnalyzedQuery;

fn aggregates(plan: &LogicalPlan, out: &mut Vec<Option<usize>>) {
    if let LogicalPlan::Aggregate { event_time_key, .. } = plan {
        out.push(*event_time_key);
    }
    plan.children().into_iter().for_each(|c| aggregates(c, out));
}

fn has_session_window(plan: &LogicalPlan) -> bool {
    matches!(plan, LogicalPlan::Aggregate { session: Some(_), .. }) || plan.children().into_iter().any(has_session_window)
}

pub fn check_start(q: &AnalyzedQuery, mode: OutputMode) -> Result<()> {
    let has_watermark = q.plan.has_watermark();
    if let Some(pos) = q.distinct_aggregate {
        return Err(Error::unsupported(
            "Distinct aggregations are not supported on streaming DataFrames/Datasets. Consider using approx_count_distinct() instead.;",
        )
        .with_condition("_LEGACY_ERROR_TEMP_3102")
        .at(Some(pos)));
    }
    let mut aggs = Vec::new();
    aggregates(&q.plan, &mut aggs);
    if mode == OutputMode::Update && has_session_window(&q.plan) {
        return Err(Error::new(
            ErrorKind::UnsupportedOutputMode,
            "[STREAMING_OUTPUT_MODE.UNSUPPORTED_OPERATION] Invalid streaming output mode: update. This output mode is not supported for session window streaming aggregations on streaming DataFrames/DataSets. SQLSTATE: 42KDE",
        )
        .with_condition("STREAMING_OUTPUT_MODE.UNSUPPORTED_OPERATION")
        .at(q.aggregation));
    }
    // Append emits a group once, when the watermark passes its event time: without a watermark,
    // or with one the GROUP BY does not carry, that moment never comes.
    let append_without_event_time = mode == OutputMode::Append && aggs.iter().any(|et| et.is_none() || !has_watermark);
    match (q.aggregation, mode) {
        (Some(pos), OutputMode::Append) if !has_watermark || append_without_event_time => {
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
    if q.plan.count_stateful() > 1 {
        return Err(Error::unsupported(
            "Chained stateful operators (an aggregation or deduplication over the result of another) are not supported by this version of Unbounded yet.",
        )
        .at(q.aggregation));
    }
    if mode == OutputMode::Update && has_limit(&q.plan) {
        return Err(Error::new(
            ErrorKind::UnsupportedOutputMode,
            "Limits are not supported on streaming DataFrames/Datasets in Update output mode;",
        )
        .with_condition("_LEGACY_ERROR_TEMP_3102"));
    }
    Ok(())
}

fn has_limit(plan: &LogicalPlan) -> bool {
    matches!(plan, LogicalPlan::Limit { .. }) || plan.children().into_iter().any(has_limit)
}
