#!/usr/bin/env bash
# Benchmark, not a test: the benchmark suite of issue 11 (engine/src/bench) natively and in wasm,
# in Node and in headless Chromium, printed as one Markdown table (the native columns, then each
# wasm host's events/s, its ratio to native and its linear memory).
#   bash scripts/bench.sh [W1 ... W8 | W1,W3] [EVENTS]
# EVENTS replaces every named workload's size (W6: a side; W8: keys); without it each runs its
# quick size (`unbounded bench --quick`: Workload::quick_events), a few minutes in all. Wasm is built in release
# (opt-level 3, as native) from engine/wasm-bench into target/wasm-bench/. Needs the tools
# scripts/setup.sh installs (wasm-bindgen-cli, playwright-core, /usr/bin/chromium).
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$PWD/node_modules/.bin:$PATH"
usage="usage: bash scripts/bench.sh [W1 ... W8 | W1,W3] [EVENTS]"

workloads=()
events=0
for arg in "$@"; do
  if [[ $arg =~ ^[0-9_]+$ ]]; then
    events=${arg//_/}
  else
    IFS=, read -ra names <<< "$arg"
    for w in "${names[@]}"; do
      [[ $w =~ ^[Ww][1-8]$ ]] || { echo "bench: \`$w\` is neither a workload (W1 to W8) nor a number of events"; echo "$usage"; exit 2; }
      workloads+=("${w^^}")
    done
  fi
done
[ ${#workloads[@]} -gt 0 ] || workloads=(W1 W2 W3 W4 W5 W6 W7 W8)
sized=(--quick)
size=quick
[ "$events" = 0 ] || { sized=("$events"); size=$events; }

bash scripts/setup.sh --tests >&2
out=target/wasm-bench
echo "=== building the wasm bench (release, wasm32-unknown-unknown) and the native CLI" >&2
cargo build -p unbounded-wasm-bench --target wasm32-unknown-unknown --release --locked >&2
cargo build -p unbounded-engine --bin unbounded --release --locked >&2
rm -rf "$out" && mkdir -p "$out"
wasm=target/wasm32-unknown-unknown/release/unbounded_wasm_bench.wasm
wasm-bindgen --target nodejs --no-typescript --out-dir "$out/node" "$wasm"
wasm-bindgen --target web --no-typescript --out-dir "$out/web" "$wasm"
cp engine/wasm-bench/www/index.html "$out/web/"

status=0
echo "=== Node" >&2
node e2e/bench-wasm.mjs node "$out/node" "$size" "${workloads[@]}" > "$out/node.jsonl" || status=1

echo "=== headless Chromium" >&2
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
python3 -m http.server "$port" --bind 127.0.0.1 --directory "$out/web" >/dev/null 2>&1 &
server=$!
# `|| true`: the server is gone by then, and a trap's status would become the script's.
trap 'kill $server 2>/dev/null || true' EXIT
for _ in $(seq 50); do curl -fs "http://127.0.0.1:$port/" >/dev/null && break; sleep 0.1; done
node e2e/bench-wasm.mjs chromium "http://127.0.0.1:$port/" "$size" "${workloads[@]}" > "$out/chromium.jsonl" || status=1
kill $server 2>/dev/null || true

echo "=== native" >&2
target/release/unbounded bench "${workloads[@]}" "${sized[@]}" --wasm "Node=$out/node.jsonl" --wasm "Chromium=$out/chromium.jsonl" || status=$?
exit $status
