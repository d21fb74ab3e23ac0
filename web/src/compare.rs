//! Side by side: two or three gallery examples over the same events, stepped together. This is
//! the part without a page: which examples a `?compare=` link names (links are untrusted input),
//! which words of their queries differ, and what one step did to a sink, as a change stream.

use std::collections::HashMap;
use std::fmt;

use serde_json::Value as Json;

use crate::gallery::{example_by_id, Example};

/// The most sessions a comparison steps together: each is a worker of its own.
pub const MAX_SIDES: usize = 3;
/// The longest `?compare=` value read: three ids are far shorter; longer is no link of ours.
pub const MAX_PARAM_CHARS: usize = 200;
/// The most characters of a link's text quoted back in an error.
const QUOTED_CHARS: usize = 40;

/// The gallery's lessons seen side by side: examples over the same events, one thing apart.
pub struct Comparison {
    pub ids: &'static [&'static str],
    /// The one difference, and what to watch for.
    pub lesson: &'static str,
}

pub const COMPARISONS: &[Comparison] = &[
    Comparison {
        ids: &["watermark-small", "watermark-large"],
        lesson: "The watermark's delay, 2 s against 30 s: when each window comes out, which stragglers are dropped, how much state is held.",
    },
    Comparison {
        ids: &["dedup-window-append", "dedup-window-update"],
        lesson: "The output mode, append against update: a window written once when final, or every time it changes.",
    },
    Comparison {
        ids: &["join-then-window", "join-then-window-update", "join-then-window-complete"],
        lesson: "The output mode after a stream-stream join: append waits for the join's output watermark, update writes at once, complete is refused.",
    },
];

/// The link that opens a comparison.
pub fn link(ids: &[&str]) -> String {
    format!("?compare={}", ids.join(","))
}

/// The comparison an example is part of, for its "Compare side by side" link.
pub fn comparison_of(id: &str) -> Option<&'static Comparison> {
    COMPARISONS.iter().find(|c| c.ids.contains(&id))
}

/// Why a `?compare=` link opens no comparison.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CompareError {
    TooLong {
        chars: usize,
    },
    TooFew {
        count: usize,
    },
    TooMany {
        count: usize,
    },
    Unknown {
        id: String,
    },
    Repeated {
        id: String,
    },
    Pipeline {
        id: &'static str,
    },
    /// Two examples that do not read the same events: side by side would show more than one difference.
    NotSameInput {
        a: &'static str,
        b: &'static str,
    },
}

/// A piece of a link as an error may quote it: bounded, control characters shown as `?`.
fn quoted(text: &str) -> String {
    let mut s: String = text.chars().take(QUOTED_CHARS).map(|c| if c.is_control() { '?' } else { c }).collect();
    if text.chars().count() > QUOTED_CHARS {
        s.push('…');
    }
    s
}

fn known_comparisons() -> String {
    COMPARISONS.iter().map(|c| c.ids.join(",")).collect::<Vec<_>>().join("; ")
}

impl fmt::Display for CompareError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            CompareError::TooLong { chars } => {
                write!(f, "the list of examples is {chars} characters long, more than the {MAX_PARAM_CHARS} a comparison reads")
            }
            CompareError::TooFew { count } => {
                write!(f, "a comparison needs two or three example ids separated by commas, and this link names {count}")
            }
            CompareError::TooMany { count } => write!(f, "a comparison shows at most {MAX_SIDES} examples, and this link names {count}"),
            CompareError::Unknown { id } => write!(f, "there is no example `{}`", quoted(id)),
            CompareError::Repeated { id } => write!(f, "the example `{id}` is named twice"),
            CompareError::Pipeline { id } => write!(f, "`{id}` is a pipeline: side by side compares queries, not pipelines"),
            CompareError::NotSameInput { a, b } => {
                write!(f, "`{a}` and `{b}` do not read the same events, so side by side would show more than one difference")
            }
        }?;
        write!(f, ". Comparisons of the gallery: {}.", known_comparisons())
    }
}

impl std::error::Error for CompareError {}

/// The input of a scenario: its sources, static tables and steps, as JSON.
fn input_of(scenario: &str) -> Option<(Json, Json, Json)> {
    let doc: Json = serde_json::from_str(scenario).ok()?;
    Some((doc.get("sources").cloned()?, doc.get("tables").cloned().unwrap_or(Json::Null), doc.get("steps").cloned()?))
}

fn is_pipeline(e: &Example) -> bool {
    matches!(unbounded_engine::pipeline::scenario::PipelineScenario::parse_if_pipeline(e.scenario), Ok(Some(_)))
}

/// The examples a `?compare=a,b[,c]` value names: two or three query examples of the gallery,
/// each once, all over the same events (sources, tables and steps), so that stepping them
/// together keeps them at the same position.
pub fn parse(value: &str) -> Result<Vec<&'static Example>, CompareError> {
    let chars = value.chars().count();
    if chars > MAX_PARAM_CHARS {
        return Err(CompareError::TooLong { chars });
    }
    let ids: Vec<&str> = value.split(',').map(str::trim).filter(|id| !id.is_empty()).collect();
    if ids.len() > MAX_SIDES {
        return Err(CompareError::TooMany { count: ids.len() });
    }
    if ids.len() < 2 {
        return Err(CompareError::TooFew { count: ids.len() });
    }
    let mut examples: Vec<&'static Example> = Vec::with_capacity(ids.len());
    for id in ids {
        let e = example_by_id(id).map_err(|_| CompareError::Unknown { id: id.to_string() })?;
        if examples.iter().any(|x| x.id == e.id) {
            return Err(CompareError::Repeated { id: e.id.to_string() });
        }
        if is_pipeline(e) {
            return Err(CompareError::Pipeline { id: e.id });
        }
        examples.push(e);
    }
    let first = examples[0];
    for other in &examples[1..] {
        if input_of(first.scenario).is_none() || input_of(first.scenario) != input_of(other.scenario) {
            return Err(CompareError::NotSameInput { a: first.id, b: other.id });
        }
    }
    Ok(examples)
}

/// A word of a query and the blank after it, with whether it differs from another side's query.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QueryWord {
    pub text: String,
    pub blank: String,
    pub differs: bool,
}

/// The most words compared (a longest common subsequence costs words × words).
const MAX_WORDS: usize = 2_000;

fn words(sql: &str) -> Vec<(String, String)> {
    let mut out: Vec<(String, String)> = Vec::new();
    let mut word = String::new();
    let mut blank = String::new();
    for c in sql.chars() {
        if c.is_whitespace() {
            blank.push(c);
        } else {
            if !blank.is_empty() && !word.is_empty() {
                out.push((std::mem::take(&mut word), std::mem::take(&mut blank)));
            }
            word.push(c);
        }
    }
    if !word.is_empty() {
        out.push((word, blank));
    }
    out
}

/// Which words of `a` are in a longest common subsequence with `b`.
fn common(a: &[(String, String)], b: &[(String, String)]) -> Vec<bool> {
    let (n, m) = (a.len(), b.len());
    let mut len = vec![vec![0u32; m + 1]; n + 1];
    for i in (0..n).rev() {
        for j in (0..m).rev() {
            len[i][j] = if a[i].0 == b[j].0 { len[i + 1][j + 1] + 1 } else { len[i + 1][j].max(len[i][j + 1]) };
        }
    }
    let mut kept = vec![false; n];
    let (mut i, mut j) = (0, 0);
    while i < n && j < m {
        if a[i].0 == b[j].0 {
            kept[i] = true;
            i += 1;
            j += 1;
        } else if len[i + 1][j] >= len[i][j + 1] {
            i += 1;
        } else {
            j += 1;
        }
    }
    kept
}

/// The query `sql` word by word, each marked when some other side's query lacks it there (the
/// two queries' longest common subsequence of words): line breaks and spaces do not count.
pub fn query_words(sql: &str, others: &[&str]) -> Vec<QueryWord> {
    let mine = words(sql);
    let mut differs = vec![false; mine.len()];
    if mine.len() <= MAX_WORDS {
        for other in others {
            let theirs = words(other);
            if theirs.len() > MAX_WORDS {
                continue;
            }
            for (d, kept) in differs.iter_mut().zip(common(&mine, &theirs)) {
                *d |= !kept;
            }
        }
    }
    mine.into_iter().zip(differs).map(|((text, blank), differs)| QueryWord { text, blank, differs }).collect()
}

/// One line of a change stream: a row and its weight, +n added, -n retracted (Feldera's Z-sets).
#[derive(Debug, Clone, PartialEq)]
pub struct Change {
    pub weight: i64,
    pub row: Vec<Json>,
}

/// What a step did to a sink: the rows of `after` that `before` lacked (+) and those it held
/// that are gone (-), counted as multisets, retractions first. In update mode a key's new row
/// comes with its old one retracted; in complete mode the rewrite shows as what changed.
pub fn change_stream(before: &[Vec<Json>], after: &[Vec<Json>]) -> Vec<Change> {
    let key = |row: &Vec<Json>| Json::Array(row.clone()).to_string();
    let mut weights: HashMap<String, i64> = HashMap::new();
    for r in before {
        *weights.entry(key(r)).or_default() -= 1;
    }
    for r in after {
        *weights.entry(key(r)).or_default() += 1;
    }
    let mut out = Vec::new();
    let mut take = |rows: &[Vec<Json>], negative: bool| {
        for r in rows {
            if let Some(w) = weights.get_mut(&key(r)) {
                if (*w < 0) == negative && *w != 0 {
                    out.push(Change { weight: *w, row: r.clone() });
                    *w = 0;
                }
            }
        }
    };
    take(before, true);
    take(after, false);
    out
}

/// A weight as a change stream writes it: `+`, `−`, or with a count when a row changed more than once.
pub fn weight_label(w: i64) -> String {
    match w {
        1 => "+".into(),
        -1 => "−".into(),
        w if w > 0 => format!("+{w}"),
        w => format!("−{}", -w),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::gallery::EXAMPLES;
    use serde_json::json;

    #[test]
    fn every_comparison_of_the_gallery_opens() {
        for c in COMPARISONS {
            let got = parse(&c.ids.join(",")).unwrap_or_else(|e| panic!("{:?}: {e}", c.ids));
            assert_eq!(got.iter().map(|e| e.id).collect::<Vec<_>>(), c.ids);
            assert!(c.ids.len() >= 2 && c.ids.len() <= MAX_SIDES);
            assert_eq!(parse(&link(c.ids)[9..]).map(|v| v.len()), Ok(c.ids.len()));
        }
        assert_eq!(
            EXAMPLES.iter().filter(|e| comparison_of(e.id).is_some()).count(),
            COMPARISONS.iter().map(|c| c.ids.len()).sum::<usize>(),
            "an example is in one comparison"
        );
        assert_eq!(comparison_of("watermark-large").map(|c| c.ids[0]), Some("watermark-small"));
        assert!(comparison_of("medallion").is_none());
    }

    #[test]
    fn a_bad_link_says_what_is_wrong() {
        assert_eq!(parse(" watermark-small , watermark-large ").map(|v| v.len()), Ok(2), "blanks around ids are read");
        assert_eq!(parse("watermark-small").err(), Some(CompareError::TooFew { count: 1 }));
        assert_eq!(parse("").err(), Some(CompareError::TooFew { count: 0 }));
        assert_eq!(parse(",,,").err(), Some(CompareError::TooFew { count: 0 }));
        assert_eq!(parse("a,b,c,d").err(), Some(CompareError::TooMany { count: 4 }));
        assert_eq!(parse("watermark-small,nope").err(), Some(CompareError::Unknown { id: "nope".into() }));
        assert_eq!(parse("watermark-small,watermark-small").err(), Some(CompareError::Repeated { id: "watermark-small".into() }));
        assert_eq!(parse("medallion-pipeline,pipeline-full-refresh").err(), Some(CompareError::Pipeline { id: "medallion-pipeline" }));
        assert_eq!(
            parse("dedup,dedup-within-watermark").err(),
            Some(CompareError::NotSameInput { a: "dedup", b: "dedup-within-watermark" })
        );
        let long = "x".repeat(MAX_PARAM_CHARS + 1);
        assert_eq!(parse(&long).err(), Some(CompareError::TooLong { chars: MAX_PARAM_CHARS + 1 }));
        // A hostile id is quoted bounded and without its control characters; the page shows it as text.
        let hostile = format!("watermark-small,<img src=x onerror=alert(1)>\u{1b}[2J{}", "y".repeat(60));
        let message = parse(&hostile).err().map(|e| e.to_string()).unwrap_or_default();
        assert!(message.contains("`<img src=x onerror=alert(1)>?[2Jyyyyyyyy…`"), "{message}");
        assert!(message.contains("watermark-small,watermark-large"), "the comparisons are listed: {message}");
    }

    #[test]
    fn the_words_that_differ_are_marked_whatever_the_line_breaks() {
        let small = "SELECT a\nFROM STREAM r WATERMARK ts DELAY OF INTERVAL 2 SECONDS\nGROUP BY a";
        let large = "SELECT a FROM STREAM r WATERMARK ts DELAY OF INTERVAL 30 SECONDS GROUP BY a";
        let marked = |sql: &str, other: &str| -> Vec<String> {
            query_words(sql, &[other]).into_iter().filter(|w| w.differs).map(|w| w.text).collect()
        };
        assert_eq!(marked(small, large), vec!["2"]);
        assert_eq!(marked(large, small), vec!["30"]);
        assert!(marked(small, &small.replace('\n', " ")).is_empty(), "line breaks are no difference");
        // The text comes back whole, blanks and all.
        let whole: String = query_words(small, &[large]).iter().map(|w| format!("{}{}", w.text, w.blank)).collect();
        assert_eq!(whole, small);
        // Against two others, a word differs when either lacks it.
        let third = "SELECT b FROM STREAM r WATERMARK ts DELAY OF INTERVAL 2 SECONDS GROUP BY b";
        assert_eq!(
            query_words(small, &[large, third]).iter().filter(|w| w.differs).map(|w| w.text.as_str()).collect::<Vec<_>>(),
            ["a", "2", "a"]
        );
    }

    #[test]
    fn a_change_stream_adds_and_retracts_rows_as_multisets() {
        let r = |k: &str, n: i64| vec![json!(k), json!(n)];
        // Append: only additions.
        assert_eq!(change_stream(&[r("a", 1)], &[r("a", 1), r("b", 1)]), vec![Change { weight: 1, row: r("b", 1) }]);
        // Update: a key's row replaced is its old row retracted and the new one added.
        assert_eq!(
            change_stream(&[r("a", 1), r("b", 1)], &[r("a", 2), r("b", 1)]),
            vec![Change { weight: -1, row: r("a", 1) }, Change { weight: 1, row: r("a", 2) }]
        );
        // Complete: a rewrite of the same rows changes nothing; a row gone is retracted.
        assert!(change_stream(&[r("a", 1), r("b", 1)], &[r("b", 1), r("a", 1)]).is_empty());
        assert_eq!(change_stream(&[r("a", 1), r("b", 1)], &[r("b", 1)]), vec![Change { weight: -1, row: r("a", 1) }]);
        // The same row twice counts twice (a duplicate written again after a lost checkpoint).
        assert_eq!(change_stream(&[r("a", 1)], &[r("a", 1), r("a", 1), r("a", 1)]), vec![Change { weight: 2, row: r("a", 1) }]);
        assert_eq!(
            (weight_label(1), weight_label(-1), weight_label(2), weight_label(-3)),
            ("+".into(), "−".into(), "+2".into(), "−3".into())
        );
    }
}
