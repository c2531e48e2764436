// Benchmark (not a test): webhook workflow latency and executions/s of real n8n with and without the logger.
// Usage: node bench/n8n-webhook.mjs [--reps 3] [--requests 200] [--concurrency 8]  -> bench/results/n8n-webhook.json
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { parseArgs } from 'node:util'
import * as I from '../scripts/n8n/n8n-instance.mjs'
import { ensureBroker, uniqueTopic } from '../__test__/helpers/broker.mjs'

const { values: opt } = parseArgs({
  options: { reps: { type: 'string', default: '3' }, requests: { type: 'string', default: '200' }, concurrency: { type: 'string', default: '8' } },
})
const [reps, requests, concurrency] = [Number(opt.reps), Number(opt.requests), Number(opt.concurrency)]
const broker = ensureBroker()
const version = I.PINNED()
I.stagePackage(version)

async function start(withLogger) {
  const userFolder = mkdtempSync(join(tmpdir(), 'kel-bench-n8n-'))
  const extra = withLogger
    ? { EXTERNAL_HOOK_FILES: 'n8n-kafka-execution-logger/hooks', N8N_KAFKA_LOGGER_ENABLED: 'true', N8N_KAFKA_LOGGER_BROKERS: broker.plaintext, N8N_KAFKA_LOGGER_TOPIC: uniqueTopic('bench-n8n') }
    : {}
  const env = I.n8nEnv({ userFolder, port: await I.freePort(), runnerPort: await I.freePort(), extra })
  await I.importWorkflows(version, env, new URL('../__test__/fixtures/workflows', import.meta.url).pathname)
  const n8n = I.startN8n(version, env)
  await n8n.ready()
  const apiKey = await I.createApiKey(n8n.url, await I.setupOwner(n8n.url))
  await I.publicApi(n8n.url, apiKey, 'POST', '/workflows/klWebhookOk00001/activate')
  return n8n
}

async function post(url) {
  const began = process.hrtime.bigint()
  const res = await fetch(`${url}/webhook/kl-ok`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"bench":true}' })
  await res.arrayBuffer()
  if (res.status !== 200) throw new Error(`webhook answered ${res.status}`)
  return Number(process.hrtime.bigint() - began) / 1e6
}

const pct = (sorted, q) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]

async function measure(withLogger) {
  const n8n = await start(withLogger)
  try {
    for (let i = 0; i < 20; i++) await post(n8n.url) // warm-up
    const latencies = []
    for (let i = 0; i < requests; i++) latencies.push(await post(n8n.url))
    latencies.sort((a, b) => a - b)
    const began = Date.now()
    let sent = 0
    await Promise.all(Array.from({ length: concurrency }, async () => { while (sent++ < requests) await post(n8n.url) }))
    const perSecond = requests / ((Date.now() - began) / 1000)
    return { p50: pct(latencies, 0.5), p99: pct(latencies, 0.99), mean: latencies.reduce((a, b) => a + b) / latencies.length, executionsPerSecond: perSecond }
  } finally {
    await n8n.stop()
  }
}

const runs = { without: [], with: [] }
for (let r = 0; r < reps; r++) {
  for (const mode of r % 2 ? ['with', 'without'] : ['without', 'with']) {
    const result = await measure(mode === 'with')
    runs[mode].push(result)
    console.log(`rep ${r + 1} ${mode.padEnd(7)} logger: p50 ${result.p50.toFixed(1)} ms, p99 ${result.p99.toFixed(1)} ms, ${result.executionsPerSecond.toFixed(1)} executions/s`)
  }
}
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]
const summary = Object.fromEntries(
  Object.entries(runs).map(([mode, rs]) => [mode, Object.fromEntries(['p50', 'p99', 'mean', 'executionsPerSecond'].map((k) => [k, { median: median(rs.map((r) => r[k])), min: Math.min(...rs.map((r) => r[k])), max: Math.max(...rs.map((r) => r[k])) }]))]),
)
summary.latencyRatioP50 = summary.with.p50.median / summary.without.p50.median
summary.throughputRatio = summary.with.executionsPerSecond.median / summary.without.executionsPerSecond.median
const out = new URL('./results/', import.meta.url).pathname
mkdirSync(out, { recursive: true })
writeFileSync(join(out, 'n8n-webhook.json'), JSON.stringify({ n8n: version, reps, requests, concurrency, runs, summary, at: new Date().toISOString() }, null, 2))
console.log(`\nmedian p50 ${summary.without.p50.median.toFixed(1)} -> ${summary.with.p50.median.toFixed(1)} ms (x${summary.latencyRatioP50.toFixed(3)}), executions/s ${summary.without.executionsPerSecond.median.toFixed(1)} -> ${summary.with.executionsPerSecond.median.toFixed(1)} (x${summary.throughputRatio.toFixed(3)})`)
