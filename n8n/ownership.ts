// Queue-mode dedup rule: workers emit what they run; main/webhook emit only what they run themselves (and crash recoveries).
import { dig, str } from './mapping';

export class Ownership {
  private readonly owned = new Set<string>();
  private readonly emitted = new Set<string>();

  constructor(
    private readonly isQueueMode: () => boolean,
    private readonly instanceType: () => string | undefined,
    private readonly maxRemembered = 20_000,
  ) {}

  private get emitsAll(): boolean {
    return !this.isQueueMode() || this.instanceType() === 'worker';
  }

  /**
   * A start seen in this process. On a queue-mode main, n8n runs workflowExecuteBefore with no Workflow instance
   * when it only enqueues the job (the worker runs it): that one is not ours.
   */
  claimStart(executionId: string, workflowInstance: unknown): boolean {
    if (this.emitsAll) return true;
    if (workflowInstance === undefined || workflowInstance === null) return false;
    this.owned.add(executionId);
    return true;
  }

  /** An end seen in this process: ours if we started it here, or a crash recovery (no worker job behind it). */
  claimEnd(executionId: string, run: unknown): boolean {
    if (this.emitsAll) return true;
    if (this.owned.delete(executionId)) return true;
    return str(dig(run, 'status')) === 'crashed' && dig(run, 'jobId') === undefined;
  }

  /** At most one event per key (start, or end per status) across the lifecycle and event-service paths. */
  once(key: string): boolean {
    if (this.emitted.has(key)) return false;
    if (this.emitted.size >= this.maxRemembered) {
      const oldest = this.emitted.values().next().value;
      if (oldest !== undefined) this.emitted.delete(oldest);
    }
    this.emitted.add(key);
    return true;
  }
}
