#!/usr/bin/env python3
"""Checks that "Copy as PySpark" of a pipeline reproduces Spark's reference: exports each
version 2 scenario given (`unbounded pyspark`), runs the script (make_pipeline.py) in a new
folder, reads every dataset back from its catalog after each update, and compares that with the
scenario's NAME.expected.json (made by run_pipelines.py) by FORMAT.md's rules (`unbounded compare`).

A developer tool, not part of CI (which must not need Spark). Needs PySpark with its pipelines
extra and Java 17 (`pip install 'pyspark[pipelines]==4.3.*'`, `spark-pipelines` on PATH), and
time: every update starts its own Spark Connect server.

    python3 tests/spark/check_pipeline_export.py tests/scenarios/pipelines/medallion-trucks.json [...]

UNBOUNDED_CLI names the CLI to export with (default: target/release/unbounded, built first).
Exit status 0 when every export reproduces its reference; a scenario whose reference is an error
passes when the script fails too.
"""
import json
import os
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, HERE)
from check_export import cli, compare  # noqa: E402
from run_pipelines import describe, graph  # noqa: E402


# Replaces the script's own read-back (it prints each dataset with show()): the same batch read,
# printed as one JSON line with the values formatted as run_pipelines.py formats them.
DUMP = """
import json
sys.path.insert(0, {here!r})
from run_spark import to_json
tables = {{}}
for name in {names!r}:
    spark.sql("REFRESH TABLE " + {db!r} + "." + name)
    df = spark.read.table({db!r} + "." + name)
    tables[name] = {{"columns": df.columns, "rows": [to_json(list(r)) for r in df.collect()]}}
print("UNBOUNDED_TABLES " + json.dumps(tables))
"""


def replay(script, workdir):
    """Runs the script's main() with its read-back job swapped for DUMP; the tables after each
    update, in order."""
    ns = {"__name__": "make_pipeline"}
    exec(compile(script, "make_pipeline.py", "exec"), ns)
    names = [n.strip("`").replace("``", "`") for n in ns["DATASETS"]]
    updates = []
    run_job = ns["spark_job"]

    def spark_job(root, code):
        if "spark.read.table(" not in code:
            return run_job(root, code)
        dump = DUMP.format(here=HERE, names=ns["DATASETS"], db=ns["DATABASE"])
        out = subprocess.run([sys.executable, "-c", ns["SESSION"] + dump, str(root)], check=True, env=ns["ENV"], cwd=root,
                             capture_output=True, text=True).stdout
        line = next(l for l in out.splitlines() if l.startswith("UNBOUNDED_TABLES "))
        got = json.loads(line[len("UNBOUNDED_TABLES "):])
        updates.append({n: got[q] for n, q in zip(names, ns["DATASETS"])})

    ns["spark_job"] = spark_job
    argv = sys.argv
    sys.argv = ["make_pipeline.py", os.path.join(workdir, "project")]
    try:
        ns["main"]()
    finally:
        sys.argv = argv
    return ns["STEPS"], updates


def check(path, workdir):
    with open(path) as f:
        scenario = json.load(f)
    with open(path[: -len(".json")] + ".expected.json") as f:
        expected = json.load(f)
    program = cli("pyspark", path)
    if program.returncode != 0:
        return f"export failed: {program.stderr.strip()}"
    try:
        steps, updates = replay(program.stdout, workdir)
    except (subprocess.CalledProcessError, StopIteration) as e:
        if "error" in expected and not expected.get("runs"):
            return None
        return f"the script failed: {e}"
    if "error" in expected:
        return "Spark's reference is an error, but the script ran"
    run_steps = [i for i, s in enumerate(steps) if s[0] == "run"]
    runs = [{"step": i, "tables": {n: t["rows"] for n, t in u.items()}} for i, u in zip(run_steps, updates)]
    last = updates[-1] if updates else {}
    datasets = graph(scenario["pipeline"])
    actual = {"name": scenario["name"], "datasets": describe(datasets, {n: t["columns"] for n, t in last.items()}), "runs": runs,
              "tables": runs[-1]["tables"] if runs else {}}
    return compare(workdir, ("expected.json", expected), ("export.json", actual))


def main(argv):
    if not argv:
        print(__doc__)
        return 2
    if "UNBOUNDED_CLI" not in os.environ:
        build = subprocess.run(["cargo", "build", "-q", "--locked", "--release", "-p", "unbounded-engine", "--bin", "unbounded"], cwd=ROOT)
        if build.returncode != 0:
            return 2
    failed = 0
    for path in argv:
        start = time.monotonic()
        with tempfile.TemporaryDirectory() as workdir:
            problem = check(os.path.abspath(path), workdir)
        name = os.path.relpath(os.path.abspath(path), ROOT)
        took = f"{time.monotonic() - start:.0f}s"
        if problem is None:
            print(f"ok    {name} ({took})", flush=True)
        else:
            failed += 1
            print(f"FAIL  {name} ({took})\n      " + problem.replace("\n", "\n      "), flush=True)
    print(f"{len(argv) - failed} of {len(argv)} pipeline exports reproduce Spark's reference")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
