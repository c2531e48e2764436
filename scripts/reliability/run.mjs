#!/usr/bin/env node
// The fault-injection matrix of issue 4 against real Kafka brokers on loopback. See RELIABILITY.md.
//
//   node scripts/reliability/run.mjs --write            full run (the issue's figures), rewrites RELIABILITY.md
//   node scripts/reliability/run.mjs --profile ci       the shortened run of __test__/reliability/matrix.test.mjs
//   node scripts/reliability/run.mjs --cases 2,12       some cases only
//   node scripts/reliability/run.mjs --render           rewrite RELIABILITY.md from the last saved full run
// Other flags: --sequential (lanes one after the other instead of at once), --keep (leave the private brokers
// running and the temporary spool directories in place). Exit code 1 when a case misses a target.
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { parseArgs } from 'node:util'
import { pathToFileURL } from 'node:url'
import { CASES, PROFILES } from './cases.mjs'
import { Broker, Cluster, PORTS, REPO, account, describeKeys, listTopics, readDeadLetterFiles, readTopic, removeTempDirs, startHost } from './lib.mjs'
import { environment, render } from './report.mjs'

/**
 * Host RSS may grow this far above its baseline (the host's RSS with the logger constructed, before the stream):
 * a full queue (QUEUE_MAX_SIZE 10,000 events of about 1 KB, held once in the queue and once in librdkafka's
 * buffers), the spool's write buffers and allocator slack. Measured growth: see RELIABILITY.md's RSS column.
 */
export const RSS_MARGIN_MB = 64
/** Which private broker each lane uses: A and A2 are stopped, killed and frozen; B stays up; C is the cluster. */
const BROKER_OF = { outage: 'A', outage2: 'A2', steady: 'B', 'dead-letters': 'B', cluster: 'C' }

const RESULTS_DIR = join(REPO, '.cache', 'reliability')

function withTimeout(promise, ms, what) {
  let timer
  return Promise.race([
    promise.finally(() => clearTimeout(timer)),
    new Promise((_, reject) => (timer = setTimeout(() => reject(new Error(`${what} timed out after ${Math.round(ms / 1000)} s`)), ms))),
  ])
}

async function runCase(def, env) {
  const r = { id: def.id, title: def.title, lane: def.lane, checks: [], notes: [], metrics: {}, shutdowns: [] }
  const began = Date.now() // also the event time of event 0 of every stream in the case
  const hosts = []
  const used = { topics: new Map(), spools: new Set() } // every host's topic (-> brokers) and spool directory
  const ctx = {
    ...env,
    broker: env[BROKER_OF[def.lane]], // the lane's broker
    check: (name, ok, detail = '') => r.checks.push({ name, ok: !!ok, detail: String(detail ?? '') }),
    note: (text) => r.notes.push(text),
    metric: (name, value) => (r.metrics[name] = value),
    /** SIGTERM (shutdown(5000) in the host), recording its result. */
    stop: async (h) => {
      const end = await h.terminate()
      r.shutdowns.push(end.result)
      return end
    },
    /** Waits until the host delivered everything (P.settleMs at most), then stops it; resolves with the settled health line. */
    finish: async (h) => {
      const settled = await h.settled(env.P.settleMs)
      await ctx.stop(h)
      return settled
    },
    host: (options, run, name) => {
      const h = startHost(options, { baseTime: began, ...run }, { name: `case${def.id}-${name}`, logDir: env.logDir })
      hosts.push(h)
      return h
    },
    /** Logger options of the matrix: the package's defaults except a 5 s breaker reset (60 s by default). */
    options: (brokers, topic, spoolDir) => {
      used.topics.set(topic, brokers)
      used.spools.add(spoolDir)
      return { brokers, topic, spoolDir, instanceId: `rel-c${def.id}`, cbResetTimeout: 5000 }
    },
    /**
     * Cases without a faulty event (all but 7 and 8): reads each host's `<topic>.dlq` and `dead-letters.jsonl`
     * anyway, so an event dead-lettered by mistake is reported as such, not called lost. Run after the case
     * unless it returned its own dead letters (case 15 calls it before it stops the cluster).
     */
    noDeadLetters: async (ranges) => {
      const dlq = []
      for (const [topic, brokers] of used.topics) {
        if ((await listTopics(brokers)).includes(`${topic}.dlq`)) dlq.push(...(await ctx.read(brokers, `${topic}.dlq`, ranges, 0)))
      }
      const deadFile = [...used.spools].flatMap(readDeadLetterFiles)
      const kinds = new Set([...dlq.map((x) => x.headers['dlq-error-kind']), ...deadFile.map((l) => l.errorKind)])
      ctx.check('no event dead-lettered (none is at fault)', dlq.length + deadFile.length === 0, `${dlq.length} in the dead-letter topic, ${deadFile.length} in dead-letters.jsonl (${describeKeys([...dlq, ...deadFile].map((x) => x.key))}); error kinds: ${[...kinds].join(', ')}`)
      return { dlq, deadFile }
    },
    /** Reads a topic until the expected number of our keys is there (default: every event of `ranges`). */
    read: (brokers, topic, ranges, expected, all = false) => {
      const want = expected ?? ranges.reduce((s, x) => s + x.count, 0)
      const prefixes = new Set(ranges.map((x) => x.prefix))
      const isOurs = all ? () => true : (key) => prefixes.has(String(key).replace(/-\d+$/, ''))
      return readTopic({ brokers, topic, expected: want, isOurs })
    },
  }
  env.log(`case ${def.id}: ${def.title} ...`)
  let out
  try {
    out = await withTimeout(
      def.run(ctx).then(async (o) => (o.dlq || o.deadFile ? o : { ...o, ...(await ctx.noDeadLetters(o.ranges)) })),
      env.P.caseTimeoutMs ?? 600_000,
      `case ${def.id}`,
    )
  } catch (error) {
    r.error = String(error?.stack ?? error)
  } finally {
    for (const h of hosts) if (!h.exit) h.kill('SIGKILL')
    await Promise.all(hosts.map((h) => h.exited))
  }
  r.durationS = Math.round((Date.now() - began) / 1000)
  r.crashed = hosts.filter((h) => h.crashed()).map((h) => `${h.name}: ${JSON.stringify(h.exit)} ${h.crash ?? ''}`.trim())
  r.hostLogs = hosts.map((h) => h.logFile)
  if (out) {
    const a = account(out)
    Object.assign(r, {
      sent: a.sent,
      delivered: a.delivered,
      lost: a.lost,
      lostKeys: describeKeys(a.lostKeys),
      duplicates: a.duplicates,
      duplicateKeys: describeKeys(a.duplicateKeys),
      duplicateIdMismatch: a.duplicateIdMismatch,
      deadLettered: a.deadLettered,
      deadDuplicates: a.deadDuplicates,
      deadAndDelivered: a.deadAndDelivered,
      lateReported: a.lateReported,
      unexpected: a.unexpected,
      lossPolicy: out.lossPolicy ?? 'zero',
    })
    if (out.unacknowledged) Object.assign(r, { unacknowledged: a.unacknowledged, unacknowledgedLost: a.unacknowledgedLost })
    r.rejected = hosts.reduce((sum, h) => sum + (h.last?.rejected ?? 0), 0)
    r.refused = out.refused ?? hosts.reduce((s, h) => s + (h.last?.health?.spool?.refused ?? 0), 0)
    if (out.corrupted !== undefined) r.corrupted = out.corrupted
    if (out.rss) {
      r.maxRssMb = Math.round(Math.max(...hosts.map((h) => h.maxRss)) / 2 ** 20)
      r.baseRssMb = Math.round(Math.max(...hosts.map((h) => h.readyRss)) / 2 ** 20)
    }
  }
  evaluate(r)
  env.log(`case ${def.id}: ${r.pass ? 'PASS' : 'FAIL'} in ${r.durationS} s  sent ${r.sent ?? '-'} delivered ${r.delivered ?? '-'} lost ${r.lost ?? '-'}${r.unacknowledged !== undefined ? ` (+${r.unacknowledgedLost} not yet on disk)` : ''} dup ${r.duplicates ?? '-'} dead ${r.deadLettered ?? '-'} refused ${r.refused ?? '-'}${r.maxRssMb ? ` rss ${r.maxRssMb} MB` : ''}`)
  for (const c of r.checks.filter((x) => !x.ok)) env.log(`   missed: ${c.name} ${c.detail}`)
  if (r.error) env.log(`   error: ${r.error.split('\n').slice(0, 3).join(' | ')}`)
  return r
}

/** Each result gets its case's description and, on a missed check, the case's hint (known cause) for it. */
function describe(results) {
  for (const r of results) {
    const def = CASES.find((c) => c.id === r.id)
    r.how = def?.how
    for (const c of r.checks) c.hint = c.ok ? undefined : def?.hints?.[c.name]
  }
}

/** The common targets of the issue, added to the case's own checks. */
function evaluate(r) {
  const first = []
  if (r.sent !== undefined) {
    if (r.lossPolicy === 'zero') first.push({ name: '0 lost', ok: r.lost === 0, detail: r.lost ? `${r.lost} lost: ${r.lostKeys}` : '' })
    if (r.lossPolicy === 'refused') first.push({ name: 'lost = refused by the full spool, exactly', ok: r.lost === r.refused, detail: `lost ${r.lost}, refused ${r.refused}` })
    if (r.lossPolicy === 'corrupted') first.push({ name: 'lost = counted corrupted, exactly', ok: r.lost === r.corrupted, detail: `lost ${r.lost}, corrupted ${r.corrupted}` })
    first.push({ name: 'duplicates <= 0.1% of events', ok: r.duplicates <= 0.001 * r.sent, detail: `${r.duplicates} of ${r.sent}` })
    first.push({ name: 'every duplicate has the same messageId', ok: r.duplicateIdMismatch === 0, detail: `${r.duplicateIdMismatch} keys with differing ids` })
    first.push({ name: 'dead letters: each at most once (topic and file together)', ok: r.deadDuplicates === 0, detail: `${r.deadDuplicates} extra copies` })
    first.push({ name: 'no event rejected at intake (every host\'s rejected count is 0)', ok: r.rejected === 0, detail: String(r.rejected) })
    first.push({ name: 'no event both delivered and dead-lettered', ok: r.deadAndDelivered === 0, detail: String(r.deadAndDelivered) })
    if (r.maxRssMb !== undefined) {
      const limit = r.baseRssMb + RSS_MARGIN_MB
      first.push({ name: `host RSS bounded (baseline + ${RSS_MARGIN_MB} MiB)`, ok: r.baseRssMb > 0 && r.maxRssMb <= limit, detail: `max ${r.maxRssMb} MiB, baseline ${r.baseRssMb} MiB, bound ${limit} MiB` })
    }
  }
  first.push({ name: 'the host never crashed', ok: r.crashed.length === 0, detail: r.crashed.join('; ') })
  r.checks = [...first, ...r.checks]
  r.pass = !r.error && r.sent !== undefined && r.checks.every((c) => c.ok)
}

/**
 * Runs the matrix; resolves with { profile, results, env, ... }. Throws when a broker cannot be had (the test
 * must fail, never skip, without Kafka).
 */
export async function runMatrix({ profile = 'full', cases = null, parallel, keep = false, log = (m) => console.error(m) } = {}) {
  const P = { ...PROFILES[profile] }
  if (!PROFILES[profile]) throw new Error(`unknown profile ${profile}`)
  parallel ??= true
  const selected = CASES.filter((c) => !cases || cases.includes(c.id))
  const began = Date.now()
  const stamp = new Date().toISOString().replace(/[:.]/g, '-')
  const logDir = join(RESULTS_DIR, 'logs', stamp)
  mkdirSync(logDir, { recursive: true })
  const A = new Broker(PORTS.outage)
  const A2 = new Broker(PORTS.outage2)
  const B = new Broker(PORTS.steady, { KAFKA_AUTO_CREATE_TOPICS: 'false' })
  const C = new Cluster(PORTS.cluster)
  const lanes = [...new Set(selected.map((c) => c.lane))].map((lane) => selected.filter((c) => c.lane === lane))
  const envInfo = await environment({ profile, P, parallel })
  log(`reliability matrix: profile ${profile}, ${selected.length} cases, lanes ${parallel ? 'in parallel' : 'one after the other'}; logs in ${logDir}`)
  // Fresh private brokers (a previous run may have left topics or a frozen process behind).
  const need = new Set(selected.map((c) => BROKER_OF[c.lane]))
  const env = { A, A2, B, C, P, logDir, log }
  const results = []
  const runLane = async (lane) => {
    for (const def of lane) results.push(await runCase(def, env))
  }
  try {
    // A broker that cannot be started throws here: the caller (the test) fails, it never skips.
    await Promise.all([
      need.has('A') && A.wipe().then(() => A.start()),
      need.has('A2') && A2.wipe().then(() => A2.start()),
      need.has('B') && B.wipe().then(() => B.start()),
      need.has('C') && C.wipe(),
    ])
    if (parallel) await Promise.all(lanes.map(runLane))
    else for (const lane of lanes) await runLane(lane)
  } finally {
    if (!keep) {
      await Promise.allSettled([need.has('A') && A.wipe(), need.has('A2') && A2.wipe(), need.has('B') && B.wipe(), need.has('C') && C.wipe()])
      removeTempDirs()
    }
  }
  results.sort((a, b) => a.id - b.id)
  const runtimeS = Math.round((Date.now() - began) / 1000)
  log(`reliability matrix: ${results.filter((r) => r.pass).length}/${results.length} cases met their targets in ${runtimeS} s`)
  describe(results)
  const run = { profile, figures: P, ciFigures: PROFILES.ci, rssMarginMb: RSS_MARGIN_MB, parallel, runtimeS, env: { ...envInfo, finishedAt: new Date().toISOString() }, results, logDir }
  // Every run (the test's too) leaves its evidence: results here, host diagnostics in logDir.
  writeFileSync(join(RESULTS_DIR, `${profile}-results.json`), JSON.stringify(run, null, 2))
  writeFileSync(join(logDir, 'results.json'), JSON.stringify(run, null, 2))
  return run
}

async function main() {
  const { values } = parseArgs({
    options: {
      profile: { type: 'string', default: 'full' },
      cases: { type: 'string' },
      parallel: { type: 'boolean' },
      sequential: { type: 'boolean' },
      keep: { type: 'boolean', default: false },
      write: { type: 'boolean', default: false },
      render: { type: 'boolean', default: false },
      out: { type: 'string', default: join(REPO, 'RELIABILITY.md') },
    },
  })
  const saved = join(RESULTS_DIR, `${values.profile}-results.json`)
  if (values.render) {
    const run = JSON.parse(readFileSync(saved, 'utf8'))
    describe(run.results) // descriptions and hints as the code has them now
    writeFileSync(values.out, render(run))
    console.error(`wrote ${values.out} from ${saved}`)
    return
  }
  const cases = values.cases ? values.cases.split(',').map(Number) : null
  const parallel = values.parallel ? true : values.sequential ? false : undefined
  const run = await runMatrix({ profile: values.profile, cases, parallel, keep: values.keep })
  console.log(summaryTable(run.results))
  if (values.write) {
    writeFileSync(values.out, render(run))
    console.error(`wrote ${values.out}`)
  }
  process.exitCode = run.results.every((r) => r.pass) ? 0 : 1
}

export function summaryTable(results) {
  const rows = results.map((r) =>
    [r.id, r.pass ? 'PASS' : 'FAIL', r.sent ?? '-', r.delivered ?? '-', `${r.lost ?? '-'}${r.unacknowledged !== undefined ? `+${r.unacknowledgedLost}` : ''}`, r.duplicates ?? '-', r.deadLettered ?? '-', r.refused ?? '-', r.maxRssMb ?? '-', `${r.durationS}s`, r.title].join('\t'),
  )
  return ['case\tresult\tsent\tdelivered\tlost\tdup\tdead\trefused\trssMB\ttime\ttitle', ...rows].join('\n')
}

if (import.meta.url === pathToFileURL(process.argv[1]).href) {
  main().catch((error) => {
    console.error(error)
    process.exit(2)
  })
}
