// Runs every measurement of issue 5 interleaved (fresh process each, clients rotated per repetition) -> results/*.json
// (--out DIR for another folder; --clients and --only for a subset).
import { spawnSync } from 'node:child_process'
import { mkdirSync, writeFileSync, appendFileSync, existsSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { CLIENTS } from './clients/index.mjs'

const HERE = dirname(fileURLToPath(import.meta.url))
const REPO = join(HERE, '..')
const argv = process.argv.slice(2)
const opt = (name, def) => { const i = argv.indexOf(name); return i >= 0 ? argv[i + 1] : def }
const cfg = {
  reps: Number(opt('--reps', 3)),
  warmupS: Number(opt('--warmup', 1.5)),
  durationS: Number(opt('--duration', 6)),
  window: 10000,
  rates: opt('--rates', '1000,20000,0').split(',').map(Number),
  outageS: Number(opt('--outage-seconds', 60)),
  brokers: opt('--brokers', '127.0.0.1:29620'), // run.sh's bench broker
  outageBrokerBase: Number(opt('--outage-broker-base', 29600)),
  only: opt('--only', ''),
  clients: opt('--clients', ''), // default: every client and the ceiling
  ceiling: join(REPO, 'target/release/rust-ceiling'),
  node: process.execPath,
}
const OUT = opt('--out', join(HERE, 'results'))
const CACHE = join(REPO, '.cache/bench')
mkdirSync(OUT, { recursive: true })
const RAW = join(OUT, 'raw.jsonl')
if (!argv.includes('--append')) writeFileSync(RAW, '')
const log = (...a) => console.error(new Date().toISOString().slice(11, 19), ...a)
const topic = (tag) => `bench-${tag}-${Date.now()}-${Math.floor(Math.random() * 1e6)}`
const want = (what) => !cfg.only || cfg.only.split(',').includes(what)
const chosen = (clients) => (cfg.clients ? clients.filter((c) => cfg.clients.split(',').includes(c)) : clients)

function record(r, rep) {
  r.rep = rep
  appendFileSync(RAW, JSON.stringify(r) + '\n')
  const show = r.error ? `ERROR ${r.error.split('\n')[0]}` : JSON.stringify(r).slice(0, 300)
  log(`${r.client} ${r.scenario} ${r.rate ?? ''} rep ${rep}: ${show}`)
  return r
}

function lastJson(text) {
  const line = text.trim().split('\n').reverse().find((l) => l.startsWith('{'))
  return line ? JSON.parse(line) : null
}

function scenario(opts, rep, timeoutS) {
  const p = spawnSync(cfg.node, ['--expose-gc', join(HERE, 'scenario.mjs'), JSON.stringify({ brokers: cfg.brokers, repo: REPO, ...opts })], {
    encoding: 'utf8', timeout: timeoutS * 1000, maxBuffer: 64 << 20,
  })
  const r = lastJson(p.stdout || '') ?? { client: opts.client, scenario: opts.scenario, rate: opts.rate, error: `exit ${p.status} ${p.signal || ''} ${p.error?.message || ''} ${(p.stderr || '').slice(-500)}` }
  return record(r, rep)
}

function ceiling(rate, rep) {
  const args = ['--brokers', cfg.brokers, '--topic', topic('ceiling'), '--rate', String(rate), '--warmup', String(cfg.warmupS), '--duration', String(cfg.durationS), '--payloads', join(CACHE, 'payloads.tsv')]
  const p = spawnSync(cfg.ceiling, args, { encoding: 'utf8', timeout: 120000 })
  return record(lastJson(p.stdout || '') ?? { client: 'rust-ceiling', scenario: 'load', rate, error: `exit ${p.status} ${p.stderr?.slice(-300)}` }, rep)
}

function kcat(rep) {
  const file = join(CACHE, 'payloads-kcat.tsv')
  const t0 = process.hrtime.bigint()
  const p = spawnSync('kcat', ['-P', '-b', cfg.brokers, '-t', topic('kcat'), '-K', '\t', '-z', 'lz4', '-X', 'acks=all', '-X', 'enable.idempotence=true', '-X', 'linger.ms=5', '-l', file], { encoding: 'utf8', timeout: 300000 })
  const secs = Number(process.hrtime.bigint() - t0) / 1e9
  const n = 100000 // lines in payloads-kcat.tsv (run.sh)
  return record(p.status === 0 ? { client: 'kcat', scenario: 'load', rate: 0, events: n, secs, ackedRate: n / secs } : { client: 'kcat', scenario: 'load', rate: 0, error: p.stderr?.slice(-300) }, rep)
}

const rotate = (xs, k) => xs.map((_, i) => xs[(i + k) % xs.length])
const loadOpts = (client, rate) => ({ client, scenario: 'load', rate, topic: topic(client), warmupS: cfg.warmupS, durationS: cfg.durationS, window: cfg.window, queueMaxSize: client === 'logger' && rate === 0 ? 50000 : undefined })

log('config', JSON.stringify(cfg))
for (let rep = 1; rep <= cfg.reps; rep++) {
  for (const rate of cfg.rates) {
    if (!want('load')) break
    const clients = chosen(rate === 1000 ? CLIENTS : [...CLIENTS, 'rust-ceiling'])
    for (const client of rotate(clients, rep)) {
      if (client === 'rust-ceiling') ceiling(rate, rep)
      else scenario(loadOpts(client, rate), rep, cfg.warmupS + cfg.durationS + 90)
    }
  }
  if (want('kcat')) kcat(rep)
  if (want('drain')) scenario({ client: 'logger', scenario: 'drain', events: 100000, queueMaxSize: 110000, topic: topic('drain') }, rep, 120)
  if (want('incall')) scenario({ client: 'logger', scenario: 'incall', topic: topic('incall') }, rep, 120)
  if (want('idle')) for (const client of rotate(chosen(CLIENTS), rep)) scenario({ client, scenario: 'idle', topic: topic('idle') }, rep, 90)
}

if (want('outage') && cfg.outageS > 0) {
  const env = { KAFKA_PORT_BASE: String(cfg.outageBrokerBase) }
  const sh = (cmd) => spawnSync('bash', ['scripts/kafka/broker.sh', cmd], { cwd: REPO, env: { ...process.env, ...env }, encoding: 'utf8' })
  // A dedicated broker (the shared one is never frozen); ports in the ephemeral range can be taken: try a few.
  let started
  for (const base of [cfg.outageBrokerBase, cfg.outageBrokerBase + 40, cfg.outageBrokerBase + 80]) {
    env.KAFKA_PORT_BASE = String(base)
    log(`outage: starting a dedicated broker on port ${base}`)
    started = sh('start')
    if (started.status === 0) break
    sh('stop')
  }
  if (started.status !== 0) record({ client: 'logger', scenario: 'outage', error: `broker start failed: ${started.stderr.slice(-300)}` }, 1)
  else {
    try {
      const r = spawnSync(cfg.node, ['--expose-gc', join(HERE, 'scenario.mjs'), JSON.stringify({
        client: 'logger', scenario: 'outage', rate: 1000, upS: 10, outageS: cfg.outageS, recoverS: Number(opt('--recover-seconds', 90)), repo: REPO,
        brokers: `127.0.0.1:${env.KAFKA_PORT_BASE}`, topic: topic('outage'), brokerEnv: env,
      })], { encoding: 'utf8', timeout: (cfg.outageS + 120) * 1000, maxBuffer: 64 << 20 })
      record(lastJson(r.stdout || '') ?? { client: 'logger', scenario: 'outage', error: `exit ${r.status} ${r.stderr?.slice(-500)}` }, 1)
    } finally {
      sh('thaw'); sh('stop')
    }
  }
}
log('done:', RAW)
