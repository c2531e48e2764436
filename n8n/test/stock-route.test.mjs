// The stock health route on a real Express app with n8n's own express-rate-limit (from the pinned n8n install), and
// the HEALTH_TOKEN rules. n8n's session middleware itself runs in the e2e suites, on every n8n line.
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { createRequire } from 'node:module';
import { test } from 'node:test';
import { paths, PINNED } from '../../scripts/n8n/n8n-instance.mjs';

const require = createRequire(import.meta.url);
const { installStockRoute, n8nAuthMiddleware } = require('../../dist/n8n/stock-route.js');
const { HEALTH_RATE_LIMIT } = require('../../dist/n8n/health.js');
const { KafkaLoggerConfig } = require('../../dist/n8n/kafka-logger.config.js');

const n8nRequire = createRequire(`${paths(PINNED()).dir}/node_modules/n8n/package.json`);
const TOKEN = 'a-health-token-of-32-characters!';

/** An N8nHost over the pinned n8n's modules, with the given DI services. */
function host(services = {}) {
  return {
    require: (id) => n8nRequire(id),
    service: (_module, name) => services[name],
    version: () => 'test',
    instanceId: () => 'i',
    instanceType: () => 'main',
  };
}

const runtime = { snapshot: () => ({ status: 'healthy', circuitBreaker: { state: 'closed' } }) };

async function serve(h, token) {
  const express = n8nRequire('express');
  const app = express();
  const warnings = [];
  const path = installStockRoute(app, h, runtime, token, { warn: (m) => warnings.push(m) });
  const server = app.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return { url: `http://127.0.0.1:${server.address().port}${path}`, warnings, close: () => server.close() };
}

test('the route answers the bearer token, and a client over the rate limit gets 429', async (t) => {
  const s = await serve(host(), TOKEN);
  t.after(s.close);
  const auth = { authorization: `Bearer ${TOKEN}` };
  const first = await fetch(s.url, { headers: auth });
  assert.equal(first.status, 200);
  assert.equal((await first.json()).status, 'healthy');
  assert.match(first.headers.get('ratelimit-policy'), new RegExp(`^${HEALTH_RATE_LIMIT};w=60`));
  assert.equal((await fetch(s.url, { headers: { authorization: 'Bearer wrong-token-of-32-characters!!' } })).status, 401);
  const statuses = [];
  // two requests so far; the 121st within the minute is the first one refused
  for (let i = 2; i < HEALTH_RATE_LIMIT + 1; i++) statuses.push((await fetch(s.url, { headers: auth })).status);
  assert.deepEqual([statuses.filter((x) => x === 429).length, statuses.at(-1)], [1, 429], `only the request over ${HEALTH_RATE_LIMIT} a minute is refused: ${statuses.slice(-3)}`);
  assert.deepEqual(s.warnings.map((w) => w.replace(/:.*/, '')), ['[kafka-logger] health route'], 'the missing auth middleware is said once');
});

test("without the token, n8n's session middleware decides; a session that is not owner or admin gets 403", async (t) => {
  const seen = [];
  const users = { owner: { role: 'global:owner' }, member: { role: { slug: 'global:member' } } };
  const AuthService = {
    // 1.104's form: a boolean
    createAuthMiddleware(allowSkipMFA) {
      seen.push(allowSkipMFA);
      return (req, res, next) => {
        const who = /n8n-auth=(\w+)/.exec(req.headers.cookie ?? '')?.[1];
        if (users[who]) {
          req.user = users[who];
          next();
        } else res.status(401).json({ status: 'error', message: 'Unauthorized' });
      };
    },
  };
  const s = await serve(host({ AuthService }), TOKEN);
  t.after(s.close);
  assert.deepEqual(seen, [false], 'MFA is never skipped');
  assert.equal((await fetch(s.url)).status, 401);
  assert.equal((await fetch(s.url, { headers: { cookie: 'n8n-auth=member' } })).status, 403);
  const owner = await fetch(s.url, { headers: { cookie: 'n8n-auth=owner' } });
  assert.equal(owner.status, 200);
  assert.equal(owner.headers.get('x-content-type-options'), 'nosniff');
  assert.deepEqual(s.warnings, []);
});

test("n8n's auth middleware: the options object on versions that take one, never an object where a boolean is read", () => {
  const calls = [];
  const objectForm = { createAuthMiddleware({ allowSkipMFA, allowUnauthenticated }) { calls.push({ allowSkipMFA, allowUnauthenticated }); return () => {}; } };
  const booleanForm = { createAuthMiddleware(allowSkipMFA) { calls.push(allowSkipMFA); return () => {}; } };
  n8nAuthMiddleware(host({ AuthService: objectForm }));
  n8nAuthMiddleware(host({ AuthService: booleanForm }));
  assert.deepEqual(calls, [{ allowSkipMFA: false, allowUnauthenticated: undefined }, false]);
  assert.equal(n8nAuthMiddleware(host({})), undefined);
});

test('HEALTH_TOKEN is trimmed; one shorter than 16 characters is refused with a reason, never echoed', () => {
  assert.equal(new KafkaLoggerConfig({ N8N_KAFKA_LOGGER_HEALTH_TOKEN: `  ${TOKEN}\n` }).healthToken, TOKEN);
  assert.equal(new KafkaLoggerConfig({ N8N_KAFKA_LOGGER_HEALTH_TOKEN: `  ${TOKEN}\n` }).healthTokenProblem, undefined);
  const short = new KafkaLoggerConfig({ N8N_KAFKA_LOGGER_HEALTH_TOKEN: ' secret-15-chars ' });
  assert.equal(short.healthToken, undefined);
  assert.match(short.healthTokenProblem, /HEALTH_TOKEN is 15 characters long, expected at least 16/);
  assert.ok(!short.healthTokenProblem.includes('secret-15-chars'));
  assert.equal(new KafkaLoggerConfig({}).healthTokenProblem, undefined);
  assert.equal(new KafkaLoggerConfig({ N8N_KAFKA_LOGGER_HEALTH_TOKEN: '   ' }).healthToken, undefined);
});
