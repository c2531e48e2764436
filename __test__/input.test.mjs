// Log calls with wrong, hostile and malformed input: never a throw, never a crash, the reject counted with a reason.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { createRequire } from 'node:module'
import { spoolDir } from './helpers/spool.mjs'

const { KafkaExecutionLogger } = createRequire(import.meta.url)('../index.js')

// Nothing listens on port 1: these tests exercise intake only and never need a broker.
const newLogger = () => new KafkaExecutionLogger({ spoolDir: spoolDir(), brokers: '127.0.0.1:1', queueMaxSize: 1000, logger: {} })
const valid = { executionId: 'e1', workflowId: 'w1' }

function rejected(input, reason) {
  const logger = newLogger()
  let result
  assert.doesNotThrow(() => {
    result = logger.logWorkflowFinished(input)
  })
  assert.equal(result, false, `accepted: ${String(reason)}`)
  const health = logger.getHealthMetrics()
  assert.equal(health.counters.rejected, 1)
  assert.equal(health.counters.accepted, 0)
  if (reason) assert.match(health.lastRejection.reason, reason)
}

function accepted(input) {
  const logger = newLogger()
  assert.equal(logger.logWorkflowFinished(input), true)
  assert.equal(logger.getHealthMetrics().counters.accepted, 1)
}

test('required fields and wrong types are rejected with the field named', () => {
  rejected(undefined, /input must be an object/)
  rejected(null, /input must be an object/)
  rejected('e1', /input must be an object/)
  rejected([valid], /input must be an object/)
  rejected({ workflowId: 'w' }, /^executionId must be a non-empty string$/)
  rejected({ executionId: '  ', workflowId: 'w' }, /^executionId must be a non-empty string$/)
  rejected({ executionId: 42, workflowId: 'w' }, /^executionId must be a string$/)
  rejected({ executionId: 'e' }, /^workflowId must be a non-empty string$/)
  rejected({ ...valid, workflowName: 7 }, /^workflowName must be a string$/)
  rejected({ ...valid, triggerNodeType: { type: 'n8n-nodes-base.scheduleTrigger' } }, /^triggerNodeType must be a string$/)
  rejected({ ...valid, tags: 'a,b' }, /^tags must be an array of strings$/)
  rejected({ ...valid, nodeCount: '3' }, /^nodeCount must be a finite number$/)
  rejected({ ...valid, dimensions: ['x'] }, /^dimensions must be a plain object$/)
  rejected({ ...valid, error: 42 }, /^error must be an object/)
})

test('dates: Date, ISO string and epoch ms are accepted; invalid ones rejected', () => {
  accepted({ ...valid, startedAt: new Date(), stoppedAt: '2026-01-02T03:04:05.678Z' })
  accepted({ ...valid, startedAt: Date.now() })
  rejected({ ...valid, startedAt: new Date('nope') }, /^startedAt must be a valid Date, ISO-8601 string or epoch milliseconds$/)
  rejected({ ...valid, stoppedAt: 'yesterday' }, /^stoppedAt must be a valid Date/)
  rejected({ ...valid, stoppedAt: NaN }, /^stoppedAt must be a valid Date/)
  rejected({ ...valid, stoppedAt: Infinity }, /^stoppedAt must be a valid Date/)
  rejected({ ...valid, stoppedAt: 1e300 }, /^stoppedAt must be a valid Date/)
  rejected({ ...valid, stoppedAt: {} }, /^stoppedAt must be a valid Date/)
  rejected({ ...valid, nodeCount: NaN }, /^nodeCount must be a finite number$/)
})

test('throwing getters and proxies never throw into the caller', () => {
  const getter = Object.defineProperty({ ...valid }, 'workflowName', {
    get() {
      throw new Error('boom')
    },
  })
  rejected(getter, /^could not read workflowName$/)
  const trap = new Proxy(valid, {
    get() {
      throw new TypeError('trap')
    },
  })
  rejected(trap, /^could not read executionId$/)
  const errorGetter = { ...valid, error: Object.defineProperty({}, 'message', { get: () => { throw new Error('x') } }) }
  accepted(errorGetter)
  accepted(new Proxy({ ...valid }, {}))
})

test('symbols, circular and deep objects, lone surrogates and control characters', () => {
  rejected({ ...valid, workflowName: Symbol('s') }, /^workflowName must be a string$/)
  rejected({ executionId: Symbol('s'), workflowId: 'w' }, /^executionId must be a string$/)
  const circular = { ...valid, dimensions: {} }
  circular.dimensions.self = circular
  circular.error = circular
  accepted(circular)
  let deep = {}
  for (let i = 0; i < 10000; i++) deep = { next: deep }
  accepted({ ...valid, metrics: deep, flags: deep, error: deep })
  accepted({ ...valid, workflowName: 'bad \ud800 surrogate \udfff', error: { message: 'ctl \u0000\u0007\u001b end' } })
  accepted({ ...valid, [Symbol('extra')]: 1, unknownKey: { anything: true } })
})

test('huge strings are copied only up to a cap: 50 events with 10 MB fields hold a few MB, not 2.5 GB', () => {
  const huge = 'x'.repeat(10 * 1024 * 1024)
  const logger = newLogger()
  // One string object for every field: V8 holds it once, so whatever the process grows by is the logger's copies
  // (capped: about 32 KB an event; uncapped: 50 MB an event).
  const rssBefore = process.memoryUsage.rss()
  const started = process.hrtime.bigint()
  for (let i = 0; i < 50; i++) {
    assert.equal(logger.logWorkflowFinished({ ...valid, executionId: `e${i}`, workflowName: huge, error: { stack: huge, message: huge }, tags: [huge, huge] }), true)
  }
  const ms = Number(process.hrtime.bigint() - started) / 1e6
  const grewMb = (process.memoryUsage.rss() - rssBefore) / 2 ** 20
  assert.equal(logger.getHealthMetrics().counters.accepted, 50)
  assert.ok(grewMb < 64, `the process grew by ${grewMb.toFixed(1)} MB for 50 events with 10 MB fields`)
  // Reported, not asserted as a speed target.
  console.log(`# 50 events with 10 MB fields accepted in ${ms.toFixed(2)} ms; the process grew by ${grewMb.toFixed(1)} MB`)
})

test('node events need a phase and a node name', () => {
  const logger = newLogger()
  assert.equal(logger.logNodeEvent({ ...valid, event: 'completed', nodeName: 'HTTP Request' }), true)
  assert.equal(logger.logNodeEvent({ ...valid, event: 'exploded', nodeName: 'x' }), false)
  assert.match(logger.getHealthMetrics().lastRejection.reason, /^event must be one of started, completed, failed$/)
  assert.equal(logger.logNodeEvent({ ...valid, event: 'started' }), false)
  assert.match(logger.getHealthMetrics().lastRejection.reason, /^nodeName must be a non-empty string$/)
})

test('a node run index is a whole number from 0 to 2147483647 on both readers, else rejected with the field named', () => {
  const node = { ...valid, event: 'completed', nodeName: 'Loop' }
  // `dimensions: {}` adds nothing but sends the call down the exact reader (src/napi/fast_log.js).
  for (const [reader, extra] of [['fast path', {}], ['exact reader', { dimensions: {} }]]) {
    const logger = newLogger()
    for (const runIndex of [0, 3, 2147483647, undefined, null]) {
      assert.equal(logger.logNodeEvent({ ...node, ...extra, runIndex }), true, `${reader}: ${runIndex}`)
    }
    assert.equal(logger.getHealthMetrics().counters.rejected, 0, reader)
    for (const runIndex of [-1, 1.5, 2147483648, 1e300, NaN, Infinity, '2', true, {}]) {
      assert.equal(logger.logNodeEvent({ ...node, ...extra, runIndex }), false, `${reader}: ${String(runIndex)}`)
      assert.equal(logger.getHealthMetrics().lastRejection.reason, 'runIndex must be an integer from 0 to 2147483647', `${reader}: ${String(runIndex)}`)
    }
    assert.equal(logger.getHealthMetrics().counters.rejected, 9, reader)
    // Only node events have runs: a workflow event does not read it.
    assert.equal(logger.logWorkflowFinished({ ...valid, ...extra, runIndex: -1 }), true, reader)
  }
})

test('the fast path is private and bound to its own logger', () => {
  const names = Object.getOwnPropertyNames(KafkaExecutionLogger.prototype)
  assert.ok(!names.some((n) => /packed/i.test(n)), `no fast-path internals on the prototype: ${names}`)
  // The JS log methods of src/napi/fast_log.js replaced the native ones when the addon loaded.
  for (const m of ['logWorkflowStarted', 'logWorkflowResumed', 'logWorkflowFinished', 'logNodeEvent']) {
    assert.doesNotMatch(Function.prototype.toString.call(KafkaExecutionLogger.prototype[m]), /\[native code\]/, m)
  }
  const [a, b] = [newLogger(), newLogger()]
  for (let i = 0; i < 3; i++) assert.equal(a.logWorkflowStarted({ ...valid, executionId: `a${i}` }), true)
  assert.equal(b.logWorkflowFinished(valid), true)
  assert.deepEqual([a.getHealthMetrics().counters.accepted, b.getHealthMetrics().counters.accepted], [3, 1])
  // A log method taken off the class and called on anything else fails like any napi method: a TypeError, no crash.
  for (const stranger of [{}, Object.create(KafkaExecutionLogger.prototype), Object.freeze({})]) {
    assert.throws(() => KafkaExecutionLogger.prototype.logWorkflowStarted.call(stranger, valid), TypeError)
  }
  assert.equal(a.logWorkflowStarted(valid), true, 'the real logger still logs afterwards')
  assert.equal(a.getHealthMetrics().counters.accepted, 4)
})

test('a full queue drops the oldest event and counts it, never blocking', () => {
  const logger = new KafkaExecutionLogger({ spoolDir: spoolDir(), brokers: '127.0.0.1:1', queueMaxSize: 10, queueBatchSize: 10 })
  for (let i = 0; i < 25; i++) assert.equal(logger.logWorkflowStarted({ executionId: `e${i}`, workflowId: 'w' }), true)
  const health = logger.getHealthMetrics()
  assert.equal(health.counters.accepted, 25)
  assert.equal(health.counters.dropped, 15)
  assert.equal(health.queue.depth, 10)
  assert.equal(health.queue.capacity, 10)
})

test('the queue holds at most QUEUE_MAX_BYTES: large events evict the oldest, counted, whichever reader took them', () => {
  // Port 1 and no initialize(): nothing drains the queue, so what it holds is what the bound left.
  const logger = new KafkaExecutionLogger({ spoolDir: spoolDir(), brokers: '127.0.0.1:1', queueMaxBytes: 1048576, logger: {} })
  // 100 tags of 4000 characters: ~400 KB of packed text per event on the fast path; `dimensions` takes the exact reader.
  const tags = Array.from({ length: 100 }, (_, i) => `${i}`.padEnd(4000, 'x'))
  for (let i = 0; i < 6; i++) {
    const extra = i % 2 ? { dimensions: { run: i } } : {}
    assert.equal(logger.logWorkflowStarted({ executionId: `big-${i}`, workflowId: 'w', tags, ...extra }), true)
  }
  const health = logger.getHealthMetrics()
  assert.equal(health.counters.accepted, 6)
  assert.equal(health.counters.dropped, 4, 'two ~400 KB events fit 1 MiB; each later one evicted the oldest')
  assert.equal(health.queue.depth, 2)
  assert.equal(health.queue.maxBytes, 1048576)
  assert.ok(health.queue.bytes > 800_000 && health.queue.bytes <= 1048576, `queue.bytes ${health.queue.bytes}`)
  // Small events still fit beside them; the count bound is unchanged.
  assert.equal(logger.logWorkflowStarted({ executionId: 'small', workflowId: 'w' }), true)
  assert.equal(logger.getHealthMetrics().counters.dropped, 4)
})

test('after shutdown log calls return false; shutdown is idempotent', async () => {
  const logger = newLogger()
  assert.equal(logger.logWorkflowStarted(valid), true)
  const first = await logger.shutdown(100)
  assert.deepEqual(first, { delivered: 0, pending: 0, dropped: 1, spooled: 0 })
  assert.deepEqual(await logger.shutdown(), first)
  assert.equal(logger.logWorkflowStarted(valid), false)
  assert.equal(logger.getHealthMetrics().status, 'stopped')
  await assert.rejects(logger.initialize(), { code: 'ERR_KAFKA_LOGGER_CONFIG' })
})

test('flush and shutdown reject wrong timeouts with a clear error', () => {
  const logger = newLogger()
  assert.throws(() => logger.flush('soon'), { code: 'ERR_INVALID_ARG_TYPE', message: 'timeoutMs must be a non-negative number of milliseconds' })
  assert.throws(() => logger.shutdown(-1), { code: 'ERR_INVALID_ARG_VALUE' })
})
