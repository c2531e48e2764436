// The benchmark's harness end to end at smoke scale (issue 5): bench/run.mjs measures the logger and the no-logging
// baseline against the real test broker, and bench/report.mjs turns that into the targets table. Speeds are bench
// figures (BENCHMARKS.md), not asserted here; that every measurement ran and that its counts add up is.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { execFileSync } from 'node:child_process'
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { ensureBroker } from './helpers/broker.mjs'

const BENCH = fileURLToPath(new URL('../bench/', import.meta.url))

test('bench: run.mjs measures the logger paced, at max, draining and in the call; report.mjs renders the targets', { timeout: 300_000 }, () => {
  const { plaintext } = ensureBroker()
  const out = mkdtempSync(join(tmpdir(), 'bench-smoke-'))
  const run = ['--out', out, '--brokers', plaintext, '--reps', '1', '--warmup', '0.5', '--duration', '1', '--rates', '20000,0', '--clients', 'none,logger', '--only', 'load,drain,incall']
  execFileSync(process.execPath, [join(BENCH, 'run.mjs'), ...run], { stdio: ['ignore', 'ignore', 'pipe'], timeout: 240_000 })

  const rows = readFileSync(join(out, 'raw.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l))
  assert.deepEqual(rows.filter((r) => r.error), [], 'no measurement failed')
  assert.deepEqual([...new Set(rows.map((r) => r.client))].sort(), ['logger', 'none'], '--clients picks the clients')
  const load = (client, rate) => rows.find((r) => r.scenario === 'load' && r.client === client && r.rate === rate)
  for (const rate of [20000, 0]) {
    const r = load('logger', rate)
    assert.ok(r && load('none', rate), `logger and baseline measured at rate ${rate}`)
    assert.equal(r.caughtUp, true, `every event sent at rate ${rate} was acknowledged`)
    assert.ok(r.sent > 0 && r.ackedRate > 0, `events flowed at rate ${rate}`)
    assert.ok(r.jsCpuNsPerEvent > 0 && r.procCpuMsPer100k > 0, `CPU measured at rate ${rate}`)
    assert.ok(r.latencyMs.n > 0 && r.latencyMs.p99 >= r.latencyMs.p50, `event -> ack latency at rate ${rate}`)
    assert.ok(Number.isFinite(r.loopDelayMs.p99), `loop delay at rate ${rate}`)
  }
  const drain = rows.find((r) => r.scenario === 'drain')
  assert.deepEqual({ delivered: drain.delivered, pending: drain.pending, dropped: drain.dropped }, { delivered: 100000, pending: 0, dropped: 0 })
  assert.ok(drain.drainMs > 0)
  assert.ok(rows.find((r) => r.scenario === 'incall').inCallWallNsPerEvent > 0)

  const md = join(out, 'BENCHMARKS.md')
  writeFileSync(md, '# Benchmarks\n')
  execFileSync(process.execPath, [join(BENCH, 'report.mjs'), '--out', out, '--md', md], { stdio: 'ignore' })
  const { targets } = JSON.parse(readFileSync(join(out, 'summary.json'), 'utf8'))
  const target = (start) => targets.find((t) => t.target.startsWith(start))
  for (const start of ['main-thread CPU per event', 'main-thread time inside the log call ', 'loop-delay p99', 'end-to-end p99', 'drain 100k']) {
    assert.ok(Number.isFinite(target(start).value), `target "${start}" has a figure`)
  }
  assert.equal(target('throughput').value, null, 'no ceiling in this run, so no throughput ratio')
  const text = readFileSync(md, 'utf8')
  assert.match(text, /<!-- bench:results:begin[^]*### Targets \(issue 5\)[^]*<!-- bench:results:end -->/)
  assert.match(text, /\| \*\*this package\*\* \| [\d,]+ \[/, 'the throughput table has the package')
  assert.match(text, /\| throughput >= 0\.9x bare rdkafka ceiling \| not measured here \| – \|/)
  assert.match(text, /\| n8n webhook latency p50 with logger <= 1\.02x without \| not measured here \| – \|/)
})
