//! `hash(a, b, ...)`: Spark's Murmur3 x86 32-bit hash of its arguments, seed 42, each argument
//! hashed with the previous result as its seed (a NULL leaves it unchanged), so that the values
//! equal Spark's, which also partitions by them.

use arrow_array::ArrayRef;

use super::*;

pub(super) fn check(f: Func, a: Vec<Expr>, c: &Checks) -> Result<(Vec<Expr>, DataType)> {
    c.arity(1, usize::MAX)?;
    for e in &a {
        if contains_unhashable(&e.data_type()) {
            return Err(mismatch(f, e, "a type other than MAP"));
        }
    }
    Ok((a, DataType::Int))
}

/// Spark refuses to hash a map (its entries have no order) and the engine has no window values to hash.
fn contains_unhashable(t: &DataType) -> bool {
    match t {
        DataType::Map(..) | DataType::Window => true,
        DataType::Array(inner) => contains_unhashable(inner),
        DataType::Struct(fields) => fields.iter().any(|(_, t)| contains_unhashable(t)),
        _ => false,
    }
}

pub(super) fn kernel(_f: Func, a: &[ArrayRef], _raw: &[Columnar], data_type: &DataType, len: usize) -> Result<ArrayRef> {
    rowwise(a, len, data_type, |row| Ok(Value::Int(row.iter().fold(42, |seed, v| hash_value(v, seed)))))
}

fn hash_value(v: &Value, seed: i32) -> i32 {
    match v {
        Value::Null => seed,
        Value::Boolean(b) => hash_int(i32::from(*b), seed),
        Value::Int(i) | Value::Date(i) => hash_int(*i, seed),
        Value::BigInt(l) | Value::Timestamp(l) => hash_long(*l, seed),
        // Spark hashes -0.0 as 0.0.
        Value::Double(d) => hash_long(if *d == 0.0 { 0 } else { d.to_bits() as i64 }, seed),
        Value::String(s) => hash_bytes(s.as_bytes(), seed),
        Value::Binary(b) => hash_bytes(b, seed),
        Value::Array(items) => items.iter().fold(seed, |h, x| hash_value(x, h)),
        Value::Struct(fields) => fields.iter().fold(seed, |h, (_, x)| hash_value(x, h)),
        Value::Map(entries) => entries.iter().fold(seed, |h, (k, x)| hash_value(x, hash_value(k, h))),
        Value::Window { start, end } => hash_long(*end, hash_long(*start, seed)),
        // Spark hashes a decimal of up to 18 digits as its unscaled long, a wider one as the
        // bytes of its unscaled BigInteger.
        Value::Decimal { unscaled, precision, .. } if *precision <= 18 => hash_long(*unscaled as i64, seed),
        Value::Decimal { unscaled, .. } => hash_bytes(&crate::types::decimal::big_integer_bytes(*unscaled), seed),
    }
}

fn mix_k1(k1: i32) -> i32 {
    k1.wrapping_mul(0xcc9e2d51_u32 as i32).rotate_left(15).wrapping_mul(0x1b873593)
}

fn mix_h1(h1: i32, k1: i32) -> i32 {
    (h1 ^ k1).rotate_left(13).wrapping_mul(5).wrapping_add(0xe6546b64_u32 as i32)
}

fn fmix(h1: i32, len: i32) -> i32 {
    let mut h = (h1 ^ len) as u32;
    h ^= h >> 16;
    h = h.wrapping_mul(0x85ebca6b);
    h ^= h >> 13;
    h = h.wrapping_mul(0xc2b2ae35);
    h ^= h >> 16;
    h as i32
}

fn hash_int(i: i32, seed: i32) -> i32 {
    fmix(mix_h1(seed, mix_k1(i)), 4)
}

fn hash_long(l: i64, seed: i32) -> i32 {
    let h1 = mix_h1(seed, mix_k1(l as i32));
    fmix(mix_h1(h1, mix_k1((l >> 32) as i32)), 8)
}

/// Spark's `hashUnsafeBytes`: whole little-endian words, then each remaining byte (sign-extended)
/// mixed in on its own, which differs from the reference Murmur3 tail.
pub(crate) fn hash_bytes(b: &[u8], seed: i32) -> i32 {
    let aligned = b.len() - b.len() % 4;
    let mut h1 = seed;
    for w in b[..aligned].chunks_exact(4) {
        h1 = mix_h1(h1, mix_k1(i32::from_le_bytes([w[0], w[1], w[2], w[3]])));
    }
    for &byte in &b[aligned..] {
        h1 = mix_h1(h1, mix_k1(i32::from(byte as i8)));
    }
    fmix(h1, b.len() as i32)
}

#[cfg(test)]
mod tests {
    use super::*;
    #[cfg(target_arch = "wasm32")]
    use wasm_bindgen_test::wasm_bindgen_test as test;

    fn hash(values: &[Value]) -> i32 {
        values.iter().fold(42, |seed, v| hash_value(v, seed))
    }

    #[test]
    fn values_hash_as_in_spark() {
        // Spark 4.3: SELECT hash('Spark', array(123), 2) is -1321691492.
        assert_eq!(hash(&[Value::String("Spark".into()), Value::Array(vec![Value::Int(123)]), Value::Int(2)]), -1321691492);
        // SELECT hash(1), hash(1L), hash('a'), hash(NULL), hash(0.0D) = hash(-0.0D).
        assert_eq!(hash(&[Value::Int(1)]), -559580957);
        assert_eq!(hash(&[Value::BigInt(1)]), -1712319331);
        assert_eq!(hash(&[Value::Null]), 42);
        assert_eq!(hash(&[Value::Double(-0.0)]), -1670924195);
        assert_eq!(hash(&[Value::Double(0.0)]), -1670924195);
        assert_eq!(hash(&[Value::Boolean(true)]), -559580957);
        assert_eq!(hash(&[Value::String("a".into())]), 1485273170);
        assert_eq!(hash(&[Value::String("abcde".into())]), 814637928);
        assert_eq!(hash(&[Value::Binary(vec![0x01, 0xFF])]), 362957888);
        assert_eq!(hash(&[Value::Struct(vec![("a".into(), Value::Int(1)), ("b".into(), Value::String("x".into()))])]), -1305545736);
    }
}
