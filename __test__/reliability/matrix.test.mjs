// The fault-injection matrix of issue 4 (scripts/reliability/, RELIABILITY.md) in its `ci` profile: the 15 faults
// against real Kafka brokers, each case asserting the issue's targets (0 lost except case 12, which is bounded;
// in the disk-mode SIGKILL cases 13 and 14, 0 lost of the events acknowledged to disk, the rest bounded;
// duplicates <= 0.1% and deduplicable by messageId; the host never crashes; RSS bounded in cases 1 and 9) and its
// own checks. The ci profile keeps the issue's figures (case 1: broker down 30 s; case 4: frozen 60 s; the 40 s
// stream of the SIGKILL cases 12 and 13, for their 0.1% duplicates target) but has shorter streams elsewhere (15 s
// at 200 events/s instead of 40 s at 250/s), 5 s outages in cases 2, 3 (10 s in the full run), 2 SIGKILL trials in
// cases 12, 13 (3), a 10 s flood in case 9 (20 s) and a 60 s deadline for case 7's dead letters (180 s), and runs
// the lanes at once: 3 min 15 s to 3 min 35 s measured on 2 shared cores. The full run (RELIABILITY.md) is
// `node scripts/reliability/run.mjs --write`.
// Without Kafka (broker.sh cannot start a broker) the matrix throws and this test fails; it never skips.
// RELIABILITY_PROFILE=full runs the full figures; RELIABILITY_CASES=2,13 runs some cases only.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { runMatrix, summaryTable } from '../../scripts/reliability/run.mjs'
import { CASES } from '../../scripts/reliability/cases.mjs'

const profile = process.env.RELIABILITY_PROFILE || 'ci'
const only = process.env.RELIABILITY_CASES ? process.env.RELIABILITY_CASES.split(',').map(Number) : null

test(`fault-injection matrix (${profile} profile)`, { timeout: 40 * 60_000 }, async (t) => {
  const run = await runMatrix({ profile, cases: only, log: (m) => console.error(`[reliability] ${m}`) })
  console.error(summaryTable(run.results))
  const expected = CASES.filter((c) => !only || only.includes(c.id)).map((c) => c.id)
  assert.deepEqual(run.results.map((r) => r.id), expected, 'every case ran')
  for (const r of run.results) {
    await t.test(`case ${r.id}: ${r.title}`, () => {
      const missed = r.checks.filter((c) => !c.ok).map((c) => `${c.name}${c.detail ? ` (${c.detail})` : ''}`)
      if (r.error) missed.unshift(`error: ${r.error}`)
      if (r.sent === undefined) missed.push('no accounting: the case did not finish')
      assert.ok(missed.length === 0, `case ${r.id} missed its targets:\n- ${missed.join('\n- ')}\nnotes: ${r.notes.join(' | ')}\nhost logs: ${r.hostLogs.join(', ')}`)
      assert.ok(r.sent > 0, 'events were sent')
    })
  }
})
