// Self-test of the end-to-end suites' Kafka checks: TopicReader.assertNoMore fails on an extra event, on a duplicate
// of one already read and on a topic it cannot read, and passes only when the topic holds exactly what was read
// (nothing, for a topic the broker does not know).
import assert from 'node:assert/strict'
import { execFileSync } from 'node:child_process'
import { test } from 'node:test'
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
