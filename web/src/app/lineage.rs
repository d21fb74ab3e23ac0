//! "Why is this row here?": the answer to a click on an output row or a dropped duplicate, and
//! the rows dropped as late, each with the operator, the closed window and the watermark then.

use yew::prelude::*;

use super::output::cell;
use crate::protocol::{DuplicateInfo, LateInfo, LineageInfo, Request};
use unbounded_engine::time::format_timestamp;

fn row_text(row: &[serde_json::Value]) -> String {
    row.iter().map(cell).collect::<Vec<_>>().join(", ")
}

#[derive(Properties, PartialEq)]
pub struct LineageProps {
    pub lineage: Option<LineageInfo>,
}

/// The answer to the last question, under the output.
#[function_component(LineagePanel)]
pub fn lineage_panel(props: &LineageProps) -> Html {
    let Some(l) = &props.lineage else {
        return html! { <p class="muted" id="lineage-hint">{"Click an output row to see why it is there: the events that made it, the batch that wrote it and why then."}</p> };
    };
    html! {
        <div id="lineage" class="lineage" role="region" aria-label="Why is this row here">
            <h3>{"Why is this row here?"}</h3>
            <p><code>{ row_text(&l.row) }</code></p>
            <p id="lineage-why">{ &l.why }</p>
            if l.events.is_empty() {
                <p class="muted">{"No event of the sources carries this row's columns (or the session holds too many events to read them all)."}</p>
            } else {
                <table id="lineage-events">
                    <thead><tr><th>{"event"}</th><th>{"read by"}</th><th>{"row"}</th><th>{"note"}</th></tr></thead>
                    <tbody>
                        { for l.events.iter().map(|e| html! {
                            <tr class={classes!(e.note.is_some().then_some("dropped"))}>
                                <td>{ format!("{}@{}", e.source, e.offset) }</td>
                                <td>{ e.batch_id.map_or("not read".into(), |b| format!("batch {b}")) }</td>
                                <td>{ row_text(&e.row) }</td>
                                <td>{ e.note.clone().unwrap_or_else(|| "counted".into()) }</td>
                            </tr>
                        }) }
                    </tbody>
                </table>
            }
        </div>
    }
}

/// Why a late row was dropped, from what the batch recorded.
pub fn late_reason(batch_id: u64, l: &LateInfo) -> String {
    let window = l.window.map(|(s, e)| {
        format!(
            " It belongs to the window [{}, {}), which had closed: the watermark had passed its end.",
            format_timestamp(s),
            format_timestamp(e)
        )
    });
    format!(
        "The {} operator dropped it in batch {batch_id}: its event time {} is behind the watermark {} that batch ran with, so it can no longer change a result.{}",
        l.operator,
        format_timestamp(l.event_time),
        format_timestamp(l.watermark),
        window.unwrap_or_default()
    )
}

#[derive(Properties, PartialEq)]
pub struct LateProps {
    /// Each batch's late rows, with the batch's id.
    pub late: Vec<(u64, LateInfo)>,
}

/// Every row dropped as late; a click says why.
#[function_component(LateList)]
pub fn late_list(props: &LateProps) -> Html {
    let chosen = use_state(|| None::<usize>);
    if props.late.is_empty() {
        return Html::default();
    }
    html! {
        <div id="late-rows">
            <h3>{ format!("Dropped as late ({})", props.late.len()) }</h3>
            <ul class="clickable-list">
                { for props.late.iter().enumerate().map(|(i, (b, l))| {
                    let onclick = { let chosen = chosen.clone(); Callback::from(move |_: MouseEvent| chosen.set(Some(i))) };
                    html! { <li><button class={classes!("late-row", (*chosen == Some(i)).then_some("current"))} {onclick}>
                        { format!("batch {b}: {} at {}", row_text(&l.row), format_timestamp(l.event_time)) }</button></li> }
                }) }
            </ul>
            if let Some((b, l)) = chosen.and_then(|i| props.late.get(i)) {
                <p id="late-why" class="lineage">{ late_reason(*b, l) }</p>
            }
        </div>
    }
}

#[derive(Properties, PartialEq)]
pub struct DuplicateProps {
    pub duplicates: Vec<DuplicateInfo>,
    pub send: Callback<Request>,
}

/// The events a deduplication dropped; a click names the earlier event each duplicated.
#[function_component(DuplicateList)]
pub fn duplicate_list(props: &DuplicateProps) -> Html {
    if props.duplicates.is_empty() {
        return Html::default();
    }
    html! {
        <div id="duplicates">
            <h3>{ format!("Dropped as duplicates ({})", props.duplicates.len()) }</h3>
            <ul class="clickable-list">
                { for props.duplicates.iter().map(|d| {
                    let (source, offset) = (d.event.source.clone(), d.event.offset);
                    let onclick = props.send.reform(move |_: MouseEvent| Request::WhyDuplicate { source: source.clone(), offset });
                    html! { <li><button class="duplicate" {onclick}>
                        { format!("{}@{} in batch {}: {} (a copy of {}@{})", d.event.source, d.event.offset,
                            d.batch_id.map_or("?".into(), |b| b.to_string()), row_text(&d.event.row), d.first.source, d.first.offset) }
                    </button></li> }
                }) }
            </ul>
        </div>
    }
}

#[cfg(test)]
mod tests {
    use super::late_reason;
    use crate::protocol::LateInfo;
    use unbounded_engine::time::parse_timestamp;

    #[test]
    fn a_late_row_names_its_operator_window_and_watermark() {
        let t = |s: &str| parse_timestamp(s).unwrap();
        let l = LateInfo {
            operator: "timeWindow".into(),
            row: vec![],
            event_time: t("2026-01-01 00:00:06"),
            watermark: t("2026-01-01 00:00:15"),
            window: Some((t("2026-01-01 00:00:00"), t("2026-01-01 00:00:10"))),
        };
        let why = late_reason(4, &l);
        assert!(why.contains("timeWindow operator dropped it in batch 4"), "{why}");
        assert!(why.contains("2026-01-01 00:00:06") && why.contains("watermark 2026-01-01 00:00:15"), "{why}");
        assert!(why.contains("[2026-01-01 00:00:00, 2026-01-01 00:00:10)"), "{why}");
    }
}
