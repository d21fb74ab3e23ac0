//! Aggregate functions: which exist, their argument rules and result types (Spark's), and the
//! accumulators that keep their running state per group.

use std::collections::HashSet;

use serde::{Deserialize, Serialize};

use super::Expr;
use crate::error::{Error, Result};
use crate::ops::keys::encode_values;
use crate::types::DataType;
use crate::value::Value;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum AggFunc {
    /// `count(*)` / `count(1)`: every row.
    CountRows,
    /// `count(x)`: rows where x is not NULL.
    Count,
    Sum,
    Avg,
    Min,
    Max,
    /// `first(x [, ignoreNulls])`: the first value in arrival order.
    First {
        ignore_nulls: bool,
    },
    Last {
        ignore_nulls: bool,
    },
    CountIf,
    ApproxCountDistinct,
    CollectList,
    CollectSet,
    // Added later; appended so the encodings of the variants above stay what they were.
    /// `stddev` / `stddev_samp`.
    StddevSamp,
    StddevPop,
    /// `variance` / `var_samp`.
    VarSamp,
    VarPop,
    /// `bool_and` / `every`: the minimum of booleans (false < true).
    BoolAnd,
    /// `bool_or` / `any` / `some`.
    BoolOr,
}

/// One aggregate call of a query: the function, its (resolved) argument and result type.
#[derive(Debug, Clone, PartialEq)]
pub struct AggregateCall {
    pub func: AggFunc,
    pub arg: Option<Expr>,
    pub data_type: DataType,
}

impl AggFunc {
    /// Every aggregate a person can call.
    pub const NAMES: &'static [&'static str] = &[
        "count",
        "sum",
        "avg",
        "mean",
        "min",
        "max",
        "first",
        "first_value",
        "last",
        "last_value",
        "count_if",
        "approx_count_distinct",
        "collect_list",
        "collect_set",
        "array_agg",
        "stddev",
        "std",
        "stddev_samp",
        "stddev_pop",
        "variance",
        "var_samp",
        "var_pop",
        "bool_and",
        "every",
        "bool_or",
        "any",
        "some",
    ];

    pub fn is_aggregate_name(name: &str) -> bool {
        AggFunc::NAMES.contains(&name)
    }

    /// Builds the call for `name(args)`; `star` for `count(*)`.
    pub fn resolve(name: &str, mut args: Vec<Expr>, star: bool) -> Result<AggregateCall> {
        let arity = |n: usize, args: &[Expr]| -> Result<()> {
            if args.len() != n {
                return Err(Error::type_mismatch(format!(
                    "[WRONG_NUM_ARGS.WITHOUT_SUGGESTION] The `{name}` requires {n} parameters but the actual number is {}. SQLSTATE: 42605",
                    args.len()
                )));
            }
            Ok(())
        };
        let numeric = |e: Expr| -> Result<Expr> {
            match e.data_type() {
                t if t.is_numeric() => Ok(e),
                DataType::String | DataType::Null => Ok(e.cast_to(&DataType::Double)),
                other => Err(Error::type_mismatch(format!(
                    "[DATATYPE_MISMATCH.UNEXPECTED_INPUT_TYPE] Cannot resolve \"{name}(...)\" due to data type mismatch: the parameter requires the \"NUMERIC\" type, however it has the type \"{}\". SQLSTATE: 42K09",
                    other.spark_name()
                ))),
            }
        };
        let (func, arg, data_type) = match name {
            "count" if star || (args.len() == 1 && matches!(args[0], Expr::Literal(ref v) if !v.is_null())) => {
                (AggFunc::CountRows, None, DataType::BigInt)
            }
            "count" => {
                arity(1, &args)?;
                (AggFunc::Count, Some(args.remove(0)), DataType::BigInt)
            }
            "sum" => {
                arity(1, &args)?;
                let a = numeric(args.remove(0))?;
                let t = if a.data_type().is_integral() { DataType::BigInt } else { DataType::Double };
                (AggFunc::Sum, Some(a), t)
            }
            "avg" | "mean" => {
                arity(1, &args)?;
                (AggFunc::Avg, Some(numeric(args.remove(0))?), DataType::Double)
            }
            "min" | "max" => {
                arity(1, &args)?;
                let a = args.remove(0);
                let t = a.data_type();
                (if name == "min" { AggFunc::Min } else { AggFunc::Max }, Some(a), t)
            }
            "first" | "first_value" | "last" | "last_value" => {
                if args.is_empty() || args.len() > 2 {
                    arity(1, &args)?;
                }
                let ignore_nulls = match args.get(1) {
                    None => false,
                    Some(Expr::Literal(Value::Boolean(b))) => *b,
                    Some(_) => return Err(Error::type_mismatch(format!("the second argument of `{name}` must be TRUE or FALSE"))),
                };
                let a = args.remove(0);
                let t = a.data_type();
                let f = if name.starts_with("first") { AggFunc::First { ignore_nulls } } else { AggFunc::Last { ignore_nulls } };
                (f, Some(a), t)
            }
            "count_if" => {
                arity(1, &args)?;
                let a = args.remove(0);
                if !matches!(a.data_type(), DataType::Boolean | DataType::Null) {
                    return Err(Error::type_mismatch(format!(
                        "[DATATYPE_MISMATCH.UNEXPECTED_INPUT_TYPE] Cannot resolve \"count_if(...)\" due to data type mismatch: the parameter requires the \"BOOLEAN\" type, however it has the type \"{}\". SQLSTATE: 42K09",
                        a.data_type().spark_name()
                    )));
                }
                (AggFunc::CountIf, Some(a), DataType::BigInt)
            }
            "approx_count_distinct" => {
                if args.len() == 2 {
                    args.pop();
                }
                arity(1, &args)?;
                (AggFunc::ApproxCountDistinct, Some(args.remove(0)), DataType::BigInt)
            }
            "collect_list" | "array_agg" | "collect_set" => {
                arity(1, &args)?;
                let a = args.remove(0);
                let t = DataType::Array(Box::new(a.data_type()));
                (if name == "collect_set" { AggFunc::CollectSet } else { AggFunc::CollectList }, Some(a), t)
            }
            "stddev" | "std" | "stddev_samp" | "stddev_pop" | "variance" | "var_samp" | "var_pop" => {
                arity(1, &args)?;
                let a = numeric(args.remove(0))?.cast_to(&DataType::Double);
                let f = match name {
                    "stddev_pop" => AggFunc::StddevPop,
                    "variance" | "var_samp" => AggFunc::VarSamp,
                    "var_pop" => AggFunc::VarPop,
                    _ => AggFunc::StddevSamp,
                };
                (f, Some(a), DataType::Double)
            }
            "bool_and" | "every" | "bool_or" | "any" | "some" => {
                arity(1, &args)?;
                let a = args.remove(0);
                if !matches!(a.data_type(), DataType::Boolean | DataType::Null) {
                    return Err(Error::type_mismatch(format!(
                        "[DATATYPE_MISMATCH.UNEXPECTED_INPUT_TYPE] Cannot resolve \"{name}(...)\" due to data type mismatch: the parameter requires the \"BOOLEAN\" type, however it has the type \"{}\". SQLSTATE: 42K09",
                        a.data_type().spark_name()
                    ))
                    .with_condition("DATATYPE_MISMATCH.UNEXPECTED_INPUT_TYPE"));
                }
                let f = if matches!(name, "bool_and" | "every") { AggFunc::BoolAnd } else { AggFunc::BoolOr };
                (f, Some(a.cast_to(&DataType::Boolean)), DataType::Boolean)
            }
            other => return Err(Error::new(crate::ErrorKind::UnknownFunction, format!("`{other}` is not an aggregate function"))),
        };
        Ok(AggregateCall { func, arg, data_type })
    }
}

/// The running state of one aggregate for one group.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum Accumulator {
    Count(i64),
    SumInt(Option<i64>),
    SumDouble(Option<f64>),
    Avg {
        sum: f64,
        count: i64,
    },
    MinMax(Option<Value>),
    /// First/last: the value, and whether one was taken.
    Pick {
        value: Value,
        taken: bool,
    },
    Distinct(DistinctValues),
    List(Vec<Value>),
    /// The count, mean and sum of squared deviations of the values so far (Welford's update,
    /// as Spark's central-moment aggregates keep them). Appended last: see [`AggFunc`].
    Moments {
        n: i64,
        mean: f64,
        m2: f64,
    },
}

/// The distinct values of `collect_set`/`approx_count_distinct`, in first-seen order. Kept in
/// state as the plain list; the hash index beside it is rebuilt after a restart, so adding a
/// value costs the same with 10 values as with 100,000.
#[derive(Clone, Default, Serialize, Deserialize)]
#[serde(transparent)]
pub struct DistinctValues {
    items: Vec<Value>,
    /// The values' key encodings (`ops::keys`): -0.0 = 0.0 and NaN = NaN, as Spark groups them
    /// and as its `collect_set` dedupes since 4.2 (SPARK-57298).
    #[serde(skip)]
    index: HashSet<Vec<u8>>,
}

impl DistinctValues {
    pub fn items(&self) -> &[Value] {
        &self.items
    }

    /// Adds `v` unless an equal value is there already.
    pub fn insert(&mut self, v: &Value) {
        if self.index.len() != self.items.len() {
            // Loaded from a checkpoint: the index was not saved.
            self.reindex();
        }
        let mut key = Vec::new();
        encode_values(std::slice::from_ref(v), &mut key);
        if self.index.insert(key) {
            self.items.push(v.clone());
        }
    }

    fn reindex(&mut self) {
        let mut buf = Vec::new();
        let (mut index, mut items) = (HashSet::with_capacity(self.items.len()), Vec::with_capacity(self.items.len()));
        for v in std::mem::take(&mut self.items) {
            encode_values(std::slice::from_ref(&v), &mut buf);
            // A checkpoint holding a value twice keeps it once.
            if index.insert(buf.clone()) {
                items.push(v);
            }
        }
        self.index = index;
        self.items = items;
    }
}

impl PartialEq for DistinctValues {
    fn eq(&self, other: &Self) -> bool {
        self.items == other.items
    }
}

impl std::fmt::Debug for DistinctValues {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.items.fmt(f)
    }
}

/// Counts are BIGINTs; only a count read from a damaged checkpoint could get near the top.
fn add_count(n: &mut i64, by: i64) -> Result<()> {
    *n = n
        .checked_add(by)
        .ok_or_else(|| Error::runtime("ARITHMETIC_OVERFLOW", "[ARITHMETIC_OVERFLOW] long overflow in count. SQLSTATE: 22003"))?;
    Ok(())
}

impl AggregateCall {
    /// Whether `acc` (read back from a checkpoint) is an accumulator of this call: the right
    /// kind, holding values of the right type; a mismatch would otherwise surface as a wrong
    /// result or a failed batch much later.
    pub fn fits(&self, acc: &Accumulator) -> bool {
        let fresh = self.new_accumulator();
        if std::mem::discriminant(&fresh) != std::mem::discriminant(acc) {
            return false;
        }
        let item_type = match &self.data_type {
            DataType::Array(inner) => inner.as_ref(),
            other => other,
        };
        match acc {
            Accumulator::Count(n) => *n >= 0,
            Accumulator::Avg { count, .. } => *count >= 0,
            Accumulator::SumInt(_) | Accumulator::SumDouble(_) => true,
            Accumulator::MinMax(v) => v.as_ref().is_none_or(|v| !v.is_null() && crate::ops::fits(v, &self.data_type)),
            Accumulator::Pick { value, taken } => (*taken || value.is_null()) && crate::ops::fits(value, &self.data_type),
            Accumulator::Distinct(seen) => {
                let arg_type = self.arg.as_ref().map(Expr::data_type).unwrap_or(DataType::Null);
                seen.items.iter().all(|v| !v.is_null() && crate::ops::fits(v, &arg_type))
            }
            Accumulator::List(items) => items.iter().all(|v| !v.is_null() && crate::ops::fits(v, item_type)),
            Accumulator::Moments { n, .. } => *n >= 0,
        }
    }

    pub fn new_accumulator(&self) -> Accumulator {
        match self.func {
            AggFunc::CountRows | AggFunc::Count | AggFunc::CountIf => Accumulator::Count(0),
            AggFunc::Sum if self.data_type == DataType::BigInt => Accumulator::SumInt(None),
            AggFunc::Sum => Accumulator::SumDouble(None),
            AggFunc::Avg => Accumulator::Avg { sum: 0.0, count: 0 },
            AggFunc::Min | AggFunc::Max | AggFunc::BoolAnd | AggFunc::BoolOr => Accumulator::MinMax(None),
            AggFunc::StddevSamp | AggFunc::StddevPop | AggFunc::VarSamp | AggFunc::VarPop => {
                Accumulator::Moments { n: 0, mean: 0.0, m2: 0.0 }
            }
            AggFunc::First { .. } | AggFunc::Last { .. } => Accumulator::Pick { value: Value::Null, taken: false },
            AggFunc::ApproxCountDistinct | AggFunc::CollectSet => Accumulator::Distinct(DistinctValues::default()),
            AggFunc::CollectList => Accumulator::List(Vec::new()),
        }
    }

    /// Folds one input value (the argument's value for a row; Null for `count(*)`'s rows).
    pub fn update(&self, acc: &mut Accumulator, v: &Value) -> Result<()> {
        match (self.func, acc) {
            (AggFunc::CountRows, Accumulator::Count(n)) => add_count(n, 1)?,
            (AggFunc::Count, Accumulator::Count(n)) => add_count(n, i64::from(!v.is_null()))?,
            (AggFunc::CountIf, Accumulator::Count(n)) => add_count(n, i64::from(*v == Value::Boolean(true)))?,
            (AggFunc::Sum, Accumulator::SumInt(s)) => {
                if let Some(x) = v.as_i64() {
                    *s = Some(s.unwrap_or(0).checked_add(x).ok_or_else(|| {
                        Error::runtime("ARITHMETIC_OVERFLOW", "[ARITHMETIC_OVERFLOW] long overflow in sum. Use 'try_sum' or sum a DOUBLE to tolerate overflow. SQLSTATE: 22003")
                    })?);
                }
            }
            (AggFunc::Sum, Accumulator::SumDouble(s)) => {
                if let Some(x) = v.as_f64() {
                    *s = Some(s.unwrap_or(0.0) + x);
                }
            }
            (AggFunc::Avg, Accumulator::Avg { sum, count }) => {
                if let Some(x) = v.as_f64() {
                    *sum += x;
                    add_count(count, 1)?;
                }
            }
            (AggFunc::Min | AggFunc::Max | AggFunc::BoolAnd | AggFunc::BoolOr, Accumulator::MinMax(cur)) => {
                if !v.is_null() {
                    let better = match cur {
                        None => true,
                        Some(c) => {
                            let ord = v.compare(c);
                            if self.keeps_minimum() {
                                ord.is_lt()
                            } else {
                                ord.is_gt()
                            }
                        }
                    };
                    if better {
                        *cur = Some(v.clone());
                    }
                }
            }
            (AggFunc::First { ignore_nulls }, Accumulator::Pick { value, taken }) => {
                let skip = *taken || (ignore_nulls && v.is_null());
                if !skip {
                    *value = v.clone();
                    *taken = true;
                }
            }
            (AggFunc::Last { ignore_nulls }, Accumulator::Pick { value, taken }) => {
                if !(ignore_nulls && v.is_null()) {
                    *value = v.clone();
                    *taken = true;
                }
            }
            (AggFunc::ApproxCountDistinct | AggFunc::CollectSet, Accumulator::Distinct(seen)) => {
                if !v.is_null() {
                    seen.insert(v);
                }
            }
            (AggFunc::CollectList, Accumulator::List(items)) => {
                if !v.is_null() {
                    items.push(v.clone());
                }
            }
            (AggFunc::StddevSamp | AggFunc::StddevPop | AggFunc::VarSamp | AggFunc::VarPop, Accumulator::Moments { n, mean, m2 }) => {
                if let Some(x) = v.as_f64() {
                    add_count(n, 1)?;
                    let delta = x - *mean;
                    *mean += delta / *n as f64;
                    *m2 += delta * (x - *mean);
                }
            }
            (f, a) => return Err(Error::internal(format!("accumulator {a:?} does not fit {f:?}"))),
        }
        Ok(())
    }

    /// `min` and `bool_and` keep the smallest value; `max` and `bool_or` the largest.
    fn keeps_minimum(&self) -> bool {
        matches!(self.func, AggFunc::Min | AggFunc::BoolAnd)
    }

    /// Merges `later` (rows after those of `acc`, as sessions merge in time order) into `acc`.
    pub fn merge(&self, acc: &mut Accumulator, later: Accumulator) -> Result<()> {
        match (acc, later) {
            (Accumulator::Count(a), Accumulator::Count(b)) => add_count(a, b)?,
            (Accumulator::SumInt(a), Accumulator::SumInt(b)) => {
                if let Some(b) = b {
                    *a = Some(a.unwrap_or(0).checked_add(b).ok_or_else(|| {
                        Error::runtime("ARITHMETIC_OVERFLOW", "[ARITHMETIC_OVERFLOW] long overflow in sum. SQLSTATE: 22003")
                    })?);
                }
            }
            (Accumulator::SumDouble(a), Accumulator::SumDouble(b)) => {
                if let Some(b) = b {
                    *a = Some(a.unwrap_or(0.0) + b);
                }
            }
            (Accumulator::Avg { sum, count }, Accumulator::Avg { sum: s2, count: c2 }) => {
                *sum += s2;
                add_count(count, c2)?;
            }
            (Accumulator::MinMax(a), Accumulator::MinMax(Some(b))) => {
                let better = match a {
                    None => true,
                    Some(cur) => {
                        let ord = b.compare(cur);
                        if self.keeps_minimum() {
                            ord.is_lt()
                        } else {
                            ord.is_gt()
                        }
                    }
                };
                if better {
                    *a = Some(b);
                }
            }
            (Accumulator::MinMax(_), Accumulator::MinMax(None)) => {}
            (Accumulator::Pick { value, taken }, Accumulator::Pick { value: v2, taken: t2 }) => {
                let take_later = match self.func {
                    AggFunc::First { .. } => !*taken && t2,
                    _ => t2,
                };
                if take_later {
                    *value = v2;
                    *taken = true;
                }
            }
            (Accumulator::Distinct(a), Accumulator::Distinct(b)) => {
                for v in &b.items {
                    a.insert(v);
                }
            }
            (Accumulator::List(a), Accumulator::List(b)) => a.extend(b),
            (Accumulator::Moments { n, mean, m2 }, Accumulator::Moments { n: n2, mean: mean2, m2: m2b }) => {
                if n2 > 0 {
                    let total = n.checked_add(n2).ok_or_else(|| {
                        Error::runtime("ARITHMETIC_OVERFLOW", "[ARITHMETIC_OVERFLOW] long overflow in count. SQLSTATE: 22003")
                    })?;
                    let delta = mean2 - *mean;
                    *m2 += m2b + delta * delta * (*n as f64) * (n2 as f64) / total as f64;
                    *mean += delta * n2 as f64 / total as f64;
                    *n = total;
                }
            }
            (a, b) => return Err(Error::internal(format!("cannot merge {b:?} into {a:?}"))),
        }
        Ok(())
    }

    /// The aggregate's value for a group.
    pub fn result(&self, acc: &Accumulator) -> Value {
        match acc {
            Accumulator::Count(n) => Value::BigInt(*n),
            Accumulator::SumInt(s) => s.map(Value::BigInt).unwrap_or(Value::Null),
            Accumulator::SumDouble(s) => s.map(Value::Double).unwrap_or(Value::Null),
            Accumulator::Avg { sum, count } => {
                if *count == 0 {
                    Value::Null
                } else {
                    Value::Double(sum / *count as f64)
                }
            }
            Accumulator::MinMax(v) => v.clone().unwrap_or(Value::Null),
            Accumulator::Pick { value, .. } => value.clone(),
            Accumulator::Distinct(seen) if self.func == AggFunc::ApproxCountDistinct => Value::BigInt(seen.items.len() as i64),
            Accumulator::Distinct(seen) => Value::Array(seen.items.clone()),
            Accumulator::List(items) => Value::Array(items.clone()),
            // NULL without enough values, as Spark (not NaN, its legacy answer).
            Accumulator::Moments { n, m2, .. } => {
                let divisor = match self.func {
                    AggFunc::StddevPop | AggFunc::VarPop => *n,
                    _ => n - 1,
                };
                if divisor <= 0 {
                    return Value::Null;
                }
                let variance = m2 / divisor as f64;
                Value::Double(if matches!(self.func, AggFunc::StddevSamp | AggFunc::StddevPop) { variance.sqrt() } else { variance })
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    #[cfg(target_arch = "wasm32")]
    use wasm_bindgen_test::wasm_bindgen_test as test;

    fn collect_set() -> AggregateCall {
        AggFunc::resolve("collect_set", vec![Expr::column(0, DataType::String)], false).unwrap()
    }

    fn s(v: &str) -> Value {
        Value::String(v.into())
    }

    #[test]
    fn a_set_read_back_from_state_still_keeps_each_value_once() {
        let call = collect_set();
        let mut acc = call.new_accumulator();
        for v in ["a", "b", "a"] {
            call.update(&mut acc, &s(v)).unwrap();
        }
        let bytes = postcard::to_allocvec(&acc).unwrap();
        // Variant 6, then the plain list: the layout state had before the index existed.
        let plain = [vec![6u8], postcard::to_allocvec(&vec![s("a"), s("b")]).unwrap()].concat();
        assert_eq!(bytes, plain, "kept in state as the plain list");
        let mut back: Accumulator = postcard::from_bytes(&bytes).unwrap();
        call.update(&mut back, &s("b")).unwrap();
        call.update(&mut back, &s("c")).unwrap();
        assert_eq!(call.result(&back), Value::Array(vec![s("a"), s("b"), s("c")]));
        let mut other = call.new_accumulator();
        call.update(&mut other, &s("c")).unwrap();
        call.update(&mut other, &s("d")).unwrap();
        call.merge(&mut back, other).unwrap();
        assert_eq!(call.result(&back), Value::Array(vec![s("a"), s("b"), s("c"), s("d")]));
    }

    #[test]
    fn moments_update_merge_and_survive_a_checkpoint() {
        let call = |name| AggFunc::resolve(name, vec![Expr::column(0, DataType::Double)], false).unwrap();
        let (samp, pop) = (call("stddev"), call("var_pop"));
        let mut a = samp.new_accumulator();
        assert_eq!(samp.result(&a), Value::Null);
        samp.update(&mut a, &Value::Double(2.0)).unwrap();
        assert_eq!(samp.result(&a), Value::Null, "one value has no sample deviation");
        for x in [4.0, 4.0, 4.0, 5.0] {
            samp.update(&mut a, &Value::Double(x)).unwrap();
        }
        samp.update(&mut a, &Value::Null).unwrap();
        let mut b = samp.new_accumulator();
        for x in [5.0, 7.0, 9.0] {
            samp.update(&mut b, &Value::Double(x)).unwrap();
        }
        let bytes = postcard::to_allocvec(&b).unwrap();
        assert_eq!(bytes[0], 8, "a new variant, after the old ones");
        samp.merge(&mut a, postcard::from_bytes(&bytes).unwrap()).unwrap();
        // 2, 4, 4, 4, 5, 5, 7, 9: mean 5, squared deviations 32.
        let Value::Double(sd) = samp.result(&a) else { panic!() };
        assert!((sd - (32.0f64 / 7.0).sqrt()).abs() < 1e-12, "{sd}");
        assert_eq!(pop.result(&a), Value::Double(4.0));
    }

    #[test]
    fn bool_and_and_bool_or_skip_nulls() {
        let call = |name| AggFunc::resolve(name, vec![Expr::column(0, DataType::Boolean)], false).unwrap();
        let (all, any) = (call("every"), call("some"));
        let (mut x, mut y) = (all.new_accumulator(), any.new_accumulator());
        assert_eq!(all.result(&x), Value::Null);
        for v in [Value::Boolean(true), Value::Null, Value::Boolean(false), Value::Boolean(true)] {
            all.update(&mut x, &v).unwrap();
            any.update(&mut y, &v).unwrap();
        }
        assert_eq!((all.result(&x), any.result(&y)), (Value::Boolean(false), Value::Boolean(true)));
        assert!(AggFunc::resolve("bool_or", vec![Expr::column(0, DataType::Int)], false).is_err());
    }

    #[test]
    fn a_count_at_the_top_of_bigint_is_an_overflow_error() {
        let call = AggFunc::resolve("count", vec![], true).unwrap();
        let mut acc = Accumulator::Count(i64::MAX);
        let err = call.update(&mut acc, &Value::Null).unwrap_err();
        assert_eq!(err.spark_condition, Some("ARITHMETIC_OVERFLOW"));
        assert!(call.merge(&mut Accumulator::Count(i64::MAX), Accumulator::Count(1)).is_err());
    }
}
