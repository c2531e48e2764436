// Reproduction (case 7b): topic AND dead-letter topic missing on a broker with auto-create off.
// Expected (README "Errors"): the events end in <spool>/slot-0/dead-letters.jsonl. Observed: they stay in the spool,
// the breaker cycles open/half-open on one probe whose dead-letter send times out (retriable), forever.
// Usage: node scripts/reliability/repro/dlq-topic-missing.mjs [seconds=180]   (starts a private broker on 39582)
import { createRequire } from 'node:module'
import { mkdtempSync, existsSync, readFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Broker, sleep } from '../lib.mjs'

const { KafkaExecutionLogger } = createRequire(import.meta.url)('../../../index.js')
const seconds = Number(process.argv[2] ?? 180)
const broker = new Broker(39582, { KAFKA_AUTO_CREATE_TOPICS: 'false' })
await broker.start()
const spoolDir = mkdtempSync(join(tmpdir(), 'kel-repro-'))
const topic = `missing-${Date.now()}`
const logger = new KafkaExecutionLogger({ brokers: broker.plaintext, topic, spoolDir, instanceId: 'repro', cbResetTimeout: 5000, logger: { warn: (m) => console.error(m), error: (m) => console.error(m), info: (m) => console.error(m) } })
await logger.initialize()
for (let i = 0; i < 20; i++) logger.logWorkflowStarted({ executionId: `r-${i}`, workflowId: 'w', startedAt: Date.now() })
const file = join(spoolDir, 'slot-0', 'dead-letters.jsonl')
for (let t = 0; t <= seconds; t += 10) {
  const h = logger.getHealthMetrics()
  const lines = existsSync(file) ? readFileSync(file, 'utf8').split('\n').filter(Boolean).length : 0
  console.log(JSON.stringify({ t, breaker: h.circuitBreaker.state, counters: h.counters, spoolRecords: h.spool.records, inFlight: h.queue.inFlight, lastError: h.lastError?.kind, deadLetterFileLines: lines }))
  if (h.counters.deadLettered === 20) break
  await sleep(10_000)
}
console.log(JSON.stringify(await logger.shutdown(3000)))
await broker.wipe()
