// Starts a real n8n (stock hook file or fork module) wired to the real broker, with the fixture workflows imported and published.
import { existsSync, mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as I from '../../../scripts/n8n/n8n-instance.mjs';
import { removeKeeping } from '../../../scripts/keep-for-scan.mjs';
import { prepareOverlay } from '../../../scripts/n8n/overlay.mjs';
import { SECRETS } from '../../helpers/secrets.mjs';
import { kafkaUp, TopicReader, uniqueTopic } from './kafka.mjs';

export const FIXTURES = join(I.REPO, '__test__', 'fixtures', 'workflows');
export const PUBLISHED = ['klWebhookOk00001', 'klWebhookFail001', 'klWaitResume0001', 'klSlow0000000001', 'klSubChild000001', 'klHostile0000001'];

/**
 * The hostile workflow's name holds U+0000 on purpose, which PostgreSQL's text columns refuse ("invalid byte
 * sequence for encoding UTF8: 0x00"): n8n on PostgreSQL cannot store it, so it is imported on SQLite only.
 */
const onPostgres = (env) => env.DB_TYPE === 'postgresdb';
const HOSTILE = { file: 'hostile.json', id: 'klHostile0000001' };

/** The real addon must be there: e2e tests fail (never skip) without it. */
export function requireAddon() {
  const nodes = readdirSync(I.REPO).filter((f) => f.endsWith('.node'));
  if (nodes.length === 0) throw new Error('the native addon (*.node at the repo root) is not built: run the build first');
  return nodes;
}

/**
 * A prepared n8n: user folder with the fixtures imported and published, package staged.
 * mode 'stock' loads the hook file, 'fork' the backend module, 'none' neither; `overlays` change the install
 * further (scripts/n8n/overlay.mjs). `hookFile`: the absolute path of a hooks.js installed elsewhere (the image
 * layout's own prefix); nothing is then staged into n8n's folder.
 */
export async function prepareN8n({ version = I.PINNED(), mode = 'stock', overlays = [], topic, brokers, env: extra = {}, hookFile } = {}) {
  requireAddon();
  const runVersion = hookFile ? version : prepareOverlay([version, ...(mode === 'fork' ? ['fork'] : []), ...overlays].join('-'));
  if (!hookFile) I.stagePackage(runVersion);
  else if (!existsSync(hookFile)) throw new Error(`hook file ${hookFile} is not installed`);
  const userFolder = mkdtempSync(join(tmpdir(), 'kl-n8n-'));
  const port = await I.freePort();
  const runnerPort = await I.freePort();
  const logger =
    mode === 'none'
      ? {}
      : {
          ...(mode === 'stock' ? { EXTERNAL_HOOK_FILES: hookFile ?? 'n8n-kafka-execution-logger/hooks' } : { N8N_ENABLED_MODULES: 'kafka-logger' }),
          ...(topic ? { N8N_KAFKA_LOGGER_ENABLED: 'true', N8N_KAFKA_LOGGER_BROKERS: brokers, N8N_KAFKA_LOGGER_TOPIC: topic } : {}),
          N8N_KAFKA_LOGGER_QUEUE_FLUSH_INTERVAL: '200',
          N8N_KAFKA_LOGGER_HEALTH_TOKEN: SECRETS.HEALTH_TOKEN,
        };
  const env = I.n8nEnv({ userFolder, port, runnerPort, extra: { ...logger, ...extra } });
  const ctx = {
    version: runVersion,
    env,
    userFolder,
    url: `http://127.0.0.1:${port}`,
    procs: [],
    async cli(args, more = {}) {
      const cliEnv = { ...env, N8N_RUNNERS_BROKER_PORT: String(await I.freePort()), ...more };
      return await I.runCli(runVersion, args, cliEnv);
    },
    start(args = ['start'], more = {}) {
      const p = I.startN8n(runVersion, { ...env, ...more }, args);
      ctx.procs.push(p);
      return p;
    },
    async cleanup() {
      await Promise.all(ctx.procs.map((p) => p.kill9()));
      removeKeeping(userFolder, [join('.n8n', 'kafka-logger-spool')]);
    },
  };
  await I.importWorkflows(runVersion, env, FIXTURES, onPostgres(env) ? [HOSTILE.file] : []);
  return ctx;
}

/**
 * Starts `n8n start`; on the first start also sets up the owner, an API key and publishes the fixtures.
 * Waits for the REST API and for the webhooks to be registered.
 */
export async function startMain(ctx, more = {}) {
  const p = ctx.start(['start'], more);
  const readyMs = await p.ready();
  // n8n 1.x runs sub-workflows unpublished and refuses to activate one that has no trigger of its own
  const published = PUBLISHED.filter(
    (id) => !(I.n8nVersionOf(ctx.version).startsWith('1.') && id === 'klSubChild000001') && !(onPostgres(ctx.env) && id === HOSTILE.id),
  );
  if (!ctx.cookie) {
    ctx.cookie = await I.setupOwner(p.url);
    ctx.apiKey = await I.createApiKey(p.url, ctx.cookie);
    for (const id of published) {
      const r = await I.publicApi(p.url, ctx.apiKey, 'POST', `/workflows/${id}/activate`);
      if (r.status !== 200) throw new Error(`activate ${id}: ${r.status} ${r.text}`);
    }
  }
  // n8n 2.41 answers the activation before it registers the webhook: wait for every published one
  for (const path of webhookPaths(published)) await waitForWebhook(p.url, path);
  return { p, readyMs };
}

/** The production webhook paths of the fixture workflows `ids` (POST only: waitForWebhook's GET would run a GET one). */
function webhookPaths(ids) {
  const workflows = readdirSync(FIXTURES).map((f) => JSON.parse(readFileSync(join(FIXTURES, f), 'utf8')));
  const hooks = workflows.filter((w) => ids.includes(w.id)).flatMap((w) => w.nodes.filter((n) => n.type === 'n8n-nodes-base.webhook'));
  for (const h of hooks) if (h.parameters.httpMethod !== 'POST') throw new Error(`published webhook ${h.parameters.path} must be POST`);
  return hooks.map((h) => h.parameters.path);
}

/** A scenario suite's n8n: a fresh topic on the test broker, n8n prepared for it (prepareN8n options) and started. */
export async function startSuiteN8n({ label, ...options }) {
  const brokers = await kafkaUp();
  const topic = new TopicReader(uniqueTopic(label), brokers);
  const ctx = await prepareN8n({ ...options, topic: topic.topic, brokers });
  try {
    return { topic, ctx, main: await startMain(ctx) };
  } catch (e) {
    await ctx.cleanup();
    throw e;
  }
}

/** A POST-only webhook answers GET with "not registered for GET" once it is registered. */
export async function waitForWebhook(url, path, timeoutMs = 60_000) {
  const until = Date.now() + timeoutMs;
  while (Date.now() < until) {
    const res = await fetch(`${url}/webhook/${path}`).catch(() => undefined);
    const text = res ? await res.text() : '';
    if (res && (res.status !== 404 || /not registered for GET/i.test(text))) return;
    await new Promise((r) => setTimeout(r, 250));
  }
  throw new Error(`webhook ${path} not registered after ${timeoutMs} ms`);
}

export async function post(url, path, body = {}) {
  const started = Date.now();
  const res = await fetch(`${url}${path}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
  const text = await res.text();
  return { status: res.status, text, ms: Date.now() - started };
}

/**
 * The result of `n8n execute`: exit 0 on success, 1 on failure. n8n 2.41 on Node 24 also dies with SIGSEGV at
 * exit in about 4 of 10 runs, with or without this package (scripts/n8n: seen on plain n8n): such a run counts by
 * what n8n printed about the execution before exiting.
 */
export function cliOutcome(r) {
  if (r.code === 0) return 'success';
  if (r.code === 1) return 'failure';
  if (r.signal === 'SIGSEGV' && /Execution was successful/.test(r.output)) return 'success';
  if (r.signal === 'SIGSEGV' && /Execution was NOT successful/.test(r.output)) return 'failure';
  return `exit ${r.code} ${r.signal ?? ''}: ${r.output.slice(-2000)}`;
}

/** Retries a failed execution: n8n 1.x has no public retry endpoint, so there the editor's REST call with the owner's session. */
export async function retryExecution(ctx, url, id) {
  if (I.n8nVersionOf(ctx.version).startsWith('1.')) {
    return await fetch(`${url}/rest/executions/${id}/retry`, { method: 'POST', headers: { cookie: ctx.cookie, 'content-type': 'application/json' }, body: '{"loadWorkflow":false}', signal: AbortSignal.timeout(120_000) });
  }
  return await fetch(`${url}/api/v1/executions/${id}/retry`, { method: 'POST', headers: { 'X-N8N-API-KEY': ctx.apiKey }, signal: AbortSignal.timeout(120_000) });
}
