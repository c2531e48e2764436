/* The shapes the native class accepts and returns; prepended to the generated index.d.ts by `napi build`. */

/** A Date, an ISO-8601 string or epoch milliseconds. */
export type TimeInput = Date | string | number

/** Options override the N8N_KAFKA_LOGGER_* environment; strings, numbers and booleans are read as env text. */
export interface KafkaLoggerOptions {
  enabled?: boolean | string
  /** A comma-separated string or a list of host:port. */
  brokers?: string | string[]
  clientId?: string
  topic?: string
  ssl?: boolean | string
  /** File path or inline PEM. */
  sslCa?: string
  sslCert?: string
  sslKey?: string
  sslKeyPassword?: string
  sslVerify?: boolean | string
  authEnabled?: boolean | string
  username?: string
  password?: string
  saslMechanism?: 'plain' | 'scram-sha-256' | 'scram-sha-512'
  queueMaxSize?: number | string
  /** Bytes the queued events may hold (default 64 MiB); over it the oldest are dropped and counted. */
  queueMaxBytes?: number | string
  queueBatchSize?: number | string
  queueFlushInterval?: number | string
  cbFailureThreshold?: number | string
  cbResetTimeout?: number | string
  cbMonitoringPeriod?: number | string
  timeoutConnect?: number | string
  timeoutSend?: number | string
  timeoutDisconnect?: number | string
  acks?: 'all' | '1' | '0' | number
  compression?: 'none' | 'gzip' | 'snappy' | 'lz4' | 'zstd'
  lingerMs?: number | string
  idempotent?: boolean | string
  maxMessageBytes?: number | string
  validateOnStartup?: boolean | string
  durability?: 'memory' | 'disk'
  /** Base directory of the disk spool, or 'off'. */
  spoolDir?: string
  spoolMaxBytes?: number | string
  spoolSyncInterval?: number | string
  /** Dead-letter topic, or 'off'; default `<topic>.dlq`. */
  dlqTopic?: string
  environment?: string
  /** n8n's instance id: the anonymousId of events without a user, and the messageId seed. */
  instanceId?: string
  instanceType?: 'main' | 'worker' | 'webhook'
  n8nVersion?: string
  nodeEvents?: boolean | string
  /** 'fork': also every field the fork's logger wrote (docs/migrating-from-the-fork.md). */
  messageFormat?: 'current' | 'fork'
  /** Record key: the execution id (default) or the messageId. */
  key?: 'execution' | 'message'
  /** What of a failed run's error events carry: 'full' (message and stack, default), 'message', 'type' (no free text). */
  errorDetail?: 'full' | 'message' | 'type'
  /** Regular expressions hidden as [redacted] in an error's message, stack and name: an array, or its JSON text. */
  redact?: string[] | string
  healthToken?: string
  /** Any librdkafka property, e.g. { 'socket.keepalive.enable': true }. */
  rdkafka?: Record<string, string | number | boolean>
  /** Receives the core's diagnostics on the JS thread; default: stderr for warn and error. */
  logger?: Partial<Record<'error' | 'warn' | 'info' | 'debug', (message: string) => void>>
}

export interface ExecutionErrorInput {
  message?: string
  name?: string
  stack?: string
  nodeName?: string
  nodeId?: string
  nodeType?: string
}

export interface ExecutionInput {
  executionId: string
  workflowId: string
  workflowName?: string
  mode?: string
  /** n8n's: success, error, crashed, canceled, waiting, unknown. Decides the end event's name. */
  status?: string
  startedAt?: TimeInput
  stoppedAt?: TimeInput
  nodeCount?: number
  retryOf?: string
  parentExecutionId?: string
  /** The node that started the run. */
  triggerNode?: string
  /**
   * Its n8n node type, e.g. `n8n-nodes-base.scheduleTrigger`. Only `MESSAGE_FORMAT=fork` reads it, for the fork's
   * `dimensions.trigger_type` (`schedule` for a schedule trigger); without it a named trigger node reads `trigger`.
   */
  triggerNodeType?: string
  workflowVersionId?: string
  tags?: string[]
  userId?: string
  error?: ExecutionErrorInput | string
  /** Merged into the event; keys are folded to snake_case and built-in keys win. */
  dimensions?: Record<string, string | number | boolean>
  metrics?: Record<string, number>
  flags?: Record<string, boolean>
}

export interface NodeEventInput extends ExecutionInput {
  event: 'started' | 'completed' | 'failed'
  nodeName: string
  nodeType?: string
  nodeId?: string
  /**
   * Which run of the node this is within its execution, from 0 (n8n: the node's index in `runData[nodeName]`): a
   * node in a loop runs several times. Shown as `properties.node_run_index` and part of the messageId, so the runs'
   * events stay apart when a consumer deduplicates. An integer from 0 to 2147483647.
   */
  runIndex?: number
}

export interface SettingInfo {
  env: string
  option: string
  default: string
  form: string
  secret: boolean
  description: string
}

export interface HealthSnapshot {
  status: 'healthy' | 'degraded' | 'unhealthy' | 'stopped'
  circuitBreaker: { state: 'closed' | 'open' | 'half-open' }
  /** `bytes`: what the queued events hold, roughly (their strings plus ~200 bytes each); `maxBytes`: QUEUE_MAX_BYTES. */
  queue: { depth: number; capacity: number; bytes: number; maxBytes: number; inFlight: number; retryPending: number }
  counters: {
    accepted: number
    delivered: number
    failed: number
    retried: number
    dropped: number
    rejected: number
    deadLettered: number
  }
  lastError?: { kind: string; message: string; at: string } | null
  lastRejection?: { reason: string; at: string } | null
  deliveryLatencyMs: {
    p50: number | null
    p99: number | null
    count: number
    sum: number
    buckets: Array<{ le: number; count: number }>
  }
  brokers: Array<{ name: string; state: string; rttMs: number | null }>
  spool:
    | {
        enabled: false
        /** Why the configured spool is not used (an unsafe directory, a link, a lock or I/O error); absent when it is off by configuration. */
        error?: string
      }
    | {
        enabled: true
        dir: string
        durability: 'memory' | 'disk'
        bytes: number
        records: number
        oldestAgeMs: number | null
        spooled: number
        replayed: number
        corrupted: number
        refused: number
        lastError: string | null
      }
  uptimeMs: number
  /** The configuration with every secret replaced by "[redacted]". */
  config: Record<string, unknown>
}

export interface SpoolSlotStatus {
  dir: string
  /** The pid of the process holding the slot, when one does. */
  lockedBy: number | null
  inUse: boolean
  /** The host named in the slot's lock file (its holder's, or the last holder's when it did not close cleanly). */
  host: string | null
  /** The lock file names another machine: processes here leave the slot to it. */
  claimedElsewhere: boolean
  segments: number
  segmentBytes: number
  quarantinedFiles: number
  deadLetters: number
}

/**
 * Which binding artifact the generated loader actually loaded: `'native'` for
 * a native addon, otherwise the `platformArchABI` of the WASI flavor. Every
 * flavor napi-rs can build is listed, because `NAPI_RS_NATIVE_LIBRARY_PATH`
 * can point the loader at a WASI artifact this package does not build itself.
 */
export declare const __napiBindingTarget: 'native' | 'wasm32-wasi' | 'wasm32-wasip1'

/** Streams n8n execution events to Kafka. Log calls are synchronous, never throw and never block. */
export declare class KafkaExecutionLogger {
  /** Options (camelCase) override the `N8N_KAFKA_LOGGER_*` environment. Throws `ERR_KAFKA_LOGGER_CONFIG`. */
  constructor(options?: KafkaLoggerOptions)
  /** A logger configured from `env` (default `process.env`) alone, plus optional non-Kafka options such as `logger`. */
  static fromEnv(env?: Record<string, string | undefined>, options?: KafkaLoggerOptions): KafkaExecutionLogger
  /** True when N8N_KAFKA_LOGGER_ENABLED is "true" (any letter case); without BROKERS it logs to localhost:9092. */
  static isConfigured(env?: Record<string, string | undefined>): boolean
  /** Every configuration setting: env var, option name, default, expected form and meaning. */
  static settings(): SettingInfo[]
  /**
   * Starts the background thread and the producer. Resolves even when Kafka is unreachable, unless
   * validateOnStartup is set: then it rejects with `ERR_KAFKA_LOGGER_<KIND>` (network, authentication, tls...).
   */
  initialize(): Promise<void>
  logWorkflowStarted(input: ExecutionInput): boolean
  logWorkflowResumed(input: ExecutionInput): boolean
  logWorkflowFinished(input: ExecutionInput): boolean
  /** Node Started / Completed / Failed, chosen by `input.event`. */
  logNodeEvent(input: NodeEventInput): boolean
  getHealthMetrics(): HealthSnapshot
  /** Resolves when everything accepted so far is delivered, or at the deadline (default TIMEOUT_SEND). */
  flush(timeoutMs?: number): Promise<FlushResult>
  /** Stops intake, drains and flushes within the deadline (default TIMEOUT_DISCONNECT). Idempotent. */
  shutdown(timeoutMs?: number): Promise<ShutdownResult>
}

export interface ConsumedRecord {
  partition: number
  offset: number
  timestamp?: number
  key?: string
  value?: string
  headers: Record<string, string>
}

export interface FlushResult {
  delivered: number
  pending: number
}

export interface OutgoingRecord {
  key?: string
  value: string
  headers?: Record<string, string>
  timestamp?: number
}

/** The next offset to read in a partition. */
export interface PartitionOffset {
  partition: number
  offset: number
}

/** Produces records exactly as given (key, value, headers, timestamp): the replay tool's way back to Kafka. */
export declare function produceRecords(options: KafkaLoggerOptions | undefined, topic: string, records: OutgoingRecord[], timeoutMs?: number): Promise<ProduceResult>

export interface ProduceResult {
  delivered: number
  errors: Array<string>
}

/** The dead-letter file of one spool slot, one object per line. */
export declare function readDeadLetters(dir: string): Array<Record<string, unknown>>

/** Reads a topic (from `sinceMs`, up to its end when the read began) with the logger's connection settings. */
export declare function readTopic(options: KafkaLoggerOptions | undefined, query: ReadTopicQuery): Promise<TopicRead>

export interface ReadTopicQuery {
  topic: string
  /** Epoch ms: only records at or after it. */
  sinceMs?: number
  /** Epoch ms: only records at or before it. */
  untilMs?: number
  maxMessages?: number
  timeoutMs?: number
  /** Continues a partial read: its `resume` (`sinceMs` does not apply then). */
  resume?: Array<PartitionOffset>
}

export interface ShutdownResult {
  delivered: number
  pending: number
  dropped: number
  /** Written to the disk spool; replayed at the next start. */
  spooled: number
}

/** The slots of a spool base directory, read-only: who holds each, its size, quarantined files, dead letters. */
export declare function spoolStatus(dir: string): SpoolSlotStatus[]

/** What `readTopic` returns: the records, and why the read stopped short when it did. */
export interface TopicRead {
  records: Array<ConsumedRecord>
  /** Set when the read ended (at `maxMessages` or the timeout) before every partition was read to its end. */
  partial?: string
  /** With `partial`: pass it as the next query's `resume` to read on from there. */
  resume?: Array<PartitionOffset>
}
