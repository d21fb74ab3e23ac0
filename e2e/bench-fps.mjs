// Benchmark, not a test: does the page keep drawing at 60 frames per second while a generator
// pushes 10,000 events per second into the engine's worker? Prints frame times measured with
// requestAnimationFrame on the page, how far the engine kept up with the generator, and how much
// memory each event costs the tab.
// Usage: node e2e/bench-fps.mjs URL [SECONDS] [EVENTS_PER_SECOND]
import { execSync } from "node:child_process";
import { chromium } from "playwright-core";

const [url, seconds = "10", rate = "10000"] = process.argv.slice(2);
const browser = await chromium.launch({
  executablePath: "/usr/bin/chromium",
  headless: true,
  args: ["--no-sandbox", "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync"],
});

async function run(storage, example) {
  const page = await browser.newPage({ viewport: { width: 1280, height: 860 } });
  const problems = [];
  page.on("pageerror", (e) => problems.push(e.message));
  await page.goto(`${url}?storage=${storage}`);
  await page.locator("#sql").waitFor();
  await page.locator("#gallery summary").click();
  await page.locator(`#example-${example}`).click();
  await page.waitForFunction((id) => document.querySelector(`#example-${id}`)?.classList.contains("current"), example);
  await page.locator("#generator summary").click();
  await page.locator("#gen-rate").fill(rate);
  await page.locator("#gen-rate").dispatchEvent("change");
  await page.locator("#interval").selectOption("1000");
  if ((await page.locator("#toggle-generator").innerText()).includes("Start")) await page.locator("#toggle-generator").click();
  if ((await page.locator("#play").innerText()).includes("Play")) await page.locator("#play").click();
  await page.waitForTimeout(2000); // warm up: the first batches, the first snapshots
  // Every source's count ("N events" per stream in the schema panel), summed.
  const events = async () => [...(await page.locator("#schema").innerText()).matchAll(/(\d+) events/g)].reduce((n, m) => n + Number(m[1]), 0);
  const batches = async () => Number(await page.locator("#progress tbody tr td").first().innerText().catch(() => "0"));
  // Memory: the resident size of Chromium's renderer processes (the page and its worker), in KB.
  const rss = () => Number(execSync("ps -eo rss,args | awk '/chromium.*--type=renderer/ && !/awk/ {s+=$1} END {print s+0}'").toString());
  const [events0, batch0, rss0] = [await events(), await batches(), rss()];
  const { frames, longTasks } = await page.evaluate((ms) => new Promise((done) => {
    const times = [];
    // Main-thread tasks over 50 ms: what makes a frame late.
    const longTasks = [];
    new PerformanceObserver((list) => list.getEntries().forEach((e) => longTasks.push(e.duration))).observe({ type: "longtask" });
    const start = performance.now();
    const frame = (t) => {
      times.push(t);
      if (t - start < ms) requestAnimationFrame(frame); else done({ frames: times, longTasks });
    };
    requestAnimationFrame(frame);
  }), Number(seconds) * 1000);
  const [events1, batch1, rss1] = [await events(), await batches(), rss()];
  await page.close();
  const gaps = frames.slice(1).map((t, i) => t - frames[i]).sort((a, b) => a - b);
  const at = (q) => gaps[Math.min(gaps.length - 1, Math.floor(q * gaps.length))];
  const elapsed = (frames[frames.length - 1] - frames[0]) / 1000;
  return {
    storage, example,
    fps: +(gaps.length / elapsed).toFixed(1),
    frame_ms_p50: +at(0.5).toFixed(1), frame_ms_p95: +at(0.95).toFixed(1), frame_ms_p99: +at(0.99).toFixed(1),
    frame_ms_max: +gaps[gaps.length - 1].toFixed(1),
    frames_over_33ms: gaps.filter((g) => g > 33.4).length,
    long_tasks: longTasks.length,
    long_task_ms_max: Math.round(Math.max(0, ...longTasks)),
    events_per_s: Math.round((events1 - events0) / elapsed),
    batches: batch1 - batch0,
    // Renderer memory grown per event taken in, over the run (noisy: wasm memory grows in steps).
    rss_bytes_per_event: Math.round(((rss1 - rss0) * 1024) / Math.max(1, events1 - events0)),
    problems,
  };
}

const results = [];
for (const storage of ["memory", "indexeddb"]) {
  for (const example of ["trucks-live", "nexmark"]) results.push(await run(storage, example));
}
await browser.close();
console.log(`page frame rate while generating ${rate} events/s (target: 60 fps)`);
console.table(results.map(({ problems, ...r }) => r));
const failed = results.filter((r) => r.problems.length);
for (const r of failed) console.log(`page errors (${r.storage}, ${r.example}): ${r.problems.join("; ")}`);
process.exit(failed.length ? 1 : 0);
