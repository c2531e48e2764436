// RELIABILITY.md must describe the code: the run fails once src/ changed after the commit it was generated from.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { execFileSync } from 'node:child_process'
import { mkdtempSync, mkdirSync, readFileSync, writeFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { staleness } from '../scripts/reliability/freshness.mjs'

const REPO = fileURLToPath(new URL('..', import.meta.url))

test('RELIABILITY.md was generated from a commit with no change under src/ since', () => {
  const reason = staleness(REPO, readFileSync(join(REPO, 'RELIABILITY.md'), 'utf8'))
  assert.equal(reason, undefined, `RELIABILITY.md is stale: ${reason}`)
})

test('the freshness check fails on a stale, dirty or unnamed report (a repository of its own)', () => {
  const repo = mkdtempSync(join(tmpdir(), 'kl-freshness-'))
  try {
    const git = (...args) => execFileSync('git', ['-C', repo, '-c', 'user.name=t', '-c', 'user.email=t@t', ...args], { encoding: 'utf8' }).trim()
    git('init', '-q')
    mkdirSync(join(repo, 'src'))
    const commit = (file, text) => {
      writeFileSync(join(repo, file), text)
      git('add', file)
      git('commit', '-q', '-m', file)
      return git('rev-parse', 'HEAD')
    }
    const generated = commit('src/lib.rs', 'fn a() {}\n')
    const report = (sha) => `# Reliability\n\n<!-- generated from commit ${sha} -->\n`
    assert.equal(staleness(repo, report(generated)), undefined, 'fresh')
    assert.equal(staleness(repo, report(generated.slice(0, 7))), undefined, 'a short hash')
    commit('README.md', 'docs only\n')
    assert.equal(staleness(repo, report(generated)), undefined, 'changes outside src/ do not matter')
    const later = commit('src/lib.rs', 'fn b() {}\n')
    assert.match(staleness(repo, report(generated)), /src\/ changed in 1 commit\(s\) since [0-9a-f]{40}.*\n[0-9a-f]+ \S+ src\/lib\.rs/)
    assert.equal(staleness(repo, report(later)), undefined)
    assert.match(staleness(repo, `${report(later).trimEnd().replace(' -->', ' (with uncommitted changes in src/) -->')}\n`), /uncommitted changes/)
    assert.match(staleness(repo, '# Reliability\n'), /names no commit/)
    assert.match(staleness(repo, report('0123456789abcdef0123456789abcdef01234567')), /not in this checkout's history/)
  } finally {
    rmSync(repo, { recursive: true, force: true })
  }
})
