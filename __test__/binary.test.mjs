// The built addon is self-contained: librdkafka, OpenSSL, zlib, zstd and lz4 are linked in, so it runs on a
// machine without librdkafka or libssl installed. Checked with ldd, with the binary's own version strings, and
// by loading it (and starting a TLS client) in a child node with a stripped environment, watching which shared
// objects the load maps. Fails, never skips, when the binary for this machine has not been built.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { execFileSync, spawnSync } from 'node:child_process'
import { existsSync, readFileSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'

const ROOT = fileURLToPath(new URL('..', import.meta.url))
const isMusl = () => process.platform === 'linux' && !process.report?.getReport()?.header?.glibcVersionRuntime
const ABI = { linux: isMusl() ? '-musl' : '-gnu', win32: '-msvc' }[process.platform] ?? ''
const SUFFIX = `${process.platform}-${process.arch}${ABI}`
const BINARY = join(ROOT, `kafka-execution-logger.${SUFFIX}.node`)
const linux = process.platform === 'linux'

// Shared objects a self-contained Linux addon may need: the C library family, the loader and the vDSO.
const ALLOWED = /^(linux-vdso|linux-gate|ld-linux[\w.-]*|ld-musl[\w.-]*|libc|libc\.musl-\w+|libm|libdl|libpthread|librt|libresolv|libutil|libgcc_s)\.so(\.\d+)*$/
// What must be inside the binary instead of beside it.
const FORBIDDEN = /^(libssl|libcrypto|librdkafka|libsasl2?|libzstd|libz|liblz4|libsnappy|libcurl|libkrb5|libgssapi\w*)\.so/

function requireBinary() {
  assert.ok(
    existsSync(BINARY),
    `${BINARY} is missing: build it with \`npx napi build --platform --release\` (scripts/build.sh) before the tests`,
  )
}

/** Shared objects ldd reports: [{ name, path }]; a "not found" one has path 'not found'. */
function lddLibraries(file) {
  const out = execFileSync('ldd', [file], { encoding: 'utf8' })
  assert.doesNotMatch(out, /not a dynamic executable/, 'the addon must be a shared object')
  return out
    .split('\n')
    .map((line) => line.trim())
    .filter(Boolean)
    .map((line) => {
      const [left, right = ''] = line.split(' => ')
      return { name: left.replace(/\s*\(0x[0-9a-f]+\)$/, '').split('/').pop(), path: right.replace(/\s*\(0x[0-9a-f]+\)$/, '') || left }
    })
}

test('the addon binary for this platform has been built', () => {
  requireBinary()
})

test('ldd: only the C library family is linked dynamically', { skip: !linux && 'ldd is Linux only' }, () => {
  requireBinary()
  const libraries = lddLibraries(BINARY)
  assert.ok(libraries.some((l) => /^libc\.so|^ld-musl/.test(l.name)), `ldd found no C library: ${JSON.stringify(libraries)}`)
  const missing = libraries.filter((l) => l.path === 'not found')
  assert.deepEqual(missing, [], 'a dependency cannot be found')
  const forbidden = libraries.filter((l) => FORBIDDEN.test(l.name))
  assert.deepEqual(forbidden, [], 'librdkafka, OpenSSL and the codecs must be linked statically')
  const unexpected = libraries.filter((l) => !ALLOWED.test(l.name))
  assert.deepEqual(unexpected, [], 'only libc-family libraries may be dynamic')
})

test('OpenSSL and librdkafka are inside the binary', () => {
  requireBinary()
  const bytes = readFileSync(BINARY)
  assert.ok(bytes.includes('OpenSSL 3.'), 'OpenSSL version text is in the binary (vendored, statically linked)')
  assert.ok(bytes.includes('librdkafka'), 'librdkafka is in the binary')
})

// Runs in the child: loads the addon, starts a TLS client (so OpenSSL and librdkafka initialise), and prints
// the shared objects that appeared in the process while doing so.
const CHILD = String.raw`
const fs = require('node:fs')
const os = require('node:os')
const path = require('node:path')
const mapped = () => new Set(fs.readFileSync('/proc/self/maps', 'utf8').split('\n').map((l) => l.split(/\s+/)[5]).filter((p) => p && p.startsWith('/')))
const before = mapped()
const direct = require(process.env.ADDON_BINARY)
const { KafkaExecutionLogger } = require('./index.js')
if (typeof direct.KafkaExecutionLogger !== 'function' || typeof KafkaExecutionLogger !== 'function') throw new Error('no KafkaExecutionLogger export')
const spoolDir = fs.mkdtempSync(path.join(os.tmpdir(), 'kel-binary-'))
const logger = new KafkaExecutionLogger({ brokers: '127.0.0.1:1', ssl: true, topic: 'binary-test', spoolDir, logger: {} })
logger.initialize().then(async () => {
  logger.logWorkflowStarted({ executionId: 'x', workflowId: 'w' })
  await new Promise((r) => setTimeout(r, 300))
  const health = logger.getHealthMetrics()
  await logger.shutdown(200)
  fs.rmSync(spoolDir, { recursive: true, force: true })
  const added = [...mapped()].filter((p) => !before.has(p))
  console.log(JSON.stringify({ added, status: health.status, settings: KafkaExecutionLogger.settings().length }))
}).catch((e) => { console.error(e); process.exit(1) })
`

test('loads and starts a TLS client in a stripped environment (no LD_LIBRARY_PATH, no system librdkafka/libssl)', { skip: !linux && '/proc/self/maps is Linux only' }, () => {
  requireBinary()
  const env = { PATH: `${dirname(process.execPath)}:/usr/bin:/bin`, ADDON_BINARY: BINARY, HOME: ROOT }
  const child = spawnSync(process.execPath, ['-e', CHILD], { cwd: ROOT, env, encoding: 'utf8', timeout: 30_000 })
  assert.equal(child.status, 0, `the child failed (${child.signal ?? child.status}):\n${child.stdout}\n${child.stderr}`)
  const report = JSON.parse(child.stdout.trim().split('\n').pop())
  assert.ok(report.settings > 10, 'the settings table came through')
  assert.ok(['healthy', 'degraded', 'unhealthy'].includes(report.status), `status ${report.status}`)
  const libraries = report.added.filter((p) => !p.endsWith('.node')).map((p) => p.split('/').pop())
  assert.ok(report.added.some((p) => p === BINARY), `the addon itself was mapped: ${report.added.join(', ')}`)
  assert.deepEqual(libraries.filter((l) => FORBIDDEN.test(l)), [], 'loading the addon mapped an external librdkafka, OpenSSL or codec')
  assert.deepEqual(libraries.filter((l) => !ALLOWED.test(l)), [], 'loading the addon mapped a shared object beyond the C library family')
})
