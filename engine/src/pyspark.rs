//! "Copy as PySpark": the equivalent PySpark Structured Streaming program for a scenario, so the
//! same logic runs on a real Spark cluster (4.1 or later: it reads the `STREAM` and `WATERMARK`
//! SQL). Unbounded's `DEDUPLICATE BY` clause becomes the DataFrame calls it stands for.

pub mod pipeline;

use std::fmt::Write;

use regex_lite::Regex;
use serde_json::Value as Json;

use crate::plan::OutputMode;
use crate::runtime::trigger::RunTrigger;
use crate::scenario::{Scenario, Step};
use crate::types::Schema;

/// Whether `s` is a name Spark reads without backquotes.
fn plain_identifier(s: &str) -> bool {
    let mut chars = s.chars();
    chars.next().is_some_and(|c| c.is_ascii_alphabetic() || c == '_') && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
}

/// A column name for a Spark DDL string: backquoted unless it is a plain identifier.
fn ddl_name(name: &str) -> String {
    if plain_identifier(name) {
        name.to_string()
    } else {
        format!("`{}`", name.replace('`', "``"))
    }
}

fn ddl(schema: &Schema) -> String {
    schema.columns.iter().map(|c| format!("{} {}", ddl_name(&c.name), c.data_type.spark_name())).collect::<Vec<_>>().join(", ")
}

/// A source's options (read limits such as maxFilesPerTrigger, Kafka's offsets) as the
/// `.options(**{...})` of its reader, every value a string as Spark's options are.
fn reader_options(s: &Scenario, source: &str) -> String {
    let options: Vec<String> = s
        .source_options
        .iter()
        .filter(|(name, _)| name == source)
        .flat_map(|(_, o)| o.iter())
        .map(|(k, v)| format!("{}: {}", python_str(k), python_str(&v.as_str().map_or_else(|| v.to_string(), str::to_string))))
        .collect();
    if options.is_empty() {
        String::new()
    } else {
        format!("\n    .options(**{{{}}})", options.join(", "))
    }
}

/// `s` as a Python string literal that decodes to exactly `s`. Only printable ASCII is written
/// as itself; everything else is an escape, so no text from a scenario can end the literal or
/// the line, hide itself from a reader (bidi controls), or depend on the file's encoding.
pub fn python_str(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            ' '..='~' => out.push(c),
            c if (c as u32) < 0x100 => {
                let _ = write!(out, "\\x{:02x}", c as u32);
            }
            c if (c as u32) < 0x10000 => {
                let _ = write!(out, "\\u{:04x}", c as u32);
            }
            c => {
                let _ = write!(out, "\\U{:08x}", c as u32);
            }
        }
    }
    out.push('"');
    out
}

/// Characters that end a line for Python, an editor or a terminal, or that reorder or hide text
/// (Unicode's line and paragraph separators, bidi controls, zero-width and other format chars).
fn unsafe_in_comment(c: char) -> bool {
    c.is_control()
        || matches!(
            c,
            '\u{ad}'
                | '\u{600}'..='\u{605}'
                | '\u{61c}'
                | '\u{6dd}'
                | '\u{70f}'
                | '\u{180e}'
                | '\u{200b}'..='\u{200f}'
                | '\u{2028}'..='\u{202e}'
                | '\u{2060}'..='\u{206f}'
                | '\u{feff}'
                | '\u{fff9}'..='\u{fffb}'
                | '\u{e0000}'..='\u{e007f}'
        )
}

/// `text` as `#` comment lines: one per line of the text, every character that could end the
/// comment or disguise the code around it replaced by a space.
fn comment(text: &str) -> String {
    let mut out = String::new();
    for line in text.split(['\n', '\r', '\u{b}', '\u{c}', '\u{1c}', '\u{1d}', '\u{1e}', '\u{85}', '\u{2028}', '\u{2029}']) {
        let clean: String = line.chars().map(|c| if unsafe_in_comment(c) { ' ' } else { c }).collect();
        let clean = clean.trim_end();
        out.push('#');
        if !clean.is_empty() {
            out.push(' ');
            out.push_str(clean);
        }
        out.push('\n');
    }
    out
}

fn python_value(v: &Json) -> String {
    match v {
        Json::Null => "None".into(),
        Json::Bool(true) => "True".into(),
        Json::Bool(false) => "False".into(),
        Json::String(s) => python_str(s),
        // A JSON number is a Python number literal (serde_json never writes NaN or infinity).
        Json::Number(n) => n.to_string(),
        // An array or struct value: json.dumps writes it back as the JSON Spark's reader reads.
        Json::Array(items) => python_list(items),
        Json::Object(fields) => {
            let fields: Vec<String> = fields.iter().map(|(k, v)| format!("{}: {}", python_str(k), python_value(v))).collect();
            format!("{{{}}}", fields.join(", "))
        }
    }
}

fn python_list(items: &[Json]) -> String {
    format!("[{}]", items.iter().map(python_value).collect::<Vec<_>>().join(", "))
}

/// A Python tuple of a row's values.
fn python_row(row: &Json) -> String {
    let values: Vec<String> = row.as_array().map(|v| v.iter().map(python_value).collect()).unwrap_or_default();
    format!("({}{})", values.join(", "), if values.len() == 1 { "," } else { "" })
}

/// The SQL text as adjacent string literals, one per line of the query, in parentheses.
fn python_sql(query: &str) -> String {
    let mut out = String::from("(\n");
    for line in query.split_inclusive('\n') {
        let _ = writeln!(out, "    {}", python_str(line));
    }
    if query.is_empty() {
        out.push_str("    \"\"\n");
    }
    out.push(')');
    out
}

/// The query with each `relation [WATERMARK ...] DEDUPLICATE [WITHIN WATERMARK] BY (cols)`
/// replaced by a temp view, and the Python that defines those views.
pub fn translate_dedup(query: &str) -> (String, Vec<String>) {
    let pattern = Regex::new(
        r"(?is)(?P<rel>STREAM\s*\(\s*\w+\s*\)|STREAM\s+\w+|\b\w+)(?P<wm>\s+WATERMARK\s+.+?\s+DELAY\s+OF\s+INTERVAL\s+.+?)?\s+DEDUPLICATE(?P<within>\s+WITHIN\s+WATERMARK)?\s+BY\s*\((?P<cols>[^)]*)\)",
    )
    .expect("the pattern is valid");
    let mut query = query.to_string();
    let mut views = Vec::new();
    // A view can be deduplicated again (`... BY (a) DEDUPLICATE BY (b)`), so the next search
    // starts where the last view name was put, not at the start: linear in the query's length.
    let mut from = 0;
    while let Some(m) = pattern.captures_at(&query, from) {
        let whole = m.get(0).map_or(0..0, |g| g.range());
        let relation = format!("{}{}", &m["rel"], m.name("wm").map_or("", |g| g.as_str()));
        let cols: Vec<String> = m["cols"].split(',').map(|c| python_str(c.trim())).collect();
        let call = if m.name("within").is_some() { "dropDuplicatesWithinWatermark" } else { "dropDuplicates" };
        let view = format!("dedup_{}", views.len());
        let mut text = comment(&format!(
            "DEDUPLICATE{} BY ({}) is the DataFrame call {call}:",
            if call == "dropDuplicates" { "" } else { " WITHIN WATERMARK" },
            m["cols"].split_whitespace().collect::<Vec<_>>().join(" ")
        ));
        let _ = write!(
            text,
            "spark.sql({}).{call}([{}]).createOrReplaceTempView({})",
            python_str(&format!("SELECT * FROM {}", relation.split_whitespace().collect::<Vec<_>>().join(" "))),
            cols.join(", "),
            python_str(&view)
        );
        views.push(text);
        from = whole.start;
        query.replace_range(whole, &view);
    }
    (query, views)
}

/// The PySpark program for `s`. Nothing the scenario supplies is written as code: names, values
/// and the SQL are escaped string literals, and names and descriptions in comments are cleaned.
///
/// The program replays the session as it ran: each `add` is one new file in its source's folder,
/// each `run` one `processAllAvailable()` of the running query (so Spark reads what arrived since
/// the last run as one micro-batch, as the session did: late data stays late), each `restart`
/// and trigger run what the scenario says. It writes to Delta Lake when `delta-spark` is there
/// and to a table kept in the program otherwise, and with `UNBOUNDED_CHECK=1` prints the final
/// sink as one line `UNBOUNDED_SINK <JSON rows>` for a test to compare with the session.
pub fn pyspark(s: &Scenario) -> String {
    let mut name = s.name.chars().map(|c| if c.is_ascii_alphanumeric() { c } else { '_' }).collect::<String>();
    if name.is_empty() {
        name = "scenario".into();
    }
    let mut out = String::new();
    // The first two lines are fixed: Python reads a `coding:` cookie there, and a scenario name
    // naming a codec such as unicode_escape would turn `\u000a` in it into a new line of code.
    out.push_str("# Generated by Unbounded (the Structured Streaming playground) from the scenario named below.\n");
    out.push_str("# Needs Spark 4.1 or later, which reads STREAM and WATERMARK ... DELAY OF in SQL.\n");
    out.push_str(&comment(&format!("Scenario: {}", s.name)));
    if let Some(d) = &s.description {
        out.push_str(&comment(d));
    }
    out.push_str(PRELUDE);
    let _ = writeln!(
        out,
        "builder = (SparkSession.builder.appName({})\n    .config(\"spark.sql.session.timeZone\", \"UTC\")\n    # A local run of a few events: few shuffle partitions (on a cluster, leave Spark's default).\n    .config(\"spark.sql.shuffle.partitions\", \"2\"))",
        python_str(&s.name)
    );
    out.push_str(SESSION);
    let _ = writeln!(out, "DATA = {}", python_str(&format!("/tmp/unbounded/{name}")));
    out.push_str(PATHS);
    out.push_str("# Sources. Replace each with your stream (Kafka, Auto Loader, ...); here each reads JSON-lines\n");
    out.push_str("# files from a folder, filled below with this session's events, one file per `add`.\n");
    out.push_str("COLUMNS = {\n");
    for (source, schema) in &s.sources {
        let columns: Vec<String> = schema.columns.iter().map(|c| python_str(&c.name)).collect();
        let _ = writeln!(out, "    {}: [{}],", python_str(source), columns.join(", "));
    }
    out.push_str("}\n");
    for (source, schema) in &s.sources {
        let options = reader_options(s, source);
        if s.kafka.iter().any(|(k, _)| k == source) {
            out.push_str("# A Kafka topic: needs a broker (KAFKA_BOOTSTRAP_SERVERS) and Spark's Kafka connector\n");
            out.push_str("# (spark-submit --packages org.apache.spark:spark-sql-kafka-0-10_2.13:<your Spark version>).\n");
            let _ = writeln!(
                out,
                "(spark.readStream.format(\"kafka\").option(\"kafka.bootstrap.servers\", KAFKA).option(\"subscribe\", {}){options}\n    .load().createOrReplaceTempView({}))",
                python_str(source),
                python_str(source)
            );
            continue;
        }
        if let Some((_, format, _)) = s.auto_loader.iter().find(|(k, _, _)| k == source) {
            out.push_str("# An Auto Loader folder: `cloudFiles` runs on Databricks only (not on Apache Spark).\n");
            let _ = writeln!(out, "os.makedirs(os.path.join(DATA, {}), exist_ok=True)", python_str(source));
            let _ = writeln!(
                out,
                "(spark.readStream.format(\"cloudFiles\").option(\"cloudFiles.format\", {}).option(\"cloudFiles.schemaLocation\", os.path.join(DATA, \"_schemas\", {})){options}\n    .load(os.path.join(DATA, {})).createOrReplaceTempView({}))",
                python_str(format.as_str()),
                python_str(source),
                python_str(source),
                python_str(source)
            );
            continue;
        }
        if s.rate.contains(source) {
            out.push_str("# Spark's rate source: its rows come from the clock, so a run gives other rows than the session's.\n");
            let _ =
                writeln!(out, "(spark.readStream.format(\"rate\"){options}\n    .load().createOrReplaceTempView({}))", python_str(source));
            continue;
        }
        let _ = writeln!(out, "os.makedirs(os.path.join(DATA, {}), exist_ok=True)", python_str(source));
        let _ = writeln!(
            out,
            "(spark.readStream.schema({}).option(\"timestampFormat\", \"yyyy-MM-dd HH:mm:ss[.SSSSSS]\"){options}\n    .json(os.path.join(DATA, {})).createOrReplaceTempView({}))",
            python_str(&ddl(schema)),
            python_str(source),
            python_str(source)
        );
    }
    out.push('\n');
    if !s.tables.is_empty() {
        out.push_str("# Static tables.\n");
        for (table, schema, rows) in &s.tables {
            let values: Vec<String> = rows.iter().map(python_row).collect();
            let _ = writeln!(
                out,
                "spark.createDataFrame([{}], {}).createOrReplaceTempView({})",
                values.join(", "),
                python_str(&ddl(schema)),
                python_str(table)
            );
        }
        out.push('\n');
    }
    let (query, views) = translate_dedup(&s.query);
    for v in &views {
        let _ = writeln!(out, "{v}");
    }
    if !views.is_empty() {
        out.push('\n');
    }
    let _ = writeln!(out, "result = spark.sql{}\n", python_sql(&query));
    out.push_str(&steps_program(s));
    out.push_str(&sink_program(s));
    if s.steps.iter().any(|st| matches!(st, Step::Trigger(t) if t.is_live())) {
        out.push_str(LIVE);
    }
    out.push_str(DRIVER);
    out
}

/// Continuous processing and Real-Time Mode take no `foreachBatch`: a continuous query writes
/// to the memory sink, a Real-Time Mode one (whose allowed sinks are console, foreach and
/// Kafka) through `foreach`, into files; when the run ends their rows join the table.
const LIVE: &str = r#"# How long a continuous or Real-Time Mode query runs before the next step stops it.
LIVE_SECONDS = 10
LIVE_PATH = os.path.join(DATA, "_live")


class LiveWriter:
    """Real-Time Mode's foreach sink: each task appends its rows as JSON lines."""

    def open(self, partition_id, epoch_id):
        os.makedirs(LIVE_PATH, exist_ok=True)
        self.out = open(os.path.join(LIVE_PATH, f"part-{partition_id}-{epoch_id}-{os.getpid()}.json"), "a")
        return True

    def process(self, row):
        self.out.write(json.dumps(row.asDict(recursive=True), default=str) + "\n")

    def close(self, error):
        self.out.close()


def start_live(**trigger):
    w = (result.writeStream
         .outputMode(MODE)
         .option("checkpointLocation", CHECKPOINT)
         .trigger(**trigger))
    if "continuous" in trigger:
        w = w.format("memory").queryName("live_sink")
    else:
        w = w.foreach(LiveWriter())
    return w.start()


def stop_live(q):
    """Lets the query run, stops it, and adds what it wrote (at-least-once: a failure may
    have written rows twice) to the table."""
    time.sleep(LIVE_SECONDS)
    q.stop()
    if spark.catalog.tableExists("live_sink"):
        TABLE.extend(spark.sql("SELECT * FROM live_sink").collect())
        spark.catalog.dropTempView("live_sink")
    elif os.path.exists(LIVE_PATH):
        TABLE.extend(spark.read.schema(result.schema).json(LIVE_PATH).collect())
        shutil.rmtree(LIVE_PATH)


"#;

/// Imports, and Delta Lake when it is installed (on Databricks it always is).
const PRELUDE: &str = r#"import json
import os
import shutil
import time
from datetime import date, datetime
from decimal import Decimal

from pyspark.sql import Row, SparkSession

try:
    from delta import configure_spark_with_delta_pip
    from delta.tables import DeltaTable
    HAVE_DELTA = True
except ImportError:
    HAVE_DELTA = False

"#;

const SESSION: &str = r#"if HAVE_DELTA:
    builder = configure_spark_with_delta_pip(builder
        .config("spark.sql.extensions", "io.delta.sql.DeltaSparkSessionExtension")
        .config("spark.sql.catalog.spark_catalog", "org.apache.spark.sql.delta.catalog.DeltaCatalog"))
spark = builder.getOrCreate()

"#;

/// Every run starts from nothing: the program's own folder holds its sources, checkpoint and sink.
const PATHS: &str = r#"shutil.rmtree(DATA, ignore_errors=True)
STAGING = os.path.join(DATA, "_staging")
CHECKPOINT = os.path.join(DATA, "_checkpoint")
SINK_PATH = os.path.join(DATA, "_sink")
os.makedirs(STAGING)
# Files are modified at this time plus their step's number in seconds, as in the session.
FILE_TIME_BASE = 1767225600
# The processing-time trigger of a "batches" step.
TRIGGER_SECONDS = 8
# The Kafka cluster the session's topics are produced to and read from.
KAFKA = os.environ.get("KAFKA_BOOTSTRAP_SERVERS", "localhost:9092")

"#;

/// The most events the program replays: past it, later `add` steps are cut (and said so).
const MAX_EVENTS: usize = 20_000;

/// The session's steps as Python data. Records the session sent to the dead-letter output are
/// left out: Spark's JSON reader would read them as nulls.
fn steps_program(s: &Scenario) -> String {
    let mut out = String::new();
    out.push_str("# The session's steps: \"add\" lands one file, \"run\" processes what arrived since the last run\n");
    out.push_str("# as one micro-batch, \"restart\" stops the query and starts it from its checkpoint.\n");
    out.push_str("STEPS = [\n");
    let mut decoders: Vec<crate::source::SourceLog> =
        s.sources.iter().map(|(n, schema)| crate::source::SourceLog::new(n, schema.clone())).collect();
    let mut events = 0usize;
    let mut cut = 0usize;
    for (i, step) in s.steps.iter().enumerate() {
        match step {
            Step::Add { source, rows } => {
                if events + rows.len() > MAX_EVENTS {
                    cut += rows.len();
                    continue;
                }
                events += rows.len();
                let good = good_rows(&mut decoders, source, rows);
                let rows: Vec<String> = good.iter().map(|r| format!("        {},\n", python_value(r))).collect();
                let _ = writeln!(out, "    (\"add\", {}, {i}, [\n{}    ]),", python_str(source), rows.concat());
            }
            Step::Run => out.push_str("    (\"run\", None),\n"),
            Step::Restart => out.push_str("    (\"restart\", None),\n"),
            Step::Trigger(RunTrigger::AvailableNow) => out.push_str("    (\"trigger\", {\"availableNow\": True}),\n"),
            Step::Trigger(RunTrigger::Once) => out.push_str("    (\"trigger\", {\"once\": True}),\n"),
            Step::Trigger(RunTrigger::Batches(n)) => {
                let _ = writeln!(out, "    (\"batches\", {n}),");
            }
            // Continuous processing and Real-Time Mode keep running while the steps after them
            // happen; the next run, restart or the end stops them.
            Step::Trigger(t @ (RunTrigger::Continuous { .. } | RunTrigger::RealTime { .. })) => {
                let interval = t.interval_text().unwrap_or_default();
                let _ = writeln!(out, "    (\"live\", {{{}: {}}}),", python_str(t.as_str()), python_str(&interval));
            }
            Step::Produce { source, messages, partition } => {
                let rows: Vec<String> = messages
                    .iter()
                    .map(|m| format!("        [{}, {}],\n", python_value(&m["key"]), python_value(&kafka_value(&m["value"]))))
                    .collect();
                let partition = partition.map_or_else(|| "None".to_string(), |p| p.to_string());
                let _ = writeln!(out, "    (\"produce\", {}, {partition}, [\n{}    ]),", python_str(source), rows.concat());
            }
            Step::Land { source, file, text } => {
                let _ = writeln!(out, "    (\"land\", {}, {i}, {}, {}),", python_str(source), python_str(file), python_str(text));
            }
            Step::Retain { source, .. } => out.push_str(&comment(&format!(
                "Retention deleted old messages of {source} here: on a broker, the topic's retention.ms does."
            ))),
            // Spark recovers an injected failure the way the session did: the result is the same.
            Step::Fail(point) => {
                let _ = writeln!(out, "    # the session injected a failure here ({}): the result does not change", point.as_str());
            }
        }
    }
    out.push_str("]\n");
    if cut > 0 {
        let _ = writeln!(out, "# The session had {cut} more events than the {MAX_EVENTS} this program replays: its result differs.");
    }
    out.push('\n');
    out
}

/// A message's value as the producer sends it: text, or JSON written as its text.
fn kafka_value(v: &Json) -> Json {
    match v {
        Json::Null | Json::String(_) => v.clone(),
        other => Json::String(other.to_string()),
    }
}

/// The rows of an `add` that fit their columns, as the session decoded them.
fn good_rows<'a>(decoders: &mut [crate::source::SourceLog], source: &str, rows: &'a [Json]) -> Vec<&'a Json> {
    let Some(log) = decoders.iter_mut().find(|l| l.name() == source) else { return rows.iter().collect() };
    let start = log.latest_offset();
    if log.append_json(rows).is_err() {
        return Vec::new();
    }
    let bad: Vec<u64> = log.read(start, log.latest_offset()).map(|r| r.bad.iter().map(|b| b.offset).collect()).unwrap_or_default();
    rows.iter().enumerate().filter(|(k, _)| !bad.contains(&(start + *k as u64))).map(|(_, r)| r).collect()
}

/// The columns an update-mode query upserts by (its GROUP BY columns), or None when it does not
/// aggregate (then update mode appends, as in Spark) or cannot be analysed here.
fn upsert_key(s: &Scenario) -> Option<Vec<String>> {
    let catalog = s.catalog().ok()?;
    crate::sql::analyze(&s.query, &catalog).ok()?.update_key
}

/// The write side, as `write_batch(batch_df, batch_id)` and `start(**trigger)`. Delta's streaming
/// sink takes append and complete mode; an upsert from a stream is `foreachBatch` with a `MERGE`
/// on the key, the way Databricks documents it (and `MERGE` is what the table's history calls
/// those versions). Without Delta the program keeps the table itself, by the same rules. Each
/// write is idempotent on a replayed batch, like the session's transactional sink.
fn sink_program(s: &Scenario) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "MODE = {}", python_str(s.output_mode.as_str()));
    out.push_str("# Without Delta: the sink table kept here, and the batches it has written (a replay is skipped).\n");
    out.push_str("TABLE = []\nWRITTEN = set()\n\n\n");
    let key = if s.output_mode == OutputMode::Update { upsert_key(s) } else { None };
    out.push_str("def write_batch(batch_df, batch_id):\n");
    match (s.output_mode, &key) {
        (OutputMode::Update, Some(key)) => {
            let on = if key.is_empty() {
                // A global aggregation: the table holds its one row.
                "true".to_string()
            } else {
                key.iter().map(|k| format!("t.{c} <=> s.{c}", c = ddl_name(k))).collect::<Vec<_>>().join(" AND ")
            };
            let names: Vec<String> = key.iter().map(|k| python_str(k)).collect();
            out.push_str("    # An upsert: the batch's changed rows replace the table's rows with the same key (MERGE).\n");
            out.push_str("    if HAVE_DELTA:\n");
            out.push_str("        if not DeltaTable.isDeltaTable(spark, SINK_PATH):\n");
            out.push_str("            batch_df.limit(0).write.format(\"delta\").save(SINK_PATH)\n");
            let _ = writeln!(
                out,
                "        (DeltaTable.forPath(spark, SINK_PATH).alias(\"t\")\n            .merge(batch_df.alias(\"s\"), {})\n            .whenMatchedUpdateAll()\n            .whenNotMatchedInsertAll()\n            .execute())\n        return",
                python_str(&on)
            );
            out.push_str("    if batch_id in WRITTEN:\n        return\n    WRITTEN.add(batch_id)\n");
            let _ = writeln!(out, "    key = [{}]", names.join(", "));
            out.push_str("    for row in batch_df.collect():\n");
            out.push_str("        same = [i for i, old in enumerate(TABLE) if all(old[k] == row[k] for k in key)]\n");
            out.push_str("        if same:\n            TABLE[same[0]] = row\n        else:\n            TABLE.append(row)\n\n\n");
        }
        (OutputMode::Complete, _) => {
            out.push_str("    # Complete mode: every batch rewrites the whole table.\n");
            out.push_str("    if HAVE_DELTA:\n");
            out.push_str("        batch_df.write.format(\"delta\").mode(\"overwrite\").save(SINK_PATH)\n        return\n");
            out.push_str("    if batch_id in WRITTEN:\n        return\n    WRITTEN.add(batch_id)\n");
            out.push_str("    TABLE[:] = batch_df.collect()\n\n\n");
        }
        _ => {
            out.push_str("    # Append (and update mode without an aggregation, which appends): txnAppId/txnVersion\n");
            out.push_str("    # make a replayed batch a no-op.\n");
            out.push_str("    if HAVE_DELTA:\n");
            let _ = writeln!(
                out,
                "        (batch_df.write.format(\"delta\").mode(\"append\")\n            .option(\"txnAppId\", {}).option(\"txnVersion\", batch_id)\n            .save(SINK_PATH))\n        return",
                python_str(&format!("unbounded-{}", s.name))
            );
            out.push_str("    if batch_id in WRITTEN:\n        return\n    WRITTEN.add(batch_id)\n");
            out.push_str("    TABLE.extend(batch_df.collect())\n\n\n");
        }
    }
    out
}

/// Replays the steps and prints the sink. On Databricks, `.toTable("name")` instead of
/// `foreachBatch` + a path keeps the sink as a catalog table.
const DRIVER: &str = r#"def start(**trigger):
    w = (result.writeStream
         .outputMode(MODE)
         .foreachBatch(write_batch)
         .option("checkpointLocation", CHECKPOINT))
    if trigger:
        w = w.trigger(**trigger)
    return w.start()


waiting = []


def publish():
    """Moves the files written since the last run into their folders at once, so one
    micro-batch reads them together, as the session did."""
    for aside, path in waiting:
        os.rename(aside, path)
    waiting.clear()


def run_triggers(n):
    """A processing-time trigger for `n` triggers: stops after the n-th micro-batch, or once a
    trigger has passed without one (nothing arrives meanwhile)."""
    q = start(processingTime=f"{TRIGGER_SECONDS} seconds")
    def ran():
        return sum(1 for p in q.recentProgress if "addBatch" in (p.durationMs or {}))
    count, last = 0, time.time()
    while count < n:
        time.sleep(0.05)
        now = ran()
        if now != count:
            count, last = now, time.time()
        elif time.time() - last > TRIGGER_SECONDS + 4:
            break
    q.stop()


files = 0
query = None
# A continuous or Real-Time Mode query, while it runs.
live = None
for step in STEPS:
    if live is not None and step[0] in ("run", "restart", "trigger", "batches", "live"):
        stop_live(live)
        live = None
    if step[0] == "add":
        _, source, number, rows = step
        files += 1
        aside = os.path.join(STAGING, f"part-{files:05d}.json")
        with open(aside, "w") as f:
            for row in rows:
                f.write(json.dumps(dict(zip(COLUMNS[source], row))) + "\n")
        os.utime(aside, (FILE_TIME_BASE + number, FILE_TIME_BASE + number))
        waiting.append((aside, os.path.join(DATA, source, f"part-{files:05d}.json")))
    elif step[0] == "land":
        # A file lands in an Auto Loader folder, as the session landed it.
        _, source, number, name, text = step
        aside = os.path.join(STAGING, name)
        with open(aside, "w") as f:
            f.write(text)
        os.utime(aside, (FILE_TIME_BASE + number, FILE_TIME_BASE + number))
        waiting.append((aside, os.path.join(DATA, source, name)))
    elif step[0] == "produce":
        # The producer: Spark's Kafka writer (key, value, and the partition when the session chose it).
        _, source, partition, messages = step
        frame = spark.createDataFrame(messages, "key STRING, value STRING")
        if partition is not None:
            frame = frame.selectExpr("key", "value", f"{partition} AS partition")
        frame.write.format("kafka").option("kafka.bootstrap.servers", KAFKA).option("topic", source).save()
    elif step[0] == "run":
        publish()
        if query is None:
            query = start()
        query.processAllAvailable()
    elif step[0] == "restart":
        if query is not None:
            query.stop()
        publish()
        query = start()
    elif step[0] == "live":
        if query is not None:
            query.stop()
        publish()
        live = start_live(**step[1])
        query = None
    else:
        # A trigger run (availableNow, once, or some processing-time triggers) stops the query.
        if query is not None:
            query.stop()
        publish()
        if step[0] == "batches":
            run_triggers(step[1])
        else:
            start(**step[1]).awaitTermination()
        query = None
if query is not None:
    query.stop()
if live is not None:
    stop_live(live)


def plain(v):
    """A value as the playground's runner document writes it."""
    if isinstance(v, datetime):
        text = v.strftime("%Y-%m-%d %H:%M:%S")
        return text + ("." + f"{v.microsecond:06d}").rstrip("0") if v.microsecond else text
    if isinstance(v, date):
        return v.isoformat()
    if isinstance(v, Decimal):
        return float(v)
    if isinstance(v, Row):
        return {k: plain(x) for k, x in v.asDict().items()}
    if isinstance(v, dict):
        return {str(k): plain(x) for k, x in v.items()}
    if isinstance(v, (list, tuple)):
        return [plain(x) for x in v]
    return v


rows = spark.read.format("delta").load(SINK_PATH).collect() if HAVE_DELTA and os.path.exists(SINK_PATH) else TABLE
if os.environ.get("UNBOUNDED_CHECK") == "1":
    print("UNBOUNDED_SINK " + json.dumps([plain(list(r)) for r in rows]))
else:
    spark.createDataFrame(rows, result.schema).show(truncate=False)
"#;

#[cfg(test)]
mod tests {
    use super::*;
    #[cfg(target_arch = "wasm32")]
    use wasm_bindgen_test::wasm_bindgen_test as test;

    #[test]
    fn deduplicate_becomes_drop_duplicates_on_a_view() {
        let (q, views) = translate_dedup(
            "SELECT count(*) FROM STREAM events WATERMARK ts DELAY OF INTERVAL 10 SECONDS DEDUPLICATE WITHIN WATERMARK BY (event_id) AS e",
        );
        assert_eq!(q, "SELECT count(*) FROM dedup_0 AS e");
        assert!(
            views[0].contains(
                r#"spark.sql("SELECT * FROM STREAM events WATERMARK ts DELAY OF INTERVAL 10 SECONDS").dropDuplicatesWithinWatermark(["event_id"])"#
            ),
            "{}",
            views[0]
        );
        let (q, views) = translate_dedup("SELECT * FROM STREAM events DEDUPLICATE BY (id, ts)");
        assert_eq!((q.as_str(), views[0].contains(r#".dropDuplicates(["id", "ts"])"#)), ("SELECT * FROM dedup_0", true));
    }

    #[test]
    fn python_strings_escape_everything_but_printable_ascii() {
        assert_eq!(python_str(r#"a "b" \c {d}"#), r#""a \"b\" \\c {d}""#);
        assert_eq!(python_str("\n\r\t\0\u{7f}\u{85}"), r#""\n\r\t\x00\x7f\x85""#);
        assert_eq!(python_str("caf\u{e9} \u{2028}\u{202e}"), r#""caf\xe9 \u2028\u202e""#);
        assert_eq!(python_str("\u{1F600}"), r#""\U0001f600""#);
        assert_eq!(python_str(""), r#""""#);
    }

    #[test]
    fn comments_keep_one_line_per_line_and_no_control_characters() {
        assert_eq!(comment("a\nimport os\r\nb\u{2028}c"), "# a\n# import os\n#\n# b\n# c\n");
        assert_eq!(comment("x\u{0}y\u{1b}[2J\u{202e}z\u{7f}"), "# x y [2J z\n");
    }

    #[test]
    fn live_triggers_export_as_sparks_trigger_arguments_with_sinks_they_allow() {
        let s = Scenario::parse(
            r#"{"version": 1, "name": "n", "sources": {"k": {"kind": "kafka", "partitions": 1}}, "query": "SELECT CAST(value AS STRING) AS v FROM STREAM k", "output_mode": "update",
                "steps": [{"run": {"trigger": {"continuous": "1 second"}}}, {"run": {}}, {"run": {"trigger": {"realTime": "5 seconds"}}}]}"#,
        )
        .unwrap();
        let py = pyspark(&s);
        assert!(py.contains(r#"("live", {"continuous": "1 second"}),"#), "{py}");
        assert!(py.contains(r#"("live", {"realTime": "5 seconds"}),"#), "{py}");
        // foreachBatch is refused by both (Spark 4.3): memory for continuous, foreach for Real-Time Mode.
        assert!(py.contains(r#"w = w.format("memory").queryName("live_sink")"#) && py.contains("w = w.foreach(LiveWriter())"), "{py}");
        assert!(py.contains("live = start_live(**step[1])") && py.contains("stop_live(live)"), "{py}");
        let plain = Scenario::parse(
            r#"{"version": 1, "name": "n", "sources": {"e": {"schema": [["a", "string"]]}}, "query": "SELECT * FROM STREAM e", "steps": [{"run": {}}]}"#,
        )
        .unwrap();
        assert!(!pyspark(&plain).contains("class LiveWriter"), "only a scenario with a live trigger carries its code");
    }

    #[test]
    fn the_scenario_name_never_reaches_the_first_two_lines() {
        let mut s = Scenario::parse(
            r#"{"version": 1, "name": "n", "sources": {"e": {"schema": [["a", "string"]]}}, "query": "SELECT * FROM STREAM e", "steps": []}"#,
        )
        .unwrap();
        s.name = "# -*- coding: unicode_escape -*-".into();
        let py = pyspark(&s);
        assert!(py.lines().take(2).all(|l| !l.contains("coding")), "{py}");
    }

    #[test]
    fn chained_deduplication_reads_the_view_before_it() {
        let (q, views) = translate_dedup("SELECT * FROM STREAM e DEDUPLICATE BY (a) DEDUPLICATE BY (b)");
        assert_eq!(q, "SELECT * FROM dedup_1");
        assert!(views[1].contains(r#"spark.sql("SELECT * FROM dedup_0").dropDuplicates(["b"])"#), "{}", views[1]);
    }

    #[test]
    fn the_program_has_sources_tables_query_and_sink() {
        let s = Scenario::parse(
            r#"{"version": 1, "name": "demo run", "sources": {"events": {"schema": [["id", "string"], ["ok", "boolean"], ["ts", "timestamp"]]}},
                "tables": {"names": {"schema": [["id", "string"]], "rows": [["a"]]}},
                "query": "SELECT e.id FROM STREAM events e JOIN names n ON e.id = n.id", "output_mode": "append",
                "steps": [{"add": "events", "rows": [["a", true, "2026-01-01 00:00:01"], ["b", null, "2026-01-01 00:00:02"]]}, {"run": {}}]}"#,
        )
        .unwrap();
        let py = pyspark(&s);
        for needle in [
            r#"spark.readStream.schema("id STRING, ok BOOLEAN, ts TIMESTAMP")"#,
            r#"["a", True, "2026-01-01 00:00:01"],"#,
            r#"["b", None, "2026-01-01 00:00:02"],"#,
            r#"spark.createDataFrame([("a",)], "id STRING").createOrReplaceTempView("names")"#,
            "SELECT e.id FROM STREAM events e JOIN names n ON e.id = n.id",
            r#"MODE = "append""#,
            r#"("add", "events", 0, ["#,
            r#"("run", None),"#,
            "UNBOUNDED_SINK",
        ] {
            assert!(py.contains(needle), "missing {needle}:\n{py}");
        }
    }

    #[test]
    fn a_source_s_read_limits_go_to_read_stream_as_strings() {
        let s = Scenario::parse(
            r#"{"version": 1, "name": "o", "sources": {"e": {"schema": [["k", "string"]], "options": {"maxFilesPerTrigger": 2, "latestFirst": true}}},
                "query": "SELECT k FROM STREAM e", "steps": []}"#,
        )
        .unwrap();
        let py = pyspark(&s);
        assert!(py.contains(r#".options(**{"maxFilesPerTrigger": "2", "latestFirst": "true"})"#), "{py}");
    }

    fn exported(query: &str, mode: &str) -> String {
        let s = Scenario::parse(&format!(
            r#"{{"version": 1, "name": "u", "sources": {{"e": {{"schema": [["k", "string"], ["ts", "timestamp"]]}}}},
                "query": {}, "output_mode": "{mode}", "steps": []}}"#,
            serde_json::to_string(query).unwrap()
        ))
        .unwrap();
        pyspark(&s)
    }

    #[test]
    fn update_mode_is_a_merge_on_the_grouping_key_through_foreach_batch() {
        // Delta's streaming sink refuses update mode: the export must not ask it for one.
        let py =
            exported("SELECT window(ts, '1 minute') AS w, k, count(*) AS n FROM STREAM e GROUP BY window(ts, '1 minute'), k", "update");
        assert!(!py.contains(".format(\"delta\")\n    .option(\"checkpointLocation\""), "{py}");
        assert!(py.contains(".foreachBatch(write_batch)") && py.contains("MODE = \"update\""), "{py}");
        assert!(py.contains(r#".merge(batch_df.alias("s"), "t.w <=> s.w AND t.k <=> s.k")"#), "{py}");
        assert!(py.contains(".whenMatchedUpdateAll()") && py.contains(".whenNotMatchedInsertAll()"), "{py}");
        let global = exported("SELECT count(*) AS n FROM STREAM e", "update");
        assert!(global.contains(r#".merge(batch_df.alias("s"), "true")"#), "{global}");
    }

    #[test]
    fn update_mode_without_an_aggregation_appends_idempotently() {
        let py = exported("SELECT k FROM STREAM e", "update");
        assert!(py.contains(r#".option("txnAppId", "unbounded-u").option("txnVersion", batch_id)"#), "{py}");
        assert!(!py.contains(".merge("), "{py}");
    }

    #[test]
    fn complete_mode_rewrites_the_table_each_batch() {
        let py = exported("SELECT k, count(*) AS n FROM STREAM e GROUP BY k", "complete");
        assert!(py.contains(r#"batch_df.write.format("delta").mode("overwrite").save(SINK_PATH)"#), "{py}");
        assert!(py.contains("TABLE[:] = batch_df.collect()") && !py.contains(".merge("), "{py}");
    }

    /// The session's batching is the lesson (late rows stay late): each `add` is its own file
    /// and each `run` its own step, in order; what the session routed to the dead-letter output
    /// never reaches Spark; failures, restarts and triggers keep their places.
    #[test]
    fn the_program_replays_the_session_step_by_step() {
        let s = Scenario::parse(
            r#"{"version": 1, "name": "r", "sources": {"e": {"schema": [["k", "string"], ["n", "int"]]}},
                "query": "SELECT k FROM STREAM e", "steps": [
                {"add": "e", "rows": [["a", 1], ["bad", "not a number"]]}, {"run": {}},
                {"fail": "after_sink_write"}, {"add": "e", "rows": [["b", 2]]}, {"run": {}},
                {"restart": {}}, {"run": {"trigger": "availableNow"}}, {"run": {"trigger": "once"}}, {"run": {"batches": 3}}]}"#,
        )
        .unwrap();
        let py = pyspark(&s);
        let steps = &py[py.find("STEPS = [").unwrap()..py.find("MODE = ").unwrap()];
        let want = [
            r#"("add", "e", 0, ["#,
            r#"["a", 1],"#,
            r#"("run", None),"#,
            "# the session injected a failure here (after_sink_write)",
            r#"("add", "e", 3, ["#,
            r#"["b", 2],"#,
            r#"("run", None),"#,
            r#"("restart", None),"#,
            r#"("trigger", {"availableNow": True}),"#,
            r#"("trigger", {"once": True}),"#,
            r#"("batches", 3),"#,
        ];
        let mut at = 0;
        for w in want {
            let found = steps[at..].find(w).unwrap_or_else(|| panic!("missing {w} after byte {at}:\n{steps}"));
            at += found + w.len();
        }
        assert!(!steps.contains("not a number"), "a dead letter reached Spark:\n{steps}");
    }
}
