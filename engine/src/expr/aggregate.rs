//! Aggregate functions: which exist, their argument rules and result types (Spark's), and the
//! accumulators that keep their running state per group.

use std::collections::HashSet;

use serde::{Deserialize, Serialize};

use super::Expr;
use crate::error::{Error, Result};
use crate::ops::keys::encode_values;
use crate::types::DataType;
use crate::value::Value;

use super::sketches::{CountMin, Histogram, BITMAP_BYTES};

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
    /// `max_by(x, ord)`: x of the row with the largest ord (the first such row on a tie).
    MaxBy,
    MinBy,
    /// The two-variable statistics over rows where both arguments are non-NULL: `corr(x, y)`,
    /// `covar_*(x, y)` and `regr_*(y, x)`.
    Bivariate(Bivariate),
    Skewness,
    Kurtosis,
    /// `percentile(x, p)` / `median(x)`: exact, interpolated between neighbours.
    Percentile,
    /// `mode(x)`: the most frequent value (the smallest on a tie).
    Mode,
    BitAnd,
    BitOr,
    BitXor,
    /// `percentile_approx(x, p [, accuracy])` / `approx_percentile`: the value at a rank, as
    /// Spark's QuantileSummaries answers (exact while its sketch keeps every value).
    ApproxPercentile,
    /// `try_sum` of integers: NULL once the BIGINT sum overflows (a sum of doubles cannot).
    TrySum,
    /// `mode() WITHIN GROUP (ORDER BY x DESC)`: the most frequent value, the largest on a tie.
    ModeDesc,
    /// `percentile_disc(p) WITHIN GROUP (ORDER BY x)`: the first value whose cumulative share of
    /// the rows reaches p (the SQL standard's rule, which Spark 4 follows).
    PercentileDisc,
    /// The same over `ORDER BY x DESC`.
    PercentileDiscDesc,
    /// `max_by(x, ord, k)` / `min_by(x, ord, k)`: the x of the k best rows, best first.
    MaxByK,
    MinByK,
    /// `bitmap_construct_agg(position)`: the 4096-byte bitmap with each position's bit set.
    BitmapConstruct,
    /// `bitmap_or_agg(bitmap)` / `bitmap_and_agg(bitmap)`: the bitmaps OR-ed (AND-ed) byte by byte.
    BitmapOr,
    BitmapAnd,
    /// `collect_union(array)`: the distinct non-NULL elements of every array, in first-seen order.
    CollectUnion,
    /// `count_min_sketch(x, eps, confidence, seed)`: Spark's serialized count-min sketch.
    CountMinSketch,
    /// `histogram_numeric(x, nb)`: at most nb (x, y) bins, Hive's streaming histogram.
    HistogramNumeric,
}

/// `count_min_sketch`'s constant arguments, as its table's shape.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CountMinShape {
    pub depth: i32,
    pub width: i32,
    pub seed: i32,
}

/// `percentile_approx`'s constant arguments.
#[derive(Debug, Clone, PartialEq)]
pub struct ApproxPercentile {
    pub percentages: Vec<f64>,
    /// The percentages were an array: the result is an array too.
    pub array: bool,
    /// `1 / accuracy`: percentages this close to 0 or 1 give the minimum or maximum.
    pub relative_error: f64,
}

/// How a call was written (Spark's SQL text of it and of each argument), for error messages.
#[derive(Debug, Clone, Default)]
pub struct CallText {
    pub call: String,
    pub args: Vec<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Bivariate {
    Corr,
    CovarPop,
    CovarSamp,
    RegrCount,
    RegrAvgX,
    RegrAvgY,
    RegrSxx,
    RegrSyy,
    RegrSxy,
    RegrSlope,
    RegrIntercept,
    RegrR2,
}

/// One aggregate call of a query: the function, its (resolved) argument and result type.
#[derive(Debug, Clone, PartialEq)]
pub struct AggregateCall {
    pub func: AggFunc,
    pub arg: Option<Expr>,
    /// The second argument of a two-argument aggregate (`max_by`'s ordering, `corr`'s y).
    pub arg2: Option<Expr>,
    /// `percentile`'s fraction.
    pub fraction: f64,
    pub data_type: DataType,
    /// `percentile_approx`'s percentages and accuracy; `percentile`'s percentages when given an array.
    pub approx: Option<Box<ApproxPercentile>>,
    /// `count_min_sketch`'s table shape and seed.
    pub count_min: Option<CountMinShape>,
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
        "any_value",
        "max_by",
        "min_by",
        "corr",
        "covar_pop",
        "covar_samp",
        "regr_count",
        "regr_avgx",
        "regr_avgy",
        "regr_sxx",
        "regr_syy",
        "regr_sxy",
        "regr_slope",
        "regr_intercept",
        "regr_r2",
        "skewness",
        "kurtosis",
        "percentile",
        "median",
        "mode",
        "bit_and",
        "bit_or",
        "bit_xor",
        "percentile_approx",
        "approx_percentile",
        "try_sum",
        "try_avg",
        "percentile_disc",
        "bitmap_construct_agg",
        "bitmap_or_agg",
        "bitmap_and_agg",
        "collect_union",
        "count_min_sketch",
        "histogram_numeric",
    ];

    pub fn is_aggregate_name(name: &str) -> bool {
        AggFunc::NAMES.contains(&name)
    }

    /// Builds the call for `name(args)`; `star` for `count(*)`.
    pub fn resolve(name: &str, args: Vec<Expr>, star: bool) -> Result<AggregateCall> {
        AggFunc::resolve_written(name, args, star, &CallText { call: format!("{name}(...)"), args: vec![] })
    }

    /// [`AggFunc::resolve`] with the call's SQL text as Spark prints it, for its messages.
    pub fn resolve_written(name: &str, mut args: Vec<Expr>, star: bool, text: &CallText) -> Result<AggregateCall> {
        let arg_text = |k: usize| text.args.get(k).cloned().unwrap_or_else(|| format!("argument {}", k + 1));
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
        // The moments and correlations read a decimal as the nearest double, as Spark casts it.
        let as_double = |e: Expr| -> Result<Expr> {
            if e.data_type().decimal().is_some() {
                Ok(e.cast_to(&DataType::Double))
            } else {
                numeric(e)
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
            // Spark sums decimals as DECIMAL(p + 10, s) and averages them as DECIMAL(p + 4, s + 4).
            "sum" | "avg" | "mean" if args.len() == 1 && args[0].data_type().decimal().is_some() => {
                let a = args.remove(0);
                let (p, s) = a.data_type().decimal().unwrap_or((38, 0));
                let max = crate::types::decimal::MAX_PRECISION;
                if name == "sum" {
                    (AggFunc::Sum, Some(a), DataType::Decimal((p + 10).min(max), s))
                } else {
                    (AggFunc::Avg, Some(a), DataType::Decimal((p + 4).min(max), (s + 4).min(max)))
                }
            }
            "sum" => {
                arity(1, &args)?;
                let a = numeric(args.remove(0))?;
                let t = if a.data_type().is_integral() { DataType::BigInt } else { DataType::Double };
                (AggFunc::Sum, Some(a), t)
            }
            "try_sum" => {
                arity(1, &args)?;
                let a = numeric(args.remove(0))?;
                if a.data_type().is_integral() {
                    (AggFunc::TrySum, Some(a), DataType::BigInt)
                } else {
                    (AggFunc::Sum, Some(a), DataType::Double)
                }
            }
            // Spark sums an average's INT, BIGINT or DOUBLE inputs as a DOUBLE, which cannot
            // overflow: try_avg is avg for every type here (the engine has no DECIMAL or INTERVAL).
            "avg" | "mean" | "try_avg" => {
                arity(1, &args)?;
                (AggFunc::Avg, Some(numeric(args.remove(0))?), DataType::Double)
            }
            "min" | "max" => {
                arity(1, &args)?;
                let a = args.remove(0);
                let t = a.data_type();
                (if name == "min" { AggFunc::Min } else { AggFunc::Max }, Some(a), t)
            }
            "first" | "first_value" | "last" | "last_value" | "any_value" => {
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
                let f = if name.starts_with("first") || name == "any_value" {
                    AggFunc::First { ignore_nulls }
                } else {
                    AggFunc::Last { ignore_nulls }
                };
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
                    // Spark's default accuracy is the one sketch built here.
                    let rsd = args.pop().and_then(|e| constant_value(&e)).and_then(|v| v.as_f64());
                    if rsd != Some(0.05) {
                        return Err(Error::unsupported(
                            "approx_count_distinct with a relative standard deviation other than 0.05 (Spark's default) is not supported by this version of Unbounded yet",
                        ));
                    }
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
                let a = as_double(args.remove(0))?.cast_to(&DataType::Double);
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
            "max_by" | "min_by" if args.len() == 3 => {
                // `max_by(x, ord, k)`: the x of the k rows with the largest ord, largest first.
                let k = args.pop().and_then(|e| constant_value(&e));
                let k = match k {
                    Some(Value::Int(k)) if k > 0 && k <= 100_000 => k,
                    _ => {
                        return Err(Error::type_mismatch(format!(
                            "[DATATYPE_MISMATCH.VALUE_OUT_OF_RANGE] Cannot resolve \"{}\" due to data type mismatch: the third argument of `{name}` (k) must be an integer literal in [1, 100000]. SQLSTATE: 42K09",
                            text.call
                        ))
                        .with_condition("DATATYPE_MISMATCH.VALUE_OUT_OF_RANGE"))
                    }
                };
                let ord = args.pop().unwrap_or(Expr::Literal(Value::Null));
                if matches!(ord.data_type(), DataType::Array(_) | DataType::Map(..)) {
                    return Err(Error::type_mismatch(format!(
                        "[DATATYPE_MISMATCH.INVALID_ORDERING_TYPE] Cannot resolve \"{name}(...)\" due to data type mismatch: The `{name}` does not support ordering on type \"{}\". SQLSTATE: 42K09",
                        ord.data_type().spark_name()
                    ))
                    .with_condition("DATATYPE_MISMATCH.INVALID_ORDERING_TYPE"));
                }
                let a = args.remove(0);
                let t = DataType::Array(Box::new(a.data_type()));
                let f = if name == "max_by" { AggFunc::MaxByK } else { AggFunc::MinByK };
                // k rides in `fraction`, the one numeric parameter a call carries.
                return Ok(AggregateCall {
                    func: f,
                    arg: Some(a),
                    arg2: Some(ord),
                    fraction: f64::from(k),
                    data_type: t,
                    approx: None,
                    count_min: None,
                });
            }
            "max_by" | "min_by" => {
                arity(2, &args)?;
                let ord = args.pop().unwrap_or(Expr::Literal(Value::Null));
                if matches!(ord.data_type(), DataType::Array(_)) {
                    return Err(Error::type_mismatch(format!(
                        "[DATATYPE_MISMATCH.INVALID_ORDERING_TYPE] Cannot resolve \"{name}(...)\" due to data type mismatch: The `{name}` does not support ordering on type \"{}\". SQLSTATE: 42K09",
                        ord.data_type().spark_name()
                    ))
                    .with_condition("DATATYPE_MISMATCH.INVALID_ORDERING_TYPE"));
                }
                let a = args.remove(0);
                let t = a.data_type();
                let f = if name == "max_by" { AggFunc::MaxBy } else { AggFunc::MinBy };
                return Ok(AggregateCall {
                    func: f,
                    arg: Some(a),
                    arg2: Some(ord),
                    fraction: 0.0,
                    data_type: t,
                    approx: None,
                    count_min: None,
                });
            }
            "corr" | "covar_pop" | "covar_samp" | "regr_count" | "regr_avgx" | "regr_avgy" | "regr_sxx" | "regr_syy" | "regr_sxy"
            | "regr_slope" | "regr_intercept" | "regr_r2" => {
                arity(2, &args)?;
                let second = as_double(args.pop().unwrap_or(Expr::Literal(Value::Null)))?.cast_to(&DataType::Double);
                let first = as_double(args.remove(0))?.cast_to(&DataType::Double);
                let b = match name {
                    "corr" => Bivariate::Corr,
                    "covar_pop" => Bivariate::CovarPop,
                    "covar_samp" => Bivariate::CovarSamp,
                    "regr_count" => Bivariate::RegrCount,
                    "regr_avgx" => Bivariate::RegrAvgX,
                    "regr_avgy" => Bivariate::RegrAvgY,
                    "regr_sxx" => Bivariate::RegrSxx,
                    "regr_syy" => Bivariate::RegrSyy,
                    "regr_sxy" => Bivariate::RegrSxy,
                    "regr_slope" => Bivariate::RegrSlope,
                    "regr_intercept" => Bivariate::RegrIntercept,
                    _ => Bivariate::RegrR2,
                };
                // `regr_*(y, x)`: kept as (x, y) like `corr(x, y)` and `covar_*(x, y)`.
                let (x, y) = if name.starts_with("regr_") { (second, first) } else { (first, second) };
                let t = if b == Bivariate::RegrCount { DataType::BigInt } else { DataType::Double };
                return Ok(AggregateCall {
                    func: AggFunc::Bivariate(b),
                    arg: Some(x),
                    arg2: Some(y),
                    fraction: 0.0,
                    data_type: t,
                    approx: None,
                    count_min: None,
                });
            }
            "skewness" | "kurtosis" => {
                arity(1, &args)?;
                let a = as_double(args.remove(0))?.cast_to(&DataType::Double);
                (if name == "skewness" { AggFunc::Skewness } else { AggFunc::Kurtosis }, Some(a), DataType::Double)
            }
            "percentile" | "median" | "percentile_disc" => {
                let fraction = if name == "median" {
                    arity(1, &args)?;
                    0.5
                } else {
                    if args.len() == 3 {
                        return Err(Error::unsupported(
                            "percentile with a frequency argument is not supported by this version of Unbounded yet; percentile(x, p) is",
                        ));
                    }
                    arity(2, &args)?;
                    let p = args.pop().unwrap_or(Expr::Literal(Value::Null));
                    // Spark casts the percentage to DOUBLE (`0.25` is a DECIMAL literal).
                    let as_fraction = |v: &Value| match v {
                        Value::Double(_) | Value::Int(_) | Value::BigInt(_) | Value::Decimal { .. } => v.as_f64(),
                        _ => None,
                    };
                    // `percentile(x, array(p1, p2, ...))`: an array of percentiles, each p in [0, 1].
                    if let (Some(Value::Array(ps)), "percentile") = (constant_value(&p), name) {
                        let percentages = ps
                            .iter()
                            .map(as_fraction)
                            .collect::<Option<Vec<f64>>>()
                            .filter(|ps| ps.iter().all(|p| (0.0..=1.0).contains(p)));
                        let Some(percentages) = percentages else {
                            return Err(Error::type_mismatch(format!(
                                "[DATATYPE_MISMATCH.VALUE_OUT_OF_RANGE] Cannot resolve \"{}\" due to data type mismatch: every percentage must be between [0.0, 1.0]. SQLSTATE: 42K09",
                                text.call
                            ))
                            .with_condition("DATATYPE_MISMATCH.VALUE_OUT_OF_RANGE"));
                        };
                        let a = as_double(args.remove(0))?;
                        return Ok(AggregateCall {
                            func: AggFunc::Percentile,
                            arg: Some(a),
                            arg2: None,
                            fraction: 0.0,
                            data_type: DataType::Array(Box::new(DataType::Double)),
                            approx: Some(Box::new(ApproxPercentile { percentages, array: true, relative_error: 0.0 })),
                            count_min: None,
                        });
                    }
                    let fraction = match constant_value(&p) {
                        Some(v) => as_fraction(&v),
                        None => None,
                    }
                    .ok_or_else(|| {
                        Error::type_mismatch(format!(
                            "[DATATYPE_MISMATCH.NON_FOLDABLE_INPUT] Cannot resolve \"{name}(...)\" due to data type mismatch: the input `percentage` should be a foldable \"DOUBLE\" expression. SQLSTATE: 42K09"
                        ))
                        .with_condition("DATATYPE_MISMATCH.NON_FOLDABLE_INPUT")
                    })?;
                    if !(0.0..=1.0).contains(&fraction) {
                        return Err(Error::type_mismatch(format!(
                            "[DATATYPE_MISMATCH.VALUE_OUT_OF_RANGE] Cannot resolve \"{name}({}, {}, 1)\" due to data type mismatch: The percentage must be between [0.0, 1.0] (current value = {fraction:?}D). SQLSTATE: 42K09",
                            arg_text(0),
                            arg_text(1)
                        ))
                        .with_condition("DATATYPE_MISMATCH.VALUE_OUT_OF_RANGE"));
                    }
                    fraction
                };
                // Spark's Percentile reads a decimal as a double; percentile_disc keeps its input's type.
                let a = if name == "percentile_disc" { numeric(args.remove(0))? } else { as_double(args.remove(0))? };
                return Ok(AggregateCall {
                    func: if name == "percentile_disc" { AggFunc::PercentileDisc } else { AggFunc::Percentile },
                    arg: Some(a),
                    arg2: None,
                    fraction,
                    data_type: DataType::Double,
                    approx: None,
                    count_min: None,
                });
            }
            "percentile_approx" | "approx_percentile" => {
                if args.len() != 3 {
                    arity(2, &args)?;
                }
                let out_of_range = |what: &str| {
                    Error::type_mismatch(format!(
                        "[DATATYPE_MISMATCH.VALUE_OUT_OF_RANGE] Cannot resolve \"{}\" due to data type mismatch: {what}. SQLSTATE: 42K09",
                        text.call
                    ))
                    .with_condition("DATATYPE_MISMATCH.VALUE_OUT_OF_RANGE")
                };
                let non_foldable = |what: &str, t: &str| {
                    Error::type_mismatch(format!(
                        "[DATATYPE_MISMATCH.NON_FOLDABLE_INPUT] Cannot resolve \"{}\" due to data type mismatch: the input {what} should be a foldable {t} expression; however, got \"{}\". SQLSTATE: 42K09",
                        text.call,
                        arg_text(if what == "`accuracy`" { 2 } else { 1 })
                    ))
                    .with_condition("DATATYPE_MISMATCH.NON_FOLDABLE_INPUT")
                };
                let accuracy = match args.get(2).map(constant_value) {
                    None => 10_000,
                    Some(Some(Value::Int(a))) => i64::from(a),
                    Some(Some(Value::BigInt(a))) => a,
                    Some(_) => return Err(non_foldable("`accuracy`", "\"INT\"")),
                };
                if accuracy <= 0 || accuracy > i64::from(i32::MAX) {
                    return Err(out_of_range(&format!(
                        "The accuracy provided must be a literal between (0, 2147483647] (current value = {accuracy})"
                    )));
                }
                let number = |v: &Value| v.as_f64().filter(|_| !matches!(v, Value::Boolean(_) | Value::String(_)));
                let (percentages, array) = match constant_value(&args[1]) {
                    Some(Value::Array(items)) => (items.iter().map(number).collect::<Option<Vec<f64>>>(), true),
                    Some(v) if !v.is_null() => (number(&v).map(|p| vec![p]), false),
                    _ => (None, false),
                };
                let percentages = percentages.ok_or_else(|| non_foldable("`percentage`", "\"DOUBLE\" or \"ARRAY<DOUBLE>\""))?;
                if let Some(p) = percentages.iter().find(|p| !(0.0..=1.0).contains(*p)) {
                    return Err(out_of_range(&format!("All percentage values must be between 0.0 and 1.0 (current = {p:?})")));
                }
                let a = args.remove(0);
                let t = match a.data_type() {
                    t if t.is_numeric() || matches!(t, DataType::Date | DataType::Timestamp) => t,
                    DataType::String | DataType::Null => DataType::Double,
                    t => {
                        return Err(Error::type_mismatch(format!(
                            "[DATATYPE_MISMATCH.UNEXPECTED_INPUT_TYPE] Cannot resolve \"{}\" due to data type mismatch: The first parameter requires the (\"NUMERIC\" or \"DATE\" or \"TIMESTAMP\") type, however \"{}\" has the type \"{}\". SQLSTATE: 42K09",
                            text.call,
                            arg_text(0),
                            t.spark_name()
                        ))
                        .with_condition("DATATYPE_MISMATCH.UNEXPECTED_INPUT_TYPE"))
                    }
                };
                let data_type = if array { DataType::Array(Box::new(t.clone())) } else { t.clone() };
                let approx = ApproxPercentile { percentages, array, relative_error: 1.0 / accuracy as f64 };
                return Ok(AggregateCall {
                    func: AggFunc::ApproxPercentile,
                    arg: Some(a.cast_to(&t)),
                    arg2: None,
                    fraction: 0.0,
                    data_type,
                    approx: Some(Box::new(approx)),
                    count_min: None,
                });
            }
            "mode" => {
                if args.len() == 2 {
                    // `mode(x, deterministic)`: ties go to the smallest value either way here (what
                    // Spark's deterministic mode gives; its other mode may give any of them).
                    let flag = args.pop().and_then(|e| constant_value(&e));
                    if !matches!(flag, Some(Value::Boolean(_))) {
                        return Err(Error::type_mismatch(format!(
                            "the second argument of `{}` must be TRUE or FALSE (deterministic)",
                            text.call
                        )));
                    }
                }
                arity(1, &args)?;
                let a = args.remove(0);
                let t = a.data_type();
                (AggFunc::Mode, Some(a), t)
            }
            "bit_and" | "bit_or" | "bit_xor" => {
                arity(1, &args)?;
                let a = args.remove(0);
                let t = a.data_type();
                if !t.is_integral() && t != DataType::Null {
                    return Err(Error::type_mismatch(format!(
                        "[DATATYPE_MISMATCH.UNEXPECTED_INPUT_TYPE] Cannot resolve \"{}\" due to data type mismatch: The first parameter requires the \"INTEGRAL\" type, however \"{}\" has the type \"{}\". SQLSTATE: 42K09",
                        text.call,
                        arg_text(0),
                        t.spark_name()
                    ))
                    .with_condition("DATATYPE_MISMATCH.UNEXPECTED_INPUT_TYPE"));
                }
                let t = if t == DataType::Null { DataType::Int } else { t };
                let f = match name {
                    "bit_and" => AggFunc::BitAnd,
                    "bit_or" => AggFunc::BitOr,
                    _ => AggFunc::BitXor,
                };
                (f, Some(a.cast_to(&t)), t)
            }
            "bitmap_construct_agg" | "bitmap_or_agg" | "bitmap_and_agg" | "collect_union" | "count_min_sketch" | "histogram_numeric" => {
                return resolve_summary(name, args, text);
            }
            other => return Err(Error::new(crate::ErrorKind::UnknownFunction, format!("`{other}` is not an aggregate function"))),
        };
        Ok(AggregateCall { func, arg, arg2: None, fraction: 0.0, data_type, approx: None, count_min: None })
    }
}

/// Spark's `DATATYPE_MISMATCH` refusal of an aggregate's call, with its condition.
fn mismatch(condition: &'static str, call: &str, what: &str) -> Error {
    Error::type_mismatch(format!("[{condition}] Cannot resolve \"{call}\" due to data type mismatch: {what}. SQLSTATE: 42K09"))
        .with_condition(condition)
}

/// The aggregates that fold their rows into one summary value (a bitmap, an array, a sketch, a
/// histogram): their argument rules and result types, as Spark 4.3 checks them.
fn resolve_summary(name: &str, mut args: Vec<Expr>, text: &CallText) -> Result<AggregateCall> {
    const UNEXPECTED: &str = "DATATYPE_MISMATCH.UNEXPECTED_INPUT_TYPE";
    let n = match name {
        "count_min_sketch" => 4,
        "histogram_numeric" => 2,
        _ => 1,
    };
    if args.len() != n {
        return Err(Error::type_mismatch(format!(
            "[WRONG_NUM_ARGS.WITHOUT_SUGGESTION] The `{name}` requires {n} parameters but the actual number is {}. SQLSTATE: 42605",
            args.len()
        )));
    }
    let arg_text = |k: usize| text.args.get(k).cloned().unwrap_or_else(|| format!("argument {}", k + 1));
    let requires = |k: usize, ordinal: &str, wanted: &str, t: &DataType| {
        mismatch(
            UNEXPECTED,
            &text.call,
            &format!("The {ordinal} parameter requires the {wanted} type, however \"{}\" has the type \"{}\"", arg_text(k), t.spark_name()),
        )
    };
    // A constant argument: foldable, of an integral (or, for doubles, any numeric) type.
    let constant = |k: usize, what: &str, t: &str, e: &Expr| -> Result<Value> {
        constant_value(e).ok_or_else(|| {
            mismatch(
                "DATATYPE_MISMATCH.NON_FOLDABLE_INPUT",
                &text.call,
                &format!("the input `{what}` should be a foldable \"{t}\" expression; however, got \"{}\"", arg_text(k)),
            )
        })
    };
    let call = |func, arg: Expr, data_type| AggregateCall {
        func,
        arg: Some(arg),
        arg2: None,
        fraction: 0.0,
        data_type,
        approx: None,
        count_min: None,
    };
    let a = args.remove(0);
    let t = a.data_type();
    match name {
        "bitmap_construct_agg" => match t {
            t if t.is_integral() || matches!(t, DataType::String | DataType::Null) => {
                Ok(call(AggFunc::BitmapConstruct, a.cast_to(&DataType::BigInt), DataType::Binary))
            }
            t => Err(requires(0, "first", "\"BIGINT\"", &t)),
        },
        "bitmap_or_agg" | "bitmap_and_agg" => match t {
            DataType::Binary | DataType::Null => {
                let f = if name == "bitmap_or_agg" { AggFunc::BitmapOr } else { AggFunc::BitmapAnd };
                Ok(call(f, a.cast_to(&DataType::Binary), DataType::Binary))
            }
            t => Err(requires(0, "first", "\"BINARY\"", &t)),
        },
        "collect_union" => match t {
            DataType::Array(_) => Ok(call(AggFunc::CollectUnion, a, t)),
            t => Err(requires(0, "first", "\"ARRAY\"", &t)),
        },
        "count_min_sketch" => {
            if !(t.is_integral() || matches!(t, DataType::String | DataType::Binary | DataType::Null)) {
                return Err(requires(0, "first", "(\"INTEGRAL\" or \"STRING\" or \"BINARY\")", &t));
            }
            for (k, ordinal) in [(0, "second"), (1, "third")] {
                let t = args[k].data_type();
                if !matches!(t, DataType::Double | DataType::Null) {
                    return Err(requires(k + 1, ordinal, "\"DOUBLE\"", &t));
                }
            }
            if !matches!(args[2].data_type(), DataType::Int | DataType::BigInt | DataType::Null) {
                return Err(requires(3, "fourth", "\"INT\"", &args[2].data_type()));
            }
            let eps = constant(1, "eps", "DOUBLE", &args[0])?;
            let confidence = constant(2, "confidence", "DOUBLE", &args[1])?;
            let seed = constant(3, "seed", "INT", &args[2])?;
            let null = |what: &str| mismatch("DATATYPE_MISMATCH.UNEXPECTED_NULL", &text.call, &format!("The {what} must not be null"));
            let eps = eps.as_f64().ok_or_else(|| null("eps"))?;
            let confidence = confidence.as_f64().ok_or_else(|| null("confidence"))?;
            // A BIGINT seed is cast to INT, as Spark's implicit cast does (the low 32 bits).
            let seed = seed.as_i64().ok_or_else(|| null("seed"))? as i32;
            let out_of_range = |what: &str, range: &str, v: f64| {
                mismatch(
                    "DATATYPE_MISMATCH.VALUE_OUT_OF_RANGE",
                    &text.call,
                    &format!("The {what} must be between {range} (current value = {v:?}D)"),
                )
            };
            if eps.is_nan() || eps <= 0.0 {
                return Err(out_of_range("eps", "(0.0, 1.7976931348623157E308]", eps));
            }
            if confidence.is_nan() || confidence <= 0.0 || confidence >= 1.0 {
                return Err(out_of_range("confidence", "(0.0, 1.0]", confidence));
            }
            let (width, depth) = super::sketches::count_min_shape(eps, confidence);
            if width.saturating_mul(depth) > super::sketches::COUNT_MIN_MAX_CELLS {
                return Err(Error::unsupported(format!(
                    "count_min_sketch with eps {eps:?} and confidence {confidence:?} needs a table of {width} x {depth} counts per group; this version of Unbounded keeps at most {} (a larger eps or a smaller confidence makes it smaller)",
                    super::sketches::COUNT_MIN_MAX_CELLS
                )));
            }
            let a = if t.is_integral() || t == DataType::Null { a.cast_to(&DataType::BigInt) } else { a };
            let mut c = call(AggFunc::CountMinSketch, a, DataType::Binary);
            c.count_min = Some(CountMinShape { depth: depth as i32, width: width as i32, seed });
            Ok(c)
        }
        _ => {
            // histogram_numeric(x, nb): x numeric, a date or a timestamp (strings read as DOUBLE).
            let x_type = match t {
                t if t.is_numeric() || matches!(t, DataType::Date | DataType::Timestamp) => t,
                DataType::String | DataType::Null => DataType::Double,
                t => return Err(requires(0, "first", "(\"NUMERIC\" or \"DATE\" or \"TIMESTAMP\")", &t)),
            };
            if !matches!(args[0].data_type(), DataType::Int | DataType::BigInt) {
                return Err(requires(1, "second", "\"INT\"", &args[0].data_type()));
            }
            let nb = constant(1, "nb", "INT", &args[0])?;
            let nb = nb.as_i64().ok_or_else(|| mismatch("DATATYPE_MISMATCH.UNEXPECTED_NULL", &text.call, "The nb must not be null"))?;
            if !(2..=i64::from(i32::MAX)).contains(&nb) {
                return Err(mismatch(
                    "DATATYPE_MISMATCH.VALUE_OUT_OF_RANGE",
                    &text.call,
                    &format!("The nb must be between [2, 2147483647] (current value = {nb})"),
                ));
            }
            let bin = DataType::Struct(vec![("x".into(), x_type.clone()), ("y".into(), DataType::Double)]);
            let mut c = call(AggFunc::HistogramNumeric, a.cast_to(&x_type), DataType::Array(Box::new(bin)));
            // nb rides in `fraction`, as max_by's k does.
            c.fraction = nb as f64;
            Ok(c)
        }
    }
}

/// Adds to `try_sum`'s running sum; an overflow makes the result NULL from then on.
fn try_add_sum(sum: &mut Option<i64>, overflowed: &mut bool, x: i64) {
    match sum.unwrap_or(0).checked_add(x) {
        Some(t) if !*overflowed => *sum = Some(t),
        _ => *overflowed = true,
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
    // Added later; appended so the encodings of the variants above stay what they were.
    /// `max_by`/`min_by`: the value kept and the ordering value it came with (None: no row yet).
    ByOrder {
        value: Value,
        order: Option<Value>,
    },
    /// The co-moments of two variables (Spark's `Covariance` buffer).
    CoMoments {
        n: i64,
        x_avg: f64,
        y_avg: f64,
        ck: f64,
        x_mk: f64,
        y_mk: f64,
    },
    /// Central moments up to the fourth (Spark's `CentralMomentAgg`).
    HigherMoments {
        n: i64,
        mean: f64,
        m2: f64,
        m3: f64,
        m4: f64,
    },
    /// How often each value was seen (`percentile`, `mode`).
    Counts(ValueCounts),
    /// The bits folded so far (None: no value yet).
    Bits(Option<i64>),
    /// `percentile_approx`'s sketch (appended: the variants above keep their encodings).
    Quantiles(Box<super::quantiles::Quantiles>),
    /// `try_sum`'s BIGINT sum of the micro-batches before (None: no value yet), the sum of this
    /// batch's rows, and whether either overflowed (then NULL for good). Spark sums a batch's
    /// rows first and then adds that to the state, so `MAX` then `1, -5` is `MAX - 4`, not an
    /// overflow: the two sums are kept apart until the batch ends.
    TrySum {
        sum: Option<i64>,
        batch: Option<i64>,
        overflowed: bool,
    },
    /// `max_by(x, ord, k)`: the (ord, x) of the best k rows so far, best first.
    TopBy(Vec<(Value, Value)>),
    /// The 4096 bytes of `bitmap_construct_agg`, `bitmap_or_agg` and `bitmap_and_agg`.
    Bitmap(Vec<u8>),
    CountMin(Box<CountMin>),
    /// `histogram_numeric`'s bins of the micro-batches before and of this batch's rows, kept
    /// apart until the batch ends: Spark builds a batch's histogram on its own (its tie-breaking
    /// generator fresh) and then merges it into the state's.
    Histogram {
        state: Box<Histogram>,
        batch: Box<Histogram>,
    },
    /// `sum` and `avg` of decimals: the exact sum at the argument's scale (None: no value yet)
    /// and how many values it holds.
    SumDecimal {
        sum: Option<i128>,
        count: i64,
    },
}

/// Each distinct value with its count, in first-seen order; the index beside it is rebuilt
/// after a restart (as in [`DistinctValues`]).
#[derive(Clone, Default, Serialize, Deserialize)]
pub struct ValueCounts {
    items: Vec<(Value, i64)>,
    #[serde(skip)]
    index: std::collections::HashMap<Vec<u8>, usize>,
}

impl ValueCounts {
    fn add(&mut self, v: &Value, by: i64) -> Result<()> {
        if self.index.len() != self.items.len() {
            self.reindex();
        }
        let mut key = Vec::new();
        encode_values(std::slice::from_ref(v), &mut key);
        match self.index.get(&key) {
            Some(&k) => add_count(&mut self.items[k].1, by)?,
            None => {
                self.index.insert(key, self.items.len());
                self.items.push((v.clone(), by));
            }
        }
        Ok(())
    }

    fn reindex(&mut self) {
        let mut buf = Vec::new();
        let mut merged: Vec<(Value, i64)> = Vec::with_capacity(self.items.len());
        let mut index = std::collections::HashMap::with_capacity(self.items.len());
        for (v, n) in std::mem::take(&mut self.items) {
            buf.clear();
            encode_values(std::slice::from_ref(&v), &mut buf);
            match index.get(&buf) {
                Some(&k) => {
                    let total: &mut (Value, i64) = &mut merged[k];
                    total.1 = total.1.saturating_add(n);
                }
                None => {
                    index.insert(buf.clone(), merged.len());
                    merged.push((v, n));
                }
            }
        }
        self.items = merged;
        self.index = index;
    }

    /// The values in ascending order with their counts.
    fn sorted(&self) -> Vec<(&Value, i64)> {
        let mut v: Vec<(&Value, i64)> = self.items.iter().map(|(v, n)| (v, *n)).collect();
        v.sort_by(|a, b| a.0.compare(b.0));
        v
    }
}

impl PartialEq for ValueCounts {
    fn eq(&self, other: &Self) -> bool {
        self.items == other.items
    }
}

impl std::fmt::Debug for ValueCounts {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.items.fmt(f)
    }
}

/// Spark's exact percentile over sorted (value, count) pairs: the value at rank
/// `fraction * (n - 1)`, interpolated linearly between the two ranks around it.
/// `percentile_disc`: the first value, in ascending (or descending) order, at which the rows so
/// far reach `fraction` of all rows.
fn percentile_disc_of(counts: &ValueCounts, fraction: f64, descending: bool) -> Value {
    let mut sorted = counts.sorted();
    if descending {
        sorted.reverse();
    }
    let total: i64 = sorted.iter().map(|(_, n)| *n).sum();
    let mut seen = 0i64;
    for (v, n) in &sorted {
        seen += n;
        if seen as f64 >= fraction * total as f64 {
            return v.as_f64().map_or(Value::Null, Value::Double);
        }
    }
    Value::Null
}

fn percentile_of(counts: &ValueCounts, fraction: f64) -> Value {
    let sorted = counts.sorted();
    let total: i64 = sorted.iter().map(|(_, n)| *n).sum();
    if total == 0 {
        return Value::Null;
    }
    let position = (total - 1) as f64 * fraction;
    let (lower, higher) = (position.floor() as i64, position.ceil() as i64);
    // The value holding rank `r` (0-based) in the sorted multiset.
    let at = |r: i64| -> f64 {
        let mut seen = 0i64;
        for (v, n) in &sorted {
            seen += n;
            if r < seen {
                return v.as_f64().unwrap_or(f64::NAN);
            }
        }
        sorted.last().and_then(|(v, _)| v.as_f64()).unwrap_or(f64::NAN)
    };
    let lo = at(lower);
    if higher == lower {
        return Value::Double(lo);
    }
    let hi = at(higher);
    if lo == hi {
        return Value::Double(lo);
    }
    Value::Double((higher as f64 - position) * lo + (position - lower as f64) * hi)
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
    /// `approx_count_distinct`'s HyperLogLog++ registers over the first `sketched` items: a
    /// cache, rebuilt from the items (the registers are a function of the set of values).
    #[serde(skip)]
    registers: Vec<u8>,
    #[serde(skip)]
    sketched: usize,
}

impl DistinctValues {
    pub fn items(&self) -> &[Value] {
        &self.items
    }

    /// Spark's `approx_count_distinct` of the values.
    fn approx_count(&self) -> i64 {
        if self.sketched == self.items.len() && !self.registers.is_empty() {
            return super::hll::estimate(&self.registers);
        }
        let mut registers = vec![0u8; super::hll::REGISTERS];
        for v in &self.items {
            super::hll::add(&mut registers, v);
        }
        super::hll::estimate(&registers)
    }

    /// Brings the registers up to date with the items.
    fn sketch(&mut self) {
        if self.registers.is_empty() {
            self.registers = vec![0u8; super::hll::REGISTERS];
            self.sketched = 0;
        }
        for v in &self.items[self.sketched.min(self.items.len())..] {
            super::hll::add(&mut self.registers, v);
        }
        self.sketched = self.items.len();
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
        self.registers.clear();
        self.sketched = 0;
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

/// The value of an expression that reads no column (a literal, `0.5 * 2`, `CAST('0.1' AS
/// DOUBLE)`), evaluated once; None when it reads a column or fails.
fn constant_value(e: &Expr) -> Option<Value> {
    let mut cols = Vec::new();
    e.columns(&mut cols);
    if !cols.is_empty() {
        return None;
    }
    let schema = std::sync::Arc::new(arrow_schema::Schema::empty());
    let options = arrow_array::RecordBatchOptions::new().with_row_count(Some(1));
    let batch = arrow_array::RecordBatch::try_new_with_options(schema, vec![], &options).ok()?;
    let array = e.evaluate_to_array(&batch).ok()?;
    Some(Value::from_array(array.as_ref(), 0))
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
            Accumulator::SumInt(_) | Accumulator::SumDouble(_) | Accumulator::TrySum { .. } => true,
            Accumulator::SumDecimal { sum, count } => {
                *count >= 0 && sum.is_none_or(|v| v.unsigned_abs() < crate::types::decimal::pow10(38).unsigned_abs())
            }
            Accumulator::MinMax(v) => v.as_ref().is_none_or(|v| !v.is_null() && crate::ops::fits(v, &self.data_type)),
            Accumulator::Pick { value, taken } => (*taken || value.is_null()) && crate::ops::fits(value, &self.data_type),
            Accumulator::Distinct(seen) => {
                // collect_union keeps its arrays' elements: the type its result's items have.
                let arg_type = match self.func {
                    AggFunc::CollectUnion => item_type.clone(),
                    _ => self.arg.as_ref().map(Expr::data_type).unwrap_or(DataType::Null),
                };
                seen.items.iter().all(|v| !v.is_null() && crate::ops::fits(v, &arg_type))
            }
            Accumulator::List(items) => items.iter().all(|v| !v.is_null() && crate::ops::fits(v, item_type)),
            Accumulator::Moments { n, .. } | Accumulator::CoMoments { n, .. } | Accumulator::HigherMoments { n, .. } => *n >= 0,
            Accumulator::ByOrder { value, order } => {
                let order_type = self.arg2.as_ref().map(Expr::data_type).unwrap_or(DataType::Null);
                crate::ops::fits(value, &self.data_type)
                    && order.as_ref().is_none_or(|o| !o.is_null() && crate::ops::fits(o, &order_type))
                    && (order.is_some() || value.is_null())
            }
            Accumulator::Counts(counts) => {
                let arg_type = self.arg.as_ref().map(Expr::data_type).unwrap_or(DataType::Null);
                counts.items.iter().all(|(v, n)| *n > 0 && !v.is_null() && crate::ops::fits(v, &arg_type))
            }
            Accumulator::Bits(_) => true,
            Accumulator::Quantiles(q) => q.is_consistent(),
            Accumulator::TopBy(items) => items.len() as f64 <= self.fraction && items.iter().all(|(o, _)| !o.is_null()),
            Accumulator::Bitmap(bytes) => bytes.len() == BITMAP_BYTES,
            Accumulator::CountMin(s) => s.is_consistent() && self.count_min.is_some_and(|c| (c.depth, c.width) == (s.depth, s.width)),
            Accumulator::Histogram { state, batch } => {
                let fine = |h: &Histogram| h.bins.len() as f64 <= self.fraction && h.bins.is_sorted_by(|a, b| a.0 <= b.0);
                fine(state) && fine(batch)
            }
        }
    }

    /// The argument column(s) of a batch as [`Self::arg_value`] reads them: a two-argument
    /// aggregate's two columns travel side by side in one struct column.
    pub fn evaluate_arg(&self, batch: &arrow_array::RecordBatch) -> Result<Option<arrow_array::ArrayRef>> {
        let Some(arg) = &self.arg else { return Ok(None) };
        let first = arg.evaluate_to_array(batch)?;
        let Some(arg2) = &self.arg2 else { return Ok(Some(first)) };
        let second = arg2.evaluate_to_array(batch)?;
        let fields = arrow_schema::Fields::from(vec![
            arrow_schema::Field::new("arg", first.data_type().clone(), true),
            arrow_schema::Field::new("arg2", second.data_type().clone(), true),
        ]);
        Ok(Some(std::sync::Arc::new(arrow_array::StructArray::try_new(fields, vec![first, second], None)?)))
    }

    /// Row `i` of an argument column from [`Self::evaluate_arg`], as [`Self::update`] takes it:
    /// `[x, y]` for a two-argument aggregate.
    pub fn arg_value(&self, arg: &dyn arrow_array::Array, i: usize) -> Value {
        use arrow_array::cast::AsArray;
        if self.arg2.is_none() {
            return Value::from_array(arg, i);
        }
        match arg.as_struct_opt() {
            Some(pair) if pair.num_columns() == 2 => {
                Value::Array(vec![Value::from_array(pair.column(0).as_ref(), i), Value::from_array(pair.column(1).as_ref(), i)])
            }
            _ => Value::Null,
        }
    }

    pub fn new_accumulator(&self) -> Accumulator {
        match self.func {
            AggFunc::CountRows | AggFunc::Count | AggFunc::CountIf => Accumulator::Count(0),
            AggFunc::Sum | AggFunc::Avg if self.data_type.decimal().is_some() => Accumulator::SumDecimal { sum: None, count: 0 },
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
            AggFunc::MaxBy | AggFunc::MinBy => Accumulator::ByOrder { value: Value::Null, order: None },
            AggFunc::Bivariate(_) => Accumulator::CoMoments { n: 0, x_avg: 0.0, y_avg: 0.0, ck: 0.0, x_mk: 0.0, y_mk: 0.0 },
            AggFunc::Skewness | AggFunc::Kurtosis => Accumulator::HigherMoments { n: 0, mean: 0.0, m2: 0.0, m3: 0.0, m4: 0.0 },
            AggFunc::Percentile | AggFunc::Mode | AggFunc::ModeDesc | AggFunc::PercentileDisc | AggFunc::PercentileDiscDesc => {
                Accumulator::Counts(ValueCounts::default())
            }
            AggFunc::ApproxPercentile => Accumulator::Quantiles(Box::default()),
            AggFunc::BitAnd | AggFunc::BitOr | AggFunc::BitXor => Accumulator::Bits(None),
            AggFunc::TrySum => Accumulator::TrySum { sum: None, batch: None, overflowed: false },
            AggFunc::MaxByK | AggFunc::MinByK => Accumulator::TopBy(Vec::new()),
            AggFunc::BitmapConstruct | AggFunc::BitmapOr => Accumulator::Bitmap(vec![0; BITMAP_BYTES]),
            // AND starts from every bit set: no row gives the full bitmap, as in Spark.
            AggFunc::BitmapAnd => Accumulator::Bitmap(vec![0xFF; BITMAP_BYTES]),
            AggFunc::CollectUnion => Accumulator::Distinct(DistinctValues::default()),
            AggFunc::CountMinSketch => {
                let c = self.count_min.unwrap_or(CountMinShape { depth: 1, width: 1, seed: 0 });
                Accumulator::CountMin(Box::new(CountMin::new(c.depth, c.width, c.seed)))
            }
            AggFunc::HistogramNumeric => Accumulator::Histogram { state: Box::default(), batch: Box::default() },
        }
    }

    fn fold_bits(&self, acc: &mut Option<i64>, x: i64) {
        *acc = Some(match (*acc, self.func) {
            (None, _) => x,
            (Some(a), AggFunc::BitAnd) => a & x,
            (Some(a), AggFunc::BitOr) => a | x,
            (Some(a), _) => a ^ x,
        });
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
            (AggFunc::Sum | AggFunc::Avg, Accumulator::SumDecimal { sum, count }) => {
                if let Value::Decimal { unscaled, .. } = v {
                    *sum = Some(self.add_decimal(sum.unwrap_or(0), *unscaled)?);
                    add_count(count, 1)?;
                }
            }
            (AggFunc::MaxByK | AggFunc::MinByK, Accumulator::TopBy(items)) => {
                let (x, ord) = pair(v);
                if !ord.is_null() {
                    items.push((ord.clone(), x.clone()));
                    self.keep_best(items);
                }
            }
            (AggFunc::TrySum, Accumulator::TrySum { batch, overflowed, .. }) => {
                if let Some(x) = v.as_i64() {
                    try_add_sum(batch, overflowed, x);
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
            (AggFunc::ApproxCountDistinct, Accumulator::Distinct(seen)) => {
                if !v.is_null() {
                    seen.insert(v);
                    seen.sketch();
                }
            }
            (AggFunc::CollectSet, Accumulator::Distinct(seen)) => {
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
            (AggFunc::MaxBy | AggFunc::MinBy, Accumulator::ByOrder { value, order }) => {
                let (x, ord) = pair(v);
                // Rows with a NULL ordering are skipped; a NULL value is kept like any other.
                if !ord.is_null() {
                    let better = match order {
                        None => true,
                        // On a tie the later row wins, as in Spark (it keeps the old one only
                        // when strictly better).
                        Some(cur) => {
                            let o = ord.compare(cur);
                            if self.func == AggFunc::MaxBy {
                                o.is_ge()
                            } else {
                                o.is_le()
                            }
                        }
                    };
                    if better {
                        *value = x.clone();
                        *order = Some(ord.clone());
                    }
                }
            }
            (AggFunc::Bivariate(_), Accumulator::CoMoments { n, x_avg, y_avg, ck, x_mk, y_mk }) => {
                let (x, y) = pair(v);
                if let (Some(x), Some(y)) = (x.as_f64(), y.as_f64()) {
                    add_count(n, 1)?;
                    let nf = *n as f64;
                    let dx = x - *x_avg;
                    let dy = y - *y_avg;
                    *x_avg += dx / nf;
                    *y_avg += dy / nf;
                    *ck += dx * (y - *y_avg);
                    *x_mk += dx * (x - *x_avg);
                    *y_mk += dy * (y - *y_avg);
                }
            }
            (AggFunc::Skewness | AggFunc::Kurtosis, Accumulator::HigherMoments { n, mean, m2, m3, m4 }) => {
                if let Some(x) = v.as_f64() {
                    add_count(n, 1)?;
                    let nf = *n as f64;
                    let delta = x - *mean;
                    let delta_n = delta / nf;
                    let delta_n2 = delta_n * delta_n;
                    let term1 = delta * delta_n * (nf - 1.0);
                    *mean += delta_n;
                    *m4 += term1 * delta_n2 * (nf * nf - 3.0 * nf + 3.0) + 6.0 * delta_n2 * *m2 - 4.0 * delta_n * *m3;
                    *m3 += term1 * delta_n * (nf - 2.0) - 3.0 * delta_n * *m2;
                    *m2 += term1;
                }
            }
            (AggFunc::ApproxPercentile, Accumulator::Quantiles(q)) => {
                // Spark sketches doubles: dates as days, timestamps as microseconds.
                let x = match v {
                    Value::Date(d) => Some(f64::from(*d)),
                    Value::Timestamp(t) => Some(*t as f64),
                    other => other.as_f64(),
                };
                if let Some(x) = x {
                    q.add(x);
                }
            }
            (
                AggFunc::Percentile | AggFunc::Mode | AggFunc::ModeDesc | AggFunc::PercentileDisc | AggFunc::PercentileDiscDesc,
                Accumulator::Counts(counts),
            ) => {
                if !v.is_null() {
                    counts.add(v, 1)?;
                }
            }
            (AggFunc::BitAnd | AggFunc::BitOr | AggFunc::BitXor, Accumulator::Bits(bits)) => {
                if let Some(x) = v.as_i64() {
                    self.fold_bits(bits, x);
                }
            }
            (AggFunc::BitmapConstruct, Accumulator::Bitmap(bits)) => {
                if let Some(p) = v.as_i64() {
                    let Some(byte) = usize::try_from(p).ok().filter(|p| *p < BITMAP_BYTES * 8) else {
                        return Err(Error::runtime(
                            "INVALID_BITMAP_POSITION",
                            format!("[INVALID_BITMAP_POSITION] The 0-indexed bitmap position {p} is out of bounds. The bitmap has {} bits ({BITMAP_BYTES} bytes). SQLSTATE: 22003", BITMAP_BYTES * 8),
                        ));
                    };
                    bits[byte / 8] |= 1 << (byte % 8);
                }
            }
            (AggFunc::BitmapOr, Accumulator::Bitmap(bits)) => {
                if let Value::Binary(b) = v {
                    bits.iter_mut().zip(b).for_each(|(x, y)| *x |= y);
                }
            }
            (AggFunc::BitmapAnd, Accumulator::Bitmap(bits)) => {
                // A shorter bitmap has zeros past its end.
                if let Value::Binary(b) = v {
                    bits.iter_mut().enumerate().for_each(|(i, x)| *x &= b.get(i).copied().unwrap_or(0));
                }
            }
            (AggFunc::CollectUnion, Accumulator::Distinct(seen)) => {
                if let Value::Array(items) = v {
                    items.iter().filter(|x| !x.is_null()).for_each(|x| seen.insert(x));
                }
            }
            (AggFunc::CountMinSketch, Accumulator::CountMin(sketch)) => match v {
                Value::String(s) => sketch.add_bytes(s.as_bytes()),
                Value::Binary(b) => sketch.add_bytes(b),
                other => {
                    if let Some(x) = other.as_i64() {
                        sketch.add_long(x);
                    }
                }
            },
            (AggFunc::HistogramNumeric, Accumulator::Histogram { batch, .. }) => {
                let x = match v {
                    Value::Date(d) => Some(f64::from(*d)),
                    Value::Timestamp(t) => Some(*t as f64),
                    other => other.as_f64(),
                };
                if let Some(x) = x {
                    batch.add(x, self.fraction as usize);
                }
            }
            (f, a) => return Err(Error::internal(format!("accumulator {a:?} does not fit {f:?}"))),
        }
        Ok(())
    }

    /// `histogram_numeric`'s state with a batch's histogram merged in, as Spark merges the
    /// batch's partial histogram into a freshly deserialized one of the state.
    fn histogram_with(&self, state: &Histogram, batch: &Histogram) -> Histogram {
        let mut merged = state.reseeded();
        merged.merge(batch, self.fraction as usize);
        merged
    }

    /// Sorts `max_by(x, ord, k)`'s rows best first (a stable sort: the earlier row first on a
    /// tie) and keeps k of them.
    fn keep_best(&self, items: &mut Vec<(Value, Value)>) {
        if self.func == AggFunc::MaxByK {
            items.sort_by(|a, b| b.0.compare(&a.0));
        } else {
            items.sort_by(|a, b| a.0.compare(&b.0));
        }
        items.truncate(self.fraction as usize);
    }

    /// `min` and `bool_and` keep the smallest value; `max` and `bool_or` the largest.
    fn keeps_minimum(&self) -> bool {
        matches!(self.func, AggFunc::Min | AggFunc::BoolAnd)
    }

    fn relative_error(&self) -> f64 {
        self.approx.as_ref().map_or(1e-4, |a| a.relative_error)
    }

    /// Ends a micro-batch for one group's running value: `percentile_approx` summarises the
    /// batch's values on their own before merging them, as Spark's partial aggregate does.
    pub fn end_batch(&self, acc: &mut Accumulator) {
        match acc {
            Accumulator::Quantiles(q) => q.seal(self.relative_error()),
            Accumulator::TrySum { sum, batch, overflowed } => {
                if let Some(b) = batch.take() {
                    try_add_sum(sum, overflowed, b);
                }
            }
            Accumulator::Histogram { state, batch } if !batch.bins.is_empty() => {
                **state = self.histogram_with(state, batch);
                **batch = Histogram::default();
            }
            _ => {}
        }
    }

    /// `percentile_approx`'s answer, in the argument's type (Spark converts back from double).
    fn approx_percentile(&self, q: &super::quantiles::Quantiles) -> Value {
        let Some(a) = &self.approx else { return Value::Null };
        let Some(found) = q.query(&a.percentages, a.relative_error) else { return Value::Null };
        let t = match &self.data_type {
            DataType::Array(inner) => (**inner).clone(),
            t => t.clone(),
        };
        let typed = |x: f64| match t {
            DataType::Int => Value::Int(x as i32),
            DataType::BigInt => Value::BigInt(x as i64),
            DataType::Date => Value::Date(x as i32),
            DataType::Timestamp => Value::Timestamp(x as i64),
            _ => Value::Double(x),
        };
        if a.array {
            Value::Array(found.into_iter().map(typed).collect())
        } else {
            found.first().map_or(Value::Null, |x| typed(*x))
        }
    }

    /// Merges `later` (rows after those of `acc`, as sessions merge in time order) into `acc`.
    /// `a + b` for a decimal `sum`/`avg`, refused past the sum's precision (Spark's ANSI `Add`
    /// on its DECIMAL(p + 10, s) buffer).
    fn add_decimal(&self, a: i128, b: i128) -> Result<i128> {
        let arg = self.arg.as_ref().and_then(|a| a.data_type().decimal()).unwrap_or((38, 0));
        let buffer = ((arg.0 + 10).min(crate::types::decimal::MAX_PRECISION), arg.1);
        crate::types::decimal::arith(crate::types::decimal::Op::Add, a, arg.1, b, arg.1, buffer).map_err(|e| match e {
            crate::types::decimal::ArithError::Overflow(shown) => super::cast::decimal_out_of_range(&shown, buffer.0, buffer.1),
            crate::types::decimal::ArithError::DivideByZero => Error::internal("a sum divided"),
        })
    }

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
            (Accumulator::SumDecimal { sum, count }, Accumulator::SumDecimal { sum: s2, count: c2 }) => {
                if let Some(b) = s2 {
                    *sum = Some(self.add_decimal(sum.unwrap_or(0), b)?);
                }
                add_count(count, c2)?;
            }
            (Accumulator::TopBy(items), Accumulator::TopBy(more)) => {
                items.extend(more);
                self.keep_best(items);
            }
            (Accumulator::TrySum { sum, batch, overflowed }, Accumulator::TrySum { sum: s2, batch: b2, overflowed: o2 }) => {
                *overflowed |= o2;
                for part in [batch.take(), s2, b2].into_iter().flatten() {
                    try_add_sum(sum, overflowed, part);
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
            (Accumulator::ByOrder { value, order }, Accumulator::ByOrder { value: v2, order: Some(o2) }) => {
                let better = match order {
                    None => true,
                    Some(cur) => {
                        let o = o2.compare(cur);
                        if self.func == AggFunc::MaxBy {
                            o.is_ge()
                        } else {
                            o.is_le()
                        }
                    }
                };
                if better {
                    *value = v2;
                    *order = Some(o2);
                }
            }
            (Accumulator::ByOrder { .. }, Accumulator::ByOrder { order: None, .. }) => {}
            (
                Accumulator::CoMoments { n, x_avg, y_avg, ck, x_mk, y_mk },
                Accumulator::CoMoments { n: n2, x_avg: x2, y_avg: y2, ck: ck2, x_mk: xmk2, y_mk: ymk2 },
            ) => {
                if n2 > 0 {
                    let total = n.checked_add(n2).ok_or_else(|| {
                        Error::runtime("ARITHMETIC_OVERFLOW", "[ARITHMETIC_OVERFLOW] long overflow in count. SQLSTATE: 22003")
                    })?;
                    let (n1f, n2f, nf) = (*n as f64, n2 as f64, total as f64);
                    let dx = x2 - *x_avg;
                    let dy = y2 - *y_avg;
                    let (dxn, dyn_) = (dx / nf, dy / nf);
                    *x_avg += dxn * n2f;
                    *y_avg += dyn_ * n2f;
                    *ck += ck2 + dx * dyn_ * n1f * n2f;
                    *x_mk += xmk2 + dx * dxn * n1f * n2f;
                    *y_mk += ymk2 + dy * dyn_ * n1f * n2f;
                    *n = total;
                }
            }
            (
                Accumulator::HigherMoments { n, mean, m2, m3, m4 },
                Accumulator::HigherMoments { n: n2, mean: mean2, m2: m2b, m3: m3b, m4: m4b },
            ) => {
                if n2 > 0 {
                    let total = n.checked_add(n2).ok_or_else(|| {
                        Error::runtime("ARITHMETIC_OVERFLOW", "[ARITHMETIC_OVERFLOW] long overflow in count. SQLSTATE: 22003")
                    })?;
                    let (n1, n2f, nf) = (*n as f64, n2 as f64, total as f64);
                    let delta = mean2 - *mean;
                    let dn = delta / nf;
                    let (a2, a3) = (*m2, *m3);
                    *mean += dn * n2f;
                    *m4 += m4b
                        + dn * dn * dn * delta * n1 * n2f * (n1 * n1 - n1 * n2f + n2f * n2f)
                        + 6.0 * dn * dn * (n1 * n1 * m2b + n2f * n2f * a2)
                        + 4.0 * dn * (n1 * m3b - n2f * a3);
                    *m3 += m3b + dn * dn * delta * n1 * n2f * (n1 - n2f) + 3.0 * dn * (n1 * m2b - n2f * a2);
                    *m2 += m2b + delta * dn * n1 * n2f;
                    *n = total;
                }
            }
            (Accumulator::Quantiles(a), Accumulator::Quantiles(b)) => a.merge(*b, self.relative_error()),
            (Accumulator::Counts(a), Accumulator::Counts(b)) => {
                for (v, k) in &b.items {
                    a.add(v, *k)?;
                }
            }
            (Accumulator::Bits(a), Accumulator::Bits(b)) => {
                if let Some(x) = b {
                    self.fold_bits(a, x);
                }
            }
            (Accumulator::Bitmap(a), Accumulator::Bitmap(b)) => {
                let and = self.func == AggFunc::BitmapAnd;
                a.iter_mut().zip(b).for_each(|(x, y)| if and { *x &= y } else { *x |= y });
            }
            (Accumulator::CountMin(a), Accumulator::CountMin(b)) => a.merge(&b).map_err(Error::internal)?,
            (Accumulator::Histogram { state, batch }, Accumulator::Histogram { state: s2, batch: b2 }) => {
                let mine = self.histogram_with(state, batch);
                let later = self.histogram_with(&s2, &b2);
                **state = self.histogram_with(&mine, &later);
                **batch = Histogram::default();
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
            Accumulator::SumDecimal { sum: Some(sum), count } => {
                let Some((p, s)) = self.data_type.decimal() else { return Value::Null };
                let arg_scale = self.arg.as_ref().and_then(|a| a.data_type().decimal()).map_or(s, |(_, s)| s);
                if self.func == AggFunc::Sum {
                    return Value::Decimal { unscaled: *sum, precision: p, scale: s };
                }
                // Spark's DecimalDivideWithOverflowCheck: the sum over the count as a DECIMAL(20,0).
                match crate::types::decimal::arith(crate::types::decimal::Op::Divide, *sum, arg_scale, i128::from(*count), 0, (p, s)) {
                    Ok(v) if *count > 0 => Value::Decimal { unscaled: v, precision: p, scale: s },
                    _ => Value::Null,
                }
            }
            Accumulator::SumDecimal { sum: None, .. } => Value::Null,
            Accumulator::TopBy(items) if items.is_empty() => Value::Null,
            Accumulator::TopBy(items) => Value::Array(items.iter().map(|(_, x)| x.clone()).collect()),
            Accumulator::TrySum { overflowed: true, .. } => Value::Null,
            Accumulator::TrySum { sum, batch, .. } => {
                let (mut total, mut overflowed) = (*sum, false);
                if let Some(b) = batch {
                    try_add_sum(&mut total, &mut overflowed, *b);
                }
                if overflowed {
                    Value::Null
                } else {
                    total.map(Value::BigInt).unwrap_or(Value::Null)
                }
            }
            Accumulator::Avg { sum, count } => {
                if *count == 0 {
                    Value::Null
                } else {
                    Value::Double(sum / *count as f64)
                }
            }
            Accumulator::MinMax(v) => v.clone().unwrap_or(Value::Null),
            Accumulator::Pick { value, .. } => value.clone(),
            Accumulator::Distinct(seen) if self.func == AggFunc::ApproxCountDistinct => Value::BigInt(seen.approx_count()),
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
            Accumulator::ByOrder { value, .. } => value.clone(),
            Accumulator::CoMoments { n, x_avg, y_avg, ck, x_mk, y_mk } => {
                let AggFunc::Bivariate(b) = self.func else { return Value::Null };
                bivariate_result(b, *n, *x_avg, *y_avg, *ck, *x_mk, *y_mk)
            }
            // NULL without values, and where Spark divides by zero (a constant input).
            Accumulator::HigherMoments { n, m2, m3, m4, .. } => {
                if *n == 0 || *m2 == 0.0 {
                    return Value::Null;
                }
                let nf = *n as f64;
                Value::Double(if self.func == AggFunc::Skewness {
                    nf.sqrt() * m3 / (m2 * m2 * m2).sqrt()
                } else {
                    nf * m4 / (m2 * m2) - 3.0
                })
            }
            Accumulator::Counts(counts) if self.func == AggFunc::Percentile => match &self.approx {
                Some(_) if counts.items.is_empty() => Value::Null,
                Some(a) => Value::Array(a.percentages.iter().map(|p| percentile_of(counts, *p)).collect()),
                None => percentile_of(counts, self.fraction),
            },
            Accumulator::Counts(counts) if matches!(self.func, AggFunc::PercentileDisc | AggFunc::PercentileDiscDesc) => {
                percentile_disc_of(counts, self.fraction, self.func == AggFunc::PercentileDiscDesc)
            }
            Accumulator::Quantiles(q) => self.approx_percentile(q),
            Accumulator::Counts(counts) => {
                let mut best: Option<(&Value, i64)> = None;
                for (v, n) in counts.sorted() {
                    // Sorted ascending: the first of the most frequent, or the last when descending.
                    if best.is_none_or(|(_, b)| n > b || (n == b && self.func == AggFunc::ModeDesc)) {
                        best = Some((v, n));
                    }
                }
                best.map(|(v, _)| v.clone()).unwrap_or(Value::Null)
            }
            Accumulator::Bits(None) => Value::Null,
            Accumulator::Bitmap(bytes) => Value::Binary(bytes.clone()),
            Accumulator::CountMin(sketch) => Value::Binary(sketch.to_bytes()),
            Accumulator::Histogram { state, batch } => {
                let h = if batch.bins.is_empty() { state.as_ref().clone() } else { self.histogram_with(state, batch) };
                self.histogram_result(&h)
            }
            Accumulator::Bits(Some(b)) => match self.data_type {
                DataType::Int => i32::try_from(*b).map(Value::Int).unwrap_or(Value::Null),
                _ => Value::BigInt(*b),
            },
        }
    }
}

impl AggregateCall {
    /// `histogram_numeric`'s bins as Spark returns them: NULL without any, each x in the
    /// argument's type (truncated from the bin's double centre, as Spark converts it).
    fn histogram_result(&self, h: &Histogram) -> Value {
        if h.bins.is_empty() {
            return Value::Null;
        }
        let x_type = match &self.data_type {
            DataType::Array(bin) => bin.struct_fields().and_then(|f| f.first().map(|(_, t)| t.clone())),
            _ => None,
        };
        let typed = |x: f64| match x_type {
            Some(DataType::Int) => Value::Int(x as i32),
            Some(DataType::BigInt) => Value::BigInt(x as i64),
            Some(DataType::Date) => Value::Date(x as i32),
            Some(DataType::Timestamp) => Value::Timestamp(x as i64),
            _ => Value::Double(x),
        };
        Value::Array(h.bins.iter().map(|(x, y)| Value::Struct(vec![("x".into(), typed(*x)), ("y".into(), Value::Double(*y))])).collect())
    }
}

/// A two-argument aggregate's row, `[x, y]`.
fn pair(v: &Value) -> (&Value, &Value) {
    match v {
        Value::Array(items) if items.len() == 2 => (&items[0], &items[1]),
        _ => (&Value::Null, &Value::Null),
    }
}

/// Spark's results from the co-moments (`Covariance`, `PearsonCorrelation` and the `regr_*`
/// aggregates): NULL with no rows, and where Spark divides by zero.
fn bivariate_result(b: Bivariate, n: i64, x_avg: f64, y_avg: f64, ck: f64, x_mk: f64, y_mk: f64) -> Value {
    if n == 0 {
        return if b == Bivariate::RegrCount { Value::BigInt(0) } else { Value::Null };
    }
    let nf = n as f64;
    let d = |x: f64| Value::Double(x);
    match b {
        Bivariate::RegrCount => Value::BigInt(n),
        Bivariate::Corr if n == 1 || x_mk * y_mk == 0.0 => Value::Null,
        Bivariate::Corr => d(ck / (x_mk * y_mk).sqrt()),
        Bivariate::CovarPop => d(ck / nf),
        Bivariate::CovarSamp if n == 1 => Value::Null,
        Bivariate::CovarSamp => d(ck / (nf - 1.0)),
        Bivariate::RegrAvgX => d(x_avg),
        Bivariate::RegrAvgY => d(y_avg),
        Bivariate::RegrSxx => d(x_mk),
        Bivariate::RegrSyy => d(y_mk),
        Bivariate::RegrSxy => d(ck),
        Bivariate::RegrSlope | Bivariate::RegrIntercept if x_mk == 0.0 => Value::Null,
        Bivariate::RegrSlope => d((ck / nf) / (x_mk / nf)),
        Bivariate::RegrIntercept => d(y_avg - (ck / nf) / (x_mk / nf) * x_avg),
        Bivariate::RegrR2 if x_mk == 0.0 => Value::Null,
        Bivariate::RegrR2 if y_mk == 0.0 => d(1.0),
        Bivariate::RegrR2 => {
            let r = ck / (x_mk * y_mk).sqrt();
            d(r * r)
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
    fn try_sum_is_null_once_it_overflows_even_across_a_merge_and_a_checkpoint() {
        let call = AggFunc::resolve("try_sum", vec![Expr::column(0, DataType::BigInt)], false).unwrap();
        assert_eq!(call.func, AggFunc::TrySum);
        let mut a = call.new_accumulator();
        assert_eq!(call.result(&a), Value::Null);
        call.update(&mut a, &Value::BigInt(i64::MAX)).unwrap();
        call.update(&mut a, &Value::Null).unwrap();
        call.end_batch(&mut a);
        assert_eq!(call.result(&a), Value::BigInt(i64::MAX));
        // The next batch's rows are summed first, as Spark's partial aggregation does: no overflow.
        call.update(&mut a, &Value::BigInt(1)).unwrap();
        call.update(&mut a, &Value::BigInt(-5)).unwrap();
        assert_eq!(call.result(&a), Value::BigInt(i64::MAX - 4));
        call.end_batch(&mut a);
        let mut b = call.new_accumulator();
        call.update(&mut b, &Value::BigInt(5)).unwrap();
        call.merge(&mut a, b).unwrap();
        let mut back: Accumulator = postcard::from_bytes(&postcard::to_allocvec(&a).unwrap()).unwrap();
        assert_eq!(call.result(&back), Value::Null);
        call.update(&mut back, &Value::BigInt(-5)).unwrap();
        call.end_batch(&mut back);
        assert_eq!(call.result(&back), Value::Null, "an overflow is not undone");
        let doubles = AggFunc::resolve("try_sum", vec![Expr::column(0, DataType::Double)], false).unwrap();
        assert_eq!((doubles.func, doubles.data_type), (AggFunc::Sum, DataType::Double));
        assert_eq!(AggFunc::resolve("try_avg", vec![Expr::column(0, DataType::Int)], false).unwrap().func, AggFunc::Avg);
    }

    #[test]
    fn percentile_of_an_array_gives_an_array() {
        let p = Expr::Literal(Value::Array(vec![Value::Double(0.25), Value::Double(0.75)]));
        let call = AggFunc::resolve("percentile", vec![Expr::column(0, DataType::Int), p], false).unwrap();
        assert_eq!(call.data_type, DataType::Array(Box::new(DataType::Double)));
        let mut acc = call.new_accumulator();
        assert_eq!(call.result(&acc), Value::Null);
        for v in [0, 10] {
            call.update(&mut acc, &Value::Int(v)).unwrap();
        }
        assert_eq!(call.result(&acc), Value::Array(vec![Value::Double(2.5), Value::Double(7.5)]));
    }

    #[test]
    fn percentile_disc_takes_the_first_value_reaching_the_share() {
        let mut call =
            AggFunc::resolve("percentile_disc", vec![Expr::column(0, DataType::Int), Expr::Literal(Value::Double(0.75))], false).unwrap();
        let mut acc = call.new_accumulator();
        for v in [30, 0, 20, 10] {
            call.update(&mut acc, &Value::Int(v)).unwrap();
        }
        // As PySpark 4.3 answers over 0, 10, 20, 30.
        assert_eq!(call.result(&acc), Value::Double(20.0));
        call.fraction = 0.25;
        assert_eq!(call.result(&acc), Value::Double(0.0));
        call.fraction = 0.5;
        call.func = AggFunc::PercentileDiscDesc;
        assert_eq!(call.result(&acc), Value::Double(20.0));
    }

    #[test]
    fn max_by_k_keeps_the_best_k_across_a_merge_and_a_checkpoint() {
        let args = || vec![Expr::column(0, DataType::String), Expr::column(1, DataType::Int), Expr::Literal(Value::Int(2))];
        let call = AggFunc::resolve("max_by", args(), false).unwrap();
        assert_eq!(call.data_type, DataType::Array(Box::new(DataType::String)));
        let row = |x: &str, y: i32| Value::Array(vec![s(x), Value::Int(y)]);
        let mut a = call.new_accumulator();
        call.update(&mut a, &row("a", 10)).unwrap();
        call.update(&mut a, &row("b", 50)).unwrap();
        let mut b = call.new_accumulator();
        call.update(&mut b, &row("c", 20)).unwrap();
        call.update(&mut b, &Value::Array(vec![s("d"), Value::Null])).unwrap();
        call.merge(&mut a, b).unwrap();
        let back: Accumulator = postcard::from_bytes(&postcard::to_allocvec(&a).unwrap()).unwrap();
        assert_eq!(call.result(&back), Value::Array(vec![s("b"), s("c")]));
        let min = AggFunc::resolve("min_by", args(), false).unwrap();
        let mut m = min.new_accumulator();
        for (x, y) in [("a", 10), ("b", 50), ("c", 20)] {
            min.update(&mut m, &row(x, y)).unwrap();
        }
        assert_eq!(min.result(&m), Value::Array(vec![s("a"), s("c")]));
        assert!(AggFunc::resolve(
            "max_by",
            vec![Expr::column(0, DataType::String), Expr::column(1, DataType::Int), Expr::Literal(Value::Int(0))],
            false
        )
        .is_err());
    }

    #[test]
    fn mode_descending_takes_the_largest_of_the_most_frequent() {
        let mut call = AggFunc::resolve("mode", vec![Expr::column(0, DataType::Int)], false).unwrap();
        let mut acc = call.new_accumulator();
        for v in [0, 10, 10, 20, 20] {
            call.update(&mut acc, &Value::Int(v)).unwrap();
        }
        assert_eq!(call.result(&acc), Value::Int(10));
        call.func = AggFunc::ModeDesc;
        assert_eq!(call.result(&acc), Value::Int(20));
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
    fn percentile_approx_gives_sparks_documented_results_and_keeps_its_state() {
        let col = || Expr::column(0, DataType::Int);
        let lit = |v: Value| Expr::Literal(v);
        let fractions = Value::Array(vec![Value::Double(0.5), Value::Double(0.4), Value::Double(0.1)]);
        let arr = AggFunc::resolve("percentile_approx", vec![col(), lit(fractions), lit(Value::Int(100))], false).unwrap();
        assert_eq!(arr.data_type, DataType::Array(Box::new(DataType::Int)));
        let values = [0, 1, 2, 10].map(Value::Int);
        // Spark 4.3: SELECT percentile_approx(col, array(0.5, 0.4, 0.1), 100) FROM VALUES (0), (1), (2), (10).
        assert_eq!(arr.result(&feed(&arr, &values)), Value::Array(vec![Value::Int(1), Value::Int(1), Value::Int(0)]));
        let one = AggFunc::resolve("approx_percentile", vec![col(), lit(Value::Double(0.5)), lit(Value::Int(100))], false).unwrap();
        // Spark 4.3: SELECT percentile_approx(col, 0.5, 100) FROM VALUES (0), (6), (7), (9), (10).
        let acc = feed(&one, &[0, 6, 7, 9, 10].map(Value::Int));
        assert_eq!(one.result(&acc), Value::Int(7));
        let back: Accumulator = postcard::from_bytes(&postcard::to_allocvec(&acc).unwrap()).unwrap();
        assert_eq!(one.result(&back), Value::Int(7), "a restored state answers the same");
        assert_eq!(one.result(&feed(&one, &[Value::Null])), Value::Null, "NULLs are skipped; none left is NULL");
        // Percentages within 1 / accuracy of an end give the minimum or maximum.
        let near = |p: f64| AggFunc::resolve("percentile_approx", vec![col(), lit(Value::Double(p)), lit(Value::Int(10))], false).unwrap();
        let many: Vec<Value> = (1..=100).map(Value::Int).collect();
        assert_eq!(near(0.1).result(&feed(&near(0.1), &many)), Value::Int(1));
        assert_eq!(near(0.9).result(&feed(&near(0.9), &many)), Value::Int(100));
        // Spark 4.3: SELECT percentile_approx(CAST(id AS INT), 0.5, 10) FROM range(1, 101, 1, 1) is 48:
        // at this accuracy the sketch merges samples, and the answer is the sketch's, not the exact 50.
        assert_eq!(near(0.5).result(&feed(&near(0.5), &many)), Value::Int(48));
        let bad = |args: Vec<Expr>| AggFunc::resolve("percentile_approx", args, false).unwrap_err().spark_condition;
        assert_eq!(bad(vec![col(), lit(Value::Double(1.5))]), Some("DATATYPE_MISMATCH.VALUE_OUT_OF_RANGE"));
        assert_eq!(bad(vec![col(), lit(Value::Double(0.5)), lit(Value::Int(0))]), Some("DATATYPE_MISMATCH.VALUE_OUT_OF_RANGE"));
        assert_eq!(bad(vec![col(), col()]), Some("DATATYPE_MISMATCH.NON_FOLDABLE_INPUT"));
        assert_eq!(bad(vec![Expr::column(0, DataType::Boolean), lit(Value::Double(0.5))]), Some("DATATYPE_MISMATCH.UNEXPECTED_INPUT_TYPE"));
    }

    fn two(name: &str, a: DataType, b: DataType) -> AggregateCall {
        AggFunc::resolve(name, vec![Expr::column(0, a), Expr::column(1, b)], false).unwrap()
    }

    fn feed(call: &AggregateCall, rows: &[Value]) -> Accumulator {
        let mut acc = call.new_accumulator();
        for v in rows {
            call.update(&mut acc, v).unwrap();
        }
        acc
    }

    fn xy(x: f64, y: f64) -> Value {
        Value::Array(vec![Value::Double(x), Value::Double(y)])
    }

    fn close(v: Value, want: f64) {
        let Value::Double(got) = v else { panic!("{v:?} is not a double") };
        assert!((got - want).abs() <= 1e-12 * want.abs().max(1.0), "{got} != {want}");
    }

    #[test]
    fn max_by_and_min_by_skip_null_orderings_keep_null_values_and_the_last_of_a_tie() {
        let mx = two("max_by", DataType::String, DataType::Int);
        let mn = two("min_by", DataType::String, DataType::Int);
        let row = |x: Option<&str>, o: Option<i32>| Value::Array(vec![x.map_or(Value::Null, s), o.map_or(Value::Null, Value::Int)]);
        let rows = [row(Some("a"), Some(3)), row(Some("z"), None), row(None, Some(9)), row(Some("b"), Some(9)), row(Some("c"), Some(1))];
        assert_eq!(mx.result(&feed(&mx, &rows)), s("b"), "the later of two rows with the largest ordering");
        assert_eq!(mx.result(&feed(&mx, &rows[..3])), Value::Null, "a NULL value is kept like any other");
        assert_eq!(mn.result(&feed(&mn, &rows)), s("c"));
        assert_eq!(mx.result(&feed(&mx, &rows[..2])), s("a"));
        assert_eq!(mx.data_type, DataType::String);
        // Merging the halves gives what one pass gives; a state read back merges the same.
        let mut left = feed(&mx, &rows[..2]);
        let right: Accumulator = postcard::from_bytes(&postcard::to_allocvec(&feed(&mx, &rows[2..])).unwrap()).unwrap();
        mx.merge(&mut left, right).unwrap();
        assert_eq!(mx.result(&left), s("b"));
    }

    #[test]
    fn co_moments_give_sparks_statistics_and_merge_like_one_pass() {
        let pts = [(1.0, 2.0), (2.0, 4.5), (4.0, 7.0), (5.0, 11.0)];
        let rows: Vec<Value> = pts.iter().map(|&(x, y)| xy(x, y)).collect();
        let (n, mx, my) = (4.0, 3.0, 6.125);
        let sxy: f64 = pts.iter().map(|&(x, y)| (x - mx) * (y - my)).sum();
        let sxx: f64 = pts.iter().map(|&(x, _)| (x - mx) * (x - mx)).sum();
        let syy: f64 = pts.iter().map(|&(_, y)| (y - my) * (y - my)).sum();
        let call = |name: &str| two(name, DataType::Double, DataType::Double);
        let corr = call("corr");
        close(corr.result(&feed(&corr, &rows)), sxy / (sxx * syy).sqrt());
        close(call("covar_pop").result(&feed(&call("covar_pop"), &rows)), sxy / n);
        close(call("covar_samp").result(&feed(&call("covar_samp"), &rows)), sxy / (n - 1.0));
        // regr_*(y, x) keeps its arguments as (x, y): the same rows.
        let swapped = &rows;
        let regr = two("regr_slope", DataType::Double, DataType::Int);
        assert_eq!(
            (regr.arg.as_ref().map(Expr::data_type), regr.arg2.as_ref().map(Expr::data_type)),
            (Some(DataType::Double), Some(DataType::Double))
        );
        assert!(matches!(regr.arg2, Some(Expr::Column { index: 0, .. })), "y is the first argument");
        let slope = call("regr_slope");
        close(slope.result(&feed(&slope, swapped)), sxy / sxx);
        let icpt = call("regr_intercept");
        close(icpt.result(&feed(&icpt, swapped)), my - sxy / sxx * mx);
        let r2 = call("regr_r2");
        close(r2.result(&feed(&r2, swapped)), sxy * sxy / (sxx * syy));
        assert_eq!(
            call("regr_count").result(&feed(&call("regr_count"), &[xy(1.0, 2.0), Value::Array(vec![Value::Null, Value::Double(1.0)])])),
            Value::BigInt(1)
        );
        let mut half = feed(&corr, &rows[..1]);
        corr.merge(&mut half, feed(&corr, &rows[1..])).unwrap();
        close(corr.result(&half), sxy / (sxx * syy).sqrt());
        // One row, or a constant column: NULL, as Spark divides by zero there.
        assert_eq!(corr.result(&feed(&corr, &rows[..1])), Value::Null);
        assert_eq!(corr.result(&feed(&corr, &[xy(1.0, 2.0), xy(1.0, 3.0)])), Value::Null);
        assert_eq!(call("covar_samp").result(&feed(&call("covar_samp"), &rows[..1])), Value::Null);
        assert_eq!(call("covar_pop").result(&call("covar_pop").new_accumulator()), Value::Null);
    }

    #[test]
    fn skewness_and_kurtosis_update_and_merge_the_fourth_moments() {
        let call = |name| AggFunc::resolve(name, vec![Expr::column(0, DataType::Double)], false).unwrap();
        let xs = [2.0, 4.0, 4.0, 4.0, 5.0, 5.0, 7.0, 9.0];
        let rows: Vec<Value> = xs.iter().map(|&x| Value::Double(x)).collect();
        let mean = 5.0;
        let m = |k: i32| xs.iter().map(|x| (x - mean).powi(k)).sum::<f64>();
        let n = xs.len() as f64;
        let (sk, ku) = (call("skewness"), call("kurtosis"));
        close(sk.result(&feed(&sk, &rows)), n.sqrt() * m(3) / m(2).powf(1.5));
        close(ku.result(&feed(&ku, &rows)), n * m(4) / (m(2) * m(2)) - 3.0);
        let mut a = feed(&ku, &rows[..3]);
        ku.merge(&mut a, feed(&ku, &rows[3..])).unwrap();
        close(ku.result(&a), n * m(4) / (m(2) * m(2)) - 3.0);
        let mut b = feed(&sk, &rows[..5]);
        sk.merge(&mut b, feed(&sk, &rows[5..])).unwrap();
        close(sk.result(&b), n.sqrt() * m(3) / m(2).powf(1.5));
        assert_eq!(sk.result(&feed(&sk, &[Value::Double(3.0), Value::Double(3.0)])), Value::Null, "no spread: Spark's NULL");
    }

    #[test]
    fn percentile_interpolates_between_ranks_and_mode_breaks_ties_low() {
        let call = |name: &str, args: Vec<Expr>| AggFunc::resolve(name, args, false).unwrap();
        let x = || Expr::column(0, DataType::Int);
        let rows: Vec<Value> = [10, 1, 3, 3, 7].iter().map(|&v| Value::Int(v)).collect();
        let p = |f: f64| call("percentile", vec![x(), Expr::Literal(Value::Double(f))]);
        // Sorted 1 3 3 7 10: rank 0.25 * 4 = 1 -> 3; rank 0.9 * 4 = 3.6 -> 7 + 0.6 * 3.
        assert_eq!(p(0.25).result(&feed(&p(0.25), &rows)), Value::Double(3.0));
        close(p(0.9).result(&feed(&p(0.9), &rows)), 8.8);
        let med = call("median", vec![x()]);
        assert_eq!(med.result(&feed(&med, &rows[..4])), Value::Double(3.0));
        assert_eq!(med.result(&med.new_accumulator()), Value::Null);
        assert!(AggFunc::resolve("percentile", vec![x(), Expr::Literal(Value::Double(1.5))], false).is_err());
        assert!(AggFunc::resolve("percentile", vec![x(), x()], false).is_err(), "a fraction must be a constant");
        let mode = call("mode", vec![x()]);
        assert_eq!(mode.result(&feed(&mode, &rows)), Value::Int(3));
        let tie: Vec<Value> = [5, 2, 5, 2, 9].iter().map(|&v| Value::Int(v)).collect();
        assert_eq!(mode.result(&feed(&mode, &tie)), Value::Int(2));
        // Counts read back from state still count (their index is rebuilt).
        let mut back: Accumulator = postcard::from_bytes(&postcard::to_allocvec(&feed(&mode, &tie)).unwrap()).unwrap();
        mode.update(&mut back, &Value::Int(5)).unwrap();
        assert_eq!(mode.result(&back), Value::Int(5));
        let Accumulator::Counts(c) = &back else { panic!() };
        assert_eq!(c.items.len(), 3);
    }

    #[test]
    fn bit_aggregates_fold_integers_and_keep_their_type() {
        let call = |name| AggFunc::resolve(name, vec![Expr::column(0, DataType::Int)], false).unwrap();
        let rows = [Value::Int(12), Value::Null, Value::Int(10), Value::Int(7)];
        assert_eq!(call("bit_and").result(&feed(&call("bit_and"), &rows)), Value::Int(0));
        assert_eq!(call("bit_or").result(&feed(&call("bit_or"), &rows)), Value::Int(15));
        assert_eq!(call("bit_xor").result(&feed(&call("bit_xor"), &rows)), Value::Int(12 ^ 10 ^ 7));
        assert_eq!(call("bit_or").result(&feed(&call("bit_or"), &[Value::Null])), Value::Null);
        assert!(AggFunc::resolve("bit_or", vec![Expr::column(0, DataType::Double)], false).is_err());
    }

    #[test]
    fn approx_count_distinct_is_sparks_hyperloglog_and_its_state_the_old_set() {
        let call = AggFunc::resolve("approx_count_distinct", vec![Expr::column(0, DataType::BigInt)], false).unwrap();
        let mut acc = call.new_accumulator();
        for i in (0..1000).chain(0..500) {
            call.update(&mut acc, &Value::BigInt(i)).unwrap();
        }
        call.update(&mut acc, &Value::Null).unwrap();
        // Spark 4.3: SELECT approx_count_distinct(id) FROM range(0, 1000).
        assert_eq!(call.result(&acc), Value::BigInt(1026));
        let bytes = postcard::to_allocvec(&acc).unwrap();
        assert_eq!(bytes[0], 6, "still the distinct values, as before");
        let mut back: Accumulator = postcard::from_bytes(&bytes).unwrap();
        assert_eq!(call.result(&back), Value::BigInt(1026));
        for i in 1000..1200 {
            call.update(&mut back, &Value::BigInt(i)).unwrap();
        }
        assert_eq!(call.result(&back), Value::BigInt(1171));
        let mut fresh = call.new_accumulator();
        for i in 0..1200 {
            call.update(&mut fresh, &Value::BigInt(i)).unwrap();
        }
        assert_eq!(call.result(&fresh), call.result(&back));
        let rsd = |x: f64| {
            AggFunc::resolve("approx_count_distinct", vec![Expr::column(0, DataType::Int), Expr::Literal(Value::Double(x))], false)
        };
        assert!(rsd(0.05).is_ok());
        assert!(rsd(0.01).is_err(), "another accuracy would need another sketch");
    }

    #[test]
    fn new_accumulators_come_after_the_old_ones_in_state() {
        let first_byte = |call: &AggregateCall| postcard::to_allocvec(&call.new_accumulator()).unwrap()[0];
        assert_eq!(first_byte(&two("max_by", DataType::Int, DataType::Int)), 9);
        assert_eq!(first_byte(&two("corr", DataType::Double, DataType::Double)), 10);
        let one = |name| AggFunc::resolve(name, vec![Expr::column(0, DataType::Int)], false).unwrap();
        assert_eq!(first_byte(&one("kurtosis")), 11);
        assert_eq!(first_byte(&one("median")), 12);
        assert_eq!(first_byte(&one("bit_or")), 13);
        // The old ones keep their bytes: a count is variant 0, a list 7.
        assert_eq!(first_byte(&AggFunc::resolve("count", vec![], true).unwrap()), 0);
        assert_eq!(first_byte(&one("collect_list")), 7);
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
