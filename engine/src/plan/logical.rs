//! The logical plan: what the query computes, resolved and typed, before it is turned into
//! incremental operators.

use std::fmt;

use arrow_array::RecordBatch;

use crate::expr::Expr;
use crate::sql::interval::Interval;
use crate::types::Schema;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum JoinKind {
    Inner,
    LeftOuter,
}

#[derive(Debug, Clone)]
pub enum LogicalPlan {
    /// A streaming source: a replayable log read one offset range per micro-batch.
    Source {
        name: String,
        schema: Schema,
    },
    /// A static table, read whole.
    Table {
        name: String,
        schema: Schema,
        rows: RecordBatch,
    },
    Filter {
        input: Box<LogicalPlan>,
        predicate: Expr,
    },
    Project {
        input: Box<LogicalPlan>,
        exprs: Vec<Expr>,
        schema: Schema,
    },
    /// Declares column `event_time` of the input as event time with a watermark delay.
    Watermark {
        input: Box<LogicalPlan>,
        event_time: usize,
        delay: Interval,
    },
    /// A stream joined with a static table on equal keys plus an optional residual condition.
    /// Output columns are in the order the query wrote the two sides.
    StaticJoin {
        stream: Box<LogicalPlan>,
        table: Box<LogicalPlan>,
        kind: JoinKind,
        stream_keys: Vec<Expr>,
        table_keys: Vec<Expr>,
        /// Evaluated over the joined row (columns in output order).
        residual: Option<Expr>,
        stream_first: bool,
        schema: Schema,
    },
    Union {
        inputs: Vec<LogicalPlan>,
        schema: Schema,
    },
    /// A streaming LIMIT: a global count kept across micro-batches (Spark keeps it in state).
    Limit {
        input: Box<LogicalPlan>,
        n: usize,
    },
}

impl LogicalPlan {
    pub fn schema(&self) -> &Schema {
        match self {
            LogicalPlan::Source { schema, .. }
            | LogicalPlan::Table { schema, .. }
            | LogicalPlan::Project { schema, .. }
            | LogicalPlan::StaticJoin { schema, .. }
            | LogicalPlan::Union { schema, .. } => schema,
            LogicalPlan::Filter { input, .. } | LogicalPlan::Watermark { input, .. } | LogicalPlan::Limit { input, .. } => input.schema(),
        }
    }

    pub fn children(&self) -> Vec<&LogicalPlan> {
        match self {
            LogicalPlan::Source { .. } | LogicalPlan::Table { .. } => vec![],
            LogicalPlan::Filter { input, .. }
            | LogicalPlan::Project { input, .. }
            | LogicalPlan::Watermark { input, .. }
            | LogicalPlan::Limit { input, .. } => {
                vec![input]
            }
            LogicalPlan::StaticJoin { stream, table, .. } => vec![stream, table],
            LogicalPlan::Union { inputs, .. } => inputs.iter().collect(),
        }
    }

    /// Whether any leaf is a streaming source.
    pub fn is_streaming(&self) -> bool {
        matches!(self, LogicalPlan::Source { .. }) || self.children().iter().any(|c| c.is_streaming())
    }

    pub fn has_watermark(&self) -> bool {
        matches!(self, LogicalPlan::Watermark { .. }) || self.children().iter().any(|c| c.has_watermark())
    }

    fn fmt_indent(&self, f: &mut fmt::Formatter<'_>, depth: usize) -> fmt::Result {
        let pad = "  ".repeat(depth);
        match self {
            LogicalPlan::Source { name, schema } => writeln!(f, "{pad}StreamingSource {name} [{}]", schema.names().join(", "))?,
            LogicalPlan::Table { name, rows, .. } => writeln!(f, "{pad}StaticTable {name} ({} rows)", rows.num_rows())?,
            LogicalPlan::Filter { .. } => writeln!(f, "{pad}Filter")?,
            LogicalPlan::Project { schema, .. } => writeln!(f, "{pad}Project [{}]", schema.names().join(", "))?,
            LogicalPlan::Watermark { input, event_time, delay } => {
                writeln!(f, "{pad}EventTimeWatermark {} delay {delay}", input.schema().columns[*event_time].name)?
            }
            LogicalPlan::StaticJoin { kind, .. } => writeln!(f, "{pad}StreamStaticJoin {kind:?} (stateless: the table is hashed once)")?,
            LogicalPlan::Union { .. } => writeln!(f, "{pad}Union")?,
            LogicalPlan::Limit { n, .. } => writeln!(f, "{pad}StreamingGlobalLimit {n} (state: rows emitted so far)")?,
        }
        for c in self.children() {
            c.fmt_indent(f, depth + 1)?;
        }
        Ok(())
    }
}

impl fmt::Display for LogicalPlan {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.fmt_indent(f, 0)
    }
}
