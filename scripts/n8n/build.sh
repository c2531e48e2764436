#!/usr/bin/env bash
# Compiles n8n/*.ts to dist/n8n (the `hooks` and `n8n` entry points); uses the repo's typescript, else installs one into .cache/tools.
set -euo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
cd "$root"
tsc="$root/node_modules/.bin/tsc"; types=()
if [ ! -x "$tsc" ] || [ ! -d "$root/node_modules/@types/node" ]; then
  tools="$root/.cache/tools"
  if [ ! -x "$tools/node_modules/.bin/tsc" ] || [ ! -d "$tools/node_modules/@types/node" ]; then
    mkdir -p "$tools" && echo '{"private":true}' > "$tools/package.json"
    (cd "$tools" && npm install --no-audit --no-fund --loglevel=error typescript@5 @types/node@20 >/dev/null)
  fi
  tsc="$tools/node_modules/.bin/tsc"; types=(--typeRoots "$tools/node_modules/@types")
fi
rm -rf dist/n8n
"$tsc" -p n8n/tsconfig.json "${types[@]}"
echo "built dist/n8n ($(ls dist/n8n/*.js | wc -l) modules)"
