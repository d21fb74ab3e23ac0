//! Decoding state read back from a checkpoint, which may have been written by anyone: postcard
//! with a nesting limit (serde's derived decoders recurse once per level, so a value nested a
//! million deep would overflow the stack, natively and far sooner under wasm's 1 MB) and no bytes
//! left over. Lengths are safe already: serde preallocates at most 1 MB for a sequence whatever
//! length it announces, and postcard checks a string's or bytes' length against the input.

use std::cell::Cell;

use serde::de::{self, DeserializeOwned, DeserializeSeed, Deserializer, EnumAccess, MapAccess, SeqAccess, VariantAccess, Visitor};

/// How deep a decoded value may nest (every sequence, map, option, enum and newtype is a level).
/// State values nest a few levels (an operator's struct, a list of rows, a row, a value); a
/// `Value::Array` costs two levels per nesting.
pub const MAX_DEPTH: usize = 128;

/// Decodes `bytes` as one `T`, refusing nesting deeper than [`MAX_DEPTH`] and trailing bytes.
pub fn decode<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, String> {
    TOO_DEEP.with(|t| t.set(false));
    let mut de = postcard::Deserializer::from_bytes(bytes);
    let value = T::deserialize(Bounded { de: &mut de, depth: 0 }).map_err(|e| match TOO_DEEP.with(Cell::get) {
        true => format!("it nests deeper than {MAX_DEPTH} levels"),
        false => e.to_string(),
    })?;
    let rest = de.finalize().map_err(|e| e.to_string())?;
    if !rest.is_empty() {
        return Err(format!("{} bytes follow the encoded value", rest.len()));
    }
    Ok(value)
}

thread_local! {
    /// Set when decoding stopped at the depth limit: postcard drops custom error messages.
    static TOO_DEEP: Cell<bool> = const { Cell::new(false) };
}

fn too_deep<E: de::Error>() -> E {
    TOO_DEEP.with(|t| t.set(true));
    E::custom(format_args!("it nests deeper than {MAX_DEPTH} levels"))
}

/// A deserializer at nesting `depth`: everything it hands to a visitor is one level deeper.
struct Bounded<D> {
    de: D,
    depth: usize,
}

impl<D> Bounded<D> {
    fn visitor<V>(&self, visitor: V) -> BoundedVisitor<V> {
        BoundedVisitor { visitor, depth: self.depth }
    }
}

macro_rules! forward {
    ($($method:ident($($arg:ident: $ty:ty),*)),* $(,)?) => {
        $(
            fn $method<V: Visitor<'de>>(self, $($arg: $ty,)* visitor: V) -> Result<V::Value, Self::Error> {
                if self.depth > MAX_DEPTH {
                    return Err(too_deep());
                }
                let visitor = self.visitor(visitor);
                self.de.$method($($arg,)* visitor)
            }
        )*
    };
}

impl<'de, D: Deserializer<'de>> Deserializer<'de> for Bounded<D> {
    type Error = D::Error;

    forward! {
        deserialize_any(), deserialize_bool(), deserialize_i8(), deserialize_i16(), deserialize_i32(), deserialize_i64(),
        deserialize_i128(), deserialize_u8(), deserialize_u16(), deserialize_u32(), deserialize_u64(), deserialize_u128(),
        deserialize_f32(), deserialize_f64(), deserialize_char(), deserialize_str(), deserialize_string(), deserialize_bytes(),
        deserialize_byte_buf(), deserialize_option(), deserialize_unit(), deserialize_unit_struct(name: &'static str),
        deserialize_newtype_struct(name: &'static str), deserialize_seq(), deserialize_tuple(len: usize),
        deserialize_tuple_struct(name: &'static str, len: usize), deserialize_map(),
        deserialize_struct(name: &'static str, fields: &'static [&'static str]),
        deserialize_enum(name: &'static str, variants: &'static [&'static str]), deserialize_identifier(), deserialize_ignored_any(),
    }

    fn is_human_readable(&self) -> bool {
        self.de.is_human_readable()
    }
}

/// Hands whatever the inner visitor nests into to a deserializer one level deeper.
struct BoundedVisitor<V> {
    visitor: V,
    depth: usize,
}

/// Forwards a leaf: a value that nests nothing.
macro_rules! leaf {
    ($($method:ident($ty:ty)),* $(,)?) => {
        $(
            fn $method<E: de::Error>(self, v: $ty) -> Result<Self::Value, E> {
                self.visitor.$method(v)
            }
        )*
    };
}

impl<'de, V: Visitor<'de>> Visitor<'de> for BoundedVisitor<V> {
    type Value = V::Value;

    fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        self.visitor.expecting(f)
    }

    leaf! {
        visit_bool(bool), visit_i8(i8), visit_i16(i16), visit_i32(i32), visit_i64(i64), visit_i128(i128), visit_u8(u8),
        visit_u16(u16), visit_u32(u32), visit_u64(u64), visit_u128(u128), visit_f32(f32), visit_f64(f64), visit_char(char),
        visit_str(&str), visit_borrowed_str(&'de str), visit_string(String), visit_bytes(&[u8]), visit_borrowed_bytes(&'de [u8]),
        visit_byte_buf(Vec<u8>),
    }

    fn visit_none<E: de::Error>(self) -> Result<Self::Value, E> {
        self.visitor.visit_none()
    }

    fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
        self.visitor.visit_unit()
    }

    fn visit_some<D: Deserializer<'de>>(self, de: D) -> Result<Self::Value, D::Error> {
        self.visitor.visit_some(Bounded { de, depth: self.depth + 1 })
    }

    fn visit_newtype_struct<D: Deserializer<'de>>(self, de: D) -> Result<Self::Value, D::Error> {
        self.visitor.visit_newtype_struct(Bounded { de, depth: self.depth + 1 })
    }

    fn visit_seq<A: SeqAccess<'de>>(self, seq: A) -> Result<Self::Value, A::Error> {
        self.visitor.visit_seq(Nested { access: seq, depth: self.depth + 1 })
    }

    fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<Self::Value, A::Error> {
        self.visitor.visit_map(Nested { access: map, depth: self.depth + 1 })
    }

    fn visit_enum<A: EnumAccess<'de>>(self, data: A) -> Result<Self::Value, A::Error> {
        self.visitor.visit_enum(Nested { access: data, depth: self.depth + 1 })
    }
}

/// A sequence, map, enum or enum variant whose parts are decoded at `depth`.
struct Nested<A> {
    access: A,
    depth: usize,
}

/// A seed whose value is decoded at `depth`.
struct Seed<S> {
    seed: S,
    depth: usize,
}

impl<'de, S: DeserializeSeed<'de>> DeserializeSeed<'de> for Seed<S> {
    type Value = S::Value;

    fn deserialize<D: Deserializer<'de>>(self, de: D) -> Result<Self::Value, D::Error> {
        self.seed.deserialize(Bounded { de, depth: self.depth })
    }
}

impl<'de, A: SeqAccess<'de>> SeqAccess<'de> for Nested<A> {
    type Error = A::Error;

    fn next_element_seed<T: DeserializeSeed<'de>>(&mut self, seed: T) -> Result<Option<T::Value>, Self::Error> {
        self.access.next_element_seed(Seed { seed, depth: self.depth })
    }

    fn size_hint(&self) -> Option<usize> {
        self.access.size_hint()
    }
}

impl<'de, A: MapAccess<'de>> MapAccess<'de> for Nested<A> {
    type Error = A::Error;

    fn next_key_seed<K: DeserializeSeed<'de>>(&mut self, seed: K) -> Result<Option<K::Value>, Self::Error> {
        self.access.next_key_seed(Seed { seed, depth: self.depth })
    }

    fn next_value_seed<T: DeserializeSeed<'de>>(&mut self, seed: T) -> Result<T::Value, Self::Error> {
        self.access.next_value_seed(Seed { seed, depth: self.depth })
    }

    fn size_hint(&self) -> Option<usize> {
        self.access.size_hint()
    }
}

impl<'de, A: EnumAccess<'de>> EnumAccess<'de> for Nested<A> {
    type Error = A::Error;
    type Variant = Nested<A::Variant>;

    fn variant_seed<T: DeserializeSeed<'de>>(self, seed: T) -> Result<(T::Value, Self::Variant), Self::Error> {
        let (value, variant) = self.access.variant_seed(Seed { seed, depth: self.depth })?;
        Ok((value, Nested { access: variant, depth: self.depth }))
    }
}

impl<'de, A: VariantAccess<'de>> VariantAccess<'de> for Nested<A> {
    type Error = A::Error;

    fn unit_variant(self) -> Result<(), Self::Error> {
        self.access.unit_variant()
    }

    fn newtype_variant_seed<T: DeserializeSeed<'de>>(self, seed: T) -> Result<T::Value, Self::Error> {
        self.access.newtype_variant_seed(Seed { seed, depth: self.depth })
    }

    fn tuple_variant<V: Visitor<'de>>(self, len: usize, visitor: V) -> Result<V::Value, Self::Error> {
        self.access.tuple_variant(len, BoundedVisitor { visitor, depth: self.depth })
    }

    fn struct_variant<V: Visitor<'de>>(self, fields: &'static [&'static str], visitor: V) -> Result<V::Value, Self::Error> {
        self.access.struct_variant(fields, BoundedVisitor { visitor, depth: self.depth })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::value::Value;
    #[cfg(target_arch = "wasm32")]
    use wasm_bindgen_test::wasm_bindgen_test as test;

    /// `Value::Array` nested `depth` deep around an int, encoded by hand so that building it
    /// does not recurse either: variant 7 (Array), length 1, ..., variant 2 (Int), zigzag 3.
    fn nested_array(depth: usize) -> Vec<u8> {
        let mut bytes = [7u8, 1].repeat(depth);
        bytes.extend([2, 6]);
        bytes
    }

    #[test]
    fn values_round_trip() {
        let v = Value::Array(vec![Value::String("a".into()), Value::Window { start: 1, end: 2 }, Value::Null, Value::Double(1.5)]);
        let back: Value = decode(&postcard::to_allocvec(&v).unwrap()).unwrap();
        assert_eq!(back, v);
        let o: Option<(u64, String)> = decode(&postcard::to_allocvec(&Some((7u64, "x"))).unwrap()).unwrap();
        assert_eq!(o, Some((7, "x".into())));
    }

    #[test]
    fn shallow_nesting_decodes_and_deep_nesting_is_refused_without_overflowing() {
        let mut v = Value::Int(3);
        for _ in 0..20 {
            v = Value::Array(vec![v]);
        }
        assert_eq!(decode::<Value>(&nested_array(20)).unwrap(), v);
        for depth in [MAX_DEPTH, 1_000_000] {
            let err = decode::<Value>(&nested_array(depth)).unwrap_err();
            assert!(err.contains("nests deeper than 128 levels"), "{err}");
        }
    }

    #[test]
    fn trailing_bytes_and_huge_lengths_are_refused() {
        let mut bytes = postcard::to_allocvec(&Value::Int(1)).unwrap();
        bytes.push(0);
        assert!(decode::<Value>(&bytes).unwrap_err().contains("1 bytes follow"));
        // A length of 2^60 announced for a list, a string and a byte string: refused when the
        // input runs out, with no allocation of that size.
        let huge = [0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x10];
        for prefix in [&[7u8][..], &[1u8][..], &[][..]] {
            let mut bytes = prefix.to_vec();
            bytes.extend(huge);
            bytes.extend([0; 16]);
            assert!(decode::<Value>(&bytes).is_err());
            assert!(decode::<Vec<(Vec<u8>, Option<Vec<u8>>)>>(&bytes).is_err());
            assert!(decode::<String>(&bytes).is_err());
        }
    }
}
