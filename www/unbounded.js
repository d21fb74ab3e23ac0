// Unbounded's JavaScript API: a streaming session you drive from code.
//
//   import { Session } from "./unbounded.js";
//   const s = await Session.create({ example: "watermark-small" });
//   await s.push("events", [["a", "2026-01-01 00:00:01"]]);
//   await s.runAvailable();
//   console.log(s.sink.rows);
//
// A session runs in a Web Worker of its own (www/worker.js, the page's engine) by default, or in
// the caller's thread with `{ worker: false }` (Node, tests). Both speak the page's protocol
// (web/src/protocol.rs): every call is one Request, answered by one Snapshot.
import init, { LocalEngine, exampleScenario, exampleIds } from "../engine/unbounded_web.js";

/** An error of the engine: `kind` is the engine's class (FORMAT.md), `line`/`column` where it is. */
export class UnboundedError extends Error {
  constructor(info) {
    super(String(info?.message ?? info));
    this.name = "UnboundedError";
    this.kind = info?.kind ?? "internal";
    // A scenario file's JSON error says where in its text: "(line L, column C)".
    const place = info?.line == null ? /\(line (\d+), column (\d+)\)$/.exec(this.message) : null;
    this.line = info?.line ?? (place ? Number(place[1]) : null);
    this.column = info?.column ?? (place ? Number(place[2]) : null);
  }
}

const isNode = typeof process !== "undefined" && !!process.versions?.node && typeof window === "undefined";
let ready = null;

/** Loads the engine's module in this thread, once (the wasm file beside the glue, or `wasm`). */
export function loadEngine(wasm) {
  if (!ready) {
    ready = (async () => {
      let module = wasm;
      if (module === undefined && isNode) {
        const { readFile } = await import("node:fs/promises");
        module = await readFile(new URL("../engine/unbounded_web_bg.wasm", import.meta.url));
      }
      await init(module === undefined ? undefined : { module_or_path: module });
    })();
    ready.catch(() => { ready = null; });
  }
  return ready;
}

/** The gallery's example ids (loads the engine in this thread). */
export async function examples() {
  await loadEngine();
  return exampleIds();
}

/** The scenario file (text) of the gallery's example `id`. */
export async function example(id) {
  await loadEngine();
  try {
    return exampleScenario(String(id));
  } catch (e) {
    throw new UnboundedError(e);
  }
}

// Errors of the file or the storage: the session was not made. A refused query (parse,
// missing_watermark, ...) is a session that shows its refusal, as the gallery's "refused" does.
const NOT_OPENED = new Set(["invalid_input", "internal", "checkpoint", "storage"]);
const NAMESPACE = /^[a-z0-9-]{1,40}$/;

function schemaOf(columns, where) {
  if (Array.isArray(columns)) return columns.map((c) => [String(c[0]), String(c[1])]);
  if (columns && typeof columns === "object") return Object.entries(columns).map(([n, t]) => [n, String(t)]);
  throw new UnboundedError({ kind: "invalid_input", message: `${where}: give the columns as {name: type} or [[name, type], ...]` });
}

/** A scenario document (FORMAT.md) from SQL, source schemas and an output mode. */
export function scenarioFromSql({ sql, sources = {}, tables = {}, outputMode = "append", name = "session", description = "" }) {
  if (typeof sql !== "string") throw new UnboundedError({ kind: "invalid_input", message: "`sql` must be the query's text" });
  const doc = { version: 1, name, description, sources: {}, tables: {}, query: sql, output_mode: outputMode, steps: [] };
  for (const [n, s] of Object.entries(sources)) doc.sources[n] = { schema: schemaOf(s?.schema ?? s, `source \`${n}\``) };
  for (const [n, t] of Object.entries(tables)) doc.tables[n] = { schema: schemaOf(t?.schema, `table \`${n}\``), rows: t?.rows ?? [] };
  return doc;
}

/** The scenario text a create() option names. */
async function scenarioText(options) {
  if (typeof options.scenario === "string") return options.scenario;
  if (options.scenario && typeof options.scenario === "object") return JSON.stringify(options.scenario);
  if (options.example !== undefined) return example(options.example);
  if (options.sql !== undefined) return JSON.stringify(scenarioFromSql(options));
  throw new UnboundedError({ kind: "invalid_input", message: "Session.create needs `scenario`, `example` or `sql`" });
}

/** The session in this thread: the engine's Session behind LocalEngine. */
class LocalTransport {
  static async open(text, options) {
    await loadEngine(options.wasm);
    let engine;
    try {
      engine = new LocalEngine(text, Boolean(options.atStart));
    } catch (e) {
      throw new UnboundedError(e);
    }
    const t = new LocalTransport(engine);
    return [t, JSON.parse(engine.snapshot())];
  }
  constructor(engine) {
    this.engine = engine;
    this.listener = () => {};
    this.timer = null;
  }
  send(request) {
    const snapshot = JSON.parse(this.engine.handle(JSON.stringify(request)));
    // A processing-time trigger: the worker ticks every 50 ms; so does this.
    if (this.engine.playing() && !this.timer) {
      this.timer = setInterval(() => {
        const text = this.engine.tick(Date.now());
        if (text) this.listener(JSON.parse(text));
        if (!this.engine.playing()) this.stopTimer();
      }, 50);
      this.timer.unref?.();
    } else if (!this.engine.playing()) this.stopTimer();
    return Promise.resolve(snapshot);
  }
  stopTimer() {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
  }
  close() {
    this.stopTimer();
    this.engine.free();
  }
}

/** The session in a Web Worker: requests are numbered; the worker's snapshot says how many it took. */
class WorkerTransport {
  constructor(workerUrl) {
    const url = new URL(workerUrl ?? new URL("./worker.js", import.meta.url), globalThis.location?.href);
    // A worker must be of the page's origin: one of another origin (a CDN) is started through
    // a module of the page's own that imports it (CORS applies to the import).
    const sameOrigin = !globalThis.location || url.origin === globalThis.location.origin;
    const src = sameOrigin ? url : URL.createObjectURL(new Blob([`import ${JSON.stringify(url.href)};`], { type: "text/javascript" }));
    this.worker = new Worker(src, { type: "module" });
    this.sent = 0;
    this.pending = new Map();
    this.listener = () => {};
    this.failed = null;
    this.worker.onmessage = (e) => this.received(e.data);
    this.worker.onerror = (e) => this.fail({ kind: "internal", message: e.message || "the engine's worker failed to load" });
    this.worker.onmessageerror = () => this.fail({ kind: "internal", message: "a message from the engine could not be read" });
  }
  received(text) {
    let msg;
    try {
      msg = JSON.parse(text);
    } catch {
      return this.fail({ kind: "internal", message: "the engine's worker sent something that is not JSON" });
    }
    if (typeof msg.panic === "string") return this.fail({ kind: "internal", message: `the engine panicked: ${msg.panic}` });
    const waiting = this.pending.get(msg.answered);
    if (waiting) {
      this.pending.delete(msg.answered);
      waiting.resolve(msg);
    } else {
      this.listener(msg);
    }
  }
  fail(info) {
    this.failed = new UnboundedError(info);
    for (const w of this.pending.values()) w.reject(this.failed);
    this.pending.clear();
    this.listener(null, this.failed);
  }
  send(request) {
    if (this.failed) return Promise.reject(this.failed);
    this.sent += 1;
    const n = this.sent;
    return new Promise((resolve, reject) => {
      this.pending.set(n, { resolve, reject });
      this.worker.postMessage(JSON.stringify(request));
    });
  }
  close() {
    this.worker.terminate();
    this.fail({ kind: "invalid_input", message: "the session was closed" });
  }
}

/** A streaming session: a query over sources you push events into, run batch by batch. */
export class Session {
  /**
   * Opens a session from `{scenario}` (text or document), `{example}` (a gallery id) or
   * `{sql, sources, tables, outputMode}`. `storage` is "memory" (the default) or
   * `{kind: "indexeddb", namespace}` (worker only: a reload resumes it). `worker: false` runs
   * it in the caller's thread; `workerUrl` and `wasm` say where the files are when they moved.
   */
  static async create(options = {}) {
    const text = await scenarioText(options);
    const useWorker = options.worker ?? !isNode;
    const storage = options.storage ?? "memory";
    const kind = typeof storage === "string" ? storage : storage.kind;
    if (kind !== "memory" && kind !== "indexeddb") {
      throw new UnboundedError({ kind: "invalid_input", message: `unknown storage \`${kind}\`: use "memory" or {kind: "indexeddb", namespace}` });
    }
    if (!useWorker) {
      if (kind !== "memory") throw new UnboundedError({ kind: "invalid_input", message: "IndexedDB storage needs the worker: leave out `worker: false`" });
      const [t, first] = await LocalTransport.open(text, options);
      return new Session(t, first);
    }
    const t = new WorkerTransport(options.workerUrl);
    try {
      let first;
      if (kind === "memory") {
        await t.send({ type: "init", storage: "memory", scenario: null, session: "", read_only: false });
        first = await t.send({ type: "load_scenario", text });
      } else {
        const namespace = String(storage.namespace ?? "");
        if (!NAMESPACE.test(namespace)) {
          throw new UnboundedError({ kind: "invalid_input", message: `the IndexedDB namespace \`${namespace.slice(0, 60)}\` must be 1 to 40 of a-z, 0-9 and -` });
        }
        const ns = `embed-${namespace}`.slice(0, 40);
        first = await t.send({ type: "init", storage: "indexed_db", scenario: text, session: ns, read_only: false });
        // Something is saved under this namespace: resume it rather than a copy of the scenario.
        if (first.detached) first = await t.send({ type: "init", storage: "indexed_db", scenario: null, session: ns, read_only: false });
        else if (first.scenario_name !== nameOf(text)) first = await t.send({ type: "load_scenario", text });
      }
      if (first.error && NOT_OPENED.has(first.error.kind)) throw new UnboundedError(first.error);
      // The worker opens a scenario at batch 0 for the page's scrubber; the API's session has
      // run it, as one in the caller's thread has (`atStart` keeps its runs queued instead).
      if (!options.atStart && first.scrub?.queued_runs > 0) first = await t.send({ type: "run_to_end" });
      return new Session(t, first);
    } catch (e) {
      t.close();
      throw e;
    }
  }

  constructor(transport, first) {
    this.transport = transport;
    this.snapshot = first;
    this.listeners = { batch: new Set(), progress: new Set(), error: new Set() };
    this.lastBatchId = last(first.batches)?.batch_id ?? -1;
    // The refusal a scenario opened with stays on its snapshots: it is no request's error.
    this.refusal = first.error ?? null;
    transport.listener = (snapshot, error) => (snapshot ? this.update(snapshot, true) : this.emit("error", error));
  }

  update(snapshot, unasked) {
    this.snapshot = snapshot;
    const error = snapshot.error && !sameError(snapshot.error, this.refusal) ? new UnboundedError(snapshot.error) : null;
    if (!snapshot.error) this.refusal = null;
    const newest = last(snapshot.batches)?.batch_id ?? -1;
    if (newest !== this.lastBatchId) {
      this.lastBatchId = newest;
      if (newest >= 0) this.emit("batch", this.lastBatch);
    }
    this.emit("progress", this.progress);
    if (error && unasked) this.emit("error", error);
    return error;
  }

  emit(event, value) {
    for (const fn of this.listeners[event]) {
      try {
        fn(value);
      } catch (e) {
        setTimeout(() => { throw e; });
      }
    }
  }

  async request(r) {
    const error = this.update(await this.transport.send(r), false);
    if (error) {
      this.emit("error", error);
      throw error;
    }
    return this;
  }

  /** Subscribes to "batch" (each new micro-batch), "progress" (every change) or "error"; returns the unsubscribe function. */
  on(event, fn) {
    const set = this.listeners[event];
    if (!set) throw new UnboundedError({ kind: "invalid_input", message: `unknown event \`${event}\`: use batch, progress or error` });
    set.add(fn);
    return () => set.delete(fn);
  }

  push(source, rows) {
    if (!Array.isArray(rows)) return Promise.reject(new UnboundedError({ kind: "invalid_input", message: "push(source, rows): rows is an array of rows, each an array of values in schema order" }));
    return this.request({ type: "add_events", source: String(source), rows });
  }
  /** One trigger: at most one micro-batch. */
  step() { return this.request({ type: "step" }); }
  /** Spark's processAllAvailable(). */
  runAvailable() { return this.request({ type: "run_batch" }); }
  /** A processing-time trigger every `intervalMs` (0 or null stops it). */
  trigger(intervalMs) {
    if (intervalMs === null || intervalMs === 0) return this.request({ type: "pause" });
    const ms = Number(intervalMs);
    if (!Number.isFinite(ms) || ms < 0) return Promise.reject(new UnboundedError({ kind: "invalid_input", message: `trigger(intervalMs): ${intervalMs} is not a number of milliseconds` }));
    return this.request({ type: "play", interval_ms: ms });
  }
  stop() { return this.request({ type: "pause" }); }
  /** The scenario's next queued run (opened `atStart`), or the next kept position when an earlier one is shown. */
  forward() { return this.request({ type: "step_forward" }); }
  /** Shows the position before the one shown, as the session was then. */
  back() { return this.request({ type: "step_back" }); }
  /** Applies every queued run: the scenario to its end. */
  toEnd() { return this.request({ type: "run_to_end" }); }
  /** Where the scenario stands: the position shown, the newest, and what is still queued. */
  get position() {
    const s = this.snapshot.scrub;
    return { shown: s.position, live: s.live, queuedRuns: s.queued_runs, queuedEvents: s.queued_events };
  }
  restart() { return this.request({ type: "restart" }); }
  injectFailure(point) { return this.request({ type: "inject_failure", point: String(point) }); }
  loseCheckpoint() { return this.request({ type: "lose_checkpoint" }); }
  /** A new query over the events so far, with a new checkpoint and sink. */
  setQuery(sql, outputMode = this.snapshot.output_mode) { return this.request({ type: "set_query", sql: String(sql), output_mode: String(outputMode) }); }
  /** A batch query over the sink table, e.g. `SELECT * FROM sink VERSION AS OF 1`. */
  async queryTable(sql) {
    await this.request({ type: "query_table", sql: String(sql) });
    const q = this.snapshot.table_query;
    if (q?.error) throw new UnboundedError(q.error);
    return { columns: q.columns, rows: q.rows, version: q.version };
  }
  /** A checkpoint file's content as text. */
  async readCheckpoint(path) {
    await this.request({ type: "read_checkpoint", path: String(path) });
    return this.snapshot.checkpoint_file?.[1] ?? "";
  }
  /** The session as a scenario file (JSON text, FORMAT.md). */
  async exportScenario() {
    await this.request({ type: "export" });
    return this.snapshot.exported;
  }
  /** The same session as a PySpark program. */
  async toPySpark() {
    await this.request({ type: "export" });
    return this.snapshot.exported_pyspark;
  }
  /** The running query's incremental plan. */
  explain() { return this.snapshot.explain; }

  get name() { return this.snapshot.scenario_name; }
  get sql() { return this.snapshot.sql; }
  get outputMode() { return this.snapshot.output_mode; }
  get columns() { return this.snapshot.columns; }
  /** The error the query shows (a refused query), or null. */
  get error() { return this.snapshot.error ? new UnboundedError(this.snapshot.error) : null; }
  /** The newest micro-batch and the rows it wrote to the sink (null before the first). */
  get lastBatch() {
    const s = this.snapshot;
    const b = last(s.batches);
    if (!b) return null;
    const change = s.sink_change;
    const rows = change.batch_id === b.batch_id ? [...change.added, ...change.updated].sort((x, y) => x - y).map((i) => s.sink[i]) : [];
    return { ...camel(b), rows, removed: change.batch_id === b.batch_id ? change.removed : [] };
  }
  /** The sink table (its newest 500 rows), how many rows it has, and its versions. */
  get sink() {
    const s = this.snapshot;
    return { columns: s.columns, rows: s.sink, total: s.sink_total, versions: s.table_history.map(camel), versionsTotal: s.history_total };
  }
  /** The at-least-once file sink: its rows (duplicates included) and parts. */
  get file() { return { rows: this.snapshot.file_rows, total: this.snapshot.file_total, parts: this.snapshot.file_parts.map(camel) }; }
  /** Every micro-batch's progress (the newest 200), as Spark's progress reports summarise them. */
  get progress() { return this.snapshot.batches.map(camel); }
  get watermark() { return last(this.snapshot.batches)?.watermark ?? this.snapshot.watermark ?? null; }
  /** Each stateful operator's state tables. */
  get state() { return this.snapshot.state.map((o) => ({ operator: o.operator, tables: o.tables.map(camel) })); }
  /** The checkpoint's files as a tree: {name: {...}} for folders, {bytes} for files. */
  get checkpoint() {
    const root = {};
    for (const f of this.snapshot.checkpoint) {
      const parts = f.path.split("/");
      let dir = root;
      for (const p of parts.slice(0, -1)) dir = dir[p] ??= {};
      dir[parts[parts.length - 1]] = { bytes: f.bytes };
    }
    return root;
  }
  get checkpointFiles() { return this.snapshot.checkpoint.map(camel); }
  get deadLetters() { return this.snapshot.dead_letter.map(camel); }
  get failures() { return this.snapshot.failures.map(camel); }
  get sources() { return this.snapshot.sources.map((s) => ({ name: s.name, columns: s.columns.map(camel), rows: s.rows, pending: s.pending })); }
  get playing() { return this.snapshot.live.playing; }

  /** Stops the session and its worker. */
  close() { this.transport.close(); }
}

function last(a) { return a.length ? a[a.length - 1] : undefined; }
function sameError(a, b) { return !!b && a.kind === b.kind && a.message === b.message; }
function nameOf(text) {
  try { return JSON.parse(text).name; } catch { return undefined; }
}
function camel(o) {
  const out = {};
  for (const [k, v] of Object.entries(o)) out[k.replace(/_([a-z])/g, (_, c) => c.toUpperCase())] = v;
  return out;
}
