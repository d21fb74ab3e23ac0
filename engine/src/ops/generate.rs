//! Generators (Spark's `GenerateExec`): `explode`, `posexplode` and their `_outer` forms repeat
//! each input row once per element of an array and append the element (after its position, for
//! `posexplode`). Stateless: a row's output depends on that row alone, so a generator works in
//! every output mode and below aggregations, windows, watermarks and joins.

use std::sync::Arc;

use arrow_array::cast::AsArray;
use arrow_array::{Array, ArrayRef, Int32Array, RecordBatch, RecordBatchOptions, UInt32Array};
use arrow_schema::{DataType as ArrowType, SchemaRef};
use arrow_select::take::take;

use super::{BatchContext, Operator, Watermarks};
use crate::error::{Error, Result};
use crate::plan::logical::{Generator, GeneratorKind};

pub struct GenerateOp {
    generator: Generator,
    schema: SchemaRef,
}

impl GenerateOp {
    pub fn new(generator: Generator, schema: SchemaRef) -> Self {
        GenerateOp { generator, schema }
    }
}

/// For each output row: the input row it repeats, and the element it adds (None: the NULL row
/// an outer generator gives for a NULL or empty array).
struct Expansion {
    rows: Vec<u32>,
    elements: Vec<Option<u32>>,
    positions: Vec<Option<i32>>,
}

fn expand(offsets: Option<&[i32]>, valid: &dyn Fn(usize) -> bool, num_rows: usize, outer: bool) -> Result<Expansion> {
    let mut e = Expansion { rows: Vec::with_capacity(num_rows), elements: Vec::with_capacity(num_rows), positions: Vec::new() };
    let too_many = || Error::invalid_input("a generator produced more than 4,294,967,295 rows from one batch; send smaller batches");
    for i in 0..num_rows {
        let (start, end) = match offsets {
            Some(o) if valid(i) => (o[i], o[i + 1]),
            _ => (0, 0),
        };
        let row = u32::try_from(i).map_err(|_| too_many())?;
        if end > start {
            for j in start..end {
                e.rows.push(row);
                e.elements.push(Some(u32::try_from(j).map_err(|_| too_many())?));
                e.positions.push(Some(j - start));
            }
        } else if outer {
            e.rows.push(row);
            e.elements.push(None);
            e.positions.push(None);
        }
    }
    Ok(e)
}

impl Operator for GenerateOp {
    fn name(&self) -> &'static str {
        "generate"
    }

    fn on_batch(&mut self, mut inputs: Vec<RecordBatch>, _watermarks: Watermarks, _ctx: &mut BatchContext) -> Result<RecordBatch> {
        let batch = inputs.remove(0);
        let arg = self.generator.arg.evaluate_to_array(&batch)?;
        let added = self.generator.kind.added();
        let fields = self.schema.fields();
        let element_type = match self.generator.kind {
            // The struct of the appended columns.
            GeneratorKind::Inline { columns } => {
                ArrowType::Struct(fields.iter().skip(fields.len().saturating_sub(columns)).cloned().collect::<arrow_schema::Fields>())
            }
            _ => fields.last().map(|f| f.data_type().clone()).unwrap_or(ArrowType::Null),
        };
        let (expansion, values): (Expansion, ArrayRef) = match arg.data_type() {
            ArrowType::List(_) => {
                let list = arg.as_list::<i32>();
                let offsets: Vec<i32> = list.value_offsets().to_vec();
                let e = expand(Some(&offsets), &|i| list.is_valid(i), batch.num_rows(), self.generator.outer)?;
                (e, list.values().clone())
            }
            // `explode(NULL)`: every array is NULL.
            ArrowType::Null => {
                (expand(None, &|_| false, batch.num_rows(), self.generator.outer)?, arrow_array::new_null_array(&element_type, 0))
            }
            other => return Err(Error::internal(format!("a generator over {other}"))),
        };
        let rows = UInt32Array::from(expansion.rows);
        let mut columns =
            batch.columns().iter().map(|c| take(c.as_ref(), &rows, None)).collect::<std::result::Result<Vec<ArrayRef>, _>>()?;
        if self.generator.kind == GeneratorKind::PosExplode {
            columns.push(Arc::new(Int32Array::from(expansion.positions)));
        }
        let elements = UInt32Array::from(expansion.elements);
        let element = match (&self.generator.kind, values.as_struct_opt()) {
            (GeneratorKind::Inline { .. }, Some(_)) => take(values.as_ref(), &elements, None)?,
            _ if values.data_type() == &element_type => take(values.as_ref(), &elements, None)?,
            _ => arrow_array::new_null_array(&element_type, elements.len()),
        };
        match self.generator.kind {
            GeneratorKind::Inline { columns: n } => {
                // A NULL struct (or the row an outer inline adds) gives NULL in every column.
                let s = element.as_struct_opt().ok_or_else(|| Error::internal("inline over elements that are not structs"))?;
                for field in s.columns().iter().take(n) {
                    let nulls = arrow_buffer::NullBuffer::union(s.nulls(), field.nulls());
                    columns.push(arrow_array::make_array(field.to_data().into_builder().nulls(nulls).build()?));
                }
            }
            _ => columns.push(element),
        }
        debug_assert_eq!(columns.len(), batch.num_columns() + added);
        let options = RecordBatchOptions::new().with_row_count(Some(rows.len()));
        Ok(RecordBatch::try_new_with_options(self.schema.clone(), columns, &options)?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::expr::Expr;
    use crate::types::{Column, DataType, Schema};
    use crate::value::Value;
    #[cfg(target_arch = "wasm32")]
    use wasm_bindgen_test::wasm_bindgen_test as test;

    fn run(kind: GeneratorKind, outer: bool, arrays: Vec<Value>) -> Vec<Vec<Value>> {
        let item = DataType::Array(Box::new(DataType::String));
        let input = Schema::new(vec![
            Column { name: "id".into(), data_type: DataType::Int },
            Column { name: "tags".into(), data_type: item.clone() },
        ]);
        let mut cols = input.columns.clone();
        if kind == GeneratorKind::PosExplode {
            cols.push(Column { name: "pos".into(), data_type: DataType::Int });
        }
        cols.push(Column { name: "col".into(), data_type: DataType::String });
        let schema = Schema::new(cols);
        let ids: Vec<i32> = (0..arrays.len() as i32).collect();
        let batch =
            RecordBatch::try_new(input.to_arrow(), vec![Arc::new(Int32Array::from(ids)), crate::value::values_to_array(&arrays, &item)])
                .unwrap();
        let generator = Generator { kind, arg: Expr::column(1, item), outer };
        let mut op = GenerateOp::new(generator, schema.to_arrow());
        let mut ctx = BatchContext {
            sources: &[],
            watermarks: Watermarks::default(),
            max_event_time: vec![],
            late_rows: vec![],
            operator_watermarks: vec![],
        };
        let out = op.on_batch(vec![batch], Watermarks::default(), &mut ctx).unwrap();
        (0..out.num_rows()).map(|i| super::super::row_values(&out, i)).map(|mut r| r.split_off(2)).collect()
    }

    fn s(v: &str) -> Value {
        Value::String(v.into())
    }

    fn arrays() -> Vec<Value> {
        vec![Value::Array(vec![s("a"), s("b")]), Value::Null, Value::Array(vec![]), Value::Array(vec![s("c")])]
    }

    #[test]
    fn explode_gives_a_row_per_element_and_outer_keeps_null_and_empty_arrays() {
        assert_eq!(run(GeneratorKind::Explode, false, arrays()), vec![vec![s("a")], vec![s("b")], vec![s("c")]]);
        assert_eq!(
            run(GeneratorKind::Explode, true, arrays()),
            vec![vec![s("a")], vec![s("b")], vec![Value::Null], vec![Value::Null], vec![s("c")]]
        );
    }

    #[test]
    fn posexplode_numbers_each_arrays_elements_from_zero() {
        let p = |i: i32, v: &str| vec![Value::Int(i), s(v)];
        assert_eq!(run(GeneratorKind::PosExplode, false, arrays()), vec![p(0, "a"), p(1, "b"), p(0, "c")]);
        let outer = run(GeneratorKind::PosExplode, true, arrays());
        assert_eq!(outer[2], vec![Value::Null, Value::Null]);
        assert_eq!(outer.len(), 5);
    }

    #[test]
    fn the_input_columns_are_repeated_beside_each_element() {
        let item = DataType::Array(Box::new(DataType::String));
        let input = Schema::new(vec![Column { name: "tags".into(), data_type: item.clone() }]);
        let schema = Schema::new(vec![input.columns[0].clone(), Column { name: "col".into(), data_type: DataType::String }]);
        let batch = RecordBatch::try_new(input.to_arrow(), vec![crate::value::values_to_array(&arrays(), &item)]).unwrap();
        let mut op =
            GenerateOp::new(Generator { kind: GeneratorKind::Explode, arg: Expr::column(0, item), outer: false }, schema.to_arrow());
        let mut ctx = BatchContext {
            sources: &[],
            watermarks: Watermarks::default(),
            max_event_time: vec![],
            late_rows: vec![],
            operator_watermarks: vec![],
        };
        let out = op.on_batch(vec![batch], Watermarks::default(), &mut ctx).unwrap();
        let first = super::super::row_values(&out, 1);
        assert_eq!(first, vec![Value::Array(vec![s("a"), s("b")]), s("b")]);
    }
}
