#!/usr/bin/env bash
# Builds the native addon (index.js, index.d.ts, the .node binary) and the n8n adapters, installing npm deps first.
set -euo pipefail
cd "$(dirname "$0")/.."

if [ ! -d node_modules ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  npm ci --no-audit --no-fund
fi
npx napi build --platform --release
if [ -f n8n/tsconfig.json ]; then
  npx tsc -p n8n
fi
