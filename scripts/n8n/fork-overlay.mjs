// Makes `.cache/n8n/<version>-fork`: the installed n8n (hard-linked) plus exactly what docs/fork.md has a fork add.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { paths } from './n8n-instance.mjs';

export const MODULE_NAME = 'kafka-logger';

/** Replaces a hard-linked file by a new one (the stock install keeps its original). */
function rewrite(file, text) {
  rmSync(file, { force: true });
  writeFileSync(file, text);
}

export function prepareFork(version) {
  const stock = paths(version).dir;
  const forkVersion = `${version}-fork`;
  const dir = `${stock}-fork`;
  const marker = join(dir, '.fork-ready');
  if (existsSync(marker)) return forkVersion;
  rmSync(dir, { recursive: true, force: true });
  execFileSync('cp', ['-al', stock, dir]);

  // 1. the module name joins MODULE_NAMES (packages/@n8n/backend-common/src/modules/modules.config.ts)
  const config = join(dir, 'node_modules', '@n8n', 'backend-common', 'dist', 'modules', 'modules.config.js');
  const src = readFileSync(config, 'utf8');
  const patched = src.replace(/exports\.MODULE_NAMES = \[/, `exports.MODULE_NAMES = [\n    '${MODULE_NAME}',`);
  if (patched === src) throw new Error(`MODULE_NAMES not found in ${config}`);
  rewrite(config, patched);

  // 2. packages/cli/src/modules/kafka-logger/kafka-logger.module.ts: `export * from 'n8n-kafka-execution-logger/n8n';`
  const moduleDir = join(dir, 'node_modules', 'n8n', 'dist', 'modules', MODULE_NAME);
  mkdirSync(moduleDir, { recursive: true });
  rewrite(
    join(moduleDir, `${MODULE_NAME}.module.js`),
    `"use strict";\n// what a fork's kafka-logger.module.ts compiles to\nmodule.exports = require('n8n-kafka-execution-logger/n8n');\n`,
  );
  writeFileSync(marker, new Date().toISOString());
  return forkVersion;
}
