// In-memory lookups of what the hook contexts lack (mode, retryOf, userId, startedAt) from n8n's ActiveExecutions or the worker's running jobs.
import type { N8nHost } from './host';
import { dig, str, type ExecutionMeta } from './mapping';

export function lookupExecutionMeta(host: N8nHost, executionId: unknown): ExecutionMeta {
  const id = str(executionId);
  if (!id) return {};
  try {
    const active = dig(host.service('dist/active-executions.js', 'ActiveExecutions'), 'activeExecutions', id);
    if (active) {
      const data = dig(active, 'executionData');
      return {
        mode: str(dig(data, 'executionMode')),
        retryOf: str(dig(data, 'retryOf')),
        userId: str(dig(data, 'userId')),
        startedAt: dig(active, 'startedAt'),
        parentExecutionId: str(dig(data, 'executionData', 'parentExecution', 'executionId')),
      };
    }
    if (host.instanceType() === 'worker') {
      const jobs = dig(host.service('dist/scaling/job-processor.js', 'JobProcessor'), 'runningJobs');
      if (jobs && typeof jobs === 'object') {
        for (const job of Object.values(jobs as Record<string, unknown>)) {
          if (str(dig(job, 'executionId')) === id) {
            return { mode: str(dig(job, 'mode')), retryOf: str(dig(job, 'retryOf')), startedAt: dig(job, 'startedAt') };
          }
        }
      }
    }
  } catch {
    /* fall through */
  }
  return {};
}
