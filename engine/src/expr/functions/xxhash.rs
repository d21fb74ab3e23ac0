//! `xxhash64(a, b, ...)`: Spark's 64-bit xxHash of its arguments, seed 42, each argument hashed
//! with the previous result as its seed (a NULL leaves it unchanged), as `hash` does with
//! Murmur3. Spark's XXH64 is the reference algorithm over each value's little-endian bytes.

use arrow_array::ArrayRef;

use super::*;

pub(super) fn check(f: Func, a: Vec<Expr>, c: &Checks) -> Result<(Vec<Expr>, DataType)> {
    let (a, _) = super::murmur::check(f, a, c)?;
    Ok((a, DataType::BigInt))
}

pub(super) fn kernel(_f: Func, a: &[ArrayRef], _raw: &[Columnar], data_type: &DataType, len: usize) -> Result<ArrayRef> {
    rowwise(a, len, data_type, |row| Ok(Value::BigInt(row.iter().fold(42, |seed, v| hash_value(v, seed as u64) as i64))))
}

fn hash_value(v: &Value, seed: u64) -> u64 {
    match v {
        Value::Null => seed,
        Value::Boolean(b) => xxh64(&i32::from(*b).to_le_bytes(), seed),
        Value::Int(i) | Value::Date(i) => xxh64(&i.to_le_bytes(), seed),
        Value::BigInt(l) | Value::Timestamp(l) => xxh64(&l.to_le_bytes(), seed),
        // Spark hashes -0.0 as 0.0.
        Value::Double(d) => xxh64(&(if *d == 0.0 { 0 } else { d.to_bits() }).to_le_bytes(), seed),
        Value::String(s) => xxh64(s.as_bytes(), seed),
        Value::Binary(b) => xxh64(b, seed),
        Value::Array(items) => items.iter().fold(seed, |h, x| hash_value(x, h)),
        Value::Struct(fields) => fields.iter().fold(seed, |h, (_, x)| hash_value(x, h)),
        Value::Map(entries) => entries.iter().fold(seed, |h, (k, x)| hash_value(x, hash_value(k, h))),
        Value::Window { start, end } => hash_value(&Value::Timestamp(*end), hash_value(&Value::Timestamp(*start), seed)),
        Value::Decimal { unscaled, precision, .. } if *precision <= 18 => xxh64(&(*unscaled as i64).to_le_bytes(), seed),
        Value::Decimal { unscaled, .. } => xxh64(&crate::types::decimal::big_integer_bytes(*unscaled), seed),
    }
}

const P1: u64 = 0x9E37_79B1_85EB_CA87;
const P2: u64 = 0xC2B2_AE3D_27D4_EB4F;
const P3: u64 = 0x1656_67B1_9E37_79F9;
const P4: u64 = 0x85EB_CA77_C2B2_AE63;
const P5: u64 = 0x27D4_EB2F_1656_67C5;

fn round(acc: u64, lane: u64) -> u64 {
    acc.wrapping_add(lane.wrapping_mul(P2)).rotate_left(31).wrapping_mul(P1)
}

fn merge(h: u64, v: u64) -> u64 {
    (h ^ round(0, v)).wrapping_mul(P1).wrapping_add(P4)
}

fn word(b: &[u8]) -> u64 {
    u64::from_le_bytes([b[0], b[1], b[2], b[3], b[4], b[5], b[6], b[7]])
}

/// The reference XXH64 of `input` with `seed`.
fn xxh64(input: &[u8], seed: u64) -> u64 {
    let mut rest = input;
    let mut h = if input.len() >= 32 {
        let mut v = [seed.wrapping_add(P1).wrapping_add(P2), seed.wrapping_add(P2), seed, seed.wrapping_sub(P1)];
        while rest.len() >= 32 {
            for (k, lane) in v.iter_mut().enumerate() {
                *lane = round(*lane, word(&rest[8 * k..]));
            }
            rest = &rest[32..];
        }
        let mut h =
            v[0].rotate_left(1).wrapping_add(v[1].rotate_left(7)).wrapping_add(v[2].rotate_left(12)).wrapping_add(v[3].rotate_left(18));
        for lane in v {
            h = merge(h, lane);
        }
        h
    } else {
        seed.wrapping_add(P5)
    };
    h = h.wrapping_add(input.len() as u64);
    while rest.len() >= 8 {
        h = (h ^ round(0, word(rest))).rotate_left(27).wrapping_mul(P1).wrapping_add(P4);
        rest = &rest[8..];
    }
    if rest.len() >= 4 {
        let k = u64::from(u32::from_le_bytes([rest[0], rest[1], rest[2], rest[3]]));
        h = (h ^ k.wrapping_mul(P1)).rotate_left(23).wrapping_mul(P2).wrapping_add(P3);
        rest = &rest[4..];
    }
    for &b in rest {
        h = (h ^ u64::from(b).wrapping_mul(P5)).rotate_left(11).wrapping_mul(P1);
    }
    h ^= h >> 33;
    h = h.wrapping_mul(P2);
    h ^= h >> 29;
    h = h.wrapping_mul(P3);
    h ^ (h >> 32)
}

#[cfg(test)]
mod tests {
    use super::*;
    #[cfg(target_arch = "wasm32")]
    use wasm_bindgen_test::wasm_bindgen_test as test;

    fn hash(values: &[Value]) -> i64 {
        values.iter().fold(42u64, |seed, v| hash_value(v, seed)) as i64
    }

    #[test]
    fn values_hash_as_in_spark() {
        // Spark 4.3's documented example: xxhash64('Spark', array(123), 2).
        assert_eq!(hash(&[Value::String("Spark".into()), Value::Array(vec![Value::Int(123)]), Value::Int(2)]), 5602566077635097486);
        // The reference test vectors: XXH64 of the empty input with seed 0, and of "a".
        assert_eq!(xxh64(b"", 0), 0xEF46_DB37_51D8_E999);
        assert_eq!(xxh64(b"a", 0), 0xD24E_C4F1_A98C_6E5B);
        assert_eq!(hash(&[Value::Null]), 42);
    }
}
