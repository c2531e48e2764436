// The official n8n image's layout reproduced: n8n pnpm-deployed on Node 26, the release tarballs in a prefix of their own via docker/install-logger.sh, EXTERNAL_HOOK_FILES as docker/Dockerfile sets it, then the core scenarios.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, lstatSync, readdirSync, readFileSync, realpathSync, rmSync } from 'node:fs';
import { dirname, isAbsolute, join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import * as I from '../../scripts/n8n/n8n-instance.mjs';
import { packRelease, PLATFORM_PACKAGE } from './helpers/packed.mjs';
import { regularScenarios } from './scenarios.mjs';

const { PACKAGE_NAME, REPO } = I;
const DOCKERFILE = readFileSync(join(REPO, 'docker', 'Dockerfile'), 'utf8');
/** The default of a Dockerfile ARG. */
const dockerArg = (name) => DOCKERFILE.match(new RegExp(`^ARG ${name}=(\\S+)`, 'm'))?.[1];
/** A Dockerfile ENV value, with the ${ARG}s it uses replaced by their defaults. */
const dockerEnv = (name) => DOCKERFILE.match(new RegExp(`^(?:ENV )?\\s*${name}=(\\S+)`, 'm'))?.[1]?.replace(/\$\{(\w+)\}/g, (_, a) => dockerArg(a));

const SPEC = `${I.IMAGE_VARIANT()}-image`;
// Everything the image has at an absolute path lives under this folder here (its "/").
const ROOT = I.imageRoot(SPEC);
const PREFIX = join(ROOT, dockerArg('LOGGER_PREFIX') ?? 'ARG LOGGER_PREFIX missing from docker/Dockerfile');
const HOOK_FILE = join(ROOT, dockerEnv('EXTERNAL_HOOK_FILES') ?? 'ENV EXTERNAL_HOOK_FILES missing from docker/Dockerfile');

let release;

after(() => {
  if (release) rmSync(release.out, { recursive: true, force: true });
});

// Runs first (suites run in order): its before() makes the install the scenarios below use; a missing layout fails
// its tests and, through prepareN8n, the scenarios' setup.
describe(`image layout: n8n ${I.n8nVersionOf(SPEC)} pnpm-deployed, the logger in ${dockerArg('LOGGER_PREFIX')}`, () => {
  let n8nDir;
  let nodeBin;

  // The install as docker/Dockerfile makes it, into the reproduced image root.
  before(() => {
    if (!existsSync(join(ROOT, '.installed'))) throw new Error(`the image layout ${SPEC} is not installed (${ROOT}): run scripts/n8n/install-image-layout.sh`);
    ({ dir: n8nDir, nodeBin } = I.paths(SPEC));
    release = packRelease();
    rmSync(PREFIX, { recursive: true, force: true });
    const started = Date.now();
    // The Dockerfile's own install script, run by the image's Node (and npm on it), offline: the package is not on
    // the registry, and npm must pick the platform package from the tarballs given, as it picks musl's in the image.
    execFileSync('sh', [join(REPO, 'docker', 'install-logger.sh'), PREFIX, release.mainTarball, release.platformTarball], {
      env: { ...process.env, PATH: `${dirname(nodeBin)}:${process.env.PATH}`, npm_config_offline: 'true' },
      stdio: ['ignore', 'inherit', 'inherit'],
    });
    console.log(`# image-layout: logger installed into its prefix in ${Date.now() - started} ms`);
  });

  it('docker/Dockerfile builds on the n8n this test runs', () => {
    assert.equal(dockerArg('N8N_VERSION'), I.n8nVersionOf(SPEC));
  });

  it("n8n's folder is a pnpm tree (node_modules/.pnpm, dependencies linked into it)", () => {
    assert.ok(existsSync(join(n8nDir, 'node_modules', '.pnpm')), 'node_modules/.pnpm');
    assert.equal(JSON.parse(readFileSync(join(n8nDir, 'package.json'), 'utf8')).name, 'n8n');
    for (const dep of ['@n8n/di', '@n8n/decorators', 'prom-client']) {
      const link = join(n8nDir, 'node_modules', dep);
      assert.ok(lstatSync(link).isSymbolicLink(), `${dep} is a link`);
      assert.match(realpathSync(link), /\/node_modules\/\.pnpm\//, `${dep} resolves into .pnpm`);
    }
  });

  it("nothing of the logger inside n8n's tree: it lives in its own prefix only", () => {
    assert.ok(!existsSync(join(n8nDir, 'node_modules', PACKAGE_NAME)), `no ${PACKAGE_NAME} in n8n's node_modules`);
    assert.deepEqual(readdirSync(join(n8nDir, 'node_modules', '.pnpm')).filter((d) => d.startsWith(PACKAGE_NAME)), []);
    const installed = readdirSync(join(PREFIX, 'node_modules')).filter((n) => !n.startsWith('.'));
    assert.deepEqual(installed.sort(), [PACKAGE_NAME, PLATFORM_PACKAGE].sort());
  });

  it('EXTERNAL_HOOK_FILES is an absolute path to the installed hooks.js', () => {
    assert.ok(isAbsolute(dockerEnv('EXTERNAL_HOOK_FILES')), dockerEnv('EXTERNAL_HOOK_FILES'));
    assert.equal(HOOK_FILE, join(PREFIX, 'node_modules', PACKAGE_NAME, 'dist', 'n8n', 'hooks.js'));
    assert.ok(existsSync(HOOK_FILE), HOOK_FILE);
  });

  it("runs on the image's Node major (26)", () => {
    assert.match(execFileSync(nodeBin, ['--version'], { encoding: 'utf8' }), /^v26\./);
  });
});

regularScenarios({ version: SPEC, mode: 'stock', label: 'image-layout', hookFile: HOOK_FILE });
