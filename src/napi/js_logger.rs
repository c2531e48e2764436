//! Delivers the core's diagnostics to the caller's `logger` ({error, warn, info, debug}) on the JS thread,
//! through weak threadsafe functions: they never keep Node alive, and a throwing logger is contained.

use napi::bindgen_prelude::{Function, Object, Unknown};
use napi::threadsafe_function::{ThreadsafeFunction, ThreadsafeFunctionCallMode};
use napi::{Status, ValueType};

use super::raw::cast;
use crate::telemetry::{Level, LogSink, StderrSink};

type LogFunction = ThreadsafeFunction<String, Unknown<'static>, String, Status, false, true>;

pub struct JsLoggerSink {
  error: Option<LogFunction>,
  warn: Option<LogFunction>,
  info: Option<LogFunction>,
}

fn level_function(logger: &Object, name: &str) -> napi::Result<Option<LogFunction>> {
  let Some(value) = logger.get::<Unknown>(name)? else { return Ok(None) };
  if value.get_type()? != ValueType::Function {
    return Ok(None);
  }
  let function: Function<String, Unknown> = cast(&value, ValueType::Function)?;
  let bound = function.bind(logger)?;
  Ok(Some(bound.build_threadsafe_function::<String>().weak::<true>().callee_handled::<false>().build()?))
}

impl JsLoggerSink {
  /// None when `logger` has none of the three methods the logger calls (error, warn, info; nothing logs at debug).
  pub fn from_object(logger: &Object) -> napi::Result<Option<Self>> {
    let sink = Self {
      error: level_function(logger, "error")?,
      warn: level_function(logger, "warn")?,
      info: level_function(logger, "info")?,
    };
    let any = sink.error.is_some() || sink.warn.is_some() || sink.info.is_some();
    Ok(any.then_some(sink))
  }
}

impl LogSink for JsLoggerSink {
  fn log(&self, level: Level, message: &str) {
    let function = match level {
      Level::Error => self.error.as_ref().or(self.warn.as_ref()),
      Level::Warn => self.warn.as_ref().or(self.error.as_ref()),
      Level::Info => self.info.as_ref(),
    };
    match function {
      // The callback receives the logger's result or its exception; either way it is handled here.
      Some(f) => drop(f.call_with_return_value(
        format!("[kafka-logger] {message}"),
        ThreadsafeFunctionCallMode::NonBlocking,
        |_, _| Ok(()),
      )),
      None if matches!(level, Level::Error | Level::Warn) => StderrSink.log(level, message),
      None => {}
    }
  }
}
