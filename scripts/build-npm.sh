#!/usr/bin/env bash
# Builds the npm package `unbounded-streaming` into target/npm/package and packs it with
# `npm pack` (target/npm/unbounded-streaming-VERSION.tgz): what scripts/build-web.sh builds into
# dist/ (which this runs first unless SKIP_WEB=1): the UI module (the element) at the package's
# root, the engine module (the worker and the API) under engine/, and www/. Its README gets the
# transferred sizes (gzip -9 and brotli) measured here. Needs what scripts/setup.sh installs,
# and brotli (Debian's package) for the brotli sizes.
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$PWD/node_modules/.bin:$PATH"
version=$(cargo metadata --format-version 1 --no-deps --offline | python3 -c 'import json,sys; print(next(p["version"] for p in json.load(sys.stdin)["packages"] if p["name"] == "unbounded-web"))')
[ "${SKIP_WEB:-0}" = 1 ] || bash scripts/build-web.sh
out=target/npm
pkg=$out/package
rm -rf "$out" && mkdir -p "$pkg/www" "$pkg/engine"

cp dist/unbounded_web.js dist/unbounded_web_bg.wasm "$pkg/"
[ -d dist/snippets ] && cp -r dist/snippets "$pkg/"
cp dist/engine/unbounded_web.js dist/engine/unbounded_web_bg.wasm "$pkg/engine/"
[ -d dist/engine/snippets ] && cp -r dist/engine/snippets "$pkg/engine/"
cp www/unbounded.js www/unbounded-embed.js www/worker.js www/style.css www/unbounded.d.ts "$pkg/www/"

# Transferred sizes: the wasm plus the JavaScript a page loads, compressed as a server would.
size() {  # FILES... -> "raw gzip brotli" in KiB
  local raw=0 gz=0 br=0 f
  for f in "$@"; do
    raw=$((raw + $(stat -c %s "$f")))
    gz=$((gz + $(gzip -9 -c "$f" | wc -c)))
    if command -v brotli >/dev/null; then br=$((br + $(brotli -q 11 -c "$f" | wc -c))); fi
  done
  if command -v brotli >/dev/null; then br="$((br / 1024)) KiB"; else br="(brotli not installed)"; fi
  echo "| $((raw / 1024)) KiB | $((gz / 1024)) KiB | $br |"
}
engine_files=("$pkg"/engine/unbounded_web_bg.wasm "$pkg"/engine/unbounded_web.js "$pkg"/www/unbounded.js "$pkg"/www/worker.js)
ui_files=("$pkg"/unbounded_web_bg.wasm "$pkg"/unbounded_web.js "$pkg"/www/unbounded-embed.js "$pkg"/www/style.css)
engine_size=$(size "${engine_files[@]}")
ui_size=$(size "${ui_files[@]}")
full_size=$(size "${engine_files[@]}" "${ui_files[@]}")

cat > "$pkg/package.json" <<EOF
{
  "name": "unbounded-streaming",
  "version": "$version",
  "description": "A Spark Structured Streaming engine in WebAssembly: the <unbounded-playground> element and a JavaScript API",
  "license": "$(cargo metadata --format-version 1 --no-deps --offline | python3 -c 'import json,sys; print(next(p["license"] for p in json.load(sys.stdin)["packages"] if p["name"] == "unbounded-web") or "UNLICENSED")')",
  "type": "module",
  "main": "./www/unbounded.js",
  "types": "./www/unbounded.d.ts",
  "exports": {
    ".": { "types": "./www/unbounded.d.ts", "default": "./www/unbounded.js" },
    "./embed": "./www/unbounded-embed.js",
    "./engine": { "types": "./www/unbounded.d.ts", "default": "./www/unbounded.js" },
    "./style.css": "./www/style.css",
    "./package.json": "./package.json"
  },
  "files": ["unbounded_web.js", "unbounded_web_bg.wasm", "snippets", "www", "engine", "README.md"],
  "sideEffects": ["./www/unbounded-embed.js"]
}
EOF

cat > "$pkg/README.md" <<EOF
# unbounded-streaming $version

Apache Spark Structured Streaming semantics in the browser and in Node: a WebAssembly engine
(micro-batches, watermarks, state, checkpoints, exactly-once sinks), the
\`<unbounded-playground>\` element for documentation pages, and a JavaScript API.

## Install

    npm install unbounded-streaming

or copy the package's files to your site and load them with \`<script type="module">\`.
The files must stay together: \`www/\` loads \`../unbounded_web.js\` (the element's UI)
and \`../engine/unbounded_web.js\` (the engine, in the worker) and their wasm.

## The element

    <script type="module" src="/node_modules/unbounded-streaming/www/unbounded-embed.js"></script>
    <unbounded-playground example="watermark-small" readonly autoplay interval="1000"></unbounded-playground>

Attributes: \`example\` (a gallery id), \`src\` (a scenario file's URL) or an inline
\`<script type="application/json">\` child; \`panels\` (any of editor, events, output, timeline,
state, checkpoint, progress, explain); \`readonly\`; \`autoplay\` and \`interval\` (ms);
\`height\` (px); \`theme\` (light, dark, auto); \`storage\` (\`memory\`, the default, or
\`indexeddb\` with an optional \`namespace\`); \`playground\` (the full playground's address,
for its "Open in the full playground" link). Each element has its own worker and shadow root,
starts when it scrolls into view and stops its trigger when it scrolls away.

## The API

    import { Session } from "unbounded-streaming";          // loads only the engine module
    const s = await Session.create({
      sql: "SELECT device, temp FROM STREAM readings WHERE temp > 20",
      sources: { readings: { device: "string", temp: "double", ts: "timestamp" } },
      outputMode: "append",
    });
    await s.push("readings", [["a", 21.5, "2026-01-01 00:00:01"]]);
    await s.runAvailable();
    s.lastBatch.rows;   // [["a", 21.5]]

\`Session.create({scenario} | {example} | {sql, sources, tables, outputMode})\`, then
\`push\`, \`step\`, \`runAvailable\`, \`trigger(ms)\`, \`restart\`, \`injectFailure(point)\`,
\`loseCheckpoint\`, \`setQuery\`, \`queryTable\`, \`exportScenario\`, \`toPySpark\`,
\`explain\`, \`on("batch" | "progress" | "error", fn)\`, and the getters \`lastBatch\`,
\`sink\`, \`progress\`, \`state\`, \`checkpoint\`, \`deadLetters\`. A session runs in its own
Web Worker in a browser, and in the caller's thread in Node (\`{worker: false}\`). Errors are
\`UnboundedError\`s (\`Error\`s) with \`kind\`, \`message\`, \`line\` and \`column\`. Types:
\`www/unbounded.d.ts\`.

## Content-Security-Policy

Everything works under \`script-src 'self' 'wasm-unsafe-eval'; worker-src 'self'\` with the
package served from your own origin: no inline script, no eval, no inline style (the element's
styles are constructed stylesheets). From another origin (a CDN), serve the files with
\`Access-Control-Allow-Origin\`; the worker is then started through a \`blob:\` module, so add
\`worker-src blob:\`.

## Sizes

What a page transfers (the wasm module and the JavaScript it loads), measured by the build:

| build | raw | gzip | brotli |
|---|---|---|---|
| engine only (the API: \`engine/\`, \`www/unbounded.js\`, \`www/worker.js\`) | ${engine_size#| }
| the element's UI, in the page's thread (\`unbounded_web*\`, \`www/unbounded-embed.js\`, \`www/style.css\`) | ${ui_size#| }
| the element in all (its UI and the engine in its worker) | ${full_size#| }

The page's thread loads only the UI module; the engine's module loads in the element's worker,
in parallel. The editor is not a separate build: it is a few KiB of the UI module (the
project's README gives the measurement).
EOF

(cd "$out" && npm pack ./package --pack-destination . >/dev/null)
echo "packed $out/unbounded-streaming-$version.tgz"
echo "engine only: $engine_size"
echo "UI:          $ui_size"
echo "element:     $full_size"
