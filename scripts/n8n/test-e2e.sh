#!/usr/bin/env bash
# Runs the n8n adapter unit tests and the end-to-end tests (real n8n from npm, real Kafka, real Redis and PostgreSQL, Chromium).
# Needs the built addon (*.node at the repo root). Usage: scripts/n8n/test-e2e.sh [test files...]
set -euo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
cd "$root"

need=()
for p in redis-server:redis-server pg_ctlcluster:postgresql chromium:chromium kcat:kcat; do
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
if [ ${#files[@]} -eq 0 ]; then
  # The longest suites first (each restarts n8n or Kafka several times), so that the last ones to finish are short.
  slow=(__test__/e2e/wiring.test.mjs __test__/e2e/resilience.test.mjs __test__/e2e/queue-*.test.mjs __test__/e2e/more-*.test.mjs)
  files=("${slow[@]}")
  for f in n8n/test/*.test.mjs __test__/e2e/*.test.mjs; do
    [[ " ${slow[*]} " == *" $f "* ]] || files+=("$f")
  done
fi
# Suites side by side: most of a suite's time is waiting (n8n starting, Wait nodes, timeouts, Kafka reads), not CPU.
# Each suite has its own n8n ports, topics, Redis and spare broker; E2E_CONCURRENCY=1 runs one at a time.
node --test --test-concurrency="${E2E_CONCURRENCY:-3}" "${files[@]}"
