// Hook file loaded but Kafka not configured: one warning naming the variables, no route, no errors, n8n works as before.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { PINNED } from '../../scripts/n8n/n8n-instance.mjs';
import { post, prepareN8n, startMain } from './helpers/harness.mjs';
import { SECRETS } from '../helpers/secrets.mjs';

describe('Kafka not configured (stock hook file)', () => {
  let ctx;
  let main;

  before(async () => {
    ctx = await prepareN8n({ version: PINNED(), mode: 'stock' }); // no topic: N8N_KAFKA_LOGGER_ENABLED unset
    main = await startMain(ctx);
  });

  after(async () => {
    await ctx?.cleanup();
  });

  it('logs one warning naming the variables to set, and nothing else from the logger', async () => {
    const warnings = main.p.log.split('\n').filter((l) => l.includes('[kafka-logger]'));
    assert.equal(warnings.length, 1, warnings.join('\n'));
    assert.match(warnings[0], /not configured/);
    assert.match(warnings[0], /N8N_KAFKA_LOGGER_ENABLED=true/);
    assert.match(warnings[0], /N8N_KAFKA_LOGGER_BROKERS/);
  });

  it('adds no route and no metrics', async () => {
    const res = await fetch(`${main.p.url}/rest/kafka-logger/health`, { headers: { authorization: `Bearer ${SECRETS.HEALTH_TOKEN}` } });
    // n8n's own answer for a path nothing serves; a 500 would be a route that exists and breaks
    assert.equal(res.status, 404);
    const metrics = await (await fetch(`${main.p.url}/metrics`)).text();
    assert.doesNotMatch(metrics, /n8n_kafka_logger_/);
  });

  it('executions and webhooks behave as without the package', async () => {
    const ok = await post(main.p.url, '/webhook/kl-ok');
    assert.equal(ok.status, 200);
    assert.deepEqual(JSON.parse(ok.text), { ok: true });
    const fail = await post(main.p.url, '/webhook/kl-fail');
    assert.equal(fail.status, 500);
    const cli = await ctx.cli(['execute', '--id', 'klSuccess0000001']);
    assert.equal(cli.code, 0);
    assert.equal(cli.output.split('\n').filter((l) => l.includes('[kafka-logger]')).length, 1, 'the CLI process warns once too');
    const info = await main.p.stop();
    assert.equal(info.code, 0);
    assert.doesNotMatch(main.p.log, /Problem loading external hook file|kafka-logger\].*(error|failed)/i);
  });
});
