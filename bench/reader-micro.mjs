// In-call CPU of logWorkflowFinished for one or more builds: node bench/reader-micro.mjs [path/to/index.js ...]
// Unconnected logger, 1,000 fresh n8n-shaped inputs reused 100x per round, 7 rounds; the queue evicts on this thread.
import { createRequire } from 'node:module'
import { makeInput, threadCpuNs } from './lib/common.mjs'

const require = createRequire(import.meta.url)
const addons = process.argv.slice(2).length ? process.argv.slice(2) : ['../index.js']
for (const addon of addons) {
  const { KafkaExecutionLogger } = require(addon)
  const spool = KafkaExecutionLogger.settings().some((s) => s.option === 'spoolDir') ? { spoolDir: 'off' } : {}
  const l = new KafkaExecutionLogger({ brokers: '127.0.0.1:1', topic: 'x', instanceId: 'i', queueMaxSize: 2000, ...spool, logger: { warn() {} } })
  const inputs = Array.from({ length: 1000 }, (_, i) => makeInput(i))
  const rounds = []
  for (let r = 0; r < 7; r++) {
    const t = threadCpuNs()
    for (let b = 0; b < 100; b++) for (let i = 0; i < inputs.length; i++) l.logWorkflowFinished(inputs[i])
    rounds.push(Math.round((threadCpuNs() - t) / 100000))
  }
  console.log(`${addon}: ns per call by round ${rounds.join(' ')}; median ${[...rounds].sort((a, b) => a - b)[3]}`)
}
