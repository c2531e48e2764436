// ERROR_DETAIL and REDACT with one real n8n: a Code node's error built from $json and an HTTP node's error body
// carry a unique marker; at each level it is in the fields the level allows and nowhere else: the events topic,
// the dead-letter topic and file, the CLI's inspect output, and n8n's log (which holds the logger's lines).
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { promisify } from 'node:util';
import { importWorkflows, publicApi, REPO } from '../../scripts/n8n/n8n-instance.mjs';
import { alterTopic, consume, createTopic } from '../helpers/broker.mjs';
import { post, prepareN8n, startMain, waitForWebhook } from './helpers/harness.mjs';
import { kafkaUp, uniqueTopic } from './helpers/kafka.mjs';

const WORKFLOWS = { code: { id: 'klDetailCode0001', path: 'kl-detail-code' }, http: { id: 'klDetailHttp0001', path: 'kl-detail-http' } };
/** Per run of both workflows: Workflow Started, Node Started/Completed (Webhook), Node Started/Failed, Workflow Failed. */
const EVENTS = 12;
const MARKER = 'mk-[0-9a-f]{12}';
const marker = () => `mk-${randomBytes(6).toString('hex')}`;
/** Too small for any event: the broker refuses every record with MESSAGE_TOO_LARGE, a permanent failure. */
const REFUSE_ALL = { 'max.message.bytes': 200 };

/**
 * Where each level lets the marker be on the Code node's failure events. The HTTP node's never holds it: n8n 2.x
 * gives a 4xx/5xx answer its generic message ("The service was not able to process your request") and keeps the
 * body in the error's description, which the adapters send only for an error without a message (README: What an
 * event can carry); the test proves that stays so at every level.
 */
const LEVELS = [
  { name: 'full', env: { N8N_KAFKA_LOGGER_ERROR_DETAIL: 'full' }, fields: ['properties.error_message', 'properties.error_stack'] },
  { name: 'message', env: { N8N_KAFKA_LOGGER_ERROR_DETAIL: 'message' }, fields: ['properties.error_message'] },
  { name: 'type', env: { N8N_KAFKA_LOGGER_ERROR_DETAIL: 'type' }, fields: [] },
  { name: 'redact', env: { N8N_KAFKA_LOGGER_ERROR_DETAIL: 'full', N8N_KAFKA_LOGGER_REDACT: JSON.stringify([MARKER]) }, fields: [], redacted: true },
];

/** The paths (a.b.c) of every string in `value` that holds `text`. */
function pathsOf(value, text, path = '') {
  if (typeof value === 'string') return value.includes(text) ? [path] : [];
  if (value && typeof value === 'object') return Object.entries(value).flatMap(([k, v]) => pathsOf(v, text, path ? `${path}.${k}` : k));
  return [];
}

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

/** The dead-letter files' lines of a spool folder (every slot), once `count` are there. */
async function deadLetterLines(spool, count, timeoutMs = 60_000) {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const files = existsSync(spool) ? readdirSync(spool).map((slot) => join(spool, slot, 'dead-letters.jsonl')).filter(existsSync) : [];
    const lines = files.flatMap((f) => readFileSync(f, 'utf8').split('\n').filter(Boolean));
    if (lines.length >= count || Date.now() > until) return lines;
    await sleep(250);
  }
}

async function inspect(brokers, topic) {
  const run = promisify(execFile);
  const args = [join(REPO, 'bin', 'cli.js'), 'inspect', '--brokers', brokers, '--topic', topic];
  const text = await run(process.execPath, args, { env: { PATH: process.env.PATH } });
  const json = await run(process.execPath, [...args, '--json'], { env: { PATH: process.env.PATH } });
  return { output: `${text.stdout}${text.stderr}\n${json.stdout}${json.stderr}`, summary: JSON.parse(json.stdout) };
}

/** The suite on one n8n `version` via the stock hook file: one n8n start per level. */
export function errorDetailScenarios({ version, label }) {
  describe(`${label}: ERROR_DETAIL and REDACT, where workflow data from errors can go (stock hook file, n8n ${version})`, () => {
    let brokers;
    let ctx;
    let backend;
    /** What the backend's 500 answer names: the marker of the run in progress. */
    let backendMarker = '';
    const started = Date.now();
    const runs = {};

    before(async () => {
      brokers = await kafkaUp();
      backend = createServer((req, res) => {
        res.writeHead(500, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ message: `backend refused record ${backendMarker}` }));
      });
      await new Promise((resolve) => backend.listen(0, '127.0.0.1', resolve));
      ctx = await prepareN8n({ version, topic: uniqueTopic(`${label}-unused`), brokers });
      await importWorkflows(ctx.version, ctx.env, join(REPO, '__test__', 'fixtures', 'error-detail'));
    });

    after(async () => {
      await ctx?.cleanup();
      backend?.close();
      console.log(`# ${label} suite: ${Math.round((Date.now() - started) / 1000)} s`);
    });

    /** Both workflows once with `m` in the input item and in the backend's answer; n8n answers 500 for both. */
    async function runBoth(url, m) {
      backendMarker = m;
      const { port } = backend.address();
      for (const w of Object.values(WORKFLOWS)) {
        const r = await post(url, `/webhook/${w.path}`, { marker: m, url: `http://127.0.0.1:${port}/records` });
        assert.equal(r.status, 500, `${w.path}: ${r.text}`);
      }
    }

    /** One n8n start at `level`: a run to the topic, one to the dead-letter topic, one to the dead-letter file. */
    async function runLevel(level) {
      const topic = uniqueTopic(`${label}-${level.name}`);
      const dlq = `${topic}.dlq`;
      createTopic(topic);
      createTopic(dlq);
      const spool = mkdtempSync(join(tmpdir(), 'kl-detail-spool-'));
      const env = { N8N_KAFKA_LOGGER_TOPIC: topic, N8N_KAFKA_LOGGER_SPOOL_DIR: spool, N8N_KAFKA_LOGGER_NODE_EVENTS: 'true', ...level.env };
      const { p } = await startMain(ctx, env);
      try {
        for (const w of Object.values(WORKFLOWS)) {
          if (Object.keys(runs).length === 0) {
            const r = await publicApi(p.url, ctx.apiKey, 'POST', `/workflows/${w.id}/activate`);
            assert.equal(r.status, 200, `activate ${w.id}: ${r.text}`);
          }
          await waitForWebhook(p.url, w.path);
        }
        const markers = { topic: marker(), dlq: marker(), file: marker() };
        await runBoth(p.url, markers.topic);
        await consume({ brokers, topic, count: EVENTS, timeoutMs: 60_000 });
        alterTopic(topic, REFUSE_ALL);
        await sleep(1_000);
        await runBoth(p.url, markers.dlq);
        await consume({ brokers, topic: dlq, count: EVENTS, timeoutMs: 60_000 });
        alterTopic(dlq, REFUSE_ALL);
        await sleep(1_000);
        await runBoth(p.url, markers.file);
        const file = (await deadLetterLines(spool, EVENTS)).map((line) => JSON.parse(line));
        assert.equal((await p.stop()).code, 0, 'n8n stops cleanly');
        const run = {
          markers,
          topic: await consume({ brokers, topic, timeoutMs: 30_000 }),
          dlq: await consume({ brokers, topic: dlq, timeoutMs: 30_000 }),
          file,
          inspect: await inspect(brokers, topic),
          log: p.log,
        };
        runs[level.name] = run;
        return run;
      } finally {
        await p.kill9();
      }
    }

    /**
     * Every event of a sink: the marker only in the fields the level allows, and in exactly those on each failure
     * event (Node Failed, Workflow Failed) of both workflows; never in a key, header or dead-letter line's own fields.
     */
    function assertSink(level, what, events, m) {
      assert.equal(events.length, EVENTS, `${what}: ${EVENTS} events`);
      for (const { event, around } of events) {
        const found = pathsOf(event, m);
        assert.deepEqual(pathsOf(around, m), [], `${what}: the marker outside the event: ${JSON.stringify(around)}`);
        const failure = event.event === 'Node Failed' || event.event === 'Workflow Failed';
        const code = event.properties.workflow_id === WORKFLOWS.code.id;
        assert.deepEqual(found, failure && code ? level.fields : [], `${what}: ${event.event} of ${event.properties.workflow_id}`);
        if (!failure) continue;
        assert.equal(event.properties.error_node_name, code ? 'Explode' : 'Call backend', `${what}: the failing node at every level`);
        assert.equal(event.dimensions.error_type, code ? 'Error' : 'NodeApiError', `${what}: the error's class at every level`);
        if (code && level.redacted) assert.match(event.properties.error_message, /^boom \[redacted\]/, `${what}: ${event.event}`);
      }
      const failed = events.filter(({ event }) => event.event === 'Workflow Failed').map(({ event }) => event.properties.workflow_id);
      assert.deepEqual(failed.sort(), [WORKFLOWS.code.id, WORKFLOWS.http.id], `${what}: both workflows failed`);
    }

    for (const level of LEVELS) {
      it(`${level.name}: ${level.fields.length ? level.fields.join(' and ') : 'no field'} carries the marker${level.redacted ? ' ([redacted] instead)' : ''}`, async () => {
        const run = await runLevel(level);
        const { markers } = run;
        const kafka = (records) => records.map((r) => ({ event: r.value, around: { key: r.key, headers: r.headers } }));
        assertSink(level, 'topic', kafka(run.topic), markers.topic);
        assertSink(level, 'dead-letter topic', kafka(run.dlq), markers.dlq);
        assert.ok(run.dlq.every((r) => r.headers['dlq-error-kind'] === 'message_too_large'), 'dead letters of the topic refusing them');
        assertSink(level, 'dead-letter file', run.file.map(({ event, ...around }) => ({ event, around })), markers.file);
        // Each marker only in its own sink.
        const sinks = { topic: run.topic.map((r) => r.raw), dlq: run.dlq.map((r) => r.raw), file: run.file.map((l) => JSON.stringify(l)) };
        for (const [sink, texts] of Object.entries(sinks)) {
          for (const [of, m] of Object.entries(markers)) if (of !== sink) assert.ok(!texts.some((t) => t.includes(m)), `${of}'s marker in the ${sink}`);
        }
        // inspect prints the last failure's message: the marker exactly when the level keeps the message.
        const printsMessage = level.fields.includes('properties.error_message');
        assert.equal(run.inspect.output.includes(markers.topic), printsMessage, `inspect output:\n${run.inspect.output}`);
        assert.equal(run.inspect.summary.events, EVENTS, 'inspect read the topic');
        for (const m of Object.values(markers)) assert.ok(!run.log.includes(m), `n8n's log holds ${m}:\n${run.log.slice(-4000)}`);
      });
    }
  });
}
