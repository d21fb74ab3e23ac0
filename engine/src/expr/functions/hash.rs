//! Hashes: crc32 (of the string's UTF-8 bytes, as Spark casts a string to binary).

use arrow_array::ArrayRef;

use super::*;

/// The argument rules and result type of the functions in this file (Spark's implicit casts).
pub(super) fn check(f: Func, a: Vec<Expr>, c: &Checks) -> Result<(Vec<Expr>, DataType)> {
    match f {
        Func::Crc32 => {
            c.arity(1, 1)?;
            let a = a.into_iter().map(|e| c.to(e, &DataType::String)).collect::<Result<Vec<_>>>()?;
            Ok((a, DataType::BigInt))
        }
        other => Err(Error::internal(format!("{other:?} is not checked here"))),
    }
}

/// The kernels of the functions in this file.
pub(super) fn kernel(f: Func, a: &[ArrayRef], _raw: &[Columnar], data_type: &DataType, len: usize) -> Result<ArrayRef> {
    match f {
        Func::Crc32 => strict(a, len, data_type, |row| Ok(Value::BigInt(crc32fast::hash(str_of(&row[0]).as_bytes()) as i64))),
        other => Err(Error::internal(format!("{other:?} has no kernel here"))),
    }
}
