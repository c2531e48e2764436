// One process's logger runtime shared by both entry points: opening the core, the event emitter, metrics, taking up the wiring, and the draining shutdown.
import * as path from 'node:path';
import type { DiagnosticsLogger, HealthSnapshot, KafkaLoggerClass, KafkaLoggerLike } from './core-types';
import { ExecutionEvents } from './emitter';
import type { N8nHost } from './host';
import { ENV_HINT, type KafkaLoggerConfig } from './kafka-logger.config';
import { LoggerMetrics } from './metrics';
import { describeWiring, type Wiring } from './wiring';

/** The native core from this package's root (dist/n8n/ -> ../../index.js). */
export function loadCore(): KafkaLoggerClass {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  return require(path.join(__dirname, '..', '..', 'index.js')).KafkaExecutionLogger;
}

const message = (e: unknown) => String((e as Error)?.message ?? e);

/** n8n's Logger (scoped when it can be), or the console. */
export function n8nLog(host: N8nHost): DiagnosticsLogger {
  let logger: any;
  try {
    const base = host.service('@n8n/backend-common', 'Logger');
    logger = typeof base?.scoped === 'function' ? base.scoped('kafka-logger') : base;
  } catch {
    logger = undefined;
  }
  const pick = (level: 'warn' | 'error' | 'info' | 'debug') => (m: string) => {
    try {
      if (logger && typeof logger[level] === 'function') logger[level](m);
      else console[level === 'debug' ? 'log' : level](m);
    } catch {
      /* never throw from logging */
    }
  };
  return { warn: pick('warn'), error: pick('error'), info: pick('info'), debug: pick('debug') };
}

export interface RuntimeOptions {
  host: N8nHost;
  config: KafkaLoggerConfig;
  log: DiagnosticsLogger;
  Core: KafkaLoggerClass;
  prom?: any;
}

/** What an entry point opens the runtime with: prom-client is asked for only once the logger is on (each entry finds it elsewhere). */
export interface OpenOptions extends Omit<RuntimeOptions, 'Core' | 'prom'> {
  prom: () => any;
}

export class LoggerRuntime {
  readonly core: KafkaLoggerLike;
  readonly events: ExecutionEvents;
  readonly metrics: LoggerMetrics | undefined;
  readonly nodeEvents: boolean;
  /** How this process reaches n8n's execution lifecycle; `none` until an entry point proved a mechanism. */
  wiring: Wiring = { mechanism: 'none', proof: '', notUsed: ['not wired yet'] };
  /** When the wiring was last decided: the time of a `wiring` error in the health snapshot. */
  private wiringAt = new Date().toISOString();
  private stopping: Promise<void> | undefined;

  /** This process's runtime when the native core loads and Kafka is configured; otherwise undefined, after one line that says why. */
  static open(o: OpenOptions): LoggerRuntime | undefined {
    let Core: KafkaLoggerClass;
    try {
      Core = loadCore();
    } catch (e) {
      o.log.error(`[kafka-logger] the native core could not be loaded, the execution logger is off: ${message(e)}`);
      return undefined;
    }
    if (!o.config.isConfigured(Core)) {
      o.log.warn(`[kafka-logger] Kafka is not configured, the execution logger is off: ${o.config.notConfiguredReason()}`);
      return undefined;
    }
    return new LoggerRuntime({ host: o.host, config: o.config, log: o.log, Core, prom: o.prom() });
  }

  private constructor(private readonly o: RuntimeOptions) {
    const { host, config } = o;
    this.core = new o.Core({
      logger: o.log,
      instanceId: host.instanceId(),
      instanceType: host.instanceType(),
      n8nVersion: host.version(),
    });
    const oneShot = ['execute', 'execute-batch'].includes(String(host.command()));
    this.nodeEvents = config.nodeEvents;
    this.metrics = o.prom ? new LoggerMetrics(o.prom, () => this.snapshot()) : undefined;
    this.events = new ExecutionEvents({
      host,
      core: this.core,
      log: o.log,
      nodeEvents: this.nodeEvents,
      onEvent: (kind, status, accepted) => this.metrics?.onEvent(kind, status, accepted),
      flushOnFinishMs: oneShot ? config.disconnectMs : undefined,
    });
  }

  /**
   * Takes up the mechanism an entry point proved (undefined: the entry proves one later and calls setWiring), then
   * starts the core and keeps the metrics registered.
   */
  begin(wiring: Wiring | undefined): void {
    if (wiring) {
      this.setWiring(wiring);
      if (wiring.mechanism === 'lifecycle') this.subscribeSubExecutions();
    }
    void this.start();
    this.metrics?.keepRegistered();
  }

  /** Sub-executions get no lifecycle handlers in n8n 2.8-2.19: take their start and end from n8n's EventService. */
  private subscribeSubExecutions(): void {
    const eventService = this.o.host.service('dist/events/event.service.js', 'EventService');
    if (typeof eventService?.on !== 'function') return;
    eventService.on('workflow-pre-execute', (p: unknown) => this.events.onEventPreExecute(p));
    eventService.on('workflow-post-execute', (p: unknown) => this.events.onEventPostExecute(p));
  }

  /** Starts the core; resolves even when Kafka is down (the core queues). */
  private start(): Promise<void> {
    return this.core.initialize().then(
      () => this.o.log.info('[kafka-logger] started'),
      (e) => this.o.log.error(`[kafka-logger] initialize failed: ${String(e?.message ?? e)}`),
    );
  }

  /** Records the wiring and logs the mechanism in use, or loudly that nothing is logged. */
  setWiring(w: Wiring): void {
    this.wiring = w;
    this.wiringAt = new Date().toISOString();
    const { level, message } = describeWiring(w, this.nodeEvents);
    this.o.log[level](message);
  }

  /** The core's health snapshot with the wiring: a process whose handlers are not wired is unhealthy, whatever Kafka says. */
  snapshot(): HealthSnapshot | undefined {
    let h: HealthSnapshot;
    try {
      h = { ...this.core.getHealthMetrics() };
    } catch {
      return undefined;
    }
    const { mechanism, proof, notUsed } = this.wiring;
    h.wiring = { mechanism, proof, notUsed };
    if (mechanism === 'none') {
      h.status = 'unhealthy';
      h.lastError = { kind: 'wiring', message: `no execution is logged: nothing is wired into n8n's execution lifecycle (${notUsed.join('; ')})`, at: this.wiringAt };
    }
    return h;
  }

  /**
   * Shutdown: n8n drains running executions after its shutdown handlers, so wait for them (bounded by the
   * graceful-shutdown budget), let queued tag reads land, then drain the core within its own deadline.
   */
  shutdown(): Promise<void> {
    this.stopping ??= (async () => {
      const graceMs = this.o.config.gracefulShutdownMs;
      const coreMs = this.o.config.disconnectMs;
      const waitUntil = Date.now() + Math.max(1000, graceMs - coreMs - 3000);
      while (Date.now() < waitUntil && this.runningExecutions() > 0) await new Promise((r) => setTimeout(r, 100));
      await this.events.settled();
      try {
        const r = await this.core.shutdown(coreMs);
        this.o.log.info(`[kafka-logger] stopped: ${r.delivered} delivered, ${r.pending} pending, ${r.dropped} dropped`);
      } catch (e) {
        this.o.log.error(`[kafka-logger] shutdown failed: ${message(e)}`);
      }
      this.metrics?.stop();
    })();
    return this.stopping;
  }

  private runningExecutions(): number {
    try {
      const active = this.o.host.service('dist/active-executions.js', 'ActiveExecutions')?.activeExecutions ?? {};
      let n = Object.values(active).filter((e: any) => e?.status !== 'waiting').length;
      if (this.o.host.instanceType() === 'worker') {
        n += Object.keys(this.o.host.service('dist/scaling/job-processor.js', 'JobProcessor')?.runningJobs ?? {}).length;
      }
      return n;
    } catch {
      return 0;
    }
  }
}
