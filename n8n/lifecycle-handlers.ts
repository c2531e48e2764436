// The handlers both entry points register in n8n's lifecycle registry: they feed the emitter only while that registry is the mechanism in use.
import { isProbe, type LifecycleSink } from './wiring';

type HandlerName = 'onBefore' | 'onResume' | 'onAfter' | 'nodeBefore' | 'nodeAfter';

/** n8n's lifecycle events of an execution, each with the handler it calls. */
export const WORKFLOW_HANDLERS: ReadonlyArray<[string, HandlerName]> = [
  ['workflowExecuteBefore', 'onBefore'],
  ['workflowExecuteResume', 'onResume'],
  ['workflowExecuteAfter', 'onAfter'],
];

/** n8n's lifecycle events of a node, registered only with N8N_KAFKA_LOGGER_NODE_EVENTS=true. */
export const NODE_HANDLERS: ReadonlyArray<[string, HandlerName]> = [
  ['nodeExecuteBefore', 'nodeBefore'],
  ['nodeExecuteAfter', 'nodeAfter'],
];

export abstract class LifecycleHandlers {
  /** The emitter while n8n's lifecycle registry is the mechanism in use, else undefined. */
  protected abstract lifecycleEvents(): LifecycleSink | undefined;

  onBefore(ctx: unknown): void {
    if (!isProbe(ctx)) this.lifecycleEvents()?.onBefore(ctx);
  }

  onResume(ctx: unknown): void {
    this.lifecycleEvents()?.onResume(ctx);
  }

  onAfter(ctx: unknown): Promise<void> | void {
    return this.lifecycleEvents()?.onAfter(ctx);
  }

  nodeBefore(ctx: unknown): void {
    this.lifecycleEvents()?.onNode(ctx, 'before');
  }

  nodeAfter(ctx: unknown): void {
    this.lifecycleEvents()?.onNode(ctx, 'after');
  }
}

/**
 * Registers `handlerClass`'s handlers for `handlers` with `onLifecycleEvent` (n8n's @OnLifecycleEvent, from the
 * copy the entry point reaches), as the decorator on each method would. Registered is not wired: LifecycleWiring
 * proves it or takes the handlers out again.
 */
export function registerHandlers(
  onLifecycleEvent: (event: string) => MethodDecorator,
  handlerClass: abstract new (...args: any[]) => LifecycleHandlers,
  handlers: ReadonlyArray<[string, HandlerName]>,
): void {
  for (const [event, name] of handlers) {
    onLifecycleEvent(event)(handlerClass.prototype, name, Object.getOwnPropertyDescriptor(LifecycleHandlers.prototype, name)!);
  }
}
