// End-to-end tests of pipeline mode: the medallion pipeline example's graph, update by update
// against the output Spark's `spark-pipelines` gave for its file; a full refresh of one node, a
// broken flow that recovers, a lost hop checkpoint that duplicates downstream, the event log; a
// gallery example with expectations (Databricks-only) opened from the gallery.
// Usage: node e2e/pipelines.mjs URL SCREENSHOT_DIR
import { readFileSync } from "node:fs";
import { expect, shots, suite, url } from "./harness.mjs";

const { test, finish } = suite("pipelines");

const expected = JSON.parse(readFileSync(new URL("../tests/scenarios/pipelines/medallion-trucks.expected.json", import.meta.url), "utf8"));

async function openPipeline(page) {
  await page.goto(`${url}?storage=memory&example=medallion-pipeline`);
  await page.locator("#pipeline-graph").waitFor();
}

const rows = (page, name) => page.locator(`#node-${name}`).getAttribute("data-rows").then(Number);

// How many updates the status line says have run.
const updatesShown = (page) =>
  page.locator("#pipeline-status").innerText().then((t) => Number((t.match(/^(\d+) updates? run/) || [])[1]));

async function updatesRun(page, n) {
  await page.waitForFunction((n) => new RegExp(`^${n} updates? run`).test(document.querySelector("#pipeline-status")?.textContent ?? ""), n);
}

// Every node's row count against one run of the expected file.
async function checkRun(page, run) {
  for (const [table, want] of Object.entries(run.tables)) {
    const got = await rows(page, table);
    expect(got === want.length, `${table} after step ${run.step}: ${got} rows, Spark had ${want.length}`);
  }
}

await test("the-medallion-pipeline-runs-update-by-update-as-spark-ran-it", async (page) => {
  await page.setViewportSize({ width: 1280, height: 900 });
  await openPipeline(page);
  expect((await page.locator("#pipeline-sql").innerText()).includes("CREATE STREAMING TABLE bronze"), "the pipeline's SQL is shown");
  expect((await page.locator(".pipeline-node").count()) === 6, "two inputs and four datasets");
  expect((await page.locator(".flow-edge").count()) >= 5, "the flows are arrows");
  // Left to right: the source before bronze before silver before gold.
  const x = (n) => page.locator(`#node-${n}`).boundingBox().then((b) => b.x);
  expect((await x("truck_events")) < (await x("bronze")) && (await x("bronze")) < (await x("silver")) && (await x("silver")) < (await x("gold")),
    "laid out bronze -> silver -> gold");
  for (let k = 0; k < expected.runs.length; k++) {
    await page.locator("#pipeline-run").click();
    await updatesRun(page, k + 1);
    await checkRun(page, expected.runs[k]);
  }
  await page.screenshot({ path: `${shots}/30-pipeline-graph.png`, fullPage: true });
  // The event log: an update's start and end, each flow's progress.
  const log = await page.locator("#event-log tbody").innerText();
  expect(log.includes("create_update") && log.includes("flow_progress") && log.includes("COMPLETED"), log.slice(0, 400));
  await page.locator("#log-run").click();
  await page.locator("#log-result").waitFor();
  const answer = await page.locator("#log-result tbody").innerText();
  expect(answer.includes("flow_progress") && answer.includes("create_update"), answer);
});

await test("a-node-shows-its-table-and-a-full-refresh-rebuilds-it", async (page) => {
  await page.setViewportSize({ width: 1280, height: 900 });
  await openPipeline(page);
  await page.locator("#pipeline-run").click();
  await updatesRun(page, 1);
  await page.locator("#pipeline-run").click();
  await updatesRun(page, 2);
  await page.locator("#node-silver").click();
  await page.waitForFunction(() => document.querySelector("#pipeline-refresh")?.textContent.includes("silver"));
  expect((await page.locator("#pipeline-rows tbody tr").count()) === 2, "silver's two rows");
  await page.locator("#pipeline-refresh").click();
  await updatesRun(page, 3);
  const versions = await page.locator("#pipeline-versions tbody").innerText();
  expect(versions.includes("TRUNCATE") && (await rows(page, "silver")) === 2, `silver rebuilt from bronze: ${versions}`);
  // Downstream streaming gold is left as it was; the materialized view is not recomputed either.
  await page.screenshot({ path: `${shots}/31-pipeline-full-refresh.png`, fullPage: true });
});

await test("a-broken-flow-recovers-and-a-lost-checkpoint-duplicates-downstream", async (page) => {
  await page.setViewportSize({ width: 1280, height: 900 });
  await openPipeline(page);
  await page.locator("#node-silver").click();
  await page.waitForFunction(() => document.querySelector("#pipeline-flow")?.value === "silver");
  await page.locator("#pipeline-break").click();
  await page.waitForFunction(() => document.querySelector("#pipeline-status")?.textContent.includes("crash armed: after_sink_write in silver"));
  await page.locator("#pipeline-run").click();
  await updatesRun(page, 1);
  await checkRun(page, expected.runs[0]);
  expect((await page.locator(".flow-info").innerText()).includes("recovered from a crash"), await page.locator(".flow-info").innerText());
  expect((await page.locator("#event-log tbody").innerText()).includes("inject_failure"), "the crash is in the event log");
  await page.locator("#pipeline-lose").click();
  await page.locator("#notice").waitFor();
  await page.locator("#pipeline-run").click();
  await updatesRun(page, 2);
  // Silver reads all of bronze again: its first row twice, plus the new one.
  const [bronze, silver] = [await rows(page, "bronze"), await rows(page, "silver")];
  expect(bronze === 2 && silver === 3, `bronze ${bronze}, silver ${silver}: the lost checkpoint duplicates downstream`);
  expect((await page.locator(".flow-info").innerText()).includes("_checkpoints/silver/silver/1"), "a new checkpoint directory");
  await page.screenshot({ path: `${shots}/32-pipeline-lost-checkpoint.png`, fullPage: true });
});

await test("the-gallery-opens-the-expectations-example-and-silver-drops-the-broken-reading", async (page) => {
  // Databricks-only SQL (expectations); the counts are the engine runner's, checked against Databricks' documentation.
  await page.setViewportSize({ width: 1280, height: 900 });
  await page.goto(`${url}?storage=memory`);
  await page.locator("#gallery summary").click();
  await page.locator("#example-pipeline-expectations-drop").click();
  await page.locator("#pipeline-graph").waitFor();
  await page.locator("#pipeline-run").click();
  await updatesRun(page, 1);
  const [bronze, silver] = [await rows(page, "bronze"), await rows(page, "silver")];
  expect(bronze === 3 && silver === 2, `bronze ${bronze}, silver ${silver}: the -99 reading is dropped from silver only`);
});

// A pipeline session is saved as its file and the actions applied to it: a reload (even one that
// lands while an update runs) comes back to the tables as they were after the last saved action,
// never half an update, and goes on from there as the uninterrupted run did.
await test("a-reload-mid-update-resumes-the-pipeline-and-it-goes-on-as-spark-ran-it", async (page) => {
  await page.setViewportSize({ width: 1280, height: 900 });
  await page.goto(`${url}?example=medallion-pipeline`);
  await page.locator("#pipeline-graph").waitFor();
  await page.locator("#pipeline-run").click();
  await updatesRun(page, 1);
  await checkRun(page, expected.runs[0]);
  await page.locator("#node-silver").click();
  // The second update is asked for and the page reloads at once: it is saved whole or not at all.
  await page.locator("#pipeline-run").click();
  await page.reload();
  await page.locator("#pipeline-graph").waitFor();
  const notice = await page.locator("#notice").innerText();
  expect(/resumed after a reload/.test(notice), notice);
  const done = await updatesShown(page);
  expect(done === 1 || done === 2, `after the reload: ${done} updates`);
  await checkRun(page, expected.runs[done - 1]);
  expect((await page.locator("#node-silver").getAttribute("class")).includes("selected"), "the node shown before the reload is shown again");
  await page.screenshot({ path: `${shots}/33-pipeline-after-reload.png`, fullPage: true });
  for (let k = done; k < expected.runs.length; k++) {
    await page.locator("#pipeline-run").click();
    await updatesRun(page, k + 1);
    await checkRun(page, expected.runs[k]);
  }
  // A reload after the last update: the same tables, and the event log of every update.
  await page.reload();
  await page.locator("#pipeline-graph").waitFor();
  await updatesRun(page, expected.runs.length);
  await checkRun(page, expected.runs[expected.runs.length - 1]);
  const log = await page.locator("#event-log tbody").innerText();
  expect(log.includes("create_update") && log.includes("COMPLETED"), log.slice(0, 400));
  // Opening a query example leaves pipeline mode for good: a reload opens that example.
  await page.locator("#gallery summary").click();
  await page.locator("#example-tumbling-append").click();
  await page.locator("#output").waitFor();
  await page.reload();
  await page.locator("#output").waitFor();
  expect((await page.locator("#pipeline-graph").count()) === 0, "no pipeline after the query example");
});

await finish();
