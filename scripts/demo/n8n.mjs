// Demo inside real n8n: the stock hook file, sample workflows (CLI success and failure, webhook success and
// failure), the events as consumed from Kafka, the health snapshot and where the status page is.
import { execFileSync } from 'node:child_process'
import { ensureBroker, consume, uniqueTopic } from '../../__test__/helpers/broker.mjs'

const broker = ensureBroker()
const topic = uniqueTopic('demo-n8n')
const n8n = (...args) => execFileSync(process.execPath, [new URL('../n8n/n8n.mjs', import.meta.url).pathname, ...args], { encoding: 'utf8' })

n8n('down')
console.log(n8n('up', '--brokers', broker.plaintext, '--topic', topic).trim())
const url = 'http://127.0.0.1:5678'
for (const id of ['klSuccess0000001', 'klCodeThrows0001']) {
  try {
    console.log(n8n('execute', id).trim())
  } catch (e) {
    console.log(e.stdout.trim()) // a failing workflow exits 1: that is the point of this sample
  }
}
for (const path of ['kl-ok', 'kl-fail']) {
  const response = await fetch(`${url}/webhook/${path}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"demo":true}' })
  console.log(`POST /webhook/${path}: HTTP ${response.status}`)
}

console.log(`\nConsumed from ${topic}:`)
for (const m of await consume({ brokers: broker.plaintext, topic, count: 8, timeoutMs: 60000 })) {
  const e = m.value
  const failure = e.properties.error_node_name ? ` failed at "${e.properties.error_node_name}": ${e.properties.error_message}` : ''
  const duration = e.metrics.duration_ms !== undefined ? ` ${e.metrics.duration_ms} ms` : ''
  console.log(`  execution ${m.key.padEnd(3)} ${e.timestamp} ${e.event.padEnd(18)} ${e.properties.workflow_name} (${e.dimensions.execution_mode})${duration}${failure}`)
}
console.log('\nHealth snapshot from n8n (GET /rest/kafka-logger/health):')
console.log(n8n('status').trim())
console.log(`\nStatus page: open ${url}/rest/kafka-logger/health in a browser logged in to n8n (owner: see scripts/n8n/n8n-instance.mjs),`)
console.log(`or: curl -H 'Authorization: Bearer local-demo-token' ${url}/rest/kafka-logger/health`)
console.log(`Prometheus metrics: ${url}/metrics (n8n_kafka_logger_*)`)
console.log('\nn8n keeps running for you to explore. Stop it with: node scripts/n8n/n8n.mjs down')
