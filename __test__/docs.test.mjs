// The README's configuration reference is the one generated from the code's settings table.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { readFileSync } from 'node:fs'
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
