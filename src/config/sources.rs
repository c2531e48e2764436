//! Where the raw strings come from: the environment and the constructor's options.

use std::collections::HashMap;

use super::error::{describe, ConfigError};
use super::settings::{self, Setting, ENV_PREFIX, RDKAFKA_ENV_PREFIX};

/// Where the raw strings come from: options win over the environment; empty strings count as unset.
#[derive(Debug, Default, Clone)]
pub struct Sources {
  pub options: HashMap<String, String>,
  pub rdkafka_options: Vec<(String, String)>,
  pub env: HashMap<String, String>,
}

impl Sources {
  pub fn from_env(env: HashMap<String, String>) -> Self {
    Self { env, ..Self::default() }
  }

  /// A variable outside the logger's prefix (NODE_ENV, ENVIRONMENT, ...), trimmed; None when unset or empty.
  pub(super) fn other(&self, name: &str) -> Option<String> {
    self.env.get(name).map(|v| v.trim().to_string()).filter(|v| !v.is_empty())
  }

  /// One warning for each `N8N_KAFKA_LOGGER_*` variable that is neither a setting nor a librdkafka passthrough
  /// (a misspelling is otherwise silently ignored), naming the closest setting; never the value, which may be a
  /// secret. Sorted, so the order does not depend on the environment's.
  pub(super) fn unknown_variables(&self) -> Vec<String> {
    let mut unknown: Vec<&str> = self
      .env
      .keys()
      .filter(|k| !k.starts_with(RDKAFKA_ENV_PREFIX))
      .filter_map(|k| k.strip_prefix(ENV_PREFIX))
      .filter(|name| !settings::SETTINGS.iter().any(|s| s.env == *name))
      .collect();
    unknown.sort_unstable();
    unknown
      .into_iter()
      .map(|name| {
        let hint = match closest_setting(name) {
          Some(s) => format!("did you mean {ENV_PREFIX}{}?", s.env),
          None => "KafkaExecutionLogger.settings() lists the accepted names".to_string(),
        };
        format!("{ENV_PREFIX}{name} is not a setting of the logger and is ignored: {hint}")
      })
      .collect()
  }

  pub(super) fn raw(&self, setting: &Setting) -> Option<&str> {
    let value = self.options.get(setting.option).or_else(|| self.env.get(&format!("{ENV_PREFIX}{}", setting.env)))?;
    let value = value.trim();
    (!value.is_empty()).then_some(value)
  }
}

/// The setting whose env name is fewest edits (Levenshtein) from `name`, when it is close enough to be what was
/// meant: at most one edit per three characters of `name`, at least one and at most three. BROKRS (two edits
/// allowed) names BROKERS; X (one allowed) names nothing.
fn closest_setting(name: &str) -> Option<&'static Setting> {
  let allowed = (name.len() / 3).clamp(1, 3);
  let (distance, setting) =
    settings::SETTINGS.iter().map(|s| (strsim::levenshtein(name, s.env), s)).min_by_key(|(d, _)| *d)?;
  (distance <= allowed).then_some(setting)
}

/// True when the environment asks for the logger: ENABLED is true (any letter case). Without BROKERS it logs to
/// localhost:9092 with a warning, as the fork did.
pub fn is_configured(env: &HashMap<String, String>) -> bool {
  env.get(&format!("{ENV_PREFIX}ENABLED")).and_then(|v| parse_bool(v.trim())) == Some(true)
}

/// `true` or `false` in any letter case: the fork lower-cased values before comparing them with "true". Other
/// spellings (1, yes, on) are refused rather than guessed: the fork read them as false, so accepting them as
/// true would switch on what was off before the migration.
pub(super) fn parse_bool(value: &str) -> Option<bool> {
  if value.eq_ignore_ascii_case("true") {
    Some(true)
  } else if value.eq_ignore_ascii_case("false") {
    Some(false)
  } else {
    None
  }
}

/// Variables read besides the logger's own: the environment dimension (the fork's NODE_ENV and ENVIRONMENT), the
/// spool's default folder, and the CA file Node's TLS trusted for the fork.
const OTHER_ENV: &[&str] =
  &["NODE_ENV", "ENVIRONMENT", "N8N_USER_FOLDER", "HOME", "USERPROFILE", "NODE_EXTRA_CA_CERTS"];

/// Whether the configuration reads the environment variable `key`: only those are copied out of the environment.
pub fn is_read(key: &str) -> bool {
  key.starts_with(ENV_PREFIX) || OTHER_ENV.contains(&key)
}

/// Whether `key` is an option given as one scalar (string, number or boolean), read as env text.
pub fn is_scalar_option(key: &str) -> bool {
  settings::find(key).is_some_and(|s| s.option == key)
}

/// An option of the wrong type, or one that does not exist.
pub fn option_error(name: &str) -> ConfigError {
  ConfigError(match settings::find(name) {
    Some(s) => format!("{} must be {}", describe(s), s.form),
    None => format!("unknown option {name:?}: KafkaExecutionLogger.settings() lists the accepted names"),
  })
}
