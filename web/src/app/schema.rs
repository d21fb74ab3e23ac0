//! The schema panel: the sources and static tables with their columns and types, and an editor
//! to add or change a source, a column, or a static table's rows.

use web_sys::{HtmlInputElement, HtmlTextAreaElement};
use yew::prelude::*;

use super::paste::parse_pasted;
use crate::protocol::{ColumnInfo, RelationDef, RelationInfo, Request};

/// `device string, temp double` as (name, type) pairs; the engine checks the types.
pub fn parse_columns(text: &str) -> Result<Vec<(String, String)>, String> {
    let mut out = Vec::new();
    for (k, part) in text.split(',').enumerate() {
        let words: Vec<&str> = part.split_whitespace().collect();
        match words.as_slice() {
            [name, ty] => out.push((name.to_string(), ty.to_ascii_lowercase())),
            [] if text.trim().is_empty() => return Err("a relation needs at least one column: `name type, ...`".into()),
            _ => return Err(format!("column {}: write `name type`, as in `ts timestamp` (found `{}`)", k + 1, part.trim())),
        }
    }
    Ok(out)
}

fn columns_text(columns: &[ColumnInfo]) -> String {
    columns.iter().map(|c| format!("{} {}", c.name, c.data_type)).collect::<Vec<_>>().join(", ")
}

/// One relation being edited: its name, its columns as text and (tables) its rows as text.
#[derive(Clone, PartialEq)]
struct Draft {
    table: bool,
    name: String,
    columns: String,
    rows: String,
}

impl Draft {
    fn of(r: &RelationInfo, table: bool) -> Draft {
        let rows = r.table_rows.iter().map(|row| row.to_string()).collect::<Vec<_>>().join("\n");
        Draft { table, name: r.name.clone(), columns: columns_text(&r.columns), rows }
    }

    fn to_def(&self) -> Result<RelationDef, String> {
        let name = self.name.trim().to_string();
        if name.is_empty() {
            return Err("every source and table needs a name".into());
        }
        let columns = parse_columns(&self.columns).map_err(|e| format!("`{name}`: {e}"))?;
        let infos: Vec<ColumnInfo> = columns.iter().map(|(n, t)| ColumnInfo { name: n.clone(), data_type: t.clone() }).collect();
        let rows = if self.table && !self.rows.trim().is_empty() {
            parse_pasted(&self.rows, &infos).map_err(|e| format!("`{name}` rows, {e}"))?
        } else {
            Vec::new()
        };
        Ok(RelationDef { name, columns, rows })
    }
}

#[derive(Properties, PartialEq)]
pub struct Props {
    pub sources: Vec<RelationInfo>,
    pub tables: Vec<RelationInfo>,
    pub send: Callback<Request>,
}

#[function_component(SchemaPanel)]
pub fn schema_panel(props: &Props) -> Html {
    let editing = use_state(|| None::<Vec<Draft>>);
    let error = use_state(|| None::<String>);
    let Some(drafts) = (*editing).clone() else {
        let edit = {
            let (editing, sources, tables) = (editing.clone(), props.sources.clone(), props.tables.clone());
            Callback::from(move |_: MouseEvent| {
                editing.set(Some(sources.iter().map(|s| Draft::of(s, false)).chain(tables.iter().map(|t| Draft::of(t, true))).collect()))
            })
        };
        return html! {
            <div id="schema">
                { for props.sources.iter().map(|s| html! {
                    <div class="relation source">
                        <strong>{ &s.name }</strong>{ match s.kind.as_str() { "kafka" => " (Kafka topic) ", "auto_loader" => " (Auto Loader folder) ", "rate" => " (rate source: rows from the trigger's clock) ", _ => " (stream) " } }
                        <span class="muted">{ {
                            // A topic holds messages; its waiting ones are its lag.
                            let what = match s.kind.as_str() { "kafka" => "messages", "auto_loader" => "files", _ => "events" };
                            if s.kind == "rate" {
                                String::new()
                            } else if s.read {
                                format!("{} {what}, {} waiting", s.rows, s.pending)
                            } else {
                                format!("{} {what}, not read by the query", s.rows)
                            }
                        } }
                            { if s.queued > 0 { format!(", {} queued", s.queued) } else { String::new() } }</span>
                        <ul>{ for s.columns.iter().map(|c| html! { <li><code>{ &c.name }</code>{" "}<span class="type">{ &c.data_type }</span></li> }) }</ul>
                    </div>
                }) }
                { for props.tables.iter().map(|t| html! {
                    <div class="relation table">
                        <strong>{ &t.name }</strong>{" (static table) "}
                        <span class="muted">{ format!("{} rows", t.rows) }</span>
                        <ul>{ for t.columns.iter().map(|c| html! { <li><code>{ &c.name }</code>{" "}<span class="type">{ &c.data_type }</span></li> }) }</ul>
                    </div>
                }) }
                <button id="edit-schema" onclick={edit}>{"Edit sources and tables"}</button>
            </div>
        };
    };
    let update = |k: usize, f: fn(&mut Draft, String)| {
        let editing = editing.clone();
        move |value: String| {
            if let Some(mut d) = (*editing).clone() {
                if let Some(draft) = d.get_mut(k) {
                    f(draft, value);
                }
                editing.set(Some(d));
            }
        }
    };
    let add = |table: bool| {
        let editing = editing.clone();
        Callback::from(move |_: MouseEvent| {
            let mut d = (*editing).clone().unwrap_or_default();
            let name = if table { format!("table{}", d.len() + 1) } else { format!("source{}", d.len() + 1) };
            d.push(Draft { table, name, columns: "id string, ts timestamp".into(), rows: String::new() });
            editing.set(Some(d));
        })
    };
    let apply = {
        let (editing, error, send, drafts) = (editing.clone(), error.clone(), props.send.clone(), drafts.clone());
        Callback::from(move |e: SubmitEvent| {
            e.prevent_default();
            let defs: Result<Vec<(bool, RelationDef)>, String> = drafts.iter().map(|d| d.to_def().map(|def| (d.table, def))).collect();
            match defs {
                Ok(defs) => {
                    let (tables, sources): (Vec<_>, Vec<_>) = defs.into_iter().partition(|(t, _)| *t);
                    send.emit(Request::SetRelations {
                        sources: sources.into_iter().map(|(_, d)| d).collect(),
                        tables: tables.into_iter().map(|(_, d)| d).collect(),
                    });
                    error.set(None);
                    editing.set(None);
                }
                Err(e) => error.set(Some(e)),
            }
        })
    };
    html! {
        <form id="schema" class="schema-editor" onsubmit={apply}>
            { for drafts.iter().enumerate().map(|(k, d)| {
                let on_name = update(k, |d, v| d.name = v);
                let on_columns = update(k, |d, v| d.columns = v);
                let on_rows = update(k, |d, v| d.rows = v);
                let remove = {
                    let editing = editing.clone();
                    Callback::from(move |_: MouseEvent| {
                        if let Some(mut d) = (*editing).clone() {
                            d.remove(k);
                            editing.set(Some(d));
                        }
                    })
                };
                html! {
                    <fieldset class="relation-draft">
                        <legend>{ if d.table { "static table" } else { "stream source" } }</legend>
                        <input class="draft-name" aria-label="name" value={d.name.clone()}
                            oninput={Callback::from(move |e: InputEvent| on_name(e.target_unchecked_into::<HtmlInputElement>().value()))} />
                        <input class="draft-columns" aria-label="columns: name type, ..." value={d.columns.clone()}
                            oninput={Callback::from(move |e: InputEvent| on_columns(e.target_unchecked_into::<HtmlInputElement>().value()))} />
                        if d.table {
                            <textarea class="draft-rows" rows="3" aria-label="rows, as CSV or JSON lines" value={d.rows.clone()}
                                oninput={Callback::from(move |e: InputEvent| on_rows(e.target_unchecked_into::<HtmlTextAreaElement>().value()))} />
                        }
                        <button type="button" class="remove" onclick={remove}>{"Remove"}</button>
                    </fieldset>
                }
            }) }
            if let Some(e) = &*error { <div id="schema-error" class="error" role="alert">{ e }</div> }
            <p class="muted">{"Types: string, int, bigint, double, boolean, timestamp. Changing a source's columns removes its events; the query starts over."}</p>
            <div class="row">
                <button type="button" id="add-source" onclick={add(false)}>{"Add source"}</button>
                <button type="button" id="add-table" onclick={add(true)}>{"Add table"}</button>
                <button type="submit" id="apply-schema" class="primary">{"Apply"}</button>
                <button type="button" onclick={let editing = editing.clone(); Callback::from(move |_: MouseEvent| editing.set(None))}>{"Cancel"}</button>
            </div>
        </form>
    }
}

#[cfg(test)]
mod tests {
    use super::parse_columns;

    #[test]
    fn columns_are_name_type_pairs() {
        assert_eq!(
            parse_columns("id string, TS Timestamp").unwrap(),
            vec![("id".into(), "string".into()), ("TS".into(), "timestamp".into())]
        );
        assert_eq!(parse_columns("id").unwrap_err(), "column 1: write `name type`, as in `ts timestamp` (found `id`)");
    }
}
