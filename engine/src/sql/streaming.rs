//! The streaming forms Spark 4.1+ adds to its SQL and sqlparser does not know:
//! `STREAM src`, `STREAM(src)` and `relation WATERMARK expr [AS name] DELAY OF INTERVAL ... [[AS] alias]`;
//! and Unbounded's own `relation [WATERMARK ...] DEDUPLICATE [WITHIN WATERMARK] BY (cols) [[AS] alias]`,
//! the SQL form of Spark's `dropDuplicates(cols)` / `dropDuplicatesWithinWatermark(cols)`, which
//! Spark SQL has no syntax for.
//!
//! They are taken out of the text before sqlparser sees it, and every character they occupied is
//! blanked (newlines kept), so every other token keeps its line and column for error messages. The
//! clauses of a relation leave a marker alias `AS __wN` in place of their first keyword
//! (`WATERMARK` or `DEDUPLICATE`, both long enough for it), which ties them to the relation.

use super::dialect::SparkDialect;
use sqlparser::ast;
use sqlparser::keywords::Keyword;
use sqlparser::parser::Parser;
use sqlparser::tokenizer::{Token, TokenWithSpan, Tokenizer};

use super::interval::{interval_from_parts, Interval, Unit};
use crate::error::{Error, Position, Result};

/// Prefix of the marker alias a watermark clause leaves behind.
pub const MARKER_PREFIX: &str = "__w";

#[derive(Debug, Clone)]
pub struct WatermarkClause {
    /// The event-time expression (`ts`, or `to_timestamp(s)` with `name`).
    pub event_time: ast::Expr,
    /// `AS name` of the event-time expression: the new column that carries the watermark.
    pub name: Option<ast::Ident>,
    pub delay: Interval,
    pub position: Position,
}

/// `DEDUPLICATE [WITHIN WATERMARK] BY (cols)`.
#[derive(Debug, Clone)]
pub struct DedupClause {
    pub columns: Vec<ast::Ident>,
    pub within_watermark: bool,
    pub position: Position,
}

/// The streaming clauses written after one relation, and its alias (written after them).
#[derive(Debug, Clone)]
pub struct RelationClauses {
    pub watermark: Option<WatermarkClause>,
    pub dedup: Option<DedupClause>,
    pub alias: Option<ast::Ident>,
}

#[derive(Debug, Clone)]
pub struct Prepared {
    /// The SQL with the streaming forms blanked out, ready for sqlparser.
    pub text: String,
    /// Clauses of relations; entry `i` is referenced by the alias `__w{i}`.
    pub relations: Vec<RelationClauses>,
    /// Where a relation name was written after `STREAM`.
    pub stream_refs: Vec<Position>,
    /// Spark's raw string literals `r'...'`: where each one's opening quote is, and its text,
    /// backslashes kept. The `r` is blanked; the analyzer takes the text from here.
    pub raw_strings: Vec<(Position, String)>,
}

/// Words that end a relation and can never be a table name or alias after `STREAM`.
const CLAUSE_WORDS: &[Keyword] = &[
    Keyword::WHERE,
    // `LATERAL VIEW` follows the FROM relation.
    Keyword::LATERAL,
    Keyword::GROUP,
    Keyword::ORDER,
    Keyword::LIMIT,
    Keyword::JOIN,
    Keyword::INNER,
    Keyword::LEFT,
    Keyword::RIGHT,
    Keyword::FULL,
    Keyword::CROSS,
    Keyword::ON,
    Keyword::UNION,
    Keyword::AS,
    Keyword::HAVING,
    Keyword::WINDOW,
    Keyword::USING,
    Keyword::SELECT,
    Keyword::FROM,
    Keyword::OUTER,
    Keyword::SEMI,
    Keyword::ANTI,
];

fn is_word(t: &Token, kw: &str) -> bool {
    matches!(t, Token::Word(w) if w.quote_style.is_none() && w.value.eq_ignore_ascii_case(kw))
}

fn is_clause_word(t: &Token) -> bool {
    matches!(t, Token::Word(w) if w.quote_style.is_none() && CLAUSE_WORDS.contains(&w.keyword))
}

fn is_name(t: &Token) -> bool {
    matches!(t, Token::Word(_)) && !is_clause_word(t) && !is_word(t, "WATERMARK")
}

fn pos(t: &TokenWithSpan) -> Position {
    Position { line: t.span.start.line, column: t.span.start.column }
}

fn near(t: &TokenWithSpan) -> String {
    match &t.token {
        Token::EOF => "end of input".to_string(),
        other => format!("'{other}'"),
    }
}

fn syntax_error(at: &TokenWithSpan, hint: &str) -> Error {
    let hint = if hint.is_empty() { String::new() } else { format!(": {hint}") };
    Error::parse(format!("[PARSE_SYNTAX_ERROR] Syntax error at or near {}{hint}. SQLSTATE: 42601", near(at)), Some(pos(at)))
}

/// Character buffer of the SQL, addressed by (line, column) as the tokenizer reports them.
struct Text {
    chars: Vec<char>,
    line_starts: Vec<usize>,
}

impl Text {
    fn new(sql: &str) -> Self {
        let chars: Vec<char> = sql.chars().collect();
        let mut line_starts = vec![0];
        for (i, c) in chars.iter().enumerate() {
            if *c == '\n' {
                line_starts.push(i + 1);
            }
        }
        Text { chars, line_starts }
    }

    fn index(&self, line: u64, column: u64) -> usize {
        let start = self.line_starts.get(line.saturating_sub(1) as usize).copied().unwrap_or(self.chars.len());
        (start + column.saturating_sub(1) as usize).min(self.chars.len())
    }

    /// Blanks the characters of tokens `from..=to` (their whole extent), keeping newlines.
    fn blank(&mut self, from: &TokenWithSpan, to: &TokenWithSpan) {
        let a = self.index(from.span.start.line, from.span.start.column);
        let b = self.index(to.span.end.line, to.span.end.column);
        for c in &mut self.chars[a..b] {
            if *c != '\n' {
                *c = ' ';
            }
        }
    }

    fn write(&mut self, at: &TokenWithSpan, text: &str) {
        let a = self.index(at.span.start.line, at.span.start.column);
        for (k, c) in text.chars().enumerate() {
            self.chars[a + k] = c;
        }
    }
}

/// Finds and removes the streaming forms; see the module comment.
pub fn prepare(sql: &str) -> Result<Prepared> {
    let dialect = SparkDialect::default();
    let all = Tokenizer::new(&dialect, sql).tokenize_with_location().map_err(|e| {
        Error::parse(
            format!("[PARSE_SYNTAX_ERROR] {}. SQLSTATE: 42601", e.message),
            Some(Position { line: e.location.line, column: e.location.column }),
        )
    })?;
    let toks: Vec<TokenWithSpan> = all.into_iter().filter(|t| !matches!(t.token, Token::Whitespace(_))).collect();
    if let Some(t) = toks.get(super::limits::MAX_SQL_TOKENS) {
        return Err(super::limits::too_many_tokens(toks.len(), pos(t)));
    }
    super::limits::check_nesting(&toks)?;
    let eof = TokenWithSpan::wrap(Token::EOF);
    let at = |i: usize| -> &TokenWithSpan { toks.get(i).unwrap_or(&eof) };
    let mut text = Text::new(sql);
    let mut relations = Vec::new();
    let mut stream_refs = Vec::new();
    let mut raw_strings = Vec::new();
    let mut i = 0;
    while i < toks.len() {
        let t = &toks[i];
        if let Some(raw) = raw_string(&text, t, at(i + 1)) {
            raw_strings.push((pos(at(i + 1)), raw));
            text.blank(t, t);
            i += 2;
            continue;
        }
        // `TRIM(BOTH FROM s)`: no characters named, so spaces; sqlparser wants `TRIM(BOTH s)`.
        if is_word(&t.token, "FROM")
            && ["BOTH", "LEADING", "TRAILING"].iter().any(|w| i > 0 && is_word(&at(i - 1).token, w))
            && i > 2
            && at(i - 2).token == Token::LParen
            && is_word(&at(i - 3).token, "TRIM")
        {
            text.blank(t, t);
            i += 1;
            continue;
        }
        // `X '1010'`: Spark allows blanks between the X and the quoted hex digits.
        if is_word(&t.token, "X") && t.span.end != at(i + 1).span.start {
            if let Token::SingleQuotedString(hex) = &at(i + 1).token {
                if hex.bytes().all(|b| b.is_ascii_hexdigit()) {
                    let literal = format!("X'{hex}'");
                    text.blank(t, at(i + 1));
                    text.write(t, &literal);
                    i += 2;
                    continue;
                }
            }
        }
        // `TIMESTAMP_LTZ '...'` is a TIMESTAMP literal: TIMESTAMP is Spark's TIMESTAMP_LTZ.
        if is_word(&t.token, "TIMESTAMP_LTZ") && matches!(at(i + 1).token, Token::SingleQuotedString(_)) {
            text.blank(t, t);
            text.write(t, "TIMESTAMP");
            i += 1;
            continue;
        }
        let after_from_or_join =
            i > 0 && (is_word(&at(i - 1).token, "FROM") || is_word(&at(i - 1).token, "JOIN") || at(i - 1).token == Token::Comma);
        if is_word(&t.token, "STREAM") && after_from_or_join {
            if at(i + 1).token == Token::LParen && is_name(&at(i + 2).token) && at(i + 3).token == Token::RParen {
                stream_refs.push(pos(at(i + 2)));
                text.blank(t, at(i + 1));
                text.blank(at(i + 3), at(i + 3));
                i += 4;
                continue;
            }
            if is_name(&at(i + 1).token) {
                stream_refs.push(pos(at(i + 1)));
                text.blank(t, t);
                i += 1;
                continue;
            }
        }
        if is_word(&t.token, "WATERMARK") || is_word(&t.token, "DEDUPLICATE") {
            if !follows_relation(&toks, i) {
                let word = if is_word(&t.token, "WATERMARK") { "WATERMARK" } else { "DEDUPLICATE" };
                return Err(syntax_error(t, &format!("a {word} clause must follow a table name or a subquery, before its alias")));
            }
            let (clauses, end) = parse_clauses(&toks, i, &dialect)?;
            let marker = format!("AS {MARKER_PREFIX}{}", relations.len());
            if marker.chars().count() > "WATERMARK".len() {
                return Err(Error::unsupported("at most 100 relations with WATERMARK or DEDUPLICATE clauses fit in one query"));
            }
            text.blank(t, at(end - 1));
            text.write(t, &marker);
            relations.push(clauses);
            i = end;
            continue;
        }
        i += 1;
    }
    Ok(Prepared { text: text.chars.into_iter().collect(), relations, stream_refs, raw_strings })
}

/// `r'...'` / `R"..."`: the word `r` written right against a quoted string. Its text is read
/// from the SQL as written, between the quotes, so backslashes stay as they are.
fn raw_string(text: &Text, word: &TokenWithSpan, next: &TokenWithSpan) -> Option<String> {
    let is_r = matches!(&word.token, Token::Word(w) if w.quote_style.is_none() && w.value.eq_ignore_ascii_case("r"));
    let quoted = matches!(next.token, Token::SingleQuotedString(_) | Token::DoubleQuotedString(_));
    if !is_r || !quoted || word.span.end != next.span.start {
        return None;
    }
    let a = text.index(next.span.start.line, next.span.start.column);
    let b = text.index(next.span.end.line, next.span.end.column);
    let body = text.chars.get(a + 1..b.checked_sub(1)?)?;
    Some(body.iter().collect())
}

/// Spark's grammar allows the clause right after a relation primary: a (dotted) table name that
/// follows FROM / JOIN / `,` / STREAM, or a parenthesised subquery. `FROM src AS s WATERMARK` and
/// `... JOIN d ON a = b WATERMARK` are syntax errors there, and here.
fn follows_relation(toks: &[TokenWithSpan], i: usize) -> bool {
    let starts_relation = |k: usize| {
        let t = &toks[k].token;
        is_word(t, "FROM") || is_word(t, "JOIN") || *t == Token::Comma || is_word(t, "STREAM")
    };
    // DEDUPLICATE may follow a relation's WATERMARK clause: that one was checked already.
    if is_word(&toks[i].token, "DEDUPLICATE") && i > 0 && toks[..i].iter().rev().any(|t| is_word(&t.token, "WATERMARK")) {
        if let Some(w) = toks[..i].iter().rposition(|t| is_word(&t.token, "WATERMARK")) {
            if toks[w..i].iter().any(|t| is_word(&t.token, "DELAY")) && follows_relation(toks, w) {
                return true;
            }
        }
    }
    if i == 0 {
        return false;
    }
    let mut k = i - 1;
    match &toks[k].token {
        Token::RParen => {
            // Walk back to the matching parenthesis.
            let mut depth = 0i32;
            loop {
                match toks[k].token {
                    Token::RParen => depth += 1,
                    Token::LParen => depth -= 1,
                    _ => {}
                }
                if depth == 0 {
                    break;
                }
                if k == 0 {
                    return false;
                }
                k -= 1;
            }
            // `STREAM(src)` was already blanked but its tokens are still here.
            k > 0 && (starts_relation(k - 1) || is_word(&toks[k - 1].token, "STREAM"))
        }
        t if is_name(t) => {
            // A dotted name: name (. name)*
            while k >= 2 && toks[k - 1].token == Token::Period && is_name(&toks[k - 2].token) {
                k -= 2;
            }
            k > 0 && starts_relation(k - 1)
        }
        _ => false,
    }
}

/// Parses `[WATERMARK ...] [DEDUPLICATE ...] [[AS] alias]` starting at token `i`; returns the
/// clauses and the index of the first token after them.
fn parse_clauses(toks: &[TokenWithSpan], i: usize, dialect: &SparkDialect) -> Result<(RelationClauses, usize)> {
    let eof = TokenWithSpan::wrap(Token::EOF);
    let at = |k: usize| -> &TokenWithSpan { toks.get(k).unwrap_or(&eof) };
    let mut k = i;
    let watermark = if is_word(&at(k).token, "WATERMARK") {
        let (w, next) = parse_watermark(toks, k, dialect)?;
        k = next;
        Some(w)
    } else {
        None
    };
    let dedup = if is_word(&at(k).token, "DEDUPLICATE") {
        let (d, next) = parse_dedup(toks, k)?;
        k = next;
        Some(d)
    } else {
        None
    };
    // Optional alias of the relation.
    let alias = if is_word(&at(k).token, "AS") {
        match &at(k + 1).token {
            Token::Word(w) => {
                k += 2;
                Some(ast::Ident { value: w.value.clone(), quote_style: w.quote_style, span: at(k - 1).span })
            }
            _ => return Err(syntax_error(at(k + 1), "expected an alias after AS")),
        }
    } else if is_name(&at(k).token) && !is_word(&at(k).token, "DEDUPLICATE") {
        let Token::Word(w) = &at(k).token else { unreachable!("is_name checked a word") };
        k += 1;
        Some(ast::Ident { value: w.value.clone(), quote_style: w.quote_style, span: at(k - 1).span })
    } else {
        None
    };
    Ok((RelationClauses { watermark, dedup, alias }, k))
}

/// `DEDUPLICATE [WITHIN WATERMARK] BY (col, ...)` at token `i`.
fn parse_dedup(toks: &[TokenWithSpan], i: usize) -> Result<(DedupClause, usize)> {
    let eof = TokenWithSpan::wrap(Token::EOF);
    let at = |k: usize| -> &TokenWithSpan { toks.get(k).unwrap_or(&eof) };
    let mut k = i + 1;
    let within_watermark = is_word(&at(k).token, "WITHIN");
    if within_watermark {
        if !is_word(&at(k + 1).token, "WATERMARK") {
            return Err(syntax_error(at(k + 1), "expected DEDUPLICATE WITHIN WATERMARK BY (columns)"));
        }
        k += 2;
    }
    if !is_word(&at(k).token, "BY") {
        return Err(syntax_error(at(k), "expected DEDUPLICATE [WITHIN WATERMARK] BY (columns)"));
    }
    if at(k + 1).token != Token::LParen {
        return Err(syntax_error(at(k + 1), "the columns of DEDUPLICATE BY go in parentheses: BY (event_id, ts)"));
    }
    k += 2;
    let mut columns = Vec::new();
    loop {
        match &at(k).token {
            Token::Word(w) => columns.push(ast::Ident { value: w.value.clone(), quote_style: w.quote_style, span: at(k).span }),
            _ => return Err(syntax_error(at(k), "expected a column name")),
        }
        k += 1;
        match at(k).token {
            Token::Comma => k += 1,
            Token::RParen => {
                k += 1;
                break;
            }
            _ => return Err(syntax_error(at(k), "expected `,` or `)` in DEDUPLICATE BY (...)")),
        }
    }
    Ok((DedupClause { columns, within_watermark, position: pos(&toks[i]) }, k))
}

/// Parses `WATERMARK expr [[AS] name] DELAY OF INTERVAL ...` starting at token `i`; returns the
/// clause and the index of the first token after it.
fn parse_watermark(toks: &[TokenWithSpan], i: usize, dialect: &SparkDialect) -> Result<(WatermarkClause, usize)> {
    let eof = TokenWithSpan::wrap(Token::EOF);
    let at = |k: usize| -> &TokenWithSpan { toks.get(k).unwrap_or(&eof) };
    // The event-time expression runs up to `DELAY OF` at paren depth 0.
    let mut k = i + 1;
    let mut depth = 0i32;
    while k < toks.len() {
        match toks[k].token {
            Token::LParen => depth += 1,
            Token::RParen => depth -= 1,
            _ => {}
        }
        if depth == 0 && is_word(&toks[k].token, "DELAY") && is_word(&at(k + 1).token, "OF") {
            break;
        }
        if depth < 0 || is_clause_word(&toks[k].token) && !is_word(&toks[k].token, "AS") || is_word(&toks[k].token, "WATERMARK") {
            return Err(syntax_error(&toks[k], "expected DELAY OF INTERVAL ... after the event-time column"));
        }
        k += 1;
    }
    if k >= toks.len() {
        return Err(syntax_error(at(k), "expected DELAY OF INTERVAL ... after the event-time column"));
    }
    if k == i + 1 {
        return Err(syntax_error(at(k), "the WATERMARK clause needs an event-time column before DELAY OF"));
    }
    let mut expr_tokens: Vec<TokenWithSpan> = toks[i + 1..k].to_vec();
    expr_tokens.push(TokenWithSpan::wrap(Token::EOF));
    let mut parser =
        Parser::new(dialect).with_recursion_limit(super::limits::PARSER_RECURSION_LIMIT).with_tokens_with_locations(expr_tokens);
    let event_time = parser.parse_expr().map_err(|e| super::parse_error(&e))?;
    let name = if parser.parse_keyword(Keyword::AS) {
        Some(parser.parse_identifier().map_err(|e| super::parse_error(&e))?)
    } else if let Token::Word(_) = parser.peek_token().token {
        Some(parser.parse_identifier().map_err(|e| super::parse_error(&e))?)
    } else {
        None
    };
    if parser.peek_token().token != Token::EOF {
        let next = parser.peek_token();
        return Err(syntax_error(&next, "expected DELAY OF after the event-time column"));
    }
    // DELAY OF INTERVAL <literal>
    let mut k = k + 2;
    if !is_word(&at(k).token, "INTERVAL") {
        return Err(syntax_error(at(k), "missing 'INTERVAL'"));
    }
    k += 1;
    let (delay, next) = parse_interval_literal(toks, k)?;
    Ok((WatermarkClause { event_time, name, delay, position: pos(&toks[i]) }, next))
}

/// `10 SECONDS`, `1 MINUTE 30 SECONDS`, `'0:10' MINUTE TO SECOND` (after the INTERVAL keyword).
fn parse_interval_literal(toks: &[TokenWithSpan], mut k: usize) -> Result<(Interval, usize)> {
    let eof = TokenWithSpan::wrap(Token::EOF);
    let at = |k: usize| -> &TokenWithSpan { toks.get(k).unwrap_or(&eof) };
    let unit_at = |k: usize| -> Option<Unit> {
        match &at(k).token {
            Token::Word(w) if w.quote_style.is_none() => Unit::parse(&w.value),
            _ => None,
        }
    };
    let mut total = Interval::default();
    let mut any = false;
    loop {
        let (value, negative) = match &at(k).token {
            Token::Minus => match &at(k + 1).token {
                Token::Number(n, _) => {
                    k += 1;
                    (n.clone(), true)
                }
                _ => break,
            },
            Token::Number(n, _) => (n.clone(), false),
            Token::SingleQuotedString(s) if !any => {
                let Some(from) = unit_at(k + 1) else {
                    return Err(syntax_error(at(k + 1), "a quoted interval needs a unit, as in INTERVAL '10' SECOND"));
                };
                let mut next = k + 2;
                let to = if is_word(&at(next).token, "TO") {
                    let to = unit_at(next + 1).ok_or_else(|| syntax_error(at(next + 1), "expected an interval unit after TO"))?;
                    next += 2;
                    Some(to)
                } else {
                    None
                };
                let iv = interval_from_parts(s, from, to).map_err(|m| {
                    Error::parse(format!("[INVALID_INTERVAL_FORMAT] Error parsing interval '{s}': {m}. SQLSTATE: 22006"), Some(pos(at(k))))
                })?;
                return Ok((iv, next));
            }
            _ => break,
        };
        let unit =
            unit_at(k + 1).ok_or_else(|| syntax_error(at(k + 1), "expected an interval unit (SECONDS, MINUTES, HOURS, DAYS, ...)"))?;
        let value = if negative { format!("-{value}") } else { value };
        let part = interval_from_parts(&value, unit, None).map_err(|m| Error::parse(m, Some(pos(at(k)))))?;
        let (months, micros) = match (total.months.checked_add(part.months), total.micros.checked_add(part.micros)) {
            (Some(m), Some(u)) => (m, u),
            _ => {
                return Err(Error::parse(
                    "[INVALID_INTERVAL_FORMAT] The interval is too large: its parts add up past the largest interval (about 292,000 years). SQLSTATE: 22006",
                    Some(pos(at(k))),
                ))
            }
        };
        total = Interval { months, micros };
        any = true;
        k += 2;
    }
    if !any {
        return Err(syntax_error(at(k), "expected an interval such as INTERVAL 10 SECONDS"));
    }
    Ok((total, k))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::time::MICROS_PER_SECOND;
    #[cfg(target_arch = "wasm32")]
    use wasm_bindgen_test::wasm_bindgen_test as test;

    #[test]
    fn stream_keyword_forms_are_blanked_keeping_columns() {
        let p = prepare("SELECT a FROM STREAM src WHERE a > 1").unwrap();
        assert_eq!(p.text, "SELECT a FROM        src WHERE a > 1");
        assert_eq!(p.stream_refs, vec![Position { line: 1, column: 22 }]);
        let p = prepare("SELECT a FROM STREAM(src) s").unwrap();
        assert_eq!(p.text, "SELECT a FROM        src  s");
    }

    #[test]
    fn a_column_named_stream_is_left_alone() {
        let p = prepare("SELECT stream FROM t WHERE stream = 1").unwrap();
        assert_eq!(p.text, "SELECT stream FROM t WHERE stream = 1");
        assert!(p.stream_refs.is_empty());
    }

    #[test]
    fn watermark_clause_becomes_a_marker_alias() {
        let p = prepare("SELECT * FROM STREAM src WATERMARK ts DELAY OF INTERVAL 10 SECONDS AS s WHERE x").unwrap();
        assert!(p.text.starts_with("SELECT * FROM        src AS __w0 "), "{}", p.text);
        assert!(p.text.ends_with(" WHERE x"));
        assert_eq!(p.text.chars().count(), "SELECT * FROM STREAM src WATERMARK ts DELAY OF INTERVAL 10 SECONDS AS s WHERE x".len());
        let r = &p.relations[0];
        let c = r.watermark.as_ref().unwrap();
        assert_eq!(c.delay.micros, 10 * MICROS_PER_SECOND);
        assert_eq!(r.alias.as_ref().map(|a| a.value.as_str()), Some("s"));
        assert_eq!(c.event_time.to_string(), "ts");
    }

    #[test]
    fn clause_variants_spark_accepts() {
        for (sql, delay_secs, alias, name) in [
            ("SELECT * FROM src WATERMARK ts DELAY OF INTERVAL 10 SECONDS", 10, None, None),
            ("SELECT * FROM src WATERMARK ts DELAY OF INTERVAL 10 SECOND s", 10, Some("s"), None),
            ("SELECT * FROM src watermark ts delay of interval 1 minute 30 seconds", 90, None, None),
            ("SELECT * FROM src WATERMARK ts DELAY OF INTERVAL '0:10' MINUTE TO SECOND", 10, None, None),
            ("SELECT * FROM STREAM(src) WATERMARK to_timestamp(s) AS ets DELAY OF INTERVAL 1 DAY", 86_400, None, Some("ets")),
            ("SELECT * FROM (SELECT ts AS t FROM src) WATERMARK t DELAY OF INTERVAL 5 SECONDS p", 5, Some("p"), None),
            ("SELECT * FROM src WATERMARK ts + INTERVAL 1 SECOND AS ets DELAY OF INTERVAL 3 SECONDS AS x", 3, Some("x"), Some("ets")),
        ] {
            let p = prepare(sql).unwrap_or_else(|e| panic!("{sql}: {e}"));
            let r = &p.relations[0];
            let c = r.watermark.as_ref().unwrap();
            assert_eq!(c.delay.micros, delay_secs * MICROS_PER_SECOND, "{sql}");
            assert_eq!(r.alias.as_ref().map(|a| a.value.as_str()), alias, "{sql}");
            assert_eq!(c.name.as_ref().map(|a| a.value.as_str()), name, "{sql}");
        }
    }

    #[test]
    fn clause_variants_spark_refuses() {
        for (sql, near) in [
            ("SELECT * FROM STREAM src AS s WATERMARK ts DELAY OF INTERVAL 10 SECONDS", "'WATERMARK'"),
            ("SELECT * FROM src WATERMARK ts DELAY OF 10 SECONDS", "'10': missing 'INTERVAL'"),
            ("SELECT * FROM src WATERMARK ts DELAY OF '5 seconds'", "missing 'INTERVAL'"),
            ("SELECT * FROM src WATERMARK ts DELAY OF INTERVAL '10 seconds' GROUP BY x", "a quoted interval needs a unit"),
            ("SELECT * FROM src a JOIN d ON a.k = d.k WATERMARK ts DELAY OF INTERVAL 1 SECOND", "'WATERMARK'"),
            ("SELECT * FROM src WATERMARK ts DELAY OF INTERVAL 1 SECOND WATERMARK ts DELAY OF INTERVAL 1 SECOND", "'WATERMARK'"),
            ("SELECT * FROM src WATERMARK ts", "end of input"),
        ] {
            let e = prepare(sql).unwrap_err();
            assert_eq!(e.kind, crate::ErrorKind::Parse, "{sql}");
            assert!(e.message.contains(near), "{sql}: {}", e.message);
            assert!(e.position.is_some(), "{sql}");
        }
    }

    #[test]
    fn multiline_positions_survive() {
        let sql = "SELECT *\nFROM STREAM src\n  WATERMARK ts\n  DELAY OF INTERVAL 5 SECONDS\nWHERE x";
        let p = prepare(sql).unwrap();
        assert_eq!(p.text.lines().count(), 5);
        assert_eq!(p.text.lines().nth(4), Some("WHERE x"));
        assert_eq!(p.relations[0].watermark.as_ref().unwrap().position, Position { line: 3, column: 3 });
    }

    #[test]
    fn deduplicate_clauses_alone_and_after_a_watermark() {
        let p = prepare("SELECT * FROM STREAM events DEDUPLICATE BY (id) e WHERE x").unwrap();
        let r = &p.relations[0];
        let d = r.dedup.as_ref().unwrap();
        assert_eq!((d.columns.len(), d.within_watermark, r.alias.as_ref().map(|a| a.value.as_str())), (1, false, Some("e")));
        assert!(p.text.starts_with("SELECT * FROM        events AS __w0 "), "{}", p.text);
        assert!(p.text.ends_with(" WHERE x"));
        let p =
            prepare("SELECT * FROM events WATERMARK ts DELAY OF INTERVAL 5 SECONDS DEDUPLICATE WITHIN WATERMARK BY (id, ts) AS e").unwrap();
        let r = &p.relations[0];
        assert!(r.watermark.is_some());
        let d = r.dedup.as_ref().unwrap();
        assert_eq!((d.columns.len(), d.within_watermark), (2, true));
        assert_eq!(r.alias.as_ref().map(|a| a.value.as_str()), Some("e"));
    }

    #[test]
    fn deduplicate_mistakes_are_syntax_errors() {
        for (sql, near) in [
            ("SELECT * FROM events DEDUPLICATE id", "'id'"),
            ("SELECT * FROM events DEDUPLICATE BY id", "in parentheses"),
            ("SELECT * FROM events DEDUPLICATE WITHIN BY (id)", "WITHIN WATERMARK"),
            ("SELECT * FROM events e DEDUPLICATE BY (id)", "'DEDUPLICATE'"),
            ("SELECT * FROM events DEDUPLICATE BY (id,)", "expected a column name"),
        ] {
            let e = prepare(sql).unwrap_err();
            assert!(e.message.contains(near), "{sql}: {}", e.message);
        }
    }
}
