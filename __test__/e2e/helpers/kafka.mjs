// Reads back what the logger wrote to the real broker (through the broker helper's kcat consumer) as parsed events.
import { randomBytes } from 'node:crypto';
import { brokerScript, consume, ensureBroker } from '../../helpers/broker.mjs';

/** The repo's test broker (PLAINTEXT listener); throws, so tests fail (never skip), when Kafka cannot be had. */
export async function kafkaUp() {
  return ensureBroker().plaintext;
}

/** The shared test broker's PLAINTEXT listener (scripts/kafka/broker.sh, KAFKA_PORT_BASE). */
export const BROKERS = `127.0.0.1:${process.env.KAFKA_PORT_BASE ?? 29092}`;

/** Start/stop another broker instance of our own on other ports (so stopping it disturbs no other test). */
export function spareBroker(portBase, cmd) {
  return brokerScript({ KAFKA_PORT_BASE: String(portBase) }, cmd);
}

export function uniqueTopic(name) {
  return `kl-e2e-${name}-${randomBytes(4).toString('hex')}`;
}

function parse(record) {
  const r = typeof record === 'string' ? { value: record } : record;
  const value = typeof r.value === 'string' ? JSON.parse(r.value) : r.value ?? r;
  return { ...value, _key: r.key, _headers: r.headers, _timestamp: r.timestamp };
}

/** Exactly `count` events (or more, when more arrive within the time): callers assert the exact count. */
export async function readEvents(topic, count, { timeoutMs = 60_000, brokers = BROKERS } = {}) {
  const records = await consume({ brokers, topic, count, timeoutMs });
  return records.map(parse);
}

export const byExecution = (events) => {
  const m = new Map();
  for (const e of events) {
    const id = e.properties?.execution_id;
    if (!m.has(id)) m.set(id, []);
    m.get(id).push(e);
  }
  return m;
};


/**
 * Follows one topic written by n8n: every step says how many events it adds and gets exactly those, in the
 * order consumed (one key, one partition: an execution's events keep their order). `assertNoMore` proves
 * nothing extra arrived.
 */
export class TopicReader {
  constructor(topic, brokers = BROKERS) {
    this.topic = topic;
    this.brokers = brokers;
    this.total = 0;
    this.seen = new Set();
  }

  async next(count, timeoutMs = 60_000) {
    this.total += count;
    const all = await readEvents(this.topic, this.total, { timeoutMs, brokers: this.brokers });
    const fresh = all.filter((e) => !this.seen.has(e.messageId));
    for (const e of fresh) this.seen.add(e.messageId);
    if (fresh.length !== count) {
      throw new Error(`expected ${count} new events on ${this.topic}, got ${fresh.length}: ${JSON.stringify(all.map((e) => [e.event, e.properties?.execution_id]))}`);
    }
    return fresh;
  }

  /** Everything the topic holds now beyond what was read, counted as read: for runs whose number is not known beforehand (a schedule). */
  async rest() {
    const all = (await consume({ brokers: this.brokers, topic: this.topic })).map(parse);
    const fresh = all.filter((e) => !this.seen.has(e.messageId));
    for (const e of fresh) this.seen.add(e.messageId);
    this.total += fresh.length;
    return fresh;
  }

  /**
   * Waits `waitMs`, then reads the whole topic: fails when it holds any event beyond those read (a duplicate of one
   * read counts), or when it cannot be read at all. A read that fails is never taken for "nothing more".
   */
  async assertNoMore(waitMs = 4_000, readTimeoutMs = 30_000) {
    await new Promise((resolve) => setTimeout(resolve, waitMs));
    const all = (await consume({ brokers: this.brokers, topic: this.topic, timeoutMs: readTimeoutMs })).map(parse);
    if (all.length !== this.total) {
      throw new Error(`expected exactly the ${this.total} events read on ${this.topic}, the topic holds ${all.length}: ${JSON.stringify(all.map((e) => [e.event, e.properties?.execution_id]))}`);
    }
  }
}

/** The events of one workflow, in consumed order. */
export const ofWorkflow = (events, workflowId) => events.filter((e) => e.properties?.workflow_id === workflowId);
