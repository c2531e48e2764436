// Benchmark (not a test): webhook workflow latency and executions/s of real n8n with and without the logger.
// Usage: node bench/n8n-webhook.mjs [--reps 5] [--requests 200] [--concurrency 8]  -> bench/results/n8n-webhook.json
//        --control: both instances without the logger (an A/A run: the comparison's own noise) -> n8n-webhook-control.json
// Uses the bench's own broker (BENCH_BROKER_BASE, default 29620, as bench/run.sh). It stages this checkout into the
// n8n install under N8N_CACHE (scripts/n8n/env.sh): point N8N_CACHE at a private copy (cp -al) when other
// checkouts on the machine run their n8n tests at the same time.
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createRequire } from 'node:module'
import { parseArgs } from 'node:util'
import * as I from '../scripts/n8n/n8n-instance.mjs'
import { brokerScript, uniqueTopic } from '../__test__/helpers/broker.mjs'

const { values: opt } = parseArgs({
  options: { reps: { type: 'string', default: '5' }, requests: { type: 'string', default: '200' }, concurrency: { type: 'string', default: '8' }, control: { type: 'boolean', default: false } },
})
const [reps, requests, concurrency] = [Number(opt.reps), Number(opt.requests), Number(opt.concurrency)]
const BROKER_BASE = process.env.BENCH_BROKER_BASE || '29620'
brokerScript({ KAFKA_PORT_BASE: BROKER_BASE }, 'start')
const broker = { plaintext: `127.0.0.1:${BROKER_BASE}` }
const version = I.PINNED()
I.stagePackage(version)

async function start(withLogger) {
  const userFolder = mkdtempSync(join(tmpdir(), 'kel-bench-n8n-'))
  const topic = uniqueTopic('bench-n8n')
  const extra = withLogger
    ? { EXTERNAL_HOOK_FILES: 'n8n-kafka-execution-logger/hooks', N8N_KAFKA_LOGGER_ENABLED: 'true', N8N_KAFKA_LOGGER_BROKERS: broker.plaintext, N8N_KAFKA_LOGGER_TOPIC: topic }
    : {}
  const env = I.n8nEnv({ userFolder, port: await I.freePort(), runnerPort: await I.freePort(), extra })
  await I.importWorkflows(version, env, new URL('../__test__/fixtures/workflows', import.meta.url).pathname)
  const n8n = I.startN8n(version, env)
  await n8n.ready()
  const apiKey = await I.createApiKey(n8n.url, await I.setupOwner(n8n.url))
  await I.publicApi(n8n.url, apiKey, 'POST', '/workflows/klWebhookOk00001/activate')
  n8n.topic = topic
  return n8n
}

/** Events the logger wrote for this n8n: proof that the "with" runs really logged every execution. */
async function eventsLogged(topic) {
  const { readTopic } = createRequire(import.meta.url)('../index.js')
  return (await readTopic({ brokers: broker.plaintext }, { topic, timeoutMs: 30000 })).records.length
}

async function post(url) {
  const began = process.hrtime.bigint()
  const res = await fetch(`${url}/webhook/kl-ok`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"bench":true}' })
  await res.arrayBuffer()
  if (res.status !== 200) throw new Error(`webhook answered ${res.status}`)
  return Number(process.hrtime.bigint() - began) / 1e6
}

const pct = (sorted, q) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]

/** CPU time (ms) of an n8n process so far, from /proc: utime + stime in clock ticks (USER_HZ = 100). */
function cpuMs(n8n) {
  const fields = readFileSync(`/proc/${n8n.child.pid}/stat`, 'utf8').split(') ')[1].split(' ')
  return (Number(fields[11]) + Number(fields[12])) * 10
}

/** CPU ms so far per thread group of an n8n process: `main` (the event loop), `logger` (the logger's worker and
 * librdkafka's threads), `other` (libuv's pool, V8's helpers). Threads that ended are not counted. */
function threadCpuMs(n8n) {
  const out = { main: 0, logger: 0, other: 0 }
  const dir = `/proc/${n8n.child.pid}/task`
  for (const tid of readdirSync(dir)) {
    try {
      const stat = readFileSync(`${dir}/${tid}/stat`, 'utf8')
      const name = stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')'))
      const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
      const group = Number(tid) === n8n.child.pid ? 'main' : /^(rdk:|kafka-execution)/.test(name) ? 'logger' : 'other'
      out[group] += (Number(f[11]) + Number(f[12])) * 10
    } catch {
      /* the thread ended */
    }
  }
  return out
}

/** Sequential requests alternating between the two instances (order flipped each round): paired samples. */
async function latencies(pair, n) {
  const out = { without: [], with: [], cpuMs: {}, threads: {} }
  const cpu0 = { without: cpuMs(pair.without), with: cpuMs(pair.with) }
  const threads0 = { without: threadCpuMs(pair.without), with: threadCpuMs(pair.with) }
  for (let i = 0; i < n; i++) {
    for (const mode of i % 2 ? ['with', 'without'] : ['without', 'with']) out[mode].push(await post(pair[mode].url))
  }
  for (const mode of ['without', 'with']) {
    out.cpuMs[mode] = cpuMs(pair[mode]) - cpu0[mode]
    const t = threadCpuMs(pair[mode])
    out.threads[mode] = Object.fromEntries(Object.keys(t).map((k) => [k, t[k] - threads0[mode][k]]))
  }
  return out
}

/** executions/s with `concurrency` requests in flight, for `n` requests. */
async function throughput(n8n, n) {
  const began = Date.now()
  let sent = 0
  await Promise.all(Array.from({ length: concurrency }, async () => { while (sent++ < n) await post(n8n.url) }))
  return n / ((Date.now() - began) / 1000)
}

const summarize = (xs) => {
  const a = [...xs].sort((x, y) => x - y)
  return { p50: pct(a, 0.5), p99: pct(a, 0.99), mean: a.reduce((x, y) => x + y) / a.length, n: a.length }
}
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]

// Both instances run side by side and see the same machine load; rounds alternate which goes first.
const [without, withLogger] = await Promise.all([start(false), start(!opt.control)])
const pair = { without, with: withLogger }
const runs = {
  without: { latency: [], perSecond: [], cpuMs: 0, threads: { main: 0, logger: 0, other: 0 } },
  with: { latency: [], perSecond: [], cpuMs: 0, threads: { main: 0, logger: 0, other: 0 } },
}
try {
  await latencies(pair, 20) // warm-up
  for (let r = 0; r < reps; r++) {
    const l = await latencies(pair, requests)
    for (const mode of ['without', 'with']) {
      runs[mode].latency.push(...l[mode])
      runs[mode].cpuMs += l.cpuMs[mode]
      for (const k of Object.keys(runs[mode].threads)) runs[mode].threads[k] += l.threads[mode][k]
    }
    for (const mode of r % 2 ? ['with', 'without'] : ['without', 'with']) runs[mode].perSecond.push(await throughput(pair[mode], requests))
    const last = (mode) => `p50 ${summarize(l[mode]).p50.toFixed(1)} ms, ${runs[mode].perSecond.at(-1).toFixed(1)} executions/s`
    console.log(`round ${r + 1}: without ${last('without')}; with ${last('with')}`)
  }
} finally {
  await Promise.all([without.stop(), withLogger.stop()]) // shutdown flushes the logger
}
// Each execution yields a start and an end event: warm-up, sequential and concurrent requests.
const expected = 2 * (20 + 2 * reps * requests)
const logged = opt.control ? 0 : await eventsLogged(withLogger.topic)
if (!opt.control && logged < expected) throw new Error(`the logger wrote ${logged} events, expected ${expected}`)
const perExecution = (t) => Object.fromEntries(Object.entries(t).map(([k, v]) => [k, v / (reps * requests)]))
const summary = {
  // n8n's own process (main), sequential phase: CPU per execution.
  without: { ...summarize(runs.without.latency), executionsPerSecond: median(runs.without.perSecond), cpuMsPerExecution: runs.without.cpuMs / (reps * requests), threadCpuMsPerExecution: perExecution(runs.without.threads) },
  with: { ...summarize(runs.with.latency), executionsPerSecond: median(runs.with.perSecond), cpuMsPerExecution: runs.with.cpuMs / (reps * requests), threadCpuMsPerExecution: perExecution(runs.with.threads) },
  eventsLogged: logged,
}
summary.latencyRatioP50 = summary.with.p50 / summary.without.p50
summary.latencyRatioMean = summary.with.mean / summary.without.mean
summary.throughputRatio = summary.with.executionsPerSecond / summary.without.executionsPerSecond
const out = new URL('./results/', import.meta.url).pathname
mkdirSync(out, { recursive: true })
writeFileSync(join(out, opt.control ? 'n8n-webhook-control.json' : 'n8n-webhook.json'), JSON.stringify({ n8n: version, reps, requests, concurrency, perSecond: { without: runs.without.perSecond, with: runs.with.perSecond }, summary, at: new Date().toISOString() }, null, 2))
console.log(`\nlatency p50 ${summary.without.p50.toFixed(2)} -> ${summary.with.p50.toFixed(2)} ms (x${summary.latencyRatioP50.toFixed(3)}), mean x${summary.latencyRatioMean.toFixed(3)}; executions/s ${summary.without.executionsPerSecond.toFixed(1)} -> ${summary.with.executionsPerSecond.toFixed(1)} (x${summary.throughputRatio.toFixed(3)}); n8n CPU per execution ${summary.without.cpuMsPerExecution.toFixed(2)} -> ${summary.with.cpuMsPerExecution.toFixed(2)} ms; ${logged} events logged`)
