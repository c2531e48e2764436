// Test helper: starts the real Kafka test broker (scripts/kafka/broker.sh) and reads topics back with kcat.
import { execFileSync, spawn } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { createInterface } from 'node:readline'
import { fileURLToPath } from 'node:url'

export const BROKER_SH = fileURLToPath(new URL('../../scripts/kafka/broker.sh', import.meta.url))

/** The shared broker's port base (KAFKA_PORT_BASE, 29092 by default). */
export const SHARED_PORT_BASE = Number(process.env.KAFKA_PORT_BASE ?? 29092)

/**
 * The port base of a private broker `offset` ports above the shared one: moving KAFKA_PORT_BASE moves every broker of
 * a run, so two runs on one machine (a CI job beside a developer's) never share a port.
 */
export const privatePortBase = (offset) => SHARED_PORT_BASE + offset

/**
 * Runs broker.sh synchronously and returns its stdout; throws with its output when it fails.
 * brokerScript('start') or brokerScript({ KAFKA_PORT_BASE: '29192' }, 'start') for another instance.
 */
export function brokerScript(...args) {
  const env = args.length && typeof args[0] === 'object' ? args.shift() : {}
  const inherited = { ...process.env }
  // Another instance (its own port base) has its own state folder: an inherited KAFKA_STATE would point it at
  // the shared broker's, and `wipe` would delete that broker's data under every other test.
  if (env.KAFKA_PORT_BASE !== undefined) delete inherited.KAFKA_STATE
  try {
    return execFileSync('bash', [BROKER_SH, ...args.map(String)], {
      env: { ...inherited, ...env },
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'pipe'],
      timeout: 300_000,
    })
  } catch (error) {
    const where = Object.keys(env).length ? ` (${JSON.stringify(env)})` : ''
    throw new Error(`broker.sh ${args.join(' ')}${where} failed: ${error.message}\n${error.stdout ?? ''}${error.stderr ?? ''}`)
  }
}

let cached
/**
 * Installs and starts the default broker once per process (reusing one already running) and returns
 * { plaintext, sasl, ssl, mtls, saslSsl, caPath, otherCaPath, clientCertPath, clientKeyPath, user, password }.
 * Throws when Kafka cannot be had: tests fail, never skip.
 */
export function ensureBroker() {
  if (!cached) {
    brokerScript('start')
    cached = JSON.parse(brokerScript('info'))
  }
  return cached
}

/** A fresh, valid topic name per test: prefix + time + random. */
export function uniqueTopic(prefix = 'test') {
  const clean = String(prefix).replace(/[^a-zA-Z0-9._-]/g, '-')
  return `${clean}-${Date.now().toString(36)}-${randomBytes(3).toString('hex')}`
}

/** Creates a topic (idempotent) with Kafka's TopicCommand on the default broker, or on the instance `env` names. */
/** Topic-level configs as an object, e.g. { 'max.message.bytes': 2000 }. */
export function createTopic(name, partitions = 1, env = {}, configs = {}) {
  brokerScript(env, 'create-topic', name, partitions, ...Object.entries(configs).map(([k, v]) => `${k}=${v}`))
}

/** Changes topic-level configs of an existing topic, e.g. { 'max.message.bytes': 200 }; the broker applies them at once. */
export function alterTopic(name, configs, env = {}) {
  brokerScript(env, 'alter-topic', name, Object.entries(configs).map(([k, v]) => `${k}=${v}`).join(','))
}

export function deleteTopic(name, env = {}) {
  brokerScript(env, 'delete-topic', name)
}

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms))

function toRecord(line) {
  const j = JSON.parse(line)
  const headers = {}
  const h = j.headers ?? []
  for (let i = 0; i + 1 < h.length; i += 2) headers[h[i]] = h[i + 1]
  let value = j.payload
  if (typeof value === 'string') {
    try {
      value = JSON.parse(value)
    } catch {}
  }
  return { key: j.key, value, raw: j.payload, headers, partition: j.partition, offset: j.offset, timestamp: j.ts }
}

function kcatArgs(brokers, kcatOptions) {
  const args = ['-b', brokers, '-q', '-u']
  for (const [k, v] of Object.entries(kcatOptions)) args.push('-X', `${k}=${v}`)
  return args
}

/** Partition count of a topic, or 0 when it does not exist (yet). */
export function partitionCount(brokers, topic, kcatOptions = {}) {
  try {
    const out = execFileSync('kcat', [...kcatArgs(brokers, kcatOptions), '-L', '-J', '-t', topic, '-m', '5'], {
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'pipe'],
      timeout: 15_000,
    })
    const t = JSON.parse(out).topics?.find((x) => x.topic === topic)
    return t && !t.error ? t.partitions.length : 0
  } catch {
    return 0
  }
}

/** One kcat consumer run; resolves when it exits (or is killed at the deadline). */
function runKcat(args, deadline, onRecord) {
  return new Promise((resolve, reject) => {
    const child = spawn('kcat', args, { stdio: ['ignore', 'pipe', 'pipe'] })
    let stderr = ''
    child.stderr.on('data', (d) => (stderr += d))
    const timer = setTimeout(() => child.kill('SIGKILL'), Math.max(0, deadline - Date.now()))
    createInterface({ input: child.stdout }).on('line', (line) => line.trim() && onRecord(toRecord(line)))
    child.on('error', (error) => {
      clearTimeout(timer)
      reject(error.code === 'ENOENT' ? new Error('kcat is not installed: run scripts/install-system-deps.sh') : error)
    })
    child.on('close', (code) => {
      clearTimeout(timer)
      resolve({ code, stderr })
    })
  })
}

/**
 * Reads `topic` with kcat's JSON envelope and returns [{ key, value (parsed JSON, else string), raw (the value's text), headers
 * (name -> string), partition, offset, timestamp (ms) }] in consumption order. With `count`, waits until that
 * many records arrived (the topic may not exist yet) or `timeoutMs` passed, then returns what it has: the caller
 * asserts. Without `count`, returns what the topic holds now. `partitionsCheck` (a number): first wait until the
 * topic has that many partitions (throws if it never does). `kcatOptions`: extra librdkafka -X settings.
 */
export async function consume({ brokers, topic, count, timeoutMs = 30_000, fromBeginning = true, partitionsCheck, kcatOptions = {} }) {
  const deadline = Date.now() + timeoutMs
  if (partitionsCheck) {
    let n = 0
    while ((n = partitionCount(brokers, topic, kcatOptions)) < partitionsCheck) {
      if (Date.now() > deadline) throw new Error(`topic ${topic} has ${n} partitions, expected ${partitionsCheck}`)
      await sleep(250)
    }
  }
  const seen = new Map()
  const add = (r) => {
    const id = `${r.partition}:${r.offset}`
    if (!seen.has(id)) seen.set(id, r)
  }
  let offset = fromBeginning ? 'beginning' : 'end'
  let lastError = ''
  let read = false
  for (;;) {
    const args = [...kcatArgs(brokers, kcatOptions), '-C', '-J', '-t', topic, '-o', offset]
    args.push(...(count === undefined ? ['-e'] : ['-c', String(count)]))
    const { code, stderr } = await runKcat(args, deadline, add)
    if (stderr.trim()) lastError = stderr.trim()
    // A broker that answers "unknown topic" has read the whole topic: it holds nothing.
    read = code === 0 || (count === undefined && /Unknown topic or partition/i.test(stderr))
    const done = count === undefined ? read : seen.size >= count
    if (done || Date.now() >= deadline) break
    // kcat exits at once when the topic does not exist yet: everything written later is new, so read from the start.
    if (/Unknown topic/i.test(stderr)) offset = 'beginning'
    await sleep(250)
  }
  // Without `count` the caller wants the whole topic: a read that never completed (refused, killed at the deadline
  // with nothing on stderr) is an error, never an empty topic.
  if (count === undefined && !read) throw new Error(`kcat failed on ${topic}: ${lastError || `no complete read within ${timeoutMs} ms`}`)
  return [...seen.values()]
}
