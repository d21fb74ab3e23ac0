//! Row keys as compact bytes: several key columns of one row written into a reusable buffer, so
//! hash lookups by key need no per-row `Value`s. The same encoding is produced from `Value`s
//! ([`encode_values`]), so a key read back from a checkpoint can be checked against its values.

use arrow_array::cast::AsArray;
use arrow_array::types::{Float64Type, Int32Type, Int64Type, TimestampMicrosecondType};
use arrow_array::{Array, ArrayRef};
use arrow_schema::DataType as ArrowType;

use crate::value::Value;

/// Writes row `i` of `columns` into `buf` (cleared first). Returns false when a key is NULL: in
/// an equi-join NULL matches nothing.
pub fn encode_row(columns: &[ArrayRef], i: usize, buf: &mut Vec<u8>) -> bool {
    buf.clear();
    for c in columns {
        if is_null(c.as_ref(), i) {
            return false;
        }
        encode_value(c.as_ref(), i, buf);
    }
    true
}

/// Writes row `i` of `columns` into `buf` with NULLs encoded (grouping keys may be NULL: all
/// NULLs of a key column form one group, as in SQL's GROUP BY).
pub fn encode_group(columns: &[ArrayRef], i: usize, buf: &mut Vec<u8>) {
    buf.clear();
    for c in columns {
        encode_nullable(c.as_ref(), i, buf);
    }
}

/// [`encode_group`] of a row already read into values.
pub fn encode_values(values: &[Value], buf: &mut Vec<u8>) {
    buf.clear();
    for v in values {
        encode_nullable_value(v, buf);
    }
}

/// A column of the `NULL` type has no validity buffer in Arrow, yet every row of it is NULL.
fn is_null(c: &dyn Array, i: usize) -> bool {
    c.data_type() == &ArrowType::Null || c.is_null(i)
}

fn encode_nullable(c: &dyn Array, i: usize, buf: &mut Vec<u8>) {
    if is_null(c, i) {
        buf.push(0);
    } else {
        buf.push(1);
        encode_value(c, i, buf);
    }
}

fn normal_double(v: f64) -> f64 {
    // Spark treats -0.0 = 0.0 and NaN = NaN in keys.
    if v == 0.0 {
        0.0
    } else if v.is_nan() {
        f64::NAN
    } else {
        v
    }
}

fn encode_str(s: &str, buf: &mut Vec<u8>) {
    buf.extend_from_slice(&(s.len() as u32).to_le_bytes());
    buf.extend_from_slice(s.as_bytes());
}

fn encode_value(c: &dyn Array, i: usize, buf: &mut Vec<u8>) {
    match c.data_type() {
        ArrowType::Utf8 => encode_str(c.as_string::<i32>().value(i), buf),
        ArrowType::Int32 => buf.extend_from_slice(&c.as_primitive::<Int32Type>().value(i).to_le_bytes()),
        ArrowType::Int64 => buf.extend_from_slice(&c.as_primitive::<Int64Type>().value(i).to_le_bytes()),
        ArrowType::Float64 => buf.extend_from_slice(&normal_double(c.as_primitive::<Float64Type>().value(i)).to_bits().to_le_bytes()),
        ArrowType::Boolean => buf.push(c.as_boolean().value(i) as u8),
        ArrowType::Timestamp(_, _) => buf.extend_from_slice(&c.as_primitive::<TimestampMicrosecondType>().value(i).to_le_bytes()),
        // The `{start, end}` of a window: both always set.
        ArrowType::Struct(_) => {
            let s = c.as_struct();
            for col in s.columns() {
                encode_value(col.as_ref(), i, buf);
            }
        }
        // Length first, then each element with its NULL marker: [a, b] | [c] and [a] | [b, c]
        // differ, and [NULL] differs from [].
        ArrowType::List(_) => {
            let items = c.as_list::<i32>().value(i);
            buf.extend_from_slice(&(items.len() as u32).to_le_bytes());
            for j in 0..items.len() {
                encode_nullable(items.as_ref(), j, buf);
            }
        }
        // Every type the engine builds is above (`DataType::to_arrow`); a NULL-typed column
        // never gets here (its rows are NULL).
        _ => {}
    }
}

fn encode_nullable_value(v: &Value, buf: &mut Vec<u8>) {
    if v.is_null() {
        buf.push(0);
    } else {
        buf.push(1);
        encode_plain_value(v, buf);
    }
}

fn encode_plain_value(v: &Value, buf: &mut Vec<u8>) {
    match v {
        Value::Null => {}
        Value::String(s) => encode_str(s, buf),
        Value::Int(x) => buf.extend_from_slice(&x.to_le_bytes()),
        Value::BigInt(x) => buf.extend_from_slice(&x.to_le_bytes()),
        Value::Double(x) => buf.extend_from_slice(&normal_double(*x).to_bits().to_le_bytes()),
        Value::Boolean(b) => buf.push(*b as u8),
        Value::Timestamp(t) => buf.extend_from_slice(&t.to_le_bytes()),
        Value::Window { start, end } => {
            buf.extend_from_slice(&start.to_le_bytes());
            buf.extend_from_slice(&end.to_le_bytes());
        }
        Value::Array(items) => {
            buf.extend_from_slice(&(items.len() as u32).to_le_bytes());
            for item in items {
                encode_nullable_value(item, buf);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;

    use arrow_array::builder::{ListBuilder, StringBuilder};
    #[cfg(target_arch = "wasm32")]
    use wasm_bindgen_test::wasm_bindgen_test as test;

    use crate::types::DataType;
    use crate::value::values_to_array;

    #[test]
    fn distinct_values_give_distinct_keys_and_nulls_none() {
        let a: ArrayRef = Arc::new(arrow_array::StringArray::from(vec![Some("ab"), Some("a"), None]));
        let b: ArrayRef = Arc::new(arrow_array::StringArray::from(vec![Some("c"), Some("bc"), Some("x")]));
        let cols = vec![a, b];
        let (mut k0, mut k1, mut k2) = (Vec::new(), Vec::new(), Vec::new());
        assert!(encode_row(&cols, 0, &mut k0));
        assert!(encode_row(&cols, 1, &mut k1));
        assert_ne!(k0, k1, "length prefixes keep ab|c and a|bc apart");
        assert!(!encode_row(&cols, 2, &mut k2));
    }

    #[test]
    fn negative_zero_equals_zero() {
        let a: ArrayRef = Arc::new(arrow_array::Float64Array::from(vec![0.0, -0.0]));
        let (mut k0, mut k1) = (Vec::new(), Vec::new());
        encode_row(std::slice::from_ref(&a), 0, &mut k0);
        encode_row(std::slice::from_ref(&a), 1, &mut k1);
        assert_eq!(k0, k1);
    }

    fn group_keys(c: &ArrayRef) -> Vec<Vec<u8>> {
        (0..c.len())
            .map(|i| {
                let mut buf = Vec::new();
                encode_group(std::slice::from_ref(c), i, &mut buf);
                buf
            })
            .collect()
    }

    #[test]
    fn equal_arrays_are_one_key_and_different_ones_are_not() {
        // Rows: [a, b], [a, b], [a], [b], [a, NULL], [a, NULL], [], NULL, [NULL]
        let mut b = ListBuilder::new(StringBuilder::new());
        for row in [
            vec![Some("a"), Some("b")],
            vec![Some("a"), Some("b")],
            vec![Some("a")],
            vec![Some("b")],
            vec![Some("a"), None],
            vec![Some("a"), None],
            vec![],
        ] {
            for item in row {
                b.values().append_option(item);
            }
            b.append(true);
        }
        b.append(false);
        b.values().append_null();
        b.append(true);
        let c: ArrayRef = Arc::new(b.finish());
        let k = group_keys(&c);
        assert_eq!(k[0], k[1], "equal arrays group together");
        assert_eq!(k[4], k[5], "NULL elements are equal to each other");
        for (i, j) in [(0, 2), (2, 3), (0, 4), (2, 4), (6, 7), (6, 8), (7, 8)] {
            assert_ne!(k[i], k[j], "rows {i} and {j} differ");
        }
        let mut row = Vec::new();
        assert!(!encode_row(std::slice::from_ref(&c), 7, &mut row), "a NULL array matches nothing in a join");
        assert!(encode_row(std::slice::from_ref(&c), 8, &mut row), "an array holding a NULL is a value");
    }

    #[test]
    fn a_null_typed_column_is_one_null_group() {
        let c: ArrayRef = arrow_array::new_null_array(&ArrowType::Null, 3);
        let k = group_keys(&c);
        assert!(k.iter().all(|x| x == &vec![0u8]), "{k:?}");
        assert!(!encode_row(std::slice::from_ref(&c), 0, &mut Vec::new()));
    }

    #[test]
    fn values_encode_as_their_columns_do() {
        let cases: Vec<(DataType, Vec<Value>)> = vec![
            (DataType::String, vec![Value::String("x".into()), Value::Null, Value::String(String::new())]),
            (DataType::Int, vec![Value::Int(-1), Value::Null]),
            (DataType::BigInt, vec![Value::BigInt(i64::MIN), Value::Null]),
            (DataType::Double, vec![Value::Double(-0.0), Value::Double(f64::NAN), Value::Double(1.5), Value::Null]),
            (DataType::Boolean, vec![Value::Boolean(true), Value::Null]),
            (DataType::Timestamp, vec![Value::Timestamp(1), Value::Null]),
            (DataType::Window, vec![Value::Window { start: 0, end: 10 }, Value::Null]),
            (
                DataType::Array(Box::new(DataType::String)),
                vec![Value::Array(vec![Value::String("a".into()), Value::Null]), Value::Array(vec![]), Value::Null],
            ),
            (DataType::Null, vec![Value::Null, Value::Null]),
        ];
        for (t, values) in cases {
            let c = values_to_array(&values, &t);
            for (i, v) in values.iter().enumerate() {
                let mut from_value = Vec::new();
                encode_values(std::slice::from_ref(v), &mut from_value);
                assert_eq!(group_keys(&c)[i], from_value, "{t:?} row {i}: {v:?}");
            }
        }
    }
}
