// A stand-in for an n8n process in the fault-injection matrix: logs a known, numbered stream of events at a
// steady rate through the package, so faults land mid-stream, and reports what it did.
//
// Usage: node host.mjs '<JSON>'   with { options: KafkaLoggerOptions, run: { prefix, start, count, rate,
//   baseTime, bigEvery, bigBytes, pad, progressFile, healthMs, shutdownMs } }   (pad: workflow name length, to make events bigger)
//
// Event i (start <= i < start + count) is logWorkflowStarted for execution `${prefix}-${i}` with event time
// baseTime + i, so every event has its own key and messageId. baseTime must be recent: Kafka's retention deletes
// log segments whose record timestamps are older than 7 days, which would read back as lost. With bigEvery, every
// bigEvery-th event is instead a Workflow Failed with a random stack of bigBytes (incompressible for lz4).
// `progressFile` holds three numbers, rewritten in place after every call, so after a SIGKILL they are what the
// host knew last: `accepted`, the events the package accepted so far (log call returned true: exact); `durable`,
// how many of them were acknowledged to disk (health spool.spooled, read at every tick: in disk mode every
// accepted event is appended to the spool in acceptance order and spool.spooled counts this process's appends, so
// events start .. start + durable - 1 had reached the disk; meaningless in memory mode); `acceptedBefore`, what
// `accepted` was 2 x SPOOL_SYNC_INTERVAL before that tick (events accepted since may not be on disk yet).
// stdout: JSON lines {type:'ready', rss}, {type:'health', health, rss, accepted, rejected}, {type:'done'} when the
// count is logged, {type:'result', result, rss} after SIGTERM (shutdown(shutdownMs)), {type:'crash', error}.
import { createRequire } from 'node:module'
import { openSync, writeSync } from 'node:fs'
import { randomBytes } from 'node:crypto'

const { KafkaExecutionLogger } = createRequire(import.meta.url)('../../index.js')
const { options, run } = JSON.parse(process.argv[2])
const { prefix, baseTime = Date.now(), start = 0, count = 0, rate = 200, bigEvery = 0, bigBytes = 0, pad = 0, progressFile, healthMs = 250, shutdownMs = 5000 } = run
const workflowName = pad > 0 ? `reliability-${'x'.repeat(pad)}` : 'reliability'

const say = (type, data = {}) => writeSync(1, JSON.stringify({ type, ...data }) + '\n')
const die = (error) => {
  say('crash', { error: String(error?.stack ?? error) })
  process.exit(70)
}
process.on('uncaughtException', die)
process.on('unhandledRejection', die)

const logger = new KafkaExecutionLogger({ ...options, logger: { error: (m) => console.error(`[error] ${m}`), warn: (m) => console.error(`[warn] ${m}`), info: (m) => console.error(`[info] ${m}`) } })
await logger.initialize()

const progressFd = progressFile ? openSync(progressFile, 'w') : null
let accepted = 0
let rejected = 0
let next = start
let stopping = false
const end = start + count
let durable = 0
let acceptedBefore = 0
const syncWindowMs = 2 * logger.getHealthMetrics().config.spoolSyncIntervalMs
const tickHistory = [] // [time, accepted] of the ticks of the last syncWindowMs

function report() {
  // Fixed width, so each rewrite replaces the whole previous content in one write.
  if (progressFd !== null) writeSync(progressFd, `${[accepted, durable, acceptedBefore].map((x) => String(x).padStart(12, ' ')).join(' ')}\n`, 0)
}
report()

function noteDurable() {
  const now = Date.now()
  durable = logger.getHealthMetrics().spool.spooled ?? 0
  tickHistory.push([now, accepted])
  while (tickHistory.length > 1 && tickHistory[1][0] <= now - syncWindowMs) tickHistory.shift()
  if (tickHistory[0][0] <= now - syncWindowMs) acceptedBefore = tickHistory[0][1]
  report()
}

function logOne(i) {
  const executionId = `${prefix}-${i}`
  const startedAt = baseTime + i
  let ok
  if (bigEvery > 0 && i % bigEvery === bigEvery - 1) {
    ok = logger.logWorkflowFinished({
      executionId, workflowId: 'wf-rel', workflowName, status: 'error', startedAt, stoppedAt: startedAt,
      error: { message: 'big', stack: randomBytes(Math.ceil((bigBytes * 3) / 4)).toString('base64') },
    })
  } else {
    ok = logger.logWorkflowStarted({ executionId, workflowId: 'wf-rel', workflowName, mode: 'webhook', startedAt })
  }
  if (ok) accepted++
  else rejected++
  report()
}

const began = Date.now()
const health = () => {
  const h = logger.getHealthMetrics()
  delete h.config
  return h
}
say('ready', { health: health(), pid: process.pid, rss: process.memoryUsage.rss() })

// Steady rate: every 10 ms, log what the clock says is due (catching up after a stall).
const ticker = setInterval(() => {
  if (stopping) return
  const due = Math.min(end, start + Math.floor(((Date.now() - began) * rate) / 1000))
  while (next < due) logOne(next++)
  noteDurable()
  if (next >= end) {
    clearInterval(ticker)
    say('done', { accepted, rejected })
  }
}, 10)
if (count === 0) {
  clearInterval(ticker)
  say('done', { accepted, rejected })
}

setInterval(() => say('health', { health: health(), rss: process.memoryUsage.rss(), accepted, rejected, next }), healthMs)

process.on('SIGTERM', async () => {
  stopping = true
  clearInterval(ticker)
  const began = Date.now()
  const result = await logger.shutdown(shutdownMs)
  say('result', { result, tookMs: Date.now() - began, health: health(), rss: process.memoryUsage.rss(), accepted, rejected })
  process.exit(0)
})
