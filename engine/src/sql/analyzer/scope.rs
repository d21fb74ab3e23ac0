//! Scopes: the columns an expression can see, and resolving a (qualified) name to one.

use super::*;

/// A column visible to expressions: its qualifier (table name or alias), name and type.
#[derive(Debug, Clone)]
pub(super) struct ScopeColumn {
    pub(super) qualifier: Option<String>,
    pub(super) name: String,
    pub(super) data_type: DataType,
}

#[derive(Debug, Clone, Default)]
pub(super) struct Scope {
    pub(super) columns: Vec<ScopeColumn>,
}

impl Scope {
    pub(super) fn from_schema(schema: &Schema, qualifier: Option<&str>) -> Scope {
        Scope {
            columns: schema
                .columns
                .iter()
                .map(|c| ScopeColumn { qualifier: qualifier.map(str::to_string), name: c.name.clone(), data_type: c.data_type.clone() })
                .collect(),
        }
    }

    pub(super) fn requalify(mut self, qualifier: Option<&str>) -> Scope {
        for c in &mut self.columns {
            c.qualifier = qualifier.map(str::to_string);
        }
        self
    }
}

impl<'a> Analyzer<'a> {
    pub(super) fn resolve_column(&self, parts: &[ast::Ident], scope: &Scope) -> Result<Expr> {
        let pos = position_of(parts[0].span);
        // A lambda's variables shadow the columns.
        if let Some(mut v) = self.lambda_var(&parts[0].value) {
            for f in &parts[1..] {
                v = field_access(v, &f.value, position_of(f.span).or(pos))?;
            }
            return Ok(v);
        }
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
        // Try `col`, then `qualifier.col`, then `col.field...`, then `qualifier.col.field...`.
        let mut attempts: Vec<(Option<&str>, &str, &[ast::Ident])> = Vec::new();
        match parts {
            [c] => attempts.push((None, &c.value, &[])),
            [a, b] => {
                attempts.push((Some(&a.value), &b.value, &[]));
                attempts.push((None, &a.value, &parts[1..]));
            }
            [a, b, ..] => {
                attempts.push((Some(&a.value), &b.value, &parts[2..]));
                attempts.push((None, &a.value, &parts[1..]));
            }
            _ => {}
        }
        for (q, name, fields) in attempts {
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
                let mut col = Expr::column(k, scope.columns[k].data_type.clone());
                for f in fields {
                    col = field_access(col, &f.value, position_of(f.span).or(pos))?;
                }
                return Ok(col);
            }
        }
        if let [one] = parts {
            if let Some(t) = typed_number_suffix(&one.value) {
                // The tokenizer reads `1.0F` as a name: it is Spark's literal of a type the engine lacks.
                return Err(Error::new(
                    ErrorKind::Parse,
                    format!(
                        "the {t} literal `{}` is not supported by this version of Unbounded yet; write it as a DOUBLE (`1.0D`) or INT",
                        one.value
                    ),
                )
                .at(pos));
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
}

/// The type a Spark number literal's suffix names (`1.0F`, `2S`, `3Y`, `4.5BD`), when the text is one.
fn typed_number_suffix(text: &str) -> Option<&'static str> {
    let upper = text.to_ascii_uppercase();
    let (digits, t) = [("BD", "DECIMAL"), ("F", "FLOAT"), ("S", "SMALLINT"), ("Y", "TINYINT")]
        .iter()
        .find_map(|(suffix, t)| upper.strip_suffix(suffix).map(|d| (d.to_string(), *t)))?;
    let number = !digits.is_empty() && digits.starts_with(|c: char| c.is_ascii_digit() || c == '.') && digits.parse::<f64>().is_ok();
    number.then_some(t)
}

pub(super) fn column_list(scope: &Scope) -> String {
    format!("[{}]", scope.columns.iter().map(|c| quote(&c.name)).collect::<Vec<_>>().join(", "))
}
