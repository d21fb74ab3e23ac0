#!/usr/bin/env python3
"""Checks that "Copy as PySpark" reproduces the session: exports every gallery example (or the
scenario files given), runs each program on Apache Spark with UNBOUNDED_CHECK=1, and compares the
sink it prints with the one the playground's engine ends with (`unbounded compare`, FORMAT.md's
rules).

A developer tool, not part of CI (which must not need Spark). Needs `pip install 'pyspark==4.3.*'`
(Java 17); the program uses Delta Lake when `delta-spark` is importable, a table of its own
otherwise:

    python3 tests/spark/check_export.py                  # every gallery example
    python3 tests/spark/check_export.py tests/scenarios/gallery/watermark-small.json

Exit status 0 when every program's sink equals the session's; a refused example passes when Spark
refuses its program too.
"""
import json
import os
import re
import subprocess
import sys
import tempfile

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
# UNBOUNDED_CLI names another CLI (check_pipeline_export.py says so too).
CLI = os.environ.get("UNBOUNDED_CLI") or os.path.join(ROOT, "target", "release", "unbounded")


def gallery():
    with open(os.path.join(ROOT, "web", "src", "gallery.rs")) as f:
        paths = re.findall(r'scenario!\("([^"]+)"\)', f.read())
    return [os.path.join(ROOT, "tests", "scenarios", p) for p in paths]


def cli(*args):
    return subprocess.run([CLI, *args], capture_output=True, text=True)


def check(path, workdir):
    session = json.loads(cli("run", path).stdout)
    program = cli("pyspark", path)
    if program.returncode != 0:
        return f"export failed: {program.stderr.strip()}"
    script = os.path.join(workdir, "program.py")
    with open(script, "w") as f:
        f.write(program.stdout)
    ran = subprocess.run([sys.executable, script], capture_output=True, text=True, cwd=workdir,
                         env={**os.environ, "UNBOUNDED_CHECK": "1"})
    if "error" in session:
        return None if ran.returncode != 0 else "the session refused the query, but Spark ran the program"
    if ran.returncode != 0:
        return "the program failed:\n" + "\n".join(ran.stderr.strip().splitlines()[-8:])
    line = next((l for l in ran.stdout.splitlines() if l.startswith("UNBOUNDED_SINK ")), None)
    if line is None:
        return "the program printed no UNBOUNDED_SINK line"
    spark = {"name": session["name"], "columns": session["columns"], "sink": json.loads(line[len("UNBOUNDED_SINK "):])}
    ours = {"name": session["name"], "columns": session["columns"], "sink": session["sink"]}
    return compare(workdir, ("spark.json", spark), ("session.json", ours))


def compare(workdir, *named_docs):
    """`unbounded compare` of the documents, each written to workdir under its name: None when
    they agree, else what the CLI said."""
    docs = []
    for name, doc in named_docs:
        p = os.path.join(workdir, name)
        with open(p, "w") as f:
            json.dump(doc, f)
        docs.append(p)
    compared = cli("compare", *docs)
    return None if compared.returncode == 0 else (compared.stdout + compared.stderr).strip()


def main(argv):
    build = subprocess.run(["cargo", "build", "-q", "--release", "-p", "unbounded-engine", "--bin", "unbounded"], cwd=ROOT)
    if build.returncode != 0:
        return 2
    paths = argv or gallery()
    failed = 0
    for path in paths:
        with tempfile.TemporaryDirectory() as workdir:
            problem = check(path, workdir)
        name = os.path.relpath(path, ROOT)
        if problem is None:
            print(f"ok    {name}")
        else:
            failed += 1
            print(f"FAIL  {name}\n      " + problem.replace("\n", "\n      "))
    print(f"{len(paths) - failed} of {len(paths)} exports reproduce the session")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
