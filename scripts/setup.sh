#!/usr/bin/env bash
# Installs what building and testing Unbounded needs, idempotently: fast when all is present.
#   scripts/setup.sh           tools to build the page (wasm target, wasm-bindgen-cli, wasm-opt)
#   scripts/setup.sh --tests   also Chromium, chromedriver and wasm-pack for the browser tests
# Everything comes from the package registries (crates.io, Debian, npm); nothing downloads a
# binary from anywhere else.
set -euo pipefail
cd "$(dirname "$0")/.."
want_tests=0
[ "${1:-}" = "--tests" ] && want_tests=1

rustup target add wasm32-unknown-unknown >/dev/null
rustup component add clippy rustfmt >/dev/null 2>&1 || true

# wasm-bindgen-cli must equal the wasm-bindgen version in Cargo.lock exactly.
wb_version=$(cargo pkgid --offline wasm-bindgen 2>/dev/null || cargo pkgid wasm-bindgen)
wb_version=${wb_version##*@}
if [ "$(wasm-bindgen --version 2>/dev/null | awk '{print $2}')" != "$wb_version" ]; then
  echo "setup: installing wasm-bindgen-cli $wb_version"
  # No --locked: one of its pinned dependencies is not served by this registry (see TOOLCHAIN notes).
  cargo install wasm-bindgen-cli --version "$wb_version" --force
fi

# npm's binaryen gives a wasm-opt that reads current wasm-bindgen output (Debian's cannot).
if [ ! -x node_modules/.bin/wasm-opt ] || [ ! -d node_modules/playwright-core ]; then
  echo "setup: installing npm tools (binaryen, playwright-core)"
  npm ci --no-audit --no-fund
fi

if [ "$want_tests" = 1 ]; then
  need_apt=()
  command -v chromium >/dev/null || need_apt+=(chromium)
  command -v chromedriver >/dev/null || need_apt+=(chromium-driver)
  # The npm package's README reports brotli sizes (scripts/build-npm.sh).
  command -v brotli >/dev/null || need_apt+=(brotli)
  if [ ${#need_apt[@]} -gt 0 ]; then
    echo "setup: installing ${need_apt[*]} from Debian"
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${need_apt[@]}"
  fi
  if [ "$(wasm-pack --version 2>/dev/null | awk '{print $2}')" != "0.15.1" ]; then
    echo "setup: installing wasm-pack 0.15.1"
    cargo install wasm-pack --version 0.15.1 --locked --force
  fi
fi

cargo fetch --locked >/dev/null
