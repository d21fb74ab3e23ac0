//! Budgets checked before the work they bound: the size of the SQL text, how deeply it nests,
//! how large a plan it expands to. A query from a stranger must fail with a message that says
//! which limit it passed, never exhaust the stack or the memory of the page.
//!
//! Also the walks over sqlparser's AST that must not recurse on the length of an operator
//! chain (`a OR b OR ...` is parsed left-deep, one level per term): where an expression starts,
//! and taking a parsed query apart without a recursive drop.

use sqlparser::ast::{self, Spanned};
use sqlparser::keywords::Keyword;
use sqlparser::tokenizer::{Token, TokenWithSpan};

use crate::error::{Error, Position, Result};
use crate::plan::LogicalPlan;

/// The longest SQL text accepted, in bytes.
pub const MAX_SQL_BYTES: usize = 256 * 1024;

/// The most tokens a query may have (a 10,000-term chain has about 20,000).
pub const MAX_SQL_TOKENS: usize = 100_000;

/// How deeply parentheses (of subqueries and function calls too), CASE and prefix operators
/// such as NOT may nest, counted on the tokens before parsing.
pub const MAX_NESTING: usize = 64;

/// sqlparser's own recursion limit, a backstop for nesting the token count does not see
/// (`NOT a = NOT b = ...`). When it trips inside an expression sqlparser may report a plain
/// syntax error at that place instead, so the token check above comes first.
pub const PARSER_RECURSION_LIMIT: usize = 2 * MAX_NESTING;

/// Lambda variables in scope at once (nested lambdas): each adds a column to the batch its
/// body runs over. Parentheses already bound the nesting; this bounds the batch's width.
pub const MAX_LAMBDA_VARIABLES: usize = 64;

/// Rows `stack(n, ...)` makes from one input row.
pub const MAX_STACK_ROWS: usize = 10_000;

/// Subqueries and CTE bodies inside one another: a chain of CTEs each reading the previous one
/// nests without any parentheses, so it is counted here rather than by the parser.
pub const MAX_QUERY_NESTING: usize = 24;

/// Relations read plus queries analysed: a CTE is expanded wherever it is used, so thirty CTEs
/// that each read the previous one twice would make 2^30 scans.
pub const MAX_RELATIONS: usize = 10_000;

/// Joins in one FROM clause.
pub const MAX_JOINS: usize = 64;

/// Operators between a source and the output, along the longest path.
pub const MAX_PLAN_DEPTH: usize = 256;

/// Time windows one row may fall into (`window(ts, size, slide)` puts a row in size/slide of
/// them). Spark has no such limit; a session in a browser needs one.
pub const MAX_WINDOWS_PER_ROW: i64 = 1_000;

pub fn sql_too_long(bytes: usize) -> Error {
    Error::parse(
        format!(
            "[PARSE_SYNTAX_ERROR] The query is {bytes} bytes long; at most {MAX_SQL_BYTES} bytes (256 KiB) are accepted. SQLSTATE: 42601"
        ),
        Some(Position { line: 1, column: 1 }),
    )
}

pub fn too_many_tokens(tokens: usize, at: Position) -> Error {
    Error::parse(
        format!(
            "[PARSE_SYNTAX_ERROR] The query has more than {MAX_SQL_TOKENS} tokens ({tokens}); split it into smaller queries. SQLSTATE: 42601"
        ),
        Some(at),
    )
}

pub fn nested_too_deeply(at: Option<Position>) -> Error {
    Error::parse(
        format!(
            "[PARSE_SYNTAX_ERROR] The query is nested too deeply here: at most {MAX_NESTING} levels of parentheses, NOT, CASE, subqueries and function calls inside one another are accepted. SQLSTATE: 42601"
        ),
        at,
    )
}

pub fn nested_too_deeply_queries() -> Error {
    Error::unsupported(format!(
        "The query nests more than {MAX_QUERY_NESTING} subqueries and common table expressions inside one another; flatten it"
    ))
}

pub fn too_many_relations(n: usize) -> Error {
    Error::unsupported(format!(
        "The query expands to more than {MAX_RELATIONS} relations and subqueries (at least {n}; a common table expression counts once for every place it is used); simplify it"
    ))
}

pub fn too_many_joins(n: usize) -> Error {
    Error::unsupported(format!("The FROM clause joins {n} relations; at most {MAX_JOINS} joins are supported in one FROM"))
}

/// Refuses a plan deeper than [`MAX_PLAN_DEPTH`], measured without recursion.
pub fn check_plan_depth(plan: &LogicalPlan) -> Result<()> {
    let mut todo = vec![(plan, 1usize)];
    while let Some((p, depth)) = todo.pop() {
        if depth > MAX_PLAN_DEPTH {
            return Err(Error::unsupported(format!(
                "The query's plan is more than {MAX_PLAN_DEPTH} operators deep; nest fewer subqueries, CTEs and joins"
            )));
        }
        todo.extend(p.children().into_iter().map(|c| (c, depth + 1)));
    }
    Ok(())
}

fn position_of(span: sqlparser::tokenizer::Span) -> Option<Position> {
    (span.start.line > 0).then_some(Position { line: span.start.line, column: span.start.column })
}

/// Where an expression starts. sqlparser's `span()` unions the spans of every child, which
/// recurses (and costs) as much as the expression is long; the start is the start of the
/// leftmost operand, reached by a loop.
pub fn expr_position(e: &ast::Expr) -> Option<Position> {
    use ast::Expr as E;
    let mut cur = e;
    loop {
        cur = match cur {
            E::BinaryOp { left, .. } => left,
            E::Nested(x)
            | E::UnaryOp { expr: x, .. }
            | E::IsNull(x)
            | E::IsNotNull(x)
            | E::IsTrue(x)
            | E::IsFalse(x)
            | E::IsNotTrue(x)
            | E::IsNotFalse(x)
            | E::InList { expr: x, .. }
            | E::Between { expr: x, .. }
            | E::Like { expr: x, .. }
            | E::ILike { expr: x, .. }
            | E::Cast { expr: x, .. }
            | E::Collate { expr: x, .. }
            | E::CompoundFieldAccess { root: x, .. } => x,
            E::Function(f) => return position_of(f.name.span()),
            E::Case { case_token, .. } => return position_of(case_token.0.span),
            E::Identifier(_) | E::CompoundIdentifier(_) | E::Value(_) | E::TypedString(_) => return position_of(cur.span()),
            // Other forms nest only as deep as the parser allows.
            other => return position_of(other.span()),
        };
    }
}

/// Where a query starts: its WITH or its first SELECT.
pub fn query_position(q: &ast::Query) -> Option<Position> {
    let mut q = q;
    loop {
        if let Some(with) = &q.with {
            return position_of(with.with_token.0.span);
        }
        let mut body = q.body.as_ref();
        loop {
            match body {
                ast::SetExpr::Select(s) => return position_of(s.select_token.0.span),
                ast::SetExpr::SetOperation { left, .. } => body = left,
                ast::SetExpr::Query(inner) => {
                    q = inner;
                    break;
                }
                _ => return None,
            }
        }
    }
}

/// Where a relation of FROM starts.
pub fn relation_position(f: &ast::TableFactor) -> Option<Position> {
    match f {
        ast::TableFactor::Table { name, .. } => position_of(name.span()),
        ast::TableFactor::Derived { subquery, .. } => query_position(subquery),
        // Other forms are refused by the analyzer; their span is small.
        other => position_of(other.span()),
    }
}

/// Drops a parsed query without recursing on operator chains: sqlparser's derived drop goes
/// one call deeper per term of `a OR b OR ...`, which overflows the stack for long chains. The
/// expressions are taken apart with an explicit stack first; what is left is shallow.
pub fn dismantle_query(q: ast::Query) {
    let mut exprs: Vec<ast::Expr> = Vec::new();
    let mut queries: Vec<ast::Query> = vec![q];
    while let Some(mut q) = queries.pop() {
        if let Some(with) = q.with.take() {
            queries.extend(with.cte_tables.into_iter().map(|c| *c.query));
        }
        if let Some(order) = q.order_by.take() {
            if let ast::OrderByKind::Expressions(list) = order.kind {
                exprs.extend(list.into_iter().map(|o| o.expr));
            }
        }
        let mut bodies = vec![std::mem::replace(
            q.body.as_mut(),
            ast::SetExpr::Values(ast::Values { explicit_row: false, value_keyword: false, rows: vec![] }),
        )];
        while let Some(body) = bodies.pop() {
            match body {
                ast::SetExpr::Select(s) => {
                    let s = *s;
                    for item in s.projection {
                        match item {
                            ast::SelectItem::UnnamedExpr(e) | ast::SelectItem::ExprWithAlias { expr: e, .. } => exprs.push(e),
                            _ => {}
                        }
                    }
                    exprs.extend(s.selection);
                    exprs.extend(s.having);
                    if let ast::GroupByExpr::Expressions(list, _) = s.group_by {
                        exprs.extend(list);
                    }
                    for twj in s.from {
                        let mut factors = vec![twj.relation];
                        for j in twj.joins {
                            factors.push(j.relation);
                            use ast::JoinOperator as J;
                            match j.join_operator {
                                J::Join(c)
                                | J::Inner(c)
                                | J::Left(c)
                                | J::LeftOuter(c)
                                | J::Right(c)
                                | J::RightOuter(c)
                                | J::FullOuter(c) => {
                                    if let ast::JoinConstraint::On(e) = c {
                                        exprs.push(e);
                                    }
                                }
                                _ => {}
                            }
                        }
                        for f in factors {
                            if let ast::TableFactor::Derived { subquery, .. } = f {
                                queries.push(*subquery);
                            }
                        }
                    }
                }
                ast::SetExpr::Query(inner) => queries.push(*inner),
                ast::SetExpr::SetOperation { left, right, .. } => {
                    bodies.push(*left);
                    bodies.push(*right);
                }
                _ => {}
            }
        }
    }
    dismantle_exprs(exprs);
}

/// Takes expressions apart child by child, so that no drop recurses deeply.
pub fn dismantle_exprs(mut todo: Vec<ast::Expr>) {
    use ast::Expr as E;
    while let Some(e) = todo.pop() {
        match e {
            E::BinaryOp { left, right, .. } => {
                todo.push(*left);
                todo.push(*right);
            }
            E::Nested(x)
            | E::UnaryOp { expr: x, .. }
            | E::IsNull(x)
            | E::IsNotNull(x)
            | E::IsTrue(x)
            | E::IsFalse(x)
            | E::IsNotTrue(x)
            | E::IsNotFalse(x)
            | E::Cast { expr: x, .. }
            | E::Collate { expr: x, .. } => todo.push(*x),
            E::InList { expr, list, .. } => {
                todo.push(*expr);
                todo.extend(list);
            }
            E::Between { expr, low, high, .. } => {
                todo.push(*expr);
                todo.push(*low);
                todo.push(*high);
            }
            E::Like { expr, pattern, .. } | E::ILike { expr, pattern, .. } => {
                todo.push(*expr);
                todo.push(*pattern);
            }
            E::Case { operand, conditions, else_result, .. } => {
                todo.extend(operand.map(|o| *o));
                for c in conditions {
                    todo.push(c.condition);
                    todo.push(c.result);
                }
                todo.extend(else_result.map(|o| *o));
            }
            E::Function(f) => {
                if let ast::FunctionArguments::List(l) = f.args {
                    for a in l.args {
                        if let ast::FunctionArg::Unnamed(ast::FunctionArgExpr::Expr(x)) = a {
                            todo.push(x);
                        }
                    }
                }
            }
            E::CompoundFieldAccess { root, .. } => todo.push(*root),
            _ => {}
        }
    }
}

/// Refuses nesting deeper than [`MAX_NESTING`] at the token where it happens: open parentheses,
/// open CASEs, and a run of prefix operators (`NOT NOT NOT x`) together.
pub fn check_nesting(toks: &[TokenWithSpan]) -> Result<()> {
    let (mut parens, mut cases, mut run) = (0usize, 0usize, 0usize);
    for t in toks {
        let keyword = match &t.token {
            Token::Word(w) if w.quote_style.is_none() => Some(w.keyword),
            _ => None,
        };
        match (&t.token, keyword) {
            (Token::LParen, _) => parens += 1,
            (Token::RParen, _) => parens = parens.saturating_sub(1),
            (_, Some(Keyword::CASE)) => cases += 1,
            (_, Some(Keyword::END)) => cases = cases.saturating_sub(1),
            _ => {}
        }
        let prefix = matches!(t.token, Token::Minus | Token::Plus | Token::Tilde | Token::ExclamationMark) || keyword == Some(Keyword::NOT);
        run = if prefix { run + 1 } else { 0 };
        if parens + cases + run > MAX_NESTING {
            let at = Position { line: t.span.start.line, column: t.span.start.column };
            return Err(nested_too_deeply(Some(at)));
        }
    }
    Ok(())
}

/// Checks the size of the text before anything is tokenized.
pub fn check_text(sql: &str) -> Result<()> {
    if sql.len() > MAX_SQL_BYTES {
        return Err(sql_too_long(sql.len()));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    //! Each budget and each walk that must not recurse, at sizes past the limit. These run in
    //! the wasm suite too, under its 1 MB stack.
    use std::sync::Arc;

    use arrow_array::{ArrayRef, BooleanArray, Int32Array, RecordBatch, StringArray, TimestampMicrosecondArray};

    use super::*;
    use crate::error::ErrorKind;
    use crate::expr::Expr;
    use crate::sql::{analyze, Catalog};
    use crate::types::{Column, DataType, Schema};
    use crate::value::Value;
    #[cfg(target_arch = "wasm32")]
    use wasm_bindgen_test::wasm_bindgen_test as test;

    fn schema() -> Schema {
        Schema::new(vec![
            Column { name: "a".into(), data_type: DataType::Int },
            Column { name: "b".into(), data_type: DataType::Boolean },
            Column { name: "s".into(), data_type: DataType::String },
            Column { name: "ts".into(), data_type: DataType::Timestamp },
        ])
    }

    fn catalog() -> Catalog {
        Catalog { sources: vec![("events".into(), schema())], tables: vec![] }
    }

    /// Two rows: (1, true, "x", 0) and (2, false, "y", 1 s).
    fn batch() -> RecordBatch {
        let cols: Vec<ArrayRef> = vec![
            Arc::new(Int32Array::from(vec![1, 2])),
            Arc::new(BooleanArray::from(vec![true, false])),
            Arc::new(StringArray::from(vec!["x", "y"])),
            Arc::new(TimestampMicrosecondArray::from(vec![0, 1_000_000])),
        ];
        RecordBatch::try_new(schema().to_arrow(), cols).unwrap()
    }

    fn error(sql: &str) -> crate::Error {
        analyze(sql, &catalog()).err().unwrap_or_else(|| panic!("expected an error for {}", &sql[..sql.len().min(200)]))
    }

    /// The first column the query selects, evaluated over [`batch`].
    fn first_column(sql: &str) -> Vec<Value> {
        let q = analyze(sql, &catalog()).unwrap_or_else(|e| panic!("{}: {e}", &sql[..sql.len().min(200)]));
        let LogicalPlan::Project { exprs, .. } = &q.plan else { panic!("a projection on top") };
        let out = exprs[0].evaluate_to_array(&batch()).unwrap();
        (0..out.len()).map(|k| Value::from_array(out.as_ref(), k)).collect()
    }

    fn filter_of(plan: &LogicalPlan) -> Option<&Expr> {
        let mut todo = vec![plan];
        while let Some(p) = todo.pop() {
            if let LogicalPlan::Filter { predicate, .. } = p {
                return Some(predicate);
            }
            todo.extend(p.children());
        }
        None
    }

    const TERMS: usize = 10_000;

    #[test]
    fn chains_of_ten_thousand_terms_analyze_and_evaluate() {
        let chain = |term: &str, op: &str| vec![term; TERMS].join(&format!(" {op} "));
        assert_eq!(first_column(&format!("SELECT {} AS v FROM events", chain("a", "+"))), vec![Value::Int(10_000), Value::Int(20_000)]);
        assert_eq!(first_column(&format!("SELECT {} AS v FROM events", chain("a", "-"))), vec![Value::Int(-9_998), Value::Int(-19_996)]);
        assert_eq!(first_column(&format!("SELECT a * {} AS v FROM events", chain("1", "*"))), vec![Value::Int(1), Value::Int(2)]);
        let concat = first_column(&format!("SELECT {} AS v FROM events", chain("s", "||")));
        assert_eq!(concat, vec![Value::String("x".repeat(TERMS)), Value::String("y".repeat(TERMS))]);
        assert_eq!(
            first_column(&format!("SELECT {} AS v FROM events", chain("b", "AND"))),
            vec![Value::Boolean(true), Value::Boolean(false)]
        );
        assert_eq!(
            first_column(&format!("SELECT {} AS v FROM events", chain("b", "OR"))),
            vec![Value::Boolean(true), Value::Boolean(false)]
        );
        // Widening along the chain: INT, then DOUBLE from the first `1.5D` on.
        let mixed = format!("SELECT a + 1.5D + {} AS v FROM events", chain("a", "-"));
        assert_eq!(first_column(&mixed), vec![Value::Double(1.0 + 1.5 + 1.0 - 9_999.0), Value::Double(2.0 + 1.5 + 2.0 - 19_998.0)]);
        // Or DECIMAL from a `1.5`, its precision growing to 38 (Spark's bound).
        let exact = format!("SELECT a + 1.5 + {} AS v FROM events", chain("a", "-"));
        let decimal = |unscaled| Value::Decimal { unscaled, precision: 38, scale: 1 };
        assert_eq!(first_column(&exact), vec![decimal(-99_955), decimal(-199_925)]);
        // In WHERE, as one predicate of many conjuncts and disjuncts.
        for op in ["OR", "AND"] {
            let q = analyze(&format!("SELECT a FROM events WHERE {}", chain("a = 1", op)), &catalog()).unwrap();
            let mask = filter_of(&q.plan).expect("a filter").evaluate_predicate(&batch()).unwrap();
            assert_eq!(mask, BooleanArray::from(vec![true, false]), "{op}");
        }
    }

    #[test]
    fn nesting_beyond_the_limit_is_refused_where_it_happens() {
        let deep = 2 * MAX_NESTING;
        let cases = [
            format!("SELECT a FROM events WHERE {}b", "NOT ".repeat(deep)),
            format!("SELECT {}a{} FROM events", "(".repeat(deep), ")".repeat(deep)),
            format!("SELECT {}a{} FROM events", "CASE WHEN b THEN ".repeat(deep), " END".repeat(deep)),
            format!("SELECT {}a{} FROM events", "abs(".repeat(deep), ")".repeat(deep)),
            format!("SELECT a FROM {}events{}", "(SELECT a FROM ".repeat(deep), ")".repeat(deep)),
        ];
        for sql in &cases {
            let e = error(sql);
            assert_eq!(e.kind, ErrorKind::Parse, "{}: {e}", &sql[..40]);
            assert!(e.message.contains("nested too deeply") && e.message.contains(&MAX_NESTING.to_string()), "{}: {e}", &sql[..40]);
            let p = e.position.unwrap_or_else(|| panic!("no position: {e}"));
            assert!(p.line == 1 && p.column > 1, "{}: {p:?}", &sql[..40]);
        }
    }

    #[test]
    fn nesting_within_the_limit_is_fine() {
        let n = 40;
        assert_eq!(first_column(&format!("SELECT {}a{} AS v FROM events", "(".repeat(n), ")".repeat(n)))[0], Value::Int(1));
        assert_eq!(first_column(&format!("SELECT {}b AS v FROM events", "NOT ".repeat(n)))[0], Value::Boolean(true));
        assert_eq!(first_column(&format!("SELECT {}a{} AS v FROM events", "abs(".repeat(n), ")".repeat(n)))[0], Value::Int(1));
        let case = format!("SELECT {}a{} AS v FROM events", "CASE WHEN b THEN ".repeat(n), " END".repeat(n));
        assert_eq!(first_column(&case), vec![Value::Int(1), Value::Null]);
        let n = MAX_QUERY_NESTING - 4;
        assert!(analyze(&format!("SELECT a FROM {}events{}", "(SELECT a FROM ".repeat(n), ")".repeat(n)), &catalog()).is_ok());
    }

    #[test]
    fn a_cte_named_like_its_source_reads_the_source() {
        let q = analyze("WITH events AS (SELECT a FROM STREAM events WHERE a > 1) SELECT a FROM events", &catalog()).unwrap();
        assert!(q.plan.to_string().contains("StreamingSource events"), "{}", q.plan);
        assert_eq!(filter_of(&q.plan).map(|p| p.evaluate_predicate(&batch()).unwrap()), Some(BooleanArray::from(vec![false, true])));
    }

    #[test]
    fn ctes_see_only_the_ones_defined_before_them() {
        // `x` reads `y`, defined after it: to `x`, `y` does not exist (Spark: TABLE_OR_VIEW_NOT_FOUND).
        let e = error("WITH x AS (SELECT * FROM y),\n     y AS (SELECT * FROM x)\nSELECT * FROM y");
        assert_eq!(e.kind, ErrorKind::UnknownTable, "{e}");
        assert_eq!(e.position, Some(Position { line: 1, column: 26 }), "{e}");
        assert!(e.message.contains("`y`"), "{e}");
        // A later CTE reads an earlier one.
        assert!(analyze("WITH x AS (SELECT a FROM events), y AS (SELECT a FROM x) SELECT a FROM y", &catalog()).is_ok());
        let e = error("WITH x AS (SELECT a FROM events), X AS (SELECT a FROM events) SELECT a FROM x");
        assert_eq!((e.kind, e.spark_condition), (ErrorKind::Parse, Some("DUPLICATED_CTE_NAMES")), "{e}");
    }

    #[test]
    fn ctes_that_double_at_every_level_are_refused_by_plan_size() {
        // c20 reads c19 twice, ... : 2^20 scans if expanded.
        let mut sql = String::from("WITH c0 AS (SELECT a FROM events)");
        for k in 1..=20 {
            sql.push_str(&format!(", c{k} AS (SELECT a FROM c{p} UNION ALL SELECT a FROM c{p})", p = k - 1));
        }
        sql.push_str(" SELECT a FROM c20");
        let e = error(&sql);
        assert_eq!(e.kind, ErrorKind::UnsupportedOperation, "{e}");
        assert!(e.message.contains(&MAX_RELATIONS.to_string()), "{e}");
    }

    #[test]
    fn a_long_chain_of_ctes_is_refused_by_nesting() {
        let mut sql = String::from("WITH c0 AS (SELECT a FROM events)");
        for k in 1..=200 {
            sql.push_str(&format!(", c{k} AS (SELECT a FROM c{})", k - 1));
        }
        sql.push_str(" SELECT a FROM c200");
        let e = error(&sql);
        assert!(e.message.contains(&MAX_QUERY_NESTING.to_string()), "{e}");
        assert!(e.position.is_some(), "{e}");
    }

    #[test]
    fn many_joins_are_refused_by_count() {
        let tables = Schema::new(vec![Column { name: "a".into(), data_type: DataType::Int }]);
        let mut c = catalog();
        c.tables.push(("t".into(), tables.clone(), RecordBatch::new_empty(tables.to_arrow())));
        let joins: String = (0..MAX_JOINS + 1).map(|k| format!(" JOIN t t{k} ON e.a = t{k}.a")).collect();
        let e = analyze(&format!("SELECT e.a FROM events e{joins}"), &c).unwrap_err();
        assert!(e.message.contains(&MAX_JOINS.to_string()) && e.position.is_some(), "{e}");
    }

    #[test]
    fn sliding_windows_are_bounded_per_row() {
        let e = error("SELECT window, count(*) FROM events GROUP BY window(ts, '1 day', '1 microsecond')");
        assert_eq!(e.kind, ErrorKind::UnsupportedOperation, "{e}");
        assert!(e.message.contains("86400000000 windows") && e.message.contains("at most 1000"), "{e}");
        assert!(e.position.is_some());
        assert!(analyze("SELECT window, count(*) FROM events GROUP BY window(ts, '10 minutes', '1 second')", &catalog()).is_ok());
        let e = error("SELECT window, count(*) FROM events GROUP BY window(ts, '1001 seconds', '1 second')");
        assert!(e.message.contains("1001 windows"), "{e}");
    }

    #[test]
    fn watermark_delays_that_overflow_say_so() {
        let days = "50000000 DAYS ".repeat(3);
        let e = error(&format!("SELECT a FROM events WATERMARK ts DELAY OF INTERVAL {days}"));
        assert_eq!(e.kind, ErrorKind::Parse, "{e}");
        assert!(e.message.contains("too large") && e.position.is_some(), "{e}");
        let e = error("SELECT a FROM events WATERMARK ts DELAY OF INTERVAL 100000000 MONTHS");
        assert!(e.message.contains("too large") && e.position == Some(Position { line: 1, column: 22 }), "{e}");
    }

    #[test]
    fn text_and_token_budgets() {
        let long = format!("SELECT a FROM events WHERE s = '{}'", "x".repeat(MAX_SQL_BYTES));
        let e = error(&long);
        assert_eq!(e.kind, ErrorKind::Parse);
        assert!(e.message.contains("256 KiB"), "{e}");
        let many = format!("SELECT a FROM events WHERE a IN ({})", vec!["1"; MAX_SQL_TOKENS / 2 + 1].join(","));
        let e = error(&many);
        assert!(e.message.contains(&MAX_SQL_TOKENS.to_string()) && e.position.is_some(), "{e}");
    }

    #[test]
    fn a_group_by_key_inside_a_chain_is_found() {
        let q = analyze("SELECT a + a + 1 AS v, count(*) AS n FROM events GROUP BY a + a", &catalog());
        assert!(q.is_ok(), "{:?}", q.err());
    }

    #[test]
    fn a_filter_is_not_pushed_into_an_exponential_predicate() {
        let n = 20;
        let sql = format!("SELECT a FROM {}events{} WHERE a > 0", "(SELECT a + a AS a FROM ".repeat(n), ")".repeat(n));
        let q = analyze(&sql, &catalog()).unwrap();
        let predicate = filter_of(&q.plan).expect("a filter");
        assert!(predicate.size_up_to(1 << 20) < 20_000, "the pushed predicate grew to {}", predicate.size_up_to(1 << 20));
    }
}
