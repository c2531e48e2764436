//! The napi boundary: the `KafkaExecutionLogger` class. Conversions only; the logic lives in `logger.rs`.

use std::collections::HashMap;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::time::Duration;

use napi::bindgen_prelude::{Array, Env, JsObjectValue, JsValue, Object, Unknown};
use napi::{Error, JsError, Result, Status, ValueType};
use napi_derive::napi;

use crate::config::{is_configured, Config, ConfigError, Sources, CONFIG_ERROR_CODE};
use crate::diag::{LogSink, StderrSink};
use crate::event::EventKind;
use crate::js_input::Reader;
use crate::js_logger::JsLoggerSink;
use crate::logger::Logger;
use crate::settings::{self, ENV_PREFIX, SETTINGS};
use crate::worker::{FlushResult, ShutdownResult, StartupError};

#[napi(object, js_name = "FlushResult")]
pub struct JsFlushResult {
  pub delivered: f64,
  pub pending: f64,
}

#[napi(object, js_name = "ShutdownResult")]
pub struct JsShutdownResult {
  pub delivered: f64,
  pub pending: f64,
  pub dropped: f64,
  /// Written to the disk spool; replayed at the next start.
  pub spooled: f64,
}

/// Throws an Error whose `code` is `code`, and hands napi-rs a marker that the exception is pending.
fn throw(env: &Env, code: &str, message: &str) -> Error {
  unsafe { JsError::from(Error::new(code.to_string(), message.to_string())).throw_into(env.raw()) };
  Error::new(Status::PendingException, message.to_string())
}

fn config_error(env: &Env, error: ConfigError) -> Error {
  throw(env, CONFIG_ERROR_CODE, &error.to_string())
}

fn option_error(name: &str) -> ConfigError {
  ConfigError(match settings::find(name) {
    Some(s) => format!("{} must be {}", crate::config::describe(s), s.form),
    None => format!("unknown option {name:?}: KafkaExecutionLogger.settings() lists the accepted names"),
  })
}

/// A scalar option as the configuration parser expects it: the same text an env var would hold.
fn scalar_text(value: &Unknown) -> Result<Option<String>> {
  Ok(match value.get_type()? {
    ValueType::String => Some(unsafe { value.cast::<String>()? }),
    ValueType::Boolean => Some(unsafe { value.cast::<bool>()? }.to_string()),
    ValueType::Number => {
      let n = unsafe { value.cast::<f64>()? };
      Some(if n.fract() == 0.0 && n.abs() < 1e15 { (n as i64).to_string() } else { n.to_string() })
    }
    _ => None,
  })
}

/// Variables read besides the logger's own: the environment dimension and the spool's default folder.
const OTHER_ENV: &[&str] = &["NODE_ENV", "N8N_USER_FOLDER", "HOME", "USERPROFILE"];

/// Only the logger's own variables (and OTHER_ENV) are copied out of the environment: no other secrets.
fn env_map(env: &Env, source: Option<Unknown>) -> Result<HashMap<String, String>> {
  let object: Object = match source {
    Some(value) if value.get_type()? == ValueType::Object => unsafe { value.cast()? },
    _ => env.get_global()?.get_named_property::<Object>("process")?.get_named_property("env")?,
  };
  let mut map = HashMap::new();
  for key in Object::keys(&object)? {
    if key.starts_with(ENV_PREFIX) || OTHER_ENV.contains(&key.as_str()) {
      if let Some(value) = object.get::<Unknown>(&key)?.and_then(|v| scalar_text(&v).ok().flatten()) {
        map.insert(key, value);
      }
    }
  }
  Ok(map)
}

/// Splits the options object into configuration text, librdkafka passthrough and the logger sink.
fn read_options(options: Option<Unknown>, sources: &mut Sources) -> Result<std::result::Result<Option<JsLoggerSink>, ConfigError>> {
  let Some(options) = options else { return Ok(Ok(None)) };
  match options.get_type()? {
    ValueType::Undefined | ValueType::Null => return Ok(Ok(None)),
    ValueType::Object => {}
    _ => return Ok(Err(ConfigError("options must be an object".into()))),
  }
  let options: Object = unsafe { options.cast()? };
  let mut sink = None;
  for key in Object::keys(&options)? {
    let Some(value) = options.get::<Unknown>(&key)? else { continue };
    match key.as_str() {
      "logger" if value.get_type()? == ValueType::Object => sink = JsLoggerSink::from_object(&unsafe { value.cast()? })?,
      "rdkafka" if value.get_type()? == ValueType::Object => {
        let props: Object = unsafe { value.cast()? };
        for prop in Object::keys(&props)? {
          match props.get::<Unknown>(&prop)?.map(|v| scalar_text(&v)).transpose()?.flatten() {
            Some(text) => sources.rdkafka_options.push((prop, text)),
            None => return Ok(Err(ConfigError(format!("option rdkafka.{prop} must be a string, number or boolean")))),
          }
        }
      }
      "brokers" if value.is_array()? => {
        let list: Array = unsafe { value.cast()? };
        let brokers: Vec<String> = (0..list.len()).filter_map(|i| list.get::<String>(i).ok().flatten()).collect();
        sources.options.insert(key, brokers.join(","));
      }
      _ if settings::find(&key).is_some_and(|s| s.option == key) => match scalar_text(&value)? {
        Some(text) => drop(sources.options.insert(key, text)),
        None => return Ok(Err(option_error(&key))),
      },
      _ => return Ok(Err(option_error(&key))),
    }
  }
  Ok(Ok(sink))
}

fn build(env: &Env, env_source: Option<Unknown>, options: Option<Unknown>) -> Result<Logger> {
  let mut sources = Sources::from_env(env_map(env, env_source)?);
  let sink = read_options(options, &mut sources)?.map_err(|e| config_error(env, e))?;
  let config = Config::parse(&sources).map_err(|e| config_error(env, e))?;
  let sink: Box<dyn LogSink> = match sink {
    Some(js) => Box::new(js),
    None => Box::new(StderrSink),
  };
  Logger::new(config, sink).map_err(|e| config_error(env, e))
}

fn timeout_arg(env: &Env, value: Option<Unknown>, default: Duration) -> Result<Duration> {
  let Some(value) = value else { return Ok(default) };
  match value.get_type()? {
    ValueType::Undefined | ValueType::Null => Ok(default),
    ValueType::Number => match unsafe { value.cast::<f64>()? } {
      ms if ms.is_finite() && ms >= 0.0 => Ok(Duration::from_millis(ms as u64)),
      _ => Err(throw(env, "ERR_INVALID_ARG_VALUE", "timeoutMs must be a non-negative number of milliseconds")),
    },
    _ => Err(throw(env, "ERR_INVALID_ARG_TYPE", "timeoutMs must be a non-negative number of milliseconds")),
  }
}

/// Streams n8n execution events to Kafka. Log calls are synchronous, never throw and never block.
#[napi]
pub struct KafkaExecutionLogger {
  logger: Logger,
}

#[napi]
impl KafkaExecutionLogger {
  /// Options (camelCase) override the `N8N_KAFKA_LOGGER_*` environment. Throws `ERR_KAFKA_LOGGER_CONFIG`.
  #[napi(constructor, ts_args_type = "options?: KafkaLoggerOptions")]
  pub fn new(env: Env, options: Option<Unknown>) -> Result<Self> {
    Ok(Self { logger: build(&env, None, options)? })
  }

  /// A logger configured from `env` (default `process.env`) alone, plus optional non-Kafka options such as `logger`.
  #[napi(factory, ts_args_type = "env?: Record<string, string | undefined>, options?: KafkaLoggerOptions")]
  pub fn from_env(env: Env, env_source: Option<Unknown>, options: Option<Unknown>) -> Result<Self> {
    Ok(Self { logger: build(&env, Some(env_source).flatten().filter(|v| v.get_type().is_ok_and(|t| t == ValueType::Object)), options)? })
  }

  /// True when N8N_KAFKA_LOGGER_ENABLED is "true" and N8N_KAFKA_LOGGER_BROKERS is set.
  #[napi(ts_args_type = "env?: Record<string, string | undefined>")]
  pub fn is_configured(env: Env, env_source: Option<Unknown>) -> Result<bool> {
    Ok(is_configured(&env_map(&env, env_source)?))
  }

  /// Every configuration setting: env var, option name, default, expected form and meaning.
  #[napi(ts_return_type = "SettingInfo[]")]
  pub fn settings() -> serde_json::Value {
    SETTINGS
      .iter()
      .map(|s| {
        serde_json::json!({
          "env": format!("{ENV_PREFIX}{}", s.env),
          "option": s.option,
          "default": s.default,
          "form": s.form,
          "secret": s.secret,
          "description": s.description,
        })
      })
      .collect()
  }

  /// Starts the background thread and the producer. Resolves even when Kafka is unreachable, unless
  /// validateOnStartup is set: then it rejects with `ERR_KAFKA_LOGGER_<KIND>` (network, authentication, tls...).
  #[napi(ts_return_type = "Promise<void>")]
  pub fn initialize<'env>(&self, env: &'env Env) -> Result<Object<'env>> {
    let (deferred, promise) = env.create_deferred::<(), Box<dyn FnOnce(Env) -> Result<()>>>()?;
    self.logger.initialize(Box::new(move |outcome| {
      deferred.resolve(Box::new(move |env| {
        let (code, message) = match outcome {
          Ok(()) => return Ok(()),
          Err(StartupError::Config(e)) => (CONFIG_ERROR_CODE.to_string(), e.to_string()),
          Err(StartupError::Unreachable { kind, message }) => (kind.startup_code(), message),
        };
        Err(Error::from(JsError::from(Error::new(code, message)).into_unknown(env)))
      }))
    }));
    Ok(promise)
  }

  #[napi(ts_args_type = "input: ExecutionInput")]
  pub fn log_workflow_started(&self, env: Env, input: Unknown) -> bool {
    self.log(&env, input, Some(EventKind::Started))
  }

  #[napi(ts_args_type = "input: ExecutionInput")]
  pub fn log_workflow_resumed(&self, env: Env, input: Unknown) -> bool {
    self.log(&env, input, Some(EventKind::Resumed))
  }

  #[napi(ts_args_type = "input: ExecutionInput")]
  pub fn log_workflow_finished(&self, env: Env, input: Unknown) -> bool {
    self.log(&env, input, Some(EventKind::Finished))
  }

  /// Node Started / Completed / Failed, chosen by `input.event`.
  #[napi(ts_args_type = "input: NodeEventInput")]
  pub fn log_node_event(&self, env: Env, input: Unknown) -> bool {
    self.log(&env, input, None)
  }

  #[napi(ts_return_type = "HealthSnapshot")]
  pub fn get_health_metrics(&self) -> serde_json::Value {
    self.logger.health()
  }

  /// Resolves when everything accepted so far is delivered, or at the deadline (default TIMEOUT_SEND).
  #[napi(ts_args_type = "timeoutMs?: number", ts_return_type = "Promise<FlushResult>")]
  pub fn flush<'env>(&self, env: &'env Env, timeout_ms: Option<Unknown>) -> Result<Object<'env>> {
    let timeout = timeout_arg(env, timeout_ms, self.logger.config().timeout_send)?;
    let (deferred, promise) = env.create_deferred::<JsFlushResult, Box<dyn FnOnce(Env) -> Result<JsFlushResult>>>()?;
    self.logger.flush(
      timeout,
      Box::new(move |r: FlushResult| {
        deferred.resolve(Box::new(move |_| Ok(JsFlushResult { delivered: r.delivered as f64, pending: r.pending as f64 })))
      }),
    );
    Ok(promise)
  }

  /// Stops intake, drains and flushes within the deadline (default TIMEOUT_DISCONNECT). Idempotent.
  #[napi(ts_args_type = "timeoutMs?: number", ts_return_type = "Promise<ShutdownResult>")]
  pub fn shutdown<'env>(&self, env: &'env Env, timeout_ms: Option<Unknown>) -> Result<Object<'env>> {
    let timeout = timeout_arg(env, timeout_ms, self.logger.config().timeout_disconnect)?;
    let (deferred, promise) =
      env.create_deferred::<JsShutdownResult, Box<dyn FnOnce(Env) -> Result<JsShutdownResult>>>()?;
    self.logger.shutdown(
      Some(timeout),
      Box::new(move |r: ShutdownResult| {
        deferred.resolve(Box::new(move |_| {
          Ok(JsShutdownResult {
            delivered: r.delivered as f64,
            pending: r.pending as f64,
            dropped: r.dropped as f64,
            spooled: r.spooled as f64,
          })
        }))
      }),
    );
    Ok(promise)
  }
}

impl KafkaExecutionLogger {
  /// Any failure, even a panic, becomes a counted rejection: a log call never throws into n8n.
  fn log(&self, env: &Env, input: Unknown, kind: Option<EventKind>) -> bool {
    let outcome = catch_unwind(AssertUnwindSafe(|| Reader::new(env.raw()).execution(input.raw(), kind)));
    match outcome {
      Ok(Ok(input)) => self.logger.accept(input),
      Ok(Err(reason)) => {
        self.logger.reject(reason);
        false
      }
      Err(_) => {
        self.logger.reject("internal error while reading the input".into());
        false
      }
    }
  }
}
