// The JS contract of the native core (KafkaExecutionLogger) as the n8n adapters use it.
import type { ExecutionErrorInput, ExecutionInput, HealthSnapshot as CoreHealthSnapshot, KafkaLoggerOptions, NodeEventInput } from 'n8n-kafka-execution-logger';

/** The log calls' inputs and the constructor's options, as the package declares them (index.d.ts). */
export type { ExecutionErrorInput as ErrorInput, ExecutionInput, KafkaLoggerOptions, NodeEventInput };

export interface DiagnosticsLogger {
  warn(message: string): void;
  error(message: string): void;
  info(message: string): void;
  debug(message: string): void;
}

/** The core's health snapshot (index.d.ts), as the adapters serve it: with how this process reaches n8n. */
export type HealthSnapshot = CoreHealthSnapshot & {
  /** Added by the n8n adapters: how this process reaches n8n's execution lifecycle (n8n/wiring.ts). */
  wiring?: { mechanism: string; proof: string; notUsed: string[] };
};

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
