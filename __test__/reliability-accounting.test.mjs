// Self-test of the fault matrix's accounting (scripts/reliability/lib.mjs account()): what it counts as lost,
// duplicated and dead-lettered, including dead letters that arrive more than once, which used to go uncounted;
// and of its topic read (readTopic), which must fail, never read as empty, when no read completes.
import assert from 'node:assert/strict'
import { test } from 'node:test'
import { account, readTopic } from '../scripts/reliability/lib.mjs'

const rec = (key, messageId = key) => ({ key, value: { messageId } })
const ranges = [{ prefix: 'c', start: 0, count: 5 }]

test('every sent event is delivered, dead-lettered or lost; duplicates counted in the topic and among dead letters', () => {
  const a = account({ ranges, records: [rec('c-0'), rec('c-1'), rec('c-1')], dlq: [rec('c-2')], deadFile: [{ key: 'c-3' }] })
  assert.deepEqual(
    { sent: a.sent, delivered: a.delivered, lost: a.lost, duplicates: a.duplicates, deadLettered: a.deadLettered, deadDuplicates: a.deadDuplicates },
    { sent: 5, delivered: 2, lost: 1, duplicates: 1, deadLettered: 2, deadDuplicates: 0 },
  )
  assert.deepEqual(a.lostKeys, ['c-4'])
})

test('a dead letter twice in the topic, twice in the file, or in both is counted', () => {
  assert.equal(account({ ranges, dlq: [rec('c-0'), rec('c-0')] }).deadDuplicates, 1)
  assert.equal(account({ ranges, deadFile: [{ key: 'c-0' }, { key: 'c-0' }, { key: 'c-0' }] }).deadDuplicates, 2)
  assert.equal(account({ ranges, dlq: [rec('c-0')], deadFile: [{ key: 'c-0' }] }).deadDuplicates, 1)
  assert.equal(account({ ranges, dlq: [rec('other-0'), rec('other-0')] }).deadDuplicates, 0, 'keys of other runs are not ours')
})

test('a topic that cannot be read fails the read at its deadline and never reads as empty', async () => {
  await assert.rejects(readTopic({ brokers: '127.0.0.1:1', topic: 'kl-unreachable', expected: 0, timeoutMs: 8_000 }), /kcat failed on kl-unreachable/)
})
