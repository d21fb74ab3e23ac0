//! "Copy as PySpark": the equivalent PySpark Structured Streaming program for a scenario, so the
//! same logic runs on a real Spark cluster (4.1 or later: it reads the `STREAM` and `WATERMARK`
//! SQL). Unbounded's `DEDUPLICATE BY` clause becomes the DataFrame calls it stands for.

use std::fmt::Write;

use regex_lite::Regex;
use serde_json::Value as Json;

use crate::plan::OutputMode;
use crate::scenario::{Scenario, Step};
use crate::types::Schema;

/// The most events per source written into the program's sample data.
const SAMPLE_EVENTS: usize = 200;

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
        // Not a value of any column type (a bad record in the playground): kept as its JSON text.
        other => python_str(&other.to_string()),
    }
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
    out.push_str("import json\nimport os\n\nfrom pyspark.sql import SparkSession\n\n");
    let _ = writeln!(
        out,
        "spark = SparkSession.builder.appName({}).config(\"spark.sql.session.timeZone\", \"UTC\").getOrCreate()\n",
        python_str(&s.name)
    );
    out.push_str("# Sources. Replace each with your stream (Kafka, Auto Loader, ...); here each reads JSON-lines\n");
    out.push_str("# files from a directory, filled below with this session's events.\n");
    let _ = writeln!(out, "DATA = {}\n\n", python_str(&format!("/tmp/unbounded/{name}")));
    out.push_str("def write_events(source, columns, rows):\n");
    out.push_str("    os.makedirs(os.path.join(DATA, source), exist_ok=True)\n");
    out.push_str("    with open(os.path.join(DATA, source, \"part-0.json\"), \"w\") as f:\n");
    out.push_str("        for row in rows:\n");
    out.push_str("            f.write(json.dumps(dict(zip(columns, row))) + \"\\n\")\n\n\n");
    for (source, schema) in &s.sources {
        let rows: Vec<&Json> = s
            .steps
            .iter()
            .filter_map(|step| match step {
                Step::Add { source: src, rows } if src == source => Some(rows.iter()),
                _ => None,
            })
            .flatten()
            .take(SAMPLE_EVENTS)
            .collect();
        let columns: Vec<String> = schema.columns.iter().map(|c| python_str(&c.name)).collect();
        let _ = writeln!(out, "write_events({}, [{}], [", python_str(source), columns.join(", "));
        for row in &rows {
            let _ = writeln!(out, "    {},", python_row(row));
        }
        out.push_str("])\n");
        // The source's read limits (maxFilesPerTrigger, ...), as strings, which Spark's options are.
        let options: Vec<String> = s
            .source_options
            .iter()
            .filter(|(name, _)| name == source)
            .flat_map(|(_, o)| o.iter())
            .map(|(k, v)| format!("{}: {}", python_str(k), python_str(&v.as_str().map_or_else(|| v.to_string(), str::to_string))))
            .collect();
        let options = if options.is_empty() { String::new() } else { format!("\n    .options(**{{{}}})", options.join(", ")) };
        let _ = writeln!(
            out,
            "(spark.readStream.schema({}).option(\"timestampFormat\", \"yyyy-MM-dd HH:mm:ss[.SSSSSS]\"){options}\n    .json(os.path.join(DATA, {})).createOrReplaceTempView({}))\n",
            python_str(&ddl(schema)),
            python_str(source),
            python_str(source)
        );
    }
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
    let sink = python_str(&format!("{name}_sink"));
    out.push_str(&sink_program(s, &sink));
    out.push_str("query.processAllAvailable()\n");
    let _ = writeln!(out, "spark.table({sink}).show(truncate=False)");
    out
}

/// The columns an update-mode query upserts by (its GROUP BY columns), or None when it does not
/// aggregate (then update mode appends, as in Spark) or cannot be analysed here.
fn upsert_key(s: &Scenario) -> Option<Vec<String>> {
    let catalog = s.catalog().ok()?;
    crate::sql::analyze(&s.query, &catalog).ok()?.update_key
}

/// The write side: Delta's streaming sink takes append and complete mode; an upsert from a stream
/// is `foreachBatch` with a `MERGE` on the key, the way Databricks documents it (and `MERGE` is
/// what the table's history calls those versions). Each write is idempotent on a replayed batch.
fn sink_program(s: &Scenario, sink: &str) -> String {
    let mut out = String::new();
    let checkpoint =
        "    .option(\"checkpointLocation\", os.path.join(DATA, \"_checkpoint\"))\n    .trigger(processingTime=\"1 second\")\n";
    if s.output_mode != OutputMode::Update {
        out.push_str("# Delta is transactional and idempotent, like the playground's table: a replayed batch is skipped.\n");
        out.push_str("# Without Delta Lake, .format(\"parquet\") works in append mode. The files above are read in one\n");
        out.push_str("# micro-batch, where the playground's events arrived over several: late data may differ.\n");
        let _ = writeln!(
            out,
            "query = (result.writeStream\n    .outputMode({})\n    .format(\"delta\")\n{checkpoint}    .toTable({sink}))",
            python_str(s.output_mode.as_str())
        );
        return out;
    }
    out.push_str("from delta.tables import DeltaTable\n\n");
    let _ = writeln!(out, "SINK = {sink}\n");
    out.push_str("# Delta's streaming sink refuses update mode: each micro-batch is written by foreachBatch.\n");
    match upsert_key(s) {
        Some(key) => {
            let on = if key.is_empty() {
                // A global aggregation: the table holds its one row.
                "true".to_string()
            } else {
                key.iter().map(|k| format!("t.{c} <=> s.{c}", c = ddl_name(k))).collect::<Vec<_>>().join(" AND ")
            };
            out.push_str(&comment("An upsert: the batch's changed rows replace the table's rows with the same key (MERGE)."));
            out.push_str("def write_batch(batch_df, batch_id):\n");
            out.push_str("    if not spark.catalog.tableExists(SINK):\n");
            out.push_str("        batch_df.limit(0).write.format(\"delta\").saveAsTable(SINK)\n");
            let _ = writeln!(
                out,
                "    (DeltaTable.forName(spark, SINK).alias(\"t\")\n        .merge(batch_df.alias(\"s\"), {})\n        .whenMatchedUpdateAll()\n        .whenNotMatchedInsertAll()\n        .execute())\n",
                python_str(&on)
            );
        }
        None => {
            out.push_str("# Without an aggregation update mode appends; txnAppId/txnVersion make a replayed batch a no-op.\n");
            out.push_str("def write_batch(batch_df, batch_id):\n");
            let _ = writeln!(
                out,
                "    (batch_df.write.format(\"delta\").mode(\"append\")\n        .option(\"txnAppId\", {}).option(\"txnVersion\", batch_id)\n        .saveAsTable(SINK))\n",
                python_str(&format!("unbounded-{}", s.name))
            );
        }
    }
    let _ = writeln!(
        out,
        "query = (result.writeStream\n    .outputMode(\"update\")\n    .foreachBatch(write_batch)\n{checkpoint}    .start())"
    );
    out
}

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
            r#"("a", True, "2026-01-01 00:00:01"),"#,
            r#"("b", None, "2026-01-01 00:00:02"),"#,
            r#"spark.createDataFrame([("a",)], "id STRING").createOrReplaceTempView("names")"#,
            "SELECT e.id FROM STREAM events e JOIN names n ON e.id = n.id",
            r#".outputMode("append")"#,
            r#".toTable("demo_run_sink"))"#,
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
        assert!(py.contains(".foreachBatch(write_batch)") && py.contains(".outputMode(\"update\")"), "{py}");
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
        let append = exported("SELECT k FROM STREAM e", "append");
        assert!(
            append.contains(".format(\"delta\")") && append.contains(".toTable(\"u_sink\"))") && !append.contains("foreachBatch"),
            "{append}"
        );
    }
}
