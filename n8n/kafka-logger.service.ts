// The fork module's @Service: starts the logger at module init (or at first use in `n8n execute`), is n8n's lifecycle handler class, drains at @OnShutdown, answers the health route.
import { LOWEST_SHUTDOWN_PRIORITY, OnLifecycleEvent, OnShutdown } from '@n8n/decorators';
import { Container, Service } from '@n8n/di';
import { sendHealth } from './health';
import { createHost } from './host';
import { KafkaLoggerConfig } from './kafka-logger.config';
import { LifecycleHandlers, NODE_HANDLERS, registerHandlers, WORKFLOW_HANDLERS } from './lifecycle-handlers';
import { loadCore, LoggerRuntime, n8nLog } from './runtime';
import { LifecycleWiring } from './wiring';

/** Set up when n8n imports the module (wireAtImport); decided before n8n runs its first hook. */
let lifecycle: LifecycleWiring | undefined;
const mechanism = () => lifecycle?.wiring?.mechanism ?? 'none';

@Service()
export class KafkaExecutionLoggerService extends LifecycleHandlers {
  private readonly host = createHost();
  private runtime: LoggerRuntime | undefined;
  private attempted = false;

  /** Starts the logger once, when Kafka is configured; otherwise one warning naming the variables. */
  init(): boolean {
    if (this.attempted) return this.runtime !== undefined;
    this.attempted = true;
    const log = n8nLog(this.host);
    try {
      // eslint-disable-next-line @typescript-eslint/no-require-imports
      this.runtime = LoggerRuntime.open({ host: this.host, config: new KafkaLoggerConfig(process.env), log, prom: () => require('prom-client') });
      if (!this.runtime) return false;
      const wiring = lifecycle?.decide() ?? { mechanism: 'none', proof: '', notUsed: ['the module was not set up when n8n imported it'] };
      if (wiring.mechanism === 'lifecycle' && this.runtime.nodeEvents) registerHandlers(OnLifecycleEvent, KafkaExecutionLoggerService, NODE_HANDLERS);
      this.runtime.begin(wiring);
      return true;
    } catch (e) {
      log.error(`[kafka-logger] disabled after a setup error: ${String((e as Error)?.message ?? e)}`);
      return false;
    }
  }

  /** Handlers also run in `n8n execute`, where n8n does not init modules: start lazily there. */
  events() {
    if (!this.attempted) this.init();
    return this.runtime?.events;
  }

  protected lifecycleEvents() {
    return mechanism() === 'lifecycle' ? this.events() : undefined;
  }

  @OnShutdown(LOWEST_SHUTDOWN_PRIORITY)
  async onShutdown(): Promise<void> {
    await this.runtime?.shutdown();
  }

  sendHealth(req: unknown, res: unknown): void {
    sendHealth(req, res, this.runtime, this.host);
  }
}
registerHandlers(OnLifecycleEvent, KafkaExecutionLoggerService, WORKFLOW_HANDLERS);

/**
 * Sets up the way into n8n's execution lifecycle when n8n imports the module: the handlers above when n8n's
 * registry hands them execution ids (n8n >= 2.8), else the runHook wrapper (n8n 1.x, 2.0-2.7). The probes run at
 * module init, or before the first hook of `n8n execute`, which inits no module. With nothing wired, init()
 * reports it (error log, health, metrics).
 */
export function wireAtImport(): void {
  try {
    const config = new KafkaLoggerConfig(process.env);
    if (!config.isConfigured(loadCore())) return;
    const service = () => Container.get(KafkaExecutionLoggerService);
    lifecycle = new LifecycleWiring(createHost(), () => service().events(), config.nodeEvents, KafkaExecutionLoggerService, true);
  } catch {
    /* init() reports that nothing is wired */
  }
}
