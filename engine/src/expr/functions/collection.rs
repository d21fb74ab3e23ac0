//! Arrays, maps and structs: the constructors (`array`, `map`, `named_struct`) and the
//! collection functions, row by row over [`Value`]s (a row's collection is small; the values
//! are built once per row either way).

use arrow_array::ArrayRef;

use super::*;
use crate::sql::coercion::wider_type;

impl Func {
    /// The function a name means for these arguments: `concat`, `size`, `reverse` and
    /// `element_at` of arrays or maps are the collection forms.
    pub fn for_args(self, args: &[Expr]) -> Func {
        let first = args.first().map(Expr::data_type);
        let is_array = matches!(first, Some(DataType::Array(_)));
        let is_map = matches!(first, Some(DataType::Map(_, _)));
        match self {
            Func::Concat if is_array => Func::ArrayConcat,
            Func::Reverse if is_array => Func::ArrayReverse,
            Func::Size if is_map => Func::MapSize,
            Func::ElementAt | Func::TryElementAt if is_map => Func::MapValueAt,
            Func::Instr if args.len() > 2 => Func::InstrFrom,
            other => super::encoding::binary_form(other, args),
        }
    }
}

fn element_type(f: Func, e: &Expr) -> Result<DataType> {
    match e.data_type() {
        DataType::Array(inner) => Ok(*inner),
        DataType::Null => Ok(DataType::Null),
        _ => Err(mismatch(f, e, "ARRAY")),
    }
}

fn map_types(f: Func, e: &Expr) -> Result<(DataType, DataType)> {
    match e.data_type() {
        DataType::Map(k, v) => Ok((*k, *v)),
        DataType::Null => Ok((DataType::Null, DataType::Null)),
        _ => Err(mismatch(f, e, "MAP")),
    }
}

/// The type every one of `types` is cast to, or Spark's DATA_DIFF_TYPES error.
fn common(f: Func, types: impl IntoIterator<Item = DataType>) -> Result<DataType> {
    let types: Vec<DataType> = types.into_iter().collect();
    let mut t = DataType::Null;
    for x in &types {
        t = wider_type(&t, x).ok_or_else(|| {
            Error::type_mismatch(format!(
                "[DATATYPE_MISMATCH.DATA_DIFF_TYPES] Cannot resolve \"{}(...)\" due to data type mismatch: Input to `{}` should all be the same type, but it's [{}]. SQLSTATE: 42K09",
                f.name(),
                f.name(),
                types.iter().map(|t| format!("\"{}\"", t.spark_name())).collect::<Vec<_>>().join(", ")
            ))
            .with_condition("DATATYPE_MISMATCH.DATA_DIFF_TYPES")
        })?;
    }
    Ok(t)
}

fn array_of(t: DataType) -> DataType {
    DataType::Array(Box::new(t))
}

/// The argument rules and result type of the functions in this file (Spark's implicit casts).
pub(super) fn check(f: Func, a: Vec<Expr>, c: &Checks) -> Result<(Vec<Expr>, DataType)> {
    use DataType as T;
    let cast_all = |a: Vec<Expr>, t: &DataType| a.into_iter().map(|e| e.cast_to(t)).collect::<Vec<_>>();
    Ok(match f {
        Func::MakeArray => {
            let t = common(f, a.iter().map(Expr::data_type))?;
            let a = cast_all(a, &t);
            (a, array_of(t))
        }
        Func::MakeMap => {
            if a.len() % 2 == 1 {
                return Err(Error::type_mismatch(format!(
                    "[WRONG_NUM_ARGS.WITHOUT_SUGGESTION] The `map` requires 2n (n > 0) parameters but the actual number is {}. SQLSTATE: 42605",
                    a.len()
                ))
                .with_condition("WRONG_NUM_ARGS.WITHOUT_SUGGESTION"));
            }
            let k = common(f, a.iter().step_by(2).map(Expr::data_type))?;
            let v = common(f, a.iter().skip(1).step_by(2).map(Expr::data_type))?;
            let a = a.into_iter().enumerate().map(|(i, e)| e.cast_to(if i % 2 == 0 { &k } else { &v })).collect();
            (a, T::Map(Box::new(k), Box::new(v)))
        }
        Func::NamedStruct => {
            if a.is_empty() || a.len() % 2 == 1 {
                return Err(Error::type_mismatch(format!(
                    "[WRONG_NUM_ARGS.WITHOUT_SUGGESTION] The `named_struct` requires 2n (n > 0) parameters but the actual number is {}. SQLSTATE: 42605",
                    a.len()
                ))
                .with_condition("WRONG_NUM_ARGS.WITHOUT_SUGGESTION"));
            }
            let mut fields = Vec::new();
            for pair in a.chunks(2) {
                let Expr::Literal(Value::String(name)) = &pair[0] else {
                    return Err(Error::type_mismatch(format!(
                        "[DATATYPE_MISMATCH.CREATE_NAMED_STRUCT_WITHOUT_FOLDABLE_STRING] Cannot resolve \"named_struct(...)\" due to data type mismatch: Only foldable `STRING` expressions are allowed to appear at odd position, got: {}. SQLSTATE: 42K09",
                        pair[0].data_type().spark_name()
                    )));
                };
                fields.push((name.clone(), pair[1].data_type()));
            }
            (a, T::Struct(fields))
        }
        Func::MapValueAt => {
            c.arity(2, 2)?;
            let (k, v) = map_types(f, &a[0])?;
            let mut a = a;
            let key = c.to(a.remove(1), &k)?;
            a.push(key);
            (a, v)
        }
        Func::MapSize | Func::ArraySize => {
            c.arity(1, 1)?;
            if f == Func::MapSize {
                map_types(f, &a[0])?;
            } else {
                element_type(f, &a[0])?;
            }
            (a, T::Int)
        }
        Func::ArrayContains | Func::ArrayPosition | Func::ArrayRemove | Func::ArrayAppend | Func::ArrayPrepend => {
            c.arity(2, 2)?;
            let elem = element_type(f, &a[0])?;
            let t = wider_type(&elem, &a[1].data_type()).ok_or_else(|| {
                Error::type_mismatch(format!(
                    "[DATATYPE_MISMATCH.ARRAY_FUNCTION_DIFF_TYPES] Cannot resolve \"{}(...)\" due to data type mismatch: Input to `{}` should have been \"ARRAY\" followed by a value with same element type, but it's [\"{}\", \"{}\"]. SQLSTATE: 42K09",
                    f.name(),
                    f.name(),
                    a[0].data_type().spark_name(),
                    a[1].data_type().spark_name()
                ))
                .with_condition("DATATYPE_MISMATCH.ARRAY_FUNCTION_DIFF_TYPES")
            })?;
            let mut a = a;
            let v = a.remove(1).cast_to(&t);
            let arr = a.remove(0).cast_to(&array_of(t.clone()));
            let ty = match f {
                Func::ArrayContains => T::Boolean,
                Func::ArrayPosition => T::BigInt,
                _ => array_of(t),
            };
            (vec![arr, v], ty)
        }
        Func::ArrayInsert => {
            c.arity(3, 3)?;
            let mut a = a;
            let item = a.remove(2);
            let pos = c.to(a.remove(1), &T::Int)?;
            let elem = element_type(f, &a[0])?;
            let t = wider_type(&elem, &item.data_type()).ok_or_else(|| {
                Error::type_mismatch(format!(
                    "[DATATYPE_MISMATCH.ARRAY_FUNCTION_DIFF_TYPES] Cannot resolve \"array_insert(...)\" due to data type mismatch: Input to `array_insert` should have been \"ARRAY\" followed by a value with same element type, but it's [\"{}\", \"{}\"]. SQLSTATE: 42K09",
                    a[0].data_type().spark_name(),
                    item.data_type().spark_name()
                ))
                .with_condition("DATATYPE_MISMATCH.ARRAY_FUNCTION_DIFF_TYPES")
            })?;
            let arr = a.remove(0).cast_to(&array_of(t.clone()));
            (vec![arr, pos, item.cast_to(&t)], array_of(t))
        }
        Func::MapKeys | Func::MapValues | Func::MapEntries => {
            c.arity(1, 1)?;
            let (k, v) = map_types(f, &a[0])?;
            let ty = match f {
                Func::MapKeys => array_of(k),
                Func::MapValues => array_of(v),
                _ => array_of(T::Struct(vec![("key".into(), k), ("value".into(), v)])),
            };
            (a, ty)
        }
        Func::MapContainsKey => {
            c.arity(2, 2)?;
            let (k, _) = map_types(f, &a[0])?;
            let mut a = a;
            let key = c.to(a.remove(1), &k)?;
            a.push(key);
            (a, T::Boolean)
        }
        Func::ArrayDistinct | Func::ArrayCompact | Func::ArrayReverse | Func::ArrayMax | Func::ArrayMin => {
            c.arity(1, 1)?;
            let elem = element_type(f, &a[0])?;
            let ty = if matches!(f, Func::ArrayMax | Func::ArrayMin) { elem } else { a[0].data_type() };
            (a, ty)
        }
        Func::Flatten => {
            c.arity(1, 1)?;
            match element_type(f, &a[0])? {
                T::Array(inner) => (a, T::Array(inner)),
                _ => return Err(mismatch(f, &a[0], "ARRAY<ARRAY>")),
            }
        }
        Func::ArrayUnion | Func::ArrayIntersect | Func::ArrayExcept | Func::ArraysOverlap | Func::ArrayConcat => {
            if f == Func::ArrayConcat {
                c.arity(1, usize::MAX)?;
            } else {
                c.arity(2, 2)?;
            }
            let elems = a.iter().map(|e| element_type(f, e)).collect::<Result<Vec<_>>>()?;
            let t = array_of(common(f, elems)?);
            let a = cast_all(a, &t);
            (a, if f == Func::ArraysOverlap { T::Boolean } else { t })
        }
        Func::Sequence => {
            c.arity(2, 3)?;
            let t = common(f, a.iter().map(Expr::data_type))?;
            if !t.is_integral() {
                return Err(mismatch(f, &a[0], "INTEGRAL"));
            }
            let a = cast_all(a, &t);
            (a, array_of(t))
        }
        Func::Slice => {
            c.arity(3, 3)?;
            element_type(f, &a[0])?;
            let mut a = a;
            let len = c.to(a.remove(2), &T::Int)?;
            let start = c.to(a.remove(1), &T::Int)?;
            let t = a[0].data_type();
            a.extend([start, len]);
            (a, t)
        }
        Func::ArrayJoin => {
            c.arity(2, 3)?;
            element_type(f, &a[0])?;
            let mut a = a;
            let rest = a.split_off(1).into_iter().map(|e| c.to(e, &T::String)).collect::<Result<Vec<_>>>()?;
            let arr = a.remove(0);
            // Spark casts the elements to strings (array_join takes ARRAY<STRING>).
            let arr = if arr.data_type() == T::Null { arr } else { arr.cast_to(&array_of(T::String)) };
            let mut a = vec![arr];
            a.extend(rest);
            (a, T::String)
        }
        Func::ArraysZip => {
            let elems = a.iter().map(|e| element_type(f, e)).collect::<Result<Vec<_>>>()?;
            let fields = elems.into_iter().enumerate().map(|(i, t)| (i.to_string(), t)).collect();
            (a, array_of(T::Struct(fields)))
        }
        Func::MapFromArrays => {
            c.arity(2, 2)?;
            let k = element_type(f, &a[0])?;
            let v = element_type(f, &a[1])?;
            (a, T::Map(Box::new(k), Box::new(v)))
        }
        Func::MapFromEntries => {
            c.arity(1, 1)?;
            match element_type(f, &a[0])? {
                T::Struct(fields) if fields.len() == 2 => {
                    let ty = T::Map(Box::new(fields[0].1.clone()), Box::new(fields[1].1.clone()));
                    (a, ty)
                }
                _ => return Err(mismatch(f, &a[0], "ARRAY<STRUCT<key, value>>")),
            }
        }
        Func::MapConcat => {
            let mut kv = Vec::new();
            for e in &a {
                kv.push(map_types(f, e)?);
            }
            let k = common(f, kv.iter().map(|(k, _)| k.clone()))?;
            let v = common(f, kv.iter().map(|(_, v)| v.clone()))?;
            let t = T::Map(Box::new(k), Box::new(v));
            let a = cast_all(a, &t);
            (a, t)
        }
        Func::StrToMap => {
            c.arity(1, 3)?;
            let a = a.into_iter().map(|e| c.to(e, &T::String)).collect::<Result<Vec<_>>>()?;
            (a, T::Map(Box::new(T::String), Box::new(T::String)))
        }
        Func::ArrayRepeat => {
            c.arity(2, 2)?;
            let mut a = a;
            let n = c.to(a.remove(1), &T::Int)?;
            let t = array_of(a[0].data_type());
            a.push(n);
            (a, t)
        }
        Func::Get => {
            c.arity(2, 2)?;
            let elem = element_type(f, &a[0])?;
            let mut a = a;
            let i = c.to(a.remove(1), &T::Int)?;
            a.push(i);
            (a, elem)
        }
        other => return Err(Error::internal(format!("{other:?} is not checked here"))),
    })
}

/// Equal as Spark's collection functions see it: NaN equals NaN.
pub(crate) fn same(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Double(x), Value::Double(y)) => x == y || (x.is_nan() && y.is_nan()),
        _ => a == b,
    }
}

fn items(v: &Value) -> &[Value] {
    match v {
        Value::Array(items) => items,
        _ => &[],
    }
}

fn entries(v: &Value) -> &[(Value, Value)] {
    match v {
        Value::Map(e) => e,
        _ => &[],
    }
}

fn null_map_key() -> Error {
    Error::runtime("NULL_MAP_KEY", "[NULL_MAP_KEY] Cannot use null as map key. SQLSTATE: 2200E")
}

fn duplicated_key(k: &Value) -> Error {
    Error::runtime(
        "DUPLICATED_MAP_KEY",
        format!("[DUPLICATED_MAP_KEY] Duplicate map key {} was found, please check the input data. If you want to remove the duplicated keys, you can set \"spark.sql.mapKeyDedupPolicy\" to \"LAST_WIN\" so that the key inserted at last takes precedence. SQLSTATE: 23505", k.to_spark_string()),
    )
}

/// A map of `pairs`, refusing a NULL or repeated key as Spark's default EXCEPTION policy does.
pub(crate) fn build_map(pairs: impl IntoIterator<Item = (Value, Value)>) -> Result<Value> {
    let mut out: Vec<(Value, Value)> = Vec::new();
    for (k, v) in pairs {
        if k.is_null() {
            return Err(null_map_key());
        }
        if out.iter().any(|(o, _)| same(o, &k)) {
            return Err(duplicated_key(&k));
        }
        out.push((k, v));
    }
    Ok(Value::Map(out))
}

fn distinct(values: impl IntoIterator<Item = Value>) -> Vec<Value> {
    let mut out: Vec<Value> = Vec::new();
    for v in values {
        if !out.iter().any(|o| same(o, &v)) {
            out.push(v);
        }
    }
    out
}

fn invalid_parameter(sub: &'static str, f: Func, param: &str, why: String) -> Error {
    let condition = match sub {
        "START" => "INVALID_PARAMETER_VALUE.START",
        "LENGTH" => "INVALID_PARAMETER_VALUE.LENGTH",
        _ => "INVALID_PARAMETER_VALUE",
    };
    Error::runtime(
        condition,
        format!("[{condition}] The value of parameter(s) `{param}` in `{}` is invalid: {why}. SQLSTATE: 22023", f.name()),
    )
}

/// The most elements one collection may hold, as Spark's `MAX_ROUNDED_ARRAY_LENGTH`.
const MAX_ARRAY_LENGTH: i64 = i32::MAX as i64 - 15;

fn too_long(f: Func, n: i64) -> Error {
    Error::runtime(
        "COLLECTION_SIZE_LIMIT_EXCEEDED.PARAMETER",
        format!("[COLLECTION_SIZE_LIMIT_EXCEEDED.PARAMETER] Can't create array with {n} elements which exceeding the array size limit {MAX_ARRAY_LENGTH}, the value of parameter(s) `count` in `{}` is invalid. SQLSTATE: 54000", f.name()),
    )
}

/// The vectorised kernels of the functions in this file.
pub(super) fn kernel(f: Func, a: &[ArrayRef], _raw: &[Columnar], data_type: &DataType, len: usize) -> Result<ArrayRef> {
    match f {
        Func::MakeArray => rowwise(a, len, data_type, |row| Ok(Value::Array(row.to_vec()))),
        Func::MakeMap => rowwise(a, len, data_type, |row| build_map(row.chunks(2).map(|p| (p[0].clone(), p[1].clone())))),
        Func::NamedStruct => {
            let names: Vec<String> = match data_type {
                DataType::Struct(fields) => fields.iter().map(|(n, _)| n.clone()).collect(),
                _ => vec![],
            };
            rowwise(a, len, data_type, |row| Ok(Value::Struct(names.iter().cloned().zip(row.iter().skip(1).step_by(2).cloned()).collect())))
        }
        Func::MapValueAt => strict(a, len, data_type, |row| {
            Ok(entries(&row[0]).iter().find(|(k, _)| same(k, &row[1])).map(|(_, v)| v.clone()).unwrap_or(Value::Null))
        }),
        Func::MapSize => strict(a, len, data_type, |row| Ok(Value::Int(entries(&row[0]).len() as i32))),
        Func::ArraySize => strict(a, len, data_type, |row| Ok(Value::Int(items(&row[0]).len() as i32))),
        Func::ArrayContains => strict(a, len, data_type, |row| {
            let xs = items(&row[0]);
            Ok(if xs.iter().any(|x| same(x, &row[1])) {
                Value::Boolean(true)
            } else if xs.iter().any(Value::is_null) {
                Value::Null
            } else {
                Value::Boolean(false)
            })
        }),
        Func::ArrayPosition => strict(a, len, data_type, |row| {
            Ok(Value::BigInt(items(&row[0]).iter().position(|x| same(x, &row[1])).map_or(0, |p| p as i64 + 1)))
        }),
        Func::ArrayRemove => {
            strict(a, len, data_type, |row| Ok(Value::Array(items(&row[0]).iter().filter(|x| !same(x, &row[1])).cloned().collect())))
        }
        Func::ArrayAppend | Func::ArrayPrepend => rowwise(a, len, data_type, |row| {
            if row[0].is_null() {
                return Ok(Value::Null);
            }
            let mut xs = items(&row[0]).to_vec();
            if f == Func::ArrayAppend {
                xs.push(row[1].clone());
            } else {
                xs.insert(0, row[1].clone());
            }
            Ok(Value::Array(xs))
        }),
        // NULL for a NULL array or position; the item may be NULL.
        Func::ArrayInsert => rowwise(a, len, data_type, |row| {
            if row[0].is_null() || row[1].is_null() {
                return Ok(Value::Null);
            }
            array_insert(items(&row[0]), int_of(&row[1]), &row[2]).map(Value::Array)
        }),
        Func::MapKeys => strict(a, len, data_type, |row| Ok(Value::Array(entries(&row[0]).iter().map(|(k, _)| k.clone()).collect()))),
        Func::MapValues => strict(a, len, data_type, |row| Ok(Value::Array(entries(&row[0]).iter().map(|(_, v)| v.clone()).collect()))),
        Func::MapEntries => strict(a, len, data_type, |row| {
            Ok(Value::Array(
                entries(&row[0]).iter().map(|(k, v)| Value::Struct(vec![("key".into(), k.clone()), ("value".into(), v.clone())])).collect(),
            ))
        }),
        Func::MapContainsKey => strict(a, len, data_type, |row| Ok(Value::Boolean(entries(&row[0]).iter().any(|(k, _)| same(k, &row[1]))))),
        Func::ArrayDistinct => strict(a, len, data_type, |row| Ok(Value::Array(distinct(items(&row[0]).iter().cloned())))),
        Func::ArrayCompact => {
            strict(a, len, data_type, |row| Ok(Value::Array(items(&row[0]).iter().filter(|x| !x.is_null()).cloned().collect())))
        }
        Func::ArrayReverse => strict(a, len, data_type, |row| Ok(Value::Array(items(&row[0]).iter().rev().cloned().collect()))),
        Func::ArrayMax | Func::ArrayMin => strict(a, len, data_type, |row| {
            let best = items(&row[0]).iter().filter(|x| !x.is_null()).fold(None::<&Value>, |acc, x| match acc {
                None => Some(x),
                Some(b) => {
                    let better = if f == Func::ArrayMax { x.compare(b).is_gt() } else { x.compare(b).is_lt() };
                    Some(if better { x } else { b })
                }
            });
            Ok(best.cloned().unwrap_or(Value::Null))
        }),
        Func::Flatten => strict(a, len, data_type, |row| {
            let inner = items(&row[0]);
            if inner.iter().any(Value::is_null) {
                return Ok(Value::Null);
            }
            Ok(Value::Array(inner.iter().flat_map(|x| items(x).iter().cloned()).collect()))
        }),
        Func::ArrayConcat => strict(a, len, data_type, |row| Ok(Value::Array(row.iter().flat_map(|x| items(x).iter().cloned()).collect()))),
        Func::ArrayUnion => {
            strict(a, len, data_type, |row| Ok(Value::Array(distinct(items(&row[0]).iter().chain(items(&row[1])).cloned()))))
        }
        Func::ArrayIntersect => strict(a, len, data_type, |row| {
            let other = items(&row[1]);
            Ok(Value::Array(distinct(items(&row[0]).iter().filter(|x| other.iter().any(|o| same(o, x))).cloned())))
        }),
        Func::ArrayExcept => strict(a, len, data_type, |row| {
            let other = items(&row[1]);
            Ok(Value::Array(distinct(items(&row[0]).iter().filter(|x| !other.iter().any(|o| same(o, x))).cloned())))
        }),
        Func::ArraysOverlap => strict(a, len, data_type, |row| {
            let (x, y) = (items(&row[0]), items(&row[1]));
            Ok(if x.iter().any(|v| !v.is_null() && y.iter().any(|w| same(v, w))) {
                Value::Boolean(true)
            } else if !x.is_empty() && !y.is_empty() && (x.iter().any(Value::is_null) || y.iter().any(Value::is_null)) {
                Value::Null
            } else {
                Value::Boolean(false)
            })
        }),
        Func::Sequence => strict(a, len, data_type, |row| {
            let (start, stop) = (int_of(&row[0]), int_of(&row[1]));
            let step = row.get(2).map(int_of).unwrap_or(if start <= stop { 1 } else { -1 });
            if step == 0 && start != stop || (step > 0 && start > stop) || (step < 0 && start < stop) {
                return Err(Error::runtime("INVALID_PARAMETER_VALUE", format!("Illegal sequence boundaries: {start} to {stop} by {step}")));
            }
            let n = if step == 0 { 1 } else { ((stop as i128 - start as i128) / step as i128 + 1) as i64 };
            if n > MAX_ARRAY_LENGTH {
                return Err(too_long(f, n));
            }
            let int = matches!(data_type, DataType::Array(t) if **t == DataType::Int);
            Ok(Value::Array((0..n).map(|k| start + k * step).map(|v| if int { Value::Int(v as i32) } else { Value::BigInt(v) }).collect()))
        }),
        Func::Slice => strict(a, len, data_type, |row| {
            let xs = items(&row[0]);
            let (start, length) = (int_of(&row[1]), int_of(&row[2]));
            if start == 0 {
                return Err(invalid_parameter(
                    "START",
                    f,
                    "start",
                    format!("Expects a positive or a negative value for `start`, but got {start}"),
                ));
            }
            if length < 0 {
                return Err(invalid_parameter(
                    "LENGTH",
                    f,
                    "length",
                    format!("Expects `length` greater than or equal to 0, but got {length}"),
                ));
            }
            let n = xs.len() as i64;
            let from = if start > 0 { start - 1 } else { n + start };
            if from < 0 || from >= n {
                return Ok(Value::Array(vec![]));
            }
            let to = (from + length).min(n);
            Ok(Value::Array(xs[from as usize..to as usize].to_vec()))
        }),
        Func::ArrayJoin => rowwise(a, len, data_type, |row| {
            if row[0].is_null() || row[1].is_null() {
                return Ok(Value::Null);
            }
            let replacement = row.get(2);
            if replacement.is_some_and(Value::is_null) {
                return Ok(Value::Null);
            }
            let parts: Vec<String> = items(&row[0])
                .iter()
                .filter_map(|x| match x {
                    Value::Null => replacement.map(|r| str_of(r).to_string()),
                    v => Some(str_of(v).to_string()),
                })
                .collect();
            Ok(Value::String(parts.join(str_of(&row[1]))))
        }),
        Func::ArraysZip => {
            let names: Vec<String> = match data_type {
                DataType::Array(inner) => inner.struct_fields().unwrap_or_default().into_iter().map(|(n, _)| n).collect(),
                _ => vec![],
            };
            strict(a, len, data_type, |row| {
                let n = row.iter().map(|x| items(x).len()).max().unwrap_or(0);
                Ok(Value::Array(
                    (0..n)
                        .map(|k| {
                            Value::Struct(
                                names.iter().cloned().zip(row.iter().map(|x| items(x).get(k).cloned().unwrap_or(Value::Null))).collect(),
                            )
                        })
                        .collect(),
                ))
            })
        }
        Func::MapFromArrays => strict(a, len, data_type, |row| {
            let (ks, vs) = (items(&row[0]), items(&row[1]));
            if ks.len() != vs.len() {
                return Err(Error::runtime(
                    "INVALID_PARAMETER_VALUE",
                    "The key array and value array of MapData must have the same length.",
                ));
            }
            build_map(ks.iter().cloned().zip(vs.iter().cloned()))
        }),
        Func::MapFromEntries => strict(a, len, data_type, |row| {
            let es = items(&row[0]);
            if es.iter().any(Value::is_null) {
                return Ok(Value::Null);
            }
            build_map(es.iter().map(|e| match e {
                Value::Struct(f) => {
                    (f.first().map(|x| x.1.clone()).unwrap_or(Value::Null), f.get(1).map(|x| x.1.clone()).unwrap_or(Value::Null))
                }
                _ => (Value::Null, Value::Null),
            }))
        }),
        Func::MapConcat => strict(a, len, data_type, |row| build_map(row.iter().flat_map(|m| entries(m).iter().cloned()))),
        Func::StrToMap => strict(a, len, data_type, |row| {
            let text = str_of(&row[0]);
            let pair = row.get(1).map(str_of).unwrap_or(",");
            let kv = row.get(2).map(str_of).unwrap_or(":");
            // Spark's delimiters are regular expressions.
            let compile = |p: &str| {
                regex_lite::Regex::new(p).map_err(|e| {
                    Error::runtime("INVALID_PARAMETER_VALUE.PATTERN", format!("[INVALID_PARAMETER_VALUE.PATTERN] The value of parameter(s) `regexp` in `str_to_map` is invalid: {e}. SQLSTATE: 22023"))
                })
            };
            let (pair_re, kv_re) = (compile(pair)?, compile(kv)?);
            build_map(pair_re.split(text).map(|p| {
                let mut it = kv_re.splitn(p, 2);
                let k = Value::String(it.next().unwrap_or("").to_string());
                (k, it.next().map_or(Value::Null, |v| Value::String(v.to_string())))
            }))
        }),
        Func::ArrayRepeat => rowwise(a, len, data_type, |row| {
            if row[1].is_null() {
                return Ok(Value::Null);
            }
            let n = int_of(&row[1]).max(0);
            if n > MAX_ARRAY_LENGTH {
                return Err(too_long(f, n));
            }
            Ok(Value::Array(vec![row[0].clone(); n as usize]))
        }),
        Func::Get => strict(a, len, data_type, |row| {
            let i = int_of(&row[1]);
            Ok(usize::try_from(i).ok().and_then(|i| items(&row[0]).get(i).cloned()).unwrap_or(Value::Null))
        }),
        other => Err(Error::internal(format!("{other:?} has no kernel here"))),
    }
}

/// Spark 4's `array_insert(arr, pos, item)`: 1-based; a negative position counts from the end,
/// -1 inserting after the last element; a position past either end pads with NULLs.
fn array_insert(xs: &[Value], pos: i64, item: &Value) -> Result<Vec<Value>> {
    let n = xs.len() as i64;
    let index = match pos {
        0 => {
            return Err(Error::runtime(
                "INVALID_INDEX_OF_ZERO",
                "[INVALID_INDEX_OF_ZERO] The index 0 is invalid. An index shall be either < 0 or > 0 (the first element has index 1). SQLSTATE: 22003",
            ))
        }
        p if p > 0 => p - 1,
        p => n + 1 + p,
    };
    if index.unsigned_abs() + n as u64 >= MAX_ARRAY_LENGTH as u64 {
        return Err(Error::runtime(
            "COLLECTION_SIZE_LIMIT_EXCEEDED.PARAMETER",
            format!("[COLLECTION_SIZE_LIMIT_EXCEEDED.PARAMETER] Can't create array with {} elements which exceeding the array size limit {MAX_ARRAY_LENGTH}, the value of parameter(s) `pos` in `array_insert` is invalid. SQLSTATE: 54000", index.unsigned_abs() + n as u64 + 1),
        ));
    }
    let mut out = xs.to_vec();
    if index < 0 {
        let mut front = vec![item.clone()];
        front.extend(std::iter::repeat_n(Value::Null, index.unsigned_abs() as usize));
        front.extend(out);
        return Ok(front);
    }
    let index = index as usize;
    if index > out.len() {
        out.resize(index, Value::Null);
    }
    out.insert(index, item.clone());
    Ok(out)
}

#[cfg(test)]
pub(crate) mod tests {
    //! Collection functions and the syntax around nested values, over a one-row batch; the
    //! expected values are Spark 4.3's (see tests/scenarios/types/ for the streaming cases).
    use std::sync::Arc;

    use arrow_array::{ArrayRef, Int32Array, RecordBatch};

    use crate::error::Error;
    use crate::plan::LogicalPlan;
    use crate::sql::{analyze, Catalog};
    use crate::types::{Column, DataType, Schema};
    use crate::value::Value;

    #[test]
    fn array_insert_counts_from_either_end_and_pads_with_nulls() {
        let xs: Vec<Value> = [5, 3, 2, 1].into_iter().map(Value::Int).collect();
        let ints = |v: Vec<Value>| v.into_iter().map(|x| if let Value::Int(i) = x { Some(i) } else { None }).collect::<Vec<_>>();
        let ins = |p, v| ints(super::array_insert(&xs, p, &Value::Int(v)).unwrap());
        assert_eq!(ins(-4, 4), vec![Some(5), Some(4), Some(3), Some(2), Some(1)]);
        assert_eq!(ins(-1, 0), vec![Some(5), Some(3), Some(2), Some(1), Some(0)]);
        assert_eq!(ins(6, 9), vec![Some(5), Some(3), Some(2), Some(1), None, Some(9)]);
        assert_eq!(ins(-6, 9), vec![Some(9), None, Some(5), Some(3), Some(2), Some(1)]);
        assert!(super::array_insert(&xs, 0, &Value::Int(9)).is_err());
    }
    #[cfg(target_arch = "wasm32")]
    use wasm_bindgen_test::wasm_bindgen_test as test;

    fn run(expr_sql: &str) -> Result<(Value, DataType), Error> {
        let schema = Schema::new(vec![Column { name: "i".into(), data_type: DataType::Int }]);
        let catalog = Catalog { sources: vec![("t".into(), schema.clone())], tables: vec![] };
        let q = analyze(&format!("SELECT {expr_sql} AS v FROM t"), &catalog)?;
        let LogicalPlan::Project { exprs, .. } = &q.plan else { panic!("a projection") };
        let batch = RecordBatch::try_new(schema.to_arrow(), vec![Arc::new(Int32Array::from(vec![1])) as ArrayRef]).unwrap();
        let out = exprs[0].evaluate_to_array(&batch)?;
        Ok((Value::from_array(out.as_ref(), 0), exprs[0].data_type()))
    }

    /// The value as the runner document writes it, and the type as Spark's DDL does.
    pub(crate) fn json(expr_sql: &str) -> (String, String) {
        let (v, t) = run(expr_sql).unwrap_or_else(|e| panic!("{expr_sql}: {e}"));
        (v.to_json().to_string(), t.ddl_name())
    }

    pub(crate) fn err(expr_sql: &str) -> Error {
        run(expr_sql).err().unwrap_or_else(|| panic!("{expr_sql}: expected an error"))
    }

    fn check(cases: &[(&str, &str, &str)]) {
        for (sql, value, t) in cases {
            assert_eq!(json(sql), (value.to_string(), t.to_string()), "{sql}");
        }
    }

    #[test]
    fn constructors_and_access() {
        check(&[
            ("named_struct('a', 1, 'b', 'x')", r#"{"a":1,"b":"x"}"#, "struct<a:int,b:string>"),
            ("struct(i, 'x')", r#"{"i":1,"col2":"x"}"#, "struct<i:int,col2:string>"),
            ("struct(1 AS x, 'b')", r#"{"x":1,"col2":"b"}"#, "struct<x:int,col2:string>"),
            ("array(1, 2.5D)", "[1.0,2.5]", "array<double>"),
            ("array()", "[]", "array<void>"),
            ("map(1, 'a')", r#"[[1,"a"]]"#, "map<int,string>"),
            ("map('a', 1)['a']", "1", "int"),
            ("map('a', 1)['b']", "null", "int"),
            ("element_at(map('a', 1), 'b')", "null", "int"),
            ("named_struct('a', 1, 'b', 'x')['b']", r#""x""#, "string"),
            ("named_struct('a', named_struct('c', 2)).a.c", "2", "int"),
            ("array(1, 2)[1]", "2", "int"),
            ("DATE'2026-01-01'", r#""2026-01-01""#, "date"),
            ("X'0AFF'", r#""Cv8=""#, "binary"),
            ("1::string", r#""1""#, "string"),
            ("'2026-01-02'::date", r#""2026-01-02""#, "date"),
            ("1 IS DISTINCT FROM NULL", "true", "boolean"),
            ("NULL IS NOT DISTINCT FROM NULL", "true", "boolean"),
            ("named_struct('a', 1) = named_struct('a', 1)", "true", "boolean"),
            ("CAST(named_struct('a', 1, 'b', NULL) AS STRING)", r#""{1, null}""#, "string"),
            ("CAST(map(1, NULL) AS STRING)", r#""{1 -> null}""#, "string"),
            ("CAST(X'414243' AS STRING)", r#""ABC""#, "string"),
            ("CAST(TIMESTAMP'2026-01-02 10:00:00' AS DATE)", r#""2026-01-02""#, "date"),
            ("CAST(array('1', NULL) AS ARRAY<INT>)", "[1,null]", "array<int>"),
        ]);
        assert_eq!(err("array(1, 2)[5]").spark_condition, Some("INVALID_ARRAY_INDEX"));
        assert_eq!(err("map(1, 'a', 1, 'b')").spark_condition, Some("DUPLICATED_MAP_KEY"));
        assert_eq!(err("map(NULL, 'a')").spark_condition, Some("NULL_MAP_KEY"));
        assert_eq!(err("CAST('x' AS DATE)").spark_condition, Some("CAST_INVALID_INPUT"));
        let e = err("named_struct('a', 1).z");
        assert_eq!(e.spark_condition, Some("FIELD_NOT_FOUND"));
        assert!(e.position.is_some(), "{e}");
        assert!(err("DATE'2026-13-01'").message.contains("INVALID_TYPED_LITERAL"));
    }

    #[test]
    fn collection_functions_give_spark_results() {
        check(&[
            ("sequence(5, 1)", "[5,4,3,2,1]", "array<int>"),
            ("sequence(1L, 3L)", "[1,2,3]", "array<bigint>"),
            ("slice(array(1, 2, 3), -2, 5)", "[2,3]", "array<int>"),
            ("slice(array(1, 2, 3), 5, 1)", "[]", "array<int>"),
            ("array_join(array(1, NULL, 3), ',', 'x')", r#""1,x,3""#, "string"),
            ("array_join(array('a', NULL), '-')", r#""a""#, "string"),
            ("arrays_zip(array(1, 2), array('a'))", r#"[{"0":1,"1":"a"},{"0":2,"1":null}]"#, "array<struct<0:int,1:string>>"),
            ("str_to_map('a=1;b', ';', '=')", r#"{"a":"1","b":null}"#, "map<string,string>"),
            ("array_position(array(3, 2, 1), 1)", "3", "bigint"),
            ("array_contains(array(1, NULL), 2)", "null", "boolean"),
            ("array_contains(array(1, NULL), 1)", "true", "boolean"),
            ("flatten(array(array(1), NULL))", "null", "array<int>"),
            ("flatten(array(array(1), array(2, 3)))", "[1,2,3]", "array<int>"),
            ("array_distinct(array(1, NULL, 1, NULL, 2))", "[1,null,2]", "array<int>"),
            ("array_union(array(1, 2), array(2, 3))", "[1,2,3]", "array<int>"),
            ("array_intersect(array(1, 2, 2), array(2))", "[2]", "array<int>"),
            ("array_except(array(1, 2, 3), array(2))", "[1,3]", "array<int>"),
            ("array_max(array(1, NULL, 3))", "3", "int"),
            ("array_remove(array(1, 2, 1), 1)", "[2]", "array<int>"),
            ("array_repeat('a', 2)", r#"["a","a"]"#, "array<string>"),
            ("arrays_overlap(array(1), array(2, NULL))", "null", "boolean"),
            ("array_compact(array(1, NULL))", "[1]", "array<int>"),
            ("array_append(array(1), 2)", "[1,2]", "array<int>"),
            ("array_prepend(array(1), 0)", "[0,1]", "array<int>"),
            ("map_concat(map(1, 'a'), map(2, 'b'))", r#"[[1,"a"],[2,"b"]]"#, "map<int,string>"),
            ("map_entries(map(1, 'a'))", r#"[{"key":1,"value":"a"}]"#, "array<struct<key:int,value:string>>"),
            ("map_from_entries(array(struct(1, 'a')))", r#"[[1,"a"]]"#, "map<int,string>"),
            ("map_keys(map('a', 1, 'b', 2))", r#"["a","b"]"#, "array<string>"),
            ("map_values(map('a', 1, 'b', 2))", "[1,2]", "array<int>"),
            ("map_contains_key(map('a', 1), 'a')", "true", "boolean"),
            ("size(map(1, 2))", "1", "int"),
            ("cardinality(array(1))", "1", "int"),
            ("reverse(array(1, 2))", "[2,1]", "array<int>"),
            ("concat(array(1), array(2L))", "[1,2]", "array<bigint>"),
            ("get(array(1, 2), 5)", "null", "int"),
            ("map_from_arrays(array(1, 2), array('a', 'b'))", r#"[[1,"a"],[2,"b"]]"#, "map<int,string>"),
        ]);
        assert!(err("sequence(1, 5, -1)").message.contains("Illegal sequence boundaries: 1 to 5 by -1"));
        assert_eq!(err("slice(array(1, 2, 3), 0, 1)").spark_condition, Some("INVALID_PARAMETER_VALUE.START"));
        assert_eq!(err("slice(array(1, 2, 3), 1, -1)").spark_condition, Some("INVALID_PARAMETER_VALUE.LENGTH"));
        assert_eq!(err("str_to_map('a:1,b:2,a:3')").spark_condition, Some("DUPLICATED_MAP_KEY"));
        assert!(err("map_from_arrays(array(1, 2), array('a'))").message.contains("same length"));
        assert_eq!(err("array_contains(i, 1)").spark_condition, Some("DATATYPE_MISMATCH.UNEXPECTED_INPUT_TYPE"));
    }
}
