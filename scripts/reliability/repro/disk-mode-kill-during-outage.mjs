// Reproduction (case 14): DURABILITY=disk, Kafka unreachable (breaker open), host SIGKILLed: the events accepted
// in the last ~SPOOL_SYNC_INTERVAL (100 ms) are not on disk and are lost. With Kafka up (case 13) the same kill
// loses nothing: while the breaker holds, the worker naps until the next group-commit timer instead of waking on
// new events, so the queue is moved to the spool only every SPOOL_SYNC_INTERVAL (src/worker.rs, wait(): spill_due).
// Needs no broker (brokers 127.0.0.1:1). Usage: node scripts/reliability/repro/disk-mode-kill-during-outage.mjs [trials=10]
import { join } from 'node:path'
import { freshSpool, removeTempDirs, readSpoolKeys, sleep, startHost } from '../lib.mjs'

const trials = Number(process.argv[2] ?? 10)
const rows = []
for (let t = 0; t < trials; t++) {
  const spool = freshSpool('repro-disk')
  const h = startHost({ brokers: '127.0.0.1:1', topic: 'nowhere', spoolDir: spool, durability: 'disk', cbResetTimeout: 60000 }, { prefix: 'd', count: 100000, rate: 200 })
  await h.waitHealth((x) => x.circuitBreaker.state === 'open', 30000, 'the breaker to open')
  await sleep(1000 + Math.random() * 1000)
  h.kill('SIGKILL')
  await h.exited
  const accepted = h.accepted()
  const onDisk = new Set(readSpoolKeys(join(spool, 'slot-0')))
  const missing = []
  for (let i = 0; i < accepted; i++) if (!onDisk.has(`d-${i}`)) missing.push(i)
  rows.push({ trial: t + 1, accepted, onDisk: onDisk.size, lost: missing.length, lostIndices: missing.length ? `${missing[0]}..${missing.at(-1)}` : '' })
  console.log(JSON.stringify(rows.at(-1)))
}
const lost = rows.map((r) => r.lost)
console.log(`lost per SIGKILL (disk mode, breaker open, 200 events/s): min ${Math.min(...lost)}, max ${Math.max(...lost)}, mean ${(lost.reduce((a, b) => a + b, 0) / lost.length).toFixed(1)}`)
removeTempDirs()
