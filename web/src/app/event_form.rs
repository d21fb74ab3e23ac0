//! The form that adds one event to a source, prefilled from the source's last event.

use serde_json::Value as Json;
use web_sys::{HtmlInputElement, HtmlSelectElement};
use yew::prelude::*;

use crate::protocol::{ColumnInfo, RelationInfo, Request};

#[derive(Properties, PartialEq)]
pub struct Props {
    pub sources: Vec<RelationInfo>,
    pub send: Callback<Request>,
}

/// Turns what a person typed into the JSON value of the scenario format. Text that does not
/// parse as the column's type is sent as text: the engine routes it to the dead-letter output
/// with the reason, instead of the page guessing.
pub fn typed_value(data_type: &str, text: &str) -> Json {
    let t = text.trim();
    if t.is_empty() || t.eq_ignore_ascii_case("null") {
        return Json::Null;
    }
    match data_type {
        "int" | "bigint" => t.parse::<i64>().map(Json::from).unwrap_or_else(|_| Json::String(text.to_string())),
        "double" => {
            t.parse::<f64>().ok().and_then(serde_json::Number::from_f64).map(Json::Number).unwrap_or_else(|| Json::String(text.to_string()))
        }
        "boolean" => match t.to_ascii_lowercase().as_str() {
            "true" => Json::Bool(true),
            "false" => Json::Bool(false),
            _ => Json::String(text.to_string()),
        },
        _ => Json::String(text.to_string()),
    }
}

/// `t-04` -> `t-05`, `u9` -> `u10`: the key after the last one; text without a number stays.
pub fn next_key(key: &str) -> String {
    let digits = key.chars().rev().take_while(char::is_ascii_digit).count();
    let (stem, number) = key.split_at(key.len() - digits);
    match number.parse::<u64>() {
        Ok(n) => format!("{stem}{:0width$}", n + 1, width = digits),
        Err(_) => key.to_string(),
    }
}

/// What the form offers for a new event: the next key, one second after the newest event, and
/// the newest event's other values.
pub fn defaults(columns: &[ColumnInfo], last: Option<&[Json]>) -> Vec<String> {
    let first_string = columns.iter().position(|c| c.data_type == "string");
    columns
        .iter()
        .enumerate()
        .map(|(k, c)| {
            let previous = last.and_then(|r| r.get(k)).filter(|v| !v.is_null());
            match (c.data_type.as_str(), previous) {
                ("timestamp", Some(Json::String(t))) => unbounded_engine::time::parse_timestamp(t)
                    .map(|micros| unbounded_engine::time::format_timestamp(micros - micros.rem_euclid(1_000_000) + 1_000_000))
                    .unwrap_or_else(|| t.clone()),
                ("timestamp", _) => "2026-01-01 00:00:00".to_string(),
                (_, Some(Json::String(s))) if Some(k) == first_string => next_key(s),
                (_, Some(Json::String(s))) => s.clone(),
                (_, Some(v)) => v.to_string(),
                (_, None) if Some(k) == first_string => "k1".to_string(),
                (_, None) => String::new(),
            }
        })
        .collect()
}

#[function_component(EventForm)]
pub fn event_form(props: &Props) -> Html {
    let selected = use_state(|| 0usize);
    let values = use_state(Vec::<String>::new);
    let source = props.sources.get(*selected).cloned();
    let Some(source) = source else { return html! { <p>{"The scenario has no sources."}</p> } };
    // Start from the newest event, again after each one added.
    {
        let values = values.clone();
        let (columns, last) = (source.columns.clone(), source.last_row.clone());
        use_effect_with((source.name.clone(), source.rows), move |_| {
            values.set(defaults(&columns, last.as_deref()));
        });
    }
    let on_source = {
        let (selected, values) = (selected.clone(), values.clone());
        Callback::from(move |e: Event| {
            let i = e.target_unchecked_into::<HtmlSelectElement>().selected_index().max(0) as usize;
            selected.set(i);
            values.set(Vec::new());
        })
    };
    let add = {
        let (values, send, source) = (values.clone(), props.send.clone(), source.clone());
        Callback::from(move |e: SubmitEvent| {
            e.prevent_default();
            let row = source.columns.iter().zip(values.iter()).map(|(c, v)| typed_value(&c.data_type, v)).collect();
            send.emit(Request::AddEvent { source: source.name.clone(), row });
        })
    };
    html! {
        <form id="event-form" onsubmit={add}>
            <div class="row">
                <label for="event-source">{"Source "}</label>
                <select id="event-source" onchange={on_source}>
                    { for props.sources.iter().enumerate().map(|(i, s)| html! { <option value={s.name.clone()} selected={i == *selected}>{ &s.name }</option> }) }
                </select>
            </div>
            <div class="fields">
                { for source.columns.iter().enumerate().map(|(k, c)| {
                    let current = values.get(k).cloned().unwrap_or_default();
                    let handle = values.clone();
                    let oninput = Callback::from(move |e: InputEvent| {
                        let mut v = (*handle).clone();
                        if k < v.len() {
                            v[k] = e.target_unchecked_into::<HtmlInputElement>().value();
                        }
                        handle.set(v);
                    });
                    html! {
                        <label class="field">
                            <span>{ &c.name }<span class="type">{ format!(" {}", c.data_type) }</span></span>
                            <input id={format!("field-{}", c.name)} data-column={c.name.clone()} value={current} {oninput}
                                placeholder={if c.data_type == "timestamp" { "YYYY-MM-DD HH:MM:SS" } else { "null" }} />
                        </label>
                    }
                }) }
            </div>
            <button id="add-event" type="submit">{"Add event"}</button>
        </form>
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn the_form_offers_the_next_event() {
        assert_eq!(next_key("t-04"), "t-05");
        assert_eq!(next_key("u9"), "u10");
        assert_eq!(next_key("north"), "north");
        let cols: Vec<ColumnInfo> = [("truck_id", "string"), ("temp_c", "double"), ("city", "string"), ("ts", "timestamp")]
            .iter()
            .map(|(n, t)| ColumnInfo { name: n.to_string(), data_type: t.to_string() })
            .collect();
        let last = [json!("t-04"), json!(6.5), json!("Munich"), json!("2026-03-02 08:01:07.250")];
        assert_eq!(defaults(&cols, Some(&last)), vec!["t-05", "6.5", "Munich", "2026-03-02 08:01:08"]);
        assert_eq!(defaults(&cols, None), vec!["k1", "", "", "2026-01-01 00:00:00"]);
    }
}
