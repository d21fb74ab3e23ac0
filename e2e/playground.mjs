// End-to-end test of the built page in headless Chromium, driven the way a person uses it:
// type a query, add events, run micro-batches, read the output; screenshots for a human to look at.
// Usage: node e2e/playground.mjs URL SCREENSHOT_DIR
import { readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { browser, shots, url } from "./harness.mjs";

const results = [];
// ONLY=part-of-a-name runs the matching tests alone, for working on one.
const only = process.env.ONLY;
async function test(name, body) {
  if (only && !name.includes(only)) return;
  const page = await browser.newPage({ viewport: { width: 1280, height: 860 } });
  const problems = [];
  page.on("pageerror", (e) => problems.push(`page error: ${e.message}`));
  page.on("console", (m) => { if (m.type() === "error") problems.push(`console error: ${m.text()}`); });
  page.on("response", (r) => { if (r.status() >= 400) problems.push(`HTTP ${r.status()} for ${r.url()}`); });
  try {
    await page.goto(url);
    await page.locator("#sql").waitFor();
    await body(page);
    if (problems.length) throw new Error(problems.join("; "));
    results.push([name, null]);
  } catch (e) {
    results.push([name, e]);
    await page.screenshot({ path: `${shots}/FAILED-${name}.png`, fullPage: true }).catch(() => {});
  } finally {
    await page.close();
  }
}

function expect(cond, message) {
  if (!cond) throw new Error(message);
}

// The scrubber's "Run to the end": every queued run of the scenario, then wait for it.
async function runToEnd(page) {
  await page.locator("#scrub-end").click();
  await page.waitForFunction(() => document.querySelector("#scrub-end")?.disabled);
}

// The table's rows as text, cells joined by tabs, without the column that marks changes.
const outputRows = (page) => page.locator("#output tbody.rows tr")
  .evaluateAll((rows) => rows.map((r) => [...r.querySelectorAll("td:not(.change)")].map((td) => td.innerText).join("\t")));

await test("loads-default-scenario", async (page) => {
  // The default scenario's steps were replayed: four alerts in the sink, two micro-batches.
  await page.locator("#output tbody.rows tr").first().waitFor();
  const rows = await outputRows(page);
  expect(rows.length === 4, `expected 4 output rows, got ${rows.length}: ${rows}`);
  expect(rows[0].includes("Hamburg"), `first row should be t-02 in Hamburg: ${rows[0]}`);
  const schema = await page.locator("#schema").innerText();
  expect(schema.includes("truck_readings") && schema.includes("truck_locations"), `schema view: ${schema}`);
  expect((await page.locator("#progress tbody tr").count()) === 2, "two micro-batches in the progress table");
  await page.screenshot({ path: `${shots}/01-default.png`, fullPage: true });
});

await test("type-query-add-events-run", async (page) => {
  await page.locator("#sql").fill(
    "SELECT r.truck_id, l.depot, r.speed_kmh\nFROM STREAM truck_readings r\nLEFT JOIN truck_locations l ON r.truck_id = l.truck_id\nWHERE r.speed_kmh >= 50");
  await page.locator("#mode").selectOption("update");
  await page.locator("#start").click();
  // The default query's table has four header cells too: wait for the new query's columns, not
  // for a fourth cell (that raced the worker's reply).
  await page.locator("#output thead th", { hasText: "speed_kmh" }).waitFor({ timeout: 10_000 })
    .catch(() => {});
  expect((await page.locator("#output thead").innerText()).includes("speed_kmh"), "new columns shown");
  expect((await page.locator("#query-error").count()) === 0, "no error for a valid query");
  // The new query starts at batch 0 with every event so far queued as it arrived.
  await page.waitForFunction(() => document.querySelector("#schema").innerText.includes("7 queued"));
  await runToEnd(page);
  await page.waitForFunction(() => document.querySelectorAll("#output tbody.rows tr").length === 3);
  // Add one event through the form, then run one more micro-batch.
  await page.locator("#field-truck_id").fill("t-09");
  await page.locator("#field-temp_c").fill("2.5");
  await page.locator("#field-speed_kmh").fill("95");
  await page.locator("#field-ts").fill("2026-03-02 08:05:00");
  await page.locator("#add-event").click();
  await page.waitForFunction(() => document.querySelector("#run").textContent.includes("1 waiting"));
  await page.locator("#run").click();
  await page.waitForFunction(() => document.querySelectorAll("#output tbody.rows tr").length === 4);
  const newRows = await page.locator("#output tbody.rows tr.added").allInnerTexts();
  expect(newRows.length === 1 && newRows[0].includes("t-09") && newRows[0].includes("NULL"),
    `the last batch's row is highlighted and NULL-padded by the LEFT JOIN: ${newRows}`);
  await page.screenshot({ path: `${shots}/02-query-events-run.png`, fullPage: true });
});

await test("a-loading-screen-until-the-compressed-engine-arrives", async (page) => {
  expect((await page.locator("#loading").count()) === 0, "the loading screen is gone once the page runs");
  // Again, with the module held back: the page says what it loads and how far it is.
  let release;
  const held = new Promise((r) => { release = r; });
  let encoding = null;
  page.on("response", (r) => { if (r.url().endsWith("unbounded_web_bg.wasm")) encoding = r.headers()["content-encoding"] ?? "none"; });
  await page.route("**/unbounded_web_bg.wasm", async (route) => { await held; await route.continue(); });
  const reload = page.reload();
  await page.locator("#loading progress").waitFor();
  expect((await page.locator("#loading").innerText()).includes("Loading the streaming engine"), "it says what it loads");
  await page.screenshot({ path: `${shots}/00-loading.png` });
  release();
  await reload;
  await page.locator("#sql").waitFor();
  await page.waitForFunction(() => !document.querySelector("#loading"));
  expect(encoding === "gzip", `the module is served compressed: ${encoding}`);
});

await test("error-in-place-keeps-session", async (page) => {
  const before = await outputRows(page);
  await page.locator("#sql").fill("SELECT truck_id,\n       pressure\nFROM STREAM truck_readings");
  await page.locator("#sql").press("Control+Enter");
  await page.locator("#query-error").waitFor();
  const err = await page.locator("#query-error").innerText();
  expect(err.includes("unknown_column") && err.includes("Line 2, column 8") && err.includes("pressure"), `error in place: ${err}`);
  expect(err.includes("Did you mean"), `suggestion: ${err}`);
  expect(JSON.stringify(await outputRows(page)) === JSON.stringify(before), "a refused query leaves the output as it was");
  await page.screenshot({ path: `${shots}/03-error.png`, fullPage: true });
});

await test("bad-event-goes-to-dead-letter", async (page) => {
  await page.locator("#field-truck_id").fill("t-01");
  await page.locator("#field-temp_c").fill("warm");
  await page.locator("#field-speed_kmh").fill("10");
  await page.locator("#field-ts").fill("2026-03-02 08:06:00");
  await page.locator("#add-event").click();
  await page.locator("#run").click();
  await page.locator("#dead-letter li").first().waitFor();
  const dl = await page.locator("#dead-letter").innerText();
  expect(dl.includes("temp_c") && dl.includes("warm"), `dead letter: ${dl}`);
  const batch = await page.locator("#progress tbody tr").first().innerText();
  expect(batch.trim().endsWith("1") || batch.includes("\t1\t"), `bad record counted in the batch: ${batch}`);
  await page.screenshot({ path: `${shots}/04-dead-letter.png`, fullPage: true });
});

await test("event-text-is-text-not-html", async (page) => {
  await page.locator("#sql").fill("SELECT truck_id FROM STREAM truck_readings");
  await page.locator("#start").click();
  await page.locator("#field-truck_id").fill("<img src=x onerror=window.pwned=1>");
  await page.locator("#field-ts").fill("2026-03-02 08:07:00");
  await page.locator("#add-event").click();
  await page.locator("#run").click();
  await page.waitForFunction(() => document.querySelector("#output").textContent.includes("<img"));
  expect((await page.locator("#output img").count()) === 0, "no element created from event text");
  expect(!(await page.evaluate(() => window.pwned)), "no script ran");
});

await test("sql-help-shows-the-dedup-extension", async (page) => {
  await page.locator("#sql-help summary").click();
  const help = await page.locator("#sql-help").innerText();
  expect(help.includes("DEDUPLICATE BY (event_id, ts)") && help.includes("dropDuplicates"), `help: ${help}`);
  expect(help.includes("DELAY OF INTERVAL") && help.includes("withWatermark"), `help: ${help}`);
  await page.screenshot({ path: `${shots}/05-sql-help.png`, fullPage: true });
});

await test("stateful-query-shows-watermark-and-state", async (page) => {
  await page.locator("#sql").fill(
    "SELECT window(ts, '1 minute') AS w, truck_id, max(temp_c) AS hottest\nFROM STREAM truck_readings WATERMARK ts DELAY OF INTERVAL 10 SECONDS\nGROUP BY window(ts, '1 minute'), truck_id");
  await page.locator("#mode").selectOption("update");
  // A changed mode or query applies when the query starts, as in Spark; the page says so.
  await page.locator("#not-started").waitFor();
  await page.locator("#start").click();
  await runToEnd(page);
  await page.waitForFunction(() => document.querySelectorAll("#progress tbody tr").length >= 2);
  expect((await page.locator("#not-started").count()) === 0, "started: the hint is gone");
  // Input and processing rate on one chart, with its scale and the batches it covers.
  expect((await page.locator("#chart-rates polyline").count()) === 2, "two rates, one chart");
  const axes = await page.locator("#chart-rates text.axis").allTextContents();
  // The scenario's two runs, each a data batch and the no-data batch its watermark calls for.
  expect(axes.includes("0") && axes.includes("batch 0") && axes.includes("batch 3"), `the chart's axes: ${axes}`);
  const progress = await page.locator("#progress").innerText();
  expect(progress.includes("2026-03-02 08:00:57"), `the watermark (max event time 08:01:07 - 10 s) shows: ${progress}`);
  const rows = await outputRows(page);
  expect(rows.length >= 4, `windows per truck in the output: ${rows}`);
  // Event time beside processing time: the newest event, and the wall clock of the last batch.
  const clocks = await page.locator(".clocks").innerText();
  const year = new Date().getUTCFullYear();
  expect(clocks.includes("event time: 2026-03-02 08:01:07") && new RegExp(`processing time: ${year}-\\d\\d-\\d\\d [\\d:.]+ \\(batch 3\\)`).test(clocks)
    && clocks.includes("watermark: 2026-03-02 08:00:57"), `the clocks: ${clocks}`);
  await page.screenshot({ path: `${shots}/06-stateful.png`, fullPage: true });
});

await test("last-batch-rows-marked-added-updated-removed", async (page) => {
  await page.locator("#sql").fill(
    "SELECT truck_id, count(*) AS readings\nFROM STREAM truck_readings\nGROUP BY truck_id\nHAVING count(*) < 2");
  await page.locator("#mode").selectOption("complete");
  await page.locator("#start").click();
  await runToEnd(page);
  await page.locator("#output-change").waitFor();
  // t-02 gets its second reading and leaves the table; t-05 is new.
  await addTruckEvent(page, "t-02", 5, "2026-03-02 08:02:00");
  await addTruckEvent(page, "t-05", 5, "2026-03-02 08:02:01");
  await page.locator("#run").click();
  await page.waitForFunction(() => document.querySelector("#output-change").textContent.includes("Batch 2"));
  const marked = async (cls) => (await page.locator(`#output tr.${cls}`).allInnerTexts()).map((t) => t.split("\t").slice(1, 2).join());
  expect(JSON.stringify(await marked("added")) === '["t-05"]', `added: ${await marked("added")}`);
  expect(JSON.stringify(await marked("removed")) === '["t-02"]', `removed: ${await marked("removed")}`);
  expect((await outputRows(page)).every((r) => !r.startsWith("t-02")), "a removed row is not counted in the table");
  await page.screenshot({ path: `${shots}/06b-changes-complete.png`, fullPage: true });
  // Update mode upserts by key: a known key is updated, a new one added.
  await page.locator("#sql").fill("SELECT truck_id, max(temp_c) AS hottest\nFROM STREAM truck_readings\nGROUP BY truck_id");
  await page.locator("#mode").selectOption("update");
  await page.locator("#start").click();
  // The new query replays the three runs so far (the two events above arrived in the third).
  await runToEnd(page);
  await page.waitForFunction(() => document.querySelector("#output-change")?.textContent.includes("Batch 2"));
  await addTruckEvent(page, "t-03", 12, "2026-03-02 08:03:00");
  await addTruckEvent(page, "t-08", 1, "2026-03-02 08:03:01");
  await page.locator("#run").click();
  await page.waitForFunction(() => document.querySelector("#output-change").textContent.includes("Batch 3"));
  expect(JSON.stringify(await marked("updated")) === '["t-03"]', `updated: ${await marked("updated")}`);
  expect(JSON.stringify(await marked("added")) === '["t-08"]', `added: ${await marked("added")}`);
  await page.screenshot({ path: `${shots}/06c-changes-update.png`, fullPage: true });
});

async function downloadScenario(page) {
  const [download] = await Promise.all([page.waitForEvent("download"), page.locator("#download").click()]);
  return readFileSync(await download.path(), "utf8");
}

async function addTruckEvent(page, truck, temp, time) {
  await page.locator("#field-truck_id").fill(truck);
  await page.locator("#field-temp_c").fill(String(temp));
  await page.locator("#field-speed_kmh").fill("50");
  await page.locator("#field-ts").fill(time);
  await page.locator("#add-event").click();
  await page.waitForFunction(() => /[1-9]\d* waiting/.test(document.querySelector("#run").textContent));
}

await test("inject-each-failure-and-recover", async (page) => {
  await page.locator("#output tbody.rows tr").first().waitFor();
  const points = ["before_offsets_write", "after_offsets_write", "after_state_write", "after_sink_write"];
  for (const [k, point] of points.entries()) {
    await page.locator(`#fail-${point}`).click();
    await page.locator("#armed").waitFor();
    expect((await page.locator("#armed").innerText()).includes(point), "the armed point is shown");
    await addTruckEvent(page, "t-01", 9.5, `2026-03-02 08:10:0${k}`);
    await page.locator("#run").click();
    await page.waitForFunction((n) => document.querySelectorAll("#failures li").length === n, k + 1);
    await page.waitForFunction((n) => document.querySelectorAll("#output tbody.rows tr").length === n, 5 + k);
  }
  const failures = await page.locator("#failures").innerText();
  expect(failures.includes("Batch 5 crashed after sink write"), `recoveries listed: ${failures}`);
  // Exactly once in the table: one row per event; the file got batch 5 twice.
  expect((await outputRows(page)).length === 8, "4 + 4 rows in the table, no duplicate");
  const file = await page.locator("#file-summary").innerText();
  expect(file.includes("Batch 5 was written more than once"), `the at-least-once file shows the replay: ${file}`);
  // Its rows, write by write: the replayed write's rows marked as the duplicates they are.
  await page.locator("#file-rows summary").click();
  const again = await page.locator("#file-rows tbody.replayed tr").allInnerTexts();
  expect(again.length === 1 && again[0].includes("5 (again)") && again[0].includes("t-01"), `the duplicate rows: ${again}`);
  await page.screenshot({ path: `${shots}/07-failures.png`, fullPage: true });
});

await test("lose-the-checkpoint-replays-everything", async (page) => {
  await page.locator("#output tbody.rows tr").first().waitFor();
  const oldId = await page.locator("#checkpoint > summary").innerText();
  await page.locator("#lose-checkpoint").click();
  await page.locator("#notice").waitFor();
  expect((await page.locator("#notice").innerText()).includes("checkpoint is gone"), "the page says what happened");
  expect((await page.locator("#run").innerText()).includes("7 waiting"), "every event is new again");
  await page.locator("#run").click();
  await page.waitForFunction(() => document.querySelectorAll("#output tbody.rows tr").length === 8);
  expect(oldId !== (await page.locator("#checkpoint > summary").innerText()), "a new query id");
  await page.screenshot({ path: `${shots}/08-lost-checkpoint.png`, fullPage: true });
});

await test("reload-mid-run-resumes-from-the-last-commit", async (page) => {
  await page.locator("#output tbody.rows tr").first().waitFor();
  await page.locator("#generator summary").click();
  await page.locator("#gen-rate").fill("40");
  await page.locator("#toggle-generator").click();
  await page.locator("#interval").selectOption("250");
  await page.locator("#play").click();
  await page.waitForFunction(() => document.querySelectorAll("#progress tbody tr").length >= 6, null, { timeout: 10000 });
  await page.reload();
  await page.locator("#notice").waitFor();
  const notice = await page.locator("#notice").innerText();
  expect(notice.includes("Resumed after a reload"), `the page says it resumed: ${notice}`);
  await page.locator("#available-now").click();
  await page.waitForFunction(() => document.querySelector("#run").textContent.includes("(0 waiting)"));
  const scenario = await downloadScenario(page);
  // The same events, run without interruption by the runner, give the same table.
  // The runner is the engine's module (the page's thread loads only the UI's): loaded here.
  const doc = await page.evaluate(async (text) => {
    const engine = await import("/engine/unbounded_web.js");
    await engine.default();
    return JSON.parse(engine.runScenarioJson(text));
  }, scenario);
  const key = (cells) => `${cells[0]}|${cells[1]}|${cells[4]}`;
  const expected = doc.sink.map(key).sort();
  const live = (await outputRows(page)).map((r) => key(r.split("\t"))).sort();
  expect(expected.length > 10, `the run produced rows: ${expected.length}`);
  expect(JSON.stringify(live) === JSON.stringify(expected),
    `resumed table (${live.length} rows) equals an uninterrupted run (${expected.length} rows)`);
  await page.screenshot({ path: `${shots}/09-resumed-after-reload.png`, fullPage: true });
});

await test("a-reload-shows-the-restored-watermark-and-what-was-read", async (page) => {
  await page.locator("#output tbody.rows tr").first().waitFor();
  await page.locator("#gallery summary").click();
  await page.locator("#example-watermark-small").click();
  await runToEnd(page);
  await page.waitForFunction(() => document.querySelectorAll("#progress tbody tr").length === 10);
  const clocks = await page.locator(".clocks").innerText();
  expect(clocks.includes("watermark: 2026-01-01 00:01:"), `the watermark before the reload: ${clocks}`);
  await page.reload();
  await page.locator("#notice").waitFor();
  await page.waitForFunction(() => document.querySelectorAll("#timeline circle.event").length === 10);
  const after = await page.locator(".clocks").innerText();
  expect(after.includes(clocks.match(/watermark: [\d-]+ [\d:.]+/)[0]), `the checkpoint's watermark, not none: ${after} (before: ${clocks})`);
  // Every event was read before the reload: drawn as read earlier, none as "new".
  expect((await page.locator("#earlier-slot").count()) === 1, "an 'earlier' slot for what the restored query had read");
  expect(!(await page.locator("#run").innerText()).match(/\((?!0 )\d+ waiting\)/), "nothing waits");
  await page.locator("#timeline").screenshot({ path: `${shots}/09b-timeline-after-reload.png` });
});

await test("time-travel-through-the-table", async (page) => {
  await page.locator("#table-history tbody tr").first().waitFor();
  // Version 0 is the first batch: two alerts.
  await page.locator("#table-history tbody tr").last().click();
  await page.locator("#table-query-result").waitFor();
  expect((await page.locator("#table-query").innerText()).includes("as of version 0: 2 rows"), await page.locator("#table-query").innerText());
  await page.locator("#table-sql").fill("SELECT city, count(*) AS alerts FROM sink GROUP BY city ORDER BY city");
  await page.locator("#table-sql").press("Enter");
  await page.waitForFunction(() => document.querySelector("#table-query-result thead").textContent.includes("alerts"));
  const rows = await page.locator("#table-query-result tbody tr").allInnerTexts();
  expect(JSON.stringify(rows) === JSON.stringify(["Cologne\t1", "Hamburg\t2", "Munich\t1"]), `a batch query over the table: ${rows}`);
  await page.locator("#table-sql").fill("SELECT * FROM sink VERSION AS OF 7");
  await page.locator("#table-sql").press("Enter");
  await page.waitForFunction(() => document.querySelector("#table-query").textContent.includes("no version 7"));
  await page.screenshot({ path: `${shots}/10-time-travel.png`, fullPage: true });
});

await test("gallery-watermark-trade-off", async (page) => {
  await page.locator("#output tbody.rows tr").first().waitFor();
  await page.locator("#gallery summary").click();
  const lateColumn = async () => (await page.locator("#progress tbody tr").allInnerTexts()).map((r) => Number(r.split("\t")[5]));
  await page.locator("#example-watermark-small").click();
  await runToEnd(page);
  await page.waitForFunction(() => (document.querySelector("#watch") || {}).textContent?.includes("small watermark"));
  await page.waitForFunction(() => document.querySelectorAll("#progress tbody tr").length === 10);
  const small = (await lateColumn()).reduce((a, b) => a + b, 0);
  const smallRows = (await outputRows(page)).length;
  await page.locator("#example-watermark-large").click();
  await runToEnd(page);
  await page.waitForFunction(() => (document.querySelector("#watch") || {}).textContent?.includes("large watermark"));
  await page.waitForFunction(() => document.querySelectorAll("#progress tbody tr").length === 10);
  const large = (await lateColumn()).reduce((a, b) => a + b, 0);
  expect(small === 2 && large === 0, `the small watermark drops the two stragglers (${small}), the large none (${large})`);
  expect(smallRows === 4 && (await outputRows(page)).length === 3, "the small one has emitted more windows by the end");
  await page.locator("#example-nexmark").click();
  await runToEnd(page);
  await page.waitForFunction(() => document.querySelector("#generator-kind").value === "nexmark");
  // The query reads bids only: persons and auctions are not "waiting" for a batch that never reads them.
  const schema = (await page.locator("#schema").innerText()).replace(/\s+/g, " ");
  expect(/person \(stream\) \d+ events, not read by the query/.test(schema) && /bid \(stream\) \d+ events, 0 waiting/.test(schema),
    `only the bids are read: ${schema}`);
  expect(/Run all available \(0 waiting\)/.test(await page.locator("#run").innerText()), "nothing waits for the next batch");
  await page.screenshot({ path: `${shots}/11-gallery.png`, fullPage: true });
});

await test("gallery-medallion-bronze-silver-gold", async (page) => {
  await page.locator("#gallery summary").click();
  await page.locator("#example-medallion").click();
  await runToEnd(page);
  await page.waitForFunction(() => (document.querySelector("#watch") || {}).textContent?.includes("Bronze"));
  await page.waitForFunction(() => document.querySelectorAll("#output tbody.rows tr").length === 3);
  // Gold: revenue per minute, each written once, final.
  const gold = (await outputRows(page)).sort();
  expect(gold[0].endsWith("\t3\t191.9") && gold[1].endsWith("\t2\t46.3") && gold[2].endsWith("\t1\t184.0"), `gold rows: ${gold.join(" | ")}`);
  // Bronze: the record that did not fit went to the dead letters, with why.
  const dead = await page.locator("#dead-letter").innerText();
  expect(dead.includes("forty") && dead.includes("amount"), `the bad amount is a dead letter: ${dead}`);
  // Silver: the late retry was dropped by the deduplication, as the batch table counts.
  const late = (await page.locator("#progress tbody tr").allInnerTexts()).map((r) => Number(r.split("\t")[5]));
  expect(late.reduce((a, b) => a + b, 0) === 1, `one late row dropped: ${late}`);
  await page.locator("#explain").evaluate((e) => e.closest("details").open = true);
  const plan = await page.locator("#explain").innerText();
  expect(plan.includes("StreamingDeduplicateWithinWatermark") && plan.includes("StatefulAggregate"), `the layers in the plan: ${plan}`);
  await page.screenshot({ path: `${shots}/11b-medallion.png`, fullPage: true });
});

await test("a-documentation-page-opens-an-example-by-its-id", async (page) => {
  // What a documentation site embeds: ?example=ID (with memory storage, so a reader's visit keeps nothing).
  await page.goto(`${url}?storage=memory&example=medallion`);
  await runToEnd(page);
  await page.waitForFunction(() => (document.querySelector("#watch") || {}).textContent?.includes("Bronze"));
  await page.waitForFunction(() => document.querySelectorAll("#output tbody.rows tr").length === 3);
  expect((await page.locator("#storage").inputValue()) === "memory", "the storage the address asked for");
  expect(new URL(page.url()).search === "?storage=memory", `opened once: a reload resumes instead (${page.url()})`);
  // An id that does not exist says which ones do, and the page still works.
  await page.goto(`${url}?storage=memory&example=medalion`);
  await page.locator("#link-error").waitFor();
  const text = await page.locator("#link-error").innerText();
  expect(text.includes("no example `medalion`") && text.includes("medallion"), text);
  await page.locator("#output tbody.rows tr").first().waitFor();
});

await test("a-refused-example-shows-its-query-and-why", async (page) => {
  await page.locator("#output tbody.rows tr").first().waitFor();
  await page.locator("#gallery summary").click();
  await page.locator("#example-refused").click();
  await page.waitForFunction(() => document.querySelector("#sql")?.value.includes("FROM readings GROUP BY device"));
  await page.locator("#query-error").waitFor();
  const err = await page.locator("#query-error").innerText();
  expect(err.includes("missing_watermark") && err.toLowerCase().includes("watermark"), `the refusal, under its own query: ${err}`);
  const caret = await page.locator("#query-error pre.caret").innerText().catch(() => "");
  expect(!caret || caret.includes("FROM readings") || caret.includes("SELECT device"), `the caret points into the shown query: ${caret}`);
  await page.screenshot({ path: `${shots}/11d-refused-example.png`, fullPage: true });
  // It stays: a reload opens the same query with the same refusal, and a link opens it too.
  await page.reload();
  await page.locator("#query-error").waitFor();
  expect((await page.locator("#sql").inputValue()).includes("GROUP BY device"), "the refused query after a reload");
  await page.goto(`${url}?storage=memory&example=refused`);
  await page.waitForFunction(() => document.querySelector("#sql")?.value.includes("FROM readings GROUP BY device"));
  expect((await page.locator("#query-error").innerText()).includes("missing_watermark"), "?example=refused opens the refused query");
});

await test("a-join-feeding-a-count-closes-windows-on-its-output-watermark", async (page) => {
  await page.goto(`${url}?storage=memory&example=join-then-window`);
  await runToEnd(page);
  await page.waitForFunction(() => document.querySelectorAll("#output tbody.rows tr").length === 2);
  // The last batch's watermark is 00:01:50; the join's output watermark 20.001 s behind it: the
  // window ending 00:01:30 is still open (Spark holds it too), the one ending 00:01:00 is closed.
  const bands = await page.evaluate(() => [...document.querySelectorAll("rect.band title")].map((t) => t.textContent));
  expect(bands.includes("window [00:01:00, 00:01:30): open")
    && bands.includes("window [00:00:30, 00:01:00): closed, the join's output watermark passed its end"), `bands: ${bands.join(" | ")}`);
  await page.locator("#explain").evaluate((e) => e.closest("details").open = true);
  expect((await page.locator("#explain").innerText()).includes("output watermark: the input's less 20.001 seconds"), "EXPLAIN says so");
  await page.screenshot({ path: `${shots}/11c-join-then-window.png`, fullPage: true });
});

await test("share-a-link-and-open-it", async (page) => {
  await page.locator("#output tbody.rows tr").first().waitFor();
  await addTruckEvent(page, "t-04", 9.0, "2026-03-02 08:30:00");
  await page.locator("#run").click();
  await page.waitForFunction(() => document.querySelectorAll("#output tbody.rows tr").length === 5);
  await page.locator("#share-link").click();
  await page.locator("#link").waitFor();
  const link = await page.locator("#link").inputValue();
  expect(link.includes("#s=1."), `a versioned link: ${link.slice(0, 80)}`);
  // Opened elsewhere (a fresh browser profile), the link gives the same session.
  const context = await browser.newContext();
  const other = await context.newPage();
  await other.goto(link);
  await runToEnd(other);
  await other.waitForFunction(() => document.querySelectorAll("#output tbody.rows tr").length === 5);
  expect((await other.locator("#schema").innerText()).includes("8 events"), "every event came with the link");
  expect(!(await other.evaluate(() => location.hash)), "the link is opened once: a reload resumes the session");
  await other.screenshot({ path: `${shots}/12-opened-link.png`, fullPage: true });
  // A link of another format version, or a damaged one, says why it cannot open.
  for (const [url, says] of [[link.replace("#s=1.", "#s=7."), "another version of Unbounded"], [link.split("#")[0] + "#s=1.AAAA-broken", "damaged"]]) {
    const fresh = await context.newPage();
    await fresh.goto(url);
    await fresh.locator("#link-error").waitFor();
    const text = await fresh.locator("#link-error").innerText();
    expect(text.includes(says), text);
    await fresh.locator("#output tbody.rows tr").first().waitFor();
    await fresh.close();
  }
  await context.close();
});

await test("import-export-and-pyspark", async (page) => {
  await page.locator("#output tbody.rows tr").first().waitFor();
  const text = await downloadScenario(page);
  const steps = JSON.parse(text).steps;
  expect(steps.length === 4 && steps[0].rows.length === 4 && "run" in steps[1] && steps[2].rows.length === 3 && "run" in steps[3],
    `the download is a scenario: the events with the runs between them: ${JSON.stringify(steps).slice(0, 120)}`);
  const bad = join(tmpdir(), "unbounded-bad-scenario.json");
  writeFileSync(bad, '{"version": 1, "name": "x", "sources": {}, "query": "SELECT 1", "stepz": []}');
  await page.locator("#import").setInputFiles(bad);
  await page.locator("#share-message").waitFor();
  expect((await page.locator("#share-message").innerText()).includes("unknown key stepz"), await page.locator("#share-message").innerText());
  const good = join(tmpdir(), "unbounded-good-scenario.json");
  writeFileSync(good, readFileSync("tests/scenarios/gallery/payments-dedup-retries.json", "utf8"));
  await page.locator("#import").setInputFiles(good);
  await page.waitForFunction(() => document.querySelector("#sql").value.includes("DEDUPLICATE WITHIN WATERMARK"));
  await page.locator("#copy-pyspark").click();
  await page.locator("#pyspark").waitFor();
  const program = await page.locator("#pyspark").innerText();
  expect(program.includes(".dropDuplicatesWithinWatermark([\"payment_id\"])") && program.includes("spark.readStream.schema("),
    `a PySpark program: ${program.slice(0, 200)}`);
  await page.screenshot({ path: `${shots}/13-pyspark.png`, fullPage: true });
});

await test("timeline-state-and-checkpoint", async (page) => {
  await page.locator("#output tbody.rows tr").first().waitFor();
  await page.locator("#gallery summary").click();
  await page.locator("#example-watermark-small").click();
  await runToEnd(page);
  await page.waitForFunction(() => document.querySelectorAll("#progress tbody tr").length === 10);
  // The timeline: a dot per event, the watermark line, closed windows, two late drops that say why.
  expect((await page.locator("#timeline circle.event").count()) === 10, "ten events on the timeline");
  expect((await page.locator("#watermark-line").count()) === 1, "the watermark line");
  expect((await page.locator("#timeline rect.band.closed").count()) >= 4, "closed windows");
  const drops = await page.locator("#timeline .late-drop title").evaluateAll((ts) => ts.map((t) => t.textContent));
  expect(drops.length === 2 && drops[0].includes("(d1, 18.0, 2026-01-01 00:00:06") && drops[0].includes("window [00:00:00, 00:00:10) had closed: the watermark 2026-01-01 00:00:15"),
    `late drops with their row, event time and watermark: ${drops}`);
  // Each cross sits at its event's own time (the dot of the event it dropped), linked to its window.
  expect(drops[0].includes("with event time 2026-01-01 00:00:06"), `the drop names its event time: ${drops[0]}`);
  expect((await page.locator("#timeline .late-drop line.late-link").count()) === 2, "a line from each drop to its window");
  const heights = await page.evaluate(() => {
    const dot = [...document.querySelectorAll("#timeline circle.event")].find((c) => c.textContent.includes("00:00:06"));
    const cross = document.querySelector("#timeline .late-drop path").getAttribute("d").match(/^M([\d.]+),([\d.]+)/);
    return [Number(dot.getAttribute("cy")), Number(cross[2]) + 4];
  });
  expect(Math.abs(heights[0] - heights[1]) < 0.2, `the cross at the event's height, not its window's end: ${heights}`);
  await page.locator("#timeline").screenshot({ path: `${shots}/14-timeline.png` });
  // The state store: the open window, and the one the last batch evicted.
  const state = await page.locator("#state").innerText();
  expect(state.includes("0-stateStoreSave/default") && state.includes("[2026-01-01 00:01:10, 2026-01-01 00:01:20)"), `state: ${state}`);
  expect(state.includes("evicted by the last batch"), `evictions shown: ${state}`);
  // The checkpoint as a tree: offsets, commits and state versions, each with its content.
  await page.locator("#checkpoint > summary").click();
  await page.locator('#checkpoint button[data-path="offsets/4"]').click();
  await page.waitForFunction(() => (document.querySelector("#checkpoint-file") || {}).textContent?.includes("watermark_micros"));
  const offsets = await page.locator("#checkpoint-file").innerText();
  expect(offsets.startsWith("v1 crc32:") && offsets.includes('"readings"'), `offsets/4: ${offsets}`);
  await page.locator("#checkpoint summary", { hasText: "state/0-stateStoreSave/default/" }).click();
  await page.locator('#checkpoint button[data-path="state/0-stateStoreSave/default/10.snapshot"]').click();
  await page.waitForFunction(() => document.querySelector("#checkpoint-file").textContent.includes("a snapshot"));
  await page.screenshot({ path: `${shots}/15-state-and-checkpoint.png`, fullPage: true });
});

await test("editor-highlights-underlines-and-completes", async (page) => {
  await page.locator("#output tbody.rows tr").first().waitFor();
  expect((await page.locator(".editor .backdrop .kw").first().innerText()) === "SELECT", "keywords are highlighted");
  expect((await page.locator(".editor .gutter").innerText()).startsWith("1\n2\n3"), "line numbers");
  await page.locator("#sql").fill("SELECT truck_id,\n       pressure\nFROM STREAM truck_readings");
  await page.locator("#sql").press("Control+Enter");
  await page.locator(".editor .err").waitFor();
  expect((await page.locator(".editor .err").innerText()) === "pressure", "the unknown column is underlined in place");
  // Completion: type the start of a name, pick with the keyboard.
  await page.locator("#sql").fill("");
  await page.locator("#sql").pressSequentially("SELECT tr");
  await page.locator("#completion").waitFor();
  const offered = await page.locator("#completion li").allInnerTexts();
  expect(offered.some((o) => o.includes("truck_readings")) && offered.some((o) => o.includes("truck_id")), `offers: ${offered}`);
  await page.screenshot({ path: `${shots}/16-editor.png` });
  const column = offered.findIndex((o) => o.startsWith("truck_id"));
  for (let k = 0; k < column; k++) await page.locator("#sql").press("ArrowDown");
  await page.locator("#sql").press("Tab");
  const value = await page.locator("#sql").inputValue();
  expect(value === "SELECT truck_id", `the chosen name replaces the word: ${value}`);
  await page.locator("#sql").pressSequentially(" FROM STREAM truck_readings");
  await page.locator("#sql").press("Control+Enter");
  await page.waitForFunction(() => !document.querySelector(".editor .err") && !document.querySelector("#query-error"));
});

await test("edit-schema-and-paste-events", async (page) => {
  await page.locator("#output tbody.rows tr").first().waitFor();
  // The form starts from the newest event: the next truck, one second later.
  expect((await page.locator("#field-truck_id").inputValue()) === "t-05", "the next key");
  expect((await page.locator("#field-ts").inputValue()) === "2026-03-02 08:01:08", "one second after the newest event");
  // Paste CSV with a header, in another column order; a bad line is named.
  await page.locator("#paste summary").click();
  await page.locator("#paste-text").fill("ts,truck_id,temp_c,speed_kmh\n2026-03-02 08:02:00,t-01,9.5,40\n2026-03-02 08:02:01,t-02");
  await page.locator("#add-pasted").click();
  expect((await page.locator("#paste-error").innerText()).includes("line 3: 2 values"), await page.locator("#paste-error").innerText());
  await page.locator("#paste-text").fill('{"truck_id": "t-01", "temp_c": 9.5, "ts": "2026-03-02 08:02:00"}\n["t-02", 8.5, 30, "2026-03-02 08:02:01"]');
  await page.locator("#add-pasted").click();
  await page.waitForFunction(() => document.querySelector("#run").textContent.includes("2 waiting"));
  // Add a depot for a new truck in the static table, and a second source.
  await page.locator("#edit-schema").click();
  await page.locator(".draft-rows").fill('["t-01","D1","Hamburg"]\n["t-02","D2","Hamburg"]\n["t-09","D9","Bremen"]');
  await page.locator("#add-source").click();
  await page.locator(".draft-name").last().fill("alarms");
  await page.locator(".draft-columns").last().fill("truck_id string, level int, ts timestamp");
  await page.locator("#apply-schema").click();
  await page.waitForFunction(() => document.querySelector("#schema").textContent.includes("alarms"));
  const schema = await page.locator("#schema").innerText();
  expect(schema.includes("truck_locations (static table) 3 rows") && schema.includes("level"), `schema: ${schema}`);
  await page.locator("#run").click();
  await page.waitForFunction(() => document.querySelector("#run").textContent.includes("(0 waiting)"));
  await page.screenshot({ path: `${shots}/17-schema-and-paste.png`, fullPage: true });
});

await test("a-new-version-of-the-static-table-joins-new-rows-and-leaves-written-ones", async (page) => {
  await page.locator("#output tbody.rows tr").first().waitFor();
  const before = await outputRows(page);
  expect(before.some((r) => r.startsWith("t-02\tHamburg")), `t-02 joined Hamburg: ${before}`);
  // t-02 moves to Kiel: only the rows' values change, so the running query carries on.
  await page.locator("#edit-schema").click();
  await page.locator(".draft-rows").fill('["t-01","North","Hamburg"]\n["t-02","North","Kiel"]\n["t-03","South","Munich"]\n["t-04","West","Cologne"]');
  await page.locator("#apply-schema").click();
  await page.locator("#notice").waitFor();
  expect((await page.locator("#notice").innerText()).includes("rows already written stay"), await page.locator("#notice").innerText());
  expect(JSON.stringify(await outputRows(page)) === JSON.stringify(before), "the table keeps what was written");
  await addTruckEvent(page, "t-02", 9.5, "2026-03-02 08:03:00");
  await page.locator("#run").click();
  await page.waitForFunction((n) => document.querySelectorAll("#output tbody.rows tr").length === n, before.length + 1);
  const after = await outputRows(page);
  expect(after.some((r) => r.startsWith("t-02\tKiel\t9.5")) && after.filter((r) => r.startsWith("t-02\tHamburg")).length === before.filter((r) => r.startsWith("t-02\tHamburg")).length,
    `the new reading joins Kiel, the old ones keep Hamburg: ${after}`);
});

await test("memory-storage-starts-over-on-reload", async (page) => {
  await page.locator("#output tbody.rows tr").first().waitFor();
  await page.locator("#storage").selectOption("memory");
  await page.waitForFunction(() => document.querySelector("#storage").value === "memory");
  await addTruckEvent(page, "t-02", 7, "2026-03-02 08:20:00");
  await page.reload();
  await page.locator("#output tbody.rows tr").first().waitFor();
  expect((await page.locator("#storage").inputValue()) === "memory", "the choice is remembered");
  expect((await page.locator("#schema").innerText()).includes("7 events"), "the added event is gone with the memory");
});

await test("theme-switch-light-dark-and-from-the-address", async (page) => {
  const background = () => page.evaluate(() => getComputedStyle(document.body).backgroundColor);
  await page.locator("#theme").selectOption("dark");
  expect((await background()) === "rgb(21, 25, 29)", `dark background: ${await background()}`);
  await page.screenshot({ path: `${shots}/15-dark.png`, fullPage: true });
  await page.reload();
  await page.locator("#sql").waitFor();
  expect((await page.locator("#theme").inputValue()) === "dark", "the choice is remembered");
  expect((await background()) === "rgb(21, 25, 29)", "and applied before the page starts");
  await page.locator("#theme").selectOption("light");
  expect((await background()) === "rgb(247, 247, 244)", `light background: ${await background()}`);
  // An embedding site picks the theme in the address, whatever was chosen before.
  await page.goto(url + (url.includes("?") ? "&" : "?") + "theme=dark");
  await page.locator("#sql").waitFor();
  expect((await background()) === "rgb(21, 25, 29)", "?theme=dark wins");
  await page.locator("#theme").selectOption("system");
  await page.emulateMedia({ colorScheme: "dark" });
  expect((await background()) === "rgb(21, 25, 29)", "the system's dark scheme");
  await page.emulateMedia({ colorScheme: "light" });
  expect((await background()) === "rgb(247, 247, 244)", "the system's light scheme");
});

await test("keyboard-reaches-every-control", async (page) => {
  await page.locator("#run").click();
  await page.locator("#table-history button.version").first().waitFor();
  // Every control a pointer can reach, with every fold opened.
  await page.evaluate(() => document.querySelectorAll("details").forEach((d) => { d.open = true; }));
  await page.waitForTimeout(100);
  const controls = await page.evaluate(() => {
    const all = [...document.querySelectorAll("button, select, input, textarea, summary, a[href], [tabindex]:not([tabindex='-1'])")];
    return all.filter((el) => !el.disabled && el.checkVisibility()).map((el, i) => {
      el.dataset.kb = String(i);
      const labelled = el.getAttribute("aria-label") || el.title || (el.id && document.querySelector(`label[for='${el.id}']`)) ||
        el.closest("label") || (el.textContent || "").trim() || el.getAttribute("placeholder");
      return { i, what: el.id || el.className || el.tagName, labelled: !!labelled };
    });
  });
  const unnamed = controls.filter((c) => !c.labelled).map((c) => c.what);
  expect(unnamed.length === 0, `every control has a name: ${unnamed}`);
  await page.evaluate(() => { document.activeElement?.blur(); window.scrollTo(0, 0); });
  const reached = new Set();
  for (let k = 0; k < controls.length + 10; k++) {
    await page.keyboard.press("Tab");
    const i = await page.evaluate(() => document.activeElement?.dataset.kb);
    if (i !== undefined) reached.add(Number(i));
  }
  const missed = controls.filter((c) => !reached.has(c.i)).map((c) => c.what);
  expect(missed.length === 0, `Tab reaches every control (${controls.length}); missed: ${missed}`);
  // Enter on a version of the history travels in time; Ctrl+Enter in the editor restarts.
  await page.locator("#table-history button.version").first().focus();
  await page.keyboard.press("Enter");
  await page.locator("#table-query-result").waitFor();
  await page.locator("#sql").focus();
  await page.keyboard.press("End");
  await page.keyboard.type(" AND r.temp_c > 5.0");
  await page.keyboard.press("Control+Enter");
  await page.waitForFunction(() => /[1-9]\d* queued/.test(document.querySelector("#schema").textContent));
  // The focused control is visibly marked.
  await page.locator("#run").focus();
  await page.keyboard.press("Shift+Tab");
  await page.keyboard.press("Tab");
  const outline = await page.evaluate(() => getComputedStyle(document.activeElement).outlineStyle);
  expect(outline === "solid", `a focus ring: ${outline}`);
  await page.screenshot({ path: `${shots}/16-keyboard.png` });
});

await test("layout-from-1280-px-down-to-a-narrow-column", async (page) => {
  await page.locator("#run").click();
  await page.locator("#progress tbody tr").first().waitFor();
  for (const width of [1280, 1024, 720, 480, 360]) {
    await page.setViewportSize({ width, height: 900 });
    await page.waitForTimeout(100);
    const overflow = await page.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);
    expect(overflow <= 0, `no sideways scrolling at ${width} px: the page is ${overflow} px too wide`);
    // Controls stay on screen: none starts beyond the right edge.
    const outside = await page.evaluate(() => [...document.querySelectorAll("button, select, input, textarea")]
      .filter((el) => el.getClientRects().length && el.closest(".output-panel, table") === null)
      .filter((el) => el.getBoundingClientRect().right > document.documentElement.clientWidth + 1).map((el) => el.id || el.className));
    expect(outside.length === 0, `controls within ${width} px: ${outside}`);
    // The timeline's labels stay readable: its drawing scrolls rather than shrinking them.
    const label = await page.evaluate(() => document.querySelector("#timeline text.axis")?.getBoundingClientRect().height ?? 0);
    expect(label >= 8, `timeline labels ${label.toFixed(1)} px tall at ${width} px`);
    await page.screenshot({ path: `${shots}/17-width-${width}.png`, fullPage: width <= 480 });
  }
});

await test("a-kafka-topic-its-partitions-lag-and-a-producer-that-retries", async (page) => {
  await page.goto(`${url}?storage=memory&example=kafka-bronze`);
  await page.locator("#panel-topics").waitFor();
  const lag = () => page.locator("#topic-sensor_data .topic-lag").innerText();
  expect((await lag()).startsWith("0 messages behind latest"), `at batch 0 nothing has arrived: ${await lag()}`);
  // The row form is for row sources: a topic takes messages from the producer.
  expect(await page.locator("#event-form").count() === 0, "no row form for a topic");
  await page.locator("#scrub-forward").click();
  await page.waitForFunction(() => document.querySelector("#scrub-position")?.textContent.includes("batch 0"));
  expect((await lag()).startsWith("3 messages behind latest"), `6 sent, 3 read: ${await lag()}`);
  expect((await lag()).includes("at most 4 per batch"), await lag());
  const partitions = await page.locator("#topic-sensor_data table.partitions tbody tr").allInnerTexts();
  expect(partitions.length === 2, `two partitions: ${partitions}`);
  // Partition 0 holds d2 and d3 (4 messages, 2 read), partition 1 d1 (2 messages, 1 read).
  const cells = partitions.map((r) => r.split("\t").slice(0, 5).map((c) => c.trim()).join(" "));
  expect(cells[0] === "0 0 4 2 2" && cells[1] === "1 0 2 1 1", `partition, earliest, latest, read to, lag: ${cells}`);
  // A producer whose acknowledgement was lost sends the message again: two copies in the topic.
  await page.locator("#producer-key").fill("d9");
  await page.locator("#producer-value").fill('{"device": "d9", "temp": 30.0, "ts": "2026-01-01 00:00:09"}');
  await page.locator("#producer-retries").fill("1");
  expect((await page.locator("#produce").innerText()).includes("2 copies"), await page.locator("#produce").innerText());
  await page.locator("#produce").click();
  await page.waitForFunction(() => document.querySelector("#topic-sensor_data .topic-lag")?.textContent.startsWith("5 messages"));
  const unread = await page.locator("#topic-sensor_data table.messages tbody tr.unread").allInnerTexts();
  expect(unread.filter((r) => r.includes("d9")).length === 2, `both copies wait: ${unread}`);
  await page.screenshot({ path: `${shots}/25-kafka-topic.png`, fullPage: true });
  await page.locator("#run").click();
  await page.waitForFunction(() => document.querySelector("#topic-sensor_data .topic-lag")?.textContent.startsWith("0 messages"));
  const rows = await page.locator("#output tbody tr").count();
  expect(rows === 8, `3 + 5 rows in bronze, the retry's copy among them: ${rows}`);
});

await test("an-auto-loader-folder-its-files-and-a-schema-that-evolves", async (page) => {
  await page.goto(`${url}?storage=memory&example=auto-loader-new-column`);
  await page.locator("#panel-folders").waitFor();
  const folder = () => page.locator("#folder-landing").innerText();
  expect((await folder()).includes("No file has landed yet"), await folder());
  await page.locator("#scrub-forward").click();
  await page.waitForFunction(() => document.querySelector("#folder-landing .schema-location")?.textContent.includes("version 0"));
  expect((await page.locator("#folder-landing tbody tr").first().innerText()).includes("batch 0"), "a.json read by batch 0");
  // b.json brings `city`: the stream stops and the schema location gets version 1.
  await page.locator("#scrub-forward").click();
  await page.waitForFunction(() => document.querySelector("#folder-landing .schema-location")?.textContent.includes("version 1"));
  expect((await page.locator("#folder-landing .schema-location").innerText()).includes("city"), "the new column recorded");
  expect((await page.locator("#query-error, .error").first().innerText()).includes("city"), "the stop says why");
  // Land a file of our own, then run: the restarted stream reads b.json and it, city a column.
  await page.locator("#land-name").fill("mine.json");
  await page.locator("#land-text").fill('{"id": 7, "name": "eve", "city": "Lima"}');
  await page.locator("#land").click();
  await page.waitForFunction(() => document.querySelector("#folder-landing")?.textContent.includes("mine.json"));
  await page.screenshot({ path: `${shots}/26-landing-folder.png`, fullPage: true });
  await page.locator("#run").click();
  await page.waitForFunction(() => [...document.querySelectorAll("#folder-landing tbody tr")].every((r) => r.textContent.includes("batch")));
  const rows = await page.locator("#output tbody tr").count();
  expect(rows === 4, `ann, bob, cy, eve: ${rows}`);
});

await test("a-cluster-slower-than-the-generator-shows-backpressure", async (page) => {
  // The default session is the trucks example, whose generator feeds it.
  await page.locator("#output tbody.rows tr").first().waitFor();
  await page.locator("#generator summary").click();
  await page.locator("#gen-rate").fill("40");
  await page.locator("#toggle-generator").click();
  await page.locator("#capacity").selectOption("5");
  await page.locator("#interval").selectOption("250");
  await page.locator("#play").click();
  await page.locator("#backpressure").waitFor({ timeout: 15000 });
  const why = await page.locator("#backpressure").innerText();
  expect(why.includes("for a 250 ms trigger"), why);
  expect(/at 5 rows\/s/.test(why), why);
  await page.waitForFunction(() => document.querySelectorAll("#progress tbody tr").length >= 4, null, { timeout: 15000 });
  await page.locator("#play").click();
  // The rates chart: input above processing once the cluster falls behind.
  const batches = await page.locator("#progress tbody tr").allInnerTexts();
  await page.screenshot({ path: `${shots}/27-backpressure.png`, fullPage: true });
  expect(batches.length >= 4, `${batches.length} batches`);
});

await test("a-generator-into-a-kafka-topic-outruns-a-slow-cluster-and-the-lag-climbs", async (page) => {
  await page.goto(`${url}?storage=memory&example=kafka-backpressure`);
  await page.locator("#panel-topics").waitFor();
  await page.locator("#generator summary").click();
  expect((await page.locator("#generator").innerText()).includes("produced to the Kafka topic sensor_data"), "the generator says where its events go");
  await page.locator("#gen-rate").fill("40");
  await page.locator("#toggle-generator").click();
  await page.locator("#capacity").selectOption("5");
  await page.locator("#interval").selectOption("250");
  await page.locator("#play").click();
  await page.locator("#chart-behind").waitFor({ timeout: 15000 });
  const lag = async () => Number((await page.locator("#topic-sensor_data .topic-lag").innerText()).split(" ")[0]);
  const first = await lag();
  await page.waitForFunction((n) => Number(document.querySelector("#topic-sensor_data .topic-lag")?.textContent.split(" ")[0]) > n + 20, first, { timeout: 15000 });
  await page.locator("#play").click();
  const sizes = (await page.locator("#progress tbody tr").allInnerTexts()).map((r) => Number(r.split("\t")[1]));
  expect(sizes.every((n) => n <= 4), `maxOffsetsPerTrigger keeps each batch at 4 or fewer: ${sizes}`);
  await page.screenshot({ path: `${shots}/28-kafka-backpressure.png`, fullPage: true });
});

await test("available-now-keeps-the-read-limit-and-once-ignores-it", async (page) => {
  await page.goto(`${url}?storage=memory&example=kafka-bronze`);
  await page.locator("#panel-topics").waitFor();
  await runToEnd(page);
  const batches = () => page.locator("#progress tbody tr").count();
  const send = async (copies) => {
    await page.locator("#producer-key").fill("d7");
    await page.locator("#producer-retries").fill(String(copies - 1));
    await page.locator("#produce").click();
    await page.waitForFunction((n) => document.querySelector("#topic-sensor_data .topic-lag")?.textContent.startsWith(`${n} message`), copies);
  };
  // maxOffsetsPerTrigger is 4: availableNow reads 6 waiting messages in two batches or more.
  await send(6);
  let before = await batches();
  await page.locator("#available-now").click();
  await page.waitForFunction(() => document.querySelector("#topic-sensor_data .topic-lag")?.textContent.startsWith("0 messages"));
  const rows = async () => (await page.locator("#progress tbody tr").allInnerTexts()).map((r) => Number(r.split("\t")[1]));
  const now = (await rows()).slice(0, (await batches()) - before).filter((n) => n > 0);
  expect(now.length >= 2 && now.every((n) => n <= 4), `availableNow keeps the limit: ${now}`);
  // Once: one batch with everything, the limit ignored.
  await send(6);
  before = await batches();
  await page.locator("#once").click();
  await page.waitForFunction(() => document.querySelector("#topic-sensor_data .topic-lag")?.textContent.startsWith("0 messages"));
  const once = (await rows()).slice(0, (await batches()) - before).filter((n) => n > 0);
  expect(once.length === 1 && once[0] === 6, `once reads all 6 in one batch: ${once}`);
});

await test("continuous-processing-keeps-the-query-running-and-shows-each-record-s-latency", async (page) => {
  await page.goto(`${url}?storage=memory&example=kafka-bronze`);
  await page.locator("#panel-topics").waitFor();
  await runToEnd(page);
  // Real-Time Mode refuses the example's append mode with Spark's error; nothing else changes.
  const rowsBefore = await page.locator("#progress tbody tr").count();
  await page.locator("#trigger-mode").selectOption("realTime");
  await page.locator("#interval").selectOption("5000");
  await page.locator("#play").click();
  await page.locator("#query-error").waitFor();
  const refused = await page.locator("#query-error").innerText();
  expect(refused.includes("OUTPUT_MODE_NOT_SUPPORTED") || refused.includes("Update"), refused);
  expect((await page.locator("#play").innerText()) === "Play", "the refused trigger does not play");
  expect((await page.locator("#progress tbody tr").count()) === rowsBefore, "no batch ran");
  // Continuous: an epoch a second; a message produced while it runs is processed at once.
  await page.locator("#trigger-mode").selectOption("continuous");
  await page.locator("#interval").selectOption("1000");
  await page.locator("#play").click();
  await page.locator("#live-mode").waitFor();
  expect((await page.locator("#live-mode").innerText()).includes("at-least-once"), "the note says the delivery guarantee");
  await page.locator("#producer-key").fill("d9");
  await page.locator("#producer-retries").fill("2");
  await page.locator("#produce").click();
  // The epoch ends within a second and commits the three copies: a batch of its own.
  await page.waitForFunction((n) => document.querySelectorAll("#progress tbody tr").length > n, rowsBefore, { timeout: 15000 });
  await page.waitForFunction((id) => document.querySelector("#latency-summary")?.textContent.startsWith(`Batch ${id}:`), rowsBefore, { timeout: 15000 });
  const summary = await page.locator("#latency-summary").innerText();
  expect(/3 records/.test(summary), summary);
  const cells = await page.locator("#latency-table tbody tr").first().innerText();
  expect(cells.includes("sensor_data [1]") && cells.includes("3..5"), cells);
  await page.screenshot({ path: `${shots}/30-continuous-latency.png`, fullPage: true });
  await page.locator("#play").click();
  await page.waitForFunction(() => !document.querySelector("#live-mode"));
});

await test("retention-deletes-unread-messages-and-the-next-batch-fails-with-sparks-advice", async (page) => {
  await page.goto(`${url}?storage=memory&example=kafka-bronze`);
  await page.locator("#panel-topics").waitFor();
  await runToEnd(page);
  await page.locator("#producer-partition").selectOption("0");
  await page.locator("#producer-retries").fill("2");
  await page.locator("#produce").click();
  await page.waitForFunction(() => document.querySelector("#topic-sensor_data .topic-lag")?.textContent.startsWith("3 message"));
  await page.locator("#retention-keep").fill("1");
  await page.locator("#retain").click();
  await page.waitForFunction(() => document.querySelector("#topic-sensor_data .topic-lag")?.textContent.startsWith("1 message"));
  await page.locator("#run").click();
  await page.locator("#query-error").waitFor();
  const e = await page.locator("#query-error").innerText();
  expect(e.includes("failOnDataLoss") && e.includes("sensor_data-0"), e);
  await page.screenshot({ path: `${shots}/29-kafka-retention.png`, fullPage: true });
});

await test("the-editor-shows-a-whole-line-of-an-example-at-1280-px", async (page) => {
  // The stream-stream join has the gallery's widest lines; the gallery's own test keeps every
  // example's lines within 72 characters.
  for (const id of ["join-then-window", "tumbling-append", "medallion"]) {
    await page.goto(`${url}?storage=memory&example=${id}`);
    await page.locator("#sql").waitFor();
    await page.waitForFunction(() => document.querySelector("#sql").value.includes("SELECT"));
    const fit = await page.evaluate(() => {
      const sql = document.querySelector("#sql");
      const widest = Math.max(...sql.value.split("\n").map((l) => l.length));
      return { widest, scroll: sql.scrollWidth, width: sql.clientWidth };
    });
    expect(fit.widest > 60, `${id}: a long line to fit (${fit.widest})`);
    expect(fit.scroll <= fit.width, `${id}: its ${fit.widest}-character line scrolls sideways (${fit.scroll} > ${fit.width} px)`);
  }
  await page.screenshot({ path: `${shots}/18-editor-1280.png` });
});

await browser.close();
let failed = 0;
for (const [name, err] of results) {
  if (err) { failed++; console.log(`FAIL ${name}: ${err.message}`); } else { console.log(`ok   ${name}`); }
}
console.log(`e2e: ${results.length - failed} passed, ${failed} failed`);
process.exit(failed ? 1 : 0);
