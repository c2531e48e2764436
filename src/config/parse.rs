//! Parsing: the raw strings of `Sources` validated against the settings table into a `Config`.

use std::io::Read;
use std::time::Duration;

use super::error::{describe, ConfigError, RDKAFKA_OPTION_HINT};
use super::error_detail::{ErrorDetail, Redaction};
use super::model::{Config, Pem, Sasl, SaslMechanism, Secret, Tls};
use super::settings::{self, Kind, Setting, RDKAFKA_ENV_PREFIX};
use super::sources::{parse_bool, Sources};

type Result<T> = std::result::Result<T, ConfigError>;

struct Parser<'a> {
  sources: &'a Sources,
  warnings: Vec<String>,
}

fn setting(name: &str) -> &'static Setting {
  settings::find(name).expect("every parsed setting is in the table")
}

fn invalid(setting: &Setting, got: Option<&str>) -> ConfigError {
  let shown = match got {
    Some(_) if setting.secret => " (value not shown)".to_string(),
    Some(v) => format!(", got {:?}", truncate_for_message(v)),
    None => String::new(),
  };
  ConfigError(format!("{} must be {}{}", describe(setting), setting.form, shown))
}

/// More than any CA bundle holds; a path such as /dev/zero must not be read forever.
const PEM_READ_LIMIT: u64 = 4 << 20;

/// The first PEM_READ_LIMIT bytes of a file.
fn read_start(path: &str) -> std::io::Result<Vec<u8>> {
  let mut bytes = Vec::new();
  std::fs::File::open(path)?.take(PEM_READ_LIMIT).read_to_end(&mut bytes)?;
  Ok(bytes)
}

/// Whether `text` holds a `-----BEGIN <x>-----` line whose label ends with `label` (so RSA PRIVATE KEY and
/// TRUSTED CERTIFICATE count), followed by its END line.
fn has_pem_block(text: &str, label: &str) -> bool {
  // An END line after one BEGIN is after every earlier BEGIN too: each label is looked up once.
  let mut looked_up = std::collections::HashSet::new();
  text.match_indices("-----BEGIN ").any(|(at, begin)| {
    let rest = &text[at + begin.len()..];
    let Some(len) = rest.find("-----") else { return false };
    let found = &rest[..len];
    !found.contains('\n')
      && found.ends_with(label)
      && looked_up.insert(found)
      && rest[len..].contains(&format!("-----END {found}-----"))
  })
}

fn truncate_for_message(value: &str) -> String {
  match value.char_indices().nth(64) {
    Some((i, _)) => format!("{}…", &value[..i]),
    None => value.to_string(),
  }
}

impl<'a> Parser<'a> {
  fn raw_or_default(&self, name: &str) -> (&'static Setting, Option<String>) {
    let s = setting(name);
    let value = self.sources.raw(s).map(str::to_string);
    let value = value.or_else(|| (!s.default.is_empty()).then(|| s.default.to_string()));
    (s, value)
  }

  fn string(&self, name: &str) -> Option<String> {
    self.raw_or_default(name).1
  }

  fn bool(&self, name: &str) -> Result<bool> {
    let (s, value) = self.raw_or_default(name);
    // Every boolean setting has a default; an unset one without would read as false, never panic.
    let Some(value) = value else { return Ok(false) };
    parse_bool(&value).ok_or_else(|| invalid(s, Some(&value)))
  }

  /// An integer within the setting's range. Outside it, a setting the fork had takes the nearest bound with a
  /// warning when the fork would have taken the value (digits, above 0); anything else (`10k`, `-5`, `1.5`) is
  /// refused, although the fork's parseInt read some of it.
  fn int(&mut self, name: &str) -> Result<u64> {
    let (s, value) = self.raw_or_default(name);
    let value = value.expect("integer settings have defaults");
    let (min, max, clamp) = s.bounds().expect("integer settings have a range");
    let digits = !value.is_empty() && value.bytes().all(|b| b.is_ascii_digit());
    // All digits but too long for u64: the fork took it, and it is above every bound.
    let n = digits.then(|| value.parse::<u64>().unwrap_or(u64::MAX));
    match n {
      Some(n) if (min..=max).contains(&n) => Ok(n),
      Some(n) if clamp && n > 0 => {
        let nearest = n.clamp(min, max);
        self.warnings.push(format!(
          "{} must be {}, got {value:?}: using {nearest}, the nearest supported value",
          describe(s),
          s.form
        ));
        Ok(nearest)
      }
      _ => Err(invalid(s, Some(&value))),
    }
  }

  fn millis(&mut self, name: &str) -> Result<Duration> {
    self.int(name).map(Duration::from_millis)
  }

  /// One of the setting's values (any letter case), or a value an alias stands for.
  fn choice(&self, name: &str) -> Result<&'static str> {
    let (s, value) = self.raw_or_default(name);
    let value = value.expect("choice settings have defaults");
    let Kind::Choice { values, aliases } = s.kind else { panic!("{name} is not a choice setting") };
    let lowered = value.to_ascii_lowercase();
    let alias = aliases.iter().find(|(alias, _)| *alias == lowered).map(|(_, to)| *to);
    values.iter().copied().find(|v| *v == lowered || Some(*v) == alias).ok_or_else(|| invalid(s, Some(&value)))
  }

  fn required_string(&self, name: &str, why: &str) -> Result<String> {
    let s = setting(name);
    self.string(name).ok_or_else(|| ConfigError(format!("{} is required when {why} ({})", describe(s), s.form)))
  }

  /// SSL_CA, SSL_CERT or SSL_KEY: inline PEM, or a readable file holding a PEM block labelled `*label`
  /// (CERTIFICATE, PRIVATE KEY). Checked now: librdkafka would only fail at initialize(), naming its own property.
  fn pem(&self, name: &str, label: &str) -> Result<Option<Pem>> {
    let s = setting(name);
    let Some(value) = self.string(name) else { return Ok(None) };
    let fail = |what: String| ConfigError(format!("{} must be {}: {what}", describe(s), s.form));
    let no_block = |source: String| {
      fail(format!("{source} holds no PEM {} (expected a -----BEGIN {label}----- block)", label.to_ascii_lowercase()))
    };
    if value.starts_with("-----BEGIN") {
      return if has_pem_block(&value, label) {
        Ok(Some(Pem::Inline(Secret(value))))
      } else {
        Err(no_block("the inline value".into()))
      };
    }
    // librdkafka also takes a directory of hashed CA certificates (ssl.ca.location).
    if name == "SSL_CA" && std::path::Path::new(&value).is_dir() {
      return Ok(Some(Pem::Path(value)));
    }
    match read_start(&value) {
      // Only the label is looked for: the contents (key material) are never shown.
      Ok(bytes) if has_pem_block(&String::from_utf8_lossy(&bytes), label) => Ok(Some(Pem::Path(value))),
      Ok(_) => Err(no_block(format!("the file {value:?}"))),
      // A key pasted without its header would otherwise be echoed here as a "path".
      Err(e) if s.secret => Err(fail(format!("cannot read it as a file (value not shown): {e}"))),
      Err(e) => Err(fail(format!("cannot read the file {value:?}: {e}"))),
    }
  }

  /// NODE_EXTRA_CA_CERTS, read as Node reads it: a file of PEM certificates; unreadable or without one, it is
  /// skipped with a warning (Node warns and starts too).
  fn node_extra_ca_certs(&mut self) -> Option<(String, String)> {
    let path = self.sources.other("NODE_EXTRA_CA_CERTS")?;
    match read_start(&path) {
      Ok(bytes) => {
        let text = String::from_utf8_lossy(&bytes).into_owned();
        if has_pem_block(&text, "CERTIFICATE") {
          return Some((path, text));
        }
        self.warnings.push(format!("NODE_EXTRA_CA_CERTS: the file {path:?} holds no PEM certificate: ignored"));
      }
      Err(e) => self.warnings.push(format!("NODE_EXTRA_CA_CERTS: cannot read the file {path:?}: {e}: ignored")),
    }
    None
  }

  fn brokers(&self) -> Result<Vec<String>> {
    let (s, value) = self.raw_or_default("BROKERS");
    let value = value.expect("brokers has a default");
    let brokers: Vec<String> = value.split(',').map(|b| b.trim().to_string()).filter(|b| !b.is_empty()).collect();
    let valid = |b: &String| match b.rsplit_once(':') {
      Some((host, port)) => !host.is_empty() && !host.contains("://") && port.parse::<u16>().is_ok_and(|p| p > 0),
      None => false,
    };
    if brokers.is_empty() || !brokers.iter().all(valid) {
      return Err(invalid(s, Some(&value)));
    }
    Ok(brokers)
  }

  /// SPOOL_DIR, else n8n's own folder convention: <N8N_USER_FOLDER or HOME>/.n8n/kafka-logger-spool. Only an
  /// absolute folder counts; without one in the sources (an environment object without them) the process's own
  /// home, and without any home no spool and a warning: never a path relative to the working directory.
  fn spool_dir(&mut self) -> Option<std::path::PathBuf> {
    match self.string("SPOOL_DIR").as_deref() {
      Some("off") => None,
      Some(dir) => Some(dir.into()),
      None => {
        let home = ["N8N_USER_FOLDER", "HOME", "USERPROFILE"]
          .iter()
          .find_map(|k| self.sources.other(k).map(std::path::PathBuf::from).filter(|p| p.is_absolute()))
          .or_else(|| std::env::home_dir().filter(|p| p.is_absolute()));
        if home.is_none() {
          self.warnings.push(
            "no spool: neither N8N_USER_FOLDER nor HOME is an absolute folder and the process has no home; set N8N_KAFKA_LOGGER_SPOOL_DIR".into(),
          );
        }
        home.map(|home| home.join(".n8n").join("kafka-logger-spool"))
      }
    }
  }

  fn dlq_topic(&self, topic: &str) -> Result<Option<String>> {
    match self.string("DLQ_TOPIC").as_deref() {
      Some("off") => Ok(None),
      Some(_) => self.topic("DLQ_TOPIC").map(Some),
      None => Ok(Some(format!("{topic}.dlq")).filter(|t| t.len() <= 249)),
    }
  }

  fn topic(&self, name: &str) -> Result<String> {
    let (s, value) = self.raw_or_default(name);
    let value = value.unwrap_or_default();
    let legal = value.len() <= 249
      && value != "."
      && value != ".."
      && value.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-'));
    if legal {
      Ok(value)
    } else {
      Err(invalid(s, Some(&value)))
    }
  }

  fn error_detail(&self) -> Result<ErrorDetail> {
    Ok(match self.choice("ERROR_DETAIL")? {
      "full" => ErrorDetail::Full,
      "message" => ErrorDetail::Message,
      _ => ErrorDetail::Type,
    })
  }

  /// REDACT: the error names the entry and, for a bad pattern, its compile error; the value itself is not echoed.
  fn redaction(&self) -> Result<Option<Redaction>> {
    let s = setting("REDACT");
    let Some(value) = self.string("REDACT") else { return Ok(None) };
    Redaction::parse(&value).map_err(|why| ConfigError(format!("{} must be {}: {why}", describe(s), s.form)))
  }

  fn rdkafka_passthrough(&self) -> Result<Vec<(String, String)>> {
    let mut props: Vec<(String, String)> = self
      .sources
      .env
      .iter()
      .filter_map(|(k, v)| k.strip_prefix(RDKAFKA_ENV_PREFIX).map(|p| (p, v)))
      .map(|(p, v)| (p.to_ascii_lowercase().replace('_', "."), v.trim().to_string()))
      .collect();
    props.sort();
    props.extend(self.sources.rdkafka_options.iter().cloned());
    for (key, _) in &props {
      if key.is_empty() || !key.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '.') {
        return Err(ConfigError(format!(
          "{RDKAFKA_OPTION_HINT} must name a librdkafka property such as socket.keepalive.enable, got {:?}",
          truncate_for_message(key)
        )));
      }
    }
    Ok(props)
  }
}
impl Config {
  pub fn parse(sources: &Sources) -> Result<Config> {
    let mut p = Parser { sources, warnings: sources.unknown_variables() };
    let enabled = p.bool("ENABLED")?;
    let ssl = p.bool("SSL")?;
    let ssl_verify = p.bool("SSL_VERIFY")?;
    let auth_enabled = p.bool("AUTH_ENABLED")?;
    let idempotent = p.bool("IDEMPOTENT")?;
    let validate_on_startup = p.bool("VALIDATE_ON_STARTUP")?;
    let node_events = p.bool("NODE_EVENTS")?;

    let queue_max_size = p.int("QUEUE_MAX_SIZE")? as usize;
    let queue_batch_size = p.int("QUEUE_BATCH_SIZE")? as usize;
    if queue_batch_size > queue_max_size {
      return Err(ConfigError(format!(
        "{} must be {}: {queue_batch_size} is larger than {} = {queue_max_size}",
        describe(setting("QUEUE_BATCH_SIZE")),
        setting("QUEUE_BATCH_SIZE").form,
        describe(setting("QUEUE_MAX_SIZE")),
      )));
    }

    // SASL_MECHANISM is read only with AUTH_ENABLED=true, as the fork did: a leftover value does not stop logging.
    let sasl = if auth_enabled {
      let why = format!("{} is true", describe(setting("AUTH_ENABLED")));
      let mechanism = match p.choice("SASL_MECHANISM")? {
        "plain" => SaslMechanism::Plain,
        "scram-sha-256" => SaslMechanism::ScramSha256,
        _ => SaslMechanism::ScramSha512,
      };
      Some(Sasl {
        mechanism,
        username: p.required_string("USERNAME", &why)?,
        password: Secret(p.required_string("PASSWORD", &why)?),
      })
    } else {
      None
    };

    let tls_files =
      [p.pem("SSL_CA", "CERTIFICATE")?, p.pem("SSL_CERT", "CERTIFICATE")?, p.pem("SSL_KEY", "PRIVATE KEY")?];
    let key_password = p.string("SSL_KEY_PASSWORD").map(Secret);
    let tls = if ssl {
      let [ca, cert, key] = tls_files;
      if cert.is_some() != key.is_some() {
        let (given, missing) = if cert.is_some() { ("SSL_CERT", "SSL_KEY") } else { ("SSL_KEY", "SSL_CERT") };
        return Err(ConfigError(format!(
          "{} is required when {} is set (mutual TLS needs both)",
          describe(setting(missing)),
          describe(setting(given))
        )));
      }
      if !ssl_verify {
        p.warnings.push(format!(
          "{} is false: broker certificates and host names are NOT verified",
          describe(setting("SSL_VERIFY"))
        ));
      }
      let extra_ca = if ca.is_none() { p.node_extra_ca_certs() } else { None };
      Some(Tls { ca, extra_ca, cert, key, key_password, verify: ssl_verify })
    } else {
      if let Some(name) =
        ["SSL_CA", "SSL_CERT", "SSL_KEY"].iter().zip(&tls_files).find(|(_, f)| f.is_some()).map(|(n, _)| n)
      {
        return Err(ConfigError(format!(
          "{} is set but {} is not true: set {}=true to use TLS",
          describe(setting(name)),
          describe(setting("SSL")),
          describe(setting("SSL"))
        )));
      }
      None
    };

    let acks = p.choice("ACKS")?;
    if idempotent && acks != "all" {
      return Err(ConfigError(format!(
        "{} must be all while {} is true (set {}=false to use acks={acks})",
        describe(setting("ACKS")),
        describe(setting("IDEMPOTENT")),
        describe(setting("IDEMPOTENT")),
      )));
    }

    // The fork's order: NODE_ENV, then the unprefixed ENVIRONMENT, then development.
    let environment = p
      .sources
      .raw(setting("ENVIRONMENT"))
      .map(str::to_string)
      .or_else(|| p.sources.other("NODE_ENV"))
      .or_else(|| p.sources.other("ENVIRONMENT"))
      .unwrap_or_else(|| setting("ENVIRONMENT").default.to_string());
    if enabled && p.sources.raw(setting("BROKERS")).is_none() {
      p.warnings.push(format!(
        "{} is not set: logging to {}, the fork's default",
        describe(setting("BROKERS")),
        setting("BROKERS").default
      ));
    }

    let topic = p.topic("TOPIC")?;
    let config = Config {
      enabled,
      brokers: p.brokers()?,
      client_id: p.string("CLIENT_ID").expect("client id has a default"),
      dlq_topic: p.dlq_topic(&topic)?,
      durable: p.choice("DURABILITY")? == "disk",
      spool_dir: p.spool_dir(),
      spool_max_bytes: p.int("SPOOL_MAX_BYTES")?,
      spool_sync_interval: p.millis("SPOOL_SYNC_INTERVAL")?,
      topic,
      tls,
      sasl,
      queue_max_size,
      queue_max_bytes: p.int("QUEUE_MAX_BYTES")? as usize,
      queue_batch_size,
      queue_flush_interval: p.millis("QUEUE_FLUSH_INTERVAL")?,
      cb_failure_threshold: p.int("CB_FAILURE_THRESHOLD")? as u32,
      cb_reset_timeout: p.millis("CB_RESET_TIMEOUT")?,
      cb_monitoring_period: p.millis("CB_MONITORING_PERIOD")?,
      timeout_connect: p.millis("TIMEOUT_CONNECT")?,
      timeout_send: p.millis("TIMEOUT_SEND")?,
      timeout_disconnect: p.millis("TIMEOUT_DISCONNECT")?,
      acks,
      compression: p.choice("COMPRESSION")?,
      linger_ms: p.int("LINGER_MS")?,
      idempotent,
      max_message_bytes: p.int("MAX_MESSAGE_BYTES")?,
      validate_on_startup,
      environment,
      instance_id: p.string("INSTANCE_ID"),
      instance_type: p.choice("INSTANCE_TYPE")?,
      n8n_version: p.string("N8N_VERSION"),
      node_events,
      fork_format: p.choice("MESSAGE_FORMAT")? == "fork",
      key_by_message: p.choice("KEY")? == "message",
      error_detail: p.error_detail()?,
      redaction: p.redaction()?,
      health_token: p.string("HEALTH_TOKEN").map(Secret),
      rdkafka: p.rdkafka_passthrough()?,
      warnings: Vec::new(),
    };
    if config.linger_ms >= config.timeout_send.as_millis() as u64 {
      return Err(ConfigError(format!(
        "{} must be smaller than {} ({} >= {})",
        describe(setting("LINGER_MS")),
        describe(setting("TIMEOUT_SEND")),
        config.linger_ms,
        config.timeout_send.as_millis()
      )));
    }
    Ok(Config { warnings: p.warnings, ..config })
  }
}

#[cfg(test)]
mod tests {
  use std::collections::HashMap;

  use super::*;
  use crate::config::is_configured;
  use crate::config::settings::ENV_PREFIX;

  fn parse(pairs: &[(&str, &str)]) -> Result<Config> {
    let env = pairs.iter().map(|(k, v)| (format!("{ENV_PREFIX}{k}"), v.to_string())).collect();
    Config::parse(&Sources::from_env(env))
  }

  fn err(pairs: &[(&str, &str)]) -> String {
    parse(pairs).expect_err("configuration should be rejected").to_string()
  }

  #[test]
  fn defaults_match_the_fork() {
    let c = parse(&[]).unwrap();
    assert!(!c.enabled);
    assert_eq!(c.brokers, vec!["localhost:9092"]);
    assert_eq!(c.client_id, "n8n-execution-logger");
    assert_eq!(c.topic, "n8n-executions");
    assert_eq!((c.queue_max_size, c.queue_batch_size, c.queue_max_bytes), (10_000, 100, 64 << 20));
    assert_eq!(c.queue_flush_interval, Duration::from_millis(5000));
    assert_eq!(c.cb_failure_threshold, 5);
    assert_eq!(c.cb_reset_timeout, Duration::from_millis(60_000));
    assert_eq!(c.timeout_send, Duration::from_millis(5000));
    assert_eq!((c.acks, c.compression, c.idempotent), ("all", "none", true));
    assert_eq!(c.environment, "development");
    assert!(!c.fork_format && !c.key_by_message);
    assert_eq!(c.security_protocol(), "plaintext");
  }

  #[test]
  fn options_override_the_environment() {
    let mut sources = Sources::from_env([(format!("{ENV_PREFIX}TOPIC"), "from-env".to_string())].into());
    sources.options.insert("topic".into(), "from-option".into());
    assert_eq!(Config::parse(&sources).unwrap().topic, "from-option");
  }

  #[test]
  fn booleans_are_true_or_false_in_any_letter_case_and_nothing_else() {
    for (text, expected) in [("TRUE", true), ("True", true), (" true ", true), ("FALSE", false), ("fAlSe", false)] {
      assert_eq!(parse(&[("ENABLED", text)]).unwrap().enabled, expected, "{text:?}");
    }
    let c = parse(&[("SSL", "TRUE"), ("SSL_VERIFY", "False"), ("IDEMPOTENT", "FALSE"), ("ACKS", "1")]).unwrap();
    assert!(c.tls.is_some_and(|t| !t.verify) && !c.idempotent);
    for text in ["1", "0", "yes", "no", "on", "off", "enabled"] {
      assert_eq!(
        err(&[("NODE_EVENTS", text)]),
        format!(
          "Invalid Kafka logger configuration: N8N_KAFKA_LOGGER_NODE_EVENTS (option nodeEvents) must be true or false (any letter case), got {text:?}"
        )
      );
    }
    assert!(parse(&[]).unwrap().warnings.is_empty());
  }

  #[test]
  fn malformed_numbers_name_the_setting() {
    assert_eq!(
      err(&[("QUEUE_MAX_SIZE", "lots")]),
      "Invalid Kafka logger configuration: N8N_KAFKA_LOGGER_QUEUE_MAX_SIZE (option queueMaxSize) must be an integer from 1 to 1000000, got \"lots\""
    );
    assert!(err(&[("TIMEOUT_SEND", "1.5")]).contains("N8N_KAFKA_LOGGER_TIMEOUT_SEND"));
    assert!(err(&[("CB_FAILURE_THRESHOLD", "0")]).contains("from 1 to 10000"));
    assert!(err(&[("QUEUE_BATCH_SIZE", "20"), ("QUEUE_MAX_SIZE", "10")]).contains("larger than"));
  }

  #[test]
  fn sasl_needs_credentials_and_never_echoes_the_password() {
    assert!(err(&[("AUTH_ENABLED", "true")]).contains("N8N_KAFKA_LOGGER_USERNAME (option username) is required"));
    let c = parse(&[
      ("AUTH_ENABLED", "true"),
      ("USERNAME", "u"),
      ("PASSWORD", "hunter2-secret"),
      ("SASL_MECHANISM", "SCRAM-SHA-512"),
    ])
    .unwrap();
    assert_eq!(c.sasl.as_ref().unwrap().mechanism, SaslMechanism::ScramSha512);
    let shown = format!("{:?} {}", c, c.redacted_summary());
    assert!(!shown.contains("hunter2-secret"), "{shown}");
    let auth = [("AUTH_ENABLED", "true"), ("USERNAME", "u"), ("PASSWORD", "p"), ("SASL_MECHANISM", "gssapi")];
    assert!(err(&auth).contains("one of plain, scram-sha-256, scram-sha-512, got \"gssapi\""));
    // The fork read SASL_MECHANISM only with auth on: a leftover value does not stop logging.
    let c = parse(&[("AUTH_ENABLED", "false"), ("SASL_MECHANISM", "gssapi")]).unwrap();
    assert!(c.sasl.is_none() && c.warnings.is_empty());
  }

  #[test]
  fn tls_files_must_be_readable_and_paired() {
    assert!(err(&[("SSL", "true"), ("SSL_CA", "/nonexistent/ca.pem")])
      .contains("cannot read the file \"/nonexistent/ca.pem\""));
    let inline = "-----BEGIN CERTIFICATE-----\nabc\n-----END CERTIFICATE-----";
    assert!(
      err(&[("SSL", "true"), ("SSL_CERT", inline)]).contains("N8N_KAFKA_LOGGER_SSL_KEY (option sslKey) is required")
    );
    assert!(err(&[("SSL_CA", inline)]).contains("is not true"));
    let pasted = "MIIEvQIBADANBgkqhkiG9w0BAQEFAASCBKcwggSjAgEAAoIBAQC-secret-key-body";
    let message = err(&[("SSL", "true"), ("SSL_CERT", inline), ("SSL_KEY", pasted)]);
    assert!(message.contains("(value not shown)") && !message.contains("secret-key-body"), "{message}");
    let c = parse(&[("SSL", "true"), ("SSL_VERIFY", "false")]).unwrap();
    assert!(c.warnings.iter().any(|w| w.contains("NOT verified")));
  }

  #[test]
  fn tls_files_must_hold_the_expected_pem_block_which_is_never_shown() {
    let dir = tempfile::tempdir().unwrap();
    let file = |name: &str, text: &str| {
      let path = dir.path().join(name);
      std::fs::write(&path, text).unwrap();
      path.display().to_string()
    };
    let cert = file("client.crt", "subject=CN=n8n\n-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n");
    let key =
      file("client.key", "-----BEGIN RSA PRIVATE KEY-----\nMIIE-secret-key-body\n-----END RSA PRIVATE KEY-----\n");
    let empty = file("empty.pem", "");
    let garbage = file("garbage.pem", "not a certificate at all");
    // Megabytes of unterminated blocks: each label is searched for its END line once, not once per BEGIN.
    let unterminated = file("unterminated.pem", &"-----BEGIN CERTIFICATE-----\nMIIB\n".repeat(100_000));
    let prefix = "Invalid Kafka logger configuration: ";
    for ca in [&empty, &garbage, &unterminated] {
      assert_eq!(
        err(&[("SSL", "true"), ("SSL_CA", ca)]),
        format!("{prefix}N8N_KAFKA_LOGGER_SSL_CA (option sslCa) must be a file path or inline PEM: the file {ca:?} holds no PEM certificate (expected a -----BEGIN CERTIFICATE----- block)")
      );
    }
    // Certificate and key swapped: each named, the key's contents never shown.
    let message = err(&[("SSL", "true"), ("SSL_CERT", &key), ("SSL_KEY", &cert)]);
    assert!(message.starts_with(&format!("{prefix}N8N_KAFKA_LOGGER_SSL_CERT (option sslCert) must be")), "{message}");
    assert!(
      message.contains(&format!("the file {key:?} holds no PEM certificate")) && !message.contains("secret-key-body")
    );
    assert_eq!(
      err(&[("SSL", "true"), ("SSL_CERT", &cert), ("SSL_KEY", &cert)]),
      format!("{prefix}N8N_KAFKA_LOGGER_SSL_KEY (option sslKey) must be a file path or inline PEM: the file {cert:?} holds no PEM private key (expected a -----BEGIN PRIVATE KEY----- block)")
    );
    let truncated = "-----BEGIN PRIVATE KEY-----\nMIIE-secret-key-body";
    let message = err(&[("SSL", "true"), ("SSL_CERT", &cert), ("SSL_KEY", truncated)]);
    assert!(
      message.ends_with("the inline value holds no PEM private key (expected a -----BEGIN PRIVATE KEY----- block)"),
      "{message}"
    );
    assert!(!message.contains("secret-key-body"));
    // Good files, and a CA directory (librdkafka reads hashed certificates from it).
    let ca_dir = dir.path().display().to_string();
    let c = parse(&[("SSL", "true"), ("SSL_CA", &ca_dir), ("SSL_CERT", &cert), ("SSL_KEY", &key)]).unwrap();
    assert_eq!(c.tls.unwrap().ca, Some(Pem::Path(ca_dir)));
  }

  #[test]
  fn conflicting_and_malformed_values() {
    assert!(err(&[("ACKS", "1")]).contains("must be all while N8N_KAFKA_LOGGER_IDEMPOTENT"));
    assert_eq!(parse(&[("ACKS", "1"), ("IDEMPOTENT", "false")]).unwrap().acks, "1");
    assert!(err(&[("BROKERS", "kafka")]).contains("host:port"));
    assert!(err(&[("BROKERS", "PLAINTEXT://kafka:9092")]).contains("host:port"));
    assert!(err(&[("BROKERS", " , ")]).contains("host:port"));
    assert!(err(&[("TOPIC", "bad topic")]).contains("Kafka topic name"));
    assert!(err(&[("DLQ_TOPIC", "bad/dlq")])
      .contains("N8N_KAFKA_LOGGER_DLQ_TOPIC (option dlqTopic) must be a Kafka topic name"));
    assert_eq!(parse(&[]).unwrap().dlq_topic.as_deref(), Some("n8n-executions.dlq"));
    assert_eq!(parse(&[("DLQ_TOPIC", "off")]).unwrap().dlq_topic, None);
    assert!(err(&[("DURABILITY", "paper")]).contains("one of memory, disk"));
    assert!(err(&[("SPOOL_MAX_BYTES", "10")]).contains("from 1048576"));
    assert_eq!(
      err(&[("QUEUE_MAX_BYTES", "1000")]),
      "Invalid Kafka logger configuration: N8N_KAFKA_LOGGER_QUEUE_MAX_BYTES (option queueMaxBytes) must be an integer from 1048576 to 68719476736, got \"1000\""
    );
    assert_eq!(parse(&[("QUEUE_MAX_BYTES", "2097152")]).unwrap().queue_max_bytes, 2 << 20);
    assert_eq!(parse(&[("SPOOL_DIR", "off")]).unwrap().spool_dir, None);
    // Without N8N_USER_FOLDER or HOME in the sources, or with relative ones, the process's home; never ./.n8n.
    for env in [vec![], vec![("HOME".to_string(), "relative/home".to_string())]] {
      let dir = Config::parse(&Sources::from_env(env.into_iter().collect())).unwrap().spool_dir.expect("a spool");
      assert!(dir.is_absolute() && dir.ends_with(".n8n/kafka-logger-spool"), "{dir:?}");
      assert_eq!(Some(dir.as_path()), std::env::home_dir().map(|h| h.join(".n8n/kafka-logger-spool")).as_deref());
    }
    assert!(err(&[("COMPRESSION", "brotli")]).contains("none, gzip"));
    assert!(err(&[("LINGER_MS", "6000")]).contains("smaller than"));
    assert!(err(&[("INSTANCE_TYPE", "leader")]).contains("main, worker, webhook"));
  }

  #[test]
  fn rdkafka_passthrough_maps_underscores_to_dots_and_redacts_secrets() {
    let c = parse(&[("RDKAFKA_SOCKET_KEEPALIVE_ENABLE", "true"), ("RDKAFKA_SSL_KEY_PASSWORD", "pw-secret")]).unwrap();
    assert!(c.rdkafka.contains(&("socket.keepalive.enable".into(), "true".into())));
    assert!(!c.redacted_summary().to_string().contains("pw-secret"));
  }

  #[test]
  fn only_harmless_passthrough_values_are_shown_and_every_other_one_is_scrubbed() {
    let c = parse(&[
      ("RDKAFKA_SASL_OAUTHBEARER_CONFIG", "principal=admin extension_x=oauth-value-1-cfg"),
      ("RDKAFKA_SASL_OAUTHBEARER_EXTENSIONS", "traceId=oauth-value-1-ext"),
      ("RDKAFKA_SASL_KERBEROS_KINIT_CMD", "kinit -t /etc/oauth-value-1-kinit.keytab"),
      ("RDKAFKA_SASL_OAUTHBEARER_CLIENT_ID", "oauth-value-1-client"),
      ("RDKAFKA_SOCKET_KEEPALIVE_ENABLE", "true"),
      ("RDKAFKA_LINGER_MS", "7"),
    ])
    .unwrap();
    let summary = c.redacted_summary();
    let shown = summary["rdkafka"].as_object().unwrap();
    for key in ["sasl.oauthbearer.config", "sasl.oauthbearer.extensions", "sasl.kerberos.kinit.cmd"] {
      assert_eq!(shown[key], "[set]", "{key}");
    }
    assert_eq!(shown["sasl.oauthbearer.client.id"], "[set]");
    assert_eq!((&shown["socket.keepalive.enable"], &shown["linger.ms"]), (&"true".into(), &"7".into()));
    let text = summary.to_string();
    let secrets = c.secret_values();
    for value in ["oauth-value-1-cfg", "oauth-value-1-ext", "oauth-value-1-kinit", "oauth-value-1-client"] {
      assert!(!text.contains(value), "{value} in {text}");
      assert!(secrets.iter().any(|s| s.contains(value)), "{value} is not scrubbed: {secrets:?}");
    }
    assert!(!secrets.iter().any(|s| s == "true" || s == "7"), "{secrets:?}");
  }

  #[test]
  fn an_inline_private_key_is_scrubbed_and_a_key_path_is_not() {
    let cert = "-----BEGIN CERTIFICATE-----\nabc\n-----END CERTIFICATE-----";
    let key = "-----BEGIN PRIVATE KEY-----\nkey-body-1\n-----END PRIVATE KEY-----";
    let c = parse(&[("SSL", "true"), ("SSL_CERT", cert), ("SSL_KEY", key)]).unwrap();
    assert!(c.secret_values().iter().any(|s| s == key), "the inline key is a secret");
    assert!(!c.redacted_summary().to_string().contains("key-body-1"));
  }

  #[test]
  fn empty_values_mean_unset_and_is_configured_needs_enabled() {
    assert_eq!(parse(&[("TOPIC", "  ")]).unwrap().topic, "n8n-executions");
    let env = |pairs: &[(&str, &str)]| pairs.iter().map(|(k, v)| (format!("{ENV_PREFIX}{k}"), v.to_string())).collect();
    assert!(is_configured(&env(&[("ENABLED", "true"), ("BROKERS", "k:9092")])));
    assert!(is_configured(&env(&[("ENABLED", "true")])));
    assert!(!is_configured(&env(&[("BROKERS", "k:9092")])));
    assert!(is_configured(&env(&[("ENABLED", " TRUE "), ("BROKERS", "k:9092")])));
    assert!(!is_configured(&env(&[("ENABLED", "yes"), ("BROKERS", "k:9092")])));
    assert!(!is_configured(&env(&[("ENABLED", "1"), ("BROKERS", "k:9092")])));
  }

  #[test]
  fn enabled_without_brokers_uses_the_forks_default_with_one_warning() {
    let c = parse(&[("ENABLED", "true")]).unwrap();
    assert_eq!(c.brokers, ["localhost:9092"]);
    assert_eq!(
      c.warnings,
      ["N8N_KAFKA_LOGGER_BROKERS (option brokers) is not set: logging to localhost:9092, the fork's default"]
    );
    assert!(parse(&[("ENABLED", "true"), ("BROKERS", "k:9092")]).unwrap().warnings.is_empty());
    assert!(parse(&[]).unwrap().warnings.is_empty());
  }

  #[test]
  fn unknown_variables_warn_once_naming_the_closest_setting_and_never_the_value() {
    let c = parse(&[
      ("BROKRS", "k:9092"),
      ("SSL_VERIFI", "secret-looking-value"),
      ("X", "1"),
      ("RDKAFKA_SOCKET_KEEPALIVE_ENABLE", "true"),
      ("TOPIC", "t"),
    ])
    .unwrap();
    assert_eq!(
      c.warnings,
      [
        "N8N_KAFKA_LOGGER_BROKRS is not a setting of the logger and is ignored: did you mean N8N_KAFKA_LOGGER_BROKERS?",
        "N8N_KAFKA_LOGGER_SSL_VERIFI is not a setting of the logger and is ignored: did you mean N8N_KAFKA_LOGGER_SSL_VERIFY?",
        "N8N_KAFKA_LOGGER_X is not a setting of the logger and is ignored: KafkaExecutionLogger.settings() lists the accepted names",
      ]
    );
    assert!(parse(&[("TOPIC", "t"), ("RDKAFKA_LINGER_MS", "1")]).unwrap().warnings.is_empty());
  }

  #[test]
  fn numbers_the_fork_took_are_clamped_with_one_warning_naming_the_setting() {
    for (name, given, used, form) in [
      ("QUEUE_MAX_SIZE", "2000000", 1_000_000, "an integer from 1 to 1000000"),
      ("TIMEOUT_SEND", "50", 100, "milliseconds, an integer from 100 to 600000"),
      ("TIMEOUT_CONNECT", "500", 1_000, "milliseconds, an integer from 1000 to 600000"),
      ("CB_RESET_TIMEOUT", "99", 100, "milliseconds, an integer from 100 to 3600000"),
      ("CB_FAILURE_THRESHOLD", "99999999999999999999999", 10_000, "an integer from 1 to 10000"),
      ("TIMEOUT_DISCONNECT", "700000", 600_000, "milliseconds, an integer from 0 to 600000"),
    ] {
      let c = parse(&[(name, given)]).unwrap();
      let option = settings::find(name).unwrap().option;
      assert_eq!(
        c.warnings,
        [format!("N8N_KAFKA_LOGGER_{name} (option {option}) must be {form}, got {given:?}: using {used}, the nearest supported value")]
      );
      let summary = c.redacted_summary();
      let shown = summary.as_object().unwrap().iter().find(|(k, _)| k.starts_with(option)).unwrap().1;
      assert_eq!(shown, used, "{name}");
    }
    // Malformed values, 0 (the fork refused it too) and the package's own settings stay errors.
    assert!(err(&[("QUEUE_MAX_SIZE", "10k")]).ends_with("must be an integer from 1 to 1000000, got \"10k\""));
    assert!(err(&[("TIMEOUT_SEND", "0")]).contains("N8N_KAFKA_LOGGER_TIMEOUT_SEND"));
    assert!(err(&[("TIMEOUT_SEND", "-5")]).contains("got \"-5\""));
    assert!(err(&[("SPOOL_MAX_BYTES", "10")]).contains("from 1048576"));
    let both = parse(&[("QUEUE_BATCH_SIZE", "2000000"), ("QUEUE_MAX_SIZE", "3000000")]).unwrap();
    assert_eq!((both.queue_batch_size, both.queue_max_size, both.warnings.len()), (1_000_000, 1_000_000, 2));
  }

  #[test]
  fn the_environment_dimension_falls_back_as_the_fork_read_it() {
    let env =
      |pairs: &[(&str, &str)]| Sources::from_env(pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect());
    let environment = |pairs: &[(&str, &str)]| Config::parse(&env(pairs)).unwrap().environment;
    assert_eq!(environment(&[]), "development");
    assert_eq!(environment(&[("ENVIRONMENT", "staging")]), "staging");
    assert_eq!(environment(&[("ENVIRONMENT", "staging"), ("NODE_ENV", "production")]), "production");
    assert_eq!(environment(&[("NODE_ENV", " "), ("ENVIRONMENT", "staging")]), "staging");
    assert_eq!(environment(&[("NODE_ENV", "production"), ("N8N_KAFKA_LOGGER_ENVIRONMENT", "eu-1")]), "eu-1");
  }

  #[test]
  fn node_extra_ca_certs_is_trusted_while_ssl_ca_is_unset() {
    let dir = tempfile::tempdir().unwrap();
    let ca = dir.path().join("ca.pem");
    std::fs::write(&ca, "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n").unwrap();
    let ca = ca.display().to_string();
    let with = |pairs: &[(&str, &str)], extra: &str| {
      let mut env: HashMap<String, String> =
        pairs.iter().map(|(k, v)| (format!("{ENV_PREFIX}{k}"), v.to_string())).collect();
      env.insert("NODE_EXTRA_CA_CERTS".into(), extra.into());
      Config::parse(&Sources::from_env(env)).unwrap()
    };
    let c = with(&[("SSL", "true")], &ca);
    assert_eq!(c.tls.as_ref().unwrap().extra_ca.as_ref().map(|(p, _)| p.as_str()), Some(ca.as_str()));
    assert_eq!(c.redacted_summary()["sslExtraCa"], ca.as_str());
    assert!(with(&[("SSL", "true"), ("SSL_CA", &ca)], &ca).tls.unwrap().extra_ca.is_none());
    assert!(with(&[], &ca).tls.is_none());
    let missing = with(&[("SSL", "true")], "/nonexistent/extra.pem");
    assert!(missing.tls.unwrap().extra_ca.is_none());
    assert!(
      missing.warnings[0].starts_with("NODE_EXTRA_CA_CERTS: cannot read the file \"/nonexistent/extra.pem\""),
      "{:?}",
      missing.warnings
    );
  }

  #[test]
  fn message_format_and_key() {
    let c = parse(&[("MESSAGE_FORMAT", "fork"), ("KEY", "message")]).unwrap();
    assert!(c.fork_format && c.key_by_message);
    assert!(err(&[("MESSAGE_FORMAT", "v1")])
      .ends_with("N8N_KAFKA_LOGGER_MESSAGE_FORMAT (option messageFormat) must be one of current, fork, got \"v1\""));
    assert!(err(&[("KEY", "random")]).contains("one of execution, message"));
  }

  #[test]
  fn error_detail_and_redact() {
    let c = parse(&[]).unwrap();
    assert!(c.error_detail == ErrorDetail::Full && c.redaction.is_none(), "the fork's messages by default");
    assert_eq!(parse(&[("ERROR_DETAIL", "TYPE")]).unwrap().error_detail, ErrorDetail::Type);
    assert_eq!(parse(&[("ERROR_DETAIL", "message")]).unwrap().error_detail, ErrorDetail::Message);
    assert_eq!(
      err(&[("ERROR_DETAIL", "none")]),
      "Invalid Kafka logger configuration: N8N_KAFKA_LOGGER_ERROR_DETAIL (option errorDetail) must be one of full, message, type, got \"none\""
    );
    let c = parse(&[("REDACT", r#"["sk-[a-z]+", "\\d{16}"]"#)]).unwrap();
    assert_eq!(c.redaction.as_ref().unwrap().apply("sk-abc 1234567812345678"), "[redacted] [redacted]");
    assert_eq!(c.redacted_summary()["redactPatterns"], 2);
    assert!(parse(&[("REDACT", "[]")]).unwrap().redaction.is_none());
    let prefix = "Invalid Kafka logger configuration: N8N_KAFKA_LOGGER_REDACT (option redact) must be a JSON array of regular expressions, such as [\"sk-[A-Za-z0-9]+\"]: ";
    let message = err(&[("REDACT", "sk-live-[0-9]+")]);
    assert!(
      message.starts_with(&format!("{prefix}not a JSON array of strings")) && !message.contains("live"),
      "{message}"
    );
    let message = err(&[("REDACT", r#"["ok", "(unclosed"]"#)]);
    assert!(message.starts_with(&format!("{prefix}entry 2 is not a valid regular expression: ")), "{message}");
    assert!(message.contains("unclosed group"), "{message}");
  }
}
