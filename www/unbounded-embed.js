// <unbounded-playground>: the playground as one element of a documentation page.
//
//   <script type="module" src=".../www/unbounded-embed.js"></script>
//   <unbounded-playground example="watermark-small" panels="timeline output" autoplay interval="1000"></unbounded-playground>
//
// Each element runs its own engine in its own Web Worker, in a shadow root (the host page's
// CSS cannot reach in, its own cannot leak out), starts when it first scrolls into view and
// stops its trigger when it scrolls away. Attributes are untrusted text: each is bounded and
// checked, and none is ever parsed as markup. No inline script, no eval: it runs under
// `script-src 'self' 'wasm-unsafe-eval'`.
import init, { mountPlayground, exampleScenario } from "../unbounded_web.js";

const PANELS = ["editor", "events", "output", "timeline", "state", "checkpoint", "progress", "explain"];
const MAX_SCENARIO_BYTES = 4 * 1024 * 1024;
const NAME = /^[a-z0-9-]{1,40}$/;

// What hides each panel the `panels` attribute leaves out (the page's own layout, unchanged).
const HIDE = {
  editor: [".query-panel"],
  events: [".events-panel > :not(#break-it)", "#break-it > :not(#checkpoint):not(h3)"],
  output: [".output-panel > h2:has(+ #output-change)", ".output-panel > h2:has(+ #output)", "#output-change", "#output", "#output-empty",
    "#table-query", ".output-panel > h3:has(+ #table-history)", "#table-history", ".output-panel > h3:has(+ #file-summary)", "#file-summary", "#file-rows"],
  timeline: [".output-panel > h2:has(+ #timeline)", "#timeline", "#late-detail"],
  state: ["#state"],
  checkpoint: ["#checkpoint"],
  progress: [".output-panel > h3:has(+ .charts)", ".output-panel > .charts", ".output-panel > h3:has(+ #progress)", "#progress", "#dead-letter", ".output-panel > h3:has(+ #dead-letter)"],
  explain: [".output-panel > details:has(#explain)"],
};

let engine = null;
const load = () => (engine ??= init({ module_or_path: new URL("../unbounded_web_bg.wasm", import.meta.url) }));
let pageCss = null;

// The page's stylesheet for a shadow root: its :root rules on the host, its body rule on the
// element's own box. A constructed sheet: no <style> markup, and CSP's style-src is not asked.
function styles() {
  pageCss ??= fetch(new URL("./style.css", import.meta.url)).then((r) => {
    if (!r.ok) throw new Error(`HTTP ${r.status} for the playground's stylesheet`);
    return r.text();
  }).then((text) => {
    const sheet = new CSSStyleSheet();
    sheet.replaceSync(text.replaceAll(":root", ":host").replace(/(^|\n)body \{/, "$1.unbounded-root {"));
    const own = new CSSStyleSheet();
    own.replaceSync(`
      :host { all: initial; display: block; contain: content; color-scheme: light dark; }
      :host([theme="light"]) { color-scheme: light; } :host([theme="dark"]) { color-scheme: dark; }
      :host([hidden]) { display: none; }
      .unbounded-root { border: 1px solid var(--line); border-radius: 8px; overflow: auto; background: var(--bg); color: var(--ink);
        font: 14px/1.45 system-ui, -apple-system, "Segoe UI", sans-serif; text-align: left; }
      .placeholder { padding: 24px; color: var(--muted); }
      .embed-bar { display: flex; gap: 8px; align-items: baseline; padding: 8px 12px; border-bottom: 1px solid var(--line); flex-wrap: wrap; }
      .embed-bar #open-full { margin-left: auto; color: var(--accent); }
      .page.embedded main { grid-template-columns: repeat(auto-fit, minmax(300px, 1fr)); }
      #share, #reload { display: none; }
    `);
    return [sheet, own];
  });
  return pageCss;
}

// The attribute, at most `max` characters, or null.
function attr(el, name, max) {
  const v = el.getAttribute(name);
  return v === null ? null : v.slice(0, max);
}

function number(el, name, lo, hi, fallback) {
  const n = Number(attr(el, name, 20));
  return Number.isFinite(n) && attr(el, name, 20) !== null ? Math.min(hi, Math.max(lo, n)) : fallback;
}

async function bounded(response) {
  if (!response.ok) throw new Error(`HTTP ${response.status} for the scenario`);
  if (Number(response.headers.get("Content-Length")) > MAX_SCENARIO_BYTES) throw new Error("the scenario is larger than 4 MiB");
  const text = await response.text();
  if (text.length > MAX_SCENARIO_BYTES) throw new Error("the scenario is larger than 4 MiB");
  return text;
}

// Namespaces in use on this page: two elements never share one.
const namespaces = new Set();

function workerUrl() {
  const url = new URL("./worker.js", import.meta.url);
  if (url.origin === location.origin) return url.href;
  // A worker must be of the page's origin: a module of the page's own imports the script (CORS).
  return URL.createObjectURL(new Blob([`import ${JSON.stringify(url.href)};`], { type: "text/javascript" }));
}

export class UnboundedPlayground extends HTMLElement {
  constructor() {
    super();
    this.root = this.attachShadow({ mode: "open" });
    this.box = document.createElement("div");
    this.box.className = "unbounded-root";
    const waiting = document.createElement("p");
    waiting.className = "placeholder";
    waiting.textContent = "Unbounded: the playground starts when it scrolls into view.";
    this.box.append(waiting);
    this.root.append(this.box);
    this.handle = null;
    this.state = "idle";
    this.dataset.state = "idle";
    this.visible = false;
    this.namespace = null;
  }

  connectedCallback() {
    const height = number(this, "height", 120, 4000, null);
    if (height !== null) this.box.style.height = `${height}px`;
    styles().then((sheets) => { this.root.adoptedStyleSheets = sheets.concat(this.panelSheet()); }).catch((e) => this.fail(e));
    this.observer = new IntersectionObserver((entries) => this.seen(entries[entries.length - 1].isIntersecting), { rootMargin: "0px" });
    this.observer.observe(this);
  }

  disconnectedCallback() {
    this.observer?.disconnect();
    this.handle?.destroy();
    this.handle = null;
    if (this.namespace) namespaces.delete(this.namespace);
    this.setState("idle");
  }

  setState(s) {
    this.state = s;
    this.dataset.state = s;
  }

  // The sheet that hides the panels `panels` leaves out.
  panelSheet() {
    const asked = (attr(this, "panels", 200) ?? "").toLowerCase().split(/[\s,]+/).filter((p) => PANELS.includes(p));
    const sheet = new CSSStyleSheet();
    if (asked.length) {
      const hidden = PANELS.filter((p) => !asked.includes(p)).flatMap((p) => HIDE[p]);
      // Whole columns with nothing left to show go too.
      if (!asked.some((p) => ["output", "timeline", "state", "progress", "explain"].includes(p))) hidden.push(".output-panel");
      if (!asked.includes("events") && !asked.includes("checkpoint")) hidden.push(".events-panel");
      if (hidden.length) sheet.replaceSync(`${hidden.join(",\n")} { display: none !important; }`);
    }
    return [sheet];
  }

  get autoplay() { return this.hasAttribute("autoplay"); }
  get interval() { return number(this, "interval", 100, 3600000, 1000); }

  seen(visible) {
    this.visible = visible;
    if (visible && this.state === "idle") this.start();
    else if (this.handle && this.autoplay) visible ? this.handle.play(this.interval) : this.handle.pause();
  }

  async scenario() {
    const inline = this.querySelector(':scope > script[type="application/json"]');
    if (inline) {
      const text = inline.textContent ?? "";
      if (text.length > MAX_SCENARIO_BYTES) throw new Error("the inline scenario is larger than 4 MiB");
      return text;
    }
    const src = attr(this, "src", 2048);
    if (src !== null) return bounded(await fetch(new URL(src, document.baseURI), { credentials: "omit" }));
    const id = attr(this, "example", 64) ?? "stream-static";
    return exampleScenario(id);
  }

  options(scenario) {
    const indexeddb = (attr(this, "storage", 20) ?? "memory").toLowerCase() === "indexeddb";
    let namespace = "";
    if (indexeddb) {
      const wanted = (attr(this, "namespace", 40) ?? attr(this, "example", 40) ?? "inline").toLowerCase().replace(/[^a-z0-9-]/g, "-");
      const stem = `embed-${wanted}`.slice(0, 34);
      namespace = stem;
      for (let i = 2; namespaces.has(namespace); i++) namespace = `${stem}-${i}`;
      namespaces.add(namespace);
      this.namespace = namespace;
    }
    const playground = attr(this, "playground", 2048);
    const full = new URL(playground ?? "../", playground ? document.baseURI : import.meta.url);
    const playgroundUrl = ["http:", "https:"].includes(full.protocol) ? full.href : new URL("../", import.meta.url).href;
    return { scenario, readonly: this.hasAttribute("readonly"), indexeddb: indexeddb && NAME.test(namespace), namespace, playgroundUrl };
  }

  async start() {
    this.setState("loading");
    try {
      await load();
      const text = await this.scenario();
      const sheets = await styles();
      this.root.adoptedStyleSheets = sheets.concat(this.panelSheet());
      const mount = document.createElement("div");
      this.box.replaceChildren(mount);
      this.handle = mountPlayground(mount, JSON.stringify(this.options(text)), workerUrl());
      if (this.hasAttribute("readonly")) this.lockEditor(mount);
      this.setState("running");
      if (this.autoplay && this.visible) this.handle.play(this.interval);
      this.dispatchEvent(new CustomEvent("unbounded-ready"));
    } catch (e) {
      this.fail(e);
    }
  }

  // `readonly`: the editor's text cannot change (events still can); the app ignores edits too.
  lockEditor(mount) {
    const lock = () => {
      const sql = mount.querySelector("#sql");
      if (sql && !sql.readOnly) sql.readOnly = true;
    };
    new MutationObserver(lock).observe(mount, { childList: true, subtree: true });
    lock();
    const sheet = new CSSStyleSheet();
    sheet.replaceSync("#start, #mode, label[for=mode], #edit-schema, #not-started { display: none !important; }");
    this.root.adoptedStyleSheets = this.root.adoptedStyleSheets.concat(sheet);
  }

  fail(e) {
    this.setState("failed");
    const p = document.createElement("p");
    p.className = "error";
    p.setAttribute("role", "alert");
    p.textContent = `Unbounded could not start: ${e?.message ?? e}`;
    this.box.replaceChildren(p);
  }
}

if (!customElements.get("unbounded-playground")) customElements.define("unbounded-playground", UnboundedPlayground);
