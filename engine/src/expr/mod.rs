//! Typed, resolved expressions: what the analyzer produces from SQL and what operators evaluate,
//! a column at a time, over Arrow record batches with Spark's (ANSI) semantics.

mod cast;
mod eval;
mod functions;
mod like;

pub use cast::{cast_array, CastMode};
pub use eval::Columnar;
pub use functions::Func;
pub use like::LikePattern;

use crate::types::DataType;
use crate::value::Value;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum BinaryOp {
    Add,
    Subtract,
    Multiply,
    Divide,
    Modulo,
    Eq,
    NotEq,
    Lt,
    LtEq,
    Gt,
    GtEq,
    /// `<=>`: equal, with NULL equal to NULL.
    NullSafeEq,
    And,
    Or,
}

impl BinaryOp {
    pub fn symbol(self) -> &'static str {
        match self {
            BinaryOp::Add => "+",
            BinaryOp::Subtract => "-",
            BinaryOp::Multiply => "*",
            BinaryOp::Divide => "/",
            BinaryOp::Modulo => "%",
            BinaryOp::Eq => "=",
            BinaryOp::NotEq => "!=",
            BinaryOp::Lt => "<",
            BinaryOp::LtEq => "<=",
            BinaryOp::Gt => ">",
            BinaryOp::GtEq => ">=",
            BinaryOp::NullSafeEq => "<=>",
            BinaryOp::And => "AND",
            BinaryOp::Or => "OR",
        }
    }

    pub fn is_comparison(self) -> bool {
        matches!(
            self,
            BinaryOp::Eq | BinaryOp::NotEq | BinaryOp::Lt | BinaryOp::LtEq | BinaryOp::Gt | BinaryOp::GtEq | BinaryOp::NullSafeEq
        )
    }

    pub fn is_arithmetic(self) -> bool {
        matches!(self, BinaryOp::Add | BinaryOp::Subtract | BinaryOp::Multiply | BinaryOp::Divide | BinaryOp::Modulo)
    }
}

/// A resolved expression. Operands are already coerced to the types the operation needs (the
/// analyzer inserts the casts), so evaluation never guesses.
#[derive(Debug, Clone, PartialEq)]
pub enum Expr {
    Column { index: usize, data_type: DataType },
    Literal(Value),
    Binary { op: BinaryOp, left: Box<Expr>, right: Box<Expr>, data_type: DataType },
    Not(Box<Expr>),
    Negate(Box<Expr>),
    IsNull(Box<Expr>),
    IsNotNull(Box<Expr>),
    InList { expr: Box<Expr>, list: Vec<Expr>, negated: bool },
    Like { expr: Box<Expr>, pattern: LikePattern, negated: bool },
    /// Searched CASE; each branch is evaluated only on the rows it wins, as Spark does, so an
    /// ANSI error in a branch that no row takes does not fail the batch.
    Case { branches: Vec<(Expr, Expr)>, otherwise: Option<Box<Expr>>, data_type: DataType },
    Cast { expr: Box<Expr>, to: DataType, mode: CastMode },
    Call { func: Func, args: Vec<Expr>, data_type: DataType },
    /// `w.start` / `w.end` of a window struct.
    Field { expr: Box<Expr>, index: usize },
    /// `arr[i]`, 0-based, failing the batch when out of range (Spark ANSI).
    Index { expr: Box<Expr>, index: Box<Expr>, data_type: DataType },
}

impl Expr {
    pub fn data_type(&self) -> DataType {
        match self {
            Expr::Column { data_type, .. } => data_type.clone(),
            Expr::Literal(v) => v.data_type(),
            Expr::Binary { data_type, .. } => data_type.clone(),
            Expr::Not(_) | Expr::IsNull(_) | Expr::IsNotNull(_) | Expr::InList { .. } | Expr::Like { .. } => DataType::Boolean,
            Expr::Negate(e) => e.data_type(),
            Expr::Case { data_type, .. } => data_type.clone(),
            Expr::Cast { to, .. } => to.clone(),
            Expr::Call { data_type, .. } => data_type.clone(),
            Expr::Field { .. } => DataType::Timestamp,
            Expr::Index { data_type, .. } => data_type.clone(),
        }
    }

    pub fn column(index: usize, data_type: DataType) -> Expr {
        Expr::Column { index, data_type }
    }

    /// Wraps `self` in an ANSI cast unless it already has type `to`.
    pub fn cast_to(self, to: &DataType) -> Expr {
        let from = self.data_type();
        if &from == to {
            return self;
        }
        if let Expr::Literal(Value::Null) = self {
            return Expr::Cast { expr: Box::new(self), to: to.clone(), mode: CastMode::Ansi };
        }
        Expr::Cast { expr: Box::new(self), to: to.clone(), mode: CastMode::Ansi }
    }

    /// Visits every column this expression reads.
    pub fn columns(&self, out: &mut Vec<usize>) {
        match self {
            Expr::Column { index, .. } => out.push(*index),
            Expr::Literal(_) => {}
            Expr::Binary { left, right, .. } => {
                left.columns(out);
                right.columns(out);
            }
            Expr::Not(e) | Expr::Negate(e) | Expr::IsNull(e) | Expr::IsNotNull(e) => e.columns(out),
            Expr::InList { expr, list, .. } => {
                expr.columns(out);
                list.iter().for_each(|e| e.columns(out));
            }
            Expr::Like { expr, .. } => expr.columns(out),
            Expr::Case { branches, otherwise, .. } => {
                for (w, t) in branches {
                    w.columns(out);
                    t.columns(out);
                }
                if let Some(o) = otherwise {
                    o.columns(out);
                }
            }
            Expr::Cast { expr, .. } | Expr::Field { expr, .. } => expr.columns(out),
            Expr::Call { args, .. } => args.iter().for_each(|e| e.columns(out)),
            Expr::Index { expr, index, .. } => {
                expr.columns(out);
                index.columns(out);
            }
        }
    }

    /// Rewrites column indices (used when an expression moves onto another operator's input).
    pub fn map_columns(&self, f: &dyn Fn(usize) -> usize) -> Expr {
        let m = |e: &Expr| Box::new(e.map_columns(f));
        match self {
            Expr::Column { index, data_type } => Expr::Column { index: f(*index), data_type: data_type.clone() },
            Expr::Literal(v) => Expr::Literal(v.clone()),
            Expr::Binary { op, left, right, data_type } => {
                Expr::Binary { op: *op, left: m(left), right: m(right), data_type: data_type.clone() }
            }
            Expr::Not(e) => Expr::Not(m(e)),
            Expr::Negate(e) => Expr::Negate(m(e)),
            Expr::IsNull(e) => Expr::IsNull(m(e)),
            Expr::IsNotNull(e) => Expr::IsNotNull(m(e)),
            Expr::InList { expr, list, negated } => {
                Expr::InList { expr: m(expr), list: list.iter().map(|e| e.map_columns(f)).collect(), negated: *negated }
            }
            Expr::Like { expr, pattern, negated } => Expr::Like { expr: m(expr), pattern: pattern.clone(), negated: *negated },
            Expr::Case { branches, otherwise, data_type } => Expr::Case {
                branches: branches.iter().map(|(w, t)| (w.map_columns(f), t.map_columns(f))).collect(),
                otherwise: otherwise.as_ref().map(|o| m(o)),
                data_type: data_type.clone(),
            },
            Expr::Cast { expr, to, mode } => Expr::Cast { expr: m(expr), to: to.clone(), mode: *mode },
            Expr::Call { func, args, data_type } => {
                Expr::Call { func: *func, args: args.iter().map(|e| e.map_columns(f)).collect(), data_type: data_type.clone() }
            }
            Expr::Field { expr, index } => Expr::Field { expr: m(expr), index: *index },
            Expr::Index { expr, index, data_type } => Expr::Index { expr: m(expr), index: m(index), data_type: data_type.clone() },
        }
    }
}

/// Whether `CAST(from AS to)` is allowed at all (checked at analysis, before any batch runs).
pub fn cast_array_allowed(from: &DataType, to: &DataType) -> bool {
    cast::can_cast(from, to)
}
