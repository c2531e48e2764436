// Whether RELIABILITY.md still describes the code: the commit it was generated from, and the changes under src/ since.
import { execFileSync } from 'node:child_process'

const git = (repo, args) => execFileSync('git', ['-C', repo, ...args], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] }).trim()

/** The commit a RELIABILITY.md text says it was generated from (the `generated from commit <sha>` line report.mjs writes). */
export function generatedFrom(text) {
  const m = /generated from commit ([0-9a-f]{7,40})( \(with uncommitted changes in src\/\))?/i.exec(text)
  return m ? { commit: m[1], dirty: Boolean(m[2]) } : undefined
}

/**
 * Why the report in `text` is stale against the checkout at `repo`, or undefined when it is not: no commit line,
 * a run with uncommitted changes, a commit not in this history, or commits after it that change `src/`.
 */
export function staleness(repo, text) {
  const from = generatedFrom(text)
  if (!from) return 'it names no commit it was generated from (a "generated from commit <sha>" line)'
  if (from.dirty) return `it was generated from ${from.commit} with uncommitted changes in src/`
  let full
  try {
    full = git(repo, ['rev-parse', '--verify', '--quiet', `${from.commit}^{commit}`])
    git(repo, ['merge-base', '--is-ancestor', full, 'HEAD'])
  } catch {
    return `its commit ${from.commit} is not in this checkout's history (a shallow clone? git fetch --unshallow)`
  }
  const changes = git(repo, ['log', '--format=%h %cs %s', `${full}..HEAD`, '--', 'src'])
  if (!changes) return undefined
  const lines = changes.split('\n')
  return `src/ changed in ${lines.length} commit(s) since ${from.commit}, the commit it was generated from; regenerate it (node scripts/reliability/run.mjs --write):\n${lines.join('\n')}`
}
