//! The SQL editor: a textarea over a highlighted copy of its text, with line numbers, the
//! error underlined where the engine placed it, and completion of source, table, column,
//! function and keyword names (a function with its signature and description).

use web_sys::HtmlTextAreaElement;
use yew::prelude::*;

use unbounded_engine::expr::catalog::{self, FunctionDoc};

use crate::protocol::{ErrorInfo, RelationInfo};

const KEYWORDS: &[&str] = &[
    "SELECT",
    "FROM",
    "WHERE",
    "GROUP",
    "BY",
    "ORDER",
    "HAVING",
    "LIMIT",
    "JOIN",
    "LEFT",
    "RIGHT",
    "FULL",
    "OUTER",
    "INNER",
    "ON",
    "USING",
    "AS",
    "AND",
    "OR",
    "NOT",
    "IN",
    "IS",
    "NULL",
    "TRUE",
    "FALSE",
    "CASE",
    "WHEN",
    "THEN",
    "ELSE",
    "END",
    "BETWEEN",
    "LIKE",
    "DISTINCT",
    "UNION",
    "ALL",
    "WITH",
    "ASC",
    "DESC",
    "CAST",
    "STREAM",
    "WATERMARK",
    "DELAY",
    "OF",
    "INTERVAL",
    "DEDUPLICATE",
    "WITHIN",
    "SECOND",
    "SECONDS",
    "MINUTE",
    "MINUTES",
    "HOUR",
    "HOURS",
    "DAY",
    "DAYS",
];

/// A token's class, for its colour.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Keyword,
    Function,
    String,
    Number,
    Comment,
    Plain,
}

/// Splits SQL into (kind, text) pieces that concatenate back to the text.
pub fn tokens(sql: &str) -> Vec<(Kind, String)> {
    let chars: Vec<char> = sql.chars().collect();
    let mut out: Vec<(Kind, String)> = Vec::new();
    let mut i = 0;
    let push = |out: &mut Vec<(Kind, String)>, kind: Kind, text: String| match out.last_mut() {
        Some((k, t)) if *k == kind && kind == Kind::Plain => t.push_str(&text),
        _ => out.push((kind, text)),
    };
    while i < chars.len() {
        let c = chars[i];
        let start = i;
        if c == '-' && chars.get(i + 1) == Some(&'-') {
            while i < chars.len() && chars[i] != '\n' {
                i += 1;
            }
            push(&mut out, Kind::Comment, chars[start..i].iter().collect());
        } else if c == '\'' || c == '"' || c == '`' {
            i += 1;
            while i < chars.len() && chars[i] != c {
                i += 1;
            }
            i = (i + 1).min(chars.len());
            let kind = if c == '`' { Kind::Plain } else { Kind::String };
            push(&mut out, kind, chars[start..i].iter().collect());
        } else if c.is_ascii_digit() {
            while i < chars.len() && (chars[i].is_ascii_alphanumeric() || chars[i] == '.') {
                i += 1;
            }
            push(&mut out, Kind::Number, chars[start..i].iter().collect());
        } else if c.is_alphabetic() || c == '_' {
            while i < chars.len() && (chars[i].is_alphanumeric() || chars[i] == '_') {
                i += 1;
            }
            let word: String = chars[start..i].iter().collect();
            let mut j = i;
            while j < chars.len() && chars[j] == ' ' {
                j += 1;
            }
            let kind = if chars.get(j) == Some(&'(') && !KEYWORDS.contains(&word.to_ascii_uppercase().as_str()) {
                Kind::Function
            } else if KEYWORDS.contains(&word.to_ascii_uppercase().as_str()) {
                Kind::Keyword
            } else {
                Kind::Plain
            };
            push(&mut out, kind, word);
        } else {
            i += 1;
            push(&mut out, Kind::Plain, c.to_string());
        }
    }
    out
}

/// The character index of 1-based (line, column) in `sql`.
fn char_index(sql: &str, line: u64, column: u64) -> Option<usize> {
    let mut index = 0;
    for (k, text) in sql.split('\n').enumerate() {
        if k as u64 + 1 == line {
            return Some(index + (column.saturating_sub(1) as usize).min(text.chars().count()));
        }
        index += text.chars().count() + 1;
    }
    None
}

/// The highlighted text, with the token at the error's place underlined.
fn highlighted(sql: &str, error: Option<&ErrorInfo>) -> Html {
    let at = error.and_then(|e| char_index(sql, e.line?, e.column?));
    let mut pos = 0;
    let mut pieces = Vec::new();
    for (kind, text) in tokens(sql) {
        let len = text.chars().count();
        let class = match kind {
            Kind::Keyword => "kw",
            Kind::Function => "fn",
            Kind::String => "str",
            Kind::Number => "num",
            Kind::Comment => "cmt",
            Kind::Plain => "",
        };
        let here = at.filter(|a| *a >= pos && *a < pos + len.max(1));
        match (here, error) {
            (Some(a), Some(e)) if kind == Kind::Plain && len > 1 => {
                // Underline from the error's column to the end of its word.
                let before: String = text.chars().take(a - pos).collect();
                let rest: String = text.chars().skip(a - pos).collect();
                let word_len = rest.chars().take_while(|c| c.is_alphanumeric() || *c == '_' || *c == '.').count().max(1);
                let word: String = rest.chars().take(word_len).collect();
                let after: String = rest.chars().skip(word_len).collect();
                pieces.push(html! { <>{ before }<span class="err" title={e.message.clone()}>{ word }</span>{ after }</> });
            }
            (Some(_), Some(e)) => pieces.push(html! { <span class={classes!(class, "err")} title={e.message.clone()}>{ text }</span> }),
            _ if class.is_empty() => pieces.push(html! { <>{ text }</> }),
            _ => pieces.push(html! { <span class={class}>{ text }</span> }),
        }
        pos += len;
    }
    // A trailing newline needs a character after it to keep the last line's height.
    html! { <>{ for pieces }{"\u{200b}"}</> }
}

/// One name offered to complete the word being typed.
#[derive(Debug, Clone, PartialEq)]
pub struct Candidate {
    pub name: String,
    /// source, table, column, function or keyword.
    pub kind: &'static str,
    /// A function's signature and description.
    pub doc: Option<&'static FunctionDoc>,
}

/// Names to complete: keywords, the relations, their columns and the functions.
pub fn candidates(prefix: &str, sources: &[RelationInfo], tables: &[RelationInfo]) -> Vec<Candidate> {
    let lower = prefix.to_ascii_lowercase();
    let mut out: Vec<Candidate> = Vec::new();
    let mut add = |name: &str, kind: &'static str, doc: Option<&'static FunctionDoc>| {
        if name.to_ascii_lowercase().starts_with(&lower) && !name.eq_ignore_ascii_case(prefix) && !out.iter().any(|c| c.name == name) {
            out.push(Candidate { name: name.to_string(), kind, doc });
        }
    };
    for r in sources {
        add(&r.name, "source", None);
    }
    for r in tables {
        add(&r.name, "table", None);
    }
    for r in sources.iter().chain(tables) {
        for c in &r.columns {
            add(&c.name, "column", None);
        }
    }
    // The catalog holds every callable name (the engine's tests keep it so).
    for f in catalog::FUNCTIONS {
        add(f.name, "function", Some(f));
    }
    for k in KEYWORDS {
        add(k, "keyword", None);
    }
    out.truncate(12);
    out
}

/// The identifier being typed at character `caret`: its start and text.
fn word_at(text: &str, caret: usize) -> (usize, String) {
    let chars: Vec<char> = text.chars().collect();
    let caret = caret.min(chars.len());
    let mut start = caret;
    while start > 0 && (chars[start - 1].is_alphanumeric() || chars[start - 1] == '_') {
        start -= 1;
    }
    (start, chars[start..caret].iter().collect())
}

#[derive(Properties, PartialEq)]
pub struct Props {
    pub value: String,
    pub error: Option<ErrorInfo>,
    pub sources: Vec<RelationInfo>,
    pub tables: Vec<RelationInfo>,
    pub on_change: Callback<String>,
    /// Ctrl/Cmd+Enter.
    pub on_run: Callback<()>,
}

#[function_component(Editor)]
pub fn editor(props: &Props) -> Html {
    let area = use_node_ref();
    let backdrop = use_node_ref();
    let gutter = use_node_ref();
    // Completion: the word being typed (its start) and the offered names, with the chosen one.
    let completion = use_state(|| None::<(usize, Vec<Candidate>, usize)>);
    let lines = props.value.split('\n').count().max(1);

    let sync_scroll = {
        let (area, backdrop, gutter) = (area.clone(), backdrop.clone(), gutter.clone());
        move || {
            if let Some(a) = area.cast::<HtmlTextAreaElement>() {
                if let Some(b) = backdrop.cast::<web_sys::Element>() {
                    b.set_scroll_top(a.scroll_top());
                    b.set_scroll_left(a.scroll_left());
                }
                if let Some(g) = gutter.cast::<web_sys::Element>() {
                    g.set_scroll_top(a.scroll_top());
                }
            }
        }
    };
    let accept = {
        let (area, completion, on_change) = (area.clone(), completion.clone(), props.on_change.clone());
        move |name: &str| {
            let Some(a) = area.cast::<HtmlTextAreaElement>() else { return };
            let Some((start, _, _)) = (*completion).clone() else { return };
            let text = a.value();
            let caret = a.selection_start().ok().flatten().unwrap_or(0) as usize;
            let chars: Vec<char> = text.chars().collect();
            let next: String = chars[..start]
                .iter()
                .chain(name.chars().collect::<Vec<_>>().iter())
                .chain(chars[caret.min(chars.len())..].iter())
                .collect();
            a.set_value(&next);
            let at = (start + name.chars().count()) as u32;
            let _ = a.set_selection_range(at, at);
            on_change.emit(next);
            completion.set(None);
        }
    };
    let oninput = {
        let (completion, on_change, sources, tables) =
            (completion.clone(), props.on_change.clone(), props.sources.clone(), props.tables.clone());
        Callback::from(move |e: InputEvent| {
            let a: HtmlTextAreaElement = e.target_unchecked_into();
            let text = a.value();
            let caret = a.selection_start().ok().flatten().unwrap_or(0) as usize;
            let (start, word) = word_at(&text, caret);
            let offer = if word.is_empty() || e.input_type() != "insertText" { Vec::new() } else { candidates(&word, &sources, &tables) };
            completion.set((!offer.is_empty()).then_some((start, offer, 0)));
            on_change.emit(text);
        })
    };
    let onkeydown = {
        let (completion, on_run, accept) = (completion.clone(), props.on_run.clone(), accept.clone());
        Callback::from(move |e: KeyboardEvent| {
            if e.key() == "Enter" && (e.ctrl_key() || e.meta_key()) {
                e.prevent_default();
                completion.set(None);
                on_run.emit(());
                return;
            }
            let Some((start, offer, chosen)) = (*completion).clone() else { return };
            match e.key().as_str() {
                "ArrowDown" | "ArrowUp" => {
                    e.prevent_default();
                    let n = offer.len();
                    let next = if e.key() == "ArrowDown" { (chosen + 1) % n } else { (chosen + n - 1) % n };
                    completion.set(Some((start, offer, next)));
                }
                "Tab" | "Enter" => {
                    e.prevent_default();
                    accept(&offer[chosen].name);
                }
                "Escape" => completion.set(None),
                _ => {}
            }
        })
    };
    let onscroll = {
        let sync = sync_scroll.clone();
        Callback::from(move |_: Event| sync())
    };
    let onblur = {
        let completion = completion.clone();
        Callback::from(move |_: FocusEvent| completion.set(None))
    };
    html! {
        <div class="editor">
            <pre class="gutter" ref={gutter} aria-hidden="true">{ (1..=lines).map(|n| n.to_string()).collect::<Vec<_>>().join("\n") }</pre>
            <div class="code">
                <pre class="backdrop" ref={backdrop} aria-hidden="true">{ highlighted(&props.value, props.error.as_ref()) }</pre>
                <textarea id="sql" ref={area} spellcheck="false" rows="8" value={props.value.clone()} {oninput} {onkeydown} {onscroll} {onblur}
                    autocomplete="off" aria-label="Streaming SQL query (Ctrl+Enter starts it)" aria-invalid={props.error.is_some().to_string()}
                    aria-autocomplete="list" aria-controls="completion" />
                if let Some((_, offer, chosen)) = &*completion {
                    <ul id="completion" class="completion" role="listbox">
                        { for offer.iter().enumerate().map(|(k, c)| {
                            let accept = accept.clone();
                            let pick = c.name.clone();
                            // mousedown, not click: the textarea must not lose focus first.
                            let onmousedown = Callback::from(move |e: MouseEvent| { e.prevent_default(); accept(&pick); });
                            let chosen = k == *chosen;
                            html! {
                                <li role="option" aria-selected={chosen.to_string()} class={classes!(chosen.then_some("chosen"))} {onmousedown}>
                                    <code>{ c.doc.map_or(c.name.as_str(), |d| d.signature) }</code><span class="muted">{ format!(" {}", c.kind) }</span>
                                    // The description of the chosen function only: the list stays short to scan.
                                    if let Some(d) = c.doc.filter(|_| chosen) {
                                        <div class="completion-doc">{ d.description }</div>
                                    }
                                </li>
                            }
                        }) }
                    </ul>
                }
            </div>
        </div>
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::protocol::ColumnInfo;

    #[test]
    fn tokens_concatenate_back_and_classify() {
        let sql = "SELECT count(*) AS n, 'a''b' -- note\nFROM STREAM events WHERE x > 10.5";
        let t = tokens(sql);
        assert_eq!(t.iter().map(|(_, s)| s.as_str()).collect::<String>(), sql);
        let kind = |w: &str| t.iter().find(|(_, s)| s == w).map(|(k, _)| *k);
        assert_eq!(kind("SELECT"), Some(Kind::Keyword));
        assert_eq!(kind("count"), Some(Kind::Function));
        assert_eq!(kind("-- note"), Some(Kind::Comment));
        assert_eq!(kind("10.5"), Some(Kind::Number));
        assert_eq!(kind("STREAM"), Some(Kind::Keyword));
    }

    #[test]
    fn completion_offers_names_that_start_with_the_word() {
        let events = RelationInfo {
            name: "events".into(),
            columns: vec![ColumnInfo { name: "event_id".into(), data_type: "string".into() }],
            rows: 0,
            pending: 0,
            read: true,
            table_rows: vec![],
            last_row: None,
            queued: 0,
            kind: String::new(),
        };
        let offer = candidates("ev", &[events], &[]);
        assert_eq!((offer[0].name.as_str(), offer[0].kind, offer[0].doc), ("events", "source", None));
        assert_eq!((offer[1].name.as_str(), offer[1].kind), ("event_id", "column"));
        assert!(candidates("approx", &[], &[]).iter().any(|c| c.name == "approx_count_distinct" && c.kind == "function"));
        assert!(candidates("waterm", &[], &[]).iter().any(|c| c.name == "WATERMARK" && c.doc.is_none()));
        // Every function the engine knows, the newer families too.
        assert!(candidates("regexp_rep", &[], &[]).iter().any(|c| c.name == "regexp_replace"));
        assert!(candidates("stddev_", &[], &[]).iter().any(|c| c.name == "stddev_pop"));
        assert_eq!(word_at("SELECT ev", 9), (7, "ev".to_string()));
        assert_eq!(char_index("ab\ncd", 2, 2), Some(4));
    }

    #[test]
    fn completion_of_a_function_carries_its_signature_and_description() {
        let offer = candidates("date_a", &[], &[]);
        let c = offer.iter().find(|c| c.name == "date_add").expect("date_add offered");
        let doc = c.doc.expect("a function has its doc");
        assert_eq!(doc.signature, "date_add(start_date, num_days)");
        assert!(!doc.description.is_empty());
        // Window functions, generators and lambdas are completed with their signatures too.
        for (prefix, name) in [("session_w", "session_window"), ("posexp", "posexplode"), ("transform_v", "transform_values")] {
            let offer = candidates(prefix, &[], &[]);
            let c = offer.iter().find(|c| c.name == name).unwrap_or_else(|| panic!("{name} offered for {prefix}"));
            assert!(c.doc.is_some_and(|d| d.signature.starts_with(&format!("{name}("))), "{name}: {:?}", c.doc);
        }
    }
}
