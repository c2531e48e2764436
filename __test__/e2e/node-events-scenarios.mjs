// Node events (N8N_KAFKA_LOGGER_NODE_EVENTS=true) with a real n8n: the failing node's event, and a loop whose node
// runs several times in one execution (each run its index, every event its own messageId). One module, a file per
// n8n line, because the adapters find the run index in what each line hands its hooks.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { cliOutcome, post, prepareN8n, startMain } from './helpers/harness.mjs';
import { kafkaUp, ofWorkflow, TopicReader, uniqueTopic } from './helpers/kafka.mjs';

/** The node-event tests, for a suite whose `get()` returns { ctx, main, topic } of an n8n with node events on. */
export function nodeEventTests(get) {
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

/** A suite of its own on `version` (stock hook file): node events on, the tests above, then a clean stop. */
export function nodeEventsScenarios({ version, label }) {
  describe(`${label}: node events on n8n ${version} (stock hook file)`, () => {
    const s = {};

    before(async () => {
      const brokers = await kafkaUp();
      s.topic = new TopicReader(uniqueTopic(label), brokers);
      s.ctx = await prepareN8n({ version, topic: s.topic.topic, brokers, env: { N8N_KAFKA_LOGGER_NODE_EVENTS: 'true' } });
      s.main = await startMain(s.ctx);
    });

    after(async () => {
      await s.ctx?.cleanup();
    });

    nodeEventTests(() => s);

    it('stops cleanly with nothing more on the topic', async () => {
      assert.equal((await s.main.p.stop()).code, 0);
      await s.topic.assertNoMore();
    });
  });
}
