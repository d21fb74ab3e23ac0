//! Pipeline text in, statements out: the text is split at the `;` that end statements (not
//! those inside strings or comments), and each statement's head (`CREATE STREAMING TABLE t
//! (...) AS`) is read by hand; the query after it is left to the SQL front end, which gets its
//! offset so every error points into the whole text.

use std::ops::Range;

use crate::error::{Error, ErrorKind, Position, Result};
use crate::types::DataType;

/// The most statements a pipeline may have: its graph checks are quadratic in them at worst.
pub const MAX_STATEMENTS: usize = 1_000;

/// Line and column (1-based, columns in characters) of byte `offset` of `text`.
pub fn position_at(text: &str, offset: usize) -> Position {
    let mut end = offset.min(text.len());
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    let before = &text[..end];
    Position {
        line: before.matches('\n').count() as u64 + 1,
        column: before.rsplit('\n').next().map_or(0, |l| l.chars().count()) as u64 + 1,
    }
}

/// Moves a position relative to a text that starts at `base` in the whole text onto the whole
/// text: the first line continues `base`'s line, later lines keep their column.
pub fn shift_position(p: Position, base: Position) -> Position {
    if p.line <= 1 {
        Position { line: base.line, column: base.column + p.column.saturating_sub(1) }
    } else {
        Position { line: base.line + p.line - 1, column: p.column }
    }
}

/// The error with its position moved from a piece of text starting at `base` onto the whole
/// text; an error without a position points at `fallback`.
pub fn shift_error(mut e: Error, base: Position, fallback: Position) -> Error {
    e.position = Some(e.position.map_or(fallback, |p| shift_position(p, base)));
    e
}

/// A piece of SQL inside the pipeline text: a query or an expectation's condition.
#[derive(Debug, Clone, PartialEq)]
pub struct SqlText {
    pub sql: String,
    /// Where it starts in the whole text.
    pub at: Position,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    /// Keep the row and count it (Databricks' default).
    Warn,
    Drop,
    Fail,
}

impl Action {
    pub fn as_str(self) -> &'static str {
        match self {
            Action::Warn => "warn",
            Action::Drop => "drop",
            Action::Fail => "fail",
        }
    }
}

/// `CONSTRAINT name EXPECT (condition) [ON VIOLATION ...]` (Databricks).
#[derive(Debug, Clone, PartialEq)]
pub struct Constraint {
    pub name: String,
    pub condition: SqlText,
    pub action: Action,
    /// The clause, as byte offsets in the whole text.
    pub clause: Range<usize>,
    /// What to cut (byte offsets in the whole text) to leave the clause out for Apache Spark,
    /// which has no expectations: the clause with its separating comma, and the whole column
    /// list when it holds only constraints (Spark 4.3 reads an empty `()` as no list, but this
    /// reader refuses it). A statement's cuts never overlap, and cutting all of them leaves
    /// valid SQL; cutting only some need not.
    pub cut: Range<usize>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DatasetKind {
    StreamingTable,
    MaterializedView,
    /// A view; `temporary` ones are not published.
    View {
        temporary: bool,
    },
}

impl DatasetKind {
    pub fn code(self) -> &'static str {
        match self {
            DatasetKind::StreamingTable => "streaming_table",
            DatasetKind::MaterializedView => "materialized_view",
            DatasetKind::View { .. } => "view",
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub enum StatementKind {
    Dataset(DatasetKind),
    /// `CREATE FLOW name AS INSERT INTO target BY NAME query`.
    Flow {
        target: String,
        target_at: Position,
    },
    Set {
        key: String,
        value: String,
    },
}

#[derive(Debug, Clone, PartialEq)]
pub struct Statement {
    pub kind: StatementKind,
    /// The dataset's or flow's name (the key, for SET).
    pub name: String,
    pub name_at: Position,
    /// Where the statement starts.
    pub at: Position,
    /// Declared columns, when the statement lists them.
    pub columns: Option<Vec<(String, DataType)>>,
    pub constraints: Vec<Constraint>,
    pub query: Option<SqlText>,
    /// Written with Databricks' `CREATE OR REFRESH`: the bytes of `OR REFRESH` and the space
    /// after it in the whole text, which Apache Spark refuses.
    pub or_refresh: Option<Range<usize>>,
}

/// Splits the text into statements: `(byte offset, text)` of each non-empty one.
pub fn split(text: &str) -> Result<Vec<(usize, &str)>> {
    let b = text.as_bytes();
    let mut out = Vec::new();
    let (mut i, mut start) = (0usize, 0usize);
    let mut has_code = false;
    let unterminated = |what: &str, at: usize| {
        Error::parse(format!("[PARSE_SYNTAX_ERROR] Syntax error: unterminated {what}. SQLSTATE: 42601"), Some(position_at(text, at)))
    };
    while i < b.len() {
        match b[i] {
            q @ (b'\'' | b'"' | b'`') => {
                let open = i;
                i += 1;
                loop {
                    match b.get(i) {
                        None => return Err(unterminated(if q == b'`' { "quoted name" } else { "string literal" }, open)),
                        Some(b'\\') if q != b'`' => i += 2,
                        Some(&c) if c == q => {
                            // A doubled quote is the quote itself.
                            if b.get(i + 1) == Some(&q) {
                                i += 2;
                            } else {
                                i += 1;
                                break;
                            }
                        }
                        Some(_) => i += 1,
                    }
                }
                has_code = true;
            }
            b'-' if b.get(i + 1) == Some(&b'-') => {
                while i < b.len() && b[i] != b'\n' {
                    i += 1;
                }
            }
            b'/' if b.get(i + 1) == Some(&b'*') => {
                let open = i;
                let mut depth = 0usize;
                loop {
                    match (b.get(i), b.get(i + 1)) {
                        (None, _) => return Err(unterminated("comment", open)),
                        (Some(b'/'), Some(b'*')) => {
                            depth += 1;
                            i += 2;
                        }
                        (Some(b'*'), Some(b'/')) => {
                            depth -= 1;
                            i += 2;
                            if depth == 0 {
                                break;
                            }
                        }
                        _ => i += 1,
                    }
                }
            }
            b';' => {
                if has_code {
                    out.push((start, &text[start..i]));
                }
                i += 1;
                start = i;
                has_code = false;
            }
            c => {
                has_code |= !c.is_ascii_whitespace();
                i += 1;
            }
        }
        if out.len() > MAX_STATEMENTS {
            return Err(Error::parse(
                format!("the pipeline has more than {MAX_STATEMENTS} statements, the limit"),
                Some(position_at(text, start)),
            ));
        }
    }
    if has_code {
        out.push((start, &text[start..]));
    }
    Ok(out)
}

#[derive(Debug, Clone, PartialEq)]
enum Tok {
    Word(String),
    /// A back-quoted name.
    Quoted(String),
    Str(String),
    Punct(char),
    Other(String),
}

/// Reads a statement's head token by token; positions are byte offsets in the whole text.
struct Head<'a> {
    whole: &'a str,
    stmt: &'a str,
    base: usize,
    i: usize,
    /// Where the last token read ends (a byte offset in the whole text).
    last_end: usize,
}

impl<'a> Head<'a> {
    fn skip_space(&mut self) {
        let b = self.stmt.as_bytes();
        loop {
            while self.i < b.len() && b[self.i].is_ascii_whitespace() {
                self.i += 1;
            }
            if b[self.i..].starts_with(b"--") {
                while self.i < b.len() && b[self.i] != b'\n' {
                    self.i += 1;
                }
            } else if b[self.i..].starts_with(b"/*") {
                // The splitter checked that it ends.
                let mut depth = 0usize;
                while self.i < b.len() {
                    if b[self.i..].starts_with(b"/*") {
                        depth += 1;
                        self.i += 2;
                    } else if b[self.i..].starts_with(b"*/") {
                        depth -= 1;
                        self.i += 2;
                        if depth == 0 {
                            break;
                        }
                    } else {
                        self.i += 1;
                    }
                }
            } else {
                break;
            }
        }
    }

    /// The next token and its byte offset in the whole text, without consuming it.
    fn peek(&mut self) -> Option<(Tok, usize, usize)> {
        self.skip_space();
        let s = &self.stmt[self.i..];
        let c = s.chars().next()?;
        let at = self.base + self.i;
        let (tok, len) = if c.is_alphanumeric() || c == '_' {
            let len = s.find(|c: char| !(c.is_alphanumeric() || c == '_')).unwrap_or(s.len());
            (Tok::Word(s[..len].to_string()), len)
        } else if c == '\'' || c == '"' || c == '`' {
            let b = s.as_bytes();
            let q = b[0];
            let mut k = 1;
            let mut value = Vec::new();
            while k < b.len() {
                if b[k] == b'\\' && q != b'`' && k + 1 < b.len() {
                    value.push(b[k + 1]);
                    k += 2;
                } else if b[k] == q {
                    if b.get(k + 1) == Some(&q) {
                        value.push(q);
                        k += 2;
                    } else {
                        k += 1;
                        break;
                    }
                } else {
                    value.push(b[k]);
                    k += 1;
                }
            }
            let value = String::from_utf8_lossy(&value).into_owned();
            (if q == b'`' { Tok::Quoted(value) } else { Tok::Str(value) }, k)
        } else if "(),.=".contains(c) {
            (Tok::Punct(c), 1)
        } else {
            (Tok::Other(c.to_string()), c.len_utf8())
        };
        Some((tok, at, len))
    }

    fn next(&mut self) -> Option<(Tok, usize)> {
        let (t, at, len) = self.peek()?;
        self.i += len;
        self.last_end = self.base + self.i;
        Some((t, at))
    }

    fn pos(&self, at: usize) -> Position {
        position_at(self.whole, at)
    }

    fn here(&mut self) -> usize {
        self.skip_space();
        self.base + self.i
    }

    fn error_near(&mut self, expected: &str) -> Error {
        match self.peek() {
            Some((t, at, _)) => {
                let near = match t {
                    Tok::Word(w) | Tok::Other(w) => w,
                    Tok::Quoted(q) => format!("`{q}`"),
                    Tok::Str(s) => format!("'{s}'"),
                    Tok::Punct(c) => c.to_string(),
                };
                Error::parse(
                    format!("[PARSE_SYNTAX_ERROR] Syntax error at or near '{near}': expected {expected}. SQLSTATE: 42601"),
                    Some(self.pos(at)),
                )
            }
            None => {
                let at = self.base + self.stmt.len();
                Error::parse(
                    format!("[PARSE_SYNTAX_ERROR] Syntax error at or near end of input: expected {expected}. SQLSTATE: 42601"),
                    Some(self.pos(at)),
                )
            }
        }
    }

    fn is_word(&mut self, w: &str) -> bool {
        matches!(self.peek(), Some((Tok::Word(x), _, _)) if x.eq_ignore_ascii_case(w))
    }

    fn eat_word(&mut self, w: &str) -> bool {
        let yes = self.is_word(w);
        if yes {
            self.next();
        }
        yes
    }

    fn expect_word(&mut self, w: &str) -> Result<()> {
        if self.eat_word(w) {
            Ok(())
        } else {
            Err(self.error_near(&format!("`{w}`")))
        }
    }

    fn eat_punct(&mut self, c: char) -> bool {
        let yes = matches!(self.peek(), Some((Tok::Punct(x), _, _)) if x == c);
        if yes {
            self.next();
        }
        yes
    }

    /// A name, possibly qualified (`catalog.db.t`): its last part, and where it starts.
    fn name(&mut self, what: &str) -> Result<(String, Position)> {
        let mut last;
        let start;
        match self.peek() {
            Some((Tok::Word(w) | Tok::Quoted(w), at, _)) => {
                self.next();
                last = w;
                start = at;
            }
            _ => return Err(self.error_near(what)),
        }
        while self.eat_punct('.') {
            match self.next() {
                Some((Tok::Word(w) | Tok::Quoted(w), _)) => last = w,
                _ => return Err(self.error_near(what)),
            }
        }
        Ok((last, self.pos(start)))
    }

    /// Skips a parenthesised group (the `(` already read), returning the byte range inside it.
    fn group(&mut self) -> Result<(usize, usize)> {
        let inner = self.here();
        let mut depth = 1usize;
        loop {
            let before = self.here();
            match self.next() {
                None => return Err(self.error_near("`)`")),
                Some((Tok::Punct('('), _)) => depth += 1,
                Some((Tok::Punct(')'), _)) => {
                    depth -= 1;
                    if depth == 0 {
                        return Ok((inner - self.base, before - self.base));
                    }
                }
                Some(_) => {}
            }
        }
    }

    /// The rest of the statement, as SQL starting at the next token.
    fn rest(&mut self) -> SqlText {
        let at = self.here();
        SqlText { sql: self.stmt[at - self.base..].to_string(), at: self.pos(at) }
    }
}

fn registration_error(message: &str, at: Position) -> Error {
    // Spark raises it while parsing the pipeline's SQL: FORMAT's kind is `parse`.
    Error::new(ErrorKind::Parse, format!("[PIPELINE_SQL_GRAPH_ELEMENT_REGISTRATION_ERROR] {message}"))
        .with_condition("PIPELINE_SQL_GRAPH_ELEMENT_REGISTRATION_ERROR")
        .at(Some(at))
}

/// Parses every statement of a pipeline.
pub fn parse(text: &str) -> Result<Vec<Statement>> {
    split(text)?.into_iter().map(|(offset, stmt)| statement(text, offset, stmt)).collect()
}

/// Parses one statement `stmt` of `split`, found at byte `base` of the whole text `whole`.
pub fn statement(whole: &str, base: usize, stmt: &str) -> Result<Statement> {
    let mut h = Head { whole, stmt, base, i: 0, last_end: base };
    let at = h.here();
    let at = h.pos(at);
    if h.eat_word("SET") {
        let key_at = h.here();
        let Some(eq) = stmt[key_at - base..].find('=') else {
            return Err(h.error_near("`SET key = value`"));
        };
        let key = stmt[key_at - base..key_at - base + eq].trim().to_string();
        let value = stmt[key_at - base + eq + 1..].trim().trim_matches(|c| c == '\'' || c == '"').to_string();
        if key.is_empty() {
            return Err(h.error_near("a configuration key"));
        }
        return Ok(Statement {
            kind: StatementKind::Set { key: key.clone(), value },
            name: key,
            name_at: h.pos(key_at),
            at,
            columns: None,
            constraints: Vec::new(),
            query: None,
            or_refresh: None,
        });
    }
    if !h.eat_word("CREATE") {
        return Err(h.error_near(
            "a pipeline statement (CREATE STREAMING TABLE, CREATE MATERIALIZED VIEW, CREATE [TEMPORARY] VIEW, CREATE FLOW or SET)",
        ));
    }
    let or_at = h.here();
    let or_refresh = if h.eat_word("OR") {
        if !h.eat_word("REFRESH") {
            return Err(h.error_near("`REFRESH` (Databricks' CREATE OR REFRESH)"));
        }
        Some(or_at..h.here())
    } else {
        None
    };
    let kind = if h.eat_word("STREAMING") {
        h.expect_word("TABLE")?;
        DatasetKind::StreamingTable
    } else if h.eat_word("MATERIALIZED") {
        h.expect_word("VIEW")?;
        DatasetKind::MaterializedView
    } else if h.eat_word("TEMPORARY") || h.eat_word("TEMP") {
        h.expect_word("VIEW")?;
        DatasetKind::View { temporary: true }
    } else if h.eat_word("VIEW") {
        DatasetKind::View { temporary: false }
    } else if or_refresh.is_none() && h.is_word("FLOW") {
        h.next();
        return flow(&mut h, at);
    } else {
        return Err(h.error_near("STREAMING TABLE, MATERIALIZED VIEW, [TEMPORARY] VIEW or FLOW"));
    };
    if or_refresh.is_some() && matches!(kind, DatasetKind::View { .. }) {
        return Err(h.error_near("STREAMING TABLE or MATERIALIZED VIEW after CREATE OR REFRESH"));
    }
    if h.eat_word("IF") {
        h.expect_word("NOT")?;
        h.expect_word("EXISTS")?;
    }
    let (name, name_at) = h.name("the dataset's name")?;
    let name_end = h.last_end;
    let mut columns = None;
    let mut constraints = Vec::new();
    if h.eat_punct('(') {
        let (cols, cons) = column_list(&mut h, name_end)?;
        columns = (!cols.is_empty()).then_some(cols);
        constraints = cons;
    }
    loop {
        if h.eat_word("COMMENT") {
            match h.next() {
                Some((Tok::Str(_), _)) => {}
                _ => return Err(h.error_near("a string after COMMENT")),
            }
        } else if h.eat_word("TBLPROPERTIES") {
            if !h.eat_punct('(') {
                return Err(h.error_near("`(` after TBLPROPERTIES"));
            }
            h.group()?;
        } else if h.is_word("PARTITIONED") || h.is_word("CLUSTER") {
            h.next();
            h.expect_word("BY")?;
            if !h.eat_punct('(') {
                return Err(h.error_near("`(`"));
            }
            h.group()?;
        } else {
            break;
        }
    }
    let query = if h.eat_word("AS") {
        let q = h.rest();
        if q.sql.trim().is_empty() {
            return Err(h.error_near("a query after AS"));
        }
        Some(q)
    } else if h.peek().is_none() {
        None
    } else {
        return Err(h.error_near("AS, COMMENT, TBLPROPERTIES or the end of the statement"));
    };
    if query.is_none() && kind != DatasetKind::StreamingTable {
        return Err(h.error_near(&format!(
            "AS and the {}'s query",
            if kind == DatasetKind::MaterializedView { "materialized view" } else { "view" }
        )));
    }
    if matches!(kind, DatasetKind::View { .. }) && (columns.is_some() || !constraints.is_empty()) {
        return Err(Error::unsupported(
            "a view's column list is not supported by this version of Unbounded yet: alias the columns in its query",
        )
        .at(Some(name_at)));
    }
    Ok(Statement { kind: StatementKind::Dataset(kind), name, name_at, at, columns, constraints, query, or_refresh })
}

fn flow(h: &mut Head, at: Position) -> Result<Statement> {
    let (name, name_at) = h.name("the flow's name")?;
    if h.eat_word("COMMENT") {
        match h.next() {
            Some((Tok::Str(_), _)) => {}
            _ => return Err(h.error_near("a string after COMMENT")),
        }
    }
    h.expect_word("AS")?;
    let insert_at = h.here();
    let insert_at = h.pos(insert_at);
    if !h.eat_word("INSERT") {
        return Err(registration_error(
            "Only INSERT INTO by name flows supported (a flow is `INSERT INTO target BY NAME query`).",
            insert_at,
        ));
    }
    if h.is_word("OVERWRITE") {
        return Err(registration_error("Only INSERT INTO by name flows supported (not INSERT OVERWRITE).", insert_at));
    }
    h.expect_word("INTO")?;
    h.eat_word("TABLE");
    let (target, target_at) = h.name("the flow's target table")?;
    if h.is_word("PARTITION") {
        return Err(registration_error("Only INSERT INTO by name flows supported (without a partition spec).", insert_at));
    }
    if matches!(h.peek(), Some((Tok::Punct('('), _, _))) {
        // `INSERT INTO t (a, b) SELECT` is a column list; `INSERT INTO t (SELECT ...)` a query.
        let save = h.i;
        h.next();
        let is_query = h.is_word("SELECT") || h.is_word("WITH");
        h.i = save;
        if !is_query {
            return Err(registration_error("Only INSERT INTO by name flows supported (without a column list).", insert_at));
        }
    }
    if !(h.eat_word("BY") && h.eat_word("NAME")) {
        return Err(registration_error("Only INSERT INTO by name flows supported.", insert_at));
    }
    let query = h.rest();
    if query.sql.trim().is_empty() {
        return Err(h.error_near("the flow's query"));
    }
    Ok(Statement {
        kind: StatementKind::Flow { target, target_at },
        name,
        name_at,
        at,
        columns: None,
        constraints: Vec::new(),
        query: Some(query),
        or_refresh: None,
    })
}

type ColumnList = (Vec<(String, DataType)>, Vec<Constraint>);

/// `col type [NOT NULL] [COMMENT '..'], ..., CONSTRAINT c EXPECT (cond) [ON VIOLATION ...]`,
/// after its `(`; `name_end` is where the dataset's name ends.
fn column_list(h: &mut Head, name_end: usize) -> Result<ColumnList> {
    let (mut cols, mut cons): ColumnList = (Vec::new(), Vec::new());
    // Each item's bytes in the whole text, and whether it is a constraint.
    let mut items: Vec<(Range<usize>, bool)> = Vec::new();
    loop {
        let item_at = h.here();
        let is_constraint = h.eat_word("CONSTRAINT");
        if is_constraint {
            let (name, name_at) = h.name("the constraint's name")?;
            h.expect_word("EXPECT")?;
            if !h.eat_punct('(') {
                return Err(h.error_near("`(` and the expectation's condition"));
            }
            let (a, b) = h.group()?;
            let condition = SqlText { sql: h.stmt[a..b].to_string(), at: h.pos(h.base + a) };
            if condition.sql.trim().is_empty() {
                return Err(Error::parse("[PARSE_SYNTAX_ERROR] EXPECT needs a condition. SQLSTATE: 42601", Some(name_at)));
            }
            let action = if h.eat_word("ON") {
                h.expect_word("VIOLATION")?;
                if h.eat_word("DROP") {
                    h.expect_word("ROW")?;
                    Action::Drop
                } else if h.eat_word("FAIL") {
                    h.expect_word("UPDATE")?;
                    Action::Fail
                } else {
                    return Err(h.error_near("DROP ROW or FAIL UPDATE"));
                }
            } else {
                Action::Warn
            };
            if cons.iter().any(|c: &Constraint| c.name.eq_ignore_ascii_case(&name)) {
                return Err(Error::new(ErrorKind::Pipeline, format!("the constraint `{name}` is declared twice")).at(Some(name_at)));
            }
            // The cut is known once the whole list is read.
            let clause = item_at..h.last_end;
            cons.push(Constraint { name, condition, action, clause: clause.clone(), cut: clause });
        } else {
            let (name, name_at) = h.name("a column name or CONSTRAINT")?;
            let type_at = h.here();
            let type_name = match h.next() {
                Some((Tok::Word(w), _)) => w,
                _ => return Err(h.error_near("the column's type")),
            };
            let Some(t) = DataType::from_schema_name(&type_name) else {
                return Err(Error::parse(
                    format!("[UNSUPPORTED_DATATYPE] Unsupported data type \"{type_name}\" (the column types are string, int, bigint, double, boolean and timestamp). SQLSTATE: 0A000"),
                    Some(h.pos(type_at)),
                )
                .with_condition("UNSUPPORTED_DATATYPE"));
            };
            if h.eat_word("NOT") {
                h.expect_word("NULL")?;
            }
            if h.eat_word("COMMENT") {
                match h.next() {
                    Some((Tok::Str(_), _)) => {}
                    _ => return Err(h.error_near("a string after COMMENT")),
                }
            }
            if cols.iter().any(|(c, _): &(String, DataType)| c.eq_ignore_ascii_case(&name)) {
                return Err(Error::new(
                    ErrorKind::Pipeline,
                    format!("[COLUMN_ALREADY_EXISTS] The column `{name}` already exists. SQLSTATE: 42711"),
                )
                .with_condition("COLUMN_ALREADY_EXISTS")
                .at(Some(name_at)));
            }
            cols.push((name, t));
        }
        items.push((item_at..h.last_end, is_constraint));
        if h.eat_punct(')') {
            let cuts = constraint_cuts(&items, name_end..h.last_end);
            for (c, cut) in cons.iter_mut().zip(cuts) {
                c.cut = cut;
            }
            return Ok((cols, cons));
        }
        if !h.eat_punct(',') {
            return Err(h.error_near("`,` or `)`"));
        }
    }
}

/// Where to cut each constraint of a column list (`items`: each item's bytes and whether it is
/// a constraint; `list`: from the end of the dataset's name to after the `)`) so that cutting
/// them all leaves valid SQL. A constraint takes the comma after it while a column follows it,
/// else the comma before it; a list of constraints only goes whole, `(` and `)` with it.
fn constraint_cuts(items: &[(Range<usize>, bool)], list: Range<usize>) -> Vec<Range<usize>> {
    let last_column = items.iter().rposition(|(_, is_constraint)| !is_constraint);
    let mut cuts = Vec::new();
    for (k, (span, is_constraint)) in items.iter().enumerate() {
        if !is_constraint {
            continue;
        }
        let before = if k == 0 { list.start } else { items[k - 1].0.end };
        let after = if k + 1 == items.len() { list.end } else { items[k + 1].0.start };
        cuts.push(match last_column {
            None => before..if k + 1 == items.len() { after } else { span.end },
            Some(c) if c > k => span.start..after,
            Some(_) => before..span.end,
        });
    }
    cuts
}

#[cfg(test)]
mod tests {
    use super::*;
    #[cfg(target_arch = "wasm32")]
    use wasm_bindgen_test::wasm_bindgen_test as test;

    #[test]
    fn statements_split_at_semicolons_outside_strings_and_comments() {
        let text = "CREATE VIEW a AS SELECT ';' AS x; -- a comment; still one\nCREATE VIEW b AS SELECT \"x;y\" /* ; */ AS y;;\n  ";
        let parts = split(text).unwrap();
        assert_eq!(parts.len(), 2);
        assert_eq!(parts[0].1, "CREATE VIEW a AS SELECT ';' AS x");
        assert!(parts[1].1.contains("\"x;y\" /* ; */ AS y"), "{:?}", parts[1]);
        let e = split("CREATE VIEW a AS SELECT 'open").unwrap_err();
        assert_eq!(e.position, Some(Position { line: 1, column: 25 }));
    }

    #[test]
    fn heads_are_read_with_columns_constraints_and_positions() {
        let text = "SET spark.sql.shuffle.partitions = 4;\nCREATE OR REFRESH STREAMING TABLE IF NOT EXISTS s (id INT NOT NULL, n BIGINT COMMENT 'n', CONSTRAINT pos EXPECT (n > 0) ON VIOLATION DROP ROW)\n  COMMENT 'x' TBLPROPERTIES ('a' = 'b') AS SELECT * FROM STREAM e;\nCREATE FLOW f AS INSERT INTO s BY NAME SELECT 1 AS id";
        let st = parse(text).unwrap();
        assert_eq!(st[0].kind, StatementKind::Set { key: "spark.sql.shuffle.partitions".into(), value: "4".into() });
        assert_eq!(st[1].kind, StatementKind::Dataset(DatasetKind::StreamingTable));
        assert_eq!(st[1].or_refresh.clone().map(|r| &text[r]), Some("OR REFRESH "));
        let c = &st[1].constraints[0];
        assert_eq!(&text[c.clause.clone()], "CONSTRAINT pos EXPECT (n > 0) ON VIOLATION DROP ROW");
        assert_eq!(&text[c.cut.clone()], ", CONSTRAINT pos EXPECT (n > 0) ON VIOLATION DROP ROW");
        assert_eq!(st[1].columns, Some(vec![("id".into(), DataType::Int), ("n".into(), DataType::BigInt)]));
        assert_eq!(st[1].constraints[0].action, Action::Drop);
        assert_eq!(st[1].constraints[0].condition.sql, "n > 0");
        assert_eq!(st[1].query.as_ref().unwrap().at, Position { line: 3, column: 44 });
        assert_eq!(st[2].name_at, Position { line: 4, column: 13 });
        let StatementKind::Flow { target, .. } = &st[2].kind else { panic!() };
        assert_eq!(target, "s");
    }

    #[test]
    fn flows_without_by_name_are_refused_as_spark_refuses_them() {
        for q in ["INSERT INTO t SELECT 1", "INSERT OVERWRITE t SELECT 1", "INSERT INTO t (a) SELECT 1", "SELECT 1"] {
            let e = parse(&format!("CREATE FLOW f AS {q}")).unwrap_err();
            assert_eq!(e.kind, ErrorKind::Parse, "{q}");
            assert!(e.message.contains("Only INSERT INTO by name flows supported"), "{q}: {}", e.message);
        }
        assert!(parse("CREATE FLOW f AS INSERT INTO t BY NAME (SELECT 1)").is_ok());
    }

    #[test]
    fn a_bad_head_points_into_the_whole_text() {
        let e = parse("CREATE VIEW a AS SELECT 1;\n\nCREATE STREAMIN TABLE t AS SELECT 1").unwrap_err();
        assert_eq!(e.kind, ErrorKind::Parse);
        assert_eq!(e.position, Some(Position { line: 3, column: 8 }));
        assert!(e.message.contains("'STREAMIN'"), "{}", e.message);
        let e = parse("CREATE MATERIALIZED VIEW m").unwrap_err();
        assert!(e.message.contains("AS and the materialized view's query"), "{}", e.message);
    }

    #[test]
    fn positions_shift_onto_the_whole_text() {
        let base = Position { line: 3, column: 10 };
        assert_eq!(shift_position(Position { line: 1, column: 5 }, base), Position { line: 3, column: 14 });
        assert_eq!(shift_position(Position { line: 2, column: 5 }, base), Position { line: 4, column: 5 });
    }

    #[test]
    fn no_text_makes_the_reader_panic() {
        // Fragments of every construct the reader knows, glued at random: each text is read
        // or refused with an error, never a panic or an endless loop.
        let parts = [
            "CREATE ",
            "OR REFRESH ",
            "STREAMING TABLE ",
            "MATERIALIZED VIEW ",
            "TEMPORARY VIEW ",
            "FLOW f ",
            "t ",
            "(",
            ")",
            ",",
            "a INT ",
            "CONSTRAINT c EXPECT (",
            "ON VIOLATION ",
            "DROP ROW",
            "AS ",
            "INSERT INTO ",
            "BY NAME ",
            "SELECT 1",
            "'",
            "\"",
            "`",
            "--",
            "\n",
            "/*",
            "*/",
            ";",
            "SET k = v",
            "COMMENT 'x' ",
            "TBLPROPERTIES (",
            ".",
            "é",
            "\\",
        ];
        let mut seed = 1u64;
        for _ in 0..20_000 {
            let mut text = String::new();
            for _ in 0..12 {
                seed = seed.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
                text.push_str(parts[(seed >> 33) as usize % parts.len()]);
            }
            if let Ok(statements) = parse(&text) {
                let _ = super::super::graph::build(&statements, &[], &[]);
            }
        }
    }
}
