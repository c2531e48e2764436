#!/usr/bin/env bash
# Installs the Debian packages the tests need (kcat, redis-server, postgresql, openssl, jq, promtool, ...); a no-op when all are present.
set -euo pipefail

# package:command pairs; a package is wanted when its command is missing.
deps=(kcat:kcat redis-server:redis-server postgresql:pg_ctlcluster openssl:openssl jq:jq util-linux:flock)
# promtool (Debian's prometheus package) runs docs/operations.md's alert rules against the exporter (n8n/test/alert-rules.test.mjs)
deps+=(prometheus:promtool)
# The Kafka test broker also needs a JDK (17+) and Maven: preinstalled on the project's machines.
deps+=(openjdk-17-jre-headless:java maven:mvn)
missing=()
for d in "${deps[@]}"; do
  command -v "${d#*:}" >/dev/null 2>&1 || missing+=("${d%%:*}")
done
((${#missing[@]} == 0)) && exit 0

echo "install-system-deps: installing ${missing[*]}" >&2
SUDO=()
[[ $(id -u) -eq 0 ]] || SUDO=(sudo)
export DEBIAN_FRONTEND=noninteractive
log=$(mktemp)
trap 'rm -f "$log"' EXIT
if ! { "${SUDO[@]}" apt-get update -qq && "${SUDO[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}"; } >"$log" 2>&1; then
  cat "$log" >&2
  echo "install-system-deps: apt-get failed" >&2
  exit 1
fi
