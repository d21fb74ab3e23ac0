//! Higher-order functions (`transform`, `filter`, `aggregate`, `zip_with`, `map_filter`, ...)
//! and their lambdas. A lambda runs once per element, vectorised: its body is evaluated over a
//! batch with one row per element, made of the element's outer row (so the body can read the
//! query's columns) followed by the lambda's arguments as the last columns, where
//! [`Expr::LambdaVar`] finds them by their distance from the end. A lambda inside a lambda
//! appends its own arguments after its parent's, so every variable keeps its distance.

use std::cmp::Ordering;
use std::sync::Arc;

use arrow_array::cast::AsArray;
use arrow_array::types::Int32Type;
use arrow_array::{new_null_array, Array, ArrayRef, BooleanArray, Int32Array, ListArray, RecordBatch, RecordBatchOptions, UInt32Array};
use arrow_buffer::{NullBuffer, OffsetBuffer};
use arrow_schema::{DataType as ArrowType, Field, Schema};
use arrow_select::interleave::interleave;
use arrow_select::take::take;

use super::{Columnar, Expr};
use crate::error::{Error, Result};
use crate::types::DataType;
use crate::value::{values_to_array, Value};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum HigherOrderFunc {
    /// `transform(arr, x -> ..)` or `transform(arr, (x, i) -> ..)`.
    Transform,
    /// `filter(arr, x -> ..)` or `filter(arr, (x, i) -> ..)`.
    Filter,
    Exists,
    Forall,
    /// `aggregate(arr, zero, (acc, x) -> .. [, acc -> ..])`, also named `reduce`.
    Aggregate,
    ZipWith,
    MapFilter,
    MapZipWith,
    TransformKeys,
    TransformValues,
    /// `array_sort(arr [, (l, r) -> int])`.
    ArraySort,
}

impl HigherOrderFunc {
    pub fn by_name(name: &str) -> Option<HigherOrderFunc> {
        Some(match name.to_ascii_lowercase().as_str() {
            "transform" => HigherOrderFunc::Transform,
            "filter" => HigherOrderFunc::Filter,
            "exists" => HigherOrderFunc::Exists,
            "forall" => HigherOrderFunc::Forall,
            "aggregate" | "reduce" => HigherOrderFunc::Aggregate,
            "zip_with" => HigherOrderFunc::ZipWith,
            "map_filter" => HigherOrderFunc::MapFilter,
            "map_zip_with" => HigherOrderFunc::MapZipWith,
            "transform_keys" => HigherOrderFunc::TransformKeys,
            "transform_values" => HigherOrderFunc::TransformValues,
            "array_sort" => HigherOrderFunc::ArraySort,
            _ => return None,
        })
    }

    /// Every name a person can call, for the editor's completion.
    pub const NAMES: &'static [&'static str] = &[
        "transform",
        "filter",
        "exists",
        "forall",
        "aggregate",
        "reduce",
        "zip_with",
        "map_filter",
        "map_zip_with",
        "transform_keys",
        "transform_values",
        "array_sort",
    ];
}

/// A resolved lambda: the types of its arguments and its body.
#[derive(Debug, Clone, PartialEq)]
pub struct Lambda {
    pub params: Vec<DataType>,
    /// How many variables of enclosing lambdas the body's batch carries as its last columns
    /// (before this lambda's own): they are always passed on, whatever the body reads.
    pub enclosing: usize,
    pub body: Expr,
}

/// A call of a higher-order function: its plain arguments, then its lambdas, in Spark's order.
#[derive(Debug, Clone, PartialEq)]
pub struct HigherOrder {
    pub func: HigherOrderFunc,
    pub args: Vec<Expr>,
    pub lambdas: Vec<Lambda>,
    pub data_type: DataType,
}

impl Lambda {
    /// Evaluates the body once per element: `rows[k]` is the outer row of element `k`, `params`
    /// the arguments' columns (one value per element each).
    fn call(&self, batch: &RecordBatch, rows: &[u32], params: Vec<ArrayRef>) -> Result<ArrayRef> {
        let len = rows.len();
        let width = batch.num_columns();
        let mut used = vec![false; width];
        let mut read = Vec::new();
        self.body.columns(&mut read);
        for c in read.into_iter().filter(|c| *c < width) {
            used[c] = true;
        }
        for u in used.iter_mut().skip(width.saturating_sub(self.enclosing)) {
            *u = true;
        }
        let indices = UInt32Array::from(rows.to_vec());
        let mut fields = Vec::with_capacity(width + params.len());
        let mut arrays = Vec::with_capacity(width + params.len());
        for (k, col) in batch.columns().iter().enumerate() {
            // A column the body never reads is not copied once per element.
            let a = if used[k] { take(col.as_ref(), &indices, None)? } else { new_null_array(col.data_type(), len) };
            fields.push(Field::new(format!("c{k}"), a.data_type().clone(), true));
            arrays.push(a);
        }
        for (k, p) in params.into_iter().enumerate() {
            fields.push(Field::new(format!("lambda{k}"), p.data_type().clone(), true));
            arrays.push(p);
        }
        let options = RecordBatchOptions::new().with_row_count(Some(len));
        let elements = RecordBatch::try_new_with_options(Arc::new(Schema::new(fields)), arrays, &options)?;
        self.body.evaluate_to_array(&elements)
    }
}

/// The elements of a list column: for each element its row and its index in the values.
struct Elements {
    rows: Vec<u32>,
    items: Vec<u32>,
    /// Each element's 0-based position in its array.
    positions: Vec<i32>,
}

fn as_list(a: &ArrayRef) -> Result<&ListArray> {
    a.as_list_opt::<i32>().ok_or_else(|| Error::internal(format!("a higher-order function expected an array, found {}", a.data_type())))
}

fn elements(list: &ListArray) -> Elements {
    let offsets = list.value_offsets();
    let mut e = Elements { rows: Vec::new(), items: Vec::new(), positions: Vec::new() };
    for i in 0..list.len() {
        if list.is_null(i) {
            continue;
        }
        for (p, j) in (offsets[i]..offsets[i + 1]).enumerate() {
            e.rows.push(i as u32);
            e.items.push(j as u32);
            e.positions.push(p as i32);
        }
    }
    e
}

fn take_u32(values: &ArrayRef, idx: &[u32]) -> Result<ArrayRef> {
    Ok(take(values.as_ref(), &UInt32Array::from(idx.to_vec()), None)?)
}

/// Takes `idx`, NULL where an index is missing (the shorter side of a zip).
fn take_opt(values: &ArrayRef, idx: &[Option<u32>]) -> Result<ArrayRef> {
    Ok(take(values.as_ref(), &UInt32Array::from(idx.to_vec()), None)?)
}

/// A list column of `data_type` with `counts[i]` of `values` in row `i` (NULL where `nulls` says).
fn list_of(data_type: &DataType, counts: &[usize], values: ArrayRef, nulls: Option<NullBuffer>) -> Result<ArrayRef> {
    let ArrowType::List(field) = data_type.to_arrow() else {
        return Err(Error::internal(format!("a higher-order function made an array typed {data_type}")));
    };
    let values = if values.data_type() != field.data_type() {
        super::cast_array(
            &values,
            &DataType::from_arrow(values.data_type()).unwrap_or(DataType::Null),
            &element_type(data_type),
            super::CastMode::Ansi,
        )?
    } else {
        values
    };
    let offsets = OffsetBuffer::from_lengths(counts.iter().copied());
    Ok(Arc::new(ListArray::try_new(field, offsets, values, nulls)?))
}

fn element_type(t: &DataType) -> DataType {
    match t {
        DataType::Array(inner) => (**inner).clone(),
        _ => DataType::Null,
    }
}

fn as_bool(a: &ArrayRef) -> Result<&BooleanArray> {
    a.as_boolean_opt().ok_or_else(|| Error::internal("a lambda expected to give a boolean did not"))
}

impl HigherOrder {
    pub fn evaluate(&self, batch: &RecordBatch) -> Result<Columnar> {
        let args = self.args.iter().map(|a| a.evaluate_to_array(batch)).collect::<Result<Vec<_>>>()?;
        let lambda = |k: usize| self.lambdas.get(k).ok_or_else(|| Error::internal("a higher-order function without its lambda"));
        let out = match self.func {
            HigherOrderFunc::Transform => self.transform(batch, &args[0], lambda(0)?)?,
            HigherOrderFunc::Filter => self.filter(batch, &args[0], lambda(0)?)?,
            HigherOrderFunc::Exists | HigherOrderFunc::Forall => self.exists(batch, &args[0], lambda(0)?)?,
            HigherOrderFunc::Aggregate => self.aggregate(batch, &args[0], &args[1], lambda(0)?, self.lambdas.get(1))?,
            HigherOrderFunc::ZipWith => self.zip_with(batch, &args[0], &args[1], lambda(0)?)?,
            HigherOrderFunc::ArraySort => self.array_sort(batch, &args[0], self.lambdas.first())?,
            HigherOrderFunc::MapFilter | HigherOrderFunc::TransformKeys | HigherOrderFunc::TransformValues => {
                self.map_each(batch, &args[0], lambda(0)?)?
            }
            HigherOrderFunc::MapZipWith => self.map_zip_with(batch, &args[0], &args[1], lambda(0)?)?,
        };
        Ok(Columnar::Array(out))
    }

    fn transform(&self, batch: &RecordBatch, arr: &ArrayRef, f: &Lambda) -> Result<ArrayRef> {
        let list = as_list(arr)?;
        let e = elements(list);
        let mut params = vec![take_u32(list.values(), &e.items)?];
        if f.params.len() == 2 {
            params.push(Arc::new(Int32Array::from(e.positions.clone())));
        }
        let values = f.call(batch, &e.rows, params)?;
        list_of(&self.data_type, &counts(list), values, list.nulls().cloned())
    }

    fn filter(&self, batch: &RecordBatch, arr: &ArrayRef, f: &Lambda) -> Result<ArrayRef> {
        let list = as_list(arr)?;
        let e = elements(list);
        let mut params = vec![take_u32(list.values(), &e.items)?];
        if f.params.len() == 2 {
            params.push(Arc::new(Int32Array::from(e.positions.clone())));
        }
        let keep = f.call(batch, &e.rows, params)?;
        let keep = as_bool(&keep)?;
        let mut counts = vec![0usize; list.len()];
        let mut kept = Vec::new();
        for k in 0..e.items.len() {
            // A NULL predicate drops the element, as WHERE does.
            if keep.is_valid(k) && keep.value(k) {
                counts[e.rows[k] as usize] += 1;
                kept.push(e.items[k]);
            }
        }
        list_of(&self.data_type, &counts, take_u32(list.values(), &kept)?, list.nulls().cloned())
    }

    /// `exists` and `forall`, three-valued: `exists` is true on any true, else NULL on any NULL,
    /// else false; `forall` is false on any false, else NULL on any NULL, else true.
    fn exists(&self, batch: &RecordBatch, arr: &ArrayRef, f: &Lambda) -> Result<ArrayRef> {
        let list = as_list(arr)?;
        let e = elements(list);
        let hits = f.call(batch, &e.rows, vec![take_u32(list.values(), &e.items)?])?;
        let hits = as_bool(&hits)?;
        let decisive = self.func == HigherOrderFunc::Exists;
        let mut out: Vec<Option<bool>> = (0..list.len()).map(|i| if list.is_null(i) { None } else { Some(!decisive) }).collect();
        let mut decided = vec![false; list.len()];
        for k in 0..e.items.len() {
            let row = e.rows[k] as usize;
            if decided[row] {
                continue;
            }
            if hits.is_null(k) {
                out[row] = None;
            } else if hits.value(k) == decisive {
                out[row] = Some(decisive);
                decided[row] = true;
            }
        }
        Ok(Arc::new(BooleanArray::from(out)))
    }

    /// Folds each array left to right, one element of every row per step: the accumulator of a
    /// row depends on its previous element, so the elements of one array cannot run together.
    fn aggregate(&self, batch: &RecordBatch, arr: &ArrayRef, zero: &ArrayRef, merge: &Lambda, finish: Option<&Lambda>) -> Result<ArrayRef> {
        let list = as_list(arr)?;
        let offsets = list.value_offsets();
        let n = list.len();
        let mut acc: ArrayRef = zero.clone();
        let longest = (0..n).filter(|i| list.is_valid(*i)).map(|i| (offsets[i + 1] - offsets[i]) as usize).max().unwrap_or(0);
        for step in 0..longest {
            let rows: Vec<u32> =
                (0..n).filter(|&i| list.is_valid(i) && ((offsets[i + 1] - offsets[i]) as usize) > step).map(|i| i as u32).collect();
            let items: Vec<u32> = rows.iter().map(|&i| (offsets[i as usize] as usize + step) as u32).collect();
            let next = merge.call(batch, &rows, vec![take_u32(&acc, &rows)?, take_u32(list.values(), &items)?])?;
            let next = if next.data_type() != acc.data_type() {
                super::cast_array(
                    &next,
                    &DataType::from_arrow(next.data_type()).unwrap_or(DataType::Null),
                    &merge.params[0],
                    super::CastMode::Ansi,
                )?
            } else {
                next
            };
            // Rows that took this step get the new accumulator; the others keep theirs.
            let mut pick: Vec<(usize, usize)> = (0..n).map(|i| (0, i)).collect();
            for (k, &row) in rows.iter().enumerate() {
                pick[row as usize] = (1, k);
            }
            acc = interleave(&[acc.as_ref(), next.as_ref()], &pick)?;
        }
        let all: Vec<u32> = (0..n as u32).collect();
        let out = match finish {
            Some(f) => f.call(batch, &all, vec![acc])?,
            None => acc,
        };
        // A NULL array aggregates to NULL.
        let nulls = NullBuffer::union(list.nulls(), out.nulls());
        Ok(arrow_array::make_array(out.to_data().into_builder().nulls(nulls).build()?))
    }

    fn zip_with(&self, batch: &RecordBatch, a: &ArrayRef, b: &ArrayRef, f: &Lambda) -> Result<ArrayRef> {
        let (la, lb) = (as_list(a)?, as_list(b)?);
        let (oa, ob) = (la.value_offsets(), lb.value_offsets());
        let mut rows = Vec::new();
        let (mut xs, mut ys) = (Vec::new(), Vec::new());
        let mut counts = vec![0usize; la.len()];
        for i in 0..la.len() {
            if la.is_null(i) || lb.is_null(i) {
                continue;
            }
            let (na, nb) = ((oa[i + 1] - oa[i]) as usize, (ob[i + 1] - ob[i]) as usize);
            counts[i] = na.max(nb);
            for j in 0..na.max(nb) {
                rows.push(i as u32);
                xs.push((j < na).then(|| (oa[i] as usize + j) as u32));
                ys.push((j < nb).then(|| (ob[i] as usize + j) as u32));
            }
        }
        let values = f.call(batch, &rows, vec![take_opt(la.values(), &xs)?, take_opt(lb.values(), &ys)?])?;
        list_of(&self.data_type, &counts, values, NullBuffer::union(la.nulls(), lb.nulls()))
    }

    fn array_sort(&self, batch: &RecordBatch, arr: &ArrayRef, f: Option<&Lambda>) -> Result<ArrayRef> {
        let list = as_list(arr)?;
        let offsets = list.value_offsets();
        let values = list.values();
        let mut order: Vec<u32> = Vec::with_capacity(values.len());
        for i in 0..list.len() {
            if list.is_null(i) {
                continue;
            }
            let mut idx: Vec<u32> = (offsets[i] as u32..offsets[i + 1] as u32).collect();
            match f {
                Some(f) => {
                    let mut cmp = |l: u32, r: u32| -> Result<Ordering> {
                        let out = f.call(batch, &[i as u32], vec![take_u32(values, &[l])?, take_u32(values, &[r])?])?;
                        let out = out.as_primitive_opt::<Int32Type>().ok_or_else(|| Error::internal("a comparator that is not an INT"))?;
                        if out.is_null(0) {
                            return Err(comparator_returns_null(values, l, r));
                        }
                        Ok(out.value(0).cmp(&0))
                    };
                    merge_sort(&mut idx, &mut cmp)?;
                }
                None => {
                    // Ascending, NULLs last (NaN above every other double).
                    let mut cmp = |l: u32, r: u32| -> Result<Ordering> {
                        let (a, b) = (Value::from_array(values.as_ref(), l as usize), Value::from_array(values.as_ref(), r as usize));
                        Ok(match (a.is_null(), b.is_null()) {
                            (true, true) => Ordering::Equal,
                            (true, false) => Ordering::Greater,
                            (false, true) => Ordering::Less,
                            _ => a.compare(&b),
                        })
                    };
                    merge_sort(&mut idx, &mut cmp)?;
                }
            }
            order.extend(idx);
        }
        list_of(&self.data_type, &counts(list), take_u32(values, &order)?, list.nulls().cloned())
    }

    /// `map_filter`, `transform_keys` and `transform_values`: the lambda sees `(key, value)`.
    fn map_each(&self, batch: &RecordBatch, m: &ArrayRef, f: &Lambda) -> Result<ArrayRef> {
        let map = m.as_map_opt().ok_or_else(|| Error::internal("a map function expected a map"))?;
        let offsets = map.value_offsets();
        let (mut rows, mut items) = (Vec::new(), Vec::new());
        for i in 0..map.len() {
            if map.is_valid(i) {
                for j in offsets[i]..offsets[i + 1] {
                    rows.push(i as u32);
                    items.push(j as u32);
                }
            }
        }
        let (keys, vals) = (take_u32(map.keys(), &items)?, take_u32(map.values(), &items)?);
        let out = f.call(batch, &rows, vec![keys.clone(), vals.clone()])?;
        let mut result: Vec<Value> = (0..map.len()).map(|i| if map.is_null(i) { Value::Null } else { Value::Map(vec![]) }).collect();
        let mut pairs: Vec<Vec<(Value, Value)>> = vec![Vec::new(); map.len()];
        for k in 0..items.len() {
            let (key, value) = (Value::from_array(keys.as_ref(), k), Value::from_array(vals.as_ref(), k));
            let pair = match self.func {
                HigherOrderFunc::MapFilter => {
                    let keep = as_bool(&out)?;
                    if !(keep.is_valid(k) && keep.value(k)) {
                        continue;
                    }
                    (key, value)
                }
                HigherOrderFunc::TransformKeys => (Value::from_array(out.as_ref(), k), value),
                _ => (key, Value::from_array(out.as_ref(), k)),
            };
            pairs[rows[k] as usize].push(pair);
        }
        for (i, p) in pairs.into_iter().enumerate() {
            if map.is_valid(i) {
                // New keys may be NULL or repeat: refused as `map(...)` refuses them.
                result[i] = super::functions::build_map(p)?;
            }
        }
        Ok(values_to_array(&result, &self.data_type))
    }

    /// `map_zip_with(m1, m2, (k, v1, v2) -> ..)`: over the keys of `m1` in order, then those of
    /// `m2` that `m1` lacks; a value missing on one side is NULL.
    fn map_zip_with(&self, batch: &RecordBatch, a: &ArrayRef, b: &ArrayRef, f: &Lambda) -> Result<ArrayRef> {
        let (ma, mb) = (a.as_map_opt(), b.as_map_opt());
        let (Some(ma), Some(mb)) = (ma, mb) else { return Err(Error::internal("map_zip_with expected maps")) };
        let (oa, ob) = (ma.value_offsets(), mb.value_offsets());
        let mut rows = Vec::new();
        let (mut keys, mut xs, mut ys): (Vec<Value>, Vec<Option<u32>>, Vec<Option<u32>>) = (Vec::new(), Vec::new(), Vec::new());
        for i in 0..ma.len() {
            if ma.is_null(i) || mb.is_null(i) {
                continue;
            }
            let mut row_keys: Vec<(Value, Option<u32>, Option<u32>)> = Vec::new();
            for j in oa[i]..oa[i + 1] {
                let k = Value::from_array(ma.keys().as_ref(), j as usize);
                match row_keys.iter_mut().find(|(o, _, _)| super::functions::same_value(o, &k)) {
                    Some(entry) => entry.1 = Some(j as u32),
                    None => row_keys.push((k, Some(j as u32), None)),
                }
            }
            for j in ob[i]..ob[i + 1] {
                let k = Value::from_array(mb.keys().as_ref(), j as usize);
                match row_keys.iter_mut().find(|(o, _, _)| super::functions::same_value(o, &k)) {
                    Some(entry) => entry.2 = Some(j as u32),
                    None => row_keys.push((k, None, Some(j as u32))),
                }
            }
            for (k, x, y) in row_keys {
                rows.push(i as u32);
                keys.push(k);
                xs.push(x);
                ys.push(y);
            }
        }
        let key_type = match &self.data_type {
            DataType::Map(k, _) => (**k).clone(),
            _ => DataType::Null,
        };
        let key_array = values_to_array(&keys, &key_type);
        let out = f.call(batch, &rows, vec![key_array, take_opt(ma.values(), &xs)?, take_opt(mb.values(), &ys)?])?;
        let mut pairs: Vec<Vec<(Value, Value)>> = vec![Vec::new(); ma.len()];
        for (k, key) in keys.into_iter().enumerate() {
            pairs[rows[k] as usize].push((key, Value::from_array(out.as_ref(), k)));
        }
        let result: Vec<Value> =
            pairs.into_iter().enumerate().map(|(i, p)| if ma.is_null(i) || mb.is_null(i) { Value::Null } else { Value::Map(p) }).collect();
        Ok(values_to_array(&result, &self.data_type))
    }
}

fn counts(list: &ListArray) -> Vec<usize> {
    let o = list.value_offsets();
    (0..list.len()).map(|i| if list.is_null(i) { 0 } else { (o[i + 1] - o[i]) as usize }).collect()
}

/// A stable merge sort with a comparator that may fail (Spark sorts with Java's stable TimSort;
/// for a consistent comparator both give the same order). Never panics on an inconsistent one.
fn merge_sort(v: &mut Vec<u32>, cmp: &mut dyn FnMut(u32, u32) -> Result<Ordering>) -> Result<()> {
    if v.len() <= 1 {
        return Ok(());
    }
    let mut right = v.split_off(v.len() / 2);
    merge_sort(v, cmp)?;
    merge_sort(&mut right, cmp)?;
    let left = std::mem::take(v);
    let (mut i, mut j) = (0, 0);
    while i < left.len() && j < right.len() {
        if cmp(right[j], left[i])? == Ordering::Less {
            v.push(right[j]);
            j += 1;
        } else {
            v.push(left[i]);
            i += 1;
        }
    }
    v.extend_from_slice(&left[i..]);
    v.extend_from_slice(&right[j..]);
    Ok(())
}

fn comparator_returns_null(values: &ArrayRef, l: u32, r: u32) -> Error {
    let (a, b) = (Value::from_array(values.as_ref(), l as usize), Value::from_array(values.as_ref(), r as usize));
    Error::runtime(
        "COMPARATOR_RETURNS_NULL",
        format!(
            "[COMPARATOR_RETURNS_NULL] The comparator has returned a NULL for a comparison between {} and {}. It should return a positive integer for \"greater than\", 0 for \"equal\" and a negative integer for \"less than\". To revert to deprecated behavior where NULL is treated as 0 (equal), you must set \"spark.sql.legacy.allowNullComparisonResultInArraySort\" to \"true\". SQLSTATE: 22004",
            a.to_spark_string(),
            b.to_spark_string()
        ),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::plan::LogicalPlan;
    use crate::sql::{analyze, Catalog};
    use crate::types::{Column, Schema};
    #[cfg(target_arch = "wasm32")]
    use wasm_bindgen_test::wasm_bindgen_test as test;

    fn ints(v: &[Option<i32>]) -> Value {
        Value::Array(v.iter().map(|x| x.map(Value::Int).unwrap_or(Value::Null)).collect())
    }

    fn schema() -> Schema {
        Schema::new(vec![
            Column { name: "arr".into(), data_type: DataType::Array(Box::new(DataType::Int)) },
            Column { name: "m".into(), data_type: DataType::Map(Box::new(DataType::String), Box::new(DataType::Int)) },
            Column { name: "k".into(), data_type: DataType::Int },
            Column { name: "x".into(), data_type: DataType::String },
        ])
    }

    /// Rows: ([1, NULL, 3], {a: 1, b: 2}, 10, "col"), (NULL, NULL, 20, NULL), ([], {}, 30, "z").
    fn batch() -> RecordBatch {
        let s = schema();
        let m = |pairs: &[(&str, i32)]| Value::Map(pairs.iter().map(|(k, v)| (Value::String(k.to_string()), Value::Int(*v))).collect());
        let cols = vec![
            values_to_array(&[ints(&[Some(1), None, Some(3)]), Value::Null, ints(&[])], &s.columns[0].data_type),
            values_to_array(&[m(&[("a", 1), ("b", 2)]), Value::Null, m(&[])], &s.columns[1].data_type),
            values_to_array(&[Value::Int(10), Value::Int(20), Value::Int(30)], &DataType::Int),
            values_to_array(&[Value::String("col".into()), Value::Null, Value::String("z".into())], &DataType::String),
        ];
        RecordBatch::try_new(s.to_arrow(), cols).unwrap()
    }

    fn run(expr_sql: &str) -> Result<Vec<Value>> {
        let catalog = Catalog { sources: vec![("t".into(), schema())], tables: vec![] };
        let q = analyze(&format!("SELECT {expr_sql} AS v FROM t"), &catalog)?;
        let LogicalPlan::Project { exprs, .. } = &q.plan else { panic!("a projection") };
        let out = exprs[0].evaluate_to_array(&batch())?;
        Ok((0..out.len()).map(|k| Value::from_array(out.as_ref(), k)).collect())
    }

    fn eval(expr_sql: &str) -> Vec<Value> {
        run(expr_sql).unwrap_or_else(|e| panic!("{expr_sql}: {e}"))
    }

    fn err(expr_sql: &str) -> Error {
        run(expr_sql).err().unwrap_or_else(|| panic!("{expr_sql}: expected an error"))
    }

    #[test]
    fn transform_with_and_without_an_index_reads_outer_columns() {
        assert_eq!(eval("transform(arr, x -> x + k)"), vec![ints(&[Some(11), None, Some(13)]), Value::Null, ints(&[])]);
        assert_eq!(eval("transform(arr, (x, i) -> i * 100 + x)"), vec![ints(&[Some(1), None, Some(203)]), Value::Null, ints(&[])]);
    }

    #[test]
    fn a_lambda_variable_shadows_a_column_and_nested_lambdas_see_both() {
        // `x` is the column "col" outside the lambda and the element inside it.
        assert_eq!(eval("transform(arr, x -> x * 2)"), vec![ints(&[Some(2), None, Some(6)]), Value::Null, ints(&[])]);
        let nested = eval("transform(arr, x -> aggregate(transform(arr, y -> y * x), 0, (acc, z) -> acc + coalesce(z, 0)))");
        assert_eq!(nested[0], ints(&[Some(4), Some(0), Some(12)]), "a NULL x makes every product NULL, coalesced to 0");
        assert_eq!(eval("transform(array(x), y -> concat(y, x))")[0], Value::Array(vec![Value::String("colcol".into())]));
    }

    #[test]
    fn filter_exists_and_forall_follow_three_valued_logic() {
        assert_eq!(eval("filter(arr, x -> x > 1)"), vec![ints(&[Some(3)]), Value::Null, ints(&[])]);
        assert_eq!(eval("filter(arr, (x, i) -> i > 0)"), vec![ints(&[None, Some(3)]), Value::Null, ints(&[])]);
        let b = |v: Option<bool>| v.map(Value::Boolean).unwrap_or(Value::Null);
        assert_eq!(eval("exists(arr, x -> x > 2)"), vec![b(Some(true)), b(None), b(Some(false))]);
        assert_eq!(eval("exists(arr, x -> x > 5)"), vec![b(None), b(None), b(Some(false))], "a NULL element makes it unknown");
        assert_eq!(eval("forall(arr, x -> x > 5)"), vec![b(Some(false)), b(None), b(Some(true))]);
        assert_eq!(eval("forall(arr, x -> x > 0)"), vec![b(None), b(None), b(Some(true))]);
    }

    #[test]
    fn aggregate_folds_in_order_with_and_without_finish() {
        assert_eq!(eval("aggregate(arr, 0, (acc, x) -> acc + coalesce(x, 0))"), vec![Value::Int(4), Value::Null, Value::Int(0)]);
        assert_eq!(
            eval("reduce(arr, '', (acc, x) -> concat(acc, coalesce(CAST(x AS STRING), '_')), acc -> concat('[', acc, ']'))"),
            vec![Value::String("[1_3]".into()), Value::Null, Value::String("[]".into())]
        );
        assert_eq!(eval("aggregate(arr, 0, (acc, x) -> acc + x)")[0], Value::Null, "a NULL element propagates through +");
        let e = err("aggregate(arr, 0.5D, (acc, x) -> x)");
        assert_eq!(e.spark_condition, Some("DATATYPE_MISMATCH.UNEXPECTED_INPUT_TYPE"), "{e}");
    }

    #[test]
    fn zip_with_pads_the_shorter_array_with_nulls() {
        assert_eq!(
            eval("zip_with(arr, array(5), (a, b) -> coalesce(a, 0) + coalesce(b, 100))"),
            vec![ints(&[Some(6), Some(100), Some(103)]), Value::Null, ints(&[Some(5)])]
        );
    }

    #[test]
    fn map_functions() {
        let m = |pairs: &[(&str, Option<i32>)]| {
            Value::Map(pairs.iter().map(|(k, v)| (Value::String(k.to_string()), v.map(Value::Int).unwrap_or(Value::Null))).collect())
        };
        assert_eq!(eval("map_filter(m, (key, v) -> v > 1)"), vec![m(&[("b", Some(2))]), Value::Null, m(&[])]);
        assert_eq!(eval("transform_values(m, (key, v) -> v * k)"), vec![m(&[("a", Some(10)), ("b", Some(20))]), Value::Null, m(&[])]);
        assert_eq!(eval("transform_keys(m, (key, v) -> upper(key))"), vec![m(&[("A", Some(1)), ("B", Some(2))]), Value::Null, m(&[])]);
        assert_eq!(err("transform_keys(m, (key, v) -> 'same')").spark_condition, Some("DUPLICATED_MAP_KEY"));
        assert_eq!(err("transform_keys(m, (key, v) -> CAST(NULL AS STRING))").spark_condition, Some("NULL_MAP_KEY"));
        assert_eq!(
            eval("map_zip_with(m, map('c', 7, 'a', 5), (key, l, r) -> coalesce(l, 0) * 10 + coalesce(r, 0))")[0],
            m(&[("a", Some(15)), ("b", Some(20)), ("c", Some(7))])
        );
    }

    #[test]
    fn array_sort_with_and_without_a_comparator() {
        assert_eq!(eval("array_sort(arr)"), vec![ints(&[Some(1), Some(3), None]), Value::Null, ints(&[])]);
        assert_eq!(
            eval("array_sort(arr, (l, r) -> CASE WHEN l IS NULL THEN -1 WHEN r IS NULL THEN 1 WHEN l < r THEN 1 WHEN l > r THEN -1 ELSE 0 END)"),
            vec![ints(&[None, Some(3), Some(1)]), Value::Null, ints(&[])]
        );
        assert_eq!(err("array_sort(arr, (l, r) -> CAST(NULL AS INT))").spark_condition, Some("COMPARATOR_RETURNS_NULL"));
        assert_eq!(err("array_sort(arr, (l, r) -> 1.5D)").spark_condition, Some("DATATYPE_MISMATCH.UNEXPECTED_RETURN_TYPE"));
        // An inconsistent comparator gives some order, never a panic.
        assert!(run("array_sort(array(3, 1, 2, 5, 4, 1, 0), (l, r) -> 1)").is_ok());
    }

    #[test]
    fn wrong_lambdas_are_refused_with_sparks_errors_and_a_position() {
        let e = err("transform(arr, (a, b, c) -> a)");
        assert_eq!(e.spark_condition, Some("INVALID_LAMBDA_FUNCTION_CALL.NUM_ARGS_MISMATCH"));
        assert!(e.message.contains("expects 3 arguments, but got 1"), "{e}");
        assert_eq!(e.position.map(|p| (p.line, p.column)), Some((1, 24)));
        assert_eq!(err("exists(arr, (a, b) -> true)").spark_condition, Some("INVALID_LAMBDA_FUNCTION_CALL.NUM_ARGS_MISMATCH"));
        assert_eq!(err("transform(arr, (a, A) -> a)").spark_condition, Some("INVALID_LAMBDA_FUNCTION_CALL.DUPLICATE_ARG_NAMES"));
        assert_eq!(err("filter(arr, x -> 1)").spark_condition, Some("DATATYPE_MISMATCH.UNEXPECTED_INPUT_TYPE"));
        assert_eq!(err("transform(k, x -> x)").spark_condition, Some("DATATYPE_MISMATCH.UNEXPECTED_INPUT_TYPE"));
        assert_eq!(err("transform(arr, x -> x, 1)").spark_condition, Some("WRONG_NUM_ARGS.WITHOUT_SUGGESTION"));
        assert_eq!(err("transform(arr, k)").spark_condition, Some("DATATYPE_MISMATCH.UNEXPECTED_INPUT_TYPE"));
        assert_eq!(err("transform(arr, y -> nope)").kind, crate::error::ErrorKind::UnknownColumn);
        assert_eq!(err("upper(x -> x)").kind, crate::error::ErrorKind::Parse);
    }

    #[test]
    fn merge_sort_is_stable() {
        let keys = [2, 1, 2, 1, 0];
        let mut v: Vec<u32> = (0..5).collect();
        merge_sort(&mut v, &mut |a, b| Ok(keys[a as usize].cmp(&keys[b as usize]))).unwrap();
        assert_eq!(v, vec![4, 1, 3, 0, 2]);
    }
}
