// A consumer of the smartdataHQ fork's message format: checks a record against the fork's paths and JSON types.
import { readFileSync } from 'node:fs'

/** The fork's record of each event it sent, its optional paths and where each field came from. */
export const FORK = JSON.parse(readFileSync(new URL('../fixtures/fork/messages.json', import.meta.url), 'utf8'))

/** The fork's status per event: its builder wrote these three, and nothing on a start. */
const FORK_STATUS = { 'Workflow Completed': 'success', 'Workflow Failed': 'error', 'Workflow Cancelled': 'cancelled' }
/** determineTriggerType's results: three modes kept, schedule/webhook/trigger from node types, else the mode. */
const FORK_TRIGGER_TYPES = ['manual', 'webhook', 'cli', 'schedule', 'trigger', 'error', 'retry', 'integrated', 'internal', 'evaluation']
/** The fork's integer fields: a consumer with Go ints or ClickHouse integer columns refuses `1500.0`. */
const INTEGER_LEAVES = ['node_count', 'duration_ms']

/** The JSON type of a parsed value: null, boolean, integer, number, string, array or object. */
export function jsonType(value) {
  if (value === null) return 'null'
  if (Array.isArray(value)) return 'array'
  if (typeof value === 'number') return Number.isInteger(value) ? 'integer' : 'number'
  return typeof value
}

/** Every path of `value` (objects and array elements alike, `involves.0.role`) with its JSON type. */
export function pathTypes(value, prefix = '', out = new Map()) {
  for (const [key, child] of Object.entries(value)) {
    const path = prefix ? `${prefix}.${key}` : key
    out.set(path, jsonType(child))
    if (child !== null && typeof child === 'object') pathTypes(child, path, out)
  }
  return out
}

/** The paths the fork wrote on every event: what a consumer of an event the fork never sent can rely on. */
function commonRecord() {
  const [first, ...rest] = Object.values(FORK.records).map((r) => pathTypes(r))
  return new Map([...first].filter(([path]) => rest.every((r) => r.has(path))))
}

/**
 * Problems a consumer of the fork's format would have with one consumed record (`value` parsed, or the raw JSON
 * text, which also shows integers written with a fraction): each path the fork wrote for that event, missing or
 * of another JSON type; the fork's status and trigger_type values. Events the fork never sent (Workflow Waiting,
 * Resumed, node events) are held to the paths it wrote on every event. An empty list: a fork consumer reads it.
 */
export function checkForkRecord(value) {
  const raw = typeof value === 'string' ? value : null
  let record = value
  if (raw !== null) {
    try {
      record = JSON.parse(raw)
    } catch (error) {
      return [`not JSON: ${error.message}`]
    }
  }
  if (jsonType(record) !== 'object') return [`the record is ${jsonType(record)}, the fork wrote an object`]
  const problems = []
  const fork = FORK.records[record.event]
  const expected = fork ? pathTypes(fork) : commonRecord()
  const ours = pathTypes(record)
  for (const [path, type] of expected) {
    const got = ours.get(path)
    if (got === undefined) {
      if (!FORK.optional.includes(path)) problems.push(`${path}: missing (the fork wrote ${type})`)
    } else if (got !== type && !(type === 'number' && got === 'integer')) {
      problems.push(`${path}: ${got}, the fork wrote ${type}`)
    }
  }
  const status = record.dimensions?.status
  if (fork && FORK_STATUS[record.event] !== undefined && status !== FORK_STATUS[record.event]) {
    problems.push(`dimensions.status: ${JSON.stringify(status)}, the fork wrote "${FORK_STATUS[record.event]}" on ${record.event}`)
  }
  const triggerType = record.dimensions?.trigger_type
  if (typeof triggerType === 'string' && !FORK_TRIGGER_TYPES.includes(triggerType)) {
    problems.push(`dimensions.trigger_type: "${triggerType}" is not one the fork wrote (${FORK_TRIGGER_TYPES.join(', ')})`)
  }
  if (raw !== null) {
    for (const leaf of INTEGER_LEAVES) {
      const fraction = raw.match(new RegExp(`"${leaf}":(-?\\d+[.eE][-+.eE\\d]*)`))
      if (fraction) problems.push(`metrics.${leaf}: written as ${fraction[1]}, the fork wrote an integer`)
    }
  }
  return problems
}
