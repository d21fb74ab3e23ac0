#!/usr/bin/env bash
# Sets up and runs every test of Unbounded; the last line sums them up: "total: N passed, M failed".
#   native unit, conformance and session tests; the engine's tests compiled to wasm under Node;
#   the web crate's tests in headless Chromium (cargo and wasm-pack); the release build of the
#   page; the end-to-end tests of the built page in headless Chromium.
set -uo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh --tests || { echo "setup failed"; echo "total: 0 passed, 1 failed"; exit 1; }
export PATH="$PWD/node_modules/.bin:$PATH"
logs=$(mktemp -d)
passed=0
failed=0

# Runs a suite, echoing its output; adds up the "N passed; M failed" lines it prints.
suite() {
  local name=$1; shift
  echo "=== $name: $*"
  "$@" 2>&1 | tee "$logs/$name.log"
  local status=${PIPESTATUS[0]}
  local p f
  p=$(grep -Eo '([0-9]+) passed' "$logs/$name.log" | awk '{s+=$1} END {print s+0}')
  f=$(grep -Eo '([0-9]+) failed' "$logs/$name.log" | awk '{s+=$1} END {print s+0}')
  if [ "$status" -ne 0 ] && [ "$f" -eq 0 ]; then f=1; fi
  echo "=== $name: $p passed, $f failed (exit $status)"
  passed=$((passed + p))
  failed=$((failed + f))
}

lint() {
  cargo fmt --all -- --check || { echo "formatting differs: run cargo fmt --all"; return 1; }
  cargo clippy --workspace --all-targets --locked -- -D warnings
  cargo clippy -p unbounded-web --target wasm32-unknown-unknown --all-targets --locked -- -D warnings
  echo "lint: 1 passed, 0 failed"
}
# The API's TypeScript declarations, checked by tsc on a typed usage file; tsc comes from npm
# at a fixed version, into target/ (nothing the project ships needs it).
api_types() {
  local tsc=target/npm-tools/node_modules/.bin/tsc
  [ -x "$tsc" ] || npm install --prefix target/npm-tools --no-save --no-audit --no-fund --no-package-lock typescript@5.6.3 >/dev/null || return 1
  "$tsc" -p e2e/types && echo "api-types: 1 passed, 0 failed"
}

# The npm package: built and packed, installed from its tarball into an empty folder, imported
# there by Node and by a page.
npm_package() {
  SKIP_WEB=1 bash scripts/build-npm.sh && node e2e/npm-package.mjs target/npm
}

suite lint lint
suite native cargo test --workspace --locked
suite engine-wasm-node cargo test -p unbounded-engine --locked --target wasm32-unknown-unknown --tests
suite web-wasm-chromium cargo test -p unbounded-web --locked --target wasm32-unknown-unknown --tests
suite web-wasm-pack wasm-pack test --headless --chrome --chromedriver /usr/bin/chromedriver --mode no-install web

echo "=== build: scripts/build-web.sh"
if bash scripts/build-web.sh; then
  port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
  python3 scripts/serve.py "$port" dist >/dev/null 2>&1 &
  server=$!
  for _ in $(seq 50); do curl -fs "http://127.0.0.1:$port/" >/dev/null && break; sleep 0.1; done
  suite e2e node e2e/playground.mjs "http://127.0.0.1:$port/" e2e/screenshots
  suite e2e-hardening node e2e/hardening.mjs "http://127.0.0.1:$port/" e2e/screenshots
  suite e2e-sessions node e2e/sessions.mjs "http://127.0.0.1:$port/" e2e/screenshots
  suite e2e-scrubber node e2e/scrubber.mjs "http://127.0.0.1:$port/" e2e/screenshots
  suite e2e-compare node e2e/compare.mjs "http://127.0.0.1:$port/" e2e/screenshots
  suite e2e-exercise node e2e/exercise.mjs "http://127.0.0.1:$port/" e2e/screenshots
  suite e2e-pipelines node e2e/pipelines.mjs "http://127.0.0.1:$port/" e2e/screenshots
  # Embedding (issue 16): the API in Node and its types, then the demo article, the CSP page and
  # an embed whose files come from a second origin (the same dist/ on another port).
  suite api-node node e2e/api-node.mjs dist
  suite api-types api_types
  port2=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
  python3 scripts/serve.py "$port2" dist >/dev/null 2>&1 &
  server2=$!
  for _ in $(seq 50); do curl -fs "http://127.0.0.1:$port2/" >/dev/null && break; sleep 0.1; done
  suite e2e-embed node e2e/embed.mjs "http://127.0.0.1:$port/" e2e/screenshots "http://127.0.0.1:$port2/"
  kill "$server2" 2>/dev/null
  suite npm-package npm_package
  kill "$server" 2>/dev/null
else
  echo "=== build failed"
  failed=$((failed + 1))
fi

echo "total: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
