//! The one mapping from the addon's failures to JS errors: the `code` each carries, thrown now or rejected later.

use napi::bindgen_prelude::Env;
use napi::{Error, JsError, Status};

use super::raw;
use crate::config::{ConfigError, CONFIG_ERROR_CODE};
use crate::delivery::StartupError;

/// A failure a JS caller sees.
pub enum Failure {
  /// Invalid configuration: `ERR_KAFKA_LOGGER_CONFIG`.
  Config(ConfigError),
  /// initialize() with validateOnStartup: the configuration's code, or `ERR_KAFKA_LOGGER_<KIND>` (network, tls...).
  Startup(StartupError),
  /// A spool folder could not be read: `ERR_KAFKA_LOGGER_SPOOL`.
  Spool(String),
  /// An argument of the wrong type or value: Node's own `ERR_INVALID_ARG_TYPE` and `ERR_INVALID_ARG_VALUE`.
  ArgType(&'static str),
  ArgValue(&'static str),
  /// Anything else (a tool's failure, the fast path not created): a plain Error, napi-rs's `GenericFailure`.
  Other(String),
}

impl Failure {
  /// The error's `code`, and its message; no code for `Other`.
  fn parts(self) -> (Option<String>, String) {
    match self {
      Self::Config(e) | Self::Startup(StartupError::Config(e)) => (Some(CONFIG_ERROR_CODE.into()), e.to_string()),
      Self::Startup(StartupError::Unreachable { kind, message }) => (Some(kind.startup_code()), message),
      Self::Spool(message) => (Some("ERR_KAFKA_LOGGER_SPOOL".into()), message),
      Self::ArgType(message) => (Some("ERR_INVALID_ARG_TYPE".into()), message.into()),
      Self::ArgValue(message) => (Some("ERR_INVALID_ARG_VALUE".into()), message.into()),
      Self::Other(message) => (None, message),
    }
  }

  /// For a synchronous call: throws the Error now and returns napi-rs's marker that an exception is pending.
  pub fn throw(self, env: &Env) -> Error {
    match self.parts() {
      (Some(code), message) => raw::Env::of(env).throw(&code, &message),
      (None, message) => Error::new(Status::GenericFailure, message),
    }
  }

  /// For a promise: the Error it rejects with, made in `env` when it settles.
  pub fn reject(self, env: Env) -> Error {
    match self.parts() {
      (Some(code), message) => Error::from(JsError::from(Error::new(code, message)).into_unknown(env)),
      (None, message) => Error::new(Status::GenericFailure, message),
    }
  }
}
