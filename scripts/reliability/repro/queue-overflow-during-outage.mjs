// Reproduction (case 9, full figures): memory mode, Kafka unreachable, 1500 events/s: the in-memory queue
// (QUEUE_MAX_SIZE 10000) overflows and drops the oldest events although the disk spool has room (default 1 GiB
// cap). README "Queue": "While Kafka is unreachable the thread moves queued events to the disk spool, so the ring
// does not fill." Since 24b63cc the worker spills nothing from the queue while a record sent straight from the
// queue is in flight (direct_in_flight > 0, src/worker.rs spill_if_needed); with Kafka down such a record settles
// only when it times out (TIMEOUT_SEND, 5 s), and the half-open probe is again a direct record (another 5 s).
// Timing-dependent (the first direct send and the first probe must be in flight while the queue fills): most trials drop.
// Needs no broker (brokers 127.0.0.1:1). Usage: node scripts/reliability/repro/queue-overflow-during-outage.mjs [rate=1500] [seconds=15] [trials=3]
import { freshSpool, removeTempDirs, sleep, startHost } from '../lib.mjs'

const rate = Number(process.argv[2] ?? 1500)
const seconds = Number(process.argv[3] ?? 15)
const trials = Number(process.argv[4] ?? 3)
for (let t = 1; t <= trials; t++) {
  const h = startHost({ brokers: '127.0.0.1:1', topic: 'nowhere', spoolDir: freshSpool('repro-overflow'), cbResetTimeout: 5000 }, { prefix: 'q', count: rate * seconds, rate, healthMs: 1000 })
  const t0 = Date.now()
  for (;;) {
    await sleep(1000)
    const m = h.last
    if (!m?.accepted) continue
    const x = m.health
    console.log(JSON.stringify({ trial: t, s: Math.round((Date.now() - t0) / 1000), accepted: m.accepted, queueDepth: x.queue.depth, inFlight: x.queue.inFlight, breaker: x.circuitBreaker.state, spoolRecords: x.spool.records, spoolRefused: x.spool.refused, dropped: x.counters.dropped }))
    if ((m.accepted >= rate * seconds && x.queue.depth === 0) || Date.now() - t0 > (seconds + 30) * 1000) break
  }
  const x = h.last.health
  console.log(`trial ${t}: accepted ${h.last.accepted}, in the spool ${x.spool.records}, refused by the spool ${x.spool.refused}, dropped ${x.counters.dropped}: ${x.counters.dropped - x.spool.refused} events dropped by the full queue while the spool had room`)
  h.kill('SIGKILL')
  await h.exited
}
removeTempDirs()
