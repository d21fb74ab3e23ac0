#!/usr/bin/env bash
# Builds the playground into dist/: two wasm modules of the web crate (the size-optimised `wasm`
# profile of the root Cargo.toml; PROFILE=debug for a debug build): the UI (`ui` feature: the
# page and the element, loaded by the page's thread) at dist/, and the engine (`engine` feature:
# the worker and the in-thread JavaScript API) at dist/engine/; wasm-bindgen's JS glue and
# wasm-opt -Oz for each, then the page and its static assets. Needs what scripts/setup.sh installs.
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$PWD/node_modules/.bin:$PATH"
profile=${PROFILE:-wasm}
# Cargo's dev profile writes under debug/, every other profile under its own name.
[ "$profile" = dev ] && profile=debug
rm -rf dist && mkdir -p dist/engine
# module FEATURE OUT_DIR: one wasm module of the web crate with only FEATURE.
module() {
  cargo build -p unbounded-web --target wasm32-unknown-unknown --locked --no-default-features --features "$1" \
    --profile "$([ "$profile" = debug ] && echo dev || echo "$profile")"
  wasm-bindgen --target web --no-typescript --out-dir "$2" --out-name unbounded_web "target/wasm32-unknown-unknown/$profile/unbounded_web.wasm"
  if [ "$profile" != debug ] && [ "${WASM_OPT:-1}" != 0 ]; then
    wasm-opt -Oz --enable-bulk-memory --enable-nontrapping-float-to-int --enable-sign-ext --enable-mutable-globals \
      -o "$2/unbounded_web_bg.wasm" "$2/unbounded_web_bg.wasm"
  fi
}
module ui dist
module engine dist/engine
# The loading screen counts the UI module's bytes against its real size.
sed "s/__WASM_BYTES__/$(stat -c %s dist/unbounded_web_bg.wasm)/" index.html > dist/index.html
cp -r www dist/www
# Precompressed copies for servers that send them (scripts/serve.py does).
gzip -9 -k -f dist/unbounded_web_bg.wasm dist/unbounded_web.js dist/engine/unbounded_web_bg.wasm dist/engine/unbounded_web.js dist/www/*.js dist/www/*.css
echo "built dist/ ($(du -h dist/unbounded_web_bg.wasm | cut -f1) of UI wasm, $(du -h dist/engine/unbounded_web_bg.wasm | cut -f1) of engine wasm)"
