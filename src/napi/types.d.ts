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
