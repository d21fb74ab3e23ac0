//! Name resolution and typing: sqlparser's AST plus the streaming clauses become a typed
//! [`LogicalPlan`]. Errors carry the line and column of what they are about.

use arrow_array::RecordBatch;
use sqlparser::ast::{self, Spanned};

use super::coercion::wider_type;
use super::interval::{interval_from_parts, parse_interval_string, Interval, Unit};
use super::limits;
use super::streaming::{DedupClause, Prepared, RelationClauses, WatermarkClause, MARKER_PREFIX};
use super::suggest;
use crate::error::{Error, ErrorKind, Phase, Position, Result};
use crate::expr::{AggFunc, AggregateCall, BinaryOp, CastMode, Expr, Func, LikePattern};
use crate::plan::logical::{SessionGap, SessionSpec, SortKey, WindowSpec};
use crate::plan::logical::{StreamJoinKind, StreamJoinSpec};
use crate::plan::{JoinKind, LogicalPlan};
use crate::time::parse_timestamp;
use crate::types::{Column, DataType, Schema};
use crate::value::Value;

/// What a query can read: streaming sources and static tables, by name.
#[derive(Debug, Clone, Default)]
pub struct Catalog {
    pub sources: Vec<(String, Schema)>,
    pub tables: Vec<(String, Schema, RecordBatch)>,
}

impl Catalog {
    /// A static table from rows written as the scenario format writes them. A value that does
    /// not fit its column is an error here: a static table has no dead-letter output.
    pub fn table_from_json(name: &str, schema: Schema, rows: &[serde_json::Value]) -> Result<(String, Schema, RecordBatch)> {
        let mut log = crate::source::SourceLog::new(name, schema.clone());
        log.append_json(rows).map_err(|e| Error::invalid_input(format!("table `{name}`: {}", e.message)))?;
        let read = log.read(0, log.latest_offset())?;
        if let Some(b) = read.bad.first() {
            return Err(Error::invalid_input(format!("table `{name}`, row {}: {}", b.offset, b.reason)));
        }
        Ok((name.to_string(), schema, read.rows))
    }

    fn source(&self, name: &str) -> Option<&(String, Schema)> {
        self.sources.iter().find(|(n, _)| n.eq_ignore_ascii_case(name))
    }

    fn table(&self, name: &str) -> Option<&(String, Schema, RecordBatch)> {
        self.tables.iter().find(|(n, _, _)| n.eq_ignore_ascii_case(name))
    }
}

/// The analysed query and the facts the streaming rules are checked against at start.
#[derive(Debug, Clone)]
pub struct AnalyzedQuery {
    pub plan: LogicalPlan,
    /// Where the query aggregates (GROUP BY, an aggregate function, DISTINCT), if it does.
    pub aggregation: Option<Position>,
    /// `count(DISTINCT ...)` and friends, refused on streams.
    pub distinct_aggregate: Option<Position>,
    /// An `OVER (...)` window function, refused on streams: its name and position.
    pub over_window: Option<(String, Position)>,
    /// Where the query sorts (ORDER BY), if it does.
    pub order_by: Option<Position>,
    /// The output columns that identify a row of an aggregating query (its GROUP BY columns):
    /// an update-mode sink keeps the latest row per such key.
    pub update_key: Option<Vec<String>>,
}

/// Aggregate calls are collected while a SELECT list or HAVING of an aggregation is resolved;
/// each stands in the expression as a column at `AGG_PLACEHOLDER + k` until it is rewritten
/// onto the aggregate's output.
const AGG_PLACEHOLDER: usize = 1 << 30;

/// The session window of an aggregation stands among its keys as this column until the session
/// operator computes it.
const SESSION_PLACEHOLDER: usize = AGG_PLACEHOLDER - 1;

struct AggCollector {
    calls: Vec<(String, AggregateCall)>,
}

/// Spark aggregates this engine recognises but does not compute yet (refused with a message);
/// the ones it computes are `AggFunc::NAMES`.
const UNBUILT_AGGREGATES: &[&str] = &[
    "stddev",
    "stddev_samp",
    "stddev_pop",
    "variance",
    "var_samp",
    "var_pop",
    "any",
    "some",
    "every",
    "bool_and",
    "bool_or",
    "max_by",
    "min_by",
];

fn is_spark_aggregate(name: &str) -> bool {
    AggFunc::is_aggregate_name(name) || UNBUILT_AGGREGATES.contains(&name)
}
const TIME_WINDOWS: &[&str] = &["window", "session_window"];

/// A column visible to expressions: its qualifier (table name or alias), name and type.
#[derive(Debug, Clone)]
struct ScopeColumn {
    qualifier: Option<String>,
    name: String,
    data_type: DataType,
}

#[derive(Debug, Clone, Default)]
struct Scope {
    columns: Vec<ScopeColumn>,
}

impl Scope {
    fn from_schema(schema: &Schema, qualifier: Option<&str>) -> Scope {
        Scope {
            columns: schema
                .columns
                .iter()
                .map(|c| ScopeColumn { qualifier: qualifier.map(str::to_string), name: c.name.clone(), data_type: c.data_type.clone() })
                .collect(),
        }
    }

    fn requalify(mut self, qualifier: Option<&str>) -> Scope {
        for c in &mut self.columns {
            c.qualifier = qualifier.map(str::to_string);
        }
        self
    }
}

fn position_of(span: sqlparser::tokenizer::Span) -> Option<Position> {
    (span.start.line > 0).then_some(Position { line: span.start.line, column: span.start.column })
}

fn expr_position(e: &ast::Expr) -> Option<Position> {
    limits::expr_position(e)
}

fn quote(name: &str) -> String {
    format!("`{name}`")
}

/// Analyses `sql` against `catalog`.
pub fn analyze(sql: &str, catalog: &Catalog) -> Result<AnalyzedQuery> {
    let (query, prepared) = super::parse(sql)?;
    let result = analyze_parsed(&query, &prepared, catalog);
    limits::dismantle_query(query);
    limits::dismantle_exprs(prepared.relations.into_iter().filter_map(|r| r.watermark.map(|w| w.event_time)).collect());
    result
}

fn analyze_parsed(query: &ast::Query, prepared: &Prepared, catalog: &Catalog) -> Result<AnalyzedQuery> {
    let mut a = Analyzer {
        catalog,
        prepared,
        ctes: Vec::new(),
        relations: 0,
        nesting: 0,
        aggregation: None,
        distinct_aggregate: None,
        over_window: None,
        order_by: None,
        collecting: None,
        window_column: None,
        session_window: None,
        alias_fallback: Vec::new(),
    };
    let (plan, _) = a.query(query)?;
    let plan = crate::plan::optimize::optimize(plan);
    if !plan.is_streaming() {
        return Err(Error::unsupported(
            "[WRITE_STREAM_NOT_ALLOWED] 'writeStream' can be called only on streaming Dataset/DataFrame. The query reads no streaming source: name one of the scenario's sources in FROM. SQLSTATE: 42601",
        )
        .with_condition("WRITE_STREAM_NOT_ALLOWED"));
    }
    let update_key = update_key_of(&plan);
    Ok(AnalyzedQuery {
        plan,
        aggregation: a.aggregation,
        distinct_aggregate: a.distinct_aggregate,
        over_window: a.over_window,
        order_by: a.order_by,
        update_key,
    })
}

struct Analyzer<'a> {
    catalog: &'a Catalog,
    prepared: &'a Prepared,
    /// Common table expressions in scope, in the order they are defined (outer WITH first). A
    /// CTE sees only the ones before it, as in Spark: in `WITH events AS (... FROM events)` the
    /// inner `events` is the source, and two CTEs cannot refer to each other.
    ctes: Vec<(String, &'a ast::Query)>,
    /// Relations read and queries analysed so far: a CTE is analysed again wherever it is used,
    /// so stacked CTEs can expand exponentially; counted against [`limits::MAX_RELATIONS`].
    relations: usize,
    /// How many queries (subqueries, CTE bodies) enclose the one being analysed.
    nesting: usize,
    aggregation: Option<Position>,
    distinct_aggregate: Option<Position>,
    over_window: Option<(String, Position)>,
    order_by: Option<Position>,
    /// Set while resolving the SELECT list or HAVING of an aggregation.
    collecting: Option<AggCollector>,
    /// The `window(...)` of the aggregation being resolved: its SQL text and column.
    window_column: Option<(String, usize)>,
    /// The `session_window(...)` of the aggregation being resolved: its SQL text, time and gap.
    session_window: Option<(String, Expr, SessionGap)>,
    /// SELECT aliases HAVING may refer to, resolved.
    alias_fallback: Vec<(String, Expr)>,
}

impl<'a> Analyzer<'a> {
    /// Counts one more relation or query against the plan-size budget.
    fn count_relation(&mut self, pos: Option<Position>) -> Result<()> {
        self.relations += 1;
        if self.relations > limits::MAX_RELATIONS {
            return Err(limits::too_many_relations(self.relations).at(pos));
        }
        Ok(())
    }

    fn query(&mut self, q: &'a ast::Query) -> Result<(LogicalPlan, Scope)> {
        let pos = limits::query_position(q);
        self.count_relation(pos)?;
        if self.nesting >= limits::MAX_QUERY_NESTING {
            return Err(limits::nested_too_deeply_queries().at(pos));
        }
        let outer = self.ctes.len();
        if let Some(with) = &q.with {
            for cte in &with.cte_tables {
                let name = cte.alias.name.value.to_ascii_lowercase();
                if self.ctes[outer..].iter().any(|(n, _)| *n == name) {
                    return Err(Error::parse(
                        format!(
                            "[DUPLICATED_CTE_NAMES] CTE definition can't have duplicate names: {}. SQLSTATE: 42602",
                            quote(&cte.alias.name.value)
                        ),
                        position_of(cte.alias.name.span),
                    )
                    .with_condition("DUPLICATED_CTE_NAMES"));
                }
                self.ctes.push((name, &cte.query));
            }
        }
        self.nesting += 1;
        let result = self.query_body(q);
        self.nesting -= 1;
        self.ctes.truncate(outer);
        let (plan, scope) = result?;
        limits::check_plan_depth(&plan).map_err(|e| e.at(pos))?;
        Ok((plan, scope))
    }

    fn query_body(&mut self, q: &'a ast::Query) -> Result<(LogicalPlan, Scope)> {
        let (mut plan, scope) = self.set_expr(&q.body)?;
        if let Some(order) = &q.order_by {
            let exprs = match &order.kind {
                ast::OrderByKind::Expressions(exprs) => exprs,
                _ => return Err(Error::unsupported("ORDER BY ALL is not supported; name the columns")),
            };
            let pos = exprs.first().and_then(|e| expr_position(&e.expr));
            self.order_by.get_or_insert(pos.unwrap_or(Position { line: 1, column: 1 }));
            // Sorting is allowed on an aggregation in complete mode only (checked at start); the
            // keys are resolved over the query's output columns, by name, alias or ordinal.
            let mut keys = Vec::new();
            for o in exprs {
                let key = match &o.expr {
                    ast::Expr::Value(v) if matches!(v.value, ast::Value::Number(..)) => {
                        let ast::Value::Number(n, _) = &v.value else { unreachable!("matched a number") };
                        let k: usize = n.parse().unwrap_or(0);
                        let c = scope.columns.get(k.wrapping_sub(1)).ok_or_else(|| {
                            Error::type_mismatch(format!("[ORDER_BY_POS_OUT_OF_RANGE] ORDER BY position {n} is not in select list (valid range is [1, {}]). SQLSTATE: 42805", scope.columns.len()))
                                .at(position_of(v.span))
                        })?;
                        Expr::column(k - 1, c.data_type.clone())
                    }
                    e => self.expr(e, &scope)?,
                };
                let descending = matches!(o.options.sort, Some(ast::OrderBySort::Desc));
                // Spark's default: NULLS FIRST ascending, NULLS LAST descending.
                let nulls_first = o.options.nulls_first.unwrap_or(!descending);
                keys.push(SortKey { expr: key, descending, nulls_first });
            }
            plan = LogicalPlan::Sort { input: Box::new(plan), keys };
        }
        if let Some(limit) = &q.limit_clause {
            match limit {
                ast::LimitClause::LimitOffset { limit: Some(e), offset: None, limit_by } if limit_by.is_empty() => {
                    let n = match e {
                        ast::Expr::Value(v) => match &v.value {
                            ast::Value::Number(n, _) => n.parse::<usize>().ok(),
                            _ => None,
                        },
                        _ => None,
                    }
                    .ok_or_else(|| {
                        Error::type_mismatch("[INVALID_LIMIT_LIKE_EXPRESSION.IS_NEGATIVE] LIMIT takes a non-negative integer literal")
                            .at(expr_position(e))
                    })?;
                    plan = LogicalPlan::Limit { input: Box::new(plan), n };
                }
                ast::LimitClause::LimitOffset { limit: None, offset: None, .. } => {}
                _ => return Err(Error::unsupported("OFFSET is not supported on streaming DataFrames/Datasets; use LIMIT n alone")),
            }
        }
        Ok((plan, scope))
    }

    fn set_expr(&mut self, s: &'a ast::SetExpr) -> Result<(LogicalPlan, Scope)> {
        match s {
            ast::SetExpr::Select(select) => self.select(select),
            ast::SetExpr::Query(q) => self.query(q),
            ast::SetExpr::SetOperation { op: ast::SetOperator::Union, set_quantifier, left, right } => {
                let (lp, ls) = self.set_expr(left)?;
                let (rp, rs) = self.set_expr(right)?;
                if !matches!(set_quantifier, ast::SetQuantifier::All) {
                    // UNION without ALL removes duplicates: an aggregation on every column.
                    self.aggregation.get_or_insert(Position { line: 1, column: 1 });
                }
                self.union(vec![(lp, ls), (rp, rs)])
            }
            ast::SetExpr::SetOperation { op, .. } => {
                Err(Error::unsupported(format!("{op} is not supported on streaming DataFrames/Datasets; UNION ALL is")))
            }
            ast::SetExpr::Values(_) => Err(Error::unsupported("VALUES is a static relation; a streaming query reads a source")),
            other => Err(Error::unsupported(format!(
                "`{}` is not supported in a streaming query",
                other.to_string().chars().take(40).collect::<String>()
            ))),
        }
    }

    fn union(&mut self, inputs: Vec<(LogicalPlan, Scope)>) -> Result<(LogicalPlan, Scope)> {
        let width = inputs[0].1.columns.len();
        let mut types: Vec<DataType> = inputs[0].1.columns.iter().map(|c| c.data_type.clone()).collect();
        for (_, scope) in &inputs[1..] {
            if scope.columns.len() != width {
                return Err(Error::type_mismatch(format!(
                    "[NUM_COLUMNS_MISMATCH] UNION can only be performed on inputs with the same number of columns, but the first input has {width} columns and the second input has {} columns. SQLSTATE: 42826",
                    scope.columns.len()
                ))
                .with_condition("NUM_COLUMNS_MISMATCH"));
            }
            for (k, c) in scope.columns.iter().enumerate() {
                types[k] = wider_type(&types[k], &c.data_type).ok_or_else(|| {
                    Error::type_mismatch(format!(
                        "[INCOMPATIBLE_COLUMN_TYPE] UNION can only be performed on inputs with compatible column types. The column `{}` has the type \"{}\" in the second input and \"{}\" in the first. SQLSTATE: 42825",
                        c.name,
                        c.data_type.spark_name(),
                        types[k].spark_name()
                    ))
                    .with_condition("INCOMPATIBLE_COLUMN_TYPE")
                })?;
            }
        }
        let schema = Schema::new(
            inputs[0].1.columns.iter().zip(&types).map(|(c, t)| Column { name: c.name.clone(), data_type: t.clone() }).collect(),
        );
        let plans = inputs
            .into_iter()
            .map(|(plan, scope)| {
                if scope.columns.iter().zip(&types).all(|(c, t)| &c.data_type == t) {
                    return plan;
                }
                let exprs =
                    scope.columns.iter().enumerate().map(|(k, c)| Expr::column(k, c.data_type.clone()).cast_to(&types[k])).collect();
                LogicalPlan::Project { input: Box::new(plan), exprs, schema: schema.clone() }
            })
            .collect();
        let scope = Scope::from_schema(&schema, None);
        Ok((LogicalPlan::Union { inputs: plans, schema }, scope))
    }

    fn select(&mut self, s: &'a ast::Select) -> Result<(LogicalPlan, Scope)> {
        let (mut plan, scope) = match s.from.as_slice() {
            [] => return Err(Error::unsupported("A streaming query needs a FROM clause that names a source")),
            [one] => self.table_with_joins(one)?,
            [_, second, ..] => {
                return Err(Error::unsupported(
                    "Comma-separated FROM items form a cross join, which is not supported on streams; use JOIN ... ON",
                )
                .at(position_of(second.relation.span())))
            }
        };
        if let Some(w) = &s.selection {
            let predicate = self.expr(w, &scope)?;
            if !matches!(predicate.data_type(), DataType::Boolean | DataType::Null) {
                return Err(Error::type_mismatch(format!(
                    "[DATATYPE_MISMATCH.FILTER_NOT_BOOLEAN] Cannot resolve \"{}\" due to data type mismatch: Filter expression \"{}\" of type \"{}\" is not a boolean. SQLSTATE: 42K09",
                    spark_sql(w),
                    spark_sql(w),
                    predicate.data_type().spark_name()
                ))
                .at(expr_position(w)));
            }
            plan = LogicalPlan::Filter { input: Box::new(plan), predicate };
        }
        // Aggregations are recognised here; the streaming rules refuse them at start until the
        // stateful aggregation operator exists.
        let group_by_used = match &s.group_by {
            ast::GroupByExpr::Expressions(exprs, _) => exprs.first().map(|e| expr_position(e).unwrap_or(Position { line: 1, column: 1 })),
            ast::GroupByExpr::All(_) => Some(Position { line: 1, column: 1 }),
        };
        let mut found = group_by_used;
        if s.distinct.is_some() {
            found.get_or_insert(position_of(s.select_token.0.span).unwrap_or(Position { line: 1, column: 1 }));
        }
        if let Some(h) = &s.having {
            found.get_or_insert(expr_position(h).unwrap_or(Position { line: 1, column: 1 }));
        }
        for item in &s.projection {
            match item {
                ast::SelectItem::UnnamedExpr(e) => self.scan_for_aggregates(e, None, &mut found),
                ast::SelectItem::ExprWithAlias { expr, alias } => self.scan_for_aggregates(expr, Some(&alias.value), &mut found),
                _ => {}
            }
        }
        if let Some(pos) = found {
            self.aggregation.get_or_insert(pos);
            return self.aggregate_select(s, plan, scope);
        }
        if let Some((name, pos)) = self.over_window.clone() {
            return Err(non_time_window(&name).at(Some(pos)));
        }
        let mut exprs = Vec::new();
        let mut columns = Vec::new();
        for item in &s.projection {
            match item {
                ast::SelectItem::Wildcard(_) => {
                    for (k, c) in scope.columns.iter().enumerate() {
                        exprs.push(Expr::column(k, c.data_type.clone()));
                        columns.push(Column { name: c.name.clone(), data_type: c.data_type.clone() });
                    }
                }
                ast::SelectItem::QualifiedWildcard(kind, _) => {
                    let q = match kind {
                        ast::SelectItemQualifiedWildcardKind::ObjectName(n) => n.to_string(),
                        ast::SelectItemQualifiedWildcardKind::Expr(e) => e.to_string(),
                    };
                    let before = exprs.len();
                    for (k, c) in scope.columns.iter().enumerate() {
                        if c.qualifier.as_deref().is_some_and(|cq| cq.eq_ignore_ascii_case(&q)) {
                            exprs.push(Expr::column(k, c.data_type.clone()));
                            columns.push(Column { name: c.name.clone(), data_type: c.data_type.clone() });
                        }
                    }
                    if exprs.len() == before {
                        return Err(Error::new(
                            ErrorKind::UnknownTable,
                            format!(
                                "[CANNOT_RESOLVE_STAR_EXPAND] Cannot resolve {}.* given input columns {}. SQLSTATE: 42704",
                                quote(&q),
                                column_list(&scope)
                            ),
                        )
                        .at(position_of(item.span())));
                    }
                }
                ast::SelectItem::UnnamedExpr(e) => {
                    let resolved = self.expr(e, &scope)?;
                    columns.push(Column { name: output_name(e), data_type: resolved.data_type() });
                    exprs.push(resolved);
                }
                ast::SelectItem::ExprWithAlias { expr, alias } => {
                    let resolved = self.expr(expr, &scope)?;
                    columns.push(Column { name: alias.value.clone(), data_type: resolved.data_type() });
                    exprs.push(resolved);
                }
                ast::SelectItem::ExprWithAliases { expr, .. } => {
                    return Err(Error::unsupported("multiple aliases for one expression are not supported").at(expr_position(expr)))
                }
            }
        }
        let schema = Schema::new(columns);
        let scope = Scope::from_schema(&schema, None);
        Ok((LogicalPlan::Project { input: Box::new(plan), exprs, schema }, scope))
    }

    /// Notes aggregate calls, time windows, DISTINCT aggregates and OVER windows.
    fn scan_for_aggregates(&mut self, e: &ast::Expr, alias: Option<&str>, found: &mut Option<Position>) {
        let mut visit = |f: &ast::Function| {
            let name = f.name.to_string().to_ascii_lowercase();
            let pos = position_of(f.name.span()).unwrap_or(Position { line: 1, column: 1 });
            if f.over.is_some() {
                let call = format!("{}()", name.to_ascii_uppercase());
                let described = match alias {
                    Some(a) => format!("{call} (as column `{a}`)"),
                    None => call,
                };
                self.over_window.get_or_insert((described, pos));
                return;
            }
            if is_spark_aggregate(&name) || TIME_WINDOWS.contains(&name.as_str()) {
                found.get_or_insert(pos);
                if let ast::FunctionArguments::List(l) = &f.args {
                    if matches!(l.duplicate_treatment, Some(ast::DuplicateTreatment::Distinct)) {
                        self.distinct_aggregate.get_or_insert(pos);
                    }
                }
            }
        };
        walk_functions(e, &mut visit);
    }

    /// Resolves an aggregate call while collecting: its arguments in the input scope, then a
    /// placeholder column for it.
    fn aggregate_call(&mut self, f: &ast::Function, name: &str, scope: &Scope, whole: &ast::Expr, pos: Option<Position>) -> Result<Expr> {
        let (args, star) = match &f.args {
            ast::FunctionArguments::List(list) => match list.args.as_slice() {
                [ast::FunctionArg::Unnamed(ast::FunctionArgExpr::Wildcard)] => (vec![], true),
                args => {
                    let exprs = args
                        .iter()
                        .map(|a| match a {
                            ast::FunctionArg::Unnamed(ast::FunctionArgExpr::Expr(e)) => Ok(e),
                            other => Err(Error::unsupported(format!("`{other}` is not a supported argument of {name}")).at(pos)),
                        })
                        .collect::<Result<Vec<_>>>()?;
                    // An aggregate inside an aggregate's argument is an error, as in Spark.
                    let saved = self.collecting.take();
                    let resolved = exprs.iter().map(|e| self.expr(e, scope)).collect::<Result<Vec<_>>>();
                    self.collecting = saved;
                    let resolved = resolved.map_err(|e| {
                        if e.message.contains("aggregates rows") {
                            Error::unsupported("[NESTED_AGGREGATE_FUNCTION] It is not allowed to use an aggregate function in the argument of another aggregate function. Please use the inner aggregate function in a sub-query. SQLSTATE: 42607").at(pos)
                        } else {
                            e
                        }
                    })?;
                    (resolved, false)
                }
            },
            _ => (vec![], false),
        };
        let call = AggFunc::resolve(name, args, star).map_err(|e| e.at(pos))?;
        let text = spark_sql(whole).to_ascii_lowercase();
        let collector = self.collecting.as_mut().ok_or_else(|| Error::internal("aggregate outside an aggregation"))?;
        let k = match collector.calls.iter().position(|(t, _)| *t == text) {
            Some(k) => k,
            None => {
                collector.calls.push((text, call.clone()));
                collector.calls.len() - 1
            }
        };
        Ok(Expr::column(AGG_PLACEHOLDER + k, call.data_type))
    }

    /// Plans `SELECT ... GROUP BY ... HAVING ...` (and `SELECT DISTINCT`): window assignment,
    /// the stateful aggregate, HAVING as a filter over it, then the SELECT list over its output.
    fn aggregate_select(&mut self, s: &ast::Select, plan: LogicalPlan, scope: Scope) -> Result<(LogicalPlan, Scope)> {
        let group_exprs: Vec<&ast::Expr> = match &s.group_by {
            ast::GroupByExpr::Expressions(exprs, modifiers) if modifiers.is_empty() => exprs.iter().collect(),
            ast::GroupByExpr::Expressions(..) => {
                return Err(Error::unsupported("GROUP BY ... WITH ROLLUP/CUBE is not supported on streams"))
            }
            ast::GroupByExpr::All(_) => return Err(Error::unsupported("GROUP BY ALL is not supported yet; name the grouping columns")),
        };
        let items: Vec<(&ast::Expr, Option<&ast::Ident>)> = s
            .projection
            .iter()
            .map(|item| match item {
                ast::SelectItem::UnnamedExpr(e) => Ok((e, None)),
                ast::SelectItem::ExprWithAlias { expr, alias } => Ok((expr, Some(alias))),
                other => Err(Error::unsupported("SELECT * cannot be combined with GROUP BY or DISTINCT: name the columns")
                    .at(position_of(other.span()))),
            })
            .collect::<Result<_>>()?;
        // One time window per aggregation.
        let mut windows: Vec<&ast::Function> = Vec::new();
        let mut sessions: Vec<&ast::Function> = Vec::new();
        for e in group_exprs.iter().copied().chain(items.iter().map(|(e, _)| *e)) {
            walk_functions(e, &mut |f| {
                let name = f.name.to_string().to_ascii_lowercase();
                if name == "window" && f.over.is_none() {
                    windows.push(f);
                } else if name == "session_window" {
                    sessions.push(f);
                }
            });
        }
        if let (Some(w), Some(_)) = (windows.first(), sessions.first()) {
            return Err(Error::unsupported(
                "Multiple time/session window expressions would result in a cartesian product of rows, therefore they are currently not supported.",
            )
            .at(position_of(w.name.span())));
        }
        let saved_session = self.session_window.take();
        if let Some(sw) = sessions.first() {
            let (time, gap) = self.session_spec(sw, &scope)?;
            self.session_window = Some((spark_sql_function(sw), time, gap));
        }
        let (mut plan, mut scope) = (plan, scope);
        let saved_window = self.window_column.take();
        if let Some(w) = windows.first() {
            let (time, spec) = self.window_spec(w, &scope)?;
            let mut schema =
                Schema::new(scope.columns.iter().map(|c| Column { name: c.name.clone(), data_type: c.data_type.clone() }).collect());
            schema.columns.push(Column { name: "window".into(), data_type: DataType::Window });
            plan = LogicalPlan::WindowAssign { input: Box::new(plan), time, window: spec, schema };
            scope.columns.push(ScopeColumn { qualifier: None, name: "window".into(), data_type: DataType::Window });
            self.window_column = Some((spark_sql_function(w), scope.columns.len() - 1));
        }
        let result = self.aggregate_body(s, &group_exprs, &items, plan, &scope);
        self.window_column = saved_window;
        self.session_window = saved_session;
        result
    }

    fn session_spec(&mut self, f: &ast::Function, scope: &Scope) -> Result<(Expr, SessionGap)> {
        let pos = position_of(f.name.span());
        let args = plain_args(f).ok_or_else(|| Error::type_mismatch("session_window() takes a timestamp and a gap").at(pos))?;
        if args.len() != 2 {
            return Err(Error::type_mismatch(format!(
                "[WRONG_NUM_ARGS.WITHOUT_SUGGESTION] The `session_window` requires 2 parameters but the actual number is {}. SQLSTATE: 42605",
                args.len()
            ))
            .at(pos));
        }
        let time = self.time_arg("session_window", args[0], scope)?;
        let gap = match duration_literal(args[1]) {
            Some(micros) => SessionGap::Fixed(micros?),
            None => {
                let gap = self.expr(args[1], scope)?;
                if !matches!(gap.data_type(), DataType::String | DataType::Null) {
                    return Err(Error::type_mismatch("a session gap is a string such as '5 minutes', or an expression giving one")
                        .at(expr_position(args[1])));
                }
                SessionGap::PerRow(gap)
            }
        };
        Ok((time, gap))
    }

    /// The time argument of `window`/`session_window`: a timestamp, or a string cast to one.
    fn time_arg(&mut self, function: &str, e: &ast::Expr, scope: &Scope) -> Result<Expr> {
        let time = self.expr(e, scope)?;
        match time.data_type() {
            DataType::Timestamp => Ok(time),
            DataType::String => Ok(time.cast_to(&DataType::Timestamp)),
            other => Err(Error::type_mismatch(format!(
                "[DATATYPE_MISMATCH.UNEXPECTED_INPUT_TYPE] Cannot resolve \"{function}(...)\" due to data type mismatch: the first parameter requires the \"TIMESTAMP\" type, however it has the type \"{}\". SQLSTATE: 42K09",
                other.spark_name()
            ))
            .at(expr_position(e))),
        }
    }

    fn window_spec(&mut self, w: &ast::Function, scope: &Scope) -> Result<(Expr, WindowSpec)> {
        let pos = position_of(w.name.span());
        let args = plain_args(w).ok_or_else(|| Error::type_mismatch("window() takes a timestamp and interval strings").at(pos))?;
        if args.len() < 2 || args.len() > 4 {
            return Err(Error::type_mismatch(format!(
                "[WRONG_NUM_ARGS.WITHOUT_SUGGESTION] The `window` requires [2, 3, 4] parameters but the actual number is {}. SQLSTATE: 42605",
                args.len()
            ))
            .at(pos));
        }
        let time = self.time_arg("window", args[0], scope)?;
        let duration = |e: &ast::Expr| {
            duration_literal(e)
                .unwrap_or_else(|| Err(Error::type_mismatch("a window duration is a string such as '10 seconds'").at(expr_position(e))))
        };
        let size = duration(args[1])?;
        let slide = args.get(2).map(|a| duration(a)).transpose()?.unwrap_or(size);
        let start = args.get(3).map(|a| duration(a)).transpose()?.unwrap_or(0);
        if size <= 0 || slide <= 0 {
            return Err(Error::type_mismatch("The window duration and slide duration must be greater than 0.").at(pos));
        }
        if slide > size {
            return Err(Error::type_mismatch(format!(
                "The slide duration ({}) must be less than or equal to the windowDuration ({}).",
                Interval::from_micros(slide),
                Interval::from_micros(size)
            ))
            .at(pos));
        }
        if start.checked_abs().is_none_or(|a| a >= slide) {
            return Err(Error::type_mismatch("The absolute value of the start time must be less than the slideDuration.").at(pos));
        }
        // Each row falls into ceil(size / slide) windows: bounded before any row is assigned.
        let per_row = size / slide + i64::from(size % slide != 0);
        if per_row > limits::MAX_WINDOWS_PER_ROW {
            return Err(Error::unsupported(format!(
                "window({}, {}) puts every row into {per_row} windows (window duration / slide duration); at most {} windows per row are supported. Use a longer slide or a shorter window",
                Interval::from_micros(size),
                Interval::from_micros(slide),
                limits::MAX_WINDOWS_PER_ROW
            ))
            .at(pos));
        }
        Ok((time, WindowSpec { size, slide, start }))
    }

    fn aggregate_body(
        &mut self,
        s: &ast::Select,
        group_exprs: &[&ast::Expr],
        items: &[(&ast::Expr, Option<&ast::Ident>)],
        plan: LogicalPlan,
        scope: &Scope,
    ) -> Result<(LogicalPlan, Scope)> {
        // Grouping keys: input columns first, then SELECT aliases and ordinals, as Spark does.
        let mut keys: Vec<Expr> = Vec::new();
        let mut key_names: Vec<String> = Vec::new();
        let distinct = s.distinct.is_some();
        let key_sources: Vec<(&ast::Expr, String)> = if distinct {
            if !group_exprs.is_empty() {
                return Err(Error::unsupported(
                    "SELECT DISTINCT over a GROUP BY chains two aggregations, which is not supported by this version of Unbounded yet",
                ));
            }
            items.iter().map(|(e, a)| (*e, a.map(|a| a.value.clone()).unwrap_or_else(|| output_name(e)))).collect()
        } else {
            let mut out = Vec::new();
            for g in group_exprs {
                if let ast::Expr::Value(v) = g {
                    if let ast::Value::Number(n, _) = &v.value {
                        let k: usize = n.parse().unwrap_or(0);
                        let (e, a) = items.get(k.wrapping_sub(1)).ok_or_else(|| {
                            Error::type_mismatch(format!("[GROUP_BY_POS_OUT_OF_RANGE] GROUP BY position {n} is not in select list (valid range is [1, {}]). SQLSTATE: 42805", items.len()))
                                .at(position_of(v.span))
                        })?;
                        out.push((*e, a.map(|a| a.value.clone()).unwrap_or_else(|| output_name(e))));
                        continue;
                    }
                }
                out.push((*g, output_name(g)));
            }
            out
        };
        for (g, name) in key_sources {
            let resolved = match self.expr(g, scope) {
                Ok(e) => (e, name),
                Err(e) if e.kind == ErrorKind::UnknownColumn => {
                    let alias = match g {
                        ast::Expr::Identifier(i) => items.iter().find(|(_, a)| a.is_some_and(|a| a.value.eq_ignore_ascii_case(&i.value))),
                        _ => None,
                    };
                    match alias {
                        Some((aliased, Some(a))) => (self.expr(aliased, scope)?, a.value.clone()),
                        _ => return Err(e),
                    }
                }
                Err(e) => return Err(e),
            };
            if !keys.contains(&resolved.0) {
                keys.push(resolved.0);
                key_names.push(resolved.1);
            }
        }
        // The SELECT list and HAVING, with aggregate calls collected.
        self.collecting = Some(AggCollector { calls: Vec::new() });
        let resolved_items: Result<Vec<(Expr, String)>> =
            items.iter().map(|(e, a)| Ok((self.expr(e, scope)?, a.map(|a| a.value.clone()).unwrap_or_else(|| output_name(e))))).collect();
        let resolved_items = match resolved_items {
            Ok(r) => r,
            Err(e) => {
                self.collecting = None;
                return Err(e);
            }
        };
        self.alias_fallback = resolved_items.iter().map(|(e, n)| (n.clone(), e.clone())).collect();
        let having = s.having.as_ref().map(|h| self.expr(h, scope).map(|e| (e, h)));
        self.alias_fallback.clear();
        let calls = self.collecting.take().map(|c| c.calls).unwrap_or_default();
        let having = having.transpose()?;
        let aggregates: Vec<AggregateCall> = calls.into_iter().map(|(_, c)| c).collect();
        let nk = keys.len();
        let mut columns: Vec<Column> =
            keys.iter().zip(&key_names).map(|(k, n)| Column { name: n.clone(), data_type: k.data_type() }).collect();
        columns.extend(aggregates.iter().enumerate().map(|(k, a)| Column { name: format!("agg_{k}"), data_type: a.data_type.clone() }));
        let mut event_time_key =
            plan.event_time_column().and_then(|et| keys.iter().position(|k| matches!(k, Expr::Column { index, .. } if *index == et)));
        let session = match &self.session_window {
            None => None,
            Some((_, time, gap)) => {
                let key = keys
                    .iter()
                    .position(|k| matches!(k, Expr::Column { index, .. } if *index == SESSION_PLACEHOLDER))
                    .ok_or_else(|| Error::unsupported("session_window(...) must be in the GROUP BY of the aggregation that selects it"))?;
                let time_is_event_time =
                    plan.event_time_column().is_some_and(|et| matches!(time, Expr::Column { index, .. } if *index == et));
                event_time_key = time_is_event_time.then_some(key);
                Some(SessionSpec { key, time: time.clone(), gap: gap.clone() })
            }
        };
        let mut out = LogicalPlan::Aggregate {
            input: Box::new(plan),
            keys: keys.clone(),
            aggregates,
            event_time_key,
            session,
            schema: Schema::new(columns),
        };
        // Rewrites an expression over the input into one over the aggregate's output.
        let onto_output = |e: &Expr, what: &ast::Expr| -> Result<Expr> {
            let uncovered = std::cell::RefCell::new(None);
            let rewritten = onto_keys(e, &keys, nk, &uncovered);
            if let Some(index) = uncovered.into_inner() {
                let name = scope.columns.get(index).map(|c| c.name.clone()).unwrap_or_default();
                let text = spark_sql(what);
                return Err(Error::new(
                    ErrorKind::UnknownColumn,
                    format!(
                        "[MISSING_AGGREGATION] The non-aggregating expression \"{text}\" is based on columns which are not participating in the GROUP BY clause. Add the columns or the expression to the GROUP BY, aggregate the expression, or use \"any_value({name})\" if you do not care which of the values within a group is returned. SQLSTATE: 42803"
                    ),
                )
                .with_condition("MISSING_AGGREGATION")
                .at(expr_position(what)));
            }
            Ok(rewritten)
        };
        if let Some((h, text)) = having {
            let predicate = onto_output(&h, text)?;
            out = LogicalPlan::Filter { input: Box::new(boolean_filter_input(out, &predicate, text)?), predicate };
        }
        let mut exprs = Vec::new();
        let mut cols = Vec::new();
        for ((e, name), (ast_e, _)) in resolved_items.iter().zip(items) {
            let rewritten = onto_output(e, ast_e)?;
            cols.push(Column { name: name.clone(), data_type: rewritten.data_type() });
            exprs.push(rewritten);
        }
        let schema = Schema::new(cols);
        let scope = Scope::from_schema(&schema, None);
        Ok((LogicalPlan::Project { input: Box::new(out), exprs, schema }, scope))
    }

    fn table_with_joins(&mut self, twj: &'a ast::TableWithJoins) -> Result<(LogicalPlan, Scope)> {
        if twj.joins.len() > limits::MAX_JOINS {
            return Err(limits::too_many_joins(twj.joins.len()).at(limits::relation_position(&twj.joins[limits::MAX_JOINS].relation)));
        }
        let (mut plan, mut scope) = self.factor(&twj.relation)?;
        for join in &twj.joins {
            let right = self.factor(&join.relation)?;
            let (p, s) = self.join((plan, scope), right, join)?;
            plan = p;
            scope = s;
        }
        Ok((plan, scope))
    }

    fn factor(&mut self, f: &'a ast::TableFactor) -> Result<(LogicalPlan, Scope)> {
        match f {
            ast::TableFactor::Table { name, alias, args: None, .. } => {
                let ident = match name.0.last() {
                    Some(ast::ObjectNamePart::Identifier(i)) => i.clone(),
                    _ => return Err(Error::parse("a table name is expected", position_of(name.span()))),
                };
                let pos = position_of(ident.span);
                let with_stream = pos.is_some_and(|p| self.prepared.stream_refs.contains(&p));
                let (clause, alias) = self.split_marker(alias.as_ref())?;
                let key = ident.value.to_ascii_lowercase();
                self.count_relation(pos)?;
                let (plan, scope) = if let Some(i) = self.ctes.iter().rposition(|(n, _)| *n == key) {
                    // The CTE's body sees the CTEs defined before it, not itself or later ones.
                    let cte = self.ctes[i].1;
                    let hidden = self.ctes.split_off(i);
                    let result = self.query(cte);
                    self.ctes.extend(hidden);
                    let (plan, scope) = result?;
                    (plan, scope.requalify(Some(&ident.value)))
                } else if let Some((n, schema)) = self.catalog.source(&ident.value) {
                    (LogicalPlan::Source { name: n.clone(), schema: schema.clone() }, Scope::from_schema(schema, Some(&ident.value)))
                } else if let Some((n, schema, rows)) = self.catalog.table(&ident.value) {
                    if with_stream {
                        return Err(Error::unsupported(format!(
                            "{n} is not a temp view of streaming logical plan, please use batch API such as `DataFrameReader.table` to read it. (`{n}` is a static table: remove STREAM, or read one of the sources: {})",
                            self.catalog.sources.iter().map(|(s, _)| s.as_str()).collect::<Vec<_>>().join(", ")
                        ))
                        .with_condition("_LEGACY_ERROR_TEMP_1008")
                        .in_phase(Phase::Analysis)
                        .at(pos));
                    }
                    (LogicalPlan::Table { name: n.clone(), schema: schema.clone(), rows: rows.clone() }, Scope::from_schema(schema, Some(&ident.value)))
                } else {
                    return Err(self.unknown_table(&ident.value).at(pos));
                };
                let (plan, scope) = self.apply_clauses(plan, scope, clause.as_ref())?;
                let qualifier = alias.as_ref().map(|a| a.value.clone()).unwrap_or(ident.value.clone());
                Ok((plan, scope.requalify(Some(&qualifier))))
            }
            ast::TableFactor::Derived { subquery, alias, lateral: false, .. } => {
                let (clause, alias) = self.split_marker(alias.as_ref())?;
                let (plan, scope) = self.query(subquery)?;
                let (plan, scope) = self.apply_clauses(plan, scope, clause.as_ref())?;
                let q = alias.map(|a| a.value);
                Ok((plan, scope.requalify(q.as_deref())))
            }
            ast::TableFactor::Function { name, .. } | ast::TableFactor::Table { name, .. } => Err(Error::unsupported(format!(
                "table-valued functions such as `{name}(...)` are not supported; Spark has no window TVFs either: use GROUP BY window(ts, '10 seconds')"
            ))
            .at(position_of(name.span()))),
            other => Err(Error::unsupported(format!("`{other}` is not supported in FROM of a streaming query")).at(position_of(other.span()))),
        }
    }

    fn unknown_table(&self, name: &str) -> Error {
        let known: Vec<&str> =
            self.catalog.sources.iter().map(|(n, _)| n.as_str()).chain(self.catalog.tables.iter().map(|(n, _, _)| n.as_str())).collect();
        let hint = match suggest::likely(name, known.iter().copied()) {
            Some(s) => format!(" Did you mean `{s}`?"),
            None if known.is_empty() => " The scenario declares no sources or tables.".to_string(),
            None => format!(" Known sources and tables: {}.", known.join(", ")),
        };
        Error::new(
            ErrorKind::UnknownTable,
            format!("[TABLE_OR_VIEW_NOT_FOUND] The table or view `{name}` cannot be found. Verify the spelling and correctness of the schema and catalog.{hint} SQLSTATE: 42P01"),
        )
        .with_condition("TABLE_OR_VIEW_NOT_FOUND")
    }

    /// Separates a clauses marker alias (`__wN`) from a real alias.
    fn split_marker(&self, alias: Option<&ast::TableAlias>) -> Result<(Option<RelationClauses>, Option<ast::Ident>)> {
        let Some(a) = alias else { return Ok((None, None)) };
        if let Some(n) = a.name.value.strip_prefix(MARKER_PREFIX).and_then(|n| n.parse::<usize>().ok()) {
            if let Some(clauses) = self.prepared.relations.get(n) {
                return Ok((Some(clauses.clone()), clauses.alias.clone()));
            }
        }
        if !a.columns.is_empty() {
            return Err(Error::unsupported("column aliases on a relation (`AS t(a, b)`) are not supported").at(position_of(a.name.span)));
        }
        Ok((None, Some(a.name.clone())))
    }

    /// A relation's WATERMARK, then its DEDUPLICATE.
    fn apply_clauses(&mut self, plan: LogicalPlan, scope: Scope, clauses: Option<&RelationClauses>) -> Result<(LogicalPlan, Scope)> {
        let Some(c) = clauses else { return Ok((plan, scope)) };
        let (plan, scope) = match &c.watermark {
            Some(w) => self.apply_watermark(plan, scope, w)?,
            None => (plan, scope),
        };
        match &c.dedup {
            Some(d) => self.apply_dedup(plan, scope, d),
            None => Ok((plan, scope)),
        }
    }

    fn apply_dedup(&mut self, plan: LogicalPlan, scope: Scope, d: &DedupClause) -> Result<(LogicalPlan, Scope)> {
        let mut keys = Vec::new();
        for c in &d.columns {
            match self.resolve_column(std::slice::from_ref(c), &scope)? {
                Expr::Column { index, .. } if !keys.contains(&index) => keys.push(index),
                Expr::Column { .. } => {}
                _ => {
                    return Err(Error::type_mismatch(format!("DEDUPLICATE BY takes column names; `{}` is a field", c.value))
                        .at(position_of(c.span)))
                }
            }
        }
        let delay = if d.within_watermark {
            match (plan.event_time_column(), watermark_delay(&plan)) {
                (Some(_), Some(delay)) => delay,
                _ => {
                    return Err(Error::unsupported(
                        "dropDuplicatesWithinWatermark is not supported on streaming DataFrames/DataSets without watermark; (DEDUPLICATE WITHIN WATERMARK needs a WATERMARK clause on the same relation, before it.)",
                    )
                    .with_condition("_LEGACY_ERROR_TEMP_3102")
                    .at(Some(d.position)))
                }
            }
        } else {
            0
        };
        Ok((LogicalPlan::Deduplicate { input: Box::new(plan), keys, within_watermark: d.within_watermark, delay_micros: delay }, scope))
    }

    fn apply_watermark(&mut self, plan: LogicalPlan, scope: Scope, clause: &WatermarkClause) -> Result<(LogicalPlan, Scope)> {
        let resolved = self.expr(&clause.event_time, &scope)?;
        let (plan, scope, index) = match (&clause.name, &resolved) {
            (None, Expr::Column { index, .. }) => (plan, scope, *index),
            (None, _) => {
                return Err(Error::unsupported(format!(
                    "Name the event-time expression: WATERMARK {} AS event_time DELAY OF ...",
                    clause.event_time
                ))
                .at(Some(clause.position)))
            }
            (Some(name), _) => {
                // The named expression becomes a new column that carries the watermark.
                let mut exprs: Vec<Expr> = scope.columns.iter().enumerate().map(|(k, c)| Expr::column(k, c.data_type.clone())).collect();
                let mut columns: Vec<Column> =
                    scope.columns.iter().map(|c| Column { name: c.name.clone(), data_type: c.data_type.clone() }).collect();
                exprs.push(resolved.clone());
                columns.push(Column { name: name.value.clone(), data_type: resolved.data_type() });
                let schema = Schema::new(columns);
                let mut new_scope = scope.clone();
                new_scope.columns.push(ScopeColumn { qualifier: None, name: name.value.clone(), data_type: resolved.data_type() });
                let index = schema.len() - 1;
                (LogicalPlan::Project { input: Box::new(plan), exprs, schema }, new_scope, index)
            }
        };
        let t = &scope.columns[index].data_type;
        if *t != DataType::Timestamp {
            return Err(Error::type_mismatch(format!(
                "[EVENT_TIME_IS_NOT_ON_TIMESTAMP_TYPE] The event time `{}` has the invalid type \"{}\", but expected \"TIMESTAMP\". SQLSTATE: 42K09",
                scope.columns[index].name,
                t.spark_name()
            ))
            .with_condition("EVENT_TIME_IS_NOT_ON_TIMESTAMP_TYPE")
            .at(expr_position(&clause.event_time)));
        }
        // The delay as a duration (a month counts as 31 days), computed without wrapping.
        let delay = i64::from(clause.delay.months)
            .checked_mul(31 * 86_400 * crate::time::MICROS_PER_SECOND)
            .and_then(|m| m.checked_add(clause.delay.micros))
            .ok_or_else(|| {
                Error::type_mismatch(format!("the watermark delay {} is too large: at most about 292,000 years", clause.delay))
                    .at(Some(clause.position))
            })?;
        if delay < 0 {
            return Err(Error::type_mismatch("the watermark delay must not be negative").at(Some(clause.position)));
        }
        Ok((LogicalPlan::Watermark { input: Box::new(plan), event_time: index, delay: clause.delay }, scope))
    }

    fn join(&mut self, left: (LogicalPlan, Scope), right: (LogicalPlan, Scope), join: &ast::Join) -> Result<(LogicalPlan, Scope)> {
        use ast::JoinOperator as J;
        let pos = position_of(join.relation.span());
        let (kind_name, constraint) = match &join.join_operator {
            J::Join(c) | J::Inner(c) => ("Inner", c),
            J::Left(c) | J::LeftOuter(c) => ("LeftOuter", c),
            J::Right(c) | J::RightOuter(c) => ("RightOuter", c),
            J::FullOuter(c) => ("FullOuter", c),
            J::CrossJoin(_) => {
                return Err(Error::unsupported("CROSS JOIN is not supported on streams; join on a key with JOIN ... ON").at(pos))
            }
            other => return Err(Error::unsupported(format!("{other:?} joins are not supported yet; use JOIN or LEFT JOIN")).at(pos)),
        };
        let (ls, rs) = (left.0.is_streaming(), right.0.is_streaming());
        let stream_stream = ls && rs;
        if !ls && !rs {
            return Err(Error::unsupported("Joining two static tables is not supported; join a stream with a static table").at(pos));
        }
        let refuse = |m: &str| {
            Err(Error::unsupported(format!(
                "{m} (Join a stream with LEFT JOIN to a static table, keeping the stream on the preserved side.)"
            ))
            .with_condition("_LEGACY_ERROR_TEMP_3102")
            .at(pos))
        };
        let kind = if stream_stream {
            JoinKind::Inner
        } else {
            match (kind_name, ls) {
            ("Inner", _) => JoinKind::Inner,
            ("LeftOuter", true) | ("RightOuter", false) => JoinKind::LeftOuter,
            ("LeftOuter", false) => return refuse("LeftOuter join with a streaming DataFrame/Dataset on the right and a static DataFrame/Dataset on the left is not supported;"),
            ("RightOuter", true) => return refuse("RightOuter join with a streaming DataFrame/Dataset on the left and a static DataFrame/Dataset on the right is not supported;"),
            (_, true) => return refuse("FullOuter joins with streaming DataFrames/Datasets on the left and a static DataFrame/Dataset on the right is not supported;"),
            (_, false) => return refuse("FullOuter joins with streaming DataFrames/Datasets on the right and a static DataFrame/Dataset on the left is not supported;"),
        }
        };
        let nl = left.1.columns.len();
        let mut combined = left.1.clone();
        combined.columns.extend(right.1.columns.iter().cloned());
        let schema =
            Schema::new(combined.columns.iter().map(|c| Column { name: c.name.clone(), data_type: c.data_type.clone() }).collect());
        // Conjuncts of the condition: equalities across the sides become hash keys.
        let mut conjuncts = Vec::new();
        let mut using_drop: Vec<usize> = Vec::new();
        match constraint {
            ast::JoinConstraint::On(e) => {
                let cond = self.expr(e, &combined)?;
                if !matches!(cond.data_type(), DataType::Boolean | DataType::Null) {
                    return Err(Error::type_mismatch(format!(
                        "the join condition `{}` must be a boolean, not {}",
                        spark_sql(e),
                        cond.data_type().spark_name()
                    ))
                    .at(expr_position(e)));
                }
                conjuncts.extend(cond.conjuncts());
            }
            ast::JoinConstraint::Using(names) => {
                for n in names {
                    let name = n.to_string();
                    let find = |scope: &Scope, offset: usize| {
                        scope
                            .columns
                            .iter()
                            .position(|c| c.name.eq_ignore_ascii_case(&name))
                            .map(|k| (k + offset, scope.columns[k].data_type.clone()))
                    };
                    let (Some((li, lt)), Some((ri, rt))) = (find(&left.1, 0), find(&right.1, nl)) else {
                        return Err(Error::new(ErrorKind::UnknownColumn, format!("[UNRESOLVED_USING_COLUMN_FOR_JOIN] USING column `{name}` cannot be resolved on both sides of the join. SQLSTATE: 42703")).at(pos));
                    };
                    let t = wider_type(&lt, &rt)
                        .ok_or_else(|| Error::type_mismatch(format!("USING column `{name}` has types {lt} and {rt}")).at(pos))?;
                    conjuncts.push(Expr::Binary {
                        op: BinaryOp::Eq,
                        left: Box::new(Expr::column(li, lt).cast_to(&t)),
                        right: Box::new(Expr::column(ri, rt).cast_to(&t)),
                        data_type: DataType::Boolean,
                    });
                    using_drop.push(ri);
                }
            }
            ast::JoinConstraint::Natural => {
                return Err(Error::unsupported("NATURAL JOIN is not supported; name the keys with ON or USING").at(pos))
            }
            ast::JoinConstraint::None => return Err(Error::unsupported("A join needs a condition: JOIN t ON a.k = t.k").at(pos)),
        }
        let mut left_keys = Vec::new();
        let mut right_keys = Vec::new();
        let mut residual: Option<Expr> = None;
        for c in conjuncts {
            if let Expr::Binary { op: BinaryOp::Eq, left: a, right: b, .. } = &c {
                let side = |e: &Expr| {
                    let mut cols = Vec::new();
                    e.columns(&mut cols);
                    if cols.is_empty() {
                        None
                    } else if cols.iter().all(|&k| k < nl) {
                        Some(0)
                    } else if cols.iter().all(|&k| k >= nl) {
                        Some(1)
                    } else {
                        None
                    }
                };
                match (side(a), side(b)) {
                    (Some(0), Some(1)) => {
                        left_keys.push((**a).clone());
                        right_keys.push(b.map_columns(&|k| k - nl));
                        continue;
                    }
                    (Some(1), Some(0)) => {
                        left_keys.push((**b).clone());
                        right_keys.push(a.map_columns(&|k| k - nl));
                        continue;
                    }
                    _ => {}
                }
            }
            residual = Expr::and_all(residual.into_iter().chain([c]).collect());
        }
        if stream_stream {
            return self.stream_join(left, right, kind_name, left_keys, right_keys, residual, schema, combined, using_drop, pos);
        }
        let (stream, table, stream_keys, table_keys, stream_first) =
            if ls { (left.0, right.0, left_keys, right_keys, true) } else { (right.0, left.0, right_keys, left_keys, false) };
        let mut plan = LogicalPlan::StaticJoin {
            stream: Box::new(stream),
            table: Box::new(table),
            kind,
            stream_keys,
            table_keys,
            residual,
            stream_first,
            schema: schema.clone(),
        };
        let mut scope = combined;
        if !using_drop.is_empty() {
            // USING keeps one copy of each key column, as Spark does.
            let keep: Vec<usize> = (0..schema.len()).filter(|k| !using_drop.contains(k)).collect();
            let exprs = keep.iter().map(|&k| Expr::column(k, schema.columns[k].data_type.clone())).collect();
            let pschema = Schema::new(keep.iter().map(|&k| schema.columns[k].clone()).collect());
            scope.columns = keep.iter().map(|&k| scope.columns[k].clone()).collect();
            plan = LogicalPlan::Project { input: Box::new(plan), exprs, schema: pschema };
        }
        Ok((plan, scope))
    }

    #[allow(clippy::too_many_arguments)]
    fn stream_join(
        &mut self,
        left: (LogicalPlan, Scope),
        right: (LogicalPlan, Scope),
        kind_name: &str,
        left_keys: Vec<Expr>,
        right_keys: Vec<Expr>,
        residual: Option<Expr>,
        schema: Schema,
        scope: Scope,
        using_drop: Vec<usize>,
        pos: Option<Position>,
    ) -> Result<(LogicalPlan, Scope)> {
        if !using_drop.is_empty() {
            return Err(Error::unsupported("JOIN ... USING between two streams is not supported yet; write the condition with ON").at(pos));
        }
        let nl = left.1.columns.len();
        let (left_time, right_time) = (left.0.event_time_column(), right.0.event_time_column());
        // The time range: conjuncts comparing the two event times, as `right - left` in [lo, hi].
        let (mut lo, mut hi): (Option<i64>, Option<i64>) = (None, None);
        if let (Some(lt), Some(rt)) = (left_time, right_time) {
            for c in residual.clone().map(Expr::conjuncts).unwrap_or_default() {
                if let Some((op, bound)) = time_bound(&c, lt, nl + rt) {
                    match op {
                        BinaryOp::GtEq => lo = Some(lo.map_or(bound, |l| l.max(bound))),
                        BinaryOp::Gt => lo = Some(lo.map_or(bound + 1, |l| l.max(bound + 1))),
                        BinaryOp::LtEq => hi = Some(hi.map_or(bound, |h| h.min(bound))),
                        BinaryOp::Lt => hi = Some(hi.map_or(bound - 1, |h| h.min(bound - 1))),
                        _ => {}
                    }
                }
            }
        }
        let kind = match kind_name {
            "Inner" => StreamJoinKind::Inner,
            "LeftOuter" => StreamJoinKind::LeftOuter,
            "RightOuter" => StreamJoinKind::RightOuter,
            _ => StreamJoinKind::FullOuter,
        };
        if kind != StreamJoinKind::Inner && (left_time.is_none() || right_time.is_none() || lo.is_none() || hi.is_none()) {
            return Err(Error::new(
                ErrorKind::MissingWatermark,
                format!(
                    "Stream-stream {kind_name} join between two streaming DataFrame/Datasets is not supported without a watermark in the join keys, or a watermark on the nullable side and an appropriate range condition; (Give both streams a WATERMARK and bound one event time by the other in ON, e.g. c.ts BETWEEN i.ts AND i.ts + INTERVAL 20 SECONDS.)"
                ),
            )
            .with_condition("_LEGACY_ERROR_TEMP_3102")
            .at(pos));
        }
        let spec = StreamJoinSpec { kind, left_keys, right_keys, residual, left_time, right_time, bounds: (lo, hi) };
        let plan = LogicalPlan::StreamJoin { left: Box::new(left.0), right: Box::new(right.0), spec, schema };
        Ok((plan, scope))
    }

    fn resolve_column(&self, parts: &[ast::Ident], scope: &Scope) -> Result<Expr> {
        let pos = position_of(parts[0].span);
        let lookup = |qualifier: Option<&str>, name: &str| -> Vec<usize> {
            scope
                .columns
                .iter()
                .enumerate()
                .filter(|(_, c)| {
                    c.name.eq_ignore_ascii_case(name)
                        && qualifier.is_none_or(|q| c.qualifier.as_deref().is_some_and(|cq| cq.eq_ignore_ascii_case(q)))
                })
                .map(|(k, _)| k)
                .collect()
        };
        // Try `col`, then `qualifier.col`, then `col.field`, then `qualifier.col.field`.
        let mut attempts: Vec<(Option<&str>, &str, Option<&str>)> = Vec::new();
        match parts {
            [c] => attempts.push((None, &c.value, None)),
            [a, b] => {
                attempts.push((Some(&a.value), &b.value, None));
                attempts.push((None, &a.value, Some(&b.value)));
            }
            [a, b, c] => attempts.push((Some(&a.value), &b.value, Some(&c.value))),
            _ => {}
        }
        for (q, name, field) in attempts {
            let hits = lookup(q, name);
            if hits.len() > 1 {
                let mut options: Vec<String> = hits
                    .iter()
                    .map(|&k| match &scope.columns[k].qualifier {
                        Some(q) => format!("`{q}`.`{}`", scope.columns[k].name),
                        None => format!("`{}`", scope.columns[k].name),
                    })
                    .collect();
                options.sort();
                return Err(Error::new(
                    ErrorKind::AmbiguousColumn,
                    format!("[AMBIGUOUS_REFERENCE] Reference `{name}` is ambiguous, could be: [{}]. Qualify it with its table or alias. SQLSTATE: 42704", options.join(", ")),
                )
                .with_condition("AMBIGUOUS_REFERENCE")
                .at(pos));
            }
            if let Some(&k) = hits.first() {
                let col = Expr::column(k, scope.columns[k].data_type.clone());
                return match field {
                    None => Ok(col),
                    Some(f) => field_access(col, f, pos),
                };
            }
        }
        let name = parts.iter().map(|p| format!("`{}`", p.value)).collect::<Vec<_>>().join(".");
        let wanted = &parts[parts.len().min(2) - 1].value;
        let candidates: Vec<String> = scope
            .columns
            .iter()
            .map(|c| match (&c.qualifier, parts.len() > 1) {
                (Some(q), true) => format!("`{q}`.`{}`", c.name),
                _ => format!("`{}`", c.name),
            })
            .collect();
        let names: Vec<&str> = scope.columns.iter().map(|c| c.name.as_str()).collect();
        let best = suggest::closest(wanted, names.iter().copied(), 5);
        let mut shown: Vec<String> = Vec::new();
        for b in best {
            for (k, n) in names.iter().enumerate() {
                if *n == b && !shown.contains(&candidates[k]) {
                    shown.push(candidates[k].clone());
                }
            }
        }
        shown.truncate(5);
        Err(Error::new(
            ErrorKind::UnknownColumn,
            format!(
                "[UNRESOLVED_COLUMN.WITH_SUGGESTION] A column, variable, or function parameter with name {name} cannot be resolved. Did you mean one of the following? [{}]. SQLSTATE: 42703",
                shown.join(", ")
            ),
        )
        .with_condition("UNRESOLVED_COLUMN.WITH_SUGGESTION")
        .at(pos))
    }

    fn expr(&mut self, e: &ast::Expr, scope: &Scope) -> Result<Expr> {
        self.expr_inner(e, scope).map_err(|err| if err.position.is_some() { err } else { err.at(expr_position(e)) })
    }

    /// Dispatches on the form of `e`. Each larger form is resolved in its own function: this one
    /// is on the path of every nesting level, and an unoptimised build gives a function one
    /// stack slot per temporary of all its arms.
    fn expr_inner(&mut self, e: &ast::Expr, scope: &Scope) -> Result<Expr> {
        use ast::Expr as E;
        Ok(match e {
            E::Identifier(i) => match suffixed_number(i) {
                Some(v) => Expr::Literal(v),
                None => match self.resolve_column(std::slice::from_ref(i), scope) {
                    Err(e) if e.kind == ErrorKind::UnknownColumn => {
                        match self.alias_fallback.iter().find(|(a, _)| a.eq_ignore_ascii_case(&i.value)) {
                            Some((_, resolved)) => resolved.clone(),
                            None => return Err(e),
                        }
                    }
                    other => other?,
                },
            },
            E::CompoundIdentifier(parts) => self.resolve_column(parts, scope)?,
            E::Nested(inner) => self.expr(inner, scope)?,
            E::Value(v) => literal(&v.value).map_err(|m| Error::parse(m, position_of(v.span)))?,
            E::TypedString(_) => return self.expr_typed_string(e, scope),
            E::UnaryOp { .. } => return self.expr_unary(e, scope),
            E::BinaryOp { .. } => self.binary_chain(e, scope)?,
            E::IsNull(x) => Expr::IsNull(Box::new(self.expr(x, scope)?)),
            E::IsNotNull(x) => Expr::IsNotNull(Box::new(self.expr(x, scope)?)),
            E::IsTrue(_) | E::IsFalse(_) | E::IsNotTrue(_) | E::IsNotFalse(_) => return self.expr_is_truth(e, scope),
            E::InList { .. } => return self.expr_in_list(e, scope),
            E::Between { .. } => return self.expr_between(e, scope),
            E::Like { any: false, .. } | E::ILike { any: false, .. } => return self.expr_like(e, scope),
            E::Case { .. } => return self.expr_case(e, scope),
            E::Cast { .. } => return self.expr_cast(e, scope),
            E::Function(f) => self.function(f, scope, e)?,
            // sqlparser gives these SQL-standard forms their own nodes; they are plain functions.
            E::Floor { .. } | E::Ceil { .. } => return self.expr_floor_ceil(e, scope),
            E::Substring { .. } => return self.expr_substring(e, scope),
            E::Trim { .. } => return self.expr_trim(e, scope),
            E::Extract { .. } => return self.expr_extract(e, scope),
            E::CompoundFieldAccess { .. } => return self.expr_field_access(e, scope),
            E::Interval(_) => {
                return Err(Error::type_mismatch(
                    "An INTERVAL can only be added to or subtracted from a timestamp here: ts + INTERVAL 10 SECONDS",
                ))
            }
            other => return Err(Error::unsupported(format!("the expression `{other}` is not supported yet"))),
        })
    }

    fn expr_typed_string(&mut self, e: &ast::Expr, _scope: &Scope) -> Result<Expr> {
        use ast::Expr as E;
        Ok(match e {
            E::TypedString(ts) => {
                let text = match &ts.value.value {
                    ast::Value::SingleQuotedString(s) | ast::Value::DoubleQuotedString(s) => s.clone(),
                    other => other.to_string(),
                };
                match ts.data_type {
                    ast::DataType::Timestamp(_, _) | ast::DataType::Datetime(_) | ast::DataType::Date => {
                        let t = parse_timestamp(&text).ok_or_else(|| {
                            Error::parse(format!("[INVALID_TYPED_LITERAL] The value of the typed literal \"TIMESTAMP\" is invalid: '{text}'. SQLSTATE: 42604"), position_of(ts.value.span))
                        })?;
                        Expr::Literal(Value::Timestamp(t))
                    }
                    ref other => return Err(Error::unsupported(format!("typed literals of type {other} are not supported"))),
                }
            }
            _ => return Err(Error::internal("an expression form reached the wrong resolver")),
        })
    }

    fn expr_unary(&mut self, e: &ast::Expr, scope: &Scope) -> Result<Expr> {
        use ast::Expr as E;
        Ok(match e {
            E::UnaryOp { op, expr } => {
                let inner = self.expr(expr, scope)?;
                match op {
                    ast::UnaryOperator::Not => Expr::Not(Box::new(boolean_operand(inner, expr)?)),
                    ast::UnaryOperator::Minus => match inner {
                        Expr::Literal(Value::Int(v)) => Expr::Literal(Value::Int(-v)),
                        Expr::Literal(Value::BigInt(v)) => Expr::Literal(Value::BigInt(-v)),
                        Expr::Literal(Value::Double(v)) => Expr::Literal(Value::Double(-v)),
                        other if other.data_type().is_numeric() => Expr::Negate(Box::new(other)),
                        other => return Err(unary_mismatch("-", &other, expr)),
                    },
                    ast::UnaryOperator::Plus => inner,
                    other => return Err(Error::unsupported(format!("the operator {other} is not supported"))),
                }
            }
            _ => return Err(Error::internal("an expression form reached the wrong resolver")),
        })
    }

    fn expr_is_truth(&mut self, e: &ast::Expr, scope: &Scope) -> Result<Expr> {
        use ast::Expr as E;
        Ok(match e {
            E::IsTrue(x) | E::IsFalse(x) | E::IsNotTrue(x) | E::IsNotFalse(x) => {
                let v = boolean_operand(self.expr(x, scope)?, x)?;
                let want = matches!(e, E::IsTrue(_) | E::IsNotFalse(_));
                let eq = Expr::Binary {
                    op: BinaryOp::NullSafeEq,
                    left: Box::new(v),
                    right: Box::new(Expr::Literal(Value::Boolean(true))),
                    data_type: DataType::Boolean,
                };
                let is_true = eq;
                match e {
                    E::IsTrue(_) => is_true,
                    E::IsNotTrue(_) => Expr::Not(Box::new(is_true)),
                    _ => {
                        let is_false = Expr::Binary {
                            op: BinaryOp::NullSafeEq,
                            left: Box::new(boolean_operand(self.expr(x, scope)?, x)?),
                            right: Box::new(Expr::Literal(Value::Boolean(false))),
                            data_type: DataType::Boolean,
                        };
                        if want {
                            Expr::Not(Box::new(is_false))
                        } else {
                            is_false
                        }
                    }
                }
            }
            _ => return Err(Error::internal("an expression form reached the wrong resolver")),
        })
    }

    fn expr_in_list(&mut self, e: &ast::Expr, scope: &Scope) -> Result<Expr> {
        use ast::Expr as E;
        Ok(match e {
            E::InList { expr, list, negated } => {
                let v = self.expr(expr, scope)?;
                let items = list.iter().map(|i| self.expr(i, scope)).collect::<Result<Vec<_>>>()?;
                let mut t = v.data_type();
                for i in &items {
                    t = comparison_type(&t, &i.data_type()).ok_or_else(|| compare_mismatch(e, &v.data_type(), &i.data_type()))?;
                }
                Expr::InList { expr: Box::new(v.cast_to(&t)), list: items.into_iter().map(|i| i.cast_to(&t)).collect(), negated: *negated }
            }
            _ => return Err(Error::internal("an expression form reached the wrong resolver")),
        })
    }

    fn expr_between(&mut self, e: &ast::Expr, scope: &Scope) -> Result<Expr> {
        use ast::Expr as E;
        Ok(match e {
            E::Between { expr, negated, low, high } => {
                let v = self.expr(expr, scope)?;
                let lo = self.expr(low, scope)?;
                let hi = self.expr(high, scope)?;
                let ge = compare(BinaryOp::GtEq, v.clone(), lo, e)?;
                let le = compare(BinaryOp::LtEq, v, hi, e)?;
                let both = Expr::Binary { op: BinaryOp::And, left: Box::new(ge), right: Box::new(le), data_type: DataType::Boolean };
                if *negated {
                    Expr::Not(Box::new(both))
                } else {
                    both
                }
            }
            _ => return Err(Error::internal("an expression form reached the wrong resolver")),
        })
    }

    fn expr_like(&mut self, e: &ast::Expr, scope: &Scope) -> Result<Expr> {
        use ast::Expr as E;
        Ok(match e {
            E::Like { negated, expr, pattern, escape_char, any: false } | E::ILike { negated, expr, pattern, escape_char, any: false } => {
                if escape_char.is_some() {
                    return Err(Error::unsupported("LIKE ... ESCAPE is not supported; the escape character is \\"));
                }
                let v = self.expr(expr, scope)?;
                let v = if v.data_type() == DataType::String { v } else { v.cast_to(&DataType::String) };
                let text = match self.expr(pattern, scope)? {
                    Expr::Literal(Value::String(s)) => s,
                    _ => return Err(Error::unsupported("the LIKE pattern must be a string literal").at(expr_position(pattern))),
                };
                let p = LikePattern::new(&text, matches!(e, E::ILike { .. }))
                    .map_err(|m| Error::runtime("INVALID_FORMAT.ESC_AT_THE_END", m).in_phase(Phase::Analysis))?;
                Expr::Like { expr: Box::new(v), pattern: p, negated: *negated }
            }
            _ => return Err(Error::internal("an expression form reached the wrong resolver")),
        })
    }

    fn expr_case(&mut self, e: &ast::Expr, scope: &Scope) -> Result<Expr> {
        use ast::Expr as E;
        Ok(match e {
            E::Case { operand, conditions, else_result, .. } => {
                let op = operand.as_ref().map(|o| self.expr(o, scope)).transpose()?;
                let mut whens = Vec::new();
                for c in conditions {
                    let cond = self.expr(&c.condition, scope)?;
                    let cond = match &op {
                        Some(o) => compare(BinaryOp::Eq, o.clone(), cond, e)?,
                        None => boolean_operand(cond, &c.condition)?,
                    };
                    whens.push((cond, self.expr(&c.result, scope)?));
                }
                let otherwise = else_result.as_ref().map(|x| self.expr(x, scope)).transpose()?;
                let mut t = DataType::Null;
                for r in whens.iter().map(|(_, r)| r).chain(otherwise.iter()) {
                    t = wider_type(&t, &r.data_type()).ok_or_else(|| {
                        Error::type_mismatch(format!(
                            "[DATATYPE_MISMATCH.DATA_DIFF_TYPES] Cannot resolve \"{}\" due to data type mismatch: Input to `casewhen` should all be the same type, but it's ({}). SQLSTATE: 42K09",
                            spark_sql(e),
                            whens.iter().map(|(_, r)| r).chain(otherwise.iter()).map(|r| format!("\"{}\"", r.data_type().spark_name())).collect::<Vec<_>>().join(", ")
                        ))
                    })?;
                }
                Expr::Case {
                    branches: whens.into_iter().map(|(w, r)| (w, r.cast_to(&t))).collect(),
                    otherwise: otherwise.map(|o| Box::new(o.cast_to(&t))),
                    data_type: t,
                }
            }
            _ => return Err(Error::internal("an expression form reached the wrong resolver")),
        })
    }

    fn expr_cast(&mut self, e: &ast::Expr, scope: &Scope) -> Result<Expr> {
        use ast::Expr as E;
        Ok(match e {
            E::Cast { kind, expr, data_type, .. } => {
                let v = self.expr(expr, scope)?;
                let to = sql_type(data_type)?;
                if !crate::expr::cast_array_allowed(&v.data_type(), &to) {
                    return Err(Error::type_mismatch(format!(
                        "[DATATYPE_MISMATCH.CAST_WITHOUT_SUGGESTION] Cannot resolve \"{}\" due to data type mismatch: cannot cast \"{}\" to \"{}\". SQLSTATE: 42K09",
                        spark_sql(e),
                        v.data_type().spark_name(),
                        to.spark_name()
                    )));
                }
                let mode = match kind {
                    ast::CastKind::TryCast | ast::CastKind::SafeCast => CastMode::Try,
                    _ => CastMode::Ansi,
                };
                if v.data_type() == to {
                    v
                } else {
                    Expr::Cast { expr: Box::new(v), to, mode }
                }
            }
            _ => return Err(Error::internal("an expression form reached the wrong resolver")),
        })
    }

    fn expr_floor_ceil(&mut self, e: &ast::Expr, scope: &Scope) -> Result<Expr> {
        use ast::Expr as E;
        Ok(match e {
            E::Floor { expr, field } | E::Ceil { expr, field } => {
                if !matches!(field, ast::CeilFloorKind::DateTimeField(ast::DateTimeField::NoDateTime)) {
                    return Err(Error::unsupported("CEIL and FLOOR take one argument here: floor(x)"));
                }
                let func = if matches!(e, E::Floor { .. }) { Func::Floor } else { Func::Ceil };
                let arg = self.expr(expr, scope)?;
                call(func, vec![arg])?
            }
            _ => return Err(Error::internal("an expression form reached the wrong resolver")),
        })
    }

    fn expr_substring(&mut self, e: &ast::Expr, scope: &Scope) -> Result<Expr> {
        use ast::Expr as E;
        Ok(match e {
            E::Substring { expr, substring_from, substring_for, .. } => {
                let mut args = vec![self.expr(expr, scope)?];
                args.push(match substring_from {
                    Some(f) => self.expr(f, scope)?,
                    None => Expr::Literal(Value::Int(1)),
                });
                if let Some(n) = substring_for {
                    args.push(self.expr(n, scope)?);
                }
                call(Func::Substring, args)?
            }
            _ => return Err(Error::internal("an expression form reached the wrong resolver")),
        })
    }

    fn expr_trim(&mut self, e: &ast::Expr, scope: &Scope) -> Result<Expr> {
        use ast::Expr as E;
        Ok(match e {
            E::Trim { expr, trim_where, trim_what, trim_characters } => {
                if trim_what.is_some() || trim_characters.is_some() {
                    return Err(Error::unsupported("TRIM of characters other than spaces is not supported yet; trim(x) removes spaces"));
                }
                let func = match trim_where {
                    Some(ast::TrimWhereField::Leading) => Func::Ltrim,
                    Some(ast::TrimWhereField::Trailing) => Func::Rtrim,
                    _ => Func::Trim,
                };
                let arg = self.expr(expr, scope)?;
                call(func, vec![arg])?
            }
            _ => return Err(Error::internal("an expression form reached the wrong resolver")),
        })
    }

    fn expr_extract(&mut self, e: &ast::Expr, scope: &Scope) -> Result<Expr> {
        use ast::Expr as E;
        Ok(match e {
            E::Extract { field, expr, .. } => {
                let func = match field {
                    ast::DateTimeField::Year | ast::DateTimeField::Years => Func::Year,
                    ast::DateTimeField::Month | ast::DateTimeField::Months => Func::Month,
                    ast::DateTimeField::Day | ast::DateTimeField::Days => Func::DayOfMonth,
                    ast::DateTimeField::Hour | ast::DateTimeField::Hours => Func::Hour,
                    ast::DateTimeField::Minute | ast::DateTimeField::Minutes => Func::Minute,
                    ast::DateTimeField::Second | ast::DateTimeField::Seconds => Func::Second,
                    other => return Err(Error::unsupported(format!("EXTRACT({other} FROM ...) is not supported yet"))),
                };
                let arg = self.expr(expr, scope)?;
                call(func, vec![arg])?
            }
            _ => return Err(Error::internal("an expression form reached the wrong resolver")),
        })
    }

    fn expr_field_access(&mut self, e: &ast::Expr, scope: &Scope) -> Result<Expr> {
        use ast::Expr as E;
        Ok(match e {
            E::CompoundFieldAccess { root, access_chain } => {
                let mut v = self.expr(root, scope)?;
                for access in access_chain {
                    v = match access {
                        ast::AccessExpr::Subscript(ast::Subscript::Index { index }) => {
                            let idx = self.expr(index, scope)?;
                            let elem = match v.data_type() {
                                DataType::Array(inner) => *inner,
                                other => {
                                    return Err(Error::type_mismatch(format!(
                                        "[DATATYPE_MISMATCH.UNEXPECTED_INPUT_TYPE] `[]` needs an ARRAY, not {}",
                                        other.spark_name()
                                    )))
                                }
                            };
                            let idx = if idx.data_type().is_integral() {
                                idx.cast_to(&DataType::Int)
                            } else {
                                return Err(Error::type_mismatch("an array index must be an integer"));
                            };
                            Expr::Index { expr: Box::new(v), index: Box::new(idx), data_type: elem }
                        }
                        ast::AccessExpr::Dot(ast::Expr::Identifier(field)) => field_access(v, &field.value, position_of(field.span))?,
                        other => return Err(Error::unsupported(format!("the access `{other}` is not supported"))),
                    };
                }
                v
            }
            _ => return Err(Error::internal("an expression form reached the wrong resolver")),
        })
    }

    /// `a op b op c ...`: sqlparser nests such a chain one level per term on the left, so it is
    /// walked with a loop here (and kept flat in the typed expression, see [`Expr::binary`]).
    fn binary_chain(&mut self, e: &ast::Expr, scope: &Scope) -> Result<Expr> {
        use ast::BinaryOperator as B;
        let mut spine: Vec<(&ast::Expr, &ast::BinaryOperator, &ast::Expr)> = Vec::new();
        let mut leftmost = e;
        while let ast::Expr::BinaryOp { left, op, right } = leftmost {
            spine.push((leftmost, op, right));
            leftmost = left;
        }
        spine.reverse();
        let mut steps = spine.into_iter();
        // `INTERVAL ... + ts` is `ts + INTERVAL ...`.
        let (mut acc, mut acc_ast) = match (leftmost, steps.as_slice().first()) {
            (ast::Expr::Interval(_), Some(&(whole, B::Plus, right))) => {
                steps.next();
                let ts = self.expr(right, scope)?;
                (self.binary_step(ts, right, &B::Plus, leftmost, scope, whole).map_err(|err| err.at(expr_position(whole)))?, whole)
            }
            _ => (self.expr(leftmost, scope)?, leftmost),
        };
        for (whole, op, right) in steps {
            acc = self.binary_step(acc, acc_ast, op, right, scope, whole).map_err(|err| err.at(expr_position(whole)))?;
            acc_ast = whole;
        }
        Ok(acc)
    }

    /// One step of a chain: `l` (already resolved from `left`) combined with `right`.
    fn binary_step(
        &mut self,
        l: Expr,
        left: &ast::Expr,
        op: &ast::BinaryOperator,
        right: &ast::Expr,
        scope: &Scope,
        whole: &ast::Expr,
    ) -> Result<Expr> {
        use ast::BinaryOperator as B;
        // Timestamp ± INTERVAL.
        if let (B::Plus | B::Minus, ast::Expr::Interval(iv)) = (op, right) {
            let ts = l;
            let ts = if ts.data_type() == DataType::String { ts.cast_to(&DataType::Timestamp) } else { ts };
            if ts.data_type() != DataType::Timestamp {
                return Err(Error::type_mismatch(format!(
                    "[DATATYPE_MISMATCH.UNEXPECTED_INPUT_TYPE] Cannot resolve \"{}\" due to data type mismatch: an INTERVAL can only be added to a TIMESTAMP, not to \"{}\". SQLSTATE: 42K09",
                    spark_sql(whole),
                    ts.data_type().spark_name()
                )));
            }
            let mut interval = interval_literal(iv)?;
            if matches!(op, B::Minus) {
                interval = Interval { months: -interval.months, micros: -interval.micros };
            }
            return add_interval(ts, interval);
        }
        if let (B::Plus, ast::Expr::Interval(_)) = (op, left) {
            return Err(Error::type_mismatch(
                "An INTERVAL can only be added to or subtracted from a timestamp here: ts + INTERVAL 10 SECONDS",
            ));
        }
        let r = self.expr(right, scope)?;
        let bop = match op {
            B::Plus => BinaryOp::Add,
            B::Minus => BinaryOp::Subtract,
            B::Multiply => BinaryOp::Multiply,
            B::Divide => BinaryOp::Divide,
            B::Modulo => BinaryOp::Modulo,
            B::Eq => BinaryOp::Eq,
            B::NotEq => BinaryOp::NotEq,
            B::Lt => BinaryOp::Lt,
            B::LtEq => BinaryOp::LtEq,
            B::Gt => BinaryOp::Gt,
            B::GtEq => BinaryOp::GtEq,
            B::Spaceship => BinaryOp::NullSafeEq,
            B::And => BinaryOp::And,
            B::Or => BinaryOp::Or,
            B::StringConcat => {
                // `a || b || c` is concat(a, b, c): one call, however long the chain.
                if let Expr::Call { func: Func::Concat, mut args, data_type } = l {
                    let (more, _) = Func::Concat.check(vec![r])?;
                    args.extend(more);
                    return Ok(Expr::Call { func: Func::Concat, args, data_type });
                }
                let (args, t) = Func::Concat.check(vec![l, r])?;
                return Ok(Expr::Call { func: Func::Concat, args, data_type: t });
            }
            other => return Err(Error::unsupported(format!("the operator {other} is not supported"))),
        };
        if bop.is_comparison() {
            return compare(bop, l, r, whole);
        }
        if matches!(bop, BinaryOp::And | BinaryOp::Or) {
            let l = boolean_operand(l, left)?;
            let r = boolean_operand(r, right)?;
            return Ok(Expr::binary(bop, l, r, DataType::Boolean));
        }
        // Arithmetic: numeric operands meet at the wider type; `/` always gives a double.
        let numeric = |t: &DataType| -> Option<DataType> {
            match t {
                t if t.is_numeric() => Some(t.clone()),
                DataType::String => Some(DataType::Double),
                DataType::Null => Some(DataType::Null),
                _ => None,
            }
        };
        let (lt, rt) = (l.data_type(), r.data_type());
        let t = match (numeric(&lt), numeric(&rt)) {
            (Some(a), Some(b)) if lt != DataType::Boolean && rt != DataType::Boolean => wider_type(&a, &b),
            _ => None,
        }
        .ok_or_else(|| {
            Error::type_mismatch(format!(
                "[DATATYPE_MISMATCH.BINARY_OP_DIFF_TYPES] Cannot resolve \"{}\" due to data type mismatch: the left and right operands of the binary operator have incompatible types (\"{}\" and \"{}\"). SQLSTATE: 42K09",
                spark_sql(whole),
                lt.spark_name(),
                rt.spark_name()
            ))
            .with_condition("DATATYPE_MISMATCH.BINARY_OP_DIFF_TYPES")
        })?;
        let t = if bop == BinaryOp::Divide || t == DataType::Null { DataType::Double } else { t };
        Ok(Expr::binary(bop, l.cast_to(&t), r.cast_to(&t), t))
    }

    fn function(&mut self, f: &ast::Function, scope: &Scope, whole: &ast::Expr) -> Result<Expr> {
        let name = f.name.to_string();
        let lower = name.to_ascii_lowercase();
        let pos = position_of(f.name.span());
        if f.over.is_some() {
            return Err(non_time_window(&format!("{}()", lower.to_ascii_uppercase())).at(pos));
        }
        if lower == "window" {
            let text = spark_sql(whole);
            return match &self.window_column {
                Some((t, index)) if *t == text => Ok(Expr::column(*index, DataType::Window)),
                Some((t, _)) => Err(Error::unsupported(format!(
                    "Multiple time/session window expressions would result in a cartesian product of rows, therefore they are currently not supported: `{t}` and `{text}`. Use one window in the query."
                ))
                .at(pos)),
                None => Err(Error::unsupported("window(...) is used to group rows: put it in the GROUP BY of an aggregation").at(pos)),
            };
        }
        if lower == "session_window" {
            let text = spark_sql(whole);
            return match &self.session_window {
                Some((t, _, _)) if *t == text => Ok(Expr::column(SESSION_PLACEHOLDER, DataType::Window)),
                Some((t, _, _)) => Err(Error::unsupported(format!(
                    "Multiple time/session window expressions would result in a cartesian product of rows, therefore they are currently not supported: `{t}` and `{text}`. Use one window in the query."
                ))
                .at(pos)),
                None => Err(Error::unsupported("session_window(...) groups rows into sessions: put it in the GROUP BY of an aggregation").at(pos)),
            };
        }
        if TIME_WINDOWS.contains(&lower.as_str()) {
            return Err(Error::unsupported(format!(
                "`{lower}` is not supported by this version of Unbounded yet; window() and session_window() are"
            ))
            .at(pos));
        }
        if is_spark_aggregate(&lower) {
            if !AggFunc::is_aggregate_name(&lower) {
                return Err(
                    Error::unsupported(format!("the aggregate `{lower}` is not supported by this version of Unbounded yet")).at(pos)
                );
            }
            let Some(_) = &self.collecting else {
                return Err(Error::unsupported(format!(
                    "`{lower}` aggregates rows; it can only be used in a SELECT with GROUP BY (or alone, for a global aggregation), not in WHERE, ON or a WATERMARK clause"
                ))
                .at(pos));
            };
            return self.aggregate_call(f, &lower, scope, whole, pos);
        }
        let args: Vec<&ast::Expr> = match &f.args {
            ast::FunctionArguments::None => vec![],
            ast::FunctionArguments::List(list) => {
                if list.duplicate_treatment.is_some() {
                    return Err(Error::unsupported(format!("DISTINCT inside `{lower}(...)` is only meaningful for aggregates")).at(pos));
                }
                list.args
                    .iter()
                    .map(|a| match a {
                        ast::FunctionArg::Unnamed(ast::FunctionArgExpr::Expr(e)) => Ok(e),
                        _ => Err(Error::unsupported(format!("`{a}` is not a supported argument of {lower}")).at(pos)),
                    })
                    .collect::<Result<_>>()?
            }
            ast::FunctionArguments::Subquery(_) => return Err(Error::unsupported("subqueries are not supported in expressions").at(pos)),
        };
        let mut resolved = args.iter().map(|a| self.expr(a, scope)).collect::<Result<Vec<_>>>()?;
        match lower.as_str() {
            "if" | "iff" => {
                if resolved.len() != 3 {
                    return Err(Error::type_mismatch(format!(
                        "[WRONG_NUM_ARGS.WITHOUT_SUGGESTION] The `if` requires 3 parameters but the actual number is {}. SQLSTATE: 42605",
                        resolved.len()
                    ))
                    .at(pos));
                }
                let otherwise = resolved.pop().unwrap_or(Expr::Literal(Value::Null));
                let then = resolved.pop().unwrap_or(Expr::Literal(Value::Null));
                let cond = boolean_operand(resolved.pop().unwrap_or(Expr::Literal(Value::Null)), whole)?;
                let t = wider_type(&then.data_type(), &otherwise.data_type()).ok_or_else(|| {
                    Error::type_mismatch(format!(
                        "the branches of `{}` have incompatible types {} and {}",
                        spark_sql(whole),
                        then.data_type(),
                        otherwise.data_type()
                    ))
                    .at(pos)
                })?;
                return Ok(Expr::Case {
                    branches: vec![(cond, then.cast_to(&t))],
                    otherwise: Some(Box::new(otherwise.cast_to(&t))),
                    data_type: t,
                });
            }
            "nullif" => {
                if resolved.len() != 2 {
                    return Err(Error::type_mismatch(format!("[WRONG_NUM_ARGS.WITHOUT_SUGGESTION] The `nullif` requires 2 parameters but the actual number is {}. SQLSTATE: 42605", resolved.len())).at(pos));
                }
                let b = resolved.pop().unwrap_or(Expr::Literal(Value::Null));
                let a = resolved.pop().unwrap_or(Expr::Literal(Value::Null));
                let t = a.data_type();
                let eq = compare(BinaryOp::Eq, a.clone(), b, whole)?;
                return Ok(Expr::Case {
                    branches: vec![(eq, Expr::Literal(Value::Null).cast_to(&t))],
                    otherwise: Some(Box::new(a)),
                    data_type: t,
                });
            }
            _ => {}
        }
        let func = Func::by_name(&lower).ok_or_else(|| {
            let hint = suggest::likely(&lower, Func::NAMES.iter().copied()).map(|s| format!(" Did you mean `{s}`?")).unwrap_or_default();
            Error::new(
                ErrorKind::UnknownFunction,
                format!("[UNRESOLVED_ROUTINE] Cannot resolve routine `{name}` on search path [`system`.`builtin`, `system`.`session`, `spark_catalog`.`default`].{hint} SQLSTATE: 42883"),
            )
            .with_condition("UNRESOLVED_ROUTINE")
            .at(pos)
        })?;
        let (args, data_type) = func.check(resolved).map_err(|e| e.at(pos))?;
        Ok(Expr::Call { func, args, data_type })
    }
}

/// Rewrites `e` (over an aggregation's input) onto its output: grouping keys and aggregate
/// placeholders become output columns; the first input column left over is noted in `uncovered`.
fn onto_keys(e: &Expr, keys: &[Expr], nk: usize, uncovered: &std::cell::RefCell<Option<usize>>) -> Expr {
    e.rewrite(&|sub| {
        if let Some(k) = keys.iter().position(|key| key == sub) {
            return Some(Expr::column(k, sub.data_type()));
        }
        // A key may be the leading part of a chain: `a + b` in `a + b + c`.
        for (k, key) in keys.iter().enumerate() {
            if let Some(rest) = sub.chain_after(key) {
                let links = rest
                    .iter()
                    .map(|l| crate::expr::Link {
                        op: l.op,
                        left_cast: l.left_cast.clone(),
                        right: onto_keys(&l.right, keys, nk, uncovered),
                        data_type: l.data_type.clone(),
                    })
                    .collect();
                return Some(Expr::Chain { first: Box::new(Expr::column(k, key.data_type())), links });
            }
        }
        match sub {
            Expr::Column { index, data_type } if *index >= AGG_PLACEHOLDER => {
                Some(Expr::column(nk + index - AGG_PLACEHOLDER, data_type.clone()))
            }
            Expr::Column { index, .. } => {
                uncovered.borrow_mut().get_or_insert(*index);
                None
            }
            _ => None,
        }
    })
}

/// Spark's typed numeric literals `10L` (BIGINT), `10S`/`10Y` (SMALLINT/TINYINT, here INT) and
/// `1.5D` (DOUBLE), which the tokenizer hands over as identifiers.
fn suffixed_number(i: &ast::Ident) -> Option<Value> {
    if i.quote_style.is_some() || i.value.len() < 2 {
        return None;
    }
    let (body, suffix) = i.value.split_at(i.value.len() - 1);
    if !body.starts_with(|c: char| c.is_ascii_digit()) {
        return None;
    }
    match suffix {
        "L" | "l" => body.parse().ok().map(Value::BigInt),
        "S" | "s" | "Y" | "y" => body.parse().ok().map(Value::Int),
        "D" | "d" => body.parse().ok().map(Value::Double),
        _ => None,
    }
}

/// `ts + interval`. A duration added to an addition merges into it (the months of the first
/// are added before either duration, so the result is the same), which keeps a chain of
/// `+ INTERVAL ...` from nesting; additions that cannot merge may nest only so deep.
fn add_interval(ts: Expr, interval: Interval) -> Result<Expr> {
    if interval.months == 0 {
        if let Expr::Call { func: Func::AddInterval, args, .. } = &ts {
            if let [inner, Expr::Literal(Value::Int(months)), Expr::Literal(Value::BigInt(micros))] = args.as_slice() {
                if let Some(sum) = micros.checked_add(interval.micros) {
                    return Ok(Expr::Call {
                        func: Func::AddInterval,
                        args: vec![inner.clone(), Expr::Literal(Value::Int(*months)), Expr::Literal(Value::BigInt(sum))],
                        data_type: DataType::Timestamp,
                    });
                }
            }
        }
    }
    let mut depth = 0;
    let mut inner = &ts;
    while let Expr::Call { func: Func::AddInterval, args, .. } = inner {
        depth += 1;
        if depth >= limits::MAX_NESTING {
            return Err(limits::nested_too_deeply(None));
        }
        match args.first() {
            Some(a) => inner = a,
            None => break,
        }
    }
    Ok(Expr::Call {
        func: Func::AddInterval,
        args: vec![ts, Expr::Literal(Value::Int(interval.months)), Expr::Literal(Value::BigInt(interval.micros))],
        data_type: DataType::Timestamp,
    })
}

fn call(func: Func, args: Vec<Expr>) -> Result<Expr> {
    let (args, data_type) = func.check(args)?;
    Ok(Expr::Call { func, args, data_type })
}

/// If `c` compares the two event times (`r >= l + INTERVAL ..`, mirrored forms too), the
/// comparison as `right - left OP bound`.
fn time_bound(c: &Expr, left_time: usize, right_time: usize) -> Option<(BinaryOp, i64)> {
    let Expr::Binary { op, left, right, .. } = c else { return None };
    if !matches!(op, BinaryOp::GtEq | BinaryOp::Gt | BinaryOp::LtEq | BinaryOp::Lt) {
        return None;
    }
    // Whether `e` is the right side's time, and its offset, for `col` or `col + INTERVAL`.
    let side = |e: &Expr| -> Option<(bool, i64)> {
        let column = |e: &Expr| match e {
            Expr::Column { index, .. } if *index == left_time => Some(false),
            Expr::Column { index, .. } if *index == right_time => Some(true),
            _ => None,
        };
        match e {
            Expr::Call { func: Func::AddInterval, args, .. } => match args.as_slice() {
                [inner, Expr::Literal(Value::Int(0)), Expr::Literal(Value::BigInt(m))] => column(inner).map(|r| (r, *m)),
                _ => None,
            },
            other => column(other).map(|r| (r, 0)),
        }
    };
    let (a_right, a_off) = side(left)?;
    let (b_right, b_off) = side(right)?;
    if a_right == b_right {
        return None;
    }
    if a_right {
        // r + a OP l + b  =>  r - l OP b - a
        Some((*op, b_off.saturating_sub(a_off)))
    } else {
        // l + a OP r + b  =>  r - l (flipped OP) a - b
        let flipped = match op {
            BinaryOp::GtEq => BinaryOp::LtEq,
            BinaryOp::Gt => BinaryOp::Lt,
            BinaryOp::LtEq => BinaryOp::GtEq,
            _ => BinaryOp::Gt,
        };
        Some((flipped, a_off.saturating_sub(b_off)))
    }
}

/// A duration written as a literal (`'10 seconds'` or `INTERVAL 10 SECONDS`), in microseconds;
/// None when `e` is not a literal. Months have no fixed length, so they are refused.
fn duration_literal(e: &ast::Expr) -> Option<Result<i64>> {
    let text = match e {
        ast::Expr::Value(v) => match &v.value {
            ast::Value::SingleQuotedString(t) | ast::Value::DoubleQuotedString(t) => t.clone(),
            _ => return None,
        },
        ast::Expr::Interval(iv) => return Some(interval_literal(iv).map(|i| i.micros)),
        _ => return None,
    };
    Some(
        parse_interval_string(&text)
            .map_err(|m| {
                Error::parse(
                    format!("[INVALID_INTERVAL_FORMAT] Error parsing '{text}' to interval: {m}. SQLSTATE: 22006"),
                    expr_position(e),
                )
            })
            .and_then(|iv| {
                if iv.months != 0 {
                    return Err(
                        Error::type_mismatch(format!("Intervals greater than a month are not supported ({text}).")).at(expr_position(e))
                    );
                }
                Ok(iv.micros)
            }),
    )
}

/// A call's plain (unnamed, non-wildcard) arguments; None when it has another kind.
fn plain_args(f: &ast::Function) -> Option<Vec<&ast::Expr>> {
    match &f.args {
        ast::FunctionArguments::List(l) => l
            .args
            .iter()
            .map(|a| match a {
                ast::FunctionArg::Unnamed(ast::FunctionArgExpr::Expr(e)) => Some(e),
                _ => None,
            })
            .collect(),
        _ => Some(vec![]),
    }
}

/// The delay of the watermark that governs `plan`'s event time, if any.
fn watermark_delay(plan: &LogicalPlan) -> Option<i64> {
    match plan {
        LogicalPlan::Watermark { delay, .. } => Some(delay.total_micros()),
        other => other.children().into_iter().find_map(watermark_delay),
    }
}

/// HAVING must be a boolean; returns the input unchanged when it is.
fn boolean_filter_input(input: LogicalPlan, predicate: &Expr, text: &ast::Expr) -> Result<LogicalPlan> {
    if !matches!(predicate.data_type(), DataType::Boolean | DataType::Null) {
        return Err(Error::type_mismatch(format!("HAVING `{text}` must be a boolean, not {}", predicate.data_type().spark_name()))
            .at(expr_position(text)));
    }
    Ok(input)
}

/// The output columns of an aggregating query that are its grouping keys.
fn update_key_of(plan: &LogicalPlan) -> Option<Vec<String>> {
    let LogicalPlan::Project { input, exprs, schema } = plan else { return None };
    let mut below = input.as_ref();
    while let LogicalPlan::Filter { input, .. } = below {
        below = input;
    }
    let LogicalPlan::Aggregate { keys, .. } = below else { return None };
    Some(
        exprs
            .iter()
            .zip(&schema.columns)
            .filter(|(e, _)| matches!(e, Expr::Column { index, .. } if *index < keys.len()))
            .map(|(_, c)| c.name.clone())
            .collect(),
    )
}

fn non_time_window(name: &str) -> Error {
    Error::unsupported(format!(
        "[NON_TIME_WINDOW_NOT_SUPPORTED_IN_STREAMING] Window function is not supported in {name} on streaming DataFrames/Datasets. Structured Streaming only supports time-window aggregation using the WINDOW function. SQLSTATE: 42KDE"
    ))
    .with_condition("NON_TIME_WINDOW_NOT_SUPPORTED_IN_STREAMING")
}

fn column_list(scope: &Scope) -> String {
    format!("[{}]", scope.columns.iter().map(|c| quote(&c.name)).collect::<Vec<_>>().join(", "))
}

/// Visits every function call in `e`, outermost first, with an explicit stack (operator chains
/// are as deep as they are long).
fn walk_functions<'e>(e: &'e ast::Expr, visit: &mut dyn FnMut(&'e ast::Function)) {
    use ast::Expr as E;
    let mut todo = vec![e];
    while let Some(e) = todo.pop() {
        match e {
            E::Function(f) => {
                visit(f);
                if let ast::FunctionArguments::List(l) = &f.args {
                    for a in l.args.iter().rev() {
                        if let ast::FunctionArg::Unnamed(ast::FunctionArgExpr::Expr(x)) = a {
                            todo.push(x);
                        }
                    }
                }
            }
            E::BinaryOp { left, right, .. } => {
                todo.push(right);
                todo.push(left);
            }
            E::UnaryOp { expr, .. } | E::Nested(expr) | E::Cast { expr, .. } | E::IsNull(expr) | E::IsNotNull(expr) => todo.push(expr),
            E::Case { operand, conditions, else_result, .. } => {
                todo.extend(else_result.as_deref());
                for c in conditions.iter().rev() {
                    todo.push(&c.result);
                    todo.push(&c.condition);
                }
                todo.extend(operand.as_deref());
            }
            E::CompoundFieldAccess { root, .. } => todo.push(root),
            _ => {}
        }
    }
}

fn field_access(v: Expr, field: &str, pos: Option<Position>) -> Result<Expr> {
    if v.data_type() != DataType::Window {
        return Err(Error::new(ErrorKind::UnknownColumn, format!("[INVALID_EXTRACT_BASE_FIELD_TYPE] Can't extract a value from \"{}\": `.{field}` needs a struct such as a window. SQLSTATE: 42000", v.data_type().spark_name())).at(pos));
    }
    let index = match field.to_ascii_lowercase().as_str() {
        "start" => 0,
        "end" => 1,
        _ => {
            return Err(Error::new(
                ErrorKind::UnknownColumn,
                format!("[FIELD_NOT_FOUND] No such struct field `{field}` in `start`, `end`. SQLSTATE: 42704"),
            )
            .at(pos))
        }
    };
    Ok(Expr::Field { expr: Box::new(v), index })
}

fn literal(v: &ast::Value) -> Result<Expr, String> {
    Ok(Expr::Literal(match v {
        ast::Value::Number(n, long) => {
            let lower = n.to_ascii_lowercase();
            if *long || lower.ends_with('l') {
                Value::BigInt(lower.trim_end_matches('l').parse().map_err(|_| format!("'{n}' is not a valid BIGINT"))?)
            } else if lower.ends_with('d') {
                Value::Double(lower.trim_end_matches('d').parse().map_err(|_| format!("'{n}' is not a valid DOUBLE"))?)
            } else if let Ok(i) = n.parse::<i32>() {
                Value::Int(i)
            } else if let Ok(i) = n.parse::<i64>() {
                Value::BigInt(i)
            } else {
                Value::Double(n.parse().map_err(|_| format!("'{n}' is not a number"))?)
            }
        }
        ast::Value::SingleQuotedString(s) | ast::Value::DoubleQuotedString(s) => Value::String(s.clone()),
        ast::Value::Boolean(b) => Value::Boolean(*b),
        ast::Value::Null => Value::Null,
        other => return Err(format!("the literal {other} is not supported")),
    }))
}

fn interval_literal(iv: &ast::Interval) -> Result<Interval> {
    let value = match iv.value.as_ref() {
        ast::Expr::Value(v) => match &v.value {
            ast::Value::Number(n, _) => n.clone(),
            ast::Value::SingleQuotedString(s) => s.clone(),
            other => return Err(Error::parse(format!("invalid interval value {other}"), position_of(v.span))),
        },
        ast::Expr::UnaryOp { op: ast::UnaryOperator::Minus, expr } => format!("-{expr}"),
        other => return Err(Error::unsupported(format!("the interval value must be a literal, not `{other}`"))),
    };
    let unit_of = |f: &ast::DateTimeField| Unit::parse(&f.to_string());
    let result = match &iv.leading_field {
        None => parse_interval_string(&value),
        Some(f) => {
            let from = unit_of(f).ok_or_else(|| Error::unsupported(format!("the interval unit {f} is not supported")))?;
            let to = iv
                .last_field
                .as_ref()
                .map(|l| unit_of(l).ok_or_else(|| Error::unsupported(format!("the interval unit {l} is not supported"))))
                .transpose()?;
            interval_from_parts(&value, from, to)
        }
    };
    result.map_err(|m| Error::parse(format!("[INVALID_INTERVAL_FORMAT] Error parsing interval '{value}': {m}. SQLSTATE: 22006"), None))
}

fn sql_type(t: &ast::DataType) -> Result<DataType> {
    use ast::DataType as D;
    Ok(match t {
        D::Int(_) | D::Integer(_) | D::Int32 => DataType::Int,
        D::BigInt(_) | D::Int64 => DataType::BigInt,
        D::Double(_) | D::DoublePrecision | D::Float(_) | D::Real | D::Float64 | D::Float8 => DataType::Double,
        D::String(_) | D::Varchar(_) | D::Text | D::Char(_) => DataType::String,
        D::Boolean | D::Bool => DataType::Boolean,
        D::Timestamp(_, _) | D::Datetime(_) => DataType::Timestamp,
        D::Custom(name, _) if name.to_string().eq_ignore_ascii_case("long") => DataType::BigInt,
        other => {
            return Err(Error::unsupported(format!(
                "the type {other} is not supported; use STRING, INT, BIGINT, DOUBLE, BOOLEAN or TIMESTAMP"
            )))
        }
    })
}

fn boolean_operand(e: Expr, at: &ast::Expr) -> Result<Expr> {
    match e.data_type() {
        DataType::Boolean => Ok(e),
        DataType::Null => Ok(e.cast_to(&DataType::Boolean)),
        other => Err(Error::type_mismatch(format!(
            "[DATATYPE_MISMATCH.UNEXPECTED_INPUT_TYPE] Cannot resolve \"{}\" due to data type mismatch: a BOOLEAN is required, however \"{}\" has the type \"{}\". SQLSTATE: 42K09",
            spark_sql(at),
            spark_sql(at),
            other.spark_name()
        ))
        .with_condition("DATATYPE_MISMATCH.UNEXPECTED_INPUT_TYPE")
        .at(expr_position(at))),
    }
}

fn unary_mismatch(op: &str, e: &Expr, at: &ast::Expr) -> Error {
    Error::type_mismatch(format!(
        "[DATATYPE_MISMATCH.UNEXPECTED_INPUT_TYPE] `{op}` needs a numeric operand, but \"{}\" has the type \"{}\". SQLSTATE: 42K09",
        spark_sql(at),
        e.data_type().spark_name()
    ))
}

/// The type two sides of a comparison meet at: Spark casts a string to the other side's type.
fn comparison_type(a: &DataType, b: &DataType) -> Option<DataType> {
    match (a, b) {
        (DataType::String, t) | (t, DataType::String)
            if matches!(t, DataType::Int | DataType::BigInt | DataType::Double | DataType::Timestamp | DataType::Boolean) =>
        {
            Some(if t.is_integral() { DataType::BigInt } else { t.clone() })
        }
        _ => wider_type(a, b),
    }
}

fn compare_mismatch(at: &ast::Expr, a: &DataType, b: &DataType) -> Error {
    Error::type_mismatch(format!(
        "[DATATYPE_MISMATCH.BINARY_OP_DIFF_TYPES] Cannot resolve \"{}\" due to data type mismatch: the left and right operands of the binary operator have incompatible types (\"{}\" and \"{}\"). SQLSTATE: 42K09",
        spark_sql(at),
        a.spark_name(),
        b.spark_name()
    ))
    .with_condition("DATATYPE_MISMATCH.BINARY_OP_DIFF_TYPES")
}

fn compare(op: BinaryOp, l: Expr, r: Expr, at: &ast::Expr) -> Result<Expr> {
    let (lt, rt) = (l.data_type(), r.data_type());
    let nested = |t: &DataType| matches!(t, DataType::Array(_) | DataType::Window);
    if (nested(&lt) || nested(&rt)) && lt != rt {
        return Err(compare_mismatch(at, &lt, &rt));
    }
    let t = comparison_type(&lt, &rt).ok_or_else(|| compare_mismatch(at, &lt, &rt))?;
    let t = if t == DataType::Null { DataType::Boolean } else { t };
    Ok(Expr::binary(op, l.cast_to(&t), r.cast_to(&t), DataType::Boolean))
}

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
fn spark_sql_function(f: &ast::Function) -> String {
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::types::Column;
    #[cfg(target_arch = "wasm32")]
    use wasm_bindgen_test::wasm_bindgen_test as test;

    fn catalog() -> Catalog {
        let readings = Schema::new(vec![
            Column { name: "device".into(), data_type: DataType::String },
            Column { name: "temp".into(), data_type: DataType::Double },
            Column { name: "humidity".into(), data_type: DataType::Int },
            Column { name: "ts".into(), data_type: DataType::Timestamp },
        ]);
        let devices = Schema::new(vec![
            Column { name: "device".into(), data_type: DataType::String },
            Column { name: "site".into(), data_type: DataType::String },
        ]);
        let rows = RecordBatch::new_empty(devices.to_arrow());
        Catalog { sources: vec![("readings".into(), readings)], tables: vec![("devices".into(), devices, rows)] }
    }

    fn error(sql: &str) -> Error {
        analyze(sql, &catalog()).err().unwrap_or_else(|| panic!("expected an error for {sql}"))
    }

    fn at(e: &Error) -> (ErrorKind, u64, u64) {
        let p = e.position.unwrap_or_else(|| panic!("no position in {e}"));
        (e.kind, p.line, p.column)
    }

    #[test]
    fn errors_have_a_kind_and_a_place() {
        assert_eq!(at(&error("SELEC device FROM readings")), (ErrorKind::Parse, 1, 1));
        assert_eq!(at(&error("SELECT device,\n  pressure\nFROM readings")), (ErrorKind::UnknownColumn, 2, 3));
        assert_eq!(at(&error("SELECT * FROM STREAM nosuch")), (ErrorKind::UnknownTable, 1, 22));
        assert_eq!(at(&error("SELECT upperr(device) FROM readings")), (ErrorKind::UnknownFunction, 1, 8));
        assert_eq!(at(&error("SELECT device FROM readings r JOIN devices d ON r.device = d.device")), (ErrorKind::AmbiguousColumn, 1, 8));
        assert_eq!(at(&error("SELECT temp + (humidity > 50) FROM readings")).0, ErrorKind::TypeMismatch);
        assert_eq!(at(&error("SELECT * FROM readings WATERMARK device DELAY OF INTERVAL 1 SECOND")), (ErrorKind::TypeMismatch, 1, 34));
        assert_eq!(at(&error("SELECT * FROM readings WHERE humidity")).0, ErrorKind::TypeMismatch);
    }

    #[test]
    fn suggestions_name_the_likely_column_and_function() {
        assert!(error("SELECT tmp FROM readings").message.contains("Did you mean one of the following? [`temp`"));
        assert!(error("SELECT upperr(device) FROM readings").message.contains("Did you mean `upper`?"));
        assert!(error("SELECT * FROM reading").message.contains("Did you mean `readings`?"));
    }

    #[test]
    fn unaliased_columns_are_named_as_spark_names_them() {
        let q = analyze(
            "SELECT r.device, round(temp * 1.8 + 32, 2), upper(device), CAST(humidity AS STRING), temp > 1 FROM readings r",
            &catalog(),
        )
        .unwrap();
        assert_eq!(
            q.plan.schema().names(),
            vec!["device", "round(((temp * 1.8) + 32), 2)", "upper(device)", "CAST(humidity AS STRING)", "(temp > 1)"]
        );
    }

    #[test]
    fn types_follow_sparks_rules() {
        let q = analyze("SELECT humidity + 1 AS a, humidity / 2 AS b, humidity * temp AS c, floor(temp) AS d, '5' > humidity AS e, coalesce(humidity, 0L) AS f FROM readings", &catalog()).unwrap();
        let types: Vec<DataType> = q.plan.schema().columns.iter().map(|c| c.data_type.clone()).collect();
        assert_eq!(types, vec![DataType::Int, DataType::Double, DataType::Double, DataType::BigInt, DataType::Boolean, DataType::BigInt]);
    }

    #[test]
    fn streaming_facts_are_recorded_for_the_start_checks() {
        let q = analyze("SELECT device, count(*) FROM readings GROUP BY device", &catalog()).unwrap();
        assert!(q.aggregation.is_some() && q.distinct_aggregate.is_none());
        let q = analyze("SELECT count(DISTINCT device) FROM readings", &catalog()).unwrap();
        assert!(q.distinct_aggregate.is_some());
        let q = analyze("SELECT DISTINCT device FROM readings", &catalog()).unwrap();
        assert!(q.aggregation.is_some());
        let q = analyze("SELECT device FROM readings ORDER BY device", &catalog()).unwrap();
        assert!(q.order_by.is_some());
        assert_eq!(error("SELECT * FROM devices").kind, ErrorKind::UnsupportedOperation);
        assert_eq!(error("SELECT * FROM STREAM devices").spark_condition, Some("_LEGACY_ERROR_TEMP_1008"));
    }

    #[test]
    fn joins_split_keys_from_the_rest_of_the_condition() {
        let q = analyze("SELECT r.device, d.site FROM readings r LEFT JOIN devices d ON r.device = d.device AND r.temp > 20", &catalog())
            .unwrap();
        fn find(p: &LogicalPlan) -> Option<(usize, bool, JoinKind)> {
            if let LogicalPlan::StaticJoin { stream_keys, residual, kind, .. } = p {
                return Some((stream_keys.len(), residual.is_some(), *kind));
            }
            p.children().into_iter().find_map(find)
        }
        assert_eq!(find(&q.plan), Some((1, true, JoinKind::LeftOuter)));
        assert_eq!(error("SELECT * FROM devices d LEFT JOIN readings r ON r.device = d.device").kind, ErrorKind::UnsupportedOperation);
    }
}
