// Pure mapping of n8n execution data (workflowData, IRunExecutionData, IRun, task data) to the core's input; never throws.
import type { ErrorInput, ExecutionInput, NodeEventInput } from './core-types';

/** What the host knows about an execution besides the hook arguments (ActiveExecutions, job processor). */
export interface ExecutionMeta {
  mode?: string;
  retryOf?: string;
  userId?: string;
  startedAt?: unknown;
  parentExecutionId?: string;
}

type Obj = Record<string, unknown>;

/** Reads obj[k1][k2]...; undefined on any missing link or throwing getter/proxy. */
export function dig(obj: unknown, ...keys: string[]): unknown {
  let cur: unknown = obj;
  for (const k of keys) {
    if (cur === null || (typeof cur !== 'object' && typeof cur !== 'function')) return undefined;
    try {
      cur = (cur as Obj)[k];
    } catch {
      return undefined;
    }
  }
  return cur;
}

export function str(v: unknown): string | undefined {
  if (typeof v === 'string') return v.length > 0 ? v : undefined;
  if (typeof v === 'number' && Number.isFinite(v)) return String(v);
  return undefined;
}

/** A valid Date from a Date, ISO string or epoch ms; undefined otherwise. */
export function toDate(v: unknown): Date | undefined {
  try {
    if (v instanceof Date) return Number.isNaN(v.getTime()) ? undefined : new Date(v.getTime());
    if (typeof v === 'number' || typeof v === 'string') {
      const d = new Date(v);
      return Number.isNaN(d.getTime()) ? undefined : d;
    }
  } catch {
    /* fall through */
  }
  return undefined;
}

function nodesOf(workflow: unknown): Obj[] {
  const nodes = dig(workflow, 'nodes');
  if (!Array.isArray(nodes)) return [];
  try {
    return nodes.filter((n): n is Obj => n !== null && typeof n === 'object');
  } catch {
    return [];
  }
}

function findNode(workflow: unknown, name: string | undefined): Obj | undefined {
  if (!name) return undefined;
  const nodes = dig(workflow, 'nodes');
  if (!Array.isArray(nodes)) return undefined;
  // A loop, not nodesOf(): no array and closure per call (it runs on every start and end event).
  try {
    for (const n of nodes) if (n !== null && typeof n === 'object' && dig(n, 'name') === name) return n as Obj;
  } catch {
    // a proxy or throwing getter in place of the array: no node
  }
  return undefined;
}

/** The n8n node type (`n8n-nodes-base.scheduleTrigger`) of the workflow's node named `name`. */
function nodeTypeOf(workflow: unknown, name: string | undefined): string | undefined {
  return str(dig(findNode(workflow, name), 'type'));
}

/** Copies the defined values only, so the core never sees `undefined` keys. */
function compact<T extends object>(o: T): T {
  const out: Obj = {};
  for (const [k, v] of Object.entries(o)) if (v !== undefined) out[k] = v;
  return out as T;
}

function runtimeData(executionData: unknown): unknown {
  return dig(executionData, 'executionData', 'runtimeData');
}

/** Name of the node that started the execution: runtime context, then the start of the stack, then a trigger-like node. */
export function triggerNodeOf(workflow: unknown, executionData: unknown): string | undefined {
  const runtime = runtimeData(executionData);
  // a sub-execution's runtime context is inherited from its parent, trigger node included: not ours
  const inherited = dig(executionData, 'parentExecution') !== undefined || dig(runtime, 'parentExecutionId') !== undefined;
  const fromRuntime = inherited ? undefined : str(dig(runtime, 'triggerNode', 'name'));
  if (fromRuntime) return fromRuntime;
  const stack = dig(executionData, 'executionData', 'nodeExecutionStack');
  if (Array.isArray(stack) && stack.length > 0) {
    const first = str(dig(stack[0], 'node', 'name'));
    if (first) return first;
  }
  const trigger = nodesOf(workflow).find((n) => {
    const type = str(dig(n, 'type')) ?? '';
    return /trigger$/i.test(type) || /\.(webhook|formTrigger|start)$/i.test(type);
  });
  return str(dig(trigger, 'name'));
}

/**
 * The execution that started this one: the run's own link, 2.x's runtime context, else the start item's metadata
 * (n8n 1.x hands an error workflow's run the failed execution only there, and keeps it in the trigger node's task
 * data once the stack is consumed).
 */
export function parentExecutionIdOf(executionData: unknown, triggerNode?: string): string | undefined {
  const stack = dig(executionData, 'executionData', 'nodeExecutionStack');
  const startItem = Array.isArray(stack) && stack.length > 0 ? stack[0] : undefined;
  const task = triggerNode ? dig(executionData, 'resultData', 'runData', triggerNode, '0') : undefined;
  return (
    str(dig(executionData, 'parentExecution', 'executionId')) ??
    str(dig(runtimeData(executionData), 'parentExecutionId')) ??
    str(dig(startItem, 'metadata', 'parentExecution', 'executionId')) ??
    str(dig(task, 'metadata', 'parentExecution', 'executionId'))
  );
}

/**
 * One class for every execution event, all fields set (undefined when unknown): every input the adapters hand the
 * core has the same shape, so its field reads stay monomorphic. The core treats undefined as absent.
 */
class Execution implements ExecutionInput {
  readonly executionId: string;
  readonly workflowId: string;
  readonly workflowName: string | undefined;
  readonly workflowVersionId: string | undefined;
  readonly nodeCount: number | undefined;
  mode: string | undefined = undefined;
  status: string | undefined = undefined;
  startedAt: Date | undefined = undefined;
  stoppedAt: Date | undefined = undefined;
  retryOf: string | undefined = undefined;
  parentExecutionId: string | undefined = undefined;
  triggerNode: string | undefined = undefined;
  triggerNodeType: string | undefined = undefined;
  userId: string | undefined = undefined;
  tags: string[] | undefined = undefined;
  error: ErrorInput | undefined = undefined;

  constructor(executionId: string, workflow: unknown) {
    const nodes = dig(workflow, 'nodes');
    this.executionId = executionId;
    this.workflowId = str(dig(workflow, 'id')) ?? 'unknown';
    this.workflowName = str(dig(workflow, 'name'));
    this.workflowVersionId = str(dig(workflow, 'versionId'));
    this.nodeCount = Array.isArray(nodes) ? nodes.length : undefined;
  }
}

function baseInput(executionId: unknown, workflow: unknown): Execution | undefined {
  const id = str(executionId);
  return id ? new Execution(id, workflow) : undefined;
}

function errorFrom(raw: unknown): ErrorInput {
  if (raw === null || raw === undefined) return {};
  if (typeof raw !== 'object') return { message: String(raw) };
  let name = str(dig(raw, 'name'));
  if (!name) {
    const ctor = str(dig(raw, 'constructor', 'name'));
    if (ctor && ctor !== 'Object') name = ctor;
  }
  const description = str(dig(raw, 'description'));
  return compact({
    message: str(dig(raw, 'message')) ?? description ?? 'Unknown error',
    name,
    stack: str(dig(raw, 'stack')),
  });
}

function taskError(runData: unknown, nodeName: string): unknown {
  const tasks = dig(runData, nodeName);
  if (!Array.isArray(tasks)) return undefined;
  for (let i = tasks.length - 1; i >= 0; i--) {
    const e = dig(tasks[i], 'error');
    if (e) return e;
  }
  return undefined;
}

/** The run's error with the failing node: error.node, then lastNodeExecuted's task error, then any task error. */
export function errorOf(run: unknown, workflow: unknown): ErrorInput | undefined {
  try {
    const resultData = dig(run, 'data', 'resultData');
    const runData = dig(resultData, 'runData');
    let raw = dig(resultData, 'error');
    let nodeName = str(dig(raw, 'node', 'name')) ?? str(dig(raw, 'nodeName'));
    const last = str(dig(resultData, 'lastNodeExecuted'));
    if (!nodeName && last && taskError(runData, last)) nodeName = last;
    if (!nodeName && runData && typeof runData === 'object') {
      for (const name of Object.keys(runData as Obj)) {
        if (taskError(runData, name)) {
          nodeName = name;
          break;
        }
      }
    }
    if (!raw && nodeName) raw = taskError(runData, nodeName);
    if (!raw && !nodeName) return undefined;
    const node = findNode(workflow, nodeName);
    return compact({
      ...errorFrom(raw),
      nodeName,
      nodeId: str(dig(raw, 'node', 'id')) ?? str(dig(node, 'id')),
      nodeType: str(dig(raw, 'node', 'type')) ?? str(dig(node, 'type')),
    });
  } catch {
    return undefined;
  }
}

/** n8n's final status, derived the way n8n does when the run does not carry one. */
export function statusOf(run: unknown): string {
  const status = str(dig(run, 'status'));
  if (status) return status;
  if (dig(run, 'waitTill')) return 'waiting';
  if (dig(run, 'data', 'resultData', 'error')) return 'error';
  return dig(run, 'finished') === true ? 'success' : 'unknown';
}

export interface StartArgs {
  executionId: unknown;
  workflow: unknown;
  executionData?: unknown;
  meta?: ExecutionMeta;
  tags?: string[];
  now?: Date;
}

/** Input for Started / Resumed from a workflowExecuteBefore/Resume context. */
export function mapStart(a: StartArgs): ExecutionInput | undefined {
  try {
    const input = baseInput(a.executionId, a.workflow);
    if (!input) return undefined;
    const meta = a.meta ?? {};
    input.mode = meta.mode ?? str(dig(runtimeData(a.executionData), 'source'));
    input.startedAt = toDate(meta.startedAt) ?? a.now ?? new Date();
    input.retryOf = str(meta.retryOf);
    input.parentExecutionId = parentExecutionIdOf(a.executionData) ?? str(meta.parentExecutionId);
    input.triggerNode = triggerNodeOf(a.workflow, a.executionData);
    input.triggerNodeType = nodeTypeOf(a.workflow, input.triggerNode);
    input.userId = str(meta.userId);
    if (a.tags && a.tags.length > 0) input.tags = a.tags;
    return input;
  } catch {
    return undefined;
  }
}

export interface FinishArgs {
  executionId: unknown;
  workflow: unknown;
  run: unknown;
  meta?: ExecutionMeta;
  tags?: string[];
  now?: Date;
}

/** Input for the end event (Completed / Failed / Cancelled / Waiting) from an IRun. */
export function mapFinish(a: FinishArgs): ExecutionInput | undefined {
  try {
    const input = baseInput(a.executionId, a.workflow);
    if (!input) return undefined;
    const meta = a.meta ?? {};
    const data = dig(a.run, 'data');
    const status = statusOf(a.run);
    input.mode = str(dig(a.run, 'mode')) ?? meta.mode;
    input.status = status;
    input.startedAt = toDate(dig(a.run, 'startedAt')) ?? toDate(meta.startedAt);
    input.stoppedAt = toDate(dig(a.run, 'stoppedAt')) ?? a.now ?? new Date();
    input.retryOf = str(meta.retryOf);
    input.triggerNode = triggerNodeOf(a.workflow, data);
    input.triggerNodeType = nodeTypeOf(a.workflow, input.triggerNode);
    input.parentExecutionId = parentExecutionIdOf(data, input.triggerNode) ?? str(meta.parentExecutionId);
    input.userId = str(meta.userId) ?? str(dig(data, 'manualData', 'userId'));
    if (a.tags && a.tags.length > 0) input.tags = a.tags;
    if (status !== 'success' && status !== 'waiting') input.error = errorOf(a.run, a.workflow);
    return input;
  } catch {
    return undefined;
  }
}

export interface NodeArgs {
  executionId: unknown;
  workflow: unknown;
  nodeName: unknown;
  taskData?: unknown;
  /** n8n's IRunExecutionData of the execution (nodeExecuteAfter's third argument; the one workflowExecuteBefore had). */
  executionData?: unknown;
  phase: 'before' | 'after';
  now?: Date;
}

/**
 * Which run of `nodeName` this is: its index in n8n's runData[nodeName] (1.104 to 2.4x). Before the run, the
 * runs stored so far (how n8n counts it: `runIndex = runData[node].length`). After it, n8n has stored the task:
 * its place, found by identity or, where n8n merged it into an entry made earlier (2.x tool runs), by the
 * task's executionIndex. Undefined without the run data.
 */
export function runIndexOf(executionData: unknown, nodeName: string, taskData: unknown, phase: 'before' | 'after'): number | undefined {
  const runData = dig(executionData, 'resultData', 'runData');
  if (runData === null || typeof runData !== 'object') return undefined;
  const runs = dig(runData, nodeName);
  if (phase === 'before') return Array.isArray(runs) ? runs.length : 0;
  if (!Array.isArray(runs)) return undefined;
  const executionIndex = dig(taskData, 'executionIndex');
  try {
    for (let i = runs.length - 1; i >= 0; i--) {
      if (runs[i] === taskData || (typeof executionIndex === 'number' && dig(runs[i], 'executionIndex') === executionIndex)) return i;
    }
  } catch {
    // a proxy or throwing getter in place of the runs: no index
  }
  return undefined;
}

/** Input for Node Started / Completed / Failed from a nodeExecuteBefore/After context. */
export function mapNode(a: NodeArgs): NodeEventInput | undefined {
  try {
    const base = baseInput(a.executionId, a.workflow);
    const nodeName = str(a.nodeName);
    if (!base || !nodeName) return undefined;
    const node = findNode(a.workflow, nodeName);
    const startedAt = toDate(dig(a.taskData, 'startTime')) ?? (a.phase === 'before' ? a.now ?? new Date() : undefined);
    const took = dig(a.taskData, 'executionTime');
    const rawError = a.phase === 'after' ? dig(a.taskData, 'error') : undefined;
    const event = a.phase === 'before' ? 'started' : rawError ? 'failed' : 'completed';
    const stoppedAt =
      a.phase === 'after'
        ? (startedAt && typeof took === 'number' && took >= 0 ? new Date(startedAt.getTime() + took) : a.now ?? new Date())
        : undefined;
    return compact({
      ...base,
      nodeName,
      nodeId: str(dig(node, 'id')),
      nodeType: str(dig(node, 'type')),
      runIndex: runIndexOf(a.executionData, nodeName, a.taskData, a.phase),
      event,
      status: event === 'started' ? undefined : event === 'failed' ? 'error' : 'success',
      startedAt,
      stoppedAt,
      error: rawError ? compact({ ...errorFrom(rawError), nodeName, nodeId: str(dig(node, 'id')), nodeType: str(dig(node, 'type')) }) : undefined,
    }) as NodeEventInput;
  } catch {
    return undefined;
  }
}
