#!/usr/bin/env python3
"""Turns the examples Spark documents for its built-in functions (`DESCRIBE FUNCTION EXTENDED f`,
i.e. each function's ExpressionInfo) into streaming scenarios with Spark's own result as their
expected output: the conformance corpus under tests/scenarios/functions/spark-docs/.

A developer tool: the project's tests never need Spark. With PySpark 4.3 (Java 17):

    python3 tests/spark/function_examples.py [--jobs N] [--only NAME,NAME]

How an example becomes a scenario:
- `SELECT <exprs>;` (a scalar over literals): `SELECT <expr> AS v FROM STREAM one` over a source
  `one` that receives one row (several expressions are `v1`, `v2`, ...).
- `SELECT <exprs> FROM VALUES (...) AS t(cols) [WHERE/GROUP BY/...];`: the VALUES rows are the
  events of a source `t` (their types as Spark infers them), the query reads `STREAM t`; an
  aggregate runs in complete mode, anything else in append mode.
Each scenario runs through the streaming harness of run_spark.py (a folder-of-files source,
processAllAvailable). Examples that do not fit (another FROM, not a SELECT, a result the scenario
format cannot hold, a non-deterministic or clock-dependent result, an error in Spark) are skipped;
SUMMARY.md in the corpus lists each with its reason.
"""
import argparse
import json
import math
import os
import re
import shutil
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor

os.environ["TZ"] = "UTC"  # PySpark turns timestamps into naive datetimes in the process's zone
time.tzset()

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import run_spark as rs  # noqa: E402
from pyspark.sql import SparkSession  # noqa: E402
from pyspark.sql import types as T  # noqa: E402
from pyspark.errors import PySparkException  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
CORPUS = os.path.join(ROOT, "scenarios", "functions", "spark-docs")

# Results that depend on the clock, the session or chance: Spark's value cannot be expected.
VOLATILE = {"current_date", "current_timestamp", "now", "localtimestamp", "curdate", "current_time",
            "unix_timestamp", "uuid", "rand", "randn", "random", "shuffle", "randstr", "uniform",
            "monotonically_increasing_id", "spark_partition_id", "input_file_name", "input_file_block_start",
            "input_file_block_length", "version", "current_user", "user", "session_user", "current_database",
            "current_schema", "current_catalog", "reflect", "java_method", "try_reflect"}

OPERATOR_WORDS = {"!": "bang", "%": "percent", "&": "amp", "*": "star", "+": "plus", "-": "minus", "/": "slash",
                  "<": "lt", "=": "eq", ">": "gt", "^": "caret", "|": "pipe", "~": "tilde"}


def file_stem(name):
    """A function name as a file name: operators spelled out (`<=>` is `lt-eq-gt`)."""
    if re.fullmatch(r"[A-Za-z0-9_]+", name):
        return name
    return "-".join(OPERATOR_WORDS.get(c, f"x{ord(c):x}") for c in name)


def examples_of(text):
    """The example queries of an ExpressionInfo's examples text: `> QUERY;` lines, as Spark's
    own ExpressionInfoSuite reads them (a query is one line)."""
    out = []
    for line in (text or "").split("\n"):
        s = line.strip()
        if s.startswith("> ") and s.endswith(";"):
            out.append(s[2:-1].strip())
    return out


def top_level(sql):
    """Yields (index, char) of `sql` outside quotes, comments and parentheses."""
    depth, i, n = 0, 0, len(sql)
    while i < n:
        c = sql[i]
        if c in "'\"`":
            j = i + 1
            while j < n and sql[j] != c:
                j += 2 if sql[j] == "\\" else 1
            i = j + 1
            continue
        if c in "([{":
            depth += 1
        elif c in ")]}":
            depth -= 1
        elif depth == 0:
            yield i, c
        i += 1


def find_keyword(sql, word, start=0):
    """The index of keyword `word` at the top level of `sql` (not inside parentheses or quotes)."""
    pattern = re.compile(r"\b" + word + r"\b", re.I)
    tops = {i for i, _ in top_level(sql)}
    for m in pattern.finditer(sql, start):
        if m.start() in tops:
            return m.start()
    return -1


def split_items(select_list):
    """The comma-separated items of a select list, split at the top level."""
    cuts = [i for i, c in top_level(select_list) if c == ","]
    parts, last = [], 0
    for c in cuts:
        parts.append(select_list[last:c].strip())
        last = c + 1
    parts.append(select_list[last:].strip())
    return parts


def has_alias(item):
    return find_keyword(item, "AS") >= 0


def aliased(items):
    if len(items) == 1:
        return [items[0] if has_alias(items[0]) else f"{items[0]} AS v"]
    return [it if has_alias(it) else f"{it} AS v{k + 1}" for k, it in enumerate(items)]


VALUES_FROM = re.compile(r"FROM\s+VALUES\s*(?P<rows>.+?)\s+(?:AS\s+)?(?P<alias>[A-Za-z_]\w*)\s*\((?P<cols>[^()]*)\)(?P<rest>.*)$",
                         re.I | re.S)


def plan(example):
    """(kind, select items, source spec or None, rest) of an example, or a reason to skip it."""
    m = re.match(r"SELECT\s+(.*)$", example, re.I | re.S)
    if not m:
        return None, "not a SELECT"
    body = m.group(1)
    at = find_keyword(body, "FROM")
    if at < 0:
        for word in ("WHERE", "GROUP", "ORDER", "LIMIT", "HAVING", "WINDOW"):
            if find_keyword(body, word) >= 0:
                return None, f"a {word} clause without FROM"
        return ("scalar", split_items(body), None, ""), None
    vm = VALUES_FROM.match(body[at:])
    if not vm or not re.match(r"\s*\(", vm.group("rows")):
        return None, "reads a relation other than FROM VALUES (...) AS t(cols)"
    # The alias must close the VALUES list: the rows' parentheses are balanced.
    rows = vm.group("rows")
    if rows.count("(") != rows.count(")") or find_keyword(rows, "AS") >= 0 and not re.search(r"\)\s*$", rows):
        return None, "VALUES rows this tool cannot delimit"
    items = split_items(body[:at])
    return ("values", items, {"rows": rows, "alias": vm.group("alias"), "cols": vm.group("cols")}, vm.group("rest")), None


def scenario_type(t):
    """A Spark type as a scenario column type, or None when the format cannot hold it."""
    simple = {T.StringType: "string", T.IntegerType: "int", T.LongType: "bigint", T.DoubleType: "double",
              T.BooleanType: "boolean", T.TimestampType: "timestamp"}
    for cls, name in simple.items():
        if type(t) is cls:
            return name
    if holdable(t) and not isinstance(t, T.NullType):
        return t.simpleString()
    return None


def holdable(t):
    """Whether a result of Spark type `t` can be written in the runner document (FORMAT.md and the
    README: numbers, strings, booleans, timestamps, dates, binary as base64, arrays, structs, maps)."""
    if isinstance(t, (T.ByteType, T.ShortType, T.IntegerType, T.LongType, T.FloatType, T.DoubleType, T.DecimalType,
                      T.StringType, T.BooleanType, T.TimestampType, T.TimestampNTZType, T.DateType, T.BinaryType,
                      T.NullType)):
        return True
    if isinstance(t, T.ArrayType):
        return holdable(t.elementType)
    if isinstance(t, T.MapType):
        return holdable(t.keyType) and holdable(t.valueType)
    if isinstance(t, T.StructType):
        return all(holdable(f.dataType) for f in t.fields)
    return False


def json_value(v):
    """rs.to_json, with NaN and the infinities written as the engine writes them."""
    v = rs.to_json(v)
    if isinstance(v, float) and (math.isnan(v) or math.isinf(v)):
        return "NaN" if math.isnan(v) else ("Infinity" if v > 0 else "-Infinity")
    if isinstance(v, list):
        return [json_value(x) for x in v]
    if isinstance(v, dict):
        return {k: json_value(x) for k, x in v.items()}
    return v


def clean(doc):
    """The harness's document with NaN and infinities as strings (JSON has no such numbers)."""
    if isinstance(doc, float) and (math.isnan(doc) or math.isinf(doc)):
        return json_value(doc)
    if isinstance(doc, list):
        return [clean(x) for x in doc]
    if isinstance(doc, dict):
        return {k: clean(x) for k, x in doc.items()}
    return doc


def first_line(exc):
    return next((line.strip() for line in str(exc).split("\n") if line.strip()), "")[:200]


def build(session, name, example):
    """(scenario, None) for an example that fits a streaming query, or (None, reason)."""
    if name in VOLATILE:
        return None, "its result depends on the clock, the session or chance"
    if name == "mode" and re.search(r",\s*false\s*\)", example, re.I):
        return None, "Spark's mode(x, false) gives any of the tied values (its hash map's order)"
    p, reason = plan(example)
    if p is None:
        return None, reason
    kind, items, values, rest = p
    try:
        batch = session.sql(example)
        if not batch._jdf.queryExecution().analyzed().deterministic():
            return None, "not deterministic"
        bad = [f"{f.name}: {f.dataType.simpleString()}" for f in batch.schema.fields if not holdable(f.dataType)]
        if bad:
            return None, f"result type the scenario format cannot hold ({', '.join(bad)})"
        batch.collect()
    except PySparkException as e:
        return None, f"Spark errors on it: {first_line(e)}"
    except Exception as e:  # a Python-side conversion Spark's value does not survive
        return None, f"Spark's value does not convert: {first_line(e)}"
    select = ", ".join(aliased(items))
    if kind == "scalar":
        return {"version": 1, "name": "", "sources": {"one": {"schema": [["id", "int"]]}},
                "query": f"SELECT {select} FROM STREAM one", "output_mode": "append",
                "steps": [{"add": "one", "rows": [[1]]}, {"run": {}}]}, None
    alias = values["alias"]
    try:
        src = session.sql(f"SELECT * FROM VALUES {values['rows']} AS {alias}({values['cols']})")
        schema = []
        for f in src.schema.fields:
            ty = scenario_type(f.dataType)
            if ty is None:
                return None, f"a VALUES column the scenario format cannot hold ({f.name}: {f.dataType.simpleString()})"
            schema.append([f.name, ty])
        rows = [[json_value(x) for x in r] for r in src.collect()]
    except PySparkException as e:
        return None, f"its VALUES do not stand alone: {first_line(e)}"
    return {"version": 1, "name": "", "sources": {alias: {"schema": schema}},
            "query": f"SELECT {select} FROM STREAM {alias}{rest}", "output_mode": "complete",
            "steps": [{"add": alias, "rows": rows}, {"run": {}}]}, None


def stream(session, scenario):
    """Spark's runner document for a scenario; a VALUES query that is no aggregate runs in append."""
    for mode in ([scenario["output_mode"]] + (["append"] if scenario["output_mode"] == "complete" else [])):
        scenario["output_mode"] = mode
        workdir = tempfile.mkdtemp(prefix="unbounded-docs-")
        try:
            doc = rs.run(session, scenario, workdir)
        finally:
            shutil.rmtree(workdir, ignore_errors=True)
            for t in session.catalog.listTables():
                session.catalog.dropTempView(t.name)
        if "error" in doc and doc["error"].get("kind") == "unsupported_output_mode" and mode == "complete":
            continue
        return doc
    return doc


def main(argv):
    ap = argparse.ArgumentParser()
    ap.add_argument("--jobs", type=int, default=3)
    ap.add_argument("--only", default="")
    args = ap.parse_args(argv)
    spark = (SparkSession.builder.master("local[2]").appName("unbounded-function-docs")
             .config("spark.sql.session.timeZone", "UTC").config("spark.sql.shuffle.partitions", "1")
             .config("spark.ui.enabled", "false").config("spark.ui.showConsoleProgress", "false")
             .config("spark.sql.streaming.noDataProgressEventInterval", "1000000s").getOrCreate())
    spark.sparkContext.setLogLevel("OFF")
    registry = spark._jvm.org.apache.spark.sql.catalyst.analysis.FunctionRegistry.expressions()
    names = sorted({f.name for f in spark.catalog.listFunctions()})
    if args.only:
        names = [n for n in names if n in args.only.split(",")]
    work = []  # (family, name, index, example)
    documented = {}  # family -> function names with examples
    no_examples = []
    for name in names:
        entry = registry.get(name)
        if entry.isEmpty():
            no_examples.append((name, "not in Spark's function registry (a table-valued or external function)"))
            continue
        info = entry.get()._1()
        family = info.getGroup() or "misc_funcs"
        exs = examples_of(info.getExamples())
        if not exs:
            no_examples.append((name, "no documented example"))
            continue
        documented.setdefault(family, []).append(name)
        for k, ex in enumerate(exs):
            work.append((family, name, k + 1, ex))
    print(f"{len(names)} functions, {len(work)} examples", file=sys.stderr)

    local = threading.local()
    done = [0]
    lock = threading.Lock()

    def one(item):
        family, name, k, ex = item
        if not hasattr(local, "session"):
            local.session = spark.newSession()
            local.session.conf.set("spark.sql.session.timeZone", "UTC")
        scenario, reason = build(local.session, name, ex)
        doc = None
        if scenario is not None:
            scenario["name"] = f"{file_stem(name)}-{k}"
            scenario["description"] = f"Spark 4.3's documented example {k} of `{name}` ({family}): {ex};"
            doc = stream(local.session, scenario)
            if "error" in doc:
                reason, scenario = f"Spark refuses it as a streaming query: {doc['error']['message'][:200]}", None
            else:
                doc = clean(doc)
        with lock:
            done[0] += 1
            if done[0] % 50 == 0:
                print(f"{done[0]}/{len(work)}", file=sys.stderr)
        return item, scenario, doc, reason

    with ThreadPoolExecutor(max_workers=args.jobs) as pool:
        results = list(pool.map(one, work))

    if not args.only:  # a fresh corpus; PASSING.txt (the Rust test's list) stays
        for entry in os.scandir(CORPUS) if os.path.isdir(CORPUS) else []:
            if entry.is_dir():
                shutil.rmtree(entry.path)
    kept, skipped = {}, []
    for (family, name, k, ex), scenario, doc, reason in results:
        if scenario is None:
            skipped.append((family, name, ex, reason))
            continue
        d = os.path.join(CORPUS, family)
        os.makedirs(d, exist_ok=True)
        stem = os.path.join(d, scenario["name"])
        # The scenario's `name` is what the runner prints; the expected document has it too.
        doc["name"] = scenario["name"]
        with open(stem + ".json", "w") as f:
            f.write(json.dumps(scenario, ensure_ascii=False) + "\n")
        with open(stem + ".expected.json", "w") as f:
            f.write(json.dumps(doc, ensure_ascii=False) + "\n")
        kept.setdefault(family, set()).add(name)
    if args.only:
        return
    with open(os.path.join(CORPUS, "SUMMARY.md"), "w") as f:
        f.write("# Spark 4.3's documented function examples as streaming scenarios\n\n")
        f.write("Generated by `tests/spark/function_examples.py`; do not edit.\n\n")
        f.write(f"{len(names)} built-in functions; {sum(len(v) for v in documented.values())} have examples; "
                f"{len(work)} examples, {len(work) - len(skipped)} kept as scenarios, {len(skipped)} skipped.\n\n")
        f.write("| family | functions with examples | functions with a kept example | examples kept |\n|---|---|---|---|\n")
        per = {}
        for (family, _, _, _), scenario, _, _ in results:
            per.setdefault(family, [0, 0])
            per[family][0] += 1
            per[family][1] += scenario is not None
        for family in sorted(documented):
            f.write(f"| {family} | {len(documented[family])} | {len(kept.get(family, ()))} | {per[family][1]} of {per[family][0]} |\n")
        f.write("\n## Skipped examples\n\n| family | function | example | reason |\n|---|---|---|---|\n")
        for family, name, ex, reason in sorted(skipped):
            cell = (ex.replace("|", "\\|"))[:160]
            f.write(f"| {family} | `{name}` | `{cell}` | {reason.replace('|', '/')} |\n")
        f.write("\n## Functions without a usable example\n\n")
        for name, reason in no_examples:
            f.write(f"- `{name}`: {reason}\n")
    print(f"kept {len(work) - len(skipped)}, skipped {len(skipped)}", file=sys.stderr)
    spark.stop()


if __name__ == "__main__":
    main(sys.argv[1:])
