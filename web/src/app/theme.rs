//! Light or dark: the person's choice, kept in localStorage; `?theme=light|dark` in the address
//! wins (a documentation site embedding the page matches its own theme). index.html applies it
//! before the first paint; this control changes it.

use web_sys::HtmlSelectElement;
use yew::prelude::*;

const THEME_CHOICE: &str = "unbounded.theme";

fn root() -> Option<web_sys::Element> {
    web_sys::window()?.document()?.document_element()
}

/// The theme in effect: "light", "dark" or "system".
fn current() -> String {
    root().and_then(|r| r.get_attribute("data-theme")).filter(|t| t == "light" || t == "dark").unwrap_or_else(|| "system".into())
}

fn apply(theme: &str) {
    if let Some(r) = root() {
        let _ = match theme {
            "light" | "dark" => r.set_attribute("data-theme", theme),
            _ => r.remove_attribute("data-theme"),
        };
    }
    if let Some(s) = web_sys::window().and_then(|w| w.local_storage().ok().flatten()) {
        let _ = s.set_item(THEME_CHOICE, theme);
    }
}

#[function_component(ThemeChoice)]
pub fn theme_choice() -> Html {
    let theme = use_state(current);
    let onchange = {
        let theme = theme.clone();
        Callback::from(move |e: Event| {
            let value = e.target_unchecked_into::<HtmlSelectElement>().value();
            apply(&value);
            theme.set(value);
        })
    };
    html! {
        <label class="theme-choice" for="theme">{"Theme "}
            <select id="theme" {onchange}>
                { for [("system", "as the system"), ("light", "light"), ("dark", "dark")].into_iter().map(|(value, label)| html! {
                    <option {value} selected={*theme == value}>{ label }</option>
                }) }
            </select>
        </label>
    }
}
