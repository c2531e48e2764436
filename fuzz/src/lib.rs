//! The fuzz harness: structured inputs built from raw bytes with `arbitrary`, and the properties checked on
//! them. Shared by the libFuzzer targets (`fuzz_targets/`, run by cargo fuzz) and the stable-Rust random-bytes
//! runner (`src/bin/stable-fuzz.rs`), so both check exactly the same things.
//!
//! - `event_prepare`: `event::prepare` on arbitrary `ExecutionInput`s never panics and always yields a JSON
//!   object (a Segment `track` call) of at most `event::MAX_EVENT_BYTES`, with a deterministic UUID messageId,
//!   the execution id (or with KEY=message the messageId) as key, and no `null` anywhere when every number given
//!   was finite; in either MESSAGE_FORMAT.
//! - `config_parse`: `config::Config::parse` on arbitrary env maps, options and librdkafka options never panics;
//!   every error starts with "Invalid Kafka logger configuration"; an accepted config keeps its invariants; no
//!   secret value (password, key password, health token, inline key, secret librdkafka property) shows up in
//!   an error, a warning or the redacted summary.

use std::collections::HashMap;

use arbitrary::{Arbitrary, Result, Unstructured};
use n8n_kafka_execution_logger::config::settings::{ENV_PREFIX, RDKAFKA_ENV_PREFIX, SETTINGS};
use n8n_kafka_execution_logger::config::{Config, Sources};
use n8n_kafka_execution_logger::event::{
  self, ErrorInput, EventContext, EventKind, ExecutionInput, Extras, NodeInput, NodePhase,
};

/// The targets by name, for the stable runner.
pub const TARGETS: &[(&str, fn(&[u8]))] = &[("event_prepare", event_prepare), ("config_parse", config_parse)];

pub fn target(name: &str) -> Option<fn(&[u8])> {
  TARGETS.iter().find(|(n, _)| *n == name).map(|(_, f)| *f)
}

/// Largest string the harness builds (a few times the JS boundary's caps: 16 KB text, 64 KB stacks).
const MAX_TEXT: usize = 256 * 1024;

/// Strings that tend to matter: JSON escapes, control characters, multi-byte and 4-byte UTF-8, separators,
/// the truncation marker itself, the fork's status and mode values.
const WORDS: &[&str] = &[
  "",
  " ",
  "\"",
  "\\",
  "\u{0}",
  "\u{1}",
  "\u{1f}",
  "\u{7f}",
  "\n",
  "\r\n",
  "\t",
  "é",
  "ü",
  "€",
  "😀",
  "\u{2028}",
  "\u{feff}",
  "\u{fffd}",
  "…[truncated]",
  "null",
  "true",
  "{}",
  "[]",
  "</script>",
  "%s%n",
  "success",
  "error",
  "crashed",
  "canceled",
  "waiting",
  "running",
  "new",
  "unknown",
  "manual",
  "trigger",
  "webhook",
  "retry",
  "integrated",
  "error",
  "cli",
  "internal",
  "evaluation",
  "Workflow Failed",
  "NodeOperationError",
  "42",
  "wf-1",
  "a b-c.D",
  "9lives",
  "__proto__",
  "constructor",
];

fn text(u: &mut Unstructured<'_>) -> Result<String> {
  let s = match u.int_in_range(0u8..=5)? {
    0 | 1 => WORDS[u.choose_index(WORDS.len())?].to_string(),
    2 | 3 => String::arbitrary(u)?,
    // A unit repeated: reaches the truncation limits (and past 32 KB) from a few input bytes.
    _ => {
      let unit = if u.arbitrary()? { WORDS[u.choose_index(WORDS.len())?].to_string() } else { String::arbitrary(u)? };
      let times = u.int_in_range(1usize..=65_536)?;
      let times = times.min(MAX_TEXT / unit.len().max(1));
      unit.repeat(times)
    }
  };
  Ok(s)
}

fn opt_text(u: &mut Unstructured<'_>) -> Result<Option<String>> {
  Ok(if u.arbitrary()? { Some(text(u)?) } else { None })
}

/// Event times: mostly realistic (so durations are computed), sometimes any i64 (chrono's range ends there).
fn time(u: &mut Unstructured<'_>) -> Result<Option<i64>> {
  Ok(match u.int_in_range(0u8..=3)? {
    0 => None,
    1 | 2 => Some(1_700_000_000_000 + i64::from(u.arbitrary::<i32>()?)),
    _ => Some(u.arbitrary()?),
  })
}

fn number(u: &mut Unstructured<'_>, finite: &mut bool) -> Result<f64> {
  let n = match u.int_in_range(0u8..=3)? {
    0 => f64::from(u.arbitrary::<u16>()?),
    1 => u.arbitrary::<f64>()?,
    2 => *u.choose(&[0.0, -0.0, 1e308, -1e308, f64::MIN_POSITIVE, 9_007_199_254_740_993.0, 0.1])?,
    _ => *u.choose(&[f64::NAN, f64::INFINITY, f64::NEG_INFINITY])?,
  };
  *finite &= n.is_finite();
  Ok(n)
}

fn list<T>(
  u: &mut Unstructured<'_>,
  max: usize,
  mut item: impl FnMut(&mut Unstructured<'_>) -> Result<T>,
) -> Result<Vec<T>> {
  let mut out = Vec::new();
  let n = u.int_in_range(0..=max)?;
  for _ in 0..n {
    if u.is_empty() {
      break;
    }
    out.push(item(u)?);
  }
  Ok(out)
}

/// One `prepare` call: the input, the per-logger context and the send time.
#[derive(Debug)]
pub struct EventCase {
  pub input: ExecutionInput,
  pub ctx: EventContext,
  pub sent_at_ms: i64,
  /// Every number given was finite (what the JS boundary guarantees); only then is `null` a failure.
  pub finite: bool,
}

impl<'a> Arbitrary<'a> for EventCase {
  fn arbitrary(u: &mut Unstructured<'a>) -> Result<Self> {
    let kind = match u.int_in_range(0u8..=5)? {
      0 => EventKind::Started,
      1 => EventKind::Resumed,
      2 => EventKind::Finished,
      3 => EventKind::Node(NodePhase::Started),
      4 => EventKind::Node(NodePhase::Completed),
      _ => EventKind::Node(NodePhase::Failed),
    };
    let mut finite = true;
    let accepted_at_ms = time(u)?.unwrap_or(1_700_000_000_000);
    let mut i = ExecutionInput::new(kind, text(u)?, text(u)?, accepted_at_ms);
    i.workflow_name = opt_text(u)?;
    i.mode = opt_text(u)?;
    i.status = opt_text(u)?;
    i.started_at_ms = time(u)?;
    i.stopped_at_ms = time(u)?;
    i.node_count = if u.arbitrary()? { Some(number(u, &mut finite)?) } else { None };
    i.retry_of = opt_text(u)?;
    i.parent_execution_id = opt_text(u)?;
    i.trigger_node = opt_text(u)?;
    i.workflow_version_id = opt_text(u)?;
    i.user_id = opt_text(u)?;
    i.tags = list(u, 200, text)?;
    if u.arbitrary()? {
      i.error = Some(Box::new(ErrorInput {
        message: opt_text(u)?,
        name: opt_text(u)?,
        stack: opt_text(u)?,
        node_name: opt_text(u)?,
        node_id: opt_text(u)?,
        node_type: opt_text(u)?,
      }));
    }
    if matches!(kind, EventKind::Node(_)) || u.arbitrary()? {
      let (name, node_type, id, run_index) = (text(u)?, opt_text(u)?, opt_text(u)?, u.arbitrary()?);
      i.node = Some(Box::new(NodeInput { name, node_type, id, run_index }));
    }
    if u.arbitrary()? {
      i.extras = Some(Box::new(Extras {
        dimensions: list(u, 100, |u| Ok((text(u)?, text(u)?)))?,
        metrics: list(u, 100, |u| Ok((text(u)?, number(u, &mut finite)?)))?,
        flags: list(u, 100, |u| Ok((text(u)?, u.arbitrary()?)))?,
      }));
    }
    // The context comes from the validated configuration: short strings.
    let short = |u: &mut Unstructured<'a>| -> Result<String> {
      let mut s = text(u)?;
      if s.len() > 256 {
        let mut end = 256;
        while !s.is_char_boundary(end) {
          end -= 1;
        }
        s.truncate(end);
      }
      Ok(s)
    };
    let ctx = EventContext::new(
      short(u)?,
      u.choose(&["main", "worker", "webhook"])?.to_string(),
      if u.arbitrary()? { Some(short(u)?) } else { None },
      short(u)?,
    )
    .with_format(u.arbitrary()?, u.arbitrary()?);
    let sent_at_ms = time(u)?.unwrap_or(accepted_at_ms);
    // Decoded last, so the committed regression inputs decode to the cases they were.
    i.trigger_node_type = opt_text(u)?;
    Ok(EventCase { input: i, ctx, sent_at_ms, finite })
  }
}

fn contains_null(v: &serde_json::Value) -> bool {
  match v {
    serde_json::Value::Null => true,
    serde_json::Value::Array(items) => items.iter().any(contains_null),
    serde_json::Value::Object(map) => map.values().any(contains_null),
    _ => false,
  }
}

/// Checks one `prepare` call; panics (= a crash for the fuzzer) when a property fails.
pub fn check_event(case: &EventCase) {
  let EventCase { input, ctx, sent_at_ms, finite } = case;
  let prepared = event::prepare(input, ctx, *sent_at_ms);
  if prepared.payload.len() > event::MAX_EVENT_BYTES {
    // Say where the bytes went: the size of each top-level field, largest first.
    let mut parts: Vec<(String, usize)> = serde_json::from_slice::<serde_json::Value>(&prepared.payload)
      .ok()
      .and_then(|v| v.as_object().cloned())
      .map(|o| o.iter().map(|(k, v)| (k.clone(), v.to_string().len())).collect())
      .unwrap_or_default();
    parts.sort_by(|a, b| b.1.cmp(&a.1));
    panic!(
      "event of {} bytes is over the {}-byte limit; bytes per field: {parts:?}",
      prepared.payload.len(),
      event::MAX_EVENT_BYTES
    );
  }
  let value: serde_json::Value = match serde_json::from_slice(&prepared.payload) {
    Ok(v) => v,
    Err(e) => panic!("payload is not valid JSON ({e}): {}", String::from_utf8_lossy(&prepared.payload)),
  };
  assert_eq!(value["type"], "track");
  assert_eq!(value["event"], prepared.event_name);
  assert_eq!(value["messageId"], prepared.message_id.as_str());
  assert!(uuid::Uuid::parse_str(&prepared.message_id).is_ok(), "messageId {:?} is no UUID", prepared.message_id);
  // KEY=execution (the default) or KEY=message: the context was made with either.
  assert!(
    prepared.key == input.execution_id || prepared.key == prepared.message_id,
    "the key {:?} is neither the execution id nor the messageId",
    prepared.key
  );
  assert!(value["properties"].is_object() && value["involves"].is_array() && value["tags"].is_array());
  if *finite {
    assert!(!contains_null(&value), "a null in an event built from finite numbers: {value}");
  }
  let again = event::prepare(input, ctx, sent_at_ms.wrapping_add(1));
  assert_eq!(again.message_id, prepared.message_id, "messageId must not depend on the send time");
}

pub fn event_prepare(data: &[u8]) {
  if let Ok(case) = EventCase::arbitrary_take_rest(Unstructured::new(data)) {
    check_event(&case);
  }
}

// ---- configuration -----------------------------------------------------------------------------------------

/// Values that sit on the parser's edges, plus whatever the bytes say.
const VALUES: &[&str] = &[
  "",
  " ",
  "true",
  "false",
  "TRUE",
  "True",
  "yes",
  "1",
  "0",
  "-1",
  "+5",
  " 42 ",
  "1e3",
  "0x10",
  "99",
  "100",
  "1000",
  "10000",
  "1000000",
  "1000001",
  "600000",
  "600001",
  "3600000",
  "900000",
  "100000000",
  "4294967296",
  "18446744073709551615",
  "18446744073709551616",
  "99999999999999999999999",
  "all",
  "ALL",
  "none",
  "gzip",
  "lz4",
  "zstd",
  "snappy",
  "plain",
  "PLAIN",
  "scram-sha-256",
  "SCRAM-SHA-512",
  "scram-sha-1",
  "main",
  "worker",
  "webhook",
  "off",
  "memory",
  "disk",
  "localhost:9092",
  "a:1,b:2",
  " , ",
  "host:0",
  "host:65535",
  "host:65536",
  "[::1]:9092",
  "kafka://h:1",
  ":9092",
  "h:",
  "h",
  "topic",
  "..",
  ".",
  "a.b_c-D",
  "topic with space",
  "ü",
  "\u{0}",
  "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----",
  "-----BEGIN PRIVATE KEY-----\nsecret-key-material-0123",
  "/nonexistent/ca.pem",
  "/etc/hostname",
  "/",
  "/tmp",
  "production",
  "n8n-executions",
];

fn value(u: &mut Unstructured<'_>) -> Result<String> {
  Ok(match u.int_in_range(0u8..=4)? {
    0..=2 => VALUES[u.choose_index(VALUES.len())?].to_string(),
    3 => String::arbitrary(u)?,
    _ => {
      let unit = String::arbitrary(u)?;
      let times = u.int_in_range(1usize..=1024)?;
      unit.repeat(times.min(16_384 / unit.len().max(1)))
    }
  })
}

/// A librdkafka property name: real ones, near misses and bytes.
fn rdkafka_key(u: &mut Unstructured<'_>) -> Result<String> {
  Ok(match u.int_in_range(0u8..=2)? {
    0 => u
      .choose(&[
        "socket.keepalive.enable",
        "sasl.password",
        "ssl.key.pem",
        "batch.size",
        "client.id",
        "debug",
        "",
        "A.B",
        "x_y",
      ])?
      .to_string(),
    _ => String::arbitrary(u)?,
  })
}

/// One `Config::parse` call.
#[derive(Debug, Default)]
pub struct ConfigCase {
  pub sources: Sources,
}

impl<'a> Arbitrary<'a> for ConfigCase {
  fn arbitrary(u: &mut Unstructured<'a>) -> Result<Self> {
    let mut sources = Sources::default();
    let entries = u.int_in_range(0usize..=40)?;
    for _ in 0..entries {
      if u.is_empty() {
        break;
      }
      match u.int_in_range(0u8..=9)? {
        // A documented setting, by env name or by option.
        0..=4 => {
          let s = &SETTINGS[u.choose_index(SETTINGS.len())?];
          sources.env.insert(format!("{ENV_PREFIX}{}", s.env), value(u)?);
        }
        5 | 6 => {
          let s = &SETTINGS[u.choose_index(SETTINGS.len())?];
          sources.options.insert(s.option.to_string(), value(u)?);
        }
        7 => {
          let key = rdkafka_key(u)?.to_ascii_uppercase().replace('.', "_");
          sources.env.insert(format!("{RDKAFKA_ENV_PREFIX}{key}"), value(u)?);
        }
        8 => sources.rdkafka_options.push((rdkafka_key(u)?, value(u)?)),
        // Anything else in the environment (the other variables read, look-alike names, bytes).
        _ => {
          let key = match u.int_in_range(0u8..=3)? {
            0 => u
              .choose(&[
                "NODE_ENV",
                "ENVIRONMENT",
                "NODE_EXTRA_CA_CERTS",
                "HOME",
                "N8N_USER_FOLDER",
                "N8N_KAFKA_LOGGER_",
                "N8N_KAFKA_LOGGER_RDKAFKA_",
              ])?
              .to_string(),
            1 => format!("{ENV_PREFIX}{}", String::arbitrary(u)?),
            _ => String::arbitrary(u)?,
          };
          sources.env.insert(key, value(u)?);
        }
      }
    }
    Ok(ConfigCase { sources })
  }
}

/// Default deny, as the product: a librdkafka property not on the shown list is a secret, unless it is a boolean.
fn is_secret_property(key: &str, value: &str) -> bool {
  !Config::is_shown_property(key) && !matches!(value, "true" | "false")
}

/// Whether a given value is a secret that must never be shown: values of the secret settings (a key only when
/// inline: a key file's path may be named in errors) and of secret librdkafka properties.
fn is_secret(name: &str, value: &str) -> bool {
  if let Some(prop) = name.strip_prefix(RDKAFKA_ENV_PREFIX) {
    return is_secret_property(&prop.to_ascii_lowercase().replace('_', "."), value);
  }
  let secret_setting =
    SETTINGS.iter().any(|s| s.secret && (name == s.option || name.strip_prefix(ENV_PREFIX) == Some(s.env)));
  let key_setting = name == "sslKey" || name.strip_prefix(ENV_PREFIX) == Some("SSL_KEY");
  secret_setting && (!key_setting || value.trim().starts_with("-----BEGIN"))
}

/// The same sources with every secret value replaced by a marker, and the secrets replaced (long enough to
/// be told apart from other text).
fn without_secrets(sources: &Sources) -> (Sources, Vec<String>) {
  let mut secrets = Vec::new();
  let mut mask = |value: &mut String, secret: bool| {
    if secret && value.trim().chars().count() >= 8 {
      secrets.push(value.trim().to_string());
      let marker = format!("masked-secret-{}", secrets.len());
      *value = if value.trim().starts_with("-----BEGIN") { format!("-----BEGIN {marker}") } else { marker };
    }
  };
  let mut masked = sources.clone();
  for map in [&mut masked.env, &mut masked.options] {
    for (name, value) in map.iter_mut() {
      let secret = is_secret(name, value);
      mask(value, secret);
    }
  }
  for (key, value) in masked.rdkafka_options.iter_mut() {
    let secret = is_secret_property(key, value);
    mask(value, secret);
  }
  (masked, secrets)
}

/// Everything the parser lets out as text: the error, or the redacted summary and the warnings.
fn parse_and_check(sources: &Sources) -> String {
  match Config::parse(sources) {
    Err(e) => {
      let text = e.to_string();
      assert!(text.starts_with("Invalid Kafka logger configuration"), "error without the prefix: {text:?}");
      text
    }
    Ok(config) => {
      assert!(!config.brokers.is_empty(), "accepted a config without brokers");
      assert!(
        (1..=config.queue_max_size).contains(&config.queue_batch_size),
        "batch size {} outside 1..={}",
        config.queue_batch_size,
        config.queue_max_size
      );
      assert!(
        (config.linger_ms as u128) < config.timeout_send.as_millis(),
        "linger.ms must stay below the send timeout"
      );
      assert!(!config.topic.is_empty() && config.topic.len() <= 249, "topic {:?} accepted", config.topic);
      if let Some(sasl) = &config.sasl {
        assert!(!sasl.username.is_empty() && !sasl.password.expose().is_empty());
      }
      let mut text = config.redacted_summary().to_string();
      for warning in &config.warnings {
        text.push('\n');
        text.push_str(warning);
      }
      text
    }
  }
}

pub fn check_config(case: &ConfigCase) {
  let shown = parse_and_check(&case.sources);
  let (masked, secrets) = without_secrets(&case.sources);
  if secrets.iter().any(|s| shown.contains(s.as_str())) {
    // Not a leak when the text is there anyway (a default, another setting's value): compare with the
    // output of the same sources with the secrets masked.
    let shown_masked = parse_and_check(&masked);
    for s in &secrets {
      assert!(
        !shown.contains(s.as_str()) || shown_masked.contains(s.as_str()),
        "a secret value ({} chars) shows in the parser's output: {shown}",
        s.chars().count()
      );
    }
  }
}

pub fn config_parse(data: &[u8]) {
  if let Ok(case) = ConfigCase::arbitrary_take_rest(Unstructured::new(data)) {
    check_config(&case);
  }
}

/// A Sources from plain maps, for regression tests written by hand.
pub fn sources(env: &[(&str, &str)]) -> Sources {
  let env: HashMap<String, String> = env.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
  Sources::from_env(env)
}
