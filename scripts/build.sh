#!/usr/bin/env bash
# Builds the native addon (index.js, index.d.ts, the .node binary) and the n8n adapters, installing npm deps first.
set -euo pipefail
cd "$(dirname "$0")/.."

# `npm install`, not `npm ci`: npm 11 leaves other platforms' optional packages of @napi-rs/cli's own
# dependencies (@napi-rs/lzma-*) out of the lockfile it writes, and `npm ci` then rejects that same lockfile.
if [ ! -d node_modules ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  npm install --no-audit --no-fund
fi
npx napi build --platform --release
bash scripts/n8n/build.sh
