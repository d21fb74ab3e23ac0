// Starts the page: fetches the wasm module with a progress bar (it is the page's only large
// file), then hands it to wasm-bindgen's init, which renders the playground into #app.
import init from "../unbounded_web.js";

const loading = document.getElementById("loading");
const bar = loading?.querySelector("progress");
const label = loading?.querySelector(".loading-label");
// The module's size, written into the page when it was built (the transfer may be compressed,
// so Content-Length does not say how many bytes the body has).
const total = Number(loading?.dataset.wasmBytes) || 0;
const mb = (n) => (n / 1048576).toFixed(1);

function show(received) {
  if (!bar || !label) return;
  if (total > 0) {
    bar.value = Math.min(99, (100 * received) / total);
    label.textContent = `${mb(received)} of ${mb(total)} MB`;
  } else {
    bar.removeAttribute("value");
    label.textContent = `${mb(received)} MB`;
  }
}

async function fetchModule() {
  const response = await fetch(new URL("../unbounded_web_bg.wasm", import.meta.url));
  if (!response.ok) throw new Error(`HTTP ${response.status} for the engine's module`);
  if (!response.body) return response;
  const reader = response.body.getReader();
  const chunks = [];
  let received = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    chunks.push(value);
    received += value.byteLength;
    show(received);
  }
  return new Response(new Blob(chunks), { headers: { "Content-Type": "application/wasm" } });
}

fetchModule()
  .then((module) => init({ module_or_path: module }))
  .then(() => loading?.remove())
  .catch((e) => {
    if (loading) loading.textContent = "Unbounded could not start: " + e;
    else document.getElementById("app").textContent = "Unbounded could not start: " + e;
  });
