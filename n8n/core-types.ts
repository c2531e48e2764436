// The JS contract of the native core (KafkaExecutionLogger) as the n8n adapters use it.
import type { ExecutionErrorInput, ExecutionInput, KafkaLoggerOptions, NodeEventInput } from 'n8n-kafka-execution-logger';

/** The log calls' inputs and the constructor's options, as the package declares them (index.d.ts). */
export type { ExecutionErrorInput as ErrorInput, ExecutionInput, KafkaLoggerOptions, NodeEventInput };

export interface DiagnosticsLogger {
  warn(message: string): void;
  error(message: string): void;
  info(message: string): void;
  debug(message: string): void;
}

export interface HealthSnapshot {
  status: string;
  circuitBreaker: { state: string };
  queue: { depth: number; capacity: number; bytes?: number; maxBytes?: number };
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

export interface KafkaLoggerClass {
  new (options?: KafkaLoggerOptions): KafkaLoggerLike;
  isConfigured(env?: Record<string, string | undefined>): boolean;
}
