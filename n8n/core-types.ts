// The JS contract of the native core (KafkaExecutionLogger) as the n8n adapters use it.

export type ExecutionStatus = 'success' | 'error' | 'crashed' | 'canceled' | 'waiting' | 'unknown' | string;

export interface ErrorInput {
  message?: string;
  name?: string;
  stack?: string;
  nodeName?: string;
  nodeId?: string;
  nodeType?: string;
}

export interface ExecutionInput {
  executionId: string;
  workflowId: string;
  workflowName?: string;
  mode?: string;
  status?: ExecutionStatus;
  startedAt?: Date | string | number;
  stoppedAt?: Date | string | number;
  nodeCount?: number;
  retryOf?: string;
  parentExecutionId?: string;
  triggerNode?: string;
  /** The n8n node type of triggerNode; MESSAGE_FORMAT=fork derives the fork's trigger_type (`schedule`) from it. */
  triggerNodeType?: string;
  workflowVersionId?: string;
  tags?: string[];
  userId?: string;
  error?: ErrorInput;
  dimensions?: Record<string, string>;
  metrics?: Record<string, number>;
  flags?: Record<string, boolean>;
}

export interface NodeEventInput extends ExecutionInput {
  nodeName: string;
  nodeType?: string;
  nodeId?: string;
  event: 'started' | 'completed' | 'failed';
}

export interface DiagnosticsLogger {
  warn(message: string): void;
  error(message: string): void;
  info(message: string): void;
  debug(message: string): void;
}

export interface HealthSnapshot {
  status: string;
  circuitBreaker: { state: string };
  queue: { depth: number; capacity: number };
  counters: { accepted: number; delivered: number; failed: number; retried: number; dropped: number; rejected: number };
  lastError?: { kind?: string; message?: string; at?: string };
  deliveryLatencyMs?: { p50?: number; p99?: number; count?: number; sum?: number; buckets?: Array<{ le: number; count: number }> };
  brokers?: unknown[];
  spool?: { enabled: boolean; bytes?: number; records?: number; oldestAgeMs?: number | null; replayed?: number; corrupted?: number; refused?: number };
  uptimeMs?: number;
  config?: Record<string, unknown>;
  /** Added by the n8n adapters: how this process reaches n8n's execution lifecycle (n8n/wiring.ts). */
  wiring?: { mechanism: string; proof: string; notUsed: string[] };
  [key: string]: unknown;
}

export interface KafkaLoggerLike {
  initialize(): Promise<void>;
  logWorkflowStarted(input: ExecutionInput): boolean;
  logWorkflowResumed(input: ExecutionInput): boolean;
  logWorkflowFinished(input: ExecutionInput): boolean;
  logNodeEvent?(input: NodeEventInput): boolean;
  getHealthMetrics(): HealthSnapshot;
  flush(timeoutMs?: number): Promise<{ delivered: number; pending: number }>;
  shutdown(timeoutMs?: number): Promise<{ delivered: number; pending: number; dropped: number }>;
}

export interface KafkaLoggerOptions {
  logger?: DiagnosticsLogger;
  instanceId?: string;
  instanceType?: string;
  n8nVersion?: string;
  environment?: string;
  [key: string]: unknown;
}

export interface KafkaLoggerClass {
  new (options?: KafkaLoggerOptions): KafkaLoggerLike;
  isConfigured(env?: NodeJS.ProcessEnv): boolean;
}
