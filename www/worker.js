// The engine's Web Worker: loads the engine's wasm module (the page's thread loads only the UI's)
// and hands it the messages. Messages that arrive while the module loads are kept and replayed,
// in order.
import init, { workerMain } from "../engine/unbounded_web.js";

const early = [];
self.onmessage = (e) => early.push(e.data);
await init();
workerMain();
for (const data of early) self.dispatchEvent(new MessageEvent("message", { data }));
