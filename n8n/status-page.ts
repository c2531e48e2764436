// A small self-refreshing HTML status page for the health snapshot (breaker, queue, counters, last error, latency).

const esc = (v: unknown): string =>
  String(v ?? '').replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c] as string);

const COLORS: Record<string, string> = {
  healthy: '#1a7f37', closed: '#1a7f37', degraded: '#9a6700', 'half-open': '#9a6700',
  unhealthy: '#cf222e', open: '#cf222e', stopped: '#57606a', 'not configured': '#57606a',
};

const badge = (v: unknown) => `<span class="badge" style="background:${COLORS[String(v)] ?? '#57606a'}">${esc(v)}</span>`;

const row = (k: string, v: string) => `<tr><th>${esc(k)}</th><td>${v}</td></tr>`;

export function renderStatusPage(h: any, refreshSeconds = 5): string {
  const q = h?.queue ?? {};
  const c = h?.counters ?? {};
  const lat = h?.deliveryLatencyMs ?? {};
  const pct = q.capacity ? Math.min(100, Math.round((100 * Number(q.depth ?? 0)) / Number(q.capacity))) : 0;
  const counters = ['accepted', 'delivered', 'failed', 'retried', 'dropped', 'rejected']
    .map((k) => `<td>${esc(c[k] ?? 0)}</td>`).join('');
  const lastError = h?.lastError
    ? `${esc(h.lastError.kind)}: ${esc(h.lastError.message)} <small>(${esc(h.lastError.at)})</small>`
    : 'none';
  const brokers = Array.isArray(h?.brokers)
    ? h.brokers.map((b: any) => esc(typeof b === 'object' ? `${b.name ?? b.host ?? b.id ?? '?'}: ${b.state ?? ''}` : b)).join('<br>')
    : '';
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta http-equiv="refresh" content="${refreshSeconds}">
<title>Kafka execution logger: ${esc(h?.status)}</title>
<style>
 body{font:14px/1.4 system-ui,sans-serif;margin:2em;color:#24292f;max-width:56em}
 h1{font-size:20px} table{border-collapse:collapse;margin:1em 0;width:100%}
 th,td{border:1px solid #d0d7de;padding:6px 10px;text-align:left} th{background:#f6f8fa;width:14em}
 .badge{color:#fff;border-radius:1em;padding:2px 10px;font-weight:600}
 .bar{background:#eaeef2;border-radius:4px;height:10px;width:16em;display:inline-block;vertical-align:middle}
 .bar>i{display:block;height:10px;border-radius:4px;background:${pct > 80 ? '#cf222e' : '#0969da'};width:${pct}%}
 small{color:#57606a}
</style></head><body>
<h1>n8n Kafka execution logger ${badge(h?.status)}</h1>
<table>
${row('Circuit breaker', badge(h?.circuitBreaker?.state))}
${row('Queue', `<span class="bar"><i></i></span> ${esc(q.depth ?? 0)} / ${esc(q.capacity ?? 0)}`)}
${row('Delivery latency', `p50 ${esc(lat.p50 ?? '-')} ms, p99 ${esc(lat.p99 ?? '-')} ms`)}
${row('Last error', lastError)}
${row('Brokers', brokers || '-')}
${row('Instance', `${esc(h?.n8n?.instanceType ?? '')} ${esc(h?.n8n?.instanceId ?? '')} <small>n8n ${esc(h?.n8n?.version ?? '')}</small>`)}
${row('Uptime', `${Math.round(Number(h?.uptimeMs ?? 0) / 1000)} s`)}
</table>
<table><tr><th>accepted</th><th>delivered</th><th>failed</th><th>retried</th><th>dropped</th><th>rejected</th></tr><tr>${counters}</tr></table>
<small>Refreshes every ${refreshSeconds} s. JSON: the same URL with <code>Accept: application/json</code>.</small>
</body></html>`;
}
