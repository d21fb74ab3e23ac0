//! The state store, per stateful operator: rows, size, the first entries and what the last batch
//! evicted.

use serde_json::Value as Json;
use unbounded_engine::time::format_timestamp;
use yew::prelude::*;

use crate::protocol::Snapshot;

/// A state entry as a person reads it: the engine's values (`{"String": "d1"}`,
/// `{"Window": {...}}`, `{"Timestamp": micros}`) as their text, structures as `name: value`.
pub fn humanize(v: &Json) -> String {
    match v {
        Json::Null => "NULL".into(),
        Json::String(s) if s == "Null" => "NULL".into(),
        Json::String(s) => s.clone(),
        Json::Array(items) => format!("({})", items.iter().map(humanize).collect::<Vec<_>>().join(", ")),
        Json::Object(m) if m.len() == 1 => {
            let (k, inner) = m.iter().next().map(|(k, v)| (k.as_str(), v)).unwrap_or(("", &Json::Null));
            match (k, inner) {
                ("String" | "Int" | "BigInt" | "Double" | "Boolean", v) => humanize(v),
                ("Timestamp", Json::Number(n)) => n.as_i64().map(format_timestamp).unwrap_or_default(),
                ("Window", Json::Object(w)) => {
                    let t = |f: &str| w.get(f).and_then(Json::as_i64).map(format_timestamp).unwrap_or_default();
                    format!("[{}, {})", t("start"), t("end"))
                }
                (k, v) => format!("{k} {}", humanize(v)),
            }
        }
        // A deduplicated key without an expiry is kept for ever.
        Json::Object(m) => m
            .iter()
            .map(|(k, v)| if k == "expires" && v.is_null() { format!("{k}: never") } else { format!("{k}: {}", humanize(v)) })
            .collect::<Vec<_>>()
            .join("; "),
        other => other.to_string(),
    }
}

fn entry(text: &str) -> String {
    serde_json::from_str::<Json>(text).map(|v| humanize(&v)).unwrap_or_else(|_| text.to_string())
}

#[derive(Properties, PartialEq)]
pub struct Props {
    pub snapshot: std::rc::Rc<Snapshot>,
}

fn bytes(n: u64) -> String {
    match n {
        0..1024 => format!("{n} B"),
        1024..1_048_576 => format!("{:.1} KB", n as f64 / 1024.0),
        _ => format!("{:.1} MB", n as f64 / 1_048_576.0),
    }
}

#[function_component(StateView)]
pub fn state_view(props: &Props) -> Html {
    let s = &props.snapshot;
    html! {
        <div id="state">
            <h2>{"State store"}</h2>
            if s.state.is_empty() {
                <p class="muted">{"A stateless query: every micro-batch stands alone, nothing is kept between batches."}</p>
            }
            { for s.state.iter().map(|op| html! {
                <div class="state-operator">
                    { for op.tables.iter().map(|t| html! {
                        <details class="state-table" open={t.rows > 0 && t.rows <= 20}>
                            <summary>
                                <code>{ format!("{}/{}", op.operator, t.name) }</code>
                                { format!(" {} rows, {}", t.rows, bytes(t.bytes)) }
                                if !t.evicted.is_empty() { <span class="evicted-count">{ format!(", {} evicted by the last batch", t.evicted.len()) }</span> }
                            </summary>
                            <ul class="state-entries">{ for t.sample.iter().map(|e| html! { <li><code>{ entry(e) }</code></li> }) }</ul>
                            if t.rows as usize > t.sample.len() { <p class="muted">{ format!("… and {} more", t.rows as usize - t.sample.len()) }</p> }
                            if !t.evicted.is_empty() {
                                <p class="muted">{"Evicted by the last batch (the watermark passed them):"}</p>
                                <ul class="state-entries evicted">{ for t.evicted.iter().map(|e| html! { <li><code>{ entry(e) }</code></li> }) }</ul>
                            }
                        </details>
                    }) }
                </div>
            }) }
        </div>
    }
}

#[cfg(test)]
mod tests {
    use super::humanize;
    use serde_json::json;

    #[test]
    fn state_entries_read_as_values() {
        let group = json!({"key": [{"Window": {"start": 1767225600000000i64, "end": 1767225610000000i64}}, {"String": "d1"}, "Null"],
                           "accumulators": [{"Count": 2}, {"Avg": {"sum": 41.0, "count": 2}}]});
        assert_eq!(
            humanize(&group),
            "key: ([2026-01-01 00:00:00, 2026-01-01 00:00:10), d1, NULL); accumulators: (Count 2, Avg sum: 41.0; count: 2)"
        );
        assert_eq!(humanize(&json!({"Timestamp": 1767225600000000i64})), "2026-01-01 00:00:00");
        assert_eq!(humanize(&json!({"key": [{"String": "e1"}], "expires": null})), "key: (e1); expires: never");
        assert_eq!(
            humanize(&json!({"key": [{"String": "e1"}], "expires": {"Timestamp": 1767225610000000i64}})),
            "key: (e1); expires: 2026-01-01 00:00:10"
        );
    }
}
