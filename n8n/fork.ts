// Fork entry (n8n-kafka-execution-logger/n8n): a @BackendModule, a @Service with @OnLifecycleEvent/@OnShutdown handlers, a @RestController health route.
import { BackendModule, Get, GlobalScope, LOWEST_SHUTDOWN_PRIORITY, OnLifecycleEvent, OnShutdown, RestController } from '@n8n/decorators';
import { Container, Service } from '@n8n/di';
import { sendHealth } from './health';
import { createHost } from './host';
import { ENV_HINT, envFlag, isConfigured, loadCore, LoggerRuntime, n8nLog } from './runtime';

export const MODULE_NAME = 'kafka-logger';

@Service()
export class KafkaExecutionLoggerService {
  private readonly host = createHost();
  private runtime: LoggerRuntime | undefined;
  private attempted = false;

  /** Starts the logger once, when Kafka is configured; otherwise one warning naming the variables. */
  init(): boolean {
    if (this.attempted) return this.runtime !== undefined;
    this.attempted = true;
    const log = n8nLog(this.host);
    try {
      const Core = loadCore();
      if (!isConfigured(process.env, Core)) {
        log.warn(`[kafka-logger] Kafka is not configured, the execution logger is off: ${ENV_HINT}`);
        return false;
      }
      // eslint-disable-next-line @typescript-eslint/no-require-imports
      const prom = require('prom-client');
      this.runtime = new LoggerRuntime({ host: this.host, env: process.env, log, Core, prom });
      if (envFlag(process.env, 'N8N_KAFKA_LOGGER_NODE_EVENTS')) {
        const proto = KafkaExecutionLoggerService.prototype as any;
        OnLifecycleEvent('nodeExecuteBefore')(proto, 'nodeBefore', Object.getOwnPropertyDescriptor(proto, 'nodeBefore')!);
        OnLifecycleEvent('nodeExecuteAfter')(proto, 'nodeAfter', Object.getOwnPropertyDescriptor(proto, 'nodeAfter')!);
      }
      this.subscribeSubExecutions();
      void this.runtime.start();
      this.runtime.metrics?.keepRegistered();
      return true;
    } catch (e) {
      log.error(`[kafka-logger] disabled after a setup error: ${String((e as Error)?.message ?? e)}`);
      return false;
    }
  }

  /** Handlers also run in `n8n execute`, where n8n does not init modules: start lazily there. */
  private events() {
    if (!this.attempted) this.init();
    return this.runtime?.events;
  }

  private subscribeSubExecutions(): void {
    const eventService = this.host.service('dist/events/event.service.js', 'EventService');
    if (typeof eventService?.on !== 'function') return;
    eventService.on('workflow-pre-execute', (p: unknown) => this.runtime?.events.onEventPreExecute(p));
    eventService.on('workflow-post-execute', (p: unknown) => this.runtime?.events.onEventPostExecute(p));
  }

  @OnLifecycleEvent('workflowExecuteBefore')
  onBefore(ctx: unknown): void {
    this.events()?.onBefore(ctx);
  }

  @OnLifecycleEvent('workflowExecuteResume')
  onResume(ctx: unknown): void {
    this.events()?.onResume(ctx);
  }

  @OnLifecycleEvent('workflowExecuteAfter')
  onAfter(ctx: unknown): Promise<void> | void {
    return this.events()?.onAfter(ctx);
  }

  nodeBefore(ctx: unknown): void {
    this.runtime?.events.onNode(ctx, 'before');
  }

  nodeAfter(ctx: unknown): void {
    this.runtime?.events.onNode(ctx, 'after');
  }

  @OnShutdown(LOWEST_SHUTDOWN_PRIORITY)
  async onShutdown(): Promise<void> {
    await this.runtime?.shutdown();
  }

  sendHealth(req: unknown, res: unknown): void {
    sendHealth(req, res, this.runtime?.core, this.host);
  }
}

@RestController('/kafka-logger')
export class KafkaLoggerController {
  constructor(private readonly service: KafkaExecutionLoggerService) {}

  @Get('/health')
  @GlobalScope('logStreaming:manage')
  health(req: unknown, res: unknown): void {
    this.service.sendHealth(req, res);
  }
}

@BackendModule({ name: MODULE_NAME, instanceTypes: ['main', 'worker', 'webhook'] })
export class KafkaLoggerModule {
  async init(): Promise<void> {
    Container.get(KafkaExecutionLoggerService).init();
  }
}
