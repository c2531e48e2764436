// A fresh spool directory per logger, so no test replays another test's spooled events.
import { mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'

export const spoolDir = () => mkdtempSync(join(tmpdir(), 'kel-spool-'))
