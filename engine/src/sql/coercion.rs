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
        (Date, Timestamp) | (Timestamp, Date) => Timestamp,
        (Decimal(p1, s1), Decimal(p2, s2)) => {
            let (p, s) = crate::types::decimal::wider((*p1, *s1), (*p2, *s2));
            Decimal(p, s)
        }
        (Int | BigInt, Decimal(p, s)) | (Decimal(p, s), Int | BigInt) => {
            let other = if *a == BigInt || *b == BigInt { BigInt } else { Int };
            let (p, s) = crate::types::decimal::wider((*p, *s), crate::types::decimal::for_integral(other == BigInt));
            Decimal(p, s)
        }
        (Double, Decimal(..)) | (Decimal(..), Double) => Double,
        (Array(x), Array(y)) => Array(Box::new(wider_type(x, y)?)),
        (Map(k, v), Map(k2, v2)) => Map(Box::new(wider_type(k, k2)?), Box::new(wider_type(v, v2)?)),
        (Struct(x), Struct(y)) if x.len() == y.len() && x.iter().zip(y).all(|((a, _), (b, _))| a.eq_ignore_ascii_case(b)) => {
            Struct(x.iter().zip(y).map(|((n, a), (_, b))| Some((n.clone(), wider_type(a, b)?))).collect::<Option<Vec<_>>>()?)
        }
        _ => return None,
    })
}
