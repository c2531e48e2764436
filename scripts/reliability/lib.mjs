// Shared machinery of the fault-injection matrix: private brokers, the host process, reading topics back,
// reading a spool's segments, and the accounting (sent, delivered, lost, duplicates, dead letters).
import { spawn, execFile } from 'node:child_process'
import { createInterface } from 'node:readline'
import { createWriteStream, existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, statSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { BROKER_SH, consume, privatePortBase, uniqueTopic } from '../../__test__/helpers/broker.mjs'
import { removeKeeping } from '../keep-for-scan.mjs'

export { uniqueTopic }
export const REPO = fileURLToPath(new URL('../..', import.meta.url))
export const HOST = fileURLToPath(new URL('./host.mjs', import.meta.url))
/**
 * The matrix's private brokers: offsets from the shared broker's base (29092 by default: 29552, 29562, 29572, 29712),
 * below 32768, outside Linux's ephemeral port range (a client socket once took a matrix broker's port mid-run).
 * docs/test-broker.md lists the ports other tests use.
 */
export const PORTS = { outage: privatePortBase(460), outage2: privatePortBase(470), steady: privatePortBase(480), cluster: privatePortBase(620) }
export const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms))

// --- brokers ---------------------------------------------------------------------------------------------

/**
 * Runs scripts/kafka/broker.sh without blocking the event loop (hosts keep being read while a broker starts);
 * resolves with its stdout, rejects with its output when it fails.
 */
export function brokerSh(env, ...args) {
  return new Promise((resolve, reject) => {
    // Its own port base means its own state folder, never an inherited KAFKA_STATE (the shared broker's).
    const { KAFKA_STATE, ...inherited } = process.env
    const child = spawn('bash', [BROKER_SH, ...args.map(String)], { env: { ...inherited, ...env }, stdio: ['ignore', 'pipe', 'pipe'] })
    let out = ''
    let err = ''
    child.stdout.on('data', (d) => (out += d))
    child.stderr.on('data', (d) => (err += d))
    const timer = setTimeout(() => child.kill('SIGKILL'), 300_000)
    child.on('error', reject)
    child.on('close', (code, signal) => {
      clearTimeout(timer)
      if (code === 0) resolve(out)
      else reject(new Error(`broker.sh ${args.join(' ')} (${JSON.stringify(env)}) failed (${code ?? signal}):\n${out}${err}`))
    })
  })
}

function run(cmd, args, timeoutMs = 20_000) {
  return new Promise((resolve, reject) => {
    execFile(cmd, args, { encoding: 'utf8', timeout: timeoutMs, maxBuffer: 64 << 20 }, (error, stdout, stderr) =>
      error ? reject(new Error(`${cmd} ${args.join(' ')}: ${error.message}\n${stderr}`)) : resolve(stdout),
    )
  })
}

/** A private single-node broker of scripts/kafka/broker.sh on its own port base (never the shared 29092). */
export class Broker {
  constructor(base, env = {}) {
    this.base = Number(base)
    this.env = { KAFKA_PORT_BASE: String(base), ...env }
  }
  sh(...args) {
    return brokerSh(this.env, ...args)
  }
  get plaintext() {
    return `127.0.0.1:${this.base}`
  }
  get sasl() {
    return `127.0.0.1:${this.base + 1}`
  }
  get ssl() {
    return `127.0.0.1:${this.base + 2}`
  }
  async info() {
    return (this._info ??= JSON.parse(await this.sh('info')))
  }
  /**
   * Starts (or thaws) the broker; one retry after a failed start (a port of the ephemeral range can be busy: the
   * sockets on its ports are logged).
   */
  async start() {
    try {
      return await this.sh('start')
    } catch (error) {
      const holders = await run('ss', ['-tanpH', `( sport >= :${this.base} and sport <= :${this.base + 5} )`]).catch((e) => e.message)
      console.error(`[reliability] broker ${this.base}: start failed, retrying once: ${error.message.split('\n').slice(0, 3).join(' | ')}; sockets on its ports: ${holders.trim().replace(/\s+/g, ' ') || 'none'}`)
      await this.sh('stop').catch(() => {})
      await sleep(2000)
      return this.sh('start')
    }
  }
  stop() {
    return this.sh('stop')
  }
  kill() {
    return this.sh('kill')
  }
  freeze() {
    return this.sh('freeze')
  }
  thaw() {
    return this.sh('thaw')
  }
  wipe() {
    return this.sh('wipe')
  }
  /** Creates a topic (idempotent); configs as { 'max.message.bytes': 8000 }. */
  createTopic(name, partitions = 1, configs = {}) {
    return this.sh('create-topic', name, partitions, ...Object.entries(configs).map(([k, v]) => `${k}=${v}`))
  }
}

/** The names of the topics a cluster has (metadata of all topics: asking for one could auto-create it). */
export async function listTopics(brokers) {
  return JSON.parse(await run('kcat', ['-b', brokers, '-L', '-J', '-m', '10'])).topics.map((t) => t.topic)
}

/** A private 3-node KRaft cluster (replication 3, min.insync.replicas 2) on KAFKA_CLUSTER_PORT_BASE. */
export class Cluster {
  constructor(base, size = 3) {
    this.base = Number(base)
    this.size = size
    this.env = { KAFKA_CLUSTER_PORT_BASE: String(base) }
  }
  sh(...args) {
    return brokerSh(this.env, ...args)
  }
  get bootstrap() {
    return Array.from({ length: this.size }, (_, i) => `127.0.0.1:${this.base + 10 * i}`).join(',')
  }
  start() {
    return this.sh('cluster-start', this.size)
  }
  stop() {
    return this.sh('cluster-stop')
  }
  wipe() {
    return this.sh('cluster-wipe')
  }
  node(i, ...cmd) {
    return this.sh('cluster-node', i, ...cmd)
  }
  createTopic(name, partitions = 1, configs = {}) {
    return this.node(1, 'create-topic', name, partitions, ...Object.entries(configs).map(([k, v]) => `${k}=${v}`))
  }
  /** { partition: { leader, replicas, isrs } } from kcat's metadata (node ids are 1..size). */
  async metadata(topic) {
    const out = await run('kcat', ['-b', this.bootstrap, '-L', '-J', '-t', topic, '-m', '10'])
    const t = JSON.parse(out).topics.find((x) => x.topic === topic)
    const result = {}
    for (const p of t?.partitions ?? []) result[p.partition] = { leader: p.leader, replicas: p.replicas.map((r) => r.id), isrs: p.isrs.map((r) => r.id) }
    return result
  }
}

// --- the host process --------------------------------------------------------------------------------------

let hostSeq = 0

/**
 * Starts scripts/reliability/host.mjs. `options` are the logger's, `run` the stream's (prefix, start, count,
 * rate, bigEvery, bigBytes, shutdownMs). Returns a Host; its stderr goes to `<logDir>/<name>.log`.
 */
export function startHost(options, run, { name = `host-${++hostSeq}`, logDir = tmpdir() } = {}) {
  return new Host(options, run, name, logDir)
}

export class Host {
  constructor(options, run, name, logDir) {
    mkdirSync(logDir, { recursive: true })
    this.name = name
    this.run = run
    const progressDir = mkdtempSync(join(tmpdir(), 'kel-rel-'))
    tempDirs.push(progressDir)
    this.progressFile = join(progressDir, 'progress')
    this.logFile = join(logDir, `${name}.log`)
    const log = createWriteStream(this.logFile, { flags: 'a' })
    this.child = spawn(process.execPath, [HOST, JSON.stringify({ options, run: { ...run, progressFile: this.progressFile } })], {
      stdio: ['ignore', 'pipe', 'pipe'],
      cwd: REPO,
    })
    this.child.stderr.pipe(log)
    this.messages = [] // the last ones only, plus every non-health message
    this.special = []
    this.waiters = []
    this.maxRss = 0
    this.readyRss = 0 // RSS with the logger constructed, before the stream: the baseline of the RSS bound
    this.rssSamples = []
    this.last = null
    this.crash = null
    this.signalSent = null
    this.errorKinds = new Set() // every lastError.kind seen in a health line
    this.depthSamples = [0] // queue depth of every health line
    createInterface({ input: this.child.stdout }).on('line', (line) => {
      let m
      try {
        m = JSON.parse(line)
      } catch {
        return
      }
      m.at = Date.now()
      if (m.type === 'crash') this.crash = m.error
      if (m.type === 'ready' && m.rss) this.readyRss = m.rss
      if (m.rss) {
        this.maxRss = Math.max(this.maxRss, m.rss)
        this.rssSamples.push([Date.now(), m.rss])
      }
      if (m.health) this.last = m
      if (m.health?.lastError?.kind) this.errorKinds.add(m.health.lastError.kind)
      if (m.type === 'health') this.depthSamples.push(m.health.queue.depth)
      if (m.type === 'health') {
        this.messages.push(m)
        if (this.messages.length > 40) this.messages.shift()
      } else this.special.push(m)
      for (const w of [...this.waiters]) {
        if (w.match(m)) {
          this.waiters.splice(this.waiters.indexOf(w), 1)
          w.resolve(m)
        }
      }
    })
    this.exited = new Promise((resolve) => this.child.on('exit', (code, signal) => resolve((this.exit = { code, signal }))))
    this.exited.then(() => {
      for (const w of this.waiters.splice(0)) w.reject(new Error(`${this.name} exited (${JSON.stringify(this.exit)}) while waiting for ${w.what}; crash: ${this.crash ?? 'none'}; see ${this.logFile}`))
    })
  }

  /** Resolves with the first message matching `match` (already received or future); rejects at the deadline. */
  waitFor(match, timeoutMs, what) {
    const found = [...this.special, ...this.messages].find(match)
    if (found) return Promise.resolve(found)
    if (this.exit) return Promise.reject(new Error(`${this.name} already exited (${JSON.stringify(this.exit)}) before ${what}`))
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.waiters.splice(this.waiters.indexOf(entry), 1)
        reject(new Error(`${this.name}: timed out after ${timeoutMs} ms waiting for ${what}; last health: ${JSON.stringify(this.last?.health ?? null)}`))
      }, timeoutMs)
      const entry = { match, what, resolve: (m) => (clearTimeout(timer), resolve(m)), reject: (e) => (clearTimeout(timer), reject(e)) }
      this.waiters.push(entry)
    })
  }

  /** Waits for a health line that satisfies `predicate(health, message)`. */
  waitHealth(predicate, timeoutMs, what) {
    return this.waitFor((m) => m.type === 'health' && predicate(m.health, m), timeoutMs, what)
  }

  ready(timeoutMs = 30_000) {
    return this.waitFor((m) => m.type === 'ready', timeoutMs, 'ready')
  }
  done(timeoutMs) {
    return this.waitFor((m) => m.type === 'done', timeoutMs, 'the whole stream logged')
  }

  /** Waits until the host logged all its events and each is delivered, dead-lettered or counted dropped. */
  async settled(timeoutMs, what = 'everything delivered') {
    await this.done(timeoutMs)
    let streak = 0
    return this.waitHealth(
      (h, m) => {
        const spoolEmpty = !h.spool.enabled || h.spool.records === 0
        const ok =
          spoolEmpty && h.queue.depth === 0 && h.queue.inFlight === 0 && h.queue.retryPending === 0 &&
          h.counters.delivered + h.counters.deadLettered + h.counters.dropped >= m.accepted
        streak = ok ? streak + 1 : 0
        return streak >= 2
      },
      timeoutMs,
      what,
    )
  }

  /**
   * The host's progress file (see host.mjs): { accepted, durable, acceptedBefore }. `accepted` is exact even after
   * a SIGKILL (rewritten after every call); `durable` and `acceptedBefore` are as of the host's last tick.
   */
  progress() {
    let text = ''
    try {
      text = readFileSync(this.progressFile, 'utf8')
    } catch {}
    const [accepted = 0, durable = 0, acceptedBefore = 0] = text.trim().split(/\s+/).map((x) => Number(x) || 0)
    return { accepted, durable, acceptedBefore }
  }

  /** Events the package accepted so far. */
  accepted() {
    return this.progress().accepted
  }

  kill(signal) {
    this.signalSent = signal
    if (!this.exit) this.child.kill(signal)
  }

  /** SIGTERM: shutdown(shutdownMs) in the host; resolves with its result line and exit status. */
  async terminate(timeoutMs = 30_000) {
    this.kill('SIGTERM')
    const result = await this.waitFor((m) => m.type === 'result', timeoutMs, 'the shutdown result')
    const exit = await this.exited
    return { ...result, exit }
  }

  /** True when the process ended by itself in a way the case did not ask for (a crash). */
  crashed() {
    if (this.crash) return true
    if (!this.exit) return false
    if (this.signalSent === 'SIGKILL') return this.exit.signal !== 'SIGKILL'
    return this.exit.code !== 0
  }
}

/**
 * A second host on the first one's spool (`options`), continuing its numbering with `count` events; waits until
 * it delivered everything and stops it. Resolves with its settled health line and the ranges of both hosts.
 */
export async function continueStream(ctx, first, options, count, name) {
  const { prefix } = first.run
  const accepted1 = first.accepted()
  const second = ctx.host(options, { prefix, start: accepted1, count, rate: ctx.P.rate }, name)
  const settled = await ctx.finish(second)
  return { settled, ranges: [{ prefix, start: 0, count: accepted1 }, { prefix, start: accepted1, count: second.accepted() }] }
}

// --- reading back --------------------------------------------------------------------------------------------

/**
 * Reads a whole topic (to its end) repeatedly until `expected` distinct keys of interest are there, the count
 * stayed the same over 5 reads a second apart, or the deadline passes; returns the records. A topic that does
 * not exist reads as empty. A read that does not complete (a broker just restarted on a loaded host can take
 * longer than one kcat run) is tried again until the deadline, and then throws: it never reads as empty.
 */
export async function readTopic({ brokers, topic, expected = 0, isOurs = () => true, timeoutMs = 60_000 }) {
  const deadline = Date.now() + timeoutMs
  let records = []
  let last = -1
  let stable = 0
  for (;;) {
    try {
      records = await consume({ brokers, topic, timeoutMs: Math.max(5_000, Math.min(30_000, deadline - Date.now())) })
    } catch (error) {
      if (/Unknown topic|not available|UNKNOWN_TOPIC/i.test(error.message)) records = []
      else if (Date.now() >= deadline) throw error
      else {
        await sleep(1000)
        continue
      }
    }
    const keys = new Set(records.filter((r) => isOurs(r.key)).map((r) => r.key))
    // Callers read after the hosts reported everything acknowledged: a count that no longer grows is final.
    stable = keys.size === last ? stable + 1 : 0
    last = keys.size
    if (keys.size >= expected || stable >= 4 || Date.now() >= deadline) return records
    await sleep(1000)
  }
}

/** The dead-letters.jsonl lines of every slot under a spool base directory. */
export function readDeadLetterFiles(base) {
  const out = []
  if (!base || !existsSync(base)) return out
  for (const slot of readdirSync(base)) {
    const file = join(base, slot, 'dead-letters.jsonl')
    if (!existsSync(file)) continue
    for (const line of readFileSync(file, 'utf8').split('\n')) {
      if (!line.trim()) continue
      try {
        out.push({ ...JSON.parse(line), slot })
      } catch {}
    }
  }
  return out
}

/**
 * Keys of every well-formed record in a spool slot's segment files (the on-disk format of src/spool/frame.rs:
 * u32 length, u32 crc32c, body = version, flags, event time, attempts, [first failure], key, name, id, payload).
 * Stops at the first malformed frame of a segment. Used to tell what had reached the disk at a SIGKILL.
 */
export function readSpoolKeys(slotDir) {
  const keys = []
  if (!existsSync(slotDir)) return keys
  for (const f of readdirSync(slotDir).filter((n) => /^segment-\d+\.log$/.test(n)).sort()) {
    const buf = readFileSync(join(slotDir, f))
    let at = 0
    while (at + 8 <= buf.length) {
      const len = buf.readUInt32LE(at)
      if (len < 30 || at + 8 + len > buf.length) break
      const body = buf.subarray(at + 8, at + 8 + len)
      let p = 2 + 8 + 4 + (body[1] & 1 ? 8 : 0)
      const klen = body.readUInt32LE(p)
      p += 4
      keys.push(body.subarray(p, p + klen).toString('utf8'))
      at += 8 + len
    }
  }
  return keys
}

/**
 * SIGKILLs a host mid-stream and takes stock at once: its progress file (host.mjs), the keys in its spool slot's
 * segment files, then what `readKafka()` finds (called a second later: produce requests already on the wire still
 * land). `keys`: the events it accepted; `missing`: those that had reached neither the disk nor Kafka;
 * `notDurable`: those not yet acknowledged to disk (disk mode: all but the first progress.durable).
 */
export async function killHost(host, slotDir, readKafka) {
  host.kill('SIGKILL')
  await host.exited
  const progress = host.progress()
  const onDisk = new Set(readSpoolKeys(slotDir))
  await sleep(1000)
  const inKafka = await readKafka()
  const persisted = new Set([...onDisk, ...inKafka.map((r) => r.key)])
  const { prefix, start = 0 } = host.run
  const keys = Array.from({ length: progress.accepted - start }, (_, i) => `${prefix}-${start + i}`)
  const notDurable = keys.slice(progress.durable)
  return { ...progress, keys, onDisk, inKafka, persisted, missing: keys.filter((k) => !persisted.has(k)), notDurable }
}

export function segmentFiles(slotDir) {
  return readdirSync(slotDir)
    .filter((n) => /^segment-\d+\.log$/.test(n))
    .sort()
    .map((n) => ({ name: n, path: join(slotDir, n), size: statSync(join(slotDir, n)).size }))
}

// --- accounting ----------------------------------------------------------------------------------------------

/**
 * What happened to the events sent. `ranges`: [{ prefix, start, count }] of events the package accepted
 * (a range's count grows to cover any delivered index past it: accepted, reported a moment late).
 * `records`: the main topic; `dlq`: the dead-letter topic; `deadFile`: dead-letters.jsonl lines.
 * `unacknowledged`: keys accepted but not yet acknowledged to disk at a SIGKILL (disk mode): missing, they are
 * counted apart (`unacknowledgedLost`), not as lost.
 */
export function account({ ranges, records = [], dlq = [], deadFile = [], unacknowledged = [] }) {
  const parse = (key) => {
    const m = /^(.*)-(\d+)$/.exec(key ?? '')
    return m ? { prefix: m[1], i: Number(m[2]) } : null
  }
  const byPrefix = new Map()
  for (const r of ranges) {
    if (!byPrefix.has(r.prefix)) byPrefix.set(r.prefix, [])
    byPrefix.get(r.prefix).push({ ...r })
  }
  const isOurs = (key) => {
    const k = parse(key)
    return !!k && byPrefix.has(k.prefix)
  }
  // Extend a prefix's last range over delivered indices past it (the progress file lags a call at most).
  let lateReported = 0
  for (const rec of [...records, ...dlq, ...deadFile]) {
    const k = parse(rec.key)
    if (!k || !byPrefix.has(k.prefix)) continue
    const list = byPrefix.get(k.prefix)
    const last = list.reduce((a, b) => (a.start > b.start ? a : b))
    if (k.i >= last.start + last.count) {
      lateReported += k.i + 1 - (last.start + last.count)
      last.count = k.i + 1 - last.start
    }
  }
  const sentKeys = new Set()
  for (const list of byPrefix.values()) for (const r of list) for (let i = r.start; i < r.start + r.count; i++) sentKeys.add(`${r.prefix}-${i}`)
  const groups = new Map()
  for (const rec of records) {
    if (!sentKeys.has(rec.key)) continue
    if (!groups.has(rec.key)) groups.set(rec.key, [])
    groups.get(rec.key).push(rec)
  }
  let duplicates = 0
  let duplicateIdMismatch = 0
  const duplicateKeys = []
  for (const [key, list] of groups) {
    duplicates += list.length - 1
    if (list.length > 1) duplicateKeys.push(key)
    const ids = new Set(list.map((r) => r.value?.messageId))
    if (ids.size > 1) duplicateIdMismatch++
  }
  const dead = new Set()
  const deadRecords = dlq.filter((rec) => sentKeys.has(rec.key))
  for (const rec of deadRecords) dead.add(rec.key)
  const deadInFile = new Set()
  const deadLines = deadFile.filter((line) => sentKeys.has(line.key))
  for (const line of deadLines) deadInFile.add(line.key)
  const deadLettered = new Set([...dead, ...deadInFile])
  // A dead letter more than once: twice in the topic, twice in the file, or in both.
  const deadDuplicates = deadRecords.length + deadLines.length - deadLettered.size
  const missing = [...sentKeys].filter((k) => !groups.has(k) && !deadLettered.has(k))
  const notOnDisk = new Set(unacknowledged)
  const lostKeys = missing.filter((k) => !notOnDisk.has(k))
  const unexpected = records.filter((r) => !isOurs(r.key)).length
  return {
    sent: sentKeys.size,
    delivered: groups.size,
    lost: lostKeys.length,
    lostKeys,
    unacknowledged: notOnDisk.size,
    unacknowledgedLost: missing.length - lostKeys.length,
    duplicates,
    duplicateKeys,
    duplicateIdMismatch,
    deadLettered: deadLettered.size,
    deadDuplicates,
    deadLetteredTopic: dead.size,
    deadLetteredFile: deadInFile.size,
    deadAndDelivered: [...deadLettered].filter((k) => groups.has(k)).length,
    lateReported,
    unexpected,
    isOurs,
    sentKeys,
  }
}

/** Compact ranges of lost keys for a report: "p-10..p-14, p-20". */
export function describeKeys(keys, max = 8) {
  const parsed = keys
    .map((k) => /^(.*)-(\d+)$/.exec(k))
    .filter(Boolean)
    .map((m) => [m[1], Number(m[2])])
    .sort((a, b) => (a[0] === b[0] ? a[1] - b[1] : a[0] < b[0] ? -1 : 1))
  const runs = []
  for (const [p, i] of parsed) {
    const last = runs.at(-1)
    if (last && last.p === p && last.to === i - 1) last.to = i
    else runs.push({ p, from: i, to: i })
  }
  const text = runs.slice(0, max).map((r) => (r.from === r.to ? `${r.p}-${r.from}` : `${r.p}-${r.from}..${r.to}`))
  if (runs.length > max) text.push(`… (${runs.length - max} more runs)`)
  return text.join(', ')
}

/** Temporary directories made by this process (spools, progress files): removeTempDirs() deletes them. */
const tempDirs = []

export function freshSpool(label) {
  const dir = mkdtempSync(join(tmpdir(), `kel-rel-${label}-`))
  tempDirs.push(dir)
  return dir
}

export function removeTempDirs() {
  for (const dir of tempDirs.splice(0)) removeKeeping(dir)
}
