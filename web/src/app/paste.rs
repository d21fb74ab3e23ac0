//! Several events at once: pasted as CSV (with or without a header) or JSON lines (arrays in
//! schema order, or objects by column name). Values that do not fit their column are sent as
//! they are: the engine routes them to the dead-letter output with the reason.

use serde_json::Value as Json;
use web_sys::{HtmlSelectElement, HtmlTextAreaElement};
use yew::prelude::*;

use super::event_form::typed_value;
use crate::protocol::{ColumnInfo, RelationInfo, Request};

/// The most text one paste adds: every event stays in the session, its saved copy and its
/// exports, so one paste must not be able to fill the tab.
pub const MAX_PASTE_BYTES: usize = 1024 * 1024;

/// One CSV line's fields: commas separate, double quotes quote (`""` is a quote).
fn csv_fields(line: &str) -> Result<Vec<String>, String> {
    let mut fields = Vec::new();
    let mut field = String::new();
    let mut quoted = false;
    let mut chars = line.chars().peekable();
    while let Some(c) = chars.next() {
        match (c, quoted) {
            ('"', true) if chars.peek() == Some(&'"') => {
                chars.next();
                field.push('"');
            }
            ('"', true) => quoted = false,
            ('"', false) if field.trim().is_empty() => {
                field.clear();
                quoted = true;
            }
            (',', false) => fields.push(std::mem::take(&mut field).trim().to_string()),
            (c, _) => field.push(c),
        }
    }
    if quoted {
        return Err("a quoted value is not closed".into());
    }
    fields.push(field.trim().to_string());
    Ok(fields)
}

fn row_from_object(o: &serde_json::Map<String, Json>, columns: &[ColumnInfo]) -> Result<Json, String> {
    if let Some(unknown) = o.keys().find(|k| !columns.iter().any(|c| c.name.eq_ignore_ascii_case(k))) {
        let names: Vec<&str> = columns.iter().map(|c| c.name.as_str()).collect();
        return Err(format!("there is no column `{unknown}` (the columns are {})", names.join(", ")));
    }
    let value = |c: &ColumnInfo| o.iter().find(|(k, _)| k.eq_ignore_ascii_case(&c.name)).map(|(_, v)| v.clone()).unwrap_or(Json::Null);
    Ok(Json::Array(columns.iter().map(value).collect()))
}

fn row_from_json(v: Json, columns: &[ColumnInfo]) -> Result<Json, String> {
    match v {
        Json::Array(values) if values.len() == columns.len() => Ok(Json::Array(values)),
        Json::Array(values) => Err(format!("{} values, but the source has {} columns", values.len(), columns.len())),
        Json::Object(o) => row_from_object(&o, columns),
        other => Err(format!("expected an array or an object, found {other}")),
    }
}

/// The rows in `text`, in schema order, or an error naming the line.
pub fn parse_pasted(text: &str, columns: &[ColumnInfo]) -> Result<Vec<Json>, String> {
    if text.len() > MAX_PASTE_BYTES {
        return Err(format!(
            "the pasted text is {} KiB, more than the {} KiB added at once: paste it in parts",
            text.len().div_ceil(1024),
            MAX_PASTE_BYTES / 1024
        ));
    }
    let trimmed = text.trim();
    if trimmed.is_empty() {
        return Err("paste rows first: CSV lines, or JSON lines".into());
    }
    if trimmed.starts_with('[') || trimmed.starts_with('{') {
        // One JSON array of rows, or one JSON value per line.
        if let Ok(Json::Array(all)) = serde_json::from_str::<Json>(trimmed) {
            if all.iter().all(|r| r.is_array() || r.is_object()) {
                return all
                    .into_iter()
                    .enumerate()
                    .map(|(k, r)| row_from_json(r, columns).map_err(|e| format!("row {}: {e}", k + 1)))
                    .collect();
            }
        }
        return text
            .lines()
            .enumerate()
            .filter(|(_, l)| !l.trim().is_empty())
            .map(|(k, l)| {
                let v: Json = serde_json::from_str(l.trim()).map_err(|e| format!("line {}: not JSON ({e})", k + 1))?;
                row_from_json(v, columns).map_err(|e| format!("line {}: {e}", k + 1))
            })
            .collect();
    }
    let mut lines = text.lines().enumerate().filter(|(_, l)| !l.trim().is_empty()).peekable();
    let mut order: Vec<usize> = (0..columns.len()).collect();
    if let Some((_, first)) = lines.peek() {
        let header = csv_fields(first).unwrap_or_default();
        let positions: Vec<Option<usize>> = header.iter().map(|h| columns.iter().position(|c| c.name.eq_ignore_ascii_case(h))).collect();
        if header.len() == columns.len() && positions.iter().all(Option::is_some) {
            order = positions.into_iter().flatten().collect();
            lines.next();
        }
    }
    lines
        .map(|(k, l)| {
            let fields = csv_fields(l).map_err(|e| format!("line {}: {e}", k + 1))?;
            if fields.len() != columns.len() {
                return Err(format!("line {}: {} values, but the source has {} columns", k + 1, fields.len(), columns.len()));
            }
            let mut row = vec![Json::Null; columns.len()];
            for (field, &col) in fields.iter().zip(&order) {
                row[col] = typed_value(&columns[col].data_type, field);
            }
            Ok(Json::Array(row))
        })
        .collect()
}

#[derive(Properties, PartialEq)]
pub struct Props {
    pub sources: Vec<RelationInfo>,
    pub send: Callback<Request>,
}

#[function_component(PasteEvents)]
pub fn paste_events(props: &Props) -> Html {
    let selected = use_state(|| 0usize);
    let text = use_state(String::new);
    let error = use_state(|| None::<String>);
    let source = props.sources.get(*selected).cloned();
    let Some(source) = source else { return Html::default() };
    let add = {
        let (text, error, send, source) = (text.clone(), error.clone(), props.send.clone(), source.clone());
        Callback::from(move |e: SubmitEvent| {
            e.prevent_default();
            match parse_pasted(&text, &source.columns) {
                Ok(rows) => {
                    error.set(None);
                    text.set(String::new());
                    send.emit(Request::AddEvents { source: source.name.clone(), rows });
                }
                Err(e) => error.set(Some(e)),
            }
        })
    };
    let placeholder = format!(
        "{}\none row per line, or JSON lines: [..] or {{\"{}\": ..}}",
        source.columns.iter().map(|c| c.name.as_str()).collect::<Vec<_>>().join(","),
        source.columns.first().map(|c| c.name.as_str()).unwrap_or("column")
    );
    html! {
        <details id="paste">
            <summary>{"Paste several events"}</summary>
            <form onsubmit={add}>
                <div class="row">
                    <label for="paste-source">{"Source "}</label>
                    <select id="paste-source" onchange={let selected = selected.clone(); Callback::from(move |e: Event| selected.set(e.target_unchecked_into::<HtmlSelectElement>().selected_index().max(0) as usize))}>
                        { for props.sources.iter().enumerate().map(|(i, s)| html! { <option selected={i == *selected}>{ &s.name }</option> }) }
                    </select>
                </div>
                <textarea id="paste-text" rows="5" maxlength={MAX_PASTE_BYTES.to_string()} spellcheck="false" aria-label="Events as CSV or JSON lines" placeholder={placeholder} value={(*text).clone()}
                    oninput={let text = text.clone(); Callback::from(move |e: InputEvent| text.set(e.target_unchecked_into::<HtmlTextAreaElement>().value()))} />
                if let Some(e) = &*error { <div id="paste-error" class="error" role="alert">{ e }</div> }
                <button id="add-pasted" type="submit">{"Add events"}</button>
            </form>
        </details>
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn columns() -> Vec<ColumnInfo> {
        [("id", "string"), ("n", "int"), ("ts", "timestamp")]
            .iter()
            .map(|(n, t)| ColumnInfo { name: n.to_string(), data_type: t.to_string() })
            .collect()
    }

    #[test]
    fn csv_with_or_without_a_header_in_any_order() {
        let rows = parse_pasted("ts,id,n\n2026-01-01 00:00:01,\"a, b\",3\n\n2026-01-01 00:00:02,c,x", &columns()).unwrap();
        assert_eq!(rows, vec![json!(["a, b", 3, "2026-01-01 00:00:01"]), json!(["c", "x", "2026-01-01 00:00:02"])]);
        assert_eq!(parse_pasted("a,1,2026-01-01", &columns()).unwrap(), vec![json!(["a", 1, "2026-01-01"])]);
        assert_eq!(parse_pasted("a,1", &columns()).unwrap_err(), "line 1: 2 values, but the source has 3 columns");
    }

    #[test]
    fn json_lines_arrays_or_objects() {
        let rows = parse_pasted("[\"a\", 1, null]\n{\"ID\": \"b\", \"ts\": \"2026-01-01 00:00:05\"}", &columns()).unwrap();
        assert_eq!(rows, vec![json!(["a", 1, null]), json!(["b", null, "2026-01-01 00:00:05"])]);
        assert_eq!(parse_pasted("[[\"a\", 1, null]]", &columns()).unwrap(), vec![json!(["a", 1, null])]);
        assert!(parse_pasted("{\"nope\": 1}", &columns()).unwrap_err().starts_with("line 1: there is no column `nope`"));
        assert!(parse_pasted("[1, 2", &columns()).unwrap_err().starts_with("line 1: not JSON"));
    }

    #[test]
    fn a_paste_larger_than_the_limit_is_refused_before_it_is_parsed() {
        let line = "a,1,2026-01-01 00:00:01\n";
        let text = line.repeat(MAX_PASTE_BYTES / line.len() + 1);
        let e = parse_pasted(&text, &columns()).unwrap_err();
        assert!(e.contains("more than the 1024 KiB added at once"), "{e}");
        let fits = line.repeat(MAX_PASTE_BYTES / line.len());
        assert_eq!(parse_pasted(&fits, &columns()).map(|r| r.len()).ok(), Some(MAX_PASTE_BYTES / line.len()));
    }
}
