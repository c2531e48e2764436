// The fork's message format: `fork` records hold every path the fork wrote, with its JSON type; `current` records differ exactly where the migration guide says.
import { test, before } from 'node:test'
import assert from 'node:assert/strict'
import { readFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import { ensureBroker, consume, uniqueTopic } from './helpers/broker.mjs'
import { spoolDir } from './helpers/spool.mjs'
import { FORK, checkForkRecord, pathTypes } from './helpers/fork-consumer.mjs'

const { KafkaExecutionLogger } = createRequire(import.meta.url)('../index.js')
const GUIDE = readFileSync(new URL('../docs/migrating-from-the-fork.md', import.meta.url), 'utf8')

let broker
before(() => {
  broker = ensureBroker()
})

const started = new Date(Math.floor(Date.now() / 1000) * 1000 - 60_000)
const stopped = new Date(started.getTime() + 2345)
const base = { workflowId: 'wf-42', workflowName: 'Order sync', workflowVersionId: 'v-7', nodeCount: 4, startedAt: started }

const webhook = { mode: 'webhook', triggerNode: 'Webhook', triggerNodeType: 'n8n-nodes-base.webhook' }
const manual = { mode: 'manual', triggerNode: "When clicking 'Execute workflow'", triggerNodeType: 'n8n-nodes-base.manualTrigger' }
const schedule = { mode: 'trigger', triggerNode: 'Schedule Trigger', triggerNodeType: 'n8n-nodes-base.scheduleTrigger' }
const rabbitmq = { mode: 'trigger', triggerNode: 'RabbitMQ Trigger', triggerNodeType: 'n8n-nodes-base.rabbitmqTrigger' }

/** One input per event the fork sent, and one it never sent (Waiting), as the n8n adapters hand them over. */
const INPUTS = [
  ['logWorkflowStarted', { ...base, executionId: '1042', ...webhook }],
  ['logWorkflowFinished', { ...base, executionId: '1042', ...webhook, status: 'success', stoppedAt: stopped }],
  ['logWorkflowFinished', {
    ...base, executionId: '1043', ...manual, status: 'error', stoppedAt: stopped, userId: 'user-1',
    error: { message: 'The resource you are requesting could not be found', name: 'NodeApiError', stack: 'NodeApiError: ...', nodeName: 'HTTP Request', nodeId: 'node-http', nodeType: 'n8n-nodes-base.httpRequest' },
  }],
  ['logWorkflowFinished', { ...base, executionId: '1044', ...schedule, status: 'canceled', stoppedAt: stopped }],
  ['logWorkflowFinished', { ...base, executionId: '1045', ...rabbitmq, status: 'waiting', stoppedAt: stopped }],
]

/** The records one logger with `options` writes for INPUTS, by event name. */
async function records(options) {
  const topic = uniqueTopic('fork-format')
  const logger = new KafkaExecutionLogger({ brokers: broker.plaintext, topic, spoolDir: spoolDir(), instanceId: 'n8n-main-0', n8nVersion: '1.104.2', environment: 'production', validateOnStartup: true, ...options })
  try {
    await logger.initialize()
    for (const [method, input] of INPUTS) assert.equal(logger[method](input), true)
    assert.deepEqual(await logger.flush(20_000), { delivered: INPUTS.length, pending: 0 })
  } finally {
    await logger.shutdown(5000)
  }
  const consumed = await consume({ brokers: broker.plaintext, topic, count: INPUTS.length })
  assert.equal(consumed.length, INPUTS.length)
  return Object.fromEntries(consumed.map((r) => [r.value.event, r]))
}

/** Rows of the guide's message table: the backticked field paths, what `current` writes, and the verdict. */
function guideRows() {
  const section = GUIDE.slice(GUIDE.indexOf('## 2. Messages and records'))
  const lines = section.split('\n').filter((l) => l.startsWith('| ') && !l.startsWith('| ---') && !l.startsWith('| Field '))
  assert.ok(lines.length > 20, 'the message table of docs/migrating-from-the-fork.md')
  return lines.map((line) => {
    const [field, , here, , verdict] = line.split('|').slice(1, -1).map((cell) => cell.trim())
    assert.match(verdict, /^(same|fixed fork bug|changed: .+)$/, line)
    const paths = [...field.matchAll(/`([A-Za-z0-9_.]+)`/g)].map((m) => m[1])
    return { paths, here, verdict, line }
  })
}

const covers = (path, listed) => path === listed || path.startsWith(`${listed}.`)
const problemPath = (problem) => problem.slice(0, problem.indexOf(':'))

test('fork mode: every path the fork wrote is there with its type, status spellings and values; KEY=message keys by messageId', async () => {
  const fork = await records({ messageFormat: 'fork', key: 'message' })
  for (const [event, record] of Object.entries(fork)) {
    assert.deepEqual(checkForkRecord(record.raw), [], `${event}: ${record.raw}`)
    assert.equal(record.key, record.value.messageId, event)
  }
  // trigger_type as the fork derived it: webhook, manual, schedule (Cancelled), and trigger for the RabbitMQ run.
  for (const [event, record] of Object.entries(FORK.records)) {
    assert.equal(fork[event].value.dimensions.trigger_type, record.dimensions.trigger_type, event)
  }
  assert.equal(fork['Workflow Waiting'].value.dimensions.trigger_type, 'trigger')
  assert.equal(fork['Workflow Cancelled'].value.dimensions.status, 'cancelled')
  assert.equal(fork['Workflow Waiting'].value.dimensions.status, 'waiting')
  assert.equal(fork['Workflow Started'].value.context.instance.id, 'n8n-main-0')
  assert.equal(fork['Workflow Completed'].value.metrics.duration_ms, 2345)
  assert.equal(fork['Workflow Completed'].value.timestamp, stopped.toISOString())
})

test('current mode differs from the fork exactly where the migration guide says', async () => {
  const current = await records({})
  assert.equal(current['Workflow Started'].key, '1042')
  const problems = Object.keys(FORK.records).flatMap((event) => checkForkRecord(current[event].raw))
  // Also the paths the fork wrote only when it had the value (FORK.optional): the inputs give every one.
  const absent = Object.entries(FORK.records).flatMap(([event, fork]) => {
    const ours = pathTypes(current[event].value)
    return [...pathTypes(fork).keys()].filter((path) => !ours.has(path))
  })
  // A value consumers group by: where current mode writes another one than the fork did, that is a difference too.
  const triggerTypes = Object.entries(FORK.records).filter(([event, fork]) => current[event].value.dimensions.trigger_type !== fork.dimensions.trigger_type)
  const differing = new Set([...problems.map(problemPath), ...absent, ...(triggerTypes.length ? ['dimensions.trigger_type'] : [])])
  assert.ok(differing.has('dimensions.version') && differing.has('context.instance'), problems.join('\n'))
  const rows = guideRows()
  for (const path of differing) {
    assert.ok(rows.some((r) => r.verdict !== 'same' && r.paths.some((p) => covers(path, p))), `the guide does not list ${path}: ${problems.join('\n')}`)
  }
  for (const row of rows.filter((r) => r.verdict === 'same')) {
    for (const listed of row.paths) {
      assert.ok(![...differing].some((path) => covers(path, listed)), `the guide says ${listed} is the same: ${problems.join('\n')}`)
    }
  }
  for (const row of rows.filter((r) => r.here.startsWith('not written'))) {
    for (const listed of row.paths) assert.ok(differing.has(listed), `the guide says current records lack ${listed}`)
  }
  // Every field the fork wrote (each value that is not an object) has its row.
  const forkPaths = new Set(Object.values(FORK.records).flatMap((r) => [...pathTypes(r)].filter(([, type]) => type !== 'object').map(([path]) => path)))
  for (const path of forkPaths) assert.ok(rows.some((r) => r.paths.some((p) => covers(path, p))), `no row for ${path}`)
})

test('the fork-format checker reports what a fork consumer would trip on', async () => {
  const fork = await records({ messageFormat: 'fork' })
  const raw = fork['Workflow Completed'].raw
  const broken = raw.replace('"node_count":4', '"node_count":4.0').replace('"status":"success"', '"status":"succeeded"')
  const value = JSON.parse(broken)
  delete value.context.n8n
  value.dimensions.version = 1104
  value.dimensions.trigger_type = 'sub_workflow'
  assert.deepEqual(checkForkRecord(broken), ['dimensions.status: "succeeded", the fork wrote "success" on Workflow Completed', 'metrics.node_count: written as 4.0, the fork wrote an integer'])
  assert.deepEqual(checkForkRecord(value).sort(), [
    'context.n8n.execution_mode: missing (the fork wrote string)',
    'context.n8n.instance_type: missing (the fork wrote string)',
    'context.n8n: missing (the fork wrote object)',
    'dimensions.status: "succeeded", the fork wrote "success" on Workflow Completed',
    'dimensions.trigger_type: "sub_workflow" is not one the fork wrote (manual, webhook, cli, schedule, trigger, error, retry, integrated, internal, evaluation)',
    'dimensions.version: integer, the fork wrote string',
  ])
})
