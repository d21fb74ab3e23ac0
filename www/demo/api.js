// The API's smallest use: a session in its own worker, events in, a batch out.
import { Session } from "../unbounded.js";

const out = document.getElementById("api-result");
try {
  const s = await Session.create({ sql: "SELECT k, v + 1 AS w FROM STREAM s", sources: { s: { k: "string", v: "int" } } });
  await s.push("s", [["a", 1], ["b", 2]]);
  await s.runAvailable();
  out.textContent = JSON.stringify(s.sink.rows);
  globalThis.apiSession = s;
} catch (e) {
  out.textContent = `error: ${e.kind}: ${e.message}`;
}
