// Aggregates results/raw.jsonl (medians with min/max over reps) into results/summary.json and BENCHMARKS.md's tables;
// --out DIR and --md FILE read and write elsewhere (the CI smoke test's temp folder).
import { readFileSync, writeFileSync, existsSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { parseArgs } from 'node:util'

const HERE = dirname(fileURLToPath(import.meta.url))
const { values: args } = parseArgs({ options: { out: { type: 'string', default: join(HERE, 'results') }, md: { type: 'string', default: join(HERE, '..', 'BENCHMARKS.md') } } })
const [OUT, MD] = [args.out, args.md]
const rows = readFileSync(join(OUT, 'raw.jsonl'), 'utf8').trim().split('\n').filter(Boolean).map((l) => JSON.parse(l)).filter((r) => !r.error)
const machine = existsSync(join(OUT, 'machine.json')) ? JSON.parse(readFileSync(join(OUT, 'machine.json'), 'utf8')) : {}
const get = (o, path) => path.split('.').reduce((v, k) => (v == null ? v : v[k]), o)
const stat = (xs) => { const a = xs.filter((x) => typeof x === 'number' && Number.isFinite(x)).sort((x, y) => x - y); return a.length ? { med: a[(a.length - 1) >> 1], min: a[0], max: a.at(-1), n: a.length } : null }
const LOAD_METRICS = ['ackedRate', 'sentRate', 'jsCpuNsPerEvent', 'netJsCpuNsPerEvent', 'sendWallNsPerEvent', 'jsCpuPct', 'procCpuMsPer100k', 'procCpuPct', 'loopDelayMs.p50', 'loopDelayMs.p99', 'loopDelayMs.max', 'latencyMs.p50', 'latencyMs.p99', 'rssMB.steady', 'rssMB.peak']

// Net JS-thread CPU: the client's minus the 'none' baseline (same harness, same inputs, same rate) of the same rep.
const load = rows.filter((r) => r.scenario === 'load')
for (const r of load) {
  const base = load.find((b) => b.client === 'none' && b.rate === r.rate && b.rep === r.rep)
  if (r.jsCpuNsPerEvent != null && base) r.netJsCpuNsPerEvent = r.jsCpuNsPerEvent - base.jsCpuNsPerEvent
}
const group = (rs, metrics) => Object.fromEntries(metrics.map((m) => [m, stat(rs.map((r) => get(r, m)))]))
const summary = { machine, load: {}, idle: {}, drain: null, incall: null, outage: null }
for (const r of load) (summary.load[r.client] ??= {})[r.rate] ??= null
for (const c of Object.keys(summary.load)) for (const rate of Object.keys(summary.load[c])) summary.load[c][rate] = group(load.filter((r) => r.client === c && String(r.rate) === rate), LOAD_METRICS)
const idle = rows.filter((r) => r.scenario === 'idle')
for (const r of idle) { const b = idle.find((x) => x.client === 'none' && x.rep === r.rep); if (b) r.overheadMB = r.rssMB - b.rssMB }
for (const c of new Set(idle.map((r) => r.client))) summary.idle[c] = group(idle.filter((r) => r.client === c), ['rssMB', 'overheadMB', 'idleJsCpuPct'])
const drain = rows.filter((r) => r.scenario === 'drain')
if (drain.length) summary.drain = group(drain, ['queued', 'logCpuMs', 'drainMs', 'delivered', 'pending', 'dropped'])
const incall = rows.filter((r) => r.scenario === 'incall')
if (incall.length) summary.incall = group(incall, ['inCallWallNsPerEvent', 'loopCpuNsPerEvent'])
summary.outage = rows.find((r) => r.scenario === 'outage') ?? null
// bench/n8n-webhook.mjs writes its own file (it needs a real n8n; run.sh does not run it).
const N8N = join(OUT, 'n8n-webhook.json')
summary.n8n = existsSync(N8N) ? JSON.parse(readFileSync(N8N, 'utf8')) : null
// Its --control run (both instances without the logger): how far apart two identical instances measure.
const N8N_CONTROL = join(OUT, 'n8n-webhook-control.json')
summary.n8nControl = existsSync(N8N_CONTROL) ? JSON.parse(readFileSync(N8N_CONTROL, 'utf8')) : null

// Targets of issue 5, from this run.
const L = (c, rate, m) => summary.load[c]?.[rate]?.[m]
const ceilingMax = L('rust-ceiling', 0, 'ackedRate')?.med
const loggerMax = L('logger', 0, 'ackedRate')?.med
const loopGap = L('logger', 20000, 'loopDelayMs.p99') && L('none', 20000, 'loopDelayMs.p99') ? L('logger', 20000, 'loopDelayMs.p99').med - L('none', 20000, 'loopDelayMs.p99').med : null
summary.targets = [
  { target: 'main-thread CPU per event <= 1.0 us (net, at 20k/s)', value: L('logger', 20000, 'netJsCpuNsPerEvent')?.med / 1000, unit: 'us', met: L('logger', 20000, 'netJsCpuNsPerEvent')?.med <= 1000 },
  { target: 'main-thread time inside the log call <= 1.0 us (wall, batches of 1,000)', value: summary.incall?.inCallWallNsPerEvent?.med / 1000, unit: 'us', met: summary.incall?.inCallWallNsPerEvent?.med <= 1000 },
  { target: 'main-thread time inside the log calls <= 1.0 us (wall, paced 20k/s)', value: L('logger', 20000, 'sendWallNsPerEvent')?.med / 1000, unit: 'us', met: L('logger', 20000, 'sendWallNsPerEvent')?.med <= 1000 },
  { target: 'throughput >= 0.9x bare rdkafka ceiling', value: loggerMax && ceilingMax ? loggerMax / ceilingMax : null, unit: 'x', met: loggerMax >= 0.9 * ceilingMax },
  { target: 'loop-delay p99 at 20k/s within 0.2 ms of no logging', value: loopGap, unit: 'ms', met: loopGap != null && loopGap <= 0.2 },
  { target: 'end-to-end p99 < 50 ms at 20k/s', value: L('logger', 20000, 'latencyMs.p99')?.med, unit: 'ms', met: L('logger', 20000, 'latencyMs.p99')?.med < 50 },
  { target: 'drain 100k queued events at shutdown <= 3 s', value: summary.drain?.drainMs?.med / 1000, unit: 's', met: summary.drain?.drainMs?.med <= 3000 && summary.drain?.dropped?.med === 0 },
  { target: 'n8n webhook latency p50 with logger <= 1.02x without', value: summary.n8n?.summary.latencyRatioP50 ?? null, unit: 'x', met: summary.n8n ? summary.n8n.summary.latencyRatioP50 <= 1.02 : null },
]
// A figure this run did not produce (its scenario left out, or no n8n file) is not measured, rather than missed.
for (const t of summary.targets) if (!Number.isFinite(t.value)) Object.assign(t, { value: null, met: null })
writeFileSync(join(OUT, 'summary.json'), JSON.stringify(summary, null, 1))

// ---- Markdown
const n = (v, d = 1) => (v == null || !Number.isFinite(v) ? '–' : v >= 1000 && d <= 1 ? Math.round(v).toLocaleString('en-US') : v.toFixed(d))
const s = (st, d = 1, k = 1) => (st ? `${n(st.med * k, d)} [${n(st.min * k, d)}–${n(st.max * k, d)}]` : '–')
const ORDER = ['logger', 'confluent', 'platformatic', 'kafkajs-batch', 'kafkajs-single', 'rust-ceiling', 'kcat', 'none']
const LABEL = { logger: '**this package**', confluent: '@confluentinc/kafka-javascript produce()', platformatic: '@platformatic/kafka (batched, acks -1, lz4)', 'kafkajs-batch': 'kafkajs batched (500/5 ms)', 'kafkajs-single': 'kafkajs one send per event', 'rust-ceiling': 'bare Rust rdkafka ThreadedProducer', kcat: 'kcat -P (whole process)', none: 'no logging (baseline)' }
const clients = (rate) => ORDER.filter((c) => summary.load[c]?.[rate])
const out = []
out.push(`Run ${machine.started ?? '?'} → ${machine.finished ?? '?'}, ${machine.nproc ?? '?'} cores, Node ${machine.node ?? '?'}, args \`${(machine.args ?? []).join(' ') || '(defaults)'}\`.`)
out.push(`Machine load: before \`${machine.uptimeBefore ?? '?'}\`; after \`${machine.uptimeAfter ?? '?'}\`. Cells are median [min–max] over the repetitions.`, '')
out.push('### Targets (issue 5)', '', '| target | this run | met |', '|---|---|---|')
for (const t of summary.targets) out.push(`| ${t.target} | ${t.value == null ? 'not measured here' : n(t.value, 2) + ' ' + t.unit} | ${t.met == null ? '–' : t.met ? 'yes' : 'no'} |`)
out.push('', '### Maximum sustained throughput (closed loop, ≤ 10,000 unacknowledged)', '', '| client | acked events/s | JS-thread CPU/event µs (gross) | net of baseline µs | process CPU ms per 100k | loop delay p50 / p99 / max ms | RSS steady / peak MB |', '|---|---|---|---|---|---|---|')
for (const c of clients(0)) {
  const x = summary.load[c][0]
  out.push(`| ${LABEL[c]} | ${s(x.ackedRate, 0)} | ${s(x.jsCpuNsPerEvent, 2, 1e-3)} | ${s(x.netJsCpuNsPerEvent, 2, 1e-3)} | ${s(x.procCpuMsPer100k, 0)} | ${n(x['loopDelayMs.p50']?.med, 2)} / ${n(x['loopDelayMs.p99']?.med, 2)} / ${n(x['loopDelayMs.max']?.med, 1)} | ${n(x['rssMB.steady']?.med, 0)} / ${n(x['rssMB.peak']?.med, 0)} |`)
}
for (const rate of [20000, 1000]) {
  out.push('', `### Paced at ${rate.toLocaleString('en-US')} events/s`, '', '| client | achieved acked/s | net JS-thread CPU/event µs | in the send calls (wall) µs | loop delay p50 / p99 / max ms | event → ack p50 / p99 ms | process CPU ms per 100k | RSS steady / peak MB |', '|---|---|---|---|---|---|---|---|')
  for (const c of clients(rate)) {
    const x = summary.load[c][rate]
    out.push(`| ${LABEL[c]} | ${s(x.ackedRate, 0)} | ${s(x.netJsCpuNsPerEvent, 2, 1e-3)} | ${s(x.sendWallNsPerEvent, 2, 1e-3)} | ${s(x['loopDelayMs.p50'], 2)} / ${s(x['loopDelayMs.p99'], 2)} / ${n(x['loopDelayMs.max']?.med, 1)} | ${s(x['latencyMs.p50'], 1)} / ${s(x['latencyMs.p99'], 1)} | ${s(x.procCpuMsPer100k, 0)} | ${n(x['rssMB.steady']?.med, 0)} / ${n(x['rssMB.peak']?.med, 0)} |`)
  }
}
out.push('', '### Idle (loaded, connected, one event sent, then 6 s idle; RSS after a GC)', '', '| client | RSS MB | overhead vs no client MB | idle JS-thread CPU % |', '|---|---|---|---|')
for (const c of ORDER.filter((c) => summary.idle[c])) { const x = summary.idle[c]; out.push(`| ${LABEL[c]} | ${s(x.rssMB, 1)} | ${s(x.overheadMB, 1)} | ${s(x.idleJsCpuPct, 2)} |`) }
if (summary.drain) { const d = summary.drain; out.push('', '### Shutdown drain of 100k queued events (broker up)', '', `${s(d.queued, 0)} events queued before the worker started (logging them took ${s(d.logCpuMs, 0)} ms of JS-thread CPU); \`initialize()\` + \`shutdown(30000)\` then took ${s(d.drainMs, 0)} ms, connecting included; delivered ${s(d.delivered, 0)}, pending ${s(d.pending, 0)}, dropped ${s(d.dropped, 0)}.`) }
if (summary.incall) out.push('', `### Time inside the log call`, '', `Batches of 1,000 fresh n8n-shaped inputs, connected logger: ${s(summary.incall.inCallWallNsPerEvent, 0)} ns of wall time per \`logWorkflowFinished\` call; the JS thread's CPU over the whole loop (building the inputs included): ${s(summary.incall.loopCpuNsPerEvent, 0)} ns per event.`)
const o = summary.outage
if (o) {
  out.push('', `### Outage: ${o.rate}/s with the broker frozen for ${o.outageS} s${o.outageS < 600 ? ' (shortened: `--full-outage` runs the issue\'s 10 minutes)' : ''}`, '')
  out.push(`RSS MB: before the outage ${n(o.rssMB.beforeOutage)}, max during ${n(o.rssMB.maxDuringOutage)}, at its end ${n(o.rssMB.endOfOutage)}, least-squares slope over its second half ${n(o.rssMB.secondHalfSlopeMBPerMin, 2)} MB/min (RSS less the JS heap: ${n(o.rssMB.nativeSecondHalfSlopeMBPerMin, 2)} MB/min; JS heap at most ${n(o.rssMB.jsHeapMaxDuringOutage)} MB), ${o.recoverS ?? 30} s after the thaw ${n(o.rssMB.afterRecovery)}.`)
  const minute = (o.series ?? []).filter((x) => x.phase === 'outage' && x.t % 60 === 0).map((x) => `${x.t} s: ${n(x.rss)} (${n(x.rss - x.jsHeap)})`)
  if (minute.length) out.push('', `Each minute of the outage, RSS (RSS less the JS heap) MB: ${minute.join(', ')}.`)
  out.push(`Counters at the end: ${JSON.stringify(o.counters)}${o.spool ? `; spool ${JSON.stringify(o.spool)}` : ''}. Sent ${o.sent}.`)
}
const w = summary.n8n
if (w) {
  const x = w.summary
  out.push('', `### n8n webhook workflow (n8n ${w.n8n}, \`bench/n8n-webhook.mjs\`, ${w.at})`, '')
  out.push(`Two n8n instances side by side, one with the logger (stock hook file) and one without, the same webhook workflow; ${w.reps} rounds of ${w.requests} sequential requests alternating between them, then ${w.requests} requests at concurrency ${w.concurrency} on each.`, '')
  out.push('| | latency p50 / p99 / mean ms | executions/s (median of rounds) | n8n process CPU per execution ms | of which main thread / logger threads / other ms |', '|---|---|---|---|---|')
  const t = (m) => (x[m].threadCpuMsPerExecution ? ['main', 'logger', 'other'].map((k) => n(x[m].threadCpuMsPerExecution[k], 2)).join(' / ') : '–')
  for (const m of ['without', 'with']) out.push(`| ${m} the logger | ${n(x[m].p50, 2)} / ${n(x[m].p99, 2)} / ${n(x[m].mean, 2)} | ${n(x[m].executionsPerSecond, 1)} | ${n(x[m].cpuMsPerExecution, 2)} | ${t(m)} |`)
  out.push('', `Ratios with / without: latency p50 ${n(x.latencyRatioP50, 3)}x, mean ${n(x.latencyRatioMean, 3)}x; executions/s ${n(x.throughputRatio, 3)}x; ${x.eventsLogged} events logged.`)
  const c = summary.n8nControl?.summary
  if (c) {
    const main = (m) => n(c[m].threadCpuMsPerExecution.main, 2)
    out.push('', `Control (\`--control\`, ${summary.n8nControl.at}: both instances without the logger, ${summary.n8nControl.reps} rounds of ${summary.n8nControl.requests}): latency p50 ${n(c.latencyRatioP50, 3)}x, mean ${n(c.latencyRatioMean, 3)}x; executions/s ${n(c.throughputRatio, 3)}x; main thread ${main('without')} / ${main('with')} ms per execution.`)
  }
}
const block = out.join('\n')
const BEGIN = '<!-- bench:results:begin (generated by bench/report.mjs; do not edit) -->'
const END = '<!-- bench:results:end -->'
let md = existsSync(MD) ? readFileSync(MD, 'utf8') : `# Benchmarks\n\n${BEGIN}\n${END}\n`
if (!md.includes(BEGIN)) md += `\n${BEGIN}\n${END}\n`
md = md.slice(0, md.indexOf(BEGIN) + BEGIN.length) + '\n' + block + '\n' + md.slice(md.indexOf(END))
writeFileSync(MD, md)
console.log(`report: ${rows.length} results -> ${join(OUT, 'summary.json')}, ${MD}`)
