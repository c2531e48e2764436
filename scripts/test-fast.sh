#!/usr/bin/env bash
# The broker-free inner loop (`npm run test:fast`): builds, then runs cargo's unit tests, the node suites that need
# neither a broker nor n8n, and the n8n adapters' unit tests; fails as soon as one of them fails.
set -euo pipefail
cd "$(dirname "$0")/.."

# The suites of __test__ that start no broker and no n8n (none calls helpers/broker.mjs's ensureBroker or consume):
# the binary's linkage, the secret check's self-test, configuration and intake against an unreachable address, the
# docs. A suite that needs the broker belongs in `npm test` only.
suites=(__test__/binary.test.mjs __test__/check-secrets.test.mjs __test__/config.test.mjs __test__/docs.test.mjs __test__/input.test.mjs __test__/reliability-accounting.test.mjs)

bash scripts/build.sh
# Same target as `napi build` (scripts/test.sh does the same), so the two share one set of compiled dependencies.
cargo test --release --target "$(rustc -vV | sed -n 's/^host: //p')"
# The adapters' metrics test and config.test.mjs take prom-client from the pinned n8n install (made by `npm test` or
# `npm run test:n8n`).
node --test --test-concurrency=1 "${suites[@]}" n8n/test/*.test.mjs
