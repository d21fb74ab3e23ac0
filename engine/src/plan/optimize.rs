//! The one rewrite whose effect a user can see: Spark pushes filters down, through projections
//! and through `EventTimeWatermark` when they do not read the event-time column. Rows a WHERE
//! removes then never reach the watermark operator, so they do not advance the watermark.

use crate::expr::{BinaryOp, Expr};
use crate::plan::LogicalPlan;
use crate::types::DataType;

pub fn optimize(plan: LogicalPlan) -> LogicalPlan {
    match plan {
        LogicalPlan::Filter { input, predicate } => push_filter(optimize(*input), predicate),
        LogicalPlan::Project { input, exprs, schema } => LogicalPlan::Project { input: Box::new(optimize(*input)), exprs, schema },
        LogicalPlan::Watermark { input, event_time, delay } => LogicalPlan::Watermark { input: Box::new(optimize(*input)), event_time, delay },
        LogicalPlan::Limit { input, n } => LogicalPlan::Limit { input: Box::new(optimize(*input)), n },
        LogicalPlan::Union { inputs, schema } => LogicalPlan::Union { inputs: inputs.into_iter().map(optimize).collect(), schema },
        LogicalPlan::StaticJoin { stream, table, kind, stream_keys, table_keys, residual, stream_first, schema } => LogicalPlan::StaticJoin {
            stream: Box::new(optimize(*stream)),
            table,
            kind,
            stream_keys,
            table_keys,
            residual,
            stream_first,
            schema,
        },
        leaf => leaf,
    }
}

fn conjuncts(e: Expr, out: &mut Vec<Expr>) {
    match e {
        Expr::Binary { op: BinaryOp::And, left, right, .. } => {
            conjuncts(*left, out);
            conjuncts(*right, out);
        }
        other => out.push(other),
    }
}

fn and_all(mut parts: Vec<Expr>) -> Option<Expr> {
    let first = if parts.is_empty() { return None } else { parts.remove(0) };
    Some(parts.into_iter().fold(first, |acc, p| Expr::Binary { op: BinaryOp::And, left: Box::new(acc), right: Box::new(p), data_type: DataType::Boolean }))
}

fn filter(input: LogicalPlan, predicate: Option<Expr>) -> LogicalPlan {
    match predicate {
        Some(p) => LogicalPlan::Filter { input: Box::new(input), predicate: p },
        None => input,
    }
}

/// Replaces each column reference by the projection's expression for it.
fn substitute(e: &Expr, exprs: &[Expr]) -> Expr {
    fn walk(e: &Expr, exprs: &[Expr]) -> Expr {
        match e {
            Expr::Column { index, .. } => exprs[*index].clone(),
            Expr::Literal(_) => e.clone(),
            Expr::Binary { op, left, right, data_type } => {
                Expr::Binary { op: *op, left: Box::new(walk(left, exprs)), right: Box::new(walk(right, exprs)), data_type: data_type.clone() }
            }
            Expr::Not(x) => Expr::Not(Box::new(walk(x, exprs))),
            Expr::Negate(x) => Expr::Negate(Box::new(walk(x, exprs))),
            Expr::IsNull(x) => Expr::IsNull(Box::new(walk(x, exprs))),
            Expr::IsNotNull(x) => Expr::IsNotNull(Box::new(walk(x, exprs))),
            Expr::InList { expr, list, negated } => {
                Expr::InList { expr: Box::new(walk(expr, exprs)), list: list.iter().map(|l| walk(l, exprs)).collect(), negated: *negated }
            }
            Expr::Like { expr, pattern, negated } => Expr::Like { expr: Box::new(walk(expr, exprs)), pattern: pattern.clone(), negated: *negated },
            Expr::Case { branches, otherwise, data_type } => Expr::Case {
                branches: branches.iter().map(|(w, t)| (walk(w, exprs), walk(t, exprs))).collect(),
                otherwise: otherwise.as_ref().map(|o| Box::new(walk(o, exprs))),
                data_type: data_type.clone(),
            },
            Expr::Cast { expr, to, mode } => Expr::Cast { expr: Box::new(walk(expr, exprs)), to: to.clone(), mode: *mode },
            Expr::Call { func, args, data_type } => Expr::Call { func: *func, args: args.iter().map(|a| walk(a, exprs)).collect(), data_type: data_type.clone() },
            Expr::Field { expr, index } => Expr::Field { expr: Box::new(walk(expr, exprs)), index: *index },
            Expr::Index { expr, index, data_type } => {
                Expr::Index { expr: Box::new(walk(expr, exprs)), index: Box::new(walk(index, exprs)), data_type: data_type.clone() }
            }
        }
    }
    walk(e, exprs)
}

fn push_filter(input: LogicalPlan, predicate: Expr) -> LogicalPlan {
    match input {
        LogicalPlan::Project { input: below, exprs, schema } => {
            let pushed = substitute(&predicate, &exprs);
            LogicalPlan::Project { input: Box::new(push_filter(*below, pushed)), exprs, schema }
        }
        LogicalPlan::Watermark { input: below, event_time, delay } => {
            let mut parts = Vec::new();
            conjuncts(predicate, &mut parts);
            let (stay, pass): (Vec<Expr>, Vec<Expr>) = parts.into_iter().partition(|p| {
                let mut cols = Vec::new();
                p.columns(&mut cols);
                cols.contains(&event_time)
            });
            let below = match and_all(pass) {
                Some(p) => push_filter(*below, p),
                None => *below,
            };
            filter(LogicalPlan::Watermark { input: Box::new(below), event_time, delay }, and_all(stay))
        }
        LogicalPlan::Union { inputs, schema } => {
            LogicalPlan::Union { inputs: inputs.into_iter().map(|i| push_filter(i, predicate.clone())).collect(), schema }
        }
        LogicalPlan::Filter { input: below, predicate: first } => {
            let both = Expr::Binary { op: BinaryOp::And, left: Box::new(first), right: Box::new(predicate), data_type: DataType::Boolean };
            push_filter(*below, both)
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
    fn a_filter_without_the_event_time_goes_below_the_watermark() {
        let q = analyze("SELECT id FROM STREAM events WATERMARK ts DELAY OF INTERVAL 5 SECONDS WHERE id > 0 AND ts > TIMESTAMP '2026-01-01'", &catalog()).unwrap();
        let text = optimize(q.plan).to_string();
        // Project, then the filter on ts above the watermark, then the filter on id below it.
        let lines: Vec<&str> = text.lines().map(str::trim).collect();
        assert_eq!(lines, vec!["Project [id]", "Filter", "EventTimeWatermark ts delay 5 seconds", "Filter", "StreamingSource events [id, ts]"], "{text}");
    }
}
