// End-to-end tests of the page against what a stranger can send it: an engine that panics, links
// and files too large to open, a link opened over a saved session, two tabs on one saved session,
// a link whose low-latency triggers are hostile, a window a million times its slide, and the page
// under a Content-Security-Policy header.
// Usage: node e2e/hardening.mjs URL SCREENSHOT_DIR
import { writeFileSync } from "node:fs";
import { createServer } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { deflateRawSync } from "node:zlib";
import { addTruckEvent, events, expect, open, shots, suite, url } from "./harness.mjs";

const { test, finish } = suite("hardening");
const rows = (page) => page.locator("#output tbody.rows tr").count();
const debugPanic = (page) => page.evaluate(async () => (await import("/unbounded_web.js")).debugPanic());
const trap = /unreachable|RuntimeError|panicked|Uncaught/;

await test("a-panic-shows-its-error-and-the-engine-restarts-from-its-checkpoint", async (page) => {
  await open(page, `${url}?debug=panic`);
  await addTruckEvent(page, "t-04", 9.5, "2026-03-02 08:05:00");
  expect((await events(page)) === 8, "an event added");
  expect(await debugPanic(page), "the debug hook is on with ?debug=panic");
  await page.locator("#engine-stopped").waitFor();
  const text = await page.locator("#engine-stopped").innerText();
  expect(text.includes("panicked") && text.includes("asked the engine to panic") && text.includes("worker.rs"),
    `the banner says what happened and where: ${text}`);
  expect(text.includes("checkpoint in IndexedDB"), text);
  await page.screenshot({ path: `${shots}/h01-engine-stopped.png`, fullPage: true });
  await page.locator("#restart-engine").click();
  await page.locator("#engine-stopped").waitFor({ state: "detached" });
  await page.locator("#notice").waitFor();
  expect((await page.locator("#notice").innerText()).includes("Resumed"), "resumed from IndexedDB");
  expect((await events(page)) === 8, "the event survived the panic");
  await page.locator("#run").click();
  await page.waitForFunction(() => document.querySelector("#run").textContent.includes("(0 waiting)"));
  expect((await rows(page)) === 5, "the restarted engine answers");
  await page.screenshot({ path: `${shots}/h02-engine-restarted.png`, fullPage: true });
}, { allow: trap });

await test("a-panic-in-memory-restarts-from-the-pages-copy", async (page) => {
  await open(page, `${url}?storage=memory&debug=panic`);
  await addTruckEvent(page, "t-04", 9.5, "2026-03-02 08:05:00");
  await page.locator("#run").click();
  await page.waitForFunction(() => document.querySelectorAll("#output tbody.rows tr").length === 5);
  await addTruckEvent(page, "t-02", 8.5, "2026-03-02 08:06:00");
  expect(await debugPanic(page), "hook on");
  await page.locator("#engine-stopped").waitFor();
  expect((await page.locator("#engine-stopped").innerText()).includes("replays this page's copy"), "says how it restarts");
  await page.locator("#restart-engine").click();
  await page.locator("#engine-stopped").waitFor({ state: "detached" });
  await page.waitForFunction(() => /9 events/.test(document.querySelector("#schema").innerText));
  expect((await rows(page)) === 5 && (await page.locator("#run").innerText()).includes("1 waiting"),
    `the session as it was before the panic: ${await rows(page)} rows, ${await page.locator("#run").innerText()}`);
  await page.locator("#run").click();
  await page.waitForFunction(() => document.querySelectorAll("#output tbody.rows tr").length === 6);
}, { allow: trap });

await test("the-debug-hook-is-off-without-the-address-asking", async (page) => {
  await open(page, url);
  expect(!(await debugPanic(page)), "no panic without ?debug=panic");
  await page.waitForTimeout(300);
  expect((await page.locator("#engine-stopped").count()) === 0, "the engine still runs");
});

await test("an-oversized-or-exploding-link-is-refused-and-the-session-kept", async (page) => {
  await open(page, url);
  await addTruckEvent(page, "t-09", 9.5, "2026-03-02 08:05:00");
  const base = url.split("#")[0];
  // Too long to be a link at all. (A change of the fragment alone does not load the page again.)
  await page.goto("about:blank");
  await page.goto(`${base}#s=1.${"A".repeat(70 * 1024)}`);
  await page.locator("#link-error").waitFor();
  let text = await page.locator("#link-error").innerText();
  expect(text.includes("more than the 64 KiB a link may hold"), text);
  await page.locator("#output tbody.rows tr").first().waitFor();
  expect((await events(page)) === 8, "the saved session is as it was");
  // A small link that unpacks to 32 MiB: refused as soon as it passes 4 MiB.
  const bomb = deflateRawSync(Buffer.alloc(32 * 1024 * 1024, 32), { level: 9 }).toString("base64url");
  expect(bomb.length < 70 * 1024, `a small link: ${bomb.length}`);
  const started = Date.now();
  await page.goto("about:blank");
  await page.goto(`${base}#s=1.${bomb}`);
  await page.locator("#link-error").waitFor();
  text = await page.locator("#link-error").innerText();
  expect(text.includes("unpacks to more than the 4096 KiB"), text);
  await page.locator("#output tbody.rows tr").first().waitFor();
  expect(Date.now() - started < 5000, `refused at once: ${Date.now() - started} ms`);
  expect((await events(page)) === 8, "the saved session is as it was");
  expect(!(await page.evaluate(() => location.hash)), "the refused link is gone from the address");
  // An imported file as large.
  const big = join(tmpdir(), "unbounded-huge-scenario.json");
  writeFileSync(big, `{"version": 1, "name": "${"x".repeat(5 * 1024 * 1024)}"}`);
  await page.locator("#import").setInputFiles(big);
  await page.locator("#share-message").waitFor();
  text = await page.locator("#share-message").innerText();
  expect(text.includes("more than the 4096 KiB a session opens"), text);
  expect((await events(page)) === 8, "the session is unchanged");
  await page.screenshot({ path: `${shots}/h03-oversized-link.png`, fullPage: true });
});

await test("a-link-with-hostile-low-latency-triggers-is-refused-by-step-or-runs-bounded", async (page) => {
  await open(page, url);
  await addTruckEvent(page, "t-09", 9.5, "2026-03-02 08:05:00");
  const base = url.split("#")[0];
  const link = (trigger) => {
    const scenario = {
      version: 1, name: "hostile-trigger", sources: { readings: { kind: "kafka", partitions: 1 } },
      query: "SELECT CAST(key AS STRING) AS device, CAST(value AS STRING) AS v FROM STREAM readings",
      output_mode: "append",
      steps: [
        { add: "readings", messages: [{ key: "a", value: "1" }], partition: 0 },
        { run: { trigger } },
        { add: "readings", messages: [{ key: "b", value: "2" }], partition: 0 },
      ],
    };
    return `${base}#s=1.${deflateRawSync(Buffer.from(JSON.stringify(scenario))).toString("base64url")}`;
  };
  // Each refused as it is read, naming the step, and the saved session kept.
  for (const [trigger, says] of [
    [{ continuous: "-1 second" }, "should not be negative"],
    [{ continuous: "1000000000 days" }, "too large"],
    [{ continuous: 5 }, "non-empty string"],
    [{ continuous: "1 second", realTime: "5 seconds" }, "one key"],
    [{ realTime: "<script>alert(1)</script>" }, "not an interval"],
  ]) {
    await page.goto("about:blank");
    await page.goto(link(trigger));
    await page.locator("#notice").waitFor();
    // Steps count from 0, as the runner document's `step` does: the run is step 1.
    const text = await page.locator("#notice").innerText();
    expect(text.includes("could not be opened: step 1") && text.includes(says), `${JSON.stringify(trigger)}: ${text}`);
    await page.locator("#output tbody.rows tr").first().waitFor();
    expect((await events(page)) === 8, `${JSON.stringify(trigger)}: the saved session is as it was`);
    expect((await page.locator("script").evaluateAll((s) => s.filter((x) => x.textContent.includes("alert")).length)) === 0, "no markup from the link");
  }
  await page.screenshot({ path: `${shots}/h05-hostile-trigger-link.png`, fullPage: true });
  // A zero interval is Spark's default continuous trigger: the link runs, bounded, in memory.
  await page.goto("about:blank");
  await page.goto(link({ continuous: "0 seconds" }));
  await page.locator("#detached").waitFor();
  await page.locator("#scrub-end").click();
  await page.waitForFunction(() => [...document.querySelectorAll("#output tbody.rows tr")].some((r) => r.innerText.includes("b")));
  await page.screenshot({ path: `${shots}/h06-zero-interval-continuous-link.png`, fullPage: true });
  expect((await page.locator("#engine-stopped").count()) === 0, "the engine still runs");
  expect((await page.locator("#storage").inputValue()) === "memory", "the link runs in memory");
  await open(page, url);
  expect((await events(page)) === 8, "the saved session, as it was, after the link");
});

await test("a-link-opened-over-a-saved-session-keeps-the-saved-one", async (page) => {
  await open(page, url);
  await addTruckEvent(page, "t-09", 9.5, "2026-03-02 08:05:00");
  // A documentation page's link, opened in the same browser.
  await page.goto(`${url}?example=medallion`);
  await page.locator("#detached").waitFor();
  expect((await page.locator("#detached").innerText()).includes("untouched"), await page.locator("#detached").innerText());
  expect((await page.locator("#storage").inputValue()) === "memory", "the link runs in memory");
  await page.waitForFunction(() => (document.querySelector("#watch") || {}).textContent?.includes("Bronze"));
  await page.screenshot({ path: `${shots}/h04-link-over-saved-session.png`, fullPage: true });
  // A reload goes back to the saved session, whole.
  await open(page, url);
  expect((await events(page)) === 8 && (await page.locator("#detached").count()) === 0, "the saved session, as it was");
  // Kept, the link's session is saved as a new one, and the reload opens it.
  await page.goto(`${url}?example=medallion`);
  await page.locator("#keep-session").click();
  await page.waitForFunction(() => document.querySelector("#storage").value === "indexeddb" && !document.querySelector("#detached"));
  await page.reload();
  await page.waitForFunction(() => (document.querySelector("#watch") || {}).textContent?.includes("Bronze"));
  expect((await page.locator("#storage").inputValue()) === "indexeddb", "kept in IndexedDB");
  const dbs = await page.evaluate(async () => (await indexedDB.databases()).map((d) => d.name));
  expect(dbs.includes("unbounded-playground") && dbs.some((n) => n.startsWith("unbounded-playground.s-")),
    `the first session and the kept one, each in its own database: ${dbs}`);
});

await test("two-pages-on-one-saved-session-do-not-overwrite-each-other", async (page, context) => {
  await open(page, url);
  await addTruckEvent(page, "t-09", 9.5, "2026-03-02 08:05:00");
  const other = await context.newPage();
  await open(other, url);
  await other.locator("#detached").waitFor();
  expect((await other.locator("#detached").innerText()).includes("another tab"), await other.locator("#detached").innerText());
  expect((await events(other)) === 8, "the second tab sees the saved session");
  await addTruckEvent(other, "t-10", 1, "2026-03-02 08:06:00");
  await addTruckEvent(other, "t-11", 2, "2026-03-02 08:07:00");
  await other.screenshot({ path: `${shots}/h05-second-tab.png`, fullPage: true });
  await addTruckEvent(page, "t-12", 3, "2026-03-02 08:08:00");
  await other.close();
  await open(page, url);
  expect((await events(page)) === 9, `the first tab's session, not the second's: ${await events(page)} events`);
  expect((await page.locator("#detached").count()) === 0, "the first tab still writes it");
});

await test("a-window-a-million-times-its-slide-renders-at-once", async (page) => {
  await open(page, url);
  await page.locator("#sql").fill(
    "SELECT window(ts, '1 day', '1 microsecond') AS w, count(*) AS n\nFROM STREAM truck_readings WATERMARK ts DELAY OF INTERVAL 10 SECONDS\nGROUP BY window(ts, '1 day', '1 microsecond')");
  await page.locator("#mode").selectOption("update");
  const started = Date.now();
  await page.locator("#start").click();
  // The engine refuses it, or the timeline draws it: either way at once.
  await page.waitForFunction(() => document.querySelector("#query-error") || document.querySelector("rect.band"), null, { timeout: 3000 });
  const bands = await page.locator("rect.band").count();
  expect(bands <= 40, `only the newest windows are drawn: ${bands}`);
  expect(Date.now() - started < 3000, `at once: ${Date.now() - started} ms`);
  await page.screenshot({ path: `${shots}/h06-huge-sliding-window.png`, fullPage: true });
  // The saved session opens at once on a reload too.
  await page.reload();
  await page.locator("#sql").waitFor({ timeout: 5000 });
  await page.evaluate(() => 1);
});

await test("the-page-runs-under-a-content-security-policy-header", async (page) => {
  const policy = "default-src 'self'; script-src 'self' 'wasm-unsafe-eval'; style-src 'self'; img-src 'self' data:; object-src 'none'";
  // The same files, served with the header a documentation site would send.
  const server = createServer(async (req, res) => {
    try {
      const upstream = await fetch(new URL(req.url, url));
      res.writeHead(upstream.status, { "content-type": upstream.headers.get("content-type") || "application/octet-stream", "content-security-policy": policy });
      res.end(Buffer.from(await upstream.arrayBuffer()));
    } catch (e) {
      res.writeHead(502);
      res.end(String(e));
    }
  });
  await new Promise((resolve) => server.listen(0, "127.0.0.1", resolve));
  try {
    await page.addInitScript(() => {
      window.violations = [];
      document.addEventListener("securitypolicyviolation", (e) => window.violations.push(`${e.violatedDirective} ${e.blockedURI}`));
    });
    await page.goto(`http://127.0.0.1:${server.address().port}/?storage=memory&example=medallion`);
    await page.locator("#scrub-end").click();
    await page.waitForFunction(() => document.querySelectorAll("#output tbody.rows tr").length === 3);
    await page.locator("#run").click();
    const violations = await page.evaluate(() => window.violations);
    expect(violations.length === 0, `no CSP violation: ${violations}`);
  } finally {
    server.close();
  }
});

await test("no-inline-script-in-the-page", async (page) => {
  await page.goto(url);
  await page.locator("#sql").waitFor();
  const inline = await page.evaluate(() => [...document.querySelectorAll("script")].filter((s) => !s.src).length);
  expect(inline === 0, `${inline} inline scripts`);
  // The theme from the address still applies before the first paint.
  await page.goto(`${url}?theme=dark`);
  expect((await page.evaluate(() => document.documentElement.dataset.theme)) === "dark", "the theme script ran");
});

await finish();
