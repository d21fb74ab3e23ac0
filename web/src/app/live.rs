//! Driving time: Spark's triggers (one step, a processing-time interval, available-now) and a
//! synthetic event generator with its knobs, with event time shown beside processing time.

use unbounded_engine::time::format_timestamp;
use web_sys::{HtmlInputElement, HtmlSelectElement};
use yew::prelude::*;

use crate::protocol::{GeneratorConfig, GeneratorKind, Request, Snapshot};
use crate::session::{MAX_EVENTS_PER_SECOND, MAX_KEYS, MAX_SPEED, MAX_SPREAD_MS};

#[derive(Properties, PartialEq)]
pub struct Props {
    pub snapshot: std::rc::Rc<Snapshot>,
    pub send: Callback<Request>,
    /// The generator that fits the session's sources, offered first.
    pub suggested: Option<GeneratorKind>,
}

const INTERVALS: [(f64, &str); 6] =
    [(250.0, "250 ms"), (500.0, "0.5 s"), (1000.0, "1 s"), (2000.0, "2 s"), (5000.0, "5 s"), (10000.0, "10 s")];

/// The triggers Play runs: `(value, label, what it is)`. The value is the session's mode
/// (`PlayLive`), empty for the processing-time trigger.
const MODES: [(&str, &str, &str); 3] = [
    ("", "processing time", "trigger(processingTime=...): a micro-batch every interval, with what arrived since the last"),
    (
        "continuous",
        "continuous",
        "trigger(continuous=...): long-running tasks process each record as it arrives, an epoch is checkpointed every interval; map-like queries only, at-least-once",
    ),
    (
        "realTime",
        "Real-Time Mode",
        "trigger(realTime=...): Spark 4.1+'s Real-Time Mode, long-running batches of at least 5 s over Kafka, update mode only; records are processed as they arrive",
    ),
];

/// The newest batch's records with their latency, as a person reads it: how long each run of
/// records waited from arriving to being processed.
fn latency_rows(s: &Snapshot) -> Html {
    let Some(b) = s.batches.iter().rev().find(|b| !b.record_latencies.is_empty()) else {
        return html! { <p class="muted">{"No records processed yet: each batch lists how long its records waited."}</p> };
    };
    let records: u64 = b.record_latencies.iter().map(|l| l.records).sum();
    let worst = b.record_latencies.iter().map(|l| l.latency_ms).fold(0.0, f64::max);
    // The time of day is enough beside each other: the date is the batch's.
    let time = |ms: f64| {
        let t = format_timestamp((ms * 1000.0).round() as i64);
        t.split_once(' ').map_or(t.clone(), |(_, clock)| clock.to_string())
    };
    html! {
        <>
            <p id="latency-summary">{ format!("Batch {}: {records} records, the longest wait {worst:.0} ms.", b.batch_id) }</p>
            <div class="scroll">
                <table id="latency-table">
                    <thead><tr><th>{"source"}</th><th>{"offsets"}</th><th>{"arrived"}</th><th>{"processed"}</th><th>{"latency"}</th></tr></thead>
                    <tbody>
                        { for b.record_latencies.iter().map(|l| {
                            let source = match l.partition { Some(p) => format!("{} [{p}]", l.source), None => l.source.clone() };
                            let offsets = if l.records == 1 { l.first_offset.to_string() } else { format!("{}..{}", l.first_offset, l.first_offset + l.records - 1) };
                            html! { <tr>
                                <td>{ source }</td><td>{ offsets }</td><td>{ time(l.arrived_ms) }</td><td>{ time(l.processed_ms) }</td>
                                <td class="num">{ format!("{:.0} ms", l.latency_ms) }</td>
                            </tr> }
                        }) }
                    </tbody>
                </table>
            </div>
        </>
    }
}
/// The simulated cluster's capacities offered, rows per second (0: as fast as it can).
const CAPACITIES: [(f64, &str); 6] =
    [(0.0, "unlimited"), (1000.0, "1,000 rows/s"), (200.0, "200 rows/s"), (50.0, "50 rows/s"), (20.0, "20 rows/s"), (5.0, "5 rows/s")];

/// What the last batch says of the cluster against the trigger, when it fell behind.
pub fn overrun(s: &Snapshot) -> Option<String> {
    let b = s.batches.last()?;
    (s.live.capacity.is_some() && b.duration_ms > s.live.interval_ms && s.live.interval_ms > 0.0).then(|| {
        format!(
            "Backpressure: batch {} took {:.0} ms for a {:.0} ms trigger ({} rows at {:.0} rows/s), so the next starts as soon as it ends, with everything that arrived meanwhile.",
            b.batch_id,
            b.duration_ms,
            s.live.interval_ms,
            b.input_rows,
            b.processed_rows_per_second
        )
    })
}

fn kind_name(kind: GeneratorKind) -> &'static str {
    match kind {
        GeneratorKind::Trucks => "trucks",
        GeneratorKind::Clickstream => "clickstream",
        GeneratorKind::Payments => "payments",
        GeneratorKind::Ads => "ads",
        GeneratorKind::Nexmark => "nexmark",
    }
}

/// A number from a knob's input: within `[0, max]`, or None for what is not a finite number (the
/// input may hold anything typed, `1e308` included; the knob keeps its value then).
fn knob_value(text: &str, max: f64) -> Option<f64> {
    text.trim().parse::<f64>().ok().filter(|v| v.is_finite()).map(|v| v.clamp(0.0, max))
}

/// A number input for one knob, bounded by `max` (in the input's unit); what it turns is
/// applied at once when the generator runs.
fn knob(id: &str, label: &str, value: f64, step: &str, max: f64, on: Callback<f64>) -> Html {
    let oninput = Callback::from(move |e: InputEvent| {
        if let Some(v) = knob_value(&e.target_unchecked_into::<HtmlInputElement>().value(), max) {
            on.emit(v);
        }
    });
    html! {
        <label class="knob" for={id.to_string()}>
            <span>{ label }</span>
            <input id={id.to_string()} type="number" min="0" max={max.to_string()} step={step.to_string()} value={value.to_string()} {oninput} />
        </label>
    }
}

/// Processing time: when the last micro-batch started, by the wall clock (UTC, to the
/// millisecond), as Spark's progress reports it.
fn processing_clock(s: &Snapshot) -> String {
    match s.batches.last() {
        Some(b) => {
            format!("processing time: {} (batch {})", format_timestamp(b.timestamp_ms.round() as i64 * 1000), b.batch_id)
        }
        None => "processing time: no batch yet".into(),
    }
}

/// What the running low-latency trigger does, in a sentence.
fn live_mode_note(mode: &str, interval_ms: f64) -> String {
    let every = if interval_ms >= 1000.0 { format!("{} s", interval_ms / 1000.0) } else { format!("{interval_ms} ms") };
    match mode {
        "realTime" => format!("Real-Time Mode: each record is processed as it arrives; a long-running batch is checkpointed every {every}. Delivery is at-least-once: after a crash the batch in flight is written again."),
        _ => format!("Continuous processing: each record is processed as it arrives; an epoch is checkpointed every {every}. Delivery is at-least-once: after a crash the epoch in flight is written again. Spark 4.3 cannot resume a micro-batch query's checkpoint under this trigger (nor the other way): there, give it a checkpoint of its own."),
    }
}

#[function_component(LivePanel)]
pub fn live_panel(props: &Props) -> Html {
    let s = &props.snapshot;
    let send = props.send.clone();
    let interval = use_state(|| 1000.0);
    let mode = use_state(String::new);
    // The knobs as the person set them; sent whole whenever one changes while generating.
    let knobs = use_state(GeneratorConfig::default);
    let generating = s.live.generator.is_some();
    {
        let knobs = knobs.clone();
        use_effect_with(props.suggested, move |suggested| {
            if let Some(kind) = suggested {
                knobs.set(GeneratorConfig { kind: *kind, ..(*knobs).clone() });
            }
        });
    }

    let apply = {
        let (send, knobs) = (send.clone(), knobs.clone());
        move |change: Box<dyn Fn(&mut GeneratorConfig)>| {
            let mut next = (*knobs).clone();
            change(&mut next);
            if generating {
                send.emit(Request::SetGenerator { config: Some(next.clone()) });
            }
            knobs.set(next);
        }
    };
    let on_kind = {
        let apply = apply.clone();
        Callback::from(move |e: Event| {
            let value = e.target_unchecked_into::<HtmlSelectElement>().value();
            let kind = GeneratorKind::ALL.into_iter().find(|k| kind_name(*k) == value).unwrap_or_default();
            apply(Box::new(move |c| c.kind = kind));
        })
    };
    let make = |set: fn(&mut GeneratorConfig, f64)| {
        let apply = apply.clone();
        Callback::from(move |v: f64| apply(Box::new(move |c| set(c, v))))
    };
    let toggle_generator = {
        let (send, knobs) = (send.clone(), knobs.clone());
        Callback::from(move |_: MouseEvent| {
            send.emit(Request::SetGenerator { config: if generating { None } else { Some((*knobs).clone()) } });
        })
    };
    let play_request = |mode: &str, interval_ms: f64| {
        if mode.is_empty() {
            Request::Play { interval_ms }
        } else {
            Request::PlayLive { mode: mode.to_string(), interval_ms }
        }
    };
    let play = {
        let (send, interval, playing, mode) = (send.clone(), interval.clone(), s.live.playing, mode.clone());
        Callback::from(move |_: MouseEvent| send.emit(if playing { Request::Pause } else { play_request(&mode, *interval) }))
    };
    let on_mode = {
        let (send, interval, playing, mode) = (send.clone(), interval.clone(), s.live.playing, mode.clone());
        Callback::from(move |e: Event| {
            let v = e.target_unchecked_into::<HtmlSelectElement>().value();
            if playing {
                send.emit(play_request(&v, *interval));
            }
            mode.set(v);
        })
    };
    let on_capacity = {
        let send = send.clone();
        Callback::from(move |e: Event| {
            let v: f64 = e.target_unchecked_into::<HtmlSelectElement>().value().parse().unwrap_or(0.0);
            send.emit(Request::SetCapacity { rows_per_second: (v > 0.0).then_some(v) });
        })
    };
    let on_interval = {
        let (send, interval, playing, mode) = (send.clone(), interval.clone(), s.live.playing, mode.clone());
        Callback::from(move |e: Event| {
            let v = e.target_unchecked_into::<HtmlSelectElement>().value().parse::<f64>().unwrap_or(1000.0);
            interval.set(v);
            if playing {
                send.emit(play_request(&mode, v));
            }
        })
    };
    let mode_title = MODES.iter().find(|(v, _, _)| *v == mode.as_str()).map_or("", |(_, _, t)| t);
    let k = &*knobs;
    let max_seconds = MAX_SPREAD_MS as f64 / 1000.0;
    html! {
        <div id="live">
            <h3>{"Drive time"}</h3>
            <div class="row" role="group" aria-label="Trigger">
                <button id="play" class={classes!(s.live.playing.then_some("playing"))} aria-pressed={s.live.playing.to_string()} onclick={play}
                    title={mode_title.to_string()}>
                    { if s.live.playing { "Pause" } else { "Play" } }
                </button>
                <select id="trigger-mode" aria-label="Trigger" title={mode_title.to_string()} onchange={on_mode}>
                    { for MODES.iter().map(|(v, label, _)| html! { <option value={v.to_string()} selected={*v == mode.as_str()}>{ *label }</option> }) }
                </select>
                <label for="interval">{"every "}</label>
                <select id="interval" onchange={on_interval}>
                    { for INTERVALS.iter().map(|(v, label)| html! { <option value={v.to_string()} selected={*v == *interval}>{ *label }</option> }) }
                </select>
                <button id="available-now" onclick={send.reform(|_| Request::AvailableNow)}
                    title="trigger(availableNow=True): everything available, in as many micro-batches as the read limits make, then the query stops; the next run starts it from its checkpoint">{"Available now"}</button>
                <button id="once" onclick={send.reform(|_| Request::Once)}
                    title="trigger(once=True), deprecated: one micro-batch with everything, read limits ignored, then the query stops">{"Once"}</button>
            </div>
            <div class="row">
                <label for="capacity" title="A simulated cluster: each batch takes its rows over this rate, at least">{"Cluster capacity "}</label>
                <select id="capacity" onchange={on_capacity}>
                    { for CAPACITIES.iter().map(|(v, label)| html! {
                        <option value={v.to_string()} selected={s.live.capacity.unwrap_or(0.0) == *v}>{ *label }</option>
                    }) }
                </select>
            </div>
            if let Some(why) = overrun(s) { <p id="backpressure" class="notice" role="status">{ why }</p> }
            <div class="clocks muted">
                <span id="processing-clock">{ processing_clock(s) }</span>
                <span id="event-clock">{ format!("event time: {}", s.live.event_clock.as_deref().unwrap_or("no events yet")) }</span>
                <span>{ format!("watermark: {}", s.watermark.as_deref().unwrap_or("none")) }</span>
            </div>
            if let Some(m) = &s.live.live_mode {
                <p id="live-mode" class="notice" role="status">{ live_mode_note(m, s.live.interval_ms) }</p>
            }
            <details id="record-latency" open={s.live.live_mode.is_some()}>
                <summary>{"Latency per record"}</summary>
                { latency_rows(s) }
            </details>
            <details id="generator" open={generating}>
                <summary>{ if generating { format!("Generator: {} (running)", k.kind.label()) } else { "Generator".to_string() } }</summary>
                <div class="row">
                    <label for="generator-kind">{"Stream "}</label>
                    <select id="generator-kind" onchange={on_kind}>
                        { for GeneratorKind::ALL.iter().map(|g| html! { <option value={kind_name(*g)} selected={*g == k.kind}>{ g.label() }</option> }) }
                    </select>
                </div>
                <div class="knobs">
                    { knob("gen-rate", "events / s", k.events_per_second, "1", MAX_EVENTS_PER_SECOND, make(|c, v| c.events_per_second = v)) }
                    { knob("gen-keys", "keys", k.keys as f64, "1", f64::from(MAX_KEYS), make(|c, v| c.keys = v.max(1.0) as u32)) }
                    { knob("gen-spread", "out of order (s)", k.out_of_order_ms as f64 / 1000.0, "0.5", max_seconds, make(|c, v| c.out_of_order_ms = (v * 1000.0) as i64)) }
                    { knob("gen-late", "late share (%)", k.late_share * 100.0, "1", 100.0, make(|c, v| c.late_share = v / 100.0)) }
                    { knob("gen-late-by", "late by (s)", k.late_by_ms as f64 / 1000.0, "1", max_seconds, make(|c, v| c.late_by_ms = (v * 1000.0) as i64)) }
                    { knob("gen-dupes", "duplicates (%)", k.duplicate_share * 100.0, "1", 100.0, make(|c, v| c.duplicate_share = v / 100.0)) }
                    { knob("gen-bad", "bad records (%)", k.bad_share * 100.0, "1", 100.0, make(|c, v| c.bad_share = v / 100.0)) }
                    { knob("gen-speed", "event s per s", k.speed, "1", MAX_SPEED, make(|c, v| c.speed = v)) }
                </div>
                <button id="toggle-generator" onclick={toggle_generator}>{ if generating { "Stop generating" } else { "Start generating" } }</button>
                <p class="muted">{ match s.topics.first() {
                    Some(t) => format!("Events are generated while the trigger plays, and produced to the Kafka topic {} as JSON messages keyed by their first text column.", t.name),
                    None => "Events are generated while the trigger plays.".to_string(),
                } }</p>
            </details>
        </div>
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn knob_values_are_finite_and_within_bounds() {
        assert_eq!(knob_value("40", MAX_EVENTS_PER_SECOND), Some(40.0));
        assert_eq!(knob_value("1e308", MAX_EVENTS_PER_SECOND), Some(MAX_EVENTS_PER_SECOND));
        assert_eq!(knob_value("-3", 100.0), Some(0.0));
        for text in ["1e400", "inf", "NaN", "-infinity", "", "x"] {
            assert_eq!(knob_value(text, 100.0), None, "{text}");
        }
    }
}
