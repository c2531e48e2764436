// Kafka trouble never reaches the caller: broker down at start, unresolvable host, wrong password, wrong CA,
// shutdown deadlines.
import { test, before, after } from 'node:test'
import assert from 'node:assert/strict'
import { createRequire } from 'node:module'
import { spoolDir } from './helpers/spool.mjs'
import { randomBytes } from 'node:crypto'
import { ensureBroker, brokerScript, consume, uniqueTopic, createTopic, privatePortBase } from './helpers/broker.mjs'
import { SECRETS } from './helpers/secrets.mjs'

const { KafkaExecutionLogger } = createRequire(import.meta.url)('../index.js')

let broker
before(() => {
  broker = ensureBroker()
})

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms))

async function waitFor(predicate, timeoutMs, what) {
  const deadline = Date.now() + timeoutMs
  while (Date.now() < deadline) {
    const value = predicate()
    if (value) return value
    await sleep(100)
  }
  assert.fail(`timed out after ${timeoutMs} ms waiting for ${what}`)
}

// A second, private broker on its own ports, so stopping it disturbs no other test.
const LATE_PORT_BASE = String(privatePortBase(100))
const late = (...args) => brokerScript({ KAFKA_PORT_BASE: LATE_PORT_BASE }, ...args)
after(() => late('wipe'))

test('broker down at initialize: events wait, then all are delivered once it starts', async () => {
  late('wipe')
  const topic = uniqueTopic('late-broker')
  const brokers = `127.0.0.1:${LATE_PORT_BASE}`
  const logger = new KafkaExecutionLogger({ spoolDir: spoolDir(), brokers, topic, instanceId: 'i', cbResetTimeout: 1000, timeoutSend: 3000, logger: {} })
  await logger.initialize()
  for (let i = 0; i < 50; i++) {
    assert.equal(logger.logWorkflowStarted({ executionId: `late-${i}`, workflowId: 'w' }), true)
  }
  // The starts are in flight when the breaker opens; the ends must still land after them.
  await sleep(1500)
  for (let i = 0; i < 50; i++) {
    assert.equal(logger.logWorkflowFinished({ executionId: `late-${i}`, workflowId: 'w', status: 'success' }), true)
  }
  await sleep(2500)
  const down = logger.getHealthMetrics()
  assert.equal(down.counters.delivered, 0)
  assert.notEqual(down.status, 'healthy')
  assert.ok(down.lastError, 'the outage is visible')
  late('start')
  await waitFor(() => logger.getHealthMetrics().counters.delivered >= 100, 60000, 'delivery after the broker started')
  const messages = await consume({ brokers, topic, count: 100 })
  assert.equal(messages.length, 100, 'every event landed')
  assert.equal(new Set(messages.map((m) => m.value.messageId)).size, messages.length, 'no duplicates')
  for (let i = 0; i < 50; i++) {
    const own = messages.filter((m) => m.key === `late-${i}`).sort((a, b) => a.offset - b.offset)
    assert.deepEqual(own.map((m) => m.value.event), ['Workflow Started', 'Workflow Completed'], `late-${i} in order`)
  }
  const health = logger.getHealthMetrics()
  assert.equal(health.circuitBreaker.state, 'closed')
  assert.equal(health.counters.dropped, 0)
  await logger.shutdown(5000)
})

test('wrong SASL password: classified error, breaker open, no throw, startup validation rejects', async () => {
  const options = { brokers: broker.sasl, authEnabled: true, username: broker.user, password: SECRETS.WRONG_SASL_PASSWORD, saslMechanism: 'scram-sha-256', topic: uniqueTopic('auth') }
  const validating = new KafkaExecutionLogger({ spoolDir: spoolDir(), ...options, validateOnStartup: true, timeoutConnect: 5000, logger: {} })
  await assert.rejects(validating.initialize(), (error) => {
    assert.equal(error.code, 'ERR_KAFKA_LOGGER_AUTHENTICATION')
    assert.match(error.message, /authentication/i)
    assert.ok(!error.message.includes(SECRETS.WRONG_SASL_PASSWORD))
    return true
  })
  await validating.shutdown(1000)

  const logger = new KafkaExecutionLogger({ spoolDir: spoolDir(), ...options, cbFailureThreshold: 2, logger: {} })
  await logger.initialize()
  for (let i = 0; i < 5; i++) assert.equal(logger.logWorkflowStarted({ executionId: `a${i}`, workflowId: 'w' }), true)
  const health = await waitFor(() => {
    const h = logger.getHealthMetrics()
    return h.circuitBreaker.state === 'open' && h
  }, 20000, 'the breaker to open')
  assert.equal(health.status, 'unhealthy')
  assert.equal(health.lastError.kind, 'authentication')
  assert.ok(!JSON.stringify(health).includes(SECRETS.WRONG_SASL_PASSWORD))
  assert.equal(health.counters.delivered, 0)
  const result = await logger.shutdown(1000)
  assert.deepEqual(result, { delivered: 0, pending: 0, dropped: 0, spooled: 5 }, 'nothing lost: all spooled')
})

test('TLS with the wrong CA: classified tls error and an open breaker', async () => {
  const logger = new KafkaExecutionLogger({ spoolDir: spoolDir(), brokers: broker.ssl, ssl: true, sslCa: broker.otherCaPath, topic: uniqueTopic('tls'), cbFailureThreshold: 2, logger: {} })
  await logger.initialize()
  for (let i = 0; i < 5; i++) logger.logWorkflowStarted({ executionId: `t${i}`, workflowId: 'w' })
  const health = await waitFor(() => {
    const h = logger.getHealthMetrics()
    return h.circuitBreaker.state === 'open' && h
  }, 20000, 'the breaker to open')
  assert.equal(health.lastError.kind, 'tls')
  assert.match(health.lastError.message, /certificate|SSL|handshake/i)
  await logger.shutdown(1000)
})

test('an unresolvable broker host: lastError is a dns error naming the host, also after "all brokers are down"', async () => {
  const logger = new KafkaExecutionLogger({ spoolDir: spoolDir(), brokers: 'no-such-host.invalid:9092', topic: 'nowhere', logger: {} })
  await logger.initialize()
  assert.equal(logger.logWorkflowStarted({ executionId: 'dns-1', workflowId: 'w' }), true)
  // librdkafka reports the resolution failure, then its summary "1/1 brokers are down", which names no cause.
  const { lastError } = await waitFor(() => {
    const h = logger.getHealthMetrics()
    return /brokers are down/.test(h.lastError?.message) && h
  }, 20000, 'the all-brokers-down summary')
  assert.equal(lastError.kind, 'dns')
  // Right after start librdkafka can count "0/1 brokers are down".
  assert.match(lastError.message, /^[01]\/1 brokers are down: no-such-host\.invalid:9092\/bootstrap: Failed to resolve 'no-such-host\.invalid:9092'/)
  await logger.shutdown(500)
})

/** A running logger whose broker does not exist, holding `count` events. */
async function unreachableLogger(count) {
  const logger = new KafkaExecutionLogger({ spoolDir: spoolDir(), brokers: '127.0.0.1:1', topic: 'nowhere', logger: {} })
  await logger.initialize()
  for (let i = 0; i < count; i++) logger.logWorkflowStarted({ executionId: `down-${i}`, workflowId: 'w' })
  return logger
}

async function timed(promise) {
  const began = Date.now()
  const result = await promise
  return { result, took: Date.now() - began }
}

test('shutdown respects its deadline with the broker down, and reports what was left', async () => {
  const logger = await unreachableLogger(100)
  const { result, took } = await timed(logger.shutdown(700))
  assert.ok(took < 700 + 300, `shutdown took ${took} ms for a 700 ms deadline`)
  assert.deepEqual(result, { delivered: 0, pending: 0, dropped: 0, spooled: 100 }, 'nothing lost: all spooled')
  assert.equal(logger.getHealthMetrics().status, 'stopped')
  const again = await timed(logger.shutdown(5000))
  assert.deepEqual(again.result, result)
  assert.ok(again.took < 100, 'a second shutdown answers at once')
})

test('flush with the broker down resolves at its deadline with everything pending', async () => {
  const logger = await unreachableLogger(10)
  const { result, took } = await timed(logger.flush(500))
  assert.ok(took >= 450 && took < 500 + 300, `flush took ${took} ms`)
  assert.deepEqual(result, { delivered: 0, pending: 10 })
  await logger.shutdown(100)
})

test('a permanent failure (record too large for the topic) goes to the dead-letter topic with its cause', async () => {
  const topic = uniqueTopic('too-large')
  createTopic(topic, 1, {}, { 'max.message.bytes': 2000 })
  const logger = new KafkaExecutionLogger({ spoolDir: spoolDir(), brokers: broker.plaintext, topic, instanceId: 'i', logger: {} })
  await logger.initialize()
  // Random text: compression (lz4 or any other) must not shrink it under the topic's limit.
  const big = { executionId: 'big-1', workflowId: 'w', status: 'error', error: { message: 'x', stack: randomBytes(9000).toString('base64') } }
  // Logged together, so librdkafka may batch them: Kafka checks max.message.bytes per record batch and refuses the
  // whole batch, and the logger resends each record alone before it calls one too large.
  assert.equal(logger.logWorkflowFinished(big), true)
  assert.equal(logger.logWorkflowFinished({ executionId: 'small-1', workflowId: 'w', status: 'success' }), true)
  const health = await waitFor(() => {
    const h = logger.getHealthMetrics()
    return h.counters.deadLettered + h.counters.delivered === 2 && h
  }, 30000, 'delivery and dead-lettering')
  assert.equal(health.counters.deadLettered, 1)
  assert.equal(health.counters.failed, 0)
  assert.equal(health.counters.delivered, 1, 'the small event is never dead-lettered with the big one')
  assert.equal(health.lastError.kind, 'message_too_large')
  const [dead] = await consume({ brokers: broker.plaintext, topic: `${topic}.dlq`, count: 1 })
  assert.equal(dead.key, 'big-1')
  assert.equal(dead.value.event, 'Workflow Failed')
  assert.equal(dead.headers['dlq-original-topic'], topic)
  assert.equal(dead.headers['dlq-error-kind'], 'message_too_large')
  assert.equal(dead.headers['dlq-attempts'], '2', 'refused in its batch, then alone')
  assert.match(dead.headers['dlq-first-failure'], /^\d{4}-\d\d-\d\dT/)
  assert.equal(dead.headers['message-id'], dead.value.messageId)
  const [kept] = await consume({ brokers: broker.plaintext, topic, count: 1 })
  assert.equal(kept.key, 'small-1')
  await logger.shutdown(2000)
})
