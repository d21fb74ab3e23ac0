#!/usr/bin/env bash
# Benchmark, not a test: builds the page, serves it, and measures its frame rate in headless
# Chromium while a generator pushes events into the worker (target: 60 fps at 10,000 events/s).
#   bash scripts/bench-page.sh [SECONDS] [EVENTS_PER_SECOND]
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh --tests
bash scripts/build-web.sh
export PATH="$PWD/node_modules/.bin:$PATH"
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
python3 -m http.server "$port" --bind 127.0.0.1 --directory dist >/dev/null 2>&1 &
server=$!
trap 'kill $server 2>/dev/null' EXIT
for _ in $(seq 50); do curl -fs "http://127.0.0.1:$port/" >/dev/null && break; sleep 0.1; done
node e2e/bench-fps.mjs "http://127.0.0.1:$port/" "${1:-10}" "${2:-10000}"
