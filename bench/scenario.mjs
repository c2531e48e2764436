// One measurement in a fresh process: `node scenario.mjs '<json options>'`, prints one JSON result line.
import { monitorEventLoopDelay } from 'node:perf_hooks'
import { execFileSync } from 'node:child_process'
import { createClient } from './clients/index.mjs'
import { makeInput, threadCpuNs, processCpuNs, rssMB, sleep, median } from './lib/common.mjs'

const o = JSON.parse(process.argv[2])
const { client: name, scenario, brokers, topic } = o
const out = (r) => { process.stdout.write(JSON.stringify({ client: name, scenario, rate: o.rate ?? null, ...r }) + '\n') }

async function waitAcked(c, n, ms) {
  const end = Date.now() + ms
  while (c.acked() < n && Date.now() < end) await sleep(10)
  return c.acked() >= n
}

/** Paced (rate > 0: a 1 ms timer sends what is due) or max (rate 0: chunks per event-loop turn) logging. */
async function load(c, { rate, warmupS, durationS, window }) {
  let sent = 0, acked = 0, harnessNs = 0, sendNs = 0, stop = false
  const poll = () => { const t = threadCpuNs(); acked = c.acked(); harnessNs += threadCpuNs() - t }
  const h = monitorEventLoopDelay() // Node's default 10 ms resolution: fewer wake-ups of its own
  const rss = []
  let measuring = false, m0 = null
  const sampler = setInterval(() => { poll(); rss.push([measuring, rssMB()]) }, rate ? 200 : 20)
  const t0 = performance.now()
  const due = () => (rate ? Math.floor(((performance.now() - t0) * rate) / 1000) : sent + 500)
  const sendDue = () => {
    const target = due(), before = sent
    // A client whose ack count costs a health snapshot is polled every 20 ms; when that stale view says the
    // window is full, look again before napping, or the harness throttles it below what it can do.
    if (c.cheapAcked) acked = c.acked()
    else if (sent - acked >= window) poll()
    const batch = []
    while (sent < target && sent - acked < window) batch.push(makeInput(sent++))
    // The send calls alone, inputs built beforehand: the in-call cost at this rate (a cold start every tick).
    // Wall time, an upper bound of their CPU: a thread CPU clock read around a window this short is stale
    // (Linux updates it at context switches and scheduler ticks, so most windows read 0).
    const t = process.hrtime.bigint()
    for (let i = 0; i < batch.length; i++) c.send(batch[i])
    sendNs += Number(process.hrtime.bigint() - t)
    return sent > before
  }
  const timer = rate ? setInterval(sendDue, rate >= 5000 ? 1 : 5) : null
  // Max: a chunk per event-loop turn while fewer than `window` events are unacknowledged; a 1 ms nap when full.
  if (!rate) (function pump() { if (stop) return; if (sendDue()) setImmediate(pump); else setTimeout(pump, 1) })()
  await sleep(warmupS * 1000)
  poll()
  m0 = { cpu: threadCpuNs(), pcpu: processCpuNs(), sent, acked, t: performance.now(), harnessNs, sendNs }
  c.recordLatency(true); h.enable(); measuring = true
  await sleep(durationS * 1000)
  poll()
  const m1 = { cpu: threadCpuNs(), pcpu: processCpuNs(), sent, acked, t: performance.now(), harnessNs, sendNs }
  h.disable(); measuring = false; c.recordLatency(false); stop = true
  clearInterval(timer)
  const caughtUp = await waitAcked(c, sent, 20000)
  clearInterval(sampler)
  const secs = (m1.t - m0.t) / 1000
  const events = m1.sent - m0.sent
  const cpuNs = m1.cpu - m0.cpu - (m1.harnessNs - m0.harnessNs)
  const win = rss.filter(([m]) => m).map(([, v]) => v)
  return {
    secs, sent: events, sentRate: events / secs, ackedRate: (m1.acked - m0.acked) / secs,
    jsCpuNsPerEvent: cpuNs / Math.max(1, events), jsCpuPct: (cpuNs / 1e9 / secs) * 100,
    sendWallNsPerEvent: (m1.sendNs - m0.sendNs) / Math.max(1, events),
    procCpuMsPer100k: ((m1.pcpu - m0.pcpu) / 1e6) * (100000 / Math.max(1, events)), procCpuPct: ((m1.pcpu - m0.pcpu) / 1e9 / secs) * 100,
    loopDelayMs: { p50: h.percentile(50) / 1e6, p99: h.percentile(99) / 1e6, max: h.max / 1e6 },
    latencyMs: c.latency(), caughtUp,
    rssMB: { steady: median(win), peak: Math.max(...rss.map(([, v]) => v)) },
  }
}

/** 100k events queued before the worker exists, then initialize() + shutdown(): the time to drain all of them. */
async function drain() {
  const { KafkaExecutionLogger } = (await import('node:module')).createRequire(import.meta.url)(process.env.BENCH_ADDON || '../index.js')
  const { mkdtempSync } = await import('node:fs')
  const { tmpdir } = await import('node:os')
  // lz4 as in every other measurement of the package (bench/clients/index.mjs).
  const l = new KafkaExecutionLogger({ brokers, topic, instanceId: 'bench', logger: {}, compression: 'lz4', queueMaxSize: o.events + 10000, spoolDir: mkdtempSync(`${tmpdir()}/bench-spool-`) })
  const cpu0 = threadCpuNs()
  for (let i = 0; i < o.events; i++) l.logWorkflowFinished(makeInput(i))
  const logCpuMs = (threadCpuNs() - cpu0) / 1e6
  const queued = l.getHealthMetrics().queue.depth
  const t0 = performance.now()
  await l.initialize()
  const r = await l.shutdown(30000)
  out({ events: o.events, queued, logCpuMs, drainMs: performance.now() - t0, ...r, deliveredTotal: l.getHealthMetrics().counters.delivered })
}

async function main() {
  if (scenario === 'drain') return drain()
  const c = await createClient(name, { brokers, topic, queueMaxSize: o.queueMaxSize })
  c.send(makeInput(-1)) // connect and fetch metadata before measuring
  if (!(await waitAcked(c, 1, 30000))) throw new Error('the first event was not acknowledged within 30 s')
  if (scenario === 'load') {
    out(await load(c, o))
  } else if (scenario === 'idle') {
    await sleep(4000)
    globalThis.gc?.()
    const cpu0 = threadCpuNs()
    await sleep(2000)
    out({ rssMB: rssMB(), idleJsCpuPct: ((threadCpuNs() - cpu0) / 2e9) * 100 })
  } else if (scenario === 'drain') {
    // Handled before createClient: the events must be queued before the worker starts.
  } else if (scenario === 'incall') {
    // The log call alone: batches of 1000 fresh inputs (built untimed), 5 ms pauses so the worker drains.
    // Wall time (an upper bound of the call's CPU; see load()), and the thread CPU clock over the whole loop.
    let ns = 0, n = 0
    const cpu0 = threadCpuNs()
    for (let b = 0; b < 200; b++) {
      const inputs = Array.from({ length: 1000 }, (_, i) => makeInput(b * 1000 + i))
      const t = process.hrtime.bigint()
      for (let i = 0; i < inputs.length; i++) c.send(inputs[i])
      ns += Number(process.hrtime.bigint() - t); n += inputs.length
      await sleep(5)
    }
    out({ events: n, inCallWallNsPerEvent: ns / n, loopCpuNsPerEvent: (threadCpuNs() - cpu0) / n, addon: process.env.BENCH_ADDON || 'index.js' })
  } else if (scenario === 'outage') {
    out(await outage(c, o))
  }
  await c.close()
}

/** Logs at `rate`/s with the broker up, frozen for `outageS`, then thawed; RSS every second. */
async function outage(c, { rate, outageS, upS, recoverS, brokerEnv }) {
  const broker = (cmd) => execFileSync('bash', ['scripts/kafka/broker.sh', cmd], { cwd: o.repo, env: { ...process.env, ...brokerEnv }, stdio: 'ignore' })
  let sent = 0
  const t0 = performance.now()
  const timer = setInterval(() => { const due = Math.floor(((performance.now() - t0) * rate) / 1000); while (sent < due) c.send(makeInput(sent++)) }, 1)
  const series = []
  let phase = 'up'
  const sampler = setInterval(() => {
    const hm = c.logger.getHealthMetrics()
    // The JS heap and external memory next to RSS, so a rise can be told apart from the addon's own memory.
    const mem = process.memoryUsage()
    series.push({ t: Math.round((performance.now() - t0) / 1000), phase, rss: +rssMB().toFixed(1), jsHeap: +(mem.heapTotal / 1048576).toFixed(1), external: +(mem.external / 1048576).toFixed(1), depth: hm.queue.depth, inFlight: hm.queue.inFlight, dropped: hm.counters.dropped, delivered: hm.counters.delivered, spooled: hm.spool?.records ?? null })
  }, 1000)
  await sleep(upS * 1000)
  broker('freeze'); phase = 'outage'
  await sleep(outageS * 1000)
  broker('thaw'); phase = 'recovery'
  await sleep(recoverS * 1000)
  clearInterval(timer); clearInterval(sampler)
  // What the last milliseconds accepted is still in flight: settle it, so the counters can show nothing was lost.
  await c.logger.flush(30000)
  const hm = c.logger.getHealthMetrics()
  const during = series.filter((s) => s.phase === 'outage')
  const half = during.slice(Math.floor(during.length / 2))
  // Least-squares slope (MB/min) over the second half: robust to the JS heap's GC sawtooth, unlike last - first.
  const slope = (pick) => {
    if (half.length < 2) return null
    const mt = half.reduce((a, x) => a + x.t, 0) / half.length, mv = half.reduce((a, x) => a + pick(x), 0) / half.length
    const num = half.reduce((a, x) => a + (x.t - mt) * (pick(x) - mv), 0), den = half.reduce((a, x) => a + (x.t - mt) ** 2, 0)
    return (num / den) * 60
  }
  return {
    // the spool's folder is a temp path of this machine: left out of the results
    rate, outageS, recoverS, sent, counters: hm.counters, spool: hm.spool ? { ...hm.spool, dir: undefined } : null,
    rssMB: {
      beforeOutage: during[0]?.rss, maxDuringOutage: Math.max(...during.map((s) => s.rss)), endOfOutage: during.at(-1)?.rss, afterRecovery: series.at(-1)?.rss,
      secondHalfSlopeMBPerMin: slope((x) => x.rss),
      // RSS less the JS heap: the addon's and librdkafka's memory plus the rest of Node.
      nativeSecondHalfSlopeMBPerMin: slope((x) => x.rss - x.jsHeap),
      jsHeapMaxDuringOutage: Math.max(...during.map((s) => s.jsHeap)),
    },
    series,
  }
}

main().catch((e) => { out({ error: String(e?.stack || e) }); process.exit(1) })
