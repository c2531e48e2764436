// The health route's answer: the core's snapshot plus n8n identity, as JSON or (Accept: text/html) the status page.
import type { N8nHost } from './host';
import type { LoggerRuntime } from './runtime';
import { renderStatusPage } from './status-page';

/** Requests per client address per minute on the health route: a monitor polling every few seconds and the status page fit with room. */
export const HEALTH_RATE_LIMIT = 120;

export function healthSnapshot(runtime: LoggerRuntime | undefined, host: N8nHost): Record<string, unknown> {
  let snapshot: Record<string, unknown>;
  try {
    snapshot = runtime ? { ...(runtime.snapshot() ?? { status: 'unhealthy', lastError: { kind: 'snapshot', message: 'the core gave no snapshot' } }) } : { status: 'not configured' };
  } catch (e) {
    snapshot = { status: 'unhealthy', lastError: { kind: 'snapshot', message: String((e as Error)?.message ?? e) } };
  }
  snapshot.n8n = { version: host.version(), instanceId: host.instanceId(), instanceType: host.instanceType() };
  return snapshot;
}

/** True when the client prefers HTML (a browser), false for API clients and curl. */
export function wantsHtml(accept: unknown): boolean {
  if (typeof accept !== 'string') return false;
  const html = accept.indexOf('text/html');
  const json = accept.indexOf('application/json');
  return html >= 0 && (json < 0 || html < json);
}

export function sendHealth(req: any, res: any, runtime: LoggerRuntime | undefined, host: N8nHost): void {
  const snapshot = healthSnapshot(runtime, host);
  res.setHeader('Cache-Control', 'no-store');
  // n8n's REST routes get no security headers of their own; this route sets its own, the status page's policy included.
  res.setHeader('X-Content-Type-Options', 'nosniff');
  res.setHeader('X-Frame-Options', 'SAMEORIGIN');
  res.setHeader('Referrer-Policy', 'no-referrer');
  res.setHeader('Content-Security-Policy', "default-src 'none'; style-src 'unsafe-inline'; frame-ancestors 'self'; base-uri 'none'; form-action 'none'");
  if (wantsHtml(req?.headers?.accept)) {
    res.setHeader('Content-Type', 'text/html; charset=utf-8');
    res.status(200).send(renderStatusPage(snapshot));
  } else {
    res.status(200).json(snapshot);
  }
}
