//! The librdkafka producer: its configuration from `Config`, and the context that turns delivery reports,
//! client errors and statistics into messages for the worker.

use std::collections::VecDeque;
use std::sync::Arc;
use std::time::{Duration, Instant};

use parking_lot::Mutex;
use rdkafka::client::ClientContext;
use rdkafka::config::{ClientConfig, RDKafkaLogLevel};
use rdkafka::error::KafkaError;
use rdkafka::message::{Header, Message, OwnedHeaders};
use rdkafka::producer::{BaseProducer, BaseRecord, DeliveryResult, ProducerContext};
use rdkafka::statistics::Statistics;
use rdkafka::types::RDKafkaErrorCode;

use crate::config::{describe, Config, ConfigError, Pem, RDKAFKA_OPTION_HINT};
use crate::telemetry::{Diagnostics, Level};
use crate::errors::{classify, ErrorKind};
use crate::telemetry::{BrokerStatus, Metrics};
use crate::settings::{self, Setting};

/// Why an event is on its way to the dead-letter topic.
#[derive(Debug, Clone)]
pub struct DeadLetter {
  pub kind: ErrorKind,
  pub message: String,
  pub first_failure_ms: i64,
  pub last_failure_ms: i64,
}

/// One event on its way to Kafka: everything needed to resend it or to report on it.
#[derive(Debug, Clone)]
pub struct Pending {
  pub seq: u64,
  pub key: String,
  pub payload: Vec<u8>,
  pub event_name: &'static str,
  pub message_id: String,
  pub event_time_ms: i64,
  pub accepted_at: Instant,
  pub attempts: u32,
  pub probe: bool,
  /// Set once the event failed permanently: it then goes to the dead-letter topic with these headers.
  pub dead_letter: Option<Box<DeadLetter>>,
  pub first_failure_ms: Option<i64>,
  /// Where the event lives in the disk spool when it was read from there (acknowledged after delivery).
  pub spool_pos: Option<crate::spool::SpoolPos>,
}

impl Pending {
  /// The record for `topic`, or for `dlq_topic` with the failure in `dlq-*` headers once it is a dead letter.
  pub fn record<'a>(&'a self, topic: &'a str, dlq_topic: &'a str) -> BaseRecord<'a, str, [u8], Box<Pending>> {
    let mut headers = OwnedHeaders::new_with_capacity(9)
      .insert(Header { key: "content-type", value: Some("application/json") })
      .insert(Header { key: "event", value: Some(self.event_name) })
      .insert(Header { key: "message-id", value: Some(self.message_id.as_str()) });
    let mut target = topic;
    if let Some(dead) = &self.dead_letter {
      target = dlq_topic;
      let texts = [
        ("dlq-original-topic", topic.to_string()),
        ("dlq-error-kind", dead.kind.as_str().to_string()),
        ("dlq-error-message", dead.message.clone()),
        ("dlq-attempts", self.attempts.to_string()),
        ("dlq-first-failure", crate::time::iso_millis(dead.first_failure_ms)),
        ("dlq-last-failure", crate::time::iso_millis(dead.last_failure_ms)),
      ];
      for (key, value) in &texts {
        headers = headers.insert(Header { key, value: Some(value.as_str()) });
      }
    }
    BaseRecord::with_opaque_to(target, Box::new(self.meta()))
      .key(self.key.as_str())
      .payload(self.payload.as_slice())
      .timestamp(self.event_time_ms)
      .headers(headers)
  }

  /// The opaque travelling with the record: the same event minus key and payload, which librdkafka copies.
  fn meta(&self) -> Pending {
    Pending {
      seq: self.seq,
      key: String::new(),
      payload: Vec::new(),
      event_name: self.event_name,
      message_id: self.message_id.clone(),
      event_time_ms: self.event_time_ms,
      accepted_at: self.accepted_at,
      attempts: self.attempts,
      probe: self.probe,
      dead_letter: self.dead_letter.clone(),
      first_failure_ms: self.first_failure_ms,
      spool_pos: self.spool_pos,
    }
  }
}

/// What the worker learns from librdkafka.
pub enum Report {
  Delivered(Box<Pending>),
  Failed { pending: Box<Pending>, kind: ErrorKind, message: String },
  /// A client-level error (all brokers down, authentication, TLS...), not tied to one record.
  ClientError { kind: ErrorKind, message: String },
}

pub struct LoggerContext {
  /// Filled by the callbacks, which librdkafka runs inside the worker's own `poll`; the lock is never contended
  /// and cheaper per report than a channel.
  reports: Mutex<VecDeque<Report>>,
  metrics: Arc<Metrics>,
  diag: Arc<Diagnostics>,
  dns_cause: DnsCause,
}

/// How long a DNS failure explains a following "n/m brokers are down" (librdkafka sends both at once).
const DNS_CAUSE_MEMORY: Duration = Duration::from_secs(30);

/// librdkafka follows a broker's failure with "1/1 brokers are down", which names no cause. After a DNS failure
/// the summary carries it (kind dns, the host in the message), so `lastError` keeps the real cause.
/// Authentication and TLS causes are kept by the worker, which ignores the summary after them.
#[derive(Default)]
struct DnsCause(Mutex<Option<(String, Instant)>>);

impl DnsCause {
  fn explain(&self, code: Option<RDKafkaErrorCode>, kind: ErrorKind, message: String) -> (ErrorKind, String) {
    let mut latest = self.0.lock();
    if code != Some(RDKafkaErrorCode::AllBrokersDown) {
      // Only the latest client error counts: a later refused connection is not blamed on DNS.
      *latest = (kind == ErrorKind::Dns).then(|| (message.clone(), Instant::now()));
      return (kind, message);
    }
    match latest.as_ref() {
      Some((cause, at)) if at.elapsed() < DNS_CAUSE_MEMORY => (ErrorKind::Dns, format!("{message}: {cause}")),
      _ => (kind, message),
    }
  }
}

impl ClientContext for LoggerContext {
  fn log(&self, level: RDKafkaLogLevel, fac: &str, message: &str) {
    let level = match level {
      RDKafkaLogLevel::Emerg | RDKafkaLogLevel::Alert | RDKafkaLogLevel::Critical | RDKafkaLogLevel::Error => Level::Error,
      RDKafkaLogLevel::Warning => Level::Warn,
      _ => return,
    };
    self.diag.limited(level, "librdkafka", &format!("librdkafka {fac}: {message}"));
  }

  fn stats(&self, stats: Statistics) {
    let mut brokers: Vec<BrokerStatus> = stats
      .brokers
      .values()
      .filter(|b| b.nodeid >= 0)
      .map(|b| BrokerStatus {
        name: b.name.clone(),
        state: b.state.clone(),
        rtt_ms: b.rtt.as_ref().map(|w| w.avg as f64 / 1000.0),
      })
      .collect();
    brokers.sort_by(|a, b| a.name.cmp(&b.name));
    self.metrics.update_status(|s| s.brokers = brokers);
  }

  fn error(&self, error: KafkaError, reason: &str) {
    let code = error.rdkafka_error_code();
    let kind = code.map_or(ErrorKind::Kafka, classify);
    let (kind, message) = self.dns_cause.explain(code, kind, self.diag.scrub(reason));
    self.reports.lock().push_back(Report::ClientError { kind, message });
  }
}

impl ProducerContext for LoggerContext {
  type DeliveryOpaque = Box<Pending>;

  fn delivery(&self, result: &DeliveryResult<'_>, mut pending: Box<Pending>) {
    let report = match result {
      Ok(_) => Report::Delivered(pending),
      Err((error, message)) => {
        // The payload comes back from librdkafka only when it is needed: on failure.
        pending.payload = message.payload().map(<[u8]>::to_vec).unwrap_or_default();
        pending.key = message.key().map(|k| String::from_utf8_lossy(k).into_owned()).unwrap_or_default();
        let kind = error.rdkafka_error_code().map_or(ErrorKind::Kafka, classify);
        Report::Failed { pending, kind, message: self.diag.scrub(&error.to_string()) }
      }
    };
    self.reports.lock().push_back(report);
  }
}

impl LoggerContext {
  /// Appends the reports gathered so far to `into`, in the order they came (a swap when `into` is empty).
  pub fn take_reports(&self, into: &mut VecDeque<Report>) {
    let mut reports = self.reports.lock();
    if into.is_empty() {
      std::mem::swap(&mut *reports, into);
    } else {
      into.append(&mut reports);
    }
  }
}

pub type Producer = BaseProducer<LoggerContext>;

fn set_pem(client: &mut ClientConfig, pem: &Option<Pem>, location: &str, inline: &str) {
  match pem {
    Some(Pem::Path(path)) => drop(client.set(location, path)),
    Some(Pem::Inline(text)) => drop(client.set(inline, text.expose())),
    None => {}
  }
}

/// librdkafka's probe list for the system CA store (rdkafka_ssl.c), in its order.
const SYSTEM_CA_PATHS: &[&str] = &[
  "/etc/pki/tls/certs/ca-bundle.crt",
  "/etc/ssl/certs/ca-bundle.crt",
  "/etc/pki/tls/certs/ca-bundle.trust.crt",
  "/etc/pki/ca-trust/extracted/pem/tls-ca-bundle.pem",
  "/etc/ssl/ca-bundle.pem",
  "/etc/pki/tls/cacert.pem",
  "/etc/ssl/cert.pem",
  "/etc/ssl/cacert.pem",
  "/etc/certs/ca-certificates.crt",
  "/etc/ssl/certs/ca-certificates.crt",
  "/etc/ssl/certs",
  "/usr/local/etc/ssl/cert.pem",
  "/usr/local/etc/ssl/cacert.pem",
  "/usr/local/etc/ssl/certs/cert.pem",
  "/usr/local/etc/ssl/certs/cacert.pem",
  "/usr/local/share/certs/ca-root-nss.crt",
  "/etc/openssl/certs/ca-certificates.crt",
  "/private/etc/ssl/cert.pem",
];

/// How to reach and authenticate to the cluster; shared by the producer and the command-line tools' consumer.
pub fn connection_config(config: &Config) -> ClientConfig {
  let mut c = ClientConfig::new();
  c.set("bootstrap.servers", config.brokers.join(","))
    .set("client.id", &config.client_id)
    .set("security.protocol", config.security_protocol())
    .set("socket.connection.setup.timeout.ms", config.timeout_connect.as_millis().to_string());
  if let Some(sasl) = &config.sasl {
    c.set("sasl.mechanism", sasl.mechanism.librdkafka_name())
      .set("sasl.username", &sasl.username)
      .set("sasl.password", sasl.password.expose());
  }
  if let Some(tls) = &config.tls {
    // The vendored OpenSSL does not know the system's CA paths: let librdkafka probe for them.
    match (&tls.ca, &tls.extra_ca) {
      (None, None) => drop(c.set("ssl.ca.location", "probe")),
      // NODE_EXTRA_CA_CERTS is trusted besides the system's CAs. librdkafka does not probe once ssl.ca.pem is
      // set, so the system store it would have found is named here.
      (None, Some((_, extra))) => {
        c.set("ssl.ca.pem", extra);
        if let Some(system) = SYSTEM_CA_PATHS.iter().find(|p| std::path::Path::new(p).exists()) {
          c.set("ssl.ca.location", *system);
        }
      }
      (ca, _) => set_pem(&mut c, ca, "ssl.ca.location", "ssl.ca.pem"),
    }
    set_pem(&mut c, &tls.cert, "ssl.certificate.location", "ssl.certificate.pem");
    set_pem(&mut c, &tls.key, "ssl.key.location", "ssl.key.pem");
    if let Some(password) = &tls.key_password {
      c.set("ssl.key.password", password.expose());
    }
    if !tls.verify {
      c.set("enable.ssl.certificate.verification", "false").set("ssl.endpoint.identification.algorithm", "none");
    }
  }
  c
}

/// librdkafka properties for the logger's producer: connection, delivery settings, then the passthrough ones.
pub fn client_config(config: &Config) -> ClientConfig {
  let mut c = connection_config(config);
  c.set("acks", config.acks)
    .set("compression.type", config.compression)
    .set("linger.ms", config.linger_ms.to_string())
    .set("enable.idempotence", config.idempotent.to_string())
    .set("message.max.bytes", config.max_message_bytes.to_string())
    .set("message.timeout.ms", config.timeout_send.as_millis().to_string())
    // A topic missing from the metadata is reported unknown after this, instead of its records timing out
    // (and opening the breaker) for librdkafka's default 30 s; the worker gives a topic being created its own
    // grace period (src/worker.rs), without holding everything else back.
    .set("topic.metadata.propagation.max.ms", (config.timeout_send / 2).as_millis().max(1).to_string())
    // Same key -> same partition as Java clients (murmur2), so mixed producers agree.
    .set("partitioner", "murmur2_random")
    .set("statistics.interval.ms", "1000");
  for (key, value) in &config.rdkafka {
    c.set(key, value);
  }
  c
}

fn config_error(config: &Config, error: KafkaError) -> ConfigError {
  if let KafkaError::ClientCreation(text) = &error {
    // OpenSSL's verdict on a file that passed the PEM check (e.g. a damaged block): name our setting.
    if let Some(s) = tls_setting(config, text) {
      return ConfigError(format!("{} must be {}: librdkafka could not load it: {text}", describe(s), s.form));
    }
  }
  let detail = match error {
    KafkaError::ClientConfig(_, description, key, _) => {
      let shown = if Config::is_secret_property(&key) { "[redacted]".to_string() } else { description };
      format!("librdkafka rejected property {key:?}: {shown}")
    }
    other => other.to_string(),
  };
  ConfigError(format!("{RDKAFKA_OPTION_HINT}: {detail}"))
}

/// The TLS setting behind a librdkafka client creation error ("ssl.ca.location failed: ..."), when the logger
/// set that property and the passthrough did not override it.
fn tls_setting(config: &Config, text: &str) -> Option<&'static Setting> {
  let tls = config.tls.as_ref()?;
  let files = [("ssl.ca.", "SSL_CA", &tls.ca), ("ssl.certificate.", "SSL_CERT", &tls.cert), ("ssl.key.", "SSL_KEY", &tls.key)];
  let (prefix, name, _) = files.into_iter().find(|(prefix, _, pem)| pem.is_some() && text.starts_with(prefix))?;
  let overridden = config.rdkafka.iter().any(|(key, _)| key.starts_with(prefix));
  if overridden { None } else { settings::find(name) }
}

/// Checks every property with librdkafka without starting a client (no threads, no network).
pub fn validate(config: &Config) -> Result<(), ConfigError> {
  client_config(config).create_native_config().map(drop).map_err(|e| config_error(config, e))
}

pub fn create(config: &Config, metrics: Arc<Metrics>, diag: Arc<Diagnostics>) -> Result<Producer, ConfigError> {
  client_config(config)
    .create_with_context(LoggerContext { reports: Mutex::default(), metrics, diag, dns_cause: DnsCause::default() })
    .map_err(|e| config_error(config, e))
}

#[cfg(test)]
mod tests {
  use super::*;
  use crate::config::Sources;

  fn config(pairs: &[(&str, &str)]) -> Config {
    let env = pairs.iter().map(|(k, v)| (format!("N8N_KAFKA_LOGGER_{k}"), v.to_string())).collect();
    Config::parse(&Sources::from_env(env)).unwrap()
  }

  #[test]
  fn maps_sasl_ssl_and_passthrough_properties() {
    let c = client_config(&config(&[
      ("SSL", "true"),
      ("AUTH_ENABLED", "true"),
      ("USERNAME", "u"),
      ("PASSWORD", "p"),
      ("SASL_MECHANISM", "scram-sha-256"),
      ("RDKAFKA_SOCKET_KEEPALIVE_ENABLE", "true"),
    ]));
    assert_eq!(c.get("security.protocol"), Some("sasl_ssl"));
    assert_eq!(c.get("sasl.mechanism"), Some("SCRAM-SHA-256"));
    assert_eq!(c.get("ssl.ca.location"), Some("probe"));
    assert_eq!(c.get("socket.keepalive.enable"), Some("true"));
    assert_eq!(c.get("enable.idempotence"), Some("true"));
  }

  #[test]
  fn librdkafka_rejects_unknown_properties_without_echoing_secrets() {
    let err = validate(&config(&[("RDKAFKA_NO_SUCH_PROPERTY", "1")])).unwrap_err().to_string();
    assert!(err.contains("no.such.property"), "{err}");
    let err = validate(&config(&[("RDKAFKA_SASL_OAUTHBEARER_CLIENT_SECRET_X", "topsecret")])).unwrap_err().to_string();
    assert!(!err.contains("topsecret"), "{err}");
    assert!(validate(&config(&[])).is_ok());
  }

  #[test]
  fn a_dns_failure_explains_the_following_all_brokers_down() {
    use RDKafkaErrorCode::{AllBrokersDown, BrokerTransportFailure, Resolve};
    let cause = DnsCause::default();
    let down = || cause.explain(Some(AllBrokersDown), ErrorKind::Network, "1/1 brokers are down".into());
    assert_eq!(down(), (ErrorKind::Network, "1/1 brokers are down".into()));
    let resolve = "no-such-host.invalid:9092/bootstrap: Failed to resolve 'no-such-host.invalid:9092': Name or service not known";
    assert_eq!(cause.explain(Some(Resolve), ErrorKind::Dns, resolve.into()), (ErrorKind::Dns, resolve.into()));
    assert_eq!(down(), (ErrorKind::Dns, format!("1/1 brokers are down: {resolve}")));
    let refused = "127.0.0.1:1/bootstrap: Connect to ipv4#127.0.0.1:1 failed: Connection refused";
    cause.explain(Some(BrokerTransportFailure), ErrorKind::Network, refused.into());
    assert_eq!(down(), (ErrorKind::Network, "1/1 brokers are down".into()));
  }
}
