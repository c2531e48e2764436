// How the adapters reach n8n's execution lifecycle, each way proven before it is trusted: n8n's lifecycle registry, a wrapper of n8n-core's runHook, the workflow.postExecute external hook.
import * as path from 'node:path';
import { createRequire } from 'node:module';
import type { N8nHost } from './host';
import { dig } from './mapping';

/**
 * - `lifecycle`: handlers registered with @OnLifecycleEvent in n8n's LifecycleMetadata (n8n >= 2.8 hands them
 *   the execution id; 1.x and 2.0-2.7 call them without it, so they cannot be used there).
 * - `run-hook`: a wrapper of n8n-core's ExecutionLifecycleHooks.runHook, through which n8n runs every hook of
 *   every execution (main, worker, webhook, sub-executions, CLI) with the execution id on `this`.
 * - `post-execute`: the `workflow.postExecute` external hook of the stock hook file (end events only: the start
 *   event is rebuilt from the run's start time when the execution ends).
 * - `none`: nothing could be wired; the logger says so (error log, health status, metric).
 */
export type Mechanism = 'lifecycle' | 'run-hook' | 'post-execute' | 'none';

export interface Wiring {
  mechanism: Mechanism;
  /** What proved the mechanism wired, or why nothing was. */
  proof: string;
  /** Why each mechanism before it was not used, in order. */
  notUsed: string[];
}

/** What a wired mechanism feeds: the emitter's entry points, with 2.8+-shaped contexts. */
export interface LifecycleSink {
  onBefore(ctx: unknown): void;
  onResume(ctx: unknown): void;
  onAfter(ctx: unknown): Promise<void> | void;
  onNode(ctx: unknown, phase: 'before' | 'after'): void;
}

export interface Attempt {
  ok: boolean;
  why: string;
}

const yes = (why: string): Attempt => ({ ok: true, why });
const no = (why: string): Attempt => ({ ok: false, why });
const message = (e: unknown) => String((e as Error)?.message ?? e);

/** The workflow id of the probes' own executions: never an n8n id, never logged. */
export const PROBE_ID = '__kafka_logger_wiring_probe__';
let probeSeen: unknown;

/** True (and recorded) for a probe's context: handlers return at once for it. */
export function isProbe(ctx: unknown): boolean {
  if (dig(ctx, 'workflow', 'id') !== PROBE_ID) return false;
  probeSeen = ctx;
  return true;
}

const HOOKS_FILE = path.join('dist', 'execution-lifecycle', 'execution-lifecycle-hooks.js');

/** n8n's own module `id` as n8n's execution-lifecycle code loads it (undefined when that file is not there). */
function asN8nLoadsIt(host: N8nHost, id: string): unknown {
  if (!host.root) return undefined;
  try {
    return createRequire(path.join(host.root, HOOKS_FILE))(id);
  } catch {
    return undefined;
  }
}

/**
 * Proves that n8n's lifecycle registry calls `handlerClass` with the execution id: its handlers are in the
 * LifecycleMetadata n8n reads, and a hook set built by n8n's own factory for a probe execution calls our
 * workflowExecuteBefore handler with a context that carries the probe's execution id. Nothing else runs.
 */
export function probeLifecycle(host: N8nHost, handlerClass: unknown): Attempt {
  try {
    const decorators = host.require('@n8n/decorators');
    const Container = host.require('@n8n/di')?.Container;
    if (!decorators?.LifecycleMetadata || !Container) return no("n8n's LifecycleMetadata or DI container is not reachable");
    if (asN8nLoadsIt(host, '@n8n/decorators') !== decorators) return no("n8n's execution hooks load another copy of @n8n/decorators");
    const handlers: any[] = Container.get(decorators.LifecycleMetadata).getHandlers();
    const before = handlers.filter((h) => h?.eventName === 'workflowExecuteBefore');
    const ours = before.findIndex((h) => h?.handlerClass === handlerClass);
    if (ours < 0) return no("our handlers are not in n8n's lifecycle registry");
    const factory = host.require(`dist/execution-lifecycle/execution-lifecycle-hooks.js`)?.getLifecycleHooksForScalingWorker;
    if (typeof factory !== 'function') return no("n8n's hook factory (getLifecycleHooksForScalingWorker) is not reachable");
    const workflowData = { id: PROBE_ID, name: PROBE_ID, nodes: [], connections: {}, settings: {} };
    const hooks = factory({ executionMode: 'integrated', workflowData }, PROBE_ID);
    // n8n adds the registry's handlers last, in registry order
    const added: unknown[] = hooks?.handlers?.workflowExecuteBefore ?? [];
    const fn = added.length >= before.length ? added[added.length - before.length + ours] : undefined;
    if (typeof fn !== 'function') return no("n8n's hook set has no handler for our registration");
    probeSeen = undefined;
    const pending = fn.call(hooks, undefined, undefined); // our handler runs synchronously inside
    (pending as Promise<unknown> | undefined)?.catch?.(() => undefined);
    const seen = probeSeen;
    probeSeen = undefined;
    if (!seen) return no("n8n's hook set did not call our registered handler");
    if (dig(seen, 'executionId') !== PROBE_ID) return no("n8n's lifecycle registry calls handlers without the execution id (n8n before 2.8)");
    return yes("n8n's lifecycle registry called our handler for a probe execution, with its execution id");
  } catch (e) {
    return no(`the lifecycle probe failed: ${message(e)}`);
  }
}

const MARK = Symbol.for('n8n-kafka-execution-logger.runHook');
const WORKFLOW_HOOKS = new Set(['workflowExecuteBefore', 'workflowExecuteResume', 'workflowExecuteAfter']);
const NODE_HOOKS = new Set(['nodeExecuteBefore', 'nodeExecuteAfter']);

/**
 * Wraps ExecutionLifecycleHooks.runHook of the n8n-core copy n8n itself loads, so every hook of every execution
 * also reaches `sink()` (after n8n's own handlers, as module handlers would). Proven by a probe hook set of that
 * class whose runHook reaches the wrapper with the probe's execution id.
 */
export interface RunHookOptions {
  sink: () => LifecycleSink | undefined;
  nodeEvents: boolean;
  /** Whether hooks are forwarded now (the wrapper can wait in standby while another mechanism is in use). */
  active: () => boolean;
  /** Runs before each hook reaches n8n's own handlers (a deferred decision is taken there, once). */
  beforeHook?: () => void;
}

export function installRunHook(host: N8nHost, o: RunHookOptions): Attempt {
  try {
    const core = host.require('n8n-core');
    const Hooks = core?.ExecutionLifecycleHooks;
    const proto = Hooks?.prototype;
    if (typeof proto?.runHook !== 'function') return no("n8n-core's ExecutionLifecycleHooks.runHook is not reachable");
    if (asN8nLoadsIt(host, 'n8n-core') !== core) return no("n8n's execution hooks load another copy of n8n-core");
    if (!proto.runHook[MARK]) {
      const original = proto.runHook;
      /** Hook sets that ran workflowExecuteBefore or workflowExecuteResume. */
      const started = new WeakSet<object>();
      const wrapped = function (this: any, hookName: string, parameters: unknown[]) {
        if (this?.workflowData?.id === PROBE_ID) {
          probeSeen = { executionId: this.executionId, hookName };
          return original.call(this, hookName, parameters);
        }
        o.beforeHook?.();
        if (!o.active()) return original.call(this, hookName, parameters);
        // nodes of a hook set that never ran workflowExecuteBefore: a waiting execution restarted (n8n < 2.8 has no resume hook)
        const restarted = hookName === 'nodeExecuteBefore' && this && typeof this === 'object' && !started.has(this);
        if (hookName === 'workflowExecuteBefore' || hookName === 'workflowExecuteResume' || restarted) started.add(this);
        const result = original.call(this, hookName, parameters);
        if (!restarted && !WORKFLOW_HOOKS.has(hookName) && !(o.nodeEvents && NODE_HOOKS.has(hookName))) return result;
        const forward = () => forwardHook(this, hookName, parameters ?? [], o.sink, restarted);
        return Promise.resolve(result).then(
          async (r: unknown) => {
            await forward();
            return r;
          },
          async (e: unknown) => {
            await forward();
            throw e;
          },
        );
      };
      (wrapped as any)[MARK] = true;
      proto.runHook = wrapped;
    }
    if (!proto.runHook?.[MARK]) return no("n8n-core's ExecutionLifecycleHooks.runHook cannot be wrapped");
    probeSeen = undefined;
    const probe = new Hooks('integrated', PROBE_ID, { id: PROBE_ID, name: PROBE_ID, nodes: [], connections: {} });
    (probe.runHook('workflowExecuteBefore', []) as Promise<unknown>)?.catch?.(() => undefined);
    const seen = probeSeen;
    probeSeen = undefined;
    if (dig(seen, 'executionId') !== PROBE_ID) return no("a hook set of n8n-core's ExecutionLifecycleHooks did not run through the wrapper");
    return yes("n8n-core's ExecutionLifecycleHooks, the class n8n's execution hooks use, runs every hook through our wrapper (probe seen with its execution id)");
  } catch (e) {
    return no(`the runHook wrapper could not be installed: ${message(e)}`);
  }
}

/** Hands a hook of `hooks` to the sink in the 2.8+ context shape; never throws. */
async function forwardHook(hooks: any, hookName: string, p: unknown[], sink: () => LifecycleSink | undefined, restarted: boolean): Promise<void> {
  try {
    const s = sink();
    if (!s) return;
    const base = { executionId: hooks?.executionId, workflow: hooks?.workflowData };
    switch (hookName) {
      case 'workflowExecuteBefore':
        s.onBefore({ ...base, workflowInstance: p[0], executionData: p[1] });
        return;
      case 'workflowExecuteResume':
        s.onResume({ ...base, workflowInstance: p[0], executionData: p[1] });
        return;
      case 'workflowExecuteAfter':
        await s.onAfter({ ...base, runData: p[0], newStaticData: p[1] });
        return;
      case 'nodeExecuteBefore':
        if (restarted) s.onResume({ ...base, workflowInstance: true });
        s.onNode({ ...base, nodeName: p[0], taskData: p[1] }, 'before');
        return;
      case 'nodeExecuteAfter':
        s.onNode({ ...base, nodeName: p[0], taskData: p[1], executionData: p[2] }, 'after');
        return;
    }
  } catch {
    /* the sink guards itself; nothing reaches n8n */
  }
}

/**
 * Proves the stock hook file's `workflow.postExecute` handler is in n8n's ExternalHooks registry (checked once
 * n8n has loaded the hook files: the registry is filled right after each file is required).
 */
export function verifyPostExecute(host: N8nHost, handler: unknown): Attempt {
  try {
    const external = host.service('dist/external-hooks.js', 'ExternalHooks');
    const registered = dig(external, 'registered', 'workflow.postExecute');
    if (!Array.isArray(registered)) return no("n8n's ExternalHooks registry is not reachable");
    if (!registered.includes(handler)) return no("our workflow.postExecute handler is not in n8n's ExternalHooks registry");
    return yes("our workflow.postExecute handler is in n8n's ExternalHooks registry");
  } catch (e) {
    return no(`the external hooks check failed: ${message(e)}`);
  }
}

/**
 * The first mechanism that proves itself: n8n's lifecycle registry (when `lifecycleClass` is registered there),
 * then the runHook wrapper. `decide()` runs the probes once; with `deferred`, the wrapper waits in standby from
 * now on and the decision is taken at the first of `decide()` or the first hook n8n runs (n8n's DI services that
 * the registry probe builds need its database, which a module being imported does not have yet).
 */
export class LifecycleWiring {
  private current: Wiring | undefined;
  private wrapper: Attempt | undefined;

  constructor(
    private readonly host: N8nHost,
    private readonly sink: () => LifecycleSink | undefined,
    private readonly nodeEvents: boolean,
    private readonly lifecycleClass: unknown,
    deferred = false,
  ) {
    if (deferred) this.wrapper = this.installWrapper(() => this.decide());
  }

  get wiring(): Wiring | undefined {
    return this.current;
  }

  decide(): Wiring {
    if (this.current) return this.current;
    const notUsed: string[] = [];
    let w: Wiring | undefined;
    if (this.lifecycleClass) {
      const a = probeLifecycle(this.host, this.lifecycleClass);
      if (a.ok) w = { mechanism: 'lifecycle', proof: a.why, notUsed };
      else {
        notUsed.push(`lifecycle: ${a.why}`);
        unregister(this.host, this.lifecycleClass);
      }
    }
    if (!w) {
      this.wrapper ??= this.installWrapper();
      w = this.wrapper.ok ? { mechanism: 'run-hook', proof: this.wrapper.why, notUsed } : { mechanism: 'none', proof: '', notUsed: [...notUsed, `run-hook: ${this.wrapper.why}`] };
    }
    this.current = w;
    return w;
  }

  private installWrapper(beforeHook?: () => void): Attempt {
    return installRunHook(this.host, { sink: this.sink, nodeEvents: this.nodeEvents, active: () => this.current?.mechanism === 'run-hook', beforeHook });
  }
}

/** Takes `handlerClass` out of n8n's lifecycle registry, so n8n stops calling handlers that cannot be used. */
function unregister(host: N8nHost, handlerClass: unknown): void {
  try {
    const decorators = host.require('@n8n/decorators');
    const handlers = host.require('@n8n/di')?.Container?.get(decorators?.LifecycleMetadata)?.getHandlers();
    if (!Array.isArray(handlers)) return;
    for (let i = handlers.length - 1; i >= 0; i--) if (handlers[i]?.handlerClass === handlerClass) handlers.splice(i, 1);
  } catch {
    /* the handlers also check the mechanism in use */
  }
}

const NAMES: Record<Mechanism, string> = {
  lifecycle: "n8n's lifecycle registry",
  'run-hook': "a wrapper of n8n-core's ExecutionLifecycleHooks.runHook",
  'post-execute': 'the workflow.postExecute external hook (start events are sent when the execution ends)',
  none: 'nothing',
};

/** The log line of a wiring: the mechanism in use and its proof, or loudly that nothing is logged. */
export function describeWiring(w: Wiring, nodeEvents: boolean): { level: 'info' | 'error'; message: string } {
  if (w.mechanism === 'none') {
    return { level: 'error', message: `[kafka-logger] NOT logging executions: no way into n8n's execution lifecycle could be wired (${w.notUsed.join('; ')})` };
  }
  const skipped = w.notUsed.length > 0 ? `; not used: ${w.notUsed.join('; ')}` : '';
  return {
    level: 'info',
    message: `[kafka-logger] logging executions to Kafka through ${NAMES[w.mechanism]}, node events ${nodeEvents ? 'on' : 'off'} (proof: ${w.proof}${skipped})`,
  };
}
