// The README's configuration reference is the one generated from the code's settings table; ARCHITECTURE.md's
// tree names every entry of src/ and nothing else.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { readFileSync, readdirSync } from 'node:fs'
import { table, section } from '../scripts/docs/config-reference.mjs'

test('README configuration table matches KafkaExecutionLogger.settings()', () => {
  const readme = readFileSync(new URL('../README.md', import.meta.url), 'utf8')
  assert.equal(section(readme), table(), 'run `node scripts/docs/config-reference.mjs --write`')
})

test('index.d.ts declares an option for every setting', () => {
  const dts = readFileSync(new URL('../index.d.ts', import.meta.url), 'utf8')
  const options = dts.slice(dts.indexOf('interface KafkaLoggerOptions'), dts.indexOf('interface ExecutionErrorInput'))
  const names = [...table().matchAll(/^\| `N8N_KAFKA_LOGGER_[A-Z0-9_]+` \| `(\w+)`/gm)].map((m) => m[1])
  assert.ok(names.length >= 30)
  for (const option of names) assert.match(options, new RegExp(`\\n  ${option}\\?:`), `KafkaLoggerOptions lacks ${option}`)
})

/** The `src/...` entries of the first column of ARCHITECTURE.md's "The tree" table. */
export function architectureEntries(text) {
  const start = text.indexOf('## The tree')
  const tree = text.slice(start, text.indexOf('\n## ', start + 1))
  return [...tree.matchAll(/^\| `(src\/[^`]+)` \|/gm)].map((m) => m[1]).sort()
}

/** What ARCHITECTURE.md must name: every folder (`src/x/`) and top-level file (`src/x.rs`) of src/. */
export function srcEntries(dir = new URL('../src/', import.meta.url)) {
  return readdirSync(dir, { withFileTypes: true })
    .map((e) => (e.isDirectory() ? `src/${e.name}/` : `src/${e.name}`))
    .sort()
}

test("ARCHITECTURE.md's tree names every folder and file of src/, and nothing that is gone", () => {
  const doc = architectureEntries(readFileSync(new URL('../ARCHITECTURE.md', import.meta.url), 'utf8'))
  const src = srcEntries()
  assert.ok(src.length >= 10, `src/ entries: ${src}`)
  assert.deepEqual(
    { missing: src.filter((e) => !doc.includes(e)), gone: doc.filter((e) => !src.includes(e)) },
    { missing: [], gone: [] },
    'update "The tree" in ARCHITECTURE.md',
  )
})

test('the tree check fails when a folder is added or removed', () => {
  const text = readFileSync(new URL('../ARCHITECTURE.md', import.meta.url), 'utf8')
  const doc = architectureEntries(text)
  assert.deepEqual(doc, srcEntries())
  const withoutOne = architectureEntries(text.replace('| `src/intake/` |', '| intake |'))
  assert.ok(!withoutOne.includes('src/intake/'), 'a folder the tree no longer names is missing')
  const withExtra = architectureEntries(text.replace('| `src/time.rs` |', '| `src/time.rs` |\n| `src/gone/` | x |'))
  assert.ok(withExtra.includes('src/gone/') && !srcEntries().includes('src/gone/'), 'a folder that is gone is reported')
})
