// Assertions on the events of one execution as read back from Kafka (names, ids, status, times, duration, errors).
import assert from 'node:assert/strict';

const ms = (iso) => new Date(iso).getTime();

/** Checks a start + end pair (or more) of one execution and returns its execution id. */
export function assertExecution(events, expected) {
  const { workflowId, names, mode, status, errorNode, tags, version, instanceType = 'main', key = 'executionId' } = expected;
  assert.deepEqual(events.map((e) => e.event), names, `event names of ${workflowId}`);
  const id = events[0].properties.execution_id;
  for (const e of events) {
    assert.equal(e.type, 'track');
    assert.equal(e.properties.execution_id, id, 'one execution');
    assert.equal(e.properties.workflow_id, workflowId);
    if (key === 'messageId') assert.equal(e._key, e.messageId, 'Kafka key = messageId (KEY=message)');
    else assert.equal(e._key, id, 'Kafka key = execution id');
    if (mode) assert.equal(e.dimensions.execution_mode, mode);
    if (version) assert.equal(e.dimensions.n8n_version, version);
    assert.equal(e.dimensions.instance_type, instanceType);
    assert.ok(e.properties.instance_id, 'instance id');
    assert.ok(e.messageId, 'messageId');
    if (tags) assert.deepEqual([...(e.tags ?? [])].sort(), [...tags].sort(), `tags of ${e.event}`);
  }
  const start = events[0];
  assert.equal(start.timestamp, start.properties.started_at, 'Started: event time = started_at');
  const end = events[events.length - 1];
  if (status) {
    assert.equal(end.dimensions.status, status);
    assert.ok(end.properties.finished_at, 'finished_at');
    assert.equal(end.timestamp, end.properties.finished_at, 'end: event time = finished_at');
    const duration = ms(end.properties.finished_at) - ms(end.properties.started_at);
    assert.equal(end.metrics.duration_ms, duration, 'duration_ms = finished_at - started_at');
    assert.ok(duration >= 0 && duration < 120_000, `plausible duration ${duration}`);
    assert.ok(ms(end.timestamp) >= ms(start.timestamp) - 1000, 'end after start');
  }
  if (errorNode) {
    assert.equal(end.properties.error_node_name, errorNode.name);
    assert.equal(end.properties.error_node_type, errorNode.type);
    assert.match(end.properties.error_message, errorNode.message);
  } else if (status === 'success') {
    assert.equal(end.properties.error_message, undefined);
  }
  return id;
}
