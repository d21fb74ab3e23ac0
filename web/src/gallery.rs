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
        id: "medallion-pipeline",
        topic: "Medallion",
        title: "Pipeline: bronze, silver, gold",
        watch: "A real pipeline (Spark Declarative Pipelines): each hop a streaming table with its own checkpoint. Run update step by step, fully refresh gold, break a flow, lose silver's checkpoint and watch the counts.",
        scenario: scenario!("pipelines/medallion-trucks.json"),
        generator: None,
    },
    Example {
        id: "pipeline-lost-checkpoint",
        topic: "Medallion",
        title: "Pipeline: silver loses its checkpoint",
        watch: "Press Run update once, pick the flow silver and press 'Lose checkpoint', then Run update: silver reads all of bronze again and has 3 rows from bronze's 2, a duplicate downstream.",
        scenario: scenario!("pipelines/medallion-trucks.json"),
        generator: None,
    },
    Example {
        id: "pipeline-full-refresh",
        topic: "Pipelines",
        title: "A full refresh of gold",
        watch: "Run the updates one by one: the third drops a late row, the fourth fully refreshes gold from bronze with a fresh watermark so that row counts; platinum is not reset and ends with 4 rows, gold's 2 twice.",
        scenario: scenario!("pipelines/full-refresh-gold.json"),
        generator: None,
    },
    Example {
        id: "pipeline-two-flows",
        topic: "Pipelines",
        title: "Two flows into one table",
        watch: "all_events is declared without a query and fed by two flows, from_north and from_south: after the third update it holds all 5 rows of both sources.",
        scenario: scenario!("pipelines/two-flows-into-one-table.json"),
        generator: None,
    },
    Example {
        id: "pipeline-view-vs-table",
        topic: "Pipelines",
        title: "Materialized view versus streaming table",
        watch: "Both read events. The materialized view landed is recomputed each update: 2 rows, then 3, one per device, d1's count rewritten. The streaming table bronze only appends: 2 rows, then 4.",
        scenario: scenario!("pipelines/materialized-view-reads-source.json"),
        generator: None,
    },
    Example {
        id: "pipeline-expectations-drop",
        topic: "Pipelines",
        title: "Expectations: warn and drop (Databricks)",
        watch: "Databricks-only SQL. Run update and look at silver's counts: has_device keeps its failing row (warn), plausible drops the -99 reading (DROP ROW); bronze has 3 rows, silver 2, and 1 failed on each.",
        scenario: scenario!("gallery/expectations-drop.json"),
        generator: None,
    },
    Example {
        id: "pipeline-expectations-fail",
        topic: "Pipelines",
        title: "Expectations: fail the update (Databricks)",
        watch: "Databricks-only SQL. The first update passes; the second meets a -99 reading, plausible fails the update (FAIL UPDATE) and it commits nothing: silver keeps its 2 rows.",
        scenario: scenario!("gallery/expectations-fail.json"),
        generator: None,
    },
    Example {
        id: "medallion",
        topic: "Medallion",
        title: "Bronze, silver, gold in one query",
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
        id: "join-then-window-update",
        topic: "Stream-stream joins",
        title: "Clicks per ad and window, update mode",
        watch: "The same join and count in update mode: a window's row is written as soon as a click joins it, and again each time its count changes.",
        scenario: scenario!("stream-joins/ss-join-then-window-update.json"),
        generator: Some(GeneratorKind::Ads),
    },
    Example {
        id: "join-then-window-complete",
        topic: "Stream-stream joins",
        title: "Clicks per ad and window, complete mode",
        watch: "Refused at start, as in Spark: complete mode would keep every joined row forever, so a stream-stream join allows append and update only.",
        scenario: scenario!("stream-joins/ss-join-then-window-complete.json"),
        generator: None,
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
        id: "dedup-window-append",
        topic: "Output modes",
        title: "Retries removed, then counted: append",
        watch: "Retries are dropped before the count; each window is written once, in the no-data batch after the watermark passes its end.",
        scenario: scenario!("stateful/dedup-then-window-append.json"),
        generator: None,
    },
    Example {
        id: "dedup-window-update",
        topic: "Output modes",
        title: "Retries removed, then counted: update",
        watch: "The same events and query in update mode: each data batch writes the windows it changed, before they are final; the sink keeps one row per window and user.",
        scenario: scenario!("stateful/dedup-then-window-update.json"),
        generator: None,
    },
    Example {
        id: "refused",
        topic: "Output modes",
        title: "A refused combination",
        watch: "Append mode with an aggregation and no watermark is refused at start, as in Spark: the error says what to change.",
        scenario: scenario!("spark-examples/070-error-append-agg-no-watermark.json"),
        generator: None,
    },
    Example {
        id: "kafka-bronze",
        topic: "Kafka",
        title: "Kafka to bronze with maxOffsetsPerTrigger",
        watch: "At most 4 offsets a batch, shared by the partitions as Spark rounds it: each batch reads 3, and the topic panel shows the lag the next batches work through. Send more with the producer.",
        scenario: scenario!("gallery/kafka-bronze-max-offsets.json"),
        generator: None,
    },
    Example {
        id: "kafka-retries-dedup",
        topic: "Kafka",
        title: "Producer retries and dedup",
        watch: "The producer's retries put 3 duplicate records in the topic, at offsets of their own; the silver query drops them by key: 9 messages in, 6 payments out.",
        scenario: scenario!("gallery/kafka-producer-retries-dedup.json"),
        generator: None,
    },
    Example {
        id: "kafka-backpressure",
        topic: "Kafka",
        title: "Backpressure: maxOffsetsPerTrigger against a faster producer",
        watch: "6 messages arrive a trigger and a batch reads at most 4: each batch stays at 4 while the lag in the Kafka panel climbs by 2 a trigger, to 8.",
        scenario: scenario!("gallery/kafka-backpressure.json"),
        generator: Some(GeneratorKind::Trucks),
    },
    Example {
        id: "available-now-schedule",
        topic: "Triggers",
        title: "availableNow on a schedule",
        watch: "Two scheduled runs: each starts from the checkpoint, reads one file per batch, runs the no-data batch the watermark calls for, and stops. Nothing runs in between: the cost an always-on stream would pay.",
        scenario: scenario!("sources/available-now-restarts.json"),
        generator: None,
    },
    Example {
        id: "auto-loader-new-column",
        topic: "Auto Loader",
        title: "Auto Loader meets a new column",
        watch: "b.json brings a column the inferred schema lacks: the stream stops with UNKNOWN_FIELD_EXCEPTION and records the new schema; the next run reads b.json again with it (Databricks only).",
        scenario: scenario!("sources/auto-loader/add-new-columns.json"),
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
            if unbounded_engine::pipeline::scenario::PipelineScenario::parse_if_pipeline(e.scenario).unwrap().is_some() {
                assert!(e.generator.is_none(), "{}: a pipeline takes no generator yet", e.id);
                continue;
            }
            let s = Scenario::parse(e.scenario).unwrap_or_else(|err| panic!("{}: {err}", e.id));
            // Over a Kafka topic the generator produces messages to it instead.
            if let (Some(_), false) = (e.generator, s.kafka.is_empty()) {
                continue;
            }
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

    /// The editor shows 72 characters of a line at 1280 px (e2e/playground.mjs checks that side),
    /// so an example's SQL is laid out one clause to a line within that, never one long line.
    #[test]
    fn every_example_s_sql_fits_the_editor_line_by_line() {
        const WIDTH: usize = 72;
        for e in EXAMPLES {
            let json: serde_json::Value = serde_json::from_str(e.scenario).unwrap();
            let sql = json.get("query").or_else(|| json.get("pipeline")).and_then(|q| q.as_str()).unwrap_or_default();
            assert!(!sql.is_empty(), "{}: no query", e.id);
            for (n, line) in sql.lines().enumerate() {
                assert!(line.chars().count() <= WIDTH, "{}: line {} is {} characters: {line}", e.id, n + 1, line.chars().count());
            }
        }
    }

    #[test]
    fn an_example_is_found_by_its_id_or_the_ids_are_listed() {
        assert_eq!(example_by_id("medallion").map(|e| e.title), Ok("Bronze, silver, gold in one query"));
        let err = example_by_id("medalion").err().unwrap();
        assert!(err.contains("`medalion`") && err.contains("medallion, exactly-once"), "{err}");
    }
}

/// Every example stepped as the page steps it, run by run from batch 0, against the output
/// Spark gave for its scenario; and the numbers each example's text names.
#[cfg(test)]
mod walk {
    use super::EXAMPLES;
    use crate::protocol::{Request, Snapshot, StorageKind};
    use crate::session::Session;
    use serde_json::Value as Json;
    use unbounded_engine::scenario::{Scenario, Step};
    use unbounded_engine::storage::SharedStorage;

    macro_rules! expected {
        ($($id:literal => $path:literal),* $(,)?) => {
            &[$(($id, include_str!(concat!("../../tests/scenarios/", $path)))),*]
        };
    }

    /// Spark's output for each example's scenario.
    const EXPECTED: &[(&str, &str)] = expected! {
        "stateless-filter" => "spark-examples/001-sensors-filter-project.expected.json",
        "stream-static" => "stateless/trucks-cold-chain.expected.json",
        "tumbling-append" => "spark-examples/030-tumbling-append-late.expected.json",
        "tumbling-update" => "stateful/tumbling-update-watermark.expected.json",
        "tumbling-complete" => "stateful/tumbling-complete-watermark.expected.json",
        "sliding-append" => "stateful/sliding-append-late.expected.json",
        "trucks-live" => "gallery/trucks-tumbling-windows.expected.json",
        "sessions-append" => "gallery/clickstream-sessions.expected.json",
        "sessions-complete" => "stateful/session-complete.expected.json",
        "watermark-small" => "gallery/watermark-small.expected.json",
        "watermark-large" => "gallery/watermark-large.expected.json",
        "dedup" => "stateful/dedup-retried-events.expected.json",
        "dedup-within-watermark" => "gallery/payments-dedup-retries.expected.json",
        "medallion" => "gallery/medallion-payments.expected.json",
        "medallion-pipeline" => "pipelines/medallion-trucks.expected.json",
        "pipeline-lost-checkpoint" => "pipelines/medallion-trucks.expected.json",
        "pipeline-full-refresh" => "pipelines/full-refresh-gold.expected.json",
        "pipeline-two-flows" => "pipelines/two-flows-into-one-table.expected.json",
        "pipeline-view-vs-table" => "pipelines/materialized-view-reads-source.expected.json",
        "pipeline-expectations-drop" => "gallery/expectations-drop.expected.json",
        "pipeline-expectations-fail" => "gallery/expectations-fail.expected.json",
        "exactly-once" => "gallery/exactly-once-after-crash.expected.json",
        "kafka-bronze" => "gallery/kafka-bronze-max-offsets.expected.json",
        "kafka-retries-dedup" => "gallery/kafka-producer-retries-dedup.expected.json",
        "auto-loader-new-column" => "sources/auto-loader/add-new-columns.expected.json",
        "available-now-schedule" => "sources/available-now-restarts.expected.json",
        "kafka-backpressure" => "gallery/kafka-backpressure.expected.json",
        "lost-checkpoint" => "gallery/lost-checkpoint.expected.json",
        "join-left-outer" => "spark-examples/057-ss-left-outer-join.expected.json",
        "join-full-outer" => "stream-joins/ss-full-outer-join.expected.json",
        "join-then-window" => "stream-joins/ss-join-then-window.expected.json",
        "join-then-window-update" => "stream-joins/ss-join-then-window-update.expected.json",
        "join-then-window-complete" => "stream-joins/ss-join-then-window-complete.expected.json",
        "nexmark" => "gallery/nexmark-hot-auctions.expected.json",
        "dedup-window-append" => "stateful/dedup-then-window-append.expected.json",
        "dedup-window-update" => "stateful/dedup-then-window-update.expected.json",
        "refused" => "spark-examples/070-error-append-agg-no-watermark.expected.json",
    };

    fn sorted(rows: impl IntoIterator<Item = String>) -> Vec<String> {
        let mut v: Vec<String> = rows.into_iter().collect();
        v.sort();
        v
    }

    /// Opens the example at batch 0 and steps it to its end, checking each run's batches and
    /// the final table against Spark's; returns the snapshot after each run.
    fn walk(id: &str, scenario: &str, expected: &Json) -> (Session, Vec<Snapshot>) {
        let mut s = Session::queued(scenario, SharedStorage::memory(), StorageKind::Memory).unwrap();
        let start = s.snapshot();
        assert!(start.batches.is_empty() && start.sink.is_empty() && start.scrub.position == 0, "{id}: opens at batch 0");
        let steps = Scenario::parse(scenario).unwrap().steps;
        let runs: Vec<usize> =
            steps.iter().enumerate().filter(|(_, s)| matches!(s, Step::Run | Step::Trigger(_))).map(|(i, _)| i).collect();
        assert_eq!(start.scrub.queued_runs as usize, runs.len(), "{id}");
        let mut shots = vec![start];
        for (n, step) in runs.iter().enumerate() {
            let before = shots.last().unwrap().batches.len();
            let snap = s.handle(Request::StepForward);
            // Auto Loader stopping the stream for a new column is the run's outcome, not a failure.
            let evolved = snap.error.as_ref().is_some_and(|e| e.message.contains("automatic retry: true"));
            assert!(snap.error.is_none() || evolved, "{id}: run {n}: {:?}", snap.error);
            assert_eq!(snap.scrub.position, n as u64 + 1, "{id}");
            let ran = &snap.batches[before..];
            let want = expected["runs"].as_array().unwrap().iter().find(|r| r["step"].as_u64() == Some(*step as u64));
            let want: Vec<&Json> = want.map(|r| r["batches"].as_array().unwrap().iter().collect()).unwrap_or_default();
            assert_eq!(ran.len(), want.len(), "{id}: run at step {step}: batches {:?}", ran.iter().map(|b| b.batch_id).collect::<Vec<_>>());
            for (b, w) in ran.iter().zip(want) {
                assert_eq!(Some(b.batch_id), w["batch_id"].as_u64(), "{id}");
                assert_eq!(b.watermark.as_deref(), w["watermark"].as_str(), "{id}: batch {}", b.batch_id);
                if let Some(late) = w["dropped_late"].as_u64() {
                    assert_eq!(b.dropped_late, late, "{id}: batch {}", b.batch_id);
                }
                if let Some(state) = w["state_rows"].as_u64() {
                    assert_eq!(b.state_rows, state, "{id}: batch {}", b.batch_id);
                }
                if let Some(rows) = w["rows"].as_array() {
                    assert_eq!(b.output_rows as usize, rows.len(), "{id}: batch {}", b.batch_id);
                }
            }
            shots.push(snap);
        }
        let end = shots.last().unwrap();
        assert_eq!(end.scrub.queued_runs, 0, "{id}");
        let want = sorted(expected["sink"].as_array().unwrap().iter().map(Json::to_string));
        assert_eq!(sorted(end.sink.iter().map(|r| Json::Array(r.clone()).to_string())), want, "{id}: the table at the end");
        (s, shots)
    }

    fn is_pipeline(scenario: &str) -> bool {
        matches!(unbounded_engine::pipeline::scenario::PipelineScenario::parse_if_pipeline(scenario), Ok(Some(_)))
    }

    /// Opens a pipeline example as the page does and presses Run update once per run of its
    /// expected output, checking after each every table (rows and counts) and expectation as
    /// the runner had them, and the update's failure where the output ends in one.
    fn open_pipeline(id: &str, scenario: &str) -> Session {
        let mut s = Session::from_scenario(crate::DEFAULT_SCENARIO).unwrap();
        let snap = s.handle(Request::LoadScenario { text: scenario.into() });
        assert!(snap.error.is_none() && snap.pipeline.is_some(), "{id}: {:?}", snap.error);
        s
    }

    fn walk_pipeline(id: &str, scenario: &str, expected: &Json) -> Session {
        let mut s = open_pipeline(id, scenario);
        let runs = expected["runs"].as_array().unwrap();
        assert_eq!(s.snapshot().pipeline.map(|p| p.queued_updates), Some(runs.len() as u64), "{id}: one queued update per run");
        for (k, run) in runs.iter().enumerate() {
            let snap = s.handle(Request::PipelineUpdate { full_refresh: vec![] });
            // Only the last run of an output that ends in an error is the failed update.
            let fails = k + 1 == runs.len() && !expected["error"].is_null();
            assert_eq!(snap.error.is_some(), fails, "{id}: update at step {}: {:?}", run["step"], snap.error);
            if fails {
                let message = snap.error.as_ref().map(|x| x.message.clone()).unwrap_or_default();
                let dataset = expected["error"]["dataset"].as_str().unwrap_or_default();
                assert!(message.contains(&format!("`{dataset}`")), "{id}: {message}");
            }
            let p = snap.pipeline.unwrap();
            for (table, rows) in run["tables"].as_object().unwrap() {
                let node = p.nodes.iter().find(|n| n.name == *table).unwrap_or_else(|| panic!("{id}: no node {table}"));
                let want = rows.as_array().unwrap();
                assert_eq!(node.rows, want.len() as u64, "{id}: {table} at step {}", run["step"]);
                let shown = s.handle(Request::PipelineSelect { node: table.clone() }).pipeline.and_then(|p| p.table).unwrap();
                assert_eq!(
                    sorted(shown.rows.iter().map(|r| Json::Array(r.clone()).to_string())),
                    sorted(want.iter().map(Json::to_string)),
                    "{id}: {table}'s rows at step {}",
                    run["step"]
                );
            }
            // The runner gives no counts for a failed update.
            if let Some(checks) = run["expectations"].as_object() {
                for (dataset, constraints) in checks {
                    let node = p.nodes.iter().find(|n| n.name == *dataset).unwrap();
                    for (name, c) in constraints.as_object().unwrap() {
                        let got = node.expectations.iter().find(|x| x.name == *name).unwrap_or_else(|| panic!("{id}: {dataset}.{name}"));
                        let want = (c["passed"].as_u64(), c["failed"].as_u64(), c["action"].as_str());
                        assert_eq!((Some(got.passed), Some(got.failed), Some(got.action.as_str())), want, "{id}: {dataset}.{name}");
                    }
                }
            }
        }
        assert_eq!(s.snapshot().pipeline.map(|p| p.queued_updates), Some(0), "{id}");
        // A query example leaves pipeline mode.
        let mut back = open_pipeline(id, scenario);
        assert!(back.handle(Request::LoadScenario { text: crate::DEFAULT_SCENARIO.into() }).pipeline.is_none(), "{id}");
        s
    }

    #[test]
    fn every_example_steps_from_batch_0_as_spark_ran_it_and_back() {
        for e in EXAMPLES {
            let (_, expected) = EXPECTED.iter().find(|(id, _)| *id == e.id).unwrap_or_else(|| panic!("{}: no expected output", e.id));
            let expected: Json = serde_json::from_str(expected).unwrap();
            if is_pipeline(e.scenario) {
                walk_pipeline(e.id, e.scenario, &expected);
                continue;
            }
            // A query Spark refuses at start (the expected output is its error).
            if expected["error"].is_object() {
                let mut s = Session::queued(e.scenario, SharedStorage::memory(), StorageKind::Memory).unwrap();
                assert_eq!(s.snapshot().error.map(|x| x.kind), expected["error"]["kind"].as_str().map(String::from));
                let queued: Vec<u64> = s.snapshot().sources.iter().map(|x| x.queued).collect();
                let snap = s.handle(Request::StepForward);
                assert!(queued.iter().sum::<u64>() > 0, "{}: its events wait", e.id);
                assert!(
                    snap.batches.is_empty() && snap.sources.iter().map(|x| x.queued).collect::<Vec<_>>() == queued,
                    "{}: a refused query runs nothing",
                    e.id
                );
                continue;
            }
            let (mut s, shots) = walk(e.id, e.scenario, &expected);
            // Back, position by position: the engine as it was, not a recomputation.
            for k in (0..shots.len() - 1).rev() {
                let snap = s.handle(Request::StepBack);
                let was = &shots[k];
                assert_eq!(snap.scrub.position, k as u64, "{}", e.id);
                assert_eq!(
                    (&snap.sink, &snap.batches, &snap.state, &snap.watermark),
                    (&was.sink, &was.batches, &was.state, &was.watermark),
                    "{}: position {k}",
                    e.id
                );
                assert_eq!(snap.table_history, was.table_history, "{}", e.id);
            }
            let snap = s.handle(Request::ScrubTo { position: shots.len() as u64 - 1 });
            assert!(!snap.scrub.past() && snap.sink == shots.last().unwrap().sink, "{}", e.id);
        }
    }

    fn end(id: &str) -> (Session, Snapshot) {
        let e = EXAMPLES.iter().find(|e| e.id == id).unwrap();
        let mut s = Session::queued(e.scenario, SharedStorage::memory(), StorageKind::Memory).unwrap();
        let snap = s.handle(Request::RunToEnd);
        assert!(snap.error.is_none(), "{id}: {:?}", snap.error);
        (s, snap)
    }

    fn watch(id: &str) -> &'static str {
        EXAMPLES.iter().find(|e| e.id == id).unwrap().watch
    }

    fn late(s: &Snapshot) -> u64 {
        s.batches.iter().map(|b| b.dropped_late).sum()
    }

    fn most_state(s: &Snapshot) -> u64 {
        s.batches.iter().map(|b| b.state_rows).max().unwrap_or(0)
    }

    #[test]
    fn what_each_example_s_text_says_is_what_stepping_it_shows() {
        assert!(watch("watermark-small").contains("the two stragglers are dropped"));
        let (_, small) = end("watermark-small");
        assert_eq!(late(&small), 2);
        assert!(watch("watermark-large").contains("nothing is dropped") && watch("watermark-large").contains("state holds more"));
        let (_, large) = end("watermark-large");
        assert_eq!(late(&large), 0);
        assert!(most_state(&large) > most_state(&small), "{} vs {}", most_state(&large), most_state(&small));

        // "emitted once, when the watermark passes its end, in the no-data batch that follows; late rows are dropped"
        let (_, t) = end("tumbling-append");
        assert!(t.batches.iter().filter(|b| b.output_rows > 0).all(|b| b.input_rows == 0), "windows come out in no-data batches");
        assert!(late(&t) > 0);
        // "state falls as the watermark evicts windows"
        let (_, t) = end("tumbling-update");
        assert!(t.batches.windows(2).any(|w| w[1].state_rows < w[0].state_rows));
        // "never drops late rows nor forgets a window"
        let (_, t) = end("tumbling-complete");
        assert_eq!(late(&t), 0);
        assert!(t.batches.windows(2).all(|w| w[1].state_rows >= w[0].state_rows));
        // "Each row lands in two overlapping windows; a late row can be dropped for one and counted in the other."
        assert!(watch("sliding-append").contains("two overlapping windows"));
        let (_, t) = end("sliding-append");
        let w = t.window.unwrap();
        assert_eq!(w.size / w.slide, 2);
        assert!(late(&t) > 0);
        // "a minute per truck", "10 s windows"
        assert_eq!(end("trucks-live").1.window.map(|w| w.size), Some(60_000_000));
        assert!(watch("nexmark").contains("10 s windows"));
        assert_eq!(end("nexmark").1.window.map(|w| w.size), Some(10_000_000));
        // "less than 30 s apart": the session gap.
        assert!(watch("sessions-append").contains("30 s"));
        assert!(end("sessions-append").1.sql.contains("30 seconds"));
        // "the first copy's time plus 30 s"
        assert!(watch("dedup-within-watermark").contains("plus 30 s"));
        let (_, d) = end("dedup-within-watermark");
        assert!(d.sql.contains("DELAY OF INTERVAL 30 SECONDS") && d.sql.contains("WITHIN WATERMARK"), "{}", d.sql);
        // "every retry is dropped, even after a restart"
        let (_, d) = end("dedup");
        assert!(!d.duplicates.is_empty(), "the retries are listed");
        let ids: Vec<&Json> = d.sink.iter().map(|r| &r[0]).collect();
        assert_eq!(ids.len(), ids.iter().collect::<std::collections::HashSet<_>>().len(), "one row per id");
        // "put 3 duplicate records in the topic, at offsets of their own": listed by topic-partition
        // and offset, each after the copy it repeats.
        let (_, k) = end("kafka-retries-dedup");
        assert_eq!(k.duplicates.len(), 3, "{:?}", k.duplicates);
        for d in &k.duplicates {
            assert!(d.event.source.starts_with("payments-") && d.event.source == d.first.source, "{d:?}");
            assert!(d.first.offset < d.event.offset && d.key == vec![d.event.row[0].clone()], "{d:?}");
        }
        // "its bad record in the dead letters"
        assert!(end("medallion").1.dead_letter_total >= 1);
        // "skipped by the transactional table and written again by the at-least-once file"
        let (_, x) = end("exactly-once");
        assert!(x.batches.iter().any(|b| b.skipped_by_table));
        assert!(x.file_total > x.sink_total, "{} vs {}", x.file_total, x.sink_total);
        // "A NULL temperature fails the predicate"
        let (_, f) = end("stateless-filter");
        assert!(f.sink.iter().all(|r| !r.contains(&Json::Null)));
        // "a truck missing from the table vanishes (inner join)"
        let (_, j) = end("stream-static");
        assert!(j.sink_total < j.sources[0].rows);
        // NULL-padded rows of outer joins; the join's output watermark 20 s behind the input's.
        assert!(end("join-left-outer").1.sink.iter().any(|r| r.contains(&Json::Null)));
        let (_, full) = end("join-full-outer");
        let nulls_at = |k: usize| full.sink.iter().any(|r| r[k].is_null());
        assert!(nulls_at(0) || nulls_at(1), "{:?}", full.sink);
        assert!(watch("join-then-window").contains("20 s behind"));
        let (_, jw) = end("join-then-window");
        let lags: Vec<i64> = jw.batches.iter().filter_map(|b| Some(b.watermark_micros? - b.window_watermark_micros?)).collect();
        assert!(!lags.is_empty() && lags.iter().all(|l| (20_000_000..20_002_000).contains(l)), "{lags:?}");

        // The output-mode pair: "Retries are dropped before the count; each window is written
        // once, in the no-data batch after the watermark passes its end" against "each data batch
        // writes the windows it changed ...; the sink keeps one row per window and user".
        let keys = |s: &Snapshot| s.sink.iter().map(|r| format!("{}{}", r[0], r[1])).collect::<std::collections::HashSet<_>>().len();
        let (_, a) = end("dedup-window-append");
        assert!(!a.duplicates.is_empty(), "the retries are dropped");
        assert!(a.batches.iter().filter(|b| b.output_rows > 0).all(|b| b.input_rows == 0), "windows come out in no-data batches");
        assert_eq!(keys(&a), a.sink.len(), "each window once");
        let (_, u) = end("dedup-window-update");
        assert!(u.batches.iter().filter(|b| b.output_rows > 0).all(|b| b.input_rows > 0), "rows come out in data batches");
        assert_eq!(keys(&u), u.sink.len(), "one row per window and user");
        // "a window's row is written as soon as a click joins it"
        let (_, j) = end("join-then-window-update");
        assert!(j.batches[0].output_rows > 0 && j.batches[0].watermark.is_none(), "{:?}", j.batches[0]);
        // "Refused at start ...: a stream-stream join allows append and update only."
        let e = EXAMPLES.iter().find(|e| e.id == "join-then-window-complete").unwrap();
        let refused = Session::queued(e.scenario, SharedStorage::memory(), StorageKind::Memory).unwrap().snapshot().error.unwrap();
        assert_eq!(refused.kind, "unsupported_output_mode");
        assert!(refused.message.contains("Append and Update"), "{}", refused.message);
        // "each batch reads 3 ... the lag the next batches work through"
        let (mut k, _) = walk_kafka();
        let after_first = k.handle(Request::StepForward);
        assert_eq!(after_first.batches.iter().map(|b| b.input_rows).collect::<Vec<_>>(), vec![3]);
        assert_eq!(after_first.topics[0].lag(), 3, "3 of the 6 wait");
        let last = k.handle(Request::RunToEnd);
        assert!(last.batches.iter().all(|b| b.input_rows == 3), "{:?}", last.batches);
        assert_eq!(last.topics[0].lag(), 0);
        // "3 duplicate records in the topic ...: 9 messages in, 6 payments out."
        let (_, r) = end("kafka-retries-dedup");
        assert_eq!((r.topics[0].total_messages, r.sink_total), (9, 6));
        let ids: std::collections::HashSet<String> = r.sink.iter().map(|row| row[0].to_string()).collect();
        assert_eq!(ids.len(), 6, "one row per payment");
        // "each batch stays at 4 while the lag ... climbs by 2 a trigger, to 8"
        let e = EXAMPLES.iter().find(|e| e.id == "kafka-backpressure").unwrap();
        let mut k = Session::queued(e.scenario, SharedStorage::memory(), StorageKind::Memory).unwrap();
        let lags: Vec<u64> = (0..4).map(|_| k.handle(Request::StepForward).topics[0].lag()).collect();
        assert_eq!(lags, vec![2, 4, 6, 8]);
        assert!(k.snapshot().batches.iter().all(|b| b.input_rows == 4));
        assert_eq!(
            k.snapshot().batches.iter().map(|b| b.offsets_behind).collect::<Vec<_>>(),
            vec![Some(1), Some(2), Some(3), Some(4)],
            "per partition"
        );
        // "each ... reads one file per batch, runs the no-data batch ..., and stops"
        let (_, a) = end("available-now-schedule");
        assert_eq!(a.batches.iter().map(|b| b.input_rows > 0).collect::<Vec<_>>(), vec![true, true, false, true, true, false]);
    }

    fn walk_kafka() -> (Session, Snapshot) {
        let e = EXAMPLES.iter().find(|e| e.id == "kafka-bronze").unwrap();
        let s = Session::queued(e.scenario, SharedStorage::memory(), StorageKind::Memory).unwrap();
        let snap = s.snapshot();
        (s, snap)
    }

    /// A pipeline example opened and updated `n` times with Run update.
    fn updated(id: &str, n: usize) -> (Session, Snapshot) {
        let e = EXAMPLES.iter().find(|e| e.id == id).unwrap();
        let mut s = open_pipeline(id, e.scenario);
        let mut snap = s.snapshot();
        for _ in 0..n {
            snap = s.handle(Request::PipelineUpdate { full_refresh: vec![] });
        }
        (s, snap)
    }

    fn node<'a>(snap: &'a Snapshot, name: &str) -> &'a crate::protocol::PipelineNode {
        snap.pipeline.as_ref().and_then(|p| p.nodes.iter().find(|n| n.name == name)).unwrap_or_else(|| panic!("no node {name}"))
    }

    fn counts(snap: &Snapshot, names: &[&str]) -> Vec<u64> {
        names.iter().map(|n| node(snap, n).rows).collect()
    }

    #[test]
    fn what_each_pipeline_example_s_text_says_is_what_its_updates_show() {
        // "Press Run update once, pick the flow silver and press 'Lose checkpoint', then Run update:
        // silver ... has 3 rows from bronze's 2"
        assert!(
            watch("pipeline-lost-checkpoint").contains("'Lose checkpoint'")
                && watch("pipeline-lost-checkpoint").contains("3 rows from bronze's 2")
        );
        let (mut s, _) = updated("pipeline-lost-checkpoint", 1);
        let lost = s.handle(Request::PipelineLoseCheckpoint { flow: "silver".into() });
        assert!(lost.error.is_none(), "{:?}", lost.error);
        let snap = s.handle(Request::PipelineUpdate { full_refresh: vec![] });
        assert_eq!(counts(&snap, &["bronze", "silver"]), vec![2, 3]);
        let silver = s.handle(Request::PipelineSelect { node: "silver".into() }).pipeline.and_then(|p| p.table).unwrap();
        let first = Json::Array(silver.rows[0].clone());
        assert_eq!(silver.rows.iter().filter(|r| Json::Array((*r).clone()) == first).count(), 2, "the first row twice: {:?}", silver.rows);
        // Without the lost checkpoint the same two updates leave silver with bronze's rows only.
        assert_eq!(counts(&updated("pipeline-lost-checkpoint", 2).1, &["bronze", "silver"]), vec![2, 2]);

        // "the third drops a late row, the fourth fully refreshes gold ... so that row counts;
        // platinum is not reset and ends with 4 rows, gold's 2 twice"
        assert!(watch("pipeline-full-refresh").contains("ends with 4 rows, gold's 2 twice"));
        let n_of = |snap: &Snapshot| -> u64 {
            let g = snap.pipeline.as_ref().unwrap();
            assert_eq!(g.selected.as_deref(), Some("gold"));
            g.table.as_ref().unwrap().rows.iter().filter_map(|r| r.last().and_then(Json::as_u64)).sum()
        };
        let (mut s, third) = updated("pipeline-full-refresh", 3);
        assert!(third.error.is_none());
        assert_eq!(n_of(&s.handle(Request::PipelineSelect { node: "gold".into() })), 2, "the late row is not counted");
        s.handle(Request::PipelineUpdate { full_refresh: vec![] });
        assert_eq!(n_of(&s.handle(Request::PipelineSelect { node: "gold".into() })), 3, "after the full refresh it is");
        let end = s.handle(Request::PipelineUpdate { full_refresh: vec![] });
        assert_eq!(counts(&end, &["gold", "platinum"]), vec![2, 4]);

        // "fed by two flows, from_north and from_south: after the third update it holds all 5 rows"
        assert!(watch("pipeline-two-flows").contains("all 5 rows"));
        let (_, snap) = updated("pipeline-two-flows", 3);
        let flows: Vec<&str> = node(&snap, "all_events").flows.iter().map(|f| f.name.as_str()).collect();
        assert_eq!(flows.len(), 2, "{flows:?}");
        assert!(watch("pipeline-two-flows").contains(flows[0]) && watch("pipeline-two-flows").contains(flows[1]), "{flows:?}");
        assert_eq!(node(&snap, "all_events").rows, 5);

        // "landed ... 2 rows, then 3 ... d1's count rewritten. bronze only appends: 2 rows, then 4."
        assert!(watch("pipeline-view-vs-table").contains("2 rows, then 3") && watch("pipeline-view-vs-table").contains("2 rows, then 4"));
        let (mut s, first) = updated("pipeline-view-vs-table", 1);
        assert_eq!(counts(&first, &["landed", "bronze"]), vec![2, 2]);
        assert_eq!((node(&first, "landed").kind.as_str(), node(&first, "bronze").kind.as_str()), ("materialized_view", "streaming_table"));
        let d1 = |s: &mut Session| {
            let t = s.handle(Request::PipelineSelect { node: "landed".into() }).pipeline.and_then(|p| p.table).unwrap();
            t.rows.iter().find(|r| r[0] == "d1").map(|r| r[1].clone()).unwrap()
        };
        assert_eq!(d1(&mut s), Json::from(1));
        let second = s.handle(Request::PipelineUpdate { full_refresh: vec![] });
        assert_eq!(counts(&second, &["landed", "bronze"]), vec![3, 4]);
        assert_eq!(d1(&mut s), Json::from(2), "the view's row for d1 is rewritten, not appended");

        // "has_device keeps its failing row (warn), plausible drops the -99 reading (DROP ROW);
        // bronze has 3 rows, silver 2, and 1 failed on each"
        assert!(watch("pipeline-expectations-drop").contains("bronze has 3 rows, silver 2"));
        let (mut s, snap) = updated("pipeline-expectations-drop", 1);
        assert_eq!(counts(&snap, &["bronze", "silver"]), vec![3, 2]);
        let checks: Vec<(&str, &str, u64)> =
            node(&snap, "silver").expectations.iter().map(|x| (x.name.as_str(), x.action.as_str(), x.failed)).collect();
        assert_eq!(checks, vec![("has_device", "warn", 1), ("plausible", "drop", 1)]);
        let silver = s.handle(Request::PipelineSelect { node: "silver".into() }).pipeline.and_then(|p| p.table).unwrap();
        assert!(silver.rows.iter().any(|r| r[0].is_null()), "the warned row is kept");
        assert!(silver.rows.iter().all(|r| r[1].as_f64() != Some(-99.0)), "the dropped reading is absent");

        // "the second meets a -99 reading, plausible fails the update ... silver keeps its 2 rows"
        assert!(watch("pipeline-expectations-fail").contains("silver keeps its 2 rows"));
        let (mut s, first) = updated("pipeline-expectations-fail", 1);
        assert!(first.error.is_none());
        let before = s.handle(Request::PipelineSelect { node: "silver".into() }).pipeline.and_then(|p| p.table).unwrap();
        let failed = s.handle(Request::PipelineUpdate { full_refresh: vec![] });
        let message = failed.error.map(|x| x.message).unwrap_or_default();
        assert!(message.contains("plausible") && message.contains("FAIL UPDATE"), "{message}");
        let after = s.handle(Request::PipelineSelect { node: "silver".into() }).pipeline.and_then(|p| p.table).unwrap();
        assert_eq!((after.rows.len(), &after.rows, after.versions.len()), (2, &before.rows, before.versions.len()), "nothing committed");
        assert!(
            watch("pipeline-expectations-fail").contains("Databricks-only")
                && watch("pipeline-expectations-drop").contains("Databricks-only")
        );
    }
}
