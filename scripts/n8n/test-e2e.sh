#!/usr/bin/env bash
# Runs the n8n adapter unit tests and the end-to-end tests (real n8n from npm, real Kafka, real Redis, Chromium).
# Needs the built addon (*.node at the repo root). Usage: scripts/n8n/test-e2e.sh [test files...]
set -euo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
cd "$root"

need=()
for p in redis-server:redis-server chromium:chromium kcat:kcat; do
  command -v "${p%%:*}" >/dev/null 2>&1 || need+=("${p##*:}")
done
if [ ${#need[@]} -gt 0 ]; then
  apt-get update -qq >/dev/null && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need[@]}" >/dev/null
fi

started=$(date +%s)
# every npm variant and the official image's layout (pnpm-deployed n8n on Node 26, __test__/e2e/image-layout.test.mjs)
bash scripts/n8n/install-all.sh
echo "n8n installs ready in $(( $(date +%s) - started )) s"
bash scripts/n8n/build.sh

files=("$@")
[ ${#files[@]} -gt 0 ] || files=(n8n/test/*.test.mjs __test__/e2e/*.test.mjs)
# one n8n at a time: the machine has 2 cores
node --test --test-concurrency=1 "${files[@]}"
