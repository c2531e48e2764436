// Minimal types for n8n's own packages, which the fork entry takes as peerDependencies (never bundled).
declare module '@n8n/di' {
  export const Container: { get<T>(type: new (...args: any[]) => T): T; set<T>(type: unknown, instance: T): void; has(type: unknown): boolean };
  export function Service(): ClassDecorator;
}
declare module '@n8n/decorators' {
  export function OnLifecycleEvent(event: string): MethodDecorator;
  export function OnShutdown(priority?: number): MethodDecorator;
  export function BackendModule(opts: { name: string; instanceTypes?: Array<'main' | 'worker' | 'webhook'> }): ClassDecorator;
  export function RestController(basePath?: string): ClassDecorator;
  export function Get(path: `/${string}`, options?: Record<string, unknown>): MethodDecorator;
  export function GlobalScope(scope: string): MethodDecorator;
  export const LOWEST_SHUTDOWN_PRIORITY: number;
}
