#!/usr/bin/env bash
# Sets up everything (system packages, npm, Rust build, a real Kafka broker) and runs every test, then checks that
# no test secret leaked into anything the run printed or left behind.
set -euo pipefail
cd "$(dirname "$0")/.."

# Everything the run prints or leaves goes to $out (kept; its path is printed at the end) and is scanned by
# scripts/check-secrets.mjs: steps/<name>.log (each step's stdout and stderr, also shown here), node/ (what every
# Node process wrote, n8n and its CLI runs included, plus the health, status page and /metrics bodies the tests
# fetched: scripts/capture-output.cjs), tmp/ (the run's TMPDIR: spool folders and files tests leave) and kept/
# (the data plane: every topic's records, keys and headers, dumped before a broker is wiped, a topic deleted or the
# run ends (broker.sh dump), and the spool folders tests delete (scripts/keep-for-scan.mjs)).
out=$(mktemp -d "${TMPDIR:-/tmp}/kl-test-run.XXXXXX")
mkdir -p "$out/steps" "$out/node" "$out/tmp" "$out/kept"
export KL_CAPTURE_DIR=$out/node TMPDIR=$out/tmp KL_KEEP_DIR=$out/kept
export NODE_OPTIONS="--require \"$PWD/scripts/capture-output.cjs\"${NODE_OPTIONS:+ $NODE_OPTIONS}"
# Log folders steps write beside their console output.
checked=("$out" target/fuzz/logs target/audit)

step() { # step NAME COMMAND...: runs COMMAND with its output on the console and in $out/steps/NAME.log
  local name=$1 rc=0
  shift
  echo "== $name: $*"
  "$@" 2>&1 | tee "$out/steps/$name.log" || rc=$?
  # scripts/run-summary.mjs reads this list and the logs for the summary line
  if [ "$rc" -eq 0 ]; then echo "$name ok"; else echo "$name failed"; fi >>"$out/steps/steps.txt"
  return "$rc"
}

# A test step that fails does not stop the run: the steps after it still run (a failed node suite says nothing
# about n8n or the fault matrix), and the run fails at the end. A setup step that fails (step) stops it.
failed=0
check() { step "$@" || failed=1; }

finish() {
  local rc=$?
  [ -z "${n8n_install:-}" ] || kill -- -"$n8n_install" 2>/dev/null || true
  bash scripts/kafka/broker.sh dump || true
  bash scripts/kafka/broker.sh stop || true
  # After a failed step too: a leak in a failing run's output is a leak.
  env -u NODE_OPTIONS node scripts/check-secrets.mjs "${checked[@]}" || rc=1
  echo "test output kept in $out"
  env -u NODE_OPTIONS node scripts/run-summary.mjs "$out/steps" || true
  exit "$rc"
}
trap finish EXIT

step system-deps bash scripts/install-system-deps.sh
# Every n8n variant of the matrix (scripts/n8n/env.sh) and the official image's layout: on an empty cache the longest
# part of the run (downloads and sqlite3 builds), so it runs beside the Rust build and tests; n8n-e2e waits for it.
# Its own process group, so that a run ending early takes the installs with it (finish).
setsid bash scripts/n8n/install-all.sh >"$out/steps/n8n-install-background.log" 2>&1 &
n8n_install=$!
step build bash scripts/build.sh
# hadolint on docker/Dockerfile, actionlint (+ shellcheck) on the workflows and the container scripts
check lint-ci bash scripts/lint-ci-files.sh

# One style (rustfmt.toml) and no clippy warning, tests and benches' crates included.
check rust-lint bash -c 'cargo fmt --check && (cd bench/rust-ceiling && cargo fmt --check) && cargo clippy --release --target "$1" --all-targets -- -D warnings' _ "$(rustc -vV | sed -n 's/^host: //p')"
# Same target as `napi build`, so the two share one set of compiled dependencies.
check cargo-test cargo test --release --target "$(rustc -vV | sed -n 's/^host: //p')"
# Bounded fuzzing (own build in target/fuzz, the addon's untouched) and the dependency audit: docs/fuzzing.md,
# docs/dependencies.md. FUZZ_SECONDS per target.
check fuzz bash scripts/fuzz.sh "${FUZZ_SECONDS:-15}"
check audit bash scripts/audit.sh

step broker-install bash scripts/kafka/broker.sh install
step broker-certs bash scripts/kafka/broker.sh certs
step broker-start bash scripts/kafka/broker.sh start

check node-tests node --test --test-concurrency=1 __test__/*.test.mjs

# Real n8n from npm (every variant of scripts/n8n/env.sh and the image layout), real Kafka, Redis and Chromium.
# `wait` here, in the shell that started the installs: a step runs in a pipeline (a subshell), where it cannot.
n8n_install_rc=0
wait "$n8n_install" || n8n_install_rc=$?
step n8n-install bash -c 'cat "$1"; exit "$2"' _ "$out/steps/n8n-install-background.log" "$n8n_install_rc"
check n8n-e2e bash scripts/n8n/test-e2e.sh

# The fault-injection matrix (RELIABILITY.md, `ci` profile, about 4 min): its own brokers on their own ports.
checked+=(.cache/reliability/logs)
check reliability node --test __test__/reliability/matrix.test.mjs
exit "$failed"
