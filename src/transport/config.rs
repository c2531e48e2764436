//! The librdkafka client configuration from `Config`: connection (shared with the command-line tools), delivery
//! settings and passthrough properties, and librdkafka's verdict on them in the words of our settings.

use rdkafka::config::ClientConfig;
use rdkafka::error::KafkaError;

use crate::config::settings::{self, Setting};
use crate::config::{describe, Config, ConfigError, Pem, RDKAFKA_OPTION_HINT};
use crate::telemetry::scrub;

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
    // grace period (src/delivery/grace.rs), without holding everything else back.
    .set("topic.metadata.propagation.max.ms", (config.timeout_send / 2).as_millis().max(1).to_string())
    // Same key -> same partition as Java clients (murmur2), so mixed producers agree.
    .set("partitioner", "murmur2_random")
    .set("statistics.interval.ms", "1000");
  for (key, value) in &config.rdkafka {
    c.set(key, value);
  }
  c
}

pub(super) fn config_error(config: &Config, error: KafkaError) -> ConfigError {
  if let KafkaError::ClientCreation(text) = &error {
    // OpenSSL's verdict on a file that passed the PEM check (e.g. a damaged block): name our setting.
    if let Some(s) = tls_setting(config, text) {
      return ConfigError(format!("{} must be {}: librdkafka could not load it: {text}", describe(s), s.form));
    }
  }
  let detail = match error {
    KafkaError::ClientConfig(_, description, key, _) => format!("librdkafka rejected property {key:?}: {description}"),
    other => other.to_string(),
  };
  // librdkafka's text may quote a value: every value not known to be harmless is taken out, the reason stays.
  ConfigError(format!("{RDKAFKA_OPTION_HINT}: {}", scrub(&detail, &config.secret_values())))
}

/// The TLS setting behind a librdkafka client creation error ("ssl.ca.location failed: ..."), when the logger
/// set that property and the passthrough did not override it.
fn tls_setting(config: &Config, text: &str) -> Option<&'static Setting> {
  let tls = config.tls.as_ref()?;
  let files =
    [("ssl.ca.", "SSL_CA", &tls.ca), ("ssl.certificate.", "SSL_CERT", &tls.cert), ("ssl.key.", "SSL_KEY", &tls.key)];
  let (prefix, name, _) = files.into_iter().find(|(prefix, _, pem)| pem.is_some() && text.starts_with(prefix))?;
  let overridden = config.rdkafka.iter().any(|(key, _)| key.starts_with(prefix));
  if overridden {
    None
  } else {
    settings::find(name)
  }
}

/// Checks every property with librdkafka without starting a client (no threads, no network).
pub fn validate(config: &Config) -> Result<(), ConfigError> {
  client_config(config).create_native_config().map(drop).map_err(|e| config_error(config, e))
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
    // Default-deny: librdkafka's text is shown for a harmless property only, as it may quote the value.
    let err = validate(&config(&[("RDKAFKA_SASL_OAUTHBEARER_METHOD", "bogus-method")])).unwrap_err().to_string();
    assert!(err.contains("sasl.oauthbearer.method") && !err.contains("bogus-method"), "{err}");
    let err = validate(&config(&[("RDKAFKA_COMPRESSION_TYPE", "brotli")])).unwrap_err().to_string();
    assert!(err.contains("brotli"), "{err}");
    assert!(validate(&config(&[])).is_ok());
  }
}
