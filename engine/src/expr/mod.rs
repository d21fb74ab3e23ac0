//! Typed, resolved expressions: what the analyzer produces from SQL and what operators evaluate,
//! a column at a time, over Arrow record batches with Spark's (ANSI) semantics.

pub mod aggregate;
mod cast;
pub mod catalog;
mod eval;
pub mod functions;
pub mod hll;
mod kernels;
pub mod lambda;
mod like;
mod quantiles;
mod sketches;

pub use aggregate::{AggFunc, AggregateCall};
pub use cast::{cast_array, CastMode};
pub use eval::Columnar;
pub use functions::Func;
pub use lambda::{HigherOrder, HigherOrderFunc, Lambda};
pub use like::LikePattern;

use crate::types::DataType;
use crate::value::Value;

/// Spark's `nondecimalAndDecimal` rule for a binary operator with a decimal side: an integer
/// literal becomes the narrowest decimal that holds it (`2` a DECIMAL(1,0)), an integer column
/// DECIMAL(10,0) or DECIMAL(20,0), and a double (or a string, read as a double) turns the
/// decimal into a double. None when neither side is a decimal.
pub fn decimal_operands(l: Expr, r: Expr) -> Option<(Expr, Expr)> {
    use crate::types::decimal;
    let (lt, rt) = (l.data_type(), r.data_type());
    if lt.decimal().is_none() && rt.decimal().is_none() {
        return None;
    }
    let as_decimal = |e: Expr| -> Expr {
        let (p, s) = match &e {
            Expr::Literal(Value::Int(v)) => decimal::for_literal(i64::from(*v)),
            Expr::Literal(Value::BigInt(v)) => decimal::for_literal(*v),
            other => decimal::for_integral(other.data_type() == DataType::BigInt),
        };
        e.cast_to(&DataType::Decimal(p, s))
    };
    Some(match (&lt, &rt) {
        (DataType::Decimal(..), t) if t.is_integral() => (l, as_decimal(r)),
        (t, DataType::Decimal(..)) if t.is_integral() => (as_decimal(l), r),
        (DataType::Decimal(..), DataType::Double | DataType::String) | (DataType::Double | DataType::String, DataType::Decimal(..)) => {
            (l.cast_to(&DataType::Double), r.cast_to(&DataType::Double))
        }
        (DataType::Decimal(..), DataType::Null) => (l, r.cast_to(&lt)),
        (DataType::Null, DataType::Decimal(..)) => (l.cast_to(&rt), r),
        _ => (l, r),
    })
}

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

    /// Operators of one precedence level, which SQL chains left-deep (`a + b - c`): a run of
    /// them becomes one [`Expr::Chain`].
    fn family(self) -> u8 {
        match self {
            BinaryOp::And => 0,
            BinaryOp::Or => 1,
            BinaryOp::Add | BinaryOp::Subtract => 2,
            BinaryOp::Multiply | BinaryOp::Divide | BinaryOp::Modulo => 3,
            _ => 4,
        }
    }
}

/// One step of an [`Expr::Chain`]: the value so far (cast to `left_cast` first, when set)
/// combined with `right`.
#[derive(Debug, Clone, PartialEq)]
pub struct Link {
    pub op: BinaryOp,
    pub left_cast: Option<DataType>,
    pub right: Expr,
    pub data_type: DataType,
}

/// A resolved expression. Operands are already coerced to the types the operation needs (the
/// analyzer inserts the casts), so evaluation never guesses.
#[derive(Debug, Clone, PartialEq)]
pub enum Expr {
    Column {
        index: usize,
        data_type: DataType,
    },
    Literal(Value),
    Binary {
        op: BinaryOp,
        left: Box<Expr>,
        right: Box<Expr>,
        data_type: DataType,
    },
    /// A left-deep run of binary operators of one precedence level, `((first op r) op r) ...`,
    /// kept flat: a query may chain thousands of terms, and no pass (analysis, evaluation, clone,
    /// drop) may recurse on their number. Never empty; built by [`Expr::binary`].
    Chain {
        first: Box<Expr>,
        links: Vec<Link>,
    },
    Not(Box<Expr>),
    Negate(Box<Expr>),
    IsNull(Box<Expr>),
    IsNotNull(Box<Expr>),
    InList {
        expr: Box<Expr>,
        list: Vec<Expr>,
        negated: bool,
    },
    Like {
        expr: Box<Expr>,
        pattern: LikePattern,
        negated: bool,
    },
    /// Searched CASE; each branch is evaluated only on the rows it wins, as Spark does, so an
    /// ANSI error in a branch that no row takes does not fail the batch.
    Case {
        branches: Vec<(Expr, Expr)>,
        otherwise: Option<Box<Expr>>,
        data_type: DataType,
    },
    Cast {
        expr: Box<Expr>,
        to: DataType,
        mode: CastMode,
    },
    Call {
        func: Func,
        args: Vec<Expr>,
        data_type: DataType,
    },
    /// `w.start` / `w.end` of a window struct.
    Field {
        expr: Box<Expr>,
        index: usize,
    },
    /// `arr[i]`, 0-based, failing the batch when out of range (Spark ANSI).
    Index {
        expr: Box<Expr>,
        index: Box<Expr>,
        data_type: DataType,
    },
    /// A call of a higher-order function with its lambdas (lambda.rs).
    HigherOrder(Box<HigherOrder>),
    /// An argument of an enclosing lambda: the column `from_end` places before the end of the
    /// batch the lambda's body runs over (1 is the last).
    LambdaVar {
        from_end: usize,
        data_type: DataType,
    },
}

impl Expr {
    pub fn data_type(&self) -> DataType {
        match self {
            Expr::Column { data_type, .. } => data_type.clone(),
            Expr::Literal(v) => v.data_type(),
            Expr::Binary { data_type, .. } => data_type.clone(),
            Expr::Chain { first, links } => links.last().map_or_else(|| first.data_type(), |l| l.data_type.clone()),
            Expr::Not(_) | Expr::IsNull(_) | Expr::IsNotNull(_) | Expr::InList { .. } | Expr::Like { .. } => DataType::Boolean,
            Expr::Negate(e) => e.data_type(),
            Expr::Case { data_type, .. } => data_type.clone(),
            Expr::Cast { to, .. } => to.clone(),
            Expr::Call { data_type, .. } => data_type.clone(),
            Expr::Field { expr, index } => {
                expr.data_type().struct_fields().and_then(|f| f.get(*index).map(|(_, t)| t.clone())).unwrap_or(DataType::Null)
            }
            Expr::Index { data_type, .. } => data_type.clone(),
            Expr::HigherOrder(h) => h.data_type.clone(),
            Expr::LambdaVar { data_type, .. } => data_type.clone(),
        }
    }

    pub fn column(index: usize, data_type: DataType) -> Expr {
        Expr::Column { index, data_type }
    }

    /// `left op right` (operands already coerced). When `left` is itself a run of operators of
    /// the same precedence level (possibly under the cast the analyzer put on it), the new step
    /// extends that run instead of nesting it, so chains stay flat however long they are.
    pub fn binary(op: BinaryOp, left: Expr, right: Expr, data_type: DataType) -> Expr {
        let chains = |e: &Expr| match e {
            Expr::Binary { op: inner, .. } => inner.family() == op.family(),
            Expr::Chain { links, .. } => links.last().is_some_and(|l| l.op.family() == op.family()),
            _ => false,
        };
        let (left, left_cast) = match left {
            Expr::Cast { expr, to, mode: CastMode::Ansi } if chains(&expr) => (*expr, Some(to)),
            other => (other, None),
        };
        if !chains(&left) {
            let left = match left_cast {
                Some(to) => Expr::Cast { expr: Box::new(left), to, mode: CastMode::Ansi },
                None => left,
            };
            return Expr::Binary { op, left: Box::new(left), right: Box::new(right), data_type };
        }
        let link = Link { op, left_cast, right, data_type };
        match left {
            Expr::Binary { op: first_op, left: first, right: first_right, data_type: first_type } => {
                Expr::Chain { first, links: vec![Link { op: first_op, left_cast: None, right: *first_right, data_type: first_type }, link] }
            }
            Expr::Chain { first, mut links } => {
                links.push(link);
                Expr::Chain { first, links }
            }
            other => other,
        }
    }

    /// When `self` is a chain whose leading steps are exactly `prefix` (a binary expression or
    /// a shorter chain), the steps after it: `a + b + c` after `a + b` is `+ c`. A GROUP BY key
    /// `a + b` is a part of the SELECT expression `a + b + c`, as in Spark.
    pub fn chain_after<'e>(&'e self, prefix: &Expr) -> Option<&'e [Link]> {
        let Expr::Chain { first, links } = self else { return None };
        let (p_first, p_links): (&Expr, Vec<Link>) = match prefix {
            Expr::Binary { op, left, right, data_type } => {
                (left, vec![Link { op: *op, left_cast: None, right: (**right).clone(), data_type: data_type.clone() }])
            }
            Expr::Chain { first, links } => (first, links.clone()),
            _ => return None,
        };
        if p_links.len() >= links.len() || p_first != first.as_ref() || links[..p_links.len()] != p_links[..] {
            return None;
        }
        Some(&links[p_links.len()..])
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

    /// The number of nodes in the expression, counting no further than `cap`.
    pub fn size_up_to(&self, cap: usize) -> usize {
        self.weighted_size(&|_| None, cap)
    }

    /// The number of nodes, where `weight` may stand for a whole subtree (say, the size of the
    /// expression a column will be replaced by); counting no further than `cap`.
    pub fn weighted_size(&self, weight: &dyn Fn(&Expr) -> Option<usize>, cap: usize) -> usize {
        let mut n: usize = 0;
        let mut todo = vec![self];
        while let Some(e) = todo.pop() {
            if let Some(w) = weight(e) {
                n = n.saturating_add(w);
                if n >= cap {
                    return cap;
                }
                continue;
            }
            n += 1;
            if n >= cap {
                return cap;
            }
            match e {
                Expr::Column { .. } | Expr::Literal(_) | Expr::LambdaVar { .. } => {}
                Expr::HigherOrder(h) => {
                    todo.extend(h.args.iter());
                    todo.extend(h.lambdas.iter().map(|l| &l.body));
                }
                Expr::Binary { left, right, .. } | Expr::Index { expr: left, index: right, .. } => {
                    todo.push(left);
                    todo.push(right);
                }
                Expr::Chain { first, links } => {
                    todo.push(first);
                    todo.extend(links.iter().map(|l| &l.right));
                }
                Expr::Not(e)
                | Expr::Negate(e)
                | Expr::IsNull(e)
                | Expr::IsNotNull(e)
                | Expr::Like { expr: e, .. }
                | Expr::Cast { expr: e, .. }
                | Expr::Field { expr: e, .. } => todo.push(e),
                Expr::InList { expr, list, .. } => {
                    todo.push(expr);
                    todo.extend(list.iter());
                }
                Expr::Case { branches, otherwise, .. } => {
                    for (w, t) in branches {
                        todo.push(w);
                        todo.push(t);
                    }
                    todo.extend(otherwise.as_deref());
                }
                Expr::Call { args, .. } => todo.extend(args.iter()),
            }
        }
        n
    }

    /// Visits every column this expression reads.
    pub fn columns(&self, out: &mut Vec<usize>) {
        match self {
            Expr::Column { index, .. } => out.push(*index),
            Expr::Literal(_) | Expr::LambdaVar { .. } => {}
            // A lambda's body reads the outer columns by their own indices.
            Expr::HigherOrder(h) => {
                h.args.iter().for_each(|e| e.columns(out));
                h.lambdas.iter().for_each(|l| l.body.columns(out));
            }
            Expr::Binary { left, right, .. } => {
                left.columns(out);
                right.columns(out);
            }
            Expr::Chain { first, links } => {
                first.columns(out);
                links.iter().for_each(|l| l.right.columns(out));
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
        self.transform_columns(&|index, data_type| Expr::Column { index: f(index), data_type: data_type.clone() })
    }

    /// Replaces every column reference by what `f` makes of it (another column, or the
    /// expression a projection computes for it), keeping the rest of the tree.
    pub fn transform_columns(&self, f: &dyn Fn(usize, &DataType) -> Expr) -> Expr {
        self.rewrite(&|e| match e {
            Expr::Column { index, data_type } => Some(f(*index, data_type)),
            _ => None,
        })
    }

    /// Rewrites top-down: where `f` returns a replacement the subtree is replaced (and not
    /// visited further); elsewhere the children are rewritten.
    pub fn rewrite(&self, f: &dyn Fn(&Expr) -> Option<Expr>) -> Expr {
        if let Some(replacement) = f(self) {
            return replacement;
        }
        let m = |e: &Expr| Box::new(e.rewrite(f));
        match self {
            Expr::Column { .. } | Expr::Literal(_) | Expr::LambdaVar { .. } => self.clone(),
            Expr::HigherOrder(h) => Expr::HigherOrder(Box::new(HigherOrder {
                func: h.func,
                args: h.args.iter().map(|e| e.rewrite(f)).collect(),
                lambdas: h
                    .lambdas
                    .iter()
                    .map(|l| Lambda { params: l.params.clone(), enclosing: l.enclosing, body: l.body.rewrite(f) })
                    .collect(),
                data_type: h.data_type.clone(),
            })),
            Expr::Binary { op, left, right, data_type } => {
                Expr::Binary { op: *op, left: m(left), right: m(right), data_type: data_type.clone() }
            }
            Expr::Chain { first, links } => Expr::Chain {
                first: m(first),
                links: links
                    .iter()
                    .map(|l| Link { op: l.op, left_cast: l.left_cast.clone(), right: l.right.rewrite(f), data_type: l.data_type.clone() })
                    .collect(),
            },
            Expr::Not(e) => Expr::Not(m(e)),
            Expr::Negate(e) => Expr::Negate(m(e)),
            Expr::IsNull(e) => Expr::IsNull(m(e)),
            Expr::IsNotNull(e) => Expr::IsNotNull(m(e)),
            Expr::InList { expr, list, negated } => {
                Expr::InList { expr: m(expr), list: list.iter().map(|e| e.rewrite(f)).collect(), negated: *negated }
            }
            Expr::Like { expr, pattern, negated } => Expr::Like { expr: m(expr), pattern: pattern.clone(), negated: *negated },
            Expr::Case { branches, otherwise, data_type } => Expr::Case {
                branches: branches.iter().map(|(w, t)| (w.rewrite(f), t.rewrite(f))).collect(),
                otherwise: otherwise.as_ref().map(|o| m(o)),
                data_type: data_type.clone(),
            },
            Expr::Cast { expr, to, mode } => Expr::Cast { expr: m(expr), to: to.clone(), mode: *mode },
            Expr::Call { func, args, data_type } => {
                Expr::Call { func: *func, args: args.iter().map(|e| e.rewrite(f)).collect(), data_type: data_type.clone() }
            }
            Expr::Field { expr, index } => Expr::Field { expr: m(expr), index: *index },
            Expr::Index { expr, index, data_type } => Expr::Index { expr: m(expr), index: m(index), data_type: data_type.clone() },
        }
    }

    /// Splits `a AND b AND c` into its conjuncts.
    pub fn conjuncts(self) -> Vec<Expr> {
        // An explicit stack: parenthesised ANDs nest on the right as deep as the query does.
        let mut out = Vec::new();
        let mut todo = vec![self];
        while let Some(e) = todo.pop() {
            match e {
                Expr::Binary { op: BinaryOp::And, left, right, .. } => {
                    todo.push(*right);
                    todo.push(*left);
                }
                Expr::Chain { first, links } if links.iter().all(|l| l.op == BinaryOp::And && l.left_cast.is_none()) => {
                    todo.extend(links.into_iter().rev().map(|l| l.right));
                    todo.push(*first);
                }
                other => out.push(other),
            }
        }
        out
    }

    /// `a AND b AND ...`; None for no conjuncts.
    pub fn and_all(parts: Vec<Expr>) -> Option<Expr> {
        parts.into_iter().reduce(|acc, p| Expr::binary(BinaryOp::And, acc, p, DataType::Boolean))
    }
}

/// Whether `CAST(from AS to)` is allowed at all (checked at analysis, before any batch runs).
pub fn cast_array_allowed(from: &DataType, to: &DataType) -> bool {
    cast::can_cast(from, to)
}

#[cfg(test)]
mod tests {
    //! Each expression family over a batch with NULLs. (The scenario suites check the same
    //! families against Spark's own output.)
    use std::sync::Arc;

    use arrow_array::{ArrayRef, BooleanArray, Float64Array, Int32Array, RecordBatch, StringArray};

    use crate::plan::LogicalPlan;
    use crate::sql::{analyze, Catalog};
    use crate::types::{Column, DataType, Schema};
    use crate::value::Value;
    #[cfg(target_arch = "wasm32")]
    use wasm_bindgen_test::wasm_bindgen_test as test;

    fn schema() -> Schema {
        Schema::new(vec![
            Column { name: "s".into(), data_type: DataType::String },
            Column { name: "i".into(), data_type: DataType::Int },
            Column { name: "d".into(), data_type: DataType::Double },
            Column { name: "b".into(), data_type: DataType::Boolean },
        ])
    }

    /// Rows: ("a", 1, 1.5, true), (NULL, NULL, NULL, NULL), ("Bc", -2, 0.0, false).
    fn batch() -> RecordBatch {
        let cols: Vec<ArrayRef> = vec![
            Arc::new(StringArray::from(vec![Some("a"), None, Some("Bc")])),
            Arc::new(Int32Array::from(vec![Some(1), None, Some(-2)])),
            Arc::new(Float64Array::from(vec![Some(1.5), None, Some(0.0)])),
            Arc::new(BooleanArray::from(vec![Some(true), None, Some(false)])),
        ];
        RecordBatch::try_new(schema().to_arrow(), cols).unwrap()
    }

    fn eval(expr_sql: &str) -> Vec<Value> {
        let catalog = Catalog { sources: vec![("t".into(), schema())], tables: vec![] };
        let q = analyze(&format!("SELECT {expr_sql} AS v FROM t"), &catalog).unwrap_or_else(|e| panic!("{expr_sql}: {e}"));
        let LogicalPlan::Project { exprs, .. } = &q.plan else { panic!("a projection") };
        let out = exprs[0].evaluate_to_array(&batch()).unwrap_or_else(|e| panic!("{expr_sql}: {e}"));
        (0..out.len()).map(|k| Value::from_array(out.as_ref(), k)).collect()
    }

    fn ints(v: &[Option<i64>]) -> Vec<Value> {
        v.iter().map(|x| x.map(Value::BigInt).unwrap_or(Value::Null)).collect()
    }

    fn bools(v: &[Option<bool>]) -> Vec<Value> {
        v.iter().map(|x| x.map(Value::Boolean).unwrap_or(Value::Null)).collect()
    }

    #[test]
    fn arithmetic_propagates_null() {
        assert_eq!(eval("CAST(i * 10 + 1 AS BIGINT)"), ints(&[Some(11), None, Some(-19)]));
        assert_eq!(eval("i / 2"), vec![Value::Double(0.5), Value::Null, Value::Double(-1.0)]);
        assert_eq!(eval("-i"), vec![Value::Int(-1), Value::Null, Value::Int(2)]);
    }

    #[test]
    fn division_by_zero_fails_the_batch_unless_the_dividend_is_null() {
        let catalog = Catalog { sources: vec![("t".into(), schema())], tables: vec![] };
        let q = analyze("SELECT 1 / d AS v FROM t", &catalog).unwrap();
        let LogicalPlan::Project { exprs, .. } = &q.plan else { panic!() };
        let err = exprs[0].evaluate_to_array(&batch()).unwrap_err();
        assert_eq!(err.spark_condition, Some("DIVIDE_BY_ZERO"));
        assert_eq!(eval("i / CAST(NULL AS INT)"), vec![Value::Null, Value::Null, Value::Null]);
    }

    #[test]
    fn comparisons_and_logic_are_three_valued() {
        assert_eq!(eval("i > 0"), bools(&[Some(true), None, Some(false)]));
        assert_eq!(eval("i <=> NULL"), bools(&[Some(false), Some(true), Some(false)]));
        assert_eq!(eval("b AND i > 0"), bools(&[Some(true), None, Some(false)]));
        assert_eq!(eval("b OR TRUE"), bools(&[Some(true), Some(true), Some(true)]));
        assert_eq!(eval("b AND FALSE"), bools(&[Some(false), Some(false), Some(false)]));
        assert_eq!(eval("NOT b"), bools(&[Some(false), None, Some(true)]));
        assert_eq!(eval("i IS NULL"), bools(&[Some(false), Some(true), Some(false)]));
    }

    #[test]
    fn in_between_and_like_with_nulls() {
        assert_eq!(eval("i IN (1, 5)"), bools(&[Some(true), None, Some(false)]));
        assert_eq!(eval("i IN (5, NULL)"), bools(&[None, None, None]));
        assert_eq!(eval("i NOT IN (5, NULL)"), bools(&[None, None, None]), "NOT IN with a NULL is never true");
        assert_eq!(eval("i BETWEEN -2 AND 0"), bools(&[Some(false), None, Some(true)]));
        assert_eq!(eval("s LIKE 'B%'"), bools(&[Some(false), None, Some(true)]));
    }

    #[test]
    fn case_coalesce_and_casts() {
        assert_eq!(
            eval("CASE WHEN i > 0 THEN 'pos' WHEN i < 0 THEN 'neg' END"),
            vec![Value::String("pos".into()), Value::Null, Value::String("neg".into())]
        );
        // The branch that would divide by zero is never evaluated for the row that is 0.
        assert_eq!(eval("CASE WHEN d = 0 THEN 0.0 ELSE 1 / d END"), vec![Value::Double(1.0 / 1.5), Value::Null, Value::Double(0.0)]);
        assert_eq!(eval("coalesce(s, 'none')"), vec![Value::String("a".into()), Value::String("none".into()), Value::String("Bc".into())]);
        assert_eq!(eval("try_cast(s AS INT)"), vec![Value::Null, Value::Null, Value::Null]);
        assert_eq!(eval("CAST(d AS STRING)"), vec![Value::String("1.5".into()), Value::Null, Value::String("0.0".into())]);
    }

    fn eval_err(expr_sql: &str) -> crate::error::Error {
        let catalog = Catalog { sources: vec![("t".into(), schema())], tables: vec![] };
        let q = match analyze(&format!("SELECT {expr_sql} AS v FROM t"), &catalog) {
            Ok(q) => q,
            Err(e) => return e,
        };
        let LogicalPlan::Project { exprs, .. } = &q.plan else { panic!("a projection") };
        exprs[0].evaluate_to_array(&batch()).err().unwrap_or_else(|| panic!("{expr_sql}: expected an error"))
    }

    fn texts(expr_sql: &str) -> Vec<String> {
        eval(expr_sql).iter().map(Value::to_spark_string).collect()
    }

    /// The type the analyzer gives an expression, as `typeof` writes it.
    fn type_of(expr_sql: &str) -> String {
        let catalog = Catalog { sources: vec![("t".into(), schema())], tables: vec![] };
        let q = analyze(&format!("SELECT {expr_sql} AS v FROM t"), &catalog).unwrap_or_else(|e| panic!("{expr_sql}: {e}"));
        let LogicalPlan::Project { exprs, .. } = &q.plan else { panic!("a projection") };
        exprs[0].data_type().ddl_name()
    }

    #[test]
    fn decimal_arithmetic_has_spark_types_and_values() {
        // Each expected value and type is what Spark 4.3 gives.
        assert_eq!(type_of("cast(1 as decimal(10,2)) / cast(1 as decimal(5,3))"), "decimal(19,8)");
        assert_eq!(type_of("cast(i as decimal(10,2)) * 2"), "decimal(12,2)");
        assert_eq!(type_of("cast(1 as decimal(10,2)) + i"), "decimal(13,2)");
        assert_eq!(type_of("cast(1 as decimal(10,2)) + 1L"), "decimal(11,2)");
        assert_eq!(type_of("cast(1 as decimal(10,2)) % 2"), "decimal(3,2)");
        assert_eq!(type_of("cast(1 as decimal(10,2)) + d"), "double");
        assert_eq!(type_of("coalesce(cast(i as decimal(10,2)), 1)"), "decimal(12,2)");
        assert_eq!(texts("typeof(1.5BD)")[0], "decimal(2,1)");
        assert_eq!(texts("typeof(0.05BD)")[0], "decimal(2,2)");
        assert_eq!(texts("cast(i as decimal(10,2)) * 2"), ["2.00", "NULL", "-4.00"]);
        assert_eq!(texts("cast(1 as decimal(10,2)) / cast(3 as decimal(10,2))")[0], "0.3333333333333");
        assert_eq!(texts("cast(-7.5BD as decimal(10,2)) % 2")[0], "-1.50");
        assert_eq!(texts("1.25BD * 1.25BD")[0], "1.5625");
        assert_eq!(texts("-cast(i as decimal(10,2))"), ["-1.00", "NULL", "2.00"]);
        assert_eq!(eval("cast(i as decimal(10,2)) > 0"), bools(&[Some(true), None, Some(false)]));
        assert_eq!(eval("1.5BD = d"), bools(&[Some(true), None, Some(false)]));
        assert_eq!(eval("cast(1.5 as decimal(10,2)) = 1.50BD"), bools(&[Some(true); 3]));
        assert_eq!(texts("cast(1.5BD as decimal(10,2)) + 0.1D")[0], "1.6");
        assert_eq!(eval_err("cast(i as decimal(10,2)) / 0").spark_condition, Some("DIVIDE_BY_ZERO"));
        assert_eq!(eval_err("cast(i as decimal(10,2)) % 0").spark_condition, Some("REMAINDER_BY_ZERO"));
        let e = eval_err("cast('9999999999999999999999999999999999999' as decimal(38,0)) * 100");
        assert_eq!(e.spark_condition, Some("NUMERIC_VALUE_OUT_OF_RANGE.WITH_SUGGESTION"));
        assert!(e.message.contains(" 999999999999999999999999999999999999900 cannot be represented as Decimal(38, 0)"), "{}", e.message);
        assert_eq!(texts("try_cast('abc' as decimal(10,2))")[0], "NULL");
        assert_eq!(type_of("round(cast(i as decimal(10,2)))"), "decimal(9,0)");
        assert_eq!(type_of("round(cast(i as decimal(10,2)), 5)"), "decimal(11,2)");
        assert_eq!(type_of("ceil(cast(i as decimal(10,2)))"), "decimal(9,0)");
        assert_eq!(type_of("ceil(cast(i as decimal(10,0)))"), "decimal(10,0)");
        assert_eq!(type_of("floor(cast(i as decimal(10,2)), -1)"), "decimal(9,0)");
        assert_eq!(type_of("abs(cast(i as decimal(10,2)))"), "decimal(10,2)");
        assert_eq!(texts("round(2.5BD)")[0], "3");
        assert_eq!(texts("round(-2.5BD)")[0], "-3");
        assert_eq!(texts("bround(2.5BD)")[0], "2");
        assert_eq!(texts("round(cast(1.25 as decimal(10,2)), 1)")[0], "1.3");
        assert_eq!(texts("bround(cast(1.25 as decimal(10,2)), 1)")[0], "1.2");
        assert_eq!(texts("round(cast(125 as decimal(10,2)), -1)")[0], "130");
        assert_eq!(texts("ceil(cast(-1.25 as decimal(10,2)))")[0], "-1");
        assert_eq!(texts("floor(cast(-1.25 as decimal(10,2)))")[0], "-2");
        assert_eq!(texts("ceil(cast(1.21 as decimal(10,2)), 1)")[0], "1.3");
        assert_eq!(texts("floor(cast(125 as decimal(10,2)), -1)")[0], "120");
        assert_eq!(texts("abs(cast(i as decimal(10,2)))"), ["1.00", "NULL", "2.00"]);
        assert_eq!(texts("negative(cast(-1.25 as decimal(10,2)))")[0], "1.25");
        assert_eq!(type_of("try_add(cast(1 as decimal(3,1)), 1)"), "decimal(4,1)");
        assert_eq!(texts("try_add(cast(99 as decimal(3,1)), cast(99 as decimal(3,1)))")[0], "198.0");
        assert_eq!(texts("try_multiply(cast('9999999999999999999999999999999999999' as decimal(38,0)), 100)")[0], "NULL");
        assert_eq!(type_of("try_divide(cast(1 as decimal(3,1)), 3)"), "decimal(8,6)");
        assert_eq!(texts("try_divide(cast(1 as decimal(3,1)), 3)")[0], "0.333333");
        assert_eq!(texts("try_divide(cast(1 as decimal(3,1)), 0)")[0], "NULL");
        assert_eq!(type_of("pmod(cast(1 as decimal(10,2)), 2)"), "decimal(3,2)");
        assert_eq!(texts("pmod(cast(-7.5 as decimal(10,2)), 2)")[0], "0.50");
        assert_eq!(eval_err("pmod(cast(i as decimal(10,2)), 0)").spark_condition, Some("REMAINDER_BY_ZERO"));
        assert_eq!(type_of("try_add(cast(1 as decimal(3,1)), d)"), "double");
        assert_eq!(texts("concat('x', cast(2.50 as decimal(4,2)))")[0], "x2.50");
        assert_eq!(type_of("12345678901234567890123456789012345678"), "decimal(38,0)");
        assert_eq!(texts("12345678901234567890123456789012345678 + 1")[0], "12345678901234567890123456789012345679");
        assert_eq!(type_of("9223372036854775808"), "decimal(19,0)");
        assert_eq!(type_of("-9223372036854775808"), "bigint");
        assert_eq!(type_of("ln(cast(1 as decimal(3,1)))"), "double");
        assert_eq!(eval("cast(1 as decimal(10,2)) div 0.3BD"), ints(&[Some(3), Some(3), Some(3)]));
        assert_eq!(eval("cast(-2.5 as decimal(10,1)) div 1"), ints(&[Some(-2), Some(-2), Some(-2)]));
        assert_eq!(eval_err("cast(i as decimal(10,2)) div 0").spark_condition, Some("DIVIDE_BY_ZERO"));
        assert_eq!(texts(r#"from_json('{"a":1.555}', 'a decimal(10,2)')"#)[0], "{1.56}");
        assert_eq!(texts(r#"from_json('{"a":"1.5"}', 'a decimal(10,2)')"#)[0], "{1.50}");
        assert_eq!(texts(r#"from_json('{"a":123456789012.5}', 'a decimal(10,2)')"#)[0], "{null}");
        assert_eq!(
            eval_err(r#"from_json('{"a":12345678901234567890.123}', 'a decimal(38,3)')"#).kind,
            crate::error::ErrorKind::UnsupportedOperation
        );
        assert_eq!(texts("from_csv('1.555', 'a decimal(10,2)')")[0], "{1.56}");
        assert_eq!(texts("from_csv(' 1.5', 'a decimal(10,2)')")[0], "{null}");
        assert_eq!(texts("from_csv('\"1,234.5\"', 'a decimal(10,2)')")[0], "{1234.50}");
        assert_eq!(texts("from_csv('1e2', 'a decimal(10,2)')")[0], "{100.00}");
        assert_eq!(texts("to_csv(named_struct('a', 1.50BD))")[0], "1.50");
        assert_eq!(texts("cast(map('k', 1.50BD) as string)")[0], "{k -> 1.50}");
        assert_eq!(
            texts("to_json(named_struct('a', 1.50BD, 'b', array(0.05BD, null), 'm', map('k', -1.0BD)))")[0],
            r#"{"a":1.50,"b":[0.05,null],"m":{"k":-1.0}}"#
        );
        assert_eq!(texts("to_json(named_struct('b', 2.0BD, 'a', 'x\"y'), map('sortKeys', 'true'))")[0], r#"{"a":"x\"y","b":2.0}"#);
    }

    #[test]
    fn spark_operators_follow_ansi_semantics() {
        assert_eq!(eval("i DIV 2"), ints(&[Some(0), None, Some(-1)]));
        assert_eq!(eval("7 div i"), ints(&[Some(7), None, Some(-3)]));
        assert_eq!(eval_err("i DIV 0").spark_condition, Some("DIVIDE_BY_ZERO"));
        assert_eq!(eval_err("(-9223372036854775807L - 1) DIV -1").spark_condition, Some("ARITHMETIC_OVERFLOW"));
        assert_eq!(eval_err("d DIV 2").spark_condition, Some("DATATYPE_MISMATCH.UNEXPECTED_INPUT_TYPE"));
        assert_eq!(eval("i << 33"), vec![Value::Int(2), Value::Null, Value::Int(-4)]);
        assert_eq!(eval("(i | 4) & 6 ^ 1"), vec![Value::Int(5), Value::Null, Value::Int(7)]);
        assert_eq!(eval("~i"), vec![Value::Int(-2), Value::Null, Value::Int(1)]);
        assert_eq!(eval("!b"), bools(&[Some(false), None, Some(true)]));
        assert_eq!(eval("pmod(i, 3)"), vec![Value::Int(1), Value::Null, Value::Int(1)]);
        assert_eq!(eval_err("pmod(i, 0)").spark_condition, Some("REMAINDER_BY_ZERO"));
        assert_eq!(eval("r'a\\d'"), vec![Value::String("a\\d".into()); 3]);
        assert_eq!(eval("'a\\d'"), vec![Value::String("ad".into()); 3], "a plain string still unescapes");
    }

    #[test]
    fn like_escape_ilike_and_rlike() {
        assert_eq!(eval("s LIKE 'B!%' ESCAPE '!'"), bools(&[Some(false), None, Some(false)]));
        assert_eq!(eval("'B%' LIKE 'B!%' ESCAPE '!'"), bools(&[Some(true); 3]));
        assert_eq!(eval("s ILIKE 'b%'"), bools(&[Some(false), None, Some(true)]));
        assert_eq!(eval("s RLIKE '^[A-Z]'"), bools(&[Some(false), None, Some(true)]));
        assert_eq!(eval("s NOT REGEXP 'c$'"), bools(&[Some(true), None, Some(false)]));
        let e = eval_err("s LIKE 'a!b' ESCAPE '!'");
        assert_eq!(e.spark_condition, Some("INVALID_FORMAT.ESC_IN_THE_MIDDLE"));
        assert!(e.position.is_some(), "{e}");
        assert_eq!(eval_err("s LIKE 'a' ESCAPE '!!'").spark_condition, Some("INVALID_ESC"));
    }

    #[test]
    fn new_functions_give_spark_errors_and_unknown_ones_stay_unknown() {
        assert_eq!(eval_err("split_part(s, ',', 0)").spark_condition, Some("INVALID_INDEX_OF_ZERO"));
        assert_eq!(eval_err("regexp_extract(s, '(a)', 2)").spark_condition, Some("INVALID_PARAMETER_VALUE.REGEX_GROUP_INDEX"));
        assert_eq!(eval_err("regexp_like(s, '(')").spark_condition, Some("INVALID_PARAMETER_VALUE.PATTERN"));
        assert_eq!(eval_err("unix_timestamp('junk')").spark_condition, Some("CANNOT_PARSE_TIMESTAMP"));
        let e = eval_err("unix_timestamp()");
        assert_eq!(e.kind, crate::error::ErrorKind::UnsupportedOperation, "{e}");
        assert!(e.position.is_some(), "{e}");
        let e = eval_err("no_such_function(s)");
        assert_eq!(e.kind, crate::error::ErrorKind::UnknownFunction);
        assert_eq!(e.position.map(|p| (p.line, p.column)), Some((1, 8)));
        let e = eval_err("regexp_replac(s, 'a', 'b')");
        assert!(e.message.contains("Did you mean `regexp_replace`?"), "{e}");
    }

    #[test]
    fn ceil_and_floor_with_a_scale_work_on_the_decimal_form() {
        assert_eq!(eval("ceil(1.1D, 1)"), vec![Value::Double(1.1); 3]);
        assert_eq!(eval("floor(d, 0)"), vec![Value::Double(1.0), Value::Null, Value::Double(0.0)]);
        assert_eq!(eval("ceil(3.14159D, 2)"), vec![Value::Double(3.15); 3]);
        assert_eq!(eval("floor(-3.14159D, 2)"), vec![Value::Double(-3.15); 3]);
        assert_eq!(eval("ceil(314, -2)"), vec![Value::Double(400.0); 3]);
    }

    #[test]
    fn strings_math_and_time() {
        assert_eq!(eval("upper(s)"), vec![Value::String("A".into()), Value::Null, Value::String("BC".into())]);
        assert_eq!(eval("concat(s, '!')"), vec![Value::String("a!".into()), Value::Null, Value::String("Bc!".into())]);
        assert_eq!(eval("length(s)"), vec![Value::Int(1), Value::Null, Value::Int(2)]);
        assert_eq!(eval("abs(i)"), vec![Value::Int(1), Value::Null, Value::Int(2)]);
        assert_eq!(eval("round(d)"), vec![Value::Double(2.0), Value::Null, Value::Double(0.0)]);
        assert_eq!(eval("hour(TIMESTAMP '2026-01-01 13:00:00')"), vec![Value::Int(13), Value::Int(13), Value::Int(13)]);
    }
}
