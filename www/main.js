// Starts the page: loads the wasm module, which renders the playground into #app.
import init from "../unbounded_web.js";

init().catch((e) => {
  document.getElementById("app").textContent = "Unbounded could not start: " + e;
});
