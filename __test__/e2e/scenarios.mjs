// The regular-mode scenarios, run against one real n8n (any version, stock hook file or fork module) and the real broker.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { cliOutcome, post, retryExecution, startSuiteN8n, waitForWebhook } from './helpers/harness.mjs';
import { assertExecution } from './helpers/expect.mjs';
import { screenshot } from './helpers/screenshot.mjs';
import { logout, memberSession, n8nVersionOf, publicApi, REPO } from '../../scripts/n8n/n8n-instance.mjs';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { consume } from '../helpers/broker.mjs';
import { SECRETS } from '../helpers/secrets.mjs';

export const CODE_NODE = { name: 'Explode', type: 'n8n-nodes-base.code', message: /boom from the code node/ };
/** In every data-bearing field of __test__/fixtures/workflows/no-data.json (parameters, notes, static and pinned data). */
const NO_DATA_MARKER = 'KL-WORKFLOW-DATA-MARKER-5c1e07';

/** The mechanism the adapters must prove on an n8n version: its lifecycle registry hands handlers the execution id from 2.8 on. */
export function expectedMechanism(version) {
  const [major, minor] = n8nVersionOf(version).split('.').map(Number);
  return major > 2 || (major === 2 && minor >= 8) ? 'lifecycle' : 'run-hook';
}

const MECHANISM_NAMES = { lifecycle: "n8n's lifecycle registry", 'run-hook': "a wrapper of n8n-core's ExecutionLifecycleHooks.runHook" };

/**
 * The full list runs on the pinned, newest and fork-base variants; `core` variants run the scenarios marked core
 * (CLI, Code node error, webhooks, Wait, sub-workflow, health, metrics, the log, SIGTERM). KL_E2E_FULL=1
 * (`npm run test:n8n-matrix`) runs the full list everywhere.
 */
export function regularScenarios({ version, mode = 'stock', label, hookFile, core = false }) {
  const full = !core || process.env.KL_E2E_FULL === '1';
  /** A scenario of the full list only. */
  const extra = (name, fn) => full && it(name, fn);
  describe(`${label}: n8n ${version ?? 'pinned'} regular mode via ${mode === 'stock' ? 'the hook file' : 'the fork module'}${full ? '' : ' (core scenarios)'}`, () => {
    let ctx;
    let main;
    let topic;
    const t0 = Date.now();

    before(async () => {
      ({ topic, ctx, main } = await startSuiteN8n({ label, version, mode, hookFile }));
      console.log(`# ${label}: n8n ready in ${main.readyMs} ms, setup ${Date.now() - t0} ms`);
    });

    after(async () => {
      await ctx?.cleanup();
    });

    it('CLI success: Started + Completed with tags, duration and times, flushed before the process exits', async () => {
      const r = await ctx.cli(['execute', '--id', 'klSuccess0000001']);
      assert.equal(cliOutcome(r), 'success');
      const events = await topic.next(2);
      ctx.cliEvents = 2;
      assertExecution(events, {
        workflowId: 'klSuccess0000001', names: ['Workflow Started', 'Workflow Completed'], mode: 'cli', status: 'success',
        tags: ['billing', 'kafka-e2e'], version: n8nVersionOf(ctx.version),
      });
      assert.equal(events[1].properties.trigger_node, 'Start');
      assert.equal(events[1].metrics.node_count, 2);
      assert.equal(events[1].flags.is_retry, false);
    });

    it('Code node throws: Failed with the error node', async () => {
      const r = await ctx.cli(['execute', '--id', 'klCodeThrows0001']);
      assert.equal(cliOutcome(r), 'failure', 'n8n execute exits 1 on a failed run');
      const events = await topic.next(2);
      ctx.cliEvents += 2;
      assertExecution(events, { workflowId: 'klCodeThrows0001', names: ['Workflow Started', 'Workflow Failed'], mode: 'cli', status: 'error', errorNode: CODE_NODE });
    });

    it('webhook success and failure: responses as n8n gives them, events with the error node', async () => {
      const ok = await post(main.p.url, '/webhook/kl-ok');
      assert.equal(ok.status, 200);
      assert.deepEqual(JSON.parse(ok.text), { ok: true });
      assertExecution(await topic.next(2), { workflowId: 'klWebhookOk00001', names: ['Workflow Started', 'Workflow Completed'], mode: 'webhook', status: 'success' });
      const fail = await post(main.p.url, '/webhook/kl-fail');
      assert.equal(fail.status, 500);
      assert.match(fail.text, /Error in workflow/);
      const failId = assertExecution(await topic.next(2), { workflowId: 'klWebhookFail001', names: ['Workflow Started', 'Workflow Failed'], mode: 'webhook', status: 'error', errorNode: CODE_NODE });
      ctx.failedExecutionId = failId;
      console.log(`# ${label}: webhook ok ${ok.ms} ms, failing webhook ${fail.ms} ms`);
    });

    extra('retry of a failed execution: retry_of and is_retry', async () => {
      const r = await retryExecution(ctx, main.p.url, ctx.failedExecutionId);
      assert.equal(r.status, 200, await r.text());
      const events = await topic.next(2);
      assertExecution(events, { workflowId: 'klWebhookFail001', names: ['Workflow Started', 'Workflow Failed'], mode: 'retry', status: 'error', errorNode: CODE_NODE });
      for (const e of events) {
        assert.equal(e.properties.retry_of, ctx.failedExecutionId);
        assert.equal(e.flags.is_retry, true);
      }
    });

    it('Wait node: Started, Waiting, then Resumed and Completed', async () => {
      const r = await post(main.p.url, '/webhook/kl-wait');
      assert.equal(r.status, 200);
      const { resumeUrl } = JSON.parse(r.text); // signed in newer n8n
      const first = await topic.next(2);
      const id = assertExecution(first, { workflowId: 'klWaitResume0001', names: ['Workflow Started', 'Workflow Waiting'], mode: 'webhook', status: 'waiting' });
      assert.match(resumeUrl, new RegExp(`/webhook-waiting/${id}`));
      const resume = await post(resumeUrl.replace(/^https?:\/\/[^/]+/, main.p.url), '');
      assert.equal(resume.status, 200);
      const second = await topic.next(2);
      assert.deepEqual(second.map((e) => e.event), ['Workflow Resumed', 'Workflow Completed']);
      for (const e of second) assert.equal(e.properties.execution_id, id);
      assert.equal(second[1].dimensions.status, 'success');
      assert.ok(new Date(second[0].timestamp) >= new Date(first[1].timestamp), 'resumed after waiting');
    });

    it('sub-workflow: the child links to its parent execution', async () => {
      const r = await ctx.cli(['execute', '--id', 'klSubParent00001']);
      assert.equal(cliOutcome(r), 'success');
      const events = await topic.next(4);
      ctx.cliEvents += 4;
      const parent = events.filter((e) => e.properties.workflow_id === 'klSubParent00001');
      const child = events.filter((e) => e.properties.workflow_id === 'klSubChild000001');
      const parentId = assertExecution(parent, { workflowId: 'klSubParent00001', names: ['Workflow Started', 'Workflow Completed'], mode: 'cli', status: 'success' });
      assertExecution(child, { workflowId: 'klSubChild000001', names: ['Workflow Started', 'Workflow Completed'], mode: 'integrated', status: 'success' });
      for (const e of child) {
        assert.equal(e.properties.parent_execution_id, parentId);
        assert.equal(e.flags.is_sub_execution, true);
      }
      assert.equal(child[1].properties.trigger_node, 'Called');
    });

    extra('cancel a running execution: Cancelled', async () => {
      const r = await post(main.p.url, '/webhook/kl-slow');
      assert.equal(r.status, 200);
      const [started] = await topic.next(1);
      const id = started.properties.execution_id;
      const stop = await fetch(`${main.p.url}/rest/executions/${id}/stop`, { method: 'POST', headers: { cookie: ctx.cookie, 'content-type': 'application/json' }, body: '{}' });
      assert.equal(stop.status, 200, await stop.text());
      const [end] = await topic.next(1);
      assertExecution([started, end], { workflowId: 'klSlow0000000001', names: ['Workflow Started', 'Workflow Cancelled'], mode: 'webhook', status: 'canceled' });
    });

    extra('no workflow data in the topic: parameters, Set and Code values, request body, query and headers stay out', async () => {
      const activate = await publicApi(main.p.url, ctx.apiKey, 'POST', '/workflows/klNoData00000001/activate');
      assert.equal(activate.status, 200, activate.text);
      await waitForWebhook(main.p.url, 'kl-no-data');
      const run = `kl-run-marker-${randomBytes(6).toString('hex')}`;
      const res = await fetch(`${main.p.url}/webhook/kl-no-data?q=${run}-query`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'x-kl-marker': `${run}-header` },
        body: JSON.stringify({ secret: `${run}-body` }),
      });
      const text = await res.text();
      assert.equal(res.status, 200, text);
      // The markers really flowed through the run (else their absence below would prove nothing).
      for (const m of [`${NO_DATA_MARKER}-set`, `${NO_DATA_MARKER}-code`, `${run}-body`, `${run}-query`, `${run}-header`]) assert.ok(text.includes(m), `${m} in the run's output: ${text}`);
      assertExecution(await topic.next(2), { workflowId: 'klNoData00000001', names: ['Workflow Started', 'Workflow Completed'], mode: 'webhook', status: 'success' });
      const records = await consume({ brokers: topic.brokers, topic: topic.topic, count: topic.total });
      assert.equal(records.length, topic.total, 'every record of the topic read back');
      const all = JSON.stringify(records.map(({ key, headers, value }) => ({ key, headers, value })));
      for (const m of [NO_DATA_MARKER, run]) assert.ok(!all.includes(m), `workflow data (${m}) in a key, header or value of ${topic.topic}`);
    });

    it('health route: 401 without auth, JSON with the bearer token or an owner session', async () => {
      const url = `${main.p.url}/rest/kafka-logger/health`;
      assert.equal((await fetch(url)).status, 401);
      assert.equal((await fetch(url, { headers: { authorization: 'Bearer wrong' } })).status, 401);
      const viaSession = await fetch(url, { headers: { cookie: ctx.cookie } });
      assert.equal(viaSession.status, 200);
      const h = await viaSession.json();
      assert.equal(h.circuitBreaker.state, 'closed');
      assert.equal(h.wiring.mechanism, expectedMechanism(ctx.version), JSON.stringify(h.wiring));
      assert.match(h.wiring.proof, /probe/, 'the wiring was proven, not assumed');
      assert.equal(h.status, 'healthy');
      const own = topic.total - ctx.cliEvents; // the CLI runs were other processes with their own loggers
      assert.equal(h.counters.delivered, own, `this process delivered all its ${own} events`);
      assert.equal(h.n8n.instanceType, 'main');
      assert.ok(!JSON.stringify(h).includes(SECRETS.HEALTH_TOKEN), 'no secret in the output');
      if (mode === 'stock') {
        const viaToken = await fetch(url, { headers: { authorization: `Bearer ${SECRETS.HEALTH_TOKEN}` } });
        assert.equal(viaToken.status, 200);
      }
      const html = await fetch(url, { headers: { cookie: ctx.cookie, accept: 'text/html' } });
      assert.match(html.headers.get('content-type'), /text\/html/);
      assert.match(await html.text(), /http-equiv="refresh"[\s\S]*Circuit breaker/);
    });

    it('health route refuses: a malformed or logged-out session 401, a member 403; security headers on what it serves', async () => {
      const url = `${main.p.url}/rest/kafka-logger/health`;
      for (const bad of ['n8n-auth=not.a.jwt', 'n8n-auth=%E0%A4%A', `n8n-auth=${'x'.repeat(5000)}`]) {
        assert.equal((await fetch(url, { headers: { cookie: bad } })).status, 401, `cookie ${bad.slice(0, 30)}`);
      }
      const member = await memberSession(main.p.url, ctx.cookie);
      const asMember = await fetch(url, { headers: { cookie: member } });
      assert.equal(asMember.status, 403, 'a member session is not enough');
      assert.ok(!(await asMember.text()).includes('circuitBreaker'), 'no snapshot for a member');
      await logout(main.p.url, member);
      assert.equal((await fetch(url, { headers: { cookie: member } })).status, 401, 'a logged-out session');
      const owner = await fetch(url, { headers: { cookie: ctx.cookie } });
      assert.equal(owner.status, 200, 'the owner still gets in');
      assert.equal(owner.headers.get('x-content-type-options'), 'nosniff');
      assert.match(owner.headers.get('content-security-policy') ?? '', /default-src 'none'/);
      if (mode === 'stock') assert.match(owner.headers.get('ratelimit-policy') ?? owner.headers.get('ratelimit') ?? '', /120/, 'n8n\'s rate limiter in front of the route');
    });

    extra('status page: a browser gets a readable, self-refreshing page (headless Chromium screenshot)', async () => {
      const file = join(REPO, '.cache', 'e2e', `status-page-${label}.png`);
      const size = await screenshot(`${main.p.url}/rest/kafka-logger/health`, { cookie: ctx.cookie }, file);
      assert.ok(size > 10_000, `screenshot ${file} has ${size} bytes`);
      console.log(`# ${label}: status page screenshot ${file}`);
    });

    it('metrics on /metrics in n8n\'s own registry', async () => {
      const text = await (await fetch(`${main.p.url}/metrics`)).text();
      assert.match(text, /^n8n_kafka_logger_events_total\{event="started",outcome="accepted"\} [1-9]/m);
      assert.match(text, /^n8n_kafka_logger_events_total\{event="finished_error",outcome="accepted"\} [1-9]/m);
      assert.match(text, /^n8n_kafka_logger_queue_depth \d+/m);
      assert.match(text, /^n8n_kafka_logger_circuit_breaker_state 0/m);
      assert.match(text, new RegExp(`^n8n_kafka_logger_wired\\{mechanism="${expectedMechanism(ctx.version)}"\\} 1$`, 'm'));
      assert.match(text, /^n8n_kafka_logger_delivery_latency_seconds_count \d+/m);
      assert.match(text, /^n8n_version_info/m, 'n8n\'s own metrics are still there');
    });

    it('the log names the mechanism in use and its proof', () => {
      const name = MECHANISM_NAMES[expectedMechanism(ctx.version)];
      assert.ok(main.p.log.includes(`[kafka-logger] logging executions to Kafka through ${name}`), main.p.log.slice(-3000));
      assert.doesNotMatch(main.p.log, /NOT logging executions/);
    });

    it('SIGTERM: n8n stops cleanly and nothing is left behind', async () => {
      const info = await main.p.stop('SIGTERM');
      assert.equal(info.code, 0, main.p.log.slice(-3000));
      assert.doesNotMatch(main.p.log, /\[kafka-logger\].*(failed|skipped)/i);
      await topic.assertNoMore();
    });
  });
}
