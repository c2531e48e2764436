// n8n's own Kafka node produces to the same broker while the logger runs in the same process: both deliver, nothing crashes (1.x and newest 2.x).
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import { FORK_BASE, LATEST, publicApi } from '../../scripts/n8n/n8n-instance.mjs';
import { consume, createTopic } from '../helpers/broker.mjs';
import { assertExecution } from './helpers/expect.mjs';
import { post, prepareN8n, startMain, waitForWebhook } from './helpers/harness.mjs';
import { byExecution, kafkaUp, TopicReader, uniqueTopic } from './helpers/kafka.mjs';

const WORKFLOW = 'klKafkaNode00001'; // __test__/fixtures/workflows/kafka-node.json
const WEBHOOK = 'kl-kafka-node';
const RUNS = 10;

/**
 * The client behind each version of n8n's Kafka node (n8n-nodes-base/dist/nodes/Kafka): v1 is kafkajs (pure
 * JavaScript) on every n8n; v2 (2.x, opt-in beta) is @confluentinc/kafka-javascript, whose native binding loads its
 * own librdkafka.so next to the one linked into this package's addon. `mapped`: what the n8n process must have
 * loaded once that version ran (its /proc/<pid>/maps), so the test proves the two clients really shared it.
 */
const KAFKA_NODE = {
  1: { client: 'kafkajs', mapped: [] },
  2: { client: '@confluentinc/kafka-javascript', mapped: [/\/confluent-kafka-javascript\.node$/, /\/librdkafka\.so[.\d]*$/] },
};
const ADDON_MAPPED = /\/kafka-execution-logger\.[^/]+\.node$/;

/**
 * The files mapped into process `pid` (its /proc/<pid>/maps). A file replaced on disk since it was loaded (a test
 * elsewhere restaging the package into the same n8n install) stays mapped, listed as "<path> (deleted)".
 */
function mappedFiles(pid) {
  const lines = readFileSync(`/proc/${pid}/maps`, 'utf8').split('\n');
  return [...new Set(lines.map((l) => l.split(/\s+/).slice(5).join(' ').replace(/ \(deleted\)$/, '')).filter((f) => f.startsWith('/')))];
}

/** Crash signs in n8n's output and any logger line that reports trouble (rather than its start and stop). */
const CRASHED = /Segmentation|SIGSEGV|SIGABRT|SIGBUS|core dumped|double free|stack smashing/;
const LOGGER_TROUBLE = /\[kafka-logger\][^\n]*(error|fail|skipped|could not|disabled|not added|NOT logging|dropped [1-9])/i;

/** A Kafka credential for the broker, created the way the editor does it (REST API, owner session); returns its id. */
async function createKafkaCredential(url, cookie, brokers) {
  const res = await fetch(`${url}/rest/credentials`, {
    method: 'POST',
    headers: { cookie, 'content-type': 'application/json' },
    body: JSON.stringify({
      name: 'KL e2e broker',
      type: 'kafka',
      data: { clientId: `kl-e2e-kafka-node-${randomBytes(3).toString('hex')}`, brokers, ssl: false, authentication: false },
    }),
  });
  const text = await res.text();
  assert.equal(res.status, 200, `create the kafka credential: ${text}`);
  const { data } = JSON.parse(text);
  assert.ok(data?.id, `credential id in ${text}`);
  return { id: String(data.id), name: data.name };
}

/** Points the fixture's Kafka node (at `typeVersion`) at `topic` with the credential, and publishes the workflow. */
async function useKafkaNode(url, apiKey, { typeVersion, topic, credential }) {
  const deactivate = await publicApi(url, apiKey, 'POST', `/workflows/${WORKFLOW}/deactivate`);
  assert.equal(deactivate.status, 200, `deactivate ${WORKFLOW}: ${deactivate.text}`);
  const got = await publicApi(url, apiKey, 'GET', `/workflows/${WORKFLOW}`);
  assert.equal(got.status, 200, got.text);
  const { name, nodes, connections, settings } = got.json;
  const kafka = nodes.find((n) => n.type === 'n8n-nodes-base.kafka');
  assert.ok(kafka, `the fixture ${WORKFLOW} has a Kafka node`);
  Object.assign(kafka, { typeVersion, credentials: { kafka: credential }, parameters: { ...kafka.parameters, topic } });
  const put = await publicApi(url, apiKey, 'PUT', `/workflows/${WORKFLOW}`, { name, nodes, connections, settings: { executionOrder: settings?.executionOrder ?? 'v1' } });
  assert.equal(put.status, 200, `update ${WORKFLOW}: ${put.text}`);
  const activate = await publicApi(url, apiKey, 'POST', `/workflows/${WORKFLOW}/activate`);
  assert.equal(activate.status, 200, `activate ${WORKFLOW}: ${activate.text}`);
  await waitForWebhook(url, WEBHOOK);
}

/** The versions of the Kafka node this n8n offers (its node-types list). */
async function kafkaNodeVersions(url, cookie) {
  const res = await fetch(`${url}/types/nodes.json`, { headers: { cookie } });
  assert.equal(res.status, 200);
  const versions = (await res.json()).filter((t) => t.name === 'n8n-nodes-base.kafka').flatMap((t) => [t.version].flat());
  return [...new Set(versions)].sort((a, b) => a - b);
}

/** `kafkaNodes`: the Kafka node versions that n8n offers (KAFKA_NODE keys); a run fails when n8n offers others. */
function besideKafkaNode({ version, label, kafkaNodes }) {
  describe(`${label}: n8n ${version} (stock hook file) beside n8n's own Kafka node`, () => {
    let ctx;
    let main;
    let topic;
    let brokers;
    let credential;
    let nodeVersions;
    /** The Kafka node's topic per version, made before n8n starts: createTopic blocks this process for seconds,
     * long enough for n8n to close an idle keep-alive connection that fetch would then reuse ("fetch failed"). */
    const nodeTopics = {};

    before(async () => {
      const t0 = Date.now();
      brokers = await kafkaUp();
      for (const v of kafkaNodes) {
        nodeTopics[v] = uniqueTopic(`${label}-kafka-node-v${v}-out`);
        createTopic(nodeTopics[v], 1);
      }
      topic = new TopicReader(uniqueTopic(`${label}-kafka-node`), brokers);
      ctx = await prepareN8n({ version, mode: 'stock', topic: topic.topic, brokers });
      main = await startMain(ctx);
      credential = await createKafkaCredential(main.p.url, ctx.cookie, brokers);
      nodeVersions = await kafkaNodeVersions(main.p.url, ctx.cookie);
      console.log(`# ${label}: n8n ready in ${main.readyMs} ms, setup ${Date.now() - t0} ms; Kafka node versions ${nodeVersions.join(', ')}`);
    });

    after(async () => {
      await ctx?.cleanup();
    });

    it(`n8n offers exactly the Kafka node versions ${kafkaNodes.join(', ')} (each one is run below)`, () => {
      assert.deepEqual(nodeVersions, kafkaNodes);
    });

    for (const typeVersion of kafkaNodes) {
      const { client, mapped } = KAFKA_NODE[typeVersion];
      it(`Kafka node v${typeVersion} (${client}): ${RUNS} webhook runs in a row, each message in its topic and each execution's events in the logger's`, async () => {
        const nodeTopic = nodeTopics[typeVersion];
        await useKafkaNode(main.p.url, ctx.apiKey, { typeVersion, topic: nodeTopic, credential });

        const markers = [];
        const times = [];
        for (let i = 0; i < RUNS; i++) {
          const marker = `kl-kafka-node-v${typeVersion}-${i}-${randomBytes(6).toString('hex')}`;
          const r = await post(main.p.url, `/webhook/${WEBHOOK}`, { marker });
          assert.equal(r.status, 200, `run ${i}: ${r.text}`);
          assert.equal(JSON.parse(r.text).topicName, nodeTopic, `run ${i}: the Kafka node's answer names its topic: ${r.text}`);
          markers.push(marker);
          times.push(r.ms);
        }
        console.log(`# ${label}: Kafka node v${typeVersion} webhook runs ${times.join(', ')} ms`);

        // The Kafka node's side: exactly one message per run, in order, key and value carrying the run's marker.
        await consume({ brokers, topic: nodeTopic, count: RUNS, timeoutMs: 60_000 });
        const records = await consume({ brokers, topic: nodeTopic, timeoutMs: 15_000 });
        assert.deepEqual(records.map((r) => r.key), markers, 'message keys');
        assert.deepEqual(records.map((r) => r.value), markers.map((marker) => ({ marker })), 'message values');

        // The logger's side: a start and an end event for each of these executions, nothing else.
        const events = await topic.next(2 * RUNS);
        const runs = byExecution(events);
        assert.equal(runs.size, RUNS, 'one execution per run');
        for (const evs of runs.values()) {
          assertExecution(evs, { workflowId: WORKFLOW, names: ['Workflow Started', 'Workflow Completed'], mode: 'webhook', status: 'success' });
        }

        const files = mappedFiles(main.p.child.pid);
        const native = files.filter((f) => /\.(node|so[.\d]*)$/.test(f)).join('\n');
        assert.ok(files.some((f) => ADDON_MAPPED.test(f)), `this package's addon is loaded in n8n's process:\n${native}`);
        for (const re of mapped) assert.ok(files.some((f) => re.test(f)), `${client} (${re}) is loaded in the same process:\n${native}`);
      });
    }

    it('the logger delivered every event of this process and is healthy', async () => {
      const res = await fetch(`${main.p.url}/rest/kafka-logger/health`, { headers: { cookie: ctx.cookie } });
      assert.equal(res.status, 200);
      const h = await res.json();
      assert.equal(h.status, 'healthy', JSON.stringify(h));
      assert.equal(h.counters.delivered, topic.total, JSON.stringify(h.counters));
      assert.equal(h.counters.accepted, topic.total, JSON.stringify(h.counters));
    });

    it('SIGTERM: n8n exits 0, nothing crashed, the logger reported no trouble', async () => {
      const info = await main.p.stop('SIGTERM');
      const tail = main.p.log.slice(-4000);
      assert.deepEqual(info, { code: 0, signal: null }, tail);
      assert.doesNotMatch(main.p.log, CRASHED, tail);
      const trouble = main.p.log.match(LOGGER_TROUBLE);
      assert.equal(trouble, null, `logger trouble: ${trouble?.[0]}`);
      assert.match(main.p.log, /\[kafka-logger\] stopped: \d+ delivered, 0 pending, 0 dropped/, tail); // delivered: in the final drain
      await topic.assertNoMore();
    });
  });
}

besideKafkaNode({ version: FORK_BASE(), label: 'fork-base', kafkaNodes: [1] });
besideKafkaNode({ version: LATEST(), label: 'latest', kafkaNodes: [1, 2] });
