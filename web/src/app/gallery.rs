//! The example gallery, by topic: one click loads an example as the session.

use yew::prelude::*;

use crate::gallery::{Example, EXAMPLES};
use crate::protocol::Request;

#[derive(Properties, PartialEq)]
pub struct Props {
    pub send: Callback<Request>,
    /// The example shown now, to mark it.
    pub current: Option<&'static str>,
}

#[function_component(Gallery)]
pub fn gallery(props: &Props) -> Html {
    let mut topics: Vec<&str> = Vec::new();
    for e in EXAMPLES {
        if !topics.contains(&e.topic) {
            topics.push(e.topic);
        }
    }
    let button = |e: &'static Example| {
        let send = props.send.clone();
        let onclick = Callback::from(move |_: MouseEvent| send.emit(Request::LoadScenario { text: e.scenario.to_string() }));
        let current = props.current == Some(e.id);
        // Examples over the same events, one thing apart, open side by side (in a tab of their own:
        // this session stays as it is).
        let compare = crate::compare::comparison_of(e.id).map(|c| {
            html! {
                <a id={format!("compare-{}", e.id)} class="compare-link" href={crate::compare::link(c.ids)} target="_blank" rel="noopener" title={c.lesson}>{"Compare side by side"}</a>
            }
        });
        // Exercises over the example open in a tab of their own, as comparisons do.
        let practise = crate::exercise::EXERCISES.iter().find(|x| x.example == e.id).map(|x| {
            html! {
                <a id={format!("practise-{}", e.id)} class="compare-link" href={format!("?exercise={}", x.id)} target="_blank" rel="noopener" title={x.title}>{"Predict, then run"}</a>
            }
        });
        html! {
            <li><button id={format!("example-{}", e.id)} class={classes!("example", current.then_some("current"))} aria-current={current.then_some("true")} title={e.watch} {onclick}>{ e.title }</button>{ compare }{ practise }</li>
        }
    };
    html! {
        <details id="gallery" class="panel">
            <summary>{ format!("Examples ({}): every feature, one click each", EXAMPLES.len()) }</summary>
            <p class="practise-all"><a id="exercises-link" href="?exercise=" target="_blank" rel="noopener">{ format!("Predict, then run: {} exercises for interview and certification practice", crate::exercise::EXERCISES.len()) }</a></p>
            <div class="topics">
                { for topics.iter().map(|t| html! {
                    <div class="topic">
                        <h3>{ *t }</h3>
                        <ul>{ for EXAMPLES.iter().filter(|e| e.topic == *t).map(button) }</ul>
                    </div>
                }) }
            </div>
        </details>
    }
}

/// The example a session came from, by its scenario's name (names are read once).
pub fn example_named(name: &str) -> Option<&'static Example> {
    static NAMES: std::sync::OnceLock<Vec<String>> = std::sync::OnceLock::new();
    let names = NAMES.get_or_init(|| {
        EXAMPLES
            .iter()
            .map(|e| match unbounded_engine::pipeline::scenario::PipelineScenario::parse_if_pipeline(e.scenario) {
                Ok(Some(p)) => p.base.name,
                _ => unbounded_engine::scenario::Scenario::parse(e.scenario).map(|s| s.name).unwrap_or_default(),
            })
            .collect()
    });
    names.iter().position(|n| n == name).map(|k| &EXAMPLES[k])
}
