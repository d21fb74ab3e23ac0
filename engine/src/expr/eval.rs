//! Vectorised evaluation of [`Expr`] over a record batch.

use std::sync::Arc;

use arrow_arith::boolean::{and_kleene, is_not_null, is_null, not, or_kleene};
use arrow_array::builder::BooleanBuilder;
use arrow_array::cast::AsArray;
use arrow_array::types::{Float64Type, Int32Type, Int64Type};
use arrow_array::{new_null_array, Array, ArrayRef, BooleanArray, Datum, RecordBatch, UInt32Array};
use arrow_schema::DataType as ArrowType;
use arrow_select::interleave::interleave;
use arrow_select::take::{take, take_record_batch};

use super::{cast_array, BinaryOp, Expr};
use crate::error::{Error, Result};
use crate::types::DataType;
use crate::value::Value;

/// The result of evaluating an expression: a column of the batch's length, or one value that
/// stands for every row (a literal, or an expression over literals only).
#[derive(Debug, Clone)]
pub enum Columnar {
    Array(ArrayRef),
    Scalar(ArrayRef),
}

impl Datum for Columnar {
    fn get(&self) -> (&dyn Array, bool) {
        match self {
            Columnar::Array(a) => (a.as_ref(), false),
            Columnar::Scalar(a) => (a.as_ref(), true),
        }
    }
}

impl Columnar {
    pub fn is_scalar(&self) -> bool {
        matches!(self, Columnar::Scalar(_))
    }

    pub fn array(&self) -> &ArrayRef {
        match self {
            Columnar::Array(a) | Columnar::Scalar(a) => a,
        }
    }

    /// Materialises a column of `len` rows.
    pub fn into_array(self, len: usize) -> Result<ArrayRef> {
        match self {
            Columnar::Array(a) => Ok(a),
            Columnar::Scalar(a) => broadcast(&a, len),
        }
    }

    /// Wraps a freshly computed array: scalar if every input was scalar.
    pub fn wrap(array: ArrayRef, scalar: bool) -> Columnar {
        if scalar {
            Columnar::Scalar(array)
        } else {
            Columnar::Array(array)
        }
    }
}

/// Repeats the single value of `one` `len` times.
pub fn broadcast(one: &ArrayRef, len: usize) -> Result<ArrayRef> {
    if one.len() == len {
        return Ok(one.clone());
    }
    if one.is_null(0) {
        return Ok(new_null_array(one.data_type(), len));
    }
    let indices = UInt32Array::from(vec![0u32; len]);
    Ok(take(one.as_ref(), &indices, None)?)
}

/// A one-row array holding `value` typed as `data_type`.
pub fn scalar_array(value: &Value, data_type: &DataType) -> Result<ArrayRef> {
    use arrow_array::*;
    Ok(match (value, data_type) {
        (Value::Null, t) => new_null_array(&t.to_arrow(), 1),
        (Value::String(s), _) => Arc::new(StringArray::from(vec![s.as_str()])),
        (Value::Int(v), _) => Arc::new(Int32Array::from(vec![*v])),
        (Value::BigInt(v), _) => Arc::new(Int64Array::from(vec![*v])),
        (Value::Double(v), _) => Arc::new(Float64Array::from(vec![*v])),
        (Value::Boolean(v), _) => Arc::new(BooleanArray::from(vec![*v])),
        (Value::Timestamp(v), _) => Arc::new(TimestampMicrosecondArray::from(vec![*v])),
        (v, t) => crate::value::values_to_array(std::slice::from_ref(v), t),
    })
}

fn as_bool(c: &ArrayRef) -> Result<&BooleanArray> {
    c.as_boolean_opt().ok_or_else(|| Error::internal(format!("expected a boolean column, found {}", c.data_type())))
}

impl Expr {
    /// Evaluates over every row of `batch`.
    pub fn evaluate(&self, batch: &RecordBatch) -> Result<Columnar> {
        match self {
            Expr::Column { index, .. } => Ok(Columnar::Array(batch.column(*index).clone())),
            Expr::Literal(v) => Ok(Columnar::Scalar(scalar_array(v, &v.data_type())?)),
            Expr::Binary { op, left, right, data_type } => {
                let l = left.evaluate(batch)?;
                let r = right.evaluate(batch)?;
                binary(*op, &l, &r, batch.num_rows(), data_type)
            }
            Expr::Chain { first, links } => {
                let mut acc = first.evaluate(batch)?;
                let mut acc_type = first.data_type();
                for link in links {
                    if let Some(to) = &link.left_cast {
                        let scalar = acc.is_scalar();
                        acc = Columnar::wrap(cast_array(acc.array(), &acc_type, to, super::CastMode::Ansi)?, scalar);
                    }
                    let r = link.right.evaluate(batch)?;
                    acc = binary(link.op, &acc, &r, batch.num_rows(), &link.data_type)?;
                    acc_type = link.data_type.clone();
                }
                Ok(acc)
            }
            Expr::Not(e) => {
                let v = e.evaluate(batch)?;
                let scalar = v.is_scalar();
                Ok(Columnar::wrap(Arc::new(not(as_bool(v.array())?)?), scalar))
            }
            Expr::Negate(e) => {
                let v = e.evaluate(batch)?;
                let scalar = v.is_scalar();
                Ok(Columnar::wrap(super::kernels::negate(v.array().as_ref())?, scalar))
            }
            Expr::IsNull(e) | Expr::IsNotNull(e) => {
                let v = e.evaluate(batch)?;
                let scalar = v.is_scalar();
                let out = if matches!(self, Expr::IsNull(_)) { is_null(v.array().as_ref())? } else { is_not_null(v.array().as_ref())? };
                Ok(Columnar::wrap(Arc::new(out), scalar))
            }
            Expr::InList { expr, list, negated } => {
                let v = expr.evaluate(batch)?;
                let mut acc: Option<Columnar> = None;
                for item in list {
                    let eq = binary(BinaryOp::Eq, &v, &item.evaluate(batch)?, batch.num_rows(), &DataType::Boolean)?;
                    acc = Some(match acc {
                        None => eq,
                        Some(prev) => binary(BinaryOp::Or, &prev, &eq, batch.num_rows(), &DataType::Boolean)?,
                    });
                }
                let acc = acc.ok_or_else(|| Error::internal("IN with an empty list"))?;
                if *negated {
                    let scalar = acc.is_scalar();
                    Ok(Columnar::wrap(Arc::new(not(as_bool(acc.array())?)?), scalar))
                } else {
                    Ok(acc)
                }
            }
            Expr::Like { expr, pattern, negated } => {
                let v = expr.evaluate(batch)?;
                let scalar = v.is_scalar();
                let strings = v.array().as_string::<i32>();
                let mut out = BooleanBuilder::with_capacity(strings.len());
                for s in strings.iter() {
                    out.append_option(s.map(|s| pattern.matches(s) != *negated));
                }
                Ok(Columnar::wrap(Arc::new(out.finish()), scalar))
            }
            Expr::Case { branches, otherwise, data_type } => evaluate_case(batch, branches, otherwise.as_deref(), data_type),
            Expr::Cast { expr, to, mode } => {
                let v = expr.evaluate(batch)?;
                let scalar = v.is_scalar();
                Ok(Columnar::wrap(cast_array(v.array(), &expr.data_type(), to, *mode)?, scalar))
            }
            Expr::Call { func, args, data_type } => {
                let values = args.iter().map(|a| a.evaluate(batch)).collect::<Result<Vec<_>>>()?;
                func.evaluate(&values, data_type, batch.num_rows())
            }
            Expr::Field { expr, index } => {
                let v = expr.evaluate(batch)?;
                let scalar = v.is_scalar();
                let s = v.array().as_struct_opt().ok_or_else(|| Error::internal("field access on a non-struct"))?;
                let field = s.column(*index).clone();
                // A field of a NULL struct is NULL, whatever its slot holds.
                let field = match arrow_buffer::NullBuffer::union(s.nulls(), field.nulls()) {
                    Some(nulls) if s.null_count() > 0 => {
                        arrow_array::make_array(field.to_data().into_builder().nulls(Some(nulls)).build()?)
                    }
                    _ => field,
                };
                Ok(Columnar::wrap(field, scalar))
            }
            Expr::HigherOrder(h) => h.evaluate(batch),
            Expr::LambdaVar { from_end, .. } => {
                let k =
                    batch.num_columns().checked_sub(*from_end).ok_or_else(|| Error::internal("a lambda variable outside its lambda"))?;
                Ok(Columnar::Array(batch.column(k).clone()))
            }
            Expr::Index { expr, index, .. } => {
                let list = expr.evaluate(batch)?;
                let idx = index.evaluate(batch)?;
                super::functions::array_index(&list, &idx, batch.num_rows(), false, true)
            }
        }
    }

    /// Evaluates to a column of exactly `batch.num_rows()` rows.
    pub fn evaluate_to_array(&self, batch: &RecordBatch) -> Result<ArrayRef> {
        self.evaluate(batch)?.into_array(batch.num_rows())
    }

    /// Evaluates a predicate to a selection mask: NULL counts as false, as in WHERE.
    pub fn evaluate_predicate(&self, batch: &RecordBatch) -> Result<BooleanArray> {
        let v = self.evaluate_to_array(batch)?;
        let b = as_bool(&v)?;
        if b.null_count() == 0 {
            return Ok(b.clone());
        }
        Ok(arrow_arith::boolean::and(b, &is_not_null(b)?)?)
    }
}

fn binary(op: BinaryOp, l: &Columnar, r: &Columnar, num_rows: usize, out_type: &DataType) -> Result<Columnar> {
    let scalar = l.is_scalar() && r.is_scalar();
    if let (true, Some(out)) = (op.is_arithmetic(), out_type.decimal()) {
        let len = if scalar { 1 } else { num_rows };
        return Ok(Columnar::wrap(decimal_arithmetic(op, l, r, len, out)?, scalar));
    }
    if op.is_comparison() && matches!(l.array().data_type(), ArrowType::List(_) | ArrowType::Struct(_) | ArrowType::Map(_, _)) {
        return compare_nested(op, l, r, if scalar { 1 } else { num_rows }, scalar);
    }
    let out: ArrayRef = match op {
        BinaryOp::Eq | BinaryOp::NotEq | BinaryOp::Lt | BinaryOp::LtEq | BinaryOp::Gt | BinaryOp::GtEq | BinaryOp::NullSafeEq => {
            Arc::new(super::kernels::compare(op, l, r)?)
        }
        BinaryOp::And | BinaryOp::Or => {
            let len = if scalar { 1 } else { num_rows };
            let la = l.clone().into_array(len)?;
            let ra = r.clone().into_array(len)?;
            let (la, ra) = (as_bool(&la)?, as_bool(&ra)?);
            Arc::new(if op == BinaryOp::And { and_kleene(la, ra)? } else { or_kleene(la, ra)? })
        }
        BinaryOp::Add | BinaryOp::Subtract | BinaryOp::Multiply => super::kernels::arithmetic(op, l, r)?,
        BinaryOp::Divide | BinaryOp::Modulo => {
            check_divisor(l, r)?;
            // Spark's `%` takes the sign of the dividend, as Rust's does; nothing to fix.
            super::kernels::arithmetic(op, l, r)?
        }
    };
    Ok(Columnar::wrap(out, scalar))
}

/// `l op r` over two decimal columns into a `DECIMAL(p,s)` column, row by row with Spark's
/// rounding; a value that does not fit fails the batch (ANSI).
fn decimal_arithmetic(op: BinaryOp, l: &Columnar, r: &Columnar, len: usize, (p, s): (u8, u8)) -> Result<ArrayRef> {
    use crate::types::decimal::{arith, ArithError, Op};
    use arrow_array::types::Decimal128Type;
    let (la, l_scalar) = l.get();
    let (ra, r_scalar) = r.get();
    let scale_of = |a: &dyn Array| match a.data_type() {
        ArrowType::Decimal128(_, s) => Ok((*s).max(0) as u8),
        other => Err(Error::internal(format!("decimal arithmetic over a {other} column"))),
    };
    let (s1, s2) = (scale_of(la)?, scale_of(ra)?);
    let (lv, rv) = (la.as_primitive::<Decimal128Type>(), ra.as_primitive::<Decimal128Type>());
    let dec_op = match op {
        BinaryOp::Add => Op::Add,
        BinaryOp::Subtract => Op::Subtract,
        BinaryOp::Multiply => Op::Multiply,
        BinaryOp::Divide => Op::Divide,
        _ => Op::Remainder,
    };
    let mut out = arrow_array::builder::Decimal128Builder::with_capacity(len).with_precision_and_scale(p, s as i8)?;
    for i in 0..len {
        let (li, ri) = (if l_scalar { 0 } else { i }, if r_scalar { 0 } else { i });
        if lv.is_null(li) || rv.is_null(ri) {
            out.append_null();
            continue;
        }
        match arith(dec_op, lv.value(li), s1, rv.value(ri), s2, (p, s)) {
            Ok(v) => out.append_value(v),
            Err(ArithError::DivideByZero) if dec_op == Op::Remainder => return Err(super::functions::remainder_by_zero()),
            Err(ArithError::DivideByZero) => return Err(Error::from(arrow_schema::ArrowError::DivideByZero)),
            Err(ArithError::Overflow(shown)) => return Err(super::cast::decimal_out_of_range(&shown, p, s)),
        }
    }
    Ok(Arc::new(out.finish()))
}

/// Arrays and structs compare element by element (arrow's kernels take only flat types).
fn compare_nested(op: BinaryOp, l: &Columnar, r: &Columnar, len: usize, scalar: bool) -> Result<Columnar> {
    use std::cmp::Ordering;
    let (la, ra) = (l.clone().into_array(len)?, r.clone().into_array(len)?);
    let out: BooleanArray = (0..len)
        .map(|i| {
            let (a, b) = (Value::from_array(la.as_ref(), i), Value::from_array(ra.as_ref(), i));
            if a.is_null() || b.is_null() {
                return (op == BinaryOp::NullSafeEq).then(|| a.is_null() && b.is_null());
            }
            let o = a.compare(&b);
            Some(match op {
                BinaryOp::Eq | BinaryOp::NullSafeEq => o == Ordering::Equal,
                BinaryOp::NotEq => o != Ordering::Equal,
                BinaryOp::Lt => o == Ordering::Less,
                BinaryOp::LtEq => o != Ordering::Greater,
                BinaryOp::Gt => o == Ordering::Greater,
                _ => o != Ordering::Less,
            })
        })
        .collect();
    Ok(Columnar::wrap(Arc::new(out), scalar))
}

/// ANSI mode: a zero divisor fails the batch, unless the dividend is NULL (then the result is NULL).
fn check_divisor(l: &Columnar, r: &Columnar) -> Result<()> {
    let (la, l_scalar) = l.get();
    let (ra, r_scalar) = r.get();
    let is_zero = |j: usize| -> bool {
        !ra.is_null(j)
            && match ra.data_type() {
                ArrowType::Int32 => ra.as_primitive::<Int32Type>().value(j) == 0,
                ArrowType::Int64 => ra.as_primitive::<Int64Type>().value(j) == 0,
                ArrowType::Float64 => ra.as_primitive::<Float64Type>().value(j) == 0.0,
                _ => false,
            }
    };
    if r_scalar && !is_zero(0) {
        return Ok(());
    }
    let rows = if l_scalar && r_scalar {
        1
    } else if l_scalar {
        ra.len()
    } else {
        la.len()
    };
    for i in 0..rows {
        let (li, ri) = (if l_scalar { 0 } else { i }, if r_scalar { 0 } else { i });
        if !la.is_null(li) && is_zero(ri) {
            return Err(Error::from(arrow_schema::ArrowError::DivideByZero));
        }
    }
    Ok(())
}

/// Evaluates each branch only on the rows that reach it, then stitches the pieces together.
fn evaluate_case(batch: &RecordBatch, branches: &[(Expr, Expr)], otherwise: Option<&Expr>, data_type: &DataType) -> Result<Columnar> {
    let n = batch.num_rows();
    let mut parts: Vec<ArrayRef> = Vec::new();
    let mut pick: Vec<(usize, usize)> = vec![(usize::MAX, 0); n];
    // Rows still undecided, as indices into `batch`.
    let mut remaining: Vec<u32> = (0..n as u32).collect();
    let arrow_type = data_type.to_arrow();
    let mut add_part = |values: Columnar, rows: &[u32], parts: &mut Vec<ArrayRef>| -> Result<()> {
        let scalar = values.is_scalar();
        let arr = values.array().clone();
        let arr = if arr.data_type() != &arrow_type {
            cast_array(&arr, &DataType::from_arrow(arr.data_type()).unwrap_or(DataType::Null), data_type, super::CastMode::Ansi)?
        } else {
            arr
        };
        parts.push(arr);
        let p = parts.len() - 1;
        for (k, &row) in rows.iter().enumerate() {
            pick[row as usize] = (p, if scalar { 0 } else { k });
        }
        Ok(())
    };
    for (when, then) in branches {
        if remaining.is_empty() {
            break;
        }
        let sub = subset(batch, &remaining)?;
        let cond = when.evaluate_predicate(&sub)?;
        let (hit, miss): (Vec<u32>, Vec<u32>) = remaining.iter().enumerate().fold((vec![], vec![]), |(mut h, mut m), (k, &row)| {
            if cond.value(k) {
                h.push(row)
            } else {
                m.push(row)
            }
            (h, m)
        });
        if !hit.is_empty() {
            let values = then.evaluate(&subset(batch, &hit)?)?;
            add_part(values, &hit, &mut parts)?;
        }
        remaining = miss;
    }
    if !remaining.is_empty() {
        let values = match otherwise {
            Some(e) => e.evaluate(&subset(batch, &remaining)?)?,
            None => Columnar::Scalar(new_null_array(&arrow_type, 1)),
        };
        add_part(values, &remaining, &mut parts)?;
    }
    if parts.is_empty() {
        return Ok(Columnar::Array(new_null_array(&arrow_type, n)));
    }
    let refs: Vec<&dyn Array> = parts.iter().map(|a| a.as_ref()).collect();
    Ok(Columnar::Array(interleave(&refs, &pick)?))
}

fn subset(batch: &RecordBatch, rows: &[u32]) -> Result<RecordBatch> {
    if rows.len() == batch.num_rows() {
        return Ok(batch.clone());
    }
    Ok(take_record_batch(batch, &UInt32Array::from(rows.to_vec()))?)
}
