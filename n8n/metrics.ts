// Prometheus metrics in n8n's own prom-client registry (events by outcome, queue, breaker, delivery), re-registered if n8n clears it.
import type { HealthSnapshot } from './core-types';

const PREFIX = 'n8n_kafka_logger_';
const BREAKER = { closed: 0, 'half-open': 1, open: 2 } as Record<string, number>;
const COUNTERS = ['accepted', 'delivered', 'failed', 'retried', 'dropped', 'rejected', 'deadLettered'] as const;
const LATENCY = `${PREFIX}delivery_latency_seconds`;
const SPOOL_TOTALS = ['replayed', 'corrupted', 'refused'] as const;
/** The `event` labels n8n's executions give (finished_<n8n's status>), created at zero with both outcomes. */
const KNOWN_EVENTS = ['started', 'resumed', 'node', ...['success', 'error', 'canceled', 'crashed', 'waiting', 'unknown'].map((s) => `finished_${s}`)];

export class LoggerMetrics {
  private readonly metrics: any[] = [];
  private readonly events: any;
  /** Events by label pair since the last scrape: an execution pays a Map update, prom-client's label hashing waits for the scrape. */
  private readonly counts = new Map<string, { labels: { event: string; outcome: string }; n: number }>();
  private readonly latency: any;
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly prom: any,
    private readonly snapshot: () => HealthSnapshot | undefined,
  ) {
    const self = this;
    const opts = { registers: [] as unknown[] };
    this.events = new prom.Counter({
      name: `${PREFIX}events_total`,
      help: 'Execution events handed to the Kafka logger, by event and outcome (accepted or rejected)',
      labelNames: ['event', 'outcome'],
      ...opts,
      collect() {
        // A series is exported from zero: Prometheus's increase() cannot see a new series' first value, so a first
        // rejection (or a first drop, below) would otherwise never raise the alerts docs/operations.md suggests.
        for (const event of KNOWN_EVENTS) for (const outcome of ['accepted', 'rejected']) this.inc({ event, outcome }, 0);
        for (const count of self.counts.values()) {
          if (count.n > 0) this.inc(count.labels, count.n);
          count.n = 0;
        }
      },
    });
    // The core keeps the cumulative buckets itself: exposed as they are, a true histogram with no per-event JS work.
    this.latency = {
      name: LATENCY,
      help: 'Time from accepting a workflow event to its Kafka acknowledgement',
      type: 'histogram',
      aggregator: 'sum',
      reset() {},
      get() {
        const l = self.snapshot()?.deliveryLatencyMs;
        type Sample = { labels: Record<string, number | string>; value: number; metricName: string };
        const bucket = (le: number | string, value: number): Sample => ({ labels: { le }, value, metricName: `${LATENCY}_bucket` });
        const values: Sample[] = (l?.buckets ?? []).map((b) => bucket(b.le / 1000, b.count));
        values.push(bucket('+Inf', l?.count ?? 0));
        const total = (suffix: string, value: number): Sample => ({ labels: {}, value, metricName: `${LATENCY}${suffix}` });
        values.push(total('_sum', (l?.sum ?? 0) / 1000), total('_count', l?.count ?? 0));
        return { name: LATENCY, help: this.help, type: 'histogram', values, aggregator: 'sum' };
      },
    };
    /** A gauge read from the health snapshot at scrape time. */
    const gauge = (name: string, help: string, read: (h: HealthSnapshot | undefined) => number) =>
      new prom.Gauge({
        name: `${PREFIX}${name}`,
        help,
        ...opts,
        collect() {
          this.set(read(self.snapshot()));
        },
      });
    const spool = (h: HealthSnapshot | undefined) => (h?.spool?.enabled ? h.spool : undefined);
    const wired = new prom.Gauge({
      name: `${PREFIX}wired`,
      help: "1 when this process's handlers are proven wired into n8n's execution lifecycle (label: how), 0 when nothing is: then no execution is logged",
      labelNames: ['mechanism'],
      ...opts,
      collect() {
        const mechanism = String(self.snapshot()?.wiring?.mechanism ?? 'none');
        this.reset();
        this.set({ mechanism }, mechanism === 'none' ? 0 : 1);
      },
    });
    const gauges = [
      gauge('queue_depth', 'Events waiting in the Kafka logger queue', (h) => Number(h?.queue?.depth ?? 0)),
      gauge('queue_capacity', 'Capacity of the Kafka logger queue', (h) => Number(h?.queue?.capacity ?? 0)),
      gauge('queue_bytes', 'Bytes the queued events hold, roughly (their strings plus ~200 bytes each)', (h) => Number(h?.queue?.bytes ?? 0)),
      gauge('queue_max_bytes', 'Byte bound of the Kafka logger queue (QUEUE_MAX_BYTES)', (h) => Number(h?.queue?.maxBytes ?? 0)),
      gauge('circuit_breaker_state', 'Circuit breaker state: 0 closed, 1 half-open, 2 open', (h) => BREAKER[String(h?.circuitBreaker?.state)] ?? -1),
      gauge('spool_bytes', 'Bytes of the disk spool segments (0 without a spool)', (h) => Number(spool(h)?.bytes ?? 0)),
      gauge('spool_records', 'Events in the disk spool not yet acknowledged by Kafka', (h) => Number(spool(h)?.records ?? 0)),
      gauge('spool_oldest_age_seconds', 'Age of the oldest undelivered event in the disk spool (0 when empty)', (h) => Number(spool(h)?.oldestAgeMs ?? 0) / 1000),
    ];
    /** A counter that follows totals of the core (read at scrape time), one series per label value. */
    const totals = (name: string, help: string, label: string, values: readonly string[], read: (h: HealthSnapshot | undefined) => Record<string, unknown>) => {
      const last: Record<string, number> = {};
      return new prom.Counter({
        name: `${PREFIX}${name}`,
        help,
        labelNames: [label],
        ...opts,
        collect() {
          const now = read(self.snapshot());
          for (const value of values) {
            const total = Number(now[value] ?? 0);
            const delta = total - (last[value] ?? 0);
            this.inc({ [label]: value }, delta > 0 ? delta : 0);
            last[value] = total;
          }
        },
      });
    };
    const messages = totals('messages_total', `Kafka logger core counters: ${COUNTERS.join(', ')}`, 'state', COUNTERS, (h) => (h?.counters ?? {}) as Record<string, unknown>);
    const spooled = totals('spool_events_total', 'Disk spool events: replayed (delivered from the spool), corrupted (moved aside), refused (spool full: lost)', 'outcome', SPOOL_TOTALS, (h) => spool(h) ?? {});
    this.metrics.push(this.events, this.latency, wired, ...gauges, messages, spooled);
  }

  onEvent(event: string, status: string, accepted: boolean): void {
    try {
      const name = event === 'finished' ? `finished_${status}` : event;
      const outcome = accepted ? 'accepted' : 'rejected';
      const key = `${name}/${outcome}`;
      let count = this.counts.get(key);
      if (!count) this.counts.set(key, (count = { labels: { event: name, outcome }, n: 0 }));
      count.n++;
    } catch {
      /* metrics never break an execution */
    }
  }

  /** Registers into the default registry; again whenever n8n has cleared it (it does while it sets up /metrics). */
  register(): void {
    const reg = this.prom?.register;
    if (!reg) return;
    for (const m of this.metrics) {
      try {
        if (!reg.getSingleMetric(m.name)) reg.registerMetric(m);
      } catch {
        /* already there */
      }
    }
  }

  keepRegistered(everyMs = 1_000): void {
    this.register();
    this.timer = setInterval(() => this.register(), everyMs);
    this.timer.unref();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
  }
}
