//! Relations: sources, static tables, CTEs and subqueries in FROM, with the streaming clauses
//! (WATERMARK, DEDUPLICATE) that follow them.

use super::*;

impl<'a> Analyzer<'a> {
    pub(super) fn table_with_joins(&mut self, twj: &'a ast::TableWithJoins) -> Result<(LogicalPlan, Scope)> {
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

    pub(super) fn factor(&mut self, f: &'a ast::TableFactor) -> Result<(LogicalPlan, Scope)> {
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
            ast::TableFactor::Table { name, alias, args: Some(args), .. } if is_files_function(name) || is_kafka_function(name) => {
                let pos = position_of(name.span());
                let source = if is_kafka_function(name) { kafka_function_source(name, &args.args)? } else { files_function_source(name, &args.args)? };
                let (clause, alias) = self.split_marker(alias.as_ref())?;
                self.count_relation(pos)?;
                let Some((n, schema)) = self.catalog.source(&source) else {
                    return Err(self.unknown_table(&source).at(pos));
                };
                if is_kafka_function(name) && *schema != crate::kafka::kafka_schema() {
                    return Err(Error::unsupported(format!(
                        "read_kafka reads a Kafka topic, and the source `{n}` is not one (its kind is not kafka): read it as FROM STREAM {n}"
                    ))
                    .at(pos));
                }
                let plan = LogicalPlan::Source { name: n.clone(), schema: schema.clone() };
                let (plan, scope) = self.apply_clauses(plan, Scope::from_schema(schema, Some(&source)), clause.as_ref())?;
                let qualifier = alias.as_ref().map(|a| a.value.clone()).unwrap_or(source);
                Ok((plan, scope.requalify(Some(&qualifier))))
            }
            ast::TableFactor::Function { name, .. } | ast::TableFactor::Table { name, .. } => Err(Error::unsupported(format!(
                "table-valued functions such as `{name}(...)` are not supported; Spark has no window TVFs either: use GROUP BY window(ts, '10 seconds')"
            ))
            .at(position_of(name.span()))),
            other => Err(Error::unsupported(format!("`{other}` is not supported in FROM of a streaming query")).at(position_of(other.span()))),
        }
    }

    pub(super) fn unknown_table(&self, name: &str) -> Error {
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
    pub(super) fn split_marker(&self, alias: Option<&ast::TableAlias>) -> Result<(Option<RelationClauses>, Option<ast::Ident>)> {
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
    pub(super) fn apply_clauses(
        &mut self,
        plan: LogicalPlan,
        scope: Scope,
        clauses: Option<&RelationClauses>,
    ) -> Result<(LogicalPlan, Scope)> {
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

    pub(super) fn apply_dedup(&mut self, plan: LogicalPlan, scope: Scope, d: &DedupClause) -> Result<(LogicalPlan, Scope)> {
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

    pub(super) fn apply_watermark(&mut self, plan: LogicalPlan, scope: Scope, clause: &WatermarkClause) -> Result<(LogicalPlan, Scope)> {
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
}

/// Databricks' `read_kafka(...)` table function: a Kafka source read as a stream
/// (`FROM STREAM read_kafka(bootstrapServers => 'host:9092', subscribe => 'sensor_data')`).
fn is_kafka_function(name: &ast::ObjectName) -> bool {
    name.to_string().eq_ignore_ascii_case("read_kafka")
}

/// The topic a `read_kafka` call subscribes to. `bootstrapServers` names a broker, which here
/// is the session; the source's reading options belong in its `options` and are refused here,
/// naming them, as `read_files` does.
fn kafka_function_source(name: &ast::ObjectName, args: &[ast::FunctionArg]) -> Result<String> {
    let pos = position_of(name.span());
    let usage = format!("{name}(bootstrapServers => 'host:9092', subscribe => '<topic>')");
    let mut topic = None;
    for a in args {
        let ast::FunctionArg::Named { name: key, arg, .. } = a else {
            return Err(Error::parse(format!("{name} takes named arguments: {usage}"), pos));
        };
        let value = match arg {
            ast::FunctionArgExpr::Expr(ast::Expr::Value(v)) => match &v.value {
                ast::Value::SingleQuotedString(s) | ast::Value::DoubleQuotedString(s) => s.clone(),
                _ => return Err(Error::parse(format!("{name}: `{key}` is a string: {usage}"), pos)),
            },
            _ => return Err(Error::parse(format!("{name}: `{key}` is a string: {usage}"), pos)),
        };
        match key.value.to_ascii_lowercase().as_str() {
            "subscribe" if value.contains(',') => {
                return Err(Error::unsupported(format!("{name}: one topic per source here, not `{value}`: join or union the sources instead")).at(pos))
            }
            "subscribe" => topic = Some(value),
            "bootstrapservers" => {}
            _ => {
                return Err(Error::unsupported(format!(
                    "{name}: the option `{key}` is not read here: give the Kafka source's options (startingOffsets, maxOffsetsPerTrigger, ...) in its `options` (the scenario's sources)"
                ))
                .at(pos))
            }
        }
    }
    topic.filter(|t| !t.is_empty()).ok_or_else(|| Error::parse(format!("{name} needs the topic to read: {usage}"), pos))
}

/// Databricks' `read_files(...)` and `cloud_files(...)` table functions: an Auto Loader folder
/// read as a stream (`FROM STREAM read_files('landing', format => 'json')`).
fn is_files_function(name: &ast::ObjectName) -> bool {
    let n = name.to_string().to_ascii_lowercase();
    n == "read_files" || n == "cloud_files"
}

/// The folder a `read_files` / `cloud_files` call reads: the first argument, a string naming a
/// source; the format (`format => 'json'`, or `cloud_files`' second argument) is json or csv.
/// Other options belong in the source's `options` and are refused here, naming them.
fn files_function_source(name: &ast::ObjectName, args: &[ast::FunctionArg]) -> Result<String> {
    let pos = position_of(name.span());
    let text = |e: &ast::FunctionArgExpr| match e {
        ast::FunctionArgExpr::Expr(ast::Expr::Value(v)) => match &v.value {
            ast::Value::SingleQuotedString(s) | ast::Value::DoubleQuotedString(s) => Some(s.clone()),
            _ => None,
        },
        _ => None,
    };
    let usage = format!("{name}('<source>', format => 'json')");
    let mut positional = Vec::new();
    for a in args {
        match a {
            ast::FunctionArg::Unnamed(e) => positional.push(text(e).ok_or_else(|| Error::parse(format!("{name}: arguments are strings: {usage}"), pos))?),
            ast::FunctionArg::Named { name: key, arg, .. } if key.value.eq_ignore_ascii_case("format") => {
                positional.resize(positional.len().max(1), String::new());
                positional.insert(1, text(arg).ok_or_else(|| Error::parse(format!("{name}: `format` is a string: {usage}"), pos))?)
            }
            ast::FunctionArg::Named { name: key, .. } => {
                return Err(Error::unsupported(format!(
                    "{name}: the option `{key}` is not read here: give Auto Loader's options in the source's `options` (the scenario's sources)"
                ))
                .at(pos))
            }
            other => return Err(Error::parse(format!("{name}: unexpected argument `{other}`: {usage}"), pos)),
        }
    }
    let Some(source) = positional.first().filter(|s| !s.is_empty()).cloned() else {
        return Err(Error::parse(format!("{name} needs the folder to read: {usage}"), pos));
    };
    match positional.get(1).map(|f| f.to_ascii_lowercase()) {
        Some(f) if f == "json" || f == "csv" => {}
        Some(f) => return Err(Error::unsupported(format!("{name}: the format `{f}` is not read here; json and csv are")).at(pos)),
        None => return Err(Error::parse(format!("{name} needs the format of the files: {usage}"), pos)),
    }
    if positional.len() > 2 {
        return Err(Error::parse(format!("{name} takes the folder and the format: {usage}"), pos));
    }
    Ok(source)
}
