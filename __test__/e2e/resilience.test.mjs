// n8n killed mid-execution, n8n started while Kafka is down, SIGTERM with executions in flight: no event lost, n8n unharmed.
import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { PINNED } from '../../scripts/n8n/n8n-instance.mjs';
import { assertExecution } from './helpers/expect.mjs';
import { post, prepareN8n, startMain } from './helpers/harness.mjs';
import { kafkaUp, ofWorkflow, spareBroker as broker, TopicReader, uniqueTopic } from './helpers/kafka.mjs';
import { privatePortBase } from '../helpers/broker.mjs';
import { SECRETS } from '../helpers/secrets.mjs';

/** A second broker of our own, on other ports, so stopping it disturbs no other test. */
const SPARE_BASE = privatePortBase(200); // beside the shared broker, on ports of its own
const spareBroker = (cmd) => broker(SPARE_BASE, cmd);

describe('resilience (stock hook file, n8n pinned)', () => {
  const cleanups = [];
  after(async () => {
    for (const c of cleanups.reverse()) await c();
  });

  it('kill -9 during an execution, restart: the crashed execution gets its end event', async () => {
    const brokers = await kafkaUp();
    const topic = new TopicReader(uniqueTopic('crash'), brokers);
    const ctx = await prepareN8n({ version: PINNED(), topic: topic.topic, brokers });
    cleanups.push(() => ctx.cleanup());
    const first = await startMain(ctx);
    assert.equal((await post(first.p.url, '/webhook/kl-slow')).status, 200);
    const [started] = await topic.next(1);
    await first.p.kill9();
    const second = await startMain(ctx);
    const [end] = await topic.next(1, 90_000);
    assertExecution([started, end], { workflowId: 'klSlow0000000001', names: ['Workflow Started', 'Workflow Failed'], mode: 'webhook', status: 'crashed' });
    assert.equal(end.properties.error_node_name, 'Sleep', 'the node that was running when n8n died');
    await second.p.stop();
    await topic.assertNoMore();
  });

  it('n8n started while Kafka is down starts normally; the events arrive once Kafka is up', async () => {
    spareBroker('stop');
    const brokers = `127.0.0.1:${SPARE_BASE}`;
    const topic = new TopicReader(uniqueTopic('down'), brokers);
    const ctx = await prepareN8n({
      version: PINNED(), topic: topic.topic, brokers,
      env: { N8N_KAFKA_LOGGER_CB_RESET_TIMEOUT: '2000', N8N_KAFKA_LOGGER_TIMEOUT_CONNECT: '2000' },
    });
    cleanups.push(() => ctx.cleanup());
    cleanups.push(() => spareBroker('stop'));
    const main = await startMain(ctx);
    console.log(`# n8n ready in ${main.readyMs} ms with Kafka down`);
    const ok = await post(main.p.url, '/webhook/kl-ok');
    assert.equal(ok.status, 200);
    assert.deepEqual(JSON.parse(ok.text), { ok: true });
    const fail = await post(main.p.url, '/webhook/kl-fail');
    assert.equal(fail.status, 500);
    const h = await (await fetch(`${main.p.url}/rest/kafka-logger/health`, { headers: { authorization: `Bearer ${SECRETS.HEALTH_TOKEN}` } })).json();
    assert.equal(h.counters.delivered, 0);
    assert.equal(h.counters.accepted, 4);
    spareBroker('start');
    const events = await topic.next(4, 120_000);
    assertExecution(ofWorkflow(events, 'klWebhookOk00001'), { workflowId: 'klWebhookOk00001', names: ['Workflow Started', 'Workflow Completed'], status: 'success' });
    assertExecution(ofWorkflow(events, 'klWebhookFail001'), { workflowId: 'klWebhookFail001', names: ['Workflow Started', 'Workflow Failed'], status: 'error' });
    assert.equal((await main.p.stop()).code, 0);
    await topic.assertNoMore();
  });

  it('SIGTERM with executions in flight: they finish and every event is delivered before exit', async () => {
    const brokers = await kafkaUp();
    const topic = new TopicReader(uniqueTopic('sigterm'), brokers);
    const ctx = await prepareN8n({ version: PINNED(), topic: topic.topic, brokers });
    cleanups.push(() => ctx.cleanup());
    const main = await startMain(ctx);
    for (let i = 0; i < 3; i++) assert.equal((await post(main.p.url, '/webhook/kl-slow')).status, 200);
    const quick = await Promise.all(Array.from({ length: 5 }, () => post(main.p.url, '/webhook/kl-ok')));
    for (const q of quick) assert.equal(q.status, 200);
    const stopped = main.p.stop('SIGTERM');
    const info = await stopped;
    assert.equal(info.code, 0, main.p.log.slice(-3000));
    const events = await topic.next(16, 30_000);
    const ends = events.filter((e) => e.event !== 'Workflow Started');
    assert.equal(ends.length, 8);
    assert.equal(ends.filter((e) => e.properties.workflow_id === 'klSlow0000000001' && e.event === 'Workflow Completed').length, 3);
    assert.equal(new Set(events.map((e) => e.properties.execution_id)).size, 8);
    await topic.assertNoMore();
  });
});
