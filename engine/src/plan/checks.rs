//! The streaming rules Spark checks when a query starts (`UnsupportedOperationChecker`): which
//! output mode fits which query, and which operations a stream refuses.

use crate::error::{Error, ErrorKind, Result};
use crate::plan::logical::StreamJoinKind;
use crate::plan::LogicalPlan;
use crate::plan::OutputMode;
use crate::sql::AnalyzedQuery;

fn aggregates(plan: &LogicalPlan, out: &mut Vec<Option<usize>>) {
    if let LogicalPlan::Aggregate { event_time_key, .. } = plan {
        out.push(*event_time_key);
    }
    plan.children().into_iter().for_each(|c| aggregates(c, out));
}

/// Whether a deduplication or limit reads the output of an aggregation.
fn stateful_above_aggregate(plan: &LogicalPlan, above: bool) -> bool {
    match plan {
        LogicalPlan::Aggregate { .. } if above => true,
        LogicalPlan::Deduplicate { .. } => plan.children().into_iter().any(|c| stateful_above_aggregate(c, true)),
        _ => plan.children().into_iter().any(|c| stateful_above_aggregate(c, above)),
    }
}

/// The kind of the first stream-stream join in the plan, if it has one.
fn stream_join_kind(plan: &LogicalPlan) -> Option<StreamJoinKind> {
    match plan {
        LogicalPlan::StreamJoin { spec, .. } => Some(spec.kind),
        _ => plan.children().into_iter().find_map(stream_join_kind),
    }
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
    // Deduplication feeding one aggregation runs (each operator filters its own late rows);
    // an aggregation over another aggregation needs per-operator watermarks, not built yet.
    if aggs.len() > 1 && (mode != OutputMode::Append || !has_watermark) {
        return Err(Error::unsupported(
            "Detected pattern of possible 'correctness' issue due to global watermark. The query contains stateful operation which can emit rows older than the current watermark plus allowed late record delay, which are \"late rows\" in downstream stateful operations and these rows can be discarded. Please refer the programming guide doc for more details. If you understand the possible risk of correctness issue and still need to run the query, you can disable this check by setting the config `spark.sql.streaming.statefulOperator.checkCorrectness.enabled` to false.;",
        )
        .with_condition("_LEGACY_ERROR_TEMP_3102")
        .at(q.aggregation));
    }
    if (q.plan.count_stateful() > 1 && aggs.is_empty()) || stateful_above_aggregate(&q.plan, false) {
        return Err(Error::unsupported(
            "Chained stateful operators (an aggregation or deduplication over the result of another) are not supported by this version of Unbounded yet.",
        )
        .at(q.aggregation));
    }
    // A join's output can feed an aggregation (its output watermark lags its input), but
    // complete mode would keep every joined row: Spark refuses it whatever the join.
    if let (Some(kind), OutputMode::Complete) = (stream_join_kind(&q.plan), mode) {
        return Err(Error::new(
            ErrorKind::UnsupportedOutputMode,
            format!("{kind:?} join between two streaming DataFrames/Datasets is not supported in Complete output mode, only in Append and Update output modes;"),
        )
        .with_condition("_LEGACY_ERROR_TEMP_3102")
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sql::{analyze, Catalog};
    use crate::types::{Column, DataType, Schema};
    #[cfg(target_arch = "wasm32")]
    use wasm_bindgen_test::wasm_bindgen_test as test;

    fn check(sql: &str, mode: OutputMode) -> Result<()> {
        let schema = Schema::new(vec![
            Column { name: "id".into(), data_type: DataType::String },
            Column { name: "ts".into(), data_type: DataType::Timestamp },
        ]);
        let q = analyze(sql, &Catalog { sources: vec![("e".into(), schema)], tables: vec![] })?;
        check_start(&q, mode)
    }

    #[test]
    fn dedup_may_feed_an_aggregation_but_not_read_one() {
        let wm = "FROM STREAM e WATERMARK ts DELAY OF INTERVAL 5 SECONDS";
        assert!(check(
            &format!("SELECT window(ts, '1 minute') AS w, count(*) AS n {wm} DEDUPLICATE BY (id, ts) GROUP BY window(ts, '1 minute')"),
            OutputMode::Append
        )
        .is_ok());
        let over = format!("SELECT * FROM (SELECT id, count(*) AS n {wm} GROUP BY id) DEDUPLICATE BY (id)");
        let err = check(&over, OutputMode::Update).unwrap_err();
        assert!(err.message.contains("Chained stateful operators"), "{}", err.message);
        let twice = format!("SELECT n, count(*) FROM (SELECT id, count(*) AS n {wm} GROUP BY id) GROUP BY n");
        assert!(check(&twice, OutputMode::Update).is_err());
    }

    #[test]
    fn output_mode_rules() {
        assert_eq!(check("SELECT id FROM e", OutputMode::Complete).unwrap_err().kind, ErrorKind::UnsupportedOutputMode);
        assert_eq!(check("SELECT id, count(*) FROM e GROUP BY id", OutputMode::Append).unwrap_err().kind, ErrorKind::MissingWatermark);
        assert!(check("SELECT id, count(*) FROM e GROUP BY id", OutputMode::Update).is_ok());
        assert_eq!(check("SELECT id FROM e ORDER BY id", OutputMode::Append).unwrap_err().kind, ErrorKind::UnsupportedOutputMode);
        assert!(check("SELECT id, count(*) AS n FROM e GROUP BY id ORDER BY n", OutputMode::Complete).is_ok());
        assert_eq!(
            check("SELECT id, count(*) FROM e GROUP BY id LIMIT 1", OutputMode::Update).unwrap_err().kind,
            ErrorKind::UnsupportedOutputMode
        );
    }
}
