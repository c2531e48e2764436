// The fault-injection matrix of issue 4: one entry per case. Each `run(ctx)` drives hosts and brokers and returns
// { ranges (what the package accepted), records (main topic), dlq, deadFile, ... }; the runner does the accounting
// and checks the common targets (0 lost, duplicates <= 0.1% and deduplicable by messageId, no host crash).
// Lanes (run at once, or one after the other): 'outage' and 'outage2' cases disrupt brokers A and A2, one case at
// a time each; 'steady' and 'dead-letters' cases share broker B (auto-create off), which stays up; 'cluster' uses
// the 3-node cluster.
import { join } from 'node:path'
import { appendFileSync, readFileSync, readdirSync, writeFileSync } from 'node:fs'
import { continueStream, describeKeys, freshSpool, killHost, readDeadLetterFiles, readSpoolKeys, segmentFiles, sleep, uniqueTopic } from './lib.mjs'
import { SECRETS } from '../../__test__/helpers/secrets.mjs'

/**
 * Long waits and stream sizes. Both keep the issue's figures for case 1 (30 s down), case 4 (60 s frozen) and the
 * stream of the SIGKILL cases 12 and 13 (40 s: the duplicates a crash leaves are a few events, whatever the stream,
 * and the 0.1% target is of the full stream); `ci` (the test) has shorter streams and outages elsewhere, fewer kill
 * trials and a shorter dead-letter deadline.
 */
export const PROFILES = {
  full: { rate: 250, streamMs: 40_000, downAtStartMs: 30_000, freezeMs: 60_000, downMs: 10_000, floodRate: 1500, floodMs: 20_000, killTrials: 3, killStreamMs: 40_000, settleMs: 180_000, deadLetterMs: 180_000 },
  ci: { rate: 200, streamMs: 15_000, downAtStartMs: 30_000, freezeMs: 60_000, downMs: 5_000, floodRate: 1500, floodMs: 10_000, killTrials: 2, killStreamMs: 40_000, settleMs: 120_000, deadLetterMs: 60_000 },
}

const n = (rate, ms) => Math.round((rate * ms) / 1000)

/** The offsets of the frames of an intact spool segment (length u32 LE, CRC, body). */
function frameOffsets(bytes) {
  const offsets = []
  for (let at = 0; at + 8 <= bytes.length; at += 8 + bytes.readUInt32LE(at)) offsets.push(at)
  return offsets
}

/** Waits until the host has handed `count` events to the package (it logs at its steady rate). */
async function acceptedAtLeast(host, count, timeoutMs) {
  const deadline = Date.now() + timeoutMs
  while (host.accepted() < count) {
    if (host.exit) throw new Error(`${host.name} exited (${JSON.stringify(host.exit)}) before accepting ${count} events`)
    if (Date.now() > deadline) throw new Error(`${host.name} accepted only ${host.accepted()} of ${count} events in ${timeoutMs} ms`)
    await sleep(20)
  }
}

/** The spool slot a host took (its health shows it once the logger's thread has opened the spool). */
const slotOf = async (host) => (await host.waitHealth((h) => h.spool.enabled, 30_000, 'its spool opened')).health.spool.dir

/** Waits until a host's backlog is all on disk (breaker open, queue empty, every accepted event spooled). */
const allSpooled = (host, timeoutMs, what = 'every accepted event in the spool') =>
  host.waitHealth((h, m) => h.spool.enabled && h.queue.depth === 0 && h.queue.inFlight === 0 && h.spool.records + h.counters.delivered + h.counters.deadLettered >= m.accepted, timeoutMs, what)

export const CASES = [
  {
    id: 1,
    lane: 'outage',
    title: 'Broker down at start, up after 30 s',
    hints: {
      'no event dead-lettered (none is at fault)':
        'Seen in runs of 888ffce: when the broker is back, the half-open probe fails with UNKNOWN_TOPIC_OR_PARTITION (apparently while the broker auto-creates the topic), which the package classifies as permanent (unknown_topic): the event goes to `<topic>.dlq`. A probe that fails permanently now closes the breaker, so the backlog can follow it: one ci run dead-lettered all 8000 events this way.',
    },
    how: 'Broker A is stopped before the host starts. The host (memory mode, the default) logs a steady stream for the outage plus 10 s; the broker starts after the outage. Checked: nothing is delivered during the outage, nothing is dropped from the queue, the host\'s RSS (sampled every 250 ms) stays bounded, and every event arrives once the broker is back.',
    async run(ctx) {
      const { A, P } = ctx
      await A.stop()
      const topic = uniqueTopic('rel-c1')
      const count = n(P.rate, P.downAtStartMs + 10_000)
      const h = ctx.host(ctx.options(A.plaintext, topic, freshSpool('c1')), { prefix: 'c1', count, rate: P.rate }, 'c1')
      await h.ready()
      const t0 = Date.now()
      await sleep(P.downAtStartMs)
      const during = h.last.health
      ctx.check('nothing delivered while the broker is down', during.counters.delivered === 0, `delivered ${during.counters.delivered}`)
      ctx.note(`after ${Math.round((Date.now() - t0) / 1000)} s down: ${h.accepted()} accepted, ${during.spool.records} spooled, breaker ${during.circuitBreaker.state}, lastError ${during.lastError?.kind}`)
      await A.start()
      const up = Date.now()
      const settled = await ctx.finish(h)
      ctx.note(`all delivered ${Math.round((settled.at - up) / 1000)} s after the broker came back`)
      ctx.metric('recoveryS', (settled.at - up) / 1000)
      const ranges = [{ prefix: 'c1', start: 0, count: h.accepted() }]
      ctx.check('no queue drops', settled.health.counters.dropped === 0, `dropped ${settled.health.counters.dropped}`)
      return { ranges, records: await ctx.read(A.plaintext, topic, ranges), rss: true }
    },
  },
  {
    id: 2,
    lane: 'outage2', // on A2, so that neither disrupted broker's lane is much longer than the other
    title: 'Broker SIGKILL mid-stream, restarted',
    how: 'The broker is SIGKILLed when 40% of the pre-fault stream is logged and started again on the same data after the outage; the host keeps logging at its steady rate throughout.',
    run: (ctx) => brokerBounce(ctx, 2, 'kill'),
  },
  {
    id: 3,
    lane: 'outage',
    title: 'Broker SIGTERM (clean stop) mid-stream, restarted',
    how: 'As case 2, but the broker is stopped cleanly (SIGTERM, waiting for the JVM to exit) and restarted after the same pause.',
    run: (ctx) => brokerBounce(ctx, 3, 'stop'),
  },
  {
    id: 4,
    lane: 'outage',
    title: 'Broker frozen (SIGSTOP) 60 s, then SIGCONT',
    how: 'The broker JVM is SIGSTOPped (connections stay open, nothing answers: the hardest outage for a client to notice), then SIGCONTed; the host keeps logging.',
    run: (ctx) => brokerBounce(ctx, 4, 'freeze'),
  },
  {
    id: 5,
    lane: 'steady',
    title: 'Wrong SASL password, host restarted with the right one',
    how: 'A host authenticates with SCRAM-SHA-256 and a wrong password on the SASL_PLAINTEXT listener, logs a stream (everything must be spooled, nothing delivered), and is stopped with SIGTERM. A second host with the right password on the same spool directory replays the first one\'s backlog and logs more.',
    async run(ctx) {
      const { B, P } = ctx
      const info = await B.info()
      const topic = uniqueTopic('rel-c5')
      await B.createTopic(topic, 3)
      const auth = { brokers: B.sasl, authEnabled: true, username: info.user, saslMechanism: 'scram-sha-256' }
      return misconfigured(ctx, 5, topic, { ...auth, password: SECRETS.RELIABILITY_WRONG_PASSWORD }, { ...auth, password: info.password }, 'authentication')
    },
  },
  {
    id: 6,
    lane: 'steady',
    title: 'TLS CA mismatch, host restarted with the right CA',
    how: 'As case 5 on the SSL listener: the first host trusts an unrelated CA (`other-ca.crt`), the second the broker\'s CA.',
    async run(ctx) {
      const { B } = ctx
      const info = await B.info()
      const topic = uniqueTopic('rel-c6')
      await B.createTopic(topic, 3)
      return misconfigured(ctx, 6, topic, { brokers: B.ssl, ssl: true, sslCa: info.otherCaPath }, { brokers: B.ssl, ssl: true, sslCa: info.caPath }, 'tls')
    },
  },
  {
    id: 7,
    lane: 'dead-letters',
    title: 'Topic missing, auto-create off (7a: DLQ topic; 7b: DLQ topic missing too, dead-letter file)',
    how: 'Broker B runs with `auto.create.topics.enable=false`. 7a: the main topic is missing and `<topic>.dlq` exists: every event must end in the dead-letter topic with its cause in the headers. 7b: both are missing: every event must end in `slot-0/dead-letters.jsonl`. Two hosts run at once, one per variant.',
    async run(ctx) {
      const { B, P } = ctx
      const count = n(P.rate, 5_000)
      const withTopic = { topic: uniqueTopic('rel-c7a'), spool: freshSpool('c7a'), prefix: 'c7a' }
      const withFile = { topic: uniqueTopic('rel-c7b'), spool: freshSpool('c7b'), prefix: 'c7b' }
      await B.createTopic(`${withTopic.topic}.dlq`, 1)
      const variants = [withTopic, withFile]
      const hosts = variants.map((v) => ctx.host(ctx.options(B.plaintext, v.topic, v.spool), { prefix: v.prefix, count, rate: P.rate }, v.prefix))
      const began = Date.now()
      const outcomes = await Promise.allSettled(hosts.map((h) => h.settled(P.deadLetterMs, 'every event dead-lettered')))
      outcomes.forEach((o, i) => {
        const v = variants[i]
        const h = hosts[i].last?.health
        if (o.status === 'fulfilled') ctx.note(`${v.prefix}: all ${hosts[i].accepted()} events dead-lettered within ${Math.round((o.value.at - began) / 1000)} s (lastError ${o.value.health.lastError?.kind})`)
        else ctx.note(`${v.prefix}: after ${Math.round(P.deadLetterMs / 1000)} s, ${h?.counters.deadLettered} of ${hosts[i].accepted()} dead-lettered, ${h?.spool.records} still in the spool, breaker ${h?.circuitBreaker.state}, ${h?.counters.retried} retries, lastError ${h?.lastError?.kind}`)
      })
      ctx.check('dead letters settle within the deadline (7a: topic)', outcomes[0].status === 'fulfilled', outcomes[0].reason?.message?.slice(0, 200) ?? '')
      ctx.check('dead letters settle within the deadline (7b: file)', outcomes[1].status === 'fulfilled', outcomes[1].reason?.message?.slice(0, 200) ?? '')
      const ends = await Promise.all(hosts.map(ctx.stop))
      const ranges = hosts.map((h, i) => ({ prefix: variants[i].prefix, start: 0, count: h.accepted() }))
      const records = [
        ...(await ctx.read(B.plaintext, withTopic.topic, ranges, 0)),
        ...(await ctx.read(B.plaintext, withFile.topic, ranges, 0)),
      ]
      const dlq = await ctx.read(B.plaintext, `${withTopic.topic}.dlq`, ranges.slice(0, 1))
      const deadFile = readDeadLetterFiles(withFile.spool)
      ctx.check('nothing reached the missing topics', records.length === 0, `${records.length} records`)
      ctx.check('7a: every event in the dead-letter topic', new Set(dlq.map((r) => r.key)).size === ranges[0].count, `${new Set(dlq.map((r) => r.key)).size} of ${ranges[0].count}`)
      ctx.check('7b: every event in dead-letters.jsonl', new Set(deadFile.map((l) => l.key)).size === ranges[1].count, `${new Set(deadFile.map((l) => l.key)).size} of ${ranges[1].count}; shutdown left ${ends[1].result.spooled} in the spool`)
      ctx.check('dead-letter headers name the cause', dlq.length > 0 && dlq.every((r) => r.headers['dlq-original-topic'] === withTopic.topic && r.headers['dlq-error-kind'] === 'unknown_topic' && r.headers['message-id'] === r.value?.messageId), dlq[0] ? JSON.stringify(dlq[0].headers) : 'none')
      ctx.metric('dlqTopic', new Set(dlq.map((r) => r.key)).size)
      ctx.metric('dlqFile', new Set(deadFile.map((l) => l.key)).size)
      ctx.metric('stuckInSpool', ends[1].result.spooled + ends[0].result.spooled)
      return { ranges, records, dlq, deadFile }
    },
  },
  {
    id: 8,
    lane: 'steady',
    title: 'Event larger than the broker limit (topic max.message.bytes 8 KiB)',
    how: 'The topic has `max.message.bytes=8192`; every 50th event is a Workflow Failed with a 20 KB random stack (about 27 KB of JSON, under the package\'s 32 KB cap, incompressible for lz4). The oversize events must end in the dead-letter topic (which has the broker\'s default 1 MB limit), the rest in the topic. Kafka checks the limit per record batch and refuses the whole batch, so the small events batched with an oversize one are refused with it: the package resends each of them alone before it calls one too large (README: Errors). Target: no small event in the dead-letter topic.',
    async run(ctx) {
      const { B, P } = ctx
      const topic = uniqueTopic('rel-c8')
      await B.createTopic(topic, 1, { 'max.message.bytes': 8192 })
      await B.createTopic(`${topic}.dlq`, 1)
      const bigEvery = 50
      const count = n(P.rate, P.streamMs / 2)
      const h = ctx.host(ctx.options(B.plaintext, topic, freshSpool('c8')), { prefix: 'c8', count, rate: P.rate, bigEvery, bigBytes: 20_000 }, 'c8')
      const settled = await ctx.finish(h)
      const ranges = [{ prefix: 'c8', start: 0, count: h.accepted() }]
      const records = await ctx.read(B.plaintext, topic, ranges, 0)
      const dlq = await ctx.read(B.plaintext, `${topic}.dlq`, ranges, 0)
      const isBig = (key) => Number(key.split('-').at(-1)) % bigEvery === bigEvery - 1
      const bigSent = Array.from({ length: ranges[0].count }, (_, i) => `c8-${i}`).filter(isBig).length
      const bigInDlq = new Set(dlq.filter((r) => isBig(r.key)).map((r) => r.key)).size
      const collateral = new Set(dlq.filter((r) => !isBig(r.key)).map((r) => r.key)).size
      ctx.check('every oversize event is in the dead-letter topic', bigInDlq === bigSent, `${bigInDlq} of ${bigSent}`)
      ctx.check('no oversize event in the main topic', !records.some((r) => isBig(r.key)))
      ctx.check('dead letters say message_too_large', dlq.every((r) => r.headers['dlq-error-kind'] === 'message_too_large'), [...new Set(dlq.map((r) => r.headers['dlq-error-kind']))].join(','))
      ctx.check('no small event dead-lettered (each refused batch-mate was resent alone)', collateral === 0, `${collateral} small events in the dead-letter topic`)
      ctx.note(`${bigSent} oversize events (about 27 KB each, every ${bigEvery}th); ${settled.health.counters.retried} resends (the refused batches' events, each alone)`)
      ctx.metric('collateral', collateral)
      ctx.metric('counterDeadLettered', settled.health.counters.deadLettered)
      return { ranges, records, dlq }
    },
  },
  {
    id: 9,
    lane: 'outage2',
    title: 'Spool cap (1 MiB) reached during a long outage',
    how: 'The broker is down; the host floods events with `SPOOL_MAX_BYTES` at its minimum (1 MiB): the spool fills and later events are refused (drop-newest). Then the broker starts. Target: exactly the refused events are missing (every loss is counted in `spool.refused`), no other drop, RSS bounded.',
    async run(ctx) {
      const { A2: A, P } = ctx
      await A.stop()
      const topic = uniqueTopic('rel-c9')
      const count = n(P.floodRate, P.floodMs)
      const h = ctx.host({ ...ctx.options(A.plaintext, topic, freshSpool('c9')), spoolMaxBytes: 1048576 }, { prefix: 'c9', count, rate: P.floodRate }, 'c9')
      await h.done(P.floodMs + 60_000)
      const full = await h.waitHealth((x) => x.queue.depth === 0 && x.queue.inFlight === 0, 60_000, 'the queue moved to the spool')
      const x = full.health
      ctx.note(`outage: ${count} events logged at ${P.floodRate}/s; then spool ${x.spool.bytes} bytes, ${x.spool.records} records, ${x.spool.refused} refused; counters.dropped ${x.counters.dropped}${x.counters.dropped > x.spool.refused ? ` (${x.counters.dropped - x.spool.refused} dropped by the full in-memory queue, not by the spool)` : ''}`)
      ctx.metric('maxQueueDepth', Math.max(...h.depthSamples))
      await A.start()
      const settled = await ctx.finish(h)
      const refused = settled.health.spool.refused
      const ranges = [{ prefix: 'c9', start: 0, count: h.accepted() }]
      const records = await ctx.read(A.plaintext, topic, ranges, ranges[0].count - refused)
      const dropped = settled.health.counters.dropped
      const delivered = new Set(records.map((r) => r.key)).size
      ctx.check('queue drops are only the spool refusals', dropped === refused, `dropped ${dropped}, refused ${refused}`)
      ctx.check('every missing event is counted in counters.dropped', ranges[0].count - delivered === dropped, `missing ${ranges[0].count - delivered}, dropped ${dropped}`)
      return { ranges, records, refused, rss: true, lossPolicy: 'refused' }
    },
  },
  {
    id: 10,
    lane: 'outage2',
    title: 'Corrupted spool file at startup (bad checksum and a flipped length byte mid-segment, torn tail)',
    how: 'The broker is down; a disk-mode host writes 4500 events of about 4 KB (three segments of up to 8 MiB) and is stopped. One byte in the middle of the first segment is then flipped (bad CRC), a byte of the length field of a frame in the middle of the second one is flipped (the frame now claims about 16 MB, running past the end of its segment like a torn write, while intact frames follow it), and half a frame is appended to the last one (a torn write). With the broker up, a new host on the same spool replays (package defaults: the replay begins while the restarted broker settles). Zero loss cannot apply (the damaged records are gone); the target is that every loss is counted: `spool.corrupted` must equal the records from each damaged frame to the end of its segment plus one for the torn write (a record cut short counts as one lost; here it stands for no accepted event, so the loss accounting takes it off), exactly that many missing, the bytes moved to `corrupt-*.bad`, the later segments replayed.',
    async run(ctx) {
      const { A2: A, P } = ctx
      await A.stop()
      const topic = uniqueTopic('rel-c10')
      const spool = freshSpool('c10')
      // About 4 KB per event (a long workflow name), so the 4500-event backlog spans three 8 MiB segments.
      // Package defaults (TIMEOUT_SEND included): the replay starts as the broker comes back, and a first batch that
      // times out locally while the broker writes it would be sent again (with a 5 s TIMEOUT_SEND a run with every
      // lane at once once made 245 duplicates).
      const options = { ...ctx.options(A.plaintext, topic, spool), durability: 'disk' }
      const first = ctx.host(options, { prefix: 'c10', count: 4500, rate: 600, pad: 3000 }, 'c10-first')
      await first.done(60_000)
      await first.waitHealth((h, m) => h.spool.records === m.accepted, 30_000, 'every event on disk')
      const accepted1 = first.accepted()
      await ctx.stop(first)
      const slot = join(spool, 'slot-0')
      const segments = segmentFiles(slot)
      ctx.check('the backlog spans three segments or more', segments.length >= 3, `${segments.length} segments`)
      const before = readSpoolKeys(slot)
      /** Flips `mask` into byte `byteOf(frame)` of the frame holding byte `at` of a segment; the records lost. */
      const damage = (seg, at, byteOf) => {
        const bytes = readFileSync(seg.path)
        const frames = frameOffsets(bytes)
        const index = frames.findLastIndex((f) => f <= at)
        bytes[byteOf(frames[index])] ^= 0xff
        writeFileSync(seg.path, bytes)
        return { index, of: frames.length, lost: frames.length - index }
      }
      // Damage 1: a byte in the middle of the first segment (bad CRC). Everything from that frame to the segment's
      // end is expected to be counted corrupted and moved aside; the later segments replay.
      const at = Math.floor(segments[0].size / 2)
      const crc = damage(segments[0], at, () => at)
      // Damage 2: the third byte of the length of the frame in the middle of the second segment (about 4 KB ->
      // about 16 MB): its frame runs past the segment's end like a torn write, yet intact frames follow it; they
      // must be found and counted, not taken for one torn record.
      const length = damage(segments[1], Math.floor(segments[1].size / 2), (frame) => frame + 2)
      const damaged = crc.lost + length.lost
      // Damage 3: a torn write at the end of the last segment (the first half of a copy of its first frame).
      const last = segments.at(-1)
      const lastBytes = readFileSync(last.path)
      appendFileSync(last.path, lastBytes.subarray(0, Math.floor((8 + lastBytes.readUInt32LE(0)) / 2)))
      ctx.note(`${before.length} records on disk in ${segments.length} segments; byte ${at} of ${segments[0].name} flipped (frame ${crc.index} of ${crc.of}: ${crc.lost} records from there to the segment end); the length of frame ${length.index} of ${length.of} of ${segments[1].name} flipped (${length.lost} records); half a frame appended to ${last.name}`)
      await A.start()
      const { settled, ranges } = await continueStream(ctx, first, options, n(P.rate, 3000), 'c10-second')
      const corrupted = settled.health.spool.corrupted
      const records = await ctx.read(A.plaintext, topic, ranges, accepted1 + ranges[1].count - damaged)
      const bad = readdirSync(slot).filter((f) => f.endsWith('.bad'))
      ctx.check('both damaged parts were moved aside (corrupt-*.bad)', bad.length >= 2, bad.join(', '))
      // The torn write counts as one record lost (the spool cannot tell what it was); it is half a copy of a frame,
      // no accepted event, so the accounting of accepted events leaves it out.
      ctx.check('corrupted count = records from each damaged frame to its segment end + 1 torn write', corrupted === damaged + 1, `spool.corrupted ${corrupted}, expected ${crc.lost} + ${length.lost} + 1`)
      ctx.metric('corrupted', corrupted)
      ctx.metric('expectedDamaged', damaged)
      return { ranges, records, lossPolicy: 'corrupted', corrupted: corrupted - 1 }
    },
  },
  {
    id: 11,
    lane: 'outage2',
    title: 'Host SIGTERM with a backlog while Kafka is down, restart with Kafka up',
    how: 'A memory-mode host logs while Kafka is up; the broker is stopped at 25% of the stream; at 60% the host gets SIGTERM (`shutdown(5000)`), which must report `dropped: 0, pending: 0` and the backlog as `spooled`. The broker starts and a new host on the same spool replays the backlog and logs the rest of the stream.',
    async run(ctx) {
      const { A2: A, P } = ctx
      await A.start()
      const topic = uniqueTopic('rel-c11')
      const spool = freshSpool('c11')
      const total = n(P.rate, P.streamMs)
      const first = ctx.host(ctx.options(A.plaintext, topic, spool), { prefix: 'c11', count: total, rate: P.rate }, 'c11-first')
      await acceptedAtLeast(first, Math.round(total * 0.25), P.streamMs * 3)
      await A.stop()
      await acceptedAtLeast(first, Math.round(total * 0.6), P.streamMs * 3)
      const end1 = await ctx.stop(first)
      const accepted1 = first.accepted()
      ctx.note(`first host: ${accepted1} accepted; shutdown result ${JSON.stringify(end1.result)} in ${end1.tookMs} ms`)
      ctx.check('shutdown lost nothing (dropped 0, pending 0)', end1.result.dropped === 0 && end1.result.pending === 0, JSON.stringify(end1.result))
      ctx.check('shutdown left a backlog in the spool', end1.result.spooled > 0, `spooled ${end1.result.spooled}`)
      await A.start()
      const { ranges } = await continueStream(ctx, first, ctx.options(A.plaintext, topic, spool), total - accepted1, 'c11-second')
      return { ranges, records: await ctx.read(A.plaintext, topic, ranges) }
    },
  },
  {
    id: 12,
    lane: 'steady',
    title: 'Host SIGKILL in memory mode (loss bounded: measured)',
    how: 'Kafka healthy, memory mode (the default): the host is SIGKILLed at a random point between 30% and 70% of its stream, then restarted on the same spool. Loss = accepted (the progress file) minus delivered. Asserted: within the README\'s bound (QUEUE_MAX_SIZE plus in flight) and nothing lost that had reached Kafka or the disk; reported per trial in events and milliseconds of traffic.',
    run: (ctx) => hostKill(ctx, 12, 'memory'),
  },
  {
    id: 13,
    lane: 'steady',
    title: 'Host SIGKILL in disk mode',
    how: 'As case 12 in disk mode. Lost counts only the events acknowledged to disk before the kill (the host\'s progress file: `spool.spooled` at its last tick); the events accepted but not yet acknowledged (the log call does not wait for the disk) are counted apart and must be only those of the last 2 group-commit intervals + a tick. Right after the kill the spool\'s segment files are parsed and the topic read: nothing found there may be lost.',
    hints: {
      'duplicates <= 0.1% of events':
        'At-least-once after a crash: the events Kafka had written whose delivery reports the process had not handled yet at the SIGKILL, and those acknowledged behind an older unacknowledged one (the ack cursor is the first unacknowledged record; it is persisted after every batch of delivery reports), are replayed with the same messageId: a few events per crash (see the trial notes), more than 0.1% of a stream of a few thousand events.',
    },
    run: (ctx) => hostKill(ctx, 13, 'disk'),
  },
  {
    id: 14,
    lane: 'outage2',
    title: 'Queue-mode worker (a host process in the worker role) killed mid-run during an outage, restarted',
    how: 'Stands in for n8n queue mode (the real main + worker + Redis run is `__test__/e2e/queue-mode.test.mjs`, owned by another engineer): two host processes share one spool base directory as n8n processes of one machine do, a main (instanceType main, memory mode, slot-0) and a worker (instanceType worker, disk mode, slot-1). The broker is stopped at 25% of the worker\'s stream, the worker is SIGKILLed at about 50% during the outage, the broker starts and the worker is restarted: it must take slot-1 back (slot-0 is held by the running main) and replay its backlog. The main never stops. The worker\'s loss is counted as in case 13.',
    async run(ctx) {
      const { A2: A, P } = ctx
      await A.start()
      const topic = uniqueTopic('rel-c14')
      const spool = freshSpool('c14') // one base directory, as every n8n process of a machine shares it
      const total = n(P.rate, P.streamMs)
      const mainOptions = { ...ctx.options(A.plaintext, topic, spool), instanceId: 'rel-c14-main', instanceType: 'main' }
      const workerOptions = { ...ctx.options(A.plaintext, topic, spool), instanceId: 'rel-c14-worker', instanceType: 'worker', durability: 'disk' }
      const main = ctx.host(mainOptions, { prefix: 'c14m', count: total, rate: P.rate / 2 }, 'c14-main')
      const mainSlot = await slotOf(main)
      const worker = ctx.host(workerOptions, { prefix: 'c14w', count: total, rate: P.rate }, 'c14-worker')
      const workerSlot = await slotOf(worker)
      ctx.check('main and worker own separate slots', /slot-0$/.test(mainSlot) && /slot-1$/.test(workerSlot), `${mainSlot} / ${workerSlot}`)
      await acceptedAtLeast(worker, Math.round(total * 0.25), P.streamMs * 3)
      await A.stop()
      await acceptedAtLeast(worker, Math.round(total * 0.5), P.streamMs * 3)
      await sleep(Math.random() * 500)
      const kill = await killHost(worker, join(spool, 'slot-1'), async () => {
        await A.start()
        // The dead worker sends nothing more: what Kafka holds of its events now is what it had delivered.
        return ctx.read(A.plaintext, topic, [], 0, true)
      })
      ctx.note(`worker SIGKILLed during the outage with ${kill.accepted} accepted: ${describeKill(kill, true)}; ${kill.missing.length} accepted events had reached neither the disk nor Kafka${kill.missing.length ? ` (${describeKeys(kill.missing)})` : ''}`)
      ctx.metric('notOnDiskAtKill', kill.missing.length)
      const again = ctx.host(workerOptions, { prefix: 'c14w', start: kill.accepted, count: total - kill.accepted, rate: P.rate }, 'c14-worker-again')
      const againSlot = await slotOf(again)
      ctx.check('the restarted worker took its own slot back', /slot-1$/.test(againSlot), againSlot)
      await Promise.all([main, again].map(ctx.finish))
      const ranges = [
        { prefix: 'c14m', start: 0, count: main.accepted() },
        { prefix: 'c14w', start: 0, count: kill.accepted },
        { prefix: 'c14w', start: kill.accepted, count: again.accepted() },
      ]
      const records = await ctx.read(A.plaintext, topic, ranges, ranges.reduce((sum, r) => sum + r.count, 0) - kill.missing.length)
      checkKill(ctx, '', kill, new Set(records.map((r) => r.key)), true)
      return { ranges, records, unacknowledged: kill.notDurable }
    },
  },
  {
    id: 15,
    lane: 'cluster',
    title: '3-node KRaft cluster (RF 3, min ISR 2): partition leader SIGKILLed mid-stream',
    how: 'A 3-node KRaft cluster (each node broker and controller), a topic with 3 partitions, replication 3, `min.insync.replicas=2`, `acks=all`. The leader of partition 0 is SIGKILLed at 30% of the stream and restarted at 70%. The host runs with `TIMEOUT_SEND` 15 s, as docs/operations.md recommends for a cluster (the one setting this case changes): librdkafka\'s own retries to the new leader are deduplicated by the idempotent producer, while a record that times out locally first is sent again as a new record and lands twice. With the default 5 s a full run on 2 cores (2026-12-04) made 383 duplicates here (another made 0).',
    async run(ctx) {
      const { C, P } = ctx
      await C.start()
      const topic = uniqueTopic('rel-c15')
      await C.createTopic(topic, 3)
      const total = n(P.rate, P.streamMs)
      // TIMEOUT_SEND 15 s: above the failover time (how, above); the default 5 s duplicated records here.
      const h = ctx.host({ ...ctx.options(C.bootstrap, topic, freshSpool('c15')), timeoutSend: 15_000 }, { prefix: 'c15', count: total, rate: P.rate }, 'c15')
      await acceptedAtLeast(h, Math.round(total * 0.3), P.streamMs * 3)
      const before = await C.metadata(topic)
      const leader = before[0].leader
      await C.node(leader, 'kill')
      const killedAt = Date.now()
      ctx.note(`leaders before: ${Object.entries(before).map(([p, m]) => `p${p}=node ${m.leader}`).join(', ')}; node ${leader} (leader of partition 0) SIGKILLed at ${h.accepted()} accepted`)
      // The controller fences the dead node after broker.session.timeout.ms (3 s) and elects new leaders.
      let during
      while (Date.now() - killedAt < 30_000) {
        during = await C.metadata(topic).catch(() => null)
        if (during?.[0] && during[0].leader !== leader && during[0].leader > 0) break
        await sleep(500)
      }
      ctx.check('partition 0 moved to another leader', during?.[0] && during[0].leader !== leader && during[0].leader > 0, `leader now ${during?.[0]?.leader}`)
      ctx.note(`partition 0 led by node ${during?.[0]?.leader} ${((Date.now() - killedAt) / 1000).toFixed(1)} s after the kill; ISR ${during?.[0]?.isrs}`)
      await acceptedAtLeast(h, Math.round(total * 0.7), P.streamMs * 3)
      await C.node(leader, 'start')
      ctx.note(`node ${leader} restarted ${Math.round((Date.now() - killedAt) / 1000)} s after the kill`)
      const settled = await ctx.finish(h)
      ctx.metric('retried', settled.health.counters.retried)
      ctx.note(`${settled.health.counters.retried} retries counted by the logger; breaker ${settled.health.circuitBreaker.state}`)
      const ranges = [{ prefix: 'c15', start: 0, count: h.accepted() }]
      const records = await ctx.read(C.bootstrap, topic, ranges)
      const deadLetters = await ctx.noDeadLetters(ranges)
      await C.stop() // frees three JVMs for the lanes still running
      const seen = new Set()
      const dupPartitions = {}
      for (const r of records) {
        if (seen.has(r.key)) dupPartitions[`p${r.partition}`] = (dupPartitions[`p${r.partition}`] ?? 0) + 1
        seen.add(r.key)
      }
      if (Object.keys(dupPartitions).length) ctx.note(`duplicates by partition: ${JSON.stringify(dupPartitions)} (a copy whose first send timed out locally, TIMEOUT_SEND, while the cluster still wrote it)`)
      return { ranges, records, ...deadLetters }
    },
  },
]

/** Cases 2-4: the lane's broker is SIGKILLed, stopped or frozen mid-stream, then brought back. */
async function brokerBounce(ctx, id, how) {
  const { broker: A, P } = ctx
  await A.start()
  const topic = uniqueTopic(`rel-c${id}`)
  const outage = how === 'freeze' ? P.freezeMs : P.downMs
  const total = n(P.rate, P.streamMs + outage)
  const h = ctx.host(ctx.options(A.plaintext, topic, freshSpool(`c${id}`)), { prefix: `c${id}`, count: total, rate: P.rate }, `c${id}`)
  await acceptedAtLeast(h, Math.round(n(P.rate, P.streamMs) * 0.4), P.streamMs * 3)
  const at = h.accepted()
  const t0 = Date.now()
  await A[how]()
  await sleep(Math.max(0, outage - (Date.now() - t0)))
  const during = h.last.health
  ctx.note(`${how} at ${at} accepted; ${Math.round((Date.now() - t0) / 1000)} s later: breaker ${during.circuitBreaker.state}, ${during.spool.records} in the spool, lastError ${during.lastError?.kind ?? 'none'}`)
  if (how === 'freeze') await A.thaw()
  else await A.start()
  const back = Date.now()
  const settled = await ctx.finish(h)
  ctx.metric('recoveryS', (settled.at - back) / 1000)
  ctx.note(`everything delivered ${Math.round((settled.at - back) / 1000)} s after the broker was back; ${settled.health.counters.retried} retries, ${settled.health.spool.spooled} spooled, ${settled.health.spool.replayed} replayed`)
  const ranges = [{ prefix: `c${id}`, start: 0, count: h.accepted() }]
  return { ranges, records: await ctx.read(A.plaintext, topic, ranges) }
}

/** Cases 5 and 6: a misconfigured host spools everything; restarted with the right setting, it replays it. */
async function misconfigured(ctx, id, topic, wrong, right, kind) {
  const { B, P } = ctx
  const spool = freshSpool(`c${id}`)
  const prefix = `c${id}`
  const count = n(P.rate, 5_000)
  const first = ctx.host({ ...ctx.options(B.plaintext, topic, spool), ...wrong }, { prefix, count, rate: P.rate }, `${prefix}-wrong`)
  await first.done(60_000)
  const spooled = await allSpooled(first, P.settleMs)
  ctx.check(`the cause is reported as ${kind} (health lastError)`, first.errorKinds.has(kind), `kinds seen: ${[...first.errorKinds].join(', ')}`)
  if (spooled.health.lastError?.kind !== kind) ctx.note(`once the queued events timed out, lastError became ${spooled.health.lastError?.kind} ("${spooled.health.lastError?.message}"): the ${kind} cause is only visible before`)
  ctx.check('nothing delivered with the wrong setting', spooled.health.counters.delivered === 0)
  const end1 = await ctx.stop(first)
  const accepted1 = first.accepted()
  ctx.check('shutdown spooled every event', end1.result.spooled === accepted1 && end1.result.dropped === 0, JSON.stringify(end1.result))
  ctx.note(`wrong setting: ${accepted1} accepted, breaker ${spooled.health.circuitBreaker.state}, shutdown ${JSON.stringify(end1.result)}`)
  const { ranges } = await continueStream(ctx, first, { ...ctx.options(B.plaintext, topic, spool), ...right }, n(P.rate, 3_000), `${prefix}-right`)
  return { ranges, records: await ctx.read(B.plaintext, topic, ranges) }
}

/** One batch (QUEUE_BATCH_SIZE's default) between the queue and librdkafka, counted in neither depth nor in flight. */
const KILL_SLACK = 100

/** Cases 12 and 13: the host is SIGKILLed mid-stream while Kafka is healthy; restarted on the same spool. */
async function hostKill(ctx, id, durability) {
  const { B, P } = ctx
  const disk = durability === 'disk'
  const allRanges = []
  const allRecords = []
  const unacknowledged = []
  const trials = []
  for (let t = 0; t < P.killTrials; t++) {
    const topic = uniqueTopic(`rel-c${id}-${t}`)
    await B.createTopic(topic, 3)
    const spool = freshSpool(`c${id}-${t}`)
    const options = { ...ctx.options(B.plaintext, topic, spool), durability }
    const p = `c${id}t${t}`
    const total = n(P.rate, P.killStreamMs)
    const h = ctx.host(options, { prefix: p, count: total, rate: P.rate }, `${p}-first`)
    await acceptedAtLeast(h, Math.round(total * (0.3 + 0.4 * Math.random())), P.killStreamMs * 3)
    const lastHealth = h.last.health
    const acceptedAtLastHealth = h.last.accepted
    const kill = await killHost(h, join(spool, 'slot-0'), () => ctx.read(B.plaintext, topic, [], 0, true))
    // Restart on the same spool: replays what was on disk, then logs the rest of the stream.
    const { ranges } = await continueStream(ctx, h, options, n(P.rate, 2_000), `${p}-again`)
    const records = await ctx.read(B.plaintext, topic, ranges, kill.accepted + ranges[1].count - kill.missing.length)
    const lost = checkKill(ctx, `trial ${t + 1}: `, kill, new Set(records.map((r) => r.key)), disk)
    const seen = new Set()
    const dups = records.filter((r) => (seen.has(r.key) ? true : (seen.add(r.key), false))).map((r) => r.key)
    // What a SIGKILL can take in memory mode: the events queued or in flight at the kill. The host's last health line
    // (0-250 ms before) gives both then; every event accepted since may still have been queued; plus one batch
    // (QUEUE_BATCH_SIZE, 100 by default) in the background thread's hands between the queue and librdkafka.
    const bound = lastHealth.queue.depth + lastHealth.queue.inFlight + (kill.accepted - acceptedAtLastHealth) + KILL_SLACK
    trials.push({ accepted: kill.accepted, durable: disk ? kill.durable : undefined, lost: lost.length, bound, duplicates: dups.length, notOnDisk: kill.missing.length, depth: lastHealth.queue.depth, inFlight: lastHealth.queue.inFlight })
    ctx.note(
      `trial ${t + 1}: SIGKILL at ${kill.accepted} accepted (last health 0-250 ms before: queue ${lastHealth.queue.depth}, in flight ${lastHealth.queue.inFlight}); ` +
        `${describeKill(kill, disk)}; lost ${lost.length}${lost.length ? ` (${describeKeys(lost)})` : ''} = ${((lost.length * 1000) / P.rate).toFixed(0)} ms of traffic; ` +
        `${dups.length} duplicates after the restart${dups.length ? ` (${describeKeys(dups)})` : ''}`,
    )
    allRanges.push(...ranges)
    allRecords.push(...records)
    if (disk) unacknowledged.push(...kill.notDurable)
  }
  const maxLost = Math.max(...trials.map((t) => t.lost))
  ctx.metric('trials', trials)
  ctx.metric('maxLost', maxLost)
  ctx.metric('maxLostMs', Math.round((maxLost * 1000) / P.rate))
  if (!disk) {
    for (const [i, t] of trials.entries()) {
      ctx.check(
        `trial ${i + 1}: loss within what was queued or in flight at the kill (last health's depth + in flight + accepted since + ${KILL_SLACK})`,
        t.lost <= t.bound,
        `lost ${t.lost}, bound ${t.bound} (depth ${t.depth}, in flight ${t.inFlight})`,
      )
    }
    return { ranges: allRanges, records: allRecords, lossPolicy: 'bounded' }
  }
  return { ranges: allRanges, records: allRecords, unacknowledged }
}

/** What had reached the disk and Kafka at a host's SIGKILL (killHost), for a note. */
function describeKill(kill, disk) {
  const acked = disk ? `; ${kill.durable} acknowledged to disk at the host's last tick, ${kill.notDurable.length} not yet (${kill.accepted - kill.acceptedBefore} accepted in the last 2 group-commit intervals + a tick)` : ''
  return `${kill.onDisk.size} records on disk, ${kill.inKafka.length} in Kafka at the kill${acked}`
}

/**
 * After a SIGKILLed host's stream was restarted and read back: nothing that had reached the disk or Kafka may be
 * lost, and in disk mode every event accepted more than 2 group-commit intervals (plus a tick) before the kill
 * must have been acknowledged to disk. Returns the killed host's lost keys.
 */
function checkKill(ctx, label, kill, delivered, disk) {
  const lost = kill.keys.filter((k) => !delivered.has(k))
  const lostPersisted = lost.filter((k) => kill.persisted.has(k))
  ctx.check(`${label}nothing that had reached the disk or Kafka was lost`, lostPersisted.length === 0, describeKeys(lostPersisted))
  if (disk) {
    ctx.check(
      `${label}not yet on disk at the kill: only events of the last 2 x SPOOL_SYNC_INTERVAL + a tick`,
      kill.durable >= kill.acceptedBefore,
      `${kill.notDurable.length} not on disk; ${kill.accepted} accepted, ${kill.durable} acknowledged to disk, ${kill.acceptedBefore} accepted 2 intervals earlier`,
    )
  }
  return lost
}
