#!/usr/bin/env bash
# Installs everything the n8n end-to-end tests run on: every npm variant (install.sh) and, beside them, the official
# image's layout (install-image-layout.sh); on an empty cache both are mostly registry round trips.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
image_log="$(mktemp)"
trap 'rm -f "$image_log"' EXIT
bash "$here/install-image-layout.sh" >"$image_log" 2>&1 &
image=$!
rc=0
bash "$here/install.sh" || rc=$?
wait "$image" || rc=$?
cat "$image_log"
exit "$rc"
