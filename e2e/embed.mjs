// The embedding of issue 16 in headless Chromium: the demo article's <unbounded-playground>
// elements, the strict-CSP page, the cross-origin embed and the JavaScript API in a worker.
// Usage: node e2e/embed.mjs URL SHOTS SECOND_ORIGIN_URL   (the same dist/ served twice)
import { readFileSync } from "node:fs";
import { url, suite, expect } from "./harness.mjs";

const shots = process.argv[3] ?? "e2e/screenshots";
const second = process.argv[4];
const { test, finish } = suite("e2e-embed");
const demo = new URL("www/demo/", url).href;
const expected = (path) => JSON.parse(readFileSync(`tests/scenarios/${path}`, "utf8"));

// Inside an element's shadow root (Playwright's CSS locators pierce open shadow roots).
const inEmbed = (page, id, selector) => page.locator(`unbounded-playground#${id} ${selector}`);
const rows = (page, id) => inEmbed(page, id, "#output tbody.rows tr").count();
const state = (page, id) => page.locator(`unbounded-playground#${id}`).getAttribute("data-state");

async function running(page, id) {
  await page.locator(`unbounded-playground#${id}`).scrollIntoViewIfNeeded();
  await page.waitForFunction((id) => document.getElementById(id)?.dataset.state === "running", id, { timeout: 60000 });
  await inEmbed(page, id, "#output").waitFor({ state: "attached", timeout: 60000 });
}

// An embed opens its example at batch 0, as the page does: its scrubber's "Run to the end"
// applies every queued run (an autoplay embed applies them one per trigger by itself).
async function toEnd(page, id) {
  const end = inEmbed(page, id, "#scrub-end");
  await end.waitFor({ state: "attached", timeout: 60000 });
  if (!(await end.isDisabled())) await end.click();
  await page.waitForFunction((id) => document.getElementById(id)?.shadowRoot?.querySelector("#scrub-end")?.disabled, id, { timeout: 30000 });
}

async function sinkRows(page, id, n) {
  await page.waitForFunction(
    ([id, n]) => document.getElementById(id)?.shadowRoot?.querySelectorAll("#output tbody.rows tr").length === n,
    [id, n],
    { timeout: 30000 },
  );
}

await test("each-embed-of-the-article-runs-its-example-to-the-gallerys-output", async (page) => {
  await page.goto(demo);
  for (const [id, file] of [["small", "gallery/watermark-small.expected.json"], ["tumbling", "spark-examples/030-tumbling-append-late.expected.json"], ["full", "stateless/trucks-cold-chain.expected.json"]]) {
    await running(page, id);
    await toEnd(page, id);
    const want = expected(file);
    await sinkRows(page, id, want.sink.length);
    const cells = await inEmbed(page, id, "#output tbody.rows tr").evaluateAll((trs) => trs.map((tr) => [...tr.cells].map((c) => c.textContent)));
    // Each of Spark's rows is in the table (values as the page prints them).
    for (const row of want.sink) {
      const printed = row.map((v) => (v && typeof v === "object" ? `${v.start} – ${v.end}` : String(v)));
      const hit = cells.some((c) => printed.every((p) => c.some((cell) => cell.includes(p.split(" – ")[0]))));
      expect(hit, `${id}: Spark's row ${JSON.stringify(row)} is not in ${JSON.stringify(cells)}`);
    }
    await page.locator(`unbounded-playground#${id}`).screenshot({ path: `${shots}/embed-${id}.png` });
  }
  await page.locator("unbounded-playground#small").scrollIntoViewIfNeeded();
  await page.screenshot({ path: `${shots}/embed-article.png` });
});

await test("an-embed-off-screen-does-no-work-until-scrolled-into-view", async (page) => {
  await page.goto(demo);
  await running(page, "small");
  // The two below the fold have not started: no worker, no app in their shadow roots.
  expect((await state(page, "tumbling")) === "idle" && (await state(page, "full")) === "idle", "embeds below the fold wait");
  expect((await inEmbed(page, "full", ".page").count()) === 0, "nothing is rendered in an embed off screen");
  const workers = () => page.evaluate(() => performance.getEntriesByType("resource").filter((r) => r.name.endsWith("/worker.js")).length);
  const before = page.workers().length;
  expect(before === 1, `one worker for the one embed in view, not ${before}`);
  await running(page, "full");
  expect(page.workers().length === 2, `a second worker once the full embed is seen: ${page.workers().length}`);
  expect((await workers()) >= 1, "worker.js was fetched");
});

await test("an-autoplay-embed-runs-its-trigger-in-view-and-stops-it-out-of-view", async (page) => {
  await page.goto(demo);
  await running(page, "small");
  const batches = () => inEmbed(page, "small", "#progress tbody tr").count();
  const playing = () => inEmbed(page, "small", "#play").getAttribute("aria-pressed");
  await page.waitForFunction(() => document.getElementById("small").shadowRoot.querySelector("#play")?.getAttribute("aria-pressed") === "true", null, { timeout: 20000 });
  // Playing plays the example as it arrives: its first queued run, then the next.
  await page.waitForFunction(() => document.getElementById("small").shadowRoot.querySelectorAll("#progress tbody tr").length >= 1, null, { timeout: 20000 });
  await page.locator("unbounded-playground#full").scrollIntoViewIfNeeded();
  await page.waitForFunction(() => document.getElementById("small").shadowRoot.querySelector("#play")?.getAttribute("aria-pressed") === "false", null, { timeout: 20000 });
  expect((await playing()) === "false", "the trigger stops when the embed scrolls away");
  const n = await batches();
  await page.locator("unbounded-playground#small").scrollIntoViewIfNeeded();
  await page.waitForFunction(() => document.getElementById("small").shadowRoot.querySelector("#play")?.getAttribute("aria-pressed") === "true", null, { timeout: 20000 });
  expect(n >= 1, "batches ran");
});

await test("a-readonly-embed-cannot-edit-its-query-and-can-add-events", async (page) => {
  await page.goto(demo);
  await running(page, "small");
  const sql = inEmbed(page, "small", "#sql");
  expect(await sql.evaluate((t) => t.readOnly), "the editor is read-only");
  const before = await sql.inputValue();
  await sql.press("End").catch(() => {});
  await page.keyboard.type(" garbage");
  expect((await sql.inputValue()) === before, "typing changes nothing");
  expect((await inEmbed(page, "small", "#start").isVisible()) === false, "no Start query");
  expect(await inEmbed(page, "small", "#add-event").isVisible(), "events can still be added");
});

await test("two-embeds-never-share-state-storage-or-styles", async (page) => {
  await page.goto(demo);
  await running(page, "small");
  await running(page, "full");
  const count = (id) => inEmbed(page, id, "#schema").innerText().then((t) => Number((t.match(/(\d+) events/) || [])[1]));
  const [small, full] = [await count("small"), await count("full")];
  // An event in one embed is not in the other.
  await inEmbed(page, "full", "#field-truck_id").fill("T-9");
  await inEmbed(page, "full", "#field-temp_c").fill("9");
  await inEmbed(page, "full", "#field-speed_kmh").fill("50");
  await inEmbed(page, "full", "#field-ts").fill("2026-01-01 00:09:00");
  await inEmbed(page, "full", "#add-event").click();
  await page.waitForFunction((n) => document.getElementById("full").shadowRoot.querySelector("#schema").innerText.includes(`${n + 1} events`), full);
  expect((await count("small")) === small, "the other embed's sources are unchanged");
  // The IndexedDB embed keeps its session under its own namespace; the memory one keeps none.
  const dbs = await page.evaluate(async () => (await indexedDB.databases()).map((d) => d.name));
  expect(dbs.includes("unbounded-playground.embed-demo-full"), `databases ${JSON.stringify(dbs)}`);
  expect(!dbs.includes("unbounded-playground"), "the full playground's own session is untouched");
  // Nothing of the page's storage is read or written by an embed.
  expect((await page.evaluate(() => localStorage.length)) === 0, "no local storage written");
  // The host's rude CSS (red, 30px buttons) does not reach in.
  const color = await inEmbed(page, "full", "#run").evaluate((b) => getComputedStyle(b).fontSize);
  expect(color !== "30px", `the host page's button style leaked in: ${color}`);
  expect((await page.locator("body").evaluate((b) => getComputedStyle(b).fontFamily)).includes("Georgia"), "the embed's CSS does not leak out");
  // A reload resumes the IndexedDB embed (its event is there) and restarts the memory one.
  await page.reload();
  await running(page, "full");
  await page.waitForFunction((n) => document.getElementById("full").shadowRoot.querySelector("#schema")?.innerText.includes(`${n + 1} events`), full, { timeout: 30000 });
});

await test("the-panels-attribute-shows-only-the-panels-asked-for", async (page) => {
  await page.goto(demo);
  await running(page, "tumbling");
  expect(await inEmbed(page, "tumbling", "#timeline").isVisible(), "the timeline shows");
  expect(await inEmbed(page, "tumbling", "#output").isVisible(), "the output shows");
  for (const hidden of [".query-panel", ".events-panel", "#state", "#progress", "#explain"]) {
    expect(!(await inEmbed(page, "tumbling", hidden).first().isVisible()), `${hidden} is hidden`);
  }
  const theme = await inEmbed(page, "tumbling", ".unbounded-root").evaluate((e) => getComputedStyle(e).colorScheme);
  expect(theme.includes("dark"), `theme="dark": ${theme}`);
  await page.locator("unbounded-playground#tumbling").screenshot({ path: `${shots}/embed-timeline-output.png` });
});

await test("open-in-the-full-playground-carries-the-session", async (page, context) => {
  await page.goto(demo);
  await running(page, "full");
  // The link carries the session as it is now: with an event the example does not have.
  const events = (p, root) => p.evaluate((root) => {
    const doc = root ? document.getElementById(root).shadowRoot : document;
    return Number((doc.querySelector("#schema")?.innerText.match(/(\d+) events/) || [])[1]);
  }, root);
  await toEnd(page, "full");
  const n = await events(page, "full");
  await inEmbed(page, "full", "#field-truck_id").fill("T-7");
  await inEmbed(page, "full", "#field-temp_c").fill("7");
  await inEmbed(page, "full", "#field-speed_kmh").fill("50");
  await inEmbed(page, "full", "#field-ts").fill("2026-01-01 00:07:00");
  await inEmbed(page, "full", "#add-event").click();
  await page.waitForFunction((n) => document.getElementById("full").shadowRoot.querySelector("#schema").innerText.includes(`${n + 1} events`), n);
  const link = inEmbed(page, "full", "#open-full");
  await link.hover();
  await page.waitForFunction(() => document.getElementById("full").shadowRoot.querySelector("#open-full")?.href.includes("#s=1."), null, { timeout: 20000 });
  const href = await link.getAttribute("href");
  const full = await context.newPage();
  await full.goto(href.replace("#", "?storage=memory#"));
  await full.locator("#sql").waitFor();
  // The full playground opens a link at batch 0 too.
  await full.locator("#scrub-end").click();
  await full.waitForFunction(() => document.querySelector("#scrub-end")?.disabled, null, { timeout: 20000 });
  await full.waitForFunction((n) => document.querySelector("#schema")?.innerText.includes(`${n + 1} events`), n, { timeout: 20000 });
  expect((await full.locator("#sql").inputValue()).includes("truck_locations"), "the full playground opened the embed's query");
  await full.close();
});

await test("the-strict-csp-page-runs-its-embeds", async (page) => {
  const violations = [];
  page.on("console", (m) => { if (/Content.Security.Policy|Refused/.test(m.text())) violations.push(m.text()); });
  await page.goto(new URL("csp.html", demo).href);
  await running(page, "csp");
  await toEnd(page, "csp");
  await sinkRows(page, "csp", expected("spark-examples/030-tumbling-append-late.expected.json").sink.length);
  await running(page, "inline");
  await toEnd(page, "inline");
  await sinkRows(page, "inline", 2);
  const text = await inEmbed(page, "inline", "#output").innerText();
  expect(text.includes("twice") && text.includes("4"), `the inline scenario ran: ${text}`);
  expect(violations.length === 0, `CSP violations: ${violations.join("; ")}`);
  await page.screenshot({ path: `${shots}/embed-csp.png`, fullPage: true });
});

await test("an-embed-from-another-origin-works", async (page) => {
  expect(second, "needs the second origin (argument 3)");
  const origin = new URL(second).origin;
  expect(origin !== new URL(url).origin, "a different origin");
  await page.goto(`${new URL("cross-origin.html", demo).href}?from=${encodeURIComponent(origin)}`);
  await running(page, "remote");
  await toEnd(page, "remote");
  await sinkRows(page, "remote", expected("stateful/dedup-retried-events.expected.json").sink.length);
  const fromThere = await page.evaluate((o) => performance.getEntriesByType("resource").some((r) => r.name.startsWith(o) && r.name.endsWith(".wasm")), origin);
  expect(fromThere, "the wasm came from the other origin");
});

await test("the-javascript-api-runs-in-a-worker-with-errors", async (page) => {
  await page.goto(new URL("api.html", demo).href);
  await page.waitForFunction(() => document.getElementById("api-result").textContent !== "running…", null, { timeout: 60000 });
  const text = await page.locator("#api-result").textContent();
  expect(text === JSON.stringify([["a", 2], ["b", 3]]), `the API's result: ${text}`);
  expect(page.workers().length === 1, "the session runs in a worker");
  const result = await page.evaluate(async () => {
    const s = globalThis.apiSession;
    const out = {};
    try { await s.setQuery("SELECT k,\n  nope FROM STREAM s"); } catch (e) { out.query = [e instanceof Error, e.kind, e.line, e.column]; }
    try { await s.push("s", [["c"]]); } catch (e) { out.push = [e.kind, e.message]; }
    const heard = new Promise((ok) => s.on("batch", ok));
    await s.push("s", [["c", 3]]);
    await s.trigger(100);
    out.batch = (await heard).rows;
    await s.trigger(0);
    out.exported = JSON.parse(await s.exportScenario()).steps.length > 0;
    out.pyspark = (await s.toPySpark()).includes("readStream");
    const { Session } = await import("../unbounded.js");
    try { await Session.create({ scenario: "{ nope" }); } catch (e) { out.create = [e.kind, e.line, e.column]; }
    const mem = await Session.create({ example: "watermark-small" });
    const idb = await Session.create({ example: "watermark-small", storage: { kind: "indexeddb", namespace: "api-test" } });
    await idb.push("readings", [["d9", 1.0, "2026-01-01 00:10:00"]]).catch((e) => { out.idbError = e.message; });
    out.separate = [mem.sources[0].rows, idb.sources[0].rows];
    out.dbs = (await indexedDB.databases()).map((d) => d.name);
    mem.close();
    idb.close();
    return out;
  });
  expect(JSON.stringify(result.query) === JSON.stringify([true, "unknown_column", 2, 3]), `query error ${JSON.stringify(result.query)}`);
  expect(result.push && result.push[0] === "invalid_input", `push error ${JSON.stringify(result.push)}`);
  expect(JSON.stringify(result.batch) === JSON.stringify([["c", 4]]), `trigger batch ${JSON.stringify(result.batch)}`);
  expect(result.exported && result.pyspark, "exports");
  expect(result.create && result.create[0] === "invalid_input" && result.create[1] === 1, `create error ${JSON.stringify(result.create)}`);
  expect(!result.idbError && result.separate[1] === result.separate[0] + 1, `two sessions ${JSON.stringify(result)}`);
  expect(result.dbs.includes("unbounded-playground.embed-api-test"), `databases ${JSON.stringify(result.dbs)}`);
});

await finish();
