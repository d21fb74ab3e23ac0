//! Joins: stream-static and stream-stream, their keys, the time-range condition and its bounds.

use super::*;

impl<'a> Analyzer<'a> {
    pub(super) fn join(
        &mut self,
        left: (LogicalPlan, Scope),
        right: (LogicalPlan, Scope),
        join: &ast::Join,
    ) -> Result<(LogicalPlan, Scope)> {
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
    pub(super) fn stream_join(
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
}

/// If `c` compares the two event times (`r >= l + INTERVAL ..`, mirrored forms too), the
/// comparison as `right - left OP bound`.
pub(super) fn time_bound(c: &Expr, left_time: usize, right_time: usize) -> Option<(BinaryOp, i64)> {
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
