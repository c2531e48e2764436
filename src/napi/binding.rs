//! The napi boundary: the `KafkaExecutionLogger` class. Conversions only; the logic lives in `logger.rs`.
// napi registers the free functions when Node loads the addon; a unit-test build has no Node to register them in.
#![cfg_attr(test, allow(dead_code))]

use std::collections::HashMap;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::time::Duration;

use napi::bindgen_prelude::{Array, Env, JsObjectValue, JsValue, Object, ToNapiValue, Unknown};
use napi::{Error, Result, ValueType};
use napi_derive::napi;

use super::errors::Failure;
use super::fast_log;
use super::js_input::Reader;
use super::js_logger::JsLoggerSink;
use super::raw::{self, cast};
use crate::config::settings::{ENV_PREFIX, SETTINGS};
use crate::config::{is_configured, sources, Config, ConfigError, Sources};
use crate::delivery::{FlushResult, ShutdownResult};
use crate::event::EventKind;
use crate::logger::Logger;
use crate::packed::Queued;
use crate::telemetry::{LogSink, StderrSink};
use crate::{spool, tools};

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

fn config_error(env: &Env, error: ConfigError) -> Error {
  Failure::Config(error).throw(env)
}

/// A scalar option as the configuration parser expects it: the same text an env var would hold.
fn scalar_text(value: &Unknown) -> Result<Option<String>> {
  Ok(match value.get_type()? {
    ValueType::String => Some(cast::<String>(value, ValueType::String)?),
    ValueType::Boolean => Some(cast::<bool>(value, ValueType::Boolean)?.to_string()),
    ValueType::Number => {
      let n = cast::<f64>(value, ValueType::Number)?;
      Some(if n.fract() == 0.0 && n.abs() < 1e15 { (n as i64).to_string() } else { n.to_string() })
    }
    _ => None,
  })
}

/// The own enumerable string keys of `object`. napi-rs's `Object::keys` (napi_get_property_names) lists inherited
/// ones too, so a polluted Object.prototype would add options or environment variables.
fn own_keys(env: &Env, object: &Object) -> Result<Vec<String>> {
  let raw = raw::Env::of(env);
  let names = raw.own_keys(object.raw()).ok_or_else(|| Error::from_reason("cannot list the object's properties"))?;
  let names: Array = cast(&raw.unknown(names), ValueType::Object)?;
  (0..names.len()).map(|i| names.get::<String>(i).map(Option::unwrap_or_default)).collect()
}

/// Only the variables the configuration reads are copied out of the environment: no other secrets.
fn env_map(env: &Env, source: Option<Unknown>) -> Result<HashMap<String, String>> {
  let object: Object = match source {
    Some(value) if value.get_type()? == ValueType::Object => cast(&value, ValueType::Object)?,
    _ => env.get_global()?.get_named_property::<Object>("process")?.get_named_property("env")?,
  };
  let mut map = HashMap::new();
  for key in own_keys(env, &object)? {
    if sources::is_read(&key) {
      if let Some(value) = object.get::<Unknown>(&key)?.and_then(|v| scalar_text(&v).ok().flatten()) {
        map.insert(key, value);
      }
    }
  }
  Ok(map)
}

/// Splits the options object into configuration text, librdkafka passthrough and the logger sink.
fn read_options(
  env: &Env,
  options: Option<Unknown>,
  sources: &mut Sources,
) -> Result<std::result::Result<Option<JsLoggerSink>, ConfigError>> {
  let Some(options) = options else { return Ok(Ok(None)) };
  match options.get_type()? {
    ValueType::Undefined | ValueType::Null => return Ok(Ok(None)),
    ValueType::Object => {}
    _ => return Ok(Err(ConfigError("options must be an object".into()))),
  }
  let options: Object = cast(&options, ValueType::Object)?;
  let mut sink = None;
  for key in own_keys(env, &options)? {
    let Some(value) = options.get::<Unknown>(&key)? else { continue };
    match key.as_str() {
      "logger" if value.get_type()? == ValueType::Object => {
        sink = JsLoggerSink::from_object(&cast(&value, ValueType::Object)?)?
      }
      "rdkafka" if value.get_type()? == ValueType::Object => {
        let props: Object = cast(&value, ValueType::Object)?;
        for prop in own_keys(env, &props)? {
          match props.get::<Unknown>(&prop)?.map(|v| scalar_text(&v)).transpose()?.flatten() {
            Some(text) => sources.rdkafka_options.push((prop, text)),
            None => return Ok(Err(ConfigError(format!("option rdkafka.{prop} must be a string, number or boolean")))),
          }
        }
      }
      "brokers" if value.is_array()? => {
        let list: Array = cast(&value, ValueType::Object)?;
        let brokers: Vec<String> = (0..list.len()).filter_map(|i| list.get::<String>(i).ok().flatten()).collect();
        sources.options.insert(key, brokers.join(","));
      }
      // REDACT's env form is a JSON array; the option may be the array itself.
      "redact" if value.is_array()? => {
        let list: Array = cast(&value, ValueType::Object)?;
        let mut patterns = Vec::new();
        for i in 0..list.len() {
          match list.get::<Unknown>(i)? {
            Some(v) if v.get_type()? == ValueType::String => patterns.push(cast::<String>(&v, ValueType::String)?),
            _ => return Ok(Err(sources::option_error(&key))),
          }
        }
        sources.options.insert(key, serde_json::Value::from(patterns).to_string());
      }
      _ if sources::is_scalar_option(&key) => match scalar_text(&value)? {
        Some(text) => drop(sources.options.insert(key, text)),
        None => return Ok(Err(sources::option_error(&key))),
      },
      _ => return Ok(Err(sources::option_error(&key))),
    }
  }
  Ok(Ok(sink))
}

fn build(env: &Env, env_source: Option<Unknown>, options: Option<Unknown>) -> Result<Logger> {
  let mut sources = Sources::from_env(env_map(env, env_source)?);
  let sink = read_options(env, options, &mut sources)?.map_err(|e| config_error(env, e))?;
  let config = Config::parse(&sources).map_err(|e| config_error(env, e))?;
  let sink: Box<dyn LogSink> = match sink {
    Some(js) => Box::new(js),
    None => Box::new(StderrSink),
  };
  Logger::new(config, sink).map_err(|e| config_error(env, e))
}

/// Configuration for the command-line tools: the environment, then options; no logger sink.
fn tool_config(env: &Env, options: Option<Unknown>) -> Result<Config> {
  let mut sources = Sources::from_env(env_map(env, None)?);
  read_options(env, options, &mut sources)?.map_err(|e| config_error(env, e))?;
  Config::parse(&sources).map_err(|e| config_error(env, e))
}

/// Runs `work` on its own thread and settles the returned promise with its outcome (a failure rejects).
fn on_thread<'env, T: ToNapiValue + Send + 'static>(
  env: &'env Env,
  work: impl FnOnce() -> std::result::Result<T, String> + Send + 'static,
) -> Result<Object<'env>> {
  let (deferred, promise) = env.create_deferred::<T, Box<dyn FnOnce(Env) -> Result<T>>>()?;
  std::thread::spawn(move || {
    let outcome = catch_unwind(AssertUnwindSafe(work)).unwrap_or_else(|_| Err("internal error".into()));
    deferred.resolve(Box::new(move |env| outcome.map_err(|m| Failure::Other(m).reject(env))));
  });
  Ok(promise)
}

#[napi(object)]
pub struct ReadTopicQuery {
  pub topic: String,
  /// Epoch ms: only records at or after it.
  pub since_ms: Option<f64>,
  /// Epoch ms: only records at or before it.
  pub until_ms: Option<f64>,
  pub max_messages: Option<u32>,
  pub timeout_ms: Option<u32>,
  /// Continues a partial read: its `resume` (`sinceMs` does not apply then).
  pub resume: Option<Vec<PartitionOffset>>,
}

/// The next offset to read in a partition.
#[napi(object)]
pub struct PartitionOffset {
  pub partition: i32,
  pub offset: f64,
}

#[napi(object)]
pub struct ConsumedRecord {
  pub partition: i32,
  pub offset: f64,
  pub timestamp: Option<f64>,
  pub key: Option<String>,
  pub value: Option<String>,
  pub headers: HashMap<String, String>,
}

#[napi(object)]
pub struct OutgoingRecord {
  pub key: Option<String>,
  pub value: String,
  pub headers: Option<HashMap<String, String>>,
  pub timestamp: Option<f64>,
}

#[napi(object)]
pub struct ProduceResult {
  pub delivered: f64,
  pub errors: Vec<String>,
}

/// What `readTopic` returns: the records, and why the read stopped short when it did.
#[napi(object)]
pub struct TopicRead {
  pub records: Vec<ConsumedRecord>,
  /// Set when the read ended (at `maxMessages` or the timeout) before every partition was read to its end.
  pub partial: Option<String>,
  /// With `partial`: pass it as the next query's `resume` to read on from there.
  pub resume: Option<Vec<PartitionOffset>>,
}

/// Reads a topic (from `sinceMs`, up to its end when the read began) with the logger's connection settings.
#[napi(
  ts_args_type = "options: KafkaLoggerOptions | undefined, query: ReadTopicQuery",
  ts_return_type = "Promise<TopicRead>"
)]
pub fn read_topic<'env>(env: &'env Env, options: Option<Unknown>, query: ReadTopicQuery) -> Result<Object<'env>> {
  let config = tool_config(env, options)?;
  on_thread(env, move || {
    let query = tools::ReadQuery {
      topic: &query.topic,
      since_ms: query.since_ms.map(|t| t as i64),
      until_ms: query.until_ms.map(|t| t as i64),
      max_messages: query.max_messages.unwrap_or(u32::MAX) as usize,
      timeout: Duration::from_millis(query.timeout_ms.unwrap_or(30_000) as u64),
      resume: query.resume.map(|r| r.into_iter().map(|p| (p.partition, p.offset as i64)).collect()),
    };
    let read = tools::read_topic(&config, &query)?;
    let resume = read
      .resume
      .map(|r| r.into_iter().map(|(partition, o)| PartitionOffset { partition, offset: o as f64 }).collect());
    let records = read
      .records
      .into_iter()
      .map(|r| ConsumedRecord {
        partition: r.partition,
        offset: r.offset as f64,
        timestamp: r.timestamp.map(|t| t as f64),
        key: r.key,
        value: r.value,
        headers: r.headers.into_iter().collect(),
      })
      .collect::<Vec<_>>();
    Ok(TopicRead { records, partial: read.partial, resume })
  })
}

/// Produces records exactly as given (key, value, headers, timestamp): the replay tool's way back to Kafka.
#[napi(
  ts_args_type = "options: KafkaLoggerOptions | undefined, topic: string, records: OutgoingRecord[], timeoutMs?: number",
  ts_return_type = "Promise<ProduceResult>"
)]
pub fn produce_records<'env>(
  env: &'env Env,
  options: Option<Unknown>,
  topic: String,
  records: Vec<OutgoingRecord>,
  timeout_ms: Option<u32>,
) -> Result<Object<'env>> {
  let config = tool_config(env, options)?;
  on_thread(env, move || {
    let outgoing: Vec<tools::Outgoing> = records
      .into_iter()
      .map(|r| tools::Outgoing {
        key: r.key,
        value: r.value,
        headers: r.headers.map(|h| h.into_iter().collect()).unwrap_or_default(),
        timestamp: r.timestamp.map(|t| t as i64),
      })
      .collect();
    let produced =
      tools::produce(&config, &topic, &outgoing, Duration::from_millis(timeout_ms.unwrap_or(30_000) as u64))?;
    Ok(ProduceResult { delivered: produced.delivered as f64, errors: produced.errors })
  })
}

/// The slots of a spool base directory, read-only: who holds each, its size, quarantined files, dead letters.
#[napi(ts_return_type = "SpoolSlotStatus[]")]
pub fn spool_status(env: Env, dir: String) -> Result<serde_json::Value> {
  match spool::inspect_slots(std::path::Path::new(&dir)) {
    Ok(slots) => Ok(serde_json::to_value(slots).unwrap_or_default()),
    Err(e) => Err(Failure::Spool(e.to_string()).throw(&env)),
  }
}

/// The dead-letter file of one spool slot, one object per line.
#[napi(ts_return_type = "Array<Record<string, unknown>>")]
pub fn read_dead_letters(env: Env, dir: String) -> Result<Vec<serde_json::Value>> {
  spool::read_dead_letters(std::path::Path::new(&dir)).map_err(|e| Failure::Spool(e.to_string()).throw(&env))
}

const TIMEOUT_FORM: &str = "timeoutMs must be a non-negative number of milliseconds";

fn timeout_arg(env: &Env, value: Option<Unknown>, default: Duration) -> Result<Duration> {
  let Some(value) = value else { return Ok(default) };
  match value.get_type()? {
    ValueType::Undefined | ValueType::Null => Ok(default),
    ValueType::Number => match cast::<f64>(&value, ValueType::Number)? {
      ms if ms.is_finite() && ms >= 0.0 => Ok(Duration::from_millis(ms as u64)),
      _ => Err(Failure::ArgValue(TIMEOUT_FORM).throw(env)),
    },
    _ => Err(Failure::ArgType(TIMEOUT_FORM).throw(env)),
  }
}

/// Replaces the class's log methods with the JS fast path of fast_log.js once the class is registered.
#[napi(module_exports)]
pub fn install_fast_log(exports: Object, env: Env) -> Result<()> {
  let class: Unknown = exports.get_named_property("KafkaExecutionLogger")?;
  fast_log::install(raw::Env::of(&env), class.raw());
  Ok(())
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
    Ok(Self {
      logger: build(
        &env,
        Some(env_source).flatten().filter(|v| v.get_type().is_ok_and(|t| t == ValueType::Object)),
        options,
      )?,
    })
  }

  /// True when N8N_KAFKA_LOGGER_ENABLED is "true" (any letter case); without BROKERS it logs to localhost:9092.
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
      deferred.resolve(Box::new(move |env| outcome.map_err(|e| Failure::Startup(e).reject(env))))
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

  /// The native half of the four log methods' fast path for this logger: fast_log.js asks for it once per
  /// instance and keeps it where only its closure can reach it.
  #[napi(skip_typescript)]
  pub fn packed_log_function<'env>(&self, env: &'env Env) -> Result<Unknown<'env>> {
    let raw_env = raw::Env::of(env);
    let function = fast_log::packed_log_function(raw_env, self.logger.intake().clone())
      .ok_or_else(|| Failure::Other("could not create the fast path".into()).throw(env))?;
    Ok(raw_env.unknown(function))
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
        deferred
          .resolve(Box::new(move |_| Ok(JsFlushResult { delivered: r.delivered as f64, pending: r.pending as f64 })))
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
    let read = catch_unwind(AssertUnwindSafe(|| Reader::new(raw::Env::of(env)).execution(input.raw(), kind)))
      .unwrap_or_else(|_| Err("internal error while reading the input".into()));
    let queued = read.map(|input| Queued::Read(Box::new(input)));
    catch_unwind(AssertUnwindSafe(|| self.logger.intake().settle(queued))).unwrap_or(false)
  }
}
