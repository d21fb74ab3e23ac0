//! The sinks' binary format for a record batch: each column's buffers as they lie in memory
//! (little-endian), with its validity bitmap, after a tree of type tags. Writing is a copy of
//! the buffers; reading checks every length against the bytes left before allocating for it,
//! and every type against the table's, so a damaged or foreign file is refused, never trusted.
//!
//! ```text
//! batch  = u32 columns, u64 rows, type*, array*
//! type   = tag (0 NULL, 1 STRING, 2 INT, 3 BIGINT, 4 DOUBLE, 5 BOOLEAN, 6 TIMESTAMP,
//!          7 ARRAY followed by its element type, 8 WINDOW, 9 DATE, 10 BINARY,
//!          11 STRUCT: u32 fields, each u32-length-prefixed name and type, 12 MAP: key type, value type,
//!          13 DECIMAL: u8 precision, u8 scale)
//! array  = validity (0: no NULLs | 1: one bit a row, 1 = set), then by type:
//!          NULL: nothing (its validity is all zeros) | INT, BIGINT, DOUBLE, TIMESTAMP: the values |
//!          BOOLEAN: one bit a row | STRING: rows + 1 i32 offsets from 0, then the bytes |
//!          ARRAY: rows + 1 i32 offsets from 0, then the elements as one array |
//!          WINDOW: start and end as two TIMESTAMP arrays | DATE: i32 days | BINARY: as STRING |
//!          STRUCT: each field's array | MAP: rows + 1 i32 offsets from 0, then keys and values as two arrays |
//!          DECIMAL: i128 unscaled values
//! ```

use std::sync::Arc;

use arrow_array::cast::AsArray;
use arrow_array::types::{Date32Type, Decimal128Type, Float64Type, Int32Type, Int64Type, TimestampMicrosecondType};
use arrow_array::{
    Array, ArrayRef, BinaryArray, BooleanArray, Date32Array, Decimal128Array, Float64Array, Int32Array, Int64Array, ListArray, MapArray,
    RecordBatch, RecordBatchOptions, StringArray, StructArray, TimestampMicrosecondArray,
};
use arrow_buffer::{BooleanBuffer, Buffer, NullBuffer, OffsetBuffer, ScalarBuffer};
use arrow_schema::{DataType as ArrowType, Field, SchemaRef};

use crate::error::{Error, Result};
use crate::types::{window_fields, DataType, Schema};

// Column buffers are written as they lie in memory; every target the engine is built for
// (x86-64, AArch64, wasm32) is little-endian.
#[cfg(not(target_endian = "little"))]
compile_error!("the sinks' binary format writes Arrow buffers as they are in memory, which is little-endian only");

/// Deeper type nesting than this is refused on reading (the engine builds a few levels at most):
/// the reader recurses once per level.
const MAX_DEPTH: usize = 16;

/// Appends `batch` to `out`.
pub fn write_batch(batch: &RecordBatch, out: &mut Vec<u8>) -> Result<()> {
    let types = batch
        .columns()
        .iter()
        .map(|c| {
            DataType::from_arrow(c.data_type())
                .ok_or_else(|| Error::internal(format!("a sink cannot store a column of Arrow type {}", c.data_type())))
        })
        .collect::<Result<Vec<_>>>()?;
    out.reserve(size_hint(batch));
    out.extend_from_slice(&(batch.num_columns() as u32).to_le_bytes());
    out.extend_from_slice(&(batch.num_rows() as u64).to_le_bytes());
    for t in &types {
        write_type(t, out);
    }
    for (c, t) in batch.columns().iter().zip(&types) {
        write_array(c.as_ref(), t, out)?;
    }
    Ok(())
}

/// About the bytes [`write_batch`] writes, so the buffer grows once.
fn size_hint(batch: &RecordBatch) -> usize {
    fn array(a: &dyn Array) -> usize {
        let n = a.len();
        let own = match a.data_type() {
            ArrowType::Utf8 => {
                let s = a.as_string::<i32>();
                let o = s.value_offsets();
                4 * (n + 1) + (o[n] - o[0]) as usize
            }
            ArrowType::List(_) => 4 * (n + 1) + array(a.as_list::<i32>().values().as_ref()),
            ArrowType::Struct(_) => a.as_struct().columns().iter().map(|c| array(c.as_ref())).sum(),
            t => t.primitive_width().unwrap_or(1) * n,
        };
        1 + n.div_ceil(8) + own
    }
    12 + batch.columns().iter().map(|c| 2 + array(c.as_ref())).sum::<usize>()
}

fn write_type(t: &DataType, out: &mut Vec<u8>) {
    match t {
        DataType::Null => out.push(0),
        DataType::String => out.push(1),
        DataType::Int => out.push(2),
        DataType::BigInt => out.push(3),
        DataType::Double => out.push(4),
        DataType::Boolean => out.push(5),
        DataType::Timestamp => out.push(6),
        DataType::Array(inner) => {
            out.push(7);
            write_type(inner, out);
        }
        DataType::Window => out.push(8),
        DataType::Date => out.push(9),
        DataType::Binary => out.push(10),
        DataType::Struct(fields) => {
            out.push(11);
            out.extend_from_slice(&(fields.len() as u32).to_le_bytes());
            for (name, t) in fields {
                out.extend_from_slice(&(name.len() as u32).to_le_bytes());
                out.extend_from_slice(name.as_bytes());
                write_type(t, out);
            }
        }
        DataType::Map(k, v) => {
            out.push(12);
            write_type(k, out);
            write_type(v, out);
        }
        DataType::Decimal(p, s) => out.extend_from_slice(&[13, *p, *s]),
    }
}

/// `len` bits, from bit 0 of the first byte.
fn write_bits(bits: &BooleanBuffer, out: &mut Vec<u8>) {
    let bytes = bits.len().div_ceil(8);
    let packed = bits.sliced();
    let slice = packed.as_slice();
    let have = bytes.min(slice.len());
    out.extend_from_slice(&slice[..have]);
    out.resize(out.len() + (bytes - have), 0);
}

fn write_validity(a: &dyn Array, out: &mut Vec<u8>) {
    match a.nulls().filter(|n| n.null_count() > 0) {
        None => out.push(0),
        Some(nulls) => {
            out.push(1);
            write_bits(nulls.inner(), out);
        }
    }
}

/// Offsets rebased to start at 0 (a sliced array's start elsewhere); returns (first, last).
fn write_offsets(offsets: &[i32], out: &mut Vec<u8>) -> (usize, usize) {
    let first = offsets.first().copied().unwrap_or(0);
    if first == 0 {
        out.extend_from_slice(as_bytes(offsets));
    } else {
        out.reserve(offsets.len() * 4);
        for o in offsets {
            out.extend_from_slice(&(o - first).to_le_bytes());
        }
    }
    (first as usize, offsets.last().copied().unwrap_or(0) as usize)
}

fn as_bytes<T: arrow_buffer::ArrowNativeType>(values: &[T]) -> &[u8] {
    use arrow_buffer::ToByteSlice;
    values.to_byte_slice()
}

fn write_array(a: &dyn Array, t: &DataType, out: &mut Vec<u8>) -> Result<()> {
    if *t == DataType::Null {
        out.push(1);
        out.resize(out.len() + a.len().div_ceil(8), 0);
        return Ok(());
    }
    write_validity(a, out);
    match t {
        DataType::Null => {}
        DataType::String => {
            let s = a.as_string::<i32>();
            let (first, last) = write_offsets(s.value_offsets(), out);
            out.extend_from_slice(&s.value_data()[first..last]);
        }
        DataType::Int => out.extend_from_slice(as_bytes(&a.as_primitive::<Int32Type>().values()[..])),
        DataType::BigInt => out.extend_from_slice(as_bytes(&a.as_primitive::<Int64Type>().values()[..])),
        DataType::Double => out.extend_from_slice(as_bytes(&a.as_primitive::<Float64Type>().values()[..])),
        DataType::Timestamp => out.extend_from_slice(as_bytes(&a.as_primitive::<TimestampMicrosecondType>().values()[..])),
        DataType::Boolean => write_bits(a.as_boolean().values(), out),
        DataType::Array(inner) => {
            let list = a.as_list::<i32>();
            let (first, last) = write_offsets(list.value_offsets(), out);
            write_array(list.values().slice(first, last - first).as_ref(), inner, out)?;
        }
        DataType::Window => {
            let s = a.as_struct();
            let timestamps = s.columns().len() == 2 && s.columns().iter().all(|c| matches!(c.data_type(), ArrowType::Timestamp(_, _)));
            if !timestamps {
                return Err(Error::internal(format!("a sink stores a struct only as a window's start and end, not {}", a.data_type())));
            }
            for c in s.columns() {
                write_array(c.as_ref(), &DataType::Timestamp, out)?;
            }
        }
        DataType::Date => out.extend_from_slice(as_bytes(&a.as_primitive::<Date32Type>().values()[..])),
        DataType::Decimal(_, _) => out.extend_from_slice(as_bytes(&a.as_primitive::<Decimal128Type>().values()[..])),
        DataType::Binary => {
            let b = a.as_binary::<i32>();
            let (first, last) = write_offsets(b.value_offsets(), out);
            out.extend_from_slice(&b.value_data()[first..last]);
        }
        DataType::Struct(fields) => {
            let s = a.as_struct();
            for (c, (_, t)) in s.columns().iter().zip(fields) {
                write_array(c.as_ref(), t, out)?;
            }
        }
        DataType::Map(k, v) => {
            let m = a.as_map();
            let (first, last) = write_offsets(m.value_offsets(), out);
            write_array(m.keys().slice(first, last - first).as_ref(), k, out)?;
            write_array(m.values().slice(first, last - first).as_ref(), v, out)?;
        }
    }
    Ok(())
}

/// Reads what [`write_batch`] wrote, at the start of `bytes`: a batch with `schema`'s columns.
/// Returns the batch and the bytes after it. Errors say what is wrong, for the caller to name
/// the file.
pub fn read_batch<'a>(bytes: &'a [u8], schema: &Schema, arrow: &SchemaRef) -> std::result::Result<(RecordBatch, &'a [u8]), String> {
    let mut r = Reader { bytes, at: 0 };
    let columns = r.u32()? as usize;
    let announced = r.u64()?;
    let rows = r.len(announced)?;
    if columns != schema.len() {
        return Err(format!("it holds {columns} columns where the table has {} ({})", schema.len(), schema.names().join(", ")));
    }
    let mut types = Vec::with_capacity(columns);
    for c in &schema.columns {
        let t = r.data_type(0)?;
        if t != c.data_type {
            return Err(format!("its column `{}` holds {t} where the table has {}", c.name, c.data_type));
        }
        types.push(t);
    }
    let arrays = types.iter().map(|t| r.array(t, rows, 0)).collect::<std::result::Result<Vec<_>, _>>()?;
    let options = RecordBatchOptions::new().with_row_count(Some(rows));
    let batch =
        RecordBatch::try_new_with_options(arrow.clone(), arrays, &options).map_err(|e| format!("its columns do not form a batch ({e})"))?;
    Ok((batch, &bytes[r.at..]))
}

/// A cursor over bytes read back: every read is checked against what is left.
pub(super) struct Reader<'a> {
    pub bytes: &'a [u8],
    pub at: usize,
}

type Read<T> = std::result::Result<T, String>;

impl<'a> Reader<'a> {
    pub fn take(&mut self, n: usize) -> Read<&'a [u8]> {
        let left = self.bytes.len() - self.at;
        if n > left {
            return Err(format!("it is cut short: {n} bytes are announced at byte {}, {left} are left", self.at));
        }
        let out = &self.bytes[self.at..self.at + n];
        self.at += n;
        Ok(out)
    }

    fn array_of<const N: usize>(&mut self) -> Read<[u8; N]> {
        let mut out = [0u8; N];
        out.copy_from_slice(self.take(N)?);
        Ok(out)
    }

    pub fn u8(&mut self) -> Read<u8> {
        Ok(self.take(1)?[0])
    }

    pub fn u32(&mut self) -> Read<u32> {
        Ok(u32::from_le_bytes(self.array_of()?))
    }

    pub fn u64(&mut self) -> Read<u64> {
        Ok(u64::from_le_bytes(self.array_of()?))
    }

    pub fn string(&mut self) -> Read<String> {
        let n = self.u32()? as usize;
        let at = self.at;
        String::from_utf8(self.take(n)?.to_vec()).map_err(|_| format!("the text at byte {at} is not UTF-8"))
    }

    /// A row count: every row takes at least a bit of each column, so more rows than eight
    /// times the bytes left cannot be there.
    fn len(&self, n: u64) -> Read<usize> {
        let left = (self.bytes.len() - self.at) as u64;
        if n > left.saturating_mul(8) {
            return Err(format!("it announces {n} rows in {left} bytes"));
        }
        usize::try_from(n).map_err(|_| format!("it announces {n} rows"))
    }

    fn data_type(&mut self, depth: usize) -> Read<DataType> {
        if depth > MAX_DEPTH {
            return Err(format!("its column types nest deeper than {MAX_DEPTH} levels"));
        }
        let at = self.at;
        Ok(match self.u8()? {
            0 => DataType::Null,
            1 => DataType::String,
            2 => DataType::Int,
            3 => DataType::BigInt,
            4 => DataType::Double,
            5 => DataType::Boolean,
            6 => DataType::Timestamp,
            7 => DataType::Array(Box::new(self.data_type(depth + 1)?)),
            8 => DataType::Window,
            9 => DataType::Date,
            10 => DataType::Binary,
            11 => {
                let n = self.u32()? as usize;
                if n > self.bytes.len() - self.at {
                    return Err(format!("a struct type at byte {at} claims {n} fields"));
                }
                let mut fields = Vec::with_capacity(n);
                for _ in 0..n {
                    let name = self.string()?;
                    fields.push((name, self.data_type(depth + 1)?));
                }
                DataType::Struct(fields)
            }
            12 => DataType::Map(Box::new(self.data_type(depth + 1)?), Box::new(self.data_type(depth + 1)?)),
            13 => {
                let (p, s) = (self.u8()?, self.u8()?);
                crate::types::ddl::decimal_type(u32::from(p), u32::from(s)).map_err(|e| format!("the decimal type at byte {at}: {e}"))?
            }
            tag => return Err(format!("byte {at} holds {tag}, which is no column type")),
        })
    }

    fn bits(&mut self, len: usize) -> Read<BooleanBuffer> {
        let bytes = self.take(len.div_ceil(8))?;
        Ok(BooleanBuffer::new(Buffer::from(bytes.to_vec()), 0, len))
    }

    fn validity(&mut self, len: usize) -> Read<Option<NullBuffer>> {
        let at = self.at;
        match self.u8()? {
            0 => Ok(None),
            1 => Ok(Some(NullBuffer::new(self.bits(len)?))),
            other => Err(format!("byte {at} holds {other} where a column's NULL marker (0 or 1) belongs")),
        }
    }

    fn values<const N: usize, T>(&mut self, len: usize, from: fn([u8; N]) -> T) -> Read<Vec<T>> {
        let bytes = len.checked_mul(N).ok_or_else(|| format!("it announces {len} values"))?;
        let raw = self.take(bytes)?;
        Ok(raw.chunks_exact(N).map(|c| from(c.try_into().unwrap_or([0; N]))).collect())
    }

    /// `len + 1` offsets from 0, never decreasing; returns them and the last.
    fn offsets(&mut self, len: usize) -> Read<(OffsetBuffer<i32>, usize)> {
        let at = self.at;
        let n = len.checked_add(1).ok_or_else(|| format!("it announces {len} rows"))?;
        let offsets: Vec<i32> = self.values(n, i32::from_le_bytes)?;
        if offsets[0] != 0 || offsets.windows(2).any(|w| w[0] > w[1]) {
            return Err(format!("the offsets at byte {at} do not run up from 0"));
        }
        let last = offsets[len] as usize;
        Ok((OffsetBuffer::new(ScalarBuffer::from(offsets)), last))
    }

    fn array(&mut self, t: &DataType, len: usize, depth: usize) -> Read<ArrayRef> {
        let nulls = self.validity(len)?;
        let bad = |e: arrow_schema::ArrowError| format!("a {t} column does not read back ({e})");
        Ok(match t {
            DataType::Null => {
                if nulls.is_none() {
                    return Err("a NULL column is marked as having values".into());
                }
                arrow_array::new_null_array(&ArrowType::Null, len)
            }
            DataType::String => {
                let (offsets, last) = self.offsets(len)?;
                let data = Buffer::from(self.take(last)?.to_vec());
                Arc::new(StringArray::try_new(offsets, data, nulls).map_err(bad)?)
            }
            DataType::Int => Arc::new(Int32Array::try_new(self.values(len, i32::from_le_bytes)?.into(), nulls).map_err(bad)?),
            DataType::BigInt => Arc::new(Int64Array::try_new(self.values(len, i64::from_le_bytes)?.into(), nulls).map_err(bad)?),
            DataType::Double => Arc::new(Float64Array::try_new(self.values(len, f64::from_le_bytes)?.into(), nulls).map_err(bad)?),
            DataType::Timestamp => {
                Arc::new(TimestampMicrosecondArray::try_new(self.values(len, i64::from_le_bytes)?.into(), nulls).map_err(bad)?)
            }
            // Both `len` long, so `new` cannot panic.
            DataType::Boolean => Arc::new(BooleanArray::new(self.bits(len)?, nulls)),
            DataType::Array(inner) => {
                if depth >= MAX_DEPTH {
                    return Err(format!("its column types nest deeper than {MAX_DEPTH} levels"));
                }
                let (offsets, last) = self.offsets(len)?;
                let child_len = self.len(last as u64)?;
                let items = self.array(inner, child_len, depth + 1)?;
                let field = Arc::new(Field::new("element", inner.to_arrow(), true));
                Arc::new(ListArray::try_new(field, offsets, items, nulls).map_err(bad)?)
            }
            DataType::Window => {
                let start = self.array(&DataType::Timestamp, len, depth + 1)?;
                let end = self.array(&DataType::Timestamp, len, depth + 1)?;
                Arc::new(StructArray::try_new(window_fields(), vec![start, end], nulls).map_err(bad)?)
            }
            DataType::Date => Arc::new(Date32Array::try_new(self.values(len, i32::from_le_bytes)?.into(), nulls).map_err(bad)?),
            DataType::Decimal(p, s) => Arc::new(
                Decimal128Array::try_new(self.values(len, i128::from_le_bytes)?.into(), nulls)
                    .and_then(|a| a.with_precision_and_scale(*p, *s as i8))
                    .map_err(bad)?,
            ),
            DataType::Binary => {
                let (offsets, last) = self.offsets(len)?;
                let data = Buffer::from(self.take(last)?.to_vec());
                Arc::new(BinaryArray::try_new(offsets, data, nulls).map_err(bad)?)
            }
            DataType::Struct(fields) => {
                if depth >= MAX_DEPTH {
                    return Err(format!("its column types nest deeper than {MAX_DEPTH} levels"));
                }
                let columns = fields.iter().map(|(_, t)| self.array(t, len, depth + 1)).collect::<Read<Vec<_>>>()?;
                if fields.is_empty() {
                    Arc::new(StructArray::new_empty_fields(len, nulls))
                } else {
                    Arc::new(StructArray::try_new(crate::types::struct_fields(fields), columns, nulls).map_err(bad)?)
                }
            }
            DataType::Map(k, v) => {
                if depth >= MAX_DEPTH {
                    return Err(format!("its column types nest deeper than {MAX_DEPTH} levels"));
                }
                let (offsets, last) = self.offsets(len)?;
                let child_len = self.len(last as u64)?;
                let keys = self.array(k, child_len, depth + 1)?;
                let values = self.array(v, child_len, depth + 1)?;
                let entries = StructArray::try_new(crate::types::map_key_value(k, v), vec![keys, values], None).map_err(bad)?;
                Arc::new(MapArray::try_new(crate::types::map_entries(k, v), offsets, entries, nulls, false).map_err(bad)?)
            }
        })
    }
}
