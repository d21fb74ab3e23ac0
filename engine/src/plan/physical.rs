//! Turns the logical plan into the operator tree a micro-batch runs through.

use arrow_array::RecordBatch;
use arrow_select::filter::filter_record_batch;

use crate::error::{Error, Result};
use crate::ops::{
    AggregateOp, DedupOp, FilterOp, GenerateOp, LimitOp, Node, ProjectOp, SessionWindowOp, SortOp, StaticJoinOp, StreamJoinOp, UnionOp,
    WatermarkOp, WindowAssignOp,
};
use crate::plan::LogicalPlan;
use crate::plan::OutputMode;

/// The operator tree plus what the query needs to feed it.
pub struct Pipeline {
    pub root: Node,
    /// Source names, by the index `Node::Scan` uses.
    pub sources: Vec<String>,
    /// Delay of each watermark operator, in microseconds, by operator id.
    pub watermark_delays: Vec<i64>,
    /// The source each watermark reads (by `watermark_delays`' index), for per-input progress.
    pub watermark_sources: Vec<String>,
}

impl Pipeline {
    /// Whether some operator wants a no-data batch when the watermark moves.
    pub fn wants_no_data_batch(&self) -> bool {
        let mut wants = false;
        self.root.visit(&mut |op| wants |= op.wants_no_data_batch());
        wants
    }
}

pub fn build(plan: &LogicalPlan, mode: OutputMode) -> Result<Pipeline> {
    let mut p =
        Pipeline { root: Node::Scan { index: 0 }, sources: Vec::new(), watermark_delays: Vec::new(), watermark_sources: Vec::new() };
    let ctx = Build { mode, has_watermark: plan.has_watermark() };
    p.root = node(plan, &mut p, &ctx)?;
    p.root.assign_state_ids(&mut 0);
    Ok(p)
}

struct Build {
    mode: OutputMode,
    has_watermark: bool,
}

fn op(op: impl crate::ops::Operator + 'static, children: Vec<Node>) -> Node {
    Node::Op { op: Box::new(op), children, state_id: None }
}

fn node(plan: &LogicalPlan, p: &mut Pipeline, b: &Build) -> Result<Node> {
    Ok(match plan {
        LogicalPlan::Source { name, .. } => {
            let index = match p.sources.iter().position(|s| s == name) {
                Some(i) => i,
                None => {
                    p.sources.push(name.clone());
                    p.sources.len() - 1
                }
            };
            Node::Scan { index }
        }
        LogicalPlan::Table { name, .. } => return Err(Error::internal(format!("static table {name} outside a join"))),
        LogicalPlan::Filter { input, predicate } => op(FilterOp::new(predicate.clone()), vec![node(input, p, b)?]),
        LogicalPlan::Project { input, exprs, schema } => op(ProjectOp::new(exprs.clone(), schema.to_arrow()), vec![node(input, p, b)?]),
        LogicalPlan::Watermark { input, event_time, delay } => {
            let id = p.watermark_delays.len();
            p.watermark_delays.push(delay.total_micros());
            p.watermark_sources.push(source_below(input).unwrap_or_default());
            op(WatermarkOp::new(id, *event_time), vec![node(input, p, b)?])
        }
        LogicalPlan::StaticJoin { stream, table, kind, stream_keys, table_keys, residual, stream_first, schema } => {
            let rows = evaluate_static(table)?;
            let join = StaticJoinOp::new(*kind, stream_keys.clone(), rows, table_keys, residual.clone(), *stream_first, schema.to_arrow())?;
            op(join, vec![node(stream, p, b)?])
        }
        LogicalPlan::StreamJoin { left, right, spec, schema } => {
            let types = |p: &LogicalPlan| p.schema().columns.iter().map(|c| c.data_type.clone()).collect::<Vec<_>>();
            let mut spec = spec.clone();
            // Without a watermark in the query, nothing is late and nothing is evicted.
            if !b.has_watermark {
                (spec.left_time, spec.right_time) = (None, None);
            }
            let join = StreamJoinOp::new(spec, types(left), types(right), schema.to_arrow());
            op(join, vec![node(left, p, b)?, node(right, p, b)?])
        }
        LogicalPlan::Union { inputs, schema } => {
            let children = inputs.iter().map(|i| node(i, p, b)).collect::<Result<Vec<_>>>()?;
            op(UnionOp::new(schema.to_arrow()), children)
        }
        // In complete mode each batch emits the whole result: a LIMIT is per batch (top-N after
        // a sort), not the running count Spark keeps for append mode.
        LogicalPlan::Limit { input, n } => op(LimitOp::new(*n, b.mode != OutputMode::Complete), vec![node(input, p, b)?]),
        LogicalPlan::Sort { input, keys } => op(SortOp::new(keys.clone()), vec![node(input, p, b)?]),
        LogicalPlan::WindowAssign { input, time, window, schema } => {
            op(WindowAssignOp::new(time.clone(), *window, schema.to_arrow()), vec![node(input, p, b)?])
        }
        LogicalPlan::Generate { input, generator, schema } => {
            op(GenerateOp::new(generator.clone(), schema.to_arrow()), vec![node(input, p, b)?])
        }
        LogicalPlan::Deduplicate { input, keys, within_watermark, delay_micros } => {
            let event_time = if b.has_watermark { input.event_time_column() } else { None };
            let columns = &input.schema().columns;
            let key_types = keys.iter().map(|&k| columns.get(k).map_or(crate::types::DataType::Null, |c| c.data_type.clone())).collect();
            op(DedupOp::new(keys.clone(), key_types, event_time, *within_watermark, *delay_micros), vec![node(input, p, b)?])
        }
        LogicalPlan::Aggregate { input, keys, aggregates, event_time_key, session: None, schema } => op(
            AggregateOp::new(keys.clone(), aggregates.clone(), schema.to_arrow(), b.mode, *event_time_key, b.has_watermark)
                .with_row_time(window_time(input)),
            vec![node(input, p, b)?],
        ),
        LogicalPlan::Aggregate { input, keys, aggregates, event_time_key, session: Some(session), schema } => op(
            SessionWindowOp::new(
                keys.clone(),
                session.clone(),
                aggregates.clone(),
                schema.to_arrow(),
                b.mode,
                event_time_key.is_some() && b.has_watermark,
            ),
            vec![node(input, p, b)?],
        ),
    })
}

/// Computes a static subplan (a table, filtered or projected) once, when the query starts.
/// The time expression of the window an aggregation's input was assigned (through filters, which
/// keep the columns where they are).
fn window_time(plan: &LogicalPlan) -> Option<crate::expr::Expr> {
    match plan {
        LogicalPlan::WindowAssign { time, .. } => Some(time.clone()),
        LogicalPlan::Filter { input, .. } => window_time(input),
        _ => None,
    }
}

fn evaluate_static(plan: &LogicalPlan) -> Result<RecordBatch> {
    match plan {
        LogicalPlan::Table { rows, .. } => Ok(rows.clone()),
        LogicalPlan::Filter { input, predicate } => {
            let b = evaluate_static(input)?;
            let mask = predicate.evaluate_predicate(&b)?;
            Ok(filter_record_batch(&b, &mask)?)
        }
        LogicalPlan::Project { input, exprs, schema } => {
            let b = evaluate_static(input)?;
            let cols = exprs.iter().map(|e| e.evaluate_to_array(&b)).collect::<Result<Vec<_>>>()?;
            let options = arrow_array::RecordBatchOptions::new().with_row_count(Some(b.num_rows()));
            Ok(RecordBatch::try_new_with_options(schema.to_arrow(), cols, &options)?)
        }
        LogicalPlan::Limit { input, n } => {
            let b = evaluate_static(input)?;
            Ok(b.slice(0, (*n).min(b.num_rows())))
        }
        other => Err(Error::unsupported(format!("this static subquery cannot be joined yet:\n{other}"))),
    }
}

/// The first stream source under `plan`: what a watermark clause reads.
fn source_below(plan: &LogicalPlan) -> Option<String> {
    match plan {
        LogicalPlan::Source { name, .. } => Some(name.clone()),
        other => other.children().into_iter().find_map(source_below),
    }
}
