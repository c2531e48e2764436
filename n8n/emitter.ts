// Turns n8n hook calls into core log calls: maps synchronously, keeps per-execution order, adds cached tags; never throws, never awaits the network.
import type { DiagnosticsLogger, ExecutionInput, KafkaLoggerLike } from './core-types';
import { lookupExecutionMeta } from './execution-meta';
import type { N8nHost } from './host';
import { dig, mapFinish, mapNode, mapStart, str, type ExecutionMeta } from './mapping';
import { Ownership } from './ownership';
import { TagCache } from './tags';

export type EventKind = 'started' | 'resumed' | 'finished' | 'node';

export interface EmitterOptions {
  host: N8nHost;
  core: KafkaLoggerLike;
  log: DiagnosticsLogger;
  nodeEvents: boolean;
  /** Called once per event handed to the core (accepted = the core's boolean). */
  onEvent?: (kind: EventKind, status: string, accepted: boolean) => void;
  /** Flush before returning from the end handler (short-lived `n8n execute` process). */
  flushOnFinishMs?: number;
}

export class ExecutionEvents {
  readonly ownership: Ownership;
  private readonly tags: TagCache;
  private readonly chains = new Map<string, Promise<void>>();
  private readonly byRunData = new WeakMap<object, string>();
  private readonly byWorkflow = new WeakMap<object, Set<string>>();
  /** Each running execution's IRunExecutionData, whose runData gives a Node Started its run index. */
  private readonly runsOf = new Map<string, object>();
  private failures = 0;

  constructor(private readonly o: EmitterOptions) {
    this.tags = new TagCache(o.host);
    this.ownership = new Ownership(
      () => o.host.executionsMode() === 'queue',
      () => o.host.instanceType(),
    );
  }

  /** workflowExecuteBefore: {workflow, workflowInstance, executionData, executionId}. */
  onBefore(ctx: unknown): void {
    this.guard('workflowExecuteBefore', () => {
      const id = str(dig(ctx, 'executionId'));
      if (!id || !this.ownership.claimStart(id, dig(ctx, 'workflowInstance'))) return;
      if (!this.ownership.once(`${id}:start`)) return;
      this.track(id, ctx);
      const meta = lookupExecutionMeta(this.o.host, id);
      const input = mapStart({ executionId: id, workflow: dig(ctx, 'workflow'), executionData: dig(ctx, 'executionData'), meta });
      this.send('started', id, dig(ctx, 'workflow'), input);
    });
  }

  /** workflowExecuteResume: a waiting execution continues. */
  onResume(ctx: unknown): void {
    this.guard('workflowExecuteResume', () => {
      const id = str(dig(ctx, 'executionId'));
      if (!id || !this.ownership.claimStart(id, dig(ctx, 'workflowInstance'))) return;
      this.track(id, ctx);
      const meta: ExecutionMeta = { ...lookupExecutionMeta(this.o.host, id), startedAt: undefined };
      const input = mapStart({ executionId: id, workflow: dig(ctx, 'workflow'), executionData: dig(ctx, 'executionData'), meta });
      this.send('resumed', id, dig(ctx, 'workflow'), input);
    });
  }

  /** workflowExecuteAfter: {workflow, runData: IRun, executionId}. Returns a promise only when it must flush (CLI). */
  onAfter(ctx: unknown): Promise<void> | void {
    let pending: Promise<void> | void = undefined;
    this.guard('workflowExecuteAfter', () => {
      const id = str(dig(ctx, 'executionId'));
      const run = dig(ctx, 'runData');
      if (!id || !this.ownership.claimEnd(id, run)) return;
      const status = str(dig(run, 'status')) ?? 'unknown';
      if (!this.ownership.once(`${id}:end:${status}`)) return;
      this.untrack(id, ctx);
      const meta = lookupExecutionMeta(this.o.host, id);
      const input = mapFinish({ executionId: id, workflow: dig(ctx, 'workflow'), run, meta });
      this.send('finished', id, dig(ctx, 'workflow'), input);
      if (this.o.flushOnFinishMs) pending = this.flushAfter(id, this.o.flushOnFinishMs);
    });
    return pending;
  }

  /** EventService 'workflow-pre-execute' {executionId, data}: covers sub-executions, which get no lifecycle handlers. */
  onEventPreExecute(payload: unknown): void {
    this.guard('workflow-pre-execute', () => {
      const id = str(dig(payload, 'executionId'));
      if (!id) return;
      const meta = lookupExecutionMeta(this.o.host, id);
      if (meta.mode !== 'integrated') return;
      if (!this.ownership.once(`${id}:start`)) return;
      const workflow = dig(payload, 'data');
      const input = mapStart({ executionId: id, workflow, meta });
      this.send('started', id, workflow, input);
    });
  }

  /** EventService 'workflow-post-execute' {executionId, runData, workflow, userId}: end of sub-executions. */
  onEventPostExecute(payload: unknown): void {
    this.guard('workflow-post-execute', () => {
      const id = str(dig(payload, 'executionId'));
      const run = dig(payload, 'runData');
      if (!id || str(dig(run, 'mode')) !== 'integrated') return;
      const status = str(dig(run, 'status')) ?? 'unknown';
      if (!this.ownership.once(`${id}:end:${status}`)) return;
      const meta = { ...lookupExecutionMeta(this.o.host, id), userId: str(dig(payload, 'userId')) };
      const input = mapFinish({ executionId: id, workflow: dig(payload, 'workflow'), run, meta });
      this.send('finished', id, dig(payload, 'workflow'), input);
    });
  }

  /** nodeExecuteBefore {workflow, nodeName, taskData} and nodeExecuteAfter {..., executionData}. */
  onNode(ctx: unknown, phase: 'before' | 'after'): void {
    if (!this.o.nodeEvents) return;
    this.guard(phase === 'before' ? 'nodeExecuteBefore' : 'nodeExecuteAfter', () => {
      const id = str(dig(ctx, 'executionId')) ?? this.executionIdOfNode(ctx);
      if (!id) return;
      // nodeExecuteAfter hands the run data; a Before has only what the execution's start (or a node's end) left
      const given = dig(ctx, 'executionData');
      if (given && typeof given === 'object') this.keepRuns(id, given);
      const executionData = given ?? this.runsOf.get(id);
      const input = mapNode({ executionId: id, workflow: dig(ctx, 'workflow'), nodeName: dig(ctx, 'nodeName'), taskData: dig(ctx, 'taskData'), executionData, phase });
      this.send('node', id, dig(ctx, 'workflow'), input);
    });
  }

  /** workflow.postExecute(run, workflowData, executionId): the fallback when lifecycle handlers cannot be registered. */
  onPostExecute(run: unknown, workflow: unknown, executionId: unknown): Promise<void> | void {
    let pending: Promise<void> | void = undefined;
    this.guard('workflow.postExecute', () => {
      const id = str(executionId);
      if (!id) return;
      // a queue-mode main sees the slim result of a worker's job (jobId): the worker reports that one
      if (this.o.host.executionsMode() === 'queue' && this.o.host.instanceType() !== 'worker' && dig(run, 'jobId') !== undefined) return;
      const status = str(dig(run, 'status')) ?? 'unknown';
      const meta = lookupExecutionMeta(this.o.host, id);
      if (this.ownership.once(`${id}:start`)) {
        const start = mapStart({ executionId: id, workflow, executionData: dig(run, 'data'), meta: { ...meta, startedAt: dig(run, 'startedAt') } });
        this.send('started', id, workflow, start);
      }
      if (!this.ownership.once(`${id}:end:${status}`)) return;
      this.send('finished', id, workflow, mapFinish({ executionId: id, workflow, run, meta }));
      if (this.o.flushOnFinishMs) pending = this.flushAfter(id, this.o.flushOnFinishMs);
    });
    return pending;
  }

  /** Resolves when every event handed over so far has reached the core (tag reads included). */
  async settled(): Promise<void> {
    await Promise.allSettled([...this.chains.values()]);
  }

  private track(id: string, ctx: unknown): void {
    const runData = dig(ctx, 'executionData');
    if (runData && typeof runData === 'object') {
      this.byRunData.set(runData, id);
      this.keepRuns(id, runData);
    }
    const wf = dig(ctx, 'workflow');
    if (wf && typeof wf === 'object') {
      const set = this.byWorkflow.get(wf) ?? new Set<string>();
      set.add(id);
      this.byWorkflow.set(wf, set);
    }
  }

  /** Bounded like Ownership's memory: an execution whose end this process never sees must not pin its data. */
  private keepRuns(id: string, executionData: object): void {
    if (this.runsOf.get(id) === executionData) return;
    this.runsOf.delete(id);
    if (this.runsOf.size >= 10_000) this.runsOf.delete(this.runsOf.keys().next().value as string);
    this.runsOf.set(id, executionData);
  }

  private untrack(id: string, ctx: unknown): void {
    this.runsOf.delete(id);
    const wf = dig(ctx, 'workflow');
    if (wf && typeof wf === 'object') this.byWorkflow.get(wf)?.delete(id);
  }

  /** The execution a node event belongs to: exact by run data object, else by workflow object when unambiguous. */
  private executionIdOfNode(ctx: unknown): string | undefined {
    const runData = dig(ctx, 'executionData');
    if (runData && typeof runData === 'object') {
      const id = this.byRunData.get(runData);
      if (id) return id;
    }
    const wf = dig(ctx, 'workflow');
    const ids = wf && typeof wf === 'object' ? this.byWorkflow.get(wf) : undefined;
    return ids && ids.size === 1 ? ids.values().next().value : undefined;
  }

  private send(kind: EventKind, id: string, workflow: unknown, input: ExecutionInput | undefined): void {
    if (!input) {
      this.o.onEvent?.(kind, 'unmapped', false);
      return;
    }
    const deliver = (tags: string[] | undefined) => {
      if (tags && tags.length > 0 && !input.tags) input.tags = tags; // the input is this event's own object
      let accepted = false;
      try {
        if (kind === 'started') accepted = this.o.core.logWorkflowStarted(input);
        else if (kind === 'resumed') accepted = this.o.core.logWorkflowResumed(input);
        else if (kind === 'finished') accepted = this.o.core.logWorkflowFinished(input);
        else if (typeof this.o.core.logNodeEvent === 'function') accepted = this.o.core.logNodeEvent(input as never);
      } catch (e) {
        this.report('core', e);
      }
      this.o.onEvent?.(kind, kind === 'finished' ? input.status ?? 'unknown' : kind, accepted);
    };
    const own = TagCache.fromWorkflow(workflow);
    const cached = own && own.length > 0 ? own : this.tags.peek(input.workflowId);
    const chain = this.chains.get(id);
    if (cached && !chain) {
      deliver(cached);
      return;
    }
    // first event of a workflow whose tags are not cached: read them off the hot path, keep this execution's order
    const next: Promise<void> = (chain ?? Promise.resolve())
      .then(() => (cached ? cached : this.tags.load(input.workflowId)))
      .then(deliver, () => deliver(undefined))
      .finally(() => {
        if (this.chains.get(id) === next) this.chains.delete(id);
      });
    this.chains.set(id, next);
  }

  private async flushAfter(id: string, timeoutMs: number): Promise<void> {
    try {
      await this.chains.get(id);
      await this.o.core.flush(timeoutMs);
    } catch (e) {
      this.report('flush', e);
    }
  }

  private guard(where: string, fn: () => void): void {
    try {
      fn();
    } catch (e) {
      this.report(where, e);
    }
  }

  private report(where: string, e: unknown): void {
    this.failures++;
    if (this.failures <= 5 || this.failures % 1000 === 0) {
      try {
        this.o.log.warn(`[kafka-logger] ${where} handler skipped an event (${this.failures} so far): ${String((e as Error)?.message ?? e)}`);
      } catch {
        /* a logger failure must not reach n8n either */
      }
    }
  }
}
