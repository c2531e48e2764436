// Queue mode (main + worker + real Redis and PostgreSQL) on one n8n variant: exactly one start and one end event per execution across all processes.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { freePort } from '../../scripts/n8n/n8n-instance.mjs';
import { byExecution, kafkaUp, TopicReader, uniqueTopic } from './helpers/kafka.mjs';
import { cliOutcome, post, prepareN8n, retryExecution, startMain } from './helpers/harness.mjs';
import { startPostgres, startRedis } from './helpers/servers.mjs';

export function queueScenarios({ version, label }) {
describe(`${label}: queue mode on n8n ${version}, main + worker + Redis + PostgreSQL (stock hook file)`, () => {
  let redis;
  let postgres;
  let ctx;
  let main;
  let worker;
  let workerHealthPort;
  let topic;

  before(async () => {
    const brokers = await kafkaUp();
    redis = await startRedis();
    postgres = await startPostgres();
    topic = new TopicReader(uniqueTopic(label), brokers);
    // n8n's scaling mode: the main and its workers share one PostgreSQL database and one Redis queue
    const queueEnv = { EXECUTIONS_MODE: 'queue', ...redis.env, ...postgres.env };
    ctx = await prepareN8n({ version, topic: topic.topic, brokers, env: queueEnv });
    main = await startMain(ctx);
    workerHealthPort = await freePort();
    worker = ctx.start(['worker', '--concurrency=10'], {
      N8N_RUNNERS_BROKER_PORT: String(await freePort()),
      QUEUE_HEALTH_CHECK_ACTIVE: 'true',
      QUEUE_HEALTH_CHECK_PORT: String(workerHealthPort),
    });
    await worker.waitFor(async () => (await fetch(`http://127.0.0.1:${workerHealthPort}/healthz`)).status === 200, 'worker health');
  });

  /**
   * n8n's own race, not this package's: the main waits for a job with Bull's Job.finished(), and n8n removes a job the
   * moment it completes, so a job a worker finished before the main began waiting is never seen as finished and its
   * webhook or retry is never answered (4 and 7 of 40 webhooks on a loaded host with n8n 1.104.2 and 2.8.4, a hung
   * retry in CI; docs/operations.md). So the main queues with the worker paused, and the worker comes back to a backlog.
   *
   * Runs `send()` with the worker stopped until the main has logged `count` more "Enqueued execution" lines (or
   * `send()` settled without queueing them), then lets the worker go on; resolves to what `send()` resolved to.
   */
  async function whileWorkerPaused(count, send) {
    const enqueuedLines = () => (main.p.log.match(/Enqueued execution/g) ?? []).length;
    const enqueued = enqueuedLines() + count;
    worker.child.kill('SIGSTOP');
    try {
      let settled = false;
      const sent = send().finally(() => (settled = true));
      await main.p.waitFor(async () => settled || enqueuedLines() >= enqueued, `${count} executions enqueued`, 60_000);
      await new Promise((r) => setTimeout(r, 1_000));
      worker.child.kill('SIGCONT');
      return await sent;
    } finally {
      worker.child.kill('SIGCONT');
    }
  }

  after(async () => {
    await ctx?.cleanup();
    redis?.stop();
    await postgres?.stop();
  });

  it('50+ mixed executions: one start and one end each, workers report what they run', async () => {
    const answers = await whileWorkerPaused(40, () => {
      const results = [];
      for (let i = 0; i < 25; i++) results.push(post(main.p.url, '/webhook/kl-ok'));
      for (let i = 0; i < 15; i++) results.push(post(main.p.url, '/webhook/kl-fail'));
      let timer;
      const unanswered = new Promise((_, reject) => {
        timer = setTimeout(() => reject(new Error(`webhooks unanswered after 180 s\nmain:\n${main.p.log.slice(-3000)}\nworker:\n${worker.log.slice(-3000)}`)), 180_000);
      });
      return Promise.race([Promise.all(results), unanswered]).finally(() => clearTimeout(timer));
    });
    assert.equal(answers.filter((a) => a.status === 200).length, 25);
    assert.equal(answers.filter((a) => a.status === 500).length, 15);
    const webhookEvents = await topic.next(80, 120_000);
    const failed = [...byExecution(webhookEvents).entries()].filter(([, evs]) => evs.some((e) => e.event === 'Workflow Failed')).map(([id]) => id);
    const retried = await whileWorkerPaused(5, () =>
      Promise.all(failed.slice(0, 5).map(async (id) => {
        const r = await retryExecution(ctx, main.p.url, id);
        return { status: r.status, text: await r.text() };
      })),
    );
    for (const r of retried) assert.equal(r.status, 200, r.text);
    for (const id of ['klSuccess0000001', 'klSuccess0000001', 'klSuccess0000001', 'klSubParent00001', 'klSubParent00001']) {
      const r = await ctx.cli(['execute', '--id', id], { EXECUTIONS_MODE: 'queue' });
      assert.equal(cliOutcome(r), 'success', r.output.slice(-2000));
    }
    const rest = await topic.next(10 + 6 + 8, 120_000);
    const all = [...webhookEvents, ...rest];
    const executions = byExecution(all);
    assert.equal(executions.size, 25 + 15 + 5 + 3 + 2 * 2, 'executions');
    for (const [id, evs] of executions) {
      const starts = evs.filter((e) => e.event === 'Workflow Started');
      const ends = evs.filter((e) => e.event !== 'Workflow Started');
      assert.equal(starts.length, 1, `one start for ${id}: ${evs.map((e) => e.event)}`);
      assert.equal(ends.length, 1, `one end for ${id}: ${evs.map((e) => e.event)}`);
      const mode = starts[0].dimensions.execution_mode;
      const expectedType = ['webhook', 'retry'].includes(mode) ? 'worker' : 'main';
      for (const e of evs) assert.equal(e.dimensions.instance_type, expectedType, `${mode} execution ${id} reported by the ${expectedType}`);
    }
    const retries = all.filter((e) => e.dimensions.execution_mode === 'retry' && e.event !== 'Workflow Started');
    assert.equal(retries.length, 5);
    for (const e of retries) assert.ok(failed.includes(e.properties.retry_of), 'retry_of names a failed execution');
    await topic.assertNoMore(6_000);
  });

  it('the worker exposes its logger metrics on its /metrics', async () => {
    const text = await (await fetch(`http://127.0.0.1:${workerHealthPort}/metrics`)).text();
    assert.match(text, /^n8n_kafka_logger_events_total\{event="started",outcome="accepted"\} 45$/m);
    assert.match(text, /^n8n_kafka_logger_queue_depth \d+/m);
  });

  it('SIGTERM stops worker and main cleanly', async () => {
    assert.equal((await worker.stop()).code, 0, worker.log.slice(-3000));
    assert.equal((await main.p.stop()).code, 0, main.p.log.slice(-3000));
    await topic.assertNoMore();
  });
});
}
