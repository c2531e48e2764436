//! Reads a log call's JS object into `ExecutionInput` with raw N-API calls: only the known keys, capped
//! string copies, and every JS exception (throwing getters, proxies) cleared and turned into a rejection.

use std::ffi::CStr;
use std::ptr;

use napi::sys;

use crate::event::{ErrorInput, EventKind, ExecutionInput, Extras, NodeInput, NodePhase};
use crate::metrics::now_ms;

/// Why an input was rejected; shown in the health snapshot as `lastRejection.reason`.
pub type Rejection = String;

const MAX_STACK_BYTES: usize = 64 * 1024;
const MAX_TEXT_BYTES: usize = 16 * 1024;
const MAX_LIST_ITEMS: u32 = 100;
const MAX_EXTRAS: u32 = 64;
/// Dates the ISO-8601 output can show: years 0001 to 9999.
const MIN_TIME_MS: f64 = -62_135_596_800_000.0;
const MAX_TIME_MS: f64 = 253_402_300_799_999.0;

pub struct Reader {
  env: sys::napi_env,
}

fn field_name(key: &CStr) -> &str {
  key.to_str().unwrap_or("?")
}

impl Reader {
  pub fn new(env: sys::napi_env) -> Self {
    Self { env }
  }

  fn ok(&self, status: sys::napi_status, what: &str) -> Result<(), Rejection> {
    if status == sys::Status::napi_ok {
      return Ok(());
    }
    // A getter or proxy trap threw: swallow the exception, it must never reach n8n.
    let mut exception = ptr::null_mut();
    unsafe { sys::napi_get_and_clear_last_exception(self.env, &mut exception) };
    Err(format!("could not read {what}"))
  }

  fn type_of(&self, value: sys::napi_value) -> sys::napi_valuetype {
    let mut t = sys::ValueType::napi_undefined;
    unsafe { sys::napi_typeof(self.env, value, &mut t) };
    t
  }

  fn is_object(&self, value: sys::napi_value) -> bool {
    self.type_of(value) == sys::ValueType::napi_object
  }

  /// The property, or None when it is undefined or null.
  fn get(&self, object: sys::napi_value, key: &CStr) -> Result<Option<sys::napi_value>, Rejection> {
    let mut value = ptr::null_mut();
    self.ok(unsafe { sys::napi_get_named_property(self.env, object, key.as_ptr(), &mut value) }, field_name(key))?;
    let t = self.type_of(value);
    Ok((t != sys::ValueType::napi_undefined && t != sys::ValueType::napi_null).then_some(value))
  }

  /// Copies at most `max` bytes; a short string takes a single call into V8.
  fn string_value(&self, value: sys::napi_value, max: usize) -> Result<String, Rejection> {
    let mut small = [0u8; 256];
    let mut written = 0usize;
    let status = unsafe {
      sys::napi_get_value_string_utf8(self.env, value, small.as_mut_ptr().cast(), small.len(), &mut written)
    };
    self.ok(status, "a string")?;
    let bytes = if written + 1 < small.len() {
      small[..written].to_vec()
    } else {
      // Straight into a capped buffer: asking V8 for the full UTF-8 length would scan a 10 MB string.
      let mut buffer = vec![0u8; max + 1];
      let status = unsafe {
        sys::napi_get_value_string_utf8(self.env, value, buffer.as_mut_ptr().cast(), buffer.len(), &mut written)
      };
      self.ok(status, "a string")?;
      buffer.truncate(written);
      buffer
    };
    // V8 replaces lone surrogates with U+FFFD, so this is valid UTF-8; stay safe regardless.
    Ok(String::from_utf8(bytes).unwrap_or_else(|e| String::from_utf8_lossy(e.as_bytes()).into_owned()))
  }

  fn opt_string(&self, object: sys::napi_value, key: &CStr, max: usize) -> Result<Option<String>, Rejection> {
    let Some(value) = self.get(object, key)? else { return Ok(None) };
    if self.type_of(value) != sys::ValueType::napi_string {
      return Err(format!("{} must be a string", field_name(key)));
    }
    self.string_value(value, max).map(Some)
  }

  fn required_string(&self, object: sys::napi_value, key: &CStr) -> Result<String, Rejection> {
    match self.opt_string(object, key, MAX_TEXT_BYTES)? {
      Some(s) if !s.trim().is_empty() => Ok(s),
      _ => Err(format!("{} must be a non-empty string", field_name(key))),
    }
  }

  /// Lenient reading for nested, best-effort fields (error details): anything but a string is ignored.
  fn loose_string(&self, object: sys::napi_value, key: &CStr, max: usize) -> Option<String> {
    let value = self.get(object, key).ok()??;
    (self.type_of(value) == sys::ValueType::napi_string).then(|| self.string_value(value, max).ok()).flatten()
  }

  fn number_value(&self, value: sys::napi_value) -> f64 {
    let mut n = f64::NAN;
    unsafe { sys::napi_get_value_double(self.env, value, &mut n) };
    n
  }

  fn opt_number(&self, object: sys::napi_value, key: &CStr) -> Result<Option<f64>, Rejection> {
    let Some(value) = self.get(object, key)? else { return Ok(None) };
    let n = if self.type_of(value) == sys::ValueType::napi_number { self.number_value(value) } else { f64::NAN };
    if !n.is_finite() {
      return Err(format!("{} must be a finite number", field_name(key)));
    }
    Ok(Some(n))
  }

  /// A Date, an ISO-8601 string or epoch milliseconds.
  fn opt_time(&self, object: sys::napi_value, key: &CStr) -> Result<Option<i64>, Rejection> {
    let Some(value) = self.get(object, key)? else { return Ok(None) };
    let invalid = || format!("{} must be a valid Date, ISO-8601 string or epoch milliseconds", field_name(key));
    let ms = match self.type_of(value) {
      sys::ValueType::napi_number => self.number_value(value),
      sys::ValueType::napi_string => {
        let text = self.string_value(value, 64)?;
        chrono::DateTime::parse_from_rfc3339(text.trim()).map_err(|_| invalid())?.timestamp_millis() as f64
      }
      sys::ValueType::napi_object => {
        let mut is_date = false;
        unsafe { sys::napi_is_date(self.env, value, &mut is_date) };
        if !is_date {
          return Err(invalid());
        }
        let mut ms = f64::NAN;
        unsafe { sys::napi_get_date_value(self.env, value, &mut ms) };
        ms
      }
      _ => return Err(invalid()),
    };
    if !ms.is_finite() || !(MIN_TIME_MS..=MAX_TIME_MS).contains(&ms) {
      return Err(invalid());
    }
    Ok(Some(ms.trunc() as i64))
  }

  fn array_items(&self, array: sys::napi_value, max: u32) -> Result<Vec<sys::napi_value>, Rejection> {
    let mut length = 0u32;
    self.ok(unsafe { sys::napi_get_array_length(self.env, array, &mut length) }, "an array")?;
    (0..length.min(max))
      .map(|i| {
        let mut item = ptr::null_mut();
        self.ok(unsafe { sys::napi_get_element(self.env, array, i, &mut item) }, "an array element")?;
        Ok(item)
      })
      .collect()
  }

  fn is_array(&self, value: sys::napi_value) -> bool {
    let mut is_array = false;
    unsafe { sys::napi_is_array(self.env, value, &mut is_array) };
    is_array
  }

  fn tags(&self, object: sys::napi_value) -> Result<Vec<String>, Rejection> {
    let Some(value) = self.get(object, c"tags")? else { return Ok(Vec::new()) };
    if !self.is_array(value) {
      return Err("tags must be an array of strings".into());
    }
    let items = self.array_items(value, MAX_LIST_ITEMS)?;
    Ok(items
      .into_iter()
      .filter(|item| self.type_of(*item) == sys::ValueType::napi_string)
      .filter_map(|item| self.string_value(item, MAX_TEXT_BYTES).ok())
      .collect())
  }

  fn error(&self, object: sys::napi_value) -> Result<Option<Box<ErrorInput>>, Rejection> {
    let Some(value) = self.get(object, c"error")? else { return Ok(None) };
    if self.type_of(value) == sys::ValueType::napi_string {
      let message = self.string_value(value, MAX_TEXT_BYTES)?;
      return Ok(Some(Box::new(ErrorInput { message: Some(message), ..Default::default() })));
    }
    if !self.is_object(value) {
      return Err("error must be an object like {message, name, stack, nodeName, nodeId, nodeType}".into());
    }
    Ok(Some(Box::new(ErrorInput {
      message: self.loose_string(value, c"message", MAX_TEXT_BYTES),
      name: self.loose_string(value, c"name", MAX_TEXT_BYTES),
      stack: self.loose_string(value, c"stack", MAX_STACK_BYTES),
      node_name: self.loose_string(value, c"nodeName", MAX_TEXT_BYTES),
      node_id: self.loose_string(value, c"nodeId", MAX_TEXT_BYTES),
      node_type: self.loose_string(value, c"nodeType", MAX_TEXT_BYTES),
    })))
  }

  /// Own enumerable string keys with their values, at most MAX_EXTRAS.
  fn entries(&self, object: sys::napi_value, key: &CStr) -> Result<Vec<(String, sys::napi_value)>, Rejection> {
    let Some(map) = self.get(object, key)? else { return Ok(Vec::new()) };
    if !self.is_object(map) || self.is_array(map) {
      return Err(format!("{} must be a plain object", field_name(key)));
    }
    let mut names = ptr::null_mut();
    let status = unsafe {
      sys::napi_get_all_property_names(
        self.env,
        map,
        sys::KeyCollectionMode::own_only,
        sys::KeyFilter::enumerable | sys::KeyFilter::skip_symbols,
        sys::KeyConversion::numbers_to_strings,
        &mut names,
      )
    };
    self.ok(status, field_name(key))?;
    let mut out = Vec::new();
    for name in self.array_items(names, MAX_EXTRAS)? {
      let mut value = ptr::null_mut();
      self.ok(unsafe { sys::napi_get_property(self.env, map, name, &mut value) }, field_name(key))?;
      out.push((self.string_value(name, 256)?, value));
    }
    Ok(out)
  }

  /// Extras are sanitised, not rejected: values of the wrong type are left out.
  fn extras(&self, object: sys::napi_value) -> Result<Option<Box<Extras>>, Rejection> {
    let mut extras = Extras::default();
    for (k, v) in self.entries(object, c"dimensions")? {
      let text = match self.type_of(v) {
        sys::ValueType::napi_string => self.string_value(v, MAX_TEXT_BYTES).ok(),
        sys::ValueType::napi_number => Some(self.number_value(v)).filter(|n| n.is_finite()).map(|n| n.to_string()),
        sys::ValueType::napi_boolean => Some(self.bool_value(v).to_string()),
        _ => None,
      };
      extras.dimensions.extend(text.map(|t| (k, t)));
    }
    for (k, v) in self.entries(object, c"metrics")? {
      let n = if self.type_of(v) == sys::ValueType::napi_number { self.number_value(v) } else { f64::NAN };
      if n.is_finite() {
        extras.metrics.push((k, n));
      }
    }
    for (k, v) in self.entries(object, c"flags")? {
      if self.type_of(v) == sys::ValueType::napi_boolean {
        extras.flags.push((k, self.bool_value(v)));
      }
    }
    let empty = extras.dimensions.is_empty() && extras.metrics.is_empty() && extras.flags.is_empty();
    Ok((!empty).then(|| Box::new(extras)))
  }

  fn bool_value(&self, value: sys::napi_value) -> bool {
    let mut b = false;
    unsafe { sys::napi_get_value_bool(self.env, value, &mut b) };
    b
  }

  fn node(&self, object: sys::napi_value) -> Result<(NodePhase, Box<NodeInput>), Rejection> {
    let phase = match self.opt_string(object, c"event", 32)?.as_deref() {
      Some("started") => NodePhase::Started,
      Some("completed") => NodePhase::Completed,
      Some("failed") => NodePhase::Failed,
      _ => return Err("event must be one of started, completed, failed".into()),
    };
    let node = NodeInput {
      name: self.required_string(object, c"nodeName")?,
      node_type: self.opt_string(object, c"nodeType", MAX_TEXT_BYTES)?,
      id: self.opt_string(object, c"nodeId", MAX_TEXT_BYTES)?,
    };
    Ok((phase, Box::new(node)))
  }

  /// Reads one log call's argument. `kind` is None for node events, whose phase comes from the input.
  pub fn execution(&self, value: sys::napi_value, kind: Option<EventKind>) -> Result<ExecutionInput, Rejection> {
    if !self.is_object(value) || self.is_array(value) {
      return Err("the input must be an object with executionId and workflowId".into());
    }
    let accepted_at_ms = now_ms();
    let execution_id = self.required_string(value, c"executionId")?;
    let workflow_id = self.required_string(value, c"workflowId")?;
    let (kind, node) = match kind {
      Some(kind) => (kind, None),
      None => {
        let (phase, node) = self.node(value)?;
        (EventKind::Node(phase), Some(node))
      }
    };
    let mut input = ExecutionInput::new(kind, execution_id, workflow_id, accepted_at_ms);
    input.node = node;
    input.workflow_name = self.opt_string(value, c"workflowName", MAX_TEXT_BYTES)?;
    input.mode = self.opt_string(value, c"mode", 64)?;
    input.status = self.opt_string(value, c"status", 64)?;
    input.started_at_ms = self.opt_time(value, c"startedAt")?;
    input.stopped_at_ms = self.opt_time(value, c"stoppedAt")?;
    input.node_count = self.opt_number(value, c"nodeCount")?;
    input.retry_of = self.opt_string(value, c"retryOf", MAX_TEXT_BYTES)?;
    input.parent_execution_id = self.opt_string(value, c"parentExecutionId", MAX_TEXT_BYTES)?;
    input.trigger_node = self.opt_string(value, c"triggerNode", MAX_TEXT_BYTES)?;
    input.workflow_version_id = self.opt_string(value, c"workflowVersionId", MAX_TEXT_BYTES)?;
    input.user_id = self.opt_string(value, c"userId", MAX_TEXT_BYTES)?;
    input.tags = self.tags(value)?;
    input.error = self.error(value)?;
    input.extras = self.extras(value)?;
    Ok(input)
  }
}
