// End-to-end tests of the playground as a teacher: the scrubber steps gallery examples from
// batch 0 and back, checked against the output Spark gave for their scenarios; "why is this row
// here?" for an output row, a late row and a dropped duplicate.
// Usage: node e2e/scrubber.mjs URL SCREENSHOT_DIR
import { readFileSync } from "node:fs";
import { expect, shots, suite, url } from "./harness.mjs";

const { test, finish } = suite("scrubber");

const expected = (path) => JSON.parse(readFileSync(new URL(`../tests/scenarios/${path}`, import.meta.url), "utf8"));
const scenario = (path) => JSON.parse(readFileSync(new URL(`../tests/scenarios/${path}`, import.meta.url), "utf8"));

async function openExample(page, id) {
  await page.goto(`${url}?storage=memory&example=${id}`);
  await page.locator("#sql").waitFor();
  await page.waitForFunction(() => document.querySelector("#scrub-position")?.textContent.startsWith("Batch 0"));
}

// The progress table, oldest batch first: {batch, in, out, watermark, state, late}.
const progress = (page) => page.locator("#progress tbody tr").evaluateAll((rows) => rows.map((r) => {
  const c = [...r.querySelectorAll("td")].map((td) => td.innerText);
  return { batch: Number(c[0]), out: Number(c[2]), watermark: c[3], state: Number(c[4]), late: Number(c[5]) };
}).reverse());

// The output table's rows as arrays of cell text.
const output = (page) => page.locator("#output tbody.rows tr")
  .evaluateAll((rows) => rows.map((r) => [...r.querySelectorAll("td:not(.change)")].map((td) => td.innerText)));

// Whether a row Spark wrote is the page's row of cells.
function sameRow(cells, row) {
  return cells.length === row.length && row.every((v, k) => {
    if (v === null) return cells[k] === "NULL";
    if (typeof v === "object" && "start" in v) return cells[k] === `[${v.start}, ${v.end})`;
    if (typeof v === "number") return Number(cells[k]) === v;
    return cells[k] === String(v);
  });
}

const position = (page) => page.locator("#scrub-position").innerText();

async function waitPosition(page, n) {
  await page.waitForFunction((n) => {
    const t = document.querySelector("#scrub-position")?.textContent ?? "";
    return n === 0 ? t.startsWith("Batch 0") : t.startsWith(`Run ${n} of`);
  }, n);
}

// Steps an example from batch 0 to its end and back, checking what the page shows at each run
// against the scenario's expected output.
async function stepThrough(page, id, path) {
  await openExample(page, id);
  const want = expected(path.replace(/\.json$/, ".expected.json"));
  const steps = scenario(path).steps;
  const runSteps = steps.map((s, i) => ("run" in s ? i : -1)).filter((i) => i >= 0);
  expect((await output(page)).length === 0 && (await progress(page)).length === 0, `${id}: nothing has run at batch 0`);
  const seen = [];
  for (let n = 0; n < runSteps.length; n++) {
    await page.locator("#scrub-forward").click();
    await waitPosition(page, n + 1);
    const run = want.runs.find((r) => r.step === runSteps[n]);
    const batches = await progress(page);
    const mine = batches.slice(batches.length - (run ? run.batches.length : 0));
    for (const [k, b] of (run ? run.batches : []).entries()) {
      const got = mine[k];
      expect(got && got.batch === b.batch_id && got.watermark === (b.watermark ?? "none") && got.late === b.dropped_late
        && (b.state_rows === undefined || got.state === b.state_rows) && got.out === b.rows.length,
        `${id}: run ${n + 1}, batch ${b.batch_id}: the page shows ${JSON.stringify(got)}, Spark ${JSON.stringify({ ...b, rows: b.rows.length })}`);
    }
    // Every row the run's last batch emitted is in the sink shown: nothing later changed it yet.
    const rows = await output(page);
    for (const row of run ? run.batches.at(-1).rows : []) {
      expect(rows.some((c) => sameRow(c, row)), `${id}: run ${n + 1}: the row ${JSON.stringify(row)} in ${JSON.stringify(rows)}`);
    }
    seen.push({ batches, rows: await output(page), pos: await position(page) });
  }
  const end = await output(page);
  expect(end.length === want.sink.length && want.sink.every((r) => end.some((c) => sameRow(c, r))),
    `${id}: the table at the end is Spark's: ${JSON.stringify(end)} vs ${JSON.stringify(want.sink)}`);
  // Back, run by run: the engine as it was at each position.
  for (let n = runSteps.length - 1; n >= 1; n--) {
    await page.locator("#scrub-back").click();
    await waitPosition(page, n);
    const was = seen[n - 1];
    expect(JSON.stringify(await progress(page)) === JSON.stringify(was.batches), `${id}: back at run ${n}, the batches as they were`);
    expect(JSON.stringify(await output(page)) === JSON.stringify(was.rows), `${id}: back at run ${n}, the sink as it was`);
    expect((await page.locator("#scrub-past").count()) === 1, `${id}: the page says it shows the past`);
  }
  await page.locator("#scrub-back").click();
  await waitPosition(page, 0);
  expect((await output(page)).length === 0, `${id}: back at batch 0, the sink is empty`);
}

await test("steps-three-gallery-examples-from-batch-0-and-back", async (page) => {
  await stepThrough(page, "watermark-small", "gallery/watermark-small.json");
  await page.setViewportSize({ width: 360, height: 800 });
  await page.locator("#scrub-forward").click();
  await page.locator("#scrub-forward").click();
  await waitPosition(page, 2);
  await page.screenshot({ path: `${shots}/20-scrubber-360.png`, fullPage: false });
  await page.setViewportSize({ width: 1280, height: 860 });
  await stepThrough(page, "tumbling-update", "stateful/tumbling-update-watermark.json");
  await page.setViewportSize({ width: 720, height: 900 });
  await page.screenshot({ path: `${shots}/20-scrubber-720.png`, fullPage: false });
  await page.setViewportSize({ width: 1280, height: 860 });
  await stepThrough(page, "sessions-complete", "stateful/session-complete.json");
  await page.screenshot({ path: `${shots}/20-scrubber-1280.png`, fullPage: false });
});

await test("run-to-the-end-and-re-running-keep-the-batching", async (page) => {
  await openExample(page, "watermark-small");
  const late = async () => (await progress(page)).reduce((a, b) => a + b.late, 0);
  await page.locator("#scrub-end").click();
  await waitPosition(page, 5);
  expect((await late()) === 2, `the two stragglers are dropped: ${await late()}`);
  // Start query again (the issue: it read every event as one batch): back at batch 0, queued.
  await page.locator("#start").click();
  await waitPosition(page, 0);
  expect((await page.locator("#schema").innerText()).includes("10 queued"), await page.locator("#schema").innerText());
  await page.locator("#scrub-end").click();
  await waitPosition(page, 5);
  expect((await late()) === 2 && (await progress(page)).length === 10, `the same ten batches, the same two late rows: ${await late()}`);
});

await test("why-is-this-row-here-a-window-a-late-row-a-duplicate", async (page) => {
  await openExample(page, "watermark-small");
  await page.locator("#scrub-end").click();
  await waitPosition(page, 5);
  await page.locator("#output tbody.rows tr", { hasText: "2026-01-01 00:00:00, 2026-01-01 00:00:10" }).click();
  await page.locator("#lineage").waitFor();
  const why = await page.locator("#lineage-why").innerText();
  expect(why.includes("batch 3") && why.includes("watermark at 2026-01-01 00:00:15") && why.includes("window's end 2026-01-01 00:00:10"), why);
  const events = await page.locator("#lineage-events tbody tr").allInnerTexts();
  expect(events.length === 4 && events.filter((e) => /\tcounted$/.test(e)).length === 3
    && events.some((e) => e.includes("00:00:06") && e.includes("dropped as late")), `its events: ${events.join(" | ")}`);
  await page.screenshot({ path: `${shots}/21-lineage-row.png`, fullPage: false });
  // A late row: its operator, its closed window, the watermark then.
  await page.locator("#late-rows .late-row").first().click();
  const late = await page.locator("#late-why").innerText();
  expect(late.includes("batch 4") && late.includes("2026-01-01 00:00:06") && late.includes("watermark 2026-01-01 00:00:15")
    && late.includes("[2026-01-01 00:00:00, 2026-01-01 00:00:10)"), late);
  // A duplicate: the earlier event it duplicated, and every dedup drop listed.
  await openExample(page, "dedup");
  await page.locator("#scrub-end").click();
  await page.waitForFunction(() => document.querySelector("#scrub-end")?.disabled);
  const drops = await page.locator("#duplicates .duplicate").allInnerTexts();
  expect(drops.length > 0 && drops.every((d) => d.includes("a copy of events@")), `the drops: ${drops.join(" | ")}`);
  await page.locator("#duplicates .duplicate").first().click();
  await page.locator("#lineage").waitFor();
  const dup = await page.locator("#lineage-why").innerText();
  expect(dup.includes("had the key") && dup.includes("was dropped"), dup);
  await page.screenshot({ path: `${shots}/22-lineage-duplicate.png`, fullPage: false });
});

await test("each-input-of-a-join-draws-its-own-watermark-and-the-file-is-diffed-against-the-table", async (page) => {
  const sources = Object.keys(scenario("spark-examples/057-ss-left-outer-join.json").sources);
  await openExample(page, "join-left-outer");
  await page.locator("#scrub-end").click();
  await page.waitForFunction(() => document.querySelector("#scrub-end")?.disabled);
  const drawn = await page.locator("#timeline g.input-watermark").evaluateAll((gs) => gs.map((g) => [g.dataset.source, g.querySelector("path").getAttribute("d").length > 0]));
  expect(JSON.stringify(drawn.map((d) => d[0]).sort()) === JSON.stringify([...sources].sort()) && drawn.every((d) => d[1]),
    `a dashed line per input, ${JSON.stringify(drawn)}, for ${sources}`);
  expect((await page.locator("#input-watermarks-key").innerText()).includes("the query runs with the smallest"), "the legend says so");
  await page.locator("#panel-timeline").screenshot({ path: `${shots}/23-timeline-input-watermarks.png` });
  // One input only: no per-input lines.
  await openExample(page, "watermark-small");
  await page.locator("#scrub-end").click();
  await waitPosition(page, 5);
  expect((await page.locator("#timeline g.input-watermark").count()) === 0, "one input, one line");
  // The at-least-once file against the table: the batch replayed after the crash is there twice.
  const want = expected("gallery/exactly-once-after-crash.expected.json");
  await openExample(page, "exactly-once");
  await page.locator("#scrub-end").click();
  await page.waitForFunction(() => document.querySelector("#scrub-end")?.disabled);
  const diff = await page.locator("#file-diff tbody tr").evaluateAll((rows) => rows.map((r) => [r.dataset.weight, [...r.querySelectorAll("td:not(.change)")].map((td) => td.innerText)]));
  const replayed = want.runs[1].batches[0].rows;
  expect(diff.length === replayed.length && diff.every(([w]) => w === "1") && replayed.every((row) => diff.some(([, cells]) => sameRow(cells, row))),
    `the file has batch 1's rows once more than the table: ${JSON.stringify(diff)}`);
  await page.locator("#panel-output").screenshot({ path: `${shots}/24-file-diff.png` });
});

await finish();
