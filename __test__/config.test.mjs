// Configuration through the JS API: exact errors for invalid settings, options over env, no secret echoed.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { writeFileSync, mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createRequire } from 'node:module'
import { SECRETS } from './helpers/secrets.mjs'
import * as I from '../scripts/n8n/n8n-instance.mjs'

const require = createRequire(import.meta.url)
const { KafkaExecutionLogger } = require('../index.js')
const { LoggerMetrics } = require('../dist/n8n/metrics.js')

const PREFIX = 'Invalid Kafka logger configuration: '
const env = (pairs) => Object.fromEntries(Object.entries(pairs).map(([k, v]) => [`N8N_KAFKA_LOGGER_${k}`, v]))

function configError(make) {
  try {
    make()
  } catch (error) {
    assert.equal(error.code, 'ERR_KAFKA_LOGGER_CONFIG', `wrong code for: ${error.message}`)
    assert.ok(error instanceof Error)
    assert.ok(error.message.startsWith(PREFIX), error.message)
    return error.message.slice(PREFIX.length)
  }
  assert.fail('expected ERR_KAFKA_LOGGER_CONFIG')
}

const fromEnv = (pairs) => configError(() => KafkaExecutionLogger.fromEnv(env(pairs)))
const fromOptions = (options) => configError(() => new KafkaExecutionLogger(options))

const unreadable = '/nonexistent/kafka/ca.pem'
const pem = '-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----'
const bool = (setting, got) => `${setting} must be true or false (any letter case), got "${got}"`

const REDACT_FORM = 'N8N_KAFKA_LOGGER_REDACT (option redact) must be a JSON array of regular expressions, such as ["sk-[A-Za-z0-9]+"]'

const cases = [
  [{ QUEUE_MAX_SIZE: 'lots' }, 'N8N_KAFKA_LOGGER_QUEUE_MAX_SIZE (option queueMaxSize) must be an integer from 1 to 1000000, got "lots"'],
  [{ QUEUE_MAX_SIZE: '0' }, 'N8N_KAFKA_LOGGER_QUEUE_MAX_SIZE (option queueMaxSize) must be an integer from 1 to 1000000, got "0"'],
  [{ QUEUE_MAX_SIZE: '-5' }, 'N8N_KAFKA_LOGGER_QUEUE_MAX_SIZE (option queueMaxSize) must be an integer from 1 to 1000000, got "-5"'],
  [{ QUEUE_BATCH_SIZE: '1.5' }, 'N8N_KAFKA_LOGGER_QUEUE_BATCH_SIZE (option queueBatchSize) must be an integer from 1 to QUEUE_MAX_SIZE, got "1.5"'],
  [{ QUEUE_MAX_SIZE: '10', QUEUE_BATCH_SIZE: '20' }, 'N8N_KAFKA_LOGGER_QUEUE_BATCH_SIZE (option queueBatchSize) must be an integer from 1 to QUEUE_MAX_SIZE: 20 is larger than N8N_KAFKA_LOGGER_QUEUE_MAX_SIZE (option queueMaxSize) = 10'],
  [{ QUEUE_FLUSH_INTERVAL: '5s' }, 'N8N_KAFKA_LOGGER_QUEUE_FLUSH_INTERVAL (option queueFlushInterval) must be milliseconds, an integer from 10 to 600000, got "5s"'],
  [{ CB_FAILURE_THRESHOLD: '0' }, 'N8N_KAFKA_LOGGER_CB_FAILURE_THRESHOLD (option cbFailureThreshold) must be an integer from 1 to 10000, got "0"'],
  [{ CB_RESET_TIMEOUT: '0' }, 'N8N_KAFKA_LOGGER_CB_RESET_TIMEOUT (option cbResetTimeout) must be milliseconds, an integer from 100 to 3600000, got "0"'],
  [{ CB_MONITORING_PERIOD: 'x' }, 'N8N_KAFKA_LOGGER_CB_MONITORING_PERIOD (option cbMonitoringPeriod) must be milliseconds, an integer from 100 to 3600000, got "x"'],
  [{ TIMEOUT_CONNECT: '1e4' }, 'N8N_KAFKA_LOGGER_TIMEOUT_CONNECT (option timeoutConnect) must be milliseconds, an integer from 1000 to 600000, got "1e4"'],
  [{ TIMEOUT_SEND: '-1' }, 'N8N_KAFKA_LOGGER_TIMEOUT_SEND (option timeoutSend) must be milliseconds, an integer from 100 to 600000, got "-1"'],
  [{ TIMEOUT_DISCONNECT: 'soon' }, 'N8N_KAFKA_LOGGER_TIMEOUT_DISCONNECT (option timeoutDisconnect) must be milliseconds, an integer from 0 to 600000, got "soon"'],
  [{ BROKERS: 'kafka' }, 'N8N_KAFKA_LOGGER_BROKERS (option brokers) must be a comma-separated list of host:port, got "kafka"'],
  [{ BROKERS: 'kafka:0' }, 'N8N_KAFKA_LOGGER_BROKERS (option brokers) must be a comma-separated list of host:port, got "kafka:0"'],
  [{ BROKERS: 'PLAINTEXT://kafka:9092' }, 'N8N_KAFKA_LOGGER_BROKERS (option brokers) must be a comma-separated list of host:port, got "PLAINTEXT://kafka:9092"'],
  [{ BROKERS: ' , ' }, 'N8N_KAFKA_LOGGER_BROKERS (option brokers) must be a comma-separated list of host:port, got ","'],
  [{ TOPIC: 'bad topic' }, 'N8N_KAFKA_LOGGER_TOPIC (option topic) must be a Kafka topic name (letters, digits, \'.\', \'_\', \'-\'; at most 249), got "bad topic"'],
  [{ TOPIC: '..' }, 'N8N_KAFKA_LOGGER_TOPIC (option topic) must be a Kafka topic name (letters, digits, \'.\', \'_\', \'-\'; at most 249), got ".."'],
  [{ AUTH_ENABLED: 'true', USERNAME: 'alice', PASSWORD: 'pw', SASL_MECHANISM: 'gssapi' }, 'N8N_KAFKA_LOGGER_SASL_MECHANISM (option saslMechanism) must be one of plain, scram-sha-256, scram-sha-512, got "gssapi"'],
  [{ AUTH_ENABLED: 'true' }, 'N8N_KAFKA_LOGGER_USERNAME (option username) is required when N8N_KAFKA_LOGGER_AUTH_ENABLED (option authEnabled) is true (a non-empty string)'],
  [{ AUTH_ENABLED: 'true', USERNAME: 'alice' }, 'N8N_KAFKA_LOGGER_PASSWORD (option password) is required when N8N_KAFKA_LOGGER_AUTH_ENABLED (option authEnabled) is true (a non-empty string)'],
  [{ SSL: 'true', SSL_CA: unreadable }, `N8N_KAFKA_LOGGER_SSL_CA (option sslCa) must be a file path or inline PEM: cannot read the file "${unreadable}": No such file or directory (os error 2)`],
  [{ SSL: 'true', SSL_CERT: pem }, 'N8N_KAFKA_LOGGER_SSL_KEY (option sslKey) is required when N8N_KAFKA_LOGGER_SSL_CERT (option sslCert) is set (mutual TLS needs both)'],
  [{ SSL_CA: pem }, 'N8N_KAFKA_LOGGER_SSL_CA (option sslCa) is set but N8N_KAFKA_LOGGER_SSL (option ssl) is not true: set N8N_KAFKA_LOGGER_SSL (option ssl)=true to use TLS'],
  [{ ENABLED: 'yes' }, bool('N8N_KAFKA_LOGGER_ENABLED (option enabled)', 'yes')],
  [{ SSL: '1' }, bool('N8N_KAFKA_LOGGER_SSL (option ssl)', '1')],
  [{ NODE_EVENTS: 'on' }, bool('N8N_KAFKA_LOGGER_NODE_EVENTS (option nodeEvents)', 'on')],
  [{ ACKS: '2' }, 'N8N_KAFKA_LOGGER_ACKS (option acks) must be one of all, 1, 0, got "2"'],
  [{ ACKS: '1' }, 'N8N_KAFKA_LOGGER_ACKS (option acks) must be all while N8N_KAFKA_LOGGER_IDEMPOTENT (option idempotent) is true (set N8N_KAFKA_LOGGER_IDEMPOTENT (option idempotent)=false to use acks=1)'],
  [{ COMPRESSION: 'brotli' }, 'N8N_KAFKA_LOGGER_COMPRESSION (option compression) must be one of none, gzip, snappy, lz4, zstd, got "brotli"'],
  [{ LINGER_MS: '6000' }, 'N8N_KAFKA_LOGGER_LINGER_MS (option lingerMs) must be smaller than N8N_KAFKA_LOGGER_TIMEOUT_SEND (option timeoutSend) (6000 >= 5000)'],
  [{ MAX_MESSAGE_BYTES: '10' }, 'N8N_KAFKA_LOGGER_MAX_MESSAGE_BYTES (option maxMessageBytes) must be an integer from 1000 to 100000000, got "10"'],
  [{ INSTANCE_TYPE: 'leader' }, 'N8N_KAFKA_LOGGER_INSTANCE_TYPE (option instanceType) must be one of main, worker, webhook, got "leader"'],
  [{ ERROR_DETAIL: 'none' }, 'N8N_KAFKA_LOGGER_ERROR_DETAIL (option errorDetail) must be one of full, message, type, got "none"'],
  [{ REDACT: 'sk-live-[0-9]+' }, `${REDACT_FORM}: not a JSON array of strings: expected value at line 1 column 1`],
  [{ REDACT: '["ok", ""]' }, `${REDACT_FORM}: entry 2 is empty`],
  [{ RDKAFKA_NO_SUCH_PROPERTY: '1' }, 'N8N_KAFKA_LOGGER_RDKAFKA_<PROPERTY> (option rdkafka): librdkafka rejected property "no.such.property": No such configuration property: "no.such.property"'],
]

for (const [pairs, expected] of cases) {
  test(`invalid config ${JSON.stringify(pairs)}`, () => {
    assert.equal(fromEnv(pairs), expected)
  })
}

test('options are validated with the same messages, naming the option', () => {
  assert.equal(fromOptions({ queueMaxSize: 0 }), cases[1][1])
  assert.equal(fromOptions({ queueMaxSize: 2.5 }), 'N8N_KAFKA_LOGGER_QUEUE_MAX_SIZE (option queueMaxSize) must be an integer from 1 to 1000000, got "2.5"')
  assert.equal(fromOptions({ topc: 'x' }), 'unknown option "topc": KafkaExecutionLogger.settings() lists the accepted names')
  assert.equal(fromOptions({ topic: { name: 'x' } }), "N8N_KAFKA_LOGGER_TOPIC (option topic) must be a Kafka topic name (letters, digits, '.', '_', '-'; at most 249)")
  assert.equal(fromOptions({ rdkafka: { 'linger.ms': [] } }), 'option rdkafka.linger.ms must be a string, number or boolean')
  assert.equal(fromOptions('brokers=x'), 'options must be an object')
})

test('ERROR_DETAIL and REDACT: from the environment or options (REDACT also as an array), a bad pattern named by its entry', () => {
  const config = (pairs, options) => KafkaExecutionLogger.fromEnv(env(pairs), options).getHealthMetrics().config
  assert.deepEqual([config({}).errorDetail, config({}).redactPatterns], ['full', 0])
  assert.equal(config({ ERROR_DETAIL: 'Message' }).errorDetail, 'message')
  assert.equal(config({ ERROR_DETAIL: 'full' }, { errorDetail: 'type' }).errorDetail, 'type')
  assert.equal(config({ REDACT: String.raw`["a,b", "\\d{16}"]` }).redactPatterns, 2)
  const shown = JSON.stringify(config({}, { redact: ['sk-live-[0-9]+', 'x'] }))
  assert.ok(shown.includes('"redactPatterns":2') && !shown.includes('sk-live'), shown)
  assert.equal(config({}, { redact: '["one"]' }).redactPatterns, 1)
  const bad = fromOptions({ redact: ['fine', '(unclosed'] })
  assert.ok(bad.startsWith(`${REDACT_FORM}: entry 2 is not a valid regular expression: regex parse error:`), bad)
  assert.match(bad, /unclosed group/)
  assert.match(fromEnv({ REDACT: '["a{1000}{1000}"]' }), /^N8N_KAFKA_LOGGER_REDACT .*entry 1 is not a valid regular expression: .*size limit/s)
  assert.equal(fromOptions({ redact: ['ok', 5] }), REDACT_FORM)
  assert.equal(fromOptions({ errorDetail: 'stack' }), 'N8N_KAFKA_LOGGER_ERROR_DETAIL (option errorDetail) must be one of full, message, type, got "stack"')
})

test('booleans are true or false in any letter case, from the environment and from options', () => {
  const config = (pairs, options) => KafkaExecutionLogger.fromEnv(env(pairs), options).getHealthMetrics().config
  const upper = config({ ENABLED: 'TRUE', SSL: 'True', NODE_EVENTS: ' TRUE ', IDEMPOTENT: 'FALSE', ACKS: '1', VALIDATE_ON_STARTUP: 'False' })
  assert.equal(upper.securityProtocol, 'ssl')
  assert.equal(upper.nodeEvents, true)
  assert.equal(upper.idempotent, false)
  assert.equal(upper.validateOnStartup, false)
  assert.equal(config({}, { nodeEvents: 'TRUE' }).nodeEvents, true)
  assert.equal(fromOptions({ nodeEvents: 1 }), bool('N8N_KAFKA_LOGGER_NODE_EVENTS (option nodeEvents)', '1'))
})

test('options override the environment, which is read from process.env by default', () => {
  process.env.N8N_KAFKA_LOGGER_TOPIC = 'from-env'
  try {
    assert.equal(new KafkaExecutionLogger().getHealthMetrics().config.topic, 'from-env')
    assert.equal(new KafkaExecutionLogger({ topic: 'from-option' }).getHealthMetrics().config.topic, 'from-option')
    assert.deepEqual(new KafkaExecutionLogger({ brokers: ['a:1', 'b:2'] }).getHealthMetrics().config.brokers, ['a:1', 'b:2'])
  } finally {
    delete process.env.N8N_KAFKA_LOGGER_TOPIC
  }
})

test('isConfigured needs ENABLED=true (any letter case); without BROKERS it logs to localhost:9092 as the fork did', () => {
  assert.equal(KafkaExecutionLogger.isConfigured(env({ ENABLED: 'true', BROKERS: 'k:9092' })), true)
  assert.equal(KafkaExecutionLogger.isConfigured(env({ ENABLED: 'TRUE', BROKERS: 'k:9092' })), true)
  assert.equal(KafkaExecutionLogger.isConfigured(env({ ENABLED: 'true' })), true)
  assert.equal(KafkaExecutionLogger.isConfigured(env({ BROKERS: 'k:9092' })), false)
  assert.equal(KafkaExecutionLogger.isConfigured(env({ ENABLED: '1', BROKERS: 'k:9092' })), false)
  assert.equal(KafkaExecutionLogger.isConfigured({}), false)
})

/** Writes `files` ({ name: text }) into a fresh directory and returns their paths by name. */
function tempFiles(files) {
  const dir = mkdtempSync(join(tmpdir(), 'kel-'))
  const paths = {}
  for (const [name, text] of Object.entries(files)) {
    paths[name] = join(dir, name)
    writeFileSync(paths[name], text)
  }
  return paths
}

const KEY_BODY = 'MIIEvQ-not-a-real-key-body'
const key = `-----BEGIN PRIVATE KEY-----\n${KEY_BODY}\n-----END PRIVATE KEY-----\n`

test('a TLS file without the expected PEM block is named with its path at construction, its contents never shown', () => {
  const files = tempFiles({ 'empty.pem': '', 'garbage.pem': 'hello\n', 'client.crt': `${pem}\n`, 'client.key': key })
  const expected = (setting, path, what, label) =>
    `${setting} must be a file path or inline PEM: the file "${path}" holds no PEM ${what} (expected a -----BEGIN ${label}----- block)`
  for (const ca of [files['empty.pem'], files['garbage.pem']]) {
    assert.equal(fromEnv({ SSL: 'true', SSL_CA: ca }), expected('N8N_KAFKA_LOGGER_SSL_CA (option sslCa)', ca, 'certificate', 'CERTIFICATE'))
    assert.equal(fromOptions({ ssl: true, sslCa: ca }), expected('N8N_KAFKA_LOGGER_SSL_CA (option sslCa)', ca, 'certificate', 'CERTIFICATE'))
  }
  const swapped = fromEnv({ SSL: 'true', SSL_CERT: files['client.key'], SSL_KEY: files['client.crt'] })
  assert.equal(swapped, expected('N8N_KAFKA_LOGGER_SSL_CERT (option sslCert)', files['client.key'], 'certificate', 'CERTIFICATE'))
  assert.equal(
    fromEnv({ SSL: 'true', SSL_CERT: files['client.crt'], SSL_KEY: files['garbage.pem'] }),
    expected('N8N_KAFKA_LOGGER_SSL_KEY (option sslKey)', files['garbage.pem'], 'private key', 'PRIVATE KEY'),
  )
  const truncated = fromOptions({ ssl: true, sslCert: files['client.crt'], sslKey: key.replace(/-----END.*\n/, '') })
  assert.equal(truncated, 'N8N_KAFKA_LOGGER_SSL_KEY (option sslKey) must be a file path or inline PEM: the inline value holds no PEM private key (expected a -----BEGIN PRIVATE KEY----- block)')
  assert.ok(!swapped.includes(KEY_BODY) && !truncated.includes(KEY_BODY))
  const good = KafkaExecutionLogger.fromEnv(env({ SSL: 'true', SSL_CA: files['client.crt'], SSL_CERT: files['client.crt'], SSL_KEY: files['client.key'] }))
  assert.equal(good.getHealthMetrics().config.sslCa, files['client.crt'])
})

test('a CA file with a damaged PEM block fails initialize() naming SSL_CA, not the librdkafka property', async () => {
  const { 'damaged.pem': damaged } = tempFiles({ 'damaged.pem': '-----BEGIN CERTIFICATE-----\nnot base64 !\n-----END CERTIFICATE-----\n' })
  const logger = new KafkaExecutionLogger({ brokers: '127.0.0.1:1', ssl: true, sslCa: damaged, spoolDir: 'off', logger: {} })
  await assert.rejects(logger.initialize(), (error) => {
    assert.equal(error.code, 'ERR_KAFKA_LOGGER_CONFIG')
    assert.ok(error.message.startsWith(`${PREFIX}N8N_KAFKA_LOGGER_SSL_CA (option sslCa) must be a file path or inline PEM: librdkafka could not load it: ssl.ca.location failed: `), error.message)
    return true
  })
  // The background thread never started: the logger takes no events, and flush/shutdown still answer.
  assert.equal(logger.logWorkflowStarted({ executionId: 'e', workflowId: 'w' }), false)
  assert.deepEqual(await logger.flush(1000), { delivered: 0, pending: 0 })
  assert.deepEqual(await logger.shutdown(1000), { delivered: 0, pending: 0, dropped: 0, spooled: 0 })
  assert.deepEqual(await logger.shutdown(1000), { delivered: 0, pending: 0, dropped: 0, spooled: 0 }, 'idempotent')
})

test('secrets never appear in errors or the health snapshot', () => {
  const secret = SECRETS.CONFIG_SECRET
  const files = tempFiles({ 'client.crt': `${pem}\n`, 'client.key': key })
  const logger = KafkaExecutionLogger.fromEnv(
    env({ AUTH_ENABLED: 'true', USERNAME: 'alice', PASSWORD: secret, SSL: 'true', SSL_CERT: files['client.crt'], SSL_KEY: files['client.key'], SSL_KEY_PASSWORD: secret, HEALTH_TOKEN: secret, RDKAFKA_SSL_KEYSTORE_PASSWORD: secret }),
  )
  const shown = JSON.stringify(logger.getHealthMetrics())
  assert.ok(!shown.includes(secret), shown)
  assert.match(shown, /"password":"\[redacted\]"/)
  const message = fromEnv({ AUTH_ENABLED: 'true', USERNAME: 'alice', PASSWORD: secret, QUEUE_MAX_SIZE: 'x' })
  assert.ok(!message.includes(secret))
})

test('librdkafka passthrough values are shown only for harmless properties: never in health, metrics, logs or errors', async () => {
  const values = [SECRETS.OAUTHBEARER_CONFIG, SECRETS.OAUTHBEARER_EXTENSIONS, SECRETS.KINIT_CMD, SECRETS.UNLISTED_PROPERTY]
  const lines = []
  const sink = Object.fromEntries(['error', 'warn', 'info'].map((level) => [level, (m) => lines.push(`${level}: ${m}`)]))
  // client.software.name stands for any property the list does not know: shown as [set], like the credentials.
  const logger = KafkaExecutionLogger.fromEnv(
    env({ BROKERS: '127.0.0.1:1', SPOOL_DIR: 'off', RDKAFKA_SASL_OAUTHBEARER_CONFIG: values[0], RDKAFKA_SASL_KERBEROS_KINIT_CMD: values[2], RDKAFKA_CLIENT_SOFTWARE_NAME: values[3], RDKAFKA_LINGER_MS: '7' }),
    { logger: sink },
  )
  await logger.initialize()
  const health = logger.getHealthMetrics()
  assert.deepEqual(health.config.rdkafka, { 'client.software.name': '[set]', 'linger.ms': '7', 'sasl.kerberos.kinit.cmd': '[set]', 'sasl.oauthbearer.config': '[set]' })
  // The metrics n8n serves, rendered by n8n's own prom-client from this snapshot.
  const n8n = I.paths(I.PINNED()).dir
  const prom = createRequire(join(n8n, 'package.json'))('prom-client')
  prom.register.clear()
  const metrics = new LoggerMetrics(prom, () => logger.getHealthMetrics())
  metrics.register()
  const text = await prom.register.metrics()
  assert.match(text, /n8n_kafka_logger_queue_capacity 10000/)
  await logger.shutdown(100)
  // The build has no OIDC (no curl): librdkafka refuses sasl.oauthbearer.extensions, and its error names no value.
  const refused = configError(() => KafkaExecutionLogger.fromEnv(env({ RDKAFKA_SASL_OAUTHBEARER_EXTENSIONS: values[1] })))
  assert.match(refused, /librdkafka rejected property "sasl.oauthbearer.extensions"/)
  const shown = [JSON.stringify(health), JSON.stringify(logger.getHealthMetrics()), text, refused, ...lines].join('\n')
  for (const value of values) assert.ok(!shown.includes(value), `a passthrough value is shown: ${shown}`)
})

test('a misspelt N8N_KAFKA_LOGGER_* variable is warned about once at construction, naming the closest setting, never its value', async () => {
  const lines = []
  const sink = Object.fromEntries(['error', 'warn', 'info'].map((level) => [level, (m) => lines.push(`${level}: ${m}`)]))
  const logger = KafkaExecutionLogger.fromEnv({ ...env({ BROKRS: SECRETS.MISSPELT_VALUE, SPOOL_DIR: 'off', RDKAFKA_LINGER_MS: '7' }), N8N_KAFKA_LOGGER_: 'x' }, { logger: sink })
  // The caller's logger is called on the JS thread, after this turn.
  await new Promise((resolve) => setTimeout(resolve, 100))
  assert.deepEqual(lines, [
    'warn: [kafka-logger] N8N_KAFKA_LOGGER_ is not a setting of the logger and is ignored: KafkaExecutionLogger.settings() lists the accepted names',
    'warn: [kafka-logger] N8N_KAFKA_LOGGER_BROKRS is not a setting of the logger and is ignored: did you mean N8N_KAFKA_LOGGER_BROKERS?',
  ])
  assert.deepEqual(logger.getHealthMetrics().config.brokers, ['localhost:9092'], 'the misspelt variable is not read')
  await logger.shutdown(100)
  assert.equal(lines.length, 2, 'once: not again at shutdown')
  assert.ok(!lines.join('\n').includes(SECRETS.MISSPELT_VALUE))
  // Options are an object the logger reads whole: an unknown name there is an error, as before.
  assert.equal(fromOptions({ brokrs: 'k:9092' }), 'unknown option "brokrs": KafkaExecutionLogger.settings() lists the accepted names')
})

test('settings() documents every env var once', () => {
  const settings = KafkaExecutionLogger.settings()
  assert.ok(settings.length >= 30)
  assert.equal(new Set(settings.map((s) => s.env)).size, settings.length)
  const password = settings.find((s) => s.option === 'password')
  assert.equal(password.env, 'N8N_KAFKA_LOGGER_PASSWORD')
  assert.equal(password.secret, true)
  assert.deepEqual(settings.find((s) => s.option === 'queueMaxSize').default, '10000')
})
