//! Naming: the column name Spark gives an unaliased expression, from its SQL text.

use super::*;

/// The column name Spark gives an unaliased expression (`round(((temp * 1.8) + 32), 2)`).
pub fn output_name(e: &ast::Expr) -> String {
    match e {
        ast::Expr::Identifier(i) => i.value.clone(),
        ast::Expr::CompoundIdentifier(parts) => parts.last().map(|p| p.value.clone()).unwrap_or_default(),
        other => spark_sql(other),
    }
}

/// Spark's SQL rendering of an expression: binary operators fully parenthesised, function names
/// lower case, string literals bare.
pub fn spark_sql(e: &ast::Expr) -> String {
    use ast::Expr as E;
    match e {
        E::Identifier(i) => i.value.clone(),
        E::CompoundIdentifier(parts) => parts.iter().map(|p| p.value.clone()).collect::<Vec<_>>().join("."),
        E::Nested(inner) => spark_sql(inner),
        E::Value(v) => match &v.value {
            ast::Value::SingleQuotedString(s) | ast::Value::DoubleQuotedString(s) => s.clone(),
            ast::Value::Null => "NULL".into(),
            ast::Value::Boolean(b) => b.to_string(),
            other => other.to_string(),
        },
        E::BinaryOp { .. } => {
            // `(((a OR b) OR c) OR d)`, built with a loop: the chain is as deep as it is long.
            let mut spine = Vec::new();
            let mut leftmost = e;
            while let E::BinaryOp { left, op, right } = leftmost {
                spine.push((op, right));
                leftmost = left;
            }
            let mut out = "(".repeat(spine.len());
            out.push_str(&spark_sql(leftmost));
            for (op, right) in spine.into_iter().rev() {
                out.push_str(&format!(" {op} {})", spark_sql(right)));
            }
            out
        }
        E::UnaryOp { op: ast::UnaryOperator::Not, expr } => format!("(NOT {})", spark_sql(expr)),
        E::UnaryOp { op, expr } => format!("{op}{}", spark_sql(expr)),
        E::Function(f) => spark_sql_function(f),
        E::Cast { kind: ast::CastKind::TryCast, expr, data_type, .. } => {
            format!("TRY_CAST({} AS {})", spark_sql(expr), data_type.to_string().to_ascii_uppercase())
        }
        E::Cast { expr, data_type, .. } => format!("CAST({} AS {})", spark_sql(expr), data_type.to_string().to_ascii_uppercase()),
        E::IsNull(x) => format!("({} IS NULL)", spark_sql(x)),
        E::IsNotNull(x) => format!("({} IS NOT NULL)", spark_sql(x)),
        other => other.to_string(),
    }
}

/// Spark's name for a function call: `round(((temp * 1.8) + 32), 2)`.
pub(super) fn spark_sql_function(f: &ast::Function) -> String {
    let args = match &f.args {
        ast::FunctionArguments::List(l) => l
            .args
            .iter()
            .map(|a| match a {
                ast::FunctionArg::Unnamed(ast::FunctionArgExpr::Expr(x)) => spark_sql(x),
                other => other.to_string(),
            })
            .collect::<Vec<_>>()
            .join(", "),
        _ => String::new(),
    };
    let name = f.name.to_string().to_ascii_lowercase();
    let distinct =
        matches!(&f.args, ast::FunctionArguments::List(l) if matches!(l.duplicate_treatment, Some(ast::DuplicateTreatment::Distinct)));
    if name == "count" && (args == "*" || args.is_empty()) {
        return "count(1)".into();
    }
    if distinct {
        return format!("{name}(DISTINCT {args})");
    }
    format!("{name}({args})")
}
