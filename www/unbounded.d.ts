// Types of Unbounded's JavaScript API (www/unbounded.js) and of the scenario format
// (FORMAT.md, version 1). Written by hand: the API is JavaScript over the wasm module's protocol.

/** A value in a row, as the scenario format writes it: timestamps as "YYYY-MM-DD HH:MM:SS". */
export type Value = null | boolean | number | string | Value[] | { [key: string]: Value };
export type Row = Value[];
export type OutputMode = "append" | "update" | "complete";
export type FailurePoint =
  | "before_offsets_write"
  | "after_offsets_write"
  | "after_state_write"
  | "after_sink_write";

/** A column's type: int, bigint, double, string, boolean, timestamp, date, decimal(p,s), ... */
export type ColumnType = string;
/** Columns as [[name, type], ...] or {name: type}. */
export type Columns = [string, ColumnType][] | Record<string, ColumnType>;

/** One step of a scenario. */
export type Step =
  | { add: string; rows: Row[] }
  | { run: Record<string, never> | { trigger: "availableNow" | "once" } | { batches: number } }
  | { restart: Record<string, never> }
  | { fail: FailurePoint };

/** A scenario file (FORMAT.md, version 1). */
export interface Scenario {
  version: 1;
  name: string;
  description?: string;
  sources: Record<string, { schema: [string, ColumnType][]; options?: Record<string, string | number | boolean> }>;
  tables?: Record<string, { schema: [string, ColumnType][]; rows: Row[] }>;
  query: string;
  output_mode?: OutputMode;
  steps: Step[];
}

/** An error of the engine, or of a call: `kind` is FORMAT.md's class. */
export class UnboundedError extends Error {
  readonly kind:
    | "parse"
    | "unknown_table"
    | "unknown_column"
    | "unknown_function"
    | "ambiguous_column"
    | "type_mismatch"
    | "missing_watermark"
    | "unsupported_output_mode"
    | "unsupported_operation"
    | "runtime"
    | "invalid_input"
    | "checkpoint"
    | "storage"
    | "internal"
    | (string & {});
  /** Where in the SQL (or the scenario's JSON), counting from 1; null when nowhere in particular. */
  readonly line: number | null;
  readonly column: number | null;
}

export type Storage = "memory" | { kind: "indexeddb"; namespace: string } | { kind: "memory" };

interface CommonOptions {
  /** Run in a Web Worker of its own (the default in browsers) or in the caller's thread (Node). */
  worker?: boolean;
  /** Where the session is kept; IndexedDB needs the worker, and resumes after a reload. */
  storage?: Storage;
  /** The engine's worker script, when the files were moved (default: worker.js beside this module). */
  workerUrl?: string | URL;
  /** The wasm module (bytes, a URL or a Response) for the caller's thread. */
  wasm?: BufferSource | URL | string | Response;
  /** Open a scenario at batch 0 with its runs queued (step() applies them) instead of run to its end. */
  atStart?: boolean;
}

export type CreateOptions = CommonOptions &
  (
    | { scenario: string | Scenario }
    | { example: string }
    | {
        sql: string;
        sources: Record<string, Columns | { schema: Columns }>;
        tables?: Record<string, { schema: Columns; rows: Row[] }>;
        outputMode?: OutputMode;
        name?: string;
        description?: string;
      }
  );

export interface LateRow {
  operator: string;
  row: Row;
  event_time: number;
  watermark: number;
  window: [number, number] | null;
}

/** One micro-batch, as Spark's progress summarises it. */
export interface BatchProgress {
  batchId: number;
  inputRows: number;
  outputRows: number;
  watermark: string | null;
  stateRows: number;
  droppedLate: number;
  badRecords: number;
  durationMs: number;
  skippedByTable: boolean;
  watermarkMicros: number | null;
  windowWatermarkMicros: number | null;
  offsets: { source: string; start: number; end: number }[];
  late: LateRow[];
  timestampMs: number;
  inputRowsPerSecond: number;
  processedRowsPerSecond: number;
}

export interface LastBatch extends BatchProgress {
  /** The rows this batch wrote to the sink table (new and updated ones). */
  rows: Row[];
  /** Rows it removed from the table (complete and update modes). */
  removed: Row[];
}

export interface TableVersion {
  version: number;
  batchId: number;
  queryId: string;
  operation: string;
  rowsAdded: number;
  rowsUpdated: number;
  rowsRemoved: number;
}

export interface Sink {
  columns: string[];
  /** The newest 500 rows. */
  rows: Row[];
  total: number;
  versions: TableVersion[];
  versionsTotal: number;
}

export interface OperatorState {
  operator: string;
  tables: { name: string; rows: number; bytes: number; sample: string[]; evicted: string[] }[];
}

export interface DeadLetter {
  batchId: number;
  source: string;
  offset: number;
  row: Value;
  reason: string;
}

/** The checkpoint as folders of files. */
export interface CheckpointTree {
  [name: string]: CheckpointTree | { bytes: number };
}

export interface SessionEvents {
  batch: LastBatch;
  progress: BatchProgress[];
  error: UnboundedError;
}

export class Session {
  static create(options: CreateOptions): Promise<Session>;

  push(source: string, rows: Row[]): Promise<Session>;
  /** One trigger: at most one micro-batch. */
  step(): Promise<Session>;
  /** Spark's processAllAvailable(). */
  runAvailable(): Promise<Session>;
  /** A processing-time trigger every intervalMs; 0 or null stops it. */
  trigger(intervalMs: number | null): Promise<Session>;
  stop(): Promise<Session>;
  /** The scenario's next queued run (opened `atStart`), or the next kept position when an earlier one is shown. */
  forward(): Promise<Session>;
  /** Shows the position before the one shown, as the session was then. */
  back(): Promise<Session>;
  /** Applies every queued run: the scenario to its end. */
  toEnd(): Promise<Session>;
  /** Where the scenario stands: the position shown, the newest, and what is still queued. */
  readonly position: { shown: number; live: number; queuedRuns: number; queuedEvents: number };
  restart(): Promise<Session>;
  injectFailure(point: FailurePoint): Promise<Session>;
  loseCheckpoint(): Promise<Session>;
  setQuery(sql: string, outputMode?: OutputMode): Promise<Session>;
  queryTable(sql: string): Promise<{ columns: string[]; rows: Row[]; version: number | null }>;
  readCheckpoint(path: string): Promise<string>;
  exportScenario(): Promise<string>;
  toPySpark(): Promise<string>;
  explain(): string;
  on<E extends keyof SessionEvents>(event: E, fn: (value: SessionEvents[E]) => void): () => void;
  close(): void;

  readonly name: string;
  readonly sql: string;
  readonly outputMode: OutputMode;
  readonly columns: string[];
  readonly error: UnboundedError | null;
  readonly lastBatch: LastBatch | null;
  readonly sink: Sink;
  readonly file: { rows: Row[]; total: number; parts: { part: number; batchId: number; rows: number }[] };
  readonly progress: BatchProgress[];
  readonly watermark: string | null;
  readonly state: OperatorState[];
  readonly checkpoint: CheckpointTree;
  readonly checkpointFiles: { path: string; bytes: number }[];
  readonly deadLetters: DeadLetter[];
  readonly failures: { batchId: number; point: string }[];
  readonly sources: { name: string; columns: { name: string; dataType: string }[]; rows: number; pending: number }[];
  readonly playing: boolean;
}

/** A scenario document from SQL, schemas and an output mode. */
export function scenarioFromSql(options: {
  sql: string;
  sources?: Record<string, Columns | { schema: Columns }>;
  tables?: Record<string, { schema: Columns; rows: Row[] }>;
  outputMode?: OutputMode;
  name?: string;
  description?: string;
}): Scenario;

/** Loads the engine's wasm module in this thread (done for you by the calls that need it). */
export function loadEngine(wasm?: BufferSource | URL | string | Response): Promise<void>;
/** The gallery's example ids. */
export function examples(): Promise<string[]>;
/** The scenario text of a gallery example. */
export function example(id: string): Promise<string>;
