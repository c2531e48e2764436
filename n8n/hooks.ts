// Stock-n8n entry (EXTERNAL_HOOK_FILES=n8n-kafka-execution-logger/hooks): registers the logger when Kafka is configured; never throws while loading.
import type { KafkaLoggerClass } from './core-types';
import { createHost, type N8nHost } from './host';
import { ENV_HINT, envFlag, isConfigured, loadCore, LoggerRuntime, n8nLog } from './runtime';
import { installStockRoute } from './stock-route';

type HookFn = (...args: any[]) => unknown;
type HookFile = Record<string, Record<string, HookFn[]>>;

/** Registers lifecycle handlers through n8n's own @n8n/decorators and @n8n/di; false when they cannot be had. */
function registerLifecycle(host: N8nHost, runtime: LoggerRuntime, nodeEvents: boolean): boolean {
  const decorators = host.require('@n8n/decorators');
  const Container = host.require('@n8n/di')?.Container;
  if (typeof decorators?.OnLifecycleEvent !== 'function' || !Container) return false;
  const events = runtime.events;
  class KafkaExecutionLoggerHooks {
    before(ctx: unknown) {
      events.onBefore(ctx);
    }
    resume(ctx: unknown) {
      events.onResume(ctx);
    }
    after(ctx: unknown) {
      return events.onAfter(ctx);
    }
    nodeBefore(ctx: unknown) {
      events.onNode(ctx, 'before');
    }
    nodeAfter(ctx: unknown) {
      events.onNode(ctx, 'after');
    }
  }
  const proto = KafkaExecutionLoggerHooks.prototype as any;
  const wanted: Array<[string, string]> = [
    ['workflowExecuteBefore', 'before'],
    ['workflowExecuteResume', 'resume'],
    ['workflowExecuteAfter', 'after'],
  ];
  if (nodeEvents) wanted.push(['nodeExecuteBefore', 'nodeBefore'], ['nodeExecuteAfter', 'nodeAfter']);
  Container.set(KafkaExecutionLoggerHooks, new KafkaExecutionLoggerHooks());
  for (const [event, method] of wanted) {
    decorators.OnLifecycleEvent(event)(proto, method, Object.getOwnPropertyDescriptor(proto, method));
  }
  return true;
}

/** Sub-executions get no lifecycle handlers in n8n 2.x: take their start and end from n8n's EventService. */
function subscribeSubExecutions(host: N8nHost, runtime: LoggerRuntime): void {
  const eventService = host.service('dist/events/event.service.js', 'EventService');
  if (typeof eventService?.on !== 'function') return;
  eventService.on('workflow-pre-execute', (p: unknown) => runtime.events.onEventPreExecute(p));
  eventService.on('workflow-post-execute', (p: unknown) => runtime.events.onEventPostExecute(p));
}

function build(): HookFile {
  const env = process.env;
  let host: N8nHost | undefined;
  let log = { warn: console.warn, error: console.error, info: console.info, debug: console.debug };
  try {
    host = createHost();
    log = n8nLog(host);
    let Core: KafkaLoggerClass | undefined;
    try {
      Core = loadCore();
    } catch (e) {
      log.error(`[kafka-logger] the native core could not be loaded, the execution logger is off: ${String((e as Error)?.message ?? e)}`);
      return {};
    }
    if (!isConfigured(env, Core)) {
      log.warn(`[kafka-logger] Kafka is not configured, the execution logger is off: ${ENV_HINT}`);
      return {};
    }
    const runtime = new LoggerRuntime({ host, env, log, Core, prom: host.require('prom-client') });
    const h = host;
    const nodeEvents = envFlag(env, 'N8N_KAFKA_LOGGER_NODE_EVENTS');
    const lifecycle = registerLifecycle(h, runtime, nodeEvents);
    if (lifecycle) subscribeSubExecutions(h, runtime);
    else log.warn('[kafka-logger] n8n lifecycle registration unavailable: start events come from workflow.postExecute');
    void runtime.start();
    runtime.metrics?.keepRegistered();
    const hooks: HookFile = {
      n8n: {
        ready: [
          function (server: any) {
            try {
              runtime.metrics?.register();
              const path = installStockRoute(server?.app, h, () => runtime.core, env.N8N_KAFKA_LOGGER_HEALTH_TOKEN || undefined);
              log.info(`[kafka-logger] health at ${path}`);
            } catch (e) {
              log.warn(`[kafka-logger] health route not added: ${String((e as Error)?.message ?? e)}`);
            }
          },
        ],
        stop: [() => runtime.shutdown()],
      },
      worker: { ready: [() => runtime.metrics?.register()] },
    };
    if (!lifecycle) {
      hooks.workflow = {
        postExecute: [(run: unknown, workflowData: unknown, executionId: unknown) => runtime.events.onPostExecute(run, workflowData, executionId)],
      };
    }
    log.info(`[kafka-logger] logging executions to Kafka (${lifecycle ? 'lifecycle handlers' : 'postExecute fallback'}, node events ${nodeEvents ? 'on' : 'off'})`);
    return hooks;
  } catch (e) {
    try {
      log.error(`[kafka-logger] disabled after a setup error: ${String((e as Error)?.message ?? e)}`);
    } catch {
      /* nothing left to tell */
    }
    return {};
  }
}

const hookFile: HookFile = build();
export = hookFile;
