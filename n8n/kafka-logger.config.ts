// The adapters' own settings, read from the environment when asked (the core reads its connection settings itself); both entry points use it.
import type { KafkaLoggerClass } from './core-types';

/** process.env's shape, spelled without Node's types so that the shipped declarations need none. */
export type Environment = Record<string, string | undefined>;

export const ENV_HINT =
  'set N8N_KAFKA_LOGGER_ENABLED=true and N8N_KAFKA_LOGGER_BROKERS=host:port[,host:port] (default localhost:9092; optional: N8N_KAFKA_LOGGER_TOPIC, N8N_KAFKA_LOGGER_CLIENT_ID)';

/** A boolean setting the way the core reads it: `true` in any letter case, surrounding spaces ignored. */
export function envFlag(env: Environment, name: string): boolean {
  return String(env[name] ?? '').trim().toLowerCase() === 'true';
}

/** A bearer token shorter than this is guessable: refused at startup. */
export const MIN_HEALTH_TOKEN_LENGTH = 16;

export class KafkaLoggerConfig {
  constructor(private readonly env: Environment) {}

  /** ENABLED is true, by the core's own rule when the core is given. */
  isConfigured(core?: KafkaLoggerClass): boolean {
    try {
      if (core && typeof core.isConfigured === 'function') return core.isConfigured(this.env);
    } catch {
      /* fall back to the documented rule */
    }
    // Without BROKERS the core logs to localhost:9092, the fork's default.
    return envFlag(this.env, 'N8N_KAFKA_LOGGER_ENABLED');
  }

  /**
   * Why the logger is off when it is not configured: the hint, and, when N8N_KAFKA_LOGGER_* variables are set all
   * the same, their names (never their values), since a misspelt ENABLED is the likely cause.
   */
  notConfiguredReason(): string {
    const present = Object.keys(this.env)
      .filter((name) => name.startsWith('N8N_KAFKA_LOGGER_') && String(this.env[name] ?? '').trim() !== '')
      .sort();
    if (present.length === 0) return ENV_HINT;
    const enabled = this.env.N8N_KAFKA_LOGGER_ENABLED;
    const state = enabled === undefined ? 'is not set' : 'is not true';
    return `${ENV_HINT}. ${present.length} N8N_KAFKA_LOGGER_* variables are set (${present.join(', ')}) but N8N_KAFKA_LOGGER_ENABLED ${state}: a misspelt name?`;
  }

  /** NODE_EVENTS: Node Started/Completed/Failed besides the workflow events. */
  get nodeEvents(): boolean {
    return envFlag(this.env, 'N8N_KAFKA_LOGGER_NODE_EVENTS');
  }

  /** TIMEOUT_DISCONNECT (default 5 s): the core's shutdown deadline, also the flush before a CLI run exits. */
  get disconnectMs(): number {
    return Number(this.env.N8N_KAFKA_LOGGER_TIMEOUT_DISCONNECT ?? 5000) || 5000;
  }

  /** n8n's own graceful-shutdown budget (N8N_GRACEFUL_SHUTDOWN_TIMEOUT, seconds, default 30). */
  get gracefulShutdownMs(): number {
    return (Number(this.env.N8N_GRACEFUL_SHUTDOWN_TIMEOUT ?? 30) || 30) * 1000;
  }

  /** HEALTH_TOKEN, trimmed: a bearer token the stock-n8n health route accepts besides an n8n session; none when too short. */
  get healthToken(): string | undefined {
    const token = this.rawHealthToken;
    return token && token.length >= MIN_HEALTH_TOKEN_LENGTH ? token : undefined;
  }

  /** Why a configured HEALTH_TOKEN is refused (shorter than 16 characters), for one error at startup. */
  get healthTokenProblem(): string | undefined {
    const token = this.rawHealthToken;
    if (token === undefined || token.length >= MIN_HEALTH_TOKEN_LENGTH) return undefined;
    return `N8N_KAFKA_LOGGER_HEALTH_TOKEN is ${token.length} characters long, expected at least ${MIN_HEALTH_TOKEN_LENGTH} (a random string, e.g. \`openssl rand -hex 24\`): the token is refused, the health route takes n8n sessions only`;
  }

  private get rawHealthToken(): string | undefined {
    return this.env.N8N_KAFKA_LOGGER_HEALTH_TOKEN?.trim() || undefined;
  }
}
