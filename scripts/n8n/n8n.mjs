#!/usr/bin/env node
// Command line for a local headless n8n with the logger (for the demo and by hand): up, execute, status, down.
import { spawn } from 'node:child_process';
import { closeSync, existsSync, mkdirSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import * as I from './n8n-instance.mjs';
import { prepareFork } from './overlay.mjs';

const RUN = join(I.REPO, '.cache', 'n8n-run');
const STATE = join(RUN, 'state.json');
const WEBHOOK_WORKFLOWS = ['klWebhookOk00001', 'klWebhookFail001', 'klWaitResume0001', 'klSlow0000000001', 'klSubChild000001'];

const { values: opt, positionals } = parseArgs({
  allowPositionals: true,
  options: {
    version: { type: 'string' },
    brokers: { type: 'string', default: '127.0.0.1:29092' },
    topic: { type: 'string', default: 'n8n-executions' },
    fork: { type: 'boolean', default: false },
    port: { type: 'string', default: '5678' },
    workflows: { type: 'string', default: join(I.REPO, '__test__', 'fixtures', 'workflows') },
  },
});

const state = () => (existsSync(STATE) ? JSON.parse(readFileSync(STATE, 'utf8')) : undefined);

async function up() {
  if (state()) throw new Error(`already up (${STATE}): run "down" first`);
  const version = opt.fork ? prepareFork(opt.version ?? I.PINNED()) : opt.version ?? I.PINNED();
  I.stagePackage(version);
  const userFolder = join(RUN, 'user');
  rmSync(userFolder, { recursive: true, force: true });
  mkdirSync(userFolder, { recursive: true });
  const env = I.n8nEnv({
    userFolder,
    port: Number(opt.port),
    runnerPort: await I.freePort(),
    extra: {
      ...(opt.fork ? { N8N_ENABLED_MODULES: 'kafka-logger' } : { EXTERNAL_HOOK_FILES: 'n8n-kafka-execution-logger/hooks' }),
      N8N_KAFKA_LOGGER_ENABLED: 'true',
      N8N_KAFKA_LOGGER_BROKERS: opt.brokers,
      N8N_KAFKA_LOGGER_TOPIC: opt.topic,
      N8N_KAFKA_LOGGER_HEALTH_TOKEN: process.env.N8N_KAFKA_LOGGER_HEALTH_TOKEN ?? 'local-demo-token',
    },
  });
  await I.importWorkflows(version, env, opt.workflows);
  const { nodeBin, n8nBin, dir } = I.paths(version);
  const logFile = join(RUN, 'n8n.log');
  const fd = openSync(logFile, 'w');
  const child = spawn(nodeBin, [n8nBin, 'start'], { cwd: dir, env, stdio: ['ignore', fd, fd], detached: true });
  child.unref();
  closeSync(fd);
  const url = `http://127.0.0.1:${opt.port}`;
  const probe = { exitInfo: undefined, log: '', startedAt: Date.now() };
  const ready = async () => /Editor is now accessible/.test(readFileSync(logFile, 'utf8')) && [200, 401].includes((await fetch(`${url}/rest/login`)).status);
  const readyMs = await I.N8nProcess.prototype.waitFor.call(probe, ready, 'n8n', 120_000);
  const cookie = await I.setupOwner(url);
  const apiKey = await I.createApiKey(url, cookie);
  for (const id of WEBHOOK_WORKFLOWS) await I.publicApi(url, apiKey, 'POST', `/workflows/${id}/activate`);
  writeFileSync(STATE, JSON.stringify({ pid: child.pid, url, version, env, apiKey, cookie, logFile }, null, 2));
  console.log(`n8n ${version} up at ${url} in ${readyMs} ms (log: ${logFile})`);
  console.log(`health: ${url}/rest/kafka-logger/health  (Authorization: Bearer ${env.N8N_KAFKA_LOGGER_HEALTH_TOKEN}, or an n8n session)`);
  console.log(`webhooks: POST ${url}/webhook/kl-ok, ${url}/webhook/kl-fail`);
}

async function execute(id) {
  const s = state();
  if (!s) throw new Error('not up');
  const r = await I.runCli(s.version, ['execute', '--id', id], { ...s.env, N8N_RUNNERS_BROKER_PORT: String(await I.freePort()) });
  console.log(`n8n execute --id ${id}: exit ${r.code} in ${r.ms} ms`);
  return r.code;
}

async function status() {
  const s = state();
  if (!s) return console.log('down');
  const res = await fetch(`${s.url}/rest/kafka-logger/health`, { headers: { authorization: `Bearer ${s.env.N8N_KAFKA_LOGGER_HEALTH_TOKEN}` } });
  console.log(JSON.stringify(await res.json(), null, 2));
}

async function down() {
  const s = state();
  if (!s) return console.log('down');
  try {
    process.kill(s.pid, 'SIGTERM');
    for (let i = 0; i < 300; i++) {
      process.kill(s.pid, 0);
      await new Promise((r) => setTimeout(r, 100));
    }
    process.kill(-s.pid, 'SIGKILL');
  } catch {
    /* gone */
  }
  rmSync(STATE, { force: true });
  console.log('n8n stopped');
}

const commands = { up, execute: () => execute(positionals[1]), status, down };
const cmd = commands[positionals[0]];
if (!cmd) {
  console.error('usage: node scripts/n8n/n8n.mjs up [--version V] [--fork] [--brokers B] [--topic T] [--port P] | execute ID | status | down');
  process.exit(2);
}
process.exitCode = (await cmd()) || 0;
