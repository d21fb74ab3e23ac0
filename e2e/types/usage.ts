// Checked by `tsc --noEmit` (scripts/test.sh, suite api-types): the declarations of
// www/unbounded.d.ts describe the API as the Node and browser tests use it.
import { Session, UnboundedError, scenarioFromSql, type Scenario, type Row } from "../../www/unbounded.js";

export async function use(): Promise<number> {
  const s = await Session.create({ example: "watermark-small" });
  const t = await Session.create({ sql: "SELECT a FROM STREAM s", sources: { s: { a: "int" } }, outputMode: "append", worker: false });
  const rows: Row[] = [[1], [2]];
  await t.push("s", rows);
  await (await t.step()).runAvailable();
  const n: number = t.sink.total + (t.lastBatch?.rows.length ?? 0);
  const off = t.on("batch", (b) => console.log(b.batchId, b.watermark));
  off();
  t.on("error", (e: UnboundedError) => console.log(e.kind, e.line, e.column));
  await t.injectFailure("after_sink_write");
  await t.trigger(1000);
  await t.trigger(null);
  const doc: Scenario = JSON.parse(await s.exportScenario());
  const again: Scenario = scenarioFromSql({ sql: doc.query, sources: { s: [["a", "int"]] } });
  const py: string = await s.toPySpark();
  const plan: string = s.explain();
  for (const op of s.state) console.log(op.operator, op.tables[0]?.rows);
  console.log(s.checkpoint, s.deadLetters[0]?.reason, again.steps.length, py.length, plan.length);
  try {
    await s.setQuery("SELECT nope FROM STREAM s");
  } catch (e) {
    if (e instanceof UnboundedError) return e.line ?? -1;
  }
  s.close();
  return n;
}

// @ts-expect-error: a session needs a scenario, an example or SQL.
Session.create({ worker: false });
// @ts-expect-error: no such failure point.
declare const s: Session; s.injectFailure("sometime");
