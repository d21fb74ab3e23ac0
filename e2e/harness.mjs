// What the end-to-end suites that need a fresh browser profile per test share: the browser, the
// test runner (page errors, console errors and HTTP errors fail a test unless it allows them), the
// summary line scripts/test.sh adds up, and the steps every suite takes on the playground.
import { chromium } from "playwright-core";

export const [url, shots = "e2e/screenshots"] = process.argv.slice(2);

// One headless Chromium for the whole suite.
export const browser = await chromium.launch({
  executablePath: "/usr/bin/chromium",
  headless: true,
  args: ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync"],
});

const results = [];
// ONLY=part-of-a-name runs the matching tests alone, for working on one.
const only = process.env.ONLY;

/// A suite named `suite` (its summary line and its failure screenshots' prefix).
export function suite(suiteName) {
  // Each test gets a fresh browser profile (its own IndexedDB and local storage); `allow` names
  // console errors the test expects (the worker's trap, say).
  async function test(name, body, { allow = null } = {}) {
    if (only && !name.includes(only)) return;
    const context = await browser.newContext({ viewport: { width: 1280, height: 860 } });
    const problems = [];
    const allowed = (text) => allow && allow.test(text);
    context.on("page", (page) => {
      page.on("pageerror", (e) => { if (!allowed(e.message)) problems.push(`page error: ${e.message}`); });
      page.on("console", (m) => { if (m.type() === "error" && !allowed(m.text())) problems.push(`console error: ${m.text()}`); });
      page.on("response", (r) => { if (r.status() >= 400) problems.push(`HTTP ${r.status()} for ${r.url()}`); });
    });
    const page = await context.newPage();
    try {
      await body(page, context);
      if (problems.length) throw new Error(problems.join("; "));
      results.push([name, null]);
    } catch (e) {
      results.push([name, e]);
      await page.screenshot({ path: `${shots}/FAILED-${suiteName}-${name}.png`, fullPage: true }).catch(() => {});
    } finally {
      await context.close();
    }
  }

  // Closes the browser, prints each result and the summary, and exits with the outcome.
  async function finish() {
    await browser.close();
    let failed = 0;
    for (const [name, err] of results) {
      if (err) { failed++; console.log(`FAIL ${name}: ${err.message}`); } else { console.log(`ok   ${name}`); }
    }
    console.log(`${suiteName}: ${results.length - failed} passed, ${failed} failed`);
    process.exit(failed ? 1 : 0);
  }

  return { test, finish };
}

export function expect(cond, message) {
  if (!cond) throw new Error(message);
}

export async function open(page, address) {
  await page.goto(address);
  await page.locator("#sql").waitFor();
  await page.locator("#output tbody.rows tr").first().waitFor();
}

export async function addTruckEvent(page, truck, temp, time) {
  await page.locator("#field-truck_id").fill(truck);
  await page.locator("#field-temp_c").fill(String(temp));
  await page.locator("#field-speed_kmh").fill("50");
  await page.locator("#field-ts").fill(time);
  const before = await page.locator("#schema").innerText();
  await page.locator("#add-event").click();
  await page.waitForFunction((b) => document.querySelector("#schema").innerText !== b, before);
}

// How many events the schema panel says the first source holds.
export const events = (page) => page.locator("#schema").innerText().then((t) => Number((t.match(/(\d+) events/) || [])[1]));
