// The last line of `npm test`: how many steps passed, which failed, and every check a step reported as NOT RUN
// (a line `<tool>: NOT RUN  <what>` in its log, e.g. the RustSec advisories offline or fuzzing without libFuzzer).
// A step with such a line is not counted as passed.
// Usage: node scripts/run-summary.mjs STEPS_DIR   (steps.txt: "<name> ok|failed" per line; <name>.log beside it)
import { existsSync, readFileSync } from 'node:fs'
import { join } from 'node:path'

/** The summary line for a steps folder. */
export function summarize(dir) {
  const list = join(dir, 'steps.txt')
  const steps = existsSync(list) ? readFileSync(list, 'utf8').split('\n').filter(Boolean).map((l) => l.split(' ')) : []
  const passed = []
  const failed = []
  const notRun = []
  for (const [name, status] of steps) {
    const log = join(dir, `${name}.log`)
    const missing = existsSync(log)
      ? [...readFileSync(log, 'utf8').matchAll(/^[\w-]+: NOT RUN\s+(.+)$/gm)].map((m) => `${name}: ${m[1].trim()}`)
      : []
    if (status !== 'ok') failed.push(name)
    else if (missing.length) notRun.push(...missing)
    else passed.push(name)
  }
  const parts = [`${passed.length} of ${steps.length} steps passed`]
  if (failed.length) parts.push(`FAILED: ${failed.join(', ')}`)
  if (notRun.length) parts.push(`NOT RUN (not counted as passed): ${notRun.join('; ')}`)
  return parts.join('; ')
}

if (import.meta.url === `file://${process.argv[1]}`) console.log(`== summary: ${summarize(process.argv[2])}`)
