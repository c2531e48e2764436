// Real servers, each on a free loopback port and thrown away afterwards: Redis (queue mode's job queue), PostgreSQL
// (n8n's database: queue mode shares one database between main and workers, which SQLite cannot serve) and
// Prometheus (scrapes n8n's /metrics and evaluates docs/operations.md's suggested alert rules).
import { execFile, execFileSync, spawn } from 'node:child_process';
import { chownSync, existsSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { createConnection } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from '../../../scripts/n8n/n8n-instance.mjs';

const listening = (port) =>
  new Promise((r) => createConnection({ port, host: '127.0.0.1' }).on('connect', function () { this.end(); r(true); }).on('error', () => r(false)));

/** Waits until `probe()` is true (a server listening, or ready); fails with `name`, `what` and what the server printed. */
async function waitFor(probe, what, name, proc, output, timeoutMs = 30_000) {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (proc.exitCode !== null) throw new Error(`${name} exited with ${proc.exitCode}:\n${output()}`);
    if (await probe()) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`${name} not ${what} within ${timeoutMs} ms:\n${output()}`);
}

const waitListening = (port, name, proc, output) => waitFor(() => listening(port), `listening on ${port}`, name, proc, output);

function started(cmd, args, opts) {
  const proc = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'], ...opts });
  let out = '';
  proc.stdout.on('data', (d) => (out += d));
  proc.stderr.on('data', (d) => (out += d));
  proc.on('error', (e) => (out += `\n${cmd} could not start: ${e.message} (scripts/install-system-deps.sh installs it)`));
  return { proc, output: () => out.slice(-3000) };
}

/** A Redis without persistence; `env` points n8n's queue at it. */
export async function startRedis() {
  const port = await freePort();
  const { proc, output } = started('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no']);
  await waitListening(port, 'redis-server', proc, output);
  return { port, env: { QUEUE_BULL_REDIS_HOST: '127.0.0.1', QUEUE_BULL_REDIS_PORT: String(port) }, stop: () => proc.kill('SIGKILL') };
}

/** Debian keeps the server programs out of PATH, under /usr/lib/postgresql/<major>/bin. */
function postgresBin(name) {
  try {
    return execFileSync('bash', ['-c', `command -v ${name}`], { encoding: 'utf8' }).trim();
  } catch {
    const root = '/usr/lib/postgresql';
    const majors = existsSync(root) ? readdirSync(root).sort((a, b) => Number(b) - Number(a)) : [];
    for (const m of majors) if (existsSync(join(root, m, 'bin', name))) return join(root, m, 'bin', name);
    throw new Error(`PostgreSQL's ${name} is not installed (scripts/install-system-deps.sh installs it)`);
  }
}

/**
 * A PostgreSQL cluster in memory (/dev/shm), trust authentication on loopback, fsync off: a test database, not a
 * durable one. PostgreSQL refuses to run as root, so as root the cluster belongs to the `postgres` user.
 */
export async function startPostgres() {
  const dataDir = mkdtempSync(join(existsSync('/dev/shm') ? '/dev/shm' : '/tmp', 'kl-pg-'));
  const asUser = {};
  if (process.getuid?.() === 0) {
    const id = (flag) => Number(execFileSync('id', [flag, 'postgres'], { encoding: 'utf8' }));
    const [uid, gid] = [id('-u'), id('-g')];
    chownSync(dataDir, uid, gid);
    Object.assign(asUser, { uid, gid });
  }
  execFileSync(postgresBin('initdb'), ['-D', dataDir, '--auth=trust', '--no-sync', '-U', 'postgres', '-E', 'UTF8'], { ...asUser, stdio: 'pipe', cwd: '/' });
  const port = await freePort();
  const { proc, output } = started(
    postgresBin('postgres'),
    ['-D', dataDir, '-p', String(port), '-h', '127.0.0.1', '-k', dataDir, '-c', 'fsync=off', '-c', 'synchronous_commit=off', '-c', 'full_page_writes=off', '-c', 'max_connections=200'],
    { ...asUser, cwd: '/' },
  );
  // The postmaster listens before its startup process has finished, and refuses connections until then ("the
  // database system is starting up"): n8n must not meet that window.
  const pgIsReady = postgresBin('pg_isready');
  const isReady = () => new Promise((r) => execFile(pgIsReady, ['-q', '-h', '127.0.0.1', '-p', String(port)], (e) => r(!e)));
  await waitFor(isReady, 'accepting connections', 'postgres', proc, output);
  return {
    port,
    env: { DB_TYPE: 'postgresdb', DB_POSTGRESDB_HOST: '127.0.0.1', DB_POSTGRESDB_PORT: String(port), DB_POSTGRESDB_DATABASE: 'postgres', DB_POSTGRESDB_USER: 'postgres', DB_POSTGRESDB_PASSWORD: '' },
    async stop() {
      proc.kill('SIGQUIT'); // immediate shutdown: the data is thrown away
      await Promise.race([new Promise((r) => (proc.exitCode !== null ? r() : proc.once('exit', r))), new Promise((r) => setTimeout(r, 5_000))]);
      if (proc.exitCode === null) proc.kill('SIGKILL');
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

/**
 * A Prometheus that scrapes `target`'s /metrics and evaluates `rulesFile` every second. `alerts()` is its
 * /api/v1/alerts list (pending and firing), `query(expr)` an instant query's result vector.
 */
export async function startPrometheus({ target, rulesFile }) {
  const dir = mkdtempSync(join(tmpdir(), 'kl-prometheus-'));
  const config = {
    global: { scrape_interval: '1s', evaluation_interval: '1s' },
    rule_files: [rulesFile],
    scrape_configs: [{ job_name: 'n8n', metrics_path: '/metrics', static_configs: [{ targets: [target] }] }],
  };
  writeFileSync(join(dir, 'prometheus.yml'), JSON.stringify(config)); // JSON is YAML
  const port = await freePort();
  const { proc, output } = started('prometheus', [
    `--config.file=${join(dir, 'prometheus.yml')}`,
    `--storage.tsdb.path=${join(dir, 'data')}`,
    `--web.listen-address=127.0.0.1:${port}`,
  ]);
  const url = `http://127.0.0.1:${port}`;
  // Prometheus listens before its TSDB is open and answers the query API "503 Service Unavailable" until then
  // (seen in CI on a loaded host): /-/ready turns 200 once it serves queries.
  const isReady = async () => (await fetch(`${url}/-/ready`).catch(() => ({ status: 0 }))).status === 200;
  await waitFor(isReady, 'ready', 'prometheus', proc, output, 60_000);
  const api = async (path) => {
    const response = await fetch(`${url}${path}`);
    const text = await response.text();
    if (!response.ok) throw new Error(`prometheus ${path}: HTTP ${response.status} ${text}`);
    const body = JSON.parse(text);
    if (body.status !== 'success') throw new Error(`prometheus ${path}: ${text}`);
    return body.data;
  };
  return {
    url,
    query: async (expr) => (await api(`/api/v1/query?query=${encodeURIComponent(expr)}`)).result,
    alerts: async () => (await api('/api/v1/alerts')).alerts,
    /** Polls `read` until `done(value)`; fails after `timeoutMs` with the last value and what Prometheus printed. */
    async until(read, done, what, timeoutMs = 30_000) {
      const deadline = Date.now() + timeoutMs;
      let last;
      while (Date.now() < deadline) {
        last = await read();
        if (done(last)) return last;
        await new Promise((r) => setTimeout(r, 500));
      }
      throw new Error(`prometheus: ${what} not seen within ${timeoutMs} ms; last: ${JSON.stringify(last)}\n${output()}`);
    },
    async stop() {
      proc.kill('SIGKILL');
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
