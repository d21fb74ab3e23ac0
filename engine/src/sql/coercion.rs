//! Spark's implicit type coercion: which type two operands meet at.

use crate::types::DataType;

/// The type both sides are cast to when they meet in a comparison, CASE, UNION or COALESCE.
pub fn wider_type(a: &DataType, b: &DataType) -> Option<DataType> {
    use DataType::*;
    if a == b {
        return Some(a.clone());
    }
    Some(match (a, b) {
        (Null, t) | (t, Null) => t.clone(),
        (Int, BigInt) | (BigInt, Int) => BigInt,
        (Int | BigInt, Double) | (Double, Int | BigInt) => Double,
        _ => return None,
    })
}
