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
  /// The expected form, used verbatim in error messages. For switches, integers and choices it is made from
  /// `kind` by the macros below, so the prose cannot drift from the values the parser accepts.
  pub form: &'static str,
  /// Never echoed, logged or shown in the health snapshot.
  pub secret: bool,
  pub description: &'static str,
  /// What the parser accepts.
  pub kind: Kind,
}

/// The values a setting accepts, written once: the parser reads them here and `form` is made from them.
#[derive(Debug, Clone, Copy)]
pub enum Kind {
  /// `true` or `false` in any letter case.
  Bool,
  Int(Range),
  /// One of `values` in any letter case, or an alias (not shown in `form`) standing for one of them.
  Choice {
    values: &'static [&'static str],
    aliases: &'static [(&'static str, &'static str)],
  },
  /// Free-form text, checked by the parser in its own way; `form` says how.
  Text,
}

/// The accepted values of an integer setting.
#[derive(Debug, Clone, Copy)]
pub struct Range {
  pub min: u64,
  pub max: Max,
  /// A setting the fork had: it took any integer above 0, so such a value outside the bounds is moved to the
  /// nearest one with a warning instead of stopping a fork environment from logging.
  pub clamp: bool,
}

/// The upper bound of an integer setting: a number, or another setting's value (whose own upper bound then
/// applies first).
#[derive(Debug, Clone, Copy)]
pub enum Max {
  Value(u64),
  Setting(&'static str),
}

impl Setting {
  /// The bounds of an integer setting, another setting's bound resolved to its number.
  pub fn bounds(&self) -> Option<(u64, u64, bool)> {
    let Kind::Int(range) = self.kind else { return None };
    let max = match range.max {
      Max::Value(max) => max,
      Max::Setting(name) => find(name)?.bounds()?.1,
    };
    Some((range.min, max, range.clamp))
  }
}

const fn s(
  env: &'static str,
  option: &'static str,
  default: &'static str,
  form: &'static str,
  description: &'static str,
) -> Setting {
  Setting { env, option, default, form, secret: false, description, kind: Kind::Text }
}

const fn secret(env: &'static str, option: &'static str, form: &'static str, description: &'static str) -> Setting {
  Setting { env, option, default: "", form, secret: true, description, kind: Kind::Text }
}

/// The form of every switch; `true`/`false` only, so a value the fork read as false is not silently turned on.
const BOOL: &str = "true or false (any letter case)";

const fn switch(env: &'static str, option: &'static str, default: &'static str, description: &'static str) -> Setting {
  Setting { env, option, default, form: BOOL, secret: false, description, kind: Kind::Bool }
}

/// An integer setting whose bounds are written once: `form` is made from them. `max` is a number, or the name
/// of the setting whose value bounds this one.
macro_rules! int {
  ($env:literal, $option:literal, $default:literal, $unit:literal, $min:literal, $max:literal, $clamp:literal, $description:literal) => {
    int!(@ $env, $option, $default, $unit, $min, $max, Max::Value($max), $clamp, $description)
  };
  ($env:literal, $option:literal, $default:literal, $unit:literal, $min:literal, setting $max:literal, $clamp:literal, $description:literal) => {
    int!(@ $env, $option, $default, $unit, $min, $max, Max::Setting($max), $clamp, $description)
  };
  (@ $env:literal, $option:literal, $default:literal, $unit:literal, $min:literal, $shown:literal, $max:expr, $clamp:literal, $description:literal) => {
    Setting {
      env: $env,
      option: $option,
      default: $default,
      form: concat!($unit, "an integer from ", $min, " to ", $shown),
      secret: false,
      description: $description,
      kind: Kind::Int(Range { min: $min, max: $max, clamp: $clamp }),
    }
  };
}

/// A setting with a closed list of values, written once: `form` lists them; aliases are accepted, not shown.
macro_rules! choice {
  ($env:literal, $option:literal, $default:literal, [$($value:literal),+], $description:literal) => {
    choice!($env, $option, $default, [$($value),+], [], $description)
  };
  ($env:literal, $option:literal, $default:literal, [$first:literal $(, $rest:literal)*], [$($alias:literal => $to:literal),*], $description:literal) => {
    Setting {
      env: $env,
      option: $option,
      default: $default,
      form: concat!("one of ", $first $(, ", ", $rest)*),
      secret: false,
      description: $description,
      kind: Kind::Choice { values: &[$first $(, $rest)*], aliases: &[$(($alias, $to)),*] },
    }
  };
}

pub const SETTINGS: &[Setting] = &[
  switch("ENABLED", "enabled", "false", "Turns the logger on; n8n integrations register nothing unless it is \"true\"."),
  s("BROKERS", "brokers", "localhost:9092", "a comma-separated list of host:port", "Bootstrap brokers."),
  s("CLIENT_ID", "clientId", "n8n-execution-logger", "a non-empty string", "Kafka client.id."),
  s("TOPIC", "topic", "n8n-executions", "a Kafka topic name (letters, digits, '.', '_', '-'; at most 249)", "Topic the events are written to."),
  switch("SSL", "ssl", "false", "Connect with TLS (SSL or SASL_SSL)."),
  s("SSL_CA", "sslCa", "", "a file path or inline PEM", "CA certificate(s) to verify the brokers; the system store when unset."),
  s("SSL_CERT", "sslCert", "", "a file path or inline PEM", "Client certificate for mutual TLS (needs SSL_KEY)."),
  secret("SSL_KEY", "sslKey", "a file path or inline PEM", "Client private key for mutual TLS (needs SSL_CERT)."),
  secret("SSL_KEY_PASSWORD", "sslKeyPassword", "a string", "Password of an encrypted SSL_KEY."),
  switch("SSL_VERIFY", "sslVerify", "true", "Verify the broker certificate and host name; false logs a warning at startup."),
  switch("AUTH_ENABLED", "authEnabled", "false", "Authenticate with SASL; USERNAME and PASSWORD are then required."),
  s("USERNAME", "username", "", "a non-empty string", "SASL user name."),
  secret("PASSWORD", "password", "a non-empty string", "SASL password."),
  choice!("SASL_MECHANISM", "saslMechanism", "plain", ["plain", "scram-sha-256", "scram-sha-512"], "SASL mechanism."),
  int!("QUEUE_MAX_SIZE", "queueMaxSize", "10000", "", 1, 1000000, true, "Capacity of the in-memory queue; when full the oldest event is dropped and counted."),
  // 64 MiB: far above what the default 10 000 entries of typical events hold (a few hundred bytes each), so the
  // count binds for them; it caps the queue when entries are large (long stacks, many tags: up to some MB each).
  int!("QUEUE_MAX_BYTES", "queueMaxBytes", "67108864", "", 1048576, 68719476736, false, "Cap on the bytes the in-memory queue's events hold (each entry counted roughly: its strings plus ~200 bytes); over it the oldest events are dropped and counted."),
  int!("QUEUE_BATCH_SIZE", "queueBatchSize", "100", "", 1, setting "QUEUE_MAX_SIZE", true, "Events the background thread hands to librdkafka per pass before serving delivery reports."),
  int!("QUEUE_FLUSH_INTERVAL", "queueFlushInterval", "5000", "milliseconds, ", 10, 600000, true, "Longest idle sleep of the background thread (housekeeping period); events are sent as soon as they arrive."),
  int!("CB_FAILURE_THRESHOLD", "cbFailureThreshold", "5", "", 1, 10000, true, "Consecutive delivery failures that open the circuit breaker."),
  int!("CB_RESET_TIMEOUT", "cbResetTimeout", "60000", "milliseconds, ", 100, 3600000, true, "How long the breaker stays open before a half-open probe; grows with jitter while failures continue."),
  int!("CB_MONITORING_PERIOD", "cbMonitoringPeriod", "30000", "milliseconds, ", 100, 3600000, true, "A failure older than this no longer counts toward the threshold."),
  // librdkafka's socket.connection.setup.timeout.ms takes 1000 at least.
  int!("TIMEOUT_CONNECT", "timeoutConnect", "10000", "milliseconds, ", 1000, 600000, true, "Connection setup timeout; also the startup validation timeout."),
  int!("TIMEOUT_SEND", "timeoutSend", "5000", "milliseconds, ", 100, 600000, true, "How long librdkafka may try to deliver a message before it is retried by the logger (message.timeout.ms)."),
  int!("TIMEOUT_DISCONNECT", "timeoutDisconnect", "5000", "milliseconds, ", 0, 600000, true, "Default deadline of shutdown() when no timeout is given."),
  choice!("DURABILITY", "durability", "memory", ["memory", "disk"], "memory: events go straight to Kafka and only spill to the spool when delivery is impaired; disk: every event is written to the spool first (see README: loss bounds)."),
  s("SPOOL_DIR", "spoolDir", "", "a directory path, or off", "Base directory of the disk spool (default <N8N_USER_FOLDER or HOME>/.n8n/kafka-logger-spool); each process takes its own slot-N inside it."),
  int!("SPOOL_MAX_BYTES", "spoolMaxBytes", "1073741824", "", 1048576, 1099511627776, false, "Cap on the spool's size on disk; when full, new events are refused and counted (drop-newest)."),
  int!("SPOOL_SYNC_INTERVAL", "spoolSyncInterval", "100", "milliseconds, ", 1, 60000, false, "Group commit: how often spooled events are fsynced to disk."),
  s("DLQ_TOPIC", "dlqTopic", "", "a Kafka topic name, or off", "Dead-letter topic for permanently failed events (default <TOPIC>.dlq); off drops them, counted as failed."),
  choice!("ACKS", "acks", "all", ["all", "1", "0"], ["-1" => "all"], "Broker acknowledgements per write (acks)."),
  choice!("COMPRESSION", "compression", "none", ["none", "gzip", "snappy", "lz4", "zstd"], "Batch compression codec; none as the fork (kafkajs consumers, n8n's Kafka Trigger among them, read gzip but not snappy, lz4 or zstd without a codec plugin)."),
  int!("LINGER_MS", "lingerMs", "5", "milliseconds, ", 0, 900000, false, "librdkafka batching window (linger.ms)."),
  switch("IDEMPOTENT", "idempotent", "true", "Idempotent producer: no duplicates from librdkafka's own retries (needs ACKS=all; on secured brokers older than Kafka 2.8 also the IdempotentWrite ACL, else set false)."),
  int!("MAX_MESSAGE_BYTES", "maxMessageBytes", "1000000", "", 1000, 100000000, false, "Largest request librdkafka builds (message.max.bytes)."),
  switch("VALIDATE_ON_STARTUP", "validateOnStartup", "false", "initialize() rejects when the cluster cannot be reached or authenticated within TIMEOUT_CONNECT."),
  s("ENVIRONMENT", "environment", "development", "a non-empty string", "environment dimension of every event; unset: NODE_ENV, then ENVIRONMENT, then development, as the fork read it."),
  s("INSTANCE_ID", "instanceId", "", "a non-empty string", "Stable n8n instance id (anonymousId and messageId seed); the n8n adapters pass n8n's own."),
  choice!("INSTANCE_TYPE", "instanceType", "main", ["main", "worker", "webhook"], "instance_type dimension."),
  s("N8N_VERSION", "n8nVersion", "", "a non-empty string", "n8n_version dimension and context.app.version."),
  switch("NODE_EVENTS", "nodeEvents", "false", "n8n adapters also emit Node Started/Completed/Failed events."),
  choice!("MESSAGE_FORMAT", "messageFormat", "current", ["current", "fork"], "fork: also every field the fork's logger wrote, with its names, types and status spellings (docs/migrating-from-the-fork.md)."),
  choice!("ERROR_DETAIL", "errorDetail", "full", ["full", "message", "type"], "What of a failed run's error an event carries: full: message and stack, as the fork; message: the message only; type: no free text, the error's class and failing node only (README: What an event can carry)."),
  s("REDACT", "redact", "", "a JSON array of regular expressions, such as [\"sk-[A-Za-z0-9]+\"]", "Patterns replaced by [redacted] in an error's message, stack and name before the event is built (Rust regex syntax, linear time)."),
  choice!("KEY", "key", "execution", ["execution", "message"], "Record key: the execution id (its events stay in order in one partition) or the messageId, as the fork keyed."),
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
  fn forms_are_made_from_the_values() {
    for s in SETTINGS {
      match s.kind {
        Kind::Bool => assert_eq!(s.form, BOOL, "{}", s.env),
        Kind::Int(_) => {
          let (min, _, _) = s.bounds().unwrap();
          assert!(s.form.contains(&format!("an integer from {min} to ")), "{}", s.env);
        }
        Kind::Choice { values, aliases } => {
          assert_eq!(s.form, format!("one of {}", values.join(", ")), "{}", s.env);
          assert!(aliases.iter().all(|(a, to)| !values.contains(a) && values.contains(to)), "{}", s.env);
          assert!(values.contains(&s.default), "{}", s.env);
        }
        Kind::Text => assert!(!s.form.contains("an integer") && !s.form.starts_with("one of"), "{}", s.env),
      }
    }
    let bounds = |name: &str| find(name).and_then(|s| s.bounds());
    assert_eq!(bounds("QUEUE_BATCH_SIZE"), bounds("QUEUE_MAX_SIZE"));
    assert_eq!(find("QUEUE_BATCH_SIZE").unwrap().form, "an integer from 1 to QUEUE_MAX_SIZE");
    assert_eq!(find("TIMEOUT_CONNECT").unwrap().form, "milliseconds, an integer from 1000 to 600000");
  }
}
