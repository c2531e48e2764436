//! Invalid configuration: `ConfigError`, the JS error code it is thrown with, and how messages name a setting.

use std::fmt;

use super::settings::{Setting, ENV_PREFIX};

/// Code of the JavaScript error thrown for invalid configuration.
pub const CONFIG_ERROR_CODE: &str = "ERR_KAFKA_LOGGER_CONFIG";
/// How errors name the librdkafka passthrough settings.
pub const RDKAFKA_OPTION_HINT: &str = "N8N_KAFKA_LOGGER_RDKAFKA_<PROPERTY> (option rdkafka)";

/// Invalid configuration; the message names the setting (env var and option) and the expected form.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigError(pub String);

impl fmt::Display for ConfigError {
  fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
    write!(f, "Invalid Kafka logger configuration: {}", self.0)
  }
}

impl std::error::Error for ConfigError {}

/// `N8N_KAFKA_LOGGER_X (option x)`: how every message names a setting.
pub fn describe(setting: &Setting) -> String {
  format!("{ENV_PREFIX}{} (option {})", setting.env, setting.option)
}
