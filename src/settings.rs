//! The table of every configuration setting: env var, option name, default and meaning, in one place.
//!
//! `config.rs` parses these; the README's configuration reference is checked against this table by a test
//! (`KafkaExecutionLogger.settings()` exposes it to JavaScript).

/// Prefix shared by every environment variable of the logger (the fork's names, kept for drop-in use).
pub const ENV_PREFIX: &str = "N8N_KAFKA_LOGGER_";
/// Prefix of the librdkafka passthrough: `N8N_KAFKA_LOGGER_RDKAFKA_SOCKET_KEEPALIVE_ENABLE=true`.
pub const RDKAFKA_ENV_PREFIX: &str = "N8N_KAFKA_LOGGER_RDKAFKA_";

/// One documented setting.
#[derive(Debug, Clone, Copy)]
pub struct Setting {
  /// Environment variable name without the `N8N_KAFKA_LOGGER_` prefix.
  pub env: &'static str,
  /// camelCase option name accepted by `new KafkaExecutionLogger(options)`.
  pub option: &'static str,
  /// Default as the user would write it; empty when there is none.
  pub default: &'static str,
  /// The expected form, used verbatim in error messages.
  pub form: &'static str,
  /// Never echoed, logged or shown in the health snapshot.
  pub secret: bool,
  pub description: &'static str,
  /// Bounds of an integer setting; `form` states them.
  pub range: Option<Range>,
}

/// The accepted values of an integer setting.
#[derive(Debug, Clone, Copy)]
pub struct Range {
  pub min: u64,
  pub max: u64,
  /// A setting the fork had: it took any integer above 0, so such a value outside the bounds is moved to the
  /// nearest one with a warning instead of stopping a fork environment from logging.
  pub clamp: bool,
}

const fn s(
  env: &'static str,
  option: &'static str,
  default: &'static str,
  form: &'static str,
  description: &'static str,
) -> Setting {
  Setting { env, option, default, form, secret: false, description, range: None }
}

const fn secret(env: &'static str, option: &'static str, form: &'static str, description: &'static str) -> Setting {
  Setting { env, option, default: "", form, secret: true, description, range: None }
}

/// An integer setting whose bounds are written once: `form` is made from them.
macro_rules! int {
  ($env:literal, $option:literal, $default:literal, $unit:literal, $min:literal, $max:literal, $clamp:literal, $description:literal) => {
    Setting {
      env: $env,
      option: $option,
      default: $default,
      form: concat!($unit, "an integer from ", $min, " to ", $max),
      secret: false,
      description: $description,
      range: Some(Range { min: $min, max: $max, clamp: $clamp }),
    }
  };
}

/// The form of every switch; `true`/`false` only, so a value the fork read as false is not silently turned on.
const BOOL: &str = "true or false (any letter case)";

pub const SETTINGS: &[Setting] = &[
  s("ENABLED", "enabled", "false", BOOL, "Turns the logger on; n8n integrations register nothing unless it is \"true\"."),
  s("BROKERS", "brokers", "localhost:9092", "a comma-separated list of host:port", "Bootstrap brokers."),
  s("CLIENT_ID", "clientId", "n8n-execution-logger", "a non-empty string", "Kafka client.id."),
  s("TOPIC", "topic", "n8n-executions", "a Kafka topic name (letters, digits, '.', '_', '-'; at most 249)", "Topic the events are written to."),
  s("SSL", "ssl", "false", BOOL, "Connect with TLS (SSL or SASL_SSL)."),
  s("SSL_CA", "sslCa", "", "a file path or inline PEM", "CA certificate(s) to verify the brokers; the system store when unset."),
  s("SSL_CERT", "sslCert", "", "a file path or inline PEM", "Client certificate for mutual TLS (needs SSL_KEY)."),
  secret("SSL_KEY", "sslKey", "a file path or inline PEM", "Client private key for mutual TLS (needs SSL_CERT)."),
  secret("SSL_KEY_PASSWORD", "sslKeyPassword", "a string", "Password of an encrypted SSL_KEY."),
  s("SSL_VERIFY", "sslVerify", "true", BOOL, "Verify the broker certificate and host name; false logs a warning at startup."),
  s("AUTH_ENABLED", "authEnabled", "false", BOOL, "Authenticate with SASL; USERNAME and PASSWORD are then required."),
  s("USERNAME", "username", "", "a non-empty string", "SASL user name."),
  secret("PASSWORD", "password", "a non-empty string", "SASL password."),
  s("SASL_MECHANISM", "saslMechanism", "plain", "one of plain, scram-sha-256, scram-sha-512", "SASL mechanism."),
  int!("QUEUE_MAX_SIZE", "queueMaxSize", "10000", "", 1, 1000000, true, "Capacity of the in-memory queue; when full the oldest event is dropped and counted."),
  // Its upper bound is QUEUE_MAX_SIZE's value; the range is QUEUE_MAX_SIZE's.
  Setting {
    range: Some(Range { min: 1, max: 1000000, clamp: true }),
    ..s("QUEUE_BATCH_SIZE", "queueBatchSize", "100", "an integer from 1 to QUEUE_MAX_SIZE", "Events the background thread hands to librdkafka per pass before serving delivery reports.")
  },
  int!("QUEUE_FLUSH_INTERVAL", "queueFlushInterval", "5000", "milliseconds, ", 10, 600000, true, "Longest idle sleep of the background thread (housekeeping period); events are sent as soon as they arrive."),
  int!("CB_FAILURE_THRESHOLD", "cbFailureThreshold", "5", "", 1, 10000, true, "Consecutive delivery failures that open the circuit breaker."),
  int!("CB_RESET_TIMEOUT", "cbResetTimeout", "60000", "milliseconds, ", 100, 3600000, true, "How long the breaker stays open before a half-open probe; grows with jitter while failures continue."),
  int!("CB_MONITORING_PERIOD", "cbMonitoringPeriod", "30000", "milliseconds, ", 100, 3600000, true, "A failure older than this no longer counts toward the threshold."),
  // librdkafka's socket.connection.setup.timeout.ms takes 1000 at least.
  int!("TIMEOUT_CONNECT", "timeoutConnect", "10000", "milliseconds, ", 1000, 600000, true, "Connection setup timeout; also the startup validation timeout."),
  int!("TIMEOUT_SEND", "timeoutSend", "5000", "milliseconds, ", 100, 600000, true, "How long librdkafka may try to deliver a message before it is retried by the logger (message.timeout.ms)."),
  int!("TIMEOUT_DISCONNECT", "timeoutDisconnect", "5000", "milliseconds, ", 0, 600000, true, "Default deadline of shutdown() when no timeout is given."),
  s("DURABILITY", "durability", "memory", "one of memory, disk", "memory: events go straight to Kafka and only spill to the spool when delivery is impaired; disk: every event is written to the spool first (see README: loss bounds)."),
  s("SPOOL_DIR", "spoolDir", "", "a directory path, or off", "Base directory of the disk spool (default <N8N_USER_FOLDER or HOME>/.n8n/kafka-logger-spool); each process takes its own slot-N inside it."),
  int!("SPOOL_MAX_BYTES", "spoolMaxBytes", "1073741824", "", 1048576, 1099511627776, false, "Cap on the spool's size on disk; when full, new events are refused and counted (drop-newest)."),
  int!("SPOOL_SYNC_INTERVAL", "spoolSyncInterval", "100", "milliseconds, ", 1, 60000, false, "Group commit: how often spooled events are fsynced to disk."),
  s("DLQ_TOPIC", "dlqTopic", "", "a Kafka topic name, or off", "Dead-letter topic for permanently failed events (default <TOPIC>.dlq); off drops them, counted as failed."),
  s("ACKS", "acks", "all", "one of all, 1, 0", "Broker acknowledgements per write (acks)."),
  s("COMPRESSION", "compression", "none", "one of none, gzip, snappy, lz4, zstd", "Batch compression codec; none as the fork (kafkajs consumers, n8n's Kafka Trigger among them, read gzip but not snappy, lz4 or zstd without a codec plugin)."),
  int!("LINGER_MS", "lingerMs", "5", "milliseconds, ", 0, 900000, false, "librdkafka batching window (linger.ms)."),
  s("IDEMPOTENT", "idempotent", "true", BOOL, "Idempotent producer: no duplicates from librdkafka's own retries (needs ACKS=all; on secured brokers older than Kafka 2.8 also the IdempotentWrite ACL, else set false)."),
  int!("MAX_MESSAGE_BYTES", "maxMessageBytes", "1000000", "", 1000, 100000000, false, "Largest request librdkafka builds (message.max.bytes)."),
  s("VALIDATE_ON_STARTUP", "validateOnStartup", "false", BOOL, "initialize() rejects when the cluster cannot be reached or authenticated within TIMEOUT_CONNECT."),
  s("ENVIRONMENT", "environment", "development", "a non-empty string", "environment dimension of every event; unset: NODE_ENV, then ENVIRONMENT, then development, as the fork read it."),
  s("INSTANCE_ID", "instanceId", "", "a non-empty string", "Stable n8n instance id (anonymousId and messageId seed); the n8n adapters pass n8n's own."),
  s("INSTANCE_TYPE", "instanceType", "main", "one of main, worker, webhook", "instance_type dimension."),
  s("N8N_VERSION", "n8nVersion", "", "a non-empty string", "n8n_version dimension and context.app.version."),
  s("NODE_EVENTS", "nodeEvents", "false", BOOL, "n8n adapters also emit Node Started/Completed/Failed events."),
  s("MESSAGE_FORMAT", "messageFormat", "current", "one of current, fork", "fork: also every field the fork's logger wrote, with its names, types and status spellings (docs/migrating-from-the-fork.md)."),
  s("KEY", "key", "execution", "one of execution, message", "Record key: the execution id (its events stay in order in one partition) or the messageId, as the fork keyed."),
  secret("HEALTH_TOKEN", "healthToken", "at least 16 characters, trimmed", "Bearer token accepted by the stock-n8n health route besides an n8n session."),
];

/// The setting whose option or env name is `name`; used to name both forms in errors.
pub fn find(name: &str) -> Option<&'static Setting> {
  SETTINGS.iter().find(|s| s.option == name || s.env == name)
}

#[cfg(test)]
mod tests {
  use super::*;

  #[test]
  fn names_are_unique_and_well_formed() {
    let mut seen = std::collections::HashSet::new();
    for s in SETTINGS {
      assert!(seen.insert(s.env), "duplicate env {}", s.env);
      assert!(seen.insert(s.option), "duplicate option {}", s.option);
      assert!(s.env.chars().all(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || c == '_'));
      assert!(s.option.chars().next().unwrap().is_ascii_lowercase());
      assert!(!s.form.is_empty() && !s.description.is_empty());
    }
  }

  #[test]
  fn integer_settings_have_their_range_in_the_table() {
    for s in SETTINGS {
      assert_eq!(s.form.contains("an integer"), s.range.is_some(), "{}", s.env);
    }
    let range = |name: &str| find(name).and_then(|s| s.range).map(|r| (r.min, r.max, r.clamp));
    assert_eq!(range("QUEUE_BATCH_SIZE"), range("QUEUE_MAX_SIZE"));
    assert_eq!(find("TIMEOUT_CONNECT").unwrap().form, "milliseconds, an integer from 1000 to 600000");
  }
}
