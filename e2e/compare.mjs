// End-to-end tests of the compare view: gallery examples over the same events, one difference
// apart, stepped together from batch 0 to the end and back. At every position each side's
// watermark, state, late rows, rows emitted, sink and change stream are checked against the
// output Spark gave for its scenario; a bad link says why; the saved session stays untouched.
// Usage: node e2e/compare.mjs URL SCREENSHOT_DIR
import { readFileSync } from "node:fs";
import { addTruckEvent, events, expect, open, shots, suite, url } from "./harness.mjs";

const { test, finish } = suite("compare");

const read = (path) => JSON.parse(readFileSync(new URL(`../tests/scenarios/${path}`, import.meta.url), "utf8"));

// Each example's scenario file; `key` is the GROUP BY columns an update-mode sink keeps one row for.
const FILES = {
  "watermark-small": { path: "gallery/watermark-small.json" },
  "watermark-large": { path: "gallery/watermark-large.json" },
  "dedup-window-append": { path: "stateful/dedup-then-window-append.json" },
  "dedup-window-update": { path: "stateful/dedup-then-window-update.json", key: [0, 1] },
  "join-then-window": { path: "stream-joins/ss-join-then-window.json" },
  "join-then-window-update": { path: "stream-joins/ss-join-then-window-update.json", key: [0, 1] },
  "join-then-window-complete": { path: "stream-joins/ss-join-then-window-complete.json" },
};

// The text the page shows for a value Spark wrote (protocol.rs `cell`).
function text(v) {
  if (v === null) return "NULL";
  if (typeof v === "object" && "start" in v) return `[${v.start}, ${v.end})`;
  return String(v);
}
function sameRow(cells, row) {
  return cells.length === row.length && row.every((v, k) => (typeof v === "number" ? Number(cells[k]) === v : cells[k] === text(v)));
}
const rowKey = (row) => JSON.stringify(row);

// What Spark's output says each side shows after each run: FORMAT.md's sink rule per output mode,
// the run's batches' numbers, and the change stream as the multiset difference of the sinks.
function oracle(id) {
  const { path, key } = FILES[id];
  const scenario = read(path);
  const want = read(path.replace(/\.json$/, ".expected.json"));
  if (want.error) return { id, refused: want.error };
  const runSteps = scenario.steps.map((s, i) => ("run" in s ? i : -1)).filter((i) => i >= 0);
  let sink = [];
  const positions = [{ sink: [], watermark: "none (nothing has run)", state: 0, late: 0, emitted: 0, changes: [] }];
  let last = null;
  for (const step of runSteps) {
    const batches = want.runs.find((r) => r.step === step)?.batches ?? [];
    const before = sink;
    for (const b of batches) {
      if (scenario.output_mode === "complete") sink = b.rows;
      else if (scenario.output_mode === "update" && key) {
        sink = [...sink];
        for (const r of b.rows) {
          const k = sink.findIndex((s) => key.every((c) => rowKey(s[c]) === rowKey(r[c])));
          if (k >= 0) sink[k] = r; else sink.push(r);
        }
      } else sink = [...sink, ...b.rows];
    }
    if (batches.length) last = batches.at(-1);
    const weights = new Map();
    for (const r of before) weights.set(rowKey(r), (weights.get(rowKey(r)) ?? 0) - 1);
    for (const r of sink) weights.set(rowKey(r), (weights.get(rowKey(r)) ?? 0) + 1);
    const changes = [...weights].filter(([, w]) => w !== 0).map(([r, w]) => ({ weight: w, row: JSON.parse(r) }));
    positions.push({
      sink,
      watermark: last ? (last.watermark ?? "none") : "none (nothing has run)",
      state: last ? last.state_rows : 0,
      late: batches.reduce((a, b) => a + b.dropped_late, 0),
      emitted: batches.reduce((a, b) => a + b.rows.length, 0),
      changes,
    });
  }
  // The rule applied to Spark's batches gives Spark's final sink: the oracle itself is checked.
  expect(sink.length === want.sink.length && want.sink.every((r) => sink.some((s) => rowKey(s) === rowKey(r))),
    `${id}: the oracle's sink ${JSON.stringify(sink)} is Spark's ${JSON.stringify(want.sink)}`);
  return { id, positions };
}

async function openComparison(page, ids) {
  await page.goto(`${url}?compare=${ids.join(",")}`);
  await waitPosition(page, 0);
}

const waitPosition = (page, n) =>
  page.waitForFunction((n) => document.querySelector("#compare-bar")?.dataset.position === String(n), n, { timeout: 20000 });

// What side `k` shows.
const shown = (page, k) => page.locator(`#side-${k}`).evaluate((side) => {
  const cells = (tr) => [...tr.querySelectorAll("td:not(.weight)")].map((td) => td.innerText);
  return {
    example: side.dataset.example,
    watermark: side.querySelector(".side-watermark")?.innerText,
    state: Number(side.querySelector(".side-state")?.innerText),
    late: side.querySelector(".side-late")?.innerText,
    emitted: Number(side.querySelector(".side-emitted")?.dataset.count),
    sink: [...side.querySelectorAll("table.side-sink tbody tr")].map(cells),
    changes: [...side.querySelectorAll("table.side-changes tbody tr")].map((tr) => ({ weight: Number(tr.dataset.weight), cells: cells(tr) })),
    refused: side.querySelector(".side-refused")?.innerText ?? null,
    marked: [...side.querySelectorAll(".side-query mark.differs")].map((m) => m.innerText),
    mode: side.querySelector(".side-mode")?.innerText,
  };
});

// Every side at position `n` against its oracle.
async function checkAt(page, sides, n) {
  for (const [k, o] of sides.entries()) {
    const got = await shown(page, k);
    expect(got.example === o.id, `side ${k} is ${got.example}`);
    if (o.refused) {
      expect(got.refused?.includes(o.refused.kind), `${o.id}: the refusal is shown: ${got.refused}`);
      continue;
    }
    const want = o.positions[n];
    const where = `${o.id} at run ${n}`;
    expect(got.watermark === want.watermark, `${where}: watermark ${got.watermark}, Spark ${want.watermark}`);
    expect(got.state === want.state, `${where}: state rows ${got.state}, Spark ${want.state}`);
    expect(got.late.startsWith(`${want.late} this step`), `${where}: late ${got.late}, Spark ${want.late}`);
    expect(got.emitted === want.emitted, `${where}: emitted ${got.emitted}, Spark ${want.emitted}`);
    expect(got.sink.length === want.sink.length && want.sink.every((r) => got.sink.some((c) => sameRow(c, r))),
      `${where}: the sink ${JSON.stringify(got.sink)}, Spark's ${JSON.stringify(want.sink)}`);
    expect(got.changes.length === want.changes.length
      && want.changes.every((c) => got.changes.some((g) => g.weight === c.weight && sameRow(g.cells, c.row))),
      `${where}: the change stream ${JSON.stringify(got.changes)}, from Spark's ${JSON.stringify(want.changes)}`);
  }
}

// Steps a comparison from batch 0 to its end and back, then to the end and to the start at once.
async function stepThrough(page, ids, onTheWay = async () => {}) {
  const sides = ids.map(oracle);
  const runs = sides.find((s) => s.positions).positions.length - 1;
  await openComparison(page, ids);
  await checkAt(page, sides, 0);
  for (let n = 1; n <= runs; n++) {
    await page.locator("#compare-forward").click();
    await waitPosition(page, n);
    await checkAt(page, sides, n);
    await onTheWay(n);
  }
  expect(await page.locator("#compare-forward").isDisabled(), "nothing is left to step");
  for (let n = runs - 1; n >= 0; n--) {
    await page.locator("#compare-back").click();
    await waitPosition(page, n);
    await checkAt(page, sides, n);
  }
  expect(await page.locator("#compare-back").isDisabled(), "back at batch 0");
  await page.locator("#compare-end").click();
  await waitPosition(page, runs);
  await checkAt(page, sides, runs);
  await page.locator("#compare-first").click();
  await waitPosition(page, 0);
  await checkAt(page, sides, 0);
  return sides;
}

await test("the-watermark-pair-steps-together-from-batch-0-to-the-end-and-back", async (page) => {
  await stepThrough(page, ["watermark-small", "watermark-large"], async (n) => {
    if (n === 3) {
      for (const width of [1280, 720, 360]) {
        await page.setViewportSize({ width, height: 900 });
        await page.screenshot({ path: `${shots}/30-compare-watermark-${width}.png`, fullPage: width !== 1280 });
      }
      await page.setViewportSize({ width: 1280, height: 860 });
    }
  });
  // The one difference, marked on each side: the delay, and not the rest of the query.
  const [small, large] = [await shown(page, 0), await shown(page, 1)];
  expect(JSON.stringify(small.marked) === '["2"]' && JSON.stringify(large.marked) === '["30"]', `marked: ${small.marked} / ${large.marked}`);
  expect((await page.locator("#compare-lesson").innerText()).includes("2 s against 30 s"), "the lesson is said");
  // The lesson in numbers: the small watermark drops the two stragglers, the large one none.
  await page.locator("#compare-end").click();
  await waitPosition(page, 5);
  const total = async (k) => Number(await page.locator(`#side-${k} .side-late`).getAttribute("data-total"));
  expect((await total(0)) === 2 && (await total(1)) === 0, `late rows in all: ${await total(0)} and ${await total(1)}`);
});

await test("output-modes-side-by-side-as-change-streams", async (page) => {
  await stepThrough(page, ["dedup-window-append", "dedup-window-update"], async (n) => {
    if (n === 2) await page.screenshot({ path: `${shots}/31-compare-modes-1280.png`, fullPage: true });
  });
  const [append, update] = [await shown(page, 0), await shown(page, 1)];
  expect(append.marked.length === 0 && update.marked.length === 0, "the queries are the same");
  expect(append.mode.includes("append") && update.mode.includes("update"), `${append.mode} / ${update.mode}`);
  expect((await page.locator("#side-1 .side-mode mark.differs").count()) === 1, "the output mode is marked as the difference");
  // Three sides, the third refused by Spark: the other two still step together.
  await stepThrough(page, ["join-then-window", "join-then-window-update", "join-then-window-complete"], async (n) => {
    if (n === 1) {
      // Update writes a window as soon as a click joins it; append waits: a retraction later replaces it.
      const up = await shown(page, 1);
      expect(up.changes.length > 0 && up.changes.every((c) => c.weight > 0), `update's first step adds rows: ${JSON.stringify(up.changes)}`);
      await page.screenshot({ path: `${shots}/32-compare-three-1280.png`, fullPage: true });
      await page.setViewportSize({ width: 720, height: 900 });
      await page.screenshot({ path: `${shots}/32-compare-three-720.png`, fullPage: true });
      await page.setViewportSize({ width: 1280, height: 860 });
    }
  });
});

await test("a-bad-link-says-why-and-never-runs-its-text", async (page) => {
  const cases = [
    ["watermark-small", "needs two or three example ids"],
    ["watermark-small,nope", "there is no example `nope`"],
    ["a,b,c,d", "at most 3 examples"],
    ["watermark-small,watermark-small", "named twice"],
    ["medallion-pipeline,pipeline-full-refresh", "is a pipeline"],
    ["dedup,dedup-within-watermark", "do not read the same events"],
    [encodeURIComponent("watermark-small,<img src=x onerror=window.hacked=1>"), "there is no example `<img src=x onerror=window.hacked=1>`"],
    ["x".repeat(300), "300 characters long"],
  ];
  for (const [value, says] of cases) {
    await page.goto(`${url}?compare=${value}`);
    await page.locator("#compare-error").waitFor();
    const message = await page.locator("#compare-error").innerText();
    expect(message.includes(says) && message.includes("watermark-small,watermark-large"), `${value.slice(0, 50)}: ${message}`);
    expect((await page.locator("#compare-error img").count()) === 0 && !(await page.evaluate(() => window.hacked)), "the link is text, never markup");
    expect((await page.locator("#compare-sides").count()) === 0, "no side starts");
  }
  await page.setViewportSize({ width: 360, height: 800 });
  await page.screenshot({ path: `${shots}/33-compare-bad-link-360.png`, fullPage: true });
});

await test("the-gallery-links-each-comparison-and-the-saved-session-is-untouched", async (page, context) => {
  // A saved session with one event more than its scenario's.
  await open(page, url);
  await addTruckEvent(page, "t-09", 9.5, "2026-03-02 08:05:00");
  const saved = await events(page);
  const state = () => page.evaluate(async () => ({
    databases: (await indexedDB.databases()).map((d) => d.name).sort(),
    local: Object.fromEntries(Object.keys(localStorage).sort().map((k) => [k, localStorage.getItem(k)])),
  }));
  const before = await state();
  await page.locator("#gallery summary").click();
  const link = page.locator("#compare-watermark-small");
  expect((await link.getAttribute("href")) === "?compare=watermark-small,watermark-large", await link.getAttribute("href"));
  expect((await page.locator("#compare-dedup-window-update").getAttribute("href")) === "?compare=dedup-window-append,dedup-window-update", "the modes pair");
  expect((await page.locator("#compare-medallion").count()) === 0, "an example without a partner has no link");
  const [compare] = await Promise.all([context.waitForEvent("page"), link.click()]);
  await waitPosition(compare, 0);
  await compare.locator("#compare-end").click();
  await waitPosition(compare, 5);
  await compare.close();
  // Nothing of the comparison reached the browser's storage, and the session reloads whole.
  const after = await state();
  expect(JSON.stringify(after) === JSON.stringify(before), `storage before ${JSON.stringify(before)}, after ${JSON.stringify(after)}`);
  await page.reload();
  await page.locator("#output tbody.rows tr").first().waitFor();
  await page.waitForFunction(() => /\d+ events/.test(document.querySelector("#schema").innerText));
  expect((await events(page)) === saved && (await page.locator("#detached").count()) === 0, `the saved session: ${await events(page)} events, ${saved} before`);
});

await finish();
