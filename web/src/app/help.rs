//! The SQL help beside the editor: Spark's streaming clauses and Unbounded's one extension,
//! each with the PySpark a person would write on a real cluster, and every function by family.

use unbounded_engine::expr::catalog::{self, Family};
use yew::prelude::*;

const ITEMS: &[(&str, &str, &str)] = &[
    ("Read a stream", "FROM STREAM events", "spark.readStream...load()  # a streaming DataFrame"),
    (
        "Event time and watermark",
        "FROM STREAM events WATERMARK ts DELAY OF INTERVAL 10 SECONDS AS e",
        "events.withWatermark(\"ts\", \"10 seconds\")",
    ),
    ("Tumbling window", "GROUP BY window(ts, '1 minute'), device", "groupBy(window(\"ts\", \"1 minute\"), \"device\")"),
    ("Sliding window", "GROUP BY window(ts, '10 minutes', '5 minutes')", "groupBy(window(\"ts\", \"10 minutes\", \"5 minutes\"))"),
    ("Session window", "GROUP BY user, session_window(ts, '5 minutes')", "groupBy(\"user\", session_window(\"ts\", \"5 minutes\"))"),
    (
        "Deduplicate (Unbounded's SQL for dropDuplicates)",
        "FROM STREAM events WATERMARK ts DELAY OF INTERVAL 10 SECONDS DEDUPLICATE BY (event_id, ts)",
        "events.withWatermark(\"ts\", \"10 seconds\").dropDuplicates([\"event_id\", \"ts\"])",
    ),
    (
        "Deduplicate within the watermark",
        "FROM STREAM events WATERMARK ts DELAY OF INTERVAL 10 SECONDS DEDUPLICATE WITHIN WATERMARK BY (event_id)",
        "events.withWatermark(\"ts\", \"10 seconds\").dropDuplicatesWithinWatermark([\"event_id\"])",
    ),
];

#[function_component(SqlHelp)]
pub fn sql_help() -> Html {
    html! {
        <details id="sql-help">
            <summary>{"Streaming SQL help"}</summary>
            <p class="muted">
                {"Spark SQL, plus the streaming clauses of Spark 4.1+. Spark SQL has no syntax for dropDuplicates, so Unbounded adds one clause, DEDUPLICATE, written after a relation (after its WATERMARK)."}
            </p>
            <dl>
                { for ITEMS.iter().map(|(what, sql, pyspark)| html! {
                    <>
                        <dt>{ *what }</dt>
                        <dd><code class="sql">{ *sql }</code><br /><span class="muted">{"PySpark: "}</span><code>{ *pyspark }</code></dd>
                    </>
                }) }
            </dl>
            <p class="muted">{"Output modes: append emits a window once the watermark passes its end; update emits the rows a batch changed; complete re-emits the whole result every batch."}</p>
            <h4>{"Functions"}</h4>
            { for Family::ALL.iter().map(|f| functions(*f)) }
        </details>
    }
}

/// One family's functions: their signatures and what they do. A heading, not a nested
/// `<details>`: the help's own summary stays its only one.
fn functions(family: Family) -> Html {
    let list = catalog::family(family);
    html! {
        <section class="functions" data-family={format!("{family:?}")}>
            <h5>{ format!("{} ({})", family.title(), list.len()) }</h5>
            <dl>
                { for list.iter().map(|f| html! {
                    <>
                        <dt><code class="sql">{ f.signature }</code></dt>
                        <dd class="muted">{ f.description }</dd>
                    </>
                }) }
            </dl>
        </section>
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_help_lists_every_function_in_one_family() {
        let listed: usize = Family::ALL.iter().map(|f| catalog::family(*f).len()).sum();
        assert_eq!(listed, catalog::FUNCTIONS.len(), "a family missing from Family::ALL");
        assert!(Family::ALL.iter().all(|f| !catalog::family(*f).is_empty()), "an empty family");
    }
}
