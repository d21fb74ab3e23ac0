import { chromium } from "playwright-core";
import { execSync } from "node:child_process";
const browser = await chromium.launch({ executablePath: "/usr/bin/chromium", headless: true, args: ["--no-sandbox"] });
const page = await browser.newPage({ viewport: { width: 1280, height: 860 } });
await page.goto("http://127.0.0.1:8099/?storage=" + (process.env.STORAGE || "memory"));
await page.locator("#sql").waitFor();
await page.locator("#gallery summary").click();
await page.locator(`#example-trucks-live`).click();
await page.waitForTimeout(500);
await page.locator("#generator summary").click();
await page.locator("#gen-rate").fill("10000");
await page.locator("#gen-rate").dispatchEvent("change");
await page.locator("#interval").selectOption("1000");
await page.locator("#toggle-generator").click();
await page.locator("#play").click();
const rss = () => execSync("ps -eo rss,args | grep -i 'chromium.*type=renderer' | grep -v grep | awk '{s+=$1} END {print s}'").toString().trim();
for (let i = 0; i < 7; i++) {
  const events = [...(await page.locator("#schema").innerText()).matchAll(/(\d+) events/g)].reduce((n, m) => n + Number(m[1]), 0);
  console.log(`${i*10}s events=${events} renderer_rss_kb=${rss()} clocks=${(await page.locator(".clocks").innerText()).replace(/\s+/g,' ')}`);
  await page.waitForTimeout(10000);
}
await browser.close();
