// The npm package as a user gets it: `npm install` of the tarball scripts/build-npm.sh packed,
// into an empty folder; Node imports the API (full and engine-only builds) from there, and a
// page served from that folder imports the element and the API from node_modules/.
// Usage: node e2e/npm-package.mjs target/npm
import { execFileSync, spawn } from "node:child_process";
import { mkdtempSync, readdirSync, writeFileSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { createServer } from "node:net";

const dir = resolve(process.argv[2] ?? "target/npm");
const tarball = readdirSync(dir).find((f) => /^unbounded-streaming-.*\.tgz$/.test(f));
const results = [];
async function test(name, body) {
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

const app = mkdtempSync(join(tmpdir(), "unbounded-npm-"));
writeFileSync(join(app, "package.json"), JSON.stringify({ name: "uses-unbounded", private: true, type: "module" }));

await test("the-tarball-installs-into-an-empty-folder", async () => {
  expect(tarball, `no tarball in ${dir}`);
  execFileSync("npm", ["install", "--no-audit", "--no-fund", "--offline", join(dir, tarball)], { cwd: app, stdio: "pipe" });
  const pkg = JSON.parse(readFileSync(join(app, "node_modules/unbounded-streaming/package.json"), "utf8"));
  const cargo = readFileSync("Cargo.toml", "utf8").match(/^version = "([^"]+)"/m)[1];
  expect(pkg.version === cargo, `the package's version ${pkg.version} is the workspace's ${cargo}`);
  expect(readFileSync(join(app, "node_modules/unbounded-streaming/README.md"), "utf8").includes("| engine only"), "the README has the sizes");
});

await test("node-imports-the-api-and-the-engine-only-build", async () => {
  writeFileSync(join(app, "use.mjs"), `
    import { Session } from "unbounded-streaming";
    import * as engine from "unbounded-streaming/engine";
    const out = [];
    for (const S of [Session, engine.Session]) {
      const s = await S.create({ sql: "SELECT k, v * 10 AS w FROM STREAM s", sources: { s: { k: "string", v: "int" } } });
      await s.push("s", [["a", 1]]);
      await s.runAvailable();
      out.push(s.lastBatch.rows);
      try { await s.setQuery("SELECT nope FROM STREAM s"); } catch (e) { out.push(e.kind); }
      s.close();
    }
    console.log(JSON.stringify(out));
  `);
  const text = execFileSync("node", ["--no-warnings", "use.mjs"], { cwd: app, encoding: "utf8" }).trim();
  expect(text === JSON.stringify([[["a", 10]], "unknown_column", [["a", 10]], "unknown_column"]), text);
});

const free = () => new Promise((ok) => { const s = createServer(); s.listen(0, "127.0.0.1", () => { const p = s.address().port; s.close(() => ok(p)); }); });

await test("a-page-imports-the-element-and-the-api-from-node-modules", async () => {
  writeFileSync(join(app, "index.html"), `<!DOCTYPE html><html><head><meta charset="utf-8">
    <meta http-equiv="Content-Security-Policy" content="default-src 'self'; script-src 'self' 'wasm-unsafe-eval'; style-src 'self'; worker-src 'self'; img-src 'self' data:">
    <title>npm</title><link rel="icon" href="data:,">
    <script type="module" src="./node_modules/unbounded-streaming/www/unbounded-embed.js"></script>
    <script type="module" src="./app.js"></script></head>
    <body><output id="api">…</output><unbounded-playground id="e" example="dedup" panels="output"></unbounded-playground></body></html>`);
  writeFileSync(join(app, "app.js"), `
    import { Session } from "./node_modules/unbounded-streaming/www/unbounded.js";
    const s = await Session.create({ example: "watermark-small" });
    document.getElementById("api").textContent = String(s.sink.total);
  `);
  const port = await free();
  const server = spawn("python3", ["scripts/serve.py", String(port), app], { stdio: "ignore" });
  const { chromium } = await import("playwright-core");
  const browser = await chromium.launch({ executablePath: "/usr/bin/chromium", headless: true, args: ["--no-sandbox", "--disable-gpu"] });
  try {
    const page = await browser.newPage();
    const errors = [];
    page.on("pageerror", (e) => errors.push(e.message));
    page.on("console", (m) => { if (m.type() === "error") errors.push(m.text()); });
    for (let i = 0; i < 50; i++) {
      try { await page.goto(`http://127.0.0.1:${port}/`); break; } catch { await new Promise((r) => setTimeout(r, 100)); }
    }
    await page.waitForFunction(() => document.getElementById("api").textContent !== "…", null, { timeout: 60000 });
    const want = JSON.parse(readFileSync("tests/scenarios/gallery/watermark-small.expected.json", "utf8")).sink.length;
    expect((await page.locator("#api").textContent()) === String(want), `the API's sink: ${await page.locator("#api").textContent()}`);
    // The element opens its example at batch 0, as the page does: run it to its end.
    const end = page.locator("#e").locator("#scrub-end");
    await end.waitFor({ state: "attached", timeout: 60000 });
    await end.click();
    await page.waitForFunction(() => document.getElementById("e").shadowRoot.querySelectorAll("#output tbody.rows tr").length === 3, null, { timeout: 60000 });
    expect(errors.length === 0, errors.join("; "));
  } finally {
    await browser.close();
    server.kill();
  }
});

let failed = 0;
for (const [name, err] of results) {
  if (err) { failed++; console.log(`FAIL ${name}: ${err.stack ?? err}`); } else console.log(`ok   ${name}`);
}
console.log(`npm-package: ${results.length - failed} passed, ${failed} failed`);
process.exit(failed ? 1 : 0);
