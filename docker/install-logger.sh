#!/bin/sh
# Installs n8n-kafka-execution-logger into a prefix of its own, outside n8n's pnpm tree, and checks that it loads there.
# Usage: sh install-logger.sh PREFIX PACKAGE...   (PACKAGE: a registry spec or tarball paths, all in one npm install)
#
# Run by docker/Dockerfile, and by __test__/e2e/image-layout.test.mjs against the reproduced image layout, so the
# image and the test install the same way. POSIX sh: the hardened n8n images have no bash.
set -eu
[ $# -ge 2 ] || { echo "usage: install-logger.sh PREFIX PACKAGE..." >&2; exit 2; }
prefix=$1
shift
# Its own prefix: npm never touches n8n's pnpm-deployed node_modules (installing into that tree has failed with
# ERESOLVE before). --omit=dev: runtime only; --ignore-scripts: the package needs no install script (its binary comes
# prebuilt in the optional per-platform package npm picks for this OS, CPU and libc).
npm install --prefix "$prefix" --omit=dev --ignore-scripts --no-audit --no-fund --loglevel=error "$@"
hooks="$prefix/node_modules/n8n-kafka-execution-logger/dist/n8n/hooks.js"
# The build fails here, not at n8n's start, when the hook file or the native core cannot be loaded. (At build time
# the hook file says that Kafka is not configured: the N8N_KAFKA_LOGGER_* variables only apply when n8n runs.)
node -e '
  const [hooks, pkg] = process.argv.slice(1);
  const hookFile = require(hooks);
  if (typeof hookFile !== "object" || hookFile === null) throw new Error(hooks + " exports no hook file");
  const { KafkaExecutionLogger } = require(pkg);
  console.log("n8n-kafka-execution-logger: native core loaded (" + KafkaExecutionLogger.settings().length + " settings); EXTERNAL_HOOK_FILES=" + hooks);
' "$hooks" "$prefix/node_modules/n8n-kafka-execution-logger"
