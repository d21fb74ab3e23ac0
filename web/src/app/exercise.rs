//! The exercise view (`?exercise=id`, or `?exercise=` for the list): predict, then run. The
//! example runs in a session of its own (its own worker, in memory: no saved session is read or
//! written) from batch 0 to its end, and the query is offered in each output mode; the page keeps
//! each position and shows a run's outcome only once the learner has locked in a prediction.

use std::collections::{BTreeMap, BTreeSet};
use std::rc::Rc;

use yew::prelude::*;

use super::backend::{Backend, Message};
use crate::exercise::{self, arrivals, example_of, pose, runs_of, Ask, Exercise, Posed, Recording, EXERCISES, MODES};
use crate::protocol::{cell, Request, Snapshot, StorageKind};

/// The exercise the page's address asks for (`?exercise=...`), if it asks for one.
pub fn requested() -> Option<String> {
    super::query_param("exercise")
}

#[function_component(ExercisePage)]
pub fn exercise_page() -> Html {
    let parsed = use_memo((), |_| exercise::parse(&requested().unwrap_or_default()).map(|e| e.map(|e| e.id)));
    let home = super::page_path();
    html! {
        <div class="page exercise-page">
            <header>
                <h1><a href={home.clone()} class="home">{"Unbounded"}</a></h1>
                <p class="tagline">{"Predict, then run: say what Spark will do before each batch, then see what it did and why."}</p>
                <div class="settings"><super::theme::ThemeChoice /></div>
            </header>
            { match &*parsed {
                Ok(None) => html! { <ExerciseList /> },
                Ok(Some(id)) => html! { <ExerciseView id={*id} /> },
                Err(e) => html! {
                    <div id="exercise-error" class="error exercise-error" role="alert">
                        <div class="kind">{"This exercise cannot be opened"}</div>
                        <div class="message">{ e.to_string() }</div>
                        <p><a href={format!("{home}?exercise=")}>{"See every exercise"}</a>{" · "}<a href={home}>{"Open the playground"}</a></p>
                    </div>
                },
            } }
        </div>
    }
}

fn link(id: &str) -> String {
    format!("{}?exercise={id}", super::page_path())
}

#[function_component(ExerciseList)]
fn exercise_list() -> Html {
    let mut concepts: Vec<&str> = Vec::new();
    for e in EXERCISES {
        if !concepts.contains(&e.concept) {
            concepts.push(e.concept);
        }
    }
    html! {
        <section id="exercise-list" class="panel exercise-list">
            <h2>{ format!("{} exercises for interview and certification practice", EXERCISES.len()) }</h2>
            <p class="muted">{"Each runs a gallery example batch by batch. Before a batch you predict: its watermark, the rows it writes, the rows it drops as late, the state it keeps, or the output modes Spark allows. The engine then answers and explains."}</p>
            <ul>
                { for concepts.iter().map(|c| html! {
                    <li class="concept"><strong>{ *c }</strong>
                        <ul>{ for EXERCISES.iter().filter(|e| e.concept == *c).map(|e| html! {
                            <li><a id={format!("exercise-{}", e.id)} href={link(e.id)}>{ e.title }</a>
                                <span class="muted">{ format!(" · {} {}", e.questions.len(), if e.questions.len() == 1 { "question" } else { "questions" }) }</span></li>
                        }) }</ul>
                    </li>
                }) }
            </ul>
        </section>
    }
}

/// What the worker has answered, by request number, and whether it stopped.
#[derive(Clone, Default, PartialEq)]
struct Answers {
    by_request: BTreeMap<u64, Rc<Snapshot>>,
    stopped: Option<String>,
}

enum Action {
    Snapshot(Box<Snapshot>),
    Stopped(String),
}

impl Reducible for Answers {
    type Action = Action;

    fn reduce(self: Rc<Self>, action: Action) -> Rc<Self> {
        let mut next = (*self).clone();
        match action {
            Action::Snapshot(s) => {
                next.by_request.insert(s.answered, Rc::new(*s));
            }
            Action::Stopped(why) => next.stopped = Some(why),
        }
        Rc::new(next)
    }
}

/// The requests after `Init`: every run of the scenario, then the query in each output mode.
fn recording_requests(first: &Snapshot, runs: u64) -> Vec<Request> {
    let mut out: Vec<Request> = (0..runs).map(|_| Request::StepForward).collect();
    out.extend(MODES.iter().map(|m| Request::SetQuery { sql: first.sql.clone(), output_mode: m.to_string() }));
    out
}

/// The recording, once every request has been answered: request 1 is `Init` (position 0).
fn recording(answers: &Answers, runs: u64) -> Option<Recording> {
    let total = 1 + runs + MODES.len() as u64;
    let all: Vec<&Rc<Snapshot>> = (1..=total).map(|k| answers.by_request.get(&k)).collect::<Option<_>>()?;
    let positions = all[..=runs as usize].iter().map(|s| (***s).clone()).collect();
    let modes = MODES.iter().zip(&all[runs as usize + 1..]).map(|(m, s)| (m.to_string(), s.error.clone())).collect();
    Some(Recording { positions, modes })
}

#[derive(Properties, PartialEq)]
struct ViewProps {
    id: &'static str,
}

/// The learner's answer to one question, locked in.
#[derive(Clone, PartialEq)]
struct Locked {
    chosen: BTreeSet<usize>,
    right: bool,
}

#[function_component(ExerciseView)]
fn exercise_view(props: &ViewProps) -> Html {
    let Some(ex) = exercise::exercise_by_id(props.id) else { return html! {} };
    let example = example_of(ex);
    let runs = runs_of(example.scenario);
    let backend = use_memo((), |_| Backend::start());
    let answers = use_reducer(Answers::default);
    {
        let (backend, dispatcher) = (backend.clone(), answers.dispatcher());
        let scenario = example.scenario.to_string();
        use_effect_with((), move |_| {
            match &*backend {
                Ok(b) => {
                    let (d, sender) = (dispatcher.clone(), b.clone());
                    b.listen(Callback::from(move |m: Message| match m {
                        Message::Snapshot(s) => {
                            // The session at batch 0 came: record every run, then each output mode.
                            if s.answered == 1 {
                                for r in recording_requests(&s, runs) {
                                    sender.send(r);
                                }
                            }
                            d.dispatch(Action::Snapshot(s))
                        }
                        Message::Stopped(why) => d.dispatch(Action::Stopped(why)),
                    }));
                    b.send(Request::Init {
                        storage: StorageKind::Memory,
                        scenario: Some(scenario),
                        session: String::new(),
                        read_only: false,
                    });
                }
                Err(e) => dispatcher.dispatch(Action::Stopped(e.clone())),
            }
            let backend = backend.clone();
            move || {
                if let Ok(b) = &*backend {
                    b.terminate();
                }
            }
        });
    }
    let recorded = use_memo((answers.clone(), runs), |(a, runs)| recording(a, *runs));
    let current = use_state(|| 0usize);
    let chosen = use_state(BTreeSet::<usize>::new);
    let locked = use_state(Vec::<Locked>::new);
    let shared = super::query_param("score").and_then(|v| exercise::shared_score(&v, ex));

    let intro = html! {
        <section class="panel exercise-intro">
            <p class="muted">{ ex.concept }{" · practising the example "}<a href={format!("{}?example={}", super::page_path(), example.id)} target="_blank" rel="noopener">{ example.title }</a></p>
            <h2 id="exercise-title">{ ex.title }</h2>
            <p class="watch">{ ex.hint }</p>
            if let Some(k) = shared {
                <p id="exercise-shared" class="notice">{ format!("A shared result: {k} of {} right. Your turn.", ex.questions.len()) }</p>
            }
        </section>
    };
    let Some(rec) = (*recorded).clone() else {
        let body = match &answers.stopped {
            Some(why) => {
                html! { <div class="error" role="alert"><div class="kind">{"the engine stopped"}</div><div class="message">{ why.clone() }</div></div> }
            }
            None => {
                html! { <p id="exercise-loading" class="muted">{ format!("The engine is running the example: {} of {} answers…", answers.by_request.len(), runs + 4) }</p> }
            }
        };
        return html! { <>{ intro }<section class="panel">{ body }</section></> };
    };
    let n = ex.questions.len();
    let score = locked.iter().filter(|l| l.right).count();
    let k = (*current).min(n.saturating_sub(1));
    let q = ex.questions[k];
    let posed = pose(&q, &rec);
    let answered = locked.get(k).cloned();
    let finished = locked.len() == n;

    let on_choose = |i: usize, multi: bool| {
        let chosen = chosen.clone();
        Callback::from(move |_: Event| {
            let mut next = (*chosen).clone();
            if multi {
                if !next.remove(&i) {
                    next.insert(i);
                }
            } else {
                next = BTreeSet::from([i]);
            }
            chosen.set(next);
        })
    };
    let on_lock = {
        let (chosen, locked, posed) = (chosen.clone(), locked.clone(), posed.clone());
        Callback::from(move |_: MouseEvent| {
            if let Ok(p) = &posed {
                let mut next = (*locked).clone();
                if next.len() == k {
                    next.push(Locked { chosen: (*chosen).clone(), right: p.grade(&chosen) });
                    locked.set(next);
                }
            }
        })
    };
    let on_next = {
        let (current, chosen) = (current.clone(), chosen.clone());
        Callback::from(move |_: MouseEvent| {
            current.set(k + 1);
            chosen.set(BTreeSet::new());
        })
    };
    let on_again = {
        let (current, chosen, locked) = (current.clone(), chosen.clone(), locked.clone());
        Callback::from(move |_: MouseEvent| {
            current.set(0);
            chosen.set(BTreeSet::new());
            locked.set(Vec::new());
        })
    };
    // The whole address: a link to copy into a chat, not a path.
    let origin = web_sys::window().and_then(|w| w.location().origin().ok()).unwrap_or_default();
    let share = format!("{origin}{}&score={score}", link(ex.id));

    html! {
        <>
        { intro }
        <section id="exercise-progress" class="panel exercise-progress" data-score={score.to_string()} data-question={(k + 1).to_string()}>
            <span>{ format!("Question {} of {n}", k + 1) }</span>
            <span id="exercise-score">{ format!("Score: {score} of {}", locked.len()) }</span>
            <a href={format!("{}?exercise=", super::page_path())}>{"All exercises"}</a>
        </section>
        <div class="exercise-body">
            { before_view(ex, &rec, q.run, q.ask) }
            { match posed {
                Err(why) => html! { <section class="panel error" role="alert">{ why.to_string() }</section> },
                Ok(p) => question_view(&p, &chosen, answered.as_ref(), on_choose, on_lock),
            } }
            if let Some(l) = answered {
                { after_view(&rec, q.run, q.ask, l.right) }
                <section class="panel exercise-next">
                    if finished {
                        <p id="exercise-final" class="final">{ format!("Done: {score} of {n} right.") }</p>
                        <p>{"Share this exercise with your score: "}<a id="exercise-share" href={share.clone()}>{ share.clone() }</a></p>
                        <button id="exercise-again" onclick={on_again}>{"Try again"}</button>
                    } else {
                        <button id="exercise-next" class="primary" onclick={on_next}>{"Next question ▶"}</button>
                    }
                </section>
            }
        </div>
        </>
    }
}

fn row_text(row: &[serde_json::Value]) -> String {
    row.iter().map(cell).collect::<Vec<_>>().join(", ")
}

/// What the learner knows before the run: the query, where the engine stands, what arrives next.
fn before_view(ex: &Exercise, rec: &Recording, run: u64, ask: Ask) -> Html {
    let example = example_of(ex);
    let Some(before) = rec.positions.get(run.saturating_sub(1) as usize).filter(|_| run > 0).or(rec.positions.first()) else {
        return html! {};
    };
    let coming = arrivals(example.scenario, run);
    let state = before.batches.last().map_or(0, |b| b.state_rows);
    html! {
        <section id="exercise-before" class="panel exercise-before">
            <h3>{ if run == 0 { "The query".to_string() } else { format!("Before run {run}") } }</h3>
            <p class="side-mode">{"Output mode: "}<code>{ &before.output_mode }</code></p>
            <pre class="side-query">{ &before.sql }</pre>
            if run > 0 && ask != Ask::Modes {
                <dl class="side-numbers">
                    <div><dt>{"Watermark now"}</dt><dd id="exercise-watermark-now">{ before.watermark.clone().unwrap_or_else(|| "none".into()) }</dd></div>
                    <div><dt>{"State rows"}</dt><dd>{ state }</dd></div>
                    <div><dt>{"The sink holds"}</dt><dd>{ format!("{} {}", before.sink_total, if before.sink_total == 1 { "row" } else { "rows" }) }</dd></div>
                </dl>
                if !before.sink.is_empty() {
                    <details class="exercise-sink"><summary>{"What the sink holds so far"}</summary>
                        <div class="table-scroll"><table>
                            <thead><tr>{ for before.columns.iter().map(|c| html! { <th>{ c }</th> }) }</tr></thead>
                            <tbody>{ for before.sink.iter().map(|r| html! { <tr>{ for r.iter().map(|v| html! { <td>{ cell(v) }</td> }) }</tr> }) }</tbody>
                        </table></div>
                    </details>
                }
                <h4>{ format!("Arriving for run {run}") }</h4>
                if coming.rows.is_empty() && coming.other.is_empty() {
                    <p class="muted">{"No new event: the run only gives the engine a chance to act on its watermark."}</p>
                }
                <ul id="exercise-arrivals" class="arrivals">
                    { for coming.rows.iter().map(|(src, r)| html! { <li><code>{ format!("{src}: {}", row_text(r)) }</code></li> }) }
                    { for coming.other.iter().map(|o| html! { <li class="notice">{ o.clone() }</li> }) }
                </ul>
            }
        </section>
    }
}

fn question_view(
    p: &Posed,
    chosen: &BTreeSet<usize>,
    answered: Option<&Locked>,
    on_choose: impl Fn(usize, bool) -> Callback<Event>,
    on_lock: Callback<MouseEvent>,
) -> Html {
    let kind = if p.multi { "checkbox" } else { "radio" };
    let shown = answered.map_or(chosen, |l| &l.chosen);
    html! {
        <section id="exercise-question" class="panel exercise-question">
            <p id="exercise-prompt" class="prompt">{ &p.prompt }</p>
            <fieldset class="options" disabled={answered.is_some()}>
                <legend class="muted">{ if p.multi { "Pick every one that applies" } else { "Pick one" } }</legend>
                { for p.options.iter().enumerate().map(|(i, o)| {
                    let mark = answered.map(|_| if p.correct.contains(&i) { "right-option" } else if shown.contains(&i) { "wrong-option" } else { "" });
                    html! {
                        <label class={classes!("option", mark)}>
                            <input type={kind} name="exercise-option" value={i.to_string()} checked={shown.contains(&i)} onchange={on_choose(i, p.multi)} />
                            { o.clone() }
                        </label>
                    }
                }) }
            </fieldset>
            if answered.is_none() {
                <button id="exercise-lock" class="primary" disabled={chosen.is_empty()} onclick={on_lock}>{"Lock in and run ▶"}</button>
            } else if let Some(l) = answered {
                <div id="exercise-verdict" class={classes!("verdict", if l.right { "right" } else { "wrong" })} role="status">
                    { if l.right { "Right." } else { "Not quite." } }
                    { format!(" The engine: {}.", p.correct.iter().map(|k| p.options[*k].clone()).collect::<Vec<_>>().join(", ")) }
                </div>
                <ul id="exercise-why" class="why">{ for p.why.iter().map(|w| html! { <li>{ w.clone() }</li> }) }</ul>
            }
        </section>
    }
}

/// What the run did, once answered: the sink as it is after it.
fn after_view(rec: &Recording, run: u64, ask: Ask, _right: bool) -> Html {
    if ask == Ask::Modes || run == 0 {
        return html! {};
    }
    let Some(after) = rec.positions.get(run as usize) else { return html! {} };
    html! {
        <section id="exercise-after" class="panel exercise-after">
            <h3>{ format!("After run {run}: the sink holds {} {}", after.sink_total, if after.sink_total == 1 { "row" } else { "rows" }) }</h3>
            if !after.sink.is_empty() {
                <div class="table-scroll"><table>
                    <thead><tr>{ for after.columns.iter().map(|c| html! { <th>{ c }</th> }) }</tr></thead>
                    <tbody>{ for after.sink.iter().map(|r| html! { <tr>{ for r.iter().map(|v| html! { <td>{ cell(v) }</td> }) }</tr> }) }</tbody>
                </table></div>
            }
        </section>
    }
}
