// Hostile workflow data leaves n8n's answers and execution status as they are without the logger; node events when enabled.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { PINNED, publicApi } from '../../scripts/n8n/n8n-instance.mjs';
import { post, prepareN8n, startMain } from './helpers/harness.mjs';
import { kafkaUp, ofWorkflow, TopicReader, uniqueTopic } from './helpers/kafka.mjs';
import { nodeEventTests } from './node-events-scenarios.mjs';

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

describe('hostile data and node events (stock hook file, n8n pinned)', () => {
  let baseline;
  let ctx;
  let main;
  let topic;

  before(async () => {
    const plain = await prepareN8n({ version: PINNED(), mode: 'none' });
    try {
      const p = await startMain(plain);
      baseline = { answers: await answers(p.p.url), ms: [] };
      for (let i = 0; i < 10; i++) baseline.ms.push((await post(p.p.url, '/webhook/kl-ok')).ms);
    } finally {
      await plain.cleanup();
    }
    const brokers = await kafkaUp();
    topic = new TopicReader(uniqueTopic('hostile'), brokers);
    ctx = await prepareN8n({ version: PINNED(), topic: topic.topic, brokers, env: { N8N_KAFKA_LOGGER_NODE_EVENTS: 'true' } });
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
