//! The timeline: the diagram of Spark's programming guide, live. Event time goes up, processing
//! time (micro-batches) goes right; a dot per event in the batch that read it, the watermark as
//! a step line, windows as bands that close when the watermark passes their end, and late drops
//! as red marks that say which row, its event time and the watermark at that moment.

use std::collections::BTreeMap;

use unbounded_engine::time::format_timestamp;
use yew::prelude::*;

use crate::app::output::cell;
use crate::protocol::{BatchInfo, Snapshot, WindowInfo};

#[derive(Properties, PartialEq)]
pub struct Props {
    pub snapshot: std::rc::Rc<Snapshot>,
}

const W: f64 = 640.0;
const H: f64 = 280.0;
const LEFT: f64 = 64.0;
const RIGHT: f64 = 8.0;
const TOP: f64 = 10.0;
const BOTTOM: f64 = 28.0;
/// Batches shown, the newest; the last slot is for events no batch has read yet.
const SLOTS: usize = 24;
const WINDOWS_SHOWN: usize = 40;

fn clock(micros: i64) -> String {
    let t = format_timestamp(micros);
    t.split(' ').nth(1).unwrap_or(&t).to_string()
}

/// Where an event is drawn: in the batch that read it, among the events read before the batches
/// shown (read by batches this page no longer lists, or before a reload), or as not read yet.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Slot {
    Earlier,
    Batch(usize),
    New,
}

/// The slot of `offset` of `source`; `committed` is the source's offset the query has read up to.
fn slot_of(batches: &[BatchInfo], source: &str, offset: u64, committed: u64) -> Slot {
    for (k, b) in batches.iter().enumerate() {
        if b.offsets.iter().any(|r| r.source == source && r.start <= offset && offset < r.end) {
            return Slot::Batch(k);
        }
    }
    let read_to = batches.iter().flat_map(|b| b.offsets.iter()).filter(|r| r.source == source).map(|r| r.end).max().unwrap_or(0);
    if offset < read_to.max(committed) {
        Slot::Earlier
    } else {
        Slot::New
    }
}

/// The newest `WINDOWS_SHOWN` windows the events fall in, each with the slot of its first event.
/// An event falls in size / slide windows, which a query may make millions: only each event's
/// newest `WINDOWS_SHOWN` can be among the newest of all, so no more are looked at.
fn windows_shown(window: Option<WindowInfo>, dots: &[(usize, i64, u64)]) -> BTreeMap<i64, usize> {
    let mut windows: BTreeMap<i64, usize> = BTreeMap::new();
    let Some(w) = window.filter(|w| w.slide > 0 && w.size > 0) else { return windows };
    for (slot, t, _) in dots {
        let Some(last_start) =
            t.checked_sub(w.start).map(|d| d.div_euclid(w.slide)).and_then(|k| k.checked_mul(w.slide)).and_then(|d| d.checked_add(w.start))
        else {
            continue;
        };
        let mut start = last_start;
        for _ in 0..WINDOWS_SHOWN {
            if start <= t.saturating_sub(w.size) {
                break;
            }
            let first = windows.entry(start).or_insert(*slot);
            *first = (*first).min(*slot);
            let Some(next) = start.checked_sub(w.slide) else { break };
            start = next;
        }
    }
    // Keep the newest only, so the map stays small however many events there are.
    while windows.len() > WINDOWS_SHOWN {
        windows.pop_first();
    }
    windows
}

#[function_component(Timeline)]
pub fn timeline(props: &Props) -> Html {
    let s = &props.snapshot;
    // The late drop last focused, pointed at or clicked: said in words under the chart, so a
    // keyboard or touch user reads what the tooltip tells a mouse user.
    let detail = use_state(|| None::<String>);
    let batches = &s.batches[s.batches.len().saturating_sub(SLOTS)..];
    let committed = |source: &str| s.sources.iter().find(|r| r.name == source && r.read).map_or(0, |r| r.rows.saturating_sub(r.pending));
    let placed: Vec<(Slot, i64, u64)> = s
        .timeline
        .iter()
        .filter_map(|e| Some((slot_of(batches, &e.source, e.offset, committed(&e.source)), e.event_time?, e.offset)))
        .collect();
    // A slot left of the batches for events read earlier, only when there are some.
    let earlier = usize::from(placed.iter().any(|p| p.0 == Slot::Earlier));
    let slots = earlier + batches.len() + 1;
    let slot_w = (W - LEFT - RIGHT) / slots as f64;
    let x = |slot: usize| LEFT + (slot as f64 + 0.5) * slot_w;
    let index = |slot: Slot| match slot {
        Slot::Earlier => 0,
        Slot::Batch(k) => earlier + k,
        Slot::New => slots - 1,
    };
    let dots: Vec<(usize, i64, u64)> = placed.iter().map(|(slot, t, offset)| (index(*slot), *t, *offset)).collect();
    let late: Vec<(usize, &crate::protocol::LateInfo)> =
        batches.iter().enumerate().flat_map(|(k, b)| b.late.iter().map(move |l| (earlier + k, l))).collect();
    let watermarks: Vec<(usize, i64)> = batches.iter().enumerate().filter_map(|(k, b)| Some((earlier + k, b.watermark_micros?))).collect();
    // What the window's operator ran with in each batch: a join below it hands it a lower one.
    let window_watermarks: Vec<(usize, i64, bool)> = batches
        .iter()
        .enumerate()
        .filter_map(|(k, b)| Some((earlier + k, b.window_watermark_micros?, b.window_watermark_micros != b.watermark_micros)))
        .collect();
    // A join or union holds a watermark per input: each is drawn, dashed, beside the query's (their smallest).
    let inputs: Vec<String> = batches
        .iter()
        .rev()
        .find(|b| b.input_watermarks.len() > 1)
        .map_or_else(Vec::new, |b| b.input_watermarks.iter().map(|w| w.source.clone()).collect());
    let input_steps: Vec<Vec<(usize, i64)>> = inputs
        .iter()
        .map(|name| {
            batches
                .iter()
                .enumerate()
                .filter_map(|(k, b)| Some((earlier + k, b.input_watermarks.iter().find(|w| &w.source == name)?.micros?)))
                .collect()
        })
        .collect();
    let times: Vec<i64> = dots
        .iter()
        .map(|d| d.1)
        .chain(late.iter().map(|l| l.1.event_time))
        .chain(watermarks.iter().map(|w| w.1))
        .chain(input_steps.iter().flatten().map(|w| w.1))
        .collect();
    if times.is_empty() {
        return html! {
            <div id="timeline" class="timeline">
                <p class="muted">{"The timeline fills as events arrive: event time up, micro-batches to the right."}</p>
            </div>
        };
    }
    // In floating point: event times at the ends of the calendar must not overflow the scale.
    let (lo, hi) = (times.iter().copied().min().unwrap_or(0) as f64, times.iter().copied().max().unwrap_or(0) as f64);
    let pad = ((hi - lo) / 10.0).max(2_000_000.0);
    let (lo, hi) = (lo - pad, hi + pad);
    let y = |t: i64| TOP + (hi - (t as f64).clamp(lo, hi)) / (hi - lo) * (H - TOP - BOTTOM);

    // Windows touched by the shown events: from the batch of their first event until the batch
    // whose watermark passed their end.
    let windows = windows_shown(s.window, &dots);
    let bands: Vec<Html> = s
        .window
        .map(|w| {
            windows
                .iter()
                .rev()
                .take(WINDOWS_SHOWN)
                .map(|(start, first)| {
                    let end = start.saturating_add(w.size);
                    // Above a stream-stream join, the window closes on the join's output watermark.
                    let closing = window_watermarks.iter().find(|(_, wm, _)| *wm >= end);
                    let closed = closing.map(|(k, _, _)| *k);
                    let x0 = x(*first) - slot_w / 2.0;
                    let x1 = closed.map_or(W - RIGHT, |k| x(k) + slot_w / 2.0);
                    let label = format!(
                        "window [{}, {}){}",
                        clock(*start),
                        clock(end),
                        match (closed.is_some(), closing.is_some_and(|c| c.2)) {
                            (true, false) => ": closed, the watermark passed its end",
                            (true, true) => ": closed, the join's output watermark passed its end",
                            (false, _) => ": open",
                        }
                    );
                    html! {
                        <rect class={classes!("band", closed.map(|_| "closed"))} x={x0.to_string()} y={y(end).to_string()}
                            width={(x1 - x0).max(1.0).to_string()} height={(y(*start) - y(end)).max(1.0).to_string()}>
                            <title>{ label }</title>
                        </rect>
                    }
                })
                .collect()
        })
        .unwrap_or_default();
    let step_path = |steps: &[(usize, i64)]| {
        let mut path = String::new();
        for (k, wm) in steps {
            let (x0, x1, yy) = (x(*k) - slot_w / 2.0, x(*k) + slot_w / 2.0, y(*wm));
            path.push_str(&format!("{}{x0:.1},{yy:.1} L{x1:.1},{yy:.1} ", if path.is_empty() { "M" } else { "L" }));
        }
        path
    };
    let watermark_path = step_path(&watermarks);
    let ticks = [hi - pad, (hi + lo) / 2.0, lo + pad].map(|t| t as i64);
    html! {
        <div id="timeline" class="timeline">
            <svg viewBox={format!("0 0 {W} {H}")} role="img" aria-label="Event time against processing time, with the watermark, windows and late drops">
                { for bands }
                <rect class="pending-slot" x={(x(slots - 1) - slot_w / 2.0).to_string()} y={TOP.to_string()} width={slot_w.to_string()} height={(H - TOP - BOTTOM).to_string()}>
                    <title>{"Events no micro-batch has read yet"}</title>
                </rect>
                { for ticks.iter().map(|t| html! {
                    <>
                        <line class="grid" x1={LEFT.to_string()} x2={(W - RIGHT).to_string()} y1={y(*t).to_string()} y2={y(*t).to_string()} />
                        <text class="axis" x={(LEFT - 4.0).to_string()} y={(y(*t) + 3.0).to_string()} text-anchor="end">{ clock(*t) }</text>
                    </>
                }) }
                { for batches.iter().enumerate().filter(|(k, _)| k % (1 + slots / 12) == 0).map(|(k, b)| html! {
                    <text class="axis" x={x(earlier + k).to_string()} y={(H - BOTTOM + 14.0).to_string()} text-anchor="middle">{ b.batch_id }</text>
                }) }
                if earlier == 1 {
                    <text id="earlier-slot" class="axis" x={x(0).to_string()} y={(H - BOTTOM + 14.0).to_string()} text-anchor="middle">
                        {"earlier"}<title>{"Events read by micro-batches before the ones shown (or before this page was loaded)"}</title>
                    </text>
                }
                <text class="axis" x={x(slots - 1).to_string()} y={(H - BOTTOM + 14.0).to_string()} text-anchor="middle">{"new"}</text>
                <text class="axis" x={((LEFT + W) / 2.0).to_string()} y={(H - 2.0).to_string()} text-anchor="middle">{"micro-batch (processing time)"}</text>
                { for dots.iter().map(|(slot, t, offset)| {
                    let jitter = ((*offset % 7) as f64 - 3.0) * (slot_w / 9.0).min(3.0);
                    html! { <circle class="event" cx={(x(*slot) + jitter).to_string()} cy={y(*t).to_string()} r="2.6"><title>{ format!("event time {}", format_timestamp(*t)) }</title></circle> }
                }) }
                { for inputs.iter().zip(&input_steps).enumerate().filter(|(_, (_, st))| !st.is_empty()).map(|(i, (name, st))| {
                    let (k, wm) = st[st.len() - 1];
                    html! {
                        <g class={classes!("input-watermark", format!("input-{}", i % 3))} data-source={name.clone()}>
                            <path d={step_path(st)}><title>{ format!("{name}'s own watermark: its newest event time minus its delay") }</title></path>
                            <text class="axis input-label" x={format!("{:.1}", x(k) + slot_w / 2.0 + 2.0)} y={format!("{:.1}", y(wm) + 3.0)}>{ name.clone() }</text>
                        </g>
                    }
                }) }
                if !watermark_path.is_empty() {
                    <path id="watermark-line" class="watermark" d={watermark_path} />
                }
                { for late.iter().map(|(slot, l)| {
                    let (cx, cy) = (x(*slot), y(l.event_time));
                    let row: Vec<String> = l.row.iter().map(cell).collect();
                    let why = match l.window {
                        Some((a, b)) => format!(
                            "dropped as late by {}: ({}) with event time {}. Its window [{}, {}) had closed: the watermark {} had passed its end.",
                            l.operator,
                            row.join(", "),
                            format_timestamp(l.event_time),
                            clock(a),
                            clock(b),
                            format_timestamp(l.watermark)
                        ),
                        None => format!(
                            "dropped as late by {}: ({}) with event time {}, at or behind the watermark {}.",
                            l.operator,
                            row.join(", "),
                            format_timestamp(l.event_time),
                            format_timestamp(l.watermark)
                        ),
                    };
                    let show = {
                        let (detail, why) = (detail.clone(), why.clone());
                        move || detail.set(Some(why.clone()))
                    };
                    let (onfocus, onclick, onmouseenter) = {
                        let (a, b, c) = (show.clone(), show.clone(), show);
                        (Callback::from(move |_: FocusEvent| a()), Callback::from(move |_: MouseEvent| b()), Callback::from(move |_: MouseEvent| c()))
                    };
                    html! {
                        <g class="late-drop" tabindex="0" role="img" aria-label={why.clone()} {onfocus} {onclick} {onmouseenter}>
                            if let Some((_, end)) = l.window {
                                // From the event up to its closed window's end.
                                <line class="late-link" x1={format!("{cx:.1}")} y1={format!("{cy:.1}")} x2={format!("{cx:.1}")} y2={format!("{:.1}", y(end))} />
                            }
                            <path d={format!("M{:.1},{:.1} l8,8 m0,-8 l-8,8", cx - 4.0, cy - 4.0)} />
                            <rect class="hit" x={format!("{:.1}", cx - 6.0)} y={format!("{:.1}", cy - 6.0)} width="12" height="12" />
                            <title>{ why }</title>
                        </g>
                    }
                }) }
            </svg>
            <p class="legend muted">
                <span class="key dot" />{"event "}<span class="key wm" />{"watermark "}<span class="key band" />{"open window "}
                <span class="key closed" />{"closed window "}<span class="key late" />{"late drop (point at it or focus it for why)"}
                if !inputs.is_empty() {
                    <span id="input-watermarks-key">{ format!(" · dashed: each input's own watermark ({}); the query runs with the smallest", inputs.join(", ")) }</span>
                }
            </p>
            if let Some(d) = (*detail).clone().filter(|_| !late.is_empty()) {
                <p id="late-detail" class="late-detail" role="status">{ d }</p>
            }
        </div>
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn batch(id: u64, start: u64, end: u64) -> BatchInfo {
        BatchInfo { batch_id: id, offsets: vec![crate::protocol::SourceRange { source: "e".into(), start, end }], ..BatchInfo::default() }
    }

    #[test]
    fn events_a_restored_query_read_before_the_reload_are_earlier_not_new() {
        // After a reload no batch is listed, but the checkpoint says offsets below 5 were read.
        assert_eq!(slot_of(&[], "e", 3, 5), Slot::Earlier);
        assert_eq!(slot_of(&[], "e", 5, 5), Slot::New);
        let shown = [batch(7, 5, 8)];
        assert_eq!(slot_of(&shown, "e", 6, 8), Slot::Batch(0));
        assert_eq!(slot_of(&shown, "e", 4, 8), Slot::Earlier);
        assert_eq!(slot_of(&shown, "e", 8, 8), Slot::New);
        assert_eq!(slot_of(&shown, "other", 0, 0), Slot::New);
    }

    #[test]
    fn a_window_a_million_times_its_slide_draws_only_the_newest_windows() {
        // '1 day', '1 microsecond': 86.4 billion windows per event; quadratic or per-window work
        // would not finish.
        let day = 86_400_000_000;
        let w = WindowInfo { size: day, slide: 1, start: 0 };
        let dots: Vec<(usize, i64, u64)> = (0..500).map(|k| (k as usize % 24, 1_772_438_400_000_000 + k * 1_000, k as u64)).collect();
        let shown = windows_shown(Some(w), &dots);
        assert_eq!(shown.len(), WINDOWS_SHOWN);
        let newest = dots.last().map(|d| d.1).unwrap_or_default();
        assert_eq!(shown.keys().next_back(), Some(&newest));
        assert_eq!(shown.keys().next(), Some(&(newest - WINDOWS_SHOWN as i64 + 1)));
    }

    #[test]
    fn windows_at_the_ends_of_the_calendar_do_not_overflow() {
        let w = WindowInfo { size: 3_600_000_000, slide: 60_000_000, start: 0 };
        let dots = vec![(0, i64::MIN, 0), (1, i64::MAX, 1), (1, i64::MIN + 5, 2)];
        let shown = windows_shown(Some(w), &dots);
        assert!(shown.len() <= WINDOWS_SHOWN);
        // The same windows as the plain definition for an ordinary event: the 60 that contain it.
        let shown = windows_shown(Some(w), &[(0, 7_200_000_000, 0)]);
        assert_eq!(shown.len(), WINDOWS_SHOWN.min(60));
        assert!(shown.keys().all(|s| *s <= 7_200_000_000 && s + w.size > 7_200_000_000));
    }
}
