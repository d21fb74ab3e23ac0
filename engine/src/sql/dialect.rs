//! Spark's SQL as sqlparser's Databricks dialect parses it, plus the operators that dialect
//! lacks: `a DIV b` (integral division) and the shifts `<<` / `>>`, with Spark's precedence
//! (`*` `/` `%` `DIV` above `+` `-`, above the shifts, above `&`, above `^`, above `|`).

use std::any::TypeId;

use sqlparser::ast::{BinaryOperator, Expr};
use sqlparser::dialect::{DatabricksDialect, Dialect};
use sqlparser::keywords::Keyword;
use sqlparser::parser::{Parser, ParserError};
use sqlparser::tokenizer::Token;

/// Databricks' dialect with Spark's `DIV` and shift operators.
#[derive(Debug, Default)]
pub struct SparkDialect(DatabricksDialect);

/// Shifts bind tighter than `&` (23) and looser than `+`/`-` (30), as in Spark's grammar.
const SHIFT_PRECEDENCE: u8 = 26;
/// `DIV` binds as `*` and `/` do (sqlparser's MulDivModOp).
const DIV_PRECEDENCE: u8 = 40;
/// `||` binds as `+` and `-` do in Spark (sqlparser puts it with `*`).
const CONCAT_PRECEDENCE: u8 = 30;

fn is_div(t: &Token) -> bool {
    matches!(t, Token::Word(w) if w.quote_style.is_none() && w.keyword == Keyword::DIV)
}

/// The units of a multi-unit interval literal, singular or plural.
fn is_interval_unit(word: &str) -> bool {
    let w = word.to_ascii_lowercase();
    let w = w.strip_suffix('s').unwrap_or(&w);
    ["year", "month", "week", "day", "hour", "minute", "second", "millisecond", "microsecond"].contains(&w)
}

impl Dialect for SparkDialect {
    // The parser's Databricks-specific rules (`exists(...)` as a function, `ARRAY(...)`) key on
    // the dialect's type: this one is Databricks' for them.
    fn dialect(&self) -> TypeId {
        TypeId::of::<DatabricksDialect>()
    }
    fn is_delimited_identifier_start(&self, ch: char) -> bool {
        self.0.is_delimited_identifier_start(ch)
    }
    fn identifier_quote_style(&self, identifier: &str) -> Option<char> {
        self.0.identifier_quote_style(identifier)
    }
    fn is_identifier_start(&self, ch: char) -> bool {
        self.0.is_identifier_start(ch)
    }
    fn is_identifier_part(&self, ch: char) -> bool {
        self.0.is_identifier_part(ch)
    }
    fn supports_numeric_prefix(&self) -> bool {
        self.0.supports_numeric_prefix()
    }
    fn supports_filter_during_aggregation(&self) -> bool {
        self.0.supports_filter_during_aggregation()
    }
    fn supports_group_by_expr(&self) -> bool {
        self.0.supports_group_by_expr()
    }
    fn supports_table_versioning(&self) -> bool {
        self.0.supports_table_versioning()
    }
    fn supports_lambda_functions(&self) -> bool {
        self.0.supports_lambda_functions()
    }
    fn supports_select_wildcard_except(&self) -> bool {
        self.0.supports_select_wildcard_except()
    }
    fn require_interval_qualifier(&self) -> bool {
        self.0.require_interval_qualifier()
    }
    fn supports_struct_literal(&self) -> bool {
        self.0.supports_struct_literal()
    }
    fn supports_nested_comments(&self) -> bool {
        self.0.supports_nested_comments()
    }
    fn supports_group_by_with_modifier(&self) -> bool {
        self.0.supports_group_by_with_modifier()
    }
    fn supports_values_as_table_factor(&self) -> bool {
        self.0.supports_values_as_table_factor()
    }
    fn supports_optimize_table(&self) -> bool {
        self.0.supports_optimize_table()
    }
    fn supports_bang_not_operator(&self) -> bool {
        self.0.supports_bang_not_operator()
    }
    fn supports_cte_without_as(&self) -> bool {
        self.0.supports_cte_without_as()
    }
    fn supports_select_item_multi_column_alias(&self) -> bool {
        self.0.supports_select_item_multi_column_alias()
    }
    fn supports_map_literal_with_angle_brackets(&self) -> bool {
        self.0.supports_map_literal_with_angle_brackets()
    }
    fn supports_string_literal_backslash_escape(&self) -> bool {
        self.0.supports_string_literal_backslash_escape()
    }
    fn supports_select_wildcard_replace(&self) -> bool {
        self.0.supports_select_wildcard_replace()
    }
    fn supports_from_first_select(&self) -> bool {
        self.0.supports_from_first_select()
    }
    fn supports_pipe_operator(&self) -> bool {
        self.0.supports_pipe_operator()
    }
    fn supports_bitwise_shift_operators(&self) -> bool {
        true
    }

    fn get_next_precedence(&self, parser: &Parser) -> Option<Result<u8, ParserError>> {
        match &parser.peek_token_ref().token {
            Token::ShiftLeft | Token::ShiftRight => Some(Ok(SHIFT_PRECEDENCE)),
            Token::StringConcat => Some(Ok(CONCAT_PRECEDENCE)),
            t if is_div(t) => Some(Ok(DIV_PRECEDENCE)),
            _ => None,
        }
    }

    /// `INTERVAL 5 DAYS 3 HOURS 7 MINUTES`: Spark's multi-unit literal, which sqlparser stops
    /// reading after its first unit; read here as the string form `INTERVAL '5 DAYS 3 HOURS ...'`.
    fn parse_prefix(&self, parser: &mut Parser) -> Option<Result<Expr, ParserError>> {
        let is_interval = matches!(&parser.peek_token_ref().token, Token::Word(w) if w.keyword == Keyword::INTERVAL);
        let pair_at = |parser: &Parser, k: usize| {
            matches!(parser.peek_nth_token_ref(k).token, Token::Number(..))
                && matches!(&parser.peek_nth_token_ref(k + 1).token, Token::Word(w) if w.quote_style.is_none() && is_interval_unit(&w.value))
        };
        if !is_interval || !pair_at(parser, 1) || !pair_at(parser, 3) {
            return None;
        }
        parser.advance_token();
        let mut parts = Vec::new();
        while pair_at(parser, 0) {
            let amount = parser.next_token().token.to_string();
            let unit = parser.next_token().token.to_string();
            parts.push(format!("{amount} {unit}"));
        }
        let value = sqlparser::ast::Value::SingleQuotedString(parts.join(" ")).with_empty_span();
        Some(Ok(Expr::Interval(sqlparser::ast::Interval {
            value: Box::new(Expr::Value(value)),
            leading_field: None,
            leading_precision: None,
            last_field: None,
            fractional_seconds_precision: None,
        })))
    }

    fn parse_infix(&self, parser: &mut Parser, expr: &Expr, _precedence: u8) -> Option<Result<Expr, ParserError>> {
        // `a >>> b`, Spark's unsigned shift: the tokenizer reads `>>` then `>`, written together.
        let (first, second) = (parser.peek_token_ref(), parser.peek_nth_token_ref(1));
        if first.token == Token::ShiftRight && second.token == Token::Gt && first.span.end == second.span.start {
            parser.advance_token();
            parser.advance_token();
            return Some(parser.parse_subexpr(SHIFT_PRECEDENCE).map(|right| Expr::BinaryOp {
                left: Box::new(expr.clone()),
                op: BinaryOperator::Custom(">>>".into()),
                right: Box::new(right),
            }));
        }
        if !is_div(&parser.peek_token_ref().token) {
            return None;
        }
        parser.advance_token();
        Some(parser.parse_subexpr(DIV_PRECEDENCE).map(|right| Expr::BinaryOp {
            left: Box::new(expr.clone()),
            op: BinaryOperator::MyIntegerDivide,
            right: Box::new(right),
        }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    #[cfg(target_arch = "wasm32")]
    use wasm_bindgen_test::wasm_bindgen_test as test;

    fn expr(sql: &str) -> String {
        let dialect = SparkDialect::default();
        let mut p = Parser::new(&dialect).try_with_sql(sql).unwrap();
        format!("{:?}", p.parse_expr().unwrap())
    }

    #[test]
    fn div_binds_like_multiplication_and_shifts_between_plus_and_ampersand() {
        let one = expr("1 + 7 DIV 2 * 3");
        // `+` is the root: DIV and `*` were taken first, left to right.
        assert!(one.starts_with("BinaryOp { left: Value"), "{one}");
        assert!(one.contains("op: Plus") && one.contains("MyIntegerDivide"), "{one}");
        let two = expr("1 << 2 + 1 & 3");
        // `&` is the root and `<<` has `2 + 1` on its right.
        assert!(two.starts_with("BinaryOp { left: BinaryOp { left: Value"), "{two}");
        assert!(two.find("PGBitwiseShiftLeft").unwrap() < two.find("Plus").unwrap(), "{two}");
        assert!(
            two.ends_with(
                "op: BitwiseAnd, right: Value(ValueWithSpan { value: Number(\"3\", false), span: Span(Location(1,14)..Location(1,15)) }) }"
            ),
            "{two}"
        );
    }

    #[test]
    fn a_multi_unit_interval_is_one_literal() {
        let e = expr("INTERVAL 5 days 3 hours 7 minutes + 1");
        assert!(e.contains("SingleQuotedString(\"5 days 3 hours 7 minutes\")"), "{e}");
        // One unit is sqlparser's own form.
        assert!(expr("INTERVAL 5 DAYS").contains("leading_field: Some(Days)"));
    }

    #[test]
    fn unsigned_shift_is_one_operator() {
        let e = expr("4 >>> 1 + 1");
        assert!(e.contains("Custom(\">>>\")") && e.find("Custom").unwrap() < e.find("Plus").unwrap(), "{e}");
        assert!(Parser::new(&SparkDialect::default()).try_with_sql("SELECT 4 >> > 1").unwrap().parse_statements().is_err());
    }

    #[test]
    fn concat_pipes_bind_as_plus_does() {
        // Spark reads `1 + 2 || 'a'` as `(1 + 2) || 'a'`.
        let e = expr("1 + 2 || 'a'");
        assert!(e.starts_with("BinaryOp { left: BinaryOp {") && e.contains("op: StringConcat, right: Value"), "{e}");
        assert!(e.find("Plus").unwrap() < e.find("StringConcat").unwrap(), "{e}");
    }

    #[test]
    fn exists_is_still_a_function_name() {
        assert!(expr("exists(x)").starts_with("Function"));
    }
}
