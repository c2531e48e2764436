// The spool refuses a directory others can write to and never writes through a symbolic link: the logger goes on in
// memory mode, says why in its log and in the health snapshot, and the file a planted link points to is untouched.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { chmodSync, mkdirSync, readFileSync, symlinkSync, writeFileSync, existsSync } from 'node:fs'
import { join } from 'node:path'
import { createRequire } from 'node:module'
import { spoolDir } from './helpers/spool.mjs'

const { KafkaExecutionLogger } = createRequire(import.meta.url)('../index.js')

/** A logger on an unreachable broker (nothing here needs Kafka), its warnings collected. */
async function logger(dir) {
  const warnings = []
  const l = new KafkaExecutionLogger({
    spoolDir: dir,
    brokers: '127.0.0.1:1',
    topic: 'nowhere',
    durability: 'disk',
    logger: { warn: (m) => warnings.push(m), error: (m) => warnings.push(m), info() {}, debug() {} },
  })
  await l.initialize()
  // The background thread opens the spool as it starts; the health snapshot shows the outcome.
  const deadline = Date.now() + 10_000
  while (!warnings.some((w) => /disk spool/.test(w)) && l.getHealthMetrics().spool.enabled === false && Date.now() < deadline) {
    await new Promise((r) => setTimeout(r, 50))
  }
  return { l, warnings }
}

test('a spool directory writable by others is refused: memory mode, logged, in the health snapshot', async () => {
  const base = spoolDir()
  chmodSync(base, 0o777)
  const { l, warnings } = await logger(base)
  const spool = l.getHealthMetrics().spool
  assert.equal(spool.enabled, false)
  assert.match(spool.error, /refusing .*: it is writable by others \(mode 0777\).*chmod 700/)
  assert.ok(warnings.some((w) => /running without a disk spool/.test(w) && w.includes('mode 0777')), warnings.join('\n'))
  assert.equal(l.logWorkflowStarted({ executionId: 'x', workflowId: 'w' }), true, 'the logger keeps accepting events')
  assert.equal(existsSync(join(base, 'slot-0')), false, 'nothing created in it')
  await l.shutdown(500)
})

test('links planted in slot-0 (lock, cursor, first segment) are refused; the file they point to is untouched', async () => {
  const base = spoolDir()
  const victim = join(spoolDir(), 'victim')
  const original = 'a file n8n can write, not a spool frame\n'.repeat(50)
  writeFileSync(victim, original)
  const slot = join(base, 'slot-0')
  mkdirSync(slot, { mode: 0o700 })
  for (const name of ['spool.lock', 'cursor', 'segment-00000000000000000000.log']) symlinkSync(victim, join(slot, name))
  const { l, warnings } = await logger(base)
  assert.equal(l.logWorkflowStarted({ executionId: 'x', workflowId: 'w' }), true)
  await new Promise((r) => setTimeout(r, 300))
  const spool = l.getHealthMetrics().spool
  assert.equal(spool.enabled, false)
  assert.match(spool.error, /refusing .*slot-0\/spool\.lock: it is a symbolic link/)
  assert.ok(warnings.some((w) => w.includes('symbolic link')), warnings.join('\n'))
  await l.shutdown(500)
  assert.equal(readFileSync(victim, 'utf8'), original, 'the victim holds no spool frames')
})
