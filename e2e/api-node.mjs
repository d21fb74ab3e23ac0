// The JavaScript API (www/unbounded.js) in Node, in the caller's thread: a session from a
// gallery example, from SQL and schemas, its getters and events, exports, and its errors.
// Usage: node e2e/api-node.mjs [DIST]   (DIST: what scripts/build-web.sh built, dist/ by default)
import { pathToFileURL } from "node:url";
import { resolve } from "node:path";
import { readFileSync } from "node:fs";

const dist = resolve(process.argv[2] ?? "dist");
const api = await import(pathToFileURL(`${dist}/www/unbounded.js`).href);
const { Session, UnboundedError, examples, example } = api;

const results = [];
const only = process.env.ONLY;
async function test(name, body) {
  if (only && !name.includes(only)) return;
  try {
    await body();
    results.push([name, null]);
  } catch (e) {
    results.push([name, e]);
  }
}
function expect(cond, message) {
  if (!cond) throw new Error(message);
}
async function rejects(promise, check) {
  try {
    await promise;
  } catch (e) {
    check(e);
    return;
  }
  throw new Error("expected an error");
}
const expected = (path) => JSON.parse(readFileSync(`tests/scenarios/${path}`, "utf8"));
const json = (v) => JSON.stringify(v);

await test("an-example-runs-to-the-gallerys-expected-sink", async () => {
  // The example's scenario replays its steps on open: its sink is Spark's.
  const s = await Session.create({ example: "watermark-small", worker: false });
  const want = expected("gallery/watermark-small.expected.json");
  expect(json(s.columns) === json(want.columns), `columns ${json(s.columns)}`);
  expect(s.sink.total === want.sink.length, `sink has ${s.sink.total} rows, Spark ${want.sink.length}`);
  const key = (r) => json(r);
  expect(json(s.sink.rows.map(key).sort()) === json(want.sink.map(key).sort()), `sink ${json(s.sink.rows)}`);
  expect(s.progress.length > 0 && typeof s.progress[0].batchId === "number", "progress is camelCase per batch");
  expect(s.state.length > 0 && s.state[0].tables.length > 0, `state ${json(s.state)}`);
  expect(Object.keys(s.checkpoint).includes("offsets") && Object.keys(s.checkpoint).includes("commits"), `checkpoint ${json(Object.keys(s.checkpoint))}`);
  expect(s.explain().length > 0, "explain");
  s.close();
});

await test("at-start-opens-at-batch-0-and-steps-run-by-run", async () => {
  // Spark's batches one trigger at a time: the same sink once every queued run has run.
  const s = await Session.create({ example: "watermark-small", worker: false, atStart: true });
  expect(s.sink.total === 0 && s.progress.length === 0, `at batch 0: sink ${s.sink.total}, ${s.progress.length} batches`);
  let steps = 0;
  while (s.position.queuedRuns > 0 && steps < 100) {
    await s.forward();
    steps++;
  }
  expect(steps > 1, `${steps} steps`);
  const total = expected("gallery/watermark-small.expected.json").sink.length;
  expect(s.sink.total === total, `sink ${s.sink.total}`);
  // Back shows the session as it was one run earlier; forward returns to the newest.
  await s.back();
  expect(s.position.shown === s.position.live - 1, `shown ${json(s.position)}`);
  await s.forward();
  expect(s.position.shown === s.position.live && s.sink.total === total, `back at ${json(s.position)}`);
  const again = await Session.create({ example: "watermark-small", worker: false, atStart: true });
  await again.toEnd();
  expect(again.sink.total === total && again.position.queuedRuns === 0, `toEnd: sink ${again.sink.total}`);
  again.close();
  s.close();
});

await test("a-session-from-sql-pushes-steps-and-emits-batches", async () => {
  const s = await Session.create({
    worker: false,
    sql: "SELECT device, temp FROM STREAM readings WHERE temp > 20",
    sources: { readings: { device: "string", temp: "double", ts: "timestamp" } },
    outputMode: "append",
  });
  const seen = [];
  const off = s.on("batch", (b) => seen.push(b));
  let progress = 0;
  s.on("progress", () => progress++);
  await s.push("readings", [["a", 21.5, "2026-01-01 00:00:01"], ["b", 10, "2026-01-01 00:00:02"]]);
  expect(s.sources[0].pending === 2, `pending ${json(s.sources)}`);
  await s.step();
  expect(seen.length === 1 && seen[0].batchId === 0, `batch events ${json(seen)}`);
  expect(json(s.lastBatch.rows) === json([["a", 21.5]]), `last batch rows ${json(s.lastBatch)}`);
  await s.push("readings", [["c", 30, "2026-01-01 00:00:03"]]);
  await s.runAvailable();
  expect(json(s.lastBatch.rows) === json([["c", 30]]), `second batch ${json(s.lastBatch)}`);
  expect(s.sink.total === 2 && s.sink.versions.length === 2, `sink ${json(s.sink)}`);
  expect(progress >= 4, `progress events ${progress}`);
  off();
  await s.push("readings", [["d", 40, "2026-01-01 00:00:04"]]);
  await s.runAvailable();
  expect(seen.length === 2, "an unsubscribed listener hears nothing more");
  s.close();
});

await test("restart-failure-and-lost-checkpoint", async () => {
  const s = await Session.create({ example: "stateless-filter", worker: false });
  const rows = s.sink.total;
  await s.push("readings", [["s-10", 25.0, 30, "2026-01-01 00:01:00"]]);
  await s.injectFailure("after_sink_write");
  await s.runAvailable();
  expect(s.failures.length === 1 && s.failures[0].point === "after_sink_write", `failures ${json(s.failures)}`);
  expect(s.sink.total === rows + 1, `the table is exactly-once over the crash: ${s.sink.total}`);
  await s.restart();
  await s.loseCheckpoint();
  expect(!("commits" in s.checkpoint) || Object.keys(s.checkpoint.commits).length === 0, `a lost checkpoint: ${json(s.checkpoint)}`);
  s.close();
});

await test("export-and-pyspark", async () => {
  const s = await Session.create({ example: "stream-static", worker: false });
  const text = await s.exportScenario();
  const doc = JSON.parse(text);
  expect(doc.version === 1 && doc.query === s.sql, `exported ${text.slice(0, 200)}`);
  const py = await s.toPySpark();
  expect(py.includes("readStream") && py.includes("writeStream"), py.slice(0, 200));
  // The export opens again to the same table.
  const again = await Session.create({ scenario: text, worker: false });
  expect(json(again.sink.rows) === json(s.sink.rows), "the exported session replays to the same sink");
  s.close();
  again.close();
});

await test("a-processing-time-trigger-runs-batches-until-stopped", async () => {
  const s = await Session.create({ example: "stateless-filter", worker: false });
  const before = s.progress.length;
  await s.push("readings", [["s-11", 25.0, 30, "2026-01-01 00:02:00"]]);
  const batch = new Promise((ok) => s.on("batch", ok));
  await s.trigger(100);
  expect(s.playing, "playing");
  const b = await Promise.race([batch, new Promise((_, no) => setTimeout(() => no(new Error("no batch in 5 s")), 5000))]);
  expect(b.batchId >= before, `batch ${json(b)}`);
  await s.trigger(0);
  expect(!s.playing, "stopped");
  s.close();
});

await test("errors-are-errors-with-kind-line-and-column", async () => {
  const s = await Session.create({ example: "stateless-filter", worker: false });
  await rejects(s.setQuery("SELECT device,\n  nope FROM STREAM readings"), (e) => {
    expect(e instanceof Error && e instanceof UnboundedError, `an Error: ${e}`);
    expect(e.kind === "unknown_column" && e.line === 2 && e.column === 3, `kind ${e.kind} at ${e.line}:${e.column}: ${e.message}`);
  });
  // The session is unchanged by a refused request.
  expect(s.sql.startsWith("SELECT device, temp"), s.sql);
  const heard = [];
  s.on("error", (e) => heard.push(e.kind));
  await rejects(s.push("nowhere", [[1]]), (e) => expect(e.kind === "unknown_table" && /nowhere/.test(e.message), e.message));
  await rejects(s.injectFailure("never"), (e) => expect(e.kind === "invalid_input" && /after_sink_write/.test(e.message), e.message));
  await rejects(s.push("readings", "not rows"), (e) => expect(e.kind === "invalid_input", e.message));
  expect(json(heard) === json(["unknown_table", "invalid_input"]), `error events ${json(heard)}`);
  expect(() => s.on("nothing", () => {}), "on() an unknown event throws");
  s.close();
});

await test("a-session-that-cannot-open-says-why", async () => {
  await rejects(Session.create({ scenario: '{\n  "version": 1,\n  oops', worker: false }), (e) => {
    expect(e.kind === "invalid_input" && e.line === 3 && e.column === 3, `${e.kind} ${e.line}:${e.column} ${e.message}`);
  });
  await rejects(Session.create({ example: "medalion", worker: false }), (e) => expect(/no example `medalion`/.test(e.message), e.message));
  await rejects(Session.create({ worker: false }), (e) => expect(e.kind === "invalid_input", e.message));
  await rejects(Session.create({ example: "dedup", storage: { kind: "indexeddb", namespace: "x" }, worker: false }), (e) => expect(/worker/.test(e.message), e.message));
  await rejects(Session.create({ sql: "SELECT 1", sources: { s: 3 }, worker: false }), (e) => expect(/source `s`/.test(e.message), e.message));
});

await test("a-refused-example-opens-showing-its-refusal", async () => {
  const s = await Session.create({ example: "refused", worker: false });
  expect(s.error?.kind === "missing_watermark", `refusal ${s.error}`);
  // Events still go in: the refusal is the query's, no request's.
  await s.push(s.sources[0].name, []);
  s.close();
});

await test("the-gallery-is-listed", async () => {
  const ids = await examples();
  expect(ids.includes("watermark-small") && ids.includes("medallion"), json(ids));
  expect((await example("medallion")).includes('"version"'), "an example's text");
});

let failed = 0;
for (const [name, err] of results) {
  if (err) { failed++; console.log(`FAIL ${name}: ${err.stack ?? err}`); } else console.log(`ok   ${name}`);
}
console.log(`api-node: ${results.length - failed} passed, ${failed} failed`);
process.exit(failed ? 1 : 0);
