#!/usr/bin/env bash
# Builds the playground into dist/: the wasm crate (the size-optimised `wasm` profile of the root
# Cargo.toml; PROFILE=debug for a debug build), wasm-bindgen's JS glue, wasm-opt -Oz, then the page
# and its static assets. Needs the tools scripts/setup.sh installs.
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$PWD/node_modules/.bin:$PATH"
profile=${PROFILE:-wasm}
# Cargo's dev profile writes under debug/, every other profile under its own name.
[ "$profile" = dev ] && profile=debug
cargo build -p unbounded-web --target wasm32-unknown-unknown --locked --profile "$([ "$profile" = debug ] && echo dev || echo "$profile")"
rm -rf dist && mkdir -p dist
wasm-bindgen --target web --no-typescript --out-dir dist --out-name unbounded_web "target/wasm32-unknown-unknown/$profile/unbounded_web.wasm"
if [ "$profile" != debug ] && [ "${WASM_OPT:-1}" != 0 ]; then
  wasm-opt -Oz --enable-bulk-memory --enable-nontrapping-float-to-int --enable-sign-ext --enable-mutable-globals \
    -o dist/unbounded_web_bg.wasm dist/unbounded_web_bg.wasm
fi
# The loading screen counts the wasm's bytes against its real size.
sed "s/__WASM_BYTES__/$(stat -c %s dist/unbounded_web_bg.wasm)/" index.html > dist/index.html
cp -r www dist/www
# Precompressed copies for servers that send them (scripts/serve.py does).
gzip -9 -k -f dist/unbounded_web_bg.wasm dist/unbounded_web.js dist/www/*.js dist/www/*.css
echo "built dist/ ($(du -h dist/unbounded_web_bg.wasm | cut -f1) of wasm)"
