//! Naming: the column name Spark gives an unaliased expression, from its SQL text.

use super::*;

/// The column name Spark gives an unaliased expression (`round(((temp * 1.8) + 32), 2)`).
/// [`output_name`] where the resolved expression matters: `s['b']` of a struct is `s.b`.
pub fn output_name_of(e: &ast::Expr, resolved: &crate::expr::Expr) -> String {
    if let (ast::Expr::CompoundFieldAccess { root, access_chain }, crate::expr::Expr::Field { .. }) = (e, resolved) {
        if let [.., ast::AccessExpr::Subscript(ast::Subscript::Index { index })] = access_chain.as_slice() {
            let prefix =
                ast::Expr::CompoundFieldAccess { root: root.clone(), access_chain: access_chain[..access_chain.len() - 1].to_vec() };
            let prefix = if access_chain.len() == 1 { spark_sql(root) } else { spark_sql(&prefix) };
            return format!("{prefix}.{}", spark_sql(index));
        }
    }
    output_name(e)
}

pub fn output_name(e: &ast::Expr) -> String {
    match e {
        ast::Expr::Identifier(i) => i.value.clone(),
        ast::Expr::CompoundIdentifier(parts) => parts.last().map(|p| p.value.clone()).unwrap_or_default(),
        // Spark names an unaliased time or session window column after the struct it is.
        ast::Expr::Function(f)
            if f.over.is_none() && matches!(f.name.to_string().to_ascii_lowercase().as_str(), "window" | "session_window") =>
        {
            f.name.to_string().to_ascii_lowercase()
        }
        // Spark 4 names a cast of a bare column after the column: `CAST(d AS STRING)` is `d`.
        ast::Expr::Cast { expr, .. } if matches!(expr.as_ref(), ast::Expr::Identifier(_) | ast::Expr::CompoundIdentifier(_)) => {
            output_name(expr)
        }
        other => spark_sql(other),
    }
}

/// Spark's SQL rendering of an expression: binary operators fully parenthesised, function names
/// lower case, string literals bare.
pub fn spark_sql(e: &ast::Expr) -> String {
    use ast::Expr as E;
    match e {
        E::Identifier(i) if is_lambda_variable(&i.value) => NAMED_LAMBDA_VARIABLE.into(),
        E::Identifier(i) => i.value.clone(),
        E::CompoundIdentifier(parts) => {
            let mut names: Vec<String> = parts.iter().map(|p| p.value.clone()).collect();
            if names.first().is_some_and(|n| is_lambda_variable(n)) {
                names[0] = NAMED_LAMBDA_VARIABLE.into();
            }
            names.join(".")
        }
        E::Lambda(l) => {
            let params: Vec<String> = match &l.params {
                ast::OneOrManyWithParens::One(p) => vec![p.name.value.clone()],
                ast::OneOrManyWithParens::Many(ps) => ps.iter().map(|p| p.name.value.clone()).collect(),
            };
            let depth = LAMBDA_NAMES.with(|n| {
                let mut n = n.borrow_mut();
                let depth = n.len();
                n.extend(params.iter().cloned());
                depth
            });
            let body = spark_sql(&l.body);
            LAMBDA_NAMES.with(|n| n.borrow_mut().truncate(depth));
            let vars = vec![NAMED_LAMBDA_VARIABLE; params.len()].join(", ");
            format!("lambdafunction({body}, {vars})")
        }
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
            // `a || b` is Spark's `concat(a, b)`.
            let mut out: String =
                spine.iter().rev().map(|(op, _)| if matches!(op, ast::BinaryOperator::StringConcat) { "concat(" } else { "(" }).collect();
            out.push_str(&spark_sql(leftmost));
            for (op, right) in spine.into_iter().rev() {
                let right = spark_sql(right);
                match op {
                    ast::BinaryOperator::StringConcat => out.push_str(&format!(", {right})")),
                    ast::BinaryOperator::MyIntegerDivide => out.push_str(&format!(" div {right})")),
                    op => out.push_str(&format!(" {op} {right})")),
                }
            }
            out
        }
        E::UnaryOp { op: ast::UnaryOperator::Not | ast::UnaryOperator::BangNot, expr } => format!("(NOT {})", spark_sql(expr)),
        E::Like { negated, expr, pattern, escape_char, .. } => {
            let escape = escape_char.as_ref().map(|e| format!(" ESCAPE '{}'", spark_sql(e))).unwrap_or_default();
            let like = format!("{} LIKE {}{escape}", spark_sql(expr), spark_sql(pattern));
            negate(*negated, like)
        }
        E::ILike { negated, expr, pattern, .. } => negate(*negated, format!("ilike({}, {})", spark_sql(expr), spark_sql(pattern))),
        E::RLike { negated, expr, pattern, .. } => negate(*negated, format!("RLIKE({}, {})", spark_sql(expr), spark_sql(pattern))),
        E::Position { expr, r#in } => format!("locate({}, {}, 1)", spark_sql(expr), spark_sql(r#in)),
        E::Trim { expr, trim_where, trim_what, trim_characters } => {
            let side = match trim_where {
                Some(ast::TrimWhereField::Leading) => "LEADING",
                Some(ast::TrimWhereField::Trailing) => "TRAILING",
                _ => "BOTH",
            };
            match (trim_what, trim_characters.as_deref()) {
                (Some(what), _) => format!("TRIM({side} {} FROM {})", spark_sql(what), spark_sql(expr)),
                (None, Some([source])) => format!("TRIM({side} {} FROM {})", spark_sql(expr), spark_sql(source)),
                _ => format!(
                    "{}({})",
                    match side {
                        "LEADING" => "ltrim",
                        "TRAILING" => "rtrim",
                        _ => "trim",
                    },
                    spark_sql(expr)
                ),
            }
        }
        E::Ceil { expr, field: ast::CeilFloorKind::Scale(v) } => format!("ceil({}, {})", spark_sql(expr), v.value),
        E::Floor { expr, field: ast::CeilFloorKind::Scale(v) } => format!("floor({}, {})", spark_sql(expr), v.value),
        E::Extract { field, expr, .. } => format!("extract({field} FROM {})", spark_sql(expr)),
        E::UnaryOp { op, expr } => format!("{op}{}", spark_sql(expr)),
        E::Function(f) => spark_sql_function(f),
        E::Cast { kind: ast::CastKind::TryCast, expr, data_type, .. } => {
            format!("TRY_CAST({} AS {})", spark_sql(expr), data_type.to_string().to_ascii_uppercase())
        }
        E::Cast { expr, data_type, .. } => format!("CAST({} AS {})", spark_sql(expr), data_type.to_string().to_ascii_uppercase()),
        // `m[k]`, `arr[0]`, `s.a`.
        E::CompoundFieldAccess { root, access_chain } => {
            let mut out = spark_sql(root);
            for access in access_chain {
                match access {
                    ast::AccessExpr::Subscript(ast::Subscript::Index { index }) => out.push_str(&format!("[{}]", spark_sql(index))),
                    ast::AccessExpr::Dot(field) => out.push_str(&format!(".{}", spark_sql(field))),
                    other => out.push_str(&other.to_string()),
                }
            }
            out
        }
        E::IsNull(x) => format!("({} IS NULL)", spark_sql(x)),
        E::IsNotNull(x) => format!("({} IS NOT NULL)", spark_sql(x)),
        other => other.to_string(),
    }
}

/// Spark names a lambda variable in a column name by this, whatever it is called.
const NAMED_LAMBDA_VARIABLE: &str = "namedlambdavariable()";

thread_local! {
    /// The variables of the lambdas being named, while their bodies are rendered.
    static LAMBDA_NAMES: std::cell::RefCell<Vec<String>> = const { std::cell::RefCell::new(Vec::new()) };
}

fn is_lambda_variable(name: &str) -> bool {
    LAMBDA_NAMES.with(|n| n.borrow().iter().any(|v| v.eq_ignore_ascii_case(name)))
}

/// What Spark shows for an argument left out of a higher-order function: `aggregate`'s
/// identity finish and `array_sort`'s default comparator.
const SHOWN_LAMBDA_DEFAULTS: &[(&str, usize, &str)] = &[
    ("aggregate", 3, "lambdafunction(namedlambdavariable(), namedlambdavariable())"),
    ("reduce", 3, "lambdafunction(namedlambdavariable(), namedlambdavariable())"),
    ("array_sort", 1, "lambdafunction((IF(((namedlambdavariable() IS NULL) AND (namedlambdavariable() IS NULL)), 0, (IF((namedlambdavariable() IS NULL), 1, (IF((namedlambdavariable() IS NULL), -1, (IF((namedlambdavariable() < namedlambdavariable()), -1, (IF((namedlambdavariable() > namedlambdavariable()), 1, 0)))))))))), namedlambdavariable(), namedlambdavariable())"),
];

/// Functions whose column name Spark writes in capitals (its math functions, by their own names;
/// an alias such as `pow` or `sign` keeps the spelling it was called by).
const UPPER_CASE_NAMES: &[&str] = &[
    "rlike",
    "regexp",
    "regexp_like",
    "acos",
    "asin",
    "atan",
    "atan2",
    "cbrt",
    "cos",
    "cosh",
    "acosh",
    "exp",
    "expm1",
    "log",
    "log2",
    "log10",
    "log1p",
    "signum",
    "sin",
    "sinh",
    "asinh",
    "sqrt",
    "tan",
    "cot",
    "tanh",
    "atanh",
    "degrees",
    "radians",
    "sec",
    "csc",
    "power",
    "hypot",
    "pi",
    "e",
];

/// (function, number of arguments written, the default Spark shows after them).
const SHOWN_DEFAULTS: &[(&str, usize, &str)] = &[
    ("locate", 2, "1"),
    ("position", 2, "1"),
    ("split", 2, "-1"),
    ("regexp_replace", 3, "1"),
    ("regexp_extract", 2, "1"),
    ("regexp_extract_all", 2, "1"),
    ("regexp_instr", 2, "0"),
    ("lpad", 2, " "),
    ("rpad", 2, " "),
    ("replace", 2, ""),
    ("unix_timestamp", 1, "yyyy-MM-dd HH:mm:ss"),
    ("to_unix_timestamp", 1, "yyyy-MM-dd HH:mm:ss"),
    ("from_unixtime", 1, "yyyy-MM-dd HH:mm:ss"),
    ("months_between", 2, "true"),
];

fn negate(negated: bool, s: String) -> String {
    if negated {
        format!("(NOT {s})")
    } else {
        s
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
    let count = match &f.args {
        ast::FunctionArguments::List(l) => l.args.len(),
        _ => 0,
    };
    // Spark's column name shows the arguments a call left out, with their defaults.
    let args = match SHOWN_DEFAULTS.iter().chain(SHOWN_LAMBDA_DEFAULTS).find(|(n, c, _)| *n == name && *c == count) {
        Some((_, _, default)) => format!("{args}, {default}"),
        None => args,
    };
    if name == "log" && count == 1 {
        return format!("LOG(E(), {args})");
    }
    if name == "positive" && count == 1 {
        return format!("(+ {args})");
    }
    // Spark spells these in capitals in a column name, and gives the trimming forms as TRIM.
    let name = match name.as_str() {
        n if UPPER_CASE_NAMES.contains(&n) => name.to_ascii_uppercase(),
        "ltrim" | "rtrim" | "trim" => {
            if let ast::FunctionArguments::List(l) = &f.args {
                if let [ast::FunctionArg::Unnamed(ast::FunctionArgExpr::Expr(chars)), ast::FunctionArg::Unnamed(ast::FunctionArgExpr::Expr(s))] =
                    l.args.as_slice()
                {
                    let side = match name.as_str() {
                        "ltrim" => "LEADING",
                        "rtrim" => "TRAILING",
                        _ => "BOTH",
                    };
                    return format!("TRIM({side} {} FROM {})", spark_sql(chars), spark_sql(s));
                }
            }
            name
        }
        _ => name,
    };
    format!("{name}({args})")
}

#[cfg(test)]
mod tests {
    use super::*;
    #[cfg(target_arch = "wasm32")]
    use wasm_bindgen_test::wasm_bindgen_test as test;

    fn name(expr: &str) -> String {
        let (q, _) = crate::sql::parse(&format!("SELECT {expr} FROM t")).unwrap();
        let ast::SetExpr::Select(s) = q.body.as_ref() else { panic!("a select") };
        let ast::SelectItem::UnnamedExpr(e) = &s.projection[0] else { panic!("unnamed") };
        output_name(e)
    }

    #[test]
    fn unaliased_columns_get_sparks_names() {
        // Each as Spark 4.3 names it.
        for (expr, spark) in [
            ("window(ts, '10 seconds')", "window"),
            ("session_window(ts, '5 seconds')", "session_window"),
            ("7 DIV 2", "(7 div 2)"),
            ("'x' || 1 || true", "concat(concat(x, 1), true)"),
            ("'a_b' LIKE 'a!_b' ESCAPE '!'", "a_b LIKE a!_b ESCAPE '!'"),
            ("'ab' NOT LIKE 'a%'", "(NOT ab LIKE a%)"),
            ("'ABC' NOT ILIKE 'a%'", "(NOT ilike(ABC, a%))"),
            ("'abc' REGEXP 'b'", "RLIKE(abc, b)"),
            ("!true", "(NOT true)"),
            ("position('b' IN 'abc')", "locate(b, abc, 1)"),
            ("TRIM(LEADING 'xy' FROM 'yxaxy')", "TRIM(LEADING xy FROM yxaxy)"),
            ("ltrim('x', 'xxa')", "TRIM(LEADING x FROM xxa)"),
            ("replace('ABCabc', 'abc')", "replace(ABCabc, abc, )"),
            ("lpad('hi', 5)", "lpad(hi, 5,  )"),
            ("split('a,b', ',')", "split(a,b, ,, -1)"),
            ("regexp_instr('abc', 'b')", "regexp_instr(abc, b, 0)"),
            ("from_unixtime(0)", "from_unixtime(0, yyyy-MM-dd HH:mm:ss)"),
            ("to_unix_timestamp('2026-01-01')", "to_unix_timestamp(2026-01-01, yyyy-MM-dd HH:mm:ss)"),
            ("log(x)", "LOG(E(), x)"),
            ("power(2, -1)", "POWER(2, -1)"),
            ("pow(2, 3)", "pow(2, 3)"),
            ("positive(3)", "(+ 3)"),
        ] {
            assert_eq!(name(expr), spark, "{expr}");
        }
    }
}
