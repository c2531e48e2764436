// The adapters' way into n8n proves itself: with n8n's lifecycle registry removed the runHook wrapper logs, with that gone too postExecute does, and with nothing left the process says so (and a real Prometheus with the suggested rules alerts).
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { assertExecution } from './helpers/expect.mjs';
import { cliOutcome, post, prepareN8n, startMain } from './helpers/harness.mjs';
import { kafkaUp, TopicReader, uniqueTopic } from './helpers/kafka.mjs';
import { PINNED } from '../../scripts/n8n/n8n-instance.mjs';
import { suggestedRulesFile } from '../../scripts/docs/alert-rules.mjs';
import { startPrometheus } from './helpers/servers.mjs';

/** Starts the pinned n8n on an overlay (scripts/n8n/overlay.mjs) and reads what its mechanism delivers. */
function overlayCase({ label, mode, overlays, mechanism, run }) {
  describe(`${label}: ${mode} entry on n8n ${PINNED()} with ${overlays.join(' + ')} removed`, () => {
    let ctx;
    let main;
    let topic;
    before(async () => {
      const brokers = await kafkaUp();
      topic = new TopicReader(uniqueTopic(label), brokers);
      ctx = await prepareN8n({ version: PINNED(), mode, overlays, topic: topic.topic, brokers });
      main = await startMain(ctx);
    });
    after(async () => {
      await ctx?.cleanup();
    });

    it(`wires ${mechanism}, and health, /metrics and the log say so`, async () => {
      const h = await (await fetch(`${main.p.url}/rest/kafka-logger/health`, { headers: { cookie: ctx.cookie } })).json();
      assert.equal(h.wiring.mechanism, mechanism, JSON.stringify(h.wiring));
      const metrics = await (await fetch(`${main.p.url}/metrics`)).text();
      assert.match(metrics, new RegExp(`^n8n_kafka_logger_wired\\{mechanism="${mechanism}"\\} ${mechanism === 'none' ? 0 : 1}$`, 'm'));
      if (mechanism === 'none') {
        assert.equal(h.status, 'unhealthy');
        assert.equal(h.lastError.kind, 'wiring');
        assert.match(h.lastError.message, /no execution is logged/);
        assert.match(h.lastError.at, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/, 'the wiring error has its time, as every lastError');
        assert.match(main.p.log, /\[kafka-logger\] NOT logging executions: no way into n8n's execution lifecycle could be wired \(lifecycle: .*; run-hook: .*\)/);
      } else {
        assert.equal(h.status, 'healthy');
        for (const removed of overlays.map((o) => o.replace(/^no/, ''))) assert.match(h.wiring.notUsed.join('\n'), new RegExp(`^${removed.replace('runhook', 'run-hook')}: `, 'm'));
        assert.match(main.p.log, /\[kafka-logger\] logging executions to Kafka through /);
      }
    });

    it(`a real Prometheus scraping /metrics with docs/operations.md's rules: ${mechanism === 'none' ? 'KafkaLoggerNotWired fires, alone' : 'no alert'}`, async () => {
      const prom = await startPrometheus({ target: new URL(main.p.url).host, rulesFile: suggestedRulesFile() });
      try {
        const wired = await prom.until(() => prom.query('n8n_kafka_logger_wired'), (r) => r.length > 0, 'a scrape of n8n_kafka_logger_wired');
        assert.deepEqual(wired.map((s) => [s.metric.mechanism, s.value[1]]), [[mechanism, mechanism === 'none' ? '0' : '1']]);
        const firing = (alerts) => alerts.filter((a) => a.state === 'firing').map((a) => a.labels.alertname);
        if (mechanism === 'none') {
          await prom.until(prom.alerts, (a) => firing(a).includes('KafkaLoggerNotWired'), 'KafkaLoggerNotWired firing');
        } else {
          await new Promise((r) => setTimeout(r, 3_000)); // three evaluations after the first scrape
        }
        const alerts = await prom.alerts();
        assert.deepEqual(alerts.map((a) => `${a.labels.alertname} ${a.state}`), mechanism === 'none' ? ['KafkaLoggerNotWired firing'] : []);
      } finally {
        await prom.stop();
      }
    });

    it('executions run as without the logger, and the events are what the mechanism can give', async () => run({ ctx, main, topic }));

    it('SIGTERM: n8n stops cleanly', async () => {
      const info = await main.p.stop('SIGTERM');
      assert.equal(info.code, 0, main.p.log.slice(-3000));
      await topic.assertNoMore();
    });
  });
}

overlayCase({
  label: 'no-lifecycle',
  mode: 'stock',
  overlays: ['nolifecycle'],
  mechanism: 'run-hook',
  async run({ ctx, main, topic }) {
    const r = await ctx.cli(['execute', '--id', 'klSuccess0000001']);
    assert.equal(cliOutcome(r), 'success');
    assertExecution(await topic.next(2), { workflowId: 'klSuccess0000001', names: ['Workflow Started', 'Workflow Completed'], mode: 'cli', status: 'success' });
    const ok = await post(main.p.url, '/webhook/kl-ok');
    assert.equal(ok.status, 200);
    assertExecution(await topic.next(2), { workflowId: 'klWebhookOk00001', names: ['Workflow Started', 'Workflow Completed'], mode: 'webhook', status: 'success' });
  },
});

overlayCase({
  label: 'no-lifecycle-no-runhook',
  mode: 'stock',
  overlays: ['nolifecycle', 'norunhook'],
  mechanism: 'post-execute',
  async run({ main, topic }) {
    const fail = await post(main.p.url, '/webhook/kl-fail');
    assert.equal(fail.status, 500);
    // postExecute: both events are sent when the execution ends, the start with the run's start time
    assertExecution(await topic.next(2), { workflowId: 'klWebhookFail001', names: ['Workflow Started', 'Workflow Failed'], mode: 'webhook', status: 'error' });
  },
});

overlayCase({
  label: 'fork-nothing-wired',
  mode: 'fork',
  overlays: ['nolifecycle', 'norunhook'],
  mechanism: 'none',
  async run({ main, topic }) {
    const ok = await post(main.p.url, '/webhook/kl-ok');
    assert.equal(ok.status, 200, 'n8n works on: the logger never breaks a workflow');
    assert.deepEqual(JSON.parse(ok.text), { ok: true });
    await topic.assertNoMore();
  },
});
