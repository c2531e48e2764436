// Demo of the core API: logs sample executions to the local broker, prints them as consumed, then the health.
import { createRequire } from 'node:module'
import { ensureBroker, consume, uniqueTopic } from '../../__test__/helpers/broker.mjs'

const { KafkaExecutionLogger } = createRequire(import.meta.url)('../../index.js')
const broker = ensureBroker()
const topic = uniqueTopic('demo-executions')
const kafka = new KafkaExecutionLogger({ brokers: broker.plaintext, topic, instanceId: 'demo-instance', n8nVersion: 'demo', environment: 'demo', logger: console })
await kafka.initialize()

const now = Date.now()
const samples = [
  { executionId: 'demo-1', workflowId: 'wf-orders', workflowName: 'Sync orders', mode: 'webhook', tags: ['shop'], status: 'success', nodeCount: 5 },
  { executionId: 'demo-2', workflowId: 'wf-report', workflowName: 'Daily report', mode: 'trigger', status: 'error', nodeCount: 3,
    error: { message: 'Request failed with status code 503', name: 'NodeApiError', nodeName: 'Fetch sales', nodeType: 'n8n-nodes-base.httpRequest' } },
  { executionId: 'demo-3', workflowId: 'wf-orders', workflowName: 'Sync orders', mode: 'retry', retryOf: 'demo-0', status: 'success', nodeCount: 5 },
]
for (const [i, s] of samples.entries()) {
  const startedAt = new Date(now - 5000 + i * 1000)
  const { status, error, ...start } = s
  kafka.logWorkflowStarted({ ...start, startedAt })
  kafka.logWorkflowFinished({ ...s, startedAt, stoppedAt: new Date(startedAt.getTime() + 420 + i * 300) })
}
const flushed = await kafka.flush(10000)
console.log(`\nflushed: ${JSON.stringify(flushed)}\n\nConsumed from ${topic} on ${broker.plaintext}:`)
for (const m of await consume({ brokers: broker.plaintext, topic, count: samples.length * 2 })) {
  const e = m.value
  const extra = [e.metrics.duration_ms !== undefined && `${e.metrics.duration_ms} ms`, e.properties.error_node_name && `failed at "${e.properties.error_node_name}": ${e.properties.error_message}`, e.flags.is_retry && `retry of ${e.properties.retry_of}`].filter(Boolean).join(', ')
  console.log(`  p${m.partition}@${m.offset} key=${m.key} ${e.timestamp} ${e.event.padEnd(18)} ${e.properties.workflow_name} (${e.dimensions.execution_mode})${extra ? ` ${extra}` : ''}`)
}
console.log('\nOne event in full:\n' + JSON.stringify((await consume({ brokers: broker.plaintext, topic, count: 4 }))[3].value, null, 2))
console.log('\nHealth snapshot:\n' + JSON.stringify(kafka.getHealthMetrics(), null, 2))
await kafka.shutdown(5000)
