// The published package carries what n8n needs: the addon, both entry points, their exports, n8n's packages as peers.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { PACKAGE_NAME, REPO } from '../../scripts/n8n/n8n-instance.mjs';

const pkg = JSON.parse(readFileSync(join(REPO, 'package.json'), 'utf8'));

test('npm pack ships the addon and the compiled n8n entry points', () => {
  const [{ files }] = JSON.parse(execFileSync('npm', ['pack', '--dry-run', '--json', '--ignore-scripts'], { cwd: REPO, encoding: 'utf8' }));
  const paths = files.map((f) => f.path);
  assert.ok(paths.some((p) => p.endsWith('.node')) || Object.keys(pkg.optionalDependencies ?? {}).some((d) => d.startsWith(`${PACKAGE_NAME}-`)), 'the native addon (or its platform packages)');
  for (const f of ['dist/n8n/hooks.js', 'dist/n8n/hooks.d.ts', 'dist/n8n/fork.js', 'dist/n8n/fork.d.ts', 'dist/n8n/mapping.js']) assert.ok(paths.includes(f), f);
  assert.ok(!paths.some((p) => p.startsWith('n8n/') || p.startsWith('__test__/')), 'no sources or tests in the package');
});

/** The CommonJS target of an exports entry (a string or a conditions object). */
const target = (e) => (typeof e === 'string' ? e : e?.require ?? e?.default);

test('exports name the two entry points', () => {
  assert.equal(target(pkg.exports?.['./hooks']), './dist/n8n/hooks.js');
  assert.equal(target(pkg.exports?.['./n8n']), './dist/n8n/fork.js');
  assert.ok(target(pkg.exports?.['.']), 'the core stays importable');
});

test("n8n's DI packages and prom-client are peers, never bundled dependencies", () => {
  for (const peer of ['@n8n/di', '@n8n/decorators', 'prom-client']) {
    assert.ok(pkg.peerDependencies?.[peer], `${peer} in peerDependencies`);
    assert.equal(pkg.peerDependenciesMeta?.[peer]?.optional, true, `${peer} optional: the stock hook file uses n8n's copies`);
    assert.equal(pkg.dependencies?.[peer], undefined, `${peer} not a dependency`);
  }
});
