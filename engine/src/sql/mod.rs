//! Spark SQL in, a typed logical plan out: the streaming pre-pass ([`streaming`]), sqlparser's
//! Databricks dialect with Spark's own operators ([`dialect`]) for the rest, then name resolution and typing ([`analyzer`]).

pub mod analyzer;
pub mod coercion;
pub mod dialect;
pub mod interval;
pub mod limits;
pub mod streaming;
mod suggest;

pub use analyzer::{analyze, AnalyzedQuery, Catalog};

use sqlparser::ast;
use sqlparser::parser::{Parser, ParserError};

use crate::error::{Error, Position, Result};

/// Turns a sqlparser error into a `parse` error with line and column.
pub(crate) fn parse_error(e: &ParserError) -> Error {
    let raw = match e {
        ParserError::TokenizerError(m) | ParserError::ParserError(m) => m.clone(),
        ParserError::RecursionLimitExceeded => return limits::nested_too_deeply(None),
    };
    // sqlparser appends " at Line: L, Column: C".
    let (message, position) = match raw.rfind(" at Line: ") {
        Some(i) => {
            let loc = &raw[i + " at Line: ".len()..];
            let mut parts = loc.split(", Column: ");
            let line = parts.next().and_then(|l| l.trim().parse().ok());
            let column = parts.next().and_then(|c| c.trim().parse().ok());
            let pos = match (line, column) {
                (Some(line), Some(column)) => Some(Position { line, column }),
                _ => None,
            };
            (raw[..i].to_string(), pos)
        }
        None => (raw, None),
    };
    // "Expected: X, found: Y" reads, in Spark's words, as a syntax error near Y.
    let spark = match message.split_once(", found: ") {
        Some((expected, found)) => {
            let expected = expected.trim_start_matches("Expected: ");
            format!("[PARSE_SYNTAX_ERROR] Syntax error at or near '{found}': expected {expected}. SQLSTATE: 42601")
        }
        None => format!("[PARSE_SYNTAX_ERROR] Syntax error: {message}. SQLSTATE: 42601"),
    };
    Error::parse(spark, position)
}

/// Parses one streaming query (after the streaming pre-pass).
pub fn parse(sql: &str) -> Result<(ast::Query, streaming::Prepared)> {
    if sql.trim().is_empty() {
        return Err(Error::parse(
            "[PARSE_EMPTY_STATEMENT] Syntax error, unexpected empty statement. SQLSTATE: 42617",
            Some(Position { line: 1, column: 1 }),
        ));
    }
    limits::check_text(sql)?;
    let prepared = streaming::prepare(sql)?;
    let dialect = dialect::SparkDialect::default();
    let mut parser = Parser::new(&dialect)
        .with_recursion_limit(limits::PARSER_RECURSION_LIMIT)
        .try_with_sql(&prepared.text)
        .map_err(|e| parse_error(&e))?;
    let mut statements = parser.parse_statements().map_err(|e| match e {
        // sqlparser stops where its nesting limit tripped: that is the place to show.
        ParserError::RecursionLimitExceeded => {
            let at = parser.peek_token_ref().span.start;
            limits::nested_too_deeply((at.line > 0).then_some(Position { line: at.line, column: at.column }))
        }
        other => parse_error(&other),
    })?;
    if statements.len() != 1 {
        return Err(Error::parse(
            format!("[PARSE_SYNTAX_ERROR] A streaming query is one SELECT statement; found {}. SQLSTATE: 42601", statements.len()),
            None,
        ));
    }
    match statements.remove(0) {
        ast::Statement::Query(q) => Ok((*q, prepared)),
        other => Err(Error::parse(
            format!(
                "[PARSE_SYNTAX_ERROR] Only a SELECT query can run as a stream, not `{}`. SQLSTATE: 42601",
                other.to_string().split_whitespace().next().unwrap_or("?")
            ),
            Some(Position { line: 1, column: 1 }),
        )),
    }
}
