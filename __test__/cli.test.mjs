// The shipped command-line tools against the real broker: inspect, replay (topic and file), spool status.
import { test, before } from 'node:test'
import assert from 'node:assert/strict'
import { execFile } from 'node:child_process'
import { promisify } from 'node:util'
import { mkdirSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { randomBytes } from 'node:crypto'
import { createRequire } from 'node:module'
import { ensureBroker, consume, uniqueTopic, createTopic } from './helpers/broker.mjs'
import { spoolDir } from './helpers/spool.mjs'

const { KafkaExecutionLogger } = createRequire(import.meta.url)('../index.js')
const CLI = new URL('../bin/cli.js', import.meta.url).pathname
const exec = (env, args) => promisify(execFile)(process.execPath, [CLI, ...args], { env: { ...process.env, N8N_KAFKA_LOGGER_SPOOL_DIR: 'off', ...env } })
const run = async (...args) => (await exec({}, args)).stdout
const { produceRecords } = createRequire(import.meta.url)('../index.js')

let broker
before(() => {
  broker = ensureBroker()
})

async function logged(topic, calls, options = {}) {
  const logger = new KafkaExecutionLogger({ spoolDir: spoolDir(), brokers: broker.plaintext, topic, instanceId: 'cli', logger: {}, ...options })
  await logger.initialize()
  for (const [method, input] of calls) assert.equal(logger[method](input), true)
  await logger.flush(20000)
  return logger
}

test('inspect summarizes executions, failures, durations and failing nodes per workflow', async () => {
  const topic = uniqueTopic('inspect')
  const t = Date.now() - 60_000
  const run1 = (id, ms, extra = {}) => ['logWorkflowFinished', { executionId: id, workflowId: 'wf-a', workflowName: 'Alpha', status: 'success', startedAt: t, stoppedAt: t + ms, ...extra }]
  const fail = (id, node, type, ms) => run1(id, ms, { status: 'error', error: { message: `${node} broke`, name: type, nodeName: node } })
  const logger = await logged(topic, [
    ['logWorkflowStarted', { executionId: 'a1', workflowId: 'wf-a', workflowName: 'Alpha', startedAt: t }],
    run1('a1', 100), run1('a2', 200), run1('a3', 300), fail('a4', 'HTTP Request', 'NodeApiError', 50), fail('a5', 'HTTP Request', 'NodeApiError', 60), fail('a6', 'Code', 'Error', 70),
    ['logWorkflowFinished', { executionId: 'b1', workflowId: 'wf-b', workflowName: 'Beta', status: 'success', startedAt: t, stoppedAt: t + 10 }],
  ])
  await logger.shutdown(2000)
  const report = JSON.parse(await run('inspect', '--brokers', broker.plaintext, '--topic', topic, '--since', '1h', '--json'))
  assert.equal(report.events, 8)
  const alpha = report.workflows.find((w) => w.workflowId === 'wf-a')
  assert.equal(alpha.workflowName, 'Alpha')
  assert.equal(alpha.executions, 6)
  assert.equal(alpha.failures, 3)
  assert.equal(alpha.failureRate, 0.5)
  assert.deepEqual(alpha.durationMs, { p50: 100, p95: 300 })
  assert.deepEqual(alpha.topFailingNodes, [{ name: 'HTTP Request', count: 2 }, { name: 'Code', count: 1 }])
  assert.deepEqual(alpha.topErrorTypes[0], { name: 'NodeApiError', count: 2 })
  assert.equal(alpha.lastFailure.node, 'Code')
  const beta = JSON.parse(await run('inspect', '--brokers', broker.plaintext, '--topic', topic, '--workflow', 'wf-b', '--json'))
  assert.deepEqual(beta.workflows.map((w) => w.workflowId), ['wf-b'])
  const text = await run('inspect', '--brokers', broker.plaintext, '--topic', topic)
  assert.match(text, /Alpha \(wf-a\)\n  executions 6, failures 3 \(50\.0%\)/)
  assert.match(text, /failing nodes: HTTP Request x2, Code x1/)
})

test('replay moves dead letters from the dead-letter topic back, with their original ids', async () => {
  const topic = uniqueTopic('replay')
  createTopic(topic, 1, {}, { 'max.message.bytes': 2000 })
  const stack = randomBytes(9000).toString('base64')
  const logger = await logged(topic, [['logWorkflowFinished', { executionId: 'dead-1', workflowId: 'w', status: 'error', error: { stack } }]])
  const deadline = Date.now() + 30000
  while (logger.getHealthMetrics().counters.deadLettered < 1 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100))
  await logger.shutdown(2000)
  const [original] = await consume({ brokers: broker.plaintext, topic: `${topic}.dlq`, count: 1 })
  const fixed = uniqueTopic('replayed')
  const dry = JSON.parse(await run('replay', '--brokers', broker.plaintext, '--from-topic', `${topic}.dlq`, '--to-topic', fixed, '--dry-run', '--json'))
  assert.equal(dry.selected, 1)
  assert.equal(dry.delivered, 0)
  const none = JSON.parse(await run('replay', '--brokers', broker.plaintext, '--from-topic', `${topic}.dlq`, '--to-topic', fixed, '--event', 'Workflow Started', '--json'))
  assert.equal(none.selected, 0)
  const done = JSON.parse(await run('replay', '--brokers', broker.plaintext, '--from-topic', `${topic}.dlq`, '--to-topic', fixed, '--json'))
  assert.deepEqual([done.selected, done.delivered, done.errors], [1, 1, []])
  const [back] = await consume({ brokers: broker.plaintext, topic: fixed, count: 1 })
  assert.equal(back.key, 'dead-1')
  assert.equal(back.value.messageId, original.value.messageId)
  assert.equal(back.timestamp, original.timestamp)
  assert.equal(back.headers['message-id'], original.headers['message-id'])
  assert.equal(back.headers['dlq-error-kind'], undefined, 'the dead-letter headers are dropped')
})

test('replay reads the spool dead-letter file; spool status shows slots without disturbing them', async () => {
  const base = spoolDir()
  mkdirSync(join(base, 'slot-0'))
  writeFileSync(join(base, 'slot-0', 'spool.lock'), '')
  const event = { type: 'track', event: 'Workflow Failed', messageId: 'm-1', properties: { workflow_id: 'wf-file' } }
  const eventTime = Date.now() - 3_600_000 // recent: Kafka's retention would delete an older record
  const line = { messageId: 'm-1', eventName: 'Workflow Failed', key: 'exec-9', eventTime, attempts: 2, errorKind: 'unknown_topic', errorMessage: 'x', event }
  writeFileSync(join(base, 'slot-0', 'dead-letters.jsonl'), `${JSON.stringify(line)}\n`)
  const target = uniqueTopic('from-file')
  const done = JSON.parse(await run('replay', '--brokers', broker.plaintext, '--from-file', base, '--to-topic', target, '--workflow', 'wf-file', '--json'))
  assert.deepEqual([done.selected, done.delivered], [1, 1])
  const [back] = await consume({ brokers: broker.plaintext, topic: target, count: 1 })
  assert.equal(back.key, 'exec-9')
  assert.deepEqual(back.value, event)
  assert.equal(back.timestamp, eventTime)

  const live = spoolDir()
  const logger = new KafkaExecutionLogger({ spoolDir: live, brokers: '127.0.0.1:1', topic: 'nowhere', durability: 'disk', logger: {} })
  await logger.initialize()
  logger.logWorkflowStarted({ executionId: 'x', workflowId: 'w' })
  await new Promise((r) => setTimeout(r, 500))
  const status = JSON.parse(await run('spool', 'status', '--dir', live, '--json'))
  assert.equal(status.slots.length, 1)
  assert.equal(status.slots[0].inUse, true)
  assert.equal(status.slots[0].lockedBy, process.pid)
  assert.ok(status.slots[0].segmentBytes > 0)
  assert.equal(logger.getHealthMetrics().spool.records, 1, 'the status probe took nothing from the owner')
  await logger.shutdown(500)
  const after = JSON.parse(await run('spool', 'status', '--dir', live, '--json'))
  assert.equal(after.slots[0].inUse, false)
})

test('replay --from-file FILE reads that file (not the dead-letters.jsonl beside it) and names each target first', async () => {
  const dir = spoolDir()
  const line = (id, workflow) => `${JSON.stringify({ messageId: id, eventName: 'Workflow Failed', key: `key-${id}`, eventTime: Date.now() - 60_000, attempts: 1, errorKind: 'unknown_topic', errorMessage: 'x', event: { event: 'Workflow Failed', messageId: id, properties: { workflow_id: workflow } } })}\n`
  writeFileSync(join(dir, 'dead-letters.jsonl'), line('sibling', 'wf-s'))
  const exported = join(dir, 'exported.jsonl')
  writeFileSync(exported, line('chosen-1', 'wf-x') + 'not json\n' + line('chosen-2', 'wf-x'))
  const fallback = uniqueTopic('file-default')
  // No --to-topic: a dead letter from a file goes to TOPIC, and the CLI says so for each record before sending.
  const dry = await exec({ N8N_KAFKA_LOGGER_TOPIC: fallback }, ['replay', '--brokers', broker.plaintext, '--from-file', exported, '--dry-run'])
  assert.equal(dry.stdout, `would send Workflow Failed chosen-1 (key key-chosen-1) -> ${fallback}\nwould send Workflow Failed chosen-2 (key key-chosen-2) -> ${fallback}\nwould replay 2 of 2 dead letters to ${fallback} (2)\n`)
  const done = await exec({ N8N_KAFKA_LOGGER_TOPIC: fallback }, ['replay', '--brokers', broker.plaintext, '--from-file', exported])
  assert.match(done.stdout, new RegExp(`^sending Workflow Failed chosen-1 \\(key key-chosen-1\\) -> ${fallback}\n`))
  assert.match(done.stdout, /replayed 2 of 2 dead letters/)
  const back = await consume({ brokers: broker.plaintext, topic: fallback, count: 2 })
  assert.deepEqual(back.map((m) => m.key).sort(), ['key-chosen-1', 'key-chosen-2'], 'the sibling file was not read')
})

test('replay from the dead-letter topic without --to-topic sends each record back to its own original topic', async () => {
  const dlq = uniqueTopic('mixed-dlq')
  const [a, b] = [uniqueTopic('orig-a'), uniqueTopic('orig-b')]
  const record = (id, original) => ({ key: id, value: JSON.stringify({ event: 'Workflow Failed', messageId: id }), headers: { 'message-id': id, event: 'Workflow Failed', 'dlq-original-topic': original } })
  const produced = await produceRecords({ brokers: broker.plaintext }, dlq, [record('to-a', a), record('to-b', b)], 20000)
  assert.deepEqual(produced.errors, [])
  const dry = JSON.parse(await run('replay', '--brokers', broker.plaintext, '--from-topic', dlq, '--dry-run', '--json'))
  assert.deepEqual(dry.records.map((r) => [r.messageId, r.topic]), [['to-a', a], ['to-b', b]])
  assert.deepEqual(dry.targets, { [a]: 1, [b]: 1 })
  assert.equal(dry.partial, null)
  const text = await run('replay', '--brokers', broker.plaintext, '--from-topic', dlq, '--page-size', '1')
  assert.match(text, new RegExp(`sending Workflow Failed to-a \\(key to-a\\) -> ${a}\nsending Workflow Failed to-b \\(key to-b\\) -> ${b}\n`))
  const [[inA], [inB]] = await Promise.all([consume({ brokers: broker.plaintext, topic: a, count: 1 }), consume({ brokers: broker.plaintext, topic: b, count: 1 })])
  assert.deepEqual([inA.key, inB.key], ['to-a', 'to-b'])
})

test('inspect escapes control characters from workflow text, and says when a read is partial', async () => {
  const topic = uniqueTopic('inspect-escape')
  const t = Date.now() - 60_000
  const hostile = 'Evil\u001b[2J\u001b]0;pwned\u0007\u202eName'
  const logger = await logged(topic, [
    ['logWorkflowFinished', { executionId: 'e1', workflowId: 'wf-e', workflowName: hostile, status: 'error', startedAt: t, stoppedAt: t + 5, error: { message: 'boom\r\u009b31m', name: 'Error', nodeName: 'Node\u0008' } }],
    ['logWorkflowFinished', { executionId: 'e2', workflowId: 'wf-e', workflowName: hostile, status: 'success', startedAt: t, stoppedAt: t + 5 }],
    ['logWorkflowFinished', { executionId: 'e3', workflowId: 'wf-e', workflowName: hostile, status: 'success', startedAt: t, stoppedAt: t + 5 }],
  ])
  await logger.shutdown(2000)
  const out = await exec({}, ['inspect', '--brokers', broker.plaintext, '--topic', topic])
  assert.doesNotMatch(out.stdout, /[\u0000-\u0009\u000b-\u001f\u007f-\u009f\u202e]/, 'no control character reaches the terminal')
  assert.match(out.stdout, /Evil\\x1b\[2J\\x1b\]0;pwned\\x07\\u202eName \(wf-e\)/)
  assert.match(out.stdout, /failing nodes: Node\\x08 x1/)
  assert.match(out.stdout, /: boom\\x0d\\x9b31m\n/)
  assert.equal(out.stderr, '')
  // A read bounded below the topic's size is partial, and says so.
  const part = await exec({}, ['inspect', '--brokers', broker.plaintext, '--topic', topic, '--max-records', '2'])
  assert.match(part.stderr, /^partial: stopped at the limit of 2 records \(--max-records\) before the end of \S+; the results cover only the 2 records read\n$/)
  assert.match(part.stdout, /: 2 events, 1 workflows \(partial read\)/)
  const json = JSON.parse(await run('inspect', '--brokers', broker.plaintext, '--topic', topic, '--max-records', '2', '--json'))
  assert.match(json.partial, /stopped at the limit of 2 records/)
  assert.equal(JSON.parse(await run('inspect', '--brokers', broker.plaintext, '--topic', topic, '--json')).partial, null)
  // Page by page (one record held at a time): the whole topic, not partial.
  const paged = JSON.parse(await run('inspect', '--brokers', broker.plaintext, '--topic', topic, '--page-size', '1', '--json'))
  assert.deepEqual([paged.records, paged.events, paged.partial], [3, 3, null])
  const pagedPart = JSON.parse(await run('inspect', '--brokers', broker.plaintext, '--topic', topic, '--page-size', '1', '--max-records', '2', '--json'))
  assert.deepEqual([pagedPart.records, pagedPart.partial], [2, `stopped at the limit of 2 records (--max-records) before the end of ${topic}`])
})

test('bad arguments get a clear message and exit code 2', async () => {
  await assert.rejects(run('replay', '--from-topic', 'a', '--from-file', 'b'), (e) => e.code === 2 && /exactly one of --from-topic or --from-file/.test(e.stderr))
  await assert.rejects(run('inspect', '--since', 'yesterday'), (e) => e.code === 2 && /--since must be a duration like 1h/.test(e.stderr))
  await assert.rejects(run('frobnicate'), (e) => e.code === 2 && /unknown command "frobnicate"/.test(e.stderr))
  await assert.rejects(run('inspect', '--topic', 't', '--max-records', '0'), (e) => e.code === 2 && /--max-records must be a positive whole number/.test(e.stderr))
})
