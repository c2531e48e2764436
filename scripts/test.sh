#!/usr/bin/env bash
# Sets up everything (system packages, npm, Rust build, a real Kafka broker) and runs every test.
set -euo pipefail
cd "$(dirname "$0")/.."

bash scripts/install-system-deps.sh
bash scripts/build.sh

# Same target as `napi build`, so the two share one set of compiled dependencies.
cargo test --release --target "$(rustc -vV | sed -n 's/^host: //p')"

bash scripts/kafka/broker.sh install
bash scripts/kafka/broker.sh certs
bash scripts/kafka/broker.sh start
trap 'bash scripts/kafka/broker.sh stop || true' EXIT

node --test --test-concurrency=1 __test__/*.test.mjs

# Real n8n from npm (pinned 2.8.x on Node 20, newest 2.x on Node 24), real Kafka, Redis and Chromium.
bash scripts/n8n/test-e2e.sh
