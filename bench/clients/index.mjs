// The clients under test behind one interface: send(input) fire-and-forget, acked(), latency(), close().
import { createRequire } from 'node:module'
import { mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { performance } from 'node:perf_hooks'
import { buildEvent } from '../lib/segment.mjs'
import { quantiles } from '../lib/common.mjs'

const require = createRequire(import.meta.url)
export const CTX = { instanceId: 'a3f1c2d4-5b6e-4f70-8a9b-0c1d2e3f4a5b', n8nVersion: '1.97.1' }
export const CLIENTS = ['none', 'logger', 'kafkajs-single', 'kafkajs-batch', 'platformatic', 'confluent']

/** Acks and per-event latency (ms) of a peer client: record(t0) when an event is acknowledged. */
function tracker() {
  const t = { count: 0, recording: false, lat: [] }
  t.ack = (t0) => {
    t.count++
    if (t.recording) t.lat.push(performance.now() - t0)
  }
  t.latency = () => { const [p50, p99] = quantiles(t.lat, [0.5, 0.99]); return { p50, p99, n: t.lat.length } }
  return t
}

/** Caller-side batching for clients without a linger: at most `size` messages or `lingerMs` per send. */
function batcher(sendBatch, t, size = 500, lingerMs = 5) {
  let msgs = [], times = [], timer = null
  const flush = () => {
    clearTimeout(timer); timer = null
    if (!msgs.length) return
    const m = msgs, ts = times
    msgs = []; times = []
    sendBatch(m).then(() => { for (const t0 of ts) t.ack(t0) }, (e) => console.error('batch failed', e.message))
  }
  return {
    push(msg) {
      msgs.push(msg); times.push(performance.now())
      if (msgs.length >= size) flush()
      else if (!timer) timer = setTimeout(flush, lingerMs)
    },
    flush,
  }
}

export async function createClient(name, { brokers, topic, queueMaxSize }) {
  if (name === 'none') {
    let n = 0
    return { cheapAcked: true, send() { n++ }, acked: () => n, latency: () => null, recordLatency() {}, close: async () => {} }
  }
  if (name === 'logger') {
    const { KafkaExecutionLogger } = require(process.env.BENCH_ADDON || '../../index.js')
    const l = new KafkaExecutionLogger({
      brokers, topic, instanceId: CTX.instanceId, n8nVersion: CTX.n8nVersion, logger: {},
      // lz4 as the librdkafka peers it is compared with (the package's default is none, as the fork's).
      compression: 'lz4',
      spoolDir: mkdtempSync(join(tmpdir(), 'bench-spool-')), ...(queueMaxSize ? { queueMaxSize } : {}),
    })
    await l.initialize()
    return {
      logger: l,
      send: (input) => l.logWorkflowFinished(input),
      acked: () => l.getHealthMetrics().counters.delivered,
      latency: () => { const d = l.getHealthMetrics().deliveryLatencyMs; return { p50: d.p50, p99: d.p99, n: d.count } },
      recordLatency() {},
      close: () => l.shutdown(10000),
    }
  }
  const t = tracker()
  const base = { cheapAcked: true, acked: () => t.count, latency: () => t.latency(), recordLatency: (on) => { t.recording = on } }
  if (name.startsWith('kafkajs')) {
    const { Kafka, logLevel } = require('kafkajs')
    const p = new Kafka({ clientId: 'bench', brokers: brokers.split(','), logLevel: logLevel.NOTHING }).producer({ allowAutoTopicCreation: true })
    await p.connect()
    const msg = (input) => { const e = buildEvent(input, CTX); return { key: e.key, value: e.value, headers: e.headers, timestamp: String(e.timestamp) } }
    if (name === 'kafkajs-single') {
      // The fork's pattern: one send() (one produce request) per event.
      return { ...base, send(input) { const t0 = performance.now(); p.send({ topic, acks: -1, messages: [msg(input)] }).then(() => t.ack(t0), () => {}) }, close: () => p.disconnect() }
    }
    const b = batcher((messages) => p.send({ topic, acks: -1, messages }), t)
    return { ...base, send: (input) => b.push(msg(input)), close: async () => { b.flush(); await new Promise((r) => setTimeout(r, 200)); await p.disconnect() } }
  }
  if (name === 'platformatic') {
    const { Producer, stringSerializers } = await import('@platformatic/kafka')
    const p = new Producer({ clientId: 'bench', bootstrapBrokers: brokers.split(','), serializers: stringSerializers, acks: -1, compression: 'lz4', autocreateTopics: true })
    const b = batcher((messages) => p.send({ messages, acks: -1 }), t)
    const msg = (input) => { const e = buildEvent(input, CTX); return { topic, key: e.key, value: e.value, headers: e.headers, timestamp: BigInt(e.timestamp) } }
    return { ...base, send: (input) => b.push(msg(input)), close: async () => { b.flush(); await new Promise((r) => setTimeout(r, 200)); await p.close(true) } }
  }
  if (name === 'confluent') {
    const Kafka = require('@confluentinc/kafka-javascript')
    const p = new Kafka.Producer({
      'bootstrap.servers': brokers, 'client.id': 'bench', dr_cb: true, acks: 'all', 'enable.idempotence': true,
      'compression.type': 'lz4', 'linger.ms': 5, partitioner: 'murmur2_random',
    })
    await new Promise((resolve, reject) => { p.once('ready', resolve); p.once('connection.failure', reject); p.connect() })
    p.setPollInterval(5)
    p.on('delivery-report', (err, report) => { if (!err) t.ack(report.opaque) })
    const send = (input) => {
      const e = buildEvent(input, CTX)
      const headers = [{ 'content-type': e.headers['content-type'] }, { event: e.headers.event }, { 'message-id': e.headers['message-id'] }]
      for (;;) {
        try { return p.produce(topic, null, Buffer.from(e.value), e.key, e.timestamp, performance.now(), headers) }
        catch (err) { if (err.code !== Kafka.CODES.ERRORS.ERR__QUEUE_FULL) throw err; p.poll() }
      }
    }
    return { ...base, send, close: () => new Promise((r) => p.flush(10000, () => p.disconnect(r))) }
  }
  throw new Error(`unknown client ${name}`)
}
