//! Configuration: options (camelCase) over `N8N_KAFKA_LOGGER_*` environment variables, validated into `Config`.
//!
//! `settings` (the table of every setting, typed: each range and choice list written once), `sources` (env and
//! options), `parse` (validation), `error_detail` (what of an error's text events may carry), `model` (the validated `Config`) and `error` (`ConfigError`).

mod error;
mod error_detail;
mod model;
mod parse;
pub mod settings;
pub mod sources;

pub use error::{describe, ConfigError, CONFIG_ERROR_CODE, RDKAFKA_OPTION_HINT};
pub use error_detail::{ErrorDetail, Redaction, REDACTED};
pub use model::{Config, Pem, Sasl, SaslMechanism, Secret, Tls};
pub use sources::{is_configured, Sources};
