//! Where the raw strings come from: the environment and the constructor's options.

use std::collections::HashMap;

use super::error::{describe, ConfigError};
use super::settings::{self, Setting, ENV_PREFIX};

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

  pub(super) fn raw(&self, setting: &Setting) -> Option<&str> {
    let value = self.options.get(setting.option).or_else(|| self.env.get(&format!("{ENV_PREFIX}{}", setting.env)))?;
    let value = value.trim();
    (!value.is_empty()).then_some(value)
  }
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
