#!/bin/sh
# Builds the addon for one Linux target inside a container of that target's own libc and CPU (the workflow
# starts node:22-bullseye for glibc, node:22-alpine for musl, on x64 or arm64 runners): native compilers, so
# OpenSSL's and librdkafka's C builds need no cross toolchain.
#   sh .github/scripts/build-linux.sh <rust target triple>
# POSIX sh: Alpine has no bash until this script installs it.
set -eu
target=$1

if command -v apk >/dev/null 2>&1; then
  # musl: C toolchain, perl (OpenSSL's Configure), bash + make (librdkafka's mklove configure), linux headers
  apk add --no-cache bash build-base perl linux-headers curl git python3 >/dev/null
  # `napi build` sets CARGO_TARGET_AARCH64_UNKNOWN_LINUX_MUSL_LINKER=aarch64-linux-musl-gcc (a cross compiler's
  # name) unless it is set already; here the build is native and Alpine's compiler is plain `gcc`. Both musl
  # targets get it explicitly, so neither depends on what the CLI guesses.
  export CARGO_TARGET_AARCH64_UNKNOWN_LINUX_MUSL_LINKER=gcc CARGO_TARGET_X86_64_UNKNOWN_LINUX_MUSL_LINKER=gcc
elif ! { command -v perl && command -v make && command -v gcc; } >/dev/null 2>&1; then
  # glibc: node:*-bullseye is buildpack-deps (gcc, make, perl, curl, git); install them if one is missing
  apt-get update -qq && apt-get install -y -qq --no-install-recommends build-essential perl curl ca-certificates >/dev/null
fi

if ! command -v cargo >/dev/null 2>&1; then
  curl --proto '=https' --tlsv1.2 -sSf https://sh.rustup.rs | sh -s -- -y --profile minimal --default-toolchain stable
fi
# shellcheck disable=SC1091
. "${CARGO_HOME:-$HOME/.cargo}/env"
rustup target add "$target"
rustc -vV
ldd --version 2>&1 | head -n 1 || true
env | grep '^CARGO_TARGET_.*_LINKER=' || true

npm ci --no-audit --no-fund
npx napi build --platform --release --target "$target"

ls -l ./*.node
echo "dynamic dependencies of the built addon:"
ldd ./*.node || true
