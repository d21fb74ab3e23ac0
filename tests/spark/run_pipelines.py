#!/usr/bin/env python3
"""Replays version 2 scenario files (pipelines) through Apache Spark's Declarative Pipelines
(PySpark 4.3) and writes the runner output document FORMAT.md specifies for a pipeline: the
reference the engine's pipelines are checked against.

A developer tool: the project's tests never need Spark. It needs PySpark with its `pipelines`
extra (Spark Connect's client: pandas, pyarrow, grpcio, ...) and Java 17:
`pip install 'pyspark[pipelines]==4.3.*'` (beside an existing PySpark without the extra:
`pip install --target DIR pandas pyarrow grpcio grpcio-status googleapis-common-protos zstandard
pyyaml` and run with `PYTHONPATH=DIR`), then:

    python3 tests/spark/run_pipelines.py SCENARIO.json [...]          # print Spark's documents
    python3 tests/spark/run_pipelines.py --write SCENARIO.json [...]  # write NAME.expected.json
    python3 tests/spark/run_pipelines.py --events SCENARIO.json       # also print Spark's event log

How each step maps onto Spark (SPARK-SEMANTICS.md section 8):
- One local Spark Connect server (`remote("local[2]")`) with the persistent (Hive/Derby) catalog
  serves every scenario of the invocation: the JVM starts once. Each scenario gets a fresh database
  (always named `unbounded`, dropped after the scenario) and its own pipeline storage folder, both
  under a temporary folder.
- A `run` step is what `spark-pipelines run` does, through the same Python functions its CLI calls:
  create a dataflow graph (default database = the scenario's), register the `pipeline` text as one
  SQL file, start a run and follow its events until it ends. `{"full_refresh": [...]}` and
  `{"full_refresh_all": true}` are its `--full-refresh` and `--full-refresh-all`. A new graph is
  registered for every update, so state between updates lives only where Spark keeps it: the
  catalog, the tables' files and the flows' checkpoints under the storage folder.
- A source is an external JSON table in the catalog over a folder (`CREATE TABLE src (...) USING
  json LOCATION dir`): `STREAM src` is Spark's file stream source over that folder, a bare `src` a
  batch read of all its files. Each `add` step writes one new JSON-lines file into the folder (no
  query runs between updates, so nothing can see a file before the next `run`). Values that do not
  fit their column are left out (in Unbounded they go to the dead-letter output, which Spark lacks).
- A static table (`tables`) is a parquet table saved in the catalog (`saveAsTable`), readable by
  every flow as a batch table, or with `STREAM` as a file stream of its files.
- `fail` and `restart` change nothing: a triggered pipeline has no counterpart (FORMAT.md).
- After each update every dataset is read back with a batch read of its table (streaming tables
  are the file sink's parquet tables: the batch read honours their `_spark_metadata` log), values
  formatted by run_spark.py's functions. File listings are cached per table in the session, so every
  source and dataset is `REFRESH TABLE`d before it is read.
- A refused pipeline, or an update that fails, gives FORMAT.md's error document: Spark's error
  condition mapped to FORMAT.md's kind as SPARK-SEMANTICS 8.9 lists; `dataset` is the dataset or
  flow Spark names. Runs completed before a failing update are kept in the document.

The session time zone and the process's are UTC.
"""
import json
import os
import re
import shutil
import sys
import tempfile
import time
import warnings
from pathlib import Path

os.environ["TZ"] = "UTC"
time.tzset()
# The Connect client warns that the static settings below cannot change once its server runs: they
# were given to that server when it started.
warnings.filterwarnings("ignore", message="Failed to set")

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from run_spark import KINDS, TYPES, fits, parse_ts, to_json  # noqa: E402

from pyspark.sql import SparkSession  # noqa: E402
from pyspark.sql import types as T  # noqa: E402
from pyspark.pipelines.spark_connect_graph_element_registry import SparkConnectGraphElementRegistry  # noqa: E402
from pyspark.pipelines.spark_connect_pipeline import create_dataflow_graph, start_run  # noqa: E402

SHOW_EVENTS = False


def statements(text):
    """The pipeline's statements: split at `;` outside quotes, backticks and comments."""
    out, start, i, n = [], 0, 0, len(text)
    while i < n:
        c = text[i]
        if c in "'\"`":
            j = i + 1
            while j < n and text[j] != c:
                j += 2 if text[j] == "\\" and c != "`" else 1
            i = j + 1
        elif text.startswith("--", i):
            j = text.find("\n", i)
            i = n if j < 0 else j + 1
        elif text.startswith("/*", i):
            j = text.find("*/", i + 2)
            i = n if j < 0 else j + 2
        elif c == ";":
            out.append(text[start:i])
            start = i = i + 1
        else:
            i += 1
    out.append(text[start:])
    return [s.strip() for s in out if s.strip()]


NAME = r"`?(\w+)`?"
HEADS = [
    ("streaming_table", re.compile(r"CREATE\s+(?:OR\s+REFRESH\s+)?STREAMING\s+TABLE\s+(?:IF\s+NOT\s+EXISTS\s+)?" + NAME, re.I)),
    ("materialized_view", re.compile(r"CREATE\s+(?:OR\s+REFRESH\s+)?MATERIALIZED\s+VIEW\s+(?:IF\s+NOT\s+EXISTS\s+)?" + NAME, re.I)),
    ("temporary_view", re.compile(r"CREATE\s+(?:OR\s+REPLACE\s+)?TEMP(?:ORARY)?\s+VIEW\s+" + NAME, re.I)),
    ("view", re.compile(r"CREATE\s+(?:OR\s+REPLACE\s+)?VIEW\s+(?:IF\s+NOT\s+EXISTS\s+)?" + NAME, re.I)),
    ("flow", re.compile(r"CREATE\s+FLOW\s+" + NAME + r"\s+AS\s+INSERT\s+(?:INTO|OVERWRITE)\s+(?:TABLE\s+)?" + NAME, re.I)),
]


def graph(text):
    """What the pipeline defines, as far as the output document needs it: each dataset's kind (by
    the statement that defines it) and a dependency order of the datasets (ties in definition
    order). Spark itself checks the graph; this only names and orders what it built."""
    defs = []  # (kind, name, target, body)
    for s in statements(text):
        for kind, head in HEADS:
            m = head.match(s)
            if m:
                name = m.group(1)
                target = m.group(2) if kind == "flow" else name
                defs.append((kind, name, target, s[m.end():]))
                break
    kinds = {}
    for kind, name, _, _ in defs:
        if kind != "flow":
            kinds.setdefault(name, kind)
    reads = {name: set() for name in kinds}
    for _, _, target, body in defs:
        words = set(re.findall(r"\w+", body))
        reads.setdefault(target, set()).update(n for n in kinds if n in words and n != target)

    def deps(name, seen):
        # Temporary views are inlined: a dataset reading one depends on what the view reads.
        out = set()
        for d in reads.get(name, ()):
            if kinds.get(d) == "temporary_view":
                if d not in seen:
                    out |= deps(d, seen | {d})
            else:
                out.add(d)
        return out

    datasets = [n for n in kinds if kinds[n] != "temporary_view"]
    order, done = [], set()
    while len(order) < len(datasets):
        ready = [n for n in datasets if n not in done and deps(n, {n}) <= done | {n}]
        if not ready:  # a cycle: Spark refuses the pipeline anyway
            ready = [n for n in datasets if n not in done]
        order.append(ready[0])
        done.add(ready[0])
    return [(n, kinds[n]) for n in order]


PIPELINE_ERRORS = [
    ("CIRCULAR", "pipeline"), ("Circular dependencies", "pipeline"), ("PIPELINE_DUPLICATE_IDENTIFIERS", "pipeline"),
    ("INVALID_FLOW_QUERY_TYPE", "pipeline"), ("MATERIALIZED_VIEW_WITH_MULTIPLE_QUERIES", "pipeline"),
    ("PIPELINE_DATASET_WITHOUT_FLOW", "pipeline"), ("Unsupported destination", "pipeline"),
    ("RUN_EMPTY_PIPELINE", "pipeline"), ("USER_SPECIFIED_AND_INFERRED_SCHEMA_NOT_COMPATIBLE", "pipeline"),
    ("INCOMPATIBLE_BATCH_VIEW_READ", "pipeline"), ("INCOMPATIBLE_STREAMING_VIEW_READ", "pipeline"),
]

# A `[CONDITION] message` line of Spark's errors and events; the wrappers around a flow's failure
# are skipped to reach the cause.
CONDITION = re.compile(r"\[([A-Z][A-Z0-9_]+(?:\.[A-Z0-9_]+)*)\][^\n]*")
WRAPPERS = {"STREAM_FAILED", "PIPELINE_SQL_GRAPH_ELEMENT_REGISTRATION_ERROR_WRAPPER", "QUERY_EXECUTION_ERROR"}


def classify(condition, message):
    for needle, kind in PIPELINE_ERRORS:
        if (condition and condition.startswith(needle)) or needle in message:
            return kind
    kind = next((k for prefix, k in KINDS if condition and condition.startswith(prefix)), None)
    if kind is not None:
        return kind
    if "without watermark" in message and "append" in message:
        return "missing_watermark"
    if message.startswith("Stream-stream") and "without a watermark" in message:
        return "missing_watermark"
    if "output mode" in message or "Sorting is not supported" in message:
        return "unsupported_output_mode"
    if condition == "PIPELINE_SQL_GRAPH_ELEMENT_REGISTRATION_ERROR":
        return "parse"  # the statement's shape (`INSERT INTO` without `BY NAME`, a column list, ...)
    if condition and condition.startswith(("CAST_", "ARITHMETIC_", "DIVIDE_BY_ZERO", "INVALID_ARRAY_INDEX")):
        return "runtime"
    return "unsupported_operation"


def error_doc(name, texts, db, flows):
    """FORMAT.md's error document from the texts Spark gave (the exception, then the event log):
    the innermost `[CONDITION]` line that is not a wrapper, or a known exception's sentence."""
    if SHOW_EVENTS:
        print("error texts:", *texts, sep="\n", file=sys.stderr)
    found = None
    for text in texts:
        for m in CONDITION.finditer(text):
            if m.group(1) not in WRAPPERS:
                found = (m.group(1), m.group(0).strip())
        if found:
            break
    if found is None:
        for text in texts:
            for line in text.split("\n"):
                if any(needle in line for needle, _ in PIPELINE_ERRORS) or "without watermark" in line \
                        or "not supported" in line:
                    found = (None, line.strip())
                    break
            if found:
                break
    if found is None:
        first = next((line.strip() for t in texts for line in t.split("\n") if line.strip()), "")
        found = (None, first)
    condition, message = found
    message = re.sub(r"`?spark_catalog`?\.`?" + db + r"`?\.", "", message)
    err = {"kind": classify(condition, message), "message": message}
    if condition:
        err["spark_condition"] = condition
    dataset = failed_element(texts, db, flows)
    if dataset:
        err["dataset"] = dataset
    return {"name": name, "error": err}


def failed_element(texts, db, flows):
    """The dataset or flow Spark blames: a failed flow in the event log, else the first pipeline
    element named in the error."""
    qualified = r"`?spark_catalog`?\.`?" + db + r"`?\.`?(\w+)`?"
    for text in texts:
        m = re.search(r"Flow '?" + qualified + r"'? has FAILED", text)
        if m:
            return m.group(1)
    for text in texts:
        for m in re.finditer(qualified, text):
            if m.group(1) in flows:
                return m.group(1)
    return None


class Refused(Exception):
    def __init__(self, texts):
        super().__init__(texts[0] if texts else "")
        self.texts = texts


def update(spark, db, text, storage, full_refresh, full_refresh_all):
    """One `spark-pipelines run`: returns Spark's event messages; raises Refused when it fails."""
    events = []
    try:
        gid = create_dataflow_graph(spark, default_catalog=None, default_database=db, sql_conf={})
        SparkConnectGraphElementRegistry(spark, gid).register_sql(text, Path("pipeline.sql"))
        for result in start_run(spark, gid, full_refresh=full_refresh, full_refresh_all=full_refresh_all,
                                refresh=[], dry=False, storage=storage):
            if "pipeline_event_result" in result:
                message = result["pipeline_event_result"].event.message
                events.append(message)
                if SHOW_EVENTS:
                    print("event:", message, file=sys.stderr)
    except Exception as e:  # noqa: BLE001 - any failure of the update is the document's error
        raise Refused([str(e)] + events[::-1]) from e
    if not any(e.startswith("Run is COMPLETED") for e in events):
        raise Refused(events[::-1])
    return events


def read(spark, db, name):
    spark.sql(f"REFRESH TABLE {db}.`{name}`")
    df = spark.read.table(f"{db}.`{name}`")
    return df.columns, [to_json(list(r)) for r in df.collect()]


def run(spark, scenario, workdir, db):
    name = scenario["name"]
    text = scenario["pipeline"]
    spark.sql(f"CREATE DATABASE {db} LOCATION '{workdir}/warehouse'")
    for t, spec in scenario.get("tables", {}).items():
        schema = T.StructType([T.StructField(c, TYPES[ty]) for c, ty in spec["schema"]])
        rows = [[parse_ts(v) if ty == "timestamp" and v is not None else v for v, (_, ty) in zip(r, spec["schema"])]
                for r in spec.get("rows", [])]
        spark.createDataFrame(rows, schema).write.format("parquet").saveAsTable(f"{db}.`{t}`")
    dirs = {}
    for s, spec in scenario.get("sources", {}).items():
        d = os.path.join(workdir, "src", s)
        os.makedirs(d)
        dirs[s] = d
        cols = ", ".join(f"`{c}` {TYPES[ty].simpleString()}" for c, ty in spec["schema"])
        spark.sql(f"CREATE TABLE {db}.`{s}` ({cols}) USING json "
                  f"OPTIONS (timestampFormat 'yyyy-MM-dd HH:mm:ss[.SSSSSS]') LOCATION '{d}'")
    datasets = graph(text)
    # The names Spark may blame in an error: datasets, temporary views and flows.
    flows = set(re.findall(r"CREATE\s+(?:[A-Z]+\s+)*?(?:TABLE|VIEW|FLOW)\s+(?:IF\s+NOT\s+EXISTS\s+)?`?(\w+)", text, re.I))
    storage = "file://" + os.path.join(workdir, "storage")
    doc = {"name": name}
    runs = []
    files = 0
    columns = {}
    for i, step in enumerate(scenario["steps"]):
        if "add" in step:
            schema = scenario["sources"][step["add"]]["schema"]
            good = [r for r in step["rows"] if all(fits(v, ty) for v, (_, ty) in zip(r, schema))]
            files += 1
            with open(os.path.join(dirs[step["add"]], f"part-{files:05d}.json"), "w") as f:
                for r in good:
                    f.write(json.dumps({c: v for v, (c, _) in zip(r, schema)}) + "\n")
        elif "run" in step:
            options = step["run"]
            for s in dirs:
                spark.sql(f"REFRESH TABLE {db}.`{s}`")
            try:
                update(spark, db, text, storage, list(options.get("full_refresh", [])),
                       bool(options.get("full_refresh_all", False)))
            except Refused as e:
                err = error_doc(name, e.texts, db, flows)
                if runs:
                    doc.update(datasets=describe(datasets, columns), runs=runs)
                doc["error"] = err["error"]
                return doc
            tables = {}
            for n, _ in datasets:
                columns[n], tables[n] = read(spark, db, n)
            runs.append({"step": i, "tables": tables})
    doc["datasets"] = describe(datasets, columns)
    doc["runs"] = runs
    doc["tables"] = runs[-1]["tables"] if runs else {n: [] for n, _ in datasets}
    return doc


def describe(datasets, columns):
    return {n: {"kind": k, "columns": columns.get(n, [])} for n, k in datasets}


def main(argv):
    global SHOW_EVENTS
    write = "--write" in argv
    SHOW_EVENTS = "--events" in argv
    paths = [os.path.abspath(a) for a in argv if a not in ("--write", "--events")]
    root = tempfile.mkdtemp(prefix="unbounded-sdp-")
    os.chdir(root)  # the metastore's derby.log and any default folder land there, not in the repo
    spark = (SparkSession.builder.remote("local[2]").appName("unbounded-pipelines-reference")
             .config("spark.sql.catalogImplementation", "hive")
             .config("spark.sql.warehouse.dir", os.path.join(root, "warehouse"))
             .config("spark.hadoop.javax.jdo.option.ConnectionURL",
                     f"jdbc:derby:;databaseName={root}/metastore_db;create=true")
             .config("spark.sql.session.timeZone", "UTC").config("spark.sql.shuffle.partitions", "2")
             .config("spark.ui.enabled", "false").getOrCreate())
    failed = False
    try:
        for path in paths:
            with open(path) as f:
                scenario = json.load(f)
            if scenario.get("version") != 2:
                print(f"{path}: not a version 2 (pipeline) scenario; use run_spark.py", file=sys.stderr)
                failed = True
                continue
            workdir = tempfile.mkdtemp(prefix="scenario-", dir=root)
            # One name for every scenario's database (each is dropped after its scenario): Spark's
            # graph walks hash-ordered collections of qualified names, so with a name per scenario
            # the same file could give another message (which two tables of a cycle it names first).
            db = "unbounded"
            try:
                doc = run(spark, scenario, workdir, db)
            finally:
                spark.sql(f"DROP DATABASE IF EXISTS {db} CASCADE")
                shutil.rmtree(workdir, ignore_errors=True)
            out = json.dumps(doc, indent=2)
            if write:
                target = path.replace(".json", ".expected.json")
                with open(target, "w") as f:
                    f.write(out + "\n")
                print(f"wrote {target}" + (f" (error: {doc['error']['kind']})" if "error" in doc else ""),
                      file=sys.stderr)
            else:
                print(out)
    finally:
        spark.stop()
        shutil.rmtree(root, ignore_errors=True)
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main(sys.argv[1:])
