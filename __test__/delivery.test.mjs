// Delivery to the real Apache Kafka broker on every listener, with the exact message content read back by kcat.
import { test, before } from 'node:test'
import assert from 'node:assert/strict'
import { readFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import { spoolDir } from './helpers/spool.mjs'
import { Ajv2020 } from 'ajv/dist/2020.js'
import { ensureBroker, consume, uniqueTopic, createTopic } from './helpers/broker.mjs'

const require = createRequire(import.meta.url)
const { KafkaExecutionLogger } = require('../index.js')
// Context Suite's JSON Schema for one `involves` entry, copied into the tree: the tests need nothing outside the clone.
const involvedSchema = JSON.parse(readFileSync(new URL('./fixtures/contextsuite-involved.schema.json', import.meta.url)))

let broker
before(() => {
  broker = ensureBroker()
})

const ISO = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/
// An hour ago, whole seconds: recent enough that Kafka's retention keeps the records.
const started = new Date(Math.floor(Date.now() / 1000) * 1000 - 3_600_000)
const stopped = new Date(started.getTime() + 2345)
const STARTED = started.toISOString()
const STOPPED = stopped.toISOString()

function execution(id, extra = {}) {
  return {
    executionId: id,
    workflowId: 'wf-42',
    workflowName: 'Order sync',
    mode: 'webhook',
    startedAt: started,
    stoppedAt: stopped,
    nodeCount: 4,
    triggerNode: 'Webhook',
    triggerNodeType: 'n8n-nodes-base.webhook',
    workflowVersionId: 'v-7',
    tags: ['billing', 'prod'],
    ...extra,
  }
}

async function deliver(options, inputs) {
  const topic = uniqueTopic('delivery')
  const logger = new KafkaExecutionLogger({ spoolDir: spoolDir(), topic, instanceId: 'instance-1', n8nVersion: '2.8.4', environment: 'test', validateOnStartup: true, ...options })
  await logger.initialize()
  for (const [method, input] of inputs) assert.equal(logger[method](input), true)
  const flushed = await logger.flush(20000)
  assert.deepEqual(flushed, { delivered: inputs.length, pending: 0 })
  const messages = await consume({ brokers: broker.plaintext, topic, count: inputs.length })
  const health = logger.getHealthMetrics()
  await logger.shutdown(5000)
  return { topic, messages, health }
}

const listeners = () => ({
  PLAINTEXT: { brokers: broker.plaintext },
  'SASL PLAIN': { brokers: broker.sasl, authEnabled: true, username: broker.user, password: broker.password, saslMechanism: 'plain' },
  'SASL SCRAM-SHA-256': { brokers: broker.sasl, authEnabled: true, username: broker.user, password: broker.password, saslMechanism: 'scram-sha-256' },
  'SASL SCRAM-SHA-512': { brokers: broker.sasl, authEnabled: true, username: broker.user, password: broker.password, saslMechanism: 'scram-sha-512' },
  'SSL with CA verification': { brokers: broker.ssl, ssl: true, sslCa: broker.caPath },
})

for (const name of ['PLAINTEXT', 'SASL PLAIN', 'SASL SCRAM-SHA-256', 'SASL SCRAM-SHA-512', 'SSL with CA verification']) {
  test(`delivers exact Segment track events over ${name}`, async () => {
    const id = `exec-${name.replace(/\W+/g, '-')}`
    const { messages, health } = await deliver(listeners()[name], [
      ['logWorkflowStarted', execution(id)],
      ['logWorkflowFinished', execution(id, { status: 'success' })],
    ])
    assert.equal(messages.length, 2)
    const [start, end] = messages
    for (const m of messages) {
      assert.equal(m.key, id)
      assert.equal(m.headers['content-type'], 'application/json')
      assert.equal(m.headers.event, m.value.event)
      assert.equal(m.headers['message-id'], m.value.messageId)
    }
    assert.equal(start.value.event, 'Workflow Started')
    assert.equal(start.value.timestamp, STARTED)
    assert.equal(start.timestamp, started.getTime(), 'record timestamp is the event time')
    assert.equal(end.timestamp, stopped.getTime())
    assert.equal(start.value.dimensions.status, 'running')
    assert.match(start.value.sentAt, ISO)
    assert.deepEqual(end.value, {
      type: 'track',
      event: 'Workflow Completed',
      messageId: end.value.messageId,
      timestamp: STOPPED,
      sentAt: end.value.sentAt,
      anonymousId: 'instance-1',
      properties: {
        workflow_id: 'wf-42',
        workflow_name: 'Order sync',
        execution_id: id,
        started_at: STARTED,
        finished_at: STOPPED,
        trigger_node: 'Webhook',
        workflow_version_id: 'v-7',
        instance_id: 'instance-1',
      },
      dimensions: {
        execution_mode: 'webhook',
        status: 'success',
        trigger_type: 'webhook',
        workflow_name: 'Order sync',
        n8n_version: '2.8.4',
        instance_type: 'main',
        environment: 'test',
      },
      metrics: { duration_ms: 2345, node_count: 4 },
      flags: { is_manual_execution: false, is_retry: false, is_sub_execution: false },
      tags: ['billing', 'prod'],
      involves: [
        { role: 'WorkflowExecution', entity_type: 'WorkflowExecution', id, id_type: 'n8n' },
        { role: 'Workflow', entity_type: 'Workflow', id: 'wf-42', id_type: 'n8n', label: 'Order sync' },
      ],
      context: { app: { name: 'n8n', version: '2.8.4' }, library: { name: 'n8n-kafka-execution-logger', version: '0.1.0' } },
    })
    assert.match(end.value.messageId, /^[0-9a-f]{8}-[0-9a-f]{4}-5[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/)
    assert.equal(health.counters.delivered, 2)
    assert.equal(health.status, 'healthy')
    assert.equal(typeof health.deliveryLatencyMs.p99, 'number')
  })
}

test('failed, retried and sub-executions carry errors, links and involves that match the Context Suite schema', async () => {
  const validate = new Ajv2020({ strict: false }).compile(involvedSchema)
  const failure = execution('exec-failed', {
    status: 'error',
    retryOf: 'exec-0',
    parentExecutionId: 'exec-parent',
    userId: 'user-1',
    error: { message: 'Request failed with status code 500', name: 'NodeApiError', stack: 'NodeApiError: ...\n    at x', nodeName: 'HTTP Request', nodeId: 'n-3', nodeType: 'n8n-nodes-base.httpRequest' },
    dimensions: { Region: 'eu-west' },
    metrics: { items_processed: 12 },
    flags: { dry_run: false },
  })
  const { messages } = await deliver({ brokers: broker.plaintext }, [['logWorkflowFinished', failure], ['logWorkflowFinished', execution('exec-x', { status: 'canceled' })], ['logWorkflowFinished', execution('exec-y', { status: 'waiting' })]])
  const [failed, cancelled, waiting] = messages.map((m) => m.value)
  assert.equal(failed.event, 'Workflow Failed')
  assert.equal(failed.userId, 'user-1')
  assert.equal(failed.anonymousId, undefined)
  assert.equal(failed.properties.error_message, 'Request failed with status code 500')
  assert.equal(failed.properties.error_node_name, 'HTTP Request')
  assert.equal(failed.properties.error_node_type, 'n8n-nodes-base.httpRequest')
  assert.equal(failed.properties.retry_of, 'exec-0')
  assert.equal(failed.properties.parent_execution_id, 'exec-parent')
  assert.equal(failed.dimensions.error_type, 'NodeApiError')
  assert.equal(failed.dimensions.region, 'eu-west')
  assert.equal(failed.metrics.items_processed, 12)
  assert.deepEqual(failed.flags, { is_manual_execution: false, is_retry: true, is_sub_execution: true, dry_run: false })
  assert.deepEqual(failed.involves.map((i) => i.role), ['WorkflowExecution', 'Workflow', 'RetryOf', 'Parent', 'Initiator'])
  for (const entry of [...failed.involves, ...cancelled.involves]) assert.ok(validate(entry), JSON.stringify(validate.errors))
  assert.equal(cancelled.event, 'Workflow Cancelled')
  assert.equal(waiting.event, 'Workflow Waiting')
  for (const m of messages) assert.ok(Buffer.byteLength(JSON.stringify(m.value)) < 32000)
})

test('events of one execution share a key, a partition and their order', async () => {
  const topic = uniqueTopic('ordering')
  createTopic(topic, 3)
  const logger = new KafkaExecutionLogger({ spoolDir: spoolDir(), brokers: broker.plaintext, topic, instanceId: 'i' })
  await logger.initialize()
  const ids = Array.from({ length: 60 }, (_, i) => `order-${i}`)
  for (const id of ids) logger.logWorkflowStarted({ executionId: id, workflowId: 'w', startedAt: started })
  for (const id of ids) logger.logWorkflowResumed({ executionId: id, workflowId: 'w' })
  for (const id of ids) logger.logWorkflowFinished({ executionId: id, workflowId: 'w', status: 'success', startedAt: started, stoppedAt: stopped })
  assert.equal((await logger.flush(20000)).pending, 0)
  await logger.shutdown(5000)
  const messages = await consume({ brokers: broker.plaintext, topic, count: ids.length * 3 })
  assert.equal(messages.length, ids.length * 3)
  const partitions = new Set(messages.map((m) => m.partition))
  assert.ok(partitions.size > 1, 'keys spread over partitions')
  for (const id of ids) {
    const own = messages.filter((m) => m.key === id).sort((a, b) => a.offset - b.offset)
    assert.equal(new Set(own.map((m) => m.partition)).size, 1, `${id} stays in one partition`)
    assert.deepEqual(own.map((m) => m.value.event), ['Workflow Started', 'Workflow Resumed', 'Workflow Completed'])
  }
  assert.equal(new Set(messages.map((m) => m.value.messageId)).size, messages.length)
})

test('diagnostics reach the caller logger on the JS thread, and a throwing logger is contained', async () => {
  const lines = []
  const logger = new KafkaExecutionLogger({
    spoolDir: spoolDir(),
    brokers: broker.plaintext,
    topic: uniqueTopic('diag'),
    logger: {
      info: (m) => {
        lines.push(m)
        throw new Error('logger exploded')
      },
    },
  })
  await logger.initialize()
  await new Promise((resolve) => setTimeout(resolve, 200))
  assert.ok(lines.some((l) => l.includes('sending execution events to topic')), lines.join('\n'))
  await logger.shutdown(2000)
})

test('the JS fast path and the exact N-API reader build the same event, unusual strings included', async () => {
  // `dimensions: {}` adds nothing to the event but sends the call down the exact reader (src/napi/fast_log.js).
  const cases = [
    { workflowName: 'NUL\u0000inside', mode: 'webhook' },
    { workflowName: 'split pair \uD83D', mode: '\uDE00 second half' }, // lone halves in two fields
    { workflowName: 'emoji \uD83D\uDE00 and ü', triggerNode: 'Ωmega' },
    { error: { message: 'boom\nline 2', name: 'TypeError', stack: 'TypeError: boom\n    at x', nodeName: 'Code' }, status: 'error' },
    // The last string slot, between the error's slots and the tags.
    {
      mode: 'trigger', triggerNode: 'Every hour', triggerNodeType: 'n8n-nodes-base.scheduleTrigger', status: 'error', tags: ['ü', '\uD83D\uDE00'],
      error: { message: 'm', name: 'NodeApiError', stack: 's', nodeName: 'HTTP Request', nodeId: 'n-3', nodeType: 'n8n-nodes-base.httpRequest' },
    },
    { mode: 'trigger', triggerNodeType: 'ünïcode \uD83D\uDE00 scheduleTrigger', error: 'plain text' },
  ]
  const inputs = cases.flatMap((extra, i) => [
    ['logWorkflowFinished', execution(`fast-${i}`, extra)],
    ['logWorkflowFinished', execution(`exact-${i}`, { ...extra, dimensions: {} })],
  ])
  // The fork format writes everything the current one does, and reads triggerNodeType for its trigger_type.
  const { messages } = await deliver({ brokers: broker.plaintext, messageFormat: 'fork' }, inputs)
  const byKey = new Map(messages.map((m) => [m.key, m.value]))
  const comparable = (v, id) => JSON.parse(JSON.stringify({ ...v, sentAt: 'SENT' }).replaceAll(v.messageId, 'ID').replaceAll(id, 'EXEC'))
  cases.forEach((_, i) => {
    const fast = byKey.get(`fast-${i}`)
    const exact = byKey.get(`exact-${i}`)
    assert.ok(fast && exact, `case ${i} delivered both ways`)
    assert.deepEqual(comparable(fast, `fast-${i}`), comparable(exact, `exact-${i}`), `case ${i}`)
  })
  assert.equal(byKey.get('fast-0').properties.workflow_name, 'NUL\u0000inside')
  assert.deepEqual(['fast-0', 'fast-4', 'fast-5'].map((k) => byKey.get(k).dimensions.trigger_type), ['webhook', 'schedule', 'schedule'])
  assert.deepEqual(byKey.get('fast-4').tags, ['ü', '\uD83D\uDE00'])
  assert.equal(byKey.get('fast-4').properties.error_node_type, 'n8n-nodes-base.httpRequest')
})

test('runs of one node in the same millisecond: both readers show the run index and give each run its own messageId', async () => {
  const node = (id, runIndex, extra = {}) => execution(id, { event: 'completed', nodeName: 'Loop', nodeType: 'n8n-nodes-base.splitInBatches', runIndex, ...extra })
  // The same execution id and millisecond, so only the run index tells the runs apart; `dimensions: {}` takes the exact reader.
  const inputs = [0, 1, 2].flatMap((run) => [
    ['logNodeEvent', node('loop-1', run)],
    ['logNodeEvent', node('loop-1', run, { dimensions: {} })],
  ])
  inputs.push(['logNodeEvent', node('loop-1', undefined)], ['logWorkflowFinished', execution('loop-1', { status: 'success' })])
  const { messages } = await deliver({ brokers: broker.plaintext }, inputs)
  const values = messages.map((m) => m.value)
  assert.deepEqual(values.map((v) => v.properties.node_run_index), [0, 0, 1, 1, 2, 2, undefined, undefined])
  const ids = values.map((v) => v.messageId)
  for (const run of [0, 1, 2]) assert.equal(ids[2 * run], ids[2 * run + 1], `run ${run}: the same id from the fast path and the exact reader`)
  assert.equal(new Set(ids).size, 5, `three runs, the node event without a run index and the end event: five ids (${ids})`)
  assert.equal(new Set(values.slice(0, 7).map((v) => v.timestamp)).size, 1, 'all node events in one millisecond')
})

test('a getter that logs while its own call is being read does not corrupt either event', async () => {
  const topic = uniqueTopic('reentrant')
  const logger = new KafkaExecutionLogger({ spoolDir: spoolDir(), topic, brokers: broker.plaintext, instanceId: 'instance-1' })
  await logger.initialize()
  const outer = execution('outer', {})
  Object.defineProperty(outer, 'workflowName', { enumerable: true, get: () => (logger.logWorkflowStarted(execution('inner')), 'Outer name') })
  assert.equal(logger.logWorkflowFinished(outer), true)
  assert.deepEqual(await logger.flush(20000), { delivered: 2, pending: 0 })
  const messages = await consume({ brokers: broker.plaintext, topic, count: 2 })
  await logger.shutdown(5000)
  const byKey = new Map(messages.map((m) => [m.key, m.value]))
  assert.equal(byKey.get('outer').properties.workflow_name, 'Outer name')
  assert.equal(byKey.get('inner').properties.workflow_name, 'Order sync')
  assert.equal(byKey.get('inner').event, 'Workflow Started')
})

test('ERROR_DETAIL and REDACT apply to every JS API caller, on both readers (fast path and exact)', async () => {
  const error = { message: 'bad row sk-live42 in input', name: 'Error', stack: 'Error: bad row sk-live42\n    at Code', nodeName: 'Code', nodeType: 'n8n-nodes-base.code' }
  const failed = (id) => [
    ['logWorkflowFinished', execution(`fast-${id}`, { status: 'error', error })],
    ['logWorkflowFinished', execution(`exact-${id}`, { status: 'error', error, dimensions: {} })],
  ]
  const redacted = await deliver({ brokers: broker.plaintext, errorDetail: 'message', redact: ['sk-[a-z0-9]+'] }, failed('message'))
  for (const { value, raw } of redacted.messages) {
    assert.equal(value.properties.error_message, 'bad row [redacted] in input')
    assert.equal(value.properties.error_stack, undefined)
    assert.ok(!raw.includes('sk-live42'), raw)
  }
  assert.deepEqual([redacted.health.config.errorDetail, redacted.health.config.redactPatterns], ['message', 1])
  const typed = await deliver({ brokers: broker.plaintext, errorDetail: 'type' }, failed('type'))
  for (const { value, raw } of typed.messages) {
    assert.ok(!raw.includes('bad row') && !raw.includes('at Code'), raw)
    assert.deepEqual([value.dimensions.error_type, value.properties.error_node_name, value.properties.error_node_type], ['Error', 'Code', 'n8n-nodes-base.code'])
  }
})
