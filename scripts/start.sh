#!/usr/bin/env bash
# Sets up, builds and serves the playground at http://127.0.0.1:${PORT:-8080}/ (Ctrl+C stops it).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
bash scripts/build-web.sh
port=${PORT:-8080}
echo "Unbounded is at http://127.0.0.1:$port/"
exec python3 scripts/serve.py "$port" dist
