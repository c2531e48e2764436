// Runs a real headless n8n from .cache/n8n/<version>: environment, package staging, start/stop/kill, CLI commands, owner + API key.
import { execFileSync, spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { cpSync, existsSync, mkdtempSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { basename, dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const REPO = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
export const PACKAGE_NAME = 'n8n-kafka-execution-logger';
const ENV_SH = join(REPO, 'scripts', 'n8n', 'env.sh');

/** Values from scripts/n8n/env.sh (the one place versions and paths are set). */
function fromEnvSh(expr) {
  return execFileSync('bash', ['-c', `. "${ENV_SH}"; ${expr}`], { encoding: 'utf8' }).trim();
}

export const PINNED = () => fromEnvSh('echo "$N8N_PINNED_VERSION"');
export const LATEST = () => fromEnvSh('echo "$N8N_LATEST_VERSION"');
export const FORK_BASE = () => fromEnvSh('echo "$N8N_FORK_BASE_VERSION"');
export const LATEST_1X = () => fromEnvSh('echo "$N8N_1X_LATEST_VERSION"');

export const IMAGE_VARIANT = () => fromEnvSh('echo "$N8N_IMAGE_VARIANT"');

/** The n8n version of a variant spec (`VERSION[@NODE][-OVERLAY...]` or `VERSION@NODE-image`, scripts/n8n/env.sh). */
export const n8nVersionOf = (spec) => String(spec).split('-')[0].split('@')[0];

/** `VERSION@NODE-image`: that variant in the official image's layout (scripts/n8n/install-image-layout.sh). */
const isImage = (spec) => String(spec).endsWith('-image');

/** The folder standing for the `/` of an image-layout spec's image. */
export const imageRoot = (spec) => fromEnvSh(`image_root ${spec}`);

export function paths(version, { installed = true } = {}) {
  const image = isImage(version);
  const variant = image ? String(version).slice(0, -'-image'.length) : version;
  const [dir, nodeBin, n8nBin] = fromEnvSh(
    image ? `d=$(image_n8n_dir ${variant}); echo "$d"; node_bin_for ${variant}; echo "$d/bin/n8n"` : `n8n_dir ${version}; node_bin_for ${version}; n8n_bin ${version}`,
  ).split('\n');
  const install = image ? 'scripts/n8n/install-image-layout.sh' : 'scripts/n8n/install.sh';
  if (installed && !existsSync(n8nBin)) throw new Error(`n8n ${version} is not installed (${n8nBin}): run ${install} ${variant}`);
  return { dir, nodeBin, n8nBin };
}

export async function freePort() {
  return await new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address();
      srv.close(() => resolve(port));
    });
  });
}

const sleepSync = (ms) => Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);

const alive = (pid) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return e.code === 'EPERM';
  }
};

/**
 * Runs `fn` holding an exclusive lock between processes: `lockFile` is created with O_EXCL and holds the holder's
 * pid; a lock whose holder is dead is taken over. The e2e suites run side by side and share the n8n installs.
 */
export function withLock(lockFile, fn, timeoutMs = 300_000) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      writeFileSync(lockFile, String(process.pid), { flag: 'wx' });
      break;
    } catch (e) {
      if (e.code !== 'EEXIST') throw e;
    }
    let holder;
    try {
      holder = Number(readFileSync(lockFile, 'utf8'));
    } catch (e) {
      if (e.code === 'ENOENT') continue; // released between our two calls
      throw e;
    }
    // a holder that died (or has not yet written its pid: 0) is judged again next round
    if (holder > 0 && !alive(holder)) rmSync(lockFile, { force: true });
    else if (Date.now() > deadline) throw new Error(`${lockFile} held by pid ${holder} for more than ${timeoutMs} ms`);
    else sleepSync(100);
  }
  try {
    return fn();
  } finally {
    rmSync(lockFile, { force: true });
  }
}

/** The lock serialising changes to one n8n install: beside it, never inside (overlays hard-link the whole tree). */
export const stagingLock = (version) => `${paths(version).dir}.staging.lock`;

const STAMP = `.${PACKAGE_NAME}.staged`;

/** What a staged copy was made from: the packed tarball and the addon binaries completed into it. */
function stagingStamp(packShasum) {
  const nodes = readdirSync(REPO).filter((f) => f.endsWith('.node')).sort();
  return [packShasum, ...nodes.map((f) => `${f}:${createHash('sha1').update(readFileSync(join(REPO, f))).digest('hex')}`)].join('\n');
}

/**
 * Installs this package into n8n's node_modules the way `npm install n8n-kafka-execution-logger` would:
 * the files `npm pack` puts in the tarball, as a real folder (so peer dependencies resolve to n8n's copies).
 * Suites running side by side stage into the same install while others' n8n processes load the addon from it,
 * so the copy is built beside the target and renamed into place under a lock, and skipped when already current:
 * rewriting a .node file that a starting process is mapping kills that process with SIGBUS.
 */
export function stagePackage(version) {
  const { dir } = paths(version);
  const modules = join(dir, 'node_modules');
  const target = join(modules, PACKAGE_NAME);
  const stampFile = join(modules, STAMP);
  const tmp = mkdtempSync(join(tmpdir(), 'kl-pack-'));
  try {
    const out = execFileSync('npm', ['pack', '--ignore-scripts', '--json', '--pack-destination', tmp], { cwd: REPO, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
    const [{ filename, shasum }] = JSON.parse(out);
    const stamp = stagingStamp(shasum);
    withLock(stagingLock(version), () => {
      if (existsSync(target) && existsSync(stampFile) && readFileSync(stampFile, 'utf8') === stamp) return;
      const staging = mkdtempSync(join(modules, `.${PACKAGE_NAME}-staging-`));
      try {
        execFileSync('tar', ['-xzf', join(tmp, filename), '-C', staging, '--strip-components=1']);
        completeStagedPackage(staging);
        rmSync(stampFile, { force: true });
        rmSync(target, { recursive: true, force: true });
        renameSync(staging, target);
      } finally {
        rmSync(staging, { recursive: true, force: true });
      }
      writeFileSync(stampFile, stamp);
    });
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
  return target;
}

/** What the package needs inside n8n beyond the core: the addon, the compiled entry points, their exports. */
export function packageGaps(dir) {
  const pkg = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8'));
  const gaps = [];
  if (!readdirSync(dir).some((f) => f.endsWith('.node'))) gaps.push('the .node addon ("files")');
  for (const f of ['hooks.js', 'fork.js', 'mapping.js']) if (!existsSync(join(dir, 'dist', 'n8n', f))) gaps.push(`dist/n8n/${f} ("files")`);
  const target = (e) => (typeof e === 'string' ? e : e?.require ?? e?.default);
  if (target(pkg.exports?.['./hooks']) !== './dist/n8n/hooks.js') gaps.push('exports["./hooks"]');
  if (target(pkg.exports?.['./n8n']) !== './dist/n8n/fork.js') gaps.push('exports["./n8n"]');
  return gaps;
}

/**
 * Until package.json ships them, adds the addon, dist/n8n and the two exports to the staged copy (loudly):
 * the package-contents test is the one that fails on such gaps.
 */
function completeStagedPackage(target) {
  const gaps = packageGaps(target);
  if (gaps.length === 0) return;
  console.warn(`# staged package lacked ${gaps.join(', ')}: completed from the work tree`);
  for (const f of readdirSync(REPO).filter((f) => f.endsWith('.node'))) cpSync(join(REPO, f), join(target, f));
  cpSync(join(REPO, 'dist', 'n8n'), join(target, 'dist', 'n8n'), { recursive: true });
  const pkgFile = join(target, 'package.json');
  const pkg = JSON.parse(readFileSync(pkgFile, 'utf8'));
  pkg.exports = { '.': './index.js', './hooks': './dist/n8n/hooks.js', './n8n': './dist/n8n/fork.js', './package.json': './package.json', ...(pkg.exports ?? {}) };
  writeFileSync(pkgFile, JSON.stringify(pkg, null, 2));
}

/** The headless environment that works for n8n 2.x (see the n8n integration doc). */
export function n8nEnv({ userFolder, port, runnerPort, extra = {} }) {
  const env = { ...process.env };
  for (const k of Object.keys(env)) if (k.startsWith('N8N_') || k === 'EXTERNAL_HOOK_FILES' || k === 'EXECUTIONS_MODE') delete env[k];
  return {
    ...env,
    N8N_USER_FOLDER: userFolder,
    DB_TYPE: 'sqlite',
    N8N_PORT: String(port),
    N8N_LISTEN_ADDRESS: '127.0.0.1',
    N8N_HOST: '127.0.0.1',
    WEBHOOK_URL: `http://127.0.0.1:${port}/`,
    N8N_DIAGNOSTICS_ENABLED: 'false',
    N8N_PERSONALIZATION_ENABLED: 'false',
    N8N_VERSION_NOTIFICATIONS_ENABLED: 'false',
    N8N_TEMPLATES_ENABLED: 'false',
    N8N_METRICS: 'true',
    N8N_SECURE_COOKIE: 'false',
    N8N_ENCRYPTION_KEY: 'kafka-logger-e2e-not-a-secret',
    N8N_ENFORCE_SETTINGS_FILE_PERMISSIONS: 'false',
    N8N_RUNNERS_BROKER_PORT: String(runnerPort),
    N8N_LOG_LEVEL: 'info',
    N8N_LOG_OUTPUT: 'console',
    N8N_GRACEFUL_SHUTDOWN_TIMEOUT: '20',
    ...extra,
  };
}

/** Runs an n8n CLI command to its end. */
export function runCli(version, args, env, timeoutMs = 180_000) {
  const { nodeBin, n8nBin, dir } = paths(version);
  const started = Date.now();
  return new Promise((resolve, reject) => {
    const child = spawn(nodeBin, [n8nBin, ...args], { cwd: dir, env, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (d) => (out += d));
    child.stderr.on('data', (d) => (out += d));
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`n8n ${args.join(' ')} timed out after ${timeoutMs} ms:\n${out.slice(-4000)}`));
    }, timeoutMs);
    child.on('exit', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, output: out, ms: Date.now() - started });
    });
  });
}

/** A long-running n8n process (start, worker, webhook) with its log kept in memory. */
export class N8nProcess {
  constructor(version, args, env) {
    const { nodeBin, n8nBin, dir } = paths(version);
    this.version = version;
    this.port = Number(env.N8N_PORT);
    this.url = `http://127.0.0.1:${this.port}`;
    this.log = '';
    this.startedAt = Date.now();
    this.child = spawn(nodeBin, [n8nBin, ...args], { cwd: dir, env, stdio: ['ignore', 'pipe', 'pipe'], detached: true });
    this.child.stdout.on('data', (d) => (this.log += d));
    this.child.stderr.on('data', (d) => (this.log += d));
    this.exited = new Promise((resolve) => this.child.on('exit', (code, signal) => resolve({ code, signal })));
    this.exitInfo = undefined;
    this.exited.then((info) => (this.exitInfo = info));
  }

  /** Waits until `probe()` resolves true (or the process exits / the time is up). */
  async waitFor(probe, what, timeoutMs = 120_000) {
    const until = Date.now() + timeoutMs;
    while (Date.now() < until) {
      if (this.exitInfo) throw new Error(`n8n exited (${JSON.stringify(this.exitInfo)}) while waiting for ${what}:\n${this.log.slice(-6000)}`);
      try {
        if (await probe()) return Date.now() - this.startedAt;
      } catch {
        /* not yet */
      }
      await new Promise((r) => setTimeout(r, 250));
    }
    throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}:\n${this.log.slice(-6000)}`);
  }

  /**
   * n8n is up: it printed "Editor is now accessible" (after routes and workflow activation) and the REST API
   * answers. /healthz and an early /rest answer come before all controllers are mounted.
   */
  async ready(timeoutMs) {
    return await this.waitFor(
      async () => /Editor is now accessible/.test(this.log) && [200, 401].includes((await fetch(`${this.url}/rest/login`)).status),
      'n8n ready',
      timeoutMs,
    );
  }

  async waitForLog(re, timeoutMs = 60_000) {
    return await this.waitFor(async () => re.test(this.log), `log ${re}`, timeoutMs);
  }

  async stop(signal = 'SIGTERM', timeoutMs = 40_000) {
    if (this.exitInfo) return this.exitInfo;
    this.child.kill(signal);
    const t = setTimeout(() => this.kill9(), timeoutMs);
    const info = await this.exited;
    clearTimeout(t);
    return info;
  }

  /** SIGKILL the whole process group (n8n and its task runner). */
  async kill9() {
    try {
      process.kill(-this.child.pid, 'SIGKILL');
    } catch {
      /* already gone */
    }
    return await this.exited;
  }
}

export function startN8n(version, env, args = ['start']) {
  return new N8nProcess(version, args, env);
}

/** Owner setup on a fresh instance, then login: returns the session cookie header. */
export async function setupOwner(url) {
  const owner = { email: 'owner@example.com', firstName: 'Kafka', lastName: 'Logger', password: 'Kafka-logger-e2e-1' };
  let setup;
  // n8n answers /rest/login a moment before every controller is mounted: retry a 404 for a while
  for (let i = 0; i < 120; i++) {
    setup = await fetch(`${url}/rest/owner/setup`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(owner) });
    if (setup.status !== 404) break;
    await new Promise((r) => setTimeout(r, 250));
  }
  if (setup.status !== 200) throw new Error(`owner setup: ${setup.status} ${await setup.text()}`);
  const login = await fetch(`${url}/rest/login`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ emailOrLdapLoginId: owner.email, email: owner.email, password: owner.password }),
  });
  if (login.status !== 200) throw new Error(`login: ${login.status} ${await login.text()}`);
  return sessionCookie(login);
}

const sessionCookie = (res) => (res.headers.getSetCookie?.() ?? [res.headers.get('set-cookie')]).map((c) => c.split(';')[0]).join('; ');

/**
 * A member (non-admin) session: the owner invites a member and the invite is accepted the way the version takes it
 * (1.x: POST /rest/invitations/:id/accept with the inviter's id; 2.x: POST /rest/invitations/accept with the link's
 * token). Returns the member's session cookie header.
 */
export async function memberSession(url, ownerCookie, email = `member-${Date.now()}@example.com`) {
  const invite = await fetch(`${url}/rest/invitations`, {
    method: 'POST',
    headers: { cookie: ownerCookie, 'content-type': 'application/json' },
    body: JSON.stringify([{ email, role: 'global:member' }]),
  });
  const text = await invite.text();
  if (invite.status !== 200) throw new Error(`invite a member: ${invite.status} ${text.slice(0, 300)}`);
  const user = JSON.parse(text).data?.[0]?.user;
  if (!user?.inviteAcceptUrl) throw new Error(`invite a member: no accept link in ${text.slice(0, 300)}`);
  const link = new URL(user.inviteAcceptUrl);
  const profile = { firstName: 'Member', lastName: 'User', password: 'Member-e2e-pass-1' };
  const token = link.searchParams.get('token');
  const accept = token
    ? await fetch(`${url}/rest/invitations/accept`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ token, ...profile }) })
    : await fetch(`${url}/rest/invitations/${link.searchParams.get('inviteeId') ?? user.id}/accept`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ inviterId: link.searchParams.get('inviterId'), ...profile }),
      });
  if (accept.status !== 200) throw new Error(`accept the invite: ${accept.status} ${(await accept.text()).slice(0, 300)}`);
  return sessionCookie(accept);
}

/** Logs a session out (n8n invalidates its token): the cookie stays well-formed but must no longer open anything. */
export async function logout(url, cookie) {
  const res = await fetch(`${url}/rest/logout`, { method: 'POST', headers: { cookie } });
  if (res.status !== 200) throw new Error(`logout: ${res.status} ${(await res.text()).slice(0, 300)}`);
}

export async function createApiKey(url, cookie) {
  const scopesRes = await fetch(`${url}/rest/api-keys/scopes`, { headers: { cookie } });
  const scopesText = await scopesRes.text();
  if (scopesRes.status !== 200) throw new Error(`api key scopes: ${scopesRes.status} ${scopesText.slice(0, 300)}`);
  const scopes = JSON.parse(scopesText).data;
  const res = await fetch(`${url}/rest/api-keys`, {
    method: 'POST',
    headers: { cookie, 'content-type': 'application/json' },
    body: JSON.stringify({ label: `e2e-${Date.now()}`, scopes, expiresAt: null }),
  });
  if (res.status !== 200) throw new Error(`api key: ${res.status} ${await res.text()}`);
  return (await res.json()).data.rawApiKey;
}

export async function publicApi(url, apiKey, method, path, body) {
  const res = await fetch(`${url}/api/v1${path}`, {
    method,
    headers: { 'X-N8N-API-KEY': apiKey, 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  let json;
  try {
    json = JSON.parse(text);
  } catch {
    json = undefined;
  }
  return { status: res.status, json, text };
}

/** Imports every workflow JSON of a folder (but the file names in `skip`) with one CLI run. */
export async function importWorkflows(version, env, folder, skip = []) {
  const tmp = mkdtempSync(join(tmpdir(), 'kl-wf-'));
  cpSync(folder, tmp, { recursive: true, filter: (src) => !skip.includes(basename(src)) });
  const r = await runCli(version, ['import:workflow', '--separate', `--input=${tmp}`], env);
  rmSync(tmp, { recursive: true, force: true });
  if (r.code !== 0) throw new Error(`import:workflow failed (${r.code}):\n${r.output.slice(-4000)}`);
  return r;
}

export function readJson(file) {
  return JSON.parse(readFileSync(file, 'utf8'));
}
