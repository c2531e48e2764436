//! The validated configuration of one logger and its parts (TLS, SASL, secrets); what the health snapshot shows.

use std::fmt;
use std::time::Duration;

use super::error_detail::{ErrorDetail, Redaction};

/// A value that must never be printed: Debug and Display show `[redacted]`.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(pub(super) String);

impl Secret {
  pub fn expose(&self) -> &str {
    &self.0
  }
}

impl fmt::Debug for Secret {
  fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
    f.write_str("[redacted]")
  }
}

/// A certificate or key given either as a file path or inline PEM text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Pem {
  Path(String),
  Inline(Secret),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SaslMechanism {
  Plain,
  ScramSha256,
  ScramSha512,
}

impl SaslMechanism {
  pub fn librdkafka_name(self) -> &'static str {
    match self {
      Self::Plain => "PLAIN",
      Self::ScramSha256 => "SCRAM-SHA-256",
      Self::ScramSha512 => "SCRAM-SHA-512",
    }
  }
}

#[derive(Debug, Clone)]
pub struct Sasl {
  pub mechanism: SaslMechanism,
  pub username: String,
  pub password: Secret,
}

#[derive(Debug, Clone, Default)]
pub struct Tls {
  pub ca: Option<Pem>,
  /// NODE_EXTRA_CA_CERTS (path, PEM text) while SSL_CA is unset: trusted besides the system's CAs, as Node's TLS
  /// did for the fork.
  pub extra_ca: Option<(String, String)>,
  pub cert: Option<Pem>,
  pub key: Option<Pem>,
  pub key_password: Option<Secret>,
  pub verify: bool,
}

/// The validated configuration of one logger.
#[derive(Debug, Clone)]
pub struct Config {
  pub enabled: bool,
  pub brokers: Vec<String>,
  pub client_id: String,
  pub topic: String,
  /// Where permanent failures go; None when DLQ_TOPIC is off.
  pub dlq_topic: Option<String>,
  /// Every event goes through the spool first (DURABILITY=disk).
  pub durable: bool,
  /// Base directory of the spool; None when SPOOL_DIR is off.
  pub spool_dir: Option<std::path::PathBuf>,
  pub spool_max_bytes: u64,
  pub spool_sync_interval: Duration,
  pub tls: Option<Tls>,
  pub sasl: Option<Sasl>,
  pub queue_max_size: usize,
  pub queue_max_bytes: usize,
  pub queue_batch_size: usize,
  pub queue_flush_interval: Duration,
  pub cb_failure_threshold: u32,
  pub cb_reset_timeout: Duration,
  pub cb_monitoring_period: Duration,
  pub timeout_connect: Duration,
  pub timeout_send: Duration,
  pub timeout_disconnect: Duration,
  pub acks: &'static str,
  pub compression: &'static str,
  pub linger_ms: u64,
  pub idempotent: bool,
  pub max_message_bytes: u64,
  pub validate_on_startup: bool,
  pub environment: String,
  pub instance_id: Option<String>,
  pub instance_type: &'static str,
  pub n8n_version: Option<String>,
  pub node_events: bool,
  /// MESSAGE_FORMAT=fork: the fork's fields are written besides the current ones.
  pub fork_format: bool,
  /// KEY=message: the record key is the messageId instead of the execution id.
  pub key_by_message: bool,
  /// ERROR_DETAIL: how much of an error's text events carry.
  pub error_detail: ErrorDetail,
  /// REDACT: patterns hidden in an error's text; None when unset.
  pub redaction: Option<Redaction>,
  pub health_token: Option<Secret>,
  /// librdkafka properties passed through verbatim, after the logger's own.
  pub rdkafka: Vec<(String, String)>,
  /// Non-fatal findings (e.g. SSL_VERIFY=false, a misspelt variable), logged once when the logger is constructed.
  pub warnings: Vec<String>,
}

impl Config {
  pub fn security_protocol(&self) -> &'static str {
    match (self.tls.is_some(), self.sasl.is_some()) {
      (false, false) => "plaintext",
      (true, false) => "ssl",
      (false, true) => "sasl_plaintext",
      (true, true) => "sasl_ssl",
    }
  }

  /// Whether a librdkafka property's value may be shown: only those known to be harmless ([`SHOWN_PROPERTIES`]).
  /// Every other value (sasl.oauthbearer.config, sasl.kerberos.kinit.cmd, a property of a newer librdkafka) is
  /// treated as a secret: never shown, and scrubbed from what the logger prints.
  pub fn is_shown_property(key: &str) -> bool {
    SHOWN_PROPERTIES.contains(&key)
  }

  /// The values scrubbed from everything the logger prints: the secret settings and every passthrough value not
  /// known to be harmless (but `true`/`false`, which hide nothing and would blank those words in every message).
  pub fn secret_values(&self) -> Vec<String> {
    let sasl = self.sasl.as_ref().map(|s| s.password.expose());
    let key_password = self.tls.as_ref().and_then(|t| t.key_password.as_ref()).map(Secret::expose);
    let token = self.health_token.as_ref().map(Secret::expose);
    // An inline private key is a secret too (a key given by path shows its path).
    let inline_key = match self.tls.as_ref().and_then(|t| t.key.as_ref()) {
      Some(Pem::Inline(key)) => Some(key.expose()),
      _ => None,
    };
    let passthrough = self
      .rdkafka
      .iter()
      .filter(|(k, v)| !Self::is_shown_property(k) && !matches!(v.as_str(), "true" | "false"))
      .map(|(_, v)| v.as_str());
    [sasl, key_password, token, inline_key].into_iter().flatten().chain(passthrough).map(str::to_string).collect()
  }

  /// What the health snapshot shows of the configuration: names and shapes, never a secret.
  pub fn redacted_summary(&self) -> serde_json::Value {
    let shown = |secret: bool| if secret { "[redacted]" } else { "[not set]" };
    let pem = |p: &Option<Pem>| match p {
      Some(Pem::Path(path)) => serde_json::Value::from(path.as_str()),
      Some(Pem::Inline(_)) => "[inline PEM]".into(),
      None => serde_json::Value::Null,
    };
    let rdkafka: serde_json::Map<String, serde_json::Value> = self
      .rdkafka
      .iter()
      .map(|(k, v)| (k.clone(), if Self::is_shown_property(k) { v.as_str().into() } else { "[set]".into() }))
      .collect();
    let mut summary = serde_json::json!({
      "brokers": self.brokers,
      "topic": self.topic,
      "dlqTopic": self.dlq_topic,
      "durability": if self.durable { "disk" } else { "memory" },
      "spoolDir": self.spool_dir.as_ref().map(|d| d.display().to_string()),
      "spoolMaxBytes": self.spool_max_bytes,
      "spoolSyncIntervalMs": self.spool_sync_interval.as_millis() as u64,
      "clientId": self.client_id,
      "securityProtocol": self.security_protocol(),
      "saslMechanism": self.sasl.as_ref().map(|s| s.mechanism.librdkafka_name()),
      "username": self.sasl.as_ref().map(|s| s.username.as_str()),
      "password": shown(self.sasl.is_some()),
      "sslCa": self.tls.as_ref().and_then(|t| pem(&t.ca).as_str().map(str::to_string)),
      "sslExtraCa": self.tls.as_ref().and_then(|t| t.extra_ca.as_ref().map(|(path, _)| path.as_str())),
      "sslCert": self.tls.as_ref().and_then(|t| pem(&t.cert).as_str().map(str::to_string)),
      "sslKey": shown(self.tls.as_ref().is_some_and(|t| t.key.is_some())),
      "sslVerify": self.tls.as_ref().map(|t| t.verify),
    });
    // Two objects merged: one json! with every field passes the macro's recursion limit.
    let tuning = serde_json::json!({
      "acks": self.acks,
      "compression": self.compression,
      "lingerMs": self.linger_ms,
      "idempotent": self.idempotent,
      "maxMessageBytes": self.max_message_bytes,
      "queueMaxSize": self.queue_max_size,
      "queueMaxBytes": self.queue_max_bytes,
      "queueBatchSize": self.queue_batch_size,
      "queueFlushIntervalMs": self.queue_flush_interval.as_millis() as u64,
      "cbFailureThreshold": self.cb_failure_threshold,
      "cbResetTimeoutMs": self.cb_reset_timeout.as_millis() as u64,
      "cbMonitoringPeriodMs": self.cb_monitoring_period.as_millis() as u64,
      "timeoutConnectMs": self.timeout_connect.as_millis() as u64,
      "timeoutSendMs": self.timeout_send.as_millis() as u64,
      "timeoutDisconnectMs": self.timeout_disconnect.as_millis() as u64,
      "validateOnStartup": self.validate_on_startup,
      "environment": self.environment,
      "instanceType": self.instance_type,
      "nodeEvents": self.node_events,
      "messageFormat": if self.fork_format { "fork" } else { "current" },
      "key": if self.key_by_message { "message" } else { "execution" },
      "errorDetail": self.error_detail.name(),
      // The patterns may name what they hide: only how many there are.
      "redactPatterns": self.redaction.as_ref().map_or(0, Redaction::pattern_count),
      "healthToken": shown(self.health_token.is_some()),
      "rdkafka": rdkafka,
    });
    if let (Some(summary), serde_json::Value::Object(tuning)) = (summary.as_object_mut(), tuning) {
      summary.extend(tuning);
    }
    summary
  }
}

/// librdkafka properties whose values are shown in the health snapshot and error messages: tuning, timeouts,
/// names and modes, none of which can carry a credential. Default-deny: a property missing here shows `[set]`.
const SHOWN_PROPERTIES: &[&str] = &[
  "acks",
  "allow.auto.create.topics",
  "api.version.fallback.ms",
  "api.version.request",
  "api.version.request.timeout.ms",
  "batch.num.messages",
  "batch.size",
  "bootstrap.servers",
  "broker.address.family",
  "broker.address.ttl",
  "broker.version.fallback",
  "client.dns.lookup",
  "client.id",
  "client.rack",
  "compression.codec",
  "compression.level",
  "compression.type",
  "connections.max.idle.ms",
  "debug",
  "delivery.timeout.ms",
  "enable.gapless.guarantee",
  "enable.idempotence",
  "enable.ssl.certificate.verification",
  "linger.ms",
  "log.connection.close",
  "log_level",
  "max.in.flight",
  "max.in.flight.requests.per.connection",
  "message.copy.max.bytes",
  "message.max.bytes",
  "message.send.max.retries",
  "message.timeout.ms",
  "metadata.broker.list",
  "metadata.max.age.ms",
  "metadata.recovery.strategy",
  "partitioner",
  "queue.buffering.backpressure.threshold",
  "queue.buffering.max.kbytes",
  "queue.buffering.max.messages",
  "queue.buffering.max.ms",
  "queuing.strategy",
  "receive.message.max.bytes",
  "reconnect.backoff.max.ms",
  "reconnect.backoff.ms",
  "request.required.acks",
  "request.timeout.ms",
  "retries",
  "retry.backoff.max.ms",
  "retry.backoff.ms",
  "sasl.mechanism",
  "sasl.mechanisms",
  "security.protocol",
  "socket.connection.setup.timeout.ms",
  "socket.keepalive.enable",
  "socket.max.fails",
  "socket.nagle.disable",
  "socket.receive.buffer.bytes",
  "socket.send.buffer.bytes",
  "socket.timeout.ms",
  "ssl.endpoint.identification.algorithm",
  "statistics.interval.ms",
  "sticky.partitioning.linger.ms",
  "topic.metadata.propagation.max.ms",
  "topic.metadata.refresh.fast.interval.ms",
  "topic.metadata.refresh.interval.ms",
  "topic.metadata.refresh.sparse",
];
