//! Incremental operators: one file per operator, one trait. A micro-batch flows bottom-up
//! through a tree of [`Node`]s; stateful operators keep their state between batches and hand it
//! to the checkpoint.

mod aggregate;
mod dedup;
mod filter;
mod generate;
pub mod keys;
mod limit;
mod project;
mod session_window;
mod sort;
mod static_join;
mod stream_join;
mod union;
mod watermark;
pub mod window;

pub use aggregate::AggregateOp;
pub use dedup::DedupOp;
pub use filter::FilterOp;
pub use generate::GenerateOp;
pub use limit::LimitOp;
pub use project::ProjectOp;
pub use session_window::SessionWindowOp;
pub use sort::SortOp;
pub use static_join::StaticJoinOp;
pub use stream_join::StreamJoinOp;
pub use union::UnionOp;
pub use watermark::WatermarkOp;
pub use window::WindowAssignOp;

use arrow_array::RecordBatch;
use serde::Serialize;

use crate::error::Result;
use crate::state::StateTable;
use crate::types::DataType;
use crate::value::Value;

/// What one micro-batch hands its operators, besides their inputs. It holds nothing an operator
/// changes for another: watermarks travel with the batches (see [`Watermarks`]).
pub struct BatchContext<'a> {
    /// This batch's rows of each source, by source index.
    pub sources: &'a [RecordBatch],
    /// The query's watermarks for this batch: what every scan hands the operators above it.
    pub watermarks: Watermarks,
    /// Largest event time each watermark operator saw in this batch.
    pub max_event_time: Vec<Option<i64>>,
    /// Rows dropped as late by stateful operators in this batch, with why.
    pub late_rows: Vec<LateRow>,
    /// The watermark each operator ran with in this batch, as the batches carried it to it.
    pub operator_watermarks: Vec<OperatorWatermark>,
}

/// The eviction watermark one operator received in a micro-batch: above a stream-stream join it
/// lags the query's (the page closes a window when the window's operator saw it pass).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OperatorWatermark {
    /// The operator's name (`timeWindow`, `stateStoreSave`, ...).
    pub operator: &'static str,
    /// Its state id, for a stateful operator.
    pub state_id: Option<String>,
    pub eviction: i64,
}

impl BatchContext<'_> {
    /// Records a row a stateful operator dropped as late, for the progress, the page and the
    /// runner document: one place, so every operator reports a drop the same way.
    pub fn drop_late(&mut self, operator: &str, row: Vec<Value>, event_time: i64, watermark: i64, window: Option<(i64, i64)>) {
        self.late_rows.push(LateRow { operator: operator.to_string(), row, event_time, watermark, window });
    }
}

/// Row `i` of `batch` as values: how a dropped row is kept.
pub fn row_values(batch: &RecordBatch, i: usize) -> Vec<Value> {
    batch.columns().iter().map(|c| Value::from_array(c.as_ref(), i)).collect()
}

/// The event-time watermarks a batch carries from an operator to the one above it, in
/// microseconds (0 = none yet). Each operator reads its inputs' and says what its output carries
/// ([`Operator::output_watermarks`]): a stream-stream join lowers them for the operators above
/// it, and for those only (Spark's per-operator watermark propagation), never for a sibling.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Watermarks {
    /// For emission and eviction: this batch's watermark.
    pub eviction: i64,
    /// What input rows are judged late against: the previous batch's.
    pub late: i64,
}

impl Watermarks {
    /// The watermarks an operator with several inputs sees: the lowest of each (Spark's `min` policy).
    pub fn min(self, other: Watermarks) -> Watermarks {
        Watermarks { eviction: self.eviction.min(other.eviction), late: self.late.min(other.late) }
    }
}

/// The message between operators: a batch of rows and the watermarks that come with it.
pub struct Batch {
    pub rows: RecordBatch,
    pub watermarks: Watermarks,
}

/// A row a stateful operator dropped because it arrived behind the watermark.
#[derive(Debug, Clone, PartialEq)]
pub struct LateRow {
    pub operator: String,
    /// The row as the operator received it.
    pub row: Vec<crate::value::Value>,
    /// Its own event time (for a windowed aggregation, the time its window was assigned from).
    pub event_time: i64,
    pub watermark: i64,
    /// The closed window it fell into, for a windowed aggregation.
    pub window: Option<(i64, i64)>,
}

/// Spark's `stateOperators` progress entry for one stateful operator.
#[derive(Debug, Clone, PartialEq, Serialize, Default)]
pub struct StateOperatorProgress {
    pub operator_name: String,
    pub num_rows_total: u64,
    pub num_rows_updated: u64,
    pub num_rows_removed: u64,
    pub num_rows_dropped_by_watermark: u64,
    pub memory_used_bytes: u64,
}

pub trait Operator {
    /// Short name for EXPLAIN, progress and checkpoint paths.
    fn name(&self) -> &'static str;

    /// Processes one micro-batch: the outputs of the children, in order, and the watermarks they
    /// carry (the lowest of the children's).
    fn on_batch(&mut self, inputs: Vec<RecordBatch>, watermarks: Watermarks, ctx: &mut BatchContext) -> Result<RecordBatch>;

    /// The watermarks the operator's output carries, given its input's: the same for every
    /// operator but the stream-stream join, whose rows may lie behind its input's watermark.
    fn output_watermarks(&self, input: Watermarks) -> Watermarks {
        input
    }

    /// The operator's state metrics; None for stateless operators.
    fn state_progress(&self) -> Option<StateOperatorProgress> {
        None
    }

    /// Whether a micro-batch without new data should run when the watermark moves (Spark's
    /// `shouldRunAnotherBatch`): operators that emit or evict on the watermark say yes.
    fn wants_no_data_batch(&self) -> bool {
        false
    }

    /// The names of the operator's state tables (`default`, or `left` and `right` for a join);
    /// empty for a stateless operator.
    fn state_table_names(&self) -> &'static [&'static str] {
        &[]
    }

    /// The state tables, in the order of [`Operator::state_table_names`], for the state store to
    /// write a version of after each micro-batch and to load on restart.
    fn state_tables(&mut self) -> Vec<&mut dyn StateTable> {
        Vec::new()
    }

    /// The same tables, to read: what the state view shows when someone asks for it.
    fn state_tables_ref(&self) -> Vec<&dyn StateTable> {
        Vec::new()
    }

    /// Called once the state tables were loaded from the checkpoint, before
    /// [`Operator::state_loaded`]: checks that what was read is state this operator could have
    /// written (key shapes, value types, keys that match their values), and says what is wrong
    /// when it is not, so a damaged checkpoint is refused rather than trusted.
    fn check_state(&self) -> std::result::Result<(), String> {
        Ok(())
    }

    /// Called once the state tables were loaded from the checkpoint (and checked).
    fn state_loaded(&mut self) {}
}

/// Whether `v` is a value of type `t` (NULL is a value of every type): state read back from a
/// checkpoint is checked with it before an operator uses it.
pub fn fits(v: &Value, t: &DataType) -> bool {
    match (v, t) {
        (Value::Null, _) => true,
        (Value::String(_), DataType::String)
        | (Value::Int(_), DataType::Int)
        | (Value::BigInt(_), DataType::BigInt)
        | (Value::Double(_), DataType::Double)
        | (Value::Boolean(_), DataType::Boolean)
        | (Value::Timestamp(_), DataType::Timestamp) => true,
        (Value::Window { start, end }, DataType::Window) => start <= end,
        (Value::Array(items), DataType::Array(inner)) => items.iter().all(|v| fits(v, inner)),
        (Value::Date(_), DataType::Date) | (Value::Binary(_), DataType::Binary) => true,
        (Value::Decimal { unscaled, precision, scale }, DataType::Decimal(p, s)) => {
            precision == p && scale == s && unscaled.unsigned_abs() < crate::types::decimal::pow10(u32::from(*p)).unsigned_abs()
        }
        (Value::Struct(fields), DataType::Struct(types)) => {
            fields.len() == types.len() && fields.iter().zip(types).all(|((n, v), (m, t))| n == m && fits(v, t))
        }
        (Value::Map(entries), DataType::Map(k, v)) => entries.iter().all(|(key, x)| !key.is_null() && fits(key, k) && fits(x, v)),
        _ => false,
    }
}

/// Checks a row of values read back from a checkpoint against the types of its columns.
pub fn row_fits(row: &[Value], types: &[DataType]) -> std::result::Result<(), String> {
    if row.len() != types.len() {
        return Err(format!("a row has {} values where the operator's rows have {}", row.len(), types.len()));
    }
    match row.iter().zip(types).position(|(v, t)| !fits(v, t)) {
        Some(k) => Err(format!("a row's value {:?} at position {k} is not of type {}", row[k], types[k].spark_name())),
        None => Ok(()),
    }
}

/// How many candidate pairs a join may consider in one micro-batch: counted before any is
/// built, so a join that would explode (no equality key, or one hot key) stops at once.
pub const MAX_JOIN_PAIRS_PER_BATCH: u64 = 10_000_000;

/// How many rows a join may output in one micro-batch.
pub const MAX_JOIN_OUTPUT_ROWS_PER_BATCH: u64 = 2_000_000;

/// The error for a join that would output more than [`MAX_JOIN_OUTPUT_ROWS_PER_BATCH`] rows
/// (`rows`: how many it would, or had reached when it stopped).
pub(crate) fn too_many_rows(join: &str, rows: u64) -> crate::error::Error {
    join_too_large(
        format!("the {join} join would output at least {rows} rows in this micro-batch, over the limit of {MAX_JOIN_OUTPUT_ROWS_PER_BATCH} rows"),
        "Make the join condition stricter (an equality on a key with many values, a tighter time range), or feed fewer rows per micro-batch.",
    )
}

/// The error for a join over one of the budgets above: `what` says what it would have done
/// and the limit, `advice` how to stay within it.
pub(crate) fn join_too_large(what: String, advice: &str) -> crate::error::Error {
    crate::error::Error::new(
        crate::error::ErrorKind::Runtime,
        format!("{what}; the query stopped before doing that work, and before committing this micro-batch. {advice}"),
    )
}

/// A node of the operator tree.
pub enum Node {
    /// Reads this batch's rows of source `index`.
    Scan { index: usize },
    Op {
        op: Box<dyn Operator>,
        children: Vec<Node>,
        /// For a stateful operator, the id the plan gave it: its state lives under
        /// `state/<id>/<table>` in the checkpoint (Spark's `state/<operatorId>`).
        state_id: Option<String>,
    },
}

impl Node {
    /// Runs the subtree on this micro-batch: its output rows and the watermarks they carry.
    pub fn execute(&mut self, ctx: &mut BatchContext) -> Result<Batch> {
        match self {
            Node::Scan { index } => Ok(Batch { rows: ctx.sources[*index].clone(), watermarks: ctx.watermarks }),
            Node::Op { op, children, state_id } => {
                let mut inputs = Vec::with_capacity(children.len());
                let mut watermarks: Option<Watermarks> = None;
                for child in children.iter_mut() {
                    let out = child.execute(ctx)?;
                    watermarks = Some(watermarks.map_or(out.watermarks, |w| w.min(out.watermarks)));
                    inputs.push(out.rows);
                }
                let watermarks = watermarks.unwrap_or(ctx.watermarks);
                ctx.operator_watermarks.push(OperatorWatermark {
                    operator: op.name(),
                    state_id: state_id.clone(),
                    eviction: watermarks.eviction,
                });
                let rows = op.on_batch(inputs, watermarks, ctx)?;
                Ok(Batch { rows, watermarks: op.output_watermarks(watermarks) })
            }
        }
    }

    /// Numbers the stateful operators, children before parents, as Spark numbers its state
    /// directories, with the operator's name so a person reading the checkpoint knows whose
    /// state it is (`0-stateStoreSave`). `next` is the first number to give.
    pub fn assign_state_ids(&mut self, next: &mut usize) {
        if let Node::Op { op, children, state_id } = self {
            children.iter_mut().for_each(|c| c.assign_state_ids(next));
            if !op.state_table_names().is_empty() {
                *state_id = Some(format!("{next}-{}", op.name()));
                *next += 1;
            }
        }
    }

    /// Visits every operator, depth-first, children before parents.
    pub fn visit(&self, f: &mut dyn FnMut(&dyn Operator)) {
        if let Node::Op { op, children, .. } = self {
            children.iter().for_each(|c| c.visit(f));
            f(op.as_ref());
        }
    }

    /// Visits every stateful operator with its state id, children before parents.
    pub fn visit_stateful(&self, f: &mut dyn FnMut(&str, &dyn Operator)) {
        if let Node::Op { op, children, state_id } = self {
            children.iter().for_each(|c| c.visit_stateful(f));
            if let Some(id) = state_id {
                f(id, op.as_ref());
            }
        }
    }

    /// [`Node::visit_stateful`] with the operators mutable, stopping at the first error.
    pub fn visit_stateful_mut(&mut self, f: &mut dyn FnMut(&str, &mut dyn Operator) -> Result<()>) -> Result<()> {
        if let Node::Op { op, children, state_id } = self {
            for c in children.iter_mut() {
                c.visit_stateful_mut(f)?;
            }
            if let Some(id) = state_id {
                f(id, op.as_mut())?;
            }
        }
        Ok(())
    }
}
