#!/usr/bin/env node
// Command-line tools: `inspect` (execution history from the topic), `replay` (dead letters back to Kafka),
// `spool status`. Connection settings come from N8N_KAFKA_LOGGER_* like the logger's, flags override.
'use strict'

const { parseArgs } = require('node:util')
const { createReadStream, existsSync, statSync } = require('node:fs')
const { join } = require('node:path')
const { createInterface } = require('node:readline')
const native = require('../index.js')

const USAGE = `Usage:
  n8n-kafka-execution-logger inspect [--brokers H:P] [--topic T] [--since 1h|ISO] [--until ISO] [--workflow ID]
                                     [--max-records N] [--page-size N] [--timeout MS] [--json]
  n8n-kafka-execution-logger replay (--from-topic DLQ | --from-file PATH) [--to-topic T] [--event NAME]
                                    [--workflow ID] [--since 1h|ISO] [--until ISO] [--max-records N]
                                    [--page-size N] [--timeout MS] [--dry-run] [--json]
  n8n-kafka-execution-logger spool status [--dir SPOOL_DIR] [--json]

Topics are read page by page (--page-size records at a time, default 1000) and stop at --max-records (default
100000) or --timeout (default 30000 ms, in all); a read that stops before the end of the topic prints
"partial: <why>". Security (SSL, SASL) and the default topic come from the N8N_KAFKA_LOGGER_* environment, as
for the logger.`

const OPTIONS = {
  brokers: { type: 'string' },
  topic: { type: 'string' },
  since: { type: 'string' },
  until: { type: 'string' },
  workflow: { type: 'string' },
  event: { type: 'string' },
  'from-topic': { type: 'string' },
  'from-file': { type: 'string' },
  'to-topic': { type: 'string' },
  dir: { type: 'string' },
  timeout: { type: 'string', default: '30000' },
  'max-records': { type: 'string', default: '100000' },
  'page-size': { type: 'string', default: '1000' },
  'dry-run': { type: 'boolean', default: false },
  json: { type: 'boolean', default: false },
  help: { type: 'boolean', short: 'h', default: false },
}

class UsageError extends Error {}

/** "90s", "15m", "1h", "7d" before now, or an ISO-8601 time. */
function parseTime(text, flag) {
  if (text === undefined) return undefined
  const relative = /^(\d+)\s*(s|m|h|d)$/.exec(text.trim())
  if (relative) return Date.now() - Number(relative[1]) * { s: 1e3, m: 60e3, h: 3600e3, d: 86400e3 }[relative[2]]
  const ms = Date.parse(text)
  if (Number.isNaN(ms)) throw new UsageError(`--${flag} must be a duration like 1h, 30m, 2d or an ISO-8601 time, got ${JSON.stringify(text)}`)
  return ms
}

/** Characters a terminal may act on (C0 and C1 controls, DEL, bidirectional overrides) as visible escapes. */
function printable(value) {
  return String(value).replace(/[\u0000-\u001f\u007f-\u009f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069]/g, (c) => {
    const code = c.charCodeAt(0)
    return code < 0x100 ? `\\x${code.toString(16).padStart(2, '0')}` : `\\u${code.toString(16).padStart(4, '0')}`
  })
}

function positive(text, flag) {
  const n = Number(text)
  if (!Number.isInteger(n) || n < 1) throw new UsageError(`--${flag} must be a positive whole number, got ${JSON.stringify(text)}`)
  return n
}

/**
 * Reads a topic page by page (at most --page-size records held at once), up to --max-records and --timeout in
 * all. Yields each page's records; `state.partial` ends up null, or why the read stopped before the topic's end
 * (also said on stderr).
 */
async function* topicPages(flags, query, state) {
  const max = positive(flags['max-records'], 'max-records')
  const page = Math.min(positive(flags['page-size'], 'page-size'), max)
  const deadline = Date.now() + positive(flags.timeout, 'timeout')
  let total = 0
  let resume
  state.partial = null
  for (;;) {
    const timeoutMs = Math.max(1, deadline - Date.now())
    const read = await native.readTopic(connection(flags), { ...query, maxMessages: Math.min(page, max - total), timeoutMs, resume })
    total += read.records.length
    yield read.records
    if (!read.partial) return
    if (total >= max) state.partial = `stopped at the limit of ${max} records (--max-records) before the end of ${query.topic}`
    else if (!read.resume || !read.records.length || Date.now() >= deadline) state.partial = read.partial
    if (state.partial) {
      console.error(`partial: ${printable(state.partial)}; the results cover only the ${total} records read`)
      return
    }
    resume = read.resume
  }
}

function connection(flags) {
  return flags.brokers ? { brokers: flags.brokers } : undefined
}

function defaultTopic() {
  return native.KafkaExecutionLogger.fromEnv(process.env).getHealthMetrics().config.topic
}

function parseJson(text) {
  try {
    return JSON.parse(text)
  } catch {
    return undefined
  }
}

const quantile = (sorted, q) => (sorted.length ? sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] : null)

function top(counts, n = 5) {
  return [...counts.entries()].sort((a, b) => b[1] - a[1]).slice(0, n).map(([name, count]) => ({ name, count }))
}

/** Per workflow: executions, failures, failure rate, p50/p95 duration, top failing nodes and error types, last failure. */
function summarize(events) {
  const byWorkflow = new Map()
  for (const e of events) {
    if (!['Workflow Completed', 'Workflow Failed', 'Workflow Cancelled'].includes(e.event)) continue
    const id = e.properties?.workflow_id ?? '(unknown)'
    if (!byWorkflow.has(id)) byWorkflow.set(id, { workflowId: id, workflowName: e.properties?.workflow_name, ends: [], nodes: new Map(), errors: new Map(), lastFailure: null })
    const w = byWorkflow.get(id)
    w.workflowName ??= e.properties?.workflow_name
    w.ends.push(e)
    if (e.event === 'Workflow Failed') {
      const node = e.properties?.error_node_name ?? '(unknown node)'
      const type = e.dimensions?.error_type ?? 'Error'
      w.nodes.set(node, (w.nodes.get(node) ?? 0) + 1)
      w.errors.set(type, (w.errors.get(type) ?? 0) + 1)
      if (!w.lastFailure || e.timestamp > w.lastFailure.at) {
        w.lastFailure = { at: e.timestamp, executionId: e.properties?.execution_id, node, errorType: type, message: e.properties?.error_message }
      }
    }
  }
  return [...byWorkflow.values()]
    .map((w) => {
      const durations = w.ends.map((e) => e.metrics?.duration_ms).filter((d) => typeof d === 'number').sort((a, b) => a - b)
      const failures = w.ends.filter((e) => e.event === 'Workflow Failed').length
      return {
        workflowId: w.workflowId,
        workflowName: w.workflowName ?? null,
        executions: w.ends.length,
        failures,
        failureRate: w.ends.length ? failures / w.ends.length : 0,
        durationMs: { p50: quantile(durations, 0.5), p95: quantile(durations, 0.95) },
        topFailingNodes: top(w.nodes),
        topErrorTypes: top(w.errors),
        lastFailure: w.lastFailure,
      }
    })
    .sort((a, b) => b.executions - a.executions)
}

async function inspect(flags) {
  const topic = flags.topic ?? defaultTopic()
  const state = {}
  const seen = new Set()
  const events = []
  let records = 0
  for await (const page of topicPages(flags, { topic, sinceMs: parseTime(flags.since, 'since'), untilMs: parseTime(flags.until, 'until') }, state)) {
    records += page.length
    for (const r of page) {
      const e = parseJson(r.value)
      if (!e || seen.has(e.messageId)) continue // a resend carries the same messageId
      seen.add(e.messageId)
      if (flags.workflow && e.properties?.workflow_id !== flags.workflow) continue
      events.push(e)
    }
  }
  const { partial } = state
  const workflows = summarize(events)
  if (flags.json) return console.log(JSON.stringify({ topic, partial, records, events: events.length, workflows }, null, 2))
  // Workflow text (names, node names, error messages) is the user's: escaped before it reaches a terminal.
  const p = printable
  console.log(`${p(topic)}: ${events.length} events, ${workflows.length} workflows${partial ? ' (partial read)' : ''}`)
  for (const w of workflows) {
    const pct = (w.failureRate * 100).toFixed(1)
    console.log(`\n${p(w.workflowName ?? w.workflowId)} (${p(w.workflowId)})`)
    console.log(`  executions ${w.executions}, failures ${w.failures} (${pct}%), duration p50 ${w.durationMs.p50 ?? '-'} ms, p95 ${w.durationMs.p95 ?? '-'} ms`)
    if (w.topFailingNodes.length) console.log(`  failing nodes: ${w.topFailingNodes.map((n) => `${p(n.name)} x${n.count}`).join(', ')}`)
    if (w.topErrorTypes.length) console.log(`  error types:   ${w.topErrorTypes.map((n) => `${p(n.name)} x${n.count}`).join(', ')}`)
    if (w.lastFailure) console.log(`  last failure:  ${p(w.lastFailure.at)} execution ${p(w.lastFailure.executionId)} at "${p(w.lastFailure.node)}": ${p(w.lastFailure.message ?? '')}`)
  }
}

/** The dead-letter files --from-file names: the file itself, or every slot's `dead-letters.jsonl` under a directory. */
function deadLetterFiles(path) {
  if (!existsSync(path)) throw new UsageError(`--from-file ${path} does not exist`)
  if (!statSync(path).isDirectory()) return [path]
  return native.spoolStatus(path).map((s) => join(s.dir, 'dead-letters.jsonl')).filter((f) => existsSync(f))
}

/** The lines of a dead-letter file, one at a time (never the whole file); lines that do not parse are skipped. */
async function* fileLetters(file) {
  const lines = createInterface({ input: createReadStream(file), crlfDelay: Infinity })
  for await (const line of lines) {
    const d = line.trim() ? parseJson(line) : undefined
    if (!d || typeof d !== 'object') continue
    yield {
      key: d.key,
      value: typeof d.event === 'string' ? d.event : JSON.stringify(d.event),
      timestamp: d.eventTime,
      headers: { 'content-type': 'application/json', event: d.eventName, 'message-id': d.messageId },
    }
  }
}

/** Dead letters as records to resend: from the dead-letter topic or dead-letter files, a page or a line at a time. */
async function* deadLetters(flags, state) {
  if (flags['from-topic']) {
    for await (const page of topicPages(flags, { topic: flags['from-topic'] }, state)) {
      for (const r of page) {
        yield {
          key: r.key ?? undefined,
          value: r.value ?? '',
          timestamp: r.timestamp ?? undefined,
          headers: Object.fromEntries(Object.entries(r.headers).filter(([k]) => !k.startsWith('dlq-'))),
          originalTopic: r.headers['dlq-original-topic'],
        }
      }
    }
    return
  }
  for (const file of deadLetterFiles(flags['from-file'])) yield* fileLetters(file)
}

/** Records sent per produce call: a replay holds at most this many at once. */
const REPLAY_BATCH = 500

async function replay(flags) {
  if (!flags['from-topic'] === !flags['from-file']) throw new UsageError('replay needs exactly one of --from-topic or --from-file')
  const since = parseTime(flags.since, 'since')
  const until = parseTime(flags.until, 'until')
  const chosen = (r) => {
    const e = parseJson(r.value)
    if (flags.event && (r.headers.event ?? e?.event) !== flags.event) return false
    if (flags.workflow && e?.properties?.workflow_id !== flags.workflow) return false
    if (since !== undefined && !(r.timestamp >= since)) return false
    if (until !== undefined && !(r.timestamp <= until)) return false
    return true
  }
  let fallback
  // Each record goes to --to-topic, else the topic it was dead-lettered from (its dlq-original-topic), else TOPIC.
  const targetOf = (r) => flags['to-topic'] ?? r.originalTopic ?? (fallback ??= defaultTopic())
  const state = { partial: null }
  const summary = { selected: 0, dryRun: flags['dry-run'], delivered: 0, errors: [], targets: {}, records: [] }
  let batch = new Map()
  let held = 0
  const send = async () => {
    for (const [target, records] of batch) {
      if (flags['dry-run']) continue
      const result = await native.produceRecords(connection(flags), target, records, Number(flags.timeout))
      summary.delivered += result.delivered
      summary.errors.push(...result.errors.map((e) => `${target}: ${e}`))
    }
    batch = new Map()
    held = 0
  }
  for await (const r of deadLetters(flags, state)) {
    if (!chosen(r)) continue
    const target = targetOf(r)
    const { originalTopic, ...record } = r
    const id = record.headers['message-id'] ?? null
    summary.selected++
    summary.targets[target] = (summary.targets[target] ?? 0) + 1
    summary.records.push({ messageId: id, event: record.headers.event ?? null, key: record.key ?? null, topic: target })
    // Said before anything is sent: where this record goes.
    if (!flags.json) console.log(`${flags['dry-run'] ? 'would send' : 'sending'} ${printable(record.headers.event ?? 'record')} ${printable(id ?? '')} (key ${printable(record.key ?? '-')}) -> ${printable(target)}`)
    if (!batch.has(target)) batch.set(target, [])
    batch.get(target).push(record)
    if (++held >= REPLAY_BATCH) await send()
  }
  await send()
  summary.partial = state.partial
  summary.topic = Object.keys(summary.targets).length === 1 ? Object.keys(summary.targets)[0] : null
  if (flags.json) console.log(JSON.stringify(summary, null, 2))
  else {
    const to = Object.entries(summary.targets).map(([t, n]) => `${printable(t)} (${n})`).join(', ') || 'nowhere'
    const done = flags['dry-run'] ? `would replay ${summary.selected}` : `replayed ${summary.delivered}`
    console.log(`${done} of ${summary.selected} dead letters to ${to}${summary.errors.length ? `; errors: ${summary.errors.join('; ')}` : ''}${state.partial ? ' (partial read)' : ''}`)
  }
  if (summary.errors.length) process.exitCode = 1
}

function spoolStatus(flags) {
  const dir = flags.dir ?? native.KafkaExecutionLogger.fromEnv(process.env).getHealthMetrics().config.spoolDir
  if (!dir) throw new UsageError('the spool is off (N8N_KAFKA_LOGGER_SPOOL_DIR=off); pass --dir')
  const slots = existsSync(dir) ? native.spoolStatus(dir) : []
  if (flags.json) return console.log(JSON.stringify({ dir, slots }, null, 2))
  console.log(`${dir}: ${slots.length} slot(s)`)
  for (const s of slots) {
    const host = s.host ? ` on ${printable(s.host)}` : ''
    const owner = s.inUse
      ? `in use by pid ${s.lockedBy ?? '?'}${host}`
      : s.claimedElsewhere
        ? `claimed by another machine${host} (left to it; delete its spool.lock once that machine is gone for good)`
        : 'free (its backlog replays when a process takes it)'
    console.log(`  ${s.dir}: ${owner}; ${s.segments} segment(s), ${s.segmentBytes} bytes; ${s.deadLetters} dead letter(s); ${s.quarantinedFiles} quarantined file(s)`)
  }
}

async function main(argv) {
  const { values: flags, positionals } = parseArgs({ args: argv, options: OPTIONS, allowPositionals: true })
  const command = positionals.join(' ')
  if (flags.help || !command) return console.log(USAGE)
  if (command === 'inspect') return inspect(flags)
  if (command === 'replay') return replay(flags)
  if (command === 'spool status') return spoolStatus(flags)
  throw new UsageError(`unknown command ${JSON.stringify(command)}`)
}

main(process.argv.slice(2)).catch((error) => {
  console.error(error instanceof UsageError || error.code === 'ERR_PARSE_ARGS_UNKNOWN_OPTION' ? `${error.message}\n\n${USAGE}` : `error: ${error.message}`)
  process.exitCode = 2
})
