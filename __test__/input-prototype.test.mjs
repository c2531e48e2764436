// Inputs read with a polluted Object.prototype: both readers (the fast path and the exact reader) take the input's
// own properties only, checked on what reaches Kafka (read back with kcat). Apart from input.test.mjs, which needs
// no broker (scripts/test-fast.sh).
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { spawnSync } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { spoolDir } from './helpers/spool.mjs'
import { consume, ensureBroker, uniqueTopic } from './helpers/broker.mjs'

for (const which of ['strings', 'all']) {
  test(`a polluted Object.prototype (${which}) neither injects into nor rejects events, on either reader`, async () => {
    const broker = ensureBroker()
    const topic = uniqueTopic('polluted')
    const fixture = fileURLToPath(new URL('./fixtures/polluted-prototype.mjs', import.meta.url))
    const child = spawnSync(process.execPath, [fixture, broker.plaintext, topic, spoolDir(), which], { encoding: 'utf8', timeout: 60_000 })
    assert.equal(child.status, 0, child.stderr)
    const { constructed, calls, flushed, counters, lastRejection } = JSON.parse(child.stdout.trim().split('\n').at(-1))
    assert.equal(constructed, 'ok')
    const { missing, missingExact, ...logged } = calls
    assert.deepEqual(Object.values(logged), Object.values(logged).map(() => true), JSON.stringify({ calls, lastRejection }))
    assert.deepEqual([missing, missingExact], [false, false], 'an inherited executionId stood in for a missing one')
    assert.match(lastRejection.reason, /^executionId must be a non-empty string$/)
    assert.deepEqual([counters.accepted, counters.rejected, flushed.delivered], [6, 2, 6])
    const messages = await consume({ brokers: broker.plaintext, topic, count: 6 })
    assert.equal(messages.length, 6)
    for (const m of messages) assert.doesNotMatch(m.raw, /injected/, `an inherited field in ${m.raw}`)
    const byId = Object.fromEntries(messages.map((m) => [m.key, m.raw]))
    assert.deepEqual(Object.keys(byId).sort(), ['e-exact-error', 'e-exact-extras', 'e-exact-long', 'e-fast', 'e-fast-error', 'e-fast-node'])
    assert.match(byId['e-exact-extras'], /"owndimension":"own"/)
    assert.match(byId['e-fast-error'], /own message/)
    assert.match(byId['e-exact-error'], /own type error/)
    // An Error's name comes from its class, never from Object.prototype.
    assert.match(byId['e-exact-error'], /TypeError/)
  })
}
