//! Aggregate functions: which exist, their argument rules and result types (Spark's), and the
//! accumulators that keep their running state per group.

use serde::{Deserialize, Serialize};

use super::Expr;
use crate::error::{Error, Result};
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
    Distinct(Vec<Value>),
    List(Vec<Value>),
}

impl AggregateCall {
    pub fn new_accumulator(&self) -> Accumulator {
        match self.func {
            AggFunc::CountRows | AggFunc::Count | AggFunc::CountIf => Accumulator::Count(0),
            AggFunc::Sum if self.data_type == DataType::BigInt => Accumulator::SumInt(None),
            AggFunc::Sum => Accumulator::SumDouble(None),
            AggFunc::Avg => Accumulator::Avg { sum: 0.0, count: 0 },
            AggFunc::Min | AggFunc::Max => Accumulator::MinMax(None),
            AggFunc::First { .. } | AggFunc::Last { .. } => Accumulator::Pick { value: Value::Null, taken: false },
            AggFunc::ApproxCountDistinct | AggFunc::CollectSet => Accumulator::Distinct(Vec::new()),
            AggFunc::CollectList => Accumulator::List(Vec::new()),
        }
    }

    /// Folds one input value (the argument's value for a row; Null for `count(*)`'s rows).
    pub fn update(&self, acc: &mut Accumulator, v: &Value) -> Result<()> {
        match (self.func, acc) {
            (AggFunc::CountRows, Accumulator::Count(n)) => *n += 1,
            (AggFunc::Count, Accumulator::Count(n)) => *n += i64::from(!v.is_null()),
            (AggFunc::CountIf, Accumulator::Count(n)) => *n += i64::from(*v == Value::Boolean(true)),
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
                    *count += 1;
                }
            }
            (AggFunc::Min | AggFunc::Max, Accumulator::MinMax(cur)) => {
                if !v.is_null() {
                    let better = match cur {
                        None => true,
                        Some(c) => {
                            let ord = v.compare(c);
                            if self.func == AggFunc::Min {
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
                if !v.is_null() && !seen.contains(v) {
                    seen.push(v.clone());
                }
            }
            (AggFunc::CollectList, Accumulator::List(items)) => {
                if !v.is_null() {
                    items.push(v.clone());
                }
            }
            (f, a) => return Err(Error::internal(format!("accumulator {a:?} does not fit {f:?}"))),
        }
        Ok(())
    }

    /// Merges `later` (rows after those of `acc`, as sessions merge in time order) into `acc`.
    pub fn merge(&self, acc: &mut Accumulator, later: Accumulator) -> Result<()> {
        match (acc, later) {
            (Accumulator::Count(a), Accumulator::Count(b)) => *a += b,
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
                *count += c2;
            }
            (Accumulator::MinMax(a), Accumulator::MinMax(Some(b))) => {
                let better = match a {
                    None => true,
                    Some(cur) => {
                        let ord = b.compare(cur);
                        if self.func == AggFunc::Min {
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
                for v in b {
                    if !a.contains(&v) {
                        a.push(v);
                    }
                }
            }
            (Accumulator::List(a), Accumulator::List(b)) => a.extend(b),
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
            Accumulator::Distinct(seen) if self.func == AggFunc::ApproxCountDistinct => Value::BigInt(seen.len() as i64),
            Accumulator::Distinct(items) | Accumulator::List(items) => Value::Array(items.clone()),
        }
    }
}
