#!/usr/bin/env python3
"""Pins what Apache Spark (PySpark 4.3, Java 17) accepts and refuses under its two low-latency
triggers, `trigger(continuous=...)` (continuous processing) and `trigger(realTime=...)`
(Real-Time Mode), over the sources that run without a broker here (rate, a file folder).

A developer tool, not run in CI: the engine's tests cite what it found (tests/spark/TRIGGER-MODES.md).

    python3 tests/spark/pin_trigger_modes.py            # prints one JSON line per case
    python3 tests/spark/pin_trigger_modes.py --out F    # and writes them all to F

Each case builds a streaming DataFrame, starts it with the trigger, output mode and sink given,
waits a few seconds and records: the error `start()` raised, or the error the running query died
with (Spark checks some rules only when it plans the first batch or epoch), or that it ran, with
the rows the memory sink holds and the last progress' keys.
"""
import json
import os
import sys
import tempfile
import time
import traceback

from pyspark.sql import SparkSession
from pyspark.sql import functions as F

WAIT_S = float(os.environ.get("PIN_WAIT_S", "6"))


def session():
    return (SparkSession.builder.master("local[4]").appName("unbounded-trigger-modes")
            .config("spark.sql.session.timeZone", "UTC").config("spark.sql.shuffle.partitions", "2")
            .config("spark.ui.enabled", "false").getOrCreate())


def condition(e):
    get = getattr(e, "getCondition", None) or getattr(e, "getErrorClass", None)
    try:
        return get() if get else None
    except Exception:  # noqa: BLE001
        return None


def first_line(e):
    text = str(e).strip()
    # The condition and its message; the plan dump after it is cut off.
    return text.split("\n")[0][:600]


def attempt(spark, label, build, mode, trigger, sink="memory", wait=WAIT_S):
    name = "q_" + "".join(c if c.isalnum() else "_" for c in label)[:60]
    out = {"case": label, "output_mode": mode, "trigger": trigger, "sink": sink}
    try:
        df = build()
    except Exception as e:  # noqa: BLE001 - recorded, not handled
        out.update(phase="build", error=first_line(e), error_class=type(e).__name__, condition=condition(e))
        return out
    w = df.writeStream.outputMode(mode).trigger(**trigger)
    checkpoint = tempfile.mkdtemp(prefix="pin-ckpt-")
    w = w.option("checkpointLocation", checkpoint)
    if sink == "memory":
        w = w.format("memory").queryName(name)
    elif sink == "console":
        w = w.format("console")
    elif sink == "foreachBatch":
        w = w.foreachBatch(lambda b, i: None)
    elif sink == "foreach":
        w = w.foreach(lambda row: None)
    elif sink == "noop":
        w = w.format("noop")
    try:
        q = w.start()
    except Exception as e:  # noqa: BLE001
        out.update(phase="start", error=first_line(e), error_class=type(e).__name__, condition=condition(e))
        return out
    deadline = time.time() + wait
    while time.time() < deadline and q.isActive:
        time.sleep(0.5)
    exc = q.exception()
    if exc is not None:
        out.update(phase="run", error=first_line(exc), error_class=type(exc).__name__, condition=condition(exc))
    else:
        out["phase"] = "ran"
        p = q.lastProgress
        if p:
            out["progress_keys"] = sorted(p.keys())
            out["progress_sample"] = {k: p.get(k) for k in ("batchId", "numInputRows", "durationMs") if k in p}
    try:
        q.stop()
    except Exception as e:  # noqa: BLE001
        out["stop_error"] = first_line(e)
    # Read after the stop: a continuous query's long-running tasks hold the task slots.
    if sink == "memory" and out["phase"] == "ran":
        try:
            out["rows_in_sink"] = spark.sql(f"SELECT count(*) AS n FROM {name}").collect()[0]["n"]
        except Exception as e:  # noqa: BLE001
            out["rows_in_sink"] = "unreadable: " + first_line(e)
    return out


def main():
    spark = session()
    spark.sparkContext.setLogLevel("ERROR")
    folder = tempfile.mkdtemp(prefix="pin-files-")
    with open(os.path.join(folder, "a.json"), "w") as f:
        f.write('{"k": "a", "n": 1, "ts": "2026-01-01 00:00:01"}\n{"k": "b", "n": 2, "ts": "2026-01-01 00:00:02"}\n')

    def rate():
        return spark.readStream.format("rate").option("rowsPerSecond", 5).option("numPartitions", 1).load()

    def rate2():
        return spark.readStream.format("rate").option("rowsPerSecond", 3).option("numPartitions", 1).load()

    def files():
        return spark.readStream.schema("k STRING, n BIGINT, ts TIMESTAMP").json(folder)

    static = spark.createDataFrame([(0, "even"), (1, "odd")], "parity BIGINT, label STRING")

    queries = {
        "project_filter": lambda: rate().where("value % 2 = 0").selectExpr("value", "timestamp", "value * 10 AS v10"),
        "aggregation": lambda: rate().groupBy((F.col("value") % 3).alias("k")).count(),
        "window_aggregation_watermark": lambda: rate().withWatermark("timestamp", "2 seconds")
        .groupBy(F.window("timestamp", "2 seconds")).count(),
        "dropDuplicates": lambda: rate().dropDuplicates(["value"]),
        "dropDuplicatesWithinWatermark": lambda: rate().withWatermark("timestamp", "2 seconds")
        .dropDuplicatesWithinWatermark(["value"]),
        "stream_stream_join": lambda: rate().alias("a").join(rate2().alias("b"), F.expr("a.value = b.value"))
        .selectExpr("a.value", "a.timestamp", "b.timestamp AS ts_b"),
        "session_window": lambda: rate().withWatermark("timestamp", "2 seconds")
        .groupBy(F.session_window("timestamp", "2 seconds")).count(),
        "stream_static_join": lambda: rate().withColumn("parity", F.col("value") % 2).join(static, "parity"),
        "current_timestamp": lambda: rate().selectExpr("value", "current_timestamp() AS now"),
        "union": lambda: rate().select("value").union(rate2().select("value")),
        "sort": lambda: rate().groupBy((F.col("value") % 3).alias("k")).count().orderBy("k"),
    }

    cases = []
    # Continuous processing over the rate source (it has a continuous reader).
    for q in queries:
        mode = "complete" if q in ("aggregation", "sort") else "append"
        cases.append((f"continuous/{q}", queries[q], mode, {"continuous": "1 second"}, "memory"))
    for mode in ("append", "update", "complete"):
        cases.append((f"continuous/project_filter/{mode}", queries["project_filter"], mode, {"continuous": "1 second"}, "memory"))
    cases.append(("continuous/aggregation/update", queries["aggregation"], "update", {"continuous": "1 second"}, "memory"))
    for sink in ("console", "foreachBatch", "foreach", "noop"):
        cases.append((f"continuous/project_filter/sink={sink}", queries["project_filter"], "append", {"continuous": "1 second"}, sink))
    cases.append(("continuous/files/project", lambda: files().where("n > 0"), "append", {"continuous": "1 second"}, "memory"))
    cases.append(("continuous/rate-micro-batch", lambda: spark.readStream.format("rate-micro-batch")
                  .option("rowsPerBatch", 5).load(), "append", {"continuous": "1 second"}, "memory"))
    cases.append(("continuous/interval=0", queries["project_filter"], "append", {"continuous": "0 seconds"}, "memory"))

    # Real-Time Mode: rate and files (Kafka needs a broker and the spark-sql-kafka jar).
    for q in ("project_filter", "aggregation", "stream_stream_join", "session_window", "dropDuplicates"):
        cases.append((f"realTime/{q}/update", queries[q], "update", {"realTime": "5 seconds"}, "memory"))
    for mode in ("append", "update", "complete"):
        cases.append((f"realTime/project_filter/{mode}", queries["project_filter"], mode, {"realTime": "5 seconds"}, "memory"))
    for sink in ("console", "foreachBatch", "foreach", "noop"):
        cases.append((f"realTime/project_filter/sink={sink}", queries["project_filter"], "update", {"realTime": "5 seconds"}, sink))
    cases.append(("realTime/files/project/update", lambda: files().where("n > 0"), "update", {"realTime": "5 seconds"}, "memory"))
    cases.append(("realTime/files/project/append", lambda: files().where("n > 0"), "append", {"realTime": "5 seconds"}, "memory"))
    # The sink allowlist is checked first (at start()): the same cases over the console sink,
    # which Real-Time Mode allows, reach the later checks.
    for q in ("project_filter", "aggregation", "stream_stream_join", "session_window", "dropDuplicates", "union"):
        for mode in ("update", "append", "complete"):
            cases.append((f"realTime/console/{q}/{mode}", queries[q], mode, {"realTime": "5 seconds"}, "console"))
    cases.append(("realTime/console/files/update", lambda: files().where("n > 0"), "update", {"realTime": "5 seconds"}, "console"))
    for interval in ("1 second", "100 milliseconds"):
        cases.append((f"realTime/console/interval={interval}", queries["project_filter"], "update", {"realTime": interval}, "console"))
    for interval in ("1 second", "100 milliseconds", "0 seconds"):
        cases.append((f"realTime/project_filter/interval={interval}", queries["project_filter"], "update",
                      {"realTime": interval}, "memory"))

    only = sys.argv[sys.argv.index("--only") + 1] if "--only" in sys.argv else None
    results = []
    for label, build, mode, trigger, sink in cases:
        if only and only not in label:
            continue
        try:
            r = attempt(spark, label, build, mode, trigger, sink)
        except Exception:  # noqa: BLE001
            r = {"case": label, "phase": "harness", "error": traceback.format_exc().splitlines()[-1]}
        print(json.dumps(r), flush=True)
        results.append(r)
    # Both triggers, through pyspark's own argument checks.
    for kwargs in ({"continuous": "1 second", "realTime": "5 seconds"}, {"realTime": ""}, {"continuous": ""}):
        try:
            rate().writeStream.trigger(**kwargs)
            r = {"case": f"trigger({kwargs})", "phase": "accepted"}
        except Exception as e:  # noqa: BLE001
            r = {"case": f"trigger({kwargs})", "phase": "trigger", "error": first_line(e), "error_class": type(e).__name__}
        print(json.dumps(r), flush=True)
        results.append(r)
    if "--out" in sys.argv:
        with open(sys.argv[sys.argv.index("--out") + 1], "w") as f:
            json.dump(results, f, indent=1)
    spark.stop()


if __name__ == "__main__":
    main()
