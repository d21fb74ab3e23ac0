#!/usr/bin/env python3
"""Replays scenario files through Apache Spark (PySpark 4.x) and writes the runner output document
Spark produces: the reference our conformance suites are checked against.

A developer tool: the project's tests never need Spark. Install it with
`pip install 'pyspark==4.3.*'` (Java 17), then:

    python3 tests/spark/run_spark.py SCENARIO.json [...]          # print Spark's documents
    python3 tests/spark/run_spark.py --write SCENARIO.json [...]  # write NAME.expected.json

How each step maps onto Spark (as in ../shared/SPARK-SEMANTICS.md): a source is a temp view over
`spark.readStream.schema(...).options(...).json(dir)` with the source's `options`; `add` writes
one new JSON-lines file, modified at FILE_TIME_BASE + the step's index in seconds (the engine's
file time is the step's index too: latestFirst and maxFileAge order and age files by it), moved
in with the others when the next `run` (or `restart`) comes; `run` is `processAllAvailable()`;
`{"run": {"trigger": "availableNow" | "once"}}` stops the query, starts it with that trigger and
awaits its end; `{"run": {"batches": N}}` stops it, starts it with a processing-time trigger of
BATCH_INTERVAL_S seconds, lets N triggers pass (or the first one that finds nothing to do: later
ones cannot find more) and stops it; a `run {}` after a trigger starts the query again;
`restart` stops the query and starts it again on the same checkpoint;
`fail` is skipped (a failure must not change the result). Records that do not fit their column
are not given to Spark: in Unbounded they go to the dead-letter output, which Spark lacks.
Static tables are temp views over DataFrames. The session time zone is UTC.
"""
import base64
import decimal
import json
import os
import shutil
import sys
import tempfile
import time
from datetime import date, datetime, timezone

from pyspark.sql import SparkSession
from pyspark.sql import types as T
from pyspark.errors import PySparkException

TYPES = {"string": T.StringType(), "int": T.IntegerType(), "bigint": T.LongType(),
         "double": T.DoubleType(), "boolean": T.BooleanType(), "timestamp": T.TimestampType()}


def spark_type(name):
    """A scenario column type: one of TYPES, or any type in Spark's DDL (`date`, `array<string>`,
    `struct<a:int,b:string>`, `map<string,int>`, `binary`)."""
    if name in TYPES:
        return TYPES[name]
    return T._parse_datatype_string(name)


def fits_type(value, t):
    """`fits` over a parsed Spark type: the nested forms of the scenario format (FORMAT.md and
    the README: a struct is an object of its fields, a map an object or [key, value] pairs, a
    date "YYYY-MM-DD", binary base64)."""
    if value is None:
        return True
    for name, known in TYPES.items():
        if t == known:
            return fits(value, name)
    if isinstance(t, T.DateType):
        try:
            date.fromisoformat(value)
            return True
        except (TypeError, ValueError):
            return False
    if isinstance(t, T.DecimalType):
        return decimal_value(value, t) is not None
    if isinstance(t, T.BinaryType):
        try:
            base64.b64decode(value, validate=True)
            return isinstance(value, str)
        except (TypeError, ValueError):
            return False
    if isinstance(t, T.ArrayType):
        return isinstance(value, list) and all(fits_type(x, t.elementType) for x in value)
    if isinstance(t, T.StructType):
        return isinstance(value, dict) and set(value) <= set(t.names) and all(
            fits_type(value.get(f.name), f.dataType) for f in t.fields)
    if isinstance(t, T.MapType):
        if isinstance(value, dict):
            return isinstance(t.keyType, T.StringType) and all(fits_type(v, t.valueType) for v in value.values())
        return isinstance(value, list) and all(
            isinstance(p, list) and len(p) == 2 and p[0] is not None and fits_type(p[0], t.keyType)
            and fits_type(p[1], t.valueType) for p in value)
    return False


def decimal_value(value, t):
    """A decimal cell (a JSON number or a numeric string) rounded HALF_UP to the type's scale,
    as Spark's JSON reader takes it; None when it is no number or needs more digits."""
    if isinstance(value, bool) or not isinstance(value, (int, float, str)):
        return None
    try:
        d = decimal.Decimal(str(value).strip())
    except decimal.InvalidOperation:
        return None
    if not d.is_finite():
        return None
    with decimal.localcontext() as ctx:
        ctx.prec = 100
        q = d.quantize(decimal.Decimal(1).scaleb(-t.scale), rounding=decimal.ROUND_HALF_UP)
    return q if len(q.as_tuple().digits) <= t.precision or q == 0 else None


def spark_value(value, t):
    """A scenario value as PySpark's createDataFrame takes it for type `t`."""
    if value is None:
        return None
    if isinstance(t, T.DecimalType):
        return decimal_value(value, t)
    if isinstance(t, T.TimestampType):
        return parse_ts(value)
    if isinstance(t, T.DateType):
        return date.fromisoformat(value)
    if isinstance(t, T.BinaryType):
        return bytearray(base64.b64decode(value))
    if isinstance(t, T.ArrayType):
        return [spark_value(x, t.elementType) for x in value]
    if isinstance(t, T.StructType):
        return T.Row(**{f.name: spark_value(value.get(f.name), f.dataType) for f in t.fields})
    if isinstance(t, T.MapType):
        pairs = value.items() if isinstance(value, dict) else value
        return {spark_value(k, t.keyType): spark_value(v, t.valueType) for k, v in pairs}
    return value


def file_value(value, t):
    """A scenario value as a line of the JSON files Spark's reader reads: maps as objects."""
    if value is None:
        return None
    if isinstance(t, T.ArrayType):
        return [file_value(x, t.elementType) for x in value]
    if isinstance(t, T.StructType):
        return {f.name: file_value(value.get(f.name), f.dataType) for f in t.fields}
    if isinstance(t, T.MapType):
        pairs = value.items() if isinstance(value, dict) else value
        return {str(k): file_value(v, t.valueType) for k, v in pairs}
    return value


# Files are modified at this time plus their step's index in seconds (2026-01-01 00:00:00 UTC).
FILE_TIME_BASE = 1767225600
# The processing-time trigger of `{"run": {"batches": N}}`: long against a local micro-batch, so
# the harness stops the query between two triggers, not during one.
BATCH_INTERVAL_S = 8


def option_text(value):
    """A scenario option value as Spark's `.option(k, v)` reads it (PySpark writes booleans as
    `true`/`false`); the engine reads them the same way."""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def fits(value, type_name):
    """Mirrors the engine's check of a scenario value against its column type."""
    if value is None:
        return True
    if type_name == "string":
        return not isinstance(value, (list, dict))
    if type_name in ("int", "bigint"):
        if isinstance(value, bool) or not isinstance(value, int):
            return False
        return -2**31 <= value < 2**31 if type_name == "int" else -2**63 <= value < 2**63
    if type_name == "double":
        return (isinstance(value, (int, float)) and not isinstance(value, bool)) or value in ("NaN", "Infinity", "-Infinity")
    if type_name == "boolean":
        return isinstance(value, bool)
    if type_name == "timestamp":
        return isinstance(value, str) and parse_ts(value) is not None
    return False


def parse_ts(text):
    s = text.strip().replace("T", " ").rstrip("Z")
    for fmt in ("%Y-%m-%d %H:%M:%S.%f", "%Y-%m-%d %H:%M:%S", "%Y-%m-%d %H:%M", "%Y-%m-%d"):
        try:
            return datetime.strptime(s, fmt)
        except ValueError:
            pass
    return None


def fmt_ts(dt):
    base = dt.strftime("%Y-%m-%d %H:%M:%S")
    if dt.microsecond:
        base += ("." + f"{dt.microsecond:06d}").rstrip("0")
    return base


def to_json(v):
    if isinstance(v, datetime):
        return fmt_ts(v)
    if isinstance(v, date):
        return v.isoformat()
    if isinstance(v, (bytes, bytearray)):
        return base64.b64encode(bytes(v)).decode("ascii")
    if isinstance(v, decimal.Decimal):
        # A JSON number with the scale's digits, as Spark writes it (`1.50`): marked here, and
        # put in the text unquoted by `dumps`.
        return DECIMAL_MARK + format(v, "f")
    if isinstance(v, T.Row):
        d = v.asDict()
        if set(d) == {"start", "end"}:
            return {"start": to_json(d["start"]), "end": to_json(d["end"])}
        return {k: to_json(x) for k, x in d.items()}
    if isinstance(v, dict):
        # FORMAT.md: a map with string keys is an object, any other a list of [key, value] pairs.
        if all(isinstance(k, str) for k in v):
            return {k: to_json(x) for k, x in v.items()}
        return [[to_json(k), to_json(x)] for k, x in v.items()]
    if isinstance(v, (list, tuple)):
        return [to_json(x) for x in v]
    return v


DECIMAL_MARK = "\u0000decimal:"


def dumps(doc):
    """The document as JSON text, decimals as bare numbers with their digits."""
    import re
    text = json.dumps(doc, indent=2)
    return re.sub(r'"\\u0000decimal:(-?[0-9.]+)"', r"\1", text)


def spark_watermark(text):
    """Spark reports the watermark as ISO-8601 UTC; the epoch means none."""
    if not text:
        return None
    dt = datetime.strptime(text, "%Y-%m-%dT%H:%M:%S.%fZ")
    return None if dt.replace(tzinfo=timezone.utc).timestamp() <= 0 else fmt_ts(dt)


KINDS = [("PARSE_SYNTAX_ERROR", "parse"), ("PARSE_EMPTY", "parse"), ("UNRESOLVED_COLUMN", "unknown_column"),
         ("TABLE_OR_VIEW_NOT_FOUND", "unknown_table"), ("UNRESOLVED_ROUTINE", "unknown_function"),
         ("AMBIGUOUS_REFERENCE", "ambiguous_column"),
         ("MISSING_AGGREGATION", "unknown_column"), ("DATATYPE_MISMATCH", "type_mismatch"),
         ("EVENT_TIME_IS_NOT_ON_TIMESTAMP_TYPE", "type_mismatch"), ("WRONG_NUM_ARGS", "type_mismatch"),
         ("NUM_COLUMNS_MISMATCH", "type_mismatch"), ("INCOMPATIBLE_COLUMN_TYPE", "type_mismatch"),
         ("INVALID_LAMBDA_FUNCTION_CALL", "type_mismatch")]


def error_doc(name, exc, phase):
    condition = getattr(exc, "getCondition", lambda: None)() or getattr(exc, "getErrorClass", lambda: None)()
    message = next((line.strip() for line in str(exc).split("\n") if line.strip()), "")
    if phase == "batch":
        # A batch failure reaches Python wrapped (STREAM_FAILED, FOREACH_BATCH_USER_FUNCTION_ERROR):
        # report the root cause, the innermost [CONDITION] line.
        import re
        causes = [m for m in re.finditer(r"\[([A-Z][A-Z_.]+)\] [^\n]*", str(exc))
                  if m.group(1) not in ("STREAM_FAILED", "FOREACH_BATCH_USER_FUNCTION_ERROR")]
        if causes:
            condition, message = causes[-1].group(1), causes[-1].group(0).strip()
    kind = next((k for prefix, k in KINDS if condition and condition.startswith(prefix)), None)
    if kind is None:
        if phase == "batch":
            kind = "runtime"
        elif "without watermark" in message and "append" in message:
            kind = "missing_watermark"
        elif message.startswith("Stream-stream") and "without a watermark" in message:
            kind = "missing_watermark"  # FORMAT.md: an outer join lacking its watermarks and range
        elif "output mode" in message or "Sorting is not supported" in message:
            kind = "unsupported_output_mode"
        else:
            kind = "unsupported_operation"
    err = {"kind": kind, "message": message, "phase": phase}
    if condition:
        err["spark_condition"] = condition
    return {"name": name, "error": err}


def run(spark, scenario, workdir):
    name = scenario["name"]
    sources = scenario["sources"]
    for t, spec in scenario.get("tables", {}).items():
        schema = T.StructType([T.StructField(c, spark_type(ty)) for c, ty in spec["schema"]])
        rows = [[spark_value(v, spark_type(ty)) for v, (_, ty) in zip(r, spec["schema"])]
                for r in spec.get("rows", [])]
        spark.createDataFrame(rows, schema).createOrReplaceTempView(t)
    dirs = {}
    for s, spec in sources.items():
        d = os.path.join(workdir, "src", s)
        os.makedirs(d)
        dirs[s] = d
        if spec.get("kind", "files") != "files":
            return {"name": name, "error": {"kind": "unsupported_operation",
                                            "message": f"this harness feeds only folders of files, not {spec['kind']}"}}
        schema = T.StructType([T.StructField(c, spark_type(ty)) for c, ty in spec["schema"]])
        reader = spark.readStream.schema(schema).option("timestampFormat", "yyyy-MM-dd HH:mm:ss[.SSSSSS]")
        for k, v in spec.get("options", {}).items():
            reader = reader.option(k, option_text(v))
        reader.json(d).createOrReplaceTempView(s)
    try:
        df = spark.sql(translate_dedup(spark, scenario["query"]))
    except PySparkException as e:
        return error_doc(name, e, "analysis")
    batches = {}

    def collect(batch_df, batch_id):
        batches[batch_id] = [to_json(list(r)) for r in batch_df.collect()]

    checkpoint = os.path.join(workdir, "checkpoint")
    mode = scenario.get("output_mode", "append")

    def start(**trigger):
        w = df.writeStream.foreachBatch(collect).outputMode(mode).option("checkpointLocation", checkpoint)
        if trigger:
            w = w.trigger(**trigger)
        return w.start()

    try:
        query = start()
    except PySparkException as e:
        return error_doc(name, e, "start")
    files = 0
    seen = -1
    runs = []
    doc = {"name": name, "columns": df.columns}
    # The running query polls its sources all the time: the files of the `add` steps before a
    # `run` are written aside and moved in together, so one micro-batch sees all of them, as
    # the engine's does (written one by one, two sources' files could land in two batches).
    staging = os.path.join(workdir, "staging")
    os.makedirs(staging)
    waiting = []

    def publish():
        for aside, path in waiting:
            os.rename(aside, path)
        waiting.clear()

    for i, step in enumerate(scenario["steps"]):
        if "add" in step:
            schema = sources[step["add"]]["schema"]
            good = [r for r in step["rows"] if all(fits_type(v, spark_type(ty)) for v, (_, ty) in zip(r, schema))]
            files += 1
            aside = os.path.join(staging, f"part-{files:05d}.json")
            with open(aside, "w") as f:
                for r in good:
                    f.write(json.dumps({c: file_value(v, spark_type(ty)) for v, (c, ty) in zip(r, schema)}) + "\n")
            os.utime(aside, (FILE_TIME_BASE + i, FILE_TIME_BASE + i))
            waiting.append((aside, os.path.join(dirs[step["add"]], f"part-{files:05d}.json")))
        elif "run" in step:
            spec = step["run"]
            try:
                if not spec:
                    publish()
                    if query is None:
                        query = start()
                    query.processAllAvailable()
                else:
                    if query is not None:
                        query.stop()
                    publish()
                    if "batches" in spec:
                        query = run_triggers(start, spec["batches"])
                    else:
                        query = start(**{spec["trigger"]: True})
                        query.awaitTermination()
                    ended = query
                    query = None
            except Exception as e:  # the batch failed: the query is dead, as in Spark
                runs.append({"step": i, "batches": []})
                doc.update(runs=runs, error=error_doc(name, e, "batch")["error"])
                break
            out = []
            for p in (query or ended).recentProgress:
                # A trigger that ran no batch may report progress too, under the next batch's id
                # (a once run without new data does): only a batch that ran wrote to the sink.
                if p.batchId <= seen or "addBatch" not in (p.durationMs or {}):
                    continue
                seen = p.batchId
                ops = p.stateOperators or []
                out.append({"batch_id": p.batchId,
                            "watermark": spark_watermark((p.eventTime or {}).get("watermark")),
                            "dropped_late": sum(o.numRowsDroppedByWatermark for o in ops),
                            "state_rows": sum(o.numRowsTotal for o in ops),
                            "rows": batches.get(p.batchId, [])})
            runs.append({"step": i, "batches": out})
        elif "restart" in step:
            if query is not None:
                query.stop()
            publish()
            query = start()
    if query is not None:
        query.stop()
    doc["runs"] = runs
    ids = sorted(batches)
    # Only update mode needs the key; asking for it builds and runs the engine's release CLI.
    key = scenario_update_key(scenario) if mode == "update" else None
    if mode == "complete":
        doc["sink"] = batches[ids[-1]] if ids else []
    elif mode == "update" and key is not None:
        # FORMAT.md: an update-mode sink keeps the latest row per key (the GROUP BY columns).
        idx = [df.columns.index(k) for k in key]
        latest = {}
        for b in ids:
            for r in batches[b]:
                latest[json.dumps([r[i] for i in idx])] = r
        doc["update_key"] = key
        doc["sink"] = list(latest.values())
    else:
        doc["sink"] = [r for b in ids for r in batches[b]]
    return doc


def run_triggers(start, n):
    """Starts the query with a processing-time trigger and stops it after `n` triggers: after
    its n-th committed micro-batch, or once a trigger has passed without one (nothing arrives
    meanwhile, so no later trigger would find anything). Returns the stopped query."""
    query = start(processingTime=f"{BATCH_INTERVAL_S} seconds")
    # Progress is reported once a batch has committed, so stopping after it interrupts nothing.
    def ran():
        return sum(1 for p in query.recentProgress if "addBatch" in (p.durationMs or {}))

    count, last = 0, time.time()
    while count < n:
        time.sleep(0.05)
        now = ran()
        if now != count:
            count, last = now, time.time()
        elif time.time() - last > BATCH_INTERVAL_S + 4:
            break
    query.stop()
    if ran() > n:
        raise RuntimeError(f"{ran()} micro-batches ran in {n} triggers: the harness stopped the query too late; run it again")
    return query


def scenario_update_key(scenario):
    """The update-mode key of an aggregating query: the GROUP BY columns as they appear in the
    output. A property of the query text, not of the data: taken from the existing expected file,
    else from Unbounded's analyzer (`unbounded run` reports it as `update_key`)."""
    path = scenario.get("_path", "")
    try:
        with open(path.replace(".json", ".expected.json")) as f:
            key = json.load(f).get("update_key")
            if key is not None:
                return key
    except (OSError, ValueError):
        pass
    import subprocess
    root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    out = subprocess.run(["cargo", "run", "-q", "--release", "-p", "unbounded-engine", "--bin", "unbounded", "--", "run", path],
                         cwd=root, capture_output=True, text=True)
    try:
        return json.loads(out.stdout).get("update_key")
    except ValueError:
        return None


DEDUP = None


def translate_dedup(spark, query):
    """Unbounded's `relation [WATERMARK ...] DEDUPLICATE [WITHIN WATERMARK] BY (cols)` is the
    DataFrame call `dropDuplicates(cols)` / `dropDuplicatesWithinWatermark(cols)` on that relation:
    register the relation so deduplicated as a temp view and read the view instead."""
    import re
    # A relation is a name or a parenthesised subquery (up to two levels of parentheses inside).
    pattern = re.compile(r"(?P<rel>STREAM\s*\(\s*\w+\s*\)|STREAM\s+\w+|\b\w+|\((?:[^()]|\((?:[^()]|\([^()]*\))*\))*\))(?P<wm>\s+WATERMARK\s+.+?\s+DELAY\s+OF\s+INTERVAL\s+.+?)?"
                         r"\s+DEDUPLICATE(?P<within>\s+WITHIN\s+WATERMARK)?\s+BY\s*\((?P<cols>[^)]*)\)", re.I | re.S)
    n = 0
    while True:
        m = pattern.search(query)
        if not m:
            return query
        base = spark.sql(f"SELECT * FROM {m.group('rel')}{m.group('wm') or ''}")
        cols = [c.strip() for c in m.group("cols").split(",")]
        deduped = base.dropDuplicatesWithinWatermark(cols) if m.group("within") else base.dropDuplicates(cols)
        view = f"__dedup{n}"
        deduped.createOrReplaceTempView(view)
        query = query[:m.start()] + view + query[m.end():]
        n += 1


def main(argv):
    write = "--write" in argv
    paths = [a for a in argv if a != "--write"]
    spark = (SparkSession.builder.master("local[2]").appName("unbounded-reference")
             .config("spark.sql.session.timeZone", "UTC").config("spark.sql.shuffle.partitions", "2")
             .config("spark.ui.enabled", "false")
             # No progress event for a trigger that runs no batch: the harness lists batches.
             .config("spark.sql.streaming.noDataProgressEventInterval", "1000000s").getOrCreate())
    spark.sparkContext.setLogLevel("ERROR")
    for path in paths:
        with open(path) as f:
            scenario = json.load(f)
        scenario["_path"] = path
        workdir = tempfile.mkdtemp(prefix="unbounded-spark-")
        try:
            doc = run(spark, scenario, workdir)
        finally:
            shutil.rmtree(workdir, ignore_errors=True)
            for t in spark.catalog.listTables():
                spark.catalog.dropTempView(t.name)
        text = dumps(doc)
        if write:
            with open(path.replace(".json", ".expected.json"), "w") as f:
                f.write(text + "\n")
            print(f"wrote {path.replace('.json', '.expected.json')}", file=sys.stderr)
        else:
            print(text)
    spark.stop()


if __name__ == "__main__":
    main(sys.argv[1:])
