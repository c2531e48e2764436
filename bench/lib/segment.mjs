// The Segment track message the package builds (docs/message-format.md), built in JS for the peer clients.
import { createHash } from 'node:crypto'

const NS = Buffer.from('6ba7b8119dad11d180b400c04fd430c8', 'hex') // RFC 4122 URL namespace
const MESSAGE_NS = uuidV5(NS, 'urn:npm:n8n-kafka-execution-logger:message-id')

function uuidV5(ns, name) {
  const h = createHash('sha1').update(ns).update(name).digest()
  h[6] = (h[6] & 0x0f) | 0x50
  h[8] = (h[8] & 0x3f) | 0x80
  const x = h.subarray(0, 16).toString('hex')
  return `${x.slice(0, 8)}-${x.slice(8, 12)}-${x.slice(12, 16)}-${x.slice(16, 20)}-${x.slice(20)}`
}
const NS_BYTES = Buffer.from(MESSAGE_NS.replaceAll('-', ''), 'hex')

const ms = (t) => (t instanceof Date ? t.getTime() : typeof t === 'string' ? Date.parse(t) : t)

/** { key, value, headers, timestamp } for one finished execution, the same shape and size as the package's. */
export function buildEvent(input, ctx) {
  const started = ms(input.startedAt)
  const stopped = ms(input.stoppedAt)
  const event = input.status === 'error' ? 'Workflow Failed' : 'Workflow Completed'
  const messageId = uuidV5(NS_BYTES, `${ctx.instanceId}\n${input.executionId}\n${event}\n${stopped}\n`)
  const involves = [
    { role: 'WorkflowExecution', entity_type: 'WorkflowExecution', id: input.executionId, id_type: 'n8n' },
    { role: 'Workflow', entity_type: 'Workflow', id: input.workflowId, id_type: 'n8n', label: input.workflowName },
  ]
  if (input.userId) involves.push({ role: 'Initiator', entity_type: 'Person', id: input.userId, id_type: 'n8n' })
  const value = JSON.stringify({
    type: 'track',
    event,
    messageId,
    timestamp: new Date(stopped).toISOString(),
    sentAt: new Date().toISOString(),
    userId: input.userId,
    properties: {
      workflow_id: input.workflowId,
      workflow_name: input.workflowName,
      execution_id: input.executionId,
      started_at: new Date(started).toISOString(),
      finished_at: new Date(stopped).toISOString(),
      trigger_node: input.triggerNode,
      workflow_version_id: input.workflowVersionId,
      instance_id: ctx.instanceId,
    },
    dimensions: {
      execution_mode: input.mode,
      status: input.status,
      trigger_type: input.mode,
      workflow_name: input.workflowName,
      n8n_version: ctx.n8nVersion,
      instance_type: 'main',
      environment: 'production',
    },
    metrics: { duration_ms: stopped - started, node_count: input.nodeCount },
    flags: { is_manual_execution: input.mode === 'manual', is_retry: !!input.retryOf, is_sub_execution: !!input.parentExecutionId },
    tags: input.tags,
    involves,
    context: { app: { name: 'n8n', version: ctx.n8nVersion }, library: { name: 'n8n-kafka-execution-logger', version: '0.1.0' } },
  })
  return { key: input.executionId, value, headers: { 'content-type': 'application/json', event, 'message-id': messageId }, timestamp: stopped }
}
