//! The form that adds one event to a source, prefilled from the source's last event.

use serde_json::Value as Json;
use web_sys::{HtmlInputElement, HtmlSelectElement};
use yew::prelude::*;

use crate::protocol::{RelationInfo, Request};

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

#[function_component(EventForm)]
pub fn event_form(props: &Props) -> Html {
    let selected = use_state(|| 0usize);
    let values = use_state(Vec::<String>::new);
    let source = props.sources.get(*selected).cloned();
    let Some(source) = source else { return html! { <p>{"The scenario has no sources."}</p> } };
    // Keep one text value per column of the selected source.
    if values.len() != source.columns.len() {
        values.set(
            source
                .columns
                .iter()
                .map(|c| if c.data_type == "timestamp" { "2026-03-02 08:02:00".to_string() } else { String::new() })
                .collect(),
        );
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
