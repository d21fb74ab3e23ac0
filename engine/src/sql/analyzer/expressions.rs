//! Expressions: every SQL expression form, typed as Spark types it, and function calls.

use super::*;

impl<'a> Analyzer<'a> {
    pub(super) fn expr(&mut self, e: &ast::Expr, scope: &Scope) -> Result<Expr> {
        self.expr_inner(e, scope).map_err(|err| if err.position.is_some() { err } else { err.at(expr_position(e)) })
    }

    /// Dispatches on the form of `e`. Each larger form is resolved in its own function: this one
    /// is on the path of every nesting level, and an unoptimised build gives a function one
    /// stack slot per temporary of all its arms.
    pub(super) fn expr_inner(&mut self, e: &ast::Expr, scope: &Scope) -> Result<Expr> {
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
            E::Value(v) => match position_of(v.span).and_then(|p| self.prepared.raw_strings.iter().find(|(at, _)| *at == p)) {
                Some((_, raw)) => Expr::Literal(Value::String(raw.clone())),
                None => literal(&v.value).map_err(|m| Error::parse(m, position_of(v.span)))?,
            },
            E::TypedString(_) => return self.expr_typed_string(e, scope),
            E::UnaryOp { .. } => return self.expr_unary(e, scope),
            E::BinaryOp { .. } => self.binary_chain(e, scope)?,
            E::IsNull(x) => Expr::IsNull(Box::new(self.expr(x, scope)?)),
            E::IsDistinctFrom(a, b) | E::IsNotDistinctFrom(a, b) => {
                let same = compare(BinaryOp::NullSafeEq, self.expr(a, scope)?, self.expr(b, scope)?, e)?;
                if matches!(e, E::IsDistinctFrom(..)) {
                    Expr::Not(Box::new(same))
                } else {
                    same
                }
            }
            E::IsNotNull(x) => Expr::IsNotNull(Box::new(self.expr(x, scope)?)),
            E::IsTrue(_) | E::IsFalse(_) | E::IsNotTrue(_) | E::IsNotFalse(_) => return self.expr_is_truth(e, scope),
            E::InList { .. } => return self.expr_in_list(e, scope),
            E::Between { .. } => return self.expr_between(e, scope),
            E::Like { any: false, .. } | E::ILike { any: false, .. } => return self.expr_like(e, scope),
            E::RLike { negated, expr, pattern, .. } => {
                let v = self.expr(expr, scope)?;
                let p = self.expr(pattern, scope)?;
                let m = call(Func::RegexpLike, vec![v, p])?;
                if *negated {
                    Expr::Not(Box::new(m))
                } else {
                    m
                }
            }
            E::Position { expr, r#in } => {
                let sub = self.expr(expr, scope)?;
                let s = self.expr(r#in, scope)?;
                call(Func::Locate, vec![sub, s])?
            }
            E::Case { .. } => return self.expr_case(e, scope),
            E::Cast { .. } => return self.expr_cast(e, scope),
            E::Function(f) => self.function(f, scope, e)?,
            // sqlparser gives these SQL-standard forms their own nodes; they are plain functions.
            E::Floor { .. } | E::Ceil { .. } => return self.expr_floor_ceil(e, scope),
            E::Substring { .. } => return self.expr_substring(e, scope),
            E::Trim { .. } => return self.expr_trim(e, scope),
            E::Extract { .. } => return self.expr_extract(e, scope),
            E::Overlay { expr, overlay_what, overlay_from, overlay_for } => {
                let mut args = vec![self.expr(expr, scope)?, self.expr(overlay_what, scope)?, self.expr(overlay_from, scope)?];
                if let Some(n) = overlay_for {
                    args.push(self.expr(n, scope)?);
                }
                call(Func::Overlay, args)?
            }
            E::CompoundFieldAccess { .. } => return self.expr_field_access(e, scope),
            E::Struct { values, fields } if fields.is_empty() => {
                let args: Vec<&ast::Expr> = values.iter().collect();
                return self.struct_of(&args, scope, expr_position(e));
            }
            // `(a, b)` is `struct(a, b)` in Spark's expressions (zip_with's `(y, x)`).
            E::Tuple(values) => {
                let args: Vec<&ast::Expr> = values.iter().collect();
                return self.struct_of(&args, scope, expr_position(e));
            }
            E::Lambda(_) => {
                return Err(Error::parse(
                    "a lambda (`x -> ...`) can only be an argument of a higher-order function such as transform or filter",
                    None,
                ))
            }
            E::Interval(_) => {
                return Err(Error::type_mismatch(
                    "An INTERVAL can only be added to or subtracted from a timestamp here: ts + INTERVAL 10 SECONDS",
                ))
            }
            other => return Err(Error::unsupported(format!("the expression `{other}` is not supported yet"))),
        })
    }

    pub(super) fn expr_typed_string(&mut self, e: &ast::Expr, _scope: &Scope) -> Result<Expr> {
        use ast::Expr as E;
        Ok(match e {
            E::TypedString(ts) => {
                let text = match &ts.value.value {
                    ast::Value::SingleQuotedString(s) | ast::Value::DoubleQuotedString(s) => s.clone(),
                    other => other.to_string(),
                };
                match ts.data_type {
                    ast::DataType::Date => {
                        let d = crate::value::parse_date(&text).ok_or_else(|| {
                            Error::parse(
                                format!(
                                    "[INVALID_TYPED_LITERAL] The value of the typed literal \"DATE\" is invalid: '{text}'. SQLSTATE: 42604"
                                ),
                                position_of(ts.value.span),
                            )
                        })?;
                        Expr::Literal(Value::Date(d))
                    }
                    ast::DataType::Timestamp(_, _) | ast::DataType::Datetime(_) => {
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

    pub(super) fn expr_unary(&mut self, e: &ast::Expr, scope: &Scope) -> Result<Expr> {
        use ast::Expr as E;
        Ok(match e {
            E::UnaryOp { op, expr } => {
                let inner = self.expr(expr, scope)?;
                match op {
                    ast::UnaryOperator::Not | ast::UnaryOperator::BangNot => Expr::Not(Box::new(boolean_operand(inner, expr)?)),
                    ast::UnaryOperator::BitwiseNot => call(Func::BitNot, vec![inner])?,
                    ast::UnaryOperator::Minus => match inner {
                        // Spark reads `-2147483648` as one INT literal (and `-9223372036854775808` as a BIGINT).
                        _ if unsuffixed_number(expr) == Some("2147483648") => Expr::Literal(Value::Int(i32::MIN)),
                        _ if unsuffixed_number(expr) == Some("9223372036854775808") => Expr::Literal(Value::BigInt(i64::MIN)),
                        Expr::Literal(Value::Int(v)) => Expr::Literal(Value::Int(-v)),
                        Expr::Literal(Value::BigInt(v)) => Expr::Literal(Value::BigInt(-v)),
                        Expr::Literal(Value::Double(v)) => Expr::Literal(Value::Double(-v)),
                        other if other.data_type().is_numeric() || other.data_type().decimal().is_some() => Expr::Negate(Box::new(other)),
                        other => return Err(unary_mismatch("-", &other, expr)),
                    },
                    ast::UnaryOperator::Plus => inner,
                    other => return Err(Error::unsupported(format!("the operator {other} is not supported"))),
                }
            }
            _ => return Err(Error::internal("an expression form reached the wrong resolver")),
        })
    }

    pub(super) fn expr_is_truth(&mut self, e: &ast::Expr, scope: &Scope) -> Result<Expr> {
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

    pub(super) fn expr_in_list(&mut self, e: &ast::Expr, scope: &Scope) -> Result<Expr> {
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

    pub(super) fn expr_between(&mut self, e: &ast::Expr, scope: &Scope) -> Result<Expr> {
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

    pub(super) fn expr_like(&mut self, e: &ast::Expr, scope: &Scope) -> Result<Expr> {
        use ast::Expr as E;
        Ok(match e {
            E::Like { negated, expr, pattern, escape_char, any: false } | E::ILike { negated, expr, pattern, escape_char, any: false } => {
                let escape = match escape_char {
                    None => '\\',
                    Some(ec) => {
                        let text = match self.expr(ec, scope)? {
                            Expr::Literal(Value::String(s)) => s,
                            _ => String::new(),
                        };
                        let mut chars = text.chars();
                        match (chars.next(), chars.next()) {
                            (Some(c), None) => c,
                            _ => {
                                return Err(Error::parse(
                                    format!("[INVALID_ESC] Found an invalid escape string: {text}. The escape string must contain only one character. SQLSTATE: 42604"),
                                    expr_position(ec),
                                )
                                .with_condition("INVALID_ESC"))
                            }
                        }
                    }
                };
                let v = self.expr(expr, scope)?;
                let v = if v.data_type() == DataType::String { v } else { v.cast_to(&DataType::String) };
                let text = match self.expr(pattern, scope)? {
                    Expr::Literal(Value::String(s)) => s,
                    // `x LIKE NULL` is NULL on every row.
                    Expr::Literal(Value::Null) => return Ok(Expr::Literal(Value::Null).cast_to(&DataType::Boolean)),
                    _ => return Err(Error::unsupported("the LIKE pattern must be a string literal").at(expr_position(pattern))),
                };
                let p = LikePattern::with_escape(&text, escape, matches!(e, E::ILike { .. })).map_err(|m| {
                    let condition =
                        if m.contains("ESC_IN_THE_MIDDLE") { "INVALID_FORMAT.ESC_IN_THE_MIDDLE" } else { "INVALID_FORMAT.ESC_AT_THE_END" };
                    Error::runtime(condition, m).in_phase(Phase::Analysis).at(expr_position(pattern))
                })?;
                Expr::Like { expr: Box::new(v), pattern: p, negated: *negated }
            }
            _ => return Err(Error::internal("an expression form reached the wrong resolver")),
        })
    }

    pub(super) fn expr_case(&mut self, e: &ast::Expr, scope: &Scope) -> Result<Expr> {
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

    pub(super) fn expr_cast(&mut self, e: &ast::Expr, scope: &Scope) -> Result<Expr> {
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

    pub(super) fn expr_floor_ceil(&mut self, e: &ast::Expr, scope: &Scope) -> Result<Expr> {
        use ast::Expr as E;
        Ok(match e {
            E::Floor { expr, field } | E::Ceil { expr, field } => {
                let func = if matches!(e, E::Floor { .. }) { Func::Floor } else { Func::Ceil };
                let mut args = vec![self.expr(expr, scope)?];
                match field {
                    ast::CeilFloorKind::DateTimeField(ast::DateTimeField::NoDateTime) => {}
                    ast::CeilFloorKind::Scale(v) => args.push(literal(&v.value).map_err(|m| Error::parse(m, position_of(v.span)))?),
                    _ => return Err(Error::unsupported("CEIL and FLOOR take a number and an optional scale here: floor(x, 2)")),
                }
                call(func, args)?
            }
            _ => return Err(Error::internal("an expression form reached the wrong resolver")),
        })
    }

    pub(super) fn expr_substring(&mut self, e: &ast::Expr, scope: &Scope) -> Result<Expr> {
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

    pub(super) fn expr_trim(&mut self, e: &ast::Expr, scope: &Scope) -> Result<Expr> {
        use ast::Expr as E;
        Ok(match e {
            E::Trim { expr, trim_where, trim_what, trim_characters } => {
                let func = match trim_where {
                    Some(ast::TrimWhereField::Leading) => Func::Ltrim,
                    Some(ast::TrimWhereField::Trailing) => Func::Rtrim,
                    _ => Func::Trim,
                };
                // The kernel takes (string, characters). `TRIM(BOTH 'x' FROM s)` names them so;
                // Spark's function form `trim('x', s)` puts the characters first, and sqlparser
                // reads it as `expr` = 'x' with `s` among `trim_characters`.
                let first = self.expr(expr, scope)?;
                let args = match (trim_what, trim_characters.as_deref()) {
                    (Some(what), _) => vec![first, self.expr(what, scope)?],
                    (None, Some([source])) => vec![self.expr(source, scope)?, first],
                    (None, Some([]) | None) => vec![first],
                    (None, Some(_)) => {
                        return Err(Error::type_mismatch(format!(
                            "[WRONG_NUM_ARGS.WITHOUT_SUGGESTION] The `{}` requires [1, 2] parameters. SQLSTATE: 42605",
                            func.name()
                        )))
                    }
                };
                call(func, args)?
            }
            _ => return Err(Error::internal("an expression form reached the wrong resolver")),
        })
    }

    pub(super) fn expr_extract(&mut self, e: &ast::Expr, scope: &Scope) -> Result<Expr> {
        use ast::Expr as E;
        Ok(match e {
            E::Extract { field, expr, .. } => {
                let func = match field {
                    ast::DateTimeField::Year | ast::DateTimeField::Years => Func::Year,
                    ast::DateTimeField::Month | ast::DateTimeField::Months => Func::Month,
                    ast::DateTimeField::Day | ast::DateTimeField::Days => Func::DayOfMonth,
                    ast::DateTimeField::Hour | ast::DateTimeField::Hours => Func::Hour,
                    ast::DateTimeField::Minute | ast::DateTimeField::Minutes => Func::Minute,
                    // Spark's EXTRACT(SECOND ...) keeps the fraction (a DECIMAL(8,6) there, a DOUBLE here).
                    ast::DateTimeField::Second | ast::DateTimeField::Seconds => Func::SecondWithFraction,
                    ast::DateTimeField::Quarter => Func::Quarter,
                    ast::DateTimeField::Week(None) | ast::DateTimeField::Weeks => Func::WeekOfYear,
                    ast::DateTimeField::Dow | ast::DateTimeField::DayOfWeek => Func::DayOfWeek,
                    ast::DateTimeField::Doy | ast::DateTimeField::DayOfYear => Func::DayOfYear,
                    other => return Err(Error::unsupported(format!("EXTRACT({other} FROM ...) is not supported yet"))),
                };
                if let E::Interval(iv) = expr.as_ref() {
                    return interval_field(func, iv, &field.to_string());
                }
                let arg = self.expr(expr, scope)?;
                call(func, vec![arg])?
            }
            _ => return Err(Error::internal("an expression form reached the wrong resolver")),
        })
    }

    pub(super) fn expr_field_access(&mut self, e: &ast::Expr, scope: &Scope) -> Result<Expr> {
        use ast::Expr as E;
        Ok(match e {
            E::CompoundFieldAccess { root, access_chain } => {
                let mut v = self.expr(root, scope)?;
                for access in access_chain {
                    v = match access {
                        ast::AccessExpr::Subscript(ast::Subscript::Index { index }) => {
                            let idx = self.expr(index, scope)?;
                            subscript(v, idx, index)?
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

    /// `struct(a, b + 1 AS c, 2)`: fields named after a column, an alias, else colN, as Spark does.
    pub(super) fn struct_of(&mut self, args: &[&ast::Expr], scope: &Scope, pos: Option<Position>) -> Result<Expr> {
        let mut pairs = Vec::new();
        for (i, a) in args.iter().enumerate() {
            let (e, name) = match a {
                ast::Expr::Named { expr, name } => (expr.as_ref(), Some(name.value.clone())),
                other => (*other, args_ast_names(std::slice::from_ref(other)).pop().flatten()),
            };
            pairs.push(Expr::Literal(Value::String(name.unwrap_or_else(|| format!("col{}", i + 1)))));
            pairs.push(self.expr(e, scope)?);
        }
        let (args, data_type) = Func::NamedStruct.check(pairs).map_err(|e| e.at(pos))?;
        Ok(Expr::Call { func: Func::NamedStruct, args, data_type })
    }

    /// `a op b op c ...`: sqlparser nests such a chain one level per term on the left, so it is
    /// walked with a loop here (and kept flat in the typed expression, see [`Expr::binary`]).
    pub(super) fn binary_chain(&mut self, e: &ast::Expr, scope: &Scope) -> Result<Expr> {
        use ast::BinaryOperator as B;
        let mut spine: Vec<(&ast::Expr, &ast::BinaryOperator, &ast::Expr)> = Vec::new();
        let mut leftmost = e;
        while let ast::Expr::BinaryOp { left, op, right } = leftmost {
            spine.push((leftmost, op, right));
            leftmost = left;
        }
        spine.reverse();
        let mut steps = spine.into_iter();
        // `INTERVAL a DIV INTERVAL b`: how many b fit in a, a BIGINT (both year-month or both day-time).
        if let (ast::Expr::Interval(a), Some(&(whole, B::MyIntegerDivide, ast::Expr::Interval(b)))) = (leftmost, steps.as_slice().first()) {
            let (x, y) = (interval_literal(a)?, interval_literal(b)?);
            let (ym_x, ym_y) =
                (x.micros == 0 && (x.months != 0 || year_month_field(a)), y.micros == 0 && (y.months != 0 || year_month_field(b)));
            if ym_x != ym_y || (x.months != 0 && x.micros != 0) || (y.months != 0 && y.micros != 0) {
                return Err(Error::type_mismatch(format!("`{}` divides intervals of different kinds", spark_sql(whole))));
            }
            let (n, d) = if ym_x { (i64::from(x.months), i64::from(y.months)) } else { (x.micros, y.micros) };
            if d == 0 {
                return Err(Error::runtime("DIVIDE_BY_ZERO", "[INTERVAL_DIVIDED_BY_ZERO] Division by zero. Use `try_divide` to tolerate divisor being 0 and return NULL instead. SQLSTATE: 22012").in_phase(Phase::Analysis));
            }
            let quotient = Expr::Literal(Value::BigInt(n / d));
            if steps.len() == 1 {
                return Ok(quotient);
            }
            return Err(Error::unsupported("an interval DIV inside a longer expression is not supported yet; put it in parentheses"));
        }
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
    pub(super) fn binary_step(
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
            // DATE ± a year-month interval is a DATE (Spark's DateAddYMInterval: add_months).
            if ts.data_type() == DataType::Date {
                let interval = interval_literal(iv)?;
                if interval.micros == 0 {
                    let months = if matches!(op, B::Minus) { interval.months.checked_neg() } else { Some(interval.months) };
                    let months = months.ok_or_else(|| Error::type_mismatch("the interval is out of range"))?;
                    return call(Func::AddMonths, vec![ts, Expr::Literal(Value::Int(months))]);
                }
            }
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
                // Bytes concatenate as bytes (Spark's BINARY concat), nested pairwise.
                if l.data_type() == DataType::Binary || r.data_type() == DataType::Binary {
                    return call(Func::Concat, vec![l, r]);
                }
                // `a || b || c` is concat(a, b, c): one call, however long the chain.
                if let Expr::Call { func: Func::Concat, mut args, data_type } = l {
                    let (more, _) = Func::Concat.check(vec![r])?;
                    args.extend(more);
                    return Ok(Expr::Call { func: Func::Concat, args, data_type });
                }
                let (args, t) = Func::Concat.check(vec![l, r])?;
                return Ok(Expr::Call { func: Func::Concat, args, data_type: t });
            }
            B::MyIntegerDivide => return call(Func::IntDiv, vec![l, r]),
            B::BitwiseAnd => return call(Func::BitAnd, vec![l, r]),
            B::BitwiseOr => return call(Func::BitOr, vec![l, r]),
            B::BitwiseXor => return call(Func::BitXor, vec![l, r]),
            B::PGBitwiseShiftLeft => return call(Func::ShiftLeft, vec![l, r]),
            B::PGBitwiseShiftRight => return call(Func::ShiftRight, vec![l, r]),
            B::Custom(op) if op == ">>>" => return call(Func::ShiftRightUnsigned, vec![l, r]),
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
        arithmetic(bop, l, r, whole)
    }

    pub(super) fn function(&mut self, f: &ast::Function, scope: &Scope, whole: &ast::Expr) -> Result<Expr> {
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
        if is_generator_name(&lower) {
            return Err(generator_outside_select(&lower, whole, pos));
        }
        if is_spark_aggregate(&lower) {
            if !AggFunc::is_aggregate_name(&lower) && !REWRITTEN_AGGREGATES.contains(&lower.as_str()) {
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
        let args = plain_args(f, &lower, pos, None)?;
        let args_ast = args.clone();
        // The special forms and the resolved call are frames of their own: this one is on the
        // stack once per nesting level of a call (`abs(abs(...))`), so it stays small.
        if let Some(special) = self.special_call(&lower, &args, scope, pos, whole)? {
            return Ok(special);
        }
        if let Some(rewritten) = self.time_literal_call(&lower, &args, scope, pos)? {
            return Ok(rewritten);
        }
        let resolved = args
            .iter()
            .map(|a| match ntz_literal(a) {
                // The session time zone is UTC, so a TIMESTAMP_NTZ's wall clock is the instant a
                // TIMESTAMP holds: these functions give the same answer for either type.
                Some(text) if NTZ_AS_UTC.contains(&lower.as_str()) => parse_timestamp(&text).map(|t| Expr::Literal(Value::Timestamp(t))).ok_or_else(|| {
                    Error::parse(
                        format!("[INVALID_TYPED_LITERAL] The value of the typed literal \"TIMESTAMP_NTZ\" is invalid: '{text}'. SQLSTATE: 42604"),
                        expr_position(a),
                    )
                }),
                _ => self.expr(a, scope),
            })
            .collect::<Result<Vec<_>>>()?;
        self.resolved_call(&name, &lower, resolved, &args_ast, pos, whole)
    }

    /// The functions Spark writes as other expressions, or whose arguments are not plain
    /// expressions (lambdas, intervals, LIKE's forms): None for the others.
    #[inline(never)]
    fn special_call(
        &mut self,
        lower: &str,
        args: &[&ast::Expr],
        scope: &Scope,
        pos: Option<Position>,
        whole: &ast::Expr,
    ) -> Result<Option<Expr>> {
        if let Some(h) = crate::expr::HigherOrderFunc::by_name(lower) {
            return self.higher_order(h, lower, args, scope, pos, whole).map(Some);
        }
        if lower == "struct" {
            return self.struct_of(args, scope, pos).map(Some);
        }
        if matches!(lower, "grouping" | "grouping_id") {
            return self.grouping_call(lower, args, scope, pos).map(Some);
        }
        // `try_add(date, n)`, `try_add(ts, INTERVAL ...)`: the date-time forms are `+` / `-`.
        // (Past year 9999 they fail the batch where Spark gives NULL: refused, never wrong.)
        if (lower == "try_add" || lower == "try_subtract") && args.len() == 2 {
            let datetime = |e: &ast::Expr| {
                matches!(e, ast::Expr::Interval(_))
                    || matches!(e, ast::Expr::TypedString(ts) if matches!(ts.data_type, ast::DataType::Date | ast::DataType::Timestamp(..)))
            };
            if args.iter().any(|a| datetime(a)) {
                let op = if lower == "try_add" { ast::BinaryOperator::Plus } else { ast::BinaryOperator::Minus };
                let form = ast::Expr::BinaryOp { left: Box::new(args[0].clone()), op, right: Box::new(args[1].clone()) };
                return self.expr(&form, scope).map(Some).map_err(|e| if e.position.is_some() { e } else { e.at(pos) });
            }
        }
        // `sign(INTERVAL ...)` and `width_bucket` over intervals: an interval literal is its
        // count of months (year-month) or of microseconds (day-time), which orders the same.
        if matches!(lower, "sign" | "signum" | "width_bucket") && args.iter().any(|a| matches!(a, ast::Expr::Interval(_))) {
            let mut resolved = Vec::with_capacity(args.len());
            let mut kind = None;
            for a in args {
                resolved.push(match a {
                    ast::Expr::Interval(iv) => {
                        let i = interval_literal(iv).map_err(|e| e.at(pos))?;
                        let (this, n) = if i.months != 0 && i.micros == 0 || year_month_field(iv) {
                            ("month", i64::from(i.months))
                        } else {
                            ("time", i.micros)
                        };
                        if i.months != 0 && i.micros != 0 || kind.replace(this).is_some_and(|k| k != this) {
                            return Err(Error::type_mismatch(format!(
                                "the intervals of `{}` must all be year-month or all day-time",
                                spark_sql(whole)
                            ))
                            .at(pos));
                        }
                        Expr::Literal(Value::BigInt(n))
                    }
                    other => self.expr(other, scope)?,
                });
            }
            let func = Func::by_name(lower).ok_or_else(|| Error::internal("sign and width_bucket resolve"))?;
            let (args, data_type) = func.check(resolved).map_err(|e| e.at(pos))?;
            return Ok(Some(Expr::Call { func, args, data_type }));
        }
        // `time_bucket(INTERVAL ..., ts[, origin])`: the width is a positive constant interval.
        if lower == "time_bucket" && matches!(args.len(), 2 | 3) {
            let ast::Expr::Interval(iv) = args[0] else {
                return Err(Error::type_mismatch(
                    "the bucket width of `time_bucket` must be an INTERVAL literal such as INTERVAL '15' MINUTE",
                )
                .at(pos));
            };
            let width = interval_literal(iv).map_err(|e| e.at(pos))?;
            if width.months < 0 || width.micros < 0 || (width.months == 0) == (width.micros == 0) {
                return Err(Error::type_mismatch(format!(
                    "[DATATYPE_MISMATCH.VALUE_OUT_OF_RANGE] Cannot resolve \"{}\" due to data type mismatch: The `bucketSize` must be a positive interval of months or of time. SQLSTATE: 42K09",
                    spark_sql(whole)
                ))
                .at(pos));
            }
            let ts = self.expr(args[1], scope)?;
            let origin = match args.get(2) {
                Some(o) => self.expr(o, scope)?,
                None => Expr::Literal(Value::Timestamp(0)),
            };
            let parts = vec![Expr::Literal(Value::Int(width.months)), Expr::Literal(Value::BigInt(width.micros)), ts, origin];
            return call(Func::TimeBucket, parts).map_err(|e| e.at(pos)).map(Some);
        }
        // `sequence(start, stop, INTERVAL ...)`: dates or timestamps stepped by the interval.
        if lower == "sequence" && args.len() == 3 {
            if let ast::Expr::Interval(iv) = args[2] {
                let step = interval_literal(iv).map_err(|e| e.at(pos))?;
                let start = self.expr(args[0], scope)?;
                let stop = self.expr(args[1], scope)?;
                if ![&start, &stop].iter().all(|e| matches!(e.data_type(), DataType::Date | DataType::Timestamp | DataType::Null)) {
                    return Err(Error::type_mismatch(
                        "[DATATYPE_MISMATCH.SEQUENCE_WRONG_INPUT_TYPES] `sequence` with an INTERVAL step takes DATE or TIMESTAMP bounds. SQLSTATE: 42K09",
                    )
                    .at(pos));
                }
                let parts = vec![start, stop, Expr::Literal(Value::Int(step.months)), Expr::Literal(Value::BigInt(step.micros))];
                return call(Func::SequenceTime, parts).map_err(|e| e.at(pos)).map(Some);
            }
        }
        // `date_part('MONTH', INTERVAL ...)`: a field of a constant interval.
        if matches!(lower, "date_part" | "datepart") && args.len() == 2 {
            if let (ast::Expr::Value(v), ast::Expr::Interval(iv)) = (args[0], args[1]) {
                if let ast::Value::SingleQuotedString(field) = &v.value {
                    let func = date_part_func(field)
                        .ok_or_else(|| Error::unsupported(format!("`{lower}('{field}', INTERVAL ...)` is not supported")).at(pos))?;
                    return interval_field(func, iv, field).map_err(|e| e.at(pos)).map(Some);
                }
            }
        }
        // `like(str, pattern[, escape])` and `ilike(...)` are the LIKE / ILIKE operators.
        if (lower == "like" || lower == "ilike") && matches!(args.len(), 2 | 3) {
            let (expr, pattern) = (Box::new(args[0].clone()), Box::new(args[1].clone()));
            let escape_char = args.get(2).map(|e| Box::new((*e).clone()));
            let form = if lower == "like" {
                ast::Expr::Like { negated: false, any: false, expr, pattern, escape_char }
            } else {
                ast::Expr::ILike { negated: false, any: false, expr, pattern, escape_char }
            };
            return self.expr_like(&form, scope).map(Some).map_err(|e| if e.position.is_some() { e } else { e.at(pos) });
        }
        Ok(None)
    }

    /// A call whose arguments are resolved: the rewrites by name, then the function's own type rule.
    #[inline(never)]
    fn resolved_call(
        &mut self,
        name: &str,
        lower: &str,
        mut resolved: Vec<Expr>,
        args_ast: &[&ast::Expr],
        pos: Option<Position>,
        whole: &ast::Expr,
    ) -> Result<Expr> {
        match lower {
            // `to_char(date, 'yyyy')` is date_format; numbers and bytes have their own formats.
            "to_char" | "to_varchar" if resolved.len() == 2 && matches!(resolved[0].data_type(), DataType::Date | DataType::Timestamp) => {
                return call(Func::DateFormat, resolved).map_err(|e| e.at(pos));
            }
            // `decode(expr, search, result, ..., default)`: a CASE of null-safe equalities.
            "decode" if resolved.len() >= 3 => return decode_case(resolved, whole).map_err(|e| e.at(pos)),
            "mod" if resolved.len() == 2 => {
                let r = resolved.pop().unwrap_or(Expr::Literal(Value::Null));
                let l = resolved.pop().unwrap_or(Expr::Literal(Value::Null));
                return arithmetic(BinaryOp::Modulo, l, r, whole).map_err(|e| e.at(pos));
            }
            "positive" | "negative" if resolved.len() == 1 => {
                let v = resolved.pop().unwrap_or(Expr::Literal(Value::Null));
                let v = match v.data_type() {
                    t if t.is_numeric() || t.decimal().is_some() => v,
                    DataType::String | DataType::Null => v.cast_to(&DataType::Double),
                    _ => return Err(unary_mismatch(lower, &v, whole).at(pos)),
                };
                return Ok(if lower == "negative" { Expr::Negate(Box::new(v)) } else { v });
            }
            // Spark's function forms put the characters to trim first: `ltrim('x', s)`.
            "trim" | "ltrim" | "rtrim" if resolved.len() == 2 => resolved.reverse(),
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
            // The engine's session time zone is UTC (timestamps are read and shown in UTC).
            "current_timezone" if resolved.is_empty() => return Ok(Expr::Literal(Value::String("UTC".into()))),
            "current_path" if resolved.is_empty() => {
                return Ok(Expr::Literal(Value::String("system.builtin,system.session,spark_catalog.default".into())))
            }
            // Only where the engine's type is Spark's: it has no FLOAT, SMALLINT or TINYINT, so an
            // expression that Spark may type otherwise (`1Y`, `x / 2`) is refused.
            "typeof" if resolved.len() == 1 => {
                if !args_ast.first().is_some_and(|a| typed_as_in_spark(a)) {
                    return Err(Error::unsupported(
                        "`typeof` is answered here for columns, casts to DECIMAL and integer, decimal (`1.5`, `1.5BD`), string, boolean, date and timestamp literals (and arrays, maps and structs of them) only: the engine has no FLOAT, SMALLINT or TINYINT to tell apart",
                    )
                    .at(pos));
                }
                return Ok(Expr::Literal(Value::String(resolved[0].data_type().ddl_name())));
            }
            // Spark's cast functions: `date(x)` is `CAST(x AS DATE)`, `timestamp(x)` a cast to TIMESTAMP.
            "date" | "timestamp" if resolved.len() == 1 => {
                let to = if lower == "date" { DataType::Date } else { DataType::Timestamp };
                let v = resolved.pop().unwrap_or(Expr::Literal(Value::Null));
                if !crate::expr::cast_array_allowed(&v.data_type(), &to) {
                    return Err(Error::type_mismatch(format!(
                        "[DATATYPE_MISMATCH.CAST_WITHOUT_SUGGESTION] Cannot resolve \"{}\" due to data type mismatch: cannot cast \"{}\" to \"{}\". SQLSTATE: 42K09",
                        spark_sql(whole),
                        v.data_type().spark_name(),
                        to.spark_name()
                    ))
                    .at(pos));
                }
                return Ok(if v.data_type() == to { v } else { Expr::Cast { expr: Box::new(v), to, mode: CastMode::Ansi } });
            }
            // `date_part('field', source)` is EXTRACT with the field as a string literal.
            "date_part" | "datepart" => {
                if resolved.len() != 2 {
                    return Err(Error::type_mismatch(format!(
                        "[WRONG_NUM_ARGS.WITHOUT_SUGGESTION] The `{lower}` requires 2 parameters but the actual number is {}. SQLSTATE: 42605",
                        resolved.len()
                    ))
                    .at(pos));
                }
                let source = resolved.pop().unwrap_or(Expr::Literal(Value::Null));
                let Some(Expr::Literal(Value::String(field))) = resolved.pop() else {
                    return Err(Error::type_mismatch(format!(
                        "the field of `{lower}` must be a string literal such as 'YEAR': {}",
                        spark_sql(whole)
                    ))
                    .at(pos));
                };
                let func = date_part_func(&field).ok_or_else(|| {
                    Error::unsupported(format!("`{lower}('{field}', ...)` is not supported yet (YEAR, QUARTER, MONTH, WEEK, DAY, DAYOFWEEK, DOY, HOUR, MINUTE, SECOND are)")).at(pos)
                })?;
                return call(func, vec![source]).map_err(|e| e.at(pos));
            }
            // Null tests Spark spells as functions: rewritten into the expressions they mean.
            "isnull" | "isnotnull" | "zeroifnull" | "nullifzero" | "equal_null" | "nvl2" => {
                return null_function(lower, resolved, whole, pos)
            }
            _ => {}
        }
        let func = Func::by_name(lower).ok_or_else(|| {
            let hint = suggest::likely(lower, Func::all_names()).map(|s| format!(" Did you mean `{s}`?")).unwrap_or_default();
            Error::new(
                ErrorKind::UnknownFunction,
                format!("[UNRESOLVED_ROUTINE] Cannot resolve routine `{name}` on search path [`system`.`builtin`, `system`.`session`, `spark_catalog`.`default`].{hint} SQLSTATE: 42883"),
            )
            .with_condition("UNRESOLVED_ROUTINE")
            .at(pos)
        })?;
        let func = func.for_args(&resolved);
        let (args, data_type) = func.check(resolved).map_err(|e| e.at(pos))?;
        // `arrays_zip(a, b)` names its fields after the columns it zips, as Spark does.
        let data_type = match (func, data_type) {
            (Func::ArraysZip, DataType::Array(inner)) => match *inner {
                DataType::Struct(fields) => DataType::Array(Box::new(DataType::Struct(
                    fields.into_iter().zip(&args_ast_names(args_ast)).map(|((n, t), name)| (name.clone().unwrap_or(n), t)).collect(),
                ))),
                other => DataType::Array(Box::new(other)),
            },
            (_, t) => t,
        };
        Ok(Expr::Call { func, args, data_type })
    }
}

/// Functions whose answer for a TIMESTAMP_NTZ literal is their answer for the TIMESTAMP of the
/// same text in a UTC session: field extraction, truncation, seconds since the epoch. The engine
/// has no TIMESTAMP_NTZ type, so the literal is refused anywhere else (its type would show).
const NTZ_AS_UTC: &[&str] = &[
    "year",
    "month",
    "day",
    "dayofmonth",
    "hour",
    "minute",
    "second",
    "dayofweek",
    "dayofyear",
    "weekday",
    "weekofyear",
    "quarter",
    "dayname",
    "monthname",
    "unix_seconds",
    "unix_millis",
    "unix_micros",
    "date_trunc",
];

impl<'a> Analyzer<'a> {
    /// Spark 4.1's TIME literal where its value is a time of day the engine can hold without a
    /// TIME type: `make_timestamp(date, TIME'..'[, tz])` is the six-field form, and
    /// `date_format(TIME'..', 'HH:mm:ss')` formats that time on any day when the pattern has only
    /// time-of-day letters. Elsewhere a TIME literal stays refused.
    fn time_literal_call(&mut self, lower: &str, args: &[&ast::Expr], scope: &Scope, pos: Option<Position>) -> Result<Option<Expr>> {
        let time_at = |k: usize| args.get(k).and_then(|a| time_literal(a));
        match lower {
            "make_timestamp" | "make_timestamp_ltz" | "try_make_timestamp" | "try_make_timestamp_ltz" if matches!(args.len(), 2 | 3) => {
                let Some(micros) = time_at(1) else { return Ok(None) };
                let micros = micros.map_err(|m| Error::parse(m, expr_position(args[1])))?;
                let date = self.expr(args[0], scope)?;
                let field = |f: Func| call(f, vec![date.clone()]);
                let mut fields = vec![
                    field(Func::Year)?,
                    field(Func::Month)?,
                    field(Func::DayOfMonth)?,
                    Expr::Literal(Value::Int((micros / 3_600_000_000) as i32)),
                    Expr::Literal(Value::Int((micros / 60_000_000 % 60) as i32)),
                    Expr::Literal(Value::Double((micros % 60_000_000) as f64 / 1e6)),
                ];
                if let Some(tz) = args.get(2) {
                    fields.push(self.expr(tz, scope)?);
                }
                let func = if lower.starts_with("try_") { Func::TryMakeTimestamp } else { Func::MakeTimestamp };
                call(func, fields).map(Some).map_err(|e| e.at(pos))
            }
            "date_format" if args.len() == 2 => {
                let Some(micros) = time_at(0) else { return Ok(None) };
                let micros = micros.map_err(|m| Error::parse(m, expr_position(args[0])))?;
                let pattern = self.expr(args[1], scope)?;
                let time_only = matches!(&pattern, Expr::Literal(Value::String(p))
                    if pattern_letters(p).iter().all(|c| matches!(c, 'H' | 'h' | 'K' | 'k' | 'm' | 's' | 'S' | 'a')));
                if !time_only {
                    return Err(Error::unsupported(
                        "`date_format` of a TIME literal takes a literal pattern of time-of-day letters only (H, h, K, k, m, s, S, a)",
                    )
                    .at(pos));
                }
                call(Func::DateFormat, vec![Expr::Literal(Value::Timestamp(micros)), pattern]).map(Some).map_err(|e| e.at(pos))
            }
            _ => Ok(None),
        }
    }
}

/// The pattern letters of a datetime pattern, outside its quoted text.
fn pattern_letters(p: &str) -> Vec<char> {
    let mut quoted = false;
    p.chars()
        .filter(|c| {
            if *c == '\'' {
                quoted = !quoted;
            }
            !quoted && c.is_ascii_alphabetic()
        })
        .collect()
}

/// The microseconds since midnight of a `TIME '[h]h:[m]m[:[s]s[.fraction]]'` literal.
fn time_literal(e: &ast::Expr) -> Option<std::result::Result<i64, String>> {
    let ast::Expr::TypedString(ts) = e else { return None };
    if !matches!(ts.data_type, ast::DataType::Time(..)) {
        return None;
    }
    let text = match &ts.value.value {
        ast::Value::SingleQuotedString(s) | ast::Value::DoubleQuotedString(s) => s.clone(),
        other => other.to_string(),
    };
    let invalid = || format!("[INVALID_TYPED_LITERAL] The value of the typed literal \"TIME\" is invalid: '{text}'. SQLSTATE: 42604");
    let parse = || -> Option<i64> {
        let mut parts = text.trim().splitn(3, ':');
        let h: i64 = parts.next()?.parse().ok()?;
        let m: i64 = parts.next()?.parse().ok()?;
        let (s, frac) = match parts.next() {
            Some(sec) => {
                let (s, f) = sec.split_once('.').unwrap_or((sec, ""));
                if f.len() > 9 || !f.bytes().all(|b| b.is_ascii_digit()) {
                    return None;
                }
                // Whole microseconds: a finer fraction is cut, as Spark keeps TIME(6).
                let micros: i64 = format!("{f:0<6}")[..6].parse().ok()?;
                (s.parse::<i64>().ok()?, micros)
            }
            None => (0, 0),
        };
        ((0..24).contains(&h) && (0..60).contains(&m) && (0..60).contains(&s)).then_some(((h * 60 + m) * 60 + s) * 1_000_000 + frac)
    };
    Some(parse().ok_or_else(invalid))
}

/// Whether the engine types `e` exactly as Spark does: a column, an integer, string, boolean,
/// NULL, DATE or TIMESTAMP literal, or a collection constructor of such.
fn typed_as_in_spark(e: &ast::Expr) -> bool {
    match e {
        ast::Expr::Identifier(i) => !matches!(suffixed_number(i), Some(v) if v.data_type().decimal().is_none()),
        ast::Expr::CompoundIdentifier(_) => true,
        // A cast to a decimal is typed as written (other casts may name FLOAT or SMALLINT).
        ast::Expr::Cast { data_type: ast::DataType::Decimal(_) | ast::DataType::Numeric(_) | ast::DataType::Dec(_), .. } => true,
        ast::Expr::Nested(inner) => typed_as_in_spark(inner),
        ast::Expr::Value(v) => match &v.value {
            // An integer, or a decimal such as `1.5` (an exponent makes a DOUBLE, here and in Spark).
            ast::Value::Number(n, long) => !*long && n.bytes().all(|b| b.is_ascii_digit() || b == b'.') && n.matches('.').count() <= 1,
            ast::Value::SingleQuotedString(_) | ast::Value::DoubleQuotedString(_) | ast::Value::Boolean(_) | ast::Value::Null => true,
            _ => false,
        },
        ast::Expr::TypedString(ts) => matches!(ts.data_type, ast::DataType::Date | ast::DataType::Timestamp(_, _)),
        ast::Expr::Function(f)
            if ["array", "map", "named_struct", "struct"].contains(&f.name.to_string().to_ascii_lowercase().as_str()) =>
        {
            match &f.args {
                ast::FunctionArguments::List(list) => {
                    list.args.iter().all(|a| matches!(a, ast::FunctionArg::Unnamed(ast::FunctionArgExpr::Expr(e)) if typed_as_in_spark(e)))
                }
                ast::FunctionArguments::None => true,
                ast::FunctionArguments::Subquery(_) => false,
            }
        }
        _ => false,
    }
}

/// Whether an interval literal is written in years or months (a year-month interval even when 0).
fn year_month_field(iv: &ast::Interval) -> bool {
    matches!(
        iv.leading_field,
        Some(ast::DateTimeField::Year | ast::DateTimeField::Years | ast::DateTimeField::Month | ast::DateTimeField::Months)
    )
}

/// A call's plain arguments (`f(a, b)`), as every call the analyzer resolves reads them: no
/// DISTINCT, no subquery, no named or wildcard argument but `named` (the one name a function
/// may take its argument by, as the explode family's `collection`).
pub(super) fn plain_args<'f>(f: &'f ast::Function, name: &str, pos: Option<Position>, named: Option<&str>) -> Result<Vec<&'f ast::Expr>> {
    match &f.args {
        ast::FunctionArguments::None => Ok(vec![]),
        ast::FunctionArguments::List(list) => {
            if list.duplicate_treatment.is_some() {
                return Err(Error::unsupported(format!("DISTINCT inside `{name}(...)` is only meaningful for aggregates")).at(pos));
            }
            list.args
                .iter()
                .map(|a| match a {
                    ast::FunctionArg::Unnamed(ast::FunctionArgExpr::Expr(e)) => Ok(e),
                    ast::FunctionArg::Named { name: n, arg: ast::FunctionArgExpr::Expr(e), .. }
                        if named.is_some_and(|w| n.value.eq_ignore_ascii_case(w)) =>
                    {
                        Ok(e)
                    }
                    other => Err(Error::unsupported(format!("`{other}` is not a supported argument of {name}")).at(pos)),
                })
                .collect()
        }
        ast::FunctionArguments::Subquery(_) => Err(Error::unsupported("subqueries are not supported in expressions").at(pos)),
    }
}

/// The text of a `TIMESTAMP_NTZ '...'` literal.
fn ntz_literal(e: &ast::Expr) -> Option<String> {
    match e {
        ast::Expr::TypedString(ts) if matches!(ts.data_type, ast::DataType::TimestampNtz(_)) => match &ts.value.value {
            ast::Value::SingleQuotedString(s) | ast::Value::DoubleQuotedString(s) => Some(s.clone()),
            _ => None,
        },
        _ => None,
    }
}

/// Spark's `decode(expr, search1, result1, ..., default)`: the result of the first search equal
/// to `expr` (NULL equals NULL here), else the default or NULL.
fn decode_case(args: Vec<Expr>, whole: &ast::Expr) -> Result<Expr> {
    let mut it = args.into_iter();
    let subject = it.next().unwrap_or(Expr::Literal(Value::Null));
    let rest: Vec<Expr> = it.collect();
    let pairs = rest.len() / 2;
    let mut results: Vec<&Expr> = rest.iter().skip(1).step_by(2).take(pairs).collect();
    let default = if rest.len() % 2 == 1 { rest.last() } else { None };
    results.extend(default);
    let mut t = DataType::Null;
    for r in &results {
        t = wider_type(&t, &r.data_type()).ok_or_else(|| {
            Error::type_mismatch(format!("the results of `{}` have incompatible types {} and {}", spark_sql(whole), t, r.data_type()))
        })?;
    }
    let mut branches = Vec::with_capacity(pairs);
    let mut rest = rest.into_iter();
    for _ in 0..pairs {
        let search = rest.next().unwrap_or(Expr::Literal(Value::Null));
        let result = rest.next().unwrap_or(Expr::Literal(Value::Null));
        branches.push((compare(BinaryOp::NullSafeEq, subject.clone(), search, whole)?, result.cast_to(&t)));
    }
    let otherwise = rest.next().map(|d| Box::new(d.cast_to(&t)));
    Ok(Expr::Case {
        branches,
        otherwise: Some(otherwise.unwrap_or_else(|| Box::new(Expr::Literal(Value::Null).cast_to(&t)))),
        data_type: t,
    })
}

/// The name Spark gives a struct field made from each argument: a column's own name, else none.
fn args_ast_names(args: &[&ast::Expr]) -> Vec<Option<String>> {
    args.iter()
        .map(|a| match a {
            ast::Expr::Identifier(i) => Some(i.value.clone()),
            ast::Expr::CompoundIdentifier(parts) => parts.last().map(|i| i.value.clone()),
            _ => None,
        })
        .collect()
}

/// `l op r` for `+ - * / %`: numeric operands meet at the wider type; `/` always gives a double.
/// Calls the analyzer rewrites into other expressions rather than resolving as a `Func` (the
/// function catalog's test counts them as callable).
#[cfg(test)]
pub(super) const REWRITTEN_CALLS: &[&str] = &[
    "current_timezone",
    "current_path",
    "typeof",
    "like",
    "ilike",
    "time_bucket",
    "date",
    "timestamp",
    "date_part",
    "datepart",
    "grouping",
    "grouping_id",
];

pub(super) fn arithmetic(bop: BinaryOp, l: Expr, r: Expr, whole: &ast::Expr) -> Result<Expr> {
    let numeric = |t: &DataType| -> Option<DataType> {
        match t {
            t if t.is_numeric() => Some(t.clone()),
            DataType::String => Some(DataType::Double),
            DataType::Null => Some(DataType::Null),
            _ => None,
        }
    };
    let (lt, rt) = (l.data_type(), r.data_type());
    // `date + n`, `n + date`, `date - n`: Spark's date_add and date_sub.
    match (bop, &lt, &rt) {
        (BinaryOp::Add, DataType::Date, t) if t.is_integral() => return call(Func::DateAdd, vec![l, r]),
        (BinaryOp::Add, t, DataType::Date) if t.is_integral() => return call(Func::DateAdd, vec![r, l]),
        (BinaryOp::Subtract, DataType::Date, t) if t.is_integral() => return call(Func::DateSub, vec![l, r]),
        (BinaryOp::Subtract, DataType::Date, DataType::Date) => {
            return Err(Error::unsupported(format!(
                "`{}` is an INTERVAL DAY in Spark, a type this version of Unbounded does not have; use datediff(end, start) for the days between",
                spark_sql(whole)
            )))
        }
        _ => {}
    }
    if lt.decimal().is_some() || rt.decimal().is_some() {
        if let Some(e) = decimal_arithmetic(bop, l.clone(), r.clone())? {
            return Ok(e);
        }
    }
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

/// `l op r` with a decimal side: DECIMAL op DECIMAL (after [`crate::expr::decimal_operands`]) has Spark's
/// result type and is computed exactly; with a double it is a double. None when the operands
/// are not numbers (the caller reports the mismatch).
fn decimal_arithmetic(bop: BinaryOp, l: Expr, r: Expr) -> Result<Option<Expr>> {
    use crate::types::decimal::{result_type, Op};
    let Some((l, r)) = crate::expr::decimal_operands(l, r) else { return Ok(None) };
    Ok(match (l.data_type(), r.data_type()) {
        (DataType::Decimal(p1, s1), DataType::Decimal(p2, s2)) => {
            let op = match bop {
                BinaryOp::Add => Op::Add,
                BinaryOp::Subtract => Op::Subtract,
                BinaryOp::Multiply => Op::Multiply,
                BinaryOp::Divide => Op::Divide,
                BinaryOp::Modulo => Op::Remainder,
                _ => return Ok(None),
            };
            let (p, s) = result_type(op, (p1, s1), (p2, s2));
            Some(Expr::binary(bop, l, r, DataType::Decimal(p, s)))
        }
        (DataType::Double, DataType::Double) => Some(Expr::binary(bop, l, r, DataType::Double)),
        _ => None,
    })
}

/// Spark's typed numeric literals `10L` (BIGINT), `10S`/`10Y` (SMALLINT/TINYINT, here INT) and
/// `1.5D` (DOUBLE), which the tokenizer hands over as identifiers.
pub(super) fn suffixed_number(i: &ast::Ident) -> Option<Value> {
    if i.quote_style.is_some() || i.value.len() < 2 {
        return None;
    }
    let (body, suffix) = i.value.split_at(i.value.len() - 1);
    if !body.starts_with(|c: char| c.is_ascii_digit()) {
        return None;
    }
    if let Some(digits) = i.value.strip_suffix("BD").or_else(|| i.value.strip_suffix("bd")) {
        return decimal_literal(digits);
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
pub(super) fn add_interval(ts: Expr, interval: Interval) -> Result<Expr> {
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

pub(super) fn call(func: Func, args: Vec<Expr>) -> Result<Expr> {
    // The SQL-standard forms (`SUBSTRING(b FROM 2)`, `OVERLAY(...)`) take BINARY forms too.
    let func = func.for_args(&args);
    let (args, data_type) = func.check(args)?;
    Ok(Expr::Call { func, args, data_type })
}

/// A duration written as a literal (`'10 seconds'` or `INTERVAL 10 SECONDS`), in microseconds;
/// None when `e` is not a literal. Months have no fixed length, so they are refused.
pub(super) fn duration_literal(e: &ast::Expr) -> Option<Result<i64>> {
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

/// Visits every function call in `e`, outermost first, with an explicit stack (operator chains
/// are as deep as they are long).
pub(super) fn walk_functions<'e>(e: &'e ast::Expr, visit: &mut dyn FnMut(&'e ast::Function)) {
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
            // Spark's functions the parser gives a syntax of their own (`substring(x, 1, 2)`,
            // `trim(...)`, `x IN (...)`, ...): their operands, left to right.
            E::IsTrue(x) | E::IsNotTrue(x) | E::IsFalse(x) | E::IsNotFalse(x) | E::IsUnknown(x) | E::IsNotUnknown(x) => todo.push(x),
            E::Extract { expr, .. } | E::Ceil { expr, .. } | E::Floor { expr, .. } => todo.push(expr),
            E::IsDistinctFrom(a, b) | E::IsNotDistinctFrom(a, b) | E::Position { expr: a, r#in: b } => {
                todo.push(b);
                todo.push(a);
            }
            E::AtTimeZone { timestamp, time_zone } => {
                todo.push(time_zone);
                todo.push(timestamp);
            }
            E::Like { expr, pattern, .. } | E::ILike { expr, pattern, .. } | E::RLike { expr, pattern, .. } => {
                todo.push(pattern);
                todo.push(expr);
            }
            E::InList { expr, list, .. } => {
                todo.extend(list.iter().rev());
                todo.push(expr);
            }
            E::Between { expr, low, high, .. } => {
                todo.push(high);
                todo.push(low);
                todo.push(expr);
            }
            E::Substring { expr, substring_from, substring_for, .. } => {
                todo.extend(substring_for.as_deref());
                todo.extend(substring_from.as_deref());
                todo.push(expr);
            }
            E::Trim { expr, trim_what, trim_characters, .. } => {
                todo.extend(trim_characters.iter().flatten().rev());
                todo.push(expr);
                todo.extend(trim_what.as_deref());
            }
            E::Overlay { expr, overlay_what, overlay_from, overlay_for } => {
                todo.extend(overlay_for.as_deref());
                todo.push(overlay_from);
                todo.push(overlay_what);
                todo.push(expr);
            }
            _ => {}
        }
    }
}

/// `v[i]`: an array's element (0-based), a map's value for a key, a struct's field by name.
fn subscript(v: Expr, idx: Expr, at: &ast::Expr) -> Result<Expr> {
    match v.data_type() {
        DataType::Array(inner) => {
            if !idx.data_type().is_integral() && idx.data_type() != DataType::Null {
                return Err(Error::type_mismatch(format!(
                    "[DATATYPE_MISMATCH.UNEXPECTED_INPUT_TYPE] Cannot resolve \"{}\" due to data type mismatch: an array index must be an INT, not \"{}\". SQLSTATE: 42K09",
                    spark_sql(at),
                    idx.data_type().spark_name()
                )));
            }
            Ok(Expr::Index { expr: Box::new(v), index: Box::new(idx.cast_to(&DataType::Int)), data_type: *inner })
        }
        DataType::Map(_, _) => call(Func::MapValueAt, vec![v, idx]),
        DataType::Struct(_) | DataType::Window => match &idx {
            Expr::Literal(Value::String(name)) => field_access(v, name, expr_position(at)),
            _ => Err(Error::type_mismatch("a struct field is chosen by a string literal: s['field']").at(expr_position(at))),
        },
        other => Err(Error::type_mismatch(format!(
            "[INVALID_EXTRACT_BASE_FIELD_TYPE] Can't extract a value from \"{}\". Need a complex type [STRUCT, ARRAY, MAP] but got \"{}\". SQLSTATE: 42000",
            other.spark_name(),
            other.spark_name()
        ))),
    }
}

pub(super) fn field_access(v: Expr, field: &str, pos: Option<Position>) -> Result<Expr> {
    let t = v.data_type();
    let Some(fields) = t.struct_fields() else {
        return Err(Error::new(ErrorKind::UnknownColumn, format!("[INVALID_EXTRACT_BASE_FIELD_TYPE] Can't extract a value from \"{}\". Need a complex type [STRUCT, ARRAY, MAP] but got \"{}\". SQLSTATE: 42000", t.spark_name(), t.spark_name())).at(pos));
    };
    // Spark matches field names regardless of case (spark.sql.caseSensitive is off).
    let Some(index) = fields.iter().position(|(n, _)| n.eq_ignore_ascii_case(field)) else {
        let names = fields.iter().map(|(n, _)| format!("`{n}`")).collect::<Vec<_>>().join(", ");
        return Err(Error::new(
            ErrorKind::UnknownColumn,
            format!("[FIELD_NOT_FOUND] No such struct field `{field}` in {names}. SQLSTATE: 42704"),
        )
        .with_condition("FIELD_NOT_FOUND")
        .at(pos));
    };
    Ok(Expr::Field { expr: Box::new(v), index })
}

/// A decimal literal (`1.5BD`): Java's BigDecimal of the digits, typed DECIMAL(max(digits,
/// scale), scale) as Spark types it (`0.05BD` is DECIMAL(2,2)). An exponent is refused (Spark
/// would give a negative scale).
pub(super) fn decimal_literal(digits: &str) -> Option<Value> {
    let (int, frac) = digits.split_once('.').unwrap_or((digits, ""));
    if (int.is_empty() && frac.is_empty()) || !int.bytes().chain(frac.bytes()).all(|b| b.is_ascii_digit()) {
        return None;
    }
    let all = format!("{int}{frac}");
    let significant = all.trim_start_matches('0');
    let scale = frac.len();
    let precision = significant.len().max(scale).max(1);
    if precision > usize::from(crate::types::decimal::MAX_PRECISION) {
        return None;
    }
    let unscaled: i128 = if significant.is_empty() { 0 } else { significant.parse().ok()? };
    Some(Value::Decimal { unscaled, precision: precision as u8, scale: scale as u8 })
}

/// The digits of a number literal written without a type suffix.
fn unsuffixed_number(e: &ast::Expr) -> Option<&str> {
    match e {
        ast::Expr::Value(v) => match &v.value {
            ast::Value::Number(n, false) => Some(n.as_str()),
            _ => None,
        },
        _ => None,
    }
}

pub(super) fn literal(v: &ast::Value) -> Result<Expr, String> {
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
            } else if let Some(d) = n.bytes().all(|b| b.is_ascii_digit() || b == b'.').then(|| decimal_literal(n)).flatten() {
                // An integer past BIGINT is a DECIMAL(digits, 0) in Spark, and `1.5` a DECIMAL(2, 1).
                d
            } else {
                Value::Double(n.parse().map_err(|_| format!("'{n}' is not a number"))?)
            }
        }
        ast::Value::SingleQuotedString(s) | ast::Value::DoubleQuotedString(s) => Value::String(s.clone()),
        ast::Value::Boolean(b) => Value::Boolean(*b),
        ast::Value::Null => Value::Null,
        ast::Value::HexStringLiteral(h) => {
            Value::Binary(hex_literal(h).ok_or_else(|| {
                format!("[INVALID_TYPED_LITERAL] The value of the typed literal \"X\" is invalid: '{h}'. SQLSTATE: 42604")
            })?)
        }
        other => return Err(format!("the literal {other} is not supported")),
    }))
}

/// The bytes of `X'0AFF'`; an odd number of digits has a leading zero, as in Spark.
fn hex_literal(h: &str) -> Option<Vec<u8>> {
    let padded = if h.len() % 2 == 1 { format!("0{h}") } else { h.to_string() };
    (0..padded.len()).step_by(2).map(|i| padded.get(i..i + 2).and_then(|b| u8::from_str_radix(b, 16).ok())).collect()
}

pub(super) fn interval_literal(iv: &ast::Interval) -> Result<Interval> {
    let value = match iv.value.as_ref() {
        ast::Expr::Value(v) => match &v.value {
            ast::Value::Number(n, _) => n.clone(),
            ast::Value::SingleQuotedString(s) => s.clone(),
            other => return Err(Error::parse(format!("invalid interval value {other}"), position_of(v.span))),
        },
        ast::Expr::UnaryOp { op: ast::UnaryOperator::Minus, expr } => match expr.as_ref() {
            // `INTERVAL -'100' YEAR`: the sign outside the quotes.
            ast::Expr::Value(v) => match &v.value {
                ast::Value::SingleQuotedString(s) => format!("-{s}"),
                other => format!("-{other}"),
            },
            other => format!("-{other}"),
        },
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

pub(super) fn sql_type(t: &ast::DataType) -> Result<DataType> {
    use ast::DataType as D;
    Ok(match t {
        D::Int(_) | D::Integer(_) | D::Int32 => DataType::Int,
        D::BigInt(_) | D::Int64 => DataType::BigInt,
        D::Double(_) | D::DoublePrecision | D::Float(_) | D::Real | D::Float64 | D::Float8 => DataType::Double,
        D::String(_) | D::Varchar(_) | D::Text | D::Char(_) => DataType::String,
        D::Boolean | D::Bool => DataType::Boolean,
        D::Timestamp(_, _) | D::Datetime(_) => DataType::Timestamp,
        D::Date => DataType::Date,
        D::Decimal(info) | D::Numeric(info) | D::Dec(info) => {
            let (p, s) = match info {
                ast::ExactNumberInfo::None => (10, 0),
                ast::ExactNumberInfo::Precision(p) => (*p, 0),
                ast::ExactNumberInfo::PrecisionAndScale(p, s) => (*p, u64::try_from(*s).map_err(|_| Error::unsupported("a negative decimal scale is not supported"))?),
            };
            let p = u32::try_from(p).unwrap_or(u32::MAX);
            let s = u32::try_from(s).unwrap_or(u32::MAX);
            crate::types::ddl::decimal_type(p, s).map_err(Error::type_mismatch)?
        }
        D::Binary(_) | D::Varbinary(_) | D::Bytea | D::Blob(_) => DataType::Binary,
        D::Custom(name, _) if name.to_string().eq_ignore_ascii_case("long") => DataType::BigInt,
        D::Array(ast::ArrayElemTypeDef::AngleBracket(inner) | ast::ArrayElemTypeDef::SquareBracket(inner, _)) => {
            DataType::Array(Box::new(sql_type(inner)?))
        }
        D::Map(k, v, _) => DataType::Map(Box::new(sql_type(k)?), Box::new(sql_type(v)?)),
        D::Struct(fields, _) => DataType::Struct(
            fields
                .iter()
                .enumerate()
                .map(|(i, f)| {
                    let name = f.field_name.as_ref().map_or_else(|| format!("col{}", i + 1), |n| n.value.clone());
                    Ok((name, sql_type(&f.field_type)?))
                })
                .collect::<Result<Vec<_>>>()?,
        ),
        other => {
            return Err(Error::unsupported(format!(
                "the type {other} is not supported; use STRING, INT, BIGINT, DOUBLE, BOOLEAN, TIMESTAMP, DATE, BINARY, ARRAY<T>, MAP<K, V> or STRUCT<...>"
            )))
        }
    })
}

pub(super) fn boolean_operand(e: Expr, at: &ast::Expr) -> Result<Expr> {
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

pub(super) fn unary_mismatch(op: &str, e: &Expr, at: &ast::Expr) -> Error {
    Error::type_mismatch(format!(
        "[DATATYPE_MISMATCH.UNEXPECTED_INPUT_TYPE] `{op}` needs a numeric operand, but \"{}\" has the type \"{}\". SQLSTATE: 42K09",
        spark_sql(at),
        e.data_type().spark_name()
    ))
}

/// `isnull`, `isnotnull`, `equal_null`, `nvl2`, `zeroifnull` and `nullifzero`: Spark's functions
/// for what IS NULL, `<=>`, CASE and `nullif` say, rewritten into those expressions.
fn null_function(name: &str, mut args: Vec<Expr>, whole: &ast::Expr, pos: Option<Position>) -> Result<Expr> {
    let want = match name {
        "isnull" | "isnotnull" | "zeroifnull" | "nullifzero" => 1,
        "equal_null" => 2,
        _ => 3,
    };
    if args.len() != want {
        return Err(Error::type_mismatch(format!(
            "[WRONG_NUM_ARGS.WITHOUT_SUGGESTION] The `{name}` requires {want} parameters but the actual number is {}. SQLSTATE: 42605",
            args.len()
        ))
        .at(pos));
    }
    let mismatch = |a: &DataType, b: &DataType| {
        Error::type_mismatch(format!("the arguments of `{}` have incompatible types {a} and {b}", spark_sql(whole))).at(pos)
    };
    let last = args.pop().unwrap_or(Expr::Literal(Value::Null));
    Ok(match name {
        "isnull" => Expr::IsNull(Box::new(last)),
        "isnotnull" => Expr::IsNotNull(Box::new(last)),
        "equal_null" => {
            let a = args.pop().unwrap_or(Expr::Literal(Value::Null));
            compare(BinaryOp::NullSafeEq, a, last, whole).map_err(|e| e.at(pos))?
        }
        "zeroifnull" => {
            let t = wider_type(&last.data_type(), &DataType::Int).ok_or_else(|| mismatch(&last.data_type(), &DataType::Int))?;
            Expr::Case {
                branches: vec![(Expr::IsNull(Box::new(last.clone())), Expr::Literal(Value::Int(0)).cast_to(&t))],
                otherwise: Some(Box::new(last.cast_to(&t))),
                data_type: t,
            }
        }
        "nullifzero" => {
            let t = last.data_type();
            let zero = compare(BinaryOp::Eq, last.clone(), Expr::Literal(Value::Int(0)), whole).map_err(|e| e.at(pos))?;
            Expr::Case { branches: vec![(zero, Expr::Literal(Value::Null).cast_to(&t))], otherwise: Some(Box::new(last)), data_type: t }
        }
        _ => {
            let then = args.pop().unwrap_or(Expr::Literal(Value::Null));
            let test = args.pop().unwrap_or(Expr::Literal(Value::Null));
            let t = wider_type(&then.data_type(), &last.data_type()).ok_or_else(|| mismatch(&then.data_type(), &last.data_type()))?;
            Expr::Case {
                branches: vec![(Expr::IsNotNull(Box::new(test)), then.cast_to(&t))],
                otherwise: Some(Box::new(last.cast_to(&t))),
                data_type: t,
            }
        }
    })
}

/// The type two sides of a comparison meet at: Spark casts a string to the other side's type.
pub(super) fn comparison_type(a: &DataType, b: &DataType) -> Option<DataType> {
    match (a, b) {
        (DataType::String, t) | (t, DataType::String)
            if matches!(t, DataType::Int | DataType::BigInt | DataType::Double | DataType::Timestamp | DataType::Boolean) =>
        {
            Some(if t.is_integral() { DataType::BigInt } else { t.clone() })
        }
        _ => wider_type(a, b),
    }
}

pub(super) fn compare_mismatch(at: &ast::Expr, a: &DataType, b: &DataType) -> Error {
    Error::type_mismatch(format!(
        "[DATATYPE_MISMATCH.BINARY_OP_DIFF_TYPES] Cannot resolve \"{}\" due to data type mismatch: the left and right operands of the binary operator have incompatible types (\"{}\" and \"{}\"). SQLSTATE: 42K09",
        spark_sql(at),
        a.spark_name(),
        b.spark_name()
    ))
    .with_condition("DATATYPE_MISMATCH.BINARY_OP_DIFF_TYPES")
}

pub(super) fn compare(op: BinaryOp, l: Expr, r: Expr, at: &ast::Expr) -> Result<Expr> {
    let (l, r) = match (l.data_type().decimal(), r.data_type().decimal()) {
        (None, None) => (l, r),
        _ => crate::expr::decimal_operands(l.clone(), r.clone()).unwrap_or((l, r)),
    };
    let (lt, rt) = (l.data_type(), r.data_type());
    let nested = |t: &DataType| matches!(t, DataType::Array(_) | DataType::Window | DataType::Struct(_) | DataType::Map(_, _));
    if (nested(&lt) || nested(&rt)) && lt != rt && wider_type(&lt, &rt).is_none() {
        return Err(compare_mismatch(at, &lt, &rt));
    }
    fn has_map(t: &DataType) -> bool {
        match t {
            DataType::Map(_, _) => true,
            DataType::Array(inner) => has_map(inner),
            DataType::Struct(fields) => fields.iter().any(|(_, t)| has_map(t)),
            _ => false,
        }
    }
    if has_map(&lt) || has_map(&rt) {
        return Err(Error::type_mismatch(format!(
            "[DATATYPE_MISMATCH.INVALID_ORDERING_TYPE] Cannot resolve \"{}\" due to data type mismatch: The `{}` does not support ordering on type \"{}\". SQLSTATE: 42K09",
            spark_sql(at),
            op.symbol(),
            lt.spark_name()
        ))
        .with_condition("DATATYPE_MISMATCH.INVALID_ORDERING_TYPE"));
    }
    let t = comparison_type(&lt, &rt).ok_or_else(|| compare_mismatch(at, &lt, &rt))?;
    let t = if t == DataType::Null { DataType::Boolean } else { t };
    Ok(Expr::binary(op, l.cast_to(&t), r.cast_to(&t), DataType::Boolean))
}

/// The function a `date_part` field names (Spark's spellings, any case).
/// A field of a constant interval, as Spark's EXTRACT gives it: YEAR and MONTH of a year-month
/// interval; DAY, HOUR, MINUTE and SECOND (with its fraction) of a day-time one. Spark types
/// HOUR, MINUTE and MONTH as TINYINT and SECOND as DECIMAL(8, 6); here they are INT and DOUBLE.
fn interval_field(func: Func, iv: &ast::Interval, field: &str) -> Result<Expr> {
    let interval = interval_literal(iv)?;
    let year_month = interval.months != 0
        || matches!(
            iv.leading_field,
            Some(ast::DateTimeField::Year | ast::DateTimeField::Years | ast::DateTimeField::Month | ast::DateTimeField::Months)
        );
    if year_month && interval.micros != 0 {
        return Err(Error::unsupported("an interval of both months and days or time is not supported"));
    }
    const MINUTE: i64 = 60_000_000;
    let v = match (year_month, func) {
        (true, Func::Year) => Value::Int(interval.months / 12),
        (true, Func::Month) => Value::Int(interval.months % 12),
        (false, Func::DayOfMonth) => Value::Int((interval.micros / (1440 * MINUTE)) as i32),
        (false, Func::Hour) => Value::Int((interval.micros / (60 * MINUTE) % 24) as i32),
        (false, Func::Minute) => Value::Int((interval.micros / MINUTE % 60) as i32),
        (false, Func::SecondWithFraction) => Value::Double((interval.micros % MINUTE) as f64 / 1e6),
        _ => {
            let kind = if year_month { "INTERVAL YEAR TO MONTH" } else { "INTERVAL DAY TO SECOND" };
            return Err(Error::type_mismatch(format!(
                "[INVALID_EXTRACT_FIELD] Cannot extract {} from \"{kind}\". SQLSTATE: 42601",
                field.to_ascii_uppercase()
            ))
            .with_condition("INVALID_EXTRACT_FIELD"));
        }
    };
    Ok(Expr::Literal(v))
}

fn date_part_func(field: &str) -> Option<Func> {
    Some(match field.to_ascii_uppercase().as_str() {
        "YEAR" | "Y" | "YEARS" | "YR" | "YRS" => Func::Year,
        "QUARTER" | "QTR" => Func::Quarter,
        "MONTH" | "MON" | "MONS" | "MONTHS" => Func::Month,
        "WEEK" | "W" | "WEEKS" => Func::WeekOfYear,
        "DAY" | "D" | "DAYS" => Func::DayOfMonth,
        "DAYOFWEEK" | "DOW" => Func::DayOfWeek,
        "DOY" => Func::DayOfYear,
        "HOUR" | "H" | "HOURS" | "HR" | "HRS" => Func::Hour,
        "MINUTE" | "M" | "MIN" | "MINS" | "MINUTES" => Func::Minute,
        "SECOND" | "S" | "SEC" | "SECONDS" | "SECS" => Func::SecondWithFraction,
        _ => return None,
    })
}
