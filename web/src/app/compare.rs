//! The compare view (`?compare=a,b[,c]`): gallery examples over the same events, each in a
//! session of its own (its own worker, in memory, so no saved session is read or written),
//! stepped together by one bar. Each side shows its one difference, its watermark, what the step
//! did to its sink as a change stream beside what the sink holds, its late rows and its state.

use std::collections::BTreeMap;
use std::rc::Rc;

use serde_json::Value as Json;
use unbounded_engine::time::format_timestamp;
use yew::prelude::*;

use super::backend::{Backend, Message};
use crate::compare::{self, change_stream, query_words, weight_label, Change};
use crate::gallery::{example_by_id, Example};
use crate::protocol::{cell, Request, Snapshot, StorageKind};

/// The comparison the page's address asks for (`?compare=...`), if it asks for one.
pub fn requested() -> Option<String> {
    super::query_param("compare")
}

/// The most positions whose sink a side remembers (the session keeps fewer: `HISTORY`).
const SINKS_KEPT: usize = 64;

/// A sink as a position showed it; `whole` is false when the snapshot carried only its newest rows.
#[derive(Clone, PartialEq)]
struct Sink {
    rows: Rc<Vec<Vec<Json>>>,
    whole: bool,
}

#[derive(Clone, Default, PartialEq)]
struct Side {
    shown: Option<Rc<Snapshot>>,
    /// The sink each position showed when it came: the change stream of a step is the
    /// difference from the position before it.
    sinks: BTreeMap<u64, Sink>,
    /// Why this side's engine cannot go on (its worker stopped, or could not start).
    stopped: Option<String>,
}

impl Side {
    /// Spark refused the query at start: this side runs nothing.
    fn refused(&self) -> bool {
        self.shown.as_ref().is_some_and(|s| s.query_id.is_empty() && s.error.is_some())
    }
}

#[derive(Clone, PartialEq)]
struct Sides(Vec<Side>);

enum Action {
    Snapshot(usize, Box<Snapshot>),
    Stopped(usize, String),
}

impl Reducible for Sides {
    type Action = Action;

    fn reduce(self: Rc<Self>, action: Action) -> Rc<Self> {
        let mut next = (*self).clone();
        match action {
            Action::Snapshot(k, s) => {
                let Some(side) = next.0.get_mut(k) else { return self };
                // The worker's own error (a request it could not read, storage it could not open)
                // comes in an otherwise empty snapshot: the side shown stays.
                if s.scenario_name.is_empty() && s.sql.is_empty() {
                    side.stopped = Some(s.error.map(|e| e.message).unwrap_or_else(|| "the engine sent an empty answer".into()));
                    return Rc::new(next);
                }
                let whole = s.sink_total as usize == s.sink.len();
                side.sinks.insert(s.scrub.position, Sink { rows: Rc::new(s.sink.clone()), whole });
                while side.sinks.len() > SINKS_KEPT {
                    side.sinks.pop_first();
                }
                side.shown = Some(Rc::new(*s));
            }
            Action::Stopped(k, why) => {
                if let Some(side) = next.0.get_mut(k) {
                    side.stopped = Some(why);
                }
            }
        }
        Rc::new(next)
    }
}

/// The page of a `?compare=` link: the comparison, or why the link opens none.
#[function_component(ComparePage)]
pub fn compare_page() -> Html {
    let parsed = use_memo((), |_| compare::parse(&requested().unwrap_or_default()).map(|v| v.iter().map(|e| e.id).collect::<Vec<_>>()));
    let home = super::page_path();
    html! {
        <div class="page compare-page">
            <header>
                <h1><a href={home.clone()} class="home">{"Unbounded"}</a></h1>
                <p class="tagline">{"Side by side: the same events, one difference, stepped together."}</p>
                <div class="settings"><super::theme::ThemeChoice /></div>
            </header>
            { match &*parsed {
                Ok(ids) => html! { <CompareView ids={ids.clone()} /> },
                Err(e) => html! {
                    <div id="compare-error" class="error compare-error" role="alert">
                        <div class="kind">{"This comparison cannot be opened"}</div>
                        <div class="message">{ e.to_string() }</div>
                        <p><a href={home}>{"Open the playground"}</a></p>
                    </div>
                },
            } }
        </div>
    }
}

#[derive(Properties, PartialEq)]
struct ViewProps {
    ids: Vec<&'static str>,
}

fn examples(ids: &[&'static str]) -> Vec<&'static Example> {
    ids.iter().filter_map(|id| example_by_id(id).ok()).collect()
}

/// What a position ran, for the bar: "batches 2, 3 ran".
#[function_component(CompareView)]
fn compare_view(props: &ViewProps) -> Html {
    let examples = examples(&props.ids);
    let backends = use_memo(props.ids.clone(), |ids| ids.iter().map(|_| Backend::start()).collect::<Vec<_>>());
    let n = examples.len();
    let sides = use_reducer(move || Sides(vec![Side::default(); n]));
    {
        let (backends, dispatcher, scenarios) =
            (backends.clone(), sides.dispatcher(), examples.iter().map(|e| e.scenario).collect::<Vec<_>>());
        use_effect_with((), move |_| {
            for (k, b) in backends.iter().enumerate() {
                match b {
                    Ok(b) => {
                        let d = dispatcher.clone();
                        b.listen(Callback::from(move |m: Message| match m {
                            Message::Snapshot(s) => d.dispatch(Action::Snapshot(k, s)),
                            Message::Stopped(why) => d.dispatch(Action::Stopped(k, why)),
                        }));
                        // In memory, at batch 0: a comparison is read only, it saves nothing.
                        let scenario = Some(scenarios[k].to_string());
                        b.send(Request::Init { storage: StorageKind::Memory, scenario, session: String::new(), read_only: false });
                    }
                    Err(e) => dispatcher.dispatch(Action::Stopped(k, e.clone())),
                }
            }
            move || {
                for b in backends.iter().flatten() {
                    b.terminate();
                }
            }
        });
    }
    // The sides that step: started, not refused, not stopped.
    let stepping: Vec<(usize, Rc<Snapshot>)> = sides
        .0
        .iter()
        .enumerate()
        .filter(|(_, s)| !s.refused() && s.stopped.is_none())
        .filter_map(|(k, s)| s.shown.clone().map(|snap| (k, snap)))
        .collect();
    let started = sides.0.iter().all(|s| s.shown.is_some() || s.stopped.is_some());
    let positions: Vec<u64> = stepping.iter().map(|(_, s)| s.scrub.position).collect();
    let agreed = (started && !positions.is_empty() && positions.iter().all(|p| *p == positions[0])).then(|| positions[0]);
    let first = |s: &Snapshot| s.scrub.kept.first().map_or(0, |k| k.position);
    let at_start = stepping.iter().all(|(_, s)| s.scrub.position <= first(s));
    let at_end = stepping.iter().all(|(_, s)| !s.scrub.past() && s.scrub.queued_runs == 0);
    let total = stepping.iter().map(|(_, s)| s.scrub.live + s.scrub.queued_runs).max().unwrap_or(0);
    let moving = agreed.is_none();

    // Sends each stepping side the requests `what` gives for its snapshot.
    let to_each = |what: fn(&Snapshot) -> Vec<Request>| {
        let (backends, stepping) = (backends.clone(), stepping.clone());
        Callback::from(move |_: MouseEvent| {
            for (k, s) in &stepping {
                if let Some(Ok(b)) = backends.get(*k) {
                    for r in what(s) {
                        b.send(r);
                    }
                }
            }
        })
    };
    let on_first = to_each(|s| vec![Request::ScrubTo { position: s.scrub.kept.first().map_or(0, |k| k.position) }]);
    let on_back =
        to_each(|s| if s.scrub.position > s.scrub.kept.first().map_or(0, |k| k.position) { vec![Request::StepBack] } else { vec![] });
    let on_forward = to_each(|s| if s.scrub.past() || s.scrub.queued_runs > 0 { vec![Request::StepForward] } else { vec![] });
    // Run by run rather than in one request: each position comes back, so each change stream is known.
    let on_end = to_each(|s| {
        let steps = s.scrub.live.saturating_sub(s.scrub.position) + s.scrub.queued_runs;
        (0..steps).map(|_| Request::StepForward).collect()
    });

    let shown_mark = stepping.first().and_then(|(_, s)| s.scrub.kept.iter().find(|k| k.position == s.scrub.position).cloned());
    let status = match (agreed, shown_mark) {
        _ if !started => "Starting the engines…".to_string(),
        (None, _) if stepping.is_empty() => "No side can step.".to_string(),
        (None, _) => "Moving…".to_string(),
        (Some(0), _) => format!("Batch 0 of {total} runs: nothing has run yet"),
        (Some(p), Some(k)) if k.position == p => format!("Run {p} of {total}: {} ran", super::scrubber::ran(&k.batch_ids)),
        (Some(p), _) => format!("Run {p} of {total}"),
    };
    let sqls: Vec<&str> = sides.0.iter().map(|s| s.shown.as_ref().map_or("", |s| s.sql.as_str())).collect();
    let modes: Vec<&str> = sides.0.iter().filter_map(|s| s.shown.as_ref().map(|s| s.output_mode.as_str())).collect();
    let modes_differ = modes.iter().any(|m| *m != modes[0]);
    let lesson = props.ids.first().and_then(|id| compare::comparison_of(id)).filter(|c| c.ids == props.ids.as_slice());

    html! {
        <>
        <section id="compare-bar" class="panel compare-bar" aria-label="Both sides' position" data-position={agreed.map(|p| p.to_string())}>
            if let Some(c) = lesson { <p id="compare-lesson" class="watch">{ c.lesson }</p> }
            <div class="row">
                <button id="compare-first" disabled={moving || at_start} onclick={on_first} title="Both sides back to batch 0">{"« Start"}</button>
                <button id="compare-back" disabled={moving || at_start} onclick={on_back} title="Both sides back one run, as each engine was then">{"◀ Step both back"}</button>
                <button id="compare-forward" class="primary" disabled={moving || at_end} onclick={on_forward} title="Both sides forward one run of the scenario">{"Step both forward ▶"}</button>
                <button id="compare-end" disabled={moving || at_end} onclick={on_end} title="Both sides through every run, to the scenario's end">{"To the end »"}</button>
                <span id="compare-position" class="scrub-status" role="status">{ status }</span>
            </div>
        </section>
        <div id="compare-sides" class={classes!("compare-sides", format!("sides-{}", examples.len()))}>
            { for examples.iter().zip(&sides.0).enumerate().map(|(k, (e, side))| {
                let others: Vec<&str> = sqls.iter().enumerate().filter(|(j, s)| *j != k && !s.is_empty()).map(|(_, s)| *s).collect();
                side_view(k, e, side, &others, modes_differ)
            }) }
        </div>
        </>
    }
}

fn row_cells(row: &[Json]) -> Html {
    html! { <>{ for row.iter().map(|v| html! { <td>{ cell(v) }</td> }) }</> }
}

fn header(columns: &[String], first: Option<&str>) -> Html {
    html! {
        <thead><tr>
            if let Some(f) = first { <th class="change" title="weight: + added, − retracted">{ f }</th> }
            { for columns.iter().map(|c| html! { <th>{ c }</th> }) }
        </tr></thead>
    }
}

/// The change stream of the position shown: against the sink of the position before it.
fn changes_of(side: &Side, s: &Snapshot) -> Result<Vec<Change>, &'static str> {
    let p = s.scrub.position;
    if p == 0 {
        return Ok(Vec::new());
    }
    let Some(before) = side.sinks.get(&(p - 1)) else {
        return Err("The position before this one was not seen, so its change is not known.");
    };
    let now = side.sinks.get(&p).filter(|x| x.whole).map(|x| x.rows.clone());
    match now {
        Some(now) if before.whole => Ok(change_stream(&before.rows, &now)),
        _ => Err("The sink holds more rows than the page is sent, so the change is not shown."),
    }
}

fn side_view(k: usize, e: &Example, side: &Side, others: &[&str], modes_differ: bool) -> Html {
    let id = format!("side-{k}");
    let body = match (&side.shown, &side.stopped) {
        (_, Some(why)) => html! {
            <div class="error side-stopped" role="alert"><div class="kind">{"the engine stopped"}</div><div class="message">{ why.clone() }</div></div>
        },
        (None, None) => html! { <p class="muted">{"Starting the engine…"}</p> },
        (Some(s), None) => side_numbers(side, s),
    };
    let query = side.shown.as_ref().map(|s| (s.sql.clone(), s.output_mode.clone()));
    html! {
        <section {id} class="panel compare-side" data-example={e.id}>
            <h2 class="side-title">{ e.title }</h2>
            <p class="muted side-watch">{ e.watch }</p>
            if let Some((sql, mode)) = query {
                <p class="side-mode">{"Output mode: "}
                    if modes_differ { <mark class="differs">{ mode }</mark> } else { <code>{ mode }</code> }
                </p>
                <pre class="side-query" aria-label="The query; what differs from the other side is marked">
                    { for query_words(&sql, others).into_iter().map(|w| html! {
                        <>
                        if w.differs { <mark class="differs">{ w.text }</mark> } else { { w.text } }
                        { w.blank }
                        </>
                    }) }
                </pre>
            }
            { body }
            <p><a class="side-open" href={format!("{}?example={}", super::page_path(), e.id)} target="_blank" rel="noopener">{"Open in the playground"}</a></p>
        </section>
    }
}

fn side_numbers(side: &Side, s: &Snapshot) -> Html {
    if side.refused() {
        let e = s.error.clone().unwrap_or_else(|| crate::protocol::ErrorInfo {
            kind: String::new(),
            message: String::new(),
            line: None,
            column: None,
        });
        return html! {
            <div class="error side-refused" role="alert">
                <div class="kind">{ e.kind }</div>
                <div class="message">{ e.message }</div>
                <p>{"Spark refuses this query when it starts: this side runs no batch."}</p>
            </div>
        };
    }
    let mark = s.scrub.kept.iter().find(|m| m.position == s.scrub.position);
    let ids = mark.map(|m| m.batch_ids.clone()).unwrap_or_default();
    let this_step: Vec<_> = s.batches.iter().filter(|b| ids.contains(&b.batch_id)).collect();
    let last = s.batches.last();
    let watermark = last.map_or("none (nothing has run)".to_string(), |b| b.watermark.clone().unwrap_or_else(|| "none".into()));
    let late: u64 = this_step.iter().map(|b| b.dropped_late).sum();
    let late_total: u64 = s.batches.iter().map(|b| b.dropped_late).sum();
    let emitted: u64 = this_step.iter().map(|b| b.output_rows).sum();
    let state = last.map_or(0, |b| b.state_rows);
    let late_rows: Vec<_> = this_step.iter().flat_map(|b| b.late.iter().map(move |l| (b.batch_id, l))).collect();
    let changes = changes_of(side, s);
    html! {
        <>
        <dl class="side-numbers">
            <div><dt>{"Watermark"}</dt><dd class="side-watermark" title="In effect for the last batch, as Spark's progress reports it">{ watermark }</dd></div>
            <div><dt>{"State rows"}</dt><dd class="side-state">{ state }</dd></div>
            <div><dt>{"Late rows dropped"}</dt><dd class="side-late" data-total={late_total.to_string()}>{ format!("{late} this step, {late_total} in all") }</dd></div>
            <div><dt>{"Rows emitted"}</dt><dd class="side-emitted" data-count={emitted.to_string()}>{ format!("{emitted} this step ({})", s.output_mode) }</dd></div>
        </dl>
        <h3>{"Change stream of this step"}</h3>
        { match changes {
            Err(why) => html! { <p class="muted side-no-change">{ why }</p> },
            Ok(c) if c.is_empty() => html! { <p class="muted side-no-change">{ if s.scrub.position == 0 { "Nothing has run yet." } else { "No change to the sink." } }</p> },
            Ok(c) => html! {
                <div class="table-scroll">
                <table class="side-changes">
                    { header(&s.columns, Some("±")) }
                    <tbody>
                        { for c.iter().map(|ch| html! {
                            <tr class={if ch.weight > 0 { "plus" } else { "minus" }} data-weight={ch.weight.to_string()}>
                                <td class="change weight">{ weight_label(ch.weight) }</td>{ row_cells(&ch.row) }
                            </tr>
                        }) }
                    </tbody>
                </table>
                </div>
            },
        } }
        <h3>{ format!("The sink holds {} {}", s.sink_total, if s.sink_total == 1 { "row" } else { "rows" }) }</h3>
        if s.sink.is_empty() {
            <p class="muted side-sink-empty">{"Empty."}</p>
        } else {
            <div class="table-scroll">
            <table class="side-sink">
                { header(&s.columns, None) }
                <tbody>{ for s.sink.iter().map(|r| html! { <tr>{ row_cells(r) }</tr> }) }</tbody>
            </table>
            </div>
        }
        if !late_rows.is_empty() {
            <h3>{"Dropped as late this step"}</h3>
            <ul class="side-late-rows">
                { for late_rows.iter().map(|(b, l)| html! {
                    <li>
                        <code>{ l.row.iter().map(cell).collect::<Vec<_>>().join(", ") }</code>
                        { format!(": event time {}, behind the watermark {} of batch {b}", format_timestamp(l.event_time), format_timestamp(l.watermark)) }
                        { l.window.map(|(a, z)| format!(", in the closed window [{}, {})", format_timestamp(a), format_timestamp(z))).unwrap_or_default() }
                    </li>
                }) }
            </ul>
        }
        </>
    }
}
