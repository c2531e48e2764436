// A stand-in for n8n's process in restart tests: logs events, reports health, shuts down on SIGTERM.
// Usage: node host.mjs '<options JSON>' <count> <prefix> <first event time ms>   (prints JSON lines: ready, health, result)
import { createRequire } from 'node:module'

const { KafkaExecutionLogger } = createRequire(import.meta.url)('../../index.js')
const [options, count, prefix, base] = [JSON.parse(process.argv[2]), Number(process.argv[3]), process.argv[4], Number(process.argv[5])]
const say = (type, data) => console.log(JSON.stringify({ type, ...data }))

const logger = new KafkaExecutionLogger({ ...options, logger: {} })
await logger.initialize()
for (let i = 0; i < count; i++) {
  logger.logWorkflowStarted({ executionId: `${prefix}-${i}`, workflowId: 'w', startedAt: base + i })
}
say('ready', { health: logger.getHealthMetrics() })
setInterval(() => say('health', { health: logger.getHealthMetrics() }), 200)
process.on('SIGTERM', async () => {
  say('result', { result: await logger.shutdown(3000) })
  process.exit(0)
})
