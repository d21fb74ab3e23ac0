//! The scrubber: the session position by position (one per run of the scenario), forward
//! through what is queued, back through what the session kept, as the engine was then.

use yew::prelude::*;

use crate::protocol::{Request, Snapshot};

#[derive(Properties, PartialEq)]
pub struct Props {
    pub snapshot: std::rc::Rc<Snapshot>,
    pub send: Callback<Request>,
}

/// What a position ran, for its label: "batches 2, 3".
pub(super) fn ran(batch_ids: &[u64]) -> String {
    match batch_ids {
        [] => "no batch".into(),
        [one] => format!("batch {one}"),
        many => format!("batches {}", many.iter().map(u64::to_string).collect::<Vec<_>>().join(", ")),
    }
}

fn events(n: u64) -> String {
    match n {
        0 => "no event arrived".into(),
        1 => "1 event arrived".into(),
        n => format!("{n} events arrived"),
    }
}

#[function_component(Scrubber)]
pub fn scrubber(props: &Props) -> Html {
    let s = &props.snapshot;
    let info = &s.scrub;
    let total = info.live + info.queued_runs;
    let first = info.kept.first().map_or(0, |k| k.position);
    let send = |r: Request| props.send.reform(move |_: MouseEvent| r.clone());
    let at_start = info.position <= first;
    let at_end = !info.past() && info.queued_runs == 0;
    let shown = info.kept.iter().find(|k| k.position == info.position);
    let status = match (info.position, shown) {
        (0, _) => "Batch 0: nothing has run yet".to_string(),
        (p, Some(k)) => format!("Run {p} of {total}: {} ({})", ran(&k.batch_ids), events(k.arrived)),
        (p, None) => format!("Run {p} of {total}"),
    };
    let next = if info.past() {
        "Forward: the next kept run".to_string()
    } else if info.queued_runs > 0 {
        format!("Forward: the next run of the scenario ({} events and {} runs queued)", info.queued_events, info.queued_runs)
    } else {
        "Nothing is queued: add events and run a batch".to_string()
    };
    html! {
        <section id="scrubber" class={classes!("panel", "scrubber", info.past().then_some("past"))} aria-label="Scrubber">
            <div class="row">
                <button id="scrub-first" disabled={at_start} onclick={send(Request::ScrubTo { position: first })} title="The first position kept">{"« Start"}</button>
                <button id="scrub-back" disabled={at_start} onclick={send(Request::StepBack)} title="Back one run: the engine as it was then">{"◀ Back"}</button>
                <button id="scrub-forward" class="primary" disabled={at_end} onclick={send(Request::StepForward)} title={next}>{"Forward ▶"}</button>
                <button id="scrub-end" disabled={info.queued_runs == 0 && !info.past()} onclick={send(Request::RunToEnd)} title="Every queued run, to the scenario's end">{"Run to the end »"}</button>
                <span id="scrub-position" class="scrub-status" role="status">{ status }</span>
            </div>
            <ol class="scrub-marks" aria-label="Positions">
                { for info.kept.iter().map(|k| {
                    let current = k.position == info.position;
                    let label = if k.position == 0 { "start".to_string() } else { ran(&k.batch_ids) };
                    html! {
                        <li><button class={classes!("scrub-mark", current.then_some("current"))} data-position={k.position.to_string()}
                            aria-current={current.then_some("true")} onclick={send(Request::ScrubTo { position: k.position })}
                            title={format!("Run {}: {label}, {}", k.position, events(k.arrived))}>{ k.position }</button></li>
                    }
                }) }
                { for (info.live + 1..=total).map(|p| html! {
                    <li><span class="scrub-mark queued" title="queued: not run yet">{ p }</span></li>
                }) }
            </ol>
            if info.past() {
                <p id="scrub-past" class="muted">{ format!(
                    "You are looking at the engine after run {} of {}: its state, watermark, sink and batches as they were then, kept, not recomputed. Forward goes on; any other action acts on the session as it is now.",
                    info.position, info.live
                ) }</p>
            }
        </section>
    }
}

#[cfg(test)]
mod tests {
    use super::ran;

    #[test]
    fn a_position_names_the_batches_it_ran() {
        assert_eq!(ran(&[]), "no batch");
        assert_eq!(ran(&[3]), "batch 3");
        assert_eq!(ran(&[2, 3]), "batches 2, 3");
        assert_eq!(super::events(1), "1 event arrived");
    }
}
