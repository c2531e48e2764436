#!/usr/bin/env bash
# The main job for a new user: sets everything up, starts a local Kafka broker, and shows the logger working.
set -euo pipefail
cd "$(dirname "$0")/.."

bash scripts/install-system-deps.sh
bash scripts/build.sh
bash scripts/kafka/broker.sh install
bash scripts/kafka/broker.sh certs
bash scripts/kafka/broker.sh start

node scripts/demo/core.mjs

# The same inside real n8n (installed from npm into a per-user cache, a few minutes the first time).
source scripts/n8n/env.sh
bash scripts/n8n/install.sh "$N8N_PINNED_VERSION"
node scripts/demo/n8n.mjs

cat <<'MSG'

The broker keeps running for you to explore (kcat -b 127.0.0.1:29092 -L).
Stop everything with: node scripts/n8n/n8n.mjs down && bash scripts/kafka/broker.sh stop
(bash scripts/kafka/broker.sh wipe also deletes the broker's data)
MSG
