//! Aggregation: GROUP BY with time and session windows, aggregate calls, HAVING, and the
//! rewrite of the SELECT list onto the aggregate's output.

use super::*;

impl<'a> Analyzer<'a> {
    /// Notes aggregate calls, time windows, DISTINCT aggregates and OVER windows.
    pub(super) fn scan_for_aggregates(&mut self, e: &ast::Expr, alias: Option<&str>, found: &mut Option<Position>) {
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
    pub(super) fn aggregate_call(
        &mut self,
        f: &ast::Function,
        name: &str,
        scope: &Scope,
        whole: &ast::Expr,
        pos: Option<Position>,
    ) -> Result<Expr> {
        if name == "listagg" || name == "string_agg" {
            return self.listagg_call(f, name, scope, whole, pos);
        }
        // `mode() WITHIN GROUP (ORDER BY x [DESC])` is mode(x), the largest on a tie when
        // descending; `percentile_cont(p) WITHIN GROUP (ORDER BY x [DESC])` is percentile(x, p)
        // (or of 1 - p descending). Other WITHIN GROUP forms are refused.
        let mut ordered_by: Option<(&ast::Expr, bool)> = None;
        match (name, f.within_group.as_slice()) {
            (_, []) => {}
            ("mode" | "percentile_cont" | "percentile_disc", [o]) => {
                ordered_by = Some((&o.expr, matches!(o.options.sort, Some(ast::OrderBySort::Desc))))
            }
            _ => return Err(Error::unsupported(format!("`{name}(...) WITHIN GROUP (ORDER BY ...)` is not supported yet")).at(pos)),
        }
        if ordered_by.is_none() && matches!(name, "percentile_cont" | "percentile_disc") {
            return Err(Error::type_mismatch(format!(
                "[INVALID_WITHIN_GROUP_EXPRESSION.WITHIN_GROUP_MISSING] Invalid function `{name}` with WITHIN GROUP. The function requires WITHIN GROUP (ORDER BY ...). SQLSTATE: 42K0K"
            ))
            .at(pos));
        }
        let (args, star) = match &f.args {
            ast::FunctionArguments::List(list) => match list.args.as_slice() {
                [ast::FunctionArg::Unnamed(ast::FunctionArgExpr::Wildcard)] => (vec![], true),
                args => {
                    let mut exprs = args
                        .iter()
                        .map(|a| match a {
                            ast::FunctionArg::Unnamed(ast::FunctionArgExpr::Expr(e)) => Ok(e),
                            other => Err(Error::unsupported(format!("`{other}` is not a supported argument of {name}")).at(pos)),
                        })
                        .collect::<Result<Vec<_>>>()?;
                    if let Some((x, _)) = ordered_by {
                        let wanted = usize::from(name != "mode");
                        if exprs.len() != wanted {
                            return Err(Error::type_mismatch(format!(
                                "[WRONG_NUM_ARGS.WITHOUT_SUGGESTION] The `{name}` requires {} parameters with WITHIN GROUP but the actual number is {}. SQLSTATE: 42605",
                                wanted,
                                exprs.len()
                            ))
                            .at(pos));
                        }
                        exprs.insert(0, x);
                    }
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
            ast::FunctionArguments::None if ordered_by.is_some() && name == "mode" => {
                let saved = self.collecting.take();
                let resolved = ordered_by.map(|(x, _)| self.expr(x, scope)).transpose();
                self.collecting = saved;
                (resolved?.into_iter().collect(), false)
            }
            _ => (vec![], false),
        };
        let (name, args) = match (name, ordered_by) {
            ("percentile_cont", Some((_, desc))) => {
                let mut args = args;
                if desc {
                    if let Some(p) = args.pop() {
                        args.push(Expr::Binary {
                            op: BinaryOp::Subtract,
                            left: Box::new(Expr::Literal(Value::Double(1.0))),
                            right: Box::new(p.cast_to(&DataType::Double)),
                            data_type: DataType::Double,
                        });
                    }
                }
                ("percentile", args)
            }
            _ => (name, args),
        };
        let written = crate::expr::aggregate::CallText {
            call: spark_sql(whole),
            args: match &f.args {
                ast::FunctionArguments::List(list) => list
                    .args
                    .iter()
                    .map(|a| match a {
                        ast::FunctionArg::Unnamed(ast::FunctionArgExpr::Expr(e)) => spark_sql(e),
                        other => other.to_string(),
                    })
                    .collect(),
                _ => vec![],
            },
        };
        let mut call = AggFunc::resolve_written(name, args, star, &written).map_err(|e| e.at(pos))?;
        if ordered_by.is_some_and(|(_, desc)| desc) {
            match call.func {
                AggFunc::Mode => call.func = AggFunc::ModeDesc,
                AggFunc::PercentileDisc => call.func = AggFunc::PercentileDiscDesc,
                _ => {}
            }
        }
        self.register_aggregate(spark_sql(whole).to_ascii_lowercase(), call)
    }

    /// `listagg(expr[, delimiter]) [WITHIN GROUP (ORDER BY expr [ASC|DESC])]` (and its alias
    /// `string_agg`): the non-null strings in arrival order, or sorted by themselves, joined;
    /// NULL when there are none. It is `collect_list` with a join over its result, so its state
    /// and checkpoints are collect_list's. Ordering by another expression is refused.
    fn listagg_call(&mut self, f: &ast::Function, name: &str, scope: &Scope, whole: &ast::Expr, pos: Option<Position>) -> Result<Expr> {
        // `listagg(DISTINCT x)` is an aggregate's DISTINCT: not supported yet, unlike a plain call's.
        if matches!(&f.args, ast::FunctionArguments::List(l) if l.duplicate_treatment.is_some()) {
            return Err(Error::unsupported(format!("`{}` is not supported yet", spark_sql(whole))).at(pos));
        }
        let args = plain_args(f, name, pos, None)?;
        if args.is_empty() || args.len() > 2 {
            return Err(Error::type_mismatch(format!(
                "[WRONG_NUM_ARGS.WITHOUT_SUGGESTION] The `{name}` requires [1, 2] parameters but the actual number is {}. SQLSTATE: 42605",
                args.len()
            ))
            .at(pos));
        }
        let ascending = match f.within_group.as_slice() {
            [] => None,
            [o] if spark_sql(&o.expr) == spark_sql(args[0]) => Some(!matches!(o.options.sort, Some(ast::OrderBySort::Desc))),
            _ => {
                return Err(Error::unsupported(format!(
                    "`{name}` WITHIN GROUP is supported here only ordered by its own argument (ORDER BY {})",
                    spark_sql(args[0])
                ))
                .at(pos))
            }
        };
        let saved = self.collecting.take();
        let value = self.expr(args[0], scope);
        let delimiter = args.get(1).map(|d| self.expr(d, scope)).transpose();
        self.collecting = saved;
        let value = value?;
        // Spark casts an atomic value to STRING for listagg; bytes, arrays, maps and structs are refused.
        if matches!(value.data_type(), DataType::Binary | DataType::Array(_) | DataType::Map(..) | DataType::Struct(_) | DataType::Window) {
            return Err(Error::type_mismatch(format!(
                "[DATATYPE_MISMATCH.UNEXPECTED_INPUT_TYPE] Cannot resolve \"{}\" due to data type mismatch: the parameter requires the \"STRING\" type, however \"{}\" has the type \"{}\". SQLSTATE: 42K09",
                spark_sql(whole),
                spark_sql(args[0]),
                value.data_type().spark_name()
            ))
            .at(pos));
        }
        // A NULL delimiter joins with nothing between, as no delimiter does.
        let delimiter = match delimiter? {
            None | Some(Expr::Literal(Value::Null)) => Expr::Literal(Value::String(String::new())),
            Some(d @ Expr::Literal(Value::String(_))) => d,
            Some(_) => return Err(Error::type_mismatch(format!("the delimiter of `{name}` must be a string literal")).at(pos)),
        };
        let list = AggFunc::resolve("collect_list", vec![value.cast_to(&DataType::String)], false).map_err(|e| e.at(pos))?;
        let mut list = self.register_aggregate(format!("collect_list({})", spark_sql(args[0]).to_ascii_lowercase()), list)?;
        if let Some(asc) = ascending {
            list = call(Func::SortArray, vec![list, Expr::Literal(Value::Boolean(asc))])?;
        }
        let joined = call(Func::ArrayJoin, vec![list.clone(), delimiter])?;
        let empty = compare(BinaryOp::Eq, call(Func::Size, vec![list])?, Expr::Literal(Value::Int(0)), whole)?;
        Ok(Expr::Case {
            branches: vec![(empty, Expr::Literal(Value::Null).cast_to(&DataType::String))],
            otherwise: Some(Box::new(joined)),
            data_type: DataType::String,
        })
    }

    /// Adds an aggregate call to the ones being collected (once per distinct SQL text) and gives
    /// the placeholder column of its result.
    fn register_aggregate(&mut self, text: String, call: AggregateCall) -> Result<Expr> {
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

    /// `grouping(col)` (1 when the row's grouping set leaves col out, else 0; Spark's TINYINT as
    /// an INT, which holds the same values) and `grouping_id([cols])` (the set's grouping id,
    /// a BIGINT), over the grouping id the expansion gives each row.
    #[inline(never)]
    pub(super) fn grouping_call(&mut self, name: &str, args: &[&ast::Expr], scope: &Scope, pos: Option<Position>) -> Result<Expr> {
        let Some(AggCollector { grouping: Some(grouping), .. }) = &self.collecting else {
            return Err(Error::type_mismatch(
                "[UNSUPPORTED_GROUPING_EXPRESSION] grouping()/grouping_id() can only be used with GroupingSets/Cube/Rollup. SQLSTATE: 42K0E",
            )
            .with_condition("UNSUPPORTED_GROUPING_EXPRESSION")
            .at(pos));
        };
        let grouping = grouping.clone();
        let resolved = args.iter().map(|a| self.expr(a, scope)).collect::<Result<Vec<_>>>()?;
        let gid = Expr::column(GROUPING_ID_PLACEHOLDER, DataType::BigInt);
        let written = || args.iter().map(|a| spark_sql(a)).collect::<Vec<_>>().join(", ");
        if name == "grouping_id" {
            if resolved.is_empty() || resolved == grouping {
                return Ok(gid);
            }
            return Err(Error::type_mismatch(format!(
                "[GROUPING_ID_COLUMN_MISMATCH] Columns of grouping_id ({}) does not match grouping columns. SQLSTATE: 42803",
                written()
            ))
            .with_condition("GROUPING_ID_COLUMN_MISMATCH")
            .at(pos));
        }
        if resolved.len() != 1 {
            return Err(Error::type_mismatch(format!(
                "[WRONG_NUM_ARGS.WITHOUT_SUGGESTION] The `grouping` requires 1 parameters but the actual number is {}. SQLSTATE: 42605",
                resolved.len()
            ))
            .at(pos));
        }
        let Some(j) = grouping.iter().position(|g| *g == resolved[0]) else {
            return Err(Error::type_mismatch(format!(
                "[GROUPING_COLUMN_MISMATCH] Column of grouping ({}) can't be found in grouping columns. SQLSTATE: 42803",
                written()
            ))
            .with_condition("GROUPING_COLUMN_MISMATCH")
            .at(pos));
        };
        let shift = Expr::Literal(Value::Int((grouping.len() - 1 - j) as i32));
        let bit = call(Func::BitAnd, vec![call(Func::ShiftRight, vec![gid, shift])?, Expr::Literal(Value::BigInt(1))])?;
        Ok(bit.cast_to(&DataType::Int))
    }

    /// Plans `SELECT ... GROUP BY ... HAVING ...` (and `SELECT DISTINCT`): window assignment,
    /// the stateful aggregate, HAVING as a filter over it, then the SELECT list over its output.
    pub(super) fn aggregate_select(&mut self, s: &ast::Select, plan: LogicalPlan, scope: Scope) -> Result<(LogicalPlan, Scope)> {
        let (group_exprs, sets) = match &s.group_by {
            ast::GroupByExpr::Expressions(exprs, modifiers) if modifiers.is_empty() => grouping_sets(exprs)?,
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
        let result = self.aggregate_body(s, (&group_exprs, sets.as_deref()), &items, plan, &scope);
        self.window_column = saved_window;
        self.session_window = saved_session;
        result
    }

    pub(super) fn session_spec(&mut self, f: &ast::Function, scope: &Scope) -> Result<(Expr, SessionGap)> {
        let pos = position_of(f.name.span());
        let args = plain_args(f, "session_window", pos, None)
            .map_err(|_| Error::type_mismatch("session_window() takes a timestamp and a gap").at(pos))?;
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
    pub(super) fn time_arg(&mut self, function: &str, e: &ast::Expr, scope: &Scope) -> Result<Expr> {
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

    pub(super) fn window_spec(&mut self, w: &ast::Function, scope: &Scope) -> Result<(Expr, WindowSpec)> {
        let pos = position_of(w.name.span());
        let args = plain_args(w, "window", pos, None)
            .map_err(|_| Error::type_mismatch("window() takes a timestamp and interval strings").at(pos))?;
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

    pub(super) fn aggregate_body(
        &mut self,
        s: &ast::Select,
        (group_exprs, sets): (&[&ast::Expr], Option<&[Vec<usize>]>),
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
        // Grouping sets: the rows expanded once per set, the keys read from the expansion.
        let (plan, keys, grouping) = match sets {
            None => (plan, keys, None),
            Some(sets) => {
                if keys.len() != group_exprs.len() {
                    return Err(Error::unsupported(
                        "a grouping column written twice in different ways within grouping sets is not supported yet",
                    ));
                }
                let (plan, physical) = expand_grouping_sets(plan, &keys, sets)?;
                key_names.push("spark_grouping_id".into());
                (plan, physical, Some(keys))
            }
        };
        // The SELECT list and HAVING, with aggregate calls collected.
        self.collecting = Some(AggCollector { calls: Vec::new(), grouping: grouping.clone() });
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
        // Over grouping sets, a written grouping column is the expansion's (NULL where its set
        // leaves it out) and the grouping id its placeholder.
        let match_keys: Vec<Expr> = match grouping {
            None => keys.clone(),
            Some(mut g) => {
                g.push(Expr::column(GROUPING_ID_PLACEHOLDER, DataType::BigInt));
                g
            }
        };
        let onto_output = |e: &Expr, what: &ast::Expr| -> Result<Expr> {
            let uncovered = std::cell::RefCell::new(None);
            let rewritten = onto_keys(e, &match_keys, nk, &uncovered);
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
}

/// Grouping sets, each the indices of the grouping columns it keeps.
type GroupingSets = Vec<Vec<usize>>;

/// The most grouping sets one GROUP BY may expand each row into (CUBE of 6 columns).
const MAX_GROUPING_SETS: usize = 64;

/// The grouping columns of a GROUP BY, in order of appearance, and, when it has CUBE, ROLLUP
/// or GROUPING SETS, its sets as indices into them (Spark's cross product of the items: `a,
/// CUBE(b, c)` is the four sets of b and c, each with a).
fn grouping_sets(exprs: &[ast::Expr]) -> Result<(Vec<&ast::Expr>, Option<GroupingSets>)> {
    let mut columns: Vec<&ast::Expr> = Vec::new();
    let mut sets: Vec<Vec<usize>> = vec![vec![]];
    let mut grouped = false;
    fn position<'e>(columns: &mut Vec<&'e ast::Expr>, e: &'e ast::Expr) -> usize {
        match columns.iter().position(|c| spark_sql(c) == spark_sql(e)) {
            Some(k) => k,
            None => {
                columns.push(e);
                columns.len() - 1
            }
        }
    }
    for item in exprs {
        // Each item's alternatives: lists of the columns a set takes from it.
        let alternatives: Vec<Vec<usize>> = match item {
            ast::Expr::Cube(units) | ast::Expr::Rollup(units) => {
                grouped = true;
                let units: Vec<Vec<usize>> = units.iter().map(|u| u.iter().map(|e| position(&mut columns, e)).collect()).collect();
                if matches!(item, ast::Expr::Rollup(_)) {
                    (0..=units.len()).rev().map(|k| units[..k].concat()).collect()
                } else {
                    if units.len() > 6 {
                        return Err(Error::unsupported(format!(
                            "CUBE of {} columns expands each row into {} grouping sets; at most {MAX_GROUPING_SETS} are supported",
                            units.len(),
                            1u64 << units.len().min(63)
                        )));
                    }
                    (0..1usize << units.len())
                        .map(|mask| units.iter().enumerate().filter(|(k, _)| mask >> k & 1 == 1).flat_map(|(_, u)| u.clone()).collect())
                        .collect()
                }
            }
            ast::Expr::GroupingSets(list) => {
                grouped = true;
                list.iter().map(|set| set.iter().map(|e| position(&mut columns, e)).collect()).collect()
            }
            plain => vec![vec![position(&mut columns, plain)]],
        };
        let mut crossed = Vec::with_capacity(sets.len() * alternatives.len());
        for set in &sets {
            for alt in &alternatives {
                let mut s = set.clone();
                s.extend(alt.iter().filter(|k| !set.contains(k)));
                crossed.push(s);
            }
        }
        if crossed.len() > MAX_GROUPING_SETS {
            return Err(Error::unsupported(format!(
                "this GROUP BY expands each row into more than {MAX_GROUPING_SETS} grouping sets, which is not supported"
            )));
        }
        sets = crossed;
    }
    if !grouped {
        return Ok((columns, None));
    }
    if columns.len() > 63 {
        return Err(Error::unsupported("grouping sets over more than 63 columns are not supported"));
    }
    // Spark keeps a set written twice apart (its rows come out twice): not done here.
    let masks: Vec<u64> = sets.iter().map(|s| s.iter().map(|k| 1u64 << k).sum()).collect();
    if masks.iter().enumerate().any(|(k, m)| masks[..k].contains(m)) {
        return Err(Error::unsupported("a grouping set listed twice is not supported yet"));
    }
    Ok((columns, Some(sets)))
}

/// The rows of `plan` once per grouping set (Spark's Expand): the grouping columns, NULL where
/// the set leaves them out, then the set's grouping id (bit n-1-j set when column j is left out).
/// Gives the expanded plan and the aggregate's keys over it.
fn expand_grouping_sets(plan: LogicalPlan, keys: &[Expr], sets: &[Vec<usize>]) -> Result<(LogicalPlan, Vec<Expr>)> {
    let n = keys.len();
    let mut rows = Vec::with_capacity(sets.len());
    for set in sets {
        let mut fields = Vec::with_capacity(2 * n + 2);
        let mut gid = 0i64;
        for (j, k) in keys.iter().enumerate() {
            fields.push(Expr::Literal(Value::String(format!("k{j}"))));
            if set.contains(&j) {
                fields.push(k.clone());
            } else {
                gid |= 1 << (n - 1 - j);
                fields.push(Expr::Literal(Value::Null).cast_to(&k.data_type()));
            }
        }
        fields.extend([Expr::Literal(Value::String("gid".into())), Expr::Literal(Value::BigInt(gid))]);
        rows.push(call(Func::NamedStruct, fields)?);
    }
    let arg = call(Func::MakeArray, rows)?;
    let mut columns = plan.schema().columns.clone();
    let base = columns.len();
    columns.extend(keys.iter().enumerate().map(|(j, k)| Column { name: format!("k{j}"), data_type: k.data_type() }));
    columns.push(Column { name: "spark_grouping_id".into(), data_type: DataType::BigInt });
    let generator =
        crate::plan::logical::Generator { kind: crate::plan::logical::GeneratorKind::Inline { columns: n + 1 }, arg, outer: false };
    let mut physical: Vec<Expr> = keys.iter().enumerate().map(|(j, k)| Expr::column(base + j, k.data_type())).collect();
    physical.push(Expr::column(base + n, DataType::BigInt));
    Ok((LogicalPlan::Generate { input: Box::new(plan), generator, schema: Schema::new(columns) }, physical))
}

/// Rewrites `e` (over an aggregation's input) onto its output: grouping keys and aggregate
/// placeholders become output columns; the first input column left over is noted in `uncovered`.
pub(super) fn onto_keys(e: &Expr, keys: &[Expr], nk: usize, uncovered: &std::cell::RefCell<Option<usize>>) -> Expr {
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
