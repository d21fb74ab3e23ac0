// Benchmark, not a test: runs the benchmark suite's workloads in wasm (engine/wasm-bench) and
// prints one JSON line per workload (unbounded_engine::bench::Measurement::to_json), for
// `unbounded bench --wasm LABEL=FILE` to add as columns. Each workload gets a fresh wasm
// instance (a Node process, a browser context), so its linear memory is its own.
//   node e2e/bench-wasm.mjs node DIR EVENTS W1 ... W8       (DIR: wasm-bindgen --target nodejs output)
//   node e2e/bench-wasm.mjs chromium URL EVENTS W1 ... W8   (URL: the page of engine/wasm-bench/www)
// EVENTS replaces every workload's size; 0 runs each one's default, `quick` its quick size (as
// `unbounded bench --quick`). In Chromium, W8 runs a second time over IndexedDB.
import { execFileSync } from "node:child_process";
import { createRequire } from "node:module";
import path from "node:path";
import { fileURLToPath } from "node:url";

const [host, where, size, ...workloads] = process.argv.slice(2);
const [events, quick] = size === "quick" ? [0, true] : [Number(size), false];
let failed = 0;

function report(name, line) {
  if (line === null) { failed++; return; }
  console.log(line);
  const m = JSON.parse(line);
  const rate = m.secs ? ` ${(m.events / m.secs / 1e3).toFixed(1)} k events/s` : "";
  console.error(`${host} ${name}:${rate} ${m.agrees === false ? "ANSWER DIFFERS " : ""}${m.note}`);
}

if (host === "node-one") {
  // One workload in this process: what `node` below starts for each.
  const wasm = createRequire(import.meta.url)(path.resolve(where, "unbounded_wasm_bench.js"));
  console.log(wasm.run(workloads[0], events, quick));
} else if (host === "node") {
  for (const w of workloads) {
    try {
      const out = execFileSync(process.execPath, [fileURLToPath(import.meta.url), "node-one", where, size, w],
        { encoding: "utf8", stdio: ["ignore", "pipe", "inherit"], maxBuffer: 1 << 24 });
      report(w, out.trim());
    } catch (e) {
      console.error(`node ${w} failed: ${e.message}`);
      report(w, null);
    }
  }
} else if (host === "chromium") {
  const { chromium } = await import("playwright-core");
  const browser = await chromium.launch({
    executablePath: "/usr/bin/chromium",
    headless: true,
    args: ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
           "--disable-background-networking", "--disable-component-update", "--disable-sync"],
  });
  const runs = workloads.flatMap((w) => (w.toUpperCase() === "W8" ? [w, "W8-idb"] : [w]));
  for (const w of runs) {
    const context = await browser.newContext();
    const page = await context.newPage();
    const errors = [];
    page.on("pageerror", (e) => errors.push(e.message));
    try {
      await page.goto(where);
      await page.waitForFunction(() => document.querySelector("#status")?.textContent === "ready" && window.bench);
      report(w, await page.evaluate(([w, n, q]) => window.bench(w, n, q), [w, events, quick]));
      if (errors.length) throw new Error(errors.join("; "));
    } catch (e) {
      console.error(`chromium ${w} failed: ${e.message}`);
      report(w, null);
    } finally {
      await context.close();
    }
  }
  await browser.close();
} else {
  console.error("usage: node e2e/bench-wasm.mjs node DIR EVENTS W... | chromium URL EVENTS W...");
  process.exit(2);
}
process.exit(failed ? 1 : 0);
