// End-to-end tests of "predict, then run": the list of exercises, one exercise done whole (every
// verdict checked against the output Spark gave for the example's scenario, one answer wrong on
// purpose), a share link with its score, the output-mode question against Spark's refusal, a
// bad link, the gallery's links, and the saved session untouched.
// Usage: node e2e/exercise.mjs URL SCREENSHOT_DIR
import { readFileSync } from "node:fs";
import { addTruckEvent, events, expect, open, shots, suite, url } from "./harness.mjs";

const { test, finish } = suite("exercise");

const read = (path) => JSON.parse(readFileSync(new URL(`../tests/scenarios/${path}`, import.meta.url), "utf8"));

// Spark's answer to each kind of question about a run, from its output for the scenario: the
// runs are the scenario's `run` steps, in order.
function sparkAnswers(path) {
  const scenario = read(path);
  const want = read(path.replace(/\.json$/, ".expected.json"));
  const runSteps = scenario.steps.map((s, i) => ("run" in s ? i : -1)).filter((i) => i >= 0);
  return runSteps.map((step) => {
    const batches = want.runs.find((r) => r.step === step)?.batches ?? [];
    return {
      // Every run of these examples ends in the no-data batch its new watermark called for: that
      // batch ran with the watermark the run left.
      watermark: batches.at(-1)?.watermark ?? "none yet",
      written: String(batches.reduce((a, b) => a + b.rows.length, 0)),
      late: String(batches.reduce((a, b) => a + b.dropped_late, 0)),
    };
  });
}

function kindOf(prompt) {
  if (/what watermark/.test(prompt)) return "watermark";
  if (/write to the sink/.test(prompt)) return "written";
  if (/drop as late/.test(prompt)) return "late";
  if (/output modes/.test(prompt)) return "modes";
  throw new Error(`a question this test does not know: ${prompt}`);
}

async function options(page) {
  return page.locator("#exercise-question label.option").allInnerTexts().then((t) => t.map((s) => s.trim()));
}

async function pick(page, text) {
  await page.locator("#exercise-question label.option", { hasText: new RegExp(`^\\s*${text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}\\s*$`) }).click();
}

await test("the-list-names-twenty-exercises-or-more-each-a-link", async (page) => {
  await page.goto(`${url}?exercise=`);
  await page.locator("#exercise-list").waitFor();
  const links = page.locator("#exercise-list a[id^=exercise-]");
  const n = await links.count();
  expect(n >= 20, `${n} exercises listed`);
  expect((await links.first().getAttribute("href")).endsWith("?exercise=stateless-rows"), await links.first().getAttribute("href"));
  await page.screenshot({ path: `${shots}/40-exercise-list-1280.png`, fullPage: true });
  await page.setViewportSize({ width: 360, height: 800 });
  await page.screenshot({ path: `${shots}/40-exercise-list-360.png`, fullPage: true });
});

await test("an-exercise-done-whole-every-verdict-is-sparks-and-the-score-is-shared", async (page) => {
  const runs = sparkAnswers("gallery/watermark-small.json");
  await page.goto(`${url}?exercise=watermark-small`);
  await page.locator("#exercise-prompt").waitFor({ timeout: 30000 });
  const total = 5;
  let right = 0;
  for (let k = 1; k <= total; k++) {
    await page.waitForFunction((k) => document.querySelector("#exercise-progress")?.dataset.question === String(k), k);
    const prompt = await page.locator("#exercise-prompt").textContent();
    const run = Number(prompt.match(/run (\d+)/)[1]);
    const kind = kindOf(prompt);
    const spark = runs[run - 1][kind];
    const opts = await options(page);
    expect(opts.includes(spark), `question ${k} (${prompt}): Spark's answer ${spark} is among ${JSON.stringify(opts)}`);
    // Before the run, nothing of its outcome is shown.
    expect((await page.locator("#exercise-verdict, #exercise-after").count()) === 0, "the outcome waits for the prediction");
    expect(await page.locator("#exercise-lock").isDisabled(), "nothing chosen, nothing to lock in");
    if (k === 1) {
      const arriving = await page.locator("#exercise-arrivals").innerText();
      expect(arriving.includes("readings: d1, 20, 2026-01-01 00:00:01") || arriving.includes("readings: d1, 20.0, 2026-01-01 00:00:01"), arriving);
      await page.screenshot({ path: `${shots}/41-exercise-question-1280.png`, fullPage: true });
    }
    // The second answer is wrong on purpose.
    const wrong = k === 2;
    const choice = wrong ? opts.find((o) => o !== spark) : spark;
    await pick(page, choice);
    await page.locator("#exercise-lock").click();
    const verdict = await page.locator("#exercise-verdict").innerText();
    expect(verdict.startsWith(wrong ? "Not quite." : "Right."), `question ${k}: chose ${choice}, Spark says ${spark}: ${verdict}`);
    const marked = await page.locator("#exercise-question label.right-option").allInnerTexts();
    expect(marked.length === 1 && marked[0].trim() === spark, `the right option marked: ${marked}`);
    if (wrong) expect((await page.locator("#exercise-question label.wrong-option").innerText()).trim() === choice, "the wrong pick is marked");
    else right++;
    const why = await page.locator("#exercise-why").innerText();
    if (kind === "late" && spark === "1") expect(/event time 2026-01-01 00:00:(06|12) is behind the watermark/.test(why), why);
    if (kind === "watermark" && run === 1) expect(why.includes("minus the delay of 2 s"), why);
    if (k === 3) await page.screenshot({ path: `${shots}/42-exercise-answered-1280.png`, fullPage: true });
    if (k < total) await page.locator("#exercise-next").click();
  }
  const final = await page.locator("#exercise-final").innerText();
  expect(final === `Done: ${right} of ${total} right.`, final);
  const share = await page.locator("#exercise-share").getAttribute("href");
  expect(share.startsWith("http://127.0.0.1:") && share.endsWith(`?exercise=watermark-small&score=${right}`), share);
  await page.setViewportSize({ width: 360, height: 800 });
  await page.screenshot({ path: `${shots}/43-exercise-done-360.png`, fullPage: true });
  // The shared link says the score and starts the exercise afresh.
  await page.goto(new URL(share, url).href);
  await page.locator("#exercise-prompt").waitFor({ timeout: 30000 });
  expect((await page.locator("#exercise-shared").innerText()).includes(`${right} of ${total} right`), "the shared score");
  expect((await page.locator("#exercise-progress").getAttribute("data-question")) === "1", "from the first question");
  // Try again starts over.
  await page.setViewportSize({ width: 720, height: 900 });
  await page.screenshot({ path: `${shots}/44-exercise-shared-720.png`, fullPage: true });
});

await test("the-output-mode-question-is-answered-by-sparks-refusal", async (page) => {
  const refusal = read("spark-examples/070-error-append-agg-no-watermark.expected.json").error;
  await page.goto(`${url}?exercise=append-needs-watermark`);
  await page.locator("#exercise-prompt").waitFor({ timeout: 30000 });
  expect(kindOf(await page.locator("#exercise-prompt").textContent()) === "modes", "a mode question");
  expect(JSON.stringify(await options(page)) === JSON.stringify(["append", "update", "complete"]), JSON.stringify(await options(page)));
  // Every mode picked: wrong, since Spark refuses append.
  for (const m of ["append", "update", "complete"]) await pick(page, m);
  await page.locator("#exercise-lock").click();
  expect((await page.locator("#exercise-verdict").innerText()).startsWith("Not quite."), "append is refused");
  const marked = (await page.locator("#exercise-question label.right-option").allInnerTexts()).map((t) => t.trim());
  expect(JSON.stringify(marked) === JSON.stringify(["update", "complete"]), JSON.stringify(marked));
  const why = await page.locator("#exercise-why").innerText();
  expect(why.includes(`append: refused: ${refusal.message.slice(0, 60)}`), `Spark's words: ${why}`);
  expect((await page.locator("#exercise-final").innerText()) === "Done: 0 of 1 right.", "one question");
  await page.locator("#exercise-again").click();
  expect((await page.locator("#exercise-score").innerText()) === "Score: 0 of 0", "try again starts over");
});

await test("a-bad-link-says-what-is-wrong-and-runs-nothing", async (page) => {
  await page.goto(`${url}?exercise=${encodeURIComponent("<img src=x onerror=alert(1)>")}`);
  const message = await page.locator("#exercise-error .message").innerText();
  expect(message.includes("there is no exercise `<img src=x onerror=alert(1)>`"), message);
  expect((await page.locator("#exercise-error img, #app img").count()) === 0, "the link's text stays text");
  await page.goto(`${url}?exercise=${"x".repeat(200)}`);
  expect((await page.locator("#exercise-error .message").innerText()).includes("200 characters"), "too long");
  // A score the exercise cannot have is not shown.
  await page.goto(`${url}?exercise=watermark-small&score=99`);
  await page.locator("#exercise-prompt").waitFor({ timeout: 30000 });
  expect((await page.locator("#exercise-shared").count()) === 0, "no score of 99 of 5");
});

await test("the-gallery-links-the-exercises-and-the-saved-session-is-untouched", async (page, context) => {
  await open(page, url);
  await addTruckEvent(page, "t-09", 9.5, "2026-03-02 08:05:00");
  const saved = await events(page);
  const state = () => page.evaluate(async () => ({
    databases: (await indexedDB.databases()).map((d) => d.name).sort(),
    local: Object.fromEntries(Object.keys(localStorage).sort().map((k) => [k, localStorage.getItem(k)])),
  }));
  const before = await state();
  await page.locator("#gallery summary").click();
  expect((await page.locator("#practise-watermark-small").getAttribute("href")) === "?exercise=watermark-small", "the example's exercise");
  expect((await page.locator("#practise-medallion-pipeline").count()) === 0, "a pipeline has none");
  const [list] = await Promise.all([context.waitForEvent("page"), page.locator("#exercises-link").click()]);
  await list.locator("#exercise-list").waitFor();
  await list.locator("#exercise-tumbling-append").click();
  await list.locator("#exercise-prompt").waitFor({ timeout: 30000 });
  await list.locator("#exercise-question label.option").first().click();
  await list.locator("#exercise-lock").click();
  await list.locator("#exercise-verdict").waitFor();
  await list.close();
  const after = await state();
  expect(JSON.stringify(after) === JSON.stringify(before), `storage before ${JSON.stringify(before)}, after ${JSON.stringify(after)}`);
  await page.reload();
  await page.locator("#output tbody.rows tr").first().waitFor();
  await page.waitForFunction(() => /\d+ events/.test(document.querySelector("#schema").innerText));
  expect((await events(page)) === saved, `the saved session: ${await events(page)} events, ${saved} before`);
});

await finish();
