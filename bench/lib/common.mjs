// Shared bench helpers: n8n-shaped inputs, JS-thread CPU, RSS, percentiles and result output.
import { readFileSync } from 'node:fs'

const NOW = Date.now()
const NAMES = ['Sync Stripe invoices to HubSpot deals', 'Nightly CRM export', 'Slack alert on failed payment', 'Webhook: new signup']

/** One n8n-shaped ExecutionInput (what the n8n adapter passes to logWorkflowFinished), fresh per call. */
export function makeInput(i) {
  // A thousand executions per millisecond: the times stay near the clock at any rate (the logger stamps records
  // with them, and the broker keeps segments with future timestamps past their retention).
  const stopped = NOW + Math.floor(i / 1000)
  return {
    executionId: String(1_000_000 + i),
    workflowId: 'Xk3pQ9vLm2NwT7a' + (i % 10),
    workflowName: NAMES[i & 3],
    mode: 'webhook',
    status: 'success',
    startedAt: new Date(stopped - 1234),
    stoppedAt: new Date(stopped),
    nodeCount: 7,
    triggerNode: 'Webhook',
    triggerNodeType: 'n8n-nodes-base.webhook',
    workflowVersionId: '5f0c3c9e-2b1a-4d8e-9f6a-7c3b2a1d0e9f',
    tags: ['billing', 'production'],
    userId: '8d7e6f5a-4b3c-4d2e-9f1a-0b9c8d7e6f5a',
  }
}

/** CPU time of the calling (JS) thread in ns: process.threadCpuUsage where present, else the scheduler clock. */
export function threadCpuNs() {
  if (typeof process.threadCpuUsage === 'function') {
    const u = process.threadCpuUsage()
    return (u.user + u.system) * 1000
  }
  return Number(readFileSync(`/proc/self/task/${process.pid}/schedstat`, 'utf8').split(' ')[0])
}

/** CPU time of the whole process (all threads) in ns. */
export function processCpuNs() {
  const u = process.cpuUsage()
  return (u.user + u.system) * 1000
}

export const rssMB = () => process.memoryUsage.rss() / 1048576

/** Quantile of an unsorted numeric array (sorts a copy). */
export function quantiles(values, qs) {
  const a = Float64Array.from(values).sort()
  return qs.map((q) => (a.length ? a[Math.min(a.length - 1, Math.floor(q * a.length))] : null))
}

export const sleep = (ms) => new Promise((r) => setTimeout(r, ms))
export const median = (xs) => { const a = [...xs].sort((x, y) => x - y); return a.length ? a[a.length >> 1] : null }
