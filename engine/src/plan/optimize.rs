//! The one rewrite whose effect a user can see: Spark pushes filters down, through projections
//! and through `EventTimeWatermark` when they do not read the event-time column. Rows a WHERE
//! removes then never reach the watermark operator, so they do not advance the watermark.

use crate::expr::{BinaryOp, Expr};
use crate::plan::LogicalPlan;
use crate::types::DataType;

/// The largest predicate (in expression nodes) a filter is rewritten into when it is pushed
/// below a projection.
const MAX_PUSHED_PREDICATE: usize = 10_000;

pub fn optimize(plan: LogicalPlan) -> LogicalPlan {
    match plan {
        LogicalPlan::Filter { input, predicate } => push_filter(optimize(*input), predicate),
        LogicalPlan::Project { input, exprs, schema } => LogicalPlan::Project { input: Box::new(optimize(*input)), exprs, schema },
        LogicalPlan::Watermark { input, event_time, delay } => {
            LogicalPlan::Watermark { input: Box::new(optimize(*input)), event_time, delay }
        }
        LogicalPlan::Limit { input, n } => LogicalPlan::Limit { input: Box::new(optimize(*input)), n },
        LogicalPlan::Union { inputs, schema } => LogicalPlan::Union { inputs: inputs.into_iter().map(optimize).collect(), schema },
        LogicalPlan::StaticJoin { stream, table, kind, stream_keys, table_keys, residual, stream_first, schema } => {
            LogicalPlan::StaticJoin {
                stream: Box::new(optimize(*stream)),
                table,
                kind,
                stream_keys,
                table_keys,
                residual,
                stream_first,
                schema,
            }
        }
        LogicalPlan::WindowAssign { input, time, window, schema } => {
            LogicalPlan::WindowAssign { input: Box::new(optimize(*input)), time, window, schema }
        }
        LogicalPlan::Generate { input, generator, schema } => {
            LogicalPlan::Generate { input: Box::new(optimize(*input)), generator, schema }
        }
        LogicalPlan::Aggregate { input, keys, aggregates, event_time_key, session, schema } => {
            LogicalPlan::Aggregate { input: Box::new(optimize(*input)), keys, aggregates, event_time_key, session, schema }
        }
        LogicalPlan::Sort { input, keys } => LogicalPlan::Sort { input: Box::new(optimize(*input)), keys },
        LogicalPlan::StreamJoin { left, right, spec, schema } => {
            LogicalPlan::StreamJoin { left: Box::new(optimize(*left)), right: Box::new(optimize(*right)), spec, schema }
        }
        LogicalPlan::Deduplicate { input, keys, within_watermark, delay_micros } => {
            LogicalPlan::Deduplicate { input: Box::new(optimize(*input)), keys, within_watermark, delay_micros }
        }
        leaf @ (LogicalPlan::Source { .. } | LogicalPlan::Table { .. }) => leaf,
    }
}

fn filter(input: LogicalPlan, predicate: Option<Expr>) -> LogicalPlan {
    match predicate {
        Some(p) => LogicalPlan::Filter { input: Box::new(input), predicate: p },
        None => input,
    }
}

fn push_filter(input: LogicalPlan, predicate: Expr) -> LogicalPlan {
    match input {
        LogicalPlan::Project { input: below, exprs, schema } => {
            // Substituting the projection's expressions can multiply the predicate's size at
            // every level it passes (`SELECT x + x AS x` stacked thirty times): past a bound the
            // filter stays where the query wrote it.
            let sizes: Vec<usize> = exprs.iter().map(|e| e.size_up_to(MAX_PUSHED_PREDICATE)).collect();
            let weight = |e: &Expr| match e {
                Expr::Column { index, .. } => Some(sizes.get(*index).copied().unwrap_or(1)),
                _ => None,
            };
            if predicate.weighted_size(&weight, MAX_PUSHED_PREDICATE) >= MAX_PUSHED_PREDICATE {
                return LogicalPlan::Filter { input: Box::new(LogicalPlan::Project { input: below, exprs, schema }), predicate };
            }
            let pushed = predicate.transform_columns(&|index, _| exprs[index].clone());
            LogicalPlan::Project { input: Box::new(push_filter(*below, pushed)), exprs, schema }
        }
        LogicalPlan::Watermark { input: below, event_time, delay } => {
            let (stay, pass): (Vec<Expr>, Vec<Expr>) = predicate.conjuncts().into_iter().partition(|p| {
                let mut cols = Vec::new();
                p.columns(&mut cols);
                cols.contains(&event_time)
            });
            let below = match Expr::and_all(pass) {
                Some(p) => push_filter(*below, p),
                None => *below,
            };
            filter(LogicalPlan::Watermark { input: Box::new(below), event_time, delay }, Expr::and_all(stay))
        }
        LogicalPlan::Union { inputs, schema } => {
            LogicalPlan::Union { inputs: inputs.into_iter().map(|i| push_filter(i, predicate.clone())).collect(), schema }
        }
        LogicalPlan::Filter { input: below, predicate: first } => {
            let both = Expr::binary(BinaryOp::And, first, predicate, DataType::Boolean);
            push_filter(*below, both)
        }
        // Conditions on the stream's columns alone go below the join, to the stream (for a LEFT
        // join the stream is the preserved side, so a WHERE on it may move below too).
        LogicalPlan::StaticJoin { stream, table, kind, stream_keys, table_keys, residual, stream_first, schema } => {
            let table_width = table.schema().len();
            let stream_width = stream.schema().len();
            let offset = if stream_first { 0 } else { table_width };
            let (down, stay): (Vec<Expr>, Vec<Expr>) = predicate.conjuncts().into_iter().partition(|p| {
                let mut cols = Vec::new();
                p.columns(&mut cols);
                !cols.is_empty() && cols.iter().all(|&c| c >= offset && c < offset + stream_width)
            });
            let stream = match Expr::and_all(down) {
                Some(p) => push_filter(*stream, p.map_columns(&|c| c - offset)),
                None => *stream,
            };
            let join =
                LogicalPlan::StaticJoin { stream: Box::new(stream), table, kind, stream_keys, table_keys, residual, stream_first, schema };
            filter(join, Expr::and_all(stay))
        }
        other => LogicalPlan::Filter { input: Box::new(other), predicate },
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sql::{analyze, Catalog};
    use crate::types::{Column, Schema};
    #[cfg(target_arch = "wasm32")]
    use wasm_bindgen_test::wasm_bindgen_test as test;

    fn catalog() -> Catalog {
        let schema = Schema::new(vec![
            Column { name: "id".into(), data_type: DataType::Int },
            Column { name: "ts".into(), data_type: DataType::Timestamp },
        ]);
        Catalog { sources: vec![("events".into(), schema)], tables: vec![] }
    }

    #[test]
    fn a_filter_on_the_stream_side_goes_below_a_static_join() {
        let mut c = catalog();
        let table = Schema::new(vec![
            Column { name: "id".into(), data_type: DataType::Int },
            Column { name: "name".into(), data_type: DataType::String },
        ]);
        c.tables.push(("names".into(), table.clone(), arrow_array::RecordBatch::new_empty(table.to_arrow())));
        let q = analyze("SELECT e.id FROM STREAM events WATERMARK ts DELAY OF INTERVAL 5 SECONDS AS e JOIN names n ON e.id = n.id WHERE e.id > 0 AND n.name <> 'x'", &c).unwrap();
        let text = optimize(q.plan).to_string();
        let lines: Vec<&str> = text.lines().map(str::trim).collect();
        assert_eq!(lines[1], "Filter", "the condition on the table stays above: {text}");
        assert_eq!(&lines[3..6], &["EventTimeWatermark ts delay 5 seconds", "Filter", "StreamingSource events [id, ts]"], "{text}");
    }

    #[test]
    fn a_filter_without_the_event_time_goes_below_the_watermark() {
        let q = analyze(
            "SELECT id FROM STREAM events WATERMARK ts DELAY OF INTERVAL 5 SECONDS WHERE id > 0 AND ts > TIMESTAMP '2026-01-01'",
            &catalog(),
        )
        .unwrap();
        let text = optimize(q.plan).to_string();
        // Project, then the filter on ts above the watermark, then the filter on id below it.
        let lines: Vec<&str> = text.lines().map(str::trim).collect();
        assert_eq!(
            lines,
            vec!["Project [id]", "Filter", "EventTimeWatermark ts delay 5 seconds", "Filter", "StreamingSource events [id, ts]"],
            "{text}"
        );
    }
}
