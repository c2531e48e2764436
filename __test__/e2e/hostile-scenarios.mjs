// Hostile workflow data leaves n8n's answers and execution status as they are without the logger; node events when
// enabled: a failing node's event, and a loop whose node runs several times (each run its index, every event its own
// messageId). One module, a file per n8n line: the adapters find the run index in what each line hands its hooks.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { publicApi } from '../../scripts/n8n/n8n-instance.mjs';
import { cliOutcome, post, prepareN8n, startMain } from './helpers/harness.mjs';
import { kafkaUp, ofWorkflow, TopicReader, uniqueTopic } from './helpers/kafka.mjs';

const CALLS = [
  ['/webhook/kl-hostile', 500],
  ['/webhook/kl-ok', 200],
  ['/webhook/kl-fail', 500],
];

async function answers(url) {
  const out = [];
  for (const [path] of CALLS) out.push(await post(url, path, { payload: '\u0000'.repeat(10) + 'x'.repeat(50_000) }));
  return out;
}

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

/** The node-event tests, for a suite whose `get()` returns { ctx, main, topic } of an n8n with node events on. */
function nodeEventTests(get) {
  it('node events name the node and the failing one carries the error', async () => {
    const { main, topic } = get();
    const fail = await post(main.p.url, '/webhook/kl-fail');
    assert.equal(fail.status, 500);
    // Workflow Started, Node Started/Completed (Webhook), Node Started/Failed (Code), Workflow Failed
    const events = await topic.next(6);
    assert.deepEqual(
      events.map((e) => e.event),
      ['Workflow Started', 'Node Started', 'Node Completed', 'Node Started', 'Node Failed', 'Workflow Failed'],
    );
    const failed = events.find((e) => e.event === 'Node Failed');
    assert.equal(failed.properties.node_name, 'Explode');
    assert.equal(failed.properties.node_type, 'n8n-nodes-base.code');
    assert.match(failed.properties.error_message, /boom from the code node/);
    for (const e of events) assert.equal(e.properties.execution_id, events[0].properties.execution_id);
  });

  it('a node that runs several times in one execution: each run its index, every event its own messageId', async () => {
    const { ctx, topic } = get();
    const r = await ctx.cli(['execute', '--id', 'klLoop0000000001']);
    assert.equal(cliOutcome(r), 'success');
    // Started and Completed, and a Node Started/Completed per run: Start 1, Three items 1, Loop 4 (3 batches, then done), Each 3
    const events = ofWorkflow(await topic.next(2 + 2 * 9), 'klLoop0000000001');
    assert.equal(events.length, 20);
    assert.equal(new Set(events.map((e) => e.messageId)).size, events.length, 'no two events share a messageId');
    const runs = (node, event) => events.filter((e) => e.properties.node_name === node && e.event === event).map((e) => e.properties.node_run_index);
    for (const [node, n] of [['Start', 1], ['Three items', 1], ['Loop', 4], ['Each', 3]]) {
      const expected = [...Array(n).keys()];
      assert.deepEqual(runs(node, 'Node Started'), expected, `${node} started`);
      assert.deepEqual(runs(node, 'Node Completed'), expected, `${node} completed`);
    }
    const ms = new Map();
    for (const e of events.filter((e) => e.properties.node_name === 'Each')) ms.set(e.timestamp, (ms.get(e.timestamp) ?? 0) + 1);
    console.log(`# loop: ${events.length} events, ${Math.max(...ms.values())} events of the node Each in its busiest millisecond`);
  });
}

/** The suite on `version` (stock hook file). */
export function hostileScenarios({ version, label }) {
  describe(`${label}: hostile data and node events on n8n ${version} (stock hook file)`, () => {
    let baseline;
    let ctx;
    let main;
    let topic;

    before(async () => {
      const plain = await prepareN8n({ version, mode: 'none' });
      try {
        const p = await startMain(plain);
        baseline = { answers: await answers(p.p.url), ms: [] };
        for (let i = 0; i < 10; i++) baseline.ms.push((await post(p.p.url, '/webhook/kl-ok')).ms);
      } finally {
        await plain.cleanup();
      }
      const brokers = await kafkaUp();
      topic = new TopicReader(uniqueTopic('hostile'), brokers);
      ctx = await prepareN8n({ version: version, topic: topic.topic, brokers, env: { N8N_KAFKA_LOGGER_NODE_EVENTS: 'true' } });
      main = await startMain(ctx);
    });

    after(async () => {
      await ctx?.cleanup();
    });

    it('webhook answers and execution status are the same as without the logger', async () => {
      const got = await answers(main.p.url);
      for (let i = 0; i < CALLS.length; i++) {
        assert.equal(got[i].status, CALLS[i][1], CALLS[i][0]);
        assert.equal(got[i].status, baseline.answers[i].status, `${CALLS[i][0]} status as without the logger`);
        assert.equal(got[i].text, baseline.answers[i].text, `${CALLS[i][0]} body as without the logger`);
      }
      // hostile: Started, Node Started/Completed (Webhook), Node Started/Failed (Code), Failed; ok: 2 + 4 nodes; fail: 2 + 4 nodes
      const events = await topic.next(6 + 6 + 6);
      const hostile = ofWorkflow(events, 'klHostile0000001');
      assert.deepEqual(hostile.map((e) => e.event), ['Workflow Started', 'Node Started', 'Node Completed', 'Node Started', 'Node Failed', 'Workflow Failed']);
      for (const e of events) assert.ok(Buffer.byteLength(JSON.stringify(e)) < 32 * 1024, `${e.event} under 32 KB`);
      const id = hostile[0].properties.execution_id;
      const exec = await publicApi(main.p.url, ctx.apiKey, 'GET', `/executions/${id}`);
      assert.equal(exec.json.status, 'error', 'n8n stored the execution as it ran');
      const ok = ofWorkflow(events, 'klWebhookOk00001');
      assert.deepEqual(ok.map((e) => e.event), ['Workflow Started', 'Node Started', 'Node Completed', 'Node Started', 'Node Completed', 'Workflow Completed']);
      const okExec = await publicApi(main.p.url, ctx.apiKey, 'GET', `/executions/${ok[0].properties.execution_id}`);
      assert.equal(okExec.json.status, 'success');
    });

    nodeEventTests(() => ({ ctx, main, topic }));

    it('webhook latency with the logger (reported, not asserted)', async () => {
      const ms = [];
      for (let i = 0; i < 10; i++) ms.push((await post(main.p.url, '/webhook/kl-ok')).ms);
      await topic.next(60);
      console.log(`# webhook kl-ok median: ${median(baseline.ms)} ms without the logger, ${median(ms)} ms with it (node events on)`);
      assert.equal((await main.p.stop()).code, 0);
      await topic.assertNoMore();
    });
  });
}
