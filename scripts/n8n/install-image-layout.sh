#!/usr/bin/env bash
# Reproduces the official n8n image's n8n tree in the cache: a `pnpm deploy` of n8n (isolated node_modules/.pnpm) on Node 26.
# Usage: scripts/n8n/install-image-layout.sh [VERSION@NODE]   (default: N8N_IMAGE_VARIANT of env.sh; idempotent)
#
# n8n's image build (scripts/build-n8n.mjs, docker/images/n8n/Dockerfile in n8n's repo) runs
#   pnpm --filter=n8n --prod --legacy deploy --no-optional ./compiled
# in its monorepo, copies ./compiled to /usr/local/lib/node_modules/n8n and runs `npm rebuild sqlite3` there with
# the image's Node. Here the monorepo is a one-package pnpm workspace holding n8n's published package (the same
# files as n8n's `files`, workspace: versions already resolved), deployed the same way under image_root SPEC.
# The logger itself is not installed here: docker/install-logger.sh puts it into its own prefix (the test does that
# with the freshly packed tarballs).
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
. "$here/env.sh"
. "$here/install.sh" # install_node, install_apt_deps (sourcing runs nothing)
spec="${1:-$N8N_IMAGE_VARIANT}"; spec="${spec%-image}"
v="$(variant_version "$spec")"
root="$(image_root "$spec")"; n8n="$(image_n8n_dir "$spec")"; build="$root.build"

if [ -f "$root/.installed" ] && [ -x "$n8n/bin/n8n" ]; then echo "n8n image layout $spec: cached in $root"; exit 0; fi
started=$(date +%s)
install_apt_deps # python3, make, g++ for sqlite3's node-gyp build
install_node "$spec"
nodedir="$(node_dir_for "$spec")"
# npm and pnpm are JavaScript: on PATH after the image's Node, they run on it and build for its ABI.
if [ -n "$nodedir" ]; then export PATH="$nodedir/bin:$PATH" npm_config_nodedir="$nodedir"; fi

# pnpm from the npm registry, pinned, in a prefix of its own (never global)
pnpm="$(pnpm_bin)"
if [ ! -x "$pnpm" ]; then
  npm install --prefix "$(dirname "$(dirname "$(dirname "$pnpm")")")" --no-audit --no-fund --loglevel=error "pnpm@$N8N_PNPM_VERSION" >/dev/null
fi
echo "n8n image layout $spec: pnpm $("$pnpm" --version), node $(node --version)"

rm -rf "$root" "$build"
mkdir -p "$build/n8n" "$(dirname "$n8n")"
tarball="$(cd "$build" && npm pack --silent "n8n@$v")"
tar -xzf "$build/$tarball" -C "$build/n8n" --strip-components=1
# --prod skips devDependencies in the deploy, yet pnpm still resolves them, and the published manifest names
# unpublished workspace versions there (@n8n/backend-test-utils): drop them, as the monorepo never needs them.
node -e 'const f=process.argv[1], p=require(f); delete p.devDependencies; require("fs").writeFileSync(f, JSON.stringify(p, null, 2))' "$build/n8n/package.json"
# The workspace's settings: xlsx's default tarball comes from a CDN that is not reachable (as in install.sh);
# no dependency build scripts during the deploy (n8n allows only sqlite3's, and the image rebuilds that one below).
cat > "$build/package.json" <<JSON
{ "name": "n8n-image-build", "private": true, "pnpm": { "overrides": { "xlsx": "0.18.5" } } }
JSON
cat > "$build/pnpm-workspace.yaml" <<YAML
packages:
  - n8n
onlyBuiltDependencies: []
YAML
log="$root/pnpm-deploy.log" # pnpm lists every unmet peer of n8n's tree: kept in a file, shown on failure
if ! (
  cd "$build"
  NODE_ENV=production DOCKER_BUILD=true "$pnpm" --filter=n8n --prod --legacy deploy --no-optional \
    --store-dir "$N8N_CACHE/pnpm-store" --config.ignore-scripts=true --reporter=append-only "$n8n"
) >"$log" 2>&1; then
  tail -n 40 "$log" >&2
  exit 1
fi
deployed=$(date +%s)
# As the image's Dockerfile does after copying the deployed tree in (sqlite3 compiles: its prebuilt download is
# not reachable here).
# JOBS: node-gyp compiles sqlite3.c and the binding side by side.
# npm_config_sqlite (install.sh): linked to Debian's SQLite, not the bundled one the image compiles (minutes of CPU).
(cd "$n8n" && JOBS=max npm rebuild sqlite3 --loglevel=error >/dev/null)
rm -rf "$build"
touch "$root/.installed"
now=$(date +%s)
echo "n8n image layout $spec: installed in $(( now - started )) s (Node, pnpm and the deploy $(( deployed - started )) s," \
  "sqlite3 rebuild $(( now - deployed )) s), $(du -sh "$n8n" | cut -f1) in $n8n"
