//! Queries: WITH, set operations (UNION ALL), ORDER BY/LIMIT and the SELECT block.

use super::*;

impl<'a> Analyzer<'a> {
    pub(super) fn query(&mut self, q: &'a ast::Query) -> Result<(LogicalPlan, Scope)> {
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

    pub(super) fn query_body(&mut self, q: &'a ast::Query) -> Result<(LogicalPlan, Scope)> {
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

    pub(super) fn set_expr(&mut self, s: &'a ast::SetExpr) -> Result<(LogicalPlan, Scope)> {
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

    pub(super) fn union(&mut self, inputs: Vec<(LogicalPlan, Scope)>) -> Result<(LogicalPlan, Scope)> {
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

    pub(super) fn select(&mut self, s: &'a ast::Select) -> Result<(LogicalPlan, Scope)> {
        let (plan, scope) = match s.from.as_slice() {
            [] => return Err(Error::unsupported("A streaming query needs a FROM clause that names a source")),
            [one] => self.table_with_joins(one)?,
            [_, second, ..] => {
                return Err(Error::unsupported(
                    "Comma-separated FROM items form a cross join, which is not supported on streams; use JOIN ... ON",
                )
                .at(position_of(second.relation.span())))
            }
        };
        let (mut plan, scope) = self.lateral_views(&s.lateral_views, plan, scope)?;
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
        let generators: Vec<(usize, &ast::Function)> = s
            .projection
            .iter()
            .enumerate()
            .filter_map(|(k, item)| match item {
                ast::SelectItem::UnnamedExpr(e)
                | ast::SelectItem::ExprWithAlias { expr: e, .. }
                | ast::SelectItem::ExprWithAliases { expr: e, .. } => top_generator(e).map(|f| (k, f)),
                _ => None,
            })
            .collect();
        if let Some(pos) = found {
            if let Some((_, f)) = generators.first() {
                return Err(Error::unsupported(format!(
                    "`{}` beside an aggregation in one SELECT is not supported yet: explode in a subquery or a LATERAL VIEW and aggregate its rows",
                    f.name
                ))
                .at(position_of(f.name.span())));
            }
            self.aggregation.get_or_insert(pos);
            return self.aggregate_select(s, plan, scope);
        }
        // Each generator of the SELECT list appends its columns to the input (Spark chains them,
        // the first written innermost); the other items still see the input's columns only.
        let mut generated: Vec<(usize, usize, Vec<Column>)> = Vec::new();
        let mut gen_scope = scope.clone();
        for &(k, f) in &generators {
            let (whole, aliases): (&ast::Expr, Vec<String>) = match &s.projection[k] {
                ast::SelectItem::ExprWithAlias { expr, alias } => (expr, vec![alias.value.clone()]),
                ast::SelectItem::ExprWithAliases { expr, aliases } => (expr, aliases.iter().map(|a| a.value.clone()).collect()),
                ast::SelectItem::UnnamedExpr(e) => (e, vec![]),
                _ => continue,
            };
            let call = self.generator_call(f, whole, &scope, &aliases, false)?;
            let first = gen_scope.columns.len();
            let columns = call.columns.clone();
            (plan, gen_scope) = generate(plan, gen_scope, call, None);
            generated.push((k, first, columns));
        }
        if let Some((name, pos)) = self.over_window.clone() {
            return Err(non_time_window(&name).at(Some(pos)));
        }
        let mut exprs = Vec::new();
        let mut columns = Vec::new();
        // A later item may name an earlier one's alias (Spark's lateral column alias), when no
        // input column has that name.
        let lateral_from = self.alias_fallback.len();
        for (item_index, item) in s.projection.iter().enumerate() {
            if let Some((_, first, cols)) = generated.iter().find(|(k, _, _)| *k == item_index) {
                for (j, c) in cols.iter().enumerate() {
                    exprs.push(Expr::column(first + j, c.data_type.clone()));
                    columns.push(c.clone());
                }
                continue;
            }
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
                        // `data.*` of a struct column (say `from_json(...) AS data`): its fields.
                        let parts: Vec<ast::Ident> = match kind {
                            ast::SelectItemQualifiedWildcardKind::ObjectName(n) => {
                                n.0.iter().filter_map(|p| p.as_ident().cloned()).collect()
                            }
                            ast::SelectItemQualifiedWildcardKind::Expr(_) => vec![],
                        };
                        if let Ok(v) = self.resolve_column(&parts, &scope) {
                            if let Some(fields) = v.data_type().struct_fields() {
                                for (index, (name, data_type)) in fields.into_iter().enumerate() {
                                    exprs.push(Expr::Field { expr: Box::new(v.clone()), index });
                                    columns.push(Column { name, data_type });
                                }
                            }
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
                    nested_generator(e)?;
                    let resolved = self.expr(e, &scope)?;
                    columns.push(Column { name: super::naming::output_name_of(e, &resolved), data_type: resolved.data_type() });
                    exprs.push(resolved);
                }
                ast::SelectItem::ExprWithAlias { expr, alias } => {
                    nested_generator(expr)?;
                    let resolved = self.expr(expr, &scope);
                    let resolved = resolved.inspect_err(|_| self.alias_fallback.truncate(lateral_from))?;
                    self.alias_fallback.push((alias.value.clone(), resolved.clone()));
                    columns.push(Column { name: alias.value.clone(), data_type: resolved.data_type() });
                    exprs.push(resolved);
                }
                ast::SelectItem::ExprWithAliases { expr, .. } => {
                    return Err(Error::unsupported("multiple aliases for one expression are not supported").at(expr_position(expr)))
                }
            }
        }
        self.alias_fallback.truncate(lateral_from);
        let schema = Schema::new(columns);
        let scope = Scope::from_schema(&schema, None);
        Ok((LogicalPlan::Project { input: Box::new(plan), exprs, schema }, scope))
    }
}
