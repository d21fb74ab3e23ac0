//! Row keys as compact bytes: several key columns of one row written into a reusable buffer, so
//! hash lookups by key need no per-row `Value`s. The same encoding is produced from `Value`s
//! ([`encode_values`]), so a key read back from a checkpoint can be checked against its values.

use arrow_array::cast::AsArray;
use arrow_array::types::{Float64Type, Int32Type, Int64Type, TimestampMicrosecondType};
use arrow_array::{Array, ArrayRef, StringArray};
use arrow_buffer::NullBuffer;
use arrow_schema::DataType as ArrowType;

use crate::types::DataType;
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
        ArrowType::Struct(f) if *f == crate::types::window_fields() => {
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
        // Dates, binary, structs and maps: as their values (see `encode_plain_value`).
        ArrowType::Struct(_) | ArrowType::Date32 | ArrowType::Binary | ArrowType::Map(_, _) | ArrowType::Decimal128(_, _) => {
            encode_plain_value(&Value::from_array(c, i), buf)
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
        // The later types: their postcard bytes, length first, which is what a key kept in state
        // holds for them (`key_as_postcard` copies them).
        Value::Date(_) | Value::Binary(_) | Value::Struct(_) | Value::Map(_) | Value::Decimal { .. } => {
            let bytes = postcard::to_allocvec(&normal_value(v)).unwrap_or_default();
            buf.extend_from_slice(&(bytes.len() as u32).to_le_bytes());
            buf.extend_from_slice(&bytes);
        }
    }
}

/// `v` with its doubles made equal where Spark's keys see them equal (-0.0 and 0.0, every NaN).
fn normal_value(v: &Value) -> Value {
    match v {
        Value::Double(d) => Value::Double(normal_double(*d)),
        Value::Array(items) => Value::Array(items.iter().map(normal_value).collect()),
        Value::Struct(fields) => Value::Struct(fields.iter().map(|(n, x)| (n.clone(), normal_value(x))).collect()),
        Value::Map(entries) => Value::Map(entries.iter().map(|(k, x)| (normal_value(k), normal_value(x))).collect()),
        other => other.clone(),
    }
}

/// [`encode_group`] with the columns' types looked at once per batch rather than once per row:
/// the hot path of grouping, deduplication and joins. Gives the same bytes.
pub struct KeyEncoder<'a> {
    columns: Vec<KeyColumn<'a>>,
}

enum KeyColumn<'a> {
    /// A column of the NULL type: every row NULL.
    Null,
    I32(&'a [i32], Option<&'a NullBuffer>),
    /// BIGINT and TIMESTAMP: both eight little-endian bytes.
    I64(&'a [i64], Option<&'a NullBuffer>),
    F64(&'a [f64], Option<&'a NullBuffer>),
    Str(&'a StringArray),
    /// A window's `{start, end}`.
    Window(&'a [i64], &'a [i64], Option<&'a NullBuffer>),
    Other(&'a dyn Array),
}

impl<'a> KeyEncoder<'a> {
    pub fn new(columns: &'a [ArrayRef]) -> Self {
        let columns = columns
            .iter()
            .map(|c| {
                let c = c.as_ref();
                match c.data_type() {
                    ArrowType::Null => KeyColumn::Null,
                    ArrowType::Int32 => KeyColumn::I32(c.as_primitive::<Int32Type>().values(), c.nulls()),
                    ArrowType::Int64 => KeyColumn::I64(c.as_primitive::<Int64Type>().values(), c.nulls()),
                    ArrowType::Timestamp(_, _) => KeyColumn::I64(c.as_primitive::<TimestampMicrosecondType>().values(), c.nulls()),
                    ArrowType::Float64 => KeyColumn::F64(c.as_primitive::<Float64Type>().values(), c.nulls()),
                    ArrowType::Utf8 => KeyColumn::Str(c.as_string::<i32>()),
                    ArrowType::Struct(f) if f.len() == 2 && f.iter().all(|f| matches!(f.data_type(), ArrowType::Timestamp(_, _))) => {
                        let s = c.as_struct();
                        let start = s.column(0).as_primitive::<TimestampMicrosecondType>().values();
                        let end = s.column(1).as_primitive::<TimestampMicrosecondType>().values();
                        KeyColumn::Window(start, end, c.nulls())
                    }
                    _ => KeyColumn::Other(c),
                }
            })
            .collect();
        KeyEncoder { columns }
    }

    /// Writes row `i`'s key into `buf` (cleared first), NULLs encoded.
    #[inline]
    pub fn encode(&self, i: usize, buf: &mut Vec<u8>) {
        buf.clear();
        let valid = |n: Option<&NullBuffer>| n.is_none_or(|n| n.is_valid(i));
        for c in &self.columns {
            match c {
                KeyColumn::Null => buf.push(0),
                KeyColumn::I32(v, n) if valid(*n) => {
                    buf.push(1);
                    buf.extend_from_slice(&v[i].to_le_bytes());
                }
                KeyColumn::I64(v, n) if valid(*n) => {
                    buf.push(1);
                    buf.extend_from_slice(&v[i].to_le_bytes());
                }
                KeyColumn::F64(v, n) if valid(*n) => {
                    buf.push(1);
                    buf.extend_from_slice(&normal_double(v[i]).to_bits().to_le_bytes());
                }
                KeyColumn::Window(start, end, n) if valid(*n) => {
                    buf.push(1);
                    buf.extend_from_slice(&start[i].to_le_bytes());
                    buf.extend_from_slice(&end[i].to_le_bytes());
                }
                KeyColumn::I32(..) | KeyColumn::I64(..) | KeyColumn::F64(..) | KeyColumn::Window(..) => buf.push(0),
                KeyColumn::Str(a) if a.is_valid(i) => {
                    buf.push(1);
                    encode_str(a.value(i), buf);
                }
                KeyColumn::Str(_) => buf.push(0),
                KeyColumn::Other(a) => encode_nullable(*a, i, buf),
            }
        }
    }

    /// The bytes of a column's keys when each takes the same number for this batch: a column
    /// of fixed width without NULLs (a NULL is its marker alone), or of the NULL type.
    fn fixed_width(&self, c: &KeyColumn<'_>) -> Option<usize> {
        let no_nulls = |n: &Option<&NullBuffer>| n.is_none_or(|n| n.null_count() == 0);
        match c {
            KeyColumn::Null => Some(1),
            KeyColumn::I32(_, n) if no_nulls(n) => Some(5),
            KeyColumn::I64(_, n) | KeyColumn::F64(_, n) if no_nulls(n) => Some(9),
            KeyColumn::Window(_, _, n) if no_nulls(n) => Some(17),
            _ => None,
        }
    }

    /// Every row's key of the first `rows`, as [`KeyEncoder::encode`] writes them. Keys of one
    /// width (numbers, timestamps, windows without NULLs) are written a column at a time into
    /// rows of one stride, which is most of the cost of grouping saved; others row by row.
    pub fn encode_batch(&self, rows: usize, out: &mut BatchKeys) {
        out.bytes.clear();
        out.offsets.clear();
        let widths: Option<Vec<usize>> = self.columns.iter().map(|c| self.fixed_width(c)).collect();
        // No key columns (a global aggregate): every key is empty, by offsets.
        let Some(widths) = widths.filter(|w| !w.is_empty()) else {
            let mut buf = Vec::new();
            out.offsets.push(0);
            for i in 0..rows {
                self.encode(i, &mut buf);
                out.bytes.extend_from_slice(&buf);
                out.offsets.push(out.bytes.len());
            }
            out.stride = 0;
            return;
        };
        let stride: usize = widths.iter().sum();
        out.stride = stride;
        out.bytes.resize(stride * rows, 0);
        let mut at = 0;
        for (c, w) in self.columns.iter().zip(widths) {
            let cells = out.bytes.chunks_exact_mut(stride).map(|row| &mut row[at..at + w]);
            match c {
                KeyColumn::Null => cells.for_each(|cell| cell[0] = 0),
                KeyColumn::I32(v, _) => cells.zip(v.iter()).for_each(|(cell, x)| {
                    cell[0] = 1;
                    cell[1..].copy_from_slice(&x.to_le_bytes());
                }),
                KeyColumn::I64(v, _) => cells.zip(v.iter()).for_each(|(cell, x)| {
                    cell[0] = 1;
                    cell[1..].copy_from_slice(&x.to_le_bytes());
                }),
                KeyColumn::F64(v, _) => cells.zip(v.iter()).for_each(|(cell, x)| {
                    cell[0] = 1;
                    cell[1..].copy_from_slice(&normal_double(*x).to_bits().to_le_bytes());
                }),
                KeyColumn::Window(start, end, _) => cells.zip(start.iter().zip(end.iter())).for_each(|(cell, (s, e))| {
                    cell[0] = 1;
                    cell[1..9].copy_from_slice(&s.to_le_bytes());
                    cell[9..].copy_from_slice(&e.to_le_bytes());
                }),
                KeyColumn::Str(_) | KeyColumn::Other(_) => {}
            }
            at += w;
        }
    }
}

/// The keys of a batch's rows, as [`KeyEncoder::encode_batch`] wrote them: rows of one stride,
/// or rows delimited by offsets. Reused from batch to batch, so its buffers stay allocated.
#[derive(Debug, Default, Clone)]
pub struct BatchKeys {
    bytes: Vec<u8>,
    /// Row `i` is `bytes[offsets[i]..offsets[i + 1]]` when `stride` is 0.
    offsets: Vec<usize>,
    stride: usize,
}

impl BatchKeys {
    /// Row `i`'s key.
    #[inline]
    pub fn row(&self, i: usize) -> &[u8] {
        if self.stride > 0 {
            &self.bytes[i * self.stride..(i + 1) * self.stride]
        } else {
            &self.bytes[self.offsets[i]..self.offsets[i + 1]]
        }
    }
}

/// Reads a key [`encode_group`] or [`encode_values`] wrote for columns of `types` back into
/// values; says what is wrong with bytes that are not such a key.
pub fn decode_key(bytes: &[u8], types: &[DataType]) -> Result<Vec<Value>, String> {
    let mut r = KeyReader { bytes, at: 0 };
    let values = types.iter().map(|t| r.nullable(t)).collect::<Result<Vec<_>, _>>()?;
    if r.at != bytes.len() {
        return Err(format!("a key has {} bytes after its {} values", bytes.len() - r.at, types.len()));
    }
    Ok(values)
}

/// [`decode_key`] into one vector per column: how keys kept in state become output columns.
pub fn decode_key_into(bytes: &[u8], types: &[DataType], columns: &mut [Vec<Value>]) -> Result<(), String> {
    let mut r = KeyReader { bytes, at: 0 };
    let mut result = Ok(());
    for (t, column) in types.iter().zip(columns.iter_mut()) {
        // After a damaged value the rest are NULL: the columns keep one length.
        let v = if result.is_ok() { r.nullable(t) } else { Ok(Value::Null) };
        column.push(v.unwrap_or_else(|e| {
            result = Err(e);
            Value::Null
        }));
    }
    result
}

struct KeyReader<'a> {
    bytes: &'a [u8],
    at: usize,
}

impl KeyReader<'_> {
    fn take(&mut self, n: usize) -> Result<&[u8], String> {
        let end = self.at.checked_add(n).filter(|&e| e <= self.bytes.len()).ok_or("a key ends in the middle of a value")?;
        let out = &self.bytes[self.at..end];
        self.at = end;
        Ok(out)
    }

    fn word<const N: usize>(&mut self) -> Result<[u8; N], String> {
        let mut w = [0u8; N];
        w.copy_from_slice(self.take(N)?);
        Ok(w)
    }

    fn nullable(&mut self, t: &DataType) -> Result<Value, String> {
        match self.take(1)?[0] {
            0 => Ok(Value::Null),
            1 => self.value(t),
            m => Err(format!("a key holds the marker {m} where 0 (NULL) or 1 belongs")),
        }
    }

    fn value(&mut self, t: &DataType) -> Result<Value, String> {
        Ok(match t {
            DataType::Null => return Err("a key holds a value for a column of the NULL type".into()),
            DataType::String => {
                let n = u32::from_le_bytes(self.word()?) as usize;
                let s = std::str::from_utf8(self.take(n)?).map_err(|_| "a key holds a string that is not UTF-8")?;
                Value::String(s.to_string())
            }
            DataType::Int => Value::Int(i32::from_le_bytes(self.word()?)),
            DataType::BigInt => Value::BigInt(i64::from_le_bytes(self.word()?)),
            DataType::Double => Value::Double(f64::from_le_bytes(self.word()?)),
            DataType::Boolean => Value::Boolean(self.take(1)?[0] != 0),
            DataType::Timestamp => Value::Timestamp(i64::from_le_bytes(self.word()?)),
            DataType::Window => Value::Window { start: i64::from_le_bytes(self.word()?), end: i64::from_le_bytes(self.word()?) },
            DataType::Date | DataType::Binary | DataType::Struct(_) | DataType::Map(_, _) | DataType::Decimal(_, _) => {
                let n = u32::from_le_bytes(self.word()?) as usize;
                postcard::from_bytes(self.take(n)?).map_err(|e| format!("a key's {t} value does not read back ({e})"))?
            }
            DataType::Array(inner) => {
                let n = u32::from_le_bytes(self.word()?) as usize;
                // Each element takes at least its marker byte: a length beyond the bytes left is damage.
                if n > self.bytes.len() - self.at {
                    return Err(format!("a key's array claims {n} elements in {} bytes", self.bytes.len() - self.at));
                }
                Value::Array((0..n).map(|_| self.nullable(inner)).collect::<Result<_, _>>()?)
            }
        })
    }
}

/// Writes a key [`encode_group`] wrote for columns of `types` as postcard writes the same values
/// as a `Vec<Value>`: how state entries holding their key's values are written after every batch
/// without making the values. A key that is not such a key writes NULLs where it runs out.
pub fn key_as_postcard(key: &[u8], types: &[DataType], out: &mut Vec<u8>) {
    varint(types.len() as u64, out);
    let mut at = 0;
    for t in types {
        at = transcode_nullable(key, at, t, out);
    }
}

/// postcard's unsigned varint.
pub fn varint(mut v: u64, out: &mut Vec<u8>) {
    while v >= 0x80 {
        out.push((v as u8) | 0x80);
        v >>= 7;
    }
    out.push(v as u8);
}

/// postcard's signed varint.
pub fn zigzag(v: i64, out: &mut Vec<u8>) {
    varint(((v << 1) ^ (v >> 63)) as u64, out);
}

/// The `n` bytes of `key` from `at`, or stops at its end (a key this table encoded has them).
fn bytes_at(key: &[u8], at: usize, n: usize) -> &[u8] {
    key.get(at..at.saturating_add(n)).unwrap_or_default()
}

fn word<const N: usize>(key: &[u8], at: usize) -> [u8; N] {
    let mut w = [0u8; N];
    let b = bytes_at(key, at, N);
    w[..b.len()].copy_from_slice(b);
    w
}

/// Writes the key value at `at` (marker first) as postcard writes a `Value`; returns where the
/// next one starts.
fn transcode_nullable(key: &[u8], at: usize, t: &DataType, out: &mut Vec<u8>) -> usize {
    match key.get(at) {
        Some(1) => transcode_value(key, at + 1, t, out),
        _ => {
            out.push(0);
            at + 1
        }
    }
}

fn transcode_value(key: &[u8], at: usize, t: &DataType, out: &mut Vec<u8>) -> usize {
    match t {
        DataType::Null => {
            out.push(0);
            at
        }
        DataType::String => {
            let n = u32::from_le_bytes(word(key, at)) as usize;
            let s = bytes_at(key, at + 4, n);
            out.push(1);
            varint(s.len() as u64, out);
            out.extend_from_slice(s);
            at + 4 + n
        }
        DataType::Int => {
            out.push(2);
            zigzag(i64::from(i32::from_le_bytes(word(key, at))), out);
            at + 4
        }
        DataType::BigInt => {
            out.push(3);
            zigzag(i64::from_le_bytes(word(key, at)), out);
            at + 8
        }
        DataType::Double => {
            out.push(4);
            out.extend_from_slice(&word::<8>(key, at));
            at + 8
        }
        DataType::Boolean => {
            out.push(5);
            out.push(u8::from(key.get(at).is_some_and(|&b| b != 0)));
            at + 1
        }
        DataType::Timestamp => {
            out.push(6);
            zigzag(i64::from_le_bytes(word(key, at)), out);
            at + 8
        }
        DataType::Array(inner) => {
            let n = u32::from_le_bytes(word(key, at)) as usize;
            out.push(7);
            varint(n as u64, out);
            let mut at = at + 4;
            for _ in 0..n.min(key.len()) {
                at = transcode_nullable(key, at, inner, out);
            }
            at
        }
        DataType::Window => {
            out.push(8);
            zigzag(i64::from_le_bytes(word(key, at)), out);
            zigzag(i64::from_le_bytes(word(key, at + 8)), out);
            at + 16
        }
        DataType::Date | DataType::Binary | DataType::Struct(_) | DataType::Map(_, _) | DataType::Decimal(_, _) => {
            let n = u32::from_le_bytes(word(key, at)) as usize;
            out.extend_from_slice(bytes_at(key, at + 4, n));
            at + 4 + n
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
    fn dates_binary_structs_and_maps_key_read_back_and_transcode_to_postcard() {
        let t = vec![
            DataType::Date,
            DataType::Binary,
            crate::types::ddl::parse_type("struct<a:double,b:string>").unwrap(),
            crate::types::ddl::parse_type("map<string,int>").unwrap(),
        ];
        let rows = [
            vec![
                Value::Date(-3),
                Value::Binary(vec![1, 2]),
                Value::Struct(vec![("a".into(), Value::Double(-0.0)), ("b".into(), Value::Null)]),
                Value::Map(vec![(Value::String("k".into()), Value::Int(1))]),
            ],
            vec![Value::Null, Value::Binary(vec![]), Value::Null, Value::Map(vec![])],
        ];
        let columns: Vec<ArrayRef> =
            (0..t.len()).map(|c| values_to_array(&rows.iter().map(|r| r[c].clone()).collect::<Vec<_>>(), &t[c])).collect();
        for (i, row) in rows.iter().enumerate() {
            let (mut from_arrow, mut from_values, mut fast) = (Vec::new(), Vec::new(), Vec::new());
            encode_group(&columns, i, &mut from_arrow);
            encode_values(row, &mut from_values);
            KeyEncoder::new(&columns).encode(i, &mut fast);
            assert_eq!(from_arrow, from_values);
            assert_eq!(fast, from_values);
            let back = decode_key(&from_arrow, &t).unwrap();
            let normal: Vec<Value> = row.iter().map(normal_value).collect();
            assert_eq!(back, normal);
            let mut pc = Vec::new();
            key_as_postcard(&from_arrow, &t, &mut pc);
            assert_eq!(postcard::from_bytes::<Vec<Value>>(&pc).unwrap(), normal);
        }
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
            let columns = [c.clone()];
            let encoder = KeyEncoder::new(&columns);
            for (i, v) in values.iter().enumerate() {
                let mut from_value = Vec::new();
                encode_values(std::slice::from_ref(v), &mut from_value);
                assert_eq!(group_keys(&c)[i], from_value, "{t:?} row {i}: {v:?}");
                let mut typed = Vec::new();
                encoder.encode(i, &mut typed);
                assert_eq!(typed, from_value, "{t:?} row {i}: the typed encoder agrees");
                let back = decode_key(&from_value, std::slice::from_ref(&t)).unwrap();
                let same = match (&back[0], v) {
                    (Value::Double(a), Value::Double(b)) => {
                        a.to_bits() == b.to_bits() || (a.is_nan() && b.is_nan()) || (*a == 0.0 && *b == 0.0)
                    }
                    (a, b) => a == b,
                };
                assert!(same, "{t:?} row {i}: {v:?} decodes back as {back:?}");
            }
        }
    }

    /// The batch encoder writes each row's key as the row encoder does, in one stride when
    /// every column has one width in the batch and by offsets otherwise (a NULL, a string).
    #[test]
    fn batch_keys_are_the_row_keys() {
        let window = values_to_array(&[Value::Window { start: 0, end: 60 }, Value::Window { start: 60, end: 120 }], &DataType::Window);
        let ints = values_to_array(&[Value::Int(-3), Value::Int(7)], &DataType::Int);
        let big = values_to_array(&[Value::BigInt(1 << 40), Value::BigInt(-1)], &DataType::BigInt);
        let doubles = values_to_array(&[Value::Double(-0.0), Value::Double(f64::NAN)], &DataType::Double);
        let null = values_to_array(&[Value::Null, Value::Null], &DataType::Null);
        let with_null = values_to_array(&[Value::BigInt(5), Value::Null], &DataType::BigInt);
        let strings = values_to_array(&[Value::String("ab".into()), Value::String("".into())], &DataType::String);
        let cases: Vec<(Vec<ArrayRef>, bool)> = vec![
            (vec![window.clone(), ints.clone(), big.clone(), doubles.clone(), null.clone()], true),
            (vec![window.clone(), with_null], false),
            (vec![strings, ints], false),
            (vec![], false),
        ];
        for (columns, fixed) in cases {
            let encoder = KeyEncoder::new(&columns);
            let mut keys = BatchKeys::default();
            encoder.encode_batch(2, &mut keys);
            assert_eq!(keys.stride > 0, fixed, "{:?}", columns.iter().map(|c| c.data_type().clone()).collect::<Vec<_>>());
            for i in 0..2 {
                let mut row = Vec::new();
                encoder.encode(i, &mut row);
                assert_eq!(keys.row(i), &row[..], "row {i}");
            }
        }
    }

    #[test]
    fn bytes_that_are_not_a_key_are_refused_not_trusted() {
        let t = [DataType::String, DataType::Array(Box::new(DataType::Int))];
        for (bytes, says) in [
            (vec![1u8, 5, 0, 0, 0, b'a'], "ends in the middle"),
            (vec![2u8], "marker 2"),
            (vec![0u8, 1, 0xff, 0xff, 0xff, 0xff], "claims"),
            (vec![0u8, 0, 9], "after its 2 values"),
        ] {
            let err = decode_key(&bytes, &t).unwrap_err();
            assert!(err.contains(says), "{bytes:?}: {err}");
        }
    }
}
