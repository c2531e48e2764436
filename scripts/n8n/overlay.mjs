// Makes overlay variants of an installed n8n (`VERSION[@NODE]-fork-...`, scripts/n8n/env.sh): the install hard-linked, plus the overlays' changes.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { paths, stagingLock, withLock } from './n8n-instance.mjs';

export const MODULE_NAME = 'kafka-logger';

/** Replaces a hard-linked file by a new one (the stock install keeps its original). */
function rewrite(file, text) {
  rmSync(file, { force: true });
  writeFileSync(file, text);
}

/** Rewrites `file` (relative to node_modules) with `edit(text)`; the edit must change it. */
function patch(dir, file, edit) {
  const path = join(dir, 'node_modules', file);
  const src = readFileSync(path, 'utf8');
  const out = edit(src);
  if (out === src) throw new Error(`overlay: nothing to change in ${path}`);
  rewrite(path, out);
}

const OVERLAYS = {
  /** Exactly what docs/fork.md has a fork add: the module name in MODULE_NAMES and a module file re-exporting the package's entry. */
  fork(dir) {
    // packages/@n8n/backend-common/src/modules/modules.config.ts
    patch(dir, '@n8n/backend-common/dist/modules/modules.config.js', (s) => s.replace(/exports\.MODULE_NAMES = \[/, `exports.MODULE_NAMES = [\n    '${MODULE_NAME}',`));
    // packages/cli/src/modules/kafka-logger/kafka-logger.module.ts: `export * from 'n8n-kafka-execution-logger/n8n';`
    const moduleFile = join(dir, 'node_modules', 'n8n', 'dist', 'modules', MODULE_NAME, `${MODULE_NAME}.module.js`);
    mkdirSync(dirname(moduleFile), { recursive: true });
    rewrite(moduleFile, `"use strict";\n// what a fork's kafka-logger.module.ts compiles to\nmodule.exports = require('n8n-kafka-execution-logger/n8n');\n`);
  },
  /** n8n's lifecycle registry forgets every handler (as an n8n without it would): the adapters' primary mechanism is gone. */
  nolifecycle(dir) {
    patch(dir, '@n8n/decorators/dist/execution-lifecycle/lifecycle-metadata.js', (s) => s.replace(/getHandlers\(\) \{\s*return this\.handlers;/, 'getHandlers() {\n        return [];'));
  },
  /** n8n-core's ExecutionLifecycleHooks cannot be wrapped: the adapters' second mechanism is gone. */
  norunhook(dir) {
    patch(dir, 'n8n-core/dist/execution-engine/execution-lifecycle-hooks.js', (s) => s.replace(/exports\.ExecutionLifecycleHooks = ExecutionLifecycleHooks;/, '$&\nObject.freeze(ExecutionLifecycleHooks.prototype);'));
  },
};

/** Builds the overlay variant `spec` (idempotent) from its plain install and returns `spec`. */
export function prepareOverlay(spec) {
  const [base, ...names] = String(spec).split('-');
  if (names.length === 0) return spec;
  for (const n of names) if (!OVERLAYS[n]) throw new Error(`unknown n8n overlay "${n}" in ${spec}`);
  const stock = paths(base).dir;
  const dir = paths(spec, { installed: false }).dir;
  const marker = join(dir, '.overlay-ready');
  // suites side by side may build the same overlay, and may stage into the stock install while it is hard-linked
  withLock(`${dir}.overlay.lock`, () => {
    if (existsSync(marker)) return;
    rmSync(dir, { recursive: true, force: true });
    withLock(stagingLock(base), () => execFileSync('cp', ['-al', stock, dir]));
    for (const n of names) OVERLAYS[n](dir);
    writeFileSync(marker, new Date().toISOString());
  });
  return spec;
}

/** The fork variant of `spec`. */
export const prepareFork = (spec) => prepareOverlay(`${spec}-fork`);
