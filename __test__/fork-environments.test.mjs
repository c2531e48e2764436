// The fork's own example environments (__test__/fixtures/fork/environments.json) start a logger that delivers to the real broker.
import { test, before, after } from 'node:test'
import assert from 'node:assert/strict'
import { readFileSync } from 'node:fs'
import { createServer, connect } from 'node:net'
import { createRequire } from 'node:module'
import { ensureBroker, consume, uniqueTopic } from './helpers/broker.mjs'
import { spoolDir } from './helpers/spool.mjs'

const { KafkaExecutionLogger } = createRequire(import.meta.url)('../index.js')
const { environments } = JSON.parse(readFileSync(new URL('./fixtures/fork/environments.json', import.meta.url), 'utf8'))

let broker
/** The fork's default broker, localhost:9092, forwarded to the test broker: the environment without BROKERS uses it. */
let defaultBroker
before(async () => {
  broker = ensureBroker()
  const [host, port] = broker.plaintext.split(':')
  defaultBroker = createServer((client) => {
    const upstream = connect(Number(port), host)
    client.pipe(upstream).pipe(client)
    const close = () => (client.destroy(), upstream.destroy())
    client.on('error', close)
    upstream.on('error', close)
  })
  // Both stacks: librdkafka may resolve localhost to ::1 first. A taken port fails the test, never skips it.
  await new Promise((resolve, reject) => defaultBroker.once('error', reject).listen({ port: 9092, host: '::' }, resolve))
})
after(() => defaultBroker?.close())

/** The listener of the test broker that speaks what `env` asks for. */
function listener(env) {
  const ssl = env.N8N_KAFKA_LOGGER_SSL === 'true'
  const sasl = env.N8N_KAFKA_LOGGER_AUTH_ENABLED === 'true'
  return ssl ? (sasl ? broker.saslSsl : broker.ssl) : sasl ? broker.sasl : broker.plaintext
}

/** The fixture's environment pointed at the test broker: its listener, user and CA (as a fork user trusted one). */
function pointed(fixture, topic) {
  const env = { ...fixture.env, N8N_KAFKA_LOGGER_TOPIC: topic }
  if (env.N8N_KAFKA_LOGGER_BROKERS) env.N8N_KAFKA_LOGGER_BROKERS = listener(env)
  if (env.N8N_KAFKA_LOGGER_AUTH_ENABLED === 'true') {
    env.N8N_KAFKA_LOGGER_USERNAME = broker.user
    env.N8N_KAFKA_LOGGER_PASSWORD = broker.password
  }
  if (env.N8N_KAFKA_LOGGER_SSL === 'true') env.NODE_EXTRA_CA_CERTS = broker.caPath
  return env
}

const now = Date.now()
const execution = (id) => ({ executionId: id, workflowId: 'wf-1', workflowName: 'Fork env', mode: 'webhook', startedAt: new Date(now - 1000) })

for (const fixture of environments) {
  test(`fork environment starts and delivers: ${fixture.name}`, async () => {
    const topic = uniqueTopic('fork-env')
    const env = pointed(fixture, topic)
    assert.equal(KafkaExecutionLogger.isConfigured(env), true, 'the n8n adapters would stay off')
    const warnings = []
    const logger = KafkaExecutionLogger.fromEnv(env, {
      spoolDir: spoolDir(),
      instanceId: 'fork-env',
      validateOnStartup: true,
      logger: { warn: (m) => warnings.push(m), info() {}, debug() {}, error: (m) => warnings.push(m) },
    })
    try {
      await logger.initialize()
      assert.equal(logger.logWorkflowStarted(execution('1')), true)
      assert.equal(logger.logWorkflowFinished({ ...execution('1'), status: 'success', stoppedAt: new Date(now) }), true)
      assert.deepEqual(await logger.flush(30_000), { delivered: 2, pending: 0 })
    } finally {
      await logger.shutdown(5000)
    }
    const records = await consume({ brokers: broker.plaintext, topic, count: 2 })
    assert.deepEqual(records.map((r) => r.value.event), ['Workflow Started', 'Workflow Completed'])
    assert.equal(records[0].value.dimensions.environment, fixture.environment ?? 'development')
    // One warning per setting the fork took and this package adjusts, each naming it; nothing else.
    const expected = (fixture.warnings ?? []).map((name) => `N8N_KAFKA_LOGGER_${name} `)
    assert.equal(warnings.length, expected.length, warnings.join('\n'))
    for (const name of expected) assert.equal(warnings.filter((w) => w.includes(name)).length, 1, `${name}: ${warnings.join('\n')}`)
  })
}

test('the migration guide has a row for every variable of the fork environments', () => {
  const guide = readFileSync(new URL('../docs/migrating-from-the-fork.md', import.meta.url), 'utf8')
  const table = guide.slice(guide.indexOf('## 1. Environment'), guide.indexOf('## 2. Messages'))
  const rows = table.split('\n').filter((line) => line.startsWith('| `'))
  for (const name of new Set(environments.flatMap((e) => Object.keys(e.env)))) {
    assert.ok(rows.some((row) => row.split('|')[1].includes(`\`${name}\``)), `no row for ${name}`)
  }
})

test('without NODE_EXTRA_CA_CERTS (and SSL_CA) the test CA is not trusted: the environments above needed it', async () => {
  const ssl = environments.find((e) => e.env.N8N_KAFKA_LOGGER_SSL === 'true' && e.env.N8N_KAFKA_LOGGER_AUTH_ENABLED !== 'true')
  const { NODE_EXTRA_CA_CERTS, ...env } = pointed(ssl, uniqueTopic('fork-env'))
  assert.ok(NODE_EXTRA_CA_CERTS)
  const logger = KafkaExecutionLogger.fromEnv(env, { spoolDir: spoolDir(), validateOnStartup: true, timeoutConnect: 5000, logger: { warn() {}, error() {} } })
  await assert.rejects(logger.initialize(), (error) => error.code === 'ERR_KAFKA_LOGGER_TLS')
  await logger.shutdown(1000)
})
