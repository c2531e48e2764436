// The disk spool across process lifetimes: graceful shutdown with a backlog, SIGKILL in disk mode, corruption.
import { test, after } from 'node:test'
import assert from 'node:assert/strict'
import { spawn } from 'node:child_process'
import { createInterface } from 'node:readline'
import { readdirSync, readFileSync, writeFileSync, statSync } from 'node:fs'
import { join } from 'node:path'
import { brokerScript, consume, privatePortBase, uniqueTopic } from './helpers/broker.mjs'
import { spoolDir } from './helpers/spool.mjs'

const PORT_BASE = String(privatePortBase(300))
const brokers = `127.0.0.1:${PORT_BASE}`
const broker = (...args) => brokerScript({ KAFKA_PORT_BASE: PORT_BASE }, ...args)
after(() => broker('wipe'))

// Recent event times: Kafka's retention (7 days) would delete records stamped further back before they are read.
const BASE = Date.now() - 3_600_000

/** Runs the host process; `until(message)` decides when to stop listening. Resolves with the host and that message. */
function host(options, count, prefix) {
  const child = spawn(process.execPath, [new URL('./helpers/host.mjs', import.meta.url).pathname, JSON.stringify(options), String(count), prefix, String(BASE)], {
    stdio: ['ignore', 'pipe', 'inherit'],
  })
  const messages = []
  const waiters = []
  createInterface({ input: child.stdout }).on('line', (line) => {
    const message = JSON.parse(line)
    messages.push(message)
    for (const w of [...waiters]) if (w.match(message)) waiters.splice(waiters.indexOf(w), 1) && w.resolve(message)
  })
  const exited = new Promise((resolve) => child.on('exit', (code, signal) => resolve({ code, signal })))
  const waitFor = (match, timeoutMs, what) =>
    new Promise((resolve, reject) => {
      const found = messages.find(match)
      if (found) return resolve(found)
      const timer = setTimeout(() => reject(new Error(`host: timed out waiting for ${what}; last: ${JSON.stringify(messages.at(-1))}`)), timeoutMs)
      waiters.push({ match, resolve: (m) => (clearTimeout(timer), resolve(m)) })
    })
  return { child, exited, waitFor }
}

const spool = (m) => m.health?.spool ?? {}
const topic = uniqueTopic('spool')
const dirs = { term: spoolDir(), kill: spoolDir(), corrupt: spoolDir() }
const base = { brokers, topic, instanceId: 'spool-test', cbResetTimeout: 500, timeoutSend: 2000 }

test('Kafka down: backlogs survive SIGTERM, SIGKILL in disk mode and a corrupted segment, then all replay', async (t) => {
  broker('wipe')

  await t.test('SIGTERM with a backlog while Kafka is down: everything is spooled, nothing dropped', async () => {
    const h = host({ ...base, spoolDir: dirs.term }, 200, 'term')
    await h.waitFor((m) => m.type === 'ready', 20000, 'ready')
    await h.waitFor((m) => spool(m).records === 200, 20000, 'the breaker to spill the queue to disk')
    h.child.kill('SIGTERM')
    const { result } = await h.waitFor((m) => m.type === 'result', 10000, 'the shutdown result')
    assert.deepEqual(result, { delivered: 0, pending: 0, dropped: 0, spooled: 200 })
    assert.equal((await h.exited).code, 0)
  })

  await t.test('SIGKILL in disk mode loses nothing that reached the spool', async () => {
    const h = host({ ...base, spoolDir: dirs.kill, durability: 'disk' }, 300, 'kill')
    const ready = await h.waitFor((m) => spool(m).records === 300, 20000, 'all events on disk')
    assert.equal(spool(ready).durability, 'disk')
    h.child.kill('SIGKILL')
    assert.equal((await h.exited).signal, 'SIGKILL')
  })

  await t.test('a corrupted segment is found at startup: good records kept, bad ones counted and moved aside', async () => {
    const h = host({ ...base, spoolDir: dirs.corrupt, durability: 'disk' }, 100, 'corrupt')
    await h.waitFor((m) => spool(m).records === 100, 20000, 'all events on disk')
    h.child.kill('SIGKILL')
    await h.exited
    const slot = join(dirs.corrupt, 'slot-0')
    const segment = join(slot, readdirSync(slot).find((f) => f.startsWith('segment-')))
    const bytes = readFileSync(segment)
    const at = Math.floor(statSync(segment).size / 2)
    bytes[at] ^= 0xff
    writeFileSync(segment, bytes)
  })

  broker('start')

  await t.test('restart with Kafka up: every spooled event is delivered once, with its original id and time', async () => {
    const term = host({ ...base, spoolDir: dirs.term }, 0, 'none')
    const kill = host({ ...base, spoolDir: dirs.kill, durability: 'disk' }, 0, 'none')
    const corrupt = host({ ...base, spoolDir: dirs.corrupt, durability: 'disk' }, 0, 'none')
    const settled = (m) => m.type === 'health' && spool(m).records === 0 && m.health.counters.delivered > 0
    const [t1, t2, t3] = await Promise.all([
      term.waitFor(settled, 60000, 'term replay'),
      kill.waitFor(settled, 60000, 'kill replay'),
      corrupt.waitFor(settled, 60000, 'corrupt replay'),
    ])
    assert.equal(t1.health.counters.delivered, 200)
    assert.equal(t2.health.counters.delivered, 300)
    const corrupted = spool(t3).corrupted
    assert.ok(corrupted >= 1, 'the damage was found')
    assert.equal(t3.health.counters.delivered + corrupted, 100)
    for (const h of [term, kill, corrupt]) h.child.kill('SIGTERM')
    await Promise.all([term.exited, kill.exited, corrupt.exited])
    assert.ok(readdirSync(join(dirs.corrupt, 'slot-0')).some((f) => f.endsWith('.bad')), 'the bad part was moved aside')

    const expected = 200 + 300 + t3.health.counters.delivered
    const messages = await consume({ brokers, topic, count: expected, timeoutMs: 60000 })
    assert.equal(messages.length, expected)
    const ids = new Set(messages.map((m) => m.value.messageId))
    assert.equal(ids.size, expected, 'no duplicates')
    const first = messages.find((m) => m.key === 'term-7')
    assert.equal(first.value.timestamp, new Date(BASE + 7).toISOString(), 'the original event time')
    assert.equal(first.timestamp, BASE + 7)
    const order = messages.filter((m) => m.key.startsWith('kill-')).map((m) => Number(m.key.split('-')[1]))
    assert.deepEqual(order, [...order].sort((a, b) => a - b), 'replayed in order')
  })
})
