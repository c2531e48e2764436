// Self-test of the end-to-end suites' helpers: TopicReader.assertNoMore fails on an extra event, on a duplicate of
// one already read and on a topic it cannot read, and passes only when the topic holds exactly what was read
// (nothing, for a topic the broker does not know); withLock keeps suites side by side from staging into one n8n
// install at once.
import assert from 'node:assert/strict'
import { execFile, execFileSync } from 'node:child_process'
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { test } from 'node:test'
import { promisify } from 'node:util'
import { ensureBroker, uniqueTopic } from './helpers/broker.mjs'
import { TopicReader } from './e2e/helpers/kafka.mjs'

const event = (id) => JSON.stringify({ event: 'Workflow Started', messageId: id, properties: { execution_id: id } })

test('assertNoMore: exact count passes; an extra event, a duplicate or an unreadable topic fails', async () => {
  const brokers = ensureBroker().plaintext
  const topic = uniqueTopic('no-more')
  const produce = (...values) =>
    execFileSync('kcat', ['-b', brokers, '-q', '-P', '-t', topic], { input: values.join('\n') + '\n', timeout: 30_000 })
  produce(event('a'), event('b'))
  const reader = new TopicReader(topic, brokers)
  await reader.next(1)
  await assert.rejects(reader.assertNoMore(0), /expected exactly the 1 events read .* holds 2/)
  await reader.next(1)
  await reader.assertNoMore(0)
  produce(event('b'))
  await assert.rejects(reader.assertNoMore(0), /holds 3/, 'a duplicate of an event already read is one too many')
  await new TopicReader(uniqueTopic('never-written'), brokers).assertNoMore(0) // the broker says: no such topic, nothing in it
  const unreachable = new TopicReader(topic, '127.0.0.1:1')
  await assert.rejects(unreachable.assertNoMore(0, 3_000), /kcat failed/, 'a read that fails is not "nothing more"')
})

test("withLock: processes holding the same lock never overlap; a dead holder's lock is taken over", async () => {
  const dir = mkdtempSync(join(tmpdir(), 'kl-lock-'))
  const lock = join(dir, 'install.staging.lock')
  const log = join(dir, 'log')
  writeFileSync(log, '')
  writeFileSync(lock, '999999999') // left by a process that died holding it
  const instance = new URL('../scripts/n8n/n8n-instance.mjs', import.meta.url).href
  const holder = (name) => `
    import { appendFileSync } from 'node:fs'
    const { withLock } = await import(${JSON.stringify(instance)})
    for (let i = 0; i < 3; i++)
      withLock(${JSON.stringify(lock)}, () => {
        appendFileSync(${JSON.stringify(log)}, '+${name} ')
        Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 60)
        appendFileSync(${JSON.stringify(log)}, '-${name} ')
      }, 30_000)`
  try {
    await Promise.all(['a', 'b', 'c'].map((n) => promisify(execFile)(process.execPath, ['--input-type=module', '-e', holder(n)], { timeout: 60_000 })))
    const steps = readFileSync(log, 'utf8').trim().split(' ')
    assert.equal(steps.length, 18, steps.join(' '))
    for (let i = 0; i < steps.length; i += 2) {
      assert.match(steps[i], /^\+[abc]$/, `no overlap: ${steps.join(' ')}`)
      assert.equal(steps[i + 1], `-${steps[i].slice(1)}`, `no overlap: ${steps.join(' ')}`)
    }
    assert.throws(() => readFileSync(lock), /ENOENT/, 'the lock is released')
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
})
