//! Higher-order functions: their lambdas' variables live in a scope of their own, shadowing
//! columns of the same name, typed from the array (or map) the function walks.

use super::*;
use crate::expr::{HigherOrder, HigherOrderFunc, Lambda};

/// What each function takes: its plain arguments, then its lambdas, each with the argument
/// counts it accepts.
struct Shape {
    plain: usize,
    lambdas: &'static [&'static [usize]],
    /// The last lambda may be left out (`aggregate`'s finish, `array_sort`'s comparator).
    last_optional: bool,
}

fn shape(f: HigherOrderFunc) -> Shape {
    use HigherOrderFunc as H;
    let s = |plain, lambdas, last_optional| Shape { plain, lambdas, last_optional };
    match f {
        H::Transform | H::Filter => s(1, &[&[1, 2]], false),
        H::Exists | H::Forall => s(1, &[&[1]], false),
        H::Aggregate => s(2, &[&[2], &[1]], true),
        H::ZipWith => s(2, &[&[2]], false),
        H::MapFilter | H::TransformKeys | H::TransformValues => s(1, &[&[2]], false),
        H::MapZipWith => s(2, &[&[3]], false),
        H::ArraySort => s(1, &[&[2]], true),
    }
}

impl<'a> Analyzer<'a> {
    pub(super) fn higher_order(
        &mut self,
        func: HigherOrderFunc,
        name: &str,
        args: &[&ast::Expr],
        scope: &Scope,
        pos: Option<Position>,
        whole: &ast::Expr,
    ) -> Result<Expr> {
        let sh = shape(func);
        let max = sh.plain + sh.lambdas.len();
        let min = if sh.last_optional { max - 1 } else { max };
        if args.len() < min || args.len() > max {
            let expected = if min == max { min.to_string() } else { format!("[{min}, {max}]") };
            return Err(Error::type_mismatch(format!(
                "[WRONG_NUM_ARGS.WITHOUT_SUGGESTION] The `{name}` requires {expected} parameters but the actual number is {}. Please, refer to 'https://spark.apache.org/docs/latest/sql-ref-functions.html' for a fix. SQLSTATE: 42605",
                args.len()
            ))
            .with_condition("WRONG_NUM_ARGS.WITHOUT_SUGGESTION")
            .at(pos));
        }
        let plain = args[..sh.plain].iter().map(|a| self.expr(a, scope)).collect::<Result<Vec<_>>>()?;
        let types: Vec<DataType> = plain.iter().map(Expr::data_type).collect();
        let sql = spark_sql(whole);
        let mismatch = |ordinal: &str, expected: &str, arg: &ast::Expr, t: &DataType| {
            Error::type_mismatch(format!(
                "[DATATYPE_MISMATCH.UNEXPECTED_INPUT_TYPE] Cannot resolve \"{sql}\" due to data type mismatch: The {ordinal} parameter requires the \"{expected}\" type, however \"{}\" has the type \"{}\". SQLSTATE: 42K09",
                spark_sql(arg),
                t.spark_name()
            ))
            .with_condition("DATATYPE_MISMATCH.UNEXPECTED_INPUT_TYPE")
            .at(pos)
        };
        let element = |k: usize| match &types[k] {
            DataType::Array(t) => Ok((**t).clone()),
            t => Err(mismatch(ORDINALS[k], "ARRAY", args[k], t)),
        };
        let entry = |k: usize| match &types[k] {
            DataType::Map(key, value) => Ok(((**key).clone(), (**value).clone())),
            t => Err(mismatch(ORDINALS[k], "MAP", args[k], t)),
        };
        use HigherOrderFunc as H;
        // The variables' types, lambda by lambda (the first type of each is what the lambda's
        // first argument is, and so on; a shorter lambda takes the first ones).
        let mut plain = plain;
        let params: Vec<Vec<DataType>> = match func {
            H::Transform | H::Filter => vec![vec![element(0)?, DataType::Int]],
            H::Exists | H::Forall => vec![vec![element(0)?]],
            H::Aggregate => {
                let e = element(0)?;
                vec![vec![types[1].clone(), e], vec![types[1].clone()]]
            }
            H::ZipWith => vec![vec![element(0)?, element(1)?]],
            H::MapFilter | H::TransformKeys | H::TransformValues => {
                let (k, v) = entry(0)?;
                vec![vec![k, v]]
            }
            H::MapZipWith => {
                let ((k1, v1), (k2, v2)) = (entry(0)?, entry(1)?);
                let k = if k1 == k2 {
                    k1
                } else {
                    wider_type(&k1, &k2).filter(|k| k.is_numeric()).ok_or_else(|| {
                    Error::type_mismatch(format!(
                        "[DATATYPE_MISMATCH.MAP_ZIP_WITH_DIFF_TYPES] Cannot resolve \"{sql}\" due to data type mismatch: Input to the `map_zip_with` should have been two maps with compatible key types, but it's [\"{}\", \"{}\"]. SQLSTATE: 42K09",
                        types[0].spark_name(),
                        types[1].spark_name()
                    ))
                    .with_condition("DATATYPE_MISMATCH.MAP_ZIP_WITH_DIFF_TYPES")
                    .at(pos)
                })?
                };
                plain[0] = plain[0].clone().cast_to(&DataType::Map(Box::new(k.clone()), Box::new(v1.clone())));
                plain[1] = plain[1].clone().cast_to(&DataType::Map(Box::new(k.clone()), Box::new(v2.clone())));
                vec![vec![k, v1, v2]]
            }
            H::ArraySort => {
                let e = element(0)?;
                vec![vec![e.clone(), e]]
            }
        };
        let mut lambdas = Vec::new();
        for (k, arg) in args[sh.plain..].iter().enumerate() {
            lambdas.push(self.lambda(arg, sh.lambdas[k], &params[k], scope)?);
        }
        let body_type = |k: usize| lambdas[k].body.data_type();
        let wrong_lambda = |ordinal: &str, expected: &str, k: usize| {
            let arg = args[sh.plain + k];
            Error::type_mismatch(format!(
                "[DATATYPE_MISMATCH.UNEXPECTED_INPUT_TYPE] Cannot resolve \"{sql}\" due to data type mismatch: The {ordinal} parameter requires the \"{expected}\" type, however \"{}\" has the type \"{}\". SQLSTATE: 42K09",
                spark_sql(arg),
                body_type(k).spark_name()
            ))
            .with_condition("DATATYPE_MISMATCH.UNEXPECTED_INPUT_TYPE")
            .at(pos)
        };
        let data_type = match func {
            H::Transform => DataType::Array(Box::new(body_type(0))),
            H::Filter | H::Exists | H::Forall | H::MapFilter => {
                match body_type(0) {
                    DataType::Boolean => {}
                    DataType::Null => lambdas[0].body = lambdas[0].body.clone().cast_to(&DataType::Boolean),
                    _ => return Err(wrong_lambda("second", "BOOLEAN", 0)),
                }
                if matches!(func, H::Exists | H::Forall) {
                    DataType::Boolean
                } else {
                    types[0].clone()
                }
            }
            H::Aggregate => {
                if body_type(0) != types[1] {
                    return Err(wrong_lambda("third", &types[1].spark_name(), 0));
                }
                lambdas.get(1).map_or_else(|| types[1].clone(), |f| f.body.data_type())
            }
            H::ZipWith => DataType::Array(Box::new(body_type(0))),
            H::TransformKeys => {
                let (_, v) = entry(0)?;
                DataType::Map(Box::new(body_type(0)), Box::new(v))
            }
            H::TransformValues => {
                let (k, _) = entry(0)?;
                DataType::Map(Box::new(k), Box::new(body_type(0)))
            }
            H::MapZipWith => DataType::Map(Box::new(params[0][0].clone()), Box::new(body_type(0))),
            H::ArraySort => {
                if let Some(c) = lambdas.first() {
                    let t = c.body.data_type();
                    if t != DataType::Int {
                        return Err(Error::type_mismatch(format!(
                            "[DATATYPE_MISMATCH.UNEXPECTED_RETURN_TYPE] Cannot resolve \"{sql}\" due to data type mismatch: The `lambdafunction` requires return \"INT\" type, but the actual is \"{}\" type. SQLSTATE: 42K09",
                            if t == DataType::Null { "VOID".to_string() } else { t.spark_name() }
                        ))
                        .with_condition("DATATYPE_MISMATCH.UNEXPECTED_RETURN_TYPE")
                        .at(pos));
                    }
                }
                types[0].clone()
            }
        };
        Ok(Expr::HigherOrder(Box::new(HigherOrder { func, args: plain, lambdas, data_type })))
    }

    /// Resolves one lambda: its arguments (as many as `arities` allows) take the first of
    /// `types` and shadow any column of the same name while its body is resolved.
    fn lambda(&mut self, arg: &ast::Expr, arities: &[usize], types: &[DataType], scope: &Scope) -> Result<Lambda> {
        let ast::Expr::Lambda(l) = arg else {
            // Spark resolves a plain expression here as the function's argument, and fails on it.
            let e = self.expr(arg, scope)?;
            return Err(Error::type_mismatch(format!(
                "[DATATYPE_MISMATCH.UNEXPECTED_INPUT_TYPE] `{}` of type {} is not a lambda function: write one as `x -> ...` or `(x, y) -> ...`",
                spark_sql(arg),
                e.data_type().spark_name()
            ))
            .with_condition("DATATYPE_MISMATCH.UNEXPECTED_INPUT_TYPE")
            .at(expr_position(arg)));
        };
        let names: Vec<&ast::Ident> = match &l.params {
            ast::OneOrManyWithParens::One(p) => vec![&p.name],
            ast::OneOrManyWithParens::Many(ps) => ps.iter().map(|p| &p.name).collect(),
        };
        let params: Vec<&ast::LambdaFunctionParameter> = match &l.params {
            ast::OneOrManyWithParens::One(p) => vec![p],
            ast::OneOrManyWithParens::Many(ps) => ps.iter().collect(),
        };
        let at = names.first().and_then(|n| position_of(n.span)).or_else(|| expr_position(arg));
        if l.syntax != ast::LambdaSyntax::Arrow || params.iter().any(|p| p.data_type.is_some()) {
            return Err(Error::parse("a lambda is written `x -> ...` or `(x, y) -> ...`, without types", at));
        }
        if !arities.contains(&names.len()) {
            return Err(Error::type_mismatch(format!(
                "[INVALID_LAMBDA_FUNCTION_CALL.NUM_ARGS_MISMATCH] Invalid lambda function call. A higher order function expects {} arguments, but got {}. SQLSTATE: 42K0D",
                names.len(),
                arities[0]
            ))
            .with_condition("INVALID_LAMBDA_FUNCTION_CALL.NUM_ARGS_MISMATCH")
            .at(at));
        }
        for (k, n) in names.iter().enumerate() {
            if names[..k].iter().any(|m| m.value.eq_ignore_ascii_case(&n.value)) {
                let list = names.iter().map(|n| format!("`{}`", n.value)).collect::<Vec<_>>().join(", ");
                return Err(Error::type_mismatch(format!(
                    "[INVALID_LAMBDA_FUNCTION_CALL.DUPLICATE_ARG_NAMES] Invalid lambda function call. The lambda function has duplicate arguments {list}. Please, consider to rename the argument names or set \"spark.sql.caseSensitive\" to \"true\". SQLSTATE: 42K0D"
                ))
                .with_condition("INVALID_LAMBDA_FUNCTION_CALL.DUPLICATE_ARG_NAMES")
                .at(at));
            }
        }
        if self.lambda_vars.len() + names.len() > limits::MAX_LAMBDA_VARIABLES {
            return Err(Error::unsupported(format!(
                "lambdas nest too deeply: at most {} variables may be in scope at once",
                limits::MAX_LAMBDA_VARIABLES
            ))
            .at(at));
        }
        let enclosing = self.lambda_vars.len();
        let params: Vec<DataType> = types[..names.len()].to_vec();
        self.lambda_vars.extend(names.iter().map(|n| n.value.clone()).zip(params.iter().cloned()));
        let body = self.expr(&l.body, scope);
        self.lambda_vars.truncate(enclosing);
        Ok(Lambda { params, enclosing, body: body? })
    }

    /// A lambda variable named `name`, the innermost first.
    pub(super) fn lambda_var(&self, name: &str) -> Option<Expr> {
        let n = self.lambda_vars.len();
        self.lambda_vars
            .iter()
            .enumerate()
            .rev()
            .find(|(_, (v, _))| v.eq_ignore_ascii_case(name))
            .map(|(k, (_, t))| Expr::LambdaVar { from_end: n - k, data_type: t.clone() })
    }
}

const ORDINALS: [&str; 4] = ["first", "second", "third", "fourth"];
