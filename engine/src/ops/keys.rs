//! Row keys as compact bytes: several key columns of one row written into a reusable buffer, so
//! hash lookups by key allocate nothing per row.

use arrow_array::cast::AsArray;
use arrow_array::types::{Float64Type, Int32Type, Int64Type, TimestampMicrosecondType};
use arrow_array::{Array, ArrayRef};
use arrow_schema::DataType as ArrowType;

/// Writes row `i` of `columns` into `buf` (cleared first). Returns false when a key is NULL: in
/// an equi-join NULL matches nothing.
pub fn encode_row(columns: &[ArrayRef], i: usize, buf: &mut Vec<u8>) -> bool {
    buf.clear();
    for c in columns {
        if c.is_null(i) {
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
        if c.is_null(i) {
            buf.push(0);
        } else {
            buf.push(1);
            encode_value(c.as_ref(), i, buf);
        }
    }
}

fn encode_value(c: &dyn Array, i: usize, buf: &mut Vec<u8>) {
    match c.data_type() {
        ArrowType::Utf8 => {
            let s = c.as_string::<i32>().value(i);
            buf.extend_from_slice(&(s.len() as u32).to_le_bytes());
            buf.extend_from_slice(s.as_bytes());
        }
        ArrowType::Int32 => buf.extend_from_slice(&c.as_primitive::<Int32Type>().value(i).to_le_bytes()),
        ArrowType::Int64 => buf.extend_from_slice(&c.as_primitive::<Int64Type>().value(i).to_le_bytes()),
        ArrowType::Float64 => {
            // Spark treats -0.0 = 0.0 and NaN = NaN in keys.
            let v = c.as_primitive::<Float64Type>().value(i);
            let v = if v == 0.0 {
                0.0
            } else if v.is_nan() {
                f64::NAN
            } else {
                v
            };
            buf.extend_from_slice(&v.to_bits().to_le_bytes());
        }
        ArrowType::Boolean => buf.push(c.as_boolean().value(i) as u8),
        ArrowType::Timestamp(_, _) => buf.extend_from_slice(&c.as_primitive::<TimestampMicrosecondType>().value(i).to_le_bytes()),
        ArrowType::Struct(_) => {
            let s = c.as_struct();
            for col in s.columns() {
                encode_value(col.as_ref(), i, buf);
            }
        }
        other => buf.extend_from_slice(format!("{other}:{i}").as_bytes()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;
    #[cfg(target_arch = "wasm32")]
    use wasm_bindgen_test::wasm_bindgen_test as test;

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
}
