// The alert rules docs/operations.md suggests, run by Prometheus's own promtool against what the exporter really
// serves: each scenario's health snapshots go through LoggerMetrics into n8n's prom-client, every scrape becomes a
// promtool input series, and each rule must fire in its scenario and nowhere else.
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { test } from 'node:test';
import { suggestedAlerts, suggestedRulesFile } from '../../scripts/docs/alert-rules.mjs';

const require = createRequire(import.meta.url);
/** Minutes each scenario runs: past every rule's window plus its `for`. */
const MINUTES = 45;
const INSTANCE = 'n8n-main:5678';

function promtool() {
  const found = spawnSync('promtool', ['--version'], { encoding: 'utf8' });
  assert.equal(found.status, 0, 'promtool is needed (Debian package prometheus): scripts/install-system-deps.sh installs it');
  return 'promtool';
}

async function exporter() {
  const { paths, PINNED } = await import('../../scripts/n8n/n8n-instance.mjs');
  const prom = createRequire(`${paths(PINNED()).dir}/node_modules/n8n/package.json`)('prom-client');
  const { LoggerMetrics } = require('../../dist/n8n/metrics.js');
  return { prom, LoggerMetrics };
}

/** A process that works: events accepted and delivered every minute, fast, nothing waiting, wired. */
const healthy = (m) => ({
  wiring: { mechanism: 'lifecycle' },
  circuitBreaker: { state: 'closed' },
  queue: { depth: 3, capacity: 10000, bytes: 1200, maxBytes: 64 * 1024 * 1024 },
  counters: { accepted: 100 * m, delivered: 100 * m, failed: 0, retried: 0, dropped: 0, rejected: 0, deadLettered: 0 },
  spool: { enabled: true, bytes: 0, records: 0, oldestAgeMs: null, replayed: 0, corrupted: 0, refused: 0 },
  deliveryLatencyMs: latency(100 * m, 20),
});

/** Cumulative buckets of `count` deliveries that each took `ms`. */
function latency(count, ms) {
  const bounds = [1, 2.5, 5, 10, 25, 50, 100, 250, 500, 1000, 2500, 5000, 10000, 30000];
  return { count, sum: count * ms, p50: ms, p99: ms, buckets: bounds.map((le) => ({ le, count: ms <= le ? count : 0 })) };
}

const plus = (base, more) => ({ ...base, ...more, counters: { ...base.counters, ...more.counters } });

/** name -> { snapshot(minute), events(metrics) per minute, alerts: { alertname: severity } that must fire at the end } */
const SCENARIOS = {
  healthy: { snapshot: healthy, alerts: {} },
  'no way into n8n is proven': { snapshot: (m) => ({ ...healthy(0), wiring: { mechanism: 'none' } }), alerts: { KafkaLoggerNotWired: 'critical' } },
  'the breaker is open, no traffic': { snapshot: (m) => ({ ...healthy(0), circuitBreaker: { state: 'open' } }), alerts: { KafkaLoggerBreakerOpen: 'critical' } },
  'events come in, none are acknowledged': {
    snapshot: (m) => plus(healthy(m), { counters: { delivered: 0 }, deliveryLatencyMs: latency(0, 0) }),
    alerts: { KafkaLoggerNotDelivering: 'critical' },
  },
  'the queue overflows once': { snapshot: (m) => plus(healthy(m), { counters: { dropped: m > 30 ? 50 : 0 } }), alerts: { KafkaLoggerEventsLost: 'critical' } },
  'events fail for good': { snapshot: (m) => plus(healthy(m), { counters: { failed: m > 30 ? 4 : 0 } }), alerts: { KafkaLoggerPermanentFailures: 'warning' } },
  'the queue holds 90 % of its events': { snapshot: (m) => ({ ...healthy(m), queue: { ...healthy(m).queue, depth: 9000 } }), alerts: { KafkaLoggerQueueFilling: 'warning' } },
  'the queue holds 90 % of its bytes': {
    snapshot: (m) => ({ ...healthy(m), queue: { ...healthy(m).queue, bytes: 0.9 * 64 * 1024 * 1024 } }),
    alerts: { KafkaLoggerQueueFilling: 'warning' },
  },
  'one send in ten is retried': { snapshot: (m) => plus(healthy(m), { counters: { retried: 10 * m } }), alerts: { KafkaLoggerRetrying: 'warning' } },
  // One event, once: the exporter's series start at zero, or increase() would never see it.
  'n8n hands over one invalid input': { snapshot: healthy, events: (metrics, m) => m === 31 && metrics.onEvent('finished', 'crashed', false), alerts: { KafkaLoggerRejectingInput: 'warning' } },
  'events are dead-lettered': { snapshot: (m) => plus(healthy(m), { counters: { deadLettered: m > 30 ? 3 : 0 } }), alerts: { KafkaLoggerDeadLetters: 'warning' } },
  'the spool has waited 20 minutes': { snapshot: (m) => ({ ...healthy(m), spool: { ...healthy(m).spool, records: 40, bytes: 40_000, oldestAgeMs: 20 * 60_000 } }), alerts: { KafkaLoggerSpoolBacklog: 'warning' } },
  'the spool is full: events refused': {
    snapshot: (m) => ({ ...healthy(m), spool: { ...healthy(m).spool, refused: m > 30 ? 7 : 0 } }),
    alerts: { KafkaLoggerSpoolLosing: 'critical' },
  },
  'deliveries take 8 s': { snapshot: (m) => ({ ...healthy(m), deliveryLatencyMs: latency(100 * m, 8000) }), alerts: { KafkaLoggerSlowDelivery: 'warning' } },
};

/** Scrapes `MINUTES + 1` times, minute by minute, into promtool series: `name{labels,instance}` -> values ('_' when absent). */
async function seriesOf(prom, LoggerMetrics, scenario) {
  prom.register.clear();
  let snapshot;
  const metrics = new LoggerMetrics(prom, () => snapshot);
  metrics.register();
  const series = new Map();
  try {
    for (let m = 0; m <= MINUTES; m++) {
      snapshot = scenario.snapshot(m);
      scenario.events?.(metrics, m);
      for (const line of (await prom.register.metrics()).split('\n')) {
        if (!line || line.startsWith('#')) continue;
        const at = line.lastIndexOf(' ');
        const [name, labels = '}'] = line.slice(0, at).split('{');
        const key = `${name}{${labels === '}' ? '' : `${labels.slice(0, -1)},`}instance="${INSTANCE}"}`;
        if (!series.has(key)) series.set(key, Array(m).fill('_'));
        series.get(key).push(line.slice(at + 1));
      }
      for (const values of series.values()) if (values.length === m) values.push('_');
    }
  } finally {
    metrics.stop();
    prom.register.clear();
  }
  return [...series].map(([name, values]) => ({ series: name, values: values.join(' ') }));
}

/** promtool's unit-test file: one test group per scenario, every alert checked in each (the expected ones firing, the rest quiet). */
async function promtoolTests(rulesFile, alertNames, scenarios) {
  const { prom, LoggerMetrics } = await exporter();
  const tests = [];
  for (const [name, scenario] of Object.entries(scenarios)) {
    tests.push({
      name,
      interval: '1m',
      input_series: await seriesOf(prom, LoggerMetrics, scenario),
      alert_rule_test: alertNames.map((alertname) => ({
        eval_time: `${MINUTES}m`,
        alertname,
        exp_alerts: scenario.alerts[alertname] ? [{ exp_labels: { severity: scenario.alerts[alertname], instance: INSTANCE } }] : [],
      })),
    });
  }
  // JSON is YAML: promtool reads it as it is.
  return JSON.stringify({ rule_files: [rulesFile], evaluation_interval: '1m', tests }, null, 1);
}

/** `promtool test rules` on the scenarios: its exit status and output. */
async function runPromtool(scenarios) {
  const rulesFile = suggestedRulesFile();
  const testsFile = join(dirname(rulesFile), 'tests.yml');
  writeFileSync(testsFile, await promtoolTests(rulesFile, suggestedAlerts().alertNames, scenarios));
  return spawnSync(promtool(), ['test', 'rules', testsFile], { encoding: 'utf8' });
}

test('the suggested rules are valid for Prometheus (promtool check rules)', () => {
  const { alertNames } = suggestedAlerts();
  const out = execFileSync(promtool(), ['check', 'rules', suggestedRulesFile()], { encoding: 'utf8' });
  assert.match(out, new RegExp(`SUCCESS: ${alertNames.length} rules found`));
  assert.equal(alertNames.length, 12, 'one scenario below per rule: a new rule needs its scenario');
});

test('every metric the exporter serves is in the table, and every metric the rules and the table name is served', async () => {
  const { tableNames, ruleMetrics } = suggestedAlerts();
  const { prom, LoggerMetrics } = await exporter();
  const served = new Set();
  for (const { series } of await seriesOf(prom, LoggerMetrics, { snapshot: healthy, events: (metrics) => metrics.onEvent('started', '', true) })) served.add(series.split('{')[0]);
  const families = new Set([...served].map((n) => n.replace(/_(bucket|sum|count)$/, '')));
  assert.deepEqual([...families].sort(), [...new Set(tableNames)].sort(), 'the metrics table lists exactly what the exporter serves');
  for (const name of ruleMetrics) assert.ok(served.has(name), `a rule reads ${name}, which the exporter does not serve`);
});

test('each suggested alert fires on its condition, from what the exporter really serves, and no other does', async () => {
  const r = await runPromtool(SCENARIOS);
  assert.equal(r.status, 0, `promtool test rules:\n${r.stdout}\n${r.stderr}`);
  assert.match(r.stdout, /SUCCESS/);
  for (const alert of suggestedAlerts().alertNames) assert.ok(Object.values(SCENARIOS).some((s) => s.alerts[alert]), `${alert} has a scenario where it fires`);
});

test('the check itself: a scenario expecting the wrong alert fails promtool', async () => {
  const wrong = { 'the breaker is open, no traffic': { ...SCENARIOS['the breaker is open, no traffic'], alerts: { KafkaLoggerNotDelivering: 'critical' } } };
  const r = await runPromtool(wrong);
  assert.notEqual(r.status, 0, 'promtool passed a scenario whose expected alert cannot fire');
  assert.match(r.stdout + r.stderr, /KafkaLoggerBreakerOpen|KafkaLoggerNotDelivering/);
});
