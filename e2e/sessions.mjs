// End-to-end tests of the saved sessions a person keeps in one browser: each kept session is
// listed, can be opened again and deleted (after a confirmation), and none is lost silently.
// Usage: node e2e/sessions.mjs URL SCREENSHOT_DIR
import { addTruckEvent, events, expect, open, shots, suite, url } from "./harness.mjs";

const { test, finish } = suite("sessions");
const databases = (page) => page.evaluate(async () => (await indexedDB.databases()).map((d) => d.name).sort());
const sessionRow = (page, id) => page.locator(`#saved-sessions li.saved-session[data-session="${id}"]`);
const listedIds = (page) => page.locator("#saved-sessions li.saved-session").evaluateAll((lis) => lis.map((li) => li.dataset.session));

// The saved session `main` with one event added, then the medallion example kept as a second.
async function keepASecondSession(page) {
  await open(page, url);
  await addTruckEvent(page, "t-09", 9.5, "2026-03-02 08:05:00");
  await page.goto(`${url}?example=medallion`);
  await page.locator("#keep-session").click();
  await page.waitForFunction(() => document.querySelector("#storage").value === "indexeddb" && !document.querySelector("#detached"));
  const second = await page.evaluate(() => localStorage.getItem("unbounded.session"));
  expect(/^s-[0-9a-f]{16}$/.test(second), `the kept session has a namespace of its own: ${second}`);
  return second;
}

async function showSessions(page, count) {
  if ((await page.locator("#saved-sessions").count()) === 0) await page.locator("#sessions-button").click();
  await page.waitForFunction((n) => document.querySelectorAll("#saved-sessions li.saved-session").length === n, count);
}

await test("a-kept-session-is-listed-and-the-first-opens-again-and-the-second-is-deleted", async (page) => {
  const second = await keepASecondSession(page);
  await showSessions(page, 2);
  expect(JSON.stringify(await listedIds(page)) === JSON.stringify([second, "main"]), `newest first: ${await listedIds(page)}`);
  const current = sessionRow(page, second);
  expect((await current.getAttribute("aria-current")) === "true", "the session shown is marked");
  const currentText = await current.innerText();
  expect(currentText.includes("Bronze, silver, gold") && currentText.includes("open in this tab"), currentText);
  expect((await current.locator(".delete-session").count()) === 0 && currentText.includes("open another session first"),
    `the session this tab writes cannot be deleted from it: ${currentText}`);
  const first = await sessionRow(page, "main").innerText();
  expect(first.includes("8 events") && first.includes("saved just now"), first);
  await page.screenshot({ path: `${shots}/s01-saved-sessions.png`, fullPage: true });

  // Back to the first: the page reloads into it, whole.
  await Promise.all([page.waitForEvent("load"), sessionRow(page, "main").locator(".open-session").click()]);
  await page.locator("#output tbody.rows tr").first().waitFor();
  await page.waitForFunction(() => /\d+ events/.test(document.querySelector("#schema").innerText));
  expect((await events(page)) === 8, `the first session's events: ${await events(page)}`);
  expect((await page.locator("#detached").count()) === 0 && (await page.locator("#storage").inputValue()) === "indexeddb",
    "this tab writes the first session again");
  expect(!((await page.locator("#watch").count()) && (await page.locator("#watch").innerText()).includes("Bronze")), "not the medallion");

  // Delete the second, after a confirmation that can be cancelled.
  await showSessions(page, 2);
  expect((await sessionRow(page, "main").getAttribute("aria-current")) === "true", "now the first is the current one");
  await sessionRow(page, second).locator(".delete-session").click();
  await sessionRow(page, second).locator(".cancel-delete").click();
  expect((await sessionRow(page, second).locator(".confirm-delete").count()) === 0, "cancelled");
  expect((await databases(page)).includes(`unbounded-playground.${second}`), "nothing deleted by a cancel");
  await sessionRow(page, second).locator(".delete-session").click();
  await page.screenshot({ path: `${shots}/s02-confirm-delete.png`, fullPage: true });
  await sessionRow(page, second).locator(".confirm-delete").click();
  await page.locator("#sessions-message").waitFor();
  const said = await page.locator("#sessions-message").innerText();
  expect(said.includes("Deleted") && said.includes("Bronze, silver, gold"), said);
  expect(await page.evaluate(() => document.activeElement.closest("#saved-sessions") !== null), "the focus stays in the panel");
  await showSessions(page, 1);
  const dbs = await databases(page);
  expect(JSON.stringify(dbs) === JSON.stringify(["unbounded-playground"]), `the second's database is gone: ${dbs}`);
  await page.screenshot({ path: `${shots}/s03-deleted.png`, fullPage: true });

  // A reload keeps the first and lists only it.
  await open(page, url);
  expect((await events(page)) === 8, "the first session survives");
  await showSessions(page, 1);
});

await test("deleting-the-session-just-left-is-not-blocked-by-this-tabs-engine", async (page) => {
  // The engine opened `main` when the link came in over it, and keeps no use for it after the
  // link's session is kept: its connection must not hold up the deletion.
  const second = await keepASecondSession(page);
  await showSessions(page, 2);
  await sessionRow(page, "main").locator(".delete-session").click();
  await sessionRow(page, "main").locator(".confirm-delete").click();
  await page.locator("#sessions-message").waitFor();
  const said = await page.locator("#sessions-message").innerText();
  expect(said.startsWith("Deleted"), said);
  const dbs = await databases(page);
  expect(JSON.stringify(dbs) === JSON.stringify([`unbounded-playground.${second}`]), `only the kept one is left: ${dbs}`);
  await showSessions(page, 1);
  await page.locator("#run").click();
  await page.waitForFunction(() => document.querySelector("#run").textContent.includes("(0 waiting)"));
  expect((await page.locator("#storage-error").count()) === 0, "the session shown still saves");
});

await test("a-session-another-tab-writes-is-marked-and-not-deleted", async (page, context) => {
  const second = await keepASecondSession(page);
  // A second tab opens the kept session too: a copy, since the first tab writes it.
  const other = await context.newPage();
  await open(other, url);
  await other.locator("#detached").waitFor();
  await showSessions(other, 2);
  const row = await sessionRow(other, second).innerText();
  expect(row.includes("open in another tab"), row);
  await sessionRow(other, second).locator(".delete-session").click();
  await sessionRow(other, second).locator(".confirm-delete").click();
  await other.locator("#sessions-message").waitFor();
  const said = await other.locator("#sessions-message").innerText();
  expect(said.includes("open in another tab"), said);
  expect((await databases(other)).includes(`unbounded-playground.${second}`), "the session another tab writes stays");
  await showSessions(other, 2);
  await other.screenshot({ path: `${shots}/s04-open-in-another-tab.png`, fullPage: true });
  // The first tab goes on saving it.
  await page.locator("#run").click();
  await page.waitForFunction(() => document.querySelector("#run").textContent.includes("(0 waiting)"));
  expect((await page.locator("#storage-error").count()) === 0, "the first tab still saves");
});

await test("the-list-is-keyboard-accessible", async (page) => {
  await keepASecondSession(page);
  await page.locator("#sessions-button").focus();
  await page.keyboard.press("Enter");
  await page.locator("#saved-sessions").waitFor();
  expect((await page.locator("#sessions-button").getAttribute("aria-expanded")) === "true", "the button says it is open");
  expect(await page.evaluate(() => document.activeElement && document.activeElement.id === "saved-sessions"), "the panel takes the focus");
  await page.waitForFunction(() => document.querySelectorAll("#saved-sessions li.saved-session").length === 2);
  await page.keyboard.press("Tab");
  expect(await page.evaluate(() => document.activeElement.closest("#saved-sessions") !== null), "Tab goes on inside the panel");
  const focused = () => page.evaluate(() => `${document.activeElement.closest("li")?.dataset.session} ${document.activeElement.className}`);
  for (let k = 0; k < 6 && (await focused()) !== "main delete-session"; k++) await page.keyboard.press("Tab");
  expect((await focused()) === "main delete-session", `the first session's Delete is reached by Tab: ${await focused()}`);
  await page.keyboard.press("Enter");
  expect((await focused()) === "main cancel-delete", `the confirmation takes the focus, on Cancel: ${await focused()}`);
  await page.keyboard.press("Escape");
  await page.locator("#saved-sessions .confirm").waitFor({ state: "detached" });
  expect((await focused()) === "main delete-session", `Escape leaves the confirmation, back on Delete: ${await focused()}`);
  expect((await databases(page)).includes("unbounded-playground"), "nothing deleted");
  await page.keyboard.press("Escape");
  await page.locator("#saved-sessions").waitFor({ state: "detached" });
  expect(await page.evaluate(() => document.activeElement && document.activeElement.id === "sessions-button"), "Escape gives the focus back");
});

await test("the-panel-stays-inside-a-narrow-window", async (page) => {
  await keepASecondSession(page);
  for (const width of [390, 760, 1100, 1280]) {
    await page.setViewportSize({ width, height: 800 });
    await showSessions(page, 2);
    const box = await page.locator("#saved-sessions").boundingBox();
    expect(box.x >= 0 && box.x + box.width <= width, `at ${width} px the panel spans ${box.x} to ${box.x + box.width}`);
    if (width === 390) await page.screenshot({ path: `${shots}/s06-narrow.png` });
    await page.keyboard.press("Escape");
  }
});

await test("a-registry-a-stranger-wrote-is-read-safely-and-unlisted-databases-are-found", async (page) => {
  const second = await keepASecondSession(page);
  // Anything on the origin may write local storage: markup, bad ids, a huge name, no list at all.
  await page.evaluate((id) => localStorage.setItem("unbounded.sessions", JSON.stringify([
    { id: "../../evil", name: "<img src=x onerror=alert(1)>", saved_ms: 1 },
    { id, name: "<b>bold</b>" + "x".repeat(10000), events: "many", saved_ms: "yesterday" },
    { id: "s-nodatabase", name: "gone", saved_ms: Date.now() },
    "main",
  ])), second);
  await page.reload();
  await page.locator("#output tbody.rows tr").first().waitFor();
  await showSessions(page, 2);
  const ids = await listedIds(page);
  expect(ids.includes(second) && ids.includes("main") && !ids.includes("s-nodatabase"), `cleaned against the databases: ${ids}`);
  expect((await page.locator("#saved-sessions img, #saved-sessions b").count()) === 0, "names are text, never markup");
  // A registry that is not even JSON: both sessions are still found by their databases.
  await page.evaluate(() => localStorage.setItem("unbounded.sessions", "{not json"));
  await page.reload();
  await page.locator("#output tbody.rows tr").first().waitFor();
  await showSessions(page, 2);
  const first = await sessionRow(page, "main").innerText();
  expect(first.includes("Untitled session") && first.includes("saved before this list began"), first);
  await page.screenshot({ path: `${shots}/s05-found-by-database.png`, fullPage: true });
});

await finish();
