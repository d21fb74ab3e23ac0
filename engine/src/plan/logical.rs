//! The logical plan: what the query computes, resolved and typed, before it is turned into
//! incremental operators.

use std::fmt;

use arrow_array::RecordBatch;

use crate::expr::{AggregateCall, Expr};
use crate::sql::interval::Interval;
use crate::types::Schema;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum JoinKind {
    Inner,
    LeftOuter,
}

/// How two streams are joined: what the plan says and what the join operator runs.
#[derive(Debug, Clone, PartialEq)]
pub struct StreamJoinSpec {
    pub kind: StreamJoinKind,
    pub left_keys: Vec<Expr>,
    pub right_keys: Vec<Expr>,
    /// Evaluated over the joined row (left columns, then right).
    pub residual: Option<Expr>,
    /// Event-time columns of each side (when watermarked).
    pub left_time: Option<usize>,
    pub right_time: Option<usize>,
    /// From the range condition: `right_time - left_time` lies in `[lo, hi]` (microseconds).
    pub bounds: (Option<i64>, Option<i64>),
}

impl StreamJoinSpec {
    /// How far the join's output watermark lags its input (Spark's `produceOutputWatermark`):
    /// the lower of the two sides' state watermarks, `watermark - hi` for the left and
    /// `watermark + lo` for the right, less 1 ms since eviction is strict (a row exactly there
    /// may still match). None without a bounded, watermarked side: the input's passes through.
    pub fn output_watermark_lag(&self) -> Option<i64> {
        let (lo, hi) = self.bounds;
        let left = hi.filter(|_| self.left_time.is_some());
        let right = lo.filter(|_| self.right_time.is_some()).map(|lo| -lo);
        left.into_iter().chain(right).max().map(|lag| lag.saturating_add(1_000))
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StreamJoinKind {
    Inner,
    LeftOuter,
    RightOuter,
    FullOuter,
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
    /// Two streams joined on equal keys and a residual condition (usually a time range). Both
    /// sides are buffered in state; a side is evicted once the watermark says no future row of
    /// the other side can match it.
    StreamJoin {
        left: Box<LogicalPlan>,
        right: Box<LogicalPlan>,
        spec: StreamJoinSpec,
        schema: Schema,
    },
    /// A streaming LIMIT: a global count kept across micro-batches (Spark keeps it in state).
    Limit {
        input: Box<LogicalPlan>,
        n: usize,
    },
    /// `window(time, size[, slide[, start]])`: appends a `{start, end}` column, one row per
    /// window that covers the row's time (several for sliding windows; none for a NULL time).
    WindowAssign {
        input: Box<LogicalPlan>,
        time: Expr,
        window: WindowSpec,
        schema: Schema,
    },
    /// ORDER BY: sorts each batch's output (only the whole result of a complete-mode
    /// aggregation can be sorted).
    Sort {
        input: Box<LogicalPlan>,
        keys: Vec<SortKey>,
    },
    /// `DEDUPLICATE [WITHIN WATERMARK] BY (cols)`: Spark's `dropDuplicates(cols)` and
    /// `dropDuplicatesWithinWatermark(cols)`; keeps the first row of each key.
    Deduplicate {
        input: Box<LogicalPlan>,
        keys: Vec<usize>,
        within_watermark: bool,
        /// The watermark delay, for WITHIN WATERMARK: a key is remembered until the watermark
        /// passes its first event time plus this.
        delay_micros: i64,
    },
    /// A generator (`explode`, `posexplode`, their `_outer` forms, `LATERAL VIEW`): each input
    /// row repeated once per element of an array, with the generated columns appended.
    Generate {
        input: Box<LogicalPlan>,
        generator: Generator,
        schema: Schema,
    },
    /// Stateful aggregation: groups by `keys`, then `aggregates`; output is keys then aggregates.
    Aggregate {
        input: Box<LogicalPlan>,
        keys: Vec<Expr>,
        aggregates: Vec<AggregateCall>,
        /// The key that carries event time (a window or the watermarked column), which drives
        /// emission in append mode, eviction and late-row dropping.
        event_time_key: Option<usize>,
        /// A session window among the keys: then `keys[session.key]` stands for the session,
        /// which the operator computes by merging rows of the other keys.
        session: Option<SessionSpec>,
        schema: Schema,
    },
}

impl LogicalPlan {
    /// How many aggregations and deduplications the plan chains.
    pub fn count_stateful(&self) -> usize {
        usize::from(matches!(self, LogicalPlan::Aggregate { .. } | LogicalPlan::Deduplicate { .. }))
            + self.children().iter().map(|c| c.count_stateful()).sum::<usize>()
    }
}

/// Whether `e` is the event-time column `et`, or `window_time()` of it (which Spark keeps as
/// event time, unlike `w.end`).
pub fn carries_event_time(e: &Expr, et: usize) -> bool {
    match e {
        Expr::Column { index, .. } => *index == et,
        Expr::Call { func: crate::expr::Func::WindowTime, args, .. } => {
            matches!(args.as_slice(), [Expr::Column { index, .. }] if *index == et)
        }
        _ => false,
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct SortKey {
    pub expr: Expr,
    pub descending: bool,
    pub nulls_first: bool,
}

/// A generator call: which one, over what array, and whether a row whose array is NULL or
/// empty still gives one row (of NULLs), as `_outer` and `LATERAL VIEW OUTER` do.
#[derive(Debug, Clone, PartialEq)]
pub struct Generator {
    pub kind: GeneratorKind,
    pub arg: Expr,
    pub outer: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GeneratorKind {
    /// One column, the element (`col`).
    Explode,
    /// The element's position from 0 (`pos`), then the element (`col`).
    PosExplode,
    /// `inline`: each element is a struct of `columns` fields, appended as that many columns
    /// (`stack` and `json_tuple` are inline over the array of structs the analyzer builds).
    Inline { columns: usize },
}

impl GeneratorKind {
    /// The generated columns' default names (Spark's).
    pub fn default_names(self) -> &'static [&'static str] {
        match self {
            GeneratorKind::Explode => &["col"],
            GeneratorKind::PosExplode => &["pos", "col"],
            GeneratorKind::Inline { .. } => &[],
        }
    }

    /// How many columns the generator appends.
    pub fn added(self) -> usize {
        match self {
            GeneratorKind::Inline { columns } => columns,
            other => other.default_names().len(),
        }
    }
}

/// `session_window(time, gap)`.
#[derive(Debug, Clone, PartialEq)]
pub struct SessionSpec {
    /// Position of the session among the grouping keys.
    pub key: usize,
    pub time: Expr,
    pub gap: SessionGap,
}

#[derive(Debug, Clone, PartialEq)]
pub enum SessionGap {
    Fixed(i64),
    /// A string expression (`CASE ... THEN '5 seconds' ...`) evaluated for each row.
    PerRow(Expr),
}

/// A time window's shape, in microseconds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct WindowSpec {
    pub size: i64,
    pub slide: i64,
    pub start: i64,
}

impl LogicalPlan {
    pub fn schema(&self) -> &Schema {
        match self {
            LogicalPlan::Source { schema, .. }
            | LogicalPlan::Table { schema, .. }
            | LogicalPlan::Project { schema, .. }
            | LogicalPlan::StaticJoin { schema, .. }
            | LogicalPlan::StreamJoin { schema, .. }
            | LogicalPlan::Union { schema, .. }
            | LogicalPlan::WindowAssign { schema, .. }
            | LogicalPlan::Generate { schema, .. }
            | LogicalPlan::Aggregate { schema, .. } => schema,
            LogicalPlan::Filter { input, .. }
            | LogicalPlan::Watermark { input, .. }
            | LogicalPlan::Limit { input, .. }
            | LogicalPlan::Sort { input, .. }
            | LogicalPlan::Deduplicate { input, .. } => input.schema(),
        }
    }

    pub fn children(&self) -> Vec<&LogicalPlan> {
        match self {
            LogicalPlan::Source { .. } | LogicalPlan::Table { .. } => vec![],
            LogicalPlan::Filter { input, .. }
            | LogicalPlan::Project { input, .. }
            | LogicalPlan::Watermark { input, .. }
            | LogicalPlan::Limit { input, .. }
            | LogicalPlan::WindowAssign { input, .. }
            | LogicalPlan::Generate { input, .. }
            | LogicalPlan::Deduplicate { input, .. }
            | LogicalPlan::Sort { input, .. }
            | LogicalPlan::Aggregate { input, .. } => vec![input],
            LogicalPlan::StaticJoin { stream, table, .. } => vec![stream, table],
            LogicalPlan::StreamJoin { left, right, .. } => vec![left, right],
            LogicalPlan::Union { inputs, .. } => inputs.iter().collect(),
        }
    }

    /// Whether any leaf is a streaming source.
    pub fn is_streaming(&self) -> bool {
        matches!(self, LogicalPlan::Source { .. }) || self.children().iter().any(|c| c.is_streaming())
    }

    /// The output column that carries event time (Spark's watermark metadata on an attribute):
    /// the watermarked column, a window computed from it, or a grouping key that is one of those.
    pub fn event_time_column(&self) -> Option<usize> {
        match self {
            LogicalPlan::Watermark { event_time, .. } => Some(*event_time),
            LogicalPlan::Source { .. } | LogicalPlan::Table { .. } => None,
            LogicalPlan::Filter { input, .. }
            | LogicalPlan::Limit { input, .. }
            | LogicalPlan::Sort { input, .. }
            // The input's columns come first, where they were.
            | LogicalPlan::Generate { input, .. }
            | LogicalPlan::Deduplicate { input, .. } => input.event_time_column(),
            LogicalPlan::Project { input, exprs, .. } => {
                let et = input.event_time_column()?;
                exprs.iter().position(|e| carries_event_time(e, et))
            }
            LogicalPlan::WindowAssign { input, time, schema, .. } => {
                let et = input.event_time_column()?;
                carries_event_time(time, et).then_some(schema.len() - 1)
            }
            LogicalPlan::Aggregate { event_time_key, .. } => *event_time_key,
            LogicalPlan::StaticJoin { stream, stream_first, table, .. } => {
                let et = stream.event_time_column()?;
                Some(if *stream_first { et } else { table.schema().len() + et })
            }
            // The joined row's event time is the left side's (Spark keeps both; one is enough here).
            LogicalPlan::StreamJoin { spec, .. } => spec.left_time,
            LogicalPlan::Union { inputs, .. } => {
                let first = inputs.first()?.event_time_column()?;
                inputs.iter().all(|i| i.event_time_column() == Some(first)).then_some(first)
            }
        }
    }

    /// Whether the plan holds state between micro-batches.
    pub fn is_stateful(&self) -> bool {
        matches!(
            self,
            LogicalPlan::Aggregate { .. } | LogicalPlan::Limit { .. } | LogicalPlan::Deduplicate { .. } | LogicalPlan::StreamJoin { .. }
        ) || self.children().iter().any(|c| c.is_stateful())
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
            LogicalPlan::WindowAssign { window, .. } => {
                let iv = |m: i64| crate::sql::interval::Interval::from_micros(m).to_string();
                if window.slide == window.size {
                    writeln!(f, "{pad}TimeWindow tumbling {}", iv(window.size))?
                } else {
                    writeln!(f, "{pad}TimeWindow sliding {} every {}", iv(window.size), iv(window.slide))?
                }
            }
            LogicalPlan::Generate { generator, schema, .. } => {
                let added = generator.kind.added();
                let names = schema.names();
                writeln!(
                    f,
                    "{pad}Generate {:?}{} [{}] (stateless: one row per element)",
                    generator.kind,
                    if generator.outer { " outer" } else { "" },
                    names[names.len() - added..].join(", ")
                )?
            }
            LogicalPlan::Sort { keys, .. } => writeln!(f, "{pad}Sort by {} keys (the whole result, every batch)", keys.len())?,
            LogicalPlan::StreamJoin { spec: spec @ StreamJoinSpec { kind, bounds, .. }, .. } => {
                let iv = |m: i64| crate::sql::interval::Interval::from_micros(m).to_string();
                let range = match bounds {
                    (Some(lo), Some(hi)) => format!("right time - left time within [{}, {}]", iv(*lo), iv(*hi)),
                    _ => "no time range: state is never evicted".to_string(),
                };
                let range = match spec.output_watermark_lag() {
                    Some(lag) => format!("{range}; output watermark: the input's less {}", iv(lag)),
                    None => range,
                };
                writeln!(f, "{pad}StreamingSymmetricHashJoin {kind:?} (state: both sides' rows; {range})")?
            }
            LogicalPlan::Deduplicate { input, keys, within_watermark, delay_micros } => {
                let names = input.schema().names();
                let cols: Vec<&str> = keys.iter().map(|&k| names[k].as_str()).collect();
                let evict = match (within_watermark, input.event_time_column()) {
                    (true, _) => format!(
                        "each key kept until the watermark passes its first event time + {}",
                        crate::sql::interval::Interval::from_micros(*delay_micros)
                    ),
                    (false, Some(et)) if keys.contains(&et) => format!("evicted when `{}` is behind the watermark", names[et]),
                    _ => "never evicted (no event-time column among the keys)".to_string(),
                };
                writeln!(
                    f,
                    "{pad}StreamingDeduplicate{} by [{}] (state: one row per key; {evict})",
                    if *within_watermark { "WithinWatermark" } else { "" },
                    cols.join(", ")
                )?
            }
            LogicalPlan::Aggregate { keys, aggregates, event_time_key, schema, session, .. } => {
                let names = schema.names();
                if let Some(sp) = session {
                    let gap = match &sp.gap {
                        SessionGap::Fixed(m) => crate::sql::interval::Interval::from_micros(*m).to_string(),
                        SessionGap::PerRow(_) => "a gap computed per row".to_string(),
                    };
                    writeln!(
                        f,
                        "{pad}SessionWindow `{}` gap {gap} (rows of one key whose gaps touch merge into one session)",
                        names[sp.key]
                    )?;
                }
                let key_names = names[..keys.len()].join(", ");
                let evict = match event_time_key {
                    Some(k) => format!("evicted when `{}` is behind the watermark", names[*k]),
                    None => "never evicted (no event-time key)".to_string(),
                };
                writeln!(
                    f,
                    "{pad}StatefulAggregate keys [{key_names}], {} aggregates (state: one row per group; {evict})",
                    aggregates.len()
                )?
            }
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
