// The swap a fork operator makes, end to end: the fork module on n8n 1.104.2 with an environment from the fork's own docs, MESSAGE_FORMAT=fork, and a consumer of the fork's format reading every record.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import { FORK_BASE, publicApi } from '../../scripts/n8n/n8n-instance.mjs';
import { consume } from '../helpers/broker.mjs';
import { checkForkRecord } from '../helpers/fork-consumer.mjs';
import { assertExecution } from './helpers/expect.mjs';
import { cliOutcome, post, prepareN8n, startMain } from './helpers/harness.mjs';
import { kafkaUp, TopicReader, uniqueTopic } from './helpers/kafka.mjs';

const ENVIRONMENTS = JSON.parse(readFileSync(new URL('../fixtures/fork/environments.json', import.meta.url), 'utf8')).environments;
const DOC_ENV = ENVIRONMENTS.find((e) => e.name === 'docs/kafka-env-configuration.md: Basic Configuration').env;

describe(`fork swap: the fork module on n8n ${FORK_BASE()} with the fork's documented environment and its message format`, () => {
  let ctx;
  let main;
  let topic;

  before(async () => {
    const brokers = await kafkaUp();
    topic = new TopicReader(uniqueTopic('fork-swap'), brokers);
    // the fork's example, with its placeholders pointed at the test broker and a fresh topic; nothing else added
    const env = { ...DOC_ENV, N8N_KAFKA_LOGGER_BROKERS: brokers, N8N_KAFKA_LOGGER_TOPIC: topic.topic, N8N_KAFKA_LOGGER_MESSAGE_FORMAT: 'fork', N8N_KAFKA_LOGGER_KEY: 'message' };
    ctx = await prepareN8n({ version: FORK_BASE(), mode: 'fork', env });
    main = await startMain(ctx);
  });

  after(async () => {
    await ctx?.cleanup();
  });

  it('CLI, webhook success and failure, and a Wait: every record reads as the fork wrote it, keyed by its messageId', async () => {
    assert.equal(cliOutcome(await ctx.cli(['execute', '--id', 'klSuccess0000001'])), 'success');
    assert.equal((await post(main.p.url, '/webhook/kl-ok')).status, 200);
    assert.equal((await post(main.p.url, '/webhook/kl-fail')).status, 500);
    const wait = await post(main.p.url, '/webhook/kl-wait');
    assert.equal(wait.status, 200);
    const events = await topic.next(8);
    assertExecution(events.slice(0, 2), { workflowId: 'klSuccess0000001', names: ['Workflow Started', 'Workflow Completed'], mode: 'cli', status: 'success', key: 'messageId' });
    const { resumeUrl } = JSON.parse(wait.text);
    assert.equal((await post(resumeUrl.replace(/^https?:\/\/[^/]+/, main.p.url), '')).status, 200);
    await topic.next(2);
    const records = await consume({ brokers: topic.brokers, topic: topic.topic, count: topic.total });
    assert.equal(records.length, 10);
    assert.deepEqual(records.map((r) => r.value.event).sort(), ['Workflow Completed', 'Workflow Completed', 'Workflow Completed', 'Workflow Failed', 'Workflow Resumed', 'Workflow Started', 'Workflow Started', 'Workflow Started', 'Workflow Started', 'Workflow Waiting'].sort());
    for (const r of records) {
      assert.deepEqual(checkForkRecord(r.raw), [], `${r.value.event}: ${r.raw}`);
      assert.equal(r.key, r.value.messageId, 'KEY=message: the record key is the messageId');
    }
  });

  it("a Schedule Trigger's runs read trigger_type schedule, as the fork wrote it", async () => {
    const activate = async (active) => {
      const r = await publicApi(main.p.url, ctx.apiKey, 'POST', `/workflows/klSchedule000001/${active ? 'activate' : 'deactivate'}`);
      assert.equal(r.status, 200, r.text);
    };
    await activate(true);
    const first = await topic.next(2, 30_000);
    await activate(false);
    await new Promise((r) => setTimeout(r, 3_000)); // runs begun before the deactivation end
    const events = [...first, ...(await topic.rest())];
    assert.ok(events.length >= 2);
    for (const e of events) {
      assert.equal(e.properties.workflow_id, 'klSchedule000001');
      assert.equal(e.dimensions.trigger_type, 'schedule', `${e.event}: ${JSON.stringify(e.dimensions)}`);
      assert.deepEqual(checkForkRecord(e), [], e.event);
    }
  });

  it('SIGTERM: n8n stops cleanly', async () => {
    assert.equal((await main.p.stop('SIGTERM')).code, 0, main.p.log.slice(-3000));
    await topic.assertNoMore();
  });
});
