// The run's summary line never counts a step that reported a check as NOT RUN (the RustSec advisories offline,
// fuzzing without libFuzzer) as passed, and names failed steps.
import assert from 'node:assert/strict'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { test } from 'node:test'
import { summarize } from '../scripts/run-summary.mjs'

function stepsDir(steps, logs) {
  const dir = mkdtempSync(join(tmpdir(), 'kl-summary-'))
  writeFileSync(join(dir, 'steps.txt'), steps.map(([n, s]) => `${n} ${s}\n`).join(''))
  for (const [name, text] of Object.entries(logs)) writeFileSync(join(dir, `${name}.log`), text)
  return dir
}

test('steps with NOT RUN checks are listed as such, not counted as passed', (t) => {
  const dir = stepsDir([['build', 'ok'], ['fuzz', 'ok'], ['audit', 'ok'], ['node-tests', 'ok']], {
    build: 'Finished\n',
    fuzz: 'fuzz: 2 passed, 0 failed\nfuzz: NOT RUN  coverage-guided fuzzing (libFuzzer unavailable; the stable random-bytes runner ran instead)\n',
    audit: 'audit: ok       npm advisories: none\naudit: NOT RUN  rust advisories (no RustSec database reachable)\n',
    'node-tests': '# pass 10\n',
  })
  t.after(() => rmSync(dir, { recursive: true }))
  assert.equal(
    summarize(dir),
    '2 of 4 steps passed; NOT RUN (not counted as passed): fuzz: coverage-guided fuzzing (libFuzzer unavailable; the stable random-bytes runner ran instead); audit: rust advisories (no RustSec database reachable)',
  )
})

test('a failed step is named; a clean run says all passed', (t) => {
  const failed = stepsDir([['build', 'ok'], ['cargo-test', 'failed']], { build: '', 'cargo-test': 'test result: FAILED\n' })
  const clean = stepsDir([['build', 'ok'], ['audit', 'ok']], { build: '', audit: 'audit: ok  rust advisories\n' })
  t.after(() => [failed, clean].forEach((d) => rmSync(d, { recursive: true })))
  assert.equal(summarize(failed), '1 of 2 steps passed; FAILED: cargo-test')
  assert.equal(summarize(clean), '2 of 2 steps passed')
})
