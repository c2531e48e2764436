// Packs the package the way the release job publishes it (main tarball + linux-x64-gnu binary package) and installs it into a clean folder.
import { execFileSync } from 'node:child_process';
import { copyFileSync, cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { PACKAGE_NAME, REPO } from '../../../scripts/n8n/n8n-instance.mjs';

export const PLATFORM = 'linux-x64-gnu';
export const PLATFORM_PACKAGE = `${PACKAGE_NAME}-${PLATFORM}`;
const readJson = (file) => JSON.parse(readFileSync(file, 'utf8'));

/** `npm pack` of a folder into `dest`; returns the tarball's path. Scripts off: dist/n8n is built by the test runner. */
function pack(dir, dest) {
  const [{ filename }] = JSON.parse(execFileSync('npm', ['pack', '--ignore-scripts', '--json', '--pack-destination', dest], { cwd: dir, encoding: 'utf8' }));
  return join(dest, filename);
}

/**
 * The two tarballs of a release, built as .github/workflows/build.yml does: `napi artifacts` copies the binary
 * into npm/<platform>/, `napi pre-publish` sets the main package's optionalDependencies to every npm/<platform>
 * package at the same version, then both are packed.
 */
export function packRelease() {
  if (process.platform !== 'linux' || process.arch !== 'x64') throw new Error(`this test installs the ${PLATFORM} binary; it runs on linux x64, not ${process.platform} ${process.arch}`);
  const binary = readJson(join(REPO, 'npm', PLATFORM, 'package.json')).main;
  if (!existsSync(join(REPO, binary))) throw new Error(`${binary} is not built at the repo root: run the build first`);
  const out = mkdtempSync(join(tmpdir(), 'kl-release-'));

  const platformDir = join(out, 'stage', PLATFORM);
  cpSync(join(REPO, 'npm', PLATFORM), platformDir, { recursive: true });
  copyFileSync(join(REPO, binary), join(platformDir, binary));
  const platformTarball = pack(platformDir, out);

  // The main package as `npm pack` makes it, with the manifest pre-publish writes.
  const mainDir = join(out, 'stage', 'main');
  mkdirSync(mainDir, { recursive: true });
  execFileSync('tar', ['-xzf', pack(REPO, join(out, 'stage')), '-C', mainDir, '--strip-components=1']);
  const manifest = readJson(join(mainDir, 'package.json'));
  const optional = Object.fromEntries(readdirSync(join(REPO, 'npm')).map((p) => [`${PACKAGE_NAME}-${p}`, manifest.version]));
  writeFileSync(join(mainDir, 'package.json'), JSON.stringify({ ...manifest, optionalDependencies: { ...manifest.optionalDependencies, ...optional } }, null, 2));
  const mainTarball = pack(mainDir, out);
  return { out, mainTarball, platformTarball, binary };
}

/** The first folder above `dir` with a node_modules (Node and tsc would search it too), else undefined. */
export function inheritsNodeModules(dir) {
  for (let d = dirname(dir); ; d = dirname(d)) {
    if (existsSync(join(d, 'node_modules'))) return d;
    if (dirname(d) === d) return undefined;
  }
}

/**
 * A fresh n8n deployment folder (only a package.json) and ONE `npm install` of the given tarballs, offline:
 * npm must not need the registry for this package; the other platforms' optional packages are skipped.
 */
export function installClean(tarballs) {
  const dir = mkdtempSync(join(tmpdir(), 'kl-clean-n8n-'));
  writeFileSync(join(dir, 'package.json'), JSON.stringify({ name: 'n8n-deployment', private: true }, null, 2));
  execFileSync('npm', ['install', '--no-audit', '--no-fund', '--offline', ...tarballs], { cwd: dir, stdio: ['ignore', 'pipe', 'pipe'] });
  return dir;
}
