// Removes a test's folder; in a run whose output is scanned for secrets (`npm test` sets KL_KEEP_DIR), the parts that
// can hold what the logger wrote (its spool) are moved into KL_KEEP_DIR first, where scripts/check-secrets.mjs reads them.
import { cpSync, existsSync, mkdirSync, renameSync, rmSync } from 'node:fs'
import { basename, join } from 'node:path'

/** Deletes `dir`, first keeping `keep` (paths inside it; '.' is the whole folder) when KL_KEEP_DIR is set. */
export function removeKeeping(dir, keep = ['.']) {
  const into = process.env.KL_KEEP_DIR
  if (into) {
    for (const rel of keep) {
      const from = join(dir, rel)
      if (!existsSync(from)) continue
      const to = join(into, 'folders', rel === '.' ? basename(dir) : `${basename(dir)}-${rel.replace(/[/\\]/g, '_')}`)
      mkdirSync(join(into, 'folders'), { recursive: true })
      try {
        renameSync(from, to)
      } catch {
        cpSync(from, to, { recursive: true }) // another filesystem
      }
    }
  }
  rmSync(dir, { recursive: true, force: true })
}
