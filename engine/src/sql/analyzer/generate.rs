//! Generators: `explode`/`posexplode` (and `_outer`) in a SELECT list or a `LATERAL VIEW`
//! become a [`LogicalPlan::Generate`] below the projection, as Spark's `ResolveGenerate` does.

use super::*;
use crate::plan::logical::{Generator, GeneratorKind};

/// Every generator a person can call: the `explode` family of [`generator_kind`], then the ones
/// over structs, `inline` and those the analyzer turns into an inline of an array of structs it
/// builds (`stack`, `json_tuple`). The function catalog is checked against this list.
pub(super) const GENERATOR_NAMES: &[&str] =
    &["explode", "explode_outer", "posexplode", "posexplode_outer", "inline", "inline_outer", "stack", "json_tuple"];

/// The generator a function name calls, and whether it is an outer one.
pub(super) fn generator_kind(name: &str) -> Option<(GeneratorKind, bool)> {
    match name {
        "explode" => Some((GeneratorKind::Explode, false)),
        "explode_outer" => Some((GeneratorKind::Explode, true)),
        "posexplode" => Some((GeneratorKind::PosExplode, false)),
        "posexplode_outer" => Some((GeneratorKind::PosExplode, true)),
        _ => None,
    }
}

pub(super) fn is_generator_name(name: &str) -> bool {
    GENERATOR_NAMES.contains(&name)
}

/// The generator call `e` is, when the whole expression is one.
pub(super) fn top_generator(e: &ast::Expr) -> Option<&ast::Function> {
    match e {
        ast::Expr::Function(f) if f.over.is_none() && is_generator_name(&f.name.to_string().to_ascii_lowercase()) => Some(f),
        _ => None,
    }
}

/// A generator anywhere inside `e` (which is not one itself): Spark refuses that.
pub(super) fn nested_generator(e: &ast::Expr) -> Result<()> {
    let mut found = None;
    walk_functions(e, &mut |f| {
        if found.is_none() && is_generator_name(&f.name.to_string().to_ascii_lowercase()) {
            found = position_of(f.name.span()).or(Some(Position { line: 1, column: 1 }));
        }
    });
    match found {
        None => Ok(()),
        Some(pos) => Err(Error::unsupported(format!(
            "[UNSUPPORTED_GENERATOR.NESTED_IN_EXPRESSIONS] The generator is not supported: nested in expressions \"{}\". SQLSTATE: 42K0E",
            spark_sql(e)
        ))
        .with_condition("UNSUPPORTED_GENERATOR.NESTED_IN_EXPRESSIONS")
        .at(Some(pos))),
    }
}

/// A generator reached where none may stand (WHERE, GROUP BY, an aggregate's argument, ...).
pub(super) fn generator_outside_select(name: &str, whole: &ast::Expr, pos: Option<Position>) -> Error {
    Error::unsupported(format!(
        "[UNSUPPORTED_GENERATOR.OUTSIDE_SELECT] The generator is not supported: outside the SELECT clause, found: \"{}\" (`{name}` can stand alone in a SELECT list or in a LATERAL VIEW). SQLSTATE: 42K0E",
        spark_sql(whole)
    ))
    .with_condition("UNSUPPORTED_GENERATOR.OUTSIDE_SELECT")
    .at(pos)
}

fn alias_mismatch(expected: usize, aliases: &[String], pos: Option<Position>) -> Error {
    Error::unsupported(format!(
        "[UDTF_ALIAS_NUMBER_MISMATCH] The number of aliases supplied in the AS clause does not match the number of columns output by the UDTF.\nExpected {expected} aliases, but got {}.\nPlease ensure that the number of aliases provided matches the number of columns output by the UDTF. SQLSTATE: 42802",
        aliases.join(", ")
    ))
    .with_condition("UDTF_ALIAS_NUMBER_MISMATCH")
    .at(pos)
}

/// A resolved generator and the columns it appends (names and types).
pub(super) struct GeneratorCall {
    pub(super) generator: Generator,
    pub(super) columns: Vec<Column>,
}

impl<'a> Analyzer<'a> {
    /// Resolves the generator call `f` over `scope`, naming its columns `aliases` (Spark's
    /// defaults when there are none).
    pub(super) fn generator_call(
        &mut self,
        f: &ast::Function,
        whole: &ast::Expr,
        scope: &Scope,
        aliases: &[String],
        outer_view: bool,
    ) -> Result<GeneratorCall> {
        let name = f.name.to_string().to_ascii_lowercase();
        let pos = position_of(f.name.span());
        // Spark names the one argument of the explode family `collection`.
        let named = generator_kind(&name).map(|_| "collection");
        let args = plain_args(f, &name, pos, named)?;
        let Some((kind, outer)) = generator_kind(&name) else {
            let (arg, columns) = self.inline_call(&name, &args, whole, scope, aliases, pos)?;
            let kind = GeneratorKind::Inline { columns: columns.len() };
            return Ok(GeneratorCall { generator: Generator { kind, arg, outer: name == "inline_outer" || outer_view }, columns });
        };
        let [arg] = args.as_slice() else {
            return Err(Error::type_mismatch(format!(
                "[WRONG_NUM_ARGS.WITHOUT_SUGGESTION] The `{name}` requires 1 parameters but the actual number is {}. Please, refer to 'https://spark.apache.org/docs/latest/sql-ref-functions.html' for a fix. SQLSTATE: 42605",
                args.len()
            ))
            .with_condition("WRONG_NUM_ARGS.WITHOUT_SUGGESTION")
            .at(pos));
        };
        nested_generator(arg)?;
        let resolved = self.expr(arg, scope)?;
        let element = match resolved.data_type() {
            DataType::Array(inner) => *inner,
            DataType::Null => DataType::Null,
            other => {
                return Err(Error::type_mismatch(format!(
                    "[DATATYPE_MISMATCH.UNEXPECTED_INPUT_TYPE] Cannot resolve \"{}\" due to data type mismatch: The first parameter requires the (\"ARRAY\" or \"MAP\") type, however \"{}\" has the type \"{}\". SQLSTATE: 42K09",
                    spark_sql(whole),
                    spark_sql(arg),
                    other.spark_name()
                ))
                .with_condition("DATATYPE_MISMATCH.UNEXPECTED_INPUT_TYPE")
                .at(pos))
            }
        };
        let defaults = kind.default_names();
        if !aliases.is_empty() && aliases.len() != defaults.len() {
            return Err(alias_mismatch(defaults.len(), aliases, pos));
        }
        let name_at = |k: usize| aliases.get(k).cloned().unwrap_or_else(|| defaults[k].to_string());
        let mut columns = Vec::new();
        if kind == GeneratorKind::PosExplode {
            columns.push(Column { name: name_at(0), data_type: DataType::Int });
        }
        columns.push(Column { name: name_at(columns.len()), data_type: element });
        Ok(GeneratorCall { generator: Generator { kind, arg: resolved, outer: outer || outer_view }, columns })
    }

    /// `inline(arr)`, `stack(n, ...)` and `json_tuple(json, k...)`: the array of structs to
    /// inline and the columns its fields become.
    fn inline_call(
        &mut self,
        name: &str,
        args: &[&ast::Expr],
        whole: &ast::Expr,
        scope: &Scope,
        aliases: &[String],
        pos: Option<Position>,
    ) -> Result<(Expr, Vec<Column>)> {
        for a in args {
            nested_generator(a)?;
        }
        let wrong_args = |expected: &str| {
            Error::type_mismatch(format!(
                "[WRONG_NUM_ARGS.WITHOUT_SUGGESTION] The `{name}` requires {expected} parameters but the actual number is {}. Please, refer to 'https://spark.apache.org/docs/latest/sql-ref-functions.html' for a fix. SQLSTATE: 42605",
                args.len()
            ))
            .with_condition("WRONG_NUM_ARGS.WITHOUT_SUGGESTION")
            .at(pos)
        };
        let arg = match name {
            "inline" | "inline_outer" => {
                let [a] = args else { return Err(wrong_args("1")) };
                let e = self.expr(a, scope)?;
                if !matches!(e.data_type(), DataType::Array(inner) if matches!(*inner, DataType::Struct(_))) {
                    return Err(Error::type_mismatch(format!(
                        "[DATATYPE_MISMATCH.UNEXPECTED_INPUT_TYPE] Cannot resolve \"{}\" due to data type mismatch: The first parameter requires the \"ARRAY<STRUCT>\" type, however \"{}\" has the type \"{}\". SQLSTATE: 42K09",
                        spark_sql(whole),
                        spark_sql(a),
                        e.data_type().spark_name()
                    ))
                    .with_condition("DATATYPE_MISMATCH.UNEXPECTED_INPUT_TYPE")
                    .at(pos));
                }
                e
            }
            "json_tuple" => {
                if args.len() < 2 {
                    return Err(wrong_args("> 1"));
                }
                let resolved = args.iter().map(|a| self.expr(a, scope)).collect::<Result<Vec<_>>>()?;
                let tuple = call(Func::JsonTuple, resolved).map_err(|e| e.at(pos))?;
                call(Func::MakeArray, vec![tuple]).map_err(|e| e.at(pos))?
            }
            _ => {
                // stack(n, v1, ..., vk): n rows of ceil(k / n) columns, NULL past the last value.
                if args.len() < 2 {
                    return Err(wrong_args("> 1"));
                }
                let n = match self.expr(args[0], scope)? {
                    Expr::Literal(Value::Int(n)) if n > 0 => n as usize,
                    _ => {
                        return Err(Error::type_mismatch(format!(
                            "[DATATYPE_MISMATCH.NON_FOLDABLE_INPUT] Cannot resolve \"{}\" due to data type mismatch: the input n should be a foldable positive \"INT\" expression; however, got \"{}\". SQLSTATE: 42K09",
                            spark_sql(whole),
                            spark_sql(args[0])
                        ))
                        .with_condition("DATATYPE_MISMATCH.NON_FOLDABLE_INPUT")
                        .at(pos))
                    }
                };
                if n > limits::MAX_STACK_ROWS {
                    return Err(Error::unsupported(format!("stack makes at most {} rows from one row", limits::MAX_STACK_ROWS)).at(pos));
                }
                let values = args[1..].iter().map(|a| self.expr(a, scope)).collect::<Result<Vec<_>>>()?;
                let width = values.len().div_ceil(n);
                let mut types = vec![DataType::Null; width];
                for (k, v) in values.iter().enumerate() {
                    let t = v.data_type();
                    let slot = &mut types[k % width];
                    if *slot == DataType::Null {
                        *slot = t;
                    } else if t != DataType::Null && t != *slot {
                        return Err(Error::type_mismatch(format!(
                            "[DATATYPE_MISMATCH.STACK_COLUMN_DIFF_TYPES] Cannot resolve \"{}\" due to data type mismatch: The data type of the column ({}) do not have the same type: \"{}\" ({}) and \"{}\" ({}). SQLSTATE: 42K09",
                            spark_sql(whole),
                            k % width,
                            slot.spark_name(),
                            spark_sql(args[1 + k % width]),
                            t.spark_name(),
                            spark_sql(args[1 + k])
                        ))
                        .with_condition("DATATYPE_MISMATCH.STACK_COLUMN_DIFF_TYPES")
                        .at(pos));
                    }
                }
                let mut values = values.into_iter();
                let mut rows = Vec::with_capacity(n);
                for _ in 0..n {
                    let mut fields = Vec::with_capacity(2 * width);
                    for (j, t) in types.iter().enumerate() {
                        fields.push(Expr::Literal(Value::String(format!("col{j}"))));
                        fields.push(values.next().unwrap_or(Expr::Literal(Value::Null)).cast_to(t));
                    }
                    rows.push(call(Func::NamedStruct, fields).map_err(|e| e.at(pos))?);
                }
                call(Func::MakeArray, rows).map_err(|e| e.at(pos))?
            }
        };
        let DataType::Array(inner) = arg.data_type() else {
            return Err(Error::internal("an inline generator over something that is not an array"));
        };
        let DataType::Struct(fields) = *inner else {
            return Err(Error::internal("an inline generator over something that is not an array of structs"));
        };
        if !aliases.is_empty() && aliases.len() != fields.len() {
            return Err(alias_mismatch(fields.len(), aliases, pos));
        }
        let columns =
            fields.into_iter().enumerate().map(|(k, (n, t))| Column { name: aliases.get(k).cloned().unwrap_or(n), data_type: t }).collect();
        Ok((arg, columns))
    }

    /// Applies `LATERAL VIEW [OUTER] gen(...) view [AS] a, b` clauses, in order, to the FROM
    /// relation: each appends its columns, qualified by the view's name.
    pub(super) fn lateral_views(
        &mut self,
        views: &'a [ast::LateralView],
        mut plan: LogicalPlan,
        mut scope: Scope,
    ) -> Result<(LogicalPlan, Scope)> {
        for view in views {
            let pos = expr_position(&view.lateral_view);
            let ast::Expr::Function(f) = &view.lateral_view else {
                return Err(Error::type_mismatch(format!(
                    "LATERAL VIEW needs a generator call (explode, posexplode, ...), not `{}`",
                    spark_sql(&view.lateral_view)
                ))
                .at(pos));
            };
            let aliases: Vec<String> = view.lateral_col_alias.iter().map(|a| a.value.clone()).collect();
            let call = self.generator_call(f, &view.lateral_view, &scope, &aliases, view.outer)?;
            let qualifier = view.lateral_view_name.to_string();
            (plan, scope) = generate(plan, scope, call, Some(&qualifier));
        }
        Ok((plan, scope))
    }
}

/// `plan` with the generator's columns appended, and the scope that sees them.
pub(super) fn generate(plan: LogicalPlan, mut scope: Scope, call: GeneratorCall, qualifier: Option<&str>) -> (LogicalPlan, Scope) {
    let mut columns = plan.schema().columns.clone();
    for c in &call.columns {
        scope.columns.push(ScopeColumn { qualifier: qualifier.map(str::to_string), name: c.name.clone(), data_type: c.data_type.clone() });
        columns.push(c.clone());
    }
    let schema = Schema::new(columns);
    (LogicalPlan::Generate { input: Box::new(plan), generator: call.generator, schema }, scope)
}

#[cfg(test)]
mod tests {
    use crate::error::ErrorKind;
    use crate::plan::LogicalPlan;
    use crate::sql::analyzer::{analyze, Catalog};
    use crate::types::{Column, DataType, Schema};
    #[cfg(target_arch = "wasm32")]
    use wasm_bindgen_test::wasm_bindgen_test as test;

    fn catalog() -> Catalog {
        let events = Schema::new(vec![
            Column { name: "id".into(), data_type: DataType::Int },
            Column { name: "tags".into(), data_type: DataType::String },
        ]);
        Catalog { sources: vec![("events".into(), events)], tables: vec![] }
    }

    fn columns(sql: &str) -> Vec<(String, DataType)> {
        let q = analyze(sql, &catalog()).unwrap_or_else(|e| panic!("{sql}: {e}"));
        q.plan.schema().columns.iter().map(|c| (c.name.clone(), c.data_type.clone())).collect()
    }

    fn count_generates(p: &LogicalPlan) -> usize {
        usize::from(matches!(p, LogicalPlan::Generate { .. })) + p.children().into_iter().map(count_generates).sum::<usize>()
    }

    fn error(sql: &str) -> crate::error::Error {
        analyze(sql, &catalog()).err().unwrap_or_else(|| panic!("expected an error for {sql}"))
    }

    #[test]
    fn generated_columns_take_sparks_names_or_their_aliases() {
        let s = |n: &str, t: DataType| (n.to_string(), t);
        assert_eq!(
            columns("SELECT id, explode(split(tags, ',')) FROM STREAM events"),
            vec![s("id", DataType::Int), s("col", DataType::String)]
        );
        assert_eq!(
            columns("SELECT posexplode_outer(split(tags, ',')) AS (p, c) FROM STREAM events"),
            vec![s("p", DataType::Int), s("c", DataType::String)]
        );
        assert_eq!(
            columns("SELECT posexplode(split(tags, ',')), id FROM STREAM events")[..2],
            [s("pos", DataType::Int), s("col", DataType::String)]
        );
        assert_eq!(
            columns("SELECT * FROM STREAM events LATERAL VIEW explode(split(tags, ',')) v LATERAL VIEW OUTER posexplode(split(tags, ',')) w AS p, x")
                .into_iter()
                .map(|c| c.0)
                .collect::<Vec<_>>(),
            ["id", "tags", "col", "p", "x"]
        );
        let q =
            analyze("SELECT v.t, id FROM STREAM events LATERAL VIEW explode(split(tags, ',')) v AS t WHERE t <> 'a'", &catalog()).unwrap();
        assert_eq!(count_generates(&q.plan), 1);
        let two = analyze("SELECT explode(split(tags, ',')) AS a, explode(split(tags, ',')) AS b FROM STREAM events", &catalog()).unwrap();
        assert_eq!(count_generates(&two.plan), 2, "two generators chain");
    }

    #[test]
    fn misplaced_generators_are_refused_as_spark_refuses_them_with_a_place() {
        let e = error("SELECT upper(explode(split(tags, ','))) FROM STREAM events");
        assert!(e.message.contains("UNSUPPORTED_GENERATOR.NESTED_IN_EXPRESSIONS"), "{e}");
        assert_eq!(e.position.map(|p| (p.line, p.column)), Some((1, 14)));
        let e = error("SELECT id FROM STREAM events WHERE explode(split(tags, ',')) = 'a'");
        assert!(e.message.contains("UNSUPPORTED_GENERATOR.OUTSIDE_SELECT"), "{e}");
        let e = error("SELECT posexplode(split(tags, ',')) AS p FROM STREAM events");
        assert!(e.message.contains("Expected 2 aliases, but got p."), "{e}");
        let e = error("SELECT * FROM STREAM events LATERAL VIEW explode(split(tags, ',')) v AS a, b");
        assert!(e.message.contains("UDTF_ALIAS_NUMBER_MISMATCH"), "{e}");
        let e = error("SELECT explode(id) FROM STREAM events");
        assert_eq!(e.kind, ErrorKind::TypeMismatch);
        assert!(e.message.contains("requires the (\"ARRAY\" or \"MAP\") type"), "{e}");
        let e = error("SELECT explode(split(tags, ','), 1) FROM STREAM events");
        assert!(e.message.contains("requires 1 parameters but the actual number is 2"), "{e}");
        let e = error("SELECT stack(2, id, tags) FROM STREAM events");
        assert_eq!(e.spark_condition, Some("DATATYPE_MISMATCH.STACK_COLUMN_DIFF_TYPES"), "{e}");
        let e = error("SELECT inline(split(tags, ',')) FROM STREAM events");
        assert_eq!(e.spark_condition, Some("DATATYPE_MISMATCH.UNEXPECTED_INPUT_TYPE"), "{e}");
        let e = error("SELECT json_tuple(tags) FROM STREAM events");
        assert_eq!(e.spark_condition, Some("WRONG_NUM_ARGS.WITHOUT_SUGGESTION"), "{e}");
        let e = error("SELECT explode(split(tags, ',')), count(*) FROM STREAM events GROUP BY tags");
        assert_eq!(e.kind, ErrorKind::UnsupportedOperation);
    }
}
