// What the stock hook file gives n8n: the logger wired into n8n's execution lifecycle, the health route and metrics at n8n.ready, the drain at n8n.stop, workflow.postExecute as the last resort.
import { createHost, type N8nHost } from './host';
import { KafkaLoggerConfig } from './kafka-logger.config';
import { LifecycleHandlers, NODE_HANDLERS, registerHandlers, WORKFLOW_HANDLERS } from './lifecycle-handlers';
import { LoggerRuntime, n8nLog } from './runtime';
import { installStockRoute } from './stock-route';
import { LifecycleWiring, verifyPostExecute } from './wiring';

type HookFn = (...args: any[]) => unknown;
export type HookFile = Record<string, Record<string, HookFn[]>>;

class KafkaExecutionLoggerHooks extends LifecycleHandlers {
  constructor(private readonly runtime: LoggerRuntime) {
    super();
  }

  protected lifecycleEvents() {
    return this.runtime.wiring.mechanism === 'lifecycle' ? this.runtime.events : undefined;
  }
}

/** Registers the lifecycle handlers through n8n's own @n8n/decorators and @n8n/di; returns their class (undefined when they cannot be had). */
function registerLifecycle(host: N8nHost, runtime: LoggerRuntime): unknown {
  const decorators = host.require('@n8n/decorators');
  const Container = host.require('@n8n/di')?.Container;
  if (typeof decorators?.OnLifecycleEvent !== 'function' || !Container) return undefined;
  Container.set(KafkaExecutionLoggerHooks, new KafkaExecutionLoggerHooks(runtime));
  registerHandlers(decorators.OnLifecycleEvent, KafkaExecutionLoggerHooks, runtime.nodeEvents ? [...WORKFLOW_HANDLERS, ...NODE_HANDLERS] : WORKFLOW_HANDLERS);
  return KafkaExecutionLoggerHooks;
}

/**
 * Last resort of the stock hook file: `workflow.postExecute`. Proven once n8n has registered this file's hooks
 * (right after it returns), else the process reports that nothing is wired.
 */
function postExecuteFallback(host: N8nHost, runtime: LoggerRuntime, notUsed: string[]): HookFile['workflow'] {
  const postExecute = (run: unknown, workflowData: unknown, executionId: unknown) => runtime.events.onPostExecute(run, workflowData, executionId);
  setImmediate(() => {
    const a = verifyPostExecute(host, postExecute);
    runtime.setWiring(a.ok ? { mechanism: 'post-execute', proof: a.why, notUsed } : { mechanism: 'none', proof: '', notUsed: [...notUsed, `post-execute: ${a.why}`] });
  });
  return { postExecute: [postExecute] };
}

/** The hooks n8n registers from this file: none when Kafka is not configured or setup fails (one log line says why); never throws. */
export function buildHookFile(): HookFile {
  const config = new KafkaLoggerConfig(process.env);
  let log = { warn: console.warn, error: console.error, info: console.info, debug: console.debug };
  try {
    const host = createHost();
    log = n8nLog(host);
    const runtime = LoggerRuntime.open({ host, config, log, prom: () => host.require('prom-client') });
    if (!runtime) return {};
    if (config.healthTokenProblem) log.error(`[kafka-logger] ${config.healthTokenProblem}`);
    const wiring = new LifecycleWiring(host, () => runtime.events, runtime.nodeEvents, registerLifecycle(host, runtime)).decide();
    runtime.begin(wiring.mechanism === 'none' ? undefined : wiring);
    const hooks: HookFile = {
      n8n: {
        ready: [
          function (server: any) {
            try {
              runtime.metrics?.register();
              const path = installStockRoute(server?.app, host, runtime, config.healthToken, log);
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
    if (wiring.mechanism === 'none') hooks.workflow = postExecuteFallback(host, runtime, wiring.notUsed);
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
