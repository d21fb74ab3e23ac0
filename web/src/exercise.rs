//! Predict, then run: exercises over the gallery for interview and certification practice. Before
//! a run of an example the learner predicts what the engine will do (the watermark after it, the
//! rows it writes, the rows it drops as late, the state it keeps, the output modes Spark allows);
//! then the run's answer, recorded from the engine, says whether they were right and why.
//!
//! This is the part without a page: which exercises there are, what a `?exercise=` link names
//! (links are untrusted input), and how a question's options and right answer come from the
//! engine's own record of the example (never written down here: the options are built around
//! what the engine did, so an exercise follows the engine if its semantics change).

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;

use serde_json::Value as Json;
use unbounded_engine::time::format_timestamp;

use crate::compare::{change_stream, weight_label};
use crate::gallery::{example_by_id, Example};
use crate::protocol::{cell, ErrorInfo, EventMark, Snapshot};

/// What a question asks about one run of an example.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ask {
    /// The watermark the next batch runs with, once this run is done.
    Watermark,
    /// How many rows this run writes to the sink.
    Written,
    /// How many rows the stateful operators drop as late in this run.
    Late,
    /// How many rows the state holds after this run.
    State,
    /// Which output modes Spark accepts for the query (asked before anything runs).
    Modes,
}

/// One question: what it asks, about which run (1 is the first; `Modes` is asked at 0).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Question {
    pub run: u64,
    pub ask: Ask,
}

const fn q(run: u64, ask: Ask) -> Question {
    Question { run, ask }
}

/// An exercise: a gallery example, the concept it practises, and its questions in the order asked.
pub struct Exercise {
    pub id: &'static str,
    pub example: &'static str,
    pub concept: &'static str,
    pub title: &'static str,
    /// What to think about before starting.
    pub hint: &'static str,
    pub questions: &'static [Question],
}

use Ask::*;

pub const EXERCISES: &[Exercise] = &[
    Exercise {
        id: "stateless-rows",
        example: "stateless-filter",
        concept: "Stateless queries",
        title: "Filter and project: what each batch writes",
        hint: "No aggregation, no state: think about which of the arriving rows pass the WHERE clause.",
        questions: &[q(0, Modes), q(1, Written), q(2, Written), q(3, Written)],
    },
    Exercise {
        id: "stream-static-join",
        example: "stream-static",
        concept: "Stream-static joins",
        title: "A stream joined to a static table",
        hint: "An inner join with a static table: a row whose key is not in the table produces nothing.",
        questions: &[q(0, Modes), q(1, Written), q(2, Written)],
    },
    Exercise {
        id: "tumbling-append",
        example: "tumbling-append",
        concept: "Tumbling windows, append mode",
        title: "When does a window come out in append mode?",
        hint: "Append writes a window once, when the watermark passes its end. A batch runs with the watermark the batches before it set.",
        questions: &[q(1, Written), q(2, Watermark), q(3, Written), q(4, Late), q(5, Written)],
    },
    Exercise {
        id: "tumbling-update",
        example: "tumbling-update",
        concept: "Tumbling windows, update mode",
        title: "Update mode writes what changed",
        hint: "Update writes every window whose count changed in the batch, at once, and again at each change.",
        questions: &[q(1, Written), q(2, Written), q(3, Written), q(4, Late)],
    },
    Exercise {
        id: "tumbling-complete",
        example: "tumbling-complete",
        concept: "Tumbling windows, complete mode",
        title: "Complete mode rewrites everything",
        hint: "Complete writes the whole result table after every batch with data, and never forgets a window.",
        questions: &[q(1, Written), q(2, Written), q(3, Written)],
    },
    Exercise {
        id: "state-eviction",
        example: "tumbling-append",
        concept: "State and eviction",
        title: "How much state does the aggregation keep?",
        hint: "A window is kept in state until the watermark passes its end; then it is written (append) and evicted.",
        questions: &[q(1, State), q(2, State), q(3, State), q(6, State)],
    },
    Exercise {
        id: "sliding-windows",
        example: "sliding-append",
        concept: "Sliding windows",
        title: "One event, several windows",
        hint: "With a slide shorter than the size, each event falls into several windows; a late event is dropped for each closed one.",
        questions: &[q(1, State), q(2, Written), q(3, Late), q(4, Written)],
    },
    Exercise {
        id: "session-windows",
        example: "sessions-append",
        concept: "Session windows",
        title: "Sessions that close on a gap",
        hint: "A session grows while events come less than the gap apart; in append mode it is written when the watermark passes its end.",
        questions: &[q(0, Modes), q(1, Written), q(2, Written), q(3, Written)],
    },
    Exercise {
        id: "sessions-without-watermark",
        example: "sessions-complete",
        concept: "Session windows, complete mode",
        title: "Sessions with no watermark",
        hint: "Without a watermark nothing is ever final: which output modes can Spark offer then?",
        questions: &[q(0, Modes), q(1, Watermark), q(1, Written), q(2, Written)],
    },
    Exercise {
        id: "watermark-small",
        example: "watermark-small",
        concept: "Watermarks and late data",
        title: "A 2-second watermark and two stragglers",
        hint: "The watermark is the newest event time seen minus the delay. A row is late when its window has closed.",
        questions: &[q(1, Watermark), q(2, Written), q(3, Late), q(4, Late), q(5, Watermark)],
    },
    Exercise {
        id: "watermark-large",
        example: "watermark-large",
        concept: "Watermarks and late data",
        title: "A 30-second watermark: the same stragglers",
        hint: "A large delay keeps windows open longer: fewer rows dropped, results later, more state.",
        questions: &[q(1, Watermark), q(3, Written), q(3, Late), q(4, Late), q(4, Written)],
    },
    Exercise {
        id: "dedup-forever",
        example: "dedup",
        concept: "Deduplication",
        title: "dropDuplicates with no watermark",
        hint: "Without a watermark every id seen is kept in state forever, and every later copy is dropped.",
        questions: &[q(0, Modes), q(1, Written), q(2, Written), q(3, Written), q(3, State)],
    },
    Exercise {
        id: "dedup-within-watermark",
        example: "dedup-within-watermark",
        concept: "Deduplication with a watermark",
        title: "dropDuplicatesWithinWatermark",
        hint: "An id is remembered until the watermark passes its first copy's time plus the delay; then it is forgotten.",
        questions: &[q(1, Written), q(2, Written), q(2, Watermark), q(3, State), q(4, Written)],
    },
    Exercise {
        id: "dedup-then-window",
        example: "dedup-window-append",
        concept: "Deduplication before an aggregation",
        title: "Retries dropped, then counted per window",
        hint: "The duplicates go before the count; the count's windows come out in append mode when final.",
        questions: &[q(1, Written), q(2, Written), q(3, Late)],
    },
    Exercise {
        id: "dedup-then-window-update",
        example: "dedup-window-update",
        concept: "Deduplication before an aggregation",
        title: "The same count in update mode",
        hint: "Update writes each window it changed, before it is final.",
        questions: &[q(0, Modes), q(1, Written), q(2, Written), q(3, Written)],
    },
    Exercise {
        id: "medallion",
        example: "medallion",
        concept: "Bronze, silver, gold in one query",
        title: "Revenue per minute, written when final",
        hint: "Bad records go to the dead letters; retries and refunds are filtered; the minute's revenue comes out when the watermark passes it.",
        questions: &[q(1, Watermark), q(2, Written), q(3, Late), q(4, Written)],
    },
    Exercise {
        id: "exactly-once",
        example: "exactly-once",
        concept: "Exactly once after a crash",
        title: "A crash after the sink's write",
        hint: "The batch is retried from the checkpoint; the transactional table knows the batch id and writes it once.",
        questions: &[q(1, Written), q(2, Written)],
    },
    Exercise {
        id: "left-outer-join",
        example: "join-left-outer",
        concept: "Stream-stream outer joins",
        title: "An impression without a click",
        hint: "The NULL-padded row comes out only when the watermark says no click can come any more.",
        questions: &[q(1, Watermark), q(1, Written), q(2, Written), q(3, State)],
    },
    Exercise {
        id: "full-outer-join",
        example: "join-full-outer",
        concept: "Stream-stream outer joins",
        title: "Unmatched rows of both sides",
        hint: "Both sides keep state until the watermark passes; then their unmatched rows come out NULL-padded.",
        questions: &[q(2, Written), q(3, Late), q(4, Written)],
    },
    Exercise {
        id: "join-then-window",
        example: "join-then-window",
        concept: "A join feeding a window",
        title: "The join's output watermark",
        hint: "Above a stream-stream join the window sees the join's output watermark, which lags the input's by the join's time bound.",
        questions: &[q(0, Modes), q(2, Written), q(3, Written), q(4, Written)],
    },
    Exercise {
        id: "join-then-window-update",
        example: "join-then-window-update",
        concept: "A join feeding a window",
        title: "The same join and count, update mode",
        hint: "Update writes a window as soon as a click joins it, and again each time its count changes.",
        questions: &[q(1, Written), q(2, Written), q(3, Late), q(3, Written)],
    },
    Exercise {
        id: "join-complete-refused",
        example: "join-then-window-complete",
        concept: "Output modes Spark refuses",
        title: "A stream-stream join in complete mode",
        hint: "Complete mode would keep every joined row forever.",
        questions: &[q(0, Modes)],
    },
    Exercise {
        id: "append-needs-watermark",
        example: "refused",
        concept: "Output modes Spark refuses",
        title: "An aggregation with no watermark",
        hint: "Append writes a row once, when final. With no watermark, when is a count final?",
        questions: &[q(0, Modes)],
    },
    Exercise {
        id: "nexmark-bids",
        example: "nexmark",
        concept: "Windows over a benchmark stream",
        title: "Nexmark: bids per auction",
        hint: "Bids per auction in 10-second windows, append mode.",
        questions: &[q(1, Written), q(2, Watermark), q(2, Written), q(3, Written)],
    },
    Exercise {
        id: "trucks-update",
        example: "trucks-live",
        concept: "Windows in update mode",
        title: "Trucks: windows that update",
        hint: "Each batch writes the windows it changed; a reading behind the watermark in a closed window is dropped.",
        questions: &[q(1, Written), q(2, Watermark), q(3, Late), q(3, State)],
    },
    Exercise {
        id: "kafka-max-offsets",
        example: "kafka-bronze",
        concept: "Kafka rate limits",
        title: "maxOffsetsPerTrigger over two partitions",
        hint: "The limit is shared by the partitions in proportion to what each has waiting, and each share is rounded down.",
        questions: &[q(1, Written), q(2, Written), q(3, Written)],
    },
    Exercise {
        id: "kafka-retries-dedup",
        example: "kafka-retries-dedup",
        concept: "Duplicates from producer retries",
        title: "Retried records, deduplicated by key",
        hint: "A retried record is a new message at a new offset; the query keeps a key until the watermark passes its timestamp plus the delay.",
        questions: &[q(1, Written), q(2, Written), q(2, State), q(3, Written)],
    },
    Exercise {
        id: "kafka-backpressure",
        example: "kafka-backpressure",
        concept: "Backpressure",
        title: "A producer faster than maxOffsetsPerTrigger",
        hint: "6 messages arrive before each trigger; a batch reads at most 4. What does the last run, with nothing new arriving, do?",
        questions: &[q(1, Written), q(4, Written), q(5, Written)],
    },
    Exercise {
        id: "available-now-schedule",
        example: "available-now-schedule",
        concept: "Triggers: availableNow",
        title: "A scheduled availableNow job",
        hint: "Each run reads one file per batch (maxFilesPerTrigger 1) and ends with the no-data batch its watermark calls for; the next run restores state and watermark from the checkpoint.",
        questions: &[q(1, Written), q(1, Watermark), q(2, Written), q(2, State)],
    },
    Exercise {
        id: "auto-loader-new-column",
        example: "auto-loader-new-column",
        concept: "Auto Loader schema evolution",
        title: "A file brings a new column",
        hint: "In addNewColumns mode a new column stops the stream once, with the new schema recorded; the restart reads the file again with it.",
        questions: &[q(1, Written), q(2, Written), q(3, Written)],
    },
];

/// The longest `?exercise=` value read: ids are far shorter.
pub const MAX_PARAM_CHARS: usize = 80;

/// The exercise a link names.
pub fn exercise_by_id(id: &str) -> Option<&'static Exercise> {
    EXERCISES.iter().find(|e| e.id == id)
}

/// Why a `?exercise=` link opens no exercise.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ExerciseError {
    TooLong { chars: usize },
    Unknown { id: String },
}

impl fmt::Display for ExerciseError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ExerciseError::TooLong { chars } => {
                write!(f, "the exercise's name is {chars} characters long, more than the {MAX_PARAM_CHARS} a link may give")
            }
            ExerciseError::Unknown { id } => {
                let shown: String = id.chars().take(40).map(|c| if c.is_control() { '?' } else { c }).collect();
                write!(f, "there is no exercise `{shown}{}`", if id.chars().count() > 40 { "…" } else { "" })
            }
        }?;
        write!(f, ". The list of exercises opens with ?exercise= alone.")
    }
}

impl std::error::Error for ExerciseError {}

/// What a `?exercise=` value asks for: the list (empty), or one exercise.
pub fn parse(value: &str) -> Result<Option<&'static Exercise>, ExerciseError> {
    let chars = value.chars().count();
    if chars > MAX_PARAM_CHARS {
        return Err(ExerciseError::TooLong { chars });
    }
    let id = value.trim();
    if id.is_empty() {
        return Ok(None);
    }
    exercise_by_id(id).map(Some).ok_or_else(|| ExerciseError::Unknown { id: id.to_string() })
}

/// The example an exercise runs.
pub fn example_of(e: &Exercise) -> &'static Example {
    // Every exercise's example is in the gallery: a test checks it.
    example_by_id(e.example).unwrap_or(&crate::gallery::EXAMPLES[0])
}

/// The highest score a link may carry, for "someone scored k of n".
pub fn shared_score(value: &str, exercise: &Exercise) -> Option<usize> {
    let k: usize = value.trim().parse().ok().filter(|_| value.len() <= 3)?;
    (k <= exercise.questions.len()).then_some(k)
}

/// The engine's record of an example, from batch 0 to its end: the session at every position
/// (index = position), and what Spark said to the query in each output mode.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Recording {
    pub positions: Vec<Snapshot>,
    /// `append`, `update`, `complete`, each with the refusal, if the engine refused it.
    pub modes: Vec<(String, Option<ErrorInfo>)>,
}

/// The output modes asked about, in the order the page shows them.
pub const MODES: [&str; 3] = ["append", "update", "complete"];

/// A question as the learner sees it, with its answer and the engine's reasons.
#[derive(Debug, Clone, PartialEq)]
pub struct Posed {
    pub prompt: String,
    pub options: Vec<String>,
    /// Several options may be right (pick every one that is).
    pub multi: bool,
    pub correct: BTreeSet<usize>,
    /// Why, in the engine's words and numbers: shown once the learner has answered.
    pub why: Vec<String>,
}

impl Posed {
    /// Whether a choice is exactly the right answer.
    pub fn grade(&self, chosen: &BTreeSet<usize>) -> bool {
        *chosen == self.correct
    }
}

/// Why a question cannot be posed over a recording (the engine did not get that far).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NotRecorded(pub String);

impl fmt::Display for NotRecorded {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// What arrives before a run of a scenario: its `add` steps, and the crashes and restarts
/// between the run before and this one, as a learner reads them.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Arrivals {
    pub rows: Vec<(String, Vec<Json>)>,
    pub other: Vec<String>,
}

/// The steps of a scenario before its `run`-th run (1 is the first).
pub fn arrivals(scenario: &str, run: u64) -> Arrivals {
    let mut out = Arrivals::default();
    let Ok(doc) = serde_json::from_str::<Json>(scenario) else { return out };
    let Some(steps) = doc.get("steps").and_then(Json::as_array) else { return out };
    let mut runs = 0;
    for step in steps {
        if step.get("run").is_some() {
            runs += 1;
            if runs == run {
                break;
            }
            out = Arrivals::default();
            continue;
        }
        if let (Some(source), Some(rows)) = (step.get("add").and_then(Json::as_str), step.get("rows").and_then(Json::as_array)) {
            for r in rows {
                out.rows.push((source.to_string(), r.as_array().cloned().unwrap_or_default()));
            }
        } else if let Some(point) = step.get("fail").and_then(Json::as_str) {
            out.other.push(format!("a crash is armed at `{point}`: the next batch dies there and is retried from the checkpoint"));
        } else if step.get("restart").is_some() {
            out.other.push("the query is stopped and started again from its checkpoint".into());
        } else if step.get("lose_checkpoint").is_some() {
            out.other.push("the checkpoint is deleted: the query starts again from scratch".into());
        }
    }
    out
}

/// The runs an example's scenario has.
pub fn runs_of(scenario: &str) -> u64 {
    serde_json::from_str::<Json>(scenario)
        .ok()
        .and_then(|d| d.get("steps").and_then(Json::as_array).map(|s| s.iter().filter(|s| s.get("run").is_some()).count() as u64))
        .unwrap_or(0)
}

/// A run's two sides: the session before it and after it.
struct Run<'a> {
    before: &'a Snapshot,
    after: &'a Snapshot,
}

impl Run<'_> {
    fn batch_ids(&self) -> Vec<u64> {
        let p = self.after.scrub.position;
        self.after.scrub.kept.iter().find(|k| k.position == p).map(|k| k.batch_ids.clone()).unwrap_or_default()
    }

    fn batches(&self) -> Vec<&crate::protocol::BatchInfo> {
        let ids = self.batch_ids();
        self.after.batches.iter().filter(|b| ids.contains(&b.batch_id)).collect()
    }

    /// The events this run read (new on the timeline since the run before).
    fn events(&self) -> Vec<&EventMark> {
        let seen: BTreeSet<(&str, u64)> = self.before.timeline.iter().map(|m| (m.source.as_str(), m.offset)).collect();
        self.after.timeline.iter().filter(|m| !seen.contains(&(m.source.as_str(), m.offset))).collect()
    }

    fn input_rows(&self) -> u64 {
        self.batches().iter().map(|b| b.input_rows).sum()
    }
}

fn rows_word(n: u64) -> &'static str {
    if n == 1 {
        "row"
    } else {
        "rows"
    }
}

fn row_text(row: &[Json]) -> String {
    row.iter().map(cell).collect::<Vec<_>>().join(", ")
}

/// Numbers as options: the right one and the nearest plausible others, at most `most`, in order.
fn number_options(truth: u64, others: &[u64], most: usize) -> (Vec<String>, BTreeSet<usize>) {
    let mut set: BTreeSet<u64> = others.iter().copied().collect();
    set.insert(truth);
    for d in 1..=2 {
        set.insert(truth + d);
        if truth >= d {
            set.insert(truth - d);
        }
    }
    // Keep the `most` nearest the truth (ties to the smaller), the truth among them.
    let mut near: Vec<u64> = set.into_iter().collect();
    near.sort_by_key(|n| (n.abs_diff(truth), *n));
    near.truncate(most.max(1));
    near.sort_unstable();
    let k = near.iter().position(|n| *n == truth).unwrap_or(0);
    (near.iter().map(u64::to_string).collect(), BTreeSet::from([k]))
}

/// A watermark as options show it.
fn watermark_text(micros: Option<i64>) -> String {
    micros.map_or_else(|| "none yet".to_string(), format_timestamp)
}

/// The mode's rule, as Spark documents it, for the explanation of what a run wrote.
fn mode_rule(mode: &str, stateful: bool) -> &'static str {
    match (mode, stateful) {
        (_, false) => "The query keeps no state: each batch writes exactly the rows its own events make.",
        ("append", _) => {
            "Append writes a row once, when it is final: a window when the watermark passes its end (the row can never change after)."
        }
        ("update", _) => "Update writes every row whose result changed in the batch, at once: the same window again each time it changes.",
        ("complete", _) => "Complete rewrites the whole result table after every batch with data.",
        _ => "",
    }
}

/// Poses question `q` over the engine's record of the example.
pub fn pose(q: &Question, rec: &Recording) -> Result<Posed, NotRecorded> {
    if q.ask == Modes {
        return Ok(pose_modes(rec));
    }
    let (Some(before), Some(after)) = (rec.positions.get(q.run.saturating_sub(1) as usize), rec.positions.get(q.run as usize)) else {
        return Err(NotRecorded(format!("the engine's record stops before run {}", q.run)));
    };
    if q.run == 0 || after.scrub.position != q.run {
        return Err(NotRecorded(format!("run {} is not in the engine's record", q.run)));
    }
    let run = Run { before, after };
    let batches = run.batches();
    let ids = run.batch_ids();
    let ran = match ids.as_slice() {
        [] => "no micro-batch ran".to_string(),
        [one] => format!("micro-batch {one} ran"),
        many => format!("micro-batches {} ran", many.iter().map(u64::to_string).collect::<Vec<_>>().join(" and ")),
    };
    let stateful = !after.state.is_empty() || batches.iter().any(|b| b.state_rows > 0);
    Ok(match q.ask {
        Watermark => {
            let micros = |s: &Snapshot| s.watermark.as_deref().and_then(unbounded_engine::time::parse_timestamp);
            let (was, now) = (micros(before), micros(after));
            let events = run.events();
            let newest_here = events.iter().filter_map(|m| m.event_time).max();
            let newest_seen = after.timeline.iter().filter_map(|m| m.event_time).max();
            let sources: BTreeSet<&str> = after.timeline.iter().filter(|m| m.event_time.is_some()).map(|m| m.source.as_str()).collect();
            let delay = match (now, newest_seen) {
                (Some(w), Some(m)) if sources.len() == 1 && m >= w => Some(m - w),
                _ => None,
            };
            let mut candidates: BTreeSet<Option<i64>> = BTreeSet::from([now, was]);
            candidates.extend([newest_here, newest_seen].into_iter().flatten().map(Some));
            if let (Some(d), Some(m)) = (delay, newest_here) {
                candidates.insert(Some(m - d));
            }
            if now.is_some() {
                candidates.insert(None);
            }
            let options: Vec<Option<i64>> = candidates.into_iter().collect();
            let k = options.iter().position(|o| *o == now).unwrap_or(0);
            let mut why = vec![format!("After run {}, the next batch runs with the watermark {}.", q.run, watermark_text(now))];
            match (delay, newest_seen, now) {
                (Some(d), Some(m), Some(w)) => why.push(format!(
                    "It is the newest event time seen so far, {}, minus the delay of {}: {}.",
                    format_timestamp(m),
                    duration_text(d),
                    format_timestamp(w)
                )),
                (_, _, Some(_)) if sources.len() > 1 => why.push(
                    "Each input keeps its own watermark (its newest event time minus its delay); the query's is the smallest of them, Spark's default policy for several watermarks."
                        .into(),
                ),
                (_, _, None) => why.push("The query has no watermark yet: no event with an event time has been read, or the query defines none.".into()),
                _ => {}
            }
            if let (Some(h), Some(m)) = (newest_here, newest_seen) {
                if h < m {
                    why.push(format!(
                        "The newest event of this run ({}) is older than one seen before ({}): a watermark never moves back.",
                        format_timestamp(h),
                        format_timestamp(m)
                    ));
                }
            }
            if let Some(first) = batches.first().filter(|_| was != now) {
                why.push(format!(
                    "Micro-batch {}, the first of this run, ran with {}: a batch runs with the watermark the batches before it left.",
                    first.batch_id,
                    first.watermark.clone().unwrap_or_else(|| "no watermark".into())
                ));
            }
            Posed {
                prompt: format!("Once run {} is done, what watermark does the next micro-batch run with?", q.run),
                options: options.into_iter().map(watermark_text).collect(),
                multi: false,
                correct: BTreeSet::from([k]),
                why,
            }
        }
        Written => {
            let truth: u64 = batches.iter().map(|b| b.output_rows).sum();
            let (options, correct) = number_options(truth, &[0, run.input_rows(), after.sink_total], 4);
            let mut why = vec![format!("Run {} wrote {truth} {} ({ran}), in {} mode.", q.run, rows_word(truth), after.output_mode)];
            why.push(mode_rule(&after.output_mode, stateful).to_string());
            for b in batches.iter().filter(|b| b.output_rows > 0 && ids.len() > 1) {
                why.push(format!("Micro-batch {} wrote {} {}.", b.batch_id, b.output_rows, rows_word(b.output_rows)));
            }
            if let Some(b) = batches.iter().find(|b| b.skipped_by_table) {
                why.push(format!("The table had batch {} already (written before the crash) and skipped it: exactly once.", b.batch_id));
            }
            let changes = change_stream(&before.sink, &after.sink);
            if !changes.is_empty() && after.sink_total as usize == after.sink.len() {
                why.push("What the sink's table changed, + added and − replaced:".into());
                why.extend(changes.iter().map(|c| format!("{} {}", weight_label(c.weight), row_text(&c.row))));
            }
            Posed {
                prompt: format!("How many rows does run {} write to the sink ({} mode)?", q.run, after.output_mode),
                options,
                multi: false,
                correct,
                why,
            }
        }
        Late => {
            let truth: u64 = batches.iter().map(|b| b.dropped_late).sum();
            let input = run.input_rows();
            let (options, correct) = number_options(truth, &[0, input], 4);
            let mut why = vec![format!("Run {} dropped {truth} {} as late.", q.run, rows_word(truth))];
            for b in &batches {
                for l in &b.late {
                    let window =
                        l.window.map(|(a, z)| format!(" Its window [{}, {}) was closed.", format_timestamp(a), format_timestamp(z)));
                    why.push(format!(
                        "{}: event time {} is behind the watermark {} that batch {} ran with, at {}.{}",
                        row_text(&l.row),
                        format_timestamp(l.event_time),
                        format_timestamp(l.watermark),
                        b.batch_id,
                        l.operator,
                        window.unwrap_or_default()
                    ));
                }
            }
            if truth == 0 {
                let w = batches.first().and_then(|b| b.watermark.clone()).unwrap_or_else(|| "none".into());
                why.push(format!("Every row of this run was at or after the watermark its batch ran with ({w}), so none was dropped."));
            }
            Posed { prompt: format!("How many rows does run {} drop as late?", q.run), options, multi: false, correct, why }
        }
        State => {
            let truth = batches.last().map_or(0, |b| b.state_rows);
            let held_before = before.batches.last().map_or(0, |b| b.state_rows);
            let (options, correct) = number_options(truth, &[held_before, held_before + run.input_rows()], 4);
            let mut why = vec![format!("After run {}, the state holds {truth} {} (it held {held_before}).", q.run, rows_word(truth))];
            for op in &after.state {
                for t in &op.tables {
                    let mut line = format!("{} ({}): {} {}", op.operator, t.name, t.rows, rows_word(t.rows));
                    if !t.evicted.is_empty() {
                        line.push_str(&format!(", {} evicted by the last batch (the watermark passed them)", t.evicted.len()));
                    }
                    why.push(line);
                }
            }
            Posed { prompt: format!("How many rows does the state hold once run {} is done?", q.run), options, multi: false, correct, why }
        }
        Modes => unreachable_modes(),
    })
}

/// `Modes` is posed before the match; this keeps the match whole without a panic.
fn unreachable_modes() -> Posed {
    Posed { prompt: String::new(), options: Vec::new(), multi: false, correct: BTreeSet::new(), why: Vec::new() }
}

fn pose_modes(rec: &Recording) -> Posed {
    let options: Vec<String> = MODES.iter().map(|m| m.to_string()).collect();
    let verdict: BTreeMap<&str, &Option<ErrorInfo>> = rec.modes.iter().map(|(m, e)| (m.as_str(), e)).collect();
    let correct: BTreeSet<usize> =
        MODES.iter().enumerate().filter(|(_, m)| matches!(verdict.get(*m), Some(None))).map(|(k, _)| k).collect();
    let why = MODES
        .iter()
        .map(|m| match verdict.get(m) {
            Some(None) => format!("{m}: accepted."),
            Some(Some(e)) => format!("{m}: refused: {}", e.message),
            None => format!("{m}: not asked."),
        })
        .collect();
    Posed { prompt: "Which output modes does Spark accept for this query? Pick every one.".into(), options, multi: true, correct, why }
}

fn duration_text(micros: i64) -> String {
    let s = micros as f64 / 1e6;
    if micros % 1_000_000 == 0 {
        format!("{} s", micros / 1_000_000)
    } else {
        format!("{s} s")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::protocol::{Request, StorageKind};
    use crate::session::Session;
    use unbounded_engine::storage::SharedStorage;

    /// What the page records, natively: the example from batch 0 to its end, run by run, then
    /// the query in each output mode.
    pub(crate) fn record(example: &Example) -> Recording {
        let mut s = Session::queued(example.scenario, SharedStorage::memory(), StorageKind::Memory).expect("a gallery example opens");
        let mut positions = vec![s.snapshot()];
        let runs = positions[0].scrub.queued_runs;
        for _ in 0..runs {
            positions.push(s.handle(Request::StepForward));
        }
        let (sql, _) = (positions[0].sql.clone(), ());
        let modes = MODES
            .iter()
            .map(|m| (m.to_string(), s.handle(Request::SetQuery { sql: sql.clone(), output_mode: m.to_string() }).error))
            .collect();
        Recording { positions, modes }
    }

    /// Query examples no exercise practises, and why.
    const NOT_PRACTISED: &[&str] = &[
        // Its lesson is the button "Lose the checkpoint", pressed by hand: its scenario has no such step.
        "lost-checkpoint",
    ];

    fn is_pipeline(e: &Example) -> bool {
        matches!(unbounded_engine::pipeline::scenario::PipelineScenario::parse_if_pipeline(e.scenario), Ok(Some(_)))
    }

    #[test]
    fn twenty_exercises_or_more_cover_every_query_example_of_the_gallery() {
        assert!(EXERCISES.len() >= 20, "{} exercises", EXERCISES.len());
        let ids: BTreeSet<&str> = EXERCISES.iter().map(|e| e.id).collect();
        assert_eq!(ids.len(), EXERCISES.len(), "ids are unique");
        for e in EXERCISES {
            let example = example_by_id(e.example).unwrap_or_else(|m| panic!("{}: {m}", e.id));
            assert!(!is_pipeline(example), "{} practises a query", e.id);
            assert!(!e.questions.is_empty() && !e.hint.is_empty() && !e.title.is_empty());
            assert_eq!(example_of(e).id, e.example);
            let runs = runs_of(example.scenario);
            for q in e.questions {
                assert!(q.run <= runs, "{}: run {} of {runs}", e.id, q.run);
                assert_eq!(q.ask == Modes, q.run == 0, "{}: a mode question is asked before anything runs, and only it", e.id);
            }
        }
        for g in crate::gallery::EXAMPLES.iter().filter(|g| !is_pipeline(g)) {
            let practised = EXERCISES.iter().any(|e| e.example == g.id);
            assert_eq!(practised, !NOT_PRACTISED.contains(&g.id), "{}", g.id);
        }
    }

    #[test]
    fn every_question_has_its_answer_from_the_engine_among_its_options() {
        let mut recordings: BTreeMap<&str, Recording> = BTreeMap::new();
        for e in EXERCISES {
            let rec = recordings.entry(e.example).or_insert_with(|| record(example_of(e)));
            for q in e.questions {
                let p = pose(q, rec).unwrap_or_else(|m| panic!("{} {q:?}: {m}", e.id));
                let unique: BTreeSet<&String> = p.options.iter().collect();
                assert_eq!(unique.len(), p.options.len(), "{} {q:?}: options {:?}", e.id, p.options);
                assert!(p.options.len() >= 2, "{} {q:?}: a choice of one", e.id);
                assert!(p.correct.iter().all(|k| *k < p.options.len()));
                if !p.multi {
                    assert_eq!(p.correct.len(), 1, "{} {q:?}", e.id);
                }
                assert!(!p.why.is_empty() && !p.prompt.is_empty());
                // The right answer is right, and every other single choice is not.
                assert!(p.grade(&p.correct));
                for k in 0..p.options.len() {
                    assert_eq!(p.grade(&BTreeSet::from([k])), p.correct == BTreeSet::from([k]));
                }
            }
        }
    }

    fn answer(p: &Posed) -> Vec<&str> {
        p.correct.iter().map(|k| p.options[*k].as_str()).collect()
    }

    /// What the gallery's texts say is what the exercises' answers say.
    #[test]
    fn the_answers_are_what_the_examples_texts_say() {
        let small = record(example_by_id("watermark-small").unwrap());
        let wm = pose(&q(1, Watermark), &small).unwrap();
        assert_eq!(answer(&wm), ["2026-01-01 00:00:06"]);
        assert!(wm.why.iter().any(|w| w.contains("2026-01-01 00:00:08") && w.contains("delay of 2 s")), "{:?}", wm.why);
        assert!(wm.options.contains(&"2026-01-01 00:00:08".to_string()), "the delay forgotten is a choice: {:?}", wm.options);
        // The two stragglers of its text, one in each of runs 3 and 4.
        let late3 = pose(&q(3, Late), &small).unwrap();
        assert_eq!(answer(&late3), ["1"]);
        assert!(late3.why.iter().any(|w| w.contains("event time 2026-01-01 00:00:06")), "{:?}", late3.why);
        let late4 = pose(&q(4, Late), &small).unwrap();
        assert!(late4.why.iter().any(|w| w.contains("event time 2026-01-01 00:00:12")), "{:?}", late4.why);
        // The large watermark drops neither.
        let large = record(example_by_id("watermark-large").unwrap());
        assert_eq!(answer(&pose(&q(4, Late), &large).unwrap()), ["0"]);
        assert_eq!(answer(&pose(&q(3, Written), &large).unwrap()), ["0"], "every window still waits");

        let sessions = record(example_by_id("sessions-append").unwrap());
        let modes = pose(&q(0, Modes), &sessions).unwrap();
        assert!(modes.multi);
        assert_eq!(answer(&modes), ["append", "complete"]);
        assert!(modes.why.iter().any(|w| w.starts_with("update: refused")), "{:?}", modes.why);
        let refused = record(example_by_id("refused").unwrap());
        let modes = pose(&q(0, Modes), &refused).unwrap();
        assert_eq!(answer(&modes), ["update", "complete"]);
        assert!(modes.why[0].starts_with("append: refused") && modes.why[0].contains("watermark"), "{:?}", modes.why);
        let join = record(example_by_id("join-then-window-complete").unwrap());
        assert_eq!(answer(&pose(&q(0, Modes), &join).unwrap()), ["append", "update"]);

        // Complete rewrites every window each batch: 3 rows where only one changed.
        let complete = record(example_by_id("tumbling-complete").unwrap());
        let written = pose(&q(3, Written), &complete).unwrap();
        assert_eq!(answer(&written), ["3"]);
        assert!(written.why.iter().any(|w| w.starts_with("Complete rewrites")), "{:?}", written.why);
        // The crash's batch is retried and the table writes it once.
        let once = record(example_by_id("exactly-once").unwrap());
        let written = pose(&q(2, Written), &once).unwrap();
        assert!(written.why.iter().any(|w| w.contains("skipped it: exactly once")), "{:?}", written.why);
        // Two inputs: the watermark is the smallest of theirs.
        let outer = record(example_by_id("join-left-outer").unwrap());
        assert!(pose(&q(1, Watermark), &outer).unwrap().why.iter().any(|w| w.contains("smallest")));
    }

    #[test]
    fn a_question_past_the_record_says_so() {
        let small = record(example_by_id("watermark-small").unwrap());
        assert!(pose(&q(9, Written), &small).is_err());
        let short = Recording { positions: small.positions[..2].to_vec(), modes: Vec::new() };
        assert!(pose(&q(2, Late), &short).unwrap_err().to_string().contains("run 2"));
        // No answer from the engine for a mode: not counted right.
        let p = pose(&q(0, Modes), &short).unwrap();
        assert!(p.correct.is_empty() && p.why.iter().all(|w| w.ends_with("not asked.")));
    }

    #[test]
    fn what_arrives_before_each_run() {
        let text = example_by_id("watermark-small").unwrap().scenario;
        assert_eq!(runs_of(text), 5);
        let first = arrivals(text, 1);
        assert_eq!(first.rows.len(), 3);
        assert_eq!(
            first.rows[0],
            ("readings".to_string(), vec![serde_json::json!("d1"), serde_json::json!(20.0), serde_json::json!("2026-01-01 00:00:01")])
        );
        assert_eq!(arrivals(text, 2).rows.len(), 2);
        let once = example_by_id("exactly-once").unwrap().scenario;
        assert!(arrivals(once, 2).other[0].contains("after_sink_write"));
        assert!(arrivals(once, 1).other.is_empty());
        assert_eq!(arrivals("not json", 1), Arrivals::default());
    }

    #[test]
    fn a_link_names_an_exercise_or_the_list() {
        assert_eq!(parse("").map(|e| e.map(|e| e.id)), Ok(None));
        assert_eq!(parse(" watermark-small ").map(|e| e.map(|e| e.id)), Ok(Some("watermark-small")));
        assert_eq!(parse("nope").err(), Some(ExerciseError::Unknown { id: "nope".into() }));
        let long = "x".repeat(MAX_PARAM_CHARS + 1);
        assert_eq!(parse(&long).err(), Some(ExerciseError::TooLong { chars: MAX_PARAM_CHARS + 1 }));
        let hostile = parse("<img src=x onerror=alert(1)>\u{1b}").err().unwrap().to_string();
        assert!(hostile.contains("`<img src=x onerror=alert(1)>?`") && hostile.contains("?exercise="), "{hostile}");
        let e = exercise_by_id("watermark-small").unwrap();
        assert_eq!(shared_score("3", e), Some(3));
        assert_eq!(shared_score(&e.questions.len().to_string(), e), Some(e.questions.len()));
        assert_eq!(shared_score("9", e), None, "more than the questions");
        assert_eq!((shared_score("-1", e), shared_score("1e3", e), shared_score("0003", e)), (None, None, None));
    }
}
