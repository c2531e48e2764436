// Prometheus metrics in n8n's own prom-client registry (events by outcome, queue, breaker, delivery), re-registered if n8n clears it.
import type { HealthSnapshot } from './core-types';

const PREFIX = 'n8n_kafka_logger_';
const BREAKER = { closed: 0, 'half-open': 1, open: 2 } as Record<string, number>;
const COUNTERS = ['accepted', 'delivered', 'failed', 'retried', 'dropped', 'rejected', 'deadLettered'] as const;
const LATENCY = `${PREFIX}delivery_latency_seconds`;

export class LoggerMetrics {
  private readonly metrics: any[] = [];
  private readonly events: any;
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
    const queueDepth = new prom.Gauge({
      name: `${PREFIX}queue_depth`,
      help: 'Events waiting in the Kafka logger queue',
      ...opts,
      collect() {
        this.set(Number(self.snapshot()?.queue?.depth ?? 0));
      },
    });
    const queueCapacity = new prom.Gauge({
      name: `${PREFIX}queue_capacity`,
      help: 'Capacity of the Kafka logger queue',
      ...opts,
      collect() {
        this.set(Number(self.snapshot()?.queue?.capacity ?? 0));
      },
    });
    const breaker = new prom.Gauge({
      name: `${PREFIX}circuit_breaker_state`,
      help: 'Circuit breaker state: 0 closed, 1 half-open, 2 open',
      ...opts,
      collect() {
        this.set(BREAKER[String(self.snapshot()?.circuitBreaker?.state)] ?? -1);
      },
    });
    const last: Record<string, number> = {};
    const messages = new prom.Counter({
      name: `${PREFIX}messages_total`,
      help: 'Kafka logger core counters: accepted, delivered, failed, retried, dropped, rejected, deadLettered',
      labelNames: ['state'],
      ...opts,
      collect() {
        const c = (self.snapshot()?.counters ?? {}) as Record<string, unknown>;
        for (const state of COUNTERS) {
          const now = Number(c[state] ?? 0);
          const delta = now - (last[state] ?? 0);
          if (delta > 0) this.inc({ state }, delta);
          last[state] = now;
        }
      },
    });
    this.metrics.push(this.events, this.latency, queueDepth, queueCapacity, breaker, messages);
  }

  onEvent(event: string, status: string, accepted: boolean): void {
    try {
      const name = event === 'finished' ? `finished_${status}` : event;
      this.events.inc({ event: name, outcome: accepted ? 'accepted' : 'rejected' });
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
