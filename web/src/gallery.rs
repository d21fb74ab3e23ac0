//! The example gallery: a walk through every feature of the engine, each example a scenario
//! file under `tests/scenarios/` (so CI checks each against Spark's output like any other),
//! with a line on what to watch.

use crate::protocol::GeneratorKind;

pub struct Example {
    pub id: &'static str,
    pub topic: &'static str,
    pub title: &'static str,
    /// What to do and what to watch, in a sentence or two (the scenario's description says more).
    pub watch: &'static str,
    pub scenario: &'static str,
    /// The generator whose sources the example has, for a live run.
    pub generator: Option<GeneratorKind>,
}

macro_rules! scenario {
    ($path:literal) => {
        include_str!(concat!("../../tests/scenarios/", $path))
    };
}

pub const EXAMPLES: &[Example] = &[
    Example {
        id: "stateless-filter",
        topic: "Stateless",
        title: "Filter and compute",
        watch: "Each micro-batch emits exactly its own rows: no state. A NULL temperature fails the predicate.",
        scenario: scenario!("spark-examples/001-sensors-filter-project.json"),
        generator: None,
    },
    Example {
        id: "stream-static",
        topic: "Stateless",
        title: "Enrich with a static table",
        watch: "A stream-static join looks up each truck's depot; a truck missing from the table vanishes (inner join).",
        scenario: scenario!("stateless/trucks-cold-chain.json"),
        generator: Some(GeneratorKind::Trucks),
    },
    Example {
        id: "tumbling-append",
        topic: "Windows",
        title: "Tumbling windows, append mode",
        watch: "A window is emitted once, when the watermark passes its end, in the no-data batch that follows; late rows are dropped.",
        scenario: scenario!("spark-examples/030-tumbling-append-late.json"),
        generator: None,
    },
    Example {
        id: "tumbling-update",
        topic: "Windows",
        title: "Tumbling windows, update mode",
        watch: "Each batch emits the windows it changed; state falls as the watermark evicts windows.",
        scenario: scenario!("stateful/tumbling-update-watermark.json"),
        generator: None,
    },
    Example {
        id: "tumbling-complete",
        topic: "Windows",
        title: "Tumbling windows, complete mode",
        watch: "The whole result table every batch; complete mode never drops late rows nor forgets a window.",
        scenario: scenario!("stateful/tumbling-complete-watermark.json"),
        generator: None,
    },
    Example {
        id: "sliding-append",
        topic: "Windows",
        title: "Sliding windows",
        watch: "Each row lands in two overlapping windows; a late row can be dropped for one and counted in the other.",
        scenario: scenario!("stateful/sliding-append-late.json"),
        generator: None,
    },
    Example {
        id: "trucks-live",
        topic: "Windows",
        title: "Live: a minute per truck",
        watch: "Start the trucks generator and press Play: windows update every batch and leave state as the watermark passes.",
        scenario: scenario!("gallery/trucks-tumbling-windows.json"),
        generator: Some(GeneratorKind::Trucks),
    },
    Example {
        id: "sessions-append",
        topic: "Sessions",
        title: "Browsing sessions, append mode",
        watch: "Sessions merge while clicks come less than 30 s apart and are emitted when the watermark passes their end.",
        scenario: scenario!("gallery/clickstream-sessions.json"),
        generator: Some(GeneratorKind::Clickstream),
    },
    Example {
        id: "sessions-complete",
        topic: "Sessions",
        title: "Sessions, complete mode",
        watch: "Every session, re-emitted each batch and merged as events arrive.",
        scenario: scenario!("stateful/session-complete.json"),
        generator: Some(GeneratorKind::Clickstream),
    },
    Example {
        id: "watermark-small",
        topic: "Late data",
        title: "A small watermark (2 s)",
        watch: "Windows come out early, and the two stragglers are dropped: see the batch table's 'late' column.",
        scenario: scenario!("gallery/watermark-small.json"),
        generator: None,
    },
    Example {
        id: "watermark-large",
        topic: "Late data",
        title: "A large watermark (30 s)",
        watch: "The same readings: nothing is dropped, but every window waits much longer and state holds more.",
        scenario: scenario!("gallery/watermark-large.json"),
        generator: None,
    },
    Example {
        id: "dedup",
        topic: "Deduplication",
        title: "Retried events, deduplicated",
        watch: "The first copy of each id passes; every retry is dropped, even after a restart. Without a watermark the ids stay forever.",
        scenario: scenario!("stateful/dedup-retried-events.json"),
        generator: None,
    },
    Example {
        id: "dedup-within-watermark",
        topic: "Deduplication",
        title: "Payment retries, within the watermark",
        watch: "Retries are dropped until the watermark passes the first copy's time plus 30 s; then the id is forgotten.",
        scenario: scenario!("gallery/payments-dedup-retries.json"),
        generator: Some(GeneratorKind::Payments),
    },
    Example {
        id: "medallion",
        topic: "Medallion",
        title: "Bronze, silver, gold",
        watch: "Bronze: the raw stream, its bad record in the dead letters. Silver: retries and refunds gone, EUR only. Gold: revenue per minute, written once final.",
        scenario: scenario!("gallery/medallion-payments.json"),
        generator: Some(GeneratorKind::Payments),
    },
    Example {
        id: "exactly-once",
        topic: "Exactly once",
        title: "A crash after the sink write",
        watch: "The replayed batch is skipped by the transactional table and written again by the at-least-once file.",
        scenario: scenario!("gallery/exactly-once-after-crash.json"),
        generator: Some(GeneratorKind::Payments),
    },
    Example {
        id: "lost-checkpoint",
        topic: "Exactly once",
        title: "Losing the checkpoint",
        watch: "Press 'Lose the checkpoint', then Run: a new query id reads everything again and both sinks get it twice.",
        scenario: scenario!("gallery/lost-checkpoint.json"),
        generator: Some(GeneratorKind::Trucks),
    },
    Example {
        id: "join-left-outer",
        topic: "Stream-stream joins",
        title: "Impressions LEFT JOIN clicks",
        watch: "An impression without a click comes out NULL-padded only once the watermark says no click can come.",
        scenario: scenario!("spark-examples/057-ss-left-outer-join.json"),
        generator: Some(GeneratorKind::Ads),
    },
    Example {
        id: "join-full-outer",
        topic: "Stream-stream joins",
        title: "FULL OUTER join",
        watch: "Unmatched rows of both sides are NULL-padded when their state expires.",
        scenario: scenario!("stream-joins/ss-full-outer-join.json"),
        generator: Some(GeneratorKind::Ads),
    },
    Example {
        id: "join-then-window",
        topic: "Stream-stream joins",
        title: "Clicks per ad and window",
        watch: "The join feeds a count: a window is final once the join's output watermark (20 s behind the input's) passes its end.",
        scenario: scenario!("stream-joins/ss-join-then-window.json"),
        generator: Some(GeneratorKind::Ads),
    },
    Example {
        id: "nexmark",
        topic: "Benchmarks",
        title: "Nexmark: hot auctions",
        watch: "Bids per auction in 10 s windows. Start the Nexmark generator at thousands of events a second.",
        scenario: scenario!("gallery/nexmark-hot-auctions.json"),
        generator: Some(GeneratorKind::Nexmark),
    },
    Example {
        id: "refused",
        topic: "Output modes",
        title: "A refused combination",
        watch: "Append mode with an aggregation and no watermark is refused at start, as in Spark: the error says what to change.",
        scenario: scenario!("spark-examples/070-error-append-agg-no-watermark.json"),
        generator: None,
    },
];

/// The example a documentation page asks for with `?example=ID`: its scenario, or why there is none.
pub fn example_by_id(id: &str) -> Result<&'static Example, String> {
    EXAMPLES.iter().find(|e| e.id == id).ok_or_else(|| {
        let ids: Vec<&str> = EXAMPLES.iter().map(|e| e.id).collect();
        format!("there is no example `{id}`; the examples are {}", ids.join(", "))
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use unbounded_engine::scenario::Scenario;

    #[test]
    fn every_example_parses_and_has_its_generators_sources() {
        for e in EXAMPLES {
            let s = Scenario::parse(e.scenario).unwrap_or_else(|err| panic!("{}: {err}", e.id));
            if let Some(kind) = e.generator {
                for (name, schema) in kind.sources() {
                    let ours = s.sources.iter().find(|(n, _)| n == name).map(|(_, sc)| sc);
                    assert_eq!(ours.map(|sc| &sc.columns), Some(&schema.columns), "{}: the {kind:?} generator's `{name}`", e.id);
                }
            }
        }
        let ids: std::collections::HashSet<&str> = EXAMPLES.iter().map(|e| e.id).collect();
        assert_eq!(ids.len(), EXAMPLES.len(), "ids are unique");
    }

    #[test]
    fn an_example_is_found_by_its_id_or_the_ids_are_listed() {
        assert_eq!(example_by_id("medallion").map(|e| e.title), Ok("Bronze, silver, gold"));
        let err = example_by_id("medalion").err().unwrap();
        assert!(err.contains("`medalion`") && err.contains("medallion, exactly-once"), "{err}");
    }
}
