// Unit tests of the n8n adapters (mapping, emitter, ownership, health page) with a stand-in core; the e2e tests use the real one.
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import { test } from 'node:test';

const require = createRequire(import.meta.url);
const { mapStart, mapFinish, mapNode, errorOf } = require('../../dist/n8n/mapping.js');
const { ExecutionEvents } = require('../../dist/n8n/emitter.js');
const { renderStatusPage } = require('../../dist/n8n/status-page.js');
const { wantsHtml } = require('../../dist/n8n/health.js');

const workflow = {
  id: 'wf1',
  name: 'Orders',
  versionId: 'v-1',
  nodes: [
    { id: 'n-start', name: 'Start', type: 'n8n-nodes-base.manualTrigger' },
    { id: 'n-code', name: 'Code', type: 'n8n-nodes-base.code' },
  ],
};

const failedRun = {
  mode: 'webhook',
  status: 'error',
  startedAt: new Date('2026-01-01T00:00:00.000Z'),
  stoppedAt: new Date('2026-01-01T00:00:01.500Z'),
  data: {
    resultData: {
      lastNodeExecuted: 'Code',
      error: { message: 'boom', stack: 'Error: boom\n  at x' }, // a plain object, as n8n stores it
      runData: { Start: [{}], Code: [{ error: { message: 'boom', name: 'NodeOperationError' } }] },
    },
    executionData: { runtimeData: { source: 'webhook', triggerNode: { name: 'Start' } } },
  },
};

/** Values that make naive property access throw. */
const hostile = () => [
  null,
  undefined,
  42,
  'text',
  [],
  new Proxy({}, { get() { throw new Error('trap'); } }),
  Object.defineProperty({}, 'data', { get() { throw new Error('getter'); } }),
  (() => { const o = { nodes: 'nope', status: 7 }; o.self = o; o.data = o; return o; })(),
];

test('start maps id, workflow, mode, trigger, parent and meta', () => {
  const input = mapStart({
    executionId: 12,
    workflow,
    executionData: { parentExecution: { executionId: '7' }, executionData: { runtimeData: { source: 'integrated' } } },
    meta: { retryOf: '3', userId: 'u1', startedAt: '2026-01-01T00:00:00Z' },
  });
  // the core treats undefined as absent; every execution input carries all fields (one shape, see mapping.ts)
  const defined = Object.fromEntries(Object.entries(input).filter(([, v]) => v !== undefined));
  assert.deepEqual(defined, {
    executionId: '12',
    workflowId: 'wf1',
    workflowName: 'Orders',
    workflowVersionId: 'v-1',
    nodeCount: 2,
    mode: 'integrated',
    startedAt: new Date('2026-01-01T00:00:00Z'),
    retryOf: '3',
    parentExecutionId: '7',
    triggerNode: 'Start',
    triggerNodeType: 'n8n-nodes-base.manualTrigger',
    userId: 'u1',
  });
});

test("the trigger node's type comes from the workflow's node of that name", () => {
  const wf = {
    id: 's',
    nodes: [
      { name: 'Code', type: 'n8n-nodes-base.code' },
      { name: 'Every hour', type: 'n8n-nodes-base.scheduleTrigger' },
      { name: 'On message', type: 'n8n-nodes-base.rabbitmqTrigger' },
    ],
  };
  const scheduled = { executionData: { runtimeData: { source: 'trigger', triggerNode: { name: 'Every hour' } } } };
  assert.equal(mapStart({ executionId: '1', workflow: wf, executionData: scheduled }).triggerNodeType, 'n8n-nodes-base.scheduleTrigger');
  const run = { status: 'success', mode: 'trigger', data: { executionData: { nodeExecutionStack: [{ node: { name: 'On message' } }] } } };
  const end = mapFinish({ executionId: '2', workflow: wf, run });
  assert.deepEqual([end.triggerNode, end.triggerNodeType], ['On message', 'n8n-nodes-base.rabbitmqTrigger']);
  // A name the workflow does not have, or a node without a type: no type.
  const gone = mapStart({ executionId: '3', workflow: wf, executionData: { executionData: { runtimeData: { triggerNode: { name: 'Deleted' } } } } });
  assert.deepEqual([gone.triggerNode, gone.triggerNodeType], ['Deleted', undefined]);
  const untyped = mapStart({ executionId: '4', workflow: { id: 'u', nodes: [{ name: 'Every hour' }] }, executionData: scheduled });
  assert.deepEqual([untyped.triggerNode, untyped.triggerNodeType], ['Every hour', undefined]);
});

test('finish finds the failing node from lastNodeExecuted when the error is a plain object', () => {
  const input = mapFinish({ executionId: '9', workflow, run: failedRun });
  assert.deepEqual(Object.keys(input), Object.keys(mapStart({ executionId: '9', workflow })), 'start and end inputs have one shape');
  assert.equal(input.status, 'error');
  assert.equal(input.mode, 'webhook');
  assert.deepEqual(input.error, { message: 'boom', stack: 'Error: boom\n  at x', nodeName: 'Code', nodeId: 'n-code', nodeType: 'n8n-nodes-base.code' });
  assert.equal(input.startedAt.toISOString(), '2026-01-01T00:00:00.000Z');
  assert.equal(input.stoppedAt.toISOString(), '2026-01-01T00:00:01.500Z');
});

test('finish of a success carries no error; a waitTill run is waiting', () => {
  assert.equal(mapFinish({ executionId: '1', workflow, run: { status: 'success', data: {} } }).error, undefined);
  assert.equal(mapFinish({ executionId: '1', workflow, run: { waitTill: new Date(), data: {} } }).status, 'waiting');
});

test('errorOf falls back to any task error when the run error is missing', () => {
  const run = { data: { resultData: { runData: { Code: [{ error: { message: 'late', name: 'NodeApiError' } }] } } } };
  assert.deepEqual(errorOf(run, workflow), { message: 'late', name: 'NodeApiError', nodeName: 'Code', nodeId: 'n-code', nodeType: 'n8n-nodes-base.code' });
});

test('a sub-execution does not take its parent trigger node', () => {
  const run = { status: 'success', data: { parentExecution: { executionId: '1' }, executionData: { runtimeData: { triggerNode: { name: 'ParentStart' } } } } };
  const wf = { id: 'c', nodes: [{ name: 'Called', type: 'n8n-nodes-base.executeWorkflowTrigger' }] };
  const end = mapFinish({ executionId: '2', workflow: wf, run });
  assert.deepEqual([end.triggerNode, end.triggerNodeType], ['Called', 'n8n-nodes-base.executeWorkflowTrigger']);
});

test("n8n 1.x error workflow run: the failed execution from the start item's metadata, then from the trigger's task", () => {
  const wf = { id: 'e', nodes: [{ name: 'On error', type: 'n8n-nodes-base.errorTrigger' }] };
  const link = { metadata: { parentExecution: { executionId: '4', workflowId: 'src' } } };
  const executionData = { executionData: { nodeExecutionStack: [{ node: { name: 'On error' }, ...link }] } };
  assert.equal(mapStart({ executionId: '5', workflow: wf, executionData, meta: { mode: 'error' } }).parentExecutionId, '4');
  const run = { status: 'success', mode: 'error', data: { resultData: { runData: { 'On error': [{ executionStatus: 'success', ...link }] } }, executionData: { nodeExecutionStack: [] } } };
  const end = mapFinish({ executionId: '5', workflow: wf, run });
  assert.equal(end.triggerNode, 'On error');
  assert.equal(end.parentExecutionId, '4');
  assert.equal(mapFinish({ executionId: '6', workflow: wf, run: { status: 'success', data: { resultData: { runData: { 'On error': [{}] } } } } }).parentExecutionId, undefined);
});

test('node events: started, completed, failed with timing', () => {
  const started = mapNode({ executionId: '1', workflow, nodeName: 'Code', taskData: { startTime: 1000 }, phase: 'before' });
  assert.equal(started.event, 'started');
  const failed = mapNode({ executionId: '1', workflow, nodeName: 'Code', taskData: { startTime: 1000, executionTime: 250, error: { message: 'x' } }, phase: 'after' });
  assert.equal(failed.event, 'failed');
  assert.equal(failed.stoppedAt.getTime(), 1250);
  assert.equal(failed.error.nodeId, 'n-code');
  assert.equal(mapNode({ executionId: '1', workflow, nodeName: 'Start', taskData: {}, phase: 'after' }).event, 'completed');
});

test("node events carry n8n's run index: stored runs before the run, the task's own place after it", () => {
  const runs = [{ executionIndex: 1 }, { executionIndex: 4 }];
  const executionData = { resultData: { runData: { Code: runs } } };
  const node = (phase, taskData, data = executionData) => mapNode({ executionId: '1', workflow, nodeName: 'Code', taskData, executionData: data, phase });
  assert.equal(node('before', { executionIndex: 6 }).runIndex, 2, 'the third run starts');
  assert.equal(node('before', {}, { resultData: { runData: {} } }).runIndex, 0, 'a first run');
  runs.push({ executionIndex: 6 });
  assert.equal(node('after', runs[2]).runIndex, 2, 'found by identity');
  assert.equal(node('after', runs[0]).runIndex, 0);
  assert.equal(node('after', { executionIndex: 4 }).runIndex, 1, 'merged into an entry n8n made earlier: found by executionIndex');
  for (const missing of [undefined, {}, { resultData: { runData: { Code: 'x' } } }]) {
    assert.ok(!('runIndex' in node('after', { executionIndex: 9 }, missing)), `no run data (${JSON.stringify(missing)}): no index`);
  }
  assert.ok(!('runIndex' in node('after', { executionIndex: 9 })), 'a task n8n did not store: no index');
});

test('hostile workflow and run shapes still give the event, with its execution id and a status', () => {
  // Every mapper ends in a catch-all, so "does not throw" alone could not fail: the event must come out whole,
  // which it does only if every read inside is guarded (a throw reaching the catch-all loses the event).
  for (const [i, a] of hostile().entries()) {
    for (const [j, b] of hostile().entries()) {
      const shape = `hostile shapes ${i} / ${j}`;
      const started = mapStart({ executionId: '1', workflow: a, executionData: b, meta: {} });
      assert.equal(started?.executionId, '1', `start of ${shape}`);
      assert.ok(started.startedAt instanceof Date);
      const finished = mapFinish({ executionId: '1', workflow: a, run: b });
      assert.equal(finished?.executionId, '1', `finish of ${shape}`);
      assert.equal(typeof finished.status, 'string');
      const node = mapNode({ executionId: '1', workflow: a, nodeName: 'x', taskData: b, phase: 'after' });
      assert.deepEqual([node?.executionId, node?.nodeName], ['1', 'x'], `node event of ${shape}`);
      assert.doesNotThrow(() => errorOf(a, b));
    }
  }
  assert.equal(mapStart({ executionId: undefined, workflow }), undefined, 'no id, no event');
});

/** A stand-in of the core with the contract's shape, recording calls. */
function standInCore({ throws = false } = {}) {
  const calls = [];
  const rec = (kind) => (input) => {
    if (throws) throw new Error('core exploded');
    calls.push({ kind, input });
    return true;
  };
  return {
    calls,
    initialize: async () => {},
    logWorkflowStarted: rec('started'),
    logWorkflowResumed: rec('resumed'),
    logWorkflowFinished: rec('finished'),
    logNodeEvent: rec('node'),
    getHealthMetrics: () => ({ status: 'healthy', circuitBreaker: { state: 'closed' }, queue: { depth: 0, capacity: 1 }, counters: {} }),
    flush: async () => ({ delivered: 0, pending: 0 }),
    shutdown: async () => ({ delivered: 0, pending: 0, dropped: 0 }),
  };
}

/** A host whose tag read resolves when the test says so, in queue or regular mode. */
function fakeHost({ mode = 'regular', type = 'main', tags = ['a'], active = {} } = {}) {
  let release;
  const gate = new Promise((r) => (release = r));
  const services = {
    'dist/active-executions.js': { activeExecutions: active },
    '@n8n/db': { find: async () => { await gate; return tags.map((name) => ({ name })); } },
  };
  return {
    release: () => release(),
    root: undefined,
    require: () => undefined,
    service: (id) => services[id],
    version: () => '2.8.4',
    instanceId: () => 'inst',
    instanceType: () => type,
    executionsMode: () => mode,
    command: () => 'start',
  };
}

const log = { warn() {}, error() {}, info() {}, debug() {} };
const before = (id, extra = {}) => ({ executionId: id, workflow, workflowInstance: {}, executionData: {}, ...extra });
const after = (id, run = { status: 'success', data: {} }) => ({ executionId: id, workflow, runData: run });

test('events wait for the first tag read and keep their order; later ones are synchronous', async () => {
  const host = fakeHost();
  const core = standInCore();
  const ev = new ExecutionEvents({ host, core, log, nodeEvents: false });
  ev.onBefore(before('1'));
  ev.onAfter(after('1'));
  assert.equal(core.calls.length, 0, 'nothing before the tags are known');
  host.release();
  await ev.settled();
  assert.deepEqual(core.calls.map((c) => [c.kind, c.input.tags]), [['started', ['a']], ['finished', ['a']]]);
  ev.onBefore(before('2'));
  assert.equal(core.calls.length, 3, 'cached tags: handed over at once');
});

test('queue mode: a main emits only what it runs; a worker emits everything', async () => {
  const main = fakeHost({ mode: 'queue', type: 'main' });
  main.release();
  const core = standInCore();
  const ev = new ExecutionEvents({ host: main, core, log, nodeEvents: false });
  ev.onBefore(before('10', { workflowInstance: undefined })); // enqueued: the worker reports it
  ev.onAfter(after('10', { status: 'success', jobId: '5', data: {} }));
  ev.onBefore(before('11')); // a manual run on main
  ev.onAfter(after('11'));
  ev.onAfter(after('12', { status: 'crashed', data: {} })); // crash recovery on main
  await ev.settled();
  // order is kept per execution only
  assert.deepEqual(core.calls.map((c) => `${c.kind}:${c.input.executionId}`).sort(), ['finished:11', 'finished:12', 'started:11']);

  const worker = fakeHost({ mode: 'queue', type: 'worker' });
  worker.release();
  const wcore = standInCore();
  const wev = new ExecutionEvents({ host: worker, core: wcore, log, nodeEvents: false });
  wev.onBefore(before('10'));
  wev.onAfter(after('10'));
  await wev.settled();
  assert.equal(wcore.calls.length, 2);
});

test('one start and one end per status even when two paths report the same execution', async () => {
  const host = fakeHost({ active: { 5: { executionData: { executionMode: 'integrated' } } } });
  host.release();
  const core = standInCore();
  const ev = new ExecutionEvents({ host, core, log, nodeEvents: false });
  ev.onEventPreExecute({ executionId: '5', data: workflow });
  ev.onBefore(before('5'));
  ev.onAfter(after('5', { status: 'waiting', data: {} }));
  ev.onResume({ ...before('5') });
  ev.onAfter(after('5'));
  ev.onEventPostExecute({ executionId: '5', runData: { mode: 'integrated', status: 'success', data: {} }, workflow });
  await ev.settled();
  assert.deepEqual(core.calls.map((c) => `${c.kind}:${c.input.status ?? ''}`), ['started:', 'finished:waiting', 'resumed:', 'finished:success']);
});

test("a node in a loop: each run's Started and Completed carry its run index, as n8n's hooks hand the run data", async () => {
  const host = fakeHost();
  host.release();
  const core = standInCore();
  const ev = new ExecutionEvents({ host, core, log, nodeEvents: true });
  const executionData = { resultData: { runData: {} } };
  ev.onBefore(before('7', { executionData }));
  const runs = (executionData.resultData.runData.Loop = []);
  for (let i = 0; i < 3; i++) {
    const taskData = { startTime: 1000, executionTime: 0, executionIndex: 2 * i };
    // n8n 2.8's lifecycle context of a nodeExecuteBefore has no execution id and no run data
    ev.onNode({ workflow, nodeName: 'Loop', taskData }, 'before');
    runs.push(taskData);
    ev.onNode({ executionId: '7', workflow, nodeName: 'Loop', taskData, executionData }, 'after');
  }
  ev.onAfter(after('7'));
  await ev.settled();
  const nodes = core.calls.filter((c) => c.kind === 'node').map((c) => `${c.input.event}:${c.input.runIndex}`);
  assert.deepEqual(nodes, ['started:0', 'completed:0', 'started:1', 'completed:1', 'started:2', 'completed:2']);
});

test('handlers never throw, whatever the core or the context does', async () => {
  const host = fakeHost();
  host.release();
  const ev = new ExecutionEvents({ host, core: standInCore({ throws: true }), log, nodeEvents: true });
  for (const ctx of hostile()) {
    assert.doesNotThrow(() => ev.onBefore(ctx));
    assert.doesNotThrow(() => ev.onResume(ctx));
    assert.doesNotThrow(() => ev.onAfter(ctx));
    assert.doesNotThrow(() => ev.onNode(ctx, 'after'));
    assert.doesNotThrow(() => ev.onEventPreExecute(ctx));
    assert.doesNotThrow(() => ev.onEventPostExecute(ctx));
  }
  ev.onBefore(before('1'));
  await ev.settled();
});

test('status page escapes what it shows and refreshes itself', () => {
  const html = renderStatusPage({ status: 'degraded', circuitBreaker: { state: 'open' }, queue: { depth: 5, capacity: 10 }, counters: { delivered: 3 }, lastError: { kind: 'network', message: '<script>x</script>', at: 'now' } });
  assert.match(html, /http-equiv="refresh"/);
  assert.match(html, /&lt;script&gt;x&lt;\/script&gt;/);
  assert.doesNotMatch(html, /<script>x/);
});

test('content negotiation prefers JSON unless HTML comes first', () => {
  assert.equal(wantsHtml('text/html,application/xhtml+xml,*/*;q=0.8'), true);
  assert.equal(wantsHtml('application/json, text/html'), false);
  assert.equal(wantsHtml(undefined), false);
});

test("metrics: queue, breaker and spool gauges and totals in n8n's own prom-client", async () => {
  const { paths, PINNED } = await import('../../scripts/n8n/n8n-instance.mjs');
  const prom = createRequire(`${paths(PINNED()).dir}/node_modules/n8n/package.json`)('prom-client');
  const { LoggerMetrics } = require('../../dist/n8n/metrics.js');
  prom.register.clear();
  let snapshot = {
    circuitBreaker: { state: 'open' },
    queue: { depth: 7, capacity: 10000, bytes: 2800, maxBytes: 67108864 },
    counters: { accepted: 5, delivered: 3 },
    spool: { enabled: true, bytes: 4096, records: 12, oldestAgeMs: 2500, replayed: 9, corrupted: 2, refused: 0 },
  };
  const metrics = new LoggerMetrics(prom, () => snapshot);
  metrics.register();
  const scrape = async () => prom.register.metrics();
  let text = await scrape();
  for (const line of [
    'n8n_kafka_logger_queue_depth 7',
    'n8n_kafka_logger_circuit_breaker_state 2',
    'n8n_kafka_logger_spool_bytes 4096',
    'n8n_kafka_logger_spool_records 12',
    'n8n_kafka_logger_spool_oldest_age_seconds 2.5',
    'n8n_kafka_logger_spool_events_total{outcome="replayed"} 9',
    'n8n_kafka_logger_spool_events_total{outcome="corrupted"} 2',
    'n8n_kafka_logger_messages_total{state="delivered"} 3',
    'n8n_kafka_logger_queue_bytes 2800',
    'n8n_kafka_logger_queue_max_bytes 67108864',
    // series exist from zero, so that Prometheus's increase() sees their first change
    'n8n_kafka_logger_messages_total{state="dropped"} 0',
    'n8n_kafka_logger_events_total{event="started",outcome="rejected"} 0',
  ]) assert.ok(text.split('\n').includes(line), `${line} in:\n${text}`);
  snapshot = { ...snapshot, spool: { ...snapshot.spool, replayed: 15, records: 0, oldestAgeMs: null } };
  text = await scrape();
  assert.ok(text.includes('n8n_kafka_logger_spool_events_total{outcome="replayed"} 15'), 'totals follow the core');
  assert.ok(text.includes('n8n_kafka_logger_spool_oldest_age_seconds 0'), 'an empty spool has no age');
  snapshot = { ...snapshot, spool: { enabled: false } };
  assert.ok((await scrape()).includes('n8n_kafka_logger_spool_records 0'), 'no spool reads as empty');
  metrics.stop();
  prom.register.clear();
});

test('boolean settings read as the core reads them: true in any letter case', () => {
  const { envFlag, KafkaLoggerConfig } = require('../../dist/n8n/kafka-logger.config.js');
  const isConfigured = (env, core) => new KafkaLoggerConfig(env).isConfigured(core);
  for (const value of ['true', 'TRUE', ' True ']) assert.equal(envFlag({ X: value }, 'X'), true, value);
  for (const value of [undefined, '', 'false', '1', 'yes']) assert.equal(envFlag({ X: value }, 'X'), false, String(value));
  assert.equal(isConfigured({ N8N_KAFKA_LOGGER_ENABLED: 'TRUE', N8N_KAFKA_LOGGER_BROKERS: 'k:9092' }), true);
  // The fork logged to localhost:9092 without BROKERS: so do the core and the fallback rule.
  const { KafkaExecutionLogger } = require('../../index.js');
  assert.equal(isConfigured({ N8N_KAFKA_LOGGER_ENABLED: 'true' }, KafkaExecutionLogger), true);
  assert.equal(isConfigured({ N8N_KAFKA_LOGGER_ENABLED: 'true' }), true);
  assert.equal(isConfigured({ N8N_KAFKA_LOGGER_BROKERS: 'k:9092' }), false);
});

test('not configured: the reason names the N8N_KAFKA_LOGGER_* variables that are set, never their values', () => {
  const { KafkaLoggerConfig, ENV_HINT } = require('../../dist/n8n/kafka-logger.config.js');
  assert.equal(new KafkaLoggerConfig({ PATH: '/bin' }).notConfiguredReason(), ENV_HINT);
  const reason = new KafkaLoggerConfig({
    N8N_KAFKA_LOGGER_ENABLD: 'true',
    N8N_KAFKA_LOGGER_BROKERS: 'kafka-1:9092',
    N8N_KAFKA_LOGGER_SASL_PASSWORD: 'secret-value-1',
    N8N_KAFKA_LOGGER_TOPIC: ' ',
  }).notConfiguredReason();
  assert.match(reason, /3 N8N_KAFKA_LOGGER_\* variables are set \(N8N_KAFKA_LOGGER_BROKERS, N8N_KAFKA_LOGGER_ENABLD, N8N_KAFKA_LOGGER_SASL_PASSWORD\)/);
  assert.match(reason, /N8N_KAFKA_LOGGER_ENABLED is not set: a misspelt name\?/);
  assert.doesNotMatch(reason, /secret-value-1|kafka-1/);
  assert.match(new KafkaLoggerConfig({ N8N_KAFKA_LOGGER_ENABLED: 'yes' }).notConfiguredReason(), /ENABLED is not true/);
});
