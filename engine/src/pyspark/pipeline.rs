//! "Copy as PySpark" for a pipeline (a version 2 scenario): a Spark Declarative Pipelines project
//! (`spark-pipeline.yml`, the SQL under `transformations/`, the sources' rows as files) and one
//! script, `make_pipeline.py`, that writes it and replays the scenario with `spark-pipelines run`.
//! It lays the project out as tests/spark/run_pipelines.py (verified against Spark) does: each
//! source an external JSON table over a folder that gets one file per `add`, each static table a
//! parquet table in the catalog, one `spark-pipelines run` per `run` step.

use std::fmt::Write;
use std::ops::Range;

use serde_json::{Map, Value as Json};

use super::{comment, ddl, python_str};
use crate::pipeline::parse::{self, DatasetKind, StatementKind};
use crate::pipeline::run::Refresh;
use crate::pipeline::scenario::{PipelineScenario, PipelineStep};
use crate::source::SourceLog;

/// The database every dataset lands in, as in the harness.
const DATABASE: &str = "unbounded";
const SPEC: &str = "spark-pipeline.yml";
const SQL_FILE: &str = "transformations/pipeline.sql";

/// A name backquoted for Spark SQL, whatever it holds.
fn quoted(name: &str) -> String {
    format!("`{}`", name.replace('`', "``"))
}

/// `text` on one line, safe inside a SQL `--` comment.
fn one_line(text: &str) -> String {
    text.chars().map(|c| if c.is_control() || super::unsafe_in_comment(c) { ' ' } else { c }).collect()
}

/// `text` (found at byte `base` of the pipeline) without the byte ranges `cuts` (offsets in
/// the pipeline, in order, not overlapping); `None` if a range is not inside `text`.
fn without(text: &str, base: usize, cuts: &[Range<usize>]) -> Option<String> {
    let (mut out, mut from) = (String::new(), 0);
    for c in cuts {
        let (start, end) = (c.start.checked_sub(base)?, c.end.checked_sub(base)?);
        push_apart(&mut out, text.get(from..start)?);
        from = end;
    }
    push_apart(&mut out, text.get(from..)?);
    Some(out)
}

/// Appends `piece`, with a space between if a cut would otherwise glue two words into one
/// (`m(CONSTRAINT ..)AS` becomes `m AS`, not `mAS`).
fn push_apart(out: &mut String, piece: &str) {
    let word = |c: char| c.is_alphanumeric() || c == '_';
    if out.ends_with(word) && piece.starts_with(word) {
        out.push(' ');
    }
    out.push_str(piece);
}

/// One statement (found at byte `base` of the pipeline) as Apache Spark reads it: Databricks'
/// `CREATE OR REFRESH` becomes `CREATE` and `CONSTRAINT .. EXPECT` clauses (expectations, which
/// Apache Spark lacks) are cut where the parser says, each change said in a comment above the
/// statement. A statement the engine cannot read goes as written: Spark will say what is wrong.
fn apache_statement(pipeline: &str, base: usize, stmt: &str) -> String {
    let Ok(parsed) = parse::statement(pipeline, base, stmt) else { return stmt.trim().to_string() };
    let mut notes = String::new();
    let mut cuts = Vec::new();
    if let Some(or_refresh) = parsed.or_refresh {
        notes.push_str("-- Databricks' CREATE OR REFRESH written as CREATE: Apache Spark refuses OR REFRESH.\n");
        cuts.push(or_refresh);
    }
    for c in &parsed.constraints {
        let clause = pipeline.get(c.clause.clone()).unwrap_or_default();
        let _ = writeln!(notes, "-- Expectation left out (Databricks only, Apache Spark has no expectations): {}", one_line(clause));
        cuts.push(c.cut.clone());
    }
    match without(stmt, base, &cuts) {
        Some(kept) => notes + kept.trim(),
        None => stmt.trim().to_string(),
    }
}

/// The pipeline's SQL as one file Apache Spark's `spark-pipelines` reads.
fn sql_file(pipeline: &str) -> String {
    match parse::split(pipeline) {
        Ok(stmts) => stmts
            .iter()
            .map(|(base, s)| {
                let stmt = apache_statement(pipeline, *base, s);
                // A `;` after a `--` comment would be part of the comment: it goes on its own line
                // (also when the `--` is in a string: a line break there is harmless).
                let end = if stmt.lines().last().is_some_and(|l| l.contains("--")) { "\n;\n" } else { ";\n" };
                stmt + end
            })
            .collect::<Vec<_>>()
            .join("\n"),
        // A text the engine cannot split goes as written: Spark will say what is wrong with it.
        Err(_) => pipeline.to_string(),
    }
}

/// The published datasets (no temporary views), in definition order, as the script prints them.
fn datasets(pipeline: &str) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for s in parse::parse(pipeline).unwrap_or_default() {
        if let StatementKind::Dataset(kind) = s.kind {
            if kind != (DatasetKind::View { temporary: true }) && !out.contains(&s.name) {
                out.push(s.name);
            }
        }
    }
    out
}

/// Rows as JSON lines, one object per row keyed by column, as Spark's JSON reader reads them.
fn json_lines(columns: &[String], rows: &[&Json]) -> String {
    let mut out = String::new();
    for r in rows {
        let values = r.as_array().cloned().unwrap_or_default();
        let obj: Map<String, Json> = columns.iter().cloned().zip(values).collect();
        out.push_str(&Json::Object(obj).to_string());
        out.push('\n');
    }
    out
}

enum Action {
    /// The file (project path) of an `add`, written at its step.
    Add(String),
    Run {
        full_refresh: Vec<String>,
        all: bool,
    },
    /// A step with no counterpart in Spark (FORMAT.md: `fail` and `restart` change nothing).
    Nothing(&'static str),
}

struct Project {
    /// Files written before anything runs.
    files: Vec<(String, String)>,
    /// Files the `add` steps write, by path.
    data: Vec<(String, String)>,
    /// (name, folder, DDL columns) of each source.
    sources: Vec<(String, String, String)>,
    /// (name, rows file, DDL schema) of each static table.
    tables: Vec<(String, String, String)>,
    steps: Vec<Action>,
    datasets: Vec<String>,
}

/// The spec. The pipeline's name keeps only letters, digits, `-` and `_`: YAML reads some
/// characters a JSON string would keep (U+2028, ...) as line breaks.
fn spec(name: &str) -> String {
    let name: String = name.chars().map(|c| if c.is_ascii_alphanumeric() || c == '-' || c == '_' { c } else { '_' }).collect();
    let name = if name.is_empty() { "pipeline".to_string() } else { name };
    format!("name: {name}\ndatabase: {DATABASE}\n# make_pipeline.py writes the folder's absolute URI here.\nstorage: storage\nlibraries:\n  - glob:\n      include: transformations/**\n")
}

fn project(s: &PipelineScenario) -> Project {
    let base = &s.base;
    let mut files = vec![(SPEC.to_string(), spec(&base.name)), (SQL_FILE.to_string(), sql_file(&s.pipeline))];
    let mut tables = Vec::new();
    for (i, (name, schema, rows)) in base.tables.iter().enumerate() {
        let path = format!("data/tables/{i}/rows.json");
        let columns: Vec<String> = schema.columns.iter().map(|c| c.name.clone()).collect();
        files.push((path.clone(), json_lines(&columns, &rows.iter().collect::<Vec<_>>())));
        tables.push((name.clone(), path, ddl(schema)));
    }
    // Folders by index: a source's name never becomes part of a path.
    let sources: Vec<(String, String, String)> =
        base.sources.iter().enumerate().map(|(i, (n, schema))| (n.clone(), format!("data/sources/{i}"), ddl(schema))).collect();
    let mut decoders: Vec<SourceLog> = base.sources.iter().map(|(n, schema)| SourceLog::new(n, schema.clone())).collect();
    let (mut data, mut steps) = (Vec::new(), Vec::new());
    for step in &s.steps {
        steps.push(match step {
            PipelineStep::Add { source, rows } => {
                let Some(i) = base.sources.iter().position(|(n, _)| n == source) else { continue };
                // Rows that do not fit their columns are left out, as the harness does (Unbounded
                // sends them to its dead-letter output, which Spark lacks).
                let good = super::good_rows(&mut decoders, source, rows);
                let columns: Vec<String> = base.sources[i].1.columns.iter().map(|c| c.name.clone()).collect();
                let path = format!("{}/part-{:05}.json", sources[i].1, data.len() + 1);
                data.push((path.clone(), json_lines(&columns, &good)));
                Action::Add(path)
            }
            PipelineStep::Run(Refresh::None) => Action::Run { full_refresh: Vec::new(), all: false },
            PipelineStep::Run(Refresh::Only(names)) => Action::Run { full_refresh: names.clone(), all: false },
            PipelineStep::Run(Refresh::All) => Action::Run { full_refresh: Vec::new(), all: true },
            PipelineStep::Restart => Action::Nothing("restart"),
            PipelineStep::Fail { .. } => Action::Nothing("fail"),
        });
    }
    Project { files, data, sources, tables, steps, datasets: datasets(&s.pipeline) }
}

/// The project's files, paths relative to its folder: the spec, the SQL, each static table's
/// rows and the file of every `add` step (the script writes those one step at a time).
pub fn pipeline_project(s: &PipelineScenario) -> Vec<(String, String)> {
    let p = project(s);
    p.files.into_iter().chain(p.data).collect()
}

fn py_list(items: &[String]) -> String {
    format!("[{}]", items.iter().map(|i| python_str(i)).collect::<Vec<_>>().join(", "))
}

/// One Python script that writes the project and replays the scenario on it.
pub fn pipeline_bundle(s: &PipelineScenario) -> String {
    let p = project(s);
    let mut out = String::new();
    out.push_str("#!/usr/bin/env python3\n");
    let _ = write!(out, "{}", comment(&format!("Unbounded pipeline {} as a Spark Declarative Pipelines project.", s.base.name)));
    if let Some(d) = &s.base.description {
        out.push_str(&comment(d));
    }
    out.push_str(HEADER);
    out.push_str("FILES = [\n");
    for (path, text) in &p.files {
        let _ = writeln!(out, "    ({}, {}),", python_str(path), python_str(text));
    }
    out.push_str("]\nDATA = {\n");
    for (path, text) in &p.data {
        let _ = writeln!(out, "    {}: {},", python_str(path), python_str(text));
    }
    out.push_str("}\nSOURCES = [\n");
    for (name, dir, cols) in &p.sources {
        let _ = writeln!(out, "    ({}, {}, {}),", python_str(&quoted(name)), python_str(dir), python_str(cols));
    }
    out.push_str("]\nTABLES = [\n");
    for (name, path, schema) in &p.tables {
        let _ = writeln!(out, "    ({}, {}, {}),", python_str(&quoted(name)), python_str(path), python_str(schema));
    }
    let shown: Vec<String> = p.datasets.iter().map(|d| quoted(d)).collect();
    let _ = writeln!(out, "]\nDATASETS = {}\nSTEPS = [", py_list(&shown));
    for step in &p.steps {
        let line = match step {
            Action::Add(path) => format!("(\"add\", {})", python_str(path)),
            Action::Run { full_refresh, all } => {
                format!("(\"run\", {}, {})", py_list(full_refresh), if *all { "True" } else { "False" })
            }
            Action::Nothing(what) => format!("(\"nothing\", {})", python_str(what)),
        };
        let _ = writeln!(out, "    {line},");
    }
    out.push_str("]\n");
    out.push_str(DRIVER);
    out
}

const HEADER: &str = r#"#
# Needs PySpark 4.1 or later with its pipelines extra and Java 17:
#   pip install 'pyspark[pipelines]==4.1.*'
#   python3 make_pipeline.py [FOLDER]      (default ./unbounded-pipeline)
# It writes spark-pipeline.yml and transformations/ into FOLDER, creates the sources (external
# JSON tables over data/sources/N, one new file per `add` step) and the static tables (parquet)
# in a Hive catalog kept in FOLDER, then runs `spark-pipelines run` once per `run` step and
# prints every dataset after each update. Run it in a new FOLDER: the catalog and the flows'
# checkpoints (FOLDER/storage) persist between updates, as they do in Spark.
import json
import os
import subprocess
import sys
from pathlib import Path

DATABASE = "unbounded"
"#;

const DRIVER: &str = r#"

def under(root, rel):
    """A project path, refused if it would leave the project folder."""
    path = (root / rel).resolve()
    if root != path and root not in path.parents:
        sys.exit(f"refusing to write outside {root}: {rel!r}")
    return path


def sql_str(text):
    """A Spark SQL string literal."""
    return "'" + text.replace("\\", "\\\\").replace("'", "\\'") + "'"


def write(root, rel, text):
    path = under(root, rel)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")


def spark_job(root, code):
    """Runs PySpark code in its own process: the Derby metastore admits one JVM at a time."""
    subprocess.run([sys.executable, "-c", SESSION + code, str(root)], check=True, env=ENV, cwd=root)


SESSION = """
import sys
from pyspark.sql import SparkSession
root = sys.argv[1]
spark = SparkSession.builder.master("local[2]").enableHiveSupport().getOrCreate()
"""


def main():
    global ENV
    root = Path(sys.argv[1] if len(sys.argv) > 1 else "unbounded-pipeline").resolve()
    root.mkdir(parents=True, exist_ok=True)
    for rel, text in FILES:
        if rel == "spark-pipeline.yml":
            # Spark wants the storage root as an absolute URI.
            text = text.replace("\nstorage: storage\n", "\nstorage: " + json.dumps(under(root, "storage").as_uri()) + "\n")
        write(root, rel, text)
    for _, folder, _ in SOURCES:
        under(root, folder).mkdir(parents=True, exist_ok=True)
    # One Hive catalog for the setup, every `spark-pipelines run` and the read-backs.
    conf = root / "conf"
    conf.mkdir(exist_ok=True)
    (conf / "spark-defaults.conf").write_text(
        "spark.sql.catalogImplementation hive\n"
        f"spark.sql.warehouse.dir {root / 'warehouse'}\n"
        f"spark.hadoop.javax.jdo.option.ConnectionURL jdbc:derby:;databaseName={root / 'metastore_db'};create=true\n"
        "spark.sql.session.timeZone UTC\nspark.sql.shuffle.partitions 2\nspark.ui.enabled false\n",
        encoding="utf-8")
    ENV = dict(os.environ, SPARK_CONF_DIR=str(conf), TZ="UTC")
    setup = ["spark.sql(" + repr("CREATE DATABASE IF NOT EXISTS " + DATABASE) + ")"]
    for name, folder, columns in SOURCES:
        sql = ("CREATE TABLE IF NOT EXISTS " + DATABASE + "." + name + " (" + columns + ") USING json "
               "OPTIONS (timestampFormat 'yyyy-MM-dd HH:mm:ss[.SSSSSS]') LOCATION " + sql_str(under(root, folder).as_uri()))
        setup.append("spark.sql(" + repr(sql) + ")")
    for name, rows, schema in TABLES:
        setup.append("spark.read.schema(" + repr(schema) + ").option('timestampFormat', 'yyyy-MM-dd HH:mm:ss[.SSSSSS]')"
                     ".json(" + repr(str(under(root, rows))) + ").write.format('parquet').saveAsTable("
                     + repr(DATABASE + "." + name) + ")")
    spark_job(root, "\n".join(setup))
    show = "\n".join(f"print({name!r})\nspark.read.table({DATABASE + '.' + name!r}).show(truncate=False)" for name in DATASETS)
    for i, step in enumerate(STEPS):
        if step[0] == "add":
            write(root, step[1], DATA[step[1]])
        elif step[0] == "run":
            command = ["spark-pipelines", "run", "--spec", str(root / "spark-pipeline.yml")]
            for name in step[1]:
                command += ["--full-refresh", name]
            if step[2]:
                command.append("--full-refresh-all")
            print(f"step {i}:", " ".join(command), flush=True)
            subprocess.run(command, check=True, env=ENV, cwd=root)
            spark_job(root, show)
        else:
            print(f"step {i}: {step[1]} has no counterpart in Spark's triggered pipelines: nothing to do")


if __name__ == "__main__":
    main()
"#;

#[cfg(test)]
mod tests {
    use super::*;

    fn load(name: &str) -> PipelineScenario {
        let path = format!("{}/../tests/scenarios/pipelines/{name}.json", env!("CARGO_MANIFEST_DIR"));
        let text = std::fs::read_to_string(&path).expect("scenario file");
        PipelineScenario::parse_if_pipeline(&text).expect("valid").expect("version 2")
    }

    /// A pipeline of one statement, as its SQL file has it.
    fn apache(stmt: &str) -> String {
        apache_statement(stmt, 0, stmt)
    }

    fn file<'a>(files: &'a [(String, String)], path: &str) -> &'a str {
        files.iter().find(|(p, _)| p == path).map(|(_, t)| t.as_str()).unwrap_or_else(|| panic!("no {path} in {files:?}"))
    }

    #[test]
    fn medallion_trucks_is_a_project_with_one_file_per_add_and_one_run_per_update() {
        let s = load("medallion-trucks");
        let files = pipeline_project(&s);
        let spec = file(&files, "spark-pipeline.yml");
        assert!(spec.contains("name: medallion-trucks\n") && spec.contains("database: unbounded\n"), "{spec}");
        assert!(spec.contains("include: transformations/**"), "{spec}");
        let sql = file(&files, "transformations/pipeline.sql");
        for stmt in parse::split(&s.pipeline).unwrap() {
            assert!(sql.contains(stmt.1.trim()), "{sql} lacks {}", stmt.1);
        }
        // Two adds, each its own file in the source's folder, the rows as JSON objects.
        let first = file(&files, "data/sources/0/part-00001.json");
        let row: Json = serde_json::from_str(first.trim()).unwrap();
        assert_eq!(row, serde_json::json!({"truck": "t1", "temp": 4.5, "ts": "2026-01-01 00:00:03"}));
        assert!(file(&files, "data/sources/0/part-00002.json").contains("00:01:30"));
        assert!(file(&files, "data/tables/0/rows.json").contains(r#""depot":"north""#));

        let bundle = pipeline_bundle(&s);
        assert!(bundle.contains(r#"("`truck_events`", "data/sources/0", "truck STRING, temp DOUBLE, ts TIMESTAMP"),"#), "{bundle}");
        assert!(bundle.contains(r#"("`trucks`", "data/tables/0/rows.json", "truck STRING, depot STRING"),"#), "{bundle}");
        assert!(bundle.contains(r#"DATASETS = ["`bronze`", "`silver`", "`gold`", "`depot_totals`"]"#), "{bundle}");
        let steps = &bundle[bundle.find("STEPS = [").unwrap()..];
        let expected = "STEPS = [\n    (\"add\", \"data/sources/0/part-00001.json\"),\n    (\"run\", [], False),\n    (\"add\", \"data/sources/0/part-00002.json\"),\n    (\"run\", [], False),\n    (\"run\", [\"gold\"], False),\n]\n";
        assert!(steps.starts_with(expected), "{steps}");
        assert!(bundle.contains("\"spark-pipelines\", \"run\""));
    }

    #[test]
    fn full_refresh_steps_become_the_cli_flags() {
        let bundle = pipeline_bundle(&load("full-refresh-gold"));
        assert_eq!(bundle.matches("(\"run\", [], False)").count(), 4, "{bundle}");
        assert_eq!(bundle.matches("(\"run\", [\"gold\"], False)").count(), 1, "{bundle}");
        let all = pipeline_bundle(&load("full-refresh-all"));
        assert_eq!(all.matches("(\"run\", [], True)").count(), 1, "{all}");
        assert!(bundle.contains("\"--full-refresh\"") && bundle.contains("\"--full-refresh-all\""));
    }

    #[test]
    fn rows_that_do_not_fit_are_left_out_as_the_harness_does() {
        let files = pipeline_project(&load("bad-record-skipped"));
        let data: Vec<&(String, String)> = files.iter().filter(|(p, _)| p.starts_with("data/sources/")).collect();
        assert!(!data.is_empty());
        let s = load("bad-record-skipped");
        let sent: usize = s.steps.iter().map(|st| if let PipelineStep::Add { rows, .. } = st { rows.len() } else { 0 }).sum();
        let written: usize = data.iter().map(|(_, t)| t.lines().count()).sum();
        assert!(written < sent, "{written} of {sent}");
    }

    #[test]
    fn databricks_only_sql_is_rewritten_with_a_note() {
        let out = apache(
            "CREATE OR REFRESH STREAMING TABLE s (id INT, CONSTRAINT pos EXPECT (f(n, 1) > 0) ON VIOLATION DROP ROW) AS SELECT * FROM STREAM e",
        );
        assert!(out.ends_with("\nCREATE STREAMING TABLE s (id INT) AS SELECT * FROM STREAM e"), "{out}");
        assert!(
            out.contains("-- Expectation left out") && out.contains("CONSTRAINT pos EXPECT (f(n, 1) > 0) ON VIOLATION DROP ROW"),
            "{out}"
        );
        assert!(out.contains("OR REFRESH written as CREATE"), "{out}");
        let only = apache("CREATE MATERIALIZED VIEW m (CONSTRAINT c EXPECT (x IS NOT NULL)) AS SELECT x FROM t");
        assert!(only.ends_with("\nCREATE MATERIALIZED VIEW m AS SELECT x FROM t"), "{only}");
        // A column whose name starts with the word is a column.
        let kept = apache("CREATE STREAMING TABLE s (constraints INT) AS SELECT 1 AS constraints");
        assert_eq!(kept, "CREATE STREAMING TABLE s (constraints INT) AS SELECT 1 AS constraints");
    }

    /// The statement without the notes above it.
    fn sql_of(out: &str) -> String {
        let note = |l: &&str| l.starts_with("-- Expectation left out") || l.starts_with("-- Databricks' CREATE OR REFRESH");
        out.lines().skip_while(note).collect::<Vec<_>>().join("\n")
    }

    #[test]
    fn a_constraint_goes_with_its_comma_wherever_it_is_in_the_list() {
        let cases = [
            // First, middle, last, and several together.
            ("(CONSTRAINT c EXPECT (a > 0), a INT, b INT)", "(a INT, b INT)"),
            ("(a INT, CONSTRAINT c EXPECT (a > 0) ON VIOLATION DROP ROW, b INT)", "(a INT, b INT)"),
            ("(a INT, b INT, CONSTRAINT c EXPECT (a > 0))", "(a INT, b INT)"),
            ("(CONSTRAINT c EXPECT (a > 0), CONSTRAINT d EXPECT (b > 0), a INT)", "(a INT)"),
            ("(a INT, CONSTRAINT c EXPECT (a > 0), CONSTRAINT d EXPECT (b > 0))", "(a INT)"),
            ("(CONSTRAINT c EXPECT (a > 0), a INT, CONSTRAINT d EXPECT (b > 0), b INT, CONSTRAINT e EXPECT (b < 9))", "(a INT, b INT)"),
            // Commas, parentheses and the word inside the condition and a column's comment.
            (
                "(a INT COMMENT 'x, CONSTRAINT), (', CONSTRAINT `c,)` EXPECT (f(a, ')') IN (1, 2)) ON VIOLATION FAIL UPDATE)",
                "(a INT COMMENT 'x, CONSTRAINT), (')",
            ),
        ];
        for (list, kept) in cases {
            let out = apache(&format!("CREATE STREAMING TABLE s {list} AS SELECT 1 AS a, 2 AS b"));
            assert_eq!(sql_of(&out), format!("CREATE STREAMING TABLE s {kept} AS SELECT 1 AS a, 2 AS b"), "{list}");
            assert_eq!(out.matches("-- Expectation left out").count(), list.matches("EXPECT").count(), "{out}");
        }
    }

    #[test]
    fn a_list_of_constraints_only_goes_with_its_parentheses() {
        // Spark 4.3 parses `m () AS ...` as `m AS ...`, but the engine refuses `()`: the list goes.
        for (stmt, kept) in [
            (
                "CREATE MATERIALIZED VIEW m (CONSTRAINT c EXPECT (x > 0), CONSTRAINT d EXPECT (x < 9)) AS SELECT 1 AS x",
                "CREATE MATERIALIZED VIEW m AS SELECT 1 AS x",
            ),
            ("CREATE MATERIALIZED VIEW m(CONSTRAINT c EXPECT (x > 0))AS SELECT 1 AS x", "CREATE MATERIALIZED VIEW m AS SELECT 1 AS x"),
            (
                "CREATE MATERIALIZED VIEW `m`\n  (CONSTRAINT c EXPECT (x > 0))\n  COMMENT 'c' AS SELECT 1 AS x",
                "CREATE MATERIALIZED VIEW `m`\n  COMMENT 'c' AS SELECT 1 AS x",
            ),
            ("CREATE STREAMING TABLE db.s (CONSTRAINT c EXPECT (x > 0))", "CREATE STREAMING TABLE db.s"),
        ] {
            assert_eq!(sql_of(&apache(stmt)), kept, "{stmt}");
        }
    }

    #[test]
    fn every_rewritten_list_reads_back_as_the_same_datasets_without_expectations() {
        // Column lists of random columns and constraints, glued with random spacing: the
        // rewrite must always parse, with the same datasets, columns and queries.
        let items = [
            "a INT",
            "b STRING COMMENT 'x, CONSTRAINT )'",
            "CONSTRAINT c EXPECT (a > 0)",
            "CONSTRAINT d EXPECT (f(a, ')')) ON VIOLATION DROP ROW",
        ];
        let gaps = ["", " ", "\n  ", " /* , */ ", " -- c,\n"];
        let mut seed = 7u64;
        let mut pick = |n: usize| {
            seed = seed.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
            (seed >> 33) as usize % n
        };
        for _ in 0..2_000 {
            let mut list = String::new();
            let (mut cols, mut cons) = (0, 0);
            for k in 0..1 + pick(5) {
                let item = items[pick(items.len())];
                // Names kept unique, as the parser wants.
                let item = if item.starts_with("CONSTRAINT") {
                    cons += 1;
                    item.replacen(" EXPECT", &format!("{k} EXPECT"), 1)
                } else {
                    cols += 1;
                    item.replacen(' ', &format!("{k} "), 1)
                };
                if k > 0 {
                    list.push(',');
                }
                list.push_str(gaps[pick(gaps.len())]);
                list.push_str(&item);
                list.push_str(gaps[pick(gaps.len())]);
            }
            let or_refresh = if pick(2) == 0 { "OR REFRESH " } else { "" };
            let (g1, g2) = (gaps[pick(gaps.len())], gaps[pick(gaps.len())]);
            let text = format!("CREATE VIEW v AS SELECT 1 AS x;\nCREATE {or_refresh}STREAMING TABLE s{g1}({list}){g2}AS SELECT 1 AS a");
            let before = parse::parse(&text).unwrap_or_else(|e| panic!("{text}: {e:?}"));
            let sql = sql_file(&text);
            let after = parse::parse(&sql).unwrap_or_else(|e| panic!("{text}\nbecame\n{sql}: {e:?}"));
            assert_eq!(after.len(), 2, "{sql}");
            let (b, a) = (&before[1], &after[1]);
            assert_eq!((&a.name, &a.kind, &a.columns), (&b.name, &b.kind, &b.columns), "{text}\nbecame\n{sql}");
            assert_eq!(a.query.as_ref().map(|q| q.sql.trim()), b.query.as_ref().map(|q| q.sql.trim()), "{sql}");
            assert!(a.constraints.is_empty() && a.or_refresh.is_none(), "{text}\nbecame\n{sql}");
            assert_eq!(sql.matches("-- Expectation left out").count(), cons, "{sql}");
            // A list of constraints only went whole (the engine's reader refuses an empty `()`).
            assert_eq!(a.columns.is_some(), cols > 0, "{sql}");
        }
    }

    #[test]
    fn a_statement_ending_in_a_line_comment_keeps_its_semicolon_out_of_it() {
        let text = "CREATE VIEW a AS SELECT 1 AS x -- one\n;\nCREATE MATERIALIZED VIEW b AS SELECT x FROM a -- two";
        let sql = sql_file(text);
        let names: Vec<String> = parse::parse(&sql).unwrap().into_iter().map(|s| s.name).collect();
        assert_eq!(names, ["a", "b"], "{sql}");
        assert!(sql.starts_with("CREATE VIEW a AS SELECT 1 AS x -- one\n;\n"), "{sql}");
        assert!(sql_file("CREATE VIEW a AS SELECT 1 AS x").ends_with("x;\n"));
    }

    #[test]
    fn the_rewrite_finds_heads_the_old_pattern_missed() {
        // A comment before CREATE, a qualified name, IF NOT EXISTS: the parser reads all of them.
        let out = apache(
            "-- bronze\nCREATE OR REFRESH STREAMING TABLE IF NOT EXISTS cat.db.s (a INT, CONSTRAINT c EXPECT (a > 0)) AS SELECT 1 AS a",
        );
        assert!(out.ends_with("-- bronze\nCREATE STREAMING TABLE IF NOT EXISTS cat.db.s (a INT) AS SELECT 1 AS a"), "{out}");
        assert!(
            out.contains("OR REFRESH written as CREATE")
                && out.contains("left out (Databricks only, Apache Spark has no expectations): CONSTRAINT c EXPECT (a > 0)\n"),
            "{out}"
        );
        // Statements after the first keep their place: the spans are offsets in the whole text.
        let sql = sql_file(
            "CREATE VIEW v AS SELECT 1 AS a;\nCREATE OR REFRESH MATERIALIZED VIEW m (CONSTRAINT c EXPECT (a > 0)) AS SELECT a FROM v",
        );
        assert!(
            sql.ends_with("\nCREATE MATERIALIZED VIEW m AS SELECT a FROM v;\n") && sql.starts_with("CREATE VIEW v AS SELECT 1 AS a;\n"),
            "{sql}"
        );
        // What the engine cannot read goes as written.
        let bad = apache("CREATE OR REFRESH STREAMING TABLE s (a VARIANT, CONSTRAINT c EXPECT (a > 0)) AS SELECT 1 AS a");
        assert_eq!(bad, "CREATE OR REFRESH STREAMING TABLE s (a VARIANT, CONSTRAINT c EXPECT (a > 0)) AS SELECT 1 AS a");
    }

    #[test]
    fn adversarial_names_and_sql_stay_inside_literals_and_paths() {
        let evil = "x\"'\\\n../../etc/`\u{2028}\"\"\"";
        let doc = serde_json::json!({
            "version": 2,
            "name": "n\nimport os\"'../",
            "description": "d\"\"\"\nimport os",
            "sources": {"e": {"schema": [["c", "string"]]}},
            "tables": {"t": {"schema": [["c", "string"]], "rows": [["v\"\"\"\nimport os"]]}},
            "pipeline": "CREATE STREAMING TABLE a AS SELECT * FROM STREAM e",
            "steps": [{"add": "e", "rows": [["\"\"\"\nimport os"]]}, {"run": {"full_refresh": ["a\"\n../b"]}}]
        });
        let mut s = PipelineScenario::from_json(&doc).expect("valid");
        // The reader refuses names that are not plain; the export must not rely on it.
        s.base.sources[0].0 = evil.to_string();
        s.base.sources[0].1.columns[0].name = evil.to_string();
        s.base.tables[0].0 = "../t\"".to_string();
        s.base.tables[0].1.columns[0].name = "c'\n".to_string();
        s.steps[0] = PipelineStep::Add { source: evil.to_string(), rows: vec![serde_json::json!(["\"\"\"\nimport os"])] };
        s.pipeline =
            format!("CREATE STREAMING TABLE `a\"\n../b` AS SELECT * FROM STREAM `{}`; -- \"\"\"\nimport os\n", evil.replace('`', "``"));
        for (path, _) in pipeline_project(&s) {
            assert!(
                path.chars().all(|c| c.is_ascii_alphanumeric() || "/-_.".contains(c))
                    && !path.split('/').any(|seg| seg == ".." || seg.is_empty()),
                "{path}"
            );
        }
        let bundle = pipeline_bundle(&s);
        // Every scenario text is in an escaped literal or a comment: no line of it starts code.
        assert_eq!(bundle.lines().filter(|l| *l == "import os").count(), 1, "only the script's own import: {bundle}");
        assert!(!bundle.lines().any(|l| l.starts_with("import os\"") || l.starts_with("../")), "{bundle}");
        assert!(!bundle.contains('\u{2028}') && !bundle.contains(evil), "{bundle}");
        assert!(bundle.contains(&python_str(&quoted(evil))), "{bundle}");
        assert!(bundle.contains("name: n_import_os___"), "{bundle}");
        // The flag keeps the name whole: the CLI gets it as one argument.
        assert!(bundle.contains(r#"("run", ["a\"\n../b"], False)"#), "{bundle}");
    }
}
